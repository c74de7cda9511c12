//! The records the store keeps, and the validated inputs that create and change them.
//!
//! Records hold only what cannot be derived: the account, URLs and links are added when a
//! record is rendered, so a message costs its text plus a few dozen bytes.

use std::sync::Arc;

use triomphe::HeaderSlice;

use crate::sid::{
    ChannelMessageSid, ChatServiceSid, ContentSid, ConversationSid, MediaSid, MessageSid, ParticipantSid, ReceiptSid,
    RoleSid,
};
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

    /// Twilio's name for the state.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Initializing => "initializing",
            Self::Inactive => "inactive",
            Self::Active => "active",
            Self::Closed => "closed",
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
    /// When the inactive and closed timers run out.
    pub timers: ConversationTimers,
}

/// When a conversation's timers run out: the instants `timers.date_inactive` and
/// `timers.date_closed` show. Kept as instants, not durations, so that a transition needs
/// no clock beyond the one comparison, and a replay reaches the same instants.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ConversationTimers {
    pub date_inactive: Option<Timestamp>,
    pub date_closed: Option<Timestamp>,
}

impl ConversationTimers {
    /// Whether neither timer is set (Twilio renders `timers` as `{}` then).
    pub fn is_empty(self) -> bool {
        self.date_inactive.is_none() && self.date_closed.is_none()
    }
}

impl Conversation {
    /// The next instant a timer moves this conversation on: the inactive timer only
    /// matters while it is active, the closed timer until it is closed.
    pub fn next_due(&self) -> Option<Timestamp> {
        let closed = self.timers.date_closed;
        match self.state {
            ConversationState::Closed => None,
            ConversationState::Active => match (self.timers.date_inactive, closed) {
                (Some(inactive), Some(closed)) => Some(inactive.min(closed)),
                (inactive, closed) => inactive.or(closed),
            },
            ConversationState::Inactive | ConversationState::Initializing => closed,
        }
    }

    /// The state the timers move the conversation to at `due` (its [`next_due`](Self::next_due)):
    /// closed when the closed timer has run out, inactive otherwise.
    pub fn timed_state(&self, due: Timestamp) -> ConversationState {
        if self.timers.date_closed.is_some_and(|closed| closed <= due) {
            ConversationState::Closed
        } else {
            ConversationState::Inactive
        }
    }
}

/// A conversation as read out of the store, with what is derived from its messages.
#[derive(Clone, Debug)]
pub struct ConversationSnapshot {
    pub conversation: Conversation,
    pub message_count: usize,
    /// Participants with an identity: Chat v2's members.
    pub member_count: usize,
}

/// A message's fields but its author and body, which [`StoredMessage`] keeps beside them.
/// Text fields are boxed slices: no spare capacity per message.
#[derive(Clone, Debug)]
pub struct Message {
    pub sid: MessageSid,
    /// The conversation it belongs to: the service finds a message by SID alone (see
    /// `ServiceData::messages`), and this tells whether the URL named its conversation.
    pub conversation_sid: ConversationSid,
    pub index: u64,
    /// `None` renders as Twilio's default `"{}"`.
    pub attributes: Option<Box<str>>,
    /// Whether the message was updated since it was created (Chat v2's `was_edited`).
    pub was_edited: bool,
    /// The participant whose identity or address is the author, when there is one.
    pub participant_sid: Option<ParticipantSid>,
    /// Media, content template, receipts and Chat's `last_updated_by`: absent on most
    /// messages, so boxed (8 bytes when there are none).
    pub extras: Option<Box<MessageExtras>>,
    pub date_created: Timestamp,
    pub date_updated: Timestamp,
}

impl Message {
    /// The attached media, if any.
    pub fn media(&self) -> Option<&MediaRef> {
        self.extras.as_ref().and_then(|extras| extras.media.as_ref())
    }

    /// Chat v2's `last_updated_by`, once set.
    pub fn last_updated_by(&self) -> Option<&str> {
        self.extras.as_ref().and_then(|extras| extras.last_updated_by.as_deref())
    }

    /// The Content API template the message was built from, if any.
    pub fn content_sid(&self) -> Option<ContentSid> {
        self.extras.as_ref().and_then(|extras| extras.content_sid)
    }

    /// One receipt per SMS or WhatsApp participant the message went to.
    pub fn receipts(&self) -> &[Receipt] {
        self.extras.as_ref().map_or(&[], |extras| &extras.receipts)
    }

    /// The delivery summary over the receipts; `None` for a message that went to no SMS
    /// or WhatsApp participant (chat participants get no receipts).
    pub fn delivery(&self) -> Option<DeliverySummary> {
        let receipts = self.receipts();
        (!receipts.is_empty()).then(|| DeliverySummary::of(receipts))
    }
}

/// A message as stored: its fields, then its author and body, in one reference-counted
/// allocation. Cloning shares it; a change stores a new one, so a reader holding the old
/// version keeps a consistent copy.
///
/// One allocation rather than a record pointing at its text: every response reads both,
/// and in a store of a million messages each allocation is a cache and TLB miss of its own
/// (the allocator keeps sizes apart, so the two would never share a page).
#[derive(Clone)]
pub struct StoredMessage(triomphe::Arc<HeaderSlice<StoredHeader, str>>);

/// What precedes the text in a [`StoredMessage`]'s allocation.
struct StoredHeader {
    fields: Message,
    /// Where the author ends and the body begins.
    author_len: usize,
    has_body: bool,
    /// Whether author or body holds a character JSON escapes: decided once here, rather
    /// than on every response that renders the message.
    needs_escaping: bool,
}

impl StoredMessage {
    /// Stores `fields` with `author` and `body`.
    pub fn new(fields: Message, author: &str, body: Option<&str>) -> Self {
        let text = [author, body.unwrap_or_default()].concat();
        let header = StoredHeader {
            fields,
            author_len: author.len(),
            has_body: body.is_some(),
            needs_escaping: crate::json::needs_escaping(text.as_bytes()),
        };
        Self(triomphe::Arc::from_header_and_str(header, &text))
    }

    /// Who wrote it: an identity, an address, or `system`.
    pub fn author(&self) -> &str {
        self.text().0
    }

    /// The text, if it has one (a media message may not).
    pub fn body(&self) -> Option<&str> {
        self.text().1
    }

    /// The author and the body, split once (a page renders both for every message).
    pub fn text(&self) -> (&str, Option<&str>) {
        let HeaderSlice { header, slice } = &*self.0;
        // The split falls where `new` joined them, so it is always on a char boundary.
        let (author, body) = slice.split_at_checked(header.author_len).unwrap_or((slice, ""));
        (author, header.has_body.then_some(body))
    }

    /// Whether the author or the body holds a character JSON escapes.
    pub fn needs_escaping(&self) -> bool {
        self.0.header.needs_escaping
    }

    /// Gives a message built before its place was known its SID and its conversation's.
    /// Only a message nothing else holds yet can be placed; one already shared is built
    /// again, so no holder ever sees a message change.
    pub fn place(&mut self, sid: MessageSid, conversation_sid: ConversationSid) {
        match triomphe::Arc::get_mut(&mut self.0) {
            Some(stored) => {
                stored.header.fields.sid = sid;
                stored.header.fields.conversation_sid = conversation_sid;
            }
            None => {
                let fields = Message { sid, conversation_sid, ..Message::clone(self) };
                *self = self.with(fields, None, None);
            }
        }
    }

    /// A new version of this message: `edit` changes a copy of its fields, and the author
    /// or body given replace its own. The stored message itself never changes, so a reader
    /// holding it keeps a consistent copy. Nothing is built if `edit` refuses.
    pub fn edited<E>(
        &self,
        author: Option<&str>,
        body: Option<&str>,
        edit: impl FnOnce(&mut Message) -> Result<(), E>,
    ) -> Result<Self, E> {
        let mut fields = Message::clone(self);
        edit(&mut fields)?;
        Ok(self.with(fields, author, body))
    }

    /// `fields` stored with this message's text, its author or body replaced where given.
    pub fn with(&self, fields: Message, author: Option<&str>, body: Option<&str>) -> Self {
        Self::new(fields, author.unwrap_or(self.author()), body.or(self.body()))
    }
}

impl std::ops::Deref for StoredMessage {
    type Target = Message;

    fn deref(&self) -> &Message {
        &self.0.header.fields
    }
}

impl std::fmt::Debug for StoredMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (author, body) = self.text();
        f.debug_struct("StoredMessage").field("fields", &**self).field("author", &author).field("body", &body).finish()
    }
}

/// What a message carries beyond text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MessageExtras {
    pub media: Option<MediaRef>,
    pub content_sid: Option<ContentSid>,
    pub receipts: Vec<Receipt>,
    pub last_updated_by: Option<Box<str>>,
}

impl MessageExtras {
    /// `None` when there is nothing to carry, so that plain messages stay unboxed.
    pub fn boxed(self) -> Option<Box<Self>> {
        (self != Self::default()).then(|| Box::new(self))
    }
}

/// A message's view of its media, as listed in its `media` array.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaRef {
    pub sid: MediaSid,
    pub size: u64,
    pub content_type: Arc<str>,
    pub filename: Option<Arc<str>>,
}

/// A file uploaded to the Media Content Service, attachable to one message.
#[derive(Clone, Debug)]
pub struct Media {
    pub sid: MediaSid,
    pub content_type: Arc<str>,
    pub filename: Option<Arc<str>>,
    pub author: Option<Arc<str>>,
    pub content: bytes::Bytes,
    /// The conversation and message it is attached to, once it is.
    pub attached_to: Option<(ConversationSid, MessageSid)>,
    pub date_created: Timestamp,
}

impl Media {
    /// Whether it was never attached to a message and is older than
    /// [`UNATTACHED_MEDIA_TTL_SECONDS`](super::limits::UNATTACHED_MEDIA_TTL_SECONDS) at
    /// `now`: it then answers as if it did not exist, and the account's next upload
    /// deletes it.
    pub fn is_expired(&self, now: Timestamp) -> bool {
        self.attached_to.is_none()
            && now.unix_seconds().saturating_sub(self.date_created.unix_seconds())
                >= super::limits::UNATTACHED_MEDIA_TTL_SECONDS
    }

    /// The message's view of it.
    pub fn reference(&self) -> MediaRef {
        MediaRef {
            sid: self.sid,
            size: self.content.len() as u64,
            content_type: Arc::clone(&self.content_type),
            filename: self.filename.clone(),
        }
    }
}

/// How a participant outside chat is reached: by SMS or WhatsApp (`address` through
/// `proxy_address`), or, in group MMS, a chat participant's `projected_address`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MessagingBinding {
    pub address: Option<Arc<str>>,
    pub proxy_address: Option<Arc<str>>,
    pub projected_address: Option<Arc<str>>,
}

impl MessagingBinding {
    /// `whatsapp` for `whatsapp:`-prefixed addresses, otherwise `sms`.
    pub fn kind(&self) -> &'static str {
        let whatsapp = [&self.address, &self.proxy_address, &self.projected_address]
            .into_iter()
            .flatten()
            .any(|address| address.starts_with("whatsapp:"));
        if whatsapp { "whatsapp" } else { "sms" }
    }
}

/// A participant (`MB…`): a chat user (`identity`), an SMS or WhatsApp address, or both
/// in group MMS.
#[derive(Clone, Debug)]
pub struct Participant {
    pub sid: ParticipantSid,
    pub identity: Option<Arc<str>>,
    pub attributes: Option<Arc<str>>,
    pub binding: Option<MessagingBinding>,
    pub role_sid: RoleSid,
    pub last_read_message_index: Option<u64>,
    pub last_read_timestamp: Option<Timestamp>,
    pub date_created: Timestamp,
    pub date_updated: Timestamp,
    /// What its user's conversation reports as `notification_level`.
    pub notification_level: NotificationLevel,
}

/// Whether a user is notified of a conversation's messages: Twilio's `default` or `muted`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum NotificationLevel {
    #[default]
    Default,
    Muted,
}

impl NotificationLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Default => "default",
            Self::Muted => "muted",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "default" => Some(Self::Default),
            "muted" => Some(Self::Muted),
            _ => None,
        }
    }
}

impl Participant {
    /// Whether messages reach this participant over SMS or WhatsApp (and so get receipts).
    pub fn is_non_chat(&self) -> bool {
        self.binding.as_ref().is_some_and(|binding| binding.address.is_some())
    }

    /// Whether a message by `author` is this participant's: its identity, or its address.
    pub fn is_author(&self, author: &str) -> bool {
        self.identity.as_deref() == Some(author)
            || self.binding.as_ref().and_then(|binding| binding.address.as_deref()) == Some(author)
    }
}

/// Validated participant fields. On create `None` takes Twilio's default; on update it
/// leaves the field as it is.
#[derive(Clone, Debug, Default)]
pub struct ParticipantFields {
    pub identity: Option<String>,
    pub address: Option<String>,
    pub proxy_address: Option<String>,
    pub projected_address: Option<String>,
    pub attributes: Option<String>,
    pub role_sid: Option<RoleSid>,
    pub last_read_message_index: Option<u64>,
    pub last_read_timestamp: Option<Timestamp>,
    pub date_created: Option<Timestamp>,
    pub date_updated: Option<Timestamp>,
}

/// Where a message stands with one SMS or WhatsApp participant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    Sent,
    Delivered,
    Read,
    Failed,
    Undelivered,
}

impl DeliveryStatus {
    /// Parses Twilio's status names.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "sent" => Some(Self::Sent),
            "delivered" => Some(Self::Delivered),
            "read" => Some(Self::Read),
            "failed" => Some(Self::Failed),
            "undelivered" => Some(Self::Undelivered),
            _ => None,
        }
    }

    /// The name Twilio uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sent => "sent",
            Self::Delivered => "delivered",
            Self::Read => "read",
            Self::Failed => "failed",
            Self::Undelivered => "undelivered",
        }
    }

    /// Whether a receipt may move from `self` to `next`: forward along
    /// sent → delivered → read, or to failed or undelivered before it was read.
    pub fn may_become(self, next: Self) -> bool {
        use DeliveryStatus::*;
        matches!(
            (self, next),
            (Sent, Delivered | Read | Failed | Undelivered) | (Delivered, Read | Failed | Undelivered)
        )
    }
}

/// A delivery receipt (`DY…`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    pub sid: ReceiptSid,
    pub participant_sid: ParticipantSid,
    pub channel_message_sid: ChannelMessageSid,
    pub status: DeliveryStatus,
    /// Twilio's error code for failed and undelivered messages; 0 otherwise.
    pub error_code: u32,
    pub date_created: Timestamp,
    pub date_updated: Timestamp,
}

/// How many of a message's receipts reached a status: Twilio reports `all`, `some` or
/// `none` rather than a count.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Amount {
    All,
    Some,
    None,
}

impl Amount {
    fn of(count: usize, total: usize) -> Self {
        match count {
            0 => Self::None,
            n if n == total => Self::All,
            _ => Self::Some,
        }
    }
}

/// A message's `delivery` field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct DeliverySummary {
    pub total: usize,
    pub sent: Amount,
    pub delivered: Amount,
    pub read: Amount,
    pub failed: Amount,
    pub undelivered: Amount,
}

impl DeliverySummary {
    /// The summary of `receipts`. Progress counts cumulatively: a read message was also
    /// delivered and sent (Twilio's example: sent `all`, delivered `some`, read `some`).
    pub fn of(receipts: &[Receipt]) -> Self {
        use DeliveryStatus::*;
        let total = receipts.len();
        let count = |statuses: &[DeliveryStatus]| receipts.iter().filter(|r| statuses.contains(&r.status)).count();
        Self {
            total,
            sent: Amount::of(count(&[Sent, Delivered, Read]), total),
            delivered: Amount::of(count(&[Delivered, Read]), total),
            read: Amount::of(count(&[Read]), total),
            failed: Amount::of(count(&[Failed]), total),
            undelivered: Amount::of(count(&[Undelivered]), total),
        }
    }
}

/// Validated message fields, already checked against Twilio's limits. On create `None`
/// takes Twilio's default; on update it leaves the field as it is.
#[derive(Clone, Debug, Default)]
pub struct MessageFields {
    pub author: Option<String>,
    pub body: Option<String>,
    pub attributes: Option<String>,
    /// Create only: media uploaded earlier, attached to this message.
    pub media_sid: Option<MediaSid>,
    /// Create only: a Content API template; `body` and `media_sid` are then ignored.
    pub content_sid: Option<ContentSid>,
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
    /// `Timers.Inactive`: `Some(None)` clears the timer, `Some(Some(d))` runs out `d`
    /// seconds from now.
    pub inactive_timer: Option<Option<i64>>,
    /// `Timers.Closed`, likewise.
    pub closed_timer: Option<Option<i64>>,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_message_stays_small() {
        // The fields every message pays for, then its text: with a one-line author and
        // body, a message fits mimalloc's 224-byte size class.
        assert!(std::mem::size_of::<StoredHeader>() <= 136, "{} bytes", std::mem::size_of::<StoredHeader>());
    }
}

#[cfg(test)]
mod stored_message_tests {
    use super::*;

    fn stored(author: &str, body: Option<&str>) -> StoredMessage {
        let fields = Message {
            sid: MessageSid::from_bits(1),
            conversation_sid: ConversationSid::from_bits(2),
            index: 0,
            attributes: None,
            was_edited: false,
            participant_sid: None,
            extras: None,
            date_created: Timestamp::from_unix_seconds(0),
            date_updated: Timestamp::from_unix_seconds(0),
        };
        StoredMessage::new(fields, author, body)
    }

    #[test]
    fn author_and_body_come_back_apart_and_change_independently() {
        let text = stored("alice", Some("héllo"));
        assert_eq!(text.text(), ("alice", Some("héllo")));
        let without = stored("system", None);
        assert_eq!((without.author(), without.body()), ("system", None));
        assert_eq!(stored("bob", Some("")).body(), Some(""), "an empty body is not a missing one");
        assert_eq!(text.with(Message::clone(&text), Some("carol"), None).text(), ("carol", Some("héllo")));
        assert_eq!(text.with(Message::clone(&text), None, Some("bye")).text(), ("alice", Some("bye")));
        assert_eq!(without.with(Message::clone(&without), None, Some("now")).text(), ("system", Some("now")));
    }

    #[test]
    fn the_need_for_json_escapes_is_decided_once_for_author_and_body() {
        assert!(!stored("alice", Some("hello")).needs_escaping());
        assert!(stored("alice", Some("say \"hi\"")).needs_escaping());
        assert!(stored("a\\b", None).needs_escaping());
        let quoted = stored("alice", Some("say \"hi\""));
        assert!(!quoted.with(Message::clone(&quoted), None, Some("fine")).needs_escaping());
    }
}
