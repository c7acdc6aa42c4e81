//! What a running flow collector says about itself, for the server's
//! `/flows` page, `/api/v1/flows` and `/metrics`: per exporter its
//! [`Health`], per group the current rates and the last minute of pps,
//! and the attacks in progress. The collector writes it (a snapshot about
//! once a second, attack events as they come); readers take a
//! [`FlowSnapshot`]. Only a mutex over plain data: no I/O.
//!
//! Bus mode (R8.4): collectors and workers run as separate processes,
//! each with its own status. Each writes its snapshot (serde both ways,
//! named by its [`NodeInfo`]) to the store every [`NODE_REPORT_SECS`];
//! `anbao serve` merges them with its own ([`merge`]): the nodes heard of
//! in the last [`NODE_FRESH_SECS`] are summed (counters) and listed (rows
//! tagged with the node's name), older ones only listed as stale.
//!
//! Each group's row also carries its hour-of-week [`ProfileRow`] (168
//! compact slots and the settings it judges by), so that the web node can
//! show the profile of a group detected anywhere. The detector's profiles
//! change when an hour ends: the collector takes them again once a minute
//! ([`ProfileRefresh`]), not every second.

use std::collections::{BTreeMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::decoder::Health;
use crate::detect::{AttackEvent, Detector, DetectorStats, EventKind, GroupRates};

/// Seconds of per-group history kept for the chart.
pub const HISTORY_SECS: usize = 60;

/// How often a flow node writes its snapshot to the store.
pub const NODE_REPORT_SECS: u64 = 5;

/// A node not heard of for longer is stale: listed, not summed.
pub const NODE_FRESH_SECS: i64 = 30;

/// Seconds of the detector's clock between two readings of its profiles
/// for the status.
pub const PROFILE_REFRESH_SECS: i64 = 60;

/// Collector-wide counters at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
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

impl CollectorCounters {
    fn add(&mut self, o: &CollectorCounters) {
        self.datagrams += o.datagrams;
        self.not_flow += o.not_flow;
        self.decode_errors += o.decode_errors;
        self.receive_errors += o.receive_errors;
    }
}

/// One exporter's row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExporterRow {
    pub exporter: IpAddr,
    #[serde(flatten)]
    pub health: Health,
    /// The node that receives it (merged views only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
}

/// One group's current rates and recent history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    /// The node that judges it (merged views only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// Its hour-of-week profile (none from nodes that do not send it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<ProfileRow>,
}

/// A group's hour-of-week profile as a node reports it: the slots the
/// detector learnt (`Detector::group_profile`) and the group's settings
/// that say how they judge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileRow {
    /// Whether the profile judges the group (`profile_factor` or
    /// `profile_deviations` set); it learns either way.
    pub enabled: bool,
    pub utc_offset_hours: f64,
    /// Samples (weeks) a slot needs to judge (`profile_min_weeks`).
    pub min_weeks: u32,
    /// The slot of the node's detector clock (none before it has one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<usize>,
    /// `profile_factor`: over factor × the usual pps is abnormal (0: off).
    pub factor: f64,
    /// `profile_deviations`: over usual + deviations × spread (0: off).
    pub deviations: f64,
    /// `baseline_floor_pps`: never abnormal under it.
    pub floor_pps: u64,
    /// `profile_floor_bps`: bps judged likewise over it (0: pps only).
    pub floor_bps: u64,
    /// `baseline_factor`: the EWMA rule, for the hours not ready (0: off).
    pub baseline_factor: f64,
    /// The 168 slots, Monday 00:00 first.
    pub slots: Vec<ProfileSlotRow>,
}

impl ProfileRow {
    /// The group's profile in `detector`, `None` for an unknown group.
    pub fn of(detector: &Detector, group: &str) -> Option<ProfileRow> {
        let p = detector.group_profile(group)?;
        let cfg = detector.config().groups.iter().find(|g| g.name == group)?;
        // Hundredths of a packet or bit per second are plenty, and keep
        // the JSON of 168 slots small.
        let round = |v: f64| (v * 100.0).round() / 100.0;
        Some(ProfileRow {
            enabled: p.enabled,
            utc_offset_hours: p.utc_offset_hours,
            min_weeks: p.min_weeks,
            current: p.current,
            factor: cfg.profile_factor,
            deviations: cfg.profile_deviations,
            floor_pps: cfg.baseline_floor_pps,
            floor_bps: cfg.profile_floor_bps,
            baseline_factor: cfg.baseline_factor,
            slots: p
                .slots
                .iter()
                .map(|s| ProfileSlotRow {
                    pps: round(s.pps.mean),
                    pps_spread: round(s.pps.spread),
                    bps: round(s.bps.mean),
                    bps_spread: round(s.bps.spread),
                    samples: s.samples,
                })
                .collect(),
        })
    }

    /// Samples over all slots: how much it has learnt.
    pub fn samples(&self) -> u64 {
        self.slots.iter().map(|s| u64::from(s.samples)).sum()
    }

    /// Whether `slot` has the samples to judge.
    pub fn ready(&self, slot: &ProfileSlotRow) -> bool {
        slot.samples >= self.min_weeks
    }
}

/// One hour of the week: the usual rates and their spread. Written as a
/// JSON array `[pps, pps_spread, bps, bps_spread, samples]`: 168 of them
/// go into every report of every group.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(from = "SlotWire", into = "SlotWire")]
pub struct ProfileSlotRow {
    pub pps: f64,
    pub pps_spread: f64,
    pub bps: f64,
    pub bps_spread: f64,
    /// Hours learnt.
    pub samples: u32,
}

type SlotWire = (f64, f64, f64, f64, u32);

impl From<SlotWire> for ProfileSlotRow {
    fn from((pps, pps_spread, bps, bps_spread, samples): SlotWire) -> Self {
        ProfileSlotRow { pps, pps_spread, bps, bps_spread, samples }
    }
}

impl From<ProfileSlotRow> for SlotWire {
    fn from(s: ProfileSlotRow) -> Self {
        (s.pps, s.pps_spread, s.bps, s.bps_spread, s.samples)
    }
}

/// Every group's profile in `detector`, by group name.
pub fn profiles_of(detector: &Detector) -> BTreeMap<String, ProfileRow> {
    detector.config().groups.iter().filter_map(|g| Some((g.name.clone(), ProfileRow::of(detector, &g.name)?))).collect()
}

/// When a collector takes its detector's profiles again: a slot changes
/// when an hour ends and the current slot moves at the hour, so copying
/// 168 slots per group every second would be waste.
#[derive(Debug, Default)]
pub struct ProfileRefresh {
    /// The detector's clock when last taken (outer `None`: never).
    taken: Option<Option<i64>>,
}

impl ProfileRefresh {
    /// The profiles of `detector` when due: at the first call, when the
    /// detector's clock first moves, then every [`PROFILE_REFRESH_SECS`] of
    /// it (an hour's slot is learnt in the first second of the next hour:
    /// it shows within a minute).
    pub fn take(&mut self, detector: &Detector) -> Option<BTreeMap<String, ProfileRow>> {
        let clock = detector.clock_second();
        let due = match self.taken {
            None => true,
            Some(None) => clock.is_some(),
            Some(Some(last)) => clock.is_some_and(|c| c < last || c - last >= PROFILE_REFRESH_SECS),
        };
        if !due {
            return None;
        }
        self.taken = Some(clock);
        Some(profiles_of(detector))
    }
}

/// An attack in progress, as its latest event describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActiveAttack {
    pub id: u64,
    pub key: String,
    pub victim: String,
    pub group: String,
    /// `amplification`, `syn_flood`, …
    pub class: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    pub reason: String,
    /// Unix seconds.
    pub started: i64,
    /// Unix seconds of the latest event.
    pub updated: i64,
    pub pps: u64,
    pub bps: u64,
    pub peak_pps: u64,
    pub peak_bps: u64,
    /// The node that saw it (merged views only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
}

/// Who a snapshot is from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeInfo {
    /// Stable across restarts (`collector:NAME`, `serve:NAME`,
    /// `worker:STREAM:CONSUMER-pK`).
    pub id: String,
    /// `collector` or `worker`.
    pub role: String,
    /// The host or collector name, the `node` label in metrics.
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<u32>,
}

/// One node of a merged view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeRow {
    #[serde(flatten)]
    pub info: NodeInfo,
    /// Unix seconds of its last snapshot.
    pub seen: i64,
    /// Not heard of for more than [`NODE_FRESH_SECS`]: not summed.
    pub stale: bool,
    pub listen: Vec<String>,
    pub counters: CollectorCounters,
    /// Flow records it counted (workers and embedded collectors).
    pub records: u64,
    pub exporters: usize,
    pub groups: usize,
    pub attacks: usize,
}

/// A copy of the status at one moment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FlowSnapshot {
    /// Whether a collector runs in this process (merged: on some fresh node).
    pub enabled: bool,
    /// This node, when it has said who it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<NodeInfo>,
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
    /// Merged views: every node, this one first, then by role and id.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<NodeRow>,
}

#[derive(Debug, Default)]
struct Inner {
    snap: FlowSnapshot,
    history: BTreeMap<String, VecDeque<(i64, u64)>>,
    attacks: BTreeMap<u64, ActiveAttack>,
    /// Attached to the group rows when a snapshot is taken.
    profiles: BTreeMap<String, ProfileRow>,
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

    /// Names this node (for its snapshots in the store and merged views).
    pub fn set_node(&self, node: NodeInfo) {
        if let Ok(mut i) = self.inner.lock() {
            i.snap.node = Some(node);
        }
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
        i.snap.exporters =
            exporters.into_iter().map(|(exporter, health)| ExporterRow { exporter, health, node: None }).collect();
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
                node: None,
                profile: None,
            });
        }
        i.history.retain(|name, _| groups.iter().any(|g| &g.name == name));
        i.snap.groups = rows;
    }

    /// Takes the groups' profiles ([`ProfileRefresh`]); each group row of
    /// the snapshots carries its own until the next call.
    pub fn set_profiles(&self, profiles: BTreeMap<String, ProfileRow>) {
        if let Ok(mut i) = self.inner.lock() {
            i.profiles = profiles;
        }
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
                    class: e.class.as_str().to_owned(),
                    service: e.service.map(str::to_owned),
                    reason: e.reason.clone(),
                    started: e.started.secs(),
                    updated: e.at.secs(),
                    pps: e.rate.pps,
                    bps: e.rate.bps,
                    peak_pps: e.peak.pps,
                    peak_bps: e.peak.bps,
                    node: None,
                },
            );
        }
    }

    /// Unix second of the last report, without copying the snapshot.
    pub fn updated(&self) -> Option<i64> {
        self.inner.lock().ok().and_then(|i| i.snap.updated)
    }

    pub fn snapshot(&self) -> FlowSnapshot {
        let Ok(i) = self.inner.lock() else { return FlowSnapshot::default() };
        let mut snap = i.snap.clone();
        snap.attacks = i.attacks.values().cloned().collect();
        for g in &mut snap.groups {
            g.profile = i.profiles.get(&g.name).cloned();
        }
        snap
    }
}

impl FlowSnapshot {
    /// Group `name`'s row, the one with the profile learnt from most
    /// samples. A merged view may list a group from several nodes (two
    /// collectors each receiving part of its traffic, or its partition
    /// moved to another worker): each learnt a profile from what it saw,
    /// the one that saw most is shown, with its own rates beside it.
    /// Rows without a profile (nodes that do not send one) come last.
    pub fn group(&self, name: &str) -> Option<&GroupRow> {
        self.groups.iter().filter(|g| g.name == name).max_by_key(|g| g.profile.as_ref().map(ProfileRow::samples))
    }
}

/// A node's snapshot as read back from the store, with when it was written
/// (unix seconds).
#[derive(Debug, Clone)]
pub struct RemoteNode {
    pub info: NodeInfo,
    pub seen: i64,
    pub snapshot: FlowSnapshot,
}

fn add_stats(sum: &mut DetectorStats, o: &DetectorStats) {
    sum.records += o.records;
    sum.remote += o.remote;
    sum.untracked += o.untracked;
    sum.evicted_hosts += o.evicted_hosts;
    sum.hosts += o.hosts;
    sum.attacks_started += o.attacks_started;
    sum.attacks_active += o.attacks_active;
}

fn node_row(info: NodeInfo, seen: i64, stale: bool, s: &FlowSnapshot) -> NodeRow {
    NodeRow {
        info,
        seen,
        stale,
        listen: s.listen.clone(),
        counters: s.counters,
        records: s.detector.records,
        exporters: s.exporters.len(),
        groups: s.groups.len(),
        attacks: s.attacks.len(),
    }
}

/// Adds node `name`'s snapshot `s` to the merged view `out`.
fn absorb(out: &mut FlowSnapshot, name: Option<&str>, s: FlowSnapshot) {
    let tag = || name.map(str::to_owned);
    out.enabled |= s.enabled;
    out.listen.extend(s.listen);
    out.updated = out.updated.max(s.updated);
    out.counters.add(&s.counters);
    add_stats(&mut out.detector, &s.detector);
    out.exporters.extend(s.exporters.into_iter().map(|e| ExporterRow { node: tag(), ..e }));
    out.groups.extend(s.groups.into_iter().map(|g| GroupRow { node: tag(), ..g }));
    out.attacks.extend(s.attacks.into_iter().map(|a| ActiveAttack { node: tag(), ..a }));
}

/// The deployment as one snapshot: this process's `local` status and the
/// `remote` nodes' (this node's own row in the store left out). Nodes seen
/// within [`NODE_FRESH_SECS`] of `now` (unix seconds) are summed: counters
/// and detector counters added, exporters, groups and attacks listed with
/// their node's name; older ones are only listed, as stale. Without remote
/// nodes the local snapshot comes back as it was.
pub fn merge(local: FlowSnapshot, remote: Vec<RemoteNode>, now: i64) -> FlowSnapshot {
    let own = local.node.as_ref().map(|n| n.id.clone());
    let remote: Vec<RemoteNode> = remote.into_iter().filter(|r| Some(&r.info.id) != own.as_ref()).collect();
    if remote.is_empty() {
        return local;
    }
    let mut out = FlowSnapshot { node: local.node.clone(), ..FlowSnapshot::default() };
    let mut rows = Vec::new();
    if local.enabled {
        if let Some(info) = &local.node {
            rows.push(node_row(info.clone(), now, false, &local));
        }
        let name = local.node.as_ref().map(|n| n.name.clone());
        absorb(&mut out, name.as_deref(), local);
    }
    let mut others = Vec::new();
    for r in remote {
        let stale = now - r.seen > NODE_FRESH_SECS;
        others.push(node_row(r.info.clone(), r.seen, stale, &r.snapshot));
        if !stale {
            absorb(&mut out, Some(&r.info.name), r.snapshot);
        }
    }
    others.sort_by(|a, b| (&a.info.role, &a.info.id).cmp(&(&b.info.role, &b.info.id)));
    rows.extend(others);
    out.attacks.sort_by_key(|a| (a.started, a.id));
    out.nodes = rows;
    out
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

    /// A detector whose group dc1 is judged by its hour-of-week profile
    /// (ready after 2 weeks) with two slots seeded: Tuesday 14:00 learnt
    /// for 3 weeks, 15:00 for 1.
    fn profiled_detector() -> Detector {
        let model: crate::ModelConfig = toml::from_str(
            r#"
            profile_min_weeks = 2
            profile_utc_offset_hours = 8.0
            [[group]]
            name = "dc1"
            prefixes = ["192.0.2.0/24"]
            baseline_factor = 4.0
            baseline_floor_pps = 500
            profile_factor = 3.0
            profile_deviations = 5.0
            "#,
        )
        .unwrap();
        model.validate().unwrap();
        let mut d = Detector::new(model);
        let slot = |pps: f64, spread: f64, samples: u32| crate::profile::Slot {
            pps: crate::profile::Estimate { mean: pps, spread },
            bps: crate::profile::Estimate { mean: pps * 8000.0, spread: spread * 8000.0 },
            samples,
        };
        d.seed_profile("dc1", 24 + 14, slot(1_200.123_456, 300.0, 3)).unwrap();
        d.seed_profile("dc1", 24 + 15, slot(900.0, 50.0, 1)).unwrap();
        d
    }

    /// 2024-01-02 06:30 UTC: Tuesday 14:30 at +8.
    const TUESDAY_1430: i64 = 1_704_177_000;

    #[test]
    fn snapshots_carry_each_groups_profile_taken_once_a_minute() {
        let mut d = profiled_detector();
        let status = FlowStatus::new();
        let mut refresh = ProfileRefresh::default();
        status.set_profiles(refresh.take(&d).unwrap());
        assert!(refresh.take(&d).is_none(), "taken once while the detector has no clock");
        d.tick(crate::Timestamp::from_secs_nanos(TUESDAY_1430, 0));
        status.set_profiles(refresh.take(&d).unwrap());
        status.report(TUESDAY_1430, CollectorCounters::default(), BTreeMap::new(), d.stats(), &d.group_rates());

        // Through the store and back, as the web node reads a worker's.
        let json = serde_json::to_string(&status.snapshot()).unwrap();
        let snap: FlowSnapshot = serde_json::from_str(&json).unwrap();
        let p = snap.group("dc1").and_then(|g| g.profile.clone()).expect("dc1 carries its profile");
        assert!(p.enabled);
        assert_eq!((p.utc_offset_hours, p.min_weeks, p.current), (8.0, 2, Some(24 + 14)));
        assert_eq!((p.factor, p.deviations, p.floor_pps, p.floor_bps, p.baseline_factor), (3.0, 5.0, 500, 0, 4.0));
        assert_eq!(p.slots.len(), crate::profile::SLOTS);
        let tue14 = p.slots[24 + 14];
        assert_eq!(
            tue14,
            ProfileSlotRow { pps: 1200.12, pps_spread: 300.0, bps: 9_600_987.65, bps_spread: 2_400_000.0, samples: 3 }
        );
        assert!(p.ready(&tue14));
        assert!(!p.ready(&p.slots[24 + 15]), "one week of two");
        assert_eq!(p.slots[0], ProfileSlotRow::default());
        assert_eq!(p.slots.iter().filter(|s| p.ready(s)).count(), 1);
        // Compact: a slot is an array, not an object with names.
        assert!(json.contains("[1200.12,300.0,9600987.65,2400000.0,3]"), "{json}");
        assert!(json.len() < 6_000, "{} bytes for one group", json.len());

        // Not taken again within a minute of the detector's clock; then the
        // current slot has moved on.
        d.tick(crate::Timestamp::from_secs_nanos(TUESDAY_1430 + 59, 0));
        assert!(refresh.take(&d).is_none());
        d.tick(crate::Timestamp::from_secs_nanos(TUESDAY_1430 + 1800, 0));
        let later = refresh.take(&d).unwrap();
        assert_eq!(later["dc1"].current, Some(24 + 15));
    }

    /// A group reported by two nodes: its page shows the profile that
    /// learnt most, with that node's rates.
    #[test]
    fn a_group_from_two_nodes_shows_the_profile_with_most_samples() {
        let d = profiled_detector();
        let node_snapshot = |id: &str, packets: u64, seeded: bool| {
            let status = FlowStatus::new();
            status.set_node(node(id, "worker", id));
            status.started(vec![]);
            if seeded {
                status.set_profiles(profiles_of(&d));
            } else {
                status.set_profiles(profiles_of(&Detector::new(d.config().clone())));
            }
            status.report(
                1_000,
                CollectorCounters::default(),
                BTreeMap::new(),
                DetectorStats::default(),
                &[group("dc1", packets)],
            );
            let s = status.snapshot();
            RemoteNode { info: s.node.clone().unwrap(), seen: 1_000, snapshot: s }
        };
        let merged = merge(
            FlowSnapshot::default(),
            vec![node_snapshot("w1", 10, false), node_snapshot("w2", 20, true), node_snapshot("w3", 30, false)],
            1_000,
        );
        assert_eq!(merged.groups.len(), 3);
        let g = merged.group("dc1").unwrap();
        assert_eq!((g.node.as_deref(), g.pps, g.profile.as_ref().map(ProfileRow::samples)), (Some("w2"), 20, Some(4)));
        assert!(merged.group("dc2").is_none());
    }

    fn node(id: &str, role: &str, name: &str) -> NodeInfo {
        NodeInfo { id: id.into(), role: role.into(), name: name.into(), partition: None }
    }

    /// Two workers and a collector written to the store and read back
    /// (JSON both ways), merged with a serve that runs no collector: the
    /// fresh nodes' rows are tagged and their counters summed; the stale
    /// worker is listed, not summed; the serve's own row is left out.
    #[test]
    fn merged_view_sums_fresh_nodes_and_lists_stale_ones() {
        let worker = |name: &str, group_name: &str, records: u64| {
            let status = FlowStatus::new();
            status.set_node(node(&format!("worker:{name}"), "worker", name));
            status.started(vec!["anbao_flows.flows.0".into()]);
            let stats = DetectorStats { records, ..DetectorStats::default() };
            status.report(1_000, CollectorCounters::default(), BTreeMap::new(), stats, &[group(group_name, 50)]);
            let json = serde_json::to_string(&status.snapshot()).unwrap();
            serde_json::from_str::<FlowSnapshot>(&json).unwrap()
        };
        let collector = {
            let status = FlowStatus::new();
            status.set_node(node("collector:edge", "collector", "edge"));
            status.started(vec!["0.0.0.0:2055".into()]);
            let mut exporters = BTreeMap::new();
            exporters.insert("192.0.2.1".parse().unwrap(), Health { packets: 7, ..Health::default() });
            let counters = CollectorCounters { datagrams: 7, ..Default::default() };
            status.report(1_000, counters, exporters, DetectorStats::default(), &[]);
            serde_json::from_str::<FlowSnapshot>(&serde_json::to_string(&status.snapshot()).unwrap()).unwrap()
        };
        let remote = |s: FlowSnapshot, seen: i64| RemoteNode { info: s.node.clone().unwrap(), seen, snapshot: s };
        let local = FlowStatus::new();
        local.set_node(node("serve:web", "collector", "web"));
        let own = remote(
            FlowSnapshot { node: Some(node("serve:web", "collector", "web")), enabled: true, ..Default::default() },
            1_000,
        );
        let merged = merge(
            local.snapshot(),
            vec![
                remote(worker("w1", "dc1", 10), 995),
                remote(worker("w2", "dc2", 20), 990),
                remote(worker("w3", "dc3", 40), 900),
                remote(collector.clone(), 999),
                own,
            ],
            1_000,
        );
        assert!(merged.enabled);
        let groups: Vec<(&str, Option<&str>)> =
            merged.groups.iter().map(|g| (g.name.as_str(), g.node.as_deref())).collect();
        assert_eq!(groups, [("dc1", Some("w1")), ("dc2", Some("w2"))]);
        assert_eq!(merged.exporters.len(), 1);
        assert_eq!(merged.exporters[0].node.as_deref(), Some("edge"));
        assert_eq!(merged.exporters[0].health.packets, 7);
        assert_eq!((merged.counters.datagrams, merged.detector.records), (7, 30));
        let nodes: Vec<(&str, bool)> = merged.nodes.iter().map(|n| (n.info.id.as_str(), n.stale)).collect();
        assert_eq!(nodes, [("collector:edge", false), ("worker:w1", false), ("worker:w2", false), ("worker:w3", true)]);
        // Nothing in the store: the local snapshot as it was.
        assert_eq!(merge(collector.clone(), Vec::new(), 1_000), collector);
    }
}
