//! `anbao scan`: offline matching of logs and captures against indicator
//! files or the store, its exit codes, and the embedded pipeline of `anbao
//! serve` following a resolver log into alerts.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::harness::{Auth, TempDir, Value, anbao, create_token, serve, sqlite};

const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

const LOG: &str = "\
2026-11-25T10:00:00Z 10.0.0.5 www.evil.example A
2026-11-25T10:00:01Z 10.0.0.5 cdn.evil.example AAAA
2026-11-25T10:00:02Z 10.0.0.6 www.good.example A
2026-11-25T10:00:03Z 10.0.0.7 EVIL.example. A
";

#[test]
fn scan_against_an_indicator_file_prints_one_alert_per_victim_and_indicator() {
    let dir = TempDir::new().unwrap();
    let log = write(dir.path(), "queries.log", LOG);
    let list = write(dir.path(), "cc.txt", "evil.example\n203.0.113.9\n");
    let out =
        anbao(["scan", "--json", "--category", "botnet_cc", "--indicators"]).arg(&list).arg(&log).run().expect_code(1);
    let alerts: Vec<Value> = out.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(alerts.len(), 2, "{out}");
    let a = &alerts[0];
    assert_eq!(
        (a["victim"].as_str(), a["indicator"].as_str(), a["count"].as_u64()),
        (Some("10.0.0.5"), Some("evil.example"), Some(2))
    );
    assert_eq!(
        (a["match"].as_str(), a["field"].as_str(), a["category"].as_str()),
        (Some("parent_domain"), Some("dns.qname"), Some("botnet_cc"))
    );
    assert_eq!(a["sources"], serde_json::json!(["cc"]));
    assert_eq!(a["first_seen"], "2026-11-25T10:00:00Z");
    assert_eq!(a["last_seen"], "2026-11-25T10:00:01Z");
    assert_eq!(a["evidence"]["summary"], "query A www.evil.example");
    let b = &alerts[1];
    assert_eq!(
        (b["victim"].as_str(), b["match"].as_str(), b["observed"].as_str()),
        (Some("10.0.0.7"), Some("exact"), Some("EVIL.example"))
    );

    let table = anbao(["scan", "--indicators"]).arg(&list).arg(&log).run().expect_code(1);
    assert!(table.stdout.starts_with("VICTIM"), "{table}");
    assert_eq!(table.stdout.lines().count(), 3, "header and two alerts: {table}");
    table.expect_mentions(&["2 alert(s), 2 victim(s)"]);

    let clean = write(dir.path(), "clean.txt", "nothing.example\n");
    let none = anbao(["scan", "--json", "--indicators"]).arg(&clean).arg(&log).run().expect_code(0);
    assert!(none.stdout.is_empty(), "{none}");
}

#[test]
fn scan_exit_codes_say_what_was_not_read() {
    let dir = TempDir::new().unwrap();
    let list = write(dir.path(), "cc.txt", "evil.example\n");
    // A bad line in an otherwise clean log: nothing matched, but not all was read.
    let partly =
        write(dir.path(), "partly.log", "2026-11-25T10:00:00Z 10.0.0.6 www.good.example A\nnot a timestamp at all\n");
    anbao(["scan", "--indicators"])
        .arg(&list)
        .arg(&partly)
        .run()
        .expect_code(3)
        .expect_mentions(&["partly.log", "line 2"]);
    // Matches win over unread parts, and the problem is still reported.
    let both = write(dir.path(), "both.log", "2026-11-25T10:00:00Z 10.0.0.6 www.evil.example A\ngarbage\n");
    anbao(["scan", "--indicators"]).arg(&list).arg(&both).run().expect_code(1).expect_mentions(&["both.log", "line 2"]);
    anbao(["scan", "--indicators"]).arg(&list).arg(dir.path().join("missing.log")).run().expect_code(2);
    anbao(["scan", "--indicators"])
        .arg(dir.path().join("missing.txt"))
        .arg(&both)
        .run()
        .expect_code(2)
        .expect_mentions(&["missing.txt"]);
}

#[test]
fn scan_against_the_store_uses_its_indicators_and_sources() {
    let dir = TempDir::new().unwrap();
    let data = dir.path().join("data");
    let feed = write(dir.path(), "abuse-feed.txt", "evil.example\n");
    anbao(["intel", "import", "--category", "phishing", "--quiet"]).arg(&feed).data_dir(&data).run().ok();
    let log = write(dir.path(), "queries.log", LOG);
    let out = anbao(["scan", "--json"]).arg(&log).data_dir(&data).run().expect_code(1);
    let first: Value = serde_json::from_str(out.stdout.lines().next().unwrap()).unwrap();
    assert_eq!(
        (first["category"].as_str(), first["sources"][0].as_str()),
        (Some("phishing"), Some("abuse-feed")),
        "{out}"
    );
    assert!(first["indicator_id"].as_u64().unwrap() > 0);
}

#[test]
fn serve_follows_a_log_and_writes_alerts_to_the_store() {
    let dir = TempDir::new().unwrap();
    let data = dir.path().join("data");
    let feed = write(dir.path(), "cc.txt", "evil.example\n");
    anbao(["intel", "import", "--category", "botnet_cc", "--quiet"]).arg(&feed).data_dir(&data).run().ok();
    let log = write(dir.path(), "resolver.log", "2026-11-25T10:00:00Z 10.0.0.5 www.evil.example A\n");
    let spool = dir.path().join("spool");
    std::fs::create_dir(&spool).unwrap();
    let missing = dir.path().join("gone.log");
    let token = create_token(&data, None, "regulator", "status-reader");
    let inputs = format!("{},{},{}", log.display(), spool.display(), missing.display());
    let server = serve()
        .data_dir(&data)
        .env("ANBAO_DETECT_INPUTS", &inputs)
        .env("ANBAO_DETECT_FLUSH_SECONDS", "1")
        .env("ANBAO_DETECT_SENSOR", "resolver-1")
        .start();
    let db = data.join("anbao.db");
    let count = || -> i64 {
        sqlite(&db, "SELECT COALESCE(SUM(count), 0) FROM alerts WHERE victim = '10.0.0.5'").trim().parse().unwrap_or(0)
    };
    let wait_for = |n: i64| {
        let deadline = Instant::now() + Duration::from_secs(30);
        while count() < n {
            assert!(Instant::now() < deadline, "alerts count {} (want {n}): {}", count(), server.report());
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    wait_for(1);
    // Lines written later are read as the log grows.
    let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    writeln!(f, "2026-11-25T10:05:00Z 10.0.0.5 mail.evil.example A").unwrap();
    writeln!(f, "2026-11-25T10:05:01Z 10.0.0.6 www.good.example A").unwrap();
    drop(f);
    wait_for(2);
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(count(), 2, "exactly the two queries: {}", server.report());
    let row = sqlite(&db, "SELECT category, sensor, rule, indicator, last_seen FROM alerts");
    assert_eq!(row.trim(), "botnet_cc|resolver-1|intel|evil.example|2026-11-25T10:05:00.000Z");

    // The pipeline's own account of itself: API, page and /metrics agree.
    let client = server.client();
    let status = client.get("/api/v1/detection", Auth::Bearer(&token)).expect(200).json();
    assert_eq!(status["index"]["indicators"], 1, "{status}");
    let p = &status["pipeline"];
    assert_eq!(p["detections"], 2, "{status}");
    assert_eq!(p["flushed_alerts"], 2, "{status}");
    let inputs = p["inputs"].as_array().unwrap();
    let input = |name: &Path| inputs.iter().find(|i| i["name"] == name.to_str().unwrap()).unwrap();
    let l = input(&log);
    assert_eq!(
        (l["kind"].as_str(), l["state"].as_str(), l["events"].as_u64()),
        (Some("log"), Some("running"), Some(3))
    );
    assert_eq!(l["last_event_at"], 1_795_601_101i64, "2026-11-25T10:05:01Z: {status}");
    let s = input(&spool);
    assert_eq!((s["kind"].as_str(), s["state"].as_str(), s["files"].as_u64()), (Some("spool"), Some("idle"), Some(0)));
    let m = input(&missing);
    assert_eq!((m["kind"].as_str(), m["state"].as_str()), (Some("log"), Some("failed")), "{status}");
    assert!(m["reason"].as_str().unwrap().contains("cannot open"), "{status}");

    let page = client.get("/detection", Auth::Bearer(&token)).expect(200).body;
    assert!(page.contains(&format!("data-input=\"{}\" data-state=\"failed\"", missing.display())), "{page}");
    assert!(page.contains("data-count=\"alerts-written\">2<"), "{page}");

    let metrics = client.get("/metrics", Auth::None).expect(200).body;
    let line = |prefix: &str| metrics.lines().find(|l| l.starts_with(prefix)).map(str::to_owned);
    assert_eq!(line("anbao_detect_detections_total").as_deref(), Some("anbao_detect_detections_total 2"), "{metrics}");
    let events = format!("anbao_detect_input_events_total{{input=\"{}\",kind=\"log\"}} 3", log.display());
    assert!(metrics.contains(&events), "{events} in {metrics}");
    let failed = format!("anbao_detect_input_state{{input=\"{}\",kind=\"log\",state=\"failed\"}} 1", missing.display());
    assert!(metrics.contains(&failed), "{failed} in {metrics}");
}

#[test]
fn scan_reads_captures_and_names_the_client_of_a_listed_dns_name() {
    // google.com queries and responses: tshark says the client is 10.16.1.11.
    let pcap = Path::new(SHARED)
        .join("pcap/suricata-verify/dns__dns-udp-eve-log-answer-only__dns-udp-google.com-a-aaaa-mx.pcap");
    let dir = TempDir::new().unwrap();
    let list = write(dir.path(), "list.txt", "google.com\n");
    let out = anbao(["scan", "--json", "--indicators"]).arg(&list).arg(&pcap).run().expect_code(1);
    let alerts: Vec<Value> = out.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(alerts.len(), 1, "{out}");
    let tshark = std::process::Command::new("tshark")
        .args(["-n", "-r"])
        .arg(&pcap)
        .args(["-Y", "dns.flags.response == 0", "-T", "fields", "-e", "ip.src"])
        .output()
        .expect("tshark");
    let clients: std::collections::BTreeSet<String> =
        String::from_utf8_lossy(&tshark.stdout).lines().map(str::to_owned).collect();
    assert_eq!(clients.len(), 1, "{clients:?}");
    assert_eq!(alerts[0]["victim"].as_str(), clients.iter().next().map(String::as_str));
    let messages = std::process::Command::new("tshark")
        .args(["-n", "-r"])
        .arg(&pcap)
        .args(["-Y", "dns", "-T", "fields", "-e", "frame.number"])
        .output()
        .expect("tshark");
    assert_eq!(
        alerts[0]["count"].as_u64(),
        Some(String::from_utf8_lossy(&messages.stdout).lines().count() as u64),
        "every query and response counts"
    );

    // A listed resolver address: the packets' endpoints match, once per client.
    let ips = write(dir.path(), "ips.txt", "8.8.8.8\n");
    let out = anbao(["scan", "--json", "--no-heuristics", "--indicators"]).arg(&ips).arg(&pcap).run().expect_code(1);
    let alerts: Vec<Value> = out.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let flow: Vec<&Value> = alerts.iter().filter(|a| a["field"] == "flow.dst").collect();
    assert_eq!(flow.len(), 1, "{out}");
    assert_eq!(flow[0]["victim"].as_str(), clients.iter().next().map(String::as_str));
}

#[test]
fn heuristics_flag_lookalikes_of_a_protected_brand_and_can_be_turned_off() {
    let dir = TempDir::new().unwrap();
    let log = write(
        dir.path(),
        "q.log",
        "2026-11-25T10:00:00Z 10.0.0.8 www.icbc-secure-login.com A\n2026-11-25T10:00:01Z 10.0.0.9 www.icbc.com.cn A\n",
    );
    let empty = write(dir.path(), "none.txt", "nothing.example\n");
    let out =
        anbao(["scan", "--json", "--brand", "icbc.com.cn", "--indicators"]).arg(&empty).arg(&log).run().expect_code(1);
    let findings: Vec<Value> = out.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(findings.len(), 1, "only the lookalike, not the brand itself: {out}");
    let f = &findings[0];
    assert_eq!(
        (f["rule"].as_str(), f["victim"].as_str(), f["category"].as_str()),
        (Some("lookalike"), Some("10.0.0.8"), Some("phishing"))
    );
    assert!(f["score"].as_u64().unwrap() >= 60, "{f}");
    assert!(!f["reason"].as_str().unwrap().is_empty());
    anbao(["scan", "--no-heuristics", "--indicators"]).arg(&empty).arg(&log).run().expect_code(0);
    let bad = write(dir.path(), "h.toml", "[dga]\nthreshold = 101\n");
    anbao(["scan", "--heuristics"])
        .arg(&bad)
        .arg("--indicators")
        .arg(&empty)
        .arg(&log)
        .run()
        .expect_code(2)
        .expect_mentions(&["dga.threshold"]);
}
