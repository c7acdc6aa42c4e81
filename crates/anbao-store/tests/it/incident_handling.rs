//! Incident handling times (acknowledged, contained, closed; reopen clears
//! closed), the metrics built on them (MTTA / MTTC / MTTR means and medians,
//! deadlines met or missed, exercises left out, org-unit scope), follow-up
//! tasks in the final report, and the plan version a drill tested. Time
//! moves by the injected clock only.

use anbao_model::incident::{
    IncidentFacts, IncidentRules, IncidentStatus, IncidentType, OperatorCategory, TaskKind, TaskStatus,
};
use anbao_model::report::{IncidentReport, ReportKind, ReportingOrganisation};
use anbao_model::{OrgKind, Role, Timestamp};
use anbao_store::{DrillDraft, DrillPatch, IncidentDraft, PlanDraft, PlanScenario, TaskDraft, TaskPatch};
use time::Duration;
use time::macros::datetime;

use crate::harness::*;

on_both_backends! {
    handling_times_follow_acknowledgement_and_status => handling_times_follow_acknowledgement_and_status_sqlite, handling_times_follow_acknowledgement_and_status_postgres;
    metrics_give_exact_means_and_medians_without_exercises => metrics_give_exact_means_and_medians_without_exercises_sqlite, metrics_give_exact_means_and_medians_without_exercises_postgres;
    follow_ups_are_listed_in_the_final_report => follow_ups_are_listed_in_the_final_report_sqlite, follow_ups_are_listed_in_the_final_report_postgres;
    drills_record_the_plan_version_they_tested => drills_record_the_plan_version_they_tested_sqlite, drills_record_the_plan_version_they_tested_postgres;
}

fn rules() -> &'static IncidentRules {
    IncidentRules::builtin().expect("shipped rules")
}

fn org() -> ReportingOrganisation {
    ReportingOrganisation { name: "某省电信".into(), category: OperatorCategory::Cii }
}

fn ts(t: Timestamp) -> String {
    anbao_model::clock::format_ts(t)
}

/// An incident in `unit` discovered at `at`; with `leak`, one million
/// records leaked (level III, a one-hour CII reporting clock).
fn incident(unit: i64, title: &str, at: Timestamp, leak: bool) -> IncidentDraft {
    IncidentDraft {
        org_unit_id: unit,
        incident_type: IncidentType::DataLeak,
        title: title.into(),
        summary: String::new(),
        facts: IncidentFacts { records_leaked: if leak { 1_000_000 } else { 0 }, ..Default::default() },
        operator_category: OperatorCategory::Cii,
        discovered_at: at,
    }
}

async fn handling_times_follow_acknowledgement_and_status(db: TestDb) {
    let store = &db.store;
    let root = create_root(store).await;
    create_user(store, "alice", Role::Responder, root.id).await;
    let bob = actor("bob");
    let t0 = db.now();
    let a = store.create_incident(&bob, &incident(root.id, "A", t0, false), rules()).await.unwrap();
    assert_eq!((a.acknowledged_at.as_deref(), a.contained_at.as_deref(), a.closed_at.as_deref()), (None, None, None));

    // The explicit acknowledgement: once, audited, in the timeline.
    db.clock.advance(Duration::minutes(7));
    let a = store.acknowledge_incident(&bob, a.id).await.unwrap();
    assert_eq!((a.acknowledged_at, a.acknowledged_by.as_str()), (Some(ts(t0 + Duration::minutes(7))), "bob"));
    let e = assert_audited(store, "bob", "incident.acknowledge", "incident", a.id).await;
    assert_eq!(e.after.unwrap()["acknowledged_at"], ts(t0 + Duration::minutes(7)).as_str());
    assert!(store.incident_timeline(a.id).await.unwrap().iter().any(|e| e.entry == "acknowledged" && e.kind == "auto"));
    let audited = store.count_audit().await.unwrap();
    db.clock.advance(Duration::minutes(1));
    let again = store.acknowledge_incident(&actor("carol"), a.id).await.unwrap();
    assert_eq!((again.acknowledged_at, again.acknowledged_by.as_str()), (Some(ts(t0 + Duration::minutes(7))), "bob"));
    assert_eq!(store.count_audit().await.unwrap(), audited, "a second acknowledgement writes nothing");
    assert_not_found(store.acknowledge_incident(&bob, 424_242).await);

    // Contained, closed, reopened (closed cleared, contained kept), closed again.
    db.clock.advance(Duration::minutes(2)); // t0 + 10
    let a = store.set_incident_status(&bob, a.id, IncidentStatus::Contained).await.unwrap();
    assert_eq!(a.contained_at, Some(ts(t0 + Duration::minutes(10))));
    db.clock.advance(Duration::minutes(20)); // t0 + 30
    let a = store.set_incident_status(&bob, a.id, IncidentStatus::Closed).await.unwrap();
    assert_eq!(
        (a.contained_at.clone(), a.closed_at.clone()),
        (Some(ts(t0 + Duration::minutes(10))), Some(ts(t0 + Duration::minutes(30))))
    );
    let e = assert_audited(store, "bob", "incident.status", "incident", a.id).await;
    assert_eq!(e.after.unwrap()["closed_at"], ts(t0 + Duration::minutes(30)).as_str());
    db.clock.advance(Duration::minutes(5)); // t0 + 35
    let a = store.set_incident_status(&bob, a.id, IncidentStatus::Open).await.unwrap();
    assert_eq!((a.contained_at.clone(), a.closed_at.clone()), (Some(ts(t0 + Duration::minutes(10))), None));
    db.clock.advance(Duration::minutes(5)); // t0 + 40
    let a = store.set_incident_status(&bob, a.id, IncidentStatus::Closed).await.unwrap();
    assert_eq!(a.closed_at, Some(ts(t0 + Duration::minutes(40))));
    assert_eq!(a.acknowledged_at, Some(ts(t0 + Duration::minutes(7))), "later changes keep the first acknowledgement");

    // Closed straight from open: contained then too; the change acknowledges.
    let b = store.create_incident(&bob, &incident(root.id, "B", t0, false), rules()).await.unwrap();
    let b = store.set_incident_status(&actor("dave"), b.id, IncidentStatus::Closed).await.unwrap();
    let now = ts(t0 + Duration::minutes(40));
    assert_eq!(
        (b.acknowledged_at.clone(), b.acknowledged_by.as_str(), b.contained_at.clone(), b.closed_at.clone()),
        (Some(now.clone()), "dave", Some(now.clone()), Some(now.clone()))
    );

    // Assigning a task acknowledges; a task without an assignee does not.
    let c = store.create_incident(&bob, &incident(root.id, "C", t0, false), rules()).await.unwrap();
    let task =
        store.create_incident_task(&bob, c.id, &TaskDraft { title: "查日志".into(), ..Default::default() }).await;
    let task = task.unwrap();
    assert_eq!(task.kind, TaskKind::Task);
    assert_eq!(store.get_incident(c.id).await.unwrap().acknowledged_at, None);
    db.clock.advance(Duration::minutes(3));
    let patch = TaskPatch { assignee: Some("alice".into()), ..Default::default() };
    store.update_incident_task(&actor("erin"), c.id, task.id, &patch).await.unwrap();
    let c = store.get_incident(c.id).await.unwrap();
    assert_eq!((c.acknowledged_at, c.acknowledged_by.as_str()), (Some(ts(t0 + Duration::minutes(43))), "erin"));
    let d = store.create_incident(&bob, &incident(root.id, "D", t0, false), rules()).await.unwrap();
    let assigned = TaskDraft { title: "封堵".into(), assignee: "alice".into(), ..Default::default() };
    store.create_incident_task(&actor("frank"), d.id, &assigned).await.unwrap();
    assert_eq!(store.get_incident(d.id).await.unwrap().acknowledged_by, "frank");
    assert_chain_intact(store, store.count_audit().await.unwrap()).await;
}

async fn metrics_give_exact_means_and_medians_without_exercises(db: TestDb) {
    let store = &db.store;
    let root = create_root(store).await;
    let province = create_unit(store, Some(root.id), "省公司", OrgKind::Province).await;
    let other = create_unit(store, Some(root.id), "另一省", OrgKind::Province).await;
    create_user(store, "alice", Role::Responder, root.id).await;
    let bob = actor("bob");
    let t0 = db.now(); // 2026-11-25 09:00, a Wednesday
    let from = datetime!(2026-11-01 00:00 UTC);
    let to = datetime!(2026-12-01 00:00 UTC);
    // A: level III, reported in time; acknowledged after 10 minutes, closed after 90.
    let a = store.create_incident(&bob, &incident(province.id, "A", t0, true), rules()).await.unwrap();
    // B: no clock; contained when first touched after 70 minutes, closed after 150.
    let b = store.create_incident(&bob, &incident(province.id, "B", t0 - Duration::hours(1), false), rules()).await;
    let b = b.unwrap();
    // C: level III, never reported (missed), acknowledged by an assignment after 150 minutes, still open.
    let c = store.create_incident(&bob, &incident(province.id, "C", t0 - Duration::hours(2), true), rules()).await;
    let c = c.unwrap();
    // Another unit's incident, outside the scope asked for below.
    let x = store.create_incident(&bob, &incident(other.id, "X", t0, false), rules()).await.unwrap();
    // A drill on the board: extreme times, never counted.
    let plan = store.create_plan(&bob, &plan_draft()).await.unwrap();
    let drill = store.create_drill(&bob, &drill_draft(plan.id)).await.unwrap();
    let (_, e) = store.start_drill_exercise(&bob, drill.id, province.id, rules()).await.unwrap();
    assert!(e.exercise);

    db.clock.advance(Duration::minutes(10)); // 09:10
    store.acknowledge_incident(&bob, a.id).await.unwrap();
    store.set_incident_status(&bob, b.id, IncidentStatus::Contained).await.unwrap();
    store.acknowledge_incident(&bob, x.id).await.unwrap();
    db.clock.advance(Duration::minutes(20)); // 09:30
    store.create_incident_report(&bob, a.id, ReportKind::Initial, &org(), rules()).await.unwrap();
    let assigned = TaskDraft { title: "排查".into(), assignee: "alice".into(), ..Default::default() };
    store.create_incident_task(&bob, c.id, &assigned).await.unwrap();
    db.clock.advance(Duration::minutes(60)); // 10:30
    store.set_incident_status(&bob, a.id, IncidentStatus::Closed).await.unwrap();
    store.set_incident_status(&bob, b.id, IncidentStatus::Closed).await.unwrap();

    let scope = [province.id];
    let m = store.incident_metrics(Some(&scope), from, to).await.unwrap();
    assert_eq!(m.incidents, 3);
    // MTTA: A 600 s, B 4200 s, C 9000 s.
    assert_eq!(
        (m.acknowledge.count, m.acknowledge.mean_seconds, m.acknowledge.median_seconds),
        (3, Some(4600.0), Some(4200.0))
    );
    // MTTC: A 5400 s (closed without containment), B 4200 s.
    assert_eq!((m.contain.count, m.contain.mean_seconds, m.contain.median_seconds), (2, Some(4800.0), Some(4800.0)));
    // MTTR: A 5400 s, B 9000 s.
    assert_eq!((m.resolve.count, m.resolve.mean_seconds, m.resolve.median_seconds), (2, Some(7200.0), Some(7200.0)));
    assert_eq!((m.deadlines.met, m.deadlines.missed, m.deadlines.pending), (1, 1, 0));
    let open: Vec<(&str, i64)> = m.open_by_level.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(open, vec![("I", 0), ("II", 0), ("III", 1), ("IV", 0), ("none", 0)]);
    // Weeks from Monday 2026-10-26 to Monday 2026-11-30; all three in the week of 11-23.
    assert_eq!(m.weekly.first().map(|w| w.week.as_str()), Some("2026-10-26"));
    assert_eq!(m.weekly.last().map(|w| w.week.as_str()), Some("2026-11-30"));
    let week = m.weekly.iter().find(|w| w.week == "2026-11-23").unwrap();
    assert_eq!((week.by_level["III"], week.by_level["none"]), (2, 1));
    assert_eq!(m.weekly.iter().flat_map(|w| w.by_level.values()).sum::<i64>(), 3);
    let months: Vec<&str> = m.monthly.iter().map(|x| x.month.as_str()).collect();
    assert_eq!(months, vec!["2026-11"], "the window ends as December begins");
    assert_eq!(m.monthly[0].acknowledge.mean_seconds, Some(4600.0));
    assert_eq!(m.monthly[0].resolve.median_seconds, Some(7200.0));

    // The exercise, acknowledged and closed three weeks late, changes nothing.
    db.clock.advance(Duration::days(21));
    store.acknowledge_incident(&bob, e.id).await.unwrap();
    store.set_incident_status(&bob, e.id, IncidentStatus::Closed).await.unwrap();
    let after = store.incident_metrics(Some(&scope), from, to).await.unwrap();
    assert_eq!(after, m);

    // Every unit: X counts too (acknowledged after 600 s).
    let all = store.incident_metrics(None, from, to).await.unwrap();
    assert_eq!((all.incidents, all.acknowledge.count, all.acknowledge.median_seconds), (4, 4, Some(2400.0)));
    assert_eq!(all.open_by_level["none"], 1);
    // A window before them holds nothing, but open incidents are counted whenever found.
    let early = store.incident_metrics(Some(&scope), from, datetime!(2026-11-02 00:00 UTC)).await.unwrap();
    assert_eq!((early.incidents, early.acknowledge.count, early.deadlines.missed), (0, 0, 0));
    assert_eq!(early.open_by_level["III"], 1);
}

async fn follow_ups_are_listed_in_the_final_report(db: TestDb) {
    let store = &db.store;
    let root = create_root(store).await;
    create_user(store, "alice", Role::Responder, root.id).await;
    let bob = actor("bob");
    let i = store.create_incident(&bob, &incident(root.id, "泄露", db.now(), true), rules()).await.unwrap();
    store
        .create_incident_task(&bob, i.id, &TaskDraft { title: "封堵接口".into(), ..Default::default() })
        .await
        .unwrap();
    let due = db.now() + Duration::days(30);
    let follow = TaskDraft {
        title: "接口鉴权整改".into(),
        assignee: "alice".into(),
        due_at: Some(due),
        kind: TaskKind::FollowUp,
    };
    let f1 = store.create_incident_task(&bob, i.id, &follow).await.unwrap();
    assert_eq!(f1.kind, TaskKind::FollowUp);
    assert!(store.incident_timeline(i.id).await.unwrap().iter().any(|e| e.entry.contains("(follow-up)")));
    let f2 = TaskDraft { title: "全员培训".into(), kind: TaskKind::FollowUp, ..Default::default() };
    let f2 = store.create_incident_task(&bob, i.id, &f2).await.unwrap();
    store
        .update_incident_task(&bob, i.id, f2.id, &TaskPatch { status: Some(TaskStatus::Done), ..Default::default() })
        .await
        .unwrap();
    let listed = store.incident_follow_ups(i.id).await.unwrap();
    assert_eq!(listed.iter().map(|t| t.title.as_str()).collect::<Vec<_>>(), vec!["接口鉴权整改", "全员培训"]);

    // Closing with an open follow-up is allowed.
    let closed = store.set_incident_status(&bob, i.id, IncidentStatus::Closed).await.unwrap();
    assert_eq!(closed.status, IncidentStatus::Closed);
    store.set_incident_review(&bob, i.id, "接口未鉴权", "上线前做安全评审").await.unwrap();
    let initial = store.create_incident_report(&bob, i.id, ReportKind::Initial, &org(), rules()).await.unwrap();
    assert!(!initial.body.contains("follow_ups"), "only final reports list them; older readers see nothing new");
    let r = store.create_incident_report(&bob, i.id, ReportKind::Final, &org(), rules()).await.unwrap();
    let report = IncidentReport::parse(r.body.as_bytes()).unwrap();
    let got: Vec<(&str, &str, Option<String>, &str)> = report
        .follow_ups
        .iter()
        .map(|f| (f.title.as_str(), f.assignee.as_str(), f.due_at.clone(), f.status.as_str()))
        .collect();
    assert_eq!(got, vec![("接口鉴权整改", "alice", Some(ts(due)), "open"), ("全员培训", "", None, "done")]);
    assert_eq!(report.schema, "anbao.incident-report/1");
}

fn plan_draft() -> PlanDraft {
    PlanDraft {
        title: "DNS 故障应急预案".into(),
        owner: "网络部".into(),
        scenarios: vec![PlanScenario::DnsFailure],
        steps: "1. 切换备用解析".into(),
        review_cycle_months: 12,
        ..Default::default()
    }
}

fn drill_draft(plan_id: i64) -> DrillDraft {
    DrillDraft {
        plan_id,
        scenario: Some(PlanScenario::DnsFailure),
        scheduled_at: "2026-12-01".into(),
        participants: "运维组".into(),
    }
}

async fn drills_record_the_plan_version_they_tested(db: TestDb) {
    let store = &db.store;
    let root = create_root(store).await;
    let bob = actor("bob");
    let plan = store.create_plan(&bob, &plan_draft()).await.unwrap();
    let drill = store.create_drill(&bob, &drill_draft(plan.id)).await.unwrap();
    assert_eq!(drill.plan_version, Some(1));
    let other = store.create_drill(&bob, &drill_draft(plan.id)).await.unwrap();
    // The plan is revised before the drills run: they test version 2.
    store
        .update_plan(
            &bob,
            plan.id,
            &PlanDraft { steps: "1. 切换备用解析\n2. 通知用户".into(), ..plan_draft() },
            "补充步骤",
        )
        .await
        .unwrap();
    assert_eq!(store.get_drill(drill.id).await.unwrap().plan_version, Some(1), "scheduled against v1");
    let done =
        DrillPatch {
            status: Some("done".into()), evaluation: Some("切换用时 8 分钟".into()), ..Default::default()
        };
    let ran = store.update_drill(&bob, drill.id, &done).await.unwrap();
    assert_eq!(ran.plan_version, Some(2));
    let e = assert_audited(store, "bob", "drill.update", "drill", drill.id).await;
    assert_eq!(
        (e.before.unwrap()["plan_version"].clone(), e.after.unwrap()["plan_version"].clone()),
        (1.into(), 2.into())
    );
    // A later revision leaves a done drill's version alone.
    store.update_plan(&bob, plan.id, &plan_draft(), "回退").await.unwrap();
    let notes = DrillPatch { findings: Some("联络树过期".into()), ..Default::default() };
    assert_eq!(store.update_drill(&bob, drill.id, &notes).await.unwrap().plan_version, Some(2));
    // Started as an exercise: the version in force then.
    let (started, _) = store.start_drill_exercise(&bob, other.id, root.id, rules()).await.unwrap();
    assert_eq!(started.plan_version, Some(3));
    let listed = store.list_drills(Some(plan.id)).await.unwrap();
    assert!(listed.iter().all(|d| d.plan_version.is_some()));
}
