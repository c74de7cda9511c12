//! A collection kept in creation order and indexed by SID: what every listable resource
//! needs. Listing walks the ordered map (keyset pagination); lookups go through the index.

use std::collections::BTreeMap;

use super::HashMap;
use std::hash::Hash;

/// Values ordered by a strictly increasing sequence number and found by their SID.
#[derive(Debug)]
pub struct Sequenced<K, V> {
    ordered: BTreeMap<u64, V>,
    position: HashMap<K, u64>,
    /// Sequence numbers are never reused, even after the newest value is removed.
    next: u64,
}

impl<K, V> Default for Sequenced<K, V> {
    fn default() -> Self {
        Self { ordered: BTreeMap::new(), position: HashMap::default(), next: 0 }
    }
}

impl<K: Copy + Eq + Hash, V> Sequenced<K, V> {
    /// Appends `value` under `key` with the next sequence number, and returns that number.
    pub fn push(&mut self, key: K, value: V) -> u64 {
        let sequence = self.next;
        self.next += 1;
        self.position.insert(key, sequence);
        self.ordered.insert(sequence, value);
        sequence
    }

    /// How many values there are.
    pub fn len(&self) -> usize {
        self.ordered.len()
    }

    pub fn contains(&self, key: &K) -> bool {
        self.position.contains_key(key)
    }

    pub fn get(&self, key: &K) -> Option<&V> {
        self.position.get(key).and_then(|sequence| self.ordered.get(sequence))
    }

    pub fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        let sequence = self.position.get(key)?;
        self.ordered.get_mut(sequence)
    }

    pub fn remove(&mut self, key: &K) -> Option<V> {
        let sequence = self.position.remove(key)?;
        self.ordered.remove(&sequence)
    }

    /// The values by sequence number, for paging.
    pub fn ordered(&self) -> &BTreeMap<u64, V> {
        &self.ordered
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequences_increase_and_are_not_reused() {
        let mut values = Sequenced::default();
        assert_eq!(values.push('a', "first"), 0);
        assert_eq!(values.push('b', "second"), 1);
        assert_eq!(values.remove(&'b'), Some("second"));
        assert_eq!(values.push('c', "third"), 2);
        assert_eq!(values.get(&'a'), Some(&"first"));
        assert_eq!(values.ordered().keys().copied().collect::<Vec<_>>(), [0, 2]);
        assert!(!values.contains(&'b'));
    }
}
