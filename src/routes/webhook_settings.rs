//! The account- and service-level webhook settings: `/v1/Configuration/Webhooks` and
//! `/v1/Services/{IS}/Configuration/Webhooks`. Fetch and update (200) only; there is no
//! create or delete.
//! <https://www.twilio.com/docs/conversations/api/configuration-webhook-resource>
//! <https://www.twilio.com/docs/conversations/api/service-webhook-configuration-resource>

use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use super::form::{EVENT_NAMES, FormPairs};
use crate::error::{ApiError, Expected, InvalidValue};
use crate::extract::{ApiCall, ServicePath, TwilioForm};
use crate::sid::{AccountSid, ChatServiceSid};
use crate::state::AppState;
use crate::store::webhook_model::{
    AccountWebhookTarget, HttpMethod, WebhookEvent, WebhookSettings, WebhookSettingsUpdate,
};

/// The routes of both levels.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/Configuration/Webhooks", get(fetch_account).post(update_account))
        .route("/v1/Services/{ChatServiceSid}/Configuration/Webhooks", get(fetch_service).post(update_service))
}

/// The settings a form asks for. An empty `PreWebhookUrl` or `PostWebhookUrl` clears the
/// URL, and a single empty `Filters` clears the list (README, "Webhook configuration").
fn settings_update(form: &FormPairs, with_target: bool) -> Result<WebhookSettingsUpdate, ApiError> {
    let filters = match form.all("Filters") {
        None => None,
        Some(values) if values == [""] => Some(None),
        Some(values) => Some(Some(
            values
                .into_iter()
                .map(|name| {
                    WebhookEvent::parse(name).ok_or_else(|| {
                        let (value, expected) = (name.to_owned(), Expected::OneOf(EVENT_NAMES));
                        ApiError::invalid("Filters", InvalidValue::NotA { value, expected })
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
        )),
    };
    let target = if with_target {
        form.parsed("Target", AccountWebhookTarget::parse, Expected::OneOf("webhook, flex"))?
    } else {
        None
    };
    Ok(WebhookSettingsUpdate {
        pre_webhook_url: form.url_update("PreWebhookUrl")?,
        post_webhook_url: form.url_update("PostWebhookUrl")?,
        method: form.method("Method")?,
        filters,
        target,
    })
}

/// Fetch the account's webhook settings: <https://www.twilio.com/docs/conversations/api/configuration-webhook-resource#fetch-a-configurationwebhook-resource>
async fn fetch_account(ApiCall { state, account, base }: ApiCall) -> Json<AccountWebhooksResource> {
    let settings = state.store.account_webhooks(account);
    Json(AccountWebhooksResource::new(account, &base, &settings))
}

/// Update the account's webhook settings: <https://www.twilio.com/docs/conversations/api/configuration-webhook-resource#update-a-configurationwebhook-resource>
async fn update_account(
    ApiCall { state, account, base }: ApiCall,
    TwilioForm(form): TwilioForm<Vec<(String, String)>>,
) -> Result<Json<AccountWebhooksResource>, ApiError> {
    let update = settings_update(&FormPairs(form), true)?;
    let settings = state.store.update_account_webhooks(account, update)?;
    Ok(Json(AccountWebhooksResource::new(account, &base, &settings)))
}

/// Fetch a service's webhook settings: <https://www.twilio.com/docs/conversations/api/service-webhook-configuration-resource#fetch-a-servicewebhookconfiguration-resource>
async fn fetch_service(
    ApiCall { state, account, base }: ApiCall,
    ServicePath(scope): ServicePath,
) -> Result<Json<ServiceWebhooksResource>, ApiError> {
    let service = scope.explicit().ok_or(ApiError::NotFound)?;
    let settings = state.store.service_webhooks(account, service)?;
    Ok(Json(ServiceWebhooksResource::new(account, service, &base, &settings)))
}

/// Update a service's webhook settings (no `Target` at this level): <https://www.twilio.com/docs/conversations/api/service-webhook-configuration-resource#update-a-servicewebhookconfiguration-resource>
async fn update_service(
    ApiCall { state, account, base }: ApiCall,
    ServicePath(scope): ServicePath,
    TwilioForm(form): TwilioForm<Vec<(String, String)>>,
) -> Result<Json<ServiceWebhooksResource>, ApiError> {
    let service = scope.explicit().ok_or(ApiError::NotFound)?;
    let update = settings_update(&FormPairs(form), false)?;
    let settings = state.store.update_service_webhooks(account, service, update)?;
    Ok(Json(ServiceWebhooksResource::new(account, service, &base, &settings)))
}

fn filter_names(settings: &WebhookSettings) -> Option<Vec<&'static str>> {
    settings.filters.as_ref().map(|filters| filters.iter().map(|event| event.name()).collect())
}

/// The account's settings as Twilio renders them. A fresh account shows `method` `POST`
/// and `target` `webhook`, its URLs and filters `null` (README, "Webhook configuration").
#[derive(Debug, Serialize)]
struct AccountWebhooksResource {
    account_sid: AccountSid,
    method: &'static str,
    filters: Option<Vec<&'static str>>,
    pre_webhook_url: Option<String>,
    post_webhook_url: Option<String>,
    target: &'static str,
    url: String,
}

impl AccountWebhooksResource {
    fn new(account_sid: AccountSid, base: &str, settings: &WebhookSettings) -> Self {
        Self {
            account_sid,
            method: settings.method.unwrap_or(HttpMethod::Post).upper(),
            filters: filter_names(settings),
            pre_webhook_url: settings.pre_webhook_url.as_deref().map(str::to_owned),
            post_webhook_url: settings.post_webhook_url.as_deref().map(str::to_owned),
            target: settings.target.unwrap_or_default().as_str(),
            url: format!("{base}/v1/Configuration/Webhooks"),
        }
    }
}

/// A service's settings as Twilio renders them: everything `null` until set, as the
/// spec's `fetchEmpty` example.
#[derive(Debug, Serialize)]
struct ServiceWebhooksResource {
    account_sid: AccountSid,
    chat_service_sid: ChatServiceSid,
    pre_webhook_url: Option<String>,
    post_webhook_url: Option<String>,
    filters: Option<Vec<&'static str>>,
    method: Option<&'static str>,
    url: String,
}

impl ServiceWebhooksResource {
    fn new(account_sid: AccountSid, service: ChatServiceSid, base: &str, settings: &WebhookSettings) -> Self {
        Self {
            account_sid,
            chat_service_sid: service,
            pre_webhook_url: settings.pre_webhook_url.as_deref().map(str::to_owned),
            post_webhook_url: settings.post_webhook_url.as_deref().map(str::to_owned),
            filters: filter_names(settings),
            method: settings.method.map(HttpMethod::upper),
            url: format!("{base}/v1/Services/{service}/Configuration/Webhooks"),
        }
    }
}
