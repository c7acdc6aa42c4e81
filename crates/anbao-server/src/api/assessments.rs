//! `/api/v1/assessments` and `/api/v1/remediation-tasks`: compliance
//! assessments of graded units against the protection-requirement
//! catalogue (R1.2), their evidence, and the tasks their findings become.

use anbao_model::catalogue::Catalogue;
use anbao_store::{Assessment, ItemResult, RemediationTask, parse_due};
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::auth::{ClientAddr, Principal};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, Path};

pub(crate) fn catalogue(config: &crate::ServerConfig) -> Result<&'static Catalogue, ApiError> {
    if let Some(c) = config.catalogue {
        return Ok(c);
    }
    Catalogue::builtin().map_err(|e| {
        tracing::error!(error = %e, "built-in requirement catalogue");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "the requirement catalogue does not load")
    })
}

/// The assessment if the caller may see its unit.
pub(crate) async fn visible(state: &AppState, p: &Principal, id: i64) -> Result<Assessment, ApiError> {
    let a = state.store.get_assessment(id).await?;
    crate::api::network_units::visible(state, p, a.network_unit_id)
        .await
        .map_err(|_| ApiError::not_found("assessment"))?;
    Ok(a)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartBody {
    pub network_unit_id: i64,
    /// Who assesses: a person or a third-party assessment body.
    pub assessor: String,
}

/// Starts an assessment over every catalogue requirement of the unit's level.
pub(crate) async fn start_for(
    state: &AppState,
    p: &Principal,
    client: &ClientAddr,
    unit_id: i64,
    assessor: &str,
) -> Result<Assessment, ApiError> {
    let unit = crate::api::network_units::visible(state, p, unit_id).await?;
    let Some(level) = unit.level else {
        return Err(ApiError::new(StatusCode::CONFLICT, "grade the unit before assessing it against its level"));
    };
    let ids: Vec<String> = catalogue(&state.config)?.for_level(level.order_tier()).map(|i| i.id.clone()).collect();
    Ok(state.store.start_assessment(&p.actor(client), unit_id, assessor, &ids).await?)
}

#[utoipa::path(post, path = "/api/v1/assessments", tag = "govern", request_body = StartBody,
    responses((status = 201, description = "the assessment with one item per applicable requirement"), (status = 409, body = ErrorBody)))]
pub async fn start(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    JsonBody(b): JsonBody<StartBody>,
) -> Result<(StatusCode, Json<Assessment>), ApiError> {
    Ok((StatusCode::CREATED, Json(start_for(&state, &p, &client, b.network_unit_id, &b.assessor).await?)))
}

#[utoipa::path(get, path = "/api/v1/assessments/{id}", tag = "govern", params(("id" = i64, Path, description = "assessment id")),
    responses((status = 200, description = "the assessment with its items and evidence"), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<i64>,
) -> Result<Json<Assessment>, ApiError> {
    Ok(Json(visible(&state, &p, id).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResultLine {
    pub requirement_id: String,
    /// met, partly, not_met, not_applicable or unassessed.
    pub result: String,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResultsBody {
    pub results: Vec<ResultLine>,
}

pub(crate) fn parse_result(i: usize, s: &str) -> Result<ItemResult, ApiError> {
    ItemResult::parse(s).ok_or_else(|| {
        ApiError::field(
            &format!("results[{i}].result"),
            format!("{s:?} is not met, partly, not_met, not_applicable or unassessed"),
        )
    })
}

#[utoipa::path(post, path = "/api/v1/assessments/{id}/results", tag = "govern", request_body = ResultsBody,
    params(("id" = i64, Path, description = "assessment id")),
    responses((status = 200, description = "the updated assessment"), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn results(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<ResultsBody>,
) -> Result<Json<Assessment>, ApiError> {
    visible(&state, &p, id).await?;
    let lines = b
        .results
        .into_iter()
        .enumerate()
        .map(|(i, l)| Ok((l.requirement_id, parse_result(i, &l.result)?, l.note)))
        .collect::<Result<Vec<_>, ApiError>>()?;
    Ok(Json(state.store.record_results(&p.actor(&client), id, &lines).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkEvidence {
    pub requirement_id: String,
    /// https:// link to the evidence (document system, ticket, report).
    pub link: String,
}

#[utoipa::path(post, path = "/api/v1/assessments/{id}/evidence", tag = "govern", request_body = LinkEvidence,
    params(("id" = i64, Path, description = "assessment id")),
    responses((status = 201, description = "the evidence record"), (status = 422, body = ErrorBody)))]
pub async fn add_link(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<LinkEvidence>,
) -> Result<(StatusCode, Json<anbao_store::Evidence>), ApiError> {
    visible(&state, &p, id).await?;
    let e = state.store.add_evidence(&p.actor(&client), id, &b.requirement_id, None, &b.link).await?;
    Ok((StatusCode::CREATED, Json(e)))
}

/// Downloads an evidence file. Always as an attachment of an opaque type,
/// so an uploaded HTML or SVG file cannot run in the platform's origin.
#[utoipa::path(get, path = "/api/v1/assessments/{id}/evidence/{evidence_id}", tag = "govern",
    params(("id" = i64, Path, description = "assessment id"), ("evidence_id" = i64, Path, description = "evidence id")),
    responses((status = 200, description = "the file"), (status = 404, body = ErrorBody)))]
pub async fn download(
    State(state): State<AppState>,
    p: Principal,
    Path((id, evidence_id)): Path<(i64, i64)>,
) -> Result<Response, ApiError> {
    visible(&state, &p, id).await?;
    let (ev, bytes) = state.store.evidence_file(id, evidence_id).await?;
    let ascii: String = ev.file_name.chars().filter(|c| c.is_ascii_alphanumeric() || "._-".contains(*c)).collect();
    let fallback = if ascii.trim_start_matches('.').is_empty() { format!("evidence-{evidence_id}") } else { ascii };
    // RFC 6266: an ASCII fallback plus the real (e.g. Chinese) name, percent-encoded.
    let encoded = crate::ui::urlencode(&ev.file_name).replace('/', "%2F");
    let disposition = format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}");
    Ok((
        [(header::CONTENT_TYPE, "application/octet-stream".to_owned()), (header::CONTENT_DISPOSITION, disposition)],
        bytes,
    )
        .into_response())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteBody {
    /// Who owns the remediation tasks the findings become.
    pub owner: String,
    /// YYYY-MM-DD.
    pub due_on: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Completed {
    #[schema(value_type = Object)]
    pub assessment: Assessment,
    #[schema(value_type = Vec<Object>)]
    pub tasks: Vec<RemediationTask>,
}

#[utoipa::path(post, path = "/api/v1/assessments/{id}/complete", tag = "govern", request_body = CompleteBody,
    params(("id" = i64, Path, description = "assessment id")),
    responses((status = 200, body = Completed), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn complete(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<CompleteBody>,
) -> Result<Json<Completed>, ApiError> {
    visible(&state, &p, id).await?;
    let due = parse_due(&b.due_on).map_err(|e| ApiError::field(e.field, e.to_string()))?;
    let (assessment, tasks) = state.store.complete_assessment(&p.actor(&client), id, &b.owner, due).await?;
    Ok(Json(Completed { assessment, tasks }))
}

#[utoipa::path(get, path = "/api/v1/remediation-tasks", tag = "govern", responses((status = 200, description = "tasks, open first")))]
pub async fn tasks(State(state): State<AppState>, p: Principal) -> Result<Json<Vec<RemediationTask>>, ApiError> {
    Ok(Json(state.store.list_tasks(p.scope_filter().as_deref()).await?))
}

#[utoipa::path(post, path = "/api/v1/remediation-tasks/{id}/close", tag = "govern", params(("id" = i64, Path, description = "task id")),
    responses((status = 200, description = "the closed task"), (status = 404, body = ErrorBody)))]
pub async fn close_task(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
) -> Result<Json<RemediationTask>, ApiError> {
    if !state.store.list_tasks(p.scope_filter().as_deref()).await?.iter().any(|t| t.id == id) {
        return Err(ApiError::not_found("task"));
    }
    Ok(Json(state.store.close_task(&p.actor(&client), id).await?))
}
