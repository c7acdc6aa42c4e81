//! HTTP/1.x request heads: method, target, Host, User-Agent.
//!
//! Our own scanner rather than `httparse`: it borrows the input, needs no
//! header array, and its leniency is ours to choose. Decisions:
//! - Up to [`MAX_LEADING_EMPTY_LINES`] empty lines before the request line
//!   are skipped (RFC 9112 §2.2), and count in `consumed`.
//! - Request line: a method of upper-case letters, digits, `-` or `_`
//!   (every registered method is one), one or more spaces or tabs, the
//!   target (no spaces or control bytes), spaces, and `HTTP/1.` followed by
//!   one digit (`HTTP/1.0` and `HTTP/1.1` in practice; an `HTTP/1.2` is
//!   still a request we want to see). A line without the version is
//!   accepted when the target starts with `/` (malware sends such heads,
//!   and Wireshark reads them); the head still needs its empty line, so a
//!   bare HTTP/0.9 request stays `Partial`.
//! - Lines end in CRLF or a bare LF; the head ends at the first empty line.
//! - Header names are matched case-insensitively and the first Host and
//!   User-Agent win; values are trimmed of spaces and tabs and kept as sent
//!   (a Host keeps its port). Lines without a colon and obs-fold
//!   continuation lines are skipped, not folded.
//! - Without a Host header, the authority of an absolute-form target
//!   (`http://user@host:8080/x` gives `host:8080`, userinfo dropped) or of a
//!   CONNECT target is the host.
//! - Bytes that are not UTF-8 become U+FFFD (lossy), in every output field.

use crate::event::Http;

#[derive(Debug, Clone, PartialEq)]
pub enum HeadStatus {
    /// A whole head; `consumed` bytes up to and including the blank line.
    Complete { request: Http, consumed: usize },
    /// Looks like a request so far; give more bytes.
    Partial,
    /// Not an HTTP/1.x request (or the head is over the size limit).
    NotHttp,
}

/// Largest request head we read.
pub const MAX_HEAD: usize = 16 * 1024;

/// Longest method token (the longest registered one, `UPDATEREDIRECTREF`,
/// has 17 characters).
pub const MAX_METHOD: usize = 24;

/// Empty lines tolerated before the request line.
pub const MAX_LEADING_EMPTY_LINES: usize = 4;

pub fn parse_request_head(bytes: &[u8]) -> HeadStatus {
    let window = bytes.get(..MAX_HEAD).unwrap_or(bytes);
    let Some(start) = skip_leading_empty_lines(window) else {
        return HeadStatus::NotHttp;
    };
    let rest = window.get(start..).unwrap_or_default();

    let Some(line_len) = find_line_end(rest) else {
        // The request line is not whole yet: keep waiting only while it
        // could still become one.
        let could_grow = request_line_prefix_is_plausible(rest) || rest == b"\r";
        return if could_grow && bytes.len() < MAX_HEAD { HeadStatus::Partial } else { HeadStatus::NotHttp };
    };
    let Some(line) = parse_request_line(trim_line(rest.get(..line_len).unwrap_or_default())) else {
        return HeadStatus::NotHttp;
    };

    let mut pos = start + line_len + 1;
    let mut host = None;
    let mut user_agent = None;
    loop {
        let remaining = window.get(pos..).unwrap_or_default();
        let Some(len) = find_line_end(remaining) else {
            return if bytes.len() < MAX_HEAD { HeadStatus::Partial } else { HeadStatus::NotHttp };
        };
        let header_line = trim_line(remaining.get(..len).unwrap_or_default());
        pos += len + 1;
        if header_line.is_empty() {
            break;
        }
        if header_line.first().is_some_and(|&b| b == b' ' || b == b'\t') {
            continue;
        }
        let Some(colon) = header_line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (name, value) = header_line.split_at(colon);
        let value = trim_whitespace(value.get(1..).unwrap_or_default());
        if host.is_none() && name.eq_ignore_ascii_case(b"host") {
            host = Some(value);
        } else if user_agent.is_none() && name.eq_ignore_ascii_case(b"user-agent") {
            user_agent = Some(value);
        }
    }

    let host = host.or_else(|| target_authority(line.method, line.target));
    let request = Http {
        method: lossy(line.method),
        host: host.map(lossy),
        uri: lossy(line.target),
        user_agent: user_agent.map(lossy),
    };
    HeadStatus::Complete { request, consumed: pos }
}

struct RequestLine<'a> {
    method: &'a [u8],
    target: &'a [u8],
}

fn is_method_byte(byte: u8) -> bool {
    byte.is_ascii_uppercase() || byte.is_ascii_digit() || byte == b'-' || byte == b'_'
}

fn is_space(byte: u8) -> bool {
    byte == b' ' || byte == b'\t'
}

fn is_target_byte(byte: u8) -> bool {
    byte > b' ' && byte != 0x7f
}

/// `METHOD SP target SP HTTP/1.d`, spaces and tabs between the parts.
fn parse_request_line(line: &[u8]) -> Option<RequestLine<'_>> {
    let method_len = line.iter().position(|&b| !is_method_byte(b))?;
    if method_len == 0 || method_len > MAX_METHOD {
        return None;
    }
    let (method, rest) = line.split_at(method_len);
    let rest = skip_spaces(rest, 1)?;
    let target_len = rest.iter().position(|&b| !is_target_byte(b)).unwrap_or(rest.len());
    let (target, rest) = rest.split_at(target_len);
    if target.is_empty() {
        return None;
    }
    match trim_whitespace(rest) {
        [] if target.starts_with(b"/") => Some(RequestLine { method, target }),
        [b'H', b'T', b'T', b'P', b'/', b'1', b'.', minor]
            if minor.is_ascii_digit() && rest.first().is_some_and(|&b| is_space(b)) =>
        {
            Some(RequestLine { method, target })
        }
        _ => None,
    }
}

/// At least `min` spaces or tabs, skipped.
fn skip_spaces(bytes: &[u8], min: usize) -> Option<&[u8]> {
    let count = bytes.iter().take_while(|&&b| is_space(b)).count();
    if count < min {
        return None;
    }
    bytes.get(count..)
}

/// Could these bytes (no line end yet) still grow into a request line?
fn request_line_prefix_is_plausible(bytes: &[u8]) -> bool {
    let method_len = bytes.iter().take_while(|&&b| is_method_byte(b)).count();
    if method_len > MAX_METHOD {
        return false;
    }
    let Some(rest) = bytes.get(method_len..) else {
        return false;
    };
    let Some((&separator, rest)) = rest.split_first() else {
        return true;
    };
    if method_len == 0 || !is_space(separator) {
        return false;
    }
    let rest = skip_spaces(rest, 0).unwrap_or_default();
    let target_len = rest.iter().take_while(|&&b| is_target_byte(b)).count();
    let Some(rest) = rest.get(target_len..) else {
        return false;
    };
    if rest.is_empty() || rest == b"\r" {
        return true;
    }
    let version = skip_spaces(rest, 1).unwrap_or_default();
    let version_prefix_ok = {
        let expected = b"HTTP/1.";
        let common = version.len().min(expected.len());
        version.get(..common) == expected.get(..common)
    };
    if !version_prefix_ok || rest.first().is_none_or(|&b| !is_space(b)) {
        return false;
    }
    match version.get(7..) {
        None | Some([]) => true,
        Some([digit, tail @ ..]) => digit.is_ascii_digit() && tail.iter().all(|&b| b == b'\r' || is_space(b)),
    }
}

/// Skips up to [`MAX_LEADING_EMPTY_LINES`] empty lines; `None` if there are
/// more.
fn skip_leading_empty_lines(bytes: &[u8]) -> Option<usize> {
    let mut pos = 0;
    for _ in 0..MAX_LEADING_EMPTY_LINES {
        match bytes.get(pos..) {
            Some([b'\r', b'\n', ..]) => pos += 2,
            Some([b'\n', ..]) => pos += 1,
            _ => return Some(pos),
        }
    }
    match bytes.get(pos..) {
        Some([b'\r' | b'\n', ..]) => None,
        _ => Some(pos),
    }
}

/// Offset of the next LF.
fn find_line_end(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == b'\n')
}

/// A line without its CR (if the line ended in CRLF).
fn trim_line(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn trim_whitespace(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| !is_space(b)).unwrap_or(bytes.len());
    let end = bytes.iter().rposition(|&b| !is_space(b)).map_or(start, |last| last + 1);
    bytes.get(start..end).unwrap_or_default()
}

/// The authority of an absolute-form target (`scheme://[userinfo@]authority/…`),
/// or a CONNECT's authority-form target.
fn target_authority<'a>(method: &[u8], target: &'a [u8]) -> Option<&'a [u8]> {
    if method == b"CONNECT" {
        return Some(target).filter(|t| !t.starts_with(b"/"));
    }
    let scheme_end = target.windows(3).position(|w| w == b"://")?;
    let scheme = target.get(..scheme_end)?;
    if scheme.is_empty() || !scheme.iter().all(|&b| b.is_ascii_alphanumeric() || b"+-.".contains(&b)) {
        return None;
    }
    let after_scheme = target.get(scheme_end + 3..)?;
    let authority_end = after_scheme.iter().position(|&b| b == b'/' || b == b'?' || b == b'#');
    let authority = after_scheme.get(..authority_end.unwrap_or(after_scheme.len()))?;
    let host_port = match authority.iter().rposition(|&b| b == b'@') {
        Some(at) => authority.get(at + 1..)?,
        None => authority,
    };
    Some(host_port).filter(|h| !h.is_empty())
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_of_a_request_line_are_partial() {
        let line = b"GET /index.html HTTP/1.1\r\n";
        for len in 0..line.len() {
            assert!(request_line_prefix_is_plausible(&line[..len]), "{:?}", String::from_utf8_lossy(&line[..len]));
        }
        assert!(!request_line_prefix_is_plausible(b"\x16\x03\x01"));
        assert!(!request_line_prefix_is_plausible(b"GET / FTP"));
        assert!(!request_line_prefix_is_plausible(b"GET / HTTP/1.1x"));
        assert!(!request_line_prefix_is_plausible(b"SSH-2.0-OpenSSH_9.6"));
    }

    #[test]
    fn authority_of_absolute_targets() {
        assert_eq!(target_authority(b"GET", b"http://u:p@example.com:8080/x?y"), Some(&b"example.com:8080"[..]));
        assert_eq!(target_authority(b"GET", b"/x"), None);
        assert_eq!(target_authority(b"CONNECT", b"example.com:443"), Some(&b"example.com:443"[..]));
        assert_eq!(target_authority(b"GET", b"http:///x"), None);
    }
}
