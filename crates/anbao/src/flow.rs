//! `anbao flow decode`: the flow-export datagrams (NetFlow v5/v9, IPFIX,
//! sFlow v5) in a capture, decoded as a collector would and printed one flow
//! per line. The JSON form is documented in docs/flow-decode.md; keys are
//! added, never renamed.
//!
//! Exit status: 0 when every export datagram was decoded; 1 when some could
//! not be (or templates were refused, or the capture is damaged, or no flow
//! was found); 2 when a capture could not be read at all.
//!
//! `anbao flow collect`: the live collector ([`collect`]) on UDP, printing
//! attack events (start/update/end) as they happen (docs/flow-collect.md).
//! With a database named (`--database`, `--data-dir`, `--config` or their
//! `ANBAO_*` variables) it also writes its status to the store for the web
//! nodes ([`nodes`]).

pub mod alerts;
pub mod bus;
pub mod collect;
pub mod mitigation;
pub mod nodes;
pub mod traffic;

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
    /// Receive NetFlow v5/v9, IPFIX and sFlow v5 exports on UDP, aggregate per protected host and group
    /// (`--groups FILE`) and print DDoS attack events as they happen (start, update, end; `--json`: one
    /// JSON object per line). Runs until Ctrl-C.
    Collect(CollectArgs),
    /// Scale-out: consume one partition of the flows `anbao flow collect --bus` publishes to NATS
    /// JetStream, aggregate and detect them as the embedded collector does, and write DDoS attacks as
    /// alerts to the database (one per attack). Runs until Ctrl-C.
    Worker(bus::WorkerArgs),
}

#[derive(Debug, Args)]
pub struct CollectArgs {
    /// UDP address to listen on (repeatable). Default: 0.0.0.0:2055 (NetFlow), 0.0.0.0:4739 (IPFIX),
    /// 0.0.0.0:6343 (sFlow); every port takes every format.
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Vec<std::net::SocketAddr>,
    /// Host groups and detection settings (TOML; see docs/flow-collect.md). Without it nothing is
    /// protected and no attack can be detected.
    #[arg(long, value_name = "FILE")]
    pub groups: Option<std::path::PathBuf>,
    /// Socket receive buffer in bytes (SO_RCVBUF; the kernel caps it at net.core.rmem_max).
    #[arg(long, value_name = "BYTES", default_value_t = collect::DEFAULT_RCVBUF)]
    pub rcvbuf: usize,
    /// One JSON object per attack event instead of a line of text.
    #[arg(long)]
    pub json: bool,
    /// Also print every decoded flow record on stdout as it arrives, one JSON object per line as
    /// `flow decode --json` prints it (attack events, which have an `event` key, are printed among them).
    #[arg(long, conflicts_with = "bus")]
    pub records: bool,
    /// Print exporter health, detector counters and group rates (JSON) on stderr every N seconds.
    #[arg(long, value_name = "SECS", num_args = 0..=1, default_missing_value = "10")]
    pub stats: Option<u64>,
    /// Sampling rate of an exporter, overriding what it announces (repeatable).
    #[arg(long, value_name = "EXPORTER=RATE", value_parser = parse_override)]
    pub sampling: Vec<(IpAddr, u32)>,
    /// Scale-out: publish the decoded flows to this NATS JetStream server (e.g. nats://127.0.0.1:4222)
    /// for `anbao flow worker`s instead of detecting here (docs/flow-collect.md).
    #[arg(long, value_name = "URL")]
    pub bus: Option<String>,
    /// JetStream stream of the flows (created when missing; subjects STREAM.flows.K, STREAM in lower case).
    #[arg(long, default_value = "ANBAO_FLOWS", requires = "bus")]
    pub stream: String,
    /// Split the flows into this many partitions by their destination's host group (or /24, /64 without
    /// groups); run one `anbao flow worker --partition K` per partition. Every collector of a stream must
    /// use the same number and the same groups file.
    #[arg(long, default_value_t = 1, requires = "bus", value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub partitions: u32,
    /// Most flow records per bus message.
    #[arg(long, default_value_t = 2000, requires = "bus", value_parser = clap::value_parser!(u32).range(1..=8000))]
    pub batch: u32,
    /// Collector name carried with the flows (alerts' sensor) and naming its status. Default: the host name.
    #[arg(long)]
    pub collector: Option<String>,
    /// With a database named here (or by ANBAO_DATABASE, ANBAO_DATA_DIR, ANBAO_CONFIG), the collector writes
    /// its status (exporter health, counters) there every few seconds for `anbao serve`'s /flows and
    /// /metrics.
    #[command(flatten)]
    pub data: crate::DataArgs,
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
        FlowCommand::Collect(args) => run_collect(args).await,
        FlowCommand::Worker(args) => bus::run_worker(args).await,
    }
}

async fn run_collect(args: CollectArgs) -> Result<ExitCode> {
    let model = match &args.groups {
        Some(path) => collect::load_groups(path)?,
        None => {
            eprintln!("anbao: no --groups: nothing is protected, no attack will be detected");
            anbao_flow::ModelConfig::default()
        }
    };
    let listen = if args.listen.is_empty() {
        collect::DEFAULT_LISTEN.iter().filter_map(|a| a.parse().ok()).collect()
    } else {
        args.listen.clone()
    };
    let status = collector_status(&args).await?;
    let mut config = collect::CollectorConfig {
        listen,
        rcvbuf: args.rcvbuf,
        model,
        decoder: DecoderConfig {
            sampling_overrides: args.sampling.iter().copied().collect::<HashMap<_, _>>(),
            ..DecoderConfig::default()
        },
        stats_every: args.stats.map(|s| std::time::Duration::from_secs(s.max(1))),
        forward: args.bus.is_some(),
        records: args.records,
        history: None,
        profile_history: Vec::new(),
    };
    let mut printed = StatsPrinter::new(args.stats);
    if status.is_some() {
        config.stats_every = Some(std::time::Duration::from_secs(1));
    }
    if let Some(url) = &args.bus {
        return run_collect_bus(&args, url, config, status, printed).await;
    }
    let json = args.json;
    let (closed_tx, mut closed_rx) = tokio::sync::mpsc::channel::<()>(1);
    let feed = status.clone();
    let collector = collect::start(config, move |out| {
        let written = match out {
            collect::Output::Events(events) => {
                if let Some(f) = &feed {
                    f.events(&events);
                }
                print_events(&events, json)
            }
            collect::Output::Stats(s) => {
                if let Some(f) = &feed {
                    feed_stats(f, &s, true);
                }
                printed.print(&s)
            }
            collect::Output::Records(records) => print_records(&records),
            collect::Output::Traffic(_) => Ok(()),
        };
        if written.is_err() {
            let _ = closed_tx.try_send(());
        }
    })?;
    for (addr, buf) in collector.local.iter().zip(&collector.rcvbuf) {
        eprintln!("anbao: listening for flow exports on udp {addr} (receive buffer {buf} bytes)");
    }
    if let Some(s) = &status {
        s.started(collector.local.iter().map(ToString::to_string).collect());
    }
    tokio::select! {
        r = tokio::signal::ctrl_c() => r.context("waiting for Ctrl-C")?,
        _ = closed_rx.recv() => {}
    }
    tokio::task::block_in_place(|| collector.stop());
    Ok(ExitCode::SUCCESS)
}

/// `flow collect --bus`: the collector forwards the decoded records to a
/// [`bus::Partitioner`], the batches go to JetStream.
async fn run_collect_bus(
    args: &CollectArgs,
    url: &str,
    config: collect::CollectorConfig,
    status: Option<std::sync::Arc<anbao_flow::FlowStatus>>,
    mut printed: StatsPrinter,
) -> Result<ExitCode> {
    let (tx, rx) = tokio::sync::mpsc::channel::<(u32, Vec<u8>)>(256);
    let partitions = args.partitions;
    let mut partitioner = bus::Partitioner::new(&config.model, partitions, args.batch, tx);
    let unprotected = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let unprotected_seen = std::sync::Arc::clone(&unprotected);
    let feed = status.clone();
    let collector = collect::start(config, move |out| match out {
        collect::Output::Records(records) => {
            partitioner.round(&records);
            unprotected_seen.store(partitioner.unprotected, std::sync::atomic::Ordering::Relaxed);
        }
        collect::Output::Stats(s) => {
            if let Some(f) = &feed {
                // The workers detect: no group rates here.
                feed_stats(f, &s, false);
            }
            let _ = printed.print(&s);
        }
        collect::Output::Events(_) | collect::Output::Traffic(_) => {}
    })?;
    for (addr, buf) in collector.local.iter().zip(&collector.rcvbuf) {
        eprintln!("anbao: listening for flow exports on udp {addr} (receive buffer {buf} bytes)");
    }
    if let Some(s) = &status {
        s.started(collector.local.iter().map(ToString::to_string).collect());
    }
    let name = collector_name(args);
    let stop = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let published = bus::publish(url, &args.stream, &name, partitions, rx, stop).await;
    tokio::task::block_in_place(|| collector.stop());
    let sent = published?;
    let per: Vec<String> = sent.iter().enumerate().map(|(p, (m, r))| format!("p{p}={m}/{r}")).collect();
    eprintln!(
        "anbao: published messages/records per partition: {}; {} flows to unprotected destinations not published",
        per.join(" "),
        unprotected.load(std::sync::atomic::Ordering::Relaxed)
    );
    Ok(ExitCode::SUCCESS)
}

fn collector_name(args: &CollectArgs) -> String {
    args.collector.clone().unwrap_or_else(crate::scan::host_name)
}

/// With a database named, the collector's status, written to the store
/// every few seconds as `collector:NAME`.
async fn collector_status(args: &CollectArgs) -> Result<Option<std::sync::Arc<anbao_flow::FlowStatus>>> {
    if !args.data.named() {
        return Ok(None);
    }
    let store = crate::open_store(&args.data.config()?).await?;
    let status = std::sync::Arc::new(anbao_flow::FlowStatus::new());
    let name = collector_name(args);
    nodes::identify(&status, format!("collector:{name}"), "collector", name, None);
    nodes::spawn_reporter(store, std::sync::Arc::clone(&status));
    Ok(Some(status))
}

/// A collector's periodic snapshot into its status; with `detects`, its
/// detector's counters, group rates and profiles too.
fn feed_stats(status: &anbao_flow::FlowStatus, s: &collect::Snapshot, detects: bool) {
    let counters = anbao_flow::status::CollectorCounters {
        datagrams: s.datagrams,
        not_flow: s.not_flow,
        decode_errors: s.decode_errors,
        receive_errors: s.receive_errors,
    };
    if detects {
        if let Some(profiles) = &s.profiles {
            status.set_profiles(profiles.clone());
        }
        status.report(s.at.secs(), counters, s.exporters.clone(), s.detector.clone(), &s.groups);
    } else {
        status.report(s.at.secs(), counters, s.exporters.clone(), Default::default(), &[]);
    }
}

/// `--stats N`: the snapshots on stderr every N seconds (the collector may
/// take them more often for its status).
struct StatsPrinter {
    every: Option<std::time::Duration>,
    last: Option<std::time::Instant>,
}

impl StatsPrinter {
    fn new(secs: Option<u64>) -> StatsPrinter {
        StatsPrinter { every: secs.map(|s| std::time::Duration::from_secs(s.max(1))), last: None }
    }

    fn print(&mut self, s: &collect::Snapshot) -> std::io::Result<()> {
        let Some(every) = self.every else { return Ok(()) };
        if self.last.is_some_and(|t| t.elapsed() + std::time::Duration::from_millis(50) < every) {
            return Ok(());
        }
        self.last = Some(std::time::Instant::now());
        let line = serde_json::to_string(s).map_err(std::io::Error::other)?;
        let mut err = std::io::stderr().lock();
        writeln!(err, "{line}")
    }
}

/// Attack events on stdout: a line of text each, or a JSON object each.
fn print_events(events: &[anbao_flow::AttackEvent], json: bool) -> std::io::Result<()> {
    let stdout = std::io::stdout();
    let mut w = stdout.lock();
    events
        .iter()
        .try_for_each(|e| {
            if json {
                serde_json::to_writer(&mut w, e).map_err(std::io::Error::other)?;
                w.write_all(b"\n")
            } else {
                writeln!(w, "{}", event_line(e))
            }
        })
        .and_then(|()| w.flush())
}

/// Decoded flow records on stdout (`flow collect --records`), one JSON
/// object each, as `flow decode --json` prints them.
fn print_records(records: &[(FlowRecord, anbao_flow::Timestamp)]) -> std::io::Result<()> {
    if records.is_empty() {
        return Ok(());
    }
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::new(stdout.lock());
    for (r, _) in records {
        serde_json::to_writer(&mut w, r).map_err(std::io::Error::other)?;
        w.write_all(b"\n")?;
    }
    w.flush()
}

/// One attack event as a line of text.
fn event_line(e: &anbao_flow::AttackEvent) -> String {
    let kind = match e.event {
        anbao_flow::EventKind::Start => "START",
        anbao_flow::EventKind::Update => "UPDATE",
        anbao_flow::EventKind::End => "END",
    };
    let class = match e.service {
        Some(s) => format!("{} ({s})", e.class.as_str()),
        None => e.class.as_str().to_string(),
    };
    let top: Vec<String> = e.top_sources.iter().take(3).map(|t| format!("{} {}p", t.addr, t.packets)).collect();
    format!(
        "{} {kind:<6} attack {} on {} {} (group {}): {class}, {} pps {} bps now, peak {} pps {} bps; {}; top sources: {}",
        e.at,
        e.id,
        match e.scope {
            anbao_flow::Scope::Host => "host",
            anbao_flow::Scope::Group => "group",
        },
        e.victim,
        e.group,
        e.rate.pps,
        e.rate.bps,
        e.peak.pps,
        e.peak.bps,
        e.reason,
        top.join(", ")
    )
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
