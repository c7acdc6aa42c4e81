//! `/notifications` (admin): every notification with its delivery record,
//! the channels (secrets are write-only: the form never shows them) and the
//! rules, with forms to add, edit (a channel's blank secret fields keep the
//! stored ones), disable, test and delete. The store audits every change,
//! channels without their settings.

use anbao_model::incident::IncidentLevel;
use anbao_store::{NOTIFY_EVENTS, NotifyChannel, NotifyChannelDraft, NotifyRule, NotifyRuleDraft};
use axum::extract::State;
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Ctx, Flash, FormError, OrBounce, after_change, flash, redirect_with};
use crate::AppState;
use crate::auth::{ClientAddr, Principal};
use crate::error::ApiError;
use crate::extract::{FormBody, Path, Query};

const BACK: &str = "/notifications";

pub async fn list(State(state): State<AppState>, ctx: Ctx, Query(f): Query<Flash>) -> Result<Response, ApiError> {
    let records = state.store.list_notifications(None, 200).await?;
    let listed = state.store.list_notify_channels().await?;
    // The stored settings fill the edit forms' plain fields; secrets never
    // leave this function (`channel_edit_form` shows none of them).
    let mut channels: Vec<(NotifyChannel, Value)> = Vec::with_capacity(listed.len());
    for c in listed {
        let stored = state.store.notify_channel_settings(c.id).await.unwrap_or(Value::Null);
        channels.push((c, stored));
    }
    let rules = state.store.list_notify_rules().await?;
    let body = html! {
        (flash(&f))
        section class="card" {
            h2 { (ctx.t("notify.records")) }
            table class="data" id="notifications" {
                thead { tr { th { "#" } th { (ctx.t("field.created")) } th { (ctx.t("notify.event")) } th { (ctx.t("notify.channel")) }
                    th { (ctx.t("notify.subject")) } th { (ctx.t("field.status")) } th { (ctx.t("notify.attempts")) }
                    th { (ctx.t("notify.next_attempt")) } th { (ctx.t("notify.last_error")) } } }
                tbody {
                    @for n in &records {
                        tr {
                            td { (n.id) }
                            td { (n.created_at) }
                            td { code { (n.event) } }
                            td { (n.channel_name) " (" (n.channel_kind) ")" }
                            td { (n.subject) }
                            td { span class={ "badge " (match n.status.as_str() { "sent" => "green", "failed" => "red", _ => "amber" }) } { (n.status) } }
                            td { (n.attempts) }
                            td { @if n.status == "pending" { (n.next_attempt_at) } @else if let Some(s) = &n.sent_at { (s) } @else { "—" } }
                            td { (n.last_error) }
                        }
                    }
                }
            }
        }
        section class="card" {
            h2 { (ctx.t("notify.channels")) }
            table class="data" id="notify-channels" {
                thead { tr { th { (ctx.t("field.name")) } th { (ctx.t("field.kind")) } th { (ctx.t("notify.target")) } th { (ctx.t("field.status")) } th {} } }
                tbody {
                    @for (c, stored) in &channels {
                        tr data-channel=(c.id) data-enabled=(c.enabled) {
                            td { (c.name) }
                            td { (c.kind) }
                            td { (c.target) }
                            td { @if c.enabled { span class="badge green" { (ctx.t("status.on")) } } @else { span class="badge" { (ctx.t("status.off")) } } }
                            td {
                                details class="edit" {
                                    summary { (ctx.t("action.edit")) }
                                    (channel_edit_form(&ctx, c, stored))
                                }
                                form method="post" action={ "/notifications/channels/" (c.id) "/test" } {
                                    (ctx.csrf_field()) button type="submit" { (ctx.t("notify.send_test")) }
                                }
                                form method="post" action={ "/notifications/channels/" (c.id) "/delete" } data-confirm=(ctx.t("confirm.delete")) {
                                    (ctx.csrf_field()) button type="submit" class="danger" { (ctx.t("action.delete")) }
                                }
                            }
                        }
                    }
                }
            }
            h3 { (ctx.t("notify.add_channel")) }
            p class="hint" { (ctx.t("notify.channel_hint")) }
            form method="post" action="/notifications/channels" id="create-channel" class="grid" {
                (ctx.csrf_field())
                label { (ctx.t("field.name")) input name="name" required; }
                label { (ctx.t("field.kind")) select name="kind" {
                    @for k in anbao_store::NOTIFY_CHANNEL_KINDS { option value=(k) { (k) } }
                } }
                label { "URL" input name="url" type="url"; }
                label { (ctx.t("notify.secret")) input name="secret" type="password" autocomplete="off"; }
                label { "SMTP host" input name="host"; }
                label { "SMTP port" input name="port" type="number" value="587"; }
                label { "TLS" select name="security" { option value="starttls" { "STARTTLS" } option value="tls" { "TLS" } option value="none" { "none" } } }
                label { (ctx.t("field.username")) input name="user" autocomplete="off"; }
                label { (ctx.t("field.password")) input name="password" type="password" autocomplete="off"; }
                label { "From" input name="from"; }
                label { "To" input name="to" placeholder="a@example.cn, b@example.cn"; }
                button type="submit" { (ctx.t("action.create")) }
            }
        }
        section class="card" {
            h2 { (ctx.t("notify.rules")) }
            table class="data" id="notify-rules" {
                thead { tr { th { (ctx.t("notify.event")) } th { (ctx.t("notify.channel")) } th { (ctx.t("notify.min_level")) }
                    th { (ctx.t("notify.min_severity")) } th { (ctx.t("notify.minutes_before")) } th {} } }
                tbody {
                    @for r in &rules {
                        tr data-rule=(r.id) data-enabled=(r.enabled) {
                            td { code { (r.event) } @if !r.enabled { " " span class="badge" { (ctx.t("status.off")) } } }
                            td { (r.channel_name) }
                            td { (r.min_level) }
                            td { (r.min_severity) }
                            td { (r.minutes_before) }
                            td {
                                details class="edit" {
                                    summary { (ctx.t("action.edit")) }
                                    (rule_edit_form(&ctx, r, &channels))
                                }
                                form method="post" action={ "/notifications/rules/" (r.id) "/delete" } data-confirm=(ctx.t("confirm.delete")) {
                                    (ctx.csrf_field()) button type="submit" class="danger" { (ctx.t("action.delete")) }
                                }
                            }
                        }
                    }
                }
            }
            h3 { (ctx.t("notify.add_rule")) }
            form method="post" action="/notifications/rules" id="create-rule" class="grid" {
                (ctx.csrf_field())
                label { (ctx.t("notify.event")) select name="event" { @for e in NOTIFY_EVENTS { option value=(e) { (e) } } } }
                label { (ctx.t("notify.channel")) select name="channel_id" { @for (c, _) in &channels { option value=(c.id) { (c.name) } } } }
                label { (ctx.t("notify.min_level")) select name="min_level" { @for l in IncidentLevel::ALL { option value=(l.as_str()) { (l.as_str()) " " (l.zh()) } } } }
                label { (ctx.t("notify.min_severity")) input name="min_severity" type="number" min="0" max="4" value="0"; }
                label { (ctx.t("notify.minutes_before")) input name="minutes_before" type="number" min="0" value="0"; }
                button type="submit" { (ctx.t("action.create")) }
            }
        }
    };
    Ok(super::page(&ctx, ctx.t("nav.notifications"), body))
}

#[derive(Debug, Deserialize)]
pub struct ChannelForm {
    name: String,
    kind: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    secret: String,
    #[serde(default)]
    host: String,
    #[serde(default)]
    port: String,
    #[serde(default)]
    security: String,
    #[serde(default)]
    user: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

pub async fn create_channel(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    FormBody(f): FormBody<ChannelForm>,
) -> Result<Response, FormError> {
    let value = match f.kind.as_str() {
        "email" => json!({
            "kind": "email", "host": f.host.trim(), "port": f.port.trim().parse::<u16>().unwrap_or(0),
            "security": f.security, "user": f.user.trim(), "password": f.password, "from": f.from.trim(),
            "to": f.to.split(',').map(str::trim).filter(|s| !s.is_empty()).collect::<Vec<_>>(),
        }),
        "wecom" => json!({ "kind": "wecom", "url": f.url.trim() }),
        kind => json!({ "kind": kind, "url": f.url.trim(), "secret": f.secret }),
    };
    let settings = crate::api::notifications::settings_of(value).or_bounce(BACK)?;
    let draft = NotifyChannelDraft {
        name: f.name,
        kind: settings.kind().to_owned(),
        target: settings.target(),
        settings: serde_json::to_value(&settings).ok(),
        enabled: true,
    };
    after_change(state.store.create_notify_channel(&p.actor(&client), &draft).await, BACK, ctx.t("notify.saved"))
}

/// A stored setting as text for a plain (non-secret) field.
fn plain(stored: &Value, key: &str) -> String {
    match stored.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", "),
        _ => String::new(),
    }
}

/// The edit form of one channel: its kind stays; plain fields are filled
/// in, secret ones (URLs that carry robot keys, webhook and robot secrets,
/// the SMTP password) are empty, and left empty they keep what is stored.
fn channel_edit_form(ctx: &Ctx, c: &NotifyChannel, stored: &Value) -> Markup {
    let keep = ctx.t("notify.secret_keep");
    html! {
        form method="post" action={ "/notifications/channels/" (c.id) } class="grid edit-channel" data-channel=(c.id) {
            (ctx.csrf_field())
            label { (ctx.t("field.name")) input name="name" value=(c.name) required; }
            label class="inline" { input type="checkbox" name="enabled" value="1" checked[c.enabled]; " " (ctx.t("notify.enabled")) }
            @if c.kind == "email" {
                label { "SMTP host" input name="host" value=(plain(stored, "host")); }
                label { "SMTP port" input name="port" type="number" value=(plain(stored, "port")); }
                label { "TLS" select name="security" {
                    @for (v, label) in [("starttls", "STARTTLS"), ("tls", "TLS"), ("none", "none")] {
                        option value=(v) selected[plain(stored, "security") == v] { (label) }
                    }
                } }
                label { (ctx.t("field.username")) input name="user" value=(plain(stored, "user")) autocomplete="off"; }
                label { (ctx.t("field.password")) input name="password" type="password" autocomplete="new-password" placeholder=(keep); }
                label { "From" input name="from" value=(plain(stored, "from")); }
                label { "To" input name="to" value=(plain(stored, "to")); }
            } @else {
                label { "URL" input name="url" type="url" placeholder={ (c.target) " — " (keep) } autocomplete="off"; }
                @if c.kind != "wecom" {
                    label { (ctx.t("notify.secret")) input name="secret" type="password" autocomplete="new-password" placeholder=(keep); }
                }
            }
            button type="submit" { (ctx.t("action.save")) }
        }
    }
}

fn rule_edit_form(ctx: &Ctx, r: &NotifyRule, channels: &[(NotifyChannel, Value)]) -> Markup {
    html! {
        form method="post" action={ "/notifications/rules/" (r.id) } class="grid edit-rule" data-rule=(r.id) {
            (ctx.csrf_field())
            label { (ctx.t("notify.event")) select name="event" { @for e in NOTIFY_EVENTS { option value=(e) selected[r.event == *e] { (e) } } } }
            label { (ctx.t("notify.channel")) select name="channel_id" {
                @for (c, _) in channels { option value=(c.id) selected[c.id == r.channel_id] { (c.name) } } } }
            label { (ctx.t("notify.min_level")) select name="min_level" {
                @for l in IncidentLevel::ALL { option value=(l.as_str()) selected[*l == r.min_level] { (l.as_str()) " " (l.zh()) } } } }
            label { (ctx.t("notify.min_severity")) input name="min_severity" type="number" min="0" max="4" value=(r.min_severity); }
            label { (ctx.t("notify.minutes_before")) input name="minutes_before" type="number" min="0" value=(r.minutes_before); }
            label class="inline" { input type="checkbox" name="enabled" value="1" checked[r.enabled]; " " (ctx.t("notify.enabled")) }
            button type="submit" { (ctx.t("action.save")) }
        }
    }
}

/// The stored settings with the form's changes: plain fields replaced,
/// secret fields replaced only when filled in.
fn merged_settings(stored: &Value, raw: &[(String, String)]) -> Value {
    let mut merged = stored.clone();
    let Some(obj) = merged.as_object_mut() else { return merged };
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or_default().to_owned();
    let field = |k: &str| super::form_value(raw, k);
    if kind == "email" {
        for k in ["host", "user", "from"] {
            obj.insert(k.to_owned(), json!(field(k).trim()));
        }
        obj.insert("port".to_owned(), json!(field("port").trim().parse::<u16>().unwrap_or(0)));
        if !field("security").is_empty() {
            obj.insert("security".to_owned(), json!(field("security")));
        }
        let to: Vec<&str> = field("to").split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
        obj.insert("to".to_owned(), json!(to));
        if field("user").trim().is_empty() {
            // No user: no password either (both or neither).
            obj.insert("password".to_owned(), json!(""));
        } else if !field("password").is_empty() {
            obj.insert("password".to_owned(), json!(field("password")));
        }
    } else {
        if !field("url").trim().is_empty() {
            obj.insert("url".to_owned(), json!(field("url").trim()));
        }
        if kind != "wecom" && !field("secret").is_empty() {
            obj.insert("secret".to_owned(), json!(field("secret")));
        }
    }
    merged
}

pub async fn update_channel(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    FormBody(raw): FormBody<Vec<(String, String)>>,
) -> Result<Response, FormError> {
    let before = state.store.get_notify_channel(id).await?;
    let stored = state.store.notify_channel_settings(id).await?;
    let merged = merged_settings(&stored, &raw);
    let settings = crate::api::notifications::settings_of(merged.clone()).or_bounce(BACK)?;
    let changed = serde_json::to_value(&settings).ok().filter(|v| *v != stored);
    let draft = NotifyChannelDraft {
        name: super::form_value(&raw, "name").to_owned(),
        kind: before.kind,
        target: settings.target(),
        // Unchanged settings are not re-sealed (the audit says "not replaced").
        settings: changed,
        enabled: !super::form_value(&raw, "enabled").is_empty(),
    };
    after_change(state.store.update_notify_channel(&p.actor(&client), id, &draft).await, BACK, ctx.t("notify.saved"))
}

pub async fn update_rule(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    FormBody(raw): FormBody<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let number = |k: &str| super::form_value(&raw, k).trim().parse::<i64>();
    let (Ok(channel_id), Ok(min_level)) =
        (number("channel_id"), super::form_value(&raw, "min_level").parse::<IncidentLevel>())
    else {
        return Ok(redirect_with(BACK, "error", ctx.t("notify.rule_bad")));
    };
    let (Ok(min_severity), Ok(minutes_before)) = (number("min_severity"), number("minutes_before")) else {
        return Ok(redirect_with(BACK, "error", ctx.t("notify.rule_bad")));
    };
    let draft = NotifyRuleDraft {
        channel_id,
        event: super::form_value(&raw, "event").to_owned(),
        min_level,
        min_severity,
        minutes_before,
        enabled: !super::form_value(&raw, "enabled").is_empty(),
    };
    after_change(state.store.update_notify_rule(&p.actor(&client), id, &draft).await, BACK, ctx.t("notify.saved"))
}

pub async fn delete_channel(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    after_change(state.store.delete_notify_channel(&p.actor(&client), id).await, BACK, ctx.t("notify.deleted"))
}

pub async fn test_channel(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    after_change(state.store.queue_test_notification(&p.actor(&client), id).await, BACK, ctx.t("notify.test_queued"))
}

#[derive(Debug, Deserialize)]
pub struct RuleForm {
    event: String,
    channel_id: i64,
    min_level: IncidentLevel,
    #[serde(default)]
    min_severity: i64,
    #[serde(default)]
    minutes_before: i64,
}

pub async fn create_rule(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    FormBody(f): FormBody<RuleForm>,
) -> Result<Response, ApiError> {
    let draft = NotifyRuleDraft {
        channel_id: f.channel_id,
        event: f.event,
        min_level: f.min_level,
        min_severity: f.min_severity,
        minutes_before: f.minutes_before,
        enabled: true,
    };
    after_change(state.store.create_notify_rule(&p.actor(&client), &draft).await, BACK, ctx.t("notify.saved"))
}

pub async fn delete_rule(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    after_change(state.store.delete_notify_rule(&p.actor(&client), id).await, BACK, ctx.t("notify.deleted"))
}
