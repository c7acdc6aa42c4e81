//! sFlow v5 datagrams built per the specification, checked against our
//! expectations and against tshark's sFlow dissector.

use std::process::Command;

use anbao_flow::{FlowError, Timestamp, Version};

use crate::build::{
    eth_ipv4_tcp, ipv6_udp, pcap_of, sflow, sflow_counter_sample, sflow_expanded_flow_sample, sflow_flow_sample,
    sflow_raw_header,
};
use crate::{decoder, feed, health};

fn datagram(sequence: u32) -> Vec<u8> {
    let syn = eth_ipv4_tcp([198, 51, 100, 7], [203, 0, 113, 9], 40_001, 443, 60);
    let v6 = ipv6_udp(
        [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
        [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2],
        53,
        5353,
        100,
    );
    sflow(
        3,
        sequence,
        &[
            sflow_flow_sample(1, 512, &[sflow_raw_header(1, 78, &syn)]),
            sflow_counter_sample(1),
            sflow_expanded_flow_sample(2, 2048, &[sflow_raw_header(12, 148, &v6)]),
        ],
    )
}

#[test]
fn flow_samples_become_scaled_records() {
    let mut d = decoder();
    let (r, flows) = feed(&mut d, 5, &datagram(1));
    assert!(r.unwrap().problems.is_empty());
    assert_eq!(flows.len(), 2);
    let (a, b) = (flows[0], flows[1]);
    assert_eq!(
        (a.version, a.domain, a.start, a.end),
        (Version::SflowV5, 3, Timestamp(5_000_000_000), Timestamp(5_000_000_000))
    );
    assert_eq!(
        (a.src.to_string(), a.dst.to_string(), a.sport, a.dport, a.proto),
        ("198.51.100.7".into(), "203.0.113.9".into(), 40_001, 443, 6)
    );
    assert_eq!(
        (a.tcp_flags, a.raw_packets, a.raw_bytes, a.sampling_rate, a.packets, a.bytes),
        (0x02, 1, 78, 512, 512, 78 * 512)
    );
    assert_eq!((a.in_if, a.out_if), (Some(3), Some(4)));
    assert_eq!(
        (b.src.to_string(), b.dst.to_string(), b.sport, b.dport, b.proto),
        ("2001:db8::1".into(), "2001:db8::2".into(), 53, 5353, 17)
    );
    assert_eq!((b.sampling_rate, b.bytes, b.in_if), (2048, 148 * 2048, Some(70_000)));
    let h = health(&d);
    assert_eq!((h.flows, h.counter_samples, h.undecodable_samples), (2, 1, 0));

    // Datagram sequence: 1 → 4 lost two.
    feed(&mut d, 6, &datagram(4)).0.unwrap();
    assert_eq!((health(&d).sequence_gaps, health(&d).sequence_lost), (1, 2));
}

#[test]
fn tshark_reads_the_same_datagram() {
    let dir = tempdir();
    let path = dir.join("sflow.pcap");
    std::fs::write(&path, pcap_of(6343, &[datagram(1)])).unwrap();
    let out = Command::new("tshark")
        .arg("-r")
        .arg(&path)
        .args(["-T", "fields", "-E", "separator=|"])
        .args(["-e", "sflow_245.sub_agent_id", "-e", "sflow_245.sequence_number", "-e", "sflow_245.numsamples"])
        .args(["-e", "sflow.flow_sample.sampling_rate", "-e", "sflow_245.header.frame_length"])
        .args(["-e", "ip.src", "-e", "ipv6.src", "-e", "tcp.dstport", "-e", "udp.srcport"])
        .output()
        .expect("tshark runs (Debian package tshark)");
    let text = String::from_utf8(out.stdout).unwrap();
    let cols: Vec<&str> = text.trim_end().split('|').collect();
    assert_eq!(cols[..5], ["3", "1", "3", "512,2048", "78,148"], "{text}");
    assert_eq!(cols[5], "192.0.2.1,198.51.100.7", "{text}");
    assert_eq!(cols[6], "2001:db8::1", "{text}");
    assert_eq!(cols[7], "443", "{text}");
    assert_eq!(cols[8], "40000,53", "{text}");
    let _ = std::fs::remove_dir_all(dir);
}

fn tempdir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("anbao-flow-sflow-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn damaged_sflow_is_reported_never_a_panic() {
    let whole = datagram(1);
    let mut d = decoder();
    for cut in 4..whole.len() {
        let (r, flows) = feed(&mut d, 1, &whole[..cut]);
        assert!(flows.len() <= 2);
        if cut < whole.len() {
            assert!(r.is_err(), "cut at {cut}");
        }
    }
    // A sample claiming 4 GB.
    let mut bad = whole.clone();
    bad[32..36].copy_from_slice(&u32::MAX.to_be_bytes());
    let (r, _) = feed(&mut d, 1, &bad);
    assert!(matches!(r, Err(FlowError::Truncated { what: "sample", at: 36, .. })), "{r:?}");
    // An unknown agent address type.
    let mut bad = whole;
    bad[7] = 9;
    assert!(matches!(feed(&mut d, 1, &bad).0, Err(FlowError::Malformed { at: 4, .. })));
}
