//! `/api/v1/warnings`: red / orange / yellow / blue warnings (issue #7,
//! R2.4). The roles that manage incidents issue, adjust and lift them;
//! every signed-in caller reads them, and a recipient (a user named on the
//! warning, or a member of a named unit) acknowledges.

use anbao_model::asset::AssetType;
use anbao_store::{Warning, WarningDraft, WarningHistoryEntry, WarningLevel, WarningPatch, WarningRecipient};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::auth::{ClientAddr, Principal};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, Path};

/// A warning with its recipients and history.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WarningOut {
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub warning: Warning,
    #[schema(value_type = Vec<Object>)]
    pub recipient_list: Vec<WarningRecipient>,
    #[schema(value_type = Vec<Object>)]
    pub history: Vec<WarningHistoryEntry>,
    /// Whether the caller still has an acknowledgement to give.
    pub ack_pending: bool,
}

pub(crate) async fn warning_out(state: &AppState, p: &Principal, warning: Warning) -> Result<WarningOut, ApiError> {
    let recipient_list = state.store.warning_recipients(warning.id).await?;
    let history = state.store.warning_history(warning.id).await?;
    let ack_pending =
        warning.is_active() && state.store.warning_ack_pending(warning.id, p.user_id, p.home_unit).await?;
    Ok(WarningOut { warning, recipient_list, history, ack_pending })
}

#[utoipa::path(get, path = "/api/v1/warnings", tag = "respond",
    responses((status = 200, description = "every warning, active first (with acked / recipients counts)")))]
pub async fn list(State(state): State<AppState>, _p: Principal) -> Result<Json<Vec<Warning>>, ApiError> {
    Ok(Json(state.store.list_warnings().await?))
}

#[utoipa::path(get, path = "/api/v1/warnings/{id}", tag = "respond",
    params(("id" = i64, Path, description = "warning id")),
    responses((status = 200, body = WarningOut), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<i64>,
) -> Result<Json<WarningOut>, ApiError> {
    let w = state.store.get_warning(id).await?;
    Ok(Json(warning_out(&state, &p, w).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WarningBody {
    /// red, orange, yellow or blue.
    #[schema(value_type = String)]
    pub level: WarningLevel,
    /// At most 200 characters.
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// Region names, e.g. provinces.
    #[serde(default)]
    pub scope_regions: Vec<String>,
    /// Asset types (network, business_system, device, …).
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    pub scope_asset_types: Vec<AssetType>,
    #[serde(default)]
    pub required_actions: String,
    /// User ids.
    #[serde(default)]
    pub recipient_users: Vec<i64>,
    /// Org unit ids; every member may acknowledge for the unit.
    #[serde(default)]
    pub recipient_units: Vec<i64>,
}

#[utoipa::path(post, path = "/api/v1/warnings", tag = "respond", request_body = WarningBody,
    responses((status = 201, body = WarningOut), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    JsonBody(b): JsonBody<WarningBody>,
) -> Result<(StatusCode, Json<WarningOut>), ApiError> {
    let draft = WarningDraft {
        level: Some(b.level),
        title: b.title,
        description: b.description,
        scope_regions: b.scope_regions,
        scope_asset_types: b.scope_asset_types,
        required_actions: b.required_actions,
        recipient_users: b.recipient_users,
        recipient_units: b.recipient_units,
    };
    let w = state.store.issue_warning(&p.actor(&client), &draft).await?;
    Ok((StatusCode::CREATED, Json(warning_out(&state, &p, w).await?)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WarningPatchBody {
    /// Why; required, kept in the history.
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub level: Option<WarningLevel>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub scope_regions: Option<Vec<String>>,
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>)]
    pub scope_asset_types: Option<Vec<AssetType>>,
    #[serde(default)]
    pub required_actions: Option<String>,
}

#[utoipa::path(patch, path = "/api/v1/warnings/{id}", tag = "respond", request_body = WarningPatchBody,
    params(("id" = i64, Path, description = "warning id")),
    responses((status = 200, body = WarningOut), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn adjust(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<WarningPatchBody>,
) -> Result<Json<WarningOut>, ApiError> {
    let patch = WarningPatch {
        level: b.level,
        title: b.title,
        description: b.description,
        scope_regions: b.scope_regions,
        scope_asset_types: b.scope_asset_types,
        required_actions: b.required_actions,
        reason: b.reason,
    };
    let w = state.store.adjust_warning(&p.actor(&client), id, &patch).await?;
    Ok(Json(warning_out(&state, &p, w).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LiftBody {
    /// Why the warning is lifted; required.
    #[serde(default)]
    pub reason: String,
}

#[utoipa::path(post, path = "/api/v1/warnings/{id}/lift", tag = "respond", request_body = LiftBody,
    params(("id" = i64, Path, description = "warning id")),
    responses((status = 200, body = WarningOut), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn lift(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<LiftBody>,
) -> Result<Json<WarningOut>, ApiError> {
    let w = state.store.lift_warning(&p.actor(&client), id, &b.reason).await?;
    Ok(Json(warning_out(&state, &p, w).await?))
}

#[utoipa::path(post, path = "/api/v1/warnings/{id}/ack", tag = "respond",
    params(("id" = i64, Path, description = "warning id")),
    responses((status = 200, body = WarningOut), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "not a recipient, already acknowledged, or lifted")))]
pub async fn ack(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
) -> Result<Json<WarningOut>, ApiError> {
    state.store.ack_warning(&p.actor(&client), id, p.user_id, p.home_unit).await?;
    let w = state.store.get_warning(id).await?;
    Ok(Json(warning_out(&state, &p, w).await?))
}
