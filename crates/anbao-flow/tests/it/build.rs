//! Export datagrams built by hand, field by field as the RFCs and the sFlow
//! specification lay them out.

/// Appends big-endian integers.
pub trait Put {
    fn u8(&mut self, v: u8) -> &mut Self;
    fn u16(&mut self, v: u16) -> &mut Self;
    fn u32(&mut self, v: u32) -> &mut Self;
    fn bytes(&mut self, v: &[u8]) -> &mut Self;
}

impl Put for Vec<u8> {
    fn u8(&mut self, v: u8) -> &mut Self {
        self.push(v);
        self
    }
    fn u16(&mut self, v: u16) -> &mut Self {
        self.extend_from_slice(&v.to_be_bytes());
        self
    }
    fn u32(&mut self, v: u32) -> &mut Self {
        self.extend_from_slice(&v.to_be_bytes());
        self
    }
    fn bytes(&mut self, v: &[u8]) -> &mut Self {
        self.extend_from_slice(v);
        self
    }
}

/// A set (v9 FlowSet / IPFIX Set): id, length, body.
pub fn set(id: u16, body: &[u8]) -> Vec<u8> {
    let mut s = Vec::new();
    s.u16(id).u16((body.len() + 4) as u16).bytes(body);
    s
}

/// A template record: id, field count, (type, length) pairs.
pub fn template(id: u16, fields: &[(u16, u16)]) -> Vec<u8> {
    let mut t = Vec::new();
    t.u16(id).u16(fields.len() as u16);
    for &(ty, len) in fields {
        t.u16(ty).u16(len);
    }
    t
}

/// A NetFlow v9 datagram: header (uptime `uptime_ms`, unix secs `secs`,
/// sequence, source id) and sets.
pub fn v9(secs: u32, uptime_ms: u32, sequence: u32, source_id: u32, sets: &[Vec<u8>]) -> Vec<u8> {
    let mut d = Vec::new();
    d.u16(9).u16(sets.len() as u16).u32(uptime_ms).u32(secs).u32(sequence).u32(source_id);
    for s in sets {
        d.bytes(s);
    }
    d
}

/// An IPFIX message: header (export time, sequence, domain) and sets.
pub fn ipfix(secs: u32, sequence: u32, domain: u32, sets: &[Vec<u8>]) -> Vec<u8> {
    let body: Vec<u8> = sets.concat();
    let mut d = Vec::new();
    d.u16(10).u16((16 + body.len()) as u16).u32(secs).u32(sequence).u32(domain).bytes(&body);
    d
}

/// The IPv4 5-tuple template used throughout: src, dst, sport, dport,
/// proto, flags, packets, bytes, first, last (v9 field types).
pub const V4_FIELDS: [(u16, u16); 10] =
    [(8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (6, 1), (2, 4), (1, 4), (22, 4), (21, 4)];

/// A data record for [`V4_FIELDS`].
#[allow(clippy::too_many_arguments)]
pub fn v4_record(
    src: [u8; 4],
    dst: [u8; 4],
    sport: u16,
    dport: u16,
    packets: u32,
    bytes: u32,
    first: u32,
    last: u32,
) -> Vec<u8> {
    let mut r = Vec::new();
    r.bytes(&src).bytes(&dst).u16(sport).u16(dport).u8(6).u8(0x12).u32(packets).u32(bytes).u32(first).u32(last);
    r
}

/// A NetFlow v5 datagram with `records` (src, dst, packets, bytes).
pub fn v5(sequence: u32, sampling: u16, records: &[([u8; 4], [u8; 4], u32, u32)]) -> Vec<u8> {
    let mut d = Vec::new();
    d.u16(5).u16(records.len() as u16).u32(60_000).u32(1_700_000_000).u32(500_000_000).u32(sequence);
    d.u8(1).u8(7).u16(sampling);
    for (src, dst, packets, bytes) in records {
        d.bytes(src).bytes(dst).bytes(&[0; 4]).u16(3).u16(4).u32(*packets).u32(*bytes);
        d.u32(50_000).u32(59_000).u16(1234).u16(80).u8(0).u8(0x1b).u8(6).u8(0);
        d.bytes(&[0; 8]);
    }
    d
}

/// Ethernet + IPv4 + TCP (SYN) headers of a packet of `total` IP bytes.
pub fn eth_ipv4_tcp(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16, total: u16) -> Vec<u8> {
    let mut f = Vec::new();
    f.bytes(&[2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2]).u16(0x0800);
    f.bytes(&[0x45, 0]).u16(total).bytes(&[0, 1, 0x40, 0, 64, 6, 0, 0]).bytes(&src).bytes(&dst);
    f.u16(sport).u16(dport).u32(1000).u32(0).bytes(&[0x50, 0x02]).u16(65535).u32(0);
    f
}

/// IPv6 + UDP headers (no link layer) of a packet with `payload_len` UDP bytes.
pub fn ipv6_udp(src: [u8; 16], dst: [u8; 16], sport: u16, dport: u16, payload_len: u16) -> Vec<u8> {
    let mut p = Vec::new();
    p.bytes(&[0x60, 0, 0, 0]).u16(8 + payload_len).u8(17).u8(64).bytes(&src).bytes(&dst);
    p.u16(sport).u16(dport).u16(8 + payload_len).u16(0);
    p
}

/// XDR opaque: length, bytes, padding to 4.
fn opaque(out: &mut Vec<u8>, data: &[u8]) {
    out.u32(data.len() as u32).bytes(data);
    out.extend(std::iter::repeat_n(0, (4 - data.len() % 4) % 4));
}

/// A raw packet header flow record (0:1).
pub fn sflow_raw_header(protocol: u32, frame_length: u32, header: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    body.u32(protocol).u32(frame_length).u32(4);
    opaque(&mut body, header);
    let mut r = Vec::new();
    r.u32(1).u32(body.len() as u32).bytes(&body);
    r
}

/// A compact flow sample (0:1) holding `records`.
pub fn sflow_flow_sample(sequence: u32, rate: u32, records: &[Vec<u8>]) -> Vec<u8> {
    let mut body = Vec::new();
    body.u32(sequence).u32(3).u32(rate).u32(rate * 10).u32(0).u32(3).u32(4).u32(records.len() as u32);
    for r in records {
        body.bytes(r);
    }
    let mut s = Vec::new();
    s.u32(1).u32(body.len() as u32).bytes(&body);
    s
}

/// An expanded flow sample (0:3) holding `records`.
pub fn sflow_expanded_flow_sample(sequence: u32, rate: u32, records: &[Vec<u8>]) -> Vec<u8> {
    let mut body = Vec::new();
    body.u32(sequence).u32(0).u32(70_000).u32(rate).u32(rate * 10).u32(0);
    body.u32(0).u32(70_000).u32(0).u32(70_001).u32(records.len() as u32);
    for r in records {
        body.bytes(r);
    }
    let mut s = Vec::new();
    s.u32(3).u32(body.len() as u32).bytes(&body);
    s
}

/// A counter sample (0:2) with one generic interface record of zeros.
pub fn sflow_counter_sample(sequence: u32) -> Vec<u8> {
    let mut rec = Vec::new();
    rec.u32(1).u32(88).bytes(&[0; 88]);
    let mut body = Vec::new();
    body.u32(sequence).u32(3).u32(1).bytes(&rec);
    let mut s = Vec::new();
    s.u32(2).u32(body.len() as u32).bytes(&body);
    s
}

/// An sFlow v5 datagram from IPv4 agent 10.9.9.9.
pub fn sflow(sub_agent: u32, sequence: u32, samples: &[Vec<u8>]) -> Vec<u8> {
    let mut d = Vec::new();
    d.u32(5).u32(1).bytes(&[10, 9, 9, 9]).u32(sub_agent).u32(sequence).u32(123_456).u32(samples.len() as u32);
    for s in samples {
        d.bytes(s);
    }
    d
}

/// A pcap file (Ethernet) with each payload in an IPv4/UDP frame from
/// 192.0.2.1 to 192.0.2.2:`dport`.
pub fn pcap_of(dport: u16, payloads: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    out.extend_from_slice(&[2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    out.extend_from_slice(&65535u32.to_le_bytes());
    out.extend_from_slice(&1u32.to_le_bytes());
    for (i, p) in payloads.iter().enumerate() {
        let mut f = Vec::new();
        f.bytes(&[0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 1]).u16(0x0800);
        f.bytes(&[0x45, 0]).u16((28 + p.len()) as u16).bytes(&[0, 0, 0x40, 0, 64, 17, 0, 0]);
        f.bytes(&[192, 0, 2, 1]).bytes(&[192, 0, 2, 2]);
        f.u16(40000).u16(dport).u16((8 + p.len()) as u16).u16(0).bytes(p);
        out.extend_from_slice(&(1_700_000_000u32 + i as u32).to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&(f.len() as u32).to_le_bytes());
        out.extend_from_slice(&(f.len() as u32).to_le_bytes());
        out.extend_from_slice(&f);
    }
    out
}
