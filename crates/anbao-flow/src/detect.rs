//! The [`Detector`]: flow records in, [`AttackEvent`]s out. Pure state, no
//! I/O; time is a parameter (the receive time of each record, and `now`
//! for [`Detector::tick`]).
//!
//! Per protected host and per group it keeps the current one-second bucket
//! ([`Counters`]) and top sources in space-saving sketches (a group's top
//! destinations are read off the host table when an attack event is made),
//! and per group an EWMA baseline of the per-second rates. A host's (or
//! group's) sources and sample flows are kept only while it is watched:
//! from the moment its second reaches a quarter of one of its limits (for
//! a group, the lowest of its thresholds and its baseline's limit, worked
//! out once a second), and throughout an attack; the many hosts far from
//! their thresholds cost a counter update per record. Buckets are judged
//! while they fill: counts only grow within a second, so the moment a
//! bucket's running count passes a threshold the second is over it. With
//! `hold_secs = 1` (the default) an attack starts on the record that
//! crosses the threshold, well inside the one second after the first
//! attack flow the issue asks for; with `hold_secs = N` it starts in the
//! N-th consecutive second over.
//!
//! Over means: a static threshold of the host (or group) exceeded (pps,
//! bps, flows/s), or for a group, a baseline deviation. When the group has
//! a profile (`profile_factor` or `profile_deviations`) and the slot of
//! the current hour of the week is ready (`profile_min_weeks` samples):
//! its pps over max(`baseline_floor_pps`, `profile_factor` × the slot's
//! mean, mean + `profile_deviations` × the slot's spread), and with
//! `profile_floor_bps` its bps likewise ([`crate::profile`]). Otherwise:
//! its pps over max(`baseline_floor_pps`, `baseline_factor` × EWMA
//! baseline) once the baseline has seen `baseline_warmup_secs` seconds.
//! The EWMA and the profile learn every finished second (idle seconds
//! count as zero) except while the group or any of its hosts is under
//! attack, so an attack's traffic never raises the baseline.
//!
//! A group over its threshold starts a group attack only when the hosts
//! already under attack in it carry less than half of its packets: one
//! attacked host is not reported twice. When no single destination holds
//! half of a group attack's packets, it is carpet bombing.
//!
//! Lifecycle: `start` (class, first rates, top sources, samples), `update`
//! every `update_secs` (peak rates, totals, protocol mix, top sources),
//! `end` after `quiet_secs` seconds without a second over the threshold.
//!
//! The host table (`slots::SlotTable`) is an address → slot index in front of a
//! dense array of small hosts, and [`Detector::record_batch`] reads the
//! index for a run of records before counting them: with tens of thousands
//! of hosts, waiting on memory for each host was most of the cost.
//!
//! Bounds: hosts tracked ≤ `max_hosts` (the idle are evicted first, then
//! the least recently seen not under attack; records for hosts that cannot
//! be tracked still count in their group); top-N sketches and samples have
//! fixed sizes; groups come from the configuration. A spoofed-source flood
//! adds nothing but counts.

use std::collections::BTreeMap;
use std::net::IpAddr;

use anbao_net::Timestamp;
use serde::Serialize;

use crate::aggregate::{Counters, Rates, SecondCounters, Talker, TopN};
use crate::groups::{Actions, GroupIndex, HostGroup, ModelConfig, Thresholds};
use crate::history::{GroupSecond, HostSecond, TrafficSecond};
use crate::profile::{self, GroupProfile, HourSums, Profile, ProfileError, ProfileSlot, Slot};
use crate::record::FlowRecord;
use crate::slots::SlotTable;

/// What kind of attack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AttackClass {
    SynFlood,
    UdpFlood,
    IcmpFlood,
    /// Reflection/amplification: UDP from a well-known service port.
    Amplification,
    /// Many hosts of a group, each under its threshold, the group over.
    CarpetBombing,
    OtherVolumetric,
}

impl AttackClass {
    pub fn as_str(self) -> &'static str {
        match self {
            AttackClass::SynFlood => "syn_flood",
            AttackClass::UdpFlood => "udp_flood",
            AttackClass::IcmpFlood => "icmp_flood",
            AttackClass::Amplification => "amplification",
            AttackClass::CarpetBombing => "carpet_bombing",
            AttackClass::OtherVolumetric => "other_volumetric",
        }
    }
}

/// The traffic's vector from its mix: the class (never carpet bombing) and,
/// for amplification, the service.
pub fn classify(c: &Counters) -> (AttackClass, Option<&'static str>) {
    let half = |part: u64, whole: u64| whole > 0 && part.saturating_mul(2) >= whole;
    if half(c.udp, c.packets)
        && let Some((service, n)) = c.amplification.top()
        && half(n, c.udp)
    {
        return (AttackClass::Amplification, Some(service));
    }
    if half(c.tcp, c.packets) && half(c.syn_only, c.tcp) {
        (AttackClass::SynFlood, None)
    } else if half(c.udp, c.packets) {
        (AttackClass::UdpFlood, None)
    } else if half(c.icmp, c.packets) {
        (AttackClass::IcmpFlood, None)
    } else {
        (AttackClass::OtherVolumetric, None)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Start,
    Update,
    End,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Host,
    Group,
}

/// A flow of an attack, as a sample for the evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FlowSample {
    pub exporter: IpAddr,
    pub src: IpAddr,
    pub dst: IpAddr,
    pub sport: u16,
    pub dport: u16,
    pub proto: u8,
    pub packets: u64,
    pub bytes: u64,
    pub tcp_flags: u8,
}

impl From<&FlowRecord> for FlowSample {
    fn from(r: &FlowRecord) -> Self {
        FlowSample {
            exporter: r.exporter,
            src: r.src,
            dst: r.dst,
            sport: r.sport,
            dport: r.dport,
            proto: r.proto,
            packets: r.packets,
            bytes: r.bytes,
            tcp_flags: r.tcp_flags,
        }
    }
}

/// One step of an attack's life.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AttackEvent {
    pub event: EventKind,
    /// Unique for the detector's life.
    pub id: u64,
    /// Stable across restarts: scope, victim and start second.
    pub key: String,
    pub scope: Scope,
    /// The attacked host, or the group's prefixes (comma-separated).
    pub victim: String,
    pub group: String,
    pub class: AttackClass,
    /// The vector of a carpet bombing (or the class again).
    pub vector: AttackClass,
    /// For amplification: the service (`dns`, `ntp`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<&'static str>,
    /// What was crossed (`host pps 20000`, `group baseline 3.0 × 1200 pps`).
    pub reason: String,
    pub started: Timestamp,
    /// When this event was made.
    pub at: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended: Option<Timestamp>,
    /// The latest second (while it fills, what it held so far).
    pub rate: Rates,
    pub peak: Rates,
    /// Everything since the start, with the protocol mix.
    pub totals: Counters,
    pub top_sources: Vec<Talker>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub top_destinations: Vec<Talker>,
    pub samples: Vec<FlowSample>,
    pub actions: Actions,
}

/// The detector's own counters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct DetectorStats {
    pub records: u64,
    /// Records whose destination is in no group.
    pub remote: u64,
    /// Records of hosts that could not be tracked (table full of attacked
    /// hosts); they counted in their group only.
    pub untracked: u64,
    pub evicted_hosts: u64,
    pub hosts: usize,
    pub attacks_started: u64,
    pub attacks_active: usize,
}

/// A group's rates now and its baseline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupRates {
    pub name: String,
    /// The last full second.
    pub last: Counters,
    pub baseline_pps: f64,
    pub baseline_bps: f64,
    pub baseline_ready: bool,
}

/// What a second over a threshold, and an attack, keep beyond the
/// counters: the over-threshold run, the attack's totals and peak, top
/// sources and sample flows.
#[derive(Debug, Clone)]
struct Watch {
    run: u32,
    last_over: i64,
    attack: Option<u64>,
    /// Finished seconds of the current attack.
    totals: Counters,
    /// Highest rates of the current attack.
    peak: Rates,
    top: TopN,
    samples: Vec<FlowSample>,
}

impl Watch {
    fn new(top_n: usize) -> Self {
        Watch {
            run: 0,
            last_over: i64::MIN,
            attack: None,
            totals: Counters::default(),
            peak: Rates::default(),
            top: TopN::new(top_n),
            samples: Vec::new(),
        }
    }

    /// Takes in a finished second: an attack's totals and peak grow, else
    /// the sources and samples start again.
    fn finish(&mut self, done: &Counters) {
        if self.attack.is_some() {
            self.totals.merge(done);
            self.peak = self.peak.max(done.rates());
        } else {
            self.top.clear();
            self.samples.clear();
        }
    }

    /// Records that second `sec` is over; true when the run reaches `hold`
    /// seconds.
    fn over(&mut self, sec: i64, hold: u32) -> bool {
        if self.last_over != sec {
            self.run = if self.last_over == sec - 1 { self.run.saturating_add(1) } else { 1 };
            self.last_over = sec;
        }
        self.run >= hold
    }

    fn keep(&mut self, r: &FlowRecord, samples: usize) {
        self.top.add(r.src, r.packets, r.bytes);
        if self.samples.len() < samples {
            self.samples.push(FlowSample::from(r));
        }
    }

    fn end(&mut self) {
        self.attack = None;
        self.run = 0;
        self.top.clear();
        self.samples.clear();
    }
}

/// A group's bucket with its watch.
#[derive(Debug, Clone)]
struct Meter {
    sec: i64,
    cur: Counters,
    last: Counters,
    watch: Watch,
}

impl Meter {
    fn new(sec: i64, top_n: usize) -> Self {
        Meter { sec, cur: Counters::default(), last: Counters::default(), watch: Watch::new(top_n) }
    }

    /// Moves to second `sec`; returns the finished bucket and how many
    /// seconds passed (0: same second).
    fn roll(&mut self, sec: i64) -> (Counters, i64) {
        if sec <= self.sec {
            return (Counters::default(), 0);
        }
        if self.sec == i64::MIN {
            // The first record: nothing finished.
            self.sec = sec;
            return (Counters::default(), 0);
        }
        let gap = sec.saturating_sub(self.sec);
        let done = std::mem::take(&mut self.cur);
        self.last = if gap == 1 { done } else { Counters::default() };
        self.sec = sec;
        self.watch.finish(&done);
        (done, gap)
    }
}

/// A protected host: what every record of it touches, in the dense hot
/// array of the host table (96 bytes, where a plain [`Meter`] took over
/// 500; the table's cold array holds its previous second). The watch is allocated only while the host is near a
/// threshold or under attack.
#[derive(Debug, Clone)]
struct Host {
    sec: i64,
    cur: SecondCounters,
    watch: Option<Box<Watch>>,
    /// Index of its group in the configuration.
    group: u32,
}

impl Host {
    /// Moves to second `sec`, the finished second going to `last`. A
    /// watch outlives the second only under attack or while the run of
    /// seconds over a threshold may go on.
    fn roll(&mut self, sec: i64, last: &mut Counters) {
        if sec <= self.sec {
            return;
        }
        let gap = sec.saturating_sub(self.sec);
        let done = std::mem::take(&mut self.cur).counters();
        *last = if gap == 1 { done } else { Counters::default() };
        let finished = self.sec;
        self.sec = sec;
        if let Some(w) = &mut self.watch {
            if w.attack.is_some() || (gap == 1 && w.last_over == finished) {
                w.finish(&done);
            } else {
                self.watch = None;
            }
        }
    }

    fn attacked(&self) -> bool {
        self.watch.as_ref().is_some_and(|w| w.attack.is_some())
    }

    fn in_group(&self, gi: usize) -> bool {
        self.group as usize == gi
    }
}

// The claim above, kept: a bigger entry spills the table out of the cache.
const _: () = assert!(std::mem::size_of::<Host>() <= 96);

type HostTable = SlotTable<Host, Counters>;

/// A host's second is watched (its sources and sample flows kept for the
/// evidence) from the moment it reaches this fraction (1/N) of one of its
/// thresholds, and throughout an attack.
const WATCH_FRACTION: u64 = 4;

/// Whether a host's current second is near enough its thresholds to be
/// watched. Most hosts never are: their per-record cost is then the
/// counters alone, not a sketch update and a sample in memory of their own
/// (with tens of thousands of hosts, those were the cache misses that cost
/// most per record).
#[inline]
fn near(r: Rates, t: &Thresholds) -> bool {
    let over = |value: u64, limit: u64| limit > 0 && value.saturating_mul(WATCH_FRACTION) > limit;
    over(r.pps, t.pps) || over(r.bps, t.bps) || over(r.flows, t.flows)
}

fn exceeds(r: Rates, t: &Thresholds) -> Option<String> {
    if t.pps > 0 && r.pps > t.pps {
        Some(format!("pps {}", t.pps))
    } else if t.bps > 0 && r.bps > t.bps {
        Some(format!("bps {}", t.bps))
    } else if t.flows > 0 && r.flows > t.flows {
        Some(format!("flows {}", t.flows))
    } else {
        None
    }
}

#[derive(Debug, Clone)]
struct Group {
    meter: Meter,
    ewma_pps: f64,
    ewma_bps: f64,
    seen_secs: u32,
    profile: Profile,
    /// The lowest of its limits in the meter's second, and that second
    /// (`i64::MIN`: to be worked out again).
    gate: Gate,
    gate_sec: i64,
}

/// The lowest rates at which a group's second can be over (static
/// thresholds, profile slot or EWMA baseline), worked out once a second,
/// so that a record costs integer compares until one is near: only then
/// are its sources and samples kept, and only over it is the group judged
/// in full ([`group_over`], the authority). `u64::MAX`: no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Gate {
    pps: u64,
    bps: u64,
    flows: u64,
}

impl Gate {
    const OPEN: Gate = Gate { pps: u64::MAX, bps: u64::MAX, flows: u64::MAX };

    fn of(t: &Thresholds) -> Gate {
        let limit = |v: u64| if v == 0 { u64::MAX } else { v };
        Gate { pps: limit(t.pps), bps: limit(t.bps), flows: limit(t.flows) }
    }

    /// Lowers the gate to a limit `value > limit` of a baseline: an
    /// integer count is over a real limit exactly when it is over its floor.
    fn lower_pps(&mut self, limit: f64) {
        self.pps = self.pps.min(floor_of(limit));
    }

    fn lower_bps(&mut self, limit: f64) {
        self.bps = self.bps.min(floor_of(limit));
    }

    fn crossed(&self, r: Rates) -> bool {
        r.pps > self.pps || r.bps > self.bps || r.flows > self.flows
    }

    fn near(&self, r: Rates) -> bool {
        let near = |value: u64, limit: u64| value.saturating_mul(WATCH_FRACTION) > limit;
        near(r.pps, self.pps) || near(r.bps, self.bps) || near(r.flows, self.flows)
    }
}

/// The floor of a non-negative limit as an integer (a NaN limit gives 0:
/// everything is judged in full).
fn floor_of(limit: f64) -> u64 {
    limit.floor() as u64
}

#[derive(Debug, Clone)]
struct Attack {
    id: u64,
    key: String,
    scope: Scope,
    target: Option<IpAddr>,
    group: usize,
    class: AttackClass,
    vector: AttackClass,
    service: Option<&'static str>,
    reason: String,
    started: Timestamp,
    last_update: i64,
}

/// Aggregates flow records per protected host and group and detects attacks.
#[derive(Debug)]
pub struct Detector {
    config: ModelConfig,
    index: GroupIndex,
    groups: Vec<Group>,
    hosts: HostTable,
    attacks: BTreeMap<u64, Attack>,
    next_id: u64,
    now_sec: i64,
    stats: DetectorStats,
    events: Vec<AttackEvent>,
}

/// Seconds a host may stay silent before it may be evicted.
const IDLE_SECS: i64 = 60;

impl Detector {
    /// A detector for a validated configuration ([`ModelConfig::validate`]).
    pub fn new(config: ModelConfig) -> Self {
        let index = GroupIndex::new(&config.groups);
        let groups = config
            .groups
            .iter()
            .map(|_| Group {
                meter: Meter::new(i64::MIN, config.top_n),
                ewma_pps: 0.0,
                ewma_bps: 0.0,
                seen_secs: 0,
                profile: Profile::default(),
                gate: Gate::OPEN,
                gate_sec: i64::MIN,
            })
            .collect();
        Detector {
            config,
            index,
            groups,
            hosts: HostTable::default(),
            attacks: BTreeMap::new(),
            next_id: 1,
            now_sec: i64::MIN,
            stats: DetectorStats::default(),
            events: Vec::new(),
        }
    }

    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// Counts one record received at `now` and judges its host and group.
    pub fn record(&mut self, r: &FlowRecord, now: Timestamp) {
        self.record_in(r, now, None);
    }

    /// Counts records (each with its receive time) as [`Detector::record`]
    /// does, in order. The host table's index is read for a run of them
    /// first: those reads are independent, so their cache misses overlap
    /// instead of each record waiting for its own (with tens of thousands
    /// of hosts, that wait was half of the collector's time).
    pub fn record_batch(&mut self, records: &[(FlowRecord, Timestamp)]) {
        const RUN: usize = 32;
        let mut slots = [None; RUN];
        for run in records.chunks(RUN) {
            let generation = self.hosts.generation();
            for (slot, (r, _)) in slots.iter_mut().zip(run) {
                *slot = self.hosts.slot_of(&r.dst);
            }
            for (&slot, (r, now)) in slots.iter().zip(run) {
                // An eviction in the run moves slots: look up again.
                let slot = slot.filter(|_| self.hosts.generation() == generation);
                self.record_in(r, *now, slot);
            }
        }
    }

    /// [`Detector::record`], given the host's slot if it was looked up.
    #[inline]
    fn record_in(&mut self, r: &FlowRecord, now: Timestamp, slot: Option<u32>) {
        self.now_sec = self.now_sec.max(now.secs());
        let sec = self.now_sec;
        self.stats.records += 1;
        let Some(gi) = self.index.lookup(r.dst) else {
            self.stats.remote += 1;
            return;
        };
        // The host first, so a group check sees its attack.
        let host_limits = self.config.groups.get(gi).map(|g| g.host).unwrap_or_default();
        let (hold, samples) = (self.config.hold_secs, self.config.samples);
        let top_n = self.config.top_n;
        let found = match slot {
            Some(slot) => self.hosts.at_mut(slot),
            None => self.host(r.dst, gi, sec),
        };
        if let Some((host, last)) = found {
            host.roll(sec, last);
            host.cur.add(r);
            let rates = host.cur.rates();
            if host.watch.is_some() || near(rates, &host_limits) {
                host.watch.get_or_insert_with(|| Box::new(Watch::new(top_n))).keep(r, samples);
            }
            if let Some(why) = exceeds(rates, &host_limits) {
                let w = host.watch.get_or_insert_with(|| Box::new(Watch::new(top_n)));
                let attacked = w.attack.is_some();
                if w.over(host.sec, if attacked { 1 } else { hold }) && !attacked {
                    self.start(Scope::Host, Some(r.dst), gi, format!("host {why}"), now);
                }
            }
        } else {
            self.stats.untracked += 1;
        }
        let Some(group) = self.groups.get_mut(gi) else { return };
        let (done, gap) = group.meter.roll(sec);
        if gap > 0 {
            let attacked = self.attacks.values().any(|a| a.group == gi);
            feed_baseline(group, &done, gap, &self.config, attacked);
        }
        let Some(cfg) = self.config.groups.get(gi) else { return };
        if group.gate_sec != group.meter.sec {
            group.gate = gate_of(group, cfg, &self.config);
            group.gate_sec = group.meter.sec;
        }
        let m = &mut group.meter;
        m.cur.add(r);
        let rates = m.cur.rates();
        if m.watch.attack.is_some() || group.gate.near(rates) {
            m.watch.keep(r, samples);
        }
        if !group.gate.crossed(rates) {
            return;
        }
        let Some(why) = group_over(group, cfg, &self.config) else { return };
        let m = &mut group.meter;
        let attacked = m.watch.attack.is_some();
        if !m.watch.over(m.sec, if attacked { 1 } else { hold }) || attacked {
            return;
        }
        // Explained by attacked hosts of the group?
        let group_packets = m.cur.packets;
        let attacked: u64 = self
            .attacks
            .values()
            .filter(|a| a.group == gi && a.scope == Scope::Host)
            .filter_map(|a| a.target.and_then(|t| self.hosts.get(&t)))
            .filter(|h| h.sec == sec)
            .map(|h| h.cur.packets)
            .sum();
        if attacked.saturating_mul(2) >= group_packets {
            return;
        }
        self.start(Scope::Group, None, gi, format!("group {why}"), now);
    }

    /// The host's state, made (and room made) if needed; `None` when the
    /// table is full of hosts under attack.
    fn host(&mut self, ip: IpAddr, group: usize, sec: i64) -> Option<(&mut Host, &mut Counters)> {
        // One hash per record while the table has room (the usual case);
        // a full table first checks whether room must be made.
        if self.hosts.len() >= self.config.max_hosts && !self.hosts.contains(&ip) {
            self.evict(sec);
            if self.hosts.len() >= self.config.max_hosts {
                return None;
            }
        }
        let group = u32::try_from(group).ok()?;
        self.hosts.get_or_insert_with(ip, || {
            (Host { sec, cur: SecondCounters::default(), watch: None, group }, Counters::default())
        })
    }

    /// Drops idle hosts, or else the least recently seen eighth of the
    /// table, never a host under attack.
    fn evict(&mut self, sec: i64) {
        let mut gone = self.hosts.retain(|h| h.attacked() || h.sec > sec.saturating_sub(IDLE_SECS));
        if self.hosts.len() >= self.config.max_hosts {
            let mut seen: Vec<i64> = self.hosts.hot_values().filter(|h| !h.attacked()).map(|h| h.sec).collect();
            let k = (self.config.max_hosts / 8).max(1).min(seen.len());
            if k > 0 {
                let (_, cut, _) = seen.select_nth_unstable(k - 1);
                let cut = *cut;
                let mut left = k;
                gone += self.hosts.retain(|h| {
                    if left > 0 && !h.attacked() && h.sec <= cut {
                        left -= 1;
                        false
                    } else {
                        true
                    }
                });
            }
        }
        self.stats.evicted_hosts += gone as u64;
    }

    fn start(&mut self, scope: Scope, target: Option<IpAddr>, gi: usize, reason: String, now: Timestamp) {
        let Some(cfg) = self.config.groups.get(gi) else { return };
        let id = self.next_id;
        self.next_id += 1;
        // A group's destinations this second, from the host table.
        let top_dst =
            target.is_none().then(|| top_destinations(&self.hosts, gi, self.now_sec, false, self.config.top_n));
        let top_n = self.config.top_n;
        let (cur, watch, top_dst) = match target {
            Some(ip) => match self.hosts.get_mut(&ip) {
                Some((h, _)) => {
                    (h.cur.counters(), &mut **h.watch.get_or_insert_with(|| Box::new(Watch::new(top_n))), None)
                }
                None => return,
            },
            None => match self.groups.get_mut(gi) {
                Some(g) => (g.meter.cur, &mut g.meter.watch, top_dst.as_deref()),
                None => return,
            },
        };
        watch.attack = Some(id);
        watch.totals = Counters::default();
        watch.peak = cur.rates();
        let (vector, service) = classify(&cur);
        let carpet =
            top_dst.is_some_and(|t| t.first().is_none_or(|d| d.packets.saturating_mul(2) < cur.packets) && t.len() > 1);
        let class = if carpet { AttackClass::CarpetBombing } else { vector };
        let victim = match target {
            Some(ip) => ip.to_string(),
            None => cfg.prefixes.iter().map(|p| p.to_string()).collect::<Vec<_>>().join(","),
        };
        let scope_name = if target.is_some() { "host" } else { "group" };
        let attack = Attack {
            id,
            key: format!("ddos:{scope_name}:{}:{}:{}", cfg.name, victim, now.secs()),
            scope,
            target,
            group: gi,
            class,
            vector,
            service,
            reason,
            started: now,
            last_update: self.now_sec,
        };
        self.stats.attacks_started += 1;
        let event = make_event(&attack, EventKind::Start, now, None, &cur, watch, top_dst, cfg);
        self.events.push(event);
        self.attacks.insert(id, attack);
    }

    /// Moves the clock to `now`: rolls buckets, feeds baselines, emits
    /// updates and ends. Call it a few times a second (the collector does
    /// after each batch of datagrams and at least every 100 ms).
    pub fn tick(&mut self, now: Timestamp) {
        self.now_sec = self.now_sec.max(now.secs());
        let sec = self.now_sec;
        for (gi, g) in self.groups.iter_mut().enumerate() {
            if g.meter.sec == i64::MIN {
                continue;
            }
            let (done, gap) = g.meter.roll(sec);
            if gap > 0 {
                let attacked = self.attacks.values().any(|a| a.group == gi);
                feed_baseline(g, &done, gap, &self.config, attacked);
            }
        }
        let mut ended = Vec::new();
        for attack in self.attacks.values_mut() {
            let Some(cfg) = self.config.groups.get(attack.group) else { continue };
            let top_dst = attack
                .target
                .is_none()
                .then(|| top_destinations(&self.hosts, attack.group, sec, true, self.config.top_n));
            let (cur, watch, top_dst) = match attack.target {
                Some(ip) => match self.hosts.get_mut(&ip) {
                    Some((h, last)) => {
                        h.roll(sec, last);
                        // Under attack, a host keeps its watch.
                        let Some(w) = h.watch.as_deref_mut() else { continue };
                        (h.cur.counters(), w, None)
                    }
                    None => continue,
                },
                None => match self.groups.get_mut(attack.group) {
                    Some(g) => {
                        g.meter.roll(sec);
                        (g.meter.cur, &mut g.meter.watch, top_dst.as_deref())
                    }
                    None => continue,
                },
            };
            let quiet = i64::from(self.config.quiet_secs.max(1));
            if sec.saturating_sub(watch.last_over) > quiet {
                let event = make_event(attack, EventKind::End, now, Some(now), &cur, watch, top_dst, cfg);
                self.events.push(event);
                watch.end();
                ended.push(attack.id);
            } else if sec.saturating_sub(attack.last_update) >= i64::from(self.config.update_secs.max(1)) {
                attack.last_update = sec;
                let event = make_event(attack, EventKind::Update, now, None, &cur, watch, top_dst, cfg);
                self.events.push(event);
            }
        }
        for id in ended {
            self.attacks.remove(&id);
        }
    }

    /// The events made since the last call, in order.
    pub fn take_events(&mut self) -> Vec<AttackEvent> {
        std::mem::take(&mut self.events)
    }

    pub fn stats(&self) -> DetectorStats {
        DetectorStats { hosts: self.hosts.len(), attacks_active: self.attacks.len(), ..self.stats.clone() }
    }

    /// Each group's last full second and its baseline.
    pub fn group_rates(&self) -> Vec<GroupRates> {
        self.config
            .groups
            .iter()
            .zip(&self.groups)
            .map(|(cfg, g)| GroupRates {
                name: cfg.name.clone(),
                last: g.meter.last,
                baseline_pps: g.ewma_pps,
                baseline_bps: g.ewma_bps,
                baseline_ready: g.seen_secs >= self.config.baseline_warmup_secs,
            })
            .collect()
    }

    fn group_index(&self, name: &str) -> Result<usize, ProfileError> {
        self.config.groups.iter().position(|g| g.name == name).ok_or_else(|| ProfileError::UnknownGroup(name.into()))
    }

    /// Sets one hour-of-week slot of a group's profile (seeding from
    /// figures kept elsewhere); `samples` says how many weeks it stands for.
    pub fn seed_profile(&mut self, group: &str, slot: usize, value: Slot) -> Result<(), ProfileError> {
        let gi = self.group_index(group)?;
        if !value.is_valid() {
            return Err(ProfileError::BadSlotValue(slot));
        }
        let g = self.groups.get_mut(gi).ok_or_else(|| ProfileError::UnknownGroup(group.into()))?;
        g.gate_sec = i64::MIN;
        if g.profile.set_slot(slot, value) { Ok(()) } else { Err(ProfileError::BadSlot(slot)) }
    }

    /// Learns a group's profile from stored per-minute traffic: `(minute
    /// start in unix seconds, mean pps, mean bps)`, one point per minute,
    /// in any order, leaving out minutes under attack; missing minutes are
    /// unknown, not silent. Each hour with at least a quarter of its
    /// minutes is one sample of its slot, learnt oldest first as live
    /// seconds are. Meant for start-up, with history up to the current
    /// hour. Returns the hours learnt; nothing is learnt on an error.
    pub fn seed_profile_minutes(
        &mut self,
        group: &str,
        points: impl IntoIterator<Item = (i64, f64, f64)>,
    ) -> Result<usize, ProfileError> {
        let gi = self.group_index(group)?;
        let offset = self.config.profile_offset_secs();
        let mut sums = HourSums::default();
        for (minute, pps, bps) in points {
            if !(pps.is_finite() && pps >= 0.0 && bps.is_finite() && bps >= 0.0) {
                return Err(ProfileError::BadPoint { minute });
            }
            sums.add_minute(minute, pps, bps, offset);
        }
        let g = self.groups.get_mut(gi).ok_or_else(|| ProfileError::UnknownGroup(group.into()))?;
        let mut learnt = 0;
        for (hour, sum) in sums.into_hours() {
            learnt += usize::from(g.profile.fold_hour(hour, &sum, self.config.profile_alpha));
            g.gate_sec = i64::MIN;
        }
        Ok(learnt)
    }

    /// A group's hour-of-week profile, for the UI and API.
    pub fn group_profile(&self, name: &str) -> Option<GroupProfile> {
        let gi = self.group_index(name).ok()?;
        let (cfg, g) = (self.config.groups.get(gi)?, self.groups.get(gi)?);
        let min_weeks = self.config.profile_min_weeks;
        Some(GroupProfile {
            group: cfg.name.clone(),
            enabled: cfg.profile_enabled(),
            utc_offset_hours: self.config.profile_utc_offset_hours,
            min_weeks,
            current: (self.now_sec != i64::MIN)
                .then(|| profile::slot_of(self.now_sec, self.config.profile_offset_secs())),
            slots: g
                .profile
                .slots()
                .iter()
                .enumerate()
                .map(|(i, s)| ProfileSlot {
                    slot: i,
                    label: profile::slot_label(i),
                    pps: s.pps,
                    bps: s.bps,
                    samples: s.samples,
                    ready: s.samples >= min_weeks,
                })
                .collect(),
        })
    }
}

impl Detector {
    /// The detector's clock (unix second), `None` before the first record
    /// or tick.
    pub fn clock_second(&self) -> Option<i64> {
        (self.now_sec != i64::MIN).then_some(self.now_sec)
    }

    /// The second before the detector's clock, for the traffic history
    /// ([`crate::history`]): each group's counters and, per group, at most
    /// `top` hosts by bytes and at most `top` hosts under attack. `None`
    /// before the clock has moved. Walks the host table (bounded by
    /// `max_hosts`) once: call it once per second, not per record.
    pub fn last_second(&self, top: usize) -> Option<TrafficSecond> {
        if self.now_sec == i64::MIN {
            return None;
        }
        let sec = self.now_sec.saturating_sub(1);
        let top = top.max(1);
        let mut groups: Vec<GroupSecond> = self
            .config
            .groups
            .iter()
            .zip(&self.groups)
            .map(|(cfg, g)| GroupSecond {
                name: cfg.name.clone(),
                counters: second_of(g.meter.sec, &g.meter.cur, &g.meter.last, sec),
                active: g.meter.sec != i64::MIN,
                attacked: g.meter.watch.attack.is_some(),
                hosts: Vec::new(),
            })
            .collect();
        // Per group: the busiest hosts (trimmed back to `top` whenever the
        // list doubles) and the attacked ones.
        let mut attacked: Vec<Vec<HostSecond>> = vec![Vec::new(); groups.len()];
        let by_bytes = |a: &HostSecond, b: &HostSecond| b.counters.bytes.cmp(&a.counters.bytes);
        for (ip, h, last) in self.hosts.iter() {
            let under_attack = h.attacked();
            let counters = second_of(h.sec, &h.cur.counters(), last, sec);
            if counters.packets == 0 && !under_attack {
                continue;
            }
            let gi = h.group as usize;
            let host = HostSecond { addr: ip, counters, attacked: under_attack };
            if under_attack {
                if let Some(list) = attacked.get_mut(gi)
                    && list.len() < top
                {
                    list.push(host);
                }
                continue;
            }
            let Some(list) = groups.get_mut(gi).map(|g| &mut g.hosts) else { continue };
            list.push(host);
            if list.len() >= top.saturating_mul(2) {
                list.select_nth_unstable_by(top - 1, by_bytes);
                list.truncate(top);
            }
        }
        for (g, mut under) in groups.iter_mut().zip(attacked) {
            g.hosts.sort_by(by_bytes);
            g.hosts.truncate(top);
            g.hosts.append(&mut under);
        }
        Some(TrafficSecond { sec, groups })
    }
}

/// Group `gi`'s busiest destinations (at most `n`, most packets first) in
/// second `sec` (`with_previous`: or, for hosts with nothing yet in `sec`,
/// the second before), from the host table: exact per host, and nothing
/// to count per record (a per-group sketch of destinations was a third of
/// the detector's instructions). Walks the table: for attack events only.
fn top_destinations(hosts: &HostTable, gi: usize, sec: i64, with_previous: bool, n: usize) -> Vec<Talker> {
    let since = if with_previous { sec.saturating_sub(1) } else { sec };
    let mut top: Vec<Talker> = hosts
        .iter()
        .filter(|(_, h, _)| h.in_group(gi) && h.sec >= since && h.sec <= sec && h.cur.packets > 0)
        .map(|(addr, h, _)| Talker { addr, packets: h.cur.packets, bytes: h.cur.bytes, error: 0 })
        .collect();
    let by_packets = |a: &Talker, b: &Talker| b.packets.cmp(&a.packets).then(a.addr.cmp(&b.addr));
    if top.len() > n && n > 0 {
        top.select_nth_unstable_by(n - 1, by_packets);
        top.truncate(n);
    }
    top.sort_by(by_packets);
    top
}

/// The counters of second `sec` of a bucket now at second `at` holding
/// `cur` (and `last`, the second before), if it still holds them.
fn second_of(at: i64, cur: &Counters, last: &Counters, sec: i64) -> Counters {
    if at == sec {
        *cur
    } else if at == sec.saturating_add(1) {
        *last
    } else {
        Counters::default()
    }
}

/// The ready profile slot of a group's current second, if it judges the
/// group.
fn ready_slot<'a>(g: &'a Group, cfg: &HostGroup, model: &ModelConfig) -> Option<(usize, &'a Slot)> {
    if !cfg.profile_enabled() {
        return None;
    }
    let slot = profile::slot_of(g.meter.sec, model.profile_offset_secs());
    g.profile.slot(slot).filter(|s| s.samples >= model.profile_min_weeks).map(|s| (slot, s))
}

/// Whether the EWMA baseline judges the group (no ready profile slot).
fn ewma_limit(g: &Group, cfg: &HostGroup, model: &ModelConfig) -> Option<f64> {
    (cfg.baseline_factor > 0.0 && g.seen_secs >= model.baseline_warmup_secs)
        .then(|| (cfg.baseline_factor * g.ewma_pps).max(cfg.baseline_floor_pps as f64))
}

/// A profile estimate's limit: the highest of the floor, `profile_factor`
/// × the mean and mean + `profile_deviations` × the spread.
fn profile_limit(e: &profile::Estimate, floor: u64, cfg: &HostGroup) -> f64 {
    let (f, k) = (cfg.profile_factor, cfg.profile_deviations);
    let by_factor = if f > 0.0 { f * e.mean } else { 0.0 };
    let by_spread = if k > 0.0 { e.mean + k * e.spread } else { 0.0 };
    (floor as f64).max(by_factor).max(by_spread)
}

fn gate_of(g: &Group, cfg: &HostGroup, model: &ModelConfig) -> Gate {
    let mut gate = Gate::of(&cfg.group);
    if let Some((_, s)) = ready_slot(g, cfg, model) {
        gate.lower_pps(profile_limit(&s.pps, cfg.baseline_floor_pps, cfg));
        if cfg.profile_floor_bps > 0 {
            gate.lower_bps(profile_limit(&s.bps, cfg.profile_floor_bps, cfg));
        }
    } else if let Some(limit) = ewma_limit(g, cfg, model) {
        gate.lower_pps(limit);
    }
    gate
}

fn group_over(g: &Group, cfg: &HostGroup, model: &ModelConfig) -> Option<String> {
    if let Some(why) = exceeds(g.meter.cur.rates(), &cfg.group) {
        return Some(why);
    }
    if let Some((slot, s)) = ready_slot(g, cfg, model) {
        return profile_over(&g.meter.cur, s, slot, cfg);
    }
    let limit = ewma_limit(g, cfg, model)?;
    (g.meter.cur.packets as f64 > limit).then(|| format!("baseline {} × {:.0} pps", cfg.baseline_factor, g.ewma_pps))
}

/// Over a ready profile slot: the reason, e.g. `profile Tue 14:00 3 × 1200
/// pps` (the highest of the limits, the one crossed).
fn profile_over(c: &Counters, s: &Slot, slot: usize, cfg: &HostGroup) -> Option<String> {
    let r = c.rates();
    let over = |value: u64, e: &profile::Estimate, floor: u64, unit: &str| {
        let (f, k) = (cfg.profile_factor, cfg.profile_deviations);
        let limit = profile_limit(e, floor, cfg);
        if value as f64 <= limit {
            return None;
        }
        let which = if f > 0.0 && f * e.mean >= limit {
            format!("{f} × {:.0} {unit}", e.mean)
        } else if k > 0.0 && e.mean + k * e.spread >= limit {
            format!("{:.0} + {k} × {:.0} {unit}", e.mean, e.spread)
        } else {
            format!("floor {floor} {unit}")
        };
        Some(format!("profile {} {which}", profile::slot_label(slot)))
    };
    over(r.pps, &s.pps, cfg.baseline_floor_pps, "pps")
        .or_else(|| if cfg.profile_floor_bps > 0 { over(r.bps, &s.bps, cfg.profile_floor_bps, "bps") } else { None })
}

/// Feeds a finished second (and `gap - 1` silent ones) to the EWMA
/// baseline and the hour-of-week profile, unless the group or one of its
/// hosts (`attacked`) is under attack.
fn feed_baseline(g: &mut Group, done: &Counters, gap: i64, model: &ModelConfig, attacked: bool) {
    if g.meter.watch.attack.is_some() {
        return;
    }
    if !attacked {
        learn(g, done, gap, model);
    }
}

fn learn(g: &mut Group, done: &Counters, gap: i64, model: &ModelConfig) {
    let alpha = model.ewma_alpha;
    let idle = gap.saturating_sub(1).min(100_000) as i32;
    let keep = (1.0 - alpha).powi(idle);
    g.ewma_pps *= keep;
    g.ewma_bps *= keep;
    let r = done.rates();
    g.ewma_pps = alpha * r.pps as f64 + (1.0 - alpha) * g.ewma_pps;
    g.ewma_bps = alpha * r.bps as f64 + (1.0 - alpha) * g.ewma_bps;
    g.seen_secs = g.seen_secs.saturating_add(u32::try_from(gap).unwrap_or(u32::MAX));
    // The meter has moved on: the finished second was `gap` seconds ago.
    let (offset, weight) = (model.profile_offset_secs(), model.profile_alpha);
    let done_sec = g.meter.sec.saturating_sub(gap);
    g.profile.learn(done_sec, 1, r.pps as f64, r.bps as f64, offset, weight);
    if gap > 1 {
        g.profile.learn(done_sec.saturating_add(1), gap - 1, 0.0, 0.0, offset, weight);
    }
}

#[allow(clippy::too_many_arguments)]
fn make_event(
    a: &Attack,
    event: EventKind,
    now: Timestamp,
    ended: Option<Timestamp>,
    cur: &Counters,
    watch: &Watch,
    top_dst: Option<&[Talker]>,
    cfg: &HostGroup,
) -> AttackEvent {
    let mut totals = watch.totals;
    totals.merge(cur);
    let rate = cur.rates();
    AttackEvent {
        event,
        id: a.id,
        key: a.key.clone(),
        scope: a.scope,
        victim: match a.target {
            Some(ip) => ip.to_string(),
            None => cfg.prefixes.iter().map(|p| p.to_string()).collect::<Vec<_>>().join(","),
        },
        group: cfg.name.clone(),
        class: a.class,
        vector: a.vector,
        service: a.service,
        reason: a.reason.clone(),
        started: a.started,
        at: now,
        ended,
        rate,
        peak: watch.peak.max(rate),
        totals,
        top_sources: watch.top.top(),
        top_destinations: top_dst.map(<[Talker]>::to_vec).unwrap_or_default(),
        samples: watch.samples.clone(),
        actions: cfg.actions.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Version;

    const SEC: i64 = 1_000_000_000;
    const T0: i64 = 1_700_000_000;

    fn at(secs: i64, ms: i64) -> Timestamp {
        Timestamp((T0 + secs) * SEC + ms * 1_000_000)
    }

    fn config() -> ModelConfig {
        let mut c: ModelConfig = toml::from_str(
            r#"
            quiet_secs = 3
            update_secs = 2
            [[group]]
            name = "dc1"
            prefixes = ["192.0.2.0/24"]
            host = { pps = 10000 }
            group = { pps = 50000 }
            "#,
        )
        .unwrap();
        c.validate().unwrap();
        c.max_hosts = 64;
        c
    }

    fn flow(src: &str, dst: &str, proto: u8, sport: u16, dport: u16, flags: u8, packets: u64) -> FlowRecord {
        let mut r = FlowRecord::empty("203.0.113.1".parse().unwrap(), Version::NetflowV9, 0, Timestamp(0));
        r.src = src.parse().unwrap();
        r.dst = dst.parse().unwrap();
        r.proto = proto;
        r.sport = sport;
        r.dport = dport;
        r.tcp_flags = flags;
        r.set_counts(packets, packets * 60, 1);
        r
    }

    /// Normal web traffic to a few hosts: under every threshold.
    fn normal(d: &mut Detector, secs: i64) {
        for s in 0..secs {
            for h in 1..5 {
                let dst = format!("192.0.2.{h}");
                d.record(&flow("198.51.100.9", &dst, 6, 40000, 443, 0x1b, 500), at(s, 100));
                d.record(&flow("198.51.100.8", &dst, 17, 5353, 9999, 0, 200), at(s, 200));
            }
            d.tick(at(s, 900));
        }
    }

    fn starts(events: &[AttackEvent]) -> Vec<&AttackEvent> {
        events.iter().filter(|e| e.event == EventKind::Start).collect()
    }

    #[test]
    fn normal_traffic_raises_nothing() {
        let mut d = Detector::new(config());
        normal(&mut d, 20);
        assert!(d.take_events().is_empty());
        assert_eq!(d.stats().hosts, 4);
        d.record(&flow("192.0.2.1", "8.8.8.8", 17, 5000, 53, 0, 1), at(21, 0));
        assert_eq!(d.stats().remote, 1);
    }

    #[test]
    fn syn_flood_starts_on_the_crossing_record_and_names_its_sources() {
        let mut d = Detector::new(config());
        normal(&mut d, 5);
        // 30 spoofed sources, 400 SYN packets each within 0.3 s of second 5.
        for i in 0..30 {
            d.record(&flow(&format!("100.64.0.{i}"), "192.0.2.2", 6, 1024 + i, 80, 0x02, 400), at(5, 10 * i as i64));
            if i == 24 {
                // 25 × 400 = 10 000 packets: not over yet.
                assert!(d.take_events().is_empty());
            }
        }
        let events = d.take_events();
        let s = starts(&events);
        assert_eq!(s.len(), 1, "{events:#?}");
        let e = s[0];
        assert_eq!(
            (e.scope, e.victim.as_str(), e.class, e.group.as_str()),
            (Scope::Host, "192.0.2.2", AttackClass::SynFlood, "dc1")
        );
        assert_eq!(e.started, at(5, 250), "the 26th record crossed the threshold");
        assert_eq!(e.reason, "host pps 10000");
        assert!(e.rate.pps > 10_000);
        assert_eq!(e.top_sources.len(), 10);
        assert!(e.top_sources.iter().all(|t| t.addr.to_string().starts_with("100.64.0.")));
        assert_eq!(e.samples.len(), 5);
    }

    #[test]
    fn amplification_names_the_service() {
        let mut d = Detector::new(config());
        for (port, service) in [(123, "ntp"), (53, "dns"), (11211, "memcached"), (1900, "ssdp"), (389, "cldap")] {
            let dst = format!("192.0.2.{}", port % 200);
            for i in 0..20 {
                d.record(&flow(&format!("100.65.0.{i}"), &dst, 17, port, 4444, 0, 1000), at(i64::from(port), i));
            }
            let events = d.take_events();
            let s = starts(&events);
            assert_eq!(s.len(), 1, "{port}: {events:#?}");
            assert_eq!(
                (s[0].class, s[0].service, s[0].victim.as_str()),
                (AttackClass::Amplification, Some(service), dst.as_str())
            );
        }
    }

    #[test]
    fn udp_and_icmp_floods_and_other_volumetric() {
        for (proto, sport, class) in
            [(17, 40000, AttackClass::UdpFlood), (1, 0, AttackClass::IcmpFlood), (47, 0, AttackClass::OtherVolumetric)]
        {
            let mut d = Detector::new(config());
            for i in 0..12 {
                d.record(&flow("100.66.0.1", "192.0.2.9", proto, sport, 0, 0, 1000), at(0, i));
            }
            let events = d.take_events();
            assert_eq!(starts(&events).first().map(|e| e.class), Some(class), "{proto}");
        }
        // A mix of TCP with ACKs (not SYN-only) is volumetric TCP, not a SYN flood.
        let mut d = Detector::new(config());
        for i in 0..12 {
            d.record(&flow("100.66.0.1", "192.0.2.9", 6, 5555, 80, 0x10, 1000), at(0, i));
        }
        assert_eq!(starts(&d.take_events()).first().map(|e| e.class), Some(AttackClass::OtherVolumetric));
    }

    #[test]
    fn carpet_bombing_is_a_group_attack_with_no_host_over() {
        let mut d = Detector::new(config());
        normal(&mut d, 3);
        // 60 hosts × 1000 packets: each far under 10 000, the group over 50 000.
        for h in 10..70 {
            d.record(&flow("100.67.0.1", &format!("192.0.2.{h}"), 17, 53, 3333, 0, 1000), at(3, h));
        }
        let events = d.take_events();
        let s = starts(&events);
        assert_eq!(s.len(), 1, "{events:#?}");
        assert_eq!(
            (s[0].scope, s[0].class, s[0].vector),
            (Scope::Group, AttackClass::CarpetBombing, AttackClass::Amplification)
        );
        assert_eq!(s[0].victim, "192.0.2.0/24");
        assert_eq!(s[0].top_destinations.len(), 10);
        assert!(s[0].top_destinations.iter().all(|t| t.packets == 1000 && t.error == 0));
        // The next second one host takes more; the update, a second later,
        // ranks the destinations of that last full second.
        for h in 10..70 {
            let packets = if h == 42 { 9000 } else { 1000 };
            d.record(&flow("100.67.0.1", &format!("192.0.2.{h}"), 17, 53, 3333, 0, packets), at(4, h));
        }
        d.tick(at(5, 0));
        let events = d.take_events();
        let update = events.iter().find(|e| e.event == EventKind::Update).expect("an update");
        assert_eq!(update.top_destinations.len(), 10);
        assert_eq!(update.top_destinations[0].addr.to_string(), "192.0.2.42");
        assert_eq!(update.top_destinations[0].packets, 9000);
    }

    #[test]
    fn one_attacked_host_is_not_also_a_group_attack() {
        let mut d = Detector::new(config());
        for i in 0..60 {
            d.record(&flow("100.68.0.1", "192.0.2.50", 17, 40000, 80, 0, 1000), at(0, i));
        }
        let events = d.take_events();
        let s = starts(&events);
        assert_eq!(s.len(), 1, "{events:#?}");
        assert_eq!(s[0].scope, Scope::Host);
    }

    #[test]
    fn lifecycle_start_update_end_with_peak_and_totals() {
        let mut d = Detector::new(config());
        // Attack for 6 seconds at 20 000 pps then 30 000 pps, then silence.
        for s in 0..6 {
            let per = if s < 3 { 2000 } else { 3000 };
            for i in 0..10 {
                d.record(&flow("100.69.0.1", "192.0.2.7", 6, 1000, 80, 0x02, per), at(s, i * 50));
            }
            d.tick(at(s, 900));
        }
        for s in 6..12 {
            d.tick(at(s, 500));
        }
        let events = d.take_events();
        let kinds: Vec<EventKind> = events.iter().map(|e| e.event).collect();
        assert_eq!(kinds.first(), Some(&EventKind::Start));
        assert_eq!(kinds.last(), Some(&EventKind::End));
        assert!(kinds.contains(&EventKind::Update), "{kinds:?}");
        assert_eq!(kinds.iter().filter(|k| **k == EventKind::End).count(), 1);
        let end = events.last().unwrap();
        assert!(events.iter().all(|e| e.id == end.id && e.key == end.key));
        assert_eq!(end.peak.pps, 30_000);
        assert_eq!(end.totals.packets, 3 * 20_000 + 3 * 30_000);
        assert_eq!(end.totals.syn_only, end.totals.packets);
        // Ended 4 s after the last second over (quiet 3 s).
        assert_eq!(end.ended, Some(at(9, 500)));
        assert_eq!(d.stats().attacks_active, 0);
        // A new attack later is a new id.
        for i in 0..20 {
            d.record(&flow("100.69.0.1", "192.0.2.7", 6, 1000, 80, 0x02, 1000), at(20, i));
        }
        let again = d.take_events();
        assert_eq!(starts(&again).len(), 1);
        assert_ne!(again[0].id, end.id);
    }

    #[test]
    fn hold_secs_waits_for_consecutive_seconds() {
        let mut c = config();
        c.hold_secs = 3;
        let mut d = Detector::new(c);
        let burst = |d: &mut Detector, s: i64| {
            for i in 0..11 {
                d.record(&flow("100.70.0.1", "192.0.2.3", 17, 9, 9, 0, 1000), at(s, i));
            }
            d.tick(at(s, 900));
        };
        burst(&mut d, 0);
        burst(&mut d, 1);
        // A gap resets the run.
        burst(&mut d, 3);
        burst(&mut d, 4);
        assert!(d.take_events().is_empty());
        burst(&mut d, 5);
        let events = d.take_events();
        assert_eq!(starts(&events).len(), 1);
        assert_eq!(events[0].started, at(5, 10));
    }

    #[test]
    fn hosts_far_from_their_thresholds_keep_no_sources_or_samples() {
        let mut d = Detector::new(config());
        // 2000 pps is under a quarter of the host threshold (10000).
        for i in 0..20u8 {
            d.record(&flow(&format!("198.51.100.{i}"), "192.0.2.5", 6, 40000, 443, 0x18, 100), at(0, i64::from(i)));
        }
        let quiet = d.hosts.get(&"192.0.2.5".parse::<IpAddr>().unwrap()).unwrap();
        assert_eq!((quiet.cur.packets, quiet.watch.is_none()), (2000, true));
        // Past 2500 pps the host is watched: the record that crossed is kept.
        d.record(&flow("203.0.113.9", "192.0.2.5", 6, 40000, 443, 0x18, 600), at(0, 30));
        let watched = d.hosts.get(&"192.0.2.5".parse::<IpAddr>().unwrap()).unwrap().watch.as_ref().unwrap();
        assert_eq!(watched.top.top()[0].addr.to_string(), "203.0.113.9");
        assert_eq!(watched.samples.len(), 1);
    }

    #[test]
    fn groups_far_from_their_limits_keep_no_sources_and_the_gate_is_exact() {
        let mut d = Detector::new(config());
        // 12 000 pps to a group of limit 50 000: under a quarter.
        for i in 0..12u8 {
            d.record(&flow(&format!("198.51.100.{i}"), "192.0.2.7", 17, 4000, 53, 0, 1000), at(0, i64::from(i)));
        }
        assert_eq!(d.groups[0].meter.watch.top.len(), 0);
        d.record(&flow("203.0.113.4", "192.0.2.8", 17, 4000, 53, 0, 1000), at(0, 20));
        assert_eq!(d.groups[0].meter.watch.top.top()[0].addr.to_string(), "203.0.113.4");
        // A count is over a real limit exactly when it is over its floor.
        let mut gate = Gate::OPEN;
        gate.lower_pps(1000.5);
        assert!(!gate.crossed(Rates { pps: 1000, bps: 0, flows: 0 }));
        assert!(gate.crossed(Rates { pps: 1001, bps: 0, flows: 0 }));
        gate.lower_bps(f64::NAN);
        assert!(gate.crossed(Rates { pps: 0, bps: 1, flows: 0 }));
        assert_eq!(Gate::of(&Thresholds { pps: 0, bps: 8, flows: 0 }), Gate { pps: u64::MAX, bps: 8, flows: u64::MAX });
    }

    #[test]
    fn baseline_deviation_flags_abnormal_group_traffic() {
        let mut c = config();
        c.baseline_warmup_secs = 10;
        c.ewma_alpha = 0.2;
        if let Some(g) = c.groups.first_mut() {
            g.baseline_factor = 3.0;
            g.baseline_floor_pps = 1000;
            g.group = Thresholds::default();
            g.host = Thresholds::default();
            // A profile too, but no slot of it is ready: the EWMA judges.
            g.profile_factor = 2.0;
        }
        let mut d = Detector::new(c);
        normal(&mut d, 30); // 2800 pps
        assert!(d.take_events().is_empty());
        let rates = d.group_rates();
        assert!(rates[0].baseline_ready);
        assert!((rates[0].baseline_pps - 2800.0).abs() < 100.0, "{rates:?}");
        // 4 × the usual, spread over 40 hosts.
        for h in 10..50 {
            d.record(&flow("198.51.100.20", &format!("192.0.2.{h}"), 17, 40000, 5000, 0, 280), at(30, h));
        }
        let events = d.take_events();
        let s = starts(&events);
        assert_eq!(s.len(), 1, "{events:#?}");
        assert!(s[0].reason.starts_with("group baseline 3"), "{}", s[0].reason);
        assert_eq!(s[0].scope, Scope::Group);
    }

    #[test]
    fn records_in_batches_count_as_one_by_one_through_evictions_and_attacks() {
        let mut c = config();
        c.max_hosts = 40;
        let (mut one, mut batched) = (Detector::new(c.clone()), Detector::new(c));
        let mut state = 7u32;
        for sec in 0..6i64 {
            let mut batch = Vec::new();
            for i in 0..3000u32 {
                state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                // 100 destinations for a table of 40 (evictions within a
                // run), and one host flooded with SYNs.
                let (dst, proto, flags, packets) = if i % 4 == 0 {
                    ("192.0.2.250".to_string(), 6, 0x02, 40)
                } else {
                    (format!("192.0.2.{}", (state >> 16) % 100), 17, 0, u64::from(state % 50) + 1)
                };
                let r = flow(&format!("198.51.100.{}", state % 200), &dst, proto, 1024, 80, flags, packets);
                let at = at(sec, i64::from(i / 4));
                one.record(&r, at);
                batch.push((r, at));
            }
            for run in batch.chunks(45) {
                batched.record_batch(run);
            }
            one.tick(at(sec, 999));
            batched.tick(at(sec, 999));
            assert_eq!(batched.take_events(), one.take_events(), "second {sec}");
            assert_eq!(batched.last_second(10), one.last_second(10));
        }
        let stats = batched.stats();
        assert!(stats.evicted_hosts > 100 && stats.attacks_started >= 1, "{stats:?}");
        assert_eq!(stats, one.stats());
    }

    #[test]
    fn memory_stays_bounded_under_a_spoofed_flood_of_sources_and_destinations() {
        let mut c = config();
        c.groups[0].prefixes = vec!["10.0.0.0/8".parse().unwrap()];
        c.groups[0].host.pps = 0;
        // 100 000 pps: watched (over a quarter), not over.
        c.groups[0].group.pps = 200_000;
        c.max_hosts = 1000;
        let mut d = Detector::new(c);
        // A million distinct sources to 100 000 distinct destinations.
        for i in 0..1_000_000u32 {
            let mut r = flow("1.1.1.1", "10.0.0.1", 17, 1, 1, 0, 1);
            r.src = IpAddr::from((0x6400_0000 + i).to_be_bytes());
            r.dst = IpAddr::from((0x0a00_0000 + (i % 100_000)).to_be_bytes());
            d.record(&r, at(i64::from(i / 100_000), 0));
            if i % 100_000 == 99_999 {
                d.tick(at(i64::from(i / 100_000), 999));
            }
        }
        let st = d.stats();
        assert!(st.hosts <= 1000, "{st:?}");
        assert!(st.evicted_hosts > 90_000, "{st:?}");
        assert_eq!((st.untracked, st.attacks_started), (0, 0));
        // Top-N sketches are bounded by construction; the group's is full.
        assert_eq!(d.groups[0].meter.watch.top.len(), 10);
    }

    #[test]
    fn attacked_hosts_are_not_evicted() {
        let mut c = config();
        c.max_hosts = 8;
        let mut d = Detector::new(c);
        for i in 0..11 {
            d.record(&flow("100.71.0.1", "192.0.2.200", 17, 9, 9, 0, 1000), at(0, i));
        }
        assert_eq!(starts(&d.take_events()).len(), 1);
        for h in 0..100 {
            d.record(&flow("100.71.0.2", &format!("192.0.2.{h}"), 17, 9, 9, 0, 1), at(1, h));
        }
        assert!(d.hosts.contains(&"192.0.2.200".parse::<IpAddr>().unwrap()));
        assert!(d.stats().hosts <= 8);
    }

    /// Monday 2024-01-01 00:00 at +8 (the default offset), in unix seconds.
    const MONDAY: i64 = 1_704_038_400;
    const HOUR: i64 = 3600;
    const DAY: i64 = 24 * HOUR;
    const WEEK: i64 = 7 * DAY;

    /// One protected host (plus `.99` for attacks); the group judged by
    /// its hour-of-week profile alone (no EWMA rule), ready after 2 weeks.
    fn profile_config() -> ModelConfig {
        let c: ModelConfig = toml::from_str(
            r#"
            quiet_secs = 3
            profile_min_weeks = 2
            [[group]]
            name = "dc1"
            prefixes = ["192.0.2.0/24"]
            host = { pps = 60000 }
            baseline_floor_pps = 500
            profile_factor = 3.0
            "#,
        )
        .unwrap();
        c.validate().unwrap();
        c
    }

    /// `secs` seconds from unix second `from`: each second one flow of
    /// `pps(second)` packets to 192.0.2.1, then a tick.
    fn traffic(d: &mut Detector, from: i64, secs: i64, pps: impl Fn(i64) -> u64) {
        for s in from..from + secs {
            d.record(&flow("198.51.100.9", "192.0.2.1", 6, 40000, 443, 0x10, pps(s)), Timestamp(s * SEC + 100_000_000));
            d.tick(Timestamp(s * SEC + 900_000_000));
        }
    }

    /// The group's day: 1000 pps at night, 10 000 pps from 08:00 (local)
    /// on the dot.
    fn daily(s: i64) -> u64 {
        let local_hour = (s + 8 * HOUR).rem_euclid(DAY) / HOUR;
        if local_hour >= 8 { 10_000 } else { 1000 }
    }

    /// Tuesdays 00:00–10:00 of the first `weeks` weeks (the clock runs on
    /// through the silent rest of each week).
    fn tuesday_mornings(d: &mut Detector, weeks: i64) {
        for w in 0..weeks {
            traffic(d, MONDAY + w * WEEK + DAY, 10 * HOUR, daily);
        }
    }

    #[test]
    fn a_daily_peak_is_flagged_by_the_ewma_but_not_by_a_learnt_profile() {
        // The EWMA rule sees the 08:00 step as abnormal, every day.
        let mut ewma = profile_config();
        ewma.groups[0].profile_factor = 0.0;
        ewma.groups[0].baseline_factor = 3.0;
        let mut d = Detector::new(ewma);
        traffic(&mut d, MONDAY + DAY + 7 * HOUR, 2 * HOUR, daily);
        let events = d.take_events();
        let s = starts(&events);
        assert_eq!(s.len(), 1, "{events:#?}");
        assert_eq!((s[0].scope, s[0].reason.as_str()), (Scope::Group, "group baseline 3 × 1000 pps"));
        assert_eq!(s[0].started.secs(), MONDAY + DAY + 8 * HOUR);

        // The profile learns it in two weeks and then lets it pass.
        let mut d = Detector::new(profile_config());
        tuesday_mornings(&mut d, 2);
        assert!(d.take_events().is_empty());
        let p = d.group_profile("dc1").unwrap();
        let (night, peak) = (&p.slots[24 + 3], &p.slots[24 + 8]);
        assert_eq!((night.label.as_str(), night.samples, night.ready), ("Tue 03:00", 2, true));
        assert_eq!((night.pps.mean, peak.pps.mean), (1000.0, 10_000.0));
        assert_eq!(peak.bps.mean, 10_000.0 * 60.0 * 8.0);
        assert_eq!(p.slots[24 + 10].samples, 1, "one silent week learnt so far");
        traffic(&mut d, MONDAY + 2 * WEEK + DAY + 7 * HOUR, 2 * HOUR, daily);
        assert!(d.take_events().is_empty());
        assert_eq!(d.group_profile("dc1").unwrap().current, Some(24 + 8));

        // Three times the peak at 08:00 is still an attack.
        traffic(&mut d, MONDAY + 2 * WEEK + DAY + 9 * HOUR, 5, |_| 31_000);
        let events = d.take_events();
        let s = starts(&events);
        assert_eq!(s.len(), 1, "{events:#?}");
        assert_eq!(s[0].reason, "group profile Tue 09:00 3 × 10000 pps");
    }

    #[test]
    fn a_night_surge_under_the_daytime_limit_is_flagged_by_the_night_profile() {
        let mut d = Detector::new(profile_config());
        tuesday_mornings(&mut d, 2);
        // 8000 pps: under 3 × the daytime 10 000, 8 × the night's usual.
        let night = MONDAY + 2 * WEEK + DAY + 3 * HOUR;
        traffic(&mut d, night, 600, daily);
        assert!(d.take_events().is_empty());
        traffic(&mut d, night + 600, 10, |_| 8000);
        let events = d.take_events();
        let s = starts(&events);
        assert_eq!(s.len(), 1, "{events:#?}");
        assert_eq!(s[0].reason, "group profile Tue 03:00 3 × 1000 pps");
        assert_eq!(s[0].started.secs(), night + 600);
        // The same rate in the day is usual traffic.
        let mut d = Detector::new(profile_config());
        tuesday_mornings(&mut d, 2);
        traffic(&mut d, MONDAY + 2 * WEEK + DAY + 9 * HOUR, 10, |_| 8000);
        assert!(d.take_events().is_empty());
    }

    #[test]
    fn attack_traffic_is_not_learnt() {
        let flood = |d: &mut Detector, sec: i64| {
            d.record(&flow("100.72.0.1", "192.0.2.99", 17, 123, 4444, 0, 100_000), Timestamp(sec * SEC));
        };
        let mut d = Detector::new(profile_config());
        tuesday_mornings(&mut d, 1);
        // Week 2, Tuesday 03:00–03:30: a host flood of 100 000 pps on top
        // of the usual 1000; the rest of the hour is quiet.
        let t = MONDAY + WEEK + DAY;
        traffic(&mut d, t, 3 * HOUR, daily);
        for sec in t + 3 * HOUR..t + 3 * HOUR + 1800 {
            flood(&mut d, sec);
            traffic(&mut d, sec, 1, daily);
        }
        traffic(&mut d, t + 3 * HOUR + 1800, 6 * HOUR + 1800, daily);
        let events = d.take_events();
        assert_eq!(starts(&events).len(), 1, "{events:#?}");
        assert_eq!((events[0].scope, events[0].victim.as_str()), (Scope::Host, "192.0.2.99"));
        assert_eq!(events.last().map(|e| e.event), Some(EventKind::End));
        let p = d.group_profile("dc1").unwrap();
        let slot = &p.slots[24 + 3];
        // The quiet half hour was learnt (more than a quarter of the hour),
        // the attacked half was not.
        assert_eq!(slot.samples, 2);
        assert_eq!(slot.pps.mean, 1000.0, "{slot:?}");
        // Nor does the EWMA learn it.
        let mut c = profile_config();
        c.groups[0].profile_factor = 0.0;
        let mut d = Detector::new(c);
        traffic(&mut d, t, 1200, daily);
        for sec in t + 1200..t + 1800 {
            flood(&mut d, sec);
            d.tick(Timestamp(sec * SEC + 1));
        }
        let ewma = d.group_rates()[0].baseline_pps;
        assert!((ewma - 1000.0).abs() < 1.0, "{ewma}");
    }

    #[test]
    fn seeding_from_minutes_gives_a_ready_profile() {
        let mut c = profile_config();
        c.groups[0].profile_deviations = 4.0;
        let mut d = Detector::new(c);
        // Three weeks of per-minute history of Tuesday 03:00 (local): 900
        // to 1100 pps; minutes of the 04:00 hour only for 10 minutes.
        let mut points = Vec::new();
        for w in 0..3 {
            let hour = MONDAY + w * WEEK + DAY + 3 * HOUR;
            for m in 0..60 {
                points.push((hour + m * 60, if m % 2 == 0 { 900.0 } else { 1100.0 }, 8e6));
            }
            for m in 0..10 {
                points.push((hour + HOUR + m * 60, 1000.0, 8e6));
            }
        }
        points.reverse();
        assert_eq!(d.seed_profile_minutes("dc1", points), Ok(3));
        let p = d.group_profile("dc1").unwrap();
        let slot = &p.slots[24 + 3];
        assert_eq!((slot.samples, slot.ready), (3, true));
        assert!((slot.pps.mean - 1000.0).abs() < 1e-6 && (slot.pps.spread - 100.0).abs() < 1e-6, "{slot:?}");
        assert_eq!(p.slots[24 + 4].samples, 0, "10 minutes are not an hour");
        // Used at once: over max(3 × 1000, 1000 + 4 × 100).
        let t = MONDAY + 3 * WEEK + DAY + 3 * HOUR;
        traffic(&mut d, t, 5, |_| 2900);
        assert!(d.take_events().is_empty());
        traffic(&mut d, t + 5, 1, |_| 3100);
        let events = d.take_events();
        assert_eq!(starts(&events).first().map(|e| e.reason.as_str()), Some("group profile Tue 03:00 3 × 1000 pps"));

        // A slot set directly, with a spread that makes the higher limit.
        let mut d = Detector::new(d.config().clone());
        let seeded = Slot {
            pps: profile::Estimate { mean: 1000.0, spread: 800.0 },
            bps: profile::Estimate::default(),
            samples: 2,
        };
        d.seed_profile("dc1", 24 + 3, seeded).unwrap();
        traffic(&mut d, t, 1, |_| 4300);
        let events = d.take_events();
        assert_eq!(
            starts(&events).first().map(|e| e.reason.as_str()),
            Some("group profile Tue 03:00 1000 + 4 × 800 pps")
        );

        // Bad input is refused, naming what.
        assert_eq!(d.seed_profile("dc9", 0, seeded), Err(ProfileError::UnknownGroup("dc9".into())));
        assert_eq!(d.seed_profile("dc1", 168, seeded), Err(ProfileError::BadSlot(168)));
        let nan = Slot { pps: profile::Estimate { mean: f64::NAN, spread: 0.0 }, ..seeded };
        assert_eq!(d.seed_profile("dc1", 3, nan), Err(ProfileError::BadSlotValue(3)));
        assert_eq!(d.seed_profile_minutes("dc1", [(60, -1.0, 0.0)]), Err(ProfileError::BadPoint { minute: 60 }));
        assert!(d.group_profile("dc9").is_none());
    }

    #[test]
    fn the_profile_judges_bps_only_with_a_bps_floor() {
        let mut c = profile_config();
        c.groups[0].profile_floor_bps = 1_000_000;
        let mut d = Detector::new(c.clone());
        let usual = Slot {
            pps: profile::Estimate { mean: 1000.0, spread: 0.0 },
            bps: profile::Estimate { mean: 1000.0 * 480.0, spread: 0.0 },
            samples: 2,
        };
        d.seed_profile("dc1", 24 + 3, usual).unwrap();
        let t = MONDAY + DAY + 3 * HOUR;
        // The usual packet rate in 25 times bigger packets.
        let big = |d: &mut Detector, sec: i64| {
            let mut r = flow("198.51.100.9", "192.0.2.1", 17, 443, 40000, 0, 1000);
            r.set_counts(1000, 1000 * 1500, 1);
            d.record(&r, Timestamp(sec * SEC));
        };
        big(&mut d, t);
        let events = d.take_events();
        assert_eq!(starts(&events).first().map(|e| e.reason.as_str()), Some("group profile Tue 03:00 3 × 480000 bps"));
        c.groups[0].profile_floor_bps = 0;
        let mut d = Detector::new(c);
        d.seed_profile("dc1", 24 + 3, usual).unwrap();
        big(&mut d, t);
        assert!(d.take_events().is_empty());
    }
}
