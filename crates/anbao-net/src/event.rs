//! What the decoders produce: one [`Event`] per application message, with
//! its time and endpoints. The JSON form (serde) is the documented output of
//! `anbao net extract --json`, one object per line:
//!
//! ```text
//! {"ts":"2024-01-02T03:04:05.123456Z","src":"10.0.0.1","sport":53211,"dst":"8.8.8.8","dport":53,
//!  "proto":"udp","kind":"dns","id":4660,"qr":"query","qname":"example.com","qtype":"A",
//!  "rcode":"NOERROR","answers":[]}
//! ```
//!
//! Fields are added, never renamed or removed. Names are printed as on the
//! wire (case kept, no trailing dot, the root as `.`); bytes that are not
//! printable ASCII, and dots or backslashes inside a label, are escaped as
//! `\DDD` (RFC 1035 master-file style) so every name is one unambiguous
//! string.

use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Nanoseconds since the Unix epoch (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn from_secs_nanos(secs: i64, nanos: u32) -> Self {
        Timestamp(secs.saturating_mul(1_000_000_000).saturating_add(i64::from(nanos)))
    }

    pub fn secs(self) -> i64 {
        self.0.div_euclid(1_000_000_000)
    }

    pub fn subsec_nanos(self) -> u32 {
        // rem_euclid of a positive modulus is in 0..1e9.
        u32::try_from(self.0.rem_euclid(1_000_000_000)).unwrap_or(0)
    }

    pub fn to_offset_date_time(self) -> Option<time::OffsetDateTime> {
        time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0)).ok()
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339 in UTC with as many fraction digits as needed (0, 3, 6 or 9).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(t) = self.to_offset_date_time() else {
            return write!(f, "{}", self.0);
        };
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        )?;
        let nanos = t.nanosecond();
        if nanos == 0 {
        } else if nanos % 1_000_000 == 0 {
            write!(f, ".{:03}", nanos / 1_000_000)?;
        } else if nanos % 1_000 == 0 {
            write!(f, ".{:06}", nanos / 1_000)?;
        } else {
            write!(f, ".{nanos:09}")?;
        }
        f.write_str("Z")
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl std::str::FromStr for Timestamp {
    type Err = time::error::Parse;

    /// RFC 3339 (any offset), the inverse of [`Display`](fmt::Display).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)?;
        let nanos = t.unix_timestamp_nanos();
        Ok(Timestamp(i64::try_from(nanos).unwrap_or(if nanos < 0 { i64::MIN } else { i64::MAX })))
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Transport protocol of the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    Tcp,
    Udp,
    Icmp,
    Other,
}

/// Who talked to whom. Packets always have all four; some logs lack the
/// server side (a resolver's query log names only the client).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Endpoints {
    pub src: IpAddr,
    pub sport: Option<u16>,
    pub dst: Option<IpAddr>,
    pub dport: Option<u16>,
    pub proto: Proto,
}

/// One decoded message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub ts: Timestamp,
    #[serde(flatten)]
    pub endpoints: Endpoints,
    #[serde(flatten)]
    pub message: Message,
}

impl Event {
    /// A `flow` event for a packet's endpoints, without counters: how
    /// captures hand endpoint pairs to matching and to the bus.
    pub fn endpoints_only(ts: Timestamp, endpoints: Endpoints) -> Event {
        let flow = Flow { orig_bytes: None, resp_bytes: None, orig_pkts: None, resp_pkts: None, duration: None };
        Event { ts, endpoints, message: Message::Flow(flow) }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Message {
    Dns(Dns),
    Http(Http),
    Tls(TlsHello),
    /// A ClientHello carried in QUIC Initial packets.
    Quic(TlsHello),
    /// A connection summary from a log (Zeek conn, EVE flow).
    Flow(Flow),
    /// An alert some other IDS raised (EVE alert), kept as evidence.
    IdsAlert(IdsAlert),
}

impl Message {
    /// The `kind` string of the JSON form.
    pub fn kind(&self) -> &'static str {
        match self {
            Message::Dns(_) => "dns",
            Message::Http(_) => "http",
            Message::Tls(_) => "tls",
            Message::Quic(_) => "quic",
            Message::Flow(_) => "flow",
            Message::IdsAlert(_) => "ids_alert",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Qr {
    Query,
    Response,
}

/// A DNS message: its first question and, for responses, the answer section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dns {
    pub id: u16,
    pub qr: Qr,
    pub qname: String,
    pub qtype: RrType,
    /// Header rcode, extended by the EDNS OPT record when present.
    pub rcode: Rcode,
    pub answers: Vec<Answer>,
    /// EDNS Client Subnet (RFC 7871), when the message carries one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_subnet: Option<ClientSubnet>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "AnswerText")]
pub struct Answer {
    pub name: String,
    #[serde(rename = "type")]
    pub rtype: RrType,
    pub data: AnswerData,
    pub ttl: u32,
}

/// An answer as its JSON form has it: the data as text, typed again by the
/// record type on the way in.
#[derive(Deserialize)]
struct AnswerText {
    name: String,
    #[serde(rename = "type")]
    rtype: RrType,
    data: String,
    ttl: u32,
}

impl TryFrom<AnswerText> for Answer {
    type Error = String;

    fn try_from(a: AnswerText) -> Result<Self, Self::Error> {
        let data = match a.rtype {
            RrType::A | RrType::AAAA => AnswerData::Address(
                a.data.parse().map_err(|_| format!("{} answer {:?} is not an address", a.rtype, a.data))?,
            ),
            RrType::CNAME | RrType::NS | RrType::PTR | RrType::DNAME => AnswerData::Name(a.data),
            _ => AnswerData::Text(a.data),
        };
        Ok(Answer { name: a.name, rtype: a.rtype, data, ttl: a.ttl })
    }
}

/// Answer data in presentation form. Addresses stay typed so matchers need
/// not parse text back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnswerData {
    /// A and AAAA.
    Address(IpAddr),
    /// CNAME, NS, PTR, DNAME targets (same escaping as names).
    Name(String),
    /// Anything else, in zone-file presentation: `10 mx.example.com` for MX,
    /// quoted strings for TXT, `\# LEN HEX` (RFC 3597) for types we do not
    /// render.
    Text(String),
}

impl fmt::Display for AnswerData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AnswerData::Address(a) => write!(f, "{a}"),
            AnswerData::Name(s) | AnswerData::Text(s) => f.write_str(s),
        }
    }
}

impl Serialize for AnswerData {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientSubnet {
    pub address: IpAddr,
    pub source_prefix: u8,
    pub scope_prefix: u8,
}

/// A DNS RR type; printed by mnemonic (`A`, `HTTPS`) or `TYPE123` (RFC 3597).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RrType(pub u16);

impl RrType {
    pub const A: RrType = RrType(1);
    pub const NS: RrType = RrType(2);
    pub const CNAME: RrType = RrType(5);
    pub const SOA: RrType = RrType(6);
    pub const NULL: RrType = RrType(10);
    pub const PTR: RrType = RrType(12);
    pub const MX: RrType = RrType(15);
    pub const TXT: RrType = RrType(16);
    pub const AAAA: RrType = RrType(28);
    pub const SRV: RrType = RrType(33);
    pub const DNAME: RrType = RrType(39);
    pub const OPT: RrType = RrType(41);
    pub const SVCB: RrType = RrType(64);
    pub const HTTPS: RrType = RrType(65);
    pub const ANY: RrType = RrType(255);

    const NAMES: &'static [(u16, &'static str)] = &[
        (1, "A"),
        (2, "NS"),
        (5, "CNAME"),
        (6, "SOA"),
        (10, "NULL"),
        (12, "PTR"),
        (13, "HINFO"),
        (15, "MX"),
        (16, "TXT"),
        (28, "AAAA"),
        (29, "LOC"),
        (33, "SRV"),
        (35, "NAPTR"),
        (39, "DNAME"),
        (41, "OPT"),
        (43, "DS"),
        (46, "RRSIG"),
        (47, "NSEC"),
        (48, "DNSKEY"),
        (50, "NSEC3"),
        (52, "TLSA"),
        (64, "SVCB"),
        (65, "HTTPS"),
        (99, "SPF"),
        (252, "AXFR"),
        (255, "ANY"),
        (257, "CAA"),
    ];

    pub fn name(self) -> Option<&'static str> {
        Self::NAMES.iter().find(|(code, _)| *code == self.0).map(|(_, name)| *name)
    }

    /// The inverse of [`Display`](fmt::Display): a mnemonic (any case) or `TYPEn`.
    pub fn from_name(text: &str) -> Option<RrType> {
        if let Some(code) = Self::NAMES.iter().find(|(_, name)| name.eq_ignore_ascii_case(text)).map(|(c, _)| *c) {
            return Some(RrType(code));
        }
        let rest = text.get(..4).filter(|p| p.eq_ignore_ascii_case("TYPE")).and(text.get(4..))?;
        rest.parse().ok().map(RrType)
    }
}

impl fmt::Display for RrType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "TYPE{}", self.0),
        }
    }
}

impl Serialize for RrType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for RrType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        RrType::from_name(&s).ok_or_else(|| serde::de::Error::custom(format!("unknown RrType {s:?}")))
    }
}

/// A DNS response code (12 bits with EDNS); printed by mnemonic or `RCODEn`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rcode(pub u16);

impl Rcode {
    pub const NOERROR: Rcode = Rcode(0);
    pub const SERVFAIL: Rcode = Rcode(2);
    pub const NXDOMAIN: Rcode = Rcode(3);

    const NAMES: &'static [(u16, &'static str)] = &[
        (0, "NOERROR"),
        (1, "FORMERR"),
        (2, "SERVFAIL"),
        (3, "NXDOMAIN"),
        (4, "NOTIMP"),
        (5, "REFUSED"),
        (6, "YXDOMAIN"),
        (7, "YXRRSET"),
        (8, "NXRRSET"),
        (9, "NOTAUTH"),
        (10, "NOTZONE"),
        (16, "BADVERS"),
    ];

    pub fn name(self) -> Option<&'static str> {
        Self::NAMES.iter().find(|(code, _)| *code == self.0).map(|(_, name)| *name)
    }

    /// The inverse of [`Display`](fmt::Display): a mnemonic (any case) or `RCODEn`.
    pub fn from_name(text: &str) -> Option<Rcode> {
        if let Some(code) = Self::NAMES.iter().find(|(_, name)| name.eq_ignore_ascii_case(text)).map(|(c, _)| *c) {
            return Some(Rcode(code));
        }
        let rest = text.get(..5).filter(|p| p.eq_ignore_ascii_case("RCODE")).and(text.get(5..))?;
        rest.parse().ok().map(Rcode)
    }
}

impl fmt::Display for Rcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "RCODE{}", self.0),
        }
    }
}

impl Serialize for Rcode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Rcode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        Rcode::from_name(&s).ok_or_else(|| serde::de::Error::custom(format!("unknown Rcode {s:?}")))
    }
}

/// An HTTP/1.x request head.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Http {
    pub method: String,
    /// The Host header (or the authority of an absolute-form target).
    pub host: Option<String>,
    /// The request target as sent.
    pub uri: String,
    pub user_agent: Option<String>,
}

impl Http {
    /// `http://host/path` for URL matching; `None` without a host.
    pub fn url(&self) -> Option<String> {
        if self.uri.starts_with("http://") || self.uri.starts_with("https://") {
            return Some(self.uri.clone());
        }
        let host = self.host.as_deref()?;
        let path = if self.uri.starts_with('/') { self.uri.as_str() } else { "/" };
        Some(format!("http://{host}{path}"))
    }
}

/// What a ClientHello says (TLS over TCP or inside QUIC Initials). Logs may
/// carry only some of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TlsHello {
    pub sni: Option<String>,
    pub alpn: Vec<String>,
    /// JA3 fingerprint (MD5 hex of the JA3 string).
    pub ja3: Option<String>,
    /// JA4 fingerprint (`t13d1516h2_8daaf6152771_b186095e22b6` form).
    pub ja4: Option<String>,
}

/// A connection summary from a log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Flow {
    pub orig_bytes: Option<u64>,
    pub resp_bytes: Option<u64>,
    pub orig_pkts: Option<u64>,
    pub resp_pkts: Option<u64>,
    /// Seconds.
    pub duration: Option<f64>,
}

/// An alert raised by another IDS (Suricata EVE `alert`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdsAlert {
    pub signature_id: u64,
    pub signature: String,
    pub category: Option<String>,
    pub severity: Option<u8>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp_prints_rfc3339_with_the_digits_it_has() {
        assert_eq!(Timestamp::from_secs_nanos(0, 0).to_string(), "1970-01-01T00:00:00Z");
        assert_eq!(Timestamp::from_secs_nanos(1_700_000_000, 123_000_000).to_string(), "2023-11-14T22:13:20.123Z");
        assert_eq!(Timestamp::from_secs_nanos(1_700_000_000, 123_456_000).to_string(), "2023-11-14T22:13:20.123456Z");
        assert_eq!(
            Timestamp::from_secs_nanos(1_700_000_000, 123_456_789).to_string(),
            "2023-11-14T22:13:20.123456789Z"
        );
    }

    #[test]
    fn rr_types_and_rcodes_round_trip_by_name() {
        for code in 0..=300u16 {
            let t = RrType(code);
            assert_eq!(RrType::from_name(&t.to_string()), Some(t));
        }
        assert_eq!(RrType::from_name("aaaa"), Some(RrType::AAAA));
        assert_eq!(RrType(65534).to_string(), "TYPE65534");
        assert_eq!(Rcode::from_name("nxdomain"), Some(Rcode::NXDOMAIN));
        assert_eq!(Rcode(23).to_string(), "RCODE23");
        assert_eq!(RrType::from_name("TYPE"), None);
    }

    #[test]
    fn dns_event_json_has_the_documented_keys() {
        let event = Event {
            ts: Timestamp::from_secs_nanos(1_700_000_000, 0),
            endpoints: Endpoints {
                src: "10.0.0.1".parse().unwrap(),
                sport: Some(5353),
                dst: Some("8.8.8.8".parse().unwrap()),
                dport: Some(53),
                proto: Proto::Udp,
            },
            message: Message::Dns(Dns {
                id: 7,
                qr: Qr::Response,
                qname: "example.com".into(),
                qtype: RrType::A,
                rcode: Rcode::NOERROR,
                answers: vec![Answer {
                    name: "example.com".into(),
                    rtype: RrType::A,
                    data: AnswerData::Address("93.184.216.34".parse().unwrap()),
                    ttl: 60,
                }],
                client_subnet: None,
            }),
        };
        let json: serde_json::Value = serde_json::to_value(&event).unwrap();
        let back: Event = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(back, event, "the JSON form reads back as the same event");
        assert_eq!(
            json,
            serde_json::json!({
                "ts": "2023-11-14T22:13:20Z", "src": "10.0.0.1", "sport": 5353, "dst": "8.8.8.8", "dport": 53,
                "proto": "udp", "kind": "dns", "id": 7, "qr": "response", "qname": "example.com", "qtype": "A",
                "rcode": "NOERROR",
                "answers": [{"name": "example.com", "type": "A", "data": "93.184.216.34", "ttl": 60}]
            })
        );
    }
}
