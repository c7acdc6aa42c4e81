//! `/api/v1/audit`: read, export (CSV, JSON) and verify the audit log.
//! Exports are themselves audited.

use anbao_store::AuditEntry;
use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::json;

use crate::AppState;
use crate::auth::{ClientAddr, Principal};
use crate::error::{ApiError, ErrorBody};
use crate::extract::Query;
use crate::ui::audit::AuditQuery;

#[derive(Serialize, utoipa::ToSchema)]
pub struct AuditEntryView {
    pub seq: i64,
    /// RFC 3339 UTC.
    pub at: String,
    pub actor: String,
    pub actor_role: String,
    /// ui, api, cli or system.
    pub channel: String,
    pub source_ip: String,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    pub org_unit_id: Option<i64>,
    #[schema(value_type = Option<Object>)]
    pub before: Option<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    pub after: Option<serde_json::Value>,
    /// This entry's chain hash.
    pub hash: String,
}

impl From<AuditEntry> for AuditEntryView {
    fn from(e: AuditEntry) -> Self {
        AuditEntryView {
            seq: e.seq,
            at: e.at,
            actor: e.actor,
            actor_role: e.actor_role,
            channel: e.channel,
            source_ip: e.source_ip,
            action: e.action,
            object_type: e.object_type,
            object_id: e.object_id,
            org_unit_id: e.org_unit_id,
            before: e.before,
            after: e.after,
            hash: e.hash,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, body = [AuditEntryView]), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    p: Principal,
    Query(q): Query<AuditQuery>,
) -> Result<Json<Vec<AuditEntryView>>, ApiError> {
    let mut filter = q.to_filter(&p, 100)?;
    filter.limit = filter.limit.clamp(1, 10_000);
    Ok(Json(state.store.list_audit(&filter).await?.into_iter().map(Into::into).collect()))
}

const EXPORT_LIMIT: i64 = 100_000;

#[utoipa::path(get, path = "/api/v1/audit/export", tag = "audit", params(AuditQuery),
    responses((status = 200, description = "CSV (text/csv) or JSON array of entries"), (status = 400, body = ErrorBody)))]
pub async fn export(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Query(q): Query<AuditQuery>,
) -> Result<Response, ApiError> {
    let format = q.format.clone().unwrap_or_else(|| "json".into());
    if format != "csv" && format != "json" {
        return Err(ApiError::field("format", format!("format: {format:?} is not csv or json")));
    }
    let mut filter = q.to_filter(&p, EXPORT_LIMIT)?;
    filter.limit = filter.limit.clamp(1, EXPORT_LIMIT);
    let entries = state.store.list_audit(&filter).await?;
    state
        .store
        .audit_event(
            &p.actor(&client),
            "audit.export",
            "audit_log",
            "",
            Some(p.home_unit),
            Some(&json!({ "format": format, "entries": entries.len() })),
        )
        .await?;
    if format == "json" {
        let views: Vec<AuditEntryView> = entries.into_iter().map(Into::into).collect();
        let body = serde_json::to_vec_pretty(&views).map_err(|e| ApiError::bad_request(e.to_string()))?;
        return Ok((
            [
                (header::CONTENT_TYPE, "application/json"),
                (header::CONTENT_DISPOSITION, "attachment; filename=\"anbao-audit.json\""),
            ],
            body,
        )
            .into_response());
    }
    let mut w = csv::Writer::from_writer(Vec::new());
    let header_row = [
        "seq",
        "at",
        "actor",
        "actor_role",
        "channel",
        "source_ip",
        "action",
        "object_type",
        "object_id",
        "org_unit_id",
        "before",
        "after",
        "hash",
    ];
    let csv_err = |e: csv::Error| ApiError::bad_request(e.to_string());
    w.write_record(header_row).map_err(csv_err)?;
    for e in entries {
        let org = e.org_unit_id.map(|o| o.to_string()).unwrap_or_default();
        let before = e.before.map(|v| v.to_string()).unwrap_or_default();
        let after = e.after.map(|v| v.to_string()).unwrap_or_default();
        w.write_record([
            e.seq.to_string().as_str(),
            &e.at,
            &e.actor,
            &e.actor_role,
            &e.channel,
            &e.source_ip,
            &e.action,
            &e.object_type,
            &e.object_id,
            &org,
            &before,
            &after,
            &e.hash,
        ])
        .map_err(csv_err)?;
    }
    let body = w.into_inner().map_err(|e| ApiError::bad_request(e.to_string()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"anbao-audit.csv\""),
        ],
        body,
    )
        .into_response())
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct VerifyView {
    pub intact: bool,
    pub checked: u64,
    /// Sequence number and hash of the last good entry; record them
    /// elsewhere to detect a truncated tail later.
    pub head_seq: i64,
    pub head_hash: String,
    /// What is wrong, where, when not intact.
    #[schema(value_type = Option<Object>)]
    pub first_break: Option<serde_json::Value>,
    pub message: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit", responses((status = 200, body = VerifyView)))]
pub async fn verify(State(state): State<AppState>) -> Result<Json<VerifyView>, ApiError> {
    let v = state.store.verify_audit().await?;
    Ok(Json(VerifyView {
        intact: v.intact(),
        checked: v.checked,
        head_seq: v.head_seq,
        head_hash: v.head_hash.clone(),
        first_break: v.first_break.as_ref().and_then(|b| serde_json::to_value(b).ok()),
        message: v.first_break.as_ref().map(|b| b.to_string()),
    }))
}
