//! The state document: one JSON format for export, import, seed files (`fixtures/seed_*.json`,
//! `--seed-file`) and the persistent state file's snapshot.
//!
//! Every field but `account_sid` is optional on import, so a hand-written seed can be as
//! short as a conversation with a few message bodies: SIDs are generated, indices assigned
//! in order, dates set to now, and an account's top-level `conversations` go to its default
//! service. Export writes every field, so an export imported again reproduces the state.
//!
//! An import is all or nothing: the whole document is checked against the store (and
//! itself) before anything changes, and the first fault is reported with its location,
//! e.g. `accounts[0].services[1].conversations[2].messages[3].attributes: not valid JSON`.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::HashMap;

/// The import's sets of what it has seen. Keys are SIDs, which foldhash hashes several
/// times faster than SipHash; an import of a million messages checks each once.
type HashSet<K> = std::collections::HashSet<K, foldhash::fast::RandomState>;
use super::bindings::{Binding, BindingDocument, binding_document, to_binding};
use super::change::Change;
use super::config_document::{
    AccountConfigurationDocument, AddressConfigurationDocument, ConversationWebhookDocument,
    ServiceConfigurationDocument, WebhookSettingsDocument, account_configuration_document,
    address_configuration_document, conversation_webhook_document, service_configuration_document,
    to_account_configuration, to_address_configuration, to_conversation_webhook, to_service_configuration,
    to_webhook_settings, webhook_settings_document,
};
use super::credentials::{Credential, CredentialDocument, credential_document, to_credential};
use super::fresh;
use super::invites::{Invite, InviteDocument, invite_document, to_invite};
use super::limits::{self, Violation};
use super::model::NotificationLevel;
use super::model::{
    ChannelType, Conversation, ConversationState, ConversationTimers, DeliveryStatus, Media, MediaRef, Message,
    MessageExtras, MessagingBinding, Participant, Receipt, Service, StoredMessage,
};
use super::notifications::NotificationConfiguration;
use super::participants::default_participant_role;
use super::role_document::{RoleDocument, role_documents, to_role};
use super::roles::Role;
use super::tables::{ConversationData, ServiceData, Tables, Tenant};
use super::users::{User, UserDocument, to_user, user_document};
use super::webhook_model::{
    AccountConfiguration, AddressConfiguration, ConversationWebhook, MAX_CONVERSATION_WEBHOOKS, ServiceConfiguration,
    WebhookSettings,
};
use super::{DEFAULT_AUTHOR, DEFAULT_SERVICE_NAME, default_service_sid};
use crate::sid::CredentialSid;
use crate::sid::{
    AccountSid, AddressConfigurationSid, ChatServiceSid, ConversationSid, MessageSid, ParticipantSid, RoleSid,
    SidGenerator, WebhookSid,
};
use crate::sid::{BindingSid, InviteSid};
use crate::time::Timestamp;

/// The whole state, or part of it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateDocument {
    #[serde(default)]
    pub accounts: Vec<AccountDocument>,
}

/// One account's services, conversations and messages.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountDocument {
    pub account_sid: String,
    /// Conversations of the account's default service (a shortcut for seeds).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conversations: Vec<ConversationDocument>,
    #[serde(default)]
    pub services: Vec<ServiceDocument>,
    /// `/v1/Configuration`, when anything was set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configuration: Option<AccountConfigurationDocument>,
    /// `/v1/Configuration/Webhooks`, when anything was set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhooks: Option<WebhookSettingsDocument>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub address_configurations: Vec<AddressConfigurationDocument>,
    /// `/v1/Credentials`, secrets included.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub credentials: Vec<CredentialDocument>,
}

/// A Conversation Service. An existing service (same SID) is reused, not replaced.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceDocument {
    pub sid: Option<String>,
    pub friendly_name: Option<String>,
    pub date_created: Option<String>,
    pub date_updated: Option<String>,
    #[serde(default)]
    pub conversations: Vec<ConversationDocument>,
    /// Uploaded media, attached or not.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub media: Vec<MediaDocument>,
    /// `/v1/Services/{IS}/Configuration`, when anything was set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configuration: Option<ServiceConfigurationDocument>,
    /// `/v1/Services/{IS}/Configuration/Webhooks`, when anything was set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhooks: Option<WebhookSettingsDocument>,
    /// Its roles other than the defaults as Twilio creates them (a changed default is
    /// listed, and replaces the default on import).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<RoleDocument>,
    /// `/v1/Services/{IS}/Users`, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<UserDocument>,
    /// `/v1/Services/{IS}/Bindings`, oldest first: the only way bindings are made, since
    /// only client SDKs make them on Twilio.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bindings: Vec<BindingDocument>,
    /// `/v1/Services/{IS}/Configuration/Notifications`, when anything was set. Boxed: the
    /// log's service record would otherwise be the largest by far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notifications: Option<Box<NotificationConfiguration>>,
    /// The Chat v2 settings Conversations has no record for (`/v2/Services/{IS}`), when
    /// any differs from the default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat_settings: Option<Box<super::ChatServiceSettings>>,
}

/// An uploaded file, its content in base64.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MediaDocument {
    pub sid: String,
    pub content_type: String,
    pub filename: Option<String>,
    pub author: Option<String>,
    pub content_base64: String,
    /// `[CH…, IM…]` once attached to a message.
    pub attached_to: Option<(String, String)>,
    pub date_created: Option<String>,
}

/// A participant: a chat identity, an SMS or WhatsApp address, or both.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParticipantDocument {
    pub sid: Option<String>,
    pub identity: Option<String>,
    pub attributes: Option<String>,
    pub address: Option<String>,
    pub proxy_address: Option<String>,
    pub projected_address: Option<String>,
    pub role_sid: Option<String>,
    pub last_read_message_index: Option<u64>,
    pub last_read_timestamp: Option<String>,
    pub date_created: Option<String>,
    pub date_updated: Option<String>,
    /// `muted` when its user muted the conversation; absent means `default`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification_level: Option<String>,
}

/// A message's view of its media.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MediaRefDocument {
    pub sid: String,
    pub size: u64,
    pub content_type: String,
    pub filename: Option<String>,
}

/// A delivery receipt.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptDocument {
    pub sid: String,
    pub participant_sid: String,
    pub channel_message_sid: String,
    pub status: String,
    #[serde(default)]
    pub error_code: u32,
    pub date_created: Option<String>,
    pub date_updated: Option<String>,
}

/// A conversation's timers, as the instants they run out.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimersDocument {
    pub date_inactive: Option<String>,
    pub date_closed: Option<String>,
}

/// A conversation (a Chat channel) with its messages.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConversationDocument {
    pub sid: Option<String>,
    pub friendly_name: Option<String>,
    pub unique_name: Option<String>,
    pub attributes: Option<String>,
    pub state: Option<String>,
    /// Chat v2's channel type, `public` or `private` (the default).
    #[serde(rename = "type")]
    pub channel_type: Option<String>,
    pub created_by: Option<String>,
    pub date_created: Option<String>,
    pub date_updated: Option<String>,
    /// When its inactive and closed timers run out, if it has any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timers: Option<TimersDocument>,
    /// The index the next message gets; at least one past the highest message's.
    pub next_index: Option<u64>,
    #[serde(default)]
    pub messages: Vec<MessageDocument>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub participants: Vec<ParticipantDocument>,
    /// Its conversation-scoped webhooks, in creation order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub webhooks: Vec<ConversationWebhookDocument>,
    /// Chat v2's invites to it, in creation order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub invites: Vec<InviteDocument>,
}

/// A message. Without `index`, it follows the previous message.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageDocument {
    pub sid: Option<String>,
    pub index: Option<u64>,
    pub author: Option<String>,
    pub body: Option<String>,
    pub attributes: Option<String>,
    pub last_updated_by: Option<String>,
    pub was_edited: Option<bool>,
    pub date_created: Option<String>,
    pub date_updated: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub participant_sid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media: Option<MediaRefDocument>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_sid: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub receipts: Vec<ReceiptDocument>,
}

/// Why a document was refused: where, and what is wrong there.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {problem}")]
pub struct ImportError {
    pub location: String,
    pub problem: String,
}

/// What an import added.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ImportSummary {
    pub accounts: usize,
    pub services: usize,
    pub conversations: usize,
    pub messages: usize,
}

// --- Export ---------------------------------------------------------------------------

/// The document for `tenants`, accounts in SID order, everything else in creation order.
pub(super) fn export<'a>(tenants: impl Iterator<Item = (&'a AccountSid, &'a Tenant)>) -> StateDocument {
    let mut accounts: Vec<_> = tenants.map(|(sid, tenant)| export_account(*sid, tenant)).collect();
    accounts.sort_by(|a, b| a.account_sid.cmp(&b.account_sid));
    StateDocument { accounts }
}

fn export_account(sid: AccountSid, tenant: &Tenant) -> AccountDocument {
    let services = tenant.services().values().map(export_service).collect();
    AccountDocument {
        account_sid: sid.to_string(),
        conversations: Vec::new(),
        services,
        configuration: (*tenant.configuration() != AccountConfiguration::default())
            .then(|| account_configuration_document(tenant.configuration())),
        webhooks: (*tenant.webhooks() != WebhookSettings::default())
            .then(|| webhook_settings_document(tenant.webhooks())),
        address_configurations: tenant.addresses().values().map(address_configuration_document).collect(),
        credentials: tenant.credentials().values().map(credential_document).collect(),
    }
}

fn export_service(data: &ServiceData) -> ServiceDocument {
    let mut media: Vec<MediaDocument> = data.all_media().map(media_document).collect();
    media.sort_by(|a, b| a.sid.cmp(&b.sid));
    ServiceDocument {
        conversations: data.conversations().values().map(export_conversation).collect(),
        media,
        configuration: (*data.configuration() != ServiceConfiguration::default())
            .then(|| service_configuration_document(data.configuration())),
        webhooks: (*data.webhooks() != WebhookSettings::default()).then(|| webhook_settings_document(data.webhooks())),
        roles: role_documents(data.sid(), data.service().date_created, data.roles().values()),
        users: data.users().values().map(user_document).collect(),
        bindings: data.bindings().values().map(binding_document).collect(),
        notifications: (*data.notifications() != NotificationConfiguration::default())
            .then(|| Box::new(data.notifications().clone())),
        chat_settings: (*data.chat_settings() != super::ChatServiceSettings::default())
            .then(|| Box::new(data.chat_settings().clone())),
        ..service_document(data.service())
    }
}

/// An upload, content included.
pub(super) fn media_document(media: &Media) -> MediaDocument {
    use base64::Engine;
    MediaDocument {
        sid: media.sid.to_string(),
        content_type: media.content_type.to_string(),
        filename: media.filename.as_deref().map(str::to_owned),
        author: media.author.as_deref().map(str::to_owned),
        content_base64: base64::engine::general_purpose::STANDARD.encode(&media.content),
        attached_to: media.attached_to.map(|(c, m)| (c.to_string(), m.to_string())),
        date_created: Some(media.date_created.to_string()),
    }
}

/// A participant, every field written.
pub(super) fn participant_document(participant: &Participant) -> ParticipantDocument {
    let binding = participant.binding.as_ref();
    let text = |value: Option<&Arc<str>>| value.map(|v| v.to_string());
    ParticipantDocument {
        sid: Some(participant.sid.to_string()),
        identity: text(participant.identity.as_ref()),
        attributes: text(participant.attributes.as_ref()),
        address: text(binding.and_then(|b| b.address.as_ref())),
        proxy_address: text(binding.and_then(|b| b.proxy_address.as_ref())),
        projected_address: text(binding.and_then(|b| b.projected_address.as_ref())),
        role_sid: Some(participant.role_sid.to_string()),
        last_read_message_index: participant.last_read_message_index,
        last_read_timestamp: participant.last_read_timestamp.map(|t| t.to_string()),
        date_created: Some(participant.date_created.to_string()),
        date_updated: Some(participant.date_updated.to_string()),
        notification_level: (participant.notification_level != NotificationLevel::Default)
            .then(|| participant.notification_level.as_str().to_owned()),
    }
}

fn export_conversation(data: &ConversationData) -> ConversationDocument {
    ConversationDocument {
        messages: data.messages().ordered().values().map(message_document).collect(),
        participants: data.participants().values().map(participant_document).collect(),
        webhooks: data.webhooks().values().map(conversation_webhook_document).collect(),
        invites: data.invites().values().map(invite_document).collect(),
        ..conversation_document(data.conversation(), data.messages().next_index())
    }
}

/// A service's own fields, without its conversations.
pub(super) fn service_document(service: &Service) -> ServiceDocument {
    ServiceDocument {
        sid: Some(service.sid.to_string()),
        friendly_name: Some(service.friendly_name.to_string()),
        date_created: Some(service.date_created.to_string()),
        date_updated: Some(service.date_updated.to_string()),
        conversations: Vec::new(),
        media: Vec::new(),
        configuration: None,
        webhooks: None,
        roles: Vec::new(),
        users: Vec::new(),
        bindings: Vec::new(),
        notifications: None,
        chat_settings: None,
    }
}

/// A conversation's own fields, without its messages.
pub(super) fn conversation_document(conversation: &Conversation, next_index: u64) -> ConversationDocument {
    ConversationDocument {
        sid: Some(conversation.sid.to_string()),
        friendly_name: conversation.friendly_name.as_deref().map(str::to_owned),
        unique_name: conversation.unique_name.as_deref().map(str::to_owned),
        attributes: conversation.attributes.as_deref().map(str::to_owned),
        state: Some(serde_plain(&conversation.state)),
        channel_type: Some(conversation.channel_type.as_str().to_owned()),
        created_by: conversation.created_by.as_deref().map(str::to_owned),
        date_created: Some(conversation.date_created.to_string()),
        date_updated: Some(conversation.date_updated.to_string()),
        timers: (!conversation.timers.is_empty()).then(|| TimersDocument {
            date_inactive: conversation.timers.date_inactive.map(|at| at.to_string()),
            date_closed: conversation.timers.date_closed.map(|at| at.to_string()),
        }),
        next_index: Some(next_index),
        messages: Vec::new(),
        participants: Vec::new(),
        webhooks: Vec::new(),
        invites: Vec::new(),
    }
}

/// A message, every field written.
pub(super) fn message_document(message: &StoredMessage) -> MessageDocument {
    MessageDocument {
        sid: Some(message.sid.to_string()),
        index: Some(message.index),
        author: Some(message.author().to_owned()),
        body: message.body().map(str::to_owned),
        attributes: message.attributes.as_deref().map(str::to_owned),
        last_updated_by: message.last_updated_by().map(str::to_owned),
        was_edited: Some(message.was_edited),
        date_created: Some(message.date_created.to_string()),
        date_updated: Some(message.date_updated.to_string()),
        participant_sid: message.participant_sid.map(|sid| sid.to_string()),
        media: message.media().map(|media| MediaRefDocument {
            sid: media.sid.to_string(),
            size: media.size,
            content_type: media.content_type.to_string(),
            filename: media.filename.as_deref().map(str::to_owned),
        }),
        content_sid: message.content_sid().map(|sid| sid.to_string()),
        receipts: message
            .receipts()
            .iter()
            .map(|r| ReceiptDocument {
                sid: r.sid.to_string(),
                participant_sid: r.participant_sid.to_string(),
                channel_message_sid: r.channel_message_sid.to_string(),
                status: r.status.as_str().to_owned(),
                error_code: r.error_code,
                date_created: Some(r.date_created.to_string()),
                date_updated: Some(r.date_updated.to_string()),
            })
            .collect(),
    }
}

/// A unit enum's serde name (`ConversationState::Active` → `active`).
fn serde_plain<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

// --- Import ---------------------------------------------------------------------------

/// The largest message index: the largest integer a JavaScript number (twilio-node's
/// `index`) holds exactly. An index above it could not be read back by every SDK, and an
/// index that cannot grow would make every later message take the same one.
pub const MAX_INDEX: u64 = (1 << 53) - 1;

/// Where an imported message goes: its SID must be new to the service.
struct MessagePlace<'a> {
    account: AccountSid,
    /// The service as stored, when it already exists.
    service: Option<&'a ServiceData>,
    service_sid: ChatServiceSid,
    conversation: ConversationSid,
}

/// A checked document, ready to be applied as changes that all fit.
pub(super) struct Plan {
    accounts: Vec<PlannedAccount>,
    pub summary: ImportSummary,
}

struct PlannedAccount {
    sid: AccountSid,
    /// Whether the account is new to the store (it must be opened first).
    is_new: bool,
    services: Vec<PlannedService>,
    configuration: Option<AccountConfiguration>,
    webhooks: Option<WebhookSettings>,
    addresses: Vec<AddressConfiguration>,
    credentials: Vec<Credential>,
}

struct PlannedService {
    service: Service,
    /// Whether the service is new to the store (an existing one is reused, not replaced).
    is_new: bool,
    conversations: Vec<PlannedConversation>,
    media: Vec<Media>,
    configuration: Option<ServiceConfiguration>,
    webhooks: Option<WebhookSettings>,
    roles: Vec<Role>,
    users: Vec<User>,
    bindings: Vec<Binding>,
    notifications: Option<NotificationConfiguration>,
    chat_settings: Option<super::ChatServiceSettings>,
}

struct PlannedConversation {
    conversation: Conversation,
    /// In index order.
    messages: Vec<StoredMessage>,
    next_index: u64,
    participants: Vec<Participant>,
    webhooks: Vec<ConversationWebhook>,
    invites: Vec<Invite>,
}

/// A document checked as far as it can be without the store: every record's fields, and
/// its messages converted (the bulk of an import's work, done before the store's lock is
/// taken). Only what depends on the store is left: SIDs to choose, and conflicts with
/// what is stored.
pub(super) struct Prepared {
    /// The document, with an account's top-level conversations moved into its default
    /// service and every conversation's messages taken out into `messages`.
    document: StateDocument,
    /// Each conversation's messages, by (account, service, conversation) position.
    messages: HashMap<(usize, usize, usize), Vec<PreparedMessage>>,
}

/// A message built but not yet placed: its SID (when the document gives none) and its
/// conversation's are chosen under the lock ([`StoredMessage::place`]).
pub(super) struct PreparedMessage {
    sid: Option<MessageSid>,
    message: StoredMessage,
}

/// Checks and converts what `document` holds without the store (see [`Prepared`]).
pub(super) fn prepare(mut document: StateDocument, now: Timestamp) -> Result<Prepared, ImportError> {
    let mut messages = HashMap::default();
    for (a, account) in document.accounts.iter_mut().enumerate() {
        if !account.conversations.is_empty() {
            let sid: AccountSid = parse_sid(&account.account_sid, &format!("accounts[{a}].account_sid"))?;
            let default = ServiceDocument {
                sid: Some(default_service_sid(sid).to_string()),
                conversations: std::mem::take(&mut account.conversations),
                ..ServiceDocument::default()
            };
            account.services.insert(0, default);
        }
        for (s, service) in account.services.iter_mut().enumerate() {
            for (c, conversation) in service.conversations.iter_mut().enumerate() {
                let docs = std::mem::take(&mut conversation.messages);
                let mut prepared = Vec::with_capacity(docs.len());
                let mut next_index = 0;
                for (m, doc) in docs.into_iter().enumerate() {
                    let at = format!("accounts[{a}].services[{s}].conversations[{c}].messages[{m}]");
                    let index = doc.index.unwrap_or(next_index);
                    if index < next_index {
                        let problem = format!("{index} is not above the previous message's index");
                        return Err(fault(&format!("{at}.index"), problem));
                    }
                    if index > MAX_INDEX {
                        let problem = format!("{index} is above the largest index, {MAX_INDEX}");
                        return Err(fault(&format!("{at}.index"), problem));
                    }
                    next_index = index + 1;
                    prepared.push(prepare_message(doc, index, now, &at)?);
                }
                messages.insert((a, s, c), prepared);
            }
        }
    }
    Ok(Prepared { document, messages })
}

/// Checks a [`prepare`]d document against `existing` tenants and itself, and turns it into
/// a [`Plan`].
pub(super) fn plan(
    prepared: Prepared,
    existing: &Tables,
    sids: &mut SidGenerator,
    now: Timestamp,
) -> Result<Plan, ImportError> {
    let mut planner = Planner {
        existing,
        sids,
        now,
        seen_conversations: HashSet::default(),
        seen_messages: HashSet::default(),
        summary: ImportSummary::default(),
    };
    let Prepared { document, mut messages } = prepared;
    let mut accounts = Vec::new();
    let mut seen_accounts = HashSet::default();
    for (a, mut account) in document.accounts.into_iter().enumerate() {
        let at = format!("accounts[{a}]");
        let sid: AccountSid = parse_sid(&account.account_sid, &format!("{at}.account_sid"))?;
        if !seen_accounts.insert(sid) {
            return Err(fault(&at, format!("account {sid} appears twice")));
        }
        let is_new = existing.tenant(sid).is_none();
        let configuration = account.configuration.take();
        let webhooks = account.webhooks.take();
        let address_docs = std::mem::take(&mut account.address_configurations);
        let credential_docs = std::mem::take(&mut account.credentials);
        let services = planner.account(sid, account, &mut messages, a, &at)?;
        let configuration = configuration
            .map(|doc| planner.account_configuration(sid, doc, &services, &format!("{at}.configuration")))
            .transpose()?;
        let webhooks = webhooks.map(|doc| to_webhook_settings(doc, &format!("{at}.webhooks"))).transpose()?;
        let addresses = planner.addresses(sid, address_docs, &at)?;
        // A credential with the SID of one already there replaces it.
        let mut credentials: Vec<Credential> = Vec::new();
        for (i, doc) in credential_docs.into_iter().enumerate() {
            let existing = planner.existing.tenant(sid);
            let sid = fresh(planner.sids, CredentialSid::from_bits, |candidate| {
                existing.is_some_and(|t| t.credentials().contains(candidate))
                    || credentials.iter().any(|other| other.sid == *candidate)
            });
            credentials.push(to_credential(doc, Some(sid), planner.now, &format!("{at}.credentials[{i}]"))?);
        }
        accounts.push(PlannedAccount { sid, is_new, services, configuration, webhooks, addresses, credentials });
    }
    planner.summary.accounts = accounts.len();
    Ok(Plan { accounts, summary: planner.summary })
}

struct Planner<'a> {
    existing: &'a Tables,
    sids: &'a mut SidGenerator,
    now: Timestamp,
    seen_conversations: HashSet<(AccountSid, ConversationSid)>,
    /// Message SIDs are unique within a service: the service finds messages by SID alone.
    seen_messages: HashSet<(AccountSid, ChatServiceSid, MessageSid)>,
    summary: ImportSummary,
}

impl Planner<'_> {
    fn account(
        &mut self,
        sid: AccountSid,
        account: AccountDocument,
        messages: &mut HashMap<(usize, usize, usize), Vec<PreparedMessage>>,
        a: usize,
        at: &str,
    ) -> Result<Vec<PlannedService>, ImportError> {
        let tenant = self.existing.tenant(sid);
        let mut services: Vec<PlannedService> = Vec::new();
        for (s, mut doc) in account.services.into_iter().enumerate() {
            let at = format!("{at}.services[{s}]");
            let (service, is_new) = self.service(sid, tenant, &doc, &at)?;
            let configuration = doc
                .configuration
                .take()
                .map(|c| to_service_configuration(c, &format!("{at}.configuration")))
                .transpose()?;
            let webhooks =
                doc.webhooks.take().map(|w| to_webhook_settings(w, &format!("{at}.webhooks"))).transpose()?;
            let role_docs = std::mem::take(&mut doc.roles);
            let notifications = doc.notifications.take().map(|boxed| *boxed);
            let chat_settings = doc.chat_settings.take().map(|boxed| *boxed);
            let planned = match services.iter_mut().find(|p| p.service.sid == service.sid) {
                Some(planned) => planned,
                None => {
                    services.push(PlannedService {
                        service,
                        is_new,
                        conversations: Vec::new(),
                        media: Vec::new(),
                        configuration: None,
                        webhooks: None,
                        roles: Vec::new(),
                        users: Vec::new(),
                        bindings: Vec::new(),
                        notifications: None,
                        chat_settings: None,
                    });
                    services.last_mut().ok_or_else(|| fault(&at, "internal: no service".into()))?
                }
            };
            planned.configuration = configuration.or(planned.configuration.take());
            planned.webhooks = webhooks.or(planned.webhooks.take());
            planned.notifications = notifications.or(planned.notifications.take());
            planned.chat_settings = chat_settings.or(planned.chat_settings.take());
            let existing_service = tenant.and_then(|t| t.services().get(&planned.service.sid));
            // A role with the SID of one already there replaces it: that is how a changed
            // default role comes back.
            for (r, mut role) in role_docs.into_iter().enumerate() {
                let at = format!("{at}.roles[{r}]");
                if role.sid.is_none() {
                    let sid = fresh(self.sids, RoleSid::from_bits, |sid| {
                        existing_service.is_some_and(|s| s.roles().contains(sid))
                            || planned.roles.iter().any(|other| other.sid == *sid)
                    });
                    role.sid = Some(sid.to_string());
                }
                planned.roles.push(to_role(role, self.now, &at)?);
            }
            for (c, conversation) in doc.conversations.into_iter().enumerate() {
                let at = format!("{at}.conversations[{c}]");
                let planned_conversation = self.conversation(
                    sid,
                    existing_service,
                    &planned.conversations,
                    planned.service.sid,
                    conversation,
                    messages.remove(&(a, s, c)).unwrap_or_default(),
                    &at,
                )?;
                planned.conversations.push(planned_conversation);
            }
            self.users(existing_service, planned, std::mem::take(&mut doc.users), &at)?;
            self.bindings(existing_service, planned, std::mem::take(&mut doc.bindings), &at)?;
            for (m, media) in doc.media.into_iter().enumerate() {
                let at = format!("{at}.media[{m}]");
                let media = to_media(media, self.now, &at)?;
                let taken = existing_service.is_some_and(|s| s.media(&media.sid).is_some())
                    || planned.media.iter().any(|other| other.sid == media.sid);
                if taken {
                    return Err(fault(&at, format!("media {} already exists", media.sid)));
                }
                planned.media.push(media);
            }
        }
        Ok(services)
    }

    /// A service's users: SIDs and identities new to the service and the document.
    fn users(
        &mut self,
        existing: Option<&ServiceData>,
        planned: &mut PlannedService,
        docs: Vec<UserDocument>,
        at: &str,
    ) -> Result<(), ImportError> {
        for (u, mut doc) in docs.into_iter().enumerate() {
            let at = format!("{at}.users[{u}]");
            let taken = |sid: &crate::sid::UserSid, users: &[User]| {
                existing.is_some_and(|s| s.users().contains(sid)) || users.iter().any(|user| user.sid == *sid)
            };
            let sid = match doc.sid.as_deref() {
                Some(raw) => parse_sid(raw, &format!("{at}.sid"))?,
                None => fresh(self.sids, crate::sid::UserSid::from_bits, |sid| taken(sid, &planned.users)),
            };
            if taken(&sid, &planned.users) {
                return Err(fault(&format!("{at}.sid"), format!("user {sid} already exists")));
            }
            let identity_taken = existing.is_some_and(|s| s.user_by_identity(&doc.identity).is_some())
                || planned.users.iter().any(|user| *user.identity == *doc.identity);
            if identity_taken {
                return Err(fault(&format!("{at}.identity"), format!("`{}` has a user already", doc.identity)));
            }
            doc.sid = Some(sid.to_string());
            planned.users.push(to_user(doc, planned.service.sid, self.now, &at)?);
        }
        Ok(())
    }

    /// A service's bindings: SIDs new to the service and the document.
    fn bindings(
        &mut self,
        existing: Option<&ServiceData>,
        planned: &mut PlannedService,
        docs: Vec<BindingDocument>,
        at: &str,
    ) -> Result<(), ImportError> {
        for (b, doc) in docs.into_iter().enumerate() {
            let at = format!("{at}.bindings[{b}]");
            let taken = |sid: &BindingSid, bindings: &[Binding]| {
                existing.is_some_and(|s| s.bindings().contains(sid)) || bindings.iter().any(|other| other.sid == *sid)
            };
            // Only a binding without a SID takes one from the source: an export imported
            // again then draws the same SIDs for everything else.
            let sid =
                doc.sid.is_none().then(|| fresh(self.sids, BindingSid::from_bits, |sid| taken(sid, &planned.bindings)));
            let binding = to_binding(doc, planned.service.sid, sid, self.now, &at)?;
            if taken(&binding.sid, &planned.bindings) {
                return Err(fault(&format!("{at}.sid"), format!("binding {} already exists", binding.sid)));
            }
            planned.bindings.push(binding);
        }
        Ok(())
    }

    fn service(
        &mut self,
        account: AccountSid,
        tenant: Option<&Tenant>,
        doc: &ServiceDocument,
        at: &str,
    ) -> Result<(Service, bool), ImportError> {
        let sid = match &doc.sid {
            Some(raw) => parse_sid(raw, &format!("{at}.sid"))?,
            None => {
                fresh(self.sids, ChatServiceSid::from_bits, |sid| tenant.is_some_and(|t| t.services().contains(sid)))
            }
        };
        if let Some(existing) = tenant.and_then(|t| t.services().get(&sid)) {
            return Ok((existing.service().clone(), false));
        }
        self.summary.services += 1;
        let doc = ServiceDocument { sid: Some(sid.to_string()), conversations: Vec::new(), ..doc.clone() };
        Ok((to_service(doc, sid == default_service_sid(account), self.now, at)?, true))
    }

    #[allow(clippy::too_many_arguments)] // A conversation's place is four things; bundling them would name nothing.
    fn conversation(
        &mut self,
        account: AccountSid,
        existing: Option<&ServiceData>,
        planned: &[PlannedConversation],
        service: ChatServiceSid,
        mut doc: ConversationDocument,
        prepared: Vec<PreparedMessage>,
        at: &str,
    ) -> Result<PlannedConversation, ImportError> {
        let taken = |sid: &ConversationSid| existing.is_some_and(|s| s.conversations().contains(sid));
        let sid = match &doc.sid {
            Some(raw) => parse_sid(raw, &format!("{at}.sid"))?,
            None => fresh(self.sids, ConversationSid::from_bits, |sid| {
                taken(sid) || self.seen_conversations.contains(&(account, *sid))
            }),
        };
        if taken(&sid) || !self.seen_conversations.insert((account, sid)) {
            return Err(fault(at, format!("conversation {sid} already exists")));
        }
        if let Some(name) = &doc.unique_name {
            let in_store = existing.is_some_and(|s| s.unique_name_owner(name).is_some());
            let in_document = planned.iter().any(|p| p.conversation.unique_name.as_deref() == Some(name.as_str()));
            if in_store || in_document {
                return Err(fault(
                    &format!("{at}.unique_name"),
                    format!("`{name}` is already used in service {service}"),
                ));
            }
        }
        let participant_docs = std::mem::take(&mut doc.participants);
        let webhook_docs = std::mem::take(&mut doc.webhooks);
        let invite_docs = std::mem::take(&mut doc.invites);
        let next_index = doc.next_index;
        let conversation =
            to_conversation(ConversationDocument { sid: Some(sid.to_string()), ..doc }, service, self.now, at)?;
        let mut messages: Vec<StoredMessage> = Vec::with_capacity(prepared.len());
        let mut next = 0;
        let place = MessagePlace { account, service: existing, service_sid: service, conversation: sid };
        for (m, message) in prepared.into_iter().enumerate() {
            let at = || format!("{at}.messages[{m}]");
            let message = self.message(&place, message, at)?;
            next = message.index + 1;
            messages.push(message);
        }
        if let Some(reserved) = next_index {
            if reserved > MAX_INDEX + 1 {
                return Err(fault(&format!("{at}.next_index"), format!("{reserved} leaves no index to grow into")));
            }
            next = next.max(reserved);
        }
        let mut participants: Vec<Participant> = Vec::with_capacity(participant_docs.len());
        let seen = |sid: &ParticipantSid, participants: &[Participant]| participants.iter().any(|p| p.sid == *sid);
        for (p, participant) in participant_docs.into_iter().enumerate() {
            let at = format!("{at}.participants[{p}]");
            let sid = match &participant.sid {
                Some(raw) => parse_sid(raw, &format!("{at}.sid"))?,
                None => fresh(self.sids, ParticipantSid::from_bits, |sid| seen(sid, &participants)),
            };
            if seen(&sid, &participants) {
                return Err(fault(&format!("{at}.sid"), format!("participant {sid} appears twice")));
            }
            let doc = ParticipantDocument { sid: Some(sid.to_string()), ..participant };
            participants.push(to_participant(doc, default_participant_role(service), self.now, &at)?);
        }
        self.summary.conversations += 1;
        self.summary.messages += messages.len();
        let mut webhooks: Vec<ConversationWebhook> = Vec::with_capacity(webhook_docs.len());
        if webhook_docs.len() > MAX_CONVERSATION_WEBHOOKS {
            return Err(fault(&format!("{at}.webhooks"), format!("more than {MAX_CONVERSATION_WEBHOOKS} webhooks")));
        }
        for (w, webhook) in webhook_docs.into_iter().enumerate() {
            let at = format!("{at}.webhooks[{w}]");
            let seen = |sid: &WebhookSid, webhooks: &[ConversationWebhook]| webhooks.iter().any(|h| h.sid == *sid);
            let sid = match &webhook.sid {
                Some(raw) => parse_sid(raw, &format!("{at}.sid"))?,
                None => fresh(self.sids, WebhookSid::from_bits, |sid| seen(sid, &webhooks)),
            };
            if seen(&sid, &webhooks) {
                return Err(fault(&format!("{at}.sid"), format!("webhook {sid} appears twice")));
            }
            let doc = ConversationWebhookDocument { sid: Some(sid.to_string()), ..webhook };
            webhooks.push(to_conversation_webhook(doc, conversation.sid, self.now, &at)?);
        }
        let mut invites: Vec<Invite> = Vec::with_capacity(invite_docs.len());
        for (i, invite) in invite_docs.into_iter().enumerate() {
            let at = format!("{at}.invites[{i}]");
            let seen = |sid: &InviteSid, invites: &[Invite]| invites.iter().any(|other| other.sid == *sid);
            let sid = match &invite.sid {
                Some(raw) => parse_sid(raw, &format!("{at}.sid"))?,
                None => fresh(self.sids, InviteSid::from_bits, |sid| seen(sid, &invites)),
            };
            if seen(&sid, &invites) {
                return Err(fault(&format!("{at}.sid"), format!("invite {sid} appears twice")));
            }
            if invites.iter().any(|other| *other.identity == *invite.identity) {
                return Err(fault(&format!("{at}.identity"), format!("`{}` is invited twice", invite.identity)));
            }
            let doc = InviteDocument { sid: Some(sid.to_string()), ..invite };
            invites.push(to_invite(doc, conversation.sid, default_participant_role(service), self.now, &at)?);
        }
        Ok(PlannedConversation { conversation, messages, next_index: next, participants, webhooks, invites })
    }

    /// The account's configuration: its default chat service must be in the store or in
    /// the document.
    fn account_configuration(
        &self,
        account: AccountSid,
        doc: AccountConfigurationDocument,
        planned: &[PlannedService],
        at: &str,
    ) -> Result<AccountConfiguration, ImportError> {
        let configuration = to_account_configuration(doc, at)?;
        if let Some(service) = configuration.default_chat_service_sid {
            let in_store = self.existing.tenant(account).is_some_and(|t| t.services().contains(&service));
            let in_document = planned.iter().any(|p| p.service.sid == service);
            if !in_store && !in_document && service != default_service_sid(account) {
                return Err(fault(&format!("{at}.default_chat_service_sid"), format!("no service {service}")));
            }
        }
        Ok(configuration)
    }

    /// The account's Address Configurations: new SIDs, one per address and type.
    fn addresses(
        &mut self,
        account: AccountSid,
        docs: Vec<AddressConfigurationDocument>,
        at: &str,
    ) -> Result<Vec<AddressConfiguration>, ImportError> {
        let tenant = self.existing.tenant(account);
        let mut addresses: Vec<AddressConfiguration> = Vec::with_capacity(docs.len());
        for (i, doc) in docs.into_iter().enumerate() {
            let at = format!("{at}.address_configurations[{i}]");
            let taken = |sid: &AddressConfigurationSid, planned: &[AddressConfiguration]| {
                tenant.is_some_and(|t| t.addresses().contains(sid)) || planned.iter().any(|a| a.sid == *sid)
            };
            let sid = match &doc.sid {
                Some(raw) => parse_sid(raw, &format!("{at}.sid"))?,
                None => fresh(self.sids, AddressConfigurationSid::from_bits, |sid| taken(sid, &addresses)),
            };
            if taken(&sid, &addresses) {
                return Err(fault(&format!("{at}.sid"), format!("address configuration {sid} already exists")));
            }
            let address = to_address_configuration(
                AddressConfigurationDocument { sid: Some(sid.to_string()), ..doc },
                self.now,
                &at,
            )?;
            let same = |other: &AddressConfiguration| other.kind == address.kind && other.address == address.address;
            if tenant.is_some_and(|t| t.addresses().values().any(same)) || addresses.iter().any(same) {
                return Err(fault(
                    &format!("{at}.address"),
                    format!("{} already has a {} configuration", address.address, address.kind.as_str()),
                ));
            }
            addresses.push(address);
        }
        Ok(addresses)
    }

    fn message(
        &mut self,
        place: &MessagePlace,
        prepared: PreparedMessage,
        at: impl Fn() -> String,
    ) -> Result<StoredMessage, ImportError> {
        let key = |sid| (place.account, place.service_sid, sid);
        let taken = |sid: &MessageSid, seen: &HashSet<_>| {
            place.service.is_some_and(|s| s.has_message(sid)) || seen.contains(&key(*sid))
        };
        let sid = match prepared.sid {
            Some(sid) => sid,
            None => fresh(self.sids, MessageSid::from_bits, |sid| taken(sid, &self.seen_messages)),
        };
        if taken(&sid, &self.seen_messages) || !self.seen_messages.insert(key(sid)) {
            return Err(fault(
                &format!("{}.sid", at()),
                format!("message {sid} already exists in service {}", place.service_sid),
            ));
        }
        let mut message = prepared.message;
        message.place(sid, place.conversation);
        Ok(message)
    }
}

// --- Records from documents (shared by import and the state file's replay) -----------

/// A service from its document. `sid` must be set.
pub(super) fn to_service(
    doc: ServiceDocument,
    is_default: bool,
    now: Timestamp,
    at: &str,
) -> Result<Service, ImportError> {
    let sid: ChatServiceSid = parse_sid(doc.sid.as_deref().unwrap_or_default(), &format!("{at}.sid"))?;
    let friendly_name = match doc.friendly_name {
        Some(name) => within(Some(name), limits::name, at, "friendly_name")?,
        None if is_default => Some(DEFAULT_SERVICE_NAME.to_owned()),
        None => None,
    };
    let date_created = date(&doc.date_created, &format!("{at}.date_created"))?.unwrap_or(now);
    Ok(Service {
        sid,
        friendly_name: friendly_name.unwrap_or_else(|| sid.to_string()).into(),
        date_created,
        date_updated: date(&doc.date_updated, &format!("{at}.date_updated"))?.unwrap_or(date_created),
    })
}

/// A conversation's own fields from its document (messages aside). `sid` must be set.
pub(super) fn to_conversation(
    doc: ConversationDocument,
    service: ChatServiceSid,
    now: Timestamp,
    at: &str,
) -> Result<Conversation, ImportError> {
    let date_created = date(&doc.date_created, &format!("{at}.date_created"))?.unwrap_or(now);
    let unique_name = within(doc.unique_name, limits::unique_name, at, "unique_name")?;
    let attributes = within(doc.attributes, conversation_attributes, at, "attributes")?;
    Ok(Conversation {
        sid: parse_sid(doc.sid.as_deref().unwrap_or_default(), &format!("{at}.sid"))?,
        chat_service_sid: service,
        friendly_name: within(doc.friendly_name, limits::name, at, "friendly_name")?.map(Into::into),
        unique_name: unique_name.map(Into::into),
        attributes: attributes.map(Into::into),
        state: parse_enum(doc.state.as_deref(), ConversationState::parse, &format!("{at}.state"))?.unwrap_or_default(),
        channel_type: parse_enum(doc.channel_type.as_deref(), ChannelType::parse, &format!("{at}.type"))?
            .unwrap_or(ChannelType::Private),
        created_by: within(doc.created_by, limits::name, at, "created_by")?.map(Into::into),
        date_created,
        date_updated: date(&doc.date_updated, &format!("{at}.date_updated"))?.unwrap_or(date_created),
        timers: match doc.timers {
            Some(timers) => ConversationTimers {
                date_inactive: date(&timers.date_inactive, &format!("{at}.timers.date_inactive"))?,
                date_closed: date(&timers.date_closed, &format!("{at}.timers.date_closed"))?,
            },
            None => ConversationTimers::default(),
        },
    })
}

/// A message from its document. `sid` and `index` must be set.
pub(super) fn to_message(
    doc: MessageDocument,
    conversation_sid: ConversationSid,
    now: Timestamp,
    at: &str,
) -> Result<StoredMessage, ImportError> {
    let index = doc.index.ok_or_else(|| fault(&format!("{at}.index"), "missing".into()))?;
    let PreparedMessage { sid, mut message } = prepare_message(doc, index, now, at)?;
    let sid = sid.ok_or_else(|| fault(&format!("{at}.sid"), "missing".into()))?;
    message.place(sid, conversation_sid);
    Ok(message)
}

/// A message's fields, author and body from its document, checked: everything but its
/// SID and its conversation's, which may still have to be chosen. `index` is its index.
fn prepare_message(doc: MessageDocument, index: u64, now: Timestamp, at: &str) -> Result<PreparedMessage, ImportError> {
    let sid = doc.sid.as_deref().map(|raw| parse_sid(raw, &format!("{at}.sid"))).transpose()?;
    let date_created = date(&doc.date_created, &format!("{at}.date_created"))?.unwrap_or(now);
    let author = within(doc.author, limits::name, at, "author")?;
    let body = within(doc.body, limits::body, at, "body")?;
    let attributes = within(doc.attributes, message_attributes, at, "attributes")?;
    let last_updated_by = within(doc.last_updated_by, limits::name, at, "last_updated_by")?;
    let fields = Message {
        sid: MessageSid::from_bits(0),
        conversation_sid: ConversationSid::from_bits(0),
        index,
        attributes: attributes.map(Into::into),
        was_edited: doc.was_edited.unwrap_or(false),
        participant_sid: doc
            .participant_sid
            .as_deref()
            .map(|raw| parse_sid(raw, &format!("{at}.participant_sid")))
            .transpose()?,
        extras: MessageExtras {
            media: doc
                .media
                .map(|media| -> Result<MediaRef, ImportError> {
                    Ok(MediaRef {
                        sid: parse_sid(&media.sid, &format!("{at}.media.sid"))?,
                        size: media.size,
                        content_type: media.content_type.into(),
                        filename: media.filename.map(Into::into),
                    })
                })
                .transpose()?,
            content_sid: doc
                .content_sid
                .as_deref()
                .map(|raw| parse_sid(raw, &format!("{at}.content_sid")))
                .transpose()?,
            receipts: doc
                .receipts
                .into_iter()
                .enumerate()
                .map(|(r, receipt)| to_receipt(receipt, now, &format!("{at}.receipts[{r}]")))
                .collect::<Result<_, _>>()?,
            last_updated_by: last_updated_by.map(Into::into),
        }
        .boxed(),
        date_created,
        date_updated: date(&doc.date_updated, &format!("{at}.date_updated"))?.unwrap_or(date_created),
    };
    let message = StoredMessage::new(fields, author.as_deref().unwrap_or(DEFAULT_AUTHOR), body.as_deref());
    Ok(PreparedMessage { sid, message })
}

fn to_receipt(doc: ReceiptDocument, now: Timestamp, at: &str) -> Result<Receipt, ImportError> {
    let date_created = date(&doc.date_created, &format!("{at}.date_created"))?.unwrap_or(now);
    Ok(Receipt {
        sid: parse_sid(&doc.sid, &format!("{at}.sid"))?,
        participant_sid: parse_sid(&doc.participant_sid, &format!("{at}.participant_sid"))?,
        channel_message_sid: parse_sid(&doc.channel_message_sid, &format!("{at}.channel_message_sid"))?,
        status: parse_enum(Some(&doc.status), DeliveryStatus::parse, &format!("{at}.status"))?
            .unwrap_or(DeliveryStatus::Sent),
        error_code: doc.error_code,
        date_created,
        date_updated: date(&doc.date_updated, &format!("{at}.date_updated"))?.unwrap_or(date_created),
    })
}

/// A participant from its document. `sid` must be set.
pub(super) fn to_participant(
    doc: ParticipantDocument,
    role: RoleSid,
    now: Timestamp,
    at: &str,
) -> Result<Participant, ImportError> {
    let date_created = date(&doc.date_created, &format!("{at}.date_created"))?.unwrap_or(now);
    let binding = MessagingBinding {
        address: doc.address.map(Into::into),
        proxy_address: doc.proxy_address.map(Into::into),
        projected_address: doc.projected_address.map(Into::into),
    };
    let attributes = within(doc.attributes, message_attributes, at, "attributes")?;
    Ok(Participant {
        sid: parse_sid(doc.sid.as_deref().unwrap_or_default(), &format!("{at}.sid"))?,
        identity: doc.identity.map(Into::into),
        attributes: attributes.map(Into::into),
        binding: (binding != MessagingBinding::default()).then_some(binding),
        role_sid: doc
            .role_sid
            .as_deref()
            .map(|raw| parse_sid(raw, &format!("{at}.role_sid")))
            .transpose()?
            .unwrap_or(role),
        last_read_message_index: doc.last_read_message_index,
        last_read_timestamp: date(&doc.last_read_timestamp, &format!("{at}.last_read_timestamp"))?,
        date_created,
        date_updated: date(&doc.date_updated, &format!("{at}.date_updated"))?.unwrap_or(date_created),
        notification_level: parse_enum(
            doc.notification_level.as_deref(),
            NotificationLevel::parse,
            &format!("{at}.notification_level"),
        )?
        .unwrap_or_default(),
    })
}

/// An upload from its document.
pub(super) fn to_media(doc: MediaDocument, now: Timestamp, at: &str) -> Result<Media, ImportError> {
    use base64::Engine;
    let content = base64::engine::general_purpose::STANDARD
        .decode(doc.content_base64.as_bytes())
        .map_err(|_| fault(&format!("{at}.content_base64"), "not base64".into()))?;
    let attached_to = match doc.attached_to {
        Some((conversation, message)) => Some((
            parse_sid(&conversation, &format!("{at}.attached_to[0]"))?,
            parse_sid(&message, &format!("{at}.attached_to[1]"))?,
        )),
        None => None,
    };
    Ok(Media {
        sid: parse_sid(&doc.sid, &format!("{at}.sid"))?,
        content_type: doc.content_type.into(),
        filename: doc.filename.map(Into::into),
        author: doc.author.map(Into::into),
        content: content.into(),
        attached_to,
        date_created: date(&doc.date_created, &format!("{at}.date_created"))?.unwrap_or(now),
    })
}

pub(super) fn date(value: &Option<String>, at: &str) -> Result<Option<Timestamp>, ImportError> {
    value
        .as_deref()
        .map(|raw| Timestamp::parse_rfc3339(raw).map_err(|_| fault(at, format!("`{raw}` is not an RFC 3339 date"))))
        .transpose()
}

impl Plan {
    /// The changes that make the plan so. They all fit the tables it was checked against:
    /// [`plan`] checked everything.
    pub(super) fn into_changes(self, now: Timestamp) -> Vec<Change> {
        let mut changes = Vec::new();
        for PlannedAccount { sid: account, is_new, services, configuration, webhooks, addresses, credentials } in
            self.accounts
        {
            if is_new {
                changes.push(Change::OpenAccount { account, at: now });
            }
            for planned in services {
                let service = planned.service.sid;
                if planned.is_new {
                    changes.push(Change::PutService { account, service: planned.service });
                }
                changes.extend(planned.roles.into_iter().map(|role| Change::PutRole { account, service, role }));
                if let Some(settings) = planned.webhooks {
                    changes.push(Change::PutServiceWebhooks { account, service, settings });
                }
                if let Some(configuration) = planned.configuration {
                    changes.push(Change::PutServiceConfiguration { account, service, configuration });
                }
                changes.extend(planned.users.into_iter().map(|user| Change::PutUser { account, user }));
                changes.extend(planned.bindings.into_iter().map(|binding| Change::PutBinding { account, binding }));
                if let Some(notifications) = planned.notifications {
                    changes.push(Change::PutServiceNotifications { account, service, notifications });
                }
                if let Some(settings) = planned.chat_settings {
                    changes.push(Change::PutChatServiceSettings { account, service, settings });
                }
                for PlannedConversation { conversation, messages, next_index, participants, webhooks, invites } in
                    planned.conversations
                {
                    let conversation_sid = conversation.sid;
                    changes.push(Change::PutConversation { account, conversation });
                    changes.extend(participants.into_iter().map(|participant| Change::PutParticipant {
                        account,
                        service,
                        conversation: conversation_sid,
                        participant,
                    }));
                    changes.extend(messages.into_iter().map(|message| Change::PutMessage {
                        account,
                        service,
                        message,
                    }));
                    changes.push(Change::ReserveIndices {
                        account,
                        service,
                        conversation: conversation_sid,
                        next_index,
                    });
                    changes.extend(webhooks.into_iter().map(|webhook| Change::PutConversationWebhook {
                        account,
                        service,
                        webhook,
                    }));
                    changes.extend(invites.into_iter().map(|invite| Change::PutInvite { account, service, invite }));
                }
                changes.extend(planned.media.into_iter().map(|media| Change::PutMedia { account, service, media }));
            }
            // After the services, one of which may be the new default.
            if let Some(settings) = webhooks {
                changes.push(Change::PutAccountWebhooks { account, settings });
            }
            if let Some(configuration) = configuration {
                changes.push(Change::PutAccountConfiguration { account, configuration });
            }
            changes.extend(addresses.into_iter().map(|address| Change::PutAddressConfiguration { account, address }));
            changes.extend(credentials.into_iter().map(|credential| Change::PutCredential { account, credential }));
        }
        changes
    }
}

pub(super) fn fault(location: &str, problem: String) -> ImportError {
    ImportError { location: location.to_owned(), problem }
}

pub(super) fn parse_sid<T: std::str::FromStr>(raw: &str, at: &str) -> Result<T, ImportError> {
    raw.parse().map_err(|_| fault(at, format!("`{raw}` is not a SID of the right kind")))
}

fn parse_enum<T>(value: Option<&str>, parse: fn(&str) -> Option<T>, at: &str) -> Result<Option<T>, ImportError> {
    value.map(|raw| parse(raw).ok_or_else(|| fault(at, format!("`{raw}` is not an allowed value")))).transpose()
}

/// Checks a text field against one of the store's limits, reporting a violation at
/// `at.field`.
fn within(
    value: Option<String>,
    rule: impl Fn(&str) -> Result<(), Violation>,
    at: &str,
    field: &str,
) -> Result<Option<String>, ImportError> {
    match value.as_deref().map(rule) {
        Some(Err(violation)) => Err(fault(&format!("{at}.{field}"), violation.to_string())),
        _ => Ok(value),
    }
}

fn message_attributes(value: &str) -> Result<(), Violation> {
    limits::attributes(value, limits::MESSAGE_ATTRIBUTES_MAX_BYTES)
}

fn conversation_attributes(value: &str) -> Result<(), Violation> {
    limits::attributes(value, limits::CONVERSATION_ATTRIBUTES_MAX_BYTES)
}
