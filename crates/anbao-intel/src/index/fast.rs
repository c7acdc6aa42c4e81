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

/// Room for the longest name and 16 bytes after it, so that labels can be
/// read as two words without bounds checks failing.
const BUF: usize = MAX_DOMAIN + 19;

/// Words of the dot mask (one bit per byte of the longest name).
const DOT_WORDS: usize = 4;

/// A normal domain name on the stack, with a mask of its dots.
#[derive(Clone, Debug)]
pub(crate) struct Name {
    buf: [u8; BUF],
    len: usize,
    /// Bit `i % 64` of word `i / 64` is set when byte `i` is a dot.
    dots: [u64; DOT_WORDS],
}

impl Default for Name {
    fn default() -> Self {
        Name { buf: [0; BUF], len: 0, dots: [0; DOT_WORDS] }
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
        self.dots.iter().map(|w| w.count_ones() as usize).sum::<usize>() + 1
    }

    /// The dots of a name under 64 bytes (`None` for longer ones).
    #[inline]
    pub(crate) fn short_dots(&self) -> Option<u64> {
        let [dots, ..] = self.dots;
        (self.len < 64).then_some(dots)
    }

    /// The length of the name.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Start and length of each label from the right: the top-level domain
    /// first.
    #[inline]
    pub(crate) fn labels_rev(&self) -> LabelsRev {
        LabelsRev { dots: self.dots, top: self.len.saturating_sub(1) / 64, end: self.len, done: false }
    }

    /// A name `normalize` returned (always at most 253 bytes).
    pub(crate) fn set(&mut self, normal: &[u8]) -> bool {
        let Some(dst) = self.buf.get_mut(..normal.len()).filter(|_| normal.len() <= MAX_DOMAIN) else {
            return false;
        };
        dst.copy_from_slice(normal);
        self.len = normal.len();
        self.dots = [0; DOT_WORDS];
        for (i, _) in normal.iter().enumerate().filter(|(_, b)| **b == b'.') {
            if let Some(w) = self.dots.get_mut(i / 64) {
                *w |= 1 << (i % 64);
            }
        }
        true
    }
}

/// See [`Name::labels_rev`].
#[derive(Clone, Debug)]
pub(crate) struct LabelsRev {
    /// The dots not passed yet; none in words above `top`.
    dots: [u64; DOT_WORDS],
    top: usize,
    end: usize,
    done: bool,
}

impl Iterator for LabelsRev {
    type Item = (usize, usize);

    #[inline]
    fn next(&mut self) -> Option<(usize, usize)> {
        if self.done {
            return None;
        }
        while let Some(w) = self.dots.get_mut(self.top) {
            if let Some(bit) = w.checked_ilog2() {
                *w &= !(1 << bit);
                let dot = 64 * self.top + bit as usize;
                let label = (dot + 1, self.end.saturating_sub(dot + 1));
                self.end = dot;
                return Some(label);
            }
            match self.top.checked_sub(1) {
                Some(t) => self.top = t,
                None => break,
            }
        }
        self.done = true;
        Some((0, self.end))
    }
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = ONES * 0x80;

/// High bit of each byte of `w` (all below 0x80) that is `c` or more
/// (`c` ≥ 1: no carry between bytes).
#[inline(always)]
fn ge(w: u64, c: u8) -> u64 {
    w.wrapping_add(ONES * u64::from(0x80 - c))
}

/// High bit of each byte of `w` (all below 0x80) equal to `c` (below 0x80).
#[inline(always)]
fn eq(w: u64, c: u8) -> u64 {
    !(w ^ (ONES * u64::from(c))).wrapping_add(ONES * 0x7f) & HIGH
}

/// Bit `j` for byte `j` of `w` whose high bit is set (the others clear):
/// the multiply gathers the 8 bits into the top byte, every partial
/// product landing on a different bit.
#[inline(always)]
fn movemask(w: u64) -> u64 {
    (w >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56
}

/// Eight bytes of a name: the bytes lower-cased, high bits of the bytes
/// that are not `[a-z0-9._-]` after lower-casing (non-ASCII among them),
/// and 8-bit masks of the dots and hyphens. A non-ASCII byte spoils the
/// other results (carries); the caller gives up on the name then.
#[inline(always)]
fn word(w: u64) -> (u64, u64, u64, u64) {
    let folded = w | (ONES * 0x20);
    let letter = ge(folded, b'a') & !ge(folded, b'z' + 1);
    let lower = w | ((letter & HIGH) >> 2);
    let digit = ge(w, b'0') & !ge(w, b'9' + 1);
    let dot = eq(w, b'.');
    let hyphen = eq(w, b'-');
    let ok = letter | digit | dot | hyphen | eq(w, b'_');
    ((lower), (w | !ok) & HIGH, movemask(dot), movemask(hyphen))
}

/// A DNS name's normal form into `name` when it has only ASCII letters,
/// digits, `-`, `_` and `.` and no `xn--` label. For these, UTS 46 (as
/// `idna` runs it for `normalize`: no STD3 rules, hyphens allowed, no DNS
/// length check) only lower-cases, so the normal form is the lower-cased
/// name without its trailing dot if it passes `normalize_domain`'s checks,
/// which are repeated here. A test compares the two on random names.
///
/// Word arithmetic, eight bytes at a time ([`word`]), then the label checks
/// as bit operations on the masks ([`short`], names under 64 bytes: nearly
/// all) or label by label ([`long`]).
#[inline]
pub(crate) fn domain(raw: &str, name: &mut Name) -> Fast {
    match trimmed(raw) {
        Ok(s) if s.len() < 64 => short(s, name),
        Ok(s) => long(s, name),
        Err(f) => f,
    }
}

/// The lookups' first step: [`domain`] without the checks, which only
/// matter when a suffix of the name is listed. For an ASCII value UTS 46
/// maps nothing but capitals (everything else is valid or an error, STD3
/// rules being off), so the normal form of an ASCII name, when it has one,
/// is the lower-cased name: this lower-cases it and finds the dots
/// ([`Fast::Normal`]), leaves non-ASCII names to `normalize`
/// ([`Fast::Slow`]), and the caller, when a suffix is listed, asks
/// [`check_before`] whether the rest of the name is normal.
#[inline]
pub(crate) fn domain_unchecked(raw: &str, name: &mut Name) -> Fast {
    match trimmed(raw) {
        Ok(s) if s.len() < 64 => short_unchecked(s, name),
        // Rare: checked at once.
        Ok(s) => long(s, name),
        Err(f) => f,
    }
}

/// The name without surrounding whitespace and its trailing dot.
#[inline(always)]
fn trimmed(raw: &str) -> Result<&[u8], Fast> {
    let mut s = raw.as_bytes();
    // `str::trim` trims Unicode whitespace; an ASCII-only name needs only
    // the ASCII cases, and a non-ASCII edge goes to the slow path.
    if s.first().is_some_and(|b| !b.is_ascii_alphanumeric()) || s.last().is_some_and(|b| !b.is_ascii_alphanumeric()) {
        s = s.trim_ascii();
        if s.first().is_some_and(|b| !b.is_ascii()) || s.last().is_some_and(|b| !b.is_ascii()) {
            return Err(Fast::Slow);
        }
    }
    if let Some(rest) = s.strip_suffix(b".") {
        s = rest;
    }
    if s.is_empty() {
        return Err(Fast::Invalid);
    }
    Ok(s)
}

/// Whether `name`, from [`domain_unchecked`], is normal given that its
/// suffix from byte `start` (0, or just after a dot) is: a listed domain,
/// so valid. Then only the labels before it need the checks of [`domain`]
/// (`domain_unchecked` sent names with an `xn--` label to `normalize`).
/// Characters other than `[a-z0-9._-]` are left to `normalize` too
/// ([`Fast::Slow`]).
pub(crate) fn check_before(name: &Name, start: usize) -> Fast {
    match name.short_dots() {
        Some(dots) if start > 1 => check_before_short(name, dots, start - 1),
        _ => check_before_bytes(name, start),
    }
}

/// [`check_before`] for names under 64 bytes, eight bytes at a time: the
/// `before` bytes ahead of the listed suffix's dot, checked as [`short`]
/// checks a whole name (no label of such a name is over 63 bytes).
#[inline]
fn check_before_short(name: &Name, dots: u64, before: usize) -> Fast {
    let (mut bad, mut hyphens) = (0u64, 0u64);
    let mut at = 0;
    while at < before {
        // Bytes past `before` read as letters.
        let keep = KEEP_LOW.get(before - at).copied().unwrap_or(u64::MAX);
        let w = (read8(&name.buf, at) & keep) | ((ONES * u64::from(b'a')) & !keep);
        let (_, b, _, h) = word(w);
        bad |= b;
        hyphens |= h << at;
        at += 8;
    }
    if bad != 0 {
        return Fast::Slow;
    }
    let last = 1u64 << (before - 1);
    let dots = dots & (last | (last - 1));
    let starts = (dots << 1) | 1;
    let ends = (dots >> 1) | last;
    if dots & (1 | last | (dots >> 1)) != 0 || hyphens & (starts | ends) != 0 {
        return Fast::Invalid;
    }
    Fast::Normal(name.len)
}

/// Masks of the low `n` bytes of a word, `n` from 0 to 7.
const KEEP_LOW: [u64; 8] =
    [0, 0xff, 0xffff, 0xff_ffff, 0xffff_ffff, 0xff_ffff_ffff, 0xffff_ffff_ffff, 0xff_ffff_ffff_ffff];

/// [`check_before`] byte by byte, for any name.
fn check_before_bytes(name: &Name, start: usize) -> Fast {
    let Some(before) = name.buf.get(..start.saturating_sub(1)) else {
        return Fast::Slow;
    };
    if start > 0 {
        // Labels: not empty, at most 63 bytes, no hyphen first or last.
        let mut label = 0usize;
        let mut prev = b'.';
        for &b in before {
            if b == b'.' {
                if label == 0 || prev == b'-' {
                    return Fast::Invalid;
                }
                label = 0;
            } else {
                if !(b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_') {
                    return Fast::Slow;
                }
                if label == 0 && b == b'-' {
                    return Fast::Invalid;
                }
                label += 1;
            }
            if label > 63 {
                return Fast::Invalid;
            }
            prev = b;
        }
        if label == 0 || prev == b'-' {
            return Fast::Invalid;
        }
    }
    Fast::Normal(name.len)
}

/// The 8 bytes of `s` at `at` (0 past the end).
#[inline(always)]
fn read8(s: &[u8], at: usize) -> u64 {
    s.get(at..at + 8).and_then(|b| <[u8; 8]>::try_from(b).ok()).map_or(0, u64::from_le_bytes)
}

/// Writes the 8 bytes of `w` at `at` in `buf` (nothing past the end).
#[inline(always)]
fn write8(buf: &mut [u8], at: usize, w: u64) {
    if let Some(d) = buf.get_mut(at..at + 8).and_then(|d| <&mut [u8; 8]>::try_from(d).ok()) {
        *d = w.to_le_bytes();
    }
}

/// [`domain`] for 1 to 63 bytes. The words are read straight from `s` (a
/// copy first would make every word load wait for the copy's stores), at
/// least 4 of them, so that the loop's end is predictable for the usual
/// lengths: word `k` at `min(8k, n - 8)`, overlapping the one before
/// at the end of the name, which changes no mask bit. Then the checks are
/// bit operations on the 64-bit dot and hyphen masks (no label of a name
/// this short is over 63 bytes).
#[inline]
fn short(s: &[u8], name: &mut Name) -> Fast {
    let n = s.len();
    let (mut bad, mut dots, mut hyphens) = (0u64, 0u64, 0u64);
    match n.checked_sub(8) {
        Some(last) => {
            let words = n.div_ceil(8).max(4);
            for k in 0..words {
                let at = (8 * k).min(last);
                let (lower, b, d, h) = word(read8(s, at));
                write8(&mut name.buf, at, lower);
                bad |= b;
                dots |= d << at;
                hyphens |= h << at;
            }
        }
        None => {
            // Under 8 bytes: one word, padded with a letter.
            let w = s.iter().rev().fold(ONES * u64::from(b'a'), |w, &b| (w << 8) | u64::from(b));
            let (lower, b, d, h) = word(w);
            write8(&mut name.buf, 0, lower);
            bad = b;
            dots = d;
            hyphens = h;
        }
    }
    if bad != 0 {
        return Fast::Slow;
    }
    let last = 1u64 << (n - 1);
    let starts = (dots << 1) | 1;
    let ends = (dots >> 1) | last;
    // An `xn--` label (hyphens 2 and 3 bytes into a label, after `xn`) is
    // decoded and checked by `idna`: the slow path decides.
    let mut maybe_puny = starts & (hyphens >> 2) & (hyphens >> 3);
    while maybe_puny != 0 {
        let at = maybe_puny.trailing_zeros() as usize;
        if name.buf.get(at..at + 2) == Some(b"xn") {
            return Fast::Slow;
        }
        maybe_puny &= maybe_puny - 1;
    }
    // An empty label (a dot first, last or next to another), or a label
    // starting or ending with a hyphen.
    if dots & (1 | last | (dots >> 1)) != 0 || hyphens & (starts | ends) != 0 {
        return Fast::Invalid;
    }
    // A top-level domain of digits only (it ends the name in a digit).
    if name.buf.get(n - 1).is_some_and(u8::is_ascii_digit) {
        let tld_start = dots.checked_ilog2().map_or(0, |d| d as usize + 1);
        if name.buf.get(tld_start..n).is_some_and(|t| t.iter().all(u8::is_ascii_digit)) {
            return Fast::Invalid;
        }
    }
    name.len = n;
    name.dots = [dots, 0, 0, 0];
    Fast::Normal(n)
}

/// [`domain_unchecked`] for 1 to 63 bytes: [`short`] without the checks
/// but one, lower-casing and finding the dots. The check kept: an `xn--`
/// label goes to `normalize` ([`Fast::Slow`]), as its normal form may
/// differ from the lower-cased name (the label is decoded and encoded
/// again), so that even a name with no listed suffix must be decided there.
#[inline]
fn short_unchecked(s: &[u8], name: &mut Name) -> Fast {
    let n = s.len();
    #[cfg(target_arch = "x86_64")]
    let (high, dots, hyphens) = sse2::lower(s, &mut name.buf);
    #[cfg(not(target_arch = "x86_64"))]
    let (high, dots, hyphens) = lower_words(s, &mut name.buf);
    if high != 0 {
        return Fast::Slow;
    }
    let starts = (dots << 1) | 1;
    let mut maybe_puny = starts & (hyphens >> 2) & (hyphens >> 3);
    while maybe_puny != 0 {
        let at = maybe_puny.trailing_zeros() as usize;
        if name.buf.get(at..at + 2).is_some_and(|x| x.eq_ignore_ascii_case(b"xn")) {
            return Fast::Slow;
        }
        maybe_puny &= maybe_puny - 1;
    }
    name.len = n;
    name.dots = [dots, 0, 0, 0];
    Fast::Normal(n)
}

/// The lower-casing of [`short_unchecked`] with word arithmetic, eight
/// bytes at a time: `s` (1 to 63 bytes) lower-cased into `buf`, something
/// non-zero when a byte is not ASCII, and the masks of the dots and
/// hyphens. Words are read as in [`short`], at least 4 of them (so that
/// the loop's end is predictable for the usual lengths); under 8 bytes,
/// one word padded with letters. (x86-64 uses [`sse2::lower`]; tests
/// compare the two.)
#[cfg_attr(all(target_arch = "x86_64", not(test)), allow(dead_code))]
fn lower_words(s: &[u8], buf: &mut [u8]) -> (u64, u64, u64) {
    let n = s.len();
    let (mut high, mut dots, mut hyphens) = (0u64, 0u64, 0u64);
    let mut each = |at: usize, w: u64| {
        let upper = ge(w, b'A') & !ge(w, b'Z' + 1);
        write8(buf, at, w | ((upper & HIGH) >> 2));
        high |= w;
        dots |= movemask(eq(w, b'.')) << at;
        hyphens |= movemask(eq(w, b'-')) << at;
    };
    match n.checked_sub(8) {
        Some(last) => {
            for k in 0..n.div_ceil(8).max(4) {
                let at = (8 * k).min(last);
                each(at, read8(s, at));
            }
        }
        None => each(0, s.iter().rev().fold(ONES * u64::from(b'a'), |w, &b| (w << 8) | u64::from(b))),
    }
    (high & HIGH, dots, hyphens)
}

/// The lower-casing and masks of [`short_unchecked`] sixteen bytes at a
/// time with SSE2 (part of every x86-64 processor), through `safe_arch`'s
/// safe wrappers (the workspace forbids `unsafe`): a third of the
/// instructions of the word arithmetic for the usual names.
#[cfg(target_arch = "x86_64")]
mod sse2 {
    use safe_arch::{
        bitand_m128i, bitor_m128i, cmp_eq_mask_i8_m128i, cmp_gt_mask_i8_m128i, cmp_lt_mask_i8_m128i, m128i,
        move_mask_i8_m128i, set_splat_i8_m128i,
    };

    /// [`lower_words`](super::lower_words) for `s` of 1 to 63 bytes. Chunk
    /// `k` is read at `min(16k, n - 16)`, overlapping the one before at the
    /// end of the name, which changes no byte and no bit; a name under 16
    /// bytes is copied into a chunk padded with letters first.
    #[inline]
    pub(super) fn lower(s: &[u8], buf: &mut [u8]) -> (u64, u64, u64) {
        let n = s.len();
        if n < 16 {
            let mut padded = [b'a'; 16];
            if let Some(d) = padded.get_mut(..n) {
                d.copy_from_slice(s);
            }
            return lower(&padded, buf);
        }
        let last = n - 16;
        let (mut high, mut dots, mut hyphens) = (0u64, 0u64, 0u64);
        // Signed comparisons: bytes from 0x80 are negative, never capitals.
        let after_at = set_splat_i8_m128i(b'@' as i8);
        let after_z = set_splat_i8_m128i(b'[' as i8);
        let case = set_splat_i8_m128i(0x20);
        let dot = set_splat_i8_m128i(b'.' as i8);
        let hyphen = set_splat_i8_m128i(b'-' as i8);
        for k in 0..n.div_ceil(16) {
            let at = (16 * k).min(last);
            let Some(chunk) = s.get(at..at + 16).and_then(|c| <[u8; 16]>::try_from(c).ok()) else {
                continue;
            };
            let v = m128i::from(chunk);
            let upper = bitand_m128i(cmp_gt_mask_i8_m128i(v, after_at), cmp_lt_mask_i8_m128i(v, after_z));
            let lower: [u8; 16] = bitor_m128i(v, bitand_m128i(upper, case)).into();
            if let Some(d) = buf.get_mut(at..at + 16) {
                d.copy_from_slice(&lower);
            }
            let bits = |m: m128i| u64::from(move_mask_i8_m128i(m) as u16) << at;
            high |= bits(v);
            dots |= bits(cmp_eq_mask_i8_m128i(v, dot));
            hyphens |= bits(cmp_eq_mask_i8_m128i(v, hyphen));
        }
        (high, dots, hyphens)
    }
}

/// [`domain`] for 64 bytes and more: the words, then label by label.
#[inline(never)]
fn long(s: &[u8], name: &mut Name) -> Fast {
    let n = s.len();
    if n > MAX_DOMAIN {
        return Fast::Slow;
    }
    let mut bad = 0u64;
    let mut dots = [0u64; DOT_WORDS];
    for k in 0..n.div_ceil(8) {
        // The last word overlaps the one before (n ≥ 64).
        let at = (8 * k).min(n - 8);
        let (lower, b, d, _) = word(read8(s, at));
        write8(&mut name.buf, at, lower);
        bad |= b;
        // Bits of bytes `at..at + 8`: in one mask word or straddling two.
        let (i, shift) = (at / 64, at % 64);
        if let Some(w) = dots.get_mut(i) {
            *w |= d << shift;
        }
        if let Some(w) = dots.get_mut(i + 1).filter(|_| shift > 56) {
            *w |= d >> (64 - shift);
        }
    }
    if bad != 0 {
        return Fast::Slow;
    }
    name.len = n;
    name.dots = dots;
    let mut punycode = false;
    for (i, (start, len)) in name.labels_rev().enumerate() {
        let label = name.buf.get(start..start + len).unwrap_or_default();
        if label.get(..4) == Some(b"xn--") {
            punycode = true;
            continue;
        }
        if label.is_empty() || label.len() > 63 || label.first() == Some(&b'-') || label.last() == Some(&b'-') {
            return Fast::Invalid;
        }
        if i == 0 && label.iter().all(u8::is_ascii_digit) {
            return Fast::Invalid;
        }
    }
    if punycode {
        return Fast::Slow;
    }
    Fast::Normal(n)
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
                assert!(name.labels_rev().eq(other.labels_rev()));
                let labels: Vec<&str> = text.rsplit('.').collect();
                assert_eq!(labels.len(), name.labels());
                assert_eq!(labels.len(), name.labels_rev().count());
                for ((s, n), l) in name.labels_rev().zip(&labels) {
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

    /// Names built from labels of fragments chosen to hit the edges of the
    /// word arithmetic (the bytes around each range bound, `xn--`, a
    /// non-ASCII letter) and of the two paths (lengths around 32, 63 and
    /// 64, labels around 63 bytes).
    #[test]
    fn random_labelled_names_agree_with_normalize() {
        let fragments = [
            "a",
            "z",
            "A",
            "Z",
            "m",
            "0",
            "9",
            "-",
            "_",
            "n",
            "x",
            "N",
            "X",
            "xn--",
            "Xn--",
            "@",
            "[",
            "`",
            "{",
            "/",
            ":",
            ",",
            "\u{7f}",
            "\u{e9}",
            "\u{0}",
            " ",
            "abcdefghijklmnop",
            "0123456789abcdefghijklmnopqrstuv",
        ];
        let mut x: u64 = 0x5eed;
        let mut next = |n: usize| {
            x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            ((z ^ (z >> 31)) % n as u64) as usize
        };
        let (mut normal, mut invalid) = (0, 0);
        for _ in 0..100_000 {
            let labels = 1 + next(6);
            let mut s = String::new();
            for i in 0..labels {
                if i > 0 {
                    s.push('.');
                }
                // Mostly plain letters, so that most names are valid.
                for _ in 0..1 + next(4) {
                    let f = if next(3) == 0 { fragments[next(fragments.len())] } else { fragments[next(3)] };
                    s.push_str(f);
                }
            }
            match next(8) {
                0 => s.push('.'),
                1 => s = format!(" {s}\t"),
                _ => {}
            }
            match fast(&s) {
                Some(Ok(_)) => normal += 1,
                Some(Err(())) => invalid += 1,
                None => {}
            }
            check(&s);
        }
        assert!(normal > 20_000 && invalid > 3_000, "{normal} {invalid}");
    }

    /// Numbers below `n` from a xorshift generator seeded with `x`.
    fn xorshift(mut x: u64) -> impl FnMut(usize) -> usize {
        move |n| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % n as u64) as usize
        }
    }

    /// The lookups' split of the checks: `domain_unchecked`, then, for a
    /// suffix that is a normal name (as a listed one is), `check_before`.
    /// Together they must say what `normalize` says of the whole name.
    #[test]
    fn unchecked_then_check_before_agrees_with_normalize() {
        let fragments = ["a", "Z", "0", "-", "_", "xn--", "XN--", "@", "!", " ", "\u{e9}", "abcdefghijklmnop"];
        let mut next = xorshift(0xabc);
        let mut decided = 0;
        for _ in 0..30_000 {
            let mut labels: Vec<String> = (0..next(4))
                .map(|_| {
                    (0..next(4))
                        .map(|_| if next(4) == 0 { fragments[next(fragments.len())] } else { fragments[next(2)] })
                        .collect()
                })
                .collect();
            labels.push(["evil", "a-b", "x_y", "xn--bcher-kva"][next(4)].to_owned());
            labels.push(["com", "net", "COM"][next(3)].to_owned());
            let raw = labels.join(".") + ["", ".", " "][next(3)];
            let want = normalize(IndicatorKind::Domain, &raw);
            let mut name = Name::default();
            match domain_unchecked(&raw, &mut name) {
                Fast::Normal(_) => {
                    let text = String::from_utf8(name.as_bytes().to_vec()).unwrap();
                    assert_eq!(
                        text,
                        raw.trim().trim_end_matches('.').to_ascii_lowercase().as_str().to_owned(),
                        "{raw:?}"
                    );
                    // Every label boundary whose suffix is normal.
                    let starts = std::iter::once(0).chain(text.match_indices('.').map(|(i, _)| i + 1));
                    for start in starts {
                        let suffix = &text[start..];
                        if normalize(IndicatorKind::Domain, suffix).as_deref() != Ok(suffix) {
                            continue;
                        }
                        // The word-at-a-time check and the byte loop may
                        // differ only in leaving a name to `normalize`.
                        let (word, byte) = (check_before(&name, start), check_before_bytes(&name, start));
                        assert!(
                            word == byte || word == Fast::Slow || byte == Fast::Slow,
                            "{raw:?} at {start}: {word:?} {byte:?}"
                        );
                        match word {
                            Fast::Normal(n) => {
                                assert_eq!(n, text.len());
                                assert_eq!(want.as_deref(), Ok(text.as_str()), "{raw:?} at {start}");
                                decided += 1;
                            }
                            Fast::Invalid => {
                                assert!(want.is_err(), "{raw:?} at {start}: {want:?}");
                                decided += 1;
                            }
                            Fast::Slow => {}
                        }
                    }
                }
                // An invalid raw name is one normalize rejects.
                Fast::Invalid => assert!(want.is_err(), "{raw:?}"),
                Fast::Slow => {}
            }
        }
        assert!(decided > 10_000, "{decided}");
    }

    /// The two lower-casings give the same bytes and masks, and tell
    /// non-ASCII apart, for every length of a short name.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn sixteen_bytes_at_a_time_agree_with_words() {
        let (ascii, other) = (b"aZz09.-_AM.xn--\x7f@[`{", b"\xc3\xa9\x80\xff");
        let mut next = xorshift(0x1234_5678);
        for _ in 0..20_000 {
            let len = 1 + next(63);
            // Mostly ASCII, so that most names are compared whole.
            let s: Vec<u8> = (0..len)
                .map(|_| if next(200) == 0 { other[next(other.len())] } else { ascii[next(ascii.len())] })
                .collect();
            let (mut a, mut b) = ([0u8; BUF], [0u8; BUF]);
            let (words, sse) = (lower_words(&s, &mut a), sse2::lower(&s, &mut b));
            assert_eq!(words.0 != 0, !s.is_ascii(), "{s:?}");
            assert_eq!(sse.0 != 0, !s.is_ascii(), "{s:?}");
            if !s.is_ascii() {
                // The words' arithmetic carries across a non-ASCII byte:
                // the caller gives up on the name then.
                continue;
            }
            assert_eq!(a[..len], b[..len], "{s:?}");
            assert_eq!(a[..len], s.to_ascii_lowercase()[..], "{s:?}");
            assert_eq!((words.1, words.2), (sse.1, sse.2), "{s:?}");
            let dots = s.iter().enumerate().filter(|(_, c)| **c == b'.').fold(0u64, |m, (i, _)| m | 1 << i);
            assert_eq!(sse.1, dots, "{s:?}");
        }
    }

    #[test]
    fn hex_digits() {
        let mut b = [0u8; 64];
        assert_eq!(hex(" AbC ", &mut b), Some(&b"abc"[..]));
        assert_eq!(hex("abg", &mut b), None);
        assert_eq!(hex(&"a".repeat(65), &mut b), None);
    }
}
