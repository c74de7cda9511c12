//! The Chat v2 Channel resource, `/v2/Services/{IS}/Channels[/{CH or unique_name}]`.
//! <https://www.twilio.com/docs/chat/rest/channel-resource>

use std::sync::Arc;

use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::ChatError;
use crate::error::{ApiError, Expected, InvalidValue};
use crate::extract::{ApiCall, ConversationScope, ServicePath, TwilioForm, TwilioQuery, WebhookEnabled};
use crate::pagination::{ListBody, Order, PageLinks, PageParams, PageRequest};
use crate::sid::{AccountSid, ChatServiceSid, ConversationSid};
use crate::state::AppState;
use crate::store::ServiceScope;
use crate::store::model::{ChannelType, Conversation, ConversationFields, ConversationFilter, ConversationSnapshot};
use crate::time::Timestamp;
use crate::urls::{ConversationUrl, Href, UrlForm};
use crate::validate;

use super::{invites, members, messages};

/// Chat v2's maximum `PageSize` for channels.
pub const MAX_PAGE_SIZE: usize = 100;

/// Adds the channel routes under `channels` (`/v2/Services/{IS}/Channels`), with their messages.
pub fn mount(router: Router<AppState>, channels: &str) -> Router<AppState> {
    let channel = format!("{channels}/{{ConversationSid}}");
    let router = router.route(channels, get(list).post(create)).route(&channel, get(fetch).post(update).delete(delete));
    let router = members::mount(router, &format!("{channel}/Members"));
    let router = invites::mount(router, &format!("{channel}/Invites"));
    messages::mount(router, &format!("{channel}/Messages"))
}

/// Create parameters (update takes the same but `Type`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ChannelParams {
    friendly_name: Option<String>,
    unique_name: Option<String>,
    attributes: Option<String>,
    #[serde(rename = "Type")]
    channel_type: Option<String>,
    date_created: Option<String>,
    date_updated: Option<String>,
    created_by: Option<String>,
}

impl ChannelParams {
    fn validate(self, creating: bool) -> Result<ConversationFields, ApiError> {
        let unique_name = validate::unique_name(self.unique_name, ApiError::ChannelUniqueNameIsSid)?;
        let channel_type = match (creating, self.channel_type.as_deref()) {
            (true, Some(raw)) => Some(parse_type(raw)?),
            // Chat's REST API creates public channels unless told otherwise.
            (true, None) => Some(ChannelType::Public),
            // The type of a channel cannot be changed; Twilio ignores it on update.
            (false, _) => None,
        };
        let created_by = validate::name(self.created_by, ApiError::invalid("CreatedBy", InvalidValue::TooLong))?;
        Ok(ConversationFields {
            friendly_name: validate::name(self.friendly_name, ApiError::FriendlyNameTooLong)?,
            unique_name,
            attributes: validate::attributes(self.attributes, validate::CONVERSATION_ATTRIBUTES_MAX_BYTES)?,
            state: None,
            channel_type,
            created_by,
            date_created: validate::date_created(self.date_created.as_deref())?,
            date_updated: validate::date_updated(self.date_updated.as_deref())?,
            // Chat v2's channel timers are not emulated.
            inactive_timer: None,
            closed_timer: None,
        })
    }
}

fn parse_type(value: &str) -> Result<ChannelType, ApiError> {
    ChannelType::parse(value).ok_or_else(|| {
        let (value, expected) = (value.to_owned(), Expected::OneOf("public, private"));
        ApiError::invalid("Type", InvalidValue::NotA { value, expected })
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListParams {
    #[serde(rename = "Type")]
    channel_type: Option<String>,
    #[serde(flatten)]
    page: PageParams,
}

/// Create a channel: <https://www.twilio.com/docs/chat/rest/channel-resource#create-a-channel-resource>
async fn create(
    ApiCall { state, account, base }: ApiCall,
    ServicePath(scope): ServicePath,
    _webhooks: WebhookEnabled,
    TwilioForm(params): TwilioForm<ChannelParams>,
) -> Result<(StatusCode, Json<ChannelResource>), ChatError> {
    let fields = params.validate(true)?;
    let snapshot = state.store.create_conversation(account, scope, fields)?;
    Ok((StatusCode::CREATED, Json(ChannelResource::new(account, base, snapshot))))
}

/// Fetch a channel by SID or unique name: <https://www.twilio.com/docs/chat/rest/channel-resource#fetch-a-channel-resource>
async fn fetch(
    ApiCall { state, account, base }: ApiCall,
    scope: ConversationScope,
) -> Result<Json<ChannelResource>, ChatError> {
    let snapshot = state.store.fetch_conversation(account, scope.service, &scope.conversation)?;
    Ok(Json(ChannelResource::new(account, base, snapshot)))
}

/// List a service's channels: <https://www.twilio.com/docs/chat/rest/channel-resource#read-multiple-channel-resources>
async fn list(
    ApiCall { state, account, base }: ApiCall,
    ServicePath(scope): ServicePath,
    TwilioQuery(params): TwilioQuery<ListParams>,
) -> Result<Json<ListBody<ChannelResource>>, ChatError> {
    let request = PageRequest::parse(&params.page, Order::Asc, MAX_PAGE_SIZE)?;
    let channel_type = params.channel_type.as_deref().map(parse_type).transpose()?;
    let filter = ConversationFilter { channel_type, ..ConversationFilter::default() };
    let path = match scope {
        ServiceScope::Explicit(service) => format!("/v2/Services/{service}/Channels"),
        // Every Chat route names its service; the default form does not exist in Chat.
        ServiceScope::Default => return Err(ApiError::NotFound.into()),
    };
    let selection = state.store.list_conversations(account, scope, &filter, &request)?;
    let filters = channel_type.map(|kind| ("Type", kind.as_str().to_owned())).into_iter().collect();
    let links = PageLinks { base: &base, path, filters };
    let meta = links.meta(&request, &selection, "channels");
    let records = selection
        .items
        .into_iter()
        .map(|snapshot| ChannelResource::new(account, Arc::clone(&base), snapshot))
        .collect();
    Ok(Json(ListBody { records, meta }))
}

/// Update a channel: <https://www.twilio.com/docs/chat/rest/channel-resource#update-a-channel-resource>
async fn update(
    ApiCall { state, account, base }: ApiCall,
    scope: ConversationScope,
    _webhooks: WebhookEnabled,
    TwilioForm(params): TwilioForm<ChannelParams>,
) -> Result<Json<ChannelResource>, ChatError> {
    let fields = params.validate(false)?;
    let snapshot = state.store.update_conversation(account, scope.service, &scope.conversation, fields)?;
    Ok(Json(ChannelResource::new(account, base, snapshot)))
}

/// Delete a channel and its messages: <https://www.twilio.com/docs/chat/rest/channel-resource#delete-a-channel-resource>
async fn delete(
    ApiCall { state, account, .. }: ApiCall,
    scope: ConversationScope,
    _webhooks: WebhookEnabled,
) -> Result<StatusCode, ChatError> {
    state.store.delete_conversation(account, scope.service, &scope.conversation)?;
    Ok(StatusCode::NO_CONTENT)
}

/// A conversation as Chat v2 shows it: a channel.
#[derive(Debug)]
pub struct ChannelResource {
    account_sid: AccountSid,
    url: ConversationUrl,
    conversation: Conversation,
    message_count: usize,
    member_count: usize,
}

impl ChannelResource {
    fn new(account_sid: AccountSid, base: Arc<str>, snapshot: ConversationSnapshot) -> Self {
        let conversation = snapshot.conversation;
        let form = UrlForm::Chat(conversation.chat_service_sid);
        let url = ConversationUrl { base, form, conversation: conversation.sid };
        Self {
            account_sid,
            url,
            conversation,
            message_count: snapshot.message_count,
            member_count: snapshot.member_count,
        }
    }
}

/// The wire shape, in the key order of Twilio's examples.
#[derive(Serialize)]
struct ChannelWire<'a> {
    sid: ConversationSid,
    account_sid: AccountSid,
    service_sid: ChatServiceSid,
    friendly_name: Option<&'a str>,
    unique_name: Option<&'a str>,
    attributes: &'a str,
    #[serde(rename = "type")]
    channel_type: ChannelType,
    date_created: Timestamp,
    date_updated: Timestamp,
    created_by: &'a str,
    /// The conversation's participants with an identity.
    members_count: usize,
    messages_count: usize,
    url: Href<'a>,
    links: ChannelLinks<'a>,
}

#[derive(Serialize)]
struct ChannelLinks<'a> {
    members: Href<'a>,
    messages: Href<'a>,
    invites: Href<'a>,
    webhooks: Href<'a>,
    last_message: Option<()>,
}

impl Serialize for ChannelResource {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let conversation = &self.conversation;
        ChannelWire {
            sid: conversation.sid,
            account_sid: self.account_sid,
            service_sid: conversation.chat_service_sid,
            friendly_name: conversation.friendly_name.as_deref(),
            unique_name: conversation.unique_name.as_deref(),
            attributes: conversation.attributes.as_deref().unwrap_or("{}"),
            channel_type: conversation.channel_type,
            date_created: conversation.date_created,
            date_updated: conversation.date_updated,
            created_by: conversation.created_by.as_deref().unwrap_or("system"),
            members_count: self.member_count,
            messages_count: self.message_count,
            url: self.url.with(""),
            links: ChannelLinks {
                members: self.url.with("/Members"),
                messages: self.url.with("/Messages"),
                invites: self.url.with("/Invites"),
                webhooks: self.url.with("/Webhooks"),
                last_message: None,
            },
        }
        .serialize(serializer)
    }
}
