//! `/api/v1/security-domains` and `/api/v1/boundaries`: the zones of the
//! network and the devices guarding the borders between them (R1.4).

use anbao_model::asset::ZoneKind;
use anbao_store::{Boundary, SecurityDomain};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::auth::{ClientAddr, Principal};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, Path};

#[derive(Serialize, utoipa::ToSchema)]
pub struct DomainView {
    pub id: i64,
    pub org_unit_id: i64,
    pub name: String,
    /// core, management, dmz, office, production or other.
    pub zone_kind: String,
    pub description: String,
    pub asset_count: i64,
}

impl From<SecurityDomain> for DomainView {
    fn from(d: SecurityDomain) -> Self {
        DomainView {
            id: d.id,
            org_unit_id: d.org_unit_id,
            name: d.name,
            zone_kind: d.zone_kind.to_string(),
            description: d.description,
            asset_count: d.asset_count,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/security-domains", tag = "govern", responses((status = 200, body = [DomainView])))]
pub async fn list(State(state): State<AppState>, p: Principal) -> Result<Json<Vec<DomainView>>, ApiError> {
    Ok(Json(state.store.list_domains(p.scope_filter().as_deref()).await?.into_iter().map(Into::into).collect()))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateDomain {
    pub org_unit_id: i64,
    pub name: String,
    #[schema(value_type = String, example = "dmz")]
    pub zone_kind: ZoneKind,
    #[serde(default)]
    pub description: String,
}

#[utoipa::path(post, path = "/api/v1/security-domains", tag = "govern", request_body = CreateDomain,
    responses((status = 201, body = DomainView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    JsonBody(b): JsonBody<CreateDomain>,
) -> Result<(StatusCode, Json<DomainView>), ApiError> {
    if !p.scope.contains(b.org_unit_id) {
        return Err(ApiError::field("org_unit_id", "org_unit_id: outside your scope or does not exist"));
    }
    let d = state.store.create_domain(&p.actor(&client), b.org_unit_id, &b.name, b.zone_kind, &b.description).await?;
    Ok((StatusCode::CREATED, Json(d.into())))
}

async fn visible_domain(state: &AppState, p: &Principal, id: i64) -> Result<SecurityDomain, ApiError> {
    state
        .store
        .list_domains(p.scope_filter().as_deref())
        .await?
        .into_iter()
        .find(|d| d.id == id)
        .ok_or_else(|| ApiError::not_found("security domain"))
}

#[utoipa::path(delete, path = "/api/v1/security-domains/{id}", tag = "govern", params(("id" = i64, Path, description = "domain id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    visible_domain(&state, &p, id).await?;
    state.store.delete_domain(&p.actor(&client), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct BoundaryView {
    pub id: i64,
    pub domain_a: i64,
    pub domain_b: i64,
    /// The asset (firewall, gateway …) guarding the boundary.
    pub device_asset_id: Option<i64>,
    /// Controls in place, e.g. "stateful firewall, IPS, ACL by port".
    pub controls: String,
}

impl From<Boundary> for BoundaryView {
    fn from(b: Boundary) -> Self {
        BoundaryView {
            id: b.id,
            domain_a: b.domain_a,
            domain_b: b.domain_b,
            device_asset_id: b.device_asset_id,
            controls: b.controls,
        }
    }
}

/// Boundaries whose both sides are visible to the caller.
pub(crate) async fn visible_boundaries(state: &AppState, p: &Principal) -> Result<Vec<Boundary>, ApiError> {
    let domains = state.store.list_domains(p.scope_filter().as_deref()).await?;
    let seen = |id: i64| domains.iter().any(|d| d.id == id);
    Ok(state.store.list_boundaries().await?.into_iter().filter(|b| seen(b.domain_a) && seen(b.domain_b)).collect())
}

#[utoipa::path(get, path = "/api/v1/boundaries", tag = "govern", responses((status = 200, body = [BoundaryView])))]
pub async fn list_boundaries(State(state): State<AppState>, p: Principal) -> Result<Json<Vec<BoundaryView>>, ApiError> {
    Ok(Json(visible_boundaries(&state, &p).await?.into_iter().map(Into::into).collect()))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBoundary {
    pub domain_a: i64,
    pub domain_b: i64,
    pub device_asset_id: Option<i64>,
    #[serde(default)]
    pub controls: String,
}

#[utoipa::path(post, path = "/api/v1/boundaries", tag = "govern", request_body = CreateBoundary,
    responses((status = 201, body = BoundaryView), (status = 422, body = ErrorBody)))]
pub async fn create_boundary(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    JsonBody(b): JsonBody<CreateBoundary>,
) -> Result<(StatusCode, Json<BoundaryView>), ApiError> {
    for (field, id) in [("domain_a", b.domain_a), ("domain_b", b.domain_b)] {
        if visible_domain(&state, &p, id).await.is_err() {
            return Err(ApiError::field(
                field,
                format!("{field}: security domain {id} is outside your scope or does not exist"),
            ));
        }
    }
    if let Some(dev) = b.device_asset_id
        && crate::api::assets::visible(&state, &p, dev).await.is_err()
    {
        return Err(ApiError::field(
            "device_asset_id",
            format!("device_asset_id: asset {dev} is outside your scope or does not exist"),
        ));
    }
    let created =
        state.store.create_boundary(&p.actor(&client), b.domain_a, b.domain_b, b.device_asset_id, &b.controls).await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

#[utoipa::path(delete, path = "/api/v1/boundaries/{id}", tag = "govern", params(("id" = i64, Path, description = "boundary id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_boundary(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    if !visible_boundaries(&state, &p).await?.iter().any(|b| b.id == id) {
        return Err(ApiError::not_found("boundary"));
    }
    state.store.delete_boundary(&p.actor(&client), id).await?;
    Ok(StatusCode::NO_CONTENT)
}
