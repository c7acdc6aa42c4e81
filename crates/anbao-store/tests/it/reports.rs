//! Regulator reports: immutable snapshots of an incident with their SHA-256,
//! the deadline judged from the first report, final reports refused until
//! root cause and lessons are known, submissions with their outcome,
//! registered senders and received reports (idempotent by report uid).

use anbao_model::incident::{IncidentFacts, IncidentRules, IncidentType, OperatorCategory};
use anbao_model::report::{IncidentReport, ReportKind, ReportingOrganisation, key_id_of};
use anbao_store::{IncidentDraft, StoreError};
use time::Duration;

use crate::harness::*;

on_both_backends! {
    reports_snapshot_the_incident_and_record_submissions => reports_snapshot_the_incident_and_record_submissions_sqlite, reports_snapshot_the_incident_and_record_submissions_postgres;
    senders_and_received_reports => senders_and_received_reports_sqlite, senders_and_received_reports_postgres;
    inbound_rate_limit_is_a_shared_token_bucket_per_key => inbound_rate_limit_is_a_shared_token_bucket_per_key_sqlite, inbound_rate_limit_is_a_shared_token_bucket_per_key_postgres;
}

fn rules() -> &'static IncidentRules {
    IncidentRules::builtin().expect("shipped rules")
}

fn org() -> ReportingOrganisation {
    ReportingOrganisation { name: "某省电信".into(), category: OperatorCategory::Cii }
}

async fn reports_snapshot_the_incident_and_record_submissions(db: TestDb) {
    let store = &db.store;
    let root = create_root(store).await;
    let draft = IncidentDraft {
        org_unit_id: root.id,
        incident_type: IncidentType::DataLeak,
        title: "用户信息泄露".into(),
        summary: "接口未鉴权".into(),
        facts: IncidentFacts { records_leaked: 1_000_000, ..Default::default() },
        operator_category: OperatorCategory::Cii,
        discovered_at: db.now() - Duration::minutes(20),
    };
    let bob = actor("bob");
    let i = store.create_incident(&bob, &draft, rules()).await.unwrap();
    store.add_incident_entry(&bob, i.id, None, "封堵接口").await.unwrap();

    // Initial report 30 minutes after discovery: within the CII hour.
    db.clock.advance(Duration::minutes(10));
    let first = store.create_incident_report(&bob, i.id, ReportKind::Initial, &org(), rules()).await.unwrap();
    assert_eq!(first.sha256, hex::encode(<sha2::Sha256 as sha2::Digest>::digest(first.body.as_bytes())));
    let e = assert_audited(store, "bob", "incident.report", "incident", i.id).await;
    assert_eq!(e.after.as_ref().unwrap()["sha256"], first.sha256.as_str());
    let report = IncidentReport::parse(first.body.as_bytes()).unwrap();
    assert_eq!(report.kind, ReportKind::Initial);
    assert_eq!(report.incident.title, "用户信息泄露");
    assert_eq!(report.level.level.as_str(), "III");
    assert_eq!(report.level.criterion.as_ref().map(|c| c.article.as_str()), Some("Plan 3.3(3)"));
    assert_eq!((report.deadline.within_minutes, report.deadline.met), (Some(60), Some(true)));
    assert_eq!(report.impact.records_leaked, 1_000_000);
    assert!(report.actions.iter().any(|a| a.entry == "封堵接口" && a.kind == "manual"), "{:?}", report.actions);
    assert_eq!(report.organisation, org());

    // A final report needs root cause and lessons.
    assert_invalid(store.create_incident_report(&bob, i.id, ReportKind::Final, &org(), rules()).await, "root_cause");
    store.set_incident_review(&bob, i.id, "弱口令", "").await.unwrap();
    assert_audited(store, "bob", "incident.review", "incident", i.id).await;
    assert_invalid(store.create_incident_report(&bob, i.id, ReportKind::Final, &org(), rules()).await, "lessons");
    store.set_incident_review(&bob, i.id, "弱口令", "上线前检查鉴权").await.unwrap();
    // Two hours later: the deadline is still judged by the first report.
    db.clock.advance(Duration::hours(2));
    let last = store.create_incident_report(&bob, i.id, ReportKind::Final, &org(), rules()).await.unwrap();
    let final_report = IncidentReport::parse(last.body.as_bytes()).unwrap();
    assert_eq!((final_report.root_cause.as_str(), final_report.lessons.as_str()), ("弱口令", "上线前检查鉴权"));
    assert_eq!(final_report.deadline.met, Some(true));
    assert_eq!(final_report.deadline.first_report_at.as_deref(), Some(first.created_at.as_str()));
    // Generating the initial report is itself on the timeline.
    assert!(final_report.actions.iter().any(|a| a.entry.starts_with(&format!("initial report #{}", first.id))));
    assert_ne!(first.report_uid, last.report_uid);

    assert_eq!(store.first_report_times().await.unwrap(), vec![(i.id, first.created_at.clone())]);
    let listed = store.incident_reports(i.id).await.unwrap();
    assert_eq!(listed.iter().map(|r| r.id).collect::<Vec<_>>(), vec![first.id, last.id]);
    assert_eq!(store.get_incident_report(first.id).await.unwrap(), first);
    assert_not_found(store.get_incident_report(9999).await);
    assert_not_found(store.create_incident_report(&bob, 9999, ReportKind::Initial, &org(), rules()).await);

    // Stored reports cannot be changed, even with direct SQL.
    let tamper = store.execute_raw(&format!("UPDATE incident_reports SET body = 'x' WHERE id = {}", first.id)).await;
    assert!(tamper.is_err(), "an UPDATE of a report must be refused");
    assert!(store.execute_raw("DELETE FROM incident_reports").await.is_err());
    assert_eq!(store.get_incident_report(first.id).await.unwrap().body, first.body);

    // Submissions with their outcome, audited.
    let s = store
        .record_report_submission(&bob, first.id, "https://regulator.example/in", "accepted", Some(201), "")
        .await
        .unwrap();
    assert_eq!((s.outcome.as_str(), s.http_status), ("accepted", Some(201)));
    let e = assert_audited(store, "bob", "incident.report_submit", "incident", i.id).await;
    assert_eq!(e.after.as_ref().unwrap()["recipient"], "https://regulator.example/in");
    store
        .record_report_submission(&bob, first.id, "https://regulator.example/in", "failed", None, "connection refused")
        .await
        .unwrap();
    assert_invalid(store.record_report_submission(&bob, first.id, "x", "maybe", None, "").await, "outcome");
    let subs = store.report_submissions(first.id).await.unwrap();
    assert_eq!(subs.iter().map(|s| s.outcome.as_str()).collect::<Vec<_>>(), ["accepted", "failed"]);
    assert_eq!(subs[1].error, "connection refused");
    assert!(store.report_submissions(last.id).await.unwrap().is_empty());
    let v = store.verify_audit().await.unwrap();
    assert!(v.intact());
}

async fn senders_and_received_reports(db: TestDb) {
    let store = &db.store;
    let root = create_root(store).await;
    let admin = actor("admin");
    let key = [7u8; 32];
    let key_hex = hex::encode(key);
    assert_invalid(store.add_report_sender(&admin, "某省公司", "abcd").await, "public_key");
    assert_invalid(store.add_report_sender(&admin, "", &key_hex).await, "name");
    let sender = store.add_report_sender(&admin, "某省公司", &key_hex.to_uppercase()).await.unwrap();
    assert_eq!((sender.key_id.clone(), sender.public_key.clone()), (key_id_of(&key), key_hex.clone()));
    assert_audited(store, "admin", "report_sender.create", "report_sender", sender.id).await;
    assert_conflict(store.add_report_sender(&admin, "另一个名字", &key_hex).await);
    assert_conflict(store.add_report_sender(&admin, "某省公司", &hex::encode([8u8; 32])).await);
    assert_eq!(store.report_sender_by_key_id(&sender.key_id).await.unwrap(), Some(sender.clone()));
    assert_eq!(store.report_sender_by_key_id("0000000000000000").await.unwrap(), None);
    assert_eq!(store.list_report_senders().await.unwrap(), vec![sender.clone()]);

    // A real report body, as another instance would send it.
    let draft = IncidentDraft {
        org_unit_id: root.id,
        incident_type: IncidentType::Ddos,
        title: "DDoS".into(),
        summary: String::new(),
        facts: IncidentFacts::default(),
        operator_category: OperatorCategory::Other,
        discovered_at: db.now(),
    };
    let i = store.create_incident(&admin, &draft, rules()).await.unwrap();
    let made = store.create_incident_report(&admin, i.id, ReportKind::Initial, &org(), rules()).await.unwrap();
    let report = IncidentReport::parse(made.body.as_bytes()).unwrap();
    let (got, new) = store.store_received_report(&sender, &report, &made.body, "192.0.2.7").await.unwrap();
    assert!(new);
    assert_eq!((got.sender_name.as_str(), got.kind.as_str(), got.title.as_str()), ("某省公司", "initial", "DDoS"));
    assert_eq!((got.sha256.as_str(), got.body.as_str()), (made.sha256.as_str(), made.body.as_str()));
    assert_audited(store, "sender:某省公司", "report.receive", "received_report", got.id).await;
    // The same report again: nothing new.
    let (again, new) = store.store_received_report(&sender, &report, &made.body, "192.0.2.7").await.unwrap();
    assert!(!new);
    assert_eq!(again.id, got.id);
    // Other bytes under the same uid: refused.
    let altered = made.body.replace("DDoS", "DoS");
    assert!(matches!(
        store.store_received_report(&sender, &report, &altered, "192.0.2.7").await,
        Err(StoreError::Conflict(_))
    ));
    // Revoked: still listed with its time, and its past reports stay.
    let revoked = store.revoke_report_sender(&admin, sender.id).await.unwrap();
    assert!(revoked.revoked_at.is_some());
    assert_audited(store, "admin", "report_sender.revoke", "report_sender", sender.id).await;
    let again = store.revoke_report_sender(&admin, sender.id).await.unwrap();
    assert_eq!(again.revoked_at, revoked.revoked_at);
    assert_eq!(store.report_sender_by_key_id(&sender.key_id).await.unwrap(), Some(revoked));
    assert_not_found(store.revoke_report_sender(&admin, 9999).await);
    let all = store.received_reports().await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(store.get_received_report(got.id).await.unwrap(), got);
    assert_not_found(store.get_received_report(got.id + 1).await);
}

async fn inbound_rate_limit_is_a_shared_token_bucket_per_key(db: TestDb) {
    let store = &db.store;
    // 3 a minute: a burst of 3, then one every 20 s.
    for _ in 0..3 {
        assert_eq!(store.take_report_inbound_token("aaaa", 3).await.unwrap(), None);
    }
    assert_eq!(store.take_report_inbound_token("aaaa", 3).await.unwrap(), Some(20), "empty: wait a refill");
    // Another key has its own bucket.
    assert_eq!(store.take_report_inbound_token("bbbb", 3).await.unwrap(), None);
    // A second node (another Store on the same database) draws from the same bucket.
    let other = db.reopen().await.unwrap();
    db.clock.advance(Duration::seconds(15));
    assert_eq!(other.take_report_inbound_token("aaaa", 3).await.unwrap(), Some(5));
    db.clock.advance(Duration::seconds(5));
    assert_eq!(other.take_report_inbound_token("aaaa", 3).await.unwrap(), None);
    assert_eq!(store.take_report_inbound_token("aaaa", 3).await.unwrap(), Some(20));
    // Refilled up to the burst, never beyond.
    db.clock.advance(Duration::hours(1));
    for _ in 0..3 {
        assert_eq!(store.take_report_inbound_token("aaaa", 3).await.unwrap(), None);
    }
    assert!(store.take_report_inbound_token("aaaa", 3).await.unwrap().is_some());
    // 0: no limit.
    for _ in 0..10 {
        assert_eq!(store.take_report_inbound_token("aaaa", 0).await.unwrap(), None);
    }
}
