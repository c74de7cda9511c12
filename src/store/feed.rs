//! The change feed: every committed change, in commit order, to whoever subscribes
//! (webhook dispatch, a live inspector, tests).
//!
//! The store publishes under its write lock, so subscribers see changes in the order they
//! were committed (and so, per conversation, in the order they happened). Publishing never
//! waits: the feed is a bounded ring (tokio's broadcast channel), and a subscriber that
//! falls more than a ring behind is told how many changes it missed instead of holding
//! writers up or growing memory.
//!
//! Webhooks cannot be missed, so the changes that fire them also go, losslessly, to the
//! one [`WebhookTap`]: an unbounded queue that the dispatcher drains without ever waiting
//! on a receiver (it only sorts deliveries into per-conversation lanes), so it grows only
//! as long as the dispatcher is behind by a few microseconds of work per change.

use std::sync::{Arc, OnceLock};

use tokio::sync::{broadcast, mpsc, oneshot};

use super::change::{Change, Committed, CommittedRef, Origin, Prior};

/// How many committed changes the feed holds for its slowest subscriber.
pub const DEFAULT_FEED_CAPACITY: usize = 4096;

/// The sending side, owned by the store.
#[derive(Clone, Debug)]
pub struct ChangeFeed {
    sender: broadcast::Sender<CommittedRef>,
    /// Where the changes that fire webhooks go as well, once a dispatcher has asked.
    webhooks: Arc<OnceLock<mpsc::UnboundedSender<Tapped>>>,
}

/// Every committed change whose [`Origin`] fires webhooks, in commit order, none missed.
pub type WebhookTap = mpsc::UnboundedReceiver<Tapped>;

/// What the webhook tap carries.
#[derive(Debug)]
pub enum Tapped {
    Committed(CommittedRef),
    /// A writer's marker, after its changes: the dispatcher answers it once it has dealt
    /// with everything before it, so the writer can tell when its changes' webhooks are
    /// all queued.
    Barrier(oneshot::Sender<()>),
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
        Self { sender, webhooks: Arc::default() }
    }

    /// The webhook tap: the first caller gets it, later ones `None` (one dispatcher per
    /// store, so no delivery is sent twice).
    pub fn webhook_tap(&self) -> Option<WebhookTap> {
        let (sender, receiver) = mpsc::unbounded_channel();
        self.webhooks.set(sender).ok().map(|()| receiver)
    }

    /// A subscription that sees every change committed from now on.
    pub fn subscribe(&self) -> Subscription {
        Subscription { receiver: self.sender.subscribe() }
    }

    /// A barrier behind every change published so far: `None` when no dispatcher listens
    /// (nothing would answer it).
    pub(super) fn webhook_barrier(&self) -> Option<oneshot::Receiver<()>> {
        let tap = self.webhooks.get()?;
        let (reached, receiver) = oneshot::channel();
        tap.send(Tapped::Barrier(reached)).ok()?;
        Some(receiver)
    }

    /// Hands a committed change to every subscriber, and to the webhook tap when its
    /// origin fires webhooks. With neither, the change is dropped without being wrapped:
    /// the feed costs a write nothing until someone listens.
    pub(super) fn publish(&self, seq: u64, change: Change, before: Prior, origin: Option<&Arc<Origin>>) {
        let tap = self.webhooks.get().filter(|_| origin.is_some_and(|origin| origin.fires_webhooks));
        if self.sender.receiver_count() == 0 && tap.is_none() {
            return;
        }
        let committed = Arc::new(Committed { seq, change, before, origin: origin.cloned() });
        if let Some(tap) = tap {
            // An error means the dispatcher stopped (the server is shutting down).
            let _ = tap.send(Tapped::Committed(Arc::clone(&committed)));
        }
        // An error means every subscriber left since the count was read: nothing to do.
        let _ = self.sender.send(committed);
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
