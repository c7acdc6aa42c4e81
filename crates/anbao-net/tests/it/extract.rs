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
        let mut got: Vec<String> = run.events.iter().map(row).collect();
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
