//! Scale-out over NATS JetStream (R8.4): `anbao sensor` decodes captures and
//! logs at the edge and publishes the events; `anbao worker` processes them
//! from a durable pull consumer that any number of workers share, and
//! writes alerts to the shared database.
//!
//! Delivery: the stream keeps a message until a worker acknowledges it
//! (work-queue retention); a worker acknowledges only after the message's
//! alerts are committed, and commits them together with the message's
//! stream sequence number (`bus_applied`), so a message redelivered because
//! its worker died between commit and acknowledgement changes nothing.
//! Every event is processed, and none is counted twice.
//!
//! Partitions: with `anbao sensor --partitions N` events are published to
//! `STREAM.events.pK.SENSOR`, K the partition of the event's client (a
//! stable hash), and `anbao worker --partition K` takes only those, from
//! its own durable consumer: all of a client's traffic reaches one worker,
//! so the heuristics that count per client (tunnelling volume, DGA names)
//! see all of it. A partition waits in the stream while its worker is down.
//!
//! Message format: one event per line in the JSON form of `anbao net extract
//! --json` (documented in docs/net-extract.md), the sensor's name in the
//! `Anbao-Sensor` header. Endpoint pairs of captured packets travel as
//! `flow` events, one per new pair.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anbao_detect::{AlertBook, EndpointPairs, Heuristics, Intel, MatchStats, client_of, partition_of};
use anbao_feeds::LiveIndex;
use anbao_net::{Endpoints, Event, Extractor, Limits, Timestamp};
use anyhow::{Context, Result};
use async_nats::jetstream;
use async_nats::jetstream::consumer::pull;
use clap::Args;
use futures_util::StreamExt;

use crate::detect::{draft_of, draft_of_finding};
use crate::net::{input_status, progress_bar};
use crate::traffic::{InputFormat, ReadOptions, TrafficSink, read_input};
use crate::{DataArgs, open_store};

/// Where the events go.
#[derive(Debug, Clone, Args)]
pub struct BusArgs {
    /// NATS server with JetStream, e.g. nats://127.0.0.1:4222.
    #[arg(long, value_name = "URL", env = "ANBAO_BUS")]
    pub bus: String,
    /// JetStream stream holding the events (created when missing; subjects STREAM.events.>).
    #[arg(long, default_value = "ANBAO_EVENTS")]
    pub stream: String,
}

impl BusArgs {
    fn subject_prefix(&self) -> String {
        format!("{}.events", self.stream.to_ascii_lowercase())
    }

    async fn connect(&self) -> Result<(jetstream::Context, jetstream::stream::Stream)> {
        let client = async_nats::ConnectOptions::new()
            .name("anbao")
            .connect(&self.bus)
            .await
            .with_context(|| format!("connecting to NATS at {}", self.bus))?;
        let js = jetstream::new(client);
        let stream = js
            .get_or_create_stream(jetstream::stream::Config {
                name: self.stream.clone(),
                subjects: vec![format!("{}.>", self.subject_prefix())],
                retention: jetstream::stream::RetentionPolicy::WorkQueue,
                storage: jetstream::stream::StorageType::File,
                ..Default::default()
            })
            .await
            .with_context(|| {
                format!("creating or opening JetStream stream {} (is JetStream enabled: nats-server -js?)", self.stream)
            })?;
        Ok((js, stream))
    }
}

#[derive(Debug, Args)]
pub struct SensorArgs {
    /// Capture or log files, `-` for stdin, or `iface:NAME` to capture live; gzip is undone transparently.
    #[arg(required = true, value_name = "FILE")]
    inputs: Vec<String>,
    #[command(flatten)]
    bus: BusArgs,
    #[command(flatten)]
    live: crate::live::LiveArgs,
    /// Sensor name carried with the events. Default: the host name.
    #[arg(long)]
    sensor: Option<String>,
    /// Input format (default: recognised by content).
    #[arg(long, value_enum, default_value = "auto")]
    format: InputFormat,
    /// Keep reading log files as they grow (stop with Ctrl-C).
    #[arg(long)]
    follow: bool,
    /// Events per message.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    batch: u32,
    /// Split events by client into this many partitions (subjects STREAM.events.pK.SENSOR), so that
    /// one worker per partition (`anbao worker --partition K`) sees all of a client's traffic and the
    /// per-client heuristics judge all of it. Every sensor of a stream must use the same number.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1024))]
    partitions: u32,
    /// No progress bar and no summary.
    #[arg(long, short)]
    quiet: bool,
}

/// One partition's message being filled.
#[derive(Default)]
struct Pending {
    lines: Vec<u8>,
    events: u32,
}

/// Batches events into message payloads for the publisher, one batch per
/// partition (events go to the partition of their client).
struct Batcher {
    pending: Vec<Pending>,
    batch: u32,
    tx: tokio::sync::mpsc::Sender<(u32, Vec<u8>)>,
    pairs: EndpointPairs,
    events: u64,
    closed: bool,
}

impl Batcher {
    fn new(partitions: u32, batch: u32, tx: tokio::sync::mpsc::Sender<(u32, Vec<u8>)>) -> Self {
        Batcher {
            pending: (0..partitions.max(1)).map(|_| Pending::default()).collect(),
            batch,
            tx,
            pairs: EndpointPairs::default(),
            events: 0,
            closed: false,
        }
    }

    fn push(&mut self, event: &Event) {
        let partition = partition_of(client_of(event), self.pending.len() as u32);
        let Some(pending) = self.pending.get_mut(partition as usize) else { return };
        if self.closed || serde_json::to_writer(&mut pending.lines, event).is_err() {
            return;
        }
        pending.lines.push(b'\n');
        pending.events += 1;
        self.events += 1;
        if pending.events >= self.batch {
            self.flush(partition);
        }
    }

    fn flush(&mut self, partition: u32) {
        let Some(pending) = self.pending.get_mut(partition as usize) else { return };
        if pending.events == 0 {
            return;
        }
        pending.events = 0;
        let payload = std::mem::take(&mut pending.lines);
        if self.tx.blocking_send((partition, payload)).is_err() {
            // The publisher stopped (it reports why).
            self.closed = true;
        }
    }

    fn flush_all(&mut self) {
        for partition in 0..self.pending.len() as u32 {
            self.flush(partition);
        }
    }
}

impl TrafficSink for Batcher {
    fn event(&mut self, event: &Event) {
        self.push(event);
    }

    fn packet(&mut self, ts: Timestamp, endpoints: &Endpoints) {
        if let Some(dst) = endpoints.dst
            && self.pairs.first_time(endpoints.src, dst)
        {
            self.push(&Event::endpoints_only(ts, *endpoints));
        }
    }
}

pub async fn run_sensor(args: SensorArgs) -> Result<ExitCode> {
    let sensor = args.sensor.clone().unwrap_or_else(crate::scan::host_name);
    let (js, _stream) = args.bus.connect().await?;
    let sensor_token = subject_token(&sensor);
    let subject_of = |partition: u32| format!("{}.p{partition}.{sensor_token}", args.bus.subject_prefix());
    let (tx, mut rx) = tokio::sync::mpsc::channel::<(u32, Vec<u8>)>(64);
    let partitions = args.partitions;
    let reader_args = (
        args.inputs.clone(),
        ReadOptions {
            format: args.format,
            follow: args.follow,
            capture_filter: args.live.capture_filter.clone(),
            max_packets: args.live.count,
        },
        args.batch,
        args.quiet,
    );
    let reader = tokio::task::spawn_blocking(move || {
        let (inputs, options, batch, quiet) = reader_args;
        let progress = progress_bar(quiet || options.follow);
        let mut extractor = Extractor::new(Limits::default());
        let mut batcher = Batcher::new(partitions, batch, tx);
        let mut reports = Vec::new();
        for input in &inputs {
            reports.push(read_input(input, &options, &mut extractor, &progress, &mut batcher));
            if batcher.closed {
                break;
            }
        }
        batcher.flush_all();
        progress.finish_and_clear();
        (reports, batcher.events)
    });
    let mut messages = vec![0u64; partitions.max(1) as usize];
    let mut publish_error = None;
    while let Some((partition, payload)) = rx.recv().await {
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("Anbao-Sensor", sensor.as_str());
        let published = async {
            js.publish_with_headers(subject_of(partition), headers, payload.into())
                .await
                .context("publishing")?
                .await
                .context("waiting for JetStream to store the message")
        }
        .await;
        match published {
            Ok(_) => {
                if let Some(n) = messages.get_mut(partition as usize) {
                    *n += 1;
                }
            }
            Err(e) => {
                publish_error = Some(e);
                break;
            }
        }
    }
    drop(rx);
    let (reports, events) = reader.await.context("sensor reader thread")?;
    for r in &reports {
        r.print_problems();
    }
    if let Some(e) = publish_error {
        return Err(e);
    }
    if !args.quiet {
        let total: u64 = messages.iter().sum();
        let subjects = format!("{}.p*.{sensor_token}", args.bus.subject_prefix());
        if partitions > 1 {
            let per: Vec<String> = messages.iter().enumerate().map(|(p, n)| format!("p{p}={n}")).collect();
            eprintln!("anbao: published {events} events in {total} messages to {subjects} ({})", per.join(" "));
        } else {
            eprintln!("anbao: published {events} events in {total} messages to {subjects}");
        }
    }
    Ok(ExitCode::from(input_status(&reports, 0, 1)))
}

/// A NATS subject token from a sensor name (no dots, spaces or wildcards).
fn subject_token(name: &str) -> String {
    let t: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect();
    if t.is_empty() { "sensor".to_owned() } else { t }
}

#[derive(Debug, Args)]
pub struct WorkerArgs {
    #[command(flatten)]
    bus: BusArgs,
    /// Durable consumer the workers share (with --partition K: CONSUMER-pK).
    #[arg(long, default_value = "anbao-workers")]
    consumer: String,
    /// Take only partition K of the events (see `anbao sensor --partitions`): run one worker per
    /// partition so each client's traffic is judged by one worker's heuristics. Without it the
    /// worker takes every partition, sharing them with the other workers.
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u32).range(0..1024))]
    partition: Option<u32>,
    /// Seconds a message may stay unacknowledged before it goes to another worker.
    #[arg(long, default_value_t = 30)]
    ack_wait: u64,
    /// Messages fetched at a time.
    #[arg(long, default_value_t = 16)]
    fetch: usize,
    /// Heuristics settings (TOML; see docs/heuristics.md). Default: the configuration's heuristics_file.
    #[arg(long, value_name = "FILE")]
    heuristics: Option<String>,
    /// A brand domain to protect from lookalikes (repeatable).
    #[arg(long, value_name = "DOMAIN")]
    brand: Vec<String>,
    /// Only indicator matches, no heuristics.
    #[arg(long, conflicts_with_all = ["heuristics", "brand"])]
    no_heuristics: bool,
    #[command(flatten)]
    data: DataArgs,
}

pub async fn run_worker(args: WorkerArgs) -> Result<ExitCode> {
    let config = args.data.config()?;
    // Each worker sees only its share of the traffic: heuristics that count
    // (tunnelling volume, fast-flux, DGA names per client) judge that share.
    let mut heuristics = if args.no_heuristics {
        None
    } else {
        let path = args.heuristics.clone().unwrap_or_else(|| config.heuristics_file.clone());
        Some(Heuristics::new(crate::detect::heuristics_config(&path, &args.brand)?)?)
    };
    let store = open_store(&config).await?;
    let live = Arc::new(LiveIndex::new());
    live.refresh(&store).await.context("loading the indicators")?;
    live.clone().spawn_refresher(store.clone(), Duration::from_secs(config.intel_refresh_seconds.max(1)));

    let (_js, stream) = args.bus.connect().await?;
    let (name, filter_subject) = match args.partition {
        Some(k) => (format!("{}-p{k}", args.consumer), format!("{}.p{k}.>", args.bus.subject_prefix())),
        None => (args.consumer.clone(), String::new()),
    };
    let consumer: jetstream::consumer::Consumer<pull::Config> = stream
        .get_or_create_consumer(
            &name,
            pull::Config {
                durable_name: Some(name.clone()),
                filter_subject: filter_subject.clone(),
                ack_policy: jetstream::consumer::AckPolicy::Explicit,
                ack_wait: Duration::from_secs(args.ack_wait.max(1)),
                max_ack_pending: 1024,
                ..Default::default()
            },
        )
        .await
        .with_context(|| {
            format!(
                "creating or opening consumer {name} (a work-queue stream takes either one shared consumer or one \
                 per partition, not both: start every worker with --partition, or none)"
            )
        })?;
    tracing::info!(stream = %args.bus.stream, consumer = %name, filter = %filter_subject, "worker started");
    if filter_subject.is_empty() {
        println!("anbao worker consuming {} as {name}", args.bus.stream);
    } else {
        println!("anbao worker consuming {} as {name} ({filter_subject})", args.bus.stream);
    }

    let mut shutdown = std::pin::pin!(crate::serve::shutdown_signal());
    loop {
        let batch = consumer.fetch().max_messages(args.fetch.max(1)).expires(Duration::from_secs(1)).messages();
        let mut batch = tokio::select! {
            b = batch => b.context("fetching from JetStream")?,
            () = &mut shutdown => break,
        };
        while let Some(message) = batch.next().await {
            let message = match message {
                Ok(m) => m,
                Err(e) => {
                    tracing::warn!(error = %e, "receiving a message");
                    continue;
                }
            };
            process(&store, &live, heuristics.as_mut(), &args.bus.stream, &message).await?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Matches one message's events and commits its alerts with its sequence
/// number, then acknowledges it.
async fn process(
    store: &anbao_store::Store,
    live: &LiveIndex,
    mut heuristics: Option<&mut Heuristics>,
    stream: &str,
    message: &jetstream::Message,
) -> Result<()> {
    let info = message.info().map_err(|e| anyhow::anyhow!("message without JetStream info: {e}"))?;
    let seq = i64::try_from(info.stream_sequence).unwrap_or(i64::MAX);
    let sensor =
        message.headers.as_ref().and_then(|h| h.get("Anbao-Sensor")).map(|v| v.as_str().to_owned()).unwrap_or_default();
    let snapshot = live.current();
    let intel = Intel::new(&snapshot.index, &snapshot.allowlist);
    let mut book = AlertBook::new(usize::MAX);
    let (mut stats, mut detections, mut bad) = (MatchStats::default(), Vec::new(), 0u64);
    let (mut findings, mut finding_drafts) = (Vec::new(), Vec::new());
    for line in message.payload.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let event: Event = match serde_json::from_slice(line) {
            Ok(e) => e,
            Err(_) => {
                bad += 1;
                continue;
            }
        };
        intel.match_event(&event, &mut stats, &mut detections);
        for d in detections.drain(..) {
            book.record(d, &event, &sensor);
        }
        if let Some(h) = heuristics.as_deref_mut() {
            h.event(&event, &mut findings);
            finding_drafts.extend(findings.drain(..).map(|f| draft_of_finding(&f, &event, &sensor)));
        }
    }
    if bad > 0 {
        // A malformed message would fail the same way on every worker:
        // report it and go on rather than redeliver it forever.
        tracing::warn!(seq, bad, "events in a bus message could not be read");
    }
    let mut drafts: Vec<_> = book.into_alerts().iter().map(draft_of).collect();
    drafts.append(&mut finding_drafts);
    let applied = store.apply_alerts(&drafts, Some((stream, seq))).await.context("writing alerts")?;
    if applied.duplicate {
        tracing::info!(seq, "bus message already applied (redelivered); acknowledging");
    }
    message.ack().await.map_err(|e| anyhow::anyhow!("acknowledging message {seq}: {e}"))?;
    Ok(())
}
