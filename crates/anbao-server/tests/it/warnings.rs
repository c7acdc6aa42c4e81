//! Warnings over HTTP (R2.4): issued, adjusted and lifted through the API
//! with every step in the history and the audit log; recipients (a user, or
//! a member of a named unit) acknowledge through the API and the pages, and
//! the list shows level badges and acknowledgement progress. Who may call
//! what is the matrix's.

use anbao_model::{OrgKind, Role};
use axum::http::StatusCode;
use serde_json::json;

use crate::harness::{App, PASSWORD, Req};

#[tokio::test]
async fn warnings_are_issued_adjusted_acknowledged_and_lifted_over_api_and_pages() {
    let app = App::new().await;
    let branch = app.make_unit(app.root, "北京分公司", OrgKind::Province).await;
    let alice = app.make_user("alice", Role::Responder, app.root, vec![]).await;
    app.make_user("carol", Role::Auditor, branch, vec![]).await;
    app.make_user("dave", Role::Auditor, app.root, vec![]).await;
    let responder = app.token(Role::Responder).to_owned();

    // Refused: no recipients, unknown level; nothing audited.
    let before = app.counts().await.audit;
    let r =
        app.send(Req::post("/api/v1/warnings").bearer(&responder).json(&json!({ "level": "red", "title": "x" }))).await;
    assert_eq!((r.status, r.error_field().as_deref()), (StatusCode::UNPROCESSABLE_ENTITY, Some("recipients")));
    let r = app
        .send(Req::post("/api/v1/warnings").bearer(&responder).json(&json!({
            "level": "purple", "title": "x", "recipient_users": [alice.id],
        })))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(app.counts().await.audit, before);

    let r = app
        .send(Req::post("/api/v1/warnings").bearer(&responder).json(&json!({
            "level": "yellow",
            "title": "勒索软件活动预警",
            "description": "数据库服务遭勒索攻击增多",
            "scope_regions": ["北京", "上海"],
            "scope_asset_types": ["business_system", "cloud_tenant"],
            "required_actions": "排查暴露的数据库端口",
            "recipient_users": [alice.id],
            "recipient_units": [branch],
        })))
        .await;
    r.assert_status(StatusCode::CREATED);
    let w = r.json();
    let id = w["id"].as_i64().unwrap();
    assert_eq!((w["level"].as_str(), w["status"].as_str()), (Some("yellow"), Some("issued")));
    assert_eq!((w["acked"].as_i64(), w["recipients"].as_i64()), (Some(0), Some(2)));
    assert_eq!(w["scope_asset_types"], json!(["business_system", "cloud_tenant"]));
    assert_eq!(app.audit_with_action("warning.issue").await.len(), 1);

    // Adjust needs a reason; the level change lands in the history.
    let url = format!("/api/v1/warnings/{id}");
    let r = app.send(Req::patch(&url).bearer(&responder).json(&json!({ "level": "red" }))).await;
    assert_eq!(r.error_field().as_deref(), Some("reason"), "{}", r.text());
    let r = app
        .send(Req::patch(&url).bearer(&responder).json(&json!({ "level": "red", "reason": "已确认多家单位受攻击" })))
        .await;
    r.assert_status(StatusCode::OK);
    let w = r.json();
    assert_eq!(w["level"], "red");
    let history: Vec<(String, String)> = w["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["action"].as_str().unwrap().to_owned(), h["level"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(history, vec![("issued".into(), "yellow".into()), ("adjusted".into(), "red".into())]);
    assert_eq!(app.audit_with_action("warning.adjust").await.len(), 1);

    // Dave is no recipient: no ack button, and an ack is refused.
    let dave = app.login("dave", PASSWORD).await;
    let html = app.send(Req::get(&format!("/warnings/{id}")).session(&dave)).await.text();
    assert!(!html.contains("id=\"ack-warning\""));
    assert!(!html.contains("id=\"lift-form\""), "an auditor gets no lift form");
    let r = app.send(Req::post(&format!("{url}/ack")).session(&dave).csrf(&dave)).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());

    // Carol acknowledges for her unit on the page.
    let carol = app.login("carol", PASSWORD).await;
    let page = format!("/warnings/{id}");
    let html = app.send(Req::get(&page).session(&carol)).await.text();
    assert!(html.contains("id=\"ack-warning\""), "a recipient unit's member sees the ack button");
    let r = app.send(Req::post(&format!("{page}/ack")).session(&carol).form(&[("_csrf", &carol.csrf)])).await;
    r.assert_status(StatusCode::SEE_OTHER);
    assert!(r.location().unwrap().starts_with(&format!("{page}?ok=")), "{:?}", r.location());
    let html = app.send(Req::get(&page).session(&carol)).await.text();
    assert!(!html.contains("id=\"ack-warning\""), "nothing left to acknowledge");
    assert!(html.contains("<td>carol</td>"), "the recipients table names who acknowledged");

    // Alice acknowledges for herself through the API.
    let alice_s = app.login("alice", PASSWORD).await;
    let r = app.send(Req::post(&format!("{url}/ack")).session(&alice_s).csrf(&alice_s)).await;
    r.assert_status(StatusCode::OK);
    assert_eq!((r.json()["acked"].as_i64(), r.json()["ack_pending"].as_bool()), (Some(2), Some(false)));

    // The list shows the badge and the progress; a second warning that
    // stays active lists before the lifted one.
    let r = app
        .send(Req::post("/api/v1/warnings").bearer(&responder).json(&json!({
            "level": "blue", "title": "钓鱼邮件提示", "recipient_units": [app.root],
        })))
        .await;
    let other = r.json()["id"].as_i64().unwrap();
    let r = app.send(Req::post(&format!("{url}/lift")).bearer(&responder).json(&json!({}))).await;
    assert_eq!(r.error_field().as_deref(), Some("reason"), "{}", r.text());
    let r =
        app.send(Req::post(&format!("{url}/lift")).bearer(&responder).json(&json!({ "reason": "威胁已消除" }))).await;
    r.assert_status(StatusCode::OK);
    assert_eq!((r.json()["status"].as_str(), r.json()["lift_reason"].as_str()), (Some("lifted"), Some("威胁已消除")));
    let r = app.send(Req::post(&format!("{url}/lift")).bearer(&responder).json(&json!({ "reason": "again" }))).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let html = app.send(Req::get("/warnings").session(&dave)).await.text();
    let first = html.find(&format!("data-warning=\"{other}\"")).expect("active warning listed");
    let second = html.find(&format!("data-warning=\"{id}\"")).expect("lifted warning listed");
    assert!(first < second, "active first");
    assert!(html.contains("data-level=\"red\""));
    assert!(html.contains("data-level=\"blue\""));
    assert!(html.contains("2/2"), "ack progress of the lifted warning");
    assert!(html.contains("0/1"), "ack progress of the new one");
    assert!(html.contains("href=\"/warnings\""), "nav link");

    let list = app.send(Req::get("/api/v1/warnings").bearer(app.token(Role::Auditor))).await.json();
    let ids: Vec<i64> = list.as_array().unwrap().iter().map(|w| w["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, vec![other, id]);
}

#[tokio::test]
async fn the_new_warning_form_issues_and_the_adjust_form_records_the_reason() {
    let app = App::new().await;
    let alice = app.make_user("alice", Role::Responder, app.root, vec![]).await;
    let s = app.login("alice", PASSWORD).await;
    let html = app.send(Req::get("/warnings/new").session(&s)).await.text();
    assert!(html.contains("id=\"warning-form\""));
    assert!(!html.contains("<script>"), "no inline script");
    let alice_id = alice.id.to_string();
    let r = app
        .send(Req::post("/warnings").session(&s).form(&[
            ("_csrf", &s.csrf),
            ("level", "orange"),
            ("title", "DNS 放大攻击"),
            ("scope_regions", "北京，天津, 河北"),
            ("scope_asset_types", "dns_service"),
            ("required_actions", "关闭开放递归"),
            ("recipient_users", &alice_id),
        ]))
        .await;
    r.assert_status(StatusCode::SEE_OTHER);
    let to = r.location().unwrap().to_owned();
    assert!(to.starts_with("/warnings/") && to.contains("?ok="), "{to}");
    let page = to.split('?').next().unwrap().to_owned();
    let html = app.send(Req::get(&page).session(&s)).await.text();
    assert!(html.contains("北京, 天津, 河北"), "regions split on either comma");
    assert!(html.contains("data-level=\"orange\""));
    assert!(html.contains("id=\"adjust-form\"") && html.contains("id=\"ack-warning\""));

    let r = app
        .send(Req::post(&format!("{page}/adjust")).session(&s).form(&[
            ("_csrf", &s.csrf),
            ("level", "red"),
            ("title", "DNS 放大攻击"),
            ("scope_regions", "全国"),
            ("scope_asset_types", "dns_service"),
            ("required_actions", "关闭开放递归"),
            ("reason", "攻击范围扩大"),
        ]))
        .await;
    assert!(r.location().unwrap().starts_with(&format!("{page}?ok=")), "{:?}", r.location());
    let html = app.send(Req::get(&page).session(&s)).await.text();
    assert!(
        html.contains("攻击范围扩大") && html.contains("level orange → red"),
        "history shows the change and reason"
    );
    let r = app.send(Req::post(&format!("{page}/lift")).session(&s).form(&[("_csrf", &s.csrf), ("reason", "")])).await;
    assert!(r.location().unwrap().starts_with(&format!("{page}?error=")), "{:?}", r.location());
}
