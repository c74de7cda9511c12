//! The inspector's live stream: the store's change feed, remembered for a while, so that
//! a page that reconnects resumes exactly after the last change it saw.
//!
//! The feed itself (`store::feed`) only reaches a reader from the moment it starts; a page
//! whose connection drops for a second would lose what was committed in between. One
//! recorder task takes every change from the feed's gathered queue (`store::Gathered`)
//! and keeps the last [`RING_CAPACITY`] in a ring, tagged with their sequence numbers, and
//! every page's stream reads that ring: a reconnecting page names the last number it saw
//! (`Last-Event-ID`) and gets everything after it, none missed, none twice. When that is
//! no longer possible (the page is further behind than the ring, or the recorder itself
//! fell so far behind that the queue dropped changes, or the server restarted) the page is
//! told to reload its view instead of being shown a history with a hole.
//!
//! Nothing runs until the first page connects: the feed costs a write nothing while no one
//! reads it, and an emulator whose inspector is never opened keeps that.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use tokio::sync::watch;

use crate::store::{CommittedRef, Store};

/// How many changes the ring keeps for pages that reconnect.
pub const RING_CAPACITY: usize = 4096;

/// The shortest time between two recordings. A change after a quiet spell is recorded at
/// once; in a burst of writes the changes gather until this long after the last recording,
/// so that the recorder (and every page) wakes a hundred times a second at most rather
/// than once a change. The gathered queue (`store::feed::MAX_GATHERED`) is far from filling
/// up in that time.
const GATHER: Duration = Duration::from_millis(10);

/// The live stream: cheap to clone, one per server.
#[derive(Clone, Debug)]
pub struct Live {
    store: Store,
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    ring: Mutex<Ring>,
    /// The sequence number of the newest change recorded: what a page's stream waits on.
    newest: watch::Sender<u64>,
    /// Set once the recorder runs.
    recording: OnceLock<()>,
}

#[derive(Debug, Default)]
struct Ring {
    /// Changes in commit order.
    changes: VecDeque<CommittedRef>,
    /// Every change numbered above this one is in `changes` (or not committed yet).
    complete_after: u64,
}

/// What a page that last saw a given change gets.
#[derive(Debug)]
pub enum Catchup {
    /// Every change after it, in order (possibly none).
    Changes(Vec<CommittedRef>),
    /// Some are gone: the page must reload its view; `newest` is where it then stands.
    Reload { newest: u64 },
}

impl Live {
    /// The live stream over `store`'s feed; nothing runs until [`start`](Self::start).
    pub fn new(store: Store) -> Self {
        let (newest, _) = watch::channel(0);
        let shared = Shared { ring: Mutex::default(), newest, recording: OnceLock::new() };
        Self { store, shared: Arc::new(shared) }
    }

    fn ring(&self) -> std::sync::MutexGuard<'_, Ring> {
        self.shared.ring.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts the recorder unless it runs already (must be called within a Tokio runtime):
    /// from now on every committed change is in the ring. Returns a receiver that changes
    /// whenever newer changes are recorded.
    pub fn start(&self) -> watch::Receiver<u64> {
        self.shared.recording.get_or_init(|| {
            let Some((gathered, last)) = self.store.gather_after() else {
                // Another reader took the store's queue: one live stream per store.
                tracing::error!("the store's changes are already gathered for another live stream");
                return;
            };
            self.ring().complete_after = last;
            self.shared.newest.send_replace(last);
            let live = self.clone();
            tokio::spawn(async move {
                let mut lagged = false;
                let mut recorded = tokio::time::Instant::now();
                loop {
                    gathered.arrival().await;
                    tokio::time::sleep_until(recorded + GATHER).await;
                    let (batch, dropped_after) = gathered.take();
                    if batch.is_empty() {
                        continue;
                    }
                    live.record(batch, std::mem::take(&mut lagged));
                    // What comes next does not follow on from this batch: start over there.
                    lagged = dropped_after;
                    recorded = tokio::time::Instant::now();
                }
            });
        });
        self.shared.newest.subscribe()
    }

    /// Adds a batch of changes to the ring. After a lag, what came before the batch is
    /// incomplete, so it is dropped and the ring restarts at the batch.
    fn record(&self, batch: Vec<CommittedRef>, lagged: bool) {
        let Some(newest) = batch.last().map(|change| change.seq) else { return };
        {
            let mut ring = self.ring();
            if lagged {
                ring.changes.clear();
                ring.complete_after = batch.first().map_or(0, |change| change.seq.saturating_sub(1));
            }
            for change in batch {
                if ring.changes.len() == RING_CAPACITY
                    && let Some(oldest) = ring.changes.pop_front()
                {
                    ring.complete_after = oldest.seq;
                }
                ring.changes.push_back(change);
            }
        }
        self.shared.newest.send_replace(newest);
    }

    /// Everything after change `after`, or a reload when the ring no longer holds it all
    /// (or `after` is from another run: newer than anything recorded).
    pub fn since(&self, after: u64) -> Catchup {
        let ring = self.ring();
        let newest = ring.changes.back().map_or(ring.complete_after, |change| change.seq);
        if after < ring.complete_after || after > newest {
            return Catchup::Reload { newest };
        }
        let start = ring.changes.partition_point(|change| change.seq <= after);
        Catchup::Changes(ring.changes.range(start..).cloned().collect())
    }

    /// The newest change recorded.
    pub fn newest(&self) -> u64 {
        *self.shared.newest.borrow()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sid::{AccountSid, SidGenerator};
    use crate::store::ServiceScope;
    use crate::store::model::ConversationFields;
    use crate::time::{Clock, Timestamp};

    fn store() -> Store {
        Store::new(Clock::fixed(Timestamp::from_unix_seconds(1_700_000_000)), SidGenerator::seeded(1))
    }

    fn create(store: &Store) {
        let account = AccountSid::from_bits(1);
        store.create_conversation(account, ServiceScope::Default, ConversationFields::default()).unwrap();
    }

    /// A store whose account is open (so that each conversation created is one change), a
    /// live stream recording it, and the stream's newest recorded change.
    fn recording() -> (Store, Live, watch::Receiver<u64>) {
        let store = store();
        create(&store);
        let live = Live::new(store.clone());
        let newest = live.start();
        (store, live, newest)
    }

    async fn wait_for(newest: &mut watch::Receiver<u64>, seq: u64) {
        newest.wait_for(|newest| *newest >= seq).await.unwrap();
    }

    fn seqs(catchup: Catchup) -> Vec<u64> {
        match catchup {
            Catchup::Changes(changes) => changes.iter().map(|change| change.seq).collect(),
            Catchup::Reload { newest } => panic!("a reload at {newest}, not changes"),
        }
    }

    #[tokio::test]
    async fn a_page_resumes_after_the_last_change_it_saw() {
        let (store, live, mut newest) = recording();
        let before = live.newest();
        for _ in 0..3 {
            create(&store);
        }
        wait_for(&mut newest, before + 3).await;

        assert_eq!(seqs(live.since(before)), vec![before + 1, before + 2, before + 3]);
        assert_eq!(seqs(live.since(before + 2)), vec![before + 3]);
        assert!(seqs(live.since(before + 3)).is_empty());
    }

    #[tokio::test]
    async fn a_page_further_behind_than_the_ring_or_from_another_run_reloads() {
        let (store, live, mut newest) = recording();
        let start = live.newest();
        // Changes from before the recorder started were never recorded.
        assert!(matches!(live.since(start - 1), Catchup::Reload { .. }));
        // A number newer than any change is from an earlier run of the server.
        assert!(matches!(live.since(start + 1), Catchup::Reload { newest } if newest == start));
        for _ in 0..RING_CAPACITY + 1 {
            create(&store);
        }
        wait_for(&mut newest, start + RING_CAPACITY as u64 + 1).await;
        assert!(matches!(live.since(start), Catchup::Reload { .. }));
        assert_eq!(seqs(live.since(start + 1)).len(), RING_CAPACITY);
    }

    #[tokio::test]
    async fn when_the_queue_drops_changes_a_page_from_before_them_reloads() {
        let (store, live, mut newest) = recording();
        let start = live.newest();
        // The recorder cannot run while this test's task does not yield (a current-thread
        // runtime): the queue fills up, then drops.
        let committed = crate::store::feed::MAX_GATHERED as u64 + 10;
        for _ in 0..committed {
            create(&store);
        }
        wait_for(&mut newest, start + crate::store::feed::MAX_GATHERED as u64).await;
        create(&store);
        wait_for(&mut newest, start + committed + 1).await;

        // The first batch is whole; what follows it is not, so the ring starts over at the
        // change after the gap: a page that saw the batch's last change reloads.
        let batch_end = start + crate::store::feed::MAX_GATHERED as u64;
        assert!(matches!(live.since(batch_end), Catchup::Reload { .. }));
        assert_eq!(seqs(live.since(start + committed)), vec![start + committed + 1]);
    }

    #[test]
    fn a_lag_drops_the_incomplete_history() {
        let store = store();
        // The account's opening goes before the subscription: each change below is then one.
        create(&store);
        let live = Live::new(store.clone());
        let mut subscription = store.subscribe();
        create(&store);
        let first = subscription.try_next().unwrap();
        live.record(vec![first.clone()], false);
        create(&store);
        create(&store);
        let _skipped = subscription.try_next().unwrap();
        let third = subscription.try_next().unwrap();
        // The recorder missed the second change: a page that saw the first must reload.
        live.record(vec![third.clone()], true);
        assert!(matches!(live.since(first.seq), Catchup::Reload { .. }));
        assert!(seqs(live.since(third.seq - 1)) == vec![third.seq]);
    }
}
