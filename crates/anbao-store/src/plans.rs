//! Emergency plans and drills (issue #7, R2.1 / R2.3). A plan holds its
//! current content (scenarios from a fixed list, roles, contact tree, steps),
//! an owner and a review cycle; every create or edit writes a full version
//! row (with an optional document kept as bytes) and an audit entry. The
//! next review is due `review_cycle_months` after the last review (or after
//! creation). Drills exercise a plan: scheduled, then done with an
//! evaluation and findings.

use std::fmt;
use std::str::FromStr;

use anbao_model::incident::{IncidentFacts, IncidentRules, IncidentType, OperatorCategory};
use anbao_model::validate::{self, Invalid};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;
use time::Date;

use crate::audit::append;
use crate::incidents::long_text;
use crate::incidents::{Incident, IncidentDraft};
use crate::network_units::{date_text, parse_date};
use crate::{Actor, Result, Store, StoreError, WriteTx, sha256_bytes_hex};

/// The largest plan document kept (bytes).
pub const PLAN_DOC_MAX: usize = 10 * 1024 * 1024;
/// The longest review cycle accepted, in months.
pub const REVIEW_CYCLE_MAX: i64 = 60;

/// The scenarios a plan can cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanScenario {
    Ddos,
    DnsFailure,
    DataLeak,
    Malware,
    Defacement,
    Intrusion,
    Outage,
    Other,
}

impl PlanScenario {
    pub const ALL: [PlanScenario; 8] = [
        PlanScenario::Ddos,
        PlanScenario::DnsFailure,
        PlanScenario::DataLeak,
        PlanScenario::Malware,
        PlanScenario::Defacement,
        PlanScenario::Intrusion,
        PlanScenario::Outage,
        PlanScenario::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PlanScenario::Ddos => "ddos",
            PlanScenario::DnsFailure => "dns_failure",
            PlanScenario::DataLeak => "data_leak",
            PlanScenario::Malware => "malware",
            PlanScenario::Defacement => "defacement",
            PlanScenario::Intrusion => "intrusion",
            PlanScenario::Outage => "outage",
            PlanScenario::Other => "other",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            PlanScenario::Ddos => "DDoS 攻击",
            PlanScenario::DnsFailure => "DNS 故障",
            PlanScenario::DataLeak => "大规模数据泄露",
            PlanScenario::Malware => "恶意代码",
            PlanScenario::Defacement => "网页篡改",
            PlanScenario::Intrusion => "网络入侵",
            PlanScenario::Outage => "系统中断",
            PlanScenario::Other => "其他",
        }
    }
}

impl fmt::Display for PlanScenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PlanScenario {
    type Err = Invalid;
    fn from_str(s: &str) -> std::result::Result<Self, Invalid> {
        PlanScenario::ALL.into_iter().find(|x| x.as_str() == s).ok_or_else(|| {
            Invalid::field(
                "scenarios",
                "use ddos, dns_failure, data_leak, malware, defacement, intrusion, outage or other",
            )
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    pub id: i64,
    pub title: String,
    pub owner: String,
    pub scenarios: Vec<PlanScenario>,
    pub roles: String,
    pub contact_tree: String,
    pub steps: String,
    pub review_cycle_months: i64,
    pub last_reviewed_at: Option<String>,
    /// `YYYY-MM-DD`.
    pub next_review_due: String,
    /// The current version number, 1 for a new plan.
    pub version: i64,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
}

impl Plan {
    /// Whether the review is overdue on `today`.
    pub fn review_overdue(&self, today: Date) -> bool {
        self.next_review_due < date_text(today)
    }
}

/// One version of a plan: its full content as of that edit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlanVersion {
    pub id: i64,
    pub plan_id: i64,
    pub version: i64,
    pub title: String,
    pub owner: String,
    pub scenarios: Vec<PlanScenario>,
    pub roles: String,
    pub contact_tree: String,
    pub steps: String,
    pub review_cycle_months: i64,
    pub change_note: String,
    pub actor: String,
    pub at: String,
    pub doc_name: Option<String>,
    pub doc_sha256: Option<String>,
    pub doc_size: Option<i64>,
}

/// A document attached to a plan version.
#[derive(Debug, Clone, Default)]
pub struct PlanDocument {
    pub name: String,
    pub content: Vec<u8>,
}

/// A plan's content as created or edited.
#[derive(Debug, Clone, Default)]
pub struct PlanDraft {
    pub title: String,
    pub owner: String,
    pub scenarios: Vec<PlanScenario>,
    pub roles: String,
    pub contact_tree: String,
    pub steps: String,
    pub review_cycle_months: i64,
    /// A new document; `None` on an edit keeps the previous version's.
    pub document: Option<PlanDocument>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Drill {
    pub id: i64,
    pub plan_id: i64,
    pub plan_title: String,
    pub scenario: PlanScenario,
    pub scheduled_at: String,
    pub participants: String,
    /// `planned` or `done`.
    pub status: String,
    pub evaluation: String,
    pub findings: String,
    /// The exercise incident the drill runs as, once started.
    pub incident_id: Option<i64>,
    /// The plan version under test: the current one when the drill was
    /// scheduled, updated when it starts as an exercise or is marked done.
    /// `None` only for drills older than version tracking with no version
    /// written before them.
    pub plan_version: Option<i64>,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Default)]
pub struct DrillDraft {
    pub plan_id: i64,
    pub scenario: Option<PlanScenario>,
    /// `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM`.
    pub scheduled_at: String,
    pub participants: String,
}

/// A drill change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct DrillPatch {
    pub scheduled_at: Option<String>,
    pub participants: Option<String>,
    pub status: Option<String>,
    pub evaluation: Option<String>,
    pub findings: Option<String>,
}

fn corrupt(what: &str, e: impl fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("plan {what}: {e}"))
}

fn to_json<T: Serialize>(v: &T) -> Result<serde_json::Value> {
    serde_json::to_value(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn scenarios_of(r: &AnyRow) -> Result<Vec<PlanScenario>> {
    let s: String = r.try_get("scenarios")?;
    serde_json::from_str(&s).map_err(|e| corrupt("scenarios", e))
}

fn plan_of(r: &AnyRow) -> Result<Plan> {
    Ok(Plan {
        id: r.try_get("id")?,
        title: r.try_get("title")?,
        owner: r.try_get("owner")?,
        scenarios: scenarios_of(r)?,
        roles: r.try_get("roles")?,
        contact_tree: r.try_get("contact_tree")?,
        steps: r.try_get("steps")?,
        review_cycle_months: r.try_get("review_cycle_months")?,
        last_reviewed_at: r.try_get("last_reviewed_at")?,
        next_review_due: r.try_get("next_review_due")?,
        version: r.try_get("version")?,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

fn version_of(r: &AnyRow) -> Result<PlanVersion> {
    Ok(PlanVersion {
        id: r.try_get("id")?,
        plan_id: r.try_get("plan_id")?,
        version: r.try_get("version")?,
        title: r.try_get("title")?,
        owner: r.try_get("owner")?,
        scenarios: scenarios_of(r)?,
        roles: r.try_get("roles")?,
        contact_tree: r.try_get("contact_tree")?,
        steps: r.try_get("steps")?,
        review_cycle_months: r.try_get("review_cycle_months")?,
        change_note: r.try_get("change_note")?,
        actor: r.try_get("actor")?,
        at: r.try_get("at")?,
        doc_name: r.try_get("doc_name")?,
        doc_sha256: r.try_get("doc_sha256")?,
        doc_size: r.try_get("doc_size")?,
    })
}

fn drill_of(r: &AnyRow) -> Result<Drill> {
    let scenario: String = r.try_get("scenario")?;
    Ok(Drill {
        id: r.try_get("id")?,
        plan_id: r.try_get("plan_id")?,
        plan_title: r.try_get("plan_title")?,
        scenario: scenario.parse().map_err(|e| corrupt("drill scenario", e))?,
        scheduled_at: r.try_get("scheduled_at")?,
        participants: r.try_get("participants")?,
        status: r.try_get("status")?,
        evaluation: r.try_get("evaluation")?,
        findings: r.try_get("findings")?,
        incident_id: r.try_get("incident_id")?,
        plan_version: r.try_get("plan_version")?,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

const VERSION_COLUMNS: &str = "id, plan_id, version, title, owner, scenarios, roles, contact_tree, steps, \
    review_cycle_months, change_note, actor, at, doc_name, doc_sha256, doc_size";
const DRILL_SELECT: &str = "SELECT d.*, p.title AS plan_title FROM drills d JOIN emergency_plans p ON p.id = d.plan_id";

/// `date` plus `months`, the day clamped to the target month's length.
pub fn add_months(date: Date, months: i64) -> Date {
    let total = i64::from(date.year()) * 12 + i64::from(u8::from(date.month())) - 1 + months;
    let year = i32::try_from(total.div_euclid(12)).unwrap_or(9999);
    let month = u8::try_from(total.rem_euclid(12) + 1).ok().and_then(|m| time::Month::try_from(m).ok());
    let month = month.unwrap_or(time::Month::December);
    let day = date.day().min(month.length(year));
    Date::from_calendar_date(year, month, day).unwrap_or(date)
}

/// A drill time: a date, or a date and `HH:MM`; kept as typed.
fn clean_when(field: &'static str, s: &str) -> Result<String, Invalid> {
    let s = s.trim();
    let (date, clock) = match s.split_once(['T', ' ']) {
        Some((d, c)) => (d, Some(c)),
        None => (s, None),
    };
    parse_date(field, date)?;
    if let Some(c) = clock {
        let ok = c.len() == 5
            && c.as_bytes()[2] == b':'
            && c[..2].parse::<u8>().is_ok_and(|h| h < 24)
            && c[3..].parse::<u8>().is_ok_and(|m| m < 60);
        if !ok {
            return Err(Invalid::field(field, format!("{s:?} is not YYYY-MM-DD or YYYY-MM-DDTHH:MM")));
        }
        return Ok(format!("{date}T{c}"));
    }
    Ok(date.to_owned())
}

struct CleanPlan {
    title: String,
    owner: String,
    scenarios: Vec<PlanScenario>,
    roles: String,
    contact_tree: String,
    steps: String,
    review_cycle_months: i64,
}

fn clean_plan(d: &PlanDraft) -> Result<CleanPlan, Invalid> {
    let title = d.title.trim();
    validate::label("title", title)?;
    let owner = d.owner.trim();
    validate::label("owner", owner)?;
    let mut scenarios: Vec<PlanScenario> = Vec::new();
    for s in &d.scenarios {
        if !scenarios.contains(s) {
            scenarios.push(*s);
        }
    }
    if scenarios.is_empty() {
        return Err(Invalid::field("scenarios", "name at least one scenario the plan covers"));
    }
    long_text("roles", &d.roles, false)?;
    long_text("contact_tree", &d.contact_tree, false)?;
    long_text("steps", &d.steps, true)?;
    if !(1..=REVIEW_CYCLE_MAX).contains(&d.review_cycle_months) {
        return Err(Invalid::field("review_cycle_months", format!("between 1 and {REVIEW_CYCLE_MAX} months")));
    }
    if let Some(doc) = &d.document {
        validate::label("document_name", doc.name.trim())?;
        if doc.content.is_empty() || doc.content.len() > PLAN_DOC_MAX {
            return Err(Invalid::field("document", format!("1 byte to {} MiB", PLAN_DOC_MAX / 1024 / 1024)));
        }
    }
    Ok(CleanPlan {
        title: title.to_owned(),
        owner: owner.to_owned(),
        scenarios,
        roles: d.roles.trim().to_owned(),
        contact_tree: d.contact_tree.trim().to_owned(),
        steps: d.steps.trim().to_owned(),
        review_cycle_months: d.review_cycle_months,
    })
}

async fn read_plan(tx: &mut WriteTx, id: i64) -> Result<Plan> {
    let row = sqlx::query("SELECT * FROM emergency_plans WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::not_found("plan", id))?;
    plan_of(&row)
}

/// The document fields to write: the new one, else the previous version's.
type DocColumns = (Option<String>, Option<String>, Option<i64>, Option<Vec<u8>>);

#[allow(clippy::too_many_arguments)]
async fn add_version(
    tx: &mut WriteTx,
    plan_id: i64,
    version: i64,
    c: &CleanPlan,
    scenarios_json: &str,
    note: &str,
    actor: &Actor,
    now: &str,
    doc: DocColumns,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO plan_versions (plan_id, version, title, owner, scenarios, roles, contact_tree, steps, \
         review_cycle_months, change_note, actor, at, doc_name, doc_sha256, doc_size, doc_content) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
    )
    .bind(plan_id)
    .bind(version)
    .bind(c.title.clone())
    .bind(c.owner.clone())
    .bind(scenarios_json.to_owned())
    .bind(c.roles.clone())
    .bind(c.contact_tree.clone())
    .bind(c.steps.clone())
    .bind(c.review_cycle_months)
    .bind(note.to_owned())
    .bind(actor.name.clone())
    .bind(now.to_owned())
    .bind(doc.0)
    .bind(doc.1)
    .bind(doc.2)
    .bind(doc.3)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn new_doc(d: &PlanDocument) -> DocColumns {
    let size = i64::try_from(d.content.len()).unwrap_or(i64::MAX);
    (Some(d.name.trim().to_owned()), Some(sha256_bytes_hex(&d.content)), Some(size), Some(d.content.clone()))
}

fn drill_status(s: &str) -> Result<(), Invalid> {
    if s == "planned" || s == "done" { Ok(()) } else { Err(Invalid::field("status", "use planned or done")) }
}

impl Store {
    /// Every plan, the soonest review due first.
    pub async fn list_plans(&self) -> Result<Vec<Plan>> {
        let rows =
            sqlx::query("SELECT * FROM emergency_plans ORDER BY next_review_due, id").fetch_all(self.pool()).await?;
        rows.iter().map(plan_of).collect()
    }

    pub async fn get_plan(&self, id: i64) -> Result<Plan> {
        let row = sqlx::query("SELECT * FROM emergency_plans WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| StoreError::not_found("plan", id))?;
        plan_of(&row)
    }

    /// How many plans are past their review date today.
    pub async fn count_overdue_plan_reviews(&self) -> Result<i64> {
        Ok(sqlx::query("SELECT COUNT(*) AS n FROM emergency_plans WHERE next_review_due < $1")
            .bind(date_text(self.today()))
            .fetch_one(self.pool())
            .await?
            .try_get("n")?)
    }

    /// The plan's versions, newest first (without document bytes).
    pub async fn plan_versions(&self, id: i64) -> Result<Vec<PlanVersion>> {
        self.get_plan(id).await?;
        let rows = sqlx::query(&format!(
            "SELECT {VERSION_COLUMNS} FROM plan_versions WHERE plan_id = $1 ORDER BY version DESC"
        ))
        .bind(id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(version_of).collect()
    }

    /// One version's document: its name and bytes, checked against the
    /// stored SHA-256.
    pub async fn plan_document(&self, plan_id: i64, version: i64) -> Result<(String, Vec<u8>)> {
        let row = sqlx::query(
            "SELECT doc_name, doc_sha256, doc_content FROM plan_versions WHERE plan_id = $1 AND version = $2",
        )
        .bind(plan_id)
        .bind(version)
        .fetch_optional(self.pool())
        .await?
        .ok_or_else(|| StoreError::not_found("plan version", version))?;
        let name: Option<String> = row.try_get("doc_name")?;
        let sha: Option<String> = row.try_get("doc_sha256")?;
        let bytes: Option<Vec<u8>> = row.try_get("doc_content")?;
        match (name, sha, bytes) {
            (Some(name), Some(sha), Some(bytes)) => {
                if sha256_bytes_hex(&bytes) != sha {
                    return Err(corrupt("document", format!("plan {plan_id} v{version} does not match its SHA-256")));
                }
                Ok((name, bytes))
            }
            _ => Err(StoreError::not_found("plan document", version)),
        }
    }

    /// Creates a plan as version 1; its first review is due one cycle from today.
    pub async fn create_plan(&self, actor: &Actor, d: &PlanDraft) -> Result<Plan> {
        let c = clean_plan(d)?;
        let scenarios_json = serde_json::to_string(&c.scenarios).map_err(|e| corrupt("scenarios", e))?;
        let due = date_text(add_months(self.today(), c.review_cycle_months));
        let now = self.now_text();
        let mut tx = self.write_tx().await?;
        let id: i64 = sqlx::query(
            "INSERT INTO emergency_plans (title, owner, scenarios, roles, contact_tree, steps, review_cycle_months, \
             next_review_due, version, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $10, $10) RETURNING id",
        )
        .bind(c.title.clone())
        .bind(c.owner.clone())
        .bind(scenarios_json.clone())
        .bind(c.roles.clone())
        .bind(c.contact_tree.clone())
        .bind(c.steps.clone())
        .bind(c.review_cycle_months)
        .bind(due)
        .bind(actor.name.clone())
        .bind(now.clone())
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        let doc = d.document.as_ref().map(new_doc).unwrap_or_default();
        let doc_sha = doc.1.clone();
        add_version(&mut tx, id, 1, &c, &scenarios_json, "created", actor, &now, doc).await?;
        let plan = read_plan(&mut tx, id).await?;
        let after = serde_json::json!({ "plan": to_json(&plan)?, "document_sha256": doc_sha });
        append(&mut tx, &now, actor, "plan.create", "plan", &id.to_string(), None, None, Some(&after)).await?;
        tx.commit().await?;
        Ok(plan)
    }

    /// Edits a plan: a new version with the full content and a change note
    /// (required). Without a new document the previous one carries over.
    pub async fn update_plan(&self, actor: &Actor, id: i64, d: &PlanDraft, change_note: &str) -> Result<Plan> {
        let note = change_note.trim();
        long_text("change_note", note, true)?;
        let c = clean_plan(d)?;
        let scenarios_json = serde_json::to_string(&c.scenarios).map_err(|e| corrupt("scenarios", e))?;
        let now = self.now_text();
        let mut tx = self.write_tx().await?;
        let before = read_plan(&mut tx, id).await?;
        let doc = match &d.document {
            Some(doc) => new_doc(doc),
            None => {
                let row = sqlx::query(
                    "SELECT doc_name, doc_sha256, doc_size, doc_content FROM plan_versions \
                     WHERE plan_id = $1 AND version = $2",
                )
                .bind(id)
                .bind(before.version)
                .fetch_one(&mut *tx)
                .await?;
                (
                    row.try_get("doc_name")?,
                    row.try_get("doc_sha256")?,
                    row.try_get("doc_size")?,
                    row.try_get("doc_content")?,
                )
            }
        };
        let doc_sha = doc.1.clone();
        // A changed cycle moves the due date from the last review (or creation).
        let since = match &before.last_reviewed_at {
            Some(t) => t.clone(),
            None => before.created_at.clone(),
        };
        let since = anbao_model::clock::parse_ts(&since).map_err(|e| corrupt("review date", e))?.date();
        let due = date_text(add_months(since, c.review_cycle_months));
        let version = before.version + 1;
        sqlx::query(
            "UPDATE emergency_plans SET title = $1, owner = $2, scenarios = $3, roles = $4, contact_tree = $5, \
             steps = $6, review_cycle_months = $7, next_review_due = $8, version = $9, updated_at = $10 WHERE id = $11",
        )
        .bind(c.title.clone())
        .bind(c.owner.clone())
        .bind(scenarios_json.clone())
        .bind(c.roles.clone())
        .bind(c.contact_tree.clone())
        .bind(c.steps.clone())
        .bind(c.review_cycle_months)
        .bind(due)
        .bind(version)
        .bind(now.clone())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        add_version(&mut tx, id, version, &c, &scenarios_json, note, actor, &now, doc).await?;
        let plan = read_plan(&mut tx, id).await?;
        let after = serde_json::json!({ "plan": to_json(&plan)?, "change_note": note, "document_sha256": doc_sha });
        append(
            &mut tx,
            &now,
            actor,
            "plan.update",
            "plan",
            &id.to_string(),
            None,
            Some(&to_json(&before)?),
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(plan)
    }

    /// Records a review today: the next one is due a cycle from now.
    pub async fn mark_plan_reviewed(&self, actor: &Actor, id: i64) -> Result<Plan> {
        let now = self.now_text();
        let mut tx = self.write_tx().await?;
        let before = read_plan(&mut tx, id).await?;
        let due = date_text(add_months(self.today(), before.review_cycle_months));
        sqlx::query(
            "UPDATE emergency_plans SET last_reviewed_at = $1, next_review_due = $2, updated_at = $1 WHERE id = $3",
        )
        .bind(now.clone())
        .bind(due)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let plan = read_plan(&mut tx, id).await?;
        append(
            &mut tx,
            &now,
            actor,
            "plan.review",
            "plan",
            &id.to_string(),
            None,
            Some(&to_json(&before)?),
            Some(&to_json(&plan)?),
        )
        .await?;
        tx.commit().await?;
        Ok(plan)
    }

    /// Drills, optionally of one plan, the latest scheduled first.
    pub async fn list_drills(&self, plan_id: Option<i64>) -> Result<Vec<Drill>> {
        let rows = match plan_id {
            Some(p) => {
                sqlx::query(&format!("{DRILL_SELECT} WHERE d.plan_id = $1 ORDER BY d.scheduled_at DESC, d.id DESC"))
                    .bind(p)
                    .fetch_all(self.pool())
                    .await?
            }
            None => {
                sqlx::query(&format!("{DRILL_SELECT} ORDER BY d.scheduled_at DESC, d.id DESC"))
                    .fetch_all(self.pool())
                    .await?
            }
        };
        rows.iter().map(drill_of).collect()
    }

    pub async fn get_drill(&self, id: i64) -> Result<Drill> {
        let row = sqlx::query(&format!("{DRILL_SELECT} WHERE d.id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| StoreError::not_found("drill", id))?;
        drill_of(&row)
    }

    /// Schedules a drill of a plan.
    pub async fn create_drill(&self, actor: &Actor, d: &DrillDraft) -> Result<Drill> {
        let scenario = d.scenario.ok_or_else(|| Invalid::field("scenario", "choose the drill's scenario"))?;
        let when = clean_when("scheduled_at", &d.scheduled_at)?;
        long_text("participants", &d.participants, false)?;
        let now = self.now_text();
        let mut tx = self.write_tx().await?;
        let Some(version) = current_version(&mut tx, d.plan_id).await? else {
            return Err(Invalid::field("plan_id", format!("no plan {}", d.plan_id)).into());
        };
        let id: i64 = sqlx::query(
            "INSERT INTO drills (plan_id, scenario, scheduled_at, participants, status, created_by, created_at, \
             updated_at, plan_version) VALUES ($1, $2, $3, $4, 'planned', $5, $6, $6, $7) RETURNING id",
        )
        .bind(d.plan_id)
        .bind(scenario.as_str())
        .bind(when)
        .bind(d.participants.trim().to_owned())
        .bind(actor.name.clone())
        .bind(now.clone())
        .bind(version)
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        let drill = read_drill(&mut tx, id).await?;
        append(&mut tx, &now, actor, "drill.create", "drill", &id.to_string(), None, None, Some(&to_json(&drill)?))
            .await?;
        tx.commit().await?;
        Ok(drill)
    }

    /// Changes a drill: reschedules it, records participants, or marks it
    /// done with its evaluation and findings (done needs an evaluation).
    pub async fn update_drill(&self, actor: &Actor, id: i64, p: &DrillPatch) -> Result<Drill> {
        let when = p.scheduled_at.as_deref().map(|s| clean_when("scheduled_at", s)).transpose()?;
        if let Some(s) = &p.status {
            drill_status(s)?;
        }
        for (field, v) in [("participants", &p.participants), ("evaluation", &p.evaluation), ("findings", &p.findings)]
        {
            if let Some(v) = v {
                long_text(field, v, false)?;
            }
        }
        let now = self.now_text();
        let mut tx = self.write_tx().await?;
        let before = read_drill(&mut tx, id).await?;
        let mut after = before.clone();
        if let Some(w) = when {
            after.scheduled_at = w;
        }
        if let Some(s) = &p.participants {
            after.participants = s.trim().to_owned();
        }
        if let Some(s) = &p.status {
            after.status = s.clone();
        }
        if let Some(s) = &p.evaluation {
            after.evaluation = s.trim().to_owned();
        }
        if let Some(s) = &p.findings {
            after.findings = s.trim().to_owned();
        }
        if after.status == "done" && after.evaluation.is_empty() {
            return Err(Invalid::field("evaluation", "a done drill needs its evaluation").into());
        }
        if after == before {
            return Ok(before);
        }
        // Run now: the version under test is the one in force.
        if after.status == "done" && before.status != "done" {
            after.plan_version = current_version(&mut tx, before.plan_id).await?.or(before.plan_version);
        }
        sqlx::query(
            "UPDATE drills SET scheduled_at = $1, participants = $2, status = $3, evaluation = $4, findings = $5, \
             updated_at = $6, plan_version = $8 WHERE id = $7",
        )
        .bind(after.scheduled_at.clone())
        .bind(after.participants.clone())
        .bind(after.status.clone())
        .bind(after.evaluation.clone())
        .bind(after.findings.clone())
        .bind(now.clone())
        .bind(id)
        .bind(after.plan_version)
        .execute(&mut *tx)
        .await?;
        let drill = read_drill(&mut tx, id).await?;
        append(
            &mut tx,
            &now,
            actor,
            "drill.update",
            "drill",
            &id.to_string(),
            None,
            Some(&to_json(&before)?),
            Some(&to_json(&drill)?),
        )
        .await?;
        tx.commit().await?;
        Ok(drill)
    }
}

impl Store {
    /// Starts a drill as a tabletop incident on the board, flagged as an
    /// exercise, in unit `org_unit_id`; a drill starts at most once.
    pub async fn start_drill_exercise(
        &self,
        actor: &Actor,
        drill_id: i64,
        org_unit_id: i64,
        rules: &IncidentRules,
    ) -> Result<(Drill, Incident)> {
        let mut tx = self.write_tx().await?;
        let before = read_drill(&mut tx, drill_id).await?;
        if let Some(i) = before.incident_id {
            return Err(StoreError::Conflict(format!("drill {drill_id} already runs as incident {i}")));
        }
        let incident_type: IncidentType =
            before.scenario.as_str().parse().map_err(|e: String| corrupt("drill scenario", e))?;
        let draft = IncidentDraft {
            org_unit_id,
            incident_type,
            title: format!("[演练 / exercise] {}", before.plan_title).chars().take(200).collect(),
            summary: format!("drill #{drill_id}: {}", before.participants).chars().take(4000).collect(),
            facts: IncidentFacts::default(),
            operator_category: OperatorCategory::Other,
            discovered_at: self.now(),
        };
        // Flagged at insert, so its audit entry and notification already say exercise.
        let incident = self.insert_incident(&mut tx, actor, &draft, rules, true).await?;
        let now = self.now_text();
        let version = current_version(&mut tx, before.plan_id).await?.or(before.plan_version);
        sqlx::query("UPDATE drills SET incident_id = $1, updated_at = $2, plan_version = $4 WHERE id = $3")
            .bind(incident.id)
            .bind(now.clone())
            .bind(drill_id)
            .bind(version)
            .execute(&mut *tx)
            .await?;
        let drill = read_drill(&mut tx, drill_id).await?;
        append(
            &mut tx,
            &now,
            actor,
            "drill.exercise",
            "drill",
            &drill_id.to_string(),
            Some(org_unit_id),
            Some(&to_json(&before)?),
            Some(&to_json(&drill)?),
        )
        .await?;
        tx.commit().await?;
        Ok((drill, incident))
    }
}

/// The plan's current version; `None`: no such plan.
async fn current_version(tx: &mut WriteTx, plan_id: i64) -> Result<Option<i64>> {
    let row = sqlx::query("SELECT version FROM emergency_plans WHERE id = $1")
        .bind(plan_id)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(row.map(|r| r.try_get("version")).transpose()?)
}

async fn read_drill(tx: &mut WriteTx, id: i64) -> Result<Drill> {
    let row = sqlx::query(&format!("{DRILL_SELECT} WHERE d.id = $1"))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::not_found("drill", id))?;
    drill_of(&row)
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    #[test]
    fn months_are_added_with_the_day_clamped() {
        assert_eq!(add_months(date!(2026 - 01 - 31), 1), date!(2026 - 02 - 28));
        assert_eq!(add_months(date!(2026 - 11 - 25), 12), date!(2027 - 11 - 25));
        assert_eq!(add_months(date!(2026 - 11 - 25), 3), date!(2027 - 02 - 25));
    }

    #[test]
    fn drill_times_are_a_date_or_a_date_and_minutes() {
        assert_eq!(clean_when("w", " 2026-12-01 ").unwrap(), "2026-12-01");
        assert_eq!(clean_when("w", "2026-12-01 09:30").unwrap(), "2026-12-01T09:30");
        assert!(clean_when("w", "2026-12-01T25:00").is_err());
        assert!(clean_when("w", "tomorrow").is_err());
    }
}
