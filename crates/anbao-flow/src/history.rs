//! Traffic history: per-minute rows of each group and of a bounded set of
//! its hosts, built from the detector's finished seconds, for the charts
//! of `/flows/groups/{name}` and `/flows/hosts/{addr}` (the binary stores
//! them; the server reads them back).
//!
//! [`Detector::last_second`](crate::Detector::last_second) hands out the
//! second before the detector's clock as a [`TrafficSecond`]: every
//! group's [`Counters`] and, per group, at most `top` hosts by bytes plus
//! at most `top` hosts under attack. [`TrafficMinutes`] folds those seconds
//! into minutes (unix seconds at the start of the minute) and, when a
//! second of a later minute arrives, gives back the finished minute's
//! [`TrafficRow`]s: one per group (every group, every minute, idle ones
//! with zeros), and per group the top [`HistoryConfig::top_hosts`] hosts of
//! the minute by bytes plus the hosts under attack in it (at most
//! [`HistoryConfig::attack_hosts`] more).
//!
//! Rows hold the minute's totals and the seconds it covered (60, fewer for
//! the minute the accumulator started in), so averages are exact and
//! minutes add up into longer points. A host's totals count the seconds it
//! was in its group's per-second list: a host that is in the minute's top
//! is almost always in the top of its seconds, and a quiet host that is
//! not is not recorded at all. Seconds never handed in (a clock that
//! jumped) count as silent.
//!
//! Bounds: per group and minute at most `4 × top_hosts + attack_hosts`
//! hosts are kept; a newcomer to a full table replaces the smallest host
//! not under attack when it has more bytes (or is under attack), else it is
//! dropped and counted. Groups come from the configuration. A spoofed-source
//! flood adds nothing (sources are not recorded); a carpet bombing of a /16
//! adds at most the bound per minute.

use std::collections::HashMap;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::aggregate::Counters;

/// Seconds in a minute.
pub const MINUTE: i64 = 60;

/// The start of the minute of unix second `sec`.
pub fn minute_of(sec: i64) -> i64 {
    sec.div_euclid(MINUTE) * MINUTE
}

/// How many hosts each group's minute records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HistoryConfig {
    /// Hosts recorded per group and minute: the top by bytes.
    pub top_hosts: usize,
    /// Hosts under attack recorded per group and minute besides the top.
    pub attack_hosts: usize,
}

impl Default for HistoryConfig {
    fn default() -> Self {
        HistoryConfig { top_hosts: 20, attack_hosts: 100 }
    }
}

impl HistoryConfig {
    /// Hosts the detector should list per group and second.
    pub fn per_second(&self) -> usize {
        self.top_hosts.max(1).saturating_mul(2)
    }

    fn host_cap(&self) -> usize {
        self.top_hosts.max(1).saturating_mul(4).saturating_add(self.attack_hosts)
    }
}

/// One host's finished second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostSecond {
    pub addr: IpAddr,
    pub counters: Counters,
    /// Under attack (a host-scope attack of the detector) in this second.
    pub attacked: bool,
}

/// One group's finished second.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupSecond {
    pub name: String,
    pub counters: Counters,
    /// The detector has counted a record of the group since it started (a
    /// bus worker sees only its partition's groups: it records only these).
    pub active: bool,
    /// A group-scope attack (carpet bombing, baseline) in this second.
    pub attacked: bool,
    /// Its top hosts by bytes, then its hosts under attack; bounded.
    pub hosts: Vec<HostSecond>,
}

/// One finished second of every group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrafficSecond {
    /// Unix second.
    pub sec: i64,
    /// In the configuration's order.
    pub groups: Vec<GroupSecond>,
}

/// A finished minute of a group (`host: None`) or of one of its hosts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrafficRow {
    pub group: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<IpAddr>,
    /// Unix seconds at the start of the minute.
    pub minute: i64,
    /// Seconds of the minute the totals cover (60, or fewer for the first
    /// minute of an accumulator).
    pub seconds: u32,
    /// Totals over the minute (packets, bytes, flows, protocol split).
    pub totals: Counters,
    /// Highest one-second packets and bits of the minute.
    pub peak_pps: u64,
    pub peak_bps: u64,
    /// Under attack in some second of the minute.
    pub attacked: bool,
}

#[derive(Debug, Clone, Default)]
struct Acc {
    totals: Counters,
    peak_pps: u64,
    peak_bps: u64,
    attacked: bool,
}

impl Acc {
    fn add(&mut self, c: &Counters, attacked: bool) {
        self.totals.merge(c);
        let r = c.rates();
        self.peak_pps = self.peak_pps.max(r.pps);
        self.peak_bps = self.peak_bps.max(r.bps);
        self.attacked |= attacked;
    }
}

#[derive(Debug, Clone, Default)]
struct GroupMinute {
    acc: Acc,
    hosts: HashMap<IpAddr, Acc, foldhash::fast::RandomState>,
}

/// Folds finished seconds into per-minute rows; see the module doc.
#[derive(Debug, Clone)]
pub struct TrafficMinutes {
    config: HistoryConfig,
    /// The minute being filled (`None`: nothing handed in yet).
    minute: Option<i64>,
    /// The first second handed in to the current minute's accumulator life.
    first_sec: i64,
    last_sec: i64,
    groups: Vec<(String, GroupMinute)>,
    dropped_hosts: u64,
}

impl TrafficMinutes {
    pub fn new(config: HistoryConfig) -> Self {
        TrafficMinutes {
            config,
            minute: None,
            first_sec: i64::MIN,
            last_sec: i64::MIN,
            groups: Vec::new(),
            dropped_hosts: 0,
        }
    }

    pub fn config(&self) -> HistoryConfig {
        self.config
    }

    /// Host seconds dropped because a group's minute table was full.
    pub fn dropped_hosts(&self) -> u64 {
        self.dropped_hosts
    }

    /// Takes one finished second (a second already taken, or older, is
    /// ignored); returns the rows of the minute it finished, if any.
    pub fn feed(&mut self, s: &TrafficSecond) -> Vec<TrafficRow> {
        if s.sec <= self.last_sec {
            return Vec::new();
        }
        let minute = minute_of(s.sec);
        let mut done = Vec::new();
        match self.minute {
            None => {
                self.first_sec = s.sec;
                self.minute = Some(minute);
            }
            Some(m) if m != minute => {
                done = self.finish();
                self.minute = Some(minute);
            }
            Some(_) => {}
        }
        self.last_sec = s.sec;
        let cap = self.config.host_cap();
        let attack_cap = self.config.attack_hosts;
        for g in &s.groups {
            let gm = match self.groups.iter().position(|(n, _)| *n == g.name) {
                Some(i) => match self.groups.get_mut(i) {
                    Some((_, gm)) => gm,
                    None => continue,
                },
                None => {
                    self.groups.push((g.name.clone(), GroupMinute::default()));
                    match self.groups.last_mut() {
                        Some((_, gm)) => gm,
                        None => continue,
                    }
                }
            };
            gm.acc.add(&g.counters, g.attacked);
            for h in &g.hosts {
                if let Some(acc) = gm.hosts.get_mut(&h.addr) {
                    acc.add(&h.counters, h.attacked);
                    continue;
                }
                if gm.hosts.len() >= cap && !make_room(&mut gm.hosts, h, attack_cap) {
                    self.dropped_hosts += 1;
                    continue;
                }
                gm.hosts.entry(h.addr).or_default().add(&h.counters, h.attacked);
            }
        }
        done
    }

    /// The group rows of the minute being filled, over the seconds handed
    /// in so far (a live chart's last point; the finished minute replaces
    /// them). Host rows wait for the minute's end: its top is not known yet.
    pub fn partial(&self) -> Vec<TrafficRow> {
        let Some(minute) = self.minute else { return Vec::new() };
        let start = self.first_sec.max(minute);
        let seconds = u32::try_from((self.last_sec + 1 - start).clamp(1, MINUTE)).unwrap_or(60);
        self.groups.iter().map(|(name, gm)| row(name, None, minute, seconds, &gm.acc)).collect()
    }

    /// The rows of the minute being filled, and a fresh start; used by
    /// [`TrafficMinutes::feed`] when the minute is over. A group once handed
    /// in gets a row every minute (zeros when it had no traffic).
    fn finish(&mut self) -> Vec<TrafficRow> {
        let Some(minute) = self.minute else { return Vec::new() };
        let start = self.first_sec.max(minute);
        let seconds = u32::try_from((minute + MINUTE - start).clamp(1, MINUTE)).unwrap_or(60);
        let mut rows = Vec::new();
        let (top, attack_cap) = (self.config.top_hosts, self.config.attack_hosts);
        for (name, gm) in &mut self.groups {
            let acc = std::mem::take(&mut gm.acc);
            rows.push(row(name, None, minute, seconds, &acc));
            let mut hosts: Vec<(IpAddr, Acc)> = gm.hosts.drain().collect();
            hosts.sort_by(|a, b| b.1.totals.bytes.cmp(&a.1.totals.bytes).then(a.0.cmp(&b.0)));
            let mut attacked = 0usize;
            for (i, (addr, acc)) in hosts.iter().enumerate() {
                let keep = if i < top {
                    true
                } else if acc.attacked && attacked < attack_cap {
                    attacked += 1;
                    true
                } else {
                    false
                };
                if keep && (acc.totals.packets > 0 || acc.attacked) {
                    rows.push(row(name, Some(*addr), minute, seconds, acc));
                }
            }
        }
        rows
    }
}

/// Frees a place in a full host table for `h`: evicts the smallest host
/// not under attack when `h` has more bytes or is under attack (and the
/// attacked hosts are under their cap). False when `h` must be dropped.
fn make_room(hosts: &mut HashMap<IpAddr, Acc, foldhash::fast::RandomState>, h: &HostSecond, attack_cap: usize) -> bool {
    if h.attacked && hosts.values().filter(|a| a.attacked).count() >= attack_cap {
        return false;
    }
    let smallest = hosts
        .iter()
        .filter(|(_, a)| !a.attacked)
        .min_by_key(|(_, a)| a.totals.bytes)
        .map(|(k, a)| (*k, a.totals.bytes));
    match smallest {
        Some((addr, bytes)) if h.attacked || h.counters.bytes > bytes => {
            hosts.remove(&addr);
            true
        }
        _ => false,
    }
}

fn row(group: &str, host: Option<IpAddr>, minute: i64, seconds: u32, acc: &Acc) -> TrafficRow {
    TrafficRow {
        group: group.to_owned(),
        host,
        minute,
        seconds,
        totals: acc.totals,
        peak_pps: acc.peak_pps,
        peak_bps: acc.peak_bps,
        attacked: acc.attacked,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_764_000_000; // a minute boundary: 29 400 000 minutes

    fn counters(packets: u64) -> Counters {
        Counters { packets, bytes: packets * 100, flows: 1, udp: packets, syn_only: 0, ..Counters::default() }
    }

    fn host(addr: &str, packets: u64, attacked: bool) -> HostSecond {
        HostSecond { addr: addr.parse().unwrap(), counters: counters(packets), attacked }
    }

    fn second(sec: i64, groups: Vec<GroupSecond>) -> TrafficSecond {
        TrafficSecond { sec, groups }
    }

    fn group(name: &str, packets: u64, hosts: Vec<HostSecond>) -> GroupSecond {
        GroupSecond { name: name.into(), counters: counters(packets), active: true, attacked: false, hosts }
    }

    #[test]
    fn a_minute_gives_exact_totals_peaks_and_host_rows() {
        assert_eq!(T0 % 60, 0);
        let mut m = TrafficMinutes::new(HistoryConfig { top_hosts: 2, attack_hosts: 1 });
        for s in 0..60 {
            let packets = if s == 30 { 600 } else { 100 };
            let g = group("dc1", packets, vec![host("192.0.2.1", packets / 2, false), host("192.0.2.2", 10, false)]);
            assert!(m.feed(&second(T0 + s, vec![g, group("dc2", 0, vec![])])).is_empty());
        }
        // The same second again changes nothing.
        assert!(m.feed(&second(T0 + 59, vec![group("dc1", 1_000_000, vec![])])).is_empty());
        let rows = m.feed(&second(T0 + 60, vec![group("dc1", 5, vec![])]));
        let dc1 = rows.iter().find(|r| r.group == "dc1" && r.host.is_none()).unwrap();
        assert_eq!((dc1.minute, dc1.seconds), (T0, 60));
        assert_eq!(dc1.totals.packets, 59 * 100 + 600);
        assert_eq!(dc1.totals.bytes, (59 * 100 + 600) * 100);
        assert_eq!((dc1.peak_pps, dc1.peak_bps), (600, 600 * 800));
        let dc2 = rows.iter().find(|r| r.group == "dc2").unwrap();
        assert_eq!((dc2.totals.packets, dc2.host), (0, None), "idle groups have a row");
        let hosts: Vec<_> = rows.iter().filter(|r| r.host.is_some()).collect();
        assert_eq!(hosts.len(), 2);
        assert_eq!(hosts[0].host, Some("192.0.2.1".parse().unwrap()));
        assert_eq!(hosts[0].totals.packets, 59 * 50 + 300);
        assert_eq!(hosts[1].totals.packets, 600);
    }

    #[test]
    fn the_first_minute_covers_the_seconds_seen() {
        let mut m = TrafficMinutes::new(HistoryConfig::default());
        for s in 45..60 {
            m.feed(&second(T0 + s, vec![group("dc1", 60, vec![])]));
        }
        let rows = m.feed(&second(T0 + 61, vec![group("dc1", 60, vec![])]));
        assert_eq!((rows[0].seconds, rows[0].totals.packets), (15, 15 * 60));
        // A jump over whole minutes finishes the current one only.
        let rows = m.feed(&second(T0 + 600, vec![group("dc1", 1, vec![])]));
        assert_eq!((rows[0].minute, rows[0].seconds, rows[0].totals.packets), (T0 + 60, 60, 60));
    }

    #[test]
    fn hosts_are_bounded_and_attacked_hosts_are_kept() {
        let config = HistoryConfig { top_hosts: 3, attack_hosts: 2 };
        let mut m = TrafficMinutes::new(config);
        // A carpet bombing of a /16: each second a new set of 6 hosts
        // (the detector's list), plus three victims of host attacks.
        for s in 0..60i64 {
            let mut hosts: Vec<HostSecond> = (0..6)
                .map(|i| {
                    let n = s * 6 + i;
                    HostSecond {
                        addr: IpAddr::from([10, 0, (n / 256) as u8, (n % 256) as u8]),
                        // Half busy and growing, half tiny (dropped once full).
                        counters: counters(if i < 3 { 1000 + n as u64 } else { 1 }),
                        attacked: false,
                    }
                })
                .collect();
            for v in ["10.1.0.1", "10.1.0.2", "10.1.0.3"] {
                hosts.push(host(v, 1, true));
            }
            m.feed(&second(T0 + s, vec![group("dc1", 9_000, hosts)]));
            let kept = m.groups[0].1.hosts.len();
            assert!(kept <= 3 * 4 + 2, "{kept}");
        }
        assert!(m.dropped_hosts() > 0);
        let rows = m.feed(&second(T0 + 60, vec![]));
        let hosts: Vec<&TrafficRow> = rows.iter().filter(|r| r.host.is_some()).collect();
        // The top 3 by bytes (the last second's newest hosts) and 2 attacked.
        assert_eq!(hosts.len(), 5, "{hosts:#?}");
        assert!(hosts[..3].iter().all(|r| !r.attacked && r.totals.packets >= 1000 + 59 * 6));
        assert_eq!(hosts[3..].iter().filter(|r| r.attacked).count(), 2);
        assert!(hosts.iter().all(|r| r.minute == T0 && r.seconds == 60));
    }

    #[test]
    fn the_minute_in_progress_gives_its_group_rows_so_far() {
        let mut m = TrafficMinutes::new(HistoryConfig::default());
        assert!(m.partial().is_empty());
        for s in 0..10 {
            m.feed(&second(T0 + s, vec![group("dc1", 30, vec![host("192.0.2.1", 30, false)])]));
        }
        let rows = m.partial();
        assert_eq!(rows.len(), 1, "no host rows before the minute ends");
        assert_eq!((rows[0].minute, rows[0].seconds, rows[0].totals.packets), (T0, 10, 300));
        let done = m.feed(&second(T0 + 60, vec![]));
        assert_eq!((done[0].seconds, done[0].totals.packets), (60, 300));
    }

    #[test]
    fn attacked_groups_are_flagged() {
        let mut m = TrafficMinutes::new(HistoryConfig::default());
        let mut g = group("dc1", 10, vec![]);
        g.attacked = true;
        m.feed(&second(T0 + 5, vec![g]));
        m.feed(&second(T0 + 6, vec![group("dc1", 10, vec![])]));
        let rows = m.feed(&second(T0 + 60, vec![]));
        assert!(rows[0].attacked);
        assert_eq!(minute_of(T0 + 59), T0);
        assert_eq!(minute_of(-1), -60);
    }

    /// The detector's seconds through the accumulator: a group's minute
    /// adds up to what was sent, the victim of a flood is recorded however
    /// small the top, and a quiet host only when it is in the top.
    #[test]
    fn detector_seconds_make_minute_rows() {
        use crate::detect::{Detector, EventKind};
        use crate::groups::ModelConfig;
        use crate::record::{FlowRecord, Version};
        use anbao_net::Timestamp;
        let mut model: ModelConfig = toml::from_str(
            "[[group]]\nname = \"dc1\"\nprefixes = [\"192.0.2.0/24\"]\nhost = { pps = 5000 }\n\
             [[group]]\nname = \"idle\"\nprefixes = [\"198.51.100.0/24\"]\n",
        )
        .unwrap();
        model.quiet_secs = 5;
        let mut d = Detector::new(model);
        let config = HistoryConfig { top_hosts: 1, attack_hosts: 5 };
        let mut m = TrafficMinutes::new(config);
        let at = |s: i64, ms: i64| Timestamp::from_secs_nanos(T0 + s, (ms * 1_000_000) as u32);
        let flow = |dst: &str, proto: u8, flags: u8, packets: u64| {
            let mut r = FlowRecord::empty("203.0.113.1".parse().unwrap(), Version::NetflowV9, 0, Timestamp(0));
            r.src = "100.64.0.1".parse().unwrap();
            r.dst = dst.parse().unwrap();
            r.proto = proto;
            r.tcp_flags = flags;
            r.set_counts(packets, packets * 60, 1);
            r
        };
        let mut rows = Vec::new();
        for s in 0..125i64 {
            // Every second: 300 packets to .1, 200 to .2 (web).
            d.record(&flow("192.0.2.1", 6, 0x1b, 300), at(s, 100));
            d.record(&flow("192.0.2.2", 6, 0x1b, 200), at(s, 200));
            // Seconds 10..20: a SYN flood on .9 at 8000 pps.
            if (10..20).contains(&s) {
                d.record(&flow("192.0.2.9", 6, 0x02, 8000), at(s, 300));
            }
            for ms in [400, 900] {
                d.tick(at(s, ms));
                if let Some(sec) = d.last_second(config.per_second()) {
                    rows.extend(m.feed(&sec));
                }
            }
        }
        assert!(d.take_events().iter().any(|e| e.event == EventKind::Start));
        let group: Vec<&TrafficRow> = rows.iter().filter(|r| r.group == "dc1" && r.host.is_none()).collect();
        assert_eq!(group.len(), 3, "{rows:#?}");
        // The first second handed in is the one before the detector's
        // first tick (T0 - 1): a minute of one silent second.
        assert_eq!((group[0].minute, group[0].seconds, group[0].totals.packets), (T0 - 60, 1, 0));
        let group = &group[1..];
        assert_eq!((group[0].minute, group[1].minute), (T0, T0 + 60));
        assert_eq!((group[0].seconds, group[1].seconds), (60, 60));
        assert_eq!(group[0].totals.packets, 60 * 500 + 10 * 8000);
        assert_eq!(group[0].totals.syn_only, 10 * 8000);
        assert_eq!(group[0].peak_pps, 8500);
        assert!(!group[0].attacked, "a host attack is not a group attack");
        assert_eq!(group[1].totals.packets, 60 * 500);
        let hosts0: Vec<(IpAddr, bool)> =
            rows.iter().filter(|r| r.minute == T0 && r.host.is_some()).map(|r| (r.host.unwrap(), r.attacked)).collect();
        assert_eq!(hosts0, vec![("192.0.2.9".parse().unwrap(), true)], "the top 1 is the victim");
        let hosts1: Vec<IpAddr> = rows.iter().filter(|r| r.minute == T0 + 60).filter_map(|r| r.host).collect();
        assert_eq!(hosts1, vec!["192.0.2.1".parse::<IpAddr>().unwrap()]);
        let idle = rows.iter().filter(|r| r.group == "idle").count();
        assert_eq!(idle, 3, "an idle group has a row every minute");
    }
}
