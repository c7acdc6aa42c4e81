//! API token pages: list, create (the secret is shown once, on the response
//! to the creating form, never again), revoke.

use anbao_model::Role;
use anbao_model::org::OrgTree;
use anbao_store::NewToken;
use axum::extract::State;
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;

use super::{Ctx, Flash, flash, redirect_with, role_key, short_time, unit_options, user_message};
use crate::AppState;
use crate::auth::{ClientAddr, Principal};
use crate::error::ApiError;
use crate::extract::{FormBody, Path, Query};

const BACK: &str = "/admin/tokens";

async fn render(
    state: &AppState,
    ctx: &Ctx,
    p: &Principal,
    f: &Flash,
    created: Option<&str>,
) -> Result<Markup, ApiError> {
    let tokens = state.store.list_tokens().await?;
    let units = state.store.list_org_units().await?;
    let tree = OrgTree::new(&units);
    Ok(html! {
        (flash(f))
        @if let Some(secret) = created {
            div class="flash ok" role="status" {
                p { (ctx.t("tokens.shown_once")) }
                code id="new-token" { (secret) }
            }
        }
        table class="data" id="tokens" {
            thead { tr { th { (ctx.t("field.name")) } th { (ctx.t("field.role")) } th { (ctx.t("field.org_unit")) } th { (ctx.t("field.prefix")) }
                th { (ctx.t("field.created")) } th { (ctx.t("field.last_used")) } th { (ctx.t("field.status")) } th {} } }
            tbody {
                @for t in tokens.iter().filter(|t| p.scope.contains(t.org_unit_id)) {
                    tr {
                        td { (t.name) }
                        td { (ctx.t(role_key(t.role))) }
                        td { (tree.path(t.org_unit_id)) }
                        td { code { (t.prefix) "…" } }
                        td { (short_time(&t.created_at)) " · " (t.created_by) }
                        td { @if let Some(u) = t.last_used_at { (short_time(&u)) } @else { "—" } }
                        td { @if t.revoked_at.is_some() { span class="badge red" { (ctx.t("status.revoked")) } } @else { span class="badge green" { (ctx.t("status.active")) } } }
                        td { @if t.revoked_at.is_none() {
                            form method="post" action={ "/admin/tokens/" (t.id) "/revoke" } data-confirm=(ctx.t("confirm.revoke")) {
                                (ctx.csrf_field()) button type="submit" class="danger" { (ctx.t("action.revoke")) }
                            }
                        } }
                    }
                }
            }
        }
        section class="card" {
            h2 { (ctx.t("tokens.create")) }
            form method="post" action=(BACK) id="create-token" class="grid" {
                (ctx.csrf_field())
                label { (ctx.t("field.name")) input name="name" required; }
                label { (ctx.t("field.role")) select name="role" { @for r in Role::ALL { option value=(r.as_str()) { (ctx.t(role_key(r))) } } } }
                label { (ctx.t("field.org_unit")) select name="org_unit_id" { (unit_options(&units, &p.scope, Some(p.home_unit))) } }
                button type="submit" { (ctx.t("action.create")) }
            }
        }
    })
}

pub async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Query(f): Query<Flash>,
) -> Result<Response, ApiError> {
    let body = render(&state, &ctx, &p, &f, None).await?;
    Ok(super::page(&ctx, ctx.t("nav.tokens"), body))
}

#[derive(Debug, Deserialize)]
pub struct TokenForm {
    name: String,
    role: Role,
    org_unit_id: i64,
}

pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    FormBody(f): FormBody<TokenForm>,
) -> Result<Response, ApiError> {
    if !p.scope.contains(f.org_unit_id) {
        return Ok(redirect_with(BACK, "error", "org_unit_id: choose a unit within your scope"));
    }
    let new = NewToken { name: f.name, role: f.role, org_unit_id: f.org_unit_id, expires_at: None };
    match state.store.create_token(&p.actor(&client), &new).await {
        Ok((secret, _)) => {
            let body = render(&state, &ctx, &p, &Flash::default(), Some(&secret)).await?;
            Ok(super::page(&ctx, ctx.t("nav.tokens"), body))
        }
        Err(e) => Ok(redirect_with(BACK, "error", &user_message(e)?)),
    }
}

pub async fn revoke(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let token = state
        .store
        .list_tokens()
        .await?
        .into_iter()
        .find(|t| t.id == id)
        .ok_or_else(|| ApiError::not_found("API token"))?;
    if !p.scope.contains(token.org_unit_id) {
        return Err(ApiError::not_found("API token"));
    }
    state.store.revoke_token(&p.actor(&client), id).await?;
    Ok(redirect_with(BACK, "ok", ctx.t("tokens.revoked")))
}
