//! Tests of `extract`: every capture of the corpus through `read_capture`
//! and the `Extractor`, checked against what Wireshark's tshark reads in
//! the same files (`test_data/pcap/corpus-*.tsv`, made by
//! `make_corpus_tables.py`).
//!
//! The application decoders are other modules' work; to check the
//! extractor's own part (which bytes reach which decoder, reassembled, with
//! which endpoints) independently of them, most tests plug in stand-in
//! decoders that read only what tshark can confirm: the DNS id and QR bit,
//! an HTTP request's method and target, a ClientHello's random.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use anbao_net::capture::{self, CaptureSummary, Frame, LinkType};
use anbao_net::dns::DnsError;
use anbao_net::event::{Dns, Http, Message, Qr, Rcode, RrType, TlsHello};
use anbao_net::extract::{AppParsers, ExtractStats, Extractor, Limits};
use anbao_net::http::HeadStatus;
use anbao_net::tls::HelloStatus;
use anbao_net::{Endpoints, Event, Proto, Timestamp};

pub fn corpus_dir() -> PathBuf {
    crate::shared_data().join("pcap/suricata-verify")
}

pub fn test_data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data/pcap").join(name)
}

/// Every capture file of the corpus, sorted.
pub fn corpus_files() -> Vec<PathBuf> {
    let dir = corpus_dir();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pcap" || e == "pcapng"))
        .collect();
    files.sort();
    assert!(files.len() >= 300, "the corpus has {} captures", files.len());
    files
}

pub struct Run {
    pub summary: CaptureSummary,
    pub stats: ExtractStats,
    pub events: Vec<Event>,
    pub endpoints: Vec<Option<Endpoints>>,
}

pub fn run_with(path: &Path, limits: Limits, parsers: AppParsers) -> Run {
    let file = File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut extractor = Extractor::with_parsers(limits, parsers);
    let mut events = Vec::new();
    let mut endpoints = Vec::new();
    let summary = capture::read_capture(BufReader::new(file), |frame| {
        endpoints.push(extractor.frame(&frame, &mut |e| events.push(e)));
    })
    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Run { summary, stats: extractor.stats(), events, endpoints }
}

pub fn run_stand_ins(path: &Path) -> Run {
    run_with(path, Limits::default(), stand_ins())
}

// Stand-in decoders.

fn be16(b: &[u8], at: usize) -> Option<usize> {
    Some(usize::from(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?])))
}

/// The DNS id and QR bit; the id goes in `qname` for comparisons.
fn fake_dns(bytes: &[u8]) -> Result<Dns, DnsError> {
    if bytes.len() < 12 {
        return Err(DnsError { offset: bytes.len(), what: "shorter than a DNS header" });
    }
    Ok(Dns {
        id: be16(bytes, 0).unwrap() as u16,
        qr: if bytes[2] & 0x80 != 0 { Qr::Response } else { Qr::Query },
        qname: String::new(),
        qtype: RrType(0),
        rcode: Rcode(0),
        answers: vec![],
        client_subnet: None,
    })
}

/// A head ends at the first empty line (LF or CRLF).
fn fake_http(bytes: &[u8]) -> HeadStatus {
    let mut start = 0;
    while let Some(nl) = bytes[start..].iter().position(|&b| b == b'\n') {
        let line = &bytes[start..start + nl];
        if start > 0 && (line.is_empty() || line == b"\r") {
            let request_line =
                String::from_utf8_lossy(bytes[..bytes.iter().position(|&b| b == b'\n').unwrap()].trim_ascii_end());
            let mut parts = request_line.split(' ');
            let method = parts.next().unwrap_or_default().to_string();
            let uri = parts.next().unwrap_or_default().to_string();
            let request = Http { method, host: None, uri, user_agent: None };
            return HeadStatus::Complete { request, consumed: start + nl + 1 };
        }
        start += nl + 1;
    }
    if bytes.len() > 16 * 1024 { HeadStatus::NotHttp } else { HeadStatus::Partial }
}

/// Handshake records until the first handshake message is whole; its
/// random goes in `sni`.
fn fake_tls(bytes: &[u8]) -> HelloStatus {
    let mut handshake = Vec::new();
    let mut at = 0;
    loop {
        if handshake.len() >= 4 {
            if handshake[0] != 1 {
                return HelloStatus::NotTls;
            }
            let len = (usize::from(handshake[1]) << 16) | be16(&handshake, 2).unwrap();
            if handshake.len() >= 4 + len && len >= 38 {
                let random: String = handshake[6..38].iter().map(|b| format!("{b:02x}")).collect();
                return HelloStatus::Complete(TlsHello { sni: Some(random), alpn: vec![], ja3: None, ja4: None });
            }
        }
        let (Some(&kind), Some(len)) = (bytes.get(at), be16(bytes, at + 3)) else { return HelloStatus::Partial };
        if kind != 0x16 {
            return HelloStatus::NotTls;
        }
        let Some(body) = bytes.get(at + 5..at + 5 + len) else { return HelloStatus::Partial };
        handshake.extend_from_slice(body);
        at += 5 + len;
    }
}

pub fn stand_ins() -> AppParsers {
    AppParsers { dns: fake_dns, http: fake_http, tls: fake_tls }
}

/// An event as a row of `corpus-messages.tsv`.
fn row(e: &Event) -> String {
    let ep = &e.endpoints;
    let (kind, detail) = match &e.message {
        Message::Dns(d) => ("dns", format!("{} {}", d.id, if d.qr == Qr::Response { "r" } else { "q" })),
        Message::Http(h) => ("http", format!("{} {}", h.method, h.uri)),
        Message::Tls(t) => ("tls", t.sni.clone().unwrap_or_default()),
        other => panic!("unexpected {other:?}"),
    };
    format!("{kind}\t{}\t{}\t{}\t{}\t{detail}", ep.src, ep.sport.unwrap(), ep.dst.unwrap(), ep.dport.unwrap())
}

fn table(name: &str) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(test_data(name)).unwrap();
    text.lines().skip(1).map(|l| l.split('\t').map(String::from).collect()).collect()
}

#[test]
fn every_corpus_capture_reads_as_tshark_reads_it() {
    let expected: BTreeMap<String, (u64, u64)> = table("corpus-frames.tsv")
        .into_iter()
        .map(|r| (r[0].clone(), (r[1].parse().unwrap(), r[2].parse().unwrap())))
        .collect();
    let mut dns_expected: BTreeMap<String, u64> = BTreeMap::new();
    for r in table("corpus-messages.tsv").into_iter().filter(|r| r[1] == "dns") {
        *dns_expected.entry(r[0].clone()).or_default() += 1;
    }
    let files = corpus_files();
    assert_eq!(files.len(), expected.len(), "the table covers every capture");
    let mut link_types = BTreeMap::new();
    for path in &files {
        let name = path.file_name().unwrap().to_str().unwrap();
        // The crate's own decoders: whatever they make of the bytes, the
        // frames, packets and DNS messages handed over must be the same.
        let run = run_with(path, Limits::default(), AppParsers::default());
        let (frames, ip) = expected[name];
        assert_eq!(run.summary.frames, frames, "{name}: frames");
        assert_eq!(run.summary.problems, vec![], "{name}: tshark reads it without error");
        assert_eq!(run.stats.frames, frames, "{name}");
        assert_eq!(run.stats.ip_packets, ip, "{name}: IP packets");
        assert_eq!(run.endpoints.iter().filter(|e| e.is_some()).count() as u64, ip, "{name}");
        let dns = run.stats.events.dns + run.stats.undecodable.dns;
        assert_eq!(dns, dns_expected.get(name).copied().unwrap_or(0), "{name}: DNS messages handed to the decoder");
        assert_eq!(run.stats.malformed.ipv4 + run.stats.malformed.ipv6 + run.stats.malformed.tcp, 0, "{name}");
        *link_types.entry(first_link_type(path)).or_insert(0) += 1;
    }
    // What the corpus exercises (tshark: 314 Ethernet, 18 BSD loopback, 4 raw IP).
    assert_eq!(link_types, BTreeMap::from([(0, 18), (1, 314), (101, 4)]));
}

fn first_link_type(path: &Path) -> u32 {
    let mut link = None;
    capture::read_capture(File::open(path).unwrap(), |f: Frame<'_>| {
        link.get_or_insert(f.link_type);
    })
    .unwrap();
    link.unwrap_or(LinkType(u32::MAX)).0
}

/// Messages tshark reports and the extractor, on purpose, does not: one
/// ClientHello per stream (the second here is a repeat, or the ClientHello
/// after a HelloRetryRequest, with the same random).
const NOT_REPORTED: &[(&str, &str)] = &[
    (
        "tls-duplicate-hello__input.pcap",
        "tls\t127.0.0.1\t49954\t127.0.0.1\t8443\t39a503494c046e85568afb480faeb91fb861a479b4f9ef85dfa60844a0b86f67",
    ),
    (
        "tls__tls13-draft22__tls13_draft22.pcap",
        "tls\t127.0.0.1\t41752\t127.0.0.1\t4433\tfe2ba030a33f625d968be29207624886bcf549e30655ced6e8cef7fc01ad2f94",
    ),
];

#[test]
fn messages_and_their_endpoints_match_tshark() {
    let mut expected: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in table("corpus-messages.tsv") {
        expected.entry(r[0].clone()).or_default().push(r[1..].join("\t"));
    }
    let mut mismatches = Vec::new();
    for path in corpus_files() {
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        let run = run_stand_ins(&path);
        // QUIC hellos are checked against tshark in tests/it/quic.rs.
        let mut got: Vec<String> =
            run.events.iter().filter(|e| !matches!(e.message, Message::Quic(_))).map(row).collect();
        let mut want = expected.remove(&name).unwrap_or_default();
        // tshark names a DNS message it cannot read by its id alone, or not at all.
        want.retain(|w| !w.starts_with("dns") || w.split('\t').nth(5).is_some_and(|d| d.contains(' ')));
        for (_, row) in NOT_REPORTED.iter().filter(|(f, _)| *f == name) {
            let at = want.iter().position(|w| w == row).unwrap_or_else(|| panic!("{name}: {row} is in the table"));
            want.remove(at);
        }
        got.sort();
        want.sort();
        if got != want {
            let missing: Vec<_> = want.iter().filter(|w| !got.contains(w)).collect();
            let extra: Vec<_> = got.iter().filter(|g| !want.contains(g)).collect();
            mismatches.push(format!("{name}\n  missing {missing:#?}\n  extra {extra:#?}"));
        }
    }
    assert!(mismatches.is_empty(), "{} files differ:\n{}", mismatches.len(), mismatches.join("\n"));
}

#[test]
fn event_timestamps_and_endpoints_are_the_sender_side() {
    let run = run_stand_ins(&corpus_dir().join("dns__dns-tcp-www-google-com__dns.pcap"));
    assert_eq!(run.events.len(), 2, "{:?}", run.events);
    let query = &run.events[0];
    assert_eq!(query.endpoints.proto, Proto::Tcp);
    assert_eq!(query.endpoints.dport, Some(53));
    let response = &run.events[1];
    assert_eq!(response.endpoints.sport, Some(53));
    assert_eq!(response.endpoints.src, query.endpoints.dst.unwrap());
    assert!(response.ts > query.ts && query.ts > Timestamp(1_000_000_000_000_000_000));
}

/// A raw-IPv4 TCP segment from 10.0.0.1:40000 to 10.0.0.2:`dport` (or back).
fn tcp_frame(to_server: bool, dport: u16, seq: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
    let total = (40 + payload.len()) as u16;
    let (src, dst) = if to_server { ([10, 0, 0, 1], [10, 0, 0, 2]) } else { ([10, 0, 0, 2], [10, 0, 0, 1]) };
    let (sport, dport) = if to_server { (40_000u16, dport) } else { (dport, 40_000) };
    let mut p = vec![0x45, 0];
    p.extend_from_slice(&total.to_be_bytes());
    p.extend_from_slice(&[0, 0, 0x40, 0, 64, 6, 0, 0]);
    p.extend_from_slice(&src);
    p.extend_from_slice(&dst);
    p.extend_from_slice(&sport.to_be_bytes());
    p.extend_from_slice(&dport.to_be_bytes());
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&[0, 0, 0, 0, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    p.extend_from_slice(payload);
    p
}

/// Feeds a client's stream to port `dport` cut into the given pieces
/// (after a SYN), and returns the events.
fn client_stream(dport: u16, pieces: &[&[u8]]) -> (Vec<Event>, ExtractStats) {
    client_stream_with(Limits::default(), dport, pieces)
}

fn client_stream_with(limits: Limits, dport: u16, pieces: &[&[u8]]) -> (Vec<Event>, ExtractStats) {
    let mut extractor = Extractor::with_parsers(limits, stand_ins());
    let mut events = vec![];
    let mut seq = 1000u32;
    let mut frames = vec![tcp_frame(true, dport, seq, 0x02, b"")];
    seq += 1;
    for piece in pieces {
        frames.push(tcp_frame(true, dport, seq, 0x18, piece));
        seq += piece.len() as u32;
    }
    for (i, data) in frames.iter().enumerate() {
        let frame = Frame { ts: Timestamp(i as i64), link_type: LinkType::RAW, data, original_len: data.len() as u32 };
        extractor.frame(&frame, &mut |e| events.push(e));
    }
    (events, extractor.stats())
}

fn http_requests(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .map(|e| match &e.message {
            Message::Http(h) => format!("{} {}", h.method, h.uri),
            other => format!("{other:?}"),
        })
        .collect()
}

#[test]
fn keep_alive_requests_with_bodies_split_anywhere() {
    let stream: &[u8] = b"POST /a HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789GET /b HTTP/1.1\r\n\r\n\
        PUT /c HTTP/1.1\r\ncontent-length: 3\r\n\r\nxyzGET /d HTTP/1.1\r\n\r\n";
    for cut in 1..stream.len() {
        let (a, b) = stream.split_at(cut);
        let (events, stats) = client_stream(8080, &[a, b]);
        assert_eq!(http_requests(&events), ["POST /a", "GET /b", "PUT /c", "GET /d"], "cut at {cut}");
        assert_eq!(stats.undecodable.http, 0);
        assert!(events.iter().all(|e| e.endpoints.dport == Some(8080) && e.endpoints.sport == Some(40_000)));
    }
    // One byte per segment.
    let bytes: Vec<&[u8]> = stream.chunks(1).collect();
    assert_eq!(http_requests(&client_stream(80, &bytes).0).len(), 4);
}

#[test]
fn a_body_larger_than_the_stream_buffer_is_skipped_not_held() {
    let body = vec![b'x'; Limits::default().max_stream_bytes * 4];
    let head = format!("POST /big HTTP/1.1\r\nContent-Length: {}\r\n\r\n", body.len());
    let mut pieces: Vec<&[u8]> = vec![head.as_bytes()];
    pieces.extend(body.chunks(1400));
    pieces.push(b"GET /after HTTP/1.1\r\n\r\n");
    let (events, stats) = client_stream(80, &pieces);
    assert_eq!(http_requests(&events), ["POST /big", "GET /after"]);
    assert_eq!(stats.tcp.streams_abandoned, 0);
}

#[test]
fn chunked_bodies_are_skipped_to_the_next_request() {
    let mut stream = b"POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    stream.extend_from_slice(b"5;name=value\r\nGET /\r\n");
    let big = vec![b'x'; 200_000];
    stream.extend_from_slice(format!("{:X}\r\n", big.len()).as_bytes());
    stream.extend_from_slice(&big);
    stream.extend_from_slice(b"\r\n0\r\nChecksum: 1\r\n\r\nGET /next HTTP/1.1\r\nHost: a\r\n\r\n");
    // Up to the largest IP packet (GRO in captures).
    for size in [1, 7, 1400, 65_000] {
        let pieces: Vec<&[u8]> = stream.chunks(size).collect();
        let (events, stats) = client_stream(80, &pieces);
        assert_eq!(http_requests(&events), ["POST /c", "GET /next"], "segments of {size}");
        assert_eq!(stats.undecodable.http, 0);
    }
    // A chunk size that is not one: counted, and the stream left.
    let (events, stats) =
        client_stream(80, &[b"POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nGET /no HTTP/1.1\r\n\r\n"]);
    assert_eq!(http_requests(&events), ["POST /c"]);
    assert_eq!((stats.undecodable.http, stats.problems.len()), (1, 1), "{:?}", stats.problems);
}

#[test]
fn upgraded_streams_are_left_after_their_head() {
    let (events, _) =
        client_stream(80, &[b"GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n\r\n", b"GET /not-http HTTP/1.1\r\n\r\n"]);
    assert_eq!(http_requests(&events), ["GET /ws"]);
}

#[test]
fn tls_inside_a_connect_tunnel() {
    // A minimal ClientHello (version, random of 32 bytes of 0x5a, no
    // session id, one cipher suite, null compression), split over segments.
    let mut hello = vec![0x01, 0, 0, 41, 0x03, 0x03];
    hello.extend_from_slice(&[0x5a; 32]);
    hello.extend_from_slice(&[0, 0, 2, 0x13, 0x01, 1, 0]);
    let mut record = vec![0x16, 0x03, 0x01, 0, hello.len() as u8];
    record.extend_from_slice(&hello);
    let connect = b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n";
    let (events, stats) = client_stream(3128, &[connect, &record[..3], &record[3..20], &record[20..]]);
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(http_requests(&events[..1]), ["CONNECT example.com:443"]);
    let Message::Tls(t) = &events[1].message else { panic!("{events:?}") };
    assert_eq!(t.sni.as_deref(), Some("5a".repeat(32).as_str()), "the stand-in puts the random there");
    assert_eq!(stats.events.tls, 1);
}

#[test]
fn dns_over_tcp_messages_split_and_joined_anyhow() {
    let mut stream = vec![];
    for id in 1..=5u16 {
        let mut message = id.to_be_bytes().to_vec();
        message.extend_from_slice(&[1, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
        message.extend_from_slice(&vec![0; usize::from(id) * 7]);
        stream.extend_from_slice(&(message.len() as u16).to_be_bytes());
        stream.extend_from_slice(&message);
    }
    for cut in [1, 2, 3, 14, 15, 40] {
        let (a, b) = stream.split_at(cut);
        let (events, stats) = client_stream(53, &[a, b]);
        let ids: Vec<u16> = events
            .iter()
            .map(|e| match &e.message {
                Message::Dns(d) => d.id,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(ids, [1, 2, 3, 4, 5], "cut at {cut}");
        assert_eq!((stats.events.dns, stats.undecodable.dns), (5, 0));
    }
    // The largest message there can be (a 65,535-byte zone-transfer chunk)
    // fits the default buffer, in 1,000-byte segments.
    let mut stream = u16::MAX.to_be_bytes().to_vec();
    stream.extend_from_slice(&[0, 7, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    stream.resize(2 + 65_535, 0);
    stream.extend_from_slice(&[0, 12, 0, 9, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    let pieces: Vec<&[u8]> = stream.chunks(1000).collect();
    let (events, stats) = client_stream(53, &pieces);
    let ids: Vec<u16> =
        events.iter().filter_map(|e| if let Message::Dns(d) = &e.message { Some(d.id) } else { None }).collect();
    assert_eq!(ids, [7, 9]);
    assert_eq!(stats.undecodable.dns, 0, "{:?}", stats.problems);
    // A length over a smaller configured buffer: counted, skipped, and the next read.
    let limits = Limits { max_stream_bytes: 16 * 1024, ..Limits::default() };
    let (events, stats) = client_stream_with(limits, 53, &pieces);
    assert_eq!(events.len(), 1);
    assert_eq!((stats.undecodable.dns, stats.problems.len()), (1, 1), "{:?}", stats.problems);
}

#[test]
fn streams_that_are_nothing_we_read_cost_nothing_more() {
    let (events, stats) = client_stream(22, &[b"SSH-2.0-OpenSSH_9.6\r\n", b"more bytes"]);
    assert!(events.is_empty());
    assert_eq!((stats.tcp.flows_tracked, stats.undecodable.total()), (1, 0));
}
