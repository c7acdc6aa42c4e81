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
    assert_eq!(v["report_immediately"], true);
    assert_eq!(app.counts().await, before, "grading must not write");

    // One record fewer is below every threshold: no level, no clock.
    let v = grade(&app, Role::Auditor, json!({ "records_leaked": 99999 })).await.json();
    assert_eq!(v["level"], "none");
    assert_eq!(v["criterion"], Value::Null);
    assert_eq!(v["report_within_minutes"], Value::Null);
    assert_eq!(v["report_by"], Value::Null);
    assert_eq!(v["report_immediately"], false);

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

#[tokio::test]
async fn incidents_are_opened_graded_overridden_with_a_reason_and_kept_in_scope() {
    let app = App::new().await;
    let responder = app.token(Role::Responder).to_owned();
    let r = app
        .send(Req::post("/api/v1/incidents").bearer(&responder).json(&json!({
            "incident_type": "data_leak",
            "title": "会员库泄露",
            "facts": { "records_leaked": 10000000 },
            "operator_category": "central",
            "discovered_at": "2026-11-25T08:00:00Z",
        })))
        .await;
    r.assert_status(StatusCode::CREATED);
    let v = r.json();
    let id = v["incident"]["id"].as_i64().unwrap();
    assert_eq!(v["incident"]["level"], "II");
    assert_eq!(v["incident"]["criterion"], "leak_10m");
    assert_eq!(v["criterion"]["article"], "Plan 3.2(4)");
    assert_eq!(v["incident"]["report_by"], "2026-11-25T10:00:00.000Z");
    assert_eq!(v["incident"]["report_immediately"], true);
    assert_eq!(v["incident"]["org_unit_id"], app.root);
    assert_eq!(v["timeline"].as_array().unwrap().len(), 2, "graded, then the leak duty (R5.4)");
    assert_eq!(app.audit_with_action("incident.create").await.len(), 1);

    // Unknown values in the nested facts name the field.
    let r = app
        .send(Req::post("/api/v1/incidents").bearer(&responder).json(&json!({
            "incident_type": "data_leak", "title": "x", "facts": { "platform_influence": "galactic" },
        })))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.error_field().as_deref(), Some("facts.platform_influence"), "{}", r.text());
    let r = app
        .send(
            Req::post("/api/v1/incidents").bearer(&responder).json(&json!({ "incident_type": "flood", "title": "x" })),
        )
        .await;
    assert_eq!(r.error_field().as_deref(), Some("incident_type"), "{}", r.text());

    // New facts grade again.
    let r = app
        .send(
            Req::put(&format!("/api/v1/incidents/{id}/facts"))
                .bearer(&responder)
                .json(&json!({ "records_leaked": 10000000, "national_tld_affected": true })),
        )
        .await;
    r.assert_status(StatusCode::OK);
    assert_eq!(r.json()["incident"]["level"], "I");

    // An override without a reason is refused and leaves nothing behind.
    let audit_before = app.counts().await.audit;
    let url = format!("/api/v1/incidents/{id}/level");
    let r = app.send(Req::post(&url).bearer(&responder).json(&json!({ "level": "III", "reason": "" }))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.error_field().as_deref(), Some("reason"));
    let r = app.send(Req::post(&url).bearer(&responder).json(&json!({ "level": "III" }))).await;
    assert_eq!(r.error_field().as_deref(), Some("reason"), "{}", r.text());
    assert_eq!(app.counts().await.audit, audit_before);
    let r = app
        .send(Req::post(&url).bearer(&responder).json(&json!({ "level": "III", "reason": "TLD 影响经核实为误报" })))
        .await;
    r.assert_status(StatusCode::OK);
    let v = r.json();
    assert_eq!((v["incident"]["level"].as_str(), v["incident"]["computed_level"].as_str()), (Some("III"), Some("I")));
    assert!(v["explanation"].as_str().unwrap().contains("TLD 影响经核实为误报"), "{v}");
    assert_eq!(v["incident"]["report_within_minutes"], 120);
    let audited = app.audit_with_action("incident.override_level").await;
    assert_eq!(audited.len(), 1);
    assert_eq!(audited[0].after.as_ref().unwrap()["reason"], "TLD 影响经核实为误报");
    assert_eq!(audited[0].actor, "token:responder-bot");

    // Status and timeline.
    let r = app
        .send(
            Req::post(&format!("/api/v1/incidents/{id}/status"))
                .bearer(&responder)
                .json(&json!({ "status": "contained" })),
        )
        .await;
    assert_eq!(r.json()["incident"]["status"], "contained");
    let r = app
        .send(
            Req::post(&format!("/api/v1/incidents/{id}/timeline"))
                .bearer(&responder)
                .json(&json!({ "entry": "已通知受影响用户", "at": "2026-11-25T08:30:00Z" })),
        )
        .await;
    r.assert_status(StatusCode::CREATED);
    let v = app.send(Req::get(&format!("/api/v1/incidents/{id}")).bearer(app.token(Role::Regulator))).await.json();
    let entries: Vec<&str> = v["timeline"].as_array().unwrap().iter().map(|e| e["entry"].as_str().unwrap()).collect();
    assert_eq!(entries.len(), 6, "{entries:?}");
    assert_eq!(entries[1], "已通知受影响用户", "ordered by when it happened: {entries:?}");

    // Lists and filters.
    let list = app.send(Req::get("/api/v1/incidents?status=contained").bearer(&responder)).await.json();
    assert_eq!(list.as_array().unwrap().len(), 1);
    let list = app.send(Req::get("/api/v1/incidents?level=I").bearer(&responder)).await.json();
    assert_eq!(list, json!([]), "the override is the level in force");
    let r = app.send(Req::get("/api/v1/incidents?level=V").bearer(&responder)).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    // Outside the caller's scope: not found, and not changeable.
    let branch = app.make_unit(app.root, "分公司", anbao_model::OrgKind::City).await;
    let (branch_token, _) = app.make_token("branch-bot", Role::Responder, branch).await;
    let r = app.send(Req::get(&format!("/api/v1/incidents/{id}")).bearer(&branch_token)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app.send(Req::post(&url).bearer(&branch_token).json(&json!({ "level": "IV", "reason": "x" }))).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(app.send(Req::get("/api/v1/incidents").bearer(&branch_token)).await.json(), json!([]));
    let r = app
        .send(Req::post("/api/v1/incidents").bearer(&branch_token).json(&json!({
            "incident_type": "other", "title": "x", "org_unit_id": app.root,
        })))
        .await;
    assert_eq!(r.error_field().as_deref(), Some("org_unit_id"));
}

/// Markup in a title: shown as text, never as markup.
const HOSTILE: &str = "\"><script>alert(1)</script>";

#[tokio::test]
async fn incident_pages_grade_record_override_and_show_the_clock() {
    let app = App::new().await;
    app.make_user("ir.responder", Role::Responder, app.root, Vec::new()).await;
    let session = app.login("ir.responder", crate::harness::PASSWORD).await;
    let page = |path: &str| Req::get(path).session(&session).cookie("anbao_lang", "en");

    // The Respond area links to the incidents.
    let area = app.send(page("/areas/respond")).await.text();
    assert!(area.contains(r#"href="/incidents""#), "{area}");

    // The form: fields, the grading endpoint for the live preview, and the
    // preview as rendered for empty facts.
    let form = app.send(page("/incidents/new")).await;
    form.assert_status(StatusCode::OK);
    let html = form.text();
    assert!(html.contains(r#"data-grade-url="/api/v1/incidents/grade""#));
    assert!(html.contains(r#"id="preview-level" class="badge green" data-level="none""#), "{html}");
    for name in [
        "users_offline_scope",
        "records_leaked",
        "national_tld_affected",
        "large_dns_affected",
        "platform_influence",
        "malware_spread_scope",
    ] {
        assert!(html.contains(&format!(r#"name="{name}""#)), "the form lacks {name}");
    }
    // What the page script calls, with the session and its CSRF header.
    let r = app
        .send(
            Req::post("/api/v1/incidents/grade")
                .session(&session)
                .csrf(&session)
                .json(&json!({ "malware_spread_scope": "province" })),
        )
        .await;
    assert_eq!(r.json()["level"], "III");

    let csrf = crate::harness::hidden_field(&html, "_csrf").expect("the form carries the CSRF token");
    let r = app
        .send(Req::post("/incidents").session(&session).form(&[
            ("_csrf", csrf.as_str()),
            ("org_unit_id", &app.root.to_string()),
            ("incident_type", "ddos"),
            ("title", HOSTILE),
            ("summary", "流量 400Gbps"),
            ("discovered_at", "2026-11-25T07:00:00Z"),
            ("operator_category", "other"),
            ("users_offline_scope", "province"),
            ("records_leaked", ""),
            ("platform_influence", "none"),
            ("malware_spread_scope", "none"),
        ]))
        .await;
    r.assert_status(StatusCode::SEE_OTHER);
    let location = r.location().expect("redirect to the incident").to_owned();
    assert!(location.starts_with("/incidents/"), "{location}");
    let path = location.split('?').next().unwrap().to_owned();

    let html = app.send(page(&path)).await.text();
    assert!(!html.contains("<script>alert(1)"), "the title must be escaped");
    assert!(html.contains(r#"data-level="III""#), "{html}");
    assert!(html.contains("Plan 3.3(1)"));
    assert!(html.contains("Large numbers of internet users in one province cannot get online"));
    // Discovered at 07:00, 4 hours for other operators: due 11:00, long past now.
    assert!(html.contains(r#"data-deadline="2026-11-25T11:00:00.000Z""#), "{html}");
    assert!(html.contains("overdue by"), "{html}");

    // The override form refuses an empty reason and takes one with a reason.
    let csrf = crate::harness::hidden_field(&html, "_csrf").unwrap();
    let level_url = format!("{path}/level");
    let r = app
        .send(Req::post(&level_url).session(&session).form(&[
            ("_csrf", csrf.as_str()),
            ("level", "II"),
            ("reason", ""),
        ]))
        .await;
    assert!(r.location().unwrap().contains("error="), "{:?}", r.location());
    let r = app
        .send(Req::post(&level_url).session(&session).form(&[
            ("_csrf", csrf.as_str()),
            ("level", "II"),
            ("reason", "省级平台连带中断"),
        ]))
        .await;
    assert!(r.location().unwrap().contains("ok="), "{:?}", r.location());
    assert_eq!(app.audit_with_action("incident.override_level").await.len(), 1);
    // Facts, status and timeline through their forms.
    let r = app
        .send(Req::post(&format!("{path}/facts")).session(&session).form(&[
            ("_csrf", csrf.as_str()),
            ("users_offline_scope", "city"),
            ("records_leaked", "abc"),
        ]))
        .await;
    assert!(r.location().unwrap().contains("records_leaked"), "{:?}", r.location());
    let r = app
        .send(Req::post(&format!("{path}/facts")).session(&session).form(&[
            ("_csrf", csrf.as_str()),
            ("users_offline_scope", "city"),
            ("records_leaked", "250000"),
            ("large_dns_affected", "true"),
        ]))
        .await;
    assert!(r.location().unwrap().contains("ok="), "{:?}", r.location());
    app.send(
        Req::post(&format!("{path}/timeline"))
            .session(&session)
            .form(&[("_csrf", csrf.as_str()), ("entry", "启动清洗")]),
    )
    .await;
    app.send(
        Req::post(&format!("{path}/status")).session(&session).form(&[("_csrf", csrf.as_str()), ("status", "closed")]),
    )
    .await;
    let html = app.send(page(&path)).await.text();
    assert!(html.contains(r#"data-status="closed""#));
    assert!(html.contains("启动清洗"));
    assert!(html.contains("省级平台连带中断"));
    assert!(html.contains(r#"data-fact="large_dns_affected">Yes"#), "{html}");
    assert!(!html.contains("data-deadline="), "a closed incident's clock stops");

    // The list: badge, and the Chinese labels by default.
    let list = app.send(Req::get("/incidents").session(&session)).await.text();
    assert!(list.contains(r#"data-level="II""#), "the override is shown: {list}");
    assert!(list.contains("重大(II 级)"));
    assert!(list.contains("&lt;script&gt;"), "escaped title in the list");

    // A forged form post without the CSRF token changes nothing.
    let before = app.counts().await.audit;
    let r = app.send(Req::post(&format!("{path}/status")).session(&session).form(&[("status", "open")])).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(app.counts().await.audit, before);
}

#[tokio::test]
async fn an_alert_is_escalated_to_an_incident_from_its_page() {
    let app = App::new().await;
    let now = app.store.clock().now();
    let draft = anbao_store::AlertDraft {
        dedup_key: "intel:10.0.0.7:escalate".into(),
        rule: "intel".into(),
        category: "botnet_cc".into(),
        severity: 3,
        victim: "10.0.0.7".into(),
        indicator_id: None,
        indicator: "c2.escalate.example".into(),
        match_how: "exact".into(),
        field: "dns.qname".into(),
        observed: "c2.escalate.example".into(),
        score: None,
        reason: String::new(),
        count: 3,
        first_seen: now - time::Duration::hours(2),
        last_seen: now,
        sensor: "edge".into(),
        evidence: r#"{"kind":"dns","summary":"query A c2.escalate.example"}"#.into(),
    };
    app.store.apply_alerts(&[draft], None).await.unwrap();
    let alert = app.store.alerts(&anbao_store::AlertFilter::default(), 0, 1).await.unwrap()[0].id;
    // The victim lies in a registered network.
    let lan = anbao_model::asset::AssetDraft {
        name: "办公内网".into(),
        asset_type: "network".into(),
        org_unit: app.root.to_string(),
        responsible_department: app.root.to_string(),
        responsible_person: "李娜".into(),
        attributes: [("prefixes".to_owned(), "10.0.0.0/24".to_owned())].into(),
        ..Default::default()
    };
    let lan = app
        .store
        .create_asset(&anbao_store::Actor::system(), &anbao_model::OrgScope::All, &lan.check().unwrap(), &[])
        .await
        .unwrap()
        .id;
    let a = app.send(Req::get(&format!("/api/v1/alerts/{alert}")).bearer(app.token(Role::Responder))).await.json();
    assert_eq!(a["assets"][0]["id"], lan, "{a}");
    assert_eq!(a["assets"][0]["responsible_person"], "李娜");
    assert_eq!(a["assets"][0]["matched"], "10.0.0.7");

    app.make_user("ir.responder", Role::Responder, app.root, Vec::new()).await;
    let session = app.login("ir.responder", crate::harness::PASSWORD).await;
    let html = app.send(Req::get(&format!("/alerts/{alert}")).session(&session)).await.text();
    assert!(html.contains(&format!(r#"action="/alerts/{alert}/incident""#)), "the alert page offers escalation");
    assert!(html.contains(&format!(r#"href="/govern/assets/{lan}""#)), "the alert page links the affected asset");
    let csrf = crate::harness::hidden_field(&html, "_csrf").unwrap();
    let r = app
        .send(Req::post(&format!("/alerts/{alert}/incident")).session(&session).form(&[("_csrf", csrf.as_str())]))
        .await;
    r.assert_status(StatusCode::SEE_OTHER);
    let location = r.location().unwrap().to_owned();
    assert!(location.starts_with("/incidents/") && location.contains("ok="), "{location}");

    let incidents = app.send(Req::get("/api/v1/incidents").bearer(app.token(Role::Auditor))).await.json();
    let i = &incidents[0];
    assert_eq!(i["incident_type"], "malware");
    assert_eq!(i["level"], "none", "facts are still to be entered");
    assert_eq!(i["created_by"], "ir.responder");
    assert!(i["title"].as_str().unwrap().contains("c2.escalate.example"));
    assert!(i["summary"].as_str().unwrap().contains("query A c2.escalate.example"));
    assert_eq!(i["discovered_at"], anbao_model::clock::format_ts(now - time::Duration::hours(2)));
    let actions = app.store.alert_actions(alert).await.unwrap();
    assert_eq!(actions.len(), 1);
    assert_eq!(actions[0].action, "escalated");
    assert_eq!(actions[0].detail, format!("/incidents/{}", i["id"]));

    // The incident names its alert and the asset behind the victim.
    let id = i["id"].as_i64().unwrap();
    let d = app.send(Req::get(&format!("/api/v1/incidents/{id}")).bearer(app.token(Role::Auditor))).await.json();
    assert_eq!(d["alert_ids"], serde_json::json!([alert]));
    assert_eq!(d["related_assets"][0]["id"], lan);
    let page = app.send(Req::get(&format!("/incidents/{id}")).session(&session)).await.text();
    assert!(
        page.contains(&format!(r#"href="/alerts/{alert}""#)) && page.contains("办公内网"),
        "related alert and asset"
    );
    // Escalating it again shows the same incident rather than opening another.
    let r = app
        .send(Req::post(&format!("/alerts/{alert}/incident")).session(&session).form(&[("_csrf", csrf.as_str())]))
        .await;
    assert_eq!(r.location().unwrap().split('?').next(), Some(format!("/incidents/{id}").as_str()));
    let all = app.send(Req::get("/api/v1/incidents").bearer(app.token(Role::Auditor))).await.json();
    assert_eq!(all.as_array().unwrap().len(), 1);

    // The read-only roles see no escalation button.
    app.make_user("ir.auditor", Role::Auditor, app.root, Vec::new()).await;
    let s = app.login("ir.auditor", crate::harness::PASSWORD).await;
    let html = app.send(Req::get(&format!("/alerts/{alert}")).session(&s)).await.text();
    assert!(!html.contains("alert-escalate-form"));
}
