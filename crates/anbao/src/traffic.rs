//! Reading traffic inputs for `anbao net extract` and `anbao scan`: files
//! or stdin, gzip undone, captures told from logs by their first bytes,
//! logs optionally followed as they grow. Every input ends with a report of
//! what was read and what could not be.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::time::Duration;

use anbao_net::capture::{CaptureFormat, read_capture};
use anbao_net::logs::{LogFormat, LogReader};
use anbao_net::{Endpoints, Event, Extractor};
use serde::Serialize;

/// Longest log line read; longer ones are reported and skipped.
const MAX_LINE: usize = 1 << 20;
/// Problems kept per input (all are counted).
const MAX_PROBLEMS: usize = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum InputFormat {
    /// Tell captures and log formats apart by content.
    #[default]
    Auto,
    /// pcap or pcapng.
    Pcap,
    /// Zeek logs, TSV with a #fields header.
    Zeek,
    /// Zeek logs, one JSON object per line.
    ZeekJson,
    /// Suricata EVE JSON.
    Eve,
    /// BIND query log.
    Bind,
    /// Unbound query/reply log.
    Unbound,
    /// `timestamp client qname qtype` lines.
    Plain,
}

impl InputFormat {
    fn log_format(self) -> Option<LogFormat> {
        Some(match self {
            InputFormat::Auto | InputFormat::Pcap => return None,
            InputFormat::Zeek => LogFormat::ZeekTsv,
            InputFormat::ZeekJson => LogFormat::ZeekJson,
            InputFormat::Eve => LogFormat::SuricataEve,
            InputFormat::Bind => LogFormat::Bind,
            InputFormat::Unbound => LogFormat::Unbound,
            InputFormat::Plain => LogFormat::Plain,
        })
    }
}

#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    pub format: InputFormat,
    /// Keep reading logs as they grow (like `tail -f`); never returns.
    pub follow: bool,
    /// Live capture: a tcpdump filter expression (compiled to BPF in the kernel).
    #[cfg_attr(not(feature = "live-capture"), allow(dead_code))]
    pub capture_filter: Option<String>,
    /// Live capture: stop after this many packets (otherwise it runs until killed).
    #[cfg_attr(not(feature = "live-capture"), allow(dead_code))]
    pub max_packets: Option<u64>,
}

/// One problem in an input.
#[derive(Debug, Clone, Serialize)]
pub struct InputProblem {
    /// `byte N` in a capture, `frame N`, or `line N` in a log.
    pub at: String,
    pub what: String,
}

/// What was read from one input.
#[derive(Debug, Clone, Serialize)]
pub struct InputReport {
    pub input: String,
    /// `pcap`, `pcapng`, `live (LINK)`, or the log format; empty when unreadable.
    pub format: String,
    /// Frames of a capture (or packets captured live), lines of a log.
    pub records: u64,
    pub events: u64,
    pub problem_count: u64,
    pub problems: Vec<InputProblem>,
    /// Why nothing could be read at all.
    pub error: Option<String>,
}

impl InputReport {
    fn new(input: &str) -> Self {
        InputReport {
            input: input.to_owned(),
            format: String::new(),
            records: 0,
            events: 0,
            problem_count: 0,
            problems: Vec::new(),
            error: None,
        }
    }

    pub(crate) fn problem(&mut self, at: String, what: String) {
        self.problem_count += 1;
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(InputProblem { at, what });
        }
    }

    /// Prints what went wrong, if anything, to stderr.
    pub fn print_problems(&self) {
        if let Some(e) = &self.error {
            eprintln!("anbao: {}: {e}", self.input);
            return;
        }
        if self.problem_count == 0 {
            return;
        }
        eprintln!("anbao: {}: {} record(s) could not be read; the first:", self.input, self.problem_count);
        for p in &self.problems {
            eprintln!("  {}: {}", p.at, p.what);
        }
    }
}

/// What the reader hands on.
pub trait TrafficSink {
    fn event(&mut self, event: &Event);
    /// Every decoded IP packet's endpoints and time (captures only).
    fn packet(&mut self, _ts: anbao_net::Timestamp, _endpoints: &Endpoints) {}
}

/// Reads one input (`-` is stdin) through `extractor` into `sink`.
pub fn read_input(
    name: &str,
    options: &ReadOptions,
    extractor: &mut Extractor,
    progress: &indicatif::ProgressBar,
    sink: &mut dyn TrafficSink,
) -> InputReport {
    let mut report = InputReport::new(name);
    if let Some(interface) = crate::live::interface_of(name) {
        crate::live::read_interface(interface, options, extractor, sink, &mut report);
        return report;
    }
    let raw: Box<dyn Read> = if name == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        match File::open(Path::new(name)) {
            Ok(f) => {
                if let Ok(meta) = f.metadata() {
                    progress.inc_length(meta.len());
                }
                Box::new(Counting { inner: f, progress: progress.clone() })
            }
            Err(e) => {
                report.error = Some(format!("cannot open: {e}"));
                return report;
            }
        }
    };
    let mut reader = BufReader::with_capacity(1 << 16, raw);
    let head = match reader.fill_buf() {
        Ok(h) => h,
        Err(e) => {
            report.error = Some(format!("cannot read: {e}"));
            return report;
        }
    };
    let gzip = head.starts_with(&[0x1f, 0x8b]);
    let mut reader: Box<dyn BufRead> = if gzip {
        Box::new(BufReader::with_capacity(1 << 16, flate2::read::MultiGzDecoder::new(reader)))
    } else if options.follow && name != "-" {
        // Following re-reads at EOF; wrap the file (already buffered) so
        // reads at its end wait for more instead of ending.
        Box::new(BufReader::with_capacity(1 << 16, Follow { inner: reader }))
    } else {
        Box::new(reader)
    };
    let head = match reader.fill_buf() {
        Ok(h) => h.to_vec(),
        Err(e) => {
            report.error = Some(format!("cannot read{}: {e}", if gzip { " (gzip)" } else { "" }));
            return report;
        }
    };
    let is_capture = is_capture_magic(&head);
    if options.format == InputFormat::Pcap || (options.format == InputFormat::Auto && is_capture) {
        read_capture_input(reader, extractor, sink, &mut report);
        return report;
    }
    let format = match options.format.log_format().or_else(|| LogFormat::sniff(&head)) {
        Some(f) => f,
        None => {
            report.error = Some(if head.is_empty() {
                "empty input".to_owned()
            } else {
                format!(
                    "neither a capture (pcap, pcapng) nor a log format we read (first bytes {}); name one with --format",
                    hex_prefix(&head)
                )
            });
            return report;
        }
    };
    read_log_input(reader, format, sink, &mut report);
    report
}

fn is_capture_magic(head: &[u8]) -> bool {
    const MAGICS: [[u8; 4]; 5] = [
        [0xd4, 0xc3, 0xb2, 0xa1],
        [0xa1, 0xb2, 0xc3, 0xd4],
        [0x4d, 0x3c, 0xb2, 0xa1],
        [0xa1, 0xb2, 0x3c, 0x4d],
        [0x0a, 0x0d, 0x0d, 0x0a],
    ];
    head.get(..4).is_some_and(|m| MAGICS.iter().any(|magic| magic == m))
}

fn hex_prefix(bytes: &[u8]) -> String {
    bytes.iter().take(8).map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ")
}

fn read_capture_input(
    reader: Box<dyn BufRead>,
    extractor: &mut Extractor,
    sink: &mut dyn TrafficSink,
    report: &mut InputReport,
) {
    let mut events = 0u64;
    let result = read_capture(reader, |frame| {
        let endpoints = extractor.frame(&frame, &mut |event| {
            events += 1;
            sink.event(&event);
        });
        if let Some(ep) = endpoints {
            sink.packet(frame.ts, &ep);
        }
    });
    report.events = events;
    match result {
        Ok(summary) => {
            report.format = match summary.format {
                CaptureFormat::Pcap => "pcap",
                CaptureFormat::PcapNg => "pcapng",
            }
            .to_owned();
            report.records = summary.frames;
            for p in &summary.problems {
                report.problem(format!("byte {}", p.offset), p.what.clone());
            }
            report.problem_count = summary.problem_count.max(report.problem_count);
        }
        Err(e) => report.error = Some(e.to_string()),
    }
}

fn read_log_input(
    mut reader: Box<dyn BufRead>,
    format: LogFormat,
    sink: &mut dyn TrafficSink,
    report: &mut InputReport,
) {
    report.format = format.name().to_owned();
    let mut log = LogReader::new(format);
    let mut line = Vec::with_capacity(4096);
    let mut lineno = 0u64;
    loop {
        line.clear();
        lineno += 1;
        match read_line_bounded(&mut reader, &mut line) {
            Ok(LineRead::End) => break,
            Ok(LineRead::TooLong) => {
                report.problem(format!("line {lineno}"), format!("longer than {MAX_LINE} bytes, skipped"));
                continue;
            }
            Ok(LineRead::Line) => {}
            Err(e) => {
                report.problem(format!("line {lineno}"), format!("read error: {e}"));
                break;
            }
        }
        report.records += 1;
        match log.line(&line) {
            Ok(Some(event)) => {
                report.events += 1;
                sink.event(&event);
            }
            Ok(None) => {}
            Err(e) => report.problem(format!("line {lineno}"), e.to_string()),
        }
    }
}

enum LineRead {
    Line,
    TooLong,
    End,
}

/// One line without its terminator, at most [`MAX_LINE`] bytes kept.
fn read_line_bounded(reader: &mut dyn BufRead, line: &mut Vec<u8>) -> std::io::Result<LineRead> {
    let mut too_long = false;
    let mut any = false;
    loop {
        let buf = reader.fill_buf()?;
        if buf.is_empty() {
            return Ok(if !any {
                LineRead::End
            } else if too_long {
                LineRead::TooLong
            } else {
                LineRead::Line
            });
        }
        any = true;
        // memchr: a byte-at-a-time search was a tenth of scanning an EVE log.
        let (chunk, found) = match memchr::memchr(b'\n', buf) {
            Some(i) => (buf.get(..i).unwrap_or_default(), Some(i + 1)),
            None => (buf, None),
        };
        if !too_long {
            if line.len() + chunk.len() > MAX_LINE {
                too_long = true;
                line.clear();
            } else {
                line.extend_from_slice(chunk);
            }
        }
        let used = found.unwrap_or(buf.len());
        reader.consume(used);
        if found.is_some() {
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            return Ok(if too_long { LineRead::TooLong } else { LineRead::Line });
        }
    }
}

/// Counts bytes read into the progress bar.
struct Counting<R> {
    inner: R,
    progress: indicatif::ProgressBar,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.inc(n as u64);
        Ok(n)
    }
}

/// A reader that waits at EOF for more (a log being written).
struct Follow<R> {
    inner: R,
}

impl<R: Read> Read for Follow<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            let n = self.inner.read(buf)?;
            if n > 0 || buf.is_empty() {
                return Ok(n);
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_are_skipped_and_reading_goes_on() {
        let mut text = vec![b'a'; MAX_LINE + 10];
        text.extend_from_slice(b"\nnext\r\nlast");
        let mut r: Box<dyn BufRead> = Box::new(BufReader::with_capacity(1000, &text[..]));
        let mut line = Vec::new();
        assert!(matches!(read_line_bounded(&mut r, &mut line).unwrap(), LineRead::TooLong));
        line.clear();
        assert!(matches!(read_line_bounded(&mut r, &mut line).unwrap(), LineRead::Line));
        assert_eq!(line, b"next");
        line.clear();
        assert!(matches!(read_line_bounded(&mut r, &mut line).unwrap(), LineRead::Line));
        assert_eq!(line, b"last");
        line.clear();
        assert!(matches!(read_line_bounded(&mut r, &mut line).unwrap(), LineRead::End));
    }
}
