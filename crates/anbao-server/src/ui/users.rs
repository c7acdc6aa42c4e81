//! User administration pages: list with filters, create, edit, reset password.

use anbao_model::org::OrgTree;
use anbao_model::{Permission, Role};
use anbao_store::{NewUser, UserFilter, UserPatch};
use axum::extract::State;
use axum::response::Response;
use maud::html;
use serde::Deserialize;

use super::{
    Ctx, Flash, FormError, OrBounce, after_change, flash, redirect_with, role_key, unit_options, user_message,
};
use crate::AppState;
use crate::auth::{ClientAddr, Principal};
use crate::error::ApiError;
use crate::extract::{FormBody, Path, Query};

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    q: Option<String>,
    role: Option<String>,
    ok: Option<String>,
    error: Option<String>,
}

fn role_options(ctx: &Ctx, selected: Option<Role>) -> maud::Markup {
    html! { @for r in Role::ALL { option value=(r.as_str()) selected[selected == Some(r)] { (ctx.t(role_key(r))) } } }
}

pub async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Query(q): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let role = q.role.as_deref().filter(|r| !r.is_empty()).and_then(|r| r.parse::<Role>().ok());
    let filter = UserFilter {
        org_units: p.scope_filter(),
        query: q.q.clone().filter(|s| !s.trim().is_empty()),
        role,
        limit: 500,
        offset: 0,
    };
    let users = state.store.list_users(&filter).await?;
    let units = state.store.list_org_units().await?;
    let tree = OrgTree::new(&units);
    let f = Flash { ok: q.ok, error: q.error };
    let body = html! {
        (flash(&f))
        form method="get" action="/admin/users" class="filters" {
            input name="q" value=(q.q.clone().unwrap_or_default()) placeholder=(ctx.t("field.search"));
            select name="role" { option value="" { (ctx.t("filter.any_role")) } (role_options(&ctx, role)) }
            button type="submit" { (ctx.t("action.filter")) }
        }
        table class="data" id="users" {
            thead { tr { th { (ctx.t("field.username")) } th { (ctx.t("field.display_name")) } th { (ctx.t("field.role")) } th { (ctx.t("field.org_unit")) } th { (ctx.t("field.status")) } } }
            tbody {
                @for u in &users {
                    tr {
                        td { a href={ "/admin/users/" (u.id) } { (u.username) } }
                        td { (u.display_name) }
                        td { (ctx.t(role_key(u.role))) }
                        td { (tree.path(u.org_unit_id)) }
                        td { @if u.disabled { span class="badge red" { (ctx.t("status.disabled")) } } @else { span class="badge green" { (ctx.t("status.active")) } } }
                    }
                }
            }
        }
        @if ctx.can(Permission::ManageUsers) {
            section class="card" {
                h2 { (ctx.t("users.create")) }
                form method="post" action="/admin/users" id="create-user" class="grid" {
                    (ctx.csrf_field())
                    label { (ctx.t("field.username")) input name="username" required pattern=r"[a-z0-9][a-z0-9._\-]{1,63}"; }
                    label { (ctx.t("field.display_name")) input name="display_name" required; }
                    label { (ctx.t("field.email")) input name="email" type="email"; }
                    label { (ctx.t("field.phone")) input name="phone"; }
                    label { (ctx.t("field.role")) select name="role" data-role-select { (role_options(&ctx, Some(Role::Analyst))) } }
                    label { (ctx.t("field.org_unit")) select name="org_unit_id" { (unit_options(&units, &p.scope, Some(p.home_unit))) } }
                    label { (ctx.t("field.initial_password")) input name="password" type="password" minlength="12" required autocomplete="new-password"; }
                    label data-grants { (ctx.t("field.grants")) select name="grants" multiple { (unit_options(&units, &p.scope, None)) } }
                    button type="submit" { (ctx.t("action.create")) }
                }
            }
        }
    };
    Ok(super::page(&ctx, ctx.t("nav.users"), body))
}

/// Reads a form where `grants` may repeat.
fn form_pairs(raw: &[(String, String)], key: &str) -> Vec<String> {
    raw.iter().filter(|(k, _)| k == key).map(|(_, v)| v.clone()).collect()
}

fn one(raw: &[(String, String)], key: &str) -> Option<String> {
    raw.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
}

fn parse_ids(field: &str, values: Vec<String>) -> Result<Vec<i64>, String> {
    values
        .into_iter()
        .filter(|v| !v.is_empty())
        .map(|v| v.parse::<i64>().map_err(|_| format!("{field}: {v:?} is not a unit id")))
        .collect()
}

fn require_in_scope(p: &Principal, ids: &[i64]) -> Result<(), String> {
    match ids.iter().find(|id| !p.scope.contains(**id)) {
        Some(id) => Err(format!("organisation unit {id} is outside your scope")),
        None => Ok(()),
    }
}

pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    FormBody(raw): FormBody<Vec<(String, String)>>,
) -> Result<Response, FormError> {
    let back = "/admin/users";
    let role = one(&raw, "role").unwrap_or_default().parse::<Role>().map_err(|e| e.to_string()).or_bounce(back)?;
    let unit = match parse_ids("org_unit_id", one(&raw, "org_unit_id").into_iter().collect()).or_bounce(back)?[..] {
        [unit] => unit,
        _ => return Ok(redirect_with(back, "error", "org_unit_id: choose a unit")),
    };
    let grants = match parse_ids("grants", form_pairs(&raw, "grants")).or_bounce(back)? {
        g if role == Role::Regulator => g,
        _ => Vec::new(),
    };
    let mut check = grants.clone();
    check.push(unit);
    require_in_scope(&p, &check).or_bounce(back)?;
    let new = NewUser {
        username: one(&raw, "username").unwrap_or_default().trim().to_owned(),
        display_name: one(&raw, "display_name").unwrap_or_default(),
        email: one(&raw, "email").unwrap_or_default(),
        phone: one(&raw, "phone").unwrap_or_default(),
        role,
        org_unit_id: unit,
        password: one(&raw, "password").unwrap_or_default(),
        grants,
        must_change_password: true,
    };
    match state.store.create_user(&p.actor(&client), &new).await {
        Ok(u) => Ok(redirect_with(&format!("/admin/users/{}", u.id), "ok", ctx.t("users.created"))),
        Err(e) => Ok(redirect_with(back, "error", &user_message(e)?)),
    }
}

pub async fn detail(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Path(id): Path<i64>,
    Query(f): Query<Flash>,
) -> Result<Response, ApiError> {
    let user = state.store.get_user(id).await?;
    if !p.may_see_user(&user) {
        return Err(ApiError::not_found("user"));
    }
    let units = state.store.list_org_units().await?;
    let tree = OrgTree::new(&units);
    let manage = ctx.can(Permission::ManageUsers) && p.may_manage_user(&user);
    let body = html! {
        (flash(&f))
        section class="card" {
            dl {
                dt { (ctx.t("field.username")) } dd { (user.username) }
                dt { (ctx.t("field.display_name")) } dd { (user.display_name) }
                dt { (ctx.t("field.role")) } dd { (ctx.t(role_key(user.role))) }
                dt { (ctx.t("field.org_unit")) } dd { (tree.path(user.org_unit_id)) }
                @if !user.grants.is_empty() {
                    dt { (ctx.t("field.grants")) } dd { @for g in &user.grants { span class="badge" { (tree.path(*g)) } " " } }
                }
                dt { (ctx.t("field.email")) } dd { (user.email) }
                dt { (ctx.t("field.phone")) } dd { (user.phone) }
                dt { (ctx.t("field.totp")) } dd { @if user.totp_enabled { (ctx.t("status.on")) } @else { (ctx.t("status.off")) } }
                dt { (ctx.t("field.status")) } dd {
                    @if user.disabled { (ctx.t("status.disabled")) } @else { (ctx.t("status.active")) }
                    @if let Some(until) = user.locked_until { " · " (ctx.t("status.locked_until")) " " (super::short_time(&until)) }
                }
                dt { (ctx.t("field.last_login")) } dd { @if let Some(t) = user.last_login_at { (super::short_time(&t)) } @else { "—" } }
            }
            @if ctx.can(Permission::ReadAudit) {
                p { a href={ "/audit?object_type=user&object_id=" (user.id) } { (ctx.t("audit.history")) } }
            }
        }
        @if manage {
            section class="card" {
                h2 { (ctx.t("users.edit")) }
                form method="post" action={ "/admin/users/" (user.id) } id="edit-user" class="grid" {
                    (ctx.csrf_field())
                    label { (ctx.t("field.display_name")) input name="display_name" value=(user.display_name) required; }
                    label { (ctx.t("field.email")) input name="email" type="email" value=(user.email); }
                    label { (ctx.t("field.phone")) input name="phone" value=(user.phone); }
                    label { (ctx.t("field.role")) select name="role" data-role-select { (role_options(&ctx, Some(user.role))) } }
                    label { (ctx.t("field.org_unit")) select name="org_unit_id" { (unit_options(&units, &p.scope, Some(user.org_unit_id))) } }
                    label data-grants { (ctx.t("field.grants")) select name="grants" multiple {
                        @for u in units.iter().filter(|u| p.scope.contains(u.id)) {
                            option value=(u.id) selected[user.grants.contains(&u.id)] { (tree.path(u.id)) }
                        }
                    } }
                    label class="check" { input type="checkbox" name="disabled" value="1" checked[user.disabled]; (ctx.t("field.disabled")) }
                    label class="check" { input type="checkbox" name="unlock" value="1"; (ctx.t("field.unlock")) }
                    button type="submit" { (ctx.t("action.save")) }
                }
            }
            section class="card" {
                h2 { (ctx.t("users.reset_password")) }
                form method="post" action={ "/admin/users/" (user.id) "/password" } {
                    (ctx.csrf_field())
                    label { (ctx.t("field.new_password")) input name="password" type="password" minlength="12" required autocomplete="new-password"; }
                    button type="submit" { (ctx.t("action.save")) }
                }
            }
        }
    };
    Ok(super::page(&ctx, &format!("{} · {}", ctx.t("nav.users"), user.username), body))
}

pub async fn update(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    FormBody(raw): FormBody<Vec<(String, String)>>,
) -> Result<Response, FormError> {
    let back = format!("/admin/users/{id}");
    let before = state.store.get_user(id).await?;
    if !p.may_see_user(&before) {
        return Err(ApiError::not_found("user").into());
    }
    if !p.may_manage_user(&before) {
        return Err(ApiError::forbidden("this account is granted units outside your scope").into());
    }
    let role = one(&raw, "role").map(|r| r.parse::<Role>()).transpose().map_err(|e| e.to_string()).or_bounce(&back)?;
    let unit =
        parse_ids("org_unit_id", one(&raw, "org_unit_id").into_iter().collect()).or_bounce(&back)?.first().copied();
    let effective_role = role.unwrap_or(before.role);
    let grants = match parse_ids("grants", form_pairs(&raw, "grants")).or_bounce(&back)? {
        g if effective_role == Role::Regulator => g,
        _ => Vec::new(),
    };
    let mut check = grants.clone();
    check.extend(unit);
    require_in_scope(&p, &check).or_bounce(&back)?;
    let patch = UserPatch {
        display_name: one(&raw, "display_name"),
        email: one(&raw, "email"),
        phone: one(&raw, "phone"),
        role,
        org_unit_id: unit,
        disabled: Some(one(&raw, "disabled").is_some()),
        grants: Some(grants),
        unlock: one(&raw, "unlock").is_some(),
    };
    after_change(state.store.update_user(&p.actor(&client), id, &patch).await, &back, ctx.t("saved"))
}

#[derive(Debug, Deserialize)]
pub struct ResetForm {
    password: String,
}

pub async fn reset_password(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    FormBody(f): FormBody<ResetForm>,
) -> Result<Response, ApiError> {
    let back = format!("/admin/users/{id}");
    let user = state.store.get_user(id).await?;
    if !p.may_see_user(&user) {
        return Err(ApiError::not_found("user"));
    }
    if !p.may_manage_user(&user) {
        return Err(ApiError::forbidden("this account is granted units outside your scope"));
    }
    after_change(
        state.store.set_password(&p.actor(&client), id, &f.password, true).await,
        &back,
        ctx.t("users.password_reset"),
    )
}
