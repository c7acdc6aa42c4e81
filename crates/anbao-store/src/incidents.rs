//! Incidents (issue #7, R2.5): the facts as entered, the level the MIIT
//! emergency plan gives them (computed by `anbao_model::incident` with the
//! rules the caller passes in), an override that needs a reason, the
//! reporting deadline, status, and a timeline of automatic and manual
//! entries. Every change goes through `write_tx` with its audit entry.

use anbao_model::Timestamp;
use anbao_model::clock::{format_ts, parse_ts};
use anbao_model::incident::{
    IncidentFacts, IncidentLevel, IncidentRules, IncidentStatus, IncidentType, OperatorCategory, ReportDeadline,
};
use anbao_model::validate::{self, Invalid};
use serde::Serialize;
use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::audit::append;
use crate::sql::id_list;
use crate::{Actor, Result, Store, StoreError, WriteTx};

/// Longest free text (summary, timeline entry, override reason), in characters.
pub const INCIDENT_TEXT_MAX: usize = 4000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Incident {
    pub id: i64,
    pub org_unit_id: i64,
    pub incident_type: IncidentType,
    pub title: String,
    pub summary: String,
    pub facts: IncidentFacts,
    /// The level the facts give.
    pub computed_level: IncidentLevel,
    /// Id of the criterion that decided the computed level; empty for none.
    pub criterion: String,
    pub rules_version: String,
    /// A level set by hand, with its reason.
    pub level_override: Option<IncidentLevel>,
    pub override_reason: String,
    /// The override if there is one, else the computed level.
    pub level: IncidentLevel,
    pub operator_category: OperatorCategory,
    pub discovered_at: String,
    pub report_within_minutes: Option<i64>,
    pub report_by: Option<String>,
    pub report_immediately: bool,
    pub status: IncidentStatus,
    /// What caused it (required before a final report).
    pub root_cause: String,
    /// What was learned (required before a final report).
    pub lessons: String,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
    /// A drill run on the board: kept out of statistics and regulator reports.
    pub exercise: bool,
    /// First acknowledged: by the "acknowledge" action, or implied by the
    /// first status change or task assignment.
    pub acknowledged_at: Option<String>,
    /// Who acknowledged it (or whose change implied it); empty before.
    pub acknowledged_by: String,
    /// First contained, or closed without being contained first.
    pub contained_at: Option<String>,
    /// Closed; a reopen clears it.
    pub closed_at: Option<String>,
}

/// An incident as opened.
#[derive(Debug, Clone)]
pub struct IncidentDraft {
    pub org_unit_id: i64,
    pub incident_type: IncidentType,
    pub title: String,
    pub summary: String,
    pub facts: IncidentFacts,
    pub operator_category: OperatorCategory,
    pub discovered_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TimelineEntry {
    pub id: i64,
    pub incident_id: i64,
    /// When it happened (manual entries may be back-dated).
    pub at: String,
    /// `auto` (written by anbao) or `manual`.
    pub kind: String,
    pub entry: String,
    pub actor: String,
    pub created_at: String,
}

/// Filters for the incident list.
#[derive(Debug, Clone, Default)]
pub struct IncidentFilter {
    pub status: Option<IncidentStatus>,
    pub level: Option<IncidentLevel>,
}

fn corrupt(column: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("incident {column}: {e}"))
}

pub(crate) fn incident_from_row(r: &AnyRow) -> Result<Incident> {
    let text = |c: &str| -> Result<String> { Ok(r.try_get::<String, _>(c)?) };
    let computed: IncidentLevel = text("level")?.parse().map_err(|e| corrupt("level", e))?;
    let level_override = match text("level_override")?.as_str() {
        "" => None,
        s => Some(s.parse().map_err(|e| corrupt("level_override", e))?),
    };
    Ok(Incident {
        id: r.try_get("id")?,
        org_unit_id: r.try_get("org_unit_id")?,
        incident_type: text("incident_type")?.parse().map_err(|e| corrupt("incident_type", e))?,
        title: text("title")?,
        summary: text("summary")?,
        facts: serde_json::from_str(&text("facts")?).map_err(|e| corrupt("facts", e))?,
        computed_level: computed,
        criterion: text("criterion")?,
        rules_version: text("rules_version")?,
        level_override,
        override_reason: text("override_reason")?,
        level: level_override.unwrap_or(computed),
        operator_category: text("operator_category")?.parse().map_err(|e| corrupt("operator_category", e))?,
        discovered_at: text("discovered_at")?,
        report_within_minutes: r.try_get("report_within_minutes")?,
        report_by: r.try_get("report_by")?,
        report_immediately: r.try_get::<i64, _>("report_immediately")? != 0,
        status: text("status")?.parse().map_err(|e| corrupt("status", e))?,
        root_cause: text("root_cause")?,
        lessons: text("lessons")?,
        created_by: text("created_by")?,
        created_at: text("created_at")?,
        updated_at: text("updated_at")?,
        exercise: r.try_get::<i64, _>("exercise")? != 0,
        acknowledged_at: r.try_get("acknowledged_at")?,
        acknowledged_by: text("acknowledged_by")?,
        contained_at: r.try_get("contained_at")?,
        closed_at: r.try_get("closed_at")?,
    })
}

fn entry_of(r: &AnyRow) -> Result<TimelineEntry> {
    Ok(TimelineEntry {
        id: r.try_get("id")?,
        incident_id: r.try_get("incident_id")?,
        at: r.try_get("at")?,
        kind: r.try_get("kind")?,
        entry: r.try_get("entry")?,
        actor: r.try_get("actor")?,
        created_at: r.try_get("created_at")?,
    })
}

/// Longer free text: up to [`INCIDENT_TEXT_MAX`] characters, no control
/// characters but newlines and tabs.
pub(crate) fn long_text(field: &'static str, s: &str, required: bool) -> Result<(), Invalid> {
    if required && s.trim().is_empty() {
        return Err(Invalid::field(field, "must not be empty"));
    }
    if s.chars().count() > INCIDENT_TEXT_MAX {
        return Err(Invalid::field(field, format!("at most {INCIDENT_TEXT_MAX} characters")));
    }
    if s.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') {
        return Err(Invalid::field(field, "must not contain control characters"));
    }
    Ok(())
}

fn facts_json(f: &IncidentFacts) -> Result<String> {
    serde_json::to_string(f).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn to_json<T: Serialize>(v: &T) -> Result<serde_json::Value> {
    serde_json::to_value(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn deadline_columns(d: &ReportDeadline) -> (Option<i64>, Option<String>, i64) {
    (d.within_minutes.map(i64::from), d.by.map(format_ts), i64::from(d.immediately))
}

impl Store {
    pub async fn list_incidents(&self, org_units: Option<&[i64]>, filter: &IncidentFilter) -> Result<Vec<Incident>> {
        let mut sql = String::from("SELECT * FROM incidents WHERE 1 = 1");
        if let Some(units) = org_units {
            sql.push_str(&format!(" AND org_unit_id IN {}", id_list(units.iter().copied())));
        }
        // Both values come from closed enums, never from the caller's text.
        if let Some(s) = filter.status {
            sql.push_str(&format!(" AND status = '{}'", s.as_str()));
        }
        let mut rows: Vec<Incident> = {
            sql.push_str(" ORDER BY discovered_at DESC, id DESC");
            sqlx::query(&sql).fetch_all(self.pool()).await?.iter().map(incident_from_row).collect::<Result<_>>()?
        };
        // The effective level may be an override, so filter after reading.
        if let Some(l) = filter.level {
            rows.retain(|i| i.level == l);
        }
        Ok(rows)
    }

    pub async fn get_incident(&self, id: i64) -> Result<Incident> {
        let row = sqlx::query("SELECT * FROM incidents WHERE id = $1").bind(id).fetch_optional(self.pool()).await?;
        incident_from_row(&row.ok_or_else(|| StoreError::not_found("incident", id))?)
    }

    pub async fn incident_timeline(&self, id: i64) -> Result<Vec<TimelineEntry>> {
        let rows = sqlx::query("SELECT * FROM incident_timeline WHERE incident_id = $1 ORDER BY at, id")
            .bind(id)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(entry_of).collect()
    }

    /// Opens an incident, graded by `rules`, with its reporting clock
    /// started from the discovery time.
    pub async fn create_incident(&self, actor: &Actor, d: &IncidentDraft, rules: &IncidentRules) -> Result<Incident> {
        let mut tx = self.write_tx().await?;
        let incident = self.insert_incident(&mut tx, actor, d, rules, false).await?;
        tx.commit().await?;
        Ok(incident)
    }

    /// Opens an incident from alert `alert_id` unless that alert already
    /// opened one (`None` then): an alert opens at most one incident, whoever
    /// asks and however often. The alert is linked and named in the timeline.
    pub async fn open_incident_for_alert(
        &self,
        actor: &Actor,
        alert_id: i64,
        d: &IncidentDraft,
        rules: &IncidentRules,
    ) -> Result<Option<Incident>> {
        let mut tx = self.write_tx().await?;
        let linked = sqlx::query("SELECT incident_id FROM incident_alerts WHERE alert_id = $1")
            .bind(alert_id)
            .fetch_optional(&mut *tx)
            .await?;
        if linked.is_some() {
            return Ok(None);
        }
        let alert = sqlx::query("SELECT id FROM alerts WHERE id = $1").bind(alert_id).fetch_optional(&mut *tx).await?;
        if alert.is_none() {
            return Err(StoreError::not_found("alert", alert_id));
        }
        let incident = self.insert_incident(&mut tx, actor, d, rules, false).await?;
        let now = self.now_text();
        sqlx::query("INSERT INTO incident_alerts (incident_id, alert_id, linked_at) VALUES ($1, $2, $3)")
            .bind(incident.id)
            .bind(alert_id)
            .bind(now.clone())
            .execute(&mut *tx)
            .await?;
        add_timeline(&mut tx, incident.id, &now, "auto", &format!("opened from alert #{alert_id}"), actor, &now)
            .await?;
        tx.commit().await?;
        Ok(Some(incident))
    }

    /// The incident an alert opened or was linked to, if any.
    pub async fn incident_of_alert(&self, alert_id: i64) -> Result<Option<i64>> {
        let row = sqlx::query("SELECT incident_id FROM incident_alerts WHERE alert_id = $1")
            .bind(alert_id)
            .fetch_optional(self.pool())
            .await?;
        Ok(match row {
            Some(r) => Some(r.try_get("incident_id")?),
            None => None,
        })
    }

    /// The alerts an incident was opened from, in id order.
    pub async fn incident_alert_ids(&self, incident_id: i64) -> Result<Vec<i64>> {
        let rows = sqlx::query("SELECT alert_id FROM incident_alerts WHERE incident_id = $1 ORDER BY alert_id")
            .bind(incident_id)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(|r| Ok(r.try_get("alert_id")?)).collect()
    }

    pub(crate) async fn insert_incident(
        &self,
        tx: &mut WriteTx,
        actor: &Actor,
        d: &IncidentDraft,
        rules: &IncidentRules,
        exercise: bool,
    ) -> Result<Incident> {
        validate::label("title", &d.title)?;
        long_text("summary", &d.summary, false)?;
        let now = self.now();
        if d.discovered_at > now + time::Duration::minutes(5) {
            return Err(Invalid::field("discovered_at", "is in the future").into());
        }
        let grade = rules.grade(&d.facts);
        let deadline = rules.deadline(grade.level, d.operator_category, d.discovered_at);
        let (within, by, immediately) = deadline_columns(&deadline);
        let now_text = format_ts(now);
        let discovered = format_ts(d.discovered_at);
        let unit =
            sqlx::query("SELECT id FROM org_units WHERE id = $1").bind(d.org_unit_id).fetch_optional(&mut **tx).await?;
        if unit.is_none() {
            return Err(Invalid::field("org_unit_id", format!("unit {} does not exist", d.org_unit_id)).into());
        }
        let id: i64 = sqlx::query(
            "INSERT INTO incidents (org_unit_id, incident_type, title, summary, facts, level, criterion, rules_version, \
             operator_category, discovered_at, report_within_minutes, report_by, report_immediately, status, created_by, \
             created_at, updated_at, exercise) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'open', $14, $15, $15, $16) RETURNING id",
        )
        .bind(d.org_unit_id)
        .bind(d.incident_type.as_str())
        .bind(d.title.trim().to_owned())
        .bind(d.summary.trim().to_owned())
        .bind(facts_json(&d.facts)?)
        .bind(grade.level.as_str())
        .bind(grade.criterion.as_ref().map(|c| c.id.clone()).unwrap_or_default())
        .bind(grade.rules_version.clone())
        .bind(d.operator_category.as_str())
        .bind(discovered.clone())
        .bind(within)
        .bind(by)
        .bind(immediately)
        .bind(actor.name.clone())
        .bind(now_text.clone())
        .bind(i64::from(exercise))
        .fetch_one(&mut **tx)
        .await?
        .try_get("id")?;
        let why = grade.criterion.as_ref().map(|c| format!(" ({}: {})", c.article, c.zh)).unwrap_or_default();
        add_timeline(
            tx,
            id,
            &discovered,
            "auto",
            &format!("discovered; graded {}{why}", grade.level),
            actor,
            &now_text,
        )
        .await?;
        let incident = read(tx, id).await?;
        crate::notifications::incident_opened(tx, &incident, &now_text).await?;
        crate::incident_leaks::flag_duty_if_leak(tx, actor, &incident, &now_text).await?;
        append(
            tx,
            &now_text,
            actor,
            "incident.create",
            "incident",
            &id.to_string(),
            Some(incident.org_unit_id),
            None,
            Some(&to_json(&incident)?),
        )
        .await?;
        Ok(incident)
    }

    /// Replaces the facts, grades them again and restarts the clock from the
    /// discovery time for the level now in force.
    pub async fn update_incident_facts(
        &self,
        actor: &Actor,
        id: i64,
        facts: &IncidentFacts,
        rules: &IncidentRules,
    ) -> Result<Incident> {
        let before = self.get_incident(id).await?;
        let grade = rules.grade(facts);
        let effective = before.level_override.unwrap_or(grade.level);
        let at = parse_ts(&before.discovered_at).map_err(|e| corrupt("discovered_at", e))?;
        let (within, by, immediately) = deadline_columns(&rules.deadline(effective, before.operator_category, at));
        let now = self.now_text();
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "UPDATE incidents SET facts = $1, level = $2, criterion = $3, rules_version = $4, report_within_minutes = $5, \
             report_by = $6, report_immediately = $7, updated_at = $8 WHERE id = $9",
        )
        .bind(facts_json(facts)?)
        .bind(grade.level.as_str())
        .bind(grade.criterion.as_ref().map(|c| c.id.clone()).unwrap_or_default())
        .bind(grade.rules_version.clone())
        .bind(within)
        .bind(by)
        .bind(immediately)
        .bind(now.clone())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if grade.level != before.computed_level {
            let text = format!("facts changed; computed level {} → {}", before.computed_level, grade.level);
            add_timeline(&mut tx, id, &now, "auto", &text, actor, &now).await?;
        }
        let after = read(&mut tx, id).await?;
        crate::notifications::incident_level_changed(&mut tx, before.level, &after, &now).await?;
        crate::incident_leaks::flag_duty_if_leak(&mut tx, actor, &after, &now).await?;
        append(
            &mut tx,
            &now,
            actor,
            "incident.update_facts",
            "incident",
            &id.to_string(),
            Some(after.org_unit_id),
            Some(&json!({ "facts": before.facts, "computed_level": before.computed_level })),
            Some(&json!({ "facts": after.facts, "computed_level": after.computed_level })),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Sets (`Some`) or clears (`None`) a level chosen by hand. A reason is
    /// required either way; it goes into the audit log and the timeline.
    pub async fn override_incident_level(
        &self,
        actor: &Actor,
        id: i64,
        level: Option<IncidentLevel>,
        reason: &str,
        rules: &IncidentRules,
    ) -> Result<Incident> {
        long_text("reason", reason, true)?;
        let before = self.get_incident(id).await?;
        let effective = level.unwrap_or(before.computed_level);
        let at = parse_ts(&before.discovered_at).map_err(|e| corrupt("discovered_at", e))?;
        let (within, by, immediately) = deadline_columns(&rules.deadline(effective, before.operator_category, at));
        let now = self.now_text();
        let reason = reason.trim();
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "UPDATE incidents SET level_override = $1, override_reason = $2, report_within_minutes = $3, report_by = $4, \
             report_immediately = $5, updated_at = $6 WHERE id = $7",
        )
        .bind(level.map(|l| l.as_str()).unwrap_or_default())
        .bind(if level.is_some() { reason.to_owned() } else { String::new() })
        .bind(within)
        .bind(by)
        .bind(immediately)
        .bind(now.clone())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let text = match level {
            Some(l) => format!("level overridden {} → {l}: {reason}", before.level),
            None => format!("override removed, level {} → {}: {reason}", before.level, before.computed_level),
        };
        add_timeline(&mut tx, id, &now, "auto", &text, actor, &now).await?;
        let after = read(&mut tx, id).await?;
        crate::notifications::incident_level_changed(&mut tx, before.level, &after, &now).await?;
        append(
            &mut tx,
            &now,
            actor,
            "incident.override_level",
            "incident",
            &id.to_string(),
            Some(after.org_unit_id),
            Some(&json!({ "level": before.level, "level_override": before.level_override })),
            Some(&json!({ "level": after.level, "level_override": after.level_override, "reason": reason })),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Changes the status and keeps the handling times: the first change
    /// acknowledges an incident not yet acknowledged, the first move to
    /// contained (or straight to closed) sets `contained_at`, closing sets
    /// `closed_at` and reopening clears it.
    pub async fn set_incident_status(&self, actor: &Actor, id: i64, status: IncidentStatus) -> Result<Incident> {
        let before = self.get_incident(id).await?;
        if before.status == status {
            return Ok(before);
        }
        let now = self.now_text();
        let mut tx = self.write_tx().await?;
        imply_acknowledged(&mut tx, id, actor, &now).await?;
        let (contained, closed) = match status {
            IncidentStatus::Open => ("contained_at", "NULL"),
            IncidentStatus::Contained => ("COALESCE(contained_at, $2)", "NULL"),
            IncidentStatus::Closed => ("COALESCE(contained_at, $2)", "$2"),
        };
        sqlx::query(&format!(
            "UPDATE incidents SET status = $1, updated_at = $2, contained_at = {contained}, closed_at = {closed} \
             WHERE id = $3"
        ))
        .bind(status.as_str())
        .bind(now.clone())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        add_timeline(&mut tx, id, &now, "auto", &format!("status {} → {status}", before.status), actor, &now).await?;
        let after = read(&mut tx, id).await?;
        append(
            &mut tx,
            &now,
            actor,
            "incident.status",
            "incident",
            &id.to_string(),
            Some(after.org_unit_id),
            Some(
                &json!({ "status": before.status, "contained_at": before.contained_at, "closed_at": before.closed_at }),
            ),
            Some(&json!({ "status": after.status, "acknowledged_at": after.acknowledged_at,
                "contained_at": after.contained_at, "closed_at": after.closed_at })),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// A responder acknowledges the incident: the MTTA clock stops. Only
    /// the first acknowledgement counts; a later one changes nothing and
    /// writes nothing.
    pub async fn acknowledge_incident(&self, actor: &Actor, id: i64) -> Result<Incident> {
        let now = self.now_text();
        let mut tx = self.write_tx().await?;
        let before = read_opt(&mut tx, id).await?.ok_or_else(|| StoreError::not_found("incident", id))?;
        if before.acknowledged_at.is_some() {
            return Ok(before);
        }
        imply_acknowledged(&mut tx, id, actor, &now).await?;
        sqlx::query("UPDATE incidents SET updated_at = $1 WHERE id = $2")
            .bind(now.clone())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        add_timeline(&mut tx, id, &now, "auto", "acknowledged", actor, &now).await?;
        let after = read(&mut tx, id).await?;
        append(
            &mut tx,
            &now,
            actor,
            "incident.acknowledge",
            "incident",
            &id.to_string(),
            Some(after.org_unit_id),
            None,
            Some(&json!({ "acknowledged_at": after.acknowledged_at, "acknowledged_by": after.acknowledged_by })),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Records the root cause and lessons learned (a final report needs
    /// both); either may be empty until known.
    pub async fn set_incident_review(
        &self,
        actor: &Actor,
        id: i64,
        root_cause: &str,
        lessons: &str,
    ) -> Result<Incident> {
        long_text("root_cause", root_cause, false)?;
        long_text("lessons", lessons, false)?;
        let before = self.get_incident(id).await?;
        let now = self.now_text();
        let mut tx = self.write_tx().await?;
        sqlx::query("UPDATE incidents SET root_cause = $1, lessons = $2, updated_at = $3 WHERE id = $4")
            .bind(root_cause.trim().to_owned())
            .bind(lessons.trim().to_owned())
            .bind(now.clone())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let after = read(&mut tx, id).await?;
        append(
            &mut tx,
            &now,
            actor,
            "incident.review",
            "incident",
            &id.to_string(),
            Some(after.org_unit_id),
            Some(&json!({ "root_cause": before.root_cause, "lessons": before.lessons })),
            Some(&json!({ "root_cause": after.root_cause, "lessons": after.lessons })),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// A manual timeline entry; `at` defaults to now and may not be in the
    /// future.
    pub async fn add_incident_entry(
        &self,
        actor: &Actor,
        id: i64,
        at: Option<Timestamp>,
        entry: &str,
    ) -> Result<TimelineEntry> {
        long_text("entry", entry, true)?;
        let incident = self.get_incident(id).await?;
        let now = self.now();
        let at = at.unwrap_or(now);
        if at > now + time::Duration::minutes(5) {
            return Err(Invalid::field("at", "is in the future").into());
        }
        let now_text = format_ts(now);
        let mut tx = self.write_tx().await?;
        let entry_id = add_timeline(&mut tx, id, &format_ts(at), "manual", entry.trim(), actor, &now_text).await?;
        sqlx::query("UPDATE incidents SET updated_at = $1 WHERE id = $2")
            .bind(now_text.clone())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let row =
            sqlx::query("SELECT * FROM incident_timeline WHERE id = $1").bind(entry_id).fetch_one(&mut *tx).await?;
        let e = entry_of(&row)?;
        append(
            &mut tx,
            &now_text,
            actor,
            "incident.timeline",
            "incident",
            &id.to_string(),
            Some(incident.org_unit_id),
            None,
            Some(&to_json(&e)?),
        )
        .await?;
        tx.commit().await?;
        Ok(e)
    }
}

async fn read_opt(tx: &mut WriteTx, id: i64) -> Result<Option<Incident>> {
    let row = sqlx::query("SELECT * FROM incidents WHERE id = $1").bind(id).fetch_optional(&mut **tx).await?;
    row.as_ref().map(incident_from_row).transpose()
}

/// Sets `acknowledged_at` (and who) if the incident has none yet: the
/// first handling step acknowledges it when nobody pressed the button.
pub(crate) async fn imply_acknowledged(tx: &mut WriteTx, id: i64, actor: &Actor, now: &str) -> Result<()> {
    sqlx::query(
        "UPDATE incidents SET acknowledged_at = $1, acknowledged_by = $2 WHERE id = $3 AND acknowledged_at IS NULL",
    )
    .bind(now.to_owned())
    .bind(actor.name.clone())
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn read(tx: &mut WriteTx, id: i64) -> Result<Incident> {
    let row = sqlx::query("SELECT * FROM incidents WHERE id = $1").bind(id).fetch_one(&mut **tx).await?;
    incident_from_row(&row)
}

pub(crate) async fn add_timeline(
    tx: &mut WriteTx,
    incident_id: i64,
    at: &str,
    kind: &str,
    entry: &str,
    actor: &Actor,
    now: &str,
) -> Result<i64> {
    Ok(sqlx::query(
        "INSERT INTO incident_timeline (incident_id, at, kind, entry, actor, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(incident_id)
    .bind(at.to_owned())
    .bind(kind.to_owned())
    .bind(entry.to_owned())
    .bind(actor.name.clone())
    .bind(now.to_owned())
    .fetch_one(&mut **tx)
    .await?
    .try_get("id")?)
}
