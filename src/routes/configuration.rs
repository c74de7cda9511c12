//! The account's Conversations configuration, `GET /v1/Configuration`: how a client learns
//! the SID of its default Conversation Service.
//! <https://www.twilio.com/docs/conversations/api/configuration-resource>

use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use crate::extract::{BaseUrl, Tenant};
use crate::sid::{AccountSid, ChatServiceSid, MessagingServiceSid};
use crate::state::AppState;
use crate::store::{default_messaging_service_sid, default_service_sid};

/// The route `/v1/Configuration`.
pub fn router() -> Router<AppState> {
    Router::new().route("/v1/Configuration", get(fetch))
}

#[derive(Debug, Serialize)]
struct ConfigurationResource {
    account_sid: AccountSid,
    default_chat_service_sid: ChatServiceSid,
    default_messaging_service_sid: MessagingServiceSid,
    /// Timers are not emulated, so no default is configured.
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

/// Fetch the configuration: <https://www.twilio.com/docs/conversations/api/configuration-resource#fetch-a-configuration-resource>
async fn fetch(Tenant(account): Tenant, BaseUrl(base): BaseUrl) -> Json<ConfigurationResource> {
    let service = default_service_sid(account);
    Json(ConfigurationResource {
        account_sid: account,
        default_chat_service_sid: service,
        default_messaging_service_sid: default_messaging_service_sid(account),
        default_inactive_timer: None,
        default_closed_timer: None,
        url: format!("{base}/v1/Configuration"),
        links: ConfigurationLinks {
            service: format!("{base}/v1/Services/{service}/Configuration"),
            webhooks: format!("{base}/v1/Configuration/Webhooks"),
        },
    })
}
