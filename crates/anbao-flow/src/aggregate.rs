//! Per-second traffic counters and the bounded top-N structure the
//! detector keeps per protected host and per group.
//!
//! A flow record counts in full in the one-second bucket of the time it is
//! *received* (the collector's clock, handed in by the caller): not spread
//! over its start..end. Exporters send a flow after its end (or its active
//! timeout), so the receive second is its end give or take the export
//! delay; spreading the rest over seconds already judged would be lost to
//! detection anyway. Exporters used for DDoS detection should run short
//! active timeouts (≤ 10 s) so long flows do not show as one-second spikes.

use std::net::IpAddr;

use serde::Serialize;
use serde::ser::SerializeMap;

use crate::record::FlowRecord;

/// Well-known UDP source ports of reflection/amplification attacks, with
/// the service's name.
pub const AMPLIFICATION_PORTS: [(u16, &str); 8] = [
    (53, "dns"),
    (123, "ntp"),
    (1900, "ssdp"),
    (11211, "memcached"),
    (389, "cldap"),
    (19, "chargen"),
    (161, "snmp"),
    (3702, "ws-discovery"),
];

/// Packets per amplification service, in [`AMPLIFICATION_PORTS`] order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Amplification(pub [u64; AMPLIFICATION_PORTS.len()]);

impl Amplification {
    /// The service with the most packets, and its packets.
    pub fn top(&self) -> Option<(&'static str, u64)> {
        self.0
            .iter()
            .zip(AMPLIFICATION_PORTS.iter())
            .filter(|(n, _)| **n > 0)
            .max_by_key(|(n, _)| **n)
            .map(|(n, (_, name))| (*name, *n))
    }
}

impl Serialize for Amplification {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        for (n, (_, name)) in self.0.iter().zip(AMPLIFICATION_PORTS.iter()) {
            if *n > 0 {
                m.serialize_entry(name, n)?;
            }
        }
        m.end()
    }
}

/// What one bucket (or an attack's total) holds. Protocol, SYN-only and
/// amplification counts are packets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counters {
    pub packets: u64,
    pub bytes: u64,
    pub flows: u64,
    pub tcp: u64,
    pub udp: u64,
    pub icmp: u64,
    pub other: u64,
    /// TCP packets of flows whose flags are SYN without ACK, FIN or RST.
    pub syn_only: u64,
    /// UDP packets from the amplification source ports, per service.
    pub amplification: Amplification,
}

const FIN: u8 = 0x01;
const SYN: u8 = 0x02;
const RST: u8 = 0x04;
const ACK: u8 = 0x10;

/// Where one record counts: its packets, the protocol counter they go
/// to, whether they are SYN-only, and the amplification service (index
/// into [`AMPLIFICATION_PORTS`]).
#[derive(Clone, Copy)]
struct Counted {
    packets: u64,
    proto: Proto,
    syn_only: bool,
    service: Option<usize>,
}

/// In [`SecondCounters::protos`] order.
#[derive(Clone, Copy)]
enum Proto {
    Tcp = 0,
    Udp = 1,
    Icmp = 2,
    Other = 3,
}

impl Counted {
    #[inline]
    fn of(r: &FlowRecord) -> Self {
        let (proto, syn_only, service) = match r.proto {
            6 => (Proto::Tcp, r.tcp_flags & (SYN | ACK | FIN | RST) == SYN, None),
            17 => (Proto::Udp, false, AMPLIFICATION_PORTS.iter().position(|(port, _)| *port == r.sport)),
            1 | 58 => (Proto::Icmp, false, None),
            _ => (Proto::Other, false, None),
        };
        Counted { packets: r.packets, proto, syn_only, service }
    }
}

impl Counters {
    /// Adds one flow record (its scaled counts).
    pub fn add(&mut self, r: &FlowRecord) {
        let c = Counted::of(r);
        let p = c.packets;
        self.packets = self.packets.saturating_add(p);
        self.bytes = self.bytes.saturating_add(r.bytes);
        self.flows = self.flows.saturating_add(1);
        let proto = match c.proto {
            Proto::Tcp => &mut self.tcp,
            Proto::Udp => &mut self.udp,
            Proto::Icmp => &mut self.icmp,
            Proto::Other => &mut self.other,
        };
        *proto = proto.saturating_add(p);
        if c.syn_only {
            self.syn_only = self.syn_only.saturating_add(p);
        }
        if let Some(n) = c.service.and_then(|i| self.amplification.0.get_mut(i)) {
            *n = n.saturating_add(p);
        }
    }

    /// Adds another bucket.
    pub fn merge(&mut self, o: &Counters) {
        self.packets = self.packets.saturating_add(o.packets);
        self.bytes = self.bytes.saturating_add(o.bytes);
        self.flows = self.flows.saturating_add(o.flows);
        self.tcp = self.tcp.saturating_add(o.tcp);
        self.udp = self.udp.saturating_add(o.udp);
        self.icmp = self.icmp.saturating_add(o.icmp);
        self.other = self.other.saturating_add(o.other);
        self.syn_only = self.syn_only.saturating_add(o.syn_only);
        for (a, b) in self.amplification.0.iter_mut().zip(o.amplification.0.iter()) {
            *a = a.saturating_add(*b);
        }
    }

    /// This bucket as per-second rates (it is one second long).
    pub fn rates(&self) -> Rates {
        Rates { pps: self.packets, bps: self.bytes.saturating_mul(8), flows: self.flows }
    }
}

/// One second of one protected host as the detector's host array holds
/// it: [`Counters`] with 32-bit flow, protocol and service counts (72
/// bytes, not 128, so 65,536 hosts stay in the cache). A host's count over
/// 4 billion in one second saturates; packets and bytes stay 64-bit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SecondCounters {
    pub packets: u64,
    pub bytes: u64,
    pub flows: u32,
    /// TCP, UDP, ICMP, other.
    protos: [u32; 4],
    syn_only: u32,
    amplification: [u32; AMPLIFICATION_PORTS.len()],
}

impl SecondCounters {
    /// Adds one flow record (its scaled counts).
    #[inline]
    pub fn add(&mut self, r: &FlowRecord) {
        let c = Counted::of(r);
        let p = u32::try_from(c.packets).unwrap_or(u32::MAX);
        self.packets = self.packets.saturating_add(c.packets);
        self.bytes = self.bytes.saturating_add(r.bytes);
        self.flows = self.flows.saturating_add(1);
        if let Some(n) = self.protos.get_mut(c.proto as usize) {
            *n = n.saturating_add(p);
        }
        if c.syn_only {
            self.syn_only = self.syn_only.saturating_add(p);
        }
        if let Some(n) = c.service.and_then(|i| self.amplification.get_mut(i)) {
            *n = n.saturating_add(p);
        }
    }

    #[inline]
    pub fn rates(&self) -> Rates {
        Rates { pps: self.packets, bps: self.bytes.saturating_mul(8), flows: u64::from(self.flows) }
    }

    pub fn counters(&self) -> Counters {
        let [tcp, udp, icmp, other] = self.protos;
        Counters {
            packets: self.packets,
            bytes: self.bytes,
            flows: u64::from(self.flows),
            tcp: u64::from(tcp),
            udp: u64::from(udp),
            icmp: u64::from(icmp),
            other: u64::from(other),
            syn_only: u64::from(self.syn_only),
            amplification: Amplification(self.amplification.map(u64::from)),
        }
    }
}

/// Per-second rates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Rates {
    pub pps: u64,
    pub bps: u64,
    /// Flow records per second.
    pub flows: u64,
}

impl Rates {
    /// The larger of each rate.
    pub fn max(self, o: Rates) -> Rates {
        Rates { pps: self.pps.max(o.pps), bps: self.bps.max(o.bps), flows: self.flows.max(o.flows) }
    }
}

/// One heavy hitter: an address and its (over-)estimated counts. `error`
/// bounds the over-estimate of `packets` (space-saving).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Talker {
    pub addr: IpAddr,
    pub packets: u64,
    pub bytes: u64,
    pub error: u64,
}

/// The space-saving heavy-hitters sketch (Metwally et al.) with `cap`
/// counters: any address with more than total/cap packets is in it, and
/// memory stays `cap` entries whatever the number of distinct addresses
/// (a spoofed-source flood). A linear scan per update: cap is small (10).
///
/// The addresses are kept apart from the counts, each as one `u128` (IPv4
/// as its IPv4-mapped IPv6 form), so the scan for an address is a run of
/// integer compares over one or two cache lines rather than a walk over
/// `IpAddr` enums; it was a quarter of the detector's time per record.
#[derive(Debug, Clone)]
pub struct TopN {
    cap: usize,
    keys: Vec<u128>,
    talkers: Vec<Talker>,
}

fn key_of(addr: IpAddr) -> u128 {
    match addr {
        IpAddr::V4(a) => u128::from(a.to_ipv6_mapped()),
        IpAddr::V6(a) => u128::from(a),
    }
}

impl TopN {
    pub fn new(cap: usize) -> Self {
        TopN { cap: cap.max(1), keys: Vec::new(), talkers: Vec::new() }
    }

    /// Counts `packets` and `bytes` for `addr`.
    #[inline]
    pub fn add(&mut self, addr: IpAddr, packets: u64, bytes: u64) {
        let key = key_of(addr);
        if let Some(t) = self.keys.iter().position(|&k| k == key).and_then(|i| self.talkers.get_mut(i)) {
            t.packets = t.packets.saturating_add(packets);
            t.bytes = t.bytes.saturating_add(bytes);
            return;
        }
        if self.keys.len() < self.cap {
            if self.keys.capacity() == 0 {
                // Sized once: a spoofed flood makes and drops sketches by
                // the thousand, and growing them doubled the allocations.
                self.keys.reserve_exact(self.cap);
                self.talkers.reserve_exact(self.cap);
            }
            self.keys.push(key);
            self.talkers.push(Talker { addr, packets, bytes, error: 0 });
            return;
        }
        // Replace the smallest counter; the newcomer inherits its count as
        // the bound of its over-estimate.
        let Some((i, floor)) = self.talkers.iter().map(|t| t.packets).enumerate().min_by_key(|&(_, p)| p) else {
            return;
        };
        if let (Some(k), Some(t)) = (self.keys.get_mut(i), self.talkers.get_mut(i)) {
            *k = key;
            *t = Talker { addr, packets: floor.saturating_add(packets), bytes, error: floor };
        }
    }

    pub fn clear(&mut self) {
        self.keys.clear();
        self.talkers.clear();
    }

    pub fn len(&self) -> usize {
        self.talkers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.talkers.is_empty()
    }

    /// The talkers, most packets first.
    pub fn top(&self) -> Vec<Talker> {
        let mut v = self.talkers.clone();
        v.sort_by(|a, b| b.packets.cmp(&a.packets).then(a.addr.cmp(&b.addr)));
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Version;
    use anbao_net::Timestamp;

    fn flow(proto: u8, sport: u16, flags: u8, packets: u64) -> FlowRecord {
        let mut r = FlowRecord::empty("192.0.2.1".parse().unwrap(), Version::NetflowV9, 0, Timestamp(0));
        r.proto = proto;
        r.sport = sport;
        r.tcp_flags = flags;
        r.set_counts(packets, packets * 100, 1);
        r
    }

    #[test]
    fn counters_split_protocols_syn_and_amplification() {
        let mut c = Counters::default();
        c.add(&flow(6, 1234, SYN, 10));
        c.add(&flow(6, 1234, SYN | ACK, 5));
        c.add(&flow(17, 123, 0, 7));
        c.add(&flow(17, 5000, 0, 1));
        c.add(&flow(1, 0, 0, 2));
        c.add(&flow(47, 0, 0, 3));
        assert_eq!((c.packets, c.bytes, c.flows), (28, 2800, 6));
        assert_eq!((c.tcp, c.syn_only, c.udp, c.icmp, c.other), (15, 10, 8, 2, 3));
        assert_eq!(c.amplification.top(), Some(("ntp", 7)));
        assert_eq!(serde_json::to_value(c.amplification).unwrap(), serde_json::json!({"ntp": 7}));
        assert_eq!(c.rates(), Rates { pps: 28, bps: 22400, flows: 6 });
    }

    #[test]
    fn a_host_second_counts_as_counters_do_and_saturates_its_narrow_counts() {
        let records = [
            flow(6, 1234, SYN, 10),
            flow(6, 80, ACK, 4),
            flow(17, 53, 0, 9),
            flow(17, 11211, 0, 2),
            flow(58, 0, 0, 1),
            flow(50, 0, 0, 6),
        ];
        let (mut wide, mut narrow) = (Counters::default(), SecondCounters::default());
        for r in &records {
            wide.add(r);
            narrow.add(r);
        }
        assert_eq!(narrow.counters(), wide);
        assert_eq!(narrow.rates(), wide.rates());
        // A hostile exporter's sampling rate: 64-bit packets and bytes go
        // on, the 32-bit protocol count stops at its top.
        let mut huge = flow(17, 123, 0, 0);
        huge.set_counts(u64::from(u32::MAX), u64::from(u32::MAX) * 100, 1);
        narrow.add(&huge);
        narrow.add(&huge);
        let c = narrow.counters();
        assert_eq!(c.packets, wide.packets + 2 * u64::from(u32::MAX));
        assert_eq!((c.udp, c.amplification.top()), (u64::from(u32::MAX), Some(("ntp", u64::from(u32::MAX)))));
    }

    #[test]
    fn space_saving_keeps_heavy_hitters_in_bounded_memory() {
        let mut top = TopN::new(10);
        let heavy: IpAddr = "198.51.100.7".parse().unwrap();
        for i in 0..200_000u32 {
            top.add(IpAddr::from(i.to_be_bytes()), 1, 60);
            if i % 10 == 0 {
                top.add(heavy, 5, 300);
            }
        }
        assert_eq!(top.len(), 10);
        let first = top.top()[0];
        assert_eq!(first.addr, heavy);
        // 100 000 true packets; the estimate never undercounts.
        assert!(first.packets >= 100_000 && first.packets - first.error <= 100_000);
    }

    #[test]
    fn talkers_keep_their_address_family_and_counts() {
        let mut top = TopN::new(3);
        let v4: IpAddr = "192.0.2.1".parse().unwrap();
        let v6: IpAddr = "2001:db8::1".parse().unwrap();
        top.add(v4, 2, 100);
        top.add(v6, 5, 500);
        top.add(v4, 4, 200);
        let t = top.top();
        assert_eq!(t.len(), 2);
        assert_eq!((t[0].addr, t[0].packets, t[0].bytes, t[0].error), (v4, 6, 300, 0));
        assert_eq!((t[1].addr, t[1].packets, t[1].bytes, t[1].error), (v6, 5, 500, 0));
        // Full: the smallest counter (192.0.2.9's 1) is replaced and
        // bounds the newcomer's error.
        top.add("192.0.2.9".parse().unwrap(), 1, 10);
        top.add("192.0.2.10".parse().unwrap(), 1, 10);
        let t = top.top();
        assert_eq!(t.len(), 3);
        assert!(t.iter().any(|x| x.addr == v6 && x.packets == 5));
        assert!(t.iter().any(|x| x.addr == v4 && x.packets == 6));
        assert!(!t.iter().any(|x| x.addr.to_string() == "192.0.2.9"));
        let newest = t.iter().find(|x| x.addr.to_string() == "192.0.2.10").unwrap();
        assert_eq!((newest.packets, newest.error), (2, 1));
        top.clear();
        assert!(top.is_empty());
    }
}
