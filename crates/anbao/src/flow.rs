//! `anbao flow decode`: the flow-export datagrams (NetFlow v5/v9, IPFIX,
//! sFlow v5) in a capture, decoded as a collector would and printed one flow
//! per line. The JSON form is documented in docs/flow-decode.md; keys are
//! added, never renamed.
//!
//! Exit status: 0 when every export datagram was decoded; 1 when some could
//! not be (or templates were refused, or the capture is damaged, or no flow
//! was found); 2 when a capture could not be read at all.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::IpAddr;
use std::process::ExitCode;

use anbao_flow::{Decoder, DecoderConfig, FlowError, FlowRecord};
use anbao_net::capture::read_capture;
use anbao_net::packet::{self, Transport};
use anyhow::{Context, Result};
use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub enum FlowCommand {
    /// Decode the NetFlow v5/v9, IPFIX and sFlow v5 export datagrams in captures (pcap, pcapng) and print
    /// one flow per line (`--json`: one JSON object per line). Templates are learnt as they come.
    /// Exit status 0 when all was decoded, 1 when some datagrams or templates could not be (or no flow
    /// was found), 2 when a capture could not be read.
    Decode(DecodeArgs),
}

#[derive(Debug, Args)]
pub struct DecodeArgs {
    /// Capture files (pcap, pcapng), read in order with one decoder state; `-` reads stdin.
    #[arg(required = true, value_name = "FILE")]
    pub inputs: Vec<String>,
    /// Only UDP datagrams to this destination port (default: every UDP payload).
    #[arg(long, value_name = "N")]
    pub port: Option<u16>,
    /// One JSON object per flow instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Sampling rate of an exporter, overriding what it announces (repeatable).
    #[arg(long, value_name = "EXPORTER=RATE", value_parser = parse_override)]
    pub sampling: Vec<(IpAddr, u32)>,
    /// No summary on stderr.
    #[arg(long, short)]
    pub quiet: bool,
    /// Also print every source's counters (JSON) on stderr at the end.
    #[arg(long)]
    pub stats: bool,
}

fn parse_override(s: &str) -> Result<(IpAddr, u32), String> {
    let (ip, rate) = s.split_once('=').ok_or("expected EXPORTER=RATE")?;
    let ip = ip.parse().map_err(|e| format!("{ip}: {e}"))?;
    let rate = rate.parse::<u32>().map_err(|e| format!("{rate}: {e}"))?;
    if rate == 0 {
        return Err("the rate must be at least 1".into());
    }
    Ok((ip, rate))
}

pub async fn run(command: FlowCommand) -> Result<ExitCode> {
    match command {
        FlowCommand::Decode(args) => tokio::task::block_in_place(|| decode(&args)),
    }
}

/// What one capture held.
#[derive(Debug, Default, serde::Serialize)]
struct InputCounts {
    frames: u64,
    udp_datagrams: u64,
    /// UDP payloads that are not flow exports (other traffic).
    not_flow: u64,
    /// Export datagrams that could not be decoded (whole or in part).
    export_errors: u64,
    /// IP fragments (not reassembled: exporters should not fragment).
    fragments: u64,
    capture_problems: u64,
}

struct Printer<W: Write> {
    out: W,
    json: bool,
    error: Option<std::io::Error>,
    printed: u64,
}

impl<W: Write> Printer<W> {
    fn flow(&mut self, f: &FlowRecord) {
        if self.error.is_some() {
            return;
        }
        let written = if self.json {
            serde_json::to_writer(&mut self.out, f)
                .map_err(std::io::Error::other)
                .and_then(|()| self.out.write_all(b"\n"))
        } else {
            writeln!(self.out, "{}", table_row(f))
        };
        match written {
            Ok(()) => self.printed += 1,
            Err(e) => self.error = Some(e),
        }
    }
}

const TABLE_HEADER: &str = "START                    END                      EXPORTER         VERSION  SOURCE                 DESTINATION            PROTO    PACKETS        BYTES FLAGS RATE";

fn table_row(f: &FlowRecord) -> String {
    format!(
        "{:<24} {:<24} {:<16} {:<8} {:<22} {:<22} {:<5} {:>10} {:>12} {:<5} {}",
        f.start.to_string(),
        f.end.to_string(),
        f.exporter.to_string(),
        f.version.as_str(),
        crate::net::endpoint(f.src, Some(f.sport)),
        crate::net::endpoint(f.dst, Some(f.dport)),
        proto_name(f.proto),
        f.packets,
        f.bytes,
        tcp_flags(f.tcp_flags),
        f.sampling_rate
    )
}

fn proto_name(p: u8) -> String {
    match p {
        1 => "icmp".into(),
        6 => "tcp".into(),
        17 => "udp".into(),
        58 => "icmp6".into(),
        other => other.to_string(),
    }
}

/// nfdump's notation: `UAPRSF` with dots for flags not set (CWR/ECE left out).
fn tcp_flags(f: u8) -> String {
    "UAPRSF".chars().enumerate().map(|(i, c)| if f & (0x20 >> i) != 0 { c } else { '.' }).collect()
}

fn decode(args: &DecodeArgs) -> Result<ExitCode> {
    let config = DecoderConfig {
        sampling_overrides: args.sampling.iter().copied().collect::<HashMap<_, _>>(),
        ..DecoderConfig::default()
    };
    let mut decoder = Decoder::new(config);
    let stdout = std::io::stdout();
    let mut printer = Printer {
        out: std::io::BufWriter::with_capacity(1 << 16, stdout.lock()),
        json: args.json,
        error: None,
        printed: 0,
    };
    if !args.json {
        writeln!(printer.out, "{TABLE_HEADER}")?;
    }
    let mut counts = Vec::new();
    let mut first_problems: Vec<String> = Vec::new();
    for input in &args.inputs {
        let reader: Box<dyn Read> = if input == "-" {
            Box::new(std::io::stdin().lock())
        } else {
            Box::new(std::fs::File::open(input).with_context(|| format!("opening {input}"))?)
        };
        let mut c = InputCounts::default();
        let summary = read_capture(std::io::BufReader::with_capacity(1 << 16, reader), |frame| {
            c.frames += 1;
            let Ok(Some(p)) = packet::decode(frame.link_type, frame.data) else { return };
            let udp = match p.transport {
                Transport::Udp(u) => u,
                Transport::Fragment { protocol: packet::IPPROTO_UDP, .. } => {
                    c.fragments += 1;
                    return;
                }
                _ => return,
            };
            if args.port.is_some_and(|port| udp.dport != port) {
                return;
            }
            c.udp_datagrams += 1;
            match decoder.decode(p.src, frame.ts, udp.payload, &mut |f| printer.flow(&f)) {
                Ok(report) => {
                    if !report.problems.is_empty() {
                        c.export_errors += 1;
                        for e in &report.problems {
                            note(&mut first_problems, input, c.frames, e);
                        }
                    }
                }
                Err(FlowError::NotFlowExport { .. }) => c.not_flow += 1,
                Err(e) => {
                    c.export_errors += 1;
                    note(&mut first_problems, input, c.frames, &e);
                }
            }
        })
        .with_context(|| format!("reading {input}"))?;
        c.capture_problems = summary.problem_count;
        for p in summary.problems.iter().take(3) {
            first_problems.push(format!("{input}: byte {}: {}", p.offset, p.what));
        }
        if let Some(e) = printer.error.take() {
            return Err(e.into());
        }
        counts.push((input, c));
    }
    printer.out.flush()?;
    let exporters = decoder.exporters();
    if !args.quiet {
        for (input, c) in &counts {
            eprintln!(
                "anbao: {input}: {} frames, {} UDP datagrams ({} not flow exports, {} could not be decoded{})",
                c.frames,
                c.udp_datagrams,
                c.not_flow,
                c.export_errors,
                if c.fragments > 0 { format!(", {} UDP fragments skipped", c.fragments) } else { String::new() }
            );
        }
        for (ip, h) in &exporters {
            eprintln!(
                "anbao: exporter {ip}: {} packets, {} flows, {} sequence gaps ({} lost), {} template errors, {} data sets dropped (no template), {} malformed",
                h.packets, h.flows, h.sequence_gaps, h.sequence_lost, h.template_errors, h.dropped_sets, h.malformed
            );
        }
        for p in &first_problems {
            eprintln!("anbao: {p}");
        }
        if printer.printed == 0 {
            eprintln!("anbao: no flow records found");
        }
    }
    if args.stats {
        let mut sources: Vec<_> =
            decoder.sources().map(|(k, h)| serde_json::json!({"source": k, "health": h})).collect();
        sources.sort_by_key(|v| v.to_string());
        let inputs: Vec<_> = counts.iter().map(|(i, c)| serde_json::json!({"input": i, "counts": c})).collect();
        eprintln!("{}", serde_json::to_string_pretty(&serde_json::json!({"inputs": inputs, "sources": sources}))?);
    }
    let troubled = counts.iter().any(|(_, c)| c.export_errors > 0 || c.capture_problems > 0)
        || exporters.values().any(|h| h.template_errors > 0 || h.malformed > 0)
        || printer.printed == 0;
    Ok(ExitCode::from(if troubled { 1 } else { 0 }))
}

/// Keeps the first few problems for stderr.
fn note(problems: &mut Vec<String>, input: &str, frame: u64, e: &FlowError) {
    if problems.len() < 10 {
        problems.push(format!("{input}: frame {frame}: {e}"));
    }
}
