//! `anbao flow decode` against two independent decoders of the same export:
//! Wireshark's cflow dissector (tshark) reading the capture, and nfdump's
//! collector (`nfcapd`, Debian package nfdump) receiving the capture's
//! datagrams replayed on loopback. Per destination address, packet and byte
//! totals must agree exactly.

use std::collections::BTreeMap;
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anbao_net::capture::{LinkType, read_capture};
use anbao_net::packet::{self, Transport};

use crate::harness::{TempDir, Value, anbao};

pub(crate) const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");

/// Destination address → (packets, bytes).
pub(crate) type Totals = BTreeMap<String, (u64, u64)>;

fn capture(name: &str) -> PathBuf {
    Path::new(SHARED).join("flow").join(name)
}

const CAPTURES: [&str; 3] = ["softflowd-v5.pcap", "softflowd-v9.pcap", "softflowd-v10.pcap"];

fn ours(file: &Path) -> Totals {
    let out = anbao(["flow", "decode", "--json"]).arg(file).run().ok();
    let mut t = Totals::new();
    for line in out.stdout.lines() {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{line}: {e}"));
        for key in
            ["exporter", "version", "src", "sport", "dport", "proto", "start", "end", "tcp_flags", "sampling_rate"]
        {
            assert!(v.get(key).is_some(), "{key} missing in {line}");
        }
        let e = t.entry(v["dst"].as_str().unwrap().to_owned()).or_default();
        e.0 += v["packets"].as_u64().unwrap();
        e.1 += v["bytes"].as_u64().unwrap();
    }
    assert!(t.len() > 20, "{}: {t:?}\n{}", file.display(), out.stderr);
    t
}

/// Packets and bytes per destination of the flow records in tshark's
/// JSON (the cflow dissector's).
pub(crate) fn cflow_totals(v: &Value) -> Totals {
    let mut flows = Vec::new();
    tshark_flows(v, &mut flows);
    let mut t = Totals::new();
    for m in flows {
        let dst = m.get("cflow.dstaddr").or(m.get("cflow.dstaddrv6")).and_then(Value::as_str).unwrap();
        let num = |k: &str| m[k].as_str().unwrap().parse::<u64>().unwrap();
        let e = t.entry(dst.to_owned()).or_default();
        e.0 += num("cflow.packets");
        e.1 += num("cflow.octets");
    }
    t
}

/// Every object in tshark's JSON tree that is one flow record.
fn tshark_flows<'a>(v: &'a Value, out: &mut Vec<&'a serde_json::Map<String, Value>>) {
    match v {
        Value::Object(m) => {
            if m.contains_key("cflow.octets") && (m.contains_key("cflow.dstaddr") || m.contains_key("cflow.dstaddrv6"))
            {
                out.push(m);
            }
            m.values().for_each(|c| tshark_flows(c, out));
        }
        Value::Array(a) => a.iter().for_each(|c| tshark_flows(c, out)),
        _ => {}
    }
}

fn tshark(file: &Path) -> Totals {
    let out = Command::new("tshark")
        .args(["-r"])
        .arg(file)
        .args(["-d", "udp.port==2055,cflow", "-T", "json", "--no-duplicate-keys"])
        .output()
        .expect("tshark runs (Debian package tshark; .ci/run installs it)");
    assert!(out.status.success(), "tshark: {}", String::from_utf8_lossy(&out.stderr));
    cflow_totals(&serde_json::from_slice(&out.stdout).unwrap())
}

/// The capture's UDP payloads, in order.
fn payloads(file: &Path) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    read_capture(std::fs::File::open(file).unwrap(), |f| {
        if let Ok(Some(p)) = packet::decode(LinkType(f.link_type.0), f.data)
            && let Transport::Udp(u) = p.transport
        {
            out.push(u.payload.to_vec());
        }
    })
    .unwrap();
    out
}

/// The bytes waiting in the receive queue of the UDP socket bound to
/// 127.0.0.1:`port` (/proc/net/udp), `None` when there is none.
fn receive_queue(port: u16) -> Option<u64> {
    let table = std::fs::read_to_string("/proc/net/udp").unwrap();
    let local = format!("0100007F:{port:04X}");
    table.lines().skip(1).find_map(|line| {
        let cols: Vec<&str> = line.split_whitespace().collect();
        (cols.get(1) == Some(&local.as_str()))
            .then(|| u64::from_str_radix(cols[4].split_once(':').unwrap().1, 16).unwrap())
    })
}

/// nfcapd on a free loopback port, the payloads sent to it, SIGTERM once it
/// has read them all (which writes the file out), then `nfdump -o csv` over
/// what it stored.
fn nfdump(file: &Path) -> Totals {
    let dir = TempDir::new().unwrap();
    let port = {
        let probe = UdpSocket::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let mut nfcapd = Command::new("nfcapd")
        .args(["-b", "127.0.0.1", "-p", &port.to_string(), "-w"])
        .arg(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("nfcapd runs (Debian package nfdump; .ci/run installs it)");
    // It says when its socket is bound.
    let mut stderr = std::io::BufReader::new(nfcapd.stderr.take().unwrap());
    let mut said = String::new();
    loop {
        let mut line = String::new();
        if std::io::BufRead::read_line(&mut stderr, &mut line).unwrap() == 0 {
            let status = nfcapd.wait().unwrap();
            panic!("nfcapd exited ({status}) before binding: {said}");
        }
        said.push_str(&line);
        if line.starts_with("Bound to") {
            break;
        }
    }
    let drain = std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    for p in payloads(file) {
        socket.send_to(&p, ("127.0.0.1", port)).unwrap();
    }
    // Every datagram read by nfcapd before it is told to stop.
    let started = std::time::Instant::now();
    while receive_queue(port).unwrap_or(0) > 0 {
        assert!(started.elapsed().as_secs() < 30, "nfcapd does not read its socket");
        std::thread::yield_now();
    }
    let status = Command::new("kill").args(["-TERM", &nfcapd.id().to_string()]).status().unwrap();
    assert!(status.success());
    let status = nfcapd.wait().unwrap();
    drain.join().unwrap().unwrap();
    assert!(status.success(), "nfcapd: {status}");
    let out = Command::new("nfdump").arg("-R").arg(dir.path()).args(["-q", "-o", "csv"]).output().unwrap();
    assert!(out.status.success(), "nfdump: {}", String::from_utf8_lossy(&out.stderr));
    let mut t = Totals::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        // ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,…
        let c: Vec<&str> = line.split(',').collect();
        let e = t.entry(c[4].trim().to_owned()).or_default();
        e.0 += c[11].trim().parse::<u64>().unwrap_or_else(|_| panic!("{line}"));
        e.1 += c[12].trim().parse::<u64>().unwrap_or_else(|_| panic!("{line}"));
    }
    t
}

#[test]
fn per_destination_totals_match_tshark() {
    for name in CAPTURES {
        let file = capture(name);
        assert_eq!(ours(&file), tshark(&file), "{name}");
    }
}

#[test]
fn per_destination_totals_match_nfdump() {
    for name in CAPTURES {
        let file = capture(name);
        assert_eq!(ours(&file), nfdump(&file), "{name}");
    }
}

#[test]
fn table_summary_and_exit_codes() {
    let file = capture("softflowd-v9.pcap");
    let out = anbao(["flow", "decode"]).arg(&file).run().ok();
    assert!(out.stdout.starts_with("START "), "{}", out.stdout);
    assert_eq!(out.stdout.lines().count(), 1 + 656, "{}", out.stderr);
    out.expect_mentions(&["exporter 127.0.0.1: 22 packets, 656 flows, 0 sequence gaps"]);

    // A port no datagram goes to: nothing decoded is a problem (1).
    let out = anbao(["flow", "decode", "--port", "9"]).arg(&file).run().expect_code(1);
    out.expect_mentions(&["no flow records found"]);

    // A capture of other traffic: not an export, nothing found (1).
    let dns = Path::new(SHARED).join("pcap/suricata-verify");
    let other = std::fs::read_dir(&dns)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.file_name().is_some_and(|n| n.to_string_lossy().contains("dns")))
        .unwrap();
    anbao(["flow", "decode"]).arg(&other).run().expect_code(1);

    // Unreadable input (2).
    anbao(["flow", "decode", "/nonexistent/x.pcap"]).run().expect_code(2);

    // An operator's sampling rate scales the counts and is reported.
    let out = anbao(["flow", "decode", "--json", "--sampling", "127.0.0.1=100"]).arg(&file).run().ok();
    let first: Value = serde_json::from_str(out.stdout.lines().next().unwrap()).unwrap();
    assert_eq!(first["sampling_rate"], 100);
    assert_eq!(first["packets"].as_u64().unwrap(), 100 * first["raw_packets"].as_u64().unwrap());
}

// ---------------------------------------------------------------------------
// `anbao flow collect`: normal traffic then attacks replayed on loopback.

/// A running `anbao flow collect`: its port and its stdout lines.
pub(crate) struct Collector {
    pub(crate) child: std::process::Child,
    pub(crate) port: u16,
    pub(crate) lines: std::sync::mpsc::Receiver<String>,
    pub(crate) stderr: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Drop for Collector {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Collector {
    fn start(groups: &Path) -> Collector {
        let mut args: Vec<std::ffi::OsString> =
            ["flow", "collect", "--json", "--listen", "127.0.0.1:0", "--groups"].map(Into::into).to_vec();
        args.push(groups.into());
        Collector::spawn(&args, true)
    }

    /// Runs `anbao ARGS`, collecting its stdout lines; with `listens`, waits
    /// for the "listening … on udp ADDR" line and keeps its port.
    pub(crate) fn spawn(args: &[std::ffi::OsString], listens: bool) -> Collector {
        use std::io::BufRead;
        let mut child =
            Command::new(crate::harness::BIN).args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let stderr = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let (port_tx, port_rx) = std::sync::mpsc::channel();
        let sink = std::sync::Arc::clone(&stderr);
        let err = std::io::BufReader::new(child.stderr.take().unwrap());
        std::thread::spawn(move || {
            for line in err.lines().map_while(Result::ok) {
                if let Some(addr) = line.split("on udp ").nth(1).and_then(|s| s.split_whitespace().next()) {
                    let _ = port_tx.send(addr.rsplit(':').next().unwrap().parse::<u16>().unwrap());
                }
                sink.lock().unwrap().push_str(&line);
                sink.lock().unwrap().push('\n');
            }
        });
        let (tx, lines) = std::sync::mpsc::channel();
        let out = std::io::BufReader::new(child.stdout.take().unwrap());
        std::thread::spawn(move || {
            for line in out.lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let port = if listens {
            port_rx
                .recv_timeout(std::time::Duration::from_secs(30))
                .unwrap_or_else(|_| panic!("collector did not listen: {}", stderr.lock().unwrap()))
        } else {
            0
        };
        Collector { child, port, lines, stderr }
    }

    /// The next event line, as JSON, within `secs`.
    fn next_event(&self, secs: u64) -> Value {
        match self.lines.recv_timeout(std::time::Duration::from_secs(secs)) {
            Ok(line) => serde_json::from_str(&line).unwrap_or_else(|e| panic!("{line}: {e}")),
            Err(e) => panic!("no event within {secs} s ({e}): {}", self.stderr.lock().unwrap()),
        }
    }
}

fn be16(v: &mut Vec<u8>, x: u16) {
    v.extend_from_slice(&x.to_be_bytes());
}

fn be32(v: &mut Vec<u8>, x: u32) {
    v.extend_from_slice(&x.to_be_bytes());
}

/// src, dst, sport, dport, proto, tcp flags, packets, bytes, first, last.
const V9_FIELDS: [(u16, u16); 10] =
    [(8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (6, 1), (2, 4), (1, 4), (22, 4), (21, 4)];

/// One NetFlow v9 export datagram (RFC 3954) of a router under attack: the
/// template and 30 records of `packets` packets each, from 30 spoofed
/// sources to `victim`.
fn v9_attack(sequence: u32, victim: [u8; 4], proto: u8, sport: u16, flags: u8, packets: u32) -> Vec<u8> {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as u32;
    let uptime = 3_600_000u32;
    let mut template = Vec::new();
    be16(&mut template, 256);
    be16(&mut template, V9_FIELDS.len() as u16);
    for (t, l) in V9_FIELDS {
        be16(&mut template, t);
        be16(&mut template, l);
    }
    let mut data = Vec::new();
    for i in 0..30u32 {
        let n = sequence.wrapping_mul(30).wrapping_add(i);
        data.extend_from_slice(&[100, 64 + (n >> 16) as u8, (n >> 8) as u8, n as u8]);
        data.extend_from_slice(&victim);
        be16(&mut data, if sport == 0 { 1024 + (n % 60000) as u16 } else { sport });
        be16(&mut data, if proto == 6 { 80 } else { 40000 });
        data.push(proto);
        data.push(flags);
        be32(&mut data, packets);
        be32(&mut data, packets * if proto == 6 { 60 } else { 468 });
        be32(&mut data, uptime - 900);
        be32(&mut data, uptime - 100);
    }
    let mut d = Vec::new();
    be16(&mut d, 9);
    be16(&mut d, 31);
    be32(&mut d, uptime);
    be32(&mut d, secs);
    be32(&mut d, sequence);
    be32(&mut d, 7);
    for (id, body) in [(0u16, template), (256, data)] {
        be16(&mut d, id);
        be16(&mut d, (body.len() + 4) as u16);
        d.extend_from_slice(&body);
    }
    d
}

#[test]
fn collect_detects_syn_flood_and_amplification_within_a_second() {
    let dir = TempDir::new().unwrap();
    let groups = dir.path().join("groups.toml");
    std::fs::write(
        &groups,
        r#"
        quiet_secs = 2
        [[group]]
        name = "dc1"
        prefixes = ["192.0.2.0/24"]
        host = { pps = 20000 }
        group = { pps = 1000000 }
        [[group]]
        name = "office"
        prefixes = ["192.168.1.0/24"]
        host = { pps = 20000 }
        "#,
    )
    .unwrap();
    let collector = Collector::start(&groups);
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    // Normal traffic: softflowd's NetFlow v9 and IPFIX exports of real traffic.
    for name in ["softflowd-v9.pcap", "softflowd-v10.pcap"] {
        for p in payloads(&capture(name)) {
            socket.send_to(&p, ("127.0.0.1", collector.port)).unwrap();
        }
    }
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert!(collector.lines.try_recv().is_err(), "normal traffic raised an attack");

    let mut sequence = 0;
    let mut attack = |victim: [u8; 4], proto: u8, sport: u16, flags: u8| {
        // 20 datagrams × 30 records × 100 packets: 60 000 packets in a few
        // milliseconds; even split by a second boundary, one side is over 20 000.
        let first = std::time::Instant::now();
        for _ in 0..20 {
            socket
                .send_to(&v9_attack(sequence, victim, proto, sport, flags, 100), ("127.0.0.1", collector.port))
                .unwrap();
            sequence += 1;
        }
        let e = collector.next_event(10);
        (first.elapsed(), e)
    };

    let (latency, e) = attack([192, 0, 2, 10], 6, 0, 0x02);
    println!("SYN flood detected {:.1} ms after the first attack datagram was sent", latency.as_secs_f64() * 1e3);
    assert_eq!(
        (e["event"].as_str(), e["victim"].as_str(), e["class"].as_str()),
        (Some("start"), Some("192.0.2.10"), Some("syn_flood")),
        "{e}"
    );
    assert_eq!(e["group"], "dc1");
    assert!(
        e["top_sources"].as_array().unwrap().iter().all(|t| t["addr"].as_str().unwrap().starts_with("100.")),
        "{e}"
    );
    assert!(e["rate"]["pps"].as_u64().unwrap() > 20000, "{e}");
    assert!(latency < std::time::Duration::from_secs(10));

    let (latency, e) = attack([192, 0, 2, 20], 17, 123, 0);
    println!(
        "NTP amplification detected {:.1} ms after the first attack datagram was sent",
        latency.as_secs_f64() * 1e3
    );
    assert_eq!(
        (e["event"].as_str(), e["victim"].as_str(), e["class"].as_str()),
        (Some("start"), Some("192.0.2.20"), Some("amplification")),
        "{e}"
    );
    assert_eq!(e["service"], "ntp");
    assert!(latency < std::time::Duration::from_secs(10));

    // Both end after the quiet period (2 s), each once.
    let mut ended = Vec::new();
    while ended.len() < 2 {
        let e = collector.next_event(20);
        if e["event"] == "end" {
            ended.push(e["victim"].as_str().unwrap().to_owned());
        }
    }
    ended.sort();
    assert_eq!(ended, ["192.0.2.10", "192.0.2.20"]);
}

#[test]
fn serve_with_flow_listen_writes_an_attack_alert() {
    use crate::harness::{Auth, create_token, serve, sqlite};
    let dir = TempDir::new().unwrap();
    let data = dir.path().join("data");
    let token = create_token(&data, None, "regulator", "flow-reader");
    let groups = dir.path().join("groups.toml");
    std::fs::write(&groups, "[[group]]\nname = \"dc1\"\nprefixes = [\"192.0.2.0/24\"]\nhost = { pps = 20000 }\n")
        .unwrap();
    let port = UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let server = serve()
        .data_dir(&data)
        .env("ANBAO_FLOW_LISTEN", format!("127.0.0.1:{port}"))
        .env("ANBAO_FLOW_GROUPS_FILE", &groups)
        .env("ANBAO_DETECT_SENSOR", "border-1")
        .env("ANBAO_DDOS_INCIDENT_MIN_PPS", "1000000000")
        .env("ANBAO_DDOS_INCIDENT_CLASSES", "carpet_bombing,amplification")
        .start();
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    for p in payloads(&capture("softflowd-v9.pcap")) {
        socket.send_to(&p, ("127.0.0.1", port)).unwrap();
    }
    for sequence in 0..20 {
        socket.send_to(&v9_attack(sequence, [192, 0, 2, 33], 17, 53, 0, 100), ("127.0.0.1", port)).unwrap();
    }
    let db = data.join("anbao.db");
    let query = "SELECT rule, category, victim, indicator, sensor, count, severity FROM alerts WHERE rule = 'ddos'";
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let row = loop {
        let row = sqlite(&db, query);
        if !row.trim().is_empty() {
            break row;
        }
        assert!(std::time::Instant::now() < deadline, "no ddos alert: {}", server.report());
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert_eq!(row.trim(), "ddos|ddos|192.0.2.33|amplification (dns)|border-1|1|2");
    let evidence: Value =
        serde_json::from_str(sqlite(&db, "SELECT evidence FROM alerts WHERE rule = 'ddos'").trim()).unwrap();
    assert_eq!(evidence["class"], "amplification");
    assert_eq!(evidence["totals"]["amplification"]["dns"].as_u64().map(|n| n > 20000), Some(true), "{evidence}");
    assert!(!evidence["samples"].as_array().unwrap().is_empty());
    assert!(evidence["top_sources"].as_array().unwrap().len() >= 5);

    // The collector's own account: API, page and /metrics show the
    // exporter, the group and the attack in progress (quiet_secs 30).
    let client = server.client();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let flows = loop {
        let flows = client.get("/api/v1/flows", Auth::Bearer(&token)).expect(200).json();
        let exporter_flows = flows["exporters"].get(0).and_then(|e| e["flows"].as_u64()).unwrap_or(0);
        if exporter_flows > 0 && flows["attacks"].as_array().is_some_and(|a| !a.is_empty()) {
            break flows;
        }
        assert!(std::time::Instant::now() < deadline, "no exporter or attack in /api/v1/flows: {flows}");
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    assert_eq!(flows["enabled"], true);
    assert_eq!(flows["listen"][0], format!("127.0.0.1:{port}"));
    let exporter = &flows["exporters"][0];
    assert_eq!(exporter["exporter"], "127.0.0.1", "{flows}");
    let packets = exporter["packets"].as_u64().unwrap();
    assert!(packets >= 20, "{flows}");
    let attack = &flows["attacks"][0];
    assert_eq!(
        (attack["victim"].as_str(), attack["group"].as_str(), attack["class"].as_str(), attack["service"].as_str()),
        (Some("192.0.2.33"), Some("dc1"), Some("amplification"), Some("dns")),
        "{flows}"
    );
    assert!(attack["peak_pps"].as_u64().unwrap() >= 20_000, "{flows}");
    assert_eq!(flows["groups"][0]["name"], "dc1", "{flows}");

    let page = client.get("/flows", Auth::Bearer(&token)).expect(200).body;
    assert!(page.contains("data-exporter=\"127.0.0.1\""), "{page}");
    assert!(page.contains("data-group=\"dc1\""), "{page}");
    assert!(page.contains("<code>192.0.2.33</code>"), "{page}");

    let metrics = client.get("/metrics", Auth::None).expect(200).body;
    let value = |name: &str| -> Option<u64> {
        metrics.lines().find(|l| l.starts_with(name)).and_then(|l| l.rsplit(' ').next()).and_then(|v| v.parse().ok())
    };
    assert_eq!(value("anbao_flow_attacks_active"), Some(1), "{metrics}");
    assert!(
        value("anbao_flow_exporter_packets_total{exporter=\"127.0.0.1\",node=\"border-1\"}")
            .is_some_and(|n| n >= packets),
        "{metrics}"
    );
    assert!(
        value("anbao_flow_exporter_flows_total{exporter=\"127.0.0.1\",node=\"border-1\"}").is_some_and(|n| n > 0),
        "{metrics}"
    );
    assert!(
        metrics.contains("anbao_flow_exporter_sequence_gaps_total{exporter=\"127.0.0.1\",node=\"border-1\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains("anbao_flow_exporter_template_errors_total{exporter=\"127.0.0.1\",node=\"border-1\"}"),
        "{metrics}"
    );
    assert!(value("anbao_flow_group_pps{group=\"dc1\",node=\"border-1\"}").is_some(), "{metrics}");
    assert!(value("anbao_flow_group_bps{group=\"dc1\",node=\"border-1\"}").is_some(), "{metrics}");

    // The rule's class list names amplification: one large-scale DDoS
    // incident, opened from the alert, however many updates followed.
    let linked = "SELECT i.incident_type, i.title, i.status, a.victim FROM incidents i \
                  JOIN incident_alerts l ON l.incident_id = i.id JOIN alerts a ON a.id = l.alert_id";
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while sqlite(&db, linked).trim().is_empty() {
        assert!(std::time::Instant::now() < deadline, "no incident: {}", server.report());
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let incidents = sqlite(&db, linked);
    assert_eq!(incidents.trim(), "ddos|DDoS amplification (dns) on 192.0.2.33 (group dc1)|open|192.0.2.33");
    let summary = sqlite(&db, "SELECT summary FROM incidents");
    assert!(summary.contains("(class amplification) from alert #"), "{summary}");
}

/// The traffic history of `anbao serve`'s collector reaches the store and
/// comes back through `/api/v1/flows/traffic` and the group's chart page:
/// the minute in progress is written every 10 seconds, so this waits for
/// that, not for a minute to end (the writer with a driven clock, host
/// rows included, is tested in the binary's `flow::traffic`).
#[test]
fn serve_records_traffic_history_for_the_charts() {
    use crate::harness::{Auth, create_token, serve};
    let dir = TempDir::new().unwrap();
    let data = dir.path().join("data");
    let token = create_token(&data, None, "regulator", "traffic-reader");
    let groups = dir.path().join("groups.toml");
    std::fs::write(&groups, "[[group]]\nname = \"dc1\"\nprefixes = [\"192.0.2.0/24\"]\nhost = { pps = 1000000 }\n")
        .unwrap();
    let port = UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let server = serve()
        .data_dir(&data)
        .env("ANBAO_FLOW_LISTEN", format!("127.0.0.1:{port}"))
        .env("ANBAO_FLOW_GROUPS_FILE", &groups)
        .start();
    let client = server.client();
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(40);
    let mut sequence = 0;
    let traffic = loop {
        // 30 records of 10 UDP packets from port 123 to 192.0.2.44.
        socket.send_to(&v9_attack(sequence, [192, 0, 2, 44], 17, 123, 0, 10), ("127.0.0.1", port)).unwrap();
        sequence += 1;
        let traffic = client.get("/api/v1/flows/traffic?group=dc1&range=hour", Auth::Bearer(&token)).expect(200).json();
        let points = traffic["points"].as_array().cloned().unwrap_or_default();
        if points.iter().any(|p| p["pps"].as_f64().is_some_and(|v| v > 0.0)) {
            break traffic;
        }
        assert!(std::time::Instant::now() < deadline, "no traffic point: {traffic}\n{}", server.report());
        std::thread::sleep(std::time::Duration::from_millis(300));
    };
    assert_eq!(
        (traffic["group"].as_str(), traffic["range"].as_str(), traffic["step"].as_i64()),
        (Some("dc1"), Some("hour"), Some(60))
    );
    assert_eq!(traffic["to"].as_i64().unwrap() - traffic["from"].as_i64().unwrap(), 3600);
    let point = traffic["points"].as_array().unwrap().iter().find(|p| p["pps"].as_f64() > Some(0.0)).unwrap().clone();
    // Every packet is UDP from NTP's port: the split says so.
    assert_eq!(point["udp"], point["pps"], "{point}");
    assert_eq!(point["amplification"], point["pps"], "{point}");
    assert_eq!(point["tcp"].as_f64(), Some(0.0), "{point}");
    assert!(point["peak_pps"].as_i64().unwrap() >= 300, "{point}");
    assert!(point["t"].as_i64().unwrap() % 60 == 0 && point["seconds"].as_i64().unwrap() >= 1, "{point}");

    let day = client.get("/api/v1/flows/traffic?group=dc1&range=day", Auth::Bearer(&token)).expect(200).json();
    assert_eq!(day["step"].as_i64(), Some(300));
    assert!(!day["points"].as_array().unwrap().is_empty(), "{day}");
    client.get("/api/v1/flows/traffic?range=hour", Auth::Bearer(&token)).expect(400);
    client.get("/api/v1/flows/traffic?group=dc1&range=week", Auth::Bearer(&token)).expect(400);
    client.get("/api/v1/flows/traffic?host=not-an-address", Auth::Bearer(&token)).expect(400);

    let page = client.get("/flows/groups/dc1", Auth::Bearer(&token)).expect(200).body;
    assert!(page.contains("id=\"traffic-charts\""), "{page}");
    assert_eq!(page.matches("data-points=").count(), 3, "pps, bps and the protocol split");
    assert_eq!(page.matches("class=\"line\"").count(), 2 + 2 + 6, "{page}");
    assert!(page.contains("data-series=\"traffic.udp\""), "{page}");
    // The hour-of-week profile the collector learns for dc1 (its groups
    // file sets no profile rule: shown as learning only, nothing ready).
    let profile = client.get("/api/v1/flows/groups/dc1/profile", Auth::Bearer(&token)).expect(200).json();
    assert!(profile["group"] == "dc1" && profile["enabled"] == false && profile["min_weeks"] == 3, "{profile}");
    assert_eq!(profile["slots"].as_array().map(Vec::len), Some(168), "{profile}");
    assert!(profile["current"].as_u64().is_some_and(|c| c < 168), "{profile}");
    assert_eq!(profile["slots"][38]["label"], "Tue 14:00");
    client.get("/api/v1/flows/groups/dc9/profile", Auth::Bearer(&token)).expect(404);
    assert!(page.contains("data-slots=\"168\"") && page.contains("id=\"profile-off\""), "{page}");
    let page = client.get("/flows/groups/dc1?range=day", Auth::Bearer(&token)).expect(200).body;
    assert!(page.contains("data-range=\"day\""), "{page}");
    let flows = client.get("/flows", Auth::Bearer(&token)).expect(200).body;
    assert!(flows.contains("href=\"/flows/groups/dc1\""), "{flows}");
}

#[test]
fn serve_announces_rtbh_and_flowspec_and_withdraws_after_the_hold() {
    use crate::harness::{serve, sqlite};
    let dir = TempDir::new().unwrap();
    let data = dir.path().join("data");
    let groups = dir.path().join("groups.toml");
    std::fs::write(
        &groups,
        "quiet_secs = 1\n[[group]]\nname = \"dc1\"\nprefixes = [\"192.0.2.0/24\"]\nhost = { pps = 20000 }\n\
         actions = { mode = \"auto\", rtbh = true, flowspec = true, hold_secs = 1 }\n\
         [[group]]\nname = \"manual\"\nprefixes = [\"198.51.100.0/24\"]\nhost = { pps = 20000 }\n\
         actions = { mode = \"manual\", rtbh = true }\n",
    )
    .unwrap();
    // The BGP speaker's helper: a script that appends what it reads to a file.
    let api = dir.path().join("exabgp-api.txt");
    let script = dir.path().join("speaker.sh");
    std::fs::write(&script, format!("#!/bin/sh\nexec cat >> '{}'\n", api.display())).unwrap();
    let port = UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let server = serve()
        .data_dir(&data)
        .env("ANBAO_FLOW_LISTEN", format!("127.0.0.1:{port}"))
        .env("ANBAO_FLOW_GROUPS_FILE", &groups)
        .env("ANBAO_FLOW_MITIGATION_COMMAND", format!("sh '{}'", script.display()))
        .env("ANBAO_FLOW_MITIGATION_NEXT_HOP", "192.0.2.254")
        .start();
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    for sequence in 0..20 {
        socket.send_to(&v9_attack(sequence, [192, 0, 2, 5], 17, 123, 0, 100), ("127.0.0.1", port)).unwrap();
        socket.send_to(&v9_attack(sequence, [198, 51, 100, 7], 17, 123, 0, 100), ("127.0.0.1", port)).unwrap();
    }
    let flowspec =
        "flow route { match { destination 192.0.2.5/32; protocol udp; source-port =123; } then { discard; } }";
    let want = [
        "announce route 192.0.2.5/32 next-hop 192.0.2.254 community [65535:666]".to_owned(),
        format!("announce {flowspec}"),
        "withdraw route 192.0.2.5/32 next-hop 192.0.2.254".to_owned(),
        format!("withdraw {flowspec}"),
    ];
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let lines = loop {
        let text = std::fs::read_to_string(&api).unwrap_or_default();
        let lines: Vec<String> = text.lines().map(str::to_owned).collect();
        if lines.len() >= 4 {
            break lines;
        }
        assert!(std::time::Instant::now() < deadline, "API lines so far: {lines:?}\n{}", server.report());
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert_eq!(
        lines, want,
        "announced at the start, withdrawn after the end and the hold; the manual group not at all"
    );
    // Each line is recorded just after it is written.
    let query = "SELECT a.victim, x.action, x.actor, x.detail FROM alert_actions x JOIN alerts a ON a.id = x.alert_id \
                 ORDER BY x.id";
    let actions = loop {
        let actions = sqlite(&data.join("anbao.db"), query);
        if actions.lines().count() >= 4 {
            break actions;
        }
        assert!(std::time::Instant::now() < deadline, "actions so far: {actions}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let rows: Vec<&str> = actions.lines().collect();
    assert_eq!(rows.len(), 4, "{actions}");
    assert_eq!(rows[0], format!("192.0.2.5|mitigation_announced|system|{}", want[0]));
    assert_eq!(rows[3], format!("192.0.2.5|mitigation_withdrawn|system|{}", want[3]));
    let manual = sqlite(&data.join("anbao.db"), "SELECT COUNT(*) FROM alerts WHERE victim = '198.51.100.7'");
    assert_eq!(manual.trim(), "1", "the manual group's attack is an alert");
}

/// A manual group's rule waits for approval: approved through the API by a
/// responder, the script hook, GoBGP's CLI (a stand-in recording its argv)
/// and the signed webhook receive the announcement; withdrawn by hand, they
/// receive the withdrawal. The rule's
/// row and the audit log say who did what.
#[test]
fn serve_announces_a_manual_groups_rule_once_approved_through_the_hooks() {
    use crate::harness::{Auth, create_token, serve, sqlite};
    use crate::notify::{hmac_sha256_hex, webhook_receiver};
    use serde_json::json;
    let dir = TempDir::new().unwrap();
    let data = dir.path().join("data");
    let responder = create_token(&data, None, "responder", "noc");
    let regulator = create_token(&data, None, "regulator", "watcher");
    let groups = dir.path().join("groups.toml");
    std::fs::write(
        &groups,
        "[[group]]\nname = \"cust\"\nprefixes = [\"198.51.100.0/24\"]\nhost = { pps = 20000 }\n\
         actions = { mode = \"manual\", rtbh = true, rtbh_community = \"64500:666\", hold_secs = 3600 }\n",
    )
    .unwrap();
    // The script hook appends its environment and stdin to a file.
    let seen = dir.path().join("script.log");
    let script = format!(
        "{{ echo \"$ANBAO_MITIGATION_CHANGE $ANBAO_MITIGATION_KIND $ANBAO_MITIGATION_VICTIM $ANBAO_MITIGATION_GROUP\"; cat; echo; }} >> '{}'",
        seen.display()
    );
    let (hook_url, hooks) = webhook_receiver();
    // A stand-in for GoBGP's CLI that records its argv, one word a line.
    let gobgp_log = dir.path().join("gobgp.log");
    let gobgp = dir.path().join("gobgp");
    std::fs::write(&gobgp, format!("#!/bin/sh\nprintf '%s|' \"$@\" >> '{}'\necho >> '{0}'\n", gobgp_log.display()))
        .unwrap();
    std::fs::set_permissions(&gobgp, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let port = UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let server = serve()
        .data_dir(&data)
        .env("ANBAO_FLOW_LISTEN", format!("127.0.0.1:{port}"))
        .env("ANBAO_FLOW_GROUPS_FILE", &groups)
        .env("ANBAO_FLOW_MITIGATION_SCRIPT", &script)
        .env(
            "ANBAO_FLOW_MITIGATION_GOBGP_COMMAND",
            format!("{} -p 50051 global rib -a {{family}} {{action}} {{rule}}", gobgp.display()),
        )
        .env("ANBAO_FLOW_MITIGATION_WEBHOOK_URL", &hook_url)
        .env("ANBAO_FLOW_MITIGATION_WEBHOOK_SECRET", "s3cret")
        .env("ANBAO_FLOW_MITIGATION_NEXT_HOP", "192.0.2.254")
        .start();
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    for sequence in 0..20 {
        socket.send_to(&v9_attack(sequence, [198, 51, 100, 7], 17, 123, 0, 100), ("127.0.0.1", port)).unwrap();
    }
    let client = server.client();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let proposed = loop {
        let list = client.get("/api/v1/flows/mitigations?state=proposed", Auth::Bearer(&regulator)).expect(200).json();
        if let Some(m) = list["mitigations"].get(0) {
            break m.clone();
        }
        assert!(std::time::Instant::now() < deadline, "no proposed rule: {list}\n{}", server.report());
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let want_line = "announce route 198.51.100.7/32 next-hop 192.0.2.254 community [64500:666]";
    assert_eq!(
        (proposed["kind"].as_str(), proposed["mode"].as_str(), proposed["pending"].as_str()),
        (Some("rtbh"), Some("manual"), Some(""))
    );
    assert_eq!(proposed["announce_line"], want_line);
    assert!(proposed["alert_id"].as_i64().is_some(), "{proposed}");
    // Nothing is announced before approval.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert!(!seen.exists(), "the script ran before approval");
    let id = proposed["id"].as_i64().unwrap();
    let page = client.get("/flows/mitigations", Auth::Bearer(&regulator)).expect(200).body;
    assert!(page.contains(&format!("data-mitigation=\"{id}\"")), "{page}");
    assert!(!page.contains("class=\"approve\""), "the regulator cannot approve: {page}");
    client
        .post_json(&format!("/api/v1/flows/mitigations/{id}/approve"), Auth::Bearer(&regulator), &json!({}))
        .expect(403);
    let approved = client
        .post_json(&format!("/api/v1/flows/mitigations/{id}/approve"), Auth::Bearer(&responder), &json!({}))
        .expect(200)
        .json();
    assert_eq!((approved["pending"].as_str(), approved["approved_by"].as_str()), (Some("announce"), Some("token:noc")));

    let (headers, body) = hooks.recv_timeout(std::time::Duration::from_secs(20)).expect("the announce webhook");
    let header = |name: &str| {
        headers
            .iter()
            .find_map(|h| h.split_once(": ").filter(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.to_owned()))
    };
    let stamp = header("x-anbao-timestamp").expect("timestamp header");
    let signature = header("x-anbao-signature").expect("signature header");
    assert_eq!(signature, format!("sha256={}", hmac_sha256_hex(b"s3cret", format!("{stamp}.{body}").as_bytes())));
    let sent: Value = serde_json::from_str(&body).unwrap();
    assert_eq!((sent["event"].as_str(), sent["id"].as_i64()), (Some("mitigation.announce"), Some(id)));
    assert_eq!(sent["rule"]["prefix"], "198.51.100.7/32");
    assert_eq!(sent["rule"]["community"], "64500:666");
    assert_eq!(sent["exabgp"], want_line);
    assert_eq!(sent["approved_by"], "token:noc");

    let state = |want: &str| loop {
        let m = client.get(&format!("/api/v1/flows/mitigations/{id}"), Auth::Bearer(&regulator)).expect(200).json();
        if m["state"] == want && m["pending"] == "" {
            break m;
        }
        assert!(
            std::time::Instant::now() < deadline + std::time::Duration::from_secs(30),
            "rule {m}\n{}",
            server.report()
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let announced = state("announced");
    assert!(announced["announced_at"].is_string(), "{announced}");
    let withdrawing = client
        .post_json(&format!("/api/v1/flows/mitigations/{id}/withdraw"), Auth::Bearer(&responder), &json!({}))
        .expect(200)
        .json();
    assert_eq!(withdrawing["withdraw_reason"], "manual");
    let (_, body) = hooks.recv_timeout(std::time::Duration::from_secs(20)).expect("the withdraw webhook");
    let sent: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(sent["event"], "mitigation.withdraw");
    assert_eq!(sent["exabgp"], "withdraw route 198.51.100.7/32 next-hop 192.0.2.254");
    let withdrawn = state("withdrawn");
    assert_eq!(withdrawn["withdrawn_by"], "token:noc");

    let log = std::fs::read_to_string(&seen).unwrap();
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 4, "{log}");
    assert_eq!(lines[0], "announce rtbh 198.51.100.7 cust");
    assert_eq!(serde_json::from_str::<Value>(lines[1]).unwrap()["event"], "mitigation.announce");
    assert_eq!(lines[2], "withdraw rtbh 198.51.100.7 cust");
    assert_eq!(serde_json::from_str::<Value>(lines[3]).unwrap()["change"], "withdraw");
    let argv = std::fs::read_to_string(&gobgp_log).unwrap();
    assert_eq!(
        argv.lines().collect::<Vec<_>>(),
        [
            "-p|50051|global|rib|-a|ipv4|add|198.51.100.7/32|nexthop|192.0.2.254|community|64500:666|",
            "-p|50051|global|rib|-a|ipv4|del|198.51.100.7/32|",
        ]
    );

    let db = data.join("anbao.db");
    let audit = sqlite(&db, "SELECT actor, action FROM audit_log WHERE object_type = 'mitigation' ORDER BY seq");
    assert_eq!(
        audit.lines().collect::<Vec<_>>(),
        [
            "system|mitigation.propose",
            "token:noc|mitigation.approve",
            "system|mitigation.announced",
            "token:noc|mitigation.withdraw",
            "system|mitigation.withdrawn",
        ]
    );
    let actions = sqlite(&db, "SELECT action FROM alert_actions ORDER BY id");
    assert_eq!(actions.lines().collect::<Vec<_>>(), ["mitigation_announced", "mitigation_withdrawn"]);
}

/// Scale-out (R8.4): `flow collect --bus --partitions 2` publishes the
/// decoded flows to NATS JetStream by the destination's host group (dc1 is
/// partition 0, dc2 partition 1: FNV-1a of "group:dc1" and "group:dc2",
/// docs/flow-collect.md), one `flow worker` per partition writes the
/// attacks to one PostgreSQL database. Partition 1's worker starts after
/// the attacks are over and still finds its attack in the backlog.
#[test]
fn flow_workers_each_detect_the_attacks_of_their_partition_from_the_bus() {
    use crate::bus::{StreamGuard, nats_url};
    use crate::harness::PgDb;
    let dir = TempDir::new().unwrap();
    let db = PgDb::create();
    let guard = StreamGuard::unique("ANBAO_TEST_FLOWS");
    let stream = guard.0.clone();
    let groups = dir.path().join("groups.toml");
    std::fs::write(
        &groups,
        r#"
        [[group]]
        name = "dc1"
        prefixes = ["192.0.2.0/24"]
        host = { pps = 20000 }
        [[group]]
        name = "dc2"
        prefixes = ["198.51.100.0/24"]
        host = { pps = 20000 }
        actions = { incident = true }
        "#,
    )
    .unwrap();
    let os = |v: &[&str]| -> Vec<std::ffi::OsString> { v.iter().map(Into::into).collect() };
    let mut collect = os(&["flow", "collect", "--listen", "127.0.0.1:0", "--bus", &nats_url(), "--stream", &stream]);
    collect.extend(os(&["--partitions", "2", "--collector", "edge-7", "--groups"]));
    collect.push(groups.clone().into());
    let collector = Collector::spawn(&collect, true);
    let data_dir = dir.path().join("data");
    // The organisation tree's root, where incidents are opened.
    crate::harness::create_token(&data_dir, Some(&db.url), "admin", "setup");
    let worker = |partition: &str| {
        let mut args = os(&["flow", "worker", "--json", "--bus", &nats_url(), "--stream", &stream]);
        args.extend(os(&["--partition", partition, "--database", &db.url, "--data-dir"]));
        args.push(data_dir.clone().into());
        args.push("--groups".into());
        args.push(groups.clone().into());
        let w = Collector::spawn(&args, false);
        let first = w
            .lines
            .recv_timeout(std::time::Duration::from_secs(30))
            .unwrap_or_else(|e| panic!("worker {partition} did not start ({e}): {}", w.stderr.lock().unwrap()));
        assert!(first.starts_with("anbao flow worker consuming"), "{first}");
        w
    };
    let p0 = worker("0");

    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    for name in ["softflowd-v9.pcap", "softflowd-v10.pcap"] {
        for p in payloads(&capture(name)) {
            socket.send_to(&p, ("127.0.0.1", collector.port)).unwrap();
        }
    }
    // 20 datagrams × 30 records × 100 packets per victim: 60 000 packets.
    for sequence in 0..20 {
        socket.send_to(&v9_attack(sequence, [192, 0, 2, 10], 6, 0, 0x02, 100), ("127.0.0.1", collector.port)).unwrap();
    }
    for sequence in 20..40 {
        socket
            .send_to(&v9_attack(sequence, [198, 51, 100, 20], 17, 123, 0, 100), ("127.0.0.1", collector.port))
            .unwrap();
    }
    let alerts = || db.psql("SELECT victim, indicator, count, sensor FROM alerts WHERE rule = 'ddos' ORDER BY victim");
    let wait_for = |victim: &str, worker: &Collector| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while !alerts().contains(victim) {
            assert!(
                std::time::Instant::now() < deadline,
                "no alert for {victim}:\n{}\ncollector: {}",
                worker.stderr.lock().unwrap(),
                collector.stderr.lock().unwrap()
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    };
    wait_for("192.0.2.10", &p0);
    let e = p0.next_event(10);
    assert_eq!((e["event"].as_str(), e["victim"].as_str()), (Some("start"), Some("192.0.2.10")), "{e}");
    // Partition 1 waits in the stream for its own worker.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert_eq!(alerts().trim(), "192.0.2.10|syn_flood|1|edge-7");
    // Traffic history: each worker records only its own partition's groups.
    let recorded = || db.psql("SELECT DISTINCT group_name FROM flow_traffic ORDER BY group_name");
    let wait_recorded = |want: &str| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        while recorded().trim() != want {
            assert!(std::time::Instant::now() < deadline, "traffic history of {:?}, want {want:?}", recorded());
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    };
    wait_recorded("dc1");

    let p1 = worker("1");
    wait_for("198.51.100.20", &p1);
    let e = p1.next_event(10);
    assert_eq!(
        (e["event"].as_str(), e["victim"].as_str(), e["class"].as_str()),
        (Some("start"), Some("198.51.100.20"), Some("amplification")),
        "{e}"
    );
    assert_eq!(e["service"], "ntp");
    // A few more seconds of heartbeats: updates and ends change no count.
    std::thread::sleep(std::time::Duration::from_millis(2500));
    assert_eq!(alerts().trim(), "192.0.2.10|syn_flood|1|edge-7\n198.51.100.20|amplification (ntp)|1|edge-7");
    wait_recorded("dc1\ndc2");
    for (w, other) in [(&p0, "198.51.100.20"), (&p1, "192.0.2.10")] {
        while let Ok(line) = w.lines.try_recv() {
            assert!(!line.contains(other), "a worker saw another partition's host: {line}");
        }
    }
    let applied: i64 =
        db.psql(&format!("SELECT COUNT(*) FROM bus_applied WHERE stream = '{stream}'")).trim().parse().unwrap();
    assert!(applied >= 2, "{applied}");
    // dc2's attacks open incidents (`incident = true`), dc1's do not: one.
    let incidents = db.psql(
        "SELECT i.incident_type, a.victim FROM incidents i JOIN incident_alerts l ON l.incident_id = i.id \
         JOIN alerts a ON a.id = l.alert_id",
    );
    assert_eq!(incidents.trim(), "ddos|198.51.100.20");
    assert_eq!(db.psql("SELECT COUNT(*) FROM incidents").trim(), "1");
}

/// Bus mode seen from the web node (issue #6, R8.4): a collector and two
/// workers write their status to the shared PostgreSQL database, and an
/// `anbao serve` that runs no collector itself shows them all on
/// /api/v1/flows, /flows and /metrics. The workers record the mitigation
/// rules their groups ask for, as the embedded path does: dc1's automatic
/// RTBH rule is announced by the serve's executor, dc2's manual one waits
/// for approval.
#[test]
fn a_bus_deployment_is_seen_and_mitigated_from_the_web_node() {
    use crate::bus::{StreamGuard, nats_url};
    use crate::harness::{Auth, PgDb, create_token, serve};
    let dir = TempDir::new().unwrap();
    let db = PgDb::create();
    let guard = StreamGuard::unique("ANBAO_TEST_NODES");
    let stream = guard.0.clone();
    let groups = dir.path().join("groups.toml");
    std::fs::write(
        &groups,
        r#"
        [[group]]
        name = "dc1"
        prefixes = ["192.0.2.0/24"]
        host = { pps = 20000 }
        actions = { mode = "auto", rtbh = true, hold_secs = 3600 }
        [[group]]
        name = "dc2"
        prefixes = ["198.51.100.0/24"]
        host = { pps = 20000 }
        actions = { mode = "manual", rtbh = true }
        "#,
    )
    .unwrap();
    // One configuration for every process: the database and the mitigation
    // hook (the BGP speaker's helper appends what it reads to a file).
    let data_dir = dir.path().join("data");
    std::fs::create_dir_all(&data_dir).unwrap();
    let api = dir.path().join("exabgp-api.txt");
    let script = dir.path().join("speaker.sh");
    std::fs::write(&script, format!("#!/bin/sh\nexec cat >> '{}'\n", api.display())).unwrap();
    std::fs::write(
        data_dir.join("anbao.toml"),
        format!(
            "database = \"{}\"\nflow_mitigation_command = \"sh '{}'\"\nflow_mitigation_next_hop = \"192.0.2.254\"\n",
            db.url,
            script.display()
        ),
    )
    .unwrap();
    let token = create_token(&data_dir, None, "regulator", "watcher");
    let os = |v: &[&str]| -> Vec<std::ffi::OsString> { v.iter().map(Into::into).collect() };
    let mut collect = os(&["flow", "collect", "--listen", "127.0.0.1:0", "--bus", &nats_url(), "--stream", &stream]);
    collect.extend(os(&["--partitions", "2", "--collector", "edge-7", "--groups"]));
    collect.push(groups.clone().into());
    collect.push("--data-dir".into());
    collect.push(data_dir.clone().into());
    let collector = Collector::spawn(&collect, true);
    let worker = |partition: &str| {
        let mut args = os(&["flow", "worker", "--json", "--bus", &nats_url(), "--stream", &stream]);
        args.extend(os(&["--partition", partition, "--data-dir"]));
        args.push(data_dir.clone().into());
        args.push("--groups".into());
        args.push(groups.clone().into());
        let w = Collector::spawn(&args, false);
        let first = w
            .lines
            .recv_timeout(std::time::Duration::from_secs(30))
            .unwrap_or_else(|e| panic!("worker {partition} did not start ({e}): {}", w.stderr.lock().unwrap()));
        assert!(first.starts_with("anbao flow worker consuming"), "{first}");
        w
    };
    let (p0, p1) = (worker("0"), worker("1"));
    let server = serve().data_dir(&data_dir).start();

    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    for sequence in 0..20 {
        socket.send_to(&v9_attack(sequence, [192, 0, 2, 10], 6, 0, 0x02, 100), ("127.0.0.1", collector.port)).unwrap();
        socket
            .send_to(&v9_attack(sequence + 20, [198, 51, 100, 20], 17, 123, 0, 100), ("127.0.0.1", collector.port))
            .unwrap();
    }
    let failure = || {
        format!(
            "p0: {}\np1: {}\ncollector: {}\n{}",
            p0.stderr.lock().unwrap(),
            p1.stderr.lock().unwrap(),
            collector.stderr.lock().unwrap(),
            server.report()
        )
    };
    // The mitigation rules: dc1's announced by the serve's executor, dc2's
    // waiting for a person.
    let rules = || db.psql("SELECT victim, kind, mode, state FROM flow_mitigations ORDER BY victim");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(40);
    while rules().trim() != "192.0.2.10|rtbh|automatic|announced\n198.51.100.20|rtbh|manual|proposed" {
        assert!(std::time::Instant::now() < deadline, "rules: {}\n{}", rules(), failure());
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert_eq!(
        std::fs::read_to_string(&api).unwrap().trim(),
        "announce route 192.0.2.10/32 next-hop 192.0.2.254 community [65535:666]"
    );
    let linked =
        db.psql("SELECT m.victim, a.rule FROM flow_mitigations m JOIN alerts a ON a.id = m.alert_id ORDER BY m.victim");
    assert_eq!(linked.trim(), "192.0.2.10|ddos\n198.51.100.20|ddos", "each rule names its attack's alert");

    // The deployment from the web node: both workers' groups, the
    // collector's exporter, each row with its node.
    let client = server.client();
    let flows = loop {
        let flows = client.get("/api/v1/flows", Auth::Bearer(&token)).expect(200).json();
        let groups = flows["groups"].as_array().map_or(0, Vec::len);
        let exporters = flows["exporters"].as_array().map_or(0, Vec::len);
        if groups == 2 && exporters == 1 && flows["nodes"].as_array().map_or(0, Vec::len) == 3 {
            break flows;
        }
        assert!(std::time::Instant::now() < deadline, "/api/v1/flows: {flows}\n{}", failure());
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    assert_eq!(flows["enabled"], true);
    let nodes: Vec<(String, String, Value, bool)> = flows["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["id"].as_str().unwrap().to_owned(),
                n["role"].as_str().unwrap().to_owned(),
                n["partition"].clone(),
                n["stale"].as_bool().unwrap(),
            )
        })
        .collect();
    let worker_id = |k: u32| format!("worker:{stream}:anbao-flow-workers-p{k}");
    assert_eq!(
        nodes,
        [
            ("collector:edge-7".to_owned(), "collector".to_owned(), Value::Null, false),
            (worker_id(0), "worker".to_owned(), Value::from(0), false),
            (worker_id(1), "worker".to_owned(), Value::from(1), false),
        ],
        "{flows}"
    );
    let names: Vec<&str> = flows["nodes"].as_array().unwrap().iter().map(|n| n["name"].as_str().unwrap()).collect();
    let mut groups: Vec<(&str, &str)> = flows["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["name"].as_str().unwrap(), g["node"].as_str().unwrap()))
        .collect();
    groups.sort();
    assert_eq!(groups, [("dc1", names[1]), ("dc2", names[2])], "{flows}");
    assert!(names[1].ends_with("-p0") && names[2].ends_with("-p1"), "{names:?}");
    let exporter = &flows["exporters"][0];
    assert_eq!((exporter["exporter"].as_str(), exporter["node"].as_str()), (Some("127.0.0.1"), Some("edge-7")));
    assert!(exporter["packets"].as_u64().unwrap() >= 40, "{flows}");
    assert!(flows["counters"]["datagrams"].as_u64().unwrap() >= 40, "{flows}");

    let page = client.get("/flows", Auth::Bearer(&token)).expect(200).body;
    for id in ["collector:edge-7".to_owned(), worker_id(0), worker_id(1)] {
        assert!(page.contains(&format!("data-node=\"{id}\" data-stale=\"false\"")), "{id}: {page}");
    }
    assert!(page.contains("data-group=\"dc1\"") && page.contains("data-group=\"dc2\""), "{page}");
    assert!(page.contains("data-exporter=\"127.0.0.1\""), "{page}");
    // Each group's hour-of-week profile, from the worker that detects it.
    for (group, node) in [("dc1", names[1]), ("dc2", names[2])] {
        let profile =
            client.get(&format!("/api/v1/flows/groups/{group}/profile"), Auth::Bearer(&token)).expect(200).json();
        assert_eq!(profile["node"].as_str(), Some(node), "{profile}");
        assert_eq!(profile["slots"].as_array().map(Vec::len), Some(168), "{profile}");
        assert!(profile["current"].as_u64().is_some_and(|c| c < 168), "{profile}");
    }

    // Metrics: one series per group, exporter and node, labelled with the
    // node's name (a handful of values), none per attack or per host.
    let metrics = client.get("/metrics", Auth::None).expect(200).body;
    let series = |prefix: &str| -> Vec<&str> { metrics.lines().filter(|l| l.starts_with(prefix)).collect() };
    let mut pps = series("anbao_flow_group_pps{");
    pps.sort();
    assert_eq!(pps.len(), 2, "{metrics}");
    assert!(pps[0].starts_with(&format!("anbao_flow_group_pps{{group=\"dc1\",node=\"{}\"}} ", names[1])), "{metrics}");
    assert!(pps[1].starts_with(&format!("anbao_flow_group_pps{{group=\"dc2\",node=\"{}\"}} ", names[2])), "{metrics}");
    assert_eq!(
        series("anbao_flow_exporter_packets_total{"),
        series("anbao_flow_exporter_packets_total{exporter=\"127.0.0.1\",node=\"edge-7\"}"),
        "{metrics}"
    );
    assert_eq!(series("anbao_flow_exporter_packets_total{").len(), 1, "{metrics}");
    let up = series("anbao_flow_node_up{");
    assert_eq!(up.len(), 3, "{metrics}");
    assert!(up.iter().all(|l| l.ends_with(" 1")), "{metrics}");
    assert!(up.contains(&"anbao_flow_node_up{node=\"edge-7\",role=\"collector\"} 1"), "{metrics}");
    assert!(!metrics.lines().any(|l| l.starts_with("anbao_flow") && l.contains("victim")), "{metrics}");
}
