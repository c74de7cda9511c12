//! Where messages are kept: each conversation's [`MessageLog`] in index order, for pages,
//! and each service's [`MessageIndex`] by SID, for everything else.
//!
//! The index is per service rather than per conversation so that a fetch finds its
//! message in one hash probe, without first finding the conversation: in a store of a
//! million messages over ten thousand conversations, every step of that walk is a cache
//! miss, and they made a fetch a fifth slower than from a small store (`BENCHMARKS.md`).
//!
//! The two must always agree, so only the index changes a log: every insertion, update
//! and removal of a message goes through [`MessageIndex`], which updates both.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::model::Message;
use super::{ConversationData, HashMap};
use crate::sid::{ConversationSid, MessageSid};

/// A conversation's messages by index.
///
/// The index of a message is its sequence number: indices increase strictly and are never
/// reused, even after the newest message is deleted.
#[derive(Debug, Default)]
pub struct MessageLog {
    by_index: BTreeMap<u64, Arc<Message>>,
    next_index: u64,
}

impl MessageLog {
    /// The index the next message will get.
    pub fn next_index(&self) -> u64 {
        self.next_index
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

    /// The messages by index, for paging.
    pub fn ordered(&self) -> &BTreeMap<u64, Arc<Message>> {
        &self.by_index
    }

    /// Adds `message`, whose index must be at least [`next_index`](Self::next_index) (new
    /// messages take it; imports keep their recorded indices). Only for the index, and for
    /// a log still being built for an import (whose plan checked its SIDs).
    pub(super) fn push(&mut self, message: Arc<Message>) {
        debug_assert!(message.index >= self.next_index, "indices only grow");
        self.next_index = self.next_index.max(message.index.saturating_add(1));
        self.by_index.insert(message.index, message);
    }
}

/// Every message of one service by SID, with the conversation it is in.
#[derive(Debug, Default)]
pub struct MessageIndex {
    by_sid: HashMap<MessageSid, Filed>,
}

#[derive(Debug)]
struct Filed {
    conversation: ConversationSid,
    message: Arc<Message>,
}

impl MessageIndex {
    /// How many messages the service has.
    pub fn len(&self) -> usize {
        self.by_sid.len()
    }

    pub fn contains(&self, sid: &MessageSid) -> bool {
        self.by_sid.contains_key(sid)
    }

    /// The message `sid`, if it is in `conversation`.
    pub fn get(&self, conversation: ConversationSid, sid: &MessageSid) -> Option<&Arc<Message>> {
        self.by_sid.get(sid).filter(|filed| filed.conversation == conversation).map(|filed| &filed.message)
    }

    /// The conversation message `sid` is in, if it exists.
    pub fn conversation_of(&self, sid: &MessageSid) -> Option<ConversationSid> {
        self.by_sid.get(sid).map(|filed| filed.conversation)
    }

    /// Adds a new message to `conversation`; `false`, changing nothing, when its SID is
    /// already taken in this service or its index is below the conversation's next one.
    pub fn insert(&mut self, conversation: &mut ConversationData, message: Arc<Message>) -> bool {
        if self.contains(&message.sid) || message.index < conversation.messages.next_index() {
            return false;
        }
        let filed = Filed { conversation: conversation.conversation.sid, message: Arc::clone(&message) };
        self.by_sid.insert(message.sid, filed);
        conversation.messages.push(message);
        true
    }

    /// Puts a new version of a message of `conversation` (same SID, same index) in place
    /// of the old one; `false`, changing nothing, when the conversation has no such message.
    pub fn replace(&mut self, conversation: &mut ConversationData, message: Arc<Message>) -> bool {
        let Some(filed) = self.by_sid.get_mut(&message.sid) else {
            return false;
        };
        if filed.conversation != conversation.conversation.sid || filed.message.index != message.index {
            return false;
        }
        filed.message = Arc::clone(&message);
        conversation.messages.by_index.insert(message.index, message);
        true
    }

    /// Removes message `sid` from `conversation`, if it is there.
    pub fn remove(&mut self, conversation: &mut ConversationData, sid: &MessageSid) -> Option<Arc<Message>> {
        self.get(conversation.conversation.sid, sid)?;
        let filed = self.by_sid.remove(sid)?;
        conversation.messages.by_index.remove(&filed.message.index);
        Some(filed.message)
    }

    /// Forgets the messages of a conversation that is being removed.
    pub fn forget(&mut self, conversation: &ConversationData) {
        for message in conversation.messages.by_index.values() {
            self.by_sid.remove(&message.sid);
        }
    }

    /// Files the messages of a conversation added whole (by an import, whose plan checked
    /// that their SIDs are free).
    pub fn file(&mut self, conversation: &ConversationData) {
        for message in conversation.messages.by_index.values() {
            let filed = Filed { conversation: conversation.conversation.sid, message: Arc::clone(message) };
            self.by_sid.insert(message.sid, filed);
        }
    }
}
