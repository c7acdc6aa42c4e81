//! Emergency plans and drills over HTTP (R2.1 / R2.3): a plan created with
//! its document, edited into new versions (change note required), marked
//! reviewed, and drilled (scheduled, then done with an evaluation). Who may
//! call what is the matrix's.

use anbao_model::Role;
use axum::http::StatusCode;
use base64::Engine;
use serde_json::json;

use crate::harness::{App, Req};

fn plan_body() -> serde_json::Value {
    json!({
        "title": "网络安全事件应急预案",
        "owner": "网络安全处",
        "scenarios": ["ddos", "dns_failure", "data_leak"],
        "roles": "指挥长：处长",
        "contact_tree": "处长 → 值班长",
        "steps": "1. 研判\n2. 处置",
        "review_cycle_months": 6,
        "document": {
            "name": "plan.pdf",
            "content_base64": base64::engine::general_purpose::STANDARD.encode(b"%PDF-1.4 plan"),
        },
    })
}

#[tokio::test]
async fn plans_are_versioned_reviewed_and_drilled_over_the_api() {
    let app = App::new().await;
    let responder = app.token(Role::Responder).to_owned();
    let auditor = app.token(Role::Auditor).to_owned();

    let before = app.counts().await.audit;
    let mut bad = plan_body();
    bad["scenarios"] = json!(["meteor"]);
    let r = app.send(Req::post("/api/v1/plans").bearer(&responder).json(&bad)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let mut bad = plan_body();
    bad["document"]["content_base64"] = json!("not base64!");
    let r = app.send(Req::post("/api/v1/plans").bearer(&responder).json(&bad)).await;
    assert_eq!(r.error_field().as_deref(), Some("document"), "{}", r.text());
    assert_eq!(app.counts().await.audit, before);

    let r = app.send(Req::post("/api/v1/plans").bearer(&responder).json(&plan_body())).await;
    r.assert_status(StatusCode::CREATED);
    let plan = r.json();
    let id = plan["id"].as_i64().unwrap();
    assert_eq!(plan["scenarios"], json!(["ddos", "dns_failure", "data_leak"]));
    assert_eq!((plan["version"].as_i64(), plan["review_overdue"].as_bool()), (Some(1), Some(false)));

    // PUT without a change note is refused; with one it is version 2.
    let url = format!("/api/v1/plans/{id}");
    let mut edit = plan_body();
    edit.as_object_mut().unwrap().remove("document");
    edit["steps"] = json!("1. 研判\n2. 隔离\n3. 处置");
    let r = app.send(Req::put(&url).bearer(&responder).json(&edit)).await;
    assert_eq!(r.error_field().as_deref(), Some("change_note"), "{}", r.text());
    edit["change_note"] = json!("增加隔离");
    let r = app.send(Req::put(&url).bearer(&responder).json(&edit)).await;
    r.assert_status(StatusCode::OK);
    assert_eq!(r.json()["version"].as_i64(), Some(2));
    assert_eq!(app.audit_with_action("plan.update").await.len(), 1);

    // Any signed-in role reads the versions, newest first; the document carried over.
    let r = app.send(Req::get(&format!("{url}/versions")).bearer(&auditor)).await;
    r.assert_status(StatusCode::OK);
    let versions = r.json();
    assert_eq!(versions.as_array().map(Vec::len), Some(2));
    assert_eq!((versions[0]["version"].as_i64(), versions[0]["change_note"].as_str()), (Some(2), Some("增加隔离")));
    assert_eq!(versions[0]["doc_name"].as_str(), Some("plan.pdf"));
    assert!(!versions[1]["steps"].as_str().unwrap().contains("隔离"));

    let r = app.send(Req::post(&format!("{url}/reviewed")).bearer(&responder)).await;
    r.assert_status(StatusCode::OK);
    assert!(r.json()["last_reviewed_at"].is_string());
    assert_eq!(app.audit_with_action("plan.review").await.len(), 1);

    // Drills: scheduled against the plan, then done with an evaluation.
    let r = app
        .send(Req::post("/api/v1/drills").bearer(&responder).json(&json!({
            "plan_id": id, "scenario": "ddos", "scheduled_at": "2026-12-10T14:00", "participants": "运维组",
        })))
        .await;
    r.assert_status(StatusCode::CREATED);
    let drill = r.json();
    let drill_url = format!("/api/v1/drills/{}", drill["id"]);
    let r = app.send(Req::patch(&drill_url).bearer(&responder).json(&json!({ "status": "done" }))).await;
    assert_eq!(r.error_field().as_deref(), Some("evaluation"), "{}", r.text());
    let r = app
        .send(Req::patch(&drill_url).bearer(&responder).json(&json!({
            "status": "done", "evaluation": "切换及时", "findings": "联系人名单过期",
        })))
        .await;
    r.assert_status(StatusCode::OK);
    assert_eq!(r.json()["status"].as_str(), Some("done"));
    let r = app.send(Req::get(&format!("/api/v1/drills?plan_id={id}")).bearer(&auditor)).await;
    r.assert_status(StatusCode::OK);
    let drills = r.json();
    assert_eq!(drills.as_array().map(Vec::len), Some(1));
    assert_eq!(drills[0]["findings"].as_str(), Some("联系人名单过期"));
    let r = app.send(Req::get("/api/v1/drills?plan_id=424242").bearer(&auditor)).await;
    assert_eq!(r.json(), json!([]));
}
