//! Real exporters feeding `anbao flow collect` on loopback: Debian's
//! `softflowd` (NetFlow v5, v9, IPFIX) and pmacct's `pmacctd` with its
//! `nfprobe` (NetFlow v9, IPFIX) and `sfprobe` (sFlow v5) plugins, each
//! reading one capture made of Suricata-Verify's Ethernet captures
//! (../shared/data/pcap/suricata-verify) and exporting to a recorder that
//! keeps every datagram and passes it on to the collector.
//!
//! What anbao reports — the records `flow collect --records` prints live
//! and `anbao flow decode` reading the recorder's capture — is compared per
//! destination address (packets, bytes) with:
//! - unsampled NetFlow and IPFIX: tshark's count of the exporter's input
//!   capture, in what the exporter counts: softflowd the frame after its
//!   Ethernet header and VLAN tags (so Ethernet padding is in), pmacct the
//!   IP packet (IPv4 total length, IPv6 payload length + 40);
//! - every export: Wireshark's dissector (cflow, sflow) reading the
//!   recorder's capture; for sFlow, one sample of a packet of frame length
//!   L at rate N is N packets and N × L bytes.
//!
//! The collector's health report must show every export datagram, no
//! sequence gap, no template error, nothing malformed or undecodable.
//! The tools come from Debian (packages softflowd, pmacct, tshark);
//! .ci/run installs them and the tests fail when one is missing.

use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::flow::{Collector, SHARED, Totals, cflow_totals};
use crate::harness::{TempDir, Value, anbao};

/// Longest an exporter may take to read the capture and export it.
const EXPORTER_TIMEOUT: Duration = Duration::from_secs(120);

// ---------------------------------------------------------------------------
// The exporters' input.

/// One pcap (Ethernet) holding, in file-name order, the packets of every
/// classic-pcap Ethernet capture of Suricata-Verify's folder (about 3,700
/// packets of TCP, UDP and ICMP over IPv4 and IPv6, some VLAN-tagged, to
/// some 75 destinations), 1 ms apart so the exporters see one short
/// stretch of traffic. Captured and wire lengths are kept.
fn exporters_input(dir: &Path) -> PathBuf {
    let folder = Path::new(SHARED).join("pcap/suricata-verify");
    let mut names: Vec<PathBuf> =
        std::fs::read_dir(&folder).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_file()).collect();
    names.sort();
    let mut out = Vec::new();
    pcap_header(&mut out);
    let mut packets = 0u64;
    for name in &names {
        let data = std::fs::read(name).unwrap();
        let Some(magic) = data.get(..4) else { continue };
        let be = match magic {
            [0xd4, 0xc3, 0xb2, 0xa1] => false,
            [0xa1, 0xb2, 0xc3, 0xd4] => true,
            _ => continue, // pcapng, nanosecond pcap or not a capture
        };
        let u32_at = |at: usize| {
            let b: [u8; 4] = data[at..at + 4].try_into().unwrap();
            if be { u32::from_be_bytes(b) } else { u32::from_le_bytes(b) }
        };
        if data.len() < 24 || u32_at(20) != 1 {
            continue;
        }
        let mut at = 24;
        while at + 16 <= data.len() {
            let (caplen, len) = (u32_at(at + 8) as usize, u32_at(at + 12));
            let Some(frame) = data.get(at + 16..at + 16 + caplen) else { break };
            at += 16 + caplen;
            let ms = 1_700_000_000_000 + packets;
            out.extend_from_slice(&((ms / 1000) as u32).to_le_bytes());
            out.extend_from_slice(&((ms % 1000 * 1000) as u32).to_le_bytes());
            out.extend_from_slice(&(caplen as u32).to_le_bytes());
            out.extend_from_slice(&len.to_le_bytes());
            out.extend_from_slice(frame);
            packets += 1;
        }
    }
    assert!(packets > 3000, "only {packets} packets in the Ethernet captures of {}", folder.display());
    let path = dir.join("input.pcap");
    std::fs::write(&path, out).unwrap();
    path
}

/// What the exporter counts as a packet's bytes.
#[derive(Debug, Clone, Copy)]
enum Counted {
    /// The IP packet: IPv4 total length, IPv6 payload length + 40 (pmacct).
    Ip,
    /// The frame after the Ethernet header and its VLAN tags, padding
    /// included (softflowd).
    AfterEthernet,
}

/// Per destination address, the packets and bytes of the IP packets in
/// `file` as tshark reads them (the outer IP header of each frame).
fn input_totals(file: &Path, counted: Counted, ipv4_only: bool) -> Totals {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(file)
        .args(["-T", "fields", "-E", "occurrence=a", "-E", "aggregator=,", "-e", "frame.protocols"])
        .args(["-e", "frame.len", "-e", "vlan.id", "-e", "ip.dst", "-e", "ip.len", "-e", "ipv6.dst", "-e", "ipv6.plen"])
        .output()
        .expect("tshark runs (Debian package tshark; .ci/run installs it)");
    assert!(out.status.success(), "tshark: {}", String::from_utf8_lossy(&out.stderr));
    let mut t = Totals::new();
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let c: Vec<&str> = line.split('\t').collect();
        let first = |i: usize| c[i].split(',').next().unwrap_or("");
        // The outer IP header is the first of ip / ipv6 in the frame.
        let outer = c[0].split(':').find(|p| *p == "ip" || *p == "ipv6");
        let (dst, ip_bytes) = match outer {
            Some("ip") => (first(3), first(4).parse::<u64>().unwrap()),
            Some(_) if !ipv4_only => (first(5), first(6).parse::<u64>().unwrap() + 40),
            _ => continue,
        };
        let bytes = match counted {
            Counted::Ip => ip_bytes,
            Counted::AfterEthernet => {
                let tags = if c[2].is_empty() { 0 } else { c[2].split(',').count() as u64 };
                c[1].parse::<u64>().unwrap() - 14 - 4 * tags
            }
        };
        let e = t.entry(dst.to_owned()).or_default();
        e.0 += 1;
        e.1 += bytes;
    }
    assert!(t.len() > 50, "{t:?}");
    t
}

// ---------------------------------------------------------------------------
// The recorder between exporter and collector.

/// A UDP socket on loopback that keeps every datagram it receives (with
/// its source port and time) and sends it on to the collector.
struct Recorder {
    port: u16,
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<Vec<Received>>,
}

struct Received {
    at: Duration,
    sport: u16,
    payload: Vec<u8>,
}

impl Recorder {
    fn start(collector: u16) -> Recorder {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
        let port = socket.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let mut kept = Vec::new();
            let mut buf = vec![0u8; 65_536];
            let mut draining = false;
            loop {
                match socket.recv_from(&mut buf) {
                    Ok((n, from)) => {
                        socket.send_to(&buf[..n], ("127.0.0.1", collector)).unwrap();
                        let at = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
                        kept.push(Received { at, sport: from.port(), payload: buf[..n].to_vec() });
                    }
                    Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                        if draining {
                            return kept;
                        }
                        // The exporter has exited: what it sent is queued;
                        // read on without waiting until the socket is empty.
                        if stopping.load(Ordering::SeqCst) {
                            socket.set_nonblocking(true).unwrap();
                            draining = true;
                        }
                    }
                    Err(e) => panic!("recorder: {e}"),
                }
            }
        });
        Recorder { port, stop, thread }
    }

    /// Once the exporter has exited: everything it sent.
    fn finish(self) -> Vec<Received> {
        self.stop.store(true, Ordering::SeqCst);
        self.thread.join().unwrap()
    }
}

/// A classic pcap file header: little-endian, microseconds, Ethernet.
fn pcap_header(out: &mut Vec<u8>) {
    out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&262_144u32.to_le_bytes());
    out.extend_from_slice(&1u32.to_le_bytes());
}

/// The recorded datagrams as a pcap (Ethernet, IPv4 127.0.0.1 →
/// 127.0.0.1, UDP to `port`).
fn write_recording(path: &Path, port: u16, datagrams: &[Received]) {
    let mut out = Vec::new();
    pcap_header(&mut out);
    for d in datagrams {
        let mut ip = Vec::new();
        ip.extend_from_slice(&[0x45, 0]);
        ip.extend_from_slice(&((20 + 8 + d.payload.len()) as u16).to_be_bytes());
        ip.extend_from_slice(&[0, 0, 0, 0, 64, 17, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1]);
        let sum: u32 = ip.chunks(2).map(|w| u32::from(u16::from_be_bytes([w[0], w[1]]))).sum();
        let folded = (sum & 0xffff) + (sum >> 16);
        ip[10..12].copy_from_slice(&(!((folded & 0xffff) + (folded >> 16)) as u16).to_be_bytes());
        ip.extend_from_slice(&d.sport.to_be_bytes());
        ip.extend_from_slice(&port.to_be_bytes());
        ip.extend_from_slice(&((8 + d.payload.len()) as u16).to_be_bytes());
        ip.extend_from_slice(&[0, 0]);
        ip.extend_from_slice(&d.payload);
        let len = (14 + ip.len()) as u32;
        out.extend_from_slice(&(d.at.as_secs() as u32).to_le_bytes());
        out.extend_from_slice(&d.at.subsec_micros().to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&[0; 12]);
        out.extend_from_slice(&[0x08, 0x00]);
        out.extend_from_slice(&ip);
    }
    std::fs::write(path, out).unwrap();
}

// ---------------------------------------------------------------------------
// Running an exporter into the collector.

/// How one export reached anbao.
struct Export {
    /// Records printed by `flow collect --records`.
    collected: Vec<Value>,
    /// The collector's last health report for exporter 127.0.0.1.
    health: Value,
    /// The datagrams the exporter sent, as a capture.
    recording: PathBuf,
    port: u16,
    datagrams: usize,
}

/// Starts `anbao flow collect --records --stats 1`, a recorder in front
/// of it, runs `exporter` (given the recorder's port) to its end, and
/// stops the collector once its health report counts every datagram.
fn export(dir: &Path, exporter: impl FnOnce(u16) -> Command, tool: &str) -> Export {
    let args: Vec<std::ffi::OsString> =
        ["flow", "collect", "--json", "--records", "--stats", "1", "--listen", "127.0.0.1:0"].map(Into::into).to_vec();
    let mut collector = Collector::spawn(&args, true);
    let recorder = Recorder::start(collector.port);
    let mut command = exporter(recorder.port);
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{tool} runs (Debian package {tool}; .ci/run installs it): {e}"));
    let deadline = Instant::now() + EXPORTER_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{command:?} did not finish within {EXPORTER_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let output = child.wait_with_output().unwrap();
    let said = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    // At the end of a capture file pmacctd's core and its plugin stop
    // together; when the plugin has gone first (it logs its normal
    // shutdown), the core exits 1 on the lost connection. What was
    // exported is checked below either way.
    let pmacct_race =
        tool == "pmacct" && said.contains("Shutting down on user request") && said.contains("no more plugins active");
    assert!(status.success() || pmacct_race, "{command:?}: {status}\n{said}");
    let received = recorder.finish();
    assert!(!received.is_empty(), "{command:?} exported nothing:\n{said}");

    // The collector has read them all when its report says so.
    let deadline = Instant::now() + Duration::from_secs(60);
    let health = loop {
        let stderr = collector.stderr.lock().unwrap().clone();
        let last = stderr.lines().rev().find(|l| l.starts_with('{')).map(|l| serde_json::from_str::<Value>(l).unwrap());
        if let Some(stats) = last
            && stats["datagrams"].as_u64() == Some(received.len() as u64)
        {
            break stats["exporters"]["127.0.0.1"].clone();
        }
        assert!(Instant::now() < deadline, "the collector did not count {} datagrams:\n{stderr}", received.len());
        std::thread::sleep(Duration::from_millis(200));
    };
    // Records are printed before the report that counts them: all are in
    // the pipe; read it to its end.
    collector.child.kill().unwrap();
    collector.child.wait().unwrap();
    let mut collected = Vec::new();
    while let Ok(line) = collector.lines.recv_timeout(Duration::from_secs(30)) {
        let v: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{line}: {e}"));
        assert!(v.get("event").is_none(), "an attack event without host groups: {line}");
        collected.push(v);
    }
    let recording = dir.join(format!("{tool}-export.pcap"));
    write_recording(&recording, 2055, &received);
    Export { collected, health, recording, port: 2055, datagrams: received.len() }
}

/// Per destination, the records' packets and bytes; checks every record
/// has `version` and `sampling_rate`.
fn totals(records: &[Value], version: &str, sampling_rate: u64) -> Totals {
    let mut t = Totals::new();
    for r in records {
        assert_eq!((r["version"].as_str(), r["sampling_rate"].as_u64()), (Some(version), Some(sampling_rate)), "{r}");
        let e = t.entry(r["dst"].as_str().unwrap().to_owned()).or_default();
        e.0 += r["packets"].as_u64().unwrap();
        e.1 += r["bytes"].as_u64().unwrap();
    }
    t
}

/// `anbao flow decode --json` over the recording: its records, after
/// checking it decoded everything and reports a sound exporter.
fn decoded(export: &Export) -> Vec<Value> {
    let out = anbao(["flow", "decode", "--json"]).arg(&export.recording).run().ok();
    let flows = out.stdout.lines().count();
    out.expect_mentions(&[&format!(
        "exporter 127.0.0.1: {} packets, {flows} flows, 0 sequence gaps (0 lost), 0 template errors, \
         0 data sets dropped (no template), 0 malformed",
        export.datagrams
    )]);
    out.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// The collector saw every datagram, lost none, refused no template.
fn check_health(export: &Export) {
    let h = &export.health;
    assert_eq!(h["packets"].as_u64(), Some(export.datagrams as u64), "{h}");
    assert_eq!(h["flows"].as_u64(), Some(export.collected.len() as u64), "{h}");
    for key in ["sequence_gaps", "sequence_lost", "template_errors", "malformed", "dropped_sets", "undecodable_samples"]
    {
        assert_eq!(h[key].as_u64(), Some(0), "{key}: {h}");
    }
}

/// Wireshark's cflow dissector over the recording: per destination.
fn tshark_cflow(export: &Export) -> Totals {
    cflow_totals(&tshark_json(export, "cflow"))
}

fn tshark_json(export: &Export, dissector: &str) -> Value {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(&export.recording)
        .args(["-d", &format!("udp.port=={},{dissector}", export.port), "-T", "json", "--no-duplicate-keys"])
        .output()
        .expect("tshark runs (Debian package tshark; .ci/run installs it)");
    assert!(out.status.success(), "tshark: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Every flow sample in tshark's sFlow tree: (sampling rate, frame length,
/// destination of the sampled header's IP packet).
fn sflow_samples(v: &Value, out: &mut Vec<(u64, u64, String)>) {
    match v {
        Value::Object(m) => {
            if let Some(rate) = m.get("sflow.flow_sample.sampling_rate") {
                let rate = rate.as_str().unwrap().parse().unwrap();
                let mut headers = Vec::new();
                raw_headers(v, &mut headers);
                assert_eq!(headers.len(), 1, "one raw packet header per sample: {v}");
                let (len, tree) = headers[0];
                let ip = match (tree.get("ip"), tree.get("ipv6")) {
                    (Some(ip), None) => &ip["ip.dst"],
                    (None, Some(ip6)) => &ip6["ipv6.dst"],
                    _ => panic!("one IP header in the sampled header: {tree:?}"),
                };
                out.push((rate, len, ip.as_str().unwrap().to_owned()));
                return;
            }
            m.values().for_each(|c| sflow_samples(c, out));
        }
        Value::Array(a) => a.iter().for_each(|c| sflow_samples(c, out)),
        _ => {}
    }
}

fn raw_headers<'a>(v: &'a Value, out: &mut Vec<(u64, &'a serde_json::Map<String, Value>)>) {
    match v {
        Value::Object(m) => {
            if let (Some(len), Some(Value::Object(tree))) =
                (m.get("sflow_245.header.frame_length"), m.get("sflow_245.header_tree"))
            {
                out.push((len.as_str().unwrap().parse().unwrap(), tree));
                return;
            }
            m.values().for_each(|c| raw_headers(c, out));
        }
        Value::Array(a) => a.iter().for_each(|c| raw_headers(c, out)),
        _ => {}
    }
}

// ---------------------------------------------------------------------------
// The exporters.

/// `softflowd -r FILE` reads the capture, exports every flow at its end
/// and exits (`-r` also turns off its control socket: no `-c` after it).
fn softflowd(input: &Path, version: &str) -> impl FnOnce(u16) -> Command {
    let input = input.to_owned();
    let version = version.to_owned();
    move |port| {
        let mut c = Command::new("/usr/sbin/softflowd");
        c.args(["-d", "-n", &format!("127.0.0.1:{port}"), "-v", &version, "-r"]).arg(&input);
        c
    }
}

fn check_softflowd(version: &str, name: &str) {
    let dir = TempDir::new().unwrap();
    let input = exporters_input(dir.path());
    let export = export(dir.path(), softflowd(&input, version), "softflowd");
    check_health(&export);
    // NetFlow v5 carries IPv4 only.
    let truth = input_totals(&input, Counted::AfterEthernet, version == "5");
    assert_eq!(totals(&export.collected, name, 1), truth, "flow collect");
    assert_eq!(totals(&decoded(&export), name, 1), truth, "flow decode");
    assert_eq!(tshark_cflow(&export), truth, "tshark");
}

#[test]
fn softflowd_netflow_v5_totals_match_the_capture() {
    check_softflowd("5", "netflow5");
}

#[test]
fn softflowd_netflow_v9_totals_match_the_capture() {
    check_softflowd("9", "netflow9");
}

#[test]
fn softflowd_ipfix_totals_match_the_capture() {
    check_softflowd("10", "ipfix");
}

/// `pmacctd -f CONF` with one plugin reading the capture
/// (`pcap_savefile`): it exits at the end of the file once the plugin
/// has exported what it holds. `sampling_rate` is pmacct's packet
/// sampling (1 in N at random), announced by nfprobe in a sampler options
/// record and by sfprobe in every sample.
fn pmacctd(dir: &Path, input: &Path, plugin_lines: &str) -> impl FnOnce(u16) -> Command {
    let conf = dir.join("pmacctd.conf");
    let input = input.to_owned();
    let plugin_lines = plugin_lines.to_owned();
    move |port| {
        let text = format!(
            "daemonize: false\npcap_savefile: {}\npcap_savefile_wait: false\n{}\n",
            input.display(),
            plugin_lines.replace("PORT", &port.to_string())
        );
        std::fs::write(&conf, text).unwrap();
        let mut c = Command::new("/usr/sbin/pmacctd");
        c.arg("-f").arg(&conf);
        c
    }
}

fn check_nfprobe(version: &str, name: &str, rate: u64) {
    let dir = TempDir::new().unwrap();
    let input = exporters_input(dir.path());
    let plugin = format!(
        "plugins: nfprobe\nnfprobe_receiver: 127.0.0.1:PORT\nnfprobe_version: {version}\nsampling_rate: {rate}"
    );
    let export = export(dir.path(), pmacctd(dir.path(), &input, &plugin), "pmacct");
    check_health(&export);
    // What the exporter sent, scaled by its sampling rate.
    let sent: Totals = tshark_cflow(&export).into_iter().map(|(k, (p, b))| (k, (p * rate, b * rate))).collect();
    assert_eq!(totals(&export.collected, name, rate), sent, "flow collect");
    assert_eq!(totals(&decoded(&export), name, rate), sent, "flow decode");
    if rate == 1 {
        assert_eq!(sent, input_totals(&input, Counted::Ip, false), "the capture");
    } else {
        let truth = input_totals(&input, Counted::Ip, false);
        assert!(sent.keys().all(|k| truth.contains_key(k)), "{sent:?}");
    }
}

#[test]
fn pmacct_nfprobe_netflow_v9_totals_match_the_capture() {
    check_nfprobe("9", "netflow9", 1);
}

#[test]
fn pmacct_nfprobe_ipfix_totals_match_the_capture() {
    check_nfprobe("10", "ipfix", 1);
}

/// Sampled 1 in 10: the sampler options record sets every record's rate.
#[test]
fn pmacct_nfprobe_ipfix_sampled_totals_are_scaled_by_the_announced_rate() {
    check_nfprobe("10", "ipfix", 10);
}

/// sFlow samples 1 in 10 packets at random: anbao's totals must be what
/// tshark reads in the same export, sample by sample (rate packets, rate ×
/// frame length bytes), to destinations of the capture.
#[test]
fn pmacct_sfprobe_sflow_totals_match_the_samples() {
    let dir = TempDir::new().unwrap();
    let input = exporters_input(dir.path());
    let plugin = "plugins: sfprobe\nsfprobe_receiver: 127.0.0.1:PORT\nsfprobe_agentip: 127.0.0.1\nsampling_rate: 10";
    let export = export(dir.path(), pmacctd(dir.path(), &input, plugin), "pmacct");
    check_health(&export);
    let mut samples = Vec::new();
    sflow_samples(&tshark_json(&export, "sflow"), &mut samples);
    // About one packet in ten of some 3,700.
    assert!(samples.len() > 100, "{} samples", samples.len());
    let mut sampled = Totals::new();
    for (rate, len, dst) in samples {
        assert_eq!(rate, 10);
        let e = sampled.entry(dst).or_default();
        e.0 += rate;
        e.1 += rate * len;
    }
    assert_eq!(totals(&export.collected, "sflow5", 10), sampled, "flow collect");
    assert_eq!(totals(&decoded(&export), "sflow5", 10), sampled, "flow decode");
    let truth = input_totals(&input, Counted::Ip, false);
    assert!(sampled.keys().all(|k| truth.contains_key(k)), "{sampled:?}");
}
