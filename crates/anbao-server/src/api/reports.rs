//! Regulator reports of incidents (issue #7, R2.4, R8.5, S1): generate an
//! initial, progress or final report from an incident, read it as JSON,
//! submit it signed to the configured recipient, and — on an instance that
//! collects reports — receive signed reports from registered senders at
//! `POST /api/v1/reports/inbound` (no session: the Ed25519 signature over
//! the sending time and the exact body bytes is the authentication). The
//! endpoint refuses replays: a signed time outside the allowed skew (401),
//! a report already received from that sender (409, marked `duplicate` so
//! the sender records it as delivered), and more than the allowed reports
//! per minute from one key (429 with `Retry-After`, a token bucket in the
//! database so every node counts the same). Scheme and schema:
//! `docs/incident-reports.md`.

use std::sync::Arc;
use std::time::Duration;

use anbao_model::report::{IncidentReport, ReportError, ReportKind, ReportingOrganisation};
use anbao_store::{ReceivedReport, ReportSender, ReportSubmission, StoredReport};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::api::incidents::{rules, visible};
use crate::auth::{ClientAddr, Principal};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, Path};
use crate::signing::{KEY_ID_HEADER, SIGNATURE_HEADER, SigningKey, TIMESTAMP_HEADER};

/// Largest report accepted at the inbound endpoint, in bytes.
pub const INBOUND_LIMIT: usize = 512 * 1024;

/// How far a signed sending time may be from the receiver's clock.
pub const DEFAULT_INBOUND_MAX_SKEW: Duration = Duration::from_secs(300);

/// Inbound reports per sender key and minute.
pub const DEFAULT_INBOUND_PER_MINUTE: u32 = 30;

/// How long a submission waits for the recipient.
const SUBMIT_TIMEOUT: Duration = Duration::from_secs(30);

/// Who reports: the instance name and operator category from `anbao.toml`.
pub(crate) fn organisation(state: &AppState) -> ReportingOrganisation {
    ReportingOrganisation { name: state.config.instance_name.clone(), category: state.config.operator_category }
}

/// This instance's signing key, created on first use and then kept (a key
/// file replaced while the server runs takes effect at its restart).
pub(crate) fn signing_key(state: &AppState) -> Result<Arc<SigningKey>, ApiError> {
    if let Some(key) = state.report_key.get() {
        return Ok(key.clone());
    }
    let path = state.config.report_signing_key.as_deref().ok_or_else(|| {
        ApiError::new(
            StatusCode::CONFLICT,
            "no report signing key is configured on this instance (report_signing_key_file)",
        )
    })?;
    let key = SigningKey::load_or_create(path).map_err(|e| {
        let id = crate::metrics::request_id();
        tracing::error!(request_id = %id, error = %e, "report signing key");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("internal error (request id {id})"))
    })?;
    // Two first uses at once read the same file (`load_or_create` links it
    // into place atomically); whichever is kept, it is that key.
    Ok(state.report_key.get_or_init(|| Arc::new(key)).clone())
}

/// A report visible to the principal (through its incident's unit).
pub(crate) async fn visible_report(state: &AppState, p: &Principal, id: i64) -> Result<StoredReport, ApiError> {
    let r = state.store.get_incident_report(id).await?;
    if p.scope.contains(r.org_unit_id) { Ok(r) } else { Err(ApiError::not_found("report")) }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReportOut {
    pub id: i64,
    pub incident_id: i64,
    /// initial, progress or final.
    pub kind: String,
    pub report_uid: String,
    pub created_at: String,
    pub created_by: String,
    /// SHA-256 of the JSON body exactly as `json_url` serves it.
    pub sha256: String,
    pub json_url: String,
    pub html_url: String,
    pub pdf_url: String,
    #[schema(value_type = Vec<Object>)]
    pub submissions: Vec<ReportSubmission>,
}

impl ReportOut {
    pub(crate) fn new(r: &StoredReport, submissions: Vec<ReportSubmission>) -> ReportOut {
        ReportOut {
            id: r.id,
            incident_id: r.incident_id,
            kind: r.kind.as_str().to_owned(),
            report_uid: r.report_uid.clone(),
            created_at: r.created_at.clone(),
            created_by: r.created_by.clone(),
            sha256: r.sha256.clone(),
            json_url: format!("/api/v1/reports/{}", r.id),
            html_url: format!("/reports/{}", r.id),
            pdf_url: format!("/reports/{}.pdf", r.id),
            submissions,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateReportBody {
    /// initial, progress or final (final needs the incident's root cause and lessons).
    #[schema(value_type = String)]
    pub kind: ReportKind,
}

#[utoipa::path(post, path = "/api/v1/incidents/{id}/reports", tag = "respond", request_body = CreateReportBody,
    params(("id" = i64, Path, description = "incident id")),
    responses((status = 201, body = ReportOut, description = "the report, generated from the incident as it is now"),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody, description = "e.g. a final report without root cause")))]
pub async fn create(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<CreateReportBody>,
) -> Result<(StatusCode, Json<ReportOut>), ApiError> {
    visible(&state, &p, id).await?;
    let r = state
        .store
        .create_incident_report(&p.actor(&client), id, b.kind, &organisation(&state), rules(&state)?)
        .await?;
    Ok((StatusCode::CREATED, Json(ReportOut::new(&r, Vec::new()))))
}

#[utoipa::path(get, path = "/api/v1/incidents/{id}/reports", tag = "respond",
    params(("id" = i64, Path, description = "incident id")),
    responses((status = 200, body = Vec<ReportOut>, description = "the incident's reports, oldest first, with their submissions"),
        (status = 404, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<i64>,
) -> Result<Json<Vec<ReportOut>>, ApiError> {
    visible(&state, &p, id).await?;
    let mut out = Vec::new();
    for r in state.store.incident_reports(id).await? {
        let subs = state.store.report_submissions(r.id).await?;
        out.push(ReportOut::new(&r, subs));
    }
    Ok(Json(out))
}

/// The JSON text as stored (so its SHA-256 is the recorded one).
pub(crate) fn json_download(body: String, name: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/json".to_owned()),
            (header::CONTENT_DISPOSITION, format!("inline; filename=\"{name}.json\"")),
        ],
        body,
    )
        .into_response()
}

#[utoipa::path(get, path = "/api/v1/reports/{id}", tag = "respond", params(("id" = i64, Path, description = "report id")),
    responses((status = 200, description = "the report JSON exactly as stored and signed (schema anbao.incident-report/1)"),
        (status = 404, body = ErrorBody)))]
pub async fn get(State(state): State<AppState>, p: Principal, Path(id): Path<i64>) -> Result<Response, ApiError> {
    let r = visible_report(&state, &p, id).await?;
    Ok(json_download(r.body, &format!("incident-{}-report-{}", r.incident_id, r.id)))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SigningKeyOut {
    /// Always "ed25519".
    pub algorithm: String,
    /// Sent as `X-Anbao-Key-Id`: the first 16 hex digits of the public key's SHA-256.
    pub key_id: String,
    /// 64 hex digits; the receiver registers it with a sender name.
    pub public_key: String,
    /// Where submissions go; null when submission is off.
    pub submission_url: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/reports/signing-key", tag = "respond",
    responses((status = 200, body = SigningKeyOut, description = "this instance's report signing key (created on first use)"),
        (status = 409, body = ErrorBody, description = "no key file configured")))]
pub async fn signing_key_info(State(state): State<AppState>, _p: Principal) -> Result<Json<SigningKeyOut>, ApiError> {
    let k = signing_key(&state)?;
    Ok(Json(SigningKeyOut {
        algorithm: "ed25519".into(),
        key_id: k.key_id.clone(),
        public_key: k.public_key.clone(),
        submission_url: state.config.report_submission_url.as_deref().map(anbao_store::redact_url),
    }))
}

/// POSTs the report, signed, to the configured recipient and records the
/// outcome. One attempt: retries are the caller's (submit again).
pub(crate) async fn submit_report(
    state: &AppState,
    p: &Principal,
    client: &ClientAddr,
    r: &StoredReport,
) -> Result<ReportSubmission, ApiError> {
    if state.store.get_incident(r.incident_id).await?.exercise {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "the incident is a drill exercise: its reports are never submitted",
        ));
    }
    let url = state.config.report_submission_url.clone().ok_or_else(|| {
        ApiError::new(StatusCode::CONFLICT, "report submission is off: set report_submission_url in anbao.toml")
    })?;
    let key = signing_key(state)?;
    let (stamp, signature) = key.sign_at(state.store.clock().now().unix_timestamp(), r.body.as_bytes());
    let body = r.body.clone().into_bytes();
    let key_id = key.key_id.clone();
    let target = url.clone();
    let sent = tokio::task::spawn_blocking(move || {
        let agent = ureq::AgentBuilder::new().timeout(SUBMIT_TIMEOUT).redirects(0).build();
        let answer = agent
            .post(&target)
            .set("content-type", "application/json")
            .set(KEY_ID_HEADER, &key_id)
            .set(TIMESTAMP_HEADER, &stamp)
            .set(SIGNATURE_HEADER, &signature)
            .send_bytes(&body);
        match answer {
            Ok(resp) => ("accepted", Some(resp.status()), String::new()),
            Err(ureq::Error::Status(code, resp)) => {
                let text = resp.into_string().unwrap_or_default();
                let answer = serde_json::from_str::<serde_json::Value>(&text).ok();
                // 409 with `duplicate`: the receiver has exactly this report
                // already (an earlier answer was lost): delivered.
                if code == 409
                    && answer.as_ref().and_then(|v| v.get("duplicate")).and_then(|d| d.as_bool()) == Some(true)
                {
                    return ("accepted", Some(code), String::new());
                }
                // The receiver's JSON error says why; keep it short.
                let why =
                    answer.and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned)).unwrap_or(text);
                ("rejected", Some(code), why.chars().take(500).collect())
            }
            Err(ureq::Error::Transport(t)) => ("failed", None, t.to_string()),
        }
    })
    .await;
    let (outcome, status, error) = sent.unwrap_or_else(|join| ("failed", None, join.to_string()));
    Ok(state
        .store
        .record_report_submission(&p.actor(client), r.id, &anbao_store::redact_url(&url), outcome, status, &error)
        .await?)
}

#[utoipa::path(post, path = "/api/v1/reports/{id}/submit", tag = "respond", params(("id" = i64, Path, description = "report id")),
    responses((status = 201, description = "the recorded submission: outcome accepted, rejected (with the HTTP status) or failed"),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "submission is not configured")))]
pub async fn submit(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
) -> Result<(StatusCode, Json<ReportSubmission>), ApiError> {
    let r = visible_report(&state, &p, id).await?;
    let s = submit_report(&state, &p, &client, &r).await?;
    Ok((StatusCode::CREATED, Json(s)))
}

// ---------------------------------------------------------------------------
// The collector side.

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct InboundOut {
    /// Id of the received report here.
    pub id: i64,
    pub report_uid: String,
    pub sha256: String,
    /// Always false on 201; the 409 answer to a repeat says true.
    pub duplicate: bool,
}

/// The 409 answer to a report received before (same sender, same
/// `report_uid`, same bytes): an error body that also says which report it
/// is, so the sender can tell "already delivered" from a conflict.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct InboundDuplicate {
    pub status: u16,
    pub error: String,
    /// True: this very report is stored here already.
    pub duplicate: bool,
    /// Id of the stored report here.
    pub id: i64,
    pub report_uid: String,
    pub sha256: String,
}

/// Refused with 401 naming the header at fault.
fn unauthenticated_header(header: &str, message: String) -> ApiError {
    ApiError { field: Some(header.to_owned()), ..ApiError::unauthenticated_msg(&message) }
}

fn header_value<'a>(headers: &'a HeaderMap, name: &str) -> Result<&'a str, ApiError> {
    let v = headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim).unwrap_or_default();
    if v.is_empty() {
        return Err(ApiError {
            field: Some(name.to_owned()),
            ..ApiError::bad_request(format!("the {name} header is missing"))
        });
    }
    Ok(v)
}

#[utoipa::path(post, path = "/api/v1/reports/inbound", tag = "respond",
    params(("X-Anbao-Key-Id" = String, Header, description = "the sender's key id"),
        ("X-Anbao-Signature" = String, Header, description = "Ed25519 signature of the exact body bytes, hex")),
    responses((status = 201, body = InboundOut, description = "stored"), (status = 200, body = InboundOut, description = "received before"),
        (status = 400, body = ErrorBody, description = "missing header, malformed JSON or unsupported schema"),
        (status = 401, body = ErrorBody, description = "the signature does not verify, or the signed time is outside \
            the allowed skew (a replay or a sender's clock that is wrong)"),
        (status = 403, body = ErrorBody, description = "the key id is not registered, or revoked"),
        (status = 409, body = InboundDuplicate, description = "the report was received before: `duplicate` true with \
            the same bytes, absent when the report uid came with other content"),
        (status = 413, body = ErrorBody, description = "larger than 512 KiB"),
        (status = 429, body = ErrorBody, description = "too many reports from this key this minute; `Retry-After` \
            says when to try again")))]
pub async fn inbound(
    State(state): State<AppState>,
    client: ClientAddr,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, format!("a report may be at most {INBOUND_LIMIT} bytes"))
        } else {
            ApiError::bad_request(r.body_text())
        }
    })?;
    let key_id = header_value(&headers, KEY_ID_HEADER)?;
    let signature = header_value(&headers, SIGNATURE_HEADER)?;
    let stamp = header_value(&headers, TIMESTAMP_HEADER)?;
    let sender: ReportSender =
        state.store.report_sender_by_key_id(key_id).await?.ok_or_else(|| {
            ApiError::forbidden(&format!("key id {key_id:?} is not registered as a report sender here"))
        })?;
    if let Some(at) = &sender.revoked_at {
        return Err(ApiError::forbidden(&format!("key id {key_id:?} was revoked at {at}")));
    }
    if !crate::signing::verify(&sender.public_key, &crate::signing::signed_message(stamp, &body), signature) {
        return Err(ApiError::unauthenticated_msg(
            "the signature (over the timestamp header, a line feed and the body) does not verify against the \
             registered key",
        ));
    }
    // Signed, so the time is the sender's: refuse it when it is too far
    // from ours, either way.
    let sent_at: i64 = stamp.parse().map_err(|_| {
        unauthenticated_header(TIMESTAMP_HEADER, format!("the {TIMESTAMP_HEADER} header {stamp:?} is not Unix seconds"))
    })?;
    let max_skew = i64::try_from(state.config.report_inbound_max_skew.as_secs()).unwrap_or(i64::MAX);
    let skew = state.store.clock().now().unix_timestamp().saturating_sub(sent_at);
    if skew.unsigned_abs() > max_skew.unsigned_abs() {
        let which = if skew > 0 { "old" } else { "far in the future" };
        return Err(unauthenticated_header(
            TIMESTAMP_HEADER,
            format!(
                "the signed time {sent_at} is {} s {which} by this server's clock (at most {max_skew} s either way): \
                 a replayed or delayed request is refused; sign it again, and check the sender's clock",
                skew.unsigned_abs()
            ),
        ));
    }
    if let Some(wait) = state.store.take_report_inbound_token(key_id, state.config.report_inbound_per_minute).await? {
        let mut r = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "more than {} reports a minute from key id {key_id:?}; try again in {wait} s",
                state.config.report_inbound_per_minute
            ),
        )
        .into_response();
        r.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from(wait));
        return Ok(r);
    }
    let text = std::str::from_utf8(&body).map_err(|_| ApiError::bad_request("the body is not UTF-8 JSON"))?;
    let report = IncidentReport::parse(body.as_ref()).map_err(|e| match e {
        ReportError::UnsupportedSchema { .. } => ApiError::field("schema", e.to_string()),
        other => ApiError::bad_request(other.to_string()),
    })?;
    let (received, new) = state.store.store_received_report(&sender, &report, text, &client.0).await?;
    if !new {
        let out = InboundDuplicate {
            status: StatusCode::CONFLICT.as_u16(),
            error: format!(
                "report {} (sha256 {}) was received from this sender before, as #{} at {}: a repeat is refused",
                received.report_uid, received.sha256, received.id, received.received_at
            ),
            duplicate: true,
            id: received.id,
            report_uid: received.report_uid,
            sha256: received.sha256,
        };
        return Ok((StatusCode::CONFLICT, Json(out)).into_response());
    }
    let out =
        InboundOut { id: received.id, report_uid: received.report_uid, sha256: received.sha256, duplicate: false };
    Ok((StatusCode::CREATED, Json(out)).into_response())
}

#[utoipa::path(get, path = "/api/v1/reports/received", tag = "respond",
    responses((status = 200, description = "reports received from registered senders, newest first")))]
pub async fn received(State(state): State<AppState>, _p: Principal) -> Result<Json<Vec<ReceivedReport>>, ApiError> {
    Ok(Json(state.store.received_reports().await?))
}

#[utoipa::path(get, path = "/api/v1/reports/received/{id}", tag = "respond",
    params(("id" = i64, Path, description = "received report id")),
    responses((status = 200, description = "the report JSON exactly as received"), (status = 404, body = ErrorBody)))]
pub async fn received_get(
    State(state): State<AppState>,
    _p: Principal,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let r = state.store.get_received_report(id).await?;
    Ok(json_download(r.body, &format!("received-report-{}", r.id)))
}

#[utoipa::path(get, path = "/api/v1/report-senders", tag = "respond",
    responses((status = 200, description = "registered senders with their key ids and public keys")))]
pub async fn senders(State(state): State<AppState>, _p: Principal) -> Result<Json<Vec<ReportSender>>, ApiError> {
    Ok(Json(state.store.list_report_senders().await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SenderBody {
    /// Who sends, e.g. the operator's name.
    pub name: String,
    /// Their Ed25519 public key, 64 hex digits (from their `/api/v1/reports/signing-key`).
    pub public_key: String,
}

#[utoipa::path(post, path = "/api/v1/report-senders", tag = "respond", request_body = SenderBody,
    responses((status = 201, description = "the sender with its key id"), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_sender(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    JsonBody(b): JsonBody<SenderBody>,
) -> Result<(StatusCode, Json<ReportSender>), ApiError> {
    let s = state.store.add_report_sender(&p.actor(&client), &b.name, &b.public_key).await?;
    Ok((StatusCode::CREATED, Json(s)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewBody {
    /// What caused the incident (at most 4000 characters).
    #[serde(default)]
    pub root_cause: String,
    /// What was learned (at most 4000 characters).
    #[serde(default)]
    pub lessons: String,
}

#[utoipa::path(put, path = "/api/v1/incidents/{id}/review", tag = "respond", request_body = ReviewBody,
    params(("id" = i64, Path, description = "incident id")),
    responses((status = 200, description = "the incident"), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn review(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<ReviewBody>,
) -> Result<Json<crate::api::incidents::IncidentDetail>, ApiError> {
    visible(&state, &p, id).await?;
    let i = state.store.set_incident_review(&p.actor(&client), id, &b.root_cause, &b.lessons).await?;
    Ok(Json(crate::api::incidents::detail(&state, &p, i).await?))
}

#[utoipa::path(delete, path = "/api/v1/report-senders/{id}", tag = "respond", params(("id" = i64, Path, description = "sender id")),
    responses((status = 200, description = "the sender, revoked: its signatures are refused from now on"), (status = 404, body = ErrorBody)))]
pub async fn revoke_sender(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
) -> Result<Json<ReportSender>, ApiError> {
    Ok(Json(state.store.revoke_report_sender(&p.actor(&client), id).await?))
}
