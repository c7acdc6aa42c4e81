//! The little TCP reassembly the application decoders need: per flow, each
//! direction's bytes in sequence order from the SYN (or from the first data
//! seen, for connections already open when the capture began), so a DNS
//! message over TCP, an HTTP request head or a ClientHello split across
//! segments can be read. Not a full stream engine: it hands the caller the
//! contiguous bytes it has not consumed yet, and forgets everything the
//! caller is done with.
//!
//! Rules:
//! - Retransmitted bytes are ignored; a segment overlapping bytes already
//!   delivered contributes only its new tail (first wins).
//! - Segments ahead of the next expected byte are held, up to
//!   `max_out_of_order_segments` within `max_stream_bytes` of it; when the
//!   gap does not fill in that room, the direction is abandoned.
//! - Bytes the caller has not consumed are buffered up to
//!   `max_stream_bytes`; a caller that needs more abandons the direction.
//! - A caller may consume past what it was given (a request body it does
//!   not want): those bytes are dropped as they arrive, never buffered.
//! - Flows are freed on RST, on FIN from both sides, after
//!   `idle_timeout` of capture time without a segment, and oldest-first
//!   when `max_flows` or `max_buffered_bytes` would be exceeded. A flow whose
//!   two directions the caller has stopped following keeps a small entry
//!   (no buffers), so its later segments cost one lookup and cannot be
//!   mistaken for the start of a new stream.
//! - A SYN without ACK carrying a different initial sequence number starts
//!   the flow afresh (the 4-tuple was reused).

use std::hash::Hash;
use std::net::IpAddr;
use std::time::Duration;

use crate::event::Timestamp;
use crate::packet::TcpSegment;

const NIL: usize = usize::MAX;

/// A hash map bounded to `capacity` entries that keeps its entries in
/// recency order (oldest first): O(1) lookup, touch, insert, removal and
/// eviction of the oldest. Shared with [`crate::defrag`].
#[derive(Debug)]
pub(crate) struct LruTable<K, V> {
    /// Keys are flow tuples and fragment ids the traffic chooses: foldhash
    /// with a per-process random seed (SipHash was a tenth of the decode
    /// time), so a sender cannot aim keys at one bucket without the seed.
    index: foldhash::HashMap<K, usize>,
    slots: Vec<Slot<K, V>>,
    free: Vec<usize>,
    oldest: usize,
    newest: usize,
    capacity: usize,
}

#[derive(Debug)]
struct Slot<K, V> {
    key: K,
    value: Option<V>,
    prev: usize,
    next: usize,
}

impl<K: Copy + Eq + Hash, V> LruTable<K, V> {
    pub(crate) fn new(capacity: usize) -> Self {
        LruTable {
            index: foldhash::HashMap::default(),
            slots: Vec::new(),
            free: Vec::new(),
            oldest: NIL,
            newest: NIL,
            capacity: capacity.max(1),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.index.len()
    }

    pub(crate) fn find(&self, key: &K) -> Option<usize> {
        self.index.get(key).copied()
    }

    pub(crate) fn value_mut(&mut self, id: usize) -> Option<&mut V> {
        self.slots.get_mut(id)?.value.as_mut()
    }

    pub(crate) fn oldest(&self) -> Option<&V> {
        self.slots.get(self.oldest)?.value.as_ref()
    }

    fn unlink(&mut self, id: usize) {
        let Some(slot) = self.slots.get(id) else { return };
        let (prev, next) = (slot.prev, slot.next);
        match self.slots.get_mut(prev) {
            Some(p) => p.next = next,
            None => self.oldest = next,
        }
        match self.slots.get_mut(next) {
            Some(n) => n.prev = prev,
            None => self.newest = prev,
        }
    }

    fn link_newest(&mut self, id: usize) {
        let old_newest = self.newest;
        if let Some(slot) = self.slots.get_mut(id) {
            slot.prev = old_newest;
            slot.next = NIL;
        }
        match self.slots.get_mut(old_newest) {
            Some(n) => n.next = id,
            None => self.oldest = id,
        }
        self.newest = id;
    }

    /// Marks the entry as the most recently used.
    pub(crate) fn touch(&mut self, id: usize) {
        if self.newest != id && self.slots.get(id).is_some_and(|s| s.value.is_some()) {
            self.unlink(id);
            self.link_newest(id);
        }
    }

    /// Inserts a new entry as the most recent (the key must not be present),
    /// evicting the oldest entry when full.
    pub(crate) fn insert(&mut self, key: K, value: V) -> (usize, Option<(K, V)>) {
        let evicted = if self.index.len() >= self.capacity { self.pop_oldest() } else { None };
        let slot = Slot { key, value: Some(value), prev: NIL, next: NIL };
        let id = match self.free.pop() {
            Some(id) => {
                if let Some(s) = self.slots.get_mut(id) {
                    *s = slot;
                }
                id
            }
            None => {
                self.slots.push(slot);
                self.slots.len() - 1
            }
        };
        self.link_newest(id);
        self.index.insert(key, id);
        (id, evicted)
    }

    pub(crate) fn remove(&mut self, id: usize) -> Option<(K, V)> {
        let value = self.slots.get_mut(id)?.value.take()?;
        self.unlink(id);
        let key = self.slots.get(id)?.key;
        self.index.remove(&key);
        self.free.push(id);
        Some((key, value))
    }

    pub(crate) fn pop_oldest(&mut self) -> Option<(K, V)> {
        self.remove(self.oldest)
    }
}

/// Bounds of the reassembly state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpLimits {
    pub max_flows: usize,
    /// Bytes held per direction: unconsumed in-order bytes, and the window
    /// ahead of the next expected byte in which out-of-order segments wait.
    pub max_stream_bytes: usize,
    /// Out-of-order segments held per direction.
    pub max_out_of_order_segments: usize,
    /// Heap bytes held by all flows' buffers together.
    pub max_buffered_bytes: usize,
    /// Capture time without a segment after which a flow is forgotten.
    pub idle_timeout: Duration,
}

impl Default for TcpLimits {
    fn default() -> Self {
        TcpLimits {
            max_flows: 65_536,
            // The largest DNS message over TCP with its length prefix
            // (RFC 1035 4.2.2): zone transfers and big TXT/DNSSEC answers
            // fill it. The global budget, not this, bounds memory.
            max_stream_bytes: 2 + 65_535,
            max_out_of_order_segments: 8,
            max_buffered_bytes: 64 * 1024 * 1024,
            idle_timeout: Duration::from_secs(300),
        }
    }
}

/// What the caller wants after seeing a direction's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamInterest {
    /// Keep following. The first `consumed` bytes of what was handed over
    /// are done with (the rest is handed over again with the next bytes);
    /// a value past its end drops that many more bytes as they arrive.
    Continue { consumed: u64 },
    /// Nothing more is wanted from this direction.
    Stop,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct TcpStats {
    /// Flows created (a SYN, or data on an unknown 4-tuple).
    pub flows_tracked: u64,
    /// Freed on RST or FIN from both sides.
    pub flows_closed: u64,
    /// Freed after the idle timeout.
    pub flows_expired: u64,
    /// Freed, oldest first, because `max_flows` flows were tracked.
    pub flows_evicted: u64,
    /// Freed, oldest first, because the buffers were over their budget.
    pub flows_evicted_for_memory: u64,
    /// Segments carrying only bytes already seen.
    pub segments_retransmitted: u64,
    /// Segments held until the bytes before them arrived.
    pub segments_out_of_order: u64,
    /// Segments too far ahead to hold, dropped.
    pub segments_out_of_window: u64,
    /// Directions given up: a gap that did not fill, or a caller needing
    /// more than `max_stream_bytes` at once.
    pub streams_abandoned: u64,
}

type FlowKey = (IpAddr, u16, IpAddr, u16);

#[derive(Debug)]
struct Direction<S> {
    /// Initial sequence number from this side's SYN.
    isn: Option<u32>,
    /// Sequence number of the next byte to deliver.
    next_seq: Option<u32>,
    /// Bytes still to drop (consumed past the data handed over).
    skip: u64,
    /// In-order bytes the caller has not consumed.
    pending: Vec<u8>,
    out_of_order: Vec<(u32, Vec<u8>)>,
    fin: bool,
    /// The caller stopped following (or the stream was abandoned).
    done: bool,
    app: S,
}

impl<S: Default> Direction<S> {
    fn new() -> Self {
        Direction {
            isn: None,
            next_seq: None,
            skip: 0,
            pending: Vec::new(),
            out_of_order: Vec::new(),
            fin: false,
            done: false,
            app: S::default(),
        }
    }

    fn heap_bytes(&self) -> usize {
        self.pending.capacity() + self.out_of_order.iter().map(|(_, b)| b.capacity()).sum::<usize>()
    }

    fn stop(&mut self) {
        self.done = true;
        self.pending = Vec::new();
        self.out_of_order = Vec::new();
        self.skip = 0;
    }

    /// Takes bytes that start exactly at `next_seq` into `pending`.
    fn take_in_order(&mut self, bytes: &[u8]) {
        let next = self.next_seq.unwrap_or(0);
        self.next_seq = Some(next.wrapping_add(bytes.len() as u32));
        let skipped = usize::try_from(self.skip).unwrap_or(usize::MAX).min(bytes.len());
        self.skip -= skipped as u64;
        self.pending.extend_from_slice(bytes.get(skipped..).unwrap_or_default());
    }

    /// Moves held segments that now touch `next_seq` into `pending`.
    fn drain_out_of_order(&mut self) {
        while let Some(next) = self.next_seq {
            let Some(pos) = self.out_of_order.iter().position(|(seq, _)| seq_diff(*seq, next) <= 0) else { break };
            let (seq, bytes) = self.out_of_order.swap_remove(pos);
            let behind = seq_diff(next, seq).unsigned_abs() as usize;
            if let Some(fresh) = bytes.get(behind..).filter(|b| !b.is_empty()) {
                self.take_in_order(fresh);
            }
        }
    }
}

/// `a - b` in sequence space.
fn seq_diff(a: u32, b: u32) -> i32 {
    a.wrapping_sub(b) as i32
}

#[derive(Debug)]
struct Flow<S> {
    last_seen: Timestamp,
    directions: [Direction<S>; 2],
}

impl<S: Default> Flow<S> {
    fn new(now: Timestamp) -> Self {
        Flow { last_seen: now, directions: [Direction::new(), Direction::new()] }
    }

    fn heap_bytes(&self) -> usize {
        self.directions.iter().map(Direction::heap_bytes).sum()
    }
}

/// Per-flow, per-direction in-order bytes; `S` is the caller's state for
/// each direction (which protocol it found there, …).
#[derive(Debug)]
pub struct TcpReassembler<S> {
    flows: LruTable<FlowKey, Flow<S>>,
    limits: TcpLimits,
    stats: TcpStats,
    /// Heap bytes held by all flows' buffers.
    buffered: usize,
    /// The latest capture time seen (captures are not always in order).
    clock: Timestamp,
}

impl<S: Default> TcpReassembler<S> {
    pub fn new(limits: TcpLimits) -> Self {
        TcpReassembler {
            flows: LruTable::new(limits.max_flows),
            limits,
            stats: TcpStats::default(),
            buffered: 0,
            clock: Timestamp(i64::MIN),
        }
    }

    pub fn stats(&self) -> &TcpStats {
        &self.stats
    }

    /// Flows tracked now.
    pub fn flows(&self) -> usize {
        self.flows.len()
    }

    /// Heap bytes held by the stream buffers now.
    pub fn buffered_bytes(&self) -> usize {
        self.buffered
    }

    fn expire(&mut self) {
        let idle = i64::try_from(self.limits.idle_timeout.as_nanos()).unwrap_or(i64::MAX);
        while let Some(flow) = self.flows.oldest() {
            if flow.last_seen.0.saturating_add(idle) >= self.clock.0 {
                break;
            }
            if let Some((_, flow)) = self.flows.pop_oldest() {
                self.buffered = self.buffered.saturating_sub(flow.heap_bytes());
                self.stats.flows_expired += 1;
            }
        }
    }

    /// Feeds one segment sent from `src` to `dst`. When it makes new bytes
    /// of its direction contiguous, `on_data` gets all of that direction's
    /// unconsumed bytes and the direction's state, and says how many it
    /// consumed.
    pub fn segment(
        &mut self,
        now: Timestamp,
        src: IpAddr,
        dst: IpAddr,
        segment: &TcpSegment<'_>,
        on_data: impl FnOnce(&[u8], &mut S) -> StreamInterest,
    ) {
        self.clock = self.clock.max(now);
        self.expire();
        let (key, side) = if (src, segment.sport) <= (dst, segment.dport) {
            ((src, segment.sport, dst, segment.dport), 0)
        } else {
            ((dst, segment.dport, src, segment.sport), 1)
        };
        let flags = segment.flags;
        let id = match self.flows.find(&key) {
            Some(id) => {
                self.flows.touch(id);
                id
            }
            None => {
                if flags.rst() || (segment.payload.is_empty() && !flags.syn()) {
                    return;
                }
                let (id, evicted) = self.flows.insert(key, Flow::new(now));
                if let Some((_, flow)) = evicted {
                    self.buffered = self.buffered.saturating_sub(flow.heap_bytes());
                    self.stats.flows_evicted += 1;
                }
                self.stats.flows_tracked += 1;
                id
            }
        };
        if flags.rst() {
            if let Some((_, flow)) = self.flows.remove(id) {
                self.buffered = self.buffered.saturating_sub(flow.heap_bytes());
                self.stats.flows_closed += 1;
            }
            return;
        }
        let limits = self.limits;
        let Some(flow) = self.flows.value_mut(id) else { return };
        flow.last_seen = now;
        let before = flow.heap_bytes();

        let mut seq = segment.seq;
        if flags.syn() {
            let started = flow.directions.iter().any(|d| d.next_seq.is_some());
            let direction_isn = flow.directions.get(side).and_then(|d| d.isn);
            if !flags.ack() && started && direction_isn != Some(segment.seq) {
                *flow = Flow::new(now);
            }
            if let Some(d) = flow.directions.get_mut(side)
                && d.isn.is_none()
            {
                d.isn = Some(segment.seq);
                d.next_seq = Some(segment.seq.wrapping_add(1));
            }
            seq = seq.wrapping_add(1);
        }

        let Some(direction) = flow.directions.get_mut(side) else { return };
        if !segment.payload.is_empty() && !direction.done {
            deliver(direction, seq, segment.payload, &limits, &mut self.stats, on_data);
        }
        if flags.fin() {
            direction.fin = true;
        }
        let closed = flow.directions.iter().all(|d| d.fin);
        let after = flow.heap_bytes();
        self.buffered = self.buffered.saturating_add(after).saturating_sub(before);
        if closed && let Some((_, flow)) = self.flows.remove(id) {
            self.buffered = self.buffered.saturating_sub(flow.heap_bytes());
            self.stats.flows_closed += 1;
        }
        while self.buffered > self.limits.max_buffered_bytes {
            let Some((_, flow)) = self.flows.pop_oldest() else { break };
            self.buffered = self.buffered.saturating_sub(flow.heap_bytes());
            self.stats.flows_evicted_for_memory += 1;
        }
    }
}

fn deliver<S: Default>(
    d: &mut Direction<S>,
    seq: u32,
    payload: &[u8],
    limits: &TcpLimits,
    stats: &mut TcpStats,
    on_data: impl FnOnce(&[u8], &mut S) -> StreamInterest,
) {
    let next = *d.next_seq.get_or_insert(seq);
    let ahead = seq_diff(seq, next);
    let mut data = payload;
    if ahead < 0 {
        let behind = ahead.unsigned_abs() as usize;
        match data.get(behind..) {
            Some(fresh) if !fresh.is_empty() => data = fresh,
            _ => {
                stats.segments_retransmitted += 1;
                return;
            }
        }
    } else if ahead > 0 {
        let fits = (ahead as usize).saturating_add(data.len()) <= limits.max_stream_bytes;
        if !fits {
            stats.segments_out_of_window += 1;
        } else if d.out_of_order.iter().any(|(held, bytes)| *held == seq && bytes.len() >= data.len()) {
            stats.segments_retransmitted += 1;
        } else if d.out_of_order.len() >= limits.max_out_of_order_segments {
            stats.streams_abandoned += 1;
            d.stop();
        } else {
            stats.segments_out_of_order += 1;
            d.out_of_order.push((seq, data.to_vec()));
        }
        return;
    }

    if d.pending.is_empty() && d.out_of_order.is_empty() {
        // The common case: hand over the segment itself, copy only what is
        // left unconsumed.
        d.next_seq = Some(next.wrapping_add(data.len() as u32));
        let skipped = usize::try_from(d.skip).unwrap_or(usize::MAX).min(data.len());
        d.skip -= skipped as u64;
        let fresh = data.get(skipped..).unwrap_or_default();
        if fresh.is_empty() {
            return;
        }
        let interest = on_data(fresh, &mut d.app);
        settle(d, fresh, interest, limits, stats);
        return;
    }

    d.take_in_order(data);
    d.drain_out_of_order();
    if d.pending.is_empty() {
        return;
    }
    let pending = std::mem::take(&mut d.pending);
    let interest = on_data(&pending, &mut d.app);
    d.pending = pending;
    let pending_len = d.pending.len();
    match interest {
        StreamInterest::Stop => d.stop(),
        StreamInterest::Continue { consumed } => {
            let consumed_here = usize::try_from(consumed).unwrap_or(usize::MAX).min(pending_len);
            d.skip = d.skip.saturating_add(consumed - consumed_here as u64);
            d.pending.drain(..consumed_here);
            if d.pending.len() > limits.max_stream_bytes {
                stats.streams_abandoned += 1;
                d.stop();
            }
        }
    }
}

/// Applies the caller's answer to bytes handed over straight from a
/// segment: keep what it did not consume.
fn settle<S: Default>(
    d: &mut Direction<S>,
    data: &[u8],
    interest: StreamInterest,
    limits: &TcpLimits,
    stats: &mut TcpStats,
) {
    match interest {
        StreamInterest::Stop => d.stop(),
        StreamInterest::Continue { consumed } => {
            let consumed_here = usize::try_from(consumed).unwrap_or(usize::MAX).min(data.len());
            d.skip = d.skip.saturating_add(consumed - consumed_here as u64);
            let rest = data.get(consumed_here..).unwrap_or_default();
            if rest.len() > limits.max_stream_bytes {
                stats.streams_abandoned += 1;
                d.stop();
            } else {
                d.pending.extend_from_slice(rest);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::TcpFlags;

    fn seg(sport: u16, dport: u16, seq: u32, flags: u8, payload: &[u8]) -> TcpSegment<'_> {
        TcpSegment { sport, dport, seq, ack: 0, flags: TcpFlags(flags), payload }
    }

    /// Collects every byte handed over, consuming all of it.
    fn collect(r: &mut TcpReassembler<Vec<u8>>, s: &TcpSegment<'_>, from_client: bool) -> Vec<u8> {
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let (src, dst) = if from_client { (a, b) } else { (b, a) };
        let mut got = Vec::new();
        r.segment(Timestamp(0), src, dst, s, |data, _| {
            got.extend_from_slice(data);
            StreamInterest::Continue { consumed: data.len() as u64 }
        });
        got
    }

    #[test]
    fn lru_table_evicts_the_least_recently_touched() {
        let mut t = LruTable::new(2);
        let (a, _) = t.insert(1, "a");
        t.insert(2, "b");
        t.touch(a);
        let (_, evicted) = t.insert(3, "c");
        assert_eq!(evicted, Some((2, "b")));
        assert_eq!(t.len(), 2);
        assert_eq!(t.pop_oldest(), Some((1, "a")));
        assert_eq!(t.pop_oldest(), Some((3, "c")));
        assert_eq!(t.pop_oldest(), None);
        let (x, _) = t.insert(4, "d");
        assert_eq!(t.remove(x), Some((4, "d")));
        assert_eq!(t.remove(x), None);
        assert_eq!(t.len(), 0);
    }

    #[test]
    fn out_of_order_retransmitted_and_overlapping_segments() {
        let mut r = TcpReassembler::<Vec<u8>>::new(TcpLimits::default());
        assert!(collect(&mut r, &seg(1000, 80, 99, TcpFlags::SYN, b""), true).is_empty());
        assert_eq!(collect(&mut r, &seg(1000, 80, 100, TcpFlags::ACK, b"GET "), true), b"GET ");
        // "HTTP" arrives before "/ ".
        assert!(collect(&mut r, &seg(1000, 80, 106, TcpFlags::ACK, b"HTTP"), true).is_empty());
        assert!(collect(&mut r, &seg(1000, 80, 106, TcpFlags::ACK, b"HTTP"), true).is_empty());
        assert_eq!((r.stats().segments_out_of_order, r.stats().segments_retransmitted), (1, 1));
        assert_eq!(collect(&mut r, &seg(1000, 80, 104, TcpFlags::ACK, b"/ "), true), b"/ HTTP");
        assert!(collect(&mut r, &seg(1000, 80, 100, TcpFlags::ACK, b"GET / "), true).is_empty());
        assert_eq!(r.stats().segments_retransmitted, 2);
        // Overlap: the first copy of bytes 108..110 wins.
        assert_eq!(collect(&mut r, &seg(1000, 80, 108, TcpFlags::ACK, b"XX/1"), true), b"/1");
        assert_eq!(r.flows(), 1);
        collect(&mut r, &seg(1000, 80, 112, TcpFlags::FIN, b""), true);
        collect(&mut r, &seg(80, 1000, 5000, TcpFlags::FIN, b""), false);
        assert_eq!(r.flows(), 0);
        assert_eq!(r.stats().flows_closed, 1);
    }

    #[test]
    fn unconsumed_bytes_come_back_with_the_next_segment_and_skips_drop_bytes() {
        let mut r = TcpReassembler::<u32>::new(TcpLimits::default());
        let (a, b): (IpAddr, IpAddr) = ("::1".parse().unwrap(), "::2".parse().unwrap());
        let mut seen = Vec::new();
        // Consumes only whole 4-byte records, and skips 3 bytes after "ABCD".
        let mut feed = |seq: u32, payload: &[u8]| {
            r.segment(Timestamp(0), a, b, &seg(5, 6, seq, TcpFlags::ACK, payload), |data, _| {
                seen.push(data.to_vec());
                if data.starts_with(b"ABCD") {
                    return StreamInterest::Continue { consumed: 7 };
                }
                StreamInterest::Continue { consumed: (data.len() / 4 * 4) as u64 }
            })
        };
        feed(1, b"ABC");
        feed(4, b"D");
        feed(5, b"x");
        feed(6, b"yzEFGH12");
        assert_eq!(seen, vec![b"ABC".to_vec(), b"ABCD".to_vec(), b"EFGH12".to_vec()]);
        assert!(r.buffered_bytes() > 0, "\"12\" is held");
    }

    #[test]
    fn a_gap_that_does_not_fill_abandons_the_direction_and_bounds_hold() {
        let limits = TcpLimits { max_out_of_order_segments: 2, ..TcpLimits::default() };
        let mut r = TcpReassembler::<Vec<u8>>::new(limits);
        collect(&mut r, &seg(1, 2, 0, TcpFlags::ACK, b"a"), true);
        for i in 0..3u32 {
            collect(&mut r, &seg(1, 2, 10 + i, TcpFlags::ACK, b"b"), true);
        }
        assert_eq!(r.stats().streams_abandoned, 1);
        assert_eq!(r.buffered_bytes(), 0);
        collect(&mut r, &seg(1, 2, 1_000_000, TcpFlags::ACK, b"far"), true);
        assert_eq!(r.stats().segments_out_of_window, 0, "an abandoned direction is not looked at");
    }

    #[test]
    fn flows_are_bounded_and_expire_by_capture_time() {
        let limits = TcpLimits { max_flows: 3, idle_timeout: Duration::from_secs(10), ..TcpLimits::default() };
        let mut r = TcpReassembler::<()>::new(limits);
        let dst: IpAddr = "192.0.2.1".parse().unwrap();
        for port in 0..10u16 {
            let src: IpAddr = "192.0.2.2".parse().unwrap();
            r.segment(Timestamp(0), src, dst, &seg(port, 80, 0, TcpFlags::ACK, b"x"), |_, _| {
                StreamInterest::Continue { consumed: 0 }
            });
        }
        assert_eq!((r.flows(), r.stats().flows_tracked, r.stats().flows_evicted), (3, 10, 7));
        let src: IpAddr = "192.0.2.3".parse().unwrap();
        r.segment(Timestamp(11_000_000_000), src, dst, &seg(1, 80, 0, TcpFlags::ACK, b"x"), |_, _| {
            StreamInterest::Stop
        });
        assert_eq!((r.flows(), r.stats().flows_expired), (1, 3));
    }

    #[test]
    fn a_new_syn_on_a_reused_tuple_starts_afresh() {
        let mut r = TcpReassembler::<Vec<u8>>::new(TcpLimits::default());
        collect(&mut r, &seg(1, 2, 100, TcpFlags::SYN, b""), true);
        assert_eq!(collect(&mut r, &seg(1, 2, 101, TcpFlags::ACK, b"one"), true), b"one");
        collect(&mut r, &seg(1, 2, 7000, TcpFlags::SYN, b""), true);
        assert_eq!(collect(&mut r, &seg(1, 2, 7001, TcpFlags::ACK, b"two"), true), b"two");
        // A retransmitted SYN of the same connection changes nothing.
        collect(&mut r, &seg(1, 2, 7000, TcpFlags::SYN, b""), true);
        assert_eq!(collect(&mut r, &seg(1, 2, 7004, TcpFlags::ACK, b"3"), true), b"3");
    }
}
