//! `/api/v1/incidents`: incidents graded by the MIIT emergency plan (issue
//! #7, R2.5) with their reporting deadline. `POST /api/v1/incidents/grade`
//! grades a set of facts without recording anything (the form's live
//! preview uses it); every role that reads incidents may call it.

use anbao_model::clock::{Timestamp, format_ts, parse_ts};
use anbao_model::incident::{
    AreaScope, IncidentFacts, IncidentGrade, IncidentLevel, IncidentRules, IncidentStatus, IncidentType, Influence,
    OperatorCategory, ReportDeadline,
};
use anbao_store::{Incident, IncidentDraft, IncidentFilter, TimelineEntry};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::api::alerts::AssetRef;
use crate::auth::{ClientAddr, Principal};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, Path, Query};

/// The grading rules in force: the operator's, or the shipped ones.
pub(crate) fn rules(state: &AppState) -> Result<&'static IncidentRules, ApiError> {
    match state.config.incident_rules {
        Some(r) => Ok(r),
        None => IncidentRules::builtin().map_err(|e| {
            tracing::error!(error = %e, "shipped incident rules");
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "incident grading rules unavailable")
        }),
    }
}

/// The facts of an incident as the API takes them; absent means "not
/// affected".
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FactsBody {
    /// none, city, province, multi_province or nationwide.
    #[serde(default)]
    #[schema(value_type = String)]
    pub users_offline_scope: AreaScope,
    /// Personal-information records of internet users leaked ("以上":
    /// a threshold itself counts, e.g. exactly 100000 is level IV).
    #[serde(default)]
    pub records_leaked: u64,
    /// The .CN national top-level domain system's resolution is degraded.
    #[serde(default)]
    pub national_tld_affected: bool,
    /// A large DNS resolution system is seriously abnormal.
    #[serde(default)]
    pub large_dns_affected: bool,
    /// none, provincial or national.
    #[serde(default)]
    #[schema(value_type = String)]
    pub platform_influence: Influence,
    /// none, city, province, multi_province or nationwide.
    #[serde(default)]
    #[schema(value_type = String)]
    pub malware_spread_scope: AreaScope,
}

impl From<FactsBody> for IncidentFacts {
    fn from(b: FactsBody) -> IncidentFacts {
        IncidentFacts {
            users_offline_scope: b.users_offline_scope,
            records_leaked: b.records_leaked,
            national_tld_affected: b.national_tld_affected,
            large_dns_affected: b.large_dns_affected,
            platform_influence: b.platform_influence,
            malware_spread_scope: b.malware_spread_scope,
        }
    }
}

/// Facts to grade, with the discovery time and operator category the
/// reporting deadline depends on. Flat, as the form sends it.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GradeBody {
    /// none, city, province, multi_province or nationwide.
    #[serde(default)]
    #[schema(value_type = String)]
    pub users_offline_scope: AreaScope,
    /// Personal-information records leaked; a threshold itself counts.
    #[serde(default)]
    pub records_leaked: u64,
    #[serde(default)]
    pub national_tld_affected: bool,
    #[serde(default)]
    pub large_dns_affected: bool,
    /// none, provincial or national.
    #[serde(default)]
    #[schema(value_type = String)]
    pub platform_influence: Influence,
    /// none, city, province, multi_province or nationwide.
    #[serde(default)]
    #[schema(value_type = String)]
    pub malware_spread_scope: AreaScope,
    /// RFC 3339; default now.
    #[serde(default)]
    pub discovered_at: Option<String>,
    /// cii, central or other; default the instance's `operator_category`.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub operator_category: Option<OperatorCategory>,
}

impl GradeBody {
    fn facts(&self) -> IncidentFacts {
        IncidentFacts {
            users_offline_scope: self.users_offline_scope,
            records_leaked: self.records_leaked,
            national_tld_affected: self.national_tld_affected,
            large_dns_affected: self.large_dns_affected,
            platform_influence: self.platform_influence,
            malware_spread_scope: self.malware_spread_scope,
        }
    }
}

/// The criterion that decided.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CriterionOut {
    pub id: String,
    /// Where it comes from, e.g. "Plan 3.2(4)".
    pub article: String,
    pub zh: String,
    pub en: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct GradeOut {
    /// I, II, III, IV or none.
    pub level: String,
    /// The plan's name of the level: 特别重大, 重大, 较大, 一般.
    pub level_zh: String,
    pub criterion: Option<CriterionOut>,
    /// Why, in English.
    pub explanation: String,
    pub explanation_zh: String,
    /// Ids of every criterion that holds, highest level first.
    pub matched: Vec<String>,
    pub rules_version: String,
    pub operator_category: String,
    /// None when the level starts no reporting clock.
    pub report_within_minutes: Option<u32>,
    /// RFC 3339.
    pub report_by: Option<String>,
    /// The plan asks for an immediate report as well (levels I and II).
    pub report_immediately: bool,
}

impl GradeOut {
    pub(crate) fn new(g: &IncidentGrade, category: OperatorCategory, d: &ReportDeadline) -> GradeOut {
        GradeOut {
            level: g.level.as_str().to_owned(),
            level_zh: g.level.zh().to_owned(),
            criterion: g.criterion.as_ref().map(|c| CriterionOut {
                id: c.id.clone(),
                article: c.article.clone(),
                zh: c.zh.clone(),
                en: c.en.clone(),
            }),
            explanation: g.explanation_en(),
            explanation_zh: g.explanation_zh(),
            matched: g.matched.clone(),
            rules_version: g.rules_version.clone(),
            operator_category: category.as_str().to_owned(),
            report_within_minutes: d.within_minutes,
            report_by: d.by.map(format_ts),
            report_immediately: d.immediately,
        }
    }
}

pub(crate) fn discovered(state: &AppState, s: Option<&str>) -> Result<Timestamp, ApiError> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(state.store.clock().now()),
        Some(s) => parse_ts(s).map_err(|e| {
            ApiError::field("discovered_at", format!("discovered_at: {s:?} is not an RFC 3339 time: {e}"))
        }),
    }
}

/// Grades facts and computes the deadline.
pub(crate) fn grade_facts(
    state: &AppState,
    facts: &IncidentFacts,
    category: OperatorCategory,
    at: Timestamp,
) -> Result<(IncidentGrade, ReportDeadline), ApiError> {
    let r = rules(state)?;
    let g = r.grade(facts);
    let d = r.deadline(g.level, category, at);
    Ok((g, d))
}

#[utoipa::path(post, path = "/api/v1/incidents/grade", tag = "respond", request_body = GradeBody,
    responses((status = 200, body = GradeOut, description = "the level, the deciding criterion and the reporting deadline; nothing is recorded"),
        (status = 422, body = ErrorBody, description = "an unknown value, naming the field")))]
pub async fn grade(
    State(state): State<AppState>,
    _p: Principal,
    JsonBody(b): JsonBody<GradeBody>,
) -> Result<Json<GradeOut>, ApiError> {
    let at = discovered(&state, b.discovered_at.as_deref())?;
    let category = b.operator_category.unwrap_or(state.config.operator_category);
    let facts = b.facts();
    let (g, d) = grade_facts(&state, &facts, category, at)?;
    Ok(Json(GradeOut::new(&g, category, &d)))
}

// ---------------------------------------------------------------------------
// Recorded incidents.

/// The incident if the principal's scope holds it; otherwise 404.
pub(crate) async fn visible(state: &AppState, p: &Principal, id: i64) -> Result<Incident, ApiError> {
    let i = state.store.get_incident(id).await?;
    if p.scope.contains(i.org_unit_id) { Ok(i) } else { Err(ApiError::not_found("incident")) }
}

/// Why the incident has its level, in English and Chinese: the override's
/// reason, or the deciding criterion of the rules in force.
pub(crate) fn explain(state: &AppState, i: &Incident) -> Result<(String, String, Option<CriterionOut>), ApiError> {
    let r = rules(state)?;
    let c = r.criteria.iter().find(|c| c.id == i.criterion);
    let out =
        c.map(|c| CriterionOut { id: c.id.clone(), article: c.article.clone(), zh: c.zh.clone(), en: c.en.clone() });
    if let Some(l) = i.level_override {
        return Ok((
            format!("Level {l} set by hand (computed: {}): {}", i.computed_level, i.override_reason),
            format!("人工认定为 {l} 级(计算结果:{}):{}", i.computed_level, i.override_reason),
            out,
        ));
    }
    let grade = IncidentGrade {
        level: i.computed_level,
        criterion: c.cloned(),
        matched: Vec::new(),
        rules_version: i.rules_version.clone(),
    };
    Ok((grade.explanation_en(), grade.explanation_zh(), out))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct IncidentQuery {
    /// open, contained or closed.
    #[param(value_type = Option<String>)]
    pub status: Option<IncidentStatus>,
    /// I, II, III, IV or none (the level in force, override included).
    #[param(value_type = Option<String>)]
    pub level: Option<IncidentLevel>,
}

#[utoipa::path(get, path = "/api/v1/incidents", tag = "respond", params(IncidentQuery),
    responses((status = 200, description = "incidents in scope, most recently discovered first")))]
pub async fn list(
    State(state): State<AppState>,
    p: Principal,
    Query(q): Query<IncidentQuery>,
) -> Result<Json<Vec<Incident>>, ApiError> {
    let filter = IncidentFilter { status: q.status, level: q.level };
    Ok(Json(state.store.list_incidents(p.scope_filter().as_deref(), &filter).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    /// Default: the caller's home unit.
    #[serde(default)]
    pub org_unit_id: Option<i64>,
    /// ddos, dns_failure, data_leak, malware, defacement, intrusion,
    /// phishing, outage or other.
    #[schema(value_type = String)]
    pub incident_type: IncidentType,
    pub title: String,
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub facts: FactsBody,
    /// cii, central or other; default the instance's `operator_category`.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub operator_category: Option<OperatorCategory>,
    /// RFC 3339; default now.
    #[serde(default)]
    pub discovered_at: Option<String>,
}

/// An incident with its timeline and why it has its level.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IncidentDetail {
    #[schema(value_type = Object)]
    pub incident: Incident,
    pub explanation: String,
    pub explanation_zh: String,
    pub criterion: Option<CriterionOut>,
    #[schema(value_type = Vec<Object>)]
    pub timeline: Vec<TimelineEntry>,
    /// Alerts the incident was opened from or escalated from.
    pub alert_ids: Vec<i64>,
    /// Registered assets (within the caller's units) those alerts' victims
    /// belong to.
    pub related_assets: Vec<AssetRef>,
    /// Personal-data leak details and reporting duty (R5.4); null when not a leak.
    #[schema(value_type = Option<Object>)]
    pub leak: Option<anbao_store::IncidentLeak>,
}

/// Most related alerts whose victims are matched against the registry.
const RELATED_ALERTS_MATCHED: i64 = 200;

/// The alerts linked to incident `id` and the assets, within `p`'s units,
/// their victims belong to.
pub(crate) async fn related(
    state: &AppState,
    p: &Principal,
    id: i64,
) -> Result<(Vec<i64>, Vec<anbao_store::StoredAlert>, Vec<AssetRef>), ApiError> {
    let alert_ids = state.store.incident_alert_ids(id).await?;
    let alerts = state.store.incident_alerts(id, RELATED_ALERTS_MATCHED).await?;
    let victims: Vec<&str> = alerts.iter().map(|a| a.victim.as_str()).collect();
    let mask = crate::api::alerts::masks_subscribers(Some(p));
    let assets = crate::api::alerts::affected_assets(state, Some(p), &victims, mask).await?;
    Ok((alert_ids, alerts, assets))
}

pub(crate) async fn detail(state: &AppState, p: &Principal, i: Incident) -> Result<IncidentDetail, ApiError> {
    let timeline = state.store.incident_timeline(i.id).await?;
    let (explanation, explanation_zh, criterion) = explain(state, &i)?;
    let (alert_ids, _, related_assets) = related(state, p, i.id).await?;
    let leak = state.store.incident_leak(i.id).await?;
    Ok(IncidentDetail {
        incident: i,
        explanation,
        explanation_zh,
        criterion,
        timeline,
        alert_ids,
        related_assets,
        leak,
    })
}

/// Checks a new incident's body against the caller's scope.
pub(crate) fn draft(state: &AppState, p: &Principal, b: CreateBody) -> Result<IncidentDraft, ApiError> {
    let org_unit_id = b.org_unit_id.unwrap_or(p.home_unit);
    if !p.scope.contains(org_unit_id) {
        return Err(ApiError::field("org_unit_id", "org_unit_id: outside your scope or does not exist"));
    }
    Ok(IncidentDraft {
        org_unit_id,
        incident_type: b.incident_type,
        title: b.title,
        summary: b.summary,
        facts: b.facts.into(),
        operator_category: b.operator_category.unwrap_or(state.config.operator_category),
        discovered_at: discovered(state, b.discovered_at.as_deref())?,
    })
}

#[utoipa::path(post, path = "/api/v1/incidents", tag = "respond", request_body = CreateBody,
    responses((status = 201, body = IncidentDetail, description = "the incident, graded, with its reporting deadline"),
        (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    JsonBody(b): JsonBody<CreateBody>,
) -> Result<(StatusCode, Json<IncidentDetail>), ApiError> {
    let d = draft(&state, &p, b)?;
    let i = state.store.create_incident(&p.actor(&client), &d, rules(&state)?).await?;
    Ok((StatusCode::CREATED, Json(detail(&state, &p, i).await?)))
}

#[utoipa::path(get, path = "/api/v1/incidents/{id}", tag = "respond", params(("id" = i64, Path, description = "incident id")),
    responses((status = 200, body = IncidentDetail), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<i64>,
) -> Result<Json<IncidentDetail>, ApiError> {
    let i = visible(&state, &p, id).await?;
    Ok(Json(detail(&state, &p, i).await?))
}

#[utoipa::path(put, path = "/api/v1/incidents/{id}/facts", tag = "respond", request_body = FactsBody,
    params(("id" = i64, Path, description = "incident id")),
    responses((status = 200, body = IncidentDetail, description = "graded again; the clock restarts from discovery for the level in force"),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_facts(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<FactsBody>,
) -> Result<Json<IncidentDetail>, ApiError> {
    visible(&state, &p, id).await?;
    let i = state.store.update_incident_facts(&p.actor(&client), id, &b.into(), rules(&state)?).await?;
    Ok(Json(detail(&state, &p, i).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OverrideBody {
    /// I, II, III, IV or none; null removes the override.
    #[schema(value_type = Option<String>)]
    pub level: Option<IncidentLevel>,
    /// Required, recorded in the audit log and the timeline.
    pub reason: String,
}

#[utoipa::path(post, path = "/api/v1/incidents/{id}/level", tag = "respond", request_body = OverrideBody,
    params(("id" = i64, Path, description = "incident id")),
    responses((status = 200, body = IncidentDetail), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn override_level(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<OverrideBody>,
) -> Result<Json<IncidentDetail>, ApiError> {
    visible(&state, &p, id).await?;
    let i = state.store.override_incident_level(&p.actor(&client), id, b.level, &b.reason, rules(&state)?).await?;
    Ok(Json(detail(&state, &p, i).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusBody {
    /// open, contained or closed.
    #[schema(value_type = String)]
    pub status: IncidentStatus,
}

#[utoipa::path(post, path = "/api/v1/incidents/{id}/status", tag = "respond", request_body = StatusBody,
    params(("id" = i64, Path, description = "incident id")),
    responses((status = 200, body = IncidentDetail), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_status(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<StatusBody>,
) -> Result<Json<IncidentDetail>, ApiError> {
    visible(&state, &p, id).await?;
    let i = state.store.set_incident_status(&p.actor(&client), id, b.status).await?;
    Ok(Json(detail(&state, &p, i).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EntryBody {
    /// What happened or was done (at most 4000 characters).
    pub entry: String,
    /// When, RFC 3339; default now; not in the future.
    #[serde(default)]
    pub at: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/incidents/{id}/timeline", tag = "respond", request_body = EntryBody,
    params(("id" = i64, Path, description = "incident id")),
    responses((status = 201, description = "the entry"), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_entry(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<EntryBody>,
) -> Result<(StatusCode, Json<TimelineEntry>), ApiError> {
    visible(&state, &p, id).await?;
    let at = match b.at.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => {
            Some(parse_ts(s).map_err(|e| ApiError::field("at", format!("at: {s:?} is not an RFC 3339 time: {e}")))?)
        }
    };
    let e = state.store.add_incident_entry(&p.actor(&client), id, at, &b.entry).await?;
    Ok((StatusCode::CREATED, Json(e)))
}

#[utoipa::path(post, path = "/api/v1/incidents/{id}/acknowledge", tag = "respond",
    params(("id" = i64, Path, description = "incident id")),
    responses((status = 200, body = IncidentDetail, description = "acknowledged now, or unchanged if it already was"),
        (status = 404, body = ErrorBody)))]
pub async fn acknowledge(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
) -> Result<Json<IncidentDetail>, ApiError> {
    visible(&state, &p, id).await?;
    let i = state.store.acknowledge_incident(&p.actor(&client), id).await?;
    Ok(Json(detail(&state, &p, i).await?))
}

/// The window of the metrics; both RFC 3339.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct MetricsQuery {
    /// Window start (inclusive); default 90 days before `to`.
    pub from: Option<String>,
    /// Window end (exclusive); default now.
    pub to: Option<String>,
}

/// Days in the default window.
pub const METRICS_DEFAULT_DAYS: i64 = 90;
/// Longest window, in days (the weekly series has a bar per week).
pub const METRICS_MAX_DAYS: i64 = 3 * 366;

/// The window a query asks for, checked.
pub(crate) fn metrics_window(state: &AppState, q: &MetricsQuery) -> Result<(Timestamp, Timestamp), ApiError> {
    let at = |field: &'static str, v: Option<&str>| -> Result<Option<Timestamp>, ApiError> {
        match v.map(str::trim).filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(s) => parse_ts(s)
                .map(Some)
                .map_err(|e| ApiError::field(field, format!("{field}: {s:?} is not an RFC 3339 time: {e}"))),
        }
    };
    let to = at("to", q.to.as_deref())?.unwrap_or_else(|| state.store.clock().now());
    let from = at("from", q.from.as_deref())?.unwrap_or(to - time::Duration::days(METRICS_DEFAULT_DAYS));
    if from >= to {
        return Err(ApiError::field("from", "from: must be before to"));
    }
    if to - from > time::Duration::days(METRICS_MAX_DAYS) {
        return Err(ApiError::field("from", format!("from: the window is at most {METRICS_MAX_DAYS} days")));
    }
    Ok((from, to))
}

#[utoipa::path(get, path = "/api/v1/incidents/metrics", tag = "respond", params(MetricsQuery),
    responses((status = 200, description = "open incidents by level; MTTA, MTTC, MTTR (mean and median seconds from \
        discovery) and initial-report deadlines met or missed for incidents discovered in the window; weekly counts \
        by level and monthly handling times. Exercise incidents are left out; only the caller's units count."),
        (status = 422, body = ErrorBody, description = "a bad time or window, naming the field")))]
pub async fn metrics(
    State(state): State<AppState>,
    p: Principal,
    Query(q): Query<MetricsQuery>,
) -> Result<Json<anbao_store::IncidentMetrics>, ApiError> {
    let (from, to) = metrics_window(&state, &q)?;
    Ok(Json(state.store.incident_metrics(p.scope_filter().as_deref(), from, to).await?))
}
