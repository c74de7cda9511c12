//! A conversation's messages: in index order for pages, and by SID for everything else.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::HashMap;
use super::model::Message;
use crate::sid::MessageSid;

/// Messages ordered by index and found by SID, each in one lookup: both maps hold the
/// same `Arc`.
///
/// [`Sequenced`](super::sequenced::Sequenced) keeps values in its hash map and only keys
/// in order, so its pages cost a hash probe per value: in a conversation of a million
/// messages those are cache misses, and a page of 50 would be several times slower than
/// in a small one. A fetch, in turn, wants one probe rather than a probe and a B-tree
/// descent. Sharing the `Arc` gives both, at the cost of one pointer per message where a
/// sequence number would otherwise be.
///
/// The index of a message is its sequence number: indices increase strictly and are never
/// reused, even after the newest message is deleted.
#[derive(Debug, Default)]
pub struct MessageLog {
    by_index: BTreeMap<u64, Arc<Message>>,
    by_sid: HashMap<MessageSid, Arc<Message>>,
    next_index: u64,
}

impl MessageLog {
    /// The index the next message will get.
    pub fn next_index(&self) -> u64 {
        self.next_index
    }

    /// Adds `message`, whose index must be at least [`next_index`](Self::next_index) (new
    /// messages take it; imports keep their recorded indices).
    pub fn insert(&mut self, message: Arc<Message>) {
        debug_assert!(message.index >= self.next_index, "indices only grow");
        self.next_index = self.next_index.max(message.index.saturating_add(1));
        self.by_sid.insert(message.sid, Arc::clone(&message));
        self.by_index.insert(message.index, message);
    }

    /// Makes sure the next index is at least `next`: indices recorded as used (by messages
    /// since deleted) are never handed out again.
    pub fn reserve_until(&mut self, next: u64) {
        self.next_index = self.next_index.max(next);
    }

    /// How many messages there are.
    pub fn len(&self) -> usize {
        self.by_index.len()
    }

    pub fn contains(&self, sid: &MessageSid) -> bool {
        self.by_sid.contains_key(sid)
    }

    pub fn get(&self, sid: &MessageSid) -> Option<&Arc<Message>> {
        self.by_sid.get(sid)
    }

    /// Puts a new version of a stored message (same SID, same index) in place of the old
    /// one; `false`, changing nothing, when there is no message with its SID.
    pub fn replace(&mut self, message: Arc<Message>) -> bool {
        let Some(slot) = self.by_sid.get_mut(&message.sid) else {
            return false;
        };
        debug_assert_eq!(slot.index, message.index, "a message keeps its index");
        *slot = Arc::clone(&message);
        self.by_index.insert(message.index, message);
        true
    }

    pub fn remove(&mut self, sid: &MessageSid) -> Option<Arc<Message>> {
        let message = self.by_sid.remove(sid)?;
        self.by_index.remove(&message.index);
        Some(message)
    }

    /// The messages by index, for paging.
    pub fn ordered(&self) -> &BTreeMap<u64, Arc<Message>> {
        &self.by_index
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::model::MessageText;
    use crate::time::Timestamp;

    fn message(bits: u128, index: u64, body: &str) -> Arc<Message> {
        Arc::new(Message {
            sid: MessageSid::from_bits(bits),
            index,
            text: MessageText::new("system", Some(body)),
            attributes: None,
            was_edited: false,
            participant_sid: None,
            extras: None,
            date_created: Timestamp::from_unix_seconds(0),
            date_updated: Timestamp::from_unix_seconds(0),
        })
    }

    fn bodies(log: &MessageLog) -> Vec<(u64, &str)> {
        log.ordered().iter().map(|(&index, message)| (index, message.body().unwrap_or_default())).collect()
    }

    #[test]
    fn both_views_agree_through_inserts_replacements_and_removals() {
        let mut log = MessageLog::default();
        log.insert(message(1, 0, "a"));
        log.insert(message(2, log.next_index(), "b"));
        log.insert(message(3, 7, "imported"));
        assert_eq!(log.next_index(), 8);

        assert!(log.replace(message(2, 1, "b, edited")));
        assert!(!log.replace(message(9, 9, "never stored")), "no message with that SID");
        assert_eq!(log.get(&MessageSid::from_bits(2)).and_then(|m| m.body()), Some("b, edited"));
        assert_eq!(bodies(&log), [(0, "a"), (1, "b, edited"), (7, "imported")]);

        assert_eq!(log.remove(&MessageSid::from_bits(3)).map(|m| m.index), Some(7));
        assert!(log.remove(&MessageSid::from_bits(3)).is_none());
        assert!(!log.contains(&MessageSid::from_bits(3)));
        assert_eq!(bodies(&log), [(0, "a"), (1, "b, edited")]);
        assert_eq!((log.len(), log.next_index()), (2, 8), "a removed index is not reused");

        log.reserve_until(20);
        log.reserve_until(10);
        assert_eq!(log.next_index(), 20);
    }
}
