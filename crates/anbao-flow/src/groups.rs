//! The protected address space: host groups (customer prefixes, data
//! centres), each with its prefixes, thresholds and action settings, as
//! the operator writes them in TOML (`--groups FILE`, `flow_groups_file`).
//! Everything outside every group is "remote" and is not aggregated.
//!
//! ```toml
//! [[group]]
//! name = "dc1"
//! prefixes = ["192.0.2.0/24", "2001:db8::/48"]
//! host = { pps = 20000, bps = 100_000_000, flows = 5000 }
//! group = { pps = 200000 }
//! ```

use std::net::IpAddr;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// An IPv4 or IPv6 CIDR prefix (`192.0.2.0/24`, `2001:db8::/32`; a bare
/// address is a /32 or /128). Host bits are cleared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Prefix {
    addr: IpAddr,
    len: u8,
}

/// A prefix that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad prefix {text:?}: {why}")]
pub struct PrefixError {
    pub text: String,
    pub why: &'static str,
}

fn v4_bits(a: std::net::Ipv4Addr, len: u8) -> u32 {
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - u32::from(len)) };
    u32::from(a) & mask
}

fn v6_bits(a: std::net::Ipv6Addr, len: u8) -> u128 {
    let mask = if len == 0 { 0 } else { u128::MAX << (128 - u32::from(len)) };
    u128::from(a) & mask
}

impl Prefix {
    pub fn new(addr: IpAddr, len: u8) -> Option<Prefix> {
        match addr {
            IpAddr::V4(a) if len <= 32 => Some(Prefix { addr: IpAddr::V4(v4_bits(a, len).into()), len }),
            IpAddr::V6(a) if len <= 128 => Some(Prefix { addr: IpAddr::V6(v6_bits(a, len).into()), len }),
            _ => None,
        }
    }

    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    pub fn prefix_len(&self) -> u8 {
        self.len
    }

    /// Whether `ip` is inside (IPv4-mapped IPv6 addresses are not unmapped).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(p), IpAddr::V4(a)) => v4_bits(a, self.len) == u32::from(p),
            (IpAddr::V6(p), IpAddr::V6(a)) => v6_bits(a, self.len) == u128::from(p),
            _ => false,
        }
    }
}

impl std::fmt::Display for Prefix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

impl FromStr for Prefix {
    type Err = PrefixError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |why| PrefixError { text: s.to_string(), why };
        let (addr, len) = match s.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (s, None),
        };
        let addr: IpAddr = addr.trim().parse().map_err(|_| err("not an IP address"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let len = match len {
            Some(l) => l.trim().parse::<u8>().map_err(|_| err("prefix length is not a number"))?,
            None => max,
        };
        Prefix::new(addr, len).ok_or_else(|| err("prefix length too long for the address family"))
    }
}

impl Serialize for Prefix {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Prefix {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Rates over which traffic is an attack; 0 (or absent) disables one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Thresholds {
    /// Packets per second.
    pub pps: u64,
    /// Bits per second.
    pub bps: u64,
    /// Flow records per second.
    pub flows: u64,
}

/// How mitigation is taken for a group's attacks (`mitigate`: automatic
/// mode announces RTBH/FlowSpec at the attack's start).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionMode {
    /// Alert only.
    #[default]
    Alert,
    /// Propose the mitigation; a person approves it.
    Manual,
    /// Announce the mitigation at once.
    #[serde(alias = "auto")]
    Automatic,
}

/// Action settings of a group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Actions {
    pub mode: ActionMode,
    /// Blackhole the attacked /32 or /128 (RTBH).
    pub rtbh: bool,
    /// BGP community for RTBH announcements (`65535:666`).
    pub rtbh_community: Option<String>,
    /// FlowSpec rules (destination, protocol, source port).
    pub flowspec: bool,
    /// FlowSpec action: limit the matched traffic to this many bytes per
    /// second instead of discarding it. Absent: discard.
    pub flowspec_rate_limit: Option<u32>,
    /// Seconds after an attack's end before its rules are withdrawn.
    pub hold_secs: u32,
    /// Every attack on this group opens a large-scale DDoS incident (in the
    /// binary's store, besides the configuration's `ddos_incident_*` rule).
    pub incident: bool,
}

impl Default for Actions {
    fn default() -> Self {
        Actions {
            mode: ActionMode::Alert,
            rtbh: false,
            rtbh_community: None,
            flowspec: false,
            flowspec_rate_limit: None,
            hold_secs: 300,
            incident: false,
        }
    }
}

/// One host group as configured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostGroup {
    /// Unique name (`dc1`, `customer-42`).
    pub name: String,
    /// The group's address space.
    pub prefixes: Vec<Prefix>,
    /// Thresholds for each host of the group.
    #[serde(default)]
    pub host: Thresholds,
    /// Thresholds for the whole group's traffic (carpet bombing shows here).
    #[serde(default)]
    pub group: Thresholds,
    /// Baseline deviation: abnormal when the group's rate is over
    /// max(`baseline_floor`, `baseline_factor` × its EWMA baseline); 0
    /// disables.
    #[serde(default)]
    pub baseline_factor: f64,
    /// The static floor under which the baseline (EWMA or hour-of-week
    /// profile) never judges traffic abnormal (pps).
    #[serde(default)]
    pub baseline_floor_pps: u64,
    /// Hour-of-week profile, factor: abnormal when the group's pps is over
    /// `profile_factor` × the usual pps of the current hour of the week
    /// (and over the floor); 0 disables this part. Once the hour's slot is
    /// ready (`profile_min_weeks`) the profile replaces the EWMA rule for
    /// that hour.
    #[serde(default)]
    pub profile_factor: f64,
    /// Hour-of-week profile, spread: abnormal when the group's pps is over
    /// the hour's usual pps + `profile_deviations` × its usual deviation;
    /// 0 disables this part. With both parts set the traffic must be over
    /// both limits.
    #[serde(default)]
    pub profile_deviations: f64,
    /// When set (> 0), the profile also judges bps against the same limits
    /// with this floor (bits per second); 0: the profile judges pps only.
    #[serde(default)]
    pub profile_floor_bps: u64,
    #[serde(default)]
    pub actions: Actions,
}

impl HostGroup {
    /// Whether the hour-of-week profile judges this group.
    pub fn profile_enabled(&self) -> bool {
        self.profile_factor > 0.0 || self.profile_deviations > 0.0
    }
}

/// The whole protected space and the detector's settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModelConfig {
    /// Host groups, matched by longest prefix.
    #[serde(rename = "group")]
    pub groups: Vec<HostGroup>,
    /// Consecutive seconds over a threshold before an attack starts (1: in
    /// the first second over, as soon as the second's running count
    /// passes the threshold).
    pub hold_secs: u32,
    /// Seconds under every threshold before an attack ends.
    pub quiet_secs: u32,
    /// Seconds between update events of an ongoing attack.
    pub update_secs: u32,
    /// Most protected hosts tracked at once; idle ones are evicted first.
    pub max_hosts: usize,
    /// Top sources kept per host and top destinations per group.
    pub top_n: usize,
    /// Sample flow records kept per attack.
    pub samples: usize,
    /// Weight of the latest second in the EWMA baseline (0 < α ≤ 1).
    pub ewma_alpha: f64,
    /// Seconds of traffic before a group's baseline is used.
    pub baseline_warmup_secs: u32,
    /// Hours of the week are counted in this UTC offset (hours, a multiple
    /// of 0.25 in -12..=14; default +8, China Standard Time).
    pub profile_utc_offset_hours: f64,
    /// Weight of the latest week in an hour-of-week slot (0 < α ≤ 1; the
    /// first weeks are averaged equally until 1/weeks falls under it).
    pub profile_alpha: f64,
    /// Weeks (hours learnt) before an hour-of-week slot is used (≥ 1).
    pub profile_min_weeks: u32,
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig {
            groups: Vec::new(),
            hold_secs: 1,
            quiet_secs: 30,
            update_secs: 10,
            max_hosts: 65_536,
            top_n: 10,
            samples: 5,
            ewma_alpha: 0.01,
            baseline_warmup_secs: 300,
            profile_utc_offset_hours: 8.0,
            profile_alpha: 0.25,
            profile_min_weeks: 3,
        }
    }
}

/// A configuration that cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    #[error("reading host groups: {0}")]
    Parse(String),
    #[error("host group {0:?} is defined twice")]
    DuplicateGroup(String),
    #[error("host group {0:?} has no prefix")]
    NoPrefix(String),
    #[error("host group {group:?}: {why}")]
    InvalidGroup { group: String, why: &'static str },
    #[error("{0}")]
    Invalid(&'static str),
}

impl ModelConfig {
    /// Checks names, prefixes and bounds.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut names = std::collections::HashSet::new();
        for g in &self.groups {
            if !names.insert(g.name.as_str()) {
                return Err(ConfigError::DuplicateGroup(g.name.clone()));
            }
            if g.prefixes.is_empty() {
                return Err(ConfigError::NoPrefix(g.name.clone()));
            }
            let invalid = |why| Err(ConfigError::InvalidGroup { group: g.name.clone(), why });
            if !(g.baseline_factor.is_finite() && g.baseline_factor >= 0.0) {
                return invalid("baseline_factor must be a number ≥ 0");
            }
            if !(g.profile_factor.is_finite() && g.profile_factor >= 0.0) {
                return invalid("profile_factor must be a number ≥ 0");
            }
            if !(g.profile_deviations.is_finite() && g.profile_deviations >= 0.0) {
                return invalid("profile_deviations must be a number ≥ 0");
            }
        }
        let offset = self.profile_utc_offset_hours;
        if !((-12.0..=14.0).contains(&offset) && (offset * 4.0).fract() == 0.0) {
            return Err(ConfigError::Invalid("profile_utc_offset_hours must be a multiple of 0.25 in -12..=14"));
        }
        if !(self.profile_alpha > 0.0 && self.profile_alpha <= 1.0) {
            return Err(ConfigError::Invalid("profile_alpha must be in (0, 1]"));
        }
        if self.profile_min_weeks == 0 {
            return Err(ConfigError::Invalid("profile_min_weeks must be at least 1"));
        }
        if !(self.ewma_alpha > 0.0 && self.ewma_alpha <= 1.0) {
            return Err(ConfigError::Invalid("ewma_alpha must be in (0, 1]"));
        }
        if self.max_hosts == 0 || self.top_n == 0 {
            return Err(ConfigError::Invalid("max_hosts and top_n must be at least 1"));
        }
        Ok(())
    }

    /// The profile's UTC offset in seconds.
    pub fn profile_offset_secs(&self) -> i64 {
        (self.profile_utc_offset_hours * 3600.0).round() as i64
    }
}

/// Longest-prefix lookup of the group an address belongs to.
#[derive(Debug, Clone, Default)]
pub struct GroupIndex {
    /// (prefix, group index), longest prefixes first.
    entries: Vec<(Prefix, usize)>,
}

impl GroupIndex {
    pub fn new(groups: &[HostGroup]) -> Self {
        let mut entries: Vec<(Prefix, usize)> =
            groups.iter().enumerate().flat_map(|(i, g)| g.prefixes.iter().map(move |p| (*p, i))).collect();
        entries.sort_by_key(|e| std::cmp::Reverse(e.0.len));
        GroupIndex { entries }
    }

    /// The group of `ip`, if it is protected. A linear scan, longest prefix
    /// first: fine for the tens of prefixes of a typical configuration.
    pub fn lookup(&self, ip: IpAddr) -> Option<usize> {
        self.entries.iter().find(|(p, _)| p.contains(ip)).map(|&(_, i)| i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_parse_and_match() {
        let p: Prefix = "192.0.2.77/24".parse().unwrap();
        assert_eq!(p.to_string(), "192.0.2.0/24");
        assert!(p.contains("192.0.2.1".parse().unwrap()));
        assert!(!p.contains("192.0.3.1".parse().unwrap()));
        assert!(!p.contains("::1".parse().unwrap()));
        let p6: Prefix = "2001:db8::/32".parse().unwrap();
        assert!(p6.contains("2001:db8:1::5".parse().unwrap()));
        assert_eq!("10.0.0.1".parse::<Prefix>().unwrap().prefix_len(), 32);
        assert!("10.0.0.0/33".parse::<Prefix>().is_err());
        assert!("nonsense/8".parse::<Prefix>().is_err());
        assert!("0.0.0.0/0".parse::<Prefix>().unwrap().contains("8.8.8.8".parse().unwrap()));
    }

    #[test]
    fn longest_prefix_wins() {
        let groups: ModelConfig = toml::from_str(
            r#"
            [[group]]
            name = "wide"
            prefixes = ["10.0.0.0/8"]
            [[group]]
            name = "narrow"
            prefixes = ["10.1.0.0/16", "2001:db8::/48"]
            host = { pps = 100 }
            "#,
        )
        .unwrap();
        groups.validate().unwrap();
        let index = GroupIndex::new(&groups.groups);
        assert_eq!(index.lookup("10.1.2.3".parse().unwrap()), Some(1));
        assert_eq!(index.lookup("10.2.2.3".parse().unwrap()), Some(0));
        assert_eq!(index.lookup("2001:db8::1".parse().unwrap()), Some(1));
        assert_eq!(index.lookup("11.0.0.1".parse().unwrap()), None);
        assert_eq!(groups.groups[1].host.pps, 100);
        assert_eq!(groups.hold_secs, 1);
    }

    #[test]
    fn bad_configs_are_refused() {
        let unknown = toml::from_str::<ModelConfig>("[[group]]\nname = \"a\"\nprefixes = [\"10.0.0.0/8\"]\nfoo = 1\n");
        assert!(unknown.is_err());
        let bad_prefix = toml::from_str::<ModelConfig>("[[group]]\nname = \"a\"\nprefixes = [\"10.0.0.0/40\"]\n");
        assert!(bad_prefix.unwrap_err().to_string().contains("10.0.0.0/40"));
        let dup: ModelConfig = toml::from_str(
            "[[group]]\nname = \"a\"\nprefixes = [\"10.0.0.0/8\"]\n[[group]]\nname = \"a\"\nprefixes = [\"11.0.0.0/8\"]\n",
        )
        .unwrap();
        assert_eq!(dup.validate(), Err(ConfigError::DuplicateGroup("a".into())));
    }

    #[test]
    fn profile_settings_default_off_and_are_checked() {
        let one = "[[group]]\nname = \"a\"\nprefixes = [\"10.0.0.0/8\"]\n";
        let c: ModelConfig = toml::from_str(one).unwrap();
        c.validate().unwrap();
        assert!(!c.groups[0].profile_enabled());
        assert_eq!((c.profile_offset_secs(), c.profile_min_weeks), (8 * 3600, 3));
        let c: ModelConfig = toml::from_str(&format!(
            "profile_utc_offset_hours = 5.5\nprofile_min_weeks = 2\n{one}profile_factor = 3.0\nprofile_deviations = 4\nprofile_floor_bps = 1_000_000\n"
        ))
        .unwrap();
        c.validate().unwrap();
        assert!(c.groups[0].profile_enabled());
        assert_eq!(c.profile_offset_secs(), 19_800);
        let bad = |text: &str| toml::from_str::<ModelConfig>(text).unwrap().validate().unwrap_err().to_string();
        assert_eq!(
            bad(&format!("{one}profile_factor = -1.0\n")),
            "host group \"a\": profile_factor must be a number ≥ 0"
        );
        assert!(bad(&format!("{one}profile_deviations = nan\n")).contains("profile_deviations"));
        assert!(bad(&format!("profile_utc_offset_hours = 8.1\n{one}")).contains("profile_utc_offset_hours"));
        assert!(bad(&format!("profile_utc_offset_hours = 15\n{one}")).contains("profile_utc_offset_hours"));
        assert!(bad(&format!("profile_alpha = 0\n{one}")).contains("profile_alpha"));
        assert!(bad(&format!("profile_min_weeks = 0\n{one}")).contains("profile_min_weeks"));
    }
}
