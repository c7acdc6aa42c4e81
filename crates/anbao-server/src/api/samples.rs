//! `/api/v1/intel/samples`: the malware sample library (issue #4, R3.5).
//!
//! Uploads are a file, or a zip of files encrypted with the conventional
//! password (`infected`, or the one given); a zip is unpacked (with caps on
//! entries and bytes) unless `keep_zip` asks to keep it as one sample. APKs
//! and JARs are zips too, but are samples as they are. The store keeps the
//! bytes by SHA-256 and states the sample's hashes as indicators.
//!
//! Downloads need `DownloadSamples` and are **always** a zip encrypted with
//! `infected`, served as an attachment: a browser or mail gateway never
//! sees a runnable file. Each download is audited (by the store).

use anbao_intel::Category;
use anbao_intel::sample::{CONVENTIONAL_PASSWORD, SampleError, file_type, pack_zip, unpack_zip};
use anbao_model::clock::format_ts;
use anbao_store::{MAX_SAMPLE_BYTES, Sample, SampleDraft};
use axum::Json;
use axum::extract::{Multipart, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::api::intel::{body_err, parse_opt, upload_name};
use crate::auth::{ClientAddr, Principal};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Path, Query};

/// Largest upload: one sample at the store's limit, with room for the form.
pub const UPLOAD_LIMIT: usize = MAX_SAMPLE_BYTES + 1024 * 1024;

/// Most files taken from one zip.
pub const MAX_ZIP_ENTRIES: usize = 100;

/// Most bytes one zip may unpack to (a zip bomb is an error, not memory
/// exhausted).
pub const MAX_ZIP_BYTES: u64 = 2 * MAX_SAMPLE_BYTES as u64;

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct SampleView {
    pub id: i64,
    pub sha256: String,
    pub sha1: String,
    pub md5: String,
    /// Bytes.
    pub size: i64,
    /// From magic numbers: pe-exe, pe-dll, elf, macho, dex, apk, jar, zip,
    /// pdf, ole2, rtf, gzip, script or data.
    pub file_type: String,
    /// As uploaded (or the name inside the zip).
    pub file_name: String,
    /// Malware family, e.g. Mirai.
    pub family: String,
    pub notes: String,
    pub created_by: String,
    pub created_at: String,
}

impl From<&Sample> for SampleView {
    fn from(s: &Sample) -> Self {
        SampleView {
            id: s.id,
            sha256: s.sha256.clone(),
            sha1: s.sha1.clone(),
            md5: s.md5.clone(),
            size: s.size,
            file_type: s.file_type.clone(),
            file_name: s.file_name.clone(),
            family: s.family.clone(),
            notes: s.notes.clone(),
            created_by: s.created_by.clone(),
            created_at: format_ts(s.created_at),
        }
    }
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct SampleDetail {
    #[serde(flatten)]
    pub sample: SampleView,
    /// The hash indicators made from it (`/api/v1/intel/indicators/{id}`).
    pub indicator_ids: Vec<i64>,
}

impl From<&Sample> for SampleDetail {
    fn from(s: &Sample) -> Self {
        SampleDetail { sample: s.into(), indicator_ids: s.indicator_ids.clone() }
    }
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct SampleAdded {
    /// False when a sample with this SHA-256 was already there (its family
    /// and notes were updated where given).
    pub created: bool,
    pub sample: SampleDetail,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SampleQuery {
    /// Start of a SHA-256, SHA-1 or MD5, or part of the file name or family.
    pub q: Option<String>,
    /// At most this many (default 100, at most 1000).
    pub limit: Option<i64>,
}

/// An upload as `multipart/form-data` (the OpenAPI document's view of it).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct SampleUpload {
    /// The sample, or a zip of samples (at most 64 MiB).
    #[schema(content_media_type = "application/octet-stream")]
    pub file: Vec<u8>,
    pub family: Option<String>,
    pub notes: Option<String>,
    /// Category of its hash indicators (default mobile_malware for APK/DEX, else trojan).
    pub category: Option<String>,
    /// The zip's password (default `infected`).
    pub zip_password: Option<String>,
    /// `true`: store a zip as one sample instead of unpacking it.
    pub keep_zip: Option<String>,
}

/// What an upload form carries.
#[derive(Debug, Default)]
pub(crate) struct UploadForm {
    pub file: Option<(String, Vec<u8>)>,
    pub family: String,
    pub notes: String,
    pub category: Option<String>,
    pub zip_password: Option<String>,
    pub keep_zip: bool,
}

pub(crate) async fn read_sample_upload(mut multipart: Multipart) -> Result<UploadForm, ApiError> {
    let bad = |e: axum::extract::multipart::MultipartError| {
        let status = e.status();
        ApiError::new(status, format!("upload: {}", e.body_text()))
    };
    let mut form = UploadForm::default();
    while let Some(field) = multipart.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "file" {
            let file_name = upload_name(field.file_name());
            let bytes = field.bytes().await.map_err(bad)?;
            form.file = Some((file_name, bytes.to_vec()));
            continue;
        }
        let text = field.text().await.map_err(bad)?;
        match name.as_str() {
            "family" => form.family = text.trim().to_owned(),
            "notes" => form.notes = text.trim().to_owned(),
            "category" => form.category = Some(text.trim().to_owned()).filter(|t| !t.is_empty()),
            // Passwords are not trimmed: a space may be part of one.
            "zip_password" => form.zip_password = Some(text).filter(|t| !t.is_empty()),
            "keep_zip" => form.keep_zip = matches!(text.trim(), "1" | "true" | "on" | "yes"),
            other => return Err(ApiError::field(other, format!("{other}: unknown field"))),
        }
    }
    Ok(form)
}

fn zip_error(e: SampleError) -> ApiError {
    match e {
        SampleError::WrongPassword { .. } => ApiError::field("zip_password", format!("zip_password: {e}")),
        other => ApiError::field("file", format!("file: {other}")),
    }
}

/// Stores the upload's sample(s); see the module doc.
pub(crate) async fn add_upload(
    state: &AppState,
    p: &Principal,
    client: &ClientAddr,
    form: UploadForm,
) -> Result<Vec<SampleAdded>, ApiError> {
    let category = parse_opt::<Category>("category", form.category.as_deref(), body_err)?;
    let Some((name, bytes)) = form.file.filter(|(_, b)| !b.is_empty()) else {
        return Err(ApiError::field("file", "file: choose a non-empty file"));
    };
    let files: Vec<(String, Vec<u8>)> = if file_type(&bytes) == "zip" && !form.keep_zip {
        let password = form.zip_password.as_deref().unwrap_or(CONVENTIONAL_PASSWORD).to_owned();
        let unpacked =
            tokio::task::spawn_blocking(move || unpack_zip(&bytes, &password, MAX_ZIP_ENTRIES, MAX_ZIP_BYTES))
                .await
                .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("unpacking failed: {e}")))?
                .map_err(zip_error)?;
        if unpacked.is_empty() {
            return Err(ApiError::field("file", "file: the zip holds no files"));
        }
        unpacked.into_iter().map(|u| (upload_name(Some(&u.name)), u.bytes)).collect()
    } else {
        vec![(name, bytes)]
    };
    let actor = p.actor(client);
    let mut out = Vec::with_capacity(files.len());
    for (file_name, bytes) in files {
        let draft = SampleDraft { file_name, family: form.family.clone(), notes: form.notes.clone(), category };
        let (sample, created) = state.store.add_sample(&actor, &bytes, &draft).await?;
        out.push(SampleAdded { created, sample: (&sample).into() });
    }
    // Matching sees the new hash indicators without waiting for the refresher.
    if let Err(e) = state.intel.refresh(&state.store).await {
        tracing::warn!(error = %e, "intel index refresh after a sample upload failed");
    }
    Ok(out)
}

#[utoipa::path(get, path = "/api/v1/intel/samples", tag = "intel", params(SampleQuery),
    responses((status = 200, body = [SampleView], description = "samples, newest first")))]
pub async fn list(
    State(state): State<AppState>,
    Query(q): Query<SampleQuery>,
) -> Result<Json<Vec<SampleView>>, ApiError> {
    let samples = state.store.samples(q.q.as_deref(), q.limit.unwrap_or(100)).await?;
    Ok(Json(samples.iter().map(Into::into).collect()))
}

#[utoipa::path(get, path = "/api/v1/intel/samples/{id}", tag = "intel",
    params(("id" = i64, Path, description = "sample id")),
    responses((status = 200, body = SampleDetail), (status = 404, body = ErrorBody)))]
pub async fn get(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Json<SampleDetail>, ApiError> {
    Ok(Json((&state.store.sample(id).await?).into()))
}

#[utoipa::path(post, path = "/api/v1/intel/samples", tag = "intel",
    request_body(content = SampleUpload, content_type = "multipart/form-data"),
    responses((status = 201, body = [SampleAdded], description = "one per file stored (several for a zip)"),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "e.g. a wrong zip password (field zip_password)")))]
pub async fn upload(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    req: axum::extract::Request,
) -> Result<(StatusCode, Json<Vec<SampleAdded>>), ApiError> {
    use axum::extract::FromRequest;
    let is_multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
    if !is_multipart {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send multipart/form-data with the sample (or a zip of samples) in field `file`",
        ));
    }
    let multipart = Multipart::from_request(req, &state)
        .await
        .map_err(|e| ApiError::new(e.status(), format!("upload: {}", e.body_text())))?;
    let form = read_sample_upload(multipart).await?;
    let added = add_upload(&state, &p, &client, form).await?;
    Ok((StatusCode::CREATED, Json(added)))
}

/// The download of a sample: always zipped with `infected`.
pub(crate) async fn download_response(
    state: &AppState,
    p: &Principal,
    client: &ClientAddr,
    id: i64,
) -> Result<Response, ApiError> {
    let (sample, bytes) = state.store.sample_content(&p.actor(client), id).await?;
    let name = sample.sha256.clone();
    let zipped = tokio::task::spawn_blocking(move || pack_zip(&name, &bytes, CONVENTIONAL_PASSWORD))
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("zipping failed: {e}")))?
        .map_err(|e| {
            tracing::error!(error = %e, sample = id, "zipping a sample");
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error zipping the sample")
        })?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{}.zip\"", sample.sha256)),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        ],
        zipped,
    )
        .into_response())
}

#[utoipa::path(get, path = "/api/v1/intel/samples/{id}/download", tag = "intel",
    params(("id" = i64, Path, description = "sample id")),
    responses((status = 200, content_type = "application/zip",
            description = "the sample as the only file of a zip encrypted with the password `infected`, named by its SHA-256"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn download(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    download_response(&state, &p, &client, id).await
}

#[utoipa::path(delete, path = "/api/v1/intel/samples/{id}", tag = "intel",
    params(("id" = i64, Path, description = "sample id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    state.store.delete_sample(&p.actor(&client), id).await?;
    Ok(StatusCode::NO_CONTENT)
}
