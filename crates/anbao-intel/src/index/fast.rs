//! Allocation-free normalisation for the common cases of the hot path:
//! ASCII domain names and hex hashes. Each answers exactly what
//! [`normalize`](crate::normalize()) would, or says it cannot tell
//! ([`Fast::Slow`]) and the caller asks `normalize`.

/// Longest normal domain name.
pub(crate) const MAX_DOMAIN: usize = 253;

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Fast {
    /// The normal form (its length; the name is in the [`Name`]).
    Normal(usize),
    /// `normalize` rejects the value.
    Invalid,
    /// Non-ASCII, a punycode (`xn--`) label or an unusual length:
    /// `normalize` decides.
    Slow,
}

/// Room for the longest name and 16 bytes after any label, so that labels
/// can be read as two words without bounds checks failing.
const BUF: usize = 272;

/// Most dots a valid name has (127 labels of one character).
const MAX_DOTS: usize = 126;

/// A normal domain name on the stack, with the positions of its dots.
#[derive(Clone, Debug)]
pub(crate) struct Name {
    buf: [u8; BUF],
    len: usize,
    dots: [u8; MAX_DOTS],
    ndots: usize,
}

impl Default for Name {
    fn default() -> Self {
        Name { buf: [0; BUF], len: 0, dots: [0; MAX_DOTS], ndots: 0 }
    }
}

impl Name {
    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }

    /// The buffer the name starts, with at least 16 bytes after its end.
    pub(crate) fn padded(&self) -> &[u8] {
        &self.buf
    }

    /// Number of labels.
    pub(crate) fn labels(&self) -> usize {
        self.ndots + 1
    }

    /// Start and length of label `i` counted from the right (0: the
    /// top-level domain).
    #[inline]
    pub(crate) fn label(&self, i: usize) -> (usize, usize) {
        let end = match i {
            0 => self.len,
            _ => self.ndots.checked_sub(i).and_then(|k| self.dots.get(k)).map_or(0, |&d| usize::from(d)),
        };
        let start = self.ndots.checked_sub(i + 1).and_then(|k| self.dots.get(k)).map_or(0, |&d| usize::from(d) + 1);
        (start, end.saturating_sub(start))
    }

    /// A name `normalize` returned (always at most 253 bytes).
    pub(crate) fn set(&mut self, normal: &[u8]) -> bool {
        let Some(dst) = self.buf.get_mut(..normal.len()).filter(|_| normal.len() <= MAX_DOMAIN) else {
            return false;
        };
        dst.copy_from_slice(normal);
        self.len = normal.len();
        self.ndots = 0;
        for (i, _) in normal.iter().enumerate().filter(|(_, b)| **b == b'.') {
            match self.dots.get_mut(self.ndots) {
                Some(d) => *d = i as u8,
                None => return false,
            }
            self.ndots += 1;
        }
        true
    }
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = ONES * 0x80;

/// High bit of each byte of `w` (all below 0x80) that is greater than `c`.
#[inline]
fn gt(w: u64, c: u8) -> u64 {
    w.wrapping_add(ONES * u64::from(0x7f - c)) & HIGH
}

/// High bit of each byte of `w` (all below 0x80) in `lo..=hi`.
#[inline]
fn within(w: u64, lo: u8, hi: u8) -> u64 {
    gt(w, lo.wrapping_sub(1)) & !gt(w, hi)
}

#[inline]
fn eq(w: u64, c: u8) -> u64 {
    within(w, c, c)
}

/// A DNS name's normal form into `name` when it has only ASCII letters,
/// digits, `-`, `_` and `.` and no `xn--` label. For these, UTS 46 (as
/// `idna` runs it for `normalize`: no STD3 rules, hyphens allowed, no DNS
/// length check) only lower-cases, so the normal form is the lower-cased
/// name without its trailing dot if it passes `normalize_domain`'s checks,
/// which are repeated here. A test compares the two on random names.
///
/// Eight bytes at a time: lower-casing, the alphabet check and finding the
/// dots are word arithmetic; then a few checks per label.
#[inline]
pub(crate) fn domain(raw: &str, name: &mut Name) -> Fast {
    let mut s = raw.as_bytes();
    // `str::trim` trims Unicode whitespace; an ASCII-only name needs only
    // the ASCII cases, and a non-ASCII edge goes to the slow path.
    if s.first().is_some_and(|b| !b.is_ascii_alphanumeric()) || s.last().is_some_and(|b| !b.is_ascii_alphanumeric()) {
        s = s.trim_ascii();
        if s.first().is_some_and(|b| !b.is_ascii()) || s.last().is_some_and(|b| !b.is_ascii()) {
            return Fast::Slow;
        }
    }
    if let Some(rest) = s.strip_suffix(b".") {
        s = rest;
    }
    if s.is_empty() {
        return Fast::Invalid;
    }
    if s.len() > MAX_DOMAIN {
        return Fast::Slow;
    }
    let mut other = 0u64;
    let mut ndots = 0usize;
    for (k, chunk) in s.chunks(8).enumerate() {
        let w = match <[u8; 8]>::try_from(chunk) {
            Ok(a) => u64::from_le_bytes(a),
            // The last, short chunk: the name's last 8 bytes shifted (no
            // byte-wise copy: a store followed by a wider load stalls).
            Err(_) => match s.len().checked_sub(8).and_then(|i| s.get(i..)).map(<[u8; 8]>::try_from) {
                Some(Ok(a)) => u64::from_le_bytes(a) >> (8 * (8 - chunk.len())),
                _ => chunk.iter().rev().fold(0u64, |w, &c| (w << 8) | u64::from(c)),
            },
        };
        let used = HIGH >> (8 * (8 - chunk.len()));
        if w & HIGH != 0 {
            return Fast::Slow;
        }
        let lower = w | (within(w, b'A', b'Z') >> 2);
        // a-z, _, and - . / 0-9 without the /.
        let ok = within(lower, b'a', b'z') | eq(lower, b'_') | (within(lower, b'-', b'9') & !eq(lower, b'/'));
        other |= !ok & used;
        if let Some(d) = name.buf.get_mut(8 * k..8 * k + 8) {
            d.copy_from_slice(&lower.to_le_bytes());
        }
        let mut dots = eq(lower, b'.') & used;
        while dots != 0 {
            let pos = 8 * k + (dots.trailing_zeros() / 8) as usize;
            match name.dots.get_mut(ndots) {
                Some(d) => *d = pos as u8,
                None => return Fast::Invalid, // 127 dots: an empty label
            }
            ndots += 1;
            dots &= dots - 1;
        }
    }
    if other != 0 {
        return Fast::Slow;
    }
    name.len = s.len();
    name.ndots = ndots;
    let out = name.buf.get(..s.len()).unwrap_or_default();
    let mut punycode = false;
    let mut start = 0usize;
    for k in 0..=ndots {
        let end = if k < ndots { name.dots.get(k).map_or(0, |&d| usize::from(d)) } else { s.len() };
        let label = out.get(start..end).unwrap_or_default();
        start = end + 1;
        if label.get(..4) == Some(b"xn--") {
            // Decoded and checked by `idna`: the slow path decides.
            punycode = true;
            continue;
        }
        if label.is_empty() || label.len() > 63 || label.first() == Some(&b'-') || label.last() == Some(&b'-') {
            return Fast::Invalid;
        }
        if k == ndots && label.iter().all(u8::is_ascii_digit) {
            return Fast::Invalid;
        }
    }
    if punycode {
        return Fast::Slow;
    }
    Fast::Normal(s.len())
}

/// The lower-cased hex digits when `raw` (trimmed) is exactly `digits`
/// ASCII hex digits; `None` otherwise. For Md5, Sha1, Sha256, Ja3 and the
/// plain form of CertSha256 this is `normalize`.
#[inline]
pub(crate) fn hex<'b>(raw: &str, buf: &'b mut [u8; 64]) -> Option<&'b [u8]> {
    let s = raw.trim().as_bytes();
    if s.len() > buf.len() {
        return None;
    }
    for (&c, out) in s.iter().zip(buf.iter_mut()) {
        if !c.is_ascii_hexdigit() {
            return None;
        }
        *out = c.to_ascii_lowercase();
    }
    buf.get(..s.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{IndicatorKind, normalize};

    fn fast(s: &str) -> Option<Result<String, ()>> {
        let mut name = Name::default();
        match domain(s, &mut name) {
            Fast::Normal(n) => {
                assert_eq!(n, name.as_bytes().len());
                let text = String::from_utf8(name.as_bytes().to_vec()).unwrap();
                let mut other = Name::default();
                assert!(other.set(text.as_bytes()));
                for i in 0..name.labels() {
                    assert_eq!(name.label(i), other.label(i));
                }
                let labels: Vec<&str> = text.rsplit('.').collect();
                assert_eq!(labels.len(), name.labels());
                for (i, l) in labels.iter().enumerate() {
                    let (s, n) = name.label(i);
                    assert_eq!(&text[s..s + n], *l);
                }
                Some(Ok(text))
            }
            Fast::Invalid => Some(Err(())),
            Fast::Slow => None,
        }
    }

    fn check(s: &str) -> bool {
        let Some(got) = fast(s) else { return false };
        let want = normalize(IndicatorKind::Domain, s).map_err(|_| ());
        assert_eq!(got, want, "{s:?}");
        true
    }

    #[test]
    fn fixed_cases() {
        for s in [
            "evil.com",
            "EVIL.Com.",
            " a.b.c \t",
            "a..b",
            ".a",
            "a.",
            "a..",
            ".",
            "",
            "   ",
            "-a.com",
            "a-.com",
            "a.-b",
            "a-b.c-d",
            "ab--cd.com",
            "_dmarc.x.org",
            "1.2.3.4",
            "1.2.3.a4",
            "1.2.3.4a",
            "123",
            "a.123",
            "a.b1",
            "x",
            "a b.com",
            "a!.com",
            &"a".repeat(63),
            &"a".repeat(64),
            &format!("{}.com", "a".repeat(64)),
            &["a"; 127].join("."),
            &format!("{}.", ["a"; 127].join(".")),
        ] {
            check(s);
        }
        assert_eq!(fast("xn--fsqu00a.xn--0zwm56d"), None);
        assert_eq!(fast("a.XN--fsqu00a.com"), None);
        assert_eq!(fast("例子.测试"), None);
        assert_eq!(fast(&"a.".repeat(130)), None);
    }

    #[test]
    fn random_names_agree_with_normalize() {
        let alphabet = b"abcAZ09-_.. xX\t!";
        let mut x: u64 = 0x1234_5678;
        let mut decided = 0;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 12) as usize;
            let mut y = x;
            let s: String = (0..len)
                .map(|_| {
                    y = y.rotate_left(5).wrapping_mul(0x9E37_79B9_7F4A_7C15);
                    char::from(alphabet[(y >> 59) as usize % alphabet.len()])
                })
                .collect();
            decided += usize::from(check(&s));
        }
        assert!(decided > 80_000, "{decided}");
    }

    #[test]
    fn hex_digits() {
        let mut b = [0u8; 64];
        assert_eq!(hex(" AbC ", &mut b), Some(&b"abc"[..]));
        assert_eq!(hex("abg", &mut b), None);
        assert_eq!(hex(&"a".repeat(65), &mut b), None);
    }
}
