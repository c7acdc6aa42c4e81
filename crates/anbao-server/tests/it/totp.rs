//! The TOTP second factor through the real routes. Codes are computed with
//! `totp-rs` (a dependency of the server, so available here) from the
//! secret the store is given.

use anbao_model::Role;
use axum::http::StatusCode;

use crate::harness::{App, PASSWORD, Req, hidden_field};

const SECRET_BYTES: &[u8] = b"anbao-totp-test-key!";

fn secret_b32() -> String {
    match totp_rs::Secret::Raw(SECRET_BYTES.to_vec()).to_encoded() {
        totp_rs::Secret::Encoded(s) => s,
        totp_rs::Secret::Raw(_) => unreachable!("to_encoded gives an encoded secret"),
    }
}

/// The code for now, as an authenticator app shows it.
fn code_now() -> String {
    let totp = totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 1, 30, SECRET_BYTES.to_vec()).expect("valid TOTP");
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    totp.generate(u64::try_from(now).expect("after 1970"))
}

/// A six-digit code that is not `code`.
fn other_code(code: &str) -> String {
    let n: u32 = code.parse().expect("digits");
    format!("{:06}", (n + 500_000) % 1_000_000)
}

#[tokio::test]
async fn totp_is_required_checked_audited_and_not_replayable() {
    let app = App::new().await;
    let user = app.make_user("li.na", Role::Analyst, app.root, Vec::new()).await;
    app.store.set_totp(&anbao_store::Actor::system(), user.id, Some(&secret_b32())).await.expect("enable TOTP");

    // The password alone gives a session that still owes the second factor.
    let r = app.post_login("li.na", PASSWORD, "/admin/users").await;
    r.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(r.location(), Some("/login/totp?next=/admin/users"));
    let pending = r.cookie("anbao_session").expect("a pending session");
    assert!(app.audit_with_action("session.login").await.is_empty(), "not logged in yet");

    // Until then, nothing but the TOTP form is open to it.
    for path in ["/", "/admin/users", "/api/v1/me", "/api/v1/users"] {
        let r = app.send(Req::get(path).cookie("anbao_session", &pending)).await;
        assert!(
            r.status == StatusCode::SEE_OTHER && r.location() == Some("/login/totp"),
            "a pending session must be sent to the second factor: {r:?}"
        );
    }
    let form = app.send(Req::get("/login/totp?next=/admin/users").cookie("anbao_session", &pending)).await;
    form.assert_status(StatusCode::OK);
    let html = form.text();
    let csrf = hidden_field(&html, "_csrf").expect("the TOTP form carries the CSRF token");
    assert!(!csrf.is_empty());
    assert_eq!(hidden_field(&html, "next").as_deref(), Some("/admin/users"));

    // Without the CSRF field: refused. A wrong code: back to the form, audited.
    let code = code_now();
    let r = app.send(Req::post("/login/totp").cookie("anbao_session", &pending).form(&[("code", code.as_str())])).await;
    r.assert_status(StatusCode::FORBIDDEN);
    let wrong = other_code(&code);
    let r = app
        .send(
            Req::post("/login/totp")
                .cookie("anbao_session", &pending)
                .form(&[("_csrf", csrf.as_str()), ("code", wrong.as_str())]),
        )
        .await;
    r.assert_status(StatusCode::SEE_OTHER);
    assert!(r.location().is_some_and(|l| l.starts_with("/login/totp?error=")), "{r:?}");
    let failed = app.audit_with_action("session.totp_failed").await;
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].actor, "li.na");
    app.send(Req::get("/api/v1/me").cookie("anbao_session", &pending)).await.assert_status(StatusCode::SEE_OTHER);

    // The right code completes the login.
    let r = app
        .send(Req::post("/login/totp").cookie("anbao_session", &pending).form(&[
            ("_csrf", csrf.as_str()),
            ("code", code.as_str()),
            ("next", "/admin/users"),
        ]))
        .await;
    r.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(r.location(), Some("/admin/users"));
    let me = app.send(Req::get("/api/v1/me").cookie("anbao_session", &pending)).await;
    me.assert_status(StatusCode::OK);
    assert_eq!(me.json()["name"], "li.na");
    let login = app.audit_with_action("session.login").await;
    assert_eq!(login.len(), 1);
    assert_eq!(login[0].after.as_ref().map(|a| a["mfa"].clone()), Some(serde_json::json!(true)));
    // The TOTP form is for pending sessions only.
    let r = app.send(Req::get("/login/totp").cookie("anbao_session", &pending)).await;
    r.assert_status(StatusCode::SEE_OTHER);
    assert!(r.location().is_some_and(|l| l.starts_with("/login")), "{r:?}");

    // A second login may not reuse the code just used.
    let r = app.post_login("li.na", PASSWORD, "/").await;
    let second = r.cookie("anbao_session").expect("a second pending session");
    let form = app.send(Req::get("/login/totp").cookie("anbao_session", &second)).await;
    let csrf2 = hidden_field(&form.text(), "_csrf").expect("csrf");
    assert_ne!(csrf2, csrf, "each session has its own CSRF token");
    let r = app
        .send(
            Req::post("/login/totp")
                .cookie("anbao_session", &second)
                .form(&[("_csrf", csrf2.as_str()), ("code", code.as_str())]),
        )
        .await;
    r.assert_status(StatusCode::SEE_OTHER);
    assert!(r.location().is_some_and(|l| l.starts_with("/login/totp?error=")), "a replayed code is refused: {r:?}");
    app.send(Req::get("/api/v1/me").cookie("anbao_session", &second)).await.assert_status(StatusCode::SEE_OTHER);

    // The user listing shows the second factor as on.
    let u = app.send(Req::get(&format!("/api/v1/users/{}", user.id)).bearer(app.token(Role::Admin))).await.json();
    assert_eq!(u["totp_enabled"], true);
}

#[tokio::test]
async fn totp_can_be_enabled_from_the_account_page_only_with_a_matching_code() {
    let app = App::new().await;
    let user = app.make_user("zhao.min", Role::Responder, app.root, Vec::new()).await;
    let s = app.login("zhao.min", PASSWORD).await;
    let secret = secret_b32();
    let code = code_now();
    let wrong = other_code(&code);
    let enable = |code: &str| {
        Req::post("/account/totp").session(&s).form(&[
            ("_csrf", s.csrf.as_str()),
            ("secret", secret.as_str()),
            ("code", code),
        ])
    };
    let r = app.send(enable(&wrong)).await;
    r.assert_status(StatusCode::SEE_OTHER);
    assert!(r.location().is_some_and(|l| l.starts_with("/account?error=")), "{r:?}");
    assert!(app.store.totp_secret(user.id).await.expect("read").is_none(), "a wrong code enables nothing");
    let r = app.send(enable(&code)).await;
    r.assert_status(StatusCode::SEE_OTHER);
    assert!(r.location().is_some_and(|l| l.starts_with("/account?ok=")), "{r:?}");
    assert_eq!(app.store.totp_secret(user.id).await.expect("read").map(|(s, _)| s), Some(secret.clone()));
    let enabled = app.audit_with_action("user.totp_enabled").await;
    assert_eq!((enabled[0].actor.as_str(), enabled[0].channel.as_str()), ("zhao.min", "ui"));
    // The audit entry never holds the secret.
    let all = app.send(Req::get("/api/v1/audit?limit=1000").bearer(app.token(Role::Admin))).await.text();
    assert!(!all.contains(&secret), "the TOTP secret leaked into the audit log");
}
