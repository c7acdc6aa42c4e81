//! IP fragment reassembly (IPv4, and IPv6 Fragment headers the same way),
//! bounded in datagrams held, bytes held, bytes per datagram and age. Enough
//! for DNS over UDP in fragments, which is what resolvers see when a
//! response outgrows the path MTU.
//!
//! Rules:
//! - Fragments are grouped by (source, destination, identification,
//!   protocol), as RFC 791 and RFC 8200 say.
//! - Overlaps: the bytes that arrived first win; a later fragment adds only
//!   the parts not already held (and is counted as overlapping). A fragment
//!   that contradicts the datagram's length (a second, different last
//!   fragment, or data past the last fragment's end) drops the datagram, as
//!   does a datagram over 65,535 bytes or cut into more than
//!   [`MAX_PIECES`] pieces.
//! - A datagram not complete `timeout` of capture time after its first
//!   fragment is dropped; when `max_datagrams` are held, or their bytes go
//!   over `max_bytes`, the oldest are dropped first.

use std::net::IpAddr;
use std::time::Duration;

use crate::event::Timestamp;
use crate::packet::Fragment;
use crate::tcp::LruTable;

/// Largest reassembled payload (the IP length fields are 16 bits).
pub const MAX_DATAGRAM: usize = 65_535;

/// Most distinct pieces one datagram may arrive in. A 64 KiB datagram in
/// 576-byte fragments has 120; more is an attack on the reassembler.
pub const MAX_PIECES: usize = 512;

/// What identifies the fragments of one datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FragmentKey {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub id: u32,
    pub protocol: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DefragLimits {
    pub max_datagrams: usize,
    /// Heap bytes held by all incomplete datagrams together.
    pub max_bytes: usize,
    pub timeout: Duration,
}

impl Default for DefragLimits {
    fn default() -> Self {
        DefragLimits { max_datagrams: 4_096, max_bytes: 16 * 1024 * 1024, timeout: Duration::from_secs(30) }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    /// Offset plus length past 65,535 bytes.
    TooLong,
    /// Fragments disagree on where the datagram ends.
    Conflicting,
    /// More than [`MAX_PIECES`] pieces.
    TooManyPieces,
}

impl DropReason {
    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::TooLong => "fragment ends past 65535 bytes",
            DropReason::Conflicting => "fragments disagree on the datagram's length",
            DropReason::TooManyPieces => "datagram in too many pieces",
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum Reassembly<'a> {
    /// Kept until the rest arrives.
    Held,
    /// The whole payload of the datagram (what follows the IP header, or the
    /// IPv6 Fragment header), valid until the next call.
    Complete(&'a [u8]),
    /// This fragment's datagram was dropped.
    Dropped(DropReason),
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct DefragStats {
    pub datagrams_reassembled: u64,
    /// Incomplete after the timeout.
    pub datagrams_expired: u64,
    /// Dropped, oldest first, to stay within the limits.
    pub datagrams_evicted: u64,
    /// Dropped for a [`DropReason`].
    pub datagrams_invalid: u64,
    /// Fragments that overlapped bytes already held.
    pub fragments_overlapping: u64,
}

#[derive(Debug, Clone, Copy)]
struct Piece {
    start: usize,
    end: usize,
    /// Where its bytes are in `Pending::bytes`.
    at: usize,
}

#[derive(Debug)]
struct Pending {
    first_seen: Timestamp,
    /// Known once the last fragment (more = false) arrived.
    total: Option<usize>,
    received: usize,
    /// Sorted by `start`, never overlapping.
    pieces: Vec<Piece>,
    bytes: Vec<u8>,
}

impl Pending {
    fn heap_bytes(&self) -> usize {
        self.bytes.capacity() + self.pieces.capacity() * std::mem::size_of::<Piece>()
    }
}

#[derive(Debug)]
pub struct Defragmenter {
    pending: LruTable<FragmentKey, Pending>,
    limits: DefragLimits,
    stats: DefragStats,
    held_bytes: usize,
    clock: Timestamp,
    /// The last reassembled datagram (reused).
    assembled: Vec<u8>,
    gaps: Vec<(usize, usize)>,
}

impl Defragmenter {
    pub fn new(limits: DefragLimits) -> Self {
        Defragmenter {
            pending: LruTable::new(limits.max_datagrams),
            limits,
            stats: DefragStats::default(),
            held_bytes: 0,
            clock: Timestamp(i64::MIN),
            assembled: Vec::new(),
            gaps: Vec::new(),
        }
    }

    pub fn stats(&self) -> &DefragStats {
        &self.stats
    }

    /// Incomplete datagrams held now.
    pub fn held(&self) -> usize {
        self.pending.len()
    }

    /// Heap bytes held by incomplete datagrams now.
    pub fn held_bytes(&self) -> usize {
        self.held_bytes
    }

    fn expire(&mut self) {
        let timeout = i64::try_from(self.limits.timeout.as_nanos()).unwrap_or(i64::MAX);
        while let Some(oldest) = self.pending.oldest() {
            if oldest.first_seen.0.saturating_add(timeout) >= self.clock.0 {
                break;
            }
            if let Some((_, p)) = self.pending.pop_oldest() {
                self.held_bytes = self.held_bytes.saturating_sub(p.heap_bytes());
                self.stats.datagrams_expired += 1;
            }
        }
    }

    /// Adds one fragment's payload (the bytes after the IP header, or after
    /// the IPv6 Fragment header).
    pub fn fragment(&mut self, now: Timestamp, key: FragmentKey, fragment: Fragment, payload: &[u8]) -> Reassembly<'_> {
        self.clock = self.clock.max(now);
        self.expire();
        let start = usize::from(fragment.offset);
        let end = start + payload.len();
        let id = match self.pending.find(&key) {
            Some(id) => id,
            None => {
                let fresh =
                    Pending { first_seen: now, total: None, received: 0, pieces: Vec::new(), bytes: Vec::new() };
                let (id, evicted) = self.pending.insert(key, fresh);
                if let Some((_, p)) = evicted {
                    self.held_bytes = self.held_bytes.saturating_sub(p.heap_bytes());
                    self.stats.datagrams_evicted += 1;
                }
                id
            }
        };
        let Some(datagram) = self.pending.value_mut(id) else { return Reassembly::Held };
        let before = datagram.heap_bytes();
        let verdict = add(datagram, start, end, fragment.more, payload, &mut self.gaps, &mut self.stats);
        let after = datagram.heap_bytes();
        let complete = datagram.total == Some(datagram.received);
        self.held_bytes = self.held_bytes.saturating_add(after).saturating_sub(before);

        if let Err(reason) = verdict {
            if let Some((_, p)) = self.pending.remove(id) {
                self.held_bytes = self.held_bytes.saturating_sub(p.heap_bytes());
            }
            self.stats.datagrams_invalid += 1;
            return Reassembly::Dropped(reason);
        }
        if complete {
            let Some((_, p)) = self.pending.remove(id) else { return Reassembly::Held };
            self.held_bytes = self.held_bytes.saturating_sub(p.heap_bytes());
            self.assembled.clear();
            for piece in &p.pieces {
                let len = piece.end - piece.start;
                self.assembled.extend_from_slice(p.bytes.get(piece.at..piece.at + len).unwrap_or_default());
            }
            self.stats.datagrams_reassembled += 1;
            return Reassembly::Complete(&self.assembled);
        }
        while self.held_bytes > self.limits.max_bytes {
            let Some((_, p)) = self.pending.pop_oldest() else { break };
            self.held_bytes = self.held_bytes.saturating_sub(p.heap_bytes());
            self.stats.datagrams_evicted += 1;
        }
        Reassembly::Held
    }
}

/// Adds the parts of `[start, end)` not held yet (first wins).
fn add(
    datagram: &mut Pending,
    start: usize,
    end: usize,
    more: bool,
    payload: &[u8],
    gaps: &mut Vec<(usize, usize)>,
    stats: &mut DefragStats,
) -> Result<(), DropReason> {
    if end > MAX_DATAGRAM {
        return Err(DropReason::TooLong);
    }
    match (more, datagram.total) {
        (false, None) => {
            if datagram.pieces.last().is_some_and(|p| p.end > end) {
                return Err(DropReason::Conflicting);
            }
            datagram.total = Some(end);
        }
        (false, Some(total)) if total != end => return Err(DropReason::Conflicting),
        (true, Some(total)) if end > total => return Err(DropReason::Conflicting),
        _ => {}
    }

    gaps.clear();
    let mut cursor = start;
    for piece in &datagram.pieces {
        if piece.end <= cursor {
            continue;
        }
        if piece.start >= end {
            break;
        }
        if piece.start > cursor {
            gaps.push((cursor, piece.start));
        }
        cursor = cursor.max(piece.end);
        if cursor >= end {
            break;
        }
    }
    if cursor < end {
        gaps.push((cursor, end));
    }
    let new_bytes: usize = gaps.iter().map(|(a, b)| b - a).sum();
    if new_bytes < end - start {
        stats.fragments_overlapping += 1;
    }
    if datagram.pieces.len() + gaps.len() > MAX_PIECES {
        return Err(DropReason::TooManyPieces);
    }
    for &(gap_start, gap_end) in gaps.iter() {
        let Some(bytes) = payload.get(gap_start - start..gap_end - start) else { continue };
        datagram.pieces.push(Piece { start: gap_start, end: gap_end, at: datagram.bytes.len() });
        datagram.bytes.extend_from_slice(bytes);
        datagram.received += gap_end - gap_start;
    }
    datagram.pieces.sort_unstable_by_key(|p| p.start);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: u32) -> FragmentKey {
        FragmentKey { src: "10.0.0.1".parse().unwrap(), dst: "10.0.0.2".parse().unwrap(), id, protocol: 17 }
    }

    fn frag(offset: u16, more: bool) -> Fragment {
        Fragment { id: 0, offset, more }
    }

    #[test]
    fn any_order_and_overlaps_first_wins() {
        let mut d = Defragmenter::new(DefragLimits::default());
        let t = Timestamp(0);
        assert_eq!(d.fragment(t, key(1), frag(16, false), b"CCCCcc"), Reassembly::Held);
        assert_eq!(d.fragment(t, key(1), frag(0, true), b"AAAAAAAA"), Reassembly::Held);
        // Overlaps both neighbours; only bytes 8..16 are new.
        assert_eq!(
            d.fragment(t, key(1), frag(0, true), b"xxxxxxxxBBBBBBBBzz"),
            Reassembly::Complete(b"AAAAAAAABBBBBBBBCCCCcc")
        );
        assert_eq!(d.stats().fragments_overlapping, 1);
        assert_eq!(d.stats().datagrams_reassembled, 1);
        assert_eq!((d.held(), d.held_bytes()), (0, 0));
    }

    #[test]
    fn contradictions_and_oversize_drop_the_datagram() {
        let mut d = Defragmenter::new(DefragLimits::default());
        let t = Timestamp(0);
        d.fragment(t, key(2), frag(8, false), b"12345678");
        assert_eq!(d.fragment(t, key(2), frag(8, false), b"1234"), Reassembly::Dropped(DropReason::Conflicting));
        assert_eq!(d.fragment(t, key(3), frag(65528, true), b"123456789"), Reassembly::Dropped(DropReason::TooLong));
        d.fragment(t, key(4), frag(0, false), b"12345678");
        assert_eq!(d.held(), 0, "a lone last fragment at offset 0 is a whole datagram");
        assert_eq!(d.stats().datagrams_invalid, 2);
        for i in 0..MAX_PIECES as u16 {
            assert_eq!(d.fragment(t, key(5), frag(i * 16, true), b"12345678"), Reassembly::Held);
        }
        assert_eq!(d.fragment(t, key(5), frag(9000, true), b"x"), Reassembly::Dropped(DropReason::TooManyPieces));
    }

    #[test]
    fn bounded_by_count_bytes_and_time() {
        let limits = DefragLimits { max_datagrams: 2, max_bytes: 1024, timeout: Duration::from_secs(30) };
        let mut d = Defragmenter::new(limits);
        for id in 0..5 {
            d.fragment(Timestamp(0), key(id), frag(0, true), b"12345678");
        }
        assert_eq!((d.held(), d.stats().datagrams_evicted), (2, 3));
        d.fragment(Timestamp(0), key(9), frag(0, true), &[0; 2000]);
        assert!(d.held_bytes() <= 1024, "{}", d.held_bytes());
        d.fragment(Timestamp(0), key(10), frag(0, true), b"1");
        d.fragment(Timestamp(31_000_000_000), key(11), frag(0, true), b"1");
        assert_eq!(d.held(), 1);
        assert_eq!(d.stats().datagrams_expired, 1);
    }
}
