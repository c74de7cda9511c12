//! The in-memory store: every account's services, conversations and messages.
//!
//! The account is the outermost key, so one tenant can never reach another's data: every
//! method takes the [`AccountSid`] the request authenticated as. Each method does its whole
//! read-modify-write under one lock guard and returns owned values, so no caller can hold
//! the lock, and no lock is ever held across an `.await`.

mod conversations;
pub mod document;
mod media;
mod message_log;
mod messages;
pub mod model;
mod participants;
pub mod persist;
mod sequenced;
mod services;
mod sid_table;

use std::path::Path;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::pagination::{PageRequest, Selection, select};
use crate::sid::{
    AccountSid, ChannelMessageSid, ChatServiceSid, ConversationSid, MediaSid, MessageSid, MessagingServiceSid,
    ParticipantSid, ReceiptSid, RoleSid, SidGenerator, derive_bits,
};
use crate::time::{Clock, Timestamp};
use document::{ConversationDocument, ImportError, ImportSummary, StateDocument};
pub use media::Upload;
use message_log::MessageLog;
pub use messages::{ReceiptUpdate, SMS_BODY_MAX_CHARS};
use model::{
    ChannelType, Conversation, ConversationFields, ConversationFilter, ConversationSnapshot, DeliveryStatus, Media,
    Message, MessageExtras, MessageFields, MessagingBinding, Participant, ParticipantFields, Receipt, Service,
    StoredMessage,
};
pub use participants::{ParticipantRef, default_participant_role};
use persist::{Change, StateFile};
use sequenced::Sequenced;
use sid_table::SidTable;

/// The store's hash maps. Their keys are mostly random 128-bit SIDs, for which SipHash's
/// resistance to crafted keys buys nothing; foldhash (hashbrown's own default) hashes them
/// several times faster, and hashing was 5% of a fetch.
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
    /// The body is longer than SMS or WhatsApp participants can be sent.
    #[error("body too long for SMS")]
    BodyTooLongForSms,
    /// A receipt cannot move to that status from where it is.
    #[error("receipt status cannot go from {0} to {1}")]
    ReceiptTransition(&'static str, &'static str),
    /// The change could not be saved to the state file.
    #[error("the state file could not be written")]
    Persistence,
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
    Read(#[from] persist::PersistError),
    #[error("the snapshot does not describe a valid state: {0}")]
    Snapshot(ImportError),
    #[error("change {line} of the log cannot be applied: {error}")]
    Log { line: usize, error: ImportError },
    #[error("cannot write the state file: {0}")]
    Write(std::io::Error),
}

/// Whether an import adds to the store or replaces it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImportMode {
    Merge,
    Replace,
}

/// Appends `change` to the state file, compacting it when the log has grown as large as
/// the snapshot.
fn save(file: &mut StateFile, tenants: &HashMap<AccountSid, Tenant>, change: &Change) -> Result<(), StoreError> {
    let saved = file
        .append(change)
        .and_then(|()| if file.wants_compaction() { file.compact(&document::export(tenants.iter())) } else { Ok(()) });
    saved.map_err(|error| {
        tracing::error!(%error, "the state file could not be written");
        StoreError::Persistence
    })
}

fn put_conversation(account: AccountSid, snapshot: &ConversationSnapshot) -> Change {
    let conversation = &snapshot.conversation;
    Change::PutConversation {
        account: account.to_string(),
        service: conversation.chat_service_sid.to_string(),
        // The conversation's own fields only: replay leaves its messages alone.
        conversation: ConversationDocument { next_index: None, ..document::conversation_document(conversation, 0) },
    }
}

fn put_message(account: AccountSid, located: &Located<StoredMessage>) -> Change {
    Change::PutMessage {
        account: account.to_string(),
        service: located.chat_service_sid.to_string(),
        conversation: located.conversation_sid.to_string(),
        message: document::message_document(&located.value),
    }
}

/// Frees a large structure on a short-lived thread, so that the lock holder (and the
/// request waiting on it) does not pay for millions of deallocations.
fn drop_elsewhere<T: Send + 'static>(value: T) {
    if std::thread::Builder::new().name("store-drop".into()).spawn(move || drop(value)).is_err() {
        // No thread to be had: free it here, slower but still correct.
    }
}

/// Counts of what the store holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StoreStats {
    pub accounts: usize,
    pub services: usize,
    pub conversations: usize,
    pub messages: usize,
}

/// A cheap handle on the shared store.
#[derive(Clone, Debug)]
pub struct Store {
    /// A `std` lock rather than `tokio`'s: every critical section is short and synchronous,
    /// and a blocking lock cannot be held across an `.await` by construction.
    inner: Arc<RwLock<Inner>>,
    clock: Clock,
}

#[derive(Debug)]
struct Inner {
    tenants: HashMap<AccountSid, Tenant>,
    sids: SidGenerator,
    /// Where changes are saved, with `--state-file`.
    state_file: Option<StateFile>,
}

/// One account's data.
#[derive(Debug)]
struct Tenant {
    default_service: ChatServiceSid,
    services: Sequenced<ChatServiceSid, ServiceData>,
}

#[derive(Debug)]
struct ServiceData {
    service: Service,
    conversations: Sequenced<ConversationSid, ConversationData>,
    /// Every message of the service's conversations, by SID (each conversation keeps its
    /// own in index order). A fetch is one probe of this table, which keeps keys beside
    /// values, without finding the conversation first: in a store of a million messages
    /// every page a lookup touches is a cache and TLB miss, and a fetch now touches two
    /// (the slot, then the message with its text) where it touched five. Message SIDs are
    /// therefore unique within a service, as Twilio's are everywhere.
    messages: SidTable<MessageSid, StoredMessage>,
    unique_names: HashMap<Arc<str>, ConversationSid>,
    /// Files uploaded to the Media Content Service for this service.
    media: HashMap<MediaSid, Media>,
}

#[derive(Debug)]
struct ConversationData {
    conversation: Conversation,
    messages: MessageLog,
    participants: Sequenced<ParticipantSid, Participant>,
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

/// Draws SIDs until one is not taken (a collision of 128 random bits is astronomically
/// unlikely, but with a fixed seed two runs could meet the same sequence).
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
        let inner = Inner { tenants: HashMap::default(), sids, state_file: None };
        Self { inner: Arc::new(RwLock::new(inner)), clock }
    }

    /// A poisoned lock only means a panic elsewhere; the data is still consistent because
    /// every write validates before it mutates, so keep serving.
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
        let guard = self.read_guard();
        match guard.tenants.get(&account) {
            Some(tenant) => f(tenant),
            None => f(&Tenant::new(account, self.clock.now())),
        }
    }

    /// Runs `f` on the account's data under the write lock, with a SID source and the time.
    /// When the state is kept in a file, the change `f` made (described by `change`) is
    /// appended to it before the lock is released, so the file sees changes in the order
    /// the store made them, and before the client hears of them.
    fn write<R>(
        &self,
        account: AccountSid,
        f: impl FnOnce(&mut Tenant, &mut SidGenerator, Timestamp) -> Result<R, StoreError>,
        change: impl FnOnce(&R) -> Change,
    ) -> Result<R, StoreError> {
        let mut guard = self.write_guard();
        let now = self.clock.now();
        let Inner { tenants, sids, state_file } = &mut *guard;
        let tenant = tenants.entry(account).or_insert_with(|| Tenant::new(account, now));
        let result = f(tenant, sids, now)?;
        if let Some(file) = state_file {
            save(file, tenants, &change(&result))?;
        }
        Ok(result)
    }

    // --- Whole-state operations (the control plane) ---------------------------------

    /// Empties the store, or one account, and optionally restarts SID generation from
    /// `seed`. The old data is freed on another thread: a reset answers in microseconds
    /// even when it drops millions of messages.
    pub fn reset(&self, account: Option<AccountSid>, seed: Option<u64>) -> Result<(), StoreError> {
        let discarded = {
            let mut guard = self.write_guard();
            if let Some(seed) = seed {
                guard.sids = SidGenerator::seeded(seed);
            }
            let discarded = match account {
                Some(account) => guard.tenants.remove(&account).map(|tenant| [(account, tenant)].into_iter().collect()),
                None => Some(std::mem::take(&mut guard.tenants)),
            };
            let Inner { tenants, state_file, .. } = &mut *guard;
            if let Some(file) = state_file {
                save(file, tenants, &Change::Reset { account: account.map(|sid| sid.to_string()) })?;
            }
            discarded
        };
        if let Some(discarded) = discarded.filter(|tenants| !tenants.is_empty()) {
            drop_elsewhere(discarded);
        }
        Ok(())
    }

    /// The state of every account, or of one, as a document.
    pub fn export(&self, account: Option<AccountSid>) -> StateDocument {
        let guard = self.read_guard();
        match account {
            Some(account) => document::export(guard.tenants.get_key_value(&account).into_iter()),
            None => document::export(guard.tenants.iter()),
        }
    }

    /// Adds `document` to the store (`Merge`) or makes it the whole state (`Replace`). All
    /// or nothing: on error nothing has changed.
    pub fn import(&self, document: StateDocument, mode: ImportMode) -> Result<ImportSummary, ImportError> {
        let mut guard = self.write_guard();
        let now = self.clock.now();
        let Inner { tenants, sids, state_file } = &mut *guard;
        let summary = match mode {
            ImportMode::Merge => {
                let plan = document::plan(document, tenants, sids, now)?;
                let summary = plan.summary;
                document::apply(plan, tenants, now);
                summary
            }
            ImportMode::Replace => {
                let plan = document::plan(document, &HashMap::default(), sids, now)?;
                let summary = plan.summary;
                let mut replacement = HashMap::default();
                document::apply(plan, &mut replacement, now);
                drop_elsewhere(std::mem::replace(tenants, replacement));
                summary
            }
        };
        // An import is saved as a new snapshot rather than as logged changes.
        if let Some(file) = state_file
            && let Err(error) = file.compact(&document::export(tenants.iter()))
        {
            tracing::error!(%error, "the state file could not record an import");
        }
        Ok(summary)
    }

    /// Restores the state saved at `path` (if any) and saves every later change there.
    /// Returns whether anything was restored. Nothing is written until what is saved has
    /// been read back in full, so a corrupt file is left as it was.
    pub fn open_state_file(&self, path: &Path) -> Result<bool, StateFileError> {
        let saved = StateFile::read(path)?;
        let restored = saved.snapshot.is_some() || !saved.changes.is_empty();
        let mut guard = self.write_guard();
        let now = self.clock.now();
        let Inner { tenants, sids, state_file } = &mut *guard;
        let mut recovered = HashMap::default();
        if let Some(snapshot) = saved.snapshot {
            let plan = document::plan(snapshot, &HashMap::default(), sids, now).map_err(StateFileError::Snapshot)?;
            document::apply(plan, &mut recovered, now);
        }
        for (number, change) in saved.changes.into_iter().enumerate() {
            persist::replay(&mut recovered, change, now)
                .map_err(|error| StateFileError::Log { line: number + 1, error })?;
        }
        let file = StateFile::create(path, &document::export(recovered.iter())).map_err(StateFileError::Write)?;
        *tenants = recovered;
        *state_file = Some(file);
        Ok(restored)
    }

    /// How much the store holds, for metrics.
    pub fn stats(&self) -> StoreStats {
        let guard = self.read_guard();
        let mut stats = StoreStats { accounts: guard.tenants.len(), ..StoreStats::default() };
        for tenant in guard.tenants.values() {
            for service in tenant.services.values() {
                stats.services += 1;
                stats.conversations += service.conversations.len();
                stats.messages += service.messages.len();
            }
        }
        stats
    }
}

impl Tenant {
    fn new(account: AccountSid, now: Timestamp) -> Self {
        let default_service = default_service_sid(account);
        let service = Service {
            sid: default_service,
            friendly_name: DEFAULT_SERVICE_NAME.into(),
            date_created: now,
            date_updated: now,
        };
        let mut services = Sequenced::default();
        services.push(default_service, ServiceData::new(service));
        Self { default_service, services }
    }

    fn resolve(&self, scope: ServiceScope) -> ChatServiceSid {
        match scope {
            ServiceScope::Default => self.default_service,
            ServiceScope::Explicit(sid) => sid,
        }
    }

    fn service(&self, scope: ServiceScope) -> Result<&ServiceData, StoreError> {
        self.services.get(&self.resolve(scope)).ok_or(StoreError::NotFound)
    }

    fn service_mut(&mut self, scope: ServiceScope) -> Result<&mut ServiceData, StoreError> {
        let sid = self.resolve(scope);
        self.services.get_mut(&sid).ok_or(StoreError::NotFound)
    }
}

impl ServiceData {
    fn new(service: Service) -> Self {
        Self {
            service,
            conversations: Sequenced::default(),
            messages: SidTable::default(),
            unique_names: HashMap::default(),
            media: HashMap::default(),
        }
    }

    /// The message `sid` of the conversation `reference` names.
    fn message(&self, reference: &ConversationRef, sid: MessageSid) -> Result<&StoredMessage, StoreError> {
        let conversation = self.conversation_sid(reference).ok_or(StoreError::ConversationNotFound)?;
        match self.messages.get(&sid) {
            Some(message) if message.conversation_sid == conversation => Ok(message),
            // A message is only in the table while its conversation exists, so only a miss
            // needs to ask which of the two is missing.
            _ if self.conversations.contains(&conversation) => Err(StoreError::NotFound),
            _ => Err(StoreError::ConversationNotFound),
        }
    }

    /// Adds a message to its conversation, or replaces the stored version of it.
    fn put_message(&mut self, message: StoredMessage) -> Result<(), StoreError> {
        let conversation =
            self.conversations.get_mut(&message.conversation_sid).ok_or(StoreError::ConversationNotFound)?;
        conversation.messages.put(message.clone());
        self.messages.insert(message.sid, message);
        Ok(())
    }

    /// Removes a message (of whichever conversation holds it).
    fn remove_message(&mut self, sid: MessageSid) -> Option<StoredMessage> {
        let message = self.messages.remove(&sid)?;
        if let Some(conversation) = self.conversations.get_mut(&message.conversation_sid) {
            conversation.messages.remove(message.index);
        }
        Some(message)
    }

    /// Removes a conversation with its messages and unique name.
    fn remove_conversation(&mut self, sid: ConversationSid) -> Option<ConversationData> {
        let removed = self.conversations.remove(&sid)?;
        for message in removed.messages.ordered().values() {
            self.messages.remove(&message.sid);
        }
        if let Some(name) = &removed.conversation.unique_name {
            self.unique_names.remove(name);
        }
        Some(removed)
    }

    /// Where a message of this service is, for a response.
    fn locate<T>(&self, conversation_sid: ConversationSid, value: T) -> Located<T> {
        Located { chat_service_sid: self.service.sid, conversation_sid, value }
    }

    fn conversation_sid(&self, reference: &ConversationRef) -> Option<ConversationSid> {
        match reference {
            ConversationRef::Sid(sid) => Some(*sid),
            ConversationRef::UniqueName(name) => self.unique_names.get(name.as_str()).copied(),
        }
    }

    fn conversation(&self, reference: &ConversationRef) -> Result<&ConversationData, StoreError> {
        let sid = self.conversation_sid(reference);
        sid.and_then(|sid| self.conversations.get(&sid)).ok_or(StoreError::ConversationNotFound)
    }

    fn conversation_mut(&mut self, reference: &ConversationRef) -> Result<&mut ConversationData, StoreError> {
        let sid = self.conversation_sid(reference);
        sid.and_then(|sid| self.conversations.get_mut(&sid)).ok_or(StoreError::ConversationNotFound)
    }
}

impl ConversationData {
    fn new(conversation: Conversation) -> Self {
        Self { conversation, messages: MessageLog::default(), participants: Sequenced::default() }
    }

    /// Whether any participant is reached over SMS or WhatsApp: such conversations limit
    /// bodies to what those channels carry, and their messages get receipts.
    fn has_non_chat_participants(&self) -> bool {
        self.participants.values().any(Participant::is_non_chat)
    }

    /// The participant who wrote as `author`, if any.
    fn author_participant(&self, author: &str) -> Option<ParticipantSid> {
        self.participants.values().find(|p| p.is_author(author)).map(|p| p.sid)
    }

    fn snapshot(&self) -> ConversationSnapshot {
        ConversationSnapshot { conversation: self.conversation.clone(), message_count: self.messages.len() }
    }

    fn locate<T>(&self, value: T) -> Located<T> {
        Located { chat_service_sid: self.conversation.chat_service_sid, conversation_sid: self.conversation.sid, value }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pagination::{Cursor, Order};

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
