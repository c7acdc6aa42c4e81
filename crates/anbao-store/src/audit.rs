//! The audit log: appended in the same transaction as the change it
//! records, read with filters, exported, and verified end to end.

use anbao_model::audit::{AuditFields, ChainBreak, ChainVerifier, GENESIS, StoredEntry, chain_hash};
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::sql::{Bind, Sql, id_list};
use crate::{Actor, Result, Store, WriteTx};

/// One entry as read back.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub actor_role: String,
    pub channel: String,
    pub source_ip: String,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    pub org_unit_id: Option<i64>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub hash: String,
}

/// Filters for reading the log; all optional.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    /// Matches the action exactly or as a prefix ending in '.', e.g. `user.`.
    pub action: Option<String>,
    pub object_type: Option<String>,
    pub object_id: Option<String>,
    /// Inclusive lower bound, RFC 3339.
    pub since: Option<String>,
    /// Exclusive upper bound, RFC 3339.
    pub until: Option<String>,
    /// Only entries about these organisation units; `None` means all,
    /// including entries not tied to a unit.
    pub org_units: Option<Vec<i64>>,
    /// Entries with a sequence number below this (for paging back).
    pub before_seq: Option<i64>,
    pub limit: i64,
}

/// The result of walking the whole chain.
#[derive(Debug, Clone, Serialize)]
pub struct AuditVerification {
    pub checked: u64,
    pub head_seq: i64,
    pub head_hash: String,
    pub first_break: Option<ChainBreak>,
}

impl AuditVerification {
    pub fn intact(&self) -> bool {
        self.first_break.is_none()
    }
}

/// Appends one entry in `tx` (see [`AuditBatch`] for many).
// One parameter per audit column keeps call sites readable as a record.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn append(
    tx: &mut WriteTx,
    at: &str,
    actor: &Actor,
    action: &str,
    object_type: &str,
    object_id: &str,
    org_unit_id: Option<i64>,
    before: Option<&serde_json::Value>,
    after: Option<&serde_json::Value>,
) -> Result<i64> {
    let mut batch = AuditBatch::start(tx).await?;
    batch.append(tx, at, actor, action, object_type, object_id, org_unit_id, before, after).await
}

/// Appends several entries in one write transaction, reading the chain's
/// head once (bulk imports write one entry per record).
pub(crate) struct AuditBatch {
    last_seq: i64,
    last_hash: String,
}

impl AuditBatch {
    pub(crate) async fn start(tx: &mut WriteTx) -> Result<AuditBatch> {
        let last =
            sqlx::query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetch_optional(&mut **tx).await?;
        Ok(match last {
            Some(row) => AuditBatch { last_seq: row.try_get("seq")?, last_hash: row.try_get("hash")? },
            None => AuditBatch { last_seq: 0, last_hash: GENESIS.to_owned() },
        })
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn append(
        &mut self,
        tx: &mut WriteTx,
        at: &str,
        actor: &Actor,
        action: &str,
        object_type: &str,
        object_id: &str,
        org_unit_id: Option<i64>,
        before: Option<&serde_json::Value>,
        after: Option<&serde_json::Value>,
    ) -> Result<i64> {
        let fields = AuditFields {
            seq: self.last_seq + 1,
            at: at.to_owned(),
            actor: actor.name.clone(),
            actor_role: actor.role.clone(),
            channel: actor.channel.to_owned(),
            source_ip: actor.source_ip.clone(),
            action: action.to_owned(),
            object_type: object_type.to_owned(),
            object_id: object_id.to_owned(),
            org_unit_id,
            before: before.map(|v| v.to_string()).unwrap_or_default(),
            after: after.map(|v| v.to_string()).unwrap_or_default(),
        };
        let hash = chain_hash(&self.last_hash, &fields);
        sqlx::query(
            "INSERT INTO audit_log (seq, at, actor, actor_role, channel, source_ip, action, object_type, object_id, \
             org_unit_id, before_json, after_json, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(fields.seq)
        .bind(&fields.at)
        .bind(&fields.actor)
        .bind(&fields.actor_role)
        .bind(&fields.channel)
        .bind(&fields.source_ip)
        .bind(&fields.action)
        .bind(&fields.object_type)
        .bind(&fields.object_id)
        .bind(fields.org_unit_id)
        .bind(&fields.before)
        .bind(&fields.after)
        .bind(&self.last_hash)
        .bind(&hash)
        .execute(&mut **tx)
        .await?;
        self.last_seq = fields.seq;
        self.last_hash = hash;
        Ok(fields.seq)
    }
}

/// A filter bound as the stored text form, so text comparison is time
/// comparison: any RFC 3339 instant (any offset), or a date (midnight UTC).
fn time_bound(field: &'static str, value: &str) -> Result<String> {
    use anbao_model::clock::{format_ts, parse_ts};
    if let Ok(t) = parse_ts(value) {
        return Ok(format_ts(t));
    }
    let date_format = time::macros::format_description!("[year]-[month]-[day]");
    match time::Date::parse(value, &date_format) {
        Ok(d) => Ok(format_ts(d.midnight().assume_utc())),
        Err(_) => Err(anbao_model::validate::Invalid {
            field,
            reason: format!("{value:?} is not an RFC 3339 time or a YYYY-MM-DD date"),
        }
        .into()),
    }
}

fn fields_of(row: &AnyRow) -> Result<AuditFields> {
    Ok(AuditFields {
        seq: row.try_get("seq")?,
        at: row.try_get("at")?,
        actor: row.try_get("actor")?,
        actor_role: row.try_get("actor_role")?,
        channel: row.try_get("channel")?,
        source_ip: row.try_get("source_ip")?,
        action: row.try_get("action")?,
        object_type: row.try_get("object_type")?,
        object_id: row.try_get("object_id")?,
        org_unit_id: row.try_get("org_unit_id")?,
        before: row.try_get("before_json")?,
        after: row.try_get("after_json")?,
    })
}

fn json_or_none(s: &str) -> Option<serde_json::Value> {
    if s.is_empty() {
        None
    } else {
        Some(serde_json::from_str(s).unwrap_or_else(|_| serde_json::Value::String(s.to_owned())))
    }
}

impl Store {
    /// Appends an entry that is not part of a data change (a login, an
    /// export), in its own transaction.
    pub async fn audit_event(
        &self,
        actor: &Actor,
        action: &str,
        object_type: &str,
        object_id: &str,
        org_unit_id: Option<i64>,
        detail: Option<&serde_json::Value>,
    ) -> Result<i64> {
        let mut tx = self.write_tx().await?;
        let seq =
            append(&mut tx, &self.now_text(), actor, action, object_type, object_id, org_unit_id, None, detail).await?;
        tx.commit().await?;
        Ok(seq)
    }

    /// Entries matching `filter`, newest first.
    pub async fn list_audit(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>> {
        let mut sql = Sql::new("SELECT * FROM audit_log WHERE 1 = 1");
        if let Some(actor) = &filter.actor {
            sql.push(" AND actor = ").bind(Bind::Text(actor.clone()));
        }
        if let Some(action) = &filter.action {
            if action.ends_with('.') {
                sql.push(" AND substr(action, 1, ")
                    .push(&action.len().to_string())
                    .push(") = ")
                    .bind(Bind::Text(action.clone()));
            } else {
                sql.push(" AND action = ").bind(Bind::Text(action.clone()));
            }
        }
        if let Some(t) = &filter.object_type {
            sql.push(" AND object_type = ").bind(Bind::Text(t.clone()));
        }
        if let Some(id) = &filter.object_id {
            sql.push(" AND object_id = ").bind(Bind::Text(id.clone()));
        }
        if let Some(since) = &filter.since {
            sql.push(" AND at >= ").bind(Bind::Text(time_bound("since", since)?));
        }
        if let Some(until) = &filter.until {
            sql.push(" AND at < ").bind(Bind::Text(time_bound("until", until)?));
        }
        if let Some(units) = &filter.org_units {
            sql.push(" AND org_unit_id IN ").push(&id_list(units.iter().copied()));
        }
        if let Some(b) = filter.before_seq {
            sql.push(" AND seq < ").bind(Bind::Int(b));
        }
        let limit = if filter.limit <= 0 { 100 } else { filter.limit.min(100_000) };
        sql.push(" ORDER BY seq DESC LIMIT ").bind(Bind::Int(limit));
        let rows = sql.query().fetch_all(self.pool()).await?;
        rows.iter()
            .map(|row| {
                let f = fields_of(row)?;
                Ok(AuditEntry {
                    seq: f.seq,
                    at: f.at,
                    actor: f.actor,
                    actor_role: f.actor_role,
                    channel: f.channel,
                    source_ip: f.source_ip,
                    action: f.action,
                    object_type: f.object_type,
                    object_id: f.object_id,
                    org_unit_id: f.org_unit_id,
                    before: json_or_none(&f.before),
                    after: json_or_none(&f.after),
                    hash: row.try_get("hash")?,
                })
            })
            .collect()
    }

    pub async fn count_audit(&self) -> Result<i64> {
        Ok(sqlx::query("SELECT COUNT(*) AS n FROM audit_log").fetch_one(self.pool()).await?.try_get("n")?)
    }

    /// Audit entries per day (UTC) for the last `days` days, oldest first,
    /// for the dashboard chart.
    pub async fn audit_per_day(&self, days: i64) -> Result<Vec<(String, i64)>> {
        let now = self.now();
        let start = now - time::Duration::days(days - 1);
        let since = format!("{:04}-{:02}-{:02}", start.year(), u8::from(start.month()), start.day());
        let rows = sqlx::query(
            "SELECT substr(at, 1, 10) AS day, COUNT(*) AS n FROM audit_log WHERE at >= $1 GROUP BY substr(at, 1, 10) ORDER BY day",
        )
        .bind(&since)
        .fetch_all(self.pool())
        .await?;
        let mut counts = std::collections::HashMap::new();
        for r in rows {
            counts.insert(r.try_get::<String, _>("day")?, r.try_get::<i64, _>("n")?);
        }
        Ok((0..days)
            .map(|i| {
                let d = start + time::Duration::days(i);
                let key = format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day());
                let n = counts.get(&key).copied().unwrap_or(0);
                (key, n)
            })
            .collect())
    }

    /// Walks the whole chain in sequence order, in pages so memory stays
    /// flat however long the log is, and stops at the first break.
    pub async fn verify_audit(&self) -> Result<AuditVerification> {
        let mut v = ChainVerifier::default();
        let mut after = 0i64;
        // Row-to-row comparison must see rows in order even where sequence
        // numbers were tampered with, so page by seq and let the verifier
        // judge gaps and repeats.
        let mut first_break = None;
        'pages: loop {
            let rows = sqlx::query("SELECT * FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT 5000")
                .bind(after)
                .fetch_all(self.pool())
                .await?;
            if rows.is_empty() {
                break;
            }
            for row in &rows {
                let fields = fields_of(row)?;
                after = fields.seq;
                let e = StoredEntry { fields, prev_hash: row.try_get("prev_hash")?, hash: row.try_get("hash")? };
                if let Err(b) = v.push(&e) {
                    first_break = Some(b);
                    break 'pages;
                }
            }
        }
        let (head_seq, head_hash) = v.head();
        Ok(AuditVerification { checked: v.checked(), head_seq, head_hash: head_hash.to_owned(), first_break })
    }
}
