//! TAXII 2.1 collections: their roles and publish filters, objects stored
//! per id and version with a strictly increasing `date_added`, filters and
//! paging that never skip or repeat, status resources, deletes, and one
//! audit entry per envelope or change.

use std::collections::HashSet;

use anbao_model::Role;
use anbao_store::{
    CollectionDraft, CollectionPatch, ObjectFilter, PublishFilter, StoreError, TaxiiCollection, VersionMatch,
    parse_timestamp,
};
use serde_json::{Value, json};
use time::Duration;

use crate::harness::*;

on_both_backends! {
    collections_keep_roles_aliases_and_publish_filters => collections_keep_roles_aliases_and_publish_filters_sqlite, collections_keep_roles_aliases_and_publish_filters_postgres;
    date_added_strictly_increases_and_paging_never_skips_or_repeats => date_added_strictly_increases_and_paging_never_skips_or_repeats_sqlite, date_added_strictly_increases_and_paging_never_skips_or_repeats_postgres;
    versions_and_match_filters_select_the_right_rows => versions_and_match_filters_select_the_right_rows_sqlite, versions_and_match_filters_select_the_right_rows_postgres;
    statuses_record_failures_duplicates_and_one_audit_entry => statuses_record_failures_duplicates_and_one_audit_entry_sqlite, statuses_record_failures_duplicates_and_one_audit_entry_postgres;
    deletes_remove_selected_versions_and_collections_take_their_objects => deletes_remove_selected_versions_and_collections_take_their_objects_sqlite, deletes_remove_selected_versions_and_collections_take_their_objects_postgres;
}

fn draft(title: &str) -> CollectionDraft {
    CollectionDraft {
        title: title.into(),
        description: "shared with the sector CERT".into(),
        alias: None,
        can_read: vec![Role::Admin, Role::Analyst, Role::Regulator],
        can_write: vec![Role::Analyst],
        publish: None,
    }
}

async fn collection(db: &TestDb, title: &str) -> TaxiiCollection {
    db.store.taxii_create_collection(&actor("alice"), &draft(title)).await.expect("create collection")
}

const UUIDS: [&str; 4] = [
    "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
    "c7e3a1a0-2f6b-4d7e-9b1a-5e1d2c3b4a59",
    "0f1e2d3c-4b5a-4697-8887-9a0b1c2d3e4f",
    "5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d",
];

/// `n` distinct indicators, numbered from `start`.
fn indicators(start: usize, n: usize) -> Vec<Value> {
    (start..start + n)
        .map(|i| {
            json!({
                "type": "indicator", "spec_version": "2.1",
                "id": format!("indicator--{:08x}-0000-4000-8000-{:012x}", i, i),
                "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
                "pattern": format!("[ipv4-addr:value = '198.51.100.{}']", i % 250), "pattern_type": "stix",
                "valid_from": "2026-01-01T00:00:00Z",
            })
        })
        .collect()
}

fn version_of(id: &str, modified: &str) -> Value {
    json!({"type": "malware", "spec_version": "2.1", "id": format!("malware--{id}"), "name": "Mirai",
           "is_family": true, "created": "2025-01-01T00:00:00.000Z", "modified": modified})
}

async fn collections_keep_roles_aliases_and_publish_filters(db: TestDb) {
    let store = &db.store;
    let alice = actor("alice");
    let mut d = draft("高置信度 C2");
    d.alias = Some("c2-high".into());
    d.can_read = vec![Role::Regulator, Role::Analyst, Role::Analyst];
    d.publish = Some(PublishFilter::parse(&["botnet_cc".into()], Some("green")).unwrap());
    let c = store.taxii_create_collection(&alice, &d).await.unwrap();
    assert_eq!(c.id.len(), 36, "a UUID: {}", c.id);
    assert_eq!(c.can_read, vec![Role::Analyst, Role::Regulator], "deduplicated, in role order");
    assert!(c.readable_by(Role::Regulator) && !c.readable_by(Role::Responder));
    assert!(c.writable_by(Role::Analyst) && !c.writable_by(Role::Admin));
    assert_eq!(c.publish, d.publish);
    assert_audited(store, "alice", "taxii.collection.create", "taxii_collection", &c.id).await;

    assert_eq!(store.taxii_collection("c2-high").await.unwrap(), c, "found by alias");
    assert_eq!(store.taxii_collection(&c.id).await.unwrap(), c, "and by id");
    assert_not_found(store.taxii_collection("nope").await);

    let mut reader_writes = draft("x");
    reader_writes.can_write = vec![Role::Auditor];
    assert_invalid(store.taxii_create_collection(&alice, &reader_writes).await, "can_write");
    let mut bad_alias = draft("x");
    bad_alias.alias = Some("has space".into());
    assert_invalid(store.taxii_create_collection(&alice, &bad_alias).await, "alias");
    assert_invalid(store.taxii_create_collection(&alice, &draft("  ")).await, "title");
    let mut same_alias = draft("another");
    same_alias.alias = Some("c2-high".into());
    assert_conflict(store.taxii_create_collection(&alice, &same_alias).await);

    db.clock.advance(Duration::minutes(5));
    let patch = CollectionPatch {
        title: Some("C2 (high confidence)".into()),
        alias: Some(None),
        can_write: Some(vec![Role::Admin, Role::Responder]),
        publish: Some(None),
        ..CollectionPatch::default()
    };
    let changed = store.taxii_update_collection(&actor("bob"), &c.id, &patch).await.unwrap();
    assert_eq!(changed.title, "C2 (high confidence)");
    assert_eq!(changed.alias, None);
    assert_eq!(changed.can_read, c.can_read, "untouched fields stay");
    assert_eq!(changed.can_write, vec![Role::Admin, Role::Responder]);
    assert_eq!(changed.publish, None);
    assert!(changed.updated_at > c.updated_at);
    let entry = assert_audited(store, "bob", "taxii.collection.update", "taxii_collection", &c.id).await;
    assert_eq!(entry.before.as_ref().map(|b| b["alias"].clone()), Some(json!("c2-high")));
    assert_not_found(store.taxii_update_collection(&alice, "nope", &patch).await);
    let no_readers = CollectionPatch { can_write: Some(vec![Role::Regulator]), ..CollectionPatch::default() };
    assert_invalid(store.taxii_update_collection(&alice, &c.id, &no_readers).await, "can_write");

    let second = collection(&db, "second").await;
    let all: Vec<String> = store.taxii_collections().await.unwrap().into_iter().map(|c| c.id).collect();
    assert_eq!(all, vec![c.id.clone(), second.id.clone()]);
    assert_chain_intact(store, 3).await;
}

async fn date_added_strictly_increases_and_paging_never_skips_or_repeats(db: TestDb) {
    let store = &db.store;
    let alice = actor("alice");
    let c = collection(&db, "feed").await;
    // The clock stands still: stamps must still increase.
    for envelope in 0..3 {
        let status = store.taxii_add_objects(&alice, &c.id, &indicators(envelope * 10, 10)).await.unwrap();
        assert_eq!((status.success_count, status.failure_count), (10, 0), "{status:?}");
    }
    let all = store.taxii_objects(&c.id, &ObjectFilter::default(), 1000, true).await.unwrap();
    assert_eq!(all.objects.len(), 30);
    assert!(!all.more);
    for pair in all.objects.windows(2) {
        assert!(pair[0].date_added < pair[1].date_added, "{} then {}", pair[0].date_added, pair[1].date_added);
    }
    let first = &all.objects[0];
    assert_eq!(first.date_added.len(), "2026-11-25T09:00:00.000000Z".len(), "{}", first.date_added);
    assert_eq!(first.date_added, "2026-11-25T09:00:00.000000Z", "the store's clock, to the microsecond");
    let body: Value = serde_json::from_str(&first.body).unwrap();
    assert_eq!(body["id"], first.stix_id.as_str());

    // Page by "after the last date_added seen", seven at a time.
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let filter = ObjectFilter { added_after: after, ..ObjectFilter::default() };
        let page = store.taxii_objects(&c.id, &filter, 7, false).await.unwrap();
        assert!(page.objects.iter().all(|o| o.body.is_empty()), "metadata only");
        seen.extend(page.objects.iter().map(|o| o.stix_id.clone()));
        let Some(last) = page.objects.last() else { break };
        after = parse_timestamp(&last.date_added);
        if !page.more {
            break;
        }
    }
    assert_eq!(seen.len(), 30);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 30, "no object twice");

    // Deleting the newest object, or a clock that steps back, must not let
    // a new object be stamped at or before one a client has already seen.
    let newest = all.objects.last().unwrap().clone();
    let deleted = store.taxii_delete_object(&alice, &c.id, &newest.stix_id, &[], &[]).await.unwrap();
    assert_eq!(deleted, 1);
    db.clock.advance(Duration::hours(-1));
    store.taxii_add_objects(&alice, &c.id, &indicators(100, 2)).await.unwrap();
    let after_newest = ObjectFilter { added_after: parse_timestamp(&newest.date_added), ..ObjectFilter::default() };
    let page = store.taxii_objects(&c.id, &after_newest, 100, false).await.unwrap();
    assert_eq!(page.objects.len(), 2, "both new objects come after everything seen before");

    // Two nodes adding at once still stamp distinct, increasing times: the
    // second waits for the first's write lock and starts after its rows.
    let node_b = db.reopen().await.unwrap();
    tokio::join!(
        async {
            for n in 0..4 {
                store.taxii_add_objects(&alice, &c.id, &indicators(200 + n * 10, 10)).await.unwrap();
            }
        },
        async {
            for n in 0..4 {
                node_b.taxii_add_objects(&actor("bob"), &c.id, &indicators(300 + n * 10, 10)).await.unwrap();
            }
        }
    );
    let all = store.taxii_objects(&c.id, &ObjectFilter::default(), 1000, false).await.unwrap();
    assert_eq!(all.objects.len(), 29 + 2 + 80);
    let stamps: HashSet<&str> = all.objects.iter().map(|o| o.date_added.as_str()).collect();
    assert_eq!(stamps.len(), all.objects.len(), "every row has its own date_added");
    node_b.close().await;

    // Another collection has its own sequence and sees none of these.
    let other = collection(&db, "other").await;
    assert!(store.taxii_objects(&other.id, &ObjectFilter::default(), 10, false).await.unwrap().objects.is_empty());
}

async fn versions_and_match_filters_select_the_right_rows(db: TestDb) {
    let store = &db.store;
    let alice = actor("alice");
    let c = collection(&db, "versions").await;
    let [a, b, ..] = UUIDS;
    // Versions of one object arrive out of order.
    let envelope = vec![
        version_of(a, "2026-02-01T00:00:00.000Z"),
        version_of(a, "2026-03-01T00:00:00.000Z"),
        version_of(a, "2026-01-01T00:00:00.000Z"),
        version_of(b, "2026-01-15T00:00:00.000Z"),
        json!({"type": "ipv4-addr", "id": "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd", "value": "198.51.100.3"}),
    ];
    let status = store.taxii_add_objects(&alice, &c.id, &envelope).await.unwrap();
    assert_eq!(status.success_count, 5, "{status:?}");
    let ip_version = status.successes[4].version.clone().unwrap();
    assert!(ip_version.ends_with('Z') && ip_version.len() == 27, "unversioned: the date added, {ip_version}");

    let query = |filter: ObjectFilter| versions(store, &c.id, filter);
    let ma = format!("malware--{a}");
    let mb = format!("malware--{b}");
    let last = query(ObjectFilter::default()).await;
    assert_eq!(
        last,
        vec![
            (ma.clone(), "2026-03-01T00:00:00.000Z".to_owned()),
            (mb.clone(), "2026-01-15T00:00:00.000Z".to_owned()),
            ("ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd".to_owned(), ip_version.clone()),
        ],
        "by default the last version of each, in date_added order"
    );
    let first =
        query(ObjectFilter { versions: vec![VersionMatch::First], ids: vec![ma.clone()], ..Default::default() });
    assert_eq!(first.await, vec![(ma.clone(), "2026-01-01T00:00:00.000Z".to_owned())]);
    let all = query(ObjectFilter { versions: vec![VersionMatch::All], ids: vec![ma.clone()], ..Default::default() });
    assert_eq!(all.await.len(), 3);
    let both_ends = ObjectFilter {
        versions: vec![VersionMatch::First, VersionMatch::Last],
        types: vec!["malware".into()],
        ..Default::default()
    };
    assert_eq!(query(both_ends).await.len(), 3, "first and last of a, the only version of b");
    // A version given at another precision and offset is the same instant.
    let at = parse_timestamp("2026-02-01T08:00:00.000000+08:00").unwrap();
    let exact = query(ObjectFilter { versions: vec![VersionMatch::At(at)], ..Default::default() });
    assert_eq!(exact.await, vec![(ma.clone(), "2026-02-01T00:00:00.000Z".to_owned())]);
    let types = query(ObjectFilter { types: vec!["ipv4-addr".into(), "tool".into()], ..Default::default() });
    assert_eq!(types.await.len(), 1);
    let stix20 = query(ObjectFilter { spec_versions: vec!["2.0".into()], ..Default::default() });
    assert!(stix20.await.is_empty(), "every stored object is STIX 2.1");
    let stix21 = query(ObjectFilter { spec_versions: vec!["2.1".into()], ..Default::default() });
    assert_eq!(stix21.await.len(), 3);
    assert!(store.taxii_object_exists(&c.id, &ma).await.unwrap());
    assert!(!store.taxii_object_exists(&c.id, "malware--00000000-0000-4000-8000-000000000000").await.unwrap());
    let too_many = ObjectFilter { ids: vec!["x".into(); 1001], ..Default::default() };
    assert_invalid(store.taxii_objects(&c.id, &too_many, 10, false).await, "match[id]");
}

async fn versions(store: &anbao_store::Store, collection: &str, filter: ObjectFilter) -> Vec<(String, String)> {
    let page = store.taxii_objects(collection, &filter, 100, true).await.unwrap();
    page.objects.into_iter().map(|o| (o.stix_id, o.version)).collect()
}

async fn statuses_record_failures_duplicates_and_one_audit_entry(db: TestDb) {
    let store = &db.store;
    let alice = actor("alice");
    let c = collection(&db, "status").await;
    let audit_before = store.count_audit().await.unwrap();
    let [a, ..] = UUIDS;
    let envelope = vec![
        version_of(a, "2026-02-01T00:00:00.000Z"),
        version_of(a, "2026-02-01T00:00:00.000Z"),
        json!({"type": "indicator", "spec_version": "2.1", "pattern": "[x]"}),
        json!({"type": "indicator", "spec_version": "2.0", "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"}),
        json!("just a string"),
    ];
    let status = store.taxii_add_objects(&alice, &c.id, &envelope).await.unwrap();
    assert_eq!(status.status, "complete");
    assert_eq!(
        (status.total_count, status.success_count, status.failure_count, status.pending_count),
        (5, 2, 3, 0),
        "{status:?}"
    );
    assert_eq!(status.successes[1].message.as_deref(), Some("this version is already in the collection"));
    assert_eq!(status.failures[0].id, "objects[2]", "no id: named by its place");
    assert!(status.failures[0].message.as_deref().is_some_and(|m| m.contains("\"id\"")));
    assert_eq!(status.failures[1].id, "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f");
    assert!(status.failures[1].message.as_deref().is_some_and(|m| m.contains("2.0")), "{:?}", status.failures[1]);
    assert_eq!(status.failures[2].id, "objects[4]");
    assert_eq!(status.request_timestamp, "2026-11-25T09:00:00.000000Z");
    assert_eq!(store.taxii_status(&status.id).await.unwrap(), status, "stored as returned");
    assert_not_found(store.taxii_status("00000000-0000-4000-8000-000000000000").await);

    let page = store.taxii_objects(&c.id, &ObjectFilter::default(), 10, false).await.unwrap();
    assert_eq!(page.objects.len(), 1, "the duplicate is stored once");
    let entry = assert_audited(store, "alice", "taxii.objects.add", "taxii_collection", &c.id).await;
    assert_eq!(entry.after.as_ref().map(|a| a["status_id"].clone()), Some(json!(status.id)));
    assert_eq!(store.count_audit().await.unwrap(), audit_before + 1, "one entry per envelope");

    // Adding the same version again later is a success, not a new row.
    let again = store.taxii_add_objects(&alice, &c.id, &[version_of(a, "2026-02-01T00:00:00.000Z")]).await.unwrap();
    assert_eq!(again.success_count, 1);
    assert_eq!(store.taxii_objects(&c.id, &ObjectFilter::default(), 10, false).await.unwrap().objects.len(), 1);

    // Statuses are kept for a week, then pruned by later adds.
    db.clock.advance(anbao_store::STATUS_RETENTION + Duration::minutes(1));
    let later = store.taxii_add_objects(&alice, &c.id, &[]).await.unwrap();
    assert_not_found(store.taxii_status(&status.id).await);
    assert_eq!(store.taxii_status(&later.id).await.unwrap(), later);
    assert!(matches!(
        store.taxii_add_objects(&alice, "no-such-collection", &[]).await,
        Err(StoreError::NotFound { .. })
    ));
}

async fn deletes_remove_selected_versions_and_collections_take_their_objects(db: TestDb) {
    let store = &db.store;
    let alice = actor("alice");
    let c = collection(&db, "delete").await;
    let [a, b, ..] = UUIDS;
    let ma = format!("malware--{a}");
    let envelope = vec![
        version_of(a, "2026-01-01T00:00:00.000Z"),
        version_of(a, "2026-02-01T00:00:00.000Z"),
        version_of(a, "2026-03-01T00:00:00.000Z"),
        version_of(b, "2026-01-01T00:00:00.000Z"),
    ];
    let status = store.taxii_add_objects(&alice, &c.id, &envelope).await.unwrap();
    let n = store.taxii_delete_object(&alice, &c.id, &ma, &[VersionMatch::Last], &[]).await.unwrap();
    assert_eq!(n, 1);
    let entry = assert_audited(store, "alice", "taxii.object.delete", "taxii_collection", &c.id).await;
    assert_eq!(entry.before.as_ref().map(|b| b["versions"].clone()), Some(json!(["2026-03-01T00:00:00.000Z"])));
    let last = versions(store, &c.id, ObjectFilter { ids: vec![ma.clone()], ..Default::default() }).await;
    assert_eq!(last[0].1, "2026-02-01T00:00:00.000Z", "the previous version is now last");
    let audit = store.count_audit().await.unwrap();
    let none = store.taxii_delete_object(&alice, &c.id, &ma, &[], &["2.0".into()]).await.unwrap();
    assert_eq!(none, 0);
    assert_eq!(store.count_audit().await.unwrap(), audit, "nothing deleted, nothing audited");
    assert_eq!(store.taxii_delete_object(&alice, &c.id, &ma, &[], &[]).await.unwrap(), 2, "all remaining versions");
    assert!(!store.taxii_object_exists(&c.id, &ma).await.unwrap());

    store.taxii_delete_collection(&actor("bob"), &c.id).await.unwrap();
    let entry = assert_audited(store, "bob", "taxii.collection.delete", "taxii_collection", &c.id).await;
    assert_eq!(entry.before.as_ref().map(|b| b["objects"].clone()), Some(json!(1)));
    assert_not_found(store.taxii_collection(&c.id).await);
    assert_not_found(store.taxii_status(&status.id).await);
    assert_not_found(store.taxii_delete_collection(&alice, &c.id).await);
    assert!(store.taxii_object_counts().await.unwrap().is_empty());
    assert_chain_intact(store, store.count_audit().await.unwrap()).await;
}
