//! Warnings (R2.4): issued to users and units with a scope, adjusted with a
//! reason, lifted, each step in the history, the audit log and the
//! notification queue; acknowledgements tracked per recipient.

use anbao_model::asset::AssetType;
use anbao_model::{OrgKind, Role};
use anbao_store::{WarningDraft, WarningLevel, WarningPatch};
use time::Duration;

use crate::harness::*;

on_both_backends! {
    warnings_are_issued_adjusted_and_lifted_with_history => warnings_are_issued_adjusted_and_lifted_with_history_sqlite, warnings_are_issued_adjusted_and_lifted_with_history_postgres;
    recipients_acknowledge_for_themselves_or_their_unit => recipients_acknowledge_for_themselves_or_their_unit_sqlite, recipients_acknowledge_for_themselves_or_their_unit_postgres;
}

fn draft(users: Vec<i64>, units: Vec<i64>) -> WarningDraft {
    WarningDraft {
        level: Some(WarningLevel::Yellow),
        title: "勒索软件活动预警".into(),
        description: "针对数据库服务的勒索攻击增多".into(),
        scope_regions: vec!["北京".into(), " 上海 ".into(), "北京".into(), "".into()],
        scope_asset_types: vec![AssetType::BusinessSystem, AssetType::CloudTenant, AssetType::BusinessSystem],
        required_actions: "排查暴露的数据库端口".into(),
        recipient_users: users,
        recipient_units: units,
    }
}

async fn warnings_are_issued_adjusted_and_lifted_with_history(db: TestDb) {
    let store = &db.store;
    let root = create_root(store).await;
    let alice = create_user(store, "alice", Role::Responder, root.id).await;
    let channel = store
        .create_notify_channel(
            &actor("admin"),
            &anbao_store::NotifyChannelDraft {
                name: "SOC".into(),
                kind: "webhook".into(),
                target: "https://soc.example/hook".into(),
                settings: Some(serde_json::json!({ "url": "https://soc.example/hook", "secret": "k" })),
                enabled: true,
            },
        )
        .await
        .unwrap();
    for event in ["warning_issued", "warning_adjusted", "warning_lifted"] {
        let rule = anbao_store::NotifyRuleDraft {
            channel_id: channel.id,
            event: event.into(),
            min_level: anbao_model::incident::IncidentLevel::None,
            min_severity: 0,
            minutes_before: 0,
            enabled: true,
        };
        store.create_notify_rule(&actor("admin"), &rule).await.unwrap();
    }
    let bob = actor("bob");

    // Refused drafts leave nothing behind.
    let audit_before = store.count_audit().await.unwrap();
    assert_invalid(store.issue_warning(&bob, &draft(vec![], vec![])).await, "recipients");
    assert_invalid(
        store.issue_warning(&bob, &WarningDraft { level: None, ..draft(vec![alice.id], vec![]) }).await,
        "level",
    );
    assert_invalid(
        store.issue_warning(&bob, &WarningDraft { title: " ".into(), ..draft(vec![alice.id], vec![]) }).await,
        "title",
    );
    assert_invalid(store.issue_warning(&bob, &draft(vec![424_242], vec![])).await, "recipient_users");
    assert_invalid(store.issue_warning(&bob, &draft(vec![], vec![424_242])).await, "recipient_units");
    assert_eq!(store.count_audit().await.unwrap(), audit_before);
    assert!(store.list_warnings().await.unwrap().is_empty());

    let w = store.issue_warning(&bob, &draft(vec![alice.id], vec![root.id])).await.unwrap();
    assert_eq!((w.level, w.status.as_str(), w.issued_by.as_str()), (WarningLevel::Yellow, "issued", "bob"));
    assert_eq!(w.scope_regions, vec!["北京".to_owned(), "上海".to_owned()]);
    assert_eq!(w.scope_asset_types, vec![AssetType::BusinessSystem, AssetType::CloudTenant]);
    assert_eq!((w.acked, w.recipients), (0, 2));
    assert_audited(store, "bob", "warning.issue", "warning", w.id).await;
    let recipients = store.warning_recipients(w.id).await.unwrap();
    let names: Vec<&str> = recipients.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, vec!["集团公司", "alice"], "units first, then users");

    // Adjust: a reason is required; raising the level is recorded.
    db.clock.advance(Duration::minutes(5));
    let raise = WarningPatch { level: Some(WarningLevel::Red), reason: "".into(), ..Default::default() };
    assert_invalid(store.adjust_warning(&bob, w.id, &raise).await, "reason");
    let raise = WarningPatch { reason: "多家单位已确认受攻击".into(), ..raise };
    let w2 = store.adjust_warning(&bob, w.id, &raise).await.unwrap();
    assert_eq!(w2.level, WarningLevel::Red);
    assert_audited(store, "bob", "warning.adjust", "warning", w.id).await;
    // Adjusting to what it already is writes nothing.
    let audit_now = store.count_audit().await.unwrap();
    store.adjust_warning(&bob, w.id, &raise).await.unwrap();
    assert_eq!(store.count_audit().await.unwrap(), audit_now);
    // A second adjustment at the same instant still notifies on its own.
    let content = WarningPatch {
        required_actions: Some("立即封禁 3389 端口".into()),
        scope_regions: Some(vec!["全国".into()]),
        reason: "扩大范围".into(),
        ..Default::default()
    };
    let w3 = store.adjust_warning(&bob, w.id, &content).await.unwrap();
    assert_eq!(
        (w3.required_actions.as_str(), w3.scope_regions.clone()),
        ("立即封禁 3389 端口", vec!["全国".to_owned()])
    );

    // Lift: reason required, then no more adjusting or lifting.
    db.clock.advance(Duration::minutes(5));
    assert_invalid(store.lift_warning(&bob, w.id, "  ").await, "reason");
    let lifted = store.lift_warning(&bob, w.id, "威胁已消除").await.unwrap();
    assert_eq!(
        (lifted.status.as_str(), lifted.lifted_by.as_deref(), lifted.lift_reason.as_str()),
        ("lifted", Some("bob"), "威胁已消除")
    );
    assert!(lifted.lifted_at.is_some());
    assert_audited(store, "bob", "warning.lift", "warning", w.id).await;
    assert_conflict(store.lift_warning(&bob, w.id, "again").await);
    assert_conflict(store.adjust_warning(&bob, w.id, &content).await);
    assert_not_found(store.lift_warning(&bob, 424_242, "x").await);

    let history = store.warning_history(w.id).await.unwrap();
    let steps: Vec<(&str, WarningLevel, &str)> =
        history.iter().map(|h| (h.action.as_str(), h.level, h.reason.as_str())).collect();
    assert_eq!(
        steps,
        vec![
            ("issued", WarningLevel::Yellow, ""),
            ("adjusted", WarningLevel::Red, "多家单位已确认受攻击"),
            ("adjusted", WarningLevel::Red, "扩大范围"),
            ("lifted", WarningLevel::Red, "威胁已消除"),
        ]
    );
    assert_eq!(history[1].changes, "level yellow → red");
    assert!(history[2].changes.contains("regions"), "{}", history[2].changes);

    // Each step queued its event for the channel, in the same transaction.
    let queued = store.list_notifications(None, 100).await.unwrap();
    let mut events: Vec<&str> = queued.iter().map(|n| n.event.as_str()).collect();
    events.sort_unstable();
    assert_eq!(events, vec!["warning_adjusted", "warning_adjusted", "warning_issued", "warning_lifted"]);

    // A second, active warning lists before the lifted one.
    let other = store.issue_warning(&bob, &draft(vec![alice.id], vec![])).await.unwrap();
    let ids: Vec<i64> = store.list_warnings().await.unwrap().iter().map(|w| w.id).collect();
    assert_eq!(ids, vec![other.id, w.id]);
}

async fn recipients_acknowledge_for_themselves_or_their_unit(db: TestDb) {
    let store = &db.store;
    let root = create_root(store).await;
    let branch = create_unit(store, Some(root.id), "北京分公司", OrgKind::Province).await;
    let alice = create_user(store, "alice", Role::Responder, root.id).await;
    let carol = create_user(store, "carol", Role::Auditor, branch.id).await;
    let dave = create_user(store, "dave", Role::Auditor, root.id).await;
    let w = store.issue_warning(&actor("bob"), &draft(vec![alice.id], vec![branch.id])).await.unwrap();
    assert_eq!((w.acked, w.recipients), (0, 2));

    // Dave is neither a recipient nor in a recipient unit.
    assert_conflict(store.ack_warning(&actor("dave"), w.id, Some(dave.id), root.id).await);
    assert!(!store.warning_ack_pending(w.id, Some(dave.id), root.id).await.unwrap());

    // Carol acknowledges for her unit.
    assert!(store.warning_ack_pending(w.id, Some(carol.id), branch.id).await.unwrap());
    db.clock.advance(Duration::minutes(3));
    assert_eq!(store.ack_warning(&actor("carol"), w.id, Some(carol.id), branch.id).await.unwrap(), 1);
    assert_audited(store, "carol", "warning.ack", "warning", w.id).await;
    assert!(!store.warning_ack_pending(w.id, Some(carol.id), branch.id).await.unwrap());
    assert_conflict(store.ack_warning(&actor("carol"), w.id, Some(carol.id), branch.id).await);
    let got = store.get_warning(w.id).await.unwrap();
    assert_eq!((got.acked, got.recipients), (1, 2));

    // Alice acknowledges for herself.
    store.ack_warning(&actor("alice"), w.id, Some(alice.id), root.id).await.unwrap();
    let recipients = store.warning_recipients(w.id).await.unwrap();
    let acks: Vec<(&str, Option<&str>, bool)> =
        recipients.iter().map(|r| (r.name.as_str(), r.acked_by.as_deref(), r.acked_at.is_some())).collect();
    assert_eq!(acks, vec![("北京分公司", Some("carol"), true), ("alice", Some("alice"), true)]);
    assert_eq!(store.get_warning(w.id).await.unwrap().acked, 2);

    // A lifted warning takes no acknowledgement.
    let w2 = store.issue_warning(&actor("bob"), &draft(vec![alice.id], vec![])).await.unwrap();
    store.lift_warning(&actor("bob"), w2.id, "误报").await.unwrap();
    assert_conflict(store.ack_warning(&actor("alice"), w2.id, Some(alice.id), root.id).await);
    assert_not_found(store.ack_warning(&actor("alice"), 424_242, Some(alice.id), root.id).await);
}
