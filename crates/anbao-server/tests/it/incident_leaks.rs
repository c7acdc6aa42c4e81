//! Personal-data leaks over HTTP (R5.4): the duty flagged when a leak
//! incident is opened, shown in the incident JSON and as a red banner on its
//! page; categories and people affected set through the API and the form;
//! notification of the regulator and the individuals recorded; the report's
//! `personal_data` section. 404 for incidents that are no leak or out of
//! scope; who may call what is the matrix's.

use anbao_model::Role;
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::harness::{App, PASSWORD, Req};

async fn open(app: &App, token: &str, body: Value) -> Value {
    let r = app.send(Req::post("/api/v1/incidents").bearer(token).json(&body)).await;
    r.assert_status(StatusCode::CREATED);
    r.json()
}

#[tokio::test]
async fn a_leak_incident_carries_its_duty_through_the_api_and_the_report() {
    let app = App::new().await;
    let responder = app.token(Role::Responder).to_owned();
    let leak = open(
        &app,
        &responder,
        json!({ "incident_type": "data_leak", "title": "会员库泄露", "facts": { "records_leaked": 150000 } }),
    )
    .await;
    let id = leak["incident"]["id"].as_i64().unwrap();
    // The duty is flagged at once and said in the timeline.
    let flagged = leak["leak"]["duty_flagged_at"].as_str().expect("leak in the incident JSON").to_owned();
    assert_eq!(leak["leak"]["regulator_notified_at"], Value::Null);
    let entries = leak["timeline"].as_array().unwrap();
    assert!(entries.iter().any(|e| e["entry"].as_str().unwrap().contains("MIIT Order No. 24")), "{entries:?}");

    let ddos = open(
        &app,
        &responder,
        json!({ "incident_type": "ddos", "title": "DDoS", "facts": { "users_offline_scope": "city" } }),
    )
    .await;
    let ddos_id = ddos["incident"]["id"].as_i64().unwrap();
    assert_eq!(ddos["leak"], Value::Null);
    let r = app.send(Req::get(&format!("/api/v1/incidents/{ddos_id}/leak")).bearer(&responder)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app.send(Req::put(&format!("/api/v1/incidents/{ddos_id}/leak")).bearer(&responder).json(&json!({}))).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    let url = format!("/api/v1/incidents/{id}/leak");
    let r = app.send(Req::get(&url).bearer(app.token(Role::Auditor))).await;
    r.assert_status(StatusCode::OK);
    assert_eq!(r.json()["duty_flagged_at"], flagged.as_str());

    // Unknown category: 422 naming it; nothing written.
    let before = app.counts().await.audit;
    let r = app.send(Req::put(&url).bearer(&responder).json(&json!({ "data_categories": ["contact", "dna"] }))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.error_field().as_deref(), Some("data_categories"));
    assert!(r.text().contains("dna"), "{}", r.text());
    assert_eq!(app.counts().await.audit, before);
    // Readers may not change it.
    let r = app.send(Req::put(&url).bearer(app.token(Role::Auditor)).json(&json!({}))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    let r = app
        .send(Req::put(&url).bearer(&responder).json(&json!({
            "data_categories": ["identity", "financial_account"], "affected_users": 120000,
        })))
        .await;
    r.assert_status(StatusCode::OK);
    let l = r.json();
    assert_eq!(l["data_categories"], json!(["identity", "financial_account"]));
    assert_eq!((l["sensitive"].as_bool(), l["affected_users"].as_i64()), (Some(true), Some(120000)));
    assert_eq!(app.audit_with_action("incident.leak_update").await.len(), 1);

    let notified = format!("{url}/notified");
    let r = app.send(Req::post(&notified).bearer(&responder).json(&json!({ "who": "press" }))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let r = app.send(Req::post(&notified).bearer(&responder).json(&json!({ "who": "regulator", "at": "soon" }))).await;
    assert_eq!(r.error_field().as_deref(), Some("at"), "{}", r.text());
    let r = app.send(Req::post(&notified).bearer(&responder).json(&json!({ "who": "regulator" }))).await;
    r.assert_status(StatusCode::OK);
    assert!(r.json()["regulator_notified_at"].is_string());
    assert_eq!(r.json()["individuals_notified_at"], Value::Null);
    assert_eq!(app.audit_with_action("incident.leak_notified").await.len(), 1);

    // Out of scope: not found, not changeable.
    let branch = app.make_unit(app.root, "分公司", anbao_model::OrgKind::City).await;
    let (branch_token, _) = app.make_token("branch-bot", Role::Responder, branch).await;
    assert_eq!(app.send(Req::get(&url).bearer(&branch_token)).await.status, StatusCode::NOT_FOUND);
    let r = app.send(Req::post(&notified).bearer(&branch_token).json(&json!({ "who": "individuals" }))).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // The report carries the personal-data section; a non-leak's does not.
    let report = |incident: i64| {
        let app = &app;
        let responder = responder.clone();
        async move {
            let r = app
                .send(
                    Req::post(&format!("/api/v1/incidents/{incident}/reports"))
                        .bearer(&responder)
                        .json(&json!({ "kind": "initial" })),
                )
                .await;
            r.assert_status(StatusCode::CREATED);
            let rid = r.json()["id"].as_i64().unwrap();
            let j = app.send(Req::get(&format!("/api/v1/reports/{rid}")).bearer(&responder)).await;
            j.assert_status(StatusCode::OK);
            (rid, j.json())
        }
    };
    let (rid, body) = report(id).await;
    let pd = &body["personal_data"];
    assert_eq!(pd["records_leaked"], 150000, "{body}");
    assert_eq!(pd["data_categories"], json!(["identity", "financial_account"]));
    assert_eq!((pd["sensitive"].as_bool(), pd["affected_users"].as_i64()), (Some(true), Some(120000)));
    assert_eq!(pd["duty_flagged_at"], flagged.as_str());
    assert!(pd["regulator_notified_at"].is_string() && pd["individuals_notified_at"].is_null());
    assert_eq!(body["schema"], "anbao.incident-report/1");
    app.make_user("ana", Role::Analyst, app.root, vec![]).await;
    let s = app.login("ana", PASSWORD).await;
    let html = app.send(Req::get(&format!("/reports/{rid}")).session(&s)).await.text();
    assert!(html.contains(r#"id="report-personal-data""#), "{html}");
    let (_, other) = report(ddos_id).await;
    assert!(other.get("personal_data").is_none(), "{other}");
}

#[tokio::test]
async fn the_incident_page_shows_the_leak_banner_and_its_forms() {
    let app = App::new().await;
    app.make_user("alice", Role::Responder, app.root, vec![]).await;
    let s = app.login("alice", PASSWORD).await;
    let leak = open(
        &app,
        app.token(Role::Responder),
        json!({ "incident_type": "intrusion", "title": "入侵并拖库", "facts": { "records_leaked": 42 } }),
    )
    .await;
    let id = leak["incident"]["id"].as_i64().unwrap();
    let page = format!("/incidents/{id}");
    let html = app.send(Req::get(&page).session(&s)).await.text();
    assert!(html.contains(r#"id="leak-duty""#), "banner shown");
    assert!(html.contains(r#"id="leak-duty-regulator" data-met="false""#), "regulator duty not met");
    assert!(html.contains(r#"id="leak-form""#) && html.contains(r#"name="_csrf""#));

    // Without the CSRF token the form is refused.
    let r =
        app.send(Req::post(&format!("/incidents/{id}/leak")).session(&s).form(&[("data_categories", "health")])).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .send(Req::post(&format!("/incidents/{id}/leak")).session(&s).form(&[
            ("_csrf", &s.csrf),
            ("data_categories", "health"),
            ("data_categories", "contact"),
            ("affected_users", "40"),
        ]))
        .await;
    r.assert_status(StatusCode::SEE_OTHER);
    assert!(r.location().unwrap().starts_with(&format!("{page}?ok=")), "{:?}", r.location());
    let r = app
        .send(
            Req::post(&format!("/incidents/{id}/leak"))
                .session(&s)
                .form(&[("_csrf", &s.csrf), ("data_categories", "passport")]),
        )
        .await;
    assert!(r.location().unwrap().starts_with(&format!("{page}?error=")), "{:?}", r.location());
    let r = app
        .send(Req::post(&format!("/incidents/{id}/leak/notified")).session(&s).form(&[
            ("_csrf", &s.csrf),
            ("who", "individuals"),
            ("at", ""),
        ]))
        .await;
    assert!(r.location().unwrap().starts_with(&format!("{page}?ok=")), "{:?}", r.location());

    let html = app.send(Req::get(&page).session(&s)).await.text();
    assert!(html.contains(r#"id="leak-duty-individuals" data-met="true""#));
    assert!(html.contains(r#"id="leak-sensitive""#), "health is sensitive");
    assert!(html.contains(r#"value="health" checked"#));

    // A page of an incident that is no leak has no banner.
    let ddos = open(&app, app.token(Role::Responder), json!({ "incident_type": "ddos", "title": "DDoS" })).await;
    let html = app.send(Req::get(&format!("/incidents/{}", ddos["incident"]["id"])).session(&s)).await.text();
    assert!(!html.contains(r#"id="leak-duty""#));
}
