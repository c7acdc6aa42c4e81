//! The [`Detector`]: flow records in, [`AttackEvent`]s out. Pure state, no
//! I/O; time is a parameter (the receive time of each record, and `now`
//! for [`Detector::tick`]).
//!
//! Per protected host and per group it keeps the current one-second
//! bucket ([`Counters`]), top sources (per host) and top destinations
//! (per group) in space-saving sketches, and per group an EWMA baseline of
//! the per-second rates. Buckets are judged while they fill: counts only
//! grow within a second, so the moment a bucket's running count passes a
//! threshold the second is over it. With `hold_secs = 1` (the default) an
//! attack starts on the record that crosses the threshold, well inside the
//! one second after the first attack flow the issue asks for; with
//! `hold_secs = N` it starts in the N-th consecutive second over.
//!
//! Over means: a static threshold of the host (or group) exceeded (pps,
//! bps, flows/s), or for a group, its pps over max(`baseline_floor_pps`,
//! `baseline_factor` × EWMA baseline) once the baseline has seen
//! `baseline_warmup_secs` seconds. The baseline is a plain EWMA of every
//! second not under attack (idle seconds count as zero); a per-hour-of-week
//! profile would keep 168 such EWMAs per group, each fed by the seconds of
//! its hour and compared in the same way (not built).
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
//! Bounds: hosts tracked ≤ `max_hosts` (the idle are evicted first, then
//! the least recently seen not under attack; records for hosts that cannot
//! be tracked still count in their group); top-N sketches and samples have
//! fixed sizes; groups come from the configuration. A spoofed-source flood
//! adds nothing but counts.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use anbao_net::Timestamp;
use serde::Serialize;

use crate::aggregate::{Counters, Rates, Talker, TopN};
use crate::groups::{Actions, GroupIndex, HostGroup, ModelConfig, Thresholds};
use crate::record::FlowRecord;

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

/// A bucket with its over-threshold run.
#[derive(Debug, Clone)]
struct Meter {
    sec: i64,
    cur: Counters,
    last: Counters,
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

impl Meter {
    fn new(sec: i64, top_n: usize) -> Self {
        Meter {
            sec,
            cur: Counters::default(),
            last: Counters::default(),
            run: 0,
            last_over: i64::MIN,
            attack: None,
            totals: Counters::default(),
            peak: Rates::default(),
            top: TopN::new(top_n),
            samples: Vec::new(),
        }
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
        if self.attack.is_some() {
            self.totals.merge(&done);
            self.peak = self.peak.max(done.rates());
        } else {
            self.top.clear();
            self.samples.clear();
        }
        (done, gap)
    }

    /// Records that the current second is over; true when the run reaches
    /// `hold` seconds.
    fn over(&mut self, hold: u32) -> bool {
        if self.last_over != self.sec {
            self.run = if self.last_over == self.sec - 1 { self.run.saturating_add(1) } else { 1 };
            self.last_over = self.sec;
        }
        self.run >= hold
    }
}

fn exceeds(c: &Counters, t: &Thresholds) -> Option<String> {
    let r = c.rates();
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
struct Host {
    meter: Meter,
}

#[derive(Debug, Clone)]
struct Group {
    meter: Meter,
    top_dst: TopN,
    ewma_pps: f64,
    ewma_bps: f64,
    seen_secs: u32,
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
    /// Keyed by attacker-chosen addresses (any destination inside a
    /// protected prefix): foldhash with a per-process random seed.
    hosts: HashMap<IpAddr, Host, foldhash::fast::RandomState>,
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
                top_dst: TopN::new(config.top_n),
                ewma_pps: 0.0,
                ewma_bps: 0.0,
                seen_secs: 0,
            })
            .collect();
        Detector {
            config,
            index,
            groups,
            hosts: HashMap::default(),
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
        if let Some(host) = self.host(r.dst, sec) {
            let m = &mut host.meter;
            m.roll(sec);
            m.cur.add(r);
            m.top.add(r.src, r.packets, r.bytes);
            if m.samples.len() < samples {
                m.samples.push(FlowSample::from(r));
            }
            if let Some(why) = exceeds(&m.cur, &host_limits) {
                let attacked = m.attack.is_some();
                if m.over(if attacked { 1 } else { hold }) && !attacked {
                    self.start(Scope::Host, Some(r.dst), gi, format!("host {why}"), now);
                }
            }
        } else {
            self.stats.untracked += 1;
        }
        let Some(group) = self.groups.get_mut(gi) else { return };
        let (done, gap) = group.meter.roll(sec);
        if gap > 0 {
            feed_baseline(group, &done, gap, self.config.ewma_alpha);
        }
        let m = &mut group.meter;
        m.cur.add(r);
        m.top.add(r.src, r.packets, r.bytes);
        group.top_dst.add(r.dst, r.packets, r.bytes);
        if m.samples.len() < self.config.samples {
            m.samples.push(FlowSample::from(r));
        }
        let Some(cfg) = self.config.groups.get(gi) else { return };
        let Some(why) = group_over(group, cfg, self.config.baseline_warmup_secs) else { return };
        let m = &mut group.meter;
        let hold = if m.attack.is_some() { 1 } else { self.config.hold_secs };
        if !m.over(hold) || m.attack.is_some() {
            return;
        }
        // Explained by attacked hosts of the group?
        let group_packets = m.cur.packets;
        let attacked: u64 = self
            .attacks
            .values()
            .filter(|a| a.group == gi && a.scope == Scope::Host)
            .filter_map(|a| a.target.and_then(|t| self.hosts.get(&t)))
            .filter(|h| h.meter.sec == sec)
            .map(|h| h.meter.cur.packets)
            .sum();
        if attacked.saturating_mul(2) >= group_packets {
            return;
        }
        self.start(Scope::Group, None, gi, format!("group {why}"), now);
    }

    /// The host's state, made (and room made) if needed; `None` when the
    /// table is full of hosts under attack.
    fn host(&mut self, ip: IpAddr, sec: i64) -> Option<&mut Host> {
        // One hash per record while the table has room (the usual case);
        // a full table first checks whether room must be made.
        if self.hosts.len() >= self.config.max_hosts && !self.hosts.contains_key(&ip) {
            self.evict(sec);
            if self.hosts.len() >= self.config.max_hosts {
                return None;
            }
        }
        let top_n = self.config.top_n;
        Some(self.hosts.entry(ip).or_insert_with(|| Host { meter: Meter::new(sec, top_n) }))
    }

    /// Drops idle hosts, or else the least recently seen eighth of the
    /// table, never a host under attack.
    fn evict(&mut self, sec: i64) {
        let before = self.hosts.len();
        self.hosts.retain(|_, h| h.meter.attack.is_some() || h.meter.sec > sec.saturating_sub(IDLE_SECS));
        if self.hosts.len() >= self.config.max_hosts {
            let mut seen: Vec<i64> =
                self.hosts.values().filter(|h| h.meter.attack.is_none()).map(|h| h.meter.sec).collect();
            let k = (self.config.max_hosts / 8).max(1).min(seen.len());
            if k > 0 {
                let (_, cut, _) = seen.select_nth_unstable(k - 1);
                let cut = *cut;
                let mut left = k;
                self.hosts.retain(|_, h| {
                    if left > 0 && h.meter.attack.is_none() && h.meter.sec <= cut {
                        left -= 1;
                        false
                    } else {
                        true
                    }
                });
            }
        }
        self.stats.evicted_hosts += (before - self.hosts.len()) as u64;
    }

    fn start(&mut self, scope: Scope, target: Option<IpAddr>, gi: usize, reason: String, now: Timestamp) {
        let Some(cfg) = self.config.groups.get(gi) else { return };
        let id = self.next_id;
        self.next_id += 1;
        let (meter, top_dst) = match target {
            Some(ip) => match self.hosts.get_mut(&ip) {
                Some(h) => (&mut h.meter, None),
                None => return,
            },
            None => match self.groups.get_mut(gi) {
                Some(g) => (&mut g.meter, Some(&g.top_dst)),
                None => return,
            },
        };
        meter.attack = Some(id);
        meter.totals = Counters::default();
        meter.peak = meter.cur.rates();
        let (vector, service) = classify(&meter.cur);
        let carpet = top_dst.is_some_and(|t| {
            t.top().first().is_none_or(|d| d.packets.saturating_mul(2) < meter.cur.packets) && t.len() > 1
        });
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
        let event = make_event(&attack, EventKind::Start, now, None, meter, top_dst, cfg);
        self.events.push(event);
        self.attacks.insert(id, attack);
    }

    /// Moves the clock to `now`: rolls buckets, feeds baselines, emits
    /// updates and ends. Call it a few times a second (the collector does
    /// after each batch of datagrams and at least every 100 ms).
    pub fn tick(&mut self, now: Timestamp) {
        self.now_sec = self.now_sec.max(now.secs());
        let sec = self.now_sec;
        for g in &mut self.groups {
            if g.meter.sec == i64::MIN {
                continue;
            }
            let (done, gap) = g.meter.roll(sec);
            if gap > 0 {
                feed_baseline(g, &done, gap, self.config.ewma_alpha);
            }
        }
        let mut ended = Vec::new();
        for attack in self.attacks.values_mut() {
            let Some(cfg) = self.config.groups.get(attack.group) else { continue };
            let (meter, top_dst) = match attack.target {
                Some(ip) => match self.hosts.get_mut(&ip) {
                    Some(h) => (&mut h.meter, None),
                    None => continue,
                },
                None => match self.groups.get_mut(attack.group) {
                    Some(g) => (&mut g.meter, Some(&g.top_dst)),
                    None => continue,
                },
            };
            meter.roll(sec);
            let quiet = i64::from(self.config.quiet_secs.max(1));
            if sec.saturating_sub(meter.last_over) > quiet {
                let event = make_event(attack, EventKind::End, now, Some(now), meter, top_dst, cfg);
                self.events.push(event);
                meter.attack = None;
                meter.run = 0;
                meter.top.clear();
                meter.samples.clear();
                ended.push(attack.id);
            } else if sec.saturating_sub(attack.last_update) >= i64::from(self.config.update_secs.max(1)) {
                attack.last_update = sec;
                let event = make_event(attack, EventKind::Update, now, None, meter, top_dst, cfg);
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
}

fn group_over(g: &Group, cfg: &HostGroup, warmup: u32) -> Option<String> {
    if let Some(why) = exceeds(&g.meter.cur, &cfg.group) {
        return Some(why);
    }
    if cfg.baseline_factor > 0.0 && g.seen_secs >= warmup {
        let limit = (cfg.baseline_factor * g.ewma_pps).max(cfg.baseline_floor_pps as f64);
        if g.meter.cur.packets as f64 > limit {
            return Some(format!("baseline {} × {:.0} pps", cfg.baseline_factor, g.ewma_pps));
        }
    }
    None
}

/// Feeds a finished second (and `gap - 1` silent ones) to the baseline,
/// unless the group is under attack.
fn feed_baseline(g: &mut Group, done: &Counters, gap: i64, alpha: f64) {
    if g.meter.attack.is_some() {
        return;
    }
    let idle = gap.saturating_sub(1).min(100_000) as i32;
    let keep = (1.0 - alpha).powi(idle);
    g.ewma_pps *= keep;
    g.ewma_bps *= keep;
    let r = done.rates();
    g.ewma_pps = alpha * r.pps as f64 + (1.0 - alpha) * g.ewma_pps;
    g.ewma_bps = alpha * r.bps as f64 + (1.0 - alpha) * g.ewma_bps;
    g.seen_secs = g.seen_secs.saturating_add(u32::try_from(gap).unwrap_or(u32::MAX));
    if g.meter.sec != i64::MIN {
        g.top_dst.clear();
    }
}

fn make_event(
    a: &Attack,
    event: EventKind,
    now: Timestamp,
    ended: Option<Timestamp>,
    meter: &Meter,
    top_dst: Option<&TopN>,
    cfg: &HostGroup,
) -> AttackEvent {
    let mut totals = meter.totals;
    totals.merge(&meter.cur);
    let rate = meter.cur.rates();
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
        peak: meter.peak.max(rate),
        totals,
        top_sources: meter.top.top(),
        top_destinations: top_dst.map(|t| t.top()).unwrap_or_default(),
        samples: meter.samples.clone(),
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
    fn baseline_deviation_flags_abnormal_group_traffic() {
        let mut c = config();
        c.baseline_warmup_secs = 10;
        c.ewma_alpha = 0.2;
        if let Some(g) = c.groups.first_mut() {
            g.baseline_factor = 3.0;
            g.baseline_floor_pps = 1000;
            g.group = Thresholds::default();
            g.host = Thresholds::default();
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
    fn memory_stays_bounded_under_a_spoofed_flood_of_sources_and_destinations() {
        let mut c = config();
        c.groups[0].prefixes = vec!["10.0.0.0/8".parse().unwrap()];
        c.groups[0].host.pps = 0;
        c.groups[0].group.pps = 0;
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
        assert_eq!(st.untracked, 0);
        // Top-N sketches are bounded by construction; the group's is full.
        assert_eq!(d.groups[0].meter.top.len(), 10);
        assert_eq!(d.groups[0].top_dst.len(), 10);
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
        assert!(d.hosts.contains_key(&"192.0.2.200".parse::<IpAddr>().unwrap()));
        assert!(d.stats().hosts <= 8);
    }
}
