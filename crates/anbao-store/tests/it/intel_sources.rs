//! Remote intelligence sources: sealed passwords that no listing or audit
//! entry shows, validation, cursors kept and reset, and the
//! compare-and-set claim that keeps two nodes from pulling one source at
//! the same time.

use anbao_intel::Category;
use anbao_store::{IntelSourceDraft, IntelSourcePatch, PULL_LEASE, SourceKind, StoreError};
use sqlx::{Connection, Row};
use time::Duration;

use crate::harness::*;

on_both_backends! {
    sources_keep_passwords_sealed_and_out_of_lists_and_audit => sources_keep_passwords_sealed_and_out_of_lists_and_audit_sqlite, sources_keep_passwords_sealed_and_out_of_lists_and_audit_postgres;
    sources_are_validated => sources_are_validated_sqlite, sources_are_validated_postgres;
    updates_reset_the_cursor_when_the_remote_changes => updates_reset_the_cursor_when_the_remote_changes_sqlite, updates_reset_the_cursor_when_the_remote_changes_postgres;
    one_claim_wins_and_schedules_follow_the_interval => one_claim_wins_and_schedules_follow_the_interval_sqlite, one_claim_wins_and_schedules_follow_the_interval_postgres;
}

const SECRET: &str = "s3cret-feed-password";

fn taxii_draft(name: &str) -> IntelSourceDraft {
    let mut d = IntelSourceDraft::new(name, SourceKind::Taxii, "https://taxii.example/api1/");
    d.collection_id = "91a7b528-80eb-42ed-a74d-c6fbd5a26116".into();
    d.username = "reader".into();
    d.password = SECRET.into();
    d.category = Some(Category::BotnetCc);
    d.interval_minutes = 60;
    d
}

async fn sources_keep_passwords_sealed_and_out_of_lists_and_audit(db: TestDb) {
    let store = &db.store;
    let created = store.intel_source_create(&actor("alice"), &taxii_draft("partner")).await.unwrap();
    assert!(created.has_password);
    assert_eq!((created.kind, created.category), (SourceKind::Taxii, Some(Category::BotnetCc)));
    assert_eq!((created.cursor.as_str(), created.last_pull_at, created.last_status.as_str()), ("", None, ""));
    assert_audited(store, "alice", "intel.source.create", "intel_source", created.id).await;

    // Listing and serialising never show the password; the puller can open it.
    let listed = store.intel_sources().await.unwrap();
    assert_eq!(listed, vec![created.clone()]);
    let json = serde_json::to_string(&listed).unwrap();
    assert!(!json.contains(SECRET) && json.contains("\"has_password\":true"), "{json}");
    assert_eq!(store.intel_source_password(created.id).await.unwrap(), SECRET);

    // Stored sealed, not in clear.
    let mut conn = db.raw_connection().await;
    let sealed: String = sqlx::query("SELECT password_sealed FROM intel_sources WHERE id = $1")
        .bind(created.id)
        .fetch_one(&mut conn)
        .await
        .unwrap()
        .get("password_sealed");
    conn.close().await.unwrap();
    assert!(!sealed.is_empty() && !sealed.contains(SECRET), "{sealed}");

    // Found by name, or by id when no source has that name.
    assert_eq!(store.intel_source_find("partner").await.unwrap().id, created.id);
    assert_eq!(store.intel_source_find(&created.id.to_string()).await.unwrap().id, created.id);
    assert_not_found(store.intel_source_find("nobody").await);
    assert_not_found(store.intel_source_find("999999").await);
    assert_conflict(store.intel_source_create(&actor("alice"), &taxii_draft("partner")).await);

    // A password change is audited as a change, without the password.
    let patch = IntelSourcePatch { password: Some("an0ther-one".into()), ..IntelSourcePatch::default() };
    store.intel_source_update(&actor("bob"), created.id, &patch).await.unwrap();
    let entry = assert_audited(store, "bob", "intel.source.update", "intel_source", created.id).await;
    assert_eq!(entry.after.as_ref().unwrap()["password"], "changed");
    assert_eq!(store.intel_source_password(created.id).await.unwrap(), "an0ther-one");
    // Removing it.
    let patch = IntelSourcePatch { password: Some(String::new()), ..IntelSourcePatch::default() };
    assert!(!store.intel_source_update(&actor("bob"), created.id, &patch).await.unwrap().has_password);

    store.intel_source_delete(&actor("carol"), created.id).await.unwrap();
    assert_audited(store, "carol", "intel.source.delete", "intel_source", created.id).await;
    assert_not_found(store.intel_source(created.id).await);
    assert_not_found(store.intel_source_delete(&actor("carol"), created.id).await);

    let log = serde_json::to_string(&audit(store, everything()).await).unwrap();
    assert!(!log.contains(SECRET) && !log.contains("an0ther-one"), "the audit log holds a password: {log}");
}

async fn sources_are_validated(db: TestDb) {
    let store = &db.store;
    let a = actor("alice");
    let with = |f: &dyn Fn(&mut IntelSourceDraft)| {
        let mut d = taxii_draft("x");
        f(&mut d);
        d
    };
    assert_invalid(store.intel_source_create(&a, &with(&|d| d.name = String::new())).await, "name");
    assert_invalid(store.intel_source_create(&a, &with(&|d| d.name = " padded".into())).await, "name");
    assert_invalid(
        store.intel_source_create(&a, &with(&|d| d.url = "https://u:p@taxii.example/api1/".into())).await,
        "url",
    );
    assert_invalid(store.intel_source_create(&a, &with(&|d| d.url = "file:///etc/passwd".into())).await, "url");
    assert_invalid(store.intel_source_create(&a, &with(&|d| d.collection_id = String::new())).await, "collection_id");
    assert_invalid(store.intel_source_create(&a, &with(&|d| d.collection_id = "../x".into())).await, "collection_id");
    assert_invalid(store.intel_source_create(&a, &with(&|d| d.format = "csv".into())).await, "format");
    assert_invalid(store.intel_source_create(&a, &with(&|d| d.format = "list".into())).await, "format");
    assert_invalid(store.intel_source_create(&a, &with(&|d| d.interval_minutes = -1)).await, "interval_minutes");
    assert_invalid(store.intel_source_create(&a, &with(&|d| d.username = "a:b".into())).await, "username");
    assert_invalid(store.intel_source_create(&a, &with(&|d| d.password = "a\nb".into())).await, "password");
    let mut misp = IntelSourceDraft::new("m", SourceKind::MispFeed, "https://misp.example/feed/");
    misp.collection_id = "c".into();
    assert_invalid(store.intel_source_create(&a, &misp).await, "collection_id");
    let mut list = IntelSourceDraft::new("l", SourceKind::Url, "https://lists.example/c2.txt");
    list.format = "hosts".into();
    assert!(store.intel_source_create(&a, &list).await.is_ok());
    assert_eq!(store.intel_sources().await.unwrap().len(), 1, "nothing invalid was stored");
}

async fn updates_reset_the_cursor_when_the_remote_changes(db: TestDb) {
    let store = &db.store;
    let s = store.intel_source_create(&actor("alice"), &taxii_draft("partner")).await.unwrap();
    let s = store.intel_source_claim(&s).await.unwrap().expect("claimed");
    let import_id = store.intel_import_begin(&actor("alice"), "partner", "stix", "test").await.unwrap();
    let s =
        store.intel_source_record_pull(s.id, Some("2026-11-25T09:00:00.123456Z"), "ok", Some(import_id)).await.unwrap();
    assert_eq!(
        (s.cursor.as_str(), s.last_status.as_str(), s.last_import_id),
        ("2026-11-25T09:00:00.123456Z", "ok", Some(import_id))
    );

    // A failed pull keeps the cursor and the last import.
    let s = store.intel_source_record_pull(s.id, None, "failed: HTTP 500", None).await.unwrap();
    assert_eq!((s.cursor.as_str(), s.last_import_id), ("2026-11-25T09:00:00.123456Z", Some(import_id)));
    assert_eq!(s.last_status, "failed: HTTP 500");

    // Changing the schedule keeps it; changing the collection resets it.
    let patch = IntelSourcePatch { interval_minutes: Some(15), enabled: Some(false), ..IntelSourcePatch::default() };
    let s = store.intel_source_update(&actor("alice"), s.id, &patch).await.unwrap();
    assert_eq!((s.interval_minutes, s.enabled, s.cursor.is_empty()), (15, false, false));
    let patch = IntelSourcePatch { collection_id: Some("other-collection".into()), ..IntelSourcePatch::default() };
    let s = store.intel_source_update(&actor("alice"), s.id, &patch).await.unwrap();
    assert_eq!(s.cursor, "", "a cursor of another collection means nothing here");
    let patch = IntelSourcePatch { category: Some(None), ..IntelSourcePatch::default() };
    assert_eq!(store.intel_source_update(&actor("alice"), s.id, &patch).await.unwrap().category, None);

    let other = store.intel_source_create(&actor("alice"), &taxii_draft("second")).await.unwrap();
    let rename = IntelSourcePatch { name: Some("partner".into()), ..IntelSourcePatch::default() };
    assert_conflict(store.intel_source_update(&actor("alice"), other.id, &rename).await);
    let bad = IntelSourcePatch { url: Some("gopher://x".into()), ..IntelSourcePatch::default() };
    assert_invalid(store.intel_source_update(&actor("alice"), other.id, &bad).await, "url");
    assert!(matches!(
        store.intel_source_update(&actor("alice"), 999_999, &IntelSourcePatch::default()).await,
        Err(StoreError::NotFound { .. })
    ));
}

async fn one_claim_wins_and_schedules_follow_the_interval(db: TestDb) {
    let store = &db.store;
    let s = store.intel_source_create(&actor("alice"), &taxii_draft("partner")).await.unwrap();
    assert!(s.is_due(db.now()), "never pulled, on a schedule");

    // Two nodes read the same row; only the first claim takes.
    let node_b = db.reopen().await.unwrap();
    let seen_a = store.intel_source(s.id).await.unwrap();
    let seen_b = node_b.intel_source(s.id).await.unwrap();
    let claimed = store.intel_source_claim(&seen_a).await.unwrap().expect("first claim");
    assert!(node_b.intel_source_claim(&seen_b).await.unwrap().is_none(), "second claim must fail");
    assert_eq!(claimed.last_status, "running");
    assert_eq!(claimed.last_pull_at, Some(db.now()));
    assert!(claimed.is_running(db.now()) && !claimed.is_due(db.now()));
    let fresh = store.intel_source(s.id).await.unwrap();
    assert!(store.intel_source_claim(&fresh).await.unwrap().is_none(), "a running pull is not claimed again");

    let done = store.intel_source_record_pull(s.id, Some("c1"), "ok", None).await.unwrap();
    assert!(!done.is_running(db.now()));
    db.clock.advance(Duration::minutes(59));
    assert!(!store.intel_source(s.id).await.unwrap().is_due(db.now()), "the hour has not passed");
    db.clock.advance(Duration::minutes(1));
    let due = store.intel_source(s.id).await.unwrap();
    assert!(due.is_due(db.now()));

    // Claiming the same state at the same instant twice: one wins.
    let again = node_b.intel_source(s.id).await.unwrap();
    assert!(store.intel_source_claim(&due).await.unwrap().is_some());
    assert!(node_b.intel_source_claim(&again).await.unwrap().is_none());

    // A running pull renews its claim; then the lease counts from there.
    let running = store.intel_source(s.id).await.unwrap();
    db.clock.advance(PULL_LEASE - Duration::seconds(1));
    let renewed = store.intel_source_renew(&running).await.unwrap().expect("still ours");
    assert_eq!(renewed.last_pull_at, Some(db.now()));
    db.clock.advance(Duration::seconds(2));
    assert!(store.intel_source(s.id).await.unwrap().is_running(db.now()), "renewed, so still running");
    assert!(store.intel_source_renew(&running).await.unwrap().is_none(), "a stale view renews nothing");

    // A pull left running by a dead process is claimable after the lease.
    let stuck = store.intel_source(s.id).await.unwrap();
    assert!(stuck.is_running(db.now()));
    db.clock.advance(PULL_LEASE);
    let stale = store.intel_source(s.id).await.unwrap();
    assert!(!stale.is_running(db.now()), "the claim lapsed");
    let taken = store.intel_source_claim(&stale).await.unwrap().expect("claimed after the lease");
    assert!(store.intel_source_renew(&renewed).await.unwrap().is_none(), "the dead claim is lost");
    db.clock.advance(Duration::seconds(5));
    let done = store.intel_source_record_pull(s.id, None, "ok", None).await.unwrap();
    assert_eq!(done.last_pull_at, Some(db.now()), "the end of the pull is when it was last pulled");
    assert!(done.last_pull_at > taken.last_pull_at);

    // Disabled or on-demand sources are never due.
    let patch = IntelSourcePatch { enabled: Some(false), ..IntelSourcePatch::default() };
    store.intel_source_record_pull(s.id, None, "ok", None).await.unwrap();
    let off = store.intel_source_update(&actor("alice"), s.id, &patch).await.unwrap();
    db.clock.advance(Duration::days(1));
    assert!(!off.is_due(db.now()));
    let mut manual = taxii_draft("manual");
    manual.interval_minutes = 0;
    let manual = store.intel_source_create(&actor("alice"), &manual).await.unwrap();
    assert!(!manual.is_due(db.now()));
    node_b.close().await;
}
