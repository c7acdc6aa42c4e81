//! The malware sample library, TAXII collection management pages and pull
//! sources over HTTP: uploads of files and "infected" zips, downloads that
//! are always such zips, search, the pages; collections created, edited and
//! deleted through forms; sources whose passwords never come back and
//! whose failed pulls are recorded. Who may call what is the matrix's.

use std::time::Duration;

use anbao_intel::sample::{pack_zip, unpack_zip};
use anbao_model::Role;
use anbao_store::{Actor, IntelSourceDraft, SampleDraft, SourceKind};
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::harness::{App, PASSWORD, Req, Resp, hidden_field};
use crate::intel::multipart;

/// A small ELF-looking sample (never runnable: it is 40 bytes of nothing).
const ELF: &[u8] = b"\x7fELF\x02\x01\x01\0anbao test sample, not a program\n";

async fn upload_sample(app: &App, role: Role, fields: &[(&str, &str)], file: (&str, &[u8])) -> Resp {
    let (content_type, body) = multipart(fields, Some(file));
    app.send(Req::post("/api/v1/intel/samples").bearer(app.token(role)).raw(&content_type, body)).await
}

fn sha256_hex(bytes: &[u8]) -> String {
    anbao_intel::sample::examine(bytes).sha256
}

#[tokio::test]
async fn samples_are_uploaded_plain_or_zipped_searched_and_downloaded_as_infected_zips() {
    let app = App::new().await;

    // A plain file.
    let r = upload_sample(&app, Role::Analyst, &[("family", "Mirai"), ("notes", "from a honeypot")], ("bot.elf", ELF))
        .await;
    r.assert_status(StatusCode::CREATED);
    let added = r.json();
    assert_eq!(added.as_array().map(Vec::len), Some(1), "{added}");
    let plain = &added[0]["sample"];
    assert_eq!(added[0]["created"], true);
    assert_eq!(plain["sha256"], sha256_hex(ELF));
    assert_eq!(plain["file_type"], "elf");
    assert_eq!(plain["file_name"], "bot.elf");
    assert_eq!(plain["family"], "Mirai");
    assert_eq!(plain["size"], ELF.len());
    assert_eq!(plain["indicator_ids"].as_array().map(Vec::len), Some(3), "md5, sha1 and sha256 as indicators");
    let plain_id = plain["id"].as_i64().expect("id");

    // An "infected" zip is unpacked: its file is the sample.
    let second = b"a second sample, zipped".to_vec();
    let zipped = pack_zip("dropper.bin", &second, "infected").expect("zip");
    let r = upload_sample(&app, Role::Admin, &[("family", "Gafgyt")], ("dropper.zip", &zipped)).await;
    r.assert_status(StatusCode::CREATED);
    let from_zip = &r.json()[0]["sample"];
    assert_eq!(from_zip["file_name"], "dropper.bin", "the name inside the zip");
    assert_eq!(from_zip["sha256"], sha256_hex(&second), "the zip's content, not the zip");
    assert_eq!(from_zip["family"], "Gafgyt");

    // A zip with another password: refused naming the password, unless given.
    let other = pack_zip("other.bin", b"a third sample", "s3cret").expect("zip");
    let r = upload_sample(&app, Role::Analyst, &[], ("other.zip", &other)).await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.error_field().as_deref(), Some("zip_password"), "{r:?}");
    let message = r.json()["error"].as_str().unwrap_or_default().to_owned();
    assert!(message.contains("password") && message.contains("infected"), "{message}");
    let r = upload_sample(&app, Role::Analyst, &[("zip_password", "s3cret")], ("other.zip", &other)).await;
    r.assert_status(StatusCode::CREATED);
    assert_eq!(r.json()[0]["sample"]["sha256"], sha256_hex(b"a third sample"));

    // keep_zip stores the zip itself.
    let r = upload_sample(&app, Role::Analyst, &[("keep_zip", "true")], ("other.zip", &other)).await;
    r.assert_status(StatusCode::CREATED);
    assert_eq!(r.json()[0]["sample"]["file_type"], "zip");
    assert_eq!(r.json()[0]["sample"]["sha256"], sha256_hex(&other));

    // The same file again: known, not new.
    let r = upload_sample(&app, Role::Analyst, &[("family", "Mirai")], ("again.elf", ELF)).await;
    r.assert_status(StatusCode::CREATED);
    assert_eq!(r.json()[0]["created"], false);
    assert_eq!(r.json()[0]["sample"]["id"], plain_id);

    // Not an upload, or an empty one.
    let r =
        app.send(Req::post("/api/v1/intel/samples").bearer(app.token(Role::Analyst)).json(&json!({"file": "x"}))).await;
    r.assert_status(StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let r = upload_sample(&app, Role::Analyst, &[], ("empty.bin", b"")).await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.error_field().as_deref(), Some("file"));
    let r = upload_sample(&app, Role::Analyst, &[("category", "worm")], ("x.bin", b"x")).await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.error_field().as_deref(), Some("category"));

    // Search by hash prefix and by family (any case).
    let search = |q: &str| {
        let req = Req::get(&format!("/api/v1/intel/samples?q={q}")).bearer(app.token(Role::Regulator));
        let app = &app;
        async move {
            let r = app.send(req).await;
            r.assert_status(StatusCode::OK);
            r.json().as_array().expect("a list").iter().map(|s| s["id"].as_i64().unwrap_or(-1)).collect::<Vec<_>>()
        }
    };
    let prefix: String = sha256_hex(ELF).chars().take(10).collect();
    assert_eq!(search(&prefix).await, vec![plain_id]);
    assert_eq!(search("mirai").await, vec![plain_id]);
    assert_eq!(search("gafgyt").await.len(), 1);
    assert_eq!(search("").await.len(), 4);
    assert!(search("0000000000000000").await.is_empty());

    // The record with its linked indicators.
    let r = app.send(Req::get(&format!("/api/v1/intel/samples/{plain_id}")).bearer(app.token(Role::Auditor))).await;
    r.assert_status(StatusCode::OK);
    let ids: Vec<i64> = r.json()["indicator_ids"].as_array().unwrap().iter().filter_map(Value::as_i64).collect();
    assert_eq!(ids.len(), 3);
    let r = app.send(Req::get(&format!("/api/v1/intel/indicators/{}", ids[0])).bearer(app.token(Role::Auditor))).await;
    r.assert_status(StatusCode::OK);

    // Download: always a zip with "infected", as an attachment.
    let r = app
        .send(Req::get(&format!("/api/v1/intel/samples/{plain_id}/download")).bearer(app.token(Role::Analyst)))
        .await;
    r.assert_status(StatusCode::OK);
    assert_eq!(r.content_type(), "application/zip");
    assert_eq!(
        r.header("content-disposition"),
        Some(format!("attachment; filename=\"{}.zip\"", sha256_hex(ELF)).as_str())
    );
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert!(r.body.starts_with(b"PK\x03\x04"));
    let files = unpack_zip(&r.body, "infected", 10, 1 << 20).expect("opens with infected");
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].bytes, ELF, "the sample's bytes");
    assert!(unpack_zip(&r.body, "wrong", 10, 1 << 20).is_err(), "encrypted");
    assert_eq!(app.audit_with_action("intel.sample.download").await.len(), 1, "downloads are audited");

    // Roles without DownloadSamples are refused, with a JSON error.
    for role in [Role::Responder, Role::Auditor, Role::Regulator] {
        let r = app.send(Req::get(&format!("/api/v1/intel/samples/{plain_id}/download")).bearer(app.token(role))).await;
        r.assert_status(StatusCode::FORBIDDEN);
        let body = r.json();
        assert_eq!(body["status"], 403, "{body}");
        assert!(body["error"].as_str().is_some_and(|e| !e.is_empty()), "{body}");
        assert!(!r.body.windows(4).any(|w| w == b"PK\x03\x04"), "no zip in a refusal");
    }
    assert_eq!(app.audit_with_action("intel.sample.download").await.len(), 1, "refusals download nothing");

    // Delete: the sample goes, its hash indicators stay.
    let r = app.send(Req::delete(&format!("/api/v1/intel/samples/{plain_id}")).bearer(app.token(Role::Analyst))).await;
    r.assert_status(StatusCode::NO_CONTENT);
    let r = app.send(Req::get(&format!("/api/v1/intel/samples/{plain_id}")).bearer(app.token(Role::Analyst))).await;
    r.assert_status(StatusCode::NOT_FOUND);
    let r = app.send(Req::get(&format!("/api/v1/intel/indicators/{}", ids[0])).bearer(app.token(Role::Auditor))).await;
    r.assert_status(StatusCode::OK);
}

#[tokio::test]
async fn sample_pages_upload_show_link_and_offer_downloads_only_to_those_allowed() {
    let app = App::new().await;
    app.make_user("sample.analyst", Role::Analyst, app.root, Vec::new()).await;
    let s = app.login("sample.analyst", PASSWORD).await;

    let r = app.send(Req::get("/intel/samples").session(&s)).await;
    r.assert_status(StatusCode::OK);
    let list = r.text();
    assert!(list.contains(&format!("action=\"/intel/samples?_csrf={}\"", s.csrf)), "the upload form");
    assert!(list.contains("id=\"intel-samples-link\"") && list.contains("id=\"intel-taxii-link\""), "sub-navigation");

    let zipped = pack_zip("payload.elf", ELF, "infected").expect("zip");
    let (content_type, body) = multipart(&[("family", "<b>Mirai</b>"), ("notes", "n")], Some(("p.zip", &zipped)));
    let r = app.send(Req::post(&format!("/intel/samples?_csrf={}", s.csrf)).session(&s).raw(&content_type, body)).await;
    r.assert_status(StatusCode::SEE_OTHER);
    let to = r.location().expect("to the sample").to_owned();
    assert!(to.starts_with("/intel/samples/") && to.contains("?ok="), "{to}");
    let path = to.split('?').next().unwrap().to_owned();

    let r = app.send(Req::get(&path).session(&s)).await;
    r.assert_status(StatusCode::OK);
    let detail = r.text();
    assert!(detail.contains(&sha256_hex(ELF)) && detail.contains("id=\"sample-type\">elf<"), "hashes and type");
    assert!(detail.contains("&lt;b&gt;Mirai&lt;/b&gt;"), "escaped");
    assert!(detail.contains("id=\"sample-download\"") && detail.contains("/download\""), "an analyst may download");
    assert!(detail.contains("id=\"delete-sample\""));
    let sample_id: i64 = path.rsplit('/').next().unwrap().parse().unwrap();
    let sample = app.store.sample(sample_id).await.unwrap();
    for id in &sample.indicator_ids {
        assert!(detail.contains(&format!("href=\"/intel/indicators/{id}\"")), "links its indicators");
    }
    let indicator = app.send(Req::get(&format!("/intel/indicators/{}", sample.indicator_ids[0])).session(&s)).await;
    assert!(indicator.text().contains(&format!("href=\"/intel/samples/{sample_id}\"")), "and back");

    // A responder reads but may not download or delete.
    let r = app.send(Req::get(&path).bearer(app.token(Role::Responder))).await;
    r.assert_status(StatusCode::OK);
    assert!(!r.text().contains("sample-download") && !r.text().contains("delete-sample"));
    let r = app.send(Req::get("/intel/samples?q=mirai").bearer(app.token(Role::Regulator))).await;
    assert!(r.text().contains(&format!("data-sample=\"{sample_id}\"")) && !r.text().contains("id=\"sample-upload\""));

    // A wrong password comes back as a message on the list.
    let other = pack_zip("x.bin", b"other", "s3cret").expect("zip");
    let (content_type, body) = multipart(&[], Some(("x.zip", &other)));
    let r = app.send(Req::post(&format!("/intel/samples?_csrf={}", s.csrf)).session(&s).raw(&content_type, body)).await;
    r.assert_status(StatusCode::SEE_OTHER);
    assert!(r.location().is_some_and(|l| l.starts_with("/intel/samples?error=zip_password")), "{r:?}");

    // Deleting from the page.
    let r = app
        .send(Req::post(&format!("/intel/samples/{sample_id}/delete")).session(&s).form(&[("_csrf", s.csrf.as_str())]))
        .await;
    r.assert_status(StatusCode::SEE_OTHER);
    assert!(app.store.sample(sample_id).await.is_err());
}

#[tokio::test]
async fn taxii_collections_are_created_edited_and_deleted_through_the_page() {
    let app = App::new().await;
    app.make_user("taxii.analyst", Role::Analyst, app.root, Vec::new()).await;
    let s = app.login("taxii.analyst", PASSWORD).await;
    let page = |path: &str| {
        let req = Req::get(path).session(&s);
        let app = &app;
        async move {
            let r = app.send(req).await;
            r.assert_status(StatusCode::OK);
            r.text()
        }
    };

    let html = page("/intel/taxii").await;
    assert!(html.contains("id=\"taxii-connect\"") && html.contains("/taxii2/"), "how to connect");
    let csrf = hidden_field(&html, "_csrf").expect("the collection form");
    let create = |fields: &[(&str, &str)]| {
        let mut all = vec![("_csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        Req::post("/intel/taxii").session(&s).form(&all)
    };
    let r = app
        .send(create(&[
            ("title", "Botnet C&C"),
            ("alias", "cc"),
            ("description", "for the regulator"),
            ("can_read", "analyst"),
            ("can_read", "regulator"),
            ("can_write", "analyst"),
            ("publish", "true"),
            ("publish_category", "botnet_cc"),
            ("max_tlp", "amber"),
        ]))
        .await;
    r.assert_status(StatusCode::SEE_OTHER);
    assert!(r.location().is_some_and(|l| l.starts_with("/intel/taxii?ok=")), "{r:?}");
    let collections = app.store.taxii_collections().await.unwrap();
    assert_eq!(collections.len(), 1);
    let c = &collections[0];
    assert_eq!((c.title.as_str(), c.alias.as_deref()), ("Botnet C&C", Some("cc")));
    assert_eq!(c.can_read, vec![Role::Analyst, Role::Regulator]);
    assert_eq!(c.can_write, vec![Role::Analyst]);
    let publish = c.publish.as_ref().expect("publishes");
    assert_eq!(publish.categories, vec![anbao_intel::Category::BotnetCc]);
    assert_eq!(publish.max_tlp.map(|t| t.as_str()), Some("amber"));

    let html = page("/intel/taxii").await;
    assert!(html.contains(&format!("data-collection=\"{}\"", c.id)));
    assert!(html.contains(&format!("/taxii2/api/collections/{}/", c.id)), "the collection URL");

    // A read-only role cannot write: said on the page, nothing stored.
    let r = app.send(create(&[("title", "bad"), ("can_write", "regulator")])).await;
    assert!(r.location().is_some_and(|l| l.starts_with("/intel/taxii?error=")), "{r:?}");
    assert_eq!(app.store.taxii_collections().await.unwrap().len(), 1);

    // Edit: the form is filled, and the post replaces every field.
    let edit = page(&format!("/intel/taxii?edit={}", c.id)).await;
    assert!(edit.contains(&format!("action=\"/intel/taxii/{}\"", c.id)) && edit.contains("value=\"Botnet C&amp;C\""));
    let r = app
        .send(Req::post(&format!("/intel/taxii/{}", c.id)).session(&s).form(&[
            ("_csrf", csrf.as_str()),
            ("title", "C&C (renamed)"),
            ("alias", ""),
            ("description", ""),
            ("can_read", "admin"),
            ("can_read", "analyst"),
        ]))
        .await;
    r.assert_status(StatusCode::SEE_OTHER);
    assert!(r.location().is_some_and(|l| l.starts_with("/intel/taxii?ok=")), "{r:?}");
    let c2 = app.store.taxii_collection(&c.id).await.unwrap();
    assert_eq!(c2.title, "C&C (renamed)");
    assert_eq!(c2.alias, None);
    assert_eq!(c2.can_read, vec![Role::Admin, Role::Analyst]);
    assert!(c2.can_write.is_empty() && c2.publish.is_none());

    // Readers see only what their role may read, and no forms.
    let r = app.send(Req::get("/intel/taxii").bearer(app.token(Role::Regulator))).await;
    r.assert_status(StatusCode::OK);
    assert!(!r.text().contains(&c.id) && !r.text().contains("id=\"taxii-form\""));
    assert!(r.text().contains("id=\"taxii-connect\""));

    // Without the CSRF token nothing happens.
    let r = app.send(Req::post(&format!("/intel/taxii/{}/delete", c.id)).session(&s).form(&[])).await;
    r.assert_status(StatusCode::FORBIDDEN);
    let r = app
        .send(Req::post(&format!("/intel/taxii/{}/delete", c.id)).session(&s).form(&[("_csrf", csrf.as_str())]))
        .await;
    r.assert_status(StatusCode::SEE_OTHER);
    assert!(app.store.taxii_collections().await.unwrap().is_empty());
    let r = app
        .send(Req::post(&format!("/intel/taxii/{}/delete", c.id)).session(&s).form(&[("_csrf", csrf.as_str())]))
        .await;
    assert!(r.location().is_some_and(|l| l.contains("error=")), "a second delete is said, not a failure");
}

const SECRET: &str = "hunter2-feed-secret";

/// Waits until the source's last status is no longer `running`.
async fn settled(app: &App, id: i64) -> Value {
    for _ in 0..1000 {
        let r = app.send(Req::get("/api/v1/intel/sources").bearer(app.token(Role::Analyst))).await;
        r.assert_status(StatusCode::OK);
        let list = r.json();
        let source = list.as_array().unwrap().iter().find(|s| s["id"] == id).cloned().expect("listed");
        if source["last_status"] != "running" {
            return source;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("source {id} still running after 20 s");
}

#[tokio::test]
async fn sources_keep_passwords_to_themselves_and_record_failed_pulls() {
    let app = App::new().await;
    // Port 9 (discard) on loopback: nothing listens, the pull fails at once.
    let body = json!({
        "name": "unreachable feed",
        "kind": "url",
        "url": "http://127.0.0.1:9/feed.txt",
        "username": "feeduser",
        "password": SECRET,
        "interval_minutes": 0,
        "format": "list",
        "category": "botnet_cc",
    });
    let r = app.send(Req::post("/api/v1/intel/sources").bearer(app.token(Role::Analyst)).json(&body)).await;
    r.assert_status(StatusCode::FORBIDDEN);
    assert!(r.json()["error"].as_str().unwrap_or_default().contains("admin"), "{r:?}");
    let r = app.send(Req::post("/api/v1/intel/sources").bearer(app.token(Role::Admin)).json(&body)).await;
    r.assert_status(StatusCode::CREATED);
    assert!(!r.text().contains(SECRET), "not echoed: {}", r.text());
    let created = r.json();
    assert_eq!(created["has_password"], true);
    assert!(created.get("password").is_none());
    assert_eq!(created["category"], "botnet_cc");
    let id = created["id"].as_i64().expect("id");

    let r = app.send(Req::post("/api/v1/intel/sources").bearer(app.token(Role::Admin)).json(&body)).await;
    r.assert_status(StatusCode::CONFLICT);
    let mut bad = body.clone();
    bad["name"] = json!("other");
    bad["kind"] = json!("ftp");
    let r = app.send(Req::post("/api/v1/intel/sources").bearer(app.token(Role::Admin)).json(&bad)).await;
    assert_eq!(r.error_field().as_deref(), Some("kind"), "{r:?}");
    bad["kind"] = json!("url");
    bad["url"] = json!("http://user:pw@example.com/");
    let r = app.send(Req::post("/api/v1/intel/sources").bearer(app.token(Role::Admin)).json(&bad)).await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.error_field().as_deref(), Some("url"));

    let r = app.send(Req::get("/api/v1/intel/sources").bearer(app.token(Role::Analyst))).await;
    r.assert_status(StatusCode::OK);
    assert!(!r.text().contains(SECRET));

    // The page, created through its form too.
    app.make_user("sources.admin", Role::Admin, app.root, Vec::new()).await;
    let s = app.login("sources.admin", PASSWORD).await;
    let r = app
        .send(Req::post("/intel/sources").session(&s).form(&[
            ("_csrf", s.csrf.as_str()),
            ("name", "taxii upstream"),
            ("kind", "taxii"),
            ("url", "https://taxii.example/api1/"),
            ("collection_id", "91a7b528-80eb-42ed-a74d-c6fbd5a26116"),
            ("username", "u"),
            ("password", "page-secret-xyz"),
            ("interval_minutes", "60"),
            ("category", ""),
            ("format", "auto"),
            ("enabled", "true"),
        ]))
        .await;
    r.assert_status(StatusCode::SEE_OTHER);
    assert!(r.location().is_some_and(|l| l.starts_with("/intel/sources?ok=")), "{r:?}");
    let r = app.send(Req::get("/intel/sources").session(&s)).await;
    r.assert_status(StatusCode::OK);
    let html = r.text();
    assert!(html.contains("data-name=\"taxii upstream\"") && html.contains("data-name=\"unreachable feed\""));
    assert!(!html.contains(SECRET) && !html.contains("page-secret-xyz"), "passwords never shown");
    assert!(html.contains("data-has-password=\"true\"") && html.contains("id=\"source-form\""));
    let r = app.send(Req::get("/intel/sources").bearer(app.token(Role::Analyst))).await;
    assert!(!r.text().contains("id=\"source-form\""), "analysts are told only admins add sources");

    // Pull now: accepted, runs in the background, fails, and says so.
    let r = app.send(Req::post(&format!("/api/v1/intel/sources/{id}/pull")).bearer(app.token(Role::Analyst))).await;
    r.assert_status(StatusCode::ACCEPTED);
    let source = settled(&app, id).await;
    let status = source["last_status"].as_str().unwrap_or_default();
    assert!(status.starts_with("failed: "), "{source}");
    assert!(source["last_pull_at"].is_string() && source["cursor"] == "", "{source}");
    assert!(!status.contains(SECRET));
    let html = app.send(Req::get("/intel/sources").session(&s)).await.text();
    assert!(html.contains("data-status=\"failed\""), "the page shows the failure");

    // A source being pulled already answers 409.
    let seen = app.store.intel_source(id).await.unwrap();
    app.store.intel_source_claim(&seen).await.unwrap().expect("claimed");
    let r = app.send(Req::post(&format!("/api/v1/intel/sources/{id}/pull")).bearer(app.token(Role::Admin))).await;
    r.assert_status(StatusCode::CONFLICT);
    let r =
        app.send(Req::post(&format!("/intel/sources/{id}/pull")).session(&s).form(&[("_csrf", s.csrf.as_str())])).await;
    assert!(r.location().is_some_and(|l| l.starts_with("/intel/sources?error=")), "{r:?}");

    // Delete.
    let r = app.send(Req::delete(&format!("/api/v1/intel/sources/{id}")).bearer(app.token(Role::Analyst))).await;
    r.assert_status(StatusCode::NO_CONTENT);
    assert!(app.store.intel_source(id).await.is_err());
    let audit = app.audit_with_action("intel.source.create").await;
    assert!(audit.iter().all(|e| !format!("{e:?}").contains(SECRET)), "not in the audit log either");
}

/// Objects the route matrix puts in place of the new intel routes' `{id}`.
pub struct MoreFixture {
    sample: i64,
    sample_for_api_delete: i64,
    sample_for_page_delete: i64,
    source: i64,
    source_for_api_delete: i64,
    source_for_page_delete: i64,
    collection: String,
    collection_for_page_delete: String,
}

impl MoreFixture {
    pub async fn new(app: &App) -> MoreFixture {
        let store = &app.store;
        let actor = Actor::system();
        let mut samples = Vec::new();
        for n in 0..3 {
            let draft = SampleDraft { file_name: format!("matrix-{n}.bin"), ..SampleDraft::default() };
            let bytes = format!("matrix sample {n}");
            samples.push(store.add_sample(&actor, bytes.as_bytes(), &draft).await.expect("sample").0.id);
        }
        let mut sources = Vec::new();
        for n in 0..3 {
            let draft = IntelSourceDraft::new(&format!("matrix-{n}"), SourceKind::Url, "http://127.0.0.1:9/m.txt");
            sources.push(store.intel_source_create(&actor, &draft).await.expect("source").id);
        }
        let mut collections = Vec::new();
        for title in ["matrix", "matrix-delete"] {
            let draft = anbao_store::CollectionDraft {
                title: title.into(),
                description: String::new(),
                alias: None,
                can_read: vec![Role::Admin],
                can_write: Vec::new(),
                publish: None,
            };
            collections.push(store.taxii_create_collection(&actor, &draft).await.expect("collection").id);
        }
        MoreFixture {
            sample: samples[0],
            sample_for_api_delete: samples[1],
            sample_for_page_delete: samples[2],
            source: sources[0],
            source_for_api_delete: sources[1],
            source_for_page_delete: sources[2],
            collection: collections[0].clone(),
            collection_for_page_delete: collections[1].clone(),
        }
    }

    pub fn id_for(&self, method: &axum::http::Method, path: &str) -> Option<i64> {
        let delete = *method == axum::http::Method::DELETE;
        if path.contains("/intel/samples/") {
            Some(if delete {
                self.sample_for_api_delete
            } else if path.ends_with("/delete") {
                self.sample_for_page_delete
            } else {
                self.sample
            })
        } else if path.contains("/intel/sources/") {
            Some(if delete {
                self.source_for_api_delete
            } else if path.ends_with("/delete") {
                self.source_for_page_delete
            } else {
                self.source
            })
        } else {
            None
        }
    }

    /// The collection id for `/intel/taxii/{id}…` (ids are UUIDs, not numbers).
    pub fn collection_for(&self, path: &str) -> Option<&str> {
        if !path.contains("/intel/taxii/") {
            return None;
        }
        Some(if path.ends_with("/delete") { &self.collection_for_page_delete } else { &self.collection })
    }
}

#[tokio::test]
async fn sources_are_edited_analysts_reschedule_only_admins_change_what_is_fetched() {
    let app = App::new().await;
    let body = json!({
        "name": "feed", "kind": "url", "url": "http://127.0.0.1:9/feed.txt",
        "username": "feeduser", "password": SECRET, "interval_minutes": 60, "format": "list",
    });
    let r = app.send(Req::post("/api/v1/intel/sources").bearer(app.token(Role::Admin)).json(&body)).await;
    r.assert_status(StatusCode::CREATED);
    let id = r.json()["id"].as_i64().expect("id");
    let path = format!("/api/v1/intel/sources/{id}");

    // The analyst reschedules and recategorises…
    let change = json!({"interval_minutes": 15, "enabled": false, "category": "phishing"});
    let r = app.send(Req::patch(&path).bearer(app.token(Role::Analyst)).json(&change)).await;
    r.assert_status(StatusCode::OK);
    let s = r.json();
    assert_eq!((s["interval_minutes"].as_i64(), s["enabled"].as_bool()), (Some(15), Some(false)));
    assert_eq!((s["category"].as_str(), s["url"].as_str()), (Some("phishing"), Some("http://127.0.0.1:9/feed.txt")));
    assert_eq!(s["has_password"], true, "untouched");
    // …but may not point the server elsewhere or swap its credentials.
    for forbidden in [json!({"url": "http://10.0.0.1/internal"}), json!({"password": "x"}), json!({"username": "root"})]
    {
        let r = app.send(Req::patch(&path).bearer(app.token(Role::Analyst)).json(&forbidden)).await;
        r.assert_status(StatusCode::FORBIDDEN);
    }
    assert_eq!(app.store.intel_source(id).await.unwrap().url, "http://127.0.0.1:9/feed.txt");
    let r = app.send(Req::patch(&path).bearer(app.token(Role::Analyst)).json(&json!({"interval_minutes": -1}))).await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let r = app.send(Req::patch(&path).bearer(app.token(Role::Analyst)).json(&json!({"category": "nope"}))).await;
    assert_eq!(r.error_field().as_deref(), Some("category"), "{r:?}");

    // The admin moves it and removes the password; nothing echoes a secret.
    let r = app
        .send(
            Req::patch(&path)
                .bearer(app.token(Role::Admin))
                .json(&json!({"url": "http://127.0.0.1:9/v2.txt", "password": ""})),
        )
        .await;
    r.assert_status(StatusCode::OK);
    assert_eq!(
        (r.json()["url"].as_str(), r.json()["has_password"].as_bool()),
        (Some("http://127.0.0.1:9/v2.txt"), Some(false))
    );
    let entries = app.store.list_audit(&anbao_store::AuditFilter::default()).await.unwrap();
    assert!(!serde_json::to_string(&entries).unwrap().contains(SECRET), "the audit log holds no password");

    // The edit page: an analyst sees the fetch settings but cannot submit them.
    let analyst_page = app.send(Req::get(&format!("/intel/sources/{id}")).bearer(app.token(Role::Analyst))).await;
    analyst_page.assert_status(StatusCode::OK);
    let html = analyst_page.text();
    assert!(html.contains("name=\"url\"") && html.contains("disabled"), "{html}");
    assert!(html.contains("value=\"15\""), "the interval is prefilled");
    app.make_user("sources.editor", Role::Admin, app.root, Vec::new()).await;
    let s = app.login("sources.editor", PASSWORD).await;
    let r = app
        .send(Req::post(&format!("/intel/sources/{id}")).session(&s).form(&[
            ("_csrf", s.csrf.as_str()),
            ("name", "feed v2"),
            ("url", "http://127.0.0.1:9/v3.txt"),
            ("collection_id", ""),
            ("username", "feeduser"),
            ("password", "new-secret-abc"),
            ("interval_minutes", "30"),
            ("category", ""),
            ("format", "list"),
            ("enabled", "true"),
        ]))
        .await;
    r.assert_status(StatusCode::SEE_OTHER);
    let source = app.store.intel_source(id).await.unwrap();
    assert_eq!(
        (source.name.as_str(), source.url.as_str(), source.interval_minutes),
        ("feed v2", "http://127.0.0.1:9/v3.txt", 30)
    );
    assert!(source.enabled && source.has_password && source.category.is_none());
    assert!(!app.send(Req::get(&format!("/intel/sources/{id}")).session(&s)).await.text().contains("new-secret-abc"));
}
