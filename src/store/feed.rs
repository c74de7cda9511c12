//! The change feed: every committed change, in commit order, to whoever subscribes
//! (webhook dispatch, a live inspector, tests).
//!
//! The store publishes under its write lock, so subscribers see changes in the order they
//! were committed (and so, per conversation, in the order they happened). Publishing never
//! waits: the feed is a bounded ring (tokio's broadcast channel), and a subscriber that
//! falls more than a ring behind is told how many changes it missed instead of holding
//! writers up or growing memory.

use std::sync::Arc;

use tokio::sync::broadcast;

use super::change::{Change, Committed, CommittedRef, Prior};

/// How many committed changes the feed holds for its slowest subscriber.
pub const DEFAULT_FEED_CAPACITY: usize = 4096;

/// The sending side, owned by the store.
#[derive(Clone, Debug)]
pub struct ChangeFeed {
    sender: broadcast::Sender<CommittedRef>,
}

/// A subscriber's place in the feed.
#[derive(Debug)]
pub struct Subscription {
    receiver: broadcast::Receiver<CommittedRef>,
}

/// Why [`Subscription::next`] returned no change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FeedError {
    /// The subscriber fell behind: this many changes went past it, unseen. The next call
    /// returns the oldest change still held.
    #[error("{0} changes were missed")]
    Missed(u64),
    /// The store is gone.
    #[error("the store was dropped")]
    Closed,
    /// ([`Subscription::try_next`] only) nothing new yet.
    #[error("no change yet")]
    Empty,
}

impl ChangeFeed {
    pub fn new(capacity: usize) -> Self {
        let (sender, _) = broadcast::channel(capacity.max(1));
        Self { sender }
    }

    /// A subscription that sees every change committed from now on.
    pub fn subscribe(&self) -> Subscription {
        Subscription { receiver: self.sender.subscribe() }
    }

    /// Hands a committed change to every subscriber. With none, the change is dropped
    /// without being wrapped: the feed costs a write nothing until someone listens.
    pub(super) fn publish(&self, seq: u64, change: Change, before: Prior) {
        if self.sender.receiver_count() == 0 {
            return;
        }
        // An error means every subscriber left since the count was read: nothing to do.
        let _ = self.sender.send(Arc::new(Committed { seq, change, before }));
    }
}

impl Subscription {
    /// The next committed change, waiting for one.
    pub async fn next(&mut self) -> Result<CommittedRef, FeedError> {
        self.receiver.recv().await.map_err(|error| match error {
            broadcast::error::RecvError::Lagged(missed) => FeedError::Missed(missed),
            broadcast::error::RecvError::Closed => FeedError::Closed,
        })
    }

    /// The next committed change, if one is waiting.
    pub fn try_next(&mut self) -> Result<CommittedRef, FeedError> {
        self.receiver.try_recv().map_err(|error| match error {
            broadcast::error::TryRecvError::Lagged(missed) => FeedError::Missed(missed),
            broadcast::error::TryRecvError::Closed => FeedError::Closed,
            broadcast::error::TryRecvError::Empty => FeedError::Empty,
        })
    }
}
