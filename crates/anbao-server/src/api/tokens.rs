//! `/api/v1/tokens`: API tokens for scripts; the secret is returned once.

use anbao_model::Role;
use anbao_store::{ApiToken, NewToken};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::auth::{ClientAddr, Principal};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, Path};

#[derive(Serialize, utoipa::ToSchema)]
pub struct TokenView {
    pub id: i64,
    pub name: String,
    pub role: String,
    pub org_unit_id: i64,
    /// The first characters of the secret, to tell tokens apart.
    pub prefix: String,
    pub created_by: String,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

impl From<ApiToken> for TokenView {
    fn from(t: ApiToken) -> TokenView {
        use anbao_model::clock::format_ts;
        TokenView {
            id: t.id,
            name: t.name,
            role: t.role.to_string(),
            org_unit_id: t.org_unit_id,
            prefix: t.prefix,
            created_by: t.created_by,
            created_at: format_ts(t.created_at),
            expires_at: t.expires_at.map(format_ts),
            last_used_at: t.last_used_at.map(format_ts),
            revoked_at: t.revoked_at.map(format_ts),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CreatedToken {
    /// The secret: send as `Authorization: Bearer TOKEN`. Shown only now.
    pub token: String,
    #[serde(flatten)]
    pub record: TokenView,
}

#[utoipa::path(get, path = "/api/v1/tokens", tag = "accounts", responses((status = 200, body = [TokenView])))]
pub async fn list(State(state): State<AppState>, p: Principal) -> Result<Json<Vec<TokenView>>, ApiError> {
    let tokens = state.store.list_tokens().await?;
    Ok(Json(tokens.into_iter().filter(|t| p.scope.contains(t.org_unit_id)).map(TokenView::from).collect()))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    pub name: String,
    #[schema(value_type = String, example = "analyst")]
    pub role: Role,
    /// Defaults to the caller's own unit.
    pub org_unit_id: Option<i64>,
    /// RFC 3339 expiry; none means until revoked.
    pub expires_at: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/tokens", tag = "accounts", request_body = CreateToken,
    responses((status = 201, body = CreatedToken), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    JsonBody(body): JsonBody<CreateToken>,
) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    let unit = body.org_unit_id.unwrap_or(p.home_unit);
    if !p.scope.contains(unit) {
        return Err(ApiError::field(
            "org_unit_id",
            "org_unit_id: organisation unit is outside your scope or does not exist",
        ));
    }
    let expires_at =
        match body.expires_at.as_deref() {
            None => None,
            Some(s) => Some(anbao_model::clock::parse_ts(s).map_err(|e| {
                ApiError::field("expires_at", format!("expires_at: {s:?} is not an RFC 3339 time: {e}"))
            })?),
        };
    let (secret, token) = state
        .store
        .create_token(&p.actor(&client), &NewToken { name: body.name, role: body.role, org_unit_id: unit, expires_at })
        .await?;
    Ok((StatusCode::CREATED, Json(CreatedToken { token: secret, record: token.into() })))
}

#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "accounts", params(("id" = i64, Path, description = "token id")),
    responses((status = 200, body = TokenView), (status = 404, body = ErrorBody)))]
pub async fn revoke(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
) -> Result<Json<TokenView>, ApiError> {
    let existing = state.store.list_tokens().await?.into_iter().find(|t| t.id == id);
    if !existing.is_some_and(|t| p.scope.contains(t.org_unit_id)) {
        return Err(ApiError::not_found("API token"));
    }
    Ok(Json(state.store.revoke_token(&p.actor(&client), id).await?.into()))
}
