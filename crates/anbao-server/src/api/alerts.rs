//! `/api/v1/alerts`: detection alerts (issue #5; R3.1–R3.3 monitoring, R3.8
//! notifying infected subscribers). List and filter them, read one with its
//! evidence and the actions taken, set its status, record what was done
//! (subscriber notified, blocklisted, RPZ, sinkholed, escalated, a note —
//! notes are the comments), assign it to a user, mark it a false positive
//! that allowlists its indicator, change many at once (bulk), and the
//! summaries behind the pages: infected subscribers and detections
//! per hour and category.
//!
//! Reading needs `ReadAlerts`; status changes and actions need
//! `TriageAlerts`, and the store audits both. The detection pipeline writes
//! alerts through the store, never through this API.

use anbao_model::clock::{format_ts, parse_ts};
use anbao_model::subscriber::mask_address;
use anbao_model::{Permission, Timestamp};
use anbao_store::{
    ALERT_STATUSES, AffectedAsset, AlertAction, AlertFilter, AlertSuppression, BulkTriage, NewSuppression, StoredAlert,
    Victim,
};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::api::intel::bad_param;
use crate::auth::{ClientAddr, Principal};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, Path, Query};

/// Alerts per page unless asked otherwise.
pub const DEFAULT_PAGE: i64 = 100;

/// Most alerts (or victims) per page.
pub const MAX_PAGE: i64 = 1000;

/// Hours the chart covers unless asked otherwise.
pub const DEFAULT_HOURS: i64 = 48;

/// Longest span of the hourly counts: 90 days.
pub const MAX_HOURS: i64 = 24 * 90;

/// Longest filter value taken; longer ones are no victim, rule or category.
const MAX_FILTER_LEN: usize = 500;

// ---------------------------------------------------------------------------
// Views.

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct AlertView {
    pub id: i64,
    /// `intel` for a match against threat intelligence, else the heuristic
    /// that fired (`dga`, `dns_tunnel`, …).
    pub rule: String,
    /// The indicator's category (botnet_cc, phishing, …) or the heuristic's.
    pub category: String,
    /// 1 low, 2 medium, 3 high, 4 critical.
    pub severity: i64,
    /// The subscriber (client address) the traffic came from.
    pub victim: String,
    /// The intel indicator matched (`/api/v1/intel/indicators/{id}`); none
    /// for heuristics, or once the indicator is deleted.
    pub indicator_id: Option<i64>,
    /// The listed value, or the name a heuristic flagged.
    pub indicator: String,
    /// How it matched: exact, parent_domain, covering_cidr, url_prefix, or
    /// the heuristic's own word.
    #[serde(rename = "match")]
    pub match_how: String,
    /// Where in the traffic: dns.qname, http.host, tls.sni, …
    pub field: String,
    /// The value seen there (the first one).
    pub observed: String,
    /// A heuristic's score.
    pub score: Option<i64>,
    /// A heuristic's reason, for people.
    pub reason: String,
    /// Events folded into this alert.
    pub count: i64,
    pub first_seen: String,
    pub last_seen: String,
    /// The sensor that saw the first event.
    pub sensor: String,
    /// The first event (its `summary` is one line a person reads).
    #[schema(value_type = Object)]
    pub evidence: serde_json::Value,
    /// new, acknowledged, confirmed, false_positive or resolved.
    pub status: String,
    /// The user working the alert; empty: nobody.
    pub assignee: String,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&StoredAlert> for AlertView {
    fn from(a: &StoredAlert) -> Self {
        AlertView {
            id: a.id,
            rule: a.rule.clone(),
            category: a.category.clone(),
            severity: a.severity,
            victim: a.victim.clone(),
            indicator_id: a.indicator_id,
            indicator: a.indicator.clone(),
            match_how: a.match_how.clone(),
            field: a.field.clone(),
            observed: a.observed.clone(),
            score: a.score,
            reason: a.reason.clone(),
            count: a.count,
            first_seen: format_ts(a.first_seen),
            last_seen: format_ts(a.last_seen),
            sensor: a.sensor.clone(),
            evidence: a.evidence.clone(),
            status: a.status.clone(),
            assignee: a.assignee.clone(),
            created_at: format_ts(a.created_at),
            updated_at: format_ts(a.updated_at),
        }
    }
}

impl AlertView {
    /// The view for a role without `ReadSubscribers`: the victim, and the
    /// evidence's addresses, as their networks.
    pub(crate) fn masked(mut self) -> Self {
        self.victim = mask_address(&self.victim);
        if let Some(evidence) = self.evidence.as_object_mut() {
            for key in ["src", "dst"] {
                if let Some(serde_json::Value::String(a)) = evidence.get_mut(key) {
                    *a = mask_address(a);
                }
            }
        }
        self
    }
}

/// A role that sees networks may not filter by an address: whether the
/// answer is empty would tell it that address was infected.
fn refuse_victim_probe(filter: &AlertFilter, mask: bool) -> Result<(), ApiError> {
    if mask && filter.victim.is_some() {
        return Err(bad_param("victim", "this role sees subscribers as networks and cannot filter by an address"));
    }
    Ok(())
}

/// Whether `p` sees subscribers' networks instead of their addresses.
pub(crate) fn masks_subscribers(p: Option<&Principal>) -> bool {
    !p.is_some_and(|p| p.role.allows(Permission::ReadSubscribers))
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct AlertList {
    /// Alerts matching the filter, on all pages.
    pub total: i64,
    /// This page, most recently seen first.
    pub alerts: Vec<AlertView>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ActionView {
    pub id: i64,
    pub alert_id: i64,
    /// notified, blocklisted, rpz, sinkholed, note or escalated.
    pub action: String,
    pub detail: String,
    /// Who recorded it (user name, or `token:NAME`).
    pub actor: String,
    pub created_at: String,
}

impl From<&AlertAction> for ActionView {
    fn from(a: &AlertAction) -> Self {
        ActionView {
            id: a.id,
            alert_id: a.alert_id,
            action: a.action.clone(),
            detail: a.detail.clone(),
            actor: a.actor.clone(),
            created_at: format_ts(a.created_at),
        }
    }
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct AlertDetail {
    #[serde(flatten)]
    pub alert: AlertView,
    /// What was done about it, oldest first.
    pub actions: Vec<ActionView>,
    /// Registered assets (within the caller's units) the victim belongs to,
    /// by address, prefix or name.
    pub assets: Vec<AssetRef>,
}

/// A registered asset an alert's or incident's target belongs to.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct AssetRef {
    pub id: i64,
    pub name: String,
    pub asset_type: String,
    pub identifier: String,
    pub org_unit_id: i64,
    pub responsible_person: String,
    pub criticality: String,
    /// The target that fell under the asset; empty when subscriber
    /// addresses are masked for the caller.
    pub matched: String,
}

impl AssetRef {
    fn new(a: &AffectedAsset, mask: bool) -> Self {
        AssetRef {
            id: a.id,
            name: a.name.clone(),
            asset_type: a.asset_type.as_str().to_owned(),
            identifier: a.identifier.clone(),
            org_unit_id: a.org_unit_id,
            responsible_person: a.responsible_person.clone(),
            criticality: a.criticality.as_str().to_owned(),
            matched: if mask { String::new() } else { a.matched.clone() },
        }
    }
}

/// The registered assets, within `p`'s units, that `targets` (alert
/// victims: addresses, prefixes or names) belong to.
pub(crate) async fn affected_assets(
    state: &AppState,
    p: Option<&Principal>,
    targets: &[&str],
    mask: bool,
) -> Result<Vec<AssetRef>, ApiError> {
    let Some(p) = p else { return Ok(Vec::new()) };
    let scope = p.scope_filter();
    let found = state.store.assets_affected_by(scope.as_deref(), targets).await?;
    Ok(found.iter().map(|a| AssetRef::new(a, mask)).collect())
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct VictimView {
    /// The subscriber (client address).
    pub victim: String,
    /// Alerts raised for it.
    pub alerts: i64,
    /// Events over those alerts.
    pub events: i64,
    /// 1 low … 4 critical.
    pub max_severity: i64,
    /// Distinct categories of its alerts, sorted.
    pub categories: Vec<String>,
    pub first_seen: String,
    pub last_seen: String,
}

impl From<&Victim> for VictimView {
    fn from(v: &Victim) -> Self {
        VictimView {
            victim: v.victim.clone(),
            alerts: v.alerts,
            events: v.events,
            max_severity: v.max_severity,
            categories: v.categories.split(',').filter(|c| !c.is_empty()).map(str::to_owned).collect(),
            first_seen: format_ts(v.first_seen),
            last_seen: format_ts(v.last_seen),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct HourCount {
    /// The hour, UTC, as `YYYY-MM-DDTHH`.
    pub hour: String,
    pub category: String,
    /// Detections (events) first seen in that hour.
    pub events: i64,
}

// ---------------------------------------------------------------------------
// Filters.

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AlertQuery {
    /// new, acknowledged, confirmed, false_positive or resolved.
    pub status: Option<String>,
    /// Only this category (botnet_cc, phishing, dga, …).
    pub category: Option<String>,
    /// Only this rule (`intel`, or a heuristic's name).
    pub rule: Option<String>,
    /// Only this subscriber.
    pub victim: Option<String>,
    /// Part of the indicator or the observed value.
    pub q: Option<String>,
    /// Only alerts last seen at or after this RFC 3339 instant.
    pub since: Option<String>,
    /// Only alerts assigned to this user; `-`: only unassigned ones.
    pub assignee: Option<String>,
    /// Skip this many alerts.
    pub offset: Option<i64>,
    /// At most this many (default 100, at most 1000).
    pub limit: Option<i64>,
}

/// A filter value as given: trimmed, empty meaning absent (as forms send
/// an unselected choice), bounded in length.
fn text_param(field: &str, value: Option<&str>) -> Result<Option<String>, ApiError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) if v.len() > MAX_FILTER_LEN => Err(bad_param(field, format!("at most {MAX_FILTER_LEN} bytes"))),
        Some(v) => Ok(Some(v.to_owned())),
    }
}

/// The store filter for the parameters as given (query string or form).
pub(crate) fn alert_filter(
    status: Option<&str>,
    category: Option<&str>,
    rule: Option<&str>,
    victim: Option<&str>,
    q: Option<&str>,
    since: Option<&str>,
) -> Result<AlertFilter, ApiError> {
    let status = text_param("status", status)?;
    if let Some(s) = &status
        && !ALERT_STATUSES.contains(&s.as_str())
    {
        return Err(bad_param("status", format!("{s:?} is not one of {}", ALERT_STATUSES.join(", "))));
    }
    let since = match text_param("since", since)? {
        None => None,
        Some(s) => Some(parse_ts(&s).map_err(|_| bad_param("since", format!("{s:?} is not an RFC 3339 time")))?),
    };
    Ok(AlertFilter {
        status,
        category: text_param("category", category)?,
        rule: text_param("rule", rule)?,
        victim: text_param("victim", victim)?,
        q: text_param("q", q)?,
        since,
        assignee: None,
    })
}

/// The assignee filter as given: a user name, `-` for unassigned alerts,
/// empty for any.
pub(crate) fn assignee_filter(value: Option<&str>) -> Result<Option<String>, ApiError> {
    Ok(text_param("assignee", value)?.map(|a| if a == "-" { String::new() } else { a }))
}

impl AlertQuery {
    fn filter(&self) -> Result<AlertFilter, ApiError> {
        let mut filter = alert_filter(
            self.status.as_deref(),
            self.category.as_deref(),
            self.rule.as_deref(),
            self.victim.as_deref(),
            self.q.as_deref(),
            self.since.as_deref(),
        )?;
        filter.assignee = assignee_filter(self.assignee.as_deref())?;
        Ok(filter)
    }
}

/// A page of alerts matching `filter`, and how many match in all.
pub(crate) async fn alert_page(
    state: &AppState,
    filter: &AlertFilter,
    offset: i64,
    limit: i64,
    mask: bool,
) -> Result<AlertList, ApiError> {
    refuse_victim_probe(filter, mask)?;
    let total = state.store.alert_count(filter).await?;
    let alerts = state.store.alerts(filter, offset.max(0), limit.clamp(1, MAX_PAGE)).await?;
    let view = |a: &StoredAlert| if mask { AlertView::from(a).masked() } else { AlertView::from(a) };
    Ok(AlertList { total, alerts: alerts.iter().map(view).collect() })
}

#[utoipa::path(get, path = "/api/v1/alerts", tag = "alerts", params(AlertQuery),
    responses((status = 200, body = AlertList), (status = 400, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    p: Principal,
    Query(q): Query<AlertQuery>,
) -> Result<Json<AlertList>, ApiError> {
    let filter = q.filter()?;
    let mask = masks_subscribers(Some(&p));
    let page = alert_page(&state, &filter, q.offset.unwrap_or(0), q.limit.unwrap_or(DEFAULT_PAGE), mask).await?;
    Ok(Json(page))
}

/// An alert with the actions taken on it.
/// An alert with its actions and, for `assets_for`, the registered assets
/// within that principal's units its victim belongs to.
pub(crate) async fn alert_detail(
    state: &AppState,
    id: i64,
    mask: bool,
    assets_for: Option<&Principal>,
) -> Result<AlertDetail, ApiError> {
    let alert = state.store.alert(id).await?;
    let actions = state.store.alert_actions(id).await?;
    let assets = affected_assets(state, assets_for, &[&alert.victim], mask).await?;
    let view = if mask { AlertView::from(&alert).masked() } else { AlertView::from(&alert) };
    Ok(AlertDetail { alert: view, actions: actions.iter().map(Into::into).collect(), assets })
}

#[utoipa::path(get, path = "/api/v1/alerts/{id}", tag = "alerts",
    params(("id" = i64, Path, description = "alert id")),
    responses((status = 200, body = AlertDetail), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<i64>,
) -> Result<Json<AlertDetail>, ApiError> {
    Ok(Json(alert_detail(&state, id, masks_subscribers(Some(&p)), Some(&p)).await?))
}

// ---------------------------------------------------------------------------
// Triage.

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusBody {
    /// new, acknowledged, confirmed, false_positive or resolved.
    pub status: String,
    /// With status false_positive: also add the alert's indicator value to
    /// the allowlist "false positives" (made on first use), so detection
    /// stops matching it once the index refreshes.
    #[serde(default)]
    pub allowlist: bool,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignBody {
    /// The user name of an active user; empty: unassign.
    pub assignee: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkBody {
    /// The alerts to change (1 to 1000).
    pub ids: Vec<i64>,
    /// The status to set on each.
    pub status: Option<String>,
    /// The user to assign each to (an active user; empty: unassign).
    pub assignee: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BulkResult {
    /// Alerts that changed (those already so are left alone).
    pub changed: u64,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionBody {
    /// notified (the subscriber was told), blocklisted, rpz, sinkholed,
    /// note or escalated.
    pub action: String,
    /// What, where, to whom (at most 4000 characters).
    #[serde(default)]
    pub detail: String,
}

#[utoipa::path(post, path = "/api/v1/alerts/{id}/status", tag = "alerts",
    params(("id" = i64, Path, description = "alert id")),
    request_body = StatusBody,
    responses((status = 200, body = AlertView, description = "the alert as it is now (the change is audited)"),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody, description = "an unknown status (field status)")))]
pub async fn set_status(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    JsonBody(body): JsonBody<StatusBody>,
) -> Result<Json<AlertView>, ApiError> {
    let alert =
        state.store.set_alert_status_allowlisting(&p.actor(&client), id, body.status.trim(), body.allowlist).await?;
    Ok(Json((&alert).into()))
}

#[utoipa::path(post, path = "/api/v1/alerts/{id}/assign", tag = "alerts",
    params(("id" = i64, Path, description = "alert id")),
    request_body = AssignBody,
    responses((status = 200, body = AlertView, description = "the alert as it is now (the change is audited)"),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "no such active user (field assignee)")))]
pub async fn assign(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    JsonBody(body): JsonBody<AssignBody>,
) -> Result<Json<AlertView>, ApiError> {
    let alert = state.store.assign_alert(&p.actor(&client), id, &body.assignee).await?;
    Ok(Json((&alert).into()))
}

#[utoipa::path(post, path = "/api/v1/alerts/bulk", tag = "alerts",
    request_body = BulkBody,
    responses((status = 200, body = BulkResult, description = "all changed in one transaction, one audit entry per alert"),
        (status = 404, body = ErrorBody, description = "an id names no alert: nothing changed"),
        (status = 422, body = ErrorBody, description = "no ids or more than 1000 (field ids), an unknown status or \
            none to set (field status), no such active user (field assignee): nothing changed")))]
pub async fn bulk(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    JsonBody(body): JsonBody<BulkBody>,
) -> Result<Json<BulkResult>, ApiError> {
    let change =
        BulkTriage { ids: body.ids, status: body.status.map(|s| s.trim().to_owned()), assignee: body.assignee };
    let changed = state.store.bulk_triage_alerts(&p.actor(&client), &change).await?;
    Ok(Json(BulkResult { changed }))
}

#[utoipa::path(post, path = "/api/v1/alerts/{id}/actions", tag = "alerts",
    params(("id" = i64, Path, description = "alert id")),
    request_body = ActionBody,
    responses((status = 201, body = ActionView, description = "the action recorded (and audited)"),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "an unknown action or an unfit detail (field action or detail)")))]
pub async fn add_action(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    JsonBody(body): JsonBody<ActionBody>,
) -> Result<(StatusCode, Json<ActionView>), ApiError> {
    let action = state.store.add_alert_action(&p.actor(&client), id, body.action.trim(), &body.detail).await?;
    Ok((StatusCode::CREATED, Json((&action).into())))
}

// ---------------------------------------------------------------------------
// Suppression rules.

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct SuppressionView {
    pub id: i64,
    /// Only detections of this rule (empty: any).
    pub rule: String,
    /// Only this category (empty: any).
    pub category: String,
    /// Only victims starting with this (empty: any).
    pub victim_prefix: String,
    /// Only indicators matching this, `*` for any run of characters (empty: any).
    pub indicator_pattern: String,
    /// Only detections whose source address lies in this network (CIDR; empty: any).
    pub src_cidr: String,
    /// Only detections whose destination address lies in this network (CIDR; empty: any).
    pub dst_cidr: String,
    /// In force until then.
    pub until: String,
    pub reason: String,
    /// Whether it is still in force.
    pub active: bool,
    /// Detections (events) dropped so far.
    pub suppressed: i64,
    pub created_by: String,
    pub created_at: String,
}

impl SuppressionView {
    pub(crate) fn of(s: &AlertSuppression, now: Timestamp) -> Self {
        SuppressionView {
            id: s.id,
            rule: s.rule.clone(),
            category: s.category.clone(),
            victim_prefix: s.victim_prefix.clone(),
            indicator_pattern: s.indicator_pattern.clone(),
            src_cidr: s.src_cidr.clone(),
            dst_cidr: s.dst_cidr.clone(),
            until: format_ts(s.until),
            reason: s.reason.clone(),
            active: s.until > now,
            suppressed: s.suppressed,
            created_by: s.created_by.clone(),
            created_at: format_ts(s.created_at),
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuppressionBody {
    #[serde(default)]
    pub rule: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub victim_prefix: String,
    #[serde(default)]
    pub indicator_pattern: String,
    /// Source network, IPv4 or IPv6 CIDR (`10.1.0.0/16`); empty: any.
    #[serde(default)]
    pub src_cidr: String,
    /// Destination network, IPv4 or IPv6 CIDR (`2001:db8::/32`); empty: any.
    #[serde(default)]
    pub dst_cidr: String,
    /// RFC 3339 expiry, in the future.
    pub until: String,
    pub reason: String,
}

/// The store's form of a new rule; an unreadable expiry names `until`.
pub(crate) fn new_suppression(body: SuppressionBody) -> Result<NewSuppression, ApiError> {
    let until = parse_ts(body.until.trim())
        .map_err(|_| ApiError::field("until", format!("{:?} is not an RFC 3339 time", body.until)))?;
    Ok(NewSuppression {
        rule: body.rule,
        category: body.category,
        victim_prefix: body.victim_prefix,
        indicator_pattern: body.indicator_pattern,
        src_cidr: body.src_cidr,
        dst_cidr: body.dst_cidr,
        until: Some(until),
        reason: body.reason,
    })
}

#[utoipa::path(get, path = "/api/v1/alerts/suppressions", tag = "alerts",
    responses((status = 200, body = [SuppressionView], description = "suppression rules, latest expiry first")))]
pub async fn suppressions(State(state): State<AppState>) -> Result<Json<Vec<SuppressionView>>, ApiError> {
    let now = state.store.clock().now();
    let rules = state.store.alert_suppressions().await?;
    Ok(Json(rules.iter().map(|r| SuppressionView::of(r, now)).collect()))
}

#[utoipa::path(post, path = "/api/v1/alerts/suppressions", tag = "alerts",
    request_body = SuppressionBody,
    responses((status = 201, body = SuppressionView, description = "the rule (audited); matching detections are \
            dropped and counted until it expires"),
        (status = 422, body = ErrorBody, description = "no condition (field rule), no reason (field reason), an \
            expiry not in the future (field until), a network range that is no CIDR or has host bits set (field \
            src_cidr or dst_cidr)")))]
pub async fn create_suppression(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    JsonBody(body): JsonBody<SuppressionBody>,
) -> Result<(StatusCode, Json<SuppressionView>), ApiError> {
    let created = state.store.create_alert_suppression(&p.actor(&client), &new_suppression(body)?).await?;
    Ok((StatusCode::CREATED, Json(SuppressionView::of(&created, state.store.clock().now()))))
}

#[utoipa::path(delete, path = "/api/v1/alerts/suppressions/{id}", tag = "alerts",
    params(("id" = i64, Path, description = "suppression rule id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_suppression(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    state.store.delete_alert_suppression(&p.actor(&client), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------------------
// Victims and hourly counts.

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct VictimQuery {
    /// Only alerts with this status.
    pub status: Option<String>,
    pub category: Option<String>,
    pub rule: Option<String>,
    /// Only this subscriber.
    pub victim: Option<String>,
    /// Part of the indicator or the observed value.
    pub q: Option<String>,
    /// Only alerts last seen at or after this RFC 3339 instant.
    pub since: Option<String>,
    /// At most this many subscribers (default 100, at most 1000).
    pub limit: Option<i64>,
}

/// Infected subscribers with alerts matching `filter`, most recent first.
pub(crate) async fn victims_of(
    state: &AppState,
    filter: &AlertFilter,
    limit: i64,
    mask: bool,
) -> Result<Vec<VictimView>, ApiError> {
    refuse_victim_probe(filter, mask)?;
    let victims = state.store.alert_victims(filter, limit.clamp(1, MAX_PAGE)).await?;
    let views: Vec<VictimView> = victims.iter().map(Into::into).collect();
    Ok(if mask { by_network(views) } else { views })
}

/// Subscribers folded into their networks (for roles that see no
/// addresses), in the order each network was first listed.
fn by_network(views: Vec<VictimView>) -> Vec<VictimView> {
    let mut out: Vec<VictimView> = Vec::new();
    for mut v in views {
        v.victim = mask_address(&v.victim);
        match out.iter_mut().find(|o| o.victim == v.victim) {
            Some(o) => {
                o.alerts += v.alerts;
                o.events += v.events;
                o.max_severity = o.max_severity.max(v.max_severity);
                for c in v.categories {
                    if !o.categories.contains(&c) {
                        o.categories.push(c);
                    }
                }
                o.categories.sort();
                // RFC 3339 UTC text of one format: ordered as text.
                if v.first_seen < o.first_seen {
                    o.first_seen = v.first_seen;
                }
                if v.last_seen > o.last_seen {
                    o.last_seen = v.last_seen;
                }
            }
            None => out.push(v),
        }
    }
    out
}

#[utoipa::path(get, path = "/api/v1/alerts/victims", tag = "alerts", params(VictimQuery),
    responses((status = 200, body = [VictimView], description = "infected subscribers, most recently seen first; \
        the categories cover all of a subscriber's alerts"),
        (status = 400, body = ErrorBody)))]
pub async fn victims(
    State(state): State<AppState>,
    p: Principal,
    Query(q): Query<VictimQuery>,
) -> Result<Json<Vec<VictimView>>, ApiError> {
    let filter = alert_filter(
        q.status.as_deref(),
        q.category.as_deref(),
        q.rule.as_deref(),
        q.victim.as_deref(),
        q.q.as_deref(),
        q.since.as_deref(),
    )?;
    Ok(Json(victims_of(&state, &filter, q.limit.unwrap_or(DEFAULT_PAGE), masks_subscribers(Some(&p))).await?))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct HoursQuery {
    /// How many hours back, the current one included (default 48, at most 2160).
    pub hours: Option<i64>,
}

/// The first hour of a span of `hours` hours ending with the current one.
pub(crate) fn span_start(now: Timestamp, hours: i64) -> Timestamp {
    now - time::Duration::hours(hours.clamp(1, MAX_HOURS) - 1)
}

/// Detections per hour and category over the last `hours` hours (only
/// hours with detections), oldest first.
pub(crate) async fn hour_counts(state: &AppState, hours: i64) -> Result<Vec<HourCount>, ApiError> {
    let since = span_start(state.store.clock().now(), hours);
    let rows = state.store.alert_hours(since).await?;
    Ok(rows.into_iter().map(|(hour, category, events)| HourCount { hour, category, events }).collect())
}

#[utoipa::path(get, path = "/api/v1/alerts/hours", tag = "alerts", params(HoursQuery),
    responses((status = 200, body = [HourCount], description = "detections per hour (UTC) and category, oldest \
        first; hours without detections are left out"),
        (status = 400, body = ErrorBody)))]
pub async fn hours(
    State(state): State<AppState>,
    Query(q): Query<HoursQuery>,
) -> Result<Json<Vec<HourCount>>, ApiError> {
    let hours = q.hours.unwrap_or(DEFAULT_HOURS);
    if !(1..=MAX_HOURS).contains(&hours) {
        return Err(bad_param("hours", format!("between 1 and {MAX_HOURS}")));
    }
    Ok(Json(hour_counts(&state, hours).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_take_empty_as_absent_and_name_bad_parameters() {
        let f = alert_filter(Some(""), Some(" botnet_cc "), None, Some("10.0.0.5"), Some(" "), None).unwrap();
        assert_eq!(
            (f.status, f.category.as_deref(), f.victim.as_deref(), f.q),
            (None, Some("botnet_cc"), Some("10.0.0.5"), None)
        );
        let e = alert_filter(Some("closed"), None, None, None, None, None).unwrap_err();
        assert_eq!((e.status, e.field.as_deref()), (StatusCode::BAD_REQUEST, Some("status")));
        let e = alert_filter(None, None, None, None, None, Some("yesterday")).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("since"));
        let long = "x".repeat(MAX_FILTER_LEN + 1);
        assert_eq!(
            alert_filter(None, None, None, Some(&long), None, None).unwrap_err().field.as_deref(),
            Some("victim")
        );
        let f = alert_filter(None, None, None, None, None, Some("2026-11-25T10:00:00+08:00")).unwrap();
        assert_eq!(f.since.map(format_ts).as_deref(), Some("2026-11-25T02:00:00.000Z"));
    }

    #[test]
    fn a_span_of_n_hours_ends_with_the_current_one() {
        let now = time::macros::datetime!(2026-11-25 10:38 UTC);
        assert_eq!(span_start(now, 1), now);
        assert_eq!(span_start(now, 48), time::macros::datetime!(2026-11-23 11:38 UTC));
    }
}
