//! Regulator report pages (issue #7, R2.4, R8.5): the "Reports" section of
//! `/incidents/{id}` (generate, list, submit, root cause and lessons), the
//! printable report `/reports/{id}` and its PDF `/reports/{id}.pdf`, and
//! the collector's `/reports/received` with the registered senders.

use anbao_model::Permission;
use anbao_model::clock::parse_ts;
use anbao_model::incident::{IncidentStatus, TaskStatus};
use anbao_model::report::{IncidentReport, ReportKind};
use anbao_store::Incident;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};

use super::incidents::{category_key, facts_list, level_badge, status_key, type_key};
use super::{Ctx, Flash, FormError, OrBounce, after_change, flash, form_value, redirect_with, short_time};
use crate::AppState;
use crate::api::incidents::{rules, visible};
use crate::api::reports::{organisation, signing_key, submit_report, visible_report};
use crate::auth::{ClientAddr, Principal};
use crate::error::ApiError;
use crate::extract::{FormBody, Path, Query};

pub fn kind_key(k: ReportKind) -> &'static str {
    match k {
        ReportKind::Initial => "report.kind.initial",
        ReportKind::Progress => "report.kind.progress",
        ReportKind::Final => "report.kind.final",
    }
}

fn time(t: &str) -> String {
    parse_ts(t).map(|t| short_time(&t)).unwrap_or_else(|_| t.to_owned())
}

fn lines(s: &str) -> Markup {
    html! { @for (n, line) in s.lines().enumerate() { @if n > 0 { br; } (line) } }
}

/// The "Reports" section of an incident's page.
pub async fn incident_section(state: &AppState, ctx: &Ctx, i: &Incident) -> Result<Markup, ApiError> {
    let reports = state.store.incident_reports(i.id).await?;
    let mut rows = Vec::with_capacity(reports.len());
    for r in reports {
        let subs = state.store.report_submissions(r.id).await?;
        rows.push((r, subs));
    }
    let manage = ctx.can(Permission::ManageIncidents);
    let can_submit = manage && state.config.report_submission_url.is_some();
    let id = i.id;
    let follow_ups = state.store.incident_follow_ups(i.id).await?;
    let now = state.store.clock().now();
    let open_follow_ups = follow_ups.iter().filter(|t| t.status.is_pending()).count();
    Ok(html! {
        section class="card" id="incident-reports" {
            h2 { (ctx.t("report.reports")) }
            @if rows.is_empty() {
                p class="small" id="no-reports" { (ctx.t("report.none_yet")) }
            } @else {
                table class="data" id="report-list" {
                    thead { tr {
                        th { "#" } th { (ctx.t("report.kind")) } th { (ctx.t("field.time")) } th { (ctx.t("field.actor")) }
                        th { "SHA-256" } th { (ctx.t("report.download")) } th { (ctx.t("report.submissions")) }
                    } }
                    tbody {
                        @for (r, subs) in &rows {
                            tr data-report=(r.id) data-kind=(r.kind.as_str()) {
                                td { (r.id) }
                                td { (ctx.t(kind_key(r.kind))) }
                                td class="nowrap" { (time(&r.created_at)) }
                                td { (r.created_by) }
                                td { code title=(r.sha256) { (r.sha256.get(..16).unwrap_or_default()) "…" } }
                                td class="nowrap" {
                                    a href={ "/reports/" (r.id) } { "HTML" } " · "
                                    a href={ "/reports/" (r.id) ".pdf" } { "PDF" } " · "
                                    a href={ "/api/v1/reports/" (r.id) } { "JSON" }
                                }
                                td {
                                    @for s in subs {
                                        div class="small" data-outcome=(s.outcome) {
                                            (time(&s.submitted_at)) " " (s.recipient) " · "
                                            span class=(if s.outcome == "accepted" { "badge green" } else { "badge red" }) {
                                                (s.outcome) @if let Some(code) = s.http_status { " " (code) }
                                            }
                                            @if !s.error.is_empty() { " " (s.error) }
                                        }
                                    }
                                    @if can_submit {
                                        form method="post" action={ "/reports/" (r.id) "/submit" } class="inline" {
                                            (ctx.csrf_field())
                                            button type="submit" data-submit-report=(r.id) { (ctx.t("report.submit")) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if manage {
                form method="post" action={ "/incidents/" (id) "/reports" } id="report-generate-form" class="filters" {
                    (ctx.csrf_field())
                    select name="kind" aria-label=(ctx.t("report.kind")) {
                        @for k in ReportKind::ALL { option value=(k.as_str()) { (ctx.t(kind_key(k))) } }
                    }
                    button type="submit" { (ctx.t("report.generate")) }
                }
                details open[i.status == IncidentStatus::Closed && (i.root_cause.is_empty() || i.lessons.is_empty())] {
                    summary { (ctx.t("report.review")) }
                    form method="post" action={ "/incidents/" (id) "/review" } id="incident-review-form" class="grid" {
                        (ctx.csrf_field())
                        label class="wide" { (ctx.t("report.root_cause")) textarea name="root_cause" rows="3" maxlength="4000" { (i.root_cause) } }
                        label class="wide" { (ctx.t("report.lessons")) textarea name="lessons" rows="3" maxlength="4000" { (i.lessons) } }
                        button type="submit" { (ctx.t("action.save")) }
                    }
                }
            } @else if !i.root_cause.is_empty() || !i.lessons.is_empty() {
                dl {
                    dt { (ctx.t("report.root_cause")) } dd { (lines(&i.root_cause)) }
                    dt { (ctx.t("report.lessons")) } dd { (lines(&i.lessons)) }
                }
            }
            div id="incident-follow-ups" data-open=(open_follow_ups) {
                h3 { (ctx.t("report.follow_ups")) }
                @if i.status == IncidentStatus::Closed && open_follow_ups > 0 {
                    p id="closed-with-open-follow-ups" { span class="badge amber" { (ctx.t("report.closed_with_open_follow_ups")) " " strong { (open_follow_ups) } } }
                }
                @if follow_ups.is_empty() {
                    p class="small" { (ctx.t("report.no_follow_ups")) }
                } @else {
                    table class="data" {
                        thead { tr { th { (ctx.t("itask.title")) } th { (ctx.t("itask.assignee")) } th { (ctx.t("itask.due")) } th { (ctx.t("field.status")) } } }
                        tbody {
                            @for t in &follow_ups {
                                @let overdue = t.is_overdue(now);
                                tr data-follow-up=(t.id) data-status=(t.status.as_str()) class=[overdue.then_some("overdue")] {
                                    td { (t.title) }
                                    td { (t.assignee) }
                                    td class="nowrap" { @if let Some(d) = &t.due_at { (time(d)) } @if overdue { " " span class="badge red" { (ctx.t("itask.overdue")) } } }
                                    td { (ctx.t(super::board::task_status_key(t.status))) }
                                }
                            }
                        }
                    }
                }
                @if manage {
                    form method="post" action={ "/incidents/" (id) "/tasks" } id="follow-up-form" class="grid" {
                        (ctx.csrf_field())
                        input type="hidden" name="back" value="incident";
                        input type="hidden" name="kind" value="follow_up";
                        label class="wide" { (ctx.t("itask.title")) input name="title" required maxlength="200"; }
                        label { (ctx.t("itask.assignee")) input name="assignee" autocomplete="off"; }
                        label { (ctx.t("itask.due")) " (UTC)" input name="due_at" type="datetime-local"; }
                        button type="submit" { (ctx.t("report.add_follow_up")) }
                    }
                }
            }
            @if let Some(url) = &state.config.report_submission_url {
                p class="small" { (ctx.t("report.recipient")) ": " code { (anbao_store::redact_url(url)) } }
            }
            @if let Ok(k) = signing_key(state) {
                p class="small" id="signing-key" { (ctx.t("report.public_key")) ": " code { (k.public_key) } " (key id " code { (k.key_id) } ")" }
            }
        }
    })
}

/// A report as a complete printable document; `inline_css` embeds the
/// stylesheet for rendering outside the site (PDF).
fn report_document(
    ctx: &Ctx,
    r: &IncidentReport,
    sha256: &str,
    received_from: Option<&str>,
    inline_css: bool,
) -> Markup {
    let level: anbao_model::incident::IncidentLevel = r.level.level;
    let why = match ctx.lang {
        crate::Lang::Zh => &r.level.explanation_zh,
        crate::Lang::En => &r.level.explanation_en,
    };
    let row = |label: &'static str, value: Markup| html! { tr { th { (ctx.t(label)) } td { (value) } } };
    let incident_type =
        r.incident.incident_type.parse().map(type_key).map(|k| ctx.t(k)).unwrap_or(&r.incident.incident_type);
    let status = r.incident.status.parse().map(status_key).map(|k| ctx.t(k)).unwrap_or(&r.incident.status);
    html! {
        (DOCTYPE)
        html lang=(ctx.lang.html_code()) {
            head {
                meta charset="utf-8";
                title { (ctx.t(kind_key(r.kind))) " · " (r.incident.title) }
                @if inline_css { style { (maud::PreEscaped(crate::assets::APP_CSS)) } }
                @else { link rel="stylesheet" href="/static/app.css"; }
            }
            body class="print" {
                main class="filing-form" id="incident-report" data-kind=(r.kind.as_str()) {
                    h1 { (ctx.t("report.title")) " · " (ctx.t(kind_key(r.kind))) }
                    table class="form" {
                        (row("report.organisation", html! { (r.organisation.name) " (" (ctx.t(category_key(r.organisation.category))) ")" }))
                        @if let Some(from) = received_from { (row("report.sender", html! { (from) })) }
                        (row("report.generated_at", html! { (time(&r.generated_at)) " · " (r.generated_by) }))
                        (row("incident.title", html! { (r.incident.title) " (#" (r.incident.id) ")" }))
                        (row("incident.type", html! { (incident_type) }))
                        (row("field.status", html! { (status) }))
                        (row("report.discovered_at", html! { (time(&r.incident.discovered_at)) }))
                        @if !r.incident.summary.is_empty() { (row("incident.summary", lines(&r.incident.summary))) }
                        (row("incident.level", html! { span id="report-level" { (level_badge(ctx, level)) } }))
                        (row("incident.why", html! { span id="report-why" { (why) } }))
                        (row("incident.report_by", html! {
                            @match (&r.deadline.report_by, r.deadline.within_minutes) {
                                (Some(by), Some(m)) => { (time(by)) " (" (m) " " (ctx.t("incident.minutes")) ")" },
                                _ => (ctx.t("incident.no_clock")),
                            }
                        }))
                        (row("report.deadline_met", html! { span id="report-deadline-met" {
                            @match r.deadline.met {
                                Some(true) => (ctx.t("incident.yes")),
                                Some(false) => (ctx.t("incident.no")),
                                None => "—",
                            }
                            @if let Some(first) = &r.deadline.first_report_at { " · " (ctx.t("report.first_report_at")) " " (time(first)) }
                        } }))
                    }
                    h2 { (ctx.t("report.impact")) }
                    (facts_list(ctx, &r.impact))
                    @if let Some(pd) = &r.personal_data { (super::incident_leaks::report_section(ctx, pd)) }
                    h2 { (ctx.t("report.actions")) }
                    table class="form" id="report-actions" {
                        tr { th { (ctx.t("field.time")) } th { (ctx.t("incident.entry")) } th { (ctx.t("field.actor")) } }
                        @for a in &r.actions { tr { td class="nowrap" { (time(&a.at)) } td { (lines(&a.entry)) } td { (a.actor) } } }
                    }
                    h2 { (ctx.t("report.root_cause")) }
                    p id="report-root-cause" { @if r.root_cause.is_empty() { "—" } @else { (lines(&r.root_cause)) } }
                    h2 { (ctx.t("report.lessons")) }
                    p id="report-lessons" { @if r.lessons.is_empty() { "—" } @else { (lines(&r.lessons)) } }
                    @if !r.follow_ups.is_empty() {
                        h2 { (ctx.t("report.follow_ups")) }
                        table class="form" id="report-follow-ups" {
                            tr { th { (ctx.t("itask.title")) } th { (ctx.t("itask.assignee")) } th { (ctx.t("itask.due")) } th { (ctx.t("field.status")) } }
                            @for t in &r.follow_ups {
                                tr data-status=(t.status) {
                                    td { (t.title) }
                                    td { @if t.assignee.is_empty() { "—" } @else { (t.assignee) } }
                                    td class="nowrap" { @if let Some(d) = &t.due_at { (time(d)) } @else { "—" } }
                                    td { (t.status.parse::<TaskStatus>().map(super::board::task_status_key).map(|k| ctx.t(k)).unwrap_or(&t.status)) }
                                }
                            }
                        }
                    }
                    p class="small" { "SHA-256 " code { (sha256) } " · " (r.schema) " · " (r.report_uid) }
                }
            }
        }
    }
}

/// `GET /reports/{id}` (printable HTML) and `GET /reports/{id}.pdf`.
pub async fn view(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let (id, pdf) = match name.strip_suffix(".pdf") {
        Some(n) => (n, true),
        None => (name.as_str(), false),
    };
    let id: i64 = id.parse().map_err(|_| ApiError::not_found("report"))?;
    let stored = visible_report(&state, &p, id).await?;
    let report = IncidentReport::parse(stored.body.as_bytes()).map_err(|e| {
        tracing::error!(report = id, error = %e, "stored report does not parse");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "the stored report is unreadable")
    })?;
    if !pdf {
        return Ok(Html(report_document(&ctx, &report, &stored.sha256, None, false).into_string()).into_response());
    }
    let html = report_document(&ctx, &report, &stored.sha256, None, true).into_string();
    let bytes = crate::pdf::html_to_pdf(state.config.pdf_renderer.as_deref(), &html).await.map_err(|e| {
        tracing::warn!(error = %e, "rendering a report PDF");
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, format!("{e}; print the HTML report from the browser instead"))
    })?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "application/pdf".to_owned()),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"incident-{}-report-{id}.pdf\"", stored.incident_id),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// `POST /incidents/{id}/reports`: generates a report of the posted kind.
pub async fn generate(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    FormBody(raw): FormBody<Vec<(String, String)>>,
) -> Result<Response, FormError> {
    visible(&state, &p, id).await?;
    let back = format!("/incidents/{id}");
    let kind =
        form_value(&raw, "kind").trim().parse::<ReportKind>().map_err(|e| format!("kind: {e}")).or_bounce(&back)?;
    after_change(
        state.store.create_incident_report(&p.actor(&client), id, kind, &organisation(&state), rules(&state)?).await,
        &back,
        ctx.t("report.generated"),
    )
}

/// `POST /incidents/{id}/review`: root cause and lessons.
pub async fn review(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    FormBody(raw): FormBody<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    visible(&state, &p, id).await?;
    let back = format!("/incidents/{id}");
    let text = |k: &str| form_value(&raw, k).replace("\r\n", "\n");
    after_change(
        state.store.set_incident_review(&p.actor(&client), id, &text("root_cause"), &text("lessons")).await,
        &back,
        ctx.t("saved"),
    )
}

/// `POST /reports/{id}/submit`: one signed submission; the outcome shows
/// on the incident's page either way.
pub async fn submit(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let r = visible_report(&state, &p, id).await?;
    let back = format!("/incidents/{}", r.incident_id);
    match submit_report(&state, &p, &client, &r).await {
        Ok(s) if s.outcome == "accepted" => Ok(redirect_with(&back, "ok", ctx.t("report.submitted"))),
        Ok(s) => Ok(redirect_with(
            &back,
            "error",
            &format!(
                "{}: {} {}",
                ctx.t("report.not_accepted"),
                s.http_status.map(|c| c.to_string()).unwrap_or_default(),
                s.error
            ),
        )),
        Err(e) if e.status.is_client_error() => Ok(redirect_with(&back, "error", &e.message)),
        Err(e) => Err(e),
    }
}

/// `GET /reports/received`: what registered senders sent; senders and this
/// instance's own key for admins.
pub async fn received(State(state): State<AppState>, ctx: Ctx, Query(f): Query<Flash>) -> Result<Response, ApiError> {
    let reports = state.store.received_reports().await?;
    let manage = ctx.can(Permission::ManageReportSenders);
    let senders = if manage { state.store.list_report_senders().await? } else { Vec::new() };
    let body = html! {
        (flash(&f))
        @if reports.is_empty() {
            p class="small" id="no-received-reports" { (ctx.t("report.none_received")) }
        } @else {
            table class="data" id="received-reports" {
                thead { tr {
                    th { "#" } th { (ctx.t("report.sender")) } th { (ctx.t("report.kind")) } th { (ctx.t("incident.title")) }
                    th { (ctx.t("incident.level")) } th { (ctx.t("report.received_at")) } th { "key id" } th { "SHA-256" }
                } }
                tbody {
                    @for r in &reports {
                        tr data-received=(r.id) {
                            td { (r.id) }
                            td { (r.sender_name) }
                            td { (r.kind.parse().map(kind_key).map(|k| ctx.t(k)).unwrap_or(&r.kind)) }
                            td { a href={ "/reports/received/" (r.id) } { (r.title) } }
                            td { (r.level.parse().map(|l| level_badge(&ctx, l)).unwrap_or_else(|_| html! { (r.level) })) }
                            td class="nowrap" { (time(&r.received_at)) }
                            td { code { (r.key_id) } }
                            td { code title=(r.sha256) { (r.sha256.get(..16).unwrap_or_default()) "…" } }
                        }
                    }
                }
            }
        }
        @if manage {
            section class="card" id="report-senders" {
                h2 { (ctx.t("report.senders")) }
                table class="data" {
                    thead { tr { th { (ctx.t("field.name")) } th { "key id" } th { (ctx.t("report.public_key")) } th { (ctx.t("field.time")) } th {} } }
                    tbody {
                        @for s in &senders {
                            tr data-sender=(s.key_id) {
                                td { (s.name) } td { code { (s.key_id) } } td { code { (s.public_key) } } td class="nowrap" { (time(&s.created_at)) }
                                td {
                                    @if let Some(at) = &s.revoked_at {
                                        span class="badge red" { (ctx.t("report.revoked")) " " (time(at)) }
                                    } @else {
                                        form method="post" action={ "/reports/senders/" (s.id) "/revoke" } class="inline" data-confirm=(ctx.t("report.revoke_confirm")) {
                                            (ctx.csrf_field())
                                            button type="submit" class="danger" { (ctx.t("report.revoke")) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                form method="post" action="/reports/senders" id="sender-form" class="grid" {
                    (ctx.csrf_field())
                    label { (ctx.t("field.name")) input name="name" required maxlength="200"; }
                    label class="wide" { (ctx.t("report.public_key")) input name="public_key" required pattern="[0-9a-fA-F]{64}" size="70"; }
                    button type="submit" { (ctx.t("action.add")) }
                }
                p class="small" { (ctx.t("report.inbound_help")) " " code { "POST /api/v1/reports/inbound" } }
            }
        }
    };
    Ok(super::page(&ctx, ctx.t("nav.received_reports"), body))
}

/// `GET /reports/received/{id}`: a received report, printable.
pub async fn received_view(State(state): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> Result<Response, ApiError> {
    let r = state.store.get_received_report(id).await?;
    let report = IncidentReport::parse(r.body.as_bytes()).map_err(|e| {
        tracing::error!(received = id, error = %e, "received report does not parse");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "the received report is unreadable")
    })?;
    let from = format!("{} (key id {})", r.sender_name, r.key_id);
    Ok(Html(report_document(&ctx, &report, &r.sha256, Some(&from), false).into_string()).into_response())
}

/// `POST /reports/senders`: registers a sender.
pub async fn add_sender(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    FormBody(raw): FormBody<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    after_change(
        state
            .store
            .add_report_sender(&p.actor(&client), form_value(&raw, "name"), form_value(&raw, "public_key"))
            .await,
        "/reports/received",
        ctx.t("saved"),
    )
}

/// `POST /reports/senders/{id}/revoke`.
pub async fn revoke_sender(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    after_change(state.store.revoke_report_sender(&p.actor(&client), id).await, "/reports/received", ctx.t("saved"))
}
