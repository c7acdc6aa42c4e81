//! The TAXII 2.1 server under `/taxii2/` and the JSON API managing its
//! collections: discovery and the API root, media-type negotiation (406,
//! 415), HTTP Basic and bearer tokens (401 with a Basic challenge),
//! collections visible per role, objects paged with `limit`/`next`/
//! `added_after` and the date-added headers, match filters, versions,
//! manifests, statuses, deletes where permitted, and hostile input that
//! must end as per-object failures or 4xx, never a 500.

use std::collections::HashSet;

use anbao_model::Role;
use anbao_server::{AppState, ServerConfig};
use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::harness::{App, PASSWORD, Req, Resp};

const TAXII: &str = "application/taxii+json;version=2.1";
const ROOT: &str = "/taxii2/api/";

fn base64(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(DIGITS[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A TAXII request with HTTP Basic: any user name, the token as password.
fn taxii_get(app: &App, role: Role, path: &str) -> Req {
    basic(Req::get(path), "taxii-client", app.token(role)).header("accept", TAXII)
}

fn basic(req: Req, user: &str, password: &str) -> Req {
    req.header("authorization", &format!("Basic {}", base64(format!("{user}:{password}").as_bytes())))
}

fn post_envelope(app: &App, role: Role, collection: &str, objects: &[Value]) -> Req {
    basic(Req::post(&format!("{ROOT}collections/{collection}/objects/")), "client", app.token(role))
        .header("accept", TAXII)
        .raw(TAXII, json!({ "objects": objects }).to_string())
}

#[track_caller]
fn assert_taxii(r: &Resp, status: StatusCode) -> Value {
    r.assert_status(status);
    assert_eq!(r.content_type(), TAXII, "{r:?}");
    if r.body.is_empty() { Value::Null } else { r.json() }
}

#[track_caller]
fn assert_taxii_error(r: &Resp, status: StatusCode) -> Value {
    let body = assert_taxii(r, status);
    assert!(body["title"].is_string(), "TAXII error messages have a title: {r:?}");
    assert_eq!(body["http_status"], status.as_u16().to_string(), "{r:?}");
    body
}

/// Creates a collection through the management API as the admin token.
async fn make_collection(app: &App, title: &str, alias: Option<&str>, can_read: &[&str], can_write: &[&str]) -> String {
    let body = json!({"title": title, "alias": alias, "can_read": can_read, "can_write": can_write,
                      "publish": {"categories": ["botnet_cc"], "max_tlp": "amber"}});
    let r = app.send(Req::post("/api/v1/taxii/collections").bearer(app.token(Role::Admin)).json(&body)).await;
    r.assert_status(StatusCode::CREATED);
    r.json()["id"].as_str().expect("collection id").to_owned()
}

/// An app with one collection analysts read and write and regulators read.
async fn with_feed() -> (App, String) {
    let app = App::new().await;
    let id = make_collection(&app, "C2 feed", Some("c2"), &["admin", "analyst", "regulator"], &["analyst"]).await;
    (app, id)
}

fn indicator(i: usize) -> Value {
    json!({
        "type": "indicator", "spec_version": "2.1",
        "id": format!("indicator--{i:08x}-0000-4000-8000-000000000000"),
        "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
        "pattern": format!("[domain-name:value = 'c2-{i}.example']"), "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00Z",
    })
}

const MALWARE: &str = "malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f";

fn malware(modified: &str) -> Value {
    json!({"type": "malware", "spec_version": "2.1", "id": MALWARE, "name": "Mirai", "is_family": true,
           "created": "2025-01-01T00:00:00.000Z", "modified": modified})
}

#[tokio::test]
async fn discovery_and_api_root_need_a_token_and_speak_taxii_2_1() {
    let app = App::new().await;
    let r = app.send(taxii_get(&app, Role::Regulator, "/taxii2/")).await;
    let discovery = assert_taxii(&r, StatusCode::OK);
    assert_eq!(discovery["api_roots"], json!([ROOT]));
    assert_eq!(discovery["default"], ROOT);
    assert!(discovery["title"].is_string());

    let root = assert_taxii(&app.send(taxii_get(&app, Role::Responder, ROOT)).await, StatusCode::OK);
    assert_eq!(root["versions"], json!([TAXII]));
    assert_eq!(root["max_content_length"], 10 * 1024 * 1024);

    // Bearer tokens work as well as Basic.
    let r = app.send(Req::get(ROOT).bearer(app.token(Role::Auditor)).header("accept", TAXII)).await;
    assert_taxii(&r, StatusCode::OK);

    for unauthenticated in [
        Req::get("/taxii2/"),
        basic(Req::get("/taxii2/"), "x", "anbao_not_a_token"),
        Req::get(ROOT).header("authorization", "Token abc"),
        Req::get(ROOT).header("authorization", "Basic %%%"),
        Req::get(&format!("{ROOT}collections/")),
    ] {
        let r = app.send(unauthenticated.header("accept", TAXII)).await;
        assert_taxii_error(&r, StatusCode::UNAUTHORIZED);
        assert_eq!(r.header("www-authenticate"), Some("Basic realm=\"anbao TAXII\""), "{r:?}");
    }

    // Accept negotiation: TAXII 2.1, unversioned TAXII or wildcards; else 406.
    for ok in ["application/taxii+json", "application/taxii+json; version=2.1", "*/*", "text/html,*/*;q=0.8"] {
        let r = app.send(taxii_get(&app, Role::Analyst, ROOT).header("accept", ok)).await;
        assert_taxii(&r, StatusCode::OK);
    }
    let no_accept = basic(Req::get(ROOT), "u", app.token(Role::Analyst));
    assert_taxii(&app.send(no_accept).await, StatusCode::OK);
    for refused in ["application/json", "application/taxii+json;version=2.0", "application/vnd.oasis.taxii+json"] {
        let req = basic(Req::get(ROOT), "u", app.token(Role::Analyst)).header("accept", refused);
        assert_taxii_error(&app.send(req).await, StatusCode::NOT_ACCEPTABLE);
    }

    // Unknown resources and methods answer as TAXII errors.
    assert_taxii_error(&app.send(taxii_get(&app, Role::Analyst, "/taxii2/nope/")).await, StatusCode::NOT_FOUND);
    let put = basic(Req::put(ROOT), "u", app.token(Role::Analyst)).header("accept", TAXII);
    assert_taxii_error(&app.send(put).await, StatusCode::METHOD_NOT_ALLOWED);
    // The rest of the application is untouched.
    assert!(app.send(Req::get("/nope")).await.content_type().starts_with("text/html"));
}

#[tokio::test]
async fn browser_sessions_may_read_and_need_csrf_to_write() {
    let (app, id) = with_feed().await;
    app.make_user("ana", Role::Analyst, app.root, Vec::new()).await;
    let s = app.login("ana", PASSWORD).await;
    let r = app.send(Req::get(&format!("{ROOT}collections/")).session(&s)).await;
    assert_eq!(assert_taxii(&r, StatusCode::OK)["collections"][0]["id"], id.as_str());

    let envelope = json!({"objects": [indicator(1)]}).to_string();
    let path = format!("{ROOT}collections/{id}/objects/");
    let r = app.send(Req::post(&path).session(&s).raw(TAXII, envelope.clone())).await;
    assert_taxii_error(&r, StatusCode::FORBIDDEN);
    let r = app.send(Req::post(&path).session(&s).csrf(&s).raw(TAXII, envelope)).await;
    assert_eq!(assert_taxii(&r, StatusCode::ACCEPTED)["success_count"], 1);
    let entry = &app.audit_with_action("taxii.objects.add").await[0];
    assert_eq!(entry.actor, "ana");
}

#[tokio::test]
async fn collections_are_managed_by_admins_and_analysts_and_visible_per_role() {
    let app = App::new().await;
    let a = make_collection(&app, "A", Some("shared"), &["analyst", "regulator"], &["analyst"]).await;
    let b = make_collection(&app, "B", None, &["admin"], &[]).await;
    let c = make_collection(&app, "C", None, &[], &["responder"]).await;

    let seen = |role: Role| {
        let app = &app;
        async move {
            let r = app.send(taxii_get(app, role, &format!("{ROOT}collections/"))).await;
            let body = assert_taxii(&r, StatusCode::OK);
            body.get("collections")
                .and_then(Value::as_array)
                .map(|l| {
                    l.iter()
                        .map(|c| {
                            (
                                c["id"].as_str().unwrap_or_default().to_owned(),
                                c["can_read"] == true,
                                c["can_write"] == true,
                            )
                        })
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        }
    };
    assert_eq!(seen(Role::Analyst).await, vec![(a.clone(), true, true)]);
    assert_eq!(seen(Role::Regulator).await, vec![(a.clone(), true, false)]);
    assert_eq!(seen(Role::Admin).await, vec![(b.clone(), true, false)]);
    assert_eq!(seen(Role::Responder).await, vec![(c.clone(), false, true)]);
    let none = app.send(taxii_get(&app, Role::Auditor, &format!("{ROOT}collections/"))).await;
    assert_eq!(assert_taxii(&none, StatusCode::OK), json!({}), "no collections: an empty resource");

    let one = assert_taxii(
        &app.send(taxii_get(&app, Role::Regulator, &format!("{ROOT}collections/shared/"))).await,
        StatusCode::OK,
    );
    assert_eq!(one["id"], a.as_str(), "the alias stands in for the id");
    assert_eq!(one["media_types"], json!(["application/stix+json;version=2.1"]));
    assert_eq!(one["alias"], "shared");
    for hidden in [
        format!("{ROOT}collections/{b}/"),
        format!("{ROOT}collections/{b}/objects/"),
        format!("{ROOT}collections/nope/"),
    ] {
        assert_taxii_error(&app.send(taxii_get(&app, Role::Analyst, &hidden)).await, StatusCode::NOT_FOUND);
    }
    // Write-only: the collection is listed but its objects cannot be read.
    let r = app.send(taxii_get(&app, Role::Responder, &format!("{ROOT}collections/{c}/objects/"))).await;
    assert_taxii_error(&r, StatusCode::FORBIDDEN);

    // The management API: admins and analysts; roles are checked.
    let listed = app.send(Req::get("/api/v1/taxii/collections").bearer(app.token(Role::Analyst))).await;
    listed.assert_status(StatusCode::OK);
    let listed = listed.json();
    assert_eq!(listed.as_array().map(Vec::len), Some(3));
    assert_eq!(listed[0]["publish"], json!({"categories": ["botnet_cc"], "max_tlp": "amber"}));
    assert_eq!(listed[0]["url"], format!("{ROOT}collections/{a}/"));
    let r = app.send(Req::get("/api/v1/taxii/collections").bearer(app.token(Role::Responder))).await;
    r.assert_status(StatusCode::FORBIDDEN);
    let bad = json!({"title": "x", "can_read": ["analyst"], "can_write": ["regulator"]});
    let r = app.send(Req::post("/api/v1/taxii/collections").bearer(app.token(Role::Admin)).json(&bad)).await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.error_field().as_deref(), Some("can_write"));
    let bad = json!({"title": "x", "can_read": ["root"], "can_write": []});
    let r = app.send(Req::post("/api/v1/taxii/collections").bearer(app.token(Role::Admin)).json(&bad)).await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let bad = json!({"title": "x", "can_read": [], "can_write": [], "publish": {"max_tlp": "purple"}});
    let r = app.send(Req::post("/api/v1/taxii/collections").bearer(app.token(Role::Admin)).json(&bad)).await;
    assert_eq!(r.error_field().as_deref(), Some("publish.max_tlp"), "{r:?}");
    let taken = json!({"title": "x", "alias": "shared", "can_read": [], "can_write": []});
    let r = app.send(Req::post("/api/v1/taxii/collections").bearer(app.token(Role::Admin)).json(&taken)).await;
    r.assert_status(StatusCode::CONFLICT);

    // PATCH changes what callers see at once; null clears alias and publish.
    let patch = json!({"can_read": ["analyst", "auditor"], "alias": null, "publish": null});
    let r = app
        .send(Req::patch(&format!("/api/v1/taxii/collections/{a}")).bearer(app.token(Role::Analyst)).json(&patch))
        .await;
    r.assert_status(StatusCode::OK);
    assert_eq!(r.json()["alias"], Value::Null);
    assert_eq!(r.json()["publish"], Value::Null);
    assert_eq!(r.json()["can_read"], json!(["analyst", "auditor"]));
    assert_eq!(seen(Role::Auditor).await, vec![(a.clone(), true, false)]);
    assert!(seen(Role::Regulator).await.is_empty());
    assert!(!app.audit_with_action("taxii.collection.update").await.is_empty());

    let r = app.send(Req::delete(&format!("/api/v1/taxii/collections/{b}")).bearer(app.token(Role::Admin))).await;
    r.assert_status(StatusCode::NO_CONTENT);
    assert!(seen(Role::Admin).await.is_empty());
    let r = app.send(Req::delete(&format!("/api/v1/taxii/collections/{b}")).bearer(app.token(Role::Admin))).await;
    r.assert_status(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn objects_page_with_limit_next_and_added_after_without_skips_or_repeats() {
    let (app, id) = with_feed().await;
    for envelope in 0..3 {
        let objects: Vec<Value> = (envelope * 10..envelope * 10 + 10).map(indicator).collect();
        let r = app.send(post_envelope(&app, Role::Analyst, &id, &objects[..if envelope == 2 { 5 } else { 10 }])).await;
        let status = assert_taxii(&r, StatusCode::ACCEPTED);
        assert_eq!(status["status"], "complete");
        assert_eq!(status["failure_count"], 0, "{status}");
        assert!(status.get("failures").is_none(), "empty lists are left out: {status}");
    }
    let objects = format!("{ROOT}collections/{id}/objects/");
    let mut seen = Vec::new();
    let mut pages = 0;
    let mut next: Option<String> = None;
    let mut first_page_last = String::new();
    loop {
        let url = match &next {
            Some(n) => format!("{objects}?limit=10&next={}", urlencode(n)),
            None => format!("{objects}?limit=10"),
        };
        let r = app.send(taxii_get(&app, Role::Regulator, &url)).await;
        let page = assert_taxii(&r, StatusCode::OK);
        let items = page["objects"].as_array().cloned().unwrap_or_default();
        let first = r.header("x-taxii-date-added-first").expect("X-TAXII-Date-Added-First").to_owned();
        let last = r.header("x-taxii-date-added-last").expect("X-TAXII-Date-Added-Last").to_owned();
        assert!(first <= last && first.len() == 27 && last.ends_with('Z'), "{first} {last}");
        if pages == 0 {
            first_page_last = last.clone();
        }
        seen.extend(items.iter().map(|o| o["id"].as_str().unwrap_or_default().to_owned()));
        pages += 1;
        if page["more"] == true {
            assert_eq!(items.len(), 10);
            next = Some(page["next"].as_str().expect("more comes with next").to_owned());
        } else {
            assert!(page.get("next").is_none());
            break;
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 25);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 25, "no object twice");

    // added_after with the last date seen continues where page one ended.
    let r = app
        .send(taxii_get(&app, Role::Regulator, &format!("{objects}?added_after={}", urlencode(&first_page_last))))
        .await;
    assert_eq!(assert_taxii(&r, StatusCode::OK)["objects"].as_array().map(Vec::len), Some(15));
    let r = app.send(taxii_get(&app, Role::Regulator, &format!("{objects}?added_after=2999-01-01T00:00:00Z"))).await;
    assert_eq!(assert_taxii(&r, StatusCode::OK), json!({"more": false}), "an empty envelope");
    assert!(r.header("x-taxii-date-added-first").is_none());
    // Without limit: the default page of 100 holds all 25.
    let all = assert_taxii(&app.send(taxii_get(&app, Role::Regulator, &objects)).await, StatusCode::OK);
    assert_eq!(all["objects"].as_array().map(Vec::len), Some(25));
    assert_eq!(all["objects"][0], indicator(0), "objects come back as they were added");

    let manifest =
        app.send(taxii_get(&app, Role::Regulator, &format!("{ROOT}collections/{id}/manifest/?limit=5"))).await;
    let m = assert_taxii(&manifest, StatusCode::OK);
    assert_eq!(m["more"], true);
    assert_eq!(m["objects"].as_array().map(Vec::len), Some(5));
    let record = &m["objects"][0];
    assert_eq!(record["id"], indicator(0)["id"]);
    assert_eq!(record["version"], "2026-01-01T00:00:00.000Z");
    assert_eq!(record["media_type"], "application/stix+json;version=2.1");
    assert_eq!(record["date_added"].as_str(), manifest.header("x-taxii-date-added-first"));

    for bad in ["limit=0", "limit=x", "added_after=yesterday", "next=garbage", "match[version]=newest"] {
        let r = app.send(taxii_get(&app, Role::Analyst, &format!("{objects}?{bad}"))).await;
        assert_taxii_error(&r, StatusCode::BAD_REQUEST);
    }
}

fn urlencode(s: &str) -> String {
    s.replace(':', "%3A").replace('+', "%2B")
}

#[tokio::test]
async fn match_filters_versions_and_single_objects() {
    let (app, id) = with_feed().await;
    let objects = vec![
        malware("2026-02-01T00:00:00.000Z"),
        malware("2026-03-01T00:00:00.000Z"),
        malware("2026-01-01T00:00:00.000Z"),
        indicator(1),
        json!({"type": "ipv4-addr", "id": "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd", "value": "198.51.100.3"}),
    ];
    let r = app.send(post_envelope(&app, Role::Analyst, &id, &objects)).await;
    assert_eq!(assert_taxii(&r, StatusCode::ACCEPTED)["success_count"], 5);
    let get = |q: &str| {
        let app = &app;
        let url = format!("{ROOT}collections/{id}/objects/{q}");
        async move {
            let body = assert_taxii(&app.send(taxii_get(app, Role::Analyst, &url)).await, StatusCode::OK);
            body["objects"]
                .as_array()
                .map(|l| {
                    l.iter()
                        .map(|o| {
                            format!("{}@{}", o["type"].as_str().unwrap_or("?"), o["modified"].as_str().unwrap_or("-"))
                        })
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        }
    };
    assert_eq!(
        get("").await,
        ["malware@2026-03-01T00:00:00.000Z", "indicator@2026-01-01T00:00:00.000Z", "ipv4-addr@-"],
        "the last version of each by default"
    );
    assert_eq!(get("?match[type]=malware&match[version]=first").await, ["malware@2026-01-01T00:00:00.000Z"]);
    assert_eq!(get("?match[type]=malware&match[version]=all").await.len(), 3);
    assert_eq!(get("?match[type]=malware&match[version]=first,last").await.len(), 2);
    assert_eq!(get("?match[version]=2026-02-01T00:00:00Z").await, ["malware@2026-02-01T00:00:00.000Z"]);
    assert_eq!(get("?match[type]=indicator,ipv4-addr").await.len(), 2);
    assert_eq!(get(&format!("?match[id]={MALWARE}")).await.len(), 1);
    assert!(get("?match[spec_version]=2.0").await.is_empty());
    assert_eq!(get("?match[spec_version]=2.1").await.len(), 3);

    let one = format!("{ROOT}collections/{id}/objects/{MALWARE}/");
    let body = assert_taxii(&app.send(taxii_get(&app, Role::Regulator, &one)).await, StatusCode::OK);
    assert_eq!(body["objects"].as_array().map(Vec::len), Some(1));
    assert_eq!(body["objects"][0]["modified"], "2026-03-01T00:00:00.000Z");
    let all = assert_taxii(
        &app.send(taxii_get(&app, Role::Regulator, &format!("{one}?match[version]=all"))).await,
        StatusCode::OK,
    );
    assert_eq!(all["objects"].as_array().map(Vec::len), Some(3));
    let filtered = app.send(taxii_get(&app, Role::Regulator, &format!("{one}?match[spec_version]=2.0"))).await;
    assert_eq!(assert_taxii(&filtered, StatusCode::OK), json!({"more": false}), "exists, but nothing matches");
    let missing = format!("{ROOT}collections/{id}/objects/malware--00000000-0000-4000-8000-000000000000/");
    assert_taxii_error(&app.send(taxii_get(&app, Role::Regulator, &missing)).await, StatusCode::NOT_FOUND);

    let versions = app.send(taxii_get(&app, Role::Regulator, &format!("{one}versions/"))).await;
    let v = assert_taxii(&versions, StatusCode::OK);
    assert_eq!(
        v["versions"],
        json!(["2026-02-01T00:00:00.000Z", "2026-03-01T00:00:00.000Z", "2026-01-01T00:00:00.000Z"])
    );
    assert_eq!(v["more"], false);
    assert!(versions.header("x-taxii-date-added-last").is_some());
    let paged = assert_taxii(
        &app.send(taxii_get(&app, Role::Regulator, &format!("{one}versions/?limit=2"))).await,
        StatusCode::OK,
    );
    assert_eq!(paged["versions"].as_array().map(Vec::len), Some(2));
    assert_eq!(paged["more"], true);
    assert_taxii_error(
        &app.send(taxii_get(&app, Role::Regulator, &format!("{missing}versions/"))).await,
        StatusCode::NOT_FOUND,
    );
}

#[tokio::test]
async fn statuses_are_kept_and_shown_to_those_who_see_the_collection() {
    let (app, id) = with_feed().await;
    let r = app.send(post_envelope(&app, Role::Analyst, &id, &[indicator(1), indicator(2)])).await;
    let posted = assert_taxii(&r, StatusCode::ACCEPTED);
    let status_id = posted["id"].as_str().expect("status id").to_owned();
    assert_eq!(posted["total_count"], 2);
    assert_eq!(posted["pending_count"], 0);
    assert_eq!(posted["successes"].as_array().map(Vec::len), Some(2));
    assert_eq!(posted["successes"][0]["version"], "2026-01-01T00:00:00.000Z");
    assert!(posted["request_timestamp"].as_str().is_some_and(|t| t.ends_with('Z')));
    for path in [format!("{ROOT}status/{status_id}/"), format!("{ROOT}status/{status_id}")] {
        let again = assert_taxii(&app.send(taxii_get(&app, Role::Regulator, &path)).await, StatusCode::OK);
        assert_eq!(again, posted);
    }
    let hidden = format!("{ROOT}status/{status_id}/");
    assert_taxii_error(&app.send(taxii_get(&app, Role::Responder, &hidden)).await, StatusCode::NOT_FOUND);
    let unknown = format!("{ROOT}status/00000000-0000-4000-8000-000000000000/");
    assert_taxii_error(&app.send(taxii_get(&app, Role::Analyst, &unknown)).await, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn deletes_need_read_and_write_on_the_collection() {
    let app = App::new().await;
    let id = make_collection(&app, "D", None, &["analyst", "regulator"], &["analyst", "responder"]).await;
    let objects = [malware("2026-01-01T00:00:00.000Z"), malware("2026-02-01T00:00:00.000Z")];
    app.send(post_envelope(&app, Role::Analyst, &id, &objects)).await.assert_status(StatusCode::ACCEPTED);
    let one = format!("{ROOT}collections/{id}/objects/{MALWARE}/");
    let delete = |role: Role, query: &str| {
        basic(Req::delete(&format!("{one}{query}")), "u", app.token(role)).header("accept", TAXII)
    };
    // Regulators only read; responders only write; admins cannot see it.
    assert_taxii_error(&app.send(delete(Role::Regulator, "")).await, StatusCode::FORBIDDEN);
    assert_taxii_error(&app.send(delete(Role::Responder, "")).await, StatusCode::FORBIDDEN);
    assert_taxii_error(&app.send(delete(Role::Admin, "")).await, StatusCode::NOT_FOUND);

    app.send(delete(Role::Analyst, "?match[version]=last")).await.assert_status(StatusCode::OK);
    let left =
        assert_taxii(&app.send(taxii_get(&app, Role::Analyst, &format!("{one}versions/"))).await, StatusCode::OK);
    assert_eq!(left["versions"], json!(["2026-01-01T00:00:00.000Z"]));
    let entry = &app.audit_with_action("taxii.object.delete").await[0];
    assert_eq!(entry.actor, "token:analyst-bot");
    app.send(delete(Role::Analyst, "")).await.assert_status(StatusCode::OK);
    assert_taxii_error(&app.send(delete(Role::Analyst, "")).await, StatusCode::NOT_FOUND);
    assert_taxii_error(&app.send(taxii_get(&app, Role::Analyst, &one)).await, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn hostile_input_is_refused_or_fails_per_object_never_500() {
    let (app, id) = with_feed().await;
    let objects = format!("{ROOT}collections/{id}/objects/");
    let post = |role: Role, content_type: &str, body: Body| {
        basic(Req::post(&objects), "u", app.token(role)).header("accept", TAXII).raw(content_type, body)
    };
    let audit_before = app.counts().await.audit;

    let envelope = json!({"objects": [indicator(1)]}).to_string();
    assert_taxii_error(
        &app.send(post(Role::Analyst, "application/json", envelope.clone().into())).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
    );
    assert_taxii_error(
        &app.send(post(Role::Analyst, "", envelope.clone().into())).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
    );
    assert_taxii_error(
        &app.send(post(Role::Analyst, "application/taxii+json;version=2.0", envelope.clone().into())).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
    );
    // Regulators read only; unknown collections are not found.
    assert_taxii_error(&app.send(post(Role::Regulator, TAXII, envelope.clone().into())).await, StatusCode::FORBIDDEN);
    let elsewhere = basic(Req::post(&format!("{ROOT}collections/nope/objects/")), "u", app.token(Role::Analyst))
        .raw(TAXII, envelope.clone());
    assert_taxii_error(&app.send(elsewhere).await, StatusCode::NOT_FOUND);

    for junk in ["not json", "[1,2,3]", "{\"objects\": 5}", "{\"objects\": [", &"[".repeat(10_000)] {
        let r = app.send(post(Role::Analyst, TAXII, junk.to_owned().into())).await;
        assert_taxii_error(&r, StatusCode::BAD_REQUEST);
    }
    // Over the limit: refused on the declared length, and on the bytes.
    let huge = format!("{{\"objects\": [{{\"pad\": \"{}\"}}]}}", "x".repeat(10 * 1024 * 1024));
    let r = app.send(post(Role::Analyst, TAXII, huge.clone().into())).await;
    assert_taxii_error(&r, StatusCode::PAYLOAD_TOO_LARGE);
    let r = app.send(post(Role::Analyst, TAXII, huge.into()).header("content-length", "5")).await;
    assert!(r.status.is_client_error(), "a lying Content-Length is not a 500: {r:?}");
    assert_eq!(app.counts().await.audit, audit_before, "refused requests write nothing");

    // Objects without id or type, with the wrong spec_version, or not
    // objects at all fail one by one; the good one is stored.
    let mixed = json!({"objects": [
        indicator(7),
        {"type": "indicator", "spec_version": "2.1", "pattern": "[x]"},
        {"id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "spec_version": "2.1"},
        {"type": "indicator", "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "spec_version": "2.0"},
        {"type": "indicator", "id": "malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "spec_version": "2.1"},
        {"type": "indicator", "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "spec_version": "2.1", "modified": 5},
        "a string", null, 42,
        {"type": "<script>", "id": "<script>--x"}
    ]});
    let r = app.send(post(Role::Analyst, TAXII, mixed.to_string().into())).await;
    let status = assert_taxii(&r, StatusCode::ACCEPTED);
    assert_eq!((status["total_count"].as_u64(), status["success_count"].as_u64()), (Some(10), Some(1)), "{status}");
    assert_eq!(status["failure_count"], 9);
    let failures = status["failures"].as_array().cloned().unwrap_or_default();
    assert!(failures.iter().all(|f| f["id"].is_string() && f["message"].is_string()), "{status}");
    assert!(failures[2]["message"].as_str().is_some_and(|m| m.contains("2.0")), "{}", failures[2]);
    assert_eq!(app.counts().await.audit, audit_before + 1, "one audit entry for the envelope");

    // An empty envelope is a complete status with nothing in it.
    let r = app.send(post(Role::Analyst, "application/taxii+json", "{}".to_owned().into())).await;
    let empty = assert_taxii(&r, StatusCode::ACCEPTED);
    assert_eq!((empty["total_count"].as_u64(), empty["status"].as_str()), (Some(0), Some("complete")));
    // Hostile parameters and paths.
    for path in [
        format!("{objects}?match[id]={}", vec!["x"; 1001].join(",")),
        format!("{objects}?limit=99999999999999999999999"),
        format!("{objects}?added_after=%FF"),
    ] {
        let r = app.send(taxii_get(&app, Role::Analyst, &path)).await;
        assert_taxii_error(&r, StatusCode::BAD_REQUEST);
    }
    let odd = format!("{ROOT}collections/{id}/objects/%3Cscript%3E/");
    assert_taxii_error(&app.send(taxii_get(&app, Role::Analyst, &odd)).await, StatusCode::NOT_FOUND);
}

/// Envelopes up to `max_content_length` are taken, beyond the JSON API's
/// 1 MiB body limit.
#[tokio::test]
async fn envelopes_larger_than_the_api_body_limit_are_accepted() {
    let (app, id) = with_feed().await;
    let objects: Vec<Value> = (0..8000).map(indicator).collect();
    let size = json!({ "objects": &objects }).to_string().len();
    assert!(size > 2 * anbao_server::BODY_LIMIT, "{size} bytes");
    let r = app.send(post_envelope(&app, Role::Analyst, &id, &objects)).await;
    let status = assert_taxii(&r, StatusCode::ACCEPTED);
    assert_eq!((status["success_count"].as_u64(), status["failure_count"].as_u64()), (Some(8000), Some(0)));
}

/// `max_content_length` follows the router's setting and is enforced.
#[tokio::test]
async fn the_body_limit_is_configurable_and_advertised() {
    let (app, id) = with_feed().await;
    let state = AppState::new(app.store.clone(), ServerConfig::default());
    let router = anbao_server::taxii::router(state.clone(), 2048).with_state(state);
    let auth = format!("Basic {}", base64(format!("u:{}", app.token(Role::Analyst)).as_bytes()));
    let send = |req: Request<Body>| {
        let router = router.clone();
        async move {
            let r = router.oneshot(req).await.expect("infallible");
            let status = r.status();
            let body = to_bytes(r.into_body(), usize::MAX).await.expect("body");
            (status, serde_json::from_slice::<Value>(&body).unwrap_or(Value::Null))
        }
    };
    let (status, root) =
        send(Request::get(ROOT).header("authorization", &auth).body(Body::empty()).expect("request")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(root["max_content_length"], 2048);
    let objects: Vec<Value> = (0..3).map(indicator).collect();
    let small = json!({"objects": &objects[..1]}).to_string();
    let large = json!({"objects": (0..12).map(indicator).collect::<Vec<_>>()}).to_string();
    assert!(small.len() < 2048 && large.len() > 2048);
    let post = |body: String| {
        Request::post(format!("{ROOT}collections/{id}/objects/"))
            .header("authorization", &auth)
            .header("content-type", TAXII)
            .body(Body::from(body))
            .expect("request")
    };
    assert_eq!(send(post(small)).await.0, StatusCode::ACCEPTED);
    let (status, error) = send(post(large)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error["http_status"], "413");
}

/// Publishing: the collection's filter (botnet C&C, TLP up to amber) picks
/// the indicators; a regulator polling with taxii sees exactly those.
#[tokio::test]
async fn publishing_puts_admitted_indicators_in_the_collection() {
    use anbao_intel::{Category, Indicator, IndicatorKind, Tlp};
    let app = App::new().await;
    let id = make_collection(&app, "C2 for the regulator", Some("c2"), &["regulator"], &["analyst"]).await;
    let store = &app.store;
    let actor = anbao_store::Actor::system();
    let run = store.intel_import_begin(&actor, "feed", "list", "t").await.unwrap();
    let mut red = Indicator::new(IndicatorKind::Domain, "secret-c2.example");
    red.tlp = Some(Tlp::Red);
    let items = vec![
        Indicator::new(IndicatorKind::Domain, "c2.example"),
        Indicator::new(IndicatorKind::Ipv4, "203.0.113.9"),
        red,
    ];
    store.intel_import_chunk(run, "feed", Category::BotnetCc, items, &[]).await.unwrap();
    store
        .intel_import_chunk(
            run,
            "feed",
            Category::Phishing,
            vec![Indicator::new(IndicatorKind::Domain, "phish.example")],
            &[],
        )
        .await
        .unwrap();

    let r = app.send(Req::post("/api/v1/taxii/collections/c2/publish").bearer(app.token(Role::Analyst))).await;
    r.assert_status(StatusCode::OK);
    assert_eq!((r.json()["admitted"].as_u64(), r.json()["added"].as_u64()), (Some(2), Some(2)), "{r:?}");
    let r = app.send(Req::post("/api/v1/taxii/collections/c2/publish").bearer(app.token(Role::Analyst))).await;
    assert_eq!((r.json()["added"].as_u64(), r.json()["unchanged"].as_u64()), (Some(0), Some(2)), "{r:?}");

    let objects = app
        .send(
            Req::get(&format!("/taxii2/api/collections/{id}/objects/?match[type]=indicator"))
                .header("accept", "application/taxii+json;version=2.1")
                .bearer(app.token(Role::Regulator)),
        )
        .await;
    let text = objects.text();
    assert!(text.contains("c2.example") && text.contains("203.0.113.9"), "{text}");
    assert!(!text.contains("phish.example"), "other categories are not published");
    assert!(!text.contains("secret-c2.example"), "TLP:RED is above the collection's amber");

    let plain = json!({"title": "no filter", "can_read": ["analyst"], "can_write": ["analyst"]});
    let r = app.send(Req::post("/api/v1/taxii/collections").bearer(app.token(Role::Admin)).json(&plain)).await;
    let plain_id = r.json()["id"].as_str().unwrap().to_owned();
    let r = app
        .send(Req::post(&format!("/api/v1/taxii/collections/{plain_id}/publish")).bearer(app.token(Role::Admin)))
        .await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("publish filter"), "{r:?}");
}
