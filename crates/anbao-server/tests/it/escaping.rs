//! Everything a user typed is escaped on the way into HTML.

use anbao_model::Role;
use axum::http::StatusCode;
use serde_json::json;

use crate::harness::{App, PASSWORD, Req};

const SCRIPT: &str = "<script>alert(1)</script>";
const ESCAPED: &str = "&lt;script&gt;alert(1)&lt;/script&gt;";

#[tokio::test]
async fn names_flash_messages_and_parameters_are_escaped() {
    let app = App::new().await;
    let admin = app.token(Role::Admin).to_owned();
    let r = app
        .send(
            Req::post("/api/v1/org-units")
                .bearer(&admin)
                .json(&json!({"parent_id": app.root, "name": SCRIPT, "kind": "department", "code": "\"><b>x"})),
        )
        .await;
    r.assert_status(StatusCode::CREATED);
    assert_eq!(r.json()["name"], SCRIPT, "the API stores and returns the text as given");
    let unit = r.json()["id"].as_i64().expect("id");
    let r = app
        .send(Req::post("/api/v1/users").bearer(&admin).json(&json!({
            "username": "xss.victim", "display_name": "<img src=x onerror=alert(2)>", "role": "analyst",
            "org_unit_id": unit, "password": PASSWORD, "email": "\"><svg onload=alert(3)>"
        })))
        .await;
    r.assert_status(StatusCode::CREATED);
    let user = r.json()["id"].as_i64().expect("id");

    let pages = [
        "/admin/org-units".to_owned(),
        "/admin/users".to_owned(),
        format!("/admin/users/{user}"),
        "/audit".to_owned(),
        format!("/admin/org-units?error={}", "%3Cscript%3Ealert(1)%3C%2Fscript%3E"),
        format!("/admin/users?ok={}", "%3Cscript%3Ealert(1)%3C%2Fscript%3E"),
        format!("/admin/users?q={}", "%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E"),
    ];
    for path in &pages {
        let r = app.send(Req::get(path).bearer(&admin)).await;
        r.assert_status(StatusCode::OK);
        let html = r.text();
        for raw in [SCRIPT, "<img src=x", "<svg onload", "\"><b>x"] {
            assert!(!html.contains(raw), "{path} holds the raw markup {raw:?}");
        }
        assert!(!html.contains("<script>"), "{path} holds an inline script tag");
    }
    let tree = app.send(Req::get("/admin/org-units").bearer(&admin)).await.text();
    assert!(tree.contains(ESCAPED), "the unit name is shown, escaped");
    let users = app.send(Req::get("/admin/users").bearer(&admin)).await.text();
    assert!(users.contains("&lt;img src=x onerror=alert(2)&gt;"), "the display name is shown, escaped");

    // The login page reflects `next` into an attribute: escaped, not broken out of.
    let r = app.send(Req::get("/login?next=/%22%3E%3Cscript%3Ealert(1)%3C/script%3E")).await;
    r.assert_status(StatusCode::OK);
    let html = r.text();
    assert!(!html.contains(SCRIPT) && html.contains("&quot;&gt;&lt;script&gt;"), "next is escaped in the form");
}
