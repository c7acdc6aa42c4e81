//! Writing one import chunk: the chunk's indicators go into a staging
//! table in one step (PostgreSQL: `COPY`; SQLite: one JSON array read by
//! `json_each`), then a few set-based statements move them into
//! `intel_indicators` and `intel_provenance` without any row travelling
//! back to us. The staging table is temporary (per connection) and holds
//! one chunk: one row per (kind, value), in key order, so index pages are
//! written in sequence.
//!
//! The statements after the staging step are written twice, once per
//! dialect (`UPDATE … FROM` on SQLite; on PostgreSQL a correlated lookup,
//! and the ids of created rows taken from `INSERT … RETURNING` in the same
//! statement); both are tested by the same suite.

use std::borrow::Cow;

use anbao_intel::{Category, Indicator, StixObject};
use anbao_model::clock::format_ts;
use sqlx::Row;

use super::join_tags;
use crate::{Result, Store, StoreError};

/// One staged row: the indicator's own columns and its provenance.
pub(super) struct StageRow<'a> {
    kind: &'static str,
    value: &'a str,
    category: &'static str,
    confidence: Option<u8>,
    tlp_rank: Option<u8>,
    first_seen: Cow<'a, str>,
    last_seen: Cow<'a, str>,
    valid_until: Option<String>,
    external_id: &'a str,
    tags: String,
    context: &'a str,
    /// States nothing but kind, value and category (a plain list's line):
    /// staged on SQLite without the other columns (see [`stage_sqlite`]).
    plain: bool,
}

impl<'a> StageRow<'a> {
    /// `now` stands in for missing seen times (the time of the import).
    pub(super) fn new(i: &'a Indicator, default_category: Category, now: &'a str) -> StageRow<'a> {
        let seen = |t: Option<time::OffsetDateTime>| t.map_or(Cow::Borrowed(now), |t| Cow::Owned(format_ts(t)));
        let tags = join_tags(&i.tags);
        let plain = i.confidence.is_none()
            && i.tlp.is_none()
            && i.first_seen.is_none()
            && i.last_seen.is_none()
            && i.valid_until.is_none()
            && i.external_id.as_deref().unwrap_or_default().is_empty()
            && tags.is_empty()
            && i.context.is_empty();
        StageRow {
            kind: i.kind.as_str(),
            value: &i.value,
            category: i.category.unwrap_or(default_category).as_str(),
            confidence: i.confidence,
            tlp_rank: i.tlp.map(|t| t.rank()),
            first_seen: seen(i.first_seen),
            last_seen: seen(i.last_seen),
            valid_until: i.valid_until.map(format_ts),
            external_id: i.external_id.as_deref().unwrap_or_default(),
            tags,
            context: &i.context,
            plain,
        }
    }
}

/// What the indicator statements did.
#[derive(Debug, Default)]
pub(super) struct Written {
    /// Indicators created.
    pub accepted: u64,
    /// Indicators that existed and were stated again.
    pub existing: u64,
    pub objects: u64,
}

/// Columns of the staging table as filled, in this order, by both backends.
const STAGE_COLUMNS: &str =
    "kind, value, category, confidence, tlp_rank, first_seen, last_seen, valid_until, external_id, tags, context";

/// The STIX objects of a chunk, the import's running counts (`$repeated`:
/// values the chunk listed more than once, counted as updates) and the
/// generation bump: the same statements on both backends, through
/// whichever connection the chunk's transaction is on.
macro_rules! finish_chunk {
    ($conn:expr, $rows_per_statement:expr, $objects:expr, $source:expr, $import_id:expr, $now:expr, $written:expr, $repeated:expr) => {{
        for part in $objects.chunks($rows_per_statement) {
            let sql = format!(
                "INSERT INTO intel_objects (stix_id, object_type, spec_version, version, body, source, import_id, \
                 added_at) VALUES {} ON CONFLICT (stix_id, version) DO NOTHING",
                super::placeholders(0, part.len(), 8)
            );
            let mut q = sqlx::query(&sql);
            for o in part {
                q = q
                    .bind(&o.id)
                    .bind(&o.object_type)
                    .bind(&o.spec_version)
                    .bind(&o.version)
                    .bind(&o.json)
                    .bind($source)
                    .bind($import_id)
                    .bind($now);
            }
            $written.objects += q.execute(&mut *$conn).await?.rows_affected();
        }
        let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        sqlx::query(
            "UPDATE intel_imports SET accepted = accepted + $1, updated = updated + $2, objects = objects + $3, \
             progress_at = $4 WHERE id = $5",
        )
        .bind(n($written.accepted))
        .bind(n($written.existing + $repeated))
        .bind(n($written.objects))
        .bind($now)
        .bind($import_id)
        .execute(&mut *$conn)
        .await?;
        sqlx::query("UPDATE intel_generation SET n = n + 1 WHERE id = 1").execute(&mut *$conn).await?;
    }};
}

/// The staged rows joined to the indicators that already exist, probed one
/// by one through the unique `(kind, value)` index: a correlated subquery,
/// which no planner turns into a scan of the whole indicator table, whatever
/// it thinks of the unanalysed staging table.
macro_rules! staged_with_ids {
    () => {
        "(SELECT (SELECT i.id FROM intel_indicators i WHERE i.kind = s.kind AND i.value = s.value) AS id, s.* \
         FROM intel_stage s) staged"
    };
}

/// Columns of a provenance row, in the order the `SELECT`s below give them.
macro_rules! provenance_columns {
    () => {
        "INSERT INTO intel_provenance (indicator_id, source, external_id, category, confidence, tlp_rank, \
         first_seen, last_seen, valid_until, tags, context, import_id, created_at, updated_at) "
    };
}

/// The provenance of the staged values whose indicator exists, new or
/// replacing this source's earlier statement (`$1` source, `$2` import,
/// `$3` now). Affects one row per existing indicator.
const EXISTING_PROVENANCE: &str = concat!(
    provenance_columns!(),
    "SELECT id, $1, external_id, category, confidence, tlp_rank, first_seen, last_seen, valid_until, tags, \
     context, $2, $3, $3 FROM ",
    staged_with_ids!(),
    " WHERE id IS NOT NULL ORDER BY id ",
    provenance_conflict!()
);

/// Re-aggregates the indicators [`EXISTING_PROVENANCE`] wrote to (before
/// any new indicator of the chunk exists).
const EXISTING_AGGREGATES: &str = aggregate_sql!(
    "(SELECT (SELECT i.id FROM intel_indicators i WHERE i.kind = s.kind AND i.value = s.value) FROM intel_stage s)"
);

/// PostgreSQL: `COPY` into the staging table; the provenance of values
/// whose indicator exists (and their re-aggregation); then one statement
/// inserting the new indicators and, from what it returns, their
/// provenance. Two statements in all for a feed of new values, none of
/// them rewriting the staging table.
pub(super) async fn write_postgres(
    pg: &sqlx::PgPool,
    rows: &[StageRow<'_>],
    objects: &[StixObject],
    source: &str,
    import_id: i64,
    now: &str,
    repeated: u64,
) -> Result<Written> {
    let mut written = Written::default();
    let mut tx = pg.begin().await?;
    // Queue behind other writers like every store write (see `write_tx`).
    sqlx::query("UPDATE write_lock SET n = n + 1 WHERE id = 1").execute(&mut *tx).await?;
    if !rows.is_empty() {
        sqlx::query(
            "CREATE TEMP TABLE IF NOT EXISTS intel_stage (kind TEXT NOT NULL, value TEXT NOT NULL, \
             category TEXT NOT NULL, confidence BIGINT, tlp_rank BIGINT, first_seen TEXT, last_seen TEXT, \
             valid_until TEXT, external_id TEXT NOT NULL, tags TEXT NOT NULL, context TEXT NOT NULL) \
             ON COMMIT DELETE ROWS",
        )
        .execute(&mut *tx)
        .await?;
        let mut copy = tx.copy_in_raw(&format!("COPY intel_stage ({STAGE_COLUMNS}) FROM STDIN")).await?;
        // Sent in pieces of about 1 MiB: the whole chunk need not be
        // encoded at once.
        let mut buf = String::with_capacity(1 << 20);
        for row in rows {
            copy_row(&mut buf, row);
            if buf.len() >= 1 << 20 {
                copy.send(buf.as_bytes()).await?;
                buf.clear();
            }
        }
        if !buf.is_empty() {
            copy.send(buf.as_bytes()).await?;
        }
        copy.finish().await?;
        let total = rows.len() as u64;
        written.existing = sqlx::query(EXISTING_PROVENANCE)
            .bind(source)
            .bind(import_id)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if written.existing > 0 {
            sqlx::query(EXISTING_AGGREGATES).bind(now).execute(&mut *tx).await?;
        }
        if written.existing < total {
            // Only when some existed must each new value be probed first:
            // `ON CONFLICT` alone would write their rows and take them
            // back.
            let new_only = if written.existing > 0 {
                "WHERE NOT EXISTS (SELECT 1 FROM intel_indicators i WHERE i.kind = s.kind AND i.value = s.value) "
            } else {
                ""
            };
            let sql = format!(
                "WITH created AS ( \
                   INSERT INTO intel_indicators (kind, value, category, confidence, tlp_rank, first_seen, last_seen, \
                     valid_until, sources, created_at, updated_at) \
                   SELECT kind, value, category, confidence, tlp_rank, first_seen, last_seen, valid_until, 1, $3, $3 \
                   FROM intel_stage s {new_only}\
                   ON CONFLICT (kind, value) DO NOTHING RETURNING id, kind, value) {} \
                 SELECT c.id, $1, s.external_id, s.category, s.confidence, s.tlp_rank, s.first_seen, s.last_seen, \
                   s.valid_until, s.tags, s.context, $2, $3, $3 \
                 FROM created c JOIN intel_stage s ON s.kind = c.kind AND s.value = c.value",
                provenance_columns!()
            );
            written.accepted =
                sqlx::query(&sql).bind(source).bind(import_id).bind(now).execute(&mut *tx).await?.rows_affected();
            if written.existing + written.accepted < total {
                // Another writer outside the store's write lock inserted
                // some meanwhile: they existed. Their provenance now (the
                // others' is written again, to the same values).
                sqlx::query(EXISTING_PROVENANCE).bind(source).bind(import_id).bind(now).execute(&mut *tx).await?;
                sqlx::query(EXISTING_AGGREGATES).bind(now).execute(&mut *tx).await?;
                written.existing = total - written.accepted;
            }
        }
    }
    finish_chunk!(tx, 1000, objects, source, import_id, now, written, repeated);
    tx.commit().await?;
    Ok(written)
}

/// SQLite: the chunk as one JSON array into the staging table, the new
/// indicators inserted (the write lock is held, so nothing else inserts
/// meanwhile, and ids only grow: the ones above the largest before are
/// this chunk's), then one provenance row per staged row and the
/// re-aggregation of indicators that existed.
pub(super) async fn write_sqlite(
    store: &Store,
    rows: &[StageRow<'_>],
    objects: &[StixObject],
    source: &str,
    import_id: i64,
    now: &str,
    repeated: u64,
) -> Result<Written> {
    let mut written = Written::default();
    let mut tx = store.write_tx().await?;
    if !rows.is_empty() {
        sqlx::query(
            "CREATE TEMP TABLE IF NOT EXISTS intel_stage (kind TEXT NOT NULL, value TEXT NOT NULL, \
             category TEXT NOT NULL, confidence INTEGER, tlp_rank INTEGER, first_seen TEXT, last_seen TEXT, \
             valid_until TEXT, external_id TEXT NOT NULL, tags TEXT NOT NULL, context TEXT NOT NULL)",
        )
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM intel_stage").execute(&mut *tx).await?;
        stage_sqlite(&mut tx, rows, now).await?;
        let before: i64 = sqlx::query("SELECT COALESCE(MAX(id), 0) AS n FROM intel_indicators")
            .fetch_one(&mut *tx)
            .await?
            .try_get("n")?;
        // SQLite checks the unique index before writing a row, so values
        // that exist cost a probe, not a write taken back.
        written.accepted = sqlx::query(
            "INSERT INTO intel_indicators (kind, value, category, confidence, tlp_rank, first_seen, last_seen, \
             valid_until, sources, created_at, updated_at) \
             SELECT kind, value, category, confidence, tlp_rank, first_seen, last_seen, valid_until, 1, $1, $1 \
             FROM intel_stage WHERE true ON CONFLICT (kind, value) DO NOTHING",
        )
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        written.existing = (rows.len() as u64).saturating_sub(written.accepted);
        // In staging order, which is the order the new indicators got their
        // ids in (sorting by id cost a sixth of this statement).
        // `WHERE true`: SQLite reads `ON` after a bare SELECT as a join's.
        sqlx::query(concat!(
            provenance_columns!(),
            "SELECT i.id, $1, s.external_id, s.category, s.confidence, s.tlp_rank, s.first_seen, s.last_seen, \
             s.valid_until, s.tags, s.context, $2, $3, $3 \
             FROM intel_stage s JOIN intel_indicators i ON i.kind = s.kind AND i.value = s.value \
             WHERE true ",
            provenance_conflict!()
        ))
        .bind(source)
        .bind(import_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if written.existing > 0 {
            sqlx::query(aggregate_sql!(
                "(SELECT i.id FROM intel_stage s JOIN intel_indicators i ON i.kind = s.kind AND i.value = s.value \
                 WHERE i.id <= $2)"
            ))
            .bind(now)
            .bind(before)
            .execute(&mut *tx)
            .await?;
        }
    }
    // sqlx's SQLite driver finds each `$N` by name among all parameters,
    // so binding cost grows with the square of the count: small statements.
    finish_chunk!(tx, 20, objects, source, import_id, now, written, repeated);
    tx.commit().await?;
    Ok(written)
}

/// Fills SQLite's staging table. SQLite reads a JSON array element by
/// element, each column of each row one extraction (about half a
/// microsecond each; eleven columns were half the time of writing a
/// chunk), so plain rows, which only differ in kind, value and category,
/// go in as one array of bare values per (kind, category): one extraction
/// per row. The other rows follow as arrays of all columns. Each group is
/// in key order, as the rows are.
async fn stage_sqlite(tx: &mut crate::WriteTx, rows: &[StageRow<'_>], now: &str) -> Result<()> {
    let mut plain: Vec<(&str, &str, Vec<&str>)> = Vec::new();
    let mut full: Vec<&StageRow<'_>> = Vec::new();
    for r in rows {
        if !r.plain {
            full.push(r);
        } else if let Some(group) = plain.iter_mut().find(|g| g.0 == r.kind && g.1 == r.category) {
            group.2.push(r.value);
        } else {
            plain.push((r.kind, r.category, vec![r.value]));
        }
    }
    for (kind, category, values) in &plain {
        let json =
            serde_json::to_string(values).map_err(|e| StoreError::Corrupt(format!("encoding an import chunk: {e}")))?;
        sqlx::query(
            "INSERT INTO intel_stage (kind, value, category, confidence, tlp_rank, first_seen, last_seen, \
             valid_until, external_id, tags, context) \
             SELECT $1, value, $2, NULL, NULL, $3, $3, NULL, '', '', '' FROM json_each($4)",
        )
        .bind(*kind)
        .bind(*category)
        .bind(now)
        .bind(json)
        .execute(&mut **tx)
        .await?;
    }
    if !full.is_empty() {
        sqlx::query(
            "INSERT INTO intel_stage (kind, value, category, confidence, tlp_rank, first_seen, last_seen, \
             valid_until, external_id, tags, context) \
             SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6, \
             value ->> 7, value ->> 8, value ->> 9, value ->> 10 FROM json_each($1)",
        )
        .bind(stage_json(&full)?)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// The rows as one JSON array of arrays, columns in [`STAGE_COLUMNS`] order.
fn stage_json(rows: &[&StageRow<'_>]) -> Result<String> {
    let tuples: Vec<_> = rows
        .iter()
        .map(|r| {
            (
                r.kind,
                r.value,
                r.category,
                r.confidence,
                r.tlp_rank,
                &*r.first_seen,
                &*r.last_seen,
                r.valid_until.as_deref(),
                r.external_id,
                r.tags.as_str(),
                r.context,
            )
        })
        .collect();
    serde_json::to_string(&tuples).map_err(|e| StoreError::Corrupt(format!("encoding an import chunk: {e}")))
}

/// Appends one row in `COPY … FROM STDIN` text format, columns in
/// [`STAGE_COLUMNS`] order.
fn copy_row(out: &mut String, r: &StageRow<'_>) {
    use std::fmt::Write as _;
    copy_text(out, r.kind);
    out.push('\t');
    copy_text(out, r.value);
    out.push('\t');
    copy_text(out, r.category);
    out.push('\t');
    match r.confidence {
        Some(c) => {
            let _ = write!(out, "{c}");
        }
        None => out.push_str("\\N"),
    }
    out.push('\t');
    match r.tlp_rank {
        Some(t) => {
            let _ = write!(out, "{t}");
        }
        None => out.push_str("\\N"),
    }
    out.push('\t');
    copy_text(out, &r.first_seen);
    out.push('\t');
    copy_text(out, &r.last_seen);
    out.push('\t');
    match &r.valid_until {
        Some(v) => copy_text(out, v),
        None => out.push_str("\\N"),
    }
    out.push('\t');
    copy_text(out, r.external_id);
    out.push('\t');
    copy_text(out, &r.tags);
    out.push('\t');
    copy_text(out, r.context);
    out.push('\n');
}

/// A text value with the characters `COPY`'s text format gives a meaning
/// (backslash, tab, newline, carriage return) escaped.
fn copy_text(out: &mut String, s: &str) {
    if !s.bytes().any(|b| matches!(b, b'\\' | b'\t' | b'\n' | b'\r')) {
        out.push_str(s);
        return;
    }
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_text_escapes_what_copy_reads_specially() {
        let mut out = String::new();
        copy_text(&mut out, "a\\b\tc\nd\re");
        assert_eq!(out, "a\\\\b\\tc\\nd\\re");
        out.clear();
        copy_text(&mut out, "plain.example");
        assert_eq!(out, "plain.example");
    }
}
