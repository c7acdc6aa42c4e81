//! Detection alerts over HTTP: alerts seeded through the store (as the
//! detection pipeline writes them) are listed, filtered, paged and read
//! with their evidence; status changes and actions are recorded and
//! audited; infected subscribers and hourly counts are summarised; the
//! pages render all of it escaped and post CSRF-protected forms. Who may
//! call what is the matrix's (`matrix.rs`); here only the refusals of the
//! read-only roles are checked against what they leave behind.

use anbao_intel::{Category, Indicator, IndicatorKind};
use anbao_model::Role;
use anbao_model::Timestamp;
use anbao_model::clock::format_ts;
use anbao_store::{Actor, AlertDraft, ImportTotals};
use axum::http::StatusCode;
use serde_json::{Value, json};
use time::Duration;

use crate::harness::{App, PASSWORD, Req, Resp, hidden_field};

/// Markup in a value a sensor saw: shown as text, never as markup.
const HOSTILE: &str = "\"><script>alert(1)</script>.evil.example";

/// The hour bucket the store counts a detection in (`YYYY-MM-DDTHH`).
fn hour_of(t: Timestamp) -> String {
    format_ts(t)[..13].to_owned()
}

/// One alert as the pipeline would hand it over.
#[derive(Clone)]
struct Seed {
    victim: &'static str,
    rule: &'static str,
    category: &'static str,
    severity: i64,
    indicator: &'static str,
    indicator_id: Option<i64>,
    observed: &'static str,
    count: i64,
    first: Timestamp,
    last: Timestamp,
}

impl Seed {
    fn draft(&self) -> AlertDraft {
        let a = self;
        let heuristic = a.rule != "intel";
        AlertDraft {
            dedup_key: format!("{}:{}:{}", a.rule, a.victim, a.indicator),
            rule: a.rule.into(),
            category: a.category.into(),
            severity: a.severity,
            victim: a.victim.into(),
            indicator_id: a.indicator_id,
            indicator: a.indicator.into(),
            match_how: if heuristic { "entropy".into() } else { "parent_domain".into() },
            field: "dns.qname".into(),
            observed: a.observed.into(),
            score: heuristic.then_some(87),
            reason: if heuristic { "random-looking label".into() } else { String::new() },
            count: a.count,
            first_seen: a.first,
            last_seen: a.last,
            sensor: "edge-1".into(),
            evidence: json!({
                "ts": format_ts(a.first), "sensor": "edge-1", "kind": "dns", "src": a.victim, "sport": 53124,
                "dst": "192.0.2.53", "dport": 53, "proto": "udp", "summary": format!("query A {}", a.observed),
            })
            .to_string(),
        }
    }
}

/// What `seed` put in the store.
struct Seeded {
    now: Timestamp,
    /// The intel indicator the botnet alert matched.
    indicator_id: i64,
    /// Alert ids: botnet (10.0.0.5), phishing (10.0.0.5), dga (10.0.0.9), old spam (10.0.0.7).
    botnet: i64,
    phishing: i64,
    dga: i64,
    old: i64,
    /// (hour, category, events) as the store should count them.
    hours: Vec<(String, String, i64)>,
}

async fn indicator(app: &App, value: &str) -> i64 {
    let store = &app.store;
    let actor = Actor::system();
    let run = store.intel_import_begin(&actor, "alerts-test", "list", "test.txt").await.expect("begin");
    let indicators = vec![Indicator::new(IndicatorKind::Domain, value)];
    store.intel_import_chunk(run, "alerts-test", Category::BotnetCc, indicators, &[]).await.expect("chunk");
    let totals = ImportTotals { accepted: 1, ..ImportTotals::default() };
    store.intel_import_finish(&actor, run, &totals, &[], None).await.expect("finish");
    store.intel_indicator_by_value(IndicatorKind::Domain, value).await.expect("read").expect("stored").id
}

/// Four alerts of three subscribers, as the pipeline would write them.
async fn seed(app: &App) -> Seeded {
    let now = app.store.clock().now();
    let indicator_id = indicator(app, "evil.example").await;
    let base = Seed {
        victim: "10.0.0.5",
        rule: "intel",
        category: "botnet_cc",
        severity: 3,
        indicator: "evil.example",
        indicator_id: Some(indicator_id),
        observed: "www.evil.example",
        count: 4,
        first: now - Duration::hours(3),
        last: now - Duration::hours(1),
    };
    let seeds = [
        base.clone(),
        Seed {
            category: "phishing",
            severity: 2,
            indicator: "login-bank.example",
            indicator_id: None,
            observed: HOSTILE,
            count: 1,
            first: now - Duration::hours(2),
            last: now - Duration::hours(2),
            ..base.clone()
        },
        Seed {
            victim: "10.0.0.9",
            rule: "dga",
            category: "dga",
            severity: 2,
            indicator: "xkqjzpwvbt.example",
            indicator_id: None,
            observed: "xkqjzpwvbt.example",
            count: 2,
            first: now - Duration::minutes(30),
            last: now - Duration::minutes(30),
        },
        Seed {
            victim: "10.0.0.7",
            category: "spam",
            severity: 1,
            indicator: "old.example",
            indicator_id: None,
            observed: "old.example",
            count: 6,
            first: now - Duration::hours(72),
            last: now - Duration::hours(70),
            ..base.clone()
        },
    ];
    let drafts: Vec<AlertDraft> = seeds.iter().map(Seed::draft).collect();
    let applied = app.store.apply_alerts(&drafts, None).await.expect("apply alerts");
    assert_eq!(applied.new, 4);
    let all = app.store.alerts(&anbao_store::AlertFilter::default(), 0, 100).await.expect("alerts");
    let id_of = |indicator: &str| all.iter().find(|a| a.indicator == indicator).expect("seeded").id;
    let hours = seeds.iter().map(|s| (hour_of(s.first), s.category.to_owned(), s.count)).collect::<Vec<_>>();
    Seeded {
        now,
        indicator_id,
        botnet: id_of("evil.example"),
        phishing: id_of("login-bank.example"),
        dga: id_of("xkqjzpwvbt.example"),
        old: id_of("old.example"),
        hours,
    }
}

async fn get(app: &App, role: Role, path: &str) -> Resp {
    app.send(Req::get(path).bearer(app.token(role))).await
}

/// The ids of a list answer, in order.
fn ids(r: &Resp) -> Vec<i64> {
    r.json()["alerts"].as_array().expect("alerts").iter().map(|a| a["id"].as_i64().expect("id")).collect()
}

#[track_caller]
fn assert_field(r: &Resp, status: StatusCode, field: &str) {
    r.assert_status(status);
    assert_eq!(r.error_field().as_deref(), Some(field), "{r:?}");
}

#[tokio::test]
async fn alerts_are_listed_filtered_paged_and_read_with_their_evidence() {
    let app = App::new().await;
    let s = seed(&app).await;
    // The auditor reads (and changes nothing): the weakest reader that sees
    // subscribers' addresses (the regulator sees networks: see below).
    let list = |query: &str| {
        let path = format!("/api/v1/alerts{query}");
        let app = &app;
        async move { get(app, Role::Auditor, &path).await }
    };

    let r = list("").await;
    r.assert_status(StatusCode::OK);
    assert_eq!(r.json()["total"], 4);
    assert_eq!(ids(&r), [s.dga, s.botnet, s.phishing, s.old], "most recently seen first");
    let botnet = &r.json()["alerts"][1];
    assert_eq!(botnet["victim"], "10.0.0.5");
    assert_eq!(botnet["rule"], "intel");
    assert_eq!(botnet["category"], "botnet_cc");
    assert_eq!(botnet["severity"], 3);
    assert_eq!(botnet["indicator"], "evil.example");
    assert_eq!(botnet["indicator_id"], s.indicator_id);
    assert_eq!(botnet["match"], "parent_domain");
    assert_eq!(botnet["field"], "dns.qname");
    assert_eq!(botnet["observed"], "www.evil.example");
    assert_eq!(botnet["count"], 4);
    assert_eq!(botnet["status"], "new");
    assert_eq!(botnet["sensor"], "edge-1");
    assert_eq!(botnet["first_seen"], format_ts(s.now - Duration::hours(3)));
    assert_eq!(botnet["last_seen"], format_ts(s.now - Duration::hours(1)));
    assert_eq!(botnet["score"], Value::Null);
    assert!(botnet["evidence"].is_object(), "evidence is JSON, not a string: {botnet}");
    assert_eq!(botnet["evidence"]["summary"], "query A www.evil.example");
    assert_eq!(botnet["evidence"]["dport"], 53);
    let dga = &r.json()["alerts"][0];
    assert_eq!((dga["score"].as_i64(), dga["reason"].as_str()), (Some(87), Some("random-looking label")));
    assert_eq!(dga["indicator_id"], Value::Null);

    // Filters, alone and together.
    assert_eq!(ids(&list("?victim=10.0.0.5").await), [s.botnet, s.phishing]);
    assert_eq!(ids(&list("?category=dga").await), [s.dga]);
    assert_eq!(ids(&list("?rule=intel&victim=10.0.0.5&category=phishing").await), [s.phishing]);
    assert_eq!(ids(&list("?q=BANK").await), [s.phishing], "the indicator, in any case");
    assert_eq!(ids(&list("?q=script").await), [s.phishing], "or the observed value");
    assert_eq!(ids(&list("?status=new&victim=10.0.0.9").await), [s.dga]);
    assert!(ids(&list("?status=resolved").await).is_empty());
    let since = format_ts(s.now - Duration::minutes(90));
    assert_eq!(ids(&list(&format!("?since={since}")).await), [s.dga, s.botnet]);
    let r = list("?status=&category=&rule=&victim=&q=").await;
    assert_eq!(r.json()["total"], 4, "empty parameters (as forms send them) filter nothing");

    // Paging: the total is of all pages.
    let r = list("?limit=2&offset=1").await;
    assert_eq!((r.json()["total"].as_i64(), ids(&r)), (Some(4), vec![s.botnet, s.phishing]));
    let r = list("?victim=10.0.0.5&limit=1&offset=1").await;
    assert_eq!((r.json()["total"].as_i64(), ids(&r)), (Some(2), vec![s.phishing]));
    assert!(ids(&list("?offset=10").await).is_empty());

    // Bad parameters are named.
    assert_field(&list("?status=closed").await, StatusCode::BAD_REQUEST, "status");
    assert_field(&list("?since=yesterday").await, StatusCode::BAD_REQUEST, "since");
    assert_field(&list("?colour=red").await, StatusCode::BAD_REQUEST, "colour");
    list("?limit=many").await.assert_status(StatusCode::BAD_REQUEST);

    // One alert, with its (so far no) actions.
    let r = get(&app, Role::Auditor, &format!("/api/v1/alerts/{}", s.botnet)).await;
    r.assert_status(StatusCode::OK);
    let one = r.json();
    assert_eq!((one["id"].as_i64(), one["indicator"].as_str()), (Some(s.botnet), Some("evil.example")));
    assert_eq!(one["evidence"]["src"], "10.0.0.5");
    assert_eq!(one["actions"], json!([]));
    let r = get(&app, Role::Auditor, "/api/v1/alerts/999999").await;
    r.assert_status(StatusCode::NOT_FOUND);
    assert_eq!(r.json()["status"], 404);
    get(&app, Role::Auditor, "/api/v1/alerts/first").await.assert_status(StatusCode::BAD_REQUEST);

    // The document describes the endpoints.
    let doc = app.send(Req::get("/api/v1/openapi.json")).await.json();
    for path in [
        "/api/v1/alerts",
        "/api/v1/alerts/{id}",
        "/api/v1/alerts/{id}/status",
        "/api/v1/alerts/{id}/actions",
        "/api/v1/alerts/victims",
        "/api/v1/alerts/hours",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} is not in the OpenAPI document");
    }
    assert!(doc["components"]["schemas"]["AlertView"]["properties"]["match"].is_object());
}

#[tokio::test]
async fn status_changes_and_actions_are_recorded_audited_and_refused_to_readers() {
    let app = App::new().await;
    let s = seed(&app).await;
    let post = |role: Role, path: String, body: Value| {
        let req = Req::post(&path).bearer(app.token(role)).json(&body);
        let app = &app;
        async move { app.send(req).await }
    };
    let status_path = format!("/api/v1/alerts/{}/status", s.botnet);
    let actions_path = format!("/api/v1/alerts/{}/actions", s.botnet);

    // Read-only roles are refused and leave nothing behind.
    let before = app.counts().await;
    for role in [Role::Auditor, Role::Regulator] {
        let r = post(role, status_path.clone(), json!({"status": "resolved"})).await;
        r.assert_status(StatusCode::FORBIDDEN);
        assert_eq!(r.json()["status"], 403);
        post(role, actions_path.clone(), json!({"action": "note"})).await.assert_status(StatusCode::FORBIDDEN);
    }
    assert_eq!(app.counts().await, before);
    assert_eq!(app.store.alert(s.botnet).await.unwrap().status, "new");

    // A responder confirms the alert: the change is audited with before and after.
    let r = post(Role::Responder, status_path.clone(), json!({"status": "confirmed"})).await;
    r.assert_status(StatusCode::OK);
    assert_eq!((r.json()["id"].as_i64(), r.json()["status"].as_str()), (Some(s.botnet), Some("confirmed")));
    let audit = app.audit_with_action("alert.status").await;
    assert_eq!(audit.len(), 1);
    let entry = &audit[0];
    assert_eq!((entry.object_type.as_str(), entry.object_id.as_str()), ("alert", s.botnet.to_string().as_str()));
    assert_eq!((entry.actor.as_str(), entry.actor_role.as_str()), ("token:responder-bot", "responder"));
    assert_eq!(entry.before, Some(json!({"status": "new"})));
    assert_eq!(entry.after, Some(json!({"status": "confirmed"})));

    // The subscriber is notified, and the domain put in the RPZ (R3.8, R3.1).
    let r = post(
        Role::Responder,
        actions_path.clone(),
        json!({"action": "notified", "detail": "  SMS to the subscriber of 10.0.0.5\nticket 4711 "}),
    )
    .await;
    r.assert_status(StatusCode::CREATED);
    let action = r.json();
    assert_eq!(action["action"], "notified");
    assert_eq!(action["detail"], "SMS to the subscriber of 10.0.0.5\nticket 4711");
    assert_eq!(action["alert_id"], s.botnet);
    assert_eq!(action["actor"], "token:responder-bot");
    post(Role::Analyst, actions_path.clone(), json!({"action": "rpz"})).await.assert_status(StatusCode::CREATED);
    let audit = app.audit_with_action("alert.action").await;
    assert_eq!(audit.len(), 2);
    assert_eq!(
        audit[1].after,
        Some(json!({"action": "notified", "detail": "SMS to the subscriber of 10.0.0.5\nticket 4711"}))
    );
    assert_eq!(audit[0].object_id, s.botnet.to_string());

    let one = get(&app, Role::Regulator, &format!("/api/v1/alerts/{}", s.botnet)).await.json();
    assert_eq!(one["status"], "confirmed");
    let recorded: Vec<(&str, &str)> = one["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .map(|a| (a["action"].as_str().unwrap_or_default(), a["actor"].as_str().unwrap_or_default()))
        .collect();
    assert_eq!(recorded, [("notified", "token:responder-bot"), ("rpz", "token:analyst-bot")], "oldest first");
    let confirmed = get(&app, Role::Regulator, "/api/v1/alerts?status=confirmed").await;
    assert_eq!(ids(&confirmed), [s.botnet]);

    // Bad values are refused naming the field, and change nothing.
    let before = app.counts().await;
    assert_field(
        &post(Role::Admin, status_path.clone(), json!({"status": "closed"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "status",
    );
    assert_field(&post(Role::Admin, status_path.clone(), json!({})).await, StatusCode::UNPROCESSABLE_ENTITY, "status");
    assert_field(
        &post(Role::Admin, status_path.clone(), json!({"status": "resolved", "why": "x"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "why",
    );
    assert_field(
        &post(Role::Admin, actions_path.clone(), json!({"action": "deleted"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "action",
    );
    assert_field(
        &post(Role::Admin, actions_path.clone(), json!({"action": "note", "detail": "bell\u{7}"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "detail",
    );
    assert_field(
        &post(Role::Admin, actions_path.clone(), json!({"action": "note", "detail": "x".repeat(4001)})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "detail",
    );
    let r =
        app.send(Req::post(&status_path).bearer(app.token(Role::Admin)).raw("application/json", "{\"status\":")).await;
    r.assert_status(StatusCode::BAD_REQUEST);
    assert_eq!(app.counts().await, before);
    assert_eq!(app.store.alert_actions(s.botnet).await.unwrap().len(), 2);

    // Unknown alerts are 404s.
    let r = post(Role::Admin, "/api/v1/alerts/999999/status".into(), json!({"status": "resolved"})).await;
    r.assert_status(StatusCode::NOT_FOUND);
    let r = post(Role::Admin, "/api/v1/alerts/999999/actions".into(), json!({"action": "note"})).await;
    r.assert_status(StatusCode::NOT_FOUND);
    assert_eq!(app.counts().await, before);
}

#[tokio::test]
async fn infected_subscribers_and_detections_per_hour() {
    let app = App::new().await;
    let s = seed(&app).await;

    let r = get(&app, Role::Auditor, "/api/v1/alerts/victims").await;
    r.assert_status(StatusCode::OK);
    let victims = r.json();
    let names: Vec<&str> = victims.as_array().expect("list").iter().filter_map(|v| v["victim"].as_str()).collect();
    assert_eq!(names, ["10.0.0.9", "10.0.0.5", "10.0.0.7"], "most recently seen first");
    let v = &victims[1];
    assert_eq!((v["alerts"].as_i64(), v["events"].as_i64(), v["max_severity"].as_i64()), (Some(2), Some(5), Some(3)));
    assert_eq!(v["categories"], json!(["botnet_cc", "phishing"]));
    assert_eq!(v["first_seen"], format_ts(s.now - Duration::hours(3)));
    assert_eq!(v["last_seen"], format_ts(s.now - Duration::hours(1)));
    let r = get(&app, Role::Auditor, "/api/v1/alerts/victims?category=dga&limit=5").await;
    let names: Vec<Value> = r.json().as_array().expect("list").iter().map(|v| v["victim"].clone()).collect();
    assert_eq!(names, [json!("10.0.0.9")]);
    let r = get(&app, Role::Auditor, "/api/v1/alerts/victims?limit=1").await;
    assert_eq!(r.json().as_array().map(Vec::len), Some(1));
    assert_field(
        &get(&app, Role::Auditor, "/api/v1/alerts/victims?status=gone").await,
        StatusCode::BAD_REQUEST,
        "status",
    );

    // Hourly counts: the default covers 48 hours (the old alert is outside).
    let counts = |hours: &str| {
        let path = format!("/api/v1/alerts/hours{hours}");
        let app = &app;
        async move {
            let r = get(app, Role::Regulator, &path).await;
            r.assert_status(StatusCode::OK);
            let mut rows: Vec<(String, String, i64)> = r
                .json()
                .as_array()
                .expect("rows")
                .iter()
                .map(|h| {
                    let text = |k: &str| h[k].as_str().unwrap_or_default().to_owned();
                    (text("hour"), text("category"), h["events"].as_i64().unwrap_or_default())
                })
                .collect();
            rows.sort();
            rows
        }
    };
    let expect = |hours: i64| {
        let first = hour_of(s.now - Duration::hours(hours - 1));
        let mut rows: Vec<(String, String, i64)> = s.hours.iter().filter(|(h, _, _)| *h >= first).cloned().collect();
        rows.sort();
        rows
    };
    let default = counts("").await;
    assert_eq!(default, expect(48));
    assert_eq!(default.len(), 3, "{default:?}");
    assert!(default.iter().all(|(_, c, _)| c != "spam"));
    assert!(default.contains(&(hour_of(s.now - Duration::hours(3)), "botnet_cc".to_owned(), 4)));
    assert_eq!(counts("?hours=96").await, expect(96));
    assert_eq!(counts("?hours=96").await.len(), 4);
    assert_eq!(counts("?hours=2").await, expect(2));
    assert_eq!(counts("?hours=2160").await.len(), 4);
    for bad in ["0", "2161", "-1"] {
        let r = get(&app, Role::Regulator, &format!("/api/v1/alerts/hours?hours={bad}")).await;
        assert_field(&r, StatusCode::BAD_REQUEST, "hours");
    }
}

#[tokio::test]
async fn alert_pages_show_the_seeded_alerts_escaped_and_take_triage_forms() {
    let app = App::new().await;
    let s = seed(&app).await;
    app.make_user("alerts.responder", Role::Responder, app.root, Vec::new()).await;
    let session = app.login("alerts.responder", PASSWORD).await;
    let page = |path: String| {
        let req = Req::get(&path).session(&session).cookie("anbao_lang", "en");
        let app = &app;
        async move {
            let r = app.send(req).await;
            r.assert_status(StatusCode::OK);
            assert!(r.content_type().starts_with("text/html"), "{r:?}");
            let html = r.text();
            assert!(!html.contains("<script>alert(1)"), "{path} holds raw markup from the traffic");
            html
        }
    };

    // The list: counts, the chart, the rows.
    let list = page("/alerts".into()).await;
    assert!(list.contains("id=\"alerts-total\">4<"), "all four alerts counted");
    assert!(list.contains("data-count=\"new\">4<"));
    assert!(list.contains("data-count=\"resolved\">0<"));
    assert!(list.contains("<svg") && list.contains("class=\"seg\""), "the chart has bars");
    assert_eq!(list.matches("class=\"stack\"").count(), 48, "one stack per hour of the last 48");
    assert!(list.contains("data-series=\"botnet_cc\"") && list.contains("data-series=\"dga\""));
    assert!(!list.contains("data-series=\"spam\""), "the old alert is outside the chart");
    for id in [s.botnet, s.phishing, s.dga, s.old] {
        assert!(list.contains(&format!("href=\"/alerts/{id}\"")), "alert {id} is listed");
    }
    assert!(list.contains("href=\"/alerts/victims?victim=10.0.0.5\""), "victims link to the victim view");
    assert!(list.contains("Botnet C&amp;C") && list.contains("parent domain"));
    assert!(list.contains("<option value=\"dga\">dga</option>"), "heuristic categories seen are offered");

    let filtered = page("/alerts?status=&category=&rule=&victim=10.0.0.5&q=".into()).await;
    assert_eq!(filtered.matches("<tr data-alert=").count(), 2, "{filtered}");
    assert!(filtered.contains("id=\"alerts-matching\">2<"));
    assert!(filtered.contains("value=\"10.0.0.5\""), "the filter keeps its value");
    let bad = page("/alerts?status=closed".into()).await;
    assert!(bad.contains("flash error"), "a bad filter is said, not a failure");
    let paged = page("/alerts?offset=3".into()).await;
    assert_eq!(paged.matches("<tr data-alert=").count(), 1);
    assert!(paged.contains("id=\"previous-page\"") && !paged.contains("id=\"next-page\""));

    // One alert: everything about it, the evidence, the triage forms.
    let detail = page(format!("/alerts/{}", s.botnet)).await;
    assert!(detail.contains(&format!("href=\"/intel/indicators/{}\"", s.indicator_id)), "the indicator is linked");
    assert!(detail.contains("id=\"evidence-summary\">query A www.evil.example<"));
    assert!(detail.contains("&quot;dport&quot;: 53"), "the event pretty-printed: {detail}");
    assert!(detail.contains("id=\"alert-count\">4<") && detail.contains("edge-1"));
    assert!(detail.contains("id=\"alert-status-form\"") && detail.contains("id=\"alert-action-form\""));
    assert!(detail.contains("id=\"no-actions\""));
    let hostile = page(format!("/alerts/{}", s.phishing)).await;
    assert!(hostile.contains("&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;.evil.example"), "{hostile}");
    assert!(!hostile.contains("href=\"/intel/indicators/"), "no indicator to link");
    let dga = page(format!("/alerts/{}", s.dga)).await;
    assert!(dga.contains("id=\"alert-score\">87<") && dga.contains("random-looking label"));

    // Triage through the forms (with the session's CSRF token).
    let csrf = hidden_field(&detail, "_csrf").expect("the forms carry the CSRF token");
    let r = app
        .send(
            Req::post(&format!("/alerts/{}/status", s.botnet))
                .session(&session)
                .form(&[("_csrf", csrf.as_str()), ("status", "resolved")]),
        )
        .await;
    r.assert_status(StatusCode::SEE_OTHER);
    assert!(r.location().is_some_and(|l| l.starts_with(&format!("/alerts/{}?ok=", s.botnet))), "{r:?}");
    assert_eq!(app.store.alert(s.botnet).await.unwrap().status, "resolved");
    let r = app
        .send(Req::post(&format!("/alerts/{}/actions", s.botnet)).session(&session).form(&[
            ("_csrf", csrf.as_str()),
            ("action", "sinkholed"),
            ("detail", "sinkhole 192.0.2.1\r\n<b>ticket</b> 7"),
        ]))
        .await;
    r.assert_status(StatusCode::SEE_OTHER);
    let actions = app.store.alert_actions(s.botnet).await.unwrap();
    assert_eq!(actions.len(), 1);
    assert_eq!(
        (actions[0].action.as_str(), actions[0].detail.as_str(), actions[0].actor.as_str()),
        ("sinkholed", "sinkhole 192.0.2.1\n<b>ticket</b> 7", "alerts.responder")
    );
    let audit = app.audit_with_action("alert.action").await;
    assert_eq!((audit.len(), audit[0].channel.as_str()), (1, "ui"));
    let detail = page(format!("/alerts/{}", s.botnet)).await;
    assert!(detail.contains("data-action=\"sinkholed\"") && detail.contains("sinkhole 192.0.2.1<br>&lt;b&gt;ticket"));
    assert!(detail.contains("data-status=\"resolved\""));
    // A bad action comes back as a message on the page; nothing is recorded.
    let r = app
        .send(
            Req::post(&format!("/alerts/{}/actions", s.botnet))
                .session(&session)
                .form(&[("_csrf", csrf.as_str()), ("action", "erased")]),
        )
        .await;
    r.assert_status(StatusCode::SEE_OTHER);
    assert!(r.location().is_some_and(|l| l.contains("?error=")), "{r:?}");
    assert_eq!(app.store.alert_actions(s.botnet).await.unwrap().len(), 1);
    // Without the CSRF token nothing happens.
    let r = app
        .send(Req::post(&format!("/alerts/{}/status", s.dga)).session(&session).form(&[("status", "resolved")]))
        .await;
    r.assert_status(StatusCode::FORBIDDEN);
    assert_eq!(app.store.alert(s.dga).await.unwrap().status, "new");

    // The victim view: one row per subscriber, each linking to its alerts.
    let victims = page("/alerts/victims".into()).await;
    assert_eq!(victims.matches("<tr data-victim=").count(), 3);
    assert!(victims.contains("href=\"/alerts?victim=10.0.0.5\""));
    let row = victims.split("<tr data-victim=\"10.0.0.5\"").nth(1).expect("10.0.0.5 listed");
    assert!(row.contains("data-count=\"alerts\">2<") && row.contains("data-count=\"events\">5<"), "{row}");
    let one = page("/alerts/victims?victim=10.0.0.9".into()).await;
    assert_eq!(one.matches("<tr data-victim=").count(), 1);

    // Reached from the navigation and the Detect and Respond areas.
    assert!(page("/".into()).await.contains("href=\"/alerts\""));
    assert!(page("/areas/detect".into()).await.contains("href=\"/alerts\""));
    assert!(page("/areas/respond".into()).await.contains("href=\"/alerts/victims\""));

    // Readers see no forms that change anything; Chinese labels by default.
    let r = app.send(Req::get(&format!("/alerts/{}", s.dga)).bearer(app.token(Role::Auditor))).await;
    r.assert_status(StatusCode::OK);
    let html = r.text();
    assert!(!html.contains("id=\"alert-status-form\"") && !html.contains("id=\"alert-action-form\""));
    assert!(html.contains("证据") && html.contains("新告警"), "zh labels");
}

#[tokio::test]
async fn the_regulator_sees_subscribers_as_their_networks_everyone_else_sees_addresses() {
    let app = App::new().await;
    let s = seed(&app).await;

    // The same alert: full address for the responder, its /24 for the regulator.
    let full = get(&app, Role::Responder, &format!("/api/v1/alerts/{}", s.botnet)).await.json();
    assert_eq!((full["victim"].as_str(), full["evidence"]["src"].as_str()), (Some("10.0.0.5"), Some("10.0.0.5")));
    let masked = get(&app, Role::Regulator, &format!("/api/v1/alerts/{}", s.botnet)).await.json();
    assert_eq!(
        (masked["victim"].as_str(), masked["evidence"]["src"].as_str(), masked["evidence"]["dst"].as_str()),
        (Some("10.0.0.0/24"), Some("10.0.0.0/24"), Some("192.0.2.0/24"))
    );
    assert_eq!(masked["indicator"], full["indicator"], "what was contacted stays visible");
    let list = get(&app, Role::Regulator, "/api/v1/alerts").await.json();
    let victims: Vec<&str> = list["alerts"].as_array().unwrap().iter().filter_map(|a| a["victim"].as_str()).collect();
    assert_eq!(victims.len(), 4);
    assert!(victims.iter().all(|v| *v == "10.0.0.0/24"), "{victims:?}");
    let body = serde_json::to_string(&list).unwrap();
    for addr in ["10.0.0.5", "10.0.0.7", "10.0.0.9"] {
        assert!(!body.contains(addr), "{addr} in the regulator's list: {body}");
    }

    // The infected subscribers fold into one network with the sums.
    let nets = get(&app, Role::Regulator, "/api/v1/alerts/victims").await.json();
    assert_eq!(nets.as_array().map(Vec::len), Some(1), "{nets}");
    let n = &nets[0];
    assert_eq!(
        (n["victim"].as_str(), n["alerts"].as_i64(), n["events"].as_i64()),
        (Some("10.0.0.0/24"), Some(4), Some(13))
    );
    assert_eq!(n["categories"], json!(["botnet_cc", "dga", "phishing", "spam"]));
    assert_eq!(n["first_seen"], format_ts(s.now - Duration::hours(72)));
    assert_eq!(n["last_seen"], format_ts(s.now - Duration::minutes(30)));

    // And the pages: no address, no link that would filter by one.
    for path in ["/alerts".to_owned(), format!("/alerts/{}", s.botnet), "/alerts/victims".to_owned()] {
        let page = get(&app, Role::Regulator, &path).await;
        page.assert_status(StatusCode::OK);
        let html = page.text();
        assert!(!html.contains("10.0.0.5") && !html.contains("?victim="), "{path}: {html}");
        assert!(html.contains("10.0.0.0/24"), "{path}");
    }
    // Nor can it probe whether an address was infected by filtering on it.
    for path in ["/api/v1/alerts?victim=10.0.0.5", "/api/v1/alerts/victims?victim=10.0.0.9"] {
        assert_field(&get(&app, Role::Regulator, path).await, StatusCode::BAD_REQUEST, "victim");
    }
    let r = get(&app, Role::Regulator, "/alerts?victim=10.0.0.5").await;
    assert!(!r.text().contains("10.0.0.5"), "{r:?}");
    let html = get(&app, Role::Auditor, &format!("/alerts/{}", s.botnet)).await.text();
    assert!(html.contains("?victim=10.0.0.5"), "the auditor may follow a subscriber");
}

/// What the live index says of `value`: (allowlisted, matched).
async fn looked_up(app: &App, value: &str) -> (Value, Value) {
    let r = get(app, Role::Admin, &format!("/api/v1/intel/lookup?value={value}")).await;
    r.assert_status(StatusCode::OK);
    let result = r.json()["results"][0].clone();
    (result["allowlisted"].clone(), result["matched"].clone())
}

#[tokio::test]
async fn alerts_are_assigned_allowlisted_as_false_positives_and_changed_in_bulk() {
    let app = App::new().await;
    let s = seed(&app).await;
    app.make_user("wang.fang", Role::Responder, app.root, Vec::new()).await;
    let post = |role: Role, path: String, body: Value| {
        let req = Req::post(&path).bearer(app.token(role)).json(&body);
        let app = &app;
        async move { app.send(req).await }
    };
    let assign_path = format!("/api/v1/alerts/{}/assign", s.botnet);

    // Assign: read-only roles are refused; an active user only.
    let before = app.counts().await;
    post(Role::Auditor, assign_path.clone(), json!({"assignee": "wang.fang"}))
        .await
        .assert_status(StatusCode::FORBIDDEN);
    post(Role::Regulator, "/api/v1/alerts/bulk".into(), json!({"ids": [s.botnet], "status": "resolved"}))
        .await
        .assert_status(StatusCode::FORBIDDEN);
    for nobody in ["no.such.user", "WANG.FANG"] {
        let r = post(Role::Analyst, assign_path.clone(), json!({"assignee": nobody})).await;
        assert_field(&r, StatusCode::UNPROCESSABLE_ENTITY, "assignee");
    }
    assert_eq!(app.counts().await, before);
    let r = post(Role::Analyst, assign_path.clone(), json!({"assignee": "wang.fang"})).await;
    r.assert_status(StatusCode::OK);
    assert_eq!(r.json()["assignee"], "wang.fang");
    let audit = app.audit_with_action("alert.assign").await;
    assert_eq!(audit.len(), 1);
    assert_eq!(
        (audit[0].before.clone(), audit[0].after.clone()),
        (Some(json!({"assignee": ""})), Some(json!({"assignee": "wang.fang"})))
    );
    let mine = get(&app, Role::Auditor, "/api/v1/alerts?assignee=wang.fang").await;
    assert_eq!(ids(&mine), [s.botnet]);
    let unassigned = get(&app, Role::Auditor, "/api/v1/alerts?assignee=-").await;
    assert_eq!(ids(&unassigned), [s.dga, s.phishing, s.old]);
    let r = post(Role::Admin, "/api/v1/alerts/999999/assign".into(), json!({"assignee": "wang.fang"})).await;
    r.assert_status(StatusCode::NOT_FOUND);

    // A false positive that allowlists its indicator: the live index stops
    // matching it at its next refresh.
    assert_eq!(looked_up(&app, "www.evil.example").await, (json!(false), json!(true)));
    let status_path = format!("/api/v1/alerts/{}/status", s.botnet);
    let r = post(Role::Responder, status_path.clone(), json!({"status": "resolved", "allowlist": true})).await;
    assert_field(&r, StatusCode::UNPROCESSABLE_ENTITY, "allowlist");
    let r = post(Role::Responder, status_path, json!({"status": "false_positive", "allowlist": true})).await;
    r.assert_status(StatusCode::OK);
    assert_eq!(r.json()["status"], "false_positive");
    let lists = get(&app, Role::Admin, "/api/v1/intel/allowlists").await.json();
    let list = lists.as_array().expect("allowlists").iter().find(|l| l["name"] == "false positives").expect("made");
    assert_eq!(list["entries"], json!(["evil.example"]));
    // The entry is the listed value itself (a `string` entry): the
    // indicator leaves the index, so its subdomains stop matching too.
    assert_eq!(looked_up(&app, "evil.example").await, (json!(true), json!(false)));
    assert_eq!(looked_up(&app, "www.evil.example").await, (json!(false), json!(false)));

    // Bulk: one transaction, one audit entry per alert; a bad id changes nothing.
    let before = app.counts().await;
    let r =
        post(Role::Analyst, "/api/v1/alerts/bulk".into(), json!({"ids": [s.dga, 999_999], "status": "resolved"})).await;
    r.assert_status(StatusCode::NOT_FOUND);
    for (body, field) in [
        (json!({"ids": [], "status": "resolved"}), "ids"),
        (json!({"ids": vec![s.dga; 1001], "status": "resolved"}), "ids"),
        (json!({"ids": [s.dga]}), "status"),
        (json!({"ids": [s.dga], "status": "closed"}), "status"),
        (json!({"ids": [s.dga], "assignee": "no.such.user"}), "assignee"),
    ] {
        assert_field(
            &post(Role::Analyst, "/api/v1/alerts/bulk".into(), body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            field,
        );
    }
    assert_eq!(app.counts().await, before);
    assert_eq!(app.store.alert(s.dga).await.unwrap().status, "new");
    let body = json!({"ids": [s.dga, s.phishing, s.old], "status": "acknowledged", "assignee": "wang.fang"});
    let r = post(Role::Analyst, "/api/v1/alerts/bulk".into(), body).await;
    r.assert_status(StatusCode::OK);
    assert_eq!(r.json()["changed"], 3);
    let acked = get(&app, Role::Auditor, "/api/v1/alerts?status=acknowledged&assignee=wang.fang").await;
    assert_eq!(ids(&acked), [s.dga, s.phishing, s.old]);
    let audit = app.audit_with_action("alert.bulk").await;
    let mut audited: Vec<i64> = audit.iter().map(|e| e.object_id.parse().unwrap_or_default()).collect();
    audited.sort_unstable();
    let mut expected = vec![s.dga, s.phishing, s.old];
    expected.sort_unstable();
    assert_eq!(audited, expected);
    assert!(audit.iter().all(|e| e.actor == "token:analyst-bot"));

    // The pages: assign on the alert, bulk from the list, with checkboxes.
    let session = app.login("wang.fang", PASSWORD).await;
    let r = app.send(Req::get(&format!("/alerts/{}", s.dga)).session(&session).cookie("anbao_lang", "en")).await;
    let detail = r.text();
    assert!(detail.contains("id=\"alert-assign-form\"") && detail.contains("id=\"alert-allowlist\""), "{detail}");
    assert!(detail.contains("<option value=\"wang.fang\" selected>wang.fang</option>"), "{detail}");
    let csrf = hidden_field(&detail, "_csrf").expect("csrf");
    let r = app
        .send(
            Req::post(&format!("/alerts/{}/assign", s.dga))
                .session(&session)
                .form(&[("_csrf", csrf.as_str()), ("assignee", "")]),
        )
        .await;
    r.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(app.store.alert(s.dga).await.unwrap().assignee, "");
    let list =
        app.send(Req::get("/alerts?assignee=wang.fang").session(&session).cookie("anbao_lang", "en")).await.text();
    assert!(list.contains("id=\"alert-bulk-form\""));
    assert_eq!(list.matches("name=\"id\"").count(), 3, "one checkbox per listed alert (botnet, phishing, old)");
    // The select-all box is there for the script (static app.js) to show;
    // hidden in the markup, so a page without script offers nothing dead.
    assert!(list.contains("id=\"alerts-select-all\" data-select-all=\"id\" hidden"), "{list}");
    let r = app
        .send(Req::post("/alerts/bulk").session(&session).form(&[
            ("_csrf", csrf.as_str()),
            ("back", "/alerts?assignee=wang.fang"),
            ("id", &s.phishing.to_string()),
            ("id", &s.old.to_string()),
            ("status", "resolved"),
            ("assignee", "-"),
        ]))
        .await;
    r.assert_status(StatusCode::SEE_OTHER);
    assert!(r.location().is_some_and(|l| l.starts_with("/alerts?assignee=wang.fang&ok=")), "{r:?}");
    for id in [s.phishing, s.old] {
        let a = app.store.alert(id).await.unwrap();
        assert_eq!((a.status.as_str(), a.assignee.as_str()), ("resolved", ""));
    }
    assert_eq!(app.audit_with_action("alert.bulk").await.len(), 5);
    // Nothing selected: said on the page, nothing changes.
    let r = app
        .send(Req::post("/alerts/bulk").session(&session).form(&[("_csrf", csrf.as_str()), ("status", "new")]))
        .await;
    assert!(r.location().is_some_and(|l| l.starts_with("/alerts?error=")), "{r:?}");
    // Readers get no checkboxes.
    let html = app.send(Req::get("/alerts").bearer(app.token(Role::Auditor))).await.text();
    assert!(
        !html.contains("id=\"alert-bulk-form\"") && !html.contains("name=\"id\"") && !html.contains("data-select-all")
    );
}

#[tokio::test]
async fn suppression_rules_drop_and_count_matching_detections() {
    let app = App::new().await;
    let now = app.store.clock().now();
    let post = |role: Role, body: Value| {
        let req = Req::post("/api/v1/alerts/suppressions").bearer(app.token(role)).json(&body);
        let app = &app;
        async move { app.send(req).await }
    };
    let until = format_ts(now + Duration::hours(4));
    let body = json!({"rule": "dga", "victim_prefix": "10.0.0.5", "until": until, "reason": "lab DGA test traffic"});
    post(Role::Auditor, body.clone()).await.assert_status(StatusCode::FORBIDDEN);
    assert_field(
        &post(Role::Analyst, json!({"until": until, "reason": "everything"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "rule",
    );
    assert_field(
        &post(Role::Analyst, json!({"rule": "dga", "until": "tomorrow", "reason": "x"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "until",
    );
    let past = format_ts(now - Duration::hours(1));
    assert_field(
        &post(Role::Analyst, json!({"rule": "dga", "until": past, "reason": "x"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "until",
    );
    let r = post(Role::Analyst, body).await;
    r.assert_status(StatusCode::CREATED);
    let id = r.json()["id"].as_i64().expect("id");
    assert_eq!(
        (r.json()["active"].as_bool(), r.json()["created_by"].as_str()),
        (Some(true), Some("token:analyst-bot"))
    );
    assert_eq!(app.audit_with_action("alert.suppression.create").await.len(), 1);

    // The seeded DGA alert of 10.0.0.9 is outside the prefix and lands; a
    // DGA detection of 10.0.0.5 is dropped and counted.
    seed(&app).await;
    let all = get(&app, Role::Auditor, "/api/v1/alerts").await;
    assert_eq!(all.json()["total"], 4);
    let mut lab = Seed {
        victim: "10.0.0.5",
        rule: "dga",
        category: "dga",
        severity: 2,
        indicator: "qwpoeirutyz.example",
        indicator_id: None,
        observed: "qwpoeirutyz.example",
        count: 7,
        first: now,
        last: now,
    };
    let applied = app.store.apply_alerts(&[lab.draft()], None).await.expect("apply");
    assert_eq!((applied.new, applied.suppressed), (0, 1));
    let listed = get(&app, Role::Regulator, "/api/v1/alerts/suppressions").await.json();
    assert_eq!(listed[0]["suppressed"], 7, "events counted: {listed}");

    // The page lists it, with the count; a triager adds one through the form.
    app.make_user("sup.analyst", Role::Analyst, app.root, Vec::new()).await;
    let session = app.login("sup.analyst", PASSWORD).await;
    let html = app.send(Req::get("/alerts/suppressions").session(&session).cookie("anbao_lang", "en")).await.text();
    assert!(
        html.contains(&format!("data-suppression=\"{id}\"")) && html.contains("data-count=\"suppressed\">7<"),
        "{html}"
    );
    let csrf = hidden_field(&html, "_csrf").expect("csrf");
    let r = app
        .send(Req::post("/alerts/suppressions").session(&session).form(&[
            ("_csrf", csrf.as_str()),
            ("indicator_pattern", "*.cdn.example"),
            ("hours", "2"),
            ("reason", "our CDN"),
        ]))
        .await;
    r.assert_status(StatusCode::SEE_OTHER);
    assert!(r.location().is_some_and(|l| l.starts_with("/alerts/suppressions?ok=")), "{r:?}");
    let r = app
        .send(Req::post("/alerts/suppressions").session(&session).form(&[
            ("_csrf", csrf.as_str()),
            ("rule", "dga"),
            ("hours", "0"),
            ("reason", "x"),
        ]))
        .await;
    assert!(r.location().is_some_and(|l| l.starts_with("/alerts/suppressions?error=")), "{r:?}");
    assert_eq!(get(&app, Role::Auditor, "/api/v1/alerts/suppressions").await.json().as_array().map(Vec::len), Some(2));

    // Deleted, it drops nothing more and is gone (audited); expiry is the
    // store's test, on a clock moved by hand.
    let r =
        app.send(Req::delete(&format!("/api/v1/alerts/suppressions/{id}")).bearer(app.token(Role::Responder))).await;
    r.assert_status(StatusCode::NO_CONTENT);
    assert_eq!(app.audit_with_action("alert.suppression.delete").await.len(), 1);
    let r =
        app.send(Req::delete(&format!("/api/v1/alerts/suppressions/{id}")).bearer(app.token(Role::Responder))).await;
    r.assert_status(StatusCode::NOT_FOUND);
    lab.indicator = "zmxncbvlaksj.example";
    let applied = app.store.apply_alerts(&[lab.draft()], None).await.expect("apply");
    assert_eq!((applied.new, applied.suppressed), (1, 0));
}

#[tokio::test]
async fn suppressions_by_network_range_through_the_api_and_the_page() {
    let app = App::new().await;
    let now = app.store.clock().now();
    let until = format_ts(now + Duration::hours(4));
    let post = |body: Value| {
        let req = Req::post("/api/v1/alerts/suppressions").bearer(app.token(Role::Analyst)).json(&body);
        let app = &app;
        async move { app.send(req).await }
    };
    // A bad range is refused naming the field and what is wrong with it.
    let r = post(json!({"src_cidr": "10.0.0.5/24", "until": until, "reason": "x"})).await;
    assert_field(&r, StatusCode::UNPROCESSABLE_ENTITY, "src_cidr");
    assert!(
        r.json()["error"].as_str().is_some_and(|e| e.contains("host bits are set; the network is 10.0.0.0/24")),
        "{r:?}"
    );
    assert_field(
        &post(json!({"dst_cidr": "not-a-net", "until": until, "reason": "x"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "dst_cidr",
    );
    let r = post(json!({"src_cidr": "10.0.0.0/24", "until": until, "reason": "lab subnet"})).await;
    r.assert_status(StatusCode::CREATED);
    assert_eq!((r.json()["src_cidr"].as_str(), r.json()["dst_cidr"].as_str()), (Some("10.0.0.0/24"), Some("")));

    // A detection from inside the network is dropped; one from outside lands.
    let mut inside = Seed {
        victim: "10.0.0.77",
        rule: "dga",
        category: "dga",
        severity: 2,
        indicator: "qwpoeirutyz.example",
        indicator_id: None,
        observed: "qwpoeirutyz.example",
        count: 3,
        first: now,
        last: now,
    };
    let applied = app.store.apply_alerts(&[inside.draft()], None).await.expect("apply");
    assert_eq!((applied.new, applied.suppressed), (0, 1));
    inside.victim = "10.0.1.77";
    let applied = app.store.apply_alerts(&[inside.draft()], None).await.expect("apply");
    assert_eq!((applied.new, applied.suppressed), (1, 0));

    // The page shows the ranges; a bad one in the form comes back as its error.
    app.make_user("cidr.analyst", Role::Analyst, app.root, Vec::new()).await;
    let session = app.login("cidr.analyst", PASSWORD).await;
    let html = app.send(Req::get("/alerts/suppressions").session(&session).cookie("anbao_lang", "en")).await.text();
    assert!(html.contains("<code>10.0.0.0/24</code>") && html.contains("name=\"dst_cidr\""), "{html}");
    let csrf = hidden_field(&html, "_csrf").expect("csrf");
    let r = app
        .send(Req::post("/alerts/suppressions").session(&session).form(&[
            ("_csrf", csrf.as_str()),
            ("dst_cidr", "2001:db8::1/32"),
            ("hours", "2"),
            ("reason", "resolvers"),
        ]))
        .await;
    let location = r.location().unwrap_or_default().to_owned();
    assert!(location.starts_with("/alerts/suppressions?error="), "{r:?}");
    let html = app.send(Req::get(&location).session(&session).cookie("anbao_lang", "en")).await.text();
    assert!(html.contains("host bits are set; the network is 2001:db8::/32"), "{html}");
    let r = app
        .send(Req::post("/alerts/suppressions").session(&session).form(&[
            ("_csrf", csrf.as_str()),
            ("dst_cidr", "2001:db8::/32"),
            ("hours", "2"),
            ("reason", "resolvers"),
        ]))
        .await;
    assert!(r.location().is_some_and(|l| l.starts_with("/alerts/suppressions?ok=")), "{r:?}");
    assert_eq!(app.audit_with_action("alert.suppression.create").await.len(), 2);
}
