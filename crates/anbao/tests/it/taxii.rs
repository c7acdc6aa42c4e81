//! The TAXII 2.1 server against the real OASIS client: `anbao serve` with
//! a collection and a token, driven by `tests/taxii_interop.py` through
//! taxii2-client (discovery, API root, collections, add objects and poll
//! the status, 10,000 objects paged without loss or repeats, single
//! objects, versions, manifest, delete).
//!
//! The interpreter is `$ANBAO_PYTHON` (default `python3`); it must have
//! taxii2-client installed from `tests/python-requirements.txt`. A missing
//! module fails the test rather than skipping it.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{Auth, Server, create_token, data_dir, json};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/taxii_interop.py");
const REQUIREMENTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/python-requirements.txt");

/// Longest the script may run (it adds and pages through 10,000 objects).
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(600);

/// The interpreter to use, checked to have taxii2-client.
fn python() -> String {
    let python = std::env::var("ANBAO_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let requirements = Path::new(REQUIREMENTS).canonicalize().unwrap_or_else(|_| REQUIREMENTS.into());
    let how = format!(
        "the TAXII interoperability test needs Python with taxii2-client: run \
         `python3 -m venv /tmp/anbao-venv && /tmp/anbao-venv/bin/pip install -r {}` \
         and set ANBAO_PYTHON=/tmp/anbao-venv/bin/python",
        requirements.display()
    );
    let probe = Command::new(&python)
        .args(["-c", "import taxii2client, requests"])
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {python:?} ({e}); {how}"));
    assert!(
        probe.status.success(),
        "{python:?} cannot import taxii2client ({}); {how}",
        String::from_utf8_lossy(&probe.stderr).trim()
    );
    python
}

#[test]
fn the_oasis_taxii2_client_interoperates() {
    let python = python();
    let dir = data_dir();
    let admin = create_token(dir.path(), None, "admin", "taxii-admin");
    let client_token = create_token(dir.path(), None, "analyst", "taxii-client");
    let server = Server::start(dir.path(), None);
    let collection = json!({
        "title": "Interop", "description": "taxii2-client interoperability",
        "can_read": ["analyst", "regulator"], "can_write": ["analyst"],
    });
    let created =
        server.client().post_json("/api/v1/taxii/collections", Auth::Bearer(&admin), &collection).expect(201).json();
    let id = created["id"].as_str().unwrap_or_else(|| panic!("no collection id: {created}")).to_owned();

    let mut child = Command::new(&python)
        .arg(SCRIPT)
        .args(["--url", &format!("{}/taxii2/", server.url), "--token", &client_token, "--collection", &id])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("running {python} {SCRIPT}: {e}"));
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    };
    let stdout = drain(Box::new(child.stdout.take().expect("stdout")));
    let stderr = drain(Box::new(child.stderr.take().expect("stderr")));
    let deadline = Instant::now() + SCRIPT_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for the script") {
            break Some(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let (out, err) = (stdout.join().unwrap_or_default(), stderr.join().unwrap_or_default());
    let report = format!("--- script stdout ---\n{out}\n--- script stderr ---\n{err}\n{}", server.report());
    assert!(status.is_some(), "the script did not finish within {SCRIPT_TIMEOUT:?}\n{report}");
    assert!(status.is_some_and(|s| s.success()), "taxii2-client interoperability failed ({status:?})\n{report}");
    assert!(out.contains("taxii2-client interoperates"), "{report}");
    println!("{out}");
    drop(server);
}
