//! What a running detection pipeline says about itself: per input, what it
//! is, whether it is reading, waiting or failed, and how much went through;
//! for the whole pipeline, detections, alerts written and what was dropped.
//! The reader threads write it with relaxed atomics (a few per event); the
//! status page, its API and `/metrics` read a [`StatusSnapshot`].

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde::Serialize;

/// What an input is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InputKind {
    /// A log file followed as it grows.
    Log,
    /// A directory capture files are dropped into.
    Spool,
    /// A network interface captured live.
    Interface,
}

impl InputKind {
    pub fn as_str(self) -> &'static str {
        match self {
            InputKind::Log => "log",
            InputKind::Spool => "spool",
            InputKind::Interface => "interface",
        }
    }
}

/// Where an input's reader is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "state", content = "reason")]
pub enum InputState {
    Starting,
    /// Reading or following.
    Running,
    /// A spool directory with nothing new to read.
    Idle,
    /// The reader stopped: the input could not be opened or read.
    Failed(String),
    /// The reader reached the end (an interface with a packet limit).
    Finished,
}

impl InputState {
    pub fn as_str(&self) -> &'static str {
        match self {
            InputState::Starting => "starting",
            InputState::Running => "running",
            InputState::Idle => "idle",
            InputState::Failed(_) => "failed",
            InputState::Finished => "finished",
        }
    }
}

/// One input's live counters.
#[derive(Debug)]
pub struct InputStatus {
    pub name: String,
    pub kind: InputKind,
    state: Mutex<InputState>,
    /// Decoded IP packets (captures and interfaces).
    pub packets: AtomicU64,
    /// Events handed to the matchers.
    pub events: AtomicU64,
    /// Capture files read (spool directories).
    pub files: AtomicU64,
    /// Records that could not be read.
    pub problems: AtomicU64,
    last_problem: Mutex<Option<String>>,
    /// Unix seconds of the last event's own timestamp (0: none yet).
    pub last_event_at: AtomicI64,
}

impl InputStatus {
    fn new(name: &str, kind: InputKind) -> Self {
        InputStatus {
            name: name.to_owned(),
            kind,
            state: Mutex::new(InputState::Starting),
            packets: AtomicU64::new(0),
            events: AtomicU64::new(0),
            files: AtomicU64::new(0),
            problems: AtomicU64::new(0),
            last_problem: Mutex::new(None),
            last_event_at: AtomicI64::new(0),
        }
    }

    pub fn set_state(&self, state: InputState) {
        if let Ok(mut s) = self.state.lock() {
            *s = state;
        }
    }

    /// Counts one event seen at `unix_secs`.
    pub fn event(&self, unix_secs: i64) {
        self.events.fetch_add(1, Ordering::Relaxed);
        self.last_event_at.store(unix_secs, Ordering::Relaxed);
    }

    /// Counts `count` unreadable records, keeping the newest description.
    pub fn problems(&self, count: u64, latest: Option<String>) {
        if count == 0 {
            return;
        }
        self.problems.fetch_add(count, Ordering::Relaxed);
        if let (Some(text), Ok(mut last)) = (latest, self.last_problem.lock()) {
            *last = Some(text);
        }
    }
}

/// The whole pipeline's counters; one per process, shared by every reader.
#[derive(Debug, Default)]
pub struct PipelineStatus {
    inputs: Mutex<Vec<Arc<InputStatus>>>,
    /// Indicator hits and heuristic findings.
    pub detections: AtomicU64,
    /// Detections not kept because the pending set was full.
    pub dropped: AtomicU64,
    /// Alert rows written (new or updated) to the store.
    pub flushed_alerts: AtomicU64,
    /// Flushes that failed (the alerts of such a flush are lost).
    pub flush_failures: AtomicU64,
    /// Unix seconds of the last successful flush (0: none yet).
    pub last_flush_at: AtomicI64,
}

impl PipelineStatus {
    pub fn new() -> Self {
        PipelineStatus::default()
    }

    /// Registers an input and returns its counters.
    pub fn add_input(&self, name: &str, kind: InputKind) -> Arc<InputStatus> {
        let input = Arc::new(InputStatus::new(name, kind));
        if let Ok(mut inputs) = self.inputs.lock() {
            inputs.push(input.clone());
        }
        input
    }

    pub fn snapshot(&self) -> StatusSnapshot {
        let inputs = self.inputs.lock().map(|i| i.clone()).unwrap_or_default();
        let load = |v: &AtomicU64| v.load(Ordering::Relaxed);
        StatusSnapshot {
            inputs: inputs
                .iter()
                .map(|i| InputSnapshot {
                    name: i.name.clone(),
                    kind: i.kind,
                    state: i.state.lock().map(|s| s.clone()).unwrap_or(InputState::Starting),
                    packets: load(&i.packets),
                    events: load(&i.events),
                    files: load(&i.files),
                    problems: load(&i.problems),
                    last_problem: i.last_problem.lock().ok().and_then(|p| p.clone()),
                    last_event_at: non_zero(i.last_event_at.load(Ordering::Relaxed)),
                })
                .collect(),
            detections: load(&self.detections),
            dropped: load(&self.dropped),
            flushed_alerts: load(&self.flushed_alerts),
            flush_failures: load(&self.flush_failures),
            last_flush_at: non_zero(self.last_flush_at.load(Ordering::Relaxed)),
        }
    }
}

fn non_zero(secs: i64) -> Option<i64> {
    (secs != 0).then_some(secs)
}

/// A copy of the counters at one moment.
#[derive(Debug, Clone, Serialize)]
pub struct StatusSnapshot {
    pub inputs: Vec<InputSnapshot>,
    pub detections: u64,
    pub dropped: u64,
    pub flushed_alerts: u64,
    pub flush_failures: u64,
    /// Unix seconds.
    pub last_flush_at: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct InputSnapshot {
    pub name: String,
    pub kind: InputKind,
    #[serde(flatten)]
    pub state: InputState,
    pub packets: u64,
    pub events: u64,
    pub files: u64,
    pub problems: u64,
    pub last_problem: Option<String>,
    /// Unix seconds of the newest event's own timestamp.
    pub last_event_at: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_reports_each_input_and_the_pipeline_counters() {
        let status = PipelineStatus::new();
        let log = status.add_input("/var/log/dns.log", InputKind::Log);
        let nic = status.add_input("iface:eth1", InputKind::Interface);
        log.set_state(InputState::Running);
        log.event(1_764_000_000);
        log.event(1_764_000_005);
        log.problems(2, Some("line 7: bad JSON".into()));
        nic.set_state(InputState::Failed("no such device".into()));
        status.detections.fetch_add(3, Ordering::Relaxed);

        let snap = status.snapshot();
        assert_eq!(snap.inputs.len(), 2);
        let l = &snap.inputs[0];
        assert_eq!((l.kind, l.state.as_str(), l.events, l.problems), (InputKind::Log, "running", 2, 2));
        assert_eq!(l.last_event_at, Some(1_764_000_005));
        assert_eq!(l.last_problem.as_deref(), Some("line 7: bad JSON"));
        assert_eq!(snap.inputs[1].kind, InputKind::Interface);
        let json = serde_json::to_value(&snap).unwrap();
        assert_eq!(json["inputs"][1]["state"], "failed");
        assert_eq!(json["inputs"][1]["reason"], "no such device");
        assert_eq!(json["detections"], 3);
        assert_eq!(json["last_flush_at"], serde_json::Value::Null);
    }
}
