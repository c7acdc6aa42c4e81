//! The TAXII 2.1 server under `/taxii2/` (OASIS TAXII 2.1): discovery, one
//! API root (`/taxii2/api/`), its collections, their objects, manifests and
//! object versions, and the status of add-objects requests — plus the JSON
//! API under `/api/v1/taxii/collections` that manages the collections.
//!
//! TAXII clients authenticate with HTTP Basic (any user name, an anbao API
//! token as the password) or `Authorization: Bearer TOKEN`; browser
//! sessions may use it too (changes then need the CSRF header). What a
//! caller may do is decided per collection by its role: the collection's
//! `can_read` and `can_write` roles. A collection the caller can neither
//! read nor write does not exist for it (404).
//!
//! These routes have their own media types
//! (`application/taxii+json;version=2.1`), errors (TAXII error messages)
//! and authentication, so they are not in `routes::table()`:
//! [`router`] builds them, and `crate::router` merges them outside the
//! global `auth::authenticate` layer (which knows no HTTP Basic).
//! Objects are stored and checked by `anbao_store` (see its `taxii`
//! module); this module owns HTTP: negotiation, parameters, paging tokens,
//! headers and resource shapes.

mod access;
mod endpoints;
pub(crate) mod manage;
mod params;

use std::sync::Arc;

use anbao_store::StoreError;
use axum::Router;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, any, get};

use crate::AppState;

/// Largest add-objects body accepted by default, advertised as the API
/// root's `max_content_length`.
pub const DEFAULT_MAX_CONTENT_LENGTH: usize = 10 * 1024 * 1024;

/// The media type of every TAXII resource this server sends or accepts.
pub const TAXII_MEDIA_TYPE: &str = "application/taxii+json;version=2.1";

/// The media type of the objects collections hold.
pub const STIX_MEDIA_TYPE: &str = "application/stix+json;version=2.1";

/// The one API root.
pub const API_ROOT: &str = "/taxii2/api/";

/// Objects per page when the client gives no `limit`.
pub const DEFAULT_PAGE_SIZE: usize = 100;

/// The most objects per page, whatever `limit` asks for.
pub const MAX_PAGE_SIZE: usize = 1000;

static DATE_ADDED_FIRST: HeaderName = HeaderName::from_static("x-taxii-date-added-first");
static DATE_ADDED_LAST: HeaderName = HeaderName::from_static("x-taxii-date-added-last");

/// What the TAXII handlers need beyond [`AppState`].
#[derive(Clone, Debug)]
pub(crate) struct TaxiiSettings {
    pub max_content_length: usize,
}

/// The TAXII routes, with their own authentication and negotiation layers,
/// to be merged into the application router outside its global
/// authentication layer. `max_content_length` bounds add-objects bodies.
pub fn router(state: AppState, max_content_length: usize) -> Router<AppState> {
    let settings = Arc::new(TaxiiSettings { max_content_length });
    // Other methods answer 405 as a TAXII error, not an empty body.
    let only = |m: MethodRouter<AppState>| m.fallback(endpoints::method_not_allowed);
    Router::new()
        .route("/taxii2", only(get(endpoints::discovery)))
        .route("/taxii2/", only(get(endpoints::discovery)))
        .route("/taxii2/api/", only(get(endpoints::api_root)))
        .route("/taxii2/api/collections/", only(get(endpoints::collections)))
        .route("/taxii2/api/collections/{collection}/", only(get(endpoints::collection)))
        .route(
            "/taxii2/api/collections/{collection}/objects/",
            only(get(endpoints::get_objects).post(endpoints::add_objects)),
        )
        .route(
            "/taxii2/api/collections/{collection}/objects/{object}/",
            only(get(endpoints::get_object).delete(endpoints::delete_object)),
        )
        .route("/taxii2/api/collections/{collection}/objects/{object}/versions/", only(get(endpoints::versions)))
        .route("/taxii2/api/collections/{collection}/manifest/", only(get(endpoints::manifest)))
        .route("/taxii2/api/status/{status}/", only(get(endpoints::status)))
        // taxii2-client computes status URLs without the trailing slash.
        .route("/taxii2/api/status/{status}", only(get(endpoints::status)))
        .route("/taxii2/{*rest}", any(endpoints::no_such_resource))
        .route_layer(axum::middleware::from_fn(access::negotiate))
        .route_layer(axum::middleware::from_fn(access::require_principal))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), crate::auth::authenticate))
        .route_layer(axum::middleware::from_fn_with_state(state, access::resolve_token))
        .layer(axum::Extension(settings))
}

/// A TAXII error message (`{"title", "description", "http_status"}`).
#[derive(Debug)]
pub(crate) struct TaxiiError {
    pub status: StatusCode,
    pub title: String,
    pub description: Option<String>,
}

impl TaxiiError {
    pub fn new(status: StatusCode, title: impl Into<String>) -> TaxiiError {
        TaxiiError { status, title: title.into(), description: None }
    }

    pub fn describe(mut self, description: impl Into<String>) -> TaxiiError {
        self.description = Some(description.into());
        self
    }

    pub fn bad_request(description: impl Into<String>) -> TaxiiError {
        TaxiiError::new(StatusCode::BAD_REQUEST, "Bad request").describe(description)
    }

    pub fn unauthenticated(description: impl Into<String>) -> TaxiiError {
        TaxiiError::new(StatusCode::UNAUTHORIZED, "Authentication required").describe(description)
    }

    pub fn forbidden(description: impl Into<String>) -> TaxiiError {
        TaxiiError::new(StatusCode::FORBIDDEN, "Forbidden").describe(description)
    }

    pub fn not_found(description: impl Into<String>) -> TaxiiError {
        TaxiiError::new(StatusCode::NOT_FOUND, "Not found").describe(description)
    }
}

impl From<StoreError> for TaxiiError {
    fn from(e: StoreError) -> TaxiiError {
        match e {
            StoreError::Invalid(i) => TaxiiError::bad_request(i.to_string()),
            StoreError::NotFound { what, id } => TaxiiError::not_found(format!("{what} {id} not found")),
            StoreError::Conflict(m) => TaxiiError::new(StatusCode::CONFLICT, "Conflict").describe(m),
            other => {
                let id = crate::metrics::request_id();
                tracing::error!(request_id = %id, error = %other, "store error (TAXII)");
                TaxiiError::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal error")
                    .describe(format!("internal error (request id {id})"))
            }
        }
    }
}

impl IntoResponse for TaxiiError {
    fn into_response(self) -> Response {
        let mut body = serde_json::json!({ "title": self.title, "http_status": self.status.as_u16().to_string() });
        if let Some(d) = self.description {
            body["description"] = d.into();
        }
        let mut response = taxii_json(self.status, body.to_string());
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"anbao TAXII\""));
        }
        response
    }
}

/// A TAXII resource: `body` (JSON text) as `application/taxii+json;version=2.1`.
pub(crate) fn taxii_json(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, HeaderValue::from_static(TAXII_MEDIA_TYPE))], body).into_response()
}
