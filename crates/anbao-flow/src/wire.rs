//! The bus form of decoded flows (R8.4 scale-out, issue #6): what a
//! collector publishes to NATS JetStream for the aggregation workers, and
//! which partition a flow belongs to. Pure: bytes in, records out.
//!
//! A batch (one bus message) is a 16-byte header then fixed-size records,
//! all integers big-endian (docs/flow-collect.md has the table):
//!
//! - header: magic `AFB1`, the collector's clock when it sent the batch
//!   (i64 nanoseconds since the epoch; workers move their detector's clock
//!   to it, so an empty batch is a heartbeat), record count (u32);
//! - record ([`RECORD_LEN`] bytes): receive time (i64 ns), then the
//!   [`FlowRecord`]'s fields with addresses as 16 bytes (IPv4 mapped) and a
//!   flags byte saying which are IPv4 and which interfaces are present.
//!
//! A fixed layout rather than JSON: a worker reads a million records a
//! second without allocating, and the message size is known in advance.
//!
//! Partitions: [`partition_key`] picks what all flows of one protected host
//! share — its host group when the destination is in one (so group-level
//! detection, carpet bombing and baselines see the whole group), else its
//! /24 (IPv4) or /64 (IPv6); [`partition_of`] hashes that key (FNV-1a,
//! stable across versions and machines) onto the partitions.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use anbao_net::Timestamp;

use crate::record::{FlowRecord, Version};

/// The first four bytes of every batch.
pub const MAGIC: [u8; 4] = *b"AFB1";
/// Header bytes: magic, clock, count.
pub const HEADER_LEN: usize = 16;
/// Bytes per record.
pub const RECORD_LEN: usize = 128;

/// Why a batch could not be read.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    #[error("not a flow batch (magic {found:02x?})")]
    BadMagic { found: [u8; 4] },
    #[error("flow batch truncated: {records} records announced, {available} bytes of records")]
    Truncated { records: u32, available: usize },
    #[error("flow batch record {index}: unknown export version {version}")]
    BadVersion { index: u32, version: u8 },
}

const V4_EXPORTER: u8 = 1;
const V4_SRC: u8 = 2;
const V4_DST: u8 = 4;
const HAS_IN_IF: u8 = 8;
const HAS_OUT_IF: u8 = 16;

fn version_code(v: Version) -> u8 {
    match v {
        Version::NetflowV5 => 5,
        Version::NetflowV9 => 9,
        Version::Ipfix => 10,
        Version::SflowV5 => 50,
    }
}

fn version_of(code: u8) -> Option<Version> {
    match code {
        5 => Some(Version::NetflowV5),
        9 => Some(Version::NetflowV9),
        10 => Some(Version::Ipfix),
        50 => Some(Version::SflowV5),
        _ => None,
    }
}

fn put_addr(out: &mut Vec<u8>, ip: IpAddr) {
    let v6 = match ip {
        IpAddr::V4(a) => a.to_ipv6_mapped(),
        IpAddr::V6(a) => a,
    };
    out.extend_from_slice(&v6.octets());
}

/// A batch being filled.
#[derive(Debug, Clone)]
pub struct BatchWriter {
    buf: Vec<u8>,
    records: u32,
}

impl Default for BatchWriter {
    fn default() -> Self {
        let mut buf = Vec::with_capacity(HEADER_LEN + 64 * RECORD_LEN);
        buf.extend_from_slice(&MAGIC);
        buf.extend_from_slice(&[0; HEADER_LEN - 4]);
        BatchWriter { buf, records: 0 }
    }
}

impl BatchWriter {
    pub fn len(&self) -> u32 {
        self.records
    }

    pub fn is_empty(&self) -> bool {
        self.records == 0
    }

    /// Appends a record received at `at`.
    pub fn push(&mut self, r: &FlowRecord, at: Timestamp) {
        let b = &mut self.buf;
        b.extend_from_slice(&at.0.to_be_bytes());
        let mut flags = 0u8;
        for (ip, bit) in [(r.exporter, V4_EXPORTER), (r.src, V4_SRC), (r.dst, V4_DST)] {
            if ip.is_ipv4() {
                flags |= bit;
            }
        }
        if r.in_if.is_some() {
            flags |= HAS_IN_IF;
        }
        if r.out_if.is_some() {
            flags |= HAS_OUT_IF;
        }
        b.push(flags);
        b.push(version_code(r.version));
        b.extend_from_slice(&r.domain.to_be_bytes());
        put_addr(b, r.exporter);
        put_addr(b, r.src);
        put_addr(b, r.dst);
        b.extend_from_slice(&r.sport.to_be_bytes());
        b.extend_from_slice(&r.dport.to_be_bytes());
        b.push(r.proto);
        for n in [r.packets, r.bytes, r.raw_packets, r.raw_bytes] {
            b.extend_from_slice(&n.to_be_bytes());
        }
        b.extend_from_slice(&r.start.0.to_be_bytes());
        b.extend_from_slice(&r.end.0.to_be_bytes());
        b.push(r.tcp_flags);
        b.extend_from_slice(&r.sampling_rate.to_be_bytes());
        b.extend_from_slice(&r.in_if.unwrap_or(0).to_be_bytes());
        b.extend_from_slice(&r.out_if.unwrap_or(0).to_be_bytes());
        self.records += 1;
    }

    /// The finished batch stamped with the collector's clock `now`; the
    /// writer starts over empty.
    pub fn finish(&mut self, now: Timestamp) -> Vec<u8> {
        let mut out = std::mem::take(&mut self.buf);
        let stamp = now.0.to_be_bytes().into_iter().chain(self.records.to_be_bytes());
        for (slot, byte) in out.iter_mut().skip(4).zip(stamp) {
            *slot = byte;
        }
        *self = BatchWriter::default();
        out
    }
}

/// A batch read back: the collector's clock and its records.
#[derive(Debug, Clone, Copy)]
pub struct Batch<'a> {
    pub clock: Timestamp,
    pub count: u32,
    records: &'a [u8],
}

fn be<const N: usize>(b: &[u8], at: usize) -> [u8; N] {
    let mut out = [0u8; N];
    if let Some(s) = b.get(at..at + N) {
        out.copy_from_slice(s);
    }
    out
}

fn addr(b: &[u8], at: usize, v4: bool) -> IpAddr {
    let v6 = Ipv6Addr::from(be::<16>(b, at));
    match v6.to_ipv4_mapped() {
        Some(a) if v4 => IpAddr::V4(a),
        _ if v4 => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        _ => IpAddr::V6(v6),
    }
}

impl<'a> Batch<'a> {
    /// Checks the header and that every announced record is there.
    pub fn parse(data: &'a [u8]) -> Result<Batch<'a>, WireError> {
        let magic = be::<4>(data, 0);
        if data.len() < HEADER_LEN || magic != MAGIC {
            return Err(WireError::BadMagic { found: magic });
        }
        let clock = Timestamp(i64::from_be_bytes(be::<8>(data, 4)));
        let count = u32::from_be_bytes(be::<4>(data, 12));
        let records = data.get(HEADER_LEN..).unwrap_or_default();
        if (count as usize).checked_mul(RECORD_LEN) != Some(records.len()) {
            return Err(WireError::Truncated { records: count, available: records.len() });
        }
        Ok(Batch { clock, count, records })
    }

    /// The records with their receive times, in order.
    pub fn records(&self) -> impl Iterator<Item = Result<(FlowRecord, Timestamp), WireError>> + 'a {
        self.records.chunks_exact(RECORD_LEN).enumerate().map(|(i, b)| {
            let index = u32::try_from(i).unwrap_or(u32::MAX);
            let at = Timestamp(i64::from_be_bytes(be::<8>(b, 0)));
            let flags = b.get(8).copied().unwrap_or(0);
            let code = b.get(9).copied().unwrap_or(0);
            let version = version_of(code).ok_or(WireError::BadVersion { index, version: code })?;
            let u64_at = |at: usize| u64::from_be_bytes(be::<8>(b, at));
            let iface = |at: usize, bit: u8| (flags & bit != 0).then(|| u32::from_be_bytes(be::<4>(b, at)));
            let r = FlowRecord {
                exporter: addr(b, 14, flags & V4_EXPORTER != 0),
                version,
                domain: u32::from_be_bytes(be::<4>(b, 10)),
                src: addr(b, 30, flags & V4_SRC != 0),
                dst: addr(b, 46, flags & V4_DST != 0),
                sport: u16::from_be_bytes(be::<2>(b, 62)),
                dport: u16::from_be_bytes(be::<2>(b, 64)),
                proto: b.get(66).copied().unwrap_or(0),
                packets: u64_at(67),
                bytes: u64_at(75),
                raw_packets: u64_at(83),
                raw_bytes: u64_at(91),
                start: Timestamp(i64::from_be_bytes(be::<8>(b, 99))),
                end: Timestamp(i64::from_be_bytes(be::<8>(b, 107))),
                tcp_flags: b.get(115).copied().unwrap_or(0),
                sampling_rate: u32::from_be_bytes(be::<4>(b, 116)),
                in_if: iface(120, HAS_IN_IF),
                out_if: iface(124, HAS_OUT_IF),
            };
            Ok((r, at))
        })
    }
}

/// What all flows to one protected host share: its group's name when
/// `group` is given, else the destination's /24 (IPv4) or /64 (IPv6).
pub fn partition_key(dst: IpAddr, group: Option<&str>) -> Vec<u8> {
    match (group, dst) {
        (Some(name), _) => [b"group:".as_slice(), name.as_bytes()].concat(),
        (None, IpAddr::V4(a)) => a.octets().get(..3).unwrap_or_default().to_vec(),
        (None, IpAddr::V6(a)) => a.octets().get(..8).unwrap_or_default().to_vec(),
    }
}

/// The partition of a key ([`partition_key`]): FNV-1a modulo `partitions`.
pub fn partition_of(key: &[u8], partitions: u32) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    for &b in key {
        hash ^= u32::from(b);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash % partitions.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(src: &str, dst: &str, exporter: &str) -> FlowRecord {
        let mut r = FlowRecord::empty(exporter.parse().unwrap(), Version::Ipfix, 7, Timestamp(1_700_000_000_123));
        r.src = src.parse().unwrap();
        r.dst = dst.parse().unwrap();
        r.sport = 53;
        r.dport = 40_000;
        r.proto = 17;
        r.set_counts(3, 1400, 100);
        r.end = Timestamp(1_700_000_001_000);
        r.tcp_flags = 0x12;
        r.out_if = Some(4);
        r
    }

    #[test]
    fn batches_round_trip_every_field() {
        let a = record("198.51.100.7", "192.0.2.10", "10.0.0.1");
        let mut b = record("2001:db8::1", "2001:db8:1::10", "::ffff:10.0.0.2");
        b.in_if = Some(9);
        b.version = Version::SflowV5;
        let mut w = BatchWriter::default();
        w.push(&a, Timestamp(5_000_000_001));
        w.push(&b, Timestamp(6_000_000_002));
        let bytes = w.finish(Timestamp(7_000_000_000));
        assert_eq!(bytes.len(), HEADER_LEN + 2 * RECORD_LEN);
        assert!(w.is_empty());
        let batch = Batch::parse(&bytes).unwrap();
        assert_eq!((batch.clock, batch.count), (Timestamp(7_000_000_000), 2));
        let got: Vec<_> = batch.records().collect::<Result<_, _>>().unwrap();
        assert_eq!(got, vec![(a, Timestamp(5_000_000_001)), (b, Timestamp(6_000_000_002))]);
    }

    #[test]
    fn an_empty_batch_is_a_heartbeat_and_damage_is_refused() {
        let bytes = BatchWriter::default().finish(Timestamp(42));
        let batch = Batch::parse(&bytes).unwrap();
        assert_eq!((batch.clock, batch.count, batch.records().count()), (Timestamp(42), 0, 0));

        let mut w = BatchWriter::default();
        w.push(&record("1.2.3.4", "5.6.7.8", "9.9.9.9"), Timestamp(1));
        let full = w.finish(Timestamp(2));
        assert!(matches!(Batch::parse(&full[..full.len() - 1]), Err(WireError::Truncated { records: 1, .. })));
        assert!(matches!(Batch::parse(b"{\"json\": 1}xxxxxxx"), Err(WireError::BadMagic { .. })));
        let mut bad = full.clone();
        bad[HEADER_LEN + 9] = 77;
        let batch = Batch::parse(&bad).unwrap();
        assert_eq!(batch.records().next(), Some(Err(WireError::BadVersion { index: 0, version: 77 })));
    }

    #[test]
    fn hosts_of_one_prefix_or_group_share_a_partition() {
        let p = |ip: &str, group: Option<&str>| partition_of(&partition_key(ip.parse().unwrap(), group), 16);
        assert_eq!(p("192.0.2.1", None), p("192.0.2.254", None));
        assert_eq!(p("2001:db8:0:1::1", None), p("2001:db8:0:1:ffff::9", None));
        assert_eq!(p("192.0.2.1", Some("dc1")), p("203.0.113.9", Some("dc1")));
        // Spread: 256 /24s over 4 partitions leave none empty.
        let mut seen = [0u32; 4];
        for k in 0..=255u8 {
            seen[partition_of(&partition_key(IpAddr::V4(Ipv4Addr::new(10, k, 0, 1)), None), 4) as usize] += 1;
        }
        assert!(seen.iter().all(|&n| n > 30), "{seen:?}");
    }
}
