//! The softflowd exports of ../shared/data/flow (NetFlow v5, v9, IPFIX made
//! from the same real traffic) decoded datagram by datagram and compared,
//! record by record and field by field, with tshark's cflow dissector
//! (test_data/softflowd-v*.tsv, made by test_data/README.md's command).

use std::net::IpAddr;

use anbao_flow::{FlowRecord, Timestamp, Version};

use crate::{Datagram, decoder, shared_data, test_data, udp_datagrams};

/// A row of the oracle table.
#[derive(Debug)]
struct Row {
    frame: usize,
    export_ns: i64,
    uptime_ms: Option<i64>,
    src: IpAddr,
    dst: IpAddr,
    sport: Option<u16>,
    dport: Option<u16>,
    proto: u8,
    packets: u64,
    bytes: u64,
    tcp_flags: Option<u8>,
    start_ms: i64,
    end_ms: i64,
}

/// "2151610.264000000" (seconds) as milliseconds.
fn ms(text: &str) -> i64 {
    let (secs, frac) = text.split_once('.').unwrap_or((text, "0"));
    secs.parse::<i64>().unwrap() * 1000 + format!("{frac:0<3}")[..3].parse::<i64>().unwrap()
}

/// Flow rows and (frame, system init time in ns) rows.
fn table(name: &str) -> (Vec<Row>, Vec<(usize, i64)>) {
    let text = std::fs::read_to_string(test_data(name)).unwrap();
    let (mut rows, mut inits) = (Vec::new(), Vec::new());
    for line in text.lines() {
        let c: Vec<&str> = line.split('\t').collect();
        let ns = |s: usize| c[s].parse::<i64>().unwrap() * 1_000_000_000 + c[s + 1].parse::<i64>().unwrap();
        if c[0] == "init" {
            inits.push((c[1].parse().unwrap(), ns(2)));
            continue;
        }
        assert_eq!(c[0], "flow", "{line}");
        rows.push(Row {
            frame: c[1].parse().unwrap(),
            export_ns: ns(2),
            uptime_ms: (!c[4].is_empty()).then(|| ms(c[4])),
            src: c[5].parse().unwrap(),
            dst: c[6].parse().unwrap(),
            sport: c[7].parse().ok(),
            dport: c[8].parse().ok(),
            proto: c[9].parse().unwrap(),
            packets: c[10].parse().unwrap(),
            bytes: c[11].parse().unwrap(),
            tcp_flags: c[12].strip_prefix("0x").map(|h| u8::from_str_radix(h, 16).unwrap()),
            start_ms: ms(c[13]),
            end_ms: ms(c[14]),
        });
    }
    (rows, inits)
}

/// The absolute time tshark's relative one stands for: sysUpTime-relative
/// against the header (v5, v9: the difference read as signed 32-bit), or
/// IPFIX flowStartSysUpTime after the exporter's system init time.
fn expected_time(row: &Row, rel_ms: i64, init_ns: Option<i64>) -> Timestamp {
    match (row.uptime_ms, init_ns) {
        (Some(up), _) => {
            let ago = i64::from((up as u32).wrapping_sub(rel_ms as u32) as i32);
            Timestamp(row.export_ns - ago * 1_000_000)
        }
        (None, Some(init)) => Timestamp(init + rel_ms * 1_000_000),
        (None, None) => panic!("IPFIX flow in frame {} before any system init time", row.frame),
    }
}

fn decode_all(datagrams: &[Datagram]) -> (Vec<(usize, FlowRecord)>, anbao_flow::Decoder) {
    let mut decoder = decoder();
    let mut out = Vec::new();
    for d in datagrams {
        let report = decoder
            .decode(d.src, d.ts, &d.payload, &mut |f| out.push((d.frame, f)))
            .unwrap_or_else(|e| panic!("frame {}: {e}", d.frame));
        assert!(report.problems.is_empty(), "frame {}: {:?}", d.frame, report.problems);
    }
    (out, decoder)
}

fn compare(file: &str, version: Version) {
    let datagrams = udp_datagrams(&shared_data().join("flow").join(file));
    let (rows, inits) = table(&file.replace(".pcap", ".tsv"));
    let (ours, decoder) = decode_all(&datagrams);
    assert_eq!(ours.len(), rows.len(), "{file}: records");
    for ((frame, f), row) in ours.iter().zip(&rows) {
        let at = format!("{file} frame {frame}: {f:?} vs {row:?}");
        assert_eq!(*frame, row.frame, "{at}");
        assert_eq!((f.version, f.exporter), (version, "127.0.0.1".parse().unwrap()), "{at}");
        assert_eq!((f.src, f.dst, f.proto), (row.src, row.dst, row.proto), "{at}");
        assert_eq!(f.sport, row.sport.unwrap_or(0), "{at}");
        if let Some(dport) = row.dport {
            assert_eq!(f.dport, dport, "{at}");
        }
        assert_eq!((f.packets, f.bytes), (row.packets, row.bytes), "{at}");
        assert_eq!((f.raw_packets, f.raw_bytes, f.sampling_rate), (row.packets, row.bytes, 1), "{at}");
        assert_eq!(f.tcp_flags, row.tcp_flags.unwrap_or(0), "{at}");
        let init = inits.iter().rev().find(|(fr, _)| *fr <= row.frame).map(|(_, ns)| *ns);
        assert_eq!(f.start, expected_time(row, row.start_ms, init), "{at}");
        assert_eq!(f.end, expected_time(row, row.end_ms, init), "{at}");
    }
    // softflowd lost nothing on loopback and sent sound templates.
    let exporters = decoder.exporters();
    let health = &exporters[&"127.0.0.1".parse::<IpAddr>().unwrap()];
    assert_eq!(health.packets, datagrams.len() as u64, "{file}: {health:?}");
    assert_eq!(health.flows, rows.len() as u64, "{file}: {health:?}");
    assert_eq!(
        (health.sequence_gaps, health.template_errors, health.malformed, health.dropped_sets),
        (0, 0, 0, 0),
        "{file}: {health:?}"
    );
}

#[test]
fn netflow_v5_matches_tshark() {
    compare("softflowd-v5.pcap", Version::NetflowV5);
}

#[test]
fn netflow_v9_matches_tshark() {
    compare("softflowd-v9.pcap", Version::NetflowV9);
}

#[test]
fn ipfix_matches_tshark() {
    compare("softflowd-v10.pcap", Version::Ipfix);
}

/// The same traffic in the three formats gives the same per-destination
/// totals (v5 carries no IPv6).
#[test]
fn the_three_formats_agree_on_ipv4_totals() {
    use std::collections::BTreeMap;
    let totals = |file: &str| {
        let (ours, _) = decode_all(&udp_datagrams(&shared_data().join("flow").join(file)));
        let mut t: BTreeMap<IpAddr, (u64, u64)> = BTreeMap::new();
        for (_, f) in ours.iter().filter(|(_, f)| f.dst.is_ipv4()) {
            let e = t.entry(f.dst).or_default();
            e.0 += f.packets;
            e.1 += f.bytes;
        }
        t
    };
    let v5 = totals("softflowd-v5.pcap");
    assert!(v5.len() > 20, "{v5:?}");
    assert_eq!(v5, totals("softflowd-v9.pcap"));
    assert_eq!(v5, totals("softflowd-v10.pcap"));
}
