//! Security headers on every kind of answer: pages, API responses, errors,
//! redirects and static files.

use anbao_model::Role;
use anbao_server::ServerConfig;
use axum::http::StatusCode;

use crate::harness::{App, Req, Resp};

#[track_caller]
fn assert_hardened(r: &Resp) {
    let csp = r.header("content-security-policy").unwrap_or_else(|| panic!("no CSP: {r:?}"));
    for directive in ["frame-ancestors 'none'", "default-src 'self'", "script-src 'self'", "object-src 'none'"] {
        assert!(csp.contains(directive), "CSP lacks {directive}: {r:?}");
    }
    assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "CSP allows inline script: {csp}");
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"), "{r:?}");
    assert_eq!(r.header("x-frame-options"), Some("DENY"), "{r:?}");
    assert!(r.header("referrer-policy").is_some(), "{r:?}");
}

#[tokio::test]
async fn pages_api_errors_and_assets_carry_security_headers() {
    let app = App::new().await;
    let admin = app.token(Role::Admin).to_owned();
    let uncacheable = [
        Req::get("/login"),
        Req::get("/").bearer(&admin),
        Req::get("/admin/users").bearer(&admin),
        Req::get("/api/v1/me").bearer(&admin),
        Req::get("/api/v1/users").bearer(&admin),
        Req::get("/api/v1/audit/export?format=csv").bearer(&admin),
        Req::get("/api/v1/me"),                              // 401
        Req::get("/admin/users"),                            // 303 to login
        Req::get("/audit").bearer(app.token(Role::Analyst)), // 403 page
        Req::get("/no/such/page"),                           // 404 page
        Req::get("/api/v1/no-such-endpoint"),                // 404 JSON
        Req::get("/healthz"),
    ];
    for req in uncacheable {
        let r = app.send(req).await;
        assert_hardened(&r);
        assert_eq!(r.header("cache-control"), Some("no-store"), "{r:?}");
        assert!(r.header("strict-transport-security").is_none(), "no HSTS without TLS: {r:?}");
    }
    // Pages are HTML, the API JSON, whatever the status.
    let page = app.send(Req::get("/no/such/page")).await;
    page.assert_status(StatusCode::NOT_FOUND);
    assert!(page.content_type().starts_with("text/html"), "{page:?}");
    let api = app.send(Req::get("/api/v1/no-such-endpoint")).await;
    api.assert_status(StatusCode::NOT_FOUND);
    assert_eq!(api.json()["status"], 404);

    // Static files may be cached, but are hardened too.
    for file in ["app.css", "app.js"] {
        let r = app.send(Req::get(&format!("/static/{file}"))).await;
        r.assert_status(StatusCode::OK);
        assert_hardened(&r);
        assert_ne!(r.header("cache-control"), Some("no-store"));
    }
    let r = app.send(Req::get("/static/../Cargo.toml")).await;
    assert!(r.status.is_client_error(), "{r:?}");
    let r = app.send(Req::get("/static/%2e%2e%2fCargo.toml")).await;
    r.assert_status(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn secure_cookies_bring_hsts_and_secure_flags() {
    let app = App::with_config(ServerConfig { secure_cookies: true, ..ServerConfig::default() }).await;
    let r = app.send(Req::get("/login")).await;
    assert!(r.header("strict-transport-security").is_some_and(|h| h.contains("max-age=")), "{r:?}");
    let line = r.set_cookie_line("anbao_login").expect("login cookie");
    assert!(line.contains("Secure") && line.contains("HttpOnly"), "{line}");
    let password = app.admin_password.clone();
    let r = app.post_login("admin", &password, "/").await;
    r.assert_status(StatusCode::SEE_OTHER);
    let line = r.set_cookie_line("anbao_session").expect("session cookie");
    for flag in ["Secure", "HttpOnly", "SameSite=Strict"] {
        assert!(line.contains(flag), "session cookie lacks {flag}: {line}");
    }
}
