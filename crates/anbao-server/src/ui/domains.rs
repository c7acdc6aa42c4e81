//! Security domains and boundaries (R1.4): the zones, which assets sit in
//! them, the devices guarding the borders, and a diagram to look at.

use anbao_model::Permission;
use anbao_model::asset::ZoneKind;
use anbao_model::org::OrgTree;
use anbao_store::{Boundary, SecurityDomain};
use axum::extract::State;
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;

use super::{Ctx, Flash, after_change, flash, redirect_with, unit_options};
use crate::AppState;
use crate::auth::{ClientAddr, Principal};
use crate::error::ApiError;
use crate::extract::{FormBody, Path, Query};

const BACK: &str = "/govern/domains";

pub fn zone_key(z: ZoneKind) -> &'static str {
    match z {
        ZoneKind::Core => "zone.core",
        ZoneKind::Management => "zone.management",
        ZoneKind::Dmz => "zone.dmz",
        ZoneKind::Office => "zone.office",
        ZoneKind::Production => "zone.production",
        ZoneKind::Other => "zone.other",
    }
}

/// Zones placed around an ellipse (ordered by zone kind, so core, management,
/// DMZ and office keep their usual neighbours), boundaries as straight lines
/// between them that never pass under another zone's box, labelled with
/// the guarding device or the controls.
pub fn diagram(
    ctx: &Ctx,
    domains: &[SecurityDomain],
    boundaries: &[Boundary],
    device_names: &[(i64, String)],
) -> Markup {
    let (w, h) = (170.0_f64, 64.0_f64);
    let mut ordered: Vec<&SecurityDomain> = domains.iter().collect();
    ordered.sort_by_key(|d| (ZoneKind::ALL.iter().position(|z| *z == d.zone_kind), d.id));
    let n = ordered.len().max(1) as f64;
    let (rx, ry) = ((120.0 * n).clamp(160.0, 420.0), (60.0 * n).clamp(90.0, 220.0));
    let (width, height) = (2.0 * rx + w + 40.0, 2.0 * ry + h + 40.0);
    let (cx, cy) = (width / 2.0, height / 2.0);
    let pos: Vec<(i64, f64, f64)> = ordered
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let angle = std::f64::consts::PI * (1.0 + 2.0 * i as f64 / n);
            (d.id, cx + rx * angle.cos() - w / 2.0, cy + ry * angle.sin() - h / 2.0)
        })
        .collect();
    let at = |id: i64| pos.iter().find(|(d, _, _)| *d == id).map(|(_, x, y)| (x + w / 2.0, y + h / 2.0));
    html! {
        figure class="chart diagram" id="domain-diagram" {
            svg viewBox={ "0 0 " (format!("{width:.0}")) " " (format!("{height:.0}")) } role="img" aria-label=(ctx.t("domains.diagram")) {
                @for b in boundaries {
                    @if let (Some((x1, y1)), Some((x2, y2))) = (at(b.domain_a), at(b.domain_b)) {
                        line x1=(format!("{x1:.0}")) y1=(format!("{y1:.0}")) x2=(format!("{x2:.0}")) y2=(format!("{y2:.0}")) class="boundary" {}
                        @let label = b.device_asset_id.and_then(|d| device_names.iter().find(|(id, _)| *id == d)).map(|(_, n)| n.clone()).unwrap_or_else(|| b.controls.clone());
                        text x=(format!("{:.0}", (x1 + x2) / 2.0)) y=(format!("{:.0}", (y1 + y2) / 2.0 - 4.0)) class="boundary-label" text-anchor="middle" { (label) }
                    }
                }
                @for d in domains {
                    @if let Some((_, x, y)) = pos.iter().find(|(id, _, _)| *id == d.id) {
                        g class={ "zone zone-" (d.zone_kind.as_str()) } data-domain=(d.id) {
                            rect x=(format!("{x:.0}")) y=(format!("{y:.0}")) width=(w) height=(h) rx="8" {}
                            text x=(format!("{:.0}", x + w / 2.0)) y=(format!("{:.0}", y + 24.0)) text-anchor="middle" class="zone-name" { (d.name) }
                            text x=(format!("{:.0}", x + w / 2.0)) y=(format!("{:.0}", y + 44.0)) text-anchor="middle" class="zone-meta" {
                                (ctx.t(zone_key(d.zone_kind))) " · " (d.asset_count) " " (ctx.t("domains.assets"))
                            }
                        }
                    }
                }
            }
            figcaption { (ctx.t("domains.diagram")) }
        }
    }
}

pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Query(f): Query<Flash>,
) -> Result<Response, ApiError> {
    let domains = state.store.list_domains(p.scope_filter().as_deref()).await?;
    let boundaries = crate::api::domains::visible_boundaries(&state, &p).await?;
    let units = state.store.list_org_units().await?;
    let tree = OrgTree::new(&units);
    let mut devices = Vec::new();
    for d in boundaries.iter().filter_map(|b| b.device_asset_id) {
        if let Ok(a) = state.store.get_asset(d).await {
            devices.push((d, a.name));
        }
    }
    let device_filter = anbao_store::AssetFilter {
        org_units: p.scope_filter(),
        asset_type: Some(anbao_model::asset::AssetType::Device),
        limit: 1000,
        ..Default::default()
    };
    let candidate_devices = state.store.list_assets(&device_filter).await?;
    let name_of = |id: i64| domains.iter().find(|d| d.id == id).map(|d| d.name.clone()).unwrap_or_default();
    let manage = ctx.can(Permission::ManageGovern);
    let body = html! {
        (flash(&f))
        section class="card" { (diagram(&ctx, &domains, &boundaries, &devices)) }
        table class="data" id="domains" {
            thead { tr { th { (ctx.t("field.name")) } th { (ctx.t("field.zone_kind")) } th { (ctx.t("field.org_unit")) }
                th { (ctx.t("domains.assets_header")) } th { (ctx.t("field.description")) } th {} } }
            tbody {
                @for d in &domains {
                    tr data-domain=(d.id) {
                        td { a href={ "/govern/assets?domain_id=" (d.id) } { (d.name) } }
                        td { (ctx.t(zone_key(d.zone_kind))) }
                        td { (tree.path(d.org_unit_id)) }
                        td { (d.asset_count) }
                        td { (d.description) }
                        td { @if manage {
                            form method="post" action={ "/govern/domains/" (d.id) "/delete" } data-confirm=(ctx.t("confirm.delete")) {
                                (ctx.csrf_field()) button type="submit" class="danger" { (ctx.t("action.delete")) }
                            }
                        } }
                    }
                }
            }
        }
        h2 { (ctx.t("domains.boundaries")) }
        table class="data" id="boundaries" {
            thead { tr { th { (ctx.t("domains.between")) } th { (ctx.t("domains.device")) } th { (ctx.t("domains.controls")) } th {} } }
            tbody {
                @for b in &boundaries {
                    tr {
                        td { (name_of(b.domain_a)) " ⇄ " (name_of(b.domain_b)) }
                        td { (b.device_asset_id.and_then(|d| devices.iter().find(|(id, _)| *id == d)).map(|(_, n)| n.as_str()).unwrap_or("—")) }
                        td { (b.controls) }
                        td { @if manage {
                            form method="post" action={ "/govern/boundaries/" (b.id) "/delete" } data-confirm=(ctx.t("confirm.delete")) {
                                (ctx.csrf_field()) button type="submit" class="danger" { (ctx.t("action.delete")) }
                            }
                        } }
                    }
                }
            }
        }
        @if manage {
            section class="card" {
                h2 { (ctx.t("domains.create")) }
                form method="post" action=(BACK) id="create-domain" class="grid" {
                    (ctx.csrf_field())
                    label { (ctx.t("field.name")) input name="name" required; }
                    label { (ctx.t("field.zone_kind")) select name="zone_kind" {
                        @for z in ZoneKind::ALL { option value=(z.as_str()) { (ctx.t(zone_key(*z))) } } } }
                    label { (ctx.t("field.org_unit")) select name="org_unit_id" { (unit_options(&units, &p.scope, Some(p.home_unit))) } }
                    label { (ctx.t("field.description")) input name="description"; }
                    button type="submit" { (ctx.t("action.create")) }
                }
            }
            @if domains.len() >= 2 {
                section class="card" {
                    h2 { (ctx.t("domains.boundary_create")) }
                    form method="post" action="/govern/boundaries" id="create-boundary" class="grid" {
                        (ctx.csrf_field())
                        label { (ctx.t("domains.side_a")) select name="domain_a" { @for d in &domains { option value=(d.id) { (d.name) } } } }
                        label { (ctx.t("domains.side_b")) select name="domain_b" { @for (i, d) in domains.iter().enumerate() { option value=(d.id) selected[i == 1] { (d.name) } } } }
                        label { (ctx.t("domains.device")) select name="device_asset_id" { option value="" { "—" }
                            @for a in &candidate_devices { option value=(a.id) { (a.name) } } } }
                        label { (ctx.t("domains.controls")) input name="controls"; }
                        button type="submit" { (ctx.t("action.create")) }
                    }
                }
            }
        }
    };
    Ok(super::page(&ctx, ctx.t("nav.domains"), body))
}

#[derive(Debug, Deserialize)]
pub struct DomainForm {
    name: String,
    zone_kind: ZoneKind,
    org_unit_id: i64,
    #[serde(default)]
    description: String,
}

pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    FormBody(f): FormBody<DomainForm>,
) -> Result<Response, ApiError> {
    if !p.scope.contains(f.org_unit_id) {
        return Ok(redirect_with(BACK, "error", "org_unit_id: choose a unit within your scope"));
    }
    after_change(
        state.store.create_domain(&p.actor(&client), f.org_unit_id, &f.name, f.zone_kind, &f.description).await,
        BACK,
        ctx.t("saved"),
    )
}

pub async fn delete(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    if !state.store.list_domains(p.scope_filter().as_deref()).await?.iter().any(|d| d.id == id) {
        return Err(ApiError::not_found("security domain"));
    }
    state.store.delete_domain(&p.actor(&client), id).await?;
    Ok(redirect_with(BACK, "ok", ctx.t("deleted")))
}

#[derive(Debug, Deserialize)]
pub struct BoundaryForm {
    domain_a: i64,
    domain_b: i64,
    #[serde(default)]
    device_asset_id: String,
    #[serde(default)]
    controls: String,
}

pub async fn create_boundary(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    FormBody(f): FormBody<BoundaryForm>,
) -> Result<Response, ApiError> {
    let visible = state.store.list_domains(p.scope_filter().as_deref()).await?;
    if ![f.domain_a, f.domain_b].iter().all(|id| visible.iter().any(|d| d.id == *id)) {
        return Ok(redirect_with(BACK, "error", "domain: choose security domains within your scope"));
    }
    let device = match f.device_asset_id.trim() {
        "" => None,
        s => match s.parse::<i64>() {
            Ok(id) if crate::api::assets::visible(&state, &p, id).await.is_ok() => Some(id),
            _ => return Ok(redirect_with(BACK, "error", "device_asset_id: choose a device within your scope")),
        },
    };
    after_change(
        state.store.create_boundary(&p.actor(&client), f.domain_a, f.domain_b, device, &f.controls).await,
        BACK,
        ctx.t("saved"),
    )
}

pub async fn delete_boundary(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    if !crate::api::domains::visible_boundaries(&state, &p).await?.iter().any(|b| b.id == id) {
        return Err(ApiError::not_found("boundary"));
    }
    state.store.delete_boundary(&p.actor(&client), id).await?;
    Ok(redirect_with(BACK, "ok", ctx.t("deleted")))
}
