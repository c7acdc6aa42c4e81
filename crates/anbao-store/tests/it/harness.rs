//! Runs each case against a fresh database of either backend, and the
//! fixtures and assertions the cases share.
//!
//! SQLite: a new file in a temporary directory that lives as long as the test.
//! PostgreSQL: a new database `anbao_t_<hex>` on the server named by
//! `ANBAO_TEST_POSTGRES` (default `postgres://postgres@127.0.0.1:5432/test`),
//! dropped afterwards. An unreachable server fails the test: CI must really
//! run the PostgreSQL half of the suite.

use std::fmt::Debug;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use anbao_model::{Clock, ManualClock, OrgKind, OrgUnit, Role, Timestamp};
use anbao_store::{
    Actor, AuditEntry, AuditFilter, Backend, NewOrgUnit, NewUser, Sealer, Store, StoreError, StoreOptions, User,
};
use sqlx::{AnyConnection, Connection};
use time::macros::datetime;

/// Generates `<case>_sqlite` and `<case>_postgres` tests for each case, an
/// `async fn(TestDb)`. (Stable Rust cannot paste identifiers together, so
/// the two test names are spelled out.)
macro_rules! on_both_backends {
    ($($case:ident => $sqlite:ident, $postgres:ident;)+) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $sqlite() {
            crate::harness::run(anbao_store::Backend::Sqlite, $case).await;
        }
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $postgres() {
            crate::harness::run(anbao_store::Backend::Postgres, $case).await;
        }
    )+};
}

const DEFAULT_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A password every fixture user gets; passes the strength rules.
pub const PASSWORD: &str = "correct horse battery staple";

/// What a case receives: an open store on its own fresh database, the clock
/// that store reads (moved by hand, never by sleeping), and the means to
/// reach the same database another way.
#[derive(Clone)]
pub struct TestDb {
    pub store: Store,
    pub clock: Arc<ManualClock>,
    url: String,
    key_hex: String,
}

impl TestDb {
    async fn open(url: String) -> TestDb {
        let key_hex = Sealer::generate_key_hex();
        let clock = Arc::new(ManualClock::new(datetime!(2026-11-25 09:00 UTC)));
        let store = open_store(&url, &key_hex, &clock).await.expect("open a store on a fresh database");
        TestDb { store, clock, url, key_hex }
    }

    /// What the store's clock says.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    pub fn backend(&self) -> Backend {
        self.store.backend()
    }

    /// Another `Store::open` on the same database, key and clock, as a
    /// second process or cluster node would do it.
    pub async fn reopen(&self) -> Result<Store, StoreError> {
        open_store(&self.url, &self.key_hex, &self.clock).await
    }

    /// A plain connection that bypasses the store, to look at what is
    /// really stored.
    pub async fn raw_connection(&self) -> AnyConnection {
        AnyConnection::connect(&self.url).await.expect("raw connection to the test database")
    }

    /// Lifts the triggers that keep `audit_log` append-only, as someone
    /// with direct database access could.
    pub async fn drop_audit_triggers(&self) {
        let sql = match self.backend() {
            Backend::Sqlite => "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;",
            Backend::Postgres => "DROP TRIGGER audit_log_no_change ON audit_log;",
        };
        self.store.execute_raw(sql).await.expect("drop the append-only triggers");
    }
}

async fn open_store(url: &str, key_hex: &str, clock: &Arc<ManualClock>) -> Result<Store, StoreError> {
    let sealer = Sealer::from_hex(key_hex).expect("generated key is valid");
    Store::open(url, StoreOptions { clock: clock.clone(), ..StoreOptions::new(sealer) }).await
}

/// Where a test's database lives, and how to get rid of it.
enum Place {
    Sqlite(tempfile::TempDir),
    Postgres { base_url: String, name: String },
}

impl Place {
    async fn create(backend: Backend) -> (Place, String) {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary directory");
                let url = anbao_store::sqlite_url(&dir.path().join("anbao.db"));
                (Place::Sqlite(dir), url)
            }
            Backend::Postgres => {
                let base_url = std::env::var("ANBAO_TEST_POSTGRES").unwrap_or_else(|_| DEFAULT_POSTGRES.to_owned());
                let name = format!("anbao_t_{}", random_hex(8));
                let mut conn = pg_admin(&base_url).await;
                sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .await
                    .unwrap_or_else(|e| panic!("cannot create test database {name} on {base_url}: {e}"));
                conn.close().await.ok();
                let url = with_database(&base_url, &name);
                (Place::Postgres { base_url, name }, url)
            }
        }
    }

    /// Best effort: a leftover database is a nuisance, not a test failure.
    async fn destroy(self) {
        match self {
            Place::Sqlite(dir) => drop(dir),
            Place::Postgres { base_url, name } => {
                let mut conn = pg_admin(&base_url).await;
                if let Err(e) =
                    sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut conn).await
                {
                    eprintln!("warning: could not drop test database {name}: {e}");
                }
                conn.close().await.ok();
            }
        }
    }
}

async fn pg_admin(base_url: &str) -> AnyConnection {
    sqlx::any::install_default_drivers();
    AnyConnection::connect(base_url).await.unwrap_or_else(|e| {
        panic!(
            "PostgreSQL is unreachable at {} ({e}). The *_postgres tests need a running server: \
             start one, or set ANBAO_TEST_POSTGRES to a URL whose user may CREATE DATABASE.",
            anbao_store::redact_url(base_url)
        )
    })
}

/// `base` with its database name replaced by `name`, keeping any query string.
fn with_database(base: &str, name: &str) -> String {
    let (main, query) = match base.split_once('?') {
        Some((m, q)) => (m, format!("?{q}")),
        None => (base, String::new()),
    };
    let (scheme, rest) = main.split_once("://").expect("a postgres:// URL");
    let host = rest.split_once('/').map_or(rest, |(h, _)| h);
    format!("{scheme}://{host}/{name}{query}")
}

fn random_hex(bytes: usize) -> String {
    use rand::RngCore;
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    hex::encode(buf)
}

/// Runs `case` on a fresh database of `backend`, then removes the database
/// whether the case passed or panicked, and reports the case's panic.
pub async fn run<F, Fut>(backend: Backend, case: F)
where
    F: FnOnce(TestDb) -> Fut,
    Fut: Future<Output = ()>,
{
    let (place, url) = Place::create(backend).await;
    let db = TestDb::open(url).await;
    assert_eq!(db.backend(), backend);
    let outcome = CatchUnwind(Box::pin(case(db.clone()))).await;
    db.store.close().await;
    drop(db);
    place.destroy().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// A future's panic as a value, so that cleanup can run before it is
/// re-raised. (`tokio::spawn` would do the same but demands `Send`, which
/// rustc cannot prove for `Store::open` or for queries on a raw
/// `&mut AnyConnection`: sqlx's `Executor` impls are higher-ranked.)
struct CatchUnwind<F>(Pin<Box<F>>);

impl<F: Future> Future for CatchUnwind<F> {
    type Output = std::thread::Result<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.get_mut().0.as_mut();
        match std::panic::catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(value)) => Poll::Ready(Ok(value)),
            Err(panic) => Poll::Ready(Err(panic)),
        }
    }
}

// ---------------------------------------------------------------- fixtures

/// An administrator acting through the API.
pub fn actor(name: &str) -> Actor {
    Actor { name: name.into(), role: "admin".into(), channel: "api", source_ip: "192.0.2.1".into(), user_id: None }
}

pub fn new_unit(parent: Option<i64>, name: &str, kind: OrgKind) -> NewOrgUnit {
    NewOrgUnit { parent_id: parent, name: name.into(), kind, code: String::new() }
}

pub async fn create_unit(store: &Store, parent: Option<i64>, name: &str, kind: OrgKind) -> OrgUnit {
    store.create_org_unit(&actor("alice"), &new_unit(parent, name, kind)).await.expect("create organisation unit")
}

/// The root of the tree, the group company.
pub async fn create_root(store: &Store) -> OrgUnit {
    create_unit(store, None, "集团公司", OrgKind::Group).await
}

pub fn new_user(username: &str, role: Role, org_unit_id: i64) -> NewUser {
    NewUser {
        username: username.into(),
        display_name: username.into(),
        email: String::new(),
        phone: String::new(),
        role,
        org_unit_id,
        password: PASSWORD.into(),
        grants: Vec::new(),
        must_change_password: false,
    }
}

pub async fn create_user(store: &Store, username: &str, role: Role, org_unit_id: i64) -> User {
    store.create_user(&actor("alice"), &new_user(username, role, org_unit_id)).await.expect("create user")
}

// -------------------------------------------------------------- assertions

#[track_caller]
pub fn assert_invalid<T: Debug>(result: Result<T, StoreError>, field: &str) {
    match result {
        Err(StoreError::Invalid(invalid)) => assert_eq!(invalid.field, field, "wrong field named: {invalid}"),
        other => panic!("expected Invalid({field}), got {other:?}"),
    }
}

#[track_caller]
pub fn assert_conflict<T: Debug>(result: Result<T, StoreError>) {
    assert!(matches!(result, Err(StoreError::Conflict(_))), "expected Conflict, got {result:?}");
}

#[track_caller]
pub fn assert_not_found<T: Debug>(result: Result<T, StoreError>) {
    assert!(matches!(result, Err(StoreError::NotFound { .. })), "expected NotFound, got {result:?}");
}

/// A filter that matches everything and returns the whole log.
pub fn everything() -> AuditFilter {
    AuditFilter { limit: 100_000, ..AuditFilter::default() }
}

pub async fn audit(store: &Store, filter: AuditFilter) -> Vec<AuditEntry> {
    store.list_audit(&filter).await.expect("list audit log")
}

/// Asserts that the newest audit entry records this change, and returns it.
pub async fn assert_audited(
    store: &Store,
    actor: &str,
    action: &str,
    object_type: &str,
    object_id: impl ToString,
) -> AuditEntry {
    let newest =
        audit(store, AuditFilter { limit: 1, ..AuditFilter::default() }).await.pop().expect("audit log is empty");
    let object_id = object_id.to_string();
    assert_eq!(
        (newest.actor.as_str(), newest.action.as_str(), newest.object_type.as_str(), newest.object_id.as_str()),
        (actor, action, object_type, object_id.as_str()),
        "newest audit entry: {newest:?}"
    );
    newest
}

/// Asserts that the log is intact and `entries` long.
pub async fn assert_chain_intact(store: &Store, entries: i64) {
    let v = store.verify_audit().await.expect("verify audit log");
    assert!(v.intact(), "audit chain broken: {:?}", v.first_break);
    assert_eq!(v.head_seq, entries);
    assert_eq!(v.checked, entries as u64);
    assert_eq!(store.count_audit().await.expect("count audit"), entries);
}
