//! Mitigation as BGP announcements, in ExaBGP's text API (the lines an
//! ExaBGP `process` reads from its helper's stdout): RTBH (the attacked
//! /32 or /128 with a blackhole community) and FlowSpec (destination,
//! protocol, amplification source port → discard or rate-limit). The same
//! rule also renders as the words of GoBGP's CLI (`gobgp global rib -a
//! FAMILY add|del WORDS`, [`Rule::gobgp`]). [`Mitigator`] decides,
//! from a group's [`Actions`] and the attack events, what to announce and
//! when to withdraw (the attack's end plus the group's hold time); the
//! caller writes the lines to the BGP speaker and records them. Pure: the
//! clock is a parameter, no I/O.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::Serialize;

use crate::aggregate::AMPLIFICATION_PORTS;
use crate::detect::{AttackClass, AttackEvent, EventKind, Scope};
use crate::groups::ActionMode;

/// The RTBH community when a group names none (RFC 7999 BLACKHOLE).
pub const BLACKHOLE_COMMUNITY: &str = "65535:666";

/// One BGP rule for one attack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Rule {
    /// Remote-triggered black hole of one address.
    Rtbh { victim: IpAddr, community: String },
    /// A FlowSpec rule: discard, or with `rate_limit` limit to that many
    /// bytes per second.
    Flowspec { victim: IpAddr, protocol: Option<&'static str>, source_port: Option<u16>, rate_limit: Option<u32> },
}

fn host_prefix(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(a) => format!("{a}/32"),
        IpAddr::V6(a) => format!("{a}/128"),
    }
}

/// A community is `ASN:VALUE` with two 16-bit numbers (checked so a
/// configured value can never smuggle more into the API line).
pub fn valid_community(text: &str) -> bool {
    text.split_once(':').is_some_and(|(a, b)| a.parse::<u16>().is_ok() && b.parse::<u16>().is_ok())
}

impl Rule {
    fn flow_route(&self) -> String {
        match self {
            Rule::Rtbh { .. } => String::new(),
            Rule::Flowspec { victim, protocol, source_port, rate_limit } => {
                let mut m = format!("destination {};", host_prefix(*victim));
                if let Some(p) = protocol {
                    m.push_str(&format!(" protocol {p};"));
                }
                if let Some(port) = source_port {
                    m.push_str(&format!(" source-port ={port};"));
                }
                let then = match rate_limit {
                    Some(n) => format!("rate-limit {n};"),
                    None => "discard;".to_owned(),
                };
                format!("flow route {{ match {{ {m} }} then {{ {then} }} }}")
            }
        }
    }

    /// `rtbh` or `flowspec`.
    pub fn kind(&self) -> &'static str {
        match self {
            Rule::Rtbh { .. } => "rtbh",
            Rule::Flowspec { .. } => "flowspec",
        }
    }

    /// The attacked address.
    pub fn victim(&self) -> IpAddr {
        match self {
            Rule::Rtbh { victim, .. } | Rule::Flowspec { victim, .. } => *victim,
        }
    }

    /// The attacked /32 or /128.
    pub fn prefix(&self) -> String {
        host_prefix(self.victim())
    }

    /// GoBGP's address family of the rule (`-a`): `ipv4`, `ipv6`,
    /// `ipv4-flowspec` or `ipv6-flowspec`.
    pub fn gobgp_family(&self) -> &'static str {
        match (self, self.victim().is_ipv4()) {
            (Rule::Rtbh { .. }, true) => "ipv4",
            (Rule::Rtbh { .. }, false) => "ipv6",
            (Rule::Flowspec { .. }, true) => "ipv4-flowspec",
            (Rule::Flowspec { .. }, false) => "ipv6-flowspec",
        }
    }

    /// The words after `gobgp global rib -a FAMILY add|del`, one argv item
    /// each: `192.0.2.5/32 nexthop 192.0.2.1 community 65535:666` (a
    /// withdrawal names the prefix only), or `match destination
    /// 192.0.2.5/32 protocol udp source-port ==123 then discard` (the same
    /// for both, GoBGP deletes the path it matches).
    pub fn gobgp(&self, change: Change, next_hop: IpAddr) -> Vec<String> {
        match self {
            Rule::Rtbh { community, .. } => match change {
                Change::Announce => {
                    vec![self.prefix(), "nexthop".into(), next_hop.to_string(), "community".into(), community.clone()]
                }
                Change::Withdraw => vec![self.prefix()],
            },
            Rule::Flowspec { protocol, source_port, rate_limit, .. } => {
                let mut w = vec!["match".to_owned(), "destination".into(), self.prefix()];
                if let Some(p) = protocol {
                    w.extend(["protocol".to_owned(), (*p).to_owned()]);
                }
                if let Some(port) = source_port {
                    w.extend(["source-port".to_owned(), format!("=={port}")]);
                }
                w.push("then".into());
                match rate_limit {
                    Some(n) => w.extend(["rate-limit".to_owned(), n.to_string()]),
                    None => w.push("discard".into()),
                }
                w
            }
        }
    }

    /// The ExaBGP line that announces the rule (`next_hop` for RTBH).
    pub fn announce(&self, next_hop: IpAddr) -> String {
        match self {
            Rule::Rtbh { victim, community } => {
                format!("announce route {} next-hop {next_hop} community [{community}]", host_prefix(*victim))
            }
            Rule::Flowspec { .. } => format!("announce {}", self.flow_route()),
        }
    }

    /// The ExaBGP line that withdraws it.
    pub fn withdraw(&self, next_hop: IpAddr) -> String {
        match self {
            Rule::Rtbh { victim, .. } => format!("withdraw route {} next-hop {next_hop}", host_prefix(*victim)),
            Rule::Flowspec { .. } => format!("withdraw {}", self.flow_route()),
        }
    }
}

/// The rules a group's actions ask for against an attack. Only attacks on
/// one host are mitigated (a carpet bombing across a prefix is not
/// blackholed whole).
pub fn rules(e: &AttackEvent) -> Vec<Rule> {
    let Ok(victim) = e.victim.parse::<IpAddr>() else { return Vec::new() };
    if e.scope != Scope::Host {
        return Vec::new();
    }
    let mut out = Vec::new();
    if e.actions.rtbh {
        let community = e
            .actions
            .rtbh_community
            .clone()
            .filter(|c| valid_community(c))
            .unwrap_or_else(|| BLACKHOLE_COMMUNITY.to_owned());
        out.push(Rule::Rtbh { victim, community });
    }
    if e.actions.flowspec {
        let protocol = match e.class {
            AttackClass::SynFlood => Some("tcp"),
            AttackClass::UdpFlood | AttackClass::Amplification => Some("udp"),
            AttackClass::IcmpFlood => Some("icmp"),
            AttackClass::CarpetBombing | AttackClass::OtherVolumetric => None,
        };
        let source_port =
            e.service.and_then(|s| AMPLIFICATION_PORTS.iter().find(|(_, name)| *name == s).map(|(port, _)| *port));
        out.push(Rule::Flowspec { victim, protocol, source_port, rate_limit: e.actions.flowspec_rate_limit });
    }
    out
}

/// Announce or withdraw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    Announce,
    Withdraw,
}

/// One thing to tell the BGP speaker, for one attack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Order {
    pub change: Change,
    /// The attack's key (its alert's dedup key).
    pub attack_key: String,
    pub rule: Rule,
    /// The ExaBGP text API line.
    pub line: String,
}

#[derive(Debug)]
struct Active {
    key: String,
    rules: Vec<Rule>,
    /// Unix seconds after which the rules are withdrawn (set at the end).
    withdraw_at: Option<i64>,
}

/// Decides announcements and withdrawals from attack events.
#[derive(Debug)]
pub struct Mitigator {
    next_hop: IpAddr,
    /// Attack id → what was announced for it.
    active: BTreeMap<u64, Active>,
}

impl Mitigator {
    /// `next_hop`: the RTBH next hop (routers map it to a discard route).
    pub fn new(next_hop: IpAddr) -> Self {
        Mitigator { next_hop, active: BTreeMap::new() }
    }

    /// Takes attack events: the start of an attack on a host of a group in
    /// automatic mode announces its rules; the end schedules the
    /// withdrawal `hold_secs` later (see [`Mitigator::due`]). Groups in
    /// alert or manual mode announce nothing here.
    pub fn event(&mut self, e: &AttackEvent) -> Vec<Order> {
        match e.event {
            EventKind::Start if e.actions.mode == ActionMode::Automatic && !self.active.contains_key(&e.id) => {
                let rules = rules(e);
                if rules.is_empty() {
                    return Vec::new();
                }
                let orders = rules
                    .iter()
                    .map(|r| Order {
                        change: Change::Announce,
                        attack_key: e.key.clone(),
                        rule: r.clone(),
                        line: r.announce(self.next_hop),
                    })
                    .collect();
                self.active.insert(e.id, Active { key: e.key.clone(), rules, withdraw_at: None });
                orders
            }
            EventKind::End => {
                if let Some(a) = self.active.get_mut(&e.id) {
                    let ended = e.ended.unwrap_or(e.at).secs();
                    a.withdraw_at = Some(ended.saturating_add(i64::from(e.actions.hold_secs)));
                }
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    /// The withdrawals due at unix second `now`.
    pub fn due(&mut self, now: i64) -> Vec<Order> {
        let due: Vec<u64> =
            self.active.iter().filter(|(_, a)| a.withdraw_at.is_some_and(|t| t <= now)).map(|(id, _)| *id).collect();
        let mut orders = Vec::new();
        for id in due {
            if let Some(a) = self.active.remove(&id) {
                orders.extend(a.rules.iter().map(|r| Order {
                    change: Change::Withdraw,
                    attack_key: a.key.clone(),
                    rule: r.clone(),
                    line: r.withdraw(self.next_hop),
                }));
            }
        }
        orders
    }

    /// Attacks with rules announced now.
    pub fn announced(&self) -> usize {
        self.active.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_exabgp_text_api() {
        let v4: IpAddr = "192.0.2.5".parse().unwrap();
        let hop: IpAddr = "192.0.2.1".parse().unwrap();
        let rtbh = Rule::Rtbh { victim: v4, community: BLACKHOLE_COMMUNITY.into() };
        assert_eq!(rtbh.announce(hop), "announce route 192.0.2.5/32 next-hop 192.0.2.1 community [65535:666]");
        assert_eq!(rtbh.withdraw(hop), "withdraw route 192.0.2.5/32 next-hop 192.0.2.1");
        let fs = Rule::Flowspec { victim: v4, protocol: Some("udp"), source_port: Some(123), rate_limit: None };
        assert_eq!(
            fs.announce(hop),
            "announce flow route { match { destination 192.0.2.5/32; protocol udp; source-port =123; } then { discard; } }"
        );
        assert_eq!(
            fs.withdraw(hop),
            "withdraw flow route { match { destination 192.0.2.5/32; protocol udp; source-port =123; } then { discard; } }"
        );
        let limited = Rule::Flowspec { victim: v4, protocol: Some("tcp"), source_port: None, rate_limit: Some(125000) };
        assert_eq!(
            limited.announce(hop),
            "announce flow route { match { destination 192.0.2.5/32; protocol tcp; } then { rate-limit 125000; } }"
        );
        let v6 = Rule::Rtbh { victim: "2001:db8::5".parse().unwrap(), community: "64500:666".into() };
        assert_eq!(v6.announce(hop), "announce route 2001:db8::5/128 next-hop 192.0.2.1 community [64500:666]");
        assert!(valid_community("65535:666"));
        assert!(!valid_community("65535:666] med 1 [1:1"));
        assert!(!valid_community("70000:1"));
    }

    #[test]
    fn gobgp_words_per_family_and_change() {
        let hop: IpAddr = "192.0.2.1".parse().unwrap();
        let v4: IpAddr = "192.0.2.5".parse().unwrap();
        let rtbh = Rule::Rtbh { victim: v4, community: BLACKHOLE_COMMUNITY.into() };
        assert_eq!(rtbh.gobgp_family(), "ipv4");
        assert_eq!(
            rtbh.gobgp(Change::Announce, hop),
            ["192.0.2.5/32", "nexthop", "192.0.2.1", "community", "65535:666"]
        );
        assert_eq!(rtbh.gobgp(Change::Withdraw, hop), ["192.0.2.5/32"]);
        let fs = Rule::Flowspec { victim: v4, protocol: Some("udp"), source_port: Some(123), rate_limit: None };
        assert_eq!(fs.gobgp_family(), "ipv4-flowspec");
        let words =
            ["match", "destination", "192.0.2.5/32", "protocol", "udp", "source-port", "==123", "then", "discard"];
        assert_eq!(fs.gobgp(Change::Announce, hop), words);
        assert_eq!(fs.gobgp(Change::Withdraw, hop), words);
        let v6 = Rule::Flowspec {
            victim: "2001:db8::5".parse().unwrap(),
            protocol: None,
            source_port: None,
            rate_limit: Some(1000),
        };
        assert_eq!(v6.gobgp_family(), "ipv6-flowspec");
        assert_eq!(
            v6.gobgp(Change::Announce, hop),
            ["match", "destination", "2001:db8::5/128", "then", "rate-limit", "1000"]
        );
    }

    #[test]
    fn automatic_groups_announce_at_the_start_and_withdraw_after_the_hold() {
        use crate::record::{FlowRecord, Version};
        use crate::{Detector, ModelConfig, Timestamp};
        const SEC: i64 = 1_000_000_000;
        let config: ModelConfig = toml::from_str(
            r#"
            quiet_secs = 2
            [[group]]
            name = "auto"
            prefixes = ["192.0.2.0/24"]
            host = { pps = 1000 }
            actions = { mode = "auto", rtbh = true, flowspec = true, hold_secs = 5 }
            [[group]]
            name = "manual"
            prefixes = ["198.51.100.0/24"]
            host = { pps = 1000 }
            actions = { mode = "manual", rtbh = true }
            "#,
        )
        .unwrap();
        config.validate().unwrap();
        let mut detector = Detector::new(config);
        let mut m = Mitigator::new("192.0.2.1".parse().unwrap());
        let flow = |dst: &str| {
            let mut r = FlowRecord::empty("203.0.113.1".parse().unwrap(), Version::NetflowV9, 0, Timestamp(0));
            r.src = "198.18.0.1".parse().unwrap();
            r.dst = dst.parse().unwrap();
            r.proto = 17;
            r.sport = 123;
            r.dport = 40000;
            r.set_counts(5000, 5000 * 400, 1);
            r
        };
        let t0 = 1_700_000_000i64;
        for dst in ["192.0.2.5", "198.51.100.7"] {
            detector.record(&flow(dst), Timestamp(t0 * SEC));
        }
        detector.tick(Timestamp(t0 * SEC + 1));
        let mut orders = Vec::new();
        for e in detector.take_events() {
            orders.extend(m.event(&e));
        }
        let lines: Vec<&str> = orders.iter().map(|o| o.line.as_str()).collect();
        assert_eq!(
            lines,
            [
                "announce route 192.0.2.5/32 next-hop 192.0.2.1 community [65535:666]",
                "announce flow route { match { destination 192.0.2.5/32; protocol udp; source-port =123; } then { discard; } }",
            ],
            "the manual group announces nothing"
        );
        assert!(orders.iter().all(|o| o.change == Change::Announce && o.attack_key.contains("192.0.2.5")));
        assert_eq!(m.announced(), 1);
        // Quiet: the attack ends; nothing is withdrawn before the hold time.
        let mut end = None;
        for s in 1..10 {
            detector.tick(Timestamp((t0 + s) * SEC));
            for e in detector.take_events() {
                if e.event == EventKind::End && e.victim == "192.0.2.5" {
                    end = e.ended.map(|t| t.secs());
                }
                assert!(m.event(&e).is_empty());
            }
            if end.is_some() {
                break;
            }
        }
        let end = end.expect("the attack ends after quiet_secs");
        assert!(m.due(end + 4).is_empty());
        let withdrawn: Vec<String> = m.due(end + 5).into_iter().map(|o| o.line).collect();
        assert_eq!(
            withdrawn,
            [
                "withdraw route 192.0.2.5/32 next-hop 192.0.2.1",
                "withdraw flow route { match { destination 192.0.2.5/32; protocol udp; source-port =123; } then { discard; } }",
            ]
        );
        assert_eq!(m.announced(), 0);
        assert!(m.due(end + 100).is_empty());
    }
}
