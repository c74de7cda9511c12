//! A conversation's messages in index order, for pages. Finding a message by SID is the
//! service's job (`ServiceData::messages`): one probe, without finding the conversation.

use std::collections::BTreeMap;

use super::model::StoredMessage;

/// Messages ordered by index.
///
/// The index of a message is its sequence number: indices increase strictly and are never
/// reused, even after the newest message is deleted.
#[derive(Clone, Debug, Default)]
pub struct MessageLog {
    by_index: BTreeMap<u64, StoredMessage>,
    next_index: u64,
}

impl MessageLog {
    /// The index the next message will get.
    pub fn next_index(&self) -> u64 {
        self.next_index
    }

    /// Adds `message`, or puts a new version of it (same index) in place of the old one. A
    /// new message's index must be at least [`next_index`](Self::next_index) (new messages
    /// take it; imports keep their recorded indices).
    pub fn put(&mut self, message: StoredMessage) {
        self.next_index = self.next_index.max(message.index.saturating_add(1));
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

    pub fn remove(&mut self, index: u64) -> Option<StoredMessage> {
        self.by_index.remove(&index)
    }

    /// The messages by index, for paging.
    pub fn ordered(&self) -> &BTreeMap<u64, StoredMessage> {
        &self.by_index
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sid::{ConversationSid, MessageSid};
    use crate::store::model::Message;
    use crate::time::Timestamp;

    fn message(bits: u128, index: u64, body: &str) -> StoredMessage {
        let fields = Message {
            sid: MessageSid::from_bits(bits),
            conversation_sid: ConversationSid::from_bits(1),
            index,
            attributes: None,
            was_edited: false,
            participant_sid: None,
            extras: None,
            date_created: Timestamp::from_unix_seconds(0),
            date_updated: Timestamp::from_unix_seconds(0),
        };
        StoredMessage::new(fields, "system", Some(body))
    }

    fn bodies(log: &MessageLog) -> Vec<(u64, &str)> {
        log.ordered().iter().map(|(&index, message)| (index, message.body().unwrap_or_default())).collect()
    }

    #[test]
    fn indices_only_grow_through_puts_replacements_and_removals() {
        let mut log = MessageLog::default();
        log.put(message(1, 0, "a"));
        log.put(message(2, log.next_index(), "b"));
        log.put(message(3, 7, "imported"));
        assert_eq!(log.next_index(), 8);

        log.put(message(2, 1, "b, edited"));
        assert_eq!(bodies(&log), [(0, "a"), (1, "b, edited"), (7, "imported")]);
        assert_eq!(log.next_index(), 8, "a replacement takes no new index");

        assert_eq!(log.remove(7).map(|m| m.sid), Some(MessageSid::from_bits(3)));
        assert!(log.remove(7).is_none());
        assert_eq!(bodies(&log), [(0, "a"), (1, "b, edited")]);
        assert_eq!((log.len(), log.next_index()), (2, 8), "a removed index is not reused");

        log.reserve_until(20);
        log.reserve_until(10);
        assert_eq!(log.next_index(), 20);
    }
}
