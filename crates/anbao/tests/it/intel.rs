//! `anbao intel`: the command-line contract of issue #4 — import summaries
//! (`--json` keys), lookup exit codes like grep, exports that the real DNS
//! servers load and the OASIS validator accepts, on SQLite and PostgreSQL.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::{PgDb, anbao, data_dir};

const INTEL_DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../anbao-intel/test_data");
const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("writing a fixture");
    p
}

#[test]
fn import_json_summary_names_counts_and_every_rejected_value() {
    let dir = data_dir();
    let feeds = data_dir();
    let list = write(feeds.path(), "c2.txt", "# C2 servers\nevil.example\n203.0.113.0/24\n10.1.2.3/8\nnot a value\n");
    let out = anbao(["intel", "import", "--json", "--category", "botnet_cc", "--source", "abuse"])
        .arg(&list)
        .data_dir(dir.path())
        .run()
        .ok();
    let s = out.json();
    assert_eq!((s["accepted"].as_u64(), s["updated"].as_u64()), (Some(2), Some(0)), "{out}");
    assert_eq!(s["rejected"], 2, "{out}");
    assert_eq!(s["not_matchable"], 0, "{out}");
    let errors = s["errors"].as_array().expect("errors array");
    assert_eq!(errors[0]["location"], "line 4", "{out}");
    assert!(errors[0]["reason"].as_str().unwrap().contains("10.0.0.0/8"), "the reason names the network: {out}");

    // Again: everything is an update, nothing new.
    let out = anbao(["intel", "import", "--json", "--source", "abuse"]).arg(&list).data_dir(dir.path()).run().ok();
    assert_eq!((out.json()["accepted"].as_u64(), out.json()["updated"].as_u64()), (Some(0), Some(2)), "{out}");

    // The well-known poisonivy report carries a malformed domain: reported, not fatal.
    let out = anbao(["intel", "import", "--json"])
        .arg(format!("{INTEL_DATA}/stix/poisonivy-2.1.json"))
        .data_dir(dir.path())
        .run()
        .ok();
    let s = out.json();
    assert!(s["accepted"].as_u64().unwrap() > 10, "{out}");
    assert!(s["rejected"].as_u64().unwrap() >= 1, "{out}");
    assert!(
        s["errors"].as_array().unwrap().iter().any(|e| e["kind"] == "rejected" && e["reason"].as_str().is_some()),
        "{out}"
    );

    // Without --json: a one-line summary, problems on stderr.
    let out = anbao(["intel", "import"]).arg(&list).data_dir(dir.path()).run().ok();
    assert!(out.stdout.contains("0 accepted, 2 updated, 2 rejected"), "{out}");
    assert!(out.stderr.contains("line 4"), "{out}");
}

#[test]
fn import_of_a_missing_file_exits_2_and_says_which() {
    let dir = data_dir();
    let out = anbao(["intel", "import", "/nonexistent/feed.txt"]).data_dir(dir.path()).run().expect_code(2);
    out.expect_mentions(&["/nonexistent/feed.txt"]);
    let out = anbao(["intel", "import", "--format", "csv", "x.csv"]).data_dir(dir.path()).run().expect_code(2);
    out.expect_mentions(&["--value-column"]);
    anbao(["intel", "import", "--format", "yaml", "x"]).data_dir(dir.path()).run().expect_code(2);
}

#[test]
fn lookup_exits_like_grep_and_says_why() {
    let dir = data_dir();
    let feeds = data_dir();
    let list = write(feeds.path(), "c2.txt", "evil.example\n198.51.100.0/24\nhttp://phish.example/login/\n");
    anbao(["intel", "import", "--category", "phishing"]).arg(&list).data_dir(dir.path()).run().ok();

    let out = anbao(["intel", "lookup", "a.b.EVIL.example."]).data_dir(dir.path()).run().expect_code(0);
    assert!(out.stdout.contains("parent domain evil.example"), "{out}");
    assert!(out.stdout.contains("phishing"), "{out}");
    let out = anbao(["intel", "lookup", "198.51.100.77", "--json"]).data_dir(dir.path()).run().expect_code(0);
    let v = out.json();
    assert_eq!(v["hits"][0]["match"], "covering_cidr", "{out}");
    assert_eq!(v["hits"][0]["listed"], "198.51.100.0/24", "{out}");
    assert_eq!(v["hits"][0]["indicators"][0]["source_names"][0], "c2", "{out}");
    let out = anbao(["intel", "lookup", "http://PHISH.example:80/login/step2?x=1"]).data_dir(dir.path()).run();
    let out = out.expect_code(0);
    assert!(out.stdout.contains("url_prefix"), "{out}");

    let out = anbao(["intel", "lookup", "notevil.example", "198.51.101.1"]).data_dir(dir.path()).run().expect_code(1);
    assert_eq!(out.stdout.matches("no match").count(), 2, "{out}");
    anbao(["intel", "lookup", "x.example", "--database", "mysql://nowhere/db"])
        .data_dir(dir.path())
        .run()
        .expect_code(2);
}

fn checkzone(zone_file: &Path) {
    let out = Command::new("named-checkzone")
        .args(["-k", "fail", "rpz.anbao."])
        .arg(zone_file)
        .output()
        .expect("named-checkzone (Debian package bind9-utils) must be installed");
    assert!(
        out.status.success(),
        "named-checkzone: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn unbound_checkconf(dir: &Path, include: &Path) {
    let conf = write(
        dir,
        "unbound.conf",
        &format!(
            "server:\n  chroot: \"\"\n  username: \"\"\n  directory: \"{d}\"\n  pidfile: \"{d}/unbound.pid\"\n  use-syslog: no\ninclude: \"{}\"\n",
            include.display(),
            d = dir.display()
        ),
    );
    let out = Command::new("/usr/sbin/unbound-checkconf")
        .arg(&conf)
        .output()
        .expect("unbound-checkconf (Debian package unbound) must be installed");
    assert!(
        out.status.success(),
        "unbound-checkconf: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn python() -> String {
    std::env::var("ANBAO_PYTHON").unwrap_or_else(|_| "python3".into())
}

#[test]
fn exports_load_in_bind_unbound_and_pass_the_stix_validator() {
    let dir = data_dir();
    let feeds = data_dir();
    let list = write(
        feeds.path(),
        "mixed.txt",
        "evil.example\nxn--fsqu00a.xn--0zwm56d\n_dmarc.spam.example\n2001:db8::/48\n192.0.2.1\n\
         http://dl.example/payload.exe\n0123456789abcdef0123456789abcdef\ngoogle.com\n",
    );
    anbao(["intel", "import", "--category", "malicious_download"]).arg(&list).data_dir(dir.path()).run().ok();
    anbao(["intel", "import", "--json"]).arg(format!("{SHARED}/misp")).data_dir(dir.path()).run().ok();

    let out = anbao(["intel", "export", "--format", "rpz"]).data_dir(dir.path()).run().ok();
    let zone = write(feeds.path(), "rpz.zone", &out.stdout);
    checkzone(&zone);
    assert!(out.stdout.contains("*.evil.example CNAME ."), "{out}");
    let out = anbao(["intel", "export", "--format", "rpz", "--sinkhole", "10.0.0.53"]).data_dir(dir.path()).run().ok();
    let zone = write(feeds.path(), "rpz-sinkhole.zone", &out.stdout);
    checkzone(&zone);
    assert!(out.stdout.contains("A 10.0.0.53"), "{out}");

    let out = anbao(["intel", "export", "--format", "unbound"]).data_dir(dir.path()).run().ok();
    let conf = write(feeds.path(), "local-zones.conf", &out.stdout);
    unbound_checkconf(feeds.path(), &conf);
    assert!(out.stdout.contains("local-zone: \"evil.example.\" always_nxdomain"), "{out}");

    let out = anbao(["intel", "export", "--format", "csv", "--kind", "domain"]).data_dir(dir.path()).run().ok();
    assert!(out.stdout.lines().skip(1).all(|l| l.starts_with("domain,")), "{out}");
    let out = anbao(["intel", "export", "--format", "list", "--category", "trojan"]).data_dir(dir.path()).run().ok();
    let values: Vec<&str> = out.stdout.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(values.len(), 3, "the MISP event's three hashes: {out}");

    let out = anbao(["intel", "export", "--format", "stix"]).data_dir(dir.path()).run().ok();
    let bundle = write(feeds.path(), "bundle.json", &out.stdout);
    let v = Command::new(python())
        // The validator's own entry point: the package has no `__main__`.
        .args(["-c", "import sys; from stix2validator.scripts.stix2_validator import main; sys.exit(main())", "--no-cache"])
        .arg(&bundle)
        .output()
        .expect("a Python with stix2-validator: python3 -m venv .venv && .venv/bin/pip install -r tests/python-requirements.txt");
    let report = format!("{}{}", String::from_utf8_lossy(&v.stdout), String::from_utf8_lossy(&v.stderr));
    assert!(
        v.status.success(),
        "stix2-validator rejected the export (with ANBAO_PYTHON={}; install tests/python-requirements.txt): {report}",
        python()
    );
    assert!(report.contains("STIX JSON: Valid") && !report.contains("[X]"), "{report}");
}

#[test]
fn import_and_lookup_on_postgres() {
    let pg = PgDb::create();
    let dir = data_dir();
    let feeds = data_dir();
    let list = write(feeds.path(), "c2.txt", "evil.example\n203.0.113.5\n");
    let out = anbao(["intel", "import", "--json"]).arg(&list).data_dir(dir.path()).database(Some(&pg.url)).run().ok();
    assert_eq!(out.json()["accepted"], 2, "{out}");
    anbao(["intel", "lookup", "x.evil.example"]).data_dir(dir.path()).database(Some(&pg.url)).run().expect_code(0);
    let n = pg.psql("SELECT COUNT(*) FROM intel_provenance WHERE source = 'c2'");
    assert_eq!(n.trim(), "2");
}

#[test]
fn samples_go_in_zipped_and_come_out_zipped_for_standard_tools() {
    let dir = data_dir();
    let work = data_dir();
    // A zip made by Python's zipfile cannot be encrypted, so the CLI's own
    // `get` output is the round trip; a plain file goes in first.
    let elf = work.path().join("bot.arm7");
    std::fs::write(&elf, b"\x7fELF\x02\x01\x01\0not really a bot").unwrap();
    let out =
        anbao(["intel", "sample", "add", "--family", "Mirai", "--json"]).arg(&elf).data_dir(dir.path()).run().ok();
    let added = out.json();
    let sample = &added[0]["sample"];
    assert_eq!((sample["file_type"].as_str(), sample["family"].as_str()), (Some("elf"), Some("Mirai")), "{out}");
    let id = sample["id"].as_i64().unwrap().to_string();
    let sha = sample["sha256"].as_str().unwrap().to_owned();

    let out = anbao(["intel", "lookup", &sha]).data_dir(dir.path()).run().expect_code(0);
    assert!(out.stdout.contains("sample-library"), "the sample's hashes are indicators: {out}");

    anbao(["intel", "sample", "get", &id, "--output"])
        .arg(work.path().join("x.bin"))
        .data_dir(dir.path())
        .run()
        .expect_code(2);
    let zip = work.path().join("sample.zip");
    anbao(["intel", "sample", "get", &id, "--output"]).arg(&zip).data_dir(dir.path()).run().ok();
    // Python's zipfile (a standard tool) opens it with the conventional password.
    let py = Command::new("python3")
        .args(["-c", "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); n = z.namelist(); sys.stdout.write(n[0] + ' ' + z.read(n[0], pwd=b'infected').hex())"])
        .arg(&zip)
        .output()
        .expect("python3");
    let said = String::from_utf8_lossy(&py.stdout);
    assert!(py.status.success(), "{}", String::from_utf8_lossy(&py.stderr));
    assert_eq!(said, format!("bot.arm7 {}", hex_of(&std::fs::read(&elf).unwrap())));

    // The zip goes back in as a zipped upload: opened, recognised as known.
    let out = anbao(["intel", "sample", "add", "--json"]).arg(&zip).data_dir(dir.path()).run().ok();
    assert_eq!(out.json()[0]["created"], false, "{out}");
    let out = anbao(["intel", "sample", "add", "--zip-password", "wrong"])
        .arg(&zip)
        .data_dir(dir.path())
        .run()
        .expect_code(2);
    out.expect_mentions(&["password"]);
    let out = anbao(["intel", "sample", "list", "mirai", "--json"]).data_dir(dir.path()).run().ok();
    assert_eq!(out.json().as_array().map(Vec::len), Some(1), "{out}");
}

fn hex_of(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn feeds_described_by_misp_feed_metadata_are_read_as_described() {
    let dir = data_dir();
    let work = data_dir();
    let meta = format!(
        r#"[{{"Feed": {{"name": "cert-urls", "provider": "Example CERT", "url": "{data}/misp/csv-feed.csv",
              "source_format": "csv", "input_source": "local", "enabled": true,
              "settings": {{"csv": {{"value": "3", "delimiter": ","}}, "common": {{"excluderegex": ""}}}}}}}},
            {{"Feed": {{"name": "cert-report", "provider": "Example CERT", "url": "{data}/misp/freetext.txt",
              "source_format": "freetext", "input_source": "local", "enabled": true, "settings": "{{}}"}}}},
            {{"Feed": {{"name": "off", "url": "{data}/nope.txt", "source_format": "freetext", "input_source": "local",
              "enabled": false}}}}]"#,
        data = INTEL_DATA
    );
    let meta_file = write(work.path(), "feeds.json", &meta);
    let out = anbao(["intel", "import", "--json", "--feed-metadata"]).arg(&meta_file).data_dir(dir.path()).run().ok();
    let runs: Vec<serde_json::Value> = out.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(runs.len(), 2, "one run per enabled feed: {out}");
    assert_eq!(runs[0]["source"], "cert-urls", "{out}");
    assert_eq!(runs[1]["source"], "cert-report", "{out}");
    assert!(runs.iter().all(|r| r["accepted"].as_u64().unwrap() > 0), "{out}");
    anbao(["intel", "import", "--feed-metadata"])
        .arg(work.path().join("missing.json"))
        .data_dir(dir.path())
        .run()
        .expect_code(2);
}
