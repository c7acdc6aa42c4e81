//! `/api/v1/org-units`: the organisation tree within the caller's scope.

use anbao_model::org::OrgTree;
use anbao_model::{OrgKind, OrgUnit};
use anbao_store::{NewOrgUnit, OrgUnitPatch};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::auth::{ClientAddr, Principal};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, Path};

#[derive(Serialize, utoipa::ToSchema)]
pub struct OrgUnitView {
    pub id: i64,
    /// None for the root (the group company).
    pub parent_id: Option<i64>,
    pub name: String,
    /// group, province, city, department or other.
    pub kind: String,
    pub code: String,
    /// Names from the root down, joined by " / ".
    pub path: String,
}

fn view(tree: &OrgTree<'_>, u: &OrgUnit) -> OrgUnitView {
    OrgUnitView {
        id: u.id,
        parent_id: u.parent_id,
        name: u.name.clone(),
        kind: u.kind.to_string(),
        code: u.code.clone(),
        path: tree.path(u.id),
    }
}

#[utoipa::path(get, path = "/api/v1/org-units", tag = "organisation", responses((status = 200, body = [OrgUnitView])))]
pub async fn list(State(state): State<AppState>, p: Principal) -> Result<Json<Vec<OrgUnitView>>, ApiError> {
    let units = state.store.list_org_units().await?;
    let tree = OrgTree::new(&units);
    Ok(Json(units.iter().filter(|u| p.scope.contains(u.id)).map(|u| view(&tree, u)).collect()))
}

#[utoipa::path(get, path = "/api/v1/org-units/{id}", tag = "organisation", params(("id" = i64, Path, description = "unit id")),
    responses((status = 200, body = OrgUnitView), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<i64>,
) -> Result<Json<OrgUnitView>, ApiError> {
    let units = state.store.list_org_units().await?;
    let unit = units
        .iter()
        .find(|u| u.id == id && p.scope.contains(u.id))
        .ok_or_else(|| ApiError::not_found("organisation unit"))?;
    Ok(Json(view(&OrgTree::new(&units), unit)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrgUnit {
    pub parent_id: i64,
    pub name: String,
    #[schema(value_type = String, example = "department")]
    pub kind: OrgKind,
    #[serde(default)]
    pub code: String,
}

#[utoipa::path(post, path = "/api/v1/org-units", tag = "organisation", request_body = CreateOrgUnit,
    responses((status = 201, body = OrgUnitView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    JsonBody(body): JsonBody<CreateOrgUnit>,
) -> Result<(StatusCode, Json<OrgUnitView>), ApiError> {
    if !p.scope.contains(body.parent_id) {
        return Err(ApiError::field(
            "parent_id",
            "parent_id: organisation unit is outside your scope or does not exist",
        ));
    }
    let unit = state
        .store
        .create_org_unit(
            &p.actor(&client),
            &NewOrgUnit { parent_id: Some(body.parent_id), name: body.name, kind: body.kind, code: body.code },
        )
        .await?;
    let units = state.store.list_org_units().await?;
    Ok((StatusCode::CREATED, Json(view(&OrgTree::new(&units), &unit))))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateOrgUnit {
    pub name: Option<String>,
    #[schema(value_type = Option<String>)]
    pub kind: Option<OrgKind>,
    pub code: Option<String>,
    /// Move under another unit.
    pub parent_id: Option<i64>,
}

#[utoipa::path(patch, path = "/api/v1/org-units/{id}", tag = "organisation", request_body = UpdateOrgUnit, params(("id" = i64, Path, description = "unit id")),
    responses((status = 200, body = OrgUnitView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    JsonBody(body): JsonBody<UpdateOrgUnit>,
) -> Result<Json<OrgUnitView>, ApiError> {
    if !p.scope.contains(id) {
        return Err(ApiError::not_found("organisation unit"));
    }
    if body.parent_id.is_some_and(|pid| !p.scope.contains(pid)) {
        return Err(ApiError::field(
            "parent_id",
            "parent_id: organisation unit is outside your scope or does not exist",
        ));
    }
    let patch = OrgUnitPatch { name: body.name, kind: body.kind, code: body.code, parent_id: body.parent_id };
    let unit = state.store.update_org_unit(&p.actor(&client), id, &patch).await?;
    let units = state.store.list_org_units().await?;
    Ok(Json(view(&OrgTree::new(&units), &unit)))
}

#[utoipa::path(delete, path = "/api/v1/org-units/{id}", tag = "organisation", params(("id" = i64, Path, description = "unit id")),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    if !p.scope.contains(id) {
        return Err(ApiError::not_found("organisation unit"));
    }
    state.store.delete_org_unit(&p.actor(&client), id).await?;
    Ok(StatusCode::NO_CONTENT)
}
