//! The Conversation Message resource, on both URL forms:
//! `/v1/Conversations/{CH}/Messages[/{IM}]` and
//! `/v1/Services/{IS}/Conversations/{CH}/Messages[/{IM}]`.
//! <https://www.twilio.com/docs/conversations/api/conversation-message-resource>

use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, InvalidValue};
use crate::extract::{ApiCall, ConversationScope, MessagePath, TwilioForm, TwilioQuery, WebhookEnabled};
use crate::json::{Ascii, Json, JsonBody};
use crate::pagination::{OrderedPageParams, PageLinks};
use crate::sid::{AccountSid, ChatServiceSid, ContentSid, ConversationSid, MediaSid, MessageSid, ParticipantSid};
use crate::state::AppState;
use crate::store::model::{DeliverySummary, MediaRef, MessageFields, StoredMessage};
use crate::store::{Located, ServiceScope};
use crate::time::Timestamp;
use crate::urls::{ConversationUrl, Href};
use crate::validate;

use super::hooks;

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
                .map(|raw| raw.parse().map_err(|_| ApiError::invalid("ContentSid", InvalidValue::Malformed(raw))))
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
///
/// Served by [`super::shortcut`] too: it may take only the extractors listed there.
pub(super) async fn create(
    ApiCall { state, account, base }: ApiCall,
    scope: ConversationScope,
    webhooks: WebhookEnabled,
    TwilioForm(params): TwilioForm<MessageParams>,
) -> Result<(StatusCode, JsonBody), ApiError> {
    let mut new = params.validate()?;
    let origin = webhooks.origin();
    if let Some(origin) = &origin {
        new = hooks::message_add(&state, account, &scope, new, origin).await?;
    }
    let store = hooks::writer(&state, origin.as_ref());
    let located = store.create_message(account, scope.service, &scope.conversation, new)?;
    Ok((StatusCode::CREATED, MessageResource::new(account, base, scope.service, located).into_body()))
}

/// Fetch a message: <https://www.twilio.com/docs/conversations/api/conversation-message-resource#fetch-a-conversationmessage-resource>
///
/// Served by [`super::shortcut`] too: it may take only the extractors listed there.
pub(super) async fn fetch(ApiCall { state, account, base }: ApiCall, path: MessagePath) -> Result<JsonBody, ApiError> {
    let scope = path.scope;
    let located = state.store.fetch_message(account, scope.service, &scope.conversation, path.sid)?;
    Ok(MessageResource::new(account, base, scope.service, located).into_body())
}

/// List a conversation's messages: <https://www.twilio.com/docs/conversations/api/conversation-message-resource#read-multiple-conversationmessage-resources>
///
/// Served by [`super::shortcut`] too: it may take only the extractors listed there.
pub(super) async fn list(
    ApiCall { state, account, base }: ApiCall,
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
///
/// Served by [`super::shortcut`] too: it may take only the extractors listed there.
pub(super) async fn update(
    ApiCall { state, account, base }: ApiCall,
    path: MessagePath,
    webhooks: WebhookEnabled,
    TwilioForm(params): TwilioForm<MessageParams>,
) -> Result<JsonBody, ApiError> {
    let mut changes = params.validate_update()?;
    let scope = path.scope;
    let origin = webhooks.origin();
    if let Some(origin) = &origin {
        changes = hooks::message_update(&state, account, &scope, path.sid, changes, origin).await?;
    }
    let store = hooks::writer(&state, origin.as_ref());
    let located = store.update_message(account, scope.service, &scope.conversation, path.sid, changes)?;
    Ok(MessageResource::new(account, base, scope.service, located).into_body())
}

/// Delete a message (204, empty body): <https://www.twilio.com/docs/conversations/api/conversation-message-resource#delete-a-conversationmessage-resource>
///
/// Served by [`super::shortcut`] too: it may take only the extractors listed there.
pub(super) async fn delete(
    ApiCall { state, account, .. }: ApiCall,
    path: MessagePath,
    webhooks: WebhookEnabled,
) -> Result<StatusCode, ApiError> {
    let scope = path.scope;
    let origin = webhooks.origin();
    if let Some(origin) = &origin {
        hooks::message_remove(&state, account, &scope, path.sid, origin).await?;
    }
    hooks::writer(&state, origin.as_ref()).delete_message(account, scope.service, &scope.conversation, path.sid)?;
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

/// The wire shape of a message, in the key order of Twilio's examples: the readable
/// statement of what [`write_message`] writes by hand, which the tests hold it to byte for
/// byte. A new field goes here and there.
#[derive(Serialize)]
struct MessageWire<'a> {
    sid: MessageSid,
    account_sid: AccountSid,
    /// Only on the service form, as in Twilio's spec.
    #[serde(skip_serializing_if = "Option::is_none")]
    chat_service_sid: Option<ChatServiceSid>,
    conversation_sid: ConversationSid,
    body: Option<&'a str>,
    /// A message carries at most one media item, listed as an array.
    media: Option<[MediaWire<'a>; 1]>,
    author: &'a str,
    participant_sid: Option<ParticipantSid>,
    attributes: &'a str,
    date_created: Timestamp,
    date_updated: Timestamp,
    index: u64,
    delivery: Option<DeliverySummary>,
    content_sid: Option<ContentSid>,
    url: Href<'a>,
    links: MessageLinks<'a>,
}

#[derive(Serialize)]
struct MessageLinks<'a> {
    delivery_receipts: Href<'a>,
    channel_metadata: Href<'a>,
}

/// A message's `media` object, the same in Chat v2 and Conversations.
#[derive(Serialize)]
pub(crate) struct MediaWire<'a> {
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

impl Serialize for MessageResource {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let message = &self.message;
        MessageWire {
            sid: message.sid,
            account_sid: self.account_sid,
            chat_service_sid: self.url.shown_service(),
            conversation_sid: self.url.conversation,
            body: message.body(),
            media: message.media().map(|media| [MediaWire::from(media)]),
            author: message.author(),
            participant_sid: message.participant_sid,
            attributes: message.attributes.as_deref().unwrap_or("{}"),
            date_created: message.date_created,
            date_updated: message.date_updated,
            index: message.index,
            delivery: message.delivery(),
            content_sid: message.content_sid(),
            url: self.url.message(message.sid, ""),
            links: MessageLinks {
                delivery_receipts: self.url.message(message.sid, "/Receipts"),
                channel_metadata: self.url.message(message.sid, "/ChannelMetadata"),
            },
        }
        .serialize(serializer)
    }
}

/// What every message of one response shares, each key with its value rendered once: a
/// page of 50 would otherwise render the same SIDs and URL prefix 150 times (a SID's hex
/// digits cost more than copying them). The SID members have a fixed width, so copying
/// one compiles to a few moves rather than a call to `memcpy`.
struct Shared {
    /// `,"account_sid":"AC…"`.
    account_sid: [u8; 51],
    /// `,"chat_service_sid":"IS…"`, only on the service form.
    chat_service_sid: Option<[u8; 56]>,
    /// `,"conversation_sid":"CH…"`.
    conversation_sid: [u8; 56],
    /// `{base}{conversation path}/Messages/`, which each message's URL extends.
    messages_url: Vec<u8>,
}

impl Shared {
    fn new(account_sid: AccountSid, url: &ConversationUrl) -> Self {
        /// `key` and the SID in quotes: `LEN` is the key's length plus 36.
        fn member<const KEY: usize, const LEN: usize>(key: &[u8; KEY], sid: [u8; 34]) -> [u8; LEN] {
            const { assert!(LEN == KEY + 36, "a SID member is its key and 36 bytes") };
            let mut out = [b'"'; LEN];
            out[..KEY].copy_from_slice(key);
            out[KEY + 1..KEY + 35].copy_from_slice(&sid);
            out
        }
        let mut messages_url = Vec::with_capacity(128);
        url.write_ascii(&mut messages_url);
        messages_url.extend_from_slice(b"/Messages/");
        Self {
            account_sid: member(b",\"account_sid\":", account_sid.to_ascii()),
            chat_service_sid: url.shown_service().map(|sid| member(b",\"chat_service_sid\":", sid.to_ascii())),
            conversation_sid: member(b",\"conversation_sid\":", url.conversation.to_ascii()),
            messages_url,
        }
    }
}

/// Appends `message` as [`MessageWire`] renders it, faster: a page of 50 messages is the
/// hottest response there is. Each write holds one key, with its value where the value is
/// known in advance (`null`, `"{}"`), in [`MessageWire`]'s order, so that a field is added
/// in one place here. Writes are what this costs, so the values that repeat (the SID in
/// the URLs, a date never updated) are copied from where they were first written rather
/// than rendered again, and nothing is written for an absent `chat_service_sid`.
fn write_message(json: &mut Json, shared: &Shared, message: &StoredMessage) {
    let (author, body) = message.text();
    let escapes = message.needs_escaping();
    json.raw("{\"sid\":");
    let sid = json.position() + 1;
    json.ascii(&message.sid);
    let sid = sid..json.position() - 1;
    json.ascii_bytes(&shared.account_sid);
    if let Some(chat_service_sid) = &shared.chat_service_sid {
        json.ascii_bytes(chat_service_sid);
    }
    json.ascii_bytes(&shared.conversation_sid);
    json.raw(",\"body\":");
    match body {
        Some(body) => json.checked_string(body, escapes),
        None => json.raw("null"),
    }
    match message.media() {
        Some(media) => {
            json.raw(",\"media\":");
            write_media(json, media);
        }
        None => json.raw(",\"media\":null"),
    }
    json.raw(",\"author\":");
    json.checked_string(author, escapes);
    match &message.participant_sid {
        Some(participant_sid) => {
            json.raw(",\"participant_sid\":");
            json.ascii(participant_sid);
        }
        None => json.raw(",\"participant_sid\":null"),
    }
    match message.attributes.as_deref() {
        Some(attributes) => {
            json.raw(",\"attributes\":");
            json.string(attributes);
        }
        None => json.raw(",\"attributes\":\"{}\""),
    }
    json.raw(",\"date_created\":");
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
    match message.delivery() {
        Some(delivery) => {
            json.raw(",\"delivery\":");
            json.serde(&delivery);
        }
        None => json.raw(",\"delivery\":null"),
    }
    match message.content_sid() {
        Some(content_sid) => {
            json.raw(",\"content_sid\":");
            json.ascii(&content_sid);
        }
        None => json.raw(",\"content_sid\":null"),
    }
    json.raw(",\"url\":\"");
    let url = json.position();
    json.ascii_bytes(&shared.messages_url);
    json.repeat(sid);
    let url = url..json.position();
    // The links extend the message's URL, written once above.
    json.raw("\",\"links\":{");
    json.raw("\"delivery_receipts\":\"");
    json.repeat(url.clone());
    json.raw("/Receipts\"");
    json.raw(",\"channel_metadata\":\"");
    json.repeat(url);
    json.raw("/ChannelMetadata\"}}");
}

/// Appends `media` as the one item of a message's `media` array, as [`MediaWire`] renders it.
fn write_media(json: &mut Json, media: &MediaRef) {
    json.raw("[{\"sid\":");
    json.ascii(&media.sid);
    json.raw(",\"size\":");
    json.number(media.size);
    json.raw(",\"content_type\":");
    json.string(&media.content_type);
    json.raw(",\"filename\":");
    json.opt_string(media.filename.as_deref());
    json.raw("}]");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sid::{ChannelMessageSid, ReceiptSid};
    use crate::store::model::{DeliveryStatus, Message, MessageExtras, Receipt};
    use crate::urls::UrlForm;

    const CREATED: i64 = 1_700_000_000;

    /// A message with `change` applied to a plain one by alice.
    fn message(author: &str, body: Option<&str>, change: impl FnOnce(&mut Message)) -> StoredMessage {
        let mut fields = Message {
            sid: MessageSid::from_bits(0x1234),
            conversation_sid: ConversationSid::from_bits(0xc4),
            index: 7,
            attributes: None,
            was_edited: false,
            participant_sid: None,
            extras: None,
            date_created: Timestamp::from_unix_seconds(CREATED),
            date_updated: Timestamp::from_unix_seconds(CREATED),
        };
        change(&mut fields);
        StoredMessage::new(fields, author, body)
    }

    fn extras(extras: MessageExtras) -> impl FnOnce(&mut Message) {
        move |fields| fields.extras = extras.boxed()
    }

    fn receipt(bits: u128, status: DeliveryStatus) -> Receipt {
        Receipt {
            sid: ReceiptSid::from_bits(bits),
            participant_sid: ParticipantSid::from_bits(bits),
            channel_message_sid: ChannelMessageSid::from_bits(bits),
            status,
            error_code: 0,
            date_created: Timestamp::from_unix_seconds(CREATED),
            date_updated: Timestamp::from_unix_seconds(CREATED),
        }
    }

    #[test]
    fn the_fast_writer_writes_the_same_bytes_as_serde() {
        let media = MediaRef {
            sid: MediaSid::from_bits(0x3e),
            size: 1_024,
            content_type: "image/png".into(),
            filename: Some("cat \"1\".png".into()),
        };
        let cases = [
            ("plain", message("alice", Some("hello"), |_| {})),
            ("no body", message("system", None, |_| {})),
            ("empty body", message("alice", Some(""), |_| {})),
            (
                "media",
                message("alice", None, extras(MessageExtras { media: Some(media.clone()), ..Default::default() })),
            ),
            (
                "media without a filename",
                message(
                    "alice",
                    Some("look"),
                    extras(MessageExtras { media: Some(MediaRef { filename: None, ..media }), ..Default::default() }),
                ),
            ),
            (
                "delivery receipts",
                message("alice", Some("hi"), |fields| {
                    fields.participant_sid = Some(ParticipantSid::from_bits(0xa1));
                    fields.extras = MessageExtras {
                        receipts: vec![receipt(1, DeliveryStatus::Read), receipt(2, DeliveryStatus::Sent)],
                        ..Default::default()
                    }
                    .boxed();
                }),
            ),
            (
                "content template",
                message(
                    "alice",
                    None,
                    extras(MessageExtras { content_sid: Some(ContentSid::from_bits(0xc0)), ..Default::default() }),
                ),
            ),
            ("attributes", message("alice", Some("hi"), |fields| fields.attributes = Some("{\"a\":[1,\"b\"]}".into()))),
            (
                "updated",
                message("bob", Some("edited"), |fields| {
                    fields.was_edited = true;
                    fields.date_updated = Timestamp::from_unix_seconds(CREATED + 86_400 * 400 + 61);
                }),
            ),
            ("escaped text", message("a\\\"b\"", Some("line\nnext\t\u{1}é🎉 </script>"), |_| {})),
            (
                "the first instant Twilio prints",
                message("alice", Some("hi"), |fields| {
                    fields.date_created = Timestamp::from_unix_seconds(0);
                }),
            ),
        ];
        let base: Arc<str> = Arc::from("http://127.0.0.1:4747");
        let conversation = ConversationSid::from_bits(0xc4);
        let forms = [UrlForm::Default, UrlForm::Service(ChatServiceSid::from_bits(0x15))];
        for form in forms {
            for (name, message) in &cases {
                let url = ConversationUrl { base: Arc::clone(&base), form, conversation };
                let resource =
                    MessageResource { account_sid: AccountSid::from_bits(0xac), url, message: message.clone() };
                let expected = serde_json::to_string(&resource).expect("a message serializes");
                let written = String::from_utf8(resource.into_body().0).expect("the writer writes UTF-8");
                assert_eq!(written, expected, "{name} on {form:?}");
            }
        }
    }
}
