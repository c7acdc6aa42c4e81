//! What a running flow collector says about itself, for the server's
//! `/flows` page, `/api/v1/flows` and `/metrics`: per exporter its
//! [`Health`], per group the current rates and the last minute of pps,
//! and the attacks in progress. The collector writes it (a snapshot about
//! once a second, attack events as they come); readers take a
//! [`FlowSnapshot`]. Only a mutex over plain data: no I/O.

use std::collections::{BTreeMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;

use serde::Serialize;

use crate::decoder::Health;
use crate::detect::{AttackEvent, DetectorStats, EventKind, GroupRates};

/// Seconds of per-group history kept for the chart.
pub const HISTORY_SECS: usize = 60;

/// Collector-wide counters at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CollectorCounters {
    /// Datagrams received on every listener.
    pub datagrams: u64,
    /// Datagrams that were not flow exports.
    pub not_flow: u64,
    /// Datagrams that could not be decoded.
    pub decode_errors: u64,
    /// Socket receive errors.
    pub receive_errors: u64,
}

/// One exporter's row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExporterRow {
    pub exporter: IpAddr,
    #[serde(flatten)]
    pub health: Health,
}

/// One group's current rates and recent history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupRow {
    pub name: String,
    /// Packets per second in the last full second.
    pub pps: u64,
    /// Bits per second in the last full second.
    pub bps: u64,
    /// Flow records per second in the last full second.
    pub flows: u64,
    pub baseline_pps: f64,
    pub baseline_bps: f64,
    pub baseline_ready: bool,
    /// `(unix second, pps)`, oldest first, at most [`HISTORY_SECS`].
    pub history: Vec<(i64, u64)>,
}

/// An attack in progress, as its latest event describes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActiveAttack {
    pub id: u64,
    pub key: String,
    pub victim: String,
    pub group: String,
    /// `amplification`, `syn_flood`, …
    pub class: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<&'static str>,
    pub reason: String,
    /// Unix seconds.
    pub started: i64,
    /// Unix seconds of the latest event.
    pub updated: i64,
    pub pps: u64,
    pub bps: u64,
    pub peak_pps: u64,
    pub peak_bps: u64,
}

/// A copy of the status at one moment.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FlowSnapshot {
    /// Whether a collector runs in this process.
    pub enabled: bool,
    /// The listening addresses.
    pub listen: Vec<String>,
    /// Unix seconds of the collector's last report (`None`: none yet).
    pub updated: Option<i64>,
    pub counters: CollectorCounters,
    pub detector: DetectorStats,
    pub exporters: Vec<ExporterRow>,
    pub groups: Vec<GroupRow>,
    /// Oldest first.
    pub attacks: Vec<ActiveAttack>,
}

#[derive(Debug, Default)]
struct Inner {
    snap: FlowSnapshot,
    history: BTreeMap<String, VecDeque<(i64, u64)>>,
    attacks: BTreeMap<u64, ActiveAttack>,
}

/// The shared status; one per process.
#[derive(Debug, Default)]
pub struct FlowStatus {
    inner: Mutex<Inner>,
}

impl FlowStatus {
    pub fn new() -> Self {
        FlowStatus::default()
    }

    /// Marks the collector as running on `listen`.
    pub fn started(&self, listen: Vec<String>) {
        if let Ok(mut i) = self.inner.lock() {
            i.snap.enabled = true;
            i.snap.listen = listen;
        }
    }

    /// Takes the collector's periodic report made at unix second `at`.
    pub fn report(
        &self,
        at: i64,
        counters: CollectorCounters,
        exporters: BTreeMap<IpAddr, Health>,
        detector: DetectorStats,
        groups: &[GroupRates],
    ) {
        let Ok(mut i) = self.inner.lock() else { return };
        i.snap.updated = Some(at);
        i.snap.counters = counters;
        i.snap.detector = detector;
        i.snap.exporters = exporters.into_iter().map(|(exporter, health)| ExporterRow { exporter, health }).collect();
        // The rates are those of the last full second.
        let second = at - 1;
        let mut rows = Vec::with_capacity(groups.len());
        for g in groups {
            let crate::Rates { pps, bps, flows } = g.last.rates();
            let h = i.history.entry(g.name.clone()).or_default();
            match h.back_mut() {
                Some(last) if last.0 == second => last.1 = pps,
                _ => h.push_back((second, pps)),
            }
            while h.len() > HISTORY_SECS || h.front().is_some_and(|(s, _)| *s <= second - HISTORY_SECS as i64) {
                h.pop_front();
            }
            rows.push(GroupRow {
                name: g.name.clone(),
                pps,
                bps,
                flows,
                baseline_pps: g.baseline_pps,
                baseline_bps: g.baseline_bps,
                baseline_ready: g.baseline_ready,
                history: h.iter().copied().collect(),
            });
        }
        i.history.retain(|name, _| groups.iter().any(|g| &g.name == name));
        i.snap.groups = rows;
    }

    /// Takes attack events: a start or update makes the attack active, an
    /// end removes it.
    pub fn events(&self, events: &[AttackEvent]) {
        let Ok(mut i) = self.inner.lock() else { return };
        for e in events {
            if e.event == EventKind::End {
                i.attacks.remove(&e.id);
                continue;
            }
            i.attacks.insert(
                e.id,
                ActiveAttack {
                    id: e.id,
                    key: e.key.clone(),
                    victim: e.victim.clone(),
                    group: e.group.clone(),
                    class: e.class.as_str(),
                    service: e.service,
                    reason: e.reason.clone(),
                    started: e.started.secs(),
                    updated: e.at.secs(),
                    pps: e.rate.pps,
                    bps: e.rate.bps,
                    peak_pps: e.peak.pps,
                    peak_bps: e.peak.bps,
                },
            );
        }
    }

    pub fn snapshot(&self) -> FlowSnapshot {
        let Ok(i) = self.inner.lock() else { return FlowSnapshot::default() };
        let mut snap = i.snap.clone();
        snap.attacks = i.attacks.values().cloned().collect();
        snap
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Counters;

    fn group(name: &str, packets: u64) -> GroupRates {
        GroupRates {
            name: name.into(),
            last: Counters { packets, bytes: packets * 100, flows: 1, ..Counters::default() },
            baseline_pps: 0.0,
            baseline_bps: 0.0,
            baseline_ready: false,
        }
    }

    #[test]
    fn reports_keep_a_minute_of_pps_per_group_and_the_exporters() {
        let status = FlowStatus::new();
        assert!(!status.snapshot().enabled);
        status.started(vec!["127.0.0.1:2055".into()]);
        let exporter: IpAddr = "192.0.2.1".parse().unwrap();
        for s in 0..100i64 {
            let mut exporters = BTreeMap::new();
            exporters.insert(exporter, Health { packets: s as u64, ..Health::default() });
            let counters = CollectorCounters { datagrams: s as u64, ..Default::default() };
            status.report(1_000 + s, counters, exporters, DetectorStats::default(), &[group("dc1", s as u64)]);
            // A second report within the same second replaces the point.
            status.report(1_000 + s, counters, BTreeMap::new(), DetectorStats::default(), &[group("dc1", s as u64)]);
        }
        let snap = status.snapshot();
        assert!(snap.enabled);
        assert_eq!(snap.updated, Some(1_099));
        let g = &snap.groups[0];
        assert_eq!((g.pps, g.bps, g.flows), (99, 99 * 800, 1));
        assert_eq!(g.history.len(), HISTORY_SECS);
        assert_eq!(g.history.first(), Some(&(1_039, 40)));
        assert_eq!(g.history.last(), Some(&(1_098, 99)));
        assert!(snap.exporters.is_empty(), "the latest report replaces the exporters");
        status.report(1_200, CollectorCounters::default(), BTreeMap::new(), DetectorStats::default(), &[]);
        assert!(status.snapshot().groups.is_empty());
    }
}
