//! Detection alerts (R3.1–R3.3 monitoring, R3.8 notifying subscribers):
//! upserted by dedup key from the detection pipeline (embedded or bus
//! workers), listed and filtered for triage, summarised per victim and per
//! hour for the charts, and the actions taken on them.
//!
//! Upserts are machine writes: no audit entry each (a busy sensor would
//! drown the log). Status changes and actions are people's decisions and
//! are audited, one entry per alert also when many change at once (bulk
//! triage). Assignment names an active user; marking a false positive may
//! add the alert's indicator to the "false positives" allowlist so the
//! detection index stops matching it. A bus message's alerts commit together with its stream
//! sequence number in `bus_applied`, so a redelivered message changes
//! nothing the second time.

use std::net::IpAddr;

use anbao_model::Timestamp;
use anbao_model::cidr::Cidr;
use anbao_model::clock::format_ts;
use anbao_model::validate::Invalid;
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::audit::{AuditBatch, append};
use crate::sql::{Bind, Sql};
use crate::{Actor, Result, Store, StoreError, ts_col};

/// Alert statuses, in workflow order.
pub const ALERT_STATUSES: [&str; 5] = ["new", "acknowledged", "confirmed", "false_positive", "resolved"];

/// The allowlist that false positives' indicators are added to.
pub const FALSE_POSITIVE_ALLOWLIST: &str = "false positives";

/// Most alerts one bulk change takes.
pub const MAX_BULK_ALERTS: usize = 1000;

/// Actions recorded against an alert.
pub const ALERT_ACTIONS: [&str; 6] = ["notified", "blocklisted", "rpz", "sinkholed", "note", "escalated"];

/// Actions only the system records: BGP mitigation (RTBH/FlowSpec) of a
/// `ddos` alert announced and withdrawn by `anbao serve`.
pub const SYSTEM_ALERT_ACTIONS: [&str; 2] = ["mitigation_announced", "mitigation_withdrawn"];

/// What the pipeline hands the store for one alert key.
#[derive(Clone, Debug, PartialEq)]
pub struct AlertDraft {
    pub dedup_key: String,
    /// `intel` or a heuristic's name (`dga`, `dns_tunnel`, …).
    pub rule: String,
    /// Empty: the indicator's category (or `other`).
    pub category: String,
    /// 1 low … 4 critical; 0: by category ([`severity_of_category`]).
    pub severity: i64,
    pub victim: String,
    pub indicator_id: Option<i64>,
    /// The listed value, or the name a heuristic flagged.
    pub indicator: String,
    pub match_how: String,
    pub field: String,
    pub observed: String,
    pub score: Option<i64>,
    pub reason: String,
    pub count: i64,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    pub sensor: String,
    /// JSON of the first event (kept as it came on first insert).
    pub evidence: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StoredAlert {
    pub id: i64,
    pub rule: String,
    pub category: String,
    pub severity: i64,
    pub victim: String,
    pub indicator_id: Option<i64>,
    pub indicator: String,
    #[serde(rename = "match")]
    pub match_how: String,
    pub field: String,
    pub observed: String,
    pub score: Option<i64>,
    pub reason: String,
    pub count: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub first_seen: Timestamp,
    #[serde(with = "time::serde::rfc3339")]
    pub last_seen: Timestamp,
    pub sensor: String,
    pub evidence: serde_json::Value,
    pub status: String,
    /// The user working the alert; empty: nobody.
    pub assignee: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: Timestamp,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AlertAction {
    pub id: i64,
    pub alert_id: i64,
    pub action: String,
    pub detail: String,
    pub actor: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: Timestamp,
}

/// Which alerts to list.
#[derive(Clone, Debug, Default)]
pub struct AlertFilter {
    pub status: Option<String>,
    pub category: Option<String>,
    pub rule: Option<String>,
    pub victim: Option<String>,
    /// Substring of the indicator or observed value.
    pub q: Option<String>,
    /// Last seen at or after.
    pub since: Option<Timestamp>,
    /// Only alerts assigned to this user; `Some("")`: only unassigned ones.
    pub assignee: Option<String>,
}

/// A triage change applied to many alerts at once.
#[derive(Clone, Debug, Default)]
pub struct BulkTriage {
    pub ids: Vec<i64>,
    pub status: Option<String>,
    /// A user name; `Some("")` unassigns.
    pub assignee: Option<String>,
}

/// One infected subscriber: what the victim view lists.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Victim {
    pub victim: String,
    pub alerts: i64,
    pub events: i64,
    pub max_severity: i64,
    /// Distinct categories, comma-separated, sorted.
    pub categories: String,
    #[serde(with = "time::serde::rfc3339")]
    pub first_seen: Timestamp,
    #[serde(with = "time::serde::rfc3339")]
    pub last_seen: Timestamp,
}

/// What one upsert did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Applied {
    pub new: u64,
    pub updated: u64,
    /// The bus message was applied before: nothing changed.
    pub duplicate: bool,
    /// Detections dropped by a suppression rule.
    pub suppressed: u64,
}

/// A suppression rule: until `until`, detections matching every non-empty
/// condition are dropped (and counted in `suppressed`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AlertSuppression {
    pub id: i64,
    pub rule: String,
    pub category: String,
    /// The victim starts with this (`10.1.` or a whole address).
    pub victim_prefix: String,
    /// The indicator, `*` matching any run of characters (`*.cdn.example`).
    pub indicator_pattern: String,
    /// The detection's source address lies in this network (IPv4 or IPv6
    /// CIDR, canonical form); empty: any.
    pub src_cidr: String,
    /// The detection's destination address lies in this network; empty: any.
    pub dst_cidr: String,
    #[serde(with = "time::serde::rfc3339")]
    pub until: Timestamp,
    pub reason: String,
    /// Detections dropped so far.
    pub suppressed: i64,
    pub created_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: Timestamp,
}

/// What a new suppression rule says.
#[derive(Clone, Debug, Default)]
pub struct NewSuppression {
    pub rule: String,
    pub category: String,
    pub victim_prefix: String,
    pub indicator_pattern: String,
    /// A source network (`10.1.0.0/16`, `2001:db8::/32`); empty: any.
    pub src_cidr: String,
    /// A destination network; empty: any.
    pub dst_cidr: String,
    pub until: Option<Timestamp>,
    pub reason: String,
}

impl AlertSuppression {
    /// Whether the rule drops `d` (the expiry is the caller's).
    pub fn matches(&self, d: &AlertDraft) -> bool {
        self.matches_with(d, &DraftAddresses::of(d))
    }

    fn matches_with(&self, d: &AlertDraft, addrs: &DraftAddresses) -> bool {
        (self.rule.is_empty() || self.rule == d.rule)
            && (self.category.is_empty() || self.category == d.category)
            && d.victim.starts_with(&self.victim_prefix)
            && (self.indicator_pattern.is_empty() || glob(&self.indicator_pattern, &d.indicator.to_ascii_lowercase()))
            && in_range(&self.src_cidr, addrs.src)
            && in_range(&self.dst_cidr, addrs.dst)
    }

    fn has_cidr(&self) -> bool {
        !self.src_cidr.is_empty() || !self.dst_cidr.is_empty()
    }
}

/// An empty range matches anything; a range matches only an address inside
/// it (a detection without that address is not suppressed by it). Stored
/// ranges were checked when the rule was made; one that no longer parses
/// matches nothing rather than everything.
fn in_range(cidr: &str, addr: Option<IpAddr>) -> bool {
    if cidr.is_empty() {
        return true;
    }
    match (cidr.parse::<Cidr>(), addr) {
        (Ok(net), Some(a)) => net.contains(a),
        _ => false,
    }
}

/// A detection's source and destination addresses: the evidence's `src`
/// and `dst` (the first event of the packet or log pipeline); a DDoS alert
/// (evidence without them, `field` = `dst`) has the attacked host, its
/// victim, as destination.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DraftAddresses {
    pub src: Option<IpAddr>,
    pub dst: Option<IpAddr>,
}

impl DraftAddresses {
    pub fn of(d: &AlertDraft) -> DraftAddresses {
        let evidence: Option<serde_json::Value> = serde_json::from_str(&d.evidence).ok();
        let addr = |key: &str| {
            evidence.as_ref().and_then(|e| e.get(key)).and_then(serde_json::Value::as_str).and_then(|s| s.parse().ok())
        };
        let src = addr("src");
        let dst = addr("dst").or_else(|| if d.field == "dst" { d.victim.parse().ok() } else { None });
        DraftAddresses { src, dst }
    }
}

/// A suppression range as the store keeps it: trimmed, canonical; empty
/// stays empty. A bad range names its field and says why.
fn clean_cidr(field: &'static str, text: &str) -> Result<String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(String::new());
    }
    if text.len() > 100 {
        return Err(Invalid::field(field, "a network range of at most 100 characters").into());
    }
    match text.parse::<Cidr>() {
        Ok(net) => Ok(net.to_string()),
        Err(e) => Err(Invalid::field(field, format!("{e} (write e.g. 10.1.0.0/16 or 2001:db8::/32)")).into()),
    }
}

/// `pattern` (lower case, `*` for any run of characters) matches all of `text`.
fn glob(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = text.strip_prefix(first) else { return false };
    let tail: Vec<&str> = parts.collect();
    let Some((last, middle)) = tail.split_last() else { return rest.is_empty() };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = rest.get(at + part.len()..).unwrap_or_default(),
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

fn suppression_of(row: &AnyRow) -> Result<AlertSuppression> {
    Ok(AlertSuppression {
        id: row.try_get("id")?,
        rule: row.try_get("rule")?,
        category: row.try_get("category")?,
        victim_prefix: row.try_get("victim_prefix")?,
        indicator_pattern: row.try_get("indicator_pattern")?,
        src_cidr: row.try_get("src_cidr")?,
        dst_cidr: row.try_get("dst_cidr")?,
        until: ts_col(row, "until")?,
        reason: row.try_get("reason")?,
        suppressed: row.try_get("suppressed")?,
        created_by: row.try_get("created_by")?,
        created_at: ts_col(row, "created_at")?,
    })
}

fn alert_of(row: &AnyRow) -> Result<StoredAlert> {
    let evidence: String = row.try_get("evidence")?;
    Ok(StoredAlert {
        id: row.try_get("id")?,
        rule: row.try_get("rule")?,
        category: row.try_get("category")?,
        severity: row.try_get("severity")?,
        victim: row.try_get("victim")?,
        indicator_id: row.try_get("indicator_id")?,
        indicator: row.try_get("indicator")?,
        match_how: row.try_get("match_how")?,
        field: row.try_get("field")?,
        observed: row.try_get("observed")?,
        score: row.try_get("score")?,
        reason: row.try_get("reason")?,
        count: row.try_get("count")?,
        first_seen: ts_col(row, "first_seen")?,
        last_seen: ts_col(row, "last_seen")?,
        sensor: row.try_get("sensor")?,
        evidence: serde_json::from_str(&evidence).unwrap_or(serde_json::Value::String(evidence)),
        status: row.try_get("status")?,
        assignee: row.try_get("assignee")?,
        created_at: ts_col(row, "created_at")?,
        updated_at: ts_col(row, "updated_at")?,
    })
}

fn action_of(row: &AnyRow) -> Result<AlertAction> {
    Ok(AlertAction {
        id: row.try_get("id")?,
        alert_id: row.try_get("alert_id")?,
        action: row.try_get("action")?,
        detail: row.try_get("detail")?,
        actor: row.try_get("actor")?,
        created_at: ts_col(row, "created_at")?,
    })
}

/// Default severity (1 low … 4 critical) of an alert on an indicator of
/// `category`: infections (C&C contact, trojans, mobile malware) high,
/// lures (phishing, malicious URLs and downloads) medium, the rest low.
pub fn severity_of_category(category: &str) -> i64 {
    match category {
        "botnet_cc" | "trojan" | "mobile_malware" => 3,
        "phishing" | "malicious_url" | "malicious_download" => 2,
        _ => 1,
    }
}

/// The hour bucket of a timestamp (`2026-11-25T10`).
fn hour_of(t: Timestamp) -> String {
    format_ts(t).get(..13).unwrap_or_default().to_owned()
}

fn filter_sql(filter: &AlertFilter) -> Sql {
    let mut sql = Sql::new(" WHERE 1 = 1");
    if let Some(s) = &filter.status {
        sql.push(" AND status = ").bind(Bind::Text(s.clone()));
    }
    if let Some(c) = &filter.category {
        sql.push(" AND category = ").bind(Bind::Text(c.clone()));
    }
    if let Some(r) = &filter.rule {
        sql.push(" AND rule = ").bind(Bind::Text(r.clone()));
    }
    if let Some(v) = &filter.victim {
        sql.push(" AND victim = ").bind(Bind::Text(v.clone()));
    }
    if let Some(q) = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        let pattern = format!("%{}%", q.to_ascii_lowercase().replace(['%', '_'], ""));
        sql.push(" AND (LOWER(indicator) LIKE ").bind(Bind::Text(pattern.clone()));
        sql.push(" OR LOWER(observed) LIKE ").bind(Bind::Text(pattern)).push(")");
    }
    if let Some(t) = filter.since {
        sql.push(" AND last_seen >= ").bind(Bind::Text(format_ts(t)));
    }
    if let Some(a) = &filter.assignee {
        sql.push(" AND assignee = ").bind(Bind::Text(a.clone()));
    }
    sql
}

fn check_status(status: &str) -> Result<()> {
    if ALERT_STATUSES.contains(&status) {
        Ok(())
    } else {
        Err(Invalid::field("status", format!("one of {}", ALERT_STATUSES.join(", "))).into())
    }
}

/// An assignee must be an active user (empty: unassign).
pub(crate) async fn check_assignee(tx: &mut crate::WriteTx, assignee: &str) -> Result<()> {
    if assignee.is_empty() {
        return Ok(());
    }
    let row =
        sqlx::query("SELECT disabled FROM users WHERE username = $1").bind(assignee).fetch_optional(&mut **tx).await?;
    match row {
        Some(r) if !crate::bool_col(&r, "disabled")? => Ok(()),
        Some(_) => Err(Invalid::field("assignee", format!("user {assignee:?} is disabled")).into()),
        None => Err(Invalid::field("assignee", format!("no user {assignee:?}")).into()),
    }
}

/// Status and assignee of an alert before a change; not found names it.
async fn triage_state(tx: &mut crate::WriteTx, id: i64) -> Result<(String, String)> {
    let row = sqlx::query("SELECT status, assignee FROM alerts WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::not_found("alert", id))?;
    Ok((row.try_get("status")?, row.try_get("assignee")?))
}

impl Store {
    /// Inserts or folds alerts by dedup key. With `applied`, the bus
    /// message (stream, sequence) is recorded in the same transaction, and
    /// a message seen before changes nothing.
    pub async fn apply_alerts(&self, drafts: &[AlertDraft], applied: Option<(&str, i64)>) -> Result<Applied> {
        let now = self.now_text();
        let mut out = Applied::default();
        let mut tx = self.write_tx().await?;
        if let Some((stream, seq)) = applied {
            let done = sqlx::query(
                "INSERT INTO bus_applied (stream, seq, at) VALUES ($1, $2, $3) ON CONFLICT (stream, seq) DO NOTHING",
            )
            .bind(stream)
            .bind(seq)
            .bind(&now)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                out.duplicate = true;
                return Ok(out);
            }
        }
        let rules = sqlx::query("SELECT * FROM alert_suppressions WHERE until > $1")
            .bind(&now)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(suppression_of)
            .collect::<Result<Vec<_>>>()?;
        let notify_rules = crate::notifications::rules_for(&mut tx, "alert").await?;
        // The evidence is read for its addresses only when a rule in force
        // names a network range.
        let any_cidr = rules.iter().any(AlertSuppression::has_cidr);
        for d in drafts {
            let addrs = if any_cidr { DraftAddresses::of(d) } else { DraftAddresses::default() };
            if let Some(rule) = rules.iter().find(|r| r.matches_with(d, &addrs)) {
                sqlx::query("UPDATE alert_suppressions SET suppressed = suppressed + $1 WHERE id = $2")
                    .bind(d.count)
                    .bind(rule.id)
                    .execute(&mut *tx)
                    .await?;
                out.suppressed += 1;
                continue;
            }
            let (first, last) = (format_ts(d.first_seen), format_ts(d.last_seen));
            let existing = sqlx::query("SELECT id FROM alerts WHERE dedup_key = $1")
                .bind(&d.dedup_key)
                .fetch_optional(&mut *tx)
                .await?;
            if let Some(row) = existing {
                let id: i64 = row.try_get("id")?;
                sqlx::query(
                    "UPDATE alerts SET count = count + $1, \
                     first_seen = CASE WHEN $2 < first_seen THEN $2 ELSE first_seen END, \
                     last_seen = CASE WHEN $3 > last_seen THEN $3 ELSE last_seen END, \
                     severity = CASE WHEN $4 > severity THEN $4 ELSE severity END, updated_at = $5 WHERE id = $6",
                )
                .bind(d.count)
                .bind(&first)
                .bind(&last)
                .bind(d.severity)
                .bind(&now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
                out.updated += 1;
            } else {
                // Intel alerts may come without a category: the indicator's.
                let mut category = d.category.clone();
                let mut severity = d.severity;
                if category.is_empty() {
                    if let Some(id) = d.indicator_id {
                        let row = sqlx::query("SELECT category FROM intel_indicators WHERE id = $1")
                            .bind(id)
                            .fetch_optional(&mut *tx)
                            .await?;
                        if let Some(row) = row {
                            category = row.try_get("category")?;
                        }
                    }
                    if category.is_empty() {
                        category = "other".to_owned();
                    }
                }
                if severity <= 0 {
                    severity = severity_of_category(&category);
                }
                let alert_id: i64 = sqlx::query(
                    "INSERT INTO alerts (dedup_key, rule, category, severity, victim, indicator_id, indicator, \
                     match_how, field, observed, score, reason, count, first_seen, last_seen, sensor, evidence, \
                     status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, \
                     (SELECT id FROM intel_indicators WHERE id = $6), $7, $8, $9, $10, $11, $12, $13, $14, $15, \
                     $16, $17, 'new', $18, $18) RETURNING id",
                )
                .bind(&d.dedup_key)
                .bind(&d.rule)
                .bind(&category)
                .bind(severity)
                .bind(&d.victim)
                .bind(d.indicator_id)
                .bind(&d.indicator)
                .bind(&d.match_how)
                .bind(&d.field)
                .bind(&d.observed)
                .bind(d.score)
                .bind(&d.reason)
                .bind(d.count)
                .bind(&first)
                .bind(&last)
                .bind(&d.sensor)
                .bind(&d.evidence)
                .bind(&now)
                .fetch_one(&mut *tx)
                .await?
                .try_get("id")?;
                let new_alert = crate::notifications::NewAlert {
                    id: alert_id,
                    rule: &d.rule,
                    category: &category,
                    severity,
                    indicator: &d.indicator,
                    sensor: &d.sensor,
                };
                crate::notifications::alert_created(&mut tx, &notify_rules, &new_alert, &now).await?;
                out.new += 1;
            }
            sqlx::query(
                "INSERT INTO alert_hours (hour, category, events) VALUES ($1, \
                 (SELECT category FROM alerts WHERE dedup_key = $2), $3) \
                 ON CONFLICT (hour, category) DO UPDATE SET events = alert_hours.events + excluded.events",
            )
            .bind(hour_of(d.first_seen))
            .bind(&d.dedup_key)
            .bind(d.count)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(out)
    }

    /// Alerts matching `filter`, most recently seen first.
    pub async fn alerts(&self, filter: &AlertFilter, offset: i64, limit: i64) -> Result<Vec<StoredAlert>> {
        let mut sql = filter_sql(filter);
        sql.text = format!("SELECT * FROM alerts{} ORDER BY last_seen DESC, id DESC", sql.text);
        sql.push(&format!(" LIMIT {} OFFSET {}", limit.clamp(1, 10_000), offset.max(0)));
        let rows = sql.query().fetch_all(self.pool()).await?;
        rows.iter().map(alert_of).collect()
    }

    pub async fn alert_count(&self, filter: &AlertFilter) -> Result<i64> {
        let mut sql = filter_sql(filter);
        sql.text = format!("SELECT COUNT(*) AS n FROM alerts{}", sql.text);
        Ok(sql.query().fetch_one(self.pool()).await?.try_get("n")?)
    }

    /// The alerts linked to an incident, in id order, at most `limit`.
    pub async fn incident_alerts(&self, incident_id: i64, limit: i64) -> Result<Vec<StoredAlert>> {
        let rows = sqlx::query(
            "SELECT a.* FROM alerts a JOIN incident_alerts l ON l.alert_id = a.id \
             WHERE l.incident_id = $1 ORDER BY a.id LIMIT $2",
        )
        .bind(incident_id)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(alert_of).collect()
    }

    pub async fn alert(&self, id: i64) -> Result<StoredAlert> {
        let row = sqlx::query("SELECT * FROM alerts WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| StoreError::not_found("alert", id))?;
        alert_of(&row)
    }

    /// The id of the alert with `dedup_key`, if there is one.
    pub async fn alert_id_by_key(&self, dedup_key: &str) -> Result<Option<i64>> {
        let row = sqlx::query("SELECT id FROM alerts WHERE dedup_key = $1")
            .bind(dedup_key)
            .fetch_optional(self.pool())
            .await?;
        Ok(match row {
            Some(r) => Some(r.try_get("id")?),
            None => None,
        })
    }

    /// Alert counts by status.
    pub async fn alert_status_counts(&self) -> Result<Vec<(String, i64)>> {
        let rows = sqlx::query("SELECT status, COUNT(*) AS n FROM alerts GROUP BY status ORDER BY status")
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(|r| Ok((r.try_get("status")?, r.try_get("n")?))).collect()
    }

    /// Infected subscribers: alerts grouped by victim, most recent first.
    pub async fn alert_victims(&self, filter: &AlertFilter, limit: i64) -> Result<Vec<Victim>> {
        let mut sql = filter_sql(filter);
        sql.text = format!(
            "SELECT victim, COUNT(*) AS alerts, CAST(SUM(count) AS BIGINT) AS events, MAX(severity) AS max_severity, \
             MIN(first_seen) AS first_seen, MAX(last_seen) AS last_seen FROM alerts{} GROUP BY victim \
             ORDER BY MAX(last_seen) DESC",
            sql.text
        );
        sql.push(&format!(" LIMIT {}", limit.clamp(1, 10_000)));
        let rows = sql.query().fetch_all(self.pool()).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let victim: String = r.try_get("victim")?;
            let cats = sqlx::query("SELECT DISTINCT category FROM alerts WHERE victim = $1 ORDER BY category")
                .bind(&victim)
                .fetch_all(self.pool())
                .await?;
            let categories: Vec<String> = cats.iter().filter_map(|c| c.try_get("category").ok()).collect();
            out.push(Victim {
                victim,
                alerts: r.try_get("alerts")?,
                events: r.try_get("events")?,
                max_severity: r.try_get("max_severity")?,
                categories: categories.join(","),
                first_seen: ts_col(r, "first_seen")?,
                last_seen: ts_col(r, "last_seen")?,
            });
        }
        Ok(out)
    }

    /// Detections per hour and category since `since` (hour buckets
    /// `YYYY-MM-DDTHH`), oldest first.
    pub async fn alert_hours(&self, since: Timestamp) -> Result<Vec<(String, String, i64)>> {
        let rows =
            sqlx::query("SELECT hour, category, events FROM alert_hours WHERE hour >= $1 ORDER BY hour, category")
                .bind(hour_of(since))
                .fetch_all(self.pool())
                .await?;
        rows.iter().map(|r| Ok((r.try_get("hour")?, r.try_get("category")?, r.try_get("events")?))).collect()
    }

    /// Sets an alert's status (audited).
    pub async fn set_alert_status(&self, actor: &Actor, id: i64, status: &str) -> Result<StoredAlert> {
        self.set_alert_status_allowlisting(actor, id, status, false).await
    }

    /// Sets an alert's status (audited); with `allowlist` and status
    /// `false_positive`, also adds the alert's indicator value to the
    /// [`FALSE_POSITIVE_ALLOWLIST`] (created on first use, audited as an
    /// allowlist change), so the detection index stops matching it at its
    /// next refresh.
    pub async fn set_alert_status_allowlisting(
        &self,
        actor: &Actor,
        id: i64,
        status: &str,
        allowlist: bool,
    ) -> Result<StoredAlert> {
        check_status(status)?;
        if allowlist && status != "false_positive" {
            return Err(Invalid::field("allowlist", "only with status false_positive").into());
        }
        let before = self.alert(id).await?;
        if allowlist {
            let value = before.indicator.trim();
            if value.is_empty() || value.contains(['\n', '\r']) {
                return Err(Invalid::field("allowlist", "the alert names no indicator value to allowlist").into());
            }
            let list = self.intel_allowlists().await?.into_iter().find(|l| l.name == FALSE_POSITIVE_ALLOWLIST);
            let (list_type, description, mut entries, enabled) = match list {
                Some(l) => (l.list_type, l.description, l.entries, l.enabled),
                None => (
                    "string".to_owned(),
                    "Indicator values of alerts marked false positive".to_owned(),
                    Vec::new(),
                    true,
                ),
            };
            if !entries.iter().any(|e| e == value) {
                entries.push(value.to_owned());
                self.intel_save_allowlist(actor, FALSE_POSITIVE_ALLOWLIST, &list_type, &description, &entries, enabled)
                    .await?;
            }
        }
        let now = self.now_text();
        let mut tx = self.write_tx().await?;
        sqlx::query("UPDATE alerts SET status = $1, updated_at = $2 WHERE id = $3")
            .bind(status)
            .bind(&now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let mut after = serde_json::json!({"status": status});
        if allowlist {
            after["allowlisted"] = serde_json::Value::String(before.indicator.clone());
        }
        append(
            &mut tx,
            &now,
            actor,
            "alert.status",
            "alert",
            &id.to_string(),
            None,
            Some(&serde_json::json!({"status": before.status})),
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        self.alert(id).await
    }

    /// Assigns an alert to an active user, or unassigns it with an empty
    /// name (audited).
    pub async fn assign_alert(&self, actor: &Actor, id: i64, assignee: &str) -> Result<StoredAlert> {
        let assignee = assignee.trim();
        let now = self.now_text();
        let mut tx = self.write_tx().await?;
        let (_, before) = triage_state(&mut tx, id).await?;
        check_assignee(&mut tx, assignee).await?;
        sqlx::query("UPDATE alerts SET assignee = $1, updated_at = $2 WHERE id = $3")
            .bind(assignee)
            .bind(&now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        append(
            &mut tx,
            &now,
            actor,
            "alert.assign",
            "alert",
            &id.to_string(),
            None,
            Some(&serde_json::json!({"assignee": before})),
            Some(&serde_json::json!({"assignee": assignee})),
        )
        .await?;
        tx.commit().await?;
        self.alert(id).await
    }

    /// Sets status and/or assignee of many alerts in one transaction, one
    /// audit entry per alert (`alert.bulk`). All or nothing: an unknown id,
    /// status or assignee changes none. Returns how many alerts changed.
    pub async fn bulk_triage_alerts(&self, actor: &Actor, change: &BulkTriage) -> Result<u64> {
        if change.ids.is_empty() || change.ids.len() > MAX_BULK_ALERTS {
            return Err(Invalid::field("ids", format!("1 to {MAX_BULK_ALERTS} alert ids")).into());
        }
        if change.status.is_none() && change.assignee.is_none() {
            return Err(Invalid::field("status", "a status or an assignee to set").into());
        }
        if let Some(s) = &change.status {
            check_status(s)?;
        }
        let assignee = change.assignee.as_deref().map(str::trim);
        let mut ids = change.ids.clone();
        ids.sort_unstable();
        ids.dedup();
        let now = self.now_text();
        let mut tx = self.write_tx().await?;
        if let Some(a) = assignee {
            check_assignee(&mut tx, a).await?;
        }
        let mut batch = AuditBatch::start(&mut tx).await?;
        let mut changed = 0;
        for id in ids {
            let (status_before, assignee_before) = triage_state(&mut tx, id).await?;
            let status = change.status.clone().unwrap_or_else(|| status_before.clone());
            let who = assignee.map_or_else(|| assignee_before.clone(), str::to_owned);
            if status == status_before && who == assignee_before {
                continue;
            }
            sqlx::query("UPDATE alerts SET status = $1, assignee = $2, updated_at = $3 WHERE id = $4")
                .bind(&status)
                .bind(&who)
                .bind(&now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            batch
                .append(
                    &mut tx,
                    &now,
                    actor,
                    "alert.bulk",
                    "alert",
                    &id.to_string(),
                    None,
                    Some(&serde_json::json!({"status": status_before, "assignee": assignee_before})),
                    Some(&serde_json::json!({"status": status, "assignee": who})),
                )
                .await?;
            changed += 1;
        }
        tx.commit().await?;
        Ok(changed)
    }

    /// Records what was done about an alert (audited).
    pub async fn add_alert_action(&self, actor: &Actor, id: i64, action: &str, detail: &str) -> Result<AlertAction> {
        let system = actor.channel == "system" && SYSTEM_ALERT_ACTIONS.contains(&action);
        if !ALERT_ACTIONS.contains(&action) && !system {
            return Err(Invalid::field("action", format!("one of {}", ALERT_ACTIONS.join(", "))).into());
        }
        if detail.len() > 4000 || detail.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
            return Err(Invalid::field("detail", "at most 4000 characters, no control characters").into());
        }
        self.alert(id).await?;
        let now = self.now_text();
        let mut tx = self.write_tx().await?;
        let row = sqlx::query(
            "INSERT INTO alert_actions (alert_id, action, detail, actor, created_at) VALUES ($1, $2, $3, $4, $5) \
             RETURNING id",
        )
        .bind(id)
        .bind(action)
        .bind(detail.trim())
        .bind(&actor.name)
        .bind(&now)
        .fetch_one(&mut *tx)
        .await?;
        let action_id: i64 = row.try_get("id")?;
        append(
            &mut tx,
            &now,
            actor,
            "alert.action",
            "alert",
            &id.to_string(),
            None,
            None,
            Some(&serde_json::json!({"action": action, "detail": detail.trim()})),
        )
        .await?;
        tx.commit().await?;
        let row =
            sqlx::query("SELECT * FROM alert_actions WHERE id = $1").bind(action_id).fetch_one(self.pool()).await?;
        action_of(&row)
    }

    pub async fn alert_actions(&self, id: i64) -> Result<Vec<AlertAction>> {
        let rows = sqlx::query("SELECT * FROM alert_actions WHERE alert_id = $1 ORDER BY id")
            .bind(id)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(action_of).collect()
    }

    /// Per category, alerts last seen since `since`, how many of them have a
    /// disposal action (blocklisted, rpz, sinkholed, notified), and how many
    /// subscribers were notified: the monitoring-and-disposal evidence.
    pub async fn alert_disposal_summary(&self, since: Timestamp) -> Result<Vec<(String, i64, i64, i64)>> {
        let rows = sqlx::query(
            "SELECT a.category, COUNT(*) AS alerts, \
             CAST(SUM(CASE WHEN EXISTS (SELECT 1 FROM alert_actions x WHERE x.alert_id = a.id \
               AND x.action IN ('blocklisted', 'rpz', 'sinkholed', 'notified')) THEN 1 ELSE 0 END) AS BIGINT) AS disposed, \
             CAST(SUM(CASE WHEN EXISTS (SELECT 1 FROM alert_actions x WHERE x.alert_id = a.id \
               AND x.action = 'notified') THEN 1 ELSE 0 END) AS BIGINT) AS notified \
             FROM alerts a WHERE a.last_seen >= $1 GROUP BY a.category ORDER BY a.category",
        )
        .bind(format_ts(since))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("category")?, r.try_get("alerts")?, r.try_get("disposed")?, r.try_get("notified")?)))
            .collect()
    }

    /// What our detection saw of each indicator, for STIX sightings (R8.5):
    /// indicator id → (detections, first seen, last seen), over its alerts
    /// not dismissed as false positives. Subscribers are not part of it.
    pub async fn alert_sightings(&self) -> Result<std::collections::HashMap<i64, (i64, Timestamp, Timestamp)>> {
        let rows = sqlx::query(
            "SELECT indicator_id, CAST(SUM(count) AS BIGINT) AS n, MIN(first_seen) AS first_seen, \
             MAX(last_seen) AS last_seen FROM alerts WHERE indicator_id IS NOT NULL AND status <> 'false_positive' \
             GROUP BY indicator_id",
        )
        .fetch_all(self.pool())
        .await?;
        let mut out = std::collections::HashMap::with_capacity(rows.len());
        for r in &rows {
            let id: i64 = r.try_get("indicator_id")?;
            out.insert(id, (r.try_get("n")?, ts_col(r, "first_seen")?, ts_col(r, "last_seen")?));
        }
        Ok(out)
    }

    /// Adds a suppression rule (audited). At least one condition, an
    /// expiry in the future and a reason are required.
    pub async fn create_alert_suppression(&self, actor: &Actor, new: &NewSuppression) -> Result<AlertSuppression> {
        let clean = |s: &str| s.trim().to_owned();
        let (rule, category, victim_prefix) = (clean(&new.rule), clean(&new.category), clean(&new.victim_prefix));
        let pattern = new.indicator_pattern.trim().to_ascii_lowercase();
        let src_cidr = clean_cidr("src_cidr", &new.src_cidr)?;
        let dst_cidr = clean_cidr("dst_cidr", &new.dst_cidr)?;
        for (field, v) in [
            ("rule", &rule),
            ("category", &category),
            ("victim_prefix", &victim_prefix),
            ("indicator_pattern", &pattern),
        ] {
            if v.len() > 500 || v.chars().any(char::is_control) {
                return Err(Invalid::field(field, "at most 500 characters, no control characters").into());
            }
        }
        if rule.is_empty()
            && category.is_empty()
            && victim_prefix.is_empty()
            && pattern.trim_matches('*').is_empty()
            && src_cidr.is_empty()
            && dst_cidr.is_empty()
        {
            return Err(Invalid::field(
                "rule",
                "at least one condition: rule, category, victim prefix, indicator pattern, source or destination \
                 network",
            )
            .into());
        }
        let reason = new.reason.trim();
        if reason.is_empty() || reason.len() > 2000 {
            return Err(Invalid::field("reason", "a reason of 1–2000 characters").into());
        }
        let now = self.clock().now();
        let until = match new.until {
            Some(t) if t > now => t,
            _ => return Err(Invalid::field("until", "an expiry in the future").into()),
        };
        let now_text = format_ts(now);
        let mut tx = self.write_tx().await?;
        let row = sqlx::query(
            "INSERT INTO alert_suppressions (rule, category, victim_prefix, indicator_pattern, src_cidr, dst_cidr, \
             until, reason, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        )
        .bind(&rule)
        .bind(&category)
        .bind(&victim_prefix)
        .bind(&pattern)
        .bind(&src_cidr)
        .bind(&dst_cidr)
        .bind(format_ts(until))
        .bind(reason)
        .bind(&actor.name)
        .bind(&now_text)
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = row.try_get("id")?;
        let row = sqlx::query("SELECT * FROM alert_suppressions WHERE id = $1").bind(id).fetch_one(&mut *tx).await?;
        let created = suppression_of(&row)?;
        let after = serde_json::to_value(&created).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        append(
            &mut tx,
            &now_text,
            actor,
            "alert.suppression.create",
            "alert_suppression",
            &id.to_string(),
            None,
            None,
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(created)
    }

    /// Suppression rules, those still in force first, newest first.
    pub async fn alert_suppressions(&self) -> Result<Vec<AlertSuppression>> {
        let rows =
            sqlx::query("SELECT * FROM alert_suppressions ORDER BY until DESC, id DESC").fetch_all(self.pool()).await?;
        rows.iter().map(suppression_of).collect()
    }

    /// Removes a suppression rule (audited).
    pub async fn delete_alert_suppression(&self, actor: &Actor, id: i64) -> Result<()> {
        let now = self.now_text();
        let mut tx = self.write_tx().await?;
        let row = sqlx::query("SELECT * FROM alert_suppressions WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::not_found("alert suppression", id))?;
        let before = serde_json::to_value(suppression_of(&row)?).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        sqlx::query("DELETE FROM alert_suppressions WHERE id = $1").bind(id).execute(&mut *tx).await?;
        append(
            &mut tx,
            &now,
            actor,
            "alert.suppression.delete",
            "alert_suppression",
            &id.to_string(),
            None,
            Some(&before),
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Forgets applied bus sequence numbers older than `before` (the bus
    /// will not redeliver them).
    pub async fn prune_bus_applied(&self, before: Timestamp) -> Result<u64> {
        let done =
            sqlx::query("DELETE FROM bus_applied WHERE at < $1").bind(format_ts(before)).execute(self.pool()).await?;
        Ok(done.rows_affected())
    }
}

#[cfg(test)]
mod tests {
    use super::glob;

    #[test]
    fn globs_match_whole_values() {
        assert!(glob("*.cdn.example", "a.b.cdn.example"));
        assert!(!glob("*.cdn.example", "cdn.example"));
        assert!(glob("evil.example", "evil.example"));
        assert!(!glob("evil.example", "evil.example.org"));
        assert!(glob("a*b*c", "aXXbYYc"));
        assert!(!glob("a*b*c", "aXXc"));
        assert!(glob("*", ""));
        assert!(!glob("ab*ba", "aba"), "the parts may not overlap");
    }
}
