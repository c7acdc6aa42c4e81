//! Pieces every log format needs: timestamps (RFC 3339 with or without a
//! colon in the offset, epoch seconds, BIND's `25-Nov-2026 10:11:12.345`),
//! names in presentation form, RR types and rcodes by name, addresses, and
//! borrowed-or-owned JSON strings.

use std::borrow::Cow;
use std::fmt;
use std::net::IpAddr;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::event::{Answer, AnswerData, Proto, Rcode, RrType, Timestamp};

/// Where `part` starts in `whole` (both from the same line); 0 when it is
/// not inside. Used to put byte offsets in errors.
pub(super) fn offset_in(whole: &[u8], part: &[u8]) -> usize {
    let start = whole.as_ptr() as usize;
    let at = part.as_ptr() as usize;
    if at >= start && at <= start + whole.len() { at - start } else { 0 }
}

/// Where `"key"` first appears in a JSON line (for errors about a value
/// that parsed as JSON but not as what the field holds); 0 if absent.
pub(super) fn json_key_offset(line: &[u8], key: &str) -> usize {
    let quoted = format!("\"{key}\"");
    line.windows(quoted.len()).position(|w| w == quoted.as_bytes()).unwrap_or(0)
}

/// A time as read: seconds and nanoseconds of the clock it was written in,
/// and its offset from UTC if the text gave one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct WallTime {
    pub secs: i64,
    pub nanos: u32,
    pub offset: Option<i32>,
}

impl WallTime {
    /// To UTC, using `default_offset` when the text gave none.
    pub fn to_timestamp(self, default_offset: i32) -> Timestamp {
        let offset = i64::from(self.offset.unwrap_or(default_offset));
        Timestamp::from_secs_nanos(self.secs.saturating_sub(offset), self.nanos)
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        _ => 0,
    }
}

/// A cursor over ASCII digits and punctuation.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Cursor { bytes, at: 0 }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn eat(&mut self, byte: u8) -> bool {
        if self.peek() == Some(byte) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    /// Exactly `n` digits.
    fn digits(&mut self, n: usize) -> Option<u32> {
        let mut value = 0u32;
        for _ in 0..n {
            let digit = self.peek().filter(u8::is_ascii_digit)?;
            value = value * 10 + u32::from(digit - b'0');
            self.at += 1;
        }
        Some(value)
    }

    /// `.123456…`: up to nine digits kept as nanoseconds, more ignored.
    fn fraction(&mut self) -> Option<u32> {
        if !self.eat(b'.') {
            return Some(0);
        }
        let mut nanos = 0u32;
        let mut count = 0;
        while let Some(digit) = self.peek().filter(u8::is_ascii_digit) {
            if count < 9 {
                nanos = nanos * 10 + u32::from(digit - b'0');
            }
            count += 1;
            self.at += 1;
        }
        if count == 0 {
            return None;
        }
        for _ in count..9 {
            nanos *= 10;
        }
        Some(nanos)
    }

    fn done(&self) -> bool {
        self.at >= self.bytes.len()
    }
}

fn time_of_day(cursor: &mut Cursor<'_>) -> Option<(u32, u32, u32, u32)> {
    let hour = cursor.digits(2).filter(|h| *h < 24)?;
    cursor.eat(b':').then_some(())?;
    let minute = cursor.digits(2).filter(|m| *m < 60)?;
    cursor.eat(b':').then_some(())?;
    // 60 is a leap second; it reads as the next second.
    let second = cursor.digits(2).filter(|s| *s <= 60)?;
    let nanos = cursor.fraction()?;
    Some((hour, minute, second, nanos))
}

fn wall_time(year: i64, month: u32, day: u32, clock: (u32, u32, u32, u32), offset: Option<i32>) -> Option<WallTime> {
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    let (hour, minute, second, nanos) = clock;
    let secs = days_from_civil(year, month, day) * 86_400
        + i64::from(hour) * 3_600
        + i64::from(minute) * 60
        + i64::from(second);
    Some(WallTime { secs, nanos, offset })
}

/// RFC 3339 / ISO 8601: `2009-11-24T21:27:09.534255+0100`, `…Z`, `…+01:00`,
/// `…+01`, or no offset at all (then `offset` is `None`); `T` or a space
/// between date and time.
pub(super) fn parse_rfc3339(text: &str) -> Option<WallTime> {
    let mut cursor = Cursor::new(text.as_bytes());
    let year = cursor.digits(4)?;
    cursor.eat(b'-').then_some(())?;
    let month = cursor.digits(2)?;
    cursor.eat(b'-').then_some(())?;
    let day = cursor.digits(2)?;
    if !(cursor.eat(b'T') || cursor.eat(b't') || cursor.eat(b' ')) {
        return None;
    }
    let clock = time_of_day(&mut cursor)?;
    let offset = match cursor.peek() {
        None => None,
        Some(b'Z' | b'z') => {
            cursor.at += 1;
            Some(0)
        }
        Some(sign @ (b'+' | b'-')) => {
            cursor.at += 1;
            let hours = cursor.digits(2).filter(|h| *h < 24)?;
            let minutes = if cursor.done() {
                0
            } else {
                cursor.eat(b':');
                cursor.digits(2).filter(|m| *m < 60)?
            };
            let seconds = i32::try_from(hours * 3_600 + minutes * 60).ok()?;
            Some(if sign == b'-' { -seconds } else { seconds })
        }
        Some(_) => return None,
    };
    if !cursor.done() {
        return None;
    }
    wall_time(i64::from(year), month, day, clock, offset)
}

/// Epoch seconds with an optional fraction: `1591367999.306059`.
pub(super) fn parse_epoch(text: &str) -> Option<WallTime> {
    let (whole, _) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() || whole.len() > 12 || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let secs: i64 = whole.parse().ok()?;
    let mut cursor = Cursor::new(text.as_bytes());
    cursor.at = whole.len();
    let nanos = cursor.fraction()?;
    cursor.done().then_some(WallTime { secs, nanos, offset: Some(0) })
}

/// Epoch seconds as a JSON number (Zeek JSON's default `ts`), kept to the
/// microsecond Zeek writes (an f64 holds no more near 1.6e9).
pub(super) fn epoch_from_f64(value: f64) -> Option<WallTime> {
    if !value.is_finite() || !(0.0..1e12).contains(&value) {
        return None;
    }
    let micros = (value * 1e6).round();
    // In range by the check above, so the conversion is exact enough.
    let micros = micros as i64;
    Some(WallTime {
        secs: micros.div_euclid(1_000_000),
        nanos: u32::try_from(micros.rem_euclid(1_000_000) * 1_000).ok()?,
        offset: Some(0),
    })
}

const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// BIND's `print-time yes` form: `25-Nov-2026` and `10:11:12.345`, local time.
pub(super) fn parse_bind_date(date: &str, time: &str) -> Option<WallTime> {
    let mut parts = date.splitn(3, '-');
    let day: u32 = parts.next().filter(|d| d.len() <= 2)?.parse().ok()?;
    let month_name = parts.next()?;
    let month = MONTHS.iter().position(|m| m.eq_ignore_ascii_case(month_name))?;
    let year = parts.next().filter(|y| y.len() == 4 && y.bytes().all(|b| b.is_ascii_digit()))?;
    let year: i64 = year.parse().ok()?;
    let mut cursor = Cursor::new(time.as_bytes());
    let clock = time_of_day(&mut cursor)?;
    if !cursor.done() {
        return None;
    }
    wall_time(year, u32::try_from(month + 1).ok()?, day, clock, None)
}

/// A timestamp field in any of the text forms logs use: RFC 3339 or epoch.
pub(super) fn parse_time_text(text: &str) -> Option<WallTime> {
    if text.len() > 10 && text.as_bytes().get(4) == Some(&b'-') { parse_rfc3339(text) } else { parse_epoch(text) }
}

/// The first 40 characters of a value, for error messages.
pub(super) fn clip(text: &str) -> String {
    match text.char_indices().nth(40) {
        Some((cut, _)) => format!("{}…", text.get(..cut).unwrap_or(text)),
        None => text.to_owned(),
    }
}

/// An IP address as logs write it: plain, in brackets, or with an IPv6 zone
/// (`fe80::1%eth0`, the zone dropped).
pub(super) fn parse_ip(text: &str) -> Option<IpAddr> {
    if let Some(v4) = dotted_quad(text.as_bytes()) {
        return Some(IpAddr::V4(v4));
    }
    if let Ok(address) = text.parse() {
        return Some(address);
    }
    let text = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')).unwrap_or(text);
    let text = text.split_once('%').map_or(text, |(address, _)| address);
    text.parse().ok()
}

/// The common case of [`parse_ip`] without the standard parser's generic
/// machinery (it was a twentieth of reading an EVE line): exactly four
/// decimal octets, no leading zeros, as `Ipv4Addr::from_str` accepts them.
/// Anything else is `None` and goes to the standard parser.
fn dotted_quad(text: &[u8]) -> Option<std::net::Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut parts = text.split(|&b| b == b'.');
    for octet in &mut octets {
        let part = parts.next()?;
        if part.is_empty() || part.len() > 3 || (part.len() > 1 && part.first() == Some(&b'0')) {
            return None;
        }
        let mut value = 0u16;
        for &digit in part {
            if !digit.is_ascii_digit() {
                return None;
            }
            value = value * 10 + u16::from(digit - b'0');
        }
        *octet = u8::try_from(value).ok()?;
    }
    parts.next().is_none().then_some(std::net::Ipv4Addr::from(octets))
}

pub(super) fn proto(text: &str) -> Proto {
    if text.eq_ignore_ascii_case("tcp") || text == "6" {
        Proto::Tcp
    } else if text.eq_ignore_ascii_case("udp") || text == "17" {
        Proto::Udp
    } else if text.eq_ignore_ascii_case("icmp")
        || text.eq_ignore_ascii_case("ipv6-icmp")
        || text.eq_ignore_ascii_case("icmpv6")
        || text == "1"
        || text == "58"
    {
        Proto::Icmp
    } else {
        Proto::Other
    }
}

/// Mnemonics the event model does not print but logs do (IANA registry).
const MORE_RR_TYPES: &[(&str, u16)] = &[
    ("MD", 3),
    ("MF", 4),
    ("MB", 7),
    ("MG", 8),
    ("MR", 9),
    ("WKS", 11),
    ("MINFO", 14),
    ("RP", 17),
    ("AFSDB", 18),
    ("X25", 19),
    ("ISDN", 20),
    ("RT", 21),
    ("NSAP", 22),
    ("NSAP-PTR", 23),
    ("SIG", 24),
    ("KEY", 25),
    ("PX", 26),
    ("GPOS", 27),
    ("NXT", 30),
    ("KX", 36),
    ("CERT", 37),
    ("A6", 38),
    ("APL", 42),
    ("SSHFP", 44),
    ("IPSECKEY", 45),
    ("DHCID", 49),
    ("NSEC3PARAM", 51),
    ("SMIMEA", 53),
    ("HIP", 55),
    ("CDS", 59),
    ("CDNSKEY", 60),
    ("OPENPGPKEY", 61),
    ("CSYNC", 62),
    ("ZONEMD", 63),
    ("EUI48", 108),
    ("EUI64", 109),
    ("TKEY", 249),
    ("TSIG", 250),
    ("IXFR", 251),
    ("MAILB", 253),
    ("MAILA", 254),
    ("*", 255),
    ("URI", 256),
    ("TA", 32768),
    ("DLV", 32769),
];

/// An RR type by mnemonic, `TYPEn`, a bare number (EVE for unknown types)
/// or Zeek's `query-n`.
pub(super) fn rr_type(text: &str) -> Option<RrType> {
    if let Some(t) = RrType::from_name(text) {
        return Some(t);
    }
    if let Some((_, code)) = MORE_RR_TYPES.iter().find(|(name, _)| name.eq_ignore_ascii_case(text)) {
        return Some(RrType(*code));
    }
    let number = text.strip_prefix("query-").unwrap_or(text);
    number.parse().ok().map(RrType)
}

/// An rcode by mnemonic, `RCODEn`, a bare number or Zeek's `rcode-n`.
pub(super) fn rcode(text: &str) -> Option<Rcode> {
    if let Some(r) = Rcode::from_name(text) {
        return Some(r);
    }
    match text {
        "BADSIG" => return Some(Rcode(16)),
        "BADKEY" => return Some(Rcode(17)),
        "BADTIME" => return Some(Rcode(18)),
        "BADCOOKIE" => return Some(Rcode(23)),
        _ => {}
    }
    let number = text.strip_prefix("rcode-").unwrap_or(text);
    number.parse().ok().filter(|n| *n < 4096).map(Rcode)
}

fn is_plain_name_byte(byte: u8) -> bool {
    (0x21..=0x7e).contains(&byte) && byte != b'\\'
}

fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

fn push_decimal_escape(out: &mut String, byte: u8) {
    out.push('\\');
    out.push(char::from(b'0' + byte / 100));
    out.push(char::from(b'0' + byte / 10 % 10));
    out.push(char::from(b'0' + byte % 10));
}

/// A DNS name in the event model's presentation form: no trailing dot (the
/// root stays `.`), Zeek/Suricata `\xHH` escapes decoded, BIND/Unbound
/// `\DDD` and `\.` escapes kept, other non-printable bytes as `\DDD`.
pub(super) fn presentation_name(raw: &str) -> String {
    let name = if raw.len() > 1 && !raw.ends_with("\\.") { raw.strip_suffix('.').unwrap_or(raw) } else { raw };
    if name.bytes().all(is_plain_name_byte) {
        return name.to_owned();
    }
    let bytes = name.as_bytes();
    let mut out = String::with_capacity(name.len() + 8);
    let mut at = 0;
    while let Some(&byte) = bytes.get(at) {
        if byte == b'\\' {
            let next = bytes.get(at + 1).copied();
            if next == Some(b'x')
                && let (Some(high), Some(low)) =
                    (bytes.get(at + 2).copied().and_then(hex_value), bytes.get(at + 3).copied().and_then(hex_value))
            {
                let decoded = high * 16 + low;
                if is_plain_name_byte(decoded) {
                    out.push(char::from(decoded));
                } else {
                    push_decimal_escape(&mut out, decoded);
                }
                at += 4;
                continue;
            }
            if let Some(escaped) = next.filter(|b| (0x21..=0x7e).contains(b)) {
                // Already presentation form (`\DDD` starts with a digit, `\.` and `\\` are kept).
                out.push('\\');
                out.push(char::from(escaped));
                at += 2;
                continue;
            }
            push_decimal_escape(&mut out, byte);
        } else if is_plain_name_byte(byte) {
            out.push(char::from(byte));
        } else {
            push_decimal_escape(&mut out, byte);
        }
        at += 1;
    }
    out
}

/// Zeek's `\xHH` escapes in a string field decoded (lossily to UTF-8).
pub(super) fn unescape_zeek(text: &str) -> Cow<'_, str> {
    if !text.contains("\\x") {
        return Cow::Borrowed(text);
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while let Some(&byte) = bytes.get(at) {
        if byte == b'\\'
            && bytes.get(at + 1) == Some(&b'x')
            && let (Some(high), Some(low)) =
                (bytes.get(at + 2).copied().and_then(hex_value), bytes.get(at + 3).copied().and_then(hex_value))
        {
            out.push(high * 16 + low);
            at += 4;
            continue;
        }
        out.push(byte);
        at += 1;
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

/// Answer data typed by its RR type: addresses for A/AAAA (text if they do
/// not parse), names for CNAME/NS/PTR/DNAME, text otherwise.
pub(super) fn typed_answer(name: String, rtype: RrType, ttl: u32, data: &str) -> Answer {
    let data = match rtype {
        RrType::A | RrType::AAAA => match parse_ip(data) {
            Some(address) => AnswerData::Address(address),
            None => AnswerData::Text(data.to_owned()),
        },
        RrType::CNAME | RrType::NS | RrType::PTR | RrType::DNAME => AnswerData::Name(presentation_name(data)),
        _ => AnswerData::Text(data.to_owned()),
    };
    Answer { name, rtype, data, ttl }
}

/// A JSON string borrowed from the line when it has no escapes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Text<'a>(pub Cow<'a, str>);

impl<'a> Text<'a> {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

struct TextVisitor<'a>(std::marker::PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for TextVisitor<'a> {
    type Value = Text<'a>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E: de::Error>(self, value: &'de str) -> Result<Self::Value, E> {
        Ok(Text(Cow::Borrowed(value)))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
        Ok(Text(Cow::Owned(value.to_owned())))
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<Self::Value, E> {
        Ok(Text(Cow::Owned(value)))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(TextVisitor(std::marker::PhantomData))
    }
}

/// A JSON value kept when it is a string and skipped otherwise (EVE's
/// `grouped` answers are strings for most types, objects for SRV).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct MaybeText<'a>(pub Option<Cow<'a, str>>);

struct MaybeTextVisitor<'a>(std::marker::PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for MaybeTextVisitor<'a> {
    type Value = MaybeText<'a>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_borrowed_str<E: de::Error>(self, value: &'de str) -> Result<Self::Value, E> {
        Ok(MaybeText(Some(Cow::Borrowed(value))))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
        Ok(MaybeText(Some(Cow::Owned(value.to_owned()))))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(MaybeText(None))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(MaybeText(None))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(MaybeText(None))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(MaybeText(None))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(MaybeText(None))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(MaybeText(None))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(MaybeText(None))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for MaybeText<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(MaybeTextVisitor(std::marker::PhantomData))
    }
}

/// A time that JSON logs write either as epoch seconds (a number) or as
/// text (Zeek's `json_timestamps` ISO 8601, EVE's RFC 3339).
#[derive(Debug, Clone, PartialEq)]
pub(super) enum JsonTime<'a> {
    Epoch(f64),
    Text(Cow<'a, str>),
}

impl JsonTime<'_> {
    pub fn wall_time(&self) -> Option<WallTime> {
        match self {
            JsonTime::Epoch(value) => epoch_from_f64(*value),
            JsonTime::Text(text) => parse_time_text(text),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            JsonTime::Epoch(value) => value.to_string(),
            JsonTime::Text(text) => clip(text),
        }
    }
}

struct JsonTimeVisitor<'a>(std::marker::PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for JsonTimeVisitor<'a> {
    type Value = JsonTime<'a>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("epoch seconds or an ISO 8601 time")
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Self::Value, E> {
        Ok(JsonTime::Epoch(value))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Self::Value, E> {
        // Exact for any epoch second we accept.
        Ok(JsonTime::Epoch(value as f64))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Self::Value, E> {
        Ok(JsonTime::Epoch(value as f64))
    }

    fn visit_borrowed_str<E: de::Error>(self, value: &'de str) -> Result<Self::Value, E> {
        Ok(JsonTime::Text(Cow::Borrowed(value)))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
        Ok(JsonTime::Text(Cow::Owned(value.to_owned())))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for JsonTime<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(JsonTimeVisitor(std::marker::PhantomData))
    }
}

/// Decodes a JSON line into `T`, and on failure decodes it again to name the
/// field that failed (the second pass only runs for bad lines).
pub(super) fn from_json_line<'a, T: Deserialize<'a>>(line: &'a [u8]) -> Result<T, super::LineError> {
    // serde would also take a JSON array for a struct; a log record is an object.
    let start = line.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(0);
    if line.get(start) != Some(&b'{') {
        return Err(super::LineError::new(start, "not a JSON object (a record starts with `{`)"));
    }
    // One UTF-8 check of the whole line is cheaper than serde_json's check of
    // every string it borrows from bytes.
    let text = std::str::from_utf8(line)
        .map_err(|e| super::LineError::new(e.valid_up_to(), "not UTF-8 (JSON text is UTF-8)"))?;
    match serde_json::from_str::<T>(text) {
        Ok(value) => Ok(value),
        Err(first) => {
            let offset = column_offset(&first, line.len());
            let mut deserializer = serde_json::Deserializer::from_str(text);
            let (path, inner) = match serde_path_to_error::deserialize::<_, T>(&mut deserializer) {
                Err(err) => (err.path().to_string(), err.into_inner()),
                Ok(_) => (String::from("."), first),
            };
            let message = inner.to_string();
            let message = message.split_once(" at line ").map_or(message.as_str(), |(m, _)| m);
            let reason =
                if path == "." { format!("not valid JSON: {message}") } else { format!("`{path}`: {message}") };
            Err(super::LineError::new(offset, reason))
        }
    }
}

/// serde_json counts columns from 1 and reports the last byte read; a line
/// that ends too soon is wrong at its end.
fn column_offset(err: &serde_json::Error, len: usize) -> usize {
    if err.is_eof() { len } else { err.column().saturating_sub(1).min(len) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotted_quads_are_what_the_standard_parser_says() {
        let mut cases: Vec<String> = [
            "0.0.0.0",
            "255.255.255.255",
            "256.1.1.1",
            "01.2.3.4",
            "1.2.3",
            "1.2.3.4.5",
            "1..3.4",
            "1.2.3.4 ",
            "+1.2.3.4",
            "1.2.3.-4",
            "1.2.3.1000",
            "0.00.0.0",
            "::1",
            "",
            ".",
            "1.2.3.4.",
            "１.2.3.4",
        ]
        .into_iter()
        .map(String::from)
        .collect();
        // Every octet value and shape once, in every position.
        for n in 0..1000u32 {
            for at in 0..4 {
                let mut parts = ["7".to_owned(), "8".to_owned(), "9".to_owned(), "10".to_owned()];
                parts[at] = n.to_string();
                cases.push(parts.join("."));
                parts[at] = format!("0{n}");
                cases.push(parts.join("."));
            }
        }
        for case in cases {
            let ours = dotted_quad(case.as_bytes());
            let std = case.parse::<std::net::Ipv4Addr>().ok();
            assert!(ours == std || (ours.is_none() && std.is_some()), "{case:?}: {ours:?} vs {std:?}");
            assert_eq!(parse_ip(&case), case.parse::<IpAddr>().ok(), "{case:?}");
        }
    }

    fn utc(text: &str) -> String {
        parse_rfc3339(text).unwrap().to_timestamp(0).to_string()
    }

    #[test]
    fn rfc3339_offsets_with_and_without_colon() {
        assert_eq!(utc("2009-11-24T21:27:09.534255+0100"), "2009-11-24T20:27:09.534255Z");
        assert_eq!(utc("2009-11-24T21:27:09.534255+01:00"), "2009-11-24T20:27:09.534255Z");
        assert_eq!(utc("2024-12-26T18:11:45.041544-0300"), "2024-12-26T21:11:45.041544Z");
        assert_eq!(utc("2020-09-16T14:01:26.194646Z"), "2020-09-16T14:01:26.194646Z");
        assert_eq!(utc("2000-02-29 23:59:60"), "2000-03-01T00:00:00Z");
        assert_eq!(parse_rfc3339("2009-11-24T21:27:09").unwrap().offset, None);
        for bad in [
            "2009-13-24T21:27:09Z",
            "2023-02-29T00:00:00Z",
            "2009-11-24T24:00:00Z",
            "2009-11-24T21:27:09.Z",
            "2009-11-24",
            "2009-11-24T21:27:09+2",
            "x",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn epoch_text_and_numbers() {
        let t = parse_epoch("1591367999.306059").unwrap().to_timestamp(0);
        assert_eq!(t.to_string(), "2020-06-05T14:39:59.306059Z");
        assert_eq!(epoch_from_f64(1591367999.306059).unwrap().to_timestamp(0), t);
        assert_eq!(parse_epoch("1700000000").unwrap().secs, 1_700_000_000);
        for bad in ["", ".5", "17e9", "1.", "-5", "1234567890123"] {
            assert_eq!(parse_epoch(bad), None, "{bad}");
        }
        assert_eq!(epoch_from_f64(f64::NAN), None);
    }

    #[test]
    fn bind_dates_are_local_time() {
        let t = parse_bind_date("25-Nov-2026", "15:59:59.359").unwrap();
        assert_eq!(t.to_timestamp(0).to_string(), "2026-11-25T15:59:59.359Z");
        assert_eq!(t.to_timestamp(8 * 3600).to_string(), "2026-11-25T07:59:59.359Z");
        assert_eq!(parse_bind_date("31-Feb-2026", "00:00:00"), None);
        assert_eq!(parse_bind_date("25-Foo-2026", "00:00:00"), None);
    }

    #[test]
    fn names_take_presentation_form() {
        assert_eq!(presentation_name("www.example.test."), "www.example.test");
        assert_eq!(presentation_name("."), ".");
        assert_eq!(presentation_name("a\\x09b.example"), "a\\009b.example");
        assert_eq!(presentation_name("a\\x41.example"), "aA.example");
        assert_eq!(presentation_name("a\\032b.example."), "a\\032b.example");
        assert_eq!(presentation_name("a\\.b.example"), "a\\.b.example");
        assert_eq!(presentation_name("a b"), "a\\032b");
        assert_eq!(presentation_name("é"), "\\195\\169");
        assert_eq!(presentation_name("trailing\\"), "trailing\\092");
    }

    #[test]
    fn types_and_rcodes_by_any_name() {
        assert_eq!(rr_type("AAAA"), Some(RrType::AAAA));
        assert_eq!(rr_type("SSHFP"), Some(RrType(44)));
        assert_eq!(rr_type("65"), Some(RrType::HTTPS));
        assert_eq!(rr_type("query-99"), Some(RrType(99)));
        assert_eq!(rr_type("*"), Some(RrType::ANY));
        assert_eq!(rr_type("BOGUS"), None);
        assert_eq!(rcode("NXDOMAIN"), Some(Rcode::NXDOMAIN));
        assert_eq!(rcode("rcode-23"), Some(Rcode(23)));
        assert_eq!(rcode("70000"), None);
    }
}
