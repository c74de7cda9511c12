//! A change to the store: the one currency of every write.
//!
//! Live API writes (both URL forms and Chat v2), the control plane (reset, receipts), an
//! import and the state file's replay all describe what they do as [`Change`]s, and one
//! function (`tables::Tables::apply`) applies them. A change carries typed SIDs
//! and, where a record is created or replaced, the whole new record, so applying it needs
//! no clock, no SID source and no further check: the same change applied to the same state
//! always gives the same state, which is what makes the state file's replay repeatable.

use std::sync::Arc;

use super::bindings::Binding;
use super::credentials::Credential;
use super::invites::Invite;
use super::model::{Conversation, Media, Participant, Service, StoredMessage};
use super::notifications::NotificationConfiguration;
use super::roles::Role;
use super::users::User;
use super::webhook_model::{
    AccountConfiguration, AddressConfiguration, ConversationWebhook, ServiceConfiguration, WebhookSettings,
};
use crate::sid::{
    AccountSid, AddressConfigurationSid, ChatServiceSid, ConversationSid, CredentialSid, MediaSid, MessageSid,
    ParticipantSid, RoleSid, UserSid, WebhookSid,
};
use crate::sid::{BindingSid, InviteSid};
use crate::time::Timestamp;

/// One change to the state.
#[derive(Clone, Debug)]
pub enum Change {
    /// The first write to an account: it gets its default service, created at `at`.
    /// Reads of an account never written to see the same thing without storing it.
    OpenAccount {
        account: AccountSid,
        at: Timestamp,
    },
    /// Everything, or one account, wiped.
    Reset {
        account: Option<AccountSid>,
    },
    /// A service's own fields, created or replaced; its conversations are untouched.
    PutService {
        account: AccountSid,
        service: Service,
    },
    /// A service, with everything in it.
    DeleteService {
        account: AccountSid,
        service: ChatServiceSid,
    },
    /// A conversation's own fields, created or replaced; its messages and participants
    /// are untouched. Its `chat_service_sid` says where it lives.
    PutConversation {
        account: AccountSid,
        conversation: Conversation,
    },
    /// A conversation with its messages (and their media) and participants.
    DeleteConversation {
        account: AccountSid,
        service: ChatServiceSid,
        conversation: ConversationSid,
    },
    /// A message, created or replaced (its `conversation_sid` says where it lives). A
    /// message with media marks the upload attached to it.
    PutMessage {
        account: AccountSid,
        service: ChatServiceSid,
        message: StoredMessage,
    },
    /// A message and its media. Its index is not handed out again.
    DeleteMessage {
        account: AccountSid,
        service: ChatServiceSid,
        conversation: ConversationSid,
        message: MessageSid,
    },
    /// Indices below `next_index` count as used (by messages deleted since): an import
    /// carries them so that they are never handed out again.
    ReserveIndices {
        account: AccountSid,
        service: ChatServiceSid,
        conversation: ConversationSid,
        next_index: u64,
    },
    /// A participant, added or replaced.
    PutParticipant {
        account: AccountSid,
        service: ChatServiceSid,
        conversation: ConversationSid,
        participant: Participant,
    },
    DeleteParticipant {
        account: AccountSid,
        service: ChatServiceSid,
        conversation: ConversationSid,
        participant: ParticipantSid,
    },
    /// An upload, with its content.
    PutMedia {
        account: AccountSid,
        service: ChatServiceSid,
        media: Media,
    },
    /// An upload never attached to a message, deleted once expired.
    DeleteMedia {
        account: AccountSid,
        service: ChatServiceSid,
        media: MediaSid,
    },
    /// The account-level webhook settings, replaced.
    PutAccountWebhooks {
        account: AccountSid,
        settings: WebhookSettings,
    },
    /// A service's webhook settings, replaced.
    PutServiceWebhooks {
        account: AccountSid,
        service: ChatServiceSid,
        settings: WebhookSettings,
    },
    /// The account's configuration, replaced; its default chat service must exist.
    PutAccountConfiguration {
        account: AccountSid,
        configuration: AccountConfiguration,
    },
    /// A service's configuration, replaced.
    PutServiceConfiguration {
        account: AccountSid,
        service: ChatServiceSid,
        configuration: ServiceConfiguration,
    },
    /// A conversation-scoped webhook, created or replaced (its `conversation_sid` says
    /// where it lives).
    PutConversationWebhook {
        account: AccountSid,
        service: ChatServiceSid,
        webhook: ConversationWebhook,
    },
    DeleteConversationWebhook {
        account: AccountSid,
        service: ChatServiceSid,
        conversation: ConversationSid,
        webhook: WebhookSid,
    },
    /// An Address Configuration, created or replaced.
    PutAddressConfiguration {
        account: AccountSid,
        address: AddressConfiguration,
    },
    DeleteAddressConfiguration {
        account: AccountSid,
        address: AddressConfigurationSid,
    },
    /// A role of a service, created or replaced (a default one replaced when changed).
    PutRole {
        account: AccountSid,
        service: ChatServiceSid,
        role: Role,
    },
    /// A push credential of the account, created or replaced.
    PutCredential {
        account: AccountSid,
        credential: Credential,
    },
    DeleteCredential {
        account: AccountSid,
        credential: CredentialSid,
    },
    /// A role of a service (never a default one).
    DeleteRole {
        account: AccountSid,
        service: ChatServiceSid,
        role: RoleSid,
    },
    /// A user, created or replaced (its `chat_service_sid` says where it lives); its
    /// identity must be free in the service.
    PutUser {
        account: AccountSid,
        user: User,
    },
    DeleteUser {
        account: AccountSid,
        service: ChatServiceSid,
        user: UserSid,
    },
    /// A push binding, created or replaced (its `chat_service_sid` says where it lives):
    /// only imports make them, as only client SDKs do on Twilio.
    PutBinding {
        account: AccountSid,
        binding: Binding,
    },
    DeleteBinding {
        account: AccountSid,
        service: ChatServiceSid,
        binding: BindingSid,
    },
    /// A service's push notification configuration, replaced.
    PutServiceNotifications {
        account: AccountSid,
        service: ChatServiceSid,
        notifications: NotificationConfiguration,
    },
    /// A service's Chat v2 settings that Conversations has no record for, replaced.
    PutChatServiceSettings {
        account: AccountSid,
        service: ChatServiceSid,
        settings: super::ChatServiceSettings,
    },
    /// A Chat v2 invite, created or replaced (its `conversation_sid` says where it lives).
    PutInvite {
        account: AccountSid,
        service: ChatServiceSid,
        invite: Invite,
    },
    DeleteInvite {
        account: AccountSid,
        service: ChatServiceSid,
        conversation: ConversationSid,
        invite: InviteSid,
    },
}

impl Change {
    /// The account the change is about; `None` for a reset of every account.
    pub fn account(&self) -> Option<AccountSid> {
        match self {
            Self::Reset { account } => *account,
            Self::OpenAccount { account, .. }
            | Self::PutService { account, .. }
            | Self::DeleteService { account, .. }
            | Self::PutConversation { account, .. }
            | Self::DeleteConversation { account, .. }
            | Self::PutMessage { account, .. }
            | Self::DeleteMessage { account, .. }
            | Self::ReserveIndices { account, .. }
            | Self::PutParticipant { account, .. }
            | Self::DeleteParticipant { account, .. }
            | Self::PutMedia { account, .. }
            | Self::DeleteMedia { account, .. }
            | Self::PutAccountWebhooks { account, .. }
            | Self::PutServiceWebhooks { account, .. }
            | Self::PutAccountConfiguration { account, .. }
            | Self::PutServiceConfiguration { account, .. }
            | Self::PutConversationWebhook { account, .. }
            | Self::DeleteConversationWebhook { account, .. }
            | Self::PutAddressConfiguration { account, .. }
            | Self::DeleteAddressConfiguration { account, .. }
            | Self::PutRole { account, .. }
            | Self::DeleteRole { account, .. }
            | Self::PutCredential { account, .. }
            | Self::DeleteCredential { account, .. } => Some(*account),
            Self::PutUser { account, .. } | Self::DeleteUser { account, .. } => Some(*account),
            Self::PutBinding { account, .. }
            | Self::DeleteBinding { account, .. }
            | Self::PutServiceNotifications { account, .. }
            | Self::PutChatServiceSettings { account, .. } => Some(*account),
            Self::PutInvite { account, .. } | Self::DeleteInvite { account, .. } => Some(*account),
        }
    }
}

/// What a change replaced or removed: the record as it was before, for subscribers that
/// render "updated" and "removed" events.
#[derive(Clone, Debug)]
pub enum Prior {
    /// Nothing was there (a creation), or the change replaces no single record.
    Nothing,
    Service(Service),
    Conversation(Conversation),
    Message(StoredMessage),
    Participant(Participant),
    Media(Media),
    ConversationWebhook(ConversationWebhook),
    AddressConfiguration(AddressConfiguration),
    Role(Role),
    Credential(Credential),
    User(User),
    Binding(Binding),
    Invite(Invite),
}

/// A committed change, as the change feed delivers it.
#[derive(Clone, Debug)]
pub struct Committed {
    /// The change's position in the store's history: strictly increasing, one per change,
    /// the same number the state file records it under.
    pub seq: u64,
    pub change: Change,
    /// The record the change replaced or removed.
    pub before: Prior,
    /// Who made it, when the writer said (see [`Origin`]); `None` for the REST API without
    /// `X-Twilio-Webhook-Enabled`, the control plane's own writes, imports and replays.
    pub origin: Option<Arc<Origin>>,
}

/// Who made a change: what a webhook reports as `Source` and `ClientIdentity`, and whether
/// the change fires webhooks at all. Not part of the change itself: the state file does
/// not keep it, since a replay fires nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    pub source: Source,
    /// The chat user who acted through a client SDK.
    pub client_identity: Option<Arc<str>>,
    /// Whether post-event webhooks are sent for the change: always for SDK and SMS
    /// actions, for REST ones only with `X-Twilio-Webhook-Enabled: true`.
    pub fires_webhooks: bool,
    /// The number pair an inbound SMS or WhatsApp message came through, which the
    /// conversation it autocreates reports in `onConversationAdded`.
    pub binding: Option<AddressPair>,
    /// Ties together the changes of one simulated action, so that it can report the
    /// webhooks they caused.
    pub correlation: Option<u64>,
}

/// An SMS or WhatsApp user's address and the Twilio number they texted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddressPair {
    pub address: Arc<str>,
    pub proxy_address: Arc<str>,
}

/// Where an action came from, as Twilio's webhooks name it in `Source`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Api,
    Sdk,
    Sms,
    Whatsapp,
    /// A conversation's inactive or closed timer ran out; its webhook names it in `Reason`.
    Timer,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Api => "API",
            Self::Sdk => "SDK",
            Self::Sms => "SMS",
            Self::Whatsapp => "WHATSAPP",
            Self::Timer => "TIMER",
        }
    }
}

impl Origin {
    /// A REST call that asked for webhooks (`X-Twilio-Webhook-Enabled: true`).
    pub fn api_with_webhooks() -> Self {
        Self { source: Source::Api, client_identity: None, fires_webhooks: true, binding: None, correlation: None }
    }

    /// A timer that ran out. Like an SDK action, it always fires webhooks: Twilio sends
    /// `onConversationStateUpdated` with `Reason=TIMER` whoever set the timer.
    pub fn timer() -> Self {
        Self { source: Source::Timer, client_identity: None, fires_webhooks: true, binding: None, correlation: None }
    }
}

/// The feed's unit: shared, so that every subscriber reads the same allocation.
pub type CommittedRef = Arc<Committed>;
