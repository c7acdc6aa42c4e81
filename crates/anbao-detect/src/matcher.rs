//! Matching events against the indicator index.
//!
//! Who the victim is: the client side of the message: the sender of a DNS
//! query, HTTP request or ClientHello, the receiver of a DNS response. For a
//! flow endpoint that is listed, the other end. Values are looked up as the
//! traffic shows them (the index normalises: case, trailing dot, IDNA);
//! expiry is judged at the event's own time, so scanning an old capture
//! matches what was valid then.
//!
//! Allowlist before alert: indicators an allowlist covers are left out of
//! the index when it is built; here the observed value itself is checked
//! too (a listed `example.com` must not flag `safe.example.com` when the
//! operator allowlisted that host). The check runs only on hits, so it
//! costs nothing on the common path.

use std::net::IpAddr;

use anbao_intel::allowlist::Allowlist;
use anbao_intel::index::{HitRef, MatchRef};
use anbao_intel::{IndicatorIndex, IndicatorKind, normalize};
use anbao_net::{AnswerData, Endpoints, Event, Message, Qr};
use serde::{Serialize, Serializer};

/// The index and allowlist to match against (borrowed from a snapshot).
#[derive(Debug, Clone, Copy)]
pub struct Intel<'a> {
    pub index: &'a IndicatorIndex,
    pub allowlist: &'a Allowlist,
}

/// Which part of the event matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Field {
    #[serde(rename = "dns.qname")]
    DnsQname,
    #[serde(rename = "dns.answer")]
    DnsAnswer,
    #[serde(rename = "http.host")]
    HttpHost,
    #[serde(rename = "http.url")]
    HttpUrl,
    #[serde(rename = "tls.sni")]
    TlsSni,
    #[serde(rename = "tls.ja3")]
    TlsJa3,
    #[serde(rename = "tls.ja4")]
    TlsJa4,
    #[serde(rename = "flow.dst")]
    FlowDst,
    #[serde(rename = "flow.src")]
    FlowSrc,
}

impl Field {
    /// The name in the JSON form (`dns.qname`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Field::DnsQname => "dns.qname",
            Field::DnsAnswer => "dns.answer",
            Field::HttpHost => "http.host",
            Field::HttpUrl => "http.url",
            Field::TlsSni => "tls.sni",
            Field::TlsJa3 => "tls.ja3",
            Field::TlsJa4 => "tls.ja4",
            Field::FlowDst => "flow.dst",
            Field::FlowSrc => "flow.src",
        }
    }
}

/// How the listed value matched (the same words as `anbao intel lookup`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchHow {
    Exact,
    ParentDomain,
    CoveringCidr,
    UrlPrefix,
}

impl MatchHow {
    /// The word in the JSON form (`parent_domain`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            MatchHow::Exact => "exact",
            MatchHow::ParentDomain => "parent_domain",
            MatchHow::CoveringCidr => "covering_cidr",
            MatchHow::UrlPrefix => "url_prefix",
        }
    }
}

/// Endpoint pairs already seen, so a conversation's endpoints are looked
/// up (or published) once, not once per packet. Bounded: forgotten
/// wholesale when full, which costs a repeated lookup, never a miss.
#[derive(Debug, Default)]
pub struct EndpointPairs {
    /// Addresses come from traffic: foldhash with a per-process random seed.
    seen: foldhash::HashSet<(IpAddr, IpAddr)>,
}

impl EndpointPairs {
    const MAX: usize = 1 << 20;

    /// True the first time (src, dst) is offered (since the last reset).
    pub fn first_time(&mut self, src: IpAddr, dst: IpAddr) -> bool {
        if self.seen.len() >= Self::MAX {
            self.seen.clear();
        }
        self.seen.insert((src, dst))
    }
}

/// One hit: an indicator seen in an event, and whom it concerns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Detection {
    pub victim: IpAddr,
    pub field: Field,
    /// The value as the traffic showed it.
    pub observed: String,
    pub indicator_id: u64,
    #[serde(serialize_with = "display")]
    pub indicator_kind: IndicatorKind,
    #[serde(rename = "match")]
    pub how: MatchHow,
    /// The listed value that matched (normal form).
    pub listed: String,
}

fn display<S: Serializer, T: std::fmt::Display>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

/// Counters of a matching run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MatchStats {
    pub lookups: u64,
    pub detections: u64,
    /// Hits dropped because an allowlist covers the observed value.
    pub allowlisted: u64,
}

impl<'a> Intel<'a> {
    pub fn new(index: &'a IndicatorIndex, allowlist: &'a Allowlist) -> Self {
        Intel { index, allowlist }
    }

    /// Everything `event` matches, appended to `out`.
    pub fn match_event(&self, event: &Event, stats: &mut MatchStats, out: &mut Vec<Detection>) {
        let now = Some(event.ts.secs());
        let ep = &event.endpoints;
        match &event.message {
            Message::Dns(dns) => {
                let victim = match dns.qr {
                    Qr::Query => ep.src,
                    Qr::Response => ep.dst.unwrap_or(ep.src),
                };
                self.domain(victim, Field::DnsQname, &dns.qname, now, stats, out);
                for answer in &dns.answers {
                    match &answer.data {
                        AnswerData::Address(a) => self.address(victim, Field::DnsAnswer, *a, now, stats, out),
                        AnswerData::Name(name) => self.domain(victim, Field::DnsAnswer, name, now, stats, out),
                        AnswerData::Text(_) => {}
                    }
                }
            }
            Message::Http(http) => {
                if let Some(host) = http.host.as_deref() {
                    let host = host_without_port(host);
                    match host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
                        Ok(a) => self.address(ep.src, Field::HttpHost, a, now, stats, out),
                        Err(_) => self.domain(ep.src, Field::HttpHost, host, now, stats, out),
                    }
                }
                if let Some(url) = http.url() {
                    stats.lookups += 1;
                    self.index.visit_url(&url, now, |hit| {
                        self.emit(ep.src, Field::HttpUrl, IndicatorKind::Url, &url, hit, stats, out)
                    });
                }
            }
            Message::Tls(hello) | Message::Quic(hello) => {
                if let Some(sni) = hello.sni.as_deref() {
                    self.domain(ep.src, Field::TlsSni, sni, now, stats, out);
                }
                for (field, kind, value) in [
                    (Field::TlsJa3, IndicatorKind::Ja3, hello.ja3.as_deref()),
                    (Field::TlsJa4, IndicatorKind::Ja4, hello.ja4.as_deref()),
                ] {
                    if let Some(value) = value {
                        stats.lookups += 1;
                        self.index.visit_exact(kind, value, now, |hit| {
                            self.emit(ep.src, field, kind, value, hit, stats, out)
                        });
                    }
                }
            }
            Message::Flow(_) => self.match_endpoints(ep, now, stats, out),
            Message::IdsAlert(_) => {}
        }
    }

    /// A packet's endpoints, looked up the first time its conversation is
    /// offered (`pairs`), so a flow costs one lookup, not one per packet.
    /// Without listed addresses nothing can match: no per-packet work.
    pub fn match_packet(
        &self,
        pairs: &mut EndpointPairs,
        ep: &Endpoints,
        now: i64,
        stats: &mut MatchStats,
        out: &mut Vec<Detection>,
    ) {
        let Some(dst) = ep.dst.filter(|_| self.index.has_addresses()) else { return };
        if pairs.first_time(ep.src, dst) {
            self.match_endpoints(ep, Some(now), stats, out);
        }
    }

    /// A flow's endpoints: a listed destination makes the source the
    /// victim, a listed source (an attacker reaching in) the destination.
    pub fn match_endpoints(&self, ep: &Endpoints, now: Option<i64>, stats: &mut MatchStats, out: &mut Vec<Detection>) {
        if let Some(dst) = ep.dst {
            self.address(ep.src, Field::FlowDst, dst, now, stats, out);
            self.address(dst, Field::FlowSrc, ep.src, now, stats, out);
        }
    }

    fn domain(
        &self,
        victim: IpAddr,
        field: Field,
        name: &str,
        now: Option<i64>,
        stats: &mut MatchStats,
        out: &mut Vec<Detection>,
    ) {
        stats.lookups += 1;
        self.index
            .visit_domain(name, now, |hit| self.emit(victim, field, IndicatorKind::Domain, name, hit, stats, out));
    }

    fn address(
        &self,
        victim: IpAddr,
        field: Field,
        addr: IpAddr,
        now: Option<i64>,
        stats: &mut MatchStats,
        out: &mut Vec<Detection>,
    ) {
        stats.lookups += 1;
        let kind = if addr.is_ipv4() { IndicatorKind::Ipv4 } else { IndicatorKind::Ipv6 };
        // Text only on a hit: visit_ip reports hits by reference.
        let mut observed: Option<String> = None;
        self.index.visit_ip(addr, now, |hit| {
            let text = observed.get_or_insert_with(|| addr.to_string()).clone();
            self.emit(victim, field, kind, &text, hit, stats, out)
        });
    }

    #[allow(clippy::too_many_arguments)]
    fn emit(
        &self,
        victim: IpAddr,
        field: Field,
        observed_kind: IndicatorKind,
        observed: &str,
        hit: HitRef<'_>,
        stats: &mut MatchStats,
        out: &mut Vec<Detection>,
    ) {
        let normal = normalize(observed_kind, observed).unwrap_or_else(|_| observed.to_owned());
        if self.allowlist.allows(observed_kind, &normal).is_some() {
            stats.allowlisted += 1;
            return;
        }
        let (how, listed) = match hit.matched {
            MatchRef::Exact => (MatchHow::Exact, normal.clone()),
            MatchRef::Parent(l) => (MatchHow::ParentDomain, l.as_str().to_owned()),
            MatchRef::Network(a, len) => (MatchHow::CoveringCidr, format!("{a}/{len}")),
            MatchRef::UrlPrefix(l) => (MatchHow::UrlPrefix, l.as_str().to_owned()),
        };
        for id in hit.ids() {
            stats.detections += 1;
            out.push(Detection {
                victim,
                field,
                observed: observed.to_owned(),
                indicator_id: id,
                indicator_kind: hit.kind,
                how,
                listed: listed.clone(),
            });
        }
    }
}

/// `host:port` → `host`; bracketed IPv6 literals keep their brackets.
pub(crate) fn host_without_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host.find(']').and_then(|end| host.get(..=end)).unwrap_or(host);
    }
    match host.rsplit_once(':') {
        Some((h, port)) if !h.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_come_off_hosts() {
        assert_eq!(host_without_port("evil.example:8080"), "evil.example");
        assert_eq!(host_without_port("evil.example"), "evil.example");
        assert_eq!(host_without_port("[2001:db8::1]:443"), "[2001:db8::1]");
        assert_eq!(host_without_port("2001:db8::1"), "2001:db8::1");
    }
}

/// The client side of an event, the victim the matchers name (see the
/// module comment): the receiver of a DNS response, otherwise the sender.
/// Scale-out partitions events by it, so one worker sees all of a client's
/// traffic and the per-client heuristics judge all of it.
pub fn client_of(event: &Event) -> IpAddr {
    match &event.message {
        Message::Dns(dns) if dns.qr == Qr::Response => event.endpoints.dst.unwrap_or(event.endpoints.src),
        _ => event.endpoints.src,
    }
}

/// The partition (0..`partitions`) of a client: FNV-1a over its address
/// bytes, stable across processes and versions (sensors and workers must
/// agree), unlike the standard library's hasher.
pub fn partition_of(client: IpAddr, partitions: u32) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    let mut eat = |bytes: &[u8]| {
        for &b in bytes {
            hash ^= u32::from(b);
            hash = hash.wrapping_mul(0x0100_0193);
        }
    };
    match client {
        IpAddr::V4(a) => eat(&a.octets()),
        IpAddr::V6(a) => eat(&a.octets()),
    }
    hash % partitions.max(1)
}

#[cfg(test)]
mod partition_tests {
    use super::*;

    #[test]
    fn partitions_are_stable_spread_and_in_range() {
        // Fixed values: sensors and workers of different builds must agree.
        assert_eq!(partition_of("10.0.0.1".parse().unwrap(), 1), 0);
        assert_eq!(partition_of("10.0.0.1".parse().unwrap(), 8), 4, "FNV-1a of 0a 00 00 01 is 1817209388");
        let mut seen = [0u32; 4];
        for i in 0..1000u32 {
            let ip = IpAddr::from([10, 1, (i >> 8) as u8, i as u8]);
            seen[partition_of(ip, 4) as usize] += 1;
        }
        assert!(seen.iter().all(|&n| (150..350).contains(&n)), "{seen:?}");
    }
}
