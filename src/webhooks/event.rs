//! What a webhook says: the events a committed change (post-events) or an action about to
//! happen (pre-events) describes, with Twilio's parameters for each
//! (<https://www.twilio.com/docs/conversations/conversations-webhooks>, "Webhook Bodies by
//! Event Type"). Values are strings, as on the wire; a value Twilio would leave empty is
//! left out, never sent empty.

use std::sync::Arc;

use crate::sid::{AccountSid, ChatServiceSid, ConversationSid};
use crate::store::User;
use crate::store::model::{Conversation, MediaRef, Participant, StoredMessage};
use crate::store::webhook_model::WebhookEvent;
use crate::store::{Change, Committed, Origin, Prior, Source, default_messaging_service_sid};
use crate::time::Timestamp;

/// One event, ready to be sent to every target that wants it.
#[derive(Clone, Debug)]
pub struct Event {
    pub kind: WebhookEvent,
    pub account: AccountSid,
    pub service: ChatServiceSid,
    /// The conversation it is about: what orders its deliveries, and whose scoped
    /// webhooks it goes to.
    pub conversation: Option<ConversationSid>,
    /// The message body, which a `trigger` webhook matches its keywords against.
    pub body: Option<Arc<str>>,
    /// Every parameter but `RetryCount`, which each attempt adds.
    pub params: Params,
    /// The simulated action it belongs to (see `Origin::correlation`).
    pub correlation: Option<u64>,
}

/// Form parameters in the order they were added (the signature sorts them anyway).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Params(pub Vec<(&'static str, String)>);

impl Params {
    pub fn put(&mut self, name: &'static str, value: impl ToString) {
        self.0.push((name, value.to_string()));
    }

    /// Adds `value` unless it is absent: Twilio omits what has no value.
    pub fn opt(&mut self, name: &'static str, value: Option<impl ToString>) {
        if let Some(value) = value {
            self.put(name, value);
        }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(key, _)| *key == name).map(|(_, value)| value.as_str())
    }
}

/// A date as webhooks write it: ISO 8601 with milliseconds (`2021-08-10T18:00:58.000Z`),
/// unlike the REST API's whole seconds. The store keeps whole seconds, so the
/// milliseconds are always zero.
pub fn webhook_date(at: Timestamp) -> String {
    let mut text = at.to_string();
    text.insert_str(text.len() - 1, ".000");
    text
}

/// The parameters every request carries: who acted and how.
fn common(params: &mut Params, kind: WebhookEvent, account: AccountSid, service: ChatServiceSid, origin: &Origin) {
    params.put("EventType", kind.name());
    params.put("AccountSid", account);
    params.put("ChatServiceSid", service);
    // A timer is no source Twilio names: its one event says `Reason=TIMER` instead.
    if origin.source != Source::Timer {
        params.put("Source", origin.source.as_str());
    }
    if origin.source == Source::Sdk {
        params.opt("ClientIdentity", origin.client_identity.as_deref());
    }
}

/// `Media` as Twilio documents it: "Stringified JSON array of attached media objects",
/// keys in the PascalCase that receivers parse (the README's fidelity notes).
fn media_json(media: &MediaRef) -> String {
    serde_json::json!([{
        "Sid": media.sid.to_string(),
        "Filename": media.filename.as_deref(),
        "ContentType": &*media.content_type,
        "Size": media.size,
    }])
    .to_string()
}

/// A message's own parameters. `placed` adds what exists only once it is stored (its SID,
/// index and creation date), which `onMessageAdd` does not have yet.
pub fn message_params(params: &mut Params, account: AccountSid, message: &StoredMessage, placed: bool) {
    params.put("ConversationSid", message.conversation_sid);
    if placed {
        params.put("MessageSid", message.sid);
        params.put("Index", message.index);
        params.put("DateCreated", webhook_date(message.date_created));
    }
    params.put("MessagingServiceSid", default_messaging_service_sid(account));
    params.opt("Body", message.body());
    params.put("Author", message.author());
    params.opt("ParticipantSid", message.participant_sid);
    params.put("Attributes", message.attributes.as_deref().unwrap_or("{}"));
    params.opt("Media", message.media().map(media_json));
}

/// A conversation's own parameters; `placed` as for messages.
pub fn conversation_params(params: &mut Params, account: AccountSid, conversation: &Conversation, placed: bool) {
    if placed {
        params.put("ConversationSid", conversation.sid);
        params.put("DateCreated", webhook_date(conversation.date_created));
        params.put("DateUpdated", webhook_date(conversation.date_updated));
    }
    params.opt("FriendlyName", conversation.friendly_name.as_deref());
    params.opt("UniqueName", conversation.unique_name.as_deref());
    params.put("Attributes", conversation.attributes.as_deref().unwrap_or("{}"));
    params.put("MessagingServiceSid", default_messaging_service_sid(account));
    params.put("State", state_name(conversation));
}

fn state_name(conversation: &Conversation) -> &'static str {
    conversation.state.as_str()
}

/// A participant's own parameters; `placed` as for messages.
pub fn participant_params(params: &mut Params, conversation: ConversationSid, participant: &Participant, placed: bool) {
    params.put("ConversationSid", conversation);
    if placed {
        params.put("ParticipantSid", participant.sid);
        params.put("DateCreated", webhook_date(participant.date_created));
    }
    params.opt("Identity", participant.identity.as_deref());
    params.put("RoleSid", participant.role_sid);
    params.put("Attributes", participant.attributes.as_deref().unwrap_or("{}"));
    let binding = participant.binding.as_ref();
    params.opt("MessagingBinding.ProxyAddress", binding.and_then(|binding| binding.proxy_address.as_deref()));
    params.opt("MessagingBinding.Address", binding.and_then(|binding| binding.address.as_deref()));
    params.opt("MessagingBinding.ProjectedAddress", binding.and_then(|binding| binding.projected_address.as_deref()));
    let kind = match binding {
        Some(binding) if binding.address.is_some() => {
            if binding.kind() == "whatsapp" {
                "WHATSAPP"
            } else {
                "SMS"
            }
        }
        _ => "CHAT",
    };
    params.put("MessagingBinding.Type", kind);
}

/// A user's own parameters (`onUserAdded`, and with `DateUpdated` the update events).
/// `isOnline` and `isNotifiable`, lower-camel as Twilio documents them, are left out: a
/// user of the REST API alone has never been online, so Twilio's values are null, and
/// absent values are never sent empty.
pub fn user_params(params: &mut Params, user: &User) {
    params.put("UserSid", user.sid);
    params.put("DateCreated", webhook_date(user.date_created));
    params.put("Identity", &user.identity);
    params.put("RoleSid", user.role_sid);
    params.put("Attributes", user.attributes.as_deref().unwrap_or("{}"));
    params.opt("FriendlyName", user.friendly_name.as_deref());
}

/// A pre- or post-event with its common parameters, then what `fill` adds.
pub fn event(
    kind: WebhookEvent,
    account: AccountSid,
    service: ChatServiceSid,
    conversation: Option<ConversationSid>,
    origin: &Origin,
    fill: impl FnOnce(&mut Params),
) -> Event {
    let mut params = Params::default();
    common(&mut params, kind, account, service, origin);
    fill(&mut params);
    Event { kind, account, service, conversation, body: None, params, correlation: origin.correlation }
}

/// The post-events a committed change fires: none unless its origin fires webhooks.
/// `now` dates removals (`DateRemoved`).
pub fn post_events(committed: &Committed, now: Timestamp) -> Vec<Event> {
    let Some(origin) = committed.origin.as_deref().filter(|origin| origin.fires_webhooks) else {
        return Vec::new();
    };
    let removed = webhook_date(now);
    match (&committed.change, &committed.before) {
        (Change::PutMessage { account, service, message }, before) => {
            let conversation = Some(message.conversation_sid);
            let mut events = Vec::new();
            let previous = match before {
                Prior::Message(previous) => Some(previous),
                _ => None,
            };
            match previous {
                None => {
                    let mut added = event(WebhookEvent::MessageAdded, *account, *service, conversation, origin, |p| {
                        message_params(p, *account, message, true);
                    });
                    added.body = message.body().map(Arc::from);
                    events.push(added);
                }
                Some(previous) => {
                    let moved: Vec<_> =
                        message
                            .receipts()
                            .iter()
                            .filter(|receipt| {
                                previous.receipts().iter().find(|old| old.sid == receipt.sid).is_none_or(|old| {
                                    old.status != receipt.status || old.error_code != receipt.error_code
                                })
                            })
                            .collect();
                    let edited = previous.text() != message.text() || previous.attributes != message.attributes;
                    // A receipt moving is a delivery update, not an edit of the message;
                    // any other change (even one that changes nothing) is an update.
                    if edited || moved.is_empty() {
                        events.push(event(
                            WebhookEvent::MessageUpdated,
                            *account,
                            *service,
                            conversation,
                            origin,
                            |p| {
                                message_params(p, *account, message, true);
                                p.put("DateUpdated", webhook_date(message.date_updated));
                            },
                        ));
                    }
                    for receipt in moved {
                        events.push(event(
                            WebhookEvent::DeliveryUpdated,
                            *account,
                            *service,
                            conversation,
                            origin,
                            |p| {
                                p.put("ConversationSid", message.conversation_sid);
                                p.put("MessageSid", message.sid);
                                p.put("DeliveryReceiptSid", receipt.sid);
                                p.put("ChannelMessageSid", receipt.channel_message_sid);
                                p.put("ParticipantSid", receipt.participant_sid);
                                p.put("Status", receipt.status.as_str());
                                p.put("ErrorCode", receipt.error_code);
                                p.put("DateCreated", webhook_date(receipt.date_created));
                                p.put("DateUpdated", webhook_date(receipt.date_updated));
                            },
                        ));
                    }
                }
            }
            events
        }
        (Change::DeleteMessage { account, service, conversation, .. }, Prior::Message(message)) => {
            vec![event(WebhookEvent::MessageRemoved, *account, *service, Some(*conversation), origin, |p| {
                message_params(p, *account, message, true);
                p.put("DateUpdated", webhook_date(message.date_updated));
                p.put("DateRemoved", removed);
            })]
        }
        (Change::PutConversation { account, conversation }, before) => {
            let service = conversation.chat_service_sid;
            let sid = Some(conversation.sid);
            match before {
                Prior::Conversation(previous) => {
                    // A timer changes the state alone, which `onConversationStateUpdated`
                    // reports (`Reason=TIMER`); no API call updated the conversation.
                    let mut events = if origin.source == Source::Timer {
                        Vec::new()
                    } else {
                        vec![event(WebhookEvent::ConversationUpdated, *account, service, sid, origin, |p| {
                            conversation_params(p, *account, conversation, true);
                        })]
                    };
                    if previous.state != conversation.state {
                        events.push(event(
                            WebhookEvent::ConversationStateUpdated,
                            *account,
                            service,
                            sid,
                            origin,
                            |p| {
                                p.put("ConversationSid", conversation.sid);
                                p.put("MessagingServiceSid", default_messaging_service_sid(*account));
                                p.put("StateFrom", state_name(previous));
                                p.put("StateTo", state_name(conversation));
                                p.put("StateUpdated", webhook_date(conversation.date_updated));
                                let reason = if origin.source == Source::Timer { "TIMER" } else { "API" };
                                p.put("Reason", reason);
                            },
                        ));
                    }
                    events
                }
                _ => vec![event(WebhookEvent::ConversationAdded, *account, service, sid, origin, |p| {
                    conversation_params(p, *account, conversation, true);
                    if let Some(binding) = &origin.binding {
                        p.put("MessagingBinding.Address", &binding.address);
                        p.put("MessagingBinding.ProxyAddress", &binding.proxy_address);
                    }
                })],
            }
        }
        (Change::DeleteConversation { account, service, .. }, Prior::Conversation(conversation)) => {
            vec![event(WebhookEvent::ConversationRemoved, *account, *service, Some(conversation.sid), origin, |p| {
                conversation_params(p, *account, conversation, true);
                p.put("DateRemoved", removed);
            })]
        }
        (Change::PutParticipant { account, service, conversation, participant }, before) => {
            let (kind, updated) = match before {
                Prior::Participant(_) => (WebhookEvent::ParticipantUpdated, true),
                _ => (WebhookEvent::ParticipantAdded, false),
            };
            vec![event(kind, *account, *service, Some(*conversation), origin, |p| {
                participant_params(p, *conversation, participant, true);
                if updated {
                    p.put("DateUpdated", webhook_date(participant.date_updated));
                    p.opt("LastReadMessageIndex", participant.last_read_message_index);
                }
            })]
        }
        (Change::DeleteParticipant { account, service, conversation, .. }, Prior::Participant(participant)) => {
            vec![event(WebhookEvent::ParticipantRemoved, *account, *service, Some(*conversation), origin, |p| {
                participant_params(p, *conversation, participant, true);
                p.put("DateUpdated", webhook_date(participant.date_updated));
                p.put("DateRemoved", removed);
            })]
        }
        (Change::PutUser { account, user }, before) => {
            let kind = match before {
                Prior::User(_) => WebhookEvent::UserUpdated,
                _ => WebhookEvent::UserAdded,
            };
            vec![event(kind, *account, user.chat_service_sid, None, origin, |p| {
                user_params(p, user);
                if kind == WebhookEvent::UserUpdated {
                    p.put("DateUpdated", webhook_date(user.date_updated));
                }
            })]
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sid::{ChannelMessageSid, MessageSid, ParticipantSid, ReceiptSid};
    use crate::store::model::{DeliveryStatus, Message, MessageExtras, Receipt};

    const ACCOUNT: AccountSid = AccountSid::from_bits(0xac);
    const SERVICE: ChatServiceSid = ChatServiceSid::from_bits(0x15);

    fn message(body: &str, receipt: Option<DeliveryStatus>) -> StoredMessage {
        let at = Timestamp::from_unix_seconds(1_700_000_000);
        let receipts = receipt.map(|status| Receipt {
            sid: ReceiptSid::from_bits(1),
            participant_sid: ParticipantSid::from_bits(2),
            channel_message_sid: ChannelMessageSid::from_bits(3),
            status,
            error_code: 0,
            date_created: at,
            date_updated: at,
        });
        let fields = Message {
            sid: MessageSid::from_bits(9),
            conversation_sid: ConversationSid::from_bits(0xc4),
            index: 3,
            attributes: None,
            was_edited: false,
            participant_sid: None,
            extras: MessageExtras { receipts: receipts.into_iter().collect(), ..Default::default() }.boxed(),
            date_created: at,
            date_updated: at,
        };
        StoredMessage::new(fields, "alice", Some(body))
    }

    fn committed(before: Prior, after: StoredMessage, origin: Option<Origin>) -> Committed {
        Committed {
            seq: 1,
            change: Change::PutMessage { account: ACCOUNT, service: SERVICE, message: after },
            before,
            origin: origin.map(Arc::new),
        }
    }

    fn kinds(events: &[Event]) -> Vec<&'static str> {
        events.iter().map(|event| event.kind.name()).collect()
    }

    #[test]
    fn changes_without_a_firing_origin_fire_nothing() {
        let now = Timestamp::from_unix_seconds(0);
        let quiet = Origin { fires_webhooks: false, ..Origin::api_with_webhooks() };
        assert!(post_events(&committed(Prior::Nothing, message("hi", None), None), now).is_empty());
        assert!(post_events(&committed(Prior::Nothing, message("hi", None), Some(quiet)), now).is_empty());
    }

    #[test]
    fn a_new_message_is_added_with_its_parameters_and_no_empty_values() {
        let now = Timestamp::from_unix_seconds(0);
        let events =
            post_events(&committed(Prior::Nothing, message("hi", None), Some(Origin::api_with_webhooks())), now);
        assert_eq!(kinds(&events), ["onMessageAdded"]);
        let params = &events[0].params;
        assert_eq!(params.get("Body"), Some("hi"));
        assert_eq!(params.get("Index"), Some("3"));
        assert_eq!(params.get("DateCreated"), Some("2023-11-14T22:13:20.000Z"));
        assert_eq!(params.get("Source"), Some("API"));
        assert_eq!(params.get("ParticipantSid"), None, "absent, not empty");
        assert_eq!(params.get("ClientIdentity"), None, "only for SDK actions");
        assert_eq!(events[0].body.as_deref(), Some("hi"));
    }

    #[test]
    fn a_receipt_moving_is_a_delivery_update_and_an_edit_is_a_message_update() {
        let now = Timestamp::from_unix_seconds(0);
        let origin = || Some(Origin::api_with_webhooks());
        let sent = message("hi", Some(DeliveryStatus::Sent));
        let delivered = message("hi", Some(DeliveryStatus::Delivered));
        let events = post_events(&committed(Prior::Message(sent.clone()), delivered, origin()), now);
        assert_eq!(kinds(&events), ["onDeliveryUpdated"]);
        assert_eq!(events[0].params.get("Status"), Some("delivered"));
        let edited = message("bye", Some(DeliveryStatus::Sent));
        assert_eq!(
            kinds(&post_events(&committed(Prior::Message(sent.clone()), edited, origin()), now)),
            ["onMessageUpdated"]
        );
        let unchanged = post_events(&committed(Prior::Message(sent.clone()), sent, origin()), now);
        assert_eq!(kinds(&unchanged), ["onMessageUpdated"], "an update that changes nothing is still an update");
    }

    #[test]
    fn an_sdk_origin_names_its_client() {
        let now = Timestamp::from_unix_seconds(0);
        let origin =
            Origin { source: Source::Sdk, client_identity: Some("dana".into()), ..Origin::api_with_webhooks() };
        let events = post_events(&committed(Prior::Nothing, message("hi", None), Some(origin)), now);
        assert_eq!(events[0].params.get("Source"), Some("SDK"));
        assert_eq!(events[0].params.get("ClientIdentity"), Some("dana"));
    }
}
