//! The OpenAPI 3 document, generated from the handlers' annotations.

use axum::Json;
use axum::response::{IntoResponse, Response};
use utoipa::OpenApi;

use crate::api;

#[derive(OpenApi)]
#[openapi(
    info(title = "anbao API", description = "Cybersecurity assurance for telecom and internet operators (MIIT 2014-368). \
        Authenticate with a browser session (send X-CSRF-Token on changes) or `Authorization: Bearer TOKEN`."),
    paths(
        api::health::healthz,
        api::me::get,
        api::users::list, api::users::create, api::users::get, api::users::update, api::users::set_password,
        api::org_units::list, api::org_units::create, api::org_units::get, api::org_units::update, api::org_units::delete,
        api::tokens::list, api::tokens::create, api::tokens::revoke,
        api::audit::list, api::audit::export, api::audit::verify,
    ),
    tags(
        (name = "operations"), (name = "accounts"), (name = "organisation"), (name = "audit"),
    )
)]
struct ApiDoc;

/// The document as JSON, e.g. for `anbao openapi` or tests.
pub fn openapi_json() -> serde_json::Value {
    serde_json::to_value(ApiDoc::openapi()).unwrap_or_default()
}

pub async fn serve() -> Response {
    Json(openapi_json()).into_response()
}
