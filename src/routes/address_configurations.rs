//! Address Configurations, `/v1/Configuration/Addresses[/{IG}]`: what happens to a message
//! texted to one of the account's addresses that no conversation takes. One per address
//! and type.
//! <https://www.twilio.com/docs/conversations/api/address-configuration-resource>

use std::sync::Arc;

use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::form::{FormPairs, POST_EVENT_NAMES, post_event};
use crate::error::{ApiError, Expected, InvalidValue};
use crate::extract::{ApiCall, TwilioForm, TwilioQuery, path_params};
use crate::pagination::{ListBody, Order, PageLinks, PageParams, PageRequest};
use crate::sid::{AccountSid, AddressConfigurationSid, ChatServiceSid, FlowSid};
use crate::state::AppState;
use crate::store::NewAddressConfiguration;
use crate::store::webhook_model::{
    AddressConfiguration, AddressConfigurationUpdate, AddressType, AutoCreationType, HttpMethod,
};
use crate::time::Timestamp;
use crate::validate;

/// Twilio's maximum `PageSize` for Address Configurations.
pub const MAX_PAGE_SIZE: usize = 50;

const ADDRESS_TYPES: &str = "sms, whatsapp, messenger, gbm, email, rcs, apple, chat";

/// The routes `/v1/Configuration/Addresses` and `/v1/Configuration/Addresses/{Sid}`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/Configuration/Addresses", get(list).post(create))
        .route("/v1/Configuration/Addresses/{Sid}", get(fetch).post(update).delete(delete))
}

/// The `IG…` SID of the path; a malformed one names nothing (404).
struct AddressPath(AddressConfigurationSid);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for AddressPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, ApiError> {
        let params = path_params(parts, state).await?;
        params.get("Sid").and_then(|raw| raw.parse().ok()).map(Self).ok_or(ApiError::NotFound)
    }
}

/// `FriendlyName` and `AutoCreation.*`, as create and update share them.
fn update_fields(form: &FormPairs) -> Result<AddressConfigurationUpdate, ApiError> {
    let friendly_name = validate::name(
        form.one("FriendlyName").map(str::to_owned),
        ApiError::invalid("FriendlyName", InvalidValue::LongerThan(validate::NAME_MAX_CHARS)),
    )?;
    let webhook_filters = form
        .all("AutoCreation.WebhookFilters")
        .map(|names| {
            names
                .into_iter()
                .map(|name| {
                    post_event(name).ok_or_else(|| {
                        let (value, expected) = (name.to_owned(), Expected::OneOf(POST_EVENT_NAMES));
                        ApiError::invalid("AutoCreation.WebhookFilters", InvalidValue::NotA { value, expected })
                    })
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?;
    Ok(AddressConfigurationUpdate {
        friendly_name: friendly_name.map(Into::into),
        enabled: form.boolean("AutoCreation.Enabled")?,
        kind: form.parsed("AutoCreation.Type", AutoCreationType::parse, Expected::OneOf("webhook, studio, default"))?,
        conversation_service_sid: form.sid::<ChatServiceSid>("AutoCreation.ConversationServiceSid")?,
        webhook_url: form.url("AutoCreation.WebhookUrl")?.map(Arc::from),
        webhook_method: form.parsed("AutoCreation.WebhookMethod", HttpMethod::parse, Expected::OneOf("get, post"))?,
        webhook_filters,
        studio_flow_sid: form.sid::<FlowSid>("AutoCreation.StudioFlowSid")?,
        studio_retry_count: form.parsed(
            "AutoCreation.StudioRetryCount",
            |raw| raw.trim().parse::<u32>().ok(),
            Expected::NonNegativeInteger,
        )?,
    })
}

/// Create an Address Configuration: <https://www.twilio.com/docs/conversations/api/address-configuration-resource#create-an-addressconfiguration-resource>
async fn create(
    ApiCall { state, account, base }: ApiCall,
    TwilioForm(form): TwilioForm<Vec<(String, String)>>,
) -> Result<(StatusCode, Json<AddressResource>), ApiError> {
    let form = FormPairs(form);
    let kind = form
        .parsed("Type", AddressType::parse, Expected::OneOf(ADDRESS_TYPES))?
        .ok_or_else(|| ApiError::invalid("Type", InvalidValue::Missing))?;
    let address = form
        .one("Address")
        .filter(|a| !a.is_empty())
        .ok_or_else(|| ApiError::invalid("Address", InvalidValue::Missing))?;
    let new = NewAddressConfiguration {
        kind,
        address: address.into(),
        address_country: form.one("AddressCountry").map(Arc::from),
        fields: update_fields(&form)?,
    };
    let created = state.store.create_address_configuration(account, new)?;
    Ok((StatusCode::CREATED, Json(AddressResource::new(account, &base, created))))
}

/// Fetch an Address Configuration: <https://www.twilio.com/docs/conversations/api/address-configuration-resource#fetch-an-addressconfiguration-resource>
async fn fetch(
    ApiCall { state, account, base }: ApiCall,
    AddressPath(sid): AddressPath,
) -> Result<Json<AddressResource>, ApiError> {
    let address = state.store.fetch_address_configuration(account, sid)?;
    Ok(Json(AddressResource::new(account, &base, address)))
}

#[derive(Debug, Deserialize)]
struct ListParams {
    #[serde(rename = "Type")]
    kind: Option<String>,
    #[serde(flatten)]
    page: PageParams,
}

/// List the account's Address Configurations, of one `Type` if given: <https://www.twilio.com/docs/conversations/api/address-configuration-resource#read-multiple-addressconfiguration-resources>
async fn list(
    ApiCall { state, account, base }: ApiCall,
    TwilioQuery(params): TwilioQuery<ListParams>,
) -> Result<Json<ListBody<AddressResource>>, ApiError> {
    let request = PageRequest::parse(&params.page, Order::Asc, MAX_PAGE_SIZE)?;
    let kind = params
        .kind
        .as_deref()
        .map(|raw| {
            AddressType::parse(raw).ok_or_else(|| {
                let (value, expected) = (raw.to_owned(), Expected::OneOf(ADDRESS_TYPES));
                ApiError::invalid("Type", InvalidValue::NotA { value, expected })
            })
        })
        .transpose()?;
    let selection = state.store.list_address_configurations(account, kind, &request);
    let filters = kind.map(|kind| ("Type", kind.as_str().to_owned())).into_iter().collect();
    let links = PageLinks { base: &base, path: "/v1/Configuration/Addresses".to_owned(), filters };
    let meta = links.meta(&request, &selection, "address_configurations");
    let records = selection.items.into_iter().map(|address| AddressResource::new(account, &base, address)).collect();
    Ok(Json(ListBody { records, meta }))
}

/// Update an Address Configuration (`Type`, `Address` and `AddressCountry` stay): <https://www.twilio.com/docs/conversations/api/address-configuration-resource#update-an-addressconfiguration-resource>
async fn update(
    ApiCall { state, account, base }: ApiCall,
    AddressPath(sid): AddressPath,
    TwilioForm(form): TwilioForm<Vec<(String, String)>>,
) -> Result<Json<AddressResource>, ApiError> {
    let update = update_fields(&FormPairs(form))?;
    let address = state.store.update_address_configuration(account, sid, update)?;
    Ok(Json(AddressResource::new(account, &base, address)))
}

/// Delete an Address Configuration: <https://www.twilio.com/docs/conversations/api/address-configuration-resource#delete-an-addressconfiguration-resource>
async fn delete(
    ApiCall { state, account, .. }: ApiCall,
    AddressPath(sid): AddressPath,
) -> Result<StatusCode, ApiError> {
    state.store.delete_address_configuration(account, sid)?;
    Ok(StatusCode::NO_CONTENT)
}

/// An Address Configuration as Twilio renders it.
#[derive(Debug, Serialize)]
struct AddressResource {
    sid: AddressConfigurationSid,
    account_sid: AccountSid,
    #[serde(rename = "type")]
    kind: &'static str,
    address: String,
    friendly_name: Option<String>,
    auto_creation: AutoCreationWire,
    date_created: Timestamp,
    date_updated: Timestamp,
    url: String,
    address_country: Option<String>,
}

/// `auto_creation`, whose keys depend on its type, as in Twilio's examples (README,
/// "Webhook configuration"): `webhook` adds `webhook_url`, `webhook_method` (upper case,
/// `POST` unless set) and `webhook_filters`; `studio` adds `studio_flow_sid` and
/// `studio_retry_count`.
#[derive(Debug, Serialize)]
struct AutoCreationWire {
    enabled: bool,
    #[serde(rename = "type")]
    kind: &'static str,
    conversation_service_sid: Option<ChatServiceSid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    webhook_url: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    webhook_method: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    webhook_filters: Option<Vec<&'static str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    studio_flow_sid: Option<Option<FlowSid>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    studio_retry_count: Option<Option<u32>>,
}

impl AddressResource {
    fn new(account_sid: AccountSid, base: &str, address: AddressConfiguration) -> Self {
        let auto = &address.auto_creation;
        let webhook = auto.kind == AutoCreationType::Webhook;
        let studio = auto.kind == AutoCreationType::Studio;
        Self {
            sid: address.sid,
            account_sid,
            kind: address.kind.as_str(),
            url: format!("{base}/v1/Configuration/Addresses/{}", address.sid),
            auto_creation: AutoCreationWire {
                enabled: auto.enabled,
                kind: auto.kind.as_str(),
                conversation_service_sid: auto.conversation_service_sid,
                webhook_url: webhook.then(|| auto.webhook_url.as_deref().map(str::to_owned)),
                webhook_method: webhook.then(|| auto.webhook_method.unwrap_or_default().upper()),
                webhook_filters: webhook.then(|| auto.webhook_filters.iter().map(|event| event.name()).collect()),
                studio_flow_sid: studio.then_some(auto.studio_flow_sid),
                studio_retry_count: studio.then_some(auto.studio_retry_count),
            },
            address: address.address.to_string(),
            friendly_name: address.friendly_name.as_deref().map(str::to_owned),
            date_created: address.date_created,
            date_updated: address.date_updated,
            address_country: address.address_country.as_deref().map(str::to_owned),
        }
    }
}
