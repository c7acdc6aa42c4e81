//! Flow mitigation rules (issue #6): proposed by the pipeline, approved,
//! rejected or withdrawn by people, claimed and recorded by the executor,
//! withdrawn automatically after the attack's end plus the hold time or at
//! expiry, re-announced after a restart; every step audited.

use anbao_store::{MitigationChange, MitigationDraft};
use time::Duration;

use crate::harness::*;

on_both_backends! {
    manual_rules_wait_for_approval_and_are_withdrawn_after_the_hold => manual_rules_wait_for_approval_and_are_withdrawn_after_the_hold_sqlite, manual_rules_wait_for_approval_and_are_withdrawn_after_the_hold_postgres;
    automatic_rules_failures_rejections_expiry_and_restart => automatic_rules_failures_rejections_expiry_and_restart_sqlite, automatic_rules_failures_rejections_expiry_and_restart_postgres;
    failed_withdrawals_are_retried_with_backoff => failed_withdrawals_are_retried_with_backoff_sqlite, failed_withdrawals_are_retried_with_backoff_postgres;
    failed_announcements_are_retried_while_the_attack_lasts => failed_announcements_are_retried_while_the_attack_lasts_sqlite, failed_announcements_are_retried_while_the_attack_lasts_postgres;
    announcement_retries_stop_at_the_attacks_end_or_a_withdrawal => announcement_retries_stop_at_the_attacks_end_or_a_withdrawal_sqlite, announcement_retries_stop_at_the_attacks_end_or_a_withdrawal_postgres;
    flow_nodes_are_upserted_listed_and_purged => flow_nodes_are_upserted_listed_and_purged_sqlite, flow_nodes_are_upserted_listed_and_purged_postgres;
}

fn draft(key: &str, kind: &str, automatic: bool) -> MitigationDraft {
    MitigationDraft {
        attack_key: key.into(),
        alert_id: None,
        group_name: "dc1".into(),
        victim: "192.0.2.5".into(),
        kind: kind.into(),
        automatic,
        rule: serde_json::json!({ "kind": kind, "victim": "192.0.2.5" }),
        announce_line: format!("announce {kind} 192.0.2.5/32"),
        withdraw_line: format!("withdraw {kind} 192.0.2.5/32"),
        hold_secs: 60,
        max_secs: 3600,
    }
}

async fn manual_rules_wait_for_approval_and_are_withdrawn_after_the_hold(db: TestDb) {
    let store = &db.store;
    let drafts = [draft("ddos:a", "rtbh", false), draft("ddos:a", "flowspec", false)];
    let new = store.propose_mitigations(&drafts).await.unwrap();
    assert_eq!(new.len(), 2);
    assert!(new.iter().all(|m| m.state == "proposed" && m.pending.is_empty() && m.mode == "manual"));
    // Proposed again (the same attack seen again): nothing new.
    assert!(store.propose_mitigations(&drafts).await.unwrap().is_empty());
    let bad = MitigationDraft { kind: "nullroute".into(), ..draft("ddos:a", "x", false) };
    assert_invalid(store.propose_mitigations(&[bad]).await, "kind");
    // Nothing for the executor until someone approves.
    assert!(store.claim_mitigation_work(30, 10).await.unwrap().is_empty());
    let (rtbh, fs) = (new[0].id, new[1].id);
    assert_conflict(store.withdraw_mitigation(&actor("alice"), rtbh).await);

    let approved = store.approve_mitigation(&actor("alice"), rtbh).await.unwrap();
    assert_eq!((approved.pending.as_str(), approved.approved_by.as_deref()), ("announce", Some("alice")));
    assert_audited(store, "alice", "mitigation.approve", "mitigation", rtbh).await;
    assert_conflict(store.approve_mitigation(&actor("alice"), rtbh).await);
    let rejected = store.reject_mitigation(&actor("bob"), fs, "  FlowSpec not needed ").await.unwrap();
    assert_eq!((rejected.state.as_str(), rejected.reject_reason.as_str()), ("rejected", "FlowSpec not needed"));
    assert_audited(store, "bob", "mitigation.reject", "mitigation", fs).await;
    assert_conflict(store.reject_mitigation(&actor("bob"), rtbh, "").await);

    // The executor leases the approved rule; a second executor gets nothing
    // until the lease runs out.
    let work = store.claim_mitigation_work(30, 10).await.unwrap();
    assert_eq!(work.len(), 1);
    assert_eq!((work[0].0.id, work[0].1), (rtbh, MitigationChange::Announce));
    let other = db.reopen().await.unwrap();
    assert!(other.claim_mitigation_work(30, 10).await.unwrap().is_empty());
    let m = store.record_mitigation_result(rtbh, MitigationChange::Announce, Ok(())).await.unwrap().unwrap();
    assert_eq!((m.state.as_str(), m.pending.as_str()), ("announced", ""));
    assert_eq!(m.announced_at.as_deref(), Some(m.updated_at.as_str()));
    assert_audited(store, "system", "mitigation.announced", "mitigation", rtbh).await;
    // A late result for a change no longer pending is ignored.
    assert!(store.record_mitigation_result(rtbh, MitigationChange::Announce, Ok(())).await.unwrap().is_none());

    // The attack ends; nothing happens before the hold time is over.
    assert_eq!(store.end_mitigations("ddos:a", db.now()).await.unwrap(), 1, "the rejected rule is left alone");
    assert_eq!(store.end_mitigations("ddos:a", db.now()).await.unwrap(), 0, "an end seen again changes nothing");
    db.clock.advance(Duration::seconds(59));
    assert!(store.claim_mitigation_work(30, 10).await.unwrap().is_empty());
    db.clock.advance(Duration::seconds(1));
    let work = store.claim_mitigation_work(30, 10).await.unwrap();
    assert_eq!(work.len(), 1);
    assert_eq!((work[0].0.id, work[0].1), (rtbh, MitigationChange::Withdraw));
    assert_eq!(work[0].0.withdraw_reason, "automatic");
    let m = store.record_mitigation_result(rtbh, MitigationChange::Withdraw, Ok(())).await.unwrap().unwrap();
    assert_eq!((m.state.as_str(), m.withdrawn_by.as_deref()), ("withdrawn", Some("system")));
    assert!(m.withdrawn_at.is_some());

    let all = store.list_mitigations(None, None, 100).await.unwrap();
    assert_eq!(all.iter().map(|m| m.state.as_str()).collect::<Vec<_>>(), ["rejected", "withdrawn"]);
    assert_eq!(store.list_mitigations(Some("withdrawn"), None, 100).await.unwrap().len(), 1);
    assert_invalid(store.list_mitigations(Some("gone"), None, 100).await, "state");
    assert_not_found(store.mitigation(999).await);
    let actions: Vec<String> = audit(store, everything()).await.into_iter().map(|e| e.action).collect();
    assert_eq!(
        actions.iter().filter(|a| a.starts_with("mitigation.")).count(),
        7,
        "2 proposals, approve, reject, announced, automatic withdrawal, withdrawn: {actions:?}"
    );
}

async fn automatic_rules_failures_rejections_expiry_and_restart(db: TestDb) {
    let store = &db.store;
    let auto = store.propose_mitigations(&[draft("ddos:b", "rtbh", true)]).await.unwrap();
    assert_eq!((auto[0].mode.as_str(), auto[0].pending.as_str()), ("automatic", "announce"));
    assert_eq!(auto[0].approved_by.as_deref(), Some("automatic"));
    let id = auto[0].id;
    // The first announcement fails: recorded, with its retry in 30 s.
    let work = store.claim_mitigation_work(30, 10).await.unwrap();
    assert_eq!(work.len(), 1);
    let m = store
        .record_mitigation_result(
            id,
            MitigationChange::Announce,
            Err("gobgp: exit status 1: connection refused".into()),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!((m.state.as_str(), m.failed_change.as_str()), ("failed", "announce"));
    assert!(m.error.contains("connection refused"));
    assert_audited(store, "system", "mitigation.failed", "mitigation", id).await;
    assert!(m.retry_at.is_some());
    db.clock.advance(Duration::seconds(10));
    assert!(store.claim_mitigation_work(30, 10).await.unwrap().is_empty());
    // Approved again: retried at once, and this time it works.
    let m = store.approve_mitigation(&actor("alice"), id).await.unwrap();
    assert_eq!(m.retry_at, None);
    let work = store.claim_mitigation_work(30, 10).await.unwrap();
    assert_eq!(work[0].1, MitigationChange::Announce);
    assert_eq!(work[0].0.attempts, 2);
    store.record_mitigation_result(id, MitigationChange::Announce, Ok(())).await.unwrap();

    // A restart: the announced rule is queued for announcing again and stays announced.
    assert_eq!(store.requeue_announced_mitigations().await.unwrap(), 1);
    let work = store.claim_mitigation_work(30, 10).await.unwrap();
    assert_eq!((work[0].0.id, work[0].1), (id, MitigationChange::Announce));
    let m = store.record_mitigation_result(id, MitigationChange::Announce, Ok(())).await.unwrap().unwrap();
    assert_eq!(m.state, "announced");

    // Withdrawn by hand.
    let m = store.withdraw_mitigation(&actor("bob"), id).await.unwrap();
    assert_eq!((m.pending.as_str(), m.withdraw_reason.as_str()), ("withdraw", "manual"));
    assert_audited(store, "bob", "mitigation.withdraw", "mitigation", id).await;
    assert_conflict(store.withdraw_mitigation(&actor("bob"), id).await);
    let work = store.claim_mitigation_work(30, 10).await.unwrap();
    assert_eq!(work[0].1, MitigationChange::Withdraw);
    let m = store.record_mitigation_result(id, MitigationChange::Withdraw, Ok(())).await.unwrap().unwrap();
    assert_eq!((m.state.as_str(), m.withdrawn_by.as_deref()), ("withdrawn", Some("bob")));

    // A manual proposal whose attack ends before anyone approves it is
    // rejected by the system after the hold; an announced one that never
    // sees its attack's end is withdrawn at expiry.
    let c = store.propose_mitigations(&[draft("ddos:c", "rtbh", false)]).await.unwrap()[0].id;
    let d = store.propose_mitigations(&[draft("ddos:d", "rtbh", true)]).await.unwrap()[0].id;
    store.claim_mitigation_work(30, 10).await.unwrap();
    store.record_mitigation_result(d, MitigationChange::Announce, Ok(())).await.unwrap();
    store.end_mitigations("ddos:c", db.now()).await.unwrap();
    db.clock.advance(Duration::seconds(60));
    assert!(store.claim_mitigation_work(30, 10).await.unwrap().is_empty());
    let m = store.mitigation(c).await.unwrap();
    assert_eq!((m.state.as_str(), m.rejected_by.as_deref()), ("rejected", Some("system")));
    assert_conflict(store.approve_mitigation(&actor("alice"), c).await);
    db.clock.advance(Duration::seconds(3600));
    let work = store.claim_mitigation_work(30, 10).await.unwrap();
    assert_eq!(work.len(), 1);
    assert_eq!(
        (work[0].0.id, work[0].1, work[0].0.withdraw_reason.as_str()),
        (d, MitigationChange::Withdraw, "expired")
    );
    assert_chain_intact(store, audit(store, everything()).await.len() as i64).await;
}

/// A withdrawal that fails is tried again by itself after 30 s, then 60 s,
/// …; each failure is audited and counted on the rule; a success ends it.
async fn failed_withdrawals_are_retried_with_backoff(db: TestDb) {
    let store = &db.store;
    let id = store.propose_mitigations(&[draft("ddos:r", "rtbh", true)]).await.unwrap()[0].id;
    store.claim_mitigation_work(30, 10).await.unwrap();
    store.record_mitigation_result(id, MitigationChange::Announce, Ok(())).await.unwrap();
    store.withdraw_mitigation(&actor("bob"), id).await.unwrap();
    let fail = |n: u32| format!("webhook: HTTP 503: try {n}");
    for (n, wait) in [(1, 30), (2, 60), (3, 120)] {
        let work = store.claim_mitigation_work(30, 10).await.unwrap();
        assert_eq!(work.len(), 1, "attempt {n}");
        assert_eq!((work[0].0.id, work[0].1), (id, MitigationChange::Withdraw));
        let m = store.record_mitigation_result(id, MitigationChange::Withdraw, Err(fail(n))).await.unwrap().unwrap();
        assert_eq!((m.state.as_str(), m.failed_change.as_str(), m.withdraw_failures), ("failed", "withdraw", n.into()));
        assert_eq!(m.error, fail(n));
        let due = anbao_model::clock::format_ts(db.now() + Duration::seconds(wait));
        assert_eq!(m.retry_at.as_deref(), Some(due.as_str()), "attempt {n}");
        // Not before its time.
        db.clock.advance(Duration::seconds(wait - 1));
        assert!(store.claim_mitigation_work(30, 10).await.unwrap().is_empty(), "attempt {n}");
        db.clock.advance(Duration::seconds(1));
    }
    let work = store.claim_mitigation_work(30, 10).await.unwrap();
    assert_eq!((work[0].0.id, work[0].1), (id, MitigationChange::Withdraw));
    assert_eq!(work[0].0.withdraw_reason, "manual", "the retry keeps who asked and why");
    let m = store.record_mitigation_result(id, MitigationChange::Withdraw, Ok(())).await.unwrap().unwrap();
    assert_eq!((m.state.as_str(), m.retry_at.as_deref(), m.withdraw_failures), ("withdrawn", None, 3));
    db.clock.advance(Duration::seconds(3600));
    assert!(store.claim_mitigation_work(30, 10).await.unwrap().is_empty());
    let actions: Vec<String> = audit(store, everything())
        .await
        .into_iter()
        .filter(|e| e.action.starts_with("mitigation.") && e.object_id == id.to_string())
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions.iter().filter(|a| *a == "mitigation.failed").count(),
        3,
        "each failure is recorded: {actions:?}"
    );
    assert_eq!(actions.iter().filter(|a| *a == "mitigation.retry").count(), 3, "{actions:?}");
    assert_eq!(actions.first().map(String::as_str), Some("mitigation.withdrawn"), "newest first: {actions:?}");
    assert_eq!(anbao_store::mitigation_retry_secs(20), 1800, "at most half an hour");
}

/// The audit actions on rule `id`, oldest first.
async fn actions_on(store: &anbao_store::Store, id: i64) -> Vec<String> {
    let mut actions: Vec<String> = audit(store, everything())
        .await
        .into_iter()
        .filter(|e| e.action.starts_with("mitigation.") && e.object_id == id.to_string())
        .map(|e| e.action)
        .collect();
    actions.reverse();
    actions
}

/// An announcement that fails is tried again by itself while its attack
/// goes on, after the withdrawals' backoff (30 s, 60 s, …); each failure
/// and each retry audited, counted on the rule with the next try's time.
async fn failed_announcements_are_retried_while_the_attack_lasts(db: TestDb) {
    let store = &db.store;
    let id = store.propose_mitigations(&[draft("ddos:s", "rtbh", true)]).await.unwrap()[0].id;
    let fail = |n: u32| format!("script: exit status: 1: speaker down, try {n}");
    for (n, wait) in [(1, 30), (2, 60)] {
        let work = store.claim_mitigation_work(30, 10).await.unwrap();
        assert_eq!(work.len(), 1, "attempt {n}");
        assert_eq!((work[0].0.id, work[0].1), (id, MitigationChange::Announce), "attempt {n}");
        let m = store.record_mitigation_result(id, MitigationChange::Announce, Err(fail(n))).await.unwrap().unwrap();
        assert_eq!((m.state.as_str(), m.failed_change.as_str(), m.announce_failures), ("failed", "announce", n.into()));
        assert_eq!((m.error.as_str(), m.withdraw_failures), (fail(n).as_str(), 0));
        let due = anbao_model::clock::format_ts(db.now() + Duration::seconds(wait));
        assert_eq!(m.retry_at.as_deref(), Some(due.as_str()), "attempt {n}");
        assert!(m.approvable(), "a person may retry at once");
        db.clock.advance(Duration::seconds(wait - 1));
        assert!(store.claim_mitigation_work(30, 10).await.unwrap().is_empty(), "not before its time: attempt {n}");
        db.clock.advance(Duration::seconds(1));
    }
    let work = store.claim_mitigation_work(30, 10).await.unwrap();
    assert_eq!((work[0].0.id, work[0].1), (id, MitigationChange::Announce));
    assert_eq!(work[0].0.approved_by.as_deref(), Some("automatic"), "the retry keeps who approved it");
    let m = store.record_mitigation_result(id, MitigationChange::Announce, Ok(())).await.unwrap().unwrap();
    assert_eq!((m.state.as_str(), m.error.as_str(), m.retry_at.as_deref()), ("announced", "", None));
    assert_eq!(m.announce_failures, 2, "the failures stay counted");
    db.clock.advance(Duration::seconds(3600 * 2));
    assert!(
        store.claim_mitigation_work(30, 10).await.unwrap().iter().all(|(_, c)| *c == MitigationChange::Withdraw),
        "announced once, not again"
    );
    assert_eq!(
        actions_on(store, id).await,
        [
            "mitigation.propose",
            "mitigation.failed",
            "mitigation.retry",
            "mitigation.failed",
            "mitigation.retry",
            "mitigation.announced",
            "mitigation.withdraw"
        ]
    );

    // A restart queues the announced rule again; its failures count afresh.
    let id = store.propose_mitigations(&[draft("ddos:s2", "rtbh", true)]).await.unwrap()[0].id;
    store.claim_mitigation_work(30, 10).await.unwrap();
    store.record_mitigation_result(id, MitigationChange::Announce, Err(fail(1))).await.unwrap();
    db.clock.advance(Duration::seconds(30));
    store.claim_mitigation_work(30, 10).await.unwrap();
    store.record_mitigation_result(id, MitigationChange::Announce, Ok(())).await.unwrap();
    assert_eq!(store.requeue_announced_mitigations().await.unwrap(), 1);
    store.claim_mitigation_work(30, 10).await.unwrap();
    let m = store.record_mitigation_result(id, MitigationChange::Announce, Err(fail(2))).await.unwrap().unwrap();
    let due = anbao_model::clock::format_ts(db.now() + Duration::seconds(30));
    assert_eq!((m.announce_failures, m.retry_at.as_deref()), (1, Some(due.as_str())));
    assert_chain_intact(store, audit(store, everything()).await.len() as i64).await;
}

/// A failed announcement is not retried once its attack has ended (it is
/// withdrawn after the hold instead), nor once a person withdrew it.
async fn announcement_retries_stop_at_the_attacks_end_or_a_withdrawal(db: TestDb) {
    let store = &db.store;
    let fail = || Err("webhook: HTTP 503".to_owned());
    // A manual rule, approved; its announcement fails; the attack ends
    // before the retry.
    let id = store.propose_mitigations(&[draft("ddos:t", "rtbh", false)]).await.unwrap()[0].id;
    store.approve_mitigation(&actor("alice"), id).await.unwrap();
    store.claim_mitigation_work(30, 10).await.unwrap();
    let m = store.record_mitigation_result(id, MitigationChange::Announce, fail()).await.unwrap().unwrap();
    assert!(m.retry_at.is_some(), "approved: retried while the attack lasts");
    db.clock.advance(Duration::seconds(10));
    assert_eq!(store.end_mitigations("ddos:t", db.now()).await.unwrap(), 1);
    let m = store.mitigation(id).await.unwrap();
    assert_eq!(m.retry_at, None);
    assert!(m.announce_retry_stopped());
    assert_audited(store, "system", "mitigation.retry_stopped", "mitigation", id).await;
    db.clock.advance(Duration::seconds(59));
    assert!(store.claim_mitigation_work(30, 10).await.unwrap().is_empty(), "no announcement after the end");
    db.clock.advance(Duration::seconds(1));
    let work = store.claim_mitigation_work(30, 10).await.unwrap();
    assert_eq!(work.len(), 1);
    assert_eq!(
        (work[0].0.id, work[0].1, work[0].0.withdraw_reason.as_str()),
        (id, MitigationChange::Withdraw, "automatic")
    );
    assert_eq!(
        actions_on(store, id).await,
        [
            "mitigation.propose",
            "mitigation.approve",
            "mitigation.failed",
            "mitigation.retry_stopped",
            "mitigation.withdraw"
        ]
    );
    store.record_mitigation_result(id, MitigationChange::Withdraw, Ok(())).await.unwrap();

    // A retry under way when the attack ends: if it fails, no further one.
    let id = store.propose_mitigations(&[draft("ddos:u", "rtbh", true)]).await.unwrap()[0].id;
    store.claim_mitigation_work(30, 10).await.unwrap();
    store.record_mitigation_result(id, MitigationChange::Announce, fail()).await.unwrap();
    db.clock.advance(Duration::seconds(30));
    let work = store.claim_mitigation_work(30, 10).await.unwrap();
    assert_eq!((work[0].0.id, work[0].1), (id, MitigationChange::Announce));
    store.end_mitigations("ddos:u", db.now()).await.unwrap();
    let m = store.record_mitigation_result(id, MitigationChange::Announce, fail()).await.unwrap().unwrap();
    assert_eq!((m.announce_failures, m.retry_at.as_deref()), (2, None));
    assert!(m.announce_retry_stopped());
    db.clock.advance(Duration::seconds(30));
    assert!(store.claim_mitigation_work(30, 10).await.unwrap().is_empty());
    db.clock.advance(Duration::seconds(30));
    let work = store.claim_mitigation_work(30, 10).await.unwrap();
    assert_eq!((work[0].0.id, work[0].1), (id, MitigationChange::Withdraw), "withdrawn after the hold");
    store.record_mitigation_result(id, MitigationChange::Withdraw, Ok(())).await.unwrap();

    // Withdrawn by a person while waiting for its retry: withdrawn at every
    // hook, never announced again.
    let id = store.propose_mitigations(&[draft("ddos:v", "rtbh", true)]).await.unwrap()[0].id;
    store.claim_mitigation_work(30, 10).await.unwrap();
    store.record_mitigation_result(id, MitigationChange::Announce, fail()).await.unwrap();
    let m = store.withdraw_mitigation(&actor("bob"), id).await.unwrap();
    assert_eq!((m.pending.as_str(), m.retry_at.as_deref()), ("withdraw", None));
    let work = store.claim_mitigation_work(30, 10).await.unwrap();
    assert_eq!((work[0].0.id, work[0].1), (id, MitigationChange::Withdraw));
    store.record_mitigation_result(id, MitigationChange::Withdraw, Ok(())).await.unwrap();
    db.clock.advance(Duration::seconds(3600));
    assert!(store.claim_mitigation_work(30, 10).await.unwrap().is_empty());
    assert_eq!(store.mitigation(id).await.unwrap().state, "withdrawn");

    // A failed announcement reaching its expiry is withdrawn, not announced.
    let id = store.propose_mitigations(&[draft("ddos:w", "rtbh", true)]).await.unwrap()[0].id;
    store.claim_mitigation_work(30, 10).await.unwrap();
    store.record_mitigation_result(id, MitigationChange::Announce, fail()).await.unwrap();
    db.clock.advance(Duration::seconds(3600));
    let work = store.claim_mitigation_work(30, 10).await.unwrap();
    assert_eq!(work.len(), 1);
    assert_eq!(
        (work[0].0.id, work[0].1, work[0].0.withdraw_reason.as_str()),
        (id, MitigationChange::Withdraw, "expired")
    );
    assert_eq!(work[0].0.retry_at, None);
}

async fn flow_nodes_are_upserted_listed_and_purged(db: TestDb) {
    use anbao_store::FlowNodeDraft;
    let store = &db.store;
    let node = |id: &str, role: &str, partition: Option<u32>, snapshot: &str| FlowNodeDraft {
        node_id: id.into(),
        role: role.into(),
        name: "edge-7".into(),
        partition,
        snapshot: snapshot.into(),
    };
    store.put_flow_node(&node("worker:edge-7:p1", "worker", Some(1), "{\"n\":1}")).await.unwrap();
    store.put_flow_node(&node("collector:edge-7", "collector", None, "{}")).await.unwrap();
    db.clock.advance(Duration::seconds(5));
    store.put_flow_node(&node("worker:edge-7:p1", "worker", Some(1), "{\"n\":2}")).await.unwrap();
    assert_invalid(store.put_flow_node(&node(" ", "worker", None, "{}")).await, "node_id");
    let nodes = store.flow_nodes().await.unwrap();
    assert_eq!(nodes.len(), 2);
    assert_eq!((nodes[0].node_id.as_str(), nodes[0].partition), ("collector:edge-7", None));
    assert_eq!(
        (nodes[1].node_id.as_str(), nodes[1].partition, nodes[1].snapshot.as_str()),
        ("worker:edge-7:p1", Some(1), "{\"n\":2}")
    );
    assert_eq!(nodes[1].updated_at, db.now());
    assert_eq!(nodes[0].updated_at, db.now() - Duration::seconds(5));
    assert_eq!(store.purge_flow_nodes(db.now() - Duration::seconds(1)).await.unwrap(), 1);
    assert_eq!(store.flow_nodes().await.unwrap().len(), 1);
}
