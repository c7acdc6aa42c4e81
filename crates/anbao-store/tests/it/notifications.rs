//! Notifications: channels with sealed settings (never listed or audited),
//! rules per event, events queued with the change that causes them, the
//! reporting-deadline scan firing once before and once at expiry, and the
//! retry schedule of failed deliveries.

use anbao_model::incident::{IncidentFacts, IncidentLevel, IncidentRules, IncidentType, OperatorCategory};
use anbao_model::{Clock, OrgKind};
use anbao_store::{AlertDraft, IncidentDraft, NOTIFY_MAX_ATTEMPTS, NotifyChannelDraft, NotifyRuleDraft, Store};
use serde_json::json;
use time::Duration;

use crate::harness::*;

on_both_backends! {
    channels_keep_secrets_sealed => channels_keep_secrets_sealed_sqlite, channels_keep_secrets_sealed_postgres;
    events_queue_for_matching_rules => events_queue_for_matching_rules_sqlite, events_queue_for_matching_rules_postgres;
    deadline_escalation_fires_once_before_and_once_at_expiry => deadline_escalation_fires_once_before_and_once_at_expiry_sqlite, deadline_escalation_fires_once_before_and_once_at_expiry_postgres;
    failed_deliveries_back_off_then_fail => failed_deliveries_back_off_then_fail_sqlite, failed_deliveries_back_off_then_fail_postgres;
    rules_are_edited_and_disabled => rules_are_edited_and_disabled_sqlite, rules_are_edited_and_disabled_postgres;
}

fn webhook(name: &str) -> NotifyChannelDraft {
    NotifyChannelDraft {
        name: name.into(),
        kind: "webhook".into(),
        target: "https://soc.example/hook".into(),
        settings: Some(json!({ "url": "https://soc.example/hook", "secret": "s3cret-hmac-key" })),
        enabled: true,
    }
}

fn rule(channel_id: i64, event: &str) -> NotifyRuleDraft {
    NotifyRuleDraft {
        channel_id,
        event: event.into(),
        min_level: IncidentLevel::None,
        min_severity: 0,
        minutes_before: 0,
        enabled: true,
    }
}

async fn open_incident(db: &TestDb, records_leaked: u64) -> anbao_store::Incident {
    let units = db.store.list_org_units().await.unwrap();
    let root = match units.first() {
        Some(u) => u.clone(),
        None => create_root(&db.store).await,
    };
    let unit = create_unit(&db.store, Some(root.id), &format!("单位{records_leaked}"), OrgKind::Province).await;
    let draft = IncidentDraft {
        org_unit_id: unit.id,
        incident_type: IncidentType::DataLeak,
        title: "用户信息泄露".into(),
        summary: String::new(),
        facts: IncidentFacts { records_leaked, ..Default::default() },
        operator_category: OperatorCategory::Cii,
        discovered_at: db.now(),
    };
    db.store.create_incident(&actor("bob"), &draft, IncidentRules::builtin().unwrap()).await.unwrap()
}

async fn channels_keep_secrets_sealed(db: TestDb) {
    let store = &db.store;
    let c = store.create_notify_channel(&actor("alice"), &webhook("SOC")).await.unwrap();
    assert_eq!((c.kind.as_str(), c.target.as_str(), c.enabled), ("webhook", "https://soc.example/hook", true));
    assert_eq!(store.notify_channel_settings(c.id).await.unwrap()["secret"], "s3cret-hmac-key");
    assert_conflict(store.create_notify_channel(&actor("alice"), &webhook("SOC")).await);
    assert_invalid(
        store
            .create_notify_channel(&actor("alice"), &NotifyChannelDraft { kind: "pager".into(), ..webhook("x") })
            .await,
        "kind",
    );

    // An update without settings keeps them.
    let renamed = NotifyChannelDraft { name: "SOC 2".into(), settings: None, ..webhook("") };
    let c2 = store.update_notify_channel(&actor("alice"), c.id, &renamed).await.unwrap();
    assert_eq!(c2.name, "SOC 2");
    assert_eq!(store.notify_channel_settings(c.id).await.unwrap()["secret"], "s3cret-hmac-key");

    // Neither the table nor the audit log holds the secret in the clear.
    let raw = format!("{:?}", store.list_notify_channels().await.unwrap());
    assert!(!raw.contains("s3cret"), "{raw}");
    for e in audit(store, everything()).await {
        let text = format!("{:?} {:?}", e.before, e.after);
        assert!(!text.contains("s3cret"), "audit entry {} leaks the secret: {text}", e.action);
    }
    assert_audited(store, "alice", "notify_channel.update", "notify_channel", c.id).await;

    let r = store.create_notify_rule(&actor("alice"), &rule(c.id, "incident_opened")).await.unwrap();
    assert_eq!(r.channel_name, "SOC 2");
    assert_invalid(store.create_notify_rule(&actor("alice"), &rule(c.id, "coffee")).await, "event");
    assert_invalid(
        store.create_notify_rule(&actor("alice"), &rule(c.id, "deadline_approaching")).await,
        "minutes_before",
    );
    assert_invalid(store.create_notify_rule(&actor("alice"), &rule(9999, "alert")).await, "channel_id");
    store.delete_notify_channel(&actor("alice"), c.id).await.unwrap();
    assert!(store.list_notify_rules().await.unwrap().is_empty(), "rules go with their channel");
}

async fn events_queue_for_matching_rules(db: TestDb) {
    let store = &db.store;
    let a = store.create_notify_channel(&actor("alice"), &webhook("all")).await.unwrap();
    let b = store.create_notify_channel(&actor("alice"), &webhook("serious")).await.unwrap();
    store.create_notify_rule(&actor("alice"), &rule(a.id, "incident_opened")).await.unwrap();
    let serious = NotifyRuleDraft { min_level: IncidentLevel::II, ..rule(b.id, "incident_opened") };
    store.create_notify_rule(&actor("alice"), &serious).await.unwrap();
    store.create_notify_rule(&actor("alice"), &rule(b.id, "incident_level_raised")).await.unwrap();
    let severe_alerts = NotifyRuleDraft { min_severity: 4, ..rule(a.id, "alert") };
    store.create_notify_rule(&actor("alice"), &severe_alerts).await.unwrap();

    // 1,000,000 records: level III. Only the channel without a minimum hears of it.
    let i = open_incident(&db, 1_000_000).await;
    assert_eq!(i.level, IncidentLevel::III);
    let queued = store.list_notifications(None, 100).await.unwrap();
    assert_eq!(queued.len(), 1, "{queued:?}");
    assert_eq!((queued[0].channel_name.as_str(), queued[0].event.as_str()), ("all", "incident_opened"));
    assert_eq!(queued[0].status, "pending");
    assert!(queued[0].subject.contains("用户信息泄露"), "{}", queued[0].subject);
    let payload: serde_json::Value = serde_json::from_str(&queued[0].payload).unwrap();
    assert_eq!(payload["data"]["id"], i.id);
    assert_eq!(payload["data"]["level"], "III");

    // Raised to II by hand: a level_raised for channel b; lowering is silent.
    let rules = IncidentRules::builtin().unwrap();
    store
        .override_incident_level(&actor("bob"), i.id, Some(IncidentLevel::II), "wider than known", rules)
        .await
        .unwrap();
    store.override_incident_level(&actor("bob"), i.id, Some(IncidentLevel::IV), "narrower", rules).await.unwrap();
    let queued = store.list_notifications(None, 100).await.unwrap();
    assert_eq!(queued.len(), 2, "{queued:?}");
    assert_eq!((queued[0].channel_name.as_str(), queued[0].event.as_str()), ("serious", "incident_level_raised"));
    assert!(queued[0].subject.contains("III → II"), "{}", queued[0].subject);

    // Alerts: severity 3 is below the rule's 4; severity 4 is queued, once.
    let mk = |key: &str, severity: i64| AlertDraft {
        dedup_key: key.into(),
        rule: "intel".into(),
        category: "botnet_cc".into(),
        severity,
        victim: "10.1.2.3".into(),
        indicator_id: None,
        indicator: "evil.example".into(),
        match_how: "exact".into(),
        field: "dns.qname".into(),
        observed: "evil.example".into(),
        score: None,
        reason: String::new(),
        count: 1,
        first_seen: db.now(),
        last_seen: db.now(),
        sensor: "edge-1".into(),
        evidence: "{}".into(),
    };
    store.apply_alerts(&[mk("k1", 3), mk("k2", 4)], None).await.unwrap();
    store.apply_alerts(&[mk("k2", 4)], None).await.unwrap();
    let alerts: Vec<_> =
        store.list_notifications(None, 100).await.unwrap().into_iter().filter(|n| n.event == "alert").collect();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert!(alerts[0].subject.contains("severity 4"), "{}", alerts[0].subject);
    assert!(!alerts[0].body.contains("10.1.2.3") && !alerts[0].payload.contains("10.1.2.3"), "no subscriber address");

    // A disabled channel gets nothing.
    let off = NotifyChannelDraft { enabled: false, settings: None, ..webhook("all") };
    store.update_notify_channel(&actor("alice"), a.id, &off).await.unwrap();
    open_incident(&db, 2_000_000).await;
    assert_eq!(store.list_notifications(Some("pending"), 100).await.unwrap().len(), 3);
}

async fn count(store: &Store, event: &str) -> usize {
    store.list_notifications(None, 100).await.unwrap().iter().filter(|n| n.event == event).count()
}

async fn deadline_escalation_fires_once_before_and_once_at_expiry(db: TestDb) {
    let store = &db.store;
    let c = store.create_notify_channel(&actor("alice"), &webhook("duty")).await.unwrap();
    let before = NotifyRuleDraft { minutes_before: 15, ..rule(c.id, "deadline_approaching") };
    store.create_notify_rule(&actor("alice"), &before).await.unwrap();
    store.create_notify_rule(&actor("alice"), &rule(c.id, "deadline_passed")).await.unwrap();
    // CII, level III: report within 60 minutes of discovery (now).
    let i = open_incident(&db, 1_000_000).await;
    assert_eq!(i.report_within_minutes, Some(60));

    db.clock.advance(Duration::minutes(44));
    assert_eq!(store.scan_notify_deadlines().await.unwrap(), 0, "16 minutes left: not yet");
    db.clock.advance(Duration::minutes(1));
    assert_eq!(store.scan_notify_deadlines().await.unwrap(), 1, "15 minutes left");
    db.clock.advance(Duration::minutes(5));
    assert_eq!(store.scan_notify_deadlines().await.unwrap(), 0, "already warned");
    assert_eq!((count(store, "deadline_approaching").await, count(store, "deadline_passed").await), (1, 0));
    let warning = store.list_notifications(None, 1).await.unwrap();
    assert!(warning[0].subject.contains("(15 min)"), "{}", warning[0].subject);

    db.clock.advance(Duration::minutes(9));
    assert_eq!(store.scan_notify_deadlines().await.unwrap(), 0, "one minute left");
    db.clock.advance(Duration::minutes(1));
    assert_eq!(store.scan_notify_deadlines().await.unwrap(), 1, "at expiry");
    db.clock.advance(Duration::hours(3));
    assert_eq!(store.scan_notify_deadlines().await.unwrap(), 0, "once");
    assert_eq!((count(store, "deadline_approaching").await, count(store, "deadline_passed").await), (1, 1));
    let passed = store.list_notifications(None, 1).await.unwrap();
    assert!(passed[0].subject.contains("deadline passed"), "{}", passed[0].subject);

    // A second node scanning the same database adds nothing.
    let other = db.reopen().await.unwrap();
    assert_eq!(other.scan_notify_deadlines().await.unwrap(), 0);

    // Nor is one whose report a recipient accepted; a failed submission does not count.
    let reported = open_incident(&db, 1_000_002).await;
    let org =
        anbao_model::report::ReportingOrganisation { name: "某省电信".into(), category: OperatorCategory::Cii };
    let report = store
        .create_incident_report(
            &actor("bob"),
            reported.id,
            anbao_model::report::ReportKind::Initial,
            &org,
            IncidentRules::builtin().unwrap(),
        )
        .await
        .unwrap();
    store
        .record_report_submission(&actor("bob"), report.id, "https://r.example/in", "failed", None, "down")
        .await
        .unwrap();
    db.clock.advance(Duration::minutes(50));
    assert_eq!(store.scan_notify_deadlines().await.unwrap(), 1, "failed submission: still warned");
    store
        .record_report_submission(&actor("bob"), report.id, "https://r.example/in", "accepted", Some(201), "")
        .await
        .unwrap();
    db.clock.advance(Duration::minutes(20));
    assert_eq!(store.scan_notify_deadlines().await.unwrap(), 0, "reported: no 'passed'");

    // A closed incident is not chased.
    let j = open_incident(&db, 1_000_001).await;
    store.set_incident_status(&actor("bob"), j.id, anbao_model::incident::IncidentStatus::Closed).await.unwrap();
    db.clock.advance(Duration::hours(2));
    assert_eq!(store.scan_notify_deadlines().await.unwrap(), 0);
}

async fn failed_deliveries_back_off_then_fail(db: TestDb) {
    let store = &db.store;
    let c = store.create_notify_channel(&actor("alice"), &webhook("flaky")).await.unwrap();
    let n = store.queue_test_notification(&actor("alice"), c.id).await.unwrap();
    assert_eq!(n.event, "test");

    let claimed = store.claim_due_notifications(10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].settings["secret"], "s3cret-hmac-key");
    assert!(store.claim_due_notifications(10).await.unwrap().is_empty(), "claimed ones are leased");

    // Waits of 1, 5, 15 and 60 minutes, then given up.
    let mut waits = Vec::new();
    for attempt in 1..=NOTIFY_MAX_ATTEMPTS {
        let after =
            store.record_notification_attempt(n.id, Err(format!("HTTP 500 on attempt {attempt}"))).await.unwrap();
        assert_eq!(after.attempts, attempt);
        assert_eq!(after.last_error, format!("HTTP 500 on attempt {attempt}"));
        if after.status == "failed" {
            break;
        }
        assert_eq!(after.status, "pending");
        let next = anbao_model::clock::parse_ts(&after.next_attempt_at).unwrap();
        let wait = next - db.now();
        waits.push(wait.whole_minutes());
        db.clock.advance(wait - Duration::seconds(1));
        assert!(store.claim_due_notifications(10).await.unwrap().is_empty(), "not due before its time");
        db.clock.advance(Duration::seconds(1));
        assert_eq!(store.claim_due_notifications(10).await.unwrap().len(), 1, "due at its time");
    }
    assert_eq!(waits, vec![1, 5, 15, 60]);
    let last = store.get_notification(n.id).await.unwrap();
    assert_eq!((last.status.as_str(), last.attempts), ("failed", 5));
    db.clock.advance(Duration::days(1));
    assert!(store.claim_due_notifications(10).await.unwrap().is_empty(), "failed ones stay failed");

    // A success is recorded with its time.
    let m = store.queue_test_notification(&actor("alice"), c.id).await.unwrap();
    store.claim_due_notifications(10).await.unwrap();
    let sent = store.record_notification_attempt(m.id, Ok(())).await.unwrap();
    assert_eq!((sent.status.as_str(), sent.attempts), ("sent", 1));
    assert_eq!(sent.sent_at.as_deref(), Some(anbao_model::clock::format_ts(db.clock.now()).as_str()));
    assert_eq!(store.list_notifications(Some("failed"), 10).await.unwrap().len(), 1);

    // A channel whose settings cannot be unsealed fails its attempt; the others go on.
    let good = store.create_notify_channel(&actor("alice"), &webhook("good")).await.unwrap();
    let broken = store.create_notify_channel(&actor("alice"), &webhook("broken")).await.unwrap();
    store
        .execute_raw(&format!("UPDATE notify_channels SET sealed = 'garbage' WHERE id = {}", broken.id))
        .await
        .unwrap();
    let b = store.queue_test_notification(&actor("alice"), broken.id).await.unwrap();
    let g = store.queue_test_notification(&actor("alice"), good.id).await.unwrap();
    let claimed = store.claim_due_notifications(10).await.unwrap();
    assert_eq!(claimed.iter().map(|d| d.notification.id).collect::<Vec<_>>(), vec![g.id]);
    let b = store.get_notification(b.id).await.unwrap();
    assert_eq!((b.status.as_str(), b.attempts), ("pending", 1));
    assert!(b.last_error.starts_with("channel settings"), "{}", b.last_error);
}

async fn rules_are_edited_and_disabled(db: TestDb) {
    let store = &db.store;
    let a = store.create_notify_channel(&actor("alice"), &webhook("duty")).await.unwrap();
    let b = store.create_notify_channel(&actor("alice"), &webhook("managers")).await.unwrap();
    let r = store.create_notify_rule(&actor("alice"), &rule(a.id, "incident_opened")).await.unwrap();

    // Moved to another channel with a threshold: audited with before and after.
    let edited = NotifyRuleDraft { min_level: IncidentLevel::II, ..rule(b.id, "incident_opened") };
    let r2 = store.update_notify_rule(&actor("alice"), r.id, &edited).await.unwrap();
    assert_eq!((r2.channel_name.as_str(), r2.min_level, r2.enabled), ("managers", IncidentLevel::II, true));
    assert_audited(store, "alice", "notify_rule.update", "notify_rule", r.id).await;
    let entry = audit(store, everything()).await.into_iter().find(|e| e.action == "notify_rule.update").unwrap();
    assert_eq!(entry.before.as_ref().map(|b| b["channel_name"].clone()), Some(json!("duty")));
    assert_eq!(entry.after.as_ref().map(|a| a["min_level"].clone()), Some(json!("II")));
    // Checked like a new rule; unknown ones are not found.
    assert_invalid(store.update_notify_rule(&actor("alice"), r.id, &rule(b.id, "coffee")).await, "event");
    assert_invalid(store.update_notify_rule(&actor("alice"), r.id, &rule(9999, "alert")).await, "channel_id");
    assert!(matches!(
        store.update_notify_rule(&actor("alice"), 9999, &edited).await,
        Err(anbao_store::StoreError::NotFound { .. })
    ));

    // A level-I incident notifies through the edited rule; disabled, it queues nothing.
    open_incident(&db, 200_000_000).await;
    assert_eq!(store.list_notifications(Some("pending"), 100).await.unwrap().len(), 1);
    let off = NotifyRuleDraft { enabled: false, ..edited };
    assert!(!store.update_notify_rule(&actor("alice"), r.id, &off).await.unwrap().enabled);
    open_incident(&db, 300_000_000).await;
    assert_eq!(store.list_notifications(Some("pending"), 100).await.unwrap().len(), 1);
}
