//! Case work and the command-and-dispatch board over HTTP (R2.6): tasks
//! and messages through the API (assignee checked, overdue marked, each
//! change in the timeline and the audit log), the board page with tasks in
//! their status columns, its forms, and the event stream that announces a
//! change made by someone else. Who may call what is the matrix's.

use std::time::Duration;

use anbao_model::Role;
use axum::http::StatusCode;
use futures_util::StreamExt;
use serde_json::{Value, json};

use crate::harness::{App, PASSWORD, Req};

async fn open_incident(app: &App, token: &str, title: &str) -> i64 {
    let r = app
        .send(Req::post("/api/v1/incidents").bearer(token).json(&json!({
            "incident_type": "ddos",
            "title": title,
            "facts": { "users_offline_scope": "city" },
        })))
        .await;
    r.assert_status(StatusCode::CREATED);
    r.json()["incident"]["id"].as_i64().unwrap()
}

#[tokio::test]
async fn tasks_and_messages_through_the_api_are_checked_timed_and_audited() {
    let app = App::new().await;
    app.make_user("alice", Role::Responder, app.root, vec![]).await;
    let responder = app.token(Role::Responder).to_owned();
    let id = open_incident(&app, &responder, "骨干网 DDoS").await;
    let tasks_url = format!("/api/v1/incidents/{id}/tasks");

    // The assignee must be an active user; nothing is written otherwise.
    let before = app.counts().await.audit;
    let r =
        app.send(Req::post(&tasks_url).bearer(&responder).json(&json!({ "title": "清洗", "assignee": "ghost" }))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.error_field().as_deref(), Some("assignee"));
    let r = app
        .send(Req::post(&tasks_url).bearer(&responder).json(&json!({ "title": "清洗", "due_at": "tomorrow" })))
        .await;
    assert_eq!(r.error_field().as_deref(), Some("due_at"), "{}", r.text());
    assert_eq!(app.counts().await.audit, before);

    // One task already past its due time, one not.
    let r = app
        .send(Req::post(&tasks_url).bearer(&responder).json(&json!({
            "title": "启动流量清洗", "assignee": "alice", "due_at": "2020-01-01T00:00:00Z",
        })))
        .await;
    r.assert_status(StatusCode::CREATED);
    let late = r.json();
    assert_eq!(
        (late["status"].as_str(), late["assignee"].as_str(), late["overdue"].as_bool()),
        (Some("open"), Some("alice"), Some(true))
    );
    assert_eq!(late["created_by"], "token:responder-bot");
    let r = app
        .send(
            Req::post(&tasks_url)
                .bearer(&responder)
                .json(&json!({ "title": "通知客户", "due_at": "2099-01-01T08:00" })),
        )
        .await;
    r.assert_status(StatusCode::CREATED);
    let later = r.json();
    assert_eq!((later["due_at"].as_str(), later["overdue"].as_bool()), (Some("2099-01-01T08:00:00.000Z"), Some(false)));

    // Done is never overdue; the change is in the timeline and the audit log.
    let late_id = late["id"].as_i64().unwrap();
    let r = app
        .send(Req::patch(&format!("{tasks_url}/{late_id}")).bearer(&responder).json(&json!({ "status": "done" })))
        .await;
    r.assert_status(StatusCode::OK);
    assert_eq!((r.json()["status"].as_str(), r.json()["overdue"].as_bool()), (Some("done"), Some(false)));
    let r = app
        .send(Req::patch(&format!("{tasks_url}/{late_id}")).bearer(&responder).json(&json!({ "status": "finished" })))
        .await;
    assert_eq!(r.error_field().as_deref(), Some("status"), "{}", r.text());
    let detail = app.send(Req::get(&format!("/api/v1/incidents/{id}")).bearer(&responder)).await.json();
    let entries: Vec<&str> =
        detail["timeline"].as_array().unwrap().iter().map(|e| e["entry"].as_str().unwrap()).collect();
    assert!(entries.iter().any(|e| e.contains("启动流量清洗") && e.contains("status open → done")), "{entries:?}");
    assert_eq!(app.audit_with_action("incident.task_create").await.len(), 2);
    assert_eq!(app.audit_with_action("incident.task_update").await.len(), 1);

    // Read-only roles see the tasks; a task is reached only through its incident.
    let r = app.send(Req::get(&tasks_url).bearer(app.token(Role::Auditor))).await;
    r.assert_status(StatusCode::OK);
    let listed = r.json();
    let titles: Vec<&str> = listed.as_array().unwrap().iter().map(|t| t["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["启动流量清洗", "通知客户"]);
    let other = open_incident(&app, &responder, "另一事件").await;
    let r = app
        .send(
            Req::patch(&format!("/api/v1/incidents/{other}/tasks/{late_id}"))
                .bearer(&responder)
                .json(&json!({ "status": "open" })),
        )
        .await;
    r.assert_status(StatusCode::NOT_FOUND);

    // Messages: posted, listed oldest first, audited; empty refused.
    let messages_url = format!("/api/v1/incidents/{id}/messages");
    let r = app.send(Req::post(&messages_url).bearer(&responder).json(&json!({ "body": "  " }))).await;
    assert_eq!(r.error_field().as_deref(), Some("body"), "{}", r.text());
    for body in ["上游已确认", "清洗生效"] {
        app.send(Req::post(&messages_url).bearer(&responder).json(&json!({ "body": body })))
            .await
            .assert_status(StatusCode::CREATED);
    }
    let r = app.send(Req::get(&messages_url).bearer(app.token(Role::Regulator))).await;
    r.assert_status(StatusCode::OK);
    let v: Value = r.json();
    let bodies: Vec<&str> = v.as_array().unwrap().iter().map(|m| m["body"].as_str().unwrap()).collect();
    assert_eq!(bodies, ["上游已确认", "清洗生效"]);
    assert_eq!(v[0]["author"], "token:responder-bot");
    assert_eq!(app.audit_with_action("incident.message").await.len(), 2);
}

#[tokio::test]
async fn the_board_shows_tasks_by_status_and_its_forms_return_to_it() {
    let app = App::new().await;
    app.make_user("alice", Role::Responder, app.root, vec![]).await;
    let s = app.login("alice", PASSWORD).await;
    let id = open_incident(&app, app.token(Role::Responder), "DNS 异常").await;
    let board = format!("/incidents/{id}/board");

    let r = app
        .send(Req::post(&format!("/incidents/{id}/tasks")).session(&s).form(&[
            ("_csrf", &s.csrf),
            ("back", "board"),
            ("title", "核查解析记录"),
            ("assignee", "alice"),
            ("due_at", "2020-06-01T09:30"),
        ]))
        .await;
    r.assert_status(StatusCode::SEE_OTHER);
    assert!(r.location().unwrap().starts_with(&format!("{board}?ok=")), "{:?}", r.location());
    let r = app
        .send(Req::post(&format!("/incidents/{id}/messages")).session(&s).form(&[
            ("_csrf", &s.csrf),
            ("back", "board"),
            ("body", "已通知值班长"),
        ]))
        .await;
    assert!(r.location().unwrap().starts_with(&format!("{board}?ok=")), "{:?}", r.location());

    let html = app.send(Req::get(&board).session(&s)).await.text();
    let open_column = html.split(r#"class="board-column" data-status="open""#).nth(1).unwrap_or_default();
    let in_progress = open_column.split(r#"class="board-column" data-status="in_progress""#).next().unwrap_or_default();
    assert!(in_progress.contains("核查解析记录"), "the task sits in the open column");
    assert!(html.contains("data-task-overdue"), "a task past its due time is marked");
    assert!(html.contains(r#"data-person="alice""#));
    assert!(html.contains("已通知值班长"));
    assert!(html.contains(&format!(r#"data-board-events="/incidents/{id}/board/events""#)));
    // Every script is a file of ours (the CSP forbids inline script).
    assert!(!html.contains("<script>"), "inline script on the board");

    // Moving the task from the board: done, no longer overdue.
    let task = app.store.incident_tasks(id).await.unwrap()[0].id;
    let r = app
        .send(Req::post(&format!("/incidents/{id}/tasks/{task}")).session(&s).form(&[
            ("_csrf", &s.csrf),
            ("back", "board"),
            ("status", "done"),
        ]))
        .await;
    assert!(r.location().unwrap().starts_with(&format!("{board}?ok=")), "{:?}", r.location());
    let html = app.send(Req::get(&board).session(&s)).await.text();
    let done_column = html.split(r#"class="board-column" data-status="done""#).nth(1).unwrap_or_default();
    assert!(done_column.split("board-column").next().unwrap_or_default().contains("核查解析记录"));
    assert!(!html.contains("data-task-overdue"));
    // The incident page lists the task too.
    let page = app.send(Req::get(&format!("/incidents/{id}")).session(&s)).await.text();
    assert!(page.contains("核查解析记录") && page.contains(&format!(r#"href="{board}""#)));
}

/// Reads the event stream until a `change` event arrives; gives up after
/// a minute rather than hang the suite.
async fn next_change(body: &mut axum::body::BodyDataStream) -> String {
    let mut seen = String::new();
    let wait = async {
        while let Some(chunk) = body.next().await {
            seen.push_str(&String::from_utf8_lossy(&chunk.expect("stream chunk")));
            if seen.contains("event: change") {
                return;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(60), wait).await.expect("no change event within a minute");
    seen
}

#[tokio::test]
async fn an_open_board_hears_of_changes_made_by_others() {
    let app = App::new().await;
    let responder = app.token(Role::Responder).to_owned();
    let id = open_incident(&app, &responder, "机房断电").await;
    app.make_user("bob", Role::Auditor, app.root, vec![]).await;
    let watcher = app.login("bob", PASSWORD).await;

    let res = app.open(Req::get(&format!("/incidents/{id}/board/events")).session(&watcher)).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    let mut events = res.into_body().into_data_stream();

    // A task assigned through the API by someone else.
    app.send(
        Req::post(&format!("/api/v1/incidents/{id}/tasks"))
            .bearer(&responder)
            .json(&json!({ "title": "切换备用电源" })),
    )
    .await
    .assert_status(StatusCode::CREATED);
    let got = next_change(&mut events).await;
    assert!(got.contains("data: incident"), "{got:?}");
    // A message as well.
    app.send(
        Req::post(&format!("/api/v1/incidents/{id}/messages")).bearer(&responder).json(&json!({ "body": "已恢复" })),
    )
    .await
    .assert_status(StatusCode::CREATED);
    next_change(&mut events).await;

    // Out of scope or missing: no stream.
    let r = app.send(Req::get("/incidents/424242/board/events").session(&watcher)).await;
    r.assert_status(StatusCode::NOT_FOUND);
}

/// An app whose boards poll the database at `every`.
async fn app_polling_every(every: Duration) -> App {
    App::with_config(anbao_server::ServerConfig { board_poll_interval: every, ..Default::default() }).await
}

#[tokio::test]
async fn a_change_through_this_server_is_pushed_without_waiting_for_the_poll() {
    // The poll would take an hour: only the push can deliver in time.
    let app = app_polling_every(Duration::from_secs(3600)).await;
    let responder = app.token(Role::Responder).to_owned();
    let id = open_incident(&app, &responder, "推送").await;
    let res = app.open(Req::get(&format!("/incidents/{id}/board/events")).bearer(app.token(Role::Regulator))).await;
    assert_eq!(res.status(), StatusCode::OK);
    let mut events = res.into_body().into_data_stream();
    app.send(
        Req::post(&format!("/api/v1/incidents/{id}/status")).bearer(&responder).json(&json!({ "status": "contained" })),
    )
    .await
    .assert_status(StatusCode::OK);
    next_change(&mut events).await;
}

#[tokio::test]
async fn a_change_made_elsewhere_reaches_the_board_by_polling() {
    let app = app_polling_every(Duration::from_millis(200)).await;
    let responder = app.token(Role::Responder).to_owned();
    let id = open_incident(&app, &responder, "另一节点").await;
    let res = app.open(Req::get(&format!("/incidents/{id}/board/events")).bearer(&responder)).await;
    let mut events = res.into_body().into_data_stream();
    // Written straight to the store, as another node (or the CLI) would:
    // this server's channels never hear of it.
    tokio::time::sleep(Duration::from_millis(5)).await; // a later updated_at than the stream saw
    app.store.post_incident_message(&anbao_store::Actor::system(), id, "来自另一节点").await.unwrap();
    next_change(&mut events).await;
}
