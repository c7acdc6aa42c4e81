//! Evidence files and observables on incidents (issue #7): files stored
//! once per content and checked on read, refused when empty or too large,
//! their bytes kept while another incident still holds them; observables
//! normalised like indicators, taken from alerts, published through the
//! import path and linked to the indicator they became.

use anbao_intel::{Category, IndicatorKind, Tlp};
use anbao_model::incident::{IncidentFacts, IncidentRules, IncidentType, OperatorCategory};
use anbao_store::{AlertDraft, EvidenceDraft, Incident, IncidentDraft, ObservableDraft, PublishDraft, StoreError};

use crate::harness::*;

on_both_backends! {
    evidence_is_stored_once_checked_and_removed_with_its_last_reference => evidence_is_stored_once_checked_and_removed_with_its_last_reference_sqlite, evidence_is_stored_once_checked_and_removed_with_its_last_reference_postgres;
    evidence_refuses_empty_and_oversized_files => evidence_refuses_empty_and_oversized_files_sqlite, evidence_refuses_empty_and_oversized_files_postgres;
    observables_are_validated_like_indicators => observables_are_validated_like_indicators_sqlite, observables_are_validated_like_indicators_postgres;
    observables_come_from_alerts_and_publish_as_indicators => observables_come_from_alerts_and_publish_as_indicators_sqlite, observables_come_from_alerts_and_publish_as_indicators_postgres;
}

fn draft(org_unit_id: i64, title: &str, db: &TestDb) -> IncidentDraft {
    IncidentDraft {
        org_unit_id,
        incident_type: IncidentType::Malware,
        title: title.into(),
        summary: String::new(),
        facts: IncidentFacts::default(),
        operator_category: OperatorCategory::Other,
        discovered_at: db.now(),
    }
}

async fn open_incident(db: &TestDb, org_unit_id: i64, title: &str) -> Incident {
    db.store
        .create_incident(&actor("bob"), &draft(org_unit_id, title, db), IncidentRules::builtin().unwrap())
        .await
        .unwrap()
}

const PCAP: &[u8] = b"\xd4\xc3\xb2\xa1\x02\x00\x04\x00capture of the C2 beacon";
const MAX: usize = 1024;

async fn blob_count(db: &TestDb) -> i64 {
    use sqlx::Row;
    let mut conn = db.raw_connection().await;
    sqlx::query("SELECT COUNT(*) AS n FROM evidence_blobs").fetch_one(&mut conn).await.unwrap().get::<i64, _>("n")
}

async fn evidence_is_stored_once_checked_and_removed_with_its_last_reference(db: TestDb) {
    let store = &db.store;
    let root = create_root(store).await;
    let first = open_incident(&db, root.id, "木马外联").await;
    let second = open_incident(&db, root.id, "同一样本").await;
    let bob = actor("bob");

    let d = EvidenceDraft { file_name: "C:\\cases\\beacon.pcap".into(), description: "出口抓包".into() };
    let (a, new_blob) = store.add_incident_evidence(&bob, first.id, PCAP, &d, MAX).await.unwrap();
    assert!(new_blob);
    assert_eq!(
        (a.file_name.as_str(), a.size, a.file_type.as_str(), a.description.as_str(), a.created_by.as_str()),
        ("beacon.pcap", PCAP.len() as i64, "pcap", "出口抓包", "bob")
    );
    assert_eq!(a.sha256.len(), 64);
    assert_audited(store, "bob", "incident.evidence_add", "incident", first.id).await;
    let timeline = store.incident_timeline(first.id).await.unwrap();
    let last = timeline.last().unwrap();
    assert_eq!(last.kind, "auto");
    assert!(last.entry.contains("beacon.pcap") && last.entry.contains(&a.sha256), "{}", last.entry);

    // The same bytes on another incident share the blob.
    let (b, new_blob) = store
        .add_incident_evidence(
            &bob,
            second.id,
            PCAP,
            &EvidenceDraft { file_name: "copy.pcap".into(), ..Default::default() },
            MAX,
        )
        .await
        .unwrap();
    assert!(!new_blob);
    assert_eq!(b.sha256, a.sha256);
    assert_eq!(blob_count(&db).await, 1);
    assert_eq!(store.incident_evidence(first.id).await.unwrap(), vec![a.clone()]);
    assert_eq!(store.incident_evidence(second.id).await.unwrap(), vec![b.clone()]);

    // Downloads are checked and audited; evidence of another incident is not found.
    let (got, bytes) = store.incident_evidence_content(&actor("carol"), first.id, a.id).await.unwrap();
    assert_eq!((got, bytes.as_slice()), (a.clone(), PCAP));
    let entry = assert_audited(store, "carol", "incident.evidence_download", "incident", first.id).await;
    assert_eq!(entry.after.unwrap()["sha256"], a.sha256.as_str());
    assert_not_found(store.incident_evidence_content(&bob, second.id, a.id).await);
    assert_not_found(store.delete_incident_evidence(&bob, second.id, a.id).await);

    // Deleting one reference keeps the bytes for the other incident.
    assert!(!store.delete_incident_evidence(&bob, first.id, a.id).await.unwrap());
    assert_audited(store, "bob", "incident.evidence_delete", "incident", first.id).await;
    assert!(store.incident_evidence(first.id).await.unwrap().is_empty());
    assert_eq!(store.incident_evidence_content(&bob, second.id, b.id).await.unwrap().1, PCAP);
    assert!(store.delete_incident_evidence(&bob, second.id, b.id).await.unwrap(), "the last reference takes the bytes");
    assert_eq!(blob_count(&db).await, 0);

    // A blob altered in the database is refused on read.
    let (c, _) = store.add_incident_evidence(&bob, first.id, b"notes\n", &EvidenceDraft::default(), MAX).await.unwrap();
    assert_eq!((c.file_name.as_str(), c.file_type.as_str()), ("evidence", "text"));
    let mut conn = db.raw_connection().await;
    sqlx::query("UPDATE evidence_blobs SET content = $1 WHERE sha256 = $2")
        .bind(b"tampered".to_vec())
        .bind(c.sha256.clone())
        .execute(&mut conn)
        .await
        .unwrap();
    assert!(matches!(store.incident_evidence_content(&bob, first.id, c.id).await, Err(StoreError::Corrupt(_))));
    assert_not_found(store.add_incident_evidence(&bob, 9999, PCAP, &EvidenceDraft::default(), MAX).await);
}

async fn evidence_refuses_empty_and_oversized_files(db: TestDb) {
    let store = &db.store;
    let root = create_root(store).await;
    let incident = open_incident(&db, root.id, "超限").await;
    let bob = actor("bob");
    let audit_before = store.count_audit().await.unwrap();
    assert_invalid(store.add_incident_evidence(&bob, incident.id, b"", &EvidenceDraft::default(), MAX).await, "file");
    let big = vec![b'x'; MAX + 1];
    match store.add_incident_evidence(&bob, incident.id, &big, &EvidenceDraft::default(), MAX).await {
        Err(StoreError::TooLarge { size, max, .. }) => assert_eq!((size, max), (MAX as u64 + 1, MAX as u64)),
        other => panic!("expected TooLarge, got {other:?}"),
    }
    let d = EvidenceDraft { description: "x\u{7}".into(), ..Default::default() };
    assert_invalid(store.add_incident_evidence(&bob, incident.id, PCAP, &d, MAX).await, "description");
    assert_eq!(store.count_audit().await.unwrap(), audit_before, "refusals write nothing");
    assert!(store.incident_evidence(incident.id).await.unwrap().is_empty());
    assert_eq!(blob_count(&db).await, 0);
    // Exactly the limit is accepted.
    store.add_incident_evidence(&bob, incident.id, &big[..MAX], &EvidenceDraft::default(), MAX).await.unwrap();
}

async fn observables_are_validated_like_indicators(db: TestDb) {
    let store = &db.store;
    let root = create_root(store).await;
    let incident = open_incident(&db, root.id, "钓鱼").await;
    let bob = actor("bob");
    let obs = |kind, value: &str| ObservableDraft { kind, value: value.into(), note: String::new(), ioc: true };

    let d =
        store.add_incident_observable(&bob, incident.id, &obs(IndicatorKind::Domain, " Evil.EXAMPLE. ")).await.unwrap();
    assert_eq!(
        (d.kind.as_str(), d.value.as_str(), d.ioc, d.origin.as_str()),
        ("domain", "evil.example", true, "manual")
    );
    assert_eq!(d.indicator_id, None);
    assert_audited(store, "bob", "incident.observable_add", "incident", incident.id).await;
    let u = store
        .add_incident_observable(
            &bob,
            incident.id,
            &ObservableDraft {
                note: "登录页".into(),
                ioc: false,
                ..obs(IndicatorKind::Url, "HTTP://Evil.example:80/a/../login")
            },
        )
        .await
        .unwrap();
    assert_eq!((u.value.as_str(), u.note.as_str(), u.ioc), ("http://evil.example/login", "登录页", false));
    for (kind, value) in [
        (IndicatorKind::Ipv4, "203.0.113.7"),
        (IndicatorKind::Ipv6, "2001:DB8::1"),
        (IndicatorKind::Cidr, "198.51.100.0/24"),
        (IndicatorKind::Sha256, &"AB".repeat(32)),
        (IndicatorKind::Email, "ceo@Evil.example"),
        (IndicatorKind::AndroidPackage, "com.evil.Wallet"),
        (IndicatorKind::Ja3, "e7d705a3286e19ea42f587b344ee6865"),
    ] {
        store.add_incident_observable(&bob, incident.id, &obs(kind, value)).await.unwrap();
    }
    let all = store.incident_observables(incident.id).await.unwrap();
    assert_eq!(all.len(), 9);
    assert_eq!(all[3].value, "2001:db8::1");

    // Invalid values are refused with the normaliser's reason; duplicates conflict.
    let audit_before = store.count_audit().await.unwrap();
    match store.add_incident_observable(&bob, incident.id, &obs(IndicatorKind::Cidr, "10.1.2.3/8")).await {
        Err(StoreError::Invalid(i)) => {
            assert_eq!(i.field, "value");
            assert!(i.reason.contains("10.0.0.0/8"), "{}", i.reason);
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
    assert_invalid(
        store.add_incident_observable(&bob, incident.id, &obs(IndicatorKind::Ipv4, "999.1.1.1")).await,
        "value",
    );
    assert_invalid(store.add_incident_observable(&bob, incident.id, &obs(IndicatorKind::Md5, "abc")).await, "value");
    assert_invalid(
        store
            .add_incident_observable(
                &bob,
                incident.id,
                &ObservableDraft { note: "n".repeat(1001), ..obs(IndicatorKind::Domain, "b.example") },
            )
            .await,
        "note",
    );
    assert_conflict(
        store.add_incident_observable(&bob, incident.id, &obs(IndicatorKind::Domain, "EVIL.example")).await,
    );
    assert_eq!(store.count_audit().await.unwrap(), audit_before);

    store.delete_incident_observable(&bob, incident.id, d.id).await.unwrap();
    assert_audited(store, "bob", "incident.observable_delete", "incident", incident.id).await;
    assert_not_found(store.delete_incident_observable(&bob, incident.id, d.id).await);
    assert_eq!(store.incident_observables(incident.id).await.unwrap().len(), 8);
}

async fn observables_come_from_alerts_and_publish_as_indicators(db: TestDb) {
    let store = &db.store;
    let root = create_root(store).await;
    let seen = db.now();
    let alert = AlertDraft {
        dedup_key: "intel:10.0.0.7:cc.evil.example".into(),
        rule: "intel".into(),
        category: "botnet_cc".into(),
        severity: 3,
        victim: "10.0.0.7".into(),
        indicator_id: None,
        indicator: "evil.example".into(),
        match_how: "parent_domain".into(),
        field: "dns.query".into(),
        observed: "cc.evil.example".into(),
        score: None,
        reason: String::new(),
        count: 3,
        first_seen: seen,
        last_seen: seen,
        sensor: "edge-1".into(),
        evidence: r#"{"client":"10.0.0.7","qname":"cc.evil.example"}"#.into(),
    };
    store.apply_alerts(std::slice::from_ref(&alert), None).await.unwrap();
    let alert_id = store.alert_id_by_key(&alert.dedup_key).await.unwrap().unwrap();
    let incident = store
        .open_incident_for_alert(
            &actor("bob"),
            alert_id,
            &draft(root.id, "僵尸网络", &db),
            IncidentRules::builtin().unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
    let bob = actor("bob");

    let added = store.add_observables_from_alerts(&bob, incident.id).await.unwrap();
    let values: Vec<(&str, &str, &str)> =
        added.iter().map(|o| (o.kind.as_str(), o.value.as_str(), o.origin.as_str())).collect();
    let origin = format!("alert #{alert_id}");
    assert_eq!(values, [("domain", "evil.example", origin.as_str()), ("domain", "cc.evil.example", origin.as_str())]);
    assert!(added.iter().all(|o| o.ioc));
    assert_audited(store, "bob", "incident.observable_add", "incident", incident.id).await;
    assert!(store.add_observables_from_alerts(&bob, incident.id).await.unwrap().is_empty(), "taken once");

    // Publishing goes through the import path with source "incident #N".
    let cc = &added[1];
    let p = PublishDraft { category: Category::BotnetCc, tlp: Tlp::Amber, confidence: 80 };
    let published = store.publish_incident_observable(&actor("alice"), incident.id, cc.id, &p).await.unwrap();
    let indicator = store.intel_indicator_by_value(IndicatorKind::Domain, "cc.evil.example").await.unwrap().unwrap();
    assert_eq!(published.indicator_id, Some(indicator.id));
    assert_eq!(published.published_by, "alice");
    assert!(published.published_at.is_some());
    assert_eq!(
        (indicator.category, indicator.tlp, indicator.confidence),
        (Category::BotnetCc, Some(Tlp::Amber), Some(80))
    );
    let prov = store.intel_provenance(indicator.id).await.unwrap();
    let source = format!("incident #{}", incident.id);
    assert_eq!(prov.len(), 1);
    assert_eq!(prov[0].source, source);
    assert!(prov[0].context.contains("僵尸网络"), "{}", prov[0].context);
    let run = &store.intel_import_runs(1).await.unwrap()[0];
    assert_eq!((run.source.as_str(), run.format.as_str(), run.accepted), (source.as_str(), "incident", 1));
    assert_audited(store, "alice", "incident.observable_publish", "incident", incident.id).await;
    let last = store.incident_timeline(incident.id).await.unwrap().pop().unwrap();
    assert!(last.entry.contains(&format!("indicator #{}", indicator.id)), "{}", last.entry);
    assert_eq!(store.incident_observable(incident.id, cc.id).await.unwrap(), published);

    // Publishing again restates it (one provenance row, updated).
    let p2 = PublishDraft { category: Category::BotnetCc, tlp: Tlp::Green, confidence: 90 };
    store.publish_incident_observable(&actor("alice"), incident.id, cc.id, &p2).await.unwrap();
    let again = store.intel_indicator_by_value(IndicatorKind::Domain, "cc.evil.example").await.unwrap().unwrap();
    assert_eq!((again.id, again.tlp, again.confidence), (indicator.id, Some(Tlp::Green), Some(90)));
    assert_eq!(store.intel_provenance(indicator.id).await.unwrap().len(), 1);

    assert_not_found(store.publish_incident_observable(&bob, incident.id, 9999, &p).await);
    assert_invalid(
        store.publish_incident_observable(&bob, incident.id, cc.id, &PublishDraft { confidence: 101, ..p }).await,
        "confidence",
    );
}
