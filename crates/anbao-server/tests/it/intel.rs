//! Threat intelligence over HTTP: background imports (uploads and URLs)
//! with their run records and rejects, lookups through the live index
//! (exact, parent domain, covering network, URL prefix, allowlisted),
//! indicator search and provenance, allowlists, exports in every format,
//! and the pages. Who may call what is the matrix's (`matrix.rs`).

use std::io::Write as _;
use std::time::Duration;

use anbao_intel::{Category, Indicator, IndicatorKind};
use anbao_model::Role;
use anbao_store::{Actor, ImportTotals};
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::harness::{App, PASSWORD, Req, Resp, hidden_field};

const BOUNDARY: &str = "anbao-test-boundary-7d1e";

/// A multipart/form-data body with text `fields` and an optional file.
pub fn multipart(fields: &[(&str, &str)], file: Option<(&str, &[u8])>) -> (String, Vec<u8>) {
    let mut body = Vec::new();
    for (name, value) in fields {
        write!(body, "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").unwrap();
    }
    if let Some((name, bytes)) = file {
        write!(
            body,
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .unwrap();
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    write!(body, "--{BOUNDARY}--\r\n").unwrap();
    (format!("multipart/form-data; boundary={BOUNDARY}"), body)
}

async fn upload(app: &App, role: Role, fields: &[(&str, &str)], file: Option<(&str, &[u8])>) -> Resp {
    let (content_type, body) = multipart(fields, file);
    app.send(Req::post("/api/v1/intel/imports").bearer(app.token(role)).raw(&content_type, body)).await
}

/// Polls the run until it is no longer running.
async fn finished(app: &App, id: i64) -> Value {
    for _ in 0..1000 {
        let r = app.send(Req::get(&format!("/api/v1/intel/imports/{id}")).bearer(app.token(Role::Auditor))).await;
        r.assert_status(StatusCode::OK);
        let run = r.json();
        if run["status"] != "running" {
            return run;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("import {id} still running after 10 s");
}

/// Uploads `text` as `name` and waits for the run to end.
async fn import(app: &App, name: &str, text: &str, fields: &[(&str, &str)]) -> Value {
    let r = upload(app, Role::Analyst, fields, Some((name, text.as_bytes()))).await;
    r.assert_status(StatusCode::ACCEPTED);
    let id = r.json()["import_id"].as_i64().expect("import_id");
    finished(app, id).await
}

async fn get(app: &App, path: &str) -> Resp {
    app.send(Req::get(path).bearer(app.token(Role::Regulator))).await
}

async fn lookup(app: &App, values: &[&str]) -> Vec<Value> {
    let query: Vec<(&str, &str)> = values.iter().map(|v| ("value", *v)).collect();
    let r = get(app, &format!("/api/v1/intel/lookup?{}", serde_urlencoded::to_string(&query).unwrap())).await;
    r.assert_status(StatusCode::OK);
    r.json()["results"].as_array().expect("results").clone()
}

/// The `match` of each hit of a lookup result.
fn matches(result: &Value) -> Vec<String> {
    result["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .map(|h| h["match"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[track_caller]
fn assert_field(r: &Resp, status: StatusCode, field: &str) {
    r.assert_status(status);
    assert_eq!(r.error_field().as_deref(), Some(field), "{r:?}");
}

const FEED: &str = "# botnet C&C feed\nevil.example\n198.51.100.0/24\nhttp://bad.example/kit/\n\
                    44d88612fea8a8f36de82e1278abb02f\n203.0.113.9\n";

#[tokio::test]
async fn an_uploaded_feed_imports_in_the_background_and_answers_lookups() {
    let app = App::new().await;
    let run = import(&app, "c2-feed.txt", FEED, &[("category", "botnet_cc"), ("format", "list")]).await;
    assert_eq!(run["status"], "done", "{run}");
    assert_eq!(
        (run["accepted"].as_u64(), run["rejected"].as_u64(), run["unreadable"].as_u64()),
        (Some(5), Some(0), Some(0))
    );
    assert_eq!(run["source"], "c2-feed", "the source defaults to the file name");
    assert_eq!(run["inputs"], "c2-feed.txt");
    assert_eq!(run["format"], "list");
    let runs = get(&app, "/api/v1/intel/imports").await.json();
    assert_eq!(runs[0]["id"], run["id"], "{runs}");
    assert!(runs[0].get("unreadable").is_none(), "lists leave out what needs the rejects");
    assert_eq!(app.audit_with_action("intel.import").await.len(), 1, "one audit entry per import");

    let results = lookup(
        &app,
        &[
            "www.evil.example",
            "evil.example",
            "198.51.100.77",
            "http://bad.example/kit/panel.php",
            "notevil.example",
            "not a value",
            "44D88612FEA8A8F36DE82E1278ABB02F",
        ],
    )
    .await;
    assert_eq!(results.len(), 7);
    assert_eq!(matches(&results[0]), ["parent_domain"], "{}", results[0]);
    assert_eq!(results[0]["hits"][0]["listed"], "evil.example");
    assert_eq!(results[0]["kind"], "domain");
    assert_eq!(results[0]["matched"], true);
    let indicator = &results[0]["hits"][0]["indicators"][0];
    assert_eq!(
        (indicator["value"].as_str(), indicator["category"].as_str()),
        (Some("evil.example"), Some("botnet_cc"))
    );
    assert_eq!(indicator["source_names"], json!(["c2-feed"]));
    assert_eq!(matches(&results[1]), ["exact"]);
    assert_eq!(matches(&results[2]), ["covering_cidr"]);
    assert_eq!(results[2]["hits"][0]["listed"], "198.51.100.0/24");
    assert_eq!(matches(&results[3]), ["url_prefix"]);
    assert_eq!((results[4]["matched"].as_bool(), matches(&results[4]).len()), (Some(false), 0));
    assert_eq!((results[5]["kind"].as_str(), results[5]["matched"].as_bool()), (None, Some(false)));
    assert_eq!(matches(&results[6]), ["exact"], "hashes in any case");

    // Lookups take 1 to 1000 values and nothing else.
    let many: String = (0..1001).map(|i| format!("value=h{i}.example")).collect::<Vec<_>>().join("&");
    assert_field(&get(&app, &format!("/api/v1/intel/lookup?{many}")).await, StatusCode::BAD_REQUEST, "value");
    let thousand: String = (0..1000).map(|i| format!("value=h{i}.evil.example")).collect::<Vec<_>>().join("&");
    let r = get(&app, &format!("/api/v1/intel/lookup?{thousand}")).await;
    r.assert_status(StatusCode::OK);
    assert_eq!(r.json()["results"].as_array().map(Vec::len), Some(1000));
    assert_field(&get(&app, "/api/v1/intel/lookup").await, StatusCode::BAD_REQUEST, "value");
    assert_field(&get(&app, "/api/v1/intel/lookup?value=").await, StatusCode::BAD_REQUEST, "value");
    assert_field(&get(&app, "/api/v1/intel/lookup?value=a.example&kind=domain").await, StatusCode::BAD_REQUEST, "kind");
}

#[tokio::test]
async fn indicators_are_searched_paged_read_and_deleted() {
    let app = App::new().await;
    import(&app, "c2.txt", FEED, &[("category", "botnet_cc")]).await;
    import(
        &app,
        "phish.txt",
        "login-bank.example\nevil.example\n",
        &[("category", "phishing"), ("source", "反钓鱼联盟")],
    )
    .await;

    let items = |r: Resp| -> Vec<String> {
        r.assert_status(StatusCode::OK);
        r.json()["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| i["value"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    let all = items(get(&app, "/api/v1/intel/indicators").await);
    assert_eq!(all.len(), 6, "{all:?}");
    assert_eq!(all[0], "login-bank.example", "newest first");
    assert_eq!(items(get(&app, "/api/v1/intel/indicators?kind=domain").await), ["login-bank.example", "evil.example"]);
    // The newest of equally confident sources gives the category.
    assert_eq!(
        items(get(&app, "/api/v1/intel/indicators?category=phishing").await),
        ["login-bank.example", "evil.example"]
    );
    assert_eq!(items(get(&app, "/api/v1/intel/indicators?q=BANK").await), ["login-bank.example"]);
    let source = "/api/v1/intel/indicators?source=%E5%8F%8D%E9%92%93%E9%B1%BC%E8%81%94%E7%9B%9F";
    assert_eq!(items(get(&app, source).await), ["login-bank.example", "evil.example"]);
    assert_eq!(items(get(&app, "/api/v1/intel/indicators?valid=true&kind=cidr").await), ["198.51.100.0/24"]);

    // Keyset pages.
    let mut seen = Vec::new();
    let mut path = "/api/v1/intel/indicators?limit=4".to_owned();
    loop {
        let page = get(&app, &path).await.json();
        seen.extend(page["items"].as_array().expect("items").iter().map(|i| i["value"].clone()));
        match page["next_before"].as_i64() {
            Some(b) => path = format!("/api/v1/intel/indicators?limit=4&before={b}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 6, "two pages, nothing twice: {seen:?}");

    assert_field(&get(&app, "/api/v1/intel/indicators?kind=hostname").await, StatusCode::BAD_REQUEST, "kind");
    assert_field(&get(&app, "/api/v1/intel/indicators?category=evil").await, StatusCode::BAD_REQUEST, "category");
    assert_field(&get(&app, "/api/v1/intel/indicators?valid=maybe").await, StatusCode::BAD_REQUEST, "valid");
    assert_field(&get(&app, "/api/v1/intel/indicators?colour=red").await, StatusCode::BAD_REQUEST, "colour");

    // One indicator, stated by two sources.
    let evil = app.store.intel_indicator_by_value(IndicatorKind::Domain, "evil.example").await.unwrap().unwrap();
    let detail = get(&app, &format!("/api/v1/intel/indicators/{}", evil.id)).await;
    detail.assert_status(StatusCode::OK);
    let detail = detail.json();
    assert_eq!((detail["value"].as_str(), detail["sources"].as_i64()), (Some("evil.example"), Some(2)));
    let sources: Vec<&str> =
        detail["provenance"].as_array().expect("provenance").iter().filter_map(|p| p["source"].as_str()).collect();
    assert_eq!(sources.len(), 2);
    assert!(sources.contains(&"c2") && sources.contains(&"反钓鱼联盟"), "{sources:?}");
    assert!(detail["provenance"][0]["import_id"].is_i64());
    get(&app, "/api/v1/intel/indicators/999999").await.assert_status(StatusCode::NOT_FOUND);
    get(&app, "/api/v1/intel/indicators/x").await.assert_status(StatusCode::BAD_REQUEST);

    // Deleted, it matches no more.
    let path = format!("/api/v1/intel/indicators/{}", evil.id);
    app.send(Req::delete(&path).bearer(app.token(Role::Analyst))).await.assert_status(StatusCode::NO_CONTENT);
    app.send(Req::delete(&path).bearer(app.token(Role::Analyst))).await.assert_status(StatusCode::NOT_FOUND);
    get(&app, &path).await.assert_status(StatusCode::NOT_FOUND);
    let results = lookup(&app, &["evil.example"]).await;
    assert_eq!(results[0]["matched"], false, "{}", results[0]);
    assert_eq!(app.audit_with_action("intel.indicator.delete").await.len(), 1);

    let stats = get(&app, "/api/v1/intel/stats").await;
    stats.assert_status(StatusCode::OK);
    let stats = stats.json();
    assert_eq!(stats["total"], 5, "{stats}");
    assert_eq!(
        (stats["by_category"]["botnet_cc"].as_i64(), stats["by_category"]["phishing"].as_i64()),
        (Some(4), Some(1))
    );
    assert_eq!(stats["by_kind"]["domain"], 1);
    assert_eq!(stats["index"]["generation"], stats["index"]["store_generation"], "the lookup refreshed the index");
    assert_eq!(stats["index"]["indicators"], 5);
    assert!(stats["index"]["heap_bytes"].as_u64() > Some(0));
}

#[tokio::test]
async fn rejects_are_kept_and_downloaded_as_csv_safe_for_spreadsheets() {
    let app = App::new().await;
    let text = "good.example\n=HYPERLINK(\"http://x\")\n-bad-.example\n999.1.1.1\n";
    let run = import(&app, "mixed.txt", text, &[]).await;
    assert_eq!(
        (run["status"].as_str(), run["accepted"].as_u64(), run["rejected"].as_u64()),
        (Some("done"), Some(1), Some(3)),
        "{run}"
    );
    assert_eq!(run["kept_rejects"], 3);
    let id = run["id"].as_i64().unwrap();
    let r = get(&app, &format!("/api/v1/intel/imports/{id}/rejects.csv")).await;
    r.assert_status(StatusCode::OK);
    assert_eq!(r.content_type(), "text/csv; charset=utf-8");
    assert_eq!(
        r.header("content-disposition"),
        Some(format!("attachment; filename=\"anbao-import-{id}-rejects.csv\"").as_str())
    );
    let text = r.text();
    let text = text.strip_prefix('\u{feff}').expect("a BOM, for spreadsheets");
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("location,value,reason"));
    let rows: Vec<csv::StringRecord> =
        csv::Reader::from_reader(text.as_bytes()).records().collect::<Result<_, _>>().expect("valid CSV");
    assert_eq!(rows.len(), 3);
    assert!(rows[0][0].ends_with("mixed.txt: line 2"), "{:?}", rows[0]);
    assert!(rows[0][1].starts_with("'="), "a formula is guarded: {:?}", rows[0]);
    assert!(rows[1][1].starts_with("'-"), "so is a leading minus: {:?}", rows[1]);
    assert!(!rows[2][2].is_empty(), "every reject says why");

    get(&app, "/api/v1/intel/imports/999999").await.assert_status(StatusCode::NOT_FOUND);
    get(&app, "/api/v1/intel/imports/999999/rejects.csv").await.assert_status(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_file_that_is_no_feed_ends_with_an_unreadable_document() {
    let app = App::new().await;
    // Gzip magic, then no gzip stream.
    let r = upload(&app, Role::Analyst, &[], Some(("feed.txt.gz", b"\x1f\x8b\x08\x00garbage, not deflate".as_slice())))
        .await;
    r.assert_status(StatusCode::ACCEPTED);
    let run = finished(&app, r.json()["import_id"].as_i64().unwrap()).await;
    assert_eq!(run["status"], "done", "{run}");
    assert_eq!((run["accepted"].as_u64(), run["unreadable"].as_u64()), (Some(0), Some(1)), "{run}");
    let id = run["id"].as_i64().unwrap();
    let csv = get(&app, &format!("/api/v1/intel/imports/{id}/rejects.csv")).await.text();
    assert!(csv.contains("feed.txt.gz,,unreadable document: "), "{csv}");

    let run = import(&app, "report.json", "{\"type\": \"bundle\", \"objects\": [", &[]).await;
    assert_eq!((run["status"].as_str(), run["unreadable"].as_u64()), (Some("done"), Some(1)), "{run}");
}

#[tokio::test]
async fn imports_refuse_what_they_cannot_read_naming_the_field() {
    let app = App::new().await;
    let file = Some(("f.txt", b"a.example\n".as_slice()));
    assert_field(
        &upload(&app, Role::Analyst, &[("format", "list")], None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "file",
    );
    assert_field(
        &upload(&app, Role::Analyst, &[], Some(("f.txt", b"".as_slice()))).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "file",
    );
    assert_field(
        &upload(&app, Role::Analyst, &[("format", "yaml")], file).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "format",
    );
    assert_field(
        &upload(&app, Role::Analyst, &[("category", "evil")], file).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "category",
    );
    assert_field(
        &upload(&app, Role::Analyst, &[("format", "csv")], file).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "value_column",
    );
    assert_field(
        &upload(&app, Role::Analyst, &[("colour", "red")], file).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "colour",
    );
    let long = "s".repeat(300);
    assert_field(
        &upload(&app, Role::Analyst, &[("source", &long)], file).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "source",
    );
    let r = app
        .send(Req::post("/api/v1/intel/imports").bearer(app.token(Role::Analyst)).raw("text/plain", "a.example\n"))
        .await;
    r.assert_status(StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let post = |role: Role, body: Value| Req::post("/api/v1/intel/imports").bearer(app.token(role)).json(&body);
    assert_field(
        &app.send(post(Role::Admin, json!({"format": "list"}))).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "url",
    );
    assert_field(
        &app.send(post(Role::Admin, json!({"url": "http://x", "extra": 1}))).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "extra",
    );
    assert!(app.store.intel_import_runs(10).await.unwrap().is_empty(), "no run recorded for a refused request");

    // CSV with a value column works.
    let csv = "id,url,added\n1,http://dl.example/x.apk,2026-01-01\n";
    let run =
        import(&app, "urlhaus.csv", csv, &[("format", "csv"), ("value_column", "url"), ("category", "mobile_malware")])
            .await;
    assert_eq!((run["status"].as_str(), run["accepted"].as_u64()), (Some("done"), Some(1)), "{run}");
}

/// Serves `body` to every connection, for URL imports.
fn serve(body: &'static [u8]) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(4) {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = std::io::Read::read(&mut stream, &mut buf);
            let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(body);
        }
    });
    format!("http://{addr}/feed.txt")
}

#[tokio::test]
async fn only_admins_import_from_urls_and_only_plain_http_urls() {
    let app = App::new().await;
    let url = serve(b"0.0.0.0 c2-one.example\n0.0.0.0 c2-two.example\n");
    let post = |role: Role, body: Value| Req::post("/api/v1/intel/imports").bearer(app.token(role)).json(&body);

    let r = app.send(post(Role::Analyst, json!({"url": url}))).await;
    r.assert_status(StatusCode::FORBIDDEN);
    assert!(r.json()["error"].as_str().is_some_and(|e| e.contains("admin")), "{r:?}");
    for bad in [
        "ftp://example.com/feed.txt",
        "file:///etc/passwd",
        "http://",
        "http://user:secret@example.com/f.txt",
        "http://exa mple.com/",
    ] {
        assert_field(&app.send(post(Role::Admin, json!({"url": bad}))).await, StatusCode::UNPROCESSABLE_ENTITY, "url");
    }

    let r = app.send(post(Role::Admin, json!({"url": url, "category": "botnet_cc"}))).await;
    r.assert_status(StatusCode::ACCEPTED);
    let run = finished(&app, r.json()["import_id"].as_i64().unwrap()).await;
    assert_eq!((run["status"].as_str(), run["accepted"].as_u64()), (Some("done"), Some(2)), "{run}");
    assert_eq!((run["source"].as_str(), run["inputs"].as_str()), (Some("127.0.0.1"), Some(url.as_str())));
    let results = lookup(&app, &["c2-two.example"]).await;
    assert_eq!(results[0]["hits"][0]["indicators"][0]["category"], "botnet_cc");
}

#[tokio::test]
async fn allowlists_keep_values_from_matching_and_from_exports() {
    let app = App::new().await;
    import(&app, "c2.txt", FEED, &[("category", "botnet_cc")]).await;
    let admin = app.token(Role::Admin).to_owned();
    let save = |query: &str, body: String| {
        Req::post(&format!("/api/v1/intel/allowlists{query}")).bearer(&admin).raw("application/json", body)
    };

    let r = app
        .send(save(
            "",
            json!({"name": "our domains", "list_type": "hostname", "entries": ["evil.example"], "description": "ours"})
                .to_string(),
        ))
        .await;
    r.assert_status(StatusCode::CREATED);
    let saved = r.json();
    assert_eq!((saved["list_type"].as_str(), saved["enabled"].as_bool()), (Some("hostname"), Some(true)));
    assert_eq!(saved["bad_entries"], json!([]));
    let list_id = saved["id"].as_i64().unwrap();

    let results = lookup(&app, &["www.evil.example", "198.51.100.1"]).await;
    assert_eq!(
        (results[0]["allowlisted"].as_bool(), results[0]["matched"].as_bool()),
        (Some(true), Some(false)),
        "{}",
        results[0]
    );
    assert_eq!(results[0]["allowed_by"], json!({"list": "our domains", "entry": "evil.example"}));
    assert_eq!(results[1]["matched"], true, "other values still match");

    let export = |query: &str| {
        let path = format!("/api/v1/intel/export?format=list{query}");
        let app = &app;
        async move { get(app, &path).await }
    };
    let text = export("").await.text();
    assert!(!text.contains("evil.example") && text.contains("198.51.100.0/24"), "{text}");
    let r = export("&include_allowlisted=true").await;
    assert!(r.text().contains("evil.example"));

    // A MISP warninglist as it is published.
    let warninglist = json!({"name": "RFC 5737 documentation networks", "version": 3, "description": "TEST-NET",
        "type": "cidr", "list": ["198.51.100.0/24", "not-a-network"], "matching_attributes": ["ip-dst"]});
    let r = app.send(save("?warninglist=1", warninglist.to_string())).await;
    r.assert_status(StatusCode::CREATED);
    let saved = r.json();
    assert_eq!(saved["list_type"], "cidr");
    assert_eq!(saved["bad_entries"][0]["entry"], "not-a-network", "{saved}");
    assert_eq!(lookup(&app, &["198.51.100.1"]).await[0]["allowlisted"], true);

    let lists = get(&app, "/api/v1/intel/allowlists").await.json();
    assert_eq!(lists.as_array().map(Vec::len), Some(2), "{lists}");

    assert_field(
        &app.send(save("", json!({"name": "x", "list_type": "glob", "entries": []}).to_string())).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "list_type",
    );
    assert_field(
        &app.send(save("", json!({"name": "x", "entries": [], "colour": 1}).to_string())).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "colour",
    );
    assert_field(
        &app.send(save("", json!({"name": "", "entries": []}).to_string())).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "name",
    );
    assert_field(
        &app.send(save("?warninglist=1", "{\"list\": []}".into())).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "body",
    );
    assert_field(&app.send(save("?warninglist=maybe", "{}".into())).await, StatusCode::BAD_REQUEST, "warninglist");

    let path = format!("/api/v1/intel/allowlists/{list_id}");
    app.send(Req::delete(&path).bearer(&admin)).await.assert_status(StatusCode::NO_CONTENT);
    app.send(Req::delete(&path).bearer(&admin)).await.assert_status(StatusCode::NOT_FOUND);
    assert_eq!(lookup(&app, &["www.evil.example"]).await[0]["matched"], true, "the list is gone");
    assert_eq!(app.audit_with_action("intel.allowlist.delete").await.len(), 1);
}

#[tokio::test]
async fn exports_come_in_each_format_with_its_media_type() {
    let app = App::new().await;
    import(&app, "c2.txt", FEED, &[("category", "botnet_cc")]).await;
    for (format, media_type, file_name, shows) in [
        ("stix", "application/stix+json;version=2.1", "anbao-indicators.json", "[domain-name:value = 'evil.example']"),
        ("csv", "text/csv; charset=utf-8", "anbao-indicators.csv", "evil.example"),
        ("list", "text/plain; charset=utf-8", "anbao-indicators.txt", "evil.example"),
        ("rpz", "text/plain; charset=utf-8", "rpz.anbao.zone", "evil.example CNAME ."),
        ("unbound", "text/plain; charset=utf-8", "anbao-local-zones.conf", "local-zone: \"evil.example.\""),
    ] {
        let r = get(&app, &format!("/api/v1/intel/export?format={format}")).await;
        r.assert_status(StatusCode::OK);
        assert_eq!(r.content_type(), media_type, "{format}");
        assert_eq!(r.header("content-disposition"), Some(format!("attachment; filename=\"{file_name}\"").as_str()));
        assert!(r.text().contains(shows), "{format} export shows {shows}:\n{}", r.text());
        assert!(r.header("x-anbao-written").is_some_and(|n| n != "0"), "{format}");
    }
    let r = get(&app, "/api/v1/intel/export?format=list&kind=cidr").await;
    assert_eq!(
        r.text().lines().filter(|l| !l.starts_with('#') && !l.is_empty()).collect::<Vec<_>>(),
        ["198.51.100.0/24"]
    );
    let r = get(&app, "/api/v1/intel/export?format=rpz&sinkhole=192.0.2.1").await;
    assert!(r.text().contains("192.0.2.1"), "{}", r.text());
    assert_eq!(app.audit_with_action("intel.export").await.len(), 7, "exports are audited");

    assert_field(&get(&app, "/api/v1/intel/export").await, StatusCode::BAD_REQUEST, "format");
    assert_field(&get(&app, "/api/v1/intel/export?format=pdf").await, StatusCode::BAD_REQUEST, "format");
    assert_field(&get(&app, "/api/v1/intel/export?format=csv&kind=host").await, StatusCode::BAD_REQUEST, "kind");
    assert_field(&get(&app, "/api/v1/intel/export?format=csv&category=x").await, StatusCode::BAD_REQUEST, "category");
    assert_field(
        &get(&app, "/api/v1/intel/export?format=rpz&sinkhole=nowhere").await,
        StatusCode::BAD_REQUEST,
        "sinkhole",
    );
}

#[tokio::test]
async fn intel_pages_search_look_up_import_and_keep_allowlists() {
    let app = App::new().await;
    app.make_user("intel.analyst", Role::Analyst, app.root, Vec::new()).await;
    let s = app.login("intel.analyst", PASSWORD).await;
    let page = |path: &str| {
        let req = Req::get(path).session(&s);
        let app = &app;
        async move {
            let r = app.send(req).await;
            r.assert_status(StatusCode::OK);
            assert!(r.content_type().starts_with("text/html"), "{r:?}");
            r.text()
        }
    };

    // Upload through the form: straight to the run page.
    let form = page("/intel/import").await;
    assert!(form.contains("id=\"intel-import\""), "an analyst gets the upload form");
    assert!(form.contains(&format!("action=\"/intel/import?_csrf={}\"", s.csrf)));
    let (content_type, body) = multipart(
        &[("format", "auto"), ("category", "phishing"), ("source", "")],
        Some(("phish.txt", b"<b>x</b>.example\nlogin-bank.example\n")),
    );
    let r = app
        .send(Req::post(&format!("/intel/import?_csrf={}", s.csrf)).session(&s).raw(&content_type, body.clone()))
        .await;
    r.assert_status(StatusCode::SEE_OTHER);
    let run_path = r.location().expect("to the run page").to_owned();
    assert!(run_path.starts_with("/intel/imports/"), "{run_path}");
    let id: i64 = run_path.rsplit('/').next().unwrap().parse().unwrap();
    finished(&app, id).await;
    let run = page(&run_path).await;
    assert!(run.contains("data-status=\"done\"") && run.contains("id=\"rejects-csv\""), "{run}");
    assert!(run.contains("id=\"run-accepted\">1<"), "one accepted, one rejected");
    let without = app.send(Req::post("/intel/import").session(&s).raw(&content_type, body)).await;
    without.assert_status(StatusCode::FORBIDDEN);

    // Search, detail, lookup.
    let list = page("/intel?q=bank&kind=&category=&source=&valid=true").await;
    assert!(list.contains("login-bank.example") && list.contains("<svg"), "the list and the chart");
    let indicator =
        app.store.intel_indicator_by_value(IndicatorKind::Domain, "login-bank.example").await.unwrap().unwrap();
    assert!(list.contains(&format!("href=\"/intel/indicators/{}\"", indicator.id)));
    let detail = page(&format!("/intel/indicators/{}", indicator.id)).await;
    assert!(
        detail.contains("id=\"provenance\"") && detail.contains("phish") && detail.contains("id=\"delete-indicator\"")
    );
    let looked = page("/intel?lookup=www.login-bank.example%0Agood.example%0A%3Cscript%3E").await;
    assert!(looked.contains("data-result=\"matched\"") && looked.contains("data-match=\"parent_domain\""), "{looked}");
    assert!(looked.contains("data-result=\"none\""));
    assert!(!looked.contains("<script>") && looked.contains("&lt;script&gt;"), "values are escaped");
    let bad = page("/intel?kind=hostname").await;
    assert!(bad.contains("flash error"), "a bad filter is said, not a failure");

    // Allowlists.
    let lists = page("/intel/allowlists").await;
    let csrf = hidden_field(&lists, "_csrf").expect("the allowlist form");
    let save = Req::post("/intel/allowlists").session(&s).form(&[
        ("_csrf", csrf.as_str()),
        ("name", "ours"),
        ("list_type", "hostname"),
        ("description", ""),
        ("enabled", "true"),
        ("entries", "login-bank.example\r\nexample.org"),
    ]);
    let r = app.send(save).await;
    r.assert_status(StatusCode::SEE_OTHER);
    assert!(r.location().is_some_and(|l| l.starts_with("/intel/allowlists?ok=")), "{r:?}");
    let looked = page("/intel?lookup=www.login-bank.example").await;
    assert!(looked.contains("data-result=\"allowlisted\""), "{looked}");
    let list_id = app.store.intel_allowlists().await.unwrap()[0].id;
    let edit = page(&format!("/intel/allowlists?edit={list_id}")).await;
    assert!(edit.contains("login-bank.example\nexample.org</textarea>"), "the form is filled for editing");
    let r = app
        .send(Req::post(&format!("/intel/allowlists/{list_id}/delete")).session(&s).form(&[("_csrf", csrf.as_str())]))
        .await;
    r.assert_status(StatusCode::SEE_OTHER);
    assert!(app.store.intel_allowlists().await.unwrap().is_empty());

    // Deleting from the page.
    let r = app
        .send(
            Req::post(&format!("/intel/indicators/{}/delete", indicator.id))
                .session(&s)
                .form(&[("_csrf", csrf.as_str())]),
        )
        .await;
    r.assert_status(StatusCode::SEE_OTHER);
    assert!(app.store.intel_indicator(indicator.id).await.is_err());

    let export = page("/intel/export").await;
    assert!(export.contains("action=\"/api/v1/intel/export\""));
    let nav = page("/").await;
    assert!(nav.contains("href=\"/intel\""), "the navigation links the intel pages");

    // Readers see no forms that change anything.
    let r = app.send(Req::get("/intel/import").bearer(app.token(Role::Auditor))).await;
    assert!(!r.text().contains("id=\"intel-import\""));
    let r = app.send(Req::get("/intel/allowlists").bearer(app.token(Role::Regulator))).await;
    assert!(!r.text().contains("id=\"allowlist-form\""));
}

/// Objects the route matrix (`matrix.rs`) puts in place of path parameters.
pub struct IntelFixture {
    indicator: i64,
    indicator_for_api_delete: i64,
    indicator_for_page_delete: i64,
    import: i64,
    allowlist_for_api_delete: i64,
    allowlist_for_page_delete: i64,
    /// Samples, sources and TAXII collections (`intel_more.rs`).
    pub more: crate::intel_more::MoreFixture,
}

impl IntelFixture {
    pub async fn new(app: &App) -> IntelFixture {
        let store = &app.store;
        let actor = Actor::system();
        let import = store.intel_import_begin(&actor, "matrix", "list", "matrix.txt").await.expect("begin");
        let values = ["matrix-keep.example", "matrix-api.example", "matrix-page.example"];
        let indicators = values.iter().map(|v| Indicator::new(IndicatorKind::Domain, *v)).collect();
        store.intel_import_chunk(import, "matrix", Category::BotnetCc, indicators, &[]).await.expect("chunk");
        let totals = ImportTotals { accepted: 3, ..ImportTotals::default() };
        store.intel_import_finish(&actor, import, &totals, &[], None).await.expect("finish");
        let mut ids = Vec::new();
        for v in values {
            ids.push(store.intel_indicator_by_value(IndicatorKind::Domain, v).await.expect("read").expect("stored").id);
        }
        let mut lists = Vec::new();
        for name in ["matrix-api", "matrix-page"] {
            let entries = vec![format!("{name}.example")];
            lists.push(store.intel_save_allowlist(&actor, name, "string", "", &entries, true).await.expect("list").id);
        }
        IntelFixture {
            indicator: ids[0],
            indicator_for_api_delete: ids[1],
            indicator_for_page_delete: ids[2],
            import,
            allowlist_for_api_delete: lists[0],
            allowlist_for_page_delete: lists[1],
            more: crate::intel_more::MoreFixture::new(app).await,
        }
    }

    /// The id for an intel route's `{id}`, if it is one.
    pub fn id_for(&self, method: &axum::http::Method, path: &str) -> Option<i64> {
        let delete = *method == axum::http::Method::DELETE;
        if path.contains("/intel/indicators/") {
            Some(if delete {
                self.indicator_for_api_delete
            } else if path.ends_with("/delete") {
                self.indicator_for_page_delete
            } else {
                self.indicator
            })
        } else if path.contains("/intel/imports/") {
            Some(self.import)
        } else if path.contains("/intel/allowlists/") {
            Some(if delete { self.allowlist_for_api_delete } else { self.allowlist_for_page_delete })
        } else {
            self.more.id_for(method, path)
        }
    }
}
