//! The hash-chained audit log: reading with filters, verifying, and
//! noticing tampering done directly in the database.

use anbao_model::audit::ChainBreak;
use anbao_model::{OrgKind, Role};
use anbao_store::{AuditEntry, AuditFilter, NewToken, UserPatch};
use serde_json::json;

use crate::harness::*;

on_both_backends! {
    audit_log_filters => audit_log_filters_sqlite, audit_log_filters_postgres;
    altered_entry_is_detected => altered_entry_is_detected_sqlite, altered_entry_is_detected_postgres;
    deleted_entry_is_detected => deleted_entry_is_detected_sqlite, deleted_entry_is_detected_postgres;
}

/// What `history` made, for the assertions.
struct History {
    guangdong: i64,
    jiangsu: i64,
    zhang: i64,
    entries: i64,
}

/// Ten changes by two administrators in two provinces.
async fn history(db: &TestDb) -> History {
    let store = &db.store;
    let (alice, bob) = (actor("alice"), actor("bob"));
    let root = create_root(store).await; // 1, alice
    let guangdong = create_unit(store, Some(root.id), "广东公司", OrgKind::Province).await.id; // 2
    let jiangsu = create_unit(store, Some(root.id), "江苏公司", OrgKind::Province).await.id; // 3
    let zhang = create_user(store, "zhang.wei", Role::Analyst, guangdong).await.id; // 4
    store.create_user(&bob, &new_user("li.na", Role::Responder, jiangsu)).await.unwrap(); // 5
    let rename = UserPatch { display_name: Some("张伟".into()), ..UserPatch::default() };
    store.update_user(&bob, zhang, &rename).await.unwrap(); // 6
    let token = NewToken { name: "siem".into(), role: Role::Analyst, org_unit_id: jiangsu, expires_at: None };
    store.create_token(&alice, &token).await.unwrap(); // 7
    store.set_password(&alice, zhang, "another fine passphrase", true).await.unwrap(); // 8
    store.audit_event(&bob, "audit.export", "audit_log", "", None, Some(&json!({ "rows": 7 }))).await.unwrap(); // 9
    store.update_user(&alice, zhang, &UserPatch { org_unit_id: Some(jiangsu), ..UserPatch::default() }).await.unwrap(); // 10
    History { guangdong, jiangsu, zhang, entries: 10 }
}

fn seqs(entries: &[AuditEntry]) -> Vec<i64> {
    entries.iter().map(|e| e.seq).collect()
}

async fn audit_log_filters(db: TestDb) {
    let store = &db.store;
    let h = history(&db).await;
    let all = audit(store, everything()).await;
    assert_eq!(seqs(&all), (1..=h.entries).rev().collect::<Vec<_>>(), "newest first, no gaps");
    assert_chain_intact(store, h.entries).await;
    let verification = store.verify_audit().await.unwrap();
    assert_eq!(verification.head_hash, all[0].hash);

    let export = &all[1];
    assert_eq!((export.actor.as_str(), export.action.as_str(), export.org_unit_id), ("bob", "audit.export", None));
    assert_eq!(
        (export.actor_role.as_str(), export.channel.as_str(), export.source_ip.as_str()),
        ("admin", "api", "192.0.2.1")
    );
    assert_eq!((export.before.clone(), export.after.clone()), (None, Some(json!({ "rows": 7 }))));
    assert_eq!(export.at, "2026-11-25T09:00:00.000Z");

    let by_bob = audit(store, AuditFilter { actor: Some("bob".into()), ..everything() }).await;
    assert_eq!(seqs(&by_bob), [9, 6, 5]);

    let user_actions = audit(store, AuditFilter { action: Some("user.".into()), ..everything() }).await;
    assert_eq!(seqs(&user_actions), [10, 8, 6, 5, 4]);
    let creations = audit(store, AuditFilter { action: Some("user.create".into()), ..everything() }).await;
    assert_eq!(seqs(&creations), [5, 4]);
    assert!(
        audit(store, AuditFilter { action: Some("user".into()), ..everything() }).await.is_empty(),
        "no dot, no prefix match"
    );

    let about_zhang =
        AuditFilter { object_type: Some("user".into()), object_id: Some(h.zhang.to_string()), ..everything() };
    let about_zhang = audit(store, about_zhang).await;
    assert_eq!(seqs(&about_zhang), [10, 8, 6, 4]);
    assert_eq!(about_zhang[0].before.as_ref().unwrap()["org_unit_id"], h.guangdong);
    assert_eq!(about_zhang[0].after.as_ref().unwrap()["org_unit_id"], h.jiangsu);

    // Scope: entries about units the reader may see, and none that are not tied to a unit.
    let in_jiangsu = audit(store, AuditFilter { org_units: Some(vec![h.jiangsu]), ..everything() }).await;
    assert_eq!(seqs(&in_jiangsu), [10, 7, 5, 3]);
    let in_guangdong = audit(store, AuditFilter { org_units: Some(vec![h.guangdong]), ..everything() }).await;
    assert_eq!(seqs(&in_guangdong), [8, 6, 4, 2]);
    assert!(audit(store, AuditFilter { org_units: Some(vec![]), ..everything() }).await.is_empty());

    // Paging back from the newest, three at a time, yields the whole log once.
    let mut pages = Vec::new();
    let mut before_seq = None;
    loop {
        let page = audit(store, AuditFilter { limit: 3, before_seq, ..AuditFilter::default() }).await;
        assert!(page.len() <= 3);
        let Some(last) = page.last() else { break };
        before_seq = Some(last.seq);
        pages.extend(page);
    }
    assert_eq!(pages, all);
    let combined = AuditFilter {
        actor: Some("alice".into()),
        action: Some("user.".into()),
        before_seq: Some(10),
        limit: 1,
        ..AuditFilter::default()
    };
    assert_eq!(seqs(&audit(store, combined).await), [8]);

    let mut window = everything();
    window.since = Some("2026-11-25T09:00:00.000Z".into());
    window.until = Some("2026-11-25T09:00:00.001Z".into());
    assert_eq!(audit(store, window.clone()).await.len() as i64, h.entries);
    window.since = window.until.take();
    assert!(audit(store, window).await.is_empty());
    // Bounds compare as instants whatever their form: offset, no fraction, a date.
    for since in ["2026-11-25T09:00:00Z", "2026-11-25T17:00:00+08:00", "2026-11-25"] {
        let from = AuditFilter { since: Some(since.into()), ..everything() };
        assert_eq!(audit(store, from).await.len() as i64, h.entries, "since {since}");
    }
    let until = AuditFilter { until: Some("2026-11-25T17:00:00+08:00".into()), ..everything() };
    assert!(audit(store, until).await.is_empty());
    assert_invalid(store.list_audit(&AuditFilter { since: Some("yesterday".into()), ..everything() }).await, "since");

    // The dashboard's entries per day, oldest day first.
    db.clock.advance(time::Duration::days(1));
    store.audit_event(&actor("bob"), "audit.export", "audit_log", "", None, None).await.unwrap();
    let per_day = store.audit_per_day(3).await.unwrap();
    let expected = [("2026-11-24", 0), ("2026-11-25", h.entries), ("2026-11-26", 1)].map(|(d, n)| (d.to_owned(), n));
    assert_eq!(per_day, expected);
}

/// Builds a history, shows that `tamper` is refused while the append-only
/// triggers stand, lifts them, tampers, and expects `expected`.
async fn tamper_and_verify(db: &TestDb, tamper: &str, expected: ChainBreak, good_entries: i64) {
    let store = &db.store;
    let h = history(db).await;
    assert_chain_intact(store, h.entries).await;

    let refused = store.execute_raw(tamper).await;
    assert!(refused.is_err(), "the append-only trigger must refuse {tamper:?}, got {refused:?}");
    assert_chain_intact(store, h.entries).await;

    db.drop_audit_triggers().await;
    assert_eq!(store.execute_raw(tamper).await.unwrap(), 1, "{tamper:?} changes one row");
    let v = store.verify_audit().await.unwrap();
    assert!(!v.intact());
    assert_eq!(v.first_break, Some(expected));
    assert_eq!((v.checked, v.head_seq), (good_entries as u64, good_entries), "the good part before the break");
    let head =
        audit(store, AuditFilter { limit: 1, before_seq: Some(good_entries + 1), ..AuditFilter::default() }).await;
    assert_eq!(v.head_hash, head[0].hash);
}

async fn altered_entry_is_detected(db: TestDb) {
    let sql = "UPDATE audit_log SET actor = 'mallory' WHERE seq = 6";
    tamper_and_verify(&db, sql, ChainBreak::Altered { seq: 6 }, 5).await;
}

async fn deleted_entry_is_detected(db: TestDb) {
    let sql = "DELETE FROM audit_log WHERE seq = 6";
    tamper_and_verify(&db, sql, ChainBreak::Deleted { prev: 5, found: 7 }, 5).await;
}
