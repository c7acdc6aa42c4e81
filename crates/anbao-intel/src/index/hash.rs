//! The index's hash function: a seeded, wyhash-style multiply-fold hash.
//!
//! Why not std's `RandomState` (SipHash-1-3)? It is DoS-resistant but costs
//! several times more per short key, and a domain lookup hashes every label
//! suffix of the name. Why not a fixed-seed fast hash (FxHash)? Whoever
//! chooses the indicators (a public feed) or the looked-up names (anyone
//! making DNS queries) could then precompute colliding values and make the
//! table's probe sequences long. So: a fast 64×64→128-bit multiply-fold
//! hash in the wyhash family, keyed with three 64-bit secrets drawn once per
//! index from std's `RandomState` (which seeds itself from the operating
//! system). Without the secrets an attacker cannot aim values at one slot
//! or one fingerprint. It is not a cryptographic MAC; it is the same
//! compromise `foldhash` and `ahash` make for hash maps. The seed also
//! decides the table layout, so two indexes of the same indicators differ.
//!
//! Domains are hashed label by label from the right: the hash of `a.b.c` is
//! `label(label(label(start, "c"), "b"), "a")`, so one right-to-left pass
//! over a looked-up name yields the hash of every parent suffix. A label
//! step is one folded multiply (foldhash's construction) of the running
//! state and the label's first 16 bytes with the secrets, plus one per
//! further 16 bytes.

const P0: u64 = 0xa076_1d64_78bd_642f;
const P1: u64 = 0xe703_7ed1_a0b4_28db;
const P2: u64 = 0x8ebc_6af0_9c88_c6e3;

/// The low `n` bytes of a word.
const KEEP: [u64; 9] =
    [0, 0xff, 0xffff, 0xff_ffff, 0xffff_ffff, 0xff_ffff_ffff, 0xffff_ffff_ffff, 0xff_ffff_ffff_ffff, u64::MAX];

#[derive(Clone, Copy, Debug)]
pub(crate) struct Hasher {
    s0: u64,
    s1: u64,
    /// Start state for byte strings and for the domain label chain.
    start: u64,
    /// All ones, except in tests that want collisions (see
    /// [`Hasher::weaken`]).
    mask: u64,
}

#[inline]
fn mum(a: u64, b: u64) -> (u64, u64) {
    let r = u128::from(a) * u128::from(b);
    (r as u64, (r >> 64) as u64)
}

#[inline]
fn mix(a: u64, b: u64) -> u64 {
    let (lo, hi) = mum(a, b);
    lo ^ hi
}

#[inline]
fn r8(b: &[u8]) -> u64 {
    b.get(..8).and_then(|s| <[u8; 8]>::try_from(s).ok()).map_or(0, u64::from_le_bytes)
}

#[inline]
fn r4(b: &[u8]) -> u64 {
    b.get(..4).and_then(|s| <[u8; 4]>::try_from(s).ok()).map_or(0, |a| u64::from(u32::from_le_bytes(a)))
}

#[inline]
fn byte(b: &[u8], i: usize) -> u64 {
    b.get(i).copied().map_or(0, u64::from)
}

impl Hasher {
    /// Secrets from std's `RandomState` (per-process random keys from the
    /// OS, varied per call).
    pub(crate) fn random() -> Self {
        use std::hash::{BuildHasher, Hasher as _};
        let rs = std::collections::hash_map::RandomState::new();
        let draw = |i: u64| {
            let mut h = rs.build_hasher();
            h.write_u64(i);
            h.finish()
        };
        Self::from_secrets(draw(1), draw(2), draw(3))
    }

    /// A fixed layout, for reproducible tests and benchmarks. Not for
    /// indexes that answer untrusted queries.
    pub(crate) fn with_seed(seed: u64) -> Self {
        let mut s = seed;
        let mut next = || {
            // SplitMix64.
            s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = s;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        Self::from_secrets(next(), next(), next())
    }

    fn from_secrets(a: u64, b: u64, c: u64) -> Self {
        // Odd multipliers with both halves populated, as wyhash wants.
        let s0 = (a ^ P0) | 1 | (1 << 63);
        let s1 = (b ^ P1) | 1 | (1 << 63);
        let start = c ^ mix(c ^ s0, s1 ^ P2);
        Hasher { s0, s1, start, mask: u64::MAX }
    }

    /// Keeps only the top `bits` bits of every hash (all hashes equal for
    /// 0), so that tests can force collisions.
    pub(crate) fn weaken(&mut self, bits: u32) {
        self.mask = if bits >= 64 { u64::MAX } else { !(u64::MAX >> bits) };
    }

    /// The hash of a byte string (URLs, hashes, address keys).
    #[inline]
    pub(crate) fn bytes(&self, p: &[u8]) -> u64 {
        self.step(self.start, p) & self.mask
    }

    /// The start of the domain label chain (the hash of no labels).
    #[inline]
    pub(crate) fn domain_start(&self) -> u64 {
        self.start
    }

    /// The hash of `label` followed by the labels `h` hashed.
    #[inline]
    pub(crate) fn label(&self, h: u64, label: &[u8]) -> u64 {
        let mut rest = label;
        let mut h = h;
        while rest.len() > 16 {
            h = mix(r8(rest) ^ self.s0 ^ h, r8(rest.get(8..).unwrap_or_default()) ^ self.s1);
            rest = rest.get(16..).unwrap_or_default();
        }
        let mut pad = [0u8; 16];
        for (d, s) in pad.iter_mut().zip(rest) {
            *d = *s;
        }
        self.label_end(h, r8(&pad), r8(pad.get(8..).unwrap_or_default()), label.len())
    }

    /// [`label`](Self::label) of `buf[start..start + len]`, reading whole
    /// words: `buf` must have 16 bytes after the label (else the slow way).
    #[inline]
    pub(crate) fn label_at(&self, h: u64, buf: &[u8], start: usize, len: usize) -> u64 {
        match buf.get(start..start + 16) {
            Some(words) if len <= 16 => {
                let keep = |n: usize| KEEP.get(n.min(8)).copied().unwrap_or(0);
                let a = r8(words) & keep(len);
                let b = r8(words.get(8..).unwrap_or_default()) & keep(len.saturating_sub(8));
                self.label_end(h, a, b, len)
            }
            _ => self.label(h, buf.get(start..start + len).unwrap_or_default()),
        }
    }

    #[inline]
    fn label_end(&self, h: u64, a: u64, b: u64, len: usize) -> u64 {
        mix(a ^ self.s0 ^ h, b ^ self.s1 ^ (len as u64).wrapping_mul(P2)) & self.mask
    }

    /// The hash of a whole domain name, as the label chain gives it.
    pub(crate) fn domain(&self, name: &[u8]) -> u64 {
        name.rsplit(|&b| b == b'.').fold(self.domain_start(), |h, l| self.label(h, l))
    }

    /// wyhash's body and finish with `seed` as the running state.
    #[inline]
    fn step(&self, mut seed: u64, p: &[u8]) -> u64 {
        let len = p.len();
        let (a, b);
        if len <= 16 {
            if len >= 4 {
                let q = (len >> 3) << 2;
                a = (r4(p) << 32) | r4(p.get(q..).unwrap_or_default());
                let tail = p.get(len - 4..).unwrap_or_default();
                let tail_q = p.get(len - 4 - q..).unwrap_or_default();
                b = (r4(tail) << 32) | r4(tail_q);
            } else if len > 0 {
                a = (byte(p, 0) << 16) | (byte(p, len >> 1) << 8) | byte(p, len - 1);
                b = 0;
            } else {
                a = 0;
                b = 0;
            }
        } else {
            let mut rest = p;
            while rest.len() > 16 {
                seed = mix(r8(rest) ^ self.s1, r8(rest.get(8..).unwrap_or_default()) ^ seed);
                rest = rest.get(16..).unwrap_or_default();
            }
            a = r8(p.get(len - 16..).unwrap_or_default());
            b = r8(p.get(len - 8..).unwrap_or_default());
        }
        let (lo, hi) = mum(a ^ self.s1, b ^ seed);
        mix(lo ^ self.s0 ^ len as u64, hi ^ self.s1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_and_seeded() {
        let h = Hasher::with_seed(1);
        let words: std::collections::BTreeSet<Vec<u8>> = (0..2000u32)
            .map(|i| format!("{i:x}").into_bytes())
            .chain((0..40).map(|n| vec![b'a'; n]))
            .chain((0..40).map(|n| vec![0u8; n]))
            .collect();
        let mut seen = std::collections::HashSet::new();
        for w in &words {
            assert!(seen.insert(h.bytes(w)), "collision on {w:?}");
        }
        assert_ne!(h.bytes(b"evil.com"), Hasher::with_seed(2).bytes(b"evil.com"));
        assert_ne!(Hasher::random().bytes(b"x"), Hasher::random().bytes(b"x"));
        // Label chain: separators count.
        assert_ne!(h.domain(b"a.bc"), h.domain(b"ab.c"));
        assert_ne!(h.domain(b"abc"), h.domain(b"a.bc"));
        assert_eq!(h.domain(b"b.c"), h.label(h.label(h.domain_start(), b"c"), b"b"));
        // Whole-word reads agree with the slice version, every length.
        let text: Vec<u8> = (0..120u8).map(|i| b'a' + i % 26).collect();
        let mut buf = text.clone();
        buf.extend_from_slice(&[b'x'; 16]);
        for start in 0..40 {
            for len in 0..=63 {
                let want = h.label(7, &text[start..start + len]);
                assert_eq!(h.label_at(7, &buf, start, len), want, "{start} {len}");
            }
        }
        assert_ne!(h.label(7, b"ab"), h.label(7, b"ab\0"));
        assert_ne!(h.label(7, b""), h.label(7, b"\0"));
        // The top bits (used for the slot and the fingerprint) spread.
        let mut top = [0u32; 16];
        for i in 0..16_000u32 {
            let x = h.domain(format!("n{i}.com").as_bytes());
            top[(x >> 60) as usize] += 1;
        }
        assert!(top.iter().all(|&c| (800..1200).contains(&c)), "{top:?}");
    }

    #[test]
    fn weakened() {
        let mut h = Hasher::with_seed(1);
        h.weaken(0);
        assert_eq!(h.bytes(b"a"), h.bytes(b"b"));
        h.weaken(1);
        assert!(h.bytes(b"a") & (u64::MAX >> 1) == 0);
    }
}
