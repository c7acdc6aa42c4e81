//! Evidence files and observables on an incident over HTTP (issue #7):
//! uploads (multipart, raw, the browser form with its CSRF token), the
//! configured size limit as a 413, downloads as nosniff attachments,
//! observables checked like indicators, looked up and published by the
//! roles that manage intel only. Who may call which route at all is the
//! matrix's (`matrix.rs`).

use anbao_model::Role;
use anbao_server::ServerConfig;
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::harness::{App, Req};
use crate::intel::multipart;

async fn open_incident(app: &App, token: &str, title: &str) -> i64 {
    let r = app
        .send(Req::post("/api/v1/incidents").bearer(token).json(&json!({
            "incident_type": "malware",
            "title": title,
            "facts": { "malware_spread_scope": "city" },
        })))
        .await;
    r.assert_status(StatusCode::CREATED);
    r.json()["incident"]["id"].as_i64().unwrap()
}

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR screenshot of the phishing page";

#[tokio::test]
async fn evidence_is_uploaded_listed_downloaded_as_an_attachment_and_deleted() {
    let app = App::with_config(ServerConfig { incident_evidence_max_bytes: 4096, ..ServerConfig::default() }).await;
    let responder = app.token(Role::Responder).to_owned();
    let id = open_incident(&app, &responder, "钓鱼网站").await;
    let url = format!("/api/v1/incidents/{id}/evidence");

    // Multipart, as a script or the page sends it.
    let (ct, body) = multipart(&[("description", "页面截图")], Some(("../shot.png", PNG)));
    let r = app.send(Req::post(&url).bearer(&responder).raw(&ct, body)).await;
    r.assert_status(StatusCode::CREATED);
    let v = r.json();
    assert_eq!(v["new_content"], true);
    let e = &v["evidence"];
    assert_eq!((e["file_name"].as_str(), e["file_type"].as_str()), (Some("shot.png"), Some("png")));
    assert_eq!(e["size"], PNG.len());
    assert_eq!(e["description"], "页面截图");
    let evidence_id = e["id"].as_i64().unwrap();
    let sha = e["sha256"].as_str().unwrap().to_owned();

    // A raw body named by ?filename=; the same bytes are stored once.
    let r = app
        .send(
            Req::post(&format!("{url}?filename=again.png&description=raw"))
                .bearer(&responder)
                .raw("application/octet-stream", PNG),
        )
        .await;
    r.assert_status(StatusCode::CREATED);
    assert_eq!(r.json()["new_content"], false);
    let r = app.send(Req::post(&url).bearer(&responder).raw("application/octet-stream", PNG)).await;
    assert_eq!((r.status, r.error_field().as_deref()), (StatusCode::UNPROCESSABLE_ENTITY, Some("filename")));

    // Empty and oversized files are refused; nothing is written.
    let before = app.counts().await;
    let (ct, body) = multipart(&[], Some(("empty.txt", b"")));
    let r = app.send(Req::post(&url).bearer(&responder).raw(&ct, body)).await;
    assert_eq!(
        (r.status, r.error_field().as_deref()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("file")),
        "{}",
        r.text()
    );
    let big = vec![b'a'; 4097];
    let r =
        app.send(Req::post(&format!("{url}?filename=big.log")).bearer(&responder).raw("text/plain", big.clone())).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text());
    assert!(r.json()["error"].as_str().unwrap().contains("4096"), "{}", r.text());
    let (ct, body) = multipart(&[], Some(("big.log", &big)));
    let r = app.send(Req::post(&url).bearer(&responder).raw(&ct, body)).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text());
    assert_eq!(app.counts().await, before);

    let list = app.send(Req::get(&url).bearer(app.token(Role::Regulator))).await;
    list.assert_status(StatusCode::OK);
    assert_eq!(list.json().as_array().unwrap().len(), 2, "the regulator sees the list");

    // The download: the bytes, as an attachment no browser renders; audited.
    let dl = format!("{url}/{evidence_id}/download");
    let r = app.send(Req::get(&dl).bearer(app.token(Role::Auditor))).await;
    r.assert_status(StatusCode::OK);
    assert_eq!(r.body.as_ref(), PNG);
    assert_eq!(r.header("content-type"), Some("application/octet-stream"));
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(r.header("content-disposition"), Some("attachment; filename=\"shot.png\"; filename*=UTF-8''shot.png"));
    assert_eq!(r.header("x-evidence-sha256"), Some(sha.as_str()));
    let audit = app.audit_with_action("incident.evidence_download").await;
    assert_eq!((audit.len(), audit[0].actor.as_str()), (1, "token:auditor-bot"));
    // The regulator may not take the raw bytes (they may hold subscribers).
    app.send(Req::get(&dl).bearer(app.token(Role::Regulator))).await.assert_status(StatusCode::FORBIDDEN);

    // The upload wrote a timeline entry.
    let v = app.send(Req::get(&format!("/api/v1/incidents/{id}")).bearer(&responder)).await.json();
    let entries = v["timeline"].as_array().unwrap();
    assert!(entries.iter().any(|t| t["entry"].as_str().unwrap().contains(&sha)), "{v}");

    app.send(Req::delete(&format!("{url}/{evidence_id}")).bearer(app.token(Role::Auditor)))
        .await
        .assert_status(StatusCode::FORBIDDEN);
    app.send(Req::delete(&format!("{url}/{evidence_id}")).bearer(&responder))
        .await
        .assert_status(StatusCode::NO_CONTENT);
    app.send(Req::get(&dl).bearer(&responder)).await.assert_status(StatusCode::NOT_FOUND);
    assert_eq!(app.send(Req::get(&url).bearer(&responder)).await.json().as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn the_page_uploads_with_the_csrf_token_in_the_action() {
    let app = App::new().await;
    let id = open_incident(&app, app.token(Role::Analyst), "页面上传").await;
    let s = app.login("admin", &app.admin_password.clone()).await;
    let page = app.send(Req::get(&format!("/incidents/{id}")).session(&s)).await;
    page.assert_status(StatusCode::OK);
    let html = page.text();
    assert!(html.contains(&format!("/incidents/{id}/evidence?_csrf={}", s.csrf)), "upload form carries the token");

    let (ct, body) = multipart(&[("description", "日志")], Some(("dns.log", b"query evil.example\n")));
    let r = app.send(Req::post(&format!("/incidents/{id}/evidence")).session(&s).raw(&ct, body.clone())).await;
    r.assert_status(StatusCode::FORBIDDEN);
    let r = app.send(Req::post(&format!("/incidents/{id}/evidence?_csrf={}", s.csrf)).session(&s).raw(&ct, body)).await;
    r.assert_status(StatusCode::SEE_OTHER);
    assert!(r.location().unwrap().starts_with(&format!("/incidents/{id}?ok=")), "{:?}", r.location());
    let html = app.send(Req::get(&format!("/incidents/{id}")).session(&s)).await.text();
    assert!(html.contains("dns.log") && html.contains(">text<"), "listed with its type");
}

#[tokio::test]
async fn observables_are_checked_looked_up_and_published_by_intel_managers_only() {
    let app = App::new().await;
    let responder = app.token(Role::Responder).to_owned();
    let analyst = app.token(Role::Analyst).to_owned();
    let id = open_incident(&app, &responder, "C2 外联").await;
    let url = format!("/api/v1/incidents/{id}/observables");

    let r = app.send(Req::post(&url).bearer(&responder).json(&json!({ "kind": "cidr", "value": "10.1.2.3/8" }))).await;
    assert_eq!((r.status, r.error_field().as_deref()), (StatusCode::UNPROCESSABLE_ENTITY, Some("value")));
    assert!(r.json()["error"].as_str().unwrap().contains("10.0.0.0/8"), "{}", r.text());
    let r =
        app.send(Req::post(&url).bearer(&responder).json(&json!({ "kind": "hostname", "value": "a.example" }))).await;
    assert_eq!((r.status, r.error_field().as_deref()), (StatusCode::UNPROCESSABLE_ENTITY, Some("kind")));

    let r = app
        .send(
            Req::post(&url)
                .bearer(&responder)
                .json(&json!({ "kind": "domain", "value": "C2.Evil.example", "note": "beacon" })),
        )
        .await;
    r.assert_status(StatusCode::CREATED);
    let o = r.json();
    assert_eq!(
        (o["value"].as_str(), o["ioc"].as_bool(), o["indicator_id"].clone()),
        (Some("c2.evil.example"), Some(true), Value::Null)
    );
    let oid = o["id"].as_i64().unwrap();
    app.send(Req::post(&url).bearer(&responder).json(&json!({ "kind": "domain", "value": "c2.evil.example" })))
        .await
        .assert_status(StatusCode::CONFLICT);

    // Not known to the intel store yet.
    let lookup = format!("{url}/{oid}/lookup");
    let v = app.send(Req::get(&lookup).bearer(app.token(Role::Regulator))).await.json();
    assert_eq!((v["kind"].as_str(), v["matched"].as_bool()), (Some("domain"), Some(false)), "{v}");

    // A responder may not publish; an analyst may.
    let publish = format!("{url}/{oid}/publish");
    let body = json!({ "category": "botnet_cc", "tlp": "green", "confidence": 70 });
    let before = app.counts().await;
    let r = app.send(Req::post(&publish).bearer(&responder).json(&body)).await;
    r.assert_status(StatusCode::FORBIDDEN);
    assert_eq!(app.counts().await, before);
    let r = app.send(Req::post(&publish).bearer(&analyst).json(&json!({ "category": "nonsense" }))).await;
    assert_eq!((r.status, r.error_field().as_deref()), (StatusCode::UNPROCESSABLE_ENTITY, Some("category")));
    let r = app.send(Req::post(&publish).bearer(&analyst).json(&body)).await;
    r.assert_status(StatusCode::OK);
    let indicator_id = r.json()["indicator_id"].as_i64().expect("published observables name their indicator");

    // Now the lookup finds it, from source "incident #N", and so does the intel lookup.
    let v = app.send(Req::get(&lookup).bearer(&responder)).await.json();
    assert_eq!(v["matched"], true, "{v}");
    let hit = &v["hits"][0]["indicators"][0];
    assert_eq!(
        (hit["id"].as_i64(), hit["category"].as_str(), hit["confidence"].as_i64()),
        (Some(indicator_id), Some("botnet_cc"), Some(70))
    );
    assert_eq!(hit["source_names"], json!([format!("incident #{id}")]));
    let v = app.send(Req::get("/api/v1/intel/lookup?value=c2.evil.example").bearer(&responder)).await.json();
    assert_eq!(v["results"][0]["matched"], true);
    let listed = app.send(Req::get(&url).bearer(&responder)).await.json();
    assert_eq!(listed[0]["indicator_id"], indicator_id);
    assert_eq!(listed[0]["published_by"], "token:analyst-bot");

    app.send(Req::delete(&format!("{url}/{oid}")).bearer(&responder)).await.assert_status(StatusCode::NO_CONTENT);
    app.send(Req::get(&lookup).bearer(&responder)).await.assert_status(StatusCode::NOT_FOUND);
    // The indicator stays: it is intelligence now.
    app.send(Req::get(&format!("/api/v1/intel/indicators/{indicator_id}")).bearer(&responder))
        .await
        .assert_status(StatusCode::OK);
}

#[tokio::test]
async fn the_page_publishes_and_shows_the_lookup_inline() {
    let app = App::new().await;
    let id = open_incident(&app, app.token(Role::Analyst), "页面发布").await;
    let s = app.login("admin", &app.admin_password.clone()).await;
    let form = |fields: &[(&str, &str)]| {
        let mut f: Vec<(&str, &str)> = fields.to_vec();
        f.push(("_csrf", s.csrf.as_str()));
        f.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect::<Vec<(String, String)>>()
    };
    let post = |path: String, fields: Vec<(String, String)>| {
        let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        Req::post(&path).session(&s).form(&refs)
    };
    let r =
        app.send(post(format!("/incidents/{id}/observables"), form(&[("kind", "ipv4"), ("value", "999.1.1.1")]))).await;
    assert!(r.location().unwrap().contains("error="), "{:?}", r.location());
    let r = app
        .send(post(
            format!("/incidents/{id}/observables"),
            form(&[("kind", "ipv4"), ("value", "203.0.113.66"), ("ioc", "1")]),
        ))
        .await;
    assert!(r.location().unwrap().contains("ok="), "{:?}", r.location());
    let oid = app.store.incident_observables(id).await.unwrap()[0].id;
    let r = app
        .send(post(
            format!("/incidents/{id}/observables/{oid}/publish"),
            form(&[("category", "scanner"), ("tlp", "amber"), ("confidence", "60")]),
        ))
        .await;
    assert!(r.location().unwrap().contains("ok="), "{:?}", r.location());
    let html = app.send(Req::get(&format!("/incidents/{id}?lookup={oid}")).session(&s)).await.text();
    assert!(html.contains("id=\"observable-lookup-result\""), "the lookup shows inline");
    assert!(html.contains("data-result=\"matched\""), "and finds the published indicator");
    assert!(html.contains(&format!("incident #{id}")), "with its source");
}
