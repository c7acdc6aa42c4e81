//! anbao's relational store: the schema, its versioned migrations and every
//! query, on SQLite (the embedded default) or PostgreSQL (shared by the
//! nodes of a cluster), chosen at run time by the database URL.
//!
//! One implementation serves both backends through sqlx's `Any` driver: the
//! SQL is written once in the dialect both accept (`$N` parameters, text
//! timestamps, 0/1 booleans, BIGINT keys) and only the DDL differs, kept in
//! `migrations/sqlite` and `migrations/postgres`. This replaces the "one
//! trait, two implementations" of the design sketch: a second copy of every
//! query would drift. The one exception is the bulk path of intel imports
//! (`intel/chunk.rs`), which stages each chunk with PostgreSQL's `COPY`
//! through a second pool of the PostgreSQL driver.
//!
//! Every change goes through a write transaction that also appends to the
//! hash-chained audit log, so a change and its audit entry commit together
//! or not at all. This crate must not know HTTP, argv or the terminal.

mod alerts;
mod assessments;
mod asset_links;
mod assets;
mod audit;
mod error;
mod flow_nodes;
mod flow_traffic;
mod incident_evidence;
mod incident_leaks;
mod incident_metrics;
mod incident_tasks;
mod incidents;
mod intel;
mod intel_sources;
mod migrate;
mod mitigations;
mod network_units;
mod notifications;
mod org_units;
mod password;
mod plans;
mod reports;
mod risks;
mod samples;
mod seal;
mod sessions;
mod sql;
mod taxii;
mod tokens;
mod users;
mod warnings;

use std::sync::Arc;
use std::time::Duration;

use anbao_model::clock::{format_ts, parse_ts};
use anbao_model::{Clock, SystemClock, Timestamp};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{Any, AnyPool, Connection, Executor, Row, Transaction};

pub use alerts::{
    ALERT_ACTIONS, ALERT_STATUSES, AlertAction, AlertDraft, AlertFilter, AlertSuppression, Applied, BulkTriage,
    FALSE_POSITIVE_ALLOWLIST, MAX_BULK_ALERTS, NewSuppression, SYSTEM_ALERT_ACTIONS, StoredAlert, Victim,
};
pub use assessments::{
    Assessment, AssessmentItem, Evidence, ItemResult, MAX_EVIDENCE_BYTES, RemediationTask, parse_due,
};
pub use asset_links::{AffectedAsset, MAX_AFFECTED_ASSETS};
pub use assets::{
    Accountability, Asset, AssetFilter, Boundary, Component, ImportAction, ImportError, ImportOutcome, ImportReport,
    ImportRow, SecurityDomain, StaffMember,
};
pub use audit::{AuditEntry, AuditFilter, AuditVerification};
pub use error::StoreError;
pub use flow_nodes::{FlowNode, FlowNodeDraft};
pub use flow_traffic::{FlowTraffic, FlowTrafficHost};
pub use incident_evidence::{
    EVIDENCE_NOTE_MAX, EvidenceDraft, INCIDENT_EVIDENCE_MAX_CEILING, INCIDENT_EVIDENCE_MAX_DEFAULT, IncidentEvidence,
    IncidentObservable, ObservableDraft, PublishDraft, evidence_type,
};
pub use incident_leaks::{IncidentLeak, LEAK_AFFECTED_MAX, LEAK_DUTY_TEXT, parse_leak_categories};
pub use incident_metrics::{DeadlineCounts, HandlingTime, IncidentMetrics, MonthTimes, WeekCount};
pub use incident_tasks::{IncidentMessage, IncidentTask, MESSAGE_MAX, TaskDraft, TaskPatch};
pub use incidents::{INCIDENT_TEXT_MAX, Incident, IncidentDraft, IncidentFilter, TimelineEntry};
pub use intel::{
    ALLOWLIST_TYPES, Allowlist, ChunkCounts, ExportIndicator, IMPORT_STALE, ImportRun, ImportTotals, IndicatorFilter,
    KeptReject, MAX_KEPT_REJECTS, Provenance, StoredIndicator, StoredObject,
};
pub use intel_sources::{
    IntelSource, IntelSourceDraft, IntelSourcePatch, MAX_INTERVAL_MINUTES, PULL_HEARTBEAT, PULL_LEASE, SOURCE_FORMATS,
    SourceKind,
};
pub use migrate::{known_versions as known_schema_versions, latest_version as latest_schema_version};
pub use mitigations::{
    MITIGATION_KINDS, MITIGATION_STATES, Mitigation, MitigationChange, MitigationDraft, mitigation_retry_secs,
};
pub use network_units::{AssessmentKind, NetworkUnit, NetworkUnitDraft, UnitStatus, date_text, parse_date};
pub use notifications::{
    NOTIFY_BACKOFF_MINUTES, NOTIFY_CHANNEL_KINDS, NOTIFY_CLAIM_LEASE, NOTIFY_EVENTS, NOTIFY_MAX_ATTEMPTS, Notification,
    NotificationDue, NotifyChannel, NotifyChannelDraft, NotifyRule, NotifyRuleDraft, notify_retry_after,
};
pub use org_units::{NewOrgUnit, OrgUnitPatch};
pub use password::{generate_password, hash_password, verify_password};
pub use plans::{
    Drill, DrillDraft, DrillPatch, PLAN_DOC_MAX, Plan, PlanDocument, PlanDraft, PlanScenario, PlanVersion,
    REVIEW_CYCLE_MAX, add_months,
};
pub use reports::{ReceivedReport, ReportSender, ReportSubmission, SUBMISSION_OUTCOMES, StoredReport};
pub use risks::{Clearance, Risk, RiskDraft};
pub use samples::{MAX_SAMPLE_BYTES, SAMPLE_SOURCE, Sample, SampleDraft};
pub use seal::{SealError, Sealer};
pub use sessions::{Session, SessionPolicy};
pub use taxii::{
    CollectionDraft, CollectionPatch, MAX_FILTER_VALUES, ObjectFilter, PublishFilter, STATUS_RETENTION,
    STIX_SPEC_VERSION, StatusDetail, TaxiiCollection, TaxiiObject, TaxiiPage, TaxiiStatus, VersionMatch, micros_text,
    parse_timestamp,
};
pub use tokens::{ApiToken, NewToken};
pub use users::{LoginOutcome, LoginPolicy, NewUser, User, UserFilter, UserPatch};
pub use warnings::{Warning, WarningDraft, WarningHistoryEntry, WarningLevel, WarningPatch, WarningRecipient};

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Which database the store talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> Result<Backend> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::UnsupportedUrl(redact_url(url)))
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// A database URL with any password replaced, for messages and logs.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    match rest.split_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// The SQLite URL for a database file, created if missing.
pub fn sqlite_url(path: &std::path::Path) -> String {
    format!("sqlite://{}?mode=rwc", path.display())
}

/// Who made a change and through what: the audit log's "who" and "from where".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    /// User name, `token:NAME`, `cli` or `system`.
    pub name: String,
    pub role: String,
    /// `ui`, `api`, `cli` or `system`.
    pub channel: &'static str,
    pub source_ip: String,
    pub user_id: Option<i64>,
}

impl Actor {
    pub fn system() -> Actor {
        Actor {
            name: "system".into(),
            role: "system".into(),
            channel: "system",
            source_ip: String::new(),
            user_id: None,
        }
    }
    pub fn cli() -> Actor {
        let who = std::env::var("USER").unwrap_or_default();
        Actor {
            name: format!("cli:{who}"),
            role: "admin".into(),
            channel: "cli",
            source_ip: "local".into(),
            user_id: None,
        }
    }
}

/// Options for opening a store.
#[derive(Clone, Debug)]
pub struct StoreOptions {
    pub max_connections: u32,
    pub sealer: Sealer,
    pub clock: Arc<dyn Clock>,
}

impl StoreOptions {
    pub fn new(sealer: Sealer) -> StoreOptions {
        StoreOptions { max_connections: 16, sealer, clock: Arc::new(SystemClock) }
    }
}

/// The handle every part of anbao uses to read and change persistent data.
/// Cheap to clone; holds a connection pool and no other state, so any
/// number of processes may share one PostgreSQL database.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    /// PostgreSQL only: the same database through sqlx's PostgreSQL driver,
    /// for what the `Any` driver cannot do (`COPY` for bulk intel imports).
    /// Connects on first use.
    pg_pool: Option<sqlx::PgPool>,
    /// SQLite only: one connection of its own for import chunks, so that
    /// each chunk finds the index pages the one before left in its page
    /// cache (SQLite empties a connection's cache whenever another
    /// connection has written; chunks spread over the pool's connections
    /// read most of the file again). Connects on first use.
    import_pool: Option<AnyPool>,
    backend: Backend,
    sealer: Arc<Sealer>,
    clock: Arc<dyn Clock>,
    write_gate: Arc<tokio::sync::Mutex<()>>,
}

/// SQLite's settings for every connection. A 64 MiB page cache (the default
/// is 8 MiB): bulk intel imports touch index pages all over a large file
/// and otherwise re-read them. Temporary tables (an import chunk's staging
/// table) in memory, not in a file.
const SQLITE_SETTINGS: &str = "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 30000; PRAGMA synchronous = NORMAL; \
     PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY;";

/// The connection import chunks are written on checks no foreign keys: it
/// writes only provenance for indicators it found or created in the same
/// transaction and of the run the caller began, and deletes nothing. The
/// checks were a fifth of the provenance insert's time, 6% of a list
/// import's (bench/README.md). PostgreSQL has had no such keys since
/// migration 0028.
const SQLITE_IMPORT_SETTINGS: &str = "PRAGMA foreign_keys = OFF;";

/// A pool of `max_connections` to `backend`; on SQLite with
/// [`SQLITE_SETTINGS`], then `extra`.
fn pool_options_for(backend: Backend, max_connections: u32, extra: &'static str) -> AnyPoolOptions {
    let options = AnyPoolOptions::new().max_connections(max_connections).acquire_timeout(Duration::from_secs(30));
    if backend != Backend::Sqlite {
        return options;
    }
    options.after_connect(move |conn, _| {
        Box::pin(async move {
            conn.execute(SQLITE_SETTINGS).await?;
            if !extra.is_empty() {
                conn.execute(extra).await?;
            }
            Ok(())
        })
    })
}

impl Store {
    /// Connects, applies pending migrations and returns the store.
    pub async fn open(url: &str, options: StoreOptions) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url)?;
        let pool_options = pool_options_for(backend, options.max_connections, "");
        // One direct connection first: a pool reports an unreachable server
        // only as a timeout after `acquire_timeout`, hiding the real cause.
        let probe = sqlx::AnyConnection::connect(url)
            .await
            .map_err(|cause| StoreError::Connect { url: redact_url(url), cause })?;
        probe.close().await?;
        let pool =
            pool_options.connect(url).await.map_err(|cause| StoreError::Connect { url: redact_url(url), cause })?;
        let pg_pool = match backend {
            Backend::Postgres => Some(
                // Only import chunks use it, and each holds the write lock,
                // so they run one at a time: two connections, not a second
                // full pool against the server's max_connections.
                sqlx::postgres::PgPoolOptions::new()
                    .max_connections(2)
                    .acquire_timeout(Duration::from_secs(30))
                    .connect_lazy(url)
                    .map_err(|cause| StoreError::Connect { url: redact_url(url), cause })?,
            ),
            Backend::Sqlite => None,
        };
        let import_pool = match backend {
            Backend::Sqlite => Some(
                pool_options_for(backend, 1, SQLITE_IMPORT_SETTINGS)
                    .connect_lazy(url)
                    .map_err(|cause| StoreError::Connect { url: redact_url(url), cause })?,
            ),
            Backend::Postgres => None,
        };
        let store = Store {
            pool,
            pg_pool,
            import_pool,
            backend,
            sealer: Arc::new(options.sealer),
            clock: options.clock,
            write_gate: Arc::new(tokio::sync::Mutex::new(())),
        };
        migrate::run(&store).await?;
        if backend == Backend::Sqlite {
            store.use_wal().await?;
        }
        Ok(store)
    }

    /// WAL lets readers proceed while one writer commits; it is a property
    /// of the file, set once. Switching needs the file to itself, which
    /// another process opening it at the same moment may briefly deny
    /// without consulting the busy handler, so retry for a while.
    async fn use_wal(&self) -> Result<()> {
        let mut attempts = 0;
        loop {
            match sqlx::query("PRAGMA journal_mode = WAL").fetch_optional(&self.pool).await {
                Ok(_) => return Ok(()),
                Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("5") && attempts < 200 => {
                    attempts += 1;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    pub(crate) fn now(&self) -> Timestamp {
        self.clock.now()
    }

    pub(crate) fn now_text(&self) -> String {
        format_ts(self.clock.now())
    }

    /// Closes the pool, waiting for connections to be returned.
    pub async fn close(&self) {
        self.pool.close().await;
        if let Some(pg) = &self.pg_pool {
            pg.close().await;
        }
        if let Some(import) = &self.import_pool {
            import.close().await;
        }
    }

    /// Whether the database answers; for `/healthz`.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").fetch_one(&self.pool).await?;
        Ok(())
    }

    /// Starts a transaction that takes the write lock first, so concurrent
    /// writers (threads or cluster nodes) queue instead of failing, and the
    /// audit chain they extend stays linear. On SQLite, writers of this
    /// process also queue on an async mutex: SQLite's busy handler polls
    /// with sleeps, which gives long, unfair waits under load.
    pub(crate) async fn write_tx(&self) -> Result<WriteTx> {
        self.write_tx_on(&self.pool).await
    }

    /// [`Store::write_tx`] on the connection kept for import chunks (SQLite;
    /// elsewhere the pool's).
    pub(crate) async fn import_write_tx(&self) -> Result<WriteTx> {
        self.write_tx_on(self.import_pool.as_ref().unwrap_or(&self.pool)).await
    }

    async fn write_tx_on(&self, pool: &AnyPool) -> Result<WriteTx> {
        let gate = match self.backend {
            Backend::Sqlite => Some(self.write_gate.clone().lock_owned().await),
            Backend::Postgres => None,
        };
        let mut tx = pool.begin().await?;
        sqlx::query("UPDATE write_lock SET n = n + 1 WHERE id = 1").execute(&mut *tx).await?;
        Ok(WriteTx { tx, _gate: gate })
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub(crate) fn sealer(&self) -> &Sealer {
        &self.sealer
    }

    /// Raw SQL for tests and tools that must reach under the application,
    /// e.g. to tamper with the audit log and show that verification notices.
    pub async fn execute_raw(&self, sql: &str) -> Result<u64> {
        Ok(sqlx::raw_sql(sql).execute(&self.pool).await?.rows_affected())
    }
}

/// A write transaction (see [`Store::write_tx`]). Derefs to the connection;
/// dropping it without `commit` rolls back.
pub(crate) struct WriteTx {
    tx: Transaction<'static, Any>,
    // Released after the transaction ends (fields drop in order).
    _gate: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl WriteTx {
    pub(crate) async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        Ok(())
    }
}

impl std::ops::Deref for WriteTx {
    type Target = sqlx::AnyConnection;
    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

pub(crate) fn ts_col(row: &AnyRow, col: &str) -> Result<Timestamp> {
    let s: String = row.try_get(col)?;
    parse_ts(&s).map_err(|e| StoreError::Corrupt(format!("column {col} holds {s:?}, not a timestamp: {e}")))
}

pub(crate) fn opt_ts_col(row: &AnyRow, col: &str) -> Result<Option<Timestamp>> {
    let s: Option<String> = row.try_get(col)?;
    match s {
        None => Ok(None),
        Some(s) if s.is_empty() => Ok(None),
        Some(s) => parse_ts(&s)
            .map(Some)
            .map_err(|e| StoreError::Corrupt(format!("column {col} holds {s:?}, not a timestamp: {e}"))),
    }
}

pub(crate) fn bool_col(row: &AnyRow, col: &str) -> Result<bool> {
    Ok(row.try_get::<i64, _>(col)? != 0)
}

/// Random bytes from the operating system, hex-encoded.
pub(crate) fn random_hex(bytes: usize) -> String {
    use rand::RngCore;
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    hex::encode(buf)
}

pub(crate) fn sha256_bytes_hex(b: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(b))
}

pub(crate) fn sha256_hex(s: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(s.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Stores are opened inside spawned tasks (e.g. per test, per worker).
    #[allow(dead_code)]
    fn open_is_send() {
        fn is_send<T: Send>(_: T) {}
        is_send(Store::open("sqlite://x", StoreOptions::new(Sealer::from_hex(&"00".repeat(32)).expect("key"))));
    }

    #[test]
    fn urls_choose_backends_and_hide_passwords() {
        assert_eq!(Backend::from_url("sqlite://x.db").ok(), Some(Backend::Sqlite));
        assert_eq!(Backend::from_url("postgres://u@h/db").ok(), Some(Backend::Postgres));
        assert!(Backend::from_url("mysql://h/db").is_err());
        assert_eq!(redact_url("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
    }
}
