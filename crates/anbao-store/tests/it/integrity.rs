//! Properties of the store as a whole: all-or-nothing changes, concurrent
//! writers, and migrations.

use anbao_model::{OrgKind, Role};
use anbao_store::{Backend, LoginOutcome, LoginPolicy, NewUser, StoreError, UserPatch};
use sqlx::{Connection, Row};

use crate::harness::*;

on_both_backends! {
    failed_changes_leave_no_trace => failed_changes_leave_no_trace_sqlite, failed_changes_leave_no_trace_postgres;
    change_and_audit_entry_commit_together => change_and_audit_entry_commit_together_sqlite, change_and_audit_entry_commit_together_postgres;
    concurrent_writers_keep_one_chain => concurrent_writers_keep_one_chain_sqlite, concurrent_writers_keep_one_chain_postgres;
    reopening_keeps_schema_and_data => reopening_keeps_schema_and_data_sqlite, reopening_keeps_schema_and_data_postgres;
}

/// The counts a failed change must leave as they were.
async fn footprint(db: &TestDb) -> (i64, i64, usize) {
    let store = &db.store;
    (
        store.count_users().await.unwrap(),
        store.count_audit().await.unwrap(),
        store.list_org_units().await.unwrap().len(),
    )
}

async fn failed_changes_leave_no_trace(db: TestDb) {
    let store = &db.store;
    let alice = actor("alice");
    let root = create_root(store).await;
    create_unit(store, Some(root.id), "广东公司", OrgKind::Province).await;
    create_user(store, "zhang.wei", Role::Analyst, root.id).await;
    let before = footprint(&db).await;

    assert_invalid(store.create_user(&alice, &new_user("li.na", Role::Analyst, 9999)).await, "org_unit_id");
    let regulator = NewUser { grants: vec![root.id, 9999], ..new_user("miit", Role::Regulator, root.id) };
    assert_invalid(store.create_user(&alice, &regulator).await, "grants");
    assert_conflict(store.create_user(&alice, &new_user("zhang.wei", Role::Analyst, root.id)).await);
    assert_invalid(store.create_org_unit(&alice, &new_unit(None, "第二集团", OrgKind::Group)).await, "parent_id");
    assert_conflict(store.create_org_unit(&alice, &new_unit(Some(root.id), "广东公司", OrgKind::Province)).await);
    assert_conflict(store.delete_org_unit(&alice, root.id).await);

    assert_eq!(footprint(&db).await, before);
    assert_eq!(store.get_user_by_username("li.na").await.unwrap(), None);
    assert_eq!(store.get_user_by_username("miit").await.unwrap(), None);
    assert_chain_intact(store, before.1).await;
}

/// A trigger that makes every audit append fail, so a change gets as far
/// as writing its row and then cannot be audited.
fn audit_outage(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => {
            "CREATE TRIGGER audit_outage BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'audit outage'); END;"
        }
        Backend::Postgres => {
            "CREATE FUNCTION audit_outage() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit outage'; END; $$; \
             CREATE TRIGGER audit_outage BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_outage();"
        }
    }
}

fn end_of_outage(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "DROP TRIGGER audit_outage",
        Backend::Postgres => "DROP TRIGGER audit_outage ON audit_log",
    }
}

async fn change_and_audit_entry_commit_together(db: TestDb) {
    let store = &db.store;
    let alice = actor("alice");
    let root = create_root(store).await;
    let zhang = create_user(store, "zhang.wei", Role::Analyst, root.id).await;
    let before = footprint(&db).await;

    store.execute_raw(audit_outage(db.backend())).await.unwrap();
    let unit = store.create_org_unit(&alice, &new_unit(Some(root.id), "广东公司", OrgKind::Province)).await;
    assert!(matches!(unit, Err(StoreError::Db(_))), "{unit:?}");
    let user = store.create_user(&alice, &new_user("li.na", Role::Analyst, root.id)).await;
    assert!(matches!(user, Err(StoreError::Db(_))), "{user:?}");
    let disable = UserPatch { disabled: Some(true), ..UserPatch::default() };
    assert!(store.update_user(&alice, zhang.id, &disable).await.is_err());
    assert!(store.set_password(&alice, zhang.id, "another fine passphrase", false).await.is_err());

    assert_eq!(footprint(&db).await, before, "nothing was written without its audit entry");
    assert_eq!(store.get_user(zhang.id).await.unwrap(), zhang);
    let login = store.check_login("192.0.2.1", "zhang.wei", PASSWORD, &LoginPolicy::default()).await.unwrap();
    assert!(matches!(login, LoginOutcome::Success(_)), "the old password still works: {login:?}");

    store.execute_raw(end_of_outage(db.backend())).await.unwrap();
    create_unit(store, Some(root.id), "广东公司", OrgKind::Province).await;
    assert_chain_intact(store, before.1 + 1).await;
}

async fn concurrent_writers_keep_one_chain(db: TestDb) {
    const WRITERS: usize = 20;
    let root = create_root(&db.store).await;
    // Half the writers go through a second store, as a second node would.
    let second_node = db.reopen().await.expect("open a second store");
    let tasks: Vec<_> = (0..WRITERS)
        .map(|i| {
            let store = if i % 2 == 0 { db.store.clone() } else { second_node.clone() };
            tokio::spawn(async move {
                store
                    .create_org_unit(
                        &actor(&format!("writer{i}")),
                        &new_unit(Some(root.id), &format!("部门{i:02}"), OrgKind::Department),
                    )
                    .await
            })
        })
        .collect();
    let mut ids = Vec::new();
    for task in tasks {
        ids.push(task.await.expect("writer task").expect("every concurrent write succeeds").id);
    }
    second_node.close().await;
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), WRITERS);
    assert_eq!(db.store.list_org_units().await.unwrap().len(), WRITERS + 1);

    let entries = WRITERS as i64 + 1;
    assert_chain_intact(&db.store, entries).await;
    let log = audit(&db.store, everything()).await;
    assert_eq!(log.iter().map(|e| e.seq).collect::<Vec<_>>(), (1..=entries).rev().collect::<Vec<_>>());
    let mut writers: Vec<_> = log.iter().map(|e| e.actor.clone()).filter(|a| a.starts_with("writer")).collect();
    writers.sort();
    writers.dedup();
    assert_eq!(writers.len(), WRITERS, "each writer's change is in the log once");
}

async fn reopening_keeps_schema_and_data(db: TestDb) {
    assert_eq!(db.store.schema_version().await.unwrap(), anbao_store::latest_schema_version());
    let root = create_root(&db.store).await;

    let again = db.reopen().await.expect("opening a migrated database again");
    again.ping().await.unwrap();
    assert_eq!(again.schema_version().await.unwrap(), anbao_store::latest_schema_version());
    assert_eq!(again.root_org_unit().await.unwrap(), Some(root));
    assert_chain_intact(&again, 1).await;
    again.close().await;

    let mut conn = db.raw_connection().await;
    let applied: Vec<i64> = sqlx::query("SELECT version FROM schema_migrations ORDER BY version")
        .fetch_all(&mut conn)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get("version"))
        .collect();
    assert_eq!(applied, anbao_store::known_schema_versions(), "each migration ran once");

    // A migration missing below the newest applied one (a branch merged
    // later with a lower number) is still applied on the next start: here
    // the risk register (5) is undone while later ones stay.
    for sql in
        ["DROP TABLE prelaunch_clearances", "DROP TABLE risks", "DELETE FROM schema_migrations WHERE version = 5"]
    {
        sqlx::query(sql).execute(&mut conn).await.unwrap();
    }
    conn.close().await.unwrap();
    let filled = db.reopen().await.expect("reopening with a gap in the applied migrations");
    assert!(filled.list_risks(None, None).await.unwrap().is_empty(), "the risk tables are back");
    filled.close().await;
    let mut conn = db.raw_connection().await;
    let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM schema_migrations WHERE version = 5")
        .fetch_one(&mut conn)
        .await
        .unwrap()
        .get("n");
    assert_eq!(n, 1);
    conn.close().await.unwrap();

    // A database from a newer anbao is refused rather than misread.
    let known = anbao_store::latest_schema_version();
    let future = known + 1;
    let sql = format!(
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES ({future}, 'future', '2027-01-01T00:00:00.000Z')"
    );
    db.store.execute_raw(&sql).await.unwrap();
    let newer = db.reopen().await;
    assert!(
        matches!(newer, Err(StoreError::SchemaTooNew { found, known: k }) if found == future && k == known),
        "{newer:?}"
    );
}

/// Two processes opening one brand-new SQLite file at once (two `serve`s,
/// or `serve` and `token create`) both succeed: migrations run once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_first_opens_of_one_sqlite_file() {
    for round in 0..10 {
        let dir = tempfile::tempdir().unwrap();
        let url = anbao_store::sqlite_url(&dir.path().join("fresh.db"));
        let key = anbao_store::Sealer::generate_key_hex();
        let opens: Vec<_> = (0..2)
            .map(|_| {
                let (url, key) = (url.clone(), key.clone());
                tokio::spawn(async move {
                    let sealer = anbao_store::Sealer::from_hex(&key).unwrap();
                    anbao_store::Store::open(&url, anbao_store::StoreOptions::new(sealer)).await
                })
            })
            .collect();
        for open in opens {
            let store = open.await.unwrap().unwrap_or_else(|e| panic!("round {round}: {e}"));
            assert_eq!(store.schema_version().await.unwrap(), anbao_store::latest_schema_version());
            store.close().await;
        }
    }
}
