//! A hash table from SID to value that keeps each key beside its value: a lookup in a
//! large store touches one cache line and one page, where `std`'s `HashMap` (hashbrown)
//! touches two of each (its control bytes and its buckets are separate arrays).
//!
//! Open addressing with linear probing, at most three quarters full, and backward-shift
//! deletion (no tombstones). Keys are hashed with foldhash, so SIDs a client chose (an
//! import keeps them) cannot line up on one slot.

use std::hash::{BuildHasher, Hash};
use std::mem;

/// Values found by SID, for tables large enough that cache misses are the cost of a lookup.
#[derive(Clone)]
pub struct SidTable<K, V> {
    /// A power of two in length (or empty); `None` is a free slot.
    slots: Box<[Option<(K, V)>]>,
    len: usize,
    hasher: foldhash::fast::RandomState,
}

/// The smallest table allocated: 16 slots.
const MIN_SLOTS: usize = 16;

impl<K, V> Default for SidTable<K, V> {
    fn default() -> Self {
        Self { slots: Box::default(), len: 0, hasher: foldhash::fast::RandomState::default() }
    }
}

impl<K: Copy + Eq + Hash, V> SidTable<K, V> {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn get(&self, key: &K) -> Option<&V> {
        let slot = self.find(key)?;
        self.slots[slot].as_ref().map(|(_, value)| value)
    }

    pub fn contains_key(&self, key: &K) -> bool {
        self.find(key).is_some()
    }

    /// Puts `value` under `key`, returning the value it replaces.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        if let Some(slot) = self.find(&key) {
            let (_, old) = self.slots[slot].as_mut()?;
            return Some(mem::replace(old, value));
        }
        self.reserve(1);
        let mask = self.mask();
        let mut slot = self.home(&key);
        while self.slots[slot].is_some() {
            slot = (slot + 1) & mask;
        }
        self.slots[slot] = Some((key, value));
        self.len += 1;
        None
    }

    pub fn remove(&mut self, key: &K) -> Option<V> {
        let mut hole = self.find(key)?;
        let (_, removed) = self.slots[hole].take()?;
        self.len -= 1;
        // Backward shift: move later entries of the probe run into the hole when their home
        // slot allows it, so that every entry stays reachable from its home without gaps.
        let mask = self.mask();
        let mut next = (hole + 1) & mask;
        while let Some((key, _)) = &self.slots[next] {
            let home = self.home(key);
            // The entry may fill the hole when the hole lies between its home and where it
            // is (cyclically): its distance from home is at least its distance from the hole.
            if (next.wrapping_sub(home) & mask) >= (next.wrapping_sub(hole) & mask) {
                self.slots[hole] = self.slots[next].take();
                hole = next;
            }
            next = (next + 1) & mask;
        }
        Some(removed)
    }

    /// Makes room for `additional` more entries without growing in between.
    pub fn reserve(&mut self, additional: usize) {
        let needed = self.len.saturating_add(additional);
        if needed <= self.capacity() {
            return;
        }
        let mut slots = self.slots.len().max(MIN_SLOTS);
        while needed > slots / 4 * 3 {
            slots *= 2;
        }
        let old = mem::replace(&mut self.slots, std::iter::repeat_with(|| None).take(slots).collect());
        let mask = self.mask();
        for (key, value) in old.into_vec().into_iter().flatten() {
            let mut slot = self.home(&key);
            while self.slots[slot].is_some() {
                slot = (slot + 1) & mask;
            }
            self.slots[slot] = Some((key, value));
        }
    }

    /// Entries it holds before it grows.
    fn capacity(&self) -> usize {
        self.slots.len() / 4 * 3
    }

    fn mask(&self) -> usize {
        self.slots.len().wrapping_sub(1)
    }

    fn home(&self, key: &K) -> usize {
        (self.hasher.hash_one(key) as usize) & self.mask()
    }

    /// The slot holding `key`.
    fn find(&self, key: &K) -> Option<usize> {
        if self.len == 0 {
            return None;
        }
        let mask = self.mask();
        let mut slot = self.home(key);
        loop {
            match &self.slots[slot] {
                Some((stored, _)) if stored == key => return Some(slot),
                Some(_) => slot = (slot + 1) & mask,
                None => return None,
            }
        }
    }
}

impl<K, V> std::fmt::Debug for SidTable<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SidTable").field("len", &self.len).field("slots", &self.slots.len()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn agrees_with_a_hash_map_through_inserts_and_removals() {
        let mut table = SidTable::default();
        let mut model = HashMap::new();
        let mut x = 1u64;
        for step in 0..20_000u64 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            // Few distinct keys, so removals often hit and probe runs wrap and shift.
            let key = (x >> 40) % 3_000;
            if x.is_multiple_of(3) {
                assert_eq!(table.remove(&key), model.remove(&key), "remove {key} at step {step}");
            } else {
                assert_eq!(table.insert(key, step), model.insert(key, step), "insert {key} at step {step}");
            }
            assert_eq!(table.len(), model.len());
        }
        for key in 0..3_000 {
            assert_eq!(table.get(&key), model.get(&key), "key {key}");
        }
        assert!(table.len() <= table.capacity());
    }

    #[test]
    fn an_empty_table_allocates_nothing_and_finds_nothing() {
        let mut table: SidTable<u64, u64> = SidTable::default();
        assert!(table.slots.is_empty() && table.get(&1).is_none() && table.remove(&1).is_none());
        assert_eq!(table.insert(1, 10), None);
        assert_eq!(table.insert(1, 11), Some(10));
        assert_eq!((table.get(&1), table.len(), table.slots.len()), (Some(&11), 1, MIN_SLOTS));
    }
}
