//! Capture files and frames: arbitrary bytes read as a capture, every frame
//! through an `Extractor`, and the bytes themselves as a frame of each link
//! type. Never panics; state stays within its (small, to reach eviction)
//! limits; the counters add up.
#![no_main]

use anbao_net::capture::{Frame, LinkType, read_capture};
use anbao_net::dns::DnsError;
use anbao_net::event::{Dns, Http, Qr, Rcode, RrType, TlsHello};
use anbao_net::extract::{AppParsers, Extractor, Limits, MAX_PROBLEMS};
use anbao_net::http::HeadStatus;
use anbao_net::tls::HelloStatus;
use anbao_net::{Event, Timestamp};
use libfuzzer_sys::fuzz_target;

const LINK_TYPES: [LinkType; 10] = [
    LinkType::NULL,
    LinkType::ETHERNET,
    LinkType::RAW,
    LinkType::LOOP,
    LinkType::LINUX_SLL,
    LinkType::IPV4,
    LinkType::IPV6,
    LinkType::LINUX_SLL2,
    LinkType(12),
    LinkType(147),
];

// Stand-ins that accept much, so the stream logic behind them is reached
// whatever the real decoders do.
fn dns(bytes: &[u8]) -> Result<Dns, DnsError> {
    let Some((&[a, b], _)) = bytes.split_first_chunk::<2>() else {
        return Err(DnsError { offset: 0, what: "short" });
    };
    Ok(Dns {
        id: u16::from_be_bytes([a, b]),
        qr: Qr::Query,
        qname: String::new(),
        qtype: RrType(0),
        rcode: Rcode(0),
        answers: vec![],
        client_subnet: None,
    })
}

fn http(bytes: &[u8]) -> HeadStatus {
    match bytes.windows(2).position(|w| w == b"\n\n") {
        Some(end) => HeadStatus::Complete {
            request: Http { method: "CONNECT".into(), host: None, uri: String::new(), user_agent: None },
            consumed: end + 2,
        },
        None if bytes.len() > 300 => HeadStatus::NotHttp,
        None => HeadStatus::Partial,
    }
}

fn tls(bytes: &[u8]) -> HelloStatus {
    match bytes.len() {
        0..40 => HelloStatus::Partial,
        40..200 => HelloStatus::Complete(TlsHello { sni: None, alpn: vec![], ja3: None, ja4: None }),
        _ => HelloStatus::NotTls,
    }
}

fn limits() -> Limits {
    Limits {
        max_tcp_flows: 4,
        max_stream_bytes: 256,
        max_tcp_buffered_bytes: 2048,
        max_fragment_datagrams: 4,
        max_fragment_bytes: 4096,
        max_quic_connections: 4,
        ..Limits::default()
    }
}

fn drive(extractor: &mut Extractor, data: &[u8]) {
    let mut events = 0u64;
    let mut count = |_: Event| events += 1;
    let summary = read_capture(data, |frame| {
        extractor.frame(&frame, &mut count);
    });
    if let Ok(summary) = summary {
        assert!(summary.problems.len() as u64 <= summary.problem_count);
        assert!(summary.bytes <= data.len() as u64);
    }
    for (i, link_type) in LINK_TYPES.into_iter().enumerate() {
        for repeat in 0..2 {
            let frame = Frame {
                ts: Timestamp((i * 2 + repeat) as i64 * 1_000_000_000),
                link_type,
                data,
                original_len: data.len() as u32,
            };
            extractor.frame(&frame, &mut count);
        }
    }
    let stats = extractor.stats();
    assert_eq!(stats.events.total(), events);
    assert!(stats.problems.len() <= MAX_PROBLEMS);
    assert!(stats.ip_packets <= stats.frames);
}

fuzz_target!(|data: &[u8]| {
    drive(&mut Extractor::new(limits()), data);
    drive(&mut Extractor::with_parsers(limits(), AppParsers { dns, http, tls }), data);
});
