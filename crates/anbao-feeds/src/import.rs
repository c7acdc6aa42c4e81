//! The import pipeline: documents are read and parsed on a blocking thread,
//! which hands batches of indicators over a bounded channel to the writer,
//! which commits each batch as one store chunk. Memory stays at a few
//! batches whatever the feed's size; progress is reported per batch.

use std::sync::Arc;

use anbao_intel::lists::CsvMapping;
use anbao_intel::record::clip;
use anbao_intel::{Category, Collected, FeedItem, FeedSink, Indicator, Rejected, StixObject};
use anbao_store::{Actor, ImportTotals, KeptReject, MAX_KEPT_REJECTS, Store};
use serde::Serialize;

use crate::input::{Input, Limits, expand, load};
use crate::{FeedsError, Format};

/// Indicators per store chunk: the first chunk of each document is small so
/// progress shows at once, then each doubles up to the largest, which
/// keeps SQLite's WAL traffic down (each chunk rewrites the index pages it
/// touches: 200,000 took a fifth less time to write than 50,000, and holds
/// the write lock for one to two seconds; see bench/README.md).
const FIRST_BATCH: usize = 5_000;
const MAX_BATCH: usize = 200_000;

/// How to import.
#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    pub format: Format,
    /// For indicators whose feed names no category.
    pub category: Option<Category>,
    /// Source name recorded in the provenance. Default: from the first input.
    pub source: Option<String>,
    /// MISP: also import attributes marked `to_ids: false`.
    pub include_non_ids: bool,
    /// For `Format::Csv`.
    pub csv: Option<CsvMapping>,
    /// A freetext or CSV feed described by MISP feed metadata: documents are
    /// read the way that description says (value columns, delimiter,
    /// exclusion regex), whatever `format` is.
    pub described: Option<anbao_intel::misp::FeedDescription>,
    pub limits: Limits,
}

/// Progress reports (a CLI progress bar, the UI's import page).
pub trait Progress: Send + Sync {
    /// Starting document `index` of `total`.
    fn document(&self, _name: &str, _index: usize, _total: usize) {}
    /// Indicators written so far.
    fn written(&self, _indicators: u64) {}
}

/// Reports nothing.
#[derive(Debug)]
pub struct NoProgress;
impl Progress for NoProgress {}

/// What went wrong with one value or one whole document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// `rejected`, `not_matchable` or `unreadable` (the whole document).
    pub kind: &'static str,
    pub input: String,
    pub location: String,
    pub value: String,
    pub reason: String,
}

/// The end of an import (the CLI's `--json` output).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ImportSummary {
    pub import_id: i64,
    pub source: String,
    pub accepted: u64,
    pub updated: u64,
    pub rejected: u64,
    pub not_matchable: u64,
    /// Read but not imported on purpose (MISP `to_ids: false`, unused
    /// attribute types).
    pub skipped: u64,
    /// STIX objects stored.
    pub objects: u64,
    /// Documents that could not be read at all.
    pub unreadable: u64,
    /// The first problems, up to the store's kept-rejects limit.
    pub errors: Vec<Problem>,
    pub errors_truncated: bool,
}

enum Batch {
    Document { name: String, index: usize, total: usize },
    Items { indicators: Vec<Indicator>, objects: Vec<StixObject> },
}

/// Counts and problems the parsing side keeps (the writer keeps the
/// accepted/updated counts).
#[derive(Default)]
struct ParseTally {
    rejected: u64,
    not_matchable: u64,
    skipped: u64,
    unreadable: u64,
    problems: Vec<Problem>,
    truncated: bool,
    rejects: Vec<Rejected>,
    /// One per unreadable document (see [`UNREADABLE_REASON`]).
    unreadable_rejects: Vec<Rejected>,
}

impl ParseTally {
    fn problem(&mut self, p: Problem) {
        if self.problems.len() < MAX_KEPT_REJECTS {
            self.problems.push(p);
        } else {
            self.truncated = true;
        }
    }
}

struct BatchingSink<'a> {
    tx: &'a tokio::sync::mpsc::Sender<Batch>,
    input: String,
    indicators: Vec<Indicator>,
    objects: Vec<StixObject>,
    tally: &'a mut ParseTally,
    closed: bool,
    batch: usize,
}

impl BatchingSink<'_> {
    fn flush(&mut self) {
        if self.indicators.is_empty() && self.objects.is_empty() {
            return;
        }
        let mut indicators = std::mem::take(&mut self.indicators);
        // In the order the store writes a chunk in (it sorts by
        // `Indicator::key`, stably, as here): sorted on this thread while
        // the writer is busy with the previous batch, the store's own sort
        // is one pass.
        indicators.sort_by(|a, b| a.key().cmp(&b.key()));
        let batch = Batch::Items { indicators, objects: std::mem::take(&mut self.objects) };
        self.batch = (self.batch * 2).min(MAX_BATCH);
        // The writer stopped (a store error): keep parsing nothing more.
        if self.tx.blocking_send(batch).is_err() {
            self.closed = true;
        }
    }
}

impl FeedSink for BatchingSink<'_> {
    fn item(&mut self, item: FeedItem) {
        if self.closed {
            return;
        }
        match item {
            FeedItem::Indicator(i) => {
                self.indicators.push(i);
                if self.indicators.len() >= self.batch {
                    self.flush();
                }
            }
            FeedItem::Object(o) => {
                self.objects.push(o);
                if self.objects.len() >= self.batch {
                    self.flush();
                }
            }
            FeedItem::Rejected(r) => {
                self.tally.rejected += 1;
                let p = Problem {
                    kind: "rejected",
                    input: self.input.clone(),
                    location: r.location.clone(),
                    value: clip(&r.value, 256),
                    reason: r.reason.clone(),
                };
                self.tally.problem(p);
                if self.tally.rejects.len() < MAX_KEPT_REJECTS {
                    self.tally.rejects.push(Rejected { location: format!("{}: {}", self.input, r.location), ..r });
                }
            }
            FeedItem::NotMatchable(n) => {
                self.tally.not_matchable += 1;
                let p = Problem {
                    kind: "not_matchable",
                    input: self.input.clone(),
                    location: n.location.clone(),
                    value: clip(&n.pattern, 256),
                    reason: n.reason.clone(),
                };
                self.tally.problem(p);
            }
        }
    }
}

/// An import run recorded in the store whose inputs are still to be read:
/// what [`begin_import`] returns and [`continue_import`] completes. The
/// server answers with the id at once and reads in the background.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StartedImport {
    pub import_id: i64,
    /// The source name the provenance rows get.
    pub source: String,
}

/// How the kept rejects of an import mark a document that could not be
/// read at all: its `reason` starts with this and its `value` is empty (the
/// location is the document's name). They are kept ahead of the rejected
/// values, so the run record tells an unreadable upload from an empty one.
pub const UNREADABLE_REASON: &str = "unreadable document: ";

/// Whether a kept reject stands for a whole unreadable document.
pub fn is_unreadable(reject: &KeptReject) -> bool {
    reject.value.is_empty() && reject.reason.starts_with(UNREADABLE_REASON)
}

/// Imports `inputs` into the store as one recorded import run.
pub async fn import(
    store: &Store,
    actor: &Actor,
    inputs: Vec<Input>,
    options: ImportOptions,
    progress: Arc<dyn Progress>,
) -> Result<ImportSummary, FeedsError> {
    let started = begin_import(store, actor, &inputs, &options).await?;
    continue_import(store, actor, started, inputs, options, progress).await
}

/// Records the start of an import of `inputs` (status `running`) without
/// reading anything yet.
pub async fn begin_import(
    store: &Store,
    actor: &Actor,
    inputs: &[Input],
    options: &ImportOptions,
) -> Result<StartedImport, FeedsError> {
    let Some(first) = inputs.first() else {
        return Err(FeedsError::Usage("nothing to import: name a file, directory or URL".into()));
    };
    let source = options.source.clone().unwrap_or_else(|| first.default_source());
    let described = inputs.iter().map(Input::describe).collect::<Vec<_>>().join(" ");
    let import_id = store.intel_import_begin(actor, &source, options.format.as_str(), &described).await?;
    Ok(StartedImport { import_id, source })
}

/// Reads `inputs` into the run [`begin_import`] recorded, committing chunk
/// by chunk, and records its end. `inputs` and `options` must be those the
/// run was begun with.
pub async fn continue_import(
    store: &Store,
    actor: &Actor,
    started: StartedImport,
    inputs: Vec<Input>,
    options: ImportOptions,
    progress: Arc<dyn Progress>,
) -> Result<ImportSummary, FeedsError> {
    run_pipeline(store, actor, started, options, progress, move |options, tx| (parse_all(&inputs, options, tx), None))
        .await
}

/// A document a puller fetched, or one it could not fetch (which is
/// counted and reported like an unreadable file, and the import goes on).
pub(crate) enum Fetched {
    Document { name: String, bytes: Vec<u8> },
    Unreadable { name: String, reason: String },
}

/// Documents produced while the import runs, on the parser's blocking
/// thread (so fetching page after page keeps memory at one page). An `Err`
/// ends the import as failed with that error.
pub(crate) type Documents = Box<dyn Iterator<Item = Result<Fetched, FeedsError>> + Send>;

/// Imports `documents` as one recorded import run of `source`; `format`
/// and `inputs` are what the run record shows. Documents are decompressed
/// and read with `options.format` like files.
pub(crate) async fn import_documents(
    store: &Store,
    actor: &Actor,
    format: &str,
    inputs: &str,
    documents: Documents,
    options: ImportOptions,
    progress: Arc<dyn Progress>,
) -> Result<ImportSummary, FeedsError> {
    let source = options.source.clone().ok_or_else(|| FeedsError::Internal("a pull names its source".into()))?;
    let import_id = store.intel_import_begin(actor, &source, format, inputs).await?;
    let started = StartedImport { import_id, source };
    run_pipeline(store, actor, started, options, progress, move |options, tx| parse_stream(documents, options, tx))
        .await
}

/// The import pipeline around a parser (see the module doc): `parse` runs
/// on a blocking thread and sends batches; this side writes them and
/// records the run's end. A parser's error fails the run.
async fn run_pipeline<P>(
    store: &Store,
    actor: &Actor,
    started: StartedImport,
    options: ImportOptions,
    progress: Arc<dyn Progress>,
    parse: P,
) -> Result<ImportSummary, FeedsError>
where
    P: FnOnce(&ImportOptions, &tokio::sync::mpsc::Sender<Batch>) -> (ParseTally, Option<FeedsError>) + Send + 'static,
{
    let StartedImport { import_id, source } = started;
    let category = options.category.unwrap_or(Category::Other);

    // One batch waiting while one is written and the next is read: the
    // parser stays one batch ahead, and memory at three batches.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Batch>(1);
    let parse_options = options.clone();
    let parser = tokio::task::spawn_blocking(move || parse(&parse_options, &tx));

    let mut totals = ImportTotals::default();
    let mut write_error = None;
    while let Some(batch) = rx.recv().await {
        match batch {
            Batch::Document { name, index, total } => progress.document(&name, index, total),
            Batch::Items { indicators, objects } => {
                match store.intel_import_chunk(import_id, &source, category, indicators, &objects).await {
                    Ok(c) => {
                        totals.accepted += c.accepted;
                        totals.updated += c.updated;
                        totals.objects += c.objects;
                        progress.written(totals.accepted + totals.updated);
                    }
                    Err(e) => {
                        write_error = Some(e);
                        break;
                    }
                }
            }
        }
    }
    drop(rx);
    let (tally, parse_error) = match parser.await {
        Ok(done) => done,
        Err(e) => {
            let failure = format!("the parser thread failed: {e}");
            store.intel_import_finish(actor, import_id, &totals, &[], Some(&failure)).await?;
            return Err(FeedsError::Internal(failure));
        }
    };
    totals.rejected = tally.rejected;
    totals.not_matchable = tally.not_matchable;
    totals.skipped = tally.skipped;
    let failure = match (&write_error, &parse_error) {
        (Some(e), _) => Some(e.to_string()),
        (None, Some(e)) => Some(e.to_string()),
        (None, None) => None,
    };
    let kept: Vec<Rejected> =
        tally.unreadable_rejects.iter().chain(&tally.rejects).take(MAX_KEPT_REJECTS).cloned().collect();
    store.intel_import_finish(actor, import_id, &totals, &kept, failure.as_deref()).await?;
    if let Some(e) = write_error {
        return Err(e.into());
    }
    if let Some(e) = parse_error {
        return Err(e);
    }
    Ok(ImportSummary {
        import_id,
        source,
        accepted: totals.accepted,
        updated: totals.updated,
        rejected: totals.rejected,
        not_matchable: totals.not_matchable,
        skipped: totals.skipped,
        objects: totals.objects,
        unreadable: tally.unreadable,
        errors: tally.problems,
        errors_truncated: tally.truncated,
    })
}

fn parse_all(inputs: &[Input], options: &ImportOptions, tx: &tokio::sync::mpsc::Sender<Batch>) -> ParseTally {
    let mut tally = ParseTally::default();
    let mut sources = Vec::new();
    for input in inputs {
        match expand(input, &options.limits) {
            Ok(s) => sources.extend(s),
            Err(e) => unreadable(&mut tally, input.describe(), e.to_string()),
        }
    }
    let total = sources.len();
    for (index, source) in sources.into_iter().enumerate() {
        let name = source.name();
        if tx.blocking_send(Batch::Document { name: name.clone(), index, total }).is_err() {
            break;
        }
        let (name, bytes) = match load(source, &options.limits) {
            Ok(doc) => doc,
            Err(e) => {
                unreadable(&mut tally, name, e.to_string());
                continue;
            }
        };
        if parse_document(name, &bytes, options, tx, &mut tally) {
            break;
        }
    }
    tally
}

/// Reads what a puller fetches, as it fetches it.
fn parse_stream(
    documents: Documents,
    options: &ImportOptions,
    tx: &tokio::sync::mpsc::Sender<Batch>,
) -> (ParseTally, Option<FeedsError>) {
    let mut tally = ParseTally::default();
    for (index, fetched) in documents.enumerate() {
        let (name, raw) = match fetched {
            Err(e) => return (tally, Some(e)),
            Ok(Fetched::Unreadable { name, reason }) => {
                unreadable(&mut tally, name, reason);
                continue;
            }
            Ok(Fetched::Document { name, bytes }) => (name, bytes),
        };
        // The total is not known while pages keep coming.
        if tx.blocking_send(Batch::Document { name: name.clone(), index, total: 0 }).is_err() {
            break;
        }
        let bytes = match anbao_intel::compress::decompress(&raw, options.limits.max_document_bytes) {
            Ok(b) => b,
            Err(e) => {
                unreadable(&mut tally, name, e.to_string());
                continue;
            }
        };
        if parse_document(name, &bytes, options, tx, &mut tally) {
            break;
        }
    }
    (tally, None)
}

/// Runs the reader over one loaded document, sending its batches; returns
/// whether the writer has stopped (nothing more should be read).
fn parse_document(
    name: String,
    bytes: &[u8],
    options: &ImportOptions,
    tx: &tokio::sync::mpsc::Sender<Batch>,
    tally: &mut ParseTally,
) -> bool {
    let mut sink = BatchingSink {
        tx,
        input: name.clone(),
        indicators: Vec::with_capacity(FIRST_BATCH),
        objects: Vec::new(),
        tally,
        closed: false,
        batch: FIRST_BATCH,
    };
    let result = crate::format::read(options, &name, bytes, &mut sink);
    sink.flush();
    let closed = sink.closed;
    match result {
        Ok(skipped) => tally.skipped += skipped,
        Err(e) => unreadable(tally, name, e.to_string()),
    }
    closed
}

fn unreadable(tally: &mut ParseTally, input: String, reason: String) {
    tally.unreadable += 1;
    if tally.unreadable_rejects.len() < MAX_KEPT_REJECTS {
        let kept =
            Rejected { location: input.clone(), value: String::new(), reason: format!("{UNREADABLE_REASON}{reason}") };
        tally.unreadable_rejects.push(kept);
    }
    tally.problem(Problem { kind: "unreadable", input, location: String::new(), value: String::new(), reason });
}

/// What [`read_inputs`] read, without a store: for offline tools (`anbao
/// scan --indicators FILE`) that match against a file, not the platform.
#[derive(Debug, Default)]
pub struct ReadInputs {
    pub collected: Collected,
    /// Documents that could not be read at all: (input, reason).
    pub unreadable: Vec<(String, String)>,
    pub skipped: u64,
}

/// Reads `inputs` the way an import does (formats, gzip, MISP folders,
/// URLs) into memory. Nothing is stored; values a feed repeats are kept
/// repeated (the caller merges them).
pub fn read_inputs(inputs: &[Input], options: &ImportOptions) -> ReadInputs {
    let mut collected = Collected::default();
    let ReadStreamed { unreadable, skipped } = read_inputs_into(inputs, options, &mut collected);
    ReadInputs { collected, unreadable, skipped }
}

/// What [`read_inputs_into`] could not read.
#[derive(Debug, Default)]
pub struct ReadStreamed {
    /// Documents that could not be read at all: (input, reason).
    pub unreadable: Vec<(String, String)>,
    pub skipped: u64,
}

/// [`read_inputs`] that hands every item to `sink` as it is read instead of
/// collecting them, so a caller that keeps less per indicator than a whole
/// [`Indicator`](anbao_intel::Indicator) (`anbao scan` building a match
/// index from a million-line list) never holds the feed twice. Indicators
/// without a category get `options.category` (else `other`), as an import
/// gives them.
pub fn read_inputs_into(inputs: &[Input], options: &ImportOptions, sink: &mut dyn FeedSink) -> ReadStreamed {
    let mut out = ReadStreamed::default();
    let mut sources = Vec::new();
    for input in inputs {
        match expand(input, &options.limits) {
            Ok(s) => sources.extend(s),
            Err(e) => out.unreadable.push((input.describe(), e.to_string())),
        }
    }
    // The store applies the default category at write time; do the same.
    let category = options.category.unwrap_or(Category::Other);
    let mut with_category = |item: FeedItem| match item {
        FeedItem::Indicator(mut i) => {
            i.category.get_or_insert(category);
            sink.item(FeedItem::Indicator(i));
        }
        other => sink.item(other),
    };
    for source in sources {
        let name = source.name();
        let (name, bytes) = match load(source, &options.limits) {
            Ok(doc) => doc,
            Err(e) => {
                out.unreadable.push((name, e.to_string()));
                continue;
            }
        };
        match crate::format::read(options, &name, &bytes, &mut with_category) {
            Ok(skipped) => out.skipped += skipped,
            Err(e) => out.unreadable.push((name, e.to_string())),
        }
    }
    out
}
