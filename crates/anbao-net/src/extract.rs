//! The [`Extractor`]: frame → link → IP (defragmented) → UDP/TCP
//! (reassembled) → DNS / HTTP / TLS / QUIC → [`Event`]s, with the counters
//! a user reads at the end of a run ([`ExtractStats`]).
//!
//! Which bytes go to which decoder:
//! - DNS: UDP or TCP with port 53 on either side, and nothing else. mDNS
//!   (5353) and LLMNR (5355) are link-local name announcements, not
//!   resolver traffic, and DNS on other ports cannot be told from noise
//!   cheaply. Over TCP each message has its two-byte length; several
//!   messages per stream are read, in both directions.
//! - HTTP/1.x request heads: a TCP stream (any port) that starts with a
//!   method token and a space (not HTTP/2's `PRI *` preface). After a
//!   complete head the stream is read on (keep-alive, pipelining): a body
//!   announced by Content-Length is skipped without being buffered, and so
//!   is a chunked one (chunk by chunk, trailer fields included); after a
//!   head with another Transfer-Encoding or with Upgrade the stream is not
//!   followed further, and after CONNECT the tunnelled bytes are looked at
//!   afresh (TLS inside).
//! - TLS ClientHello: a TCP stream (any port) that starts with a handshake
//!   record (0x16 0x03) holding a ClientHello; one per stream (a second
//!   ClientHello after a HelloRetryRequest repeats the first's names).
//!   SSLv2-format hellos are not read.
//! - QUIC: a UDP datagram (not port 53) whose first byte has the long-header
//!   bits, fed to [`QuicInitials`]; a whole ClientHello becomes
//!   [`Message::Quic`].
//!
//! An event's `src`/`sport` is the sender of the message, `dst`/`dport` its
//! receiver.
//!
//! The per-packet path does not allocate: headers are read in place, UDP
//! payloads go straight to the decoders, and TCP payloads are copied only
//! when a message is split across segments. Allocation happens for the
//! events themselves and for the bounded state ([`Limits`]).

use std::fmt;
use std::time::Duration;

use crate::capture::Frame;
use crate::defrag::{DefragLimits, DefragStats, Defragmenter, FragmentKey, Reassembly};
use crate::dns::{self, DnsError};
use crate::event::{Dns, Endpoints, Event, Message, Proto, Timestamp};
use crate::http::{self, HeadStatus};
use crate::packet::{
    self, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP, IpVersion, Layer, LinkPayload, PacketError,
    TcpSegment, Transport, UdpDatagram,
};
use crate::quic::{QuicInitials, QuicOutcome};
use crate::tcp::{StreamInterest, TcpLimits, TcpReassembler, TcpStats};
use crate::tls::{self, HelloStatus};

/// Bounds on the state the extractor keeps. Memory stays flat whatever the
/// input: roughly `max_tcp_buffered_bytes + max_fragment_bytes` plus a few
/// hundred bytes per flow, datagram and QUIC connection tracked.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_tcp_flows: usize,
    /// Unconsumed bytes held per TCP direction (a DNS message, HTTP head or
    /// ClientHello larger than this is not decoded).
    pub max_stream_bytes: usize,
    /// All TCP buffers together; the oldest flows go first beyond it.
    pub max_tcp_buffered_bytes: usize,
    /// Capture time after which a silent TCP flow is forgotten.
    pub tcp_idle_timeout: Duration,
    pub max_fragment_datagrams: usize,
    /// Bytes held by incomplete fragmented datagrams together.
    pub max_fragment_bytes: usize,
    /// Capture time a fragmented datagram has to complete.
    pub fragment_timeout: Duration,
    /// QUIC connections whose ClientHello is being collected.
    pub max_quic_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        let tcp = TcpLimits::default();
        let defrag = DefragLimits::default();
        Limits {
            max_tcp_flows: tcp.max_flows,
            max_stream_bytes: tcp.max_stream_bytes,
            max_tcp_buffered_bytes: tcp.max_buffered_bytes,
            tcp_idle_timeout: tcp.idle_timeout,
            max_fragment_datagrams: defrag.max_datagrams,
            max_fragment_bytes: defrag.max_bytes,
            fragment_timeout: defrag.timeout,
            max_quic_connections: 4_096,
        }
    }
}

/// The application decoders the extractor calls. The default is this
/// crate's; tests and other front ends may substitute their own.
#[derive(Debug, Clone, Copy)]
pub struct AppParsers {
    pub dns: fn(&[u8]) -> Result<Dns, DnsError>,
    pub http: fn(&[u8]) -> HeadStatus,
    pub tls: fn(&[u8]) -> HelloStatus,
}

impl Default for AppParsers {
    fn default() -> Self {
        AppParsers { dns: dns::parse_message, http: http::parse_request_head, tls: tls::parse_client_hello_records }
    }
}

/// A count per protocol layer.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct LayerCounts {
    pub link: u64,
    pub ipv4: u64,
    pub ipv6: u64,
    pub udp: u64,
    pub tcp: u64,
}

impl LayerCounts {
    fn add(&mut self, layer: Layer) {
        match layer {
            Layer::Link => self.link += 1,
            Layer::Ipv4 => self.ipv4 += 1,
            Layer::Ipv6 => self.ipv6 += 1,
            Layer::Udp => self.udp += 1,
            Layer::Tcp => self.tcp += 1,
        }
    }
}

/// A count per kind of application message.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct KindCounts {
    pub dns: u64,
    pub http: u64,
    pub tls: u64,
    pub quic: u64,
}

impl KindCounts {
    pub fn total(&self) -> u64 {
        self.dns + self.http + self.tls + self.quic
    }
}

/// Something in a frame that could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FrameProblem {
    /// 1-based, in the order frames were given.
    pub frame: u64,
    pub what: String,
}

/// Most problems kept in [`ExtractStats::problems`].
pub const MAX_PROBLEMS: usize = 20;

/// Counters a user reads at the end of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ExtractStats {
    pub frames: u64,
    /// Captured bytes of those frames.
    pub bytes: u64,
    /// Frames whose IPv4 or IPv6 header was read.
    pub ip_packets: u64,
    /// ARP, LLC, unknown loopback families, …
    pub non_ip_frames: u64,
    pub unsupported_link_type_frames: u64,
    /// Headers cut short by the capture, or payloads shorter than their
    /// header says (those are still decoded as far as they go).
    pub truncated: LayerCounts,
    /// Header fields that cannot be right.
    pub malformed: LayerCounts,
    pub ipv4_fragments: u64,
    pub ipv6_fragments: u64,
    pub fragments: DefragStats,
    pub tcp: TcpStats,
    /// Events emitted, by kind.
    pub events: KindCounts,
    /// Messages handed to a decoder that it could not read.
    pub undecodable: KindCounts,
    /// The first [`MAX_PROBLEMS`] problems; `problem_count` counts all.
    pub problems: Vec<FrameProblem>,
    pub problem_count: u64,
}

impl ExtractStats {
    fn problem(&mut self, what: impl fmt::Display) {
        self.problem_count += 1;
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(FrameProblem { frame: self.frames, what: what.to_string() });
        }
    }

    fn packet_error(&mut self, e: PacketError) {
        match e {
            PacketError::UnsupportedLinkType(_) => self.unsupported_link_type_frames += 1,
            PacketError::Truncated { layer, .. } => self.truncated.add(layer),
            PacketError::Malformed { layer, .. } => self.malformed.add(layer),
        }
        self.problem(e);
    }
}

/// What a TCP direction carries, once its first bytes told.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum StreamApp {
    #[default]
    Undecided,
    Dns,
    Http,
    /// Inside a request's chunked body; back to `Http` after its trailer.
    HttpChunked,
    Tls,
}

/// The decoders and the state they share; apart from the defragmenter so a
/// reassembled datagram (borrowed from it) can be fed to them.
#[derive(Debug)]
struct Apps {
    parsers: AppParsers,
    stats: ExtractStats,
    tcp: TcpReassembler<StreamApp>,
    quic: QuicInitials,
    max_stream_bytes: usize,
}

#[derive(Debug)]
pub struct Extractor {
    defrag: Defragmenter,
    apps: Apps,
}

fn proto_of(protocol: u8) -> Proto {
    match protocol {
        IPPROTO_TCP => Proto::Tcp,
        IPPROTO_UDP => Proto::Udp,
        IPPROTO_ICMP | IPPROTO_ICMPV6 => Proto::Icmp,
        _ => Proto::Other,
    }
}

impl Extractor {
    pub fn new(limits: Limits) -> Self {
        Self::with_parsers(limits, AppParsers::default())
    }

    /// An extractor calling `parsers` instead of this crate's decoders.
    pub fn with_parsers(limits: Limits, parsers: AppParsers) -> Self {
        let tcp = TcpLimits {
            max_flows: limits.max_tcp_flows,
            max_stream_bytes: limits.max_stream_bytes,
            max_buffered_bytes: limits.max_tcp_buffered_bytes,
            idle_timeout: limits.tcp_idle_timeout,
            ..TcpLimits::default()
        };
        let defrag = DefragLimits {
            max_datagrams: limits.max_fragment_datagrams,
            max_bytes: limits.max_fragment_bytes,
            timeout: limits.fragment_timeout,
        };
        Extractor {
            defrag: Defragmenter::new(defrag),
            apps: Apps {
                parsers,
                stats: ExtractStats::default(),
                tcp: TcpReassembler::new(tcp),
                quic: QuicInitials::new(limits.max_quic_connections),
                max_stream_bytes: limits.max_stream_bytes,
            },
        }
    }

    /// Decodes one frame, calling `out` for each message it completes.
    /// Returns the packet's IP endpoints (ports when UDP or TCP was read),
    /// or `None` for frames without a readable IP header.
    pub fn frame(&mut self, frame: &Frame<'_>, out: &mut dyn FnMut(Event)) -> Option<Endpoints> {
        let apps = &mut self.apps;
        apps.stats.frames += 1;
        apps.stats.bytes += frame.data.len() as u64;
        let (version, offset, bytes) = match packet::link_payload(frame.link_type, frame.data) {
            Ok(LinkPayload::Ip { version, offset, bytes }) => (version, offset, bytes),
            Ok(LinkPayload::NotIp) => {
                apps.stats.non_ip_frames += 1;
                return None;
            }
            Err(e) => {
                apps.stats.packet_error(e);
                return None;
            }
        };
        let ip = match packet::ip_packet(version, bytes, offset) {
            Ok(ip) => ip,
            Err(e) => {
                apps.stats.packet_error(e);
                return None;
            }
        };
        apps.stats.ip_packets += 1;
        let ip_layer = if version == IpVersion::V4 { Layer::Ipv4 } else { Layer::Ipv6 };
        if ip.truncated {
            apps.stats.truncated.add(ip_layer);
        }
        let mut endpoints =
            Endpoints { src: ip.src, sport: None, dst: Some(ip.dst), dport: None, proto: proto_of(ip.protocol) };
        let Some(fragment) = ip.fragment else {
            apps.transport(frame.ts, &mut endpoints, ip.protocol, ip.payload, ip.payload_offset, out);
            return Some(endpoints);
        };

        match version {
            IpVersion::V4 => apps.stats.ipv4_fragments += 1,
            IpVersion::V6 => apps.stats.ipv6_fragments += 1,
        }
        if ip.truncated {
            // A clipped fragment would put a hole in the datagram.
            return Some(endpoints);
        }
        let key = FragmentKey { src: ip.src, dst: ip.dst, id: fragment.id, protocol: ip.protocol };
        match self.defrag.fragment(frame.ts, key, fragment, ip.payload) {
            Reassembly::Held => {}
            Reassembly::Dropped(reason) => apps.stats.problem(format_args!("IP fragment: {}", reason.as_str())),
            Reassembly::Complete(datagram) => {
                let (protocol, payload) = match version {
                    IpVersion::V4 => (ip.protocol, datagram),
                    IpVersion::V6 => match packet::ipv6_upper_layer(ip.protocol, datagram, 0) {
                        Ok(upper) if upper.fragment.is_none() => (upper.protocol, upper.payload),
                        Ok(_) => {
                            apps.stats.packet_error(PacketError::Malformed {
                                layer: Layer::Ipv6,
                                offset: 0,
                                what: "fragment header inside a reassembled datagram",
                            });
                            return Some(endpoints);
                        }
                        Err(e) => {
                            apps.stats.packet_error(e);
                            return Some(endpoints);
                        }
                    },
                };
                endpoints.proto = proto_of(protocol);
                // Offsets in a reassembled datagram are from its start.
                apps.transport(frame.ts, &mut endpoints, protocol, payload, 0, out);
            }
        }
        Some(endpoints)
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> ExtractStats {
        let mut stats = self.apps.stats.clone();
        stats.fragments = self.defrag.stats().clone();
        stats.tcp = self.apps.tcp.stats().clone();
        stats
    }
}

impl Apps {
    fn transport(
        &mut self,
        ts: Timestamp,
        endpoints: &mut Endpoints,
        protocol: u8,
        payload: &[u8],
        offset: usize,
        out: &mut dyn FnMut(Event),
    ) {
        match packet::transport(protocol, payload, offset) {
            Ok(Transport::Udp(udp)) => {
                endpoints.sport = Some(udp.sport);
                endpoints.dport = Some(udp.dport);
                if udp.truncated {
                    self.stats.truncated.udp += 1;
                }
                self.udp(ts, *endpoints, &udp, out);
            }
            Ok(Transport::Tcp(tcp)) => {
                endpoints.sport = Some(tcp.sport);
                endpoints.dport = Some(tcp.dport);
                self.tcp(ts, *endpoints, &tcp, out);
            }
            Ok(Transport::Fragment { .. } | Transport::Other { .. }) => {}
            Err(e) => self.stats.packet_error(e),
        }
    }

    fn udp(&mut self, ts: Timestamp, endpoints: Endpoints, udp: &UdpDatagram<'_>, out: &mut dyn FnMut(Event)) {
        if udp.sport == 53 || udp.dport == 53 {
            dns_message(self.parsers, &mut self.stats, ts, endpoints, udp.payload, out);
            return;
        }
        if udp.payload.first().is_some_and(|b| b & 0xC0 == 0xC0) {
            let Some(dst) = endpoints.dst else { return };
            match self.quic.datagram((endpoints.src, udp.sport, dst, udp.dport), udp.payload) {
                QuicOutcome::Hello(hello) => emit(&mut self.stats, out, ts, endpoints, Message::Quic(hello)),
                QuicOutcome::Undecodable(what) => {
                    self.stats.undecodable.quic += 1;
                    self.stats.problem(format_args!("QUIC Initial: {what}"));
                }
                QuicOutcome::NotQuic | QuicOutcome::Ignored | QuicOutcome::Pending => {}
            }
        }
    }

    fn tcp(&mut self, ts: Timestamp, endpoints: Endpoints, segment: &TcpSegment<'_>, out: &mut dyn FnMut(Event)) {
        let Some(dst) = endpoints.dst else { return };
        let mut cx = StreamContext {
            ts,
            endpoints,
            dns_port: segment.sport == 53 || segment.dport == 53,
            parsers: self.parsers,
            max_stream_bytes: self.max_stream_bytes,
            stats: &mut self.stats,
            out,
        };
        self.tcp.segment(ts, endpoints.src, dst, segment, |data, app| on_stream(data, app, &mut cx));
    }
}

fn emit(stats: &mut ExtractStats, out: &mut dyn FnMut(Event), ts: Timestamp, endpoints: Endpoints, message: Message) {
    match message {
        Message::Dns(_) => stats.events.dns += 1,
        Message::Http(_) => stats.events.http += 1,
        Message::Tls(_) => stats.events.tls += 1,
        Message::Quic(_) => stats.events.quic += 1,
        Message::Flow(_) | Message::IdsAlert(_) => {}
    }
    out(Event { ts, endpoints, message });
}

fn dns_message(
    parsers: AppParsers,
    stats: &mut ExtractStats,
    ts: Timestamp,
    endpoints: Endpoints,
    bytes: &[u8],
    out: &mut dyn FnMut(Event),
) {
    match (parsers.dns)(bytes) {
        Ok(dns) => emit(stats, out, ts, endpoints, Message::Dns(dns)),
        Err(e) => {
            stats.undecodable.dns += 1;
            stats.problem(e);
        }
    }
}

struct StreamContext<'a> {
    ts: Timestamp,
    /// Sender → receiver of the bytes handed over.
    endpoints: Endpoints,
    dns_port: bool,
    parsers: AppParsers,
    max_stream_bytes: usize,
    stats: &'a mut ExtractStats,
    out: &'a mut dyn FnMut(Event),
}

/// What a stream's first bytes say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Guess {
    Http,
    Tls,
    Neither,
    NeedMore,
}

/// Longest method token looked for (`VERSION-CONTROL` is 15).
const MAX_METHOD_LEN: usize = 20;

fn guess(bytes: &[u8]) -> Guess {
    match bytes.first() {
        None => Guess::NeedMore,
        // A TLS handshake record (any 3.x version) whose first message is a ClientHello.
        Some(0x16) => match (bytes.get(1), bytes.get(5)) {
            (Some(0x03), Some(0x01)) => Guess::Tls,
            (Some(0x03), None) | (None, _) => Guess::NeedMore,
            _ => Guess::Neither,
        },
        Some(_) => {
            for (i, b) in bytes.iter().take(MAX_METHOD_LEN + 1).enumerate() {
                match b {
                    b'A'..=b'Z' | b'-' | b'_' => {}
                    // PRI is HTTP/2's connection preface (RFC 9113 3.4), not a request.
                    b' ' if bytes.starts_with(b"PRI ") => return Guess::Neither,
                    b' ' if i >= 3 => return Guess::Http,
                    _ => return Guess::Neither,
                }
            }
            if bytes.len() > MAX_METHOD_LEN { Guess::Neither } else { Guess::NeedMore }
        }
    }
}

/// How a stream's decoder left the bytes it was given.
enum Progress {
    /// Wait for more bytes; `consumed` (may exceed what was given: skip).
    Wait {
        consumed: u64,
    },
    /// The decoder changed (after CONNECT); go on at `consumed`.
    Switch {
        consumed: usize,
    },
    Stop,
}

fn on_stream(data: &[u8], app: &mut StreamApp, cx: &mut StreamContext<'_>) -> StreamInterest {
    let mut pos = 0usize;
    // Each turn returns, picks a decoder, or consumes a CONNECT head (at
    // least one byte), so this ends; the bound is a second guard.
    for _ in 0..=data.len().saturating_mul(2).saturating_add(2) {
        let rest = data.get(pos..).unwrap_or_default();
        let progress = match *app {
            StreamApp::Undecided => {
                if cx.dns_port {
                    *app = StreamApp::Dns;
                    continue;
                }
                match guess(rest) {
                    Guess::Http => *app = StreamApp::Http,
                    Guess::Tls => *app = StreamApp::Tls,
                    Guess::NeedMore => return StreamInterest::Continue { consumed: pos as u64 },
                    Guess::Neither => return StreamInterest::Stop,
                }
                continue;
            }
            StreamApp::Dns => dns_stream(rest, cx),
            StreamApp::Http => http_stream(rest, app, cx),
            StreamApp::HttpChunked => chunked_body(rest, app, cx),
            StreamApp::Tls => tls_stream(rest, cx),
        };
        match progress {
            Progress::Wait { consumed } => return StreamInterest::Continue { consumed: pos as u64 + consumed },
            Progress::Switch { consumed } => pos += consumed,
            Progress::Stop => return StreamInterest::Stop,
        }
    }
    StreamInterest::Stop
}

/// DNS over TCP: messages behind two-byte lengths (RFC 1035 4.2.2).
fn dns_stream(bytes: &[u8], cx: &mut StreamContext<'_>) -> Progress {
    let mut pos = 0usize;
    loop {
        let (Some(&hi), Some(&lo)) = (bytes.get(pos), bytes.get(pos + 1)) else {
            return Progress::Wait { consumed: pos as u64 };
        };
        let len = usize::from(u16::from_be_bytes([hi, lo]));
        let end = pos + 2 + len;
        if 2 + len > cx.max_stream_bytes {
            cx.stats.undecodable.dns += 1;
            cx.stats.problem(format_args!(
                "DNS message over TCP of {len} bytes is over the {}-byte stream buffer; skipped",
                cx.max_stream_bytes
            ));
            return Progress::Wait { consumed: end as u64 };
        }
        let Some(message) = bytes.get(pos + 2..end) else {
            return Progress::Wait { consumed: pos as u64 };
        };
        dns_message(cx.parsers, cx.stats, cx.ts, cx.endpoints, message, cx.out);
        pos = end;
    }
}

/// What follows a request head (RFC 9112 6.3, for requests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Body {
    Length(u64),
    /// Transfer-Encoding whose final coding is chunked (RFC 9112 6.3: it
    /// overrides any Content-Length).
    Chunked,
    /// Another Transfer-Encoding, Upgrade, or contradicting lengths: the
    /// stream is not followed further.
    Unknown,
}

fn header_value<'h>(line: &'h [u8], name: &str) -> Option<&'h [u8]> {
    let colon = line.iter().position(|&b| b == b':')?;
    let (field, value) = line.split_at(colon);
    if !field.eq_ignore_ascii_case(name.as_bytes()) {
        return None;
    }
    Some(value.get(1..).unwrap_or_default().trim_ascii())
}

fn body_of(head: &[u8]) -> Body {
    let mut length: Option<u64> = None;
    // The final coding of the last Transfer-Encoding field.
    let mut final_coding: Option<&[u8]> = None;
    // Skip the request line; header lines end in LF (CR is trimmed).
    for line in head.split(|&b| b == b'\n').skip(1) {
        if header_value(line, "upgrade").is_some() {
            return Body::Unknown;
        }
        if let Some(value) = header_value(line, "transfer-encoding") {
            final_coding = value.rsplit(|&b| b == b',').next().map(<[u8]>::trim_ascii);
            continue;
        }
        if let Some(value) = header_value(line, "content-length") {
            let parsed = std::str::from_utf8(value)
                .ok()
                .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|v| v.parse::<u64>().ok());
            match (parsed, length) {
                (None, _) => return Body::Unknown,
                (Some(n), Some(earlier)) if n != earlier => return Body::Unknown,
                (Some(n), _) => length = Some(n),
            }
        }
    }
    match final_coding {
        Some(coding) if coding.eq_ignore_ascii_case(b"chunked") => Body::Chunked,
        Some(_) => Body::Unknown,
        None => Body::Length(length.unwrap_or(0)),
    }
}

/// Longest chunk-size line or trailer section waited for.
const MAX_CHUNK_LINE: usize = 4 * 1024;

/// A chunked request body, skipped (RFC 9112 7.1): each chunk's data is
/// dropped as it arrives, without being buffered; after the last chunk and
/// its trailer fields the stream is read for the next request.
fn chunked_body(bytes: &[u8], app: &mut StreamApp, cx: &mut StreamContext<'_>) -> Progress {
    let line_end = |from: usize| bytes.get(from..).and_then(|rest| rest.iter().position(|&b| b == b'\n'));
    let Some(size_line_len) = line_end(0) else {
        if bytes.len() > MAX_CHUNK_LINE {
            return chunk_problem(cx, "a chunk-size line without its end");
        }
        return Progress::Wait { consumed: 0 };
    };
    let size_line = bytes.get(..size_line_len).unwrap_or_default();
    // `1a;ext=value\r`: the size is the hex digits before any extension.
    let digits = size_line.split(|&b| b == b';').next().unwrap_or_default().trim_ascii();
    let size = std::str::from_utf8(digits)
        .ok()
        .filter(|d| !d.is_empty() && d.len() <= 15)
        .and_then(|d| u64::from_str_radix(d, 16).ok());
    let Some(size) = size else {
        return chunk_problem(cx, "a chunk size that is not hexadecimal");
    };
    let data_start = size_line_len + 1;
    if size > 0 {
        // The data and its CRLF are skipped, arrived or not.
        return Progress::Wait { consumed: (data_start as u64).saturating_add(size).saturating_add(2) };
    }
    // The last chunk: trailer field lines up to an empty one.
    let mut at = data_start;
    loop {
        let Some(len) = line_end(at) else {
            if bytes.len() > MAX_CHUNK_LINE {
                return chunk_problem(cx, "a chunked body's trailer without its end");
            }
            return Progress::Wait { consumed: 0 };
        };
        let line = bytes.get(at..at + len).unwrap_or_default();
        at += len + 1;
        if line.trim_ascii().is_empty() {
            *app = StreamApp::Http;
            return Progress::Switch { consumed: at };
        }
    }
}

fn chunk_problem(cx: &mut StreamContext<'_>, what: &str) -> Progress {
    cx.stats.undecodable.http += 1;
    cx.stats.problem(format_args!("HTTP request body: {what}; the stream is not followed further"));
    Progress::Stop
}

fn http_stream(bytes: &[u8], app: &mut StreamApp, cx: &mut StreamContext<'_>) -> Progress {
    let mut pos = 0usize;
    loop {
        let rest = bytes.get(pos..).unwrap_or_default();
        match guess(rest) {
            Guess::Http => {}
            Guess::NeedMore => return Progress::Wait { consumed: pos as u64 },
            // Not a request where the next one should be (a body we could not
            // delimit, another protocol after an upgrade we missed): stop quietly.
            Guess::Tls | Guess::Neither => return Progress::Stop,
        }
        match (cx.parsers.http)(rest) {
            HeadStatus::Complete { request, consumed } => {
                let consumed = consumed.clamp(1, rest.len());
                let connect = request.method.eq_ignore_ascii_case("CONNECT");
                let body = body_of(rest.get(..consumed).unwrap_or_default());
                emit(cx.stats, cx.out, cx.ts, cx.endpoints, Message::Http(request));
                pos += consumed;
                if connect {
                    // What follows CONNECT is the tunnelled protocol.
                    *app = StreamApp::Undecided;
                    return Progress::Switch { consumed: pos };
                }
                match body {
                    Body::Unknown => return Progress::Stop,
                    Body::Chunked => {
                        *app = StreamApp::HttpChunked;
                        return Progress::Switch { consumed: pos };
                    }
                    Body::Length(0) => {}
                    Body::Length(n) => {
                        let end = (pos as u64).saturating_add(n);
                        if end > bytes.len() as u64 {
                            return Progress::Wait { consumed: end };
                        }
                        pos = end as usize;
                    }
                }
            }
            HeadStatus::Partial => {
                if rest.len() >= cx.max_stream_bytes.min(http::MAX_HEAD) {
                    cx.stats.undecodable.http += 1;
                    cx.stats.problem(format_args!("HTTP request head over {} bytes", rest.len()));
                    return Progress::Stop;
                }
                return Progress::Wait { consumed: pos as u64 };
            }
            HeadStatus::NotHttp => {
                cx.stats.undecodable.http += 1;
                cx.stats.problem("HTTP request head that starts with a method but does not parse");
                return Progress::Stop;
            }
        }
    }
}

fn tls_stream(bytes: &[u8], cx: &mut StreamContext<'_>) -> Progress {
    match (cx.parsers.tls)(bytes) {
        HelloStatus::Complete(hello) => {
            emit(cx.stats, cx.out, cx.ts, cx.endpoints, Message::Tls(hello));
            Progress::Stop
        }
        HelloStatus::Partial if bytes.len() < cx.max_stream_bytes => Progress::Wait { consumed: 0 },
        HelloStatus::Partial => {
            cx.stats.undecodable.tls += 1;
            cx.stats.problem(format_args!("TLS ClientHello over {} bytes", bytes.len()));
            Progress::Stop
        }
        HelloStatus::NotTls => {
            cx.stats.undecodable.tls += 1;
            cx.stats.problem("TLS record that starts a ClientHello but does not parse");
            Progress::Stop
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guesses_from_the_first_bytes() {
        assert_eq!(guess(b"GET / HTTP/1.1\r\n"), Guess::Http);
        assert_eq!(guess(b"VERSION-CONTROL /x HTTP/1.1"), Guess::Http);
        assert_eq!(guess(b"GE"), Guess::NeedMore);
        assert_eq!(guess(b"HTTP/1.1 200 OK"), Guess::Neither);
        assert_eq!(guess(b"get / HTTP/1.1"), Guess::Neither);
        assert_eq!(guess(b"AB C"), Guess::Neither);
        assert_eq!(guess(b"SSH-2.0-OpenSSH"), Guess::Neither);
        assert_eq!(guess(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), Guess::Neither);
        assert_eq!(guess(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01]), Guess::Tls);
        assert_eq!(guess(&[0x16, 0x03, 0x03, 0x00, 0x5a, 0x02]), Guess::Neither, "a ServerHello");
        assert_eq!(guess(&[0x16, 0x03, 0x01]), Guess::NeedMore);
        assert_eq!(guess(&[0x16, 0x02]), Guess::Neither);
    }

    #[test]
    fn request_bodies_by_content_length_or_chunked() {
        assert_eq!(body_of(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"), Body::Length(0));
        assert_eq!(body_of(b"POST / HTTP/1.1\r\ncontent-length:  12 \r\n\r\n"), Body::Length(12));
        assert_eq!(body_of(b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"), Body::Unknown);
        assert_eq!(body_of(b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n"), Body::Length(1));
        assert_eq!(body_of(b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n"), Body::Unknown);
        assert_eq!(body_of(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"), Body::Chunked);
        let both = b"POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n";
        assert_eq!(body_of(both), Body::Chunked, "chunked wins over a length");
        assert_eq!(body_of(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"), Body::Unknown);
        assert_eq!(body_of(b"GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n"), Body::Unknown);
        // A request line that looks like a header is not one.
        assert_eq!(body_of(b"GET /content-length:5 HTTP/1.1\r\n\r\n"), Body::Length(0));
    }
}
