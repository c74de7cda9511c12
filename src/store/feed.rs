//! The change feed: every committed change, in commit order, to whoever reads it: the
//! webhook dispatcher (its tap), the inspector's recorder (its gathered queue) and
//! subscribers (tests).
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
//!
//! The inspector's recorder, which reads every change while a page is open, takes them
//! from a [`Gathered`] queue instead of the ring: a push under a lock that the recorder
//! takes a hundred times a second at most, where the ring's send locks a slot and its tail
//! that the recorder's reads then take on the other core (BENCHMARKS.md, "The
//! inspector").

use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use tokio::sync::{Notify, broadcast, mpsc, oneshot};

use super::change::{Change, Committed, CommittedRef, Origin, Prior};

/// How many committed changes the feed holds for its slowest subscriber.
pub const DEFAULT_FEED_CAPACITY: usize = 4096;

/// The sending side, owned by the store.
#[derive(Clone, Debug)]
pub struct ChangeFeed {
    sender: broadcast::Sender<CommittedRef>,
    /// Where the changes that fire webhooks go as well, once a dispatcher has asked.
    webhooks: Arc<OnceLock<mpsc::UnboundedSender<Tapped>>>,
    /// Where every change goes as well, once the live recorder has asked.
    gathered: Arc<OnceLock<Arc<Gathered>>>,
}

/// Every committed change, in commit order, waiting for the one reader that takes them a
/// batch at a time (the inspector's recorder).
#[derive(Debug, Default)]
pub struct Gathered {
    waiting: Mutex<Waiting>,
    /// Told when a change arrives in an empty queue.
    arrived: Notify,
}

#[derive(Debug, Default)]
struct Waiting {
    changes: Vec<CommittedRef>,
    /// Changes after these were dropped: the queue was full.
    dropped_after: bool,
}

/// How many changes may wait for the reader: past this (a reader stuck for seconds under
/// load) changes are dropped and the reader told, rather than memory growing.
pub const MAX_GATHERED: usize = 65_536;

impl Gathered {
    fn push(&self, change: CommittedRef) {
        let mut waiting = self.waiting.lock().unwrap_or_else(PoisonError::into_inner);
        if waiting.changes.len() >= MAX_GATHERED {
            waiting.dropped_after = true;
            return;
        }
        let first = waiting.changes.is_empty();
        waiting.changes.push(change);
        drop(waiting);
        if first {
            self.arrived.notify_one();
        }
    }

    /// Returns once a change has arrived since the last [`take`](Self::take) (at once if
    /// one has; now and then also when none has, which `take` then shows).
    pub async fn arrival(&self) {
        self.arrived.notified().await;
    }

    /// Every change waiting, in commit order, and whether changes after them were dropped
    /// (the queue was full): what comes next then does not follow on from them.
    pub fn take(&self) -> (Vec<CommittedRef>, bool) {
        let mut waiting = self.waiting.lock().unwrap_or_else(PoisonError::into_inner);
        (std::mem::take(&mut waiting.changes), std::mem::take(&mut waiting.dropped_after))
    }
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

/// Why [`Subscription::try_next`] returned no change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FeedError {
    /// The subscriber fell behind: this many changes went past it, unseen. The next call
    /// returns the oldest change still held.
    #[error("{0} changes were missed")]
    Missed(u64),
    /// The store is gone.
    #[error("the store was dropped")]
    Closed,
    /// Nothing new yet.
    #[error("no change yet")]
    Empty,
}

impl ChangeFeed {
    pub fn new(capacity: usize) -> Self {
        let (sender, _) = broadcast::channel(capacity.max(1));
        Self { sender, webhooks: Arc::default(), gathered: Arc::default() }
    }

    /// The gathered queue: the first caller gets it, later ones `None` (its reader takes
    /// what it holds, so a second would split the changes with the first).
    pub(super) fn gathered(&self) -> Option<Arc<Gathered>> {
        let gathered = Arc::new(Gathered::default());
        self.gathered.set(Arc::clone(&gathered)).ok().map(|()| gathered)
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

    /// Hands a committed change to the gathered queue, to every subscriber, and to the
    /// webhook tap when its origin fires webhooks. With none of them, the change is
    /// dropped without being wrapped: the feed costs a write nothing until someone listens.
    pub(super) fn publish(&self, seq: u64, change: Change, before: Prior, origin: Option<&Arc<Origin>>) {
        let tap = self.webhooks.get().filter(|_| origin.is_some_and(|origin| origin.fires_webhooks));
        let gathered = self.gathered.get();
        let subscribed = self.sender.receiver_count() > 0;
        if !subscribed && tap.is_none() && gathered.is_none() {
            return;
        }
        let committed = Arc::new(Committed { seq, change, before, origin: origin.cloned() });
        if let Some(tap) = tap {
            // An error means the dispatcher stopped (the server is shutting down).
            let _ = tap.send(Tapped::Committed(Arc::clone(&committed)));
        }
        if let Some(gathered) = gathered {
            gathered.push(Arc::clone(&committed));
        }
        if subscribed {
            // An error means every subscriber left since the count was read: nothing to do.
            let _ = self.sender.send(committed);
        }
    }
}

impl Subscription {
    /// The next committed change, if one is waiting.
    pub fn try_next(&mut self) -> Result<CommittedRef, FeedError> {
        self.receiver.try_recv().map_err(|error| match error {
            broadcast::error::TryRecvError::Lagged(missed) => FeedError::Missed(missed),
            broadcast::error::TryRecvError::Closed => FeedError::Closed,
            broadcast::error::TryRecvError::Empty => FeedError::Empty,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn committed(seq: u64) -> CommittedRef {
        Arc::new(Committed { seq, change: Change::Reset { account: None }, before: Prior::Nothing, origin: None })
    }

    #[test]
    fn the_gathered_queue_hands_changes_over_in_order_and_says_when_it_dropped_some() {
        let gathered = Gathered::default();
        for seq in 1..=3 {
            gathered.push(committed(seq));
        }
        let (changes, dropped_after) = gathered.take();
        assert_eq!(changes.iter().map(|change| change.seq).collect::<Vec<_>>(), [1, 2, 3]);
        assert!(!dropped_after);
        assert!(gathered.take().0.is_empty(), "taken once");

        for seq in 0..=MAX_GATHERED as u64 {
            gathered.push(committed(seq));
        }
        let (changes, dropped_after) = gathered.take();
        assert_eq!(changes.len(), MAX_GATHERED, "full, then dropping");
        assert!(dropped_after, "the reader is told");
        gathered.push(committed(u64::MAX));
        let (changes, dropped_after) = gathered.take();
        assert_eq!(
            (changes.iter().map(|change| change.seq).collect::<Vec<_>>(), dropped_after),
            (vec![u64::MAX], false)
        );
    }
}
