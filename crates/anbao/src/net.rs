//! `anbao net extract`: what the network decoders read from captures and
//! logs, one message per line. The JSON form is documented in
//! `anbao_net::event` and in docs/net-extract.md; people pipe it, so keys are
//! added, never renamed.
//!
//! Exit status: 0 when every input was read whole, 1 when some records could
//! not be read (reported on stderr with where), 2 when an input could not be
//! read at all.

use std::io::Write;
use std::process::ExitCode;

use anbao_net::{Endpoints, Event, Extractor, Limits};
use anyhow::{Context, Result};
use clap::{Args, Subcommand};

use crate::traffic::{InputFormat, InputReport, ReadOptions, TrafficSink, read_input};

#[derive(Debug, Subcommand)]
pub enum NetCommand {
    /// Decode captures (pcap, pcapng) and logs (Zeek, Suricata EVE, BIND, Unbound, plain) and print the
    /// DNS, HTTP, TLS and QUIC messages found, one per line (`--json`: one JSON object per line).
    /// Exit status 0 when all was read, 1 when some records could not be, 2 when an input could not be read.
    Extract(ExtractArgs),
}

#[derive(Debug, Args)]
pub struct ExtractArgs {
    /// Capture or log files; `-` reads stdin; `iface:NAME` captures live from an interface.
    /// gzip is undone transparently.
    #[arg(required = true, value_name = "FILE")]
    pub inputs: Vec<String>,
    #[command(flatten)]
    pub live: crate::live::LiveArgs,
    /// One JSON object per message instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Input format (default: recognised by content).
    #[arg(long, value_enum, default_value = "auto")]
    pub format: InputFormat,
    /// Keep reading log files as they grow (stop with Ctrl-C).
    #[arg(long)]
    pub follow: bool,
    /// Only these kinds (comma-separated): dns, http, tls, quic, flow, ids_alert.
    #[arg(long, value_delimiter = ',', value_name = "KIND")]
    pub kind: Vec<String>,
    /// No progress bar and no summary on stderr.
    #[arg(long, short)]
    pub quiet: bool,
    /// Also print every decoder counter (JSON) on stderr at the end.
    #[arg(long)]
    pub stats: bool,
    /// Benchmarks: read the capture frames and decode nothing (the cost of reading alone).
    #[arg(long, hide = true)]
    pub read_only: bool,
}

pub async fn run(command: NetCommand) -> Result<ExitCode> {
    match command {
        NetCommand::Extract(args) => tokio::task::block_in_place(|| extract(&args)),
    }
}

struct Printer<W: Write> {
    out: W,
    json: bool,
    kinds: Vec<String>,
    error: Option<std::io::Error>,
    printed: u64,
}

impl<W: Write> TrafficSink for Printer<W> {
    fn event(&mut self, event: &Event) {
        if self.error.is_some() || (!self.kinds.is_empty() && !self.kinds.iter().any(|k| k == event.message.kind())) {
            return;
        }
        let written = if self.json {
            serde_json::to_writer(&mut self.out, event)
                .map_err(std::io::Error::other)
                .and_then(|()| self.out.write_all(b"\n"))
        } else {
            writeln!(self.out, "{}", table_row(event))
        };
        match written {
            Ok(()) => self.printed += 1,
            Err(e) => self.error = Some(e),
        }
    }
}

/// `host:port` for the table; IPv6 in brackets.
pub fn endpoint(addr: std::net::IpAddr, port: Option<u16>) -> String {
    match (addr, port) {
        (std::net::IpAddr::V6(a), Some(p)) => format!("[{a}]:{p}"),
        (a, Some(p)) => format!("{a}:{p}"),
        (a, None) => a.to_string(),
    }
}

fn table_row(event: &Event) -> String {
    let Endpoints { src, sport, dst, dport, .. } = event.endpoints;
    let dst = dst.map_or_else(|| "-".to_owned(), |d| endpoint(d, dport));
    format!(
        "{:<27} {:<5} {:<22} {:<22} {}",
        event.ts.to_string(),
        event.message.kind(),
        endpoint(src, sport),
        dst,
        anbao_detect::alerts::summary(&event.message)
    )
}

pub fn progress_bar(quiet: bool) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if quiet || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:30} {bytes}/{total_bytes} ({bytes_per_sec}, eta {eta})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar
}

/// The exit status for a set of input reports: 2 if one could not be read,
/// else `partial` if some records could not be, else `clean`.
pub fn input_status(reports: &[InputReport], clean: u8, partial: u8) -> u8 {
    if reports.iter().any(|r| r.error.is_some()) {
        2
    } else if reports.iter().any(|r| r.problem_count > 0) {
        partial
    } else {
        clean
    }
}

/// `--read-only`: frames read, nothing decoded.
fn read_only(args: &ExtractArgs) -> Result<ExitCode> {
    let mut status = 0u8;
    for input in &args.inputs {
        let file = std::fs::File::open(input).with_context(|| format!("opening {input}"))?;
        let (mut frames, mut bytes) = (0u64, 0u64);
        let summary = anbao_net::capture::read_capture(std::io::BufReader::with_capacity(1 << 16, file), |f| {
            frames += 1;
            bytes += f.data.len() as u64;
        })?;
        if summary.problem_count > 0 {
            status = 1;
        }
        eprintln!("anbao: {input}: {frames} frames, {bytes} bytes read, nothing decoded");
    }
    Ok(ExitCode::from(status))
}

fn extract(args: &ExtractArgs) -> Result<ExitCode> {
    if args.read_only {
        return read_only(args);
    }
    const KINDS: [&str; 6] = ["dns", "http", "tls", "quic", "flow", "ids_alert"];
    if let Some(bad) = args.kind.iter().find(|k| !KINDS.contains(&k.as_str())) {
        anyhow::bail!("--kind {bad}: not one of {}", KINDS.join(", "));
    }
    let options = ReadOptions {
        format: args.format,
        follow: args.follow,
        capture_filter: args.live.capture_filter.clone(),
        max_packets: args.live.count,
    };
    let progress = progress_bar(args.quiet || args.follow);
    let mut extractor = Extractor::new(Limits::default());
    let stdout = std::io::stdout();
    let mut printer = Printer {
        out: std::io::BufWriter::with_capacity(1 << 16, stdout.lock()),
        json: args.json,
        kinds: args.kind.clone(),
        error: None,
        printed: 0,
    };
    if !args.json {
        writeln!(printer.out, "{:<27} {:<5} {:<22} {:<22} DETAIL", "TIME", "KIND", "SOURCE", "DESTINATION")?;
    }
    let mut reports = Vec::new();
    for input in &args.inputs {
        let report = read_input(input, &options, &mut extractor, &progress, &mut printer);
        if let Some(e) = printer.error.take() {
            return Err(e.into());
        }
        reports.push(report);
    }
    printer.out.flush()?;
    progress.finish_and_clear();
    for r in &reports {
        r.print_problems();
    }
    if !args.quiet {
        let stats = extractor.stats();
        let records: u64 = reports.iter().map(|r| r.records).sum();
        let events: u64 = reports.iter().map(|r| r.events).sum();
        let e = &stats.events;
        eprintln!(
            "anbao: {} input(s), {records} frames or lines, {events} messages ({} printed; from captures: dns {}, http {}, tls {}, quic {})",
            reports.len(),
            printer.printed,
            e.dns,
            e.http,
            e.tls,
            e.quic
        );
        if stats.undecodable.total() > 0 || stats.problem_count > 0 {
            let first =
                stats.problems.first().map(|p| format!("; first: frame {}: {}", p.frame, p.what)).unwrap_or_default();
            eprintln!(
                "anbao: {} message(s) could not be decoded, {} packet problem(s){first} (--stats for all counters)",
                stats.undecodable.total(),
                stats.problem_count
            );
        }
        if args.stats {
            eprintln!("{}", serde_json::to_string_pretty(&stats).unwrap_or_default());
        }
    }
    Ok(ExitCode::from(input_status(&reports, 0, 1)))
}
