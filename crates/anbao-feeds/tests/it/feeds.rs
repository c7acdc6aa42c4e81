//! Imports from files, folders and HTTP into a real store (SQLite, and
//! PostgreSQL for the pipeline case), exports, and the live index.

use std::io::Write;
use std::sync::Arc;

use anbao_feeds::{ExportFormat, ExportRequest, Format, ImportOptions, Input, LiveIndex, NoProgress, build_snapshot};
use anbao_intel::Category;
use anbao_model::{Clock, ManualClock};
use anbao_store::{Actor, Sealer, Store, StoreOptions};
use time::Duration;
use time::macros::datetime;

const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");

struct Db {
    store: Store,
    clock: Arc<ManualClock>,
    _dir: tempfile::TempDir,
}

async fn sqlite() -> Db {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(datetime!(2026-11-25 09:00 UTC)));
    let mut options = StoreOptions::new(Sealer::from_hex(&Sealer::generate_key_hex()).unwrap());
    options.clock = clock.clone();
    let store = Store::open(&anbao_store::sqlite_url(&dir.path().join("t.db")), options).await.unwrap();
    Db { store, clock, _dir: dir }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn actor() -> Actor {
    Actor::cli()
}

async fn run(db: &Db, inputs: Vec<Input>, options: ImportOptions) -> anbao_feeds::ImportSummary {
    anbao_feeds::import(&db.store, &actor(), inputs, options, Arc::new(NoProgress)).await.unwrap()
}

#[tokio::test]
async fn gzipped_list_with_bad_lines_reports_each_and_keeps_the_rest() {
    let db = sqlite().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("phish.txt.gz");
    let text = "# phishing feed\nlogin-bank.example\nhttp://Pay.Example:80/a/../login\n999.1.1.1\nlogin-bank.example.\n-bad-.example\n";
    std::fs::write(&path, gzip(text.as_bytes())).unwrap();
    let options = ImportOptions { category: Some(Category::Phishing), ..ImportOptions::default() };
    let s = run(&db, vec![Input::Path(path.clone())], options).await;
    // `login-bank.example.` is the first domain again: an update.
    assert_eq!((s.accepted, s.updated, s.rejected, s.unreadable), (2, 1, 2, 0), "{s:?}");
    assert_eq!(s.source, "phish", "the source defaults to the file's name");
    let lines: Vec<&str> = s.errors.iter().map(|p| p.location.as_str()).collect();
    assert_eq!(lines, ["line 4", "line 6"]);
    assert!(s.errors.iter().all(|p| p.input == path.display().to_string() && p.kind == "rejected"));

    let url = db.store.intel_indicator_by_value(anbao_intel::IndicatorKind::Url, "http://pay.example/login").await;
    let url = url.unwrap().expect("the URL is stored in normal form");
    assert_eq!(url.category, Category::Phishing);
    let run_record = db.store.intel_import_run(s.import_id).await.unwrap();
    assert_eq!((run_record.status.as_str(), run_record.accepted, run_record.rejected), ("done", 2, 2));
    let kept = db.store.intel_import_rejects(s.import_id).await.unwrap();
    assert!(kept[0].location.ends_with("phish.txt.gz: line 4"), "{:?}", kept[0]);
}

#[tokio::test]
async fn misp_feed_folder_and_unreadable_documents() {
    let db = sqlite().await;
    let feed = tempfile::tempdir().unwrap();
    let uuid = "57c4445b-c548-4654-af0b-4be3950d210f";
    std::fs::copy(format!("{SHARED}/misp/{uuid}.json"), feed.path().join(format!("{uuid}.json"))).unwrap();
    let manifest = format!(
        r#"{{"{uuid}": {{"info": "Ransomware - Xorist", "timestamp": "1472541011", "Orgc": {{"name": "CIRCL"}}, "Tag": []}},
            "00000000-0000-4000-8000-000000000000": {{"info": "listed but missing", "timestamp": "1"}}}}"#
    );
    std::fs::write(feed.path().join("manifest.json"), manifest).unwrap();
    let not_json = feed.path().join("broken.json");
    std::fs::write(&not_json, b"{\"Event\": [1, 2").unwrap();

    let s = run(
        &db,
        vec![Input::Path(feed.path().to_owned()), Input::Path(not_json.clone())],
        ImportOptions { format: Format::Auto, ..ImportOptions::default() },
    )
    .await;
    assert_eq!(s.accepted, 3, "md5, sha1 and sha256 of the event: {s:?}");
    assert!(s.skipped > 0, "attributes that are not indicators (filenames) are counted as skipped");
    assert_eq!(s.unreadable, 2, "the missing event and the broken file: {:?}", s.errors);
    let reasons: Vec<&str> = s.errors.iter().map(|p| p.input.as_str()).collect();
    assert!(reasons.iter().any(|i| i.ends_with("00000000-0000-4000-8000-000000000000.json")), "{reasons:?}");
    assert!(reasons.iter().any(|i| i.ends_with("broken.json")), "{reasons:?}");
    let unreadable = s.errors.iter().find(|p| p.input.ends_with("broken.json")).unwrap();
    assert!(unreadable.reason.contains("line 1"), "the JSON error says where: {}", unreadable.reason);
}

/// Serves `body` with `status` to each connection, for HTTP imports.
fn serve_once(status: &'static str, body: Vec<u8>) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(4) {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = std::io::Read::read(&mut stream, &mut buf);
            let head = format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    format!("http://{addr}/feed.txt")
}

#[tokio::test]
async fn urls_are_fetched_and_http_errors_named() {
    let db = sqlite().await;
    let url = serve_once("200 OK", gzip(b"0.0.0.0 c2.example\n0.0.0.0 localhost\n127.0.0.1 other-c2.example\n"));
    let s = run(
        &db,
        vec![Input::parse(&url)],
        ImportOptions { category: Some(Category::BotnetCc), ..ImportOptions::default() },
    )
    .await;
    assert_eq!((s.accepted, s.source.as_str()), (2, "127.0.0.1"), "hosts format sniffed, localhost skipped: {s:?}");

    let missing = serve_once("404 Not Found", b"no".to_vec());
    let s = run(&db, vec![Input::parse(&missing)], ImportOptions::default()).await;
    assert_eq!(s.unreadable, 1);
    assert!(s.errors[0].reason.contains("HTTP 404"), "{:?}", s.errors);
}

#[tokio::test]
async fn live_index_follows_imports_allowlists_and_expiry() {
    let db = sqlite().await;
    let live = LiveIndex::new();
    assert!(live.refresh(&db.store).await.unwrap(), "the first refresh builds");
    assert!(!live.refresh(&db.store).await.unwrap(), "nothing changed, nothing rebuilt");

    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("c2.txt");
    std::fs::write(&list, "evil.example\ngoogle.com\n203.0.113.0/24\n").unwrap();
    run(&db, vec![Input::Path(list)], ImportOptions { category: Some(Category::BotnetCc), ..ImportOptions::default() })
        .await;
    let bundle = dir.path().join("b.json");
    std::fs::write(
        &bundle,
        r#"{"type":"bundle","id":"bundle--0d7d1b35-8b1b-4f6e-9d2e-2a3c4e5f6a7b","objects":[
          {"type":"indicator","spec_version":"2.1","id":"indicator--1d7d1b35-8b1b-4f6e-9d2e-2a3c4e5f6a7b",
           "created":"2026-11-01T00:00:00Z","modified":"2026-11-01T00:00:00Z","pattern_type":"stix",
           "pattern":"[domain-name:value = 'short-lived.example']","valid_from":"2026-11-01T00:00:00Z",
           "valid_until":"2026-11-25T10:00:00Z"}]}"#,
    )
    .unwrap();
    run(&db, vec![Input::Path(bundle)], ImportOptions::default()).await;

    assert!(live.refresh(&db.store).await.unwrap(), "imports move the generation");
    let snap = live.current();
    let now = db.clock.now();
    let hit = snap.lookup("www.Evil.example.", now);
    assert_eq!(hit.hits.len(), 1);
    assert_eq!((hit.hits[0].how, hit.hits[0].listed.as_str()), ("parent_domain", "evil.example"));
    let hit = snap.lookup("203.0.113.9", now);
    assert_eq!((hit.hits[0].how, hit.hits[0].listed.as_str()), ("covering_cidr", "203.0.113.0/24"));
    assert!(snap.lookup("evil.example.org", now).hits.is_empty());
    assert_eq!(snap.lookup("short-lived.example", now).hits.len(), 1);
    assert!(
        snap.lookup("short-lived.example", now + Duration::hours(2)).hits.is_empty(),
        "past valid_until it stops matching, without a rebuild"
    );
    assert_eq!(snap.lookup("mail.google.com", now).hits.len(), 1, "no allowlist yet");

    db.store.intel_save_allowlist(&actor(), "top sites", "hostname", "", &["google.com".into()], true).await.unwrap();
    // A reader holding the old snapshot keeps it; new readers get the new one.
    assert!(live.refresh(&db.store).await.unwrap());
    assert_eq!(snap.lookup("mail.google.com", now).hits.len(), 1, "the old snapshot is unchanged");
    let fresh = live.current();
    let allowed = fresh.lookup("mail.google.com", now);
    assert!(allowed.hits.is_empty());
    assert_eq!(allowed.allowlisted.as_ref().map(|a| a.list.as_str()), Some("top sites"));
    assert_eq!(fresh.allowlisted, 1);
    drop(snap);
    assert_eq!(Arc::strong_count(&fresh), 2, "the live index and this reader hold the new snapshot");

    let snapshot = build_snapshot(&db.store).await.unwrap();
    assert_eq!(snapshot.indicators, 3, "evil.example, the CIDR and the short-lived domain");
}

#[tokio::test]
async fn exports_leave_out_allowlisted_and_expired() {
    let db = sqlite().await;
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("dns.txt");
    std::fs::write(&list, "evil.example\ngoogle.com\n198.51.100.7\nhttp://x.example/a\n").unwrap();
    run(&db, vec![Input::Path(list)], ImportOptions { category: Some(Category::Trojan), ..ImportOptions::default() })
        .await;
    db.store.intel_save_allowlist(&actor(), "top", "hostname", "", &["google.com".into()], true).await.unwrap();

    let mut out = Vec::new();
    let req = ExportRequest::new(ExportFormat::List, db.clock.now());
    let report = anbao_feeds::export(&db.store, &req, &mut out).await.unwrap();
    let text = String::from_utf8(out).unwrap();
    let values: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(values.len(), 3, "{text}");
    assert!(!text.contains("google.com"));
    assert_eq!((report.written, report.allowlisted), (3, 1));

    let mut out = Vec::new();
    let mut req = ExportRequest::new(ExportFormat::Rpz, db.clock.now());
    req.include_allowlisted = true;
    let report = anbao_feeds::export(&db.store, &req, &mut out).await.unwrap();
    let zone = String::from_utf8(out).unwrap();
    assert!(zone.lines().any(|l| l == "google.com CNAME ."), "{zone}");
    assert!(zone.contains("32.7.100.51.198.rpz-ip CNAME ."), "addresses become rpz-ip triggers: {zone}");
    assert_eq!(report.skipped, 1, "the URL cannot be an RPZ trigger");

    let mut out = Vec::new();
    let req = ExportRequest::new(ExportFormat::Stix, db.clock.now());
    let report = anbao_feeds::export(&db.store, &req, &mut out).await.unwrap();
    let bundle: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(bundle["type"], "bundle");
    let patterns: Vec<&str> =
        bundle["objects"].as_array().unwrap().iter().filter_map(|o| o["pattern"].as_str()).collect();
    assert_eq!(patterns.len(), 3, "{patterns:?}");
    assert!(patterns.contains(&"[domain-name:value = 'evil.example']"), "{patterns:?}");
    assert_eq!(report.written, 3);
}

/// Our detections go back out as STIX sightings of the exported
/// indicators, which the OASIS validator accepts.
#[tokio::test]
async fn stix_exports_carry_sightings_of_what_detection_saw() {
    let db = sqlite().await;
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("cc.txt");
    std::fs::write(
        &list,
        "evil.example
quiet.example
",
    )
    .unwrap();
    run(&db, vec![Input::Path(list)], ImportOptions { category: Some(Category::BotnetCc), ..ImportOptions::default() })
        .await;
    let evil =
        db.store.intel_indicator_by_value(anbao_intel::IndicatorKind::Domain, "evil.example").await.unwrap().unwrap();
    let t0 = db.clock.now();
    let draft =
        |victim: &str, count: i64, first: time::OffsetDateTime, last: time::OffsetDateTime| anbao_store::AlertDraft {
            dedup_key: format!("intel:{victim}:{}", evil.id),
            rule: "intel".into(),
            category: String::new(),
            severity: 0,
            victim: victim.into(),
            indicator_id: Some(evil.id),
            indicator: "evil.example".into(),
            match_how: "exact".into(),
            field: "dns.qname".into(),
            observed: "evil.example".into(),
            score: None,
            reason: String::new(),
            count,
            first_seen: first,
            last_seen: last,
            sensor: "edge".into(),
            evidence: "{}".into(),
        };
    db.store
        .apply_alerts(
            &[
                draft("10.0.0.5", 3, t0 - Duration::hours(2), t0 - Duration::hours(1)),
                draft("10.0.0.6", 4, t0 - Duration::hours(3), t0),
            ],
            None,
        )
        .await
        .unwrap();

    let mut out = Vec::new();
    let mut req = ExportRequest::new(ExportFormat::Stix, db.clock.now());
    req.sightings = true;
    anbao_feeds::export(&db.store, &req, &mut out).await.unwrap();
    let bundle: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let objects = bundle["objects"].as_array().unwrap();
    let sightings: Vec<&serde_json::Value> = objects.iter().filter(|o| o["type"] == "sighting").collect();
    assert_eq!(sightings.len(), 1, "only the indicator detection saw: {bundle}");
    let s = sightings[0];
    let evil_stix = objects.iter().find(|o| o["pattern"] == "[domain-name:value = 'evil.example']").unwrap();
    assert_eq!(s["sighting_of_ref"], evil_stix["id"]);
    assert_eq!(s["count"], 7);
    assert_eq!(s["first_seen"], anbao_model::clock::format_ts(t0 - Duration::hours(3)));
    assert_eq!(s["last_seen"], anbao_model::clock::format_ts(t0));
    assert!(!bundle.to_string().contains("10.0.0.5"), "no subscriber data leaves");

    // Without asking, no sightings.
    let mut out = Vec::new();
    anbao_feeds::export(&db.store, &ExportRequest::new(ExportFormat::Stix, db.clock.now()), &mut out).await.unwrap();
    assert!(!String::from_utf8(out).unwrap().contains("\"sighting\""));

    // Publishing shares the sighting with the indicator, and again unchanged.
    use anbao_store::{CollectionDraft, ObjectFilter, PublishFilter};
    let draft = CollectionDraft {
        title: "c2 for partners".into(),
        publish: Some(PublishFilter { categories: vec![Category::BotnetCc], max_tlp: None }),
        ..CollectionDraft::default()
    };
    let shared = db.store.taxii_create_collection(&actor(), &draft).await.unwrap();
    let r = anbao_feeds::publish::publish(&db.store, &actor(), &shared.id).await.unwrap();
    assert_eq!((r.admitted, r.added), (2, 3), "two indicators and one sighting: {r:?}");
    let page = db.store.taxii_objects(&shared.id, &ObjectFilter::default(), 100, true).await.unwrap();
    assert!(page.objects.iter().any(|o| o.body.contains("\"sighting_of_ref\"")), "the sighting is in the collection");
    let again = anbao_feeds::publish::publish(&db.store, &actor(), &shared.id).await.unwrap();
    assert_eq!((again.added, again.unchanged), (0, 3), "{again:?}");

    // The OASIS validator accepts the bundle with its sighting.
    let py = std::env::var("ANBAO_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let file = dir.path().join("bundle.json");
    std::fs::write(&file, serde_json::to_vec(&bundle).unwrap()).unwrap();
    let checked = std::process::Command::new(&py)
        .args([
            "-c",
            "import sys; from stix2validator.scripts.stix2_validator import main; sys.exit(main())",
            "--no-cache",
        ])
        .arg(&file)
        .output()
        .unwrap_or_else(|e| panic!("running {py} (ANBAO_PYTHON, with tests/python-requirements.txt): {e}"));
    let text = String::from_utf8_lossy(&checked.stdout);
    assert!(
        checked.status.success() && !text.contains("[X]"),
        "stix2-validator: {text} {}",
        String::from_utf8_lossy(&checked.stderr)
    );
}

#[tokio::test]
async fn pipeline_on_postgres() {
    let base =
        std::env::var("ANBAO_TEST_POSTGRES").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let name = format!("anbao_feeds_{}", std::process::id());
    let admin = format!("{}/postgres", base.rsplit_once('/').unwrap().0);
    {
        use sqlx::Connection;
        let mut c = sqlx::PgConnection::connect(&admin).await.expect("PostgreSQL must be reachable for this test");
        sqlx::query(&format!("DROP DATABASE IF EXISTS {name}")).execute(&mut c).await.unwrap();
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut c).await.unwrap();
    }
    let url = format!("{}/{name}", base.rsplit_once('/').unwrap().0);
    let store =
        Store::open(&url, StoreOptions::new(Sealer::from_hex(&Sealer::generate_key_hex()).unwrap())).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("big.txt");
    let text: String = (0..12_000).map(|n| format!("host{n}.bulk.example\n")).collect();
    std::fs::write(&list, text).unwrap();
    let s = anbao_feeds::import(
        &store,
        &actor(),
        vec![Input::Path(list.clone())],
        ImportOptions::default(),
        Arc::new(NoProgress),
    )
    .await
    .unwrap();
    assert_eq!((s.accepted, s.updated), (12_000, 0), "several batches");
    let s =
        anbao_feeds::import(&store, &actor(), vec![Input::Path(list)], ImportOptions::default(), Arc::new(NoProgress))
            .await
            .unwrap();
    assert_eq!((s.accepted, s.updated), (0, 12_000), "idempotent");
    let snap = build_snapshot(&store).await.unwrap();
    assert_eq!(snap.indicators, 12_000);
    store.close().await;
}

#[tokio::test]
async fn publishing_follows_the_filter_and_adds_only_changes() {
    use anbao_store::{CollectionDraft, ObjectFilter, PublishFilter};
    let db = sqlite().await;
    let dir = tempfile::tempdir().unwrap();
    let phish = dir.path().join("phish.txt");
    std::fs::write(&phish, "login-bank.example\nhttp://pay.example/login\n").unwrap();
    let c2 = dir.path().join("c2.txt");
    std::fs::write(&c2, "c2.example\n").unwrap();
    run(
        &db,
        vec![Input::Path(phish.clone())],
        ImportOptions { category: Some(Category::Phishing), ..ImportOptions::default() },
    )
    .await;
    run(&db, vec![Input::Path(c2)], ImportOptions { category: Some(Category::BotnetCc), ..ImportOptions::default() })
        .await;

    let plain = db
        .store
        .taxii_create_collection(&actor(), &CollectionDraft { title: "no filter".into(), ..CollectionDraft::default() })
        .await
        .unwrap();
    let err = anbao_feeds::publish::publish(&db.store, &actor(), &plain.id).await.unwrap_err();
    assert!(err.to_string().contains("no publish filter"), "{err}");

    let draft = CollectionDraft {
        title: "phishing for partners".into(),
        can_read: vec![anbao_model::Role::Regulator],
        publish: Some(PublishFilter { categories: vec![Category::Phishing], max_tlp: None }),
        ..CollectionDraft::default()
    };
    let shared = db.store.taxii_create_collection(&actor(), &draft).await.unwrap();
    let r = anbao_feeds::publish::publish(&db.store, &actor(), &shared.id).await.unwrap();
    assert_eq!((r.admitted, r.added, r.unchanged, r.failed), (2, 2, 0, 0), "{r:?}");
    let page = db.store.taxii_objects(&shared.id, &ObjectFilter::default(), 100, true).await.unwrap();
    let bodies: Vec<String> = page.objects.iter().map(|o| o.body.clone()).collect();
    assert!(bodies.iter().any(|b| b.contains("login-bank.example")), "{bodies:?}");
    assert!(!bodies.iter().any(|b| b.contains("c2.example")), "other categories stay home");

    let again = anbao_feeds::publish::publish(&db.store, &actor(), &shared.id).await.unwrap();
    assert_eq!((again.added, again.unchanged), (0, 2), "nothing changed, nothing new");

    db.clock.advance(Duration::hours(1));
    std::fs::write(&phish, "login-bank.example\n").unwrap();
    run(
        &db,
        vec![Input::Path(phish)],
        ImportOptions { category: Some(Category::Phishing), source: Some("second".into()), ..ImportOptions::default() },
    )
    .await;
    let changed = anbao_feeds::publish::publish(&db.store, &actor(), &shared.id).await.unwrap();
    assert_eq!((changed.added, changed.unchanged), (1, 1), "a new version for the indicator a second source confirmed");
}
