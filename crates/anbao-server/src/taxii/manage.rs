//! `/api/v1/taxii/collections`: the JSON API through which admins and
//! analysts (ManageIntel) create, change and delete TAXII collections —
//! title, description, alias, the roles that may read and write, and the
//! publish filter (categories, most restrictive TLP) for indicators.

use std::collections::HashMap;

use anbao_model::Role;
use anbao_model::clock::format_ts;
use anbao_store::{CollectionDraft, CollectionPatch, PublishFilter, StoreError, TaxiiCollection};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Deserializer, Serialize};

use crate::AppState;
use crate::auth::{ClientAddr, Principal};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, Path};
use crate::taxii::API_ROOT;

/// Which indicators are published into a collection.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishSpec {
    /// Categories published (e.g. `botnet_cc`, `phishing`); empty or
    /// absent: all.
    #[serde(default)]
    pub categories: Vec<String>,
    /// The most restrictive TLP published (`clear`, `green`, `amber`,
    /// `amber+strict`, `red`); absent: any.
    pub max_tlp: Option<String>,
}

impl PublishSpec {
    fn filter(&self) -> Result<PublishFilter, ApiError> {
        PublishFilter::parse(&self.categories, self.max_tlp.as_deref()).map_err(|e| StoreError::from(e).into())
    }

    fn of(f: &PublishFilter) -> PublishSpec {
        PublishSpec {
            categories: f.categories.iter().map(|c| c.as_str().to_owned()).collect(),
            max_tlp: f.max_tlp.map(|t| t.as_str().to_owned()),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CollectionView {
    /// The collection id in TAXII URLs (a UUID).
    pub id: String,
    pub title: String,
    pub description: String,
    /// Usable in TAXII URLs in place of the id.
    pub alias: Option<String>,
    /// Roles that may read objects over TAXII.
    pub can_read: Vec<String>,
    /// Roles that may add objects (and delete them, if they may also read).
    pub can_write: Vec<String>,
    /// Publishing of indicators; none: nothing is published.
    pub publish: Option<PublishSpec>,
    /// Object versions held.
    pub objects: i64,
    /// The collection's TAXII URL (relative).
    pub url: String,
    pub created_at: String,
    pub updated_at: String,
}

fn role_names(roles: &[Role]) -> Vec<String> {
    roles.iter().map(|r| r.as_str().to_owned()).collect()
}

fn view(c: TaxiiCollection, objects: i64) -> CollectionView {
    CollectionView {
        url: format!("{API_ROOT}collections/{}/", c.id),
        id: c.id,
        title: c.title,
        description: c.description,
        alias: c.alias,
        can_read: role_names(&c.can_read),
        can_write: role_names(&c.can_write),
        publish: c.publish.as_ref().map(PublishSpec::of),
        objects,
        created_at: format_ts(c.created_at),
        updated_at: format_ts(c.updated_at),
    }
}

async fn counts(state: &AppState) -> Result<HashMap<String, i64>, ApiError> {
    Ok(state.store.taxii_object_counts().await?.into_iter().collect())
}

#[utoipa::path(get, path = "/api/v1/taxii/collections", tag = "intel",
    responses((status = 200, body = [CollectionView])))]
pub async fn list(State(state): State<AppState>, _p: Principal) -> Result<Json<Vec<CollectionView>>, ApiError> {
    let counts = counts(&state).await?;
    let list = state.store.taxii_collections().await?;
    Ok(Json(
        list.into_iter()
            .map(|c| {
                let n = counts.get(&c.id).copied().unwrap_or(0);
                view(c, n)
            })
            .collect(),
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCollection {
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub alias: Option<String>,
    /// Roles that may read: admin, analyst, responder, auditor, regulator.
    #[schema(value_type = Vec<String>, example = json!(["admin", "analyst", "regulator"]))]
    pub can_read: Vec<Role>,
    /// Roles that may write; auditor and regulator are read-only roles.
    #[schema(value_type = Vec<String>, example = json!(["analyst"]))]
    pub can_write: Vec<Role>,
    pub publish: Option<PublishSpec>,
}

#[utoipa::path(post, path = "/api/v1/taxii/collections", tag = "intel", request_body = CreateCollection,
    responses((status = 201, body = CollectionView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    JsonBody(body): JsonBody<CreateCollection>,
) -> Result<(StatusCode, Json<CollectionView>), ApiError> {
    let draft = CollectionDraft {
        title: body.title,
        description: body.description,
        alias: body.alias,
        can_read: body.can_read,
        can_write: body.can_write,
        publish: body.publish.as_ref().map(PublishSpec::filter).transpose()?,
    };
    let c = state.store.taxii_create_collection(&p.actor(&client), &draft).await?;
    Ok((StatusCode::CREATED, Json(view(c, 0))))
}

/// Present and null → `Some(None)`; absent → `None` (with `#[serde(default)]`).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCollection {
    pub title: Option<String>,
    pub description: Option<String>,
    /// A new alias; null removes it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub alias: Option<Option<String>>,
    #[schema(value_type = Option<Vec<String>>)]
    pub can_read: Option<Vec<Role>>,
    #[schema(value_type = Option<Vec<String>>)]
    pub can_write: Option<Vec<Role>>,
    /// A new publish filter; null stops publishing.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<PublishSpec>)]
    pub publish: Option<Option<PublishSpec>>,
}

#[utoipa::path(patch, path = "/api/v1/taxii/collections/{id}", tag = "intel", request_body = UpdateCollection,
    params(("id" = String, Path, description = "collection id or alias")),
    responses((status = 200, body = CollectionView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<UpdateCollection>,
) -> Result<Json<CollectionView>, ApiError> {
    let publish = match &body.publish {
        None => None,
        Some(None) => Some(None),
        Some(Some(spec)) => Some(Some(spec.filter()?)),
    };
    let patch = CollectionPatch {
        title: body.title,
        description: body.description,
        alias: body.alias,
        can_read: body.can_read,
        can_write: body.can_write,
        publish,
    };
    let c = state.store.taxii_update_collection(&p.actor(&client), &id, &patch).await?;
    let n = counts(&state).await?.get(&c.id).copied().unwrap_or(0);
    Ok(Json(view(c, n)))
}

#[utoipa::path(delete, path = "/api/v1/taxii/collections/{id}", tag = "intel",
    params(("id" = String, Path, description = "collection id or alias")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.store.taxii_delete_collection(&p.actor(&client), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What a publication did (see `anbao_feeds::publish`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PublishView {
    pub collection_id: String,
    /// Indicators the collection's filter admitted.
    pub admitted: u64,
    /// Objects stored: new indicators or new versions of changed ones.
    pub added: u64,
    /// Objects the collection already held in this version.
    pub unchanged: u64,
    pub failed: u64,
}

/// Publishes now the indicators the collection's publish filter admits
/// (the server also does it every minute after indicators change).
#[utoipa::path(post, path = "/api/v1/taxii/collections/{id}/publish", tag = "intel",
    params(("id" = String, Path, description = "collection id or alias")),
    responses((status = 200, body = PublishView), (status = 404, body = ErrorBody),
        (status = 422, description = "the collection has no publish filter", body = ErrorBody)))]
pub async fn publish(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<String>,
) -> Result<Json<PublishView>, ApiError> {
    let r = anbao_feeds::publish::publish(&state.store, &p.actor(&client), &id)
        .await
        .map_err(crate::api::intel::feeds_error)?;
    Ok(Json(PublishView {
        collection_id: r.collection_id,
        admitted: r.admitted,
        added: r.added,
        unchanged: r.unchanged,
        failed: r.failed,
    }))
}
