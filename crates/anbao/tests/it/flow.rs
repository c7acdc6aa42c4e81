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

const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");

/// Destination address → (packets, bytes).
type Totals = BTreeMap<String, (u64, u64)>;

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
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut flows = Vec::new();
    tshark_flows(&v, &mut flows);
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
