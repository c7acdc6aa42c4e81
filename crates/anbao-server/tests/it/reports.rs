//! Regulator reports over HTTP (issue #7, R2.4, R8.5): generated from an
//! incident as JSON (bytes and SHA-256 as stored), printable HTML in both
//! languages and PDF; final reports refused until root cause and lessons
//! are entered; the inbound endpoint refusing unsigned, unknown-key,
//! badly signed, malformed and oversized bodies, replays (outside the
//! signed-time window, or already received) and more than its rate; and one instance
//! submitting to another's inbound endpoint over real HTTP on loopback.

use std::net::SocketAddr;

use anbao_model::incident::OperatorCategory;
use anbao_model::{Clock, Role};
use anbao_server::ServerConfig;
use anbao_server::signing::SigningKey;
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::harness::{App, Req, Resp};

async fn open_incident(app: &App) -> i64 {
    let r = app
        .send(Req::post("/api/v1/incidents").bearer(app.token(Role::Responder)).json(&json!({
            "incident_type": "data_leak",
            "title": "会员库泄露",
            "facts": { "records_leaked": 1000000 },
            "operator_category": "cii",
        })))
        .await;
    r.assert_status(StatusCode::CREATED);
    r.json()["incident"]["id"].as_i64().expect("incident id")
}

async fn generate(app: &App, incident: i64, kind: &str) -> Resp {
    app.send(
        Req::post(&format!("/api/v1/incidents/{incident}/reports"))
            .bearer(app.token(Role::Responder))
            .json(&json!({ "kind": kind })),
    )
    .await
}

fn sha256_hex(b: &[u8]) -> String {
    hex::encode(<sha2::Sha256 as sha2::Digest>::digest(b))
}

fn config_with_key(dir: &std::path::Path, url: Option<String>) -> ServerConfig {
    ServerConfig {
        instance_name: "某省电信".into(),
        operator_category: OperatorCategory::Cii,
        report_signing_key: Some(dir.join("report-signing.key")),
        report_submission_url: url,
        ..ServerConfig::default()
    }
}

#[tokio::test]
async fn reports_are_generated_as_json_html_and_pdf_and_final_needs_the_review() {
    let keys = tempfile::tempdir().unwrap();
    let app = App::with_config(config_with_key(keys.path(), None)).await;
    let incident = open_incident(&app).await;
    let r25 = || async {
        let list = app.send(Req::get("/api/v1/requirements").bearer(app.token(Role::Regulator))).await.json();
        let found = list.as_array().unwrap().iter().find(|r| r["id"] == "R2.5").cloned().unwrap();
        found["status"].as_str().unwrap().to_owned()
    };
    assert_eq!(r25().await, "red", "a graded incident not reported yet");
    let r = generate(&app, incident, "initial").await;
    r.assert_status(StatusCode::CREATED);
    assert_eq!(r25().await, "green", "reported within its deadline");
    let out = r.json();
    let id = out["id"].as_i64().unwrap();
    assert_eq!(out["kind"], "initial");

    // The JSON is served exactly as stored: its SHA-256 is the recorded one.
    let j = app.send(Req::get(&format!("/api/v1/reports/{id}")).bearer(app.token(Role::Regulator))).await;
    j.assert_status(StatusCode::OK);
    assert_eq!(j.content_type(), "application/json");
    assert_eq!(sha256_hex(&j.body), out["sha256"].as_str().unwrap());
    let body = j.json();
    assert_eq!(body["schema"], "anbao.incident-report/1");
    assert_eq!(body["organisation"], json!({ "name": "某省电信", "category": "cii" }));
    assert_eq!(body["level"]["level"], "III");
    assert_eq!(body["level"]["criterion"]["article"], "Plan 3.3(3)");
    assert_eq!(body["deadline"]["within_minutes"], 60);
    assert_eq!(body["deadline"]["met"], true);
    assert_eq!(body["impact"]["records_leaked"], 1000000);

    // Printable HTML in both languages.
    let zh = app.send(Req::get(&format!("/reports/{id}")).bearer(app.token(Role::Auditor))).await;
    zh.assert_status(StatusCode::OK);
    let text = zh.text();
    assert!(text.contains("网络安全事件报告") && text.contains("初报") && text.contains("会员库泄露"), "{text}");
    assert!(text.contains("较大") && text.contains("Plan 3.3(3)"));
    let en =
        app.send(Req::get(&format!("/reports/{id}")).bearer(app.token(Role::Auditor)).cookie("anbao_lang", "en")).await;
    let text = en.text();
    assert!(text.contains("Cybersecurity incident report") && text.contains("Initial report"), "{text}");
    assert!(text.contains("Reported in time"));

    // PDF through headless Chromium.
    let pdf = app.send(Req::get(&format!("/reports/{id}.pdf")).bearer(app.token(Role::Regulator))).await;
    assert_eq!(pdf.status, StatusCode::OK, "{}", pdf.text());
    assert_eq!(pdf.header("content-type"), Some("application/pdf"));
    assert!(pdf.body.starts_with(b"%PDF-") && pdf.body.len() > 1000);
    app.send(Req::get("/reports/999999").bearer(app.token(Role::Auditor))).await.assert_status(StatusCode::NOT_FOUND);
    app.send(Req::get("/reports/x.pdf").bearer(app.token(Role::Auditor))).await.assert_status(StatusCode::NOT_FOUND);

    // Final: refused until root cause and lessons are entered.
    let refused = generate(&app, incident, "final").await;
    refused.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.error_field().as_deref(), Some("root_cause"));
    let bad_kind = generate(&app, incident, "draft").await;
    assert_eq!(bad_kind.status, StatusCode::UNPROCESSABLE_ENTITY);
    app.send(
        Req::put(&format!("/api/v1/incidents/{incident}/review"))
            .bearer(app.token(Role::Analyst))
            .json(&json!({ "root_cause": "接口未鉴权", "lessons": "上线前安全评审" })),
    )
    .await
    .assert_status(StatusCode::OK);
    let fin = generate(&app, incident, "final").await;
    fin.assert_status(StatusCode::CREATED);
    let fin_id = fin.json()["id"].as_i64().unwrap();
    let body = app.send(Req::get(&format!("/api/v1/reports/{fin_id}")).bearer(app.token(Role::Admin))).await.json();
    assert_eq!((body["root_cause"].as_str(), body["lessons"].as_str()), (Some("接口未鉴权"), Some("上线前安全评审")));
    assert!(
        body["actions"].as_array().unwrap().iter().any(|a| a["entry"].as_str().unwrap().starts_with("initial report"))
    );

    // Listed on the API and on the incident's page; submission is off here.
    let list =
        app.send(Req::get(&format!("/api/v1/incidents/{incident}/reports")).bearer(app.token(Role::Regulator))).await;
    let kinds: Vec<String> =
        list.json().as_array().unwrap().iter().map(|r| r["kind"].as_str().unwrap().to_owned()).collect();
    assert_eq!(kinds, ["initial", "final"]);
    let page = app.send(Req::get(&format!("/incidents/{incident}")).bearer(app.token(Role::Responder))).await;
    let text = page.text();
    assert!(text.contains("id=\"report-list\"") && text.contains(&format!("/reports/{fin_id}.pdf")), "{text}");
    assert!(text.contains("id=\"report-generate-form\"") && !text.contains("/submit\""));
    let submit = app.send(Req::post(&format!("/api/v1/reports/{id}/submit")).bearer(app.token(Role::Responder))).await;
    submit.assert_status(StatusCode::CONFLICT);
    assert_eq!(app.audit_with_action("incident.report").await.len(), 2);
}

/// Posts `body` to the inbound endpoint with these headers (empty: left out).
async fn post_inbound(app: &App, key_id: &str, stamp: &str, signature: &str, body: &[u8]) -> Resp {
    let mut req = Req::post("/api/v1/reports/inbound");
    for (name, value) in [("x-anbao-key-id", key_id), ("x-anbao-timestamp", stamp), ("x-anbao-signature", signature)] {
        if !value.is_empty() {
            req = req.header(name, value);
        }
    }
    app.send(req.raw("application/json", body.to_vec())).await
}

/// Signs `body` with `key` as sent now by `app`'s clock and posts it.
async fn post_signed(app: &App, key: &SigningKey, body: &[u8]) -> Resp {
    let (stamp, sig) = key.sign_at(app.store.clock().now().unix_timestamp(), body);
    post_inbound(app, &key.key_id, &stamp, &sig, body).await
}

async fn register(collector: &App, key: &SigningKey) {
    collector
        .send(
            Req::post("/api/v1/report-senders")
                .bearer(collector.token(Role::Admin))
                .json(&json!({ "name": "某省电信", "public_key": key.public_key })),
        )
        .await
        .assert_status(StatusCode::CREATED);
}

#[tokio::test]
async fn the_inbound_endpoint_refuses_what_it_cannot_trust() {
    let keys = tempfile::tempdir().unwrap();
    // A real report from a sender instance.
    let sender = App::with_config(config_with_key(keys.path(), None)).await;
    let incident = open_incident(&sender).await;
    let id = generate(&sender, incident, "initial").await.json()["id"].as_i64().unwrap();
    let body = sender.send(Req::get(&format!("/api/v1/reports/{id}")).bearer(sender.token(Role::Admin))).await.body;
    let key = SigningKey::load_or_create(&keys.path().join("report-signing.key")).unwrap();

    let collector = App::new().await;
    let (stamp, sig) = key.sign_at(collector.store.clock().now().unix_timestamp(), &body);
    // Unsigned.
    let r = post_inbound(&collector, "", "", "", &body).await;
    r.assert_status(StatusCode::BAD_REQUEST);
    assert_eq!(r.error_field().as_deref(), Some("x-anbao-key-id"));
    assert_eq!(post_inbound(&collector, &key.key_id, &stamp, "", &body).await.status, StatusCode::BAD_REQUEST);
    // Without the signed time (the scheme before replay protection).
    let r = post_inbound(&collector, &key.key_id, "", &key.sign(&body), &body).await;
    r.assert_status(StatusCode::BAD_REQUEST);
    assert_eq!(r.error_field().as_deref(), Some("x-anbao-timestamp"));
    // Not registered yet.
    let r = post_inbound(&collector, &key.key_id, &stamp, &sig, &body).await;
    r.assert_status(StatusCode::FORBIDDEN);
    assert!(r.json()["error"].as_str().unwrap().contains("not registered"));
    register(&collector, &key).await;
    // Signature of other bytes, or changed bytes under the right signature.
    let mut altered = body.to_vec();
    let at = altered.iter().position(|b| *b == b'1').unwrap();
    altered[at] = b'2';
    post_inbound(&collector, &key.key_id, &stamp, &sig, &altered).await.assert_status(StatusCode::UNAUTHORIZED);
    post_inbound(&collector, &key.key_id, &stamp, &key.sign(b"other"), &body)
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
    post_inbound(&collector, &key.key_id, &stamp, "not-hex", &body).await.assert_status(StatusCode::UNAUTHORIZED);
    // The body alone signed (the time not covered), or another time under
    // the signature: both refused.
    post_inbound(&collector, &key.key_id, &stamp, &key.sign(&body), &body)
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
    let later = (collector.store.clock().now().unix_timestamp() + 1).to_string();
    post_inbound(&collector, &key.key_id, &later, &sig, &body).await.assert_status(StatusCode::UNAUTHORIZED);
    // Signed, but not a report.
    let junk = b"{\"schema\": ";
    post_signed(&collector, &key, junk).await.assert_status(StatusCode::BAD_REQUEST);
    let other = String::from_utf8(body.to_vec()).unwrap().replace("anbao.incident-report/1", "anbao.incident-report/9");
    let r = post_signed(&collector, &key, other.as_bytes()).await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.error_field().as_deref(), Some("schema"));
    // Too large, even if signed.
    let big = vec![b' '; 600 * 1024];
    post_signed(&collector, &key, &big).await.assert_status(StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(received_list(&collector).await, json!([]), "nothing refused is stored");

    // The genuine report: stored once; the same request again is a replay (409).
    let r = post_inbound(&collector, &key.key_id, &stamp, &sig, &body).await;
    r.assert_status(StatusCode::CREATED);
    assert_eq!(
        (r.json()["sha256"].as_str(), r.json()["duplicate"].as_bool()),
        (Some(sha256_hex(&body).as_str()), Some(false))
    );
    let rid = r.json()["id"].as_i64().unwrap();
    let again = post_inbound(&collector, &key.key_id, &stamp, &sig, &body).await;
    again.assert_status(StatusCode::CONFLICT);
    assert_eq!((again.json()["duplicate"].as_bool(), again.json()["id"].as_i64()), (Some(true), Some(rid)));
    assert!(again.json()["error"].as_str().unwrap().contains("received from this sender before"), "{again:?}");
    // Signed afresh it is still the same report: 409 too.
    post_signed(&collector, &key, &body).await.assert_status(StatusCode::CONFLICT);
    let received = received_list(&collector).await;
    assert_eq!(received.as_array().unwrap().len(), 1);
    assert_eq!(received[0]["sender_name"], "某省电信");
    assert_eq!(received[0]["key_id"], key.key_id.as_str());
    let audit = collector.audit_with_action("report.receive").await;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].actor, "sender:某省电信");

    // Revoked: the same key's next report is refused; the received one stays.
    let sender_id = collector.store.list_report_senders().await.unwrap()[0].id;
    collector
        .send(Req::delete(&format!("/api/v1/report-senders/{sender_id}")).bearer(collector.token(Role::Admin)))
        .await
        .assert_status(StatusCode::OK);
    let progress = generate(&sender, incident, "progress").await.json()["id"].as_i64().unwrap();
    let body =
        sender.send(Req::get(&format!("/api/v1/reports/{progress}")).bearer(sender.token(Role::Admin))).await.body;
    let r = post_signed(&collector, &key, &body).await;
    r.assert_status(StatusCode::FORBIDDEN);
    assert!(r.json()["error"].as_str().unwrap().contains("revoked"), "{r:?}");
    assert_eq!(received_list(&collector).await.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn inbound_reports_outside_the_time_window_or_too_many_are_refused() {
    let keys = tempfile::tempdir().unwrap();
    let sender = App::with_config(config_with_key(keys.path(), None)).await;
    let incident = open_incident(&sender).await;
    let mut bodies = Vec::new();
    for kind in ["initial", "progress", "progress", "progress"] {
        let id = generate(&sender, incident, kind).await.json()["id"].as_i64().unwrap();
        bodies
            .push(sender.send(Req::get(&format!("/api/v1/reports/{id}")).bearer(sender.token(Role::Admin))).await.body);
    }
    let key = SigningKey::load_or_create(&keys.path().join("report-signing.key")).unwrap();
    // A collector with a 2-minute window and 2 reports a minute, on a clock
    // moved by hand.
    let clock = std::sync::Arc::new(anbao_model::ManualClock::new(time::macros::datetime!(2026-11-25 09:00 UTC)));
    let config = ServerConfig {
        report_inbound_max_skew: std::time::Duration::from_secs(120),
        report_inbound_per_minute: 2,
        ..ServerConfig::default()
    };
    let collector = App::with_clock(config, clock.clone()).await;
    register(&collector, &key).await;
    let now = clock.now().unix_timestamp();

    // Signed 121 s ago, or 121 s ahead: refused with the reason, nothing stored.
    for (at, why) in [(now - 121, "121 s old"), (now + 121, "121 s far in the future")] {
        let (stamp, sig) = key.sign_at(at, &bodies[0]);
        let r = post_inbound(&collector, &key.key_id, &stamp, &sig, &bodies[0]).await;
        r.assert_status(StatusCode::UNAUTHORIZED);
        assert_eq!(r.error_field().as_deref(), Some("x-anbao-timestamp"));
        assert!(r.json()["error"].as_str().unwrap().contains(why), "{r:?}");
    }
    let words = key.sign(&anbao_server::signing::signed_message("yesterday", &bodies[0]));
    let r = post_inbound(&collector, &key.key_id, "yesterday", &words, &bodies[0]).await;
    r.assert_status(StatusCode::UNAUTHORIZED);
    assert!(r.json()["error"].as_str().unwrap().contains("is not Unix seconds"), "{r:?}");
    let (stamp, sig) = key.sign_at(now, &bodies[0]);
    assert_eq!(received_list(&collector).await, json!([]));
    // At the edge of the window: accepted.
    let (edge, edge_sig) = key.sign_at(now - 120, &bodies[0]);
    post_inbound(&collector, &key.key_id, &edge, &edge_sig, &bodies[0]).await.assert_status(StatusCode::CREATED);
    // The captured request replayed three minutes later: outside the window.
    clock.advance(time::Duration::minutes(3));
    let r = post_inbound(&collector, &key.key_id, &stamp, &sig, &bodies[0]).await;
    r.assert_status(StatusCode::UNAUTHORIZED);

    // Two a minute (the bucket has refilled meanwhile): the third is
    // refused with Retry-After, until the bucket refills.
    post_signed(&collector, &key, &bodies[1]).await.assert_status(StatusCode::CREATED);
    post_signed(&collector, &key, &bodies[2]).await.assert_status(StatusCode::CREATED);
    let r = post_signed(&collector, &key, &bodies[3]).await;
    r.assert_status(StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.header("retry-after"), Some("30"), "{r:?}");
    assert!(r.json()["error"].as_str().unwrap().contains("more than 2 reports a minute"), "{r:?}");
    clock.advance(time::Duration::seconds(30));
    post_signed(&collector, &key, &bodies[3]).await.assert_status(StatusCode::CREATED);
    assert_eq!(post_signed(&collector, &key, &bodies[3]).await.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(received_list(&collector).await.as_array().unwrap().len(), 4);
}

async fn received_list(app: &App) -> Value {
    app.send(Req::get("/api/v1/reports/received").bearer(app.token(Role::Regulator))).await.json()
}

/// Serves `app` on a loopback port, as `anbao serve` would.
async fn serve(app: &App) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = app.router.clone();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>()).await;
    });
    addr
}

#[tokio::test]
async fn one_instance_submits_signed_reports_to_anothers_inbound_endpoint() {
    // The regulator-side collector, on a real socket.
    let collector = App::new().await;
    let addr = serve(&collector).await;
    // The operator's instance, submitting to it.
    let keys = tempfile::tempdir().unwrap();
    let url = format!("http://{addr}/api/v1/reports/inbound");
    let operator = App::with_config(config_with_key(keys.path(), Some(url.clone()))).await;
    let incident = open_incident(&operator).await;
    let id = generate(&operator, incident, "initial").await.json()["id"].as_i64().unwrap();
    let submit = || async {
        let r = operator
            .send(Req::post(&format!("/api/v1/reports/{id}/submit")).bearer(operator.token(Role::Responder)))
            .await;
        r.assert_status(StatusCode::CREATED);
        r.json()
    };

    // Not registered at the collector yet: recorded as rejected with the reason.
    let s = submit().await;
    assert_eq!((s["outcome"].as_str(), s["http_status"].as_i64()), (Some("rejected"), Some(403)));
    assert!(s["error"].as_str().unwrap().contains("not registered"), "{s}");
    assert_eq!(s["recipient"], url.as_str());

    // The collector's admin registers the operator's public key.
    let key: Value =
        operator.send(Req::get("/api/v1/reports/signing-key").bearer(operator.token(Role::Auditor))).await.json();
    assert_eq!(key["algorithm"], "ed25519");
    collector
        .send(
            Req::post("/api/v1/report-senders")
                .bearer(collector.token(Role::Admin))
                .json(&json!({ "name": "某省电信", "public_key": key["public_key"] })),
        )
        .await
        .assert_status(StatusCode::CREATED);
    let s = submit().await;
    assert_eq!((s["outcome"].as_str(), s["http_status"].as_i64()), (Some("accepted"), Some(201)), "{s}");
    // Again (as after a lost answer): the collector already has it and says
    // so with 409 `duplicate`, which the sender records as delivered.
    let s = submit().await;
    assert_eq!((s["outcome"].as_str(), s["http_status"].as_i64()), (Some("accepted"), Some(409)), "{s}");

    // The collector holds exactly the bytes the operator generated.
    let sent = operator.send(Req::get(&format!("/api/v1/reports/{id}")).bearer(operator.token(Role::Admin))).await.body;
    let received =
        collector.send(Req::get("/api/v1/reports/received").bearer(collector.token(Role::Regulator))).await.json();
    assert_eq!(received.as_array().unwrap().len(), 1);
    assert_eq!(received[0]["key_id"], key["key_id"]);
    assert_eq!(received[0]["source_ip"], "127.0.0.1");
    let rid = received[0]["id"].as_i64().unwrap();
    let got =
        collector.send(Req::get(&format!("/api/v1/reports/received/{rid}")).bearer(collector.token(Role::Admin))).await;
    assert_eq!(got.body, sent);
    let page = collector.send(Req::get("/reports/received").bearer(collector.token(Role::Regulator))).await;
    assert!(page.text().contains("会员库泄露") && page.text().contains("某省电信"), "{}", page.text());
    let view =
        collector.send(Req::get(&format!("/reports/received/{rid}")).bearer(collector.token(Role::Regulator))).await;
    assert!(view.text().contains("会员库泄露") && view.text().contains(key["key_id"].as_str().unwrap()));

    // Every attempt is on the operator's record and in its audit log.
    let list = operator
        .send(Req::get(&format!("/api/v1/incidents/{incident}/reports")).bearer(operator.token(Role::Auditor)))
        .await
        .json();
    let outcomes: Vec<&str> =
        list[0]["submissions"].as_array().unwrap().iter().map(|s| s["outcome"].as_str().unwrap()).collect();
    assert_eq!(outcomes, ["rejected", "accepted", "accepted"]);
    assert_eq!(operator.audit_with_action("incident.report_submit").await.len(), 3);

    // A collector that is gone: recorded as failed, no HTTP status.
    let gone = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let gone_url = format!("http://{}/api/v1/reports/inbound", gone.local_addr().unwrap());
    drop(gone);
    let other = App::with_config(config_with_key(keys.path(), Some(gone_url))).await;
    let incident = open_incident(&other).await;
    let id = generate(&other, incident, "initial").await.json()["id"].as_i64().unwrap();
    let s =
        other.send(Req::post(&format!("/api/v1/reports/{id}/submit")).bearer(other.token(Role::Admin))).await.json();
    assert_eq!((s["outcome"].as_str(), s["http_status"].as_i64()), (Some("failed"), None), "{s}");
    assert!(!s["error"].as_str().unwrap().is_empty());
}

#[tokio::test]
async fn the_incident_page_generates_reports_and_takes_root_cause_and_lessons() {
    let keys = tempfile::tempdir().unwrap();
    let app = App::with_config(config_with_key(keys.path(), None)).await;
    let incident = open_incident(&app).await;
    app.make_user("li.responder", Role::Responder, app.root, Vec::new()).await;
    let s = app.login("li.responder", crate::harness::PASSWORD).await;
    let post = |path: String, fields: Vec<(&'static str, &'static str)>| {
        let mut all = vec![("_csrf", s.csrf.as_str())];
        all.extend(fields);
        app.send(Req::post(&path).session(&s).form(&all))
    };
    let back = format!("/incidents/{incident}?");
    let r = post(format!("/incidents/{incident}/reports"), vec![("kind", "final")]).await;
    r.assert_status(StatusCode::SEE_OTHER);
    assert!(r.location().unwrap().starts_with(&format!("{back}error=")), "{r:?}");
    let r = post(
        format!("/incidents/{incident}/review"),
        vec![("root_cause", "弱口令\r\n未轮换"), ("lessons", "季度轮换")],
    )
    .await;
    assert!(r.location().unwrap().starts_with(&format!("{back}ok=")), "{r:?}");
    let r = post(format!("/incidents/{incident}/reports"), vec![("kind", "final")]).await;
    assert!(r.location().unwrap().starts_with(&format!("{back}ok=")), "{r:?}");
    let r = post(format!("/incidents/{incident}/reports"), vec![("kind", "weekly")]).await;
    assert!(r.location().unwrap().contains("error=kind"), "{r:?}");

    let page = app.send(Req::get(&format!("/incidents/{incident}")).session(&s)).await.text();
    assert!(page.contains("data-kind=\"final\"") && page.contains("终报"), "{page}");
    assert!(page.contains("弱口令\n未轮换</textarea>"), "the review form shows what was saved");
    let key = SigningKey::load_or_create(&keys.path().join("report-signing.key")).unwrap();
    assert!(page.contains(&key.public_key), "the public key to register is on the page");
    let reports = app.store.incident_reports(incident).await.unwrap();
    assert_eq!(reports.len(), 1);
    let body: Value = serde_json::from_str(&reports[0].body).unwrap();
    assert_eq!(body["root_cause"], "弱口令\n未轮换");
    assert_eq!(body["generated_by"], "li.responder");
}
