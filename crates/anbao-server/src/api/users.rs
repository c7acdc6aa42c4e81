//! `/api/v1/users`: accounts within the caller's scope.

use anbao_model::Role;
use anbao_store::{NewUser, User, UserFilter, UserPatch};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::Page;
use crate::AppState;
use crate::auth::{ClientAddr, Principal};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, Path, Query};

#[derive(Serialize, utoipa::ToSchema)]
pub struct UserView {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub email: String,
    pub phone: String,
    /// admin, analyst, responder, auditor or regulator.
    pub role: String,
    pub org_unit_id: i64,
    /// Regulators only: units (with sub-units) the account may read.
    pub grants: Vec<i64>,
    pub totp_enabled: bool,
    pub disabled: bool,
    /// RFC 3339, while the account is locked after failed logins.
    pub locked_until: Option<String>,
    pub must_change_password: bool,
    pub created_at: String,
    pub last_login_at: Option<String>,
}

impl From<User> for UserView {
    fn from(u: User) -> UserView {
        use anbao_model::clock::format_ts;
        UserView {
            id: u.id,
            username: u.username,
            display_name: u.display_name,
            email: u.email,
            phone: u.phone,
            role: u.role.to_string(),
            org_unit_id: u.org_unit_id,
            grants: u.grants,
            totp_enabled: u.totp_enabled,
            disabled: u.disabled,
            locked_until: u.locked_until.map(format_ts),
            must_change_password: u.must_change_password,
            created_at: format_ts(u.created_at),
            last_login_at: u.last_login_at.map(format_ts),
        }
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct UserQuery {
    /// Substring of user name or display name.
    pub q: Option<String>,
    #[param(value_type = Option<String>)]
    pub role: Option<Role>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/users", tag = "accounts", params(UserQuery),
    responses((status = 200, body = [UserView]), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    p: Principal,
    Query(q): Query<UserQuery>,
) -> Result<Json<Vec<UserView>>, ApiError> {
    let page = Page { limit: q.limit, offset: q.offset };
    let filter = UserFilter {
        org_units: p.scope_filter(),
        query: q.q,
        role: q.role,
        limit: page.limit(),
        offset: page.offset(),
    };
    Ok(Json(state.store.list_users(&filter).await?.into_iter().map(UserView::from).collect()))
}

async fn in_scope(state: &AppState, p: &Principal, id: i64) -> Result<User, ApiError> {
    let user = state.store.get_user(id).await?;
    if !p.may_see_user(&user) {
        return Err(ApiError::not_found("user"));
    }
    Ok(user)
}

async fn manageable(state: &AppState, p: &Principal, id: i64) -> Result<User, ApiError> {
    let user = in_scope(state, p, id).await?;
    if !p.may_manage_user(&user) {
        return Err(ApiError::forbidden("this account is granted units outside your scope"));
    }
    Ok(user)
}

#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "accounts", params(("id" = i64, Path, description = "user id")),
    responses((status = 200, body = UserView), (status = 404, body = ErrorBody)))]
pub async fn get(State(state): State<AppState>, p: Principal, Path(id): Path<i64>) -> Result<Json<UserView>, ApiError> {
    Ok(Json(in_scope(&state, &p, id).await?.into()))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    pub username: String,
    pub display_name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub phone: String,
    #[schema(value_type = String, example = "analyst")]
    pub role: Role,
    pub org_unit_id: i64,
    /// Initial password, at least 12 characters; the user must change it.
    pub password: String,
    #[serde(default)]
    pub grants: Vec<i64>,
}

fn check_scope(p: &Principal, field: &str, ids: &[i64]) -> Result<(), ApiError> {
    match ids.iter().find(|id| !p.scope.contains(**id)) {
        Some(id) => Err(ApiError::field(
            field,
            format!("{field}: organisation unit {id} is outside your scope or does not exist"),
        )),
        None => Ok(()),
    }
}

#[utoipa::path(post, path = "/api/v1/users", tag = "accounts", request_body = CreateUser,
    responses((status = 201, body = UserView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    JsonBody(body): JsonBody<CreateUser>,
) -> Result<(StatusCode, Json<UserView>), ApiError> {
    check_scope(&p, "org_unit_id", &[body.org_unit_id])?;
    check_scope(&p, "grants", &body.grants)?;
    let new = NewUser {
        username: body.username,
        display_name: body.display_name,
        email: body.email,
        phone: body.phone,
        role: body.role,
        org_unit_id: body.org_unit_id,
        password: body.password,
        grants: body.grants,
        must_change_password: true,
    };
    let user = state.store.create_user(&p.actor(&client), &new).await?;
    Ok((StatusCode::CREATED, Json(user.into())))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    #[schema(value_type = Option<String>)]
    pub role: Option<Role>,
    pub org_unit_id: Option<i64>,
    pub disabled: Option<bool>,
    pub grants: Option<Vec<i64>>,
    /// Clear a lockout after failed logins.
    #[serde(default)]
    pub unlock: bool,
}

#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "accounts", request_body = UpdateUser, params(("id" = i64, Path, description = "user id")),
    responses((status = 200, body = UserView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    JsonBody(body): JsonBody<UpdateUser>,
) -> Result<Json<UserView>, ApiError> {
    manageable(&state, &p, id).await?;
    if let Some(u) = body.org_unit_id {
        check_scope(&p, "org_unit_id", &[u])?;
    }
    if let Some(g) = &body.grants {
        check_scope(&p, "grants", g)?;
    }
    let patch = UserPatch {
        display_name: body.display_name,
        email: body.email,
        phone: body.phone,
        role: body.role,
        org_unit_id: body.org_unit_id,
        disabled: body.disabled,
        grants: body.grants,
        unlock: body.unlock,
    };
    Ok(Json(state.store.update_user(&p.actor(&client), id, &patch).await?.into()))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPassword {
    pub password: String,
    /// Make the user change it at next login (default true).
    pub must_change: Option<bool>,
}

#[utoipa::path(post, path = "/api/v1/users/{id}/password", tag = "accounts", request_body = SetPassword, params(("id" = i64, Path, description = "user id")),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_password(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    JsonBody(body): JsonBody<SetPassword>,
) -> Result<StatusCode, ApiError> {
    manageable(&state, &p, id).await?;
    state.store.set_password(&p.actor(&client), id, &body.password, body.must_change.unwrap_or(true)).await?;
    Ok(StatusCode::NO_CONTENT)
}
