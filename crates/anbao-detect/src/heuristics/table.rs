//! A hash map with a hard entry cap, for the per-key state of the stateful
//! heuristics. When a new key arrives at a full table, entries whose window
//! is over go first; if that frees too little, the lighter half (by a
//! weight the caller gives, e.g. queries seen) goes too. Sweeps cost one
//! pass and happen at most once per half-table of new keys, so inserts
//! stay O(1) amortised, and a flood of one-off keys cannot push out the
//! busy ones that matter.

use std::hash::Hash;

#[derive(Debug)]
pub(crate) struct Table<K, V> {
    /// Keys (addresses, name hashes) come from traffic: foldhash with a
    /// per-process random seed, several times cheaper than SipHash and not
    /// predictable from outside.
    map: foldhash::HashMap<K, V>,
    cap: usize,
    /// Entries dropped by sweeps (stale ones not counted).
    evicted: u64,
}

impl<K: Hash + Eq, V> Table<K, V> {
    pub(crate) fn new(cap: usize) -> Self {
        Table { map: foldhash::HashMap::default(), cap, evicted: 0 }
    }

    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    pub(crate) fn evicted(&self) -> u64 {
        self.evicted
    }

    #[cfg(test)]
    pub(crate) fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        self.map.get_mut(key)
    }

    /// The entry of `key`, made by `make` when absent. `None` only when the
    /// cap is 0 (tracking off).
    pub(crate) fn entry(
        &mut self,
        key: K,
        make: impl FnOnce() -> V,
        stale: impl Fn(&V) -> bool,
        weight: impl Fn(&V) -> u64,
    ) -> Option<&mut V> {
        if self.cap == 0 {
            return None;
        }
        if self.map.len() >= self.cap && !self.map.contains_key(&key) {
            self.sweep(stale, weight);
        }
        Some(self.map.entry(key).or_insert_with(make))
    }

    fn sweep(&mut self, stale: impl Fn(&V) -> bool, weight: impl Fn(&V) -> u64) {
        self.map.retain(|_, v| !stale(v));
        let keep = self.cap / 2;
        if self.map.len() <= keep {
            return;
        }
        let mut weights: Vec<u64> = self.map.values().map(&weight).collect();
        let cut = self.map.len() - keep;
        let pivot = weights.select_nth_unstable(cut.saturating_sub(1)).1;
        let pivot = *pivot;
        let before = self.map.len();
        // Strictly heavier survive: ties at the pivot go, so a table full of
        // equal entries is emptied rather than kept full.
        self.map.retain(|_, v| weight(v) > pivot);
        self.evicted += (before - self.map.len()) as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_table_drops_stale_then_light_entries_and_never_grows_past_its_cap() {
        let mut t: Table<u32, (i64, u64)> = Table::new(100);
        for k in 0..10u32 {
            let e = t.entry(k, || (0, 0), |_| false, |v| v.1).unwrap();
            *e = (i64::MAX, 1000);
        }
        for k in 10..10_000u32 {
            t.entry(k, || (i64::from(k), 1), |v| v.0 < i64::from(k) - 1000, |v| v.1).unwrap();
            assert!(t.len() <= 100);
        }
        for k in 0..10u32 {
            assert!(t.get_mut(&k).is_some(), "heavy key {k} was evicted");
        }
        assert!(t.evicted() > 0);
    }

    #[test]
    fn a_zero_cap_tracks_nothing() {
        let mut t: Table<u32, u32> = Table::new(0);
        assert!(t.entry(1, || 1, |_| false, |_| 0).is_none());
        assert_eq!(t.len(), 0);
    }
}
