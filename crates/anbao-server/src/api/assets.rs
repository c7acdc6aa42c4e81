//! `/api/v1/assets`: the asset and responsibility registry (R1.3, R1.4,
//! R1.5, R7.1) with each asset's software/hardware inventory (R1.8).

use std::collections::BTreeMap;

use anbao_model::asset::{AssetDraft, AssetType, ComponentDraft, Lifecycle};
use anbao_store::{Asset, AssetFilter, Component};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::auth::{ClientAddr, Principal};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, Path, Query};

#[derive(Serialize, utoipa::ToSchema)]
pub struct ComponentView {
    pub id: i64,
    /// software, hardware, os, firmware or service.
    pub kind: String,
    pub vendor: String,
    pub product: String,
    pub version: String,
    /// CPE 2.3 formatted string.
    pub cpe: String,
    /// Package URL.
    pub purl: String,
    /// YYYY-MM-DD.
    pub end_of_support: Option<String>,
}

impl From<Component> for ComponentView {
    fn from(c: Component) -> Self {
        ComponentView {
            id: c.id,
            kind: c.kind.to_string(),
            vendor: c.vendor,
            product: c.product,
            version: c.version,
            cpe: c.cpe,
            purl: c.purl,
            end_of_support: c.end_of_support,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AssetView {
    pub id: i64,
    pub external_id: String,
    pub name: String,
    /// network, business_system, device, website, domain_name, dns_service,
    /// cloud_tenant, iot_platform or terminal.
    pub asset_type: String,
    /// Host name, address, URL, domain or prefix.
    pub identifier: String,
    pub org_unit_id: i64,
    pub responsible_department_id: i64,
    pub responsible_person: String,
    pub operator_contact: String,
    pub oncall_phone: String,
    /// planned, live or retired.
    pub lifecycle: String,
    /// low, medium, high or critical.
    pub criticality: String,
    /// Type-specific fields.
    pub attributes: BTreeMap<String, String>,
    pub created_at: String,
    pub updated_at: String,
    /// Present on single-asset responses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub components: Option<Vec<ComponentView>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain_ids: Option<Vec<i64>>,
}

impl AssetView {
    fn new(a: Asset, detailed: bool) -> AssetView {
        use anbao_model::clock::format_ts;
        AssetView {
            id: a.id,
            external_id: a.external_id,
            name: a.name,
            asset_type: a.asset_type.to_string(),
            identifier: a.identifier,
            org_unit_id: a.org_unit_id,
            responsible_department_id: a.responsible_department_id,
            responsible_person: a.responsible_person,
            operator_contact: a.operator_contact,
            oncall_phone: a.oncall_phone,
            lifecycle: a.lifecycle.to_string(),
            criticality: a.criticality.to_string(),
            attributes: a.attributes,
            created_at: format_ts(a.created_at),
            updated_at: format_ts(a.updated_at),
            components: detailed.then(|| a.components.into_iter().map(Into::into).collect()),
            domain_ids: detailed.then_some(a.domain_ids),
        }
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AssetQuery {
    /// Substring of name, identifier, external id or responsible person.
    pub q: Option<String>,
    #[param(value_type = Option<String>)]
    pub asset_type: Option<AssetType>,
    #[param(value_type = Option<String>)]
    pub lifecycle: Option<Lifecycle>,
    /// Only assets in this security domain.
    pub domain_id: Option<i64>,
    /// Only assets of this organisation unit (and its sub-units).
    pub org_unit_id: Option<i64>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

impl AssetQuery {
    pub async fn to_filter(&self, state: &AppState, p: &Principal) -> Result<AssetFilter, ApiError> {
        let org_units = match self.org_unit_id {
            None => p.scope_filter(),
            Some(u) => {
                if !p.scope.contains(u) {
                    return Err(ApiError::field("org_unit_id", "org_unit_id: outside your scope or does not exist"));
                }
                let sub = state.store.scope_of(&[u]).await?;
                match (sub.ids(), p.scope_filter()) {
                    (None, scope) => scope,
                    (Some(ids), None) => Some(ids),
                    (Some(ids), Some(mine)) => Some(ids.into_iter().filter(|i| mine.contains(i)).collect()),
                }
            }
        };
        Ok(AssetFilter {
            org_units,
            query: self.q.clone(),
            asset_type: self.asset_type,
            lifecycle: self.lifecycle,
            domain_id: self.domain_id,
            limit: self.limit.unwrap_or(100).clamp(1, 1000),
            offset: self.offset.unwrap_or(0).max(0),
        })
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AssetList {
    /// Assets matching the filter, in all pages.
    pub total: i64,
    pub items: Vec<AssetView>,
}

#[utoipa::path(get, path = "/api/v1/assets", tag = "govern", params(AssetQuery),
    responses((status = 200, body = AssetList), (status = 400, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    p: Principal,
    Query(q): Query<AssetQuery>,
) -> Result<Json<AssetList>, ApiError> {
    let filter = q.to_filter(&state, &p).await?;
    let total = state.store.count_assets(&filter).await?;
    let items = state.store.list_assets(&filter).await?.into_iter().map(|a| AssetView::new(a, false)).collect();
    Ok(Json(AssetList { total, items }))
}

pub(crate) async fn visible(state: &AppState, p: &Principal, id: i64) -> Result<Asset, ApiError> {
    let asset = state.store.get_asset(id).await?;
    if !p.scope.contains(asset.org_unit_id) {
        return Err(ApiError::not_found("asset"));
    }
    Ok(asset)
}

#[utoipa::path(get, path = "/api/v1/assets/{id}", tag = "govern", params(("id" = i64, Path, description = "asset id")),
    responses((status = 200, body = AssetView), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<i64>,
) -> Result<Json<AssetView>, ApiError> {
    Ok(Json(AssetView::new(visible(&state, &p, id).await?, true)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComponentBody {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub vendor: String,
    pub product: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub cpe: String,
    #[serde(default)]
    pub purl: String,
    #[serde(default)]
    pub end_of_support: String,
}

impl ComponentBody {
    fn draft(self) -> ComponentDraft {
        ComponentDraft {
            kind: self.kind,
            vendor: self.vendor,
            product: self.product,
            version: self.version,
            cpe: self.cpe,
            purl: self.purl,
            end_of_support: self.end_of_support,
        }
    }
}

/// An asset as sent by a client. Units are named by id or code.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssetBody {
    #[serde(default)]
    pub external_id: String,
    pub name: String,
    pub asset_type: String,
    #[serde(default)]
    pub identifier: String,
    /// Owning organisation unit: id (number or string) or code.
    #[serde(deserialize_with = "id_or_code")]
    #[schema(value_type = String)]
    pub org_unit: String,
    /// Responsible department: id (number or string) or code. Required.
    #[serde(deserialize_with = "id_or_code")]
    #[schema(value_type = String)]
    pub responsible_department: String,
    /// Responsible person. Required.
    pub responsible_person: String,
    #[serde(default)]
    pub operator_contact: String,
    #[serde(default)]
    pub oncall_phone: String,
    #[serde(default)]
    pub lifecycle: String,
    #[serde(default)]
    pub criticality: String,
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    /// Initial inventory (create only).
    #[serde(default)]
    pub components: Vec<ComponentBody>,
}

/// A unit reference given as a JSON number (an id) or a string (id or code).
fn id_or_code<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Reference {
        Id(i64),
        Text(String),
    }
    Ok(match Reference::deserialize(d)? {
        Reference::Id(i) => i.to_string(),
        Reference::Text(s) => s,
    })
}

impl AssetBody {
    fn split(self) -> (AssetDraft, Vec<ComponentDraft>) {
        let draft = AssetDraft {
            external_id: self.external_id,
            name: self.name,
            asset_type: self.asset_type,
            identifier: self.identifier,
            org_unit: self.org_unit,
            responsible_department: self.responsible_department,
            responsible_person: self.responsible_person,
            operator_contact: self.operator_contact,
            oncall_phone: self.oncall_phone,
            lifecycle: self.lifecycle,
            criticality: self.criticality,
            attributes: self.attributes,
        };
        (draft, self.components.into_iter().map(ComponentBody::draft).collect())
    }
}

/// Checks a draft and its components, naming the field (components as
/// `components[N].field`).
pub(crate) fn check(
    draft: &AssetDraft,
    components: &[ComponentDraft],
) -> Result<(anbao_model::asset::CheckedAsset, Vec<anbao_model::asset::CheckedComponent>), ApiError> {
    let asset = draft.check().map_err(|e| ApiError::field(e.field, e.to_string()))?;
    let components = components
        .iter()
        .enumerate()
        .map(|(i, c)| c.check().map_err(|e| ApiError::field(&format!("components[{i}].{}", e.field), e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((asset, components))
}

#[utoipa::path(post, path = "/api/v1/assets", tag = "govern", request_body = AssetBody,
    responses((status = 201, body = AssetView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    JsonBody(body): JsonBody<AssetBody>,
) -> Result<(StatusCode, Json<AssetView>), ApiError> {
    let (draft, components) = body.split();
    let (asset, components) = check(&draft, &components)?;
    let created = state.store.create_asset(&p.actor(&client), &p.scope, &asset, &components).await?;
    Ok((StatusCode::CREATED, Json(AssetView::new(created, true))))
}

#[utoipa::path(put, path = "/api/v1/assets/{id}", tag = "govern", request_body = AssetBody, params(("id" = i64, Path, description = "asset id")),
    responses((status = 200, body = AssetView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn replace(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    JsonBody(body): JsonBody<AssetBody>,
) -> Result<Json<AssetView>, ApiError> {
    visible(&state, &p, id).await?;
    let (draft, components) = body.split();
    if !components.is_empty() {
        return Err(ApiError::field(
            "components",
            "components: change the inventory through /api/v1/assets/{id}/components",
        ));
    }
    let (asset, _) = check(&draft, &[])?;
    Ok(Json(AssetView::new(state.store.update_asset(&p.actor(&client), &p.scope, id, &asset).await?, true)))
}

#[utoipa::path(delete, path = "/api/v1/assets/{id}", tag = "govern", params(("id" = i64, Path, description = "asset id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    visible(&state, &p, id).await?;
    state.store.delete_asset(&p.actor(&client), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/assets/{id}/components", tag = "govern", request_body = ComponentBody,
    params(("id" = i64, Path, description = "asset id")),
    responses((status = 201, body = ComponentView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_component(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    JsonBody(body): JsonBody<ComponentBody>,
) -> Result<(StatusCode, Json<ComponentView>), ApiError> {
    visible(&state, &p, id).await?;
    let c = body.draft().check().map_err(|e| ApiError::field(e.field, e.to_string()))?;
    let created = state.store.add_component(&p.actor(&client), id, &c).await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

#[utoipa::path(delete, path = "/api/v1/assets/{id}/components/{component_id}", tag = "govern",
    params(("id" = i64, Path, description = "asset id"), ("component_id" = i64, Path, description = "component id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_component(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path((id, component_id)): Path<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    visible(&state, &p, id).await?;
    state.store.delete_component(&p.actor(&client), id, component_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DomainIds {
    pub domain_ids: Vec<i64>,
}

/// The requested memberships plus those in domains the caller cannot see:
/// a provincial analyst must not silently drop another province's zoning.
pub(crate) fn keep_unseen(asset: &Asset, visible: &[anbao_store::SecurityDomain], mut wanted: Vec<i64>) -> Vec<i64> {
    wanted.extend(asset.domain_ids.iter().filter(|d| !visible.iter().any(|v| v.id == **d)));
    wanted
}

#[utoipa::path(put, path = "/api/v1/assets/{id}/domains", tag = "govern", request_body = DomainIds,
    params(("id" = i64, Path, description = "asset id")),
    responses((status = 200, body = DomainIds), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_domains(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    JsonBody(body): JsonBody<DomainIds>,
) -> Result<Json<DomainIds>, ApiError> {
    let asset = visible(&state, &p, id).await?;
    let domains = state.store.list_domains(p.scope_filter().as_deref()).await?;
    if let Some(bad) = body.domain_ids.iter().find(|d| !domains.iter().any(|x| x.id == **d)) {
        return Err(ApiError::field(
            "domain_ids",
            format!("domain_ids: security domain {bad} is outside your scope or does not exist"),
        ));
    }
    let ids =
        state.store.set_asset_domains(&p.actor(&client), id, &keep_unseen(&asset, &domains, body.domain_ids)).await?;
    Ok(Json(DomainIds { domain_ids: ids }))
}
