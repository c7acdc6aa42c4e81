//! `anbao net extract` against Wireshark's dissectors: every capture in
//! ../shared/data/pcap goes through the real binary and through `tshark`,
//! and the DNS query names, TLS/QUIC server names and HTTP hosts must agree
//! file by file, except for the documented decisions in
//! tests/data/tshark-differences.tsv (each with its reason).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::{TempDir, Value, anbao};

const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");
const DIFFERENCES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/tshark-differences.tsv");

/// What one side saw in one file: (field, value) pairs.
type Seen = BTreeSet<(&'static str, String)>;

/// A capture, tshark's view (if it reads the file), ours, our exit code and stderr.
type Compared = (PathBuf, Option<Seen>, Seen, Option<i32>, String);

fn captures() -> Vec<PathBuf> {
    let dir = Path::new(SHARED).join("pcap/suricata-verify");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e} (CI puts ../shared beside the checkout)", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "pcap" || x == "pcapng"))
        .collect();
    files.sort();
    assert!(files.len() > 300, "expected the Suricata-Verify captures, found {}", files.len());
    files
}

/// tshark's view: names from DNS on port 53 (not mDNS/LLMNR, which are not
/// resolver traffic), ClientHello SNIs (TLS and QUIC), HTTP request hosts.
/// `None` when tshark cannot read the file.
fn tshark(file: &Path) -> Option<Seen> {
    let out = Command::new("tshark")
        .args(["-n", "-r"])
        .arg(file)
        .args([
            "-Y",
            "(dns && (udp.port == 53 || tcp.port == 53)) || tls.handshake.type == 1 || http.request",
            "-T",
            "fields",
            "-E",
            "aggregator=\u{1f}",
            "-e",
            "dns.qry.name",
            "-e",
            "tls.handshake.extensions_server_name",
            "-e",
            "http.host",
            "-e",
            "quic.long.packet_type",
        ])
        .output()
        .expect("tshark runs (Debian package tshark; .ci/run installs it)");
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() && text.trim().is_empty() {
        return None;
    }
    let mut seen = Seen::new();
    for line in text.lines() {
        let cols: Vec<&str> = line.split('\t').collect();
        let quic = cols.get(3).is_some_and(|c| !c.is_empty());
        for (i, field) in [(0, "dns"), (1, if quic { "quic" } else { "tls" }), (2, "http")] {
            for v in cols.get(i).unwrap_or(&"").split('\u{1f}').filter(|v| !v.is_empty()) {
                seen.insert((field, v.to_owned()));
            }
        }
    }
    Some(seen)
}

/// Our view, from `anbao net extract --json`.
fn ours(file: &Path) -> (Seen, Option<i32>, String) {
    let out = anbao(["net", "extract", "--json", "--quiet"]).arg(file).run();
    let mut seen = Seen::new();
    for line in out.stdout.lines() {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        let text = |k: &str| v[k].as_str().map(str::to_owned);
        match v["kind"].as_str() {
            Some("dns") => seen.extend(text("qname").map(|q| ("dns", q))),
            Some("tls") => seen.extend(text("sni").map(|s| ("tls", s))),
            Some("quic") => seen.extend(text("sni").map(|s| ("quic", s))),
            Some("http") => seen.extend(text("host").map(|h| ("http", h))),
            _ => {}
        }
    }
    (seen, out.code, out.stderr)
}

/// The documented differences: file name, field, value, who has it
/// (`tshark` or `anbao`), reason.
fn differences() -> BTreeMap<(String, String, String), String> {
    let text = std::fs::read_to_string(DIFFERENCES).unwrap_or_default();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let cols: Vec<&str> = l.splitn(5, '\t').collect();
            assert_eq!(cols.len(), 5, "{DIFFERENCES}: want file, field, value, side, reason: {l:?}");
            ((cols[0].to_owned(), cols[1].to_owned(), format!("{}:{}", cols[3], cols[2])), cols[4].to_owned())
        })
        .collect()
}

#[test]
fn names_sni_and_hosts_agree_with_tshark_on_every_capture() {
    let files = captures();
    let documented = differences();
    let results: Vec<Compared> = std::thread::scope(|s| {
        let chunks: Vec<Vec<PathBuf>> = files.chunks(files.len().div_ceil(3)).map(<[PathBuf]>::to_vec).collect();
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                s.spawn(move || {
                    chunk
                        .into_iter()
                        .map(|f| {
                            let theirs = tshark(&f);
                            let (mine, code, stderr) = ours(&f);
                            (f, theirs, mine, code, stderr)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().expect("worker thread")).collect()
    });

    let mut undocumented = Vec::new();
    let mut used = BTreeSet::new();
    let (mut compared, mut values) = (0, 0);
    for (file, theirs, mine, code, stderr) in &results {
        let name = file.file_name().unwrap_or_default().to_string_lossy().into_owned();
        assert!(matches!(code, Some(0..=2)), "{name}: exit {code:?}, stderr {stderr}");
        let Some(theirs) = theirs else {
            continue;
        };
        if *code == Some(2) {
            undocumented.push(format!("{name}: tshark reads it but anbao did not: {stderr}"));
            continue;
        }
        compared += 1;
        values += theirs.len();
        for (side, diff) in [("tshark", theirs.difference(mine)), ("anbao", mine.difference(theirs))] {
            for (field, value) in diff {
                let key = (name.clone(), (*field).to_owned(), format!("{side}:{value}"));
                if documented.contains_key(&key) {
                    used.insert(key);
                } else {
                    undocumented.push(format!("{name}\t{field}\t{value}\t{side}\t(only {side} has it)"));
                }
            }
        }
    }
    let stale: Vec<_> = documented.keys().filter(|k| !used.contains(*k)).collect();
    assert!(
        undocumented.is_empty() && stale.is_empty(),
        "compared {compared} captures ({values} tshark values).\nundocumented differences (fix, or add to {DIFFERENCES} with a reason):\n{}\nstale entries: {stale:?}",
        undocumented.join("\n")
    );
    assert!(compared > 250, "only {compared} captures compared");
    assert!(values > 300, "only {values} values compared: is tshark filtering everything out?");
}

#[test]
fn extract_prints_the_documented_json_keys_and_a_table() {
    let file = Path::new(SHARED)
        .join("pcap/suricata-verify/dns__dns-udp-eve-log-answer-only__dns-udp-google.com-a-aaaa-mx.pcap");
    let out = anbao(["net", "extract", "--json", "--quiet"]).arg(&file).run().ok();
    let lines: Vec<Value> = out.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(!lines.is_empty(), "{out}");
    for v in &lines {
        for key in
            ["kind", "ts", "src", "sport", "dst", "dport", "proto", "id", "qr", "qname", "qtype", "rcode", "answers"]
        {
            assert!(v.get(key).is_some(), "missing {key}: {v}");
        }
        assert!(v["ts"].as_str().unwrap().ends_with('Z'), "{v}");
    }
    let response = lines.iter().find(|v| v["qr"] == "response").expect("a response");
    let answer = &response["answers"][0];
    for key in ["name", "type", "data", "ttl"] {
        assert!(answer.get(key).is_some(), "answer lacks {key}: {response}");
    }

    let table = anbao(["net", "extract", "--quiet"]).arg(&file).run().ok();
    let mut rows = table.stdout.lines();
    assert!(rows.next().unwrap().starts_with("TIME"), "{table}");
    assert_eq!(rows.count(), lines.len(), "one row per message: {table}");
}

#[test]
fn unreadable_and_partly_corrupt_inputs_say_so() {
    let dir = TempDir::new().unwrap();
    let junk = dir.path().join("junk.bin");
    std::fs::write(&junk, b"\x00\x01\x02\x03 this is neither a capture nor a log").unwrap();
    anbao(["net", "extract", "--quiet"]).arg(&junk).run().expect_code(2).expect_mentions(&["junk.bin", "first bytes"]);
    anbao(["net", "extract"])
        .arg(dir.path().join("missing.pcap"))
        .run()
        .expect_code(2)
        .expect_mentions(&["cannot open"]);

    // A good capture cut in the middle of a record: what is whole is read,
    // the rest reported with its offset, exit 1.
    let good = Path::new(SHARED)
        .join("pcap/suricata-verify/dns__dns-udp-eve-log-answer-only__dns-udp-google.com-a-aaaa-mx.pcap");
    let bytes = std::fs::read(&good).unwrap();
    let cut = dir.path().join("cut.pcap");
    std::fs::write(&cut, &bytes[..bytes.len() - 7]).unwrap();
    let whole = anbao(["net", "extract", "--json", "--quiet"]).arg(&good).run().ok();
    let partial = anbao(["net", "extract", "--json", "--quiet"]).arg(&cut).run().expect_code(1);
    partial.expect_mentions(&["cut.pcap", "byte "]);
    assert_eq!(partial.stdout.lines().count() + 1, whole.stdout.lines().count(), "all but the cut message: {partial}");
}

/// Live capture on the loopback interface (needs the `live-capture` build,
/// which scripts/test uses, and root or CAP_NET_RAW, which CI has).
#[cfg(feature = "live-capture")]
mod live {
    use std::net::UdpSocket;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    use crate::harness::{TempDir, Value, anbao};

    const NAMES: [&str; 3] = ["c2.live-evil.example", "www.live-good.example", "mail.live-good.example"];

    fn query(id: u16, name: &str) -> Vec<u8> {
        let mut q = Vec::new();
        for v in [id, 0x0100, 1, 0, 0, 0] {
            q.extend_from_slice(&v.to_be_bytes());
        }
        for label in name.split('.') {
            q.push(label.len() as u8);
            q.extend_from_slice(label.as_bytes());
        }
        q.extend_from_slice(&[0, 0, 1, 0, 1]);
        q
    }

    /// Sends the three queries over and over from one socket until stopped
    /// (the capture starts at an unknown moment after the command does).
    /// Returns the socket's port, for the capture filter.
    fn keep_querying(stop: Arc<AtomicBool>) -> (u16, std::thread::JoinHandle<()>) {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = socket.local_addr().unwrap().port();
        let sender = std::thread::spawn(move || {
            let mut id = 1u16;
            while !stop.load(Ordering::Relaxed) {
                for name in NAMES {
                    let _ = socket.send_to(&query(id, name), "127.0.0.1:53");
                    id = id.wrapping_add(1);
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        });
        (port, sender)
    }

    #[test]
    fn net_extract_captures_dns_queries_live_from_loopback() {
        let stop = Arc::new(AtomicBool::new(false));
        let (port, sender) = keep_querying(stop.clone());
        let filter = format!("udp dst port 53 and udp src port {port}");
        let out = anbao(["net", "extract", "iface:lo", "--json", "--count", "6", "--capture-filter", &filter]).run();
        stop.store(true, Ordering::Relaxed);
        sender.join().unwrap();
        let out = out.ok();
        let events: Vec<Value> = out.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(events.len(), 6, "{out}");
        for e in &events {
            assert_eq!(
                (e["kind"].as_str(), e["qr"].as_str(), e["qtype"].as_str()),
                (Some("dns"), Some("query"), Some("A"))
            );
            assert_eq!(
                (e["src"].as_str(), e["sport"].as_u64(), e["dport"].as_u64()),
                (Some("127.0.0.1"), Some(u64::from(port)), Some(53))
            );
            assert!(NAMES.contains(&e["qname"].as_str().unwrap()), "{e}");
        }
        // Six consecutive queries of a cycle of three hold every name.
        for name in NAMES {
            assert!(events.iter().any(|e| e["qname"] == name), "{name} missing: {out}");
        }
        out.expect_mentions(&["6 frames or lines", "dns 6"]);
    }

    #[test]
    fn scan_alerts_on_a_listed_name_seen_live_and_rejects_a_bad_filter() {
        let dir = TempDir::new().unwrap();
        let list = dir.path().join("cc.txt");
        std::fs::write(&list, "live-evil.example\n").unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let (port, sender) = keep_querying(stop.clone());
        let filter = format!("udp dst port 53 and udp src port {port}");
        let out = anbao(["scan", "iface:lo", "--json", "--no-heuristics", "--count", "3", "--capture-filter", &filter])
            .arg("--indicators")
            .arg(&list)
            .run();
        stop.store(true, Ordering::Relaxed);
        sender.join().unwrap();
        let out = out.expect_code(1);
        let alerts: Vec<Value> = out.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(alerts.len(), 1, "{out}");
        assert_eq!(
            (alerts[0]["victim"].as_str(), alerts[0]["indicator"].as_str(), alerts[0]["observed"].as_str()),
            (Some("127.0.0.1"), Some("live-evil.example"), Some("c2.live-evil.example"))
        );

        let bad = anbao(["net", "extract", "iface:lo", "--count", "1", "--capture-filter", "udp port banana"]).run();
        bad.expect_code(2).expect_mentions(&["capture filter", "banana"]);
        let missing = anbao(["net", "extract", "iface:no-such-if0", "--count", "1"]).run();
        missing.expect_code(2).expect_mentions(&["no-such-if0"]);
    }
}

/// Without the `live-capture` feature an interface input says what is missing.
#[cfg(not(feature = "live-capture"))]
#[test]
fn interface_inputs_say_how_to_get_live_capture_when_it_is_not_built() {
    let out = crate::harness::anbao(["net", "extract", "iface:lo", "--count", "1"]).run();
    out.expect_code(2).expect_mentions(&["--features live-capture", "libpcap-dev"]);
}
