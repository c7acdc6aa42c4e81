//! Zeek dns, http, ssl and conn logs, as TSV (columns named by the
//! `#fields` header, split on `#separator`, vectors on `#set_separator`) and
//! as JSON (one object per line, `_path` optional: the log is told by the
//! fields it has). Other Zeek logs are skipped.

use std::borrow::Cow;
use std::net::IpAddr;

use serde::Deserialize;
use serde::de::IgnoredAny;

use super::text::{
    JsonTime, Text, WallTime, clip, from_json_line, json_key_offset, offset_in, parse_epoch, parse_ip,
    presentation_name, proto, rcode, rr_type, unescape_zeek,
};
use super::{Context, LineError, MAX_ANSWERS, Parsed};
use crate::event::{
    Answer, AnswerData, Dns, Endpoints, Event, Flow, Http, Message, Proto, Qr, Rcode, RrType, TlsHello,
};

/// Most columns a `#fields` header may name.
const MAX_COLUMNS: usize = 4_096;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ZeekKind {
    Dns,
    Http,
    Ssl,
    Conn,
}

impl ZeekKind {
    /// `dns`, or a filter's split of it (`dns_internal`, `conn-long`); any
    /// other path is a log we do not read (`sip` has `method` and `uri` too).
    fn from_path(path: &str) -> Option<ZeekKind> {
        let base = path.split(['_', '-', '.']).next().unwrap_or(path);
        match base {
            "dns" => Some(ZeekKind::Dns),
            "http" => Some(ZeekKind::Http),
            "ssl" => Some(ZeekKind::Ssl),
            "conn" => Some(ZeekKind::Conn),
            _ => None,
        }
    }
}

/// The columns we read; everything else is ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Col {
    Ts,
    OrigH,
    OrigP,
    RespH,
    RespP,
    Proto,
    TransId,
    Query,
    Qtype,
    QtypeName,
    Rcode,
    RcodeName,
    Answers,
    Ttls,
    TransDepth,
    Method,
    Host,
    Uri,
    UserAgent,
    ServerName,
    Cipher,
    Ja3,
    Ja4,
    NextProtocol,
    ConnState,
    Duration,
    OrigBytes,
    RespBytes,
    OrigPkts,
    RespPkts,
}

const COLUMNS: [(&str, Col); 30] = [
    ("ts", Col::Ts),
    ("id.orig_h", Col::OrigH),
    ("id.orig_p", Col::OrigP),
    ("id.resp_h", Col::RespH),
    ("id.resp_p", Col::RespP),
    ("proto", Col::Proto),
    ("trans_id", Col::TransId),
    ("query", Col::Query),
    ("qtype", Col::Qtype),
    ("qtype_name", Col::QtypeName),
    ("rcode", Col::Rcode),
    ("rcode_name", Col::RcodeName),
    ("answers", Col::Answers),
    ("TTLs", Col::Ttls),
    ("trans_depth", Col::TransDepth),
    ("method", Col::Method),
    ("host", Col::Host),
    ("uri", Col::Uri),
    ("user_agent", Col::UserAgent),
    ("server_name", Col::ServerName),
    ("cipher", Col::Cipher),
    ("ja3", Col::Ja3),
    ("ja4", Col::Ja4),
    ("next_protocol", Col::NextProtocol),
    ("conn_state", Col::ConnState),
    ("duration", Col::Duration),
    ("orig_bytes", Col::OrigBytes),
    ("resp_bytes", Col::RespBytes),
    ("orig_pkts", Col::OrigPkts),
    ("resp_pkts", Col::RespPkts),
];

fn column_name(col: Col) -> &'static str {
    COLUMNS.iter().find(|(_, c)| *c == col).map_or("?", |(name, _)| name)
}

/// Which log a record is, from the fields it has (when `_path`/`#path` is
/// absent or a name we do not know).
fn infer_kind(has: impl Fn(Col) -> bool) -> Option<ZeekKind> {
    if has(Col::TransId) || (has(Col::Query) && (has(Col::Qtype) || has(Col::QtypeName))) {
        Some(ZeekKind::Dns)
    } else if has(Col::Method) || has(Col::TransDepth) {
        Some(ZeekKind::Http)
    } else if has(Col::ServerName) || has(Col::Cipher) || has(Col::Ja3) || has(Col::Ja4) {
        Some(ZeekKind::Ssl)
    } else if has(Col::ConnState) || has(Col::OrigBytes) || has(Col::OrigPkts) {
        Some(ZeekKind::Conn)
    } else {
        None
    }
}

/// A record's fields, typed, whichever form it came in.
#[derive(Debug, Default)]
struct Fields<'a> {
    ts: Option<WallTime>,
    orig_h: Option<IpAddr>,
    orig_p: Option<u16>,
    resp_h: Option<IpAddr>,
    resp_p: Option<u16>,
    proto: Option<Proto>,
    trans_id: Option<u16>,
    query: Option<Cow<'a, str>>,
    qtype: Option<RrType>,
    rcode: Option<Rcode>,
    method: Option<Cow<'a, str>>,
    host: Option<Cow<'a, str>>,
    uri: Option<Cow<'a, str>>,
    user_agent: Option<Cow<'a, str>>,
    server_name: Option<Cow<'a, str>>,
    ja3: Option<Cow<'a, str>>,
    ja4: Option<Cow<'a, str>>,
    next_protocol: Option<Cow<'a, str>>,
    duration: Option<f64>,
    orig_bytes: Option<u64>,
    resp_bytes: Option<u64>,
    orig_pkts: Option<u64>,
    resp_pkts: Option<u64>,
}

fn owned(text: Option<Cow<'_, str>>) -> Option<String> {
    text.map(Cow::into_owned)
}

/// Answer data as Zeek writes it: addresses, `TXT n text`, `<unknown type=n>`
/// or a name (CNAME, NS, PTR, MX… targets alike).
fn zeek_answer(name: &str, data: &str, ttl: u32) -> Answer {
    let data = unescape_zeek(data);
    let (rtype, data) = if let Some(address) = parse_ip(&data) {
        (if address.is_ipv4() { RrType::A } else { RrType::AAAA }, AnswerData::Address(address))
    } else if let Some(rest) = data.strip_prefix("TXT ").or_else(|| data.strip_prefix("SPF ")) {
        let text = rest.split_once(' ').map_or(rest, |(_, text)| text);
        let rtype = if data.starts_with("SPF") { RrType(99) } else { RrType::TXT };
        (rtype, AnswerData::Text(text.to_owned()))
    } else if let Some(code) = data.strip_prefix("<unknown type=").and_then(|rest| rest.strip_suffix('>')) {
        (code.parse().map_or(RrType(0), RrType), AnswerData::Text(data.to_string()))
    } else {
        (RrType::CNAME, AnswerData::Name(presentation_name(&data)))
    };
    Answer { name: name.to_owned(), rtype, data, ttl }
}

fn ttl_seconds(value: f64) -> u32 {
    if value.is_finite() && value > 0.0 {
        // Saturating float-to-int conversion.
        value.min(f64::from(u32::MAX)) as u32
    } else {
        0
    }
}

fn zeek_answers<'d>(
    qname: &str,
    data: impl Iterator<Item = &'d str>,
    mut ttls: impl Iterator<Item = f64>,
    dropped: &mut u64,
) -> Vec<Answer> {
    let mut answers = Vec::new();
    for item in data {
        let ttl = ttls.next().map_or(0, ttl_seconds);
        if answers.len() >= MAX_ANSWERS {
            *dropped += 1;
        } else {
            answers.push(zeek_answer(qname, item, ttl));
        }
    }
    answers
}

/// Builds the event of a record. `answers` is called for DNS responses only.
fn build_event(
    kind: ZeekKind,
    fields: Fields<'_>,
    answers: impl FnOnce(&str, &mut u64) -> Vec<Answer>,
    ctx: &mut Context<'_>,
) -> Result<Parsed, LineError> {
    let ts = fields.ts.ok_or_else(|| LineError::new(0, "`ts` is missing or unset"))?;
    let ts = ts.to_timestamp(ctx.options.utc_offset_seconds);
    let client = fields.orig_h.ok_or_else(|| LineError::new(0, "`id.orig_h` is missing or unset"))?;
    let transport = fields.proto.unwrap_or(match kind {
        ZeekKind::Dns => Proto::Udp,
        ZeekKind::Http | ZeekKind::Ssl => Proto::Tcp,
        ZeekKind::Conn => Proto::Other,
    });
    let mut endpoints =
        Endpoints { src: client, sport: fields.orig_p, dst: fields.resp_h, dport: fields.resp_p, proto: transport };
    let message = match kind {
        ZeekKind::Dns => {
            let Some(query) = fields.query.filter(|q| !q.is_empty()) else {
                return Ok(Parsed::Skipped);
            };
            let qtype = fields.qtype.ok_or_else(|| LineError::new(0, "`qtype` and `qtype_name` are unset"))?;
            let qname = presentation_name(&query);
            let (qr, answers) = match fields.rcode {
                Some(_) => (Qr::Response, answers(&qname, ctx.answers_dropped)),
                None => (Qr::Query, Vec::new()),
            };
            if qr == Qr::Response
                && let Some(server) = fields.resp_h
            {
                endpoints = Endpoints {
                    src: server,
                    sport: fields.resp_p,
                    dst: Some(client),
                    dport: fields.orig_p,
                    proto: transport,
                };
            }
            Message::Dns(Dns {
                id: fields.trans_id.unwrap_or(0),
                qr,
                qname,
                qtype,
                rcode: fields.rcode.unwrap_or(Rcode::NOERROR),
                answers,
                client_subnet: None,
            })
        }
        ZeekKind::Http => {
            let Some(method) = fields.method.filter(|m| !m.is_empty()) else {
                return Ok(Parsed::Skipped);
            };
            Message::Http(Http {
                method: method.into_owned(),
                host: owned(fields.host),
                uri: owned(fields.uri).unwrap_or_default(),
                user_agent: owned(fields.user_agent),
            })
        }
        ZeekKind::Ssl => Message::Tls(TlsHello {
            sni: owned(fields.server_name),
            alpn: fields.next_protocol.map(Cow::into_owned).into_iter().collect(),
            ja3: owned(fields.ja3),
            ja4: owned(fields.ja4),
        }),
        ZeekKind::Conn => Message::Flow(Flow {
            orig_bytes: fields.orig_bytes,
            resp_bytes: fields.resp_bytes,
            orig_pkts: fields.orig_pkts,
            resp_pkts: fields.resp_pkts,
            duration: fields.duration,
        }),
    };
    Ok(Parsed::Event(Event { ts, endpoints, message }))
}

/// Header state of a Zeek TSV log.
#[derive(Debug)]
pub(super) struct TsvState {
    separator: char,
    set_separator: char,
    empty_field: String,
    unset_field: String,
    /// What `#path` said: `Some(None)` for a log we do not read, `None` when
    /// there was no `#path` (then the columns tell).
    path_kind: Option<Option<ZeekKind>>,
    /// What each column is, once `#fields` has been read.
    columns: Option<Vec<Option<Col>>>,
    kind: Option<ZeekKind>,
}

impl Default for TsvState {
    fn default() -> Self {
        TsvState {
            separator: '\t',
            set_separator: ',',
            empty_field: String::from("(empty)"),
            unset_field: String::from("-"),
            path_kind: None,
            columns: None,
            kind: None,
        }
    }
}

/// One character from a header value, decoding `\xHH`.
fn single_char(value: &str) -> Option<char> {
    let decoded = unescape_zeek(value);
    let mut chars = decoded.chars();
    let first = chars.next()?;
    chars.next().is_none().then_some(first)
}

impl TsvState {
    fn decide_kind(&mut self) {
        self.kind = match self.path_kind {
            Some(kind) => kind,
            None => {
                let columns = self.columns.as_deref();
                columns.and_then(|columns| infer_kind(|col| columns.contains(&Some(col))))
            }
        };
    }

    fn header(&mut self, line: &[u8], text: &str) -> Result<Parsed, LineError> {
        if let Some(rest) = text.strip_prefix("#separator") {
            let value = rest.trim_start_matches([' ', '\t']);
            let separator = single_char(value).filter(char::is_ascii).ok_or_else(|| {
                LineError::new(
                    offset_in(line, value.as_bytes()),
                    format!("`#separator` must be one ASCII character, not `{}`", clip(value)),
                )
            })?;
            // A new header block: everything it set before starts over.
            *self = TsvState { separator, ..TsvState::default() };
            return Ok(Parsed::Header);
        }
        let (key, value) = text.split_once(self.separator).unwrap_or((text, ""));
        let value_at = offset_in(line, value.as_bytes());
        match key {
            "#set_separator" => {
                self.set_separator = single_char(value).ok_or_else(|| {
                    LineError::new(value_at, format!("`#set_separator` must be one character, not `{}`", clip(value)))
                })?;
            }
            "#empty_field" => value.clone_into(&mut self.empty_field),
            "#unset_field" => value.clone_into(&mut self.unset_field),
            "#path" => {
                self.path_kind = Some(ZeekKind::from_path(value));
                self.decide_kind();
            }
            "#fields" => {
                let mut columns = Vec::new();
                for name in value.split(self.separator) {
                    if columns.len() >= MAX_COLUMNS {
                        return Err(LineError::new(value_at, format!("`#fields` names over {MAX_COLUMNS} columns")));
                    }
                    columns.push(COLUMNS.iter().find(|(n, _)| *n == name).map(|(_, col)| *col));
                }
                self.columns = Some(columns);
                self.decide_kind();
                // A `#path` names the `#fields` after it; a later block without one is inferred.
                self.path_kind = None;
            }
            _ => {}
        }
        Ok(Parsed::Header)
    }

    pub(super) fn line(&mut self, line: &[u8], ctx: &mut Context<'_>) -> Result<Parsed, LineError> {
        let text = std::str::from_utf8(line)
            .map_err(|e| LineError::new(e.valid_up_to(), "not UTF-8 (Zeek escapes other bytes as \\xHH)"))?;
        if text.starts_with('#') {
            return self.header(line, text);
        }
        let Some(columns) = self.columns.as_deref() else {
            return Err(LineError::new(0, "data line before any `#fields` header"));
        };
        let Some(kind) = self.kind else {
            return Ok(Parsed::Skipped);
        };
        let mut values: [Option<&str>; COLUMNS.len()] = [None; COLUMNS.len()];
        let mut count = 0;
        // A plain byte loop: fields are short, and the separator is ASCII
        // (checked at `#separator`), so every cut is a char boundary.
        let separator = u8::try_from(self.separator).unwrap_or(b'\t');
        let bytes = text.as_bytes();
        let mut start = 0;
        loop {
            let end = bytes
                .get(start..)
                .and_then(|rest| rest.iter().position(|&b| b == separator))
                .map_or(bytes.len(), |found| start + found);
            if let Some(Some(col)) = columns.get(count)
                && let Some(slot) = values.get_mut(*col as usize)
            {
                *slot = text.get(start..end);
            }
            count += 1;
            if end >= bytes.len() {
                break;
            }
            start = end + 1;
        }
        if count != columns.len() {
            return Err(LineError::new(line.len(), format!("{count} columns where `#fields` names {}", columns.len())));
        }
        let unset = self.unset_field.as_str();
        let empty = self.empty_field.as_str();
        let get = |col: Col| values.get(col as usize).copied().flatten().filter(|v| *v != unset);
        let string = |col: Col| get(col).map(|v| if v == empty { Cow::Borrowed("") } else { unescape_zeek(v) });
        let bad = |col: Col, what: &str, value: &str| {
            LineError::new(
                offset_in(line, value.as_bytes()),
                format!("`{}` is not {what}: `{}`", column_name(col), clip(value)),
            )
        };
        let number = |col: Col| -> Result<Option<u64>, LineError> {
            get(col).filter(|v| *v != empty).map(|v| v.parse().map_err(|_| bad(col, "a count", v))).transpose()
        };
        let small = |col: Col, what: &str| -> Result<Option<u16>, LineError> {
            get(col).filter(|v| *v != empty).map(|v| v.parse().map_err(|_| bad(col, what, v))).transpose()
        };
        let address = |col: Col| -> Result<Option<IpAddr>, LineError> {
            get(col).map(|v| parse_ip(v).ok_or_else(|| bad(col, "an IP address", v))).transpose()
        };
        let ts = get(Col::Ts).map(|v| parse_epoch(v).ok_or_else(|| bad(Col::Ts, "epoch seconds", v))).transpose()?;
        let qtype = match small(Col::Qtype, "a number")? {
            Some(code) => Some(RrType(code)),
            None => get(Col::QtypeName)
                .map(|v| rr_type(v).ok_or_else(|| bad(Col::QtypeName, "an RR type", v)))
                .transpose()?,
        };
        let response_code = match small(Col::Rcode, "a number")? {
            Some(code) => Some(Rcode(code)),
            None => {
                get(Col::RcodeName).map(|v| rcode(v).ok_or_else(|| bad(Col::RcodeName, "an rcode", v))).transpose()?
            }
        };
        let duration = get(Col::Duration)
            .map(|v| v.parse::<f64>().ok().filter(|d| d.is_finite()).ok_or_else(|| bad(Col::Duration, "seconds", v)))
            .transpose()?;
        let fields = Fields {
            ts,
            orig_h: address(Col::OrigH)?,
            orig_p: small(Col::OrigP, "a port")?,
            resp_h: address(Col::RespH)?,
            resp_p: small(Col::RespP, "a port")?,
            proto: get(Col::Proto).map(proto),
            trans_id: small(Col::TransId, "a 16-bit DNS ID")?,
            query: string(Col::Query),
            qtype,
            rcode: response_code,
            method: string(Col::Method),
            host: string(Col::Host),
            uri: string(Col::Uri),
            user_agent: string(Col::UserAgent),
            server_name: string(Col::ServerName),
            ja3: string(Col::Ja3),
            ja4: string(Col::Ja4),
            next_protocol: string(Col::NextProtocol).filter(|p| !p.is_empty()),
            duration,
            orig_bytes: number(Col::OrigBytes)?,
            resp_bytes: number(Col::RespBytes)?,
            orig_pkts: number(Col::OrigPkts)?,
            resp_pkts: number(Col::RespPkts)?,
        };
        let set_separator = self.set_separator;
        let vector = |col: Col| get(col).filter(|v| *v != empty);
        let answers = |qname: &str, dropped: &mut u64| match vector(Col::Answers) {
            Some(list) => zeek_answers(
                qname,
                list.split(set_separator),
                vector(Col::Ttls).into_iter().flat_map(|t| t.split(set_separator)).map(|t| t.parse().unwrap_or(0.0)),
                dropped,
            ),
            None => Vec::new(),
        };
        build_event(kind, fields, answers, ctx)
    }
}

/// The fields of a Zeek JSON record we read.
#[derive(Debug, Deserialize)]
struct ZeekJson<'a> {
    #[serde(rename = "_path", borrow)]
    path: Option<Text<'a>>,
    #[serde(borrow)]
    ts: Option<JsonTime<'a>>,
    #[serde(rename = "id.orig_h", borrow)]
    orig_h: Option<Text<'a>>,
    #[serde(rename = "id.orig_p")]
    orig_p: Option<u16>,
    #[serde(rename = "id.resp_h", borrow)]
    resp_h: Option<Text<'a>>,
    #[serde(rename = "id.resp_p")]
    resp_p: Option<u16>,
    #[serde(borrow)]
    proto: Option<Text<'a>>,
    trans_id: Option<u16>,
    #[serde(borrow)]
    query: Option<Text<'a>>,
    qtype: Option<u16>,
    #[serde(borrow)]
    qtype_name: Option<Text<'a>>,
    rcode: Option<u16>,
    #[serde(borrow)]
    rcode_name: Option<Text<'a>>,
    #[serde(borrow)]
    answers: Option<Vec<Text<'a>>>,
    #[serde(rename = "TTLs")]
    ttls: Option<Vec<f64>>,
    trans_depth: Option<IgnoredAny>,
    #[serde(borrow)]
    method: Option<Text<'a>>,
    #[serde(borrow)]
    host: Option<Text<'a>>,
    #[serde(borrow)]
    uri: Option<Text<'a>>,
    #[serde(borrow)]
    user_agent: Option<Text<'a>>,
    #[serde(borrow)]
    server_name: Option<Text<'a>>,
    cipher: Option<IgnoredAny>,
    #[serde(borrow)]
    ja3: Option<Text<'a>>,
    #[serde(borrow)]
    ja4: Option<Text<'a>>,
    #[serde(borrow)]
    next_protocol: Option<Text<'a>>,
    conn_state: Option<IgnoredAny>,
    duration: Option<f64>,
    orig_bytes: Option<u64>,
    resp_bytes: Option<u64>,
    orig_pkts: Option<u64>,
    resp_pkts: Option<u64>,
}

fn text_field<'a>(value: Option<Text<'a>>) -> Option<Cow<'a, str>> {
    value.map(|t| match t.0 {
        Cow::Borrowed(b) => unescape_zeek(b),
        Cow::Owned(o) => Cow::Owned(unescape_zeek(&o).into_owned()),
    })
}

pub(super) fn json_line(line: &[u8], ctx: &mut Context<'_>) -> Result<Parsed, LineError> {
    let record: ZeekJson<'_> = from_json_line(line)?;
    let kind = match record.path.as_ref() {
        Some(path) => ZeekKind::from_path(path.as_str()),
        None => infer_kind(|col| match col {
            Col::TransId => record.trans_id.is_some(),
            Col::Query => record.query.is_some(),
            Col::Qtype => record.qtype.is_some(),
            Col::QtypeName => record.qtype_name.is_some(),
            Col::Method => record.method.is_some(),
            Col::TransDepth => record.trans_depth.is_some(),
            Col::ServerName => record.server_name.is_some(),
            Col::Cipher => record.cipher.is_some(),
            Col::Ja3 => record.ja3.is_some(),
            Col::Ja4 => record.ja4.is_some(),
            Col::ConnState => record.conn_state.is_some(),
            Col::OrigBytes => record.orig_bytes.is_some(),
            Col::OrigPkts => record.orig_pkts.is_some(),
            _ => false,
        }),
    };
    let Some(kind) = kind else {
        return Ok(Parsed::Skipped);
    };
    let ts = match &record.ts {
        Some(ts) => Some(ts.wall_time().ok_or_else(|| {
            LineError::new(
                json_key_offset(line, "ts"),
                format!("`ts` is not epoch seconds or ISO 8601: `{}`", ts.describe()),
            )
        })?),
        None => None,
    };
    let address = |value: &Option<Text<'_>>, field: &str| -> Result<Option<IpAddr>, LineError> {
        value
            .as_ref()
            .map(|v| {
                parse_ip(v.as_str()).ok_or_else(|| {
                    LineError::new(
                        json_key_offset(line, field),
                        format!("`{field}` is not an IP address: `{}`", clip(v.as_str())),
                    )
                })
            })
            .transpose()
    };
    let qtype = match (record.qtype, &record.qtype_name) {
        (Some(code), _) => Some(RrType(code)),
        (None, Some(name)) => Some(rr_type(name.as_str()).ok_or_else(|| {
            LineError::new(
                json_key_offset(line, "qtype_name"),
                format!("`qtype_name` is not an RR type: `{}`", clip(name.as_str())),
            )
        })?),
        (None, None) => None,
    };
    let response_code = match (record.rcode, &record.rcode_name) {
        (Some(code), _) => Some(Rcode(code)),
        (None, Some(name)) => Some(rcode(name.as_str()).ok_or_else(|| {
            LineError::new(
                json_key_offset(line, "rcode_name"),
                format!("`rcode_name` is not an rcode: `{}`", clip(name.as_str())),
            )
        })?),
        (None, None) => None,
    };
    let fields = Fields {
        ts,
        orig_h: address(&record.orig_h, "id.orig_h")?,
        orig_p: record.orig_p,
        resp_h: address(&record.resp_h, "id.resp_h")?,
        resp_p: record.resp_p,
        proto: record.proto.as_ref().map(|p| proto(p.as_str())),
        trans_id: record.trans_id,
        query: text_field(record.query),
        qtype,
        rcode: response_code,
        method: text_field(record.method),
        host: text_field(record.host),
        uri: text_field(record.uri),
        user_agent: text_field(record.user_agent),
        server_name: text_field(record.server_name),
        ja3: text_field(record.ja3),
        ja4: text_field(record.ja4),
        next_protocol: text_field(record.next_protocol).filter(|p| !p.is_empty()),
        duration: record.duration.filter(|d| d.is_finite()),
        orig_bytes: record.orig_bytes,
        resp_bytes: record.resp_bytes,
        orig_pkts: record.orig_pkts,
        resp_pkts: record.resp_pkts,
    };
    let answer_data = record.answers;
    let ttls = record.ttls;
    let answers = |qname: &str, dropped: &mut u64| match &answer_data {
        Some(list) => zeek_answers(qname, list.iter().map(Text::as_str), ttls.iter().flatten().copied(), dropped),
        None => Vec::new(),
    };
    build_event(kind, fields, answers, ctx)
}
