//! The Conversation Message resource, on both URL forms:
//! `/v1/Conversations/{CH}/Messages[/{IM}]` and
//! `/v1/Services/{IS}/Conversations/{CH}/Messages[/{IM}]`.
//! <https://www.twilio.com/docs/conversations/api/conversation-message-resource>

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::extract::{BaseUrl, ConversationScope, MessagePath, Tenant, TwilioForm, TwilioQuery, WebhookEnabled};
use crate::pagination::{ListBody, OrderedPageParams, PageLinks};
use crate::sid::{AccountSid, ChatServiceSid, ContentSid, ConversationSid, MediaSid, MessageSid, ParticipantSid};
use crate::state::AppState;
use crate::store::model::{DeliverySummary, MediaRef, Message, MessageFields};
use crate::store::{Located, ServiceScope};
use crate::time::Timestamp;
use crate::urls::{ConversationUrl, Href};
use crate::validate;

/// Twilio's maximum `PageSize` for messages.
pub const MAX_PAGE_SIZE: usize = 100;

/// The routes under `…/Conversations/{ConversationSid}/Messages`, for both URL forms, with
/// each message's receipts nested inside.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(list).post(create))
        .route("/{MessageSid}", get(fetch).post(update).delete(delete))
        .nest("/{MessageSid}/Receipts", super::receipts::router())
}

/// Create and update parameters. `MediaSid`, `ContentSid` and `ContentVariables` count on
/// create only. `Subject` (email conversations) is accepted and, like any unknown
/// parameter, ignored: Twilio's response has no such field.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MessageParams {
    author: Option<String>,
    body: Option<String>,
    attributes: Option<String>,
    date_created: Option<String>,
    date_updated: Option<String>,
    media_sid: Option<String>,
    content_sid: Option<String>,
    content_variables: Option<String>,
}

impl MessageParams {
    fn validate(self) -> Result<MessageFields, ApiError> {
        if let Some(variables) = &self.content_variables
            && serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(variables).is_err()
        {
            return Err(ApiError::InvalidContentVariables);
        }
        Ok(MessageFields {
            author: validate::name(self.author, ApiError::AuthorTooLong)?,
            body: validate::body(self.body)?,
            attributes: validate::attributes(self.attributes, validate::MESSAGE_ATTRIBUTES_MAX_BYTES)?,
            media_sid: validate::media_sid(self.media_sid.as_deref())?,
            content_sid: self
                .content_sid
                .map(|raw| raw.parse().map_err(|_| ApiError::InvalidParameter(format!("Invalid ContentSid: '{raw}'"))))
                .transpose()?,
            last_updated_by: None,
            date_created: validate::date_created(self.date_created.as_deref())?,
            date_updated: validate::date_updated(self.date_updated.as_deref())?,
        })
    }

    /// Update takes no media or template: a message keeps what it was created with.
    fn validate_update(self) -> Result<MessageFields, ApiError> {
        Ok(MessageFields { media_sid: None, content_sid: None, ..Self { content_variables: None, ..self }.validate()? })
    }
}

/// Create a message: <https://www.twilio.com/docs/conversations/api/conversation-message-resource#create-a-conversationmessage-resource>
async fn create(
    State(state): State<AppState>,
    Tenant(account): Tenant,
    BaseUrl(base): BaseUrl,
    scope: ConversationScope,
    _webhooks: WebhookEnabled,
    TwilioForm(params): TwilioForm<MessageParams>,
) -> Result<(StatusCode, Json<MessageResource>), ApiError> {
    let new = params.validate()?;
    let located = state.store.create_message(account, scope.service, &scope.conversation, new)?;
    Ok((StatusCode::CREATED, Json(MessageResource::new(account, base, scope.service, located))))
}

/// Fetch a message: <https://www.twilio.com/docs/conversations/api/conversation-message-resource#fetch-a-conversationmessage-resource>
async fn fetch(
    State(state): State<AppState>,
    Tenant(account): Tenant,
    BaseUrl(base): BaseUrl,
    path: MessagePath,
) -> Result<Json<MessageResource>, ApiError> {
    let scope = path.scope;
    let located = state.store.fetch_message(account, scope.service, &scope.conversation, path.sid)?;
    Ok(Json(MessageResource::new(account, base, scope.service, located)))
}

/// List a conversation's messages: <https://www.twilio.com/docs/conversations/api/conversation-message-resource#read-multiple-conversationmessage-resources>
async fn list(
    State(state): State<AppState>,
    Tenant(account): Tenant,
    BaseUrl(base): BaseUrl,
    scope: ConversationScope,
    TwilioQuery(params): TwilioQuery<OrderedPageParams>,
) -> Result<Json<ListBody<MessageResource>>, ApiError> {
    let (request, filters) = params.parse(MAX_PAGE_SIZE)?;
    let located = state.store.list_messages(account, scope.service, &scope.conversation, &request)?;
    let url = conversation_url(base, scope.service, &located);
    let links = PageLinks { base: &url.base, path: url.path() + "/Messages", filters };
    let meta = links.meta(&request, &located.value, "messages");
    let records = located
        .value
        .items
        .into_iter()
        .map(|message| MessageResource { account_sid: account, url: url.clone(), message })
        .collect();
    Ok(Json(ListBody { records, meta }))
}

/// Update a message: <https://www.twilio.com/docs/conversations/api/conversation-message-resource#update-a-conversationmessage-resource>
async fn update(
    State(state): State<AppState>,
    Tenant(account): Tenant,
    BaseUrl(base): BaseUrl,
    path: MessagePath,
    _webhooks: WebhookEnabled,
    TwilioForm(params): TwilioForm<MessageParams>,
) -> Result<Json<MessageResource>, ApiError> {
    let changes = params.validate_update()?;
    let scope = path.scope;
    let located = state.store.update_message(account, scope.service, &scope.conversation, path.sid, changes)?;
    Ok(Json(MessageResource::new(account, base, scope.service, located)))
}

/// Delete a message (204, empty body): <https://www.twilio.com/docs/conversations/api/conversation-message-resource#delete-a-conversationmessage-resource>
async fn delete(
    State(state): State<AppState>,
    Tenant(account): Tenant,
    path: MessagePath,
    _webhooks: WebhookEnabled,
) -> Result<StatusCode, ApiError> {
    let scope = path.scope;
    state.store.delete_message(account, scope.service, &scope.conversation, path.sid)?;
    Ok(StatusCode::NO_CONTENT)
}

fn conversation_url<T>(base: Arc<str>, scope: ServiceScope, located: &Located<T>) -> ConversationUrl {
    ConversationUrl::on_form(base, scope, located.chat_service_sid, located.conversation_sid)
}

/// A message as Twilio renders it on the URL form of the request: `chat_service_sid` only
/// on the service form, `url` and `links` on the form used.
#[derive(Debug)]
pub struct MessageResource {
    account_sid: AccountSid,
    url: ConversationUrl,
    message: Arc<Message>,
}

impl MessageResource {
    fn new(account_sid: AccountSid, base: Arc<str>, scope: ServiceScope, located: Located<Arc<Message>>) -> Self {
        let url = conversation_url(base, scope, &located);
        Self { account_sid, url, message: located.value }
    }
}

/// The wire shape, in the key order of Twilio's examples.
#[derive(Serialize)]
struct MessageWire<'a> {
    sid: MessageSid,
    account_sid: AccountSid,
    #[serde(skip_serializing_if = "Option::is_none")]
    chat_service_sid: Option<ChatServiceSid>,
    conversation_sid: ConversationSid,
    body: Option<&'a str>,
    media: Option<[MediaWire<'a>; 1]>,
    author: &'a str,
    /// The participant whose identity or address is the author; null for `system`.
    participant_sid: Option<ParticipantSid>,
    attributes: &'a str,
    date_created: Timestamp,
    date_updated: Timestamp,
    index: u64,
    /// Null for a message that went to no SMS or WhatsApp participant.
    delivery: Option<DeliverySummary>,
    content_sid: Option<ContentSid>,
    url: Href<'a>,
    links: MessageLinks<'a>,
}

/// One entry of a message's `media` array (Chat v2 shows it as a single object).
#[derive(Serialize)]
pub struct MediaWire<'a> {
    sid: MediaSid,
    size: u64,
    content_type: &'a str,
    filename: Option<&'a str>,
}

impl<'a> From<&'a MediaRef> for MediaWire<'a> {
    fn from(media: &'a MediaRef) -> Self {
        Self {
            sid: media.sid,
            size: media.size,
            content_type: &media.content_type,
            filename: media.filename.as_deref(),
        }
    }
}

#[derive(Serialize)]
struct MessageLinks<'a> {
    delivery_receipts: Href<'a>,
    channel_metadata: Href<'a>,
}

impl Serialize for MessageResource {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let message = &*self.message;
        let sid = message.sid;
        MessageWire {
            sid,
            account_sid: self.account_sid,
            chat_service_sid: self.url.shown_service(),
            conversation_sid: self.url.conversation,
            body: message.body.as_deref(),
            media: message.media().map(|media| [MediaWire::from(media)]),
            author: &message.author,
            participant_sid: message.participant_sid,
            attributes: message.attributes.as_deref().unwrap_or("{}"),
            date_created: message.date_created,
            date_updated: message.date_updated,
            index: message.index,
            delivery: message.delivery(),
            content_sid: message.content_sid(),
            url: self.url.message(sid, ""),
            links: MessageLinks {
                delivery_receipts: self.url.message(sid, "/Receipts"),
                channel_metadata: self.url.message(sid, "/ChannelMetadata"),
            },
        }
        .serialize(serializer)
    }
}
