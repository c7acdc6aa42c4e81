//! [`SlotTable`]: the detector's host table, an address → slot index in
//! front of dense arrays.
//!
//! Why not a `HashMap<IpAddr, Host>`: every flow record looks its
//! destination up, and with tens of thousands of protected hosts of a few
//! hundred bytes each that map (whose buckets hold the entries) outgrew the
//! cache; a quarter of the collector's CPU went to missing it. Here the
//! index holds only address and slot (24 bytes a bucket), what a record
//! updates sits in one dense array (`hot`) and what is touched about once a
//! second in another (`cold`).

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::net::IpAddr;

/// Addresses with a hot and a cold value each. Slots are dense: removing
/// entries ([`SlotTable::retain`]) moves the rest down.
#[derive(Debug)]
pub(crate) struct SlotTable<H, C> {
    /// Keyed by attacker-chosen addresses (any destination inside a
    /// protected prefix): foldhash with a per-process random seed.
    index: HashMap<IpAddr, u32, foldhash::fast::RandomState>,
    addrs: Vec<IpAddr>,
    hot: Vec<H>,
    cold: Vec<C>,
    /// Bumped whenever slots move ([`SlotTable::retain`]): a slot read
    /// before is good while this has not changed.
    generation: u64,
}

impl<H, C> Default for SlotTable<H, C> {
    fn default() -> Self {
        SlotTable { index: HashMap::default(), addrs: Vec::new(), hot: Vec::new(), cold: Vec::new(), generation: 0 }
    }
}

impl<H, C> SlotTable<H, C> {
    pub(crate) fn len(&self) -> usize {
        self.hot.len()
    }

    pub(crate) fn contains(&self, addr: &IpAddr) -> bool {
        self.index.contains_key(addr)
    }

    pub(crate) fn get(&self, addr: &IpAddr) -> Option<&H> {
        let slot = *self.index.get(addr)?;
        self.hot.get(slot as usize)
    }

    /// The slot of `addr`, good until the [`SlotTable::generation`]
    /// changes.
    #[inline]
    pub(crate) fn slot_of(&self, addr: &IpAddr) -> Option<u32> {
        self.index.get(addr).copied()
    }

    pub(crate) fn generation(&self) -> u64 {
        self.generation
    }

    /// The entry in `slot` (from [`SlotTable::slot_of`] in this generation).
    #[inline]
    pub(crate) fn at_mut(&mut self, slot: u32) -> Option<(&mut H, &mut C)> {
        let slot = slot as usize;
        Some((self.hot.get_mut(slot)?, self.cold.get_mut(slot)?))
    }

    pub(crate) fn get_mut(&mut self, addr: &IpAddr) -> Option<(&mut H, &mut C)> {
        let slot = *self.index.get(addr)? as usize;
        Some((self.hot.get_mut(slot)?, self.cold.get_mut(slot)?))
    }

    /// The entry of `addr`, made by `make` if it has none; `None` only when
    /// the table holds `u32::MAX` entries.
    pub(crate) fn get_or_insert_with(
        &mut self,
        addr: IpAddr,
        make: impl FnOnce() -> (H, C),
    ) -> Option<(&mut H, &mut C)> {
        let slot = match self.index.entry(addr) {
            Entry::Occupied(e) => *e.get() as usize,
            Entry::Vacant(e) => {
                let slot = self.hot.len();
                e.insert(u32::try_from(slot).ok()?);
                let (hot, cold) = make();
                self.addrs.push(addr);
                self.hot.push(hot);
                self.cold.push(cold);
                slot
            }
        };
        Some((self.hot.get_mut(slot)?, self.cold.get_mut(slot)?))
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (IpAddr, &H, &C)> {
        self.addrs.iter().zip(&self.hot).zip(&self.cold).map(|((addr, hot), cold)| (*addr, hot, cold))
    }

    pub(crate) fn hot_values(&self) -> impl Iterator<Item = &H> {
        self.hot.iter()
    }

    /// Keeps the entries whose hot value `keep` accepts, in order; returns
    /// how many went. Rebuilds the index: meant for eviction, not per record.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&H) -> bool) -> usize {
        let mask: Vec<bool> = self.hot.iter().map(&mut keep).collect();
        let before = self.hot.len();
        let mut kept = mask.iter().copied();
        self.hot.retain(|_| kept.next().unwrap_or(true));
        let mut kept = mask.iter().copied();
        self.cold.retain(|_| kept.next().unwrap_or(true));
        let mut kept = mask.iter().copied();
        self.addrs.retain(|_| kept.next().unwrap_or(true));
        let gone = before - self.hot.len();
        if gone > 0 {
            self.generation += 1;
            self.index.clear();
            // Fewer than u32::MAX entries: they were all indexed before.
            self.index.extend(self.addrs.iter().enumerate().map(|(slot, addr)| (*addr, slot as u32)));
        }
        gone
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn entries_keep_their_values_through_removals() {
        let mut t: SlotTable<u32, &str> = SlotTable::default();
        for i in 0..10u32 {
            let (hot, _) = t.get_or_insert_with(ip(&format!("192.0.2.{i}")), || (i, "cold")).unwrap();
            assert_eq!(*hot, i);
        }
        // Present: not made again.
        let (hot, cold) = t.get_or_insert_with(ip("192.0.2.3"), || (99, "new")).unwrap();
        assert_eq!((*hot, *cold), (3, "cold"));
        *hot = 30;
        assert_eq!(t.retain(|v| v % 2 == 1 || *v == 30), 5);
        assert_eq!(t.len(), 5);
        assert_eq!(t.get(&ip("192.0.2.3")), Some(&30));
        assert_eq!(t.get(&ip("192.0.2.9")), Some(&9));
        assert!(!t.contains(&ip("192.0.2.4")));
        assert!(t.get_mut(&ip("192.0.2.0")).is_none());
        let listed: Vec<String> = t.iter().map(|(a, h, c)| format!("{a}={h}/{c}")).collect();
        assert_eq!(
            listed,
            ["192.0.2.1=1/cold", "192.0.2.3=30/cold", "192.0.2.5=5/cold", "192.0.2.7=7/cold", "192.0.2.9=9/cold"]
        );
        // Slots moved: a slot read before is stale, one read now is good.
        assert_eq!(t.generation(), 1);
        let slot = t.slot_of(&ip("192.0.2.7")).unwrap();
        assert_eq!(t.at_mut(slot).map(|(h, _)| *h), Some(7));
        // A new address after the removals gets its own slot.
        t.get_or_insert_with(ip("2001:db8::1"), || (7, "v6")).unwrap();
        let (hot, cold) = t.get_mut(&ip("2001:db8::1")).unwrap();
        assert_eq!((*hot, *cold), (7, "v6"));
        assert_eq!(t.get(&ip("192.0.2.7")), Some(&7));
    }
}
