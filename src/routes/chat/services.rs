//! The Chat v2 Service resource, `/v2/Services[/{IS}]`: the Conversations services (the
//! same records as `/v1/Services`), shown in Chat's representation. Chat's settings map
//! onto the service's configuration (default roles, reachability) and webhook settings
//! (URLs, method, filters in Chat's event names); the others are stored with the service
//! as its Chat settings (defaults: Twilio's example), and echoed; `Notifications.*` set the
//! service's push configuration, the one `/v1/Services/{IS}/Configuration/Notifications`
//! shows, in Chat's names (channels for conversations, plus invitations).
//! <https://www.twilio.com/docs/chat/rest/service-resource>

use std::sync::Arc;

use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use super::ChatError;
use crate::error::{ApiError, Expected, InvalidValue};
use crate::extract::{ApiCall, ServicePath, TwilioForm, TwilioQuery};
use crate::pagination::{ListBody, Order, PageLinks, PageParams, PageRequest};
use crate::routes::form::FormPairs;
use crate::routes::notifications;
use crate::sid::{AccountSid, ChatServiceSid, RoleSid};
use crate::state::AppState;
use crate::store::notifications::{EventNotification, NewMessageNotification, NotificationConfiguration};
use crate::store::webhook_model::{HttpMethod, WebhookEvent, WebhookSettingsUpdate};
use crate::store::{ChatService, ChatServiceUpdate, default_participant_role, default_user_role};
use crate::time::Timestamp;
use crate::validate;

/// Chat v2's maximum `PageSize` for services.
pub const MAX_PAGE_SIZE: usize = 100;

/// The media size limit Twilio shows (not a setting).
const MEDIA_SIZE_LIMIT_MB: u32 = 150;

/// Chat's webhook event names and the Conversations events they are stored as. Chat
/// events with no Conversations equivalent (`onMediaMessageSend`, `onMemberJoin`, …) are
/// accepted and not stored.
const EVENTS: [(&str, WebhookEvent); 20] = [
    ("onMessageSend", WebhookEvent::MessageAdd),
    ("onMessageSent", WebhookEvent::MessageAdded),
    ("onMessageUpdate", WebhookEvent::MessageUpdate),
    ("onMessageUpdated", WebhookEvent::MessageUpdated),
    ("onMessageRemove", WebhookEvent::MessageRemove),
    ("onMessageRemoved", WebhookEvent::MessageRemoved),
    ("onChannelAdd", WebhookEvent::ConversationAdd),
    ("onChannelAdded", WebhookEvent::ConversationAdded),
    ("onChannelUpdate", WebhookEvent::ConversationUpdate),
    ("onChannelUpdated", WebhookEvent::ConversationUpdated),
    ("onChannelDestroy", WebhookEvent::ConversationRemove),
    ("onChannelDestroyed", WebhookEvent::ConversationRemoved),
    ("onMemberAdd", WebhookEvent::ParticipantAdd),
    ("onMemberAdded", WebhookEvent::ParticipantAdded),
    ("onMemberUpdate", WebhookEvent::ParticipantUpdate),
    ("onMemberUpdated", WebhookEvent::ParticipantUpdated),
    ("onMemberRemove", WebhookEvent::ParticipantRemove),
    ("onMemberRemoved", WebhookEvent::ParticipantRemoved),
    ("onUserUpdate", WebhookEvent::UserUpdate),
    ("onUserUpdated", WebhookEvent::UserUpdated),
];

fn chat_event(event: WebhookEvent) -> Option<&'static str> {
    EVENTS.iter().find(|(_, stored)| *stored == event).map(|(name, _)| *name)
}

fn stored_event(name: &str) -> Option<WebhookEvent> {
    EVENTS.iter().find(|(chat, _)| *chat == name).map(|(_, event)| *event)
}

/// The routes `/v2/Services` and `/v2/Services/{ChatServiceSid}`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v2/Services", get(list).post(create))
        .route("/v2/Services/{ChatServiceSid}", get(fetch).post(update).delete(delete))
}

/// Create a service: <https://www.twilio.com/docs/chat/rest/service-resource#create-a-service-resource>
async fn create(
    ApiCall { state, account, base }: ApiCall,
    TwilioForm(form): TwilioForm<Vec<(String, String)>>,
) -> Result<(StatusCode, Json<ChatServiceResource>), ChatError> {
    let form = FormPairs(form);
    let friendly_name = validate::name(form.one("FriendlyName").map(str::to_owned), ApiError::FriendlyNameTooLong)?
        .filter(|name| !name.is_empty())
        .ok_or_else(|| ApiError::invalid("FriendlyName", InvalidValue::Missing))?;
    let service = state.store.create_service(account, friendly_name)?;
    let created = state.store.fetch_chat_service(account, service.sid)?;
    Ok((StatusCode::CREATED, Json(ChatServiceResource::new(account, &base, created))))
}

/// Fetch a service: <https://www.twilio.com/docs/chat/rest/service-resource#fetch-a-service-resource>
async fn fetch(
    ApiCall { state, account, base }: ApiCall,
    ServicePath(scope): ServicePath,
) -> Result<Json<ChatServiceResource>, ChatError> {
    let sid = scope.explicit().ok_or(ApiError::NotFound)?;
    let service = state.store.fetch_chat_service(account, sid)?;
    Ok(Json(ChatServiceResource::new(account, &base, service)))
}

/// List the account's services, the default one first: <https://www.twilio.com/docs/chat/rest/service-resource#read-multiple-service-resources>
async fn list(
    ApiCall { state, account, base }: ApiCall,
    TwilioQuery(params): TwilioQuery<PageParams>,
) -> Result<Json<ListBody<ChatServiceResource>>, ChatError> {
    let request = PageRequest::parse(&params, Order::Asc, MAX_PAGE_SIZE)?;
    let selection = state.store.list_chat_services(account, &request);
    let links = PageLinks { base: &base, path: "/v2/Services".to_owned(), filters: Vec::new() };
    let meta = links.meta(&request, &selection, "services");
    let records =
        selection.items.into_iter().map(|service| ChatServiceResource::new(account, &base, service)).collect();
    Ok(Json(ListBody { records, meta }))
}

/// Update a service: <https://www.twilio.com/docs/chat/rest/service-resource#update-a-service-resource>.
/// Every parameter is read (and a malformed one refused) before anything is written.
async fn update(
    ApiCall { state, account, base }: ApiCall,
    ServicePath(scope): ServicePath,
    TwilioForm(form): TwilioForm<Vec<(String, String)>>,
) -> Result<Json<ChatServiceResource>, ChatError> {
    let sid = scope.explicit().ok_or(ApiError::NotFound)?;
    let form = FormPairs(form);
    let friendly_name = validate::name(form.one("FriendlyName").map(str::to_owned), ApiError::FriendlyNameTooLong)?;
    let service_role: Option<RoleSid> = form.sid("DefaultServiceRoleSid")?;
    let channel_role: Option<RoleSid> = form.sid("DefaultChannelRoleSid")?;
    let creator_role: Option<RoleSid> = form.sid("DefaultChannelCreatorRoleSid")?;
    let reachability = form.boolean("ReachabilityEnabled")?;
    let read_status = form.boolean("ReadStatusEnabled")?;
    let number = |name| form.parsed(name, |raw| raw.parse::<u32>().ok(), Expected::NonNegativeInteger);
    let typing_timeout = number("TypingIndicatorTimeout")?;
    let consumption_interval = number("ConsumptionReportInterval")?;
    let channel_members = number("Limits.ChannelMembers")?;
    let user_channels = number("Limits.UserChannels")?;
    let pre_retries = number("PreWebhookRetryCount")?;
    let post_retries = number("PostWebhookRetryCount")?;
    let compatibility_message = form.one("Media.CompatibilityMessage").map(str::to_owned);
    let notifications = notifications::Update::read(&form, &notifications::CHAT)?;
    let filters = match form.all("WebhookFilters") {
        None => None,
        Some(values) if values == [""] => Some(None),
        Some(values) => Some(Some(values.into_iter().filter_map(stored_event).collect())),
    };
    let webhooks = WebhookSettingsUpdate {
        pre_webhook_url: form.url_update("PreWebhookUrl")?,
        post_webhook_url: form.url_update("PostWebhookUrl")?,
        method: form.method("WebhookMethod")?,
        filters,
        target: None,
    };
    let update = ChatServiceUpdate { friendly_name, webhooks };
    let updated = state.store.update_chat_service(account, sid, update, |configuration, chat, pushes| {
        notifications.apply(pushes);
        configuration.default_chat_service_role_sid = service_role.or(configuration.default_chat_service_role_sid);
        configuration.default_conversation_role_sid = channel_role.or(configuration.default_conversation_role_sid);
        configuration.default_conversation_creator_role_sid =
            creator_role.or(configuration.default_conversation_creator_role_sid);
        configuration.reachability_enabled = reachability.unwrap_or(configuration.reachability_enabled);
        chat.read_status_enabled = read_status.unwrap_or(chat.read_status_enabled);
        chat.typing_indicator_timeout = typing_timeout.unwrap_or(chat.typing_indicator_timeout);
        chat.consumption_report_interval = consumption_interval.unwrap_or(chat.consumption_report_interval);
        chat.limits_channel_members = channel_members.unwrap_or(chat.limits_channel_members);
        chat.limits_user_channels = user_channels.unwrap_or(chat.limits_user_channels);
        chat.pre_webhook_retry_count = pre_retries.unwrap_or(chat.pre_webhook_retry_count);
        chat.post_webhook_retry_count = post_retries.unwrap_or(chat.post_webhook_retry_count);
        if let Some(message) = compatibility_message {
            chat.media_compatibility_message = message;
        }
    })?;
    Ok(Json(ChatServiceResource::new(account, &base, updated)))
}

/// Delete a service with its channels; the default Conversations service is refused: <https://www.twilio.com/docs/chat/rest/service-resource#delete-a-service-resource>
async fn delete(
    ApiCall { state, account, .. }: ApiCall,
    ServicePath(scope): ServicePath,
) -> Result<StatusCode, ChatError> {
    state.store.delete_service(account, scope.explicit().ok_or(ApiError::NotFound)?)?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize)]
struct Limits {
    channel_members: u32,
    user_channels: u32,
}

#[derive(Debug, Serialize)]
struct Media {
    size_limit_mb: u32,
    compatibility_message: String,
}

/// The service's push configuration in Chat's names: Conversations' "conversation" events
/// are Chat's "channel" ones, and a new message has no separate media notification.
#[derive(Debug, Serialize)]
struct Notifications {
    log_enabled: bool,
    added_to_channel: EventNotification,
    invited_to_channel: EventNotification,
    new_message: NewMessage,
    removed_from_channel: EventNotification,
}

#[derive(Debug, Serialize)]
struct NewMessage {
    enabled: bool,
    template: Option<String>,
    sound: Option<String>,
    badge_count_enabled: bool,
}

impl Notifications {
    fn new(stored: NotificationConfiguration) -> Self {
        let NewMessageNotification { enabled, template, sound, badge_count_enabled, .. } = stored.new_message;
        Self {
            log_enabled: stored.log_enabled,
            added_to_channel: stored.added_to_conversation,
            invited_to_channel: stored.invited_to_channel,
            new_message: NewMessage { enabled, template, sound, badge_count_enabled },
            removed_from_channel: stored.removed_from_conversation,
        }
    }
}

#[derive(Debug, Serialize)]
struct ChatServiceLinks {
    channels: String,
    users: String,
    roles: String,
    bindings: String,
}

/// A service as Chat v2 shows it, in the key order of Twilio's example.
#[derive(Debug, Serialize)]
pub struct ChatServiceResource {
    account_sid: AccountSid,
    consumption_report_interval: u32,
    date_created: Timestamp,
    date_updated: Timestamp,
    default_channel_creator_role_sid: RoleSid,
    default_channel_role_sid: RoleSid,
    default_service_role_sid: RoleSid,
    friendly_name: Arc<str>,
    limits: Limits,
    links: ChatServiceLinks,
    notifications: Notifications,
    post_webhook_url: Option<Arc<str>>,
    pre_webhook_url: Option<Arc<str>>,
    pre_webhook_retry_count: u32,
    post_webhook_retry_count: u32,
    reachability_enabled: bool,
    read_status_enabled: bool,
    sid: ChatServiceSid,
    typing_indicator_timeout: u32,
    url: String,
    webhook_filters: Option<Vec<&'static str>>,
    webhook_method: Option<&'static str>,
    media: Media,
}

impl ChatServiceResource {
    fn new(account_sid: AccountSid, base: &str, record: ChatService) -> Self {
        let ChatService { service, configuration, webhooks, chat, notifications } = record;
        let sid = service.sid;
        let url = format!("{base}/v2/Services/{sid}");
        let participant_role = default_participant_role(sid);
        Self {
            account_sid,
            consumption_report_interval: chat.consumption_report_interval,
            date_created: service.date_created,
            date_updated: service.date_updated,
            default_channel_creator_role_sid: configuration
                .default_conversation_creator_role_sid
                .unwrap_or(participant_role),
            default_channel_role_sid: configuration.default_conversation_role_sid.unwrap_or(participant_role),
            default_service_role_sid: configuration.default_chat_service_role_sid.unwrap_or(default_user_role(sid)),
            friendly_name: service.friendly_name,
            limits: Limits { channel_members: chat.limits_channel_members, user_channels: chat.limits_user_channels },
            links: ChatServiceLinks {
                channels: format!("{url}/Channels"),
                users: format!("{url}/Users"),
                roles: format!("{url}/Roles"),
                bindings: format!("{url}/Bindings"),
            },
            notifications: Notifications::new(notifications),
            post_webhook_url: webhooks.post_webhook_url,
            pre_webhook_url: webhooks.pre_webhook_url,
            pre_webhook_retry_count: chat.pre_webhook_retry_count,
            post_webhook_retry_count: chat.post_webhook_retry_count,
            reachability_enabled: configuration.reachability_enabled,
            read_status_enabled: chat.read_status_enabled,
            sid,
            typing_indicator_timeout: chat.typing_indicator_timeout,
            webhook_filters: webhooks.filters.map(|events| events.into_iter().filter_map(chat_event).collect()),
            webhook_method: webhooks.method.map(HttpMethod::upper),
            media: Media {
                size_limit_mb: MEDIA_SIZE_LIMIT_MB,
                compatibility_message: chat.media_compatibility_message,
            },
            url,
        }
    }
}
