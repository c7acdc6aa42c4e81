//! Personal-data leaks (issue #7, R5.4): for an incident that is a leak
//! (type `data_leak`, or any records leaked) the data categories, the number
//! of people affected, whether sensitive personal information is involved
//! (PIPL art. 28), and the leak-reporting duty: flagged the moment the
//! incident becomes a leak, in the same transaction, with an automatic
//! timeline entry and an `incident_leak_duty` notification; then when the
//! individuals and the regulator were told. Every change is audited against
//! the incident and bumps its `updated_at`.

use anbao_model::Timestamp;
use anbao_model::clock::format_ts;
use anbao_model::incident::{LeakCategory, LeakDuty, is_personal_data_leak};
use anbao_model::report::ReportedPersonalData;
use anbao_model::validate::Invalid;
use serde::Serialize;
use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::audit::append;
use crate::incidents::{Incident, add_timeline};
use crate::notifications::{Event, enqueue, incident_lines, incident_payload};
use crate::{Actor, Result, Store, StoreError, WriteTx, opt_ts_col};

/// Most people a leak can be said to affect: more than anyone could count.
pub const LEAK_AFFECTED_MAX: i64 = 10_000_000_000;

/// What the duty is, as the automatic timeline entry and the notification say it.
pub const LEAK_DUTY_TEXT: &str = "personal-data leak: reporting duty flagged. Report immediately to the telecom \
     regulator when serious consequences are caused or possible (MIIT Order No. 24 \
     《电信和互联网用户个人信息保护规定》 art. 14); notify the personal-information protection authority and the \
     individuals concerned (PIPL 《个人信息保护法》 art. 57)";

/// The leak details of an incident and where its reporting duty stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IncidentLeak {
    pub incident_id: i64,
    pub data_categories: Vec<LeakCategory>,
    /// People affected (not records); `None`: not known yet.
    pub affected_users: Option<i64>,
    /// Any category is sensitive personal information (PIPL art. 28).
    pub sensitive: bool,
    /// When the duty was flagged: when the incident became a leak.
    pub duty_flagged_at: String,
    pub individuals_notified_at: Option<String>,
    pub regulator_notified_at: Option<String>,
    pub updated_at: String,
    pub updated_by: String,
}

fn leak_of(r: &AnyRow) -> Result<IncidentLeak> {
    let text: String = r.try_get("data_categories")?;
    let codes: Vec<String> = serde_json::from_str(&text)
        .map_err(|e| StoreError::Corrupt(format!("incident leak data_categories {text:?}: {e}")))?;
    let data_categories = codes
        .iter()
        .map(|c| c.parse().map_err(|e| StoreError::Corrupt(format!("incident leak data_categories: {e}"))))
        .collect::<Result<Vec<LeakCategory>>>()?;
    Ok(IncidentLeak {
        incident_id: r.try_get("incident_id")?,
        data_categories,
        affected_users: r.try_get("affected_users")?,
        sensitive: r.try_get::<i64, _>("sensitive")? != 0,
        duty_flagged_at: r.try_get("duty_flagged_at")?,
        individuals_notified_at: opt_ts_col(r, "individuals_notified_at")?.map(format_ts),
        regulator_notified_at: opt_ts_col(r, "regulator_notified_at")?.map(format_ts),
        updated_at: r.try_get("updated_at")?,
        updated_by: r.try_get("updated_by")?,
    })
}

/// Parses category codes, refusing an unknown one by name; duplicates are
/// dropped and the result is in the fixed order of [`LeakCategory::ALL`].
pub fn parse_leak_categories(codes: &[String]) -> Result<Vec<LeakCategory>, Invalid> {
    let mut out = Vec::new();
    for code in codes {
        let c: LeakCategory = code.trim().parse().map_err(|e: String| Invalid::field("data_categories", e))?;
        if !out.contains(&c) {
            out.push(c);
        }
    }
    out.sort();
    Ok(out)
}

fn to_json<T: Serialize>(v: &T) -> Result<serde_json::Value> {
    serde_json::to_value(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

async fn read(tx: &mut WriteTx, incident_id: i64) -> Result<Option<IncidentLeak>> {
    let row = sqlx::query("SELECT * FROM incident_leaks WHERE incident_id = $1")
        .bind(incident_id)
        .fetch_optional(&mut **tx)
        .await?;
    row.as_ref().map(leak_of).transpose()
}

async fn org_unit_of(tx: &mut WriteTx, incident_id: i64) -> Result<i64> {
    let row = sqlx::query("SELECT org_unit_id FROM incidents WHERE id = $1")
        .bind(incident_id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::not_found("incident", incident_id))?;
    Ok(row.try_get("org_unit_id")?)
}

async fn touch(tx: &mut WriteTx, incident_id: i64, now: &str) -> Result<()> {
    sqlx::query("UPDATE incidents SET updated_at = $1 WHERE id = $2")
        .bind(now.to_owned())
        .bind(incident_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Called inside the transaction that opens an incident or changes its
/// facts: if it is now a personal-data leak and has no leak row yet, flags
/// the duty at `now` (row, timeline entry, notification, audit entry).
/// Returns whether it flagged.
pub(crate) async fn flag_duty_if_leak(tx: &mut WriteTx, actor: &Actor, i: &Incident, now: &str) -> Result<bool> {
    if !is_personal_data_leak(i.incident_type, &i.facts) || read(tx, i.id).await?.is_some() {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO incident_leaks (incident_id, data_categories, affected_users, sensitive, duty_flagged_at, \
         updated_at, updated_by) VALUES ($1, '[]', NULL, 0, $2, $2, $3)",
    )
    .bind(i.id)
    .bind(now.to_owned())
    .bind(actor.name.clone())
    .execute(&mut **tx)
    .await?;
    add_timeline(tx, i.id, now, "auto", LEAK_DUTY_TEXT, actor, now).await?;
    let mut payload = incident_payload(i);
    payload["records_leaked"] = json!(i.facts.records_leaked);
    payload["duty_flagged_at"] = json!(now);
    let e = Event {
        event: "incident_leak_duty",
        key: format!("incident:{}:leak_duty", i.id),
        subject: format!("[anbao] 个人信息泄露报告义务 Personal-data leak reporting duty #{}: {}", i.id, i.title),
        body: format!("{}\n泄露条数 Records leaked: {}\n{LEAK_DUTY_TEXT}", incident_lines(i), i.facts.records_leaked),
        payload,
    };
    // The duty does not depend on the level: every rule on the event.
    enqueue(tx, &e, |_| true, now).await?;
    let leak = read(tx, i.id).await?.ok_or_else(|| StoreError::not_found("incident leak", i.id))?;
    append(
        tx,
        now,
        actor,
        "incident.leak_duty",
        "incident",
        &i.id.to_string(),
        Some(i.org_unit_id),
        None,
        Some(&to_json(&leak)?),
    )
    .await?;
    Ok(true)
}

/// The personal-data section of a report of `i`, read in the report's
/// transaction; `None` when it is not a leak.
pub(crate) async fn reported(tx: &mut WriteTx, i: &Incident) -> Result<Option<ReportedPersonalData>> {
    Ok(read(tx, i.id).await?.map(|l| ReportedPersonalData {
        records_leaked: i.facts.records_leaked,
        data_categories: l.data_categories.iter().map(|c| c.as_str().to_owned()).collect(),
        sensitive: l.sensitive,
        affected_users: l.affected_users,
        duty_flagged_at: l.duty_flagged_at,
        individuals_notified_at: l.individuals_notified_at,
        regulator_notified_at: l.regulator_notified_at,
    }))
}

impl Store {
    /// The leak details of an incident; `None` when it is not a leak.
    pub async fn incident_leak(&self, incident_id: i64) -> Result<Option<IncidentLeak>> {
        let row = sqlx::query("SELECT * FROM incident_leaks WHERE incident_id = $1")
            .bind(incident_id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(leak_of).transpose()
    }

    /// Sets the data categories (codes of [`LeakCategory`]; an unknown code
    /// is refused by name) and the number of people affected of a leak
    /// incident. Not found when the incident is not a leak.
    pub async fn update_incident_leak(
        &self,
        actor: &Actor,
        incident_id: i64,
        categories: &[String],
        affected_users: Option<i64>,
    ) -> Result<IncidentLeak> {
        let categories = parse_leak_categories(categories)?;
        if let Some(n) = affected_users
            && !(0..=LEAK_AFFECTED_MAX).contains(&n)
        {
            return Err(Invalid::field("affected_users", format!("must be 0 to {LEAK_AFFECTED_MAX}")).into());
        }
        let sensitive = categories.iter().any(|c| c.is_sensitive());
        let codes: Vec<&str> = categories.iter().map(|c| c.as_str()).collect();
        let now = self.now_text();
        let mut tx = self.write_tx().await?;
        let org_unit = org_unit_of(&mut tx, incident_id).await?;
        let before =
            read(&mut tx, incident_id).await?.ok_or_else(|| StoreError::not_found("incident leak", incident_id))?;
        if before.data_categories == categories && before.affected_users == affected_users {
            return Ok(before);
        }
        sqlx::query(
            "UPDATE incident_leaks SET data_categories = $1, affected_users = $2, sensitive = $3, updated_at = $4, \
             updated_by = $5 WHERE incident_id = $6",
        )
        .bind(serde_json::to_string(&codes).map_err(|e| StoreError::Corrupt(e.to_string()))?)
        .bind(affected_users)
        .bind(i64::from(sensitive))
        .bind(now.clone())
        .bind(actor.name.clone())
        .bind(incident_id)
        .execute(&mut *tx)
        .await?;
        let after =
            read(&mut tx, incident_id).await?.ok_or_else(|| StoreError::not_found("incident leak", incident_id))?;
        let text = format!(
            "leak details: categories {}{}; affected users {}",
            if codes.is_empty() { "-".to_owned() } else { codes.join(", ") },
            if sensitive { " (sensitive, PIPL art. 28)" } else { "" },
            affected_users.map_or("unknown".to_owned(), |n| n.to_string()),
        );
        add_timeline(&mut tx, incident_id, &now, "auto", &text, actor, &now).await?;
        touch(&mut tx, incident_id, &now).await?;
        append(
            &mut tx,
            &now,
            actor,
            "incident.leak_update",
            "incident",
            &incident_id.to_string(),
            Some(org_unit),
            Some(&json!({ "data_categories": before.data_categories, "affected_users": before.affected_users })),
            Some(&json!({ "data_categories": after.data_categories, "affected_users": after.affected_users,
                "sensitive": after.sensitive })),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Records when `who` was told of the leak (`at` defaults to now; not in
    /// the future, not before the incident was discovered). Recording again
    /// replaces the time. Not found when the incident is not a leak.
    pub async fn record_leak_notified(
        &self,
        actor: &Actor,
        incident_id: i64,
        who: LeakDuty,
        at: Option<Timestamp>,
    ) -> Result<IncidentLeak> {
        let now = self.now();
        let at = at.unwrap_or(now);
        if at > now + time::Duration::minutes(5) {
            return Err(Invalid::field("at", "is in the future").into());
        }
        let incident = self.get_incident(incident_id).await?;
        if format_ts(at) < incident.discovered_at {
            return Err(Invalid::field(
                "at",
                format!("is before the incident was discovered ({})", incident.discovered_at),
            )
            .into());
        }
        let now_text = format_ts(now);
        let at_text = format_ts(at);
        let mut tx = self.write_tx().await?;
        let before =
            read(&mut tx, incident_id).await?.ok_or_else(|| StoreError::not_found("incident leak", incident_id))?;
        // The column comes from a closed enum, never from the caller's text.
        let column = match who {
            LeakDuty::Individuals => "individuals_notified_at",
            LeakDuty::Regulator => "regulator_notified_at",
        };
        sqlx::query(&format!(
            "UPDATE incident_leaks SET {column} = $1, updated_at = $2, updated_by = $3 WHERE incident_id = $4"
        ))
        .bind(at_text.clone())
        .bind(now_text.clone())
        .bind(actor.name.clone())
        .bind(incident_id)
        .execute(&mut *tx)
        .await?;
        let after =
            read(&mut tx, incident_id).await?.ok_or_else(|| StoreError::not_found("incident leak", incident_id))?;
        let text = match who {
            LeakDuty::Individuals => "leak duty met: individuals notified (PIPL art. 57)",
            LeakDuty::Regulator => "leak duty met: regulator notified (MIIT Order No. 24 art. 14, PIPL art. 57)",
        };
        add_timeline(&mut tx, incident_id, &at_text, "auto", text, actor, &now_text).await?;
        touch(&mut tx, incident_id, &now_text).await?;
        let old = match who {
            LeakDuty::Individuals => &before.individuals_notified_at,
            LeakDuty::Regulator => &before.regulator_notified_at,
        };
        append(
            &mut tx,
            &now_text,
            actor,
            "incident.leak_notified",
            "incident",
            &incident_id.to_string(),
            Some(incident.org_unit_id),
            Some(&json!({ "who": who, "at": old })),
            Some(&json!({ "who": who, "at": at_text })),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }
}
