//! Decoder micro-benchmarks (`cargo bench -p anbao-net --bench decode`):
//! one DNS query and response, an HTTP request head and a TLS ClientHello
//! decoded alone, then a small in-memory capture (DNS queries and answers,
//! built here) read without decoding and driven through the [`Extractor`],
//! and each log reader over its real fixture lines (`test_data/logs`).
//! The whole-program figures (`anbao scan` on 5M packets against 1M
//! indicators, beside tshark) come from `bench/detect/run`.

use std::hint::black_box;
use std::sync::OnceLock;

use anbao_net::capture::read_capture;
use anbao_net::http::HeadStatus;
use anbao_net::logs::{LogFormat, LogReader};
use anbao_net::tls::HelloStatus;
use anbao_net::{Extractor, Limits, dns, http, tls};
use divan::Bencher;
use divan::counter::{BytesCount, ItemsCount};

fn main() {
    divan::main();
}

/// Everyday names of 2–4 labels.
const NAMES: [&str; 16] = [
    "www.google.com",
    "fonts.gstatic.com",
    "api.weibo.cn",
    "img.alicdn.com",
    "www.baidu.com",
    "clients4.google.com",
    "e1234.dscb.akamaiedge.net",
    "static.xx.fbcdn.net",
    "ocsp.digicert.com",
    "time.apple.com",
    "www.icbc.com.cn",
    "mobile.10086.cn",
    "news.bbc.co.uk",
    "update.example.org",
    "graph.facebook.com",
    "login.microsoftonline.com",
];

fn name_wire(name: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(name.len() + 2);
    for label in name.split('.') {
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
    out
}

fn dns_header(id: u16, flags: u16, answers: u16, additional: u16) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    for word in [id, flags, 1, answers, 0, additional] {
        out.extend_from_slice(&word.to_be_bytes());
    }
    out
}

/// EDNS OPT: root name, type 41, 4096-byte payload, no options.
const OPT: [u8; 11] = [0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 0];

/// A recursive query for `name` (type A) with EDNS.
fn dns_query(id: u16, name: &str) -> Vec<u8> {
    let mut m = dns_header(id, 0x0100, 0, 1);
    m.extend_from_slice(&name_wire(name));
    m.extend_from_slice(&[0, 1, 0, 1]);
    m.extend_from_slice(&OPT);
    m
}

/// Its answer: a CNAME to a CDN name, then two A records of that name
/// (compressed), and EDNS.
fn dns_response(id: u16, name: &str) -> Vec<u8> {
    let mut m = dns_header(id, 0x8180, 3, 1);
    m.extend_from_slice(&name_wire(name));
    m.extend_from_slice(&[0, 1, 0, 1]);
    let target = name_wire("a1.w10.akamai.net");
    let target_at = (m.len() + 12) as u16;
    m.extend_from_slice(&[0xc0, 12, 0, 5, 0, 1, 0, 0, 0x0e, 0x10]);
    m.extend_from_slice(&(target.len() as u16).to_be_bytes());
    m.extend_from_slice(&target);
    for last in [17u8, 18] {
        m.extend_from_slice(&(0xc000 | target_at).to_be_bytes());
        m.extend_from_slice(&[0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 23, 45, 67, last]);
    }
    m.extend_from_slice(&OPT);
    m
}

const HTTP_HEAD: &[u8] = b"GET /api/v1/config?lang=en HTTP/1.1\r\nHost: update.example.org\r\n\
User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36\r\n\
Accept: */*\r\nAccept-Encoding: gzip, deflate\r\nConnection: keep-alive\r\n\r\n";

fn extension(kind: u16, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 4);
    out.extend_from_slice(&kind.to_be_bytes());
    out.extend_from_slice(&(data.len() as u16).to_be_bytes());
    out.extend_from_slice(data);
    out
}

/// A TLS 1.3 ClientHello record of a browser's usual shape: SNI, groups,
/// point formats, ALPN, signature algorithms, supported versions, key share.
fn client_hello(sni: &str) -> Vec<u8> {
    let host = sni.as_bytes();
    let mut server_name = Vec::new();
    server_name.extend_from_slice(&((host.len() + 3) as u16).to_be_bytes());
    server_name.push(0);
    server_name.extend_from_slice(&(host.len() as u16).to_be_bytes());
    server_name.extend_from_slice(host);
    let mut key_share = vec![0, 36, 0, 0x1d, 0, 32];
    key_share.extend_from_slice(&[0x42; 32]);
    let extensions: Vec<u8> = [
        extension(0, &server_name),
        extension(23, &[]),
        extension(0xff01, &[0]),
        extension(10, &[0, 8, 0, 0x1d, 0, 0x17, 0, 0x18, 0, 0x19]),
        extension(11, &[1, 0]),
        extension(35, &[]),
        extension(16, b"\x00\x0c\x02h2\x08http/1.1"),
        extension(13, &[0, 8, 4, 3, 8, 4, 4, 1, 5, 3]),
        extension(43, &[4, 3, 4, 3, 3]),
        extension(51, &key_share),
        extension(45, &[1, 1]),
    ]
    .concat();
    let ciphers = [0x13u8, 1, 0x13, 2, 0x13, 3, 0xc0, 0x2b, 0xc0, 0x2f, 0xc0, 0x2c, 0xc0, 0x30, 0xcc, 0xa9];
    let mut body = vec![3, 3];
    body.extend_from_slice(&[7; 32]);
    body.push(32);
    body.extend_from_slice(&[9; 32]);
    body.extend_from_slice(&(ciphers.len() as u16).to_be_bytes());
    body.extend_from_slice(&ciphers);
    body.extend_from_slice(&[1, 0]);
    body.extend_from_slice(&(extensions.len() as u16).to_be_bytes());
    body.extend_from_slice(&extensions);
    let mut handshake = vec![1];
    handshake.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    handshake.extend_from_slice(&body);
    let mut record = vec![0x16, 3, 1];
    record.extend_from_slice(&(handshake.len() as u16).to_be_bytes());
    record.extend_from_slice(&handshake);
    record
}

/// Ethernet + IPv4 + UDP around `payload` (checksums zero, as offloaded).
fn udp_frame(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(42 + payload.len());
    f.extend_from_slice(&[0, 0x16, 0x3e, 0x0a, 0x0b, 0x0c, 0x52, 0x54, 0, 0x0a, 0, 1, 8, 0]);
    let total = (20 + 8 + payload.len()) as u16;
    f.extend_from_slice(&[0x45, 0]);
    f.extend_from_slice(&total.to_be_bytes());
    f.extend_from_slice(&[0, 0, 0x40, 0, 64, 17, 0, 0]);
    f.extend_from_slice(&src);
    f.extend_from_slice(&dst);
    f.extend_from_slice(&sport.to_be_bytes());
    f.extend_from_slice(&dport.to_be_bytes());
    f.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    f.extend_from_slice(&[0, 0]);
    f.extend_from_slice(payload);
    f
}

/// Frames in the capture: queries and their answers, from 256 clients.
const FRAMES: usize = 4096;

/// A pcap (Ethernet, microseconds) of `FRAMES` DNS frames, 50 µs apart.
fn capture() -> &'static [u8] {
    static CAPTURE: OnceLock<Vec<u8>> = OnceLock::new();
    CAPTURE.get_or_init(|| {
        let mut out = Vec::new();
        out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        out.extend_from_slice(&[2, 0, 4, 0]);
        out.extend_from_slice(&[0; 8]);
        out.extend_from_slice(&65535u32.to_le_bytes());
        out.extend_from_slice(&1u32.to_le_bytes());
        let resolver = [10, 0, 0, 53];
        for i in 0..FRAMES / 2 {
            let client = [10, 1, (i >> 8) as u8, i as u8];
            let name = NAMES[i % NAMES.len()];
            let (id, port) = (i as u16, 20_000 + i as u16);
            for (k, frame) in [
                udp_frame(client, resolver, port, 53, &dns_query(id, name)),
                udp_frame(resolver, client, 53, port, &dns_response(id, name)),
            ]
            .into_iter()
            .enumerate()
            {
                let micros = 1_735_725_600_000_000u64 + (2 * i + k) as u64 * 50;
                out.extend_from_slice(&((micros / 1_000_000) as u32).to_le_bytes());
                out.extend_from_slice(&((micros % 1_000_000) as u32).to_le_bytes());
                out.extend_from_slice(&(frame.len() as u32).to_le_bytes());
                out.extend_from_slice(&(frame.len() as u32).to_le_bytes());
                out.extend_from_slice(&frame);
            }
        }
        out
    })
}

#[divan::bench]
fn dns_query_message(bencher: Bencher) {
    let messages: Vec<Vec<u8>> = NAMES.iter().enumerate().map(|(i, n)| dns_query(i as u16, n)).collect();
    bencher.counter(ItemsCount::new(messages.len())).bench(|| {
        for m in &messages {
            black_box(dns::parse_message(black_box(m)).ok());
        }
    });
}

#[divan::bench]
fn dns_response_message(bencher: Bencher) {
    let messages: Vec<Vec<u8>> = NAMES.iter().enumerate().map(|(i, n)| dns_response(i as u16, n)).collect();
    bencher.counter(ItemsCount::new(messages.len())).bench(|| {
        for m in &messages {
            black_box(dns::parse_message(black_box(m)).ok());
        }
    });
}

#[divan::bench]
fn http_request_head(bencher: Bencher) {
    assert!(matches!(http::parse_request_head(HTTP_HEAD), HeadStatus::Complete { .. }));
    bencher
        .counter(BytesCount::new(HTTP_HEAD.len()))
        .bench(|| black_box(http::parse_request_head(black_box(HTTP_HEAD))));
}

#[divan::bench]
fn tls_client_hello(bencher: Bencher) {
    let record = client_hello("update.example.org");
    assert!(matches!(tls::parse_client_hello_records(&record), HelloStatus::Complete(_)));
    bencher.counter(ItemsCount::new(1usize)).bench(|| black_box(tls::parse_client_hello_records(black_box(&record))));
}

/// The capture read frame by frame, nothing decoded.
#[divan::bench]
fn capture_read_only(bencher: Bencher) {
    let bytes = capture();
    bencher.counter(ItemsCount::new(FRAMES)).bench(|| {
        let mut frames = 0usize;
        let summary = read_capture(black_box(bytes), |f| frames += f.data.len());
        black_box((summary.ok(), frames))
    });
}

/// The capture through a fresh [`Extractor`]: link, IP, UDP, DNS, events.
#[divan::bench]
fn capture_extract(bencher: Bencher) {
    let bytes = capture();
    bencher.counter(ItemsCount::new(FRAMES)).bench(|| {
        let mut extractor = Extractor::new(Limits::default());
        let mut events = 0usize;
        let summary = read_capture(black_box(bytes), |f| {
            extractor.frame(&f, &mut |e| {
                events += 1;
                black_box(e);
            });
        });
        assert_eq!(events, FRAMES);
        black_box(summary.ok())
    });
}

/// Each log reader over the lines of a real fixture (headers fed once
/// first): lines per second of the reader alone.
#[divan::bench(args = [
    ("suricata-eve", "eve/ait-lds-suricata.json"),
    ("suricata-eve", "eve/suricata7-capture.json"),
    ("zeek-tsv", "zeek/tm1t-dns.log"),
    ("zeek-json", "zeek/tm1t-json.log"),
    ("bind", "bind/query-category-severity.log"),
    ("unbound", "unbound/unbound.log"),
])]
fn log_lines(bencher: Bencher, (format, fixture): (&str, &str)) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data/logs").join(fixture);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').filter(|l| !l.is_empty()).collect();
    let (headers, data): (Vec<&[u8]>, Vec<&[u8]>) = lines.iter().partition(|l| l.starts_with(b"#"));
    let format = LogFormat::from_name(format).unwrap_or_else(|| panic!("log format {format}"));
    let mut reader = LogReader::new(format);
    for h in &headers {
        let _ = reader.line(h);
    }
    bencher.counter(ItemsCount::new(data.len())).bench_local(|| {
        for line in &data {
            black_box(reader.line(black_box(line)).ok());
        }
    });
}
