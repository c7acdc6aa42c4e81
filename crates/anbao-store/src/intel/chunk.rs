//! Writing one import chunk, one transaction, in set-based statements with
//! no row travelling back to us but a probe's answer.
//!
//! PostgreSQL: the values that exist are found first (one probe of the
//! unique index per value);
//! the new ones are copied (binary `COPY`) straight into `intel_indicators`
//! and their provenance straight into `intel_provenance`, under ids
//! reserved from their sequences. The values that exist are copied into a
//! temporary staging table and merged from there.
//!
//! SQLite: the chunk goes into a temporary staging table (plain list lines
//! as one JSON array of bare values per kind and category, other rows as
//! multi-row `VALUES`), then the new indicators are inserted and every
//! staged row's provenance written from it.
//!
//! The staging table holds one chunk: one row per (kind, value), in key
//! order, so index pages are written in sequence. The statements after the
//! staging step are written once per dialect (`UPDATE … FROM` on SQLite; on
//! PostgreSQL a correlated lookup, and the ids of created rows taken from
//! `INSERT … RETURNING` in the same statement); both are tested by the same
//! suite.

use std::borrow::Cow;

use anbao_intel::{Category, Indicator, StixObject};
use anbao_model::clock::format_ts;
use anbao_model::validate::Invalid;
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

impl StageRow<'_> {
    /// The first text field holding a NUL character: PostgreSQL's text
    /// type cannot hold one (SQLite's can).
    fn nul_field(&self) -> Option<&'static str> {
        [
            ("value", self.value),
            ("external_id", self.external_id),
            ("tags", self.tags.as_str()),
            ("context", self.context),
        ]
        .into_iter()
        .find_map(|(field, text)| text.contains('\0').then_some(field))
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
/// whichever connection the chunk's transaction is on; `$values(rows,
/// cols)` writes the parameters of a multi-row `VALUES`.
macro_rules! finish_chunk {
    ($conn:expr, $rows_per_statement:expr, $values:expr, $objects:expr, $source:expr, $import_id:expr, $now:expr, $written:expr, $repeated:expr) => {{
        for part in $objects.chunks($rows_per_statement) {
            let sql = format!(
                "INSERT INTO intel_objects (stix_id, object_type, spec_version, version, body, source, import_id, \
                 added_at) VALUES {} ON CONFLICT (stix_id, version) DO NOTHING",
                $values(part.len(), 8)
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

/// PostgreSQL: which of the chunk's values exist is asked first (one
/// probe of the unique index per value); the new ones are copied straight
/// into `intel_indicators`, with ids taken from its sequence beforehand,
/// and their provenance straight into `intel_provenance` (`COPY` writes a
/// page of rows per heap insert, where `INSERT … SELECT` writes a row at a
/// time and `ON CONFLICT` adds a speculative insertion per row: the direct
/// copy took less than half the server time). Values that exist go through
/// the staging table ([`write_staged_postgres`]), which merges a new
/// statement into the existing ones.
pub(super) async fn write_postgres(
    pg: &sqlx::PgPool,
    rows: &[StageRow<'_>],
    objects: &[StixObject],
    source: &str,
    import_id: i64,
    now: &str,
    repeated: u64,
) -> Result<Written> {
    if let Some((row, field)) = rows.iter().find_map(|r| r.nul_field().map(|field| (r, field))) {
        return Err(Invalid::field(
            field,
            format!(
                "the {field} of {} {:?} contains a NUL character, which PostgreSQL cannot store in text; \
                 nothing of this chunk was written",
                row.kind, row.value
            ),
        )
        .into());
    }
    let mut written = Written::default();
    let mut tx = pg.begin().await?;
    // Queue behind other writers like every store write (see `write_tx`).
    sqlx::query("UPDATE write_lock SET n = n + 1 WHERE id = 1").execute(&mut *tx).await?;
    // The planner's estimates for the unanalysed import tables are far off
    // (thousands of provenance rows per indicator), which put the
    // re-aggregation of a few hundred existing indicators above the JIT
    // thresholds: compiling it took 0.7 s, running it 10 ms.
    sqlx::query("SET LOCAL jit = off").execute(&mut *tx).await?;
    if !rows.is_empty() {
        let existing = existing_positions(&mut tx, rows.iter()).await?;
        let (mut stated_again, mut new) = (Vec::with_capacity(existing.len()), Vec::with_capacity(rows.len()));
        let mut next_existing = existing.iter().peekable();
        for (at, row) in rows.iter().enumerate() {
            if next_existing.next_if(|&&e| e == at).is_some() {
                stated_again.push(row);
            } else {
                new.push(row);
            }
        }
        if !new.is_empty() {
            if copy_new(&mut tx, &new, source, import_id, now).await? {
                written.accepted = new.len() as u64;
            } else {
                // Another writer outside the store's write lock inserted
                // one of these values (or an id of the range) after the
                // probe: the whole chunk goes through the staging table,
                // which takes what exists as existing.
                tracing::debug!("intel import: copying new indicators met one written meanwhile; staging the chunk");
                stated_again = rows.iter().collect();
            }
        }
        if !stated_again.is_empty() {
            let staged = write_staged_postgres(&mut tx, &stated_again, source, import_id, now).await?;
            written.accepted += staged.accepted;
            written.existing += staged.existing;
        }
    }
    finish_chunk!(
        tx,
        1000,
        |rows, cols| super::placeholders(0, rows, cols),
        objects,
        source,
        import_id,
        now,
        written,
        repeated
    );
    tx.commit().await?;
    Ok(written)
}

/// Positions among `rows` of the values that exist, ascending: one probe of
/// the unique `(kind, value)` index per value (a correlated subquery, which
/// no planner turns into a scan of the whole table; `LIMIT 1` makes it a
/// plain index scan rather than a bitmap scan built for one row).
async fn existing_positions<'r, 'a: 'r>(
    conn: &mut sqlx::PgConnection,
    rows: impl Iterator<Item = &'r StageRow<'a>>,
) -> Result<Vec<usize>> {
    let (kinds, values): (Vec<&str>, Vec<&str>) = rows.map(|r| (r.kind, r.value)).unzip();
    let found = sqlx::query(
        "SELECT n FROM (SELECT s.n, (SELECT i.id FROM intel_indicators i WHERE i.kind = s.kind AND i.value = s.value \
         LIMIT 1) AS id FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS s(kind, value, n)) probed \
         WHERE id IS NOT NULL ORDER BY n",
    )
    .bind(kinds)
    .bind(values)
    .fetch_all(&mut *conn)
    .await?;
    found
        .iter()
        .map(|row| {
            let n: i64 = row.try_get("n")?;
            // `WITH ORDINALITY` counts from 1.
            usize::try_from(n - 1).map_err(|_| StoreError::Corrupt(format!("probe position {n}")))
        })
        .collect()
}

/// Copies values believed new into `intel_indicators` and their provenance
/// into `intel_provenance`, inside a savepoint: true when written, false
/// when one of them (or of the ids) existed, and the savepoint was rolled
/// back. The ids of both are reserved from their sequences beforehand (the
/// write lock is held, so no other store writer takes ids meanwhile; a
/// clash with one written from outside fails the copy the same way).
async fn copy_new(
    conn: &mut sqlx::PgConnection,
    rows: &[&StageRow<'_>],
    source: &str,
    import_id: i64,
    now: &str,
) -> Result<bool> {
    sqlx::query("SAVEPOINT intel_copy").execute(&mut *conn).await?;
    match copy_new_rows(conn, rows, source, import_id, now).await {
        Ok(()) => {
            sqlx::query("RELEASE SAVEPOINT intel_copy").execute(&mut *conn).await?;
            Ok(true)
        }
        Err(StoreError::Db(sqlx::Error::Database(e))) if e.kind() == sqlx::error::ErrorKind::UniqueViolation => {
            tracing::debug!("intel import: a value copied as new existed ({e})");
            sqlx::query("ROLLBACK TO SAVEPOINT intel_copy").execute(&mut *conn).await?;
            Ok(false)
        }
        Err(e) => Err(e),
    }
}

/// The two `COPY`s of [`copy_new`], in binary format: the server reads
/// each field by its length instead of scanning text for delimiters and
/// escapes and parsing numbers (a tenth less server time for the copies).
/// Provenance ids are given too, so that no row calls `nextval`.
async fn copy_new_rows(
    conn: &mut sqlx::PgConnection,
    rows: &[&StageRow<'_>],
    source: &str,
    import_id: i64,
    now: &str,
) -> Result<()> {
    let n = i64::try_from(rows.len()).map_err(|_| StoreError::Corrupt("chunk size".into()))?;
    let reserved = sqlx::query(
        "SELECT setval(pg_get_serial_sequence('intel_indicators', 'id'), \
           nextval(pg_get_serial_sequence('intel_indicators', 'id')) + $1 - 1) AS indicators, \
         setval(pg_get_serial_sequence('intel_provenance', 'id'), \
           nextval(pg_get_serial_sequence('intel_provenance', 'id')) + $1 - 1) AS provenance",
    )
    .bind(n)
    .fetch_one(&mut *conn)
    .await?;
    let first_indicator = reserved.try_get::<i64, _>("indicators")? - n + 1;
    let first_provenance = reserved.try_get::<i64, _>("provenance")? - n + 1;
    copy_in(
        conn,
        "COPY intel_indicators (id, kind, value, category, confidence, tlp_rank, first_seen, last_seen, valid_until, \
         sources, created_at, updated_at) FROM STDIN (FORMAT binary)",
        rows.iter().zip(first_indicator..),
        |out, (r, id)| {
            binary::tuple(out, 12);
            binary::bigint(out, id);
            binary::text(out, r.kind)?;
            binary::text(out, r.value)?;
            binary_judgement(out, r)?;
            binary::bigint(out, 1);
            binary::text(out, now)?;
            binary::text(out, now)
        },
    )
    .await?;
    copy_in(
        conn,
        "COPY intel_provenance (id, indicator_id, source, external_id, category, confidence, tlp_rank, first_seen, \
         last_seen, valid_until, tags, context, import_id, created_at, updated_at) FROM STDIN (FORMAT binary)",
        rows.iter().zip(first_indicator..).zip(first_provenance..),
        |out, ((r, indicator_id), id)| {
            binary::tuple(out, 15);
            binary::bigint(out, id);
            binary::bigint(out, indicator_id);
            binary::text(out, source)?;
            binary::text(out, r.external_id)?;
            binary_judgement(out, r)?;
            binary::text(out, &r.tags)?;
            binary::text(out, r.context)?;
            binary::bigint(out, import_id);
            binary::text(out, now)?;
            binary::text(out, now)
        },
    )
    .await?;
    Ok(())
}

/// What a source says of a value: category, confidence, TLP, first and
/// last seen, valid until (the columns indicators, provenance and the
/// staging table share, in that order).
fn binary_judgement(out: &mut Vec<u8>, r: &StageRow<'_>) -> Result<()> {
    binary::text(out, r.category)?;
    binary::opt_bigint(out, r.confidence);
    binary::opt_bigint(out, r.tlp_rank);
    binary::text(out, &r.first_seen)?;
    binary::text(out, &r.last_seen)?;
    match r.valid_until.as_deref() {
        Some(t) => binary::text(out, t),
        None => {
            binary::null(out);
            Ok(())
        }
    }
}

/// Fields of `COPY`'s binary format: each a 32-bit big-endian length (-1
/// for NULL) and the value in the type's binary form (text: its UTF-8
/// bytes; BIGINT: 8 bytes big-endian); each row starts with its field
/// count.
mod binary {
    use crate::{Result, StoreError};

    /// The signature, flags and header extension length.
    pub(super) const HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";
    /// The field count -1 that ends the data.
    pub(super) const TRAILER: &[u8] = &(-1i16).to_be_bytes();

    pub(super) fn tuple(out: &mut Vec<u8>, fields: i16) {
        out.extend_from_slice(&fields.to_be_bytes());
    }

    pub(super) fn bigint(out: &mut Vec<u8>, v: i64) {
        out.extend_from_slice(&8i32.to_be_bytes());
        out.extend_from_slice(&v.to_be_bytes());
    }

    pub(super) fn opt_bigint(out: &mut Vec<u8>, v: Option<u8>) {
        match v {
            Some(v) => bigint(out, i64::from(v)),
            None => null(out),
        }
    }

    pub(super) fn text(out: &mut Vec<u8>, s: &str) -> Result<()> {
        let len = i32::try_from(s.len())
            .map_err(|_| StoreError::Corrupt(format!("a text of {} bytes in an import chunk", s.len())))?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(s.as_bytes());
        Ok(())
    }

    pub(super) fn null(out: &mut Vec<u8>) {
        out.extend_from_slice(&(-1i32).to_be_bytes());
    }
}

/// Runs a `COPY … FROM STDIN (FORMAT binary)` of `items`, each encoded as
/// one row by `encode`, sent in pieces of about 1 MiB so that a chunk is
/// never encoded whole. Every copy of the import is binary (see
/// [`copy_new_rows`]): no text escaping to get right.
async fn copy_in<T>(
    conn: &mut sqlx::PgConnection,
    statement: &str,
    items: impl Iterator<Item = T>,
    encode: impl Fn(&mut Vec<u8>, T) -> Result<()>,
) -> Result<u64> {
    let mut copy = conn.copy_in_raw(statement).await?;
    let mut buf = Vec::with_capacity(1 << 20);
    buf.extend_from_slice(binary::HEADER);
    for item in items {
        if let Err(e) = encode(&mut buf, item) {
            copy.abort(e.to_string()).await?;
            return Err(e);
        }
        if buf.len() >= 1 << 20 {
            copy.send(buf.as_slice()).await?;
            buf.clear();
        }
    }
    buf.extend_from_slice(binary::TRAILER);
    copy.send(buf.as_slice()).await?;
    Ok(copy.finish().await?)
}

/// The staged way for PostgreSQL, used for values that exist: `COPY` into
/// the staging table, the provenance of values whose indicator exists
/// (and their re-aggregation), then, for any value that turns out to be
/// new after all, one statement inserting the indicators and, from what it
/// returns, their provenance. None of them rewrites the staging table.
async fn write_staged_postgres(
    tx: &mut sqlx::PgConnection,
    rows: &[&StageRow<'_>],
    source: &str,
    import_id: i64,
    now: &str,
) -> Result<Written> {
    let mut written = Written::default();
    sqlx::query(
        "CREATE TEMP TABLE IF NOT EXISTS intel_stage (kind TEXT NOT NULL, value TEXT NOT NULL, \
         category TEXT NOT NULL, confidence BIGINT, tlp_rank BIGINT, first_seen TEXT, last_seen TEXT, \
         valid_until TEXT, external_id TEXT NOT NULL, tags TEXT NOT NULL, context TEXT NOT NULL) \
         ON COMMIT DELETE ROWS",
    )
    .execute(&mut *tx)
    .await?;
    copy_in(tx, &format!("COPY intel_stage ({STAGE_COLUMNS}) FROM STDIN (FORMAT binary)"), rows.iter(), |out, r| {
        binary::tuple(out, 11);
        binary::text(out, r.kind)?;
        binary::text(out, r.value)?;
        binary_judgement(out, r)?;
        binary::text(out, r.external_id)?;
        binary::text(out, &r.tags)?;
        binary::text(out, r.context)
    })
    .await?;
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
    Ok(written)
}

/// SQLite: the chunk into the staging table ([`stage_sqlite`]), on the
/// connection kept for imports (whose page cache the previous chunk left
/// warm), the new indicators inserted (the write lock is held, so nothing else inserts
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
    let mut tx = store.import_write_tx().await?;
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
    finish_chunk!(tx, ROWS_PER_STATEMENT, anonymous_rows, objects, source, import_id, now, written, repeated);
    tx.commit().await?;
    Ok(written)
}

/// Fills SQLite's staging table. Plain rows, which only differ in kind,
/// value and category, go in as one JSON array of bare values per (kind,
/// category): one extraction per row. The other rows follow as multi-row
/// `VALUES` of bound parameters: as a JSON array of arrays, each column of
/// each row was one extraction of about half a microsecond, eleven per
/// row; bound, an import of a million such rows (a context column) takes
/// 12–17% less CPU. Each group is in key order, as the rows are.
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
    for part in full.chunks(ROWS_PER_STATEMENT) {
        let sql = format!("INSERT INTO intel_stage ({STAGE_COLUMNS}) VALUES {}", anonymous_rows(part.len(), 11));
        let mut q = sqlx::query(&sql);
        for r in part {
            q = q
                .bind(r.kind)
                .bind(r.value)
                .bind(r.category)
                .bind(r.confidence.map(i64::from))
                .bind(r.tlp_rank.map(i64::from))
                .bind(&*r.first_seen)
                .bind(&*r.last_seen)
                .bind(r.valid_until.as_deref())
                .bind(r.external_id)
                .bind(r.tags.as_str())
                .bind(r.context);
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Rows per multi-row `VALUES` on SQLite (staged indicators other than
/// plain ones, STIX objects): eleven parameters at most, under SQLite's
/// limit of 32,766 per statement.
const ROWS_PER_STATEMENT: usize = 500;

/// `(?,?,…),(?,?,…)…`: `rows` tuples of `cols` anonymous parameters.
/// Anonymous, because sqlx's SQLite driver looks each named parameter
/// (`$N`) up among all names, which grows with the square of their count.
fn anonymous_rows(rows: usize, cols: usize) -> String {
    let tuple = format!("({})", vec!["?"; cols].join(","));
    vec![tuple.as_str(); rows].join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_fields() {
        let mut out = Vec::new();
        binary::tuple(&mut out, 2);
        binary::bigint(&mut out, 258);
        binary::text(&mut out, "é").unwrap();
        binary::opt_bigint(&mut out, None);
        assert_eq!(out, [0, 2, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 2, 0xc3, 0xa9, 0xff, 0xff, 0xff, 0xff]);
        assert_eq!(binary::HEADER.len(), 19);
    }
}
