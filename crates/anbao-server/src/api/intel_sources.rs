//! `/api/v1/intel/sources`: remote intelligence sources (TAXII 2.1
//! collections, MISP feeds, URLs) that the scheduler pulls, and pulling one
//! now (issue #4, R3.5). `anbao_feeds::pull` does the pulling; this module
//! owns HTTP.
//!
//! Passwords are accepted on create and never returned (`has_password`
//! only); the store seals them and keeps them out of the audit log.
//!
//! **Creating a source is for the `admin` role only**, like URL imports
//! (`api::intel`): a source makes the server fetch an address the caller
//! chose, again and again (server-side request forgery). Analysts may list,
//! pull, delete and reschedule the sources an admin set up (interval,
//! enabled, format, category), but not change what they fetch.
//!
//! A pull now is claimed first (`Store::intel_source_claim`, compare and
//! set), so a source already being pulled (here, by the scheduler or on
//! another node) answers 409; the pull itself runs in the background and
//! records its outcome on the source (`last_status`, `last_import_id`).

use std::sync::Arc;

use anbao_feeds::{NoProgress, PullOptions};
use anbao_intel::Category;
use anbao_model::Role;
use anbao_model::clock::format_ts;
use anbao_store::{IntelSource, IntelSourceDraft, IntelSourcePatch, SourceKind};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::api::intel::{body_err, parse_opt};
use crate::auth::{ClientAddr, Principal};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, Path};

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct SourceView {
    pub id: i64,
    pub name: String,
    /// taxii, misp_feed or url.
    pub kind: String,
    /// TAXII: the API root; MISP: the feed's base URL or manifest.json.
    pub url: String,
    /// TAXII only.
    pub collection_id: String,
    pub username: String,
    /// Whether a password is stored (it is never returned).
    pub has_password: bool,
    pub format: String,
    pub category: Option<String>,
    pub include_non_ids: bool,
    /// 0: pulled only on demand.
    pub interval_minutes: i64,
    pub enabled: bool,
    /// Where the last successful pull left off.
    pub cursor: String,
    pub last_pull_at: Option<String>,
    /// running, ok, not_modified, partial: …, failed: … (empty: never pulled).
    pub last_status: String,
    /// The import run of the last pull that imported anything.
    pub last_import_id: Option<i64>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&IntelSource> for SourceView {
    fn from(s: &IntelSource) -> Self {
        SourceView {
            id: s.id,
            name: s.name.clone(),
            kind: s.kind.as_str().to_owned(),
            url: s.url.clone(),
            collection_id: s.collection_id.clone(),
            username: s.username.clone(),
            has_password: s.has_password,
            format: s.format.clone(),
            category: s.category.map(|c| c.as_str().to_owned()),
            include_non_ids: s.include_non_ids,
            interval_minutes: s.interval_minutes,
            enabled: s.enabled,
            cursor: s.cursor.clone(),
            last_pull_at: s.last_pull_at.map(format_ts),
            last_status: s.last_status.clone(),
            last_import_id: s.last_import_id,
            created_at: format_ts(s.created_at),
            updated_at: format_ts(s.updated_at),
        }
    }
}

fn default_format() -> String {
    "auto".to_owned()
}

fn yes() -> bool {
    true
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSource {
    /// Unique; also the provenance source of what it imports.
    pub name: String,
    /// taxii, misp_feed or url.
    pub kind: String,
    pub url: String,
    /// TAXII: the collection's id.
    #[serde(default)]
    pub collection_id: String,
    /// HTTP Basic user name; with a password but no user name the password
    /// is sent as the Authorization header as it is (a MISP key, `Bearer …`).
    #[serde(default)]
    pub username: String,
    /// Stored sealed; never returned.
    #[serde(default)]
    pub password: String,
    /// auto (default), stix, misp, list or hosts (as the kind allows).
    #[serde(default = "default_format")]
    pub format: String,
    /// For indicators whose feed names no category.
    #[serde(default)]
    pub category: Option<String>,
    /// MISP: also attributes marked `to_ids: false`.
    #[serde(default)]
    pub include_non_ids: bool,
    /// Minutes between scheduled pulls; 0 (default): on demand only.
    #[serde(default)]
    pub interval_minutes: i64,
    #[serde(default = "yes")]
    pub enabled: bool,
}

/// Debug output without the password.
impl std::fmt::Debug for CreateSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreateSource")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("url", &self.url)
            .field("collection_id", &self.collection_id)
            .field("username", &self.username)
            .field("password", &if self.password.is_empty() { "" } else { "***" })
            .finish_non_exhaustive()
    }
}

impl CreateSource {
    pub(crate) fn draft(&self) -> Result<IntelSourceDraft, ApiError> {
        let kind: SourceKind = self.kind.trim().parse().map_err(|e: String| body_err("kind", e))?;
        let category = parse_opt::<Category>("category", self.category.as_deref(), body_err)?;
        Ok(IntelSourceDraft {
            name: self.name.trim().to_owned(),
            kind,
            url: self.url.trim().to_owned(),
            collection_id: self.collection_id.trim().to_owned(),
            username: self.username.trim().to_owned(),
            password: self.password.clone(),
            format: Some(self.format.trim()).filter(|f| !f.is_empty()).unwrap_or("auto").to_owned(),
            category,
            include_non_ids: self.include_non_ids,
            interval_minutes: self.interval_minutes,
            enabled: self.enabled,
        })
    }
}

/// Creating sources is the admin's (see the module doc).
pub(crate) fn may_create(p: &Principal) -> Result<(), ApiError> {
    if p.role == Role::Admin {
        Ok(())
    } else {
        Err(ApiError::forbidden("a source makes the server fetch the URL it names; only the admin role may add one"))
    }
}

#[utoipa::path(get, path = "/api/v1/intel/sources", tag = "intel",
    responses((status = 200, body = [SourceView], description = "sources by name")))]
pub async fn list(State(state): State<AppState>) -> Result<Json<Vec<SourceView>>, ApiError> {
    Ok(Json(state.store.intel_sources().await?.iter().map(Into::into).collect()))
}

#[utoipa::path(post, path = "/api/v1/intel/sources", tag = "intel", request_body = CreateSource,
    responses((status = 201, body = SourceView), (status = 403, body = ErrorBody, description = "not an admin"),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    JsonBody(body): JsonBody<CreateSource>,
) -> Result<(StatusCode, Json<SourceView>), ApiError> {
    may_create(&p)?;
    let draft = body.draft()?;
    let source = state.store.intel_source_create(&p.actor(&client), &draft).await?;
    Ok((StatusCode::CREATED, Json((&source).into())))
}

#[utoipa::path(delete, path = "/api/v1/intel/sources/{id}", tag = "intel",
    params(("id" = i64, Path, description = "source id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    state.store.intel_source_delete(&p.actor(&client), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSource {
    pub name: Option<String>,
    /// Admin only (the server will fetch it).
    pub url: Option<String>,
    /// Admin only.
    pub collection_id: Option<String>,
    /// Admin only.
    pub username: Option<String>,
    /// Admin only; `""` removes the stored password. Never returned.
    pub password: Option<String>,
    pub format: Option<String>,
    /// `""` for none.
    pub category: Option<String>,
    pub include_non_ids: Option<bool>,
    /// Minutes between scheduled pulls; 0: on demand only.
    pub interval_minutes: Option<i64>,
    pub enabled: Option<bool>,
}

/// Debug output without the password.
impl std::fmt::Debug for UpdateSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpdateSource")
            .field("name", &self.name)
            .field("url", &self.url)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .finish_non_exhaustive()
    }
}

impl UpdateSource {
    /// The store's patch, refusing what `p` may not change: where and as
    /// whom the server fetches is the admin's (see the module doc).
    pub(crate) fn patch(&self, p: &Principal) -> Result<IntelSourcePatch, ApiError> {
        let fetch_target = self.url.is_some() || self.collection_id.is_some() || self.username.is_some();
        if (fetch_target || self.password.is_some()) && p.role != Role::Admin {
            return Err(ApiError::forbidden(
                "the URL, collection, user name and password say what the server fetches and as whom; only the admin role may change them",
            ));
        }
        let category = match self.category.as_deref().map(str::trim) {
            None => None,
            Some("") => Some(None),
            Some(c) => Some(parse_opt::<Category>("category", Some(c), body_err)?),
        };
        let trimmed = |v: &Option<String>| v.as_deref().map(|t| t.trim().to_owned());
        Ok(IntelSourcePatch {
            name: trimmed(&self.name),
            url: trimmed(&self.url),
            collection_id: trimmed(&self.collection_id),
            username: trimmed(&self.username),
            password: self.password.clone(),
            format: trimmed(&self.format),
            category,
            include_non_ids: self.include_non_ids,
            interval_minutes: self.interval_minutes,
            enabled: self.enabled,
        })
    }
}

#[utoipa::path(patch, path = "/api/v1/intel/sources/{id}", tag = "intel",
    params(("id" = i64, Path, description = "source id")),
    request_body = UpdateSource,
    responses((status = 200, body = SourceView, description = "the source as it is now (the change is audited)"),
        (status = 403, body = ErrorBody, description = "a non-admin changing the URL, collection or credentials"),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    JsonBody(body): JsonBody<UpdateSource>,
) -> Result<Json<SourceView>, ApiError> {
    let patch = body.patch(&p)?;
    let source = state.store.intel_source_update(&p.actor(&client), id, &patch).await?;
    Ok(Json((&source).into()))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PullStarted {
    pub source_id: i64,
    /// Follow it at `/api/v1/intel/sources` (`last_status` leaves `running`).
    pub status: String,
}

/// Claims the source and pulls it in the background; a 409 when it is
/// being pulled already.
pub(crate) async fn start_pull(state: &AppState, p: &Principal, client: &ClientAddr, id: i64) -> Result<(), ApiError> {
    let seen = state.store.intel_source(id).await?;
    let Some(claimed) = state.store.intel_source_claim(&seen).await? else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("intel source {:?} is being pulled already; try again when it has finished", seen.name),
        ));
    };
    let (store, intel, actor) = (state.store.clone(), state.intel.clone(), p.actor(client));
    tokio::spawn(async move {
        let name = claimed.name.clone();
        match anbao_feeds::pull::pull_claimed(&store, &actor, claimed, &PullOptions::default(), Arc::new(NoProgress))
            .await
        {
            Ok(s) => tracing::info!(
                source = name,
                import_id = s.import.import_id,
                accepted = s.import.accepted,
                not_modified = s.not_modified,
                "intel source pulled on request"
            ),
            // The failure is recorded on the source by the puller.
            Err(e) => tracing::warn!(source = name, error = %e, "intel source pull failed"),
        }
        if let Err(e) = intel.refresh(&store).await {
            tracing::warn!(error = %e, "intel index refresh after a pull failed");
        }
    });
    Ok(())
}

#[utoipa::path(post, path = "/api/v1/intel/sources/{id}/pull", tag = "intel",
    params(("id" = i64, Path, description = "source id")),
    responses((status = 202, body = PullStarted), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "a pull of it is running")))]
pub async fn pull(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
) -> Result<(StatusCode, Json<PullStarted>), ApiError> {
    start_pull(&state, &p, &client, id).await?;
    Ok((StatusCode::ACCEPTED, Json(PullStarted { source_id: id, status: "running".into() })))
}
