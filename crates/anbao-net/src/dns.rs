//! DNS messages (RFC 1035 and friends): header, first question, answer
//! section, EDNS OPT (extended rcode, client subnet). Compression pointers
//! followed with loop and length limits.
//!
//! Decisions (each one a place where decoders differ):
//! - The header and the first question must parse, or the message is an
//!   error. Everything after them is best effort: [`parse_message_detailed`]
//!   returns the answers read before the first record that does not parse,
//!   and names that problem in [`Parsed::damage`]; [`parse_message`] drops
//!   the note. So a query always yields its qname and qtype.
//! - Compression pointers must point strictly below every offset already
//!   read for the name (RFC 1035 says "a prior occurrence"); that alone rules
//!   out loops. At most [`MAX_POINTER_HOPS`] pointers per name, and the
//!   uncompressed name is at most 255 bytes on the wire.
//! - Names print as `event.rs` documents: labels joined by `.`, case kept,
//!   bytes outside `!`..`~` and `.`/`\` inside a label as `\DDD` (so a space
//!   is `\032`), the root as `.`.
//! - Answer data that does not fit its type (an A record of 3 bytes, a
//!   CNAME whose name overruns its RDATA) is shown in the RFC 3597 form
//!   `\# LEN HEX` (hex in upper case, as RFC 3597 and dig write it), as are
//!   types rendered nowhere below.
//! - Any opcode reads the same way: an UPDATE's (RFC 2136) zone is its
//!   question and its prerequisites its answers, as they share the layout.
//! - Only the first OPT record counts (RFC 6891 allows one); the rest of the
//!   additional section is skipped.
//! - At most [`MAX_ANSWERS`] answers are kept; more is reported as damage.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ops::Range;

use crate::event::{Answer, AnswerData, ClientSubnet, Dns, Qr, Rcode, RrType};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("DNS message: {what} at byte {offset}")]
pub struct DnsError {
    pub offset: usize,
    pub what: &'static str,
}

/// Answers kept per message: a 64 KiB response of compressed records could
/// otherwise expand to megabytes of names.
pub const MAX_ANSWERS: usize = 128;

/// Compression pointers followed per name. A legitimate name has at most
/// 127 labels, and a pointer can only end a run of labels.
pub const MAX_POINTER_HOPS: usize = 128;

/// Largest name on the wire, length octets and root label included
/// (RFC 1035 §2.3.4).
const MAX_NAME_WIRE: usize = 255;

/// Room for the longest printed name. With `n` labels the wire limit leaves
/// at most `255 - n` label bytes, each printed as at most four characters
/// (`\DDD`), plus `n - 1` dots: under 1,016.
const MAX_NAME_PRINTED: usize = 1024;

/// A printed name built on the stack, so a name costs one allocation of
/// its exact length (or none, when it is appended to a string) instead of
/// a string grown label by label.
struct NameBuf {
    bytes: [u8; MAX_NAME_PRINTED],
    len: usize,
}

impl NameBuf {
    fn new() -> Self {
        NameBuf { bytes: [0; MAX_NAME_PRINTED], len: 0 }
    }

    fn clear(&mut self) {
        self.len = 0;
    }

    fn push(&mut self, byte: u8) {
        // The wire limit keeps every name within the buffer (see
        // MAX_NAME_PRINTED); a byte past it could only be dropped.
        if let Some(slot) = self.bytes.get_mut(self.len) {
            *slot = byte;
            self.len += 1;
        }
    }

    fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or_default()
    }

    fn as_str(&self) -> &str {
        // Only printable ASCII is ever pushed.
        self.bytes.get(..self.len).and_then(|b| std::str::from_utf8(b).ok()).unwrap_or_default()
    }
}

const HEADER_LEN: usize = 12;
const EDNS_CLIENT_SUBNET: u16 = 8;

/// A decoded message and what could not be decoded after its question.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub dns: Dns,
    /// The first problem after the question (truncated or malformed answer,
    /// authority or additional record, a malformed client subnet option, too
    /// many answers). `dns.answers` holds the records read before it.
    pub damage: Option<DnsError>,
}

/// Decodes one DNS message (the UDP payload, or a TCP message without its
/// two-byte length). Messages without a question are an error ("no question").
/// Damage after the question is dropped silently; see [`parse_message_detailed`].
pub fn parse_message(bytes: &[u8]) -> Result<Dns, DnsError> {
    parse_message_detailed(bytes).map(|parsed| parsed.dns)
}

/// Like [`parse_message`], but says what after the question could not be
/// decoded, so callers can count it.
pub fn parse_message_detailed(bytes: &[u8]) -> Result<Parsed, DnsError> {
    let header = bytes.get(..HEADER_LEN).ok_or(DnsError { offset: bytes.len(), what: "header truncated" })?;
    let id = be16(header, 0);
    let flags = be16(header, 2);
    let question_count = be16(header, 4);
    let answer_count = be16(header, 6);
    let authority_count = be16(header, 8);
    let additional_count = be16(header, 10);
    if question_count == 0 {
        return Err(DnsError { offset: 4, what: "no question" });
    }

    let mut name = NameBuf::new();
    let after_name = read_name(bytes, HEADER_LEN, Some(&mut name))?;
    let qname = name.as_str().to_owned();
    let qtype_bytes =
        bytes.get(after_name..after_name + 4).ok_or(DnsError { offset: after_name, what: "question truncated" })?;
    let qtype = RrType(be16(qtype_bytes, 0));

    let mut dns = Dns {
        id,
        qr: if flags & 0x8000 != 0 { Qr::Response } else { Qr::Query },
        qname,
        qtype,
        rcode: Rcode(flags & 0x000f),
        answers: Vec::new(),
        client_subnet: None,
    };
    let counts = SectionCounts {
        questions: question_count,
        answers: answer_count,
        authority: authority_count,
        additional: additional_count,
    };
    let damage = read_sections(bytes, after_name + 4, counts, &mut dns, &mut name).err();
    Ok(Parsed { dns, damage })
}

struct SectionCounts {
    questions: u16,
    answers: u16,
    authority: u16,
    additional: u16,
}

/// Everything after the first question: further questions (skipped),
/// answers, authority (skipped), additional (OPT only).
fn read_sections(
    msg: &[u8],
    mut pos: usize,
    counts: SectionCounts,
    dns: &mut Dns,
    name: &mut NameBuf,
) -> Result<(), DnsError> {
    for _ in 1..counts.questions {
        let end = read_name(msg, pos, None)?;
        pos = end + 4;
        if pos > msg.len() {
            return Err(DnsError { offset: end, what: "question truncated" });
        }
    }

    // Room for the answers the message can hold (a record is at least 11
    // bytes), so the list is allocated once and never for a query.
    let fit = msg.len().saturating_sub(pos) / 11;
    dns.answers.reserve_exact(usize::from(counts.answers).min(MAX_ANSWERS).min(fit));
    for index in 0..usize::from(counts.answers) {
        if index == MAX_ANSWERS {
            return Err(DnsError { offset: pos, what: "more answers than the limit" });
        }
        name.clear();
        let record = read_record(msg, pos, Some(&mut *name))?;
        // Most answers are owned by the question's name (a pointer to it).
        let owner = if name.as_bytes() == dns.qname.as_bytes() { dns.qname.clone() } else { name.as_str().to_owned() };
        let data = render_rdata(msg, record.rtype, record.rdata.clone(), name);
        dns.answers.push(Answer { name: owner, rtype: RrType(record.rtype), data, ttl: record.ttl });
        pos = record.rdata.end;
    }

    for _ in 0..counts.authority {
        pos = read_record(msg, pos, None)?.rdata.end;
    }

    let mut seen_opt = false;
    for _ in 0..counts.additional {
        let record = read_record(msg, pos, None)?;
        pos = record.rdata.end;
        if record.rtype != RrType::OPT.0 || seen_opt {
            continue;
        }
        seen_opt = true;
        // OPT's TTL: extended rcode (upper 8 bits of 12), version, flags.
        let extended = u16::try_from(record.ttl >> 24).unwrap_or(0);
        dns.rcode = Rcode(dns.rcode.0 | (extended << 4));
        dns.client_subnet = read_client_subnet(msg, record.rdata)?;
    }
    Ok(())
}

struct Record {
    rtype: u16,
    ttl: u32,
    rdata: Range<usize>,
}

fn read_record(msg: &[u8], pos: usize, name: Option<&mut NameBuf>) -> Result<Record, DnsError> {
    let after_name = read_name(msg, pos, name)?;
    let fixed =
        msg.get(after_name..after_name + 10).ok_or(DnsError { offset: after_name, what: "record truncated" })?;
    let rtype = be16(fixed, 0);
    let ttl = be32(fixed, 4);
    let rdata_len = usize::from(be16(fixed, 8));
    let start = after_name + 10;
    let rdata = start..start + rdata_len;
    if rdata.end > msg.len() {
        return Err(DnsError { offset: start, what: "record data runs past the end" });
    }
    Ok(Record { rtype, ttl, rdata })
}

/// The EDNS Client Subnet option (RFC 7871) among the OPT record's options,
/// if there is one.
fn read_client_subnet(msg: &[u8], rdata: Range<usize>) -> Result<Option<ClientSubnet>, DnsError> {
    let mut pos = rdata.start;
    while pos < rdata.end {
        let option = msg
            .get(pos..pos + 4)
            .filter(|_| pos + 4 <= rdata.end)
            .ok_or(DnsError { offset: pos, what: "EDNS option truncated" })?;
        let code = be16(option, 0);
        let len = usize::from(be16(option, 2));
        let data_start = pos + 4;
        let data = msg
            .get(data_start..data_start + len)
            .filter(|_| data_start + len <= rdata.end)
            .ok_or(DnsError { offset: data_start, what: "EDNS option runs past its record" })?;
        if code == EDNS_CLIENT_SUBNET {
            return parse_client_subnet(data)
                .map(Some)
                .ok_or(DnsError { offset: data_start, what: "malformed client subnet option" });
        }
        pos = data_start + len;
    }
    Ok(None)
}

/// Family, source and scope prefix, then the address cut to the source
/// prefix's bytes; padded back with zeros here.
fn parse_client_subnet(data: &[u8]) -> Option<ClientSubnet> {
    let family = be16(data.get(..2)?, 0);
    let source_prefix = *data.get(2)?;
    let scope_prefix = *data.get(3)?;
    let address = data.get(4..)?;
    let address = match family {
        1 => {
            let mut octets = [0u8; 4];
            octets.get_mut(..address.len())?.copy_from_slice(address);
            IpAddr::V4(Ipv4Addr::from(octets))
        }
        2 => {
            let mut octets = [0u8; 16];
            octets.get_mut(..address.len())?.copy_from_slice(address);
            IpAddr::V6(Ipv6Addr::from(octets))
        }
        _ => return None,
    };
    let max_prefix = if address.is_ipv4() { 32 } else { 128 };
    if source_prefix > max_prefix || scope_prefix > max_prefix {
        return None;
    }
    Some(ClientSubnet { address, source_prefix, scope_prefix })
}

/// Reads the name at `start`. With `out`, follows compression pointers and
/// appends the printed name; without, only skips it. Returns the offset
/// just after the name where it started (after its first pointer, if any).
fn read_name(msg: &[u8], start: usize, mut out: Option<&mut NameBuf>) -> Result<usize, DnsError> {
    let mut pos = start;
    // Every pointer must go strictly below this: no loops by construction.
    let mut floor = start;
    let mut resume_at = None;
    let mut hops = 0usize;
    let mut wire_len = 0usize;
    let mut labels = 0usize;
    loop {
        let len_byte = *msg.get(pos).ok_or(DnsError { offset: pos, what: "name runs past the end" })?;
        match len_byte >> 6 {
            0b00 => {
                let len = usize::from(len_byte);
                wire_len += 1 + len;
                if wire_len > MAX_NAME_WIRE {
                    return Err(DnsError { offset: pos, what: "name longer than 255 bytes" });
                }
                if len == 0 {
                    if let Some(out) = out
                        && labels == 0
                    {
                        out.push(b'.');
                    }
                    return Ok(resume_at.unwrap_or(pos + 1));
                }
                let label =
                    msg.get(pos + 1..pos + 1 + len).ok_or(DnsError { offset: pos, what: "label runs past the end" })?;
                if let Some(out) = out.as_deref_mut() {
                    if labels > 0 {
                        out.push(b'.');
                    }
                    push_label(out, label);
                }
                labels += 1;
                pos += 1 + len;
            }
            0b11 => {
                let low = *msg.get(pos + 1).ok_or(DnsError { offset: pos, what: "compression pointer truncated" })?;
                if out.is_none() {
                    return Ok(pos + 2);
                }
                let target = usize::from(len_byte & 0x3f) << 8 | usize::from(low);
                if target >= floor {
                    return Err(DnsError { offset: pos, what: "compression pointer does not point backwards" });
                }
                hops += 1;
                if hops > MAX_POINTER_HOPS {
                    return Err(DnsError { offset: pos, what: "too many compression pointers" });
                }
                resume_at.get_or_insert(pos + 2);
                floor = target;
                pos = target;
            }
            _ => return Err(DnsError { offset: pos, what: "unsupported label type" }),
        }
    }
}

/// One label in master-file style: `.` and `\` and bytes outside `!`..`~`
/// as `\DDD`.
fn push_label(out: &mut NameBuf, label: &[u8]) {
    let plain = |byte: &u8| byte.is_ascii_graphic() && *byte != b'.' && *byte != b'\\';
    // Most labels need no escape: one copy.
    if label.iter().all(plain)
        && let Some(to) = out.bytes.get_mut(out.len..out.len + label.len())
    {
        to.copy_from_slice(label);
        out.len += label.len();
        return;
    }
    for &byte in label {
        if byte.is_ascii_graphic() && byte != b'.' && byte != b'\\' {
            out.push(byte);
        } else {
            out.push(b'\\');
            out.push(b'0' + byte / 100);
            out.push(b'0' + byte / 10 % 10);
            out.push(b'0' + byte % 10);
        }
    }
}

fn push_decimal_escape(out: &mut String, byte: u8) {
    out.push('\\');
    out.push(char::from(b'0' + byte / 100));
    out.push(char::from(b'0' + byte / 10 % 10));
    out.push(char::from(b'0' + byte % 10));
}

/// Answer data in presentation form; never fails (see the module doc).
/// `name` is scratch space for the names inside the data.
fn render_rdata(msg: &[u8], rtype: u16, rdata: Range<usize>, name: &mut NameBuf) -> AnswerData {
    let bytes = msg.get(rdata.clone()).unwrap_or_default();
    let rendered = match RrType(rtype) {
        RrType::A => <[u8; 4]>::try_from(bytes).ok().map(|o| AnswerData::Address(IpAddr::V4(Ipv4Addr::from(o)))),
        RrType::AAAA => <[u8; 16]>::try_from(bytes).ok().map(|o| AnswerData::Address(IpAddr::V6(Ipv6Addr::from(o)))),
        RrType::CNAME | RrType::NS | RrType::PTR | RrType::DNAME => {
            read_name_exactly(msg, rdata.start, rdata.end, name).map(|()| AnswerData::Name(name.as_str().to_owned()))
        }
        RrType::MX => render_mx(msg, rdata.clone(), name).map(AnswerData::Text),
        RrType::SRV => render_srv(msg, rdata.clone(), name).map(AnswerData::Text),
        RrType::SOA => render_soa(msg, rdata.clone(), name).map(AnswerData::Text),
        // TXT and SPF: character-strings; HINFO: two of them.
        RrType::TXT | RrType(99) | RrType(13) => render_strings(bytes).map(AnswerData::Text),
        RrType(257) => render_caa(bytes).map(AnswerData::Text),
        _ => None,
    };
    rendered.unwrap_or_else(|| AnswerData::Text(generic_rdata(bytes)))
}

/// Reads into `out` (cleared first) a name that must end exactly at `end`
/// (the end of its RDATA).
fn read_name_exactly(msg: &[u8], start: usize, end: usize, out: &mut NameBuf) -> Option<()> {
    out.clear();
    (read_name(msg, start, Some(&mut *out)).ok()? == end).then_some(())
}

fn render_mx(msg: &[u8], rdata: Range<usize>, name: &mut NameBuf) -> Option<String> {
    let preference = be16(msg.get(rdata.start..rdata.start + 2)?, 0);
    read_name_exactly(msg, rdata.start + 2, rdata.end, name)?;
    Some(format!("{preference} {}", name.as_str()))
}

fn render_srv(msg: &[u8], rdata: Range<usize>, name: &mut NameBuf) -> Option<String> {
    let fixed = msg.get(rdata.start..rdata.start + 6)?;
    read_name_exactly(msg, rdata.start + 6, rdata.end, name)?;
    Some(format!("{} {} {} {}", be16(fixed, 0), be16(fixed, 2), be16(fixed, 4), name.as_str()))
}

fn render_soa(msg: &[u8], rdata: Range<usize>, name: &mut NameBuf) -> Option<String> {
    name.clear();
    let after_mname = read_name(msg, rdata.start, Some(&mut *name)).ok()?;
    let mut text = String::with_capacity(name.len + 64);
    text.push_str(name.as_str());
    text.push(' ');
    name.clear();
    let after_rname = read_name(msg, after_mname, Some(&mut *name)).ok()?;
    text.push_str(name.as_str());
    if after_rname + 20 != rdata.end {
        return None;
    }
    let numbers = msg.get(after_rname..rdata.end)?;
    for index in 0..5 {
        let _ = write!(text, " {}", be32(numbers, index * 4));
    }
    Some(text)
}

/// Character-strings (RFC 1035 §3.3) as quoted strings separated by spaces;
/// `"` and `\` backslash-escaped, bytes outside ` `..`~` as `\DDD`.
fn render_strings(bytes: &[u8]) -> Option<String> {
    if bytes.is_empty() {
        return None;
    }
    let mut text = String::with_capacity(bytes.len() + 8);
    let mut rest = bytes;
    while let Some((&len, tail)) = rest.split_first() {
        let string = tail.get(..usize::from(len))?;
        if !text.is_empty() {
            text.push(' ');
        }
        push_quoted(&mut text, string);
        rest = tail.get(usize::from(len)..)?;
    }
    Some(text)
}

fn push_quoted(text: &mut String, string: &[u8]) {
    text.push('"');
    for &byte in string {
        match byte {
            b'"' | b'\\' => {
                text.push('\\');
                text.push(char::from(byte));
            }
            b' '..=b'~' => text.push(char::from(byte)),
            _ => push_decimal_escape(text, byte),
        }
    }
    text.push('"');
}

/// CAA (RFC 8659): `flags tag "value"`.
fn render_caa(bytes: &[u8]) -> Option<String> {
    let (&flags, rest) = bytes.split_first()?;
    let (&tag_len, rest) = rest.split_first()?;
    let tag = rest.get(..usize::from(tag_len))?;
    let value = rest.get(usize::from(tag_len)..)?;
    if tag.is_empty() || !tag.iter().all(u8::is_ascii_alphanumeric) {
        return None;
    }
    let mut text = format!("{flags} {} ", String::from_utf8_lossy(tag));
    push_quoted(&mut text, value);
    Some(text)
}

/// RFC 3597 §5: `\# LEN HEX`.
fn generic_rdata(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(8 + bytes.len() * 2);
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let _ = write!(text, "\\# {}", bytes.len());
    if !bytes.is_empty() {
        text.push(' ');
        for &byte in bytes {
            // Nibbles index a 16-entry table: never out of range.
            text.push(char::from(HEX.get(usize::from(byte >> 4)).copied().unwrap_or(b'0')));
            text.push(char::from(HEX.get(usize::from(byte & 0x0f)).copied().unwrap_or(b'0')));
        }
    }
    text
}

/// Big-endian u16 at `at`; callers have checked the length (0 otherwise).
fn be16(bytes: &[u8], at: usize) -> u16 {
    match bytes.get(at..at + 2) {
        Some(&[high, low]) => u16::from_be_bytes([high, low]),
        _ => 0,
    }
}

fn be32(bytes: &[u8], at: usize) -> u32 {
    match bytes.get(at..at + 4) {
        Some(&[a, b, c, d]) => u32::from_be_bytes([a, b, c, d]),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A response header with the given counts.
    fn header(id: u16, flags: u16, counts: [u16; 4]) -> Vec<u8> {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&id.to_be_bytes());
        bytes.extend_from_slice(&flags.to_be_bytes());
        for count in counts {
            bytes.extend_from_slice(&count.to_be_bytes());
        }
        bytes
    }

    fn name(labels: &[&[u8]]) -> Vec<u8> {
        let mut bytes = Vec::new();
        for label in labels {
            bytes.push(u8::try_from(label.len()).unwrap());
            bytes.extend_from_slice(label);
        }
        bytes.push(0);
        bytes
    }

    fn record(owner: &[u8], rtype: u16, ttl: u32, rdata: &[u8]) -> Vec<u8> {
        let mut bytes = owner.to_vec();
        bytes.extend_from_slice(&rtype.to_be_bytes());
        bytes.extend_from_slice(&1u16.to_be_bytes());
        bytes.extend_from_slice(&ttl.to_be_bytes());
        bytes.extend_from_slice(&u16::try_from(rdata.len()).unwrap().to_be_bytes());
        bytes.extend_from_slice(rdata);
        bytes
    }

    #[test]
    fn generic_rdata_is_rfc3597() {
        assert_eq!(generic_rdata(&[]), "\\# 0");
        assert_eq!(generic_rdata(&[0x0a, 0, 0, 1]), "\\# 4 0A000001");
    }

    #[test]
    fn labels_escape_dots_backslashes_and_unprintables() {
        let mut out = NameBuf::new();
        push_label(&mut out, b"a.b\\c d\x00\xff~!");
        assert_eq!(out.as_str(), "a\\046b\\092c\\032d\\000\\255~!");
    }

    #[test]
    fn the_longest_name_prints_whole_when_every_byte_is_escaped() {
        // 255 bytes on the wire: three 63-byte labels and one of 61.
        let (long, last) = (vec![0u8; 63], vec![0xffu8; 61]);
        let mut msg = header(1, 0, [1, 0, 0, 0]);
        msg.extend_from_slice(&name(&[&long, &long, &long, &last]));
        msg.extend_from_slice(&[0, 1, 0, 1]);
        let dns = parse_message(&msg).unwrap();
        let label = "\\000".repeat(63);
        assert_eq!(dns.qname, format!("{label}.{label}.{label}.{}", "\\255".repeat(61)));
        assert_eq!(dns.qname.len(), 4 * 250 + 3);
    }

    #[test]
    fn pointer_to_itself_is_refused() {
        let mut msg = header(1, 0, [1, 0, 0, 0]);
        msg.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1]);
        assert_eq!(
            parse_message(&msg),
            Err(DnsError { offset: 12, what: "compression pointer does not point backwards" })
        );
    }

    #[test]
    fn answer_names_follow_pointers_into_the_question() {
        let mut msg = header(0x1234, 0x8180, [1, 1, 0, 0]);
        msg.extend_from_slice(&name(&[b"www", b"Example", b"com"]));
        msg.extend_from_slice(&[0, 5, 0, 1]);
        // CNAME pointing at "Example.com" inside the question (offset 16).
        msg.extend_from_slice(&record(&[0xc0, 12], 5, 300, &[3, b'c', b'd', b'n', 0xc0, 16]));
        let dns = parse_message(&msg).unwrap();
        assert_eq!(dns.qname, "www.Example.com");
        assert_eq!(dns.answers.len(), 1);
        assert_eq!(dns.answers[0].name, "www.Example.com");
        assert_eq!(dns.answers[0].data, AnswerData::Name("cdn.Example.com".into()));
    }
}
