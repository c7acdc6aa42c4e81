//! `/api/v1/incidents/{id}/tasks` and `/api/v1/incidents/{id}/messages`:
//! case work on an incident (issue #7, R2.6). Tasks carry an assignee (an
//! active user), a due time and a status; each change is audited and
//! written to the incident's timeline. Messages are short notes shown on
//! the command-and-dispatch board.

use anbao_model::Timestamp;
use anbao_model::clock::parse_ts;
use anbao_model::incident::TaskStatus;
use anbao_store::{IncidentMessage, IncidentTask, TaskDraft, TaskPatch};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::api::incidents::visible;
use crate::auth::{ClientAddr, Principal};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, Path};

/// How many messages the list and the board show (the newest).
pub const MESSAGES_SHOWN: i64 = 200;

/// A due time: RFC 3339, or `YYYY-MM-DDTHH:MM` as a browser's
/// `datetime-local` field sends it, read as UTC (the pages show UTC).
/// Empty: none.
pub(crate) fn parse_due(s: &str) -> Result<Option<Timestamp>, ApiError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    parse_ts(s)
        .or_else(|_| parse_ts(&format!("{s}:00Z")))
        .map(Some)
        .map_err(|_| ApiError::field("due_at", format!("due_at: {s:?} is not an RFC 3339 time")))
}

/// A task as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TaskOut {
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub task: IncidentTask,
    /// Open or in progress, and past its due time now.
    pub overdue: bool,
}

pub(crate) fn task_out(state: &AppState, task: IncidentTask) -> TaskOut {
    let overdue = task.is_overdue(state.store.clock().now());
    TaskOut { task, overdue }
}

#[utoipa::path(get, path = "/api/v1/incidents/{id}/tasks", tag = "respond",
    params(("id" = i64, Path, description = "incident id")),
    responses((status = 200, body = Vec<TaskOut>), (status = 404, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<i64>,
) -> Result<Json<Vec<TaskOut>>, ApiError> {
    visible(&state, &p, id).await?;
    let tasks = state.store.incident_tasks(id).await?;
    Ok(Json(tasks.into_iter().map(|t| task_out(&state, t)).collect()))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskBody {
    /// What is to be done (at most 200 characters).
    pub title: String,
    /// An active user's name; absent or empty: nobody yet.
    #[serde(default)]
    pub assignee: String,
    /// RFC 3339; absent: no due time.
    #[serde(default)]
    pub due_at: Option<String>,
    /// task (default: case work) or follow_up (an action from the
    /// post-incident review, listed in the final report).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub kind: Option<anbao_model::incident::TaskKind>,
}

#[utoipa::path(post, path = "/api/v1/incidents/{id}/tasks", tag = "respond", request_body = TaskBody,
    params(("id" = i64, Path, description = "incident id")),
    responses((status = 201, body = TaskOut), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<TaskBody>,
) -> Result<(StatusCode, Json<TaskOut>), ApiError> {
    visible(&state, &p, id).await?;
    let due_at = parse_due(b.due_at.as_deref().unwrap_or_default())?;
    let draft = TaskDraft { title: b.title, assignee: b.assignee, due_at, kind: b.kind.unwrap_or_default() };
    let task = state.store.create_incident_task(&p.actor(&client), id, &draft).await?;
    Ok((StatusCode::CREATED, Json(task_out(&state, task))))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskPatchBody {
    #[serde(default)]
    pub title: Option<String>,
    /// An active user's name; empty unassigns.
    #[serde(default)]
    pub assignee: Option<String>,
    /// RFC 3339; empty removes the due time.
    #[serde(default)]
    pub due_at: Option<String>,
    /// open, in_progress, done or cancelled.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub status: Option<TaskStatus>,
}

#[utoipa::path(patch, path = "/api/v1/incidents/{id}/tasks/{task}", tag = "respond", request_body = TaskPatchBody,
    params(("id" = i64, Path, description = "incident id"), ("task" = i64, Path, description = "task id")),
    responses((status = 200, body = TaskOut), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path((id, task_id)): Path<(i64, i64)>,
    JsonBody(b): JsonBody<TaskPatchBody>,
) -> Result<Json<TaskOut>, ApiError> {
    visible(&state, &p, id).await?;
    let due_at = match b.due_at.as_deref() {
        None => None,
        Some(s) => Some(parse_due(s)?),
    };
    let patch = TaskPatch { title: b.title, assignee: b.assignee, due_at, status: b.status };
    let task = state.store.update_incident_task(&p.actor(&client), id, task_id, &patch).await?;
    Ok(Json(task_out(&state, task)))
}

#[utoipa::path(get, path = "/api/v1/incidents/{id}/messages", tag = "respond",
    params(("id" = i64, Path, description = "incident id")),
    responses((status = 200, description = "the newest 200 messages, oldest first"), (status = 404, body = ErrorBody)))]
pub async fn messages(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<i64>,
) -> Result<Json<Vec<IncidentMessage>>, ApiError> {
    visible(&state, &p, id).await?;
    Ok(Json(state.store.incident_messages(id, MESSAGES_SHOWN).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageBody {
    /// At most 1000 characters.
    pub body: String,
}

#[utoipa::path(post, path = "/api/v1/incidents/{id}/messages", tag = "respond", request_body = MessageBody,
    params(("id" = i64, Path, description = "incident id")),
    responses((status = 201, description = "the message"), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn post_message(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<MessageBody>,
) -> Result<(StatusCode, Json<IncidentMessage>), ApiError> {
    visible(&state, &p, id).await?;
    let m = state.store.post_incident_message(&p.actor(&client), id, &b.body).await?;
    Ok((StatusCode::CREATED, Json(m)))
}
