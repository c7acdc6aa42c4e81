//! `/api/v1/flows/mitigations`: the BGP rules (RTBH, FlowSpec) the flow
//! pipeline asked for against attacks (issue #6), from proposal to
//! withdrawal. Groups in manual mode propose; a triager (`TriageAlerts`:
//! admin, analyst, responder) approves — the mitigation executor of a node
//! with hooks then announces it — or rejects; an announced (or failed) rule
//! can be withdrawn by hand. A failed change shows its failure counts and
//! the time of the executor's next try (`retry_at`). The store audits every
//! change. Like alerts,
//! rules are not scoped to org units (everyone with `ReadAlerts` reads them).

use anbao_store::{MITIGATION_STATES, Mitigation};
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::api::intel::bad_param;
use crate::auth::{ClientAddr, Principal};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, Path, Query};

/// Most rules per list.
pub const MAX_LIST: i64 = 1000;

/// One rule as the API shows it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct MitigationView {
    pub id: i64,
    /// The attack's key (its alert's dedup key).
    pub attack_key: String,
    pub alert_id: Option<i64>,
    pub group: String,
    pub victim: String,
    /// `rtbh` or `flowspec`.
    pub kind: String,
    /// `automatic` or `manual`.
    pub mode: String,
    /// The rule's fields: victim, prefix, community and next_hop (RTBH);
    /// protocol, source_port, action (`discard` or `rate-limit`) and
    /// rate_limit in bytes/s (FlowSpec).
    #[schema(value_type = Object)]
    pub rule: serde_json::Value,
    /// The rule as ExaBGP text API lines.
    pub announce_line: String,
    pub withdraw_line: String,
    /// `proposed`, `announced`, `failed`, `withdrawn` or `rejected`.
    pub state: String,
    /// What the executor still has to do: `announce`, `withdraw` or empty.
    pub pending: String,
    /// The hooks' errors when `failed`, and which change failed.
    pub error: String,
    pub failed_change: String,
    pub attempts: i64,
    pub hold_secs: i64,
    pub proposed_at: String,
    pub approved_by: Option<String>,
    pub approved_at: Option<String>,
    pub announced_at: Option<String>,
    pub attack_ended_at: Option<String>,
    /// When the automatic withdrawal is due (attack end + hold time).
    pub withdraw_at: Option<String>,
    /// When the rule is withdrawn (or rejected) at the latest.
    pub expires_at: String,
    pub withdrawn_by: Option<String>,
    pub withdrawn_at: Option<String>,
    /// `automatic`, `manual` or `expired`.
    pub withdraw_reason: String,
    pub rejected_by: Option<String>,
    pub rejected_at: Option<String>,
    pub reject_reason: String,
    pub updated_at: String,
    /// Failed attempts of the announcement so far.
    pub announce_failures: i64,
    /// Failed attempts of the withdrawal so far.
    pub withdraw_failures: i64,
    /// When the executor tries the failed change again by itself: a
    /// withdrawal until it goes through, an announcement while its attack
    /// goes on (null once the attack has ended: it is withdrawn after the
    /// hold time instead).
    pub retry_at: Option<String>,
}

impl From<&Mitigation> for MitigationView {
    fn from(m: &Mitigation) -> Self {
        MitigationView {
            id: m.id,
            attack_key: m.attack_key.clone(),
            alert_id: m.alert_id,
            group: m.group_name.clone(),
            victim: m.victim.clone(),
            kind: m.kind.clone(),
            mode: m.mode.clone(),
            rule: m.rule.clone(),
            announce_line: m.announce_line.clone(),
            withdraw_line: m.withdraw_line.clone(),
            state: m.state.clone(),
            pending: m.pending.clone(),
            error: m.error.clone(),
            failed_change: m.failed_change.clone(),
            attempts: m.attempts,
            hold_secs: m.hold_secs,
            proposed_at: m.proposed_at.clone(),
            approved_by: m.approved_by.clone(),
            approved_at: m.approved_at.clone(),
            announced_at: m.announced_at.clone(),
            attack_ended_at: m.attack_ended_at.clone(),
            withdraw_at: m.withdraw_at.clone(),
            expires_at: m.expires_at.clone(),
            withdrawn_by: m.withdrawn_by.clone(),
            withdrawn_at: m.withdrawn_at.clone(),
            withdraw_reason: m.withdraw_reason.clone(),
            rejected_by: m.rejected_by.clone(),
            rejected_at: m.rejected_at.clone(),
            reject_reason: m.reject_reason.clone(),
            updated_at: m.updated_at.clone(),
            announce_failures: m.announce_failures,
            withdraw_failures: m.withdraw_failures,
            retry_at: m.retry_at.clone(),
        }
    }
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct MitigationQuery {
    /// Only rules in this state: proposed, announced, failed, withdrawn, rejected.
    pub state: Option<String>,
    /// Only the rules of this alert.
    pub alert: Option<i64>,
    /// At most this many, newest first (default and maximum 1000).
    pub limit: Option<i64>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct MitigationList {
    pub mitigations: Vec<MitigationView>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectBody {
    /// Why (optional).
    #[serde(default)]
    pub reason: String,
}

/// The state filter checked, empty for all.
pub(crate) fn state_param(state: Option<&str>) -> Result<Option<&str>, ApiError> {
    match state.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) if MITIGATION_STATES.contains(&s) => Ok(Some(s)),
        Some(_) => Err(bad_param("state", "use proposed, announced, failed, withdrawn or rejected")),
    }
}

#[utoipa::path(get, path = "/api/v1/flows/mitigations", tag = "alerts", params(MitigationQuery),
    responses((status = 200, body = MitigationList), (status = 400, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Query(q): Query<MitigationQuery>,
) -> Result<Json<MitigationList>, ApiError> {
    let filter = state_param(q.state.as_deref())?;
    let limit = q.limit.unwrap_or(MAX_LIST).clamp(1, MAX_LIST);
    let rows = state.store.list_mitigations(filter, q.alert, limit).await?;
    Ok(Json(MitigationList { mitigations: rows.iter().map(Into::into).collect() }))
}

#[utoipa::path(get, path = "/api/v1/flows/mitigations/{id}", tag = "alerts",
    params(("id" = i64, Path, description = "mitigation rule id")),
    responses((status = 200, body = MitigationView), (status = 404, body = ErrorBody)))]
pub async fn get(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Json<MitigationView>, ApiError> {
    Ok(Json((&state.store.mitigation(id).await?).into()))
}

#[utoipa::path(post, path = "/api/v1/flows/mitigations/{id}/approve", tag = "alerts",
    params(("id" = i64, Path, description = "mitigation rule id")),
    responses((status = 200, body = MitigationView, description = "approved: pending announce (audited)"),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "not a proposed rule, nor one whose announcement failed")))]
pub async fn approve(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
) -> Result<Json<MitigationView>, ApiError> {
    Ok(Json((&state.store.approve_mitigation(&p.actor(&client), id).await?).into()))
}

#[utoipa::path(post, path = "/api/v1/flows/mitigations/{id}/reject", tag = "alerts",
    params(("id" = i64, Path, description = "mitigation rule id")),
    request_body = RejectBody,
    responses((status = 200, body = MitigationView, description = "rejected, never announced (audited)"),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "not waiting for approval")))]
pub async fn reject(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    JsonBody(body): JsonBody<RejectBody>,
) -> Result<Json<MitigationView>, ApiError> {
    Ok(Json((&state.store.reject_mitigation(&p.actor(&client), id, &body.reason).await?).into()))
}

#[utoipa::path(post, path = "/api/v1/flows/mitigations/{id}/withdraw", tag = "alerts",
    params(("id" = i64, Path, description = "mitigation rule id")),
    responses((status = 200, body = MitigationView, description = "pending withdraw (audited)"),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "not announced nor failed")))]
pub async fn withdraw(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
) -> Result<Json<MitigationView>, ApiError> {
    Ok(Json((&state.store.withdraw_mitigation(&p.actor(&client), id).await?).into()))
}
