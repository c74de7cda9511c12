//! Conversation-scoped webhooks on both URL forms: `/v1/Conversations/{CH}/Webhooks[/{WH}]`
//! and `/v1/Services/{IS}/Conversations/{CH}/Webhooks[/{WH}]`, where `{CH}` may be the
//! conversation's `unique_name`. At most five per conversation, post-events only.
//! <https://www.twilio.com/docs/conversations/api/conversation-scoped-webhook-resource>

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use super::form::{FormPairs, post_event};
use crate::error::{ApiError, Expected, InvalidValue};
use crate::extract::{ApiCall, ConversationScope, TwilioForm, TwilioQuery, path_params};
use crate::pagination::{ListBody, Order, PageLinks, PageParams, PageRequest};
use crate::sid::{AccountSid, ChatServiceSid, ConversationSid, FlowSid, WebhookSid};
use crate::state::AppState;
use crate::store::webhook_model::{ConversationWebhook, ScopedConfiguration, ScopedTarget};
use crate::store::{Located, ServiceScope};
use crate::time::Timestamp;
use crate::urls::ConversationUrl;

/// Twilio's maximum (and default) `PageSize` for conversation webhooks.
pub const MAX_PAGE_SIZE: usize = 5;

/// The longest trigger keyword Twilio accepts (error 50366 past it).
const MAX_TRIGGER_CHARS: usize = 248;

/// Adds the webhook routes under `conversations` (one URL form's `…/Conversations`).
pub fn mount(router: Router<AppState>, conversations: &str) -> Router<AppState> {
    let webhooks = format!("{conversations}/{{ConversationSid}}/Webhooks");
    router
        .route(&webhooks, get(list).post(create))
        .route(&format!("{webhooks}/{{WebhookSid}}"), get(fetch).post(update).delete(delete))
}

/// The `WH…` SID of the path: Twilio answers a malformed one with 50363, not a 404.
#[derive(Clone, Copy, Debug)]
struct WebhookPath(WebhookSid);

impl<S: Send + Sync> FromRequestParts<S> for WebhookPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let params = path_params(parts, state).await?;
        let raw = params.get("WebhookSid").ok_or(ApiError::NotFound)?;
        raw.parse().map(Self).map_err(|_| ApiError::InvalidConversationWebhookSid)
    }
}

/// `Configuration.*` as given, each value checked (whatever the target).
fn configuration(form: &FormPairs) -> Result<ScopedConfiguration, ApiError> {
    let filters = form
        .all("Configuration.Filters")
        .map(|names| {
            names
                .into_iter()
                .map(|name| post_event(name).ok_or(ApiError::InvalidConversationWebhookFilter))
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?;
    let triggers = form
        .all("Configuration.Triggers")
        .map(|keywords| {
            keywords
                .into_iter()
                .map(|keyword| match keyword.chars().count() {
                    1..=MAX_TRIGGER_CHARS => Ok(Arc::from(keyword)),
                    _ => Err(ApiError::InvalidConversationWebhookTrigger),
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?;
    let flow_sid = form
        .one("Configuration.FlowSid")
        .map(|raw| raw.parse::<FlowSid>().map_err(|_| ApiError::InvalidConversationWebhookFlowSid))
        .transpose()?;
    let method = form.parsed(
        "Configuration.Method",
        crate::store::webhook_model::HttpMethod::parse,
        Expected::OneOf("get, post"),
    )?;
    Ok(ScopedConfiguration {
        url: form.url("Configuration.Url")?.filter(|url| !url.is_empty()).map(Arc::from),
        method,
        filters,
        triggers,
        flow_sid,
    })
}

/// Create a conversation webhook: <https://www.twilio.com/docs/conversations/api/conversation-scoped-webhook-resource#create-a-conversationscopedwebhook-resource>
async fn create(
    ApiCall { state, account, base }: ApiCall,
    scope: ConversationScope,
    TwilioForm(form): TwilioForm<Vec<(String, String)>>,
) -> Result<(StatusCode, Json<WebhookResource>), ApiError> {
    let form = FormPairs(form);
    let target = form.one("Target").ok_or(ApiError::ConversationWebhookTypeMissing)?;
    let target = ScopedTarget::parse(target).ok_or(ApiError::InvalidConversationWebhookType)?;
    let configuration = configuration(&form)?;
    match target {
        ScopedTarget::Webhook | ScopedTarget::Trigger if configuration.url.is_none() => {
            return Err(ApiError::ConversationWebhookUrlMissing);
        }
        ScopedTarget::Webhook if configuration.filters.as_ref().is_none_or(Vec::is_empty) => {
            return Err(ApiError::ConversationWebhookFilterMissing);
        }
        ScopedTarget::Trigger if configuration.triggers.as_ref().is_none_or(Vec::is_empty) => {
            return Err(ApiError::ConversationWebhookTriggerMissing);
        }
        ScopedTarget::Studio if configuration.flow_sid.is_none() => {
            return Err(ApiError::InvalidConversationWebhookFlowSid);
        }
        _ => {}
    }
    let replay_after = form
        .one("Configuration.ReplayAfter")
        .map(|raw| {
            raw.trim().parse::<u64>().map_err(|_| {
                let (value, expected) = (raw.to_owned(), Expected::NonNegativeInteger);
                ApiError::invalid("Configuration.ReplayAfter", InvalidValue::NotA { value, expected })
            })
        })
        .transpose()?;
    let located = state.store.create_conversation_webhook(
        account,
        scope.service,
        &scope.conversation,
        target,
        configuration,
        replay_after,
    )?;
    state.webhooks.replay(account, located.chat_service_sid, &located.value);
    Ok((StatusCode::CREATED, Json(WebhookResource::new(account, base, scope.service, located))))
}

/// Fetch a conversation webhook: <https://www.twilio.com/docs/conversations/api/conversation-scoped-webhook-resource#fetch-a-conversationscopedwebhook-resource>
async fn fetch(
    ApiCall { state, account, base }: ApiCall,
    scope: ConversationScope,
    WebhookPath(sid): WebhookPath,
) -> Result<Json<WebhookResource>, ApiError> {
    let located = state.store.fetch_conversation_webhook(account, scope.service, &scope.conversation, sid)?;
    Ok(Json(WebhookResource::new(account, base, scope.service, located)))
}

/// List a conversation's webhooks (five at most, so one page): <https://www.twilio.com/docs/conversations/api/conversation-scoped-webhook-resource#read-multiple-conversationscopedwebhook-resources>
async fn list(
    ApiCall { state, account, base }: ApiCall,
    scope: ConversationScope,
    TwilioQuery(params): TwilioQuery<PageParams>,
) -> Result<Json<ListBody<WebhookResource>>, ApiError> {
    let request = PageRequest::parse(&params, Order::Asc, MAX_PAGE_SIZE)?;
    let located = state.store.list_conversation_webhooks(account, scope.service, &scope.conversation, &request)?;
    let url = ConversationUrl::on_form(base, scope.service, located.chat_service_sid, located.conversation_sid);
    let links = PageLinks { base: &url.base, path: url.path() + "/Webhooks", filters: Vec::new() };
    let meta = links.meta(&request, &located.value, "webhooks");
    let records = located
        .value
        .items
        .into_iter()
        .map(|webhook| WebhookResource { account_sid: account, url: url.clone(), webhook })
        .collect();
    Ok(Json(ListBody { records, meta }))
}

/// Update a conversation webhook's `Configuration.*` (its `Target` cannot change): <https://www.twilio.com/docs/conversations/api/conversation-scoped-webhook-resource#update-a-conversationscopedwebhook-resource>
async fn update(
    ApiCall { state, account, base }: ApiCall,
    scope: ConversationScope,
    WebhookPath(sid): WebhookPath,
    TwilioForm(form): TwilioForm<Vec<(String, String)>>,
) -> Result<Json<WebhookResource>, ApiError> {
    let configuration = configuration(&FormPairs(form))?;
    let located =
        state.store.update_conversation_webhook(account, scope.service, &scope.conversation, sid, configuration)?;
    Ok(Json(WebhookResource::new(account, base, scope.service, located)))
}

/// Delete a conversation webhook: <https://www.twilio.com/docs/conversations/api/conversation-scoped-webhook-resource#delete-a-conversationscopedwebhook-resource>
async fn delete(
    ApiCall { state, account, .. }: ApiCall,
    scope: ConversationScope,
    WebhookPath(sid): WebhookPath,
) -> Result<StatusCode, ApiError> {
    state.store.delete_conversation_webhook(account, scope.service, &scope.conversation, sid)?;
    Ok(StatusCode::NO_CONTENT)
}

/// A conversation webhook as Twilio renders it on the request's URL form.
#[derive(Debug)]
struct WebhookResource {
    account_sid: AccountSid,
    url: ConversationUrl,
    webhook: ConversationWebhook,
}

impl WebhookResource {
    fn new(
        account_sid: AccountSid,
        base: Arc<str>,
        scope: ServiceScope,
        located: Located<ConversationWebhook>,
    ) -> Self {
        let url = ConversationUrl::on_form(base, scope, located.chat_service_sid, located.conversation_sid);
        Self { account_sid, url, webhook: located.value }
    }
}

/// The wire shape, in the key order of Twilio's examples.
#[derive(Serialize)]
struct WebhookWire<'a> {
    account_sid: AccountSid,
    #[serde(skip_serializing_if = "Option::is_none")]
    chat_service_sid: Option<ChatServiceSid>,
    conversation_sid: ConversationSid,
    sid: WebhookSid,
    target: &'static str,
    configuration: ConfigurationWire<'a>,
    date_created: Timestamp,
    date_updated: Timestamp,
    url: String,
}

/// `configuration`, whose keys depend on the target (README, "Webhook configuration"):
/// `webhook` shows `url`, `method`, `filters`; `trigger` shows `url`, `method`,
/// `triggers`; `studio` shows `flow_sid`; each adds `replay_after` once set.
#[derive(Serialize)]
struct ConfigurationWire<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    method: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    filters: Option<Vec<&'static str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    triggers: Option<Vec<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    flow_sid: Option<FlowSid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    replay_after: Option<u64>,
}

impl Serialize for WebhookResource {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let webhook = &self.webhook;
        let calls_url = matches!(webhook.target, ScopedTarget::Webhook | ScopedTarget::Trigger);
        let configuration = ConfigurationWire {
            url: webhook.url.as_deref().filter(|_| calls_url),
            method: calls_url.then(|| webhook.method.lower()),
            filters: (webhook.target == ScopedTarget::Webhook)
                .then(|| webhook.filters.iter().map(|event| event.name()).collect()),
            triggers: (webhook.target == ScopedTarget::Trigger)
                .then(|| webhook.triggers.iter().map(|keyword| &**keyword).collect()),
            flow_sid: webhook.flow_sid.filter(|_| webhook.target == ScopedTarget::Studio),
            replay_after: webhook.replay_after,
        };
        WebhookWire {
            account_sid: self.account_sid,
            chat_service_sid: self.url.shown_service(),
            conversation_sid: self.url.conversation,
            sid: webhook.sid,
            target: webhook.target.as_str(),
            configuration,
            date_created: webhook.date_created,
            date_updated: webhook.date_updated,
            url: format!("{}/Webhooks/{}", self.url, webhook.sid),
        }
        .serialize(serializer)
    }
}
