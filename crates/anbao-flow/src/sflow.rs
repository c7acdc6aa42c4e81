//! sFlow version 5 (sflow.org, "sFlow Version 5", 2004): XDR-encoded
//! datagrams of samples.
//!
//! Datagram: version (5), agent address (type 1 IPv4 / 2 IPv6), sub-agent
//! id, sequence number, uptime, sample count, samples. Sample: a data
//! format (`enterprise << 12 | format`), a length, the body.
//! - Flow samples (0:1) and expanded flow samples (0:3) become one
//!   [`FlowRecord`] each: one sampled packet, scaled by the sample's
//!   sampling rate. The packet comes from the raw packet header record
//!   (0:1; Ethernet, IPv4 or IPv6 headers decoded by `anbao_net::packet`,
//!   `bytes` = the record's frame length) or, without one, from a sampled
//!   IPv4 (0:3) or IPv6 (0:4) record. Other flow records are skipped.
//! - Counter samples (0:2, 0:4) are counted and skipped, as are samples of
//!   other enterprises.
//!
//! sFlow has no flow times: `start` and `end` are the datagram's receive
//! time.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use anbao_net::Timestamp;
use anbao_net::capture::LinkType;
use anbao_net::packet::{self, LinkPayload, Transport};

use crate::bytes::Bytes;
use crate::error::FlowError;
use crate::record::{FlowRecord, Version};

/// The datagram header fields the decoder's accounting needs, and what the
/// samples were.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub sub_agent: u32,
    pub sequence: u32,
    pub flow_samples: u32,
    pub counter_samples: u32,
    /// Flow samples with no packet we could read (unknown header protocol,
    /// an unreadable header, no raw/IPv4/IPv6 record).
    pub undecodable: u32,
}

/// Whether `payload` starts like an sFlow v5 datagram.
pub fn is_sflow(payload: &[u8]) -> bool {
    payload.get(..4) == Some(&[0, 0, 0, 5])
}

/// Decodes an sFlow v5 datagram received at `received`, handing each
/// sampled packet to `out`. `rate_override` replaces the samples' rates.
pub fn decode(
    payload: &[u8],
    exporter: IpAddr,
    received: Timestamp,
    rate_override: Option<u32>,
    out: &mut impl FnMut(FlowRecord),
) -> Result<Summary, FlowError> {
    let b = Bytes::new(payload, 0);
    if b.u32(0, "sFlow version")? != 5 {
        return Err(FlowError::NotFlowExport { first: b.u32(0, "version")? });
    }
    let at = match b.u32(4, "agent address type")? {
        1 => 12,
        2 => 24,
        _ => return Err(FlowError::Malformed { what: "sFlow header", at: 4, why: "agent address type not 1 or 2" }),
    };
    let mut s = Summary {
        sub_agent: b.u32(at, "sub-agent id")?,
        sequence: b.u32(at + 4, "sequence number")?,
        ..Summary::default()
    };
    let samples = b.u32(at + 12, "sample count")?;
    let mut p = at + 16;
    for _ in 0..samples {
        let format = b.u32(p, "sample format")?;
        let len = usize::try_from(b.u32(p + 4, "sample length")?).unwrap_or(usize::MAX);
        let body = b.slice(p + 8, len, "sample")?;
        p = p + 8 + len;
        match format {
            1 | 3 => {
                s.flow_samples += 1;
                match flow_sample(body, format == 3, exporter, s.sub_agent, received, rate_override)? {
                    Some(rec) => out(rec),
                    None => s.undecodable += 1,
                }
            }
            2 | 4 => s.counter_samples += 1,
            _ => {}
        }
    }
    Ok(s)
}

fn flow_sample(
    body: Bytes<'_>,
    expanded: bool,
    exporter: IpAddr,
    domain: u32,
    received: Timestamp,
    rate_override: Option<u32>,
) -> Result<Option<FlowRecord>, FlowError> {
    // Compact: seq, source_id, rate, pool, drops, input, output, n.
    // Expanded: seq, source type, source index, rate, pool, drops,
    // input format, input, output format, output, n.
    let (rate_at, input_at, output_at, records_at) = if expanded { (12, 28, 36, 40) } else { (8, 20, 24, 28) };
    let rate = b32(body, rate_at, "sampling rate")?;
    let input = b32(body, input_at, "input interface")?;
    let output = b32(body, output_at, "output interface")?;
    let count = b32(body, records_at, "flow record count")?;
    let mut rec = FlowRecord::empty(exporter, Version::SflowV5, domain, received);
    // Compact form: the top 2 bits of the interface fields are a format.
    let (input, output) = if expanded { (input, output) } else { (input & 0x3fff_ffff, output & 0x3fff_ffff) };
    rec.in_if = Some(input);
    rec.out_if = Some(output);
    let mut found: Option<(FlowRecord, u64)> = None;
    let mut p = records_at + 4;
    for _ in 0..count {
        let format = b32(body, p, "flow record format")?;
        let len = usize::try_from(b32(body, p + 4, "flow record length")?).unwrap_or(usize::MAX);
        let data = body.slice(p + 8, len, "flow record")?;
        p = p + 8 + len;
        match format {
            1 => {
                if let Some(x) = raw_header(data, rec)? {
                    found = Some(x);
                }
            }
            3 | 4 if found.is_none() => found = sampled_ip(data, format == 4, rec)?,
            _ => {}
        }
    }
    Ok(found.map(|(mut r, bytes)| {
        r.set_counts(1, bytes, rate_override.unwrap_or(rate));
        r
    }))
}

fn b32(b: Bytes<'_>, at: usize, what: &'static str) -> Result<u32, FlowError> {
    b.u32(at, what)
}

/// Raw packet header (0:1): protocol, frame length, stripped, header
/// length, header bytes.
fn raw_header(data: Bytes<'_>, mut rec: FlowRecord) -> Result<Option<(FlowRecord, u64)>, FlowError> {
    let protocol = data.u32(0, "header protocol")?;
    let frame_length = data.u32(4, "frame length")?;
    let header_len = usize::try_from(data.u32(12, "header length")?).unwrap_or(usize::MAX);
    let header = data.slice(16, header_len, "sampled header")?.data;
    let link = match protocol {
        1 => LinkType::ETHERNET,
        11 => LinkType::IPV4,
        12 => LinkType::IPV6,
        _ => return Ok(None),
    };
    match packet::decode(link, header) {
        Ok(Some(p)) => {
            rec.src = p.src;
            rec.dst = p.dst;
            match p.transport {
                Transport::Udp(u) => {
                    rec.proto = packet::IPPROTO_UDP;
                    rec.sport = u.sport;
                    rec.dport = u.dport;
                }
                Transport::Tcp(t) => {
                    rec.proto = packet::IPPROTO_TCP;
                    rec.sport = t.sport;
                    rec.dport = t.dport;
                    rec.tcp_flags = t.flags.0;
                }
                Transport::Fragment { protocol, .. } | Transport::Other { protocol } => rec.proto = protocol,
            }
        }
        Ok(None) => return Ok(None),
        // The sampled header may end inside the transport header: the
        // addresses are still worth having.
        Err(_) => {
            let Ok(LinkPayload::Ip { version, offset, bytes }) = packet::link_payload(link, header) else {
                return Ok(None);
            };
            let Ok(ip) = packet::ip_packet(version, bytes, offset) else { return Ok(None) };
            rec.src = ip.src;
            rec.dst = ip.dst;
            rec.proto = ip.protocol;
        }
    }
    Ok(Some((rec, u64::from(frame_length))))
}

/// Sampled IPv4 (0:3) / IPv6 (0:4): length, protocol, addresses, ports,
/// TCP flags.
fn sampled_ip(data: Bytes<'_>, v6: bool, mut rec: FlowRecord) -> Result<Option<(FlowRecord, u64)>, FlowError> {
    let length = data.u32(0, "sampled IP length")?;
    rec.proto = data.u32(4, "sampled IP protocol")? as u8;
    let ports_at = if v6 {
        rec.src = IpAddr::V6(Ipv6Addr::from(data.array::<16>(8, "sampled IPv6 source")?));
        rec.dst = IpAddr::V6(Ipv6Addr::from(data.array::<16>(24, "sampled IPv6 destination")?));
        40
    } else {
        rec.src = IpAddr::V4(Ipv4Addr::from(data.array::<4>(8, "sampled IPv4 source")?));
        rec.dst = IpAddr::V4(Ipv4Addr::from(data.array::<4>(12, "sampled IPv4 destination")?));
        16
    };
    rec.sport = data.u32(ports_at, "sampled IP source port")? as u16;
    rec.dport = data.u32(ports_at + 4, "sampled IP destination port")? as u16;
    rec.tcp_flags = data.u32(ports_at + 8, "sampled IP TCP flags")? as u8;
    Ok(Some((rec, u64::from(length))))
}
