//! Indicator kinds and their normal forms: what [`normalize`] returns is what
//! the [`index`](crate::index) stores and what traffic is compared with.
//!
//! Every kind trims surrounding whitespace first; whitespace or control
//! characters inside a value make it invalid. Per kind:
//!
//! - Domain: trailing dot removed, UTS 46 mapping (lower-case) and punycode
//!   (`例子.测试` → `xn--fsqu00a.xn--0zwm56d`), then checked: labels of 1–63
//!   characters of `a-z 0-9 - _` (underscores occur in real DNS: `_dmarc`,
//!   SRV names), no label starting or ending with `-`, at most 253
//!   characters, and a last label that is not all digits (so `999.1.1.1` is
//!   neither an IP address nor a domain).
//! - Url: `http://` assumed when there is no `scheme://`; only `http`,
//!   `https`, `ftp`, `ws`, `wss`. Parsed the WHATWG way (scheme and host
//!   lower-cased, default port removed, dot segments resolved, IDN host to
//!   punycode, empty path → `/`), the host checked as a domain, IPv4-mapped
//!   IPv6 hosts written as IPv4, the fragment and an empty `?` dropped, and
//!   percent-encoding in path and query normalised: unreserved characters
//!   (`A-Z a-z 0-9 - . _ ~`) decoded, others upper-case hex, a `%` not
//!   followed by two hex digits written `%25`.
//! - Ipv4: dotted quad (no leading zeros). Ipv6: RFC 5952 text, brackets
//!   accepted, zone ids rejected; an IPv4-mapped address (`::ffff:1.2.3.4`)
//!   normalises to the IPv4 text, because that is what the traffic shows
//!   (so an IPv4 text is accepted as an Ipv6 value: normalising is
//!   idempotent for every kind).
//! - Cidr: `addr/len`. **Host bits must be zero**: `10.1.2.3/8` is invalid and
//!   the reason names `10.0.0.0/8`. A feed line with host bits set is
//!   ambiguous (the network, or one host?), so we ask rather than guess.
//!   IPv4-mapped IPv6 networks of length ≥ 96 become IPv4 networks.
//! - Md5, Ja3: 32 hex digits; Sha1: 40; Sha256: 64; CertSha256: 64, also
//!   accepted as colon-separated byte pairs (`AB:CD:…`). Lower-cased.
//! - Email: `local@domain`, the domain normalised as a Domain, the local part
//!   kept as written (it may be case-sensitive) but checked (1–64 characters,
//!   one `@`).
//! - Ja4: the FoxIO `a_b_c` form, `t13d1516h2_8daaf6152771_02713d6af862`:
//!   10 characters (protocol `t`/`q`/`d`, then letters and digits), then
//!   two groups of 12 hex digits; lower-cased. Raw (`_r`/`_ro`) forms are
//!   not accepted.
//! - AndroidPackage: Java package rules (`com.example.app`: two or more
//!   segments, each a letter then letters, digits or `_`), kept as written:
//!   package names are case-sensitive.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// What an indicator value is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IndicatorKind {
    Domain,
    Url,
    Ipv4,
    Ipv6,
    Cidr,
    Md5,
    Sha1,
    Sha256,
    Email,
    AndroidPackage,
    CertSha256,
    Ja3,
    Ja4,
}

impl IndicatorKind {
    /// Every kind, in declaration order.
    pub const ALL: [IndicatorKind; 13] = [
        IndicatorKind::Domain,
        IndicatorKind::Url,
        IndicatorKind::Ipv4,
        IndicatorKind::Ipv6,
        IndicatorKind::Cidr,
        IndicatorKind::Md5,
        IndicatorKind::Sha1,
        IndicatorKind::Sha256,
        IndicatorKind::Email,
        IndicatorKind::AndroidPackage,
        IndicatorKind::CertSha256,
        IndicatorKind::Ja3,
        IndicatorKind::Ja4,
    ];

    /// Stable lower-case name, for storage and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            IndicatorKind::Domain => "domain",
            IndicatorKind::Url => "url",
            IndicatorKind::Ipv4 => "ipv4",
            IndicatorKind::Ipv6 => "ipv6",
            IndicatorKind::Cidr => "cidr",
            IndicatorKind::Md5 => "md5",
            IndicatorKind::Sha1 => "sha1",
            IndicatorKind::Sha256 => "sha256",
            IndicatorKind::Email => "email",
            IndicatorKind::AndroidPackage => "android_package",
            IndicatorKind::CertSha256 => "cert_sha256",
            IndicatorKind::Ja3 => "ja3",
            IndicatorKind::Ja4 => "ja4",
        }
    }
}

impl std::str::FromStr for IndicatorKind {
    type Err = String;
    /// The [`IndicatorKind::as_str`] names.
    fn from_str(s: &str) -> Result<Self, String> {
        IndicatorKind::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| format!("unknown indicator kind {s:?}"))
    }
}

impl fmt::Display for IndicatorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A value that is not a valid indicator of its kind.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind} {value:?}: {reason}")]
#[non_exhaustive]
pub struct Invalid {
    pub kind: IndicatorKind,
    /// The value as given, cut to at most [`Invalid::MAX_VALUE_LEN`] bytes.
    pub value: String,
    pub reason: String,
}

impl Invalid {
    /// Longest `value` kept in an error.
    pub const MAX_VALUE_LEN: usize = 256;

    fn new(kind: IndicatorKind, value: &str, reason: impl Into<String>) -> Self {
        Invalid { kind, value: crate::record::clip(value, Self::MAX_VALUE_LEN), reason: reason.into() }
    }
}

/// Longest input looked at, for any kind (URLs are the long ones).
const MAX_INPUT_LEN: usize = 8192;

/// The normal form of `raw` as an indicator of `kind`; see the module doc.
pub fn normalize(kind: IndicatorKind, raw: &str) -> Result<String, Invalid> {
    let s = raw.trim();
    let res = if s.is_empty() {
        Err("empty".to_owned())
    } else if s.len() > MAX_INPUT_LEN {
        Err(format!("longer than {MAX_INPUT_LEN} bytes"))
    } else if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Err("contains whitespace or control characters".to_owned())
    } else {
        match kind {
            IndicatorKind::Domain => normalize_domain(s),
            IndicatorKind::Url => normalize_url(s),
            IndicatorKind::Ipv4 => normalize_ipv4(s),
            IndicatorKind::Ipv6 => normalize_ipv6(s),
            IndicatorKind::Cidr => normalize_cidr(s),
            IndicatorKind::Md5 | IndicatorKind::Ja3 => normalize_hex(s, 32),
            IndicatorKind::Sha1 => normalize_hex(s, 40),
            IndicatorKind::Sha256 => normalize_hex(s, 64),
            IndicatorKind::CertSha256 => normalize_cert_sha256(s),
            IndicatorKind::Email => normalize_email(s),
            IndicatorKind::AndroidPackage => normalize_android_package(s),
            IndicatorKind::Ja4 => normalize_ja4(s),
        }
    };
    res.map_err(|reason| Invalid::new(kind, raw, reason))
}

/// The kind of a value from a plain list, if it is a valid one (or, for
/// `address/length`, always Cidr, so the caller learns why it is invalid). Ambiguous
/// shapes get the common reading: 32 hex digits are an Md5 (never Ja3), 64 a
/// Sha256 (never CertSha256), `com.example.app` a Domain (never an
/// AndroidPackage), `evil.com/path` a Url.
pub fn detect_kind(raw: &str) -> Option<IndicatorKind> {
    let s = raw.trim();
    if s.is_empty() {
        return None;
    }
    let ok = |kind| normalize(kind, s).is_ok().then_some(kind);
    if s.contains("://") {
        return ok(IndicatorKind::Url);
    }
    if let Some((addr, len)) = s.split_once('/')
        && addr.parse::<IpAddr>().is_ok()
        && len.parse::<u8>().is_ok()
    {
        // `10.1.2.3/8` is a CIDR with host bits set (invalid, and the
        // reason says so), not the URL `http://10.1.2.3/8`.
        return Some(IndicatorKind::Cidr);
    }
    if s.contains('/') {
        return ok(IndicatorKind::Url);
    }
    if s.bytes().all(|b| b.is_ascii_hexdigit()) {
        match s.len() {
            32 => return Some(IndicatorKind::Md5),
            40 => return Some(IndicatorKind::Sha1),
            64 => return Some(IndicatorKind::Sha256),
            _ => {}
        }
    }
    if s.contains('@') {
        return ok(IndicatorKind::Email);
    }
    ok(IndicatorKind::Ipv4)
        .or_else(|| ok(IndicatorKind::Ipv6))
        .or_else(|| if s.contains('.') { ok(IndicatorKind::Domain) } else { None })
}

fn normalize_ja4(s: &str) -> Result<String, String> {
    let lower = s.to_ascii_lowercase();
    let parts: Vec<&str> = lower.split('_').collect();
    let ok = match parts.as_slice() {
        [a, b, c] => {
            a.len() == 10
                && a.starts_with(['t', 'q', 'd'])
                && a.bytes().all(|x| x.is_ascii_alphanumeric())
                && [b, c].iter().all(|h| h.len() == 12 && h.bytes().all(|x| x.is_ascii_hexdigit()))
        }
        _ => false,
    };
    if ok { Ok(lower) } else { Err("not a JA4 fingerprint (t13d1516h2_8daaf6152771_02713d6af862)".to_owned()) }
}

pub(crate) fn normalize_domain(s: &str) -> Result<String, String> {
    let s = s.strip_suffix('.').unwrap_or(s);
    if s.is_empty() {
        return Err("empty".to_owned());
    }
    if s.starts_with('[') || s.parse::<IpAddr>().is_ok() {
        return Err("an IP address, not a domain".to_owned());
    }
    let ascii = idna::domain_to_ascii(s).map_err(|_| "not a valid internationalised domain name".to_owned())?;
    if ascii.len() > 253 {
        return Err(format!("{} characters, more than 253", ascii.len()));
    }
    let mut last = "";
    for label in ascii.split('.') {
        if label.is_empty() {
            return Err("empty label".to_owned());
        }
        if label.len() > 63 {
            return Err(format!("label of {} characters, more than 63", label.len()));
        }
        if !label.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_') {
            return Err(format!("label {label:?} has characters other than letters, digits, '-' and '_'"));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(format!("label {label:?} starts or ends with '-'"));
        }
        last = label;
    }
    if last.bytes().all(|b| b.is_ascii_digit()) {
        return Err("last label is a number: an IP address, not a domain".to_owned());
    }
    Ok(ascii)
}

const URL_SCHEMES: [&str; 5] = ["http", "https", "ftp", "ws", "wss"];

fn normalize_url(s: &str) -> Result<String, String> {
    let with_scheme;
    let s = if s.contains("://") {
        s
    } else {
        with_scheme = if s.starts_with("//") { format!("http:{s}") } else { format!("http://{s}") };
        &with_scheme
    };
    let u = url::Url::parse(s).map_err(|e| format!("not a URL: {e}"))?;
    if !URL_SCHEMES.contains(&u.scheme()) {
        return Err(format!("unsupported scheme {:?}", u.scheme()));
    }
    let host = match u.host() {
        Some(url::Host::Domain(d)) => normalize_domain(d).map_err(|e| format!("host: {e}"))?,
        Some(url::Host::Ipv4(a)) => a.to_string(),
        Some(url::Host::Ipv6(a)) => match a.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => format!("[{a}]"),
        },
        None => return Err("no host".to_owned()),
    };
    let mut out = String::with_capacity(s.len());
    out.push_str(u.scheme());
    out.push_str("://");
    if !u.username().is_empty() || u.password().is_some() {
        out.push_str(u.username());
        if let Some(p) = u.password() {
            out.push(':');
            out.push_str(p);
        }
        out.push('@');
    }
    out.push_str(&host);
    if let Some(port) = u.port() {
        out.push(':');
        out.push_str(&port.to_string());
    }
    push_percent_normalized(&mut out, u.path());
    if let Some(q) = u.query().filter(|q| !q.is_empty()) {
        out.push('?');
        push_percent_normalized(&mut out, q);
    }
    Ok(out)
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn upper_hex_digit(v: u8) -> char {
    char::from_digit(u32::from(v), 16).unwrap_or('0').to_ascii_uppercase()
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// Appends `s` with unreserved characters decoded and other escapes in
/// upper-case hex. `s` is ASCII (the URL parser encodes the rest), so the
/// output is too.
fn push_percent_normalized(out: &mut String, s: &str) {
    let b = s.as_bytes();
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'%' {
            let hi = b.get(i + 1).copied().and_then(hex_val);
            let lo = b.get(i + 2).copied().and_then(hex_val);
            if let (Some(hi), Some(lo)) = (hi, lo) {
                let v = hi << 4 | lo;
                if is_unreserved(v) {
                    out.push(char::from(v));
                } else {
                    out.push('%');
                    out.push(upper_hex_digit(hi));
                    out.push(upper_hex_digit(lo));
                }
                i += 3;
            } else {
                out.push_str("%25");
                i += 1;
            }
        } else {
            out.push(char::from(c));
            i += 1;
        }
    }
}

fn normalize_ipv4(s: &str) -> Result<String, String> {
    s.parse::<Ipv4Addr>().map(|a| a.to_string()).map_err(|_| "not a dotted-quad IPv4 address".to_owned())
}

fn parse_ipv6(s: &str) -> Result<Ipv6Addr, String> {
    let s = s.strip_prefix('[').and_then(|s| s.strip_suffix(']')).unwrap_or(s);
    if s.contains('%') {
        return Err("zone ids are not allowed".to_owned());
    }
    s.parse::<Ipv6Addr>().map_err(|_| "not an IPv6 address".to_owned())
}

fn normalize_ipv6(s: &str) -> Result<String, String> {
    // The normal form of an IPv4-mapped address, accepted so that
    // normalising is idempotent.
    if let Ok(v4) = s.parse::<Ipv4Addr>() {
        return Ok(v4.to_string());
    }
    let a = parse_ipv6(s)?;
    Ok(match a.to_ipv4_mapped() {
        Some(v4) => v4.to_string(),
        None => a.to_string(),
    })
}

pub(crate) fn mask_v4(len: u8) -> u32 {
    u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0)
}

pub(crate) fn mask_v6(len: u8) -> u128 {
    u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0)
}

/// A parsed, canonical network: address with host bits zero, prefix length.
pub(crate) fn parse_cidr(s: &str) -> Result<(IpAddr, u8), String> {
    let (addr, len) = s.split_once('/').ok_or_else(|| "missing '/prefix-length'".to_owned())?;
    if len.is_empty() || len.len() > 3 || !len.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("prefix length {len:?} is not a number"));
    }
    let len: u8 = len.parse().map_err(|_| "prefix length out of range".to_owned())?;
    if let Ok(v4) = addr.parse::<Ipv4Addr>() {
        return check_v4(v4, len);
    }
    let v6 = parse_ipv6(addr).map_err(|_| "address is neither IPv4 nor IPv6".to_owned())?;
    if len > 128 {
        return Err(format!("prefix length {len} is more than 128"));
    }
    if let (Some(v4), true) = (v6.to_ipv4_mapped(), len >= 96) {
        return check_v4(v4, len - 96);
    }
    let bits = u128::from(v6);
    let net = bits & mask_v6(len);
    if net != bits {
        return Err(format!("host bits set; the network is {}/{len}", Ipv6Addr::from(net)));
    }
    Ok((IpAddr::V6(v6), len))
}

fn check_v4(v4: Ipv4Addr, len: u8) -> Result<(IpAddr, u8), String> {
    if len > 32 {
        return Err(format!("prefix length {len} is more than 32"));
    }
    let bits = u32::from(v4);
    let net = bits & mask_v4(len);
    if net != bits {
        return Err(format!("host bits set; the network is {}/{len}", Ipv4Addr::from(net)));
    }
    Ok((IpAddr::V4(v4), len))
}

fn normalize_cidr(s: &str) -> Result<String, String> {
    let (addr, len) = parse_cidr(s)?;
    Ok(format!("{addr}/{len}"))
}

fn normalize_hex(s: &str, digits: usize) -> Result<String, String> {
    if s.len() != digits {
        return Err(format!("{} characters, not {digits} hex digits", s.chars().count()));
    }
    if !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("not hexadecimal".to_owned());
    }
    Ok(s.to_ascii_lowercase())
}

fn normalize_cert_sha256(s: &str) -> Result<String, String> {
    if s.contains(':') {
        if !s.split(':').all(|p| p.len() == 2) {
            return Err("colon-separated form must be byte pairs".to_owned());
        }
        return normalize_hex(&s.replace(':', ""), 64);
    }
    normalize_hex(s, 64)
}

fn normalize_email(s: &str) -> Result<String, String> {
    let (local, domain) = s.split_once('@').ok_or_else(|| "no '@'".to_owned())?;
    if domain.contains('@') {
        return Err("more than one '@'".to_owned());
    }
    if local.is_empty() || local.len() > 64 {
        return Err("local part must be 1 to 64 characters".to_owned());
    }
    let domain = normalize_domain(domain).map_err(|e| format!("domain: {e}"))?;
    Ok(format!("{local}@{domain}"))
}

fn normalize_android_package(s: &str) -> Result<String, String> {
    if s.len() > 255 {
        return Err("longer than 255 characters".to_owned());
    }
    let mut segments = 0;
    for seg in s.split('.') {
        let mut bytes = seg.bytes();
        if !bytes.next().is_some_and(|b| b.is_ascii_alphabetic()) {
            return Err(format!("segment {seg:?} does not start with a letter"));
        }
        if !bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(format!("segment {seg:?} has characters other than letters, digits and '_'"));
        }
        segments += 1;
    }
    if segments < 2 {
        return Err("needs at least two segments".to_owned());
    }
    Ok(s.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks() {
        assert_eq!(mask_v4(0), 0);
        assert_eq!(mask_v4(8), 0xff00_0000);
        assert_eq!(mask_v4(32), u32::MAX);
        assert_eq!(mask_v6(0), 0);
        assert_eq!(mask_v6(128), u128::MAX);
    }

    #[test]
    fn percent() {
        let mut s = String::new();
        push_percent_normalized(&mut s, "/%7e%2fa%zz%4");
        assert_eq!(s, "/~%2Fa%25zz%254");
    }
}
