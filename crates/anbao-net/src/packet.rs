//! Link, network and transport layers: from a frame's bytes to the IP
//! endpoints and the UDP/TCP payload, borrowing from the frame (no
//! allocation).
//!
//! Link layers: Ethernet II with any number (up to [`MAX_VLAN_TAGS`]) of
//! 802.1Q / 802.1ad (QinQ) tags, Linux cooked capture v1 and v2, raw IP
//! (LINKTYPE_RAW, IPV4, IPV6) and BSD loopback (NULL, LOOP; the address
//! family in either byte order, AF_INET6 as 24, 28 or 30).
//!
//! Network layers: IPv4 (options skipped, checksum not verified: captures
//! taken on the sending host carry offloaded, wrong checksums) and IPv6 with
//! hop-by-hop, routing, destination-options and fragment headers; any other
//! next header ends the walk and is reported as the upper-layer protocol.
//! Payloads are clipped to the IP length, so Ethernet padding and trailing
//! FCS never reach the application decoders. A total length of 0 (TCP
//! segmentation offload on the capturing host, IPv6 jumbograms) means "the
//! rest of the frame".
//!
//! Errors say which layer, what, and the byte offset in the frame. Headers
//! cut short by the capture (snaplen) are [`PacketError::Truncated`];
//! payloads cut short are delivered clipped and flagged `truncated`, since a
//! clipped DNS message still names its query.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::capture::LinkType;

/// Most VLAN tags read before giving up on a frame.
pub const MAX_VLAN_TAGS: usize = 8;

/// Most IPv6 extension headers walked before giving up on a packet.
pub const MAX_IPV6_EXTENSION_HEADERS: usize = 16;

pub const ETHERTYPE_IPV4: u16 = 0x0800;
pub const ETHERTYPE_IPV6: u16 = 0x86DD;

pub const IPPROTO_ICMP: u8 = 1;
pub const IPPROTO_TCP: u8 = 6;
pub const IPPROTO_UDP: u8 = 17;
pub const IPPROTO_ICMPV6: u8 = 58;

const IPV6_HOP_BY_HOP: u8 = 0;
const IPV6_ROUTING: u8 = 43;
const IPV6_FRAGMENT: u8 = 44;
const IPV6_DESTINATION_OPTIONS: u8 = 60;

/// The layer a decoding error is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Layer {
    Link,
    Ipv4,
    Ipv6,
    Udp,
    Tcp,
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Layer::Link => "link",
            Layer::Ipv4 => "IPv4",
            Layer::Ipv6 => "IPv6",
            Layer::Udp => "UDP",
            Layer::Tcp => "TCP",
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PacketError {
    #[error("link type {0} is not supported")]
    UnsupportedLinkType(u32),
    /// The capture ends inside a header.
    #[error("{layer} header truncated at byte {offset}: {what}")]
    Truncated { layer: Layer, offset: usize, what: &'static str },
    /// A header field that cannot be right.
    #[error("{layer} header malformed at byte {offset}: {what}")]
    Malformed { layer: Layer, offset: usize, what: &'static str },
}

impl PacketError {
    pub fn layer(&self) -> Layer {
        match self {
            PacketError::UnsupportedLinkType(_) => Layer::Link,
            PacketError::Truncated { layer, .. } | PacketError::Malformed { layer, .. } => *layer,
        }
    }
}

fn truncated(layer: Layer, offset: usize, what: &'static str) -> PacketError {
    PacketError::Truncated { layer, offset, what }
}

fn malformed(layer: Layer, offset: usize, what: &'static str) -> PacketError {
    PacketError::Malformed { layer, offset, what }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IpVersion {
    V4,
    V6,
}

/// What the link layer carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkPayload<'a> {
    /// An IP packet starting at `offset` in the frame.
    Ip { version: IpVersion, offset: usize, bytes: &'a [u8] },
    /// ARP, LLC, MPLS, an unknown address family …: nothing for us.
    NotIp,
}

#[inline]
fn be16(bytes: &[u8], at: usize) -> Option<u16> {
    let b = bytes.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes([*b.first()?, *b.get(1)?]))
}

#[inline]
fn be32(bytes: &[u8], at: usize) -> Option<u32> {
    let b: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_be_bytes(b))
}

#[inline]
fn le32(bytes: &[u8], at: usize) -> Option<u32> {
    let b: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_le_bytes(b))
}

#[inline]
fn byte(bytes: &[u8], at: usize) -> Option<u8> {
    bytes.get(at).copied()
}

/// Strips the link layer of a frame.
pub fn link_payload(link_type: LinkType, frame: &[u8]) -> Result<LinkPayload<'_>, PacketError> {
    match link_type {
        LinkType::ETHERNET => ethernet(frame),
        LinkType::LINUX_SLL => {
            const HEADER: usize = 16;
            let protocol = be16(frame, 14).ok_or(truncated(Layer::Link, 0, "Linux cooked header"))?;
            // ARPHRD_NETLINK: the protocol field is a netlink family, not an ethertype.
            if be16(frame, 2) == Some(824) {
                return Ok(LinkPayload::NotIp);
            }
            by_ethertype(protocol, frame, HEADER)
        }
        LinkType::LINUX_SLL2 => {
            const HEADER: usize = 20;
            if frame.len() < HEADER {
                return Err(truncated(Layer::Link, 0, "Linux cooked v2 header"));
            }
            if be16(frame, 8) == Some(824) {
                return Ok(LinkPayload::NotIp);
            }
            let protocol = be16(frame, 0).ok_or(truncated(Layer::Link, 0, "Linux cooked v2 header"))?;
            by_ethertype(protocol, frame, HEADER)
        }
        // 12 and 14 are DLT_RAW on some BSDs, written as-is by old libpcaps.
        LinkType::RAW | LinkType(12) | LinkType(14) => raw_ip(frame, 0),
        LinkType::IPV4 => Ok(ip_at(IpVersion::V4, frame, 0)),
        LinkType::IPV6 => Ok(ip_at(IpVersion::V6, frame, 0)),
        LinkType::NULL | LinkType::LOOP => loopback(frame),
        LinkType(other) => Err(PacketError::UnsupportedLinkType(other)),
    }
}

fn ip_at(version: IpVersion, frame: &[u8], offset: usize) -> LinkPayload<'_> {
    LinkPayload::Ip { version, offset, bytes: frame.get(offset..).unwrap_or_default() }
}

fn raw_ip(frame: &[u8], offset: usize) -> Result<LinkPayload<'_>, PacketError> {
    match byte(frame, offset).map(|b| b >> 4) {
        Some(4) => Ok(ip_at(IpVersion::V4, frame, offset)),
        Some(6) => Ok(ip_at(IpVersion::V6, frame, offset)),
        Some(_) => Err(malformed(Layer::Link, offset, "raw IP frame with an IP version other than 4 or 6")),
        None => Err(truncated(Layer::Link, offset, "empty raw IP frame")),
    }
}

fn ethernet(frame: &[u8]) -> Result<LinkPayload<'_>, PacketError> {
    let ethertype = be16(frame, 12).ok_or(truncated(Layer::Link, 0, "Ethernet header"))?;
    by_ethertype(ethertype, frame, 14)
}

/// Follows VLAN tags from `ethertype` (whose payload starts at `offset`) to
/// the network layer.
fn by_ethertype(mut ethertype: u16, frame: &[u8], mut offset: usize) -> Result<LinkPayload<'_>, PacketError> {
    for _ in 0..=MAX_VLAN_TAGS {
        match ethertype {
            ETHERTYPE_IPV4 => return Ok(ip_at(IpVersion::V4, frame, offset)),
            ETHERTYPE_IPV6 => return Ok(ip_at(IpVersion::V6, frame, offset)),
            // 802.1Q, 802.1ad, and the pre-standard QinQ values.
            0x8100 | 0x88A8 | 0x9100 | 0x9200 | 0x9300 => {
                ethertype = be16(frame, offset + 2).ok_or(truncated(Layer::Link, offset, "VLAN tag"))?;
                offset += 4;
            }
            _ => return Ok(LinkPayload::NotIp),
        }
    }
    Err(malformed(Layer::Link, offset, "more VLAN tags than the limit"))
}

/// BSD loopback: a 4-byte address family in the writer's byte order (NULL)
/// or network order (LOOP); both are tried since files travel.
fn loopback(frame: &[u8]) -> Result<LinkPayload<'_>, PacketError> {
    const AF_INET: u32 = 2;
    let (Some(le), Some(be)) = (le32(frame, 0), be32(frame, 0)) else {
        return Err(truncated(Layer::Link, 0, "loopback header"));
    };
    let family = if le <= 0xFF { le } else { be };
    match family {
        AF_INET => Ok(ip_at(IpVersion::V4, frame, 4)),
        // AF_INET6 on NetBSD/OpenBSD/BSD-OS/Npcap, FreeBSD, Darwin.
        24 | 28 | 30 => Ok(ip_at(IpVersion::V6, frame, 4)),
        _ => Ok(LinkPayload::NotIp),
    }
}

/// An IP fragment's place in its datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fragment {
    /// IPv4 identification (16 bits) or IPv6 fragment identification.
    pub id: u32,
    /// Byte offset of this fragment's data in the datagram's payload.
    pub offset: u16,
    /// More fragments follow.
    pub more: bool,
}

/// An IPv4 or IPv6 header, with the payload it carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpPacket<'a> {
    pub src: IpAddr,
    pub dst: IpAddr,
    /// The upper-layer protocol (after IPv6 extension headers).
    pub protocol: u8,
    pub fragment: Option<Fragment>,
    /// The payload, clipped to the IP length (and to what was captured).
    pub payload: &'a [u8],
    /// Offset of `payload` in the frame, for error offsets further up.
    pub payload_offset: usize,
    /// The capture holds fewer bytes than the IP length says.
    pub truncated: bool,
}

/// Decodes the IP header at the start of `bytes`; `offset` is where `bytes`
/// starts in the frame.
pub fn ip_packet(version: IpVersion, bytes: &[u8], offset: usize) -> Result<IpPacket<'_>, PacketError> {
    match version {
        IpVersion::V4 => ipv4(bytes, offset),
        IpVersion::V6 => ipv6(bytes, offset),
    }
}

fn ipv4(bytes: &[u8], offset: usize) -> Result<IpPacket<'_>, PacketError> {
    const L: Layer = Layer::Ipv4;
    let first = byte(bytes, 0).ok_or(truncated(L, offset, "no IPv4 header"))?;
    if first >> 4 != 4 {
        return Err(malformed(L, offset, "version is not 4"));
    }
    let header_len = usize::from(first & 0x0F) * 4;
    if header_len < 20 {
        return Err(malformed(L, offset, "header length under 20 bytes"));
    }
    if bytes.len() < header_len {
        return Err(truncated(L, offset, "header cut short by the capture"));
    }
    let total_len = usize::from(be16(bytes, 2).unwrap_or(0));
    let declared_end = if total_len == 0 {
        // Segmentation offload on the capturing host leaves 0 here.
        bytes.len()
    } else if total_len < header_len {
        return Err(malformed(L, offset + 2, "total length shorter than the header"));
    } else {
        total_len
    };
    let end = declared_end.min(bytes.len());
    let flags_offset = be16(bytes, 6).unwrap_or(0);
    let more = flags_offset & 0x2000 != 0;
    let fragment_offset = (flags_offset & 0x1FFF) << 3;
    let fragment = (more || fragment_offset != 0).then(|| Fragment {
        id: u32::from(be16(bytes, 4).unwrap_or(0)),
        offset: fragment_offset,
        more,
    });
    let addr = |at: usize| -> IpAddr {
        let octets: [u8; 4] = bytes.get(at..at + 4).and_then(|b| b.try_into().ok()).unwrap_or([0; 4]);
        IpAddr::V4(Ipv4Addr::from(octets))
    };
    Ok(IpPacket {
        src: addr(12),
        dst: addr(16),
        protocol: byte(bytes, 9).unwrap_or(0),
        fragment,
        payload: bytes.get(header_len..end).unwrap_or_default(),
        payload_offset: offset + header_len,
        truncated: declared_end > bytes.len(),
    })
}

fn ipv6(bytes: &[u8], offset: usize) -> Result<IpPacket<'_>, PacketError> {
    const L: Layer = Layer::Ipv6;
    const HEADER: usize = 40;
    let first = byte(bytes, 0).ok_or(truncated(L, offset, "no IPv6 header"))?;
    if first >> 4 != 6 {
        return Err(malformed(L, offset, "version is not 6"));
    }
    if bytes.len() < HEADER {
        return Err(truncated(L, offset, "header cut short by the capture"));
    }
    let payload_len = usize::from(be16(bytes, 4).unwrap_or(0));
    // 0: a jumbogram (RFC 2675) or segmentation offload; take what is there.
    let declared_end = if payload_len == 0 { bytes.len() } else { HEADER + payload_len };
    let end = declared_end.min(bytes.len());
    let addr = |at: usize| -> IpAddr {
        let octets: [u8; 16] = bytes.get(at..at + 16).and_then(|b| b.try_into().ok()).unwrap_or([0; 16]);
        IpAddr::V6(Ipv6Addr::from(octets))
    };
    let next = byte(bytes, 6).unwrap_or(0);
    let upper = ipv6_upper_layer(next, bytes.get(HEADER..end).unwrap_or_default(), offset + HEADER)?;
    Ok(IpPacket {
        src: addr(8),
        dst: addr(24),
        protocol: upper.protocol,
        fragment: upper.fragment,
        payload: upper.payload,
        payload_offset: upper.offset,
        truncated: declared_end > bytes.len(),
    })
}

/// Where an IPv6 extension-header chain ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv6UpperLayer<'a> {
    pub protocol: u8,
    pub fragment: Option<Fragment>,
    pub payload: &'a [u8],
    pub offset: usize,
}

/// Walks IPv6 extension headers from `next_header` over `bytes` (which
/// start at `offset` in the frame). Stops at a fragment header of a real
/// fragment (the rest is reassembled first), or at any header that is not
/// hop-by-hop, routing, destination options or fragment. Also used on a
/// reassembled datagram's payload.
pub fn ipv6_upper_layer(mut next_header: u8, bytes: &[u8], offset: usize) -> Result<Ipv6UpperLayer<'_>, PacketError> {
    const L: Layer = Layer::Ipv6;
    let mut rest = bytes;
    let mut at = offset;
    for _ in 0..MAX_IPV6_EXTENSION_HEADERS {
        match next_header {
            IPV6_HOP_BY_HOP | IPV6_ROUTING | IPV6_DESTINATION_OPTIONS => {
                let (Some(following), Some(units)) = (byte(rest, 0), byte(rest, 1)) else {
                    return Err(truncated(L, at, "extension header"));
                };
                let len = (usize::from(units) + 1) * 8;
                rest = rest.get(len..).ok_or(truncated(L, at, "extension header"))?;
                at += len;
                next_header = following;
            }
            IPV6_FRAGMENT => {
                let (Some(following), Some(offset_flags), Some(id)) = (byte(rest, 0), be16(rest, 2), be32(rest, 4))
                else {
                    return Err(truncated(L, at, "fragment header"));
                };
                rest = rest.get(8..).unwrap_or_default();
                at += 8;
                next_header = following;
                let fragment_offset = offset_flags & 0xFFF8;
                let more = offset_flags & 1 != 0;
                // An "atomic fragment" (RFC 6946) is a whole packet.
                if fragment_offset != 0 || more {
                    return Ok(Ipv6UpperLayer {
                        protocol: next_header,
                        fragment: Some(Fragment { id, offset: fragment_offset, more }),
                        payload: rest,
                        offset: at,
                    });
                }
            }
            _ => return Ok(Ipv6UpperLayer { protocol: next_header, fragment: None, payload: rest, offset: at }),
        }
    }
    Err(malformed(L, at, "more extension headers than the limit"))
}

/// TCP header flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;

    pub fn fin(self) -> bool {
        self.0 & Self::FIN != 0
    }
    pub fn syn(self) -> bool {
        self.0 & Self::SYN != 0
    }
    pub fn rst(self) -> bool {
        self.0 & Self::RST != 0
    }
    pub fn ack(self) -> bool {
        self.0 & Self::ACK != 0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UdpDatagram<'a> {
    pub sport: u16,
    pub dport: u16,
    /// Clipped to the UDP length and to what was captured.
    pub payload: &'a [u8],
    /// The UDP length says more than was captured.
    pub truncated: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpSegment<'a> {
    pub sport: u16,
    pub dport: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: TcpFlags,
    pub payload: &'a [u8],
}

/// The transport layer of an IP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport<'a> {
    Udp(UdpDatagram<'a>),
    Tcp(TcpSegment<'a>),
    /// A fragment: reassemble ([`crate::defrag`]) before decoding further.
    Fragment {
        protocol: u8,
        fragment: Fragment,
        payload: &'a [u8],
    },
    /// ICMP, ESP, … (the IP protocol number).
    Other {
        protocol: u8,
    },
}

/// Decodes a UDP or TCP header at the start of `bytes` (a whole IP
/// payload; `offset` is where it starts in the frame).
pub fn transport(protocol: u8, bytes: &[u8], offset: usize) -> Result<Transport<'_>, PacketError> {
    match protocol {
        IPPROTO_UDP => {
            const L: Layer = Layer::Udp;
            let (Some(sport), Some(dport), Some(len)) = (be16(bytes, 0), be16(bytes, 2), be16(bytes, 4)) else {
                return Err(truncated(L, offset, "UDP header"));
            };
            if bytes.len() < 8 {
                return Err(truncated(L, offset, "UDP header"));
            }
            let len = usize::from(len);
            let end = match len {
                // A jumbogram's UDP length is 0 (RFC 2675): the IP length rules.
                0 => bytes.len(),
                1..8 => return Err(malformed(L, offset + 4, "length under 8 bytes")),
                _ => len.min(bytes.len()),
            };
            Ok(Transport::Udp(UdpDatagram {
                sport,
                dport,
                payload: bytes.get(8..end).unwrap_or_default(),
                truncated: len > bytes.len(),
            }))
        }
        IPPROTO_TCP => {
            const L: Layer = Layer::Tcp;
            let (Some(sport), Some(dport), Some(seq), Some(ack), Some(data_offset), Some(flags)) =
                (be16(bytes, 0), be16(bytes, 2), be32(bytes, 4), be32(bytes, 8), byte(bytes, 12), byte(bytes, 13))
            else {
                return Err(truncated(L, offset, "TCP header"));
            };
            if bytes.len() < 20 {
                return Err(truncated(L, offset, "TCP header"));
            }
            let header_len = usize::from(data_offset >> 4) * 4;
            if header_len < 20 {
                return Err(malformed(L, offset + 12, "data offset under 20 bytes"));
            }
            let payload = bytes.get(header_len..).ok_or(truncated(L, offset, "TCP options"))?;
            Ok(Transport::Tcp(TcpSegment { sport, dport, seq, ack, flags: TcpFlags(flags), payload }))
        }
        other => Ok(Transport::Other { protocol: other }),
    }
}

/// A decoded packet: endpoints and transport, borrowed from the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet<'a> {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub transport: Transport<'a>,
    /// Some layer holds fewer bytes than its header says.
    pub truncated: bool,
}

/// Decodes a whole frame without reassembly: `Ok(None)` for frames that do
/// not carry IP; fragments come back as [`Transport::Fragment`].
pub fn decode(link_type: LinkType, frame: &[u8]) -> Result<Option<Packet<'_>>, PacketError> {
    let LinkPayload::Ip { version, offset, bytes } = link_payload(link_type, frame)? else {
        return Ok(None);
    };
    let ip = ip_packet(version, bytes, offset)?;
    let (transport, transport_truncated) = match ip.fragment {
        Some(fragment) => (Transport::Fragment { protocol: ip.protocol, fragment, payload: ip.payload }, false),
        None => {
            let t = transport(ip.protocol, ip.payload, ip.payload_offset)?;
            (t, matches!(t, Transport::Udp(UdpDatagram { truncated: true, .. })))
        }
    };
    Ok(Some(Packet { src: ip.src, dst: ip.dst, transport, truncated: ip.truncated || transport_truncated }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ipv4_udp(payload: &[u8]) -> Vec<u8> {
        let total = 20 + 8 + payload.len();
        let mut p = vec![0x45, 0, (total >> 8) as u8, total as u8, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2];
        let ulen = 8 + payload.len();
        p.extend_from_slice(&[0x30, 0x39, 0, 53, (ulen >> 8) as u8, ulen as u8, 0, 0]);
        p.extend_from_slice(payload);
        p
    }

    #[test]
    fn ethernet_padding_does_not_reach_the_payload() {
        let mut frame = vec![0u8; 12];
        frame.extend_from_slice(&[0x08, 0x00]);
        frame.extend(ipv4_udp(b"abc"));
        frame.extend_from_slice(&[0; 20]); // padding to the Ethernet minimum, plus an FCS
        let p = decode(LinkType::ETHERNET, &frame).unwrap().unwrap();
        let Transport::Udp(u) = p.transport else { panic!("{p:?}") };
        assert_eq!((u.sport, u.dport, u.payload), (12345, 53, &b"abc"[..]));
        assert!(!p.truncated);
    }

    #[test]
    fn qinq_tags_are_followed_and_too_many_are_refused() {
        let mut frame = vec![0u8; 12];
        frame.extend_from_slice(&[0x88, 0xA8, 0, 10, 0x81, 0x00, 0, 20, 0x08, 0x00]);
        frame.extend(ipv4_udp(b"x"));
        let p = decode(LinkType::ETHERNET, &frame).unwrap().unwrap();
        assert_eq!(p.src, "10.0.0.1".parse::<IpAddr>().unwrap());

        let mut frame = vec![0u8; 12];
        for _ in 0..=MAX_VLAN_TAGS {
            frame.extend_from_slice(&[0x81, 0x00, 0, 1]);
        }
        frame.extend_from_slice(&[0x08, 0x00]);
        frame.extend(ipv4_udp(b"x"));
        assert!(matches!(decode(LinkType::ETHERNET, &frame), Err(PacketError::Malformed { layer: Layer::Link, .. })));
    }

    #[test]
    fn loopback_family_in_either_byte_order() {
        for header in [[2, 0, 0, 0], [0, 0, 0, 2]] {
            let mut frame = header.to_vec();
            frame.extend(ipv4_udp(b"x"));
            assert!(decode(LinkType::NULL, &frame).unwrap().is_some());
            assert!(decode(LinkType::LOOP, &frame).unwrap().is_some());
        }
        assert_eq!(decode(LinkType::NULL, &[7, 0, 0, 0, 1, 2]).unwrap(), None);
        assert!(matches!(decode(LinkType::NULL, &[2, 0]), Err(PacketError::Truncated { .. })));
    }

    #[test]
    fn ipv4_total_length_zero_means_the_rest_of_the_frame() {
        let mut p = ipv4_udp(b"hello");
        p[2] = 0;
        p[3] = 0;
        let d = decode(LinkType::RAW, &p).unwrap().unwrap();
        let Transport::Udp(u) = d.transport else { panic!() };
        assert_eq!(u.payload, b"hello");
    }

    #[test]
    fn short_and_silly_headers_are_errors_with_offsets() {
        let p = ipv4_udp(b"x");
        assert_eq!(
            decode(LinkType::RAW, &p[..10]),
            Err(PacketError::Truncated { layer: Layer::Ipv4, offset: 0, what: "header cut short by the capture" })
        );
        let mut bad = p.clone();
        bad[0] = 0x44;
        assert!(matches!(decode(LinkType::IPV4, &bad), Err(PacketError::Malformed { layer: Layer::Ipv4, .. })));
        let mut bad = p.clone();
        bad[25] = 3; // UDP length 3
        assert_eq!(
            decode(LinkType::RAW, &bad),
            Err(PacketError::Malformed { layer: Layer::Udp, offset: 24, what: "length under 8 bytes" })
        );
        assert_eq!(decode(LinkType(147), &p), Err(PacketError::UnsupportedLinkType(147)));
    }

    #[test]
    fn ipv6_extension_headers_then_udp() {
        let mut p = vec![0x60, 0, 0, 0, 0, 0, 0, 64];
        p.extend_from_slice(&[0; 15]);
        p.push(1);
        p.extend_from_slice(&[0; 15]);
        p.push(2);
        // hop-by-hop (8 bytes) → destination options (16 bytes) → UDP
        p.extend_from_slice(&[60, 0, 1, 4, 0, 0, 0, 0]);
        p.extend_from_slice(&[17, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        p.extend_from_slice(&[0x30, 0x39, 0, 53, 0, 10, 0, 0, b'h', b'i']);
        let len = (p.len() - 40) as u16;
        p[4..6].copy_from_slice(&len.to_be_bytes());
        let d = decode(LinkType::IPV6, &p).unwrap().unwrap();
        assert_eq!(d.dst, "::2".parse::<IpAddr>().unwrap());
        let Transport::Udp(u) = d.transport else { panic!("{d:?}") };
        assert_eq!(u.payload, b"hi");

        // The same packet as the first of two fragments.
        let mut f = p[..40].to_vec();
        f[6] = 44;
        f.extend_from_slice(&[0, 0, 0, 1, 0xDE, 0xAD, 0xBE, 0xEF]);
        f.extend_from_slice(&p[40..]);
        let len = (f.len() - 40) as u16;
        f[4..6].copy_from_slice(&len.to_be_bytes());
        let d = decode(LinkType::RAW, &f).unwrap().unwrap();
        let Transport::Fragment { protocol, fragment, payload } = d.transport else { panic!("{d:?}") };
        assert_eq!((protocol, fragment), (0, Fragment { id: 0xDEAD_BEEF, offset: 0, more: true }));
        assert_eq!(payload, &p[40..]);
    }
}
