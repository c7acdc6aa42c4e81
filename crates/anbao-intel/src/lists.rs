//! Line-oriented feed formats: plain one-per-line lists, hosts files, CSV
//! with a column mapping, and free text (MISP's "freetext" import: every
//! indicator-looking token of a report). All read `&str` (see
//! [`crate::compress`] for bytes) and stream [`FeedItem`]s into a
//! [`FeedSink`]; a bad value is a [`Rejected`] item at `line N` and the
//! reading goes on.
//!
//! Decisions:
//!
//! - **Comments.** Plain lists: a line whose first non-blank characters are
//!   `#`, `;` or `//` is a comment, and so is the rest of a line from
//!   whitespace followed by one of those (`1.2.3.0/24 ; SBL123`,
//!   `evil.com # seen 2024-01-02`). A `#` not preceded by whitespace is part
//!   of the value (URL fragments). Hosts files: `#` only. CSV: lines starting
//!   with `#` (MISP's rule, and abuse.ch's exports).
//! - **Several fields on a plain-list line** (`1.2.3.4 scanner`) are
//!   rejected, not cut to the first field: extra fields mean the file is a
//!   CSV or a hosts file, and guessing which field is the value is how
//!   wrong indicators get in. [`ListFormat::sniff`] tells the caller which
//!   reader fits.
//! - **Defanged values** are refanged ([`refang`]) in plain lists, CSV
//!   values and free text: `hxxp://`, `hxxps://`, `fxp://`, `[.]`, `(.)`,
//!   `{.}`, `[dot]`, `(dot)`, `[at]`, `[@]`, `[:]`, `[://]`, `[/]`. These
//!   never occur in a valid value, except (rarely) inside a URL path, which
//!   we accept as a cost.
//! - **Kind detection** without a declared kind uses
//!   [`crate::detect_kind`] (plain lists, CSV), except that `addr/len` is
//!   always a CIDR (so `10.1.2.3/8` is rejected for its host bits rather
//!   than read as the URL `http://10.1.2.3/8`); a value it does not
//!   recognise is rejected, never guessed.
//! - **Hosts files**: every name after the address is a Domain, whatever
//!   the address (`0.0.0.0`, `127.0.0.1`, `::`, `::1` or a real one);
//!   `localhost`, `broadcasthost`, `local`, `ip6-*` and the like, and
//!   addresses written as names, are skipped silently.
//! - **CSV**: RFC 4180 by hand (quoted fields with `""`, delimiters and line
//!   breaks inside quotes; a record is located at the line it starts on),
//!   lenient in two ways: spaces before an opening quote, and a bare `"`
//!   inside an unquoted field is kept. Characters after a closing quote, or
//!   a quote never closed, reject that record. Columns are 0-based indexes
//!   or header names (case-insensitive); a name missing from the header is
//!   a [`FeedError`]. The header may be the last `#` comment before the
//!   data ([`CsvMapping::header_in_comment`], abuse.ch style). Kind names in
//!   a kind column: ours ([`IndicatorKind::as_str`]), a few aliases (`ip`,
//!   `ip_address`, `fqdn`, `hostname`, `sha-256`, …) and MISP attribute
//!   types (`ip-dst`, `domain|ip`, `filename|sha256`, …; composite values are
//!   split as MISP does). Category, confidence (0–100) and time cells that do
//!   not parse reject the row. Tags cells split on `,`, `;` and `|` (at most
//!   [`MAX_TAGS`] kept); context cells are cut to [`MAX_CONTEXT`] bytes.
//! - **Times** ([`parse_time`]): RFC 3339 / ISO 8601 (`T` or space, optional
//!   seconds and fraction, `Z`, `±HH:MM`, `±HHMM`, `±HH`, or no offset =
//!   UTC), a bare date (midnight UTC), or Unix seconds.
//! - **Free text** ([`read_freetext`]) follows MISP's freetext import:
//!   tokens split at whitespace, `,`, `;`, `<`, `>` and `"`, trimmed of
//!   `'".,()` and backquotes, refanged, a trailing `:port` dropped. A token
//!   is a hash when it is 32/40/64 hex digits, an IP address or CIDR, an
//!   e-mail address, a URL (with a scheme, or `host/path` with a known host),
//!   or a domain **whose last label is a known top-level domain** (a
//!   built-in list of generic TLDs, every country code and common new
//!   gTLDs; punycode TLDs accepted) — so `invoice.exe` and `readme.txt` in a
//!   report are not domains. `.zip` is left out on purpose: archive names
//!   are far more common in reports than `.zip` domains (country codes that
//!   look like file extensions, `.sh`, `.py`, `.md`, stay: `.cc` and `.pl`
//!   matter). HTTPS links to virustotal.com and
//!   hybrid-analysis.com are references, not indicators (MISP's `link`), and
//!   are skipped. Words that are not indicators are skipped silently; only
//!   a CIDR with host bits set is rejected (the text clearly means a
//!   network, but which?). Each value is reported once.

use std::borrow::Cow;
use std::collections::HashSet;
use std::net::IpAddr;

use regex::Regex;
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

use crate::normalize::{IndicatorKind, detect_kind, normalize};
use crate::record::{Category, FeedError, FeedItem, FeedSink, Indicator, Rejected, clip};

/// Longest value quoted back in a [`Rejected`] item.
const CLIP: usize = 256;

/// Most tags an indicator keeps (the rest of a long list is dropped).
pub const MAX_TAGS: usize = 100;

/// Longest context (bytes) an indicator keeps.
pub const MAX_CONTEXT: usize = 4096;

pub(crate) fn reject(sink: &mut dyn FeedSink, location: String, value: &str, reason: impl Into<String>) {
    sink.item(FeedItem::Rejected(Rejected { location, value: clip(value, CLIP), reason: reason.into() }));
}

fn strip_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

// ---------------------------------------------------------------------------
// Format sniffing

/// Which line reader fits a text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListFormat {
    /// One value per line.
    Plain,
    /// `address name [name…]` lines.
    Hosts,
    /// Delimited fields; the caller still has to say which column is what.
    Csv { delimiter: u8 },
}

impl ListFormat {
    /// Looks at up to 500 non-blank, non-comment lines: [`ListFormat::Hosts`]
    /// when more than half start with an IP address followed by a name,
    /// [`ListFormat::Csv`] when at least 60% split into the same number (2
    /// or more) of fields at `,`, tab, `;` or `|` outside double quotes
    /// (tried in that order; trailing comments removed first),
    /// otherwise [`ListFormat::Plain`].
    pub fn sniff(text: &str) -> ListFormat {
        let lines: Vec<&str> = strip_bom(text).lines().map(strip_comment).filter(|l| !l.is_empty()).take(500).collect();
        if lines.is_empty() {
            return ListFormat::Plain;
        }
        let hosts = lines
            .iter()
            .filter(|l| {
                let mut f = l.split_whitespace();
                f.next().is_some_and(|a| parse_host_address(a).is_some()) && f.next().is_some()
            })
            .count();
        if hosts * 2 > lines.len() {
            return ListFormat::Hosts;
        }
        for delimiter in [b',', b'\t', b';', b'|'] {
            let mut counts: std::collections::HashMap<usize, usize> = std::collections::HashMap::new();
            for l in &lines {
                let mut quoted = false;
                let mut n = 1;
                for b in l.bytes() {
                    if b == b'"' {
                        quoted = !quoted;
                    } else if b == delimiter && !quoted {
                        n += 1;
                    }
                }
                *counts.entry(n).or_default() += 1;
            }
            if let Some((&fields, &n)) = counts.iter().max_by_key(|&(&f, &n)| (n, f))
                && fields >= 2
                && n * 10 >= lines.len() * 6
            {
                return ListFormat::Csv { delimiter };
            }
        }
        ListFormat::Plain
    }
}

// ---------------------------------------------------------------------------
// Plain lists

/// `line` without a comment and surrounding whitespace; empty for blank and
/// comment lines.
fn strip_comment(line: &str) -> &str {
    let t = line.trim();
    if t.starts_with('#') || t.starts_with(';') || t.starts_with("//") {
        return "";
    }
    let mut prev_ws = false;
    for (i, c) in t.char_indices() {
        if prev_ws {
            let rest = t.get(i..).unwrap_or_default();
            if rest.starts_with('#') || rest.starts_with(';') || rest.starts_with("//") {
                return t.get(..i).unwrap_or_default().trim_end();
            }
        }
        prev_ws = c.is_whitespace();
    }
    t
}

/// Reads one value per line. With `kind`, every value must be of that
/// kind; without, each line's kind is detected ([`crate::detect_kind`]).
/// See the module doc for comments, refanging and lines with several
/// fields.
pub fn read_plain_list(text: &str, kind: Option<IndicatorKind>, sink: &mut dyn FeedSink) {
    for (i, line) in strip_bom(text).lines().enumerate() {
        let value = strip_comment(line);
        if value.is_empty() {
            continue;
        }
        let location = format!("line {}", i + 1);
        if value.split_whitespace().nth(1).is_some() {
            reject(
                sink,
                location,
                value,
                "several whitespace-separated fields; read it as CSV (delimiter tab or space) or as a hosts file",
            );
            continue;
        }
        match value_indicator(value, kind) {
            Ok(ind) => sink.item(FeedItem::Indicator(ind)),
            Err(reason) => reject(sink, location, value, reason),
        }
    }
}

/// `raw` refanged, its kind detected when not given, normalised.
fn value_indicator(raw: &str, kind: Option<IndicatorKind>) -> Result<Indicator, String> {
    let v = refang(raw.trim());
    let kind = match kind {
        Some(k) => k,
        // `10.1.2.3/8` is a CIDR with host bits set, not the URL
        // `http://10.1.2.3/8` detect_kind would make of it.
        None if looks_like_cidr(&v) => IndicatorKind::Cidr,
        None => detect_kind(&v).ok_or_else(|| {
            if v.chars().any(|c| c.is_whitespace() || c.is_control()) {
                "contains whitespace or control characters".to_owned()
            } else {
                "not a recognised indicator (domain, URL, IP address, CIDR, hash or e-mail address)".to_owned()
            }
        })?,
    };
    normalize(kind, &v).map(|n| Indicator::new(kind, n)).map_err(|e| format!("{kind}: {}", e.reason))
}

/// `addr/digits` with an IP address before the slash.
fn looks_like_cidr(s: &str) -> bool {
    s.split_once('/').is_some_and(|(a, l)| {
        !l.is_empty() && l.len() <= 3 && l.bytes().all(|b| b.is_ascii_digit()) && a.parse::<IpAddr>().is_ok()
    })
}

/// `s` with the usual defanging undone (see the module doc); borrowed when
/// there was nothing to undo.
pub fn refang(s: &str) -> Cow<'_, str> {
    let lower_start: String = s.chars().take(8).collect::<String>().to_ascii_lowercase();
    let scheme_fix = ["hxxps", "hxxp", "hxtps", "hxtp", "htxps", "htxp", "h[tt]ps", "h[tt]p", "meow", "fxp"]
        .into_iter()
        .find(|p| lower_start.starts_with(p));
    let needs = scheme_fix.is_some() || s.contains('[') || s.contains('(') || s.contains('{');
    if !needs {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    if let Some(p) = scheme_fix {
        let replacement = match p {
            "fxp" => "ftp",
            "meow" => "http",
            p if p.ends_with('s') => "https",
            _ => "http",
        };
        out.push_str(replacement);
        rest = rest.get(p.len()..).unwrap_or_default();
    }
    const TABLE: [(&str, &str); 13] = [
        ("[://]", "://"),
        ("[.]", "."),
        ("(.)", "."),
        ("{.}", "."),
        ("[dot]", "."),
        ("(dot)", "."),
        ("[@]", "@"),
        ("[at]", "@"),
        ("(at)", "@"),
        ("[:]", ":"),
        ("[/]", "/"),
        ("[hxxp://]", "http://"),
        ("[hxxps://]", "https://"),
    ];
    'outer: while !rest.is_empty() {
        for (from, to) in TABLE {
            if rest.get(..from.len()).is_some_and(|h| h.eq_ignore_ascii_case(from)) {
                out.push_str(to);
                rest = rest.get(from.len()..).unwrap_or_default();
                continue 'outer;
            }
        }
        let mut chars = rest.chars();
        if let Some(c) = chars.next() {
            out.push(c);
        }
        rest = chars.as_str();
    }
    Cow::Owned(out)
}

// ---------------------------------------------------------------------------
// Hosts files

const HOSTS_SKIP: [&str; 17] = [
    "localhost",
    "localhost.localdomain",
    "localhost4",
    "localhost4.localdomain4",
    "localhost6",
    "localhost6.localdomain6",
    "local",
    "broadcasthost",
    "ip6-localhost",
    "ip6-loopback",
    "ip6-localnet",
    "ip6-mcastprefix",
    "ip6-allnodes",
    "ip6-allrouters",
    "ip6-allhosts",
    "0.0.0.0",
    "wpad",
];

/// The address of a hosts line (zone ids like `%lo0` allowed).
fn parse_host_address(s: &str) -> Option<IpAddr> {
    let s = s.split_once('%').map_or(s, |(a, _)| a);
    s.parse::<IpAddr>().ok()
}

/// Reads a hosts file: each name after the address is a Domain indicator.
pub fn read_hosts(text: &str, sink: &mut dyn FeedSink) {
    for (i, line) in strip_bom(text).lines().enumerate() {
        let line = line.split_once('#').map_or(line, |(l, _)| l).trim();
        if line.is_empty() {
            continue;
        }
        let location = || format!("line {}", i + 1);
        let mut fields = line.split_whitespace();
        let addr = fields.next().unwrap_or_default();
        if parse_host_address(addr).is_none() {
            reject(sink, location(), line, "not a hosts-file line: the first field is not an IP address");
            continue;
        }
        let mut names = 0;
        for name in fields {
            names += 1;
            let lower = name.to_ascii_lowercase();
            if HOSTS_SKIP.contains(&lower.as_str()) || parse_host_address(name).is_some() {
                continue;
            }
            match normalize(IndicatorKind::Domain, name) {
                Ok(v) => sink.item(FeedItem::Indicator(Indicator::new(IndicatorKind::Domain, v))),
                Err(e) => reject(sink, location(), name, format!("domain: {}", e.reason)),
            }
        }
        if names == 0 {
            reject(sink, location(), line, "no host name after the address");
        }
    }
}

// ---------------------------------------------------------------------------
// CSV

/// A CSV column: 0-based index, or a header name (case-insensitive).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Column {
    Index(usize),
    Name(String),
}

impl From<usize> for Column {
    fn from(i: usize) -> Self {
        Column::Index(i)
    }
}

impl From<&str> for Column {
    fn from(n: &str) -> Self {
        Column::Name(n.to_owned())
    }
}

/// How to read a CSV feed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsvMapping {
    /// An ASCII byte other than `"`, CR and LF.
    pub delimiter: u8,
    /// The first record (after `#` comments) names the columns.
    pub has_header: bool,
    /// The header is the last `#` comment line before the first record
    /// (`# id,dateadded,url,…` in abuse.ch exports); `has_header` is then
    /// ignored.
    pub header_in_comment: bool,
    pub value_column: Column,
    /// Per-row kind names (see the module doc); an empty cell falls back to
    /// `kind`.
    pub kind_column: Option<Column>,
    /// The kind of every value (when there is no kind column or its cell is
    /// empty); `None` detects it per value.
    pub kind: Option<IndicatorKind>,
    pub category_column: Option<Column>,
    pub confidence_column: Option<Column>,
    pub tags_column: Option<Column>,
    pub first_seen_column: Option<Column>,
    pub last_seen_column: Option<Column>,
    pub context_column: Option<Column>,
}

impl CsvMapping {
    /// Comma-separated, no header, only a value column, kinds detected.
    pub fn new(value_column: impl Into<Column>) -> Self {
        CsvMapping {
            delimiter: b',',
            has_header: false,
            header_in_comment: false,
            value_column: value_column.into(),
            kind_column: None,
            kind: None,
            category_column: None,
            confidence_column: None,
            tags_column: None,
            first_seen_column: None,
            last_seen_column: None,
            context_column: None,
        }
    }
}

/// One thing the CSV tokenizer found.
pub(crate) enum CsvEvent<'a> {
    /// A line starting with `#` (the text after the `#`).
    Comment(&'a str),
    Record {
        line: usize,
        fields: Vec<Cow<'a, str>>,
    },
    Bad {
        line: usize,
        raw: &'a str,
        reason: &'static str,
    },
}

/// An RFC 4180 tokenizer over `text` (see the module doc); blank lines are
/// skipped.
pub(crate) struct CsvReader<'a> {
    text: &'a str,
    pos: usize,
    line: usize,
    delim: u8,
}

impl<'a> CsvReader<'a> {
    pub(crate) fn new(text: &'a str, delim: u8) -> Self {
        CsvReader { text: strip_bom(text), pos: 0, line: 1, delim }
    }

    fn byte(&self, at: usize) -> Option<u8> {
        self.text.as_bytes().get(at).copied()
    }

    /// End of the physical line starting at or after `from` (index of `\n`
    /// or the text length).
    fn line_end(&self, from: usize) -> usize {
        self.text.get(from..).and_then(|r| r.find('\n')).map_or(self.text.len(), |j| from + j)
    }

    /// Skips to after the `\n` ending the line containing `at`.
    fn skip_line(&mut self, at: usize) {
        let end = self.line_end(at);
        self.pos = end.saturating_add(1);
        self.line += 1;
    }

    fn record(&mut self) -> CsvEvent<'a> {
        let start_line = self.line;
        let start = self.pos;
        let mut fields: Vec<Cow<'a, str>> = Vec::new();
        let mut p = self.pos;
        loop {
            // Spaces before an opening quote.
            let mut q = p;
            if self.delim != b' ' && self.delim != b'\t' {
                while matches!(self.byte(q), Some(b' ' | b'\t')) {
                    q += 1;
                }
            }
            if self.byte(q) == Some(b'"') {
                let mut buf: Option<String> = None;
                let mut seg = q + 1;
                let mut i = q + 1;
                let content: Cow<'a, str> = loop {
                    match self.byte(i) {
                        None => {
                            let raw = self.text.get(start..).unwrap_or_default();
                            self.pos = self.text.len();
                            return CsvEvent::Bad { line: start_line, raw, reason: "quoted field never closed" };
                        }
                        Some(b'"') if self.byte(i + 1) == Some(b'"') => {
                            let b = buf.get_or_insert_with(String::new);
                            b.push_str(self.text.get(seg..=i).unwrap_or_default());
                            i += 2;
                            seg = i;
                        }
                        Some(b'"') => {
                            let tail = self.text.get(seg..i).unwrap_or_default();
                            i += 1;
                            break match buf.take() {
                                Some(mut b) => {
                                    b.push_str(tail);
                                    Cow::Owned(b)
                                }
                                None => Cow::Borrowed(tail),
                            };
                        }
                        Some(b'\n') => {
                            self.line += 1;
                            i += 1;
                        }
                        Some(_) => i += 1,
                    }
                };
                fields.push(content);
                while matches!(self.byte(i), Some(b' ' | b'\t' | b'\r')) && self.byte(i) != Some(self.delim) {
                    i += 1;
                }
                match self.byte(i) {
                    Some(b) if b == self.delim => p = i + 1,
                    Some(b'\n') => {
                        self.pos = i + 1;
                        self.line += 1;
                        return CsvEvent::Record { line: start_line, fields };
                    }
                    None => {
                        self.pos = i;
                        return CsvEvent::Record { line: start_line, fields };
                    }
                    Some(_) => {
                        let end = self.line_end(i);
                        let raw = self.text.get(start..end).unwrap_or_default();
                        self.skip_line(i);
                        return CsvEvent::Bad { line: start_line, raw, reason: "characters after a closing quote" };
                    }
                }
            } else {
                let mut i = p;
                while let Some(b) = self.byte(i) {
                    if b == self.delim || b == b'\n' {
                        break;
                    }
                    i += 1;
                }
                let field = self.text.get(p..i).unwrap_or_default();
                match self.byte(i) {
                    Some(b'\n') | None => {
                        fields.push(Cow::Borrowed(field.strip_suffix('\r').unwrap_or(field)));
                        if self.byte(i).is_some() {
                            self.line += 1;
                            self.pos = i + 1;
                        } else {
                            self.pos = i;
                        }
                        return CsvEvent::Record { line: start_line, fields };
                    }
                    Some(_) => {
                        fields.push(Cow::Borrowed(field));
                        p = i + 1;
                    }
                }
            }
        }
    }
}

impl<'a> Iterator for CsvReader<'a> {
    type Item = CsvEvent<'a>;

    fn next(&mut self) -> Option<CsvEvent<'a>> {
        loop {
            if self.pos >= self.text.len() {
                return None;
            }
            let end = self.line_end(self.pos);
            let line = self.text.get(self.pos..end).unwrap_or_default();
            let trimmed = line.trim();
            if trimmed.is_empty() {
                self.skip_line(self.pos);
                continue;
            }
            if let Some(c) = trimmed.strip_prefix('#') {
                self.skip_line(self.pos);
                return Some(CsvEvent::Comment(c));
            }
            return Some(self.record());
        }
    }
}

/// Resolved column indexes.
struct Cols {
    value: usize,
    kind: Option<usize>,
    category: Option<usize>,
    confidence: Option<usize>,
    tags: Option<usize>,
    first_seen: Option<usize>,
    last_seen: Option<usize>,
    context: Option<usize>,
}

fn resolve_cols(m: &CsvMapping, header: Option<&[Cow<'_, str>]>) -> Result<Cols, FeedError> {
    let find = |c: &Column| -> Result<usize, FeedError> {
        match c {
            Column::Index(i) => Ok(*i),
            Column::Name(n) => {
                let header = header.ok_or_else(|| {
                    FeedError::new("CSV", "mapping", format!("column {n:?} is named but the mapping has no header"))
                })?;
                let want = n.trim();
                header.iter().position(|h| strip_bom(h.trim()).trim().eq_ignore_ascii_case(want)).ok_or_else(|| {
                    let names: Vec<&str> = header.iter().map(|h| h.trim()).collect();
                    FeedError::new("CSV", "header", format!("no column named {n:?} (columns: {})", names.join(", ")))
                })
            }
        }
    };
    let opt = |c: &Option<Column>| c.as_ref().map(find).transpose();
    Ok(Cols {
        value: find(&m.value_column)?,
        kind: opt(&m.kind_column)?,
        category: opt(&m.category_column)?,
        confidence: opt(&m.confidence_column)?,
        tags: opt(&m.tags_column)?,
        first_seen: opt(&m.first_seen_column)?,
        last_seen: opt(&m.last_seen_column)?,
        context: opt(&m.context_column)?,
    })
}

/// Reads a CSV feed with `mapping`. A [`FeedError`] for a mapping that
/// cannot apply (bad delimiter, a named column missing from the header);
/// single bad rows are [`Rejected`].
pub fn read_csv(text: &str, mapping: &CsvMapping, sink: &mut dyn FeedSink) -> Result<(), FeedError> {
    let d = mapping.delimiter;
    if !d.is_ascii() || matches!(d, b'"' | b'\r' | b'\n') {
        return Err(FeedError::new("CSV", "mapping", format!("delimiter {:?} is not usable", char::from(d))));
    }
    let mut cols =
        if mapping.has_header || mapping.header_in_comment { None } else { Some(resolve_cols(mapping, None)?) };
    let mut last_comment: Option<&str> = None;
    for ev in CsvReader::new(text, d) {
        match ev {
            CsvEvent::Comment(c) => {
                if cols.is_none() {
                    last_comment = Some(c);
                }
            }
            CsvEvent::Bad { line, raw, reason } => {
                if cols.is_none() && !mapping.header_in_comment {
                    return Err(FeedError::new("CSV", format!("line {line}"), format!("header: {reason}")));
                }
                reject(sink, format!("line {line}"), raw, reason);
            }
            CsvEvent::Record { line, fields } => {
                let c = match &cols {
                    Some(c) => c,
                    None if mapping.header_in_comment => {
                        let header_text = last_comment.unwrap_or_default().trim();
                        let header = match CsvReader::new(header_text, d).next() {
                            Some(CsvEvent::Record { fields, .. }) => fields,
                            _ => {
                                return Err(FeedError::new(
                                    "CSV",
                                    format!("line {line}"),
                                    "no `#` comment line with the header before the first record",
                                ));
                            }
                        };
                        cols.insert(resolve_cols(mapping, Some(&header))?)
                    }
                    None => {
                        cols = Some(resolve_cols(mapping, Some(&fields))?);
                        continue;
                    }
                };
                csv_row(line, &fields, c, mapping, sink);
            }
        }
    }
    Ok(())
}

fn csv_row(line: usize, fields: &[Cow<'_, str>], c: &Cols, m: &CsvMapping, sink: &mut dyn FeedSink) {
    let location = || format!("line {line}");
    let cell = |i: Option<usize>| i.and_then(|i| fields.get(i)).map(|f| f.trim()).filter(|s| !s.is_empty());
    let Some(raw) = fields.get(c.value) else {
        let row = fields.join(",");
        reject(
            sink,
            location(),
            &row,
            format!("the row has {} fields; the value column is number {}", fields.len(), c.value + 1),
        );
        return;
    };
    let raw = raw.trim();
    if raw.is_empty() {
        reject(sink, location(), raw, "empty value");
        return;
    }
    let meta = match row_meta(cell(c.category), cell(c.confidence), cell(c.tags), cell(c.first_seen), cell(c.last_seen))
    {
        Ok(m) => m,
        Err(reason) => {
            reject(sink, location(), raw, reason);
            return;
        }
    };
    let context = cell(c.context).unwrap_or_default();
    let value = refang(raw);
    let parts: Vec<Result<(IndicatorKind, String), String>> = match cell(c.kind) {
        Some(name) => match kind_name_parts(name, &value) {
            Some(p) => p,
            None => {
                reject(sink, location(), raw, format!("unknown kind {name:?}"));
                return;
            }
        },
        None => vec![value_indicator(&value, m.kind).map(|i| (i.kind, i.value))],
    };
    for part in parts {
        match part {
            Ok((kind, v)) => {
                let mut ind = Indicator::new(kind, v);
                ind.category = meta.category;
                ind.confidence = meta.confidence;
                ind.first_seen = meta.first_seen;
                ind.last_seen = meta.last_seen;
                ind.tags.clone_from(&meta.tags);
                ind.context = clip(context, MAX_CONTEXT);
                sink.item(FeedItem::Indicator(ind));
            }
            Err(reason) => reject(sink, location(), raw, reason),
        }
    }
}

struct RowMeta {
    category: Option<Category>,
    confidence: Option<u8>,
    tags: Vec<String>,
    first_seen: Option<OffsetDateTime>,
    last_seen: Option<OffsetDateTime>,
}

fn row_meta(
    category: Option<&str>,
    confidence: Option<&str>,
    tags: Option<&str>,
    first_seen: Option<&str>,
    last_seen: Option<&str>,
) -> Result<RowMeta, String> {
    let category = category.map(|c| c.parse::<Category>().map_err(|e| format!("category: {e}"))).transpose()?;
    let confidence = confidence
        .map(|c| match c.parse::<u8>() {
            Ok(n) if n <= 100 => Ok(n),
            _ => Err(format!("confidence {c:?} is not a whole number from 0 to 100")),
        })
        .transpose()?;
    let first_seen = first_seen.map(|t| parse_time(t).map_err(|e| format!("first seen: {e}"))).transpose()?;
    let last_seen = last_seen.map(|t| parse_time(t).map_err(|e| format!("last seen: {e}"))).transpose()?;
    Ok(RowMeta { category, confidence, tags: split_tags(tags.unwrap_or_default()), first_seen, last_seen })
}

/// Tags from one cell: split at `,`, `;` and `|`, trimmed, without empties
/// and repeats, at most [`MAX_TAGS`].
pub(crate) fn split_tags(s: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in s.split([',', ';', '|']).map(str::trim).filter(|t| !t.is_empty()) {
        if out.len() >= MAX_TAGS {
            break;
        }
        if !out.iter().any(|o| o == t) {
            out.push(t.to_owned());
        }
    }
    out
}

/// The indicators a kind-column name and a value give: our kind names, a
/// few aliases, MISP attribute types. `None` for an unknown name.
fn kind_name_parts(name: &str, value: &str) -> Option<Vec<Result<(IndicatorKind, String), String>>> {
    let lower = name.trim().to_ascii_lowercase();
    let norm = |k: IndicatorKind| normalize(k, value).map(|v| (k, v)).map_err(|e| format!("{k}: {}", e.reason));
    if let Ok(k) = lower.parse::<IndicatorKind>() {
        return Some(vec![norm(k)]);
    }
    let alias = match lower.replace(['-', ' '], "_").as_str() {
        "ip" | "ip_address" | "ipaddress" | "address" | "ip_addr" | "network" | "netblock" => {
            return Some(vec![crate::misp::resolve_ip(value)]);
        }
        "fqdn" | "host" | "hostname" | "domain_name" => Some(IndicatorKind::Domain),
        "uri" | "link" => Some(IndicatorKind::Url),
        "sha_1" => Some(IndicatorKind::Sha1),
        "sha_256" => Some(IndicatorKind::Sha256),
        "md_5" => Some(IndicatorKind::Md5),
        "email_address" | "e_mail" | "mail" => Some(IndicatorKind::Email),
        "android" | "apk" | "package" | "package_name" => Some(IndicatorKind::AndroidPackage),
        "ja3_md5" => Some(IndicatorKind::Ja3),
        _ => None,
    };
    if let Some(k) = alias {
        return Some(vec![norm(k)]);
    }
    crate::misp::attribute_parts(&lower, value)
        .map(|parts| parts.into_iter().map(|p| crate::misp::resolve_part(&p)).collect())
}

// ---------------------------------------------------------------------------
// Times

/// A time as feeds write it (see the module doc).
pub fn parse_time(s: &str) -> Result<OffsetDateTime, String> {
    let s = s.trim();
    let bad = || format!("{:?} is not a date-time (RFC 3339, YYYY-MM-DD or Unix seconds)", clip(s, 64));
    if !s.is_empty() && s.len() <= 11 && s.bytes().all(|b| b.is_ascii_digit()) {
        let secs: i64 = s.parse().map_err(|_| bad())?;
        return OffsetDateTime::from_unix_timestamp(secs).map_err(|_| bad());
    }
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<u32> {
        let part = s.get(from..from + len)?;
        if part.bytes().all(|c| c.is_ascii_digit()) { part.parse().ok() } else { None }
    };
    let (Some(y), Some(mo), Some(d)) = (num(0, 4), num(5, 2), num(8, 2)) else {
        return Err(bad());
    };
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return Err(bad());
    }
    let month = u8::try_from(mo).ok().and_then(|m| Month::try_from(m).ok()).ok_or_else(bad)?;
    let date =
        Date::from_calendar_date(i32::try_from(y).map_err(|_| bad())?, month, u8::try_from(d).map_err(|_| bad())?)
            .map_err(|_| bad())?;
    let mut rest = s.get(10..).unwrap_or_default();
    if rest.is_empty() {
        return Ok(date.midnight().assume_utc());
    }
    rest = rest.strip_prefix(['T', 't', ' ']).ok_or_else(bad)?;
    let (Some(h), Some(mi)) = (num(11, 2), num(14, 2)) else {
        return Err(bad());
    };
    if rest.as_bytes().get(2) != Some(&b':') {
        return Err(bad());
    }
    rest = rest.get(5..).unwrap_or_default();
    let mut sec = 0;
    let mut nanos = 0u32;
    if let Some(r) = rest.strip_prefix(':') {
        let sd = r.get(..2).filter(|x| x.bytes().all(|c| c.is_ascii_digit())).ok_or_else(bad)?;
        sec = sd.parse::<u8>().map_err(|_| bad())?;
        rest = r.get(2..).unwrap_or_default();
        if let Some(r) = rest.strip_prefix(['.', ',']) {
            let digits = r.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return Err(bad());
            }
            let frac = r.get(..digits).unwrap_or_default();
            let mut padded: String = frac.chars().take(9).collect();
            while padded.len() < 9 {
                padded.push('0');
            }
            nanos = padded.parse().map_err(|_| bad())?;
            rest = r.get(digits..).unwrap_or_default();
        }
    }
    let time = Time::from_hms_nano(
        u8::try_from(h).map_err(|_| bad())?,
        u8::try_from(mi).map_err(|_| bad())?,
        sec.min(59),
        nanos,
    )
    .map_err(|_| bad())?;
    let offset = parse_offset(rest.trim_start()).ok_or_else(bad)?;
    Ok(PrimitiveDateTime::new(date, time).assume_offset(offset))
}

fn parse_offset(s: &str) -> Option<UtcOffset> {
    if s.is_empty() || s.eq_ignore_ascii_case("z") || s.eq_ignore_ascii_case("utc") || s.eq_ignore_ascii_case("gmt") {
        return Some(UtcOffset::UTC);
    }
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1i8, s.get(1..)?),
        b'-' => (-1i8, s.get(1..)?),
        _ => return None,
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) || rest.matches(':').count() > 1 {
        return None;
    }
    let (h, m) = match digits.len() {
        2 => (digits.parse::<i8>().ok()?, 0),
        4 => (digits.get(..2)?.parse::<i8>().ok()?, digits.get(2..)?.parse::<i8>().ok()?),
        _ => return None,
    };
    UtcOffset::from_hms(sign * h, sign * m, 0).ok()
}

// ---------------------------------------------------------------------------
// Free text

/// Generic, sponsored and common new top-level domains, and every
/// country-code TLD; sorted (a test checks).
#[rustfmt::skip]
const TLDS: &[&str] = &[
    "ac", "academy", "accountant", "ad", "ae", "aero", "af", "ag", "agency", "ai", "al", "am", "ao", "app", "aq", "ar",
    "arpa", "art", "as", "asia", "at", "au", "aw", "ax", "az", "ba", "bar", "bb", "bd", "be", "best", "bf", "bg", "bh",
    "bi", "bid", "biz", "bj", "blog", "bm", "bn", "bo", "bond", "bq", "br", "bs", "bt", "buzz", "bw", "by", "bz", "ca",
    "cam", "casa", "cat", "cc", "cd", "cf", "cfd", "cg", "ch", "ci", "ck", "cl", "click", "cloud", "club", "cm", "cn",
    "co", "com", "company", "coop", "cr", "cu", "cv", "cw", "cx", "cy", "cyou", "cz", "date", "de", "design", "dev",
    "digital", "dj", "dk", "dm", "do", "download", "dz", "ec", "edu", "ee", "eg", "email", "er", "es", "et", "eu",
    "faith", "fi", "fj", "fk", "fm", "fo", "fr", "fun", "ga", "gb", "gd", "gdn", "ge", "gf", "gg", "gh", "gi", "gl",
    "global", "gm", "gn", "gov", "gp", "gq", "gr", "group", "gs", "gt", "gu", "gw", "gy", "hk", "hm", "hn", "host",
    "hr", "ht", "hu", "icu", "id", "ie", "il", "im", "in", "info", "ink", "int", "io", "iq", "ir", "is", "it", "je",
    "jm", "jo", "jobs", "jp", "ke", "kg", "kh", "ki", "kim", "km", "kn", "kp", "kr", "kw", "ky", "kz", "la", "lat",
    "lb", "lc", "li", "life", "link", "live", "lk", "loan", "lol", "lr", "ls", "lt", "ltd", "lu", "lv", "ly", "ma",
    "mc", "md", "me", "media", "men", "mg", "mh", "mil", "mk", "ml", "mm", "mn", "mo", "mobi", "monster", "mp", "mq",
    "mr", "ms", "mt", "mu", "museum", "mv", "mw", "mx", "my", "mz", "na", "name", "nc", "ne", "net", "network", "news",
    "nf", "ng", "ni", "nl", "no", "np", "nr", "nu", "nz", "om", "one", "onion", "online", "org", "pa", "party", "pe",
    "pf", "pg", "ph", "pk", "pl", "pm", "pn", "post", "pr", "press", "pro", "ps", "pt", "pw", "py", "qa", "quest",
    "racing", "re", "rest", "review", "ro", "rs", "ru", "run", "rw", "sa", "sb", "sbs", "sc", "science", "sd", "se",
    "services", "sg", "sh", "shop", "si", "site", "sk", "sl", "sm", "sn", "so", "solutions", "space", "sr", "ss", "st",
    "store", "stream", "su", "support", "sv", "sx", "sy", "sz", "tc", "td", "tech", "tel", "tf", "tg", "th", "tj",
    "tk", "tl", "tm", "tn", "to", "today", "top", "tr", "trade", "travel", "tt", "tv", "tw", "tz", "ua", "ug", "uk",
    "us", "uy", "uz", "va", "vc", "ve", "vg", "vi", "vip", "vn", "vu", "webcam", "website", "wf", "win", "work",
    "world", "ws", "xin", "xxx", "xyz", "ye", "yt", "za", "zm", "zw",
];

#[cfg(test)]
pub(crate) fn tld_list() -> &'static [&'static str] {
    TLDS
}

fn known_tld(label: &str) -> bool {
    label.starts_with("xn--") || TLDS.binary_search(&label).is_ok()
}

/// Hosts of HTTPS links that are references in reports (MISP's `link`).
const VENDOR_LINK_HOSTS: [&str; 2] = ["virustotal.com", "hybrid-analysis.com"];

/// What one free-text token is.
pub(crate) enum Token {
    Indicator(IndicatorKind, String),
    /// Looks like an indicator but is not a valid one.
    Invalid(String),
    Nothing,
}

/// `host` (no port) as a domain with a known TLD, or an IP address.
fn plausible_host(host: &str) -> bool {
    if host.parse::<IpAddr>().is_ok() || host.starts_with('[') {
        return true;
    }
    // Punycode first, so `例子.中国` is checked as `….xn--fiqs8s`.
    crate::normalize::normalize_domain(host)
        .is_ok_and(|h| h.contains('.') && h.rsplit('.').next().is_some_and(known_tld))
}

/// Resolves one trimmed token the way MISP's freetext import does (see the
/// module doc).
pub(crate) fn resolve_token(tok: &str) -> Token {
    use IndicatorKind as K;
    if tok.is_empty() || tok.len() > 8192 {
        return Token::Nothing;
    }
    if let Ok(ip) = tok.parse::<IpAddr>() {
        let k = if ip.is_ipv4() { K::Ipv4 } else { K::Ipv6 };
        return normalize(k, tok).map_or(Token::Nothing, |v| Token::Indicator(k, v));
    }
    // Hashes, also as the hash of `filename|hash`.
    let hash_part = tok.rsplit_once('|').map_or(tok, |(_, h)| h);
    if hash_part.bytes().all(|b| b.is_ascii_hexdigit()) {
        let k = match hash_part.len() {
            32 => Some(K::Md5),
            40 => Some(K::Sha1),
            64 => Some(K::Sha256),
            _ => None,
        };
        if let Some(k) = k {
            return normalize(k, hash_part).map_or(Token::Nothing, |v| Token::Indicator(k, v));
        }
    }
    let refanged = refang(tok);
    let r = refanged.trim_end_matches('.');
    if r.contains('@') && !r.contains('/') && !r.contains(':') {
        let domain_ok = r.rsplit_once('@').is_some_and(|(_, d)| plausible_host(d) && d.parse::<IpAddr>().is_err());
        return match (domain_ok, normalize(K::Email, r)) {
            (true, Ok(v)) => Token::Indicator(K::Email, v),
            _ => Token::Nothing,
        };
    }
    if let Some((scheme, _)) = r.split_once("://") {
        if !["http", "https", "ftp", "ws", "wss"].iter().any(|s| s.eq_ignore_ascii_case(scheme)) {
            return Token::Nothing;
        }
        return match normalize(K::Url, r) {
            Ok(v) if is_vendor_link(&v) => Token::Nothing,
            Ok(v) => Token::Indicator(K::Url, v),
            Err(_) => Token::Nothing,
        };
    }
    // A trailing port.
    let no_port = match r.rsplit_once(':') {
        Some((h, p)) if (2..=5).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()) => {
            if h.starts_with('[') && h.ends_with(']') {
                h.get(1..h.len() - 1).unwrap_or(h)
            } else if h.contains(':') {
                r // an IPv6 address, not a port
            } else {
                h
            }
        }
        _ => r,
    };
    if let Ok(ip) = no_port.parse::<IpAddr>() {
        let k = if ip.is_ipv4() { K::Ipv4 } else { K::Ipv6 };
        return normalize(k, no_port).map_or(Token::Nothing, |v| Token::Indicator(k, v));
    }
    if let Some((addr, len)) = no_port.split_once('/')
        && addr.parse::<IpAddr>().is_ok()
        && !len.is_empty()
        && len.bytes().all(|b| b.is_ascii_digit())
    {
        return match normalize(K::Cidr, no_port) {
            Ok(v) => Token::Indicator(K::Cidr, v),
            Err(e) => Token::Invalid(format!("cidr: {}", e.reason)),
        };
    }
    if !no_port.contains('/') {
        let labels_ok = no_port.split('.').count() >= 2
            && no_port
                .split('.')
                .all(|l| !l.is_empty() && l.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '_'));
        if labels_ok && plausible_host(no_port) {
            return normalize(K::Domain, no_port).map_or(Token::Nothing, |v| Token::Indicator(K::Domain, v));
        }
        return Token::Nothing;
    }
    // `host/path` without a scheme.
    let host = r.split(['/', '?']).next().unwrap_or_default();
    let host_no_port = match host.rsplit_once(':') {
        Some((h, p)) if p.bytes().all(|b| b.is_ascii_digit()) && !h.contains(':') => h,
        _ => host,
    };
    if plausible_host(host_no_port) {
        return match normalize(K::Url, r) {
            Ok(v) => Token::Indicator(K::Url, v),
            Err(_) => Token::Nothing,
        };
    }
    Token::Nothing
}

fn is_vendor_link(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("https://") else {
        return false;
    };
    let host = rest.split(['/', '?', ':']).next().unwrap_or_default();
    VENDOR_LINK_HOSTS.iter().any(|v| host == *v || host.strip_suffix(v).is_some_and(|p| p.ends_with('.')))
}

/// Trims what surrounds tokens in prose.
pub(crate) fn trim_token(t: &str) -> &str {
    t.trim_matches(|c: char| c.is_whitespace() || matches!(c, '\'' | '"' | '.' | ',' | '(' | ')' | '`' | '\0'))
}

/// Extracts every indicator from free text (see the module doc); tokens
/// matching `exclude` are skipped (MISP's `excluderegex`).
pub fn read_freetext(text: &str, exclude: Option<&Regex>, sink: &mut dyn FeedSink) {
    let mut seen: HashSet<(IndicatorKind, String)> = HashSet::new();
    for (i, line) in strip_bom(text).lines().enumerate() {
        let tokens = line.split(|c: char| {
            c.is_whitespace() || c.is_control() || matches!(c, ',' | ';' | '<' | '>' | '"' | '\u{feff}')
        });
        for tok in tokens.map(trim_token).filter(|t| !t.is_empty()) {
            if exclude.is_some_and(|re| re.is_match(tok)) {
                continue;
            }
            match resolve_token(tok) {
                Token::Indicator(kind, value) => {
                    if seen.insert((kind, value.clone())) {
                        sink.item(FeedItem::Indicator(Indicator::new(kind, value)));
                    }
                }
                Token::Invalid(reason) => reject(sink, format!("line {}", i + 1), tok, reason),
                Token::Nothing => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tlds_sorted() {
        assert!(tld_list().windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn comments() {
        assert_eq!(strip_comment("  # x"), "");
        assert_eq!(strip_comment("1.2.3.0/24 ; SBL1"), "1.2.3.0/24");
        assert_eq!(strip_comment("http://x.com/#frag"), "http://x.com/#frag");
        assert_eq!(strip_comment("evil.com\t// note"), "evil.com");
    }

    #[test]
    fn offsets() {
        assert_eq!(parse_offset("+0530"), UtcOffset::from_hms(5, 30, 0).ok());
        assert_eq!(parse_offset("-08"), UtcOffset::from_hms(-8, 0, 0).ok());
        assert_eq!(parse_offset("+5"), None);
    }
}
