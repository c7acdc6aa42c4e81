//! The embedded detection pipeline of `anbao serve` (issue #5, R3.1–R3.3):
//! each configured input is read on its own thread — a log file followed as
//! it grows, or a spool directory whose capture files are read once each as
//! they appear — its events matched against the live intel index, and the
//! alerts folded in memory and written to the store every few seconds.
//!
//! Bounded everywhere: the alert book holds at most [`MAX_PENDING`] keys
//! between flushes (further detections are counted as dropped and logged).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use anbao_detect::heuristics::category_of;
use anbao_detect::status::InputStatus;
use anbao_detect::{
    Alert, AlertBook, Detection, EndpointPairs, Evidence, Finding, Heuristics, HeuristicsConfig, InputKind, InputState,
    Intel, MatchStats, PipelineStatus,
};
use anbao_feeds::{LiveIndex, Snapshot};
use anbao_net::{Endpoints, Event, Extractor, Limits, Timestamp};
use anbao_store::{AlertDraft, Store};

use crate::traffic::{InputFormat, ReadOptions, TrafficSink, read_input};

/// Alert keys held between two flushes.
const MAX_PENDING: usize = 100_000;
/// Events between two looks at whether the intel index was swapped.
const REFRESH_EVERY: u32 = 4096;

/// One alert as the store takes it.
pub fn draft_of(alert: &Alert) -> AlertDraft {
    AlertDraft {
        dedup_key: format!("intel:{}:{}", alert.victim, alert.indicator_id),
        rule: "intel".into(),
        category: String::new(),
        severity: 0,
        victim: alert.victim.to_string(),
        indicator_id: i64::try_from(alert.indicator_id).ok(),
        indicator: alert.indicator.clone(),
        match_how: alert.how.as_str().to_owned(),
        field: alert.field.as_str().to_owned(),
        observed: alert.observed.clone(),
        score: None,
        reason: String::new(),
        count: i64::try_from(alert.count).unwrap_or(i64::MAX),
        first_seen: to_model_ts(alert.first_seen),
        last_seen: to_model_ts(alert.last_seen),
        sensor: alert.evidence.sensor.clone(),
        evidence: serde_json::to_string(&alert.evidence).unwrap_or_default(),
    }
}

/// A heuristic's finding as the store takes it (one per finding: the
/// heuristics already hold repeats back for their dedup window).
pub fn draft_of_finding(finding: &Finding, event: &Event, sensor: &str) -> AlertDraft {
    AlertDraft {
        dedup_key: format!("{}:{}:{}", finding.heuristic, finding.victim, finding.name),
        rule: finding.heuristic.to_owned(),
        category: category_of(finding.heuristic).to_owned(),
        severity: if finding.score >= 90 { 3 } else { 2 },
        victim: finding.victim.to_string(),
        indicator_id: None,
        indicator: finding.name.clone(),
        match_how: String::new(),
        field: String::new(),
        observed: String::new(),
        score: Some(i64::from(finding.score)),
        reason: finding.reason.clone(),
        count: 1,
        first_seen: to_model_ts(finding.ts),
        last_seen: to_model_ts(finding.ts),
        sensor: sensor.to_owned(),
        evidence: serde_json::to_string(&Evidence::of(event, sensor)).unwrap_or_default(),
    }
}

/// The heuristics settings: a TOML file of `HeuristicsConfig` (empty path:
/// defaults), plus protected brands given on the command line.
pub fn heuristics_config(path: &str, brands: &[String]) -> anyhow::Result<HeuristicsConfig> {
    use anyhow::Context;
    let mut config = if path.is_empty() {
        HeuristicsConfig::default()
    } else {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading heuristics settings {path}"))?;
        toml::from_str(&text).with_context(|| format!("heuristics settings {path}"))?
    };
    config.lookalike.brands.extend(brands.iter().cloned());
    Heuristics::new(config.clone()).with_context(|| format!("heuristics settings {path}"))?;
    Ok(config)
}

pub fn to_model_ts(t: Timestamp) -> anbao_model::Timestamp {
    t.to_offset_date_time().unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

/// Matches events against the live index and keeps the alerts for the
/// flusher.
pub struct DetectSink {
    live: Arc<LiveIndex>,
    snapshot: Arc<Snapshot>,
    since_refresh: u32,
    stats: MatchStats,
    detections: Vec<Detection>,
    book: Arc<Mutex<AlertBook>>,
    sensor: String,
    pairs: EndpointPairs,
    status: Arc<PipelineStatus>,
    input: Arc<InputStatus>,
    heuristics: Option<Heuristics>,
    findings: Vec<Finding>,
    /// Heuristic alerts waiting for the flusher.
    pending: Arc<Mutex<Vec<AlertDraft>>>,
}

impl DetectSink {
    pub fn new(
        live: Arc<LiveIndex>,
        book: Arc<Mutex<AlertBook>>,
        pending: Arc<Mutex<Vec<AlertDraft>>>,
        sensor: String,
        status: Arc<PipelineStatus>,
        input: Arc<InputStatus>,
        heuristics: Option<Heuristics>,
    ) -> Self {
        let snapshot = live.current();
        DetectSink {
            live,
            snapshot,
            since_refresh: 0,
            stats: MatchStats::default(),
            detections: Vec::new(),
            book,
            sensor,
            pairs: EndpointPairs::default(),
            status,
            input,
            heuristics,
            findings: Vec::new(),
            pending,
        }
    }

    fn refresh(&mut self) {
        self.since_refresh += 1;
        if self.since_refresh >= REFRESH_EVERY {
            self.since_refresh = 0;
            self.snapshot = self.live.current();
        }
    }

    fn record(&mut self, event: &Event) {
        self.status.detections.fetch_add(self.detections.len() as u64, Ordering::Relaxed);
        let Ok(mut book) = self.book.lock() else { return };
        for d in self.detections.drain(..) {
            if book.record(d, event, &self.sensor) == anbao_detect::alerts::Recorded::Dropped {
                self.status.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

impl TrafficSink for DetectSink {
    fn event(&mut self, event: &Event) {
        self.refresh();
        self.input.event(event.ts.secs());
        let intel = Intel::new(&self.snapshot.index, &self.snapshot.allowlist);
        intel.match_event(event, &mut self.stats, &mut self.detections);
        if !self.detections.is_empty() {
            self.record(event);
        }
        if let Some(h) = &mut self.heuristics {
            h.event(event, &mut self.findings);
            if !self.findings.is_empty() {
                self.status.detections.fetch_add(self.findings.len() as u64, Ordering::Relaxed);
                if let Ok(mut pending) = self.pending.lock() {
                    for f in self.findings.drain(..) {
                        if pending.len() < MAX_PENDING {
                            pending.push(draft_of_finding(&f, event, &self.sensor));
                        } else {
                            self.status.dropped.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                self.findings.clear();
            }
        }
    }

    fn packet(&mut self, ts: Timestamp, endpoints: &Endpoints) {
        self.input.packets.fetch_add(1, Ordering::Relaxed);
        let intel = Intel::new(&self.snapshot.index, &self.snapshot.allowlist);
        intel.match_packet(&mut self.pairs, endpoints, ts.secs(), &mut self.stats, &mut self.detections);
        if !self.detections.is_empty() {
            self.record(&Event::endpoints_only(ts, *endpoints));
        }
    }
}

/// Starts one reader thread per input and the flusher task; their state
/// and counters go to `status` (the server's status page and `/metrics`).
pub fn spawn(
    store: Store,
    live: Arc<LiveIndex>,
    inputs: &[String],
    sensor: String,
    flush: Duration,
    heuristics: Option<HeuristicsConfig>,
    status: Arc<PipelineStatus>,
) {
    if inputs.is_empty() {
        return;
    }
    let book = Arc::new(Mutex::new(AlertBook::new(MAX_PENDING)));
    let pending = Arc::new(Mutex::new(Vec::new()));
    for name in inputs {
        let path = PathBuf::from(name);
        let kind = if crate::live::interface_of(name).is_some() {
            InputKind::Interface
        } else if path.is_dir() {
            InputKind::Spool
        } else {
            InputKind::Log
        };
        let input = status.add_input(name, kind);
        let (name, live, book, pending, sensor, status) =
            (name.clone(), live.clone(), book.clone(), pending.clone(), sensor.clone(), status.clone());
        // Each input has its own heuristics state (validated at start-up).
        let heuristics = heuristics.clone().and_then(|c| Heuristics::new(c).ok());
        let thread_input = input.clone();
        let spawned = std::thread::Builder::new().name(format!("detect {name}")).spawn(move || {
            let input = thread_input;
            let mut sink = DetectSink::new(live, book, pending, sensor, status, input.clone(), heuristics);
            if input.kind == InputKind::Spool {
                spool(&path, &mut sink, &input);
            } else {
                tracing::info!(input = %name, "detection: reading");
                input.set_state(InputState::Running);
                let options = ReadOptions { format: InputFormat::Auto, follow: true, ..ReadOptions::default() };
                let mut extractor = Extractor::new(Limits::default());
                let report = read_input(&name, &options, &mut extractor, &indicatif::ProgressBar::hidden(), &mut sink);
                note_report(&report, &input);
                input.set_state(match &report.error {
                    Some(e) => InputState::Failed(e.clone()),
                    None => InputState::Finished,
                });
            }
        });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cannot start a detection thread");
            input.set_state(InputState::Failed(format!("cannot start a thread: {e}")));
        }
    }
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(flush);
        loop {
            tick.tick().await;
            let alerts = match book.lock() {
                Ok(mut b) => std::mem::replace(&mut *b, AlertBook::new(MAX_PENDING)).into_alerts(),
                Err(_) => return,
            };
            let mut drafts: Vec<AlertDraft> = alerts.iter().map(draft_of).collect();
            if let Ok(mut p) = pending.lock() {
                drafts.append(&mut p);
            }
            if drafts.is_empty() {
                continue;
            }
            match store.apply_alerts(&drafts, None).await {
                Ok(applied) => {
                    status.flushed_alerts.fetch_add(drafts.len() as u64, Ordering::Relaxed);
                    status.last_flush_at.store(time::OffsetDateTime::now_utc().unix_timestamp(), Ordering::Relaxed);
                    tracing::info!(new = applied.new, updated = applied.updated, "detection: alerts written");
                }
                Err(e) => {
                    status.flush_failures.fetch_add(1, Ordering::Relaxed);
                    tracing::error!(error = %e, alerts = drafts.len(), "detection: writing alerts failed");
                }
            }
        }
    });
}

/// Logs what an input's reader reported and adds its problems to the status.
fn note_report(report: &crate::traffic::InputReport, input: &InputStatus) {
    let latest = report.problems.last().map(|p| format!("{}: {}", p.at, p.what));
    input.problems(report.problem_count, latest);
    if let Some(e) = &report.error {
        tracing::warn!(input = %report.input, error = %e, "detection input unreadable");
    } else if report.problem_count > 0 {
        tracing::warn!(input = %report.input, problems = report.problem_count, first = ?report.problems.first(), "detection input partly unreadable");
    } else {
        tracing::info!(input = %report.input, records = report.records, events = report.events, "detection input read");
    }
}

/// A directory that capture files are dropped into (e.g. by `tcpdump -G`):
/// each file is read once, when it has not changed for two seconds.
fn spool(dir: &Path, sink: &mut DetectSink, input: &InputStatus) {
    tracing::info!(dir = %dir.display(), "detection: watching spool directory");
    input.set_state(InputState::Idle);
    let mut done: HashSet<PathBuf> = HashSet::new();
    loop {
        let mut ready: Vec<(SystemTime, PathBuf)> = Vec::new();
        if let Ok(entries) = std::fs::read_dir(dir) {
            for entry in entries.flatten() {
                let path = entry.path();
                if done.contains(&path) || !path.is_file() {
                    continue;
                }
                let Ok(modified) = entry.metadata().and_then(|m| m.modified()) else { continue };
                if modified.elapsed().unwrap_or_default() >= Duration::from_secs(2) {
                    ready.push((modified, path));
                }
            }
        }
        // Forget files that are gone, so the set stays as small as the directory.
        done.retain(|p| p.exists());
        ready.sort();
        if !ready.is_empty() {
            input.set_state(InputState::Running);
        }
        for (_, path) in ready.iter().cloned() {
            let options = ReadOptions { format: InputFormat::Auto, follow: false, ..ReadOptions::default() };
            let mut extractor = Extractor::new(Limits::default());
            let name = path.to_string_lossy().into_owned();
            let report = read_input(&name, &options, &mut extractor, &indicatif::ProgressBar::hidden(), sink);
            note_report(&report, input);
            input.files.fetch_add(1, Ordering::Relaxed);
            done.insert(path);
        }
        if !ready.is_empty() {
            input.set_state(InputState::Idle);
        }
        std::thread::sleep(Duration::from_secs(1));
    }
}
