//! The records the store keeps, and the validated inputs that create and change them.
//!
//! Records hold only what cannot be derived: the account, URLs and links are added when a
//! record is rendered, so a message costs its text plus a few dozen bytes.

use std::sync::Arc;

use crate::sid::{ChatServiceSid, ConversationSid, MessageSid};
use crate::time::Timestamp;

/// A Conversation Service (`IS…`).
#[derive(Clone, Debug)]
pub struct Service {
    pub sid: ChatServiceSid,
    pub friendly_name: Arc<str>,
    pub date_created: Timestamp,
    pub date_updated: Timestamp,
}

/// The lifecycle state of a conversation, as Twilio names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ConversationState {
    Initializing,
    Inactive,
    #[default]
    Active,
    Closed,
}

impl ConversationState {
    /// Parses Twilio's state names (lowercase, as the SDKs send them).
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "initializing" => Some(Self::Initializing),
            "inactive" => Some(Self::Inactive),
            "active" => Some(Self::Active),
            "closed" => Some(Self::Closed),
            _ => None,
        }
    }
}

/// How a Chat v2 channel is visible. Conversations are private channels in Chat.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChannelType {
    Public,
    Private,
}

impl ChannelType {
    /// Parses Chat's type names.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "public" => Some(Self::Public),
            "private" => Some(Self::Private),
            _ => None,
        }
    }

    /// The name Chat uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Private => "private",
        }
    }
}

/// A conversation (`CH…`), which Chat v2 calls a channel: its own fields, without its
/// messages.
#[derive(Clone, Debug)]
pub struct Conversation {
    pub sid: ConversationSid,
    pub chat_service_sid: ChatServiceSid,
    pub friendly_name: Option<Arc<str>>,
    pub unique_name: Option<Arc<str>>,
    /// `None` renders as Twilio's default `"{}"`.
    pub attributes: Option<Arc<str>>,
    pub state: ConversationState,
    /// Chat v2's view: `public` or `private`.
    pub channel_type: ChannelType,
    /// Chat v2's `created_by`; `None` renders as `system`.
    pub created_by: Option<Arc<str>>,
    pub date_created: Timestamp,
    pub date_updated: Timestamp,
}

/// A conversation as read out of the store, with what is derived from its messages.
#[derive(Clone, Debug)]
pub struct ConversationSnapshot {
    pub conversation: Conversation,
    pub message_count: usize,
}

/// A message (`IM…`) as stored. Text fields are boxed slices: no spare capacity per message.
#[derive(Clone, Debug)]
pub struct Message {
    pub sid: MessageSid,
    pub index: u64,
    pub author: Box<str>,
    pub body: Option<Box<str>>,
    /// `None` renders as Twilio's default `"{}"`.
    pub attributes: Option<Box<str>>,
    /// Chat v2's `last_updated_by`.
    pub last_updated_by: Option<Box<str>>,
    /// Whether the message was updated since it was created (Chat v2's `was_edited`).
    pub was_edited: bool,
    pub date_created: Timestamp,
    pub date_updated: Timestamp,
}

/// Validated message fields, already checked against Twilio's limits. On create `None`
/// takes Twilio's default; on update it leaves the field as it is.
#[derive(Clone, Debug, Default)]
pub struct MessageFields {
    pub author: Option<String>,
    pub body: Option<String>,
    pub attributes: Option<String>,
    pub last_updated_by: Option<String>,
    pub date_created: Option<Timestamp>,
    pub date_updated: Option<Timestamp>,
}

/// Validated conversation fields. On create `None` takes Twilio's default; on update it
/// leaves the field as it is.
#[derive(Clone, Debug, Default)]
pub struct ConversationFields {
    pub friendly_name: Option<String>,
    pub unique_name: Option<String>,
    pub attributes: Option<String>,
    pub state: Option<ConversationState>,
    /// Set on create only; conversations created through Conversations are private.
    pub channel_type: Option<ChannelType>,
    pub created_by: Option<String>,
    pub date_created: Option<Timestamp>,
    pub date_updated: Option<Timestamp>,
}

/// Filters of the conversation list.
#[derive(Clone, Copy, Debug, Default)]
pub struct ConversationFilter {
    pub state: Option<ConversationState>,
    pub channel_type: Option<ChannelType>,
    /// Created at or after this time.
    pub created_from: Option<Timestamp>,
    /// Created strictly before this time.
    pub created_before: Option<Timestamp>,
}

impl ConversationFilter {
    /// Whether `conversation` passes every filter that is set.
    pub fn matches(&self, conversation: &Conversation) -> bool {
        let created = conversation.date_created;
        self.state.is_none_or(|state| state == conversation.state)
            && self.channel_type.is_none_or(|channel_type| channel_type == conversation.channel_type)
            && self.created_from.is_none_or(|from| created >= from)
            && self.created_before.is_none_or(|before| created < before)
    }
}
