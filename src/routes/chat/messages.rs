//! The Chat v2 Message resource, `/v2/Services/{IS}/Channels/{CH}/Messages[/{IM}]`: the
//! same messages as Conversations, in Chat's representation.
//! <https://www.twilio.com/docs/chat/rest/message-resource>

use std::sync::Arc;

use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::ChatError;
use crate::error::ApiError;
use crate::extract::{ApiCall, ConversationScope, MessagePath, TwilioForm, TwilioQuery, WebhookEnabled};
use crate::pagination::{ListBody, OrderedPageParams, PageLinks};
use crate::routes::messages::MediaWire;
use crate::sid::{AccountSid, ChatServiceSid, ConversationSid, MessageSid};
use crate::state::AppState;
use crate::store::Located;
use crate::store::model::{MessageFields, StoredMessage};
use crate::time::Timestamp;
use crate::urls::{ConversationUrl, Href, UrlForm};
use crate::validate;

/// Chat v2's maximum `PageSize` for messages.
pub const MAX_PAGE_SIZE: usize = 100;

/// Adds the chat message routes under `messages` (`…/Channels/{CH}/Messages`).
pub fn mount(router: Router<AppState>, messages: &str) -> Router<AppState> {
    router
        .route(messages, get(list).post(create))
        .route(&format!("{messages}/{{MessageSid}}"), get(fetch).post(update).delete(delete))
}

/// Create and update parameters; `MediaSid` counts on create only.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MessageParams {
    from: Option<String>,
    body: Option<String>,
    attributes: Option<String>,
    date_created: Option<String>,
    date_updated: Option<String>,
    last_updated_by: Option<String>,
    media_sid: Option<String>,
}

impl MessageParams {
    /// `on_create`: Chat stores a missing body as an empty string ("Can be an empty string
    /// or `null`, which sets the value as an empty string").
    fn validate(self, on_create: bool) -> Result<MessageFields, ApiError> {
        let media_sid = if on_create { validate::media_sid(self.media_sid.as_deref())? } else { None };
        let body = match self.body {
            // A media message has no text; a text message without one has an empty one.
            None if on_create && media_sid.is_none() => Some(String::new()),
            body => body,
        };
        Ok(MessageFields {
            media_sid,
            content_sid: None,
            author: validate::name(self.from, ApiError::AuthorTooLong)?,
            body: validate::body(body)?,
            attributes: validate::attributes(self.attributes, validate::MESSAGE_ATTRIBUTES_MAX_BYTES)?,
            last_updated_by: validate::name(self.last_updated_by, ApiError::LastUpdatedByTooLong)?,
            date_created: validate::date_created(self.date_created.as_deref())?,
            date_updated: validate::date_updated(self.date_updated.as_deref())?,
        })
    }
}

/// Send a message: <https://www.twilio.com/docs/chat/rest/message-resource#create-a-message-resource>
async fn create(
    ApiCall { state, account, base }: ApiCall,
    scope: ConversationScope,
    _webhooks: WebhookEnabled,
    TwilioForm(params): TwilioForm<MessageParams>,
) -> Result<(StatusCode, Json<ChatMessageResource>), ChatError> {
    let fields = params.validate(true)?;
    let located = state.store.create_message(account, scope.service, &scope.conversation, fields)?;
    Ok((StatusCode::CREATED, Json(ChatMessageResource::new(account, base, located))))
}

/// Fetch a message: <https://www.twilio.com/docs/chat/rest/message-resource#fetch-a-message-resource>
async fn fetch(
    ApiCall { state, account, base }: ApiCall,
    path: MessagePath,
) -> Result<Json<ChatMessageResource>, ChatError> {
    let scope = path.scope;
    let located = state.store.fetch_message(account, scope.service, &scope.conversation, path.sid)?;
    Ok(Json(ChatMessageResource::new(account, base, located)))
}

/// List a channel's messages: <https://www.twilio.com/docs/chat/rest/message-resource#read-multiple-message-resources>
async fn list(
    ApiCall { state, account, base }: ApiCall,
    scope: ConversationScope,
    TwilioQuery(params): TwilioQuery<OrderedPageParams>,
) -> Result<Json<ListBody<ChatMessageResource>>, ChatError> {
    let (request, filters) = params.parse(MAX_PAGE_SIZE)?;
    let located = state.store.list_messages(account, scope.service, &scope.conversation, &request, |located| {
        located.map(|page| page.map(StoredMessage::clone))
    })?;
    let url = channel_url(base, &located);
    let links = PageLinks { base: &url.base, path: url.path() + "/Messages", filters };
    let meta = links.meta(&request, &located.value, "messages");
    let records = located
        .value
        .items
        .into_iter()
        .map(|message| ChatMessageResource {
            account_sid: account,
            service_sid: located.chat_service_sid,
            url: url.clone(),
            message,
        })
        .collect();
    Ok(Json(ListBody { records, meta }))
}

/// Update a message: <https://www.twilio.com/docs/chat/rest/message-resource#update-a-message-resource>
async fn update(
    ApiCall { state, account, base }: ApiCall,
    path: MessagePath,
    _webhooks: WebhookEnabled,
    TwilioForm(params): TwilioForm<MessageParams>,
) -> Result<Json<ChatMessageResource>, ChatError> {
    let fields = params.validate(false)?;
    let scope = path.scope;
    let located = state.store.update_message(account, scope.service, &scope.conversation, path.sid, fields)?;
    Ok(Json(ChatMessageResource::new(account, base, located)))
}

/// Delete a message (204, empty body): <https://www.twilio.com/docs/chat/rest/message-resource#delete-a-message-resource>
async fn delete(
    ApiCall { state, account, .. }: ApiCall,
    path: MessagePath,
    _webhooks: WebhookEnabled,
) -> Result<StatusCode, ChatError> {
    let scope = path.scope;
    state.store.delete_message(account, scope.service, &scope.conversation, path.sid)?;
    Ok(StatusCode::NO_CONTENT)
}

fn channel_url<T>(base: Arc<str>, located: &Located<T>) -> ConversationUrl {
    ConversationUrl { base, form: UrlForm::Chat(located.chat_service_sid), conversation: located.conversation_sid }
}

/// A message as Chat v2 shows it.
#[derive(Debug)]
pub struct ChatMessageResource {
    account_sid: AccountSid,
    service_sid: ChatServiceSid,
    url: ConversationUrl,
    message: StoredMessage,
}

impl ChatMessageResource {
    fn new(account_sid: AccountSid, base: Arc<str>, located: Located<StoredMessage>) -> Self {
        let url = channel_url(base, &located);
        Self { account_sid, service_sid: located.chat_service_sid, url, message: located.value }
    }
}

/// The wire shape, in the key order of Twilio's create example.
#[derive(Serialize)]
struct ChatMessageWire<'a> {
    sid: MessageSid,
    account_sid: AccountSid,
    service_sid: ChatServiceSid,
    to: ConversationSid,
    channel_sid: ConversationSid,
    attributes: &'a str,
    date_created: Timestamp,
    date_updated: Timestamp,
    last_updated_by: Option<&'a str>,
    was_edited: bool,
    from: &'a str,
    body: Option<&'a str>,
    index: u64,
    #[serde(rename = "type")]
    message_type: &'static str,
    media: Option<MediaWire<'a>>,
    url: Href<'a>,
}

impl Serialize for ChatMessageResource {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let message = &self.message;
        let channel = self.url.conversation;
        ChatMessageWire {
            sid: message.sid,
            account_sid: self.account_sid,
            service_sid: self.service_sid,
            to: channel,
            channel_sid: channel,
            attributes: message.attributes.as_deref().unwrap_or("{}"),
            date_created: message.date_created,
            date_updated: message.date_updated,
            last_updated_by: message.last_updated_by(),
            was_edited: message.was_edited,
            from: message.author(),
            body: message.body(),
            index: message.index,
            message_type: if message.media().is_some() { "media" } else { "text" },
            media: message.media().map(MediaWire::from),
            url: self.url.message(message.sid, ""),
        }
        .serialize(serializer)
    }
}
