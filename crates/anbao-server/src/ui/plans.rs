//! Emergency plan and drill pages (issue #7, R2.1 / R2.3): `/plans` (overdue
//! reviews flagged), `/plans/new`, `/plans/{id}` (current content, version
//! history with documents, the plan's drills, edit form, mark reviewed),
//! `/drills/new` and `/drills/{id}` (evaluation form). The plan forms are
//! multipart with a file input: the document is stored with the version as
//! the API stores it (`document.content_base64`), at most
//! [`PLAN_DOC_MAX`] bytes, and downloaded from the version history. The same
//! handlers also take plain url-encoded forms (no document).

use anbao_model::Permission;
use anbao_model::clock::parse_ts;
use anbao_store::{Drill, DrillDraft, DrillPatch, PLAN_DOC_MAX, Plan, PlanDocument, PlanDraft, PlanScenario};
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::{Ctx, Flash, FormError, OrBounce, after_change, flash, form_value, redirect_with, short_time};
use crate::AppState;
use crate::auth::{ClientAddr, Principal};
use crate::error::ApiError;
use crate::extract::{FormBody, Path, Query};

const LIST: &str = "/plans";

/// The body limit of the plan form routes: the largest document and room
/// for the text fields and the multipart framing.
pub const PLAN_FORM_LIMIT: usize = PLAN_DOC_MAX + 256 * 1024;

/// A posted plan form: its text fields, and the document when a file was
/// chosen. Multipart (the pages' forms, CSRF token in the action URL) or
/// url-encoded (no document).
pub struct PlanForm {
    fields: Vec<(String, String)>,
    document: Option<PlanDocument>,
    /// The upload was larger than [`PLAN_FORM_LIMIT`]: said on the page.
    too_large: bool,
}

impl<S: Send + Sync> FromRequest<S> for PlanForm {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let multipart = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("multipart/form-data"));
        if !multipart {
            let FormBody(fields) = FormBody::<Vec<(String, String)>>::from_request(req, state).await?;
            return Ok(PlanForm { fields, document: None, too_large: false });
        }
        let mut form = Multipart::from_request(req, state)
            .await
            .map_err(|e| ApiError::bad_request(format!("upload: {}", e.body_text())))?;
        let mut out = PlanForm { fields: Vec::new(), document: None, too_large: false };
        loop {
            let field = match form.next_field().await {
                Ok(Some(field)) => field,
                Ok(None) => break,
                Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                    out.too_large = true;
                    break;
                }
                Err(e) => return Err(ApiError::bad_request(format!("upload: {e}"))),
            };
            let name = field.name().unwrap_or_default().to_owned();
            if name == "document" {
                let file_name = field.file_name().unwrap_or_default().to_owned();
                match field.bytes().await {
                    // No file chosen: an empty part without a name.
                    Ok(bytes) if bytes.is_empty() && file_name.is_empty() => {}
                    Ok(bytes) => out.document = Some(PlanDocument { name: file_name, content: bytes.to_vec() }),
                    Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                        out.too_large = true;
                        break;
                    }
                    Err(e) => return Err(ApiError::bad_request(format!("upload: {e}"))),
                }
            } else {
                let text = field.text().await.map_err(|e| ApiError::bad_request(format!("upload: {e}")))?;
                out.fields.push((name, text));
            }
        }
        Ok(out)
    }
}

/// The message for a document over the limit.
fn too_large_message() -> String {
    format!("document: at most {} MiB", PLAN_DOC_MAX / 1024 / 1024)
}

/// The document field of the plan forms.
fn document_field(ctx: &Ctx, current: Option<&str>) -> Markup {
    html! {
        label class="wide" {
            (ctx.t("plan.document")) " "
            input type="file" name="document" id="plan-document";
            span class="small" {
                (ctx.t("plan.document_limit")) " " (PLAN_DOC_MAX / 1024 / 1024) " MiB"
                @if let Some(name) = current { " · " (ctx.t("plan.document_keep")) " " code { (name) } }
            }
        }
    }
}

fn when(s: &str) -> String {
    parse_ts(s).map(|t| short_time(&t)).unwrap_or_else(|_| s.to_owned())
}

fn scenario_label(ctx: &Ctx, s: PlanScenario) -> &'static str {
    match ctx.lang {
        crate::i18n::Lang::Zh => s.zh(),
        crate::i18n::Lang::En => match s {
            PlanScenario::Ddos => "DDoS",
            PlanScenario::DnsFailure => "DNS failure",
            PlanScenario::DataLeak => "Mass data leak",
            PlanScenario::Malware => "Malware",
            PlanScenario::Defacement => "Defacement",
            PlanScenario::Intrusion => "Intrusion",
            PlanScenario::Outage => "Outage",
            PlanScenario::Other => "Other",
        },
    }
}

fn scenario_list(ctx: &Ctx, list: &[PlanScenario]) -> String {
    list.iter().map(|s| scenario_label(ctx, *s)).collect::<Vec<_>>().join(", ")
}

fn overdue_badge(ctx: &Ctx, overdue: bool) -> Markup {
    if overdue {
        html! { span class="badge red" data-overdue="true" { (ctx.t("plan.overdue")) } }
    } else {
        html! { span class="badge green" data-overdue="false" { (ctx.t("plan.on_time")) } }
    }
}

fn drill_status_badge(ctx: &Ctx, status: &str) -> Markup {
    if status == "done" {
        html! { span class="badge green" data-status="done" { (ctx.t("drill.status.done")) } }
    } else {
        html! { span class="badge amber" data-status="planned" { (ctx.t("drill.status.planned")) } }
    }
}

fn plan_fields(ctx: &Ctx, plan: Option<&Plan>) -> Markup {
    let has = |s: PlanScenario| plan.is_some_and(|p| p.scenarios.contains(&s));
    html! {
        label class="wide" { (ctx.t("plan.title")) input name="title" required maxlength="200" value=[plan.map(|p| &p.title)]; }
        label { (ctx.t("plan.owner")) input name="owner" required maxlength="200" value=[plan.map(|p| &p.owner)]; }
        label { (ctx.t("plan.review_cycle")) input name="review_cycle_months" type="number" min="1" max="60" required
            value=(plan.map_or(12, |p| p.review_cycle_months)); }
        fieldset class="wide" { legend { (ctx.t("plan.scenarios")) }
            @for s in PlanScenario::ALL {
                label class="check" { input type="checkbox" name="scenarios" value=(s.as_str()) checked[has(s)]; " " (scenario_label(ctx, s)) }
            }
        }
        label class="wide" { (ctx.t("plan.roles")) textarea name="roles" rows="3" maxlength="4000" { (plan.map_or("", |p| &p.roles)) } }
        label class="wide" { (ctx.t("plan.contact_tree")) textarea name="contact_tree" rows="3" maxlength="4000" { (plan.map_or("", |p| &p.contact_tree)) } }
        label class="wide" { (ctx.t("plan.steps")) textarea name="steps" rows="6" required maxlength="4000" { (plan.map_or("", |p| &p.steps)) } }
    }
}

fn draft_of(raw: &[(String, String)]) -> Result<PlanDraft, String> {
    let one = |k: &str| form_value(raw, k).trim().replace("\r\n", "\n");
    let scenarios = raw
        .iter()
        .filter(|(k, _)| k == "scenarios")
        .map(|(_, v)| v.trim().parse::<PlanScenario>().map_err(|e| format!("scenarios: {}", e.reason)))
        .collect::<Result<Vec<_>, _>>()?;
    let cycle = one("review_cycle_months");
    let review_cycle_months =
        cycle.parse::<i64>().map_err(|_| format!("review_cycle_months: {cycle:?} is not a number of months"))?;
    Ok(PlanDraft {
        title: one("title"),
        owner: one("owner"),
        scenarios,
        roles: one("roles"),
        contact_tree: one("contact_tree"),
        steps: one("steps"),
        review_cycle_months,
        document: None,
    })
}

// ---------------------------------------------------------------------------
// /plans

pub async fn list(State(state): State<AppState>, ctx: Ctx, Query(f): Query<Flash>) -> Result<Response, ApiError> {
    let plans = state.store.list_plans().await?;
    let today = state.store.clock().now().date();
    let body = html! {
        (flash(&f))
        @if ctx.can(Permission::ManageIncidents) {
            p class="actions" {
                a href="/plans/new" id="new-plan" { (ctx.t("plan.new")) } " "
                a href="/drills/new" id="new-drill" { (ctx.t("drill.new")) }
            }
        }
        @if plans.is_empty() {
            p class="small" id="no-plans" { (ctx.t("plan.none_yet")) }
        } @else {
            table class="data" id="plans" {
                thead { tr {
                    th { "#" } th { (ctx.t("plan.title")) } th { (ctx.t("plan.scenarios")) } th { (ctx.t("plan.owner")) }
                    th { (ctx.t("plan.version")) } th { (ctx.t("plan.next_review")) } th { (ctx.t("field.status")) }
                } }
                tbody {
                    @for p in &plans {
                        tr data-plan=(p.id) data-overdue=(p.review_overdue(today)) {
                            td { (p.id) }
                            td { a href={ "/plans/" (p.id) } { (p.title) } }
                            td { (scenario_list(&ctx, &p.scenarios)) }
                            td { (p.owner) }
                            td { "v" (p.version) }
                            td class="nowrap" { (p.next_review_due) }
                            td { (overdue_badge(&ctx, p.review_overdue(today))) }
                        }
                    }
                }
            }
        }
    };
    Ok(super::page(&ctx, ctx.t("nav.plans"), body))
}

pub async fn new_form(ctx: Ctx, p: Principal, Query(f): Query<Flash>) -> Result<Response, ApiError> {
    let csrf = p.csrf().to_owned();
    let body = html! {
        (flash(&f))
        form method="post" action={ (LIST) "?_csrf=" (csrf) } enctype="multipart/form-data" id="plan-form" class="grid" {
            (plan_fields(&ctx, None))
            (document_field(&ctx, None))
            button type="submit" id="create-plan" { (ctx.t("plan.create")) }
        }
        p class="small" { (ctx.t("plan.document_hint")) }
    };
    Ok(super::page(&ctx, ctx.t("plan.new"), body))
}

pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    form: PlanForm,
) -> Result<Response, FormError> {
    let back = "/plans/new";
    if form.too_large {
        return Ok(redirect_with(back, "error", &too_large_message()));
    }
    let mut draft = draft_of(&form.fields).or_bounce(back)?;
    draft.document = form.document;
    match state.store.create_plan(&p.actor(&client), &draft).await {
        Ok(plan) => Ok(redirect_with(&format!("/plans/{}", plan.id), "ok", ctx.t("saved"))),
        Err(e) => Ok(redirect_with(back, "error", &super::user_message(e)?)),
    }
}

// ---------------------------------------------------------------------------
// /plans/{id}

fn drill_table(ctx: &Ctx, drills: &[Drill]) -> Markup {
    html! {
        table class="data" id="drills" {
            thead { tr { th { "#" } th { (ctx.t("drill.scheduled_at")) } th { (ctx.t("drill.scenario")) }
                th { (ctx.t("drill.plan")) } th { (ctx.t("plan.version")) } th { (ctx.t("field.status")) } } }
            tbody {
                @for d in drills {
                    tr data-drill=(d.id) data-status=(d.status) {
                        td { a href={ "/drills/" (d.id) } { (d.id) } }
                        td class="nowrap" { (d.scheduled_at) }
                        td { (scenario_label(ctx, d.scenario)) }
                        td { a href={ "/plans/" (d.plan_id) } { (d.plan_title) } }
                        td data-plan-version=[d.plan_version] { @if let Some(v) = d.plan_version { "v" (v) } @else { "—" } }
                        td { (drill_status_badge(ctx, &d.status)) }
                    }
                }
            }
        }
    }
}

pub async fn detail(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Path(id): Path<i64>,
    Query(f): Query<Flash>,
) -> Result<Response, ApiError> {
    let csrf = p.csrf().to_owned();
    let plan = state.store.get_plan(id).await?;
    let versions = state.store.plan_versions(id).await?;
    let drills = state.store.list_drills(Some(id)).await?;
    let overdue = plan.review_overdue(state.store.clock().now().date());
    let manage = ctx.can(Permission::ManageIncidents);
    let base = format!("/plans/{id}");
    let body = html! {
        (flash(&f))
        section class="card" id="plan" data-version=(plan.version) data-overdue=(overdue) {
            p { (overdue_badge(&ctx, overdue)) " v" (plan.version) }
            dl {
                dt { (ctx.t("plan.owner")) } dd id="plan-owner" { (plan.owner) }
                dt { (ctx.t("plan.scenarios")) } dd id="plan-scenarios" { (scenario_list(&ctx, &plan.scenarios)) }
                dt { (ctx.t("plan.roles")) } dd class="pre" { (plan.roles) }
                dt { (ctx.t("plan.contact_tree")) } dd class="pre" { (plan.contact_tree) }
                dt { (ctx.t("plan.steps")) } dd class="pre" id="plan-steps" { (plan.steps) }
                dt { (ctx.t("plan.review_cycle")) } dd { (plan.review_cycle_months) }
                dt { (ctx.t("plan.last_reviewed")) } dd { (plan.last_reviewed_at.as_deref().map(when).unwrap_or_else(|| "—".to_owned())) }
                dt { (ctx.t("plan.next_review")) } dd id="next-review" { (plan.next_review_due) }
            }
            @if manage {
                form method="post" action={ (base) "/reviewed" } id="review-form" {
                    (ctx.csrf_field())
                    button type="submit" id="mark-reviewed" { (ctx.t("plan.mark_reviewed")) }
                }
            }
        }
        section class="card" {
            h2 { (ctx.t("plan.versions")) }
            table class="data" id="versions" {
                thead { tr { th { (ctx.t("plan.version")) } th { (ctx.t("warning.at")) } th { (ctx.t("warning.by")) }
                    th { (ctx.t("plan.change_note")) } th { (ctx.t("plan.document")) } } }
                tbody {
                    @for v in &versions {
                        tr data-version=(v.version) {
                            td { "v" (v.version) }
                            td class="nowrap" { (when(&v.at)) }
                            td { (v.actor) }
                            td { (v.change_note) }
                            td { @if let Some(name) = &v.doc_name {
                                a href={ (base) "/versions/" (v.version) "/document" } { (name) }
                            } }
                        }
                    }
                }
            }
        }
        section class="card" {
            h2 { (ctx.t("plan.drills")) }
            @if manage { p class="actions" { a href={ "/drills/new?plan_id=" (id) } { (ctx.t("drill.new")) } } }
            (drill_table(&ctx, &drills))
        }
        @if manage {
            section class="card" {
                h2 { (ctx.t("plan.edit")) }
                form method="post" action={ (base) "?_csrf=" (csrf) } enctype="multipart/form-data" id="edit-plan-form" class="grid" {
                    (plan_fields(&ctx, Some(&plan)))
                    (document_field(&ctx, versions.first().and_then(|v| v.doc_name.as_deref())))
                    label class="wide" { (ctx.t("plan.change_note")) input name="change_note" required maxlength="4000"; }
                    button type="submit" id="save-plan" { (ctx.t("plan.save_version")) }
                }
            }
        }
        p { a href=(LIST) { (ctx.t("plan.back")) } }
    };
    Ok(super::page(&ctx, &format!("{} #{} {}", ctx.t("nav.plans"), plan.id, plan.title), body))
}

pub async fn update(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    form: PlanForm,
) -> Result<Response, FormError> {
    let back = format!("/plans/{id}");
    if form.too_large {
        return Ok(redirect_with(&back, "error", &too_large_message()));
    }
    let mut draft = draft_of(&form.fields).or_bounce(&back)?;
    // No file chosen keeps the previous version's document.
    draft.document = form.document;
    let note = form_value(&form.fields, "change_note").trim().to_owned();
    after_change(state.store.update_plan(&p.actor(&client), id, &draft, &note).await, &back, ctx.t("saved"))
}

pub async fn reviewed(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let back = format!("/plans/{id}");
    after_change(state.store.mark_plan_reviewed(&p.actor(&client), id).await, &back, ctx.t("saved"))
}

/// A version's document, always as an opaque attachment so an uploaded
/// HTML or SVG file cannot run in the platform's origin.
pub async fn document(
    State(state): State<AppState>,
    Path((id, version)): Path<(i64, i64)>,
) -> Result<Response, ApiError> {
    let (name, bytes) = state.store.plan_document(id, version).await?;
    let ascii: String = name.chars().filter(|c| c.is_ascii_alphanumeric() || "._-".contains(*c)).collect();
    let fallback = if ascii.trim_start_matches('.').is_empty() { format!("plan-{id}-v{version}") } else { ascii };
    let encoded = super::urlencode(&name).replace('/', "%2F");
    let disposition = format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}");
    Ok((
        [(header::CONTENT_TYPE, "application/octet-stream".to_owned()), (header::CONTENT_DISPOSITION, disposition)],
        bytes,
    )
        .into_response())
}

// ---------------------------------------------------------------------------
// /drills

#[derive(Debug, Deserialize)]
pub struct NewDrillQuery {
    #[serde(default)]
    pub plan_id: Option<i64>,
    #[serde(default)]
    pub ok: Option<String>,
    #[serde(default)]
    pub error: Option<String>,
}

pub async fn new_drill_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<NewDrillQuery>,
) -> Result<Response, ApiError> {
    let plans = state.store.list_plans().await?;
    let f = Flash { ok: q.ok, error: q.error };
    let body = html! {
        (flash(&f))
        form method="post" action="/drills" id="drill-form" class="grid" {
            (ctx.csrf_field())
            label class="wide" { (ctx.t("drill.plan")) select name="plan_id" required {
                @for p in &plans { option value=(p.id) selected[q.plan_id == Some(p.id)] { (p.title) " (v" (p.version) ")" } }
            } }
            label { (ctx.t("drill.scenario")) select name="scenario" required {
                @for s in PlanScenario::ALL { option value=(s.as_str()) { (scenario_label(&ctx, s)) } }
            } }
            label { (ctx.t("drill.scheduled_at")) input name="scheduled_at" type="datetime-local" required; }
            label class="wide" { (ctx.t("drill.participants")) textarea name="participants" rows="3" maxlength="4000" {} }
            button type="submit" id="create-drill" { (ctx.t("drill.schedule")) }
        }
    };
    Ok(super::page(&ctx, ctx.t("drill.new"), body))
}

pub async fn create_drill(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    FormBody(raw): FormBody<Vec<(String, String)>>,
) -> Result<Response, FormError> {
    let back = "/drills/new";
    let one = |k: &str| form_value(&raw, k).trim().replace("\r\n", "\n");
    let parsed = (|| -> Result<DrillDraft, String> {
        let plan = one("plan_id");
        Ok(DrillDraft {
            plan_id: plan.parse().map_err(|_| format!("plan_id: {plan:?} is not an id"))?,
            scenario: Some(one("scenario").parse().map_err(|e: anbao_model::validate::Invalid| e.reason)?),
            scheduled_at: one("scheduled_at"),
            participants: one("participants"),
        })
    })();
    let draft = parsed.or_bounce(back)?;
    match state.store.create_drill(&p.actor(&client), &draft).await {
        Ok(d) => Ok(redirect_with(&format!("/drills/{}", d.id), "ok", ctx.t("saved"))),
        Err(e) => Ok(redirect_with(back, "error", &super::user_message(e)?)),
    }
}

pub async fn drill_detail(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(f): Query<Flash>,
) -> Result<Response, ApiError> {
    let d = state.store.get_drill(id).await?;
    let base = format!("/drills/{id}");
    let body = html! {
        (flash(&f))
        section class="card" id="drill" data-status=(d.status) {
            p { (drill_status_badge(&ctx, &d.status)) }
            dl {
                dt { (ctx.t("drill.plan")) } dd { a href={ "/plans/" (d.plan_id) } { (d.plan_title) } }
                dt { (ctx.t("plan.version")) } dd id="drill-plan-version" { @if let Some(v) = d.plan_version { "v" (v) } @else { "—" } }
                dt { (ctx.t("drill.scenario")) } dd { (scenario_label(&ctx, d.scenario)) }
                dt { (ctx.t("drill.scheduled_at")) } dd { (d.scheduled_at) }
                dt { (ctx.t("drill.participants")) } dd class="pre" { (d.participants) }
                dt { (ctx.t("drill.evaluation")) } dd class="pre" id="drill-evaluation" { (d.evaluation) }
                dt { (ctx.t("drill.findings")) } dd class="pre" id="drill-findings" { (d.findings) }
            }
        }
        @if ctx.can(Permission::ManageIncidents) {
            section class="card" {
                h2 { (ctx.t("drill.evaluate")) }
                form method="post" action=(base) id="drill-eval-form" class="grid" {
                    (ctx.csrf_field())
                    label { (ctx.t("field.status")) select name="status" {
                        option value="planned" selected[d.status == "planned"] { (ctx.t("drill.status.planned")) }
                        option value="done" selected[d.status == "done"] { (ctx.t("drill.status.done")) }
                    } }
                    label class="wide" { (ctx.t("drill.participants")) textarea name="participants" rows="2" maxlength="4000" { (d.participants) } }
                    label class="wide" { (ctx.t("drill.evaluation")) textarea name="evaluation" rows="4" maxlength="4000" { (d.evaluation) } }
                    label class="wide" { (ctx.t("drill.findings")) textarea name="findings" rows="4" maxlength="4000" { (d.findings) } }
                    button type="submit" id="save-drill" { (ctx.t("drill.save")) }
                }
            }
        }
        @if let Some(i) = d.incident_id {
            p { (ctx.t("drill.incident")) ": " a href={ "/incidents/" (i) } id="exercise-incident" { "#" (i) } }
        } @else if ctx.can(Permission::ManageIncidents) && d.status == "planned" {
            form method="post" action={ (base) "/exercise" } id="exercise-form" {
                (ctx.csrf_field())
                button type="submit" id="start-exercise" { (ctx.t("drill.start_exercise")) }
            }
        }
        @if ctx.can(Permission::ManageIncidents) && !d.findings.is_empty() {
            p class="actions" { a href={ "/plans/" (d.plan_id) "#edit-plan-form" } id="revise-from-findings" { (ctx.t("drill.revise_plan")) } }
            // A finding that needs doing becomes a follow-up task on the
            // drill's exercise incident (its board and review show it).
            @if d.incident_id.is_some() {
                section class="card" {
                    h2 { (ctx.t("drill.finding_task")) }
                    form method="post" action={ (base) "/tasks" } id="finding-task-form" class="grid" {
                        (ctx.csrf_field())
                        label class="wide" { (ctx.t("itask.title")) input name="title" required maxlength="200"; }
                        label { (ctx.t("itask.assignee")) input name="assignee" autocomplete="off"; }
                        label { (ctx.t("itask.due")) " (UTC)" input name="due_at" type="datetime-local"; }
                        button type="submit" { (ctx.t("itask.add")) }
                    }
                }
            } @else {
                p class="small" id="finding-task-hint" { (ctx.t("drill.finding_task_hint")) }
            }
        }
        p { a href={ "/plans/" (d.plan_id) } { (ctx.t("drill.back")) } }
    };
    Ok(super::page(&ctx, &format!("{} #{}", ctx.t("drill.title"), d.id), body))
}

pub async fn update_drill(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    FormBody(raw): FormBody<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let back = format!("/drills/{id}");
    let one = |k: &str| Some(form_value(&raw, k).trim().replace("\r\n", "\n"));
    let patch = DrillPatch {
        scheduled_at: None,
        participants: one("participants"),
        status: one("status"),
        evaluation: one("evaluation"),
        findings: one("findings"),
    };
    after_change(state.store.update_drill(&p.actor(&client), id, &patch).await, &back, ctx.t("saved"))
}

/// `POST /drills/{id}/tasks`: a finding becomes a follow-up task on the
/// drill's exercise incident; a drill without one says to start it first
/// (or to revise the plan, which is the other way a finding is acted on).
pub async fn finding_task(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    FormBody(raw): FormBody<Vec<(String, String)>>,
) -> Result<Response, FormError> {
    let back = format!("/drills/{id}");
    let d = state.store.get_drill(id).await?;
    let Some(incident) = d.incident_id else {
        return Ok(redirect_with(&back, "error", ctx.t("drill.finding_task_hint")));
    };
    crate::api::incidents::visible(&state, &p, incident).await?;
    let due_at = crate::api::incident_tasks::parse_due(form_value(&raw, "due_at")).or_bounce(&back)?;
    let draft = anbao_store::TaskDraft {
        title: form_value(&raw, "title").to_owned(),
        assignee: form_value(&raw, "assignee").to_owned(),
        due_at,
        kind: anbao_model::incident::TaskKind::FollowUp,
    };
    after_change(state.store.create_incident_task(&p.actor(&client), incident, &draft).await, &back, ctx.t("saved"))
}

/// `GET /drills`: every drill, overdue (planned and past its time) first,
/// then upcoming, then done, each with its plan, version and scenario.
pub async fn drill_list(State(state): State<AppState>, ctx: Ctx, Query(f): Query<Flash>) -> Result<Response, ApiError> {
    let drills = state.store.list_drills(None).await?;
    let now = state.store.clock().now();
    let today = anbao_store::date_text(now.date());
    let minute = format!("{today}T{:02}:{:02}", now.hour(), now.minute());
    // A date-only drill is due all day; one with a time, from that minute.
    let overdue = |d: &Drill| {
        d.status == "planned"
            && if d.scheduled_at.len() == 10 { d.scheduled_at < today } else { d.scheduled_at < minute }
    };
    let (mut late, mut upcoming, mut done) = (Vec::new(), Vec::new(), Vec::new());
    for d in drills {
        if d.status == "done" {
            done.push(d);
        } else if overdue(&d) {
            late.push(d);
        } else {
            upcoming.push(d);
        }
    }
    // Soonest first for what is still to come.
    upcoming.reverse();
    let body = html! {
        (flash(&f))
        @if ctx.can(Permission::ManageIncidents) { p class="actions" { a href="/drills/new" id="new-drill" { (ctx.t("drill.new")) } } }
        @for (key, id, list) in [("drill.overdue", "drills-overdue", &late), ("drill.upcoming", "drills-upcoming", &upcoming), ("drill.done", "drills-done", &done)] {
            section class="card" id=(id) data-count=(list.len()) {
                h2 { (ctx.t(key)) " (" (list.len()) ")" }
                @if list.is_empty() { p class="small" { "—" } } @else { (drill_table(&ctx, list)) }
            }
        }
    };
    Ok(super::page(&ctx, ctx.t("nav.drills"), body))
}

pub async fn start_exercise(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let back = format!("/drills/{id}");
    let rules = crate::api::incidents::rules(&state)?;
    let started = state.store.start_drill_exercise(&p.actor(&client), id, p.home_unit, rules).await;
    after_change(started, &back, ctx.t("saved"))
}
