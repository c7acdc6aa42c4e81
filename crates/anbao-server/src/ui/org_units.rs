//! Organisation-unit pages: the tree, create, rename/move, delete.

use anbao_model::{OrgKind, OrgUnit, Permission};
use anbao_store::{NewOrgUnit, OrgUnitPatch};
use axum::extract::State;
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;

use super::{Ctx, Flash, after_change, flash, kind_key, redirect_with, unit_options};
use crate::AppState;
use crate::auth::{ClientAddr, Principal};
use crate::error::ApiError;
use crate::extract::{FormBody, Path, Query};

const BACK: &str = "/admin/org-units";

fn kind_options(ctx: &Ctx, selected: OrgKind) -> Markup {
    html! { @for k in OrgKind::ALL { option value=(k.as_str()) selected[k == selected] { (ctx.t(kind_key(k))) } } }
}

fn tree(ctx: &Ctx, p: &Principal, units: &[OrgUnit], parent: Option<i64>, depth: usize) -> Markup {
    let manage = ctx.can(Permission::ManageOrgUnits);
    html! {
        ul class="tree" {
            @for u in units.iter().filter(|u| u.parent_id == parent) {
                li data-unit=(u.id) {
                    @if p.scope.contains(u.id) {
                        span class="unit-name" { (u.name) } " "
                        span class="badge" { (ctx.t(kind_key(u.kind))) }
                        @if !u.code.is_empty() { " " code { (u.code) } }
                        @if manage {
                            details class="edit" {
                                summary { (ctx.t("action.edit")) }
                                form method="post" action={ "/admin/org-units/" (u.id) } class="grid" {
                                    (ctx.csrf_field())
                                    label { (ctx.t("field.name")) input name="name" value=(u.name) required; }
                                    label { (ctx.t("field.kind")) select name="kind" { (kind_options(ctx, u.kind)) } }
                                    label { (ctx.t("field.code")) input name="code" value=(u.code); }
                                    @if u.parent_id.is_some() {
                                        label { (ctx.t("field.parent")) select name="parent_id" { (unit_options(units, &p.scope, u.parent_id)) } }
                                    }
                                    button type="submit" { (ctx.t("action.save")) }
                                }
                                form method="post" action={ "/admin/org-units/" (u.id) "/delete" } data-confirm=(ctx.t("confirm.delete")) {
                                    (ctx.csrf_field())
                                    button type="submit" class="danger" { (ctx.t("action.delete")) }
                                }
                            }
                        }
                    }
                    @if depth < 32 { (tree(ctx, p, units, Some(u.id), depth + 1)) }
                }
            }
        }
    }
}

pub async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Query(f): Query<Flash>,
) -> Result<Response, ApiError> {
    let units = state.store.list_org_units().await?;
    let body = html! {
        (flash(&f))
        section class="card" id="org-tree" { (tree(&ctx, &p, &units, None, 0)) }
        @if ctx.can(Permission::ManageOrgUnits) {
            section class="card" {
                h2 { (ctx.t("org.create")) }
                form method="post" action=(BACK) id="create-unit" class="grid" {
                    (ctx.csrf_field())
                    label { (ctx.t("field.parent")) select name="parent_id" { (unit_options(&units, &p.scope, Some(p.home_unit))) } }
                    label { (ctx.t("field.name")) input name="name" required; }
                    label { (ctx.t("field.kind")) select name="kind" { (kind_options(&ctx, OrgKind::Department)) } }
                    label { (ctx.t("field.code")) input name="code"; }
                    button type="submit" { (ctx.t("action.create")) }
                }
            }
        }
    };
    Ok(super::page(&ctx, ctx.t("nav.org_units"), body))
}

#[derive(Debug, Deserialize)]
pub struct UnitForm {
    #[serde(default)]
    parent_id: Option<i64>,
    name: String,
    kind: OrgKind,
    #[serde(default)]
    code: String,
}

pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    FormBody(f): FormBody<UnitForm>,
) -> Result<Response, ApiError> {
    let Some(parent) = f.parent_id.filter(|id| p.scope.contains(*id)) else {
        return Ok(redirect_with(BACK, "error", "parent_id: choose a unit within your scope"));
    };
    let new = NewOrgUnit { parent_id: Some(parent), name: f.name, kind: f.kind, code: f.code };
    after_change(state.store.create_org_unit(&p.actor(&client), &new).await, BACK, ctx.t("saved"))
}

pub async fn update(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    FormBody(f): FormBody<UnitForm>,
) -> Result<Response, ApiError> {
    if !p.scope.contains(id) || f.parent_id.is_some_and(|pid| !p.scope.contains(pid)) {
        return Err(ApiError::not_found("organisation unit"));
    }
    let current = state.store.get_org_unit(id).await?;
    let patch = OrgUnitPatch {
        name: Some(f.name),
        kind: Some(f.kind),
        code: Some(f.code),
        parent_id: f.parent_id.filter(|pid| Some(*pid) != current.parent_id),
    };
    after_change(state.store.update_org_unit(&p.actor(&client), id, &patch).await, BACK, ctx.t("saved"))
}

pub async fn delete(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    if !p.scope.contains(id) {
        return Err(ApiError::not_found("organisation unit"));
    }
    after_change(state.store.delete_org_unit(&p.actor(&client), id).await, BACK, ctx.t("deleted"))
}
