//! The webhook side of a write: who it acts for (the [`Origin`] its changes carry to the
//! dispatcher, which sends the post-events) and its pre-event, sent before anything is
//! stored, whose answer may modify the write or refuse it
//! (<https://www.twilio.com/docs/conversations/conversations-webhooks>, "Using Pre-Action
//! Webhooks to Modify or Reject Changes").
//!
//! REST writes fire webhooks only with `X-Twilio-Webhook-Enabled: true`, and then pre-
//! and post-events alike (the README's fidelity notes); simulated SDK and SMS actions
//! always do. Each function here is called only when the write fires webhooks, so a plain
//! REST write pays nothing for them.

use std::borrow::Cow;
use std::sync::Arc;

use crate::error::ApiError;
use crate::extract::ConversationScope;
use crate::sid::{AccountSid, MessageSid, ParticipantSid};
use crate::state::AppState;
use crate::store::model::{
    ChannelType, Conversation, ConversationFields, MessageFields, MessagingBinding, Participant, ParticipantFields,
};
use crate::store::webhook_model::WebhookEvent;
use crate::store::{Change, Origin, ParticipantRef, ServiceScope, Store, default_participant_role};
use crate::store::{UserFields, UserRef};
use crate::time::Timestamp;
use crate::validate;
use crate::webhooks::event::user_params;
use crate::webhooks::event::{self, Params, conversation_params, message_params, participant_params};
use crate::webhooks::{Modification, PreOutcome};

/// The store a write goes through: attributed to `origin` when there is one.
pub(super) fn writer<'a>(state: &'a AppState, origin: Option<&Origin>) -> Cow<'a, Store> {
    match origin {
        Some(origin) => Cow::Owned(state.store.acting_for(origin.clone())),
        None => Cow::Borrowed(&state.store),
    }
}

/// What a pre-event's answer means for the write: go ahead (with the modification), or
/// Twilio's refusal.
fn outcome(answer: PreOutcome) -> Result<Modification, ApiError> {
    match answer {
        PreOutcome::Proceed(modification) => Ok(modification),
        PreOutcome::Rejected(_) => Err(ApiError::WebhookRejected),
    }
}

/// Replaces `name`'s value in `params`, or adds it.
fn set(params: &mut Params, name: &'static str, value: Option<&str>) {
    params.0.retain(|(key, _)| *key != name);
    if let Some(value) = value {
        params.put(name, value);
    }
}

/// `onMessageAdd` for a message about to be created with `fields`; the fields to create
/// it with, as the answer modified them (and validated like the request's own).
pub(crate) async fn message_add(
    state: &AppState,
    account: AccountSid,
    scope: &ConversationScope,
    fields: MessageFields,
    origin: &Origin,
) -> Result<MessageFields, ApiError> {
    // The message as it would be stored (its participant, its media), checked but not
    // committed: the write itself checks again after the answer.
    let proposal = state.store.propose_message(account, scope.service, &scope.conversation, fields.clone())?;
    let Some((service, message)) = proposal.changes().iter().find_map(|change| match change {
        Change::PutMessage { service, message, .. } => Some((*service, message.clone())),
        _ => None,
    }) else {
        return Ok(fields);
    };
    drop(proposal);
    let conversation = message.conversation_sid;
    let answer = state
        .webhooks
        .pre_event(account, service, Some(conversation), WebhookEvent::MessageAdd, || {
            event::event(WebhookEvent::MessageAdd, account, service, Some(conversation), origin, |params| {
                message_params(params, account, &message, false);
            })
        })
        .await;
    modified_message(fields, outcome(answer)?)
}

/// `onMessageUpdate`: the message as it is, with the values the update brings.
pub(super) async fn message_update(
    state: &AppState,
    account: AccountSid,
    scope: &ConversationScope,
    sid: MessageSid,
    fields: MessageFields,
    origin: &Origin,
) -> Result<MessageFields, ApiError> {
    let current = state.store.fetch_message(account, scope.service, &scope.conversation, sid)?;
    let (service, conversation) = (current.chat_service_sid, current.conversation_sid);
    let answer = state
        .webhooks
        .pre_event(account, service, Some(conversation), WebhookEvent::MessageUpdate, || {
            event::event(WebhookEvent::MessageUpdate, account, service, Some(conversation), origin, |params| {
                message_params(params, account, &current.value, true);
                params.put("DateUpdated", event::webhook_date(current.value.date_updated));
                if fields.body.is_some() {
                    set(params, "Body", fields.body.as_deref());
                }
                if fields.author.is_some() {
                    set(params, "Author", fields.author.as_deref());
                }
                if fields.attributes.is_some() {
                    set(params, "Attributes", fields.attributes.as_deref());
                }
            })
        })
        .await;
    modified_message(fields, outcome(answer)?)
}

/// `onMessageRemove`: accepted or refused, nothing to modify.
pub(super) async fn message_remove(
    state: &AppState,
    account: AccountSid,
    scope: &ConversationScope,
    sid: MessageSid,
    origin: &Origin,
) -> Result<(), ApiError> {
    let current = state.store.fetch_message(account, scope.service, &scope.conversation, sid)?;
    let (service, conversation) = (current.chat_service_sid, current.conversation_sid);
    let answer = state
        .webhooks
        .pre_event(account, service, Some(conversation), WebhookEvent::MessageRemove, || {
            event::event(WebhookEvent::MessageRemove, account, service, Some(conversation), origin, |params| {
                message_params(params, account, &current.value, true);
                params.put("DateUpdated", event::webhook_date(current.value.date_updated));
            })
        })
        .await;
    outcome(answer).map(drop)
}

fn modified_message(mut fields: MessageFields, modification: Modification) -> Result<MessageFields, ApiError> {
    let attributes = modification.attributes_text();
    if let Some(body) = modification.body {
        fields.body = validate::body(Some(body))?;
    }
    if let Some(author) = modification.author {
        fields.author = validate::name(Some(author), ApiError::AuthorTooLong)?;
    }
    if let Some(attributes) = attributes {
        fields.attributes = validate::attributes(Some(attributes), validate::MESSAGE_ATTRIBUTES_MAX_BYTES)?;
    }
    Ok(fields)
}

fn modified_conversation(
    mut fields: ConversationFields,
    modification: Modification,
) -> Result<ConversationFields, ApiError> {
    let attributes = modification.attributes_text();
    if let Some(friendly_name) = modification.friendly_name {
        fields.friendly_name = validate::name(Some(friendly_name), ApiError::FriendlyNameTooLong)?;
    }
    if let Some(attributes) = attributes {
        fields.attributes = validate::attributes(Some(attributes), validate::CONVERSATION_ATTRIBUTES_MAX_BYTES)?;
    }
    Ok(fields)
}

/// A conversation as `fields` would create it, for `onConversationAdd`, which has no SID
/// or dates yet.
fn conversation_to_be(service: crate::sid::ChatServiceSid, fields: &ConversationFields) -> Conversation {
    let at = Timestamp::from_unix_seconds(0);
    Conversation {
        sid: crate::sid::ConversationSid::from_bits(0),
        chat_service_sid: service,
        friendly_name: fields.friendly_name.as_deref().map(Arc::from),
        unique_name: fields.unique_name.as_deref().map(Arc::from),
        attributes: fields.attributes.as_deref().map(Arc::from),
        state: fields.state.unwrap_or_default(),
        channel_type: fields.channel_type.unwrap_or(ChannelType::Private),
        created_by: None,
        date_created: at,
        date_updated: at,
        timers: Default::default(),
    }
}

/// `onConversationAdd`: the fields to create the conversation with.
pub(crate) async fn conversation_add(
    state: &AppState,
    account: AccountSid,
    scope: ServiceScope,
    fields: ConversationFields,
    origin: &Origin,
    fill: impl FnOnce(&mut Params),
) -> Result<ConversationFields, ApiError> {
    let service = state.store.service_sid(account, scope)?;
    let to_be = conversation_to_be(service, &fields);
    let answer = state
        .webhooks
        .pre_event(account, service, None, WebhookEvent::ConversationAdd, || {
            event::event(WebhookEvent::ConversationAdd, account, service, None, origin, |params| {
                conversation_params(params, account, &to_be, false);
                fill(params);
            })
        })
        .await;
    modified_conversation(fields, outcome(answer)?)
}

/// `onConversationUpdate`: the conversation as it is, with the values the update brings.
pub(super) async fn conversation_update(
    state: &AppState,
    account: AccountSid,
    scope: &ConversationScope,
    fields: ConversationFields,
    origin: &Origin,
) -> Result<ConversationFields, ApiError> {
    let current = state.store.fetch_conversation(account, scope.service, &scope.conversation)?.conversation;
    let (service, sid) = (current.chat_service_sid, current.sid);
    let answer = state
        .webhooks
        .pre_event(account, service, Some(sid), WebhookEvent::ConversationUpdate, || {
            event::event(WebhookEvent::ConversationUpdate, account, service, Some(sid), origin, |params| {
                conversation_params(params, account, &current, true);
                if fields.friendly_name.is_some() {
                    set(params, "FriendlyName", fields.friendly_name.as_deref());
                }
                if fields.unique_name.is_some() {
                    set(params, "UniqueName", fields.unique_name.as_deref());
                }
                if fields.attributes.is_some() {
                    set(params, "Attributes", fields.attributes.as_deref());
                }
                if let Some(state) = fields.state {
                    set(params, "State", Some(state.as_str()));
                }
            })
        })
        .await;
    modified_conversation(fields, outcome(answer)?)
}

/// `onConversationRemove`: accepted or refused.
pub(super) async fn conversation_remove(
    state: &AppState,
    account: AccountSid,
    scope: &ConversationScope,
    origin: &Origin,
) -> Result<(), ApiError> {
    let current = state.store.fetch_conversation(account, scope.service, &scope.conversation)?.conversation;
    let (service, sid) = (current.chat_service_sid, current.sid);
    let answer = state
        .webhooks
        .pre_event(account, service, Some(sid), WebhookEvent::ConversationRemove, || {
            event::event(WebhookEvent::ConversationRemove, account, service, Some(sid), origin, |params| {
                conversation_params(params, account, &current, true);
            })
        })
        .await;
    outcome(answer).map(drop)
}

/// `onParticipantAdd`: accepted or refused (Twilio documents nothing to modify).
pub(super) async fn participant_add(
    state: &AppState,
    account: AccountSid,
    scope: &ConversationScope,
    fields: &ParticipantFields,
    origin: &Origin,
) -> Result<(), ApiError> {
    let conversation = state.store.fetch_conversation(account, scope.service, &scope.conversation)?.conversation;
    let (service, sid) = (conversation.chat_service_sid, conversation.sid);
    let at = Timestamp::from_unix_seconds(0);
    let binding = MessagingBinding {
        address: fields.address.as_deref().map(Arc::from),
        proxy_address: fields.proxy_address.as_deref().map(Arc::from),
        projected_address: fields.projected_address.as_deref().map(Arc::from),
    };
    let to_be = Participant {
        sid: ParticipantSid::from_bits(0),
        identity: fields.identity.as_deref().map(Arc::from),
        attributes: fields.attributes.as_deref().map(Arc::from),
        binding: (binding != MessagingBinding::default()).then_some(binding),
        role_sid: fields.role_sid.unwrap_or_else(|| default_participant_role(service)),
        last_read_message_index: None,
        last_read_timestamp: None,
        date_created: at,
        date_updated: at,
        notification_level: Default::default(),
    };
    let answer = state
        .webhooks
        .pre_event(account, service, Some(sid), WebhookEvent::ParticipantAdd, || {
            event::event(WebhookEvent::ParticipantAdd, account, service, Some(sid), origin, |params| {
                participant_params(params, sid, &to_be, false);
            })
        })
        .await;
    outcome(answer).map(drop)
}

/// `onParticipantUpdate` or `onParticipantRemove` (`kind`): accepted or refused.
pub(super) async fn participant_change(
    state: &AppState,
    account: AccountSid,
    scope: &ConversationScope,
    participant: &ParticipantRef,
    kind: WebhookEvent,
    origin: &Origin,
) -> Result<(), ApiError> {
    let current = state.store.fetch_participant(account, scope.service, &scope.conversation, participant)?;
    let (service, sid) = (current.chat_service_sid, current.conversation_sid);
    let answer = state
        .webhooks
        .pre_event(account, service, Some(sid), kind, || {
            event::event(kind, account, service, Some(sid), origin, |params| {
                participant_params(params, sid, &current.value, true);
                params.put("DateUpdated", event::webhook_date(current.value.date_updated));
            })
        })
        .await;
    outcome(answer).map(drop)
}

/// `onUserUpdate`: the user as it is, with the values the update brings; the fields to
/// update it with, as the answer modified them (`FriendlyName`, `Attributes`).
pub(super) async fn user_update(
    state: &AppState,
    account: AccountSid,
    scope: ServiceScope,
    user: &UserRef,
    mut fields: UserFields,
    origin: &Origin,
) -> Result<UserFields, ApiError> {
    let current = state.store.fetch_user(account, scope, user)?;
    let service = current.chat_service_sid;
    let answer = state
        .webhooks
        .pre_event(account, service, None, WebhookEvent::UserUpdate, || {
            event::event(WebhookEvent::UserUpdate, account, service, None, origin, |params| {
                user_params(params, &current);
                // The pre-event has no `DateCreated` in Twilio's list of its parameters.
                params.0.retain(|(key, _)| *key != "DateCreated");
                params.put("DateUpdated", event::webhook_date(current.date_updated));
                if fields.friendly_name.is_some() {
                    set(params, "FriendlyName", fields.friendly_name.as_deref());
                }
                if fields.attributes.is_some() {
                    set(params, "Attributes", fields.attributes.as_deref());
                }
                if let Some(role) = fields.role_sid {
                    set(params, "RoleSid", Some(&role.to_string()));
                }
            })
        })
        .await;
    let modification = outcome(answer)?;
    let attributes = modification.attributes_text();
    if let Some(friendly_name) = modification.friendly_name {
        fields.friendly_name = validate::name(Some(friendly_name), ApiError::FriendlyNameTooLong)?;
    }
    if let Some(attributes) = attributes {
        fields.attributes = validate::attributes(Some(attributes), validate::MESSAGE_ATTRIBUTES_MAX_BYTES)?;
    }
    Ok(fields)
}
