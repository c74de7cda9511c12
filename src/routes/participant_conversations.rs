//! The Participant Conversation resource, on both URL forms: `/v1/ParticipantConversations`
//! (the account's default service) and `/v1/Services/{IS}/ParticipantConversations`, read
//! by `Identity` or by `Address`.
//! <https://www.twilio.com/docs/conversations/api/participant-conversation-resource>

use crate::routes::conversations::TimersWire;
use std::sync::Arc;

use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, InvalidValue};
use crate::extract::{ApiCall, ServicePath, TwilioQuery};
use crate::pagination::{ListBody, Order, PageLinks, PageParams, PageRequest};
use crate::sid::{AccountSid, ChatServiceSid, ConversationSid, ParticipantSid, UserSid};
use crate::state::AppState;
use crate::store::model::ConversationState;
use crate::store::{DEFAULT_AUTHOR, ParticipantConversation, ParticipantMatch, ServiceScope};
use crate::time::Timestamp;
use crate::urls::{ConversationUrl, Href};

/// Twilio's maximum `PageSize` for participant conversations.
pub const MAX_PAGE_SIZE: usize = 50;

/// The routes on both forms.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/ParticipantConversations", get(list))
        .route("/v1/Services/{ChatServiceSid}/ParticipantConversations", get(list))
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListParams {
    identity: Option<String>,
    address: Option<String>,
    #[serde(flatten)]
    page: PageParams,
}

/// List the conversations of a participant: <https://www.twilio.com/docs/conversations/api/participant-conversation-resource#read-multiple-participantconversation-resources>
async fn list(
    ApiCall { state, account, base }: ApiCall,
    ServicePath(scope): ServicePath,
    TwilioQuery(params): TwilioQuery<ListParams>,
) -> Result<Json<ListBody<ParticipantConversationResource>>, ApiError> {
    // Twilio documents the two as alternatives; a request with both is refused rather
    // than answered by guessing which one it meant.
    let (by, filter) = match (params.identity, params.address) {
        (Some(identity), None) => (ParticipantMatch::Identity(identity.clone()), ("Identity", identity)),
        (None, Some(address)) => (ParticipantMatch::Address(address.clone()), ("Address", address)),
        (None, None) => return Err(ApiError::invalid("Identity", InvalidValue::EitherOr("Address"))),
        (Some(_), Some(_)) => return Err(ApiError::invalid("Identity, Address", InvalidValue::ExactlyOne)),
    };
    let request = PageRequest::parse(&params.page, Order::Asc, MAX_PAGE_SIZE)?;
    let (service, selection) = state.store.list_participant_conversations(account, scope, &by, &request)?;
    let path = match scope {
        ServiceScope::Default => "/v1/ParticipantConversations".to_owned(),
        ServiceScope::Explicit(_) => format!("/v1/Services/{service}/ParticipantConversations"),
    };
    let links = PageLinks { base: &base, path, filters: vec![filter] };
    let meta = links.meta(&request, &selection, "conversations");
    let records = selection
        .items
        .into_iter()
        .map(|found| ParticipantConversationResource::new(account, Arc::clone(&base), scope, found))
        .collect();
    Ok(Json(ListBody { records, meta }))
}

/// A participant's conversation as Twilio renders it on the request's URL form.
#[derive(Debug)]
pub struct ParticipantConversationResource {
    account_sid: AccountSid,
    url: ConversationUrl,
    found: ParticipantConversation,
}

impl ParticipantConversationResource {
    fn new(account_sid: AccountSid, base: Arc<str>, scope: ServiceScope, found: ParticipantConversation) -> Self {
        let conversation = &found.conversation;
        let url = ConversationUrl::on_form(base, scope, conversation.chat_service_sid, conversation.sid);
        Self { account_sid, url, found }
    }
}

/// The wire shape, in the key order of the spec's object.
#[derive(Serialize)]
struct ParticipantConversationWire<'a> {
    account_sid: AccountSid,
    chat_service_sid: ChatServiceSid,
    participant_sid: ParticipantSid,
    participant_user_sid: Option<UserSid>,
    participant_identity: Option<&'a str>,
    participant_messaging_binding: Option<BindingWire<'a>>,
    conversation_sid: ConversationSid,
    conversation_unique_name: Option<&'a str>,
    conversation_friendly_name: Option<&'a str>,
    conversation_attributes: &'a str,
    conversation_date_created: Timestamp,
    conversation_date_updated: Timestamp,
    conversation_created_by: &'a str,
    conversation_state: ConversationState,
    /// The conversation's timers, as the Conversation resource shows them.
    conversation_timers: TimersWire,
    links: Links<'a>,
}

/// `participant_messaging_binding` with every key of Twilio's example, `level` and `name`
/// (which the emulator has no value for) always null.
#[derive(Serialize)]
struct BindingWire<'a> {
    address: Option<&'a str>,
    proxy_address: Option<&'a str>,
    #[serde(rename = "type")]
    kind: &'static str,
    level: Option<&'a str>,
    name: Option<&'a str>,
    projected_address: Option<&'a str>,
}

#[derive(Serialize)]
struct Links<'a> {
    participant: Href<'a>,
    conversation: Href<'a>,
}

impl Serialize for ParticipantConversationResource {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let ParticipantConversation { conversation, participant, user_sid } = &self.found;
        ParticipantConversationWire {
            account_sid: self.account_sid,
            chat_service_sid: conversation.chat_service_sid,
            participant_sid: participant.sid,
            participant_user_sid: *user_sid,
            participant_identity: participant.identity.as_deref(),
            participant_messaging_binding: participant.binding.as_ref().map(|binding| BindingWire {
                address: binding.address.as_deref(),
                proxy_address: binding.proxy_address.as_deref(),
                kind: binding.kind(),
                level: None,
                name: None,
                projected_address: binding.projected_address.as_deref(),
            }),
            conversation_sid: conversation.sid,
            conversation_unique_name: conversation.unique_name.as_deref(),
            conversation_friendly_name: conversation.friendly_name.as_deref(),
            conversation_attributes: conversation.attributes.as_deref().unwrap_or("{}"),
            conversation_date_created: conversation.date_created,
            conversation_date_updated: conversation.date_updated,
            // What Chat v2 shows for a channel created over REST, the same back end.
            conversation_created_by: conversation.created_by.as_deref().unwrap_or(DEFAULT_AUTHOR),
            conversation_state: conversation.state,
            conversation_timers: TimersWire::from(conversation.timers),
            links: Links { participant: self.url.participant(participant.sid), conversation: self.url.with("") },
        }
        .serialize(serializer)
    }
}
