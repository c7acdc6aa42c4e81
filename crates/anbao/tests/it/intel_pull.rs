//! `anbao intel source` and `anbao intel pull` against real servers
//! (issue #4): the OASIS reference TAXII 2.1 server medallion 3.0.0 on
//! loopback (memory backend, Basic auth, small pages), and a MISP feed
//! served by Python's `http.server`. Each pull must start where the last
//! one left off.
//!
//! The interpreter is `$ANBAO_PYTHON` (default `python3`); it must have
//! medallion installed from `tests/python-requirements.txt`. A missing
//! module fails the test rather than skipping it.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{Output, Value, anbao, data_dir, json};

const REQUIREMENTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/python-requirements.txt");
const MISP_FEED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../anbao-intel/test_data/misp/feed");

const COLLECTION: &str = "91a7b528-80eb-42ed-a74d-c6fbd5a26116";
const USER: &str = "reader";
const PASSWORD: &str = "Taxii-Reader-Pw1";
const TAXII_MEDIA_TYPE: &str = "application/taxii+json;version=2.1";

/// Indicators the collection starts with; medallion pages them by 100.
const INITIAL: usize = 250;

/// `$ANBAO_PYTHON`, else `python3`.
fn interpreter() -> String {
    std::env::var("ANBAO_PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

/// The interpreter to use, checked to have medallion.
fn python() -> String {
    let python = interpreter();
    let requirements = Path::new(REQUIREMENTS).canonicalize().unwrap_or_else(|_| REQUIREMENTS.into());
    let how = format!(
        "the pull tests need Python with medallion 3.0.0: run \
         `python3 -m venv /tmp/anbao-venv && /tmp/anbao-venv/bin/pip install -r {}` \
         and set ANBAO_PYTHON=/tmp/anbao-venv/bin/python",
        requirements.display()
    );
    let probe = Command::new(&python)
        .args(["-c", "import medallion.scripts.run, medallion.backends.memory_backend"])
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {python:?} ({e}); {how}"));
    assert!(
        probe.status.success(),
        "{python:?} cannot import medallion ({}); {how}",
        String::from_utf8_lossy(&probe.stderr).trim()
    );
    python
}

/// A port nobody listens on right now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free loopback port").port()
}

/// A child process killed when the test ends, with its log for failures.
struct Daemon {
    child: Child,
    log: std::path::PathBuf,
}

impl Daemon {
    fn start(cmd: &mut Command, log: std::path::PathBuf) -> Daemon {
        let file = std::fs::File::create(&log).expect("creating a log file");
        let err = file.try_clone().expect("cloning the log file");
        let child = cmd
            .stdin(Stdio::null())
            .stdout(file)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {cmd:?}: {e}"));
        Daemon { child, log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until `url` answers over HTTP at all (any status).
    fn wait_for(&mut self, url: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(5)).build();
        loop {
            match agent.get(url).call() {
                Ok(_) | Err(ureq::Error::Status(..)) => return,
                Err(_) => {}
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("the server exited ({status}) before answering {url}:\n{}", self.log());
            }
            assert!(Instant::now() < deadline, "{url} did not answer within a minute:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18u32, 12, 6, 0].into_iter().enumerate() {
            out.push(if i <= chunk.len() { char::from(ALPHABET[((n >> shift) & 63) as usize]) } else { '=' });
        }
    }
    out
}

/// The value indicator `n` names: a domain for even n, an address for odd.
fn value(n: usize) -> String {
    if n.is_multiple_of(2) { format!("c2-{n}.pull.example") } else { format!("198.51.100.{}", n / 2) }
}

fn indicator(n: usize, created: &str) -> Value {
    let v = value(n);
    let pattern =
        if n.is_multiple_of(2) { format!("[domain-name:value = '{v}']") } else { format!("[ipv4-addr:value = '{v}']") };
    json!({
        "type": "indicator", "spec_version": "2.1",
        "id": format!("indicator--7a1b0000-0000-4000-8000-{n:012}"),
        "created": created, "modified": created,
        // No indicator_types: the category is the source's.
        "name": format!("C2 {v}"),
        "pattern": pattern, "pattern_type": "stix", "valid_from": created,
    })
}

/// Object n of the initial collection was added at second n.
fn date_added(n: usize) -> String {
    format!("2024-02-01T00:{:02}:{:02}.000000Z", n / 60, n % 60)
}

/// Writes medallion's configuration and memory-backend data file (the
/// format of medallion's `MemoryBackend`: discovery, then per API root its
/// information, statuses and collections with objects and manifest).
fn medallion_files(dir: &Path, port: u16) -> std::path::PathBuf {
    let created = "2024-01-15T00:00:00.000Z";
    let objects: Vec<Value> = (0..INITIAL).map(|n| indicator(n, created)).collect();
    let manifest: Vec<Value> = (0..INITIAL)
        .map(|n| {
            json!({
                "id": objects[n]["id"], "date_added": date_added(n), "version": created,
                "media_type": "application/stix+json;version=2.1",
            })
        })
        .collect();
    let root = format!("http://127.0.0.1:{port}/api1/");
    let data = json!({
        "/discovery": {"title": "anbao pull test", "default": root, "api_roots": [root]},
        "api1": {
            "information": {
                "title": "API root 1", "versions": [TAXII_MEDIA_TYPE], "max_content_length": 10_485_760,
            },
            "status": [],
            "collections": [{
                "id": COLLECTION, "title": "C2 indicators", "can_read": true, "can_write": true,
                "media_types": ["application/stix+json;version=2.1"],
                "objects": objects, "manifest": manifest,
            }],
        },
    });
    let data_file = dir.join("data.json");
    std::fs::write(&data_file, data.to_string()).expect("writing medallion's data file");
    let config = json!({
        "backend": {
            "module": "medallion.backends.memory_backend", "module_class": "MemoryBackend",
            "filename": data_file,
        },
        "users": {"reader": PASSWORD},
        "taxii": {"max_page_size": 100},
    });
    let config_file = dir.join("config.json");
    std::fs::write(&config_file, config.to_string()).expect("writing medallion's configuration");
    config_file
}

/// `anbao intel pull NAME --json` that succeeded: the summary.
#[track_caller]
fn pull(dir: &Path, name: &str) -> (Value, Output) {
    let out = anbao(["intel", "pull", name, "--json"]).data_dir(dir).run().ok();
    (out.json(), out)
}

#[test]
fn taxii_pulls_from_medallion_page_by_page_and_remember_where_they_left_off() {
    let python = python();
    let work = data_dir();
    let port = free_port();
    let config = medallion_files(work.path(), port);
    let mut medallion = Daemon::start(
        Command::new(&python)
            .args(["-m", "medallion.scripts.run", "--host", "127.0.0.1", "--port", &port.to_string()])
            .arg(&config),
        work.path().join("medallion.log"),
    );
    let base = format!("http://127.0.0.1:{port}");
    medallion.wait_for(&format!("{base}/taxii2/"));
    let api_root = format!("{base}/api1/");
    let dir = data_dir();

    let add = ["intel", "source", "add", "medallion", "--taxii", &api_root, "--collection", COLLECTION];
    anbao(add)
        .arg("--user")
        .arg(USER)
        .arg("--password-env")
        .arg("PULL_TEST_PASSWORD")
        .arg("--category")
        .arg("botnet_cc")
        .env("PULL_TEST_PASSWORD", PASSWORD)
        .data_dir(dir.path())
        .run()
        .ok();
    let listed = anbao(["intel", "source", "list", "--json"]).data_dir(dir.path()).run().ok();
    assert!(!listed.stdout.contains(PASSWORD), "the password must not be listed: {listed}");
    assert_eq!(listed.json()[0]["has_password"], true, "{listed}");

    // Everything, in pages of medallion's size.
    let (s, out) = pull(dir.path(), "medallion");
    assert_eq!(s["accepted"], INITIAL as u64, "{out}");
    assert_eq!((s["rejected"].as_u64(), s["unreadable"].as_u64()), (Some(0), Some(0)), "{out}");
    assert!(s["pages"].as_u64().unwrap() > 1, "medallion pages by 100: {out}");
    assert_eq!(s["pages"], 3, "{out}");
    assert_eq!(s["cursor_before"], "", "{out}");
    assert_eq!(s["cursor_after"], date_added(INITIAL - 1), "{out}");
    assert_eq!((s["not_modified"].as_bool(), s["more"].as_bool()), (Some(false), Some(false)), "{out}");
    assert_eq!(s["source"], "medallion", "{out}");

    // Again: nothing new, no import run.
    let (again, out) = pull(dir.path(), "medallion");
    assert_eq!((again["accepted"].as_u64(), again["updated"].as_u64()), (Some(0), Some(0)), "{out}");
    assert_eq!((again["not_modified"].as_bool(), again["import_id"].as_u64()), (Some(true), Some(0)), "{out}");
    assert_eq!(again["cursor_after"], date_added(INITIAL - 1), "{out}");

    // Two objects added to the collection: the next pull brings exactly those.
    let new: Vec<Value> = (INITIAL..INITIAL + 2).map(|n| indicator(n, "2024-03-01T00:00:00.000Z")).collect();
    let body = json!({ "objects": new }).to_string();
    let status = ureq::post(&format!("{api_root}collections/{COLLECTION}/objects/"))
        .set("Authorization", &format!("Basic {}", base64(format!("{USER}:{PASSWORD}").as_bytes())))
        .set("Accept", TAXII_MEDIA_TYPE)
        .set("Content-Type", TAXII_MEDIA_TYPE)
        .send_string(&body)
        .unwrap_or_else(|e| panic!("adding objects to medallion: {e}\n{}", medallion.log()));
    assert_eq!(status.status(), 202);
    let (fresh, out) = pull(dir.path(), "medallion");
    assert_eq!((fresh["accepted"].as_u64(), fresh["updated"].as_u64()), (Some(2), Some(0)), "{out}");
    assert_eq!(fresh["objects"], 2, "{out}");
    assert_eq!(fresh["cursor_before"], date_added(INITIAL - 1), "{out}");
    assert!(fresh["cursor_after"].as_str().unwrap() > date_added(INITIAL - 1).as_str(), "{out}");

    // A wrong password: exit 2, naming the status.
    anbao(["intel", "source", "add", "wrong", "--taxii", &api_root, "--collection", COLLECTION])
        .arg("--user")
        .arg(USER)
        .arg("--password-env")
        .arg("PULL_TEST_PASSWORD")
        .env("PULL_TEST_PASSWORD", "not-the-password")
        .data_dir(dir.path())
        .run()
        .ok();
    let out = anbao(["intel", "pull", "wrong"]).data_dir(dir.path()).run().expect_code(2);
    out.expect_mentions(&["401", &format!("{api_root}collections/{COLLECTION}/objects/")]);
    assert!(!out.all().contains("not-the-password"), "{out}");
    let listed = anbao(["intel", "source", "list"]).data_dir(dir.path()).run().ok();
    assert!(listed.stdout.lines().any(|l| l.starts_with("wrong\t") && l.contains("failed: ")), "{listed}");

    // What was pulled matches.
    for n in [100, 151, INITIAL + 1] {
        let out = anbao(["intel", "lookup", &value(n)]).data_dir(dir.path()).run().expect_code(0);
        assert!(out.stdout.contains("medallion"), "{out}");
    }
    let out = anbao(["intel", "lookup", "sub.c2-42.pull.example"]).data_dir(dir.path()).run().expect_code(0);
    assert!(out.stdout.contains("parent domain c2-42.pull.example") && out.stdout.contains("botnet_cc"), "{out}");

    // --all pulls every enabled source and reports the failure.
    let out = anbao(["intel", "pull", "--all", "--json"]).data_dir(dir.path()).run().expect_code(2);
    assert_eq!(out.stdout.lines().count(), 2, "{out}");
    anbao(["intel", "source", "remove", "wrong"]).data_dir(dir.path()).run().ok();
    anbao(["intel", "pull", "--all"]).data_dir(dir.path()).run().ok().expect_mentions(&["nothing new"]);
    drop(medallion);
}

#[test]
fn passwords_are_never_taken_as_arguments() {
    let dir = data_dir();
    let out = anbao(["intel", "source", "add", "x", "--url", "https://a.example/l.txt", "--password", "pw"])
        .data_dir(dir.path())
        .run()
        .expect_code(2);
    out.expect_mentions(&["--password"]);
    let out =
        anbao(["intel", "source", "add", "x", "--url", "https://a.example/l.txt", "--password-env", "NO_SUCH_VAR_X"])
            .data_dir(dir.path())
            .run()
            .expect_code(2);
    out.expect_mentions(&["NO_SUCH_VAR_X"]);
    let out = anbao(["intel", "source", "add", "x", "--url", "https://u:p@a.example/l.txt"])
        .data_dir(dir.path())
        .run()
        .expect_code(2);
    out.expect_mentions(&["url"]);
    anbao(["intel", "source", "add", "x", "--taxii", "https://t.example/api1/"])
        .data_dir(dir.path())
        .run()
        .expect_code(2);
    anbao(["intel", "pull", "nobody"]).data_dir(dir.path()).run().expect_code(2).expect_mentions(&["nobody"]);
}

#[test]
fn misp_feed_pulls_import_only_new_or_changed_events() {
    // Any Python serves files.
    let python = interpreter();
    let feed = data_dir();
    for entry in std::fs::read_dir(MISP_FEED).expect("the MISP feed fixture") {
        let entry = entry.expect("a fixture file");
        std::fs::copy(entry.path(), feed.path().join(entry.file_name())).expect("copying the MISP feed");
    }
    let port = free_port();
    let logs = data_dir();
    let mut web = Daemon::start(
        Command::new(&python)
            .args(["-m", "http.server", &port.to_string(), "--bind", "127.0.0.1", "--directory"])
            .arg(feed.path()),
        logs.path().join("http.log"),
    );
    let base = format!("http://127.0.0.1:{port}/");
    web.wait_for(&format!("{base}manifest.json"));
    let dir = data_dir();
    anbao(["intel", "source", "add", "cert", "--misp-feed", &format!("{base}manifest.json"), "--every", "60"])
        .data_dir(dir.path())
        .run()
        .ok();

    let manifest_path = feed.path().join("manifest.json");
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest_path).expect("manifest")).expect("manifest JSON");
    let events = manifest.as_object().expect("events by uuid").len() as u64;

    let (s, out) = pull(dir.path(), "cert");
    assert_eq!(s["pages"], events, "every event fetched: {out}");
    assert!(s["accepted"].as_u64().unwrap() > 0, "{out}");
    assert_eq!(s["unreadable"], 0, "{out}");
    let cursor: Value = serde_json::from_str(s["cursor_after"].as_str().unwrap()).expect("the cursor is JSON");
    assert_eq!(cursor.as_object().map(|o| o.len() as u64), Some(events), "{out}");

    let (again, out) = pull(dir.path(), "cert");
    assert_eq!((again["pages"].as_u64(), again["not_modified"].as_bool()), (Some(0), Some(true)), "{out}");

    // One event changes (its manifest timestamp moves): only it comes again.
    let mut changed = manifest.clone();
    let (uuid, entry) = changed.as_object_mut().and_then(|o| o.iter_mut().last()).expect("an event");
    let uuid = uuid.clone();
    let old: i64 = entry["timestamp"].as_str().and_then(|t| t.parse().ok()).expect("a timestamp");
    entry["timestamp"] = Value::from((old + 3600).to_string());
    std::fs::write(&manifest_path, changed.to_string()).expect("rewriting the manifest");
    let (third, out) = pull(dir.path(), "cert");
    assert_eq!(third["pages"], 1, "{out}");
    assert_eq!(third["accepted"], 0, "{out}");
    assert!(third["updated"].as_u64().unwrap() > 0, "{out}");
    let cursor: Value = serde_json::from_str(third["cursor_after"].as_str().unwrap()).expect("the cursor is JSON");
    assert_eq!(cursor[&uuid], old + 3600, "{out}");
    drop(web);
}
