//! Incident handling over HTTP (issue #7): acknowledging (API and page,
//! audited), `GET /api/v1/incidents/metrics` with exact figures while the
//! clock moves, exercises and other units left out, bad windows refused
//! naming the field; the dashboard's figures and charts; follow-up tasks
//! from the review form; the drill list and findings turned into tasks.

use std::sync::Arc;

use anbao_model::clock::ManualClock;
use anbao_model::{OrgKind, Role};
use axum::http::StatusCode;
use serde_json::{Value, json};
use time::Duration;
use time::macros::datetime;

use crate::harness::{App, PASSWORD, Req};

async fn app_at_nine() -> (App, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(datetime!(2026-11-25 09:00 UTC)));
    let app = App::with_clock(anbao_server::ServerConfig::default(), clock.clone()).await;
    (app, clock)
}

async fn open_incident(app: &App, token: &str, title: &str, discovered_at: &str, extra: Value) -> i64 {
    let mut body = json!({ "incident_type": "data_leak", "title": title, "discovered_at": discovered_at });
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    let r = app.send(Req::post("/api/v1/incidents").bearer(token).json(&body)).await;
    r.assert_status(StatusCode::CREATED);
    r.json()["incident"]["id"].as_i64().unwrap()
}

#[tokio::test]
async fn acknowledging_and_closing_give_exact_metrics() {
    let (app, clock) = app_at_nine().await;
    let responder = app.token(Role::Responder).to_owned();
    let a = open_incident(&app, &responder, "A", "2026-11-25T09:00:00Z", json!({})).await;
    let b = open_incident(&app, &responder, "B", "2026-11-25T08:00:00Z", json!({})).await;

    clock.advance(Duration::minutes(15));
    let r = app.send(Req::post(&format!("/api/v1/incidents/{a}/acknowledge")).bearer(&responder)).await;
    r.assert_status(StatusCode::OK);
    assert_eq!(r.json()["incident"]["acknowledged_at"], "2026-11-25T09:15:00.000Z");
    assert_eq!(app.audit_with_action("incident.acknowledge").await.len(), 1);
    // The regulator reads but does not handle.
    let r = app.send(Req::post(&format!("/api/v1/incidents/{b}/acknowledge")).bearer(app.token(Role::Regulator))).await;
    r.assert_status(StatusCode::FORBIDDEN);
    let r = app.send(Req::post("/api/v1/incidents/424242/acknowledge").bearer(&responder)).await;
    r.assert_status(StatusCode::NOT_FOUND);

    clock.advance(Duration::minutes(45)); // 10:00
    for (id, status) in [(a, "contained"), (b, "closed")] {
        let r = app
            .send(
                Req::post(&format!("/api/v1/incidents/{id}/status"))
                    .bearer(&responder)
                    .json(&json!({ "status": status })),
            )
            .await;
        r.assert_status(StatusCode::OK);
    }
    clock.advance(Duration::hours(1)); // 11:00
    app.send(
        Req::post(&format!("/api/v1/incidents/{a}/status")).bearer(&responder).json(&json!({ "status": "closed" })),
    )
    .await
    .assert_status(StatusCode::OK);

    // An exercise with extreme times (a drill on the board, closed days later).
    let plan = app
        .send(Req::post("/api/v1/plans").bearer(&responder).json(&json!({
            "title": "数据泄露预案", "owner": "安全部", "scenarios": ["data_leak"], "steps": "1. 封堵", "review_cycle_months": 12,
        })))
        .await;
    plan.assert_status(StatusCode::CREATED);
    let plan = plan.json()["id"].as_i64().unwrap();
    let drill = app
        .send(Req::post("/api/v1/drills").bearer(&responder).json(&json!({
            "plan_id": plan, "scenario": "data_leak", "scheduled_at": "2026-11-25",
        })))
        .await;
    drill.assert_status(StatusCode::CREATED);
    let drill = drill.json()["id"].as_i64().unwrap();
    let r = app.send(Req::post(&format!("/api/v1/drills/{drill}/exercise")).bearer(&responder).json(&json!({}))).await;
    r.assert_status(StatusCode::CREATED);
    let exercise = r.json()["incident"]["id"].as_i64().unwrap();
    clock.advance(Duration::days(9));
    app.send(
        Req::post(&format!("/api/v1/incidents/{exercise}/status"))
            .bearer(&responder)
            .json(&json!({ "status": "closed" })),
    )
    .await
    .assert_status(StatusCode::OK);

    let window = "from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z";
    let r = app.send(Req::get(&format!("/api/v1/incidents/metrics?{window}")).bearer(app.token(Role::Auditor))).await;
    r.assert_status(StatusCode::OK);
    let m = r.json();
    assert_eq!(m["incidents"], 2, "{m}");
    // MTTA: A 15 min, B 120 min (implied by its status change at 10:00).
    assert_eq!(m["acknowledge"], json!({ "count": 2, "mean_seconds": 4050.0, "median_seconds": 4050.0 }));
    // MTTC: A 60 min, B 120 min; MTTR: A 120 min, B 120 min.
    assert_eq!(m["contain"], json!({ "count": 2, "mean_seconds": 5400.0, "median_seconds": 5400.0 }));
    assert_eq!(m["resolve"], json!({ "count": 2, "mean_seconds": 7200.0, "median_seconds": 7200.0 }));
    assert_eq!(m["open_by_level"], json!({ "I": 0, "II": 0, "III": 0, "IV": 0, "none": 0 }));

    // Bad windows name the field.
    for (q, field) in [
        ("from=yesterday", "from"),
        ("from=2026-12-01T00:00:00Z&to=2026-11-01T00:00:00Z", "from"),
        ("to=2026-13-01", "to"),
        ("from=2020-01-01T00:00:00Z", "from"),
        ("since=2026-11-01", "since"),
    ] {
        let r = app.send(Req::get(&format!("/api/v1/incidents/metrics?{q}")).bearer(&responder)).await;
        assert!(r.status.is_client_error(), "{q}: {}", r.status);
        assert!(r.text().contains(field), "{q}: {}", r.text());
    }
}

#[tokio::test]
async fn metrics_are_scoped_to_the_callers_units() {
    let (app, clock) = app_at_nine().await;
    let north = app.make_unit(app.root, "北方", OrgKind::Province).await;
    let south = app.make_unit(app.root, "南方", OrgKind::Province).await;
    let (north_token, _) = app.make_token("north", Role::Responder, north).await;
    let root_token = app.token(Role::Responder).to_owned();
    let n = open_incident(&app, &root_token, "N", "2026-11-25T09:00:00Z", json!({ "org_unit_id": north })).await;
    let s = open_incident(&app, &root_token, "S", "2026-11-25T09:00:00Z", json!({ "org_unit_id": south })).await;
    clock.advance(Duration::minutes(5));
    app.send(Req::post(&format!("/api/v1/incidents/{n}/acknowledge")).bearer(&root_token))
        .await
        .assert_status(StatusCode::OK);
    clock.advance(Duration::minutes(5));
    app.send(Req::post(&format!("/api/v1/incidents/{s}/acknowledge")).bearer(&root_token))
        .await
        .assert_status(StatusCode::OK);
    let m = app.send(Req::get("/api/v1/incidents/metrics").bearer(&north_token)).await.json();
    assert_eq!((m["incidents"].clone(), m["acknowledge"]["mean_seconds"].clone()), (json!(1), json!(300.0)));
    assert_eq!(m["open_by_level"]["none"], 1);
    let m = app.send(Req::get("/api/v1/incidents/metrics").bearer(&root_token)).await.json();
    assert_eq!((m["incidents"].clone(), m["acknowledge"]["mean_seconds"].clone()), (json!(2), json!(450.0)));
    // Default window: the 90 days up to now.
    assert_eq!(m["to"], "2026-11-25T09:10:00.000Z");
    assert_eq!(m["from"], "2026-08-27T09:10:00.000Z");
}

#[tokio::test]
async fn the_pages_acknowledge_show_times_add_follow_ups_and_list_drills() {
    let (app, clock) = app_at_nine().await;
    app.make_user("alice", Role::Responder, app.root, vec![]).await;
    app.make_user("dave", Role::Auditor, app.root, vec![]).await;
    let responder = app.token(Role::Responder).to_owned();
    let id = open_incident(&app, &responder, "泄露", "2026-11-25T08:30:00Z", json!({})).await;
    let s = app.login("alice", PASSWORD).await;
    let page = format!("/incidents/{id}");
    let html = app.send(Req::get(&page).session(&s)).await.text();
    assert!(html.contains("id=\"incident-ack-form\""), "not yet acknowledged");
    // Without the CSRF token nothing happens.
    let r = app.send(Req::post(&format!("{page}/acknowledge")).session(&s).form(&[])).await;
    r.assert_status(StatusCode::FORBIDDEN);
    let r = app.send(Req::post(&format!("{page}/acknowledge")).session(&s).form(&[("_csrf", &s.csrf)])).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let html = app.send(Req::get(&page).session(&s)).await.text();
    assert!(!html.contains("id=\"incident-ack-form\""));
    assert!(html.contains("data-step=\"acknowledged\" data-at=\"2026-11-25T09:00:00.000Z\""), "{html}");
    assert!(html.contains("(+30 min)"), "30 minutes after discovery");
    assert_eq!(app.audit_with_action("incident.acknowledge").await[0].actor, "alice");

    // A follow-up from the review form; closing with it open is allowed and listed.
    let r = app
        .send(Req::post(&format!("{page}/tasks")).session(&s).form(&[
            ("_csrf", &s.csrf),
            ("back", "incident"),
            ("kind", "follow_up"),
            ("title", "接口鉴权整改"),
            ("assignee", "alice"),
            ("due_at", "2026-12-31T12:00"),
        ]))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let bad = app
        .send(Req::post(&format!("{page}/tasks")).session(&s).form(&[
            ("_csrf", &s.csrf),
            ("kind", "chore"),
            ("title", "x"),
        ]))
        .await;
    assert!(bad.location().unwrap_or_default().contains("error"), "an unknown kind is refused");
    clock.advance(Duration::hours(2));
    // A new session: the first one has been idle too long by now.
    let s = app.login("alice", PASSWORD).await;
    let r = app
        .send(Req::post(&format!("{page}/status")).session(&s).form(&[("_csrf", &s.csrf), ("status", "closed")]))
        .await;
    assert!(r.location().unwrap_or_default().starts_with(&page), "{:?}", r.location());
    let html = app.send(Req::get(&page).session(&s)).await.text();
    assert!(html.contains("data-status=\"closed\""), "closed");
    assert!(html.contains("id=\"closed-with-open-follow-ups\""), "{html}");
    assert!(html.contains("data-follow-up=") && html.contains("接口鉴权整改"));
    let tasks = app.send(Req::get(&format!("/api/v1/incidents/{id}/tasks")).bearer(&responder)).await.json();
    assert_eq!(tasks[0]["kind"], "follow_up");

    // The dashboard shows the figures and both charts.
    let d = app.login("dave", PASSWORD).await;
    let html = app.send(Req::get("/").session(&d)).await.text();
    assert!(html.contains("id=\"incident-metrics\""));
    assert!(html.contains("data-metric=\"mtta\" data-count=\"1\""), "{html}");
    assert!(html.contains("data-mean=\"1800\""), "MTTA 30 min: {html}");
    assert!(html.contains("data-metric=\"mttr\" data-count=\"1\""));
    assert!(html.contains("data-mean=\"9000\""), "MTTR 2 h 30 min");
    assert!(html.contains("2 h 30 min"));
    assert!(html.contains("id=\"incidents-per-week\"") && html.contains("class=\"stack\""));
    assert!(
        html.contains("id=\"handling-per-month\"") && html.contains("data-series=\"mttr\" data-value=\"2.5\""),
        "{html}"
    );

    // The drill list: upcoming, overdue and done, with the plan version.
    let plan = app
        .send(Req::post("/api/v1/plans").bearer(&responder).json(&json!({
            "title": "DNS 预案", "owner": "运维", "scenarios": ["dns_failure"], "steps": "1. 切换", "review_cycle_months": 12,
        })))
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    let mut drills = Vec::new();
    for when in ["2026-11-20", "2026-12-20"] {
        let r = app
            .send(Req::post("/api/v1/drills").bearer(&responder).json(&json!({
                "plan_id": plan, "scenario": "dns_failure", "scheduled_at": when,
            })))
            .await;
        r.assert_status(StatusCode::CREATED);
        assert_eq!(r.json()["plan_version"], 1);
        drills.push(r.json()["id"].as_i64().unwrap());
    }
    let html = app.send(Req::get("/drills").session(&d)).await.text();
    assert!(html.contains("id=\"drills-overdue\" data-count=\"1\""), "{html}");
    assert!(html.contains("id=\"drills-upcoming\" data-count=\"1\""));
    assert!(html.contains("id=\"drills-done\" data-count=\"0\""));
    assert!(html.contains("data-plan-version=\"1\""));

    // A finding becomes a follow-up on the exercise incident; without one the page says how.
    let drill = drills[1];
    let r = app
        .send(
            Req::post(&format!("/drills/{drill}/tasks"))
                .session(&s)
                .form(&[("_csrf", &s.csrf), ("title", "更新联络树")]),
        )
        .await;
    assert!(r.location().unwrap_or_default().contains("error"), "no exercise incident yet");
    let r = app.send(Req::post(&format!("/api/v1/drills/{drill}/exercise")).bearer(&responder).json(&json!({}))).await;
    r.assert_status(StatusCode::CREATED);
    let r = app
        .send(
            Req::post(&format!("/drills/{drill}/tasks"))
                .session(&s)
                .form(&[("_csrf", &s.csrf), ("title", "更新联络树")]),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(!r.location().unwrap_or_default().contains("error"), "{:?}", r.location());
    let exercise = app.store.get_drill(drill).await.unwrap().incident_id.unwrap();
    let follow_ups = app.store.incident_follow_ups(exercise).await.unwrap();
    assert_eq!(follow_ups.iter().map(|t| t.title.as_str()).collect::<Vec<_>>(), vec!["更新联络树"]);
    let e = app.audit_with_action("incident.task_create").await;
    assert!(e.iter().any(|e| e.object_id == exercise.to_string() && e.actor == "alice"));
}
