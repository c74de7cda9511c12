//! A collection kept in creation order and indexed by SID: what every listable resource
//! but messages needs (see [`super::message_log`] for those). Listing walks the order
//! (keyset pagination); lookups are one hash probe.

use std::collections::BTreeMap;

use super::HashMap;
use super::selection::{PageRequest, Selection, select};
use std::hash::Hash;

/// Values found by their SID and ordered by a strictly increasing sequence number.
///
/// The values live in the hash map, so a lookup is one probe: a store of 10,000
/// conversations is mostly out of cache, and walking a B-tree after the probe cost a
/// fetch two or three more cache misses. Listing pays a probe per value instead.
#[derive(Clone, Debug)]
pub struct Sequenced<K, V> {
    values: HashMap<K, (u64, V)>,
    order: BTreeMap<u64, K>,
    /// Sequence numbers are never reused, even after the newest value is removed.
    next: u64,
}

impl<K, V> Default for Sequenced<K, V> {
    fn default() -> Self {
        Self { values: HashMap::default(), order: BTreeMap::new(), next: 0 }
    }
}

impl<K: Copy + Eq + Hash, V> Sequenced<K, V> {
    /// Appends `value` under `key` with the next sequence number, and returns that number.
    pub fn push(&mut self, key: K, value: V) -> u64 {
        let sequence = self.next;
        self.next += 1;
        if let Some((replaced, _)) = self.values.insert(key, (sequence, value)) {
            self.order.remove(&replaced);
        }
        self.order.insert(sequence, key);
        sequence
    }

    /// How many values there are.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn contains(&self, key: &K) -> bool {
        self.values.contains_key(key)
    }

    pub fn get(&self, key: &K) -> Option<&V> {
        self.values.get(key).map(|(_, value)| value)
    }

    pub fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        self.values.get_mut(key).map(|(_, value)| value)
    }

    pub fn remove(&mut self, key: &K) -> Option<V> {
        let (sequence, value) = self.values.remove(key)?;
        self.order.remove(&sequence);
        Some(value)
    }

    /// The values in creation order.
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &V> {
        self.order.values().filter_map(|key| self.get(key))
    }

    /// The page `request` asks for, of the values for which `keep` is true.
    pub fn select(&self, request: &PageRequest, keep: impl Fn(&V) -> bool) -> Selection<&V> {
        let page = select(&self.order, request, |key| self.get(key).is_some_and(&keep));
        // Only keys found in the map were kept, so none is dropped here.
        page.filter_map(|key| self.get(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::selection::{Cursor, Order};

    #[test]
    fn sequences_increase_and_are_not_reused() {
        let mut values = Sequenced::default();
        assert_eq!(values.push('a', "first"), 0);
        assert_eq!(values.push('b', "second"), 1);
        assert_eq!(values.remove(&'b'), Some("second"));
        assert_eq!(values.push('c', "third"), 2);
        assert_eq!(values.get(&'a'), Some(&"first"));
        assert_eq!(values.values().copied().collect::<Vec<_>>(), ["first", "third"]);
        assert!(!values.contains(&'b'));
    }

    #[test]
    fn pages_follow_creation_order_and_skip_what_is_not_kept() {
        let mut values = Sequenced::default();
        for (key, value) in [('a', 1), ('b', 2), ('c', 3), ('d', 4), ('e', 5)] {
            values.push(key, value);
        }
        values.remove(&'c');
        let request = PageRequest { order: Order::Asc, size: 2, number: 0, cursor: Cursor::Start };
        let page = values.select(&request, |value| value % 2 == 1);
        assert_eq!(page.items, [&1, &5]);
        assert!(page.previous.is_none() && page.next.is_none());
        let all = values.select(&PageRequest { size: 3, ..request }, |_| true);
        assert_eq!(all.items, [&1, &2, &4]);
        assert!(all.next.is_some());
    }
}
