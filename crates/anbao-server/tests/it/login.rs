//! Signing in and out through the real routes: the login form's
//! double-submit cookie, the session cookie's flags, CSRF on every change a
//! session makes, failed logins, lockout and logout.

use anbao_model::Role;
use axum::http::StatusCode;
use serde_json::json;

use crate::harness::{App, PASSWORD, Req, hidden_field};

#[tokio::test]
async fn login_form_sets_a_double_submit_cookie_and_refuses_mismatches() {
    let app = App::new().await;
    let r = app.send(Req::get("/login?next=/audit")).await;
    r.assert_status(StatusCode::OK);
    let line = r.set_cookie_line("anbao_login").expect("anbao_login cookie");
    assert!(line.contains("HttpOnly") && line.contains("SameSite=Strict"), "{line}");
    let cookie = r.cookie("anbao_login").expect("cookie value");
    let html = r.text();
    assert_eq!(
        hidden_field(&html, "_login_csrf").as_deref(),
        Some(cookie.as_str()),
        "field and cookie carry the same token"
    );
    assert_eq!(hidden_field(&html, "next").as_deref(), Some("/audit"));
    let password = app.admin_password.clone();
    let audit_before = app.counts().await.audit;

    // Field without cookie, cookie without field, and a mismatched pair.
    let attempts = [
        Req::post("/login").form(&[
            ("_login_csrf", cookie.as_str()),
            ("username", "admin"),
            ("password", password.as_str()),
        ]),
        Req::post("/login")
            .cookie("anbao_login", &cookie)
            .form(&[("username", "admin"), ("password", password.as_str())]),
        Req::post("/login").cookie("anbao_login", &cookie).form(&[
            ("_login_csrf", "0123456789abcdef0123456789abcdef"),
            ("username", "admin"),
            ("password", password.as_str()),
        ]),
        Req::post("/login").cookie("anbao_login", "").form(&[
            ("_login_csrf", ""),
            ("username", "admin"),
            ("password", password.as_str()),
        ]),
    ];
    for req in attempts {
        let r = app.send(req).await;
        r.assert_status(StatusCode::FORBIDDEN);
        assert!(r.cookie("anbao_session").is_none(), "no session without a matching pair: {r:?}");
    }
    // Refused before the password was even checked: nothing audited.
    assert_eq!(app.counts().await.audit, audit_before);

    // Offsite and login-loop targets are not followed after login.
    let r = app.post_login("admin", &password, "//evil.example/x").await;
    r.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(r.location(), Some("/"));
    // Already logged in: GET /login sends the browser on.
    let cookie = r.cookie("anbao_session").expect("session");
    let r = app.send(Req::get("/login?next=/account").cookie("anbao_session", &cookie)).await;
    r.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(r.location(), Some("/account"));
}

#[tokio::test]
async fn session_login_csrf_and_logout() {
    let app = App::new().await;
    let password = app.admin_password.clone();

    let r = app.post_login("admin", &password, "/admin/users").await;
    r.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(r.location(), Some("/admin/users"), "login follows a safe next");
    let line = r.set_cookie_line("anbao_session").expect("session cookie");
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(line.contains(flag), "session cookie lacks {flag}: {line}");
    }
    assert!(!line.contains("Secure"), "not Secure unless configured: {line}");
    let cookie = r.cookie("anbao_session").expect("session value");
    let login = app.audit_with_action("session.login").await;
    assert_eq!(login.len(), 1);
    assert_eq!((login[0].actor.as_str(), login[0].channel.as_str()), ("admin", "ui"));

    // The session works and tells the browser its CSRF token.
    let me = app.send(Req::get("/api/v1/me").cookie("anbao_session", &cookie)).await;
    me.assert_status(StatusCode::OK);
    let me = me.json();
    assert_eq!(me["name"], "admin");
    assert_eq!(me["via"], "session");
    assert_eq!(me["role"], "admin");
    let csrf = me["csrf_token"].as_str().expect("csrf_token").to_owned();
    assert!(csrf.len() >= 32, "CSRF token is long and random: {csrf}");
    let page = app.send(Req::get("/admin/org-units").cookie("anbao_session", &cookie)).await;
    page.assert_status(StatusCode::OK);
    assert_eq!(hidden_field(&page.text(), "_csrf").as_deref(), Some(csrf.as_str()), "forms carry the session's token");

    // API changes need the X-CSRF-Token header.
    let body = json!({"parent_id": app.root, "name": "会话部门", "kind": "department"});
    let before = app.counts().await;
    for req in [
        Req::post("/api/v1/org-units").cookie("anbao_session", &cookie).json(&body),
        Req::post("/api/v1/org-units").cookie("anbao_session", &cookie).header("x-csrf-token", "wrong").json(&body),
        Req::post("/api/v1/org-units").cookie("anbao_session", &cookie).header("x-csrf-token", "").json(&body),
    ] {
        let r = app.send(req).await;
        r.assert_status(StatusCode::FORBIDDEN);
        assert_eq!(r.json()["status"], 403);
    }
    assert_eq!(app.counts().await, before, "refused CSRF wrote nothing");
    let r = app
        .send(Req::post("/api/v1/org-units").cookie("anbao_session", &cookie).header("x-csrf-token", &csrf).json(&body))
        .await;
    r.assert_status(StatusCode::CREATED);
    let unit = r.json()["id"].as_i64().expect("id");
    let path = format!("/api/v1/org-units/{unit}");
    let rename = json!({"name": "会话部门二"});
    app.send(Req::patch(&path).cookie("anbao_session", &cookie).json(&rename))
        .await
        .assert_status(StatusCode::FORBIDDEN);
    app.send(Req::delete(&path).cookie("anbao_session", &cookie)).await.assert_status(StatusCode::FORBIDDEN);
    let r =
        app.send(Req::patch(&path).cookie("anbao_session", &cookie).header("x-csrf-token", &csrf).json(&rename)).await;
    r.assert_status(StatusCode::OK);
    assert_eq!(r.json()["name"], "会话部门二");
    let update = app.audit_with_action("org_unit.update").await;
    assert_eq!((update[0].actor.as_str(), update[0].channel.as_str()), ("admin", "ui"));

    // Page forms need the _csrf field.
    let before = app.counts().await;
    let root = app.root.to_string();
    let fields = [("parent_id", root.as_str()), ("name", "表单部门"), ("kind", "department")];
    let r = app.send(Req::post("/admin/org-units").cookie("anbao_session", &cookie).form(&fields)).await;
    r.assert_status(StatusCode::FORBIDDEN);
    assert!(r.content_type().starts_with("text/html"), "pages refuse with a page: {r:?}");
    let mut wrong = fields.to_vec();
    wrong.push(("_csrf", "nope"));
    app.send(Req::post("/admin/org-units").cookie("anbao_session", &cookie).form(&wrong))
        .await
        .assert_status(StatusCode::FORBIDDEN);
    // An oversized form is refused while the CSRF check reads it.
    let huge = "x".repeat(2 * 1024 * 1024);
    let r = app
        .send(
            Req::post("/admin/org-units")
                .cookie("anbao_session", &cookie)
                .form(&[("_csrf", csrf.as_str()), ("name", &huge)]),
        )
        .await;
    r.assert_status(StatusCode::PAYLOAD_TOO_LARGE);
    let r = app
        .send(
            Req::post("/api/v1/org-units")
                .cookie("anbao_session", &cookie)
                .header("x-csrf-token", &csrf)
                .raw("application/json", huge),
        )
        .await;
    r.assert_status(StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(app.counts().await, before, "refused forms wrote nothing");
    let mut right = fields.to_vec();
    right.push(("_csrf", csrf.as_str()));
    let r = app.send(Req::post("/admin/org-units").cookie("anbao_session", &cookie).form(&right)).await;
    r.assert_status(StatusCode::SEE_OTHER);
    assert!(r.location().is_some_and(|l| l.starts_with("/admin/org-units?ok=")), "{r:?}");
    assert_eq!(app.counts().await.units, before.units + 1);

    // Another session's token does not do.
    let other = app.login("admin", &password).await;
    assert_ne!(other.csrf, csrf);
    let r = app
        .send(Req::patch(&path).cookie("anbao_session", &cookie).header("x-csrf-token", &other.csrf).json(&rename))
        .await;
    r.assert_status(StatusCode::FORBIDDEN);

    // Logout is a change too: it needs the token, then ends the session.
    app.send(Req::post("/logout").cookie("anbao_session", &cookie).form(&[]))
        .await
        .assert_status(StatusCode::FORBIDDEN);
    let r = app.send(Req::post("/logout").cookie("anbao_session", &cookie).form(&[("_csrf", csrf.as_str())])).await;
    r.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(r.location(), Some("/login"));
    let cleared = r.set_cookie_line("anbao_session").expect("logout clears the cookie");
    assert!(cleared.starts_with("anbao_session=;") && cleared.contains("Max-Age=0"), "{cleared}");
    assert_eq!(app.audit_with_action("session.logout").await.len(), 1);
    app.send(Req::get("/api/v1/me").cookie("anbao_session", &cookie)).await.assert_status(StatusCode::UNAUTHORIZED);
    let r = app.send(Req::get("/").cookie("anbao_session", &cookie)).await;
    r.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(r.location(), Some("/login?next=/"));
    // The other session is untouched.
    app.send(Req::get("/api/v1/me").session(&other)).await.assert_status(StatusCode::OK);
}

#[tokio::test]
async fn wrong_passwords_are_refused_audited_and_lock_the_account() {
    let app = App::new().await;
    let user = app.make_user("zhang.wei", Role::Analyst, app.root, Vec::new()).await;

    // An unknown name fails the same way as a wrong password.
    let r = app.post_login("nobody", PASSWORD, "/").await;
    r.assert_status(StatusCode::UNAUTHORIZED);
    assert!(r.cookie("anbao_session").is_none());
    let failed = app.audit_with_action("session.login_failed").await;
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].object_id, "", "no user behind an unknown name");

    for attempt in 1..=5 {
        let r = app.post_login("zhang.wei", "wrong password, try again", "/").await;
        assert!(r.cookie("anbao_session").is_none(), "attempt {attempt} must not log in");
        let want = if attempt < 5 { StatusCode::UNAUTHORIZED } else { StatusCode::FORBIDDEN };
        r.assert_status(want);
        assert!(r.content_type().starts_with("text/html"), "{r:?}");
        assert!(r.text().contains("id=\"login-error\""), "the form says what went wrong");
    }
    let failed = app.audit_with_action("session.login_failed").await;
    assert_eq!(failed.len(), 6);
    assert_eq!(failed[0].object_id, user.id.to_string());
    assert_eq!(failed[0].actor, "zhang.wei");
    assert_eq!(failed[0].after.as_ref().map(|a| a["username"].clone()), Some(json!("zhang.wei")));
    assert!(
        failed
            .iter()
            .all(|e| e.before.is_none() && !e.after.as_ref().is_some_and(|a| a.to_string().contains("wrong password"))),
        "the audit log never holds a tried password"
    );
    assert_eq!(app.audit_with_action("user.locked").await.len(), 1);

    // Locked: even the right password is refused now.
    let r = app.post_login("zhang.wei", PASSWORD, "/").await;
    r.assert_status(StatusCode::FORBIDDEN);
    assert!(r.cookie("anbao_session").is_none(), "a locked account gets no session");
    let locked = app.send(Req::get(&format!("/api/v1/users/{}", user.id)).bearer(app.token(Role::Admin))).await;
    assert!(locked.json()["locked_until"].is_string(), "{locked:?}");

    // An administrator unlocks; then the right password works.
    let r = app
        .send(
            Req::patch(&format!("/api/v1/users/{}", user.id))
                .bearer(app.token(Role::Admin))
                .json(&json!({"unlock": true})),
        )
        .await;
    r.assert_status(StatusCode::OK);
    assert!(r.json()["locked_until"].is_null());
    let s = app.login("zhang.wei", PASSWORD).await;
    let me = app.send(Req::get("/api/v1/me").session(&s)).await.json();
    assert_eq!(me["role"], "analyst");
}

#[tokio::test]
async fn disabling_a_user_or_changing_their_password_ends_their_sessions() {
    let app = App::new().await;
    let user = app.make_user("chen.jing", Role::Responder, app.root, Vec::new()).await;
    let s = app.login("chen.jing", PASSWORD).await;
    app.send(Req::get("/api/v1/me").session(&s)).await.assert_status(StatusCode::OK);
    let path = format!("/api/v1/users/{}", user.id);
    let admin = app.token(Role::Admin).to_owned();
    app.send(Req::patch(&path).bearer(&admin).json(&json!({"disabled": true}))).await.assert_status(StatusCode::OK);
    app.send(Req::get("/api/v1/me").session(&s)).await.assert_status(StatusCode::UNAUTHORIZED);
    // A disabled account cannot log in again.
    let r = app.post_login("chen.jing", PASSWORD, "/").await;
    r.assert_status(StatusCode::UNAUTHORIZED);
    assert!(r.cookie("anbao_session").is_none());

    // Re-enabled, logged in, then given a new password by an administrator:
    // the old session ends and only the new password works.
    app.send(Req::patch(&path).bearer(&admin).json(&json!({"disabled": false}))).await.assert_status(StatusCode::OK);
    let s = app.login("chen.jing", PASSWORD).await;
    let new_password = "a brand new passphrase";
    let r =
        app.send(Req::post(&format!("{path}/password")).bearer(&admin).json(&json!({"password": new_password}))).await;
    r.assert_status(StatusCode::NO_CONTENT);
    app.send(Req::get("/api/v1/me").session(&s)).await.assert_status(StatusCode::UNAUTHORIZED);
    let s = app.login("chen.jing", new_password).await;
    let r = app.send(Req::get(&path).bearer(&admin)).await.json();
    assert_eq!(r["must_change_password"], true, "an administrator's reset must be changed at next login");
    app.send(Req::get("/api/v1/me").session(&s)).await.assert_status(StatusCode::OK);
}

#[tokio::test]
async fn bearer_tokens_must_be_well_formed_and_live() {
    let app = App::new().await;
    let (secret, id) = app.make_token("short-lived", Role::Analyst, app.root).await;
    app.send(Req::get("/api/v1/me").bearer(&secret)).await.assert_status(StatusCode::OK);
    for auth in ["Basic YWRtaW46YWRtaW4=", "Bearer", "Bearer anbao_0000", "Bearer not-a-token", "bearer x"] {
        let r = app.send(Req::get("/api/v1/me").header("authorization", auth)).await;
        r.assert_status(StatusCode::UNAUTHORIZED);
        assert_eq!(r.json()["status"], 401);
    }
    // A bad Authorization header is refused even on pages and public routes
    // rather than silently ignored.
    let r = app.send(Req::get("/").header("authorization", "Bearer nope")).await;
    r.assert_status(StatusCode::UNAUTHORIZED);
    // Revoked tokens stop working at once.
    let r = app.send(Req::delete(&format!("/api/v1/tokens/{id}")).bearer(app.token(Role::Admin))).await;
    r.assert_status(StatusCode::OK);
    assert!(r.json()["revoked_at"].is_string());
    app.send(Req::get("/api/v1/me").bearer(&secret)).await.assert_status(StatusCode::UNAUTHORIZED);
    // The secret is shown once, at creation, and never listed.
    let r = app
        .send(
            Req::post("/api/v1/tokens").bearer(app.token(Role::Admin)).json(&json!({"name": "ci", "role": "auditor"})),
        )
        .await;
    r.assert_status(StatusCode::CREATED);
    let created = r.json();
    let new_secret = created["token"].as_str().expect("secret").to_owned();
    assert!(new_secret.starts_with("anbao_"));
    let list = app.send(Req::get("/api/v1/tokens").bearer(app.token(Role::Admin))).await;
    assert!(!list.text().contains(&new_secret), "listing never shows secrets");
    let me = app.send(Req::get("/api/v1/me").bearer(&new_secret)).await.json();
    assert_eq!(
        (me["name"].as_str(), me["role"].as_str(), me["via"].as_str()),
        (Some("token:ci"), Some("auditor"), Some("token"))
    );
    assert!(me.get("csrf_token").is_none(), "tokens have no CSRF token");
}
