//! Flow scale-out over NATS JetStream (R8.4, issue #6): `anbao flow collect
//! --bus URL --partitions N` decodes the exports and publishes the flows;
//! `anbao flow worker --partition K` aggregates and detects one partition
//! with anbao-flow's [`Detector`] and writes the attacks as `ddos` alerts
//! to the shared store, as `anbao serve` does with `flow_listen`.
//!
//! Subjects and payload (docs/flow-collect.md): a stream (default
//! `ANBAO_FLOWS`) with subjects `<stream, lower case>.flows.<K>`; a message
//! is one [`anbao_flow::wire`] batch, the collector's name in the
//! `Anbao-Collector` header. Partition K = FNV-1a of the destination's host
//! group name (or, when the collector has no groups, its /24 or /64) modulo
//! N: all flows of one protected host, and of its group, reach one worker,
//! so group attacks and carpet bombing are judged on the whole group.
//! Flows to destinations in no group are not published (the detector would
//! only count them).
//!
//! Time: a worker's detector runs on the collector's clock, not its own:
//! each record counts in the second the collector received it, and each
//! batch carries the collector's clock, which the worker ticks to. The
//! collector sends an empty batch (a heartbeat) to a partition that had
//! nothing for a second, so attacks end on time, and a worker that starts
//! late replays its backlog exactly as it would have judged it live.
//!
//! Delivery: one durable consumer per partition; a message is acknowledged
//! after its alerts are committed together with its stream sequence number
//! (`bus_applied`), so a message redelivered after a crash between commit
//! and acknowledgement writes nothing twice; a running worker skips
//! messages it has already counted (sequence at or below the last one).
//! Alerts are keyed by the attack's key (scope, group, victim and start
//! second, on the collector's clock), as in the embedded path.
//!
//! Like the embedded path, a worker records the mitigation rules its
//! groups ask for (the configuration's `flow_mitigation_*` settings; the
//! executor of `anbao serve` carries them out), and writes its status
//! (group rates, attacks in progress) to the store's `flow_nodes` for the
//! web nodes' /flows, /api/v1/flows and /metrics ([`super::nodes`]). So
//! does `flow collect --bus` with a database (exporter health).

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anbao_flow::groups::GroupIndex;
use anbao_flow::status::CollectorCounters;
use anbao_flow::wire::{Batch, BatchWriter, partition_key, partition_of};
use anbao_flow::{Detector, FlowRecord, FlowStatus, ModelConfig, Timestamp};
use anyhow::{Context, Result};
use async_nats::jetstream;
use async_nats::jetstream::consumer::pull;
use clap::Args;
use futures_util::StreamExt;

use super::collect;
use crate::DataArgs;

/// Header naming the collector that published a batch.
const COLLECTOR_HEADER: &str = "Anbao-Collector";

/// Subjects of a stream's flows: `<stream lower case>.flows`.
pub fn subject_prefix(stream: &str) -> String {
    format!("{}.flows", stream.to_ascii_lowercase())
}

async fn connect(url: &str, stream: &str) -> Result<(jetstream::Context, jetstream::stream::Stream)> {
    let client = async_nats::ConnectOptions::new()
        .name("anbao-flow")
        .connect(url)
        .await
        .with_context(|| format!("connecting to NATS at {url}"))?;
    let js = jetstream::new(client);
    let handle = js
        .get_or_create_stream(jetstream::stream::Config {
            name: stream.to_owned(),
            subjects: vec![format!("{}.>", subject_prefix(stream))],
            retention: jetstream::stream::RetentionPolicy::WorkQueue,
            storage: jetstream::stream::StorageType::File,
            ..Default::default()
        })
        .await
        .with_context(|| {
            format!("creating or opening JetStream stream {stream} (is JetStream enabled: nats-server -js?)")
        })?;
    Ok((js, handle))
}

/// Splits the decoded records into per-partition batches (on the
/// collector's decoder thread) and hands finished batches to the publisher.
pub struct Partitioner {
    index: GroupIndex,
    names: Vec<String>,
    writers: Vec<BatchWriter>,
    last_sent: Vec<Instant>,
    batch: u32,
    tx: tokio::sync::mpsc::Sender<(u32, Vec<u8>)>,
    /// Flows to destinations in no group (not published).
    pub unprotected: u64,
    closed: bool,
}

impl Partitioner {
    pub fn new(
        model: &ModelConfig,
        partitions: u32,
        batch: u32,
        tx: tokio::sync::mpsc::Sender<(u32, Vec<u8>)>,
    ) -> Self {
        let n = partitions.max(1) as usize;
        Partitioner {
            index: GroupIndex::new(&model.groups),
            names: model.groups.iter().map(|g| g.name.clone()).collect(),
            writers: vec![BatchWriter::default(); n],
            last_sent: vec![Instant::now(); n],
            batch: batch.max(1),
            tx,
            unprotected: 0,
            closed: false,
        }
    }

    /// One round of the decoder: partitions the records, then sends every
    /// partition that has records, and a heartbeat to those quiet for a second.
    pub fn round(&mut self, records: &[(FlowRecord, Timestamp)]) {
        let partitions = self.writers.len() as u32;
        for (r, at) in records {
            let group = match self.index.lookup(r.dst) {
                Some(g) => self.names.get(g).map(String::as_str),
                None if !self.names.is_empty() => {
                    self.unprotected += 1;
                    continue;
                }
                None => None,
            };
            let p = partition_of(&partition_key(r.dst, group), partitions);
            let Some(w) = self.writers.get_mut(p as usize) else { continue };
            w.push(r, *at);
            if w.len() >= self.batch {
                self.send(p);
            }
        }
        for p in 0..partitions {
            let due = self.writers.get(p as usize).is_some_and(|w| !w.is_empty())
                || self.last_sent.get(p as usize).is_some_and(|t| t.elapsed() >= Duration::from_secs(1));
            if due {
                self.send(p);
            }
        }
    }

    fn send(&mut self, p: u32) {
        let Some(w) = self.writers.get_mut(p as usize) else { return };
        let payload = w.finish(collect::now());
        if let Some(t) = self.last_sent.get_mut(p as usize) {
            *t = Instant::now();
        }
        if !self.closed && self.tx.blocking_send((p, payload)).is_err() {
            // The publisher stopped (it reports why).
            self.closed = true;
        }
    }
}

/// Publishes the batches of `rx` until it closes or `stop` resolves; returns
/// the messages and records published per partition.
pub async fn publish(
    url: &str,
    stream: &str,
    collector: &str,
    partitions: u32,
    mut rx: tokio::sync::mpsc::Receiver<(u32, Vec<u8>)>,
    stop: impl std::future::Future<Output = ()>,
) -> Result<Vec<(u64, u64)>> {
    let (js, _) = connect(url, stream).await?;
    let prefix = subject_prefix(stream);
    eprintln!("anbao: publishing flows to {prefix}.0 … {prefix}.{} (stream {stream})", partitions.max(1) - 1);
    let mut sent = vec![(0u64, 0u64); partitions.max(1) as usize];
    let mut stop = std::pin::pin!(stop);
    loop {
        let (p, payload) = tokio::select! {
            m = rx.recv() => match m {
                Some(m) => m,
                None => break,
            },
            () = &mut stop => break,
        };
        let records = Batch::parse(&payload).map(|b| u64::from(b.count)).unwrap_or(0);
        let mut headers = async_nats::HeaderMap::new();
        headers.insert(COLLECTOR_HEADER, collector);
        js.publish_with_headers(format!("{prefix}.{p}"), headers, payload.into())
            .await
            .context("publishing flows")?
            .await
            .context("waiting for JetStream to store the flows")?;
        if let Some(s) = sent.get_mut(p as usize) {
            s.0 += 1;
            s.1 += records;
        }
    }
    Ok(sent)
}

#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// NATS server with JetStream, e.g. nats://127.0.0.1:4222.
    #[arg(long, value_name = "URL", env = "ANBAO_BUS")]
    bus: String,
    /// JetStream stream of the flows (created when missing; subjects STREAM.flows.K, STREAM in lower case).
    #[arg(long, default_value = "ANBAO_FLOWS")]
    stream: String,
    /// The partition this worker owns (see `anbao flow collect --partitions`); run exactly one worker per
    /// partition, each with the same groups file as the collector.
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u32).range(0..1024))]
    partition: u32,
    /// Durable consumer name (the worker uses CONSUMER-pK).
    #[arg(long, default_value = "anbao-flow-workers")]
    consumer: String,
    /// Host groups and detection settings (TOML; docs/flow-collect.md). Default: the configuration's
    /// flow_groups_file.
    #[arg(long, value_name = "FILE")]
    groups: Option<std::path::PathBuf>,
    /// Seconds a message may stay unacknowledged before it is delivered again.
    #[arg(long, default_value_t = 30)]
    ack_wait: u64,
    /// Messages fetched at a time.
    #[arg(long, default_value_t = 16)]
    fetch: usize,
    /// Print attack events as JSON objects instead of lines of text.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    data: DataArgs,
}

pub async fn run_worker(args: WorkerArgs) -> Result<ExitCode> {
    let config = args.data.config()?;
    let groups = match &args.groups {
        Some(p) => p.clone(),
        None if !config.flow_groups_file.is_empty() => config.flow_groups_file.clone().into(),
        None => anyhow::bail!("no --groups and no flow_groups_file in the configuration: nothing is protected"),
    };
    let model = collect::load_groups(&groups)?;
    let store = crate::open_store(&config).await?;
    let profile_history = super::traffic::profile_history(&store, &model, collect::now().secs()).await;
    let mut detector = Detector::new(model);
    super::traffic::seed_profiles(&mut detector, profile_history);
    let incidents = super::alerts::IncidentRule::from_config(&config)?;
    let mitigation = super::mitigation::MitigationConfig::from_config(&config)?;
    let (_js, stream) = connect(&args.bus, &args.stream).await?;
    let name = format!("{}-p{}", args.consumer, args.partition);
    let filter = format!("{}.{}", subject_prefix(&args.stream), args.partition);
    let mut status = WorkerStatus::new(&args, &name, &filter);
    super::nodes::spawn_reporter(store.clone(), Arc::clone(&status.status));
    let consumer: jetstream::consumer::Consumer<pull::Config> = stream
        .get_or_create_consumer(
            &name,
            pull::Config {
                durable_name: Some(name.clone()),
                filter_subject: filter.clone(),
                ack_policy: jetstream::consumer::AckPolicy::Explicit,
                ack_wait: Duration::from_secs(args.ack_wait.max(1)),
                max_ack_pending: 1024,
                ..Default::default()
            },
        )
        .await
        .with_context(|| format!("creating or opening consumer {name}"))?;
    println!("anbao flow worker consuming {} as {name} ({filter})", args.stream);
    let mut last_seq = 0u64;
    let mut traffic = super::traffic::Worker::start(store.clone(), &config);
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
            let info = message.info().map_err(|e| anyhow::anyhow!("message without JetStream info: {e}"))?;
            let seq = info.stream_sequence;
            if seq > last_seq {
                let collector = message
                    .headers
                    .as_ref()
                    .and_then(|h| h.get(COLLECTOR_HEADER))
                    .map(|v| v.as_str().to_owned())
                    .unwrap_or_default();
                let clock = count(&mut detector, &message.payload, seq);
                traffic.observe(&detector);
                let events = detector.take_events();
                status.report(&detector, &events, clock, traffic.partition());
                super::print_events(&events, args.json).context("writing attack events")?;
                let applied = (args.stream.as_str(), i64::try_from(seq).unwrap_or(i64::MAX));
                super::alerts::write(&store, &events, &collector, Some(applied), &incidents)
                    .await
                    .context("writing attack alerts")?;
                if let Some(m) = &mitigation {
                    super::mitigation::propose(&store, &events, m).await;
                }
                last_seq = seq;
            }
            // Already counted by this worker: a redelivery after a slow acknowledgement.
            message.ack().await.map_err(|e| anyhow::anyhow!("acknowledging message {seq}: {e}"))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The worker's status: id `worker:STREAM:CONSUMER-pK` (one per partition,
/// whichever host runs it), name `HOST-pK`. Every worker knows every group
/// of the groups file but receives only its partition's: it shows the
/// groups it has had traffic for, as its traffic history records them.
struct WorkerStatus {
    status: Arc<FlowStatus>,
    profiles: anbao_flow::status::ProfileRefresh,
}

impl WorkerStatus {
    fn new(args: &WorkerArgs, consumer: &str, subject: &str) -> WorkerStatus {
        let status = Arc::new(FlowStatus::new());
        let id = format!("worker:{}:{consumer}", args.stream);
        let name = format!("{}-p{}", crate::scan::host_name(), args.partition);
        super::nodes::identify(&status, id, "worker", name, Some(args.partition));
        status.started(vec![subject.to_owned()]);
        WorkerStatus { status, profiles: Default::default() }
    }

    /// Takes the attack events, and the group rates of `partition` (the
    /// groups the detector has counted records of, from
    /// [`super::traffic::Worker::partition`]: one rule for the status and
    /// the history) once per second of the collector's clock, their
    /// profiles once a minute.
    fn report(
        &mut self,
        detector: &Detector,
        events: &[anbao_flow::AttackEvent],
        clock: Option<Timestamp>,
        partition: &std::collections::BTreeSet<String>,
    ) {
        self.status.events(events);
        let Some(now) = clock.map(|c| c.secs()) else { return };
        if self.status.updated().is_some_and(|last| now <= last) {
            return;
        }
        let mut groups = detector.group_rates();
        groups.retain(|g| partition.contains(&g.name));
        if let Some(profiles) = self.profiles.take(detector) {
            self.status.set_profiles(profiles);
        }
        self.status.report(now, CollectorCounters::default(), Default::default(), detector.stats(), &groups);
    }
}

/// Counts one batch's records and moves the clock to the collector's
/// (returned).
fn count(detector: &mut Detector, payload: &[u8], seq: u64) -> Option<Timestamp> {
    let batch = match Batch::parse(payload) {
        Ok(b) => b,
        Err(e) => {
            // It would fail the same way on every delivery: report and go on.
            tracing::warn!(seq, error = %e, "a flow batch could not be read");
            return None;
        }
    };
    let mut bad = 0u64;
    let records: Vec<(FlowRecord, Timestamp)> = batch
        .records()
        .filter_map(|record| match record {
            Ok(r) => Some(r),
            Err(_) => {
                bad += 1;
                None
            }
        })
        .collect();
    detector.record_batch(&records);
    if bad > 0 {
        tracing::warn!(seq, bad, "flow records in a batch could not be read");
    }
    detector.tick(batch.clock);
    Some(batch.clock)
}
