//! A forward-only reader of one JSON object per line that hands out the
//! members a caller names and validates-and-skips the rest, for the hot
//! log paths (EVE). serde_json's derived structs spend much of an EVE
//! line's time skipping members we do not use; this reader skips strings
//! eight bytes at a time and allocates nothing unless a string we keep has
//! escapes.
//!
//! It is a fast path, not a parser of record: every function answers
//! `None` for anything it is not sure about (escaped keys, numbers that do
//! not fit, a wrong type, a duplicated member we read, nesting deeper than
//! serde_json allows, malformed JSON), and the caller then parses the line
//! with serde, which gives the error message with its field and offset.
//! So where this reader answers, it must answer what serde would.

use std::borrow::Cow;

use super::text::Text;

/// serde_json's own recursion limit: deeper input goes to serde, which
/// reports it.
const MAX_DEPTH: usize = 100;

/// Bytes that end a run of plain string content: the closing quote, an
/// escape, and control characters (invalid inside a JSON string).
fn ends_plain_run(byte: u8) -> bool {
    byte < 0x20 || byte == b'"' || byte == b'\\'
}

/// Where the first byte that [`ends_plain_run`] is, eight bytes at a time
/// (a string is most of an EVE line, and a byte loop was the scanner's
/// largest cost). Each test below flags the lowest matching byte of a word
/// exactly (a borrow can only flag bytes above a real match), so the lowest
/// flag of the three is the answer.
fn plain_run_len(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let zero_byte = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS;
    let mut words = bytes.chunks_exact(8);
    let mut at = 0;
    for word in &mut words {
        let Ok(word) = <[u8; 8]>::try_from(word) else { break };
        let w = u64::from_le_bytes(word);
        let quote = zero_byte(w ^ (ONES * u64::from(b'"')));
        let backslash = zero_byte(w ^ (ONES * u64::from(b'\\')));
        let control = w.wrapping_sub(ONES * 0x20) & !w & HIGHS;
        let found = quote | backslash | control;
        if found != 0 {
            return Some(at + (found.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    words.remainder().iter().position(|&b| ends_plain_run(b)).map(|i| at + i)
}

pub(super) struct Scan<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Scan<'a> {
    pub fn new(text: &'a str) -> Self {
        Scan { text, at: 0 }
    }

    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes().get(self.at) {
            self.at += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.bytes().get(self.at).copied()
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.at += 1)
    }

    /// The next value is a string.
    pub fn is_string(&mut self) -> Option<bool> {
        Some(self.peek()? == b'"')
    }

    /// Only whitespace is left (serde_json refuses trailing characters).
    pub fn at_end(&mut self) -> bool {
        self.peek().is_none()
    }

    /// The raw content of a string (between its quotes) and whether it has
    /// escapes; the cursor is left after the closing quote.
    fn raw_string(&mut self) -> Option<(usize, usize, bool)> {
        self.eat(b'"')?;
        let start = self.at;
        let bytes = self.bytes();
        let mut escaped = false;
        loop {
            let stop = plain_run_len(bytes.get(self.at..)?)?;
            self.at += stop;
            match bytes.get(self.at)? {
                b'"' => {
                    self.at += 1;
                    return Some((start, self.at - 1, escaped));
                }
                b'\\' => {
                    escaped = true;
                    match bytes.get(self.at + 1)? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => self.at += 2,
                        b'u' => {
                            let hex = bytes.get(self.at + 2..self.at + 6)?;
                            if !hex.iter().all(u8::is_ascii_hexdigit) {
                                return None;
                            }
                            self.at += 6;
                        }
                        _ => return None,
                    }
                }
                _ => return None,
            }
        }
    }

    /// A string value, borrowed when it has no escapes. Escaped strings are
    /// decoded by serde_json (surrogate pairs and all).
    pub fn text(&mut self) -> Option<Text<'a>> {
        let (start, end, escaped) = self.raw_string()?;
        if !escaped {
            return self.text.get(start..end).map(|s| Text(Cow::Borrowed(s)));
        }
        let quoted = self.text.get(start - 1..end + 1)?;
        serde_json::from_str::<String>(quoted).ok().map(|s| Text(Cow::Owned(s)))
    }

    /// A member name; escaped names are left to serde (it would match
    /// `src\u005fip` to `src_ip`).
    fn key(&mut self) -> Option<&'a str> {
        let (start, end, escaped) = self.raw_string()?;
        if escaped {
            return None;
        }
        let key = self.text.get(start..end)?;
        self.eat(b':')?;
        Some(key)
    }

    /// `null` (true) or not (false, nothing consumed).
    fn null(&mut self) -> Option<bool> {
        if self.peek()? == b'n' {
            self.literal(b"null")?;
            return Some(true);
        }
        Some(false)
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        self.bytes().get(self.at..)?.starts_with(word).then(|| self.at += word.len())
    }

    /// A JSON number's extent, validated against the grammar.
    fn number(&mut self) -> Option<&'a str> {
        self.ws();
        let bytes = self.bytes();
        let start = self.at;
        let digits = |at: &mut usize| {
            let from = *at;
            while bytes.get(*at).is_some_and(u8::is_ascii_digit) {
                *at += 1;
            }
            *at > from
        };
        let mut at = start;
        if bytes.get(at) == Some(&b'-') {
            at += 1;
        }
        match bytes.get(at) {
            Some(b'0') => at += 1,
            Some(b'1'..=b'9') => {
                digits(&mut at);
            }
            _ => return None,
        }
        if bytes.get(at) == Some(&b'.') {
            at += 1;
            if !digits(&mut at) {
                return None;
            }
        }
        if let Some(b'e' | b'E') = bytes.get(at) {
            at += 1;
            if let Some(b'+' | b'-') = bytes.get(at) {
                at += 1;
            }
            if !digits(&mut at) {
                return None;
            }
        }
        self.at = at;
        self.text.get(start..at)
    }

    /// A number that fits `f64` (`Some(true)`), one that does not
    /// (`Some(false)`), or no number here (`None` inside: nothing consumed).
    pub fn finite_number(&mut self) -> Option<Option<bool>> {
        match self.peek()? {
            b'-' | b'0'..=b'9' => {
                let number = self.number()?;
                Some(Some(number.parse::<f64>().is_ok_and(f64::is_finite)))
            }
            _ => Some(None),
        }
    }

    /// An unsigned integer that fits `T`; anything else (negative, a
    /// fraction, an exponent, too big) goes to serde for its error.
    pub fn unsigned<T: TryFrom<u64>>(&mut self) -> Option<T> {
        let number = self.number()?;
        if !number.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        number.parse::<u64>().ok().and_then(|n| T::try_from(n).ok())
    }

    /// `null` as `None`, else the value read by `read` (serde's `Option`).
    pub fn nullable<T>(&mut self, read: impl FnOnce(&mut Self) -> Option<T>) -> Option<Option<T>> {
        if self.null()? { Some(None) } else { read(self).map(Some) }
    }

    /// Any value, validated and skipped.
    pub fn skip(&mut self) -> Option<()> {
        self.skip_at(0)
    }

    fn skip_at(&mut self, depth: usize) -> Option<()> {
        match self.peek()? {
            b'"' => self.raw_string().map(|_| ()),
            b'{' => {
                if depth >= MAX_DEPTH {
                    return None;
                }
                self.members_with(&[], depth + 1, |_, _| None)
            }
            b'[' => {
                if depth >= MAX_DEPTH {
                    return None;
                }
                self.elements(|s| s.skip_at(depth + 1))
            }
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            _ => self.number().map(|_| ()),
        }
    }

    /// An object whose members named in `keys` are handed to `value` by
    /// index (each at most once: serde refuses a duplicated field), the
    /// others skipped.
    pub fn members(&mut self, keys: &[&str], value: impl FnMut(usize, &mut Self) -> Option<()>) -> Option<()> {
        self.members_with(keys, 1, value)
    }

    fn members_with(
        &mut self,
        keys: &[&str],
        depth: usize,
        mut value: impl FnMut(usize, &mut Self) -> Option<()>,
    ) -> Option<()> {
        self.eat(b'{')?;
        if self.peek()? == b'}' {
            self.at += 1;
            return Some(());
        }
        let mut seen = 0u64;
        loop {
            let key = self.key()?;
            // Length and first byte first: most members are not ours.
            let ours = |k: &&str| k.len() == key.len() && k.as_bytes().first() == key.as_bytes().first() && *k == key;
            match keys.iter().position(ours) {
                Some(index) => {
                    let bit = 1u64.checked_shl(u32::try_from(index).ok()?)?;
                    if seen & bit != 0 {
                        return None;
                    }
                    seen |= bit;
                    value(index, self)?;
                }
                None => self.skip_at(depth)?,
            }
            match self.peek()? {
                b',' => self.at += 1,
                b'}' => {
                    self.at += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// An array, each element read by `element`.
    pub fn elements(&mut self, mut element: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.eat(b'[')?;
        if self.peek()? == b']' {
            self.at += 1;
            return Some(());
        }
        loop {
            element(self)?;
            match self.peek()? {
                b',' => self.at += 1,
                b']' => {
                    self.at += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// An array of strings.
    pub fn texts(&mut self) -> Option<Vec<Text<'a>>> {
        let mut texts = Vec::new();
        self.elements(|s| {
            texts.push(s.text()?);
            Some(())
        })?;
        Some(texts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(json: &str, keys: &[&str]) -> Option<Vec<(usize, String)>> {
        let mut scan = Scan::new(json);
        let mut got = Vec::new();
        scan.members(keys, |i, s| {
            let value = s.nullable(|s| s.text())?;
            got.push((i, value.map_or("null".into(), |t| t.0.into_owned())));
            Some(())
        })?;
        scan.at_end().then_some(got)
    }

    #[test]
    fn named_members_are_read_and_the_rest_skipped() {
        let json = r#"{"a":1.5e-3,"b":"x\"y","c":{"d":[true,false,null,{"e":[]}]},"f":"\u00e9\/","g":null}"#;
        assert_eq!(read(json, &["b", "f", "g"]), Some(vec![(0, "x\"y".into()), (1, "é/".into()), (2, "null".into())]));
    }

    #[test]
    fn anything_unsure_is_left_to_serde() {
        for json in [
            r#"{"a":"x","a":"y"}"#,  // duplicated member we read
            r#"{"\u0061":"x"}"#,     // escaped key
            r#"{"a":1}"#,            // wrong type
            r#"{"b":01}"#,           // bad number
            r#"{"b":"tab	inside"}"#, // control character
            r#"{"b":"x"} trailing"#, // trailing characters
            r#"{"b":tru}"#,          // bad literal
            r#"{"b":[1,]}"#,         // trailing comma
            r#"{"b":"\x"}"#,         // bad escape
            r#"{"a":"x""#,           // truncated
        ] {
            assert_eq!(read(json, &["a"]), None, "{json}");
        }
        let deep = format!("{{\"b\":{}{}}}", "[".repeat(200), "]".repeat(200));
        assert_eq!(read(&deep, &["a"]), None);
        let fine = format!("{{\"b\":{}{}}}", "[".repeat(50), "]".repeat(50));
        assert_eq!(read(&fine, &["a"]), Some(vec![]));
    }

    #[test]
    fn plain_runs_end_at_the_first_quote_escape_or_control_byte() {
        for len in 0..40 {
            for stop in [b'"', b'\\', 0x00, 0x1f] {
                // UTF-8 and bytes just above the stops around them.
                let mut text: Vec<u8> = "aé#]~ !".bytes().cycle().take(len).collect();
                let expected = text.len();
                text.push(stop);
                text.extend_from_slice(b"\"x\\");
                assert_eq!(plain_run_len(&text), Some(expected), "{len} {stop}");
                assert_eq!(plain_run_len(&text[..expected]), None);
            }
        }
    }

    #[test]
    fn integers_must_fit() {
        let int = |json: &str| Scan::new(json).unsigned::<u16>();
        assert_eq!(int("65535"), Some(65535));
        assert_eq!(int("65536"), None);
        assert_eq!(int("-1"), None);
        assert_eq!(int("1.0"), None);
        assert_eq!(int("1e2"), None);
        assert_eq!(int("99999999999999999999999"), None);
    }
}
