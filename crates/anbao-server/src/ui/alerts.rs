//! Detection alert pages (issue #5; R3.1–R3.3, R3.8): the alert list with
//! counts by status, a chart of detections per hour by category and
//! filters; one alert with its evidence, status and the actions taken
//! (subscriber notified, blocklisted, …); and the infected subscribers, the
//! worklist for notifying them and recording the disposal. Triage: assign
//! an alert to a user, comment (a `note` action), mark it a false positive
//! that allowlists its indicator, and change many at once from the list
//! (checkboxes and the bulk form). The JSON API
//! (`api::alerts`) does the reading; the store audits every change.

use std::borrow::Cow;
use std::collections::BTreeMap;

use anbao_intel::Category;
use anbao_model::Permission;
use anbao_model::clock::format_ts;
use anbao_store::{ALERT_ACTIONS, ALERT_STATUSES, AlertFilter, BulkTriage, NewSuppression, UserFilter};
use axum::extract::State;
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;

use super::chart::{Series, stacked_bars};
use super::intel::category_key;
use super::{Ctx, Flash, FormError, OrBounce, after_change, flash, short_time, urlencode};
use crate::AppState;
use crate::api::alerts::{
    AlertView, DEFAULT_HOURS, SuppressionView, alert_detail, alert_filter, alert_page, assignee_filter, hour_counts,
    masks_subscribers, span_start, victims_of,
};
use crate::auth::{ClientAddr, Principal};
use crate::error::ApiError;
use crate::extract::{FormBody, Path, Query};

const LIST: &str = "/alerts";
const VICTIMS: &str = "/alerts/victims";
const SUPPRESSIONS: &str = "/alerts/suppressions";
/// Longest suppression the form offers: 90 days.
const MAX_SUPPRESSION_HOURS: i64 = 24 * 90;
/// Alerts per page of the list.
const PAGE: i64 = 50;
/// Subscribers the victim view lists at most.
const VICTIM_LIMIT: i64 = 500;
/// Label every eighth hour of the chart: three a day, as many as fit
/// without touching (`MM-DD HH:00` is wider than six bars of 48).
const LABEL_EVERY: usize = 8;

pub(crate) fn status_key(status: &str) -> &'static str {
    match status {
        "new" => "alerts.status.new",
        "acknowledged" => "alerts.status.acknowledged",
        "confirmed" => "alerts.status.confirmed",
        "false_positive" => "alerts.status.false_positive",
        _ => "alerts.status.resolved",
    }
}

fn status_badge(ctx: &Ctx, status: &str) -> Markup {
    // New and confirmed alerts want work; the rest are settled or under way.
    let class = match status {
        "new" => "badge amber",
        "confirmed" => "badge red",
        "false_positive" | "resolved" => "badge green",
        _ => "badge",
    };
    html! { span class=(class) data-status=(status) { (ctx.t(status_key(status))) } }
}

fn action_key(action: &str) -> &'static str {
    match action {
        "notified" => "alerts.action.notified",
        "blocklisted" => "alerts.action.blocklisted",
        "rpz" => "alerts.action.rpz",
        "sinkholed" => "alerts.action.sinkholed",
        "escalated" => "alerts.action.escalated",
        "mitigation_announced" => "alerts.action.mitigation_announced",
        "mitigation_withdrawn" => "alerts.action.mitigation_withdrawn",
        _ => "alerts.action.note",
    }
}

fn severity_badge(ctx: &Ctx, severity: i64) -> Markup {
    let (class, key) = match severity {
        s if s >= 4 => ("badge red", "alerts.sev.critical"),
        3 => ("badge amber", "alerts.sev.high"),
        2 => ("badge", "alerts.sev.medium"),
        _ => ("badge", "alerts.sev.low"),
    };
    html! { span class=(class) data-severity=(severity) { (ctx.t(key)) } }
}

/// An intel category in the reader's language; a heuristic's category
/// (`dga`, …) as it is.
fn category_label<'a>(ctx: &Ctx, category: &'a str) -> Cow<'a, str> {
    match category.parse::<Category>() {
        Ok(c) => Cow::Borrowed(ctx.t(category_key(c))),
        Err(_) => Cow::Borrowed(category),
    }
}

/// How an intel match was made in the reader's language; a heuristic's
/// own word as it is.
fn match_label<'a>(ctx: &Ctx, how: &'a str) -> Cow<'a, str> {
    let key = match how {
        "exact" => "intel.match.exact",
        "parent_domain" => "intel.match.parent_domain",
        "covering_cidr" => "intel.match.covering_cidr",
        "url_prefix" => "intel.match.url_prefix",
        _ => return Cow::Borrowed(how),
    };
    Cow::Borrowed(ctx.t(key))
}

/// Links between the alert pages.
pub(crate) fn alerts_nav(ctx: &Ctx) -> Markup {
    html! {
        p class="actions" id="alerts-nav" {
            a href=(LIST) id="alerts-list-link" { (ctx.t("nav.alerts")) } " · "
            a href=(VICTIMS) id="alerts-victims-link" { (ctx.t("nav.alert_victims")) } " · "
            a href=(SUPPRESSIONS) id="alerts-suppressions-link" { (ctx.t("alerts.suppressions")) } " · "
            a href="/detection" id="detection-link" { (ctx.t("nav.detection")) } " · "
            a href="/flows" id="flows-link" { (ctx.t("nav.flows")) } " · "
            a href="/flows/mitigations" id="mitigations-link" { (ctx.t("nav.mitigations")) }
        }
    }
}

// ---------------------------------------------------------------------------
// /alerts

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    status: Option<String>,
    category: Option<String>,
    rule: Option<String>,
    victim: Option<String>,
    q: Option<String>,
    assignee: Option<String>,
    offset: Option<i64>,
    ok: Option<String>,
    error: Option<String>,
}

/// The query string that repeats `filter` (for paging links).
fn filter_query(filter: &AlertFilter) -> String {
    let assignee = filter.assignee.as_ref().map(|a| if a.is_empty() { "-".to_owned() } else { a.clone() });
    let pairs = [
        ("assignee", &assignee),
        ("status", &filter.status),
        ("category", &filter.category),
        ("rule", &filter.rule),
        ("victim", &filter.victim),
        ("q", &filter.q),
    ];
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", urlencode(v.as_deref().unwrap_or_default())))
        .collect::<Vec<_>>()
        .join("&")
}

/// The chart's stacks: every hour of the span (empty ones too), one value
/// per category, categories with the most detections first.
fn hourly_stacks(
    ctx: &Ctx,
    first_hour: time::OffsetDateTime,
    hours: i64,
    counts: &[crate::api::alerts::HourCount],
) -> (Vec<Series>, Vec<(String, Vec<i64>)>) {
    let mut by_category: BTreeMap<&str, i64> = BTreeMap::new();
    for c in counts {
        *by_category.entry(c.category.as_str()).or_default() += c.events;
    }
    let mut categories: Vec<(&str, i64)> = by_category.into_iter().collect();
    categories.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let series: Vec<Series> = categories
        .iter()
        .map(|(c, _)| Series { key: (*c).to_owned(), label: category_label(ctx, c).into_owned() })
        .collect();
    let stacks = (0..hours)
        .map(|k| {
            let text = format_ts(first_hour + time::Duration::hours(k));
            // `YYYY-MM-DDTHH`, as the store buckets hours.
            let hour = text.get(..13).unwrap_or_default();
            let values = categories
                .iter()
                .map(|(c, _)| counts.iter().filter(|h| h.hour == hour && h.category == *c).map(|h| h.events).sum())
                .collect();
            let label = format!("{} {}:00", text.get(5..10).unwrap_or_default(), text.get(11..13).unwrap_or_default());
            (label, values)
        })
        .collect();
    (series, stacks)
}

/// Category choices: intel's, then any others seen in the chart or asked for.
fn category_options(ctx: &Ctx, seen: &[Series], selected: Option<&str>) -> Markup {
    let mut extra: Vec<&str> = seen.iter().map(|s| s.key.as_str()).chain(selected).collect();
    extra.retain(|c| c.parse::<Category>().is_err());
    extra.sort_unstable();
    extra.dedup();
    html! {
        option value="" { (ctx.t("alerts.any_category")) }
        @for c in Category::ALL { option value=(c.as_str()) selected[selected == Some(c.as_str())] { (ctx.t(category_key(c))) } }
        @for c in extra { option value=(c) selected[selected == Some(c)] { (c) } }
    }
}

fn alert_rows(ctx: &Ctx, alerts: &[AlertView], select: bool) -> Markup {
    html! {
        table class="data" id="alerts" {
            thead { tr {
                // The select-all box works through /static/app.js (the CSP
                // allows no inline script); hidden until the script shows it,
                // so without script the page offers only what works.
                @if select { th { input type="checkbox" id="alerts-select-all" data-select-all="id" hidden
                    aria-label=(ctx.t("alerts.select_all")) title=(ctx.t("alerts.select_all")); } }
                th { (ctx.t("alerts.severity")) } th { (ctx.t("alerts.last_seen")) } th { (ctx.t("alerts.victim")) }
                th { (ctx.t("alerts.indicator")) } th { (ctx.t("intel.category")) } th { (ctx.t("alerts.rule_match")) }
                th { (ctx.t("alerts.count")) } th { (ctx.t("field.status")) } th { (ctx.t("alerts.assignee")) }
            } }
            tbody {
                @for a in alerts {
                    tr data-alert=(a.id) data-victim=(a.victim) data-status=(a.status) data-assignee=(a.assignee) {
                        @if select { td { input type="checkbox" name="id" value=(a.id) aria-label={ (ctx.t("alerts.alert")) " " (a.id) }; } }
                        td { (severity_badge(ctx, a.severity)) }
                        td class="nowrap" { (a.last_seen.get(..16).unwrap_or(&a.last_seen).replace('T', " ")) }
                        td {
                            @if ctx.can(Permission::ReadSubscribers) { a href={ (VICTIMS) "?victim=" (urlencode(&a.victim)) } class="victim" { code { (a.victim) } } }
                            @else { code class="victim" title=(ctx.t("alerts.masked")) { (a.victim) } }
                        }
                        td { a href={ "/alerts/" (a.id) } class="alert-link" { code { (a.indicator) } } }
                        td data-category=(a.category) { (category_label(ctx, &a.category)) }
                        td class="small" {
                            (a.rule)
                            @if !a.match_how.is_empty() { " · " (match_label(ctx, &a.match_how)) }
                            @if !a.field.is_empty() { " · " code { (a.field) } }
                        }
                        td { (a.count) }
                        td { (status_badge(ctx, &a.status)) }
                        td class="assignee" { (a.assignee) }
                    }
                }
            }
        }
    }
}

pub async fn list(State(state): State<AppState>, ctx: Ctx, Query(q): Query<ListQuery>) -> Result<Response, ApiError> {
    let mut f = Flash { ok: q.ok.clone(), error: q.error.clone() };
    let filter = match alert_filter(
        q.status.as_deref(),
        q.category.as_deref(),
        q.rule.as_deref(),
        q.victim.as_deref(),
        q.q.as_deref(),
        None,
    )
    .and_then(|mut filter| {
        filter.assignee = assignee_filter(q.assignee.as_deref())?;
        Ok(filter)
    }) {
        Ok(filter) => filter,
        Err(e) => {
            f.error = Some(e.message);
            AlertFilter::default()
        }
    };
    let triage = ctx.can(Permission::TriageAlerts);
    let offset = q.offset.unwrap_or(0).max(0);
    let mask = masks_subscribers(ctx.principal.as_ref());
    let page = alert_page(&state, &filter, offset, PAGE, mask).await?;
    let counts = state.store.alert_status_counts().await?;
    let all: i64 = counts.iter().map(|(_, n)| n).sum();
    let count_of = |s: &str| counts.iter().find(|(k, _)| k == s).map(|(_, n)| *n).unwrap_or(0);
    let first_hour = span_start(state.store.clock().now(), DEFAULT_HOURS);
    let hours = hour_counts(&state, DEFAULT_HOURS).await?;
    let (series, stacks) = hourly_stacks(&ctx, first_hour, DEFAULT_HOURS, &hours);
    let query = filter_query(&filter);
    let shown_to = offset + page.alerts.len() as i64;
    let body = html! {
        (flash(&f))
        (alerts_nav(&ctx))
        div class="cards" id="alert-counts" {
            a class="card stat" href=(LIST) data-status="" { span class="n" id="alerts-total" { (all) } span { (ctx.t("alerts.all")) } }
            @for s in ALERT_STATUSES {
                a class="card stat" href={ (LIST) "?status=" (s) } data-status=(s) {
                    span class="n" data-count=(s) { (count_of(s)) } span { (ctx.t(status_key(s))) }
                }
            }
        }
        section class="card" id="alerts-chart" {
            (stacked_bars(ctx.t("alerts.chart"), &series, &stacks, LABEL_EVERY))
            @if series.is_empty() { p class="small" { (ctx.t("alerts.chart_empty")) } }
        }
        form method="get" action=(LIST) class="filters" id="alert-filters" {
            select name="status" { option value="" { (ctx.t("alerts.any_status")) }
                @for s in ALERT_STATUSES { option value=(s) selected[filter.status.as_deref() == Some(s)] { (ctx.t(status_key(s))) } } }
            select name="category" { (category_options(&ctx, &series, filter.category.as_deref())) }
            input name="rule" value=(filter.rule.clone().unwrap_or_default()) placeholder=(ctx.t("alerts.rule")) size="10";
            input name="victim" value=(filter.victim.clone().unwrap_or_default()) placeholder=(ctx.t("alerts.victim"));
            input name="q" value=(filter.q.clone().unwrap_or_default()) placeholder=(ctx.t("alerts.search"));
            input name="assignee" value=(filter.assignee.as_ref().map(|a| if a.is_empty() { "-" } else { a.as_str() }).unwrap_or_default())
                placeholder=(ctx.t("alerts.assignee")) title=(ctx.t("alerts.assignee_filter_help")) size="12";
            button type="submit" { (ctx.t("action.filter")) }
        }
        p class="small" id="alerts-shown" {
            (ctx.t("alerts.matching")) " " strong id="alerts-matching" { (page.total) }
            @if !page.alerts.is_empty() { " · " (offset + 1) "–" (shown_to) }
        }
        @if triage {
            form method="post" action="/alerts/bulk" id="alert-bulk-form" {
                (ctx.csrf_field())
                input type="hidden" name="back" value={ (LIST) "?" (query) "&offset=" (offset) };
                p class="filters" {
                    (ctx.t("alerts.bulk")) " "
                    select name="status" aria-label=(ctx.t("field.status")) {
                        option value="" { (ctx.t("alerts.bulk_keep_status")) }
                        @for s in ALERT_STATUSES { option value=(s) { (ctx.t(status_key(s))) } }
                    }
                    input name="assignee" placeholder=(ctx.t("alerts.assignee")) title=(ctx.t("alerts.bulk_assignee_help")) size="12";
                    button type="submit" { (ctx.t("alerts.bulk_apply")) }
                }
                (alert_rows(&ctx, &page.alerts, true))
            }
        } @else {
            (alert_rows(&ctx, &page.alerts, false))
        }
        p class="pager" {
            @if offset > 0 {
                a href={ (LIST) "?" (query) "&offset=" ((offset - PAGE).max(0)) } id="previous-page" { "← " (ctx.t("action.previous")) }
            }
            @if shown_to < page.total {
                a href={ (LIST) "?" (query) "&offset=" (shown_to) } id="next-page" { (ctx.t("action.next")) " →" }
            }
        }
    };
    Ok(super::page(&ctx, ctx.t("nav.alerts"), body))
}

// ---------------------------------------------------------------------------
// /alerts/{id}

/// The evidence as people read it: indented JSON.
fn pretty_evidence(evidence: &serde_json::Value) -> String {
    serde_json::to_string_pretty(evidence).unwrap_or_else(|_| evidence.to_string())
}

fn status_form(ctx: &Ctx, a: &AlertView) -> Markup {
    html! {
        form method="post" action={ "/alerts/" (a.id) "/status" } id="alert-status-form" class="filters" {
            (ctx.csrf_field())
            select name="status" aria-label=(ctx.t("field.status")) {
                @for s in ALERT_STATUSES { option value=(s) selected[a.status == s] { (ctx.t(status_key(s))) } }
            }
            label class="inline" title=(ctx.t("alerts.allowlist_help")) {
                input type="checkbox" name="allowlist" value="1" id="alert-allowlist";
                " " (ctx.t("alerts.allowlist"))
            }
            button type="submit" { (ctx.t("alerts.set_status")) }
        }
    }
}

fn assign_form(ctx: &Ctx, a: &AlertView, users: &[String]) -> Markup {
    html! {
        form method="post" action={ "/alerts/" (a.id) "/assign" } id="alert-assign-form" class="filters" {
            (ctx.csrf_field())
            select name="assignee" aria-label=(ctx.t("alerts.assignee")) {
                option value="" selected[a.assignee.is_empty()] { (ctx.t("alerts.unassigned")) }
                @for u in users { option value=(u) selected[a.assignee == *u] { (u) } }
            }
            button type="submit" { (ctx.t("alerts.assign")) }
        }
    }
}

fn action_form(ctx: &Ctx, a: &AlertView) -> Markup {
    html! {
        form method="post" action={ "/alerts/" (a.id) "/actions" } id="alert-action-form" class="grid" {
            (ctx.csrf_field())
            label { (ctx.t("field.action")) select name="action" {
                @for act in ALERT_ACTIONS { option value=(act) { (ctx.t(action_key(act))) } } } }
            label class="wide" { (ctx.t("alerts.detail"))
                textarea name="detail" rows="2" maxlength="4000" placeholder=(ctx.t("alerts.detail_help")) {} }
            button type="submit" { (ctx.t("alerts.record_action")) }
        }
    }
}

pub async fn detail(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(f): Query<Flash>,
) -> Result<Response, ApiError> {
    let mask = masks_subscribers(ctx.principal.as_ref());
    let d = alert_detail(&state, id, mask, ctx.principal.as_ref()).await?;
    let a = &d.alert;
    let summary = a.evidence.get("summary").and_then(serde_json::Value::as_str);
    let triage = ctx.can(Permission::TriageAlerts);
    let users: Vec<String> = if triage {
        let all = state.store.list_users(&UserFilter { limit: 10_000, ..UserFilter::default() }).await?;
        all.into_iter().filter(|u| !u.disabled).map(|u| u.username).collect()
    } else {
        Vec::new()
    };
    let time = |t: &str| anbao_model::clock::parse_ts(t).map(|t| short_time(&t)).unwrap_or_else(|_| t.to_owned());
    let body = html! {
        (flash(&f))
        (alerts_nav(&ctx))
        section class="card" id="alert-detail" data-alert=(a.id) {
            dl {
                dt { (ctx.t("alerts.victim")) } dd {
                    code id="alert-victim" { (a.victim) }
                    @if ctx.can(Permission::ReadSubscribers) {
                        " · "
                        a href={ (LIST) "?victim=" (urlencode(&a.victim)) } id="victim-alerts" { (ctx.t("alerts.victim_alerts")) } " · "
                        a href={ (VICTIMS) "?victim=" (urlencode(&a.victim)) } { (ctx.t("nav.alert_victims")) }
                    } @else {
                        " " span class="small" { (ctx.t("alerts.masked")) }
                    }
                }
                dt { (ctx.t("alerts.affected_assets")) } dd id="alert-assets" { (super::assets::affected_list(&ctx, &d.assets)) }
                dt { (ctx.t("alerts.indicator")) } dd {
                    @match a.indicator_id {
                        Some(i) if ctx.can(Permission::ReadIntel) => a href={ "/intel/indicators/" (i) } id="alert-indicator" { code { (a.indicator) } },
                        _ => code id="alert-indicator" { (a.indicator) },
                    }
                }
                dt { (ctx.t("intel.category")) } dd id="alert-category" data-category=(a.category) { (category_label(&ctx, &a.category)) }
                dt { (ctx.t("alerts.severity")) } dd { (severity_badge(&ctx, a.severity)) }
                dt { (ctx.t("alerts.rule")) } dd id="alert-rule" { code { (a.rule) } }
                @if !a.match_how.is_empty() { dt { (ctx.t("alerts.match")) } dd id="alert-match" { (match_label(&ctx, &a.match_how)) } }
                @if !a.field.is_empty() { dt { (ctx.t("alerts.field")) } dd { code id="alert-field" { (a.field) } } }
                @if !a.observed.is_empty() { dt { (ctx.t("alerts.observed")) } dd { code id="alert-observed" { (a.observed) } } }
                @if let Some(score) = a.score { dt { (ctx.t("alerts.score")) } dd id="alert-score" { (score) } }
                @if !a.reason.is_empty() { dt { (ctx.t("alerts.reason")) } dd id="alert-reason" { (a.reason) } }
                dt { (ctx.t("alerts.count")) } dd id="alert-count" { (a.count) }
                dt { (ctx.t("intel.first_seen")) } dd { (time(&a.first_seen)) }
                dt { (ctx.t("intel.last_seen")) } dd { (time(&a.last_seen)) }
                dt { (ctx.t("alerts.sensor")) } dd { (a.sensor) }
                dt { (ctx.t("field.status")) } dd id="alert-status" { (status_badge(&ctx, &a.status)) }
                dt { (ctx.t("alerts.assignee")) } dd id="alert-assignee" {
                    @if a.assignee.is_empty() { span class="small" { (ctx.t("alerts.unassigned")) } } @else { (a.assignee) }
                }
            }
            @if ctx.can(Permission::ReadAudit) {
                p { a href={ "/audit?object_type=alert&object_id=" (a.id) } { (ctx.t("audit.history")) } }
            }
            @if triage { (status_form(&ctx, a)) (assign_form(&ctx, a, &users)) }
            @if ctx.can(Permission::ManageIncidents) {
                form method="post" action={ "/alerts/" (a.id) "/incident" } id="alert-escalate-form" class="inline" {
                    (ctx.csrf_field())
                    button type="submit" { (ctx.t("incident.escalate")) }
                }
            }
        }
        section class="card" id="alert-evidence" {
            h2 { (ctx.t("alerts.evidence")) }
            @if let Some(s) = summary { p { code id="evidence-summary" { (s) } } }
            pre id="evidence-json" { (pretty_evidence(&a.evidence)) }
        }
        section class="card" {
            h2 { (ctx.t("alerts.actions")) }
            @if d.actions.is_empty() {
                p class="small" id="no-actions" { (ctx.t("alerts.no_actions")) }
            } @else {
                table class="data" id="alert-actions" {
                    thead { tr { th { (ctx.t("field.time")) } th { (ctx.t("field.action")) } th { (ctx.t("alerts.detail")) } th { (ctx.t("field.actor")) } } }
                    tbody {
                        @for act in &d.actions {
                            tr data-action=(act.action) {
                                td class="nowrap" { (time(&act.created_at)) }
                                td { (ctx.t(action_key(&act.action))) }
                                td class="detail" { @for (i, line) in act.detail.lines().enumerate() { @if i > 0 { br; } (line) } }
                                td { (act.actor) }
                            }
                        }
                    }
                }
            }
            @if triage { (action_form(&ctx, a)) }
        }
    };
    Ok(super::page(&ctx, &format!("{} #{} · {}", ctx.t("alerts.alert"), a.id, a.indicator), body))
}

pub async fn set_status(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    FormBody(raw): FormBody<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let status = super::form_value(&raw, "status").trim();
    let allowlist = !super::form_value(&raw, "allowlist").is_empty();
    let result = state.store.set_alert_status_allowlisting(&p.actor(&client), id, status, allowlist).await;
    after_change(result, &format!("/alerts/{id}"), ctx.t("saved"))
}

pub async fn assign(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    FormBody(raw): FormBody<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let assignee = super::form_value(&raw, "assignee");
    let result = state.store.assign_alert(&p.actor(&client), id, assignee).await;
    after_change(result, &format!("/alerts/{id}"), ctx.t("saved"))
}

/// Where the bulk form sends the person back: the list page it came from,
/// never elsewhere.
fn bulk_back(raw: &[(String, String)]) -> String {
    let back = super::form_value(raw, "back");
    if back.starts_with("/alerts?") { back.to_owned() } else { LIST.to_owned() }
}

pub async fn bulk(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    FormBody(raw): FormBody<Vec<(String, String)>>,
) -> Result<Response, FormError> {
    let back = bulk_back(&raw);
    let mut ids = Vec::new();
    for (k, v) in &raw {
        if k == "id" {
            ids.push(v.trim().parse::<i64>().map_err(|_| ctx.t("alerts.bulk_none")).or_bounce(&back)?);
        }
    }
    if ids.is_empty() {
        return Ok(super::redirect_with(&back, "error", ctx.t("alerts.bulk_none")));
    }
    let status = Some(super::form_value(&raw, "status").trim()).filter(|s| !s.is_empty()).map(str::to_owned);
    // Empty keeps the assignee; `-` unassigns.
    let assignee = Some(super::form_value(&raw, "assignee").trim())
        .filter(|a| !a.is_empty())
        .map(|a| if a == "-" { String::new() } else { a.to_owned() });
    let change = BulkTriage { ids, status, assignee };
    let result = state.store.bulk_triage_alerts(&p.actor(&client), &change).await;
    after_change(result, &back, ctx.t("saved"))
}

pub async fn add_action(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    FormBody(raw): FormBody<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let action = super::form_value(&raw, "action").trim();
    // Browsers send textarea line breaks as CRLF; the store allows LF only.
    let detail = super::form_value(&raw, "detail").replace("\r\n", "\n");
    let result = state.store.add_alert_action(&p.actor(&client), id, action, &detail).await;
    after_change(result, &format!("/alerts/{id}"), ctx.t("alerts.action_recorded"))
}

// ---------------------------------------------------------------------------
// /alerts/suppressions

pub async fn suppressions(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(f): Query<Flash>,
) -> Result<Response, ApiError> {
    let now = state.store.clock().now();
    let rules: Vec<SuppressionView> =
        state.store.alert_suppressions().await?.iter().map(|r| SuppressionView::of(r, now)).collect();
    let triage = ctx.can(Permission::TriageAlerts);
    let time = |t: &str| anbao_model::clock::parse_ts(t).map(|t| short_time(&t)).unwrap_or_else(|_| t.to_owned());
    let any = |v: &str| if v.is_empty() { "*".to_owned() } else { v.to_owned() };
    let body = html! {
        (flash(&f))
        (alerts_nav(&ctx))
        p { (ctx.t("alerts.suppressions_help")) }
        table class="data" id="suppressions" {
            thead { tr {
                th { (ctx.t("alerts.rule")) } th { (ctx.t("intel.category")) } th { (ctx.t("alerts.victim_prefix")) }
                th { (ctx.t("alerts.indicator_pattern")) } th { (ctx.t("alerts.src_cidr")) } th { (ctx.t("alerts.dst_cidr")) }
                th { (ctx.t("alerts.until")) } th { (ctx.t("alerts.reason")) }
                th { (ctx.t("alerts.suppressed")) } th { (ctx.t("field.actor")) } @if triage { th {} }
            } }
            tbody {
                @for r in &rules {
                    tr data-suppression=(r.id) data-active=(r.active) {
                        td { code { (any(&r.rule)) } } td { code { (any(&r.category)) } }
                        td { code { (any(&r.victim_prefix)) } } td { code { (any(&r.indicator_pattern)) } }
                        td data-field="src_cidr" { code { (any(&r.src_cidr)) } } td data-field="dst_cidr" { code { (any(&r.dst_cidr)) } }
                        td class="nowrap" {
                            (time(&r.until))
                            @if !r.active { " " span class="badge" { (ctx.t("alerts.expired")) } }
                        }
                        td { (r.reason) }
                        td data-count="suppressed" { (r.suppressed) }
                        td { (r.created_by) }
                        @if triage {
                            td { form method="post" action={ (SUPPRESSIONS) "/" (r.id) "/delete" } class="inline" {
                                (ctx.csrf_field())
                                button type="submit" { (ctx.t("action.delete")) }
                            } }
                        }
                    }
                }
            }
        }
        @if triage {
            section class="card" {
                h2 { (ctx.t("alerts.new_suppression")) }
                form method="post" action=(SUPPRESSIONS) id="suppression-form" class="grid" {
                    (ctx.csrf_field())
                    label { (ctx.t("alerts.rule")) input name="rule" placeholder="dga"; }
                    label { (ctx.t("intel.category")) input name="category" placeholder="botnet_cc"; }
                    label { (ctx.t("alerts.victim_prefix")) input name="victim_prefix" placeholder="10.1."; }
                    label { (ctx.t("alerts.indicator_pattern")) input name="indicator_pattern" placeholder="*.cdn.example"; }
                    label title=(ctx.t("alerts.cidr_help")) { (ctx.t("alerts.src_cidr")) input name="src_cidr" placeholder="10.1.0.0/16" maxlength="100"; }
                    label title=(ctx.t("alerts.cidr_help")) { (ctx.t("alerts.dst_cidr")) input name="dst_cidr" placeholder="2001:db8::/32" maxlength="100"; }
                    label { (ctx.t("alerts.for_hours")) input name="hours" type="number" min="1" max=(MAX_SUPPRESSION_HOURS) value="24" required; }
                    label class="wide" { (ctx.t("alerts.reason")) input name="reason" required maxlength="2000"; }
                    button type="submit" { (ctx.t("alerts.suppress")) }
                }
            }
        }
    };
    Ok(super::page(&ctx, ctx.t("alerts.suppressions"), body))
}

pub async fn create_suppression(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    FormBody(raw): FormBody<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let hours =
        super::form_value(&raw, "hours").trim().parse::<i64>().ok().filter(|h| (1..=MAX_SUPPRESSION_HOURS).contains(h));
    let Some(hours) = hours else {
        return Ok(super::redirect_with(SUPPRESSIONS, "error", ctx.t("alerts.for_hours_bad")));
    };
    let new = NewSuppression {
        rule: super::form_value(&raw, "rule").to_owned(),
        category: super::form_value(&raw, "category").to_owned(),
        victim_prefix: super::form_value(&raw, "victim_prefix").to_owned(),
        indicator_pattern: super::form_value(&raw, "indicator_pattern").to_owned(),
        src_cidr: super::form_value(&raw, "src_cidr").to_owned(),
        dst_cidr: super::form_value(&raw, "dst_cidr").to_owned(),
        until: Some(state.store.clock().now() + time::Duration::hours(hours)),
        reason: super::form_value(&raw, "reason").to_owned(),
    };
    let result = state.store.create_alert_suppression(&p.actor(&client), &new).await;
    after_change(result, SUPPRESSIONS, ctx.t("saved"))
}

pub async fn delete_suppression(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let result = state.store.delete_alert_suppression(&p.actor(&client), id).await;
    after_change(result, SUPPRESSIONS, ctx.t("saved"))
}

// ---------------------------------------------------------------------------
// /alerts/victims

#[derive(Debug, Default, Deserialize)]
pub struct VictimsQuery {
    status: Option<String>,
    category: Option<String>,
    victim: Option<String>,
    q: Option<String>,
}

pub async fn victims(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<VictimsQuery>,
) -> Result<Response, ApiError> {
    let mut f = Flash::default();
    let filter =
        match alert_filter(q.status.as_deref(), q.category.as_deref(), None, q.victim.as_deref(), q.q.as_deref(), None)
        {
            Ok(filter) => filter,
            Err(e) => {
                f.error = Some(e.message);
                AlertFilter::default()
            }
        };
    let mask = masks_subscribers(ctx.principal.as_ref());
    let victims = victims_of(&state, &filter, VICTIM_LIMIT, mask).await?;
    let time = |t: &str| anbao_model::clock::parse_ts(t).map(|t| short_time(&t)).unwrap_or_else(|_| t.to_owned());
    let body = html! {
        (flash(&f))
        (alerts_nav(&ctx))
        p { (ctx.t("alerts.victims_help")) }
        form method="get" action=(VICTIMS) class="filters" id="victim-filters" {
            select name="status" { option value="" { (ctx.t("alerts.any_status")) }
                @for s in ALERT_STATUSES { option value=(s) selected[filter.status.as_deref() == Some(s)] { (ctx.t(status_key(s))) } } }
            select name="category" { (category_options(&ctx, &[], filter.category.as_deref())) }
            input name="victim" value=(filter.victim.clone().unwrap_or_default()) placeholder=(ctx.t("alerts.victim"));
            input name="q" value=(filter.q.clone().unwrap_or_default()) placeholder=(ctx.t("alerts.search"));
            button type="submit" { (ctx.t("action.filter")) }
        }
        table class="data" id="victims" {
            thead { tr {
                th { (ctx.t("alerts.victim")) } th { (ctx.t("nav.alerts")) } th { (ctx.t("alerts.events")) }
                th { (ctx.t("alerts.max_severity")) } th { (ctx.t("alerts.categories")) }
                th { (ctx.t("intel.first_seen")) } th { (ctx.t("intel.last_seen")) }
            } }
            tbody {
                @for v in &victims {
                    tr data-victim=(v.victim) {
                        td {
                            @if ctx.can(Permission::ReadSubscribers) { a href={ (LIST) "?victim=" (urlencode(&v.victim)) } { code { (v.victim) } } }
                            @else { code title=(ctx.t("alerts.masked")) { (v.victim) } }
                        }
                        td data-count="alerts" { (v.alerts) }
                        td data-count="events" { (v.events) }
                        td { (severity_badge(&ctx, v.max_severity)) }
                        td { @for (i, c) in v.categories.iter().enumerate() { @if i > 0 { ", " } span data-category=(c) { (category_label(&ctx, c)) } } }
                        td class="nowrap" { (time(&v.first_seen)) }
                        td class="nowrap" { (time(&v.last_seen)) }
                    }
                }
            }
        }
        @if victims.len() as i64 == VICTIM_LIMIT { p class="small" { (ctx.t("alerts.victims_limited")) " " (VICTIM_LIMIT) } }
    };
    Ok(super::page(&ctx, ctx.t("nav.alert_victims"), body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::{Lang, MESSAGES};

    /// Keys chosen at run time escape the i18n test's scan for `t("…")`.
    #[test]
    fn every_status_action_and_severity_has_a_label() {
        let keys = ALERT_STATUSES
            .iter()
            .map(|s| status_key(s))
            .chain(ALERT_ACTIONS.iter().map(|a| action_key(a)))
            .chain(["alerts.sev.low", "alerts.sev.medium", "alerts.sev.high", "alerts.sev.critical"]);
        for key in keys {
            assert!(MESSAGES.iter().any(|(k, _, _)| *k == key), "{key} is not in i18n::MESSAGES");
        }
        let distinct: std::collections::BTreeSet<&str> = ALERT_STATUSES.iter().map(|s| status_key(s)).collect();
        assert_eq!(distinct.len(), ALERT_STATUSES.len(), "each status has its own label");
        let distinct: std::collections::BTreeSet<&str> = ALERT_ACTIONS.iter().map(|a| action_key(a)).collect();
        assert_eq!(distinct.len(), ALERT_ACTIONS.len(), "each action has its own label");
        assert_eq!(crate::i18n::t(Lang::En, "alerts.status.false_positive"), "false positive");
    }

    #[test]
    fn the_chart_has_every_hour_and_the_biggest_category_first() {
        use crate::api::alerts::HourCount;
        let ctx = Ctx { lang: Lang::En, principal: None, instance_name: String::new(), path: "/alerts".into() };
        let first = time::macros::datetime!(2026-11-25 08:15 UTC);
        let count =
            |hour: &str, category: &str, events| HourCount { hour: hour.into(), category: category.into(), events };
        let counts = [
            count("2026-11-25T08", "phishing", 2),
            count("2026-11-25T10", "dga", 5),
            count("2026-11-25T10", "phishing", 1),
        ];
        let (series, stacks) = hourly_stacks(&ctx, first, 3, &counts);
        let keys: Vec<&str> = series.iter().map(|s| s.key.as_str()).collect();
        assert_eq!(keys, ["dga", "phishing"]);
        assert_eq!(series.get(1).map(|s| s.label.as_str()), Some("Phishing"));
        let labels: Vec<&str> = stacks.iter().map(|(l, _)| l.as_str()).collect();
        assert_eq!(labels, ["11-25 08:00", "11-25 09:00", "11-25 10:00"]);
        let values: Vec<&Vec<i64>> = stacks.iter().map(|(_, v)| v).collect();
        assert_eq!(values, [&vec![0, 2], &vec![0, 0], &vec![5, 1]]);
    }
}
