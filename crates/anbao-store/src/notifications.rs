//! Notifications (issue #7): channels an admin configures, rules saying which
//! events notify which channel, and the delivery queue in which every
//! notification is recorded with its attempts and outcome.
//!
//! Events are queued in the same transaction as the change that causes them
//! (an incident opened or raised, a new alert), so a notification is never
//! lost nor sent for a change that rolled back. Reporting-deadline events
//! come from [`Store::scan_notify_deadlines`], run periodically. Each queued
//! row has a `dedup_key`, so a scan repeated by several nodes queues a
//! deadline warning once. Delivery itself (HTTP, SMTP) is I/O done by the
//! caller, which claims due rows and records the outcome here; the store
//! decides the retry schedule.
//!
//! A channel's settings, secrets included (SMTP password, HMAC secret,
//! robot URLs, whose tokens are credentials), are sealed as one JSON text;
//! only the `target` display text is stored in the clear, and neither the
//! audit log nor any listing carries the sealed part.

use anbao_model::Timestamp;
use anbao_model::clock::{format_ts, parse_ts};
use anbao_model::incident::IncidentLevel;
use anbao_model::validate::{self, Invalid};
use serde::Serialize;
use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::audit::append;
use crate::incidents::Incident;
use crate::{Actor, Result, Store, StoreError, WriteTx};

/// The kinds of channel a notification can go out through.
pub const NOTIFY_CHANNEL_KINDS: &[&str] = &["email", "webhook", "wecom", "dingtalk", "feishu"];

/// The events a rule can subscribe to.
pub const NOTIFY_EVENTS: &[&str] = &[
    "incident_opened",
    "incident_level_raised",
    "deadline_approaching",
    "deadline_passed",
    "alert",
    "warning_issued",
    "warning_adjusted",
    "warning_lifted",
    "incident_leak_duty",
];

/// Waits before the 2nd, 3rd, … attempt, in minutes; after the last entry the
/// notification is given up ([`NOTIFY_MAX_ATTEMPTS`] attempts in all).
pub const NOTIFY_BACKOFF_MINUTES: &[i64] = &[1, 5, 15, 60];

/// Attempts before a notification is marked `failed`.
pub const NOTIFY_MAX_ATTEMPTS: i64 = NOTIFY_BACKOFF_MINUTES.len() as i64 + 1;

/// How long a claimed notification is left to its sender before another
/// worker may take it again (a sender that died mid-way).
pub const NOTIFY_CLAIM_LEASE: time::Duration = time::Duration::minutes(5);

/// A channel as listed: never its sealed settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotifyChannel {
    pub id: i64,
    pub name: String,
    pub kind: String,
    /// Where it goes, without secrets (SMTP server and recipients, URL host).
    pub target: String,
    pub enabled: bool,
    pub created_at: String,
    pub updated_at: String,
}

/// A channel to create or replace. `settings` is kept sealed; the store
/// does not interpret it (the sender does).
#[derive(Debug, Clone)]
pub struct NotifyChannelDraft {
    pub name: String,
    pub kind: String,
    pub target: String,
    /// `None` on update keeps the stored settings (a form that does not
    /// echo secrets leaves them blank).
    pub settings: Option<serde_json::Value>,
    pub enabled: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotifyRule {
    pub id: i64,
    pub channel_id: i64,
    pub channel_name: String,
    pub event: String,
    /// Incident events: the lowest incident level that notifies.
    pub min_level: IncidentLevel,
    /// `alert`: the lowest severity (1 low … 4 critical) that notifies.
    pub min_severity: i64,
    /// `deadline_approaching`: how many minutes before the deadline.
    pub minutes_before: i64,
    pub enabled: bool,
    pub created_at: String,
}

#[derive(Debug, Clone)]
pub struct NotifyRuleDraft {
    pub channel_id: i64,
    pub event: String,
    pub min_level: IncidentLevel,
    pub min_severity: i64,
    pub minutes_before: i64,
    pub enabled: bool,
}

/// One notification and where its delivery stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notification {
    pub id: i64,
    pub channel_id: i64,
    pub channel_name: String,
    pub channel_kind: String,
    pub rule_id: Option<i64>,
    pub event: String,
    pub subject: String,
    pub body: String,
    /// The event's facts as JSON (what webhooks receive).
    pub payload: String,
    /// `pending`, `sent` or `failed`.
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: String,
    pub last_error: String,
    pub created_at: String,
    pub sent_at: Option<String>,
}

/// A claimed notification with its channel's unsealed settings, for the sender.
#[derive(Debug, Clone)]
pub struct NotificationDue {
    pub notification: Notification,
    pub settings: serde_json::Value,
}

fn channel_of(r: &AnyRow) -> Result<NotifyChannel> {
    Ok(NotifyChannel {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        kind: r.try_get("kind")?,
        target: r.try_get("target")?,
        enabled: r.try_get::<i64, _>("enabled")? != 0,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

fn rule_of(r: &AnyRow) -> Result<NotifyRule> {
    let level: String = r.try_get("min_level")?;
    Ok(NotifyRule {
        id: r.try_get("id")?,
        channel_id: r.try_get("channel_id")?,
        channel_name: r.try_get("channel_name")?,
        event: r.try_get("event")?,
        min_level: level.parse().map_err(|e| StoreError::Corrupt(format!("notify rule min_level: {e}")))?,
        min_severity: r.try_get("min_severity")?,
        minutes_before: r.try_get("minutes_before")?,
        enabled: r.try_get::<i64, _>("enabled")? != 0,
        created_at: r.try_get("created_at")?,
    })
}

fn notification_of(r: &AnyRow) -> Result<Notification> {
    Ok(Notification {
        id: r.try_get("id")?,
        channel_id: r.try_get("channel_id")?,
        channel_name: r.try_get("channel_name")?,
        channel_kind: r.try_get("channel_kind")?,
        rule_id: r.try_get("rule_id")?,
        event: r.try_get("event")?,
        subject: r.try_get("subject")?,
        body: r.try_get("body")?,
        payload: r.try_get("payload")?,
        status: r.try_get("status")?,
        attempts: r.try_get("attempts")?,
        next_attempt_at: r.try_get("next_attempt_at")?,
        last_error: r.try_get("last_error")?,
        created_at: r.try_get("created_at")?,
        sent_at: r.try_get("sent_at")?,
    })
}

const RULE_SELECT: &str = "SELECT r.*, c.name AS channel_name FROM notify_rules r \
                           JOIN notify_channels c ON c.id = r.channel_id";
const NOTIFICATION_SELECT: &str = "SELECT n.*, c.name AS channel_name, c.kind AS channel_kind FROM notifications n \
                                   JOIN notify_channels c ON c.id = n.channel_id";

fn check_channel(d: &NotifyChannelDraft) -> Result<(), Invalid> {
    validate::label("name", &d.name)?;
    if !NOTIFY_CHANNEL_KINDS.contains(&d.kind.as_str()) {
        return Err(Invalid::field("kind", format!("use one of {}", NOTIFY_CHANNEL_KINDS.join(", "))));
    }
    crate::incidents::long_text("target", &d.target, false)?;
    Ok(())
}

fn check_rule(d: &NotifyRuleDraft) -> Result<(), Invalid> {
    if !NOTIFY_EVENTS.contains(&d.event.as_str()) {
        return Err(Invalid::field("event", format!("use one of {}", NOTIFY_EVENTS.join(", "))));
    }
    if !(0..=4).contains(&d.min_severity) {
        return Err(Invalid::field("min_severity", "must be 0 to 4"));
    }
    if !(0..=10_080).contains(&d.minutes_before) {
        return Err(Invalid::field("minutes_before", "must be 0 to 10080 (a week)"));
    }
    if d.event == "deadline_approaching" && d.minutes_before == 0 {
        return Err(Invalid::field("minutes_before", "must be more than 0 for deadline_approaching"));
    }
    Ok(())
}

/// When the attempt after `attempts` failed ones is due, or `None` to give up.
pub fn notify_retry_after(attempts: i64) -> Option<time::Duration> {
    let index = usize::try_from(attempts.checked_sub(1)?).ok()?;
    NOTIFY_BACKOFF_MINUTES.get(index).map(|m| time::Duration::minutes(*m))
}

/// What a queued notification says, before it is matched to rules.
pub(crate) struct Event {
    pub(crate) event: &'static str,
    /// Unique per event occurrence; the rule id is prefixed per rule.
    pub(crate) key: String,
    pub(crate) subject: String,
    pub(crate) body: String,
    pub(crate) payload: serde_json::Value,
}

pub(crate) fn incident_payload(i: &Incident) -> serde_json::Value {
    json!({
        "id": i.id,
        "title": i.title,
        "type": i.incident_type,
        "level": i.level,
        "status": i.status,
        "discovered_at": i.discovered_at,
        "report_by": i.report_by,
        "report_immediately": i.report_immediately,
    })
}

pub(crate) fn incident_lines(i: &Incident) -> String {
    let deadline = match (&i.report_by, i.report_immediately) {
        (Some(by), _) => by.clone(),
        (None, true) => "立即 / immediately".to_owned(),
        (None, false) => "-".to_owned(),
    };
    format!(
        "事件 Incident #{id}: {title}\n级别 Level: {level} ({zh})\n类型 Type: {ty}\n发现 Discovered: {disc}\n报告时限 Report by: {deadline}",
        id = i.id,
        title = i.title,
        level = i.level,
        zh = i.level.zh(),
        ty = i.incident_type,
        disc = i.discovered_at,
    )
}

/// Queues `event` for every enabled rule it passes, inside the caller's
/// transaction. Returns how many notifications were queued.
pub(crate) async fn enqueue(
    tx: &mut WriteTx,
    e: &Event,
    passes: impl Fn(&NotifyRule) -> bool,
    now: &str,
) -> Result<u64> {
    let rules = rules_for(tx, e.event).await?;
    enqueue_for(tx, &rules, e, passes, now).await
}

/// The enabled rules on `event` whose channel is enabled.
pub(crate) async fn rules_for(tx: &mut WriteTx, event: &str) -> Result<Vec<NotifyRule>> {
    sqlx::query(&format!("{RULE_SELECT} WHERE r.event = $1 AND r.enabled = 1 AND c.enabled = 1"))
        .bind(event.to_owned())
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(rule_of)
        .collect()
}

async fn enqueue_for(
    tx: &mut WriteTx,
    rules: &[NotifyRule],
    e: &Event,
    passes: impl Fn(&NotifyRule) -> bool,
    now: &str,
) -> Result<u64> {
    let payload = json!({ "event": e.event, "subject": e.subject, "data": e.payload }).to_string();
    let mut queued = 0;
    for rule in rules.iter().filter(|r| passes(r)) {
        queued += sqlx::query(
            "INSERT INTO notifications (channel_id, rule_id, event, dedup_key, subject, body, payload, status, \
             attempts, next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', 0, $8, $8) \
             ON CONFLICT (dedup_key) DO NOTHING",
        )
        .bind(rule.channel_id)
        .bind(rule.id)
        .bind(e.event)
        .bind(format!("rule:{}:{}", rule.id, e.key))
        .bind(&e.subject)
        .bind(&e.body)
        .bind(&payload)
        .bind(now)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    }
    Ok(queued)
}

/// An incident was opened: rules on `incident_opened` at or below its level.
pub(crate) async fn incident_opened(tx: &mut WriteTx, i: &Incident, now: &str) -> Result<u64> {
    let e = Event {
        event: "incident_opened",
        key: format!("incident:{}:opened", i.id),
        subject: format!("[anbao] 新事件 Incident opened #{}: {} ({})", i.id, i.title, i.level),
        body: incident_lines(i),
        payload: incident_payload(i),
    };
    enqueue(tx, &e, |r| i.level >= r.min_level, now).await
}

/// The level in force went up from `before`: rules on `incident_level_raised`.
pub(crate) async fn incident_level_changed(
    tx: &mut WriteTx,
    before: IncidentLevel,
    i: &Incident,
    now: &str,
) -> Result<u64> {
    if i.level <= before {
        return Ok(0);
    }
    let e = Event {
        event: "incident_level_raised",
        key: format!("incident:{}:level:{}", i.id, i.level),
        subject: format!("[anbao] 事件升级 Incident level raised #{}: {before} → {}", i.id, i.level),
        body: format!("{before} → {}\n{}", i.level, incident_lines(i)),
        payload: incident_payload(i),
    };
    enqueue(tx, &e, |r| i.level >= r.min_level, now).await
}

/// What happened to a warning.
#[derive(Debug, Clone, Copy)]
pub(crate) enum WarningEvent {
    Issued,
    Adjusted,
    Lifted,
}

/// A warning was issued, adjusted or lifted: every rule on the matching
/// event (rule levels and severities are incident and alert measures, so
/// they do not filter warnings). `history_id`: the step's history row;
/// `note`: the changes, or the lift reason.
pub(crate) async fn warning_event(
    tx: &mut WriteTx,
    kind: WarningEvent,
    history_id: i64,
    w: &crate::warnings::Warning,
    note: &str,
    now: &str,
) -> Result<u64> {
    let (event, zh, en) = match kind {
        WarningEvent::Issued => ("warning_issued", "发布预警", "Warning issued"),
        WarningEvent::Adjusted => ("warning_adjusted", "调整预警", "Warning adjusted"),
        WarningEvent::Lifted => ("warning_lifted", "解除预警", "Warning lifted"),
    };
    let mut body = format!(
        "预警 Warning #{id}: {title}\n级别 Level: {level} ({lz})\n地区 Regions: {regions}\n要求措施 Required actions: {actions}",
        id = w.id,
        title = w.title,
        level = w.level,
        lz = w.level.zh(),
        regions = w.scope_regions.join(", "),
        actions = w.required_actions,
    );
    if !note.is_empty() {
        body.push_str(&format!("\n说明 Note: {note}"));
    }
    let e = Event {
        event,
        // One history row per step: its id tells adjustments apart.
        key: format!("warning:{}:{event}:{history_id}", w.id),
        subject: format!("[anbao] {zh} {en} #{}: {} ({})", w.id, w.title, w.level),
        body,
        payload: json!({
            "id": w.id, "level": w.level, "title": w.title, "status": w.status,
            "scope_regions": w.scope_regions, "scope_asset_types": w.scope_asset_types,
            "required_actions": w.required_actions, "note": note,
        }),
    };
    enqueue(tx, &e, |_| true, now).await
}

/// What the `alert` event says about a new alert. Not the victim: that is a
/// subscriber's address, personal information that stays in anbao.
pub(crate) struct NewAlert<'a> {
    pub id: i64,
    pub rule: &'a str,
    pub category: &'a str,
    pub severity: i64,
    pub indicator: &'a str,
    pub sensor: &'a str,
}

/// `rules`: [`rules_for`] `"alert"`, read once per batch of detections
/// (the detection pipeline's hot path), not once per alert.
pub(crate) async fn alert_created(tx: &mut WriteTx, rules: &[NotifyRule], a: &NewAlert<'_>, now: &str) -> Result<u64> {
    if !rules.iter().any(|r| a.severity >= r.min_severity) {
        return Ok(0);
    }
    let e = Event {
        event: "alert",
        key: format!("alert:{}", a.id),
        subject: format!("[anbao] 告警 Alert #{} severity {}: {} {}", a.id, a.severity, a.category, a.indicator),
        body: format!(
            "告警 Alert #{id}\n严重度 Severity: {sev}\n类别 Category: {cat}\n规则 Rule: {rule}\n指标 Indicator: {ind}\n传感器 Sensor: {sensor}",
            id = a.id,
            sev = a.severity,
            cat = a.category,
            rule = a.rule,
            ind = a.indicator,
            sensor = a.sensor,
        ),
        payload: json!({
            "id": a.id, "rule": a.rule, "category": a.category, "severity": a.severity,
            "indicator": a.indicator, "sensor": a.sensor,
        }),
    };
    enqueue_for(tx, rules, &e, |r| a.severity >= r.min_severity, now).await
}

impl Store {
    pub async fn list_notify_channels(&self) -> Result<Vec<NotifyChannel>> {
        let rows = sqlx::query("SELECT * FROM notify_channels ORDER BY name").fetch_all(self.pool()).await?;
        rows.iter().map(channel_of).collect()
    }

    pub async fn get_notify_channel(&self, id: i64) -> Result<NotifyChannel> {
        let row =
            sqlx::query("SELECT * FROM notify_channels WHERE id = $1").bind(id).fetch_optional(self.pool()).await?;
        channel_of(&row.ok_or_else(|| StoreError::not_found("notification channel", id))?)
    }

    /// The channel's unsealed settings, for the sender and for tests; never
    /// for a response.
    pub async fn notify_channel_settings(&self, id: i64) -> Result<serde_json::Value> {
        let row = sqlx::query("SELECT sealed FROM notify_channels WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| StoreError::not_found("notification channel", id))?;
        let plain = self.sealer().open(&row.try_get::<String, _>("sealed")?)?;
        serde_json::from_str(&plain).map_err(|e| StoreError::Corrupt(format!("notification channel settings: {e}")))
    }

    fn audit_view(c: &NotifyChannel) -> serde_json::Value {
        json!({ "name": c.name, "kind": c.kind, "target": c.target, "enabled": c.enabled })
    }

    pub async fn create_notify_channel(&self, actor: &Actor, d: &NotifyChannelDraft) -> Result<NotifyChannel> {
        check_channel(d)?;
        let Some(settings) = &d.settings else {
            return Err(Invalid::field("settings", "required for a new channel").into());
        };
        let sealed = self.sealer().seal(&settings.to_string())?;
        let now = self.now_text();
        let mut tx = self.write_tx().await?;
        let id: i64 = sqlx::query(
            "INSERT INTO notify_channels (name, kind, target, sealed, enabled, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
        )
        .bind(d.name.trim().to_owned())
        .bind(&d.kind)
        .bind(d.target.trim().to_owned())
        .bind(sealed)
        .bind(i64::from(d.enabled))
        .bind(&now)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| StoreError::unique_or(e, || format!("a channel named {:?} exists", d.name.trim())))?
        .try_get("id")?;
        let row = sqlx::query("SELECT * FROM notify_channels WHERE id = $1").bind(id).fetch_one(&mut *tx).await?;
        let channel = channel_of(&row)?;
        let view = Self::audit_view(&channel);
        append(
            &mut tx,
            &now,
            actor,
            "notify_channel.create",
            "notify_channel",
            &id.to_string(),
            None,
            None,
            Some(&view),
        )
        .await?;
        tx.commit().await?;
        Ok(channel)
    }

    pub async fn update_notify_channel(&self, actor: &Actor, id: i64, d: &NotifyChannelDraft) -> Result<NotifyChannel> {
        check_channel(d)?;
        let before = self.get_notify_channel(id).await?;
        if before.kind != d.kind && d.settings.is_none() {
            return Err(Invalid::field("settings", "required when the kind changes").into());
        }
        let sealed = d.settings.as_ref().map(|s| self.sealer().seal(&s.to_string())).transpose()?;
        let now = self.now_text();
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "UPDATE notify_channels SET name = $1, kind = $2, target = $3, sealed = COALESCE($4, sealed), \
             enabled = $5, updated_at = $6 WHERE id = $7",
        )
        .bind(d.name.trim().to_owned())
        .bind(&d.kind)
        .bind(d.target.trim().to_owned())
        .bind(sealed)
        .bind(i64::from(d.enabled))
        .bind(&now)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(|e| StoreError::unique_or(e, || format!("a channel named {:?} exists", d.name.trim())))?;
        let row = sqlx::query("SELECT * FROM notify_channels WHERE id = $1").bind(id).fetch_one(&mut *tx).await?;
        let after = channel_of(&row)?;
        let mut view = Self::audit_view(&after);
        // Say that the secrets changed, never what they are.
        view["settings_replaced"] = json!(d.settings.is_some());
        append(
            &mut tx,
            &now,
            actor,
            "notify_channel.update",
            "notify_channel",
            &id.to_string(),
            None,
            Some(&Self::audit_view(&before)),
            Some(&view),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Deletes a channel with its rules and its notification records.
    pub async fn delete_notify_channel(&self, actor: &Actor, id: i64) -> Result<()> {
        let before = self.get_notify_channel(id).await?;
        let now = self.now_text();
        let mut tx = self.write_tx().await?;
        sqlx::query("DELETE FROM notifications WHERE channel_id = $1").bind(id).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM notify_rules WHERE channel_id = $1").bind(id).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM notify_channels WHERE id = $1").bind(id).execute(&mut *tx).await?;
        let view = Self::audit_view(&before);
        append(
            &mut tx,
            &now,
            actor,
            "notify_channel.delete",
            "notify_channel",
            &id.to_string(),
            None,
            Some(&view),
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn list_notify_rules(&self) -> Result<Vec<NotifyRule>> {
        let rows = sqlx::query(&format!("{RULE_SELECT} ORDER BY r.event, c.name, r.id")).fetch_all(self.pool()).await?;
        rows.iter().map(rule_of).collect()
    }

    pub async fn create_notify_rule(&self, actor: &Actor, d: &NotifyRuleDraft) -> Result<NotifyRule> {
        check_rule(d)?;
        let now = self.now_text();
        let mut tx = self.write_tx().await?;
        let channel = sqlx::query("SELECT id FROM notify_channels WHERE id = $1")
            .bind(d.channel_id)
            .fetch_optional(&mut *tx)
            .await?;
        if channel.is_none() {
            return Err(Invalid::field("channel_id", format!("channel {} does not exist", d.channel_id)).into());
        }
        let id: i64 = sqlx::query(
            "INSERT INTO notify_rules (channel_id, event, min_level, min_severity, minutes_before, enabled, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(d.channel_id)
        .bind(&d.event)
        .bind(d.min_level.as_str())
        .bind(d.min_severity)
        .bind(d.minutes_before)
        .bind(i64::from(d.enabled))
        .bind(&now)
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        let row = sqlx::query(&format!("{RULE_SELECT} WHERE r.id = $1")).bind(id).fetch_one(&mut *tx).await?;
        let rule = rule_of(&row)?;
        let view = serde_json::to_value(&rule).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        append(&mut tx, &now, actor, "notify_rule.create", "notify_rule", &id.to_string(), None, None, Some(&view))
            .await?;
        tx.commit().await?;
        Ok(rule)
    }

    /// Replaces a rule's channel, event, thresholds and `enabled` (a
    /// disabled rule queues nothing); audited with before and after.
    pub async fn update_notify_rule(&self, actor: &Actor, id: i64, d: &NotifyRuleDraft) -> Result<NotifyRule> {
        check_rule(d)?;
        let now = self.now_text();
        let mut tx = self.write_tx().await?;
        let row = sqlx::query(&format!("{RULE_SELECT} WHERE r.id = $1")).bind(id).fetch_optional(&mut *tx).await?;
        let before = rule_of(&row.ok_or_else(|| StoreError::not_found("notification rule", id))?)?;
        let channel = sqlx::query("SELECT id FROM notify_channels WHERE id = $1")
            .bind(d.channel_id)
            .fetch_optional(&mut *tx)
            .await?;
        if channel.is_none() {
            return Err(Invalid::field("channel_id", format!("channel {} does not exist", d.channel_id)).into());
        }
        sqlx::query(
            "UPDATE notify_rules SET channel_id = $1, event = $2, min_level = $3, min_severity = $4, \
             minutes_before = $5, enabled = $6 WHERE id = $7",
        )
        .bind(d.channel_id)
        .bind(&d.event)
        .bind(d.min_level.as_str())
        .bind(d.min_severity)
        .bind(d.minutes_before)
        .bind(i64::from(d.enabled))
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let row = sqlx::query(&format!("{RULE_SELECT} WHERE r.id = $1")).bind(id).fetch_one(&mut *tx).await?;
        let after = rule_of(&row)?;
        let view = |r: &NotifyRule| serde_json::to_value(r).map_err(|e| StoreError::Corrupt(e.to_string()));
        append(
            &mut tx,
            &now,
            actor,
            "notify_rule.update",
            "notify_rule",
            &id.to_string(),
            None,
            Some(&view(&before)?),
            Some(&view(&after)?),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    pub async fn delete_notify_rule(&self, actor: &Actor, id: i64) -> Result<()> {
        let row = sqlx::query(&format!("{RULE_SELECT} WHERE r.id = $1")).bind(id).fetch_optional(self.pool()).await?;
        let rule = rule_of(&row.ok_or_else(|| StoreError::not_found("notification rule", id))?)?;
        let now = self.now_text();
        let mut tx = self.write_tx().await?;
        sqlx::query("DELETE FROM notify_rules WHERE id = $1").bind(id).execute(&mut *tx).await?;
        let view = serde_json::to_value(&rule).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        append(&mut tx, &now, actor, "notify_rule.delete", "notify_rule", &id.to_string(), None, Some(&view), None)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Queues a test message on one channel (the "send test" button).
    pub async fn queue_test_notification(&self, actor: &Actor, channel_id: i64) -> Result<Notification> {
        let channel = self.get_notify_channel(channel_id).await?;
        let now = self.now_text();
        let mut tx = self.write_tx().await?;
        let subject = format!("[anbao] 测试通知 Test notification: {}", channel.name);
        let body = format!("测试通知 Test notification from anbao, requested by {} at {now}.", actor.name);
        let payload = json!({ "event": "test", "subject": subject, "data": { "channel": channel.name } }).to_string();
        let id: i64 = sqlx::query(
            "INSERT INTO notifications (channel_id, rule_id, event, dedup_key, subject, body, payload, status, \
             attempts, next_attempt_at, created_at) VALUES ($1, NULL, 'test', $2, $3, $4, $5, 'pending', 0, $6, $6) \
             RETURNING id",
        )
        .bind(channel_id)
        .bind(format!("test:{channel_id}:{now}:{}", rand::random::<u64>()))
        .bind(subject)
        .bind(body)
        .bind(payload)
        .bind(&now)
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        append(
            &mut tx,
            &now,
            actor,
            "notify_channel.test",
            "notify_channel",
            &channel_id.to_string(),
            None,
            None,
            Some(&json!({ "notification": id })),
        )
        .await?;
        tx.commit().await?;
        self.get_notification(id).await
    }

    pub async fn get_notification(&self, id: i64) -> Result<Notification> {
        let row =
            sqlx::query(&format!("{NOTIFICATION_SELECT} WHERE n.id = $1")).bind(id).fetch_optional(self.pool()).await?;
        notification_of(&row.ok_or_else(|| StoreError::not_found("notification", id))?)
    }

    /// The newest notifications first; `status` narrows to one status.
    pub async fn list_notifications(&self, status: Option<&str>, limit: i64) -> Result<Vec<Notification>> {
        let rows = match status {
            Some(s) => {
                sqlx::query(&format!("{NOTIFICATION_SELECT} WHERE n.status = $1 ORDER BY n.id DESC LIMIT $2"))
                    .bind(s.to_owned())
                    .bind(limit)
                    .fetch_all(self.pool())
                    .await?
            }
            None => {
                sqlx::query(&format!("{NOTIFICATION_SELECT} ORDER BY n.id DESC LIMIT $1"))
                    .bind(limit)
                    .fetch_all(self.pool())
                    .await?
            }
        };
        rows.iter().map(notification_of).collect()
    }

    /// Queues `deadline_approaching` (within a rule's `minutes_before` of the
    /// reporting deadline) and `deadline_passed` for incidents not closed
    /// and without a report a recipient accepted.
    /// Each fires once per incident, rule and deadline (a deadline moved by
    /// regrading warns again); a deadline already passed gets no "approaching".
    pub async fn scan_notify_deadlines(&self) -> Result<u64> {
        let now = self.now();
        let now_text = format_ts(now);
        let mut tx = self.write_tx().await?;
        // An incident whose report a recipient accepted has met its deadline.
        let incidents = sqlx::query(
            "SELECT * FROM incidents WHERE status <> 'closed' AND report_by IS NOT NULL AND NOT EXISTS \
             (SELECT 1 FROM incident_reports r JOIN report_submissions s ON s.report_id = r.id \
              WHERE r.incident_id = incidents.id AND s.outcome = 'accepted')",
        )
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(crate::incidents::incident_from_row)
        .collect::<Result<Vec<_>>>()?;
        let mut queued = 0;
        for i in &incidents {
            let Some(by_text) = &i.report_by else { continue };
            let by: Timestamp =
                parse_ts(by_text).map_err(|e| StoreError::Corrupt(format!("incident report_by: {e}")))?;
            let e = if now >= by {
                Event {
                    event: "deadline_passed",
                    key: format!("incident:{}:passed:{by_text}", i.id),
                    subject: format!("[anbao] 报告时限已过 Reporting deadline passed #{}: {}", i.id, i.title),
                    body: incident_lines(i),
                    payload: incident_payload(i),
                }
            } else {
                // Whole minutes, rounded up: "15 min" at 14 min 30 s.
                let minutes_left = ((by - now).whole_seconds() + 59) / 60;
                Event {
                    event: "deadline_approaching",
                    key: format!("incident:{}:approaching:{by_text}", i.id),
                    subject: format!(
                        "[anbao] 报告时限将至 Reporting deadline approaching #{}: {} ({} min)",
                        i.id, i.title, minutes_left
                    ),
                    body: incident_lines(i),
                    payload: incident_payload(i),
                }
            };
            let passed = now >= by;
            queued += enqueue(
                &mut tx,
                &e,
                |r| i.level >= r.min_level && (passed || by - time::Duration::minutes(r.minutes_before) <= now),
                &now_text,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(queued)
    }

    /// Takes up to `limit` due notifications, leasing each for
    /// [`NOTIFY_CLAIM_LEASE`] with a compare-and-set so that two workers
    /// never send the same one.
    pub async fn claim_due_notifications(&self, limit: i64) -> Result<Vec<NotificationDue>> {
        let now = self.now();
        let now_text = format_ts(now);
        let lease = format_ts(now + NOTIFY_CLAIM_LEASE);
        let due = sqlx::query(&format!(
            "{NOTIFICATION_SELECT} WHERE n.status = 'pending' AND n.next_attempt_at <= $1 \
             ORDER BY n.next_attempt_at, n.id LIMIT $2"
        ))
        .bind(&now_text)
        .bind(limit)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(notification_of)
        .collect::<Result<Vec<_>>>()?;
        let mut claimed = Vec::new();
        for mut n in due {
            let done = sqlx::query(
                "UPDATE notifications SET next_attempt_at = $1 \
                 WHERE id = $2 AND status = 'pending' AND next_attempt_at = $3",
            )
            .bind(&lease)
            .bind(n.id)
            .bind(&n.next_attempt_at)
            .execute(self.pool())
            .await?;
            if done.rows_affected() == 1 {
                n.next_attempt_at = lease.clone();
                match self.notify_channel_settings(n.channel_id).await {
                    Ok(settings) => claimed.push(NotificationDue { notification: n, settings }),
                    // One unreadable channel (sealed under another key) must not
                    // stop the others: the attempt fails and is recorded.
                    Err(e @ (StoreError::Seal(_) | StoreError::Corrupt(_))) => {
                        self.record_notification_attempt(n.id, Err(format!("channel settings: {e}"))).await?;
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(claimed)
    }

    /// Records one delivery attempt: sent, or failed with `error` and retried
    /// after the next backoff step, or given up after [`NOTIFY_MAX_ATTEMPTS`].
    pub async fn record_notification_attempt(&self, id: i64, outcome: Result<(), String>) -> Result<Notification> {
        let now = self.now();
        let now_text = format_ts(now);
        let before = self.get_notification(id).await?;
        let attempts = before.attempts + 1;
        match outcome {
            Ok(()) => {
                sqlx::query(
                    "UPDATE notifications SET status = 'sent', attempts = $1, sent_at = $2, last_error = '', \
                     next_attempt_at = $2 WHERE id = $3",
                )
                .bind(attempts)
                .bind(&now_text)
                .bind(id)
                .execute(self.pool())
                .await?;
            }
            Err(error) => {
                let error: String = error.chars().take(1000).collect();
                let (status, next) = match notify_retry_after(attempts) {
                    Some(wait) => ("pending", format_ts(now + wait)),
                    None => ("failed", now_text.clone()),
                };
                sqlx::query(
                    "UPDATE notifications SET status = $1, attempts = $2, last_error = $3, next_attempt_at = $4 \
                     WHERE id = $5",
                )
                .bind(status)
                .bind(attempts)
                .bind(error)
                .bind(next)
                .bind(id)
                .execute(self.pool())
                .await?;
            }
        }
        self.get_notification(id).await
    }
}
