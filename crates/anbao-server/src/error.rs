//! One error type for every handler. 4xx carry their message (and the
//! field, where one is to blame); 5xx carry a generic message and a request
//! id, while the real error goes to the log.

use anbao_store::StoreError;
use axum::Json;
use axum::extract::rejection::{FormRejection, JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub field: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// HTTP status code.
    pub status: u16,
    /// What went wrong, for people.
    pub error: String,
    /// The request field at fault, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Quote this when reporting a server error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError { status, message: message.into(), field: None }
    }
    pub fn field(field: &str, message: impl Into<String>) -> ApiError {
        ApiError { status: StatusCode::UNPROCESSABLE_ENTITY, message: message.into(), field: Some(field.to_owned()) }
    }
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }
    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, format!("{what} not found"))
    }
    pub fn unauthenticated() -> ApiError {
        ApiError::unauthenticated_msg("log in or send `Authorization: Bearer TOKEN`")
    }
    pub fn unauthenticated_msg(m: &str) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, m)
    }
    pub fn forbidden(m: &str) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, m)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::Invalid(i) => ApiError::field(i.field, i.to_string()),
            StoreError::NotFound { what, id } => ApiError::new(StatusCode::NOT_FOUND, format!("{what} {id} not found")),
            StoreError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, m),
            e @ StoreError::TooLarge { .. } => ApiError {
                status: StatusCode::PAYLOAD_TOO_LARGE,
                message: e.to_string(),
                field: Some("file".to_owned()),
            },
            other => {
                let id = crate::metrics::request_id();
                tracing::error!(request_id = %id, error = %other, "store error");
                ApiError {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    message: format!("internal error (request id {id})"),
                    field: None,
                }
            }
        }
    }
}

/// The field named in a serde message like "name: invalid type: …" or
/// "unknown field `x`".
fn field_of(message: &str) -> Option<String> {
    if let Some(rest) = message.split("unknown field `").nth(1) {
        return rest.split('`').next().map(str::to_owned);
    }
    if let Some(rest) = message.split("missing field `").nth(1) {
        return rest.split('`').next().map(str::to_owned);
    }
    let (candidate, _) = message.split_once(": ")?;
    let looks_like_path = !candidate.is_empty()
        && candidate.len() < 100
        && candidate.chars().all(|c| c.is_ascii_alphanumeric() || "_.[]".contains(c));
    looks_like_path.then(|| candidate.to_owned())
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> ApiError {
        let status = match &r {
            JsonRejection::MissingJsonContentType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            JsonRejection::BytesRejection(_) if r.body_text().contains("length limit") => StatusCode::PAYLOAD_TOO_LARGE,
            JsonRejection::JsonSyntaxError(_) => StatusCode::BAD_REQUEST,
            JsonRejection::JsonDataError(_) => StatusCode::UNPROCESSABLE_ENTITY,
            _ => r.status(),
        };
        let text = r.body_text();
        // axum prefixes "Failed to deserialize the JSON body into the target type: ".
        let detail = text
            .rsplit_once("target type: ")
            .or_else(|| text.split_once("as JSON: "))
            .map(|(_, d)| d.to_owned())
            .unwrap_or(text);
        let field = field_of(&detail);
        ApiError { status, message: detail, field }
    }
}

impl From<FormRejection> for ApiError {
    fn from(r: FormRejection) -> ApiError {
        let text = r.body_text();
        let field = field_of(text.split_once("form body: ").map(|(_, d)| d).unwrap_or(&text));
        ApiError { status: r.status(), message: text, field }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> ApiError {
        let text = r.body_text();
        let field = field_of(text.rsplit_once("string: ").map(|(_, d)| d).unwrap_or(&text));
        ApiError { status: StatusCode::BAD_REQUEST, message: text, field }
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, r.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let request_id = self.status.is_server_error().then(crate::metrics::request_id);
        let body = ErrorBody { status: self.status.as_u16(), error: self.message, field: self.field, request_id };
        (self.status, Json(body)).into_response()
    }
}

pub async fn not_found(uri: axum::http::Uri, headers: axum::http::HeaderMap) -> Response {
    if uri.path().starts_with("/api/") {
        ApiError::new(StatusCode::NOT_FOUND, format!("no such endpoint {}", uri.path())).into_response()
    } else {
        crate::ui::error_page(StatusCode::NOT_FOUND, crate::ui::lang_of(&headers), "error.not_found")
    }
}

#[cfg(test)]
mod tests {
    use super::field_of;

    #[test]
    fn serde_messages_name_their_field() {
        assert_eq!(field_of("unknown field `colour`, expected one of `name`").as_deref(), Some("colour"));
        assert_eq!(field_of("missing field `name` at line 1 column 2").as_deref(), Some("name"));
        assert_eq!(field_of("role: unknown variant `root`").as_deref(), Some("role"));
        assert_eq!(field_of("expected value at line 1 column 1"), None);
    }
}
