//! The Chat v2 Service resource, `/v2/Services[/{IS}]`: the Conversations services (the
//! same records as `/v1/Services`), shown in Chat's representation. Chat's settings map
//! onto the service's configuration (default roles, reachability) and webhook settings
//! (URLs, method, filters in Chat's event names); the others are accepted and shown with
//! the defaults of Twilio's example, not stored (README, "What is not emulated").
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
use crate::sid::{AccountSid, ChatServiceSid, RoleSid};
use crate::state::AppState;
use crate::store::webhook_model::{HttpMethod, WebhookEvent, WebhookSettingsUpdate};
use crate::store::{ChatService, ChatServiceUpdate, default_participant_role, default_user_role};
use crate::time::Timestamp;
use crate::validate;

/// Chat v2's maximum `PageSize` for services.
pub const MAX_PAGE_SIZE: usize = 100;

/// The settings accepted but not stored, shown with the defaults of Twilio's example.
const CONSUMPTION_REPORT_INTERVAL: u32 = 100;
const TYPING_INDICATOR_TIMEOUT: u32 = 100;
const READ_STATUS_ENABLED: bool = false;
const PRE_WEBHOOK_RETRY_COUNT: u32 = 2;
const POST_WEBHOOK_RETRY_COUNT: u32 = 3;
const LIMITS: Limits = Limits { channel_members: 100, user_channels: 250 };
const MEDIA: Media = Media { size_limit_mb: 150, compatibility_message: "media compatibility message" };

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
    accepted_settings(&form)?;
    let url = |name: &str| form.one(name).map(|value| (!value.is_empty()).then(|| Arc::from(value)));
    let filters = match form.all("WebhookFilters") {
        None => None,
        Some(values) if values == [""] => Some(None),
        Some(values) => Some(Some(values.into_iter().filter_map(stored_event).collect())),
    };
    let webhooks = WebhookSettingsUpdate {
        pre_webhook_url: url("PreWebhookUrl"),
        post_webhook_url: url("PostWebhookUrl"),
        method: form.method("WebhookMethod")?,
        filters,
        target: None,
    };
    let update = ChatServiceUpdate { friendly_name, webhooks };
    let updated = state.store.update_chat_service(account, sid, update, |configuration| {
        configuration.default_chat_service_role_sid = service_role.or(configuration.default_chat_service_role_sid);
        configuration.default_conversation_role_sid = channel_role.or(configuration.default_conversation_role_sid);
        configuration.default_conversation_creator_role_sid =
            creator_role.or(configuration.default_conversation_creator_role_sid);
        configuration.reachability_enabled = reachability.unwrap_or(configuration.reachability_enabled);
    })?;
    Ok(Json(ChatServiceResource::new(account, &base, updated)))
}

/// The settings accepted but not stored: a value of the wrong type is still refused.
fn accepted_settings(form: &FormPairs) -> Result<(), ApiError> {
    for name in [
        "ReadStatusEnabled",
        "Notifications.LogEnabled",
        "Notifications.NewMessage.Enabled",
        "Notifications.NewMessage.BadgeCountEnabled",
        "Notifications.AddedToChannel.Enabled",
        "Notifications.RemovedFromChannel.Enabled",
        "Notifications.InvitedToChannel.Enabled",
    ] {
        form.boolean(name)?;
    }
    for name in [
        "TypingIndicatorTimeout",
        "ConsumptionReportInterval",
        "Limits.ChannelMembers",
        "Limits.UserChannels",
        "PreWebhookRetryCount",
        "PostWebhookRetryCount",
    ] {
        form.parsed(name, |raw| raw.parse::<u32>().ok(), Expected::NonNegativeInteger)?;
    }
    Ok(())
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
    compatibility_message: &'static str,
}

#[derive(Debug, Serialize)]
struct Notifications {}

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
        let ChatService { service, configuration, webhooks } = record;
        let sid = service.sid;
        let url = format!("{base}/v2/Services/{sid}");
        let participant_role = default_participant_role(sid);
        Self {
            account_sid,
            consumption_report_interval: CONSUMPTION_REPORT_INTERVAL,
            date_created: service.date_created,
            date_updated: service.date_updated,
            default_channel_creator_role_sid: configuration
                .default_conversation_creator_role_sid
                .unwrap_or(participant_role),
            default_channel_role_sid: configuration.default_conversation_role_sid.unwrap_or(participant_role),
            default_service_role_sid: configuration.default_chat_service_role_sid.unwrap_or(default_user_role(sid)),
            friendly_name: service.friendly_name,
            limits: LIMITS,
            links: ChatServiceLinks {
                channels: format!("{url}/Channels"),
                users: format!("{url}/Users"),
                roles: format!("{url}/Roles"),
                bindings: format!("{url}/Bindings"),
            },
            notifications: Notifications {},
            post_webhook_url: webhooks.post_webhook_url,
            pre_webhook_url: webhooks.pre_webhook_url,
            pre_webhook_retry_count: PRE_WEBHOOK_RETRY_COUNT,
            post_webhook_retry_count: POST_WEBHOOK_RETRY_COUNT,
            reachability_enabled: configuration.reachability_enabled,
            read_status_enabled: READ_STATUS_ENABLED,
            sid,
            typing_indicator_timeout: TYPING_INDICATOR_TIMEOUT,
            webhook_filters: webhooks.filters.map(|events| events.into_iter().filter_map(chat_event).collect()),
            webhook_method: webhooks.method.map(HttpMethod::upper),
            media: MEDIA,
            url,
        }
    }
}
