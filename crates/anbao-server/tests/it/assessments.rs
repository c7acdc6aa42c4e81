//! Compliance assessments over HTTP: a graded unit's requirements of its
//! level, results, evidence downloaded only as attachments, completion into
//! remediation tasks, and the requirement dashboard following along.

use anbao_model::Role;
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::harness::{App, Req};

async fn graded_unit(app: &App) -> i64 {
    let analyst = app.token(Role::Analyst).to_owned();
    let unit = app
        .send(Req::post("/api/v1/network-units").bearer(&analyst).json(&json!({
            "org_unit_id": app.root, "name": "省IP城域网", "responsible_person": "陈立"
        })))
        .await;
    assert_eq!(unit.status, StatusCode::CREATED, "{}", unit.text());
    let id = unit.json()["id"].as_i64().expect("id");
    let rules = app.send(Req::get("/api/v1/grading/rules").bearer(&analyst)).await.json();
    let mut answers = serde_json::Map::new();
    for f in rules["factors"].as_array().expect("factors") {
        let pick = if f["id"] == "social_order" {
            "serious"
        } else if f["id"] == "service_scope" {
            "province"
        } else {
            "none"
        };
        let option =
            f["options"].as_array().expect("options").iter().find(|o| o["id"] == pick).unwrap_or(&f["options"][0]);
        answers.insert(f["id"].as_str().expect("id").to_owned(), option["id"].clone());
    }
    let graded = app
        .send(
            Req::post(&format!("/api/v1/network-units/{id}/grading"))
                .bearer(&analyst)
                .json(&json!({ "answers": answers })),
        )
        .await;
    assert_eq!(graded.status, StatusCode::OK, "{}", graded.text());
    assert_eq!(graded.json()["level"], "3.1", "{}", graded.text());
    id
}

fn status_of(list: &Value, id: &str) -> String {
    list.as_array()
        .expect("list")
        .iter()
        .find(|r| r["id"] == id)
        .map(|r| r["status"].as_str().unwrap_or_default().to_owned())
        .expect("listed")
}

#[tokio::test]
async fn an_assessment_covers_the_level_and_ends_in_remediation_tasks() {
    let app = App::new().await;
    let analyst = app.token(Role::Analyst).to_owned();
    let unit = graded_unit(&app).await;
    let started = app
        .send(
            Req::post("/api/v1/assessments")
                .bearer(&analyst)
                .json(&json!({ "network_unit_id": unit, "assessor": "第三方评测机构" })),
        )
        .await;
    assert_eq!(started.status, StatusCode::CREATED, "{}", started.text());
    let a = started.json();
    let id = a["id"].as_i64().expect("id");
    let expected = anbao_model::catalogue::Catalogue::builtin().expect("catalogue").for_level(3).count();
    assert_eq!(a["items"].as_array().expect("items").len(), expected, "every level-3 requirement");
    app.send(
        Req::post("/api/v1/assessments")
            .bearer(app.token(Role::Auditor))
            .json(&json!({ "network_unit_id": unit, "assessor": "x" })),
    )
    .await
    .assert_status(StatusCode::FORBIDDEN);

    let ids: Vec<String> = a["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["requirement_id"].as_str().unwrap_or_default().to_owned())
        .collect();
    let results: Vec<Value> = ids
        .iter()
        .enumerate()
        .map(|(n, r)| json!({ "requirement_id": r, "result": if n == 0 { "not_met" } else { "met" }, "note": if n == 0 { "缺少双因素认证" } else { "" } }))
        .collect();
    let bad = app
        .send(
            Req::post(&format!("/api/v1/assessments/{id}/results"))
                .bearer(&analyst)
                .json(&json!({ "results": [{ "requirement_id": ids[0], "result": "maybe" }] })),
        )
        .await;
    assert_eq!(bad.error_field().as_deref(), Some("results[0].result"));
    app.send(
        Req::post(&format!("/api/v1/assessments/{id}/results")).bearer(&analyst).json(&json!({ "results": results })),
    )
    .await
    .assert_status(StatusCode::OK);
    let link = app
        .send(
            Req::post(&format!("/api/v1/assessments/{id}/evidence"))
                .bearer(&analyst)
                .json(&json!({ "requirement_id": ids[1], "link": "https://docs.example.cn/x" })),
        )
        .await;
    assert_eq!(link.status, StatusCode::CREATED, "{}", link.text());
    let file = app
        .store
        .add_evidence(
            &anbao_store::Actor::system(),
            id,
            &ids[1],
            Some(("<svg>.html", "text/html", b"<script>alert(1)</script>")),
            "",
        )
        .await
        .expect("file");
    let download = app
        .send(Req::get(&format!("/api/v1/assessments/{id}/evidence/{}", file.id)).bearer(app.token(Role::Auditor)))
        .await;
    assert_eq!(download.status, StatusCode::OK);
    assert_eq!(download.header("content-type"), Some("application/octet-stream"));
    assert!(download.header("content-disposition").is_some_and(|d| d.starts_with("attachment")));

    let requirements = app.send(Req::get("/api/v1/requirements").bearer(&analyst)).await.json();
    assert_eq!(status_of(&requirements, "R1.2"), "red", "nothing filed yet");
    let done = app
        .send(
            Req::post(&format!("/api/v1/assessments/{id}/complete"))
                .bearer(&analyst)
                .json(&json!({ "owner": "陈立", "due_on": "2099-01-01" })),
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text());
    let tasks = app.send(Req::get("/api/v1/remediation-tasks").bearer(app.token(Role::Regulator))).await.json();
    assert_eq!(tasks.as_array().map(Vec::len), Some(1), "{tasks}");
    assert!(tasks[0]["title"].as_str().is_some_and(|t| t.contains("缺少双因素认证")));
    let unit_view = app.send(Req::get(&format!("/api/v1/network-units/{unit}")).bearer(&analyst)).await.json();
    assert!(unit_view["last_compliance_assessment"].is_string(), "{unit_view}");
    let page = app.send(Req::get(&format!("/govern/assessments/{id}")).bearer(&analyst)).await;
    assert!(page.text().contains("缺少双因素认证") && page.text().contains("第三方评测机构"));
    // Overdue findings show on the dashboard.
    app.store.execute_raw("UPDATE remediation_tasks SET due_on = '2000-01-01'").await.expect("backdate the task");
    let dashboard = app.send(Req::get("/").bearer(&analyst)).await.text();
    assert!(dashboard.contains("id=\"overdue-tasks\""), "the dashboard flags overdue remediation");
    let task_id = tasks[0]["id"].as_i64().expect("task id");
    app.send(Req::post(&format!("/api/v1/remediation-tasks/{task_id}/close")).bearer(&analyst).json(&json!({})))
        .await
        .assert_status(StatusCode::OK);
}

#[tokio::test]
async fn a_planned_system_goes_live_only_through_the_pre_launch_gate() {
    let app = App::new().await;
    let analyst = app.token(Role::Analyst).to_owned();
    let asset = json!({
        "name": "新计费系统", "asset_type": "business_system", "org_unit": app.root, "responsible_department": app.root,
        "responsible_person": "李明", "lifecycle": "planned"
    });
    let created = app.send(Req::post("/api/v1/assets").bearer(&analyst).json(&asset)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let id = created.json()["id"].as_i64().expect("id");
    let mut live = asset.clone();
    live["lifecycle"] = json!("live");
    let refused = app.send(Req::put(&format!("/api/v1/assets/{id}")).bearer(&analyst).json(&live)).await;
    assert_eq!(refused.error_field().as_deref(), Some("lifecycle"), "{}", refused.text());

    // An assessment needs risks, each with a treatment decided.
    let gate = |kind: &str, reason: &str| json!({ "kind": kind, "approved_by": "王总", "reason": reason });
    app.send(Req::post(&format!("/api/v1/assets/{id}/prelaunch")).bearer(&analyst).json(&gate("assessment", "")))
        .await
        .assert_status(StatusCode::CONFLICT);
    let risk = |treatment: &str| {
        json!({
            "org_unit_id": app.root, "asset_id": id, "title": "未做渗透测试", "asset_value": 4, "likelihood": 3, "severity": 3,
            "treatment": treatment, "owner": "李明"
        })
    };
    let r = app.send(Req::post("/api/v1/risks").bearer(&analyst).json(&risk(""))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let r = r.json();
    assert_eq!(
        (r["score"].as_i64(), r["level"].as_str()),
        (Some(36), Some("high")),
        "4 × 3 × 3 with the default bands"
    );
    app.send(Req::post(&format!("/api/v1/assets/{id}/prelaunch")).bearer(&analyst).json(&gate("assessment", "")))
        .await
        .assert_status(StatusCode::CONFLICT);
    let bad = app.send(Req::post("/api/v1/risks").bearer(&analyst).json(&json!({ "org_unit_id": app.root, "title": "x", "asset_value": 6, "likelihood": 1, "severity": 1, "owner": "x" }))).await;
    assert_eq!(bad.error_field().as_deref(), Some("asset_value"));
    let rid = r["id"].as_i64().expect("risk id");
    app.send(Req::put(&format!("/api/v1/risks/{rid}")).bearer(&analyst).json(&risk("mitigate")))
        .await
        .assert_status(StatusCode::OK);
    app.send(Req::post(&format!("/api/v1/assets/{id}/prelaunch")).bearer(&analyst).json(&gate("assessment", "")))
        .await
        .assert_status(StatusCode::CREATED);
    app.send(Req::put(&format!("/api/v1/assets/{id}")).bearer(&analyst).json(&live))
        .await
        .assert_status(StatusCode::OK);
    let audit = app.audit_with_action("asset.prelaunch_assessment").await;
    assert_eq!(audit.len(), 1, "the gate is in the audit log");
    let page = app.send(Req::get(&format!("/govern/assets/{id}")).bearer(&analyst)).await;
    assert!(page.text().contains("未做渗透测试") && page.text().contains("王总"));
}

/// The filing form prints to PDF through headless Chromium (installed by
/// `.ci/run`), with the unit's name in it.
#[tokio::test]
async fn the_filing_form_prints_to_pdf() {
    let app = App::new().await;
    let unit = graded_unit(&app).await;
    let r =
        app.send(Req::get(&format!("/govern/units/{unit}/filing-form.pdf")).bearer(app.token(Role::Regulator))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("application/pdf"));
    assert!(r.body.starts_with(b"%PDF-"), "a PDF document");
    assert!(r.body.len() > 1000, "with content");
    let html =
        app.send(Req::get(&format!("/govern/units/{unit}/filing-form")).bearer(app.token(Role::Regulator))).await;
    assert!(html.text().contains("省IP城域网") && html.text().contains("3.1"));
}
