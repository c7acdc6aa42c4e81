//! An immutable in-memory index of indicators, answering "which listed
//! indicators does this observed value match", with the ids the caller gave.
//!
//! - Domains: the name itself ([`Match::Exact`]) and every parent domain
//!   ([`Match::Parent`]): listing `evil.com` matches `a.b.evil.com`, not
//!   `notevil.com`. The name is walked from the right, one table probe per
//!   label suffix, stopping at the first suffix that is neither listed nor
//!   a parent of a listed domain, or has nothing listed below it: a miss
//!   usually costs one probe (the top-level domain is probed only when one
//!   is listed).
//! - IP addresses: the address itself and every covering CIDR
//!   ([`Match::Network`]), longest prefix first. A lookup masks the address
//!   once per prefix length that has entries and probes one table.
//! - URLs: the normalised URL and every listed URL that is a path prefix of
//!   it ending at a `/` boundary ([`Match::UrlPrefix`]): `http://x.com/a`
//!   covers `http://x.com/a/b` and `http://x.com/a?q`, not `http://x.com/ab`;
//!   `http://x.com/a/` covers `http://x.com/a/b`. Listed URLs with a query
//!   only match exactly.
//! - Everything else (hashes, emails, Android packages, JA3/JA4, certificate
//!   fingerprints, CIDRs as values): exact matches of the normal form.
//!
//! Values go through [`normalize`] on the way in and on the way out, so
//! callers may pass raw values. An observed value that is not valid matches
//! nothing. IPv4-mapped IPv6 addresses are IPv4 throughout (listed under
//! either kind, they are reported as [`IndicatorKind::Ipv4`]).
//!
//! A domain lookup checks the name only when a suffix of it is listed: the
//! normal form of an ASCII name, when it has one, is the name lower-cased
//! (with no trailing dot), so the walk needs only that; a listed suffix is
//! a valid name, so then only the labels before it are checked
//! (`index/fast.rs`). A name with no listed suffix matches nothing, valid
//! or not, and costs no checks.
//!
//! **Expiry.** [`IndicatorIndexBuilder::add_expiring`] gives an id a
//! `valid_until` (Unix seconds); the id is active while `now < valid_until`.
//! The `*_at(…, now_unix)` lookups and the `visit_*` lookups given a `now`
//! report only active ids and drop a hit none of whose ids is active; ids
//! added with [`IndicatorIndexBuilder::add`] never expire. The same id added
//! to the same value twice keeps no expiry if either add had none, else the
//! later expiry. Lookups without a `now` report every id.
//!
//! **Three ways to look up.** The `lookup_*` methods return owned
//! [`Hit`]s (they allocate the result). The `visit_*` methods call a closure
//! with a borrowed [`HitRef`] per hit and return the number of hits; they
//! allocate nothing for domains (ASCII names), IP addresses and hex hashes,
//! hit or miss. URLs and other kinds are normalised into a `String` first.
//! [`IndicatorIndex::visit_domains`] looks up many names at once, [`BATCH`]
//! at a time in passes, so that their cache misses overlap: several times
//! faster per name than one call each once the index is larger than the
//! CPU cache (`bench/README.md`, `bench/intel`).
//!
//! **Layout** (see `index/table.rs`): per table, every distinct normalised
//! value is one record in a byte arena (value, then its ids as varints), and
//! an ordered open-addressing array of `u64` slots holds a hash fingerprint
//! and the record's offset. Tables: domains (hashed label by label from the
//! right, so one pass over a name gives every parent's hash), URLs, IPv4
//! addresses and networks (key: prefix length and address bytes), the same
//! for IPv6, and one per other kind. The hash is seeded randomly per index
//! (`index/hash.rs` explains the choice). A listed domain costs about its
//! length plus 20 bytes (arena, slot, its share of the parents' phantom
//! slots); [`IndicatorIndex::heap_bytes`] reports the total.

mod fast;
mod hash;
mod table;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::normalize::{IndicatorKind, Invalid, mask_v4, mask_v6, normalize, parse_cidr};
use fast::Fast;
use hash::Hasher;
use table::{IdCursor, KeyTable, KeyTableBuilder};

/// How a listed indicator matched the looked-up value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Match {
    /// The listed value is the looked-up value (after normalisation).
    Exact,
    /// A listed domain that is a parent of the looked-up name.
    Parent { listed: String },
    /// A listed CIDR (`net/len`) covering the looked-up address.
    Network { listed: String },
    /// A listed URL that is a path prefix of the looked-up URL.
    UrlPrefix { listed: String },
}

/// One matching listed value and the ids it was added with (sorted,
/// without duplicates; with a `now`, only the active ones).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hit {
    pub kind: IndicatorKind,
    pub matched: Match,
    pub ids: Vec<u64>,
}

/// [`Match`] borrowing the index: what the `visit_*` lookups report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatchRef<'a> {
    Exact,
    /// A listed parent domain.
    Parent(Listed<'a>),
    /// A listed network covering the address: network address, prefix
    /// length.
    Network(IpAddr, u8),
    /// A listed URL that is a path prefix.
    UrlPrefix(Listed<'a>),
}

/// A listed domain or URL as stored in the index (normal forms are ASCII).
/// Kept as bytes until asked for, so that a lookup that only wants the ids
/// does not check the text.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Listed<'a>(&'a [u8]);

impl<'a> Listed<'a> {
    pub fn as_str(&self) -> &'a str {
        std::str::from_utf8(self.0).unwrap_or_default()
    }

    pub fn as_bytes(&self) -> &'a [u8] {
        self.0
    }
}

impl std::fmt::Debug for Listed<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl std::fmt::Display for Listed<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for Listed<'_> {
    fn eq(&self, other: &&str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl MatchRef<'_> {
    pub fn to_owned_match(&self) -> Match {
        match *self {
            MatchRef::Exact => Match::Exact,
            MatchRef::Parent(s) => Match::Parent { listed: s.as_str().to_owned() },
            MatchRef::Network(a, len) => Match::Network { listed: format!("{a}/{len}") },
            MatchRef::UrlPrefix(s) => Match::UrlPrefix { listed: s.as_str().to_owned() },
        }
    }
}

/// One hit as the `visit_*` lookups report it, borrowing the index.
#[derive(Clone, Debug)]
pub struct HitRef<'a> {
    pub kind: IndicatorKind,
    pub matched: MatchRef<'a>,
    ids: IdCursor<'a>,
}

impl<'a> HitRef<'a> {
    /// The ids (sorted; with a `now`, only the active ones).
    pub fn ids(&self) -> impl Iterator<Item = u64> + 'a {
        self.ids.clone().map(|(id, _)| id)
    }

    /// The ids with their `valid_until` (`None`: never expires).
    pub fn ids_with_expiry(&self) -> impl Iterator<Item = (u64, Option<i64>)> + 'a {
        self.ids.clone()
    }

    pub fn to_hit(&self) -> Hit {
        Hit { kind: self.kind, matched: self.matched.to_owned_match(), ids: self.ids().collect() }
    }
}

impl From<HitRef<'_>> for Hit {
    fn from(h: HitRef<'_>) -> Hit {
        h.to_hit()
    }
}

/// The kinds with a table of exact values (indexed by `kind as usize`).
const KINDS: usize = IndicatorKind::ALL.len();

/// Key classes of the address tables: a prefix length (0–32 / 0–128) for
/// networks, this for addresses.
const ADDRESS: u8 = 255;

fn v4_key(class: u8, a: u32) -> [u8; 5] {
    let [b0, b1, b2, b3] = a.to_be_bytes();
    [class, b0, b1, b2, b3]
}

fn v6_key(class: u8, a: u128) -> [u8; 17] {
    let mut k = [class; 17];
    for (d, s) in k.iter_mut().skip(1).zip(a.to_be_bytes()) {
        *d = s;
    }
    k
}

#[derive(Debug, Default)]
struct Tables<T> {
    domains: T,
    urls: T,
    v4: T,
    v6: T,
    exact: [T; KINDS],
}

/// Collects indicators; [`IndicatorIndexBuilder::build`] makes the index.
#[derive(Debug)]
pub struct IndicatorIndexBuilder {
    hasher: Hasher,
    t: Tables<KeyTableBuilder>,
    /// The most labels a listed domain has.
    max_depth: usize,
    /// Whether a domain of one label (a top-level domain) is listed.
    top_listed: bool,
    /// Recent phantom hashes (direct-mapped): top-level domains repeat
    /// endlessly, this keeps most repeats out of the phantom lists.
    recent: Box<[Option<u64>]>,
    v4_lens: [bool; 33],
    v6_lens: [bool; 129],
}

impl Default for IndicatorIndexBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl IndicatorIndexBuilder {
    /// A builder whose index is laid out with a random hash seed.
    pub fn new() -> Self {
        Self::with_hasher(Hasher::random())
    }

    /// A builder with a fixed hash seed: the same indicators give the same
    /// layout. For tests and benchmarks; an index answering untrusted
    /// values should use [`IndicatorIndexBuilder::new`].
    pub fn with_seed(seed: u64) -> Self {
        Self::with_hasher(Hasher::with_seed(seed))
    }

    fn with_hasher(hasher: Hasher) -> Self {
        IndicatorIndexBuilder {
            hasher,
            t: Tables::default(),
            max_depth: 0,
            top_listed: false,
            recent: vec![None; 4096].into_boxed_slice(),
            v4_lens: [false; 33],
            v6_lens: [false; 129],
        }
    }

    /// Keeps only the top `bits` bits of every hash, so that values
    /// collide (0: all of them). For tests of the collision paths; the
    /// index stays correct, only slower.
    #[doc(hidden)]
    pub fn weaken_hash_for_tests(mut self, bits: u32) -> Self {
        self.hasher.weaken(bits);
        self
    }

    /// Adds `value` (normalised here; already-normal values are unchanged)
    /// as an indicator of `kind` with `id`. The same value may be added with
    /// several ids.
    pub fn add(&mut self, kind: IndicatorKind, value: &str, id: u64) -> Result<&mut Self, Invalid> {
        self.insert(kind, value, id, None)
    }

    /// [`add`](Self::add) with an expiry: `id` is active for this value
    /// while `now < valid_until_unix` (see the module doc).
    pub fn add_expiring(
        &mut self,
        kind: IndicatorKind,
        value: &str,
        id: u64,
        valid_until_unix: i64,
    ) -> Result<&mut Self, Invalid> {
        self.insert(kind, value, id, Some(valid_until_unix))
    }

    fn insert(&mut self, kind: IndicatorKind, value: &str, id: u64, until: Option<i64>) -> Result<&mut Self, Invalid> {
        let h = &self.hasher;
        let t = &mut self.t;
        match kind {
            IndicatorKind::Domain => {
                let mut name = fast::Name::default();
                if !matches!(fast::domain(value, &mut name), Fast::Normal(_)) {
                    let norm = normalize(kind, value)?;
                    name.set(norm.as_bytes());
                }
                // The label chain gives the hash of every proper suffix on
                // the way: their phantoms (see `index/table.rs`).
                let labels = name.labels();
                let mut hash = h.domain_start();
                for (i, (start, len)) in name.labels_rev().enumerate() {
                    hash = h.label_at(hash, name.padded(), start, len);
                    if i + 1 < labels
                        && let Some(r) = self.recent.get_mut((hash >> 20) as usize & 4095)
                        && *r != Some(hash)
                    {
                        *r = Some(hash);
                        t.domains.push_phantom(hash);
                    }
                }
                self.max_depth = self.max_depth.max(labels);
                self.top_listed |= labels == 1;
                t.domains.push(hash, name.as_bytes(), id, until);
            }
            IndicatorKind::Url => {
                let norm = normalize(kind, value)?;
                t.urls.push(h.bytes(norm.as_bytes()), norm.as_bytes(), id, until);
            }
            IndicatorKind::Ipv4 | IndicatorKind::Ipv6 => {
                // The normal form of both kinds parses as an IpAddr.
                match normalize(kind, value)?.parse::<IpAddr>() {
                    Ok(IpAddr::V4(a)) => {
                        let k = v4_key(ADDRESS, u32::from(a));
                        t.v4.push(h.bytes(&k), &k, id, until);
                    }
                    Ok(IpAddr::V6(a)) => {
                        let k = v6_key(ADDRESS, u128::from(a));
                        t.v6.push(h.bytes(&k), &k, id, until);
                    }
                    Err(_) => {}
                }
            }
            IndicatorKind::Cidr => match parse_cidr(&normalize(kind, value)?) {
                Ok((IpAddr::V4(a), len)) => {
                    let k = v4_key(len, u32::from(a));
                    t.v4.push(h.bytes(&k), &k, id, until);
                    if let Some(l) = self.v4_lens.get_mut(usize::from(len)) {
                        *l = true;
                    }
                }
                Ok((IpAddr::V6(a), len)) => {
                    let k = v6_key(len, u128::from(a));
                    t.v6.push(h.bytes(&k), &k, id, until);
                    if let Some(l) = self.v6_lens.get_mut(usize::from(len)) {
                        *l = true;
                    }
                }
                Err(_) => {}
            },
            _ => {
                let norm = normalize(kind, value)?;
                if let Some(e) = t.exact.get_mut(kind as usize) {
                    e.push(h.bytes(norm.as_bytes()), norm.as_bytes(), id, until);
                }
            }
        }
        Ok(self)
    }

    pub fn build(self) -> IndicatorIndex {
        let Tables { domains, urls, v4, v6, exact } = self.t;
        let t = Tables {
            domains: domains.build(),
            urls: urls.build(),
            v4: v4.build(),
            v6: v6.build(),
            exact: exact.map(KeyTableBuilder::build),
        };
        IndicatorIndex {
            hasher: self.hasher,
            t,
            max_depth: self.max_depth,
            first_level: usize::from(!self.top_listed),
            v4_lens: lens_desc(&self.v4_lens),
            v6_lens: lens_desc(&self.v6_lens),
        }
    }
}

fn lens_desc(present: &[bool]) -> Vec<u8> {
    present.iter().enumerate().rev().filter(|(_, p)| **p).filter_map(|(len, _)| u8::try_from(len).ok()).collect()
}

/// The immutable index; see the module doc for the match rules.
#[derive(Debug)]
pub struct IndicatorIndex {
    hasher: Hasher,
    t: Tables<KeyTable>,
    /// The most labels a listed domain has.
    max_depth: usize,
    /// The first suffix a walk probes: 1 (the name below the top-level
    /// domain) unless a top-level domain is listed. Below it the table
    /// holds only phantoms, and an absent suffix means absent longer ones,
    /// so probing the top-level domain would find nothing the next probe
    /// does not: skipping it saves a probe per name.
    first_level: usize,
    /// Prefix lengths with entries, longest first.
    v4_lens: Vec<u8>,
    v6_lens: Vec<u8>,
}

/// Listed ancestors of one name kept on the stack during a domain lookup.
const MAX_KEPT: usize = 8;

/// Names per group in [`IndicatorIndex::visit_domains`].
pub const BATCH: usize = 32;

/// Suffixes of a name whose hashes a batched lookup keeps (names with more
/// labels, when the index has domains that deep, are looked up on their
/// own).
const LEVELS: usize = 8;

/// One name's walk in [`IndicatorIndex::visit_domains`].
#[derive(Clone, Copy, Debug, Default)]
struct Walk {
    /// The hash of the suffix of `i + 1` labels, and where it starts.
    hashes: [u64; LEVELS],
    starts: [usize; LEVELS],
    /// Suffixes to probe (0: none), the next one to probe.
    depth: u8,
    level: u8,
    /// The name came from `normalize`: no [`fast::check_before`] needed.
    checked: bool,
    /// Too deep for `hashes`, or more listed suffixes than `kept`: looked
    /// up on its own when reporting.
    alone: bool,
    /// Records whose slot had a probed suffix's fingerprint: (suffix
    /// start, offset), shortest suffix first.
    kept: [(usize, usize); MAX_KEPT],
    found: u8,
    /// `kept[..touched]` are noted for reading already.
    touched: u8,
}

/// One group of [`IndicatorIndex::visit_domains`]: its names and walks.
struct Group {
    names: [fast::Name; BATCH],
    walks: [Walk; BATCH],
    len: usize,
}

impl Default for Group {
    fn default() -> Self {
        Group { names: Default::default(), walks: [Walk::default(); BATCH], len: 0 }
    }
}

/// Slots and arena bytes a batched lookup is about to need, read together
/// in one burst ([`Touches::flush`]). Reading them is how their cache lines
/// get fetched (prefetch instructions need `unsafe`, which the workspace
/// forbids), and a read that misses holds up the processor once a few
/// hundred instructions have queued behind it: reads issued far apart
/// each cost a memory latency; issued back to back in a tight loop, they
/// overlap and cost about one. So the reads are collected first, then
/// issued all at once, and each burst carries the reads of two groups (the
/// records of one, the first slots of the next).
struct Touches {
    slots: [usize; TOUCHES],
    slot_count: usize,
    bytes: [usize; TOUCHES],
    byte_count: usize,
}

/// Reads one burst holds (a name usually needs one or two of each kind).
const TOUCHES: usize = 4 * BATCH;

impl Default for Touches {
    fn default() -> Self {
        Touches { slots: [0; TOUCHES], slot_count: 0, bytes: [0; TOUCHES], byte_count: 0 }
    }
}

impl Touches {
    #[inline]
    fn slot(&mut self, i: usize) {
        if let Some(s) = self.slots.get_mut(self.slot_count) {
            *s = i;
            self.slot_count += 1;
        }
        // Full (never with the usual names): the slot is read when probed.
    }

    #[inline]
    fn byte(&mut self, t: &KeyTable, i: usize, sink: &mut u64) {
        if self.byte_count == TOUCHES {
            // Many records for one group (deep names): read these now.
            *sink ^= t.touch_bytes(&self.bytes);
            self.byte_count = 0;
        }
        if let Some(b) = self.bytes.get_mut(self.byte_count) {
            *b = i;
            self.byte_count += 1;
        }
    }

    /// Reads everything noted, in two tight loops.
    #[inline]
    fn flush(&mut self, t: &KeyTable, sink: &mut u64) {
        *sink ^= t.touch_bytes(self.bytes.get(..self.byte_count).unwrap_or_default());
        *sink ^= t.touch_slots(self.slots.get(..self.slot_count).unwrap_or_default());
        self.slot_count = 0;
        self.byte_count = 0;
    }
}

/// `a == b`, inline (a call to `memcmp` costs more than comparing a
/// name): word by word.
#[inline(always)]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let word =
        |s: &[u8], at: usize| s.get(at..at + 8).and_then(|w| <[u8; 8]>::try_from(w).ok()).map(u64::from_le_bytes);
    let half =
        |s: &[u8], at: usize| s.get(at..at + 4).and_then(|w| <[u8; 4]>::try_from(w).ok()).map(u32::from_le_bytes);
    match n {
        8.. => {
            // Word by word, the last one overlapping the one before.
            let mut at = 0;
            while at + 8 < n {
                if word(a, at) != word(b, at) {
                    return false;
                }
                at += 8;
            }
            word(a, n - 8) == word(b, n - 8)
        }
        4..=7 => half(a, 0) == half(b, 0) && half(a, n - 4) == half(b, n - 4),
        _ => a == b,
    }
}

/// Reads the first and last byte of each name (their text is usually in
/// memory, not in the cache, by the time the batch gets to them).
#[inline]
fn read_ahead<S: AsRef<str>>(group: &[S], sink: &mut u64) {
    for q in group {
        let q = q.as_ref().as_bytes();
        *sink ^= u64::from(q.first().copied().unwrap_or(0) ^ q.last().copied().unwrap_or(0));
    }
}

#[inline]
fn hit_of<'a>(kind: IndicatorKind, matched: MatchRef<'a>, ids: IdCursor<'a>, now: Option<i64>) -> Option<HitRef<'a>> {
    let ids = ids.with_now(now);
    ids.any_active().then_some(HitRef { kind, matched, ids })
}

impl IndicatorIndex {
    pub fn builder() -> IndicatorIndexBuilder {
        IndicatorIndexBuilder::new()
    }

    /// Distinct listed values (a value added with several ids counts once;
    /// the same text under two kinds counts twice).
    pub fn len(&self) -> usize {
        self.tables().map(KeyTable::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether any IP address or CIDR is listed: when none is, matching a
    /// packet's endpoints cannot hit and callers can skip it.
    pub fn has_addresses(&self) -> bool {
        self.t.v4.len() + self.t.v6.len() > 0
    }

    /// Bytes of heap memory the index owns (tables and arenas; allocator
    /// overhead not counted).
    pub fn heap_bytes(&self) -> usize {
        self.tables().map(KeyTable::heap_bytes).sum::<usize>() + self.v4_lens.len() + self.v6_lens.len()
    }

    fn tables(&self) -> impl Iterator<Item = &KeyTable> {
        [&self.t.domains, &self.t.urls, &self.t.v4, &self.t.v6].into_iter().chain(self.t.exact.iter())
    }

    // ---- domains ----

    /// Listed domains equal to `qname` (first) or parents of it, nearest
    /// first.
    pub fn lookup_domain(&self, qname: &str) -> Vec<Hit> {
        self.lookup_domain_inner(qname, None)
    }

    /// [`lookup_domain`](Self::lookup_domain) at `now_unix`: expired ids
    /// left out, hits without active ids dropped.
    pub fn lookup_domain_at(&self, qname: &str, now_unix: i64) -> Vec<Hit> {
        self.lookup_domain_inner(qname, Some(now_unix))
    }

    fn lookup_domain_inner(&self, qname: &str, now: Option<i64>) -> Vec<Hit> {
        let mut hits = Vec::new();
        self.visit_domain(qname, now, |h| hits.push(h.to_hit()));
        hits
    }

    /// Calls `f` for each hit of [`lookup_domain`](Self::lookup_domain) (at
    /// `now`, when given), in the same order; returns the number of hits.
    /// Allocates nothing for ASCII names.
    pub fn visit_domain<'a>(&'a self, qname: &str, now: Option<i64>, mut f: impl FnMut(HitRef<'a>)) -> usize {
        if self.t.domains.is_empty() {
            return 0;
        }
        let mut name = fast::Name::default();
        match self.domain_name_unchecked(qname, &mut name) {
            Some(checked) => self.visit_domain_name(qname, &name, checked, now, &mut f),
            None => 0,
        }
    }

    /// [`visit_domain`](Self::visit_domain) for many names: calls
    /// `f(i, hit)` for each hit of `qnames[i]`, names in order, each name's
    /// hits in `lookup_domain` order; returns the number of hits.
    ///
    /// Faster per name than one call each when the index is larger than
    /// the CPU cache: the names go in groups of [`BATCH`], in passes over
    /// the group, each pass noting the memory reads the next one needs (the
    /// slots of every name's second suffix; the records found and the next
    /// slots; …), then issuing them in one burst, where they overlap
    /// instead of waiting one after the other. A group is walked while the
    /// next one is prepared, so that one burst serves both.
    pub fn visit_domains<'a, S: AsRef<str>>(
        &'a self,
        qnames: &[S],
        now: Option<i64>,
        mut f: impl FnMut(usize, HitRef<'a>),
    ) -> usize {
        if self.t.domains.is_empty() {
            return 0;
        }
        let group_at = |g: usize| qnames.get(g * BATCH..qnames.len().min(g * BATCH + BATCH)).unwrap_or_default();
        let groups = qnames.len().div_ceil(BATCH);
        let mut state: [Group; 2] = Default::default();
        let mut touches = Touches::default();
        let mut sink = 0u64;
        let mut hits = 0;
        // Group g is walked while group g + 1 is prepared: the reads both
        // need go out in one burst (see `Touches`).
        read_ahead(group_at(0), &mut sink);
        if let Some(first) = state.first_mut() {
            self.prepare_group(group_at(0), first, &mut touches);
        }
        read_ahead(group_at(1), &mut sink);
        touches.flush(&self.t.domains, &mut sink);
        for g in 0..groups {
            let [even, odd] = &mut state;
            let (cur, next) = if g % 2 == 0 { (even, odd) } else { (odd, even) };
            let group = group_at(g);
            self.walk_group(cur, &mut touches, &mut sink);
            if g + 1 < groups {
                self.prepare_group(group_at(g + 1), next, &mut touches);
            }
            read_ahead(group_at(g + 2), &mut sink);
            touches.flush(&self.t.domains, &mut sink);
            hits += self.finish_group(g * BATCH, group, cur, now, &mut touches, &mut sink, &mut f);
        }
        std::hint::black_box(sink);
        hits
    }

    /// The first pass over a group of [`visit_domains`](Self::visit_domains):
    /// lower-cases the names, hashes their suffixes, and notes the slots of
    /// each name's second suffix (the first below the top-level domain,
    /// whose slots are few and cached) for the next burst.
    fn prepare_group<S: AsRef<str>>(&self, group: &[S], state: &mut Group, touches: &mut Touches) {
        let t = &self.t.domains;
        let Group { names, walks, len } = state;
        *len = group.len();
        for ((q, name), w) in group.iter().zip(names.iter_mut()).zip(walks.iter_mut()) {
            let parsed = self.domain_name_unchecked(q.as_ref(), name);
            w.checked = parsed == Some(true);
            w.depth = u8::from(parsed.is_some());
            w.alone = false;
            w.level = 0;
            w.found = 0;
            w.touched = 0;
        }
        let walks = walks.get_mut(..group.len()).unwrap_or_default();
        // A pass of its own: the lower-cased names were just stored, and
        // reading their labels at once would wait for the stores.
        for (w, name) in walks.iter_mut().zip(names.iter()) {
            if w.depth > 0 {
                let depth = self.suffix_hashes(name, &mut w.hashes, &mut w.starts);
                w.alone = depth > LEVELS;
                w.depth = if w.alone || depth <= self.first_level { 0 } else { depth as u8 };
                w.level = self.first_level as u8;
            }
        }
        for w in walks.iter().filter(|w| w.depth > 1) {
            t.slot_lines(t.home_of(w.hashes.get(1).copied().unwrap_or(0)), |i| touches.slot(i));
        }
    }

    /// The second pass: probes the suffixes of every name up to the second
    /// (the top-level domain's slots are few and cached; the second's were
    /// read in the last burst) and notes the records found and the next
    /// slots of the walks going on.
    fn walk_group(&self, state: &mut Group, touches: &mut Touches, sink: &mut u64) {
        let Group { names, walks, len } = state;
        let walks = walks.get_mut(..*len).unwrap_or_default();
        for w in walks.iter_mut() {
            while w.level <= 1 && self.step(w) {}
        }
        self.note_touches(walks, names, touches, sink);
    }

    /// Notes the reads the walks need next: the records found since the
    /// last call, and the slots of the suffix each walk going on probes next.
    fn note_touches(&self, walks: &mut [Walk], names: &[fast::Name; BATCH], touches: &mut Touches, sink: &mut u64) {
        let t = &self.t.domains;
        for (w, name) in walks.iter_mut().zip(names.iter()) {
            let new = w.kept.get(usize::from(w.touched)..usize::from(w.found)).unwrap_or_default();
            for &(start, off) in new {
                t.record_lines(off, name.len().saturating_sub(start), |i| touches.byte(t, i, sink));
            }
            w.touched = w.found;
            if w.level < w.depth {
                let home = t.home_of(w.hashes.get(usize::from(w.level)).copied().unwrap_or(0));
                t.slot_lines(home, |i| touches.slot(i));
            }
        }
    }

    /// The last passes: the walks still going, a suffix a round (a burst
    /// each), then each name's report.
    #[allow(clippy::too_many_arguments)]
    fn finish_group<'a, S: AsRef<str>>(
        &'a self,
        first: usize,
        group: &[S],
        state: &mut Group,
        now: Option<i64>,
        touches: &mut Touches,
        sink: &mut u64,
        f: &mut impl FnMut(usize, HitRef<'a>),
    ) -> usize {
        let Group { names, walks, len } = state;
        let walks = walks.get_mut(..(*len).min(group.len())).unwrap_or_default();
        let mut walking = walks.iter().any(|w| w.level < w.depth);
        while walking {
            walking = false;
            for w in walks.iter_mut().filter(|w| w.level < w.depth) {
                walking |= self.step(w);
            }
            self.note_touches(walks, names, touches, sink);
            touches.flush(&self.t.domains, sink);
        }
        let mut hits = 0;
        for (i, ((w, name), q)) in walks.iter().zip(names.iter()).zip(group).enumerate() {
            let mut each = |h| f(first + i, h);
            if w.alone {
                hits += self.visit_domain_checked(q.as_ref(), now, &mut each);
            } else if w.found > 0 {
                let kept = w.kept.get(..usize::from(w.found)).unwrap_or_default();
                hits += self.report(q.as_ref(), name, w.checked, kept, now, &mut each);
            }
        }
        hits
    }

    /// Probes a walk's next suffix: keeps the records with its fingerprint;
    /// returns whether the walk goes on.
    #[inline(always)]
    fn step(&self, w: &mut Walk) -> bool {
        if w.level >= w.depth {
            return false;
        }
        let t = &self.t.domains;
        let level = usize::from(w.level);
        let h = w.hashes.get(level).copied().unwrap_or(0);
        let start = w.starts.get(level).copied().unwrap_or(0);
        let (kept, mut n) = (&mut w.kept, usize::from(w.found));
        let deeper = t.scan(h, t.home_of(h), |off| {
            if let Some(k) = kept.get_mut(n) {
                *k = (start, off);
            }
            n += 1;
        });
        w.level += 1;
        if n > MAX_KEPT {
            w.alone = true;
            w.depth = 0;
            return false;
        }
        w.found = n as u8;
        if !deeper {
            w.depth = 0;
        }
        w.level < w.depth
    }

    /// The hashes of the suffixes of `name` to probe (the top-level domain
    /// first, at most the index's depth) and where they start; returns how
    /// many, more than [`LEVELS`] when they do not fit.
    #[inline]
    fn suffix_hashes(&self, name: &fast::Name, hashes: &mut [u64; LEVELS], starts: &mut [usize; LEVELS]) -> usize {
        let buf = name.padded();
        let mut h = self.hasher.domain_start();
        let mut depth = 0;
        let mut out = hashes.iter_mut().zip(starts.iter_mut());
        let Some(mut dots) = name.short_dots() else {
            for (start, len) in name.labels_rev().take(self.max_depth) {
                h = self.hasher.label_at(h, buf, start, len);
                depth += 1;
                if let Some((hash, at)) = out.next() {
                    *hash = h;
                    *at = start;
                }
            }
            return depth;
        };
        // The labels from the right: each starts after the highest dot left.
        let mut end = name.len();
        while depth < self.max_depth {
            let start = dots.checked_ilog2().map_or(0, |d| d as usize + 1);
            h = self.hasher.label_at(h, buf, start, end - start);
            depth += 1;
            match out.next() {
                Some((hash, at)) => {
                    *hash = h;
                    *at = start;
                }
                None => return LEVELS + 1,
            }
            if start == 0 {
                break;
            }
            end = start - 1;
            dots &= !(1 << end);
        }
        depth
    }

    /// `qname` lower-cased into `name` ([`fast::domain_unchecked`]):
    /// `Some(false)` when the name is still to be checked if a suffix is
    /// listed ([`fast::check_before`]), `Some(true)` when `normalize` gave
    /// it, `None` when it is not a name.
    #[inline]
    fn domain_name_unchecked(&self, qname: &str, name: &mut fast::Name) -> Option<bool> {
        match fast::domain_unchecked(qname, name) {
            Fast::Normal(_) => Some(false),
            Fast::Invalid => None,
            Fast::Slow => normalize(IndicatorKind::Domain, qname).ok().filter(|n| name.set(n.as_bytes())).map(|_| true),
        }
    }

    /// `qname`'s normal form into `name`; false when it is not a valid name.
    #[inline]
    fn domain_name(&self, qname: &str, name: &mut fast::Name) -> bool {
        match fast::domain(qname, name) {
            Fast::Normal(_) => true,
            Fast::Invalid => false,
            Fast::Slow => normalize(IndicatorKind::Domain, qname).is_ok_and(|n| name.set(n.as_bytes())),
        }
    }

    /// [`walk`](Self::walk)s the name and [`report`](Self::report)s.
    #[inline]
    fn visit_domain_name<'a>(
        &'a self,
        qname: &str,
        name: &fast::Name,
        checked: bool,
        now: Option<i64>,
        f: &mut impl FnMut(HitRef<'a>),
    ) -> usize {
        let mut kept = [(0usize, 0usize); MAX_KEPT];
        match self.walk(name, &mut kept) {
            0 => 0,
            found @ 1..=MAX_KEPT => {
                let kept = kept.get(..found).unwrap_or_default();
                self.read_records(name, kept);
                self.report(qname, name, checked, kept, now, f)
            }
            _ => self.visit_domain_checked(qname, now, f),
        }
    }

    /// Walks the name from the right, one probe per suffix from the first
    /// level with records (the top-level domain when one is listed, else
    /// the name below it), then the next label, … Thanks to the phantom slots and the
    /// descendants bit (see `index/table.rs`) the walk ends at a suffix that
    /// is not there or has nothing listed below it. Keeps the records with
    /// a probed suffix's fingerprint (`(suffix start, record)`, shortest
    /// suffix first); returns how many, more than [`MAX_KEPT`] when they
    /// do not fit.
    #[inline]
    fn walk(&self, name: &fast::Name, kept: &mut [(usize, usize); MAX_KEPT]) -> usize {
        let t = &self.t.domains;
        let mut found = 0usize;
        let mut h = self.hasher.domain_start();
        for (level, (start, len)) in name.labels_rev().take(self.max_depth).enumerate() {
            h = self.hasher.label_at(h, name.padded(), start, len);
            if level < self.first_level {
                continue;
            }
            let deeper = t.scan(h, t.home_of(h), |off| {
                if let Some(k) = kept.get_mut(found) {
                    *k = (start, off);
                }
                found += 1;
            });
            if !deeper || found > MAX_KEPT {
                break;
            }
        }
        found
    }

    /// Reads the records a walk found whole, all at once, before
    /// [`report`](Self::report) looks at them (a record may cross into the
    /// next cache line: reading it key first, ids later, would wait twice).
    /// A batched walk read them in its last burst already.
    #[inline]
    fn read_records(&self, name: &fast::Name, kept: &[(usize, usize)]) {
        let t = &self.t.domains;
        let mut sink = 0u64;
        for &(start, off) in kept {
            t.record_lines(off, name.len().saturating_sub(start), |i| sink ^= t.touch_bytes(&[i]));
        }
        std::hint::black_box(sink);
    }

    /// The hits among a walk's candidates (`(suffix start, record)`,
    /// shortest suffix first), nearest first: the records whose key is the
    /// suffix. With one, an unchecked name is checked
    /// ([`fast::check_before`], the nearest listed suffix being valid):
    /// not normal, it matches nothing; one `normalize` must decide goes
    /// through [`visit_domain_checked`](Self::visit_domain_checked).
    fn report<'a>(
        &'a self,
        qname: &str,
        name: &fast::Name,
        checked: bool,
        kept: &[(usize, usize)],
        now: Option<i64>,
        f: &mut impl FnMut(HitRef<'a>),
    ) -> usize {
        let t = &self.t.domains;
        let full = name.as_bytes();
        let is_key = |&(start, off): &(usize, usize)| {
            t.key_at(off).is_some_and(|key| full.get(start..).is_some_and(|suffix| same_bytes(suffix, key)))
        };
        let Some(nearest) = kept.iter().rposition(is_key) else {
            return 0;
        };
        if !checked {
            let start = kept.get(nearest).map_or(0, |k| k.0);
            match fast::check_before(name, start) {
                Fast::Normal(_) => {}
                Fast::Invalid => return 0,
                Fast::Slow => return self.visit_domain_checked(qname, now, f),
            }
        }
        let mut hits = 0;
        for (i, &(start, off)) in kept.get(..=nearest).unwrap_or_default().iter().enumerate().rev() {
            let Some((key, ids)) = t.record_at(off) else { continue };
            if i != nearest && !full.get(start..).is_some_and(|suffix| same_bytes(suffix, key)) {
                continue; // a fingerprint collision
            }
            let matched = if start == 0 { MatchRef::Exact } else { MatchRef::Parent(Listed(key)) };
            if let Some(hit) = hit_of(IndicatorKind::Domain, matched, ids, now) {
                f(hit);
                hits += 1;
            }
        }
        hits
    }

    /// [`visit_domain`](Self::visit_domain) with the name checked first
    /// (for names only `normalize` can decide, and names too deep for a
    /// batched walk), and with every listed suffix found on its own if the
    /// walk finds too many.
    #[cold]
    fn visit_domain_checked<'a>(&'a self, qname: &str, now: Option<i64>, f: &mut impl FnMut(HitRef<'a>)) -> usize {
        let mut name = fast::Name::default();
        if !self.domain_name(qname, &mut name) {
            return 0;
        }
        let mut kept = [(0usize, 0usize); MAX_KEPT];
        match self.walk(&name, &mut kept) {
            found @ 0..=MAX_KEPT => {
                let kept = kept.get(..found).unwrap_or_default();
                self.read_records(&name, kept);
                self.report(qname, &name, true, kept, now, f)
            }
            _ => self.visit_domain_all(name.as_bytes(), now, f),
        }
    }

    /// Every listed suffix of the normal name `name`, nearest first, each
    /// found on its own.
    #[cold]
    fn visit_domain_all<'a>(&'a self, name: &[u8], now: Option<i64>, f: &mut impl FnMut(HitRef<'a>)) -> usize {
        let mut hits = 0;
        let mut start = 0usize;
        loop {
            let suffix = name.get(start..).unwrap_or_default();
            if let Some((key, ids)) = self.t.domains.find(self.hasher.domain(suffix), suffix) {
                let matched = if start == 0 { Some(MatchRef::Exact) } else { Some(MatchRef::Parent(Listed(key))) };
                if let Some(hit) = matched.and_then(|m| hit_of(IndicatorKind::Domain, m, ids, now)) {
                    f(hit);
                    hits += 1;
                }
            }
            match suffix.iter().position(|&b| b == b'.') {
                Some(i) => start += i + 1,
                None => break,
            }
        }
        hits
    }

    // ---- IP addresses ----

    /// The listed address (first) and every listed network covering it,
    /// longest prefix first.
    pub fn lookup_ip(&self, addr: IpAddr) -> Vec<Hit> {
        self.collect(|f| self.visit_ip(addr, None, f))
    }

    /// [`lookup_ip`](Self::lookup_ip) at `now_unix`.
    pub fn lookup_ip_at(&self, addr: IpAddr, now_unix: i64) -> Vec<Hit> {
        self.collect(|f| self.visit_ip(addr, Some(now_unix), f))
    }

    /// Calls `f` for each hit of [`lookup_ip`](Self::lookup_ip), in order;
    /// returns the number of hits. Allocates nothing.
    pub fn visit_ip<'a>(&'a self, addr: IpAddr, now: Option<i64>, mut f: impl FnMut(HitRef<'a>)) -> usize {
        let addr = match addr {
            IpAddr::V6(a) => a.to_ipv4_mapped().map_or(addr, IpAddr::V4),
            IpAddr::V4(_) => addr,
        };
        let mut hits = 0;
        let mut emit = |kind, matched, found: Option<(&'a [u8], IdCursor<'a>)>| {
            if let Some(hit) = found.and_then(|(_, ids)| hit_of(kind, matched, ids, now)) {
                f(hit);
                hits += 1;
            }
        };
        match addr {
            IpAddr::V4(a) => {
                let t = &self.t.v4;
                if t.is_empty() {
                    return 0;
                }
                let bits = u32::from(a);
                let k = v4_key(ADDRESS, bits);
                emit(IndicatorKind::Ipv4, MatchRef::Exact, t.find(self.hasher.bytes(&k), &k));
                for &len in &self.v4_lens {
                    let net = bits & mask_v4(len);
                    let k = v4_key(len, net);
                    let m = MatchRef::Network(IpAddr::V4(Ipv4Addr::from(net)), len);
                    emit(IndicatorKind::Cidr, m, t.find(self.hasher.bytes(&k), &k));
                }
            }
            IpAddr::V6(a) => {
                let t = &self.t.v6;
                if t.is_empty() {
                    return 0;
                }
                let bits = u128::from(a);
                let k = v6_key(ADDRESS, bits);
                emit(IndicatorKind::Ipv6, MatchRef::Exact, t.find(self.hasher.bytes(&k), &k));
                for &len in &self.v6_lens {
                    let net = bits & mask_v6(len);
                    let k = v6_key(len, net);
                    let m = MatchRef::Network(IpAddr::V6(Ipv6Addr::from(net)), len);
                    emit(IndicatorKind::Cidr, m, t.find(self.hasher.bytes(&k), &k));
                }
            }
        }
        hits
    }

    // ---- URLs ----

    /// The listed URL equal to `url` (first), then listed URLs that are path
    /// prefixes of it, longest first.
    pub fn lookup_url(&self, url: &str) -> Vec<Hit> {
        self.collect(|f| self.visit_url(url, None, f))
    }

    /// [`lookup_url`](Self::lookup_url) at `now_unix`.
    pub fn lookup_url_at(&self, url: &str, now_unix: i64) -> Vec<Hit> {
        self.collect(|f| self.visit_url(url, Some(now_unix), f))
    }

    /// Calls `f` for each hit of [`lookup_url`](Self::lookup_url), in order;
    /// returns the number of hits. Normalising the URL allocates.
    pub fn visit_url<'a>(&'a self, url: &str, now: Option<i64>, mut f: impl FnMut(HitRef<'a>)) -> usize {
        let t = &self.t.urls;
        if t.is_empty() {
            return 0;
        }
        let Ok(u) = normalize(IndicatorKind::Url, url) else {
            return 0;
        };
        let mut hits = 0;
        let mut probe = |cand: &str, exact: bool| {
            let Some((key, ids)) = t.find(self.hasher.bytes(cand.as_bytes()), cand.as_bytes()) else {
                return;
            };
            let matched = if exact { MatchRef::Exact } else { MatchRef::UrlPrefix(Listed(key)) };
            if let Some(hit) = hit_of(IndicatorKind::Url, matched, ids, now) {
                f(hit);
                hits += 1;
            }
        };
        probe(&u, true);
        for_each_url_prefix(&u, |cand| probe(cand, false));
        hits
    }

    // ---- hashes and other exact kinds ----

    /// Listed hashes equal to `hex`: MD5 and JA3 for 32 hex digits, SHA-1
    /// for 40, SHA-256 and certificate SHA-256 for 64.
    pub fn lookup_hash(&self, hex: &str) -> Vec<Hit> {
        self.collect(|f| self.visit_hash(hex, None, f))
    }

    /// [`lookup_hash`](Self::lookup_hash) at `now_unix`.
    pub fn lookup_hash_at(&self, hex: &str, now_unix: i64) -> Vec<Hit> {
        self.collect(|f| self.visit_hash(hex, Some(now_unix), f))
    }

    /// Calls `f` for each hit of [`lookup_hash`](Self::lookup_hash), in
    /// order; returns the number of hits. Allocates nothing for plain hex.
    pub fn visit_hash<'a>(&'a self, hex: &str, now: Option<i64>, mut f: impl FnMut(HitRef<'a>)) -> usize {
        use IndicatorKind as K;
        let mut buf = [0u8; 64];
        let Some(digits) = fast::hex(hex, &mut buf) else {
            // Only the colon-separated certificate form is left.
            return if hex.contains(':') { self.visit_exact(K::CertSha256, hex, now, f) } else { 0 };
        };
        let kinds: &[K] = match digits.len() {
            32 => &[K::Md5, K::Ja3],
            40 => &[K::Sha1],
            64 => &[K::Sha256, K::CertSha256],
            _ => &[],
        };
        kinds.iter().map(|&kind| self.visit_exact_normal(kind, digits, now, &mut f)).sum()
    }

    /// The listed value of `kind` equal to `raw`, for any kind (for domains,
    /// IPs and URLs without the parent, network and prefix matches).
    pub fn lookup_exact(&self, kind: IndicatorKind, raw: &str) -> Vec<Hit> {
        self.collect(|f| self.visit_exact(kind, raw, None, f))
    }

    /// [`lookup_exact`](Self::lookup_exact) at `now_unix`.
    pub fn lookup_exact_at(&self, kind: IndicatorKind, raw: &str, now_unix: i64) -> Vec<Hit> {
        self.collect(|f| self.visit_exact(kind, raw, Some(now_unix), f))
    }

    /// Calls `f` with the hit of [`lookup_exact`](Self::lookup_exact), if
    /// any; returns the number of hits (0 or 1).
    pub fn visit_exact<'a>(
        &'a self,
        kind: IndicatorKind,
        raw: &str,
        now: Option<i64>,
        mut f: impl FnMut(HitRef<'a>),
    ) -> usize {
        use IndicatorKind as K;
        if kind == K::Domain {
            let mut name = fast::Name::default();
            return if self.domain_name(raw, &mut name) {
                self.visit_exact_normal(kind, name.as_bytes(), now, &mut f)
            } else {
                0
            };
        }
        let Ok(v) = normalize(kind, raw) else {
            return 0;
        };
        match kind {
            K::Ipv4 | K::Ipv6 => match v.parse::<IpAddr>() {
                Ok(IpAddr::V4(a)) => {
                    let k = v4_key(ADDRESS, u32::from(a));
                    self.emit(&self.t.v4, K::Ipv4, &k, now, &mut f)
                }
                Ok(IpAddr::V6(a)) => {
                    let k = v6_key(ADDRESS, u128::from(a));
                    self.emit(&self.t.v6, K::Ipv6, &k, now, &mut f)
                }
                Err(_) => 0,
            },
            K::Cidr => match parse_cidr(&v) {
                Ok((IpAddr::V4(a), len)) => self.emit(&self.t.v4, kind, &v4_key(len, u32::from(a)), now, &mut f),
                Ok((IpAddr::V6(a), len)) => self.emit(&self.t.v6, kind, &v6_key(len, u128::from(a)), now, &mut f),
                Err(_) => 0,
            },
            _ => self.visit_exact_normal(kind, v.as_bytes(), now, &mut f),
        }
    }

    /// An exact lookup of a normal value in the domain, URL or per-kind
    /// table.
    fn visit_exact_normal<'a>(
        &'a self,
        kind: IndicatorKind,
        v: &[u8],
        now: Option<i64>,
        f: &mut impl FnMut(HitRef<'a>),
    ) -> usize {
        let t = match kind {
            IndicatorKind::Domain => &self.t.domains,
            IndicatorKind::Url => &self.t.urls,
            _ => match self.t.exact.get(kind as usize) {
                Some(t) => t,
                None => return 0,
            },
        };
        if t.is_empty() {
            return 0;
        }
        let h = if kind == IndicatorKind::Domain { self.hasher.domain(v) } else { self.hasher.bytes(v) };
        match t.find(h, v).and_then(|(_, ids)| hit_of(kind, MatchRef::Exact, ids, now)) {
            Some(hit) => {
                f(hit);
                1
            }
            None => 0,
        }
    }

    fn emit<'a>(
        &'a self,
        t: &'a KeyTable,
        kind: IndicatorKind,
        key: &[u8],
        now: Option<i64>,
        f: &mut impl FnMut(HitRef<'a>),
    ) -> usize {
        match t.find(self.hasher.bytes(key), key).and_then(|(_, ids)| hit_of(kind, MatchRef::Exact, ids, now)) {
            Some(hit) => {
                f(hit);
                1
            }
            None => 0,
        }
    }

    fn collect<'a>(&'a self, visit: impl FnOnce(&mut dyn FnMut(HitRef<'a>)) -> usize) -> Vec<Hit> {
        let mut hits = Vec::new();
        visit(&mut |h: HitRef<'a>| hits.push(h.to_hit()));
        hits
    }

    // ---- any kind ----

    /// Looks `raw` up as the kind [`detect_kind`](crate::detect_kind) finds:
    /// domains, IPs, URLs and hashes with their `lookup_*` rules, other
    /// kinds exactly. Nothing when the kind is not recognised.
    pub fn lookup(&self, raw: &str) -> Vec<Hit> {
        self.lookup_inner(raw, None)
    }

    /// [`lookup`](Self::lookup) at `now_unix`.
    pub fn lookup_at(&self, raw: &str, now_unix: i64) -> Vec<Hit> {
        self.lookup_inner(raw, Some(now_unix))
    }

    fn lookup_inner(&self, raw: &str, now: Option<i64>) -> Vec<Hit> {
        use IndicatorKind as K;
        let Some(kind) = crate::detect_kind(raw) else {
            return Vec::new();
        };
        self.collect(|f| match kind {
            K::Domain => self.visit_domain(raw, now, f),
            K::Url => self.visit_url(raw, now, f),
            K::Ipv4 | K::Ipv6 => match normalize(kind, raw).ok().and_then(|v| v.parse::<IpAddr>().ok()) {
                Some(ip) => self.visit_ip(ip, now, f),
                None => 0,
            },
            K::Md5 | K::Sha1 | K::Sha256 => self.visit_hash(raw, now, f),
            _ => self.visit_exact(kind, raw, now, f),
        })
    }
}

/// Calls `f` with the proper `/`-boundary prefixes of a normalised URL,
/// longest first: the URL without its query (when it has one), then for
/// each `/` in the path, from the last, the text up to and including it and
/// the text before it.
fn for_each_url_prefix<'u>(u: &'u str, mut f: impl FnMut(&'u str)) {
    let base = u.split_once('?').map_or(u, |(b, _)| b);
    let Some(scheme_end) = base.find("://") else {
        return;
    };
    let Some(path_start) = base.get(scheme_end + 3..).and_then(|rest| rest.find('/')).map(|j| scheme_end + 3 + j)
    else {
        return;
    };
    let mut last: Option<&str> = None;
    let mut emit = |cand: &'u str| {
        if cand.len() != u.len() && last != Some(cand) {
            f(cand);
            last = Some(cand);
        }
    };
    if base.len() != u.len() {
        emit(base);
    }
    for (i, _) in base.rmatch_indices('/').take_while(|&(i, _)| i >= path_start) {
        for cand in [base.get(..=i), base.get(..i)].into_iter().flatten() {
            emit(cand);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url_prefixes(u: &str) -> Vec<&str> {
        let mut v = Vec::new();
        for_each_url_prefix(u, |c| v.push(c));
        v
    }

    #[test]
    fn same_bytes_is_equality() {
        let text: Vec<u8> = (0..40u8).map(|i| b'a' + i % 26).collect();
        for n in 0..=text.len() {
            let a = &text[..n];
            assert!(same_bytes(a, &text[..n]));
            for i in 0..n {
                let mut b = a.to_vec();
                b[i] ^= 1;
                assert!(!same_bytes(a, &b), "{n} {i}");
            }
            if n > 0 {
                assert!(!same_bytes(a, &text[..n - 1]));
            }
        }
    }

    #[test]
    fn prefixes() {
        assert_eq!(
            url_prefixes("http://x.com/a/b?q"),
            ["http://x.com/a/b", "http://x.com/a/", "http://x.com/a", "http://x.com/", "http://x.com"]
        );
        assert_eq!(url_prefixes("http://x.com/a/"), ["http://x.com/a", "http://x.com/", "http://x.com"]);
        assert_eq!(
            url_prefixes("http://x.com/a//b"),
            ["http://x.com/a//", "http://x.com/a/", "http://x.com/a", "http://x.com/", "http://x.com"]
        );
    }
}
