//! [`FlowRecord`]: one flow as an exporter reported it. Its JSON form is
//! the output of `anbao flow decode --json` (docs/flow-decode.md): keys are
//! added, never renamed.

use std::net::{IpAddr, Ipv4Addr};

use anbao_net::Timestamp;
use serde::Serialize;

/// The export protocol a record came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Version {
    #[serde(rename = "netflow5")]
    NetflowV5,
    #[serde(rename = "netflow9")]
    NetflowV9,
    #[serde(rename = "ipfix")]
    Ipfix,
    #[serde(rename = "sflow5")]
    SflowV5,
}

impl Version {
    pub fn as_str(self) -> &'static str {
        match self {
            Version::NetflowV5 => "netflow5",
            Version::NetflowV9 => "netflow9",
            Version::Ipfix => "ipfix",
            Version::SflowV5 => "sflow5",
        }
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One flow (or, for sFlow, one sampled packet).
///
/// `packets` and `bytes` are scaled by `sampling_rate` (an estimate of the
/// real traffic); `raw_packets` and `raw_bytes` are what the exporter sent.
/// With `sampling_rate` 1 they are equal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FlowRecord {
    /// The exporter: the UDP source address of the export datagram.
    pub exporter: IpAddr,
    pub version: Version,
    /// NetFlow v9 source id, IPFIX observation domain id, sFlow sub-agent id,
    /// NetFlow v5 `engine_type << 8 | engine_id`.
    pub domain: u32,
    /// 0.0.0.0 when the template carries no address.
    pub src: IpAddr,
    pub dst: IpAddr,
    pub sport: u16,
    /// For ICMP, `type << 8 | code` when the exporter reports no port (the
    /// NetFlow v5 convention, also applied to v9/IPFIX `icmpTypeCode*`).
    pub dport: u16,
    /// IP protocol number.
    pub proto: u8,
    pub packets: u64,
    pub bytes: u64,
    pub raw_packets: u64,
    pub raw_bytes: u64,
    /// First and last packet of the flow (absolute; for sFlow, the receive
    /// time of the datagram).
    pub start: Timestamp,
    pub end: Timestamp,
    /// Cumulative OR of the TCP flags seen (low 8 bits).
    pub tcp_flags: u8,
    /// 1 in `sampling_rate` packets was sampled (1: not sampled).
    pub sampling_rate: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_if: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub out_if: Option<u32>,
}

impl FlowRecord {
    /// An empty record of `exporter`: addresses unspecified, counts zero.
    pub fn empty(exporter: IpAddr, version: Version, domain: u32, at: Timestamp) -> Self {
        let none = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
        FlowRecord {
            exporter,
            version,
            domain,
            src: none,
            dst: none,
            sport: 0,
            dport: 0,
            proto: 0,
            packets: 0,
            bytes: 0,
            raw_packets: 0,
            raw_bytes: 0,
            start: at,
            end: at,
            tcp_flags: 0,
            sampling_rate: 1,
            in_if: None,
            out_if: None,
        }
    }

    /// Sets the raw counts and the rate, and the scaled counts from them.
    pub fn set_counts(&mut self, raw_packets: u64, raw_bytes: u64, sampling_rate: u32) {
        let rate = sampling_rate.max(1);
        self.raw_packets = raw_packets;
        self.raw_bytes = raw_bytes;
        self.sampling_rate = rate;
        self.packets = raw_packets.saturating_mul(u64::from(rate));
        self.bytes = raw_bytes.saturating_mul(u64::from(rate));
    }
}

/// Milliseconds since the epoch to a [`Timestamp`].
pub(crate) fn millis(ms: i64) -> Timestamp {
    Timestamp(ms.saturating_mul(1_000_000))
}

/// A flow time given as a sysUpTime (milliseconds since the exporter
/// booted) converted with the header's wall clock and uptime: the
/// difference is taken modulo 2^32 and read as signed, so flows that
/// started before the uptime counter wrapped (every 49.7 days) land before
/// the export, and a first-switched slightly after the header's uptime
/// lands slightly after it.
pub(crate) fn uptime_to_time(export: Timestamp, header_uptime_ms: u32, flow_uptime_ms: u32) -> Timestamp {
    let ago_ms = i64::from(header_uptime_ms.wrapping_sub(flow_uptime_ms) as i32);
    Timestamp(export.0.saturating_sub(ago_ms.saturating_mul(1_000_000)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uptime_conversion_survives_the_wrap() {
        let export = Timestamp(1_000_000_000_000_000_000);
        // Booted 10 s ago, flow started 4 s after boot: 6 s before export.
        assert_eq!(uptime_to_time(export, 10_000, 4_000), Timestamp(export.0 - 6_000_000_000));
        // Uptime wrapped: header at 1000 ms, flow at 2^32 - 1000 ms: 2 s ago.
        assert_eq!(uptime_to_time(export, 1_000, u32::MAX - 999), Timestamp(export.0 - 2_000_000_000));
    }

    #[test]
    fn scaled_counts_saturate() {
        let mut r = FlowRecord::empty("10.0.0.1".parse().unwrap(), Version::NetflowV5, 0, Timestamp(0));
        r.set_counts(3, u64::MAX, 100);
        assert_eq!((r.packets, r.bytes, r.raw_packets, r.sampling_rate), (300, u64::MAX, 3, 100));
        r.set_counts(3, 10, 0);
        assert_eq!((r.packets, r.bytes, r.sampling_rate), (3, 10, 1));
    }
}
