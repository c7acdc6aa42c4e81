//! Personal-data leaks (R5.4): the reporting duty flagged at once when an
//! incident is or becomes a leak (row, timeline entry, notification, audit
//! entry in the incident's own transaction); categories checked by code with
//! sensitivity derived; notification of individuals and regulator recorded.

use anbao_model::clock::format_ts;
use anbao_model::incident::{IncidentFacts, IncidentRules, IncidentType, LeakCategory, LeakDuty, OperatorCategory};
use anbao_store::{Incident, IncidentDraft, LEAK_DUTY_TEXT, NotifyChannelDraft, NotifyRuleDraft, StoreError};
use serde_json::json;
use time::Duration;

use crate::harness::*;

on_both_backends! {
    a_leak_flags_its_reporting_duty_at_once => a_leak_flags_its_reporting_duty_at_once_sqlite, a_leak_flags_its_reporting_duty_at_once_postgres;
    leak_details_are_checked_and_duties_recorded => leak_details_are_checked_and_duties_recorded_sqlite, leak_details_are_checked_and_duties_recorded_postgres;
}

fn rules() -> &'static IncidentRules {
    IncidentRules::builtin().expect("shipped rules")
}

async fn open(db: &TestDb, unit: i64, t: IncidentType, records_leaked: u64) -> Incident {
    let draft = IncidentDraft {
        org_unit_id: unit,
        incident_type: t,
        title: format!("{t} 事件"),
        summary: String::new(),
        facts: IncidentFacts { records_leaked, ..Default::default() },
        operator_category: OperatorCategory::Other,
        discovered_at: db.now() - Duration::minutes(10),
    };
    db.store.create_incident(&actor("bob"), &draft, rules()).await.unwrap()
}

async fn a_leak_flags_its_reporting_duty_at_once(db: TestDb) {
    let store = &db.store;
    let root = create_root(store).await;
    let channel = store
        .create_notify_channel(
            &actor("alice"),
            &NotifyChannelDraft {
                name: "dpo".into(),
                kind: "webhook".into(),
                target: "https://dpo.example/hook".into(),
                settings: Some(json!({ "url": "https://dpo.example/hook" })),
                enabled: true,
            },
        )
        .await
        .unwrap();
    store
        .create_notify_rule(
            &actor("alice"),
            &NotifyRuleDraft {
                channel_id: channel.id,
                event: "incident_leak_duty".into(),
                min_level: anbao_model::incident::IncidentLevel::None,
                min_severity: 0,
                minutes_before: 0,
                enabled: true,
            },
        )
        .await
        .unwrap();
    db.clock.advance(Duration::minutes(3));
    let flagged_at = format_ts(db.now());

    // A data_leak incident below every grading threshold still has the duty.
    let leak = open(&db, root.id, IncidentType::DataLeak, 0).await;
    let l = store.incident_leak(leak.id).await.unwrap().expect("a leak row");
    assert_eq!(l.duty_flagged_at, flagged_at);
    assert_eq!((l.data_categories.len(), l.affected_users, l.sensitive), (0, None, false));
    assert_eq!((l.individuals_notified_at, l.regulator_notified_at), (None, None));
    let timeline = store.incident_timeline(leak.id).await.unwrap();
    let duty = timeline.iter().find(|e| e.entry == LEAK_DUTY_TEXT).expect("the duty in the timeline");
    assert_eq!((duty.kind.as_str(), duty.at.as_str(), duty.actor.as_str()), ("auto", flagged_at.as_str(), "bob"));
    assert!(duty.entry.contains("MIIT Order No. 24") && duty.entry.contains("art. 14"), "{duty:?}");
    assert!(duty.entry.contains("PIPL") && duty.entry.contains("art. 57"), "{duty:?}");
    let entries = audit(store, everything()).await;
    assert!(
        entries.iter().any(|e| e.action == "incident.leak_duty" && e.object_id == leak.id.to_string()),
        "duty audited"
    );
    let queued: Vec<_> = store
        .list_notifications(None, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|n| n.event == "incident_leak_duty")
        .collect();
    assert_eq!(queued.len(), 1);
    assert!(queued[0].subject.contains(&format!("#{}", leak.id)) && queued[0].body.contains("art. 14"));

    // Another type with records leaked is a leak too.
    let intrusion = open(&db, root.id, IncidentType::Intrusion, 5).await;
    assert!(store.incident_leak(intrusion.id).await.unwrap().is_some());

    // Not a leak: no row, no entry; it becomes one when records are found
    // leaked, flagged at that moment, once.
    let ddos = open(&db, root.id, IncidentType::Ddos, 0).await;
    assert_eq!(store.incident_leak(ddos.id).await.unwrap(), None);
    assert!(store.incident_timeline(ddos.id).await.unwrap().iter().all(|e| e.entry != LEAK_DUTY_TEXT));
    db.clock.advance(Duration::minutes(7));
    let later = format_ts(db.now());
    let facts = IncidentFacts { records_leaked: 20, ..Default::default() };
    store.update_incident_facts(&actor("carol"), ddos.id, &facts, rules()).await.unwrap();
    let l = store.incident_leak(ddos.id).await.unwrap().expect("flagged on the facts change");
    assert_eq!((l.duty_flagged_at.as_str(), l.updated_by.as_str()), (later.as_str(), "carol"));
    db.clock.advance(Duration::minutes(1));
    let facts = IncidentFacts { records_leaked: 30, ..Default::default() };
    store.update_incident_facts(&actor("carol"), ddos.id, &facts, rules()).await.unwrap();
    assert_eq!(store.incident_leak(ddos.id).await.unwrap().unwrap().duty_flagged_at, later);
    let duties = store.incident_timeline(ddos.id).await.unwrap().into_iter().filter(|e| e.entry == LEAK_DUTY_TEXT);
    assert_eq!(duties.count(), 1);
    assert_eq!(
        store.list_notifications(None, 100).await.unwrap().iter().filter(|n| n.event == "incident_leak_duty").count(),
        3
    );
    assert_chain_intact(store, store.count_audit().await.unwrap()).await;
}

async fn leak_details_are_checked_and_duties_recorded(db: TestDb) {
    let store = &db.store;
    let root = create_root(store).await;
    let leak = open(&db, root.id, IncidentType::DataLeak, 1200).await;
    let other = open(&db, root.id, IncidentType::Malware, 0).await;
    let bob = actor("bob");
    let codes = |c: &[&str]| c.iter().map(|s| s.to_string()).collect::<Vec<_>>();

    // Unknown codes are refused by name; nothing is written.
    let before = store.count_audit().await.unwrap();
    match store.update_incident_leak(&bob, leak.id, &codes(&["contact", "passport"]), None).await {
        Err(StoreError::Invalid(e)) => {
            let text = e.to_string();
            assert!(text.contains("data_categories") && text.contains("\"passport\""), "{text}");
        }
        other => panic!("expected invalid, got {other:?}"),
    }
    assert_invalid(store.update_incident_leak(&bob, leak.id, &codes(&["contact"]), Some(-1)).await, "affected_users");
    assert_not_found(store.update_incident_leak(&bob, other.id, &codes(&["contact"]), None).await);
    assert_not_found(store.update_incident_leak(&bob, 424_242, &codes(&["contact"]), None).await);
    assert_eq!(store.count_audit().await.unwrap(), before);

    // Not sensitive, then sensitive (PIPL art. 28): derived, ordered, deduplicated.
    let l = store.update_incident_leak(&bob, leak.id, &codes(&["contact", "identity"]), Some(900)).await.unwrap();
    assert_eq!(l.data_categories, [LeakCategory::Identity, LeakCategory::Contact]);
    assert_eq!((l.affected_users, l.sensitive), (Some(900), false));
    let e = assert_audited(store, "bob", "incident.leak_update", "incident", leak.id).await;
    assert_eq!(e.after.as_ref().unwrap()["data_categories"], json!(["identity", "contact"]));
    db.clock.advance(Duration::minutes(1));
    let l = store
        .update_incident_leak(&bob, leak.id, &codes(&["health", "contact", "contact", "minors_under_14"]), Some(900))
        .await
        .unwrap();
    assert_eq!(l.data_categories, [LeakCategory::Contact, LeakCategory::Health, LeakCategory::MinorsUnder14]);
    assert!(l.sensitive);
    let last = store.incident_timeline(leak.id).await.unwrap().pop().unwrap();
    assert!(last.entry.contains("sensitive") && last.entry.contains("900"), "{last:?}");
    // The same again records nothing.
    let n = store.count_audit().await.unwrap();
    store
        .update_incident_leak(&bob, leak.id, &codes(&["contact", "health", "minors_under_14"]), Some(900))
        .await
        .unwrap();
    assert_eq!(store.count_audit().await.unwrap(), n);

    // Duties met: now, or back-dated, never in the future nor before discovery.
    assert_invalid(
        store.record_leak_notified(&bob, leak.id, LeakDuty::Regulator, Some(db.now() + Duration::hours(1))).await,
        "at",
    );
    assert_invalid(
        store.record_leak_notified(&bob, leak.id, LeakDuty::Regulator, Some(db.now() - Duration::days(1))).await,
        "at",
    );
    assert_not_found(store.record_leak_notified(&bob, other.id, LeakDuty::Regulator, None).await);
    let told = db.now() - Duration::minutes(2);
    let l = store.record_leak_notified(&actor("carol"), leak.id, LeakDuty::Regulator, Some(told)).await.unwrap();
    assert_eq!(l.regulator_notified_at, Some(format_ts(told)));
    assert_eq!(l.individuals_notified_at, None);
    let e = assert_audited(store, "carol", "incident.leak_notified", "incident", leak.id).await;
    assert_eq!(e.after.as_ref().unwrap()["who"], "regulator");
    let entry =
        store.incident_timeline(leak.id).await.unwrap().into_iter().find(|e| e.entry.contains("regulator notified"));
    assert_eq!(entry.map(|e| e.at), Some(format_ts(told)));
    let l = store.record_leak_notified(&actor("carol"), leak.id, LeakDuty::Individuals, None).await.unwrap();
    assert_eq!(l.individuals_notified_at, Some(format_ts(db.now())));
    assert!(store.get_incident(leak.id).await.unwrap().updated_at > leak.updated_at);
    assert_chain_intact(store, store.count_audit().await.unwrap()).await;
}
