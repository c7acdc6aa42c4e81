//! NetFlow v5: a 24-byte header and up to 30 fixed 48-byte records.
//!
//! Header: version, count, sysUpTime (ms), unix_secs, unix_nsecs,
//! flow_sequence (flows exported before this datagram), engine_type,
//! engine_id, sampling_interval (top 2 bits the mode, low 14 the
//! interval). Record: srcaddr, dstaddr, nexthop, input, output, dPkts,
//! dOctets, First, Last (sysUpTime ms), srcport, dstport, pad, tcp_flags,
//! prot, tos, src_as, dst_as, src_mask, dst_mask, pad.

use std::net::{IpAddr, Ipv4Addr};

use anbao_net::Timestamp;

use crate::bytes::Bytes;
use crate::error::FlowError;
use crate::record::{FlowRecord, Version, uptime_to_time};

pub const HEADER_LEN: usize = 24;
pub const RECORD_LEN: usize = 48;

/// The header fields the decoder's accounting needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub count: u16,
    pub sequence: u32,
    /// `engine_type << 8 | engine_id`.
    pub domain: u32,
    /// The header's interval (1 when 0: not sampled).
    pub sampling_rate: u32,
}

/// Decodes a v5 datagram, handing each record to `out`. `rate_override`
/// replaces the header's sampling interval.
pub fn decode(
    payload: &[u8],
    exporter: IpAddr,
    rate_override: Option<u32>,
    out: &mut impl FnMut(FlowRecord),
) -> Result<Header, FlowError> {
    let b = Bytes::new(payload, 0);
    let head = b.slice(0, HEADER_LEN, "NetFlow v5 header")?;
    let count = head.u16(2, "count")?;
    if count == 0 {
        return Err(FlowError::Malformed { what: "NetFlow v5 header", at: 2, why: "record count 0" });
    }
    let uptime = head.u32(4, "sysUpTime")?;
    let secs = head.u32(8, "unix_secs")?;
    let nsecs = head.u32(12, "unix_nsecs")?;
    if nsecs >= 1_000_000_000 {
        return Err(FlowError::Malformed { what: "NetFlow v5 header", at: 12, why: "unix_nsecs over a second" });
    }
    let sequence = head.u32(16, "flow_sequence")?;
    let domain = u32::from(head.u16(20, "engine")?);
    let interval = u32::from(head.u16(22, "sampling_interval")? & 0x3fff).max(1);
    let export = Timestamp::from_secs_nanos(i64::from(secs), nsecs);
    let rate = rate_override.unwrap_or(interval);
    // The whole record area must be there: a datagram cut short is not
    // half-counted.
    let records = b.slice(HEADER_LEN, usize::from(count) * RECORD_LEN, "NetFlow v5 records")?;
    for i in 0..usize::from(count) {
        let r = records.slice(i * RECORD_LEN, RECORD_LEN, "NetFlow v5 record")?;
        let mut rec = FlowRecord::empty(exporter, Version::NetflowV5, domain, export);
        rec.src = IpAddr::V4(Ipv4Addr::from(r.array::<4>(0, "srcaddr")?));
        rec.dst = IpAddr::V4(Ipv4Addr::from(r.array::<4>(4, "dstaddr")?));
        rec.in_if = Some(u32::from(r.u16(12, "input")?));
        rec.out_if = Some(u32::from(r.u16(14, "output")?));
        let packets = r.u32(16, "dPkts")?;
        let octets = r.u32(20, "dOctets")?;
        rec.start = uptime_to_time(export, uptime, r.u32(24, "First")?);
        rec.end = uptime_to_time(export, uptime, r.u32(28, "Last")?);
        rec.sport = r.u16(32, "srcport")?;
        rec.dport = r.u16(34, "dstport")?;
        rec.tcp_flags = r.u8(37, "tcp_flags")?;
        rec.proto = r.u8(38, "prot")?;
        rec.set_counts(u64::from(packets), u64::from(octets), rate);
        out(rec);
    }
    Ok(Header { count, sequence, domain, sampling_rate: interval })
}
