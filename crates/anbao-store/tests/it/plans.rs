//! Emergency plans and drills (R2.1 / R2.3): every edit a full version with
//! a change note, documents kept with their SHA-256, review due dates moved
//! by reviews and counted when overdue, drills scheduled and evaluated.

use anbao_store::{DrillDraft, DrillPatch, PlanDocument, PlanDraft, PlanScenario};
use time::Duration;

use crate::harness::*;

on_both_backends! {
    plans_keep_every_version_and_their_review_dates => plans_keep_every_version_and_their_review_dates_sqlite, plans_keep_every_version_and_their_review_dates_postgres;
    drills_are_scheduled_and_evaluated => drills_are_scheduled_and_evaluated_sqlite, drills_are_scheduled_and_evaluated_postgres;
    a_drill_starts_once_as_an_exercise_incident => a_drill_starts_once_as_an_exercise_incident_sqlite, a_drill_starts_once_as_an_exercise_incident_postgres;
}

fn draft() -> PlanDraft {
    PlanDraft {
        title: "网络安全事件应急预案".into(),
        owner: "网络安全处".into(),
        scenarios: vec![PlanScenario::Ddos, PlanScenario::DnsFailure, PlanScenario::DataLeak, PlanScenario::Ddos],
        roles: "指挥长：处长\n技术组：运维".into(),
        contact_tree: "处长 → 值班长 → 运维".into(),
        steps: "1. 研判\n2. 处置\n3. 恢复".into(),
        review_cycle_months: 6,
        document: Some(PlanDocument { name: "plan-v1.pdf".into(), content: b"%PDF-1.4 first".to_vec() }),
    }
}

async fn plans_keep_every_version_and_their_review_dates(db: TestDb) {
    let store = &db.store;
    let bob = actor("bob");

    let audit_before = store.count_audit().await.unwrap();
    assert_invalid(store.create_plan(&bob, &PlanDraft { scenarios: vec![], ..draft() }).await, "scenarios");
    assert_invalid(store.create_plan(&bob, &PlanDraft { steps: " ".into(), ..draft() }).await, "steps");
    assert_invalid(
        store.create_plan(&bob, &PlanDraft { review_cycle_months: 0, ..draft() }).await,
        "review_cycle_months",
    );
    let too_big = PlanDocument { name: "big.pdf".into(), content: vec![0; anbao_store::PLAN_DOC_MAX + 1] };
    assert_invalid(store.create_plan(&bob, &PlanDraft { document: Some(too_big), ..draft() }).await, "document");
    assert_eq!(store.count_audit().await.unwrap(), audit_before);
    assert!(store.list_plans().await.unwrap().is_empty());

    // Created 2026-11-25 with a 6-month cycle: due 2027-05-25.
    let plan = store.create_plan(&bob, &draft()).await.unwrap();
    assert_eq!(plan.scenarios, vec![PlanScenario::Ddos, PlanScenario::DnsFailure, PlanScenario::DataLeak]);
    assert_eq!((plan.version, plan.next_review_due.as_str()), (1, "2027-05-25"));
    assert_eq!(plan.last_reviewed_at, None);
    assert_audited(store, "bob", "plan.create", "plan", &plan.id.to_string()).await;

    // An edit needs a change note, and keeps the document when none is sent.
    let edit = PlanDraft { steps: "1. 研判\n2. 隔离\n3. 处置\n4. 恢复".into(), document: None, ..draft() };
    assert_invalid(store.update_plan(&bob, plan.id, &edit, "  ").await, "change_note");
    db.clock.advance(Duration::days(1));
    let v2 = store.update_plan(&actor("carol"), plan.id, &edit, "增加隔离步骤").await.unwrap();
    assert_eq!(v2.version, 2);
    assert!(v2.steps.contains("隔离"));
    let third = PlanDraft {
        review_cycle_months: 12,
        document: Some(PlanDocument { name: "plan-v3.docx".into(), content: b"second document".to_vec() }),
        ..edit.clone()
    };
    let v3 = store.update_plan(&bob, plan.id, &third, "改为年度评审，更新文档").await.unwrap();
    // The cycle counts from creation while the plan was never reviewed.
    assert_eq!((v3.version, v3.next_review_due.as_str()), (3, "2027-11-25"));
    assert_audited(store, "bob", "plan.update", "plan", &plan.id.to_string()).await;

    let versions = store.plan_versions(plan.id).await.unwrap();
    assert_eq!(versions.iter().map(|v| v.version).collect::<Vec<_>>(), vec![3, 2, 1]);
    assert_eq!(versions[1].change_note, "增加隔离步骤");
    assert_eq!(versions[1].actor, "carol");
    assert!(!versions[2].steps.contains("隔离"), "version 1 keeps the content it had");
    assert_eq!(versions[1].doc_name.as_deref(), Some("plan-v1.pdf"), "no new document keeps the old one");
    assert_eq!(versions[1].doc_sha256, versions[2].doc_sha256);
    assert_eq!(versions[0].doc_size, Some(15));
    let (name, bytes) = store.plan_document(plan.id, 1).await.unwrap();
    assert_eq!((name.as_str(), bytes.as_slice()), ("plan-v1.pdf", b"%PDF-1.4 first".as_slice()));
    let (name, bytes) = store.plan_document(plan.id, 3).await.unwrap();
    assert_eq!((name.as_str(), bytes.as_slice()), ("plan-v3.docx", b"second document".as_slice()));
    assert_not_found(store.plan_document(plan.id, 9).await);
    assert_not_found(store.plan_versions(424_242).await);
    assert_not_found(store.update_plan(&bob, 424_242, &edit, "x").await);

    // A second plan with a 1-month cycle falls overdue after 40 days.
    let monthly = store
        .create_plan(&bob, &PlanDraft { title: "DNS 故障预案".into(), review_cycle_months: 1, ..draft() })
        .await
        .unwrap();
    assert_eq!(monthly.next_review_due, "2026-12-26");
    assert_eq!(store.count_overdue_plan_reviews().await.unwrap(), 0);
    db.clock.advance(Duration::days(40));
    assert_eq!(store.count_overdue_plan_reviews().await.unwrap(), 1);
    let listed = store.list_plans().await.unwrap();
    assert_eq!(listed[0].id, monthly.id, "the soonest due comes first");
    assert!(listed[0].review_overdue(db.now().date()));
    assert!(!listed[1].review_overdue(db.now().date()));

    // Reviewing moves the due date a cycle from today (2027-01-05).
    let reviewed = store.mark_plan_reviewed(&actor("dave"), monthly.id).await.unwrap();
    assert_eq!(reviewed.next_review_due, "2027-02-05");
    assert!(reviewed.last_reviewed_at.is_some());
    assert_eq!(store.count_overdue_plan_reviews().await.unwrap(), 0);
    assert_audited(store, "dave", "plan.review", "plan", &monthly.id.to_string()).await;
}

async fn drills_are_scheduled_and_evaluated(db: TestDb) {
    let store = &db.store;
    let bob = actor("bob");
    let plan = store.create_plan(&bob, &draft()).await.unwrap();
    let good = DrillDraft {
        plan_id: plan.id,
        scenario: Some(PlanScenario::Ddos),
        scheduled_at: "2026-12-10 14:00".into(),
        participants: "运维组、安全组".into(),
    };
    assert_invalid(store.create_drill(&bob, &DrillDraft { plan_id: 424_242, ..good.clone() }).await, "plan_id");
    assert_invalid(store.create_drill(&bob, &DrillDraft { scenario: None, ..good.clone() }).await, "scenario");
    assert_invalid(
        store.create_drill(&bob, &DrillDraft { scheduled_at: "next week".into(), ..good.clone() }).await,
        "scheduled_at",
    );
    let drill = store.create_drill(&bob, &good).await.unwrap();
    assert_eq!((drill.status.as_str(), drill.scheduled_at.as_str()), ("planned", "2026-12-10T14:00"));
    assert_eq!(drill.plan_title, plan.title);
    assert_audited(store, "bob", "drill.create", "drill", &drill.id.to_string()).await;
    let later = store
        .create_drill(
            &bob,
            &DrillDraft { scheduled_at: "2027-03-01".into(), scenario: Some(PlanScenario::DataLeak), ..good.clone() },
        )
        .await
        .unwrap();

    // Done needs an evaluation.
    let done_only = DrillPatch { status: Some("done".into()), ..Default::default() };
    assert_invalid(store.update_drill(&bob, drill.id, &done_only).await, "evaluation");
    assert_invalid(
        store
            .update_drill(&bob, drill.id, &DrillPatch { status: Some("cancelled".into()), ..Default::default() })
            .await,
        "status",
    );
    let done = store
        .update_drill(
            &actor("carol"),
            drill.id,
            &DrillPatch {
                status: Some("done".into()),
                evaluation: Some("响应及时，切换用时 12 分钟".into()),
                findings: Some("联系人名单过期".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!((done.status.as_str(), done.findings.as_str()), ("done", "联系人名单过期"));
    assert_audited(store, "carol", "drill.update", "drill", &drill.id.to_string()).await;
    assert_eq!(store.get_drill(drill.id).await.unwrap(), done);

    let of_plan = store.list_drills(Some(plan.id)).await.unwrap();
    assert_eq!(of_plan.iter().map(|d| d.id).collect::<Vec<_>>(), vec![later.id, drill.id]);
    let other = store.create_plan(&bob, &PlanDraft { title: "另一预案".into(), ..draft() }).await.unwrap();
    assert!(store.list_drills(Some(other.id)).await.unwrap().is_empty());
    assert_eq!(store.list_drills(None).await.unwrap().len(), 2);
    assert_not_found(store.update_drill(&bob, 424_242, &done_only).await);
}

async fn a_drill_starts_once_as_an_exercise_incident(db: TestDb) {
    let store = &db.store;
    let root = create_root(store).await;
    let bob = actor("bob");
    let rules = anbao_model::incident::IncidentRules::builtin().unwrap();
    let plan = store.create_plan(&bob, &draft()).await.unwrap();
    let drill = store
        .create_drill(
            &bob,
            &DrillDraft {
                plan_id: plan.id,
                scenario: Some(PlanScenario::DnsFailure),
                scheduled_at: "2026-11-25".into(),
                participants: "运维组".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(drill.incident_id, None);
    let (started, incident) = store.start_drill_exercise(&bob, drill.id, root.id, rules).await.unwrap();
    assert_eq!(started.incident_id, Some(incident.id));
    assert!(incident.exercise);
    assert_eq!(incident.incident_type, anbao_model::incident::IncidentType::DnsFailure);
    assert!(incident.title.contains(&plan.title));
    assert!(store.get_incident(incident.id).await.unwrap().exercise);
    assert_audited(store, "bob", "drill.exercise", "drill", drill.id).await;
    let created = audit(store, everything())
        .await
        .into_iter()
        .find(|e| e.action == "incident.create" && e.object_id == incident.id.to_string())
        .expect("incident.create audited");
    assert_eq!(created.after.unwrap()["exercise"], serde_json::json!(true), "audited as an exercise");
    assert_conflict(store.start_drill_exercise(&bob, drill.id, root.id, rules).await);
    assert_not_found(store.start_drill_exercise(&bob, 424_242, root.id, rules).await);

    // Incidents opened the ordinary way are not exercises.
    let real = anbao_store::IncidentDraft {
        org_unit_id: root.id,
        incident_type: anbao_model::incident::IncidentType::Ddos,
        title: "真实事件".into(),
        summary: String::new(),
        facts: Default::default(),
        operator_category: anbao_model::incident::OperatorCategory::Other,
        discovered_at: db.now(),
    };
    assert!(!store.create_incident(&bob, &real, rules).await.unwrap().exercise);
}
