//! Suricata EVE JSON: `dns` (v1, v2 and v3 records), `http`, `tls`, `quic`,
//! `flow` and `alert`; every other `event_type` (stats, fileinfo, anomaly…)
//! is skipped without being parsed (its `event_type` is found by a byte scan),
//! so such lines are not checked. Only the fields we use are decoded,
//! borrowed from the line.

use serde::Deserialize;
use serde::de::IgnoredAny;

use super::json_scan::Scan;
use super::text::{
    MaybeText, Text, clip, from_json_line, json_key_offset, parse_ip, parse_rfc3339, presentation_name, proto, rcode,
    rr_type, typed_answer,
};
use super::{Context, LineError, MAX_ANSWERS, Parsed};
use crate::event::{
    Answer, AnswerData, Dns, Endpoints, Event, Flow, Http, IdsAlert, Message, Proto, Qr, Rcode, RrType, Timestamp,
    TlsHello,
};

/// The fields every EVE record we read shares, and the one object of its
/// `event_type` (the others a record carries, e.g. an alert's `http`, are
/// skipped unparsed).
macro_rules! eve_record {
    ($name:ident, $field:ident: $object:ident) => {
        #[derive(Debug, Deserialize)]
        struct $name<'a> {
            #[serde(borrow)]
            timestamp: Option<Text<'a>>,
            #[serde(borrow)]
            src_ip: Option<Text<'a>>,
            src_port: Option<u16>,
            #[serde(borrow)]
            dest_ip: Option<Text<'a>>,
            dest_port: Option<u16>,
            #[serde(borrow)]
            proto: Option<Text<'a>>,
            #[serde(borrow)]
            $field: Option<$object<'a>>,
        }

        impl<'a> Split<'a> for $name<'a> {
            type Object = $object<'a>;
            const MEMBER: &'static str = stringify!($field);
            const READ_MEMBER: fn(&mut Scan<'a>) -> Option<$object<'a>> = $object::scan;

            fn split(self) -> (Header<'a>, Option<$object<'a>>) {
                let header = Header {
                    timestamp: self.timestamp,
                    src_ip: self.src_ip,
                    src_port: self.src_port,
                    dest_ip: self.dest_ip,
                    dest_port: self.dest_port,
                    proto: self.proto,
                };
                (header, self.$field)
            }
        }
    };
}

/// A record type: its header and the one object of its `event_type`.
trait Split<'a>: Deserialize<'a> {
    type Object;
    /// The member holding the object (`dns`, `http`…).
    const MEMBER: &'static str;
    /// The object read by the fast path.
    const READ_MEMBER: fn(&mut Scan<'a>) -> Option<Self::Object>;

    fn split(self) -> (Header<'a>, Option<Self::Object>);
}

/// A record by the fast path ([`json_scan`](super::json_scan)) when it can
/// be sure, else by serde (which gives the error).
fn record<'a, R: Split<'a>>(line: &'a [u8]) -> Result<(Header<'a>, Option<R::Object>), LineError> {
    match fast_record(line, R::MEMBER, R::READ_MEMBER) {
        Some(found) => Ok(found),
        None => Ok(from_json_line::<R>(line)?.split()),
    }
}

const HEADER_KEYS: [&str; 6] = ["timestamp", "src_ip", "src_port", "dest_ip", "dest_port", "proto"];

fn fast_record<'a, O>(
    line: &'a [u8],
    member: &str,
    read: fn(&mut Scan<'a>) -> Option<O>,
) -> Option<(Header<'a>, Option<O>)> {
    let text = std::str::from_utf8(line).ok()?;
    let mut scan = Scan::new(text);
    let mut header = Header::default();
    let mut object = None;
    let [k0, k1, k2, k3, k4, k5] = HEADER_KEYS;
    scan.members(&[k0, k1, k2, k3, k4, k5, member], |index, s| {
        match index {
            0 => header.timestamp = s.nullable(Scan::text)?,
            1 => header.src_ip = s.nullable(Scan::text)?,
            2 => header.src_port = s.nullable(Scan::unsigned)?,
            3 => header.dest_ip = s.nullable(Scan::text)?,
            4 => header.dest_port = s.nullable(Scan::unsigned)?,
            5 => header.proto = s.nullable(Scan::text)?,
            _ => object = s.nullable(read)?,
        }
        Some(())
    })?;
    scan.at_end().then_some((header, object))
}

/// A value kept when it is a string and skipped otherwise ([`MaybeText`]).
/// serde reads a number here as a number, and refuses one that overflows
/// `f64`: such numbers go back to serde.
fn scan_maybe_text<'a>(s: &mut Scan<'a>) -> Option<MaybeText<'a>> {
    if s.is_string()? {
        return s.text().map(|t| MaybeText(Some(t.0)));
    }
    if let Some(number) = s.finite_number()? {
        return number.then_some(MaybeText(None));
    }
    s.skip().map(|()| MaybeText(None))
}

/// Where the fast path answers for `line`, its answer is serde's, for every
/// record type: the check behind the tests and the fuzz target. `Err` says
/// how they differ.
pub(super) fn fast_path_agrees(line: &[u8]) -> Result<(), String> {
    fn agree<'a, R: Split<'a>>(line: &'a [u8]) -> Result<(), String>
    where
        R::Object: std::fmt::Debug,
    {
        let Some(fast) = fast_record(line, R::MEMBER, R::READ_MEMBER) else {
            return Ok(());
        };
        let fast = format!("{fast:?}");
        match from_json_line::<R>(line) {
            Ok(record) => {
                let slow = format!("{:?}", record.split());
                if fast == slow { Ok(()) } else { Err(format!("{}: fast {fast} ≠ serde {slow}", R::MEMBER)) }
            }
            Err(error) => Err(format!("{}: fast {fast}, serde refuses: {error:?}", R::MEMBER)),
        }
    }
    agree::<DnsRecord<'_>>(line)?;
    agree::<HttpRecord<'_>>(line)?;
    agree::<TlsRecord<'_>>(line)?;
    agree::<QuicRecord<'_>>(line)?;
    agree::<FlowRecord<'_>>(line)?;
    agree::<AlertRecord<'_>>(line)
}

/// An array of objects each read by `read`.
fn scan_list<'a, T>(s: &mut Scan<'a>, read: fn(&mut Scan<'a>) -> Option<T>) -> Option<Vec<T>> {
    let mut list = Vec::new();
    s.elements(|s| {
        list.push(read(s)?);
        Some(())
    })?;
    Some(list)
}

#[derive(Debug, Default)]
struct Header<'a> {
    timestamp: Option<Text<'a>>,
    src_ip: Option<Text<'a>>,
    src_port: Option<u16>,
    dest_ip: Option<Text<'a>>,
    dest_port: Option<u16>,
    proto: Option<Text<'a>>,
}

eve_record!(DnsRecord, dns: EveDns);
eve_record!(HttpRecord, http: EveHttp);
eve_record!(TlsRecord, tls: EveTls);
eve_record!(QuicRecord, quic: EveTls);
eve_record!(FlowRecord, flow: EveFlow);
eve_record!(AlertRecord, alert: EveAlert);

/// Only `event_type`, for lines the byte scan could not read.
#[derive(Debug, Deserialize)]
struct Probe<'a> {
    #[serde(borrow)]
    event_type: Option<Text<'a>>,
}

/// The event types we read.
const READ_TYPES: [&str; 6] = ["dns", "http", "tls", "quic", "flow", "alert"];

/// `event_type` found by bytes: `"event_type":"…"` at a key position (after
/// `{` or `,`), the value without escapes. Saves parsing the records we skip
/// (stats, fileinfo, anomaly…); `None` sends the line to the JSON parser.
fn scan_event_type(line: &[u8]) -> Option<&[u8]> {
    const KEY: &[u8] = b"\"event_type\":\"";
    // Built once: building a searcher per line cost as much as the search.
    static FINDER: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(KEY));
    // Inside a string a quote is escaped, so the key's bytes are found only
    // where a key (or broken JSON) is; `{` or `,` before it says a key.
    for at in FINDER.find_iter(line) {
        if at > 0 && matches!(line.get(at - 1), Some(b'{' | b',')) {
            let value = line.get(at + KEY.len()..)?;
            let end = value.iter().position(|&b| b == b'"' || b == b'\\')?;
            return (value.get(end) == Some(&b'"')).then(|| value.get(..end)).flatten();
        }
    }
    None
}

#[derive(Debug, Default, Deserialize)]
struct EveDns<'a> {
    #[serde(rename = "type", borrow)]
    kind: Option<Text<'a>>,
    id: Option<u16>,
    #[serde(borrow)]
    rrname: Option<Text<'a>>,
    #[serde(borrow)]
    rrtype: Option<Text<'a>>,
    #[serde(borrow)]
    rcode: Option<Text<'a>>,
    /// v1 answers: one record per line.
    #[serde(borrow)]
    rdata: Option<MaybeText<'a>>,
    ttl: Option<u32>,
    /// v3: the question section.
    #[serde(borrow)]
    queries: Option<Vec<EveQuestion<'a>>>,
    #[serde(borrow)]
    answers: Option<Vec<EveAnswer<'a>>>,
    /// Read by a second pass only when there are no detailed `answers`
    /// (Suricata writes both by default).
    grouped: Option<IgnoredAny>,
}

/// The second pass for `grouped`-only answers.
#[derive(Debug, Deserialize)]
struct GroupedRecord<'a> {
    #[serde(borrow)]
    dns: Option<GroupedDns<'a>>,
}

#[derive(Debug, Deserialize)]
struct GroupedDns<'a> {
    #[serde(borrow)]
    grouped: Option<Grouped<'a>>,
}

#[derive(Debug, Default, Deserialize)]
struct EveQuestion<'a> {
    #[serde(borrow)]
    rrname: Option<Text<'a>>,
    #[serde(borrow)]
    rrtype: Option<Text<'a>>,
}

#[derive(Debug, Default, Deserialize)]
struct EveAnswer<'a> {
    #[serde(borrow)]
    rrname: Option<Text<'a>>,
    #[serde(borrow)]
    rrtype: Option<Text<'a>>,
    ttl: Option<u32>,
    #[serde(borrow)]
    rdata: Option<MaybeText<'a>>,
    #[serde(borrow)]
    srv: Option<EveSrv<'a>>,
}

#[derive(Debug, Default, Deserialize)]
struct EveSrv<'a> {
    priority: Option<u16>,
    weight: Option<u16>,
    port: Option<u16>,
    #[serde(borrow)]
    name: Option<Text<'a>>,
}

/// `"grouped": {"A": ["192.0.2.1", …], "SRV": [{…}]}`: strings kept, in order.
#[derive(Debug, Default)]
struct Grouped<'a>(Vec<(Text<'a>, Vec<MaybeText<'a>>)>);

impl<'de: 'a, 'a> Deserialize<'de> for Grouped<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct GroupedVisitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for GroupedVisitor<'a> {
            type Value = Grouped<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object of RR type to answer data")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut groups = Vec::new();
                while let Some((rtype, values)) = map.next_entry::<Text<'a>, Vec<MaybeText<'a>>>()? {
                    groups.push((rtype, values));
                }
                Ok(Grouped(groups))
            }
        }
        deserializer.deserialize_map(GroupedVisitor(std::marker::PhantomData))
    }
}

#[derive(Debug, Default, Deserialize)]
struct EveHttp<'a> {
    #[serde(borrow)]
    hostname: Option<Text<'a>>,
    #[serde(borrow)]
    url: Option<Text<'a>>,
    #[serde(borrow)]
    http_method: Option<Text<'a>>,
    #[serde(borrow)]
    http_user_agent: Option<Text<'a>>,
}

#[derive(Debug, Default, Deserialize)]
struct EveJa3<'a> {
    #[serde(borrow)]
    hash: Option<Text<'a>>,
}

/// The values of the ALPN extension in an `extensions` array.
#[derive(Debug, Default)]
struct AlpnFromExtensions<'a>(Vec<Text<'a>>);

impl<'de: 'a, 'a> Deserialize<'de> for AlpnFromExtensions<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ExtensionsVisitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for ExtensionsVisitor<'a> {
            type Value = AlpnFromExtensions<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an array of TLS extensions")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut alpn = Vec::new();
                while let Some(extension) = seq.next_element::<EveExtension<'a>>()? {
                    if extension.code == Some(16) {
                        alpn.extend(extension.values.unwrap_or_default());
                    }
                }
                Ok(AlpnFromExtensions(alpn))
            }
        }
        deserializer.deserialize_seq(ExtensionsVisitor(std::marker::PhantomData))
    }
}

#[derive(Debug, Default, Deserialize)]
struct EveExtension<'a> {
    #[serde(rename = "type")]
    code: Option<u16>,
    #[serde(borrow)]
    values: Option<Vec<Text<'a>>>,
}

/// `tls` and `quic` objects (QUIC carries the same ClientHello fields).
#[derive(Debug, Default, Deserialize)]
struct EveTls<'a> {
    #[serde(borrow)]
    sni: Option<Text<'a>>,
    #[serde(borrow)]
    ja3: Option<EveJa3<'a>>,
    #[serde(borrow)]
    ja4: Option<Text<'a>>,
    /// Suricata 8.
    #[serde(borrow)]
    client_alpns: Option<Vec<Text<'a>>>,
    /// QUIC: the ClientHello's extensions, of which we keep ALPN's (16) values.
    #[serde(borrow)]
    extensions: Option<AlpnFromExtensions<'a>>,
}

#[derive(Debug, Default, Deserialize)]
struct EveFlow<'a> {
    pkts_toserver: Option<u64>,
    pkts_toclient: Option<u64>,
    bytes_toserver: Option<u64>,
    bytes_toclient: Option<u64>,
    #[serde(borrow)]
    start: Option<Text<'a>>,
    #[serde(borrow)]
    end: Option<Text<'a>>,
}

#[derive(Debug, Default, Deserialize)]
struct EveAlert<'a> {
    signature_id: Option<u64>,
    #[serde(borrow)]
    signature: Option<Text<'a>>,
    #[serde(borrow)]
    category: Option<Text<'a>>,
    severity: Option<u8>,
}

// The fast path's readers of the objects above: the same members, by the
// same names (renames included), into the same structs.

impl<'a> EveDns<'a> {
    fn scan(s: &mut Scan<'a>) -> Option<Self> {
        let mut dns = EveDns::default();
        let keys = ["type", "id", "rrname", "rrtype", "rcode", "rdata", "ttl", "queries", "answers", "grouped"];
        s.members(&keys, |index, s| {
            match index {
                0 => dns.kind = s.nullable(Scan::text)?,
                1 => dns.id = s.nullable(Scan::unsigned)?,
                2 => dns.rrname = s.nullable(Scan::text)?,
                3 => dns.rrtype = s.nullable(Scan::text)?,
                4 => dns.rcode = s.nullable(Scan::text)?,
                5 => dns.rdata = s.nullable(scan_maybe_text)?,
                6 => dns.ttl = s.nullable(Scan::unsigned)?,
                7 => dns.queries = s.nullable(|s| scan_list(s, EveQuestion::scan))?,
                8 => dns.answers = s.nullable(|s| scan_list(s, EveAnswer::scan))?,
                _ => dns.grouped = s.nullable(|s| s.skip().map(|()| IgnoredAny))?,
            }
            Some(())
        })?;
        Some(dns)
    }
}

impl<'a> EveQuestion<'a> {
    fn scan(s: &mut Scan<'a>) -> Option<Self> {
        let mut question = EveQuestion::default();
        s.members(&["rrname", "rrtype"], |index, s| {
            match index {
                0 => question.rrname = s.nullable(Scan::text)?,
                _ => question.rrtype = s.nullable(Scan::text)?,
            }
            Some(())
        })?;
        Some(question)
    }
}

impl<'a> EveAnswer<'a> {
    fn scan(s: &mut Scan<'a>) -> Option<Self> {
        let mut answer = EveAnswer::default();
        s.members(&["rrname", "rrtype", "ttl", "rdata", "srv"], |index, s| {
            match index {
                0 => answer.rrname = s.nullable(Scan::text)?,
                1 => answer.rrtype = s.nullable(Scan::text)?,
                2 => answer.ttl = s.nullable(Scan::unsigned)?,
                3 => answer.rdata = s.nullable(scan_maybe_text)?,
                _ => answer.srv = s.nullable(EveSrv::scan)?,
            }
            Some(())
        })?;
        Some(answer)
    }
}

impl<'a> EveSrv<'a> {
    fn scan(s: &mut Scan<'a>) -> Option<Self> {
        let mut srv = EveSrv::default();
        s.members(&["priority", "weight", "port", "name"], |index, s| {
            match index {
                0 => srv.priority = s.nullable(Scan::unsigned)?,
                1 => srv.weight = s.nullable(Scan::unsigned)?,
                2 => srv.port = s.nullable(Scan::unsigned)?,
                _ => srv.name = s.nullable(Scan::text)?,
            }
            Some(())
        })?;
        Some(srv)
    }
}

impl<'a> EveHttp<'a> {
    fn scan(s: &mut Scan<'a>) -> Option<Self> {
        let mut http = EveHttp::default();
        s.members(&["hostname", "url", "http_method", "http_user_agent"], |index, s| {
            match index {
                0 => http.hostname = s.nullable(Scan::text)?,
                1 => http.url = s.nullable(Scan::text)?,
                2 => http.http_method = s.nullable(Scan::text)?,
                _ => http.http_user_agent = s.nullable(Scan::text)?,
            }
            Some(())
        })?;
        Some(http)
    }
}

impl<'a> EveTls<'a> {
    fn scan(s: &mut Scan<'a>) -> Option<Self> {
        let mut tls = EveTls::default();
        s.members(&["sni", "ja3", "ja4", "client_alpns", "extensions"], |index, s| {
            match index {
                0 => tls.sni = s.nullable(Scan::text)?,
                1 => {
                    tls.ja3 = s.nullable(|s| {
                        let mut ja3 = EveJa3::default();
                        s.members(&["hash"], |_, s| {
                            ja3.hash = s.nullable(Scan::text)?;
                            Some(())
                        })?;
                        Some(ja3)
                    })?;
                }
                2 => tls.ja4 = s.nullable(Scan::text)?,
                3 => tls.client_alpns = s.nullable(Scan::texts)?,
                _ => {
                    tls.extensions = s.nullable(|s| {
                        let mut alpn = Vec::new();
                        s.elements(|s| {
                            let mut extension = EveExtension::default();
                            s.members(&["type", "values"], |index, s| {
                                match index {
                                    0 => extension.code = s.nullable(Scan::unsigned)?,
                                    _ => extension.values = s.nullable(Scan::texts)?,
                                }
                                Some(())
                            })?;
                            if extension.code == Some(16) {
                                alpn.extend(extension.values.unwrap_or_default());
                            }
                            Some(())
                        })?;
                        Some(AlpnFromExtensions(alpn))
                    })?;
                }
            }
            Some(())
        })?;
        Some(tls)
    }
}

impl<'a> EveFlow<'a> {
    fn scan(s: &mut Scan<'a>) -> Option<Self> {
        let mut flow = EveFlow::default();
        let keys = ["pkts_toserver", "pkts_toclient", "bytes_toserver", "bytes_toclient", "start", "end"];
        s.members(&keys, |index, s| {
            match index {
                0 => flow.pkts_toserver = s.nullable(Scan::unsigned)?,
                1 => flow.pkts_toclient = s.nullable(Scan::unsigned)?,
                2 => flow.bytes_toserver = s.nullable(Scan::unsigned)?,
                3 => flow.bytes_toclient = s.nullable(Scan::unsigned)?,
                4 => flow.start = s.nullable(Scan::text)?,
                _ => flow.end = s.nullable(Scan::text)?,
            }
            Some(())
        })?;
        Some(flow)
    }
}

impl<'a> EveAlert<'a> {
    fn scan(s: &mut Scan<'a>) -> Option<Self> {
        let mut alert = EveAlert::default();
        s.members(&["signature_id", "signature", "category", "severity"], |index, s| {
            match index {
                0 => alert.signature_id = s.nullable(Scan::unsigned)?,
                1 => alert.signature = s.nullable(Scan::text)?,
                2 => alert.category = s.nullable(Scan::text)?,
                _ => alert.severity = s.nullable(Scan::unsigned)?,
            }
            Some(())
        })?;
        Some(alert)
    }
}

fn owned(text: Option<Text<'_>>) -> Option<String> {
    text.map(|t| t.0.into_owned())
}

fn missing(line: &[u8], field: &str) -> LineError {
    LineError::new(json_key_offset(line, field), format!("`{field}` is missing"))
}

pub(super) fn line(line: &[u8], ctx: &mut Context<'_>) -> Result<Parsed, LineError> {
    let probed;
    let event_type = match scan_event_type(line) {
        Some(bytes) => bytes,
        None => {
            probed = from_json_line::<Probe<'_>>(line)?.event_type.ok_or_else(|| missing(line, "event_type"))?;
            probed.as_str().as_bytes()
        }
    };
    let Some(event_type) = READ_TYPES.into_iter().find(|t| t.as_bytes() == event_type) else {
        return Ok(Parsed::Skipped);
    };
    match event_type {
        "dns" => {
            let (header, dns) = record::<DnsRecord<'_>>(line)?;
            let dns = dns.ok_or_else(|| missing(line, "dns"))?;
            let (ts, endpoints) = common(line, header, ctx)?;
            let Some((message, client_is_src)) = dns_message(line, dns, ctx.answers_dropped)? else {
                return Ok(Parsed::Skipped);
            };
            let endpoints = match endpoints.dst {
                Some(server) if client_is_src && message.qr == Qr::Response => Endpoints {
                    src: server,
                    sport: endpoints.dport,
                    dst: Some(endpoints.src),
                    dport: endpoints.sport,
                    proto: endpoints.proto,
                },
                _ => endpoints,
            };
            Ok(Parsed::Event(Event { ts, endpoints, message: Message::Dns(message) }))
        }
        "http" => {
            let (header, http) = record::<HttpRecord<'_>>(line)?;
            let http = http.ok_or_else(|| missing(line, "http"))?;
            let (ts, endpoints) = common(line, header, ctx)?;
            let message = Message::Http(Http {
                // Absent without `extended: yes`.
                method: owned(http.http_method).unwrap_or_default(),
                host: owned(http.hostname),
                uri: owned(http.url).unwrap_or_default(),
                user_agent: owned(http.http_user_agent),
            });
            Ok(Parsed::Event(Event { ts, endpoints, message }))
        }
        "tls" => {
            let (header, tls) = record::<TlsRecord<'_>>(line)?;
            let tls = tls.ok_or_else(|| missing(line, "tls"))?;
            let (ts, endpoints) = common(line, header, ctx)?;
            Ok(Parsed::Event(Event { ts, endpoints, message: Message::Tls(hello(tls)) }))
        }
        "quic" => {
            let (header, quic) = record::<QuicRecord<'_>>(line)?;
            let quic = quic.ok_or_else(|| missing(line, "quic"))?;
            let (ts, endpoints) = common(line, header, ctx)?;
            Ok(Parsed::Event(Event { ts, endpoints, message: Message::Quic(hello(quic)) }))
        }
        "flow" => {
            let (header, flow) = record::<FlowRecord<'_>>(line)?;
            let flow = flow.ok_or_else(|| missing(line, "flow"))?;
            let (ts, endpoints) = common(line, header, ctx)?;
            let at = |t: &Option<Text<'_>>| t.as_ref().and_then(|t| parse_rfc3339(t.as_str()));
            let duration = match (at(&flow.start), at(&flow.end)) {
                (Some(start), Some(end)) => {
                    let offset = ctx.options.utc_offset_seconds;
                    let nanos = end.to_timestamp(offset).0.saturating_sub(start.to_timestamp(offset).0);
                    Some(nanos as f64 / 1e9)
                }
                _ => None,
            };
            let message = Message::Flow(Flow {
                orig_bytes: flow.bytes_toserver,
                resp_bytes: flow.bytes_toclient,
                orig_pkts: flow.pkts_toserver,
                resp_pkts: flow.pkts_toclient,
                duration,
            });
            Ok(Parsed::Event(Event { ts, endpoints, message }))
        }
        _ => {
            let (header, alert) = record::<AlertRecord<'_>>(line)?;
            let alert = alert.ok_or_else(|| missing(line, "alert"))?;
            let (ts, endpoints) = common(line, header, ctx)?;
            let signature_id = alert.signature_id.ok_or_else(|| missing(line, "signature_id"))?;
            let message = Message::IdsAlert(IdsAlert {
                signature_id,
                signature: owned(alert.signature).unwrap_or_default(),
                category: owned(alert.category),
                severity: alert.severity,
            });
            Ok(Parsed::Event(Event { ts, endpoints, message }))
        }
    }
}

/// The time and endpoints of a record.
fn common(line: &[u8], header: Header<'_>, ctx: &Context<'_>) -> Result<(Timestamp, Endpoints), LineError> {
    let Some(timestamp) = header.timestamp.as_ref() else {
        return Err(missing(line, "timestamp"));
    };
    let ts = parse_rfc3339(timestamp.as_str())
        .ok_or_else(|| {
            LineError::new(
                json_key_offset(line, "timestamp"),
                format!("`timestamp` is not RFC 3339: `{}`", clip(timestamp.as_str())),
            )
        })?
        .to_timestamp(ctx.options.utc_offset_seconds);
    let address = |value: &Text<'_>, field: &str| {
        parse_ip(value.as_str()).ok_or_else(|| {
            LineError::new(
                json_key_offset(line, field),
                format!("`{field}` is not an IP address: `{}`", clip(value.as_str())),
            )
        })
    };
    let src = address(header.src_ip.as_ref().ok_or_else(|| missing(line, "src_ip"))?, "src_ip")?;
    let dst = header.dest_ip.as_ref().map(|d| address(d, "dest_ip")).transpose()?;
    let transport = header.proto.as_ref().map_or(Proto::Other, |p| proto(p.as_str()));
    Ok((ts, Endpoints { src, sport: header.src_port, dst, dport: header.dest_port, proto: transport }))
}

fn hello(tls: EveTls<'_>) -> TlsHello {
    let alpn = match (tls.client_alpns, tls.extensions) {
        (Some(alpns), _) => alpns.into_iter().map(|a| a.0.into_owned()).collect(),
        (None, Some(AlpnFromExtensions(values))) => values.into_iter().map(|a| a.0.into_owned()).collect(),
        (None, None) => Vec::new(),
    };
    TlsHello { sni: owned(tls.sni), alpn, ja3: tls.ja3.and_then(|j| owned(j.hash)), ja4: owned(tls.ja4) }
}

fn type_of(line: &[u8], text: &Text<'_>, field: &str) -> Result<RrType, LineError> {
    rr_type(text.as_str()).ok_or_else(|| {
        LineError::new(json_key_offset(line, field), format!("`{field}` is not an RR type: `{}`", clip(text.as_str())))
    })
}

/// The DNS message of a `dns` record, and whether the record puts the client
/// in `src_ip` (v1/v2 `answer` records do; v3 responses come from the server).
/// `None` for records without a question.
fn dns_message(line: &[u8], dns: EveDns<'_>, dropped: &mut u64) -> Result<Option<(Dns, bool)>, LineError> {
    let kind = dns.kind.as_ref().map_or("", |k| k.as_str());
    let (qr, client_is_src) = match kind {
        "query" => (Qr::Query, true),
        "request" => (Qr::Query, false),
        "answer" => (Qr::Response, true),
        "response" => (Qr::Response, false),
        other => {
            return Err(LineError::new(
                json_key_offset(line, "type"),
                format!("`dns.type` is not query, request, answer or response: `{}`", clip(other)),
            ));
        }
    };
    let first_answer = dns.answers.as_ref().and_then(|a| a.first());
    let question = match dns.queries.as_ref().and_then(|q| q.first()) {
        Some(q) => q.rrname.as_ref().zip(q.rrtype.as_ref()),
        None => dns.rrname.as_ref().zip(dns.rrtype.as_ref()),
    }
    // Old v2 answers name no question: the first answer's owner stands in.
    .or_else(|| first_answer.and_then(|a| a.rrname.as_ref().zip(a.rrtype.as_ref())));
    let Some((name, rtype)) = question else {
        return Ok(None);
    };
    let qname = presentation_name(name.as_str());
    let qtype = type_of(line, rtype, "rrtype")?;
    let response_code = match dns.rcode.as_ref() {
        Some(text) => rcode(text.as_str()).ok_or_else(|| {
            LineError::new(
                json_key_offset(line, "rcode"),
                format!("`dns.rcode` is not an rcode: `{}`", clip(text.as_str())),
            )
        })?,
        None => Rcode::NOERROR,
    };
    let mut answers = Vec::new();
    let push = |answer: Answer, answers: &mut Vec<Answer>, dropped: &mut u64| {
        if answers.len() < MAX_ANSWERS {
            answers.push(answer);
        } else {
            *dropped += 1;
        }
    };
    if qr == Qr::Response {
        if let Some(list) = dns.answers {
            for answer in list {
                let (Some(name), Some(rtype)) = (answer.rrname.as_ref(), answer.rrtype.as_ref()) else {
                    *dropped += 1;
                    continue;
                };
                let rtype = type_of(line, rtype, "rrtype")?;
                let ttl = answer.ttl.unwrap_or(0);
                let owner = presentation_name(name.as_str());
                match (answer.rdata.and_then(|d| d.0), answer.srv) {
                    (Some(data), _) => push(typed_answer(owner, rtype, ttl, &data), &mut answers, dropped),
                    (None, Some(srv)) => {
                        let target = srv.name.as_ref().map_or(String::from("."), |n| presentation_name(n.as_str()));
                        let data = format!(
                            "{} {} {} {target}",
                            srv.priority.unwrap_or(0),
                            srv.weight.unwrap_or(0),
                            srv.port.unwrap_or(0)
                        );
                        push(Answer { name: owner, rtype, data: AnswerData::Text(data), ttl }, &mut answers, dropped);
                    }
                    (None, None) => *dropped += 1,
                }
            }
        } else if let Some(Some(data)) = dns.rdata.map(|d| d.0) {
            // v1: this line is one answer record.
            push(typed_answer(qname.clone(), qtype, dns.ttl.unwrap_or(0), &data), &mut answers, dropped);
        } else if dns.grouped.is_some()
            && let Some(Grouped(groups)) = from_json_line::<GroupedRecord<'_>>(line)?.dns.and_then(|d| d.grouped)
        {
            for (rtype, values) in groups {
                let rtype = type_of(line, &rtype, "grouped")?;
                for value in values {
                    match value.0 {
                        Some(data) => push(typed_answer(qname.clone(), rtype, 0, &data), &mut answers, dropped),
                        None => *dropped += 1,
                    }
                }
            }
        }
    }
    Ok(Some((
        Dns { id: dns.id.unwrap_or(0), qr, qname, qtype, rcode: response_code, answers, client_subnet: None },
        client_is_src,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::{LogFormat, LogReader};

    #[test]
    fn v1_answer_lines_are_one_record() {
        let mut reader = LogReader::new(LogFormat::SuricataEve);
        let line = br#"{"timestamp":"2016-01-11T05:10:54.612110-0800","event_type":"dns","src_ip":"10.0.0.5","src_port":1,"dest_ip":"10.0.0.1","dest_port":53,"proto":"UDP","dns":{"type":"answer","id":16000,"rrname":"twitter.com","rrtype":"A","ttl":8,"rdata":"199.16.156.6"}}"#;
        let event = reader.line(line).unwrap().unwrap();
        let Message::Dns(dns) = event.message else { panic!() };
        assert_eq!(dns.answers.len(), 1);
        assert_eq!(dns.answers[0].data.to_string(), "199.16.156.6");
        assert_eq!(event.endpoints.src.to_string(), "10.0.0.1");
    }

    #[test]
    fn unknown_fields_and_types_are_ignored() {
        let mut reader = LogReader::new(LogFormat::SuricataEve);
        let line =
            br#"{"timestamp":"2016-01-11T05:10:54.612110-0800","event_type":"anomaly","anomaly":{"type":"decode"}}"#;
        assert_eq!(reader.line(line).unwrap(), None);
        assert_eq!(reader.counts().skipped, 1);
    }

    #[test]
    fn event_type_is_found_only_at_a_key() {
        assert_eq!(scan_event_type(br#"{"timestamp":"t","event_type":"dns","dns":{}}"#), Some(&b"dns"[..]));
        // Inside a string the quotes are escaped: the real key further on counts.
        let line = br#"{"in_iface":"x\",\"event_type\":\"stats","event_type":"alert"}"#;
        assert_eq!(scan_event_type(line), Some(&b"alert"[..]));
        assert_eq!(scan_event_type(br#"{"event_type": "dns"}"#), None, "unusual spacing goes to the parser");
        assert_eq!(scan_event_type(br#"{"event_type":"d\u006es"}"#), None);
        let mut reader = LogReader::new(LogFormat::SuricataEve);
        let spaced = br#"{"timestamp": "2016-01-11T05:10:54.612110-0800", "event_type": "stats", "stats": {}}"#;
        assert_eq!(reader.line(spaced).unwrap(), None);
        assert_eq!(reader.counts().skipped, 1);
    }

    const FIXTURES: [&[u8]; 4] = [
        include_bytes!("../../test_data/logs/eve/ait-lds-suricata.json"),
        include_bytes!("../../test_data/logs/eve/alwaysopen-suricata.json"),
        include_bytes!("../../test_data/logs/eve/suricata-docs-shapes.json"),
        include_bytes!("../../test_data/logs/eve/suricata7-capture.json"),
    ];

    fn fixture_lines() -> impl Iterator<Item = &'static [u8]> {
        FIXTURES.into_iter().flat_map(|f| f.split(|&b| b == b'\n')).filter(|l| !l.is_empty())
    }

    #[test]
    fn the_fast_path_reads_real_records_as_serde_does() {
        let mut answered = 0;
        for line in fixture_lines() {
            fast_path_agrees(line).unwrap();
            let Some(kind) = scan_event_type(line) else { continue };
            let fast = match kind {
                b"dns" => fast_record(line, "dns", EveDns::scan).is_some(),
                b"http" => fast_record(line, "http", EveHttp::scan).is_some(),
                b"tls" => fast_record(line, "tls", EveTls::scan).is_some(),
                b"quic" => fast_record(line, "quic", EveTls::scan).is_some(),
                b"flow" => fast_record(line, "flow", EveFlow::scan).is_some(),
                b"alert" => fast_record(line, "alert", EveAlert::scan).is_some(),
                _ => continue,
            };
            assert!(fast, "the fast path gave up on {}", String::from_utf8_lossy(line));
            answered += 1;
        }
        assert!(answered >= 15, "{answered}");
    }

    #[test]
    fn the_fast_path_agrees_on_broken_and_odd_records() {
        // Every prefix, and every byte replaced by a JSON-significant one.
        for line in fixture_lines() {
            for end in 0..line.len() {
                fast_path_agrees(&line[..end]).unwrap();
            }
            for at in 0..line.len() {
                for byte in [b'"', b'\\', b'}', b'0'] {
                    let mut changed = line.to_vec();
                    changed[at] = byte;
                    fast_path_agrees(&changed).unwrap();
                }
            }
        }
        let odd: [&[u8]; 8] = [
            br#"{"event_type":"dns","src_ip":"10.0.0.1","src_ip":"10.0.0.2","dns":{}}"#,
            br#"{"event_type":"dns","src_port":70000,"dns":{"type":"query"}}"#,
            br#"{"event_type":"dns","dns":{"type":"query","rrname":"a\u002eb","rrtype":"A","answers":null}}"#,
            br#"{"event_type":"dns","dns":{"type":"answer","rdata":1e400}}"#,
            br#"{"event_type":"dns","dns":{"type":"answer","rdata":[1,{"x":null}],"grouped":{"A":["1.2.3.4"]}}}"#,
            br#"{"event_type":"http","http":{"hostname":"h","url":"\/a\ud83d\ude00"}}"#,
            br#"{"event_type":"tls","tls":{"sni":"a","extensions":[{"type":16,"values":["h2"]},{"type":0}]}}"#,
            br#"  {"event_type":"alert","alert":{"signature_id":1,"severity":300}}  "#,
        ];
        for line in odd {
            fast_path_agrees(line).unwrap();
        }
    }

    #[test]
    fn record_without_question_is_skipped() {
        let mut reader = LogReader::new(LogFormat::SuricataEve);
        let line = br#"{"timestamp":"2016-01-11T05:10:54.612110-0800","event_type":"dns","src_ip":"10.0.0.5","dns":{"type":"answer","rcode":"FORMERR"}}"#;
        assert_eq!(reader.line(line).unwrap(), None);
        assert_eq!(reader.counts().skipped, 1);
    }
}
