//! The TAXII 2.1 endpoints: discovery, API root, collections, objects (get
//! and add), one object (get and delete), its versions, the manifest and
//! status resources, each answering TAXII resources or TAXII errors.

use std::sync::Arc;

use anbao_store::{ObjectFilter, TaxiiCollection, TaxiiPage, TaxiiStatus, VersionMatch};
use axum::Extension;
use axum::body::{Body, to_bytes};
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequestParts, Path, RawQuery, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::AppState;
use crate::auth::{ClientAddr, Principal};
use crate::taxii::access::is_taxii_content;
use crate::taxii::params::{self, Params};
use crate::taxii::{
    API_ROOT, DATE_ADDED_FIRST, DATE_ADDED_LAST, STIX_MEDIA_TYPE, TAXII_MEDIA_TYPE, TaxiiError, TaxiiSettings,
    taxii_json,
};

type Answer = Result<Response, TaxiiError>;

/// Path parameters, refused as a TAXII error.
pub(crate) struct TaxiiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for TaxiiPath<T> {
    type Rejection = TaxiiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, TaxiiError> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| TaxiiPath(v))
            .map_err(|e: PathRejection| TaxiiError::bad_request(e.body_text()))
    }
}

pub async fn discovery(State(state): State<AppState>) -> Response {
    let instance = state.config.instance_name.trim();
    let title = if instance.is_empty() { "anbao TAXII".to_owned() } else { format!("anbao TAXII — {instance}") };
    let body = json!({
        "title": title,
        "description": "Threat intelligence shared by anbao over TAXII 2.1.",
        "default": API_ROOT,
        "api_roots": [API_ROOT],
    });
    taxii_json(StatusCode::OK, body.to_string())
}

pub async fn api_root(Extension(settings): Extension<Arc<TaxiiSettings>>) -> Response {
    let body = json!({
        "title": "anbao threat intelligence",
        "description": "Collections of STIX 2.1 objects; which you may read or write depends on your role.",
        "versions": [TAXII_MEDIA_TYPE],
        "max_content_length": settings.max_content_length,
    });
    taxii_json(StatusCode::OK, body.to_string())
}

/// A collection as the caller sees it.
fn collection_resource(c: &TaxiiCollection, p: &Principal) -> Value {
    let mut v = json!({
        "id": c.id,
        "title": c.title,
        "can_read": c.readable_by(p.role),
        "can_write": c.writable_by(p.role),
        "media_types": [STIX_MEDIA_TYPE],
    });
    if !c.description.is_empty() {
        v["description"] = c.description.clone().into();
    }
    if let Some(alias) = &c.alias {
        v["alias"] = alias.clone().into();
    }
    v
}

fn visible(c: &TaxiiCollection, p: &Principal) -> bool {
    c.readable_by(p.role) || c.writable_by(p.role)
}

/// The collection named in the URL (id or alias), if the caller may see it;
/// one it can neither read nor write is "not found", as TAXII asks.
async fn find_collection(state: &AppState, p: &Principal, key: &str) -> Result<TaxiiCollection, TaxiiError> {
    let missing = || TaxiiError::not_found(format!("no collection {key:?} here, or you may not access it"));
    match state.store.taxii_collection(key).await {
        Ok(c) if visible(&c, p) => Ok(c),
        Ok(_) | Err(anbao_store::StoreError::NotFound { .. }) => Err(missing()),
        Err(e) => Err(e.into()),
    }
}

async fn readable_collection(state: &AppState, p: &Principal, key: &str) -> Result<TaxiiCollection, TaxiiError> {
    let c = find_collection(state, p, key).await?;
    if !c.readable_by(p.role) {
        return Err(TaxiiError::forbidden(format!("your role ({}) may not read this collection", p.role)));
    }
    Ok(c)
}

pub async fn collections(State(state): State<AppState>, p: Principal) -> Answer {
    let list: Vec<Value> = state
        .store
        .taxii_collections()
        .await?
        .iter()
        .filter(|c| visible(c, &p))
        .map(|c| collection_resource(c, &p))
        .collect();
    // TAXII lists are never empty: no collections is an empty resource.
    let body = if list.is_empty() { json!({}) } else { json!({ "collections": list }) };
    Ok(taxii_json(StatusCode::OK, body.to_string()))
}

pub async fn collection(State(state): State<AppState>, p: Principal, TaxiiPath(key): TaxiiPath<String>) -> Answer {
    let c = find_collection(&state, &p, &key).await?;
    Ok(taxii_json(StatusCode::OK, collection_resource(&c, &p).to_string()))
}

/// A page as a TAXII resource: `more`, `next` when there is more, the
/// items under `key` (left out when none), and the date-added headers.
fn paged(page: &TaxiiPage, key: &str, items: Vec<String>) -> Response {
    let mut body = String::with_capacity(64 + items.iter().map(|i| i.len() + 1).sum::<usize>());
    body.push_str(if page.more { "{\"more\":true" } else { "{\"more\":false" });
    if page.more
        && let Some(last) = page.objects.last()
    {
        body.push_str(",\"next\":");
        body.push_str(&Value::from(last.date_added.clone()).to_string());
    }
    if !items.is_empty() {
        body.push_str(",\"");
        body.push_str(key);
        body.push_str("\":[");
        body.push_str(&items.join(","));
        body.push(']');
    }
    body.push('}');
    let mut response = taxii_json(StatusCode::OK, body);
    if let (Some(first), Some(last)) = (page.objects.first(), page.objects.last()) {
        let h = response.headers_mut();
        for (name, value) in [(&DATE_ADDED_FIRST, &first.date_added), (&DATE_ADDED_LAST, &last.date_added)] {
            if let Ok(v) = HeaderValue::from_str(value) {
                h.insert(name.clone(), v);
            }
        }
    }
    response
}

fn envelope(page: &TaxiiPage) -> Response {
    paged(page, "objects", page.objects.iter().map(|o| o.body.clone()).collect())
}

pub async fn get_objects(
    State(state): State<AppState>,
    p: Principal,
    TaxiiPath(key): TaxiiPath<String>,
    RawQuery(query): RawQuery,
) -> Answer {
    let c = readable_collection(&state, &p, &key).await?;
    let Params { filter, limit } = params::parse(query.as_deref(), params::OBJECTS)?;
    let page = state.store.taxii_objects(&c.id, &filter, limit, true).await?;
    Ok(envelope(&page))
}

pub async fn manifest(
    State(state): State<AppState>,
    p: Principal,
    TaxiiPath(key): TaxiiPath<String>,
    RawQuery(query): RawQuery,
) -> Answer {
    let c = readable_collection(&state, &p, &key).await?;
    let Params { filter, limit } = params::parse(query.as_deref(), params::OBJECTS)?;
    let page = state.store.taxii_objects(&c.id, &filter, limit, false).await?;
    let records = page
        .objects
        .iter()
        .map(|o| {
            json!({"id": o.stix_id, "date_added": o.date_added, "version": o.version, "media_type": STIX_MEDIA_TYPE})
                .to_string()
        })
        .collect();
    Ok(paged(&page, "objects", records))
}

pub async fn get_object(
    State(state): State<AppState>,
    p: Principal,
    TaxiiPath((key, object)): TaxiiPath<(String, String)>,
    RawQuery(query): RawQuery,
) -> Answer {
    let c = readable_collection(&state, &p, &key).await?;
    let Params { mut filter, limit } = params::parse(query.as_deref(), params::ONE_OBJECT)?;
    filter.ids = vec![object.clone()];
    let page = state.store.taxii_objects(&c.id, &filter, limit, true).await?;
    if page.objects.is_empty() && !state.store.taxii_object_exists(&c.id, &object).await? {
        return Err(TaxiiError::not_found(format!("no object {object:?} in this collection")));
    }
    Ok(envelope(&page))
}

pub async fn versions(
    State(state): State<AppState>,
    p: Principal,
    TaxiiPath((key, object)): TaxiiPath<(String, String)>,
    RawQuery(query): RawQuery,
) -> Answer {
    let c = readable_collection(&state, &p, &key).await?;
    let Params { mut filter, limit } = params::parse(query.as_deref(), params::VERSIONS)?;
    filter.ids = vec![object.clone()];
    filter.versions = vec![VersionMatch::All];
    let page = state.store.taxii_objects(&c.id, &filter, limit, false).await?;
    if page.objects.is_empty() && !state.store.taxii_object_exists(&c.id, &object).await? {
        return Err(TaxiiError::not_found(format!("no object {object:?} in this collection")));
    }
    let versions = page.objects.iter().map(|o| Value::from(o.version.clone()).to_string()).collect();
    Ok(paged(&page, "versions", versions))
}

pub async fn delete_object(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    TaxiiPath((key, object)): TaxiiPath<(String, String)>,
    RawQuery(query): RawQuery,
) -> Answer {
    let c = find_collection(&state, &p, &key).await?;
    if !(c.readable_by(p.role) && c.writable_by(p.role)) {
        return Err(TaxiiError::forbidden(format!(
            "deleting needs a role that may read and write this collection; yours ({}) may not",
            p.role
        )));
    }
    let Params { filter: ObjectFilter { versions, spec_versions, .. }, .. } =
        params::parse(query.as_deref(), params::DELETE)?;
    let deleted = state.store.taxii_delete_object(&p.actor(&client), &c.id, &object, &versions, &spec_versions).await?;
    if deleted == 0 {
        return Err(TaxiiError::not_found(format!("no version of {object:?} in this collection matches")));
    }
    Ok(StatusCode::OK.into_response())
}

pub async fn add_objects(
    State(state): State<AppState>,
    Extension(settings): Extension<Arc<TaxiiSettings>>,
    p: Principal,
    client: ClientAddr,
    TaxiiPath(key): TaxiiPath<String>,
    headers: HeaderMap,
    body: Body,
) -> Answer {
    let c = find_collection(&state, &p, &key).await?;
    if !c.writable_by(p.role) {
        return Err(TaxiiError::forbidden(format!("your role ({}) may not add objects to this collection", p.role)));
    }
    if !is_taxii_content(&headers) {
        return Err(TaxiiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "Unsupported media type")
            .describe(format!("send the envelope as Content-Type: {TAXII_MEDIA_TYPE}")));
    }
    let limit = settings.max_content_length;
    let too_large = || {
        TaxiiError::new(StatusCode::PAYLOAD_TOO_LARGE, "Request too large")
            .describe(format!("the API root's max_content_length is {limit} bytes"))
    };
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let bytes = to_bytes(body, limit).await.map_err(|_| too_large())?;
    let parsed: Value = serde_json::from_slice(&bytes)
        .map_err(|e| TaxiiError::bad_request(format!("the body is not a JSON envelope: {e}")))?;
    let Value::Object(mut envelope) = parsed else {
        return Err(TaxiiError::bad_request("the body is not a TAXII envelope (a JSON object)"));
    };
    let objects = match envelope.remove("objects") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(list)) => list,
        Some(_) => return Err(TaxiiError::bad_request("the envelope's \"objects\" is not a list")),
    };
    let status = state.store.taxii_add_objects(&p.actor(&client), &c.id, &objects).await?;
    Ok(taxii_json(StatusCode::ACCEPTED, status_resource(&status).to_string()))
}

fn status_resource(s: &TaxiiStatus) -> Value {
    let mut v = json!({
        "id": s.id,
        "status": s.status,
        "request_timestamp": s.request_timestamp,
        "total_count": s.total_count,
        "success_count": s.success_count,
        "failure_count": s.failure_count,
        "pending_count": s.pending_count,
    });
    // TAXII lists are never empty: left out when there is nothing to list.
    for (key, list) in [("successes", &s.successes), ("failures", &s.failures), ("pendings", &s.pendings)] {
        if !list.is_empty() {
            v[key] = serde_json::to_value(list).unwrap_or_default();
        }
    }
    v
}

pub async fn status(State(state): State<AppState>, p: Principal, TaxiiPath(id): TaxiiPath<String>) -> Answer {
    let missing = || TaxiiError::not_found(format!("no status {id:?} here, or you may not access it"));
    let s = match state.store.taxii_status(&id).await {
        Ok(s) => s,
        Err(anbao_store::StoreError::NotFound { .. }) => return Err(missing()),
        Err(e) => return Err(e.into()),
    };
    // The status names the collection's objects: it is for those who see it.
    match find_collection(&state, &p, &s.collection_id).await {
        Ok(_) => {}
        Err(e) if e.status == StatusCode::NOT_FOUND => return Err(missing()),
        Err(e) => return Err(e),
    }
    Ok(taxii_json(StatusCode::OK, status_resource(&s).to_string()))
}

pub async fn no_such_resource() -> TaxiiError {
    TaxiiError::not_found("no such TAXII resource; discovery is at /taxii2/")
}

pub async fn method_not_allowed() -> TaxiiError {
    TaxiiError::new(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed")
}
