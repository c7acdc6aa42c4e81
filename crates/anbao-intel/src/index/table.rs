//! One immutable key → ids table: an arena of records and an ordered
//! open-addressing slot array.
//!
//! **Arena.** Every distinct key has one record, written back to back into
//! one `Box<[u8]>`:
//!
//! ```text
//! varint key length | key bytes | varint (ids << 1 | has_expiry) | ids…
//! ```
//!
//! The ids are sorted and distinct, stored as LEB128 varints of the first id
//! and then of the differences. When any id of the key has an expiry, each id
//! is followed by a varint of its expiry (`0`: never, otherwise the zig-zag
//! encoded `valid_until` plus one); records without expiries pay nothing.
//! A domain listed with one id below 2^28 takes its length plus 6 bytes.
//! Offsets 0 and 1 are never records: a slot value of 0 means "empty", an
//! offset of 1 marks a *phantom*, a slot with a fingerprint and no record.
//!
//! **Phantoms** (domain table only): every proper suffix of a listed domain
//! that is not listed itself (`evil.com` and `com` for `a.evil.com`) gets a
//! phantom slot, so the table is closed under "parent of": when a name's
//! suffix has no slot with its fingerprint, no longer suffix can be listed,
//! and a lookup walking a name from the right stops at its first absent
//! suffix. A miss then costs one table probe beyond the (cached) top-level
//! domains instead of one per label. The descendants bit says more: it is
//! set on phantoms and on listed domains that are a proper suffix of a
//! listed domain, so a walk also stops at a listed domain with nothing
//! listed below it (the usual hit) without probing the next label.
//!
//! **Slots.** `u64` each: the top `63 - off_bits` bits are a fingerprint (the
//! top bits of the key's hash), then one *descendants* bit (below), then the
//! record's offset in the arena in the low `off_bits` bits, `off_bits` being
//! just wide enough for the arena. A key's
//! home slot is `hash × homes / 2^64` (the top bits again). The builder
//! sorts the keys by hash and places them in that order, each at its home
//! or the first free slot after it (linear probing); the array grows past
//! `homes` when the last keys overflow, instead of wrapping to the start.
//! The slots are then ordered by hash, so a lookup scans forward from its
//! home and stops at the first slot whose fingerprint is greater than its
//! own, or at an empty slot: a miss reads about as many slots as a hit
//! (about 2 at the 2/3 load factor), usually one cache line.
//! A fingerprint match is checked against the record's key, so a collision
//! costs a comparison, never a wrong answer.

/// The offset of phantom slots.
const PHANTOM: u64 = 1;

/// Slots a probe reads without a branch per slot (a run from a home slot
/// is usually shorter).
const SCAN_WINDOW: usize = 4;

/// Home slots per entry: 3/2, a load factor of 2/3. At 0.8 (10 bytes of
/// slots per entry instead of 12) runs from a home slot are longer, more
/// probes run past their 4-slot window into a cache line not read ahead,
/// and batched lookups at 10M domains were 10–20% slower (`bench/intel`).
fn slot_count(entries: usize) -> usize {
    entries + entries / 2 + 1
}

#[inline]
fn home(h: u64, n: usize) -> usize {
    ((u128::from(h) * n as u128) >> 64) as usize
}

pub(crate) fn put_varint(out: &mut Vec<u8>, mut x: u64) {
    while x >= 0x80 {
        out.push((x as u8) | 0x80);
        x >>= 7;
    }
    out.push(x as u8);
}

#[inline(always)]
pub(crate) fn get_varint(b: &mut &[u8]) -> Option<u64> {
    let (x, rest) = varint(b)?;
    *b = rest;
    Some(x)
}

/// A LEB128 varint and the bytes after it; one byte is the fast case.
#[inline(always)]
fn varint(b: &[u8]) -> Option<(u64, &[u8])> {
    let (&first, rest) = b.split_first()?;
    if first < 0x80 {
        return Some((u64::from(first), rest));
    }
    varint_long(first, rest)
}

#[inline(never)]
fn varint_long(first: u8, mut b: &[u8]) -> Option<(u64, &[u8])> {
    let mut x = u64::from(first & 0x7f);
    let mut shift = 7;
    loop {
        let (&byte, rest) = b.split_first()?;
        b = rest;
        x |= u64::from(byte & 0x7f).checked_shl(shift)?;
        if byte < 0x80 {
            return Some((x, b));
        }
        shift += 7;
        if shift > 63 {
            return None;
        }
    }
}

/// `valid_until` as stored: 0 for never, else zig-zag plus one. `i64::MIN`
/// is stored as `i64::MIN + 1` (no `now` lies between them that matters).
fn expiry_code(until: Option<i64>) -> u64 {
    match until {
        None => 0,
        Some(t) => {
            let t = t.max(i64::MIN + 1);
            (((t << 1) ^ (t >> 63)) as u64) + 1
        }
    }
}

fn expiry_decode(code: u64) -> Option<i64> {
    let z = code.checked_sub(1)?;
    Some(((z >> 1) as i64) ^ -((z & 1) as i64))
}

/// The ids of one record, decoded lazily; with `now`, ids whose expiry is at
/// or before `now` are skipped. Yields `(id, valid_until)`.
#[derive(Clone, Debug)]
pub(crate) struct IdCursor<'a> {
    bytes: &'a [u8],
    left: u64,
    has_expiry: bool,
    first: bool,
    prev: u64,
    /// `i64::MIN` for no `now`: every stored expiry is later (see
    /// [`expiry_code`]).
    now: i64,
}

impl<'a> IdCursor<'a> {
    pub(crate) fn with_now(mut self, now: Option<i64>) -> Self {
        self.now = now.unwrap_or(i64::MIN);
        self
    }

    /// Whether at least one id is active (at `now`, when set). Cheap for
    /// records without expiries.
    #[inline]
    pub(crate) fn any_active(&self) -> bool {
        if !self.has_expiry || self.now == i64::MIN {
            return self.left > 0;
        }
        self.clone().next().is_some()
    }
}

impl Iterator for IdCursor<'_> {
    type Item = (u64, Option<i64>);

    #[inline]
    fn next(&mut self) -> Option<(u64, Option<i64>)> {
        while self.left > 0 {
            self.left -= 1;
            let d = get_varint(&mut self.bytes)?;
            let id = if self.first { d } else { self.prev.wrapping_add(d) };
            self.first = false;
            self.prev = id;
            let until = if self.has_expiry { expiry_decode(get_varint(&mut self.bytes)?) } else { None };
            match until {
                Some(until) if self.now >= until => continue,
                _ => return Some((id, until)),
            }
        }
        None
    }
}

/// A record's key.
#[inline]
fn key_of(arena: &[u8], off: usize) -> Option<&[u8]> {
    let (klen, b) = varint(arena.get(off..)?)?;
    b.get(..usize::try_from(klen).ok()?)
}

/// A record's key and ids.
#[inline]
fn record(arena: &[u8], off: usize) -> Option<(&[u8], IdCursor<'_>)> {
    let (klen, b) = varint(arena.get(off..)?)?;
    let (key, b) = b.split_at_checked(usize::try_from(klen).ok()?)?;
    let (head, b) = varint(b)?;
    let ids = IdCursor { bytes: b, left: head >> 1, has_expiry: head & 1 == 1, first: true, prev: 0, now: i64::MIN };
    Some((key, ids))
}

#[derive(Debug)]
pub(crate) struct KeyTable {
    /// `homes` home slots, then the overflow of the last ones.
    slots: Box<[u64]>,
    homes: usize,
    arena: Box<[u8]>,
    off_bits: u32,
    len: usize,
}

impl Default for KeyTable {
    fn default() -> Self {
        KeyTable { slots: Box::new([]), homes: 0, arena: Box::new([]), off_bits: 1, len: 0 }
    }
}

impl KeyTable {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.slots.len() * 8 + self.arena.len()
    }

    /// The key and ids listed under `key`, whose hash is `h`.
    #[inline]
    pub(crate) fn find(&self, h: u64, key: &[u8]) -> Option<(&[u8], IdCursor<'_>)> {
        self.record_at(self.probe(h, key).1)
    }

    /// The home slot of hash `h`.
    #[inline]
    pub(crate) fn home_of(&self, h: u64) -> usize {
        home(h, self.homes)
    }

    /// The slots to read so that a probe from home slot `i` finds its
    /// window in the cache: `i`, and `i + SCAN_WINDOW - 1` when that lies in
    /// the next cache line. (A batched lookup collects these, then reads
    /// them all in one tight loop, [`touch_slots`](Self::touch_slots).)
    #[inline]
    pub(crate) fn slot_lines(&self, i: usize, mut push: impl FnMut(usize)) {
        push(i);
        let last = i + SCAN_WINDOW - 1;
        let base = self.slots.as_ptr() as usize;
        if (base + i * 8) >> 6 != (base + last * 8) >> 6 && last < self.slots.len() {
            push(last);
        }
    }

    /// The arena bytes to read so that the record at `off`, if its key is
    /// `key_len` bytes long with one short id (the usual record), is in the
    /// cache: its first byte, and its last when that lies in another cache
    /// line (reading a fixed 32 bytes on would fetch a line for nothing
    /// half of the time).
    #[inline]
    pub(crate) fn record_lines(&self, off: usize, key_len: usize, mut push: impl FnMut(usize)) {
        push(off);
        // Key length, key, ids header, one id of up to 4 bytes.
        let last = (off + key_len + 6).min(self.arena.len().saturating_sub(1));
        let base = self.arena.as_ptr() as usize;
        if (base + off) >> 6 != (base + last) >> 6 {
            push(last);
        }
    }

    /// Reads the slots at `idx` (to bring them into the cache): a loop of a
    /// few instructions per slot, so that the processor issues all the reads
    /// before the first one returns and their cache misses overlap.
    #[inline]
    pub(crate) fn touch_slots(&self, idx: &[usize]) -> u64 {
        idx.iter().fold(0, |x, &i| x ^ self.slots.get(i).copied().unwrap_or(0))
    }

    /// [`touch_slots`](Self::touch_slots) for arena bytes.
    #[inline]
    pub(crate) fn touch_bytes(&self, idx: &[usize]) -> u64 {
        idx.iter().fold(0, |x, &i| x ^ u64::from(self.arena.get(i).copied().unwrap_or(0)))
    }

    /// [`probe`](Self::probe) without reading records: whether a slot with
    /// `h`'s fingerprint has the descendants bit, and `candidate(offset)` for
    /// each record whose slot has the fingerprint (the caller compares the
    /// keys later).
    #[inline(always)]
    pub(crate) fn scan(&self, h: u64, home: usize, mut candidate: impl FnMut(usize)) -> bool {
        let (lo, hi, off_mask) = self.bounds(h);
        // The usual case without a branch per slot (they mispredict: where
        // the run ends is random): the first slots from home, each matching
        // if no slot before it ended the run.
        if let Some(&window) =
            self.slots.get(home..home + SCAN_WINDOW).and_then(|w| <&[u64; SCAN_WINDOW]>::try_from(w).ok())
        {
            // Slots ending the run (empty or greater) and slots with the
            // fingerprint, as bit masks; the matches are those before the
            // first end.
            let [s0, s1, s2, s3] = window;
            let ends = |s: u64| u32::from((s == 0) | (s > hi));
            let fits = |s: u64| u32::from(s >= lo);
            let end_mask = ends(s0) | ends(s1) << 1 | ends(s2) << 2 | ends(s3) << 3;
            let fit_mask = fits(s0) | fits(s1) << 1 | fits(s2) << 2 | fits(s3) << 3;
            if end_mask != 0 {
                let mut matches = fit_mask & ((end_mask & end_mask.wrapping_neg()) - 1);
                let mut deeper = false;
                while matches != 0 {
                    let i = matches.trailing_zeros() as usize;
                    matches &= matches - 1;
                    let s = window.get(i).copied().unwrap_or(0);
                    deeper |= s >> self.off_bits & 1 == 1;
                    let off = s & off_mask;
                    if off != PHANTOM {
                        candidate(usize::try_from(off).unwrap_or(0));
                    }
                }
                return deeper;
            }
        }
        let mut deeper = false;
        for &s in self.slots.get(home..).unwrap_or_default() {
            if s == 0 || s > hi {
                break;
            }
            if s >= lo {
                deeper |= s >> self.off_bits & 1 == 1;
                let off = s & off_mask;
                if off != PHANTOM {
                    candidate(usize::try_from(off).unwrap_or(0));
                }
            }
        }
        deeper
    }

    /// The slots with `h`'s fingerprint lie in `lo..=hi` (the empty slot is
    /// 0); the offset mask.
    #[inline]
    fn bounds(&self, h: u64) -> (u64, u64, u64) {
        let low = self.off_bits + 1;
        let lo = h >> low << low;
        (lo, lo | ((1u64 << low) - 1), (1u64 << self.off_bits) - 1)
    }

    /// The key of the record at `off` (0: none).
    #[inline]
    pub(crate) fn key_at(&self, off: usize) -> Option<&[u8]> {
        if off == 0 {
            return None;
        }
        key_of(&self.arena, off)
    }

    /// The record at `off`, as [`probe`](Self::probe) returns it (0: none).
    #[inline]
    pub(crate) fn record_at(&self, off: usize) -> Option<(&[u8], IdCursor<'_>)> {
        if off == 0 {
            return None;
        }
        record(&self.arena, off)
    }

    /// Whether a slot with `h`'s fingerprint has the descendants bit (a
    /// longer domain may be listed), and the offset of `key`'s record if it
    /// is listed (0 if not).
    #[inline]
    pub(crate) fn probe(&self, h: u64, key: &[u8]) -> (bool, usize) {
        if self.len == 0 {
            return (false, 0);
        }
        // Slots after a key's home are ordered by hash: a greater slot
        // means the key is not there.
        let (lo, hi, off_mask) = self.bounds(h);
        let mut deeper = false;
        let mut found = 0;
        for &s in self.slots.get(home(h, self.homes)..).unwrap_or_default() {
            if s == 0 || s > hi {
                break;
            }
            if s >= lo {
                deeper |= s >> self.off_bits & 1 == 1;
                let off = s & off_mask;
                if off != PHANTOM && found == 0 {
                    let off = usize::try_from(off).unwrap_or(0);
                    if key_of(&self.arena, off) == Some(key) {
                        found = off;
                    }
                }
            }
        }
        (deeper, found)
    }

    /// Every record, in slot order (tests and diagnostics).
    #[cfg(test)]
    pub(crate) fn records(&self) -> impl Iterator<Item = (&[u8], IdCursor<'_>)> {
        let off_mask = (1u64 << self.off_bits) - 1;
        self.slots
            .iter()
            .filter(move |&&s| s != 0 && s & off_mask != PHANTOM)
            .filter_map(move |&s| record(&self.arena, usize::try_from(s & off_mask).ok()?))
    }
}

/// One `add`: the key's hash, where its copy starts in its part's `keys`
/// (the top bit set when it has an expiry in `expiring`), and the id.
#[derive(Clone, Copy, Debug)]
struct Add {
    h: u64,
    off: u64,
    id: u64,
}

const HAS_EXPIRY: u64 = 1 << 63;

/// The builder keeps the adds in [`PARTS`] parts by the top bits of the
/// hash, so that `build` sorts and copies one cache-sized part at a time
/// (sorting everything and then copying keys in hash order reads the keys
/// in random order: a cache miss per key).
const PART_BITS: u32 = 8;
const PARTS: usize = 1 << PART_BITS;

#[derive(Debug, Default)]
struct Part {
    /// Each add's key, varint length first.
    keys: Vec<u8>,
    adds: Vec<Add>,
    /// `(key offset of the add, valid_until)`, in add order (so sorted).
    expiring: Vec<(u64, i64)>,
    phantoms: Vec<u64>,
}

#[derive(Debug, Default)]
pub(crate) struct KeyTableBuilder {
    parts: Vec<Part>,
}

fn part_of(h: u64) -> usize {
    (h >> (64 - PART_BITS)) as usize
}

fn key_at(keys: &[u8], off: u64) -> &[u8] {
    let Some(mut b) = usize::try_from(off & !HAS_EXPIRY).ok().and_then(|o| keys.get(o..)) else {
        return &[];
    };
    let len = get_varint(&mut b).and_then(|l| usize::try_from(l).ok()).unwrap_or(0);
    b.get(..len).unwrap_or_default()
}

impl KeyTableBuilder {
    fn part(&mut self, h: u64) -> Option<&mut Part> {
        if self.parts.is_empty() {
            self.parts.resize_with(PARTS, Part::default);
        }
        self.parts.get_mut(part_of(h))
    }

    pub(crate) fn push(&mut self, h: u64, key: &[u8], id: u64, valid_until: Option<i64>) {
        let Some(p) = self.part(h) else { return };
        let mut off = p.keys.len() as u64;
        put_varint(&mut p.keys, key.len() as u64);
        p.keys.extend_from_slice(key);
        if let Some(t) = valid_until {
            p.expiring.push((off, t));
            off |= HAS_EXPIRY;
        }
        p.adds.push(Add { h, off, id });
    }

    /// A phantom slot for hash `h` (unless a key has that hash).
    pub(crate) fn push_phantom(&mut self, h: u64) {
        if let Some(p) = self.part(h) {
            p.phantoms.push(h);
        }
    }

    pub(crate) fn build(self) -> KeyTable {
        let mut parts = self.parts;
        let adds: usize = parts.iter().map(|p| p.adds.len()).sum();
        if adds == 0 {
            return KeyTable::default();
        }
        // Per part: one record per distinct key, written in hash order;
        // the entry's (hash, record offset) is written back over `adds`
        // (entry e is written after adds[..=e] were read).
        let key_bytes: usize = parts.iter().map(|p| p.keys.len()).sum();
        let mut arena: Vec<u8> = Vec::with_capacity(key_bytes + adds * 4 + 2);
        arena.extend_from_slice(&[0, 0]);
        let mut ids: Vec<(u64, Option<i64>)> = Vec::new();
        let mut entries_total = 0usize;
        for part in &mut parts {
            let Part { keys, adds, expiring, phantoms } = part;
            let keys = std::mem::take(keys);
            let expiring = std::mem::take(expiring);
            adds.sort_unstable_by(|a, b| a.h.cmp(&b.h).then_with(|| key_at(&keys, a.off).cmp(key_at(&keys, b.off))));
            let mut entries = 0usize;
            let mut i = 0usize;
            while let Some(&first) = adds.get(i) {
                let key = key_at(&keys, first.off);
                ids.clear();
                let mut j = i;
                while let Some(a) = adds.get(j).filter(|a| a.h == first.h && key_at(&keys, a.off) == key) {
                    let until = if a.off & HAS_EXPIRY != 0 {
                        let off = a.off & !HAS_EXPIRY;
                        expiring.binary_search_by_key(&off, |e| e.0).ok().and_then(|k| expiring.get(k)).map(|e| e.1)
                    } else {
                        None
                    };
                    ids.push((a.id, until));
                    j += 1;
                }
                let rec = arena.len() as u64;
                write_record(&mut arena, key, &mut ids);
                if let Some(slot) = adds.get_mut(entries) {
                    *slot = Add { h: first.h, off: rec, id: 0 };
                }
                entries += 1;
                i = j;
            }
            adds.truncate(entries);
            adds.shrink_to_fit();
            entries_total += entries;
            phantoms.sort_unstable();
            phantoms.dedup();
            // A phantom for a listed key's hash: the key has descendants
            // (flagged in its `id`, unused from here on).
            let mut k = 0;
            phantoms.retain(|&p| {
                while adds.get(k).is_some_and(|a| a.h < p) {
                    k += 1;
                }
                match adds.get_mut(k) {
                    Some(a) if a.h == p => {
                        a.id = 1;
                        false
                    }
                    _ => true,
                }
            });
            phantoms.shrink_to_fit();
        }
        arena.shrink_to_fit();

        let phantom_count: usize = parts.iter().map(|p| p.phantoms.len()).sum();
        let off_bits = (u64::BITS - (arena.len() as u64).leading_zeros()).max(1);
        let low = off_bits + 1;
        let homes = slot_count(entries_total + phantom_count);
        let mut slots = vec![0u64; homes];
        let mut cursor = 0usize;
        for part in parts {
            let mut real = part.adds.iter().map(|a| (a.h, (a.id << off_bits) | a.off)).peekable();
            let mut phantom = part.phantoms.iter().map(|&h| (h, (1 << off_bits) | PHANTOM)).peekable();
            // Parts in hash order, each sorted: merge its two lists.
            while let Some((h, off)) = match (real.peek(), phantom.peek()) {
                (Some(r), Some(p)) if p.0 < r.0 => phantom.next(),
                (Some(_), _) => real.next(),
                (None, _) => phantom.next(),
            } {
                let v = (h >> low << low) | off;
                let pos = home(h, homes).max(cursor);
                match slots.get_mut(pos) {
                    Some(s) => *s = v,
                    None => slots.push(v), // overflow past the last home
                }
                cursor = pos + 1;
            }
        }
        let slots = slots.into_boxed_slice();
        KeyTable { slots, homes, arena: arena.into_boxed_slice(), off_bits, len: entries_total }
    }
}

/// Appends the record of `key` with `ids` (sorted and merged here: an id
/// without expiry never expires; of two expiries the later wins).
fn write_record(arena: &mut Vec<u8>, key: &[u8], ids: &mut Vec<(u64, Option<i64>)>) {
    ids.sort_unstable_by_key(|e| e.0);
    ids.dedup_by(|later, kept| {
        if later.0 != kept.0 {
            return false;
        }
        kept.1 = match (kept.1, later.1) {
            (Some(a), Some(b)) => Some(a.max(b)),
            _ => None,
        };
        true
    });
    let has_expiry = ids.iter().any(|e| e.1.is_some());
    put_varint(arena, key.len() as u64);
    arena.extend_from_slice(key);
    put_varint(arena, ((ids.len() as u64) << 1) | u64::from(has_expiry));
    let mut prev = None;
    for &(id, until) in ids.iter() {
        put_varint(arena, prev.map_or(id, |p| id.wrapping_sub(p)));
        prev = Some(id);
        if has_expiry {
            put_varint(arena, expiry_code(until));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::hash::Hasher;

    fn build(h: &Hasher, items: &[(&str, u64, Option<i64>)]) -> KeyTable {
        let mut b = KeyTableBuilder::default();
        for &(k, id, t) in items {
            b.push(h.bytes(k.as_bytes()), k.as_bytes(), id, t);
        }
        b.build()
    }

    fn get(t: &KeyTable, h: &Hasher, k: &str, now: Option<i64>) -> Option<Vec<(u64, Option<i64>)>> {
        t.find(h.bytes(k.as_bytes()), k.as_bytes()).map(|(key, ids)| {
            assert_eq!(key, k.as_bytes());
            ids.with_now(now).collect()
        })
    }

    #[test]
    fn varints() {
        for x in [0, 1, 127, 128, 300, u64::from(u32::MAX), u64::MAX - 1, u64::MAX] {
            let mut v = Vec::new();
            put_varint(&mut v, x);
            let mut s = v.as_slice();
            assert_eq!(get_varint(&mut s), Some(x));
            assert!(s.is_empty());
        }
        assert_eq!(get_varint(&mut &[0x80u8][..]), None);
        assert_eq!(get_varint(&mut &[0xffu8; 11][..]), None);
        for t in [None, Some(0), Some(-1), Some(1_700_000_000), Some(i64::MAX), Some(i64::MIN + 1)] {
            assert_eq!(expiry_decode(expiry_code(t)), t);
        }
        assert_eq!(expiry_decode(expiry_code(Some(i64::MIN))), Some(i64::MIN + 1));
    }

    #[test]
    fn ids_merge_and_expire() {
        let h = Hasher::with_seed(7);
        let t = build(
            &h,
            &[
                ("a", 5, None),
                ("a", 3, Some(100)),
                ("a", 3, Some(50)),
                ("a", u64::MAX, Some(10)),
                ("a", 0, None),
                ("a", 5, Some(1)),
                ("b", 9, None),
            ],
        );
        assert_eq!(t.len(), 2);
        assert_eq!(get(&t, &h, "a", None).unwrap(), [(0, None), (3, Some(100)), (5, None), (u64::MAX, Some(10))]);
        assert_eq!(get(&t, &h, "a", Some(10)).unwrap(), [(0, None), (3, Some(100)), (5, None)]);
        assert_eq!(get(&t, &h, "a", Some(100)).unwrap(), [(0, None), (5, None)]);
        assert_eq!(get(&t, &h, "b", Some(i64::MAX)).unwrap(), [(9, None)]);
        assert_eq!(get(&t, &h, "c", None), None);
        let (_, ids) = t.find(h.bytes(b"a"), b"a").unwrap();
        assert!(ids.with_now(Some(i64::MAX)).any_active());
    }

    #[test]
    fn collisions_every_width() {
        // 0 bits: every hash equal; 1–3: long runs that overflow the end.
        for bits in [0, 1, 2, 3, 5, 64] {
            let mut h = Hasher::with_seed(u64::from(bits));
            h.weaken(bits);
            let keys: Vec<String> = (0..300).map(|i| format!("k{i}")).collect();
            let items: Vec<(&str, u64, Option<i64>)> =
                keys.iter().enumerate().map(|(i, k)| (k.as_str(), i as u64, None)).collect();
            let t = build(&h, &items);
            assert_eq!(t.len(), 300);
            assert_eq!(t.records().count(), 300);
            for (i, k) in keys.iter().enumerate() {
                assert_eq!(get(&t, &h, k, None).unwrap(), [(i as u64, None)], "bits {bits} key {k}");
            }
            for i in 300..600 {
                assert_eq!(get(&t, &h, &format!("k{i}"), None), None, "bits {bits}");
            }
        }
    }

    #[test]
    fn empty_and_single() {
        let h = Hasher::with_seed(1);
        let t = build(&h, &[]);
        assert!(t.is_empty());
        assert_eq!(get(&t, &h, "", None), None);
        let t = build(&h, &[("", 1, None)]);
        assert_eq!(get(&t, &h, "", None).unwrap(), [(1, None)]);
        assert_eq!(get(&t, &h, "x", None), None);
    }
}
