//! The flow collector: UDP listeners (NetFlow, IPFIX, sFlow), one
//! decoder + detector thread, attack events and health snapshots handed to
//! a sink. Used by `anbao flow collect` (printing) and `anbao serve`
//! (`flow_listen`: alerts in the store).
//!
//! Threads: one receiver per listening socket (non-blocking reads; a 1 ms
//! nap when the socket is empty), each passing datagrams with their
//! receive time in batches of up to 64 over a channel to the single
//! decoder + detector thread, which ticks the detector after every few
//! batches and at least every 100 ms (and, with `history`, takes each
//! finished second into the traffic history).
//! The receive buffer (SO_RCVBUF) is configurable: bursts of export
//! datagrams are absorbed by the kernel while the decoder catches up.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anbao_flow::detect::GroupRates;
use anbao_flow::{
    AttackEvent, Decoder, DecoderConfig, Detector, DetectorStats, FlowError, FlowRecord, Health, ModelConfig, Timestamp,
};
use anyhow::{Context, Result};
use serde::Serialize;

/// Default listeners: NetFlow, IPFIX, sFlow.
pub const DEFAULT_LISTEN: [&str; 3] = ["0.0.0.0:2055", "0.0.0.0:4739", "0.0.0.0:6343"];

/// Default receive buffer: 8 MB (what nfcapd needed for 3 M flows/s).
pub const DEFAULT_RCVBUF: usize = 8 << 20;

/// How the collector runs.
#[derive(Debug, Clone)]
pub struct CollectorConfig {
    pub listen: Vec<SocketAddr>,
    /// SO_RCVBUF asked for (the kernel may cap it at net.core.rmem_max).
    pub rcvbuf: usize,
    pub model: ModelConfig,
    pub decoder: DecoderConfig,
    /// How often the sink gets a [`Snapshot`] (`None`: never).
    pub stats_every: Option<Duration>,
    /// Hand the decoded records to the sink ([`Output::Records`]) instead
    /// of detecting here: `flow collect --bus` publishes them for the
    /// workers.
    pub forward: bool,
    /// Hand the decoded records to the sink ([`Output::Records`]) as well
    /// as detecting: `flow collect --records` prints them.
    pub records: bool,
    /// Record the traffic history ([`Output::Traffic`]): per-minute rows
    /// of every group and its busiest hosts (`None`: not recorded).
    pub history: Option<anbao_flow::HistoryConfig>,
    /// Stored per-minute history the groups' hour-of-week profiles learn
    /// from before the first flow ([`super::traffic::profile_history`]).
    pub profile_history: super::traffic::ProfileHistory,
}

/// Exporter health, detector counters and group rates at one moment.
#[derive(Debug, Clone, Serialize)]
pub struct Snapshot {
    pub at: Timestamp,
    pub datagrams: u64,
    pub not_flow: u64,
    pub decode_errors: u64,
    pub receive_errors: u64,
    pub exporters: BTreeMap<IpAddr, Health>,
    pub detector: DetectorStats,
    pub groups: Vec<GroupRates>,
    /// The groups' hour-of-week profiles when taken again (about once a
    /// minute, [`anbao_flow::status::ProfileRefresh`]); `None`: unchanged.
    #[serde(skip)]
    pub profiles: Option<BTreeMap<String, anbao_flow::status::ProfileRow>>,
}

/// What the decoder thread hands out.
#[derive(Debug)]
pub enum Output {
    Events(Vec<AttackEvent>),
    Stats(Box<Snapshot>),
    /// In forward and records mode, after every round (at least every
    /// 100 ms, possibly empty) and before that round's events and stats:
    /// the records decoded, each with its receive time.
    Records(Vec<(FlowRecord, Timestamp)>),
    /// With `history`: a finished minute's rows, or the group rows of the
    /// minute in progress (see [`super::traffic`]).
    Traffic(Vec<anbao_flow::TrafficRow>),
}

/// A running collector; [`Collector::stop`] (or drop) ends its threads.
#[derive(Debug)]
pub struct Collector {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
    /// The bound addresses (port 0 resolved), in `listen` order.
    pub local: Vec<SocketAddr>,
    /// The receive buffer the kernel granted, per socket.
    pub rcvbuf: Vec<usize>,
}

pub(crate) fn now() -> Timestamp {
    let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    Timestamp::from_secs_nanos(i64::try_from(d.as_secs()).unwrap_or(i64::MAX), d.subsec_nanos())
}

fn bind(addr: SocketAddr, rcvbuf: usize) -> Result<(UdpSocket, usize)> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))
        .with_context(|| format!("creating a UDP socket for {addr}"))?;
    if addr.is_ipv6() {
        // [::]:PORT takes IPv4 too unless the system says otherwise.
        let _ = socket.set_only_v6(false);
    }
    if rcvbuf > 0 {
        socket.set_recv_buffer_size(rcvbuf).with_context(|| format!("setting SO_RCVBUF {rcvbuf} on {addr}"))?;
    }
    socket.bind(&addr.into()).with_context(|| format!("binding UDP {addr}"))?;
    let granted = socket.recv_buffer_size().unwrap_or(0);
    let socket: UdpSocket = socket.into();
    socket.set_nonblocking(true)?;
    Ok((socket, granted))
}

struct Datagram {
    from: IpAddr,
    at: Timestamp,
    payload: Vec<u8>,
}

/// Binds every listener and starts the threads; `sink` runs on the
/// decoder thread (keep it quick: hand off to a channel for slow work).
pub fn start(config: CollectorConfig, mut sink: impl FnMut(Output) + Send + 'static) -> Result<Collector> {
    let mut sockets = Vec::new();
    for addr in &config.listen {
        sockets.push(bind(*addr, config.rcvbuf)?);
    }
    let stop = Arc::new(AtomicBool::new(false));
    let receive_errors = Arc::new(AtomicU64::new(0));
    let (tx, rx) = mpsc::sync_channel::<Vec<Datagram>>(1 << 12);
    let mut collector = Collector {
        stop: Arc::clone(&stop),
        threads: Vec::new(),
        local: Vec::new(),
        rcvbuf: sockets.iter().map(|(_, b)| *b).collect(),
    };
    for (socket, _) in sockets {
        collector.local.push(socket.local_addr()?);
        let (stop, tx, errors) = (Arc::clone(&stop), tx.clone(), Arc::clone(&receive_errors));
        collector.threads.push(
            std::thread::Builder::new()
                .name("flow-recv".into())
                .spawn(move || receive(&socket, &stop, &tx, &errors))?,
        );
    }
    drop(tx);
    let stop2 = Arc::clone(&stop);
    collector.threads.push(std::thread::Builder::new().name("flow-detect".into()).spawn(move || {
        let mut decoder = Decoder::new(config.decoder);
        let mut detector = Detector::new(config.model);
        super::traffic::seed_profiles(&mut detector, config.profile_history);
        let mut history = config.history.map(|h| super::traffic::Recorder::new(h, false));
        let mut forwarded: Vec<(FlowRecord, Timestamp)> = Vec::new();
        // A datagram's records, counted together (Detector::record_batch).
        let mut decoded_records: Vec<(FlowRecord, Timestamp)> = Vec::new();
        let mut profiles = anbao_flow::status::ProfileRefresh::default();
        let mut counts = (0u64, 0u64, 0u64);
        let mut last_stats = Instant::now();
        while !stop2.load(Ordering::Relaxed) {
            let first = match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(d) => Some(d),
                Err(mpsc::RecvTimeoutError::Timeout) => None,
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            };
            // What is waiting, up to 16 batches, then a tick.
            let batches = first.into_iter().chain(std::iter::from_fn(|| rx.try_recv().ok()).take(15));
            for d in batches.flatten() {
                counts.0 += 1;
                let decoded = if config.forward {
                    decoder.decode(d.from, d.at, &d.payload, &mut |r| forwarded.push((r, d.at)))
                } else {
                    let decoded = decoder.decode(d.from, d.at, &d.payload, &mut |r| decoded_records.push((r, d.at)));
                    detector.record_batch(&decoded_records);
                    if config.records {
                        forwarded.append(&mut decoded_records);
                    }
                    decoded_records.clear();
                    decoded
                };
                match decoded {
                    Ok(_) => {}
                    Err(FlowError::NotFlowExport { .. }) => counts.1 += 1,
                    Err(_) => counts.2 += 1,
                }
            }
            if config.forward || config.records {
                sink(Output::Records(std::mem::take(&mut forwarded)));
            }
            detector.tick(now());
            let events = detector.take_events();
            if !events.is_empty() {
                sink(Output::Events(events));
            }
            if let Some(h) = &mut history {
                let rows = h.observe(&detector);
                if !rows.is_empty() {
                    sink(Output::Traffic(rows));
                }
            }
            if let Some(every) = config.stats_every
                && last_stats.elapsed() >= every
            {
                last_stats = Instant::now();
                sink(Output::Stats(Box::new(Snapshot {
                    at: now(),
                    datagrams: counts.0,
                    not_flow: counts.1,
                    decode_errors: counts.2,
                    receive_errors: receive_errors.load(Ordering::Relaxed),
                    exporters: decoder.exporters(),
                    detector: detector.stats(),
                    groups: detector.group_rates(),
                    // Forwarding, the workers detect: no profiles here.
                    profiles: if config.forward { None } else { profiles.take(&detector) },
                })));
            }
        }
    })?);
    Ok(collector)
}

/// Most datagrams handed over at once.
const BATCH: usize = 64;

/// Reads the socket without blocking, handing datagrams over in batches
/// (one channel operation per batch, not per datagram); when the socket
/// is empty, hands over what it has, then naps 1 ms.
fn receive(socket: &UdpSocket, stop: &AtomicBool, tx: &mpsc::SyncSender<Vec<Datagram>>, errors: &AtomicU64) {
    let mut buf = vec![0u8; 65_536];
    let mut batch = Vec::with_capacity(BATCH);
    while !stop.load(Ordering::Relaxed) {
        match socket.recv_from(&mut buf) {
            Ok((n, from)) => {
                let payload = buf.get(..n).unwrap_or_default().to_vec();
                batch.push(Datagram { from: from.ip().to_canonical(), at: now(), payload });
                if batch.len() < BATCH {
                    continue;
                }
            }
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                if batch.is_empty() {
                    std::thread::sleep(Duration::from_millis(1));
                    continue;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => {
                errors.fetch_add(1, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(10));
                continue;
            }
        }
        if tx.send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH))).is_err() {
            return;
        }
    }
}

impl Collector {
    /// Stops the threads and waits for them.
    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        self.halt();
    }
}

/// Reads and checks a host-groups file (TOML, [`ModelConfig`]).
pub fn load_groups(path: &std::path::Path) -> Result<ModelConfig> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let model: ModelConfig = toml::from_str(&text).with_context(|| format!("reading {}", path.display()))?;
    model.validate().with_context(|| format!("checking {}", path.display()))?;
    Ok(model)
}
