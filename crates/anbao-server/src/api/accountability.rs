//! `/api/v1/accountability`: per organisation unit, the leader in charge of
//! security, the security department and its staff (S3, S5).

use anbao_store::{Accountability, StaffMember};
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::auth::{ClientAddr, Principal};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, Path};

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffView {
    pub name: String,
    #[serde(default)]
    pub post: String,
    /// Certificate held for the post (持证上岗).
    #[serde(default)]
    pub certificate: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AccountabilityView {
    pub org_unit_id: i64,
    pub leader_name: String,
    pub leader_title: String,
    pub security_department_id: Option<i64>,
    pub staff: Vec<StaffView>,
}

impl From<Accountability> for AccountabilityView {
    fn from(a: Accountability) -> Self {
        AccountabilityView {
            org_unit_id: a.org_unit_id,
            leader_name: a.leader_name,
            leader_title: a.leader_title,
            security_department_id: a.security_department_id,
            staff: a
                .staff
                .into_iter()
                .map(|s| StaffView { name: s.name, post: s.post, certificate: s.certificate })
                .collect(),
        }
    }
}

#[utoipa::path(get, path = "/api/v1/accountability", tag = "govern", responses((status = 200, body = [AccountabilityView])))]
pub async fn list(State(state): State<AppState>, p: Principal) -> Result<Json<Vec<AccountabilityView>>, ApiError> {
    let all = state.store.list_accountability().await?;
    Ok(Json(all.into_iter().filter(|a| p.scope.contains(a.org_unit_id)).map(Into::into).collect()))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetAccountability {
    pub leader_name: String,
    #[serde(default)]
    pub leader_title: String,
    pub security_department_id: Option<i64>,
    #[serde(default)]
    pub staff: Vec<StaffView>,
}

#[utoipa::path(put, path = "/api/v1/accountability/{org_unit_id}", tag = "govern", request_body = SetAccountability,
    params(("org_unit_id" = i64, Path, description = "organisation unit id")),
    responses((status = 200, body = AccountabilityView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path(org_unit_id): Path<i64>,
    JsonBody(b): JsonBody<SetAccountability>,
) -> Result<Json<AccountabilityView>, ApiError> {
    if !p.scope.contains(org_unit_id) {
        return Err(ApiError::not_found("organisation unit"));
    }
    if let Some(d) = b.security_department_id.filter(|d| !p.scope.contains(*d)) {
        return Err(ApiError::field(
            "security_department_id",
            format!("security_department_id: unit {d} is outside your scope"),
        ));
    }
    let record = Accountability {
        org_unit_id,
        leader_name: b.leader_name,
        leader_title: b.leader_title,
        security_department_id: b.security_department_id,
        staff: b
            .staff
            .into_iter()
            .map(|s| StaffMember { name: s.name, post: s.post, certificate: s.certificate })
            .collect(),
    };
    Ok(Json(state.store.set_accountability(&p.actor(&client), &record).await?.into()))
}
