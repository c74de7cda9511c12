//! The store's tables and their indexes, and [`Tables::apply`], the one function that
//! changes them.
//!
//! Every index (unique names, the per-service message table, next indices, media
//! attachments) is kept here and only here: the operations, the import and the state
//! file's replay read the tables through `&` references and describe what they want done
//! as [`Change`]s, so no other file can leave an index out of step with its table.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use super::HashMap;
use super::bindings::Binding;
use super::change::{Change, Prior};
use super::credentials::Credential;
use super::invites::Invite;
use super::message_log::MessageLog;
use super::model::{Conversation, Media, Participant, Service, StoredMessage};
use super::notifications::NotificationConfiguration;
use super::roles::{Role, RoleType, default_roles};
use super::sequenced::Sequenced;
use super::sid_table::SidTable;
use super::users::User;
use super::webhook_model::{
    AccountConfiguration, AddressConfiguration, ConversationWebhook, MAX_CONVERSATION_WEBHOOKS, ServiceConfiguration,
    WebhookSettings,
};
use super::{ConversationRef, DEFAULT_SERVICE_NAME, Located, ServiceScope, StoreError, default_service_sid};
use crate::sid::CredentialSid;
use crate::sid::RoleSid;
use crate::sid::UserSid;
use crate::sid::{
    AccountSid, AddressConfigurationSid, ChatServiceSid, ConversationSid, MediaSid, MessageSid, ParticipantSid,
    WebhookSid,
};
use crate::sid::{BindingSid, InviteSid};
use crate::time::Timestamp;

/// Every account's data. `Clone` shares the records (they are reference-counted) and
/// copies only the indexes: what the state file's compaction snapshots without holding
/// the lock while it writes.
#[derive(Clone, Debug, Default)]
pub(super) struct Tables {
    tenants: HashMap<AccountSid, Tenant>,
    /// When a conversation's timer runs out next, earliest first: `PutConversation` adds
    /// an entry, the timer pass (`Store::run_timers`) takes the ones it has dealt with.
    /// An entry a later change made stale (a new timer, a delete) is left in place and
    /// found stale when it is due, which is cheaper than keeping the set exact.
    due: BTreeSet<TimerDue>,
}

/// A conversation's timer, by when it runs out.
pub(super) type TimerDue = (Timestamp, AccountSid, ChatServiceSid, ConversationSid);

/// One account's data.
#[derive(Clone, Debug)]
pub(super) struct Tenant {
    /// `configuration.default_chat_service_sid`, or the service derived from the account
    /// SID when none was set: what `/v1/Conversations` resolves to.
    default_service: ChatServiceSid,
    services: Sequenced<ChatServiceSid, ServiceData>,
    configuration: AccountConfiguration,
    webhooks: WebhookSettings,
    addresses: Sequenced<AddressConfigurationSid, AddressConfiguration>,
    /// Its push credentials, in creation order.
    credentials: Sequenced<CredentialSid, Credential>,
}

/// A service's conversations, with the indexes that find them and their messages.
#[derive(Clone, Debug)]
pub(super) struct ServiceData {
    service: Service,
    conversations: Sequenced<ConversationSid, ConversationData>,
    /// Every message of the service by SID: a fetch finds its message in one probe,
    /// without finding the conversation first. Message SIDs are unique per service, as
    /// Twilio's are.
    messages: SidTable<MessageSid, StoredMessage>,
    unique_names: HashMap<Arc<str>, ConversationSid>,
    media: HashMap<MediaSid, Media>,
    configuration: ServiceConfiguration,
    webhooks: WebhookSettings,
    /// Its roles, the three defaults (`roles::default_roles`) first.
    roles: Sequenced<RoleSid, Role>,
    users: Sequenced<UserSid, User>,
    /// Each user's identity, unique in the service: a fetch by identity is one probe.
    user_identities: HashMap<Arc<str>, UserSid>,
    /// Its push bindings, in creation order.
    bindings: Sequenced<BindingSid, Binding>,
    /// `/v1/Services/{IS}/Configuration/Notifications`.
    notifications: NotificationConfiguration,
    chat_settings: super::ChatServiceSettings,
}

/// A conversation with its messages (by index) and participants.
#[derive(Clone, Debug)]
pub(super) struct ConversationData {
    conversation: Conversation,
    messages: MessageLog,
    participants: Sequenced<ParticipantSid, Participant>,
    /// Its conversation-scoped webhooks, in creation order: deleted with it.
    webhooks: Sequenced<WebhookSid, ConversationWebhook>,
    /// Chat v2's invites to it, in creation order: deleted with it.
    invites: Sequenced<InviteSid, Invite>,
}

/// Why a change could not be applied: the change does not fit the state (a replayed log
/// that does not belong to its snapshot, or a bug in a check).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Misfit(String);

fn misfit(problem: impl Into<String>) -> Misfit {
    Misfit(problem.into())
}

impl Tables {
    /// When the earliest timer runs out.
    pub(super) fn next_due(&self) -> Option<Timestamp> {
        self.due.first().map(|(at, ..)| *at)
    }

    /// The timers that ran out by `now`, earliest first; possibly stale (see `due`).
    pub(super) fn due_by(&self, now: Timestamp) -> impl Iterator<Item = &TimerDue> {
        self.due.iter().take_while(move |(at, ..)| *at <= now)
    }

    /// Drops the timers that ran out by `now`, once the transitions they caused are
    /// committed (each of which re-entered its conversation's next timer, if any).
    pub(super) fn forget_due(&mut self, now: Timestamp) {
        while self.due.first().is_some_and(|(at, ..)| *at <= now) {
            self.due.pop_first();
        }
    }

    /// A conversation by its full address, if it is there.
    pub(super) fn conversation_at(
        &self,
        account: AccountSid,
        service: ChatServiceSid,
        conversation: ConversationSid,
    ) -> Option<&Conversation> {
        let data = self.tenants.get(&account)?.services.get(&service)?.conversations.get(&conversation)?;
        Some(&data.conversation)
    }

    /// The account's data, if it was ever written to.
    pub(super) fn tenant(&self, account: AccountSid) -> Option<&Tenant> {
        self.tenants.get(&account)
    }

    /// Every account, in no particular order.
    pub(super) fn tenants(&self) -> impl Iterator<Item = (&AccountSid, &Tenant)> {
        self.tenants.iter()
    }

    /// How many services, conversations, messages, users, roles and bindings there are:
    /// what a snapshot's size is measured in (compaction waits for as many logged changes),
    /// so a store of many users is not compacted after every few writes.
    pub(super) fn record_count(&self) -> usize {
        let services = self.tenants.values().flat_map(|tenant| tenant.services.values());
        services
            .map(|service| {
                1 + service.conversations.len()
                    + service.messages.len()
                    + service.users.len()
                    + service.roles.len()
                    + service.bindings.len()
            })
            .sum()
    }

    /// Applies one change. Each change is checked against the state before anything is
    /// touched, so a change that does not fit leaves the tables as they were.
    pub(super) fn apply(&mut self, change: &Change) -> Result<Prior, Misfit> {
        match change {
            Change::OpenAccount { account, at } => {
                self.tenants.entry(*account).or_insert_with(|| Tenant::new(*account, *at));
                Ok(Prior::Nothing)
            }
            Change::Reset { account: None } => {
                self.due.clear();
                drop_elsewhere(std::mem::take(&mut self.tenants));
                Ok(Prior::Nothing)
            }
            Change::Reset { account: Some(account) } => {
                if let Some(tenant) = self.tenants.remove(account) {
                    drop_elsewhere(tenant);
                }
                Ok(Prior::Nothing)
            }
            Change::PutService { account, service } => {
                let tenant = self.tenant_mut(*account)?;
                match tenant.services.get_mut(&service.sid) {
                    Some(data) => {
                        data.redate_default_roles(service.date_created);
                        Ok(Prior::Service(std::mem::replace(&mut data.service, service.clone())))
                    }
                    None => {
                        tenant.services.push(service.sid, ServiceData::new(service.clone()));
                        Ok(Prior::Nothing)
                    }
                }
            }
            Change::DeleteService { account, service } => {
                let tenant = self.tenant_mut(*account)?;
                if *service == tenant.default_service {
                    return Err(misfit(format!("{service} is the default service")));
                }
                let removed = tenant.services.remove(service).ok_or_else(|| misfit(format!("no service {service}")))?;
                // Dropped in place, as before the one write path: a thread per delete costs
                // every small delete more than it saves the rare large one.
                Ok(Prior::Service(removed.service))
            }
            Change::PutConversation { account, conversation } => {
                let service = self.service_mut(*account, conversation.chat_service_sid)?;
                let sid = conversation.sid;
                if let Some(name) = &conversation.unique_name
                    && service.unique_names.get(name).is_some_and(|owner| *owner != sid)
                {
                    return Err(misfit(format!("unique name `{name}` is taken")));
                }
                let prior = match service.conversations.get_mut(&sid) {
                    Some(data) => {
                        let old = std::mem::replace(&mut data.conversation, conversation.clone());
                        if let Some(old_name) = &old.unique_name {
                            service.unique_names.remove(old_name);
                        }
                        Prior::Conversation(old)
                    }
                    None => {
                        service.conversations.push(sid, ConversationData::new(conversation.clone()));
                        Prior::Nothing
                    }
                };
                if let Some(name) = &conversation.unique_name {
                    service.unique_names.insert(Arc::clone(name), sid);
                }
                if let Some(at) = conversation.next_due() {
                    self.due.insert((at, *account, conversation.chat_service_sid, sid));
                }
                Ok(prior)
            }
            Change::DeleteConversation { account, service, conversation } => {
                let service = self.service_mut(*account, *service)?;
                let removed = service
                    .conversations
                    .remove(conversation)
                    .ok_or_else(|| misfit(format!("no conversation {conversation}")))?;
                for message in removed.messages.ordered().values() {
                    service.messages.remove(&message.sid);
                    if let Some(media) = message.media() {
                        service.media.remove(&media.sid);
                    }
                }
                if let Some(name) = &removed.conversation.unique_name {
                    service.unique_names.remove(name);
                }
                // Dropped in place (a thread per delete costs a small one more than it saves).
                Ok(Prior::Conversation(removed.conversation))
            }
            Change::PutMessage { account, service, message } => {
                let service = self.service_mut(*account, *service)?;
                let conversation = service
                    .conversations
                    .get_mut(&message.conversation_sid)
                    .ok_or_else(|| misfit(format!("no conversation {}", message.conversation_sid)))?;
                let prior = match service.messages.get(&message.sid) {
                    Some(stored)
                        if stored.conversation_sid != message.conversation_sid || stored.index != message.index =>
                    {
                        return Err(misfit(format!("{} is stored elsewhere", message.sid)));
                    }
                    Some(stored) => Prior::Message(stored.clone()),
                    None if message.index < conversation.messages.next_index() => {
                        return Err(misfit(format!("index {} was already used", message.index)));
                    }
                    None => Prior::Nothing,
                };
                conversation.messages.put(message.clone());
                service.messages.insert(message.sid, message.clone());
                if let Some(upload) = message.media().and_then(|media| service.media.get_mut(&media.sid)) {
                    upload.attached_to = Some((message.conversation_sid, message.sid));
                }
                Ok(prior)
            }
            Change::DeleteMessage { account, service, conversation, message } => {
                let service = self.service_mut(*account, *service)?;
                match service.messages.get(message) {
                    Some(stored) if stored.conversation_sid == *conversation => {}
                    _ => return Err(misfit(format!("no message {message} in {conversation}"))),
                }
                let removed =
                    service.messages.remove(message).ok_or_else(|| misfit(format!("no message {message}")))?;
                if let Some(data) = service.conversations.get_mut(conversation) {
                    data.messages.remove(removed.index);
                }
                if let Some(media) = removed.media() {
                    service.media.remove(&media.sid);
                }
                Ok(Prior::Message(removed))
            }
            Change::ReserveIndices { account, service, conversation, next_index } => {
                self.conversation_mut(*account, *service, *conversation)?.messages.reserve_until(*next_index);
                Ok(Prior::Nothing)
            }
            Change::PutParticipant { account, service, conversation, participant } => {
                let participants = &mut self.conversation_mut(*account, *service, *conversation)?.participants;
                match participants.get_mut(&participant.sid) {
                    Some(slot) => Ok(Prior::Participant(std::mem::replace(slot, participant.clone()))),
                    None => {
                        participants.push(participant.sid, participant.clone());
                        Ok(Prior::Nothing)
                    }
                }
            }
            Change::DeleteParticipant { account, service, conversation, participant } => {
                let participants = &mut self.conversation_mut(*account, *service, *conversation)?.participants;
                let removed =
                    participants.remove(participant).ok_or_else(|| misfit(format!("no participant {participant}")))?;
                Ok(Prior::Participant(removed))
            }
            Change::PutMedia { account, service, media } => {
                let service = self.service_mut(*account, *service)?;
                Ok(service.media.insert(media.sid, media.clone()).map_or(Prior::Nothing, Prior::Media))
            }
            Change::DeleteMedia { account, service, media } => {
                let service = self.service_mut(*account, *service)?;
                let removed = service.media.remove(media).ok_or_else(|| misfit(format!("no media {media}")))?;
                Ok(Prior::Media(removed))
            }
            Change::PutAccountWebhooks { account, settings } => {
                self.tenant_mut(*account)?.webhooks = settings.clone();
                Ok(Prior::Nothing)
            }
            Change::PutServiceWebhooks { account, service, settings } => {
                self.service_mut(*account, *service)?.webhooks = settings.clone();
                Ok(Prior::Nothing)
            }
            Change::PutAccountConfiguration { account, configuration } => {
                let tenant = self.tenant_mut(*account)?;
                let default_service = configuration.default_chat_service_sid.unwrap_or(default_service_sid(*account));
                if !tenant.services.contains(&default_service) {
                    return Err(misfit(format!("no service {default_service} to be the default")));
                }
                tenant.default_service = default_service;
                tenant.configuration = configuration.clone();
                Ok(Prior::Nothing)
            }
            Change::PutServiceConfiguration { account, service, configuration } => {
                self.service_mut(*account, *service)?.configuration = configuration.clone();
                Ok(Prior::Nothing)
            }
            Change::PutConversationWebhook { account, service, webhook } => {
                let webhooks = &mut self.conversation_mut(*account, *service, webhook.conversation_sid)?.webhooks;
                if !webhooks.contains(&webhook.sid) && webhooks.len() >= MAX_CONVERSATION_WEBHOOKS {
                    return Err(misfit(format!(
                        "{} has {MAX_CONVERSATION_WEBHOOKS} webhooks",
                        webhook.conversation_sid
                    )));
                }
                match webhooks.get_mut(&webhook.sid) {
                    Some(slot) => Ok(Prior::ConversationWebhook(std::mem::replace(slot, webhook.clone()))),
                    None => {
                        webhooks.push(webhook.sid, webhook.clone());
                        Ok(Prior::Nothing)
                    }
                }
            }
            Change::DeleteConversationWebhook { account, service, conversation, webhook } => {
                let webhooks = &mut self.conversation_mut(*account, *service, *conversation)?.webhooks;
                let removed = webhooks.remove(webhook).ok_or_else(|| misfit(format!("no webhook {webhook}")))?;
                Ok(Prior::ConversationWebhook(removed))
            }
            Change::PutAddressConfiguration { account, address } => {
                let addresses = &mut self.tenant_mut(*account)?.addresses;
                let duplicate = addresses.values().any(|other| {
                    other.sid != address.sid && other.kind == address.kind && other.address == address.address
                });
                if duplicate {
                    return Err(misfit(format!(
                        "{} already has a {} configuration",
                        address.address,
                        address.kind.as_str()
                    )));
                }
                match addresses.get_mut(&address.sid) {
                    Some(slot) => Ok(Prior::AddressConfiguration(std::mem::replace(slot, address.clone()))),
                    None => {
                        addresses.push(address.sid, address.clone());
                        Ok(Prior::Nothing)
                    }
                }
            }
            Change::PutRole { account, service, role } => {
                let roles = &mut self.service_mut(*account, *service)?.roles;
                match roles.get_mut(&role.sid) {
                    Some(slot) => Ok(Prior::Role(std::mem::replace(slot, role.clone()))),
                    None => {
                        roles.push(role.sid, role.clone());
                        Ok(Prior::Nothing)
                    }
                }
            }
            Change::DeleteRole { account, service, role } => {
                let roles = &mut self.service_mut(*account, *service)?.roles;
                Ok(Prior::Role(roles.remove(role).ok_or_else(|| misfit(format!("no role {role}")))?))
            }
            Change::PutCredential { account, credential } => {
                let credentials = &mut self.tenant_mut(*account)?.credentials;
                match credentials.get_mut(&credential.sid) {
                    Some(slot) => Ok(Prior::Credential(std::mem::replace(slot, credential.clone()))),
                    None => {
                        credentials.push(credential.sid, credential.clone());
                        Ok(Prior::Nothing)
                    }
                }
            }
            Change::DeleteCredential { account, credential } => {
                let credentials = &mut self.tenant_mut(*account)?.credentials;
                let removed =
                    credentials.remove(credential).ok_or_else(|| misfit(format!("no credential {credential}")))?;
                Ok(Prior::Credential(removed))
            }
            Change::DeleteAddressConfiguration { account, address } => {
                let addresses = &mut self.tenant_mut(*account)?.addresses;
                let removed = addresses.remove(address).ok_or_else(|| misfit(format!("no address {address}")))?;
                Ok(Prior::AddressConfiguration(removed))
            }
            Change::PutUser { account, user } => {
                let service = self.service_mut(*account, user.chat_service_sid)?;
                if service.user_identities.get(&user.identity).is_some_and(|owner| *owner != user.sid) {
                    return Err(misfit(format!("identity `{}` has a user already", user.identity)));
                }
                let prior = match service.users.get_mut(&user.sid) {
                    Some(slot) => {
                        let old = std::mem::replace(slot, user.clone());
                        service.user_identities.remove(&old.identity);
                        Prior::User(old)
                    }
                    None => {
                        service.users.push(user.sid, user.clone());
                        Prior::Nothing
                    }
                };
                service.user_identities.insert(Arc::clone(&user.identity), user.sid);
                Ok(prior)
            }
            Change::DeleteUser { account, service, user } => {
                let service = self.service_mut(*account, *service)?;
                let removed = service.users.remove(user).ok_or_else(|| misfit(format!("no user {user}")))?;
                service.user_identities.remove(&removed.identity);
                Ok(Prior::User(removed))
            }
            Change::PutBinding { account, binding } => {
                let bindings = &mut self.service_mut(*account, binding.chat_service_sid)?.bindings;
                match bindings.get_mut(&binding.sid) {
                    Some(slot) => Ok(Prior::Binding(std::mem::replace(slot, binding.clone()))),
                    None => {
                        bindings.push(binding.sid, binding.clone());
                        Ok(Prior::Nothing)
                    }
                }
            }
            Change::DeleteBinding { account, service, binding } => {
                let bindings = &mut self.service_mut(*account, *service)?.bindings;
                Ok(Prior::Binding(bindings.remove(binding).ok_or_else(|| misfit(format!("no binding {binding}")))?))
            }
            Change::PutChatServiceSettings { account, service, settings } => {
                self.service_mut(*account, *service)?.chat_settings = settings.clone();
                Ok(Prior::Nothing)
            }
            Change::PutServiceNotifications { account, service, notifications } => {
                self.service_mut(*account, *service)?.notifications = notifications.clone();
                Ok(Prior::Nothing)
            }
            Change::PutInvite { account, service, invite } => {
                let invites = &mut self.conversation_mut(*account, *service, invite.conversation_sid)?.invites;
                match invites.get_mut(&invite.sid) {
                    Some(slot) => Ok(Prior::Invite(std::mem::replace(slot, invite.clone()))),
                    None => {
                        invites.push(invite.sid, invite.clone());
                        Ok(Prior::Nothing)
                    }
                }
            }
            Change::DeleteInvite { account, service, conversation, invite } => {
                let invites = &mut self.conversation_mut(*account, *service, *conversation)?.invites;
                Ok(Prior::Invite(invites.remove(invite).ok_or_else(|| misfit(format!("no invite {invite}")))?))
            }
        }
    }

    fn tenant_mut(&mut self, account: AccountSid) -> Result<&mut Tenant, Misfit> {
        self.tenants.get_mut(&account).ok_or_else(|| misfit(format!("account {account} was never opened")))
    }

    fn service_mut(&mut self, account: AccountSid, service: ChatServiceSid) -> Result<&mut ServiceData, Misfit> {
        self.tenant_mut(account)?.services.get_mut(&service).ok_or_else(|| misfit(format!("no service {service}")))
    }

    fn conversation_mut(
        &mut self,
        account: AccountSid,
        service: ChatServiceSid,
        conversation: ConversationSid,
    ) -> Result<&mut ConversationData, Misfit> {
        self.service_mut(account, service)?
            .conversations
            .get_mut(&conversation)
            .ok_or_else(|| misfit(format!("no conversation {conversation}")))
    }
}

/// How many large structures [`drop_elsewhere`] has finished freeing, in this process.
static LARGE_FREES: AtomicU64 = AtomicU64::new(0);

/// What runs after each of them (`on_large_free`).
static AFTER_LARGE_FREE: OnceLock<Box<dyn Fn() + Send + Sync>> = OnceLock::new();

/// How many large structures (the data a reset let go) the store has finished freeing:
/// when it changes, the freed memory can be handed back to the system
/// (`main.rs` has the allocator collect on each worker thread).
pub fn large_frees() -> u64 {
    LARGE_FREES.load(Ordering::Acquire)
}

/// Sets what runs, on the freeing thread, each time a large structure has been freed
/// (once per process; later calls are ignored).
pub fn on_large_free(hook: impl Fn() + Send + Sync + 'static) {
    let _ = AFTER_LARGE_FREE.set(Box::new(hook));
}

/// Frees a large structure on a short-lived thread, so that the lock holder (and the
/// request waiting on it) does not pay for millions of deallocations.
fn drop_elsewhere<T: Send + 'static>(value: T) {
    let freeing = move || {
        drop(value);
        LARGE_FREES.fetch_add(1, Ordering::Release);
        if let Some(hook) = AFTER_LARGE_FREE.get() {
            hook();
        }
    };
    if std::thread::Builder::new().name("store-drop".into()).spawn(freeing).is_err() {
        // No thread to be had: the value was moved into the failed spawn and freed there,
        // slower but still correct.
    }
}

impl Tenant {
    /// An account as it is before its first write: its default service and nothing else.
    pub(super) fn new(account: AccountSid, now: Timestamp) -> Self {
        let default_service = default_service_sid(account);
        let service = Service {
            sid: default_service,
            friendly_name: DEFAULT_SERVICE_NAME.into(),
            date_created: now,
            date_updated: now,
        };
        let mut services = Sequenced::default();
        services.push(default_service, ServiceData::new(service));
        Self {
            default_service,
            services,
            configuration: AccountConfiguration::default(),
            webhooks: WebhookSettings::default(),
            addresses: Sequenced::default(),
            credentials: Sequenced::default(),
        }
    }

    pub(super) fn default_service(&self) -> ChatServiceSid {
        self.default_service
    }

    pub(super) fn configuration(&self) -> &AccountConfiguration {
        &self.configuration
    }

    pub(super) fn webhooks(&self) -> &WebhookSettings {
        &self.webhooks
    }

    pub(super) fn addresses(&self) -> &Sequenced<AddressConfigurationSid, AddressConfiguration> {
        &self.addresses
    }

    pub(super) fn credentials(&self) -> &Sequenced<CredentialSid, Credential> {
        &self.credentials
    }

    pub(super) fn services(&self) -> &Sequenced<ChatServiceSid, ServiceData> {
        &self.services
    }

    pub(super) fn resolve(&self, scope: ServiceScope) -> ChatServiceSid {
        match scope {
            ServiceScope::Default => self.default_service,
            ServiceScope::Explicit(sid) => sid,
        }
    }

    pub(super) fn service(&self, scope: ServiceScope) -> Result<&ServiceData, StoreError> {
        self.services.get(&self.resolve(scope)).ok_or(StoreError::NotFound)
    }
}

impl ServiceData {
    fn new(service: Service) -> Self {
        // A service has its default roles from the start, dated with it: records name them
        // (participants' `role_sid`) without anything being stored.
        let mut roles = Sequenced::default();
        for role in default_roles(service.sid, service.date_created) {
            roles.push(role.sid, role);
        }
        Self {
            roles,
            service,
            conversations: Sequenced::default(),
            messages: SidTable::default(),
            unique_names: HashMap::default(),
            media: HashMap::default(),
            configuration: ServiceConfiguration::default(),
            webhooks: WebhookSettings::default(),
            users: Sequenced::default(),
            user_identities: HashMap::default(),
            bindings: Sequenced::default(),
            notifications: NotificationConfiguration::default(),
            chat_settings: super::ChatServiceSettings::default(),
        }
    }

    pub(super) fn users(&self) -> &Sequenced<UserSid, User> {
        &self.users
    }

    pub(super) fn user_by_identity(&self, identity: &str) -> Option<&User> {
        self.user_identities.get(identity).and_then(|sid| self.users.get(sid))
    }

    pub(super) fn configuration(&self) -> &ServiceConfiguration {
        &self.configuration
    }

    pub(super) fn bindings(&self) -> &Sequenced<BindingSid, Binding> {
        &self.bindings
    }

    pub(super) fn chat_settings(&self) -> &super::ChatServiceSettings {
        &self.chat_settings
    }

    pub(super) fn notifications(&self) -> &NotificationConfiguration {
        &self.notifications
    }

    /// Moves the default roles still as Twilio creates them to a new creation date of the
    /// service (an import replacing the default service's fields): they stay "as created",
    /// which is what keeps them out of state documents.
    fn redate_default_roles(&mut self, created: Timestamp) {
        let (before, after) =
            (default_roles(self.service.sid, self.service.date_created), default_roles(self.service.sid, created));
        for (old, new) in before.into_iter().zip(after) {
            if let Some(role) = self.roles.get_mut(&old.sid)
                && *role == old
            {
                *role = new;
            }
        }
    }

    pub(super) fn roles(&self) -> &Sequenced<RoleSid, Role> {
        &self.roles
    }

    /// Whether `role` (when given) is one of the service's roles, of type `kind`: what a
    /// `RoleSid` parameter must name (a conversation role for participants, members and invites, a
    /// service role for users).
    pub(super) fn check_role(&self, role: Option<RoleSid>, kind: RoleType) -> Result<(), StoreError> {
        let Some(role) = role else { return Ok(()) };
        match self.roles.get(&role) {
            None => Err(StoreError::RoleNotFound),
            Some(found) if found.kind != kind => Err(StoreError::RoleTypeMismatch),
            Some(_) => Ok(()),
        }
    }

    pub(super) fn webhooks(&self) -> &WebhookSettings {
        &self.webhooks
    }

    pub(super) fn service(&self) -> &Service {
        &self.service
    }

    pub(super) fn sid(&self) -> ChatServiceSid {
        self.service.sid
    }

    pub(super) fn conversations(&self) -> &Sequenced<ConversationSid, ConversationData> {
        &self.conversations
    }

    /// How many messages the service holds, over all its conversations.
    pub(super) fn message_count(&self) -> usize {
        self.messages.len()
    }

    pub(super) fn has_message(&self, sid: &MessageSid) -> bool {
        self.messages.contains_key(sid)
    }

    pub(super) fn media(&self, sid: &MediaSid) -> Option<&Media> {
        self.media.get(sid)
    }

    pub(super) fn all_media(&self) -> impl Iterator<Item = &Media> {
        self.media.values()
    }

    pub(super) fn unique_name_owner(&self, name: &str) -> Option<ConversationSid> {
        self.unique_names.get(name).copied()
    }

    /// The message `sid` of the conversation `reference` names.
    pub(super) fn message(&self, reference: &ConversationRef, sid: MessageSid) -> Result<&StoredMessage, StoreError> {
        let conversation = self.conversation_sid(reference).ok_or(StoreError::ConversationNotFound)?;
        match self.messages.get(&sid) {
            Some(message) if message.conversation_sid == conversation => Ok(message),
            // A message is only in the table while its conversation exists, so only a miss
            // needs to ask which of the two is missing.
            _ if self.conversations.contains(&conversation) => Err(StoreError::NotFound),
            _ => Err(StoreError::ConversationNotFound),
        }
    }

    /// Where a message of this service is, for a response.
    pub(super) fn locate<T>(&self, conversation_sid: ConversationSid, value: T) -> Located<T> {
        Located { chat_service_sid: self.service.sid, conversation_sid, value }
    }

    pub(super) fn conversation_sid(&self, reference: &ConversationRef) -> Option<ConversationSid> {
        match reference {
            ConversationRef::Sid(sid) => Some(*sid),
            ConversationRef::UniqueName(name) => self.unique_names.get(name.as_str()).copied(),
        }
    }

    pub(super) fn conversation(&self, reference: &ConversationRef) -> Result<&ConversationData, StoreError> {
        let sid = self.conversation_sid(reference);
        sid.and_then(|sid| self.conversations.get(&sid)).ok_or(StoreError::ConversationNotFound)
    }
}

impl ConversationData {
    fn new(conversation: Conversation) -> Self {
        Self {
            conversation,
            messages: MessageLog::default(),
            participants: Sequenced::default(),
            webhooks: Sequenced::default(),
            invites: Sequenced::default(),
        }
    }

    pub(super) fn invites(&self) -> &Sequenced<InviteSid, Invite> {
        &self.invites
    }

    pub(super) fn webhooks(&self) -> &Sequenced<WebhookSid, ConversationWebhook> {
        &self.webhooks
    }

    pub(super) fn conversation(&self) -> &Conversation {
        &self.conversation
    }

    pub(super) fn messages(&self) -> &MessageLog {
        &self.messages
    }

    pub(super) fn participants(&self) -> &Sequenced<ParticipantSid, Participant> {
        &self.participants
    }

    /// Whether any participant is reached over SMS or WhatsApp: such conversations limit
    /// bodies to what those channels carry, and their messages get receipts.
    pub(super) fn has_non_chat_participants(&self) -> bool {
        self.participants.values().any(Participant::is_non_chat)
    }

    /// The participant who wrote as `author`, if any.
    pub(super) fn author_participant(&self, author: &str) -> Option<ParticipantSid> {
        self.participants.values().find(|p| p.is_author(author)).map(|p| p.sid)
    }

    pub(super) fn snapshot(&self) -> super::model::ConversationSnapshot {
        super::model::ConversationSnapshot {
            conversation: self.conversation.clone(),
            message_count: self.messages.len(),
            member_count: self.participants.values().filter(|participant| participant.identity.is_some()).count(),
        }
    }

    pub(super) fn locate<T>(&self, value: T) -> Located<T> {
        Located { chat_service_sid: self.conversation.chat_service_sid, conversation_sid: self.conversation.sid, value }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::users::User;

    #[test]
    fn the_record_count_includes_users_and_roles() {
        let account = AccountSid::from_bits(1);
        let now = Timestamp::from_unix_seconds(1_700_000_000);
        let mut tables = Tables::default();
        tables.apply(&Change::OpenAccount { account, at: now }).expect("open");
        // The default service and its three default roles.
        assert_eq!(tables.record_count(), 4);
        let service = default_service_sid(account);
        for n in 1..=2 {
            let user = User {
                sid: UserSid::from_bits(n),
                chat_service_sid: service,
                identity: format!("user-{n}").into(),
                friendly_name: None,
                attributes: None,
                role_sid: crate::store::default_user_role(service),
                date_created: now,
                date_updated: now,
            };
            tables.apply(&Change::PutUser { account, user }).expect("user");
        }
        assert_eq!(tables.record_count(), 6);
    }
}
