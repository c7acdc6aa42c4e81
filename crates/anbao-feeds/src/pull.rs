//! Pulling intelligence from remote sources (issue #4, R3.5): TAXII 2.1
//! collections, MISP feeds and plain URLs, as configured in the store's
//! `intel_sources`, each pull starting where the last successful one left
//! off and writing one recorded import run.
//!
//! - **TAXII 2.1**: `GET {api_root}/collections/{id}/objects/?added_after=…`
//!   page by page (`next`, or `added_after` when a server gives no `next`);
//!   the pages are read as STIX bundles while they arrive. The cursor is the
//!   newest `X-TAXII-Date-Added-Last` seen (or, when a server sends no such
//!   header, the newest `date_added` its manifest gives for the objects
//!   read). A hostile or broken server cannot keep a pull going: it stops
//!   after [`PullOptions::max_objects`], or when a page claims more but
//!   brings no object version not already read (a repeated `next` alone is
//!   no sign: medallion keeps one token for a whole walk).
//! - **MISP feed**: `manifest.json`, then only the events whose manifest
//!   timestamp is newer than the one the cursor remembers for their uuid.
//! - **URL**: a conditional GET (`If-None-Match`, `If-Modified-Since`); 304
//!   means nothing to do.
//!
//! The cursor is stored only when the import succeeded; a failed pull
//! leaves it where it was, and imports are idempotent, so the next pull
//! fetches the same again. Nothing new at the source records no import run.
//!
//! Credentials: with a user name, HTTP Basic; with only a password, the
//! password is sent as the `Authorization` header's value as it is (a MISP
//! automation key, or `Bearer …`). They are never logged, and error
//! messages name URLs, which cannot hold credentials (the store refuses
//! them). ureq drops the header on redirects.
//!
//! Scheduled pulls ([`spawn_scheduler`]) may run on every node: a source is
//! claimed by compare-and-set before it is pulled (see
//! `Store::intel_source_claim`), so one node pulls it; the claim is renewed
//! while the pull runs and lapses soon after its process dies.

use std::collections::{BTreeMap, HashSet};
use std::io::Read;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use anbao_model::clock::format_ts;
use anbao_store::{Actor, IntelSource, PULL_HEARTBEAT, SourceKind, Store};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::import::{Documents, Fetched, import_documents};
use crate::{FeedsError, Format, ImportOptions, ImportSummary, Limits, NoProgress, Progress};

/// The TAXII 2.1 media type, for `Accept`.
pub const TAXII_MEDIA_TYPE: &str = "application/taxii+json;version=2.1";

/// Default cap on the objects (TAXII) or events (MISP) of one pull.
pub const DEFAULT_MAX_OBJECTS: u64 = 100_000;

/// Default `limit` asked of TAXII servers (they may give fewer).
pub const DEFAULT_PAGE_SIZE: u32 = 1000;

/// How to pull.
#[derive(Clone, Copy, Debug)]
pub struct PullOptions {
    pub limits: Limits,
    /// Most TAXII objects or MISP events one pull reads; the rest waits for
    /// the next pull (the cursor advances to what was read).
    pub max_objects: u64,
    /// TAXII `limit` per page.
    pub page_size: u32,
}

impl Default for PullOptions {
    fn default() -> Self {
        PullOptions { limits: Limits::default(), max_objects: DEFAULT_MAX_OBJECTS, page_size: DEFAULT_PAGE_SIZE }
    }
}

/// The end of a pull (the CLI's `--json` output): the import's summary
/// (all zero, `import_id` 0, when nothing new was there) and how the pull
/// went.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PullSummary {
    #[serde(flatten)]
    pub import: ImportSummary,
    pub source_id: i64,
    /// `taxii`, `misp_feed` or `url`.
    pub kind: String,
    /// What was fetched: TAXII envelope pages, MISP event files, or the one
    /// document of a URL source (0 when it was not modified).
    pub pages: u64,
    pub cursor_before: String,
    pub cursor_after: String,
    /// Nothing new at the source: no import run was recorded.
    pub not_modified: bool,
    /// The pull stopped early (object cap, a server repeating itself): pull again.
    pub more: bool,
    /// Things the operator should know that did not fail the pull.
    pub warnings: Vec<String>,
}

/// Pulls the source with this name (or id) now, whatever its schedule.
pub async fn pull(
    store: &Store,
    actor: &Actor,
    source: &str,
    progress: Arc<dyn Progress>,
) -> Result<PullSummary, FeedsError> {
    pull_with(store, actor, source, &PullOptions::default(), progress).await
}

/// [`pull`] with options.
pub async fn pull_with(
    store: &Store,
    actor: &Actor,
    source: &str,
    options: &PullOptions,
    progress: Arc<dyn Progress>,
) -> Result<PullSummary, FeedsError> {
    let seen = store.intel_source_find(source).await?;
    let Some(claimed) = store.intel_source_claim(&seen).await? else {
        let since = seen.last_pull_at.map(|t| format!(" (since {})", format_ts(t))).unwrap_or_default();
        return Err(FeedsError::Usage(format!(
            "intel source {:?} is being pulled by another process{since}; try again later",
            seen.name
        )));
    };
    pull_claimed(store, actor, claimed, options, progress).await
}

/// Pulls every enabled source whose interval has elapsed, each claimed
/// first (so of several nodes one pulls it), concurrently; returns each
/// claimed source's name with its result.
pub async fn pull_due(
    store: &Store,
    options: &PullOptions,
) -> Result<Vec<(String, Result<PullSummary, FeedsError>)>, FeedsError> {
    let now = store.clock().now();
    let mut running = Vec::new();
    for source in store.intel_sources().await? {
        if !source.is_due(now) {
            continue;
        }
        let Some(claimed) = store.intel_source_claim(&source).await? else { continue };
        let (store, options, name) = (store.clone(), *options, claimed.name.clone());
        let task = tokio::spawn(async move {
            pull_claimed(&store, &Actor::system(), claimed, &options, Arc::new(NoProgress)).await
        });
        running.push((name, task));
    }
    let mut out = Vec::with_capacity(running.len());
    for (name, task) in running {
        let result = task.await.unwrap_or_else(|e| Err(FeedsError::Internal(format!("the pull task failed: {e}"))));
        out.push((name, result));
    }
    Ok(out)
}

/// Every `every`, starts the pulls that are due ([`pull_due`]) until the
/// process ends; a slow source does not hold up the others' schedule.
/// Failures are logged and recorded on the source.
pub fn spawn_scheduler(store: Store, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let store = store.clone();
            tokio::spawn(async move {
                match pull_due(&store, &PullOptions::default()).await {
                    Ok(results) => {
                        for (source, result) in results {
                            match result {
                                Ok(s) => tracing::info!(
                                    source,
                                    import_id = s.import.import_id,
                                    accepted = s.import.accepted,
                                    updated = s.import.updated,
                                    rejected = s.import.rejected,
                                    pages = s.pages,
                                    not_modified = s.not_modified,
                                    "intel source pulled"
                                ),
                                Err(e) => tracing::warn!(source, error = %e, "intel source pull failed"),
                            }
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "listing intel sources to pull failed"),
                }
            });
        }
    })
}

/// What one kind of pull produced.
#[derive(Default)]
struct Outcome {
    import: Option<ImportSummary>,
    cursor_after: String,
    pages: u64,
    more: bool,
    warnings: Vec<String>,
}

/// Pulls a source the caller has already claimed with
/// `Store::intel_source_claim` (so that it can answer "already running"
/// before starting the pull, as the server's pull-now does); records how
/// the pull ended on the source like [`pull`].
pub async fn pull_claimed(
    store: &Store,
    actor: &Actor,
    source: IntelSource,
    options: &PullOptions,
    progress: Arc<dyn Progress>,
) -> Result<PullSummary, FeedsError> {
    // Renew the claim while the pull runs, so a claim that stops being
    // renewed (the process died) lapses soon.
    let heartbeat = tokio::spawn(renew_claim(store.clone(), source.clone()));
    let result = async {
        let password = store.intel_source_password(source.id).await?;
        let http = Http::new(&options.limits, &source.username, &password);
        match source.kind {
            SourceKind::Taxii => pull_taxii(store, actor, &source, http, options, progress).await,
            SourceKind::MispFeed => pull_misp(store, actor, &source, http, options, progress).await,
            SourceKind::Url => pull_url(store, actor, &source, http, options, progress).await,
        }
    }
    .await;
    heartbeat.abort();
    let _ = heartbeat.await;
    match result {
        Ok(outcome) => {
            let import = outcome
                .import
                .clone()
                .unwrap_or_else(|| ImportSummary { source: source.name.clone(), ..ImportSummary::default() });
            let status = if outcome.import.is_none() {
                "not_modified".to_owned()
            } else if import.unreadable > 0 {
                format!("partial: {} documents unreadable", import.unreadable)
            } else {
                "ok".to_owned()
            };
            let import_id = outcome.import.as_ref().map(|i| i.import_id);
            store.intel_source_record_pull(source.id, Some(&outcome.cursor_after), &status, import_id).await?;
            Ok(PullSummary {
                import,
                source_id: source.id,
                kind: source.kind.as_str().to_owned(),
                pages: outcome.pages,
                cursor_before: source.cursor.clone(),
                cursor_after: outcome.cursor_after,
                not_modified: outcome.import.is_none(),
                more: outcome.more,
                warnings: outcome.warnings,
            })
        }
        Err(e) => {
            if let Err(record) = store.intel_source_record_pull(source.id, None, &format!("failed: {e}"), None).await {
                tracing::warn!(source = source.name, error = %record, "recording a failed pull");
            }
            Err(e)
        }
    }
}

/// Renews `claimed`'s claim every [`PULL_HEARTBEAT`] until aborted or lost.
async fn renew_claim(store: Store, mut claimed: IntelSource) {
    loop {
        tokio::time::sleep(PULL_HEARTBEAT).await;
        match store.intel_source_renew(&claimed).await {
            Ok(Some(renewed)) => claimed = renewed,
            Ok(None) => {
                tracing::warn!(source = claimed.name, "lost the claim on an intel source while pulling it");
                return;
            }
            Err(e) => tracing::warn!(source = claimed.name, error = %e, "renewing the claim on an intel source"),
        }
    }
}

/// The import options a source's settings call for.
fn import_options(source: &IntelSource, format: Format, limits: Limits) -> ImportOptions {
    ImportOptions {
        format,
        category: source.category,
        source: Some(source.name.clone()),
        include_non_ids: source.include_non_ids,
        csv: None,
        described: None,
        limits,
    }
}

/// Runs blocking network work off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, FeedsError> + Send + 'static,
) -> Result<T, FeedsError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| FeedsError::Internal(format!("the fetch thread failed: {e}")))?
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

// ------------------------------------------------------------------ HTTP

/// A failed request: the URL, the HTTP status if there was an answer.
#[derive(Debug)]
struct HttpError {
    url: String,
    status: Option<u16>,
    reason: String,
}

impl HttpError {
    /// Whether every other request to the same server will fail alike.
    fn is_refusal(&self) -> bool {
        matches!(self.status, Some(401 | 403))
    }
}

impl From<HttpError> for FeedsError {
    fn from(e: HttpError) -> FeedsError {
        FeedsError::Unreadable { input: e.url, reason: e.reason }
    }
}

fn status_reason(code: u16, text: &str) -> String {
    let hint = match code {
        401 => ": the server refused the credentials (check the source's user name and password)",
        403 => ": these credentials may not read it",
        404 => ": nothing there (check the URL; for TAXII the API root and the collection id)",
        406 => ": the server does not offer TAXII 2.1 here",
        _ => "",
    };
    format!("HTTP {code} {text}{hint}")
}

struct Http {
    agent: ureq::Agent,
    authorization: Option<String>,
    max_bytes: usize,
}

impl Http {
    fn new(limits: &Limits, username: &str, password: &str) -> Http {
        let authorization = if !username.is_empty() {
            Some(format!("Basic {}", base64(format!("{username}:{password}").as_bytes())))
        } else if !password.is_empty() {
            Some(password.to_owned())
        } else {
            None
        };
        let agent = ureq::AgentBuilder::new().timeout(limits.http_timeout).build();
        Http { agent, authorization, max_bytes: limits.max_document_bytes }
    }

    /// GETs `url`; 2xx and 304 are answers, anything else an error.
    fn get(&self, url: &str, headers: &[(&str, &str)]) -> Result<ureq::Response, HttpError> {
        let mut req = self.agent.get(url);
        for (k, v) in headers {
            req = req.set(k, v);
        }
        if let Some(a) = &self.authorization {
            req = req.set("Authorization", a);
        }
        match req.call() {
            Ok(resp) => Ok(resp),
            Err(ureq::Error::Status(code, resp)) => Err(HttpError {
                url: url.to_owned(),
                status: Some(code),
                reason: status_reason(code, resp.status_text()),
            }),
            Err(e) => Err(HttpError { url: url.to_owned(), status: None, reason: e.to_string() }),
        }
    }

    /// The body of an answer, at most `max_bytes`.
    fn body(&self, url: &str, resp: ureq::Response) -> Result<Vec<u8>, HttpError> {
        let mut buf = Vec::new();
        let cap = u64::try_from(self.max_bytes).unwrap_or(u64::MAX).saturating_add(1);
        resp.into_reader().take(cap).read_to_end(&mut buf).map_err(|e| HttpError {
            url: url.to_owned(),
            status: None,
            reason: e.to_string(),
        })?;
        if buf.len() > self.max_bytes {
            return Err(HttpError {
                url: url.to_owned(),
                status: None,
                reason: format!("larger than {} bytes", self.max_bytes),
            });
        }
        Ok(buf)
    }

    fn get_body(&self, url: &str, headers: &[(&str, &str)]) -> Result<Vec<u8>, HttpError> {
        let resp = self.get(url, headers)?;
        self.body(url, resp)
    }
}

/// Standard base64 with padding (for Basic auth).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18u32, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// `base?k=v&…` with the values percent-encoded.
fn with_query(base: &str, query: &[(&str, &str)]) -> String {
    let mut url = base.to_owned();
    for (i, (k, v)) in query.iter().enumerate() {
        url.push(if i == 0 && !base.contains('?') { '?' } else { '&' });
        url.push_str(k);
        url.push('=');
        for b in v.bytes() {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                url.push(char::from(b));
            } else {
                url.push_str(&format!("%{b:02X}"));
            }
        }
    }
    url
}

fn parse_time(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s.trim(), &Rfc3339).ok()
}

/// A random (version 4) UUID.
fn uuid4() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}

// ----------------------------------------------------------------- TAXII

/// A TAXII 2.1 envelope; only what paging needs is looked at.
#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    more: bool,
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    objects: Vec<Value>,
}

/// A manifest record (for the cursor when a server gives no date header).
#[derive(Deserialize)]
struct ManifestPage {
    #[serde(default)]
    more: bool,
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    objects: Vec<ManifestRecord>,
}

#[derive(Deserialize)]
struct ManifestRecord {
    id: String,
    date_added: String,
}

/// What the pager learnt, read after the import.
#[derive(Default)]
struct TaxiiReport {
    pages: u64,
    objects: u64,
    /// The newest `X-TAXII-Date-Added-Last` seen, parsed and as sent.
    newest: Option<(OffsetDateTime, String)>,
    /// A page with objects came without the header.
    header_missing: bool,
    /// Ids read (for the manifest fallback).
    ids: HashSet<String>,
    more: bool,
    warnings: Vec<String>,
}

impl TaxiiReport {
    fn saw_date(&mut self, raw: &str) -> bool {
        let Some(t) = parse_time(raw) else { return false };
        if self.newest.as_ref().is_none_or(|(best, _)| t > *best) {
            self.newest = Some((t, raw.trim().to_owned()));
        }
        true
    }
}

struct TaxiiPager {
    http: Http,
    collection_url: String,
    /// The cursor the pull started from.
    since: Option<String>,
    /// `added_after` of the next request (moves on only when a server pages
    /// by date instead of `next`).
    added_after: Option<String>,
    page_size: u32,
    next: Option<String>,
    /// Object ids and versions read so far: a page that brings none new
    /// ends the walk (servers may keep one `next` token for a whole walk,
    /// as medallion does, so a repeated token alone proves nothing).
    seen_versions: HashSet<String>,
    finished: bool,
    max_objects: u64,
    report: Arc<Mutex<TaxiiReport>>,
}

impl TaxiiPager {
    fn objects_url(&self) -> String {
        format!("{}objects/", self.collection_url)
    }

    /// The next page's objects; `None` once the walk is over.
    fn next_page(&mut self) -> Result<Option<Vec<Value>>, FeedsError> {
        if self.finished {
            return Ok(None);
        }
        let limit = self.page_size.max(1).to_string();
        let mut query: Vec<(&str, &str)> = Vec::new();
        if let Some(a) = &self.added_after {
            query.push(("added_after", a));
        }
        query.push(("limit", &limit));
        if let Some(n) = &self.next {
            query.push(("next", n));
        }
        let url = with_query(&self.objects_url(), &query);
        let resp = self.http.get(&url, &[("Accept", TAXII_MEDIA_TYPE)])?;
        let last = resp.header("X-TAXII-Date-Added-Last").map(str::to_owned);
        let bytes = self.http.body(&url, resp)?;
        let envelope: Envelope = serde_json::from_slice(&bytes)
            .map_err(|e| FeedsError::Unreadable { input: url.clone(), reason: format!("not a TAXII envelope: {e}") })?;

        let mut report = lock(&self.report);
        report.pages += 1;
        let count = envelope.objects.len() as u64;
        report.objects += count;
        let mut fresh = 0u64;
        for o in &envelope.objects {
            let field = |k: &str| o.get(k).and_then(Value::as_str).unwrap_or_default();
            let version = Some(field("modified")).filter(|v| !v.is_empty()).unwrap_or_else(|| field("created"));
            if self.seen_versions.insert(format!("{}|{version}", field("id"))) {
                fresh += 1;
            }
        }
        if count > 0 {
            let dated = last.as_deref().is_some_and(|l| report.saw_date(l));
            if !dated {
                report.header_missing = true;
            }
            for o in &envelope.objects {
                if let Some(id) = o.get("id").and_then(Value::as_str) {
                    report.ids.insert(id.to_owned());
                }
            }
        }
        let stop = |report: &mut TaxiiReport, why: String| {
            report.more = true;
            report.warnings.push(why);
        };
        if !envelope.more {
            self.finished = true;
        } else if count == 0 {
            self.finished = true;
            stop(&mut report, format!("{url} said more but sent no objects; stopped"));
        } else if report.objects >= self.max_objects {
            self.finished = true;
            let why = format!("stopped after {} objects (the cap); pull again for the rest", report.objects);
            stop(&mut report, why);
        } else if fresh == 0 {
            self.finished = true;
            stop(&mut report, format!("{url} sent only objects already read; stopped"));
        } else if let Some(next) = envelope.next {
            self.next = Some(next);
        } else {
            // No `next`: page on by date, if the date moved on.
            let moved = match (last.as_deref().and_then(parse_time), self.added_after.as_deref().and_then(parse_time)) {
                (Some(l), Some(a)) => l > a,
                (Some(_), None) => true,
                _ => false,
            };
            match last {
                Some(l) if moved => {
                    self.added_after = Some(l.trim().to_owned());
                    self.next = None;
                }
                _ => {
                    self.finished = true;
                    stop(&mut report, format!("{url} said more but gave neither next nor a later date; stopped"));
                }
            }
        }
        Ok(Some(envelope.objects))
    }

    /// When some page had no date header: the newest `date_added` the
    /// manifest gives for the objects read (so objects added meanwhile are
    /// not skipped). Failures leave the cursor to the headers seen.
    fn manifest_fallback(&self) {
        let ids = {
            let report = lock(&self.report);
            if !report.header_missing {
                return;
            }
            report.ids.clone()
        };
        let manifest_url = format!("{}manifest/", self.collection_url);
        let limit = self.page_size.max(1).to_string();
        let mut next: Option<String> = None;
        let mut seen_records = HashSet::new();
        let mut records = 0u64;
        let mut newest: Option<String> = None;
        let mut newest_t: Option<OffsetDateTime> = None;
        loop {
            let mut query: Vec<(&str, &str)> = Vec::new();
            if let Some(a) = &self.since {
                query.push(("added_after", a));
            }
            query.push(("limit", &limit));
            if let Some(n) = &next {
                query.push(("next", n));
            }
            let url = with_query(&manifest_url, &query);
            let page = self
                .http
                .get_body(&url, &[("Accept", TAXII_MEDIA_TYPE)])
                .map_err(|e| FeedsError::from(e).to_string())
                .and_then(|b| serde_json::from_slice::<ManifestPage>(&b).map_err(|e| format!("{url}: {e}")));
            let page = match page {
                Ok(p) => p,
                Err(e) => {
                    lock(&self.report).warnings.push(format!(
                        "the server sent no X-TAXII-Date-Added-Last and its manifest could not be read ({e}); \
                         the cursor follows the dated pages only"
                    ));
                    return;
                }
            };
            records += page.objects.len() as u64;
            let mut fresh = false;
            for r in &page.objects {
                fresh |= seen_records.insert(format!("{}|{}", r.id, r.date_added));
                if ids.contains(&r.id)
                    && let Some(t) = parse_time(&r.date_added)
                    && newest_t.is_none_or(|n| t > n)
                {
                    newest_t = Some(t);
                    newest = Some(r.date_added.trim().to_owned());
                }
            }
            // Pages that bring nothing new, or too many, end it (as above).
            match page.next {
                Some(n) if page.more && fresh && records < self.max_objects.saturating_mul(2) => next = Some(n),
                _ => break,
            }
        }
        if let Some(n) = newest {
            lock(&self.report).saw_date(&n);
        }
    }
}

/// The pages of a TAXII walk as STIX bundles, for the import.
struct TaxiiDocuments {
    pager: TaxiiPager,
    first: Option<Vec<Value>>,
    page: u64,
    done: bool,
}

impl Iterator for TaxiiDocuments {
    type Item = Result<Fetched, FeedsError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.done {
                return None;
            }
            let objects = match self.first.take() {
                Some(o) => o,
                None => match self.pager.next_page() {
                    Ok(Some(o)) => o,
                    Ok(None) => {
                        self.done = true;
                        self.pager.manifest_fallback();
                        return None;
                    }
                    Err(e) => {
                        self.done = true;
                        return Some(Err(e));
                    }
                },
            };
            self.page += 1;
            if objects.is_empty() {
                continue;
            }
            let bundle = serde_json::json!({
                "type": "bundle",
                "id": format!("bundle--{}", uuid4()),
                "objects": objects,
            });
            let name = format!("{} page {}", self.pager.objects_url(), self.page);
            return Some(match serde_json::to_vec(&bundle) {
                Ok(bytes) => Ok(Fetched::Document { name, bytes }),
                Err(e) => Ok(Fetched::Unreadable { name, reason: e.to_string() }),
            });
        }
    }
}

async fn pull_taxii(
    store: &Store,
    actor: &Actor,
    source: &IntelSource,
    http: Http,
    options: &PullOptions,
    progress: Arc<dyn Progress>,
) -> Result<Outcome, FeedsError> {
    let since = Some(source.cursor.clone()).filter(|c| !c.is_empty());
    let report = Arc::new(Mutex::new(TaxiiReport::default()));
    let mut pager = TaxiiPager {
        http,
        collection_url: format!("{}/collections/{}/", source.url.trim_end_matches('/'), source.collection_id),
        since: since.clone(),
        added_after: since,
        page_size: options.page_size,
        next: None,
        seen_versions: HashSet::new(),
        finished: false,
        max_objects: options.max_objects.max(1),
        report: Arc::clone(&report),
    };
    // The first page before an import run is begun: nothing new, no run.
    let (pager, first) = blocking(move || {
        let first = pager.next_page()?.unwrap_or_default();
        Ok((pager, first))
    })
    .await?;
    if first.is_empty() && pager.finished {
        let r = lock(&report);
        return Ok(Outcome {
            import: None,
            cursor_after: source.cursor.clone(),
            pages: r.pages,
            more: r.more,
            warnings: r.warnings.clone(),
        });
    }
    let described = format!(
        "TAXII {} added_after {}",
        pager.objects_url(),
        if source.cursor.is_empty() { "(start)" } else { &source.cursor }
    );
    let documents: Documents = Box::new(TaxiiDocuments { pager, first: Some(first), page: 0, done: false });
    let options = import_options(source, Format::Stix, options.limits);
    let summary = import_documents(store, actor, "stix", &described, documents, options, progress).await?;
    let r = lock(&report);
    Ok(Outcome {
        import: Some(summary),
        cursor_after: r.newest.as_ref().map_or_else(|| source.cursor.clone(), |(_, raw)| raw.clone()),
        pages: r.pages,
        more: r.more,
        warnings: r.warnings.clone(),
    })
}

// ------------------------------------------------------------- MISP feed

/// The feed's base URL (ending in `/`) from a base or manifest URL.
fn misp_base(url: &str) -> String {
    match url.strip_suffix("manifest.json") {
        Some(base) => base.to_owned(),
        None if url.ends_with('/') => url.to_owned(),
        None => format!("{url}/"),
    }
}

/// The MISP cursor: event uuid → manifest timestamp (Unix seconds) imported.
fn read_misp_cursor(cursor: &str) -> Result<BTreeMap<String, i64>, String> {
    if cursor.trim().is_empty() {
        return Ok(BTreeMap::new());
    }
    serde_json::from_str(cursor).map_err(|e| e.to_string())
}

/// The events of a MISP feed to fetch, oldest first.
struct MispDocuments {
    http: Http,
    base: String,
    wanted: std::vec::IntoIter<(i64, String)>,
    fetched: Arc<Mutex<Vec<(String, i64)>>>,
    done: bool,
}

impl Iterator for MispDocuments {
    type Item = Result<Fetched, FeedsError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let (timestamp, uuid) = self.wanted.next()?;
        let url = format!("{}{uuid}.json", self.base);
        Some(match self.http.get_body(&url, &[("Accept", "application/json")]) {
            Ok(bytes) => {
                lock(&self.fetched).push((uuid, timestamp));
                Ok(Fetched::Document { name: url, bytes })
            }
            // Every other event would be refused alike.
            Err(e) if e.is_refusal() => {
                self.done = true;
                Err(e.into())
            }
            // Left out of the cursor, so fetched again next time.
            Err(e) => Ok(Fetched::Unreadable { name: e.url, reason: e.reason }),
        })
    }
}

async fn pull_misp(
    store: &Store,
    actor: &Actor,
    source: &IntelSource,
    http: Http,
    options: &PullOptions,
    progress: Arc<dyn Progress>,
) -> Result<Outcome, FeedsError> {
    let base = misp_base(&source.url);
    let manifest_url = format!("{base}manifest.json");
    let mut warnings = Vec::new();
    let seen = read_misp_cursor(&source.cursor).unwrap_or_else(|e| {
        warnings.push(format!("the stored cursor was unreadable ({e}); every event is fetched again"));
        BTreeMap::new()
    });
    let max_bytes = options.limits.max_document_bytes;
    let url = manifest_url.clone();
    let (http, manifest) = blocking(move || {
        let raw = http.get_body(&url, &[("Accept", "application/json")])?;
        let bytes = anbao_intel::compress::decompress(&raw, max_bytes)
            .map_err(|e| FeedsError::Unreadable { input: url.clone(), reason: e.to_string() })?
            .into_owned();
        Ok((http, bytes))
    })
    .await?;
    let entries = anbao_intel::misp::read_manifest(&manifest)
        .map_err(|e| FeedsError::Unreadable { input: manifest_url.clone(), reason: e.to_string() })?;

    // Forget events the feed no longer lists, so the cursor stays its size.
    let listed: HashSet<&str> = entries.iter().map(|e| e.uuid.as_str()).collect();
    let mut cursor: BTreeMap<String, i64> = seen.into_iter().filter(|(u, _)| listed.contains(u.as_str())).collect();
    let mut wanted: Vec<(i64, String)> = entries
        .iter()
        // A uuid becomes part of a URL: nothing else may.
        .filter(|e| !e.uuid.is_empty() && e.uuid.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        .map(|e| (e.timestamp.map_or(0, OffsetDateTime::unix_timestamp), e.uuid.clone()))
        .filter(|(t, u)| cursor.get(u).is_none_or(|old| t > old))
        .collect();
    wanted.sort();
    let mut more = false;
    let cap = usize::try_from(options.max_objects.max(1)).unwrap_or(usize::MAX);
    if wanted.len() > cap {
        wanted.truncate(cap);
        more = true;
        warnings.push(format!("stopped after {cap} events (the cap); pull again for the rest"));
    }
    let cursor_json = |c: &BTreeMap<String, i64>| serde_json::to_string(c).unwrap_or_default();
    if wanted.is_empty() {
        return Ok(Outcome { import: None, cursor_after: cursor_json(&cursor), pages: 0, more, warnings });
    }
    let described = format!("MISP feed {manifest_url}: {} changed events", wanted.len());
    let fetched = Arc::new(Mutex::new(Vec::new()));
    let documents: Documents =
        Box::new(MispDocuments { http, base, wanted: wanted.into_iter(), fetched: Arc::clone(&fetched), done: false });
    let options = import_options(source, Format::Misp, options.limits);
    let summary = import_documents(store, actor, "misp", &described, documents, options, progress).await?;
    let fetched = std::mem::take(&mut *lock(&fetched));
    let pages = fetched.len() as u64;
    cursor.extend(fetched);
    Ok(Outcome { import: Some(summary), cursor_after: cursor_json(&cursor), pages, more, warnings })
}

// ------------------------------------------------------------------- URL

/// The validators of the last download.
#[derive(Default, Deserialize, Serialize)]
struct UrlCursor {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    etag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_modified: Option<String>,
}

async fn pull_url(
    store: &Store,
    actor: &Actor,
    source: &IntelSource,
    http: Http,
    options: &PullOptions,
    progress: Arc<dyn Progress>,
) -> Result<Outcome, FeedsError> {
    let mut warnings = Vec::new();
    let before: UrlCursor = if source.cursor.trim().is_empty() {
        UrlCursor::default()
    } else {
        serde_json::from_str(&source.cursor).unwrap_or_else(|e| {
            warnings.push(format!("the stored cursor was unreadable ({e}); fetched unconditionally"));
            UrlCursor::default()
        })
    };
    let url = source.url.clone();
    let answer = blocking(move || {
        let mut headers: Vec<(&str, &str)> = Vec::new();
        if let Some(e) = &before.etag {
            headers.push(("If-None-Match", e));
        }
        if let Some(m) = &before.last_modified {
            headers.push(("If-Modified-Since", m));
        }
        let resp = http.get(&url, &headers)?;
        if resp.status() == 304 {
            return Ok(None);
        }
        let after = UrlCursor {
            etag: resp.header("ETag").map(str::to_owned),
            last_modified: resp.header("Last-Modified").map(str::to_owned),
        };
        let bytes = http.body(&url, resp)?;
        Ok(Some((bytes, after)))
    })
    .await?;
    let Some((bytes, after)) = answer else {
        return Ok(Outcome { import: None, cursor_after: source.cursor.clone(), pages: 0, more: false, warnings });
    };
    let cursor_after = if after.etag.is_none() && after.last_modified.is_none() {
        String::new()
    } else {
        serde_json::to_string(&after).unwrap_or_default()
    };
    let format: Format = source.format.parse().map_err(FeedsError::Usage)?;
    let documents: Documents = Box::new(std::iter::once(Ok(Fetched::Document { name: source.url.clone(), bytes })));
    let options = import_options(source, format, options.limits);
    let summary = import_documents(store, actor, format.as_str(), &source.url, documents, options, progress).await?;
    Ok(Outcome { import: Some(summary), cursor_after, pages: 1, more: false, warnings })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_rfc_examples() {
        let cases =
            [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE=")];
        for (plain, encoded) in cases {
            assert_eq!(base64(plain.as_bytes()), encoded, "{plain:?}");
        }
        assert_eq!(base64(b"reader:pa:ss"), "cmVhZGVyOnBhOnNz");
    }

    #[test]
    fn query_values_are_percent_encoded() {
        let url = with_query("http://h/c/objects/", &[("added_after", "2024-01-01T00:00:00.5Z"), ("next", "a b&c")]);
        assert_eq!(url, "http://h/c/objects/?added_after=2024-01-01T00%3A00%3A00.5Z&next=a%20b%26c");
        assert_eq!(with_query("http://h/x?a=1", &[("b", "2")]), "http://h/x?a=1&b=2");
    }

    #[test]
    fn misp_bases_and_cursors() {
        assert_eq!(misp_base("https://f.example/feed/manifest.json"), "https://f.example/feed/");
        assert_eq!(misp_base("https://f.example/feed"), "https://f.example/feed/");
        assert_eq!(misp_base("https://f.example/feed/"), "https://f.example/feed/");
        assert_eq!(read_misp_cursor("").unwrap(), BTreeMap::new());
        assert_eq!(read_misp_cursor(r#"{"a":5}"#).unwrap().get("a"), Some(&5));
        assert!(read_misp_cursor("2024-01-01").is_err());
    }

    #[test]
    fn uuids_are_version_4() {
        let u = uuid4();
        assert_eq!(u.len(), 36);
        assert_eq!(u.as_bytes()[14], b'4');
        assert!(matches!(u.as_bytes()[19], b'8' | b'9' | b'a' | b'b'), "{u}");
    }

    #[test]
    fn refusals_name_the_status_and_what_to_check() {
        assert!(status_reason(401, "UNAUTHORIZED").contains("HTTP 401"));
        assert!(status_reason(401, "UNAUTHORIZED").contains("user name and password"));
        assert!(status_reason(406, "NOT ACCEPTABLE").contains("TAXII 2.1"));
    }

    // ------------------------------------------------ against a fake server

    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;

    use anbao_model::ManualClock;
    use anbao_store::{IntelSourceDraft, Sealer, StoreOptions};
    use time::macros::datetime;

    /// A request as the fake server saw it.
    #[derive(Clone, Debug)]
    struct Seen {
        path: String,
        query: BTreeMap<String, String>,
        headers: BTreeMap<String, String>,
    }

    type Reply = (u16, Vec<(String, String)>, String);

    /// Serves `handler` on a loopback port until the test ends; returns the
    /// base URL and every request seen.
    fn serve(handler: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> (String, Arc<Mutex<Vec<Seen>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    continue;
                }
                let target = line.split(' ').nth(1).unwrap_or("/").to_owned();
                let mut headers = BTreeMap::new();
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
                        break;
                    }
                    if let Some((k, v)) = h.split_once(':') {
                        headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
                    }
                }
                let (path, q) = target.split_once('?').unwrap_or((&target, ""));
                let query = q
                    .split('&')
                    .filter_map(|kv| kv.split_once('='))
                    .map(|(k, v)| (k.to_owned(), unescape(v)))
                    .collect();
                let request = Seen { path: path.to_owned(), query, headers };
                lock(&log).push(request.clone());
                let (status, headers, body) = handler(&request);
                let mut head =
                    format!("HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n", body.len());
                for (k, v) in headers {
                    head.push_str(&format!("{k}: {v}\r\n"));
                }
                head.push_str("\r\n");
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(body.as_bytes());
            }
        });
        (base, seen)
    }

    fn unescape(v: &str) -> String {
        let mut out = Vec::new();
        let b = v.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'%'
                && i + 2 < b.len()
                && let Ok(x) = u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("zz"), 16)
            {
                out.push(x);
                i += 3;
                continue;
            }
            out.push(b[i]);
            i += 1;
        }
        String::from_utf8(out).unwrap()
    }

    fn indicator(n: usize) -> Value {
        serde_json::json!({
            "type": "indicator", "spec_version": "2.1",
            "id": format!("indicator--00000000-0000-4000-8000-{n:012}"),
            "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
            "pattern": format!("[domain-name:value = 'c2-{n}.example']"), "pattern_type": "stix",
            "valid_from": "2024-01-01T00:00:00Z",
        })
    }

    fn date_added(n: usize) -> String {
        format!("2024-02-01T00:00:{n:02}.000000Z")
    }

    /// A TAXII collection of `total` indicators, object n added at second n,
    /// paged by `limit` with `next` = the offset.
    fn taxii(total: usize, with_header: bool) -> impl Fn(&Seen) -> Reply + Send + Sync + 'static {
        move |r: &Seen| {
            if r.headers.get("accept").map(String::as_str) != Some(TAXII_MEDIA_TYPE) {
                return (406, vec![], "{}".into());
            }
            if r.headers.get("authorization").map(String::as_str) != Some("Basic cmVhZGVyOnB3") {
                return (401, vec![], "{}".into());
            }
            let after = r.query.get("added_after").cloned().unwrap_or_default();
            let all: Vec<usize> = (0..total).filter(|n| date_added(*n) > after).collect();
            let limit: usize = r.query.get("limit").and_then(|l| l.parse().ok()).unwrap_or(100);
            let start: usize = r.query.get("next").and_then(|n| n.parse().ok()).unwrap_or(0);
            let page: Vec<usize> = all.iter().copied().skip(start).take(limit).collect();
            let more = start + page.len() < all.len();
            if r.path.ends_with("/manifest/") {
                let objects: Vec<Value> = page
                    .iter()
                    .map(|n| serde_json::json!({"id": indicator(*n)["id"], "date_added": date_added(*n)}))
                    .collect();
                let mut body = serde_json::json!({"objects": objects, "more": more});
                if more {
                    body["next"] = Value::from((start + page.len()).to_string());
                }
                return (200, vec![], body.to_string());
            }
            let mut headers = vec![("Content-Type".to_owned(), TAXII_MEDIA_TYPE.to_owned())];
            if with_header && let Some(last) = page.last() {
                headers.push(("X-TAXII-Date-Added-Last".into(), date_added(*last)));
            }
            if page.is_empty() {
                return (200, headers, "{}".into());
            }
            let mut body =
                serde_json::json!({"objects": page.iter().map(|n| indicator(*n)).collect::<Vec<_>>(), "more": more});
            if more {
                body["next"] = Value::from((start + page.len()).to_string());
            }
            (200, headers, body.to_string())
        }
    }

    async fn store() -> (Store, Arc<ManualClock>, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(ManualClock::new(datetime!(2026-11-25 09:00 UTC)));
        let mut options = StoreOptions::new(Sealer::from_hex(&Sealer::generate_key_hex()).unwrap());
        options.clock = clock.clone();
        let store = Store::open(&anbao_store::sqlite_url(&dir.path().join("t.db")), options).await.unwrap();
        (store, clock, dir)
    }

    async fn add_taxii(store: &Store, name: &str, base: &str, password: &str) -> IntelSource {
        let mut d = IntelSourceDraft::new(name, SourceKind::Taxii, &format!("{base}/api1/"));
        d.collection_id = "c1".into();
        d.username = "reader".into();
        d.password = password.into();
        store.intel_source_create(&Actor::cli(), &d).await.unwrap()
    }

    fn small_pages() -> PullOptions {
        PullOptions { page_size: 2, ..PullOptions::default() }
    }

    async fn run(store: &Store, name: &str, options: &PullOptions) -> Result<PullSummary, FeedsError> {
        pull_with(store, &Actor::cli(), name, options, Arc::new(NoProgress)).await
    }

    #[tokio::test]
    async fn taxii_pages_are_followed_and_the_cursor_remembers_where_they_ended() {
        let (store, _clock, _dir) = store().await;
        let (base, seen) = serve(taxii(5, true));
        add_taxii(&store, "partner", &base, "pw").await;
        let s = run(&store, "partner", &small_pages()).await.unwrap();
        assert_eq!((s.import.accepted, s.pages, s.not_modified, s.more), (5, 3, false, false), "{s:?}");
        assert_eq!((s.cursor_before.as_str(), s.cursor_after.as_str()), ("", date_added(4).as_str()));
        let requests = lock(&seen).clone();
        assert_eq!(requests.len(), 3);
        assert_eq!(requests[0].path, "/api1/collections/c1/objects/");
        assert_eq!(requests[1].query.get("next").map(String::as_str), Some("2"));
        assert!(requests.iter().all(|r| r.query.get("limit").map(String::as_str) == Some("2")));

        // Nothing new: no import run, the cursor stays, the request says where from.
        let again = run(&store, "partner", &small_pages()).await.unwrap();
        assert!(again.not_modified && again.import.import_id == 0, "{again:?}");
        assert_eq!(again.cursor_after, date_added(4));
        assert_eq!(lock(&seen).last().unwrap().query.get("added_after"), Some(&date_added(4)));
        let source = store.intel_source_find("partner").await.unwrap();
        assert_eq!((source.last_status.as_str(), source.last_import_id), ("not_modified", Some(s.import.import_id)));
        assert_eq!(store.intel_import_runs(10).await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn without_date_headers_the_manifest_gives_the_cursor() {
        let (store, _clock, _dir) = store().await;
        let (base, seen) = serve(taxii(3, false));
        add_taxii(&store, "partner", &base, "pw").await;
        let s = run(&store, "partner", &small_pages()).await.unwrap();
        assert_eq!((s.import.accepted, s.cursor_after.as_str()), (3, date_added(2).as_str()), "{s:?}");
        assert!(lock(&seen).iter().any(|r| r.path.ends_with("/manifest/")));
    }

    #[tokio::test]
    async fn refusals_fail_the_pull_naming_url_and_status_and_keep_the_cursor() {
        let (store, _clock, _dir) = store().await;
        let (base, _seen) = serve(taxii(3, true));
        add_taxii(&store, "wrong", &base, "not-the-password").await;
        let e = run(&store, "wrong", &small_pages()).await.unwrap_err().to_string();
        assert!(e.contains("HTTP 401") && e.contains(&format!("{base}/api1/collections/c1/objects/")), "{e}");
        assert!(!e.contains("not-the-password"), "{e}");
        let source = store.intel_source_find("wrong").await.unwrap();
        assert!(source.last_status.starts_with("failed: ") && source.last_status.contains("401"), "{source:?}");
        assert_eq!(source.cursor, "");
        assert!(store.intel_import_runs(10).await.unwrap().is_empty(), "no run for a refused first page");
        let e = run(&store, "nobody", &small_pages()).await.unwrap_err().to_string();
        assert!(e.contains("nobody"), "{e}");
    }

    #[tokio::test]
    async fn hostile_servers_cannot_keep_a_pull_going() {
        let (store, _clock, _dir) = store().await;
        // `more` forever, always the same `next`.
        let (base, seen) = serve(|r: &Seen| {
            let n: usize = r.query.get("next").map_or(0, |_| 1);
            let body = serde_json::json!({"objects": [indicator(n)], "more": true, "next": "again"});
            (200, vec![("X-TAXII-Date-Added-Last".into(), date_added(n))], body.to_string())
        });
        let mut d = IntelSourceDraft::new("loop", SourceKind::Taxii, &format!("{base}/api1"));
        d.collection_id = "c1".into();
        store.intel_source_create(&Actor::cli(), &d).await.unwrap();
        let s = run(&store, "loop", &small_pages()).await.unwrap();
        assert!(s.more && s.warnings.iter().any(|w| w.contains("already read")), "{s:?}");
        assert_eq!(lock(&seen).len(), 3, "the third page brought nothing new");

        // A fresh `next` every time: the object cap ends it.
        let (base, seen) = serve(|r: &Seen| {
            let n: usize = r.query.get("next").and_then(|n| n.parse().ok()).unwrap_or(0);
            let body = serde_json::json!({"objects": [indicator(n)], "more": true, "next": (n + 1).to_string()});
            (200, vec![("X-TAXII-Date-Added-Last".into(), date_added(n))], body.to_string())
        });
        let mut d = IntelSourceDraft::new("endless", SourceKind::Taxii, &format!("{base}/api1"));
        d.collection_id = "c1".into();
        store.intel_source_create(&Actor::cli(), &d).await.unwrap();
        let options = PullOptions { max_objects: 7, ..small_pages() };
        let s = run(&store, "endless", &options).await.unwrap();
        assert_eq!((s.import.accepted + s.import.updated, s.pages, s.more), (7, 7, true), "{s:?}");
        assert_eq!(s.cursor_after, date_added(6), "the cursor advances to what was read");
        assert_eq!(lock(&seen).len(), 7);
    }

    #[tokio::test]
    async fn urls_are_fetched_again_only_when_changed() {
        let (store, _clock, _dir) = store().await;
        let (base, seen) = serve(|r: &Seen| {
            if r.headers.get("if-none-match").map(String::as_str) == Some("\"v1\"") {
                return (304, vec![], String::new());
            }
            (200, vec![("ETag".into(), "\"v1\"".into())], "evil.example\n198.51.100.7\n".into())
        });
        let mut d = IntelSourceDraft::new("list", SourceKind::Url, &format!("{base}/c2.txt"));
        d.format = "list".into();
        store.intel_source_create(&Actor::cli(), &d).await.unwrap();
        let s = run(&store, "list", &PullOptions::default()).await.unwrap();
        assert_eq!((s.import.accepted, s.pages, s.cursor_after.as_str()), (2, 1, r#"{"etag":"\"v1\""}"#), "{s:?}");
        let again = run(&store, "list", &PullOptions::default()).await.unwrap();
        assert!(again.not_modified && again.pages == 0, "{again:?}");
        assert_eq!(lock(&seen).len(), 2);
    }

    #[tokio::test]
    async fn scheduled_pulls_take_due_sources_once() {
        let (store, clock, _dir) = store().await;
        let (base, _seen) = serve(taxii(3, true));
        let hourly = add_taxii(&store, "hourly", &base, "pw").await;
        let patch = anbao_store::IntelSourcePatch { interval_minutes: Some(60), ..Default::default() };
        store.intel_source_update(&Actor::cli(), hourly.id, &patch).await.unwrap();
        add_taxii(&store, "manual", &base, "pw").await;

        let done = pull_due(&store, &small_pages()).await.unwrap();
        let names: Vec<&str> = done.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["hourly"]);
        assert_eq!(done[0].1.as_ref().unwrap().import.accepted, 3);
        assert!(pull_due(&store, &small_pages()).await.unwrap().is_empty(), "not due again yet");
        clock.advance(time::Duration::minutes(60));
        let done = pull_due(&store, &small_pages()).await.unwrap();
        assert!(done[0].1.as_ref().unwrap().not_modified);

        // A source another node is pulling is not pulled here.
        clock.advance(time::Duration::minutes(60));
        let seen = store.intel_source_find("hourly").await.unwrap();
        store.intel_source_claim(&seen).await.unwrap().expect("the other node's claim");
        assert!(pull_due(&store, &small_pages()).await.unwrap().is_empty());
        let e = run(&store, "hourly", &small_pages()).await.unwrap_err().to_string();
        assert!(e.contains("being pulled"), "{e}");
    }
}
