//! `/api/v1/incidents`: incidents graded by the MIIT emergency plan (issue
//! #7, R2.2) with their reporting deadline. `POST /api/v1/incidents/grade`
//! grades a set of facts without recording anything (the form's live
//! preview uses it); every role that reads incidents may call it.

use anbao_model::clock::{Timestamp, format_ts, parse_ts};
use anbao_model::incident::{
    AreaScope, IncidentFacts, IncidentGrade, IncidentRules, Influence, OperatorCategory, ReportDeadline,
};
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::auth::Principal;
use crate::error::{ApiError, ErrorBody};
use crate::extract::JsonBody;

/// The grading rules in force: the operator's, or the shipped ones.
pub(crate) fn rules(state: &AppState) -> Result<&'static IncidentRules, ApiError> {
    match state.config.incident_rules {
        Some(r) => Ok(r),
        None => IncidentRules::builtin().map_err(|e| {
            tracing::error!(error = %e, "shipped incident rules");
            ApiError::new(axum::http::StatusCode::INTERNAL_SERVER_ERROR, "incident grading rules unavailable")
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
