//! `/api/v1/plans` and `/api/v1/drills`: emergency plans and drills (issue
//! #7, R2.1 / R2.3). The roles that manage incidents write; every signed-in
//! caller reads. A `PUT` of a plan is a new version and needs a change note.

use anbao_store::{Drill, DrillDraft, DrillPatch, Plan, PlanDocument, PlanDraft, PlanScenario, PlanVersion};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::auth::{ClientAddr, Principal};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, Path, Query};

/// A plan with whether its review is overdue today.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PlanOut {
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub plan: Plan,
    pub review_overdue: bool,
}

fn plan_out(state: &AppState, plan: Plan) -> PlanOut {
    let today = state.store.clock().now().date();
    PlanOut { review_overdue: plan.review_overdue(today), plan }
}

#[utoipa::path(get, path = "/api/v1/plans", tag = "respond",
    responses((status = 200, body = Vec<PlanOut>, description = "every plan, the soonest review due first")))]
pub async fn list(State(state): State<AppState>, _p: Principal) -> Result<Json<Vec<PlanOut>>, ApiError> {
    let plans = state.store.list_plans().await?;
    Ok(Json(plans.into_iter().map(|p| plan_out(&state, p)).collect()))
}

#[utoipa::path(get, path = "/api/v1/plans/{id}", tag = "respond",
    params(("id" = i64, Path, description = "plan id")),
    responses((status = 200, body = PlanOut), (status = 404, body = ErrorBody)))]
pub async fn get(State(state): State<AppState>, _p: Principal, Path(id): Path<i64>) -> Result<Json<PlanOut>, ApiError> {
    let plan = state.store.get_plan(id).await?;
    Ok(Json(plan_out(&state, plan)))
}

/// The body limit of plan create and update: the largest document in
/// base64 (4 characters per 3 bytes) and room for the text fields. Without
/// it the server-wide 1 MiB limit refused documents far below
/// [`anbao_store::PLAN_DOC_MAX`].
pub const PLAN_BODY_LIMIT: usize = anbao_store::PLAN_DOC_MAX / 3 * 4 + 256 * 1024;

/// A document sent with a plan, its bytes in standard base64.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DocumentBody {
    pub name: String,
    pub content_base64: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanBody {
    pub title: String,
    pub owner: String,
    /// ddos, dns_failure, data_leak, malware, defacement, intrusion, outage, other.
    #[schema(value_type = Vec<String>)]
    pub scenarios: Vec<PlanScenario>,
    #[serde(default)]
    pub roles: String,
    #[serde(default)]
    pub contact_tree: String,
    pub steps: String,
    /// 1 to 60.
    pub review_cycle_months: i64,
    /// On `PUT`, leaving it out keeps the previous version's document.
    #[serde(default)]
    pub document: Option<DocumentBody>,
    /// Required on `PUT`; ignored on `POST`.
    #[serde(default)]
    pub change_note: String,
}

fn draft_of(b: PlanBody) -> Result<(PlanDraft, String), ApiError> {
    let document = match b.document {
        Some(d) => {
            let content = base64::engine::general_purpose::STANDARD
                .decode(d.content_base64.trim())
                .map_err(|_| ApiError::field("document", "content_base64 is not standard base64"))?;
            Some(PlanDocument { name: d.name, content })
        }
        None => None,
    };
    let draft = PlanDraft {
        title: b.title,
        owner: b.owner,
        scenarios: b.scenarios,
        roles: b.roles,
        contact_tree: b.contact_tree,
        steps: b.steps,
        review_cycle_months: b.review_cycle_months,
        document,
    };
    Ok((draft, b.change_note))
}

#[utoipa::path(post, path = "/api/v1/plans", tag = "respond", request_body = PlanBody,
    responses((status = 201, body = PlanOut), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    JsonBody(b): JsonBody<PlanBody>,
) -> Result<(StatusCode, Json<PlanOut>), ApiError> {
    let (draft, _) = draft_of(b)?;
    let plan = state.store.create_plan(&p.actor(&client), &draft).await?;
    Ok((StatusCode::CREATED, Json(plan_out(&state, plan))))
}

#[utoipa::path(put, path = "/api/v1/plans/{id}", tag = "respond", request_body = PlanBody,
    params(("id" = i64, Path, description = "plan id")),
    responses((status = 200, body = PlanOut, description = "the plan as its new version"),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<PlanBody>,
) -> Result<Json<PlanOut>, ApiError> {
    let (draft, note) = draft_of(b)?;
    let plan = state.store.update_plan(&p.actor(&client), id, &draft, &note).await?;
    Ok(Json(plan_out(&state, plan)))
}

#[utoipa::path(post, path = "/api/v1/plans/{id}/reviewed", tag = "respond",
    params(("id" = i64, Path, description = "plan id")),
    responses((status = 200, body = PlanOut, description = "reviewed today; next review a cycle from now"),
        (status = 404, body = ErrorBody)))]
pub async fn reviewed(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
) -> Result<Json<PlanOut>, ApiError> {
    let plan = state.store.mark_plan_reviewed(&p.actor(&client), id).await?;
    Ok(Json(plan_out(&state, plan)))
}

#[utoipa::path(get, path = "/api/v1/plans/{id}/versions", tag = "respond",
    params(("id" = i64, Path, description = "plan id")),
    responses((status = 200, description = "every version with its full content, newest first (document bytes not included)"),
        (status = 404, body = ErrorBody)))]
pub async fn versions(
    State(state): State<AppState>,
    _p: Principal,
    Path(id): Path<i64>,
) -> Result<Json<Vec<PlanVersion>>, ApiError> {
    Ok(Json(state.store.plan_versions(id).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DrillQuery {
    /// Only the drills of this plan.
    pub plan_id: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/drills", tag = "respond", params(DrillQuery),
    responses((status = 200, description = "drills, the latest scheduled first")))]
pub async fn list_drills(
    State(state): State<AppState>,
    _p: Principal,
    Query(q): Query<DrillQuery>,
) -> Result<Json<Vec<Drill>>, ApiError> {
    Ok(Json(state.store.list_drills(q.plan_id).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DrillBody {
    pub plan_id: i64,
    #[schema(value_type = String)]
    pub scenario: PlanScenario,
    /// `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM`.
    pub scheduled_at: String,
    #[serde(default)]
    pub participants: String,
}

#[utoipa::path(post, path = "/api/v1/drills", tag = "respond", request_body = DrillBody,
    responses((status = 201, description = "the drill, planned"), (status = 422, body = ErrorBody)))]
pub async fn create_drill(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    JsonBody(b): JsonBody<DrillBody>,
) -> Result<(StatusCode, Json<Drill>), ApiError> {
    let draft = DrillDraft {
        plan_id: b.plan_id,
        scenario: Some(b.scenario),
        scheduled_at: b.scheduled_at,
        participants: b.participants,
    };
    let drill = state.store.create_drill(&p.actor(&client), &draft).await?;
    Ok((StatusCode::CREATED, Json(drill)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DrillPatchBody {
    #[serde(default)]
    pub scheduled_at: Option<String>,
    #[serde(default)]
    pub participants: Option<String>,
    /// planned or done (done needs an evaluation).
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub evaluation: Option<String>,
    #[serde(default)]
    pub findings: Option<String>,
}

#[utoipa::path(patch, path = "/api/v1/drills/{id}", tag = "respond", request_body = DrillPatchBody,
    params(("id" = i64, Path, description = "drill id")),
    responses((status = 200, description = "the drill as changed"), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn update_drill(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<DrillPatchBody>,
) -> Result<Json<Drill>, ApiError> {
    let patch = DrillPatch {
        scheduled_at: b.scheduled_at,
        participants: b.participants,
        status: b.status,
        evaluation: b.evaluation,
        findings: b.findings,
    };
    Ok(Json(state.store.update_drill(&p.actor(&client), id, &patch).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExerciseBody {
    /// The unit the exercise incident belongs to; the caller's home unit if left out.
    #[serde(default)]
    pub org_unit_id: Option<i64>,
}

/// A drill and the exercise incident it now runs as.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ExerciseOut {
    #[schema(value_type = Object)]
    pub drill: Drill,
    #[schema(value_type = Object)]
    pub incident: anbao_store::Incident,
}

#[utoipa::path(post, path = "/api/v1/drills/{id}/exercise", tag = "respond", request_body = ExerciseBody,
    params(("id" = i64, Path, description = "drill id")),
    responses((status = 201, body = ExerciseOut), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "the drill already runs as an incident")))]
pub async fn start_exercise(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<ExerciseBody>,
) -> Result<(StatusCode, Json<ExerciseOut>), ApiError> {
    let unit = b.org_unit_id.unwrap_or(p.home_unit);
    if !p.scope.contains(unit) {
        return Err(ApiError::forbidden("the unit is outside your scope"));
    }
    let rules = crate::api::incidents::rules(&state)?;
    let (drill, incident) = state.store.start_drill_exercise(&p.actor(&client), id, unit, rules).await?;
    Ok((StatusCode::CREATED, Json(ExerciseOut { drill, incident })))
}
