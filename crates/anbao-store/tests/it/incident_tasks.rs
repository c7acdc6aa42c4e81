//! Case work on incidents (R2.6): tasks assigned to active users with a due
//! time, changed through their statuses with each change in the timeline
//! and the audit log, overdue when pending past their due time; messages.

use anbao_model::Role;
use anbao_model::incident::{IncidentFacts, IncidentRules, IncidentType, OperatorCategory, TaskStatus};
use anbao_store::{Incident, IncidentDraft, TaskDraft, TaskPatch, UserPatch};
use time::Duration;

use crate::harness::*;

on_both_backends! {
    tasks_are_assigned_moved_through_statuses_and_timed => tasks_are_assigned_moved_through_statuses_and_timed_sqlite, tasks_are_assigned_moved_through_statuses_and_timed_postgres;
    messages_are_kept_in_order_and_checked => messages_are_kept_in_order_and_checked_sqlite, messages_are_kept_in_order_and_checked_postgres;
}

async fn open_incident(db: &TestDb, org_unit_id: i64, title: &str) -> Incident {
    let draft = IncidentDraft {
        org_unit_id,
        incident_type: IncidentType::Ddos,
        title: title.into(),
        summary: String::new(),
        facts: IncidentFacts::default(),
        operator_category: OperatorCategory::Other,
        discovered_at: db.now(),
    };
    db.store.create_incident(&actor("bob"), &draft, IncidentRules::builtin().unwrap()).await.unwrap()
}

async fn tasks_are_assigned_moved_through_statuses_and_timed(db: TestDb) {
    let store = &db.store;
    let root = create_root(store).await;
    let incident = open_incident(&db, root.id, "骨干网 DDoS").await;
    create_user(store, "alice", Role::Responder, incident.org_unit_id).await;
    let mallory = create_user(store, "mallory", Role::Responder, incident.org_unit_id).await;
    store
        .update_user(&actor("admin"), mallory.id, &UserPatch { disabled: Some(true), ..Default::default() })
        .await
        .unwrap();
    let bob = actor("bob");
    let due = db.now() + Duration::minutes(30);

    // Only active users can be assigned; a refused task leaves nothing.
    let audit_before = store.count_audit().await.unwrap();
    let draft = |assignee: &str| TaskDraft {
        title: "清洗流量".into(),
        assignee: assignee.into(),
        due_at: Some(due),
        ..Default::default()
    };
    assert_invalid(store.create_incident_task(&bob, incident.id, &draft("nobody-here")).await, "assignee");
    assert_invalid(store.create_incident_task(&bob, incident.id, &draft("mallory")).await, "assignee");
    assert_invalid(
        store.create_incident_task(&bob, incident.id, &TaskDraft { title: "  ".into(), ..draft("") }).await,
        "title",
    );
    assert_not_found(store.create_incident_task(&bob, 424_242, &draft("alice")).await);
    assert_eq!(store.count_audit().await.unwrap(), audit_before);
    assert!(store.incident_tasks(incident.id).await.unwrap().is_empty());

    let task = store.create_incident_task(&bob, incident.id, &draft("alice")).await.unwrap();
    assert_eq!((task.title.as_str(), task.assignee.as_str(), task.status), ("清洗流量", "alice", TaskStatus::Open));
    assert_eq!(task.due_at.as_deref(), Some(anbao_model::clock::format_ts(due).as_str()));
    assert_eq!((task.created_by.as_str(), task.updated_by.as_str()), ("bob", "bob"));
    let e = assert_audited(store, "bob", "incident.task_create", "incident", incident.id).await;
    assert_eq!(e.after.as_ref().unwrap()["assignee"], "alice");
    let timeline = store.incident_timeline(incident.id).await.unwrap();
    let last = timeline.last().unwrap();
    assert_eq!(last.kind, "auto");
    assert!(last.entry.contains("清洗流量") && last.entry.contains("→ alice"), "{last:?}");
    // Unassigned and without a due time is fine too.
    let loose = store
        .create_incident_task(&bob, incident.id, &TaskDraft { title: "通知客户".into(), ..Default::default() })
        .await
        .unwrap();
    assert_eq!((loose.assignee.as_str(), loose.due_at.as_deref()), ("", None));

    // Overdue: pending past the due time, never once done.
    assert!(!task.is_overdue(db.now()));
    assert!(task.is_overdue(db.now() + Duration::minutes(31)));
    assert!(!loose.is_overdue(db.now() + Duration::days(30)));

    // Moving it along: each change is a timeline entry and an audit entry.
    db.clock.advance(Duration::minutes(1));
    let carol = actor("carol");
    let started = TaskPatch { status: Some(TaskStatus::InProgress), ..Default::default() };
    let task = store.update_incident_task(&carol, incident.id, task.id, &started).await.unwrap();
    assert_eq!((task.status, task.updated_by.as_str()), (TaskStatus::InProgress, "carol"));
    let e = assert_audited(store, "carol", "incident.task_update", "incident", incident.id).await;
    assert_eq!(e.before.as_ref().unwrap()["status"], "open");
    assert_eq!(e.after.as_ref().unwrap()["status"], "in_progress");
    let last = store.incident_timeline(incident.id).await.unwrap().pop().unwrap();
    assert!(last.entry.contains("status open → in_progress"), "{last:?}");
    assert_eq!(last.actor, "carol");
    // The same status again changes nothing and records nothing.
    let n = store.count_audit().await.unwrap();
    store.update_incident_task(&carol, incident.id, task.id, &started).await.unwrap();
    assert_eq!(store.count_audit().await.unwrap(), n);
    // Reassigning to a disabled user is refused; unassigning is fine.
    let to = |a: &str| TaskPatch { assignee: Some(a.into()), ..Default::default() };
    assert_invalid(store.update_incident_task(&carol, incident.id, task.id, &to("mallory")).await, "assignee");
    let task = store.update_incident_task(&carol, incident.id, task.id, &to("")).await.unwrap();
    assert_eq!(task.assignee, "");
    let last = store.incident_timeline(incident.id).await.unwrap().pop().unwrap();
    assert!(last.entry.contains("assignee alice → nobody"), "{last:?}");
    let done = TaskPatch {
        status: Some(TaskStatus::Done),
        assignee: Some("alice".into()),
        due_at: Some(None),
        ..Default::default()
    };
    let task = store.update_incident_task(&carol, incident.id, task.id, &done).await.unwrap();
    assert_eq!((task.status, task.assignee.as_str(), task.due_at.as_deref()), (TaskStatus::Done, "alice", None));
    assert!(!task.is_overdue(db.now() + Duration::days(1)));

    // A task is reached only through its own incident.
    let other = open_incident(&db, root.id, "另一事件").await;
    assert_not_found(store.update_incident_task(&carol, other.id, task.id, &started).await);

    let tasks = store.incident_tasks(incident.id).await.unwrap();
    assert_eq!(tasks.iter().map(|t| t.id).collect::<Vec<_>>(), [task.id, loose.id]);
    assert!(store.get_incident(incident.id).await.unwrap().updated_at > incident.updated_at);
    assert_chain_intact(store, store.count_audit().await.unwrap()).await;
}

async fn messages_are_kept_in_order_and_checked(db: TestDb) {
    let store = &db.store;
    let root = create_root(store).await;
    let incident = open_incident(&db, root.id, "DNS 异常").await;
    let before = store.count_audit().await.unwrap();
    assert_invalid(store.post_incident_message(&actor("bob"), incident.id, "   ").await, "body");
    assert_invalid(store.post_incident_message(&actor("bob"), incident.id, &"长".repeat(1001)).await, "body");
    assert_not_found(store.post_incident_message(&actor("bob"), 424_242, "hi").await);
    assert_eq!(store.count_audit().await.unwrap(), before);

    for (who, text) in [("bob", "已联系上游运营商"), ("carol", "清洗已生效"), ("bob", " 继续观察 ")] {
        db.clock.advance(Duration::seconds(10));
        let m = store.post_incident_message(&actor(who), incident.id, text).await.unwrap();
        assert_eq!((m.author.as_str(), m.body.as_str()), (who, text.trim()));
        let e = assert_audited(store, who, "incident.message", "incident", incident.id).await;
        assert_eq!(e.after.as_ref().unwrap()["body"], text.trim());
    }
    let all = store.incident_messages(incident.id, 50).await.unwrap();
    assert_eq!(all.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(), ["已联系上游运营商", "清洗已生效", "继续观察"]);
    // A limit keeps the newest, still oldest first.
    let last_two = store.incident_messages(incident.id, 2).await.unwrap();
    assert_eq!(last_two.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(), ["清洗已生效", "继续观察"]);
    let other = open_incident(&db, root.id, "另一事件").await;
    assert!(store.incident_messages(other.id, 50).await.unwrap().is_empty());
    assert_chain_intact(store, store.count_audit().await.unwrap()).await;
}
