//! `/api/v1/risks` and the pre-launch gate (`/api/v1/assets/{id}/prelaunch`):
//! the risk register (R1.2) and launch clearances (R1.7).

use anbao_store::{Clearance, Risk, RiskDraft};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;

use crate::AppState;
use crate::auth::{ClientAddr, Principal};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, Path, Query};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RiskQuery {
    /// Only risks of this asset.
    pub asset_id: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/risks", tag = "govern", params(RiskQuery), responses((status = 200, description = "risks, highest score first")))]
pub async fn list(
    State(state): State<AppState>,
    p: Principal,
    Query(q): Query<RiskQuery>,
) -> Result<Json<Vec<Risk>>, ApiError> {
    Ok(Json(state.store.list_risks(p.scope_filter().as_deref(), q.asset_id).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RiskBody {
    pub org_unit_id: i64,
    pub asset_id: Option<i64>,
    pub title: String,
    #[serde(default)]
    pub threat: String,
    #[serde(default)]
    pub vulnerability: String,
    /// 1–5.
    pub asset_value: i64,
    /// 1–5.
    pub likelihood: i64,
    /// 1–5.
    pub severity: i64,
    /// undecided, mitigate, accept, transfer or avoid.
    #[serde(default)]
    pub treatment: String,
    #[serde(default)]
    pub treatment_plan: String,
    /// Level after treatment: low, medium, high or critical.
    #[serde(default)]
    pub residual_level: String,
    pub owner: String,
    /// YYYY-MM-DD.
    #[serde(default)]
    pub review_on: String,
}

pub(crate) async fn draft(state: &AppState, p: &Principal, b: RiskBody) -> Result<RiskDraft, ApiError> {
    if !p.scope.contains(b.org_unit_id) {
        return Err(ApiError::field("org_unit_id", "org_unit_id: outside your scope or does not exist"));
    }
    if let Some(a) = b.asset_id {
        crate::api::assets::visible(state, p, a).await.map_err(|_| {
            ApiError::field("asset_id", format!("asset_id: asset {a} is outside your scope or does not exist"))
        })?;
    }
    Ok(RiskDraft {
        org_unit_id: b.org_unit_id,
        asset_id: b.asset_id,
        title: b.title,
        threat: b.threat,
        vulnerability: b.vulnerability,
        asset_value: b.asset_value,
        likelihood: b.likelihood,
        severity: b.severity,
        treatment: b.treatment,
        treatment_plan: b.treatment_plan,
        residual_level: b.residual_level,
        owner: b.owner,
        review_on: b.review_on,
    })
}

#[utoipa::path(post, path = "/api/v1/risks", tag = "govern", request_body = RiskBody,
    responses((status = 201, description = "the risk with its score and level"), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    JsonBody(b): JsonBody<RiskBody>,
) -> Result<(StatusCode, Json<Risk>), ApiError> {
    let d = draft(&state, &p, b).await?;
    Ok((
        StatusCode::CREATED,
        Json(state.store.save_risk(&p.actor(&client), None, &d, &state.config.risk_method).await?),
    ))
}

#[utoipa::path(put, path = "/api/v1/risks/{id}", tag = "govern", request_body = RiskBody, params(("id" = i64, Path, description = "risk id")),
    responses((status = 200, description = "the risk"), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn replace(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<RiskBody>,
) -> Result<Json<Risk>, ApiError> {
    let current = state.store.get_risk(id).await?;
    if !p.scope.contains(current.org_unit_id) {
        return Err(ApiError::not_found("risk"));
    }
    let d = draft(&state, &p, b).await?;
    Ok(Json(state.store.save_risk(&p.actor(&client), Some(id), &d, &state.config.risk_method).await?))
}

#[utoipa::path(get, path = "/api/v1/assets/{id}/prelaunch", tag = "govern", params(("id" = i64, Path, description = "asset id")),
    responses((status = 200, description = "the asset's launch clearances"), (status = 404, body = ErrorBody)))]
pub async fn clearances(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<i64>,
) -> Result<Json<Vec<Clearance>>, ApiError> {
    crate::api::assets::visible(&state, &p, id).await?;
    Ok(Json(state.store.prelaunch_clearances(id).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClearBody {
    /// `assessment` (every risk of the asset has a treatment) or `exception`.
    pub kind: String,
    /// The person who approves.
    pub approved_by: String,
    /// Required for an exception.
    #[serde(default)]
    pub reason: String,
}

#[utoipa::path(post, path = "/api/v1/assets/{id}/prelaunch", tag = "govern", request_body = ClearBody, params(("id" = i64, Path, description = "asset id")),
    responses((status = 201, description = "the clearance"), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn clear(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<ClearBody>,
) -> Result<(StatusCode, Json<Clearance>), ApiError> {
    crate::api::assets::visible(&state, &p, id).await?;
    Ok((
        StatusCode::CREATED,
        Json(state.store.clear_for_launch(&p.actor(&client), id, &b.kind, &b.approved_by, &b.reason).await?),
    ))
}
