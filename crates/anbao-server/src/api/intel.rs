//! `/api/v1/intel`: the threat-intelligence store (R3.5, R3.6, R8.5) —
//! look values up in the live match index, search and read indicators with
//! their provenance, import feeds (in the background, progress in the run
//! record), export for blocking, and keep allowlists.
//!
//! Reading needs `ReadIntel`; changes need `ManageIntel`. Feed reading and
//! writing is `anbao_feeds`'s; this module owns HTTP.
//!
//! **Imports from URLs** make the server fetch an address a caller chose
//! (server-side request forgery: internal services, cloud metadata at
//! 169.254.169.254, the loopback interface). They are allowed to the `admin`
//! role only; analysts upload files. Only `http`/`https` URLs without
//! credentials in them are accepted: the URL is kept in the import record
//! and the audit log, which cannot be erased. Redirects are followed by the
//! fetcher, so an address check here would be no real barrier; the role is.

use std::collections::BTreeMap;
use std::sync::Arc;

use anbao_feeds::{ExportFormat, ExportRequest, FeedsError, Format, ImportOptions, Input, NoProgress};
use anbao_intel::allowlist::{AllowlistBuilder, Warninglist, WarninglistType};
use anbao_intel::lists::{Column, CsvMapping};
use anbao_intel::{Category, IndicatorKind};
use anbao_model::Role;
use anbao_model::Timestamp;
use anbao_model::clock::format_ts;
use anbao_store::{Actor, Allowlist, ImportRun, IndicatorFilter, Provenance, StoredIndicator};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, RawQuery, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::auth::{ClientAddr, Principal};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, Path, Query};

/// Largest feed upload (a MISP or STIX dump of a few million indicators).
pub const IMPORT_LIMIT: usize = 256 * 1024 * 1024;

/// Largest allowlist body (MISP warninglists of the top million domains).
pub const ALLOWLIST_LIMIT: usize = 32 * 1024 * 1024;

/// Most values one lookup takes.
pub const MAX_LOOKUP_VALUES: usize = 1000;

/// Most indicators per page.
pub const MAX_PAGE: i64 = 500;

/// A 400 for a query parameter, naming it.
pub(crate) fn bad_param(field: &str, message: impl std::fmt::Display) -> ApiError {
    ApiError { status: StatusCode::BAD_REQUEST, message: format!("{field}: {message}"), field: Some(field.to_owned()) }
}

/// An optional parameter parsed with `FromStr`; empty means absent (as
/// forms send an unselected choice).
pub(crate) fn parse_opt<T: std::str::FromStr<Err = String>>(
    field: &str,
    value: Option<&str>,
    err: fn(&str, String) -> ApiError,
) -> Result<Option<T>, ApiError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v.parse::<T>().map(Some).map_err(|e| err(field, e)),
    }
}

fn param_err(field: &str, message: String) -> ApiError {
    bad_param(field, message)
}

pub(crate) fn body_err(field: &str, message: String) -> ApiError {
    ApiError::field(field, format!("{field}: {message}"))
}

/// Maps an `anbao_feeds` error: the caller's (usage, unreadable input) to
/// 422, the store's through its own mapping, anything else to a 500.
pub(crate) fn feeds_error(e: FeedsError) -> ApiError {
    match e {
        FeedsError::Store(s) => s.into(),
        FeedsError::Usage(m) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, m),
        e @ FeedsError::Unreadable { .. } => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
        other => {
            let id = crate::metrics::request_id();
            tracing::error!(request_id = %id, error = %other, "intel error");
            ApiError {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                message: format!("internal error (request id {id})"),
                field: None,
            }
        }
    }
}

pub(crate) fn now(state: &AppState) -> Timestamp {
    state.store.clock().now()
}

// ---------------------------------------------------------------------------
// Views.

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct IndicatorView {
    pub id: i64,
    /// domain, url, ipv4, ipv6, cidr, md5, sha1, sha256, email,
    /// android_package, cert_sha256, ja3 or ja4.
    pub kind: String,
    /// In normal form.
    pub value: String,
    /// botnet_cc, trojan, mobile_malware, phishing, malicious_url,
    /// malicious_download, scanner, spam or other (that of the most
    /// confident source).
    pub category: String,
    /// 0–100, the highest any source gives.
    pub confidence: Option<u8>,
    /// clear, green, amber, amber+strict or red: the most restrictive.
    pub tlp: Option<String>,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
    /// None: no end (some source states none).
    pub valid_until: Option<String>,
    /// Whether it matches now (not expired).
    pub valid: bool,
    /// How many sources state it.
    pub sources: i64,
    pub created_at: String,
    pub updated_at: String,
}

impl IndicatorView {
    pub fn new(i: &StoredIndicator, now: Timestamp) -> IndicatorView {
        IndicatorView {
            id: i.id,
            kind: i.kind.to_string(),
            value: i.value.clone(),
            category: i.category.to_string(),
            confidence: i.confidence,
            tlp: i.tlp.map(|t| t.to_string()),
            first_seen: i.first_seen.map(format_ts),
            last_seen: i.last_seen.map(format_ts),
            valid_until: i.valid_until.map(format_ts),
            valid: i.is_valid_at(now),
            sources: i.sources,
            created_at: format_ts(i.created_at),
            updated_at: format_ts(i.updated_at),
        }
    }
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ProvenanceView {
    pub source: String,
    /// The feed's own id (STIX id, MISP attribute uuid).
    pub external_id: String,
    pub category: String,
    pub confidence: Option<u8>,
    pub tlp: Option<String>,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
    pub valid_until: Option<String>,
    pub tags: Vec<String>,
    pub context: String,
    /// The import run that last stated it.
    pub import_id: Option<i64>,
    pub updated_at: String,
}

impl From<&Provenance> for ProvenanceView {
    fn from(p: &Provenance) -> Self {
        ProvenanceView {
            source: p.source.clone(),
            external_id: p.external_id.clone(),
            category: p.category.to_string(),
            confidence: p.confidence,
            tlp: p.tlp.map(|t| t.to_string()),
            first_seen: p.first_seen.map(format_ts),
            last_seen: p.last_seen.map(format_ts),
            valid_until: p.valid_until.map(format_ts),
            tags: p.tags.clone(),
            context: p.context.clone(),
            import_id: p.import_id,
            updated_at: format_ts(p.updated_at),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct IndicatorDetail {
    #[serde(flatten)]
    pub indicator: IndicatorView,
    /// Every source's statement, most recent first.
    pub provenance: Vec<ProvenanceView>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct IndicatorPage {
    /// Newest first.
    pub items: Vec<IndicatorView>,
    /// Pass as `before` for the next page; absent on the last page.
    pub next_before: Option<i64>,
}

// ---------------------------------------------------------------------------
// Lookup.

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct LookupIndicator {
    #[serde(flatten)]
    pub indicator: IndicatorView,
    /// The sources stating it.
    pub source_names: Vec<String>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct LookupHitView {
    /// The kind of the listed value.
    pub kind: String,
    /// exact, parent_domain, covering_cidr or url_prefix.
    #[serde(rename = "match")]
    pub how: String,
    /// The listed value that matched (the parent domain, the covering
    /// network, the URL prefix, or the value itself).
    pub listed: String,
    pub indicators: Vec<LookupIndicator>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct AllowedByView {
    /// The allowlist.
    pub list: String,
    /// Its entry that covers the value.
    pub entry: String,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct LookupResult {
    /// As given (trimmed).
    pub value: String,
    /// The kind it was read as; none when it is no indicator value at all.
    pub kind: Option<String>,
    pub matched: bool,
    /// An enabled allowlist covers the value: nothing matches it.
    pub allowlisted: bool,
    pub allowed_by: Option<AllowedByView>,
    pub hits: Vec<LookupHitView>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct LookupResponse {
    /// One per value, in the order given.
    pub results: Vec<LookupResult>,
    /// The intel generation of the index that answered.
    pub generation: i64,
}

/// Looks `values` up in the live index, rebuilding it first when the store
/// changed since (an import or allowlist just made is seen).
pub(crate) async fn lookup_values(state: &AppState, values: &[String]) -> Result<LookupResponse, ApiError> {
    // Comparing generations is one query; only a stale index waits for the
    // (single) rebuild.
    if state.store.intel_generation().await? != state.intel.current().generation {
        state.intel.refresh(&state.store).await.map_err(feeds_error)?;
    }
    let snapshot = state.intel.current();
    let now = now(state);
    let lookups: Vec<anbao_feeds::Lookup> = values.iter().map(|v| snapshot.lookup(v, now)).collect();
    let mut ids: Vec<i64> = lookups.iter().flat_map(|l| l.hits.iter().flat_map(|h| h.ids.iter().copied())).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut found: BTreeMap<i64, LookupIndicator> = BTreeMap::new();
    for i in state.store.intel_indicators_by_ids(&ids).await? {
        let mut source_names: Vec<String> =
            state.store.intel_provenance(i.id).await?.into_iter().map(|p| p.source).collect();
        source_names.sort();
        found.insert(i.id, LookupIndicator { indicator: IndicatorView::new(&i, now), source_names });
    }
    let results = lookups
        .into_iter()
        .map(|l| {
            let hits: Vec<LookupHitView> = l
                .hits
                .into_iter()
                .map(|h| LookupHitView {
                    kind: h.kind,
                    how: h.how.to_owned(),
                    listed: h.listed,
                    indicators: h.ids.iter().filter_map(|id| found.get(id).cloned()).collect(),
                })
                // An indicator deleted since the index was built matches no more.
                .filter(|h| !h.indicators.is_empty())
                .collect();
            LookupResult {
                value: l.value,
                kind: l.kind,
                matched: !hits.is_empty(),
                allowlisted: l.allowlisted.is_some(),
                allowed_by: l.allowlisted.map(|a| AllowedByView { list: a.list, entry: a.entry }),
                hits,
            }
        })
        .collect();
    Ok(LookupResponse { results, generation: snapshot.generation })
}

/// The values of a lookup: trimmed, empties dropped, at most
/// [`MAX_LOOKUP_VALUES`].
pub(crate) fn lookup_list<'a>(values: impl IntoIterator<Item = &'a str>) -> Result<Vec<String>, ApiError> {
    let values: Vec<String> = values.into_iter().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned).collect();
    if values.len() > MAX_LOOKUP_VALUES {
        return Err(bad_param("value", format!("at most {MAX_LOOKUP_VALUES} values per lookup, got {}", values.len())));
    }
    Ok(values)
}

#[utoipa::path(get, path = "/api/v1/intel/lookup", tag = "intel",
    params(("value" = Vec<String>, Query, description = "a domain, URL, IP address, hash, e-mail address…; repeat for more (at most 1000)")),
    responses((status = 200, body = LookupResponse), (status = 400, body = ErrorBody)))]
pub async fn lookup(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Json<LookupResponse>, ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query.as_deref().unwrap_or_default())
        .map_err(|e| ApiError::bad_request(format!("the query string is not valid: {e}")))?;
    if let Some((k, _)) = pairs.iter().find(|(k, _)| k != "value") {
        return Err(bad_param(k, "unknown parameter; repeat `value` for each value to look up"));
    }
    let values = lookup_list(pairs.iter().map(|(_, v)| v.as_str()))?;
    if values.is_empty() {
        return Err(bad_param("value", "give at least one value to look up"));
    }
    Ok(Json(lookup_values(&state, &values).await?))
}

// ---------------------------------------------------------------------------
// Indicators.

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct IndicatorQuery {
    /// Substring of the value.
    pub q: Option<String>,
    /// Only this kind (domain, url, ipv4, …).
    pub kind: Option<String>,
    /// Only this category (botnet_cc, phishing, …).
    pub category: Option<String>,
    /// Only indicators this source states.
    pub source: Option<String>,
    /// true: only those valid now (not expired); false or absent: all.
    pub valid: Option<bool>,
    /// Keyset paging: only ids below this (the previous page's `next_before`).
    pub before: Option<i64>,
    /// At most this many (default 100, at most 500).
    pub limit: Option<i64>,
}

/// The store filter for search parameters as given (query string or form).
pub(crate) fn indicator_filter(
    q: Option<&str>,
    kind: Option<&str>,
    category: Option<&str>,
    source: Option<&str>,
    valid_only: bool,
    now: Timestamp,
) -> Result<IndicatorFilter, ApiError> {
    Ok(IndicatorFilter {
        q: q.map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned),
        kind: parse_opt::<IndicatorKind>("kind", kind, param_err)?,
        category: parse_opt::<Category>("category", category, param_err)?,
        source: source.map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned),
        valid_at: valid_only.then_some(now),
        alert_status: None,
    })
}

/// A page of indicators and the id to continue below.
pub(crate) async fn indicator_page(
    state: &AppState,
    filter: &IndicatorFilter,
    before: Option<i64>,
    limit: i64,
) -> Result<(Vec<StoredIndicator>, Option<i64>), ApiError> {
    let limit = limit.clamp(1, MAX_PAGE);
    let items = state.store.intel_indicators(filter, before, limit).await?;
    let next = if items.len() as i64 == limit { items.last().map(|i| i.id) } else { None };
    Ok((items, next))
}

#[utoipa::path(get, path = "/api/v1/intel/indicators", tag = "intel", params(IndicatorQuery),
    responses((status = 200, body = IndicatorPage), (status = 400, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Query(q): Query<IndicatorQuery>,
) -> Result<Json<IndicatorPage>, ApiError> {
    let now = now(&state);
    let filter = indicator_filter(
        q.q.as_deref(),
        q.kind.as_deref(),
        q.category.as_deref(),
        q.source.as_deref(),
        q.valid.unwrap_or(false),
        now,
    )?;
    let (items, next_before) = indicator_page(&state, &filter, q.before, q.limit.unwrap_or(100)).await?;
    Ok(Json(IndicatorPage { items: items.iter().map(|i| IndicatorView::new(i, now)).collect(), next_before }))
}

#[utoipa::path(get, path = "/api/v1/intel/indicators/{id}", tag = "intel",
    params(("id" = i64, Path, description = "indicator id")),
    responses((status = 200, body = IndicatorDetail), (status = 404, body = ErrorBody)))]
pub async fn get(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Json<IndicatorDetail>, ApiError> {
    let indicator = state.store.intel_indicator(id).await?;
    let provenance = state.store.intel_provenance(id).await?;
    Ok(Json(IndicatorDetail {
        indicator: IndicatorView::new(&indicator, now(&state)),
        provenance: provenance.iter().map(Into::into).collect(),
    }))
}

#[utoipa::path(delete, path = "/api/v1/intel/indicators/{id}", tag = "intel",
    params(("id" = i64, Path, description = "indicator id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    state.store.intel_delete_indicator(&p.actor(&client), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------------------
// Statistics.

#[derive(Serialize, utoipa::ToSchema)]
pub struct IndexView {
    /// Indicators in the match index.
    pub indicators: u64,
    /// Stored indicators left out because an allowlist covers them.
    pub allowlisted: u64,
    /// Stored values that no longer normalise (should be none).
    pub invalid: u64,
    /// The store's intel generation the index reflects (-1: not built yet).
    pub generation: i64,
    /// The store's intel generation now; the index catches up within the
    /// refresh interval.
    pub store_generation: i64,
    pub build_ms: u64,
    /// Memory the index holds.
    pub heap_bytes: u64,
    /// Allowlist entries that could not be read (ignored).
    pub bad_allow_entries: usize,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct StatsView {
    pub total: i64,
    pub by_category: BTreeMap<String, i64>,
    pub by_kind: BTreeMap<String, i64>,
    pub index: IndexView,
}

pub(crate) async fn stats_of(state: &AppState) -> Result<StatsView, ApiError> {
    let (by_category, by_kind) = state.store.intel_counts().await?;
    let snapshot = state.intel.current();
    Ok(StatsView {
        total: by_kind.iter().map(|(_, n)| n).sum(),
        by_category: by_category.into_iter().collect(),
        by_kind: by_kind.into_iter().collect(),
        index: IndexView {
            indicators: snapshot.indicators,
            allowlisted: snapshot.allowlisted,
            invalid: snapshot.invalid,
            generation: snapshot.generation,
            store_generation: state.store.intel_generation().await?,
            build_ms: u64::try_from(snapshot.build_time.as_millis()).unwrap_or(u64::MAX),
            heap_bytes: snapshot.index.heap_bytes() as u64,
            bad_allow_entries: snapshot.bad_allow_entries.len(),
        },
    })
}

#[utoipa::path(get, path = "/api/v1/intel/stats", tag = "intel", responses((status = 200, body = StatsView)))]
pub async fn stats(State(state): State<AppState>) -> Result<Json<StatsView>, ApiError> {
    Ok(Json(stats_of(&state).await?))
}

// ---------------------------------------------------------------------------
// Imports.

#[derive(Serialize, utoipa::ToSchema)]
pub struct ImportRunView {
    pub id: i64,
    pub source: String,
    /// auto, stix, misp, list, csv or hosts.
    pub format: String,
    /// The file name or URL read.
    pub inputs: String,
    pub actor: String,
    /// running, done, failed, or interrupted (no progress for 30 minutes: its process died).
    pub status: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    /// New indicators (counted as chunks commit).
    pub accepted: u64,
    /// Existing indicators stated again.
    pub updated: u64,
    /// Values refused (set when the run ends).
    pub rejected: u64,
    /// STIX patterns that cannot become lookups.
    pub not_matchable: u64,
    /// Read but not imported on purpose (MISP `to_ids: false`, other types).
    pub skipped: u64,
    /// STIX objects stored.
    pub objects: u64,
    /// Documents that could not be read at all (single runs only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unreadable: Option<u64>,
    /// Rejects kept for download (single runs only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kept_rejects: Option<u64>,
    /// Why a failed run failed.
    pub failure: String,
}

impl ImportRunView {
    pub fn new(r: &ImportRun) -> ImportRunView {
        ImportRunView {
            id: r.id,
            source: r.source.clone(),
            format: r.format.clone(),
            inputs: r.inputs.clone(),
            actor: r.actor.clone(),
            status: r.status.clone(),
            started_at: format_ts(r.started_at),
            finished_at: r.finished_at.map(format_ts),
            accepted: r.accepted,
            updated: r.updated,
            rejected: r.rejected,
            not_matchable: r.not_matchable,
            skipped: r.skipped,
            objects: r.objects,
            unreadable: None,
            kept_rejects: None,
            failure: r.failure.clone(),
        }
    }
}

/// A run with what only its kept rejects tell (unreadable documents).
pub(crate) async fn run_view(state: &AppState, id: i64) -> Result<ImportRunView, ApiError> {
    let run = state.store.intel_import_run(id).await?;
    let kept = state.store.intel_import_rejects(id).await?;
    let mut view = ImportRunView::new(&run);
    view.unreadable = Some(kept.iter().filter(|r| anbao_feeds::is_unreadable(r)).count() as u64);
    view.kept_rejects = Some(kept.len() as u64);
    Ok(view)
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ImportStarted {
    /// Follow it at `/api/v1/intel/imports/{import_id}`.
    pub import_id: i64,
}

/// How to read an import, as the upload form or JSON names it.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportBody {
    /// `http(s)://` URL to fetch (admin only; JSON requests). A URL ending
    /// in `manifest.json` is read as a MISP feed.
    #[serde(default)]
    pub url: Option<String>,
    /// auto (default: by content), stix, misp, list, hosts or csv.
    #[serde(default)]
    pub format: Option<String>,
    /// Category for indicators whose feed names none (default other).
    #[serde(default)]
    pub category: Option<String>,
    /// Source name recorded in the provenance (default: the file name or
    /// the URL's host).
    #[serde(default)]
    pub source: Option<String>,
    /// MISP: also import attributes marked `to_ids: false`.
    #[serde(default)]
    pub include_non_ids: bool,
    /// CSV: the column holding the value, a 1-based number or a header name
    /// (required for csv).
    #[serde(default)]
    pub value_column: Option<String>,
    /// CSV: the first line is data, not a header.
    #[serde(default)]
    pub no_header: bool,
}

impl ImportBody {
    /// The import options, with field errors as 422s naming the field.
    pub(crate) fn options(&self) -> Result<ImportOptions, ApiError> {
        let format = parse_opt::<Format>("format", self.format.as_deref(), body_err)?.unwrap_or_default();
        let category = parse_opt::<Category>("category", self.category.as_deref(), body_err)?;
        let csv = match self.value_column.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
            None if format == Format::Csv => {
                return Err(body_err("value_column", "CSV feeds need the column that holds the value".into()));
            }
            None => None,
            Some(c) => {
                let column = match c.parse::<usize>() {
                    Ok(n) if n >= 1 => Column::Index(n - 1),
                    Ok(_) => return Err(body_err("value_column", "columns count from 1".into())),
                    Err(_) => Column::Name(c.to_owned()),
                };
                let mut m = CsvMapping::new(column);
                m.has_header = !self.no_header;
                Some(m)
            }
        };
        Ok(ImportOptions {
            format,
            category,
            source: self.source.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned),
            include_non_ids: self.include_non_ids,
            csv,
            ..ImportOptions::default()
        })
    }
}

/// Checks a URL to import from; see the module doc.
pub(crate) fn check_url(p: &Principal, url: &str) -> Result<String, ApiError> {
    if p.role != Role::Admin {
        return Err(ApiError::forbidden(
            "importing from a URL makes the server fetch it; only the admin role may (upload the file instead)",
        ));
    }
    let url = url.trim();
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    let Some(rest) = rest else {
        return Err(ApiError::field("url", "url: only http:// and https:// URLs can be imported"));
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty() || url.len() > 2048 || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(ApiError::field("url", "url: not a valid http(s) URL"));
    }
    if authority.contains('@') {
        return Err(ApiError::field(
            "url",
            "url: credentials in the URL would be kept in the import record and the audit log; use a URL without them",
        ));
    }
    Ok(url.to_owned())
}

/// A name for an uploaded file: its last path segment, printable, short.
pub(crate) fn upload_name(raw: Option<&str>) -> String {
    let base = raw.unwrap_or_default().rsplit(['/', '\\']).next().unwrap_or_default();
    let clean: String = base.chars().filter(|c| !c.is_control()).take(100).collect();
    let clean = clean.trim();
    if clean.is_empty() || clean.starts_with('.') { "upload".to_owned() } else { clean.to_owned() }
}

/// A multipart upload: the file (name, bytes) and the import settings.
pub(crate) async fn read_upload(mut multipart: Multipart) -> Result<(Option<(String, Vec<u8>)>, ImportBody), ApiError> {
    let bad = |e: axum::extract::multipart::MultipartError| {
        let status = e.status();
        ApiError::new(status, format!("upload: {}", e.body_text()))
    };
    let mut file = None;
    let mut body = ImportBody::default();
    while let Some(field) = multipart.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "file" {
            let file_name = upload_name(field.file_name());
            let bytes = field.bytes().await.map_err(bad)?;
            file = Some((file_name, bytes.to_vec()));
            continue;
        }
        let text = field.text().await.map_err(bad)?;
        let value = Some(text.trim().to_owned()).filter(|t| !t.is_empty());
        let flag = |v: &Option<String>| v.as_deref().is_some_and(|v| matches!(v, "1" | "true" | "on" | "yes"));
        match name.as_str() {
            "format" => body.format = value,
            "category" => body.category = value,
            "source" => body.source = value,
            "include_non_ids" => body.include_non_ids = flag(&value),
            "value_column" => body.value_column = value,
            "no_header" => body.no_header = flag(&value),
            "url" => return Err(ApiError::field("url", "url: send URL imports as JSON, not as an upload")),
            other => return Err(ApiError::field(other, format!("{other}: unknown field"))),
        }
    }
    Ok((file, body))
}

/// Records the run and reads it in the background; returns the run's id.
/// The store counts chunks into the run record as they commit, and the run
/// ends `done` or `failed` whatever happens to the reader.
pub(crate) async fn start_import(
    state: &AppState,
    actor: Actor,
    inputs: Vec<Input>,
    options: ImportOptions,
) -> Result<i64, ApiError> {
    let started = anbao_feeds::begin_import(&state.store, &actor, &inputs, &options).await.map_err(feeds_error)?;
    let id = started.import_id;
    let store = state.store.clone();
    let intel = state.intel.clone();
    tokio::spawn(async move {
        match anbao_feeds::continue_import(&store, &actor, started, inputs, options, Arc::new(NoProgress)).await {
            Ok(s) => tracing::info!(
                import_id = id,
                accepted = s.accepted,
                updated = s.updated,
                rejected = s.rejected,
                unreadable = s.unreadable,
                "intel import finished"
            ),
            Err(e) => {
                tracing::warn!(import_id = id, error = %e, "intel import failed");
                // The store records failures it sees; make sure nothing
                // else leaves the run `running` for ever.
                if store.intel_import_run(id).await.is_ok_and(|r| r.status == "running") {
                    let totals = anbao_store::ImportTotals::default();
                    let failure = e.to_string();
                    if let Err(e) = store.intel_import_finish(&actor, id, &totals, &[], Some(&failure)).await {
                        tracing::error!(import_id = id, error = %e, "could not record the failed import");
                    }
                }
            }
        }
        // Matching sees the new indicators without waiting for the refresher.
        if let Err(e) = intel.refresh(&store).await {
            tracing::warn!(error = %e, "intel index refresh after an import failed");
        }
    });
    Ok(id)
}

/// An upload as `multipart/form-data` (the OpenAPI document's view of it).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ImportUpload {
    /// The feed (STIX, MISP, list, hosts or CSV; gzip is read), at most 256 MiB.
    #[schema(content_media_type = "application/octet-stream")]
    pub file: Vec<u8>,
    /// As in the JSON form.
    pub format: Option<String>,
    pub category: Option<String>,
    pub source: Option<String>,
    /// `true` or `1`.
    pub include_non_ids: Option<String>,
    pub value_column: Option<String>,
    pub no_header: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/intel/imports", tag = "intel",
    request_body(description = "a file upload, or JSON naming a `url` (admin only)",
        content((ImportUpload = "multipart/form-data"), (ImportBody = "application/json"))),
    responses((status = 202, body = ImportStarted), (status = 403, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn start(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    req: Request,
) -> Result<Response, ApiError> {
    let content_type =
        req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_ascii_lowercase();
    let (inputs, options) = if content_type.starts_with("multipart/form-data") {
        let multipart = Multipart::from_request(req, &state)
            .await
            .map_err(|e| ApiError::new(e.status(), format!("upload: {}", e.body_text())))?;
        let (file, body) = read_upload(multipart).await?;
        let options = body.options()?;
        let Some((name, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
            return Err(ApiError::field("file", "file: choose a non-empty feed file"));
        };
        (vec![Input::Bytes { name, bytes }], options)
    } else if content_type.starts_with("application/json") {
        let JsonBody(body) = JsonBody::<ImportBody>::from_request(req, &state).await?;
        let Some(url) = body.url.as_deref() else {
            return Err(ApiError::field("url", "url: name the URL to import, or upload a file as multipart/form-data"));
        };
        let url = check_url(&p, url)?;
        (vec![Input::Url(url)], body.options()?)
    } else {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send multipart/form-data with the feed in field `file`, or JSON with a `url`",
        ));
    };
    let import_id = start_import(&state, p.actor(&client), inputs, options).await?;
    Ok((StatusCode::ACCEPTED, Json(ImportStarted { import_id })).into_response())
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RunsQuery {
    /// At most this many (default 50, at most 500).
    pub limit: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/intel/imports", tag = "intel", params(RunsQuery),
    responses((status = 200, body = [ImportRunView], description = "import runs, newest first")))]
pub async fn runs(
    State(state): State<AppState>,
    Query(q): Query<RunsQuery>,
) -> Result<Json<Vec<ImportRunView>>, ApiError> {
    let runs = state.store.intel_import_runs(q.limit.unwrap_or(50).clamp(1, 500)).await?;
    Ok(Json(runs.iter().map(ImportRunView::new).collect()))
}

#[utoipa::path(get, path = "/api/v1/intel/imports/{id}", tag = "intel",
    params(("id" = i64, Path, description = "import id")),
    responses((status = 200, body = ImportRunView), (status = 404, body = ErrorBody)))]
pub async fn run(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Json<ImportRunView>, ApiError> {
    Ok(Json(run_view(&state, id).await?))
}

/// The kept rejects as CSV (UTF-8 with BOM), every cell guarded against
/// spreadsheet formula injection.
pub(crate) fn rejects_csv(rejects: &[anbao_store::KeptReject]) -> Result<Vec<u8>, ApiError> {
    use anbao_intel::export::csv_guard;
    let mut w = csv::Writer::from_writer(b"\xef\xbb\xbf".to_vec());
    let fail = |e: csv::Error| {
        tracing::error!(error = %e, "writing rejects CSV");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error writing the CSV")
    };
    w.write_record(["location", "value", "reason"]).map_err(fail)?;
    for r in rejects {
        let cells = [csv_guard(&r.location), csv_guard(&r.value), csv_guard(&r.reason)];
        w.write_record(cells.iter().map(|c| c.as_bytes())).map_err(fail)?;
    }
    w.into_inner().map_err(|e| fail(e.into_error().into()))
}

#[utoipa::path(get, path = "/api/v1/intel/imports/{id}/rejects.csv", tag = "intel",
    params(("id" = i64, Path, description = "import id")),
    responses((status = 200, description = "CSV: location,value,reason (the first 10,000 rejects; unreadable documents first)"),
        (status = 404, body = ErrorBody)))]
pub async fn rejects(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Response, ApiError> {
    let body = rejects_csv(&state.store.intel_import_rejects(id).await?)?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"anbao-import-{id}-rejects.csv\"")),
        ],
        body,
    )
        .into_response())
}

// ---------------------------------------------------------------------------
// Export.

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    /// stix, csv, list, rpz or unbound.
    pub format: String,
    pub kind: Option<String>,
    pub category: Option<String>,
    /// Only indicators this source states.
    pub source: Option<String>,
    /// Substring of the value.
    pub q: Option<String>,
    /// Also expired indicators (default false).
    pub include_expired: Option<bool>,
    /// Also those an enabled allowlist covers (default false).
    pub include_allowlisted: Option<bool>,
    /// rpz, unbound: answer with this address instead of NXDOMAIN.
    pub sinkhole: Option<String>,
    /// Only indicators an alert in this status names (e.g. confirmed): disposal lists from detection.
    pub alert_status: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/intel/export", tag = "intel", params(ExportQuery),
    responses((status = 200, description = "the export, with the format's media type; counts in X-Anbao-Written, X-Anbao-Allowlisted, X-Anbao-Skipped"),
        (status = 400, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn export(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Query(q): Query<ExportQuery>,
) -> Result<Response, ApiError> {
    let format: ExportFormat = q.format.trim().parse().map_err(|e: String| bad_param("format", e))?;
    let now = now(&state);
    let mut req = ExportRequest::new(format, now);
    req.filter =
        indicator_filter(q.q.as_deref(), q.kind.as_deref(), q.category.as_deref(), q.source.as_deref(), false, now)?;
    req.filter.alert_status = match q.alert_status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) if anbao_store::ALERT_STATUSES.contains(&s) => Some(s.to_owned()),
        Some(s) => {
            return Err(bad_param(
                "alert_status",
                format!("{s:?} is not one of {}", anbao_store::ALERT_STATUSES.join(", ")),
            ));
        }
    };
    req.include_expired = q.include_expired.unwrap_or(false);
    req.include_allowlisted = q.include_allowlisted.unwrap_or(false);
    req.sinkhole = match q.sinkhole.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(s.parse().map_err(|_| bad_param("sinkhole", format!("{s:?} is not an IP address")))?),
    };
    let mut body: Vec<u8> = Vec::new();
    let report = anbao_feeds::export(&state.store, &req, &mut body).await.map_err(feeds_error)?;
    let detail = serde_json::json!({
        "format": format.as_str(),
        "kind": req.filter.kind.map(|k| k.to_string()),
        "category": req.filter.category.map(|c| c.to_string()),
        "source": req.filter.source,
        "alert_status": req.filter.alert_status,
        "written": report.written,
        "allowlisted": report.allowlisted,
        "skipped": report.skipped,
    });
    state
        .store
        .audit_event(&p.actor(&client), "intel.export", "indicator", "", Some(p.home_unit), Some(&detail))
        .await?;
    Ok((
        [
            (header::CONTENT_TYPE, format.media_type().to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{}\"", format.file_name())),
            (header::HeaderName::from_static("x-anbao-written"), report.written.to_string()),
            (header::HeaderName::from_static("x-anbao-allowlisted"), report.allowlisted.to_string()),
            (header::HeaderName::from_static("x-anbao-skipped"), report.skipped.to_string()),
        ],
        body,
    )
        .into_response())
}

// ---------------------------------------------------------------------------
// Allowlists.

#[derive(Serialize, utoipa::ToSchema)]
pub struct AllowlistView {
    pub id: i64,
    pub name: String,
    /// string, substring, hostname, cidr or regex (MISP warninglist types).
    pub list_type: String,
    pub description: String,
    pub entries: Vec<String>,
    pub enabled: bool,
    pub updated_at: String,
}

impl From<&Allowlist> for AllowlistView {
    fn from(a: &Allowlist) -> Self {
        AllowlistView {
            id: a.id,
            name: a.name.clone(),
            list_type: a.list_type.clone(),
            description: a.description.clone(),
            entries: a.entries.clone(),
            enabled: a.enabled,
            updated_at: format_ts(a.updated_at),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct BadEntryView {
    pub entry: String,
    pub reason: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AllowlistSaved {
    #[serde(flatten)]
    pub allowlist: AllowlistView,
    /// Entries that cannot be read (kept, but they match nothing).
    pub bad_entries: Vec<BadEntryView>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AllowlistBody {
    /// Saving a name that exists replaces that list.
    pub name: String,
    /// string (default), substring, hostname, cidr or regex.
    #[serde(default)]
    pub list_type: Option<String>,
    #[serde(default)]
    pub description: String,
    pub entries: Vec<String>,
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AllowlistQuery {
    /// `1`: the body is a MISP warninglist `list.json`.
    pub warninglist: Option<String>,
}

/// Saves an allowlist and reports the entries the index cannot use.
pub(crate) async fn save_allowlist(
    state: &AppState,
    actor: &Actor,
    body: AllowlistBody,
) -> Result<AllowlistSaved, ApiError> {
    let list_type = body.list_type.as_deref().map(str::trim).filter(|t| !t.is_empty()).unwrap_or("string");
    let saved = state
        .store
        .intel_save_allowlist(actor, body.name.trim(), list_type, &body.description, &body.entries, body.enabled)
        .await?;
    let wl_type = match saved.list_type.as_str() {
        "substring" => WarninglistType::Substring,
        "hostname" => WarninglistType::Hostname,
        "cidr" => WarninglistType::Cidr,
        "regex" => WarninglistType::Regex,
        _ => WarninglistType::String,
    };
    let wl = Warninglist {
        name: saved.name.clone(),
        description: saved.description.clone(),
        version: 1,
        list_type: wl_type,
        category: None,
        matching_attributes: Vec::new(),
        entries: saved.entries.clone(),
    };
    let bad = AllowlistBuilder::new().add_warninglist(&wl);
    Ok(AllowlistSaved {
        allowlist: (&saved).into(),
        bad_entries: bad.into_iter().map(|b| BadEntryView { entry: b.entry, reason: b.reason }).collect(),
    })
}

#[utoipa::path(get, path = "/api/v1/intel/allowlists", tag = "intel", responses((status = 200, body = [AllowlistView])))]
pub async fn allowlists(State(state): State<AppState>) -> Result<Json<Vec<AllowlistView>>, ApiError> {
    Ok(Json(state.store.intel_allowlists().await?.iter().map(Into::into).collect()))
}

#[utoipa::path(post, path = "/api/v1/intel/allowlists", tag = "intel", params(AllowlistQuery),
    request_body(content = AllowlistBody, description = "the list as JSON; with `?warninglist=1` a MISP warninglist list.json"),
    responses((status = 201, body = AllowlistSaved), (status = 422, body = ErrorBody)))]
pub async fn save_allowlist_route(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Query(q): Query<AllowlistQuery>,
    body: Bytes,
) -> Result<(StatusCode, Json<AllowlistSaved>), ApiError> {
    let warninglist = match q.warninglist.as_deref().map(str::trim) {
        None | Some("" | "0" | "false") => false,
        Some("1" | "true") => true,
        Some(other) => return Err(bad_param("warninglist", format!("{other:?} is not 1 or 0"))),
    };
    let body = if warninglist {
        let wl = Warninglist::from_json(&body).map_err(|e| ApiError::field("body", e.to_string()))?;
        AllowlistBody {
            name: wl.name,
            list_type: Some(wl.list_type.as_str().to_owned()),
            description: wl.description,
            entries: wl.entries,
            enabled: true,
        }
    } else {
        Json::<AllowlistBody>::from_bytes(&body).map(|Json(b)| b).map_err(ApiError::from)?
    };
    let saved = save_allowlist(&state, &p.actor(&client), body).await?;
    Ok((StatusCode::CREATED, Json(saved)))
}

#[utoipa::path(delete, path = "/api/v1/intel/allowlists/{id}", tag = "intel",
    params(("id" = i64, Path, description = "allowlist id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_allowlist(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    state.store.intel_delete_allowlist(&p.actor(&client), id).await?;
    Ok(StatusCode::NO_CONTENT)
}
