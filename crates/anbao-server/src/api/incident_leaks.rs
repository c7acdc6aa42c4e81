//! `/api/v1/incidents/{id}/leak`: the personal-data details of a leak
//! incident (issue #7, R5.4) — data categories, people affected, whether
//! sensitive personal information is involved — and its reporting duty,
//! flagged when the incident became a leak, with when the individuals and
//! the regulator were told. 404 when the incident is not a leak.

use anbao_model::incident::LeakDuty;
use anbao_store::IncidentLeak;
use axum::Json;
use axum::extract::State;
use serde::Deserialize;

use crate::AppState;
use crate::api::incidents::visible;
use crate::auth::{ClientAddr, Principal};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, Path};

/// The leak row of a visible incident, or 404.
pub(crate) async fn leak_of(state: &AppState, id: i64) -> Result<IncidentLeak, ApiError> {
    state.store.incident_leak(id).await?.ok_or_else(|| ApiError::not_found("personal-data leak of this incident"))
}

#[utoipa::path(get, path = "/api/v1/incidents/{id}/leak", tag = "respond",
    params(("id" = i64, Path, description = "incident id")),
    responses((status = 200, description = "the leak details and where the reporting duty stands"),
        (status = 404, body = ErrorBody, description = "no such incident in scope, or not a personal-data leak")))]
pub async fn get(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<i64>,
) -> Result<Json<IncidentLeak>, ApiError> {
    visible(&state, &p, id).await?;
    Ok(Json(leak_of(&state, id).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LeakBody {
    /// Codes: identity, contact, account_credentials, financial_account,
    /// location, health, biometric, religious, specific_identity,
    /// minors_under_14, communications, device_ids, other.
    #[serde(default)]
    pub data_categories: Vec<String>,
    /// People affected (not records); absent or null: not known yet.
    #[serde(default)]
    pub affected_users: Option<i64>,
}

#[utoipa::path(put, path = "/api/v1/incidents/{id}/leak", tag = "respond", request_body = LeakBody,
    params(("id" = i64, Path, description = "incident id")),
    responses((status = 200, description = "the leak details, sensitivity derived (PIPL art. 28)"),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<LeakBody>,
) -> Result<Json<IncidentLeak>, ApiError> {
    visible(&state, &p, id).await?;
    leak_of(&state, id).await?;
    let leak = state.store.update_incident_leak(&p.actor(&client), id, &b.data_categories, b.affected_users).await?;
    Ok(Json(leak))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotifiedBody {
    /// individuals or regulator.
    #[schema(value_type = String)]
    pub who: LeakDuty,
    /// RFC 3339; default now. Not in the future, not before discovery.
    #[serde(default)]
    pub at: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/incidents/{id}/leak/notified", tag = "respond", request_body = NotifiedBody,
    params(("id" = i64, Path, description = "incident id")),
    responses((status = 200, description = "the leak with the duty's time recorded"),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn notified(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<NotifiedBody>,
) -> Result<Json<IncidentLeak>, ApiError> {
    visible(&state, &p, id).await?;
    leak_of(&state, id).await?;
    let at = match b.at.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => crate::api::incident_tasks::parse_due(s)
            .map_err(|_| ApiError::field("at", format!("at: {s:?} is not an RFC 3339 time")))?,
    };
    Ok(Json(state.store.record_leak_notified(&p.actor(&client), id, b.who, at).await?))
}
