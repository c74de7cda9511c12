//! The User Conversation resource, on both URL forms:
//! `/v1/Users/{US or identity}/Conversations[/{CH or unique name}]` and
//! `/v1/Services/{IS}/Users/{…}/Conversations[/{…}]`. Derived from the participants whose
//! identity is the user's: there is no record of its own.
//! <https://www.twilio.com/docs/conversations/api/user-conversation-resource>

use crate::routes::conversations::TimersWire;
use crate::validate;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, Expected, InvalidValue};
use crate::extract::{ApiCall, TwilioForm, TwilioQuery, path_params};
use crate::pagination::{ListBody, Order, PageLinks, PageParams, PageRequest};
use crate::sid::{AccountSid, ChatServiceSid, ConversationSid, ParticipantSid, UserSid};
use crate::state::AppState;
use crate::store::model::{ConversationState, NotificationLevel};
use crate::store::{ConversationRef, ServiceScope, UserConversation, UserConversationUpdate};
use crate::time::Timestamp;
use crate::urls::{ConversationUrl, Href};

use super::users::{UserConversationHref, UserHref, UserPath, UsersPath};

/// Twilio's maximum `PageSize` for a user's conversations.
pub const MAX_PAGE_SIZE: usize = 50;

/// Adds the routes under `users` (`/v1/Users` or `/v1/Services/{IS}/Users`). The user is
/// `{Sid}` here as on the user's own routes: the router refuses two names for one segment.
pub fn mount(router: Router<AppState>, users: &str) -> Router<AppState> {
    let list_path = format!("{users}/{{Sid}}/Conversations");
    router
        .route(&list_path, get(list))
        .route(&format!("{list_path}/{{ConversationSid}}"), get(fetch).post(update).delete(delete))
}

/// A user's conversation path: the user's, plus the conversation by SID or unique name.
#[derive(Clone, Debug)]
struct UserConversationPath {
    user: UserPath,
    conversation: ConversationRef,
}

impl<S: Send + Sync> FromRequestParts<S> for UserConversationPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let user = UserPath::from_request_parts(parts, state).await?;
        let params = path_params(parts, state).await?;
        let segment = params.get("ConversationSid").ok_or(ApiError::NotFound)?;
        Ok(Self { user, conversation: ConversationRef::parse(segment) })
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateParams {
    notification_level: Option<String>,
    last_read_message_index: Option<String>,
    last_read_timestamp: Option<String>,
}

impl UpdateParams {
    fn validate(self) -> Result<UserConversationUpdate, ApiError> {
        Ok(UserConversationUpdate {
            notification_level: self
                .notification_level
                .map(|raw| {
                    NotificationLevel::parse(&raw).ok_or_else(|| {
                        let expected = Expected::OneOf("default, muted");
                        ApiError::invalid("NotificationLevel", InvalidValue::NotA { value: raw, expected })
                    })
                })
                .transpose()?,
            last_read_message_index: validate::message_index("LastReadMessageIndex", self.last_read_message_index)?,
            last_read_timestamp: validate::instant("LastReadTimestamp", self.last_read_timestamp)?,
        })
    }
}

/// List a user's conversations: <https://www.twilio.com/docs/conversations/api/user-conversation-resource#read-multiple-userconversation-resources>
async fn list(
    ApiCall { state, account, base }: ApiCall,
    path: UserPath,
    TwilioQuery(params): TwilioQuery<PageParams>,
) -> Result<Json<ListBody<UserConversationResource>>, ApiError> {
    let request = PageRequest::parse(&params, Order::Asc, MAX_PAGE_SIZE)?;
    let (user, selection) = state.store.list_user_conversations(account, path.service, &path.user, &request)?;
    let users = UsersPath { scope: path.service, service: user.chat_service_sid };
    let links = PageLinks { base: &base, path: format!("{users}/{}/Conversations", user.sid), filters: Vec::new() };
    let meta = links.meta(&request, &selection, "conversations");
    let records = selection
        .items
        .into_iter()
        .map(|seen| UserConversationResource::new(account, Arc::clone(&base), path.service, seen))
        .collect();
    Ok(Json(ListBody { records, meta }))
}

/// Fetch a user's conversation: <https://www.twilio.com/docs/conversations/api/user-conversation-resource#fetch-a-userconversation-resource>
async fn fetch(
    ApiCall { state, account, base }: ApiCall,
    path: UserConversationPath,
) -> Result<Json<UserConversationResource>, ApiError> {
    let user = &path.user;
    let seen = state.store.fetch_user_conversation(account, user.service, &user.user, &path.conversation)?;
    Ok(Json(UserConversationResource::new(account, base, user.service, seen)))
}

/// Update a user's conversation (its participant's read state and notification level): <https://www.twilio.com/docs/conversations/api/user-conversation-resource#update-a-userconversation-resource>
async fn update(
    ApiCall { state, account, base }: ApiCall,
    path: UserConversationPath,
    TwilioForm(params): TwilioForm<UpdateParams>,
) -> Result<Json<UserConversationResource>, ApiError> {
    let update = params.validate()?;
    let user = &path.user;
    let seen = state.store.update_user_conversation(account, user.service, &user.user, &path.conversation, update)?;
    Ok(Json(UserConversationResource::new(account, base, user.service, seen)))
}

/// The user leaves the conversation: <https://www.twilio.com/docs/conversations/api/user-conversation-resource#delete-a-userconversation-resource>
async fn delete(ApiCall { state, account, .. }: ApiCall, path: UserConversationPath) -> Result<StatusCode, ApiError> {
    let user = &path.user;
    state.store.delete_user_conversation(account, user.service, &user.user, &path.conversation)?;
    Ok(StatusCode::NO_CONTENT)
}

/// A user's conversation as Twilio renders it on the request's URL form.
#[derive(Debug)]
pub struct UserConversationResource {
    account_sid: AccountSid,
    base: Arc<str>,
    scope: ServiceScope,
    conversation_url: ConversationUrl,
    seen: UserConversation,
}

impl UserConversationResource {
    fn new(account_sid: AccountSid, base: Arc<str>, scope: ServiceScope, seen: UserConversation) -> Self {
        let conversation = &seen.conversation;
        let conversation_url =
            ConversationUrl::on_form(Arc::clone(&base), scope, conversation.chat_service_sid, conversation.sid);
        Self { account_sid, base, scope, conversation_url, seen }
    }
}

/// The wire shape, in the key order of Twilio's examples.
#[derive(Serialize)]
struct UserConversationWire<'a> {
    account_sid: AccountSid,
    chat_service_sid: ChatServiceSid,
    conversation_sid: ConversationSid,
    unread_messages_count: u64,
    last_read_message_index: Option<u64>,
    participant_sid: ParticipantSid,
    user_sid: UserSid,
    friendly_name: Option<&'a str>,
    conversation_state: ConversationState,
    /// The conversation's timers, as the Conversation resource shows them.
    timers: TimersWire,
    attributes: &'a str,
    date_created: Timestamp,
    date_updated: Timestamp,
    created_by: &'a str,
    notification_level: &'static str,
    unique_name: Option<&'a str>,
    url: UserConversationHref<'a>,
    links: UserConversationLinks<'a>,
}

#[derive(Serialize)]
struct UserConversationLinks<'a> {
    participant: Href<'a>,
    conversation: Href<'a>,
}

impl Serialize for UserConversationResource {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let UserConversation { user_sid, conversation, participant, unread_messages_count } = &self.seen;
        let users = UsersPath { scope: self.scope, service: conversation.chat_service_sid };
        UserConversationWire {
            account_sid: self.account_sid,
            chat_service_sid: conversation.chat_service_sid,
            conversation_sid: conversation.sid,
            unread_messages_count: *unread_messages_count,
            last_read_message_index: participant.last_read_message_index,
            participant_sid: participant.sid,
            user_sid: *user_sid,
            friendly_name: conversation.friendly_name.as_deref(),
            conversation_state: conversation.state,
            timers: TimersWire::from(conversation.timers),
            attributes: conversation.attributes.as_deref().unwrap_or("{}"),
            date_created: conversation.date_created,
            date_updated: conversation.date_updated,
            // What Chat v2 shows for a channel created over REST, the same back end.
            created_by: conversation.created_by.as_deref().unwrap_or(crate::store::DEFAULT_AUTHOR),
            notification_level: participant.notification_level.as_str(),
            unique_name: conversation.unique_name.as_deref(),
            url: UserHref { base: &self.base, users, user: *user_sid, tail: "" }.conversation(conversation.sid),
            links: UserConversationLinks {
                participant: self.conversation_url.participant(participant.sid),
                conversation: self.conversation_url.with(""),
            },
        }
        .serialize(serializer)
    }
}
