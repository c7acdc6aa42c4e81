//! Sensor and resolver logs, one line at a time: Zeek dns/http/ssl/conn (TSV
//! with its `#fields` header, and JSON), Suricata EVE JSON (dns, http, tls,
//! quic, flow, alert), BIND query logs, Unbound query and reply logs, and a
//! plain `timestamp client qname qtype` format. This module owns how each of
//! those lines maps onto an [`Event`]; reading files, gzip, stdin and
//! following a growing file are the caller's.
//!
//! A [`LogReader`] is made for one [`LogFormat`] (recognised by content with
//! [`LogFormat::sniff`]) and fed lines; each gives an event, nothing (a
//! header, a comment, a kind of record we do not use) or a [`LogError`]
//! naming the field and byte offset. The caller adds the line number and
//! goes on with the next line; [`LogReader::counts`] says how many of each.
//!
//! Mapping rules the formats force on us (each an approximation, stated so
//! a reader of the events knows):
//!
//! - **Direction.** Endpoints follow the wire: a DNS response goes from the
//!   server (`src`) to the client (`dst`), as packets and Suricata 8 (EVE
//!   dns v3) log it. Zeek's one line per transaction and EVE v1/v2 `answer`
//!   records name the client as the originator, so their responses are
//!   swapped. Unbound's reply lines name only the client: it stays in `src`
//!   with `dst` unknown.
//! - **Which Zeek log** a record is comes from `#path`/`_path` (a filter's
//!   split such as `dns_internal` counts as `dns`; any other path is
//!   skipped), or, when there is none, from the fields it has.
//! - **Zeek DNS.** A line with an rcode is a response, else a query. Zeek
//!   logs answer data without owner names or types: every answer is named
//!   after the query; data that parses as an IP address is `A`/`AAAA`,
//!   `TXT …` is TXT text, and any other name is typed `CNAME` (Zeek mixes
//!   CNAME, NS, PTR, MX targets in one list).
//! - **EVE dns.** v3 (`queries` array, `request`/`response`), v2
//!   (`rrname`/`rrtype` and `answers` and/or `grouped`) and v1 (one `answer`
//!   record per line, whose owner name we take as the question). Answers
//!   from `grouped` are named after the query with TTL 0. Answers without
//!   `rdata` are rendered from their `srv` object, or dropped and counted.
//! - **Resolver logs** carry no DNS ID (it is 0), and BIND query lines no
//!   rcode (NOERROR). BIND prints local time: it is read as UTC unless
//!   [`LogOptions::utc_offset_seconds`] says otherwise; the same offset
//!   applies to every timestamp that carries none (EVE from old Suricata,
//!   plain logs). Unbound's `log-time-ascii` has no year and is refused.
//!   BIND marks TCP with its `T` flag; Unbound and plain logs do not say,
//!   so their `proto` is `other`.
//! - **Names** are put in the event model's presentation form: trailing dot
//!   dropped, Zeek's `\xHH` escapes decoded, non-printable bytes `\DDD`.
//!
//! Speed: JSON records are decoded into structs of only the fields we use,
//! borrowed from the line; EVE records of types we skip are recognised by a
//! byte scan and not parsed, and those we read go through a hand scanner
//! (`json_scan`) that leaves any line it is unsure of to serde_json, which
//! reports the error (tests and the fuzz target check that the two agree); Zeek TSV is cut on its
//! separator with a column map built once per `#fields`. Only the strings
//! that go into an event are allocated.

mod eve;
mod json_scan;
mod resolver;
mod text;
mod zeek;

use std::fmt;

use serde::Serialize;

use crate::event::{Event, Message};

/// Whether the EVE fast path, where it answers for `line`, answers what
/// serde would (for the fuzz target; `Err` says how they differ).
#[doc(hidden)]
pub fn eve_fast_path_agrees(line: &[u8]) -> Result<(), String> {
    eve::fast_path_agrees(line)
}

/// Longest line read; longer ones are an error (the caller must bound its
/// line buffer the same way).
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// Most answers kept from one line; the rest are counted in
/// [`LogCounts::answers_dropped`].
pub const MAX_ANSWERS: usize = 256;

/// The log formats we read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LogFormat {
    ZeekTsv,
    ZeekJson,
    SuricataEve,
    Bind,
    Unbound,
    Plain,
}

impl LogFormat {
    pub const ALL: [LogFormat; 6] = [
        LogFormat::ZeekTsv,
        LogFormat::ZeekJson,
        LogFormat::SuricataEve,
        LogFormat::Bind,
        LogFormat::Unbound,
        LogFormat::Plain,
    ];

    /// The name a user types (`--format zeek-tsv`) and [`Display`](fmt::Display) prints.
    pub fn name(self) -> &'static str {
        match self {
            LogFormat::ZeekTsv => "zeek-tsv",
            LogFormat::ZeekJson => "zeek-json",
            LogFormat::SuricataEve => "suricata-eve",
            LogFormat::Bind => "bind",
            LogFormat::Unbound => "unbound",
            LogFormat::Plain => "plain",
        }
    }

    pub fn from_name(name: &str) -> Option<LogFormat> {
        LogFormat::ALL.into_iter().find(|f| f.name().eq_ignore_ascii_case(name))
    }

    /// How error messages name a line of this format.
    pub fn label(self) -> &'static str {
        match self {
            LogFormat::ZeekTsv => "Zeek TSV",
            LogFormat::ZeekJson => "Zeek JSON",
            LogFormat::SuricataEve => "EVE",
            LogFormat::Bind => "BIND",
            LogFormat::Unbound => "Unbound",
            LogFormat::Plain => "plain log",
        }
    }

    /// Recognises a format from the first lines of a log (by content, not
    /// file name): the first of up to 32 non-blank lines that is conclusive
    /// decides. `None` when none is.
    pub fn sniff(first_lines: &[u8]) -> Option<LogFormat> {
        first_lines
            .split(|&b| b == b'\n')
            .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
            .filter(|line| line.iter().any(|b| !b.is_ascii_whitespace()))
            .take(32)
            .find_map(sniff_line)
    }
}

impl fmt::Display for LogFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

fn sniff_line(line: &[u8]) -> Option<LogFormat> {
    let contains = |needle: &[u8]| line.windows(needle.len()).any(|w| w == needle);
    let trimmed = line.trim_ascii_start();
    if trimmed.starts_with(b"#separator") || trimmed.starts_with(b"#fields") {
        return Some(LogFormat::ZeekTsv);
    }
    if trimmed.starts_with(b"{") {
        if contains(b"\"event_type\"") {
            return Some(LogFormat::SuricataEve);
        }
        if contains(b"\"id.orig_h\"") || contains(b"\"_path\"") {
            return Some(LogFormat::ZeekJson);
        }
        return None;
    }
    let text = std::str::from_utf8(line).ok()?;
    if resolver::looks_like_unbound(text) {
        return Some(LogFormat::Unbound);
    }
    if resolver::looks_like_bind(text) {
        return Some(LogFormat::Bind);
    }
    if resolver::looks_like_plain(text) {
        return Some(LogFormat::Plain);
    }
    None
}

/// A line that could not be read: which format, where in the line (byte
/// offset) and why, naming the field. The caller adds the line number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} line, byte {offset}: {reason}", format.label())]
pub struct LogError {
    pub format: LogFormat,
    pub offset: usize,
    pub reason: String,
}

/// Reading options.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LogOptions {
    /// Offset from UTC of timestamps that carry none (BIND's local time,
    /// EVE without an offset, plain logs): local = UTC + this many seconds.
    pub utc_offset_seconds: i32,
}

/// What a reader has seen, by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LogCounts {
    /// Every line given to [`LogReader::line`].
    pub lines: u64,
    /// Lines that gave an event.
    pub events: u64,
    pub dns: u64,
    pub http: u64,
    pub tls: u64,
    pub quic: u64,
    pub flow: u64,
    pub ids_alert: u64,
    /// Blank lines, comments and headers.
    pub headers: u64,
    /// Well-formed lines we do not use (EVE stats, Zeek files.log, resolver
    /// status lines, DNS records without a question).
    pub skipped: u64,
    /// Lines that gave an error.
    pub errors: u64,
    /// Answers past [`MAX_ANSWERS`] on a line, or without data we can render.
    pub answers_dropped: u64,
}

/// What one line held, before counting.
#[derive(Debug)]
enum Parsed {
    Event(Event),
    Header,
    Skipped,
}

/// Why a line failed, before the format is attached.
#[derive(Debug)]
struct LineError {
    offset: usize,
    reason: String,
}

impl LineError {
    fn new(offset: usize, reason: impl Into<String>) -> Self {
        LineError { offset, reason: reason.into() }
    }
}

/// Per-line state shared by the parsers.
struct Context<'c> {
    options: &'c LogOptions,
    answers_dropped: &'c mut u64,
}

/// Reads one log format line by line. Stateful only for Zeek TSV (the
/// `#separator`, `#set_separator`, `#empty_field`, `#unset_field`, `#path`
/// and `#fields` headers; a header mid-file replaces the mapping).
#[derive(Debug)]
pub struct LogReader {
    format: LogFormat,
    options: LogOptions,
    counts: LogCounts,
    tsv: zeek::TsvState,
}

impl LogReader {
    pub fn new(format: LogFormat) -> Self {
        LogReader::with_options(format, LogOptions::default())
    }

    pub fn with_options(format: LogFormat, options: LogOptions) -> Self {
        LogReader { format, options, counts: LogCounts::default(), tsv: zeek::TsvState::default() }
    }

    pub fn format(&self) -> LogFormat {
        self.format
    }

    pub fn counts(&self) -> &LogCounts {
        &self.counts
    }

    /// Reads one line (a trailing `\n` or `\r\n` is ignored). `Ok(None)` for
    /// blank lines, comments, headers and records we do not use.
    pub fn line(&mut self, line: &[u8]) -> Result<Option<Event>, LogError> {
        self.counts.lines += 1;
        let line = line.strip_suffix(b"\n").unwrap_or(line);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let parsed = if line.len() > MAX_LINE_BYTES {
            Err(LineError::new(
                MAX_LINE_BYTES,
                format!("line is {} bytes, over the {MAX_LINE_BYTES}-byte limit", line.len()),
            ))
        } else if line.iter().all(u8::is_ascii_whitespace) {
            Ok(Parsed::Header)
        } else {
            let mut ctx = Context { options: &self.options, answers_dropped: &mut self.counts.answers_dropped };
            match self.format {
                LogFormat::ZeekTsv => self.tsv.line(line, &mut ctx),
                LogFormat::ZeekJson => zeek::json_line(line, &mut ctx),
                LogFormat::SuricataEve => eve::line(line, &mut ctx),
                LogFormat::Bind => resolver::bind_line(line, &mut ctx),
                LogFormat::Unbound => resolver::unbound_line(line, &mut ctx),
                LogFormat::Plain => resolver::plain_line(line, &mut ctx),
            }
        };
        match parsed {
            Ok(Parsed::Event(event)) => {
                self.counts.events += 1;
                let kind = match event.message {
                    Message::Dns(_) => &mut self.counts.dns,
                    Message::Http(_) => &mut self.counts.http,
                    Message::Tls(_) => &mut self.counts.tls,
                    Message::Quic(_) => &mut self.counts.quic,
                    Message::Flow(_) => &mut self.counts.flow,
                    Message::IdsAlert(_) => &mut self.counts.ids_alert,
                };
                *kind += 1;
                Ok(Some(event))
            }
            Ok(Parsed::Header) => {
                self.counts.headers += 1;
                Ok(None)
            }
            Ok(Parsed::Skipped) => {
                self.counts.skipped += 1;
                Ok(None)
            }
            Err(LineError { offset, reason }) => {
                self.counts.errors += 1;
                Err(LogError { format: self.format, offset, reason })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_names_round_trip() {
        for format in LogFormat::ALL {
            assert_eq!(LogFormat::from_name(format.name()), Some(format));
            assert_eq!(format.to_string(), format.name());
        }
        assert_eq!(LogFormat::from_name("EVE"), None);
    }

    #[test]
    fn over_long_lines_are_refused_before_parsing() {
        let mut reader = LogReader::new(LogFormat::SuricataEve);
        let line = vec![b'{'; MAX_LINE_BYTES + 1];
        let err = reader.line(&line).unwrap_err();
        assert!(err.reason.contains("over the 1048576-byte limit"), "{err}");
        assert_eq!(reader.counts().errors, 1);
    }
}
