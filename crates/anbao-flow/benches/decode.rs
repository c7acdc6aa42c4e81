//! Decoder micro-benchmarks (`cargo bench -p anbao-flow --bench decode`):
//! flow records per second through a warm [`Decoder`] (templates known)
//! for NetFlow v5, NetFlow v9 and IPFIX datagrams of 30 records each, as
//! collectors receive them, and the softflowd exports of
//! ../shared/data/flow as captured. The collector target of issue #6 is
//! nfcapd's 3.8–4.7 million v9 flows per CPU-second (decoding plus
//! storing); this measures decoding alone.

use std::hint::black_box;
use std::net::IpAddr;

use anbao_flow::{Decoder, DecoderConfig, Timestamp};
use divan::Bencher;
use divan::counter::ItemsCount;

fn main() {
    divan::main();
}

const RECORDS: usize = 30;
const DATAGRAMS: usize = 64;

fn exporter() -> IpAddr {
    IpAddr::from([192, 0, 2, 1])
}

fn be16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_be_bytes());
}

fn be32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_be_bytes());
}

/// The usual IPv4 template of a router: addresses, ports, protocol, flags,
/// ToS, interfaces, counters, times, next hop, masks, AS numbers.
const FIELDS: [(u16, u16); 18] = [
    (8, 4),
    (12, 4),
    (7, 2),
    (11, 2),
    (4, 1),
    (6, 1),
    (5, 1),
    (10, 4),
    (14, 4),
    (2, 4),
    (1, 4),
    (22, 4),
    (21, 4),
    (15, 4),
    (9, 1),
    (13, 1),
    (16, 4),
    (17, 4),
];

fn record(i: usize, out: &mut Vec<u8>) {
    let i = i as u32;
    out.extend_from_slice(&[10, 1, (i >> 8) as u8, i as u8]);
    out.extend_from_slice(&[203, 0, 113, (i % 251) as u8]);
    be16(out, 1024 + (i % 60_000) as u16);
    be16(out, 443);
    out.extend_from_slice(&[6, 0x1b, 0]);
    be32(out, 1);
    be32(out, 2);
    be32(out, 10 + i % 100);
    be32(out, 1500 * (10 + i % 100));
    be32(out, 50_000);
    be32(out, 59_000);
    out.extend_from_slice(&[192, 0, 2, 254, 24, 24]);
    be32(out, 64_500);
    be32(out, 64_501);
}

fn template_set(v9: bool) -> Vec<u8> {
    let mut body = Vec::new();
    be16(&mut body, 256);
    be16(&mut body, FIELDS.len() as u16);
    for (t, l) in FIELDS {
        be16(&mut body, t);
        be16(&mut body, l);
    }
    let mut set = Vec::new();
    be16(&mut set, if v9 { 0 } else { 2 });
    be16(&mut set, (body.len() + 4) as u16);
    set.extend_from_slice(&body);
    set
}

fn data_set(first: usize) -> Vec<u8> {
    let mut body = Vec::new();
    for i in 0..RECORDS {
        record(first + i, &mut body);
    }
    let mut set = Vec::new();
    be16(&mut set, 256);
    be16(&mut set, (body.len() + 4) as u16);
    set.extend_from_slice(&body);
    set
}

/// `DATAGRAMS` datagrams of `RECORDS` records; the first carries the template.
fn templated(v9: bool) -> Vec<Vec<u8>> {
    let mut seq = 0u32;
    (0..DATAGRAMS)
        .map(|n| {
            let mut sets = Vec::new();
            if n == 0 {
                sets.extend(template_set(v9));
            }
            sets.extend(data_set(n * RECORDS));
            let mut d = Vec::new();
            if v9 {
                be16(&mut d, 9);
                be16(&mut d, RECORDS as u16 + u16::from(n == 0));
                be32(&mut d, 60_000);
                be32(&mut d, 1_700_000_000);
                be32(&mut d, n as u32);
                be32(&mut d, 0);
            } else {
                be16(&mut d, 10);
                be16(&mut d, (16 + sets.len()) as u16);
                be32(&mut d, 1_700_000_000);
                be32(&mut d, seq);
                be32(&mut d, 0);
                seq += RECORDS as u32;
            }
            d.extend_from_slice(&sets);
            d
        })
        .collect()
}

fn v5() -> Vec<Vec<u8>> {
    (0..DATAGRAMS)
        .map(|n| {
            let mut d = Vec::new();
            be16(&mut d, 5);
            be16(&mut d, RECORDS as u16);
            be32(&mut d, 60_000);
            be32(&mut d, 1_700_000_000);
            be32(&mut d, 0);
            be32(&mut d, (n * RECORDS) as u32);
            d.extend_from_slice(&[0, 0, 0, 0]);
            for i in 0..RECORDS {
                let i = (n * RECORDS + i) as u32;
                d.extend_from_slice(&[10, 1, (i >> 8) as u8, i as u8, 203, 0, 113, (i % 251) as u8]);
                d.extend_from_slice(&[192, 0, 2, 254, 0, 1, 0, 2]);
                be32(&mut d, 10);
                be32(&mut d, 15_000);
                be32(&mut d, 50_000);
                be32(&mut d, 59_000);
                be16(&mut d, 1024);
                be16(&mut d, 443);
                d.extend_from_slice(&[0, 0x1b, 6, 0, 0xfb, 0xf4, 0xfb, 0xf5, 24, 24, 0, 0]);
            }
            d
        })
        .collect()
}

/// Decodes every datagram with a decoder that has seen them once (templates known).
fn run(bencher: Bencher, datagrams: &[Vec<u8>], flows: usize) {
    let mut decoder = Decoder::new(DecoderConfig::default());
    let mut seen = 0usize;
    for d in datagrams {
        let _ = decoder.decode(exporter(), Timestamp(0), d, &mut |_| seen += 1);
    }
    assert_eq!(seen, flows);
    bencher.counter(ItemsCount::new(flows)).bench_local(|| {
        let mut n = 0u64;
        for d in datagrams {
            let _ = decoder.decode(exporter(), Timestamp(0), black_box(d), &mut |f| n += f.bytes);
        }
        black_box(n)
    });
}

#[divan::bench]
fn netflow_v5(bencher: Bencher) {
    run(bencher, &v5(), DATAGRAMS * RECORDS);
}

#[divan::bench]
fn netflow_v9(bencher: Bencher) {
    run(bencher, &templated(true), DATAGRAMS * RECORDS);
}

#[divan::bench]
fn ipfix(bencher: Bencher) {
    run(bencher, &templated(false), DATAGRAMS * RECORDS);
}

/// The softflowd exports as captured (their own templates, v4 and v6).
#[divan::bench(args = ["softflowd-v5.pcap", "softflowd-v9.pcap", "softflowd-v10.pcap"])]
fn softflowd_capture(bencher: Bencher, file: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/flow").join(file);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut datagrams = Vec::new();
    anbao_net::capture::read_capture(&bytes[..], |f| {
        if let Ok(Some(p)) = anbao_net::packet::decode(f.link_type, f.data)
            && let anbao_net::packet::Transport::Udp(u) = p.transport
        {
            datagrams.push(u.payload.to_vec());
        }
    })
    .unwrap_or_else(|e| panic!("{file}: {e}"));
    let mut decoder = Decoder::new(DecoderConfig::default());
    let mut flows = 0usize;
    for d in &datagrams {
        let _ = decoder.decode(exporter(), Timestamp(0), d, &mut |_| flows += 1);
    }
    run(bencher, &datagrams, flows);
}
