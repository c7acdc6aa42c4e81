//! The risk register page and, on each asset, its risks and pre-launch gate.

use anbao_model::Permission;
use anbao_model::risk::{RiskLevel, Treatment};
use anbao_store::Risk;
use axum::extract::State;
use axum::response::Response;
use maud::{Markup, html};

use super::{Ctx, Flash, FormError, OrBounce, after_change, flash, unit_options};
use crate::AppState;
use crate::api::risks::{RiskBody, draft};
use crate::auth::{ClientAddr, Principal};
use crate::error::ApiError;
use crate::extract::{FormBody, Path, Query};

pub fn level_badge(ctx: &Ctx, l: RiskLevel) -> Markup {
    let class = match l {
        RiskLevel::Low => "badge green",
        RiskLevel::Medium => "badge",
        RiskLevel::High => "badge amber",
        RiskLevel::Critical => "badge red",
    };
    let key = match l {
        RiskLevel::Low => "criticality.low",
        RiskLevel::Medium => "criticality.medium",
        RiskLevel::High => "criticality.high",
        RiskLevel::Critical => "criticality.critical",
    };
    html! { span class=(class) data-level=(l.as_str()) { (ctx.t(key)) } }
}

pub fn risk_table(ctx: &Ctx, risks: &[Risk]) -> Markup {
    html! {
        table class="data" id="risks" {
            thead { tr { th { (ctx.t("field.risk")) } th { (ctx.t("risk.rating")) } th { (ctx.t("field.level")) } th { (ctx.t("risk.treatment")) }
                th { (ctx.t("risk.residual")) } th { (ctx.t("field.task_owner")) } th { (ctx.t("risk.review_on")) } } }
            tbody {
                @for r in risks {
                    tr data-risk=(r.id) {
                        td { strong { (r.title) } @if !r.threat.is_empty() { div class="req" { (r.threat) " / " (r.vulnerability) } } }
                        td class="nowrap" { (r.asset_value) " × " (r.likelihood) " × " (r.severity) " = " strong { (r.score) } }
                        td { (level_badge(ctx, r.level)) }
                        td { (r.treatment.as_str()) @if !r.treatment_plan.is_empty() { div class="req" { (r.treatment_plan) } } }
                        td { @if let Some(l) = r.residual_level { (level_badge(ctx, l)) } }
                        td { (r.owner) }
                        td { (r.review_on.clone().unwrap_or_default()) }
                    }
                }
            }
        }
    }
}

/// The form that adds a risk, optionally bound to an asset.
pub fn risk_form(ctx: &Ctx, p: &Principal, units: &[anbao_model::OrgUnit], asset: Option<(i64, i64)>) -> Markup {
    let rating = |name: &'static str| html! { select name=(name) { @for v in 1..=5 { option value=(v) selected[v == 3] { (v) } } } };
    html! {
        form method="post" action="/govern/risks" id="create-risk" class="grid" {
            (ctx.csrf_field())
            @if let Some((asset_id, unit)) = asset {
                input type="hidden" name="asset_id" value=(asset_id);
                input type="hidden" name="org_unit_id" value=(unit);
            } @else {
                label { (ctx.t("field.org_unit")) select name="org_unit_id" { (unit_options(units, &p.scope, Some(p.home_unit))) } }
            }
            label class="wide" { (ctx.t("field.risk")) input name="title" required; }
            label { (ctx.t("risk.threat")) input name="threat"; }
            label { (ctx.t("risk.vulnerability")) input name="vulnerability"; }
            label { (ctx.t("risk.asset_value")) (rating("asset_value")) }
            label { (ctx.t("risk.likelihood")) (rating("likelihood")) }
            label { (ctx.t("risk.severity")) (rating("severity")) }
            label { (ctx.t("risk.treatment")) select name="treatment" { @for t in Treatment::ALL { option value=(t.as_str()) { (t.as_str()) } } } }
            label { (ctx.t("risk.plan")) input name="treatment_plan"; }
            label { (ctx.t("risk.residual")) select name="residual_level" { option value="" { "—" } @for l in RiskLevel::ALL { option value=(l.as_str()) { (l.as_str()) } } } }
            label { (ctx.t("field.task_owner")) input name="owner" required; }
            label { (ctx.t("risk.review_on")) input type="date" name="review_on"; }
            button type="submit" { (ctx.t("action.add")) }
        }
    }
}

pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Query(f): Query<Flash>,
) -> Result<Response, ApiError> {
    let risks = state.store.list_risks(p.scope_filter().as_deref(), None).await?;
    let units = state.store.list_org_units().await?;
    let chart: Vec<(String, i64)> = RiskLevel::ALL
        .iter()
        .rev()
        .map(|l| (l.as_str().to_owned(), risks.iter().filter(|r| r.level == *l).count() as i64))
        .collect();
    let m = state.config.risk_method;
    let body = html! {
        (flash(&f))
        @if !risks.is_empty() { section class="card" { (super::chart::hbars(ctx.t("risk.by_level"), &chart)) } }
        p class="small" id="risk-method" { (ctx.t("risk.method")) " " (m.medium_from) " / " (m.high_from) " / " (m.critical_from) }
        (risk_table(&ctx, &risks))
        @if ctx.can(Permission::ManageGovern) {
            section class="card" { h2 { (ctx.t("risk.add")) } (risk_form(&ctx, &p, &units, None)) }
        }
    };
    Ok(super::page(&ctx, ctx.t("nav.risks"), body))
}

pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    FormBody(raw): FormBody<Vec<(String, String)>>,
) -> Result<Response, FormError> {
    let one = |k: &str| super::form_value(&raw, k).to_owned();
    let int = |k: &str| one(k).parse::<i64>().unwrap_or(0);
    let asset_id = one("asset_id").parse::<i64>().ok();
    let back = asset_id.map_or_else(|| "/govern/risks".to_owned(), |a| format!("/govern/assets/{a}"));
    let body = RiskBody {
        org_unit_id: int("org_unit_id"),
        asset_id,
        title: one("title"),
        threat: one("threat"),
        vulnerability: one("vulnerability"),
        asset_value: int("asset_value"),
        likelihood: int("likelihood"),
        severity: int("severity"),
        treatment: one("treatment"),
        treatment_plan: one("treatment_plan"),
        residual_level: one("residual_level"),
        owner: one("owner"),
        review_on: one("review_on"),
    };
    let d = draft(&state, &p, body).await.or_bounce(&back)?;
    after_change(
        state.store.save_risk(&p.actor(&client), None, &d, &state.config.risk_method).await,
        &back,
        ctx.t("saved"),
    )
}

/// The asset page's section: its risks and its launch clearances.
pub async fn asset_section(
    state: &AppState,
    ctx: &Ctx,
    p: &Principal,
    asset: &anbao_store::Asset,
) -> Result<Markup, ApiError> {
    let risks = state.store.list_risks(None, Some(asset.id)).await?;
    let clearances = state.store.prelaunch_clearances(asset.id).await?;
    let units = state.store.list_org_units().await?;
    let manage = ctx.can(Permission::ManageGovern);
    Ok(html! {
        section class="card" id="asset-risks" {
            h2 { (ctx.t("nav.risks")) }
            (risk_table(ctx, &risks))
            @if manage { details { summary { (ctx.t("risk.add")) } (risk_form(ctx, p, &units, Some((asset.id, asset.org_unit_id)))) } }
        }
        section class="card" id="prelaunch" {
            h2 { (ctx.t("prelaunch.title")) }
            @if clearances.is_empty() {
                p { span class="badge red" id="prelaunch-status" { (ctx.t("prelaunch.not_cleared")) } }
            } @else {
                ul { @for c in &clearances { li { span class="badge green" { (c.kind) } " " (c.approved_by) " · " (c.created_at.get(..10).unwrap_or_default()) " " (c.reason) } } }
            }
            @if manage {
                form method="post" action={ "/govern/assets/" (asset.id) "/prelaunch" } id="prelaunch-form" class="grid" {
                    (ctx.csrf_field())
                    label { (ctx.t("prelaunch.kind")) select name="kind" {
                        option value="assessment" { (ctx.t("prelaunch.assessment")) } option value="exception" { (ctx.t("prelaunch.exception")) } } }
                    label { (ctx.t("prelaunch.approved_by")) input name="approved_by" required; }
                    label { (ctx.t("prelaunch.reason")) input name="reason"; }
                    button type="submit" { (ctx.t("action.save")) }
                }
            }
        }
    })
}

pub async fn clear(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    FormBody(raw): FormBody<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    crate::api::assets::visible(&state, &p, id).await?;
    let back = format!("/govern/assets/{id}");
    let one = |k: &str| super::form_value(&raw, k);
    after_change(
        state.store.clear_for_launch(&p.actor(&client), id, one("kind"), one("approved_by"), one("reason")).await,
        &back,
        ctx.t("saved"),
    )
}
