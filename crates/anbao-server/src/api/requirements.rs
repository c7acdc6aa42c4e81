//! `/api/v1/requirements`: every requirement id of the guidance with its
//! status and evidence (see `compliance.rs`), as JSON or CSV.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::AppState;
use crate::auth::Principal;
use crate::compliance::{RequirementStatus, statuses};
use crate::error::{ApiError, ErrorBody};
use crate::extract::Query;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RequirementsQuery {
    /// `json` (default) or `csv`.
    pub format: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/requirements", tag = "govern", params(RequirementsQuery),
    responses((status = 200, body = [RequirementStatus]), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    p: Principal,
    Query(q): Query<RequirementsQuery>,
) -> Result<Response, ApiError> {
    let list = statuses(&state, &p).await?;
    match q.format.as_deref().unwrap_or("json") {
        "json" => Ok(Json(list).into_response()),
        "csv" => {
            let mut w = csv::Writer::from_writer(Vec::new());
            let err = |e: csv::Error| ApiError::bad_request(e.to_string());
            w.write_record(["id", "section", "title", "title_zh", "status", "evidence"]).map_err(err)?;
            for r in &list {
                let status =
                    serde_json::to_value(r.status).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
                let evidence: Vec<String> = r.evidence.iter().map(|e| format!("{}: {}", e.label, e.value)).collect();
                w.write_record([&r.id, &r.section, &r.title, &r.title_zh, &status, &evidence.join("; ")])
                    .map_err(err)?;
            }
            let body = w.into_inner().map_err(|e| ApiError::bad_request(e.to_string()))?;
            Ok((
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                    (header::CONTENT_DISPOSITION, "attachment; filename=\"anbao-requirements.csv\""),
                ],
                body,
            )
                .into_response())
        }
        other => Err(ApiError::field("format", format!("format: {other:?} is not json or csv"))),
    }
}
