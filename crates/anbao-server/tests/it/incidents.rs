//! Incidents over HTTP (issue #7): grading facts without recording anything,
//! unknown values refused with the field named, and the reporting deadline
//! from the discovery time and operator category. Who may call what is the
//! matrix's (`matrix.rs`).

use anbao_model::Role;
use anbao_model::incident::{IncidentRules, OperatorCategory, ReportMinutes};
use anbao_server::ServerConfig;
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::harness::{App, Req};

async fn grade(app: &App, role: Role, body: Value) -> crate::harness::Resp {
    app.send(Req::post("/api/v1/incidents/grade").bearer(app.token(role)).json(&body)).await
}

#[tokio::test]
async fn grading_answers_level_criterion_and_deadline_and_records_nothing() {
    let app = App::new().await;
    let before = app.counts().await;
    let r = grade(
        &app,
        Role::Regulator,
        json!({
            "records_leaked": 100000,
            "discovered_at": "2026-11-25T10:00:00Z",
            "operator_category": "cii",
        }),
    )
    .await;
    r.assert_status(StatusCode::OK);
    let v = r.json();
    assert_eq!(v["level"], "IV");
    assert_eq!(v["level_zh"], "一般");
    assert_eq!(v["criterion"]["id"], "leak_100k");
    assert_eq!(v["criterion"]["article"], "Plan 3.4(2)");
    assert!(v["explanation"].as_str().unwrap().contains("100,000 or more"), "{v}");
    assert_eq!(v["report_within_minutes"], 60);
    assert_eq!(v["report_by"], "2026-11-25T11:00:00.000Z");
    assert_eq!(v["report_immediately"], false);
    assert_eq!(app.counts().await, before, "grading must not write");

    // One record fewer is below every threshold: no level, no clock.
    let v = grade(&app, Role::Auditor, json!({ "records_leaked": 99999 })).await.json();
    assert_eq!(v["level"], "none");
    assert_eq!(v["criterion"], Value::Null);
    assert_eq!(v["report_within_minutes"], Value::Null);
    assert_eq!(v["report_by"], Value::Null);

    // Several facts: the highest level decides; the default category is "other".
    let v = grade(
        &app,
        Role::Responder,
        json!({
            "users_offline_scope": "nationwide",
            "large_dns_affected": true,
            "discovered_at": "2026-11-25T10:00:00+08:00",
        }),
    )
    .await
    .json();
    assert_eq!(v["level"], "I");
    assert_eq!(v["criterion"]["id"], "offline_nationwide");
    assert_eq!(
        v["matched"],
        json!(["offline_nationwide", "offline_multi_province", "large_dns", "offline_province", "offline_city"])
    );
    assert_eq!(v["operator_category"], "other");
    assert_eq!(v["report_within_minutes"], 240);
    assert_eq!(v["report_by"], "2026-11-25T06:00:00.000Z");
    assert_eq!(v["report_immediately"], true);
}

#[tokio::test]
async fn unknown_values_are_refused_naming_the_field() {
    let app = App::new().await;
    for (body, field) in [
        (json!({ "users_offline_scope": "planet" }), "users_offline_scope"),
        (json!({ "malware_spread_scope": "county" }), "malware_spread_scope"),
        (json!({ "platform_influence": "global" }), "platform_influence"),
        (json!({ "operator_category": "bank" }), "operator_category"),
        (json!({ "records_leaked": -5 }), "records_leaked"),
        (json!({ "national_tld_affected": "yes" }), "national_tld_affected"),
        (json!({ "colour": "red" }), "colour"),
        (json!({ "discovered_at": "yesterday" }), "discovered_at"),
    ] {
        let r = grade(&app, Role::Analyst, body.clone()).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", r.text());
        assert_eq!(r.error_field().as_deref(), Some(field), "{body}: {}", r.text());
    }
}

#[tokio::test]
async fn configured_minutes_and_category_set_the_clock() {
    let rules = IncidentRules::builtin()
        .unwrap()
        .clone()
        .with_minutes(ReportMinutes { cii: 30, central: 90, other: 180 })
        .unwrap();
    let config = ServerConfig {
        incident_rules: Some(Box::leak(Box::new(rules))),
        operator_category: OperatorCategory::Central,
        ..ServerConfig::default()
    };
    let app = App::with_config(config).await;
    let v = grade(
        &app,
        Role::Admin,
        json!({ "platform_influence": "provincial", "discovered_at": "2026-01-01T00:00:00Z" }),
    )
    .await
    .json();
    assert_eq!(v["level"], "III");
    assert_eq!(v["operator_category"], "central");
    assert_eq!(v["report_within_minutes"], 90);
    assert_eq!(v["report_by"], "2026-01-01T01:30:00.000Z");
}
