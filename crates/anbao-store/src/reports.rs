//! Regulator reports of incidents (issue #7, R2.4, R8.5, S1): immutable
//! snapshots generated from an incident (`anbao_model::report`), stored as
//! the exact JSON text with its SHA-256; the submissions of each to a
//! recipient with their outcome; and, for an instance acting as the
//! regulator-side or group-side collector, the senders whose signed reports
//! it accepts and the reports it received. Every change is audited.

use anbao_model::clock::{format_ts, parse_ts};
use anbao_model::incident::IncidentRules;
use anbao_model::report::{
    IncidentReport, REPORT_SCHEMA, ReportKind, ReportedAction, ReportedDeadline, ReportedFollowUp, ReportedIncident,
    ReportedLevel, ReportingOrganisation, deadline_met, key_id_of,
};
use anbao_model::validate::{self, Invalid};
use serde::Serialize;
use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::audit::append;
use crate::{Actor, Result, Store, StoreError, random_hex, sha256_hex};

/// A generated report. `body` is the exact JSON text that is served,
/// signed and sent; `sha256` is over those bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredReport {
    pub id: i64,
    pub incident_id: i64,
    /// The incident's unit, for scope checks.
    pub org_unit_id: i64,
    pub kind: ReportKind,
    pub report_uid: String,
    pub created_at: String,
    pub created_by: String,
    pub sha256: String,
    #[serde(skip)]
    pub body: String,
}

/// One attempt to deliver a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportSubmission {
    pub id: i64,
    pub report_id: i64,
    /// Where it went (a URL without credentials).
    pub recipient: String,
    pub submitted_at: String,
    pub submitted_by: String,
    /// `accepted` (2xx), `rejected` (another HTTP status) or `failed` (no answer).
    pub outcome: String,
    pub http_status: Option<i64>,
    pub error: String,
}

/// Submission outcomes.
pub const SUBMISSION_OUTCOMES: &[&str] = &["accepted", "rejected", "failed"];

/// A sender whose signed reports this instance accepts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportSender {
    pub id: i64,
    pub name: String,
    /// [`key_id_of`] the public key.
    pub key_id: String,
    /// Ed25519 public key, 64 hex digits.
    pub public_key: String,
    pub created_at: String,
    pub created_by: String,
    /// When an admin revoked it; a revoked key is refused.
    pub revoked_at: Option<String>,
}

/// A report received from a registered sender, signature verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReceivedReport {
    pub id: i64,
    pub sender_id: i64,
    pub sender_name: String,
    /// The key that verified the signature.
    pub key_id: String,
    pub report_uid: String,
    pub kind: String,
    pub title: String,
    pub level: String,
    pub received_at: String,
    pub source_ip: String,
    pub sha256: String,
    #[serde(skip)]
    pub body: String,
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

fn report_of(r: &AnyRow) -> Result<StoredReport> {
    let kind: String = r.try_get("kind")?;
    Ok(StoredReport {
        id: r.try_get("id")?,
        incident_id: r.try_get("incident_id")?,
        org_unit_id: r.try_get("org_unit_id")?,
        kind: kind.parse().map_err(|e| corrupt("report kind", e))?,
        report_uid: r.try_get("report_uid")?,
        created_at: r.try_get("created_at")?,
        created_by: r.try_get("created_by")?,
        sha256: r.try_get("sha256")?,
        body: r.try_get("body")?,
    })
}

fn submission_of(r: &AnyRow) -> Result<ReportSubmission> {
    Ok(ReportSubmission {
        id: r.try_get("id")?,
        report_id: r.try_get("report_id")?,
        recipient: r.try_get("recipient")?,
        submitted_at: r.try_get("submitted_at")?,
        submitted_by: r.try_get("submitted_by")?,
        outcome: r.try_get("outcome")?,
        http_status: r.try_get("http_status")?,
        error: r.try_get("error")?,
    })
}

fn sender_of(r: &AnyRow) -> Result<ReportSender> {
    Ok(ReportSender {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        key_id: r.try_get("key_id")?,
        public_key: r.try_get("public_key")?,
        created_at: r.try_get("created_at")?,
        created_by: r.try_get("created_by")?,
        revoked_at: r.try_get("revoked_at")?,
    })
}

fn received_of(r: &AnyRow) -> Result<ReceivedReport> {
    Ok(ReceivedReport {
        id: r.try_get("id")?,
        sender_id: r.try_get("sender_id")?,
        sender_name: r.try_get("sender_name")?,
        key_id: r.try_get("key_id")?,
        report_uid: r.try_get("report_uid")?,
        kind: r.try_get("kind")?,
        title: r.try_get("title")?,
        level: r.try_get("level")?,
        received_at: r.try_get("received_at")?,
        source_ip: r.try_get("source_ip")?,
        sha256: r.try_get("sha256")?,
        body: r.try_get("body")?,
    })
}

const REPORT_SELECT: &str =
    "SELECT r.*, i.org_unit_id FROM incident_reports r JOIN incidents i ON i.id = r.incident_id";

impl Store {
    /// Generates a report of `kind` from the incident as it is now and
    /// stores it. A final report needs the incident's root cause and lessons.
    /// The deadline counts as met when the incident's first report (this
    /// one, if it is the first) was generated by the reporting deadline.
    pub async fn create_incident_report(
        &self,
        actor: &Actor,
        incident_id: i64,
        kind: ReportKind,
        organisation: &ReportingOrganisation,
        rules: &IncidentRules,
    ) -> Result<StoredReport> {
        let now = self.now();
        let now_text = format_ts(now);
        let mut tx = self.write_tx().await?;
        // Read under the write lock, so the snapshot is the incident as it
        // stands when the report is numbered.
        let row = sqlx::query("SELECT * FROM incidents WHERE id = $1")
            .bind(incident_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::not_found("incident", incident_id))?;
        let incident = crate::incidents::incident_from_row(&row)?;
        let timeline = sqlx::query("SELECT * FROM incident_timeline WHERE incident_id = $1 ORDER BY at, id")
            .bind(incident_id)
            .fetch_all(&mut *tx)
            .await?;
        let first: Option<String> =
            sqlx::query("SELECT MIN(created_at) AS first FROM incident_reports WHERE incident_id = $1")
                .bind(incident_id)
                .fetch_one(&mut *tx)
                .await?
                .try_get("first")?;
        let first_report_at = first.unwrap_or_else(|| now_text.clone());
        let report_by = incident.report_by.as_deref().map(parse_ts).transpose().map_err(|e| corrupt("report_by", e))?;
        let first_ts = parse_ts(&first_report_at).map_err(|e| corrupt("report created_at", e))?;
        let criterion = rules.criteria.iter().find(|c| c.id == incident.criterion);
        let actions = timeline
            .iter()
            .map(|r| {
                Ok(ReportedAction {
                    at: r.try_get("at")?,
                    kind: r.try_get("kind")?,
                    entry: r.try_get("entry")?,
                    actor: r.try_get("actor")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        // A final report lists the review's follow-up actions, done or not.
        let follow_ups = if kind == ReportKind::Final {
            sqlx::query(
                "SELECT title, assignee, due_at, status FROM incident_tasks \
                 WHERE incident_id = $1 AND kind = 'follow_up' ORDER BY id",
            )
            .bind(incident_id)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| {
                Ok(ReportedFollowUp {
                    title: r.try_get("title")?,
                    assignee: r.try_get("assignee")?,
                    due_at: r.try_get("due_at")?,
                    status: r.try_get("status")?,
                })
            })
            .collect::<Result<Vec<_>>>()?
        } else {
            Vec::new()
        };
        let personal_data = crate::incident_leaks::reported(&mut tx, &incident).await?;
        let report = IncidentReport {
            schema: REPORT_SCHEMA.to_owned(),
            report_uid: random_hex(16),
            kind,
            generated_at: now_text.clone(),
            generated_by: actor.name.clone(),
            organisation: organisation.clone(),
            incident: ReportedIncident {
                id: incident.id,
                title: incident.title.clone(),
                incident_type: incident.incident_type.as_str().to_owned(),
                summary: incident.summary.clone(),
                status: incident.status.as_str().to_owned(),
                discovered_at: incident.discovered_at.clone(),
            },
            level: ReportedLevel::new(
                incident.computed_level,
                incident.level_override.map(|l| (l, incident.override_reason.as_str())),
                criterion,
                &incident.rules_version,
            ),
            deadline: ReportedDeadline {
                within_minutes: incident.report_within_minutes,
                report_by: incident.report_by.clone(),
                immediately: incident.report_immediately,
                first_report_at: Some(first_report_at),
                met: deadline_met(report_by, Some(first_ts)),
            },
            impact: incident.facts.clone(),
            actions,
            root_cause: incident.root_cause.clone(),
            lessons: incident.lessons.clone(),
            follow_ups,
            personal_data,
        };
        report.check()?;
        let body = serde_json::to_string_pretty(&report).map_err(|e| corrupt("report", e))?;
        let sha256 = sha256_hex(&body);
        let id: i64 = sqlx::query(
            "INSERT INTO incident_reports (incident_id, kind, report_uid, created_at, created_by, body, sha256) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(incident_id)
        .bind(kind.as_str())
        .bind(report.report_uid.clone())
        .bind(now_text.clone())
        .bind(actor.name.clone())
        .bind(body.clone())
        .bind(sha256.clone())
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        crate::incidents::add_timeline(
            &mut tx,
            incident_id,
            &now_text,
            "auto",
            &format!("{kind} report #{id} generated (sha256 {})", &sha256[..16]),
            actor,
            &now_text,
        )
        .await?;
        append(
            &mut tx,
            &now_text,
            actor,
            "incident.report",
            "incident",
            &incident_id.to_string(),
            Some(incident.org_unit_id),
            None,
            Some(&json!({ "report_id": id, "kind": kind, "report_uid": report.report_uid, "sha256": sha256 })),
        )
        .await?;
        tx.commit().await?;
        Ok(StoredReport {
            id,
            incident_id,
            org_unit_id: incident.org_unit_id,
            kind,
            report_uid: report.report_uid,
            created_at: now_text,
            created_by: actor.name.clone(),
            sha256,
            body,
        })
    }

    /// The reports of an incident, oldest first.
    pub async fn incident_reports(&self, incident_id: i64) -> Result<Vec<StoredReport>> {
        let rows = sqlx::query(&format!("{REPORT_SELECT} WHERE r.incident_id = $1 ORDER BY r.id"))
            .bind(incident_id)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(report_of).collect()
    }

    pub async fn get_incident_report(&self, id: i64) -> Result<StoredReport> {
        let row = sqlx::query(&format!("{REPORT_SELECT} WHERE r.id = $1")).bind(id).fetch_optional(self.pool()).await?;
        report_of(&row.ok_or_else(|| StoreError::not_found("report", id))?)
    }

    /// Records one delivery attempt of a report and its outcome.
    pub async fn record_report_submission(
        &self,
        actor: &Actor,
        report_id: i64,
        recipient: &str,
        outcome: &str,
        http_status: Option<u16>,
        error: &str,
    ) -> Result<ReportSubmission> {
        if !SUBMISSION_OUTCOMES.contains(&outcome) {
            return Err(
                Invalid::field("outcome", format!("{outcome:?} is not one of accepted, rejected, failed")).into()
            );
        }
        let report = self.get_incident_report(report_id).await?;
        let now = self.now_text();
        let error: String = error.chars().take(2000).collect();
        let mut tx = self.write_tx().await?;
        let id: i64 = sqlx::query(
            "INSERT INTO report_submissions (report_id, recipient, submitted_at, submitted_by, outcome, http_status, error) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(report_id)
        .bind(recipient.to_owned())
        .bind(now.clone())
        .bind(actor.name.clone())
        .bind(outcome.to_owned())
        .bind(http_status.map(i64::from))
        .bind(error.clone())
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        let row = sqlx::query("SELECT * FROM report_submissions WHERE id = $1").bind(id).fetch_one(&mut *tx).await?;
        let submission = submission_of(&row)?;
        append(
            &mut tx,
            &now,
            actor,
            "incident.report_submit",
            "incident",
            &report.incident_id.to_string(),
            Some(report.org_unit_id),
            None,
            Some(&json!({ "report_id": report_id, "recipient": recipient, "outcome": outcome,
                "http_status": http_status, "error": error })),
        )
        .await?;
        tx.commit().await?;
        Ok(submission)
    }

    /// The delivery attempts of a report, oldest first.
    pub async fn report_submissions(&self, report_id: i64) -> Result<Vec<ReportSubmission>> {
        let rows = sqlx::query("SELECT * FROM report_submissions WHERE report_id = $1 ORDER BY id")
            .bind(report_id)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(submission_of).collect()
    }

    /// When each incident's first report was generated: (incident id, RFC 3339).
    pub async fn first_report_times(&self) -> Result<Vec<(i64, String)>> {
        let rows = sqlx::query(
            "SELECT incident_id, MIN(created_at) AS first FROM incident_reports GROUP BY incident_id ORDER BY incident_id",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(|r| Ok((r.try_get("incident_id")?, r.try_get("first")?))).collect()
    }

    /// Registers a sender by name and Ed25519 public key (64 hex digits).
    pub async fn add_report_sender(&self, actor: &Actor, name: &str, public_key_hex: &str) -> Result<ReportSender> {
        validate::label("name", name)?;
        let public_key_hex = public_key_hex.trim().to_ascii_lowercase();
        let key = match hex::decode(&public_key_hex) {
            Ok(k) if k.len() == 32 => k,
            _ => return Err(Invalid::field("public_key", "an Ed25519 public key is 64 hex digits").into()),
        };
        let key_id = key_id_of(&key);
        let now = self.now_text();
        let mut tx = self.write_tx().await?;
        let id: i64 = sqlx::query(
            "INSERT INTO report_senders (name, key_id, public_key, created_at, created_by) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(name.trim().to_owned())
        .bind(key_id.clone())
        .bind(public_key_hex.clone())
        .bind(now.clone())
        .bind(actor.name.clone())
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| StoreError::unique_or(e, || "a sender with this name or key is already registered".to_owned()))?
        .try_get("id")?;
        let row = sqlx::query("SELECT * FROM report_senders WHERE id = $1").bind(id).fetch_one(&mut *tx).await?;
        let sender = sender_of(&row)?;
        append(
            &mut tx,
            &now,
            actor,
            "report_sender.create",
            "report_sender",
            &id.to_string(),
            None,
            None,
            Some(&json!({ "name": sender.name, "key_id": sender.key_id, "public_key": sender.public_key })),
        )
        .await?;
        tx.commit().await?;
        Ok(sender)
    }

    /// Revokes a sender's key: its signatures are refused from now on; the
    /// reports it sent stay. Revoking twice changes nothing.
    pub async fn revoke_report_sender(&self, actor: &Actor, id: i64) -> Result<ReportSender> {
        let now = self.now_text();
        let mut tx = self.write_tx().await?;
        let row = sqlx::query("SELECT * FROM report_senders WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::not_found("report sender", id))?;
        let before = sender_of(&row)?;
        if before.revoked_at.is_some() {
            return Ok(before);
        }
        sqlx::query("UPDATE report_senders SET revoked_at = $1 WHERE id = $2")
            .bind(now.clone())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        append(
            &mut tx,
            &now,
            actor,
            "report_sender.revoke",
            "report_sender",
            &id.to_string(),
            None,
            Some(&json!({ "name": before.name, "key_id": before.key_id })),
            Some(&json!({ "revoked_at": now })),
        )
        .await?;
        tx.commit().await?;
        Ok(ReportSender { revoked_at: Some(now), ..before })
    }

    pub async fn list_report_senders(&self) -> Result<Vec<ReportSender>> {
        let rows = sqlx::query("SELECT * FROM report_senders ORDER BY name").fetch_all(self.pool()).await?;
        rows.iter().map(sender_of).collect()
    }

    pub async fn report_sender_by_key_id(&self, key_id: &str) -> Result<Option<ReportSender>> {
        let row = sqlx::query("SELECT * FROM report_senders WHERE key_id = $1")
            .bind(key_id.to_owned())
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(sender_of).transpose()
    }

    /// Stores a report whose signature the caller verified against
    /// `sender`'s key. Receiving the same report again (same `report_uid`,
    /// same bytes) changes nothing and returns the stored one with `false`;
    /// different bytes under a known `report_uid` are a conflict.
    pub async fn store_received_report(
        &self,
        sender: &ReportSender,
        report: &IncidentReport,
        body: &str,
        source_ip: &str,
    ) -> Result<(ReceivedReport, bool)> {
        let sha256 = sha256_hex(body);
        let now = self.now_text();
        let mut tx = self.write_tx().await?;
        let existing = sqlx::query("SELECT * FROM received_reports WHERE sender_id = $1 AND report_uid = $2")
            .bind(sender.id)
            .bind(report.report_uid.clone())
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(row) = existing {
            let stored = received_of(&row)?;
            if stored.sha256 == sha256 {
                return Ok((stored, false));
            }
            return Err(StoreError::Conflict(format!(
                "report {} was received before with different content",
                report.report_uid
            )));
        }
        let id: i64 = sqlx::query(
            "INSERT INTO received_reports (sender_id, sender_name, key_id, report_uid, kind, title, level, received_at, \
             source_ip, body, sha256) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        )
        .bind(sender.id)
        .bind(sender.name.clone())
        .bind(sender.key_id.clone())
        .bind(report.report_uid.clone())
        .bind(report.kind.as_str())
        .bind(report.incident.title.chars().take(500).collect::<String>())
        .bind(report.level.level.as_str())
        .bind(now.clone())
        .bind(source_ip.to_owned())
        .bind(body.to_owned())
        .bind(sha256.clone())
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        let row = sqlx::query("SELECT * FROM received_reports WHERE id = $1").bind(id).fetch_one(&mut *tx).await?;
        let received = received_of(&row)?;
        let actor = Actor {
            name: format!("sender:{}", sender.name),
            role: "sender".into(),
            channel: "api",
            source_ip: source_ip.to_owned(),
            user_id: None,
        };
        append(
            &mut tx,
            &now,
            &actor,
            "report.receive",
            "received_report",
            &id.to_string(),
            None,
            None,
            Some(&json!({ "sender": sender.name, "key_id": sender.key_id, "report_uid": report.report_uid,
                "kind": report.kind, "sha256": sha256 })),
        )
        .await?;
        tx.commit().await?;
        Ok((received, true))
    }

    /// Takes one request from `key_id`'s token bucket (`per_minute`
    /// requests a minute, bursts up to as many), kept in the database
    /// under the write lock so the nodes of a cluster share it. `None`: go
    /// ahead; `Some(seconds)`: the bucket is empty, try again after that
    /// long (at least 1). `per_minute` 0 turns the limit off.
    pub async fn take_report_inbound_token(&self, key_id: &str, per_minute: u32) -> Result<Option<u64>> {
        if per_minute == 0 {
            return Ok(None);
        }
        let now = self.clock().now();
        let now_text = format_ts(now);
        let rate = i64::from(per_minute);
        let capacity = rate * 1000;
        let mut tx = self.write_tx().await?;
        let row = sqlx::query("SELECT tokens, updated_at FROM report_inbound_buckets WHERE key_id = $1")
            .bind(key_id)
            .fetch_optional(&mut *tx)
            .await?;
        let tokens = match row {
            None => capacity,
            Some(row) => {
                let held: i64 = row.try_get("tokens")?;
                let since = crate::ts_col(&row, "updated_at")?;
                // Thousandths refilled: `rate` a minute is rate/60 per ms.
                let elapsed_ms = i64::try_from((now - since).whole_milliseconds().max(0)).unwrap_or(i64::MAX);
                held.saturating_add(elapsed_ms.saturating_mul(rate) / 60).min(capacity)
            }
        };
        let (left, wait) = if tokens >= 1000 {
            (tokens - 1000, None)
        } else {
            // Milliseconds until a whole request has been refilled, rounded
            // up to seconds.
            let deficit = u64::try_from(1000 - tokens).unwrap_or(1000);
            let ms = (deficit * 60).div_ceil(u64::from(per_minute));
            (tokens, Some(ms.div_ceil(1000).max(1)))
        };
        sqlx::query(
            "INSERT INTO report_inbound_buckets (key_id, tokens, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (key_id) DO UPDATE SET tokens = excluded.tokens, updated_at = excluded.updated_at",
        )
        .bind(key_id)
        .bind(left)
        .bind(&now_text)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(wait)
    }

    /// Received reports, newest first.
    pub async fn received_reports(&self) -> Result<Vec<ReceivedReport>> {
        let rows = sqlx::query("SELECT * FROM received_reports ORDER BY received_at DESC, id DESC")
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(received_of).collect()
    }

    pub async fn get_received_report(&self, id: i64) -> Result<ReceivedReport> {
        let row =
            sqlx::query("SELECT * FROM received_reports WHERE id = $1").bind(id).fetch_optional(self.pool()).await?;
        received_of(&row.ok_or_else(|| StoreError::not_found("received report", id))?)
    }
}
