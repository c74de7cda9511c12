//! The Conversation Message resource, on both URL forms:
//! `/v1/Conversations/{CH}/Messages[/{IM}]` and
//! `/v1/Services/{IS}/Conversations/{CH}/Messages[/{IM}]`.
//! <https://www.twilio.com/docs/conversations/api/conversation-message-resource>

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use serde::Deserialize;

use crate::error::ApiError;
use crate::extract::{BaseUrl, ConversationScope, MessagePath, Tenant, TwilioForm, TwilioQuery, WebhookEnabled};
use crate::json::{Ascii, Json, JsonBody};
use crate::pagination::{OrderedPageParams, PageLinks};
use crate::sid::AccountSid;
use crate::state::AppState;
use crate::store::model::{MessageFields, StoredMessage};
use crate::store::{Located, ServiceScope};
use crate::urls::ConversationUrl;
use crate::validate;

/// Twilio's maximum `PageSize` for messages.
pub const MAX_PAGE_SIZE: usize = 100;

/// Adds the message routes under `messages` (`…/Conversations/{CH}/Messages`), with each
/// message's receipts.
pub fn mount(router: Router<AppState>, messages: &str) -> Router<AppState> {
    let message = format!("{messages}/{{MessageSid}}");
    let router = router.route(messages, get(list).post(create)).route(&message, get(fetch).post(update).delete(delete));
    super::receipts::mount(router, &format!("{message}/Receipts"))
}

/// Create and update parameters. `MediaSid`, `ContentSid` and `ContentVariables` count on
/// create only. `Subject` (email conversations) is accepted and, like any unknown
/// parameter, ignored: Twilio's response has no such field.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct MessageParams {
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
pub(super) async fn create(
    State(state): State<AppState>,
    Tenant(account): Tenant,
    BaseUrl(base): BaseUrl,
    scope: ConversationScope,
    _webhooks: WebhookEnabled,
    TwilioForm(params): TwilioForm<MessageParams>,
) -> Result<(StatusCode, JsonBody), ApiError> {
    let new = params.validate()?;
    let located = state.store.create_message(account, scope.service, &scope.conversation, new)?;
    Ok((StatusCode::CREATED, MessageResource::new(account, base, scope.service, located).into_body()))
}

/// Fetch a message: <https://www.twilio.com/docs/conversations/api/conversation-message-resource#fetch-a-conversationmessage-resource>
pub(super) async fn fetch(
    State(state): State<AppState>,
    Tenant(account): Tenant,
    BaseUrl(base): BaseUrl,
    path: MessagePath,
) -> Result<JsonBody, ApiError> {
    let scope = path.scope;
    let located = state.store.fetch_message(account, scope.service, &scope.conversation, path.sid)?;
    Ok(MessageResource::new(account, base, scope.service, located).into_body())
}

/// List a conversation's messages: <https://www.twilio.com/docs/conversations/api/conversation-message-resource#read-multiple-conversationmessage-resources>
pub(super) async fn list(
    State(state): State<AppState>,
    Tenant(account): Tenant,
    BaseUrl(base): BaseUrl,
    scope: ConversationScope,
    TwilioQuery(params): TwilioQuery<OrderedPageParams>,
) -> Result<JsonBody, ApiError> {
    let (request, filters) = params.parse(MAX_PAGE_SIZE)?;
    let page = state.store.list_messages(account, scope.service, &scope.conversation, &request, |located| {
        let url = conversation_url(base, scope.service, &located);
        let links = PageLinks { base: &url.base, path: url.path() + "/Messages", filters };
        let meta = links.meta(&request, &located.value, "messages");
        // Written directly: a page is the hottest response there is (see `crate::json`).
        let messages = &located.value.items;
        let mut json = Json::with_capacity(1024 + 900 * messages.len());
        json.raw("{\"messages\":[");
        let shared = Shared::new(account, &url);
        for (i, message) in messages.iter().enumerate() {
            if i > 0 {
                json.raw(",");
            }
            write_message(&mut json, &shared, message);
        }
        json.raw("],\"meta\":");
        meta.write_json(&mut json);
        json.raw("}");
        json.into_bytes()
    })?;
    Ok(JsonBody(page))
}

/// Update a message: <https://www.twilio.com/docs/conversations/api/conversation-message-resource#update-a-conversationmessage-resource>
pub(super) async fn update(
    State(state): State<AppState>,
    Tenant(account): Tenant,
    BaseUrl(base): BaseUrl,
    path: MessagePath,
    _webhooks: WebhookEnabled,
    TwilioForm(params): TwilioForm<MessageParams>,
) -> Result<JsonBody, ApiError> {
    let changes = params.validate_update()?;
    let scope = path.scope;
    let located = state.store.update_message(account, scope.service, &scope.conversation, path.sid, changes)?;
    Ok(MessageResource::new(account, base, scope.service, located).into_body())
}

/// Delete a message (204, empty body): <https://www.twilio.com/docs/conversations/api/conversation-message-resource#delete-a-conversationmessage-resource>
pub(super) async fn delete(
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
    message: StoredMessage,
}

impl MessageResource {
    fn new(account_sid: AccountSid, base: Arc<str>, scope: ServiceScope, located: Located<StoredMessage>) -> Self {
        let url = conversation_url(base, scope, &located);
        Self { account_sid, url, message: located.value }
    }
}

impl MessageResource {
    /// The message as a response body.
    fn into_body(self) -> JsonBody {
        let mut json = Json::with_capacity(1024);
        write_message(&mut json, &Shared::new(self.account_sid, &self.url), &self.message);
        JsonBody(json.into_bytes())
    }
}

/// What every message of one response shares, rendered once: a page of 50 would
/// otherwise render the same SIDs and URL prefix 150 times.
struct Shared {
    /// `","account_sid":"AC…",["chat_service_sid":"IS…",]"conversation_sid":"CH…","body":`,
    /// which follows each message's SID (`chat_service_sid` only on the service form).
    after_sid: Vec<u8>,
    /// `{base}{conversation path}/Messages/`.
    messages_url: Vec<u8>,
}

impl Shared {
    fn new(account_sid: AccountSid, url: &ConversationUrl) -> Self {
        let mut after_sid = Vec::with_capacity(160);
        after_sid.extend_from_slice(b"\",\"account_sid\":\"");
        account_sid.write_ascii(&mut after_sid);
        if let Some(service) = url.shown_service() {
            after_sid.extend_from_slice(b"\",\"chat_service_sid\":\"");
            service.write_ascii(&mut after_sid);
        }
        after_sid.extend_from_slice(b"\",\"conversation_sid\":\"");
        url.conversation.write_ascii(&mut after_sid);
        after_sid.extend_from_slice(b"\",\"body\":");
        let mut messages_url = Vec::with_capacity(128);
        url.write_ascii(&mut messages_url);
        messages_url.extend_from_slice(b"/Messages/");
        Self { after_sid, messages_url }
    }
}

/// Appends `message` as Twilio renders it on the request's form, in the key order of its
/// examples: `chat_service_sid` only on the service form, `url` and `links` on the form used.
fn write_message(json: &mut Json, shared: &Shared, message: &StoredMessage) {
    let sid = message.sid.to_ascii();
    let url = shared.messages_url.as_slice();
    json.raw("{\"sid\":\"");
    json.ascii_bytes(&sid);
    json.ascii_bytes(&shared.after_sid);
    let (author, body) = message.text();
    let escapes = message.needs_escaping();
    match body {
        Some(body) => json.checked_string(body, escapes),
        None => json.raw("null"),
    }
    // The common cases (no media; below, no attributes, no delivery or template) are one
    // literal each.
    match message.media() {
        Some(media) => {
            json.raw(",\"media\":[{\"sid\":");
            json.ascii(&media.sid);
            json.raw(",\"size\":");
            json.number(media.size);
            json.raw(",\"content_type\":");
            json.string(&media.content_type);
            json.raw(",\"filename\":");
            json.opt_string(media.filename.as_deref());
            json.raw("}],\"author\":");
        }
        None => json.raw(",\"media\":null,\"author\":"),
    }
    json.checked_string(author, escapes);
    json.raw(",\"participant_sid\":");
    json.opt_ascii(message.participant_sid.as_ref());
    match message.attributes.as_deref() {
        Some(attributes) => {
            json.raw(",\"attributes\":");
            json.string(attributes);
            json.raw(",\"date_created\":");
        }
        None => json.raw(",\"attributes\":\"{}\",\"date_created\":"),
    }
    let date_created = json.position();
    json.ascii(&message.date_created);
    let date_created = date_created..json.position();
    json.raw(",\"date_updated\":");
    // Most messages were never updated: their second date is the first, already rendered.
    if message.date_updated == message.date_created {
        json.repeat(date_created);
    } else {
        json.ascii(&message.date_updated);
    }
    json.raw(",\"index\":");
    json.number(message.index);
    match (message.delivery(), message.content_sid()) {
        (None, None) => json.raw(",\"delivery\":null,\"content_sid\":null,\"url\":\""),
        (delivery, content_sid) => {
            json.raw(",\"delivery\":");
            match delivery {
                Some(delivery) => json.serde(&delivery),
                None => json.raw("null"),
            }
            json.raw(",\"content_sid\":");
            json.opt_ascii(content_sid.as_ref());
            json.raw(",\"url\":\"");
        }
    }
    let message_url = json.position();
    json.ascii_bytes(url);
    json.ascii_bytes(&sid);
    let message_url = message_url..json.position();
    // The links extend the message's URL, written once above.
    json.raw("\",\"links\":{\"delivery_receipts\":\"");
    json.repeat(message_url.clone());
    json.raw("/Receipts\",\"channel_metadata\":\"");
    json.repeat(message_url);
    json.raw("/ChannelMetadata\"}}");
}
