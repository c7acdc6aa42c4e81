//! `/api/v1/notifications`: channels (their secrets are accepted, never
//! returned), rules, the delivery records, and a test message per channel.

use anbao_model::incident::IncidentLevel;
use anbao_store::{Notification, NotifyChannel, NotifyChannelDraft, NotifyRule, NotifyRuleDraft};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;

use crate::AppState;
use crate::auth::{ClientAddr, Principal};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, Path, Query};
use crate::notify::ChannelSettings;

/// Parses and checks a channel's settings; the message names the field.
pub(crate) fn settings_of(value: serde_json::Value) -> Result<ChannelSettings, String> {
    let settings: ChannelSettings = serde_json::from_value(value).map_err(|e| format!("settings: {e}"))?;
    settings.check().map_err(|e| format!("settings.{e}"))?;
    Ok(settings)
}

fn parse_settings(value: serde_json::Value) -> Result<ChannelSettings, ApiError> {
    settings_of(value).map_err(|m| ApiError::field("settings", m))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelBody {
    pub name: String,
    /// By `kind`: `email` {host, port, security: starttls|tls|none, user,
    /// password, from, to: [..]}, `webhook` {url, secret}, `wecom` {url},
    /// `dingtalk` {url, secret?}, `feishu` {url, secret?}. Required on
    /// create; on update, leave it out to keep the stored settings.
    #[schema(value_type = Object)]
    pub settings: Option<serde_json::Value>,
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

#[utoipa::path(get, path = "/api/v1/notifications/channels", tag = "respond", responses((status = 200, body = [Object])))]
pub async fn channels(State(state): State<AppState>) -> Result<Json<Vec<NotifyChannel>>, ApiError> {
    Ok(Json(state.store.list_notify_channels().await?))
}

#[utoipa::path(post, path = "/api/v1/notifications/channels", tag = "respond", request_body = ChannelBody,
    responses((status = 201, body = Object), (status = 422, body = ErrorBody)))]
pub async fn create_channel(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    JsonBody(body): JsonBody<ChannelBody>,
) -> Result<(StatusCode, Json<NotifyChannel>), ApiError> {
    let value = body.settings.ok_or_else(|| ApiError::field("settings", "settings: required"))?;
    let settings = parse_settings(value)?;
    let draft = NotifyChannelDraft {
        name: body.name,
        kind: settings.kind().to_owned(),
        target: settings.target(),
        settings: Some(serde_json::to_value(&settings).map_err(|e| ApiError::field("settings", e.to_string()))?),
        enabled: body.enabled,
    };
    Ok((StatusCode::CREATED, Json(state.store.create_notify_channel(&p.actor(&client), &draft).await?)))
}

#[utoipa::path(put, path = "/api/v1/notifications/channels/{id}", tag = "respond", request_body = ChannelBody,
    params(("id" = i64, Path, description = "channel id")),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_channel(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    JsonBody(body): JsonBody<ChannelBody>,
) -> Result<Json<NotifyChannel>, ApiError> {
    let before = state.store.get_notify_channel(id).await?;
    let draft = match body.settings {
        Some(value) => {
            let settings = parse_settings(value)?;
            NotifyChannelDraft {
                name: body.name,
                kind: settings.kind().to_owned(),
                target: settings.target(),
                settings: Some(
                    serde_json::to_value(&settings).map_err(|e| ApiError::field("settings", e.to_string()))?,
                ),
                enabled: body.enabled,
            }
        }
        None => NotifyChannelDraft {
            name: body.name,
            kind: before.kind,
            target: before.target,
            settings: None,
            enabled: body.enabled,
        },
    };
    Ok(Json(state.store.update_notify_channel(&p.actor(&client), id, &draft).await?))
}

#[utoipa::path(delete, path = "/api/v1/notifications/channels/{id}", tag = "respond",
    params(("id" = i64, Path, description = "channel id")),
    responses((status = 204, description = "deleted with its rules and records"), (status = 404, body = ErrorBody)))]
pub async fn delete_channel(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    state.store.delete_notify_channel(&p.actor(&client), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/notifications/channels/{id}/test", tag = "respond",
    params(("id" = i64, Path, description = "channel id")),
    responses((status = 202, body = Object, description = "queued; the worker sends it"), (status = 404, body = ErrorBody)))]
pub async fn test_channel(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
) -> Result<(StatusCode, Json<Notification>), ApiError> {
    Ok((StatusCode::ACCEPTED, Json(state.store.queue_test_notification(&p.actor(&client), id).await?)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleBody {
    pub channel_id: i64,
    /// incident_opened, incident_level_raised, deadline_approaching, deadline_passed, alert,
    /// warning_issued, warning_adjusted, warning_lifted or incident_leak_duty.
    pub event: String,
    /// Incident events: the lowest level that notifies (none, IV, III, II, I).
    #[schema(value_type = String, example = "IV")]
    #[serde(default = "no_level")]
    pub min_level: IncidentLevel,
    /// `alert`: the lowest severity, 1 low … 4 critical.
    #[serde(default)]
    pub min_severity: i64,
    /// `deadline_approaching`: minutes before the reporting deadline.
    #[serde(default)]
    pub minutes_before: i64,
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn no_level() -> IncidentLevel {
    IncidentLevel::None
}

#[utoipa::path(get, path = "/api/v1/notifications/rules", tag = "respond", responses((status = 200, body = [Object])))]
pub async fn rules(State(state): State<AppState>) -> Result<Json<Vec<NotifyRule>>, ApiError> {
    Ok(Json(state.store.list_notify_rules().await?))
}

#[utoipa::path(post, path = "/api/v1/notifications/rules", tag = "respond", request_body = RuleBody,
    responses((status = 201, body = Object), (status = 422, body = ErrorBody)))]
pub async fn create_rule(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    JsonBody(b): JsonBody<RuleBody>,
) -> Result<(StatusCode, Json<NotifyRule>), ApiError> {
    let draft = NotifyRuleDraft {
        channel_id: b.channel_id,
        event: b.event,
        min_level: b.min_level,
        min_severity: b.min_severity,
        minutes_before: b.minutes_before,
        enabled: b.enabled,
    };
    Ok((StatusCode::CREATED, Json(state.store.create_notify_rule(&p.actor(&client), &draft).await?)))
}

#[utoipa::path(put, path = "/api/v1/notifications/rules/{id}", tag = "respond", request_body = RuleBody,
    params(("id" = i64, Path, description = "rule id")),
    responses((status = 200, body = Object, description = "the rule as changed (audited); `enabled: false` stops it \
            queueing"), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_rule(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<RuleBody>,
) -> Result<Json<NotifyRule>, ApiError> {
    let draft = NotifyRuleDraft {
        channel_id: b.channel_id,
        event: b.event,
        min_level: b.min_level,
        min_severity: b.min_severity,
        minutes_before: b.minutes_before,
        enabled: b.enabled,
    };
    Ok(Json(state.store.update_notify_rule(&p.actor(&client), id, &draft).await?))
}

#[utoipa::path(delete, path = "/api/v1/notifications/rules/{id}", tag = "respond",
    params(("id" = i64, Path, description = "rule id")),
    responses((status = 204, description = "deleted"), (status = 404, body = ErrorBody)))]
pub async fn delete_rule(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    state.store.delete_notify_rule(&p.actor(&client), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RecordQuery {
    /// pending, sent or failed.
    pub status: Option<String>,
    /// At most this many, newest first (default 200, at most 1000).
    pub limit: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/notifications", tag = "respond", params(RecordQuery),
    responses((status = 200, body = [Object], description = "every notification with its attempts and outcome")))]
pub async fn list(
    State(state): State<AppState>,
    Query(q): Query<RecordQuery>,
) -> Result<Json<Vec<Notification>>, ApiError> {
    let limit = q.limit.unwrap_or(200).clamp(1, 1000);
    Ok(Json(state.store.list_notifications(q.status.as_deref(), limit).await?))
}
