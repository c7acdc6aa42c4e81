//! Incident pages (issue #7, R2.5): `/incidents` (list with level badges and
//! the countdown to each reporting deadline), `/incidents/new` (the form,
//! whose level preview follows the facts by calling the grade endpoint) and
//! `/incidents/{id}` (facts, level and why, deadline, timeline, and the
//! forms that change them).

use anbao_model::Permission;
use anbao_model::Timestamp;
use anbao_model::clock::{format_ts, parse_ts};
use anbao_model::incident::{
    AreaScope, IncidentFacts, IncidentLevel, IncidentStatus, IncidentType, Influence, OperatorCategory,
};
use anbao_store::{Incident, IncidentFilter};
use axum::extract::State;
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;

use super::{
    Ctx, Flash, FormError, OrBounce, after_change, flash, form_value, redirect_with, short_time, unit_options,
};
use crate::AppState;
use crate::api::incidents::{CreateBody, FactsBody, GradeOut, draft, explain, grade_facts, rules, visible};
use crate::auth::{ClientAddr, Principal};
use crate::error::ApiError;
use crate::extract::{FormBody, Path, Query};

const LIST: &str = "/incidents";

pub fn level_key(l: IncidentLevel) -> &'static str {
    match l {
        IncidentLevel::I => "incident.level.I",
        IncidentLevel::II => "incident.level.II",
        IncidentLevel::III => "incident.level.III",
        IncidentLevel::IV => "incident.level.IV",
        IncidentLevel::None => "incident.level.none",
    }
}

fn level_class(l: IncidentLevel) -> &'static str {
    match l {
        IncidentLevel::I | IncidentLevel::II => "badge red",
        IncidentLevel::III => "badge amber",
        IncidentLevel::IV => "badge",
        IncidentLevel::None => "badge green",
    }
}

pub fn level_badge(ctx: &Ctx, l: IncidentLevel) -> Markup {
    html! { span class=(level_class(l)) data-level=(l.as_str()) { (ctx.t(level_key(l))) } }
}

pub(crate) fn type_key(t: IncidentType) -> &'static str {
    match t {
        IncidentType::Ddos => "incident.type.ddos",
        IncidentType::DnsFailure => "incident.type.dns_failure",
        IncidentType::DataLeak => "incident.type.data_leak",
        IncidentType::Malware => "incident.type.malware",
        IncidentType::Defacement => "incident.type.defacement",
        IncidentType::Intrusion => "incident.type.intrusion",
        IncidentType::Phishing => "incident.type.phishing",
        IncidentType::Outage => "incident.type.outage",
        IncidentType::Other => "incident.type.other",
    }
}

pub(crate) fn status_key(s: IncidentStatus) -> &'static str {
    match s {
        IncidentStatus::Open => "incident.status.open",
        IncidentStatus::Contained => "incident.status.contained",
        IncidentStatus::Closed => "incident.status.closed",
    }
}

fn scope_key(s: AreaScope) -> &'static str {
    match s {
        AreaScope::None => "incident.scope.none",
        AreaScope::City => "incident.scope.city",
        AreaScope::Province => "incident.scope.province",
        AreaScope::MultiProvince => "incident.scope.multi_province",
        AreaScope::Nationwide => "incident.scope.nationwide",
    }
}

fn influence_key(i: Influence) -> &'static str {
    match i {
        Influence::None => "incident.influence.none",
        Influence::Provincial => "incident.influence.provincial",
        Influence::National => "incident.influence.national",
    }
}

pub(crate) fn category_key(c: OperatorCategory) -> &'static str {
    match c {
        OperatorCategory::Cii => "incident.category.cii",
        OperatorCategory::Central => "incident.category.central",
        OperatorCategory::Other => "incident.category.other",
    }
}

/// "1h 05m" left or overdue, as the server sees it when rendering; the
/// page script keeps it current.
pub(crate) fn countdown(ctx: &Ctx, now: Timestamp, report_by: Option<&str>, closed: bool) -> Markup {
    let Some(by) = report_by.and_then(|s| parse_ts(s).ok()) else {
        return html! { span class="small" { "—" } };
    };
    let minutes = (by - now).whole_minutes();
    let text = |m: i64| format!("{}h {:02}m", m / 60, m % 60);
    let (class, label) = if minutes >= 0 {
        ("badge amber", format!("{} {}", ctx.t("incident.left"), text(minutes)))
    } else {
        ("badge red", format!("{} {}", ctx.t("incident.overdue"), text(-minutes)))
    };
    html! {
        span class=(class) data-deadline=[(!closed).then(|| format_ts(by))]
            data-left=(ctx.t("incident.left")) data-overdue=(ctx.t("incident.overdue")) { (label) }
        " " span class="small" { (short_time(&by)) }
    }
}

// ---------------------------------------------------------------------------
// /incidents

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    pub status: Option<String>,
    pub ok: Option<String>,
    pub error: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Query(q): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let status = q.status.as_deref().filter(|s| !s.is_empty()).and_then(|s| s.parse::<IncidentStatus>().ok());
    let filter = IncidentFilter { status, level: None };
    let incidents = state.store.list_incidents(p.scope_filter().as_deref(), &filter).await?;
    let now = state.store.clock().now();
    let f = Flash { ok: q.ok, error: q.error };
    let body = html! {
        (flash(&f))
        @if ctx.can(Permission::ManageIncidents) {
            p class="actions" { a href="/incidents/new" id="new-incident" { (ctx.t("incident.new")) } }
        }
        form method="get" action=(LIST) class="filters" id="incident-filters" {
            label { (ctx.t("field.status")) select name="status" {
                option value="" { (ctx.t("incident.all")) }
                @for s in IncidentStatus::ALL { option value=(s.as_str()) selected[status == Some(*s)] { (ctx.t(status_key(*s))) } }
            } }
            button type="submit" { (ctx.t("action.filter")) }
        }
        @if incidents.is_empty() {
            p class="small" id="no-incidents" { (ctx.t("incident.none_yet")) }
        } @else {
            table class="data" id="incidents" {
                thead { tr {
                    th { "#" } th { (ctx.t("incident.title")) } th { (ctx.t("incident.type")) } th { (ctx.t("incident.level")) }
                    th { (ctx.t("field.status")) } th { (ctx.t("incident.discovered_at")) } th { (ctx.t("incident.report_by")) }
                } }
                tbody {
                    @for i in &incidents {
                        tr data-incident=(i.id) {
                            td { (i.id) }
                            td { a href={ "/incidents/" (i.id) } { (i.title) } }
                            td { (ctx.t(type_key(i.incident_type))) }
                            td { (level_badge(&ctx, i.level)) @if i.level_override.is_some() { " " span class="small" { (ctx.t("incident.overridden")) } } }
                            td { (ctx.t(status_key(i.status))) }
                            td class="nowrap" { (parse_ts(&i.discovered_at).map(|t| short_time(&t)).unwrap_or_default()) }
                            td class="nowrap" { (countdown(&ctx, now, i.report_by.as_deref(), i.status == IncidentStatus::Closed)) }
                        }
                    }
                }
            }
        }
    };
    Ok(super::page(&ctx, ctx.t("nav.incidents"), body))
}

// ---------------------------------------------------------------------------
// Forms

/// The facts fields, filled from `f`.
fn facts_fields(ctx: &Ctx, f: &IncidentFacts) -> Markup {
    let scope_select = |name: &'static str, current: AreaScope| {
        html! { select name=(name) { @for s in AreaScope::ALL { option value=(s.as_str()) selected[current == *s] { (ctx.t(scope_key(*s))) } } } }
    };
    html! {
        label { (ctx.t("incident.users_offline_scope")) (scope_select("users_offline_scope", f.users_offline_scope)) }
        label { (ctx.t("incident.records_leaked")) input type="number" name="records_leaked" min="0" step="1" value=(f.records_leaked); }
        label { (ctx.t("incident.platform_influence")) select name="platform_influence" {
            @for i in Influence::ALL { option value=(i.as_str()) selected[f.platform_influence == *i] { (ctx.t(influence_key(*i))) } } } }
        label { (ctx.t("incident.malware_spread_scope")) (scope_select("malware_spread_scope", f.malware_spread_scope)) }
        label class="check" { input type="checkbox" name="national_tld_affected" value="true" checked[f.national_tld_affected]; " " (ctx.t("incident.national_tld_affected")) }
        label class="check" { input type="checkbox" name="large_dns_affected" value="true" checked[f.large_dns_affected]; " " (ctx.t("incident.large_dns_affected")) }
    }
}

/// The facts of a posted form; an unknown value names its field.
fn facts_from_form(raw: &[(String, String)]) -> Result<FactsBody, String> {
    let one = |k: &str| form_value(raw, k).trim();
    let parse_scope = |k: &'static str| -> Result<AreaScope, String> {
        match one(k) {
            "" => Ok(AreaScope::None),
            v => v.parse().map_err(|e| format!("{k}: {e}")),
        }
    };
    let records = match one("records_leaked") {
        "" => 0,
        s => s.parse::<u64>().map_err(|_| format!("records_leaked: {s:?} is not a whole number of records"))?,
    };
    let influence = match one("platform_influence") {
        "" => Influence::None,
        s => s.parse().map_err(|e| format!("platform_influence: {e}"))?,
    };
    let flag = |k: &str| matches!(one(k), "true" | "on" | "1");
    Ok(FactsBody {
        users_offline_scope: parse_scope("users_offline_scope")?,
        records_leaked: records,
        national_tld_affected: flag("national_tld_affected"),
        large_dns_affected: flag("large_dns_affected"),
        platform_influence: influence,
        malware_spread_scope: parse_scope("malware_spread_scope")?,
    })
}

/// The level preview: rendered for the initial facts, kept current by the
/// page script through `POST /api/v1/incidents/grade`.
fn preview(ctx: &Ctx, g: &GradeOut) -> Markup {
    let level: IncidentLevel = g.level.parse().unwrap_or(IncidentLevel::None);
    let labels: serde_json::Map<String, serde_json::Value> = IncidentLevel::ALL
        .iter()
        .map(|l| (l.as_str().to_owned(), serde_json::Value::from(ctx.t(level_key(*l)))))
        .collect();
    let explanation = match ctx.lang {
        crate::Lang::Zh => &g.explanation_zh,
        crate::Lang::En => &g.explanation,
    };
    html! {
        section class="card" id="grade-preview" aria-live="polite" data-labels=(serde_json::Value::Object(labels).to_string())
            data-minutes=(ctx.t("incident.minutes")) data-immediately=(ctx.t("incident.immediately")) data-no-clock=(ctx.t("incident.no_clock")) {
            h2 { (ctx.t("incident.preview")) }
            p { span id="preview-level" class=(level_class(level)) data-level=(level.as_str()) { (ctx.t(level_key(level))) } }
            p id="preview-explanation" { (explanation) }
            p id="preview-deadline" class="small" {
                @match (g.report_within_minutes, &g.report_by) {
                    (Some(m), Some(by)) => { (ctx.t("incident.report_by")) " " (by) " (" (m) " " (ctx.t("incident.minutes")) ")"
                        @if g.report_immediately { " · " (ctx.t("incident.immediately")) } },
                    _ => (ctx.t("incident.no_clock")),
                }
            }
            p id="preview-error" class="small" role="alert" hidden {}
        }
    }
}

pub async fn new_form(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Query(f): Query<Flash>,
) -> Result<Response, ApiError> {
    let units = state.store.list_org_units().await?;
    let now = state.store.clock().now();
    let category = state.config.operator_category;
    let (g, d) = grade_facts(&state, &IncidentFacts::default(), category, now)?;
    let initial = GradeOut::new(&g, category, &d);
    let body = html! {
        (flash(&f))
        form method="post" action=(LIST) id="incident-form" class="grid" data-grade-url="/api/v1/incidents/grade" {
            (ctx.csrf_field())
            label { (ctx.t("field.org_unit")) select name="org_unit_id" { (unit_options(&units, &p.scope, Some(p.home_unit))) } }
            label { (ctx.t("incident.type")) select name="incident_type" {
                @for t in IncidentType::ALL { option value=(t.as_str()) { (ctx.t(type_key(*t))) } } } }
            label class="wide" { (ctx.t("incident.title")) input name="title" required maxlength="200"; }
            label class="wide" { (ctx.t("incident.summary")) textarea name="summary" rows="3" maxlength="4000" {} }
            label { (ctx.t("incident.discovered_at")) input name="discovered_at" value=(format_ts(now)) required; }
            label { (ctx.t("incident.operator_category")) select name="operator_category" {
                @for c in OperatorCategory::ALL { option value=(c.as_str()) selected[*c == category] { (ctx.t(category_key(*c))) } } } }
            (facts_fields(&ctx, &IncidentFacts::default()))
            button type="submit" id="create-incident" { (ctx.t("incident.create")) }
        }
        (preview(&ctx, &initial))
        p class="small" { (ctx.t("incident.source")) }
    };
    Ok(super::page(&ctx, ctx.t("incident.new"), body))
}

pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    FormBody(raw): FormBody<Vec<(String, String)>>,
) -> Result<Response, FormError> {
    let back = "/incidents/new";
    let one = |k: &str| form_value(&raw, k).trim().to_owned();
    let facts = facts_from_form(&raw).or_bounce(back)?;
    let parsed = (|| -> Result<CreateBody, String> {
        Ok(CreateBody {
            org_unit_id: one("org_unit_id").parse().ok(),
            incident_type: one("incident_type").parse().map_err(|e| format!("incident_type: {e}"))?,
            title: one("title"),
            summary: one("summary").replace("\r\n", "\n"),
            facts,
            operator_category: Some(one("operator_category").parse().map_err(|e| format!("operator_category: {e}"))?),
            discovered_at: Some(one("discovered_at")),
        })
    })();
    let body = parsed.or_bounce(back)?;
    let d = draft(&state, &p, body).or_bounce(back)?;
    match state.store.create_incident(&p.actor(&client), &d, rules(&state)?).await {
        Ok(i) => Ok(redirect_with(&format!("/incidents/{}", i.id), "ok", ctx.t("saved"))),
        Err(e) => Ok(redirect_with(back, "error", &super::user_message(e)?)),
    }
}

// ---------------------------------------------------------------------------
// /incidents/{id}

pub(crate) fn facts_list(ctx: &Ctx, f: &IncidentFacts) -> Markup {
    let yes_no = |b: bool| if b { ctx.t("incident.yes") } else { ctx.t("incident.no") };
    html! {
        dl id="incident-facts" {
            dt { (ctx.t("incident.users_offline_scope")) } dd data-fact="users_offline_scope" { (ctx.t(scope_key(f.users_offline_scope))) }
            dt { (ctx.t("incident.records_leaked")) } dd data-fact="records_leaked" { (f.records_leaked) }
            dt { (ctx.t("incident.national_tld_affected")) } dd data-fact="national_tld_affected" { (yes_no(f.national_tld_affected)) }
            dt { (ctx.t("incident.large_dns_affected")) } dd data-fact="large_dns_affected" { (yes_no(f.large_dns_affected)) }
            dt { (ctx.t("incident.platform_influence")) } dd data-fact="platform_influence" { (ctx.t(influence_key(f.platform_influence))) }
            dt { (ctx.t("incident.malware_spread_scope")) } dd data-fact="malware_spread_scope" { (ctx.t(scope_key(f.malware_spread_scope))) }
        }
    }
}

fn manage_forms(ctx: &Ctx, i: &Incident) -> Markup {
    let id = i.id;
    html! {
        section class="card" id="incident-manage" {
            h2 { (ctx.t("incident.handle")) }
            @if i.acknowledged_at.is_none() {
                form method="post" action={ "/incidents/" (id) "/acknowledge" } id="incident-ack-form" class="filters" {
                    (ctx.csrf_field())
                    button type="submit" id="acknowledge" { (ctx.t("incident.acknowledge")) }
                }
            }
            form method="post" action={ "/incidents/" (id) "/status" } id="incident-status-form" class="filters" {
                (ctx.csrf_field())
                select name="status" aria-label=(ctx.t("field.status")) {
                    @for s in IncidentStatus::ALL { option value=(s.as_str()) selected[i.status == *s] { (ctx.t(status_key(*s))) } }
                }
                button type="submit" { (ctx.t("incident.set_status")) }
            }
            form method="post" action={ "/incidents/" (id) "/level" } id="incident-level-form" class="grid" {
                (ctx.csrf_field())
                label { (ctx.t("incident.override")) select name="level" {
                    option value="" { (ctx.t("incident.computed")) }
                    @for l in IncidentLevel::ALL.iter().rev() { option value=(l.as_str()) selected[i.level_override == Some(*l)] { (ctx.t(level_key(*l))) } }
                } }
                label class="wide" { (ctx.t("incident.override_reason")) textarea name="reason" rows="2" required maxlength="4000" {} }
                button type="submit" { (ctx.t("incident.set_level")) }
            }
            details {
                summary { (ctx.t("incident.edit_facts")) }
                form method="post" action={ "/incidents/" (id) "/facts" } id="incident-facts-form" class="grid" {
                    (ctx.csrf_field())
                    (facts_fields(ctx, &i.facts))
                    button type="submit" { (ctx.t("action.save")) }
                }
            }
        }
    }
}

/// The incident page's query: the flash messages, and the observable whose
/// intel lookup is shown inline.
#[derive(Debug, Default, Deserialize)]
pub struct DetailQuery {
    pub ok: Option<String>,
    pub error: Option<String>,
    pub lookup: Option<i64>,
}

/// A duration in whole minutes, hours and days as people read it: `45 min`,
/// `2 h 5 min`, `3 d 4 h`.
pub(crate) fn human_duration(seconds: f64) -> String {
    let minutes = (seconds / 60.0).round() as i64;
    match minutes {
        m if m < 60 => format!("{m} min"),
        m if m < 24 * 60 => match m % 60 {
            0 => format!("{} h", m / 60),
            r => format!("{} h {r} min", m / 60),
        },
        m => match (m / 60) % 24 {
            0 => format!("{} d", m / (24 * 60)),
            h => format!("{} d {h} h", m / (24 * 60)),
        },
    }
}

/// One handling step: when, and how long after discovery; "—" before it.
fn handling_step(ctx: &Ctx, key: &str, label: &'static str, discovered: &str, at: Option<&str>) -> Markup {
    let took = at.and_then(|a| Some((parse_ts(a).ok()? - parse_ts(discovered).ok()?).whole_seconds().max(0)));
    html! {
        span data-step=(key) data-at=[at] {
            (ctx.t(label)) ": "
            @match (at, took) {
                (Some(a), Some(s)) => { (parse_ts(a).map(|t| short_time(&t)).unwrap_or_else(|_| a.to_owned())) " (+" (human_duration(s as f64)) ")" },
                _ => "—",
            }
        }
    }
}

pub async fn detail(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Path(id): Path<i64>,
    Query(q): Query<DetailQuery>,
) -> Result<Response, ApiError> {
    let f = Flash { ok: q.ok, error: q.error };
    let i = visible(&state, &p, id).await?;
    let evidence = super::incident_evidence::sections(&state, &ctx, &p, &i, q.lookup).await?;
    let (why_en, why_zh, criterion) = explain(&state, &i)?;
    let why = match ctx.lang {
        crate::Lang::Zh => why_zh,
        crate::Lang::En => why_en,
    };
    let timeline = state.store.incident_timeline(id).await?;
    let now = state.store.clock().now();
    let manage = ctx.can(Permission::ManageIncidents);
    let reports = super::reports::incident_section(&state, &ctx, &i).await?;
    let leak = super::incident_leaks::section(&state, &ctx, &i, manage).await?;
    let tasks = state.store.incident_tasks(id).await?;
    let (_, related_alerts, related_assets) = crate::api::incidents::related(&state, &p, id).await?;
    let task_form = if manage { Some(super::board::task_form(&state, &ctx, &p, id, "incident").await?) } else { None };
    let time = |t: &str| parse_ts(t).map(|t| short_time(&t)).unwrap_or_else(|_| t.to_owned());
    let lines = |s: &str| html! { @for (n, line) in s.lines().enumerate() { @if n > 0 { br; } (line) } };
    let body = html! {
        (flash(&f))
        (leak)
        p class="actions" { a href=(LIST) { (ctx.t("nav.incidents")) } " " a href={ "/incidents/" (i.id) "/board" } id="open-board" { (ctx.t("board.board")) } }
        section class="card" id="incident-detail" data-incident=(i.id) data-exercise=(i.exercise) {
            @if i.exercise { p { span class="badge blue" id="exercise-badge" { (ctx.t("incident.exercise")) } } }
            dl {
                dt { (ctx.t("incident.type")) } dd id="incident-type" { (ctx.t(type_key(i.incident_type))) }
                dt { (ctx.t("incident.level")) } dd id="incident-level" { (level_badge(&ctx, i.level))
                    @if i.level_override.is_some() { " " span class="small" { (ctx.t("incident.overridden")) " · " (ctx.t("incident.computed")) ": " (ctx.t(level_key(i.computed_level))) } } }
                dt { (ctx.t("incident.why")) } dd id="incident-why" { (why)
                    // The computed explanation names its article already.
                    @if let (Some(c), Some(_)) = (&criterion, i.level_override) { " " span class="req" { (c.article) } } }
                dt { (ctx.t("field.status")) } dd id="incident-status" data-status=(i.status.as_str()) { (ctx.t(status_key(i.status))) }
                dt { (ctx.t("incident.discovered_at")) } dd { (time(&i.discovered_at)) }
                dt { (ctx.t("incident.handling")) } dd id="incident-handling" {
                    (handling_step(&ctx, "acknowledged", "incident.acknowledged_at", &i.discovered_at, i.acknowledged_at.as_deref()))
                    @if !i.acknowledged_by.is_empty() { " (" (i.acknowledged_by) ")" }
                    br;
                    (handling_step(&ctx, "contained", "incident.contained_at", &i.discovered_at, i.contained_at.as_deref()))
                    br;
                    (handling_step(&ctx, "closed", "incident.closed_at", &i.discovered_at, i.closed_at.as_deref()))
                }
                dt { (ctx.t("incident.operator_category")) } dd { (ctx.t(category_key(i.operator_category))) }
                dt { (ctx.t("incident.report_by")) } dd id="incident-deadline" {
                    (countdown(&ctx, now, i.report_by.as_deref(), i.status == IncidentStatus::Closed))
                    @if let Some(m) = i.report_within_minutes { " " span class="small" { "(" (m) " " (ctx.t("incident.minutes")) ")" } }
                    @if i.report_immediately { " " span class="badge red" id="report-immediately" { (ctx.t("incident.immediately")) } }
                }
                @if !i.summary.is_empty() { dt { (ctx.t("incident.summary")) } dd id="incident-summary" { (lines(&i.summary)) } }
                dt { (ctx.t("incident.created_by")) } dd { (i.created_by) " · " (time(&i.created_at)) }
            }
            @if ctx.can(Permission::ReadAudit) {
                p { a href={ "/audit?object_type=incident&object_id=" (i.id) } { (ctx.t("audit.history")) } }
            }
        }
        section class="card" { h2 { (ctx.t("incident.facts")) } (facts_list(&ctx, &i.facts)) }
        section class="card" id="incident-related" {
            h2 { (ctx.t("incident.related_alerts")) }
            @if related_alerts.is_empty() {
                p class="small" { (ctx.t("incident.related_none")) }
            } @else {
                ul id="incident-alerts" {
                    @for a in &related_alerts {
                        li data-alert=(a.id) { a href={ "/alerts/" (a.id) } { "#" (a.id) " " (a.category) " · " (a.indicator) } " ×" (a.count) }
                    }
                }
            }
            h2 { (ctx.t("incident.related_assets")) }
            div id="incident-assets" { (super::assets::affected_list(&ctx, &related_assets)) }
        }
        @if manage { (manage_forms(&ctx, &i)) }
        section class="card" id="incident-task-section" {
            h2 { (ctx.t("board.tasks")) }
            (super::board::tasks_table(&ctx, &tasks, now))
            @if let Some(form) = task_form { (form) }
        }
        (evidence)
        (reports)
        section class="card" {
            h2 { (ctx.t("incident.timeline")) }
            table class="data" id="incident-timeline" {
                thead { tr { th { (ctx.t("field.time")) } th { (ctx.t("incident.entry")) } th { (ctx.t("field.actor")) } } }
                tbody {
                    @for e in &timeline {
                        tr data-kind=(e.kind) {
                            td class="nowrap" { (time(&e.at)) }
                            td class="detail" { (lines(&e.entry)) }
                            td { (e.actor) }
                        }
                    }
                }
            }
            @if manage {
                form method="post" action={ "/incidents/" (i.id) "/timeline" } id="incident-entry-form" class="grid" {
                    (ctx.csrf_field())
                    label class="wide" { (ctx.t("incident.entry")) textarea name="entry" rows="2" required maxlength="4000" {} }
                    label { (ctx.t("incident.entry_at")) input name="at" placeholder=(format_ts(now)); }
                    button type="submit" { (ctx.t("action.add")) }
                }
            }
        }
    };
    Ok(super::page(&ctx, &format!("{} #{} · {}", ctx.t("incident.incident"), i.id, i.title), body))
}

pub async fn update_facts(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    FormBody(raw): FormBody<Vec<(String, String)>>,
) -> Result<Response, FormError> {
    visible(&state, &p, id).await?;
    let back = format!("/incidents/{id}");
    let facts = facts_from_form(&raw).or_bounce(&back)?;
    after_change(
        state.store.update_incident_facts(&p.actor(&client), id, &facts.into(), rules(&state)?).await,
        &back,
        ctx.t("saved"),
    )
}

pub async fn override_level(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    FormBody(raw): FormBody<Vec<(String, String)>>,
) -> Result<Response, FormError> {
    visible(&state, &p, id).await?;
    let back = format!("/incidents/{id}");
    let level = match form_value(&raw, "level").trim() {
        "" => None,
        s => Some(s.parse::<IncidentLevel>().map_err(|e| format!("level: {e}")).or_bounce(&back)?),
    };
    after_change(
        state
            .store
            .override_incident_level(
                &p.actor(&client),
                id,
                level,
                &form_value(&raw, "reason").replace("\r\n", "\n"),
                rules(&state)?,
            )
            .await,
        &back,
        ctx.t("saved"),
    )
}

pub async fn set_status(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    FormBody(raw): FormBody<Vec<(String, String)>>,
) -> Result<Response, FormError> {
    visible(&state, &p, id).await?;
    let back = format!("/incidents/{id}");
    let status = form_value(&raw, "status")
        .trim()
        .parse::<IncidentStatus>()
        .map_err(|e| format!("status: {e}"))
        .or_bounce(&back)?;
    after_change(state.store.set_incident_status(&p.actor(&client), id, status).await, &back, ctx.t("saved"))
}

/// `POST /incidents/{id}/acknowledge`: the responder has seen it.
pub async fn acknowledge(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    visible(&state, &p, id).await?;
    let back = format!("/incidents/{id}");
    after_change(state.store.acknowledge_incident(&p.actor(&client), id).await, &back, ctx.t("incident.acknowledged"))
}

pub async fn add_entry(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    FormBody(raw): FormBody<Vec<(String, String)>>,
) -> Result<Response, FormError> {
    visible(&state, &p, id).await?;
    let back = format!("/incidents/{id}");
    let at = match form_value(&raw, "at").trim() {
        "" => None,
        s => Some(parse_ts(s).map_err(|_| format!("at: {s:?} is not an RFC 3339 time")).or_bounce(&back)?),
    };
    after_change(
        state
            .store
            .add_incident_entry(&p.actor(&client), id, at, &form_value(&raw, "entry").replace("\r\n", "\n"))
            .await,
        &back,
        ctx.t("saved"),
    )
}

// ---------------------------------------------------------------------------
// Escalation from an alert

/// The incident type an alert category suggests.
fn type_for_category(category: &str) -> IncidentType {
    match category {
        "phishing" => IncidentType::Phishing,
        "botnet_cc" | "malware" | "dga" | "ransomware" => IncidentType::Malware,
        "dns_tunnel" | "fast_flux" => IncidentType::DnsFailure,
        _ => IncidentType::Other,
    }
}

/// `POST /alerts/{id}/incident`: opens an incident from an alert (type from
/// its category, discovered when the alert was first seen, in the caller's
/// home unit, facts still to be entered), records the escalation on the
/// alert, and shows the new incident.
pub async fn escalate_alert(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path(alert_id): Path<i64>,
) -> Result<Response, FormError> {
    let mask = crate::api::alerts::masks_subscribers(Some(&p));
    let a = crate::api::alerts::alert_detail(&state, alert_id, mask, None).await?.alert;
    let back = format!("/alerts/{alert_id}");
    let discovered_at = match parse_ts(&a.first_seen) {
        Ok(t) => t.min(state.store.clock().now()),
        Err(_) => state.store.clock().now(),
    };
    let summary = a.evidence.get("summary").and_then(serde_json::Value::as_str).unwrap_or_default();
    let d = anbao_store::IncidentDraft {
        org_unit_id: p.home_unit,
        incident_type: type_for_category(&a.category),
        title: format!("{} #{}: {} · {}", ctx.t("alerts.alert"), a.id, a.indicator, a.victim)
            .chars()
            .take(200)
            .collect(),
        summary: format!("/alerts/{}\n{} {} ({}) ×{}\n{summary}", a.id, a.category, a.indicator, a.victim, a.count)
            .chars()
            .take(anbao_store::INCIDENT_TEXT_MAX)
            .collect(),
        facts: IncidentFacts::default(),
        operator_category: state.config.operator_category,
        discovered_at,
    };
    let actor = p.actor(&client);
    // Opened and linked in one transaction; an alert already linked shows
    // its incident instead of opening a second one.
    let incident = match state
        .store
        .open_incident_for_alert(&actor, alert_id, &d, rules(&state)?)
        .await
        .or_bounce(&back)?
    {
        Some(i) => i,
        None => match state.store.incident_of_alert(alert_id).await? {
            Some(existing) => {
                return Ok(redirect_with(&format!("/incidents/{existing}"), "ok", ctx.t("incident.already_escalated")));
            }
            None => return Ok(redirect_with(&back, "error", ctx.t("incident.already_escalated"))),
        },
    };
    // Two audited changes; should the second fail, the incident still
    // names the alert in its summary.
    state
        .store
        .add_alert_action(&actor, alert_id, "escalated", &format!("/incidents/{}", incident.id))
        .await
        .or_bounce(&format!("/incidents/{}", incident.id))?;
    Ok(redirect_with(&format!("/incidents/{}", incident.id), "ok", ctx.t("incident.escalated")))
}
