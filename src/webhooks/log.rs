//! The delivery log: every attempt at a webhook, newest last, bounded in entries (each
//! entry is bounded too: bodies are cut at `deliver::MAX_ANSWER_BYTES`). What the
//! control plane lists, filters, redelivers and clears.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use serde::Serialize;

use super::deliver::{Answer, SentRequest};
use crate::sid::{AccountSid, ChatServiceSid, ConversationSid, WebhookSid};

/// How many deliveries the log keeps by default; older ones are dropped first.
pub const DEFAULT_CAPACITY: usize = 1000;

/// Whose settings sent a delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Account,
    Service,
    Conversation,
}

/// How an attempt ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The receiver answered 2xx.
    Delivered,
    /// The receiver answered another status.
    Refused,
    /// No answer: timed out, refused the connection, or could not be reached.
    Failed,
    /// A Studio Flow or Flex target: recorded, not sent, since the emulator runs neither.
    NotExecutable,
    /// Too many deliveries were waiting; this one was never sent.
    Dropped,
}

/// One attempt.
#[derive(Clone, Debug, Serialize)]
pub struct Delivery {
    /// Increasing, never reused within a run: what a redelivery names.
    pub id: u64,
    pub account_sid: AccountSid,
    pub chat_service_sid: ChatServiceSid,
    pub conversation_sid: Option<ConversationSid>,
    pub event_type: &'static str,
    /// `pre` (the action waited for the answer) or `post`.
    pub phase: &'static str,
    pub level: Level,
    /// The conversation webhook that sent it, for the conversation level.
    pub webhook_sid: Option<WebhookSid>,
    pub retry_count: u32,
    pub outcome: Outcome,
    /// What was sent; `None` for what is never sent.
    pub request: Option<SentRequest>,
    pub response: Option<Answer>,
    pub error: Option<String>,
    pub duration_ms: f64,
    /// Wall-clock time of the attempt, RFC 3339 with milliseconds.
    pub date_created: String,
    /// The delivery this one sent again, for a redelivery.
    pub redelivery_of: Option<u64>,
}

/// What a listing keeps.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub account: Option<AccountSid>,
    pub conversation: Option<ConversationSid>,
    pub event_type: Option<String>,
    /// `Some(true)`: delivered only; `Some(false)`: everything else.
    pub delivered: Option<bool>,
}

impl Filter {
    fn keeps(&self, delivery: &Delivery) -> bool {
        self.account.is_none_or(|account| account == delivery.account_sid)
            && self.conversation.is_none_or(|conversation| Some(conversation) == delivery.conversation_sid)
            && self.event_type.as_deref().is_none_or(|event| event == delivery.event_type)
            && self.delivered.is_none_or(|delivered| delivered == (delivery.outcome == Outcome::Delivered))
    }
}

#[derive(Debug)]
pub struct DeliveryLog {
    capacity: usize,
    inner: Mutex<Inner>,
    /// Bumped on every record and clear, for the inspector's live stream: a watch rather
    /// than a channel, since a page only needs to know that the log changed.
    changed: tokio::sync::watch::Sender<u64>,
}

#[derive(Debug, Default)]
struct Inner {
    entries: VecDeque<Arc<Delivery>>,
    next_id: u64,
}

impl DeliveryLog {
    pub fn new(capacity: usize) -> Self {
        Self { capacity: capacity.max(1), inner: Mutex::default(), changed: tokio::sync::watch::Sender::new(0) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records `delivery` under the next id, which it returns.
    pub fn record(&self, mut delivery: Delivery) -> u64 {
        let mut inner = self.lock();
        inner.next_id += 1;
        delivery.id = inner.next_id;
        if inner.entries.len() == self.capacity {
            inner.entries.pop_front();
        }
        inner.entries.push_back(Arc::new(delivery));
        let id = inner.next_id;
        drop(inner);
        self.changed.send_modify(|version| *version += 1);
        id
    }

    /// A receiver that sees every change of the log (a delivery recorded, the log cleared).
    pub fn watch(&self) -> tokio::sync::watch::Receiver<u64> {
        self.changed.subscribe()
    }

    /// The deliveries `filter` keeps, oldest first.
    pub fn list(&self, filter: &Filter) -> Vec<Arc<Delivery>> {
        self.lock().entries.iter().filter(|delivery| filter.keeps(delivery)).cloned().collect()
    }

    pub fn get(&self, id: u64) -> Option<Arc<Delivery>> {
        let inner = self.lock();
        inner.entries.iter().find(|delivery| delivery.id == id).cloned()
    }

    /// Forgets every delivery, or one account's.
    pub fn clear(&self, account: Option<AccountSid>) {
        let mut inner = self.lock();
        match account {
            Some(account) => inner.entries.retain(|delivery| delivery.account_sid != account),
            None => inner.entries.clear(),
        }
        drop(inner);
        self.changed.send_modify(|version| *version += 1);
    }
}
