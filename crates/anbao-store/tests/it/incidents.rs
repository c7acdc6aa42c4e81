//! Incidents: opened graded by the plan with the reporting clock started
//! from discovery, facts changed and graded again, level overridden only
//! with a reason (audited), status and timeline; all in the audit chain.

use anbao_model::incident::{
    AreaScope, IncidentFacts, IncidentLevel, IncidentRules, IncidentStatus, IncidentType, OperatorCategory,
};
use anbao_model::{Clock, OrgKind};
use anbao_store::{AlertDraft, IncidentDraft, IncidentFilter, StoreError};
use time::Duration;

use crate::harness::*;

on_both_backends! {
    incidents_are_graded_overridden_with_reasons_and_timed => incidents_are_graded_overridden_with_reasons_and_timed_sqlite, incidents_are_graded_overridden_with_reasons_and_timed_postgres;
    incident_input_is_checked => incident_input_is_checked_sqlite, incident_input_is_checked_postgres;
    an_alert_opens_one_incident_linked_to_it => an_alert_opens_one_incident_linked_to_it_sqlite, an_alert_opens_one_incident_linked_to_it_postgres;
}

fn rules() -> &'static IncidentRules {
    IncidentRules::builtin().expect("shipped rules")
}

async fn incidents_are_graded_overridden_with_reasons_and_timed(db: TestDb) {
    let store = &db.store;
    let root = create_root(store).await;
    let province = create_unit(store, Some(root.id), "省公司", OrgKind::Province).await;
    let discovered = db.now() - Duration::minutes(20);
    let draft = IncidentDraft {
        org_unit_id: province.id,
        incident_type: IncidentType::DataLeak,
        title: "用户信息泄露".into(),
        summary: "某接口未鉴权\n被批量拉取".into(),
        facts: IncidentFacts { records_leaked: 1_000_000, ..Default::default() },
        operator_category: OperatorCategory::Cii,
        discovered_at: discovered,
    };
    let bob = actor("bob");
    let i = store.create_incident(&bob, &draft, rules()).await.unwrap();
    // Exactly 1,000,000 records is "1 百万以上": level III.
    assert_eq!((i.level, i.computed_level, i.criterion.as_str()), (IncidentLevel::III, IncidentLevel::III, "leak_1m"));
    assert_eq!(i.status, IncidentStatus::Open);
    assert_eq!(i.report_within_minutes, Some(60));
    assert_eq!(i.report_by.as_deref(), Some(anbao_model::clock::format_ts(discovered + Duration::hours(1)).as_str()));
    assert!(i.report_immediately);
    assert_eq!(i.created_by, "bob");
    assert_audited(store, "bob", "incident.create", "incident", i.id).await;
    let timeline = store.incident_timeline(i.id).await.unwrap();
    // Graded, then the personal-data leak's reporting duty (R5.4).
    assert_eq!(timeline.len(), 2);
    assert_eq!(timeline[1].entry, anbao_store::LEAK_DUTY_TEXT);
    assert_eq!(timeline[0].kind, "auto");
    assert!(timeline[0].entry.contains("III") && timeline[0].entry.contains("Plan 3.3(3)"), "{timeline:?}");

    // More facts: several provinces offline makes it II, clock unchanged
    // in length (CII: 1 hour from discovery).
    let facts = IncidentFacts {
        records_leaked: 1_000_000,
        users_offline_scope: AreaScope::MultiProvince,
        ..Default::default()
    };
    db.clock.advance(Duration::minutes(5));
    let i = store.update_incident_facts(&bob, i.id, &facts, rules()).await.unwrap();
    assert_eq!((i.level, i.criterion.as_str()), (IncidentLevel::II, "offline_multi_province"));
    assert!(i.report_immediately);
    assert_eq!(i.facts, facts);
    let e = assert_audited(store, "bob", "incident.update_facts", "incident", i.id).await;
    assert_eq!(e.before.as_ref().unwrap()["computed_level"], "III");

    // Overriding needs a reason; with one it is audited and timed.
    assert_invalid(store.override_incident_level(&bob, i.id, Some(IncidentLevel::I), "  ", rules()).await, "reason");
    let carol = actor("carol");
    let i = store
        .override_incident_level(&carol, i.id, Some(IncidentLevel::I), "国家级平台受影响,领导小组决定", rules())
        .await
        .unwrap();
    assert_eq!(
        (i.level, i.computed_level, i.level_override),
        (IncidentLevel::I, IncidentLevel::II, Some(IncidentLevel::I))
    );
    assert_eq!(i.override_reason, "国家级平台受影响,领导小组决定");
    let e = assert_audited(store, "carol", "incident.override_level", "incident", i.id).await;
    assert_eq!(e.after.as_ref().unwrap()["reason"], "国家级平台受影响,领导小组决定");
    assert_eq!(e.before.as_ref().unwrap()["level"], "II");
    // Facts changing under an override keep the override in force.
    let i = store.update_incident_facts(&bob, i.id, &IncidentFacts::default(), rules()).await.unwrap();
    assert_eq!((i.level, i.computed_level), (IncidentLevel::I, IncidentLevel::None));
    assert_eq!(i.report_within_minutes, Some(60));
    // Removing the override: computed level "none" stops the clock.
    let i = store.override_incident_level(&carol, i.id, None, "误判,撤销", rules()).await.unwrap();
    assert_eq!((i.level, i.level_override, i.override_reason.as_str()), (IncidentLevel::None, None, ""));
    assert_eq!((i.report_within_minutes, i.report_by.as_deref()), (None, None));

    // Status and manual entries (back-dated allowed, future refused).
    let i = store.set_incident_status(&bob, i.id, IncidentStatus::Contained).await.unwrap();
    assert_eq!(i.status, IncidentStatus::Contained);
    assert_audited(store, "bob", "incident.status", "incident", i.id).await;
    let back = db.now() - Duration::minutes(15);
    let e = store.add_incident_entry(&bob, i.id, Some(back), "封堵接口").await.unwrap();
    assert_eq!((e.kind.as_str(), e.entry.as_str()), ("manual", "封堵接口"));
    assert_audited(store, "bob", "incident.timeline", "incident", i.id).await;
    assert_invalid(store.add_incident_entry(&bob, i.id, Some(db.now() + Duration::hours(1)), "x").await, "at");
    assert_invalid(store.add_incident_entry(&bob, i.id, None, "").await, "entry");
    let timeline = store.incident_timeline(i.id).await.unwrap();
    let entries: Vec<&str> = timeline.iter().map(|t| t.entry.as_str()).collect();
    assert_eq!(timeline.len(), 8, "{entries:?}");
    // Ordered by when it happened: the back-dated entry sits before the
    // changes made in the last minutes.
    assert!(timeline.windows(2).all(|w| w[0].at <= w[1].at), "{entries:?}");
    assert_eq!(timeline.iter().position(|t| t.entry == "封堵接口"), Some(1), "{entries:?}");

    // Listing: scope, status and effective level filters.
    let other = store
        .create_incident(
            &bob,
            &IncidentDraft {
                org_unit_id: root.id,
                incident_type: IncidentType::Ddos,
                title: "DDoS".into(),
                summary: String::new(),
                facts: IncidentFacts { users_offline_scope: AreaScope::City, ..Default::default() },
                operator_category: OperatorCategory::Other,
                discovered_at: db.clock.now(),
            },
            rules(),
        )
        .await
        .unwrap();
    assert_eq!(other.level, IncidentLevel::IV);
    assert_eq!(other.report_within_minutes, Some(240));
    let all = store.list_incidents(None, &IncidentFilter::default()).await.unwrap();
    assert_eq!(all.iter().map(|i| i.id).collect::<Vec<_>>(), [other.id, i.id]);
    let scoped = store.list_incidents(Some(&[province.id]), &IncidentFilter::default()).await.unwrap();
    assert_eq!(scoped.iter().map(|i| i.id).collect::<Vec<_>>(), [i.id]);
    let open = IncidentFilter { status: Some(IncidentStatus::Open), ..Default::default() };
    assert_eq!(store.list_incidents(None, &open).await.unwrap().len(), 1);
    let iv = IncidentFilter { level: Some(IncidentLevel::IV), ..Default::default() };
    assert_eq!(store.list_incidents(None, &iv).await.unwrap()[0].id, other.id);

    assert!(matches!(store.get_incident(424_242).await, Err(StoreError::NotFound { .. })));
    let n = store.count_audit().await.unwrap();
    assert_chain_intact(store, n).await;
}

async fn incident_input_is_checked(db: TestDb) {
    let store = &db.store;
    let root = create_root(store).await;
    let good = IncidentDraft {
        org_unit_id: root.id,
        incident_type: IncidentType::Other,
        title: "t".into(),
        summary: String::new(),
        facts: IncidentFacts::default(),
        operator_category: OperatorCategory::Other,
        discovered_at: db.now(),
    };
    let bob = actor("bob");
    let before = store.count_audit().await.unwrap();
    assert_invalid(
        store.create_incident(&bob, &IncidentDraft { title: " ".into(), ..good.clone() }, rules()).await,
        "title",
    );
    assert_invalid(
        store.create_incident(&bob, &IncidentDraft { summary: "a\u{0}b".into(), ..good.clone() }, rules()).await,
        "summary",
    );
    assert_invalid(
        store
            .create_incident(
                &bob,
                &IncidentDraft { discovered_at: db.now() + Duration::hours(2), ..good.clone() },
                rules(),
            )
            .await,
        "discovered_at",
    );
    assert_invalid(
        store.create_incident(&bob, &IncidentDraft { org_unit_id: 999_999, ..good.clone() }, rules()).await,
        "org_unit_id",
    );
    assert_eq!(store.count_audit().await.unwrap(), before, "refused changes leave no audit entry");
    assert_eq!(store.list_incidents(None, &IncidentFilter::default()).await.unwrap().len(), 0);
    let i = store.create_incident(&bob, &good, rules()).await.unwrap();
    assert_eq!((i.level, i.report_within_minutes), (IncidentLevel::None, None));
    assert!(matches!(
        store.override_incident_level(&bob, 424_242, Some(IncidentLevel::IV), "why", rules()).await,
        Err(StoreError::NotFound { .. })
    ));
}

/// A DDoS attack alert opens one large-scale DDoS incident, however often
/// it is asked to (every update of the attack, a redelivered bus message,
/// a second worker): the alert is linked and named in the timeline.
async fn an_alert_opens_one_incident_linked_to_it(db: TestDb) {
    let store = &db.store;
    let root = create_root(store).await;
    let started = db.now() - Duration::minutes(3);
    let alert = AlertDraft {
        dedup_key: "ddos:host:dc1:192.0.2.10:1764000000".into(),
        rule: "ddos".into(),
        category: "ddos".into(),
        severity: 4,
        victim: "192.0.2.10".into(),
        indicator_id: None,
        indicator: "syn_flood".into(),
        match_how: "flow".into(),
        field: "dst".into(),
        observed: "192.0.2.10".into(),
        score: None,
        reason: "syn_flood on 192.0.2.10".into(),
        count: 1,
        first_seen: started,
        last_seen: started,
        sensor: "edge-7".into(),
        evidence: "{}".into(),
    };
    store.apply_alerts(std::slice::from_ref(&alert), None).await.unwrap();
    let alert_id = store.alert_id_by_key(&alert.dedup_key).await.unwrap().unwrap();
    let draft = IncidentDraft {
        org_unit_id: root.id,
        incident_type: IncidentType::Ddos,
        title: "DDoS syn_flood on 192.0.2.10".into(),
        summary: "peak 2000000 pps".into(),
        facts: IncidentFacts::default(),
        operator_category: OperatorCategory::Other,
        discovered_at: started,
    };
    let system = actor("system");
    let opened = store.open_incident_for_alert(&system, alert_id, &draft, rules()).await.unwrap().unwrap();
    assert_eq!((opened.incident_type, opened.status), (IncidentType::Ddos, IncidentStatus::Open));
    assert_eq!(store.incident_alert_ids(opened.id).await.unwrap(), vec![alert_id]);
    for _ in 0..2 {
        assert_eq!(store.open_incident_for_alert(&system, alert_id, &draft, rules()).await.unwrap(), None);
    }
    let all = store.list_incidents(None, &IncidentFilter::default()).await.unwrap();
    assert_eq!(all.iter().map(|i| i.id).collect::<Vec<_>>(), vec![opened.id]);
    let timeline = store.incident_timeline(opened.id).await.unwrap();
    assert!(timeline.iter().any(|e| e.entry == format!("opened from alert #{alert_id}")), "{timeline:?}");
    // An alert that does not exist opens nothing.
    let missing = store.open_incident_for_alert(&system, alert_id + 1000, &draft, rules()).await;
    assert!(matches!(missing, Err(StoreError::NotFound { .. })), "{missing:?}");
    assert_eq!(store.list_incidents(None, &IncidentFilter::default()).await.unwrap().len(), 1);
}
