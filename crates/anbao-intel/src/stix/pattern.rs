//! STIX 2.1 patterning (STIX 2.1 Part 5 and the OASIS ANTLR grammar
//! `STIXPattern.g4` it references): a parser to a small AST, a printer
//! whose output parses back to the same AST, and [`lookups`], which turns
//! the patterns a match index can answer into indicator values.
//!
//! Grammar facts followed (2.1, not 2.0): keywords are upper case
//! (`AND OR NOT FOLLOWEDBY LIKE MATCHES ISSUBSET ISSUPERSET EXISTS IN START
//! STOP WITHIN SECONDS REPEATS TIMES`, and `LAST` is reserved), booleans are
//! `true`/`false`; `=`/`==`, `!=`/`<>`; `NOT` stands between the object path
//! and the operator (`a:b NOT = 'x'`) or before `EXISTS`; precedence from
//! loosest: `FOLLOWEDBY`, `OR`, `AND` between observations, `OR`, `AND`
//! inside `[ ]`; qualifiers follow an observation expression and may be
//! stacked. Integers have no leading zeros (`-0` is allowed), floats are
//! `[+-]?[0-9]*\.[0-9]+` (no exponent), `WITHIN` takes a non-negative number
//! and `REPEATS` a non-negative integer, `START`/`STOP` take `t'…'`
//! timestamps (`YYYY-MM-DDTHH:MM:SS[.fraction]Z`, seconds up to 60), `h'…'`
//! is pairs of hex digits, `b'…'` is padded base64 (not empty). Property
//! names with characters other than letters, digits and `_` must be quoted
//! (`hashes.'SHA-256'`); object types may contain `-`. Whitespace includes
//! the Unicode spaces the grammar lists; `/* */` and `//` comments are
//! skipped.
//!
//! Hostile input: patterns longer than [`MAX_PATTERN_LEN`] bytes and
//! nesting (brackets and parentheses) deeper than [`MAX_DEPTH`] are errors,
//! so recursion is bounded; chains of `AND`/`OR`/qualifiers are loops, and
//! every step consumes input, so parsing is linear.

use std::collections::HashSet;
use std::fmt;
use std::net::Ipv4Addr;

use crate::normalize::{IndicatorKind, normalize};
use crate::record::clip;

/// Longest pattern parsed, in bytes (an `IN` list of thousands of hashes
/// fits; a bundle of patterns each this long does not need to).
pub const MAX_PATTERN_LEN: usize = 1 << 20;

/// Deepest nesting of `[`/`(` accepted.
pub const MAX_DEPTH: usize = 64;

/// Why a pattern does not parse: where (byte offset into the pattern), what
/// the parser expected there and what it found.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("at byte {offset}: expected {expected}, found {found}")]
pub struct PatternError {
    pub offset: usize,
    pub expected: String,
    pub found: String,
}

impl PatternError {
    fn new(offset: usize, expected: impl Into<String>, found: impl Into<String>) -> Self {
        PatternError { offset, expected: expected.into(), found: found.into() }
    }
}

/// A parsed pattern.
#[derive(Clone, Debug, PartialEq)]
pub struct Pattern {
    pub expr: ObservationExpr,
}

/// Observation expressions. Chains of one operator are flattened into one
/// vector (`[a] OR [b] OR [c]` is one `Or` of three); a nested vector of the
/// same operator comes from parentheses.
#[derive(Clone, Debug, PartialEq)]
pub enum ObservationExpr {
    /// `[ comparison expression ]`.
    Observation(ComparisonExpr),
    And(Vec<ObservationExpr>),
    Or(Vec<ObservationExpr>),
    FollowedBy(Vec<ObservationExpr>),
    Qualified(Box<ObservationExpr>, Qualifier),
}

/// A qualifier after an observation expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Qualifier {
    /// `WITHIN n SECONDS`; the constant is an [`Constant::Int`] or a
    /// [`Constant::Float`], never negative.
    Within(Constant),
    /// `REPEATS n TIMES`.
    Repeats(u64),
    /// `START t'…' STOP t'…'`, the timestamps as written.
    StartStop { start: String, stop: String },
}

/// Comparison expressions inside `[ ]`.
#[derive(Clone, Debug, PartialEq)]
pub enum ComparisonExpr {
    And(Vec<ComparisonExpr>),
    Or(Vec<ComparisonExpr>),
    Test(Comparison),
}

/// One comparison: `path [NOT] operator operand`, or `[NOT] EXISTS path`.
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    pub path: ObjectPath,
    pub negated: bool,
    pub op: Operator,
}

/// A comparison operator with its operand.
#[derive(Clone, Debug, PartialEq)]
pub enum Operator {
    Eq(Constant),
    Ne(Constant),
    Gt(Constant),
    Lt(Constant),
    Ge(Constant),
    Le(Constant),
    In(Vec<Constant>),
    Like(String),
    Matches(String),
    IsSubset(String),
    IsSuperset(String),
    Exists,
}

impl Operator {
    /// The operator as written in patterns.
    pub fn as_str(&self) -> &'static str {
        match self {
            Operator::Eq(_) => "=",
            Operator::Ne(_) => "!=",
            Operator::Gt(_) => ">",
            Operator::Lt(_) => "<",
            Operator::Ge(_) => ">=",
            Operator::Le(_) => "<=",
            Operator::In(_) => "IN",
            Operator::Like(_) => "LIKE",
            Operator::Matches(_) => "MATCHES",
            Operator::IsSubset(_) => "ISSUBSET",
            Operator::IsSuperset(_) => "ISSUPERSET",
            Operator::Exists => "EXISTS",
        }
    }
}

/// `object-type:property.sub[*].'quoted'…`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ObjectPath {
    pub object_type: String,
    /// The first step is always a [`PathStep::Key`].
    pub steps: Vec<PathStep>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PathStep {
    Key(String),
    Index(i64),
    AnyIndex,
}

/// A constant. Strings are unescaped; timestamps are kept as written
/// (without `t'…'`); hex and binary are decoded.
#[derive(Clone, Debug, PartialEq)]
pub enum Constant {
    String(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Timestamp(String),
    Hex(Vec<u8>),
    Binary(Vec<u8>),
}

impl std::str::FromStr for Pattern {
    type Err = PatternError;
    fn from_str(s: &str) -> Result<Self, PatternError> {
        parse(s)
    }
}

/// Parses a STIX 2.1 pattern.
pub fn parse(src: &str) -> Result<Pattern, PatternError> {
    if src.len() > MAX_PATTERN_LEN {
        return Err(PatternError::new(
            0,
            format!("a pattern of at most {MAX_PATTERN_LEN} bytes"),
            format!("{} bytes", src.len()),
        ));
    }
    let mut p = Parser::new(src)?;
    let expr = p.obs_followedby()?;
    if p.tok != Tok::Eof {
        return Err(p.unexpected("an observation operator (AND, OR, FOLLOWEDBY), a qualifier or the end"));
    }
    Ok(Pattern { expr })
}

// ---------------------------------------------------------------- lexer

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kw {
    And,
    Or,
    Not,
    FollowedBy,
    Like,
    Matches,
    IsSuperset,
    IsSubset,
    Exists,
    Last,
    In,
    Start,
    Stop,
    Seconds,
    Within,
    Repeats,
    Times,
}

const KEYWORDS: [(&str, Kw); 17] = [
    ("AND", Kw::And),
    ("OR", Kw::Or),
    ("NOT", Kw::Not),
    ("FOLLOWEDBY", Kw::FollowedBy),
    ("LIKE", Kw::Like),
    ("MATCHES", Kw::Matches),
    ("ISSUPERSET", Kw::IsSuperset),
    ("ISSUBSET", Kw::IsSubset),
    ("EXISTS", Kw::Exists),
    ("LAST", Kw::Last),
    ("IN", Kw::In),
    ("START", Kw::Start),
    ("STOP", Kw::Stop),
    ("SECONDS", Kw::Seconds),
    ("WITHIN", Kw::Within),
    ("REPEATS", Kw::Repeats),
    ("TIMES", Kw::Times),
];

fn keyword(s: &str) -> Option<Kw> {
    KEYWORDS.iter().find(|(k, _)| *k == s).map(|(_, kw)| *kw)
}

#[derive(Clone, Debug, PartialEq)]
enum Tok<'a> {
    LBrack,
    RBrack,
    LParen,
    RParen,
    Colon,
    Dot,
    Comma,
    Star,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Kw(Kw),
    /// `[a-zA-Z_][a-zA-Z0-9_-]*`, not a keyword.
    Ident(&'a str),
    Str(String),
    /// `neg` for a leading `-` (`-0` included).
    Int {
        value: i64,
        neg: bool,
    },
    Float {
        value: f64,
        neg: bool,
    },
    Bool(bool),
    Timestamp(&'a str),
    Hex(Vec<u8>),
    Binary(Vec<u8>),
    Eof,
}

impl Tok<'_> {
    fn describe(&self) -> String {
        match self {
            Tok::LBrack => "'['".into(),
            Tok::RBrack => "']'".into(),
            Tok::LParen => "'('".into(),
            Tok::RParen => "')'".into(),
            Tok::Colon => "':'".into(),
            Tok::Dot => "'.'".into(),
            Tok::Comma => "','".into(),
            Tok::Star => "'*'".into(),
            Tok::Eq => "'='".into(),
            Tok::Ne => "'!='".into(),
            Tok::Lt => "'<'".into(),
            Tok::Le => "'<='".into(),
            Tok::Gt => "'>'".into(),
            Tok::Ge => "'>='".into(),
            Tok::Kw(k) => {
                let name = KEYWORDS.iter().find(|(_, kw)| kw == k).map(|(s, _)| *s).unwrap_or("keyword");
                format!("keyword {name}")
            }
            Tok::Ident(s) => format!("{:?}", clip(s, 40)),
            Tok::Str(_) => "a string".into(),
            Tok::Int { .. } => "an integer".into(),
            Tok::Float { .. } => "a number".into(),
            Tok::Bool(_) => "a boolean".into(),
            Tok::Timestamp(_) => "a timestamp".into(),
            Tok::Hex(_) => "a hex constant".into(),
            Tok::Binary(_) => "a binary constant".into(),
            Tok::Eof => "the end of the pattern".into(),
        }
    }
}

/// The whitespace characters of the grammar's `WS` rule.
fn is_ws(c: char) -> bool {
    matches!(
        c,
        ' ' | '\t' | '\r' | '\n' | '\u{b}' | '\u{c}' | '\u{85}' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}' | '\u{2028}' | '\u{2029}' | '\u{202f}' | '\u{205f}' | '\u{3000}'
    )
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_ident_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

struct Lexer<'a> {
    src: &'a str,
    pos: usize,
}

impl<'a> Lexer<'a> {
    fn rest(&self) -> &'a str {
        self.src.get(self.pos..).unwrap_or_default()
    }

    fn byte_at(&self, i: usize) -> Option<u8> {
        self.src.as_bytes().get(i).copied()
    }

    fn found_here(&self) -> String {
        match self.rest().chars().next() {
            Some(c) => format!("{c:?}"),
            None => "the end of the pattern".to_owned(),
        }
    }

    fn skip_ws(&mut self) -> Result<(), PatternError> {
        loop {
            let rest = self.rest();
            if let Some(c) = rest.chars().next().filter(|c| is_ws(*c)) {
                self.pos += c.len_utf8();
            } else if let Some(body) = rest.strip_prefix("/*") {
                match body.find("*/") {
                    Some(end) => self.pos += 2 + end + 2,
                    None => {
                        return Err(PatternError::new(self.pos, "'*/' closing the comment", "the end of the pattern"));
                    }
                }
            } else if rest.starts_with("//") {
                self.pos += rest.find(['\r', '\n']).unwrap_or(rest.len());
            } else {
                return Ok(());
            }
        }
    }

    /// The next token and its byte offset.
    fn next(&mut self) -> Result<(usize, Tok<'a>), PatternError> {
        self.skip_ws()?;
        let start = self.pos;
        let Some(b) = self.byte_at(start) else {
            return Ok((start, Tok::Eof));
        };
        let next = self.byte_at(start + 1);
        let single = |t| Ok((start, t));
        let tok = match b {
            b'[' => Tok::LBrack,
            b']' => Tok::RBrack,
            b'(' => Tok::LParen,
            b')' => Tok::RParen,
            b':' => Tok::Colon,
            b',' => Tok::Comma,
            b'*' => Tok::Star,
            b'.' if next.is_some_and(|n| n.is_ascii_digit()) => return self.number(),
            b'.' => Tok::Dot,
            b'=' if next == Some(b'=') => {
                self.pos += 2;
                return single(Tok::Eq);
            }
            b'=' => Tok::Eq,
            b'!' if next == Some(b'=') => {
                self.pos += 2;
                return single(Tok::Ne);
            }
            b'<' if next == Some(b'=') => {
                self.pos += 2;
                return single(Tok::Le);
            }
            b'<' if next == Some(b'>') => {
                self.pos += 2;
                return single(Tok::Ne);
            }
            b'<' => Tok::Lt,
            b'>' if next == Some(b'=') => {
                self.pos += 2;
                return single(Tok::Ge);
            }
            b'>' => Tok::Gt,
            b'\'' => {
                let s = self.string()?;
                return single(Tok::Str(s));
            }
            b'+' | b'-' | b'0'..=b'9' => return self.number(),
            b't' if next == Some(b'\'') => return self.timestamp(),
            b'h' if next == Some(b'\'') => return self.hex(),
            b'b' if next == Some(b'\'') => return self.binary(),
            b if is_ident_start(b) => {
                let len = self.rest().bytes().take_while(|b| is_ident_char(*b)).count();
                let word = self.rest().get(..len).unwrap_or_default();
                self.pos += len;
                let tok = match word {
                    "true" => Tok::Bool(true),
                    "false" => Tok::Bool(false),
                    w => keyword(w).map(Tok::Kw).unwrap_or(Tok::Ident(w)),
                };
                return single(tok);
            }
            _ => return Err(PatternError::new(start, "a token", self.found_here())),
        };
        self.pos += 1;
        single(tok)
    }

    /// A quoted string starting at `self.pos` (the opening quote); returns
    /// the unescaped text and leaves `pos` after the closing quote.
    fn string(&mut self) -> Result<String, PatternError> {
        let open = self.pos;
        let body = self.src.get(open + 1..).unwrap_or_default();
        let mut out = String::new();
        let mut chars = body.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\'' => {
                    self.pos = open + 1 + i + 1;
                    return Ok(out);
                }
                '\\' => match chars.next() {
                    Some((_, e @ ('\'' | '\\'))) => out.push(e),
                    Some((j, e)) => {
                        return Err(PatternError::new(
                            open + 1 + j,
                            "\\' or \\\\ (the only escapes)",
                            format!("\\{e}"),
                        ));
                    }
                    None => break,
                },
                c => out.push(c),
            }
        }
        Err(PatternError::new(open, "a closing quote for this string", "the end of the pattern"))
    }

    /// The raw body of `x'…'` (no escapes) starting at `self.pos`.
    fn prefixed_body(&mut self, what: &str) -> Result<(usize, &'a str), PatternError> {
        let start = self.pos;
        let body_start = start + 2;
        let body = self.src.get(body_start..).unwrap_or_default();
        match body.find('\'') {
            Some(end) => {
                self.pos = body_start + end + 1;
                Ok((start, body.get(..end).unwrap_or_default()))
            }
            None => Err(PatternError::new(start, format!("a closing quote for this {what}"), "the end of the pattern")),
        }
    }

    fn timestamp(&mut self) -> Result<(usize, Tok<'a>), PatternError> {
        let (start, body) = self.prefixed_body("timestamp")?;
        if !valid_timestamp(body) {
            return Err(PatternError::new(
                start,
                "a timestamp t'YYYY-MM-DDTHH:MM:SS[.s]Z'",
                format!("t'{}'", clip(body, 40)),
            ));
        }
        Ok((start, Tok::Timestamp(body)))
    }

    fn hex(&mut self) -> Result<(usize, Tok<'a>), PatternError> {
        let (start, body) = self.prefixed_body("hex constant")?;
        decode_hex(body)
            .map(|v| (start, Tok::Hex(v)))
            .ok_or_else(|| PatternError::new(start, "pairs of hex digits in h'…'", format!("h'{}'", clip(body, 40))))
    }

    fn binary(&mut self) -> Result<(usize, Tok<'a>), PatternError> {
        let (start, body) = self.prefixed_body("binary constant")?;
        decode_base64(body)
            .map(|v| (start, Tok::Binary(v)))
            .ok_or_else(|| PatternError::new(start, "padded base64 in b'…'", format!("b'{}'", clip(body, 40))))
    }

    fn number(&mut self) -> Result<(usize, Tok<'a>), PatternError> {
        let start = self.pos;
        let bytes = self.src.as_bytes();
        let mut i = start;
        let neg = bytes.get(i) == Some(&b'-');
        if matches!(bytes.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let int_start = i;
        while bytes.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        let int_digits = i - int_start;
        let is_float = bytes.get(i) == Some(&b'.') && bytes.get(i + 1).is_some_and(u8::is_ascii_digit);
        if is_float {
            i += 1;
            while bytes.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
        }
        let text = self.src.get(start..i).unwrap_or_default();
        self.pos = i;
        if is_float {
            let value: f64 = text.parse().map_err(|_| PatternError::new(start, "a number", clip(text, 40)))?;
            if !value.is_finite() {
                return Err(PatternError::new(start, "a number of finite size", clip(text, 40)));
            }
            return Ok((start, Tok::Float { value, neg }));
        }
        if int_digits == 0 {
            return Err(PatternError::new(start, "a number", self.found_after(start)));
        }
        if int_digits > 1 && bytes.get(int_start) == Some(&b'0') {
            return Err(PatternError::new(start, "an integer without leading zeros", clip(text, 40)));
        }
        let value: i64 = text
            .strip_prefix('+')
            .unwrap_or(text)
            .parse()
            .map_err(|_| PatternError::new(start, "an integer that fits in 64 bits", clip(text, 40)))?;
        Ok((start, Tok::Int { value, neg }))
    }

    fn found_after(&self, start: usize) -> String {
        let s = self.src.get(start..).unwrap_or_default();
        if s.is_empty() { "the end of the pattern".to_owned() } else { format!("{:?}", clip(s, 8)) }
    }
}

fn digits(s: &str, at: usize, n: usize) -> Option<u32> {
    let part = s.get(at..at + n)?;
    if part.bytes().all(|b| b.is_ascii_digit()) { part.parse().ok() } else { None }
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction]Z` with the grammar's ranges.
fn valid_timestamp(s: &str) -> bool {
    let seps = [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')];
    if !seps.iter().all(|(i, c)| s.as_bytes().get(*i) == Some(c)) {
        return false;
    }
    let ok = digits(s, 0, 4).is_some()
        && digits(s, 5, 2).is_some_and(|m| (1..=12).contains(&m))
        && digits(s, 8, 2).is_some_and(|d| (1..=31).contains(&d))
        && digits(s, 11, 2).is_some_and(|h| h <= 23)
        && digits(s, 14, 2).is_some_and(|m| m <= 59)
        && digits(s, 17, 2).is_some_and(|s| s <= 60);
    if !ok {
        return false;
    }
    match s.get(19..) {
        Some("Z") => true,
        Some(rest) => rest
            .strip_prefix('.')
            .and_then(|r| r.strip_suffix('Z'))
            .is_some_and(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit())),
        None => false,
    }
}

fn hex_val(b: u8) -> Option<u8> {
    char::from(b).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    s.as_bytes().chunks_exact(2).map(|p| Some(hex_val(*p.first()?)? << 4 | hex_val(*p.get(1)?)?)).collect()
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn b64_val(b: u8) -> Option<u32> {
    B64.iter().position(|c| *c == b).and_then(|p| u32::try_from(p).ok())
}

/// Padded base64, at least one group, as the grammar's `BinaryLiteral`.
fn decode_base64(s: &str) -> Option<Vec<u8>> {
    if s.is_empty() || !s.len().is_multiple_of(4) {
        return None;
    }
    let groups = s.len() / 4;
    let mut out = Vec::with_capacity(groups * 3);
    for (g, chunk) in s.as_bytes().chunks_exact(4).enumerate() {
        let last = g + 1 == groups;
        let pad = chunk.iter().rev().take_while(|b| **b == b'=').count();
        if pad > 2 || (pad > 0 && !last) {
            return None;
        }
        let mut acc: u32 = 0;
        for b in chunk.iter().take(4 - pad) {
            acc = acc << 6 | b64_val(*b)?;
        }
        acc <<= 6 * u32::try_from(pad).ok()?;
        let bytes = acc.to_be_bytes();
        out.extend(bytes.iter().skip(1).take(3 - pad));
    }
    Some(out)
}

fn encode_base64(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let mut buf = [0u8; 3];
        for (dst, src) in buf.iter_mut().zip(chunk) {
            *dst = *src;
        }
        let [a, b, c] = buf;
        let n = u32::from_be_bytes([0, a, b, c]);
        for k in 0..4 {
            if k <= chunk.len() {
                let idx = (n >> (18 - 6 * k)) & 63;
                out.push(B64.get(idx as usize).map(|b| char::from(*b)).unwrap_or('A'));
            } else {
                out.push('=');
            }
        }
    }
    out
}

// ---------------------------------------------------------------- parser

struct Parser<'a> {
    lex: Lexer<'a>,
    tok: Tok<'a>,
    at: usize,
    depth: usize,
}

impl<'a> Parser<'a> {
    fn new(src: &'a str) -> Result<Self, PatternError> {
        let mut lex = Lexer { src, pos: 0 };
        let (at, tok) = lex.next()?;
        Ok(Parser { lex, tok, at, depth: 0 })
    }

    fn bump(&mut self) -> Result<Tok<'a>, PatternError> {
        let (at, tok) = self.lex.next()?;
        self.at = at;
        Ok(std::mem::replace(&mut self.tok, tok))
    }

    fn unexpected(&self, expected: &str) -> PatternError {
        let mut found = self.tok.describe();
        // 2.0 patterns had case-insensitive keywords; say why `and` fails.
        if let Tok::Ident(w) = self.tok
            && let Some(k) = keyword(&w.to_ascii_uppercase())
            && k != Kw::Last
        {
            found = format!("{found} (keywords are upper case in STIX 2.1: {})", w.to_ascii_uppercase());
        }
        PatternError::new(self.at, expected, found)
    }

    fn expect(&mut self, want: &Tok<'_>, expected: &str) -> Result<(), PatternError> {
        if &self.tok == want {
            self.bump()?;
            Ok(())
        } else {
            Err(self.unexpected(expected))
        }
    }

    fn enter(&mut self) -> Result<(), PatternError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(PatternError::new(self.at, format!("at most {MAX_DEPTH} nested brackets"), "deeper nesting"));
        }
        Ok(())
    }

    fn obs_followedby(&mut self) -> Result<ObservationExpr, PatternError> {
        self.obs_chain(Kw::FollowedBy, Self::obs_or, ObservationExpr::FollowedBy)
    }

    fn obs_or(&mut self) -> Result<ObservationExpr, PatternError> {
        self.obs_chain(Kw::Or, Self::obs_and, ObservationExpr::Or)
    }

    fn obs_and(&mut self) -> Result<ObservationExpr, PatternError> {
        self.obs_chain(Kw::And, Self::obs_qualified, ObservationExpr::And)
    }

    fn obs_chain(
        &mut self,
        op: Kw,
        operand: fn(&mut Self) -> Result<ObservationExpr, PatternError>,
        make: fn(Vec<ObservationExpr>) -> ObservationExpr,
    ) -> Result<ObservationExpr, PatternError> {
        let first = operand(self)?;
        if self.tok != Tok::Kw(op) {
            return Ok(first);
        }
        let mut all = vec![first];
        while self.tok == Tok::Kw(op) {
            self.bump()?;
            all.push(operand(self)?);
        }
        Ok(make(all))
    }

    fn obs_qualified(&mut self) -> Result<ObservationExpr, PatternError> {
        let mut e = self.obs_primary()?;
        loop {
            let q = match self.tok {
                Tok::Kw(Kw::Within) => {
                    self.bump()?;
                    let n = match self.tok {
                        Tok::Int { value, neg: false } => Constant::Int(value),
                        Tok::Float { value, neg: false } => Constant::Float(value),
                        _ => return Err(self.unexpected("a non-negative number of seconds")),
                    };
                    self.bump()?;
                    self.expect(&Tok::Kw(Kw::Seconds), "SECONDS")?;
                    Qualifier::Within(n)
                }
                Tok::Kw(Kw::Repeats) => {
                    self.bump()?;
                    let n = match self.tok {
                        Tok::Int { value, neg: false } => u64::try_from(value).unwrap_or(0),
                        _ => return Err(self.unexpected("a non-negative integer")),
                    };
                    self.bump()?;
                    self.expect(&Tok::Kw(Kw::Times), "TIMES")?;
                    Qualifier::Repeats(n)
                }
                Tok::Kw(Kw::Start) => {
                    self.bump()?;
                    let start = self.timestamp_tok()?;
                    self.expect(&Tok::Kw(Kw::Stop), "STOP")?;
                    let stop = self.timestamp_tok()?;
                    Qualifier::StartStop { start, stop }
                }
                _ => return Ok(e),
            };
            e = ObservationExpr::Qualified(Box::new(e), q);
        }
    }

    fn timestamp_tok(&mut self) -> Result<String, PatternError> {
        match self.tok {
            Tok::Timestamp(t) => {
                let t = t.to_owned();
                self.bump()?;
                Ok(t)
            }
            _ => Err(self.unexpected("a timestamp t'…'")),
        }
    }

    fn obs_primary(&mut self) -> Result<ObservationExpr, PatternError> {
        match self.tok {
            Tok::LBrack => {
                self.enter()?;
                self.bump()?;
                let c = self.cmp_or()?;
                self.expect(&Tok::RBrack, "']' or a boolean operator (AND, OR)")?;
                self.depth -= 1;
                Ok(ObservationExpr::Observation(c))
            }
            Tok::LParen => {
                self.enter()?;
                self.bump()?;
                let e = self.obs_followedby()?;
                self.expect(&Tok::RParen, "')' or an observation operator")?;
                self.depth -= 1;
                Ok(e)
            }
            _ => Err(self.unexpected("'[' or '(' starting an observation expression")),
        }
    }

    fn cmp_or(&mut self) -> Result<ComparisonExpr, PatternError> {
        self.cmp_chain(Kw::Or, Self::cmp_and, ComparisonExpr::Or)
    }

    fn cmp_and(&mut self) -> Result<ComparisonExpr, PatternError> {
        self.cmp_chain(Kw::And, Self::prop_test, ComparisonExpr::And)
    }

    fn cmp_chain(
        &mut self,
        op: Kw,
        operand: fn(&mut Self) -> Result<ComparisonExpr, PatternError>,
        make: fn(Vec<ComparisonExpr>) -> ComparisonExpr,
    ) -> Result<ComparisonExpr, PatternError> {
        let first = operand(self)?;
        if self.tok != Tok::Kw(op) {
            return Ok(first);
        }
        let mut all = vec![first];
        while self.tok == Tok::Kw(op) {
            self.bump()?;
            all.push(operand(self)?);
        }
        Ok(make(all))
    }

    fn prop_test(&mut self) -> Result<ComparisonExpr, PatternError> {
        match self.tok {
            Tok::LParen => {
                self.enter()?;
                self.bump()?;
                let c = self.cmp_or()?;
                self.expect(&Tok::RParen, "')' or a boolean operator (AND, OR)")?;
                self.depth -= 1;
                Ok(c)
            }
            Tok::Kw(Kw::Not) => {
                self.bump()?;
                self.expect(&Tok::Kw(Kw::Exists), "EXISTS (NOT goes after the object path)")?;
                let path = self.object_path()?;
                Ok(ComparisonExpr::Test(Comparison { path, negated: true, op: Operator::Exists }))
            }
            Tok::Kw(Kw::Exists) => {
                self.bump()?;
                let path = self.object_path()?;
                Ok(ComparisonExpr::Test(Comparison { path, negated: false, op: Operator::Exists }))
            }
            Tok::Ident(_) => {
                let path = self.object_path()?;
                let negated = self.tok == Tok::Kw(Kw::Not);
                if negated {
                    self.bump()?;
                }
                let op = self.operator()?;
                Ok(ComparisonExpr::Test(Comparison { path, negated, op }))
            }
            _ => Err(self.unexpected("a comparison (object-type:property …), '(' or EXISTS")),
        }
    }

    fn operator(&mut self) -> Result<Operator, PatternError> {
        let tok = self.tok.clone();
        let op = match tok {
            Tok::Eq | Tok::Ne => {
                self.bump()?;
                let c = self.constant(true)?;
                if tok == Tok::Eq { Operator::Eq(c) } else { Operator::Ne(c) }
            }
            Tok::Gt | Tok::Lt | Tok::Ge | Tok::Le => {
                self.bump()?;
                let c = self.constant(false)?;
                match tok {
                    Tok::Gt => Operator::Gt(c),
                    Tok::Lt => Operator::Lt(c),
                    Tok::Ge => Operator::Ge(c),
                    _ => Operator::Le(c),
                }
            }
            Tok::Kw(Kw::In) => {
                self.bump()?;
                self.expect(&Tok::LParen, "'(' starting the set")?;
                let mut set = Vec::new();
                if self.tok != Tok::RParen {
                    set.push(self.constant(true)?);
                    while self.tok == Tok::Comma {
                        self.bump()?;
                        set.push(self.constant(true)?);
                    }
                }
                self.expect(&Tok::RParen, "',' or ')' closing the set")?;
                Operator::In(set)
            }
            Tok::Kw(k @ (Kw::Like | Kw::Matches | Kw::IsSubset | Kw::IsSuperset)) => {
                self.bump()?;
                let Tok::Str(s) = self.bump_if_string()? else {
                    return Err(self.unexpected("a string"));
                };
                match k {
                    Kw::Like => Operator::Like(s),
                    Kw::Matches => Operator::Matches(s),
                    Kw::IsSubset => Operator::IsSubset(s),
                    _ => Operator::IsSuperset(s),
                }
            }
            _ => {
                return Err(self.unexpected(
                    "a comparison operator (=, !=, >, <, >=, <=, IN, LIKE, MATCHES, ISSUBSET, ISSUPERSET)",
                ));
            }
        };
        Ok(op)
    }

    /// If the current token is a string, consumes and returns it; else
    /// returns [`Tok::Eof`] without consuming anything.
    fn bump_if_string(&mut self) -> Result<Tok<'a>, PatternError> {
        if matches!(self.tok, Tok::Str(_)) { self.bump() } else { Ok(Tok::Eof) }
    }

    /// A constant; booleans only where `allow_bool` (the grammar's
    /// `primitiveLiteral` vs `orderableLiteral`).
    fn constant(&mut self, allow_bool: bool) -> Result<Constant, PatternError> {
        let c = match &self.tok {
            Tok::Str(_) => {
                let Tok::Str(s) = self.bump()? else { return Err(self.unexpected("a string")) };
                return Ok(Constant::String(s));
            }
            Tok::Int { value, .. } => Constant::Int(*value),
            Tok::Float { value, .. } => Constant::Float(*value),
            Tok::Bool(b) if allow_bool => Constant::Bool(*b),
            Tok::Timestamp(t) => Constant::Timestamp((*t).to_owned()),
            Tok::Hex(_) | Tok::Binary(_) => match self.bump()? {
                Tok::Hex(v) => return Ok(Constant::Hex(v)),
                Tok::Binary(v) => return Ok(Constant::Binary(v)),
                _ => return Err(self.unexpected("a constant")),
            },
            _ => {
                return Err(self.unexpected(if allow_bool {
                    "a constant (string, number, boolean, t'…', h'…', b'…')"
                } else {
                    "an orderable constant (string, number, t'…', h'…', b'…')"
                }));
            }
        };
        self.bump()?;
        Ok(c)
    }

    fn object_path(&mut self) -> Result<ObjectPath, PatternError> {
        let object_type = match self.tok {
            Tok::Ident(t) => t.to_owned(),
            _ => return Err(self.unexpected("an object type")),
        };
        self.bump()?;
        self.expect(&Tok::Colon, "':' after the object type")?;
        let mut steps = vec![PathStep::Key(self.property()?)];
        loop {
            match self.tok {
                Tok::Dot => {
                    self.bump()?;
                    steps.push(PathStep::Key(self.property()?));
                }
                Tok::LBrack => {
                    self.bump()?;
                    let step = match self.tok {
                        Tok::Int { value, .. } => PathStep::Index(value),
                        Tok::Star => PathStep::AnyIndex,
                        _ => return Err(self.unexpected("an index or '*'")),
                    };
                    self.bump()?;
                    self.expect(&Tok::RBrack, "']' closing the index")?;
                    steps.push(step);
                }
                _ => return Ok(ObjectPath { object_type, steps }),
            }
        }
    }

    fn property(&mut self) -> Result<String, PatternError> {
        match &self.tok {
            Tok::Ident(p) if !p.contains('-') => {
                let p = (*p).to_owned();
                self.bump()?;
                Ok(p)
            }
            Tok::Ident(_) => Err(self.unexpected("a property name (quote names with '-': 'SHA-256')")),
            Tok::Str(_) => match self.bump()? {
                Tok::Str(s) => Ok(s),
                _ => Err(self.unexpected("a property name")),
            },
            _ => Err(self.unexpected("a property name")),
        }
    }
}

// ---------------------------------------------------------------- printer

fn is_bare_property(s: &str) -> bool {
    let mut b = s.bytes();
    b.next().is_some_and(is_ident_start)
        && b.all(|c| c.is_ascii_alphanumeric() || c == b'_')
        && keyword(s).is_none()
        && s != "true"
        && s != "false"
}

/// Writes `s` as a pattern string constant: quoted, `\` and `'` escaped.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        if c == '\'' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('\'');
    out
}

impl fmt::Display for Constant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Constant::String(s) => f.write_str(&quote(s)),
            Constant::Int(i) => write!(f, "{i}"),
            Constant::Float(x) => {
                let s = x.to_string();
                if s.contains('.') { f.write_str(&s) } else { write!(f, "{s}.0") }
            }
            Constant::Bool(b) => write!(f, "{b}"),
            Constant::Timestamp(t) => write!(f, "t'{t}'"),
            Constant::Hex(v) => {
                f.write_str("h'")?;
                for b in v {
                    write!(f, "{b:02x}")?;
                }
                f.write_str("'")
            }
            Constant::Binary(v) => write!(f, "b'{}'", encode_base64(v)),
        }
    }
}

impl fmt::Display for ObjectPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.object_type)?;
        f.write_str(":")?;
        for (i, step) in self.steps.iter().enumerate() {
            match step {
                PathStep::Key(k) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    if is_bare_property(k) { f.write_str(k)? } else { f.write_str(&quote(k))? }
                }
                PathStep::Index(n) => write!(f, "[{n}]")?,
                PathStep::AnyIndex => f.write_str("[*]")?,
            }
        }
        Ok(())
    }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Operator::Exists = self.op {
            let not = if self.negated { "NOT " } else { "" };
            return write!(f, "{not}EXISTS {}", self.path);
        }
        write!(f, "{}", self.path)?;
        if self.negated {
            f.write_str(" NOT")?;
        }
        write!(f, " {} ", self.op.as_str())?;
        match &self.op {
            Operator::Eq(c)
            | Operator::Ne(c)
            | Operator::Gt(c)
            | Operator::Lt(c)
            | Operator::Ge(c)
            | Operator::Le(c) => {
                write!(f, "{c}")
            }
            Operator::In(set) => {
                f.write_str("(")?;
                for (i, c) in set.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{c}")?;
                }
                f.write_str(")")
            }
            Operator::Like(s) | Operator::Matches(s) | Operator::IsSubset(s) | Operator::IsSuperset(s) => {
                f.write_str(&quote(s))
            }
            Operator::Exists => Ok(()),
        }
    }
}

impl ComparisonExpr {
    /// 1 for OR, 2 for AND, 3 for a single comparison.
    fn precedence(&self) -> u8 {
        match self {
            ComparisonExpr::Or(_) => 1,
            ComparisonExpr::And(_) => 2,
            ComparisonExpr::Test(_) => 3,
        }
    }
}

impl fmt::Display for ComparisonExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (items, sep) = match self {
            ComparisonExpr::Test(t) => return write!(f, "{t}"),
            ComparisonExpr::Or(v) => (v, " OR "),
            ComparisonExpr::And(v) => (v, " AND "),
        };
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                f.write_str(sep)?;
            }
            if item.precedence() <= self.precedence() { write!(f, "({item})")? } else { write!(f, "{item}")? }
        }
        Ok(())
    }
}

impl fmt::Display for Qualifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Qualifier::Within(n) => write!(f, "WITHIN {n} SECONDS"),
            Qualifier::Repeats(n) => write!(f, "REPEATS {n} TIMES"),
            Qualifier::StartStop { start, stop } => write!(f, "START t'{start}' STOP t'{stop}'"),
        }
    }
}

impl ObservationExpr {
    /// 1 FOLLOWEDBY, 2 OR, 3 AND, 4 qualified or single observation.
    fn precedence(&self) -> u8 {
        match self {
            ObservationExpr::FollowedBy(_) => 1,
            ObservationExpr::Or(_) => 2,
            ObservationExpr::And(_) => 3,
            ObservationExpr::Qualified(..) | ObservationExpr::Observation(_) => 4,
        }
    }
}

impl fmt::Display for ObservationExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (items, sep) = match self {
            ObservationExpr::Observation(c) => return write!(f, "[{c}]"),
            ObservationExpr::Qualified(e, q) => {
                return if e.precedence() < 4 { write!(f, "({e}) {q}") } else { write!(f, "{e} {q}") };
            }
            ObservationExpr::FollowedBy(v) => (v, " FOLLOWEDBY "),
            ObservationExpr::Or(v) => (v, " OR "),
            ObservationExpr::And(v) => (v, " AND "),
        };
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                f.write_str(sep)?;
            }
            if item.precedence() <= self.precedence() { write!(f, "({item})")? } else { write!(f, "{item}")? }
        }
        Ok(())
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.expr)
    }
}

// ---------------------------------------------------------------- lookups

/// What [`lookups`] found in a matchable pattern: the normalised values, in
/// pattern order without duplicates, and the values it had to reject.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Lookups {
    pub valid: Vec<(IndicatorKind, String)>,
    pub rejected: Vec<RejectedValue>,
}

/// A value of a matchable comparison that is not a valid indicator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RejectedValue {
    /// The object path compared (`domain-name:value`).
    pub path: String,
    /// The constant as written (strings unquoted), cut to 256 bytes.
    pub value: String,
    pub reason: String,
}

/// Where a matchable path's values go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    Domain,
    Url,
    Ipv4,
    Ipv6,
    Email,
    /// `file:hashes.*` (Md5/Sha1/Sha256) and `x509-certificate:hashes.'SHA-256'`.
    Hash(IndicatorKind),
}

fn hash_kind(alg: &str) -> Option<IndicatorKind> {
    match alg.to_ascii_uppercase().as_str() {
        "MD5" => Some(IndicatorKind::Md5),
        "SHA-1" | "SHA1" => Some(IndicatorKind::Sha1),
        "SHA-256" | "SHA256" => Some(IndicatorKind::Sha256),
        _ => None,
    }
}

fn target(path: &ObjectPath) -> Option<Target> {
    let key = |i: usize| match path.steps.get(i) {
        Some(PathStep::Key(k)) => Some(k.as_str()),
        _ => None,
    };
    let one = |name: &str| path.steps.len() == 1 && key(0) == Some(name);
    let two = path.steps.len() == 2;
    match path.object_type.as_str() {
        "domain-name" if one("value") => Some(Target::Domain),
        "url" if one("value") => Some(Target::Url),
        "ipv4-addr" if one("value") => Some(Target::Ipv4),
        "ipv6-addr" if one("value") => Some(Target::Ipv6),
        "email-addr" if one("value") => Some(Target::Email),
        "email-message" if two && key(0) == Some("from_ref") && key(1) == Some("value") => Some(Target::Email),
        "file" if two && key(0) == Some("hashes") => key(1).and_then(hash_kind).map(Target::Hash),
        "x509-certificate" if two && key(0) == Some("hashes") => match key(1).and_then(hash_kind) {
            Some(IndicatorKind::Sha256) => Some(Target::Hash(IndicatorKind::CertSha256)),
            _ => None,
        },
        _ => None,
    }
}

const SUPPORTED: &str = "domain-name:value, url:value, ipv4-addr:value, ipv6-addr:value, email-addr:value, \
    email-message:from_ref.value, file:hashes.(MD5|SHA-1|SHA-256), x509-certificate:hashes.'SHA-256'";

/// The lookups a pattern stands for, or why it stands for none: see the
/// [module documentation](super) for the rules. Invalid values are
/// reported in [`Lookups::rejected`] while the valid ones still count.
pub fn lookups(pattern: &Pattern) -> Result<Lookups, String> {
    let mut c = Collector { out: Lookups::default(), seen: HashSet::new() };
    c.observation(&pattern.expr)?;
    Ok(c.out)
}

struct Collector {
    out: Lookups,
    seen: HashSet<(IndicatorKind, String)>,
}

fn clipped(x: &impl fmt::Display) -> String {
    let s = x.to_string();
    if s.len() > 200 { format!("{}…", clip(&s, 200)) } else { s }
}

/// The object types a comparison expression refers to.
fn object_types<'e>(c: &'e ComparisonExpr, out: &mut HashSet<&'e str>) {
    match c {
        ComparisonExpr::Test(t) => {
            out.insert(t.path.object_type.as_str());
        }
        ComparisonExpr::And(v) | ComparisonExpr::Or(v) => v.iter().for_each(|x| object_types(x, out)),
    }
}

/// Whether `c` is a hash equality/`IN`, or an OR of such.
fn is_hash_disjunction(c: &ComparisonExpr) -> bool {
    match c {
        ComparisonExpr::Test(t) => {
            !t.negated
                && matches!(t.op, Operator::Eq(_) | Operator::In(_))
                && matches!(target(&t.path), Some(Target::Hash(_)))
        }
        ComparisonExpr::Or(v) => v.iter().all(is_hash_disjunction),
        ComparisonExpr::And(_) => false,
    }
}

fn flatten_and<'e>(v: &'e [ComparisonExpr], out: &mut Vec<&'e ComparisonExpr>) {
    for c in v {
        match c {
            ComparisonExpr::And(inner) => flatten_and(inner, out),
            other => out.push(other),
        }
    }
}

impl Collector {
    fn observation(&mut self, e: &ObservationExpr) -> Result<(), String> {
        match e {
            ObservationExpr::Observation(c) => self.disjunction(c),
            ObservationExpr::Or(v) => v.iter().try_for_each(|x| self.observation(x)),
            ObservationExpr::And(_) => {
                Err("observation expressions joined by AND (several observations must all be seen)".to_owned())
            }
            ObservationExpr::FollowedBy(_) => Err("FOLLOWEDBY (a sequence of observations in time)".to_owned()),
            ObservationExpr::Qualified(_, q) => Err(format!("qualifier {} (a condition over time)", clipped(q))),
        }
    }

    fn disjunction(&mut self, c: &ComparisonExpr) -> Result<(), String> {
        match c {
            ComparisonExpr::Or(v) => v.iter().try_for_each(|x| self.disjunction(x)),
            ComparisonExpr::Test(t) => self.test(t),
            ComparisonExpr::And(v) => self.conjunction(v, c),
        }
    }

    /// `A AND B …` inside one observation: matchable only when some
    /// conjuncts are hash equalities and all refer to the hashed object
    /// type; then the hashes are the lookups (a hash identifies the file or
    /// certificate, the other conditions only describe it further).
    fn conjunction(&mut self, v: &[ComparisonExpr], whole: &ComparisonExpr) -> Result<(), String> {
        let mut parts = Vec::new();
        flatten_and(v, &mut parts);
        let hashes: Vec<&ComparisonExpr> = parts.iter().copied().filter(|c| is_hash_disjunction(c)).collect();
        let mut types = HashSet::new();
        object_types(whole, &mut types);
        if hashes.is_empty() || types.len() != 1 {
            return Err(format!(
                "`{}`: comparisons joined by AND; only a file or certificate hash ANDed with other properties \
                 of the same object becomes a lookup",
                clipped(whole)
            ));
        }
        hashes.into_iter().try_for_each(|h| self.disjunction(h))
    }

    fn test(&mut self, t: &Comparison) -> Result<(), String> {
        let Some(target) = target(&t.path) else {
            return Err(format!("`{}`: {} is not a property we match (we match {SUPPORTED})", clipped(t), t.path));
        };
        if t.negated {
            return Err(format!("`{}`: a negated comparison", clipped(t)));
        }
        match &t.op {
            Operator::Eq(c) => {
                self.value(target, &t.path, c);
                Ok(())
            }
            Operator::In(set) => {
                set.iter().for_each(|c| self.value(target, &t.path, c));
                Ok(())
            }
            op => Err(format!("`{}`: operator {} (only = and IN become lookups)", clipped(t), op.as_str())),
        }
    }

    fn value(&mut self, target: Target, path: &ObjectPath, c: &Constant) {
        let reject = |value: &str, reason: String| RejectedValue {
            path: path.to_string(),
            value: clip(value, crate::normalize::Invalid::MAX_VALUE_LEN),
            reason,
        };
        let Constant::String(s) = c else {
            let shown = c.to_string();
            self.out.rejected.push(reject(&shown, "not a string constant".to_owned()));
            return;
        };
        let res = match target {
            Target::Domain => normalize(IndicatorKind::Domain, s).map(|v| (IndicatorKind::Domain, v)),
            Target::Url => normalize(IndicatorKind::Url, s).map(|v| (IndicatorKind::Url, v)),
            Target::Email => normalize(IndicatorKind::Email, s).map(|v| (IndicatorKind::Email, v)),
            Target::Hash(k) => normalize(k, s).map(|v| (k, v)),
            Target::Ipv4 | Target::Ipv6 if s.contains('/') => match normalize(IndicatorKind::Cidr, s) {
                Ok(v) if target == Target::Ipv4 && v.contains(':') => {
                    self.out.rejected.push(reject(s, "an IPv6 network in ipv4-addr".to_owned()));
                    return;
                }
                other => other.map(|v| (IndicatorKind::Cidr, v)),
            },
            Target::Ipv4 => normalize(IndicatorKind::Ipv4, s).map(|v| (IndicatorKind::Ipv4, v)),
            Target::Ipv6 => normalize(IndicatorKind::Ipv6, s).map(|v| {
                // An IPv4-mapped address normalises to IPv4 text; say so.
                let kind = if v.parse::<Ipv4Addr>().is_ok() { IndicatorKind::Ipv4 } else { IndicatorKind::Ipv6 };
                (kind, v)
            }),
        };
        match res {
            Ok(kv) => {
                if self.seen.insert(kv.clone()) {
                    self.out.valid.push(kv);
                }
            }
            Err(e) => self.out.rejected.push(reject(s, e.reason)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trip() {
        for data in [&b"a"[..], b"ab", b"abc", b"abcd", b"\x00\xff\x10"] {
            let e = encode_base64(data);
            assert_eq!(decode_base64(&e).as_deref(), Some(data), "{e}");
        }
        assert_eq!(encode_base64(b"abc"), "YWJj");
        assert_eq!(decode_base64("AAA="), Some(vec![0, 0]));
        assert_eq!(decode_base64("A==="), None);
        assert_eq!(decode_base64("AA==AAAA"), None);
        assert_eq!(decode_base64(""), None);
    }

    #[test]
    fn timestamps() {
        assert!(valid_timestamp("2020-01-01T00:00:00Z"));
        assert!(valid_timestamp("2020-12-31T23:59:60.123Z"));
        assert!(!valid_timestamp("2020-13-01T00:00:00Z"));
        assert!(!valid_timestamp("2020-01-01T00:00:00.Z"));
        assert!(!valid_timestamp("2020-01-01T24:00:00Z"));
        assert!(!valid_timestamp("2020-01-01 00:00:00Z"));
        assert!(!valid_timestamp("2020-01-01T00:00:00"));
    }
}
