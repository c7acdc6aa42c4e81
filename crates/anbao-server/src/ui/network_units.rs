//! Network units, the grading wizard, expert review, filing and the
//! Order's deadlines (R1.1): the pages a security department works the
//! procedure through, and the printable filing form.

use anbao_model::Permission;
use anbao_model::grading::{GradeLevel, GradingAnswers, GradingProposal, MlpsLevel};
use anbao_model::org::OrgTree;
use anbao_store::{NetworkUnit, NetworkUnitDraft, UnitStatus, date_text, parse_date};
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};

use super::{Ctx, Flash, FormError, OrBounce, after_change, flash, redirect_with, unit_options, user_message};
use crate::AppState;
use crate::api::network_units::{
    DueView, assessment_kind, deadlines_for, due_view, filing_form_for, propose_answers, rules,
};
use crate::auth::{ClientAddr, Principal};
use crate::error::ApiError;
use crate::extract::{FormBody, Path, Query};
use crate::i18n::Lang;

const BACK: &str = "/govern/units";

fn status_key(s: UnitStatus) -> &'static str {
    match s {
        UnitStatus::Draft => "unit_status.draft",
        UnitStatus::Graded => "unit_status.graded",
        UnitStatus::Reviewed => "unit_status.reviewed",
        UnitStatus::Filed => "unit_status.filed",
    }
}

fn obligation_key(o: &str) -> &'static str {
    match o {
        "filing" => "obligation.filing",
        "refiling" => "obligation.refiling",
        "compliance_assessment" => "obligation.compliance_assessment",
        _ => "obligation.risk_assessment",
    }
}

/// A due item as a badge: red overdue, amber due soon, plain upcoming.
pub fn due_badge(ctx: &Ctx, d: &DueView) -> Markup {
    let class = match d.status.as_str() {
        "overdue" => "badge red",
        "due_soon" => "badge amber",
        _ => "badge",
    };
    html! {
        span class=(class) data-obligation=(d.obligation) data-status=(d.status) {
            (ctx.t(obligation_key(&d.obligation))) " · " (d.due)
            @if d.status == "overdue" { " · " (ctx.t("due.overdue")) " " (-d.days_left) (ctx.t("due.days")) }
        }
    }
}

/// The due list used by this page and the dashboard.
pub fn due_table(ctx: &Ctx, items: &[DueView]) -> Markup {
    html! {
        table class="data" id="deadlines" {
            thead { tr { th { (ctx.t("field.due")) } th { (ctx.t("field.obligation")) } th { (ctx.t("field.network_unit")) } th { (ctx.t("field.status")) } } }
            tbody {
                @for d in items {
                    tr data-status=(d.status) {
                        td class="nowrap" { (d.due) }
                        td { (ctx.t(obligation_key(&d.obligation))) }
                        td { a href={ "/govern/units/" (d.network_unit_id) } { (d.network_unit) } }
                        td { span class=(match d.status.as_str() { "overdue" => "badge red", "due_soon" => "badge amber", _ => "badge" }) {
                            @match d.status.as_str() {
                                "overdue" => { (ctx.t("due.overdue")) " " (-d.days_left) (ctx.t("due.days")) },
                                "due_soon" => { (ctx.t("due.soon")) },
                                _ => { (ctx.t("due.upcoming")) },
                            }
                        } }
                    }
                }
            }
        }
    }
}

fn unit_form(
    ctx: &Ctx,
    p: &Principal,
    units: &[anbao_model::OrgUnit],
    action: &str,
    id: &str,
    u: Option<&NetworkUnit>,
) -> Markup {
    html! {
        form method="post" action=(action) id=(id) class="grid" {
            (ctx.csrf_field())
            label { (ctx.t("field.name")) input name="name" required value=[u.map(|u| u.name.as_str())]; }
            label { (ctx.t("field.org_unit")) select name="org_unit_id" { (unit_options(units, &p.scope, Some(u.map_or(p.home_unit, |u| u.org_unit_id)))) } }
            label { (ctx.t("field.responsible_person")) input name="responsible_person" required value=[u.map(|u| u.responsible_person.as_str())]; }
            label { (ctx.t("field.mlps_level")) select name="mlps_level" { option value="" { "—" }
                @for m in MlpsLevel::ALL { option value=(m.as_str()) selected[u.and_then(|u| u.mlps_level) == Some(m)] { (m.as_str()) } } } }
            label class="wide" { (ctx.t("field.main_function")) input name="main_function" value=[u.map(|u| u.main_function.as_str())]; }
            label class="wide" { (ctx.t("field.topology")) textarea name="topology" rows="3" { (u.map(|u| u.topology.as_str()).unwrap_or_default()) } }
            label class="wide" { (ctx.t("field.boundary")) textarea name="boundary" rows="2" { (u.map(|u| u.boundary.as_str()).unwrap_or_default()) } }
            label class="wide" { (ctx.t("field.key_facilities")) input name="key_facilities" value=[u.map(|u| u.key_facilities.as_str())]; }
            button type="submit" { (ctx.t("action.save")) }
        }
    }
}

fn draft_of(raw: &[(String, String)]) -> Result<NetworkUnitDraft, String> {
    let one = |k: &str| super::form_value(raw, k).to_owned();
    let org_unit_id = one("org_unit_id").parse::<i64>().map_err(|_| "org_unit_id: choose a unit".to_owned())?;
    let mlps = one("mlps_level");
    let mlps_level =
        if mlps.is_empty() { None } else { Some(mlps.parse::<MlpsLevel>().map_err(|e| format!("mlps_level: {e}"))?) };
    Ok(NetworkUnitDraft {
        org_unit_id,
        name: one("name"),
        main_function: one("main_function"),
        responsible_person: one("responsible_person"),
        topology: one("topology"),
        boundary: one("boundary"),
        key_facilities: one("key_facilities"),
        mlps_level,
    })
}

pub async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Query(f): Query<Flash>,
) -> Result<Response, ApiError> {
    let today = state.store.clock().now().date();
    let units = state.store.list_network_units(p.scope_filter().as_deref()).await?;
    let orgs = state.store.list_org_units().await?;
    let tree = OrgTree::new(&orgs);
    let body = html! {
        (flash(&f))
        p class="actions" { a href="/govern/deadlines" { (ctx.t("nav.deadlines")) } }
        table class="data" id="network-units" {
            thead { tr { th { (ctx.t("field.name")) } th { (ctx.t("field.org_unit")) } th { (ctx.t("field.level")) } th { (ctx.t("field.mlps_level")) }
                th { (ctx.t("field.status")) } th { (ctx.t("field.next_due")) } } }
            tbody {
                @for u in &units {
                    @let due: Vec<DueView> = u.dates().map(|d| anbao_model::deadlines::obligations(&d, today)).unwrap_or_default().iter().map(|d| due_view(u, d)).collect();
                    tr data-unit=(u.id) {
                        td { a href={ "/govern/units/" (u.id) } { (u.name) } }
                        td { (tree.path(u.org_unit_id)) }
                        td { @if let Some(l) = u.level { strong { (l.as_str()) } } @else { "—" } }
                        td { (u.mlps_level.map(|m| m.as_str()).unwrap_or("—")) }
                        td { span class="badge" { (ctx.t(status_key(u.status))) } }
                        td { @if let Some(d) = due.first() { (due_badge(&ctx, d)) } }
                    }
                }
            }
        }
        @if ctx.can(Permission::ManageGovern) {
            section class="card" {
                h2 { (ctx.t("units.create")) }
                (unit_form(&ctx, &p, &orgs, BACK, "create-network-unit", None))
            }
        }
    };
    Ok(super::page(&ctx, ctx.t("nav.units"), body))
}

pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    FormBody(raw): FormBody<Vec<(String, String)>>,
) -> Result<Response, FormError> {
    let draft = draft_of(&raw).or_bounce(BACK)?;
    if !p.scope.contains(draft.org_unit_id) {
        return Ok(redirect_with(BACK, "error", "org_unit_id: choose a unit within your scope"));
    }
    match state.store.create_network_unit(&p.actor(&client), &draft).await {
        Ok(u) => Ok(redirect_with(&format!("/govern/units/{}", u.id), "ok", ctx.t("saved"))),
        Err(e) => Ok(redirect_with(BACK, "error", &user_message(e)?)),
    }
}

fn factor_text(ctx: &Ctx, zh: &str, en: &str) -> String {
    match ctx.lang {
        Lang::Zh => zh.to_owned(),
        Lang::En => en.to_owned(),
    }
}

/// The wizard: one question per factor, answered with radio buttons.
fn wizard(
    ctx: &Ctx,
    config: &crate::ServerConfig,
    action: &str,
    answers: Option<&GradingAnswers>,
) -> Result<Markup, ApiError> {
    let r = rules(config)?;
    Ok(html! {
        form method="post" action=(action) id="grading-wizard" {
            (ctx.csrf_field())
            @for f in r.factors() {
                fieldset class="factor" data-factor=(f.id) {
                    legend { (factor_text(ctx, &f.zh, &f.en)) " " span class="req" { (f.source) } }
                    @for o in &f.options {
                        label class="check" {
                            input type="radio" name={ "answer." (f.id) } value=(o.id) required
                                checked[answers.and_then(|a| a.get(&f.id)) == Some(o.id.as_str())];
                            (factor_text(ctx, &o.zh, &o.en))
                        }
                    }
                }
            }
            button type="submit" name="step" value="preview" { (ctx.t("grading.propose")) }
        }
    })
}

fn proposal_view(ctx: &Ctx, proposal: &GradingProposal, preview: bool) -> Markup {
    html! {
        div class="proposal" id=[preview.then_some("grading-proposal")] {
            p { (ctx.t("grading.proposed_level")) " " strong id=[preview.then_some("proposed-level")] { (proposal.level.as_str()) }
                " · " (ctx.t("grading.decided_by")) " " code { (proposal.decided_by) } }
            ul {
                @for f in &proposal.fired {
                    li class=[(f.id == proposal.decided_by).then_some("decisive")] {
                        strong { (f.level.as_str()) } " — " (factor_text(ctx, &f.reason_zh, &f.reason_en)) " " span class="req" { (f.source) }
                    }
                }
                @if let Some(s) = &proposal.split {
                    li { strong { (s.level.as_str()) } " — " (factor_text(ctx, &s.reason_zh, &s.reason_en)) }
                }
            }
            p class="small" { (ctx.t("grading.rules_version")) " " (proposal.rules_version) }
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
    let unit = crate::api::network_units::visible(&state, &p, id).await?;
    Ok(super::page(
        &ctx,
        &format!("{} · {}", ctx.t("nav.units"), unit.name),
        detail_body(&state, &ctx, &p, &unit, &f, None).await?,
    ))
}

async fn detail_body(
    state: &AppState,
    ctx: &Ctx,
    p: &Principal,
    unit: &NetworkUnit,
    f: &Flash,
    preview: Option<&GradingProposal>,
) -> Result<Markup, ApiError> {
    let today = state.store.clock().now().date();
    let orgs = state.store.list_org_units().await?;
    let tree = OrgTree::new(&orgs);
    let assets = state
        .store
        .list_assets(&anbao_store::AssetFilter { org_units: p.scope_filter(), limit: 1000, ..Default::default() })
        .await?;
    let manage = ctx.can(Permission::ManageGovern);
    let assessments = state.store.list_assessments(unit.id).await?;
    let here = format!("/govern/units/{}", unit.id);
    let due: Vec<DueView> = unit
        .dates()
        .map(|d| anbao_model::deadlines::obligations(&d, today))
        .unwrap_or_default()
        .iter()
        .map(|d| due_view(unit, d))
        .collect();
    Ok(html! {
        (flash(f))
        section class="card" id="unit-detail" {
            dl {
                dt { (ctx.t("field.status")) } dd { span class="badge" id="unit-status" { (ctx.t(status_key(unit.status))) } }
                dt { (ctx.t("field.level")) } dd id="unit-level" { (unit.level.map(|l| l.as_str()).unwrap_or("—")) }
                @if !unit.level_override_reason.is_empty() { dt { (ctx.t("field.override_reason")) } dd { (unit.level_override_reason) } }
                dt { (ctx.t("field.mlps_level")) } dd { (unit.mlps_level.map(|m| m.as_str()).unwrap_or("—")) }
                dt { (ctx.t("field.org_unit")) } dd { (tree.path(unit.org_unit_id)) }
                dt { (ctx.t("field.responsible_person")) } dd { (unit.responsible_person) }
                dt { (ctx.t("field.main_function")) } dd { (unit.main_function) }
                dt { (ctx.t("field.review_passed")) } dd { (unit.review_passed.map(date_text).unwrap_or_default()) " " (unit.reviewers) }
                dt { (ctx.t("field.filed")) } dd { (unit.filed.map(date_text).unwrap_or_default()) " " (unit.filing_number) }
                dt { (ctx.t("field.last_compliance_assessment")) } dd { (unit.last_compliance_assessment.map(date_text).unwrap_or_default()) }
                dt { (ctx.t("field.last_risk_assessment")) } dd { (unit.last_risk_assessment.map(date_text).unwrap_or_default()) }
                dt { (ctx.t("nav.deadlines")) } dd id="unit-deadlines" { @for d in &due { (due_badge(ctx, d)) " " } }
            }
            p class="actions" {
                a href={ (here) "/filing-form" } id="filing-form-link" { (ctx.t("units.filing_form")) } " · "
                a href={ (here) "/filing-form.pdf" } id="filing-form-pdf" { "PDF" } " · "
                a href={ "/api/v1/network-units/" (unit.id) "/filing-form" } { "JSON" }
                @if ctx.can(Permission::ReadAudit) { " · " a href={ "/audit?object_type=network_unit&object_id=" (unit.id) } { (ctx.t("audit.history")) } }
            }
        }
        @if let Some(g) = &unit.grading {
            section class="card" { h2 { (ctx.t("grading.recorded")) } (proposal_view(ctx, g, false)) }
        }
        @if manage {
            section class="card" {
                h2 { (ctx.t("grading.wizard")) }
                @if let Some(prop) = preview {
                    (proposal_view(ctx, prop, true))
                    form method="post" action={ (here) "/grading" } id="grading-accept" class="grid" {
                        (ctx.csrf_field())
                        @for (k, v) in prop.answers.iter() { input type="hidden" name={ "answer." (k) } value=(v); }
                        label { (ctx.t("field.level")) select name="level" {
                            @for l in GradeLevel::ALL { option value=(l.as_str()) selected[l == prop.level] { (l.as_str()) } } } }
                        label { (ctx.t("field.override_reason")) input name="override_reason"; }
                        button type="submit" name="step" value="accept" { (ctx.t("grading.accept")) }
                    }
                }
                (wizard(ctx, &state.config, &format!("{here}/grading"), preview.map(|p| &p.answers).or(unit.grading.as_ref().map(|g| &g.answers)))?)
            }
            @if unit.level.is_some() {
                section class="card" {
                    h2 { (ctx.t("units.review")) }
                    form method="post" action={ (here) "/review" } id="review-form" class="grid" {
                        (ctx.csrf_field())
                        label { (ctx.t("field.review_passed")) input type="date" name="passed_on" required value=(date_text(today)); }
                        label { (ctx.t("field.reviewers")) input name="reviewers" required; }
                        label class="wide" { (ctx.t("field.opinion")) input name="opinion"; }
                        button type="submit" { (ctx.t("action.save")) }
                    }
                }
            }
            @if unit.review_passed.is_some() {
                section class="card" {
                    h2 { (ctx.t("units.filing")) }
                    form method="post" action={ (here) "/filing" } id="filing-record" class="grid" {
                        (ctx.csrf_field())
                        label { (ctx.t("field.filed")) input type="date" name="filed_on" required value=(date_text(today)); }
                        label { (ctx.t("field.filing_number")) input name="filing_number"; }
                        button type="submit" { (ctx.t("action.save")) }
                    }
                }
            }
            @if unit.level.is_some() {
                section class="card" {
                    h2 { (ctx.t("assessment.title")) }
                    (super::assessments::list_for_unit(ctx, &assessments))
                    form method="post" action={ (here) "/compliance" } id="start-assessment" class="grid" {
                        (ctx.csrf_field())
                        label { (ctx.t("field.assessor")) input name="assessor" required; }
                        button type="submit" { (ctx.t("assessment.start")) }
                    }
                }
            }
            @if unit.filed.is_some() {
                section class="card" {
                    h2 { (ctx.t("units.assessment")) }
                    form method="post" action={ (here) "/assessments" } id="assessment-record" class="grid" {
                        (ctx.csrf_field())
                        label { (ctx.t("field.kind")) select name="kind" {
                            option value="compliance" { (ctx.t("obligation.compliance_assessment")) }
                            option value="risk" { (ctx.t("obligation.risk_assessment")) } } }
                        label { (ctx.t("field.completed_on")) input type="date" name="completed_on" required value=(date_text(today)); }
                        button type="submit" { (ctx.t("action.save")) }
                    }
                }
            }
            section class="card" {
                h2 { (ctx.t("units.assets")) }
                form method="post" action={ (here) "/assets" } id="unit-assets" {
                    (ctx.csrf_field())
                    @for a in &assets {
                        label class="check" { input type="checkbox" name="asset_id" value=(a.id) checked[unit.asset_ids.contains(&a.id)]; (a.name) " " code { (a.identifier) } }
                    }
                    button type="submit" { (ctx.t("action.save")) }
                }
            }
            section class="card" {
                h2 { (ctx.t("units.edit")) }
                (unit_form(ctx, p, &orgs, &here, "edit-network-unit", Some(unit)))
                form method="post" action={ (here) "/delete" } data-confirm=(ctx.t("confirm.delete")) {
                    (ctx.csrf_field()) button type="submit" class="danger" { (ctx.t("action.delete")) }
                }
            }
        }
    })
}

pub async fn update(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    FormBody(raw): FormBody<Vec<(String, String)>>,
) -> Result<Response, FormError> {
    crate::api::network_units::visible(&state, &p, id).await?;
    let back = format!("/govern/units/{id}");
    let draft = draft_of(&raw).or_bounce(&back)?;
    if !p.scope.contains(draft.org_unit_id) {
        return Ok(redirect_with(&back, "error", "org_unit_id: choose a unit within your scope"));
    }
    after_change(state.store.update_network_unit(&p.actor(&client), id, &draft).await, &back, ctx.t("saved"))
}

pub async fn delete(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    crate::api::network_units::visible(&state, &p, id).await?;
    state.store.delete_network_unit(&p.actor(&client), id).await?;
    Ok(redirect_with(BACK, "ok", ctx.t("deleted")))
}

/// The wizard's two steps: `preview` shows the proposal and its reasoning;
/// `accept` records it (with an optional override and its reason).
pub async fn grade(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    FormBody(raw): FormBody<Vec<(String, String)>>,
) -> Result<Response, FormError> {
    let unit = crate::api::network_units::visible(&state, &p, id).await?;
    let back = format!("/govern/units/{id}");
    let answers: GradingAnswers =
        raw.iter().filter_map(|(k, v)| k.strip_prefix("answer.").map(|f| (f.to_owned(), v.clone()))).collect();
    let proposal = propose_answers(&state.config, &answers).or_bounce(&back)?;
    let one = |k: &str| super::form_value(&raw, k);
    if one("step") != "accept" {
        let body = detail_body(&state, &ctx, &p, &unit, &Flash::default(), Some(&proposal)).await?;
        return Ok(super::page(&ctx, &format!("{} · {}", ctx.t("nav.units"), unit.name), body));
    }
    let level = match one("level") {
        "" => proposal.level,
        s => s.parse::<GradeLevel>().map_err(|e| format!("level: {e:?}")).or_bounce(&back)?,
    };
    after_change(
        state.store.record_grading(&p.actor(&client), id, &proposal, level, one("override_reason")).await,
        &back,
        ctx.t("grading.recorded"),
    )
}

fn form_date(raw: &[(String, String)], field: &'static str) -> Result<time::Date, String> {
    let v = super::form_value(raw, field);
    parse_date(field, v).map_err(|e| e.to_string())
}

pub async fn review(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    FormBody(raw): FormBody<Vec<(String, String)>>,
) -> Result<Response, FormError> {
    crate::api::network_units::visible(&state, &p, id).await?;
    let back = format!("/govern/units/{id}");
    let on = form_date(&raw, "passed_on").or_bounce(&back)?;
    after_change(
        state
            .store
            .record_review(
                &p.actor(&client),
                id,
                on,
                super::form_value(&raw, "reviewers"),
                super::form_value(&raw, "opinion"),
            )
            .await,
        &back,
        ctx.t("saved"),
    )
}

pub async fn file(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    FormBody(raw): FormBody<Vec<(String, String)>>,
) -> Result<Response, FormError> {
    crate::api::network_units::visible(&state, &p, id).await?;
    let back = format!("/govern/units/{id}");
    let on = form_date(&raw, "filed_on").or_bounce(&back)?;
    after_change(
        state.store.record_filing(&p.actor(&client), id, on, super::form_value(&raw, "filing_number")).await,
        &back,
        ctx.t("saved"),
    )
}

pub async fn record_assessment(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    FormBody(raw): FormBody<Vec<(String, String)>>,
) -> Result<Response, FormError> {
    crate::api::network_units::visible(&state, &p, id).await?;
    let back = format!("/govern/units/{id}");
    let kind = assessment_kind(super::form_value(&raw, "kind")).or_bounce(&back)?;
    let on = form_date(&raw, "completed_on").or_bounce(&back)?;
    after_change(state.store.record_assessment(&p.actor(&client), id, kind, on).await, &back, ctx.t("saved"))
}

pub async fn set_assets(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    FormBody(raw): FormBody<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    crate::api::network_units::visible(&state, &p, id).await?;
    let back = format!("/govern/units/{id}");
    let mut ids = Vec::new();
    for (_, v) in raw.iter().filter(|(k, _)| k == "asset_id") {
        match v.parse::<i64>() {
            Ok(a) if crate::api::assets::visible(&state, &p, a).await.is_ok() => ids.push(a),
            _ => return Ok(redirect_with(&back, "error", &format!("asset_id: {v:?} is not an asset in your scope"))),
        }
    }
    state.store.set_network_unit_assets(&p.actor(&client), id, &ids).await?;
    Ok(redirect_with(&back, "ok", ctx.t("saved")))
}

/// The printable filing form (备案表): print it, or save it as PDF from the
/// browser's print dialog.
/// The filing form (备案表) as a complete document; `inline_css` embeds
/// the stylesheet for rendering outside the site (PDF).
fn filing_form_document(ctx: &Ctx, form: &crate::api::network_units::FilingForm, inline_css: bool) -> Markup {
    let row = |label: &'static str, value: &str| html! { tr { th { (ctx.t(label)) } td { (value) } } };
    html! {
        (DOCTYPE)
        html lang=(ctx.lang.html_code()) {
            head {
                meta charset="utf-8";
                title { (ctx.t("units.filing_form")) " · " (form.unit_name) }
                @if inline_css { style { (maud::PreEscaped(crate::assets::APP_CSS)) } }
                @else { link rel="stylesheet" href="/static/app.css"; }
            }
            body class="print" {
                main class="filing-form" {
                    h1 { (ctx.t("units.filing_form_title")) }
                    table class="form" id="filing-form" {
                        (row("field.name", &form.unit_name))
                        (row("field.level", form.level.as_deref().unwrap_or("—")))
                        (row("field.mlps_level", form.mlps_level.as_deref().unwrap_or("—")))
                        (row("field.main_function", &form.main_function))
                        (row("field.org_unit", &form.responsible_unit))
                        (row("field.responsible_person", &form.responsible_person))
                        (row("field.topology", &form.topology))
                        (row("field.boundary", &form.boundary))
                        (row("field.key_facilities", &form.key_facilities))
                        tr { th { (ctx.t("units.grading_reason")) } td { ul { @for r in &form.grading_reason { li { (r) } } } } }
                        (row("field.review_passed", &format!("{} {}", form.review_passed.clone().unwrap_or_default(), form.reviewers)))
                        (row("field.filed", &format!("{} {}", form.filed.clone().unwrap_or_default(), form.filing_number)))
                    }
                    h2 { (ctx.t("units.main_equipment")) }
                    table class="form" {
                        tr { th { (ctx.t("nav.assets")) } th { (ctx.t("field.kind")) } th { (ctx.t("field.vendor")) } th { (ctx.t("field.product")) } th { (ctx.t("field.version")) } }
                        @for e in &form.main_equipment { tr { td { (e.asset) } td { (e.kind) } td { (e.vendor) } td { (e.product) } td { (e.version) } } }
                    }
                    table class="signature" { tr {
                        td { (ctx.t("units.seal")) } td { (ctx.t("units.signed")) } td { (ctx.t("units.date")) }
                    } }
                }
            }
        }
    }
}

pub async fn filing_form(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let unit = crate::api::network_units::visible(&state, &p, id).await?;
    let form = filing_form_for(&state, &unit, ctx.lang == Lang::En).await?;
    Ok(Html(filing_form_document(&ctx, &form, false).into_string()).into_response())
}

/// The filing form as PDF, printed by headless Chromium.
pub async fn filing_form_pdf(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let unit = crate::api::network_units::visible(&state, &p, id).await?;
    let form = filing_form_for(&state, &unit, ctx.lang == Lang::En).await?;
    let html = filing_form_document(&ctx, &form, true).into_string();
    let pdf = crate::pdf::html_to_pdf(state.config.pdf_renderer.as_deref(), &html).await.map_err(|e| {
        tracing::warn!(error = %e, "rendering a filing form PDF");
        ApiError::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            format!("{e}; print the HTML form from the browser instead"),
        )
    })?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "application/pdf".to_owned()),
            (axum::http::header::CONTENT_DISPOSITION, format!("attachment; filename=\"filing-form-{id}.pdf\"")),
        ],
        pdf,
    )
        .into_response())
}

pub async fn deadlines(State(state): State<AppState>, ctx: Ctx, p: Principal) -> Result<Response, ApiError> {
    let items: Vec<DueView> = deadlines_for(&state, &p).await?.iter().map(|(u, d)| due_view(u, d)).collect();
    let overdue = items.iter().filter(|d| d.status == "overdue").count();
    let soon = items.iter().filter(|d| d.status == "due_soon").count();
    let body = html! {
        div class="cards" {
            div class="card stat" { span class="n red" id="overdue-count" { (overdue) } span { (ctx.t("due.overdue_items")) } }
            div class="card stat" { span class="n amber" { (soon) } span { (ctx.t("due.soon_items")) } }
            div class="card stat" { span class="n" { (items.len()) } span { (ctx.t("due.all_items")) } }
        }
        (due_table(&ctx, &items))
        p class="small" { (ctx.t("due.rules")) }
    };
    Ok(super::page(&ctx, ctx.t("nav.deadlines"), body))
}
