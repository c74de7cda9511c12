//! The Chat v2 User resource, `/v2/Services/{IS}/Users[/{US or identity}]`: the service's
//! Conversations users, shown in Chat's representation, with Chat's error codes (a missing
//! user is 50200, a duplicate identity 50201).
//! <https://www.twilio.com/docs/chat/rest/user-resource>

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::ChatError;
use crate::error::{ApiError, Expected, InvalidValue};
use crate::extract::{ApiCall, ServicePath, TwilioForm, TwilioQuery, WebhookEnabled, path_params};
use crate::pagination::{ListBody, Order, PageLinks, PageParams, PageRequest};
use crate::routes::hooks;
use crate::routes::users::UserPath;
use crate::sid::{AccountSid, ChatServiceSid, RoleSid, UserSid};
use crate::sid::{ConversationSid, ParticipantSid};
use crate::state::AppState;
use crate::store::model::NotificationLevel;
use crate::store::{
    ChatUser, ConversationRef, StoreError, UserConversation, UserConversationUpdate, UserFields, UserRef,
};
use crate::time::Timestamp;
use crate::validate;

/// Chat v2's maximum `PageSize` for users (Conversations allows 50).
pub const MAX_PAGE_SIZE: usize = 100;
/// Chat v2's maximum `PageSize` for a user's channels.
pub const MAX_USER_CHANNELS_PAGE_SIZE: usize = 50;

/// Adds the user routes under `users` (`/v2/Services/{IS}/Users`).
pub fn mount(router: Router<AppState>, users: &str) -> Router<AppState> {
    router
        .route(users, get(list).post(create))
        .route(&format!("{users}/{{Sid}}"), get(fetch).post(update).delete(delete))
        .route(&format!("{users}/{{UserSid}}/Channels"), get(list_channels))
        .route(
            &format!("{users}/{{UserSid}}/Channels/{{ConversationSid}}"),
            get(fetch_channel).post(update_channel).delete(delete_channel),
        )
}

/// Create and update parameters; `Identity` counts on create only (Chat's update has none).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UserParams {
    identity: Option<String>,
    role_sid: Option<String>,
    attributes: Option<String>,
    friendly_name: Option<String>,
}

impl UserParams {
    fn fields(self) -> Result<UserFields, ApiError> {
        let role_sid = self
            .role_sid
            .map(|raw| raw.parse::<RoleSid>().map_err(|_| ApiError::invalid("RoleSid", InvalidValue::Malformed(raw))))
            .transpose()?;
        Ok(UserFields {
            friendly_name: validate::name(self.friendly_name, ApiError::FriendlyNameTooLong)?,
            attributes: validate::attributes(self.attributes, crate::store::USER_ATTRIBUTES_MAX_BYTES)?,
            role_sid,
        })
    }
}

/// Chat's codes for users: a missing user is 50200 (the duplicate's 50201 is shared with
/// Conversations and comes from the store's refusal as it is).
fn user_error(error: StoreError) -> ChatError {
    match error {
        StoreError::NotFound => ChatError(ApiError::ChatUserNotFound),
        other => other.into(),
    }
}

/// Create a user: <https://www.twilio.com/docs/chat/rest/user-resource#create-a-user-resource>
async fn create(
    ApiCall { state, account, base }: ApiCall,
    ServicePath(scope): ServicePath,
    webhooks: WebhookEnabled,
    TwilioForm(mut params): TwilioForm<UserParams>,
) -> Result<(StatusCode, Json<ChatUserResource>), ChatError> {
    let identity = params.identity.take().filter(|identity| !identity.is_empty());
    let identity = identity.ok_or_else(|| ApiError::invalid("Identity", InvalidValue::Missing))?;
    let too_long = ApiError::invalid("Identity", InvalidValue::LongerThan(validate::NAME_MAX_CHARS));
    let identity = validate::name(Some(identity), too_long)?.unwrap_or_default();
    // A path segment shaped like a `US…` SID is read as a SID, so such an identity could
    // never be fetched by name: Chat refuses it.
    if identity.parse::<UserSid>().is_ok() {
        return Err(ApiError::ChatIdentityIsSid.into());
    }
    let fields = params.fields()?;
    super::service_exists(&state, account, scope)?;
    let origin = webhooks.origin();
    let user = hooks::writer(&state, origin.as_ref()).create_user(account, scope, identity, fields)?;
    // The count is read after the write: the identity may be a member of channels already,
    // since participants are tied to identities, not to user records.
    let user = state.store.fetch_chat_user(account, scope, &UserRef::Sid(user.sid)).map_err(user_error)?;
    Ok((StatusCode::CREATED, Json(ChatUserResource::new(account, &base, user))))
}

/// Fetch a user by SID or identity: <https://www.twilio.com/docs/chat/rest/user-resource#fetch-a-user-resource>
async fn fetch(ApiCall { state, account, base }: ApiCall, path: UserPath) -> Result<Json<ChatUserResource>, ChatError> {
    super::service_exists(&state, account, path.service)?;
    let user = state.store.fetch_chat_user(account, path.service, &path.user).map_err(user_error)?;
    Ok(Json(ChatUserResource::new(account, &base, user)))
}

/// List a service's users: <https://www.twilio.com/docs/chat/rest/user-resource#read-multiple-user-resources>
async fn list(
    ApiCall { state, account, base }: ApiCall,
    ServicePath(scope): ServicePath,
    TwilioQuery(params): TwilioQuery<PageParams>,
) -> Result<Json<ListBody<ChatUserResource>>, ChatError> {
    let request = PageRequest::parse(&params, Order::Asc, MAX_PAGE_SIZE)?;
    let (service, selection) = state.store.list_chat_users(account, scope, &request)?;
    let links = PageLinks { base: &base, path: format!("/v2/Services/{service}/Users"), filters: Vec::new() };
    let meta = links.meta(&request, &selection, "users");
    let records = selection.items.into_iter().map(|user| ChatUserResource::new(account, &base, user)).collect();
    Ok(Json(ListBody { records, meta }))
}

/// Update a user: <https://www.twilio.com/docs/chat/rest/user-resource#update-a-user-resource>
async fn update(
    ApiCall { state, account, base }: ApiCall,
    path: UserPath,
    webhooks: WebhookEnabled,
    TwilioForm(params): TwilioForm<UserParams>,
) -> Result<Json<ChatUserResource>, ChatError> {
    // Chat's update has no `Identity`: an identity never changes, so it is ignored.
    let mut fields = params.fields()?;
    super::service_exists(&state, account, path.service)?;
    let origin = webhooks.origin();
    if let Some(origin) = &origin {
        fields =
            hooks::user_update(&state, account, path.service, &path.user, fields, origin).await.map_err(|error| {
                match error {
                    ApiError::NotFound => ChatError(ApiError::ChatUserNotFound),
                    other => ChatError(other),
                }
            })?;
    }
    let store = hooks::writer(&state, origin.as_ref());
    let user = store.update_user(account, path.service, &path.user, fields).map_err(user_error)?;
    let user = state.store.fetch_chat_user(account, path.service, &UserRef::Sid(user.sid)).map_err(user_error)?;
    Ok(Json(ChatUserResource::new(account, &base, user)))
}

/// Delete a user; its members stay in their channels, as on Twilio: <https://www.twilio.com/docs/chat/rest/user-resource#delete-a-user-resource>
async fn delete(ApiCall { state, account, .. }: ApiCall, path: UserPath) -> Result<StatusCode, ChatError> {
    super::service_exists(&state, account, path.service)?;
    state.store.delete_user(account, path.service, &path.user).map_err(user_error)?;
    Ok(StatusCode::NO_CONTENT)
}

/// List the channels a user is a member of, oldest first: <https://www.twilio.com/docs/chat/rest/user-channel-resource#read-multiple-userchannel-resources>
async fn list_channels(
    ApiCall { state, account, base }: ApiCall,
    path: UserPath,
    TwilioQuery(params): TwilioQuery<PageParams>,
) -> Result<Json<ListBody<UserChannelResource>>, ChatError> {
    let request = PageRequest::parse(&params, Order::Asc, MAX_USER_CHANNELS_PAGE_SIZE)?;
    super::service_exists(&state, account, path.service)?;
    let (user, selection) =
        state.store.list_user_conversations(account, path.service, &path.user, &request).map_err(user_error)?;
    let list = format!("/v2/Services/{}/Users/{}/Channels", user.chat_service_sid, user.sid);
    let links = PageLinks { base: &base, path: list, filters: Vec::new() };
    let meta = links.meta(&request, &selection, "channels");
    let records = selection.items.into_iter().map(|seen| UserChannelResource::new(account, &base, seen)).collect();
    Ok(Json(ListBody { records, meta }))
}

/// A user's channel path: the user's, plus the channel by SID or unique name.
struct UserChannelPath {
    user: UserPath,
    channel: ConversationRef,
}

impl<S: Send + Sync> FromRequestParts<S> for UserChannelPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let user = UserPath::from_request_parts(parts, state).await?;
        let params = path_params(parts, state).await?;
        let segment = params.get("ConversationSid").ok_or(ApiError::NotFound)?;
        Ok(Self { user, channel: ConversationRef::parse(segment) })
    }
}

impl UserChannelPath {
    /// Which Chat code a store's `NotFound` stands for here: the store answers alike for a
    /// missing user, a missing channel and a user who is no member, Chat does not. These
    /// reads only pick the code; nothing is written after them.
    fn not_found(&self, state: &AppState, account: AccountSid, error: StoreError) -> ChatError {
        if error != StoreError::NotFound {
            return error.into();
        }
        let service = self.user.service;
        if let Err(error) = state.store.service_sid(account, service) {
            return error.into();
        }
        if state.store.fetch_user(account, service, &self.user.user).is_err() {
            return ChatError(ApiError::ChatUserNotFound);
        }
        match state.store.fetch_conversation(account, service, &self.channel) {
            Err(error) => error.into(),
            Ok(_) => ChatError(ApiError::ChatUserNotMember),
        }
    }
}

/// Member-side update parameters of a user's channel.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UserChannelParams {
    notification_level: Option<String>,
    last_consumed_message_index: Option<String>,
    last_consumption_timestamp: Option<String>,
}

impl UserChannelParams {
    fn update(self) -> Result<UserConversationUpdate, ApiError> {
        let notification_level = self
            .notification_level
            .map(|raw| {
                NotificationLevel::parse(&raw).ok_or_else(|| {
                    let (value, expected) = (raw.clone(), Expected::OneOf("default, muted"));
                    ApiError::invalid("NotificationLevel", InvalidValue::NotA { value, expected })
                })
            })
            .transpose()?;
        let last_read_message_index =
            validate::message_index("LastConsumedMessageIndex", self.last_consumed_message_index)?;
        let last_read_timestamp = validate::instant("LastConsumptionTimestamp", self.last_consumption_timestamp)?;
        Ok(UserConversationUpdate { notification_level, last_read_message_index, last_read_timestamp })
    }
}

/// Fetch one of a user's channels: <https://www.twilio.com/docs/chat/rest/user-channel-resource#fetch-a-userchannel-resource>
async fn fetch_channel(
    ApiCall { state, account, base }: ApiCall,
    path: UserChannelPath,
) -> Result<Json<UserChannelResource>, ChatError> {
    let seen = state
        .store
        .fetch_user_conversation(account, path.user.service, &path.user.user, &path.channel)
        .map_err(|error| path.not_found(&state, account, error))?;
    Ok(Json(UserChannelResource::new(account, &base, seen)))
}

/// Update the member's read state or notification level: <https://www.twilio.com/docs/chat/rest/user-channel-resource#update-a-userchannel-resource>
async fn update_channel(
    ApiCall { state, account, base }: ApiCall,
    path: UserChannelPath,
    TwilioForm(params): TwilioForm<UserChannelParams>,
) -> Result<Json<UserChannelResource>, ChatError> {
    let update = params.update()?;
    let seen = state
        .store
        .update_user_conversation(account, path.user.service, &path.user.user, &path.channel, update)
        .map_err(|error| path.not_found(&state, account, error))?;
    Ok(Json(UserChannelResource::new(account, &base, seen)))
}

/// The user leaves the channel (its member is removed): <https://www.twilio.com/docs/chat/rest/user-channel-resource#delete-a-userchannel-resource>
async fn delete_channel(
    ApiCall { state, account, .. }: ApiCall,
    path: UserChannelPath,
) -> Result<StatusCode, ChatError> {
    state
        .store
        .delete_user_conversation(account, path.user.service, &path.user.user, &path.channel)
        .map_err(|error| path.not_found(&state, account, error))?;
    Ok(StatusCode::NO_CONTENT)
}

/// A channel as one of its members' users sees it: the member's read state and
/// notification level, from the participant behind it.
#[derive(Debug, Serialize)]
pub struct UserChannelResource {
    account_sid: AccountSid,
    service_sid: ChatServiceSid,
    channel_sid: ConversationSid,
    user_sid: UserSid,
    member_sid: ParticipantSid,
    /// Always `joined`: the REST API adds members directly, and Chat's invitations are
    /// not part of a user's channels here.
    status: &'static str,
    last_consumed_message_index: Option<u64>,
    unread_messages_count: u64,
    links: UserChannelLinks,
    url: String,
    notification_level: &'static str,
}

#[derive(Debug, Serialize)]
struct UserChannelLinks {
    channel: String,
    member: String,
}

impl UserChannelResource {
    fn new(account_sid: AccountSid, base: &str, seen: UserConversation) -> Self {
        let UserConversation { user_sid, conversation, participant, unread_messages_count } = seen;
        let (service, channel) = (conversation.chat_service_sid, conversation.sid);
        let channel_url = format!("{base}/v2/Services/{service}/Channels/{channel}");
        Self {
            account_sid,
            service_sid: service,
            channel_sid: channel,
            user_sid,
            member_sid: participant.sid,
            status: "joined",
            last_consumed_message_index: participant.last_read_message_index,
            unread_messages_count,
            links: UserChannelLinks {
                member: format!("{channel_url}/Members/{}", participant.sid),
                channel: channel_url,
            },
            url: format!("{base}/v2/Services/{service}/Users/{user_sid}/Channels/{channel}"),
            notification_level: participant.notification_level.as_str(),
        }
    }
}

/// A user as Chat v2 shows it, in the key order of Twilio's examples.
#[derive(Debug, Serialize)]
pub struct ChatUserResource {
    sid: UserSid,
    account_sid: AccountSid,
    service_sid: ChatServiceSid,
    attributes: Arc<str>,
    friendly_name: Option<Arc<str>>,
    role_sid: RoleSid,
    identity: Arc<str>,
    /// Always `null`: no user of the REST API alone has ever been online or registered
    /// for push notifications, and Twilio reports `null` then.
    is_online: Option<bool>,
    is_notifiable: Option<bool>,
    date_created: Timestamp,
    date_updated: Timestamp,
    joined_channels_count: usize,
    links: ChatUserLinks,
    url: String,
}

#[derive(Debug, Serialize)]
struct ChatUserLinks {
    user_channels: String,
    user_bindings: String,
}

impl ChatUserResource {
    fn new(account_sid: AccountSid, base: &str, chat_user: ChatUser) -> Self {
        let ChatUser { user, joined_channels_count } = chat_user;
        let url = format!("{base}/v2/Services/{}/Users/{}", user.chat_service_sid, user.sid);
        Self {
            sid: user.sid,
            account_sid,
            service_sid: user.chat_service_sid,
            attributes: user.attributes.unwrap_or_else(|| Arc::from("{}")),
            friendly_name: user.friendly_name,
            role_sid: user.role_sid,
            identity: user.identity,
            is_online: None,
            is_notifiable: None,
            date_created: user.date_created,
            date_updated: user.date_updated,
            joined_channels_count,
            links: ChatUserLinks { user_channels: format!("{url}/Channels"), user_bindings: format!("{url}/Bindings") },
            url,
        }
    }
}
