//! Operations endpoints: the OpenAPI document, health and metrics.

use std::collections::BTreeSet;

use anbao_model::Role;
use anbao_server::routes;
use axum::http::StatusCode;

use crate::harness::{App, Req};

#[tokio::test]
async fn openapi_documents_every_api_route_and_nothing_else() {
    let app = App::new().await;
    let r = app.send(Req::get("/api/v1/openapi.json")).await;
    r.assert_status(StatusCode::OK);
    assert!(r.content_type().starts_with("application/json"), "{r:?}");
    let doc = r.json();
    let version = doc["openapi"].as_str().expect("openapi version");
    assert!(version.starts_with("3."), "OpenAPI 3.x, got {version}");
    assert!(doc["info"]["title"].is_string());
    let paths = doc["paths"].as_object().expect("paths");

    let mut missing = Vec::new();
    let mut routed = BTreeSet::new();
    for route in routes::table() {
        routed.insert((route.method.as_str().to_lowercase(), route.path.to_owned()));
        if !route.path.starts_with("/api/v1/") || route.path == "/api/v1/openapi.json" {
            continue;
        }
        let method = route.method.as_str().to_lowercase();
        if paths.get(route.path).and_then(|p| p.get(&method)).is_none() {
            missing.push(format!("{} {}", route.method, route.path));
        }
    }
    assert!(missing.is_empty(), "routes without an OpenAPI operation: {missing:?}");

    // And the document describes no operation the router lacks.
    let mut phantom = Vec::new();
    for (path, item) in paths {
        for method in item.as_object().expect("path item").keys() {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str())
                && !routed.contains(&(method.clone(), path.clone()))
            {
                phantom.push(format!("{method} {path}"));
            }
        }
    }
    assert!(phantom.is_empty(), "documented but not routed: {phantom:?}");
    assert_eq!(doc, anbao_server::openapi_json(), "served document equals the generated one");
}

#[tokio::test]
async fn healthz_answers_ok_without_credentials() {
    let app = App::new().await;
    let r = app.send(Req::get("/healthz")).await;
    r.assert_status(StatusCode::OK);
    let body = r.json();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"], "sqlite");
    // It says nothing about who is asking, and ignores no credentials: a bad
    // token is still refused.
    let r = app.send(Req::get("/healthz").bearer("anbao_nope")).await;
    r.assert_status(StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn metrics_count_requests_by_route_pattern() {
    let app = App::new().await;
    let admin = app.token(Role::Admin).to_owned();
    for _ in 0..3 {
        app.send(Req::get(&format!("/api/v1/users/{}", app.admin_id)).bearer(&admin))
            .await
            .assert_status(StatusCode::OK);
    }
    app.send(Req::get("/api/v1/users/987654")).await.assert_status(StatusCode::UNAUTHORIZED);
    app.send(Req::get("/no/such/path/4711")).await.assert_status(StatusCode::NOT_FOUND);
    let r = app.send(Req::get("/metrics")).await;
    r.assert_status(StatusCode::OK);
    let text = r.text();
    let line = |status: &str| {
        text.lines()
            .find(|l| {
                l.starts_with("anbao_http_requests_total{")
                    && l.contains("route=\"/api/v1/users/{id}\"")
                    && l.contains("method=\"GET\"")
                    && l.contains(&format!("status=\"{status}\""))
            })
            .map(str::to_owned)
    };
    let ok = line("200").unwrap_or_else(|| panic!("no request counter for the route:\n{text}"));
    assert!(ok.ends_with(" 3"), "three requests counted: {ok}");
    assert!(line("401").is_some_and(|l| l.ends_with(" 1")), "refusals are counted per status:\n{text}");
    assert!(text.contains("anbao_http_request_duration_seconds"), "latency histogram:\n{text}");
    // Raw paths never become label values.
    assert!(!text.contains("987654") && !text.contains("4711"), "raw ids leaked into labels:\n{text}");
    let id = app.admin_id.to_string();
    assert!(!text.contains(&format!("/api/v1/users/{id}\"")), "raw ids leaked into labels:\n{text}");
}

#[tokio::test]
async fn metrics_report_the_intel_index_this_node_serves() {
    use anbao_intel::{Category, Indicator, IndicatorKind};
    let app = App::new().await;
    let actor = anbao_store::Actor::system();
    let run = app.store.intel_import_begin(&actor, "feed", "list", "t").await.unwrap();
    let items =
        vec![Indicator::new(IndicatorKind::Domain, "c2.example"), Indicator::new(IndicatorKind::Domain, "google.com")];
    app.store.intel_import_chunk(run, "feed", Category::BotnetCc, items, &[]).await.unwrap();
    app.store.intel_save_allowlist(&actor, "top", "hostname", "", &["google.com".into()], true).await.unwrap();
    // A lookup refreshes the index when the store has moved on.
    let admin = app.token(Role::Admin).to_owned();
    app.send(Req::get("/api/v1/intel/lookup?value=x.c2.example").bearer(&admin)).await.assert_status(StatusCode::OK);
    let text = app.send(Req::get("/metrics")).await.text();
    let value = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(name) && l.as_bytes().get(name.len()) == Some(&b' '))
            .and_then(|l| l.rsplit(' ').next())
            .unwrap_or_else(|| panic!("no {name} in:\n{text}"))
            .to_owned()
    };
    assert_eq!(value("anbao_intel_index_indicators"), "1");
    assert_eq!(value("anbao_intel_index_allowlisted"), "1");
    assert_ne!(value("anbao_intel_index_heap_bytes"), "0");
    assert_eq!(value("anbao_intel_index_generation"), app.store.intel_generation().await.unwrap().to_string());
}
