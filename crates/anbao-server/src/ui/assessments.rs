//! Assessment pages (R1.2): mark each applicable requirement, attach
//! evidence, complete the assessment, and follow the remediation tasks.

use anbao_model::Permission;
use anbao_model::catalogue::Area;
use anbao_store::{ItemResult, date_text, parse_due};
use axum::extract::{Multipart, State};
use axum::response::Response;
use maud::{Markup, html};

use super::{Ctx, Flash, FormError, OrBounce, after_change, flash, redirect_with};
use crate::AppState;
use crate::api::assessments::{catalogue, start_for, visible};
use crate::auth::{ClientAddr, Principal};
use crate::error::ApiError;
use crate::extract::{FormBody, Path, Query};
use crate::i18n::Lang;

fn result_key(r: ItemResult) -> &'static str {
    match r {
        ItemResult::Unassessed => "result.unassessed",
        ItemResult::Met => "result.met",
        ItemResult::Partly => "result.partly",
        ItemResult::NotMet => "result.not_met",
        ItemResult::NotApplicable => "result.not_applicable",
    }
}

fn area_name(ctx: &Ctx, a: Area) -> &'static str {
    if ctx.lang == Lang::Zh { a.label_zh() } else { a.label_en() }
}

pub async fn start(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path(unit_id): Path<i64>,
    FormBody(raw): FormBody<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let assessor = super::form_value(&raw, "assessor");
    match start_for(&state, &p, &client, unit_id, assessor).await {
        Ok(a) => Ok(redirect_with(&format!("/govern/assessments/{}", a.id), "ok", ctx.t("assessment.started"))),
        Err(e) => Ok(redirect_with(&format!("/govern/units/{unit_id}"), "error", &e.message)),
    }
}

/// The list of a unit's assessments, for its page.
pub fn list_for_unit(ctx: &Ctx, list: &[anbao_store::Assessment]) -> Markup {
    html! {
        ul id="assessments" {
            @for a in list {
                li { a href={ "/govern/assessments/" (a.id) } { (a.started_on) " · " (a.assessor) } " "
                    span class=(if a.status == "completed" { "badge green" } else { "badge amber" }) {
                        @if a.status == "completed" { (ctx.t("assessment.completed")) " " (a.completed_on.clone().unwrap_or_default()) }
                        @else { (ctx.t("assessment.in_progress")) }
                    }
                }
            }
        }
    }
}

pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Path(id): Path<i64>,
    Query(f): Query<Flash>,
) -> Result<Response, ApiError> {
    let a = visible(&state, &p, id).await?;
    let unit = state.store.get_network_unit(a.network_unit_id).await?;
    let cat = catalogue(&state.config)?;
    let open = a.status == "in_progress" && ctx.can(Permission::ManageGovern);
    let tally = |r: ItemResult| a.items.iter().filter(|i| i.result == r).count();
    let here = format!("/govern/assessments/{id}");
    let csrf = p.csrf().to_owned();
    let body = html! {
        (flash(&f))
        section class="card" {
            p { a href={ "/govern/units/" (unit.id) } { (unit.name) } " · " (ctx.t("field.level")) " "
                (unit.level.map(|l| l.as_str().to_owned()).unwrap_or_else(|| a.level_tier.to_string()))
                " · " (ctx.t("field.assessor")) " " (a.assessor) " · " (a.started_on) }
            p id="assessment-status" {
                @if a.status == "completed" {
                    span class="badge green" { (ctx.t("assessment.completed")) " " (a.completed_on.clone().unwrap_or_default()) }
                    " " a href="/govern/tasks" { (ctx.t("nav.tasks")) }
                } @else { span class="badge amber" { (ctx.t("assessment.in_progress")) } }
            }
            p id="assessment-tally" {
                @for r in ItemResult::ALL { span class=(match r { ItemResult::NotMet => "badge red", ItemResult::Partly => "badge amber", ItemResult::Met => "badge green", _ => "badge" }) data-result=(r.as_str()) { (ctx.t(result_key(r))) " " (tally(r)) } " " }
            }
        }
        form method="post" action={ (here) "/results" } id="assessment-results" {
            (ctx.csrf_field())
            @for area in Area::ALL {
                @let items: Vec<&anbao_store::AssessmentItem> = a.items.iter().filter(|i| cat.get(&i.requirement_id).is_some_and(|c| c.area == area)).collect();
                @if !items.is_empty() {
                    h2 { (area_name(&ctx, area)) }
                    table class="data" {
                        thead { tr { th { "ID" } th { (ctx.t("field.requirement")) } th { (ctx.t("field.result")) } th { (ctx.t("field.note")) } th { (ctx.t("field.evidence")) } } }
                        tbody {
                            @for item in items {
                                @let c = cat.get(&item.requirement_id);
                                tr data-requirement=(item.requirement_id) data-result=(item.result.as_str()) {
                                    td class="nowrap" { code { (item.requirement_id) } }
                                    td {
                                        @if let Some(c) = c {
                                            (if ctx.lang == Lang::Zh { &c.title_zh } else { &c.title_en })
                                            div class="req" { (if ctx.lang == Lang::Zh { &c.guidance_zh } else { &c.guidance_en }) " · " (c.source) }
                                        }
                                    }
                                    td {
                                        @if open {
                                            select name={ "result." (item.requirement_id) } {
                                                @for r in ItemResult::ALL { option value=(r.as_str()) selected[r == item.result] { (ctx.t(result_key(r))) } }
                                            }
                                        } @else { (ctx.t(result_key(item.result))) }
                                    }
                                    td { @if open { input name={ "note." (item.requirement_id) } value=(item.note); } @else { (item.note) } }
                                    td {
                                        @for e in &item.evidence {
                                            div { @if e.sha256.is_some() {
                                                a href={ "/api/v1/assessments/" (id) "/evidence/" (e.id) } { (e.file_name) }
                                            } @else { a href=(e.link) rel="noopener noreferrer" { (e.link) } } }
                                        }
                                        @if open {
                                            details { summary { (ctx.t("assessment.add_evidence")) } (ctx.t("assessment.evidence_below")) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if open { button type="submit" { (ctx.t("action.save")) } }
        }
        @if open {
            section class="card" {
                h2 { (ctx.t("assessment.add_evidence")) }
                form method="post" action={ (here) "/evidence?_csrf=" (csrf) } enctype="multipart/form-data" id="evidence-upload" class="grid" {
                    label { (ctx.t("field.requirement")) select name="requirement_id" {
                        @for item in &a.items { option value=(item.requirement_id) { (item.requirement_id) } } } }
                    label { (ctx.t("assessment.file")) input type="file" name="file"; }
                    label { (ctx.t("field.link")) input name="link" placeholder="https://"; }
                    button type="submit" { (ctx.t("action.add")) }
                }
            }
            section class="card" {
                h2 { (ctx.t("assessment.complete")) }
                form method="post" action={ (here) "/complete" } id="assessment-complete" class="grid" {
                    (ctx.csrf_field())
                    label { (ctx.t("field.task_owner")) input name="owner" required value=(unit.responsible_person); }
                    label { (ctx.t("field.due")) input type="date" name="due_on" required
                        value=(date_text(state.store.clock().now().date() + time::Duration::days(90))); }
                    button type="submit" { (ctx.t("assessment.complete")) }
                }
            }
        }
    };
    Ok(super::page(&ctx, &format!("{} · {}", ctx.t("nav.assessment"), unit.name), body))
}

pub async fn results(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    FormBody(raw): FormBody<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    visible(&state, &p, id).await?;
    let back = format!("/govern/assessments/{id}");
    let mut lines = Vec::new();
    for (k, v) in &raw {
        let Some(req) = k.strip_prefix("result.") else { continue };
        let Some(result) = ItemResult::parse(v) else {
            return Ok(redirect_with(&back, "error", &format!("result.{req}: {v:?} is not a result")));
        };
        let note = super::form_value(&raw, &format!("note.{req}")).to_owned();
        lines.push((req.to_owned(), result, note));
    }
    after_change(state.store.record_results(&p.actor(&client), id, &lines).await, &back, ctx.t("saved"))
}

pub async fn evidence(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    mut multipart: Multipart,
) -> Result<Response, ApiError> {
    visible(&state, &p, id).await?;
    let back = format!("/govern/assessments/{id}");
    let (mut requirement, mut link, mut file) = (String::new(), String::new(), None::<(String, String, Vec<u8>)>);
    let bad = |e: axum::extract::multipart::MultipartError| ApiError::bad_request(format!("upload: {e}"));
    while let Some(field) = multipart.next_field().await.map_err(bad)? {
        match field.name().unwrap_or_default() {
            "requirement_id" => requirement = field.text().await.map_err(bad)?,
            "link" => link = field.text().await.map_err(bad)?,
            "file" => {
                let name = field.file_name().unwrap_or_default().to_owned();
                let media = field.content_type().unwrap_or_default().to_owned();
                let bytes = field.bytes().await.map_err(bad)?;
                if !bytes.is_empty() {
                    file = Some((name, media, bytes.to_vec()));
                }
            }
            _ => {}
        }
    }
    let file_ref = file.as_ref().map(|(n, m, b)| (n.as_str(), m.as_str(), b.as_slice()));
    after_change(
        state.store.add_evidence(&p.actor(&client), id, &requirement, file_ref, &link).await,
        &back,
        ctx.t("saved"),
    )
}

pub async fn complete(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    FormBody(raw): FormBody<Vec<(String, String)>>,
) -> Result<Response, FormError> {
    visible(&state, &p, id).await?;
    let back = format!("/govern/assessments/{id}");
    let one = |k: &str| super::form_value(&raw, k);
    let due = parse_due(one("due_on")).or_bounce(&back)?;
    after_change(
        state.store.complete_assessment(&p.actor(&client), id, one("owner"), due).await,
        &back,
        ctx.t("assessment.completed"),
    )
}

pub async fn tasks(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Query(f): Query<Flash>,
) -> Result<Response, ApiError> {
    let tasks = state.store.list_tasks(p.scope_filter().as_deref()).await?;
    let today = date_text(state.store.clock().now().date());
    let units = state.store.list_network_units(p.scope_filter().as_deref()).await?;
    let unit_name = |id: i64| units.iter().find(|u| u.id == id).map(|u| u.name.clone()).unwrap_or_default();
    let manage = ctx.can(Permission::ManageGovern);
    let body = html! {
        (flash(&f))
        table class="data" id="tasks" {
            thead { tr { th { (ctx.t("field.due")) } th { (ctx.t("field.task")) } th { (ctx.t("field.network_unit")) } th { (ctx.t("field.task_owner")) } th { (ctx.t("field.status")) } th {} } }
            tbody {
                @for t in &tasks {
                    @let overdue = t.status == "open" && t.due_on < today;
                    tr data-status=(if overdue { "overdue" } else { t.status.as_str() }) {
                        td class="nowrap" { (t.due_on) }
                        td { (t.title) " " a href={ "/govern/assessments/" (t.assessment_id) } { "#" (t.assessment_id) } }
                        td { a href={ "/govern/units/" (t.network_unit_id) } { (unit_name(t.network_unit_id)) } }
                        td { (t.owner) }
                        td { @if t.status == "done" { span class="badge green" { (ctx.t("task.done")) " " (t.closed_on.clone().unwrap_or_default()) } }
                             @else if overdue { span class="badge red" { (ctx.t("due.overdue_items")) } }
                             @else { span class="badge amber" { (ctx.t("task.open")) } } }
                        td { @if manage && t.status == "open" {
                            form method="post" action={ "/govern/tasks/" (t.id) "/close" } { (ctx.csrf_field()) button type="submit" { (ctx.t("task.close")) } }
                        } }
                    }
                }
            }
        }
    };
    Ok(super::page(&ctx, ctx.t("nav.tasks"), body))
}

pub async fn close_task(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    if !state.store.list_tasks(p.scope_filter().as_deref()).await?.iter().any(|t| t.id == id) {
        return Err(ApiError::not_found("task"));
    }
    state.store.close_task(&p.actor(&client), id).await?;
    Ok(redirect_with("/govern/tasks", "ok", ctx.t("saved")))
}
