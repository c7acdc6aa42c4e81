//! Detection alerts: folding by dedup key, bus redelivery, victims, hourly
//! counts, audited status changes and actions.

use anbao_intel::{Category, Indicator, IndicatorKind};
use anbao_model::Role;
use anbao_model::Timestamp;
use anbao_store::{
    AlertDraft, AlertFilter, AuditFilter, BulkTriage, FALSE_POSITIVE_ALLOWLIST, ImportTotals, IndicatorFilter,
    NewSuppression, StoreError, UserPatch,
};
use time::Duration;

use crate::harness::*;

on_both_backends! {
    alerts_fold_by_key_and_redelivered_messages_change_nothing => alerts_fold_by_key_and_redelivered_messages_change_nothing_sqlite, alerts_fold_by_key_and_redelivered_messages_change_nothing_postgres;
    victims_hours_status_and_actions => victims_hours_status_and_actions_sqlite, victims_hours_status_and_actions_postgres;
    assign_allowlist_and_bulk_triage => assign_allowlist_and_bulk_triage_sqlite, assign_allowlist_and_bulk_triage_postgres;
    suppressions_drop_matching_detections_until_they_expire => suppressions_drop_matching_detections_until_they_expire_sqlite, suppressions_drop_matching_detections_until_they_expire_postgres;
    suppressions_by_source_or_destination_network => suppressions_by_source_or_destination_network_sqlite, suppressions_by_source_or_destination_network_postgres;
}

fn draft(
    victim: &str,
    indicator_id: Option<i64>,
    indicator: &str,
    count: i64,
    first: Timestamp,
    last: Timestamp,
) -> AlertDraft {
    AlertDraft {
        dedup_key: format!("intel:{victim}:{}", indicator_id.unwrap_or_default()),
        rule: "intel".into(),
        category: "botnet_cc".into(),
        severity: 3,
        victim: victim.into(),
        indicator_id,
        indicator: indicator.into(),
        match_how: "parent_domain".into(),
        field: "dns.qname".into(),
        observed: format!("www.{indicator}"),
        score: None,
        reason: String::new(),
        count,
        first_seen: first,
        last_seen: last,
        sensor: "edge-1".into(),
        evidence: r#"{"kind":"dns","summary":"query A www.evil.example"}"#.into(),
    }
}

async fn indicator(db: &TestDb, value: &str) -> i64 {
    let store = &db.store;
    let id = store.intel_import_begin(&actor("alice"), "feed", "list", "test").await.unwrap();
    store
        .intel_import_chunk(id, "feed", Category::BotnetCc, vec![Indicator::new(IndicatorKind::Domain, value)], &[])
        .await
        .unwrap();
    store.intel_import_finish(&actor("alice"), id, &ImportTotals::default(), &[], None).await.unwrap();
    store.intel_indicator_by_value(IndicatorKind::Domain, value).await.unwrap().unwrap().id
}

async fn alerts_fold_by_key_and_redelivered_messages_change_nothing(db: TestDb) {
    let store = &db.store;
    let t0 = db.now();
    let evil = indicator(&db, "evil.example").await;
    let a = draft("10.0.0.5", Some(evil), "evil.example", 3, t0, t0 + Duration::seconds(5));
    let applied = store.apply_alerts(std::slice::from_ref(&a), Some(("events", 1))).await.unwrap();
    assert_eq!((applied.new, applied.updated, applied.duplicate), (1, 0, false));

    // The same key later, and earlier: counts add, the window widens.
    let later =
        draft("10.0.0.5", Some(evil), "evil.example", 2, t0 + Duration::seconds(60), t0 + Duration::seconds(90));
    let earlier =
        draft("10.0.0.5", Some(evil), "evil.example", 1, t0 - Duration::seconds(30), t0 - Duration::seconds(30));
    let applied = store.apply_alerts(&[later, earlier], Some(("events", 2))).await.unwrap();
    assert_eq!((applied.new, applied.updated), (0, 2));

    // Message 2 redelivered (a worker died before acknowledging): nothing changes.
    let again =
        draft("10.0.0.5", Some(evil), "evil.example", 2, t0 + Duration::seconds(60), t0 + Duration::seconds(90));
    let applied = store.apply_alerts(&[again], Some(("events", 2))).await.unwrap();
    assert!(applied.duplicate);
    // The same sequence number on another stream is another message.
    let other = draft("10.0.0.6", Some(evil), "evil.example", 1, t0, t0);
    assert!(!store.apply_alerts(&[other], Some(("flows", 2))).await.unwrap().duplicate);

    let all = store.alerts(&AlertFilter::default(), 0, 100).await.unwrap();
    assert_eq!(all.len(), 2);
    let a5 = all.iter().find(|a| a.victim == "10.0.0.5").unwrap();
    assert_eq!(a5.count, 6);
    assert_eq!(a5.first_seen, t0 - Duration::seconds(30));
    assert_eq!(a5.last_seen, t0 + Duration::seconds(90));
    assert_eq!((a5.indicator_id, a5.status.as_str()), (Some(evil), "new"));
    assert_eq!(a5.evidence["kind"], "dns", "evidence comes back as JSON");

    // Disposal lists: the indicators a confirmed alert names.
    let confirmed = IndicatorFilter { alert_status: Some("confirmed".into()), ..IndicatorFilter::default() };
    assert_eq!(store.intel_count(&confirmed).await.unwrap(), 0);
    store.set_alert_status(&actor("bob"), a5.id, "confirmed").await.unwrap();
    assert_eq!(store.intel_count(&confirmed).await.unwrap(), 1);
    let listed = store.intel_indicators(&confirmed, None, 10).await.unwrap();
    assert_eq!(listed[0].value, "evil.example");

    // Without a category, the indicator's; severity by category.
    let mut bare = draft("10.0.0.8", Some(evil), "evil.example", 1, t0, t0);
    bare.category = String::new();
    bare.severity = 0;
    store.apply_alerts(&[bare], None).await.unwrap();
    let f = AlertFilter { victim: Some("10.0.0.8".into()), ..AlertFilter::default() };
    let got = &store.alerts(&f, 0, 10).await.unwrap()[0];
    assert_eq!((got.category.as_str(), got.severity), ("botnet_cc", 3));

    // An alert naming an indicator that has since been deleted still lands.
    let gone = draft("10.0.0.7", Some(999_999), "gone.example", 1, t0, t0);
    store.apply_alerts(&[gone], None).await.unwrap();
    let f = AlertFilter { victim: Some("10.0.0.7".into()), ..AlertFilter::default() };
    assert_eq!(store.alerts(&f, 0, 10).await.unwrap()[0].indicator_id, None);
}

async fn victims_hours_status_and_actions(db: TestDb) {
    let store = &db.store;
    let t0 = db.now();
    let mut phish = draft("10.0.0.9", None, "phish.example", 4, t0, t0);
    phish.dedup_key = "intel:10.0.0.9:phish".into();
    phish.category = "phishing".into();
    phish.severity = 2;
    let bot = draft("10.0.0.9", None, "bot.example", 1, t0, t0 + Duration::seconds(1));
    let other = draft("10.0.0.10", None, "bot.example", 5, t0 - Duration::hours(2), t0 - Duration::hours(2));
    store.apply_alerts(&[phish, bot, other], None).await.unwrap();

    let victims = store.alert_victims(&AlertFilter::default(), 10).await.unwrap();
    assert_eq!(victims.len(), 2);
    let v9 = &victims[0];
    assert_eq!((v9.victim.as_str(), v9.alerts, v9.events, v9.max_severity), ("10.0.0.9", 2, 5, 3));
    assert_eq!(v9.categories, "botnet_cc,phishing");

    let hours = store.alert_hours(t0 - Duration::hours(3)).await.unwrap();
    let total: i64 = hours.iter().map(|(_, _, n)| n).sum();
    assert_eq!(total, 10, "{hours:?}");
    assert!(hours.iter().any(|(_, c, n)| c == "phishing" && *n == 4), "{hours:?}");

    let q = AlertFilter { q: Some("PHISH".into()), ..AlertFilter::default() };
    let found = store.alerts(&q, 0, 10).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(store.alert_count(&q).await.unwrap(), 1);
    let id = found[0].id;

    let bob = actor("bob");
    let changed = store.set_alert_status(&bob, id, "confirmed").await.unwrap();
    assert_eq!(changed.status, "confirmed");
    assert_audited(store, "bob", "alert.status", "alert", id).await;
    assert!(matches!(store.set_alert_status(&bob, id, "gone").await, Err(StoreError::Invalid(_))));
    assert!(matches!(store.set_alert_status(&bob, 424_242, "new").await, Err(StoreError::NotFound { .. })));

    store.add_alert_action(&bob, id, "notified", "SMS to the subscriber of 10.0.0.9").await.unwrap();
    store.add_alert_action(&bob, id, "rpz", "phish.example in rpz.anbao").await.unwrap();
    assert!(matches!(store.add_alert_action(&bob, id, "launched", "").await, Err(StoreError::Invalid(_))));
    let actions = store.alert_actions(id).await.unwrap();
    assert_eq!(actions.iter().map(|a| a.action.as_str()).collect::<Vec<_>>(), ["notified", "rpz"]);
    assert_eq!(actions[0].actor, "bob");
    assert_audited(store, "bob", "alert.action", "alert", id).await;

    let summary = store.alert_disposal_summary(t0 - Duration::hours(1)).await.unwrap();
    assert_eq!(summary, [("botnet_cc".to_owned(), 1, 0, 0), ("phishing".to_owned(), 1, 1, 1)], "{summary:?}");

    let counts = store.alert_status_counts().await.unwrap();
    assert_eq!(counts, [("confirmed".to_owned(), 1), ("new".to_owned(), 2)]);
}

async fn assign_allowlist_and_bulk_triage(db: TestDb) {
    let store = &db.store;
    let t0 = db.now();
    let root = create_root(store).await;
    create_user(store, "zhang.wei", Role::Analyst, root.id).await;
    let gone = create_user(store, "li.na", Role::Analyst, root.id).await;
    let patch = UserPatch { disabled: Some(true), ..UserPatch::default() };
    store.update_user(&actor("alice"), gone.id, &patch).await.unwrap();
    let evil = indicator(&db, "evil.example").await;
    let drafts: Vec<AlertDraft> =
        ["10.0.0.1", "10.0.0.2", "10.0.0.3"].iter().map(|v| draft(v, Some(evil), "evil.example", 1, t0, t0)).collect();
    store.apply_alerts(&drafts, None).await.unwrap();
    let ids: Vec<i64> = store.alerts(&AlertFilter::default(), 0, 10).await.unwrap().iter().map(|a| a.id).collect();
    assert_eq!(ids.len(), 3);
    let bob = actor("bob");

    // Assign: an active user only; empty unassigns.
    let a = store.assign_alert(&bob, ids[0], " zhang.wei ").await.unwrap();
    assert_eq!(a.assignee, "zhang.wei");
    let entry = assert_audited(store, "bob", "alert.assign", "alert", ids[0]).await;
    assert_eq!(entry.after.as_ref().map(|v| v["assignee"].clone()), Some("zhang.wei".into()));
    assert_invalid(store.assign_alert(&bob, ids[1], "li.na").await, "assignee");
    assert_invalid(store.assign_alert(&bob, ids[1], "nobody").await, "assignee");
    assert!(matches!(store.assign_alert(&bob, 424_242, "zhang.wei").await, Err(StoreError::NotFound { .. })));
    let mine = AlertFilter { assignee: Some("zhang.wei".into()), ..AlertFilter::default() };
    assert_eq!(store.alerts(&mine, 0, 10).await.unwrap().iter().map(|a| a.id).collect::<Vec<_>>(), [ids[0]]);
    let nobody = AlertFilter { assignee: Some(String::new()), ..AlertFilter::default() };
    assert_eq!(store.alert_count(&nobody).await.unwrap(), 2);

    // False positive with an allowlist entry: the list is made on first
    // use, and holds the value once however often it is marked.
    assert_invalid(store.set_alert_status_allowlisting(&bob, ids[1], "resolved", true).await, "allowlist");
    let before = store.intel_generation().await.unwrap();
    let fp = store.set_alert_status_allowlisting(&bob, ids[1], "false_positive", true).await.unwrap();
    assert_eq!(fp.status, "false_positive");
    assert_audited(store, "bob", "alert.status", "alert", ids[1]).await;
    store.set_alert_status_allowlisting(&bob, ids[2], "false_positive", true).await.unwrap();
    let lists = store.intel_allowlists().await.unwrap();
    let list = lists.iter().find(|l| l.name == FALSE_POSITIVE_ALLOWLIST).expect("the false positives list");
    assert_eq!((list.entries.as_slice(), list.enabled), (&["evil.example".to_owned()][..], true));
    assert!(store.intel_generation().await.unwrap() > before, "the index learns of the new entry");

    // Bulk: one transaction; a bad id or assignee changes nothing.
    let change = |ids: Vec<i64>, status: Option<&str>, assignee: Option<&str>| BulkTriage {
        ids,
        status: status.map(str::to_owned),
        assignee: assignee.map(str::to_owned),
    };
    let bad = store.bulk_triage_alerts(&bob, &change(vec![ids[0], 424_242], Some("resolved"), None)).await;
    assert!(matches!(bad, Err(StoreError::NotFound { .. })), "{bad:?}");
    assert_eq!(store.alert(ids[0]).await.unwrap().status, "new", "rolled back");
    assert_invalid(store.bulk_triage_alerts(&bob, &change(ids.clone(), None, Some("li.na"))).await, "assignee");
    assert_invalid(store.bulk_triage_alerts(&bob, &change(ids.clone(), Some("done"), None)).await, "status");
    assert_invalid(store.bulk_triage_alerts(&bob, &change(vec![], Some("resolved"), None)).await, "ids");
    assert_invalid(store.bulk_triage_alerts(&bob, &change(vec![1; 1001], Some("resolved"), None)).await, "ids");
    assert_invalid(store.bulk_triage_alerts(&bob, &change(ids.clone(), None, None)).await, "status");
    let audit_before = audit(store, AuditFilter { limit: 1000, ..AuditFilter::default() }).await.len();
    let n =
        store.bulk_triage_alerts(&bob, &change(ids.clone(), Some("acknowledged"), Some("zhang.wei"))).await.unwrap();
    assert_eq!(n, 3);
    for id in &ids {
        let a = store.alert(*id).await.unwrap();
        assert_eq!((a.status.as_str(), a.assignee.as_str()), ("acknowledged", "zhang.wei"));
    }
    let entries = audit(store, AuditFilter { limit: 1000, ..AuditFilter::default() }).await;
    assert_eq!(entries.len(), audit_before + 3, "one audit entry per alert");
    let last = ids.iter().max().copied().unwrap_or_default();
    assert_audited(store, "bob", "alert.bulk", "alert", last).await;
    // Only the assignee, to nobody: the status stays.
    assert_eq!(store.bulk_triage_alerts(&bob, &change(vec![ids[1]], None, Some(""))).await.unwrap(), 1);
    let a = store.alert(ids[1]).await.unwrap();
    assert_eq!((a.status.as_str(), a.assignee.as_str()), ("acknowledged", ""));
}

async fn suppressions_drop_matching_detections_until_they_expire(db: TestDb) {
    let store = &db.store;
    let t0 = db.now();
    let bob = actor("bob");
    let rule = |victim_prefix: &str, pattern: &str, until| NewSuppression {
        victim_prefix: victim_prefix.into(),
        indicator_pattern: pattern.into(),
        until: Some(until),
        reason: "scanner of our own SOC".into(),
        ..NewSuppression::default()
    };
    assert_invalid(store.create_alert_suppression(&bob, &rule("", "*", t0 + Duration::hours(1))).await, "rule");
    assert_invalid(store.create_alert_suppression(&bob, &rule("10.9.", "", t0 - Duration::hours(1))).await, "until");
    let mut no_reason = rule("10.9.", "", t0 + Duration::hours(1));
    no_reason.reason = " ".into();
    assert_invalid(store.create_alert_suppression(&bob, &no_reason).await, "reason");

    let lab = store.create_alert_suppression(&bob, &rule("10.9.", "", t0 + Duration::hours(1))).await.unwrap();
    assert_audited(store, "bob", "alert.suppression.create", "alert_suppression", lab.id).await;
    let cdn = store.create_alert_suppression(&bob, &rule("", "*.CDN.example", t0 + Duration::hours(1))).await.unwrap();
    assert_eq!(cdn.indicator_pattern, "*.cdn.example");

    let drafts = [
        draft("10.9.0.1", None, "evil.example", 3, t0, t0),
        draft("10.0.0.1", None, "a.cdn.example", 2, t0, t0),
        draft("10.0.0.1", None, "cdn.example", 1, t0, t0),
    ];
    let mut drafts = drafts.to_vec();
    for (i, d) in drafts.iter_mut().enumerate() {
        d.dedup_key = format!("k{i}");
    }
    let applied = store.apply_alerts(&drafts, None).await.unwrap();
    assert_eq!((applied.new, applied.suppressed), (1, 2));
    let left = store.alerts(&AlertFilter::default(), 0, 10).await.unwrap();
    assert_eq!(left.iter().map(|a| a.indicator.as_str()).collect::<Vec<_>>(), ["cdn.example"]);
    let rules = store.alert_suppressions().await.unwrap();
    let count = |id| rules.iter().find(|r| r.id == id).map(|r| r.suppressed);
    assert_eq!((count(lab.id), count(cdn.id)), (Some(3), Some(2)), "events dropped, per rule");

    // Expired: detections come through again.
    db.clock.advance(Duration::hours(2));
    let applied = store.apply_alerts(&drafts[..1], None).await.unwrap();
    assert_eq!((applied.new, applied.suppressed), (1, 0));

    store.delete_alert_suppression(&bob, cdn.id).await.unwrap();
    assert_audited(store, "bob", "alert.suppression.delete", "alert_suppression", cdn.id).await;
    assert_eq!(store.alert_suppressions().await.unwrap().len(), 1);
    assert!(matches!(store.delete_alert_suppression(&bob, cdn.id).await, Err(StoreError::NotFound { .. })));
}

async fn suppressions_by_source_or_destination_network(db: TestDb) {
    let store = &db.store;
    let t0 = db.now();
    let bob = actor("bob");
    let rule = |src: &str, dst: &str| NewSuppression {
        src_cidr: src.into(),
        dst_cidr: dst.into(),
        until: Some(t0 + Duration::hours(1)),
        reason: "our resolvers and the lab".into(),
        ..NewSuppression::default()
    };
    // A bad range names its field and says why.
    let e = store.create_alert_suppression(&bob, &rule("10.1.2.3/16", "")).await.unwrap_err().to_string();
    assert!(e.contains("src_cidr") && e.contains("the network is 10.1.0.0/16"), "{e}");
    assert_invalid(store.create_alert_suppression(&bob, &rule("", "2001:db8::/129")).await, "dst_cidr");
    assert_invalid(store.create_alert_suppression(&bob, &rule("", "resolvers")).await, "dst_cidr");
    assert!(store.alert_suppressions().await.unwrap().is_empty(), "nothing written");

    // Canonical form kept; one rule per family and direction.
    let lab = store.create_alert_suppression(&bob, &rule(" 10.9.0.0/16 ", "")).await.unwrap();
    assert_eq!((lab.src_cidr.as_str(), lab.dst_cidr.as_str()), ("10.9.0.0/16", ""));
    assert_audited(store, "bob", "alert.suppression.create", "alert_suppression", lab.id).await;
    let resolvers = store.create_alert_suppression(&bob, &rule("", "2001:DB8:53::/48")).await.unwrap();
    assert_eq!(resolvers.dst_cidr, "2001:db8:53::/48");

    let with_addrs = |key: &str, src: &str, dst: Option<&str>| {
        let mut d = draft(src, None, "evil.example", 1, t0, t0);
        d.dedup_key = key.into();
        d.evidence = match dst {
            Some(dst) => format!(r#"{{"kind":"dns","src":"{src}","dst":"{dst}","summary":"query"}}"#),
            None => format!(r#"{{"kind":"dns","src":"{src}","summary":"query"}}"#),
        };
        d
    };
    let mut ddos = draft("2001:db8:53::7", None, "udp_flood", 1, t0, t0);
    ddos.dedup_key = "ddos".into();
    ddos.field = "dst".into();
    ddos.evidence = r#"{"victim":"2001:db8:53::7","class":"udp_flood"}"#.into();
    let drafts = [
        with_addrs("lab-v4", "10.9.200.1", Some("192.0.2.53")), // source in the lab: dropped
        with_addrs("lab-mapped", "::ffff:10.9.0.5", Some("192.0.2.53")), // IPv4-mapped: still the lab
        with_addrs("office", "10.10.0.1", Some("192.0.2.53")),  // outside both: kept
        with_addrs("to-resolver", "2001:db8:1::1", Some("2001:db8:53::1")), // destination in range: dropped
        with_addrs("no-dst", "2001:db8:1::2", None),            // no destination: kept
        ddos,                                                   // the attacked host is the destination
    ];
    let applied = store.apply_alerts(&drafts, None).await.unwrap();
    assert_eq!((applied.new, applied.suppressed), (2, 4));
    let mut left: Vec<String> =
        store.alerts(&AlertFilter::default(), 0, 10).await.unwrap().into_iter().map(|a| a.victim).collect();
    left.sort();
    assert_eq!(left, ["10.10.0.1", "2001:db8:1::2"]);
    let rules = store.alert_suppressions().await.unwrap();
    let count = |id| rules.iter().find(|r| r.id == id).map(|r| r.suppressed);
    assert_eq!((count(lab.id), count(resolvers.id)), (Some(2), Some(2)));
}
