//! `/api/v1/network-units` and `/api/v1/grading`: network units graded and
//! filed under MIIT Order No. 11 (R1.1), the grading wizard's rules and
//! proposals, and the Order's deadlines (`/api/v1/deadlines`).

use anbao_model::deadlines::{Due, Status, obligations};
use anbao_model::grading::{GradeLevel, GradingAnswers, GradingProposal, GradingRules, MlpsLevel};
use anbao_store::{AssessmentKind, NetworkUnit, NetworkUnitDraft, date_text, parse_date};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::auth::{ClientAddr, Principal};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, Path};

#[derive(Serialize, utoipa::ToSchema)]
pub struct DueView {
    /// filing, refiling, compliance_assessment or risk_assessment.
    pub obligation: String,
    /// YYYY-MM-DD.
    pub due: String,
    /// The date the deadline counts from.
    pub since: String,
    /// upcoming, due_soon or overdue.
    pub status: String,
    /// Days until due (negative when overdue).
    pub days_left: i64,
    pub network_unit_id: i64,
    pub network_unit: String,
}

pub fn due_view(unit: &NetworkUnit, d: &Due) -> DueView {
    let (status, days_left) = match d.status {
        Status::Upcoming => ("upcoming", (d.due - d.since).whole_days()),
        Status::DueSoon { days_left } => ("due_soon", days_left),
        Status::Overdue { days } => ("overdue", -days),
    };
    DueView {
        obligation: d.obligation.as_str().to_owned(),
        due: date_text(d.due),
        since: date_text(d.since),
        status: status.to_owned(),
        days_left,
        network_unit_id: unit.id,
        network_unit: unit.name.clone(),
    }
}

/// Every outstanding obligation of the units in the caller's scope, soonest first.
pub async fn deadlines_for(state: &AppState, p: &Principal) -> Result<Vec<(NetworkUnit, Due)>, ApiError> {
    let today = state.store.clock().now().date();
    let units = state.store.list_network_units(p.scope_filter().as_deref()).await?;
    let mut all: Vec<(NetworkUnit, Due)> = units
        .into_iter()
        .flat_map(|u| {
            let dues = u.dates().map(|d| obligations(&d, today)).unwrap_or_default();
            dues.into_iter().map(move |d| (u.clone(), d))
        })
        .collect();
    all.sort_by_key(|(_, d)| d.due);
    Ok(all)
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct NetworkUnitView {
    pub id: i64,
    pub org_unit_id: i64,
    pub name: String,
    pub main_function: String,
    pub responsible_person: String,
    pub topology: String,
    pub boundary: String,
    pub key_facilities: String,
    /// MLPS (GB/T 22239) level 1–5, separate from the MIIT grade.
    pub mlps_level: Option<String>,
    /// draft, graded, reviewed or filed.
    pub status: String,
    /// MIIT grade: 1, 2, 3, 3.1, 3.2, 4 or 5.
    pub level: Option<String>,
    /// The wizard's proposal: answers, rules fired, deciding rule.
    #[schema(value_type = Option<Object>)]
    pub grading: Option<serde_json::Value>,
    pub level_override_reason: String,
    pub review_passed: Option<String>,
    pub reviewers: String,
    pub review_opinion: String,
    pub filed: Option<String>,
    pub filing_number: String,
    pub last_change: Option<String>,
    pub last_compliance_assessment: Option<String>,
    pub last_risk_assessment: Option<String>,
    pub asset_ids: Vec<i64>,
    /// Outstanding obligations under the Order.
    pub deadlines: Vec<DueView>,
}

pub fn unit_view(u: NetworkUnit, today: time::Date) -> NetworkUnitView {
    let deadlines =
        u.dates().map(|d| obligations(&d, today)).unwrap_or_default().iter().map(|d| due_view(&u, d)).collect();
    NetworkUnitView {
        id: u.id,
        org_unit_id: u.org_unit_id,
        name: u.name,
        main_function: u.main_function,
        responsible_person: u.responsible_person,
        topology: u.topology,
        boundary: u.boundary,
        key_facilities: u.key_facilities,
        mlps_level: u.mlps_level.map(|m| m.to_string()),
        status: u.status.as_str().to_owned(),
        level: u.level.map(|l| l.to_string()),
        grading: u.grading.as_ref().and_then(|g| serde_json::to_value(g).ok()),
        level_override_reason: u.level_override_reason,
        review_passed: u.review_passed.map(date_text),
        reviewers: u.reviewers,
        review_opinion: u.review_opinion,
        filed: u.filed.map(date_text),
        filing_number: u.filing_number,
        last_change: u.last_change.map(date_text),
        last_compliance_assessment: u.last_compliance_assessment.map(date_text),
        last_risk_assessment: u.last_risk_assessment.map(date_text),
        asset_ids: u.asset_ids,
        deadlines,
    }
}

fn today(state: &AppState) -> time::Date {
    state.store.clock().now().date()
}

pub(crate) async fn visible(state: &AppState, p: &Principal, id: i64) -> Result<NetworkUnit, ApiError> {
    let u = state.store.get_network_unit(id).await?;
    if !p.scope.contains(u.org_unit_id) {
        return Err(ApiError::not_found("network unit"));
    }
    Ok(u)
}

#[utoipa::path(get, path = "/api/v1/network-units", tag = "govern", responses((status = 200, body = [NetworkUnitView])))]
pub async fn list(State(state): State<AppState>, p: Principal) -> Result<Json<Vec<NetworkUnitView>>, ApiError> {
    let t = today(&state);
    let units = state.store.list_network_units(p.scope_filter().as_deref()).await?;
    Ok(Json(units.into_iter().map(|u| unit_view(u, t)).collect()))
}

#[utoipa::path(get, path = "/api/v1/network-units/{id}", tag = "govern", params(("id" = i64, Path, description = "network unit id")),
    responses((status = 200, body = NetworkUnitView), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<i64>,
) -> Result<Json<NetworkUnitView>, ApiError> {
    Ok(Json(unit_view(visible(&state, &p, id).await?, today(&state))))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NetworkUnitBody {
    pub org_unit_id: i64,
    pub name: String,
    #[serde(default)]
    pub main_function: String,
    pub responsible_person: String,
    #[serde(default)]
    pub topology: String,
    #[serde(default)]
    pub boundary: String,
    #[serde(default)]
    pub key_facilities: String,
    /// "1" … "5".
    #[schema(value_type = Option<String>)]
    pub mlps_level: Option<MlpsLevel>,
}

impl NetworkUnitBody {
    fn draft(self, p: &Principal) -> Result<NetworkUnitDraft, ApiError> {
        if !p.scope.contains(self.org_unit_id) {
            return Err(ApiError::field("org_unit_id", "org_unit_id: outside your scope or does not exist"));
        }
        Ok(NetworkUnitDraft {
            org_unit_id: self.org_unit_id,
            name: self.name,
            main_function: self.main_function,
            responsible_person: self.responsible_person,
            topology: self.topology,
            boundary: self.boundary,
            key_facilities: self.key_facilities,
            mlps_level: self.mlps_level,
        })
    }
}

#[utoipa::path(post, path = "/api/v1/network-units", tag = "govern", request_body = NetworkUnitBody,
    responses((status = 201, body = NetworkUnitView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    JsonBody(b): JsonBody<NetworkUnitBody>,
) -> Result<(StatusCode, Json<NetworkUnitView>), ApiError> {
    let unit = state.store.create_network_unit(&p.actor(&client), &b.draft(&p)?).await?;
    Ok((StatusCode::CREATED, Json(unit_view(unit, today(&state)))))
}

#[utoipa::path(put, path = "/api/v1/network-units/{id}", tag = "govern", request_body = NetworkUnitBody,
    params(("id" = i64, Path, description = "network unit id")),
    responses((status = 200, body = NetworkUnitView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn replace(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<NetworkUnitBody>,
) -> Result<Json<NetworkUnitView>, ApiError> {
    visible(&state, &p, id).await?;
    let unit = state.store.update_network_unit(&p.actor(&client), id, &b.draft(&p)?).await?;
    Ok(Json(unit_view(unit, today(&state))))
}

#[utoipa::path(delete, path = "/api/v1/network-units/{id}", tag = "govern", params(("id" = i64, Path, description = "network unit id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    visible(&state, &p, id).await?;
    state.store.delete_network_unit(&p.actor(&client), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssetIds {
    pub asset_ids: Vec<i64>,
}

#[utoipa::path(put, path = "/api/v1/network-units/{id}/assets", tag = "govern", request_body = AssetIds,
    params(("id" = i64, Path, description = "network unit id")),
    responses((status = 200, body = NetworkUnitView), (status = 422, body = ErrorBody)))]
pub async fn set_assets(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<AssetIds>,
) -> Result<Json<NetworkUnitView>, ApiError> {
    visible(&state, &p, id).await?;
    for a in &b.asset_ids {
        if crate::api::assets::visible(&state, &p, *a).await.is_err() {
            return Err(ApiError::field(
                "asset_ids",
                format!("asset_ids: asset {a} is outside your scope or does not exist"),
            ));
        }
    }
    let unit = state.store.set_network_unit_assets(&p.actor(&client), id, &b.asset_ids).await?;
    Ok(Json(unit_view(unit, today(&state))))
}

pub(crate) fn rules(config: &crate::ServerConfig) -> Result<&'static GradingRules, ApiError> {
    if let Some(r) = config.grading_rules {
        return Ok(r);
    }
    GradingRules::builtin().map_err(|e| {
        tracing::error!(error = %e, "built-in grading rules");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "the grading rules do not load")
    })
}

/// The wizard's questions: factors with their answer options and sources.
#[utoipa::path(get, path = "/api/v1/grading/rules", tag = "govern", responses((status = 200, description = "factors, options and rules")))]
pub async fn grading_rules(State(state): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    let r = rules(&state.config)?;
    let factors: Vec<serde_json::Value> = r
        .factors()
        .iter()
        .map(|f| {
            serde_json::json!({
                "id": f.id, "zh": f.zh, "en": f.en, "source": f.source,
                "options": f.options.iter().map(|o| serde_json::json!({"id": o.id, "zh": o.zh, "en": o.en})).collect::<Vec<_>>(),
            })
        })
        .collect();
    let rule_list: Vec<serde_json::Value> = r
        .rules()
        .iter()
        .map(|x| serde_json::json!({"id": x.id, "when": x.when, "level": x.level, "reason_en": x.reason_en, "source": x.source}))
        .collect();
    Ok(Json(serde_json::json!({ "version": r.version(), "factors": factors, "rules": rule_list })))
}

pub(crate) fn propose_answers(
    config: &crate::ServerConfig,
    answers: &GradingAnswers,
) -> Result<GradingProposal, ApiError> {
    rules(config)?.propose(answers).map_err(|e| {
        let field = match &e {
            anbao_model::grading::AnswerError::Missing { factor }
            | anbao_model::grading::AnswerError::UnknownFactor { factor }
            | anbao_model::grading::AnswerError::UnknownOption { factor, .. } => format!("answers.{factor}"),
            _ => "answers".to_owned(),
        };
        ApiError::field(&field, e.to_string())
    })
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProposeBody {
    /// factor id → option id.
    #[schema(value_type = Object)]
    pub answers: GradingAnswers,
}

/// The proposed level and its reasoning for a set of answers; changes nothing.
#[utoipa::path(post, path = "/api/v1/grading/propose", tag = "govern", request_body = ProposeBody,
    responses((status = 200, description = "proposal with level, deciding rule and every rule fired"), (status = 422, body = ErrorBody)))]
pub async fn propose(
    State(state): State<AppState>,
    JsonBody(b): JsonBody<ProposeBody>,
) -> Result<Json<GradingProposal>, ApiError> {
    Ok(Json(propose_answers(&state.config, &b.answers)?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GradeBody {
    #[schema(value_type = Object)]
    pub answers: GradingAnswers,
    /// A level other than the proposal (needs `override_reason`).
    #[schema(value_type = Option<String>)]
    pub level: Option<GradeLevel>,
    #[serde(default)]
    pub override_reason: String,
}

#[utoipa::path(post, path = "/api/v1/network-units/{id}/grading", tag = "govern", request_body = GradeBody,
    params(("id" = i64, Path, description = "network unit id")),
    responses((status = 200, body = NetworkUnitView), (status = 422, body = ErrorBody)))]
pub async fn grade(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<GradeBody>,
) -> Result<Json<NetworkUnitView>, ApiError> {
    visible(&state, &p, id).await?;
    let proposal = propose_answers(&state.config, &b.answers)?;
    let level = b.level.unwrap_or(proposal.level);
    let unit = state.store.record_grading(&p.actor(&client), id, &proposal, level, &b.override_reason).await?;
    Ok(Json(unit_view(unit, today(&state))))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewBody {
    /// YYYY-MM-DD.
    pub passed_on: String,
    pub reviewers: String,
    #[serde(default)]
    pub opinion: String,
}

#[utoipa::path(post, path = "/api/v1/network-units/{id}/review", tag = "govern", request_body = ReviewBody,
    params(("id" = i64, Path, description = "network unit id")),
    responses((status = 200, body = NetworkUnitView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn review(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<ReviewBody>,
) -> Result<Json<NetworkUnitView>, ApiError> {
    visible(&state, &p, id).await?;
    let on = parse_date("passed_on", &b.passed_on).map_err(|e| ApiError::field(e.field, e.to_string()))?;
    let unit = state.store.record_review(&p.actor(&client), id, on, &b.reviewers, &b.opinion).await?;
    Ok(Json(unit_view(unit, today(&state))))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FilingBody {
    /// YYYY-MM-DD.
    pub filed_on: String,
    #[serde(default)]
    pub filing_number: String,
}

#[utoipa::path(post, path = "/api/v1/network-units/{id}/filing", tag = "govern", request_body = FilingBody,
    params(("id" = i64, Path, description = "network unit id")),
    responses((status = 200, body = NetworkUnitView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn file(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<FilingBody>,
) -> Result<Json<NetworkUnitView>, ApiError> {
    visible(&state, &p, id).await?;
    let on = parse_date("filed_on", &b.filed_on).map_err(|e| ApiError::field(e.field, e.to_string()))?;
    let unit = state.store.record_filing(&p.actor(&client), id, on, &b.filing_number).await?;
    Ok(Json(unit_view(unit, today(&state))))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssessmentBody {
    /// `compliance` (符合性评测) or `risk` (风险评估).
    pub kind: String,
    /// YYYY-MM-DD.
    pub completed_on: String,
}

pub(crate) fn assessment_kind(s: &str) -> Result<AssessmentKind, ApiError> {
    match s {
        "compliance" => Ok(AssessmentKind::Compliance),
        "risk" => Ok(AssessmentKind::Risk),
        other => Err(ApiError::field("kind", format!("kind: {other:?} is not compliance or risk"))),
    }
}

#[utoipa::path(post, path = "/api/v1/network-units/{id}/assessments", tag = "govern", request_body = AssessmentBody,
    params(("id" = i64, Path, description = "network unit id")),
    responses((status = 200, body = NetworkUnitView), (status = 422, body = ErrorBody)))]
pub async fn record_assessment(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<AssessmentBody>,
) -> Result<Json<NetworkUnitView>, ApiError> {
    visible(&state, &p, id).await?;
    let kind = assessment_kind(&b.kind)?;
    let on = parse_date("completed_on", &b.completed_on).map_err(|e| ApiError::field(e.field, e.to_string()))?;
    let unit = state.store.record_assessment(&p.actor(&client), id, kind, on).await?;
    Ok(Json(unit_view(unit, today(&state))))
}

/// The filing record (备案表) as data: what a filing with the regulator holds.
#[derive(Serialize, utoipa::ToSchema)]
pub struct FilingForm {
    pub unit_name: String,
    pub level: Option<String>,
    pub mlps_level: Option<String>,
    pub main_function: String,
    /// Path of the responsible organisation unit.
    pub responsible_unit: String,
    pub responsible_person: String,
    pub topology: String,
    pub boundary: String,
    pub key_facilities: String,
    /// Main hardware and software: from the inventory of the unit's assets.
    pub main_equipment: Vec<EquipmentLine>,
    pub grading_reason: Vec<String>,
    pub review_passed: Option<String>,
    pub reviewers: String,
    pub filed: Option<String>,
    pub filing_number: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct EquipmentLine {
    pub asset: String,
    pub kind: String,
    pub vendor: String,
    pub product: String,
    pub version: String,
}

pub(crate) async fn filing_form_for(
    state: &AppState,
    unit: &NetworkUnit,
    english: bool,
) -> Result<FilingForm, ApiError> {
    let units = state.store.list_org_units().await?;
    let tree = anbao_model::org::OrgTree::new(&units);
    let mut equipment = Vec::new();
    for a in &unit.asset_ids {
        let asset = state.store.get_asset(*a).await?;
        if asset.components.is_empty() {
            equipment.push(EquipmentLine {
                asset: asset.name.clone(),
                kind: asset.asset_type.to_string(),
                vendor: asset.attributes.get("vendor").cloned().unwrap_or_default(),
                product: asset.attributes.get("model").cloned().unwrap_or_default(),
                version: String::new(),
            });
        }
        for c in &asset.components {
            equipment.push(EquipmentLine {
                asset: asset.name.clone(),
                kind: c.kind.to_string(),
                vendor: c.vendor.clone(),
                product: c.product.clone(),
                version: c.version.clone(),
            });
        }
    }
    let grading_reason = unit
        .grading
        .as_ref()
        .map(|g| {
            g.fired
                .iter()
                .chain(g.split.iter())
                .map(|f| if english { f.reason_en.clone() } else { f.reason_zh.clone() })
                .collect()
        })
        .unwrap_or_default();
    Ok(FilingForm {
        unit_name: unit.name.clone(),
        level: unit.level.map(|l| l.to_string()),
        mlps_level: unit.mlps_level.map(|m| m.to_string()),
        main_function: unit.main_function.clone(),
        responsible_unit: tree.path(unit.org_unit_id),
        responsible_person: unit.responsible_person.clone(),
        topology: unit.topology.clone(),
        boundary: unit.boundary.clone(),
        key_facilities: unit.key_facilities.clone(),
        main_equipment: equipment,
        grading_reason,
        review_passed: unit.review_passed.map(date_text),
        reviewers: unit.reviewers.clone(),
        filed: unit.filed.map(date_text),
        filing_number: unit.filing_number.clone(),
    })
}

#[utoipa::path(get, path = "/api/v1/network-units/{id}/filing-form", tag = "govern", params(("id" = i64, Path, description = "network unit id")),
    responses((status = 200, body = FilingForm), (status = 404, body = ErrorBody)))]
pub async fn filing_form(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<i64>,
) -> Result<Json<FilingForm>, ApiError> {
    let unit = visible(&state, &p, id).await?;
    Ok(Json(filing_form_for(&state, &unit, false).await?))
}

#[utoipa::path(get, path = "/api/v1/deadlines", tag = "govern", responses((status = 200, body = [DueView])))]
pub async fn deadlines(State(state): State<AppState>, p: Principal) -> Result<Json<Vec<DueView>>, ApiError> {
    Ok(Json(deadlines_for(&state, &p).await?.iter().map(|(u, d)| due_view(u, d)).collect()))
}
