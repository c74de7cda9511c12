//! The account's Conversations configuration, `/v1/Configuration` (how a client learns, and
//! changes, its default Conversation Service), and a service's,
//! `/v1/Services/{IS}/Configuration`.
//! <https://www.twilio.com/docs/conversations/api/configuration-resource>
//! <https://www.twilio.com/docs/conversations/api/service-configuration-resource>

use std::sync::Arc;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use super::form::FormPairs;
use crate::error::ApiError;
use crate::extract::{ApiCall, BaseUrl, ServicePath, Tenant, TwilioForm};
use crate::sid::{AccountSid, ChatServiceSid, MessagingServiceSid, RoleSid};
use crate::state::AppState;
use crate::store::webhook_model::{AccountConfiguration, ServiceConfiguration};
use crate::store::{default_messaging_service_sid, default_participant_role, default_service_sid};

/// The routes `/v1/Configuration` and `/v1/Services/{ChatServiceSid}/Configuration`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/Configuration", get(fetch).post(update))
        .route("/v1/Services/{ChatServiceSid}/Configuration", get(fetch_service).post(update_service))
}

/// Fetch the configuration: <https://www.twilio.com/docs/conversations/api/configuration-resource#fetch-a-configuration-resource>
async fn fetch(
    State(state): State<AppState>,
    Tenant(account): Tenant,
    BaseUrl(base): BaseUrl,
) -> Json<ConfigurationResource> {
    let configuration = state.store.account_configuration(account);
    Json(ConfigurationResource::new(account, &base, &configuration))
}

/// Update the configuration: <https://www.twilio.com/docs/conversations/api/configuration-resource#update-a-configuration-resource>.
/// `DefaultChatServiceSid` must name one of the account's services; `/v1/Conversations`
/// uses it from then on. The timers are stored and echoed, not run; an empty value
/// clears one.
async fn update(
    ApiCall { state, account, base }: ApiCall,
    TwilioForm(form): TwilioForm<Vec<(String, String)>>,
) -> Result<Json<ConfigurationResource>, ApiError> {
    let form = FormPairs(form);
    let chat_service: Option<ChatServiceSid> = form.sid("DefaultChatServiceSid")?;
    let messaging_service: Option<MessagingServiceSid> = form.sid("DefaultMessagingServiceSid")?;
    let timer = |name: &str| form.one(name).map(|value| (!value.is_empty()).then(|| Arc::<str>::from(value)));
    let (inactive, closed) = (timer("DefaultInactiveTimer"), timer("DefaultClosedTimer"));
    let configuration = state.store.update_account_configuration(account, |configuration| {
        if let Some(sid) = chat_service {
            configuration.default_chat_service_sid = Some(sid);
        }
        if let Some(sid) = messaging_service {
            configuration.default_messaging_service_sid = Some(sid);
        }
        if let Some(timer) = inactive {
            configuration.default_inactive_timer = timer;
        }
        if let Some(timer) = closed {
            configuration.default_closed_timer = timer;
        }
    })?;
    Ok(Json(ConfigurationResource::new(account, &base, &configuration)))
}

/// Fetch a service's configuration: <https://www.twilio.com/docs/conversations/api/service-configuration-resource#fetch-a-serviceconfiguration-resource>
async fn fetch_service(
    ApiCall { state, account, base }: ApiCall,
    ServicePath(scope): ServicePath,
) -> Result<Json<ServiceConfigurationResource>, ApiError> {
    let service = scope.explicit().ok_or(ApiError::NotFound)?;
    let configuration = state.store.service_configuration(account, service)?;
    Ok(Json(ServiceConfigurationResource::new(service, &base, &configuration)))
}

/// Update a service's configuration: <https://www.twilio.com/docs/conversations/api/service-configuration-resource#update-a-serviceconfiguration-resource>.
/// Stored and echoed: roles are not emulated, so participants keep their default role.
async fn update_service(
    ApiCall { state, account, base }: ApiCall,
    ServicePath(scope): ServicePath,
    TwilioForm(form): TwilioForm<Vec<(String, String)>>,
) -> Result<Json<ServiceConfigurationResource>, ApiError> {
    let service = scope.explicit().ok_or(ApiError::NotFound)?;
    let form = FormPairs(form);
    let creator_role: Option<RoleSid> = form.sid("DefaultConversationCreatorRoleSid")?;
    let conversation_role: Option<RoleSid> = form.sid("DefaultConversationRoleSid")?;
    let service_role: Option<RoleSid> = form.sid("DefaultChatServiceRoleSid")?;
    let reachability = form.boolean("ReachabilityEnabled")?;
    let configuration = state.store.update_service_configuration(account, service, |configuration| {
        configuration.default_conversation_creator_role_sid =
            creator_role.or(configuration.default_conversation_creator_role_sid);
        configuration.default_conversation_role_sid = conversation_role.or(configuration.default_conversation_role_sid);
        configuration.default_chat_service_role_sid = service_role.or(configuration.default_chat_service_role_sid);
        configuration.reachability_enabled = reachability.unwrap_or(configuration.reachability_enabled);
    })?;
    Ok(Json(ServiceConfigurationResource::new(service, &base, &configuration)))
}

#[derive(Debug, Serialize)]
struct ConfigurationResource {
    account_sid: AccountSid,
    default_chat_service_sid: ChatServiceSid,
    default_messaging_service_sid: MessagingServiceSid,
    default_inactive_timer: Option<String>,
    default_closed_timer: Option<String>,
    url: String,
    links: ConfigurationLinks,
}

#[derive(Debug, Serialize)]
struct ConfigurationLinks {
    service: String,
    webhooks: String,
}

impl ConfigurationResource {
    fn new(account: AccountSid, base: &str, configuration: &AccountConfiguration) -> Self {
        let service = configuration.default_chat_service_sid.unwrap_or(default_service_sid(account));
        Self {
            account_sid: account,
            default_chat_service_sid: service,
            default_messaging_service_sid: configuration
                .default_messaging_service_sid
                .unwrap_or(default_messaging_service_sid(account)),
            default_inactive_timer: configuration.default_inactive_timer.as_deref().map(str::to_owned),
            default_closed_timer: configuration.default_closed_timer.as_deref().map(str::to_owned),
            url: format!("{base}/v1/Configuration"),
            links: ConfigurationLinks {
                service: format!("{base}/v1/Services/{service}/Configuration"),
                webhooks: format!("{base}/v1/Configuration/Webhooks"),
            },
        }
    }
}

/// A service's configuration. Unset conversation roles show the role participants get
/// (the emulator's default, derived from the service SID); the service role is `null`
/// until set.
#[derive(Debug, Serialize)]
struct ServiceConfigurationResource {
    chat_service_sid: ChatServiceSid,
    default_conversation_creator_role_sid: RoleSid,
    default_conversation_role_sid: RoleSid,
    default_chat_service_role_sid: Option<RoleSid>,
    reachability_enabled: bool,
    url: String,
    links: ServiceConfigurationLinks,
}

#[derive(Debug, Serialize)]
struct ServiceConfigurationLinks {
    notifications: String,
    webhooks: String,
}

impl ServiceConfigurationResource {
    fn new(service: ChatServiceSid, base: &str, configuration: &ServiceConfiguration) -> Self {
        let default_role = default_participant_role(service);
        let url = format!("{base}/v1/Services/{service}/Configuration");
        Self {
            chat_service_sid: service,
            default_conversation_creator_role_sid: configuration
                .default_conversation_creator_role_sid
                .unwrap_or(default_role),
            default_conversation_role_sid: configuration.default_conversation_role_sid.unwrap_or(default_role),
            default_chat_service_role_sid: configuration.default_chat_service_role_sid,
            reachability_enabled: configuration.reachability_enabled,
            links: ServiceConfigurationLinks {
                notifications: format!("{url}/Notifications"),
                webhooks: format!("{url}/Webhooks"),
            },
            url,
        }
    }
}
