//! Asset registry pages (R1.3, R1.4, R1.5, R7.1): list with search and
//! filters, create, detail with inventory and domains, edit, delete.

use std::collections::BTreeMap;

use anbao_model::asset::{AssetDraft, AssetType, ComponentDraft, Criticality, Lifecycle};
use anbao_model::org::OrgTree;
use anbao_model::{OrgUnit, Permission};
use anbao_store::Asset;
use axum::extract::State;
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;

use super::{Ctx, Flash, FormError, OrBounce, after_change, flash, redirect_with, unit_options, user_message};
use crate::AppState;
use crate::auth::{ClientAddr, Principal};
use crate::error::ApiError;
use crate::extract::{FormBody, Path, Query};

const BACK: &str = "/govern/assets";

pub fn type_key(t: AssetType) -> &'static str {
    match t {
        AssetType::Network => "asset_type.network",
        AssetType::BusinessSystem => "asset_type.business_system",
        AssetType::Device => "asset_type.device",
        AssetType::Website => "asset_type.website",
        AssetType::DomainName => "asset_type.domain_name",
        AssetType::DnsService => "asset_type.dns_service",
        AssetType::CloudTenant => "asset_type.cloud_tenant",
        AssetType::IotPlatform => "asset_type.iot_platform",
        AssetType::Terminal => "asset_type.terminal",
    }
}

/// The registered assets a target belongs to, each linked to its page,
/// with its type, responsible person and what matched; "none" otherwise.
pub(crate) fn affected_list(ctx: &Ctx, assets: &[crate::api::alerts::AssetRef]) -> Markup {
    html! {
        @if assets.is_empty() {
            span class="small" { (ctx.t("assets.affected_none")) }
        } @else {
            ul class="affected-assets" {
                @for a in assets {
                    li data-asset=(a.id) {
                        a href={ (BACK) "/" (a.id) } { (a.name) }
                        " · " (a.asset_type.parse::<AssetType>().map(|t| ctx.t(type_key(t))).unwrap_or(&a.asset_type))
                        " · " (ctx.t("field.responsible_person")) " " (a.responsible_person)
                        @if !a.matched.is_empty() {
                            " · " span class="small" { (ctx.t("assets.matched_by")) " " code { (a.matched) } }
                        }
                    }
                }
            }
        }
    }
}

fn lifecycle_key(l: Lifecycle) -> &'static str {
    match l {
        Lifecycle::Planned => "lifecycle.planned",
        Lifecycle::Live => "lifecycle.live",
        Lifecycle::Retired => "lifecycle.retired",
    }
}

fn criticality_key(c: Criticality) -> &'static str {
    match c {
        Criticality::Low => "criticality.low",
        Criticality::Medium => "criticality.medium",
        Criticality::High => "criticality.high",
        Criticality::Critical => "criticality.critical",
    }
}

fn field_label(ctx: &Ctx, f: &anbao_model::asset::FieldSpec) -> &'static str {
    match ctx.lang {
        crate::i18n::Lang::Zh => f.label_zh,
        crate::i18n::Lang::En => f.label_en,
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    q: Option<String>,
    asset_type: Option<String>,
    lifecycle: Option<String>,
    domain_id: Option<i64>,
    page: Option<i64>,
    ok: Option<String>,
    error: Option<String>,
}

const PAGE: i64 = 100;

/// The create/edit form; `asset` fills it for editing.
fn asset_form(ctx: &Ctx, p: &Principal, units: &[OrgUnit], action: &str, id: &str, asset: Option<&Asset>) -> Markup {
    let chosen_type = asset.map_or(AssetType::BusinessSystem, |a| a.asset_type);
    let attr = |k: &str| asset.and_then(|a| a.attributes.get(k).cloned()).unwrap_or_default();
    html! {
        form method="post" action=(action) id=(id) class="grid" {
            (ctx.csrf_field())
            label { (ctx.t("field.name")) input name="name" required value=[asset.map(|a| a.name.as_str())]; }
            label { (ctx.t("field.asset_type")) select name="asset_type" data-asset-type-select {
                @for t in AssetType::ALL { option value=(t.as_str()) selected[*t == chosen_type] { (ctx.t(type_key(*t))) } }
            } }
            label { (ctx.t("field.identifier")) input name="identifier" value=[asset.map(|a| a.identifier.as_str())] placeholder="10.0.0.1 / www.example.cn"; }
            label { (ctx.t("field.external_id")) input name="external_id" value=[asset.map(|a| a.external_id.as_str())]; }
            label { (ctx.t("field.org_unit")) select name="org_unit" { (unit_options(units, &p.scope, Some(asset.map_or(p.home_unit, |a| a.org_unit_id)))) } }
            label { (ctx.t("field.responsible_department")) select name="responsible_department" {
                (unit_options(units, &p.scope, Some(asset.map_or(p.home_unit, |a| a.responsible_department_id))))
            } }
            label { (ctx.t("field.responsible_person")) input name="responsible_person" required value=[asset.map(|a| a.responsible_person.as_str())]; }
            label { (ctx.t("field.operator_contact")) input name="operator_contact" value=[asset.map(|a| a.operator_contact.as_str())]; }
            label { (ctx.t("field.oncall_phone")) input name="oncall_phone" value=[asset.map(|a| a.oncall_phone.as_str())]; }
            label { (ctx.t("field.lifecycle")) select name="lifecycle" {
                @for l in Lifecycle::ALL { option value=(l.as_str()) selected[asset.map_or(*l == Lifecycle::Planned, |a| a.lifecycle == *l)] { (ctx.t(lifecycle_key(*l))) } }
            } }
            label { (ctx.t("field.criticality")) select name="criticality" {
                @for c in Criticality::ALL { option value=(c.as_str()) selected[asset.map_or(*c == Criticality::Medium, |a| a.criticality == *c)] { (ctx.t(criticality_key(*c))) } }
            } }
            @for t in AssetType::ALL {
                @for f in t.fields() {
                    label data-for-type=(t.as_str()) hidden[*t != chosen_type] {
                        (field_label(ctx, f))
                        input name={ "attr." (t.as_str()) "." (f.key) } value=(if *t == chosen_type { attr(f.key) } else { String::new() });
                    }
                }
            }
            button type="submit" { (ctx.t("action.save")) }
        }
    }
}

pub async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Query(q): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let asset_type = q.asset_type.as_deref().filter(|s| !s.is_empty()).and_then(|s| s.parse::<AssetType>().ok());
    let lifecycle = q.lifecycle.as_deref().filter(|s| !s.is_empty()).and_then(|s| s.parse::<Lifecycle>().ok());
    let page = q.page.unwrap_or(0).max(0);
    let filter = anbao_store::AssetFilter {
        org_units: p.scope_filter(),
        query: q.q.clone(),
        asset_type,
        lifecycle,
        domain_id: q.domain_id,
        limit: PAGE,
        offset: page * PAGE,
    };
    let total = state.store.count_assets(&filter).await?;
    let assets = state.store.list_assets(&filter).await?;
    let units = state.store.list_org_units().await?;
    let tree = OrgTree::new(&units);
    let counts = state.store.asset_counts_by_type(p.scope_filter().as_deref()).await?;
    let f = Flash { ok: q.ok, error: q.error };
    let qs = |page: i64| {
        format!(
            "/govern/assets?q={}&asset_type={}&lifecycle={}&domain_id={}&page={page}",
            super::urlencode(q.q.as_deref().unwrap_or_default()),
            asset_type.map(|t| t.as_str()).unwrap_or_default(),
            lifecycle.map(|l| l.as_str()).unwrap_or_default(),
            q.domain_id.map(|d| d.to_string()).unwrap_or_default()
        )
    };
    let chart: Vec<(String, i64)> = counts.iter().map(|(t, n)| (ctx.t(type_key(*t)).to_owned(), *n)).collect();
    let body = html! {
        (flash(&f))
        p class="actions" {
            a href="/govern/domains" { (ctx.t("nav.domains")) } " · "
            a href="/govern/accountability" { (ctx.t("nav.accountability")) } " · "
            a href="/govern/assets/import" id="import-link" { (ctx.t("nav.asset_import")) } " · "
            a href="/api/v1/assets/export?format=csv" { (ctx.t("audit.export_csv")) } " · "
            a href="/api/v1/assets/export?format=json" { (ctx.t("audit.export_json")) }
        }
        @if !chart.is_empty() { section class="card" { (super::chart::hbars(ctx.t("assets.by_type"), &chart)) } }
        form method="get" action=(BACK) class="filters" id="asset-filters" {
            input name="q" value=(q.q.clone().unwrap_or_default()) placeholder=(ctx.t("assets.search"));
            select name="asset_type" { option value="" { (ctx.t("filter.any_type")) }
                @for t in AssetType::ALL { option value=(t.as_str()) selected[asset_type == Some(*t)] { (ctx.t(type_key(*t))) } } }
            select name="lifecycle" { option value="" { (ctx.t("filter.any_lifecycle")) }
                @for l in Lifecycle::ALL { option value=(l.as_str()) selected[lifecycle == Some(*l)] { (ctx.t(lifecycle_key(*l))) } } }
            button type="submit" { (ctx.t("action.filter")) }
        }
        p class="small" id="asset-total" { (ctx.t("assets.total")) " " (total) }
        table class="data" id="assets" {
            thead { tr {
                th { (ctx.t("field.name")) } th { (ctx.t("field.asset_type")) } th { (ctx.t("field.identifier")) }
                th { (ctx.t("field.org_unit")) } th { (ctx.t("field.responsible_department")) } th { (ctx.t("field.responsible_person")) }
                th { (ctx.t("field.lifecycle")) }
            } }
            tbody {
                @for a in &assets {
                    tr data-asset=(a.id) {
                        td { a href={ "/govern/assets/" (a.id) } { (a.name) } }
                        td { (ctx.t(type_key(a.asset_type))) }
                        td { code { (a.identifier) } }
                        td { (tree.path(a.org_unit_id)) }
                        td { (tree.get(a.responsible_department_id).map(|u| u.name.as_str()).unwrap_or("—")) }
                        td { (a.responsible_person) }
                        td { span class="badge" { (ctx.t(lifecycle_key(a.lifecycle))) } }
                    }
                }
            }
        }
        p class="pager" {
            @if page > 0 { a href=(qs(page - 1)) { "← " (ctx.t("action.previous")) } " " }
            @if (page + 1) * PAGE < total { a href=(qs(page + 1)) { (ctx.t("action.next")) " →" } }
        }
        @if ctx.can(Permission::ManageGovern) {
            section class="card" {
                h2 { (ctx.t("assets.create")) }
                (asset_form(&ctx, &p, &units, BACK, "create-asset", None))
            }
        }
    };
    Ok(super::page(&ctx, ctx.t("nav.assets"), body))
}

/// Reads the asset form (attributes as `attr.TYPE.KEY`, only the chosen
/// type's count).
fn draft_from_form(raw: &[(String, String)]) -> AssetDraft {
    let one = |k: &str| super::form_value(raw, k).to_owned();
    let asset_type = one("asset_type");
    let prefix = format!("attr.{asset_type}.");
    let attributes: BTreeMap<String, String> = raw
        .iter()
        .filter_map(|(k, v)| k.strip_prefix(&prefix).map(|key| (key.to_owned(), v.clone())))
        .filter(|(_, v)| !v.trim().is_empty())
        .collect();
    AssetDraft {
        external_id: one("external_id"),
        name: one("name"),
        asset_type,
        identifier: one("identifier"),
        org_unit: one("org_unit"),
        responsible_department: one("responsible_department"),
        responsible_person: one("responsible_person"),
        operator_contact: one("operator_contact"),
        oncall_phone: one("oncall_phone"),
        lifecycle: one("lifecycle"),
        criticality: one("criticality"),
        attributes,
    }
}

pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    FormBody(raw): FormBody<Vec<(String, String)>>,
) -> Result<Response, FormError> {
    let draft = draft_from_form(&raw);
    let checked = draft.check().or_bounce(BACK)?;
    match state.store.create_asset(&p.actor(&client), &p.scope, &checked, &[]).await {
        Ok(a) => Ok(redirect_with(&format!("/govern/assets/{}", a.id), "ok", ctx.t("saved"))),
        Err(e) => Ok(redirect_with(BACK, "error", &user_message(e)?)),
    }
}

pub async fn detail(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Path(id): Path<i64>,
    Query(f): Query<Flash>,
) -> Result<Response, ApiError> {
    let asset = crate::api::assets::visible(&state, &p, id).await?;
    let units = state.store.list_org_units().await?;
    let tree = OrgTree::new(&units);
    let domains = state.store.list_domains(p.scope_filter().as_deref()).await?;
    let manage = ctx.can(Permission::ManageGovern);
    let risk_section = super::risks::asset_section(&state, &ctx, &p, &asset).await?;
    let here = format!("/govern/assets/{id}");
    let body = html! {
        (flash(&f))
        section class="card" id="asset-detail" {
            dl {
                dt { (ctx.t("field.asset_type")) } dd { (ctx.t(type_key(asset.asset_type))) }
                dt { (ctx.t("field.identifier")) } dd { code { (asset.identifier) } }
                dt { (ctx.t("field.external_id")) } dd { (asset.external_id) }
                dt { (ctx.t("field.org_unit")) } dd { (tree.path(asset.org_unit_id)) }
                dt { (ctx.t("field.responsible_department")) } dd { (tree.path(asset.responsible_department_id)) }
                dt { (ctx.t("field.responsible_person")) } dd { (asset.responsible_person) }
                dt { (ctx.t("field.operator_contact")) } dd { (asset.operator_contact) }
                dt { (ctx.t("field.oncall_phone")) } dd { (asset.oncall_phone) }
                dt { (ctx.t("field.lifecycle")) } dd { (ctx.t(lifecycle_key(asset.lifecycle))) }
                dt { (ctx.t("field.criticality")) } dd { (ctx.t(criticality_key(asset.criticality))) }
                @for f in asset.asset_type.fields() {
                    @if let Some(v) = asset.attributes.get(f.key) { dt { (field_label(&ctx, f)) } dd { (v) } }
                }
                dt { (ctx.t("nav.domains")) } dd {
                    @for d in domains.iter().filter(|d| asset.domain_ids.contains(&d.id)) { span class="badge" { (d.name) } " " }
                }
            }
            @if ctx.can(Permission::ReadAudit) {
                p { a href={ "/audit?object_type=asset&object_id=" (asset.id) } { (ctx.t("audit.history")) } }
            }
        }
        section class="card" {
            h2 { (ctx.t("assets.inventory")) }
            table class="data" id="components" {
                thead { tr { th { (ctx.t("field.kind")) } th { (ctx.t("field.vendor")) } th { (ctx.t("field.product")) } th { (ctx.t("field.version")) }
                    th { "CPE / purl" } th { (ctx.t("field.end_of_support")) } th {} } }
                tbody {
                    @for c in &asset.components {
                        tr {
                            td { (c.kind) } td { (c.vendor) } td { (c.product) } td { (c.version) }
                            td class="small" { code { (c.cpe) } " " code { (c.purl) } }
                            td { (c.end_of_support.clone().unwrap_or_default()) }
                            td { @if manage {
                                form method="post" action={ (here) "/components/" (c.id) "/delete" } data-confirm=(ctx.t("confirm.delete")) {
                                    (ctx.csrf_field()) button type="submit" class="danger" { (ctx.t("action.delete")) }
                                }
                            } }
                        }
                    }
                }
            }
            @if manage {
                form method="post" action={ (here) "/components" } id="add-component" class="grid" {
                    (ctx.csrf_field())
                    label { (ctx.t("field.kind")) select name="kind" {
                        @for k in anbao_model::asset::ComponentKind::ALL { option value=(k.as_str()) { (k.as_str()) } } } }
                    label { (ctx.t("field.vendor")) input name="vendor"; }
                    label { (ctx.t("field.product")) input name="product" required; }
                    label { (ctx.t("field.version")) input name="version"; }
                    label { "CPE 2.3" input name="cpe" placeholder="cpe:2.3:a:vendor:product:1.0:*:*:*:*:*:*:*"; }
                    label { "purl" input name="purl" placeholder="pkg:deb/debian/openssl@3.0.11"; }
                    label { (ctx.t("field.end_of_support")) input name="end_of_support" type="date"; }
                    button type="submit" { (ctx.t("action.add")) }
                }
            }
        }
        (risk_section)
        @if manage {
            section class="card" {
                h2 { (ctx.t("nav.domains")) }
                form method="post" action={ (here) "/domains" } id="asset-domains" {
                    (ctx.csrf_field())
                    @for d in &domains {
                        label class="check" { input type="checkbox" name="domain_id" value=(d.id) checked[asset.domain_ids.contains(&d.id)]; (d.name) " (" (tree.path(d.org_unit_id)) ")" }
                    }
                    button type="submit" { (ctx.t("action.save")) }
                }
            }
            section class="card" {
                h2 { (ctx.t("assets.edit")) }
                (asset_form(&ctx, &p, &units, &here, "edit-asset", Some(&asset)))
                form method="post" action={ (here) "/delete" } data-confirm=(ctx.t("confirm.delete")) {
                    (ctx.csrf_field()) button type="submit" class="danger" { (ctx.t("action.delete")) }
                }
            }
        }
    };
    Ok(super::page(&ctx, &format!("{} · {}", ctx.t("nav.assets"), asset.name), body))
}

pub async fn update(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    FormBody(raw): FormBody<Vec<(String, String)>>,
) -> Result<Response, FormError> {
    crate::api::assets::visible(&state, &p, id).await?;
    let back = format!("/govern/assets/{id}");
    let checked = draft_from_form(&raw).check().or_bounce(&back)?;
    after_change(state.store.update_asset(&p.actor(&client), &p.scope, id, &checked).await, &back, ctx.t("saved"))
}

pub async fn delete(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    crate::api::assets::visible(&state, &p, id).await?;
    state.store.delete_asset(&p.actor(&client), id).await?;
    Ok(redirect_with(BACK, "ok", ctx.t("deleted")))
}

#[derive(Debug, Deserialize)]
pub struct ComponentForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    vendor: String,
    product: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    cpe: String,
    #[serde(default)]
    purl: String,
    #[serde(default)]
    end_of_support: String,
}

pub async fn add_component(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    FormBody(f): FormBody<ComponentForm>,
) -> Result<Response, FormError> {
    crate::api::assets::visible(&state, &p, id).await?;
    let back = format!("/govern/assets/{id}");
    let draft = ComponentDraft {
        kind: f.kind,
        vendor: f.vendor,
        product: f.product,
        version: f.version,
        cpe: f.cpe,
        purl: f.purl,
        end_of_support: f.end_of_support,
    };
    let c = draft.check().or_bounce(&back)?;
    state.store.add_component(&p.actor(&client), id, &c).await?;
    Ok(redirect_with(&back, "ok", ctx.t("saved")))
}

pub async fn delete_component(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path((id, component_id)): Path<(i64, i64)>,
) -> Result<Response, ApiError> {
    crate::api::assets::visible(&state, &p, id).await?;
    state.store.delete_component(&p.actor(&client), id, component_id).await?;
    Ok(redirect_with(&format!("/govern/assets/{id}"), "ok", ctx.t("deleted")))
}

pub async fn set_domains(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    FormBody(raw): FormBody<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let asset = crate::api::assets::visible(&state, &p, id).await?;
    let back = format!("/govern/assets/{id}");
    let visible = state.store.list_domains(p.scope_filter().as_deref()).await?;
    let mut ids = Vec::new();
    for (_, v) in raw.iter().filter(|(k, _)| k == "domain_id") {
        match v.parse::<i64>() {
            Ok(d) if visible.iter().any(|x| x.id == d) => ids.push(d),
            _ => {
                return Ok(redirect_with(
                    &back,
                    "error",
                    &format!("domain_id: {v:?} is not a security domain in your scope"),
                ));
            }
        }
    }
    let ids = crate::api::assets::keep_unseen(&asset, &visible, ids);
    state.store.set_asset_domains(&p.actor(&client), id, &ids).await?;
    Ok(redirect_with(&back, "ok", ctx.t("saved")))
}
