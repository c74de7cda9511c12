//! The webhook configuration the store keeps: account- and service-level settings,
//! conversation-scoped webhooks and Address Configurations. Which events they describe
//! and how they are sent is `crate::webhooks`' business; the store only keeps them, like
//! any other record, behind the one write path.

use std::sync::Arc;

use crate::sid::{
    AddressConfigurationSid, ChatServiceSid, ConversationSid, FlowSid, MessagingServiceSid, RoleSid, WebhookSid,
};
use crate::time::Timestamp;

/// A Conversations webhook event, by the name Twilio gives it in `EventType` and `Filters`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WebhookEvent {
    MessageAdd,
    MessageAdded,
    MessageUpdate,
    MessageUpdated,
    MessageRemove,
    MessageRemoved,
    ConversationAdd,
    ConversationAdded,
    ConversationUpdate,
    ConversationUpdated,
    ConversationRemove,
    ConversationRemoved,
    ConversationStateUpdated,
    ParticipantAdd,
    ParticipantAdded,
    ParticipantUpdate,
    ParticipantUpdated,
    ParticipantRemove,
    ParticipantRemoved,
    DeliveryUpdated,
    UserAdded,
    UserUpdate,
    UserUpdated,
}

impl WebhookEvent {
    /// Every event, in the order of Twilio's `Filters` documentation.
    pub const ALL: [Self; 23] = [
        Self::MessageAdded,
        Self::MessageUpdated,
        Self::MessageRemoved,
        Self::MessageAdd,
        Self::MessageUpdate,
        Self::MessageRemove,
        Self::ConversationUpdated,
        Self::ConversationRemoved,
        Self::ConversationAdd,
        Self::ConversationAdded,
        Self::ConversationRemove,
        Self::ConversationUpdate,
        Self::ConversationStateUpdated,
        Self::ParticipantAdded,
        Self::ParticipantUpdated,
        Self::ParticipantRemoved,
        Self::ParticipantAdd,
        Self::ParticipantRemove,
        Self::ParticipantUpdate,
        Self::DeliveryUpdated,
        Self::UserAdded,
        Self::UserUpdate,
        Self::UserUpdated,
    ];

    /// Twilio's name: `onMessageAdded`, …
    pub fn name(self) -> &'static str {
        match self {
            Self::MessageAdd => "onMessageAdd",
            Self::MessageAdded => "onMessageAdded",
            Self::MessageUpdate => "onMessageUpdate",
            Self::MessageUpdated => "onMessageUpdated",
            Self::MessageRemove => "onMessageRemove",
            Self::MessageRemoved => "onMessageRemoved",
            Self::ConversationAdd => "onConversationAdd",
            Self::ConversationAdded => "onConversationAdded",
            Self::ConversationUpdate => "onConversationUpdate",
            Self::ConversationUpdated => "onConversationUpdated",
            Self::ConversationRemove => "onConversationRemove",
            Self::ConversationRemoved => "onConversationRemoved",
            Self::ConversationStateUpdated => "onConversationStateUpdated",
            Self::ParticipantAdd => "onParticipantAdd",
            Self::ParticipantAdded => "onParticipantAdded",
            Self::ParticipantUpdate => "onParticipantUpdate",
            Self::ParticipantUpdated => "onParticipantUpdated",
            Self::ParticipantRemove => "onParticipantRemove",
            Self::ParticipantRemoved => "onParticipantRemoved",
            Self::DeliveryUpdated => "onDeliveryUpdated",
            Self::UserAdded => "onUserAdded",
            Self::UserUpdate => "onUserUpdate",
            Self::UserUpdated => "onUserUpdated",
        }
    }

    /// The event Twilio calls `name` (exact case, as Twilio's own lists spell them).
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|event| event.name() == name)
    }

    /// Whether the event is a pre-event (sent before the action, which its answer can
    /// modify or reject) rather than a post-event (sent after it was committed).
    pub fn is_pre(self) -> bool {
        matches!(
            self,
            Self::MessageAdd
                | Self::MessageUpdate
                | Self::MessageRemove
                | Self::ConversationAdd
                | Self::ConversationUpdate
                | Self::ConversationRemove
                | Self::ParticipantAdd
                | Self::ParticipantUpdate
                | Self::ParticipantRemove
                | Self::UserUpdate
        )
    }
}

/// How a webhook is sent: parameters in the query string (`GET`) or a form body (`POST`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum HttpMethod {
    Get,
    #[default]
    Post,
}

impl HttpMethod {
    /// Either case: Twilio's account and service levels use `GET`/`POST`, conversation
    /// webhooks and Address Configurations `get`/`post`.
    pub fn parse(value: &str) -> Option<Self> {
        if value.eq_ignore_ascii_case("GET") {
            Some(Self::Get)
        } else if value.eq_ignore_ascii_case("POST") {
            Some(Self::Post)
        } else {
            None
        }
    }

    pub fn upper(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
        }
    }

    pub fn lower(self) -> &'static str {
        match self {
            Self::Get => "get",
            Self::Post => "post",
        }
    }
}

/// Where the account-level hooks go: to the URLs (`webhook`) or to Flex (`flex`, recorded,
/// never sent).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum AccountWebhookTarget {
    #[default]
    Webhook,
    Flex,
}

/// The account-level (`/v1/Configuration/Webhooks`) or service-level
/// (`/v1/Services/{IS}/Configuration/Webhooks`) webhook settings. `None` is "never set",
/// which Twilio renders as `null`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WebhookSettings {
    pub pre_webhook_url: Option<Arc<str>>,
    pub post_webhook_url: Option<Arc<str>>,
    pub method: Option<HttpMethod>,
    /// The events sent; an event not listed is not sent.
    pub filters: Option<Vec<WebhookEvent>>,
    /// Account level only.
    pub target: Option<AccountWebhookTarget>,
    pub date_updated: Option<Timestamp>,
}

impl WebhookSettings {
    /// Whether these settings send anything: a service's settings replace the account's
    /// only when they do (the fidelity choice in the README, "Webhooks").
    pub fn is_configured(&self) -> bool {
        self.pre_webhook_url.is_some() || self.post_webhook_url.is_some()
    }

    /// Whether `event` is in the filters.
    pub fn wants(&self, event: WebhookEvent) -> bool {
        self.filters.as_ref().is_some_and(|filters| filters.contains(&event))
    }
}

/// What a conversation-scoped webhook calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScopedTarget {
    /// A URL, for the events in `filters`.
    Webhook,
    /// A URL, for messages whose body holds one of `triggers`.
    Trigger,
    /// A Studio Flow: recorded in the delivery log, never run.
    Studio,
}

impl ScopedTarget {
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "webhook" => Some(Self::Webhook),
            "trigger" => Some(Self::Trigger),
            "studio" => Some(Self::Studio),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Webhook => "webhook",
            Self::Trigger => "trigger",
            Self::Studio => "studio",
        }
    }
}

/// A conversation-scoped webhook (`WH…`): post-events only, at most five per
/// conversation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConversationWebhook {
    pub sid: WebhookSid,
    pub conversation_sid: ConversationSid,
    pub target: ScopedTarget,
    pub url: Option<Arc<str>>,
    pub method: HttpMethod,
    pub filters: Vec<WebhookEvent>,
    pub triggers: Vec<Arc<str>>,
    pub flow_sid: Option<FlowSid>,
    pub replay_after: Option<u64>,
    pub date_created: Timestamp,
    pub date_updated: Timestamp,
}

/// The channel an Address Configuration is for (`Type`), by Twilio's lowercase name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddressType {
    Sms,
    Whatsapp,
    Messenger,
    Gbm,
    Email,
    Rcs,
    Apple,
    Chat,
}

impl AddressType {
    pub const ALL: [Self; 8] =
        [Self::Sms, Self::Whatsapp, Self::Messenger, Self::Gbm, Self::Email, Self::Rcs, Self::Apple, Self::Chat];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sms => "sms",
            Self::Whatsapp => "whatsapp",
            Self::Messenger => "messenger",
            Self::Gbm => "gbm",
            Self::Email => "email",
            Self::Rcs => "rcs",
            Self::Apple => "apple",
            Self::Chat => "chat",
        }
    }

    /// Either case, as Twilio accepts it (its example sends `whAtsAPP`).
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str().eq_ignore_ascii_case(value))
    }
}

/// What an Address Configuration's autocreation attaches to a new conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum AutoCreationType {
    Webhook,
    Studio,
    #[default]
    Default,
}

impl AutoCreationType {
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "webhook" => Some(Self::Webhook),
            "studio" => Some(Self::Studio),
            "default" => Some(Self::Default),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Webhook => "webhook",
            Self::Studio => "studio",
            Self::Default => "default",
        }
    }
}

/// `AutoCreation.*` of an Address Configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AutoCreation {
    pub enabled: bool,
    pub kind: AutoCreationType,
    /// The service new conversations go to; `None` is the account's default service.
    pub conversation_service_sid: Option<ChatServiceSid>,
    pub webhook_url: Option<Arc<str>>,
    pub webhook_method: Option<HttpMethod>,
    pub webhook_filters: Vec<WebhookEvent>,
    pub studio_flow_sid: Option<FlowSid>,
    pub studio_retry_count: Option<u32>,
}

/// An Address Configuration (`IG…`): what happens to a message texted to `address` that
/// no conversation takes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddressConfiguration {
    pub sid: AddressConfigurationSid,
    pub kind: AddressType,
    pub address: Arc<str>,
    pub friendly_name: Option<Arc<str>>,
    pub auto_creation: AutoCreation,
    pub address_country: Option<Arc<str>>,
    pub date_created: Timestamp,
    pub date_updated: Timestamp,
}

/// The webhooks that apply to one conversation (or, without one, to a service): the
/// settings in force (the service's when configured, else the account's) and the
/// conversation's own webhooks.
#[derive(Clone, Debug, Default)]
pub struct WebhookTargets {
    pub level: Option<WebhookLevel>,
    pub settings: WebhookSettings,
    pub scoped: Vec<ConversationWebhook>,
}

/// Which settings are in force.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WebhookLevel {
    Account,
    Service(ChatServiceSid),
}

/// A change to account- or service-level webhook settings (`POST …/Configuration/Webhooks`):
/// `None` leaves a field as it is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WebhookSettingsUpdate {
    /// `Some(None)` clears the URL (the client sent it empty).
    pub pre_webhook_url: Option<Option<Arc<str>>>,
    pub post_webhook_url: Option<Option<Arc<str>>>,
    pub method: Option<HttpMethod>,
    /// `Some(None)` clears the list (the client sent one empty `Filters`).
    pub filters: Option<Option<Vec<WebhookEvent>>>,
    pub target: Option<AccountWebhookTarget>,
}

impl WebhookSettings {
    /// These settings with `update` applied at `now`.
    pub fn updated(&self, update: WebhookSettingsUpdate, now: Timestamp) -> Self {
        Self {
            pre_webhook_url: update.pre_webhook_url.unwrap_or_else(|| self.pre_webhook_url.clone()),
            post_webhook_url: update.post_webhook_url.unwrap_or_else(|| self.post_webhook_url.clone()),
            method: update.method.or(self.method),
            filters: update.filters.unwrap_or_else(|| self.filters.clone()),
            target: update.target.or(self.target),
            date_updated: Some(now),
        }
    }
}

impl AccountWebhookTarget {
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "webhook" => Some(Self::Webhook),
            "flex" => Some(Self::Flex),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Webhook => "webhook",
            Self::Flex => "flex",
        }
    }
}

/// A conversation-scoped webhook's `Configuration.*` as a create or update gives it:
/// `None` is "not given".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScopedConfiguration {
    pub url: Option<Arc<str>>,
    pub method: Option<HttpMethod>,
    pub filters: Option<Vec<WebhookEvent>>,
    pub triggers: Option<Vec<Arc<str>>>,
    pub flow_sid: Option<FlowSid>,
}

/// At most this many webhooks per conversation (Twilio's error 50361 on the sixth).
pub const MAX_CONVERSATION_WEBHOOKS: usize = 5;

/// The account's `/v1/Configuration` beyond its webhooks. `None` is "never set".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccountConfiguration {
    /// The service `/v1/Conversations` uses; `None` is the one derived from the account SID.
    pub default_chat_service_sid: Option<ChatServiceSid>,
    /// `None` is the one derived from the account SID.
    pub default_messaging_service_sid: Option<MessagingServiceSid>,
    /// ISO 8601 durations, stored and echoed: timers are not run.
    pub default_inactive_timer: Option<Arc<str>>,
    pub default_closed_timer: Option<Arc<str>>,
}

/// A service's `/v1/Services/{IS}/Configuration`, stored and echoed. `None` is "never set".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServiceConfiguration {
    pub default_conversation_creator_role_sid: Option<RoleSid>,
    pub default_conversation_role_sid: Option<RoleSid>,
    pub default_chat_service_role_sid: Option<RoleSid>,
    pub reachability_enabled: bool,
}

/// A change to an Address Configuration (`POST /v1/Configuration/Addresses[/{IG}]`):
/// `None` leaves a field as it is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AddressConfigurationUpdate {
    pub friendly_name: Option<Arc<str>>,
    pub enabled: Option<bool>,
    pub kind: Option<AutoCreationType>,
    pub conversation_service_sid: Option<ChatServiceSid>,
    pub webhook_url: Option<Arc<str>>,
    pub webhook_method: Option<HttpMethod>,
    pub webhook_filters: Option<Vec<WebhookEvent>>,
    pub studio_flow_sid: Option<FlowSid>,
    pub studio_retry_count: Option<u32>,
}

impl AddressConfiguration {
    /// This configuration with `update` applied at `now`.
    pub fn updated(&self, update: AddressConfigurationUpdate, now: Timestamp) -> Self {
        let current = &self.auto_creation;
        Self {
            friendly_name: update.friendly_name.or_else(|| self.friendly_name.clone()),
            auto_creation: AutoCreation {
                enabled: update.enabled.unwrap_or(current.enabled),
                kind: update.kind.unwrap_or(current.kind),
                conversation_service_sid: update.conversation_service_sid.or(current.conversation_service_sid),
                webhook_url: update.webhook_url.or_else(|| current.webhook_url.clone()),
                webhook_method: update.webhook_method.or(current.webhook_method),
                webhook_filters: update.webhook_filters.unwrap_or_else(|| current.webhook_filters.clone()),
                studio_flow_sid: update.studio_flow_sid.or(current.studio_flow_sid),
                studio_retry_count: update.studio_retry_count.or(current.studio_retry_count),
            },
            date_updated: now,
            ..self.clone()
        }
    }

    /// Whether this configuration is for messages to `address` arriving over the channel its
    /// form implies: `whatsapp:`-prefixed addresses are WhatsApp, any other SMS.
    pub fn matches_channel_of(&self, address: &str) -> bool {
        let channel = if address.starts_with("whatsapp:") { AddressType::Whatsapp } else { AddressType::Sms };
        self.kind == channel
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_name_parses_back_and_pre_events_are_the_present_tense() {
        for event in WebhookEvent::ALL {
            assert_eq!(WebhookEvent::parse(event.name()), Some(event));
        }
        assert!(WebhookEvent::MessageAdd.is_pre());
        assert!(!WebhookEvent::MessageAdded.is_pre());
        assert!(!WebhookEvent::ConversationStateUpdated.is_pre());
        assert!(WebhookEvent::UserUpdate.is_pre());
        assert_eq!(WebhookEvent::parse("onmessageadded"), None);
    }
}
