//! Compliance assessments: results, content-addressed evidence, completion
//! into remediation tasks, and the unit's assessment date.

use anbao_model::grading::{GradingAnswers, GradingRules};
use anbao_store::{ItemResult, NetworkUnitDraft};

use crate::harness::*;

on_both_backends! {
    an_assessment_runs_from_results_to_tasks => an_assessment_runs_from_results_to_tasks_sqlite, an_assessment_runs_from_results_to_tasks_postgres;
}

async fn an_assessment_runs_from_results_to_tasks(db: TestDb) {
    let store = &db.store;
    let root = create_root(store).await;
    let admin = actor("alice");
    let draft = NetworkUnitDraft {
        org_unit_id: root.id,
        name: "IP城域网".into(),
        responsible_person: "陈立".into(),
        ..Default::default()
    };
    let unit = store.create_network_unit(&admin, &draft).await.unwrap();
    let ids: Vec<String> = ["NET-3-01", "NET-3-02", "HST-3-01"].iter().map(|s| (*s).to_owned()).collect();
    assert_conflict(store.start_assessment(&admin, unit.id, "评测中心", &ids).await);

    let rules = GradingRules::builtin().unwrap();
    let answers: GradingAnswers = rules.factors().iter().map(|f| (f.id.clone(), f.options[0].id.clone())).collect();
    let proposal = rules.propose(&answers).unwrap();
    store.record_grading(&admin, unit.id, &proposal, proposal.level, "").await.unwrap();
    let a = store.start_assessment(&admin, unit.id, "评测中心", &ids).await.unwrap();
    assert_eq!(a.items.len(), 3);
    assert!(a.items.iter().all(|i| i.result == ItemResult::Unassessed));

    let results = vec![
        ("NET-3-01".to_owned(), ItemResult::Met, String::new()),
        ("NET-3-02".to_owned(), ItemResult::NotMet, "边界未部署入侵防范".to_owned()),
    ];
    store.record_results(&admin, a.id, &results).await.unwrap();
    assert_invalid(
        store.record_results(&admin, a.id, &[("NOPE-1".into(), ItemResult::Met, String::new())]).await,
        "requirement_id",
    );
    let due = db.now().date() + time::Duration::days(90);
    assert_conflict(store.complete_assessment(&admin, a.id, "陈立", due).await);

    let file = b"firewall ruleset export";
    let e1 = store.add_evidence(&admin, a.id, "NET-3-01", Some(("rules.txt", "text/plain", file)), "").await.unwrap();
    let e2 = store.add_evidence(&admin, a.id, "NET-3-02", Some(("copy.txt", "text/plain", file)), "").await.unwrap();
    assert_eq!(e1.sha256, e2.sha256, "content-addressed");
    let mut conn = db.raw_connection().await;
    let blobs: i64 = sqlx::Row::get(
        &sqlx::query("SELECT COUNT(*) AS n FROM evidence_blobs").fetch_one(&mut conn).await.unwrap(),
        "n",
    );
    assert_eq!(blobs, 1, "one copy per content");
    let (ev, bytes) = store.evidence_file(a.id, e2.id).await.unwrap();
    assert_eq!((ev.file_name.as_str(), bytes.as_slice()), ("copy.txt", &file[..]));
    store.add_evidence(&admin, a.id, "HST-3-01", None, "https://docs.example.cn/hardening").await.unwrap();
    assert_invalid(store.add_evidence(&admin, a.id, "HST-3-01", None, "javascript:alert(1)").await, "link");
    assert_invalid(store.add_evidence(&admin, a.id, "HST-3-01", None, "").await, "file");

    store.record_results(&admin, a.id, &[("HST-3-01".into(), ItemResult::Partly, String::new())]).await.unwrap();
    assert_invalid(
        store.complete_assessment(&admin, a.id, "陈立", db.now().date() - time::Duration::days(1)).await,
        "due_on",
    );
    let (done, tasks) = store.complete_assessment(&admin, a.id, "陈立", due).await.unwrap();
    assert_eq!(done.status, "completed");
    assert_eq!(tasks.len(), 2, "partly and not met become tasks");
    assert!(tasks.iter().any(|t| t.title.contains("边界未部署入侵防范")));
    assert!(tasks.iter().all(|t| t.owner == "陈立" && t.status == "open"));
    assert_eq!(store.get_network_unit(unit.id).await.unwrap().last_compliance_assessment, Some(db.now().date()));
    assert_conflict(store.record_results(&admin, a.id, &results).await);

    let closed = store.close_task(&admin, tasks[0].id).await.unwrap();
    assert_eq!(closed.status, "done");
    assert_eq!(store.list_tasks(None).await.unwrap().iter().filter(|t| t.status == "open").count(), 1);
    assert_eq!(store.list_tasks(Some(&[])).await.unwrap().len(), 0, "scoped to no unit");
    let entries = store.count_audit().await.unwrap();
    assert_chain_intact(store, entries).await;
}
