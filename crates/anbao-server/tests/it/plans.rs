//! Emergency plans and drills over HTTP (R2.1 / R2.3): a plan created with
//! its document, edited into new versions (change note required), marked
//! reviewed, and drilled (scheduled, then done with an evaluation). Who may
//! call what is the matrix's.

use anbao_model::Role;
use axum::http::StatusCode;
use base64::Engine;
use serde_json::json;

use crate::harness::{App, PASSWORD, Req};

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

#[tokio::test]
async fn the_plan_pages_create_revise_review_and_drill() {
    let app = App::new().await;
    app.make_user("alice", Role::Responder, app.root, vec![]).await;
    app.make_user("dave", Role::Auditor, app.root, vec![]).await;
    let s = app.login("alice", PASSWORD).await;
    let html = app.send(Req::get("/plans/new").session(&s)).await.text();
    assert!(html.contains("id=\"plan-form\""));
    assert!(!html.contains("<script>"), "no inline script");
    let form = |extra: &[(&'static str, &'static str)]| {
        let mut f: Vec<(&str, &str)> = vec![
            ("_csrf", ""),
            ("title", "DNS 故障应急预案"),
            ("owner", "运维处"),
            ("review_cycle_months", "1"),
            ("scenarios", "dns_failure"),
            ("scenarios", "ddos"),
            ("roles", "指挥长"),
            ("contact_tree", "处长 → 值班"),
            ("steps", "1. 切换备用 DNS"),
        ];
        f.extend_from_slice(extra);
        f
    };
    let mut fields = form(&[]);
    fields[0].1 = &s.csrf;
    let r = app.send(Req::post("/plans").session(&s).form(&fields)).await;
    r.assert_status(StatusCode::SEE_OTHER);
    let to = r.location().unwrap().to_owned();
    assert!(to.starts_with("/plans/") && to.contains("?ok="), "{to}");
    let page = to.split('?').next().unwrap().to_owned();
    let html = app.send(Req::get(&page).session(&s)).await.text();
    assert!(html.contains("DNS 故障") && html.contains("DDoS"), "scenarios listed");
    assert!(html.contains("id=\"edit-plan-form\"") && html.contains("id=\"mark-reviewed\""));

    // A revision without a change note is refused, with one it is v2.
    let mut fields = form(&[("steps", "1. 切换备用 DNS\n2. 通报")]);
    fields[0].1 = &s.csrf;
    fields.retain(|(k, v)| !(*k == "steps" && *v == "1. 切换备用 DNS"));
    let r = app.send(Req::post(&page).session(&s).form(&fields)).await;
    assert!(r.location().unwrap().contains("error="), "no change note");
    fields.push(("change_note", "增加通报步骤"));
    let r = app.send(Req::post(&page).session(&s).form(&fields)).await;
    assert!(r.location().unwrap().contains("ok="));
    let html = app.send(Req::get(&page).session(&s)).await.text();
    assert!(html.contains("data-version=\"2\"") && html.contains("增加通报步骤"));

    // A drill from the form, then evaluated.
    let plan_id = page.trim_start_matches("/plans/").to_owned();
    let r = app
        .send(Req::post("/drills").session(&s).form(&[
            ("_csrf", &s.csrf),
            ("plan_id", &plan_id),
            ("scenario", "dns_failure"),
            ("scheduled_at", "2026-12-10T14:00"),
            ("participants", "运维组"),
        ]))
        .await;
    let drill_page = r.location().unwrap().split('?').next().unwrap().to_owned();
    assert!(drill_page.starts_with("/drills/"), "{drill_page}");
    let r = app
        .send(Req::post(&drill_page).session(&s).form(&[
            ("_csrf", &s.csrf),
            ("status", "done"),
            ("participants", "运维组"),
            ("evaluation", "切换用时 8 分钟"),
            ("findings", "备用 DNS 配置过期"),
        ]))
        .await;
    assert!(r.location().unwrap().contains("ok="), "{:?}", r.location());
    let html = app.send(Req::get(&drill_page).session(&s)).await.text();
    assert!(html.contains("备用 DNS 配置过期") && html.contains("id=\"revise-from-findings\""));
    let html = app.send(Req::get(&page).session(&s)).await.text();
    assert!(html.contains(&format!("href=\"{drill_page}\"")) && html.contains("data-status=\"done\""));

    // An auditor reads the list, without the write forms.
    let d = app.login("dave", PASSWORD).await;
    let html = app.send(Req::get("/plans").session(&d)).await.text();
    assert!(html.contains("DNS 故障应急预案") && html.contains("data-overdue=\"false\""));
    assert!(!html.contains("id=\"new-plan\""));
    let html = app.send(Req::get(&page).session(&d)).await.text();
    assert!(!html.contains("id=\"edit-plan-form\""));
}

#[tokio::test]
async fn overdue_plan_reviews_show_on_the_dashboard_until_reviewed() {
    let clock =
        std::sync::Arc::new(anbao_model::clock::ManualClock::new(time::macros::datetime!(2026-11-25 09:00 UTC)));
    let app = App::with_clock(anbao_server::ServerConfig::default(), clock.clone()).await;
    app.make_user("dave", Role::Auditor, app.root, vec![]).await;
    let responder = app.token(Role::Responder).to_owned();
    let mut body = plan_body();
    body["review_cycle_months"] = json!(1);
    let r = app.send(Req::post("/api/v1/plans").bearer(&responder).json(&body)).await;
    r.assert_status(StatusCode::CREATED);
    let id = r.json()["id"].as_i64().unwrap();

    let s = app.login("dave", PASSWORD).await;
    let html = app.send(Req::get("/").session(&s)).await.text();
    assert!(!html.contains("id=\"overdue-plan-reviews\""), "not yet due");

    clock.advance(time::Duration::days(40));
    // The old session has expired by now.
    let s = app.login("dave", PASSWORD).await;
    let html = app.send(Req::get("/").session(&s)).await.text();
    assert!(html.contains("id=\"overdue-plan-reviews\""), "due 2026-12-25, now 2027-01-04");
    let html = app.send(Req::get("/plans").session(&s)).await.text();
    assert!(html.contains("data-overdue=\"true\""));
    let r = app.send(Req::get(&format!("/api/v1/plans/{id}")).bearer(&responder)).await;
    assert_eq!(r.json()["review_overdue"].as_bool(), Some(true));

    let r = app.send(Req::post(&format!("/api/v1/plans/{id}/reviewed")).bearer(&responder)).await;
    assert_eq!(r.json()["next_review_due"].as_str(), Some("2027-02-04"));
    let html = app.send(Req::get("/").session(&s)).await.text();
    assert!(!html.contains("id=\"overdue-plan-reviews\""), "reviewed");
}

#[tokio::test]
async fn a_drill_runs_as_an_exercise_incident_that_is_never_reported() {
    let app = App::new().await;
    app.make_user("alice", Role::Responder, app.root, vec![]).await;
    let responder = app.token(Role::Responder).to_owned();
    let r = app.send(Req::post("/api/v1/plans").bearer(&responder).json(&plan_body())).await;
    let plan_id = r.json()["id"].as_i64().unwrap();
    let r = app
        .send(Req::post("/api/v1/drills").bearer(&responder).json(&json!({
            "plan_id": plan_id, "scenario": "data_leak", "scheduled_at": "2026-11-25",
        })))
        .await;
    let drill_id = r.json()["id"].as_i64().unwrap();

    let url = format!("/api/v1/drills/{drill_id}/exercise");
    let r = app.send(Req::post(&url).bearer(&responder).json(&json!({}))).await;
    r.assert_status(StatusCode::CREATED);
    let out = r.json();
    let incident = out["incident"]["id"].as_i64().unwrap();
    assert_eq!(out["incident"]["exercise"].as_bool(), Some(true));
    assert_eq!(out["drill"]["incident_id"].as_i64(), Some(incident));
    let r = app.send(Req::post(&url).bearer(&responder).json(&json!({}))).await;
    r.assert_status(StatusCode::CONFLICT);

    // On the board like any incident, flagged; a report can be drafted but not submitted.
    let s = app.login("alice", PASSWORD).await;
    let html = app.send(Req::get(&format!("/incidents/{incident}")).session(&s)).await.text();
    assert!(html.contains("id=\"exercise-badge\""));
    let html = app.send(Req::get(&format!("/drills/{drill_id}")).session(&s)).await.text();
    assert!(html.contains(&format!("href=\"/incidents/{incident}\"")) && !html.contains("id=\"start-exercise\""));
    let r = app
        .send(
            Req::post(&format!("/api/v1/incidents/{incident}/reports"))
                .bearer(&responder)
                .json(&json!({ "kind": "initial" })),
        )
        .await;
    r.assert_status(StatusCode::CREATED);
    let report = r.json()["id"].as_i64().unwrap();
    let r = app.send(Req::post(&format!("/api/v1/reports/{report}/submit")).bearer(&responder)).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.text().contains("exercise"), "{}", r.text());
}

/// The plan form as the browser posts it: multipart, text fields and the
/// `document` file input (empty: no file chosen).
fn plan_multipart(fields: &[(&str, &str)], document: Option<(&str, &[u8])>) -> (String, Vec<u8>) {
    use std::io::Write;
    const BOUNDARY: &str = "plan-form-boundary-93c1";
    let mut body = Vec::new();
    for (name, value) in fields {
        write!(body, "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").unwrap();
    }
    let (file_name, bytes) = document.unwrap_or(("", b""));
    write!(
        body,
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"document\"; filename=\"{file_name}\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
    .unwrap();
    body.extend_from_slice(bytes);
    write!(body, "\r\n--{BOUNDARY}--\r\n").unwrap();
    (format!("multipart/form-data; boundary={BOUNDARY}"), body)
}

#[tokio::test]
async fn plan_documents_are_uploaded_from_the_page_kept_and_downloaded() {
    let app = App::new().await;
    app.make_user("plan.uploader", Role::Responder, app.root, Vec::new()).await;
    let s = app.login("plan.uploader", PASSWORD).await;
    let fields = [
        ("title", "DNS 故障预案"),
        ("owner", "运维处"),
        ("review_cycle_months", "12"),
        ("scenarios", "dns_failure"),
        ("steps", "1. 切换备用 DNS"),
    ];
    // The form is multipart with a file input; the token rides in the action URL.
    let html = app.send(Req::get("/plans/new").session(&s)).await.text();
    assert!(html.contains(&format!("action=\"/plans?_csrf={}\"", s.csrf)), "{html}");
    assert!(html.contains("enctype=\"multipart/form-data\"") && html.contains("type=\"file\" name=\"document\""));
    // Without the token: refused.
    let (ct, body) = plan_multipart(&fields, Some(("预案.pdf", b"%PDF-1.7 v1")));
    app.send(Req::post("/plans").session(&s).raw(&ct, body.clone())).await.assert_status(StatusCode::FORBIDDEN);

    let r = app.send(Req::post(&format!("/plans?_csrf={}", s.csrf)).session(&s).raw(&ct, body)).await;
    r.assert_status(StatusCode::SEE_OTHER);
    let page = r.location().unwrap().split('?').next().unwrap().to_owned();
    assert!(page.starts_with("/plans/"), "{page}");
    let id: i64 = page.trim_start_matches("/plans/").parse().unwrap();
    let html = app.send(Req::get(&page).session(&s)).await.text();
    assert!(html.contains(&format!("href=\"{page}/versions/1/document\">预案.pdf<")), "{html}");
    assert!(html.contains(&format!("action=\"{page}?_csrf={}\"", s.csrf)), "the edit form is multipart too");
    // Stored as the API stores it: the API reads the same document.
    let versions = app.send(Req::get(&format!("/api/v1/plans/{id}/versions")).bearer(app.token(Role::Auditor))).await;
    let v1 = &versions.json()[0];
    assert_eq!((v1["doc_name"].as_str(), v1["doc_size"].as_i64()), (Some("预案.pdf"), Some(11)), "{v1}");
    let doc = app.send(Req::get(&format!("{page}/versions/1/document")).session(&s)).await;
    doc.assert_status(StatusCode::OK);
    assert_eq!(doc.body.as_ref(), b"%PDF-1.7 v1");
    assert!(doc.header("content-disposition").is_some_and(|d| d.starts_with("attachment;")), "{doc:?}");

    // A revision without a file keeps the document; with one it replaces it.
    let edit = |note: &'static str| {
        let mut f = fields.to_vec();
        f.push(("change_note", note));
        f
    };
    let (ct, body) = plan_multipart(&edit("只改步骤"), None);
    let r = app.send(Req::post(&format!("{page}?_csrf={}", s.csrf)).session(&s).raw(&ct, body)).await;
    assert!(r.location().unwrap().contains("ok="), "{:?}", r.location());
    let (ct, body) = plan_multipart(&edit("新版文档"), Some(("plan-v3.docx", b"PK\x03\x04 v3")));
    let r = app.send(Req::post(&format!("{page}?_csrf={}", s.csrf)).session(&s).raw(&ct, body)).await;
    assert!(r.location().unwrap().contains("ok="), "{:?}", r.location());
    let doc2 = app.send(Req::get(&format!("{page}/versions/2/document")).session(&s)).await;
    assert_eq!(doc2.body.as_ref(), b"%PDF-1.7 v1", "v2 kept v1's document");
    let doc3 = app.send(Req::get(&format!("{page}/versions/3/document")).session(&s)).await;
    assert_eq!(doc3.body.as_ref(), b"PK\x03\x04 v3");

    // Over 10 MiB: said on the page, no version written.
    let big = vec![b'x'; anbao_store::PLAN_DOC_MAX + 1];
    let (ct, body) = plan_multipart(&edit("太大"), Some(("big.bin", &big)));
    let r = app.send(Req::post(&format!("{page}?_csrf={}", s.csrf)).session(&s).raw(&ct, body)).await;
    assert!(r.location().unwrap().contains("error=document"), "{:?}", r.location());
    let big = vec![b'x'; anbao_store::PLAN_DOC_MAX + 512 * 1024];
    let (ct, body) = plan_multipart(&edit("更大"), Some(("bigger.bin", &big)));
    let r = app.send(Req::post(&format!("{page}?_csrf={}", s.csrf)).session(&s).raw(&ct, body)).await;
    assert!(r.location().unwrap().contains("error=document"), "{:?}", r.location());
    let versions = app.send(Req::get(&format!("/api/v1/plans/{id}/versions")).bearer(app.token(Role::Auditor))).await;
    assert_eq!(versions.json().as_array().map(Vec::len), Some(3));
    // Every version is audited.
    assert_eq!(app.audit_with_action("plan.update").await.len(), 2);

    // The API takes documents up to the same limit (base64 of 9 MiB is
    // more than the server-wide 1 MiB body limit).
    let nine = vec![7u8; 9 * 1024 * 1024];
    let mut body = plan_body();
    body["document"] =
        json!({ "name": "big.pdf", "content_base64": base64::engine::general_purpose::STANDARD.encode(&nine) });
    body["change_note"] = json!("大文档");
    let r = app.send(Req::put(&format!("/api/v1/plans/{id}")).bearer(app.token(Role::Responder)).json(&body)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let doc4 = app.send(Req::get(&format!("{page}/versions/4/document")).session(&s)).await;
    assert_eq!(doc4.body.len(), nine.len());
}
