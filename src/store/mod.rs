//! The store: every account's services, conversations and messages, in memory, with an
//! optional durable state file.
//!
//! Every change goes one way: an operation checks its request against the tables (read
//! only), decides the [`Change`]s that carry it out, and [`Store::commit`] makes them
//! durable (when there is a state file), applies them (the one function that writes the
//! tables, `tables::Tables::apply`) and hands them to the [change feed](feed). The
//! import and the state file's replay produce changes too, so there is one author of
//! every state change.
//!
//! The account is the outermost key, so one tenant can never reach another's data: every
//! method takes the `AccountSid` the request authenticated as. Each method does its whole
//! check-and-commit under one lock guard and returns owned values, so no caller can hold
//! the lock, and no lock is ever held across an `.await`.

pub mod bindings;
pub mod change;
mod chat_users;
pub mod config_document;
mod configuration;
#[cfg(test)]
mod contract_tests;
mod conversation_with_participants;
mod conversations;
pub mod credentials;
pub mod document;
pub mod feed;
pub mod invites;
pub mod limits;
mod media;
mod message_log;
mod messages;
pub mod model;
pub mod notifications;
mod participant_conversations;
mod participants;
pub mod persist;
pub mod role_document;
pub mod roles;
pub mod selection;
mod sequenced;
mod services;
mod sid_table;
mod tables;
mod users;
pub mod webhook_model;

use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::sid::{AccountSid, ChatServiceSid, ConversationSid, MessagingServiceSid, SidGenerator, derive_bits};
use crate::time::{Clock, Timestamp};
pub use change::{AddressPair, Change, Committed, CommittedRef, Origin, Prior, Source};
pub use chat_users::ChatUser;
pub use configuration::NewAddressConfiguration;
use document::{ImportError, ImportSummary, StateDocument};
pub use feed::{ChangeFeed, DEFAULT_FEED_CAPACITY, FeedError, Gathered, Subscription, Tapped, WebhookTap};
pub use media::Upload;
pub use messages::{ReceiptUpdate, SMS_BODY_MAX_CHARS};
pub use participant_conversations::{ParticipantConversation, ParticipantMatch};
pub use participants::{ParticipantRef, default_participant_role};
use persist::{CrashPoint, PersistError, Place, StateFile, SyncPolicy};
pub use services::{ChatService, ChatServiceSettings, ChatServiceUpdate};
use tables::{Tables, Tenant};
pub use tables::{large_frees, on_large_free};
pub use users::{USER_ATTRIBUTES_MAX_BYTES, User, UserDocument, UserFields, UserRef, default_user_role};
pub use users::{UserConversation, UserConversationUpdate};

/// The store's hash maps. Their keys are mostly random 128-bit SIDs, for which SipHash's
/// resistance to crafted keys buys nothing; foldhash (hashbrown's own default) hashes them
/// several times faster.
pub(crate) type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// Twilio's author for messages created without one.
pub const DEFAULT_AUTHOR: &str = "system";
/// The name Twilio gives the service it creates with an account.
pub const DEFAULT_SERVICE_NAME: &str = "Default Conversations Service";

/// What the store can refuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// A participant with this identity is already in the conversation.
    #[error("participant already exists")]
    ParticipantExists,
    /// A participant with this address and proxy address is already in the conversation.
    #[error("binding already exists")]
    BindingExists,
    /// A conversation holds at most 1,000 participants, 50 of them SMS or WhatsApp.
    #[error("too many participants")]
    TooManyParticipants,
    /// The `MediaSid` names no upload of this service.
    #[error("media not found")]
    MediaNotFound,
    /// The media is already attached to another message.
    #[error("media already attached")]
    MediaAlreadyAttached,
    /// The body of a media message cannot be changed.
    #[error("media message body cannot be updated")]
    MediaBodyUpdate,
    /// The account's uploads would hold more than its media quota.
    #[error("media quota exceeded")]
    MediaQuotaExceeded,
    /// The body is longer than SMS or WhatsApp participants can be sent.
    #[error("body too long for SMS")]
    BodyTooLongForSms,
    /// A receipt cannot move to that status from where it is.
    #[error("receipt status cannot go from {0} to {1}")]
    ReceiptTransition(&'static str, &'static str),
    /// The message has no receipts to update (no SMS or WhatsApp participant got it).
    #[error("the message has no receipts")]
    NoReceipts,
    /// The receipt named is not one of the message's.
    #[error("no such receipt on the message")]
    ReceiptNotFound,
    /// The change could not be made durable, so it was neither applied nor acknowledged.
    #[error("the state file could not be written")]
    Persistence,
    /// The conversation has used every index a message can have.
    #[error("no message index is left")]
    IndicesExhausted,
    /// A proposal was overtaken: the store changed between its check and its commit.
    #[error("the store changed since the change was proposed")]
    Conflict,
    /// The service or message named does not exist.
    #[error("not found")]
    NotFound,
    /// The conversation (channel) named does not exist; Chat v2 reports it with its own code.
    #[error("conversation not found")]
    ConversationNotFound,
    #[error("unique name already in use in this service")]
    UniqueNameTaken,
    #[error("the default service cannot be deleted")]
    DefaultServiceUndeletable,
    /// A parameter (not the path) names a service the account does not have.
    #[error("no such service")]
    ServiceNotFound,
    /// The conversation has five webhooks already.
    #[error("too many conversation webhooks")]
    TooManyConversationWebhooks,
    /// The conversation has no webhook with this SID.
    #[error("conversation webhook not found")]
    ConversationWebhookNotFound,
    /// The address has a configuration of this type already.
    #[error("address configuration already exists")]
    AddressConfigurationExists,
    /// The conversation is closed: it takes no new message or participant, and cannot be
    /// reactivated.
    #[error("the conversation is closed")]
    ConversationClosed,
    /// A service's default roles are named by records and cannot be deleted.
    #[error("a default role cannot be deleted")]
    DefaultRoleUndeletable,
    /// The service has a user with this identity already.
    #[error("user already exists")]
    UserExists,
    /// A `RoleSid` parameter names no role of the service.
    #[error("role not found")]
    RoleNotFound,
    /// A `RoleSid` parameter names a role of the other type (a service role for a
    /// participant, a conversation role for a user).
    #[error("role of the wrong type")]
    RoleTypeMismatch,
    /// The channel has an invite for this identity already.
    #[error("invite already exists")]
    InviteExists,
}

/// Which service a request addresses: the account's default (`/v1/Conversations/…`) or an
/// explicit one (`/v1/Services/{IS}/Conversations/…`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServiceScope {
    Default,
    Explicit(ChatServiceSid),
}

/// A conversation as named in a URL: by SID or by `unique_name`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConversationRef {
    Sid(ConversationSid),
    UniqueName(String),
}

impl ServiceScope {
    /// The service a URL names explicitly, if it does.
    pub fn explicit(self) -> Option<ChatServiceSid> {
        match self {
            Self::Explicit(sid) => Some(sid),
            Self::Default => None,
        }
    }
}

impl ConversationRef {
    /// Reads a path segment: a well-formed `CH…` SID is a SID, anything else a unique name
    /// (Twilio forbids unique names shaped like SIDs, so the two never collide).
    pub fn parse(segment: &str) -> Self {
        match segment.parse() {
            Ok(sid) => Self::Sid(sid),
            Err(_) => Self::UniqueName(segment.to_owned()),
        }
    }
}

/// A record together with the service and conversation it was found in, which a response
/// needs for its SIDs and URLs when the request named them by alias.
#[derive(Clone, Debug)]
pub struct Located<T> {
    pub chat_service_sid: ChatServiceSid,
    pub conversation_sid: ConversationSid,
    pub value: T,
}

impl<T> Located<T> {
    /// The same place, holding `f(value)`.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Located<U> {
        Located {
            chat_service_sid: self.chat_service_sid,
            conversation_sid: self.conversation_sid,
            value: f(self.value),
        }
    }
}

/// Why the state file could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum StateFileError {
    #[error(transparent)]
    Read(#[from] PersistError),
    #[error("the snapshot does not describe a valid state: {0}")]
    Snapshot(ImportError),
    #[error("{place} cannot be applied: {error}")]
    Log { place: Place, error: ImportError },
    #[error("cannot write the state file: {0}")]
    Write(std::io::Error),
}

/// How the state file is kept.
#[derive(Clone, Copy, Debug)]
pub struct Durability {
    pub sync: SyncPolicy,
    /// Compact once at least this many changes were logged (and as many as the snapshot
    /// holds records).
    pub compact_after: usize,
    /// Tests only: die on purpose at this step of a compaction.
    pub crash_at: Option<CrashPoint>,
}

impl Default for Durability {
    fn default() -> Self {
        Self { sync: SyncPolicy::default(), compact_after: persist::DEFAULT_COMPACT_AFTER, crash_at: None }
    }
}

/// Whether an import adds to the store or replaces it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImportMode {
    Merge,
    Replace,
}

/// Counts of what the store holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StoreStats {
    pub accounts: usize,
    pub services: usize,
    pub conversations: usize,
    pub messages: usize,
}

/// What a check decided: the changes that carry a request out, and the answer to give once
/// they are committed.
#[derive(Debug)]
pub(super) struct Decision<R> {
    pub changes: Vec<Change>,
    pub answer: R,
}

impl<R> Decision<R> {
    /// One change and its answer: what most operations decide.
    pub(super) fn one(change: Change, answer: R) -> Self {
        Self { changes: vec![change], answer }
    }
}

/// Changes checked but not yet committed, with the answer they will give: the seam where
/// a pre-event webhook can veto a write, between its check and its commit, without any
/// lock held while it waits.
#[derive(Debug)]
#[must_use = "a proposal changes nothing until it is committed"]
pub struct Proposal<R> {
    /// The store's last change when the check ran: the commit refuses a proposal the store
    /// has moved past, since its check may no longer hold.
    seq: u64,
    decision: Decision<R>,
}

impl<R> Proposal<R> {
    /// The changes the proposal would commit.
    pub fn changes(&self) -> &[Change] {
        &self.decision.changes
    }
}

/// A cheap handle on the shared store.
#[derive(Clone, Debug)]
pub struct Store {
    /// A `std` lock rather than `tokio`'s: every critical section is short and synchronous,
    /// and a blocking lock cannot be held across an `.await` by construction.
    inner: Arc<RwLock<Inner>>,
    clock: Clock,
    feed: ChangeFeed,
    /// Who the writes through this handle are made by (see [`Store::acting_for`]).
    origin: Option<Arc<Origin>>,
    /// The Unix second the earliest timer runs out (`i64::MAX`: none), kept outside the
    /// lock so that every read and write pays one comparison to learn nothing is due.
    next_timer: Arc<AtomicI64>,
}

#[derive(Debug)]
struct Inner {
    tables: Tables,
    sids: SidGenerator,
    /// The number of the last change committed.
    seq: u64,
    state_file: Option<StateFile>,
}

/// The default service's SID is a fixed function of the account SID: stable across
/// restarts and the same for every client, without any configuration.
pub fn default_service_sid(account: AccountSid) -> ChatServiceSid {
    ChatServiceSid::from_bits(derive_bits(account.bits(), 0x4953))
}

/// The account's default Messaging Service SID, derived like [`default_service_sid`].
pub fn default_messaging_service_sid(account: AccountSid) -> MessagingServiceSid {
    MessagingServiceSid::from_bits(derive_bits(account.bits(), 0x4d47))
}

/// A SID from `sids` that `taken` does not reject.
fn fresh<K: Copy>(sids: &mut SidGenerator, make: fn(u128) -> K, taken: impl Fn(&K) -> bool) -> K {
    loop {
        let candidate = make(sids.next_bits());
        if !taken(&candidate) {
            return candidate;
        }
    }
}

impl Store {
    /// An empty store stamping records with `clock` and naming them with `sids`.
    pub fn new(clock: Clock, sids: SidGenerator) -> Self {
        let inner = Inner { tables: Tables::default(), sids, seq: 0, state_file: None };
        Self {
            inner: Arc::new(RwLock::new(inner)),
            clock,
            feed: ChangeFeed::new(DEFAULT_FEED_CAPACITY),
            origin: None,
            next_timer: Arc::new(AtomicI64::new(i64::MAX)),
        }
    }

    /// Commits the state changes of every timer that has run out by the clock's "now".
    /// Every read and write calls it first, and so does a change of the clock, so the
    /// timers move conversations on exactly when the clock says, with no task of their
    /// own: deterministic under a frozen clock. When nothing is due it is one comparison.
    pub fn run_timers(&self) {
        let next = self.next_timer.load(Ordering::Relaxed);
        // Without any timer, not even the clock is read.
        if next == i64::MAX {
            return;
        }
        let now = self.clock.now();
        if now.unix_seconds() < next {
            return;
        }
        self.run_due_timers(now);
    }

    /// The timer pass proper, under the write lock: each conversation whose timer ran out
    /// moves on (active → inactive → closed, one committed `PutConversation` per step,
    /// dated when the timer ran out), in the order the timers ran out.
    #[cold]
    fn run_due_timers(&self, now: Timestamp) {
        let mut guard = self.write_guard();
        let mut steps: Vec<(Timestamp, Change)> = Vec::new();
        for &(_, account, service, sid) in guard.tables.due_by(now) {
            let Some(current) = guard.tables.conversation_at(account, service, sid) else { continue };
            let mut conversation = current.clone();
            // Possibly both timers ran out: each step is its own change and webhook.
            while let Some(due) = conversation.next_due().filter(|due| *due <= now) {
                conversation.state = conversation.timed_state(due);
                conversation.date_updated = due;
                steps.push((due, Change::PutConversation { account, conversation: conversation.clone() }));
            }
        }
        // One conversation's steps are in order already; a stable sort keeps them so.
        steps.sort_by_key(|(due, _)| *due);
        let changes = steps.into_iter().map(|(_, change)| change).collect();
        let timers = self.acting_for(Origin::timer());
        match timers.commit_locked(&mut guard, changes) {
            Ok(()) => guard.tables.forget_due(now),
            // Left due: the next request tries again.
            Err(error) => tracing::error!(%error, "the timers' state changes could not be committed"),
        }
        self.note_next_timer(&guard);
    }

    /// Publishes when the earliest timer runs out, for [`run_timers`](Self::run_timers).
    fn note_next_timer(&self, inner: &Inner) {
        let next = inner.tables.next_due().map_or(i64::MAX, Timestamp::unix_seconds);
        self.next_timer.store(next, Ordering::Relaxed);
    }

    /// A subscription to every change committed from now on.
    pub fn subscribe(&self) -> Subscription {
        self.feed.subscribe()
    }

    /// The queue of every change committed from now on, for the one reader that takes them
    /// a batch at a time (the inspector's recorder), and the sequence number of the last
    /// change committed before it; `None` once taken. Taken under the read lock, which no
    /// commit holds while it publishes, so no change falls between the two.
    pub fn gather_after(&self) -> Option<(Arc<Gathered>, u64)> {
        let guard = self.read_guard();
        Some((self.feed.gathered()?, guard.seq))
    }

    /// The sequence number of the last change committed.
    pub fn last_seq(&self) -> u64 {
        self.read_guard().seq
    }

    /// Every change committed from now on that fires webhooks, none missed: for the one
    /// webhook dispatcher (`None` once taken).
    pub fn webhook_tap(&self) -> Option<WebhookTap> {
        self.feed.webhook_tap()
    }

    /// Answered once the webhook dispatcher has dealt with every change committed before
    /// this call (`None` without a dispatcher). Takes the write lock for a moment, so that
    /// no commit is half published.
    pub fn webhook_barrier(&self) -> Option<tokio::sync::oneshot::Receiver<()>> {
        let _guard = self.write_guard();
        self.feed.webhook_barrier()
    }

    /// The same store, writing on behalf of `origin`: the changes committed through the
    /// returned handle carry it on the feed, where the webhooks read who acted and whether
    /// to fire.
    pub fn acting_for(&self, origin: Origin) -> Self {
        Self { origin: Some(Arc::new(origin)), ..self.clone() }
    }

    // A panic while the lock was held cannot leave the tables half-changed (a change is
    // checked before it touches anything), so a poisoned lock is still safe to use.
    fn read_guard(&self) -> RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write_guard(&self) -> RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` on the account's data under a read lock. An account never written to is
    /// read as a fresh one (its default service and nothing else) without being stored, so
    /// reads never change the state.
    fn read<R>(&self, account: AccountSid, f: impl FnOnce(&Tenant) -> R) -> R {
        self.run_timers();
        let guard = self.read_guard();
        match guard.tables.tenant(account) {
            Some(tenant) => f(tenant),
            None => f(&Tenant::new(account, self.clock.now())),
        }
    }

    /// Checks a write against the account's data and commits what `check` decides, under
    /// one write lock.
    fn write<R>(
        &self,
        account: AccountSid,
        check: impl FnOnce(&Tenant, &mut SidGenerator, Timestamp) -> Result<Decision<R>, StoreError>,
    ) -> Result<R, StoreError> {
        self.run_timers();
        let mut guard = self.write_guard();
        let decision = self.decide(&mut guard, account, check)?;
        self.commit_locked(&mut guard, decision.changes)?;
        Ok(decision.answer)
    }

    /// Runs `check` on the account's data (a fresh one for an account never written to)
    /// and, if it decides any change there, opens the account first.
    fn decide<R>(
        &self,
        inner: &mut Inner,
        account: AccountSid,
        check: impl FnOnce(&Tenant, &mut SidGenerator, Timestamp) -> Result<Decision<R>, StoreError>,
    ) -> Result<Decision<R>, StoreError> {
        let now = self.clock.now();
        let Inner { tables, sids, .. } = inner;
        match tables.tenant(account) {
            Some(tenant) => check(tenant, sids, now),
            None => {
                let mut decision = check(&Tenant::new(account, now), sids, now)?;
                // A write that fails (a 404, say) decides nothing, so it opens no account.
                if !decision.changes.is_empty() {
                    decision.changes.insert(0, Change::OpenAccount { account, at: now });
                }
                Ok(decision)
            }
        }
    }

    /// Checks a write and holds its changes back: nothing is applied until
    /// [`commit`](Self::commit). Meanwhile no lock is held, so the caller may wait (on a
    /// pre-event webhook, say) before committing or dropping the proposal.
    fn propose<R>(
        &self,
        account: AccountSid,
        check: impl FnOnce(&Tenant, &mut SidGenerator, Timestamp) -> Result<Decision<R>, StoreError>,
    ) -> Result<Proposal<R>, StoreError> {
        self.run_timers();
        let mut guard = self.write_guard();
        let seq = guard.seq;
        Ok(Proposal { seq, decision: self.decide(&mut guard, account, check)? })
    }

    /// Commits a proposal, unless the store has changed since it was checked
    /// ([`StoreError::Conflict`]: check again).
    pub fn commit<R>(&self, proposal: Proposal<R>) -> Result<R, StoreError> {
        let mut guard = self.write_guard();
        if guard.seq != proposal.seq {
            return Err(StoreError::Conflict);
        }
        self.commit_locked(&mut guard, proposal.decision.changes)?;
        Ok(proposal.decision.answer)
    }

    /// Makes `changes` durable, applies them and publishes them, in that order, under the
    /// write lock the caller holds: the state file, the tables and the feed all see
    /// commits in one order, and a commit that cannot be made durable is not applied.
    fn commit_locked(&self, inner: &mut Inner, changes: Vec<Change>) -> Result<(), StoreError> {
        if changes.is_empty() {
            return Ok(());
        }
        if let Some(file) = &mut inner.state_file
            && let Err(error) = file.append(inner.seq + 1, &changes)
        {
            tracing::error!(%error, "a change could not be made durable, so it was refused");
            return Err(StoreError::Persistence);
        }
        for change in changes {
            inner.seq += 1;
            match inner.tables.apply(&change) {
                Ok(before) => self.feed.publish(inner.seq, change, before, self.origin.as_ref()),
                // A check let through a change that does not fit: a bug, but one that left
                // the tables as they were (as replay will, for the same change).
                Err(misfit) => tracing::error!(%misfit, ?change, "a checked change did not fit the store"),
            }
        }
        self.note_next_timer(inner);
        let Inner { tables, seq, state_file, .. } = inner;
        if let Some(file) = state_file {
            file.compact_if_due(*seq, || tables.clone());
        }
        Ok(())
    }

    // --- Whole-state operations (the control plane) ---------------------------------

    /// Empties the store, or one account, and optionally restarts SID generation from
    /// `seed`. The old data is freed on another thread: a reset answers in microseconds
    /// even when it drops millions of messages.
    pub fn reset(&self, account: Option<AccountSid>, seed: Option<u64>) -> Result<(), StoreError> {
        let mut guard = self.write_guard();
        self.commit_locked(&mut guard, vec![Change::Reset { account }])?;
        if let Some(seed) = seed {
            guard.sids = SidGenerator::seeded(seed);
        }
        Ok(())
    }

    /// The state of every account, or of one, as a document.
    pub fn export(&self, account: Option<AccountSid>) -> StateDocument {
        let guard = self.read_guard();
        match account {
            Some(account) => document::export(guard.tables.tenants().filter(|(sid, _)| **sid == account)),
            None => document::export(guard.tables.tenants()),
        }
    }

    /// Adds `document` to the store (`Merge`) or makes it the whole state (`Replace`). All
    /// or nothing: on error (a fault in the document, or a state file that cannot record
    /// it) nothing has changed.
    ///
    /// The document's records are checked and converted before the lock is taken; under it
    /// are only the checks against the store, the SIDs to choose, and the commit.
    pub fn import(&self, document: StateDocument, mode: ImportMode) -> Result<ImportSummary, ImportFailure> {
        let now = self.clock.now();
        let prepared = document::prepare(document, now)?;
        let mut guard = self.write_guard();
        let Inner { tables, sids, .. } = &mut *guard;
        let (plan, mut changes) = match mode {
            ImportMode::Merge => (document::plan(prepared, tables, sids, now)?, Vec::new()),
            ImportMode::Replace => {
                (document::plan(prepared, &Tables::default(), sids, now)?, vec![Change::Reset { account: None }])
            }
        };
        let summary = plan.summary;
        changes.extend(plan.into_changes(now));
        self.commit_locked(&mut guard, changes).map_err(|_| ImportFailure::NotDurable)?;
        Ok(summary)
    }

    /// Restores the state saved at `path` (if any) and saves every later change there.
    /// Returns whether anything was restored. Nothing is written until what is saved has
    /// been read back in full, so a damaged file is left as it was.
    pub fn open_state_file(&self, path: &Path, durability: Durability) -> Result<bool, StateFileError> {
        let (mut file, saved) = StateFile::open(path, durability.sync, durability.compact_after, durability.crash_at)?;
        let restored = saved.snapshot.is_some() || !saved.records.is_empty();
        let legacy = saved.is_legacy();
        let mut guard = self.write_guard();
        let now = self.clock.now();
        let mut tables = Tables::default();
        let mut seq = 0;
        if let Some(snapshot) = saved.snapshot {
            let prepared = document::prepare(snapshot.document, now).map_err(StateFileError::Snapshot)?;
            let plan = document::plan(prepared, &tables, &mut guard.sids, now).map_err(StateFileError::Snapshot)?;
            for change in plan.into_changes(now) {
                tables.apply(&change).map_err(|misfit| {
                    StateFileError::Snapshot(ImportError { location: "snapshot".into(), problem: misfit.to_string() })
                })?;
            }
            seq = snapshot.seq;
        }
        for record in saved.records {
            for (position, logged) in record.changes.into_iter().enumerate() {
                let number = record.seq + position as u64;
                // Replay is repeatable: what the snapshot already holds is skipped.
                if number <= seq {
                    continue;
                }
                let change = persist::typed(logged, now)
                    .map_err(|error| StateFileError::Log { place: record.place.clone(), error })?;
                // Earlier versions opened an account by writing to it, without a change
                // of its own.
                if legacy
                    && let Some(account) = change.account()
                    && tables.tenant(account).is_none()
                {
                    let _ = tables.apply(&Change::OpenAccount { account, at: now });
                }
                if let Err(misfit) = tables.apply(&change) {
                    // The live store skipped the same change the same way.
                    tracing::warn!(place = %record.place, %misfit, "a logged change did not fit; skipped as it was live");
                }
                seq = number;
            }
        }
        file.rewrite(seq, &tables).map_err(StateFileError::Write)?;
        guard.tables = tables;
        guard.seq = seq;
        guard.state_file = Some(file);
        self.note_next_timer(&guard);
        Ok(restored)
    }

    /// Waits for a compaction of the state file that is under way.
    pub fn finish_compaction(&self) {
        let mut guard = self.write_guard();
        if let Some(file) = &mut guard.state_file {
            file.finish_compaction();
        }
    }

    /// How much the store holds, for metrics.
    pub fn stats(&self) -> StoreStats {
        let guard = self.read_guard();
        let mut stats = StoreStats::default();
        for (_, tenant) in guard.tables.tenants() {
            stats.accounts += 1;
            for service in tenant.services().values() {
                stats.services += 1;
                stats.conversations += service.conversations().len();
                stats.messages += service.message_count();
            }
        }
        stats
    }
}

impl Store {
    /// Every account that holds data, in SID order, with how much it holds: what the
    /// inspector lists first.
    pub fn accounts(&self) -> Vec<AccountSummary> {
        let guard = self.read_guard();
        let mut accounts: Vec<AccountSummary> = guard
            .tables
            .tenants()
            .map(|(sid, tenant)| {
                let services = tenant.services().values();
                let (mut conversations, mut messages, mut count) = (0, 0, 0);
                for service in services {
                    count += 1;
                    conversations += service.conversations().len();
                    messages += service.message_count();
                }
                AccountSummary { sid: *sid, services: count, conversations, messages }
            })
            .collect();
        accounts.sort_by_key(|account| account.sid.to_string());
        accounts
    }
}

/// One account and how much it holds (see [`Store::accounts`]).
#[derive(Clone, Debug, serde::Serialize)]
pub struct AccountSummary {
    pub sid: AccountSid,
    pub services: usize,
    pub conversations: usize,
    pub messages: usize,
}

/// Why an import was refused.
#[derive(Debug, thiserror::Error)]
pub enum ImportFailure {
    /// The document has a fault, named with its location.
    #[error(transparent)]
    Invalid(#[from] ImportError),
    /// The state file could not record it.
    #[error("the state file could not record the import")]
    NotDurable,
}

#[cfg(test)]
mod tests {
    use super::selection::{Cursor, Order, PageRequest};
    use super::*;
    use model::{Conversation, ConversationFields, MessageFields};

    fn store() -> Store {
        Store::new(Clock::fixed(Timestamp::from_unix_seconds(1_700_000_000)), SidGenerator::seeded(1))
    }

    fn account(n: u128) -> AccountSid {
        AccountSid::from_bits(n)
    }

    fn first_page(size: usize) -> PageRequest {
        PageRequest { order: Order::Asc, size, number: 0, cursor: Cursor::Start }
    }

    fn default_conversation(store: &Store, account: AccountSid) -> Conversation {
        let fields = ConversationFields::default();
        store.create_conversation(account, ServiceScope::Default, fields).unwrap().conversation
    }

    #[test]
    fn indices_increase_and_survive_deletes() {
        let store = store();
        let conversation = default_conversation(&store, account(1));
        let reference = ConversationRef::Sid(conversation.sid);
        let create =
            || store.create_message(account(1), ServiceScope::Default, &reference, MessageFields::default()).unwrap();
        let (a, b) = (create(), create());
        store.delete_message(account(1), ServiceScope::Default, &reference, b.value.sid).unwrap();
        let c = create();
        assert_eq!((a.value.index, b.value.index, c.value.index), (0, 1, 2));
        assert_eq!(a.value.author(), DEFAULT_AUTHOR);
    }

    #[test]
    fn tenants_do_not_see_each_other() {
        let store = store();
        let conversation = default_conversation(&store, account(1));
        let reference = ConversationRef::Sid(conversation.sid);
        assert!(store.fetch_conversation(account(1), ServiceScope::Default, &reference).is_ok());
        assert_eq!(
            store.fetch_conversation(account(2), ServiceScope::Default, &reference).unwrap_err(),
            StoreError::ConversationNotFound
        );
        assert_eq!(store.list_services(account(2), &first_page(50)).items.len(), 1);
    }

    #[test]
    fn unique_names_are_per_service_and_freed_on_delete() {
        let store = store();
        let named = ConversationFields { unique_name: Some("support".into()), ..ConversationFields::default() };
        let first = store.create_conversation(account(1), ServiceScope::Default, named.clone()).unwrap();
        assert_eq!(
            store.create_conversation(account(1), ServiceScope::Default, named.clone()).unwrap_err(),
            StoreError::UniqueNameTaken
        );
        let other = store.create_service(account(1), "other".into()).unwrap();
        assert!(store.create_conversation(account(1), ServiceScope::Explicit(other.sid), named.clone()).is_ok());
        let by_name = ConversationRef::UniqueName("support".into());
        assert_eq!(
            store.fetch_conversation(account(1), ServiceScope::Default, &by_name).unwrap().conversation.sid,
            first.conversation.sid
        );
        store.delete_conversation(account(1), ServiceScope::Default, &by_name).unwrap();
        assert!(store.create_conversation(account(1), ServiceScope::Default, named).is_ok());
    }

    #[test]
    fn default_service_is_stable_and_undeletable() {
        let store = store();
        let sid = default_service_sid(account(9));
        assert_eq!(store.fetch_service(account(9), sid).unwrap().sid, sid);
        assert_eq!(store.delete_service(account(9), sid).unwrap_err(), StoreError::DefaultServiceUndeletable);
        assert_ne!(default_service_sid(account(9)), default_service_sid(account(10)));
    }
}
