//! Threat-intelligence indicators, their provenance, import runs, STIX
//! objects kept as imported, and allowlists (R3.5, R3.6, R6.5, R8.5).
//!
//! One row per (kind, normalised value) in `intel_indicators`; each source
//! that states the value has one `intel_provenance` row (a re-import from
//! the same source replaces its row). The indicator's category, confidence,
//! TLP, first/last seen and validity are derived from its provenance rows
//! after every write (`aggregate_sql!`):
//! - confidence: the highest any source gives;
//! - TLP: the most restrictive;
//! - category: that of the most confident source, the newest on ties;
//! - first seen the earliest, last seen the latest;
//! - valid until: the latest, and none at all if any source states no end
//!   (one source still vouching for it keeps it matching).
//!
//! Imports are written in chunks, each its own transaction: a ten-million
//! line feed must not hold the write lock for minutes. An import that fails
//! half-way is recorded as `failed` with what it had written; imports are
//! idempotent, so running it again completes it. Each import appends one
//! audit entry (who, what source, the counts), not one per indicator.
//!
//! Every change that affects matching bumps `intel_generation`, which index
//! holders on every node poll to know when to rebuild.

use anbao_intel::{Category, Indicator, IndicatorKind, Rejected, StixObject, Tlp};
use anbao_model::Timestamp;
use anbao_model::clock::format_ts;
use anbao_model::validate::Invalid;
use futures_util::TryStreamExt;
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::audit::append;
use crate::{Actor, Result, Store, StoreError, WriteTx, opt_ts_col, ts_col};

/// Rejects kept per import for download; the count covers all of them.
pub const MAX_KEPT_REJECTS: usize = 10_000;

/// Rows per multi-row statement. PostgreSQL: 1000 (provenance rows bind 14
/// values, under its 65,535 parameters). SQLite: 64, because sqlx's SQLite
/// driver finds each `$N` by name among all parameters, so binding costs
/// grow with the square of the count (1000 rows spent 85% of an import
/// there).
fn rows_per_statement(backend: crate::Backend) -> usize {
    match backend {
        crate::Backend::Sqlite => 20,
        crate::Backend::Postgres => 1000,
    }
}

/// An indicator as stored, with the values derived from its provenance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StoredIndicator {
    pub id: i64,
    #[serde(serialize_with = "as_display")]
    pub kind: IndicatorKind,
    pub value: String,
    #[serde(serialize_with = "as_display")]
    pub category: Category,
    pub confidence: Option<u8>,
    #[serde(serialize_with = "opt_as_display")]
    pub tlp: Option<Tlp>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub first_seen: Option<Timestamp>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_seen: Option<Timestamp>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub valid_until: Option<Timestamp>,
    /// How many sources state it.
    pub sources: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: Timestamp,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: Timestamp,
}

impl StoredIndicator {
    /// Whether it matches at `now` (no validity end, or one after `now`).
    pub fn is_valid_at(&self, now: Timestamp) -> bool {
        self.valid_until.is_none_or(|until| until > now)
    }
}

fn as_display<T: std::fmt::Display, S: serde::Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

fn opt_as_display<T: std::fmt::Display, S: serde::Serializer>(v: &Option<T>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => s.collect_str(v),
        None => s.serialize_none(),
    }
}

/// One source's statement about an indicator.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Provenance {
    pub indicator_id: i64,
    pub source: String,
    pub external_id: String,
    #[serde(serialize_with = "as_display")]
    pub category: Category,
    pub confidence: Option<u8>,
    #[serde(serialize_with = "opt_as_display")]
    pub tlp: Option<Tlp>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub first_seen: Option<Timestamp>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_seen: Option<Timestamp>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub valid_until: Option<Timestamp>,
    pub tags: Vec<String>,
    pub context: String,
    pub import_id: Option<i64>,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: Timestamp,
}

/// What one chunk of an import did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ChunkCounts {
    /// Indicators that did not exist before.
    pub accepted: u64,
    /// Existing indicators this import stated again (new or replaced
    /// provenance).
    pub updated: u64,
    /// STIX objects stored (new ids or versions).
    pub objects: u64,
}

/// Totals an importer hands to [`Store::intel_import_finish`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ImportTotals {
    pub accepted: u64,
    pub updated: u64,
    pub rejected: u64,
    pub not_matchable: u64,
    /// Read but deliberately not imported (MISP `to_ids: false`, types we
    /// do not use).
    pub skipped: u64,
    pub objects: u64,
}

/// One import run as recorded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ImportRun {
    pub id: i64,
    pub source: String,
    pub format: String,
    pub inputs: String,
    pub actor: String,
    /// `running`, `done`, `failed`, or `interrupted` (still marked running
    /// but without progress for [`IMPORT_STALE`]: its process died).
    pub status: String,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: Timestamp,
    #[serde(with = "time::serde::rfc3339::option")]
    pub finished_at: Option<Timestamp>,
    pub accepted: u64,
    pub updated: u64,
    pub rejected: u64,
    pub not_matchable: u64,
    pub skipped: u64,
    pub objects: u64,
    pub failure: String,
}

/// A kept reject of an import, as downloaded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct KeptReject {
    pub location: String,
    pub value: String,
    pub reason: String,
}

/// Which indicators a list or export wants.
#[derive(Clone, Debug, Default)]
pub struct IndicatorFilter {
    /// Substring of the value (case-insensitive for ASCII).
    pub q: Option<String>,
    pub kind: Option<IndicatorKind>,
    pub category: Option<Category>,
    pub source: Option<String>,
    /// Valid at this time (expired ones left out); `None` includes all.
    pub valid_at: Option<Timestamp>,
    /// Only indicators an alert in this status names (e.g. `confirmed`):
    /// the disposal lists of R3.1 built from what detection confirmed.
    pub alert_status: Option<String>,
}

/// An indicator with everything an export needs: the stored row, tags from
/// all sources, and the first source's context.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportIndicator {
    pub stored: StoredIndicator,
    pub tags: Vec<String>,
    pub context: String,
    pub sources: Vec<String>,
}

impl ExportIndicator {
    /// As a feed record (for the writers in `anbao_intel`).
    pub fn to_record(&self) -> Indicator {
        let s = &self.stored;
        let mut i = Indicator::new(s.kind, s.value.clone());
        i.category = Some(s.category);
        i.confidence = s.confidence;
        i.tlp = s.tlp;
        i.first_seen = s.first_seen;
        i.last_seen = s.last_seen;
        i.valid_until = s.valid_until;
        i.tags = self.tags.clone();
        i.context = self.context.clone();
        i
    }
}

/// A stored STIX object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StoredObject {
    pub id: i64,
    pub stix_id: String,
    pub object_type: String,
    pub spec_version: String,
    pub version: String,
    pub source: String,
    #[serde(with = "time::serde::rfc3339")]
    pub added_at: Timestamp,
    pub body: String,
}

/// An allowlist in MISP warninglist form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Allowlist {
    pub id: i64,
    pub name: String,
    /// `string`, `substring`, `hostname`, `cidr` or `regex`.
    pub list_type: String,
    pub description: String,
    pub entries: Vec<String>,
    pub enabled: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: Timestamp,
}

pub const ALLOWLIST_TYPES: [&str; 5] = ["string", "substring", "hostname", "cidr", "regex"];

fn kind_col(row: &AnyRow, col: &str) -> Result<IndicatorKind> {
    let s: String = row.try_get(col)?;
    s.parse().map_err(|e| StoreError::Corrupt(format!("column {col}: {e}")))
}

fn category_col(row: &AnyRow, col: &str) -> Result<Category> {
    let s: String = row.try_get(col)?;
    s.parse().map_err(|e| StoreError::Corrupt(format!("column {col}: {e}")))
}

fn confidence_col(row: &AnyRow, col: &str) -> Result<Option<u8>> {
    let v: Option<i64> = row.try_get(col)?;
    Ok(v.and_then(|v| u8::try_from(v).ok()))
}

fn tlp_col(row: &AnyRow, col: &str) -> Result<Option<Tlp>> {
    let v: Option<i64> = row.try_get(col)?;
    Ok(v.and_then(Tlp::from_rank))
}

fn count_col(row: &AnyRow, col: &str) -> Result<u64> {
    let v: i64 = row.try_get(col)?;
    Ok(u64::try_from(v).unwrap_or(0))
}

fn indicator_of(row: &AnyRow) -> Result<StoredIndicator> {
    Ok(StoredIndicator {
        id: row.try_get("id")?,
        kind: kind_col(row, "kind")?,
        value: row.try_get("value")?,
        category: category_col(row, "category")?,
        confidence: confidence_col(row, "confidence")?,
        tlp: tlp_col(row, "tlp_rank")?,
        first_seen: opt_ts_col(row, "first_seen")?,
        last_seen: opt_ts_col(row, "last_seen")?,
        valid_until: opt_ts_col(row, "valid_until")?,
        sources: row.try_get("sources")?,
        created_at: ts_col(row, "created_at")?,
        updated_at: ts_col(row, "updated_at")?,
    })
}

fn provenance_of(row: &AnyRow) -> Result<Provenance> {
    let tags: String = row.try_get("tags")?;
    Ok(Provenance {
        indicator_id: row.try_get("indicator_id")?,
        source: row.try_get("source")?,
        external_id: row.try_get("external_id")?,
        category: category_col(row, "category")?,
        confidence: confidence_col(row, "confidence")?,
        tlp: tlp_col(row, "tlp_rank")?,
        first_seen: opt_ts_col(row, "first_seen")?,
        last_seen: opt_ts_col(row, "last_seen")?,
        valid_until: opt_ts_col(row, "valid_until")?,
        tags: split_tags(&tags),
        context: row.try_get("context")?,
        import_id: row.try_get("import_id")?,
        updated_at: ts_col(row, "updated_at")?,
    })
}

/// How long a `running` import may go without progress (a chunk written)
/// before it is reported as `interrupted`: its process died or was killed.
/// Generous, because a remote feed may take minutes before its first chunk.
pub const IMPORT_STALE: time::Duration = time::Duration::minutes(30);

/// `running`, unless the run made no progress for [`IMPORT_STALE`]:
/// then `interrupted`.
fn import_status(row: &AnyRow, now: Timestamp) -> Result<String> {
    let status: String = row.try_get("status")?;
    if status == "running" {
        let progress = opt_ts_col(row, "progress_at")?.map_or_else(|| ts_col(row, "started_at"), Ok)?;
        if now - progress > IMPORT_STALE {
            return Ok("interrupted".to_owned());
        }
    }
    Ok(status)
}

fn run_of(row: &AnyRow, now: Timestamp) -> Result<ImportRun> {
    Ok(ImportRun {
        id: row.try_get("id")?,
        source: row.try_get("source")?,
        format: row.try_get("format")?,
        inputs: row.try_get("inputs")?,
        actor: row.try_get("actor")?,
        status: import_status(row, now)?,
        started_at: ts_col(row, "started_at")?,
        finished_at: opt_ts_col(row, "finished_at")?,
        accepted: count_col(row, "accepted")?,
        updated: count_col(row, "updated")?,
        rejected: count_col(row, "rejected")?,
        not_matchable: count_col(row, "not_matchable")?,
        skipped: count_col(row, "skipped")?,
        objects: count_col(row, "objects")?,
        failure: row.try_get("failure")?,
    })
}

fn object_of(row: &AnyRow) -> Result<StoredObject> {
    Ok(StoredObject {
        id: row.try_get("id")?,
        stix_id: row.try_get("stix_id")?,
        object_type: row.try_get("object_type")?,
        spec_version: row.try_get("spec_version")?,
        version: row.try_get("version")?,
        source: row.try_get("source")?,
        added_at: ts_col(row, "added_at")?,
        body: row.try_get("body")?,
    })
}

fn allowlist_of(row: &AnyRow) -> Result<Allowlist> {
    let entries: String = row.try_get("entries")?;
    Ok(Allowlist {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        list_type: row.try_get("list_type")?,
        description: row.try_get("description")?,
        entries: entries.lines().map(str::to_owned).collect(),
        enabled: crate::bool_col(row, "enabled")?,
        updated_at: ts_col(row, "updated_at")?,
    })
}

fn split_tags(s: &str) -> Vec<String> {
    s.lines().filter(|t| !t.is_empty()).map(str::to_owned).collect()
}

fn join_tags(tags: &[String]) -> String {
    let mut clean: Vec<&str> = tags.iter().map(|t| t.trim()).filter(|t| !t.is_empty()).collect();
    clean.sort_unstable();
    clean.dedup();
    clean.join("\n")
}

fn placeholders(start: usize, rows: usize, cols: usize) -> String {
    let mut s = String::with_capacity(rows * cols * 6);
    for r in 0..rows {
        if r > 0 {
            s.push(',');
        }
        s.push('(');
        for c in 0..cols {
            if c > 0 {
                s.push(',');
            }
            s.push('$');
            s.push_str(&(start + r * cols + c + 1).to_string());
        }
        s.push(')');
    }
    s
}

fn list_params(start: usize, n: usize) -> String {
    (start + 1..=start + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(",")
}

/// Recomputes an indicator's derived columns from its provenance rows; see
/// the module doc, for the ids the `$ids` subquery yields. `$1` is the update time.
macro_rules! aggregate_sql {
    ($ids:literal) => {
        concat!(
            "UPDATE intel_indicators SET confidence = agg.confidence, tlp_rank = agg.tlp_rank, \
             first_seen = agg.first_seen, last_seen = agg.last_seen, valid_until = agg.valid_until, \
             sources = agg.sources, updated_at = $1, \
             category = COALESCE((SELECT p.category FROM intel_provenance p WHERE p.indicator_id = intel_indicators.id \
                ORDER BY COALESCE(p.confidence, 50) DESC, p.updated_at DESC, p.id DESC LIMIT 1), category) \
             FROM (SELECT indicator_id, MAX(confidence) AS confidence, MAX(tlp_rank) AS tlp_rank, \
                   MIN(first_seen) AS first_seen, MAX(last_seen) AS last_seen, \
                   CASE WHEN COUNT(*) = COUNT(valid_until) THEN MAX(valid_until) END AS valid_until, \
                   COUNT(*) AS sources \
                   FROM intel_provenance WHERE indicator_id IN ",
            $ids,
            " GROUP BY indicator_id) agg WHERE intel_indicators.id = agg.indicator_id"
        )
    };
}

/// What a second statement about the same (indicator, source) changes.
macro_rules! provenance_conflict {
    () => {
        "ON CONFLICT (indicator_id, source) DO UPDATE SET external_id = excluded.external_id, \
         category = excluded.category, confidence = excluded.confidence, tlp_rank = excluded.tlp_rank, \
         first_seen = CASE WHEN intel_provenance.first_seen < excluded.first_seen \
           THEN intel_provenance.first_seen ELSE excluded.first_seen END, \
         last_seen = CASE WHEN intel_provenance.last_seen > excluded.last_seen \
           THEN intel_provenance.last_seen ELSE excluded.last_seen END, \
         valid_until = excluded.valid_until, tags = excluded.tags, context = excluded.context, \
         import_id = excluded.import_id, updated_at = excluded.updated_at"
    };
}

// After the statement macros, which it uses.
mod chunk;

/// Merges two statements of the same value from one chunk (a feed listing a
/// value twice): the wider validity, the higher confidence, both tag sets.
fn merge_into(into: &mut Indicator, other: Indicator) {
    into.confidence = into.confidence.max(other.confidence);
    into.tlp = into.tlp.max(other.tlp);
    into.category = into.category.or(other.category);
    into.first_seen = match (into.first_seen, other.first_seen) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    into.last_seen = into.last_seen.max(other.last_seen);
    into.valid_until = match (into.valid_until, other.valid_until) {
        (Some(a), Some(b)) => Some(a.max(b)),
        _ => None,
    };
    into.tags.extend(other.tags);
    if into.context.is_empty() {
        into.context = other.context;
    }
    if into.external_id.is_none() {
        into.external_id = other.external_id;
    }
}

fn check_source(source: &str) -> Result<()> {
    if source.trim().is_empty() || source.len() > 200 || source.chars().any(char::is_control) {
        return Err(Invalid::field("source", "a source name of 1–200 characters, no control characters").into());
    }
    Ok(())
}

impl Store {
    /// Records the start of an import and returns its id.
    pub async fn intel_import_begin(&self, actor: &Actor, source: &str, format: &str, inputs: &str) -> Result<i64> {
        check_source(source)?;
        let now = self.now_text();
        let row = sqlx::query(
            "INSERT INTO intel_imports (source, format, inputs, actor, status, started_at, progress_at) \
             VALUES ($1, $2, $3, $4, 'running', $5, $5) RETURNING id",
        )
        .bind(source)
        .bind(format)
        .bind(inputs)
        .bind(&actor.name)
        .bind(&now)
        .fetch_one(self.pool())
        .await?;
        Ok(row.try_get("id")?)
    }

    /// Writes one chunk of an import in one transaction: the indicators
    /// (values already normalised; `default_category` where the feed gave
    /// none) with `source`'s provenance, and the STIX objects.
    pub async fn intel_import_chunk(
        &self,
        import_id: i64,
        source: &str,
        default_category: Category,
        mut indicators: Vec<Indicator>,
        objects: &[StixObject],
    ) -> Result<ChunkCounts> {
        check_source(source)?;
        // One row per value: a feed listing a value twice states it once.
        // Sorted by key (stable: the first statement stays first), which is
        // also the order index pages are best written in.
        indicators.sort_by(|a, b| a.key().cmp(&b.key()));
        let mut merged: Vec<Indicator> = Vec::with_capacity(indicators.len());
        let mut repeated = 0u64;
        for i in indicators {
            match merged.last_mut() {
                // Counted as an update, as it would be in a later chunk.
                Some(last) if last.key() == i.key() => {
                    merge_into(last, i);
                    repeated += 1;
                }
                _ => merged.push(i),
            }
        }
        let now = self.now_text();
        let rows: Vec<chunk::StageRow<'_>> =
            merged.iter().map(|i| chunk::StageRow::new(i, default_category, &now)).collect();
        let written = match &self.pg_pool {
            Some(pg) => chunk::write_postgres(pg, &rows, objects, source, import_id, &now, repeated).await?,
            None => chunk::write_sqlite(self, &rows, objects, source, import_id, &now, repeated).await?,
        };
        Ok(ChunkCounts { accepted: written.accepted, updated: written.existing + repeated, objects: written.objects })
    }

    /// Ends an import: its status (`failure` set means failed), the counts
    /// the importer kept, the first [`MAX_KEPT_REJECTS`] rejects, and one
    /// audit entry.
    pub async fn intel_import_finish(
        &self,
        actor: &Actor,
        import_id: i64,
        totals: &ImportTotals,
        rejects: &[Rejected],
        failure: Option<&str>,
    ) -> Result<ImportRun> {
        let now = self.now_text();
        let kept: Vec<KeptReject> = rejects
            .iter()
            .take(MAX_KEPT_REJECTS)
            .map(|r| KeptReject { location: r.location.clone(), value: r.value.clone(), reason: r.reason.clone() })
            .collect();
        let kept_json = serde_json::to_string(&kept).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "UPDATE intel_imports SET status = $1, finished_at = $2, rejected = $3, not_matchable = $4, \
             skipped = $5, rejects = $6, failure = $7 WHERE id = $8",
        )
        .bind(if failure.is_some() { "failed" } else { "done" })
        .bind(&now)
        .bind(n(totals.rejected))
        .bind(n(totals.not_matchable))
        .bind(n(totals.skipped))
        .bind(kept_json)
        .bind(failure.unwrap_or_default())
        .bind(import_id)
        .execute(&mut *tx)
        .await?;
        let row =
            sqlx::query("SELECT * FROM intel_imports WHERE id = $1").bind(import_id).fetch_optional(&mut *tx).await?;
        let run = run_of(&row.ok_or_else(|| StoreError::not_found("import", import_id))?, self.now())?;
        let after = serde_json::to_value(&run).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        append(&mut tx, &now, actor, "intel.import", "intel_import", &import_id.to_string(), None, None, Some(&after))
            .await?;
        tx.commit().await?;
        Ok(run)
    }

    /// Imports that finished without failing and started at or after `since`.
    pub async fn intel_imports_done_since(&self, since: Timestamp) -> Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM intel_imports WHERE status = 'done' AND started_at >= $1")
            .bind(format_ts(since))
            .fetch_one(self.pool())
            .await?;
        Ok(row.try_get("n")?)
    }

    pub async fn intel_import_run(&self, id: i64) -> Result<ImportRun> {
        let row = sqlx::query("SELECT * FROM intel_imports WHERE id = $1").bind(id).fetch_optional(self.pool()).await?;
        run_of(&row.ok_or_else(|| StoreError::not_found("import", id))?, self.now())
    }

    /// The rejects kept for an import.
    pub async fn intel_import_rejects(&self, id: i64) -> Result<Vec<KeptReject>> {
        let row =
            sqlx::query("SELECT rejects FROM intel_imports WHERE id = $1").bind(id).fetch_optional(self.pool()).await?;
        let text: String = row.ok_or_else(|| StoreError::not_found("import", id))?.try_get("rejects")?;
        serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(format!("import {id} rejects: {e}")))
    }

    /// Import runs, newest first.
    pub async fn intel_import_runs(&self, limit: i64) -> Result<Vec<ImportRun>> {
        let rows = sqlx::query("SELECT * FROM intel_imports ORDER BY id DESC LIMIT $1")
            .bind(limit)
            .fetch_all(self.pool())
            .await?;
        let now = self.now();
        rows.iter().map(|r| run_of(r, now)).collect()
    }

    pub async fn intel_indicator(&self, id: i64) -> Result<StoredIndicator> {
        let row =
            sqlx::query("SELECT * FROM intel_indicators WHERE id = $1").bind(id).fetch_optional(self.pool()).await?;
        indicator_of(&row.ok_or_else(|| StoreError::not_found("indicator", id))?)
    }

    /// Indicators by id, in id order; unknown ids are left out.
    pub async fn intel_indicators_by_ids(&self, ids: &[i64]) -> Result<Vec<StoredIndicator>> {
        let mut out = Vec::with_capacity(ids.len());
        for part in ids.chunks(rows_per_statement(self.backend())) {
            let sql =
                format!("SELECT * FROM intel_indicators WHERE id IN ({}) ORDER BY id", list_params(0, part.len()));
            let mut q = sqlx::query(&sql);
            for id in part {
                q = q.bind(*id);
            }
            for row in q.fetch_all(self.pool()).await? {
                out.push(indicator_of(&row)?);
            }
        }
        Ok(out)
    }

    /// The indicator with this kind and normalised value, if stored.
    pub async fn intel_indicator_by_value(&self, kind: IndicatorKind, value: &str) -> Result<Option<StoredIndicator>> {
        let row = sqlx::query("SELECT * FROM intel_indicators WHERE kind = $1 AND value = $2")
            .bind(kind.as_str())
            .bind(value)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(indicator_of).transpose()
    }

    /// Every source's statement about an indicator, most recent first.
    pub async fn intel_provenance(&self, indicator_id: i64) -> Result<Vec<Provenance>> {
        let rows =
            sqlx::query("SELECT * FROM intel_provenance WHERE indicator_id = $1 ORDER BY updated_at DESC, id DESC")
                .bind(indicator_id)
                .fetch_all(self.pool())
                .await?;
        rows.iter().map(provenance_of).collect()
    }

    /// A page of indicators matching `filter`, newest id first, with ids
    /// below `before_id` (keyset paging: deep pages cost what the first
    /// does).
    pub async fn intel_indicators(
        &self,
        filter: &IndicatorFilter,
        before_id: Option<i64>,
        limit: i64,
    ) -> Result<Vec<StoredIndicator>> {
        let (where_sql, binds) = filter_sql(self.backend(), filter, before_id);
        let sql =
            format!("SELECT i.* FROM intel_indicators i {where_sql} ORDER BY i.id DESC LIMIT ${}", binds.len() + 1);
        let mut q = sqlx::query(&sql);
        for b in &binds {
            q = q.bind(b.clone());
        }
        let rows = q.bind(limit.clamp(1, 10_000)).fetch_all(self.pool()).await?;
        rows.iter().map(indicator_of).collect()
    }

    /// How many indicators match `filter`.
    pub async fn intel_count(&self, filter: &IndicatorFilter) -> Result<i64> {
        let (where_sql, binds) = filter_sql(self.backend(), filter, None);
        let sql = format!("SELECT COUNT(*) AS n FROM intel_indicators i {where_sql}");
        let mut q = sqlx::query(&sql);
        for b in &binds {
            q = q.bind(b.clone());
        }
        Ok(q.fetch_one(self.pool()).await?.try_get("n")?)
    }

    /// Indicator counts by category and by kind, for the dashboard.
    pub async fn intel_counts(&self) -> Result<(Vec<(String, i64)>, Vec<(String, i64)>)> {
        let by = |col: &'static str| async move {
            let rows = sqlx::query(&format!(
                "SELECT {col} AS k, COUNT(*) AS n FROM intel_indicators GROUP BY {col} ORDER BY {col}"
            ))
            .fetch_all(self.pool())
            .await?;
            rows.iter().map(|r| Ok((r.try_get("k")?, r.try_get("n")?))).collect::<Result<Vec<(String, i64)>>>()
        };
        Ok((by("category").await?, by("kind").await?))
    }

    /// Calls `each` with every indicator matching `filter` (id order), with
    /// tags and sources from its provenance; streams, so exports of
    /// millions of indicators do not hold them all.
    pub async fn intel_for_each_export(
        &self,
        filter: &IndicatorFilter,
        mut each: impl FnMut(ExportIndicator) -> Result<()>,
    ) -> Result<u64> {
        let (where_sql, binds) = filter_sql(self.backend(), filter, None);
        let sql = format!(
            "SELECT i.*, p.source AS p_source, p.tags AS p_tags, p.context AS p_context \
             FROM intel_indicators i JOIN intel_provenance p ON p.indicator_id = i.id {where_sql} \
             ORDER BY i.id, p.id"
        );
        let mut q = sqlx::query(&sql);
        for b in &binds {
            q = q.bind(b.clone());
        }
        let mut rows = q.fetch(self.pool());
        let mut current: Option<ExportIndicator> = None;
        let mut n = 0u64;
        while let Some(row) = rows.try_next().await? {
            let id: i64 = row.try_get("id")?;
            let source: String = row.try_get("p_source")?;
            let tags: String = row.try_get("p_tags")?;
            let context: String = row.try_get("p_context")?;
            match &mut current {
                Some(cur) if cur.stored.id == id => {
                    cur.sources.push(source);
                    cur.tags.extend(split_tags(&tags));
                    if cur.context.is_empty() {
                        cur.context = context;
                    }
                }
                _ => {
                    if let Some(done) = current.take() {
                        n += 1;
                        each(finish_export(done))?;
                    }
                    current = Some(ExportIndicator {
                        stored: indicator_of(&row)?,
                        tags: split_tags(&tags),
                        context,
                        sources: vec![source],
                    });
                }
            }
        }
        if let Some(done) = current.take() {
            n += 1;
            each(finish_export(done))?;
        }
        Ok(n)
    }

    /// Calls `each(id, kind, value, valid_until)` for every indicator, for
    /// building the match index; streams.
    pub async fn intel_for_each_matchable(
        &self,
        mut each: impl FnMut(i64, IndicatorKind, &str, Option<Timestamp>),
    ) -> Result<u64> {
        let mut rows =
            sqlx::query("SELECT id, kind, value, valid_until FROM intel_indicators ORDER BY id").fetch(self.pool());
        let mut n = 0;
        while let Some(row) = rows.try_next().await? {
            let value: String = row.try_get("value")?;
            each(row.try_get("id")?, kind_col(&row, "kind")?, &value, opt_ts_col(&row, "valid_until")?);
            n += 1;
        }
        Ok(n)
    }

    /// A number that changes whenever indicators or allowlists change.
    pub async fn intel_generation(&self) -> Result<i64> {
        Ok(sqlx::query("SELECT n FROM intel_generation WHERE id = 1").fetch_one(self.pool()).await?.try_get("n")?)
    }

    /// Deletes an indicator and its provenance.
    pub async fn intel_delete_indicator(&self, actor: &Actor, id: i64) -> Result<()> {
        let before = self.intel_indicator(id).await?;
        let now = self.now_text();
        let mut tx = self.write_tx().await?;
        sqlx::query("DELETE FROM intel_provenance WHERE indicator_id = $1").bind(id).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM intel_indicators WHERE id = $1").bind(id).execute(&mut *tx).await?;
        let before = serde_json::to_value(&before).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        append(&mut tx, &now, actor, "intel.indicator.delete", "indicator", &id.to_string(), None, Some(&before), None)
            .await?;
        bump_generation(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Stored STIX objects of a type (all types when `None`), newest first.
    pub async fn intel_objects(&self, object_type: Option<&str>, limit: i64) -> Result<Vec<StoredObject>> {
        let rows = match object_type {
            Some(t) => {
                sqlx::query("SELECT * FROM intel_objects WHERE object_type = $1 ORDER BY id DESC LIMIT $2")
                    .bind(t)
                    .bind(limit)
                    .fetch_all(self.pool())
                    .await?
            }
            None => {
                sqlx::query("SELECT * FROM intel_objects ORDER BY id DESC LIMIT $1")
                    .bind(limit)
                    .fetch_all(self.pool())
                    .await?
            }
        };
        rows.iter().map(object_of).collect()
    }

    /// Creates or replaces an allowlist (by name).
    pub async fn intel_save_allowlist(
        &self,
        actor: &Actor,
        name: &str,
        list_type: &str,
        description: &str,
        entries: &[String],
        enabled: bool,
    ) -> Result<Allowlist> {
        if name.trim().is_empty() || name.len() > 200 {
            return Err(Invalid::field("name", "an allowlist name of 1–200 characters").into());
        }
        if !ALLOWLIST_TYPES.contains(&list_type) {
            return Err(Invalid::field("list_type", "one of string, substring, hostname, cidr, regex").into());
        }
        if let Some(bad) = entries.iter().find(|e| e.contains(['\n', '\r'])) {
            return Err(Invalid::field("entries", format!("entry {bad:?} spans lines")).into());
        }
        let clean: Vec<&str> = entries.iter().map(|e| e.trim()).filter(|e| !e.is_empty()).collect();
        let now = self.now_text();
        let mut tx = self.write_tx().await?;
        let before = sqlx::query("SELECT * FROM intel_allowlists WHERE name = $1")
            .bind(name)
            .fetch_optional(&mut *tx)
            .await?
            .as_ref()
            .map(allowlist_of)
            .transpose()?;
        let count = i64::try_from(clean.len()).unwrap_or(i64::MAX);
        if before.is_some() {
            sqlx::query(
                "UPDATE intel_allowlists SET list_type = $1, description = $2, entries = $3, entry_count = $4, \
                 enabled = $5, updated_at = $6 WHERE name = $7",
            )
            .bind(list_type)
            .bind(description)
            .bind(clean.join("\n"))
            .bind(count)
            .bind(i64::from(enabled))
            .bind(&now)
            .bind(name)
            .execute(&mut *tx)
            .await?;
        } else {
            sqlx::query(
                "INSERT INTO intel_allowlists (name, list_type, description, entries, entry_count, enabled, \
                 created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
            )
            .bind(name)
            .bind(list_type)
            .bind(description)
            .bind(clean.join("\n"))
            .bind(count)
            .bind(i64::from(enabled))
            .bind(&now)
            .execute(&mut *tx)
            .await?;
        }
        let row = sqlx::query("SELECT * FROM intel_allowlists WHERE name = $1").bind(name).fetch_one(&mut *tx).await?;
        let list = allowlist_of(&row)?;
        // The audit entry records the change, not thousands of entries.
        let summary = |l: &Allowlist| serde_json::json!({"name": l.name, "list_type": l.list_type, "entries": l.entries.len(), "enabled": l.enabled});
        append(
            &mut tx,
            &now,
            actor,
            if before.is_some() { "intel.allowlist.update" } else { "intel.allowlist.create" },
            "allowlist",
            &list.id.to_string(),
            None,
            before.as_ref().map(summary).as_ref(),
            Some(&summary(&list)),
        )
        .await?;
        bump_generation(&mut tx).await?;
        tx.commit().await?;
        Ok(list)
    }

    pub async fn intel_allowlists(&self) -> Result<Vec<Allowlist>> {
        let rows = sqlx::query("SELECT * FROM intel_allowlists ORDER BY name").fetch_all(self.pool()).await?;
        rows.iter().map(allowlist_of).collect()
    }

    pub async fn intel_delete_allowlist(&self, actor: &Actor, id: i64) -> Result<()> {
        let now = self.now_text();
        let mut tx = self.write_tx().await?;
        let row = sqlx::query("SELECT * FROM intel_allowlists WHERE id = $1").bind(id).fetch_optional(&mut *tx).await?;
        let list = allowlist_of(&row.ok_or_else(|| StoreError::not_found("allowlist", id))?)?;
        sqlx::query("DELETE FROM intel_allowlists WHERE id = $1").bind(id).execute(&mut *tx).await?;
        let before = serde_json::json!({"name": list.name, "list_type": list.list_type, "entries": list.entries.len()});
        append(&mut tx, &now, actor, "intel.allowlist.delete", "allowlist", &id.to_string(), None, Some(&before), None)
            .await?;
        bump_generation(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }
}

fn finish_export(mut e: ExportIndicator) -> ExportIndicator {
    e.tags.sort_unstable();
    e.tags.dedup();
    e
}

async fn bump_generation(tx: &mut WriteTx) -> Result<()> {
    sqlx::query("UPDATE intel_generation SET n = n + 1 WHERE id = 1").execute(&mut **tx).await?;
    Ok(())
}

fn filter_sql(backend: crate::Backend, filter: &IndicatorFilter, before_id: Option<i64>) -> (String, Vec<String>) {
    let mut clauses: Vec<String> = Vec::new();
    let mut binds: Vec<String> = Vec::new();
    let next = |v: String, binds: &mut Vec<String>| {
        binds.push(v);
        format!("${}", binds.len())
    };
    if let Some(q) = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        let escaped = q.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        let p = next(format!("%{escaped}%"), &mut binds);
        // PostgreSQL: `value` compares byte-wise (COLLATE "C", migration
        // 0030), under which LOWER changes ASCII letters only; the database's
        // own collation lowers the rest as before (an e-mail's local part).
        let value = match backend {
            crate::Backend::Postgres => "i.value COLLATE \"default\"",
            crate::Backend::Sqlite => "i.value",
        };
        clauses.push(format!("LOWER({value}) LIKE {p} ESCAPE '\\'"));
    }
    if let Some(kind) = filter.kind {
        let p = next(kind.as_str().to_owned(), &mut binds);
        clauses.push(format!("i.kind = {p}"));
    }
    if let Some(category) = filter.category {
        let p = next(category.as_str().to_owned(), &mut binds);
        clauses.push(format!("i.category = {p}"));
    }
    if let Some(source) = &filter.source {
        let p = next(source.clone(), &mut binds);
        clauses
            .push(format!("EXISTS (SELECT 1 FROM intel_provenance s WHERE s.indicator_id = i.id AND s.source = {p})"));
    }
    if let Some(at) = filter.valid_at {
        let p = next(format_ts(at), &mut binds);
        clauses.push(format!("(i.valid_until IS NULL OR i.valid_until > {p})"));
    }
    if let Some(status) = &filter.alert_status {
        let p = next(status.clone(), &mut binds);
        clauses.push(format!("EXISTS (SELECT 1 FROM alerts a WHERE a.indicator_id = i.id AND a.status = {p})"));
    }
    if let Some(id) = before_id {
        // Ids are bound as text and compared as numbers on both backends.
        let p = next(id.to_string(), &mut binds);
        clauses.push(format!("i.id < CAST({p} AS BIGINT)"));
    }
    if clauses.is_empty() { (String::new(), binds) } else { (format!("WHERE {}", clauses.join(" AND ")), binds) }
}
