//! `/api/v1/incidents/{id}/evidence` and `/api/v1/incidents/{id}/observables`:
//! evidence files and observables on an incident (issue #7, R2.6).
//!
//! Evidence is uploaded as `multipart/form-data` (field `file`, optional
//! `description`) or as the raw body with `?filename=` (and optional
//! `&description=`). Files above `incident_evidence_max_bytes` are refused
//! with 413. Downloads are always `application/octet-stream` attachments
//! with `nosniff`: a browser never renders or runs evidence. Downloading
//! needs `ReadSubscribers` as well as the incident: raw captures and logs
//! hold subscribers' addresses that cannot be masked, so the regulator
//! (which sees subscribers as networks) gets the list, not the bytes.
//!
//! Observables are looked up in the intel store (the same lookup as
//! `/api/v1/intel/lookup`) and published as indicators by the roles that
//! manage intel.

use anbao_intel::{Category, IndicatorKind, Tlp};
use anbao_store::{EvidenceDraft, IncidentEvidence, IncidentObservable, ObservableDraft, PublishDraft};
use axum::Json;
use axum::body::to_bytes;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::api::incidents::visible;
use crate::api::intel::{LookupResult, body_err, lookup_values, parse_opt, upload_name};
use crate::auth::{ClientAddr, Principal};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, Path};

/// The route's hard body limit: the largest configurable file plus room
/// for the multipart framing and form fields.
pub const UPLOAD_CEILING: usize = anbao_store::INCIDENT_EVIDENCE_MAX_CEILING + FORM_SLACK;

/// Bytes allowed beyond the file for the multipart framing and fields.
const FORM_SLACK: usize = 64 * 1024;

/// Default TLP and confidence of a published observable.
pub const DEFAULT_TLP: Tlp = Tlp::Amber;
pub const DEFAULT_CONFIDENCE: u8 = 80;

/// An evidence upload as the OpenAPI document shows it.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct EvidenceUpload {
    /// The file (at most `incident_evidence_max_bytes`, 32 MiB by default).
    #[schema(content_media_type = "application/octet-stream")]
    pub file: Vec<u8>,
    /// What it is (at most 1000 characters).
    pub description: Option<String>,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RawUploadQuery {
    /// The file name, for a raw (non-multipart) body.
    pub filename: Option<String>,
    /// What it is, for a raw body.
    pub description: Option<String>,
    /// The CSRF token of a browser form (multipart forms carry it here;
    /// `auth::enforce` checks it, the handler only accepts it).
    #[serde(rename = "_csrf")]
    #[param(ignore)]
    #[allow(dead_code)]
    pub csrf: Option<String>,
}

/// What an upload carries.
#[derive(Debug, Default)]
pub(crate) struct EvidenceForm {
    pub file: Option<(String, Vec<u8>)>,
    pub description: String,
}

/// The configured largest file.
pub(crate) fn max_bytes(state: &AppState) -> usize {
    state.config.incident_evidence_max_bytes.clamp(1, anbao_store::INCIDENT_EVIDENCE_MAX_CEILING)
}

fn too_large(state: &AppState, what: &str) -> ApiError {
    ApiError {
        status: StatusCode::PAYLOAD_TOO_LARGE,
        message: format!("{what}; an evidence file may have at most {} bytes", max_bytes(state)),
        field: Some("file".to_owned()),
    }
}

/// Reads an upload, multipart or raw, refusing a declared length over the
/// limit before reading anything.
pub(crate) async fn read_evidence_upload(state: &AppState, req: Request) -> Result<EvidenceForm, ApiError> {
    let limit = max_bytes(state);
    let declared =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    let content_type =
        req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_ascii_lowercase();
    let multipart = content_type.starts_with("multipart/form-data");
    let slack = if multipart { FORM_SLACK } else { 0 };
    if let Some(n) = declared
        && n > (limit + slack) as u64
    {
        return Err(too_large(state, &format!("the upload is {n} bytes")));
    }
    if multipart {
        let mut mp = Multipart::from_request(req, state)
            .await
            .map_err(|e| ApiError::new(e.status(), format!("upload: {}", e.body_text())))?;
        let bad = |e: axum::extract::multipart::MultipartError| {
            let status = e.status();
            ApiError::new(status, format!("upload: {}", e.body_text()))
        };
        let mut form = EvidenceForm::default();
        while let Some(field) = mp.next_field().await.map_err(bad)? {
            let name = field.name().unwrap_or_default().to_owned();
            if name == "file" {
                let file_name = upload_name(field.file_name());
                let bytes = field.bytes().await.map_err(bad)?;
                form.file = Some((file_name, bytes.to_vec()));
                continue;
            }
            let text = field.text().await.map_err(bad)?;
            match name.as_str() {
                "description" => form.description = text.replace("\r\n", "\n").trim().to_owned(),
                other => return Err(ApiError::field(other, format!("{other}: unknown field"))),
            }
        }
        return Ok(form);
    }
    let query: RawUploadQuery = serde_urlencoded::from_str(req.uri().query().unwrap_or_default())
        .map_err(|e| ApiError::bad_request(format!("the query string is not valid: {e}")))?;
    let Some(name) = query.filename.as_deref().map(str::trim).filter(|n| !n.is_empty()) else {
        return Err(ApiError::field(
            "filename",
            "filename: send multipart/form-data with the file in field `file`, or the raw body with ?filename=NAME",
        ));
    };
    let name = upload_name(Some(name));
    let bytes = to_bytes(req.into_body(), limit)
        .await
        .map_err(|_| too_large(state, &format!("the upload is more than {limit} bytes")))?;
    Ok(EvidenceForm { file: Some((name, bytes.to_vec())), description: query.description.unwrap_or_default() })
}

/// Stores an upload on the incident.
pub(crate) async fn add_evidence(
    state: &AppState,
    p: &Principal,
    client: &ClientAddr,
    incident_id: i64,
    form: EvidenceForm,
) -> Result<EvidenceAdded, ApiError> {
    let Some((file_name, bytes)) = form.file else {
        return Err(ApiError::field("file", "file: choose a file"));
    };
    let draft = EvidenceDraft { file_name, description: form.description };
    let (evidence, new_content) =
        state.store.add_incident_evidence(&p.actor(client), incident_id, &bytes, &draft, max_bytes(state)).await?;
    Ok(EvidenceAdded { new_content, evidence })
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EvidenceAdded {
    /// False when the same bytes were already stored (for this or another
    /// incident): the file is kept once.
    pub new_content: bool,
    #[schema(value_type = Object)]
    pub evidence: IncidentEvidence,
}

#[utoipa::path(get, path = "/api/v1/incidents/{id}/evidence", tag = "respond",
    params(("id" = i64, Path, description = "incident id")),
    responses((status = 200, description = "the evidence files (id, sha256, file_name, size, file_type, description, created_by, created_at), oldest first"),
        (status = 404, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<i64>,
) -> Result<Json<Vec<IncidentEvidence>>, ApiError> {
    visible(&state, &p, id).await?;
    Ok(Json(state.store.incident_evidence(id).await?))
}

#[utoipa::path(post, path = "/api/v1/incidents/{id}/evidence", tag = "respond",
    params(("id" = i64, Path, description = "incident id"), RawUploadQuery),
    request_body(content = EvidenceUpload, content_type = "multipart/form-data",
        description = "or any other content type: the raw file, named by ?filename="),
    responses((status = 201, body = EvidenceAdded), (status = 404, body = ErrorBody),
        (status = 413, body = ErrorBody, description = "larger than incident_evidence_max_bytes"),
        (status = 422, body = ErrorBody, description = "e.g. an empty file")))]
pub async fn upload(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    req: Request,
) -> Result<(StatusCode, Json<EvidenceAdded>), ApiError> {
    visible(&state, &p, id).await?;
    let form = read_evidence_upload(&state, req).await?;
    Ok((StatusCode::CREATED, Json(add_evidence(&state, &p, &client, id, form).await?)))
}

/// The download: an attachment of a type no browser renders.
pub(crate) async fn download_response(
    state: &AppState,
    p: &Principal,
    client: &ClientAddr,
    id: i64,
    evidence_id: i64,
) -> Result<Response, ApiError> {
    visible(state, p, id).await?;
    let (e, bytes) = state.store.incident_evidence_content(&p.actor(client), id, evidence_id).await?;
    let ascii: String = e.file_name.chars().filter(|c| c.is_ascii_alphanumeric() || "._-".contains(*c)).collect();
    let fallback = if ascii.trim_start_matches('.').is_empty() { format!("evidence-{}", e.id) } else { ascii };
    let encoded = crate::ui::urlencode(&e.file_name).replace('/', "%2F");
    let disposition = format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}");
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
            (header::HeaderName::from_static("x-evidence-sha256"), e.sha256.clone()),
        ],
        bytes,
    )
        .into_response())
}

#[utoipa::path(get, path = "/api/v1/incidents/{id}/evidence/{evidence}/download", tag = "respond",
    params(("id" = i64, Path, description = "incident id"), ("evidence" = i64, Path, description = "evidence id")),
    responses((status = 200, content_type = "application/octet-stream",
            description = "the file as an attachment (checked against its SHA-256, sent in X-Evidence-SHA256); audited"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn download(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path((id, evidence_id)): Path<(i64, i64)>,
) -> Result<Response, ApiError> {
    download_response(&state, &p, &client, id, evidence_id).await
}

#[utoipa::path(delete, path = "/api/v1/incidents/{id}/evidence/{evidence}", tag = "respond",
    params(("id" = i64, Path, description = "incident id"), ("evidence" = i64, Path, description = "evidence id")),
    responses((status = 204, description = "removed (the bytes stay while another incident holds them)"),
        (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path((id, evidence_id)): Path<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    visible(&state, &p, id).await?;
    state.store.delete_incident_evidence(&p.actor(&client), id, evidence_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------------------
// Observables.

#[utoipa::path(get, path = "/api/v1/incidents/{id}/observables", tag = "respond",
    params(("id" = i64, Path, description = "incident id")),
    responses((status = 200, description = "the observables (id, kind, value, note, ioc, origin, indicator_id, published_by, published_at, created_by, created_at), oldest first"),
        (status = 404, body = ErrorBody)))]
pub async fn observables(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<i64>,
) -> Result<Json<Vec<IncidentObservable>>, ApiError> {
    visible(&state, &p, id).await?;
    Ok(Json(state.store.incident_observables(id).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ObservableBody {
    /// An intel indicator kind: domain, url, ipv4, ipv6, cidr, md5, sha1,
    /// sha256, email, android_package, cert_sha256, ja3 or ja4.
    pub kind: String,
    /// The value; normalised as the intel store normalises it.
    pub value: String,
    /// At most 1000 characters.
    #[serde(default)]
    pub note: String,
    /// An indicator of compromise (default true).
    #[serde(default = "yes")]
    pub ioc: bool,
}

fn yes() -> bool {
    true
}

/// The kind of an observable as given.
pub(crate) fn parse_kind(s: &str) -> Result<IndicatorKind, ApiError> {
    s.trim().parse::<IndicatorKind>().map_err(|e| {
        let kinds: Vec<&str> = IndicatorKind::ALL.iter().map(|k| k.as_str()).collect();
        ApiError::field("kind", format!("kind: {e}; use one of {}", kinds.join(", ")))
    })
}

#[utoipa::path(post, path = "/api/v1/incidents/{id}/observables", tag = "respond", request_body = ObservableBody,
    params(("id" = i64, Path, description = "incident id")),
    responses((status = 201, description = "the observable"), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "the incident has it already"),
        (status = 422, body = ErrorBody, description = "e.g. a CIDR with host bits set (the reason says which network)")))]
pub async fn add_observable(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<ObservableBody>,
) -> Result<(StatusCode, Json<IncidentObservable>), ApiError> {
    visible(&state, &p, id).await?;
    let d = ObservableDraft { kind: parse_kind(&b.kind)?, value: b.value, note: b.note, ioc: b.ioc };
    let o = state.store.add_incident_observable(&p.actor(&client), id, &d).await?;
    Ok((StatusCode::CREATED, Json(o)))
}

#[utoipa::path(post, path = "/api/v1/incidents/{id}/observables/from-alerts", tag = "respond",
    params(("id" = i64, Path, description = "incident id")),
    responses((status = 200, description = "the observables added (values already there are skipped)"),
        (status = 404, body = ErrorBody)))]
pub async fn from_alerts(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
) -> Result<Json<Vec<IncidentObservable>>, ApiError> {
    visible(&state, &p, id).await?;
    Ok(Json(state.store.add_observables_from_alerts(&p.actor(&client), id).await?))
}

#[utoipa::path(delete, path = "/api/v1/incidents/{id}/observables/{observable}", tag = "respond",
    params(("id" = i64, Path, description = "incident id"), ("observable" = i64, Path, description = "observable id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_observable(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path((id, observable_id)): Path<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    visible(&state, &p, id).await?;
    state.store.delete_incident_observable(&p.actor(&client), id, observable_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The intel lookup of one observable.
pub(crate) async fn lookup_observable(state: &AppState, o: &IncidentObservable) -> Result<LookupResult, ApiError> {
    let mut r = lookup_values(state, std::slice::from_ref(&o.value)).await?;
    r.results.pop().ok_or_else(|| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "the lookup gave no result"))
}

#[utoipa::path(get, path = "/api/v1/incidents/{id}/observables/{observable}/lookup", tag = "respond",
    params(("id" = i64, Path, description = "incident id"), ("observable" = i64, Path, description = "observable id")),
    responses((status = 200, body = LookupResult, description = "as one result of /api/v1/intel/lookup"),
        (status = 404, body = ErrorBody)))]
pub async fn lookup(
    State(state): State<AppState>,
    p: Principal,
    Path((id, observable_id)): Path<(i64, i64)>,
) -> Result<Json<LookupResult>, ApiError> {
    visible(&state, &p, id).await?;
    let o = state.store.incident_observable(id, observable_id).await?;
    Ok(Json(lookup_observable(&state, &o).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishBody {
    /// botnet_cc, trojan, mobile_malware, phishing, malicious_url,
    /// malicious_download, scanner, spam or other.
    pub category: String,
    /// clear, green, amber (default), amber+strict or red.
    #[serde(default)]
    pub tlp: Option<String>,
    /// 0–100 (default 80).
    #[serde(default)]
    pub confidence: Option<u8>,
}

/// How to publish, as given (API body or form).
pub(crate) struct PublishRequest<'a> {
    pub category: &'a str,
    pub tlp: Option<&'a str>,
    pub confidence: Option<u8>,
}

/// Publishes and refreshes the live index so matching sees it at once.
pub(crate) async fn publish_observable(
    state: &AppState,
    p: &Principal,
    client: &ClientAddr,
    (id, observable_id): (i64, i64),
    req: &PublishRequest<'_>,
) -> Result<IncidentObservable, ApiError> {
    visible(state, p, id).await?;
    let Some(category) = parse_opt::<Category>("category", Some(req.category), body_err)? else {
        return Err(ApiError::field("category", "category: choose the indicator's category"));
    };
    let tlp = parse_opt::<Tlp>("tlp", req.tlp, body_err)?.unwrap_or(DEFAULT_TLP);
    let confidence = req.confidence.unwrap_or(DEFAULT_CONFIDENCE);
    let draft = PublishDraft { category, tlp, confidence };
    let o = state.store.publish_incident_observable(&p.actor(client), id, observable_id, &draft).await?;
    if let Err(e) = state.intel.refresh(&state.store).await {
        tracing::warn!(error = %e, "intel index refresh after publishing an observable failed");
    }
    Ok(o)
}

#[utoipa::path(post, path = "/api/v1/incidents/{id}/observables/{observable}/publish", tag = "respond",
    request_body = PublishBody,
    params(("id" = i64, Path, description = "incident id"), ("observable" = i64, Path, description = "observable id")),
    responses((status = 200, description = "the observable with its indicator_id"),
        (status = 403, body = ErrorBody, description = "only roles that manage intel publish"),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn publish(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path((id, observable_id)): Path<(i64, i64)>,
    JsonBody(b): JsonBody<PublishBody>,
) -> Result<Json<IncidentObservable>, ApiError> {
    let req = PublishRequest { category: &b.category, tlp: b.tlp.as_deref(), confidence: b.confidence };
    let o = publish_observable(&state, &p, &client, (id, observable_id), &req).await?;
    Ok(Json(o))
}
