//! QUIC Initial packets (RFC 9000/9001, v2 RFC 9369, drafts 29–32): derive
//! the public Initial keys from the client's Destination Connection ID,
//! remove header protection, decrypt, and collect CRYPTO frames until the
//! ClientHello is whole (it may span several Initial packets and datagrams).
//!
//! This module owns the long header (coalesced packets, Retry, version
//! negotiation), the per-version Initial key schedule, packet-number
//! recovery, the frames an Initial may carry, and the bounded reassembly of
//! the client's CRYPTO stream. Reading the ClientHello itself (SNI, ALPN,
//! JA3, JA4) is [`crate::tls`]'s job: [`QuicInitials::datagram`] hands it the
//! reassembled handshake message.
//!
//! State is per client connection, keyed by the UDP flow and the client's
//! original Destination Connection ID, and bounded three ways: at most
//! `max_connections` connections (oldest flow evicted first), at most
//! [`MAX_CRYPTO_BYTES`] of CRYPTO data per connection, and at most
//! [`MAX_BUFFERED_BYTES`] buffered over all of them. A connection whose hello
//! was handed out is remembered (without its buffer) until evicted, so its
//! retransmissions and later Initials are `Ignored`, not reported again.

use std::collections::VecDeque;
use std::collections::hash_map::Entry;
use std::fmt;
use std::net::IpAddr;
use std::ops::Range;

use ring::aead::quic::HeaderProtectionKey;
use ring::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey};
use ring::hkdf;

use crate::event::TlsHello;
use crate::tls::{HelloStatus, parse_client_hello_handshake};

/// The client side of a UDP flow: (client address, client port, server
/// address, server port).
pub type FlowKey = (IpAddr, u16, IpAddr, u16);

/// Most CRYPTO bytes kept for one connection. A ClientHello with large
/// post-quantum key shares is a few KiB; anything past this is hostile.
pub const MAX_CRYPTO_BYTES: usize = 64 * 1024;

/// Most CRYPTO bytes buffered over all connections; the oldest flows are
/// evicted to stay under it.
pub const MAX_BUFFERED_BYTES: usize = 8 * 1024 * 1024;

/// Most disjoint pieces one connection's CRYPTO stream may be in while it
/// waits for the gaps (Chrome scatters a hello into about ten).
const MAX_CRYPTO_PIECES: usize = 32;

/// Connections kept per UDP flow (retries and re-connections from the same
/// port); the oldest of the flow goes first.
const MAX_CONNECTIONS_PER_FLOW: usize = 4;

/// RFC 9000 §17.2: connection IDs of versions 1 and 2 are at most 20 bytes.
const MAX_CID_LEN: usize = 20;

/// RFC 9000 §7.2: a client's first Destination Connection ID is at least 8
/// bytes, so a shorter one cannot start a connection.
const MIN_ORIGINAL_DCID_LEN: usize = 8;

/// AES-128-GCM tag and the header-protection sample are both 16 bytes.
const TAG_LEN: usize = 16;
const SAMPLE_LEN: usize = 16;

/// The port servers answer from; packets from it to another port are the
/// server's and never carry a ClientHello.
const HTTPS_PORT: u16 = 443;

#[derive(Debug, Clone, PartialEq)]
pub enum QuicOutcome {
    /// Not a QUIC long-header packet of a version we know.
    NotQuic,
    /// QUIC, but nothing for us (not a client Initial, or a later packet of
    /// a connection whose hello was already seen).
    Ignored,
    /// Part of a ClientHello; more Initial packets needed.
    Pending,
    Hello(TlsHello),
    /// A client Initial we could not read (authentication failed, malformed
    /// frames, CRYPTO data over the bound).
    Undecodable(&'static str),
}

/// What the QUIC layer alone makes of a datagram: [`QuicOutcome`] with the
/// reassembled handshake message in place of its reading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CryptoOutcome {
    NotQuic,
    Ignored,
    Pending,
    /// The whole ClientHello handshake message (type 1, 24-bit length, body)
    /// from the client's CRYPTO stream.
    ClientHello(Vec<u8>),
    Undecodable(&'static str),
}

impl CryptoOutcome {
    /// Which of two packets' outcomes a datagram reports: a failure is worth
    /// counting over progress, progress over nothing.
    fn rank(&self) -> u8 {
        match self {
            CryptoOutcome::NotQuic => 0,
            CryptoOutcome::Ignored => 1,
            CryptoOutcome::Pending => 2,
            CryptoOutcome::Undecodable(_) => 3,
            CryptoOutcome::ClientHello(_) => 4,
        }
    }
}

/// Bounded per-connection state for ClientHellos split across datagrams.
#[derive(Debug)]
pub struct QuicInitials {
    max_connections: usize,
    /// Keyed by the sender's tuple: foldhash with a per-process random seed
    /// (see `LruTable` in `tcp.rs`).
    flows: foldhash::HashMap<FlowKey, Vec<Connection>>,
    /// Flows in the order they were first seen; the front is evicted first.
    order: VecDeque<FlowKey>,
    connections: usize,
    /// CRYPTO bytes held by all connections.
    buffered: usize,
    /// Decryption happens in place; one buffer serves every packet.
    scratch: Vec<u8>,
}

impl QuicInitials {
    /// `max_connections` is at least 1.
    pub fn new(max_connections: usize) -> Self {
        QuicInitials {
            max_connections: max_connections.max(1),
            flows: foldhash::HashMap::default(),
            order: VecDeque::new(),
            connections: 0,
            buffered: 0,
            scratch: Vec::new(),
        }
    }

    /// Feeds one UDP payload sent from `flow.0:flow.1` to `flow.2:flow.3`.
    pub fn datagram(&mut self, flow: FlowKey, payload: &[u8]) -> QuicOutcome {
        match self.datagram_crypto(flow, payload) {
            CryptoOutcome::NotQuic => QuicOutcome::NotQuic,
            CryptoOutcome::Ignored => QuicOutcome::Ignored,
            CryptoOutcome::Pending => QuicOutcome::Pending,
            CryptoOutcome::Undecodable(what) => QuicOutcome::Undecodable(what),
            CryptoOutcome::ClientHello(message) => match parse_client_hello_handshake(&message, true) {
                HelloStatus::Complete(hello) => QuicOutcome::Hello(hello),
                HelloStatus::Partial | HelloStatus::NotTls => {
                    QuicOutcome::Undecodable("the CRYPTO stream's handshake message is not a readable ClientHello")
                }
            },
        }
    }

    /// The QUIC half of [`datagram`](Self::datagram): the same state
    /// changes, and the ClientHello handshake message instead of its reading.
    pub fn datagram_crypto(&mut self, flow: FlowKey, payload: &[u8]) -> CryptoOutcome {
        let mut rest = payload;
        let mut outcome = CryptoOutcome::NotQuic;
        let mut first = true;
        // Each pass consumes at least a 7-byte header or leaves the loop.
        while !rest.is_empty() {
            let packet_outcome = match parse_long_packet(rest) {
                Parsed::Packet(packet, after) => {
                    rest = after;
                    match packet.packet_type {
                        PacketType::Initial => self.client_initial(flow, &packet),
                        PacketType::Retry => {
                            self.server_retry(flow, &packet);
                            CryptoOutcome::Ignored
                        }
                        PacketType::ZeroRtt | PacketType::Handshake => CryptoOutcome::Ignored,
                    }
                }
                // A short-header packet may only come last; padding after the
                // last packet is not a packet either.
                Parsed::NotLong => break,
                Parsed::VersionNegotiation => {
                    rest = &[];
                    CryptoOutcome::Ignored
                }
                Parsed::Malformed { initial, what } => {
                    rest = &[];
                    if initial { CryptoOutcome::Undecodable(what) } else { CryptoOutcome::Ignored }
                }
            };
            first = false;
            if matches!(packet_outcome, CryptoOutcome::ClientHello(_)) {
                return packet_outcome;
            }
            if packet_outcome.rank() > outcome.rank() {
                outcome = packet_outcome;
            }
        }
        if first { CryptoOutcome::NotQuic } else { outcome }
    }

    /// Client connections tracked (pending or answered).
    pub fn connection_count(&self) -> usize {
        self.connections
    }

    /// CRYPTO bytes buffered for pending ClientHellos.
    pub fn buffered_bytes(&self) -> usize {
        self.buffered
    }

    fn client_initial(&mut self, flow: FlowKey, packet: &LongPacket<'_>) -> CryptoOutcome {
        // The server's Initials use its own keys; skip them without trying.
        if (flow.1 == HTTPS_PORT && flow.3 != HTTPS_PORT) || self.flows.contains_key(&reverse(flow)) {
            return CryptoOutcome::Ignored;
        }
        if packet.bytes.len() < packet.pn_offset.saturating_add(4 + SAMPLE_LEN) {
            return CryptoOutcome::Undecodable("Initial packet too short for its header-protection sample");
        }
        let mut scratch = std::mem::take(&mut self.scratch);
        let outcome = self.open_and_collect(flow, packet, &mut scratch);
        self.scratch = scratch;
        outcome
    }

    fn open_and_collect(&mut self, flow: FlowKey, packet: &LongPacket<'_>, scratch: &mut Vec<u8>) -> CryptoOutcome {
        // A tracked connection first: the same DCID, else any of the flow's
        // (after the server answers, the client's Initials carry the
        // server's connection ID but keep the original keys).
        let mut opened = None;
        if let Some(connections) = self.flows.get(&flow) {
            let exact = connections.iter().position(|c| c.dcid.as_slice() == packet.dcid);
            if exact.and_then(|i| connections.get(i)).is_some_and(|c| c.stream.is_none()) {
                return CryptoOutcome::Ignored;
            }
            let others = (0..connections.len()).rev().filter(|&i| Some(i) != exact);
            for index in exact.into_iter().chain(others) {
                let Some(connection) = connections.get(index) else { continue };
                if let Some((pn, plaintext)) = open(&connection.keys, packet, connection.largest_pn, scratch) {
                    opened = Some((index, pn, plaintext));
                    break;
                }
            }
            if opened.is_none() && exact.is_some() {
                return CryptoOutcome::Undecodable("Initial packet does not authenticate with its connection's keys");
            }
        }

        let mut new_connection = None;
        let (known_index, plaintext) = match opened {
            Some((index, pn, plaintext)) => {
                let Some(connection) = self.flows.get_mut(&flow).and_then(|c| c.get_mut(index)) else {
                    return CryptoOutcome::Ignored;
                };
                if connection.stream.is_none() {
                    return CryptoOutcome::Ignored;
                }
                connection.largest_pn = Some(connection.largest_pn.map_or(pn, |l| l.max(pn)));
                (Some(index), plaintext)
            }
            None => {
                if packet.dcid.len() < MIN_ORIGINAL_DCID_LEN {
                    return CryptoOutcome::Ignored;
                }
                let (Some(dcid), Some(scid)) = (ConnectionId::new(packet.dcid), ConnectionId::new(packet.scid)) else {
                    return CryptoOutcome::Undecodable("connection ID longer than 20 bytes");
                };
                let Some(keys) = InitialKeys::client(packet.version, packet.dcid) else {
                    return CryptoOutcome::Undecodable("Initial keys could not be derived");
                };
                let Some((pn, plaintext)) = open(&keys, packet, None, scratch) else {
                    return CryptoOutcome::Undecodable(
                        "Initial packet does not authenticate with the client Initial keys",
                    );
                };
                new_connection =
                    Some(Connection { dcid, scid, keys, largest_pn: Some(pn), stream: Some(CryptoStream::default()) });
                (None, plaintext)
            }
        };
        let payload = scratch.get(plaintext).unwrap_or(&[]);

        // Validate every frame before any CRYPTO data is kept.
        let summary = match walk_frames(payload, |_, _| Ok(())) {
            Ok(summary) => summary,
            Err(what) => return CryptoOutcome::Undecodable(what),
        };
        let index = match (known_index, new_connection) {
            (Some(index), _) => index,
            // An Initial without CRYPTO data does not start a connection.
            (None, Some(_)) if summary.crypto_frames == 0 => return CryptoOutcome::Ignored,
            (None, Some(connection)) => self.insert_connection(flow, connection),
            (None, None) => return CryptoOutcome::Ignored,
        };
        if summary.crypto_frames == 0 {
            return CryptoOutcome::Pending;
        }
        self.collect(flow, index, payload, summary.crypto_end)
    }

    /// Adds a packet's CRYPTO frames to connection `index` of `flow` and
    /// hands out the ClientHello once it is whole.
    fn collect(&mut self, flow: FlowKey, index: usize, payload: &[u8], crypto_end: usize) -> CryptoOutcome {
        let held = self.stream_len(flow, index);
        let growth = crypto_end.min(MAX_CRYPTO_BYTES).saturating_sub(held);
        if !self.make_room_for_bytes(flow, growth) {
            self.give_up(flow, index);
            return CryptoOutcome::Undecodable("CRYPTO buffers of all connections over their bound");
        }
        let Some(stream) = self.flows.get_mut(&flow).and_then(|c| c.get_mut(index)).and_then(|c| c.stream.as_mut())
        else {
            return CryptoOutcome::Ignored;
        };
        let inserted = walk_frames(payload, |offset, data| stream.insert(offset, data));
        let whole = inserted.and_then(|_| stream.whole_message_len());
        let now_held = stream.bytes.len();
        self.buffered = self.buffered.saturating_add(now_held.saturating_sub(held));
        match whole {
            Err(what) => {
                self.give_up(flow, index);
                CryptoOutcome::Undecodable(what)
            }
            Ok(None) => CryptoOutcome::Pending,
            Ok(Some(len)) => {
                let Some(mut message) = self.give_up(flow, index) else { return CryptoOutcome::Ignored };
                message.truncate(len);
                CryptoOutcome::ClientHello(message)
            }
        }
    }

    fn stream_len(&self, flow: FlowKey, index: usize) -> usize {
        self.flows.get(&flow).and_then(|c| c.get(index)).and_then(|c| c.stream.as_ref()).map_or(0, |s| s.bytes.len())
    }

    /// Ends collection for a connection (hello handed out, or unreadable):
    /// its later packets are ignored. Returns the bytes it held.
    fn give_up(&mut self, flow: FlowKey, index: usize) -> Option<Vec<u8>> {
        let stream = self.flows.get_mut(&flow)?.get_mut(index)?.stream.take()?;
        self.buffered = self.buffered.saturating_sub(stream.bytes.len());
        Some(stream.bytes)
    }

    /// Evicts the oldest flows other than `current` until `growth` more
    /// bytes fit under [`MAX_BUFFERED_BYTES`].
    fn make_room_for_bytes(&mut self, current: FlowKey, growth: usize) -> bool {
        let mut turns = self.order.len();
        while self.buffered.saturating_add(growth) > MAX_BUFFERED_BYTES && turns > 0 {
            turns -= 1;
            let Some(oldest) = self.order.pop_front() else { break };
            if oldest == current {
                self.order.push_back(oldest);
            } else {
                self.drop_flow(oldest);
            }
        }
        self.buffered.saturating_add(growth) <= MAX_BUFFERED_BYTES
    }

    /// Adds a connection to `flow` within the bounds; returns its index.
    fn insert_connection(&mut self, flow: FlowKey, connection: Connection) -> usize {
        if let Some(connections) = self.flows.get_mut(&flow)
            && connections.len() >= MAX_CONNECTIONS_PER_FLOW
        {
            let oldest = connections.remove(0);
            self.connections = self.connections.saturating_sub(1);
            self.buffered = self.buffered.saturating_sub(oldest.stream.map_or(0, |s| s.bytes.len()));
        }
        while self.connections >= self.max_connections {
            let Some(oldest) = self.order.pop_front() else { break };
            self.drop_flow(oldest);
        }
        let connections = match self.flows.entry(flow) {
            Entry::Occupied(entry) => entry.into_mut(),
            Entry::Vacant(entry) => {
                self.order.push_back(flow);
                entry.insert(Vec::with_capacity(1))
            }
        };
        connections.push(connection);
        self.connections = self.connections.saturating_add(1);
        connections.len().saturating_sub(1)
    }

    fn drop_flow(&mut self, flow: FlowKey) {
        if let Some(connections) = self.flows.remove(&flow) {
            self.connections = self.connections.saturating_sub(connections.len());
            let held: usize = connections.iter().filter_map(|c| c.stream.as_ref()).map(|s| s.bytes.len()).sum();
            self.buffered = self.buffered.saturating_sub(held);
        }
    }

    /// A server's Retry (RFC 9000 §17.2.5) makes the client send its
    /// ClientHello again under keys from a new connection ID. If the first
    /// hello was already handed out, the repeat is remembered as answered
    /// too, so one connection reports one hello.
    fn server_retry(&mut self, flow: FlowKey, packet: &LongPacket<'_>) {
        let client = reverse(flow);
        let Some(connections) = self.flows.get(&client) else { return };
        let Some(answered) = connections.iter().find(|c| c.stream.is_none() && c.scid.as_slice() == packet.dcid) else {
            return;
        };
        if connections.iter().any(|c| c.dcid.as_slice() == packet.scid) {
            return;
        }
        let client_scid = answered.scid;
        let (Some(dcid), Some(keys)) =
            (ConnectionId::new(packet.scid), InitialKeys::client(packet.version, packet.scid))
        else {
            return;
        };
        self.insert_connection(client, Connection { dcid, scid: client_scid, keys, largest_pn: None, stream: None });
    }
}

fn reverse(flow: FlowKey) -> FlowKey {
    (flow.2, flow.3, flow.0, flow.1)
}

/// One client connection's Initial state.
#[derive(Debug)]
struct Connection {
    /// The Destination Connection ID the keys come from.
    dcid: ConnectionId,
    /// The client's own connection ID (a Retry is addressed to it).
    scid: ConnectionId,
    keys: InitialKeys,
    largest_pn: Option<u64>,
    /// `None` once the hello was handed out or the stream proved unreadable.
    stream: Option<CryptoStream>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ConnectionId {
    len: u8,
    bytes: [u8; MAX_CID_LEN],
}

impl ConnectionId {
    fn new(id: &[u8]) -> Option<Self> {
        let len = u8::try_from(id.len()).ok().filter(|&len| usize::from(len) <= MAX_CID_LEN)?;
        let mut bytes = [0; MAX_CID_LEN];
        bytes.get_mut(..id.len())?.copy_from_slice(id);
        Some(ConnectionId { len, bytes })
    }

    fn as_slice(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or(&[])
    }
}

/// The client's CRYPTO stream so far: bytes by offset, and which ranges of
/// them arrived (sorted, disjoint, not touching). Overlaps keep the bytes
/// that came first.
#[derive(Debug, Default)]
struct CryptoStream {
    bytes: Vec<u8>,
    received: Vec<Range<usize>>,
}

impl CryptoStream {
    fn insert(&mut self, offset: u64, data: &[u8]) -> Result<(), &'static str> {
        if data.is_empty() {
            return Ok(());
        }
        const OVER: &str = "CRYPTO data beyond the 64 KiB bound";
        let start = usize::try_from(offset).map_err(|_| OVER)?;
        let end = start.checked_add(data.len()).filter(|&end| end <= MAX_CRYPTO_BYTES).ok_or(OVER)?;
        if self.bytes.len() < end {
            self.bytes.resize(end, 0);
        }
        // Copy only into the gaps between ranges already received.
        let mut cursor = start;
        for range in &self.received {
            if range.end <= cursor {
                continue;
            }
            if range.start >= end {
                break;
            }
            if range.start > cursor {
                copy_piece(&mut self.bytes, data, start, cursor..range.start);
            }
            cursor = range.end;
            if cursor >= end {
                break;
            }
        }
        if cursor < end {
            copy_piece(&mut self.bytes, data, start, cursor..end);
        }

        let mut merged = start..end;
        self.received.retain(|range| {
            let apart = range.end < merged.start || range.start > merged.end;
            if !apart {
                merged = merged.start.min(range.start)..merged.end.max(range.end);
            }
            apart
        });
        let at = self.received.partition_point(|range| range.start < merged.start);
        self.received.insert(at, merged);
        if self.received.len() > MAX_CRYPTO_PIECES {
            return Err("CRYPTO stream in too many pieces");
        }
        Ok(())
    }

    /// The length of the first handshake message once all of it is here.
    fn whole_message_len(&self) -> Result<Option<usize>, &'static str> {
        let contiguous = match self.received.first() {
            Some(range) if range.start == 0 => range.end,
            _ => return Ok(None),
        };
        let Some(&[message_type, a, b, c]) = self.bytes.get(..4).filter(|_| contiguous >= 4) else {
            return match self.bytes.first() {
                Some(&message_type) if contiguous >= 1 && message_type != 1 => {
                    Err("CRYPTO stream does not start with a ClientHello")
                }
                _ => Ok(None),
            };
        };
        if message_type != 1 {
            return Err("CRYPTO stream does not start with a ClientHello");
        }
        let len = 4 + usize::from(a) * 65536 + usize::from(b) * 256 + usize::from(c);
        if len > MAX_CRYPTO_BYTES {
            return Err("ClientHello longer than the 64 KiB bound");
        }
        Ok((contiguous >= len).then_some(len))
    }
}

/// Copies `data`'s bytes for stream range `piece` (data starts at stream
/// offset `start`).
fn copy_piece(bytes: &mut [u8], data: &[u8], start: usize, piece: Range<usize>) {
    let from = piece.start.saturating_sub(start)..piece.end.saturating_sub(start);
    if let (Some(to), Some(from)) = (bytes.get_mut(piece), data.get(from)) {
        to.copy_from_slice(from);
    }
}

/// What the frames of one Initial packet hold.
#[derive(Debug, Clone, Copy, Default)]
struct FrameSummary {
    crypto_frames: usize,
    /// One past the last CRYPTO byte (capped by the type's range).
    crypto_end: usize,
}

/// Walks the frames of a decrypted Initial payload (RFC 9000 §12.4: only
/// PADDING, PING, ACK, CRYPTO and CONNECTION_CLOSE may appear), calling
/// `on_crypto` with each CRYPTO frame's offset and data.
fn walk_frames(
    payload: &[u8],
    mut on_crypto: impl FnMut(u64, &[u8]) -> Result<(), &'static str>,
) -> Result<FrameSummary, &'static str> {
    const TRUNCATED: &str = "Initial frame truncated";
    let mut summary = FrameSummary::default();
    let mut r = Reader::new(payload);
    while let Some(frame_type) = r.varint() {
        match frame_type {
            0x00 => r.skip_zeros(),
            0x01 => {}
            0x02 | 0x03 => {
                let _largest = r.varint().ok_or(TRUNCATED)?;
                let _delay = r.varint().ok_or(TRUNCATED)?;
                let ranges = r.varint().ok_or(TRUNCATED)?;
                let _first_range = r.varint().ok_or(TRUNCATED)?;
                // Each range reads at least two bytes, so this ends with the
                // payload whatever the count claims.
                for _ in 0..ranges {
                    r.varint().ok_or(TRUNCATED)?;
                    r.varint().ok_or(TRUNCATED)?;
                }
                if frame_type == 0x03 {
                    for _ in 0..3 {
                        r.varint().ok_or(TRUNCATED)?;
                    }
                }
            }
            0x06 => {
                let offset = r.varint().ok_or(TRUNCATED)?;
                let len = r.varint().ok_or(TRUNCATED)?;
                let data = usize::try_from(len).ok().and_then(|len| r.take(len)).ok_or(TRUNCATED)?;
                let end = offset.saturating_add(len);
                summary.crypto_frames += 1;
                summary.crypto_end = summary.crypto_end.max(usize::try_from(end).unwrap_or(usize::MAX));
                on_crypto(offset, data)?;
            }
            0x1c => {
                let _error = r.varint().ok_or(TRUNCATED)?;
                let _frame = r.varint().ok_or(TRUNCATED)?;
                let reason = r.varint().ok_or(TRUNCATED)?;
                usize::try_from(reason).ok().and_then(|len| r.take(len)).ok_or(TRUNCATED)?;
            }
            _ => return Err("frame type not allowed in an Initial packet"),
        }
    }
    if !r.is_empty() {
        return Err(TRUNCATED);
    }
    Ok(summary)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PacketType {
    Initial,
    ZeroRtt,
    Handshake,
    Retry,
}

/// What differs between the QUIC versions whose Initials we can read.
#[derive(Debug)]
struct Version {
    number: u32,
    salt: [u8; 20],
    key_label: &'static [u8],
    iv_label: &'static [u8],
    hp_label: &'static [u8],
    /// Packet type by the long header's two type bits.
    types: [PacketType; 4],
}

const V1_TYPES: [PacketType; 4] = [PacketType::Initial, PacketType::ZeroRtt, PacketType::Handshake, PacketType::Retry];

/// RFC 9001 §5.2.
const VERSION_1: Version = Version {
    number: 0x0000_0001,
    salt: [
        0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17, 0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb,
        0x7f, 0x0a,
    ],
    key_label: b"quic key",
    iv_label: b"quic iv",
    hp_label: b"quic hp",
    types: V1_TYPES,
};

/// RFC 9369 §3: new number, salt, labels and type bits.
const VERSION_2: Version = Version {
    number: 0x6b33_43cf,
    salt: [
        0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93, 0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd,
        0x2e, 0xd9,
    ],
    key_label: b"quicv2 key",
    iv_label: b"quicv2 iv",
    hp_label: b"quicv2 hp",
    types: [PacketType::Retry, PacketType::Initial, PacketType::ZeroRtt, PacketType::Handshake],
};

/// draft-ietf-quic-tls-29 §5.2 (drafts 30–32 kept its salt); still sent by
/// older clients.
const DRAFT_29: Version = Version {
    number: 0xff00_001d,
    salt: [
        0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, 0x9e, 0x97, 0x86, 0xf1, 0x9c, 0x61, 0x11, 0xe0, 0x43, 0x90,
        0xa8, 0x99,
    ],
    key_label: b"quic key",
    iv_label: b"quic iv",
    hp_label: b"quic hp",
    types: V1_TYPES,
};

fn version(number: u32) -> Option<&'static Version> {
    match number {
        0x0000_0001 => Some(&VERSION_1),
        0x6b33_43cf => Some(&VERSION_2),
        0xff00_001d..=0xff00_0020 => Some(&DRAFT_29),
        _ => None,
    }
}

impl Version {
    /// The type named by bits 5–4 of a long header's first byte.
    fn packet_type(&self, first_byte: u8) -> PacketType {
        let [t0, t1, t2, t3] = self.types;
        match (first_byte >> 4) & 3 {
            0 => t0,
            1 => t1,
            2 => t2,
            _ => t3,
        }
    }

    fn type_bits(&self, packet_type: PacketType) -> u8 {
        let position = self.types.iter().position(|&t| t == packet_type).unwrap_or(0);
        u8::try_from(position).unwrap_or(0)
    }
}

/// One long-header packet, still protected.
#[derive(Debug)]
struct LongPacket<'a> {
    version: &'static Version,
    packet_type: PacketType,
    dcid: &'a [u8],
    scid: &'a [u8],
    /// Header, packet number and payload (a Retry: to the datagram's end).
    bytes: &'a [u8],
    /// Where the protected packet number starts in `bytes`.
    pn_offset: usize,
}

enum Parsed<'a> {
    /// A packet and the rest of the datagram after it.
    Packet(LongPacket<'a>, &'a [u8]),
    /// Not a long header of a version we know.
    NotLong,
    VersionNegotiation,
    Malformed {
        initial: bool,
        what: &'static str,
    },
}

/// Reads the long header at the start of `datagram` (RFC 9000 §17.2).
fn parse_long_packet(datagram: &[u8]) -> Parsed<'_> {
    let mut r = Reader::new(datagram);
    let (Some(first), Some(number)) = (r.u8(), r.u32()) else { return Parsed::NotLong };
    if first & 0x80 == 0 {
        return Parsed::NotLong;
    }
    if number == 0 {
        return Parsed::VersionNegotiation;
    }
    let Some(version) = version(number) else { return Parsed::NotLong };
    let packet_type = version.packet_type(first);
    let initial = packet_type == PacketType::Initial;
    let malformed = |what| Parsed::Malformed { initial, what };
    let Some(dcid) = r.connection_id() else {
        return malformed("Destination Connection ID truncated or over 20 bytes");
    };
    let Some(scid) = r.connection_id() else { return malformed("Source Connection ID truncated or over 20 bytes") };
    if packet_type == PacketType::Retry {
        return Parsed::Packet(LongPacket { version, packet_type, dcid, scid, bytes: datagram, pn_offset: 0 }, &[]);
    }
    if initial {
        let token = r.varint().and_then(|len| usize::try_from(len).ok()).and_then(|len| r.take(len));
        if token.is_none() {
            return malformed("Initial token truncated");
        }
    }
    let Some(length) = r.varint().and_then(|len| usize::try_from(len).ok()) else {
        return malformed("long header Length truncated");
    };
    let pn_offset = r.position();
    let Some((bytes, rest)) = pn_offset.checked_add(length).and_then(|end| datagram.split_at_checked(end)) else {
        return malformed("packet Length runs past the datagram");
    };
    Parsed::Packet(LongPacket { version, packet_type, dcid, scid, bytes, pn_offset }, rest)
}

/// A client's Initial packet protection (RFC 9001 §5).
struct InitialKeys {
    packet: LessSafeKey,
    iv: [u8; 12],
    header: HeaderProtectionKey,
}

impl fmt::Debug for InitialKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("InitialKeys { .. }")
    }
}

/// The raw client Initial key, IV and header-protection key.
#[derive(Debug, PartialEq, Eq)]
struct ClientSecrets {
    key: [u8; 16],
    iv: [u8; 12],
    hp: [u8; 16],
}

/// RFC 9001 §5.2: initial_secret = HKDF-Extract(salt, DCID), then
/// "client in", then the version's key, iv and hp labels.
fn client_secrets(version: &Version, dcid: &[u8]) -> Option<ClientSecrets> {
    let initial = hkdf::Salt::new(hkdf::HKDF_SHA256, &version.salt).extract(dcid);
    let mut client = [0; 32];
    expand_label(&initial, b"client in", &mut client)?;
    let client = hkdf::Prk::new_less_safe(hkdf::HKDF_SHA256, &client);
    let mut secrets = ClientSecrets { key: [0; 16], iv: [0; 12], hp: [0; 16] };
    expand_label(&client, version.key_label, &mut secrets.key)?;
    expand_label(&client, version.iv_label, &mut secrets.iv)?;
    expand_label(&client, version.hp_label, &mut secrets.hp)?;
    Some(secrets)
}

/// TLS 1.3 HKDF-Expand-Label with an empty context (RFC 8446 §7.1).
fn expand_label(prk: &hkdf::Prk, label: &[u8], out: &mut [u8]) -> Option<()> {
    struct Len(usize);
    impl hkdf::KeyType for Len {
        fn len(&self) -> usize {
            self.0
        }
    }
    let length = u16::try_from(out.len()).ok()?.to_be_bytes();
    let label_len = [u8::try_from(label.len().checked_add(6)?).ok()?];
    let info: [&[u8]; 5] = [&length, &label_len, b"tls13 ", label, &[0]];
    prk.expand(&info, Len(out.len())).ok()?.fill(out).ok()
}

impl InitialKeys {
    fn client(version: &Version, dcid: &[u8]) -> Option<Self> {
        let secrets = client_secrets(version, dcid)?;
        Some(InitialKeys {
            packet: LessSafeKey::new(UnboundKey::new(&aead::AES_128_GCM, &secrets.key).ok()?),
            iv: secrets.iv,
            header: HeaderProtectionKey::new(&aead::quic::AES_128, &secrets.hp).ok()?,
        })
    }

    fn nonce(&self, packet_number: u64) -> Nonce {
        let mut nonce = self.iv;
        for (byte, pn) in nonce.iter_mut().skip(4).zip(packet_number.to_be_bytes()) {
            *byte ^= pn;
        }
        Nonce::assume_unique_for_key(nonce)
    }
}

/// Removes header protection and decrypts `packet` into `scratch`; returns
/// the full packet number and where the plaintext frames are in `scratch`.
/// `None` when the keys do not authenticate the packet.
fn open(
    keys: &InitialKeys,
    packet: &LongPacket<'_>,
    largest_pn: Option<u64>,
    scratch: &mut Vec<u8>,
) -> Option<(u64, Range<usize>)> {
    let pn_offset = packet.pn_offset;
    let sample = packet.bytes.get(pn_offset.checked_add(4)?..pn_offset.checked_add(4 + SAMPLE_LEN)?)?;
    let [m0, m1, m2, m3, m4] = keys.header.new_mask(sample).ok()?;
    scratch.clear();
    scratch.extend_from_slice(packet.bytes);
    let first = scratch.first_mut()?;
    *first ^= m0 & 0x0f;
    let pn_len = usize::from(*first & 0x03) + 1;
    let header_len = pn_offset.checked_add(pn_len)?;
    let mut truncated = 0u64;
    for (byte, mask) in scratch.get_mut(pn_offset..header_len)?.iter_mut().zip([m1, m2, m3, m4]) {
        *byte ^= mask;
        truncated = truncated << 8 | u64::from(*byte);
    }
    let packet_number = decode_packet_number(largest_pn, truncated, pn_len * 8);
    let (header, body) = scratch.split_at_mut_checked(header_len)?;
    let plaintext = keys.packet.open_in_place(keys.nonce(packet_number), Aad::from(&*header), body).ok()?;
    Some((packet_number, header_len..header_len.checked_add(plaintext.len())?))
}

/// RFC 9000 Appendix A.3: the packet number closest to the next expected.
fn decode_packet_number(largest: Option<u64>, truncated: u64, bits: usize) -> u64 {
    let expected = largest.map_or(0, |largest| largest.saturating_add(1));
    let window = 1u64 << bits.min(32);
    let half = window / 2;
    let candidate = (expected & !(window - 1)) | truncated;
    if candidate.saturating_add(half) <= expected && candidate < (1u64 << 62) - window {
        candidate + window
    } else if candidate > expected.saturating_add(half) && candidate >= window {
        candidate - window
    } else {
        candidate
    }
}

/// Builds a protected client Initial packet the way a client would, with a
/// 4-byte packet number and `frames` as the payload (not padded: add PADDING
/// frames for the 1200-byte datagram minimum where it matters). For tests,
/// fuzzing and traffic replay. `None` for an unknown version or a connection
/// ID over 20 bytes.
pub fn seal_client_initial(
    version_number: u32,
    dcid: &[u8],
    scid: &[u8],
    token: &[u8],
    packet_number: u32,
    frames: &[u8],
) -> Option<Vec<u8>> {
    let version = version(version_number)?;
    let dcid_len = ConnectionId::new(dcid)?.len;
    let scid_len = ConnectionId::new(scid)?.len;
    let keys = InitialKeys::client(version, dcid)?;
    let mut packet = Vec::with_capacity(64 + token.len() + frames.len());
    packet.push(0xc3 | version.type_bits(PacketType::Initial) << 4);
    packet.extend_from_slice(&version.number.to_be_bytes());
    packet.push(dcid_len);
    packet.extend_from_slice(dcid);
    packet.push(scid_len);
    packet.extend_from_slice(scid);
    push_varint(&mut packet, u64::try_from(token.len()).ok()?)?;
    packet.extend_from_slice(token);
    push_varint(&mut packet, u64::try_from(4 + frames.len() + TAG_LEN).ok()?)?;
    let pn_offset = packet.len();
    packet.extend_from_slice(&packet_number.to_be_bytes());
    let header_len = packet.len();
    packet.extend_from_slice(frames);
    let (header, payload) = packet.split_at_mut_checked(header_len)?;
    let tag = keys
        .packet
        .seal_in_place_separate_tag(keys.nonce(u64::from(packet_number)), Aad::from(&*header), payload)
        .ok()?;
    packet.extend_from_slice(tag.as_ref());
    let sample = packet.get(pn_offset + 4..pn_offset + 4 + SAMPLE_LEN)?;
    let [m0, m1, m2, m3, m4] = keys.header.new_mask(sample).ok()?;
    *packet.first_mut()? ^= m0 & 0x0f;
    for (byte, mask) in packet.get_mut(pn_offset..header_len)?.iter_mut().zip([m1, m2, m3, m4]) {
        *byte ^= mask;
    }
    Some(packet)
}

/// RFC 9000 §16 variable-length integer, shortest form.
fn push_varint(out: &mut Vec<u8>, value: u64) -> Option<()> {
    match value {
        0..0x40 => out.push(u8::try_from(value).ok()?),
        0x40..0x4000 => out.extend_from_slice(&(u16::try_from(value).ok()? | 0x4000).to_be_bytes()),
        0x4000..0x4000_0000 => out.extend_from_slice(&(u32::try_from(value).ok()? | 0x8000_0000).to_be_bytes()),
        0x4000_0000..0x4000_0000_0000_0000 => out.extend_from_slice(&(value | 0xc000_0000_0000_0000).to_be_bytes()),
        _ => return None,
    }
    Some(())
}

/// A cursor over bytes that never reads past the end.
struct Reader<'a> {
    bytes: &'a [u8],
    position: usize,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, position: 0 }
    }

    fn position(&self) -> usize {
        self.position
    }

    fn is_empty(&self) -> bool {
        self.position >= self.bytes.len()
    }

    fn u8(&mut self) -> Option<u8> {
        let byte = *self.bytes.get(self.position)?;
        self.position += 1;
        Some(byte)
    }

    fn take(&mut self, len: usize) -> Option<&'a [u8]> {
        let end = self.position.checked_add(len)?;
        let taken = self.bytes.get(self.position..end)?;
        self.position = end;
        Some(taken)
    }

    fn u32(&mut self) -> Option<u32> {
        let &[a, b, c, d] = self.take(4)? else { return None };
        Some(u32::from_be_bytes([a, b, c, d]))
    }

    /// RFC 9000 §16: two high bits give the length (1, 2, 4 or 8 bytes).
    fn varint(&mut self) -> Option<u64> {
        let first = self.u8()?;
        let rest = self.take((1usize << (first >> 6)) - 1)?;
        Some(rest.iter().fold(u64::from(first & 0x3f), |value, &byte| value << 8 | u64::from(byte)))
    }

    /// A length byte and up to 20 bytes of connection ID.
    fn connection_id(&mut self) -> Option<&'a [u8]> {
        let len = usize::from(self.u8()?);
        if len > MAX_CID_LEN {
            return None;
        }
        self.take(len)
    }

    fn skip_zeros(&mut self) {
        let rest = self.bytes.get(self.position..).unwrap_or(&[]);
        self.position += rest.iter().take_while(|&&byte| byte == 0).count();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(text: &str) -> Vec<u8> {
        let digits: Vec<u8> = text.bytes().filter(u8::is_ascii_hexdigit).collect();
        digits.chunks(2).map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap()).collect()
    }

    const RFC_DCID: &str = "8394c8f03e515708";
    const V1_CLIENT_INITIAL: &str = include_str!("../test_data/quic/rfc9001-a2-client-initial.hex");
    const V2_CLIENT_INITIAL: &str = include_str!("../test_data/quic/rfc9369-a2-client-initial.hex");
    const CRYPTO_FRAME: &str = include_str!("../test_data/quic/rfc9001-a2-crypto-frame.hex");
    const V1_SERVER_INITIAL: &str = include_str!("../test_data/quic/rfc9001-a3-server-initial.hex");
    const V1_RETRY: &str = include_str!("../test_data/quic/rfc9001-a4-retry.hex");

    fn client_flow() -> FlowKey {
        ("192.0.2.1".parse().unwrap(), 50_000, "198.51.100.7".parse().unwrap(), 443)
    }

    /// The ClientHello of RFC 9001 A.2: the CRYPTO frame minus its
    /// type (06), offset (00) and 2-byte length (40f1).
    fn rfc_client_hello() -> Vec<u8> {
        hex(CRYPTO_FRAME)[4..].to_vec()
    }

    /// RFC 9001 A.2's 1162-byte plaintext: the CRYPTO frame and PADDING.
    fn rfc_frames() -> Vec<u8> {
        let mut frames = hex(CRYPTO_FRAME);
        frames.resize(1162, 0);
        frames
    }

    #[test]
    fn v1_client_keys_match_rfc9001_a1() {
        let secrets = client_secrets(&VERSION_1, &hex(RFC_DCID)).unwrap();
        assert_eq!(secrets.key.to_vec(), hex("1f369613dd76d5467730efcbe3b1a22d"));
        assert_eq!(secrets.iv.to_vec(), hex("fa044b2f42a3fd3b46fb255c"));
        assert_eq!(secrets.hp.to_vec(), hex("9f50449e04a0e810283a1e9933adedd2"));
    }

    #[test]
    fn v2_client_keys_match_rfc9369_a1() {
        let secrets = client_secrets(&VERSION_2, &hex(RFC_DCID)).unwrap();
        assert_eq!(secrets.key.to_vec(), hex("8b1a0bc121284290a29e0971b5cd045d"));
        assert_eq!(secrets.iv.to_vec(), hex("91f73e2351d8fa91660e909f"));
        assert_eq!(secrets.hp.to_vec(), hex("45b95e15235d6f45a6b19cbcb0294ba9"));
    }

    #[test]
    fn header_protection_and_packet_number_match_rfc9001_a2() {
        let datagram = hex(V1_CLIENT_INITIAL);
        let Parsed::Packet(packet, rest) = parse_long_packet(&datagram) else { panic!("not a long header") };
        assert!(rest.is_empty());
        assert_eq!(packet.packet_type, PacketType::Initial);
        assert_eq!(packet.dcid, hex(RFC_DCID));
        assert_eq!(packet.bytes.len(), 1200);
        let keys = InitialKeys::client(&VERSION_1, packet.dcid).unwrap();
        let mask = keys.header.new_mask(&hex("d1b1c98dd7689fb8ec11d242b123dc9b")).unwrap();
        assert_eq!(mask.to_vec(), hex("437b9aec36"));

        let mut scratch = Vec::new();
        let (pn, plaintext) = open(&keys, &packet, None, &mut scratch).unwrap();
        assert_eq!(pn, 2);
        assert_eq!(scratch[..22].to_vec(), hex("c300000001088394c8f03e5157080000449e00000002"));
        assert_eq!(scratch[plaintext].to_vec(), rfc_frames());
    }

    #[test]
    fn v1_and_v2_client_initials_decrypt_to_the_rfc_client_hello() {
        for initial in [V1_CLIENT_INITIAL, V2_CLIENT_INITIAL] {
            let mut quic = QuicInitials::new(16);
            let outcome = quic.datagram_crypto(client_flow(), &hex(initial));
            assert_eq!(outcome, CryptoOutcome::ClientHello(rfc_client_hello()));
            assert_eq!(quic.connection_count(), 1);
            assert_eq!(quic.buffered_bytes(), 0, "the hello's buffer was handed out");
            // A retransmission of the same packet is not a second hello.
            assert_eq!(quic.datagram_crypto(client_flow(), &hex(initial)), CryptoOutcome::Ignored);
        }
    }

    #[test]
    fn sealing_reproduces_the_rfc_packets_byte_for_byte() {
        let frames = rfc_frames();
        let v1 = seal_client_initial(1, &hex(RFC_DCID), &[], &[], 2, &frames).unwrap();
        assert_eq!(v1, hex(V1_CLIENT_INITIAL));
        let v2 = seal_client_initial(0x6b33_43cf, &hex(RFC_DCID), &[], &[], 2, &frames).unwrap();
        assert_eq!(v2, hex(V2_CLIENT_INITIAL));
        assert_eq!(seal_client_initial(7, &hex(RFC_DCID), &[], &[], 2, &frames), None);
        assert_eq!(seal_client_initial(1, &[0; 21], &[], &[], 2, &frames), None);
    }

    #[test]
    fn draft_29_initials_decrypt_with_the_draft_salt() {
        let dcid = hex("0011223344556677");
        let packet = seal_client_initial(0xff00_001d, &dcid, &[1, 2], b"tok", 0, &rfc_frames()).unwrap();
        assert_eq!(packet[1..5], [0xff, 0, 0, 0x1d]);
        let mut quic = QuicInitials::new(4);
        assert_eq!(quic.datagram_crypto(client_flow(), &packet), CryptoOutcome::ClientHello(rfc_client_hello()));
        // The same packet relabelled as version 1 does not authenticate: the
        // salts differ.
        let mut relabelled = packet.clone();
        relabelled[1..5].copy_from_slice(&[0, 0, 0, 1]);
        assert_eq!(
            QuicInitials::new(4).datagram_crypto(client_flow(), &relabelled),
            CryptoOutcome::Undecodable("Initial packet does not authenticate with the client Initial keys")
        );
    }

    #[test]
    fn server_initial_is_ignored_from_either_port() {
        let server = hex(V1_SERVER_INITIAL);
        let from_server = (client_flow().2, 443, client_flow().0, 50_000);
        assert_eq!(QuicInitials::new(4).datagram_crypto(from_server, &server), CryptoOutcome::Ignored);
        // Its DCID is empty: no client starts a connection with that.
        let odd_ports = (client_flow().2, 8443, client_flow().0, 50_000);
        assert_eq!(QuicInitials::new(4).datagram_crypto(odd_ports, &server), CryptoOutcome::Ignored);
        // After the client's hello, the reply is recognised by its flow.
        let mut quic = QuicInitials::new(4);
        let flow = (client_flow().0, 50_000, client_flow().2, 8443);
        assert!(matches!(quic.datagram_crypto(flow, &hex(V1_CLIENT_INITIAL)), CryptoOutcome::ClientHello(_)));
        assert_eq!(quic.datagram_crypto(odd_ports, &server), CryptoOutcome::Ignored);
    }

    #[test]
    fn retry_makes_the_repeated_hello_ignored() {
        let retry = hex(V1_RETRY);
        let retry_scid = hex("f067a5502a4262b5");
        let second = seal_client_initial(1, &retry_scid, &[], b"token", 3, &rfc_frames()).unwrap();
        let from_server = (client_flow().2, 443, client_flow().0, 50_000);

        let mut quic = QuicInitials::new(4);
        assert!(matches!(quic.datagram_crypto(client_flow(), &hex(V1_CLIENT_INITIAL)), CryptoOutcome::ClientHello(_)));
        assert_eq!(quic.datagram_crypto(from_server, &retry), CryptoOutcome::Ignored);
        assert_eq!(quic.datagram_crypto(client_flow(), &second), CryptoOutcome::Ignored);

        // Without the Retry the new DCID is a new connection.
        let mut quic = QuicInitials::new(4);
        assert!(matches!(quic.datagram_crypto(client_flow(), &hex(V1_CLIENT_INITIAL)), CryptoOutcome::ClientHello(_)));
        assert!(matches!(quic.datagram_crypto(client_flow(), &second), CryptoOutcome::ClientHello(_)));
    }

    #[test]
    fn packet_numbers_decode_as_in_rfc9000_a3() {
        assert_eq!(decode_packet_number(Some(0xa82f_30ea), 0x9b32, 16), 0xa82f_9b32);
        assert_eq!(decode_packet_number(None, 2, 32), 2);
        assert_eq!(decode_packet_number(Some(0xff), 0x01, 8), 0x101);
        assert_eq!(decode_packet_number(Some(u64::MAX), 0xff, 8), u64::MAX, "no overflow at the top");
    }

    #[test]
    fn crypto_stream_keeps_first_bytes_and_fills_gaps() {
        let mut stream = CryptoStream::default();
        stream.insert(4, b"EFGH").unwrap();
        stream.insert(0, b"abcdefgh").unwrap();
        assert_eq!(stream.bytes, b"abcdEFGH");
        assert_eq!(stream.received, vec![0..8]);
        stream.insert(10, b"KL").unwrap();
        stream.insert(6, b"xxxxxx").unwrap();
        assert_eq!(stream.bytes, b"abcdEFGHxxKL");
        assert_eq!(stream.received, vec![0..12]);
        assert_eq!(stream.insert(MAX_CRYPTO_BYTES as u64 - 1, b"ab"), Err("CRYPTO data beyond the 64 KiB bound"));
        assert_eq!(stream.insert(u64::MAX, b"a"), Err("CRYPTO data beyond the 64 KiB bound"));
    }

    #[test]
    fn crypto_stream_in_too_many_pieces_is_refused() {
        let mut stream = CryptoStream::default();
        for piece in 0..MAX_CRYPTO_PIECES as u64 {
            stream.insert(piece * 2 + 1, b"x").unwrap();
        }
        assert_eq!(stream.insert(1000, b"x"), Err("CRYPTO stream in too many pieces"));
    }

    #[test]
    fn whole_message_needs_its_declared_length() {
        let mut stream = CryptoStream::default();
        stream.insert(0, &[1, 0, 0, 3, 9]).unwrap();
        assert_eq!(stream.whole_message_len(), Ok(None));
        stream.insert(5, &[9, 9, 0xee]).unwrap();
        assert_eq!(stream.whole_message_len(), Ok(Some(7)));
        let mut server_hello = CryptoStream::default();
        server_hello.insert(0, &[2]).unwrap();
        assert_eq!(server_hello.whole_message_len(), Err("CRYPTO stream does not start with a ClientHello"));
        let mut huge = CryptoStream::default();
        huge.insert(0, &[1, 1, 0, 0]).unwrap();
        assert_eq!(huge.whole_message_len(), Err("ClientHello longer than the 64 KiB bound"));
    }

    #[test]
    fn frames_outside_an_initial_are_refused() {
        assert_eq!(walk_frames(&[0x01, 0x00, 0x00], |_, _| Ok(())).map(|s| s.crypto_frames), Ok(0));
        assert_eq!(
            walk_frames(&[0x08, 0x00], |_, _| Ok(())).map(|s| s.crypto_frames),
            Err("frame type not allowed in an Initial packet")
        );
        // ACK with ECN counts, CONNECTION_CLOSE with a reason, then CRYPTO.
        let frames = [0x03, 5, 0, 1, 0, 2, 1, 7, 8, 9, 0x1c, 0x0a, 0x00, 2, b'n', b'o', 0x06, 0x00, 0x01, 0xaa];
        let mut seen = Vec::new();
        let summary = walk_frames(&frames, |offset, data| {
            seen.push((offset, data.to_vec()));
            Ok(())
        })
        .unwrap();
        assert_eq!(seen, vec![(0, vec![0xaa])]);
        assert_eq!((summary.crypto_frames, summary.crypto_end), (1, 1));
        assert_eq!(walk_frames(&[0x06, 0x00, 0x05, 0xaa], |_, _| Ok(())).err(), Some("Initial frame truncated"));
        assert_eq!(walk_frames(&[0x02, 0x00, 0x00, 0x7f], |_, _| Ok(())).err(), Some("Initial frame truncated"));
    }

    #[test]
    fn varints_round_trip() {
        for value in [0, 63, 64, 16_383, 16_384, 1_073_741_823, 1_073_741_824, (1 << 62) - 1] {
            let mut bytes = Vec::new();
            push_varint(&mut bytes, value).unwrap();
            assert_eq!(Reader::new(&bytes).varint(), Some(value));
        }
        assert_eq!(push_varint(&mut Vec::new(), 1 << 62), None);
        // RFC 9000 A.1's examples.
        assert_eq!(Reader::new(&hex("c2197c5eff14e88c")).varint(), Some(151_288_809_941_952_652));
        assert_eq!(Reader::new(&hex("9d7f3e7d")).varint(), Some(494_878_333));
        assert_eq!(Reader::new(&hex("7bbd")).varint(), Some(15_293));
        assert_eq!(Reader::new(&hex("25")).varint(), Some(37));
    }
}
