//! The Conversation Service resource, `/v1/Services[/{IS}]`.
//! <https://www.twilio.com/docs/conversations/api/service-resource>

use std::sync::Arc;

use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, InvalidValue};
use crate::extract::{ApiCall, ServicePath, TwilioForm, TwilioQuery};
use crate::pagination::{ListBody, Order, PageLinks, PageParams, PageRequest};
use crate::sid::{AccountSid, ChatServiceSid};
use crate::state::AppState;
use crate::store::model::Service;
use crate::time::Timestamp;
use crate::urls::ServiceHref;
use crate::validate;

/// Twilio's maximum `PageSize` for services.
pub const MAX_PAGE_SIZE: usize = 100;

/// The routes `/v1/Services` and `/v1/Services/{ChatServiceSid}`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/Services", get(list).post(create))
        .route("/v1/Services/{ChatServiceSid}", get(fetch).delete(delete))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateParams {
    friendly_name: Option<String>,
}

/// Create a service: <https://www.twilio.com/docs/conversations/api/service-resource#create-a-service-resource>
async fn create(
    ApiCall { state, account, base }: ApiCall,
    TwilioForm(params): TwilioForm<CreateParams>,
) -> Result<(StatusCode, Json<ServiceResource>), ApiError> {
    let friendly_name = validate::name(params.friendly_name, ApiError::FriendlyNameTooLong)?
        .ok_or_else(|| ApiError::invalid("FriendlyName", InvalidValue::Missing))?;
    let service = state.store.create_service(account, friendly_name)?;
    Ok((StatusCode::CREATED, Json(ServiceResource { account_sid: account, base, service })))
}

/// Fetch a service: <https://www.twilio.com/docs/conversations/api/service-resource#fetch-a-service-resource>
async fn fetch(
    ApiCall { state, account, base }: ApiCall,
    ServicePath(scope): ServicePath,
) -> Result<Json<ServiceResource>, ApiError> {
    let service = state.store.fetch_service(account, scope.explicit().ok_or(ApiError::NotFound)?)?;
    Ok(Json(ServiceResource { account_sid: account, base, service }))
}

/// List the account's services, the default one first: <https://www.twilio.com/docs/conversations/api/service-resource#read-multiple-service-resources>
async fn list(
    ApiCall { state, account, base }: ApiCall,
    TwilioQuery(params): TwilioQuery<PageParams>,
) -> Result<Json<ListBody<ServiceResource>>, ApiError> {
    let request = PageRequest::parse(&params, Order::Asc, MAX_PAGE_SIZE)?;
    let selection = state.store.list_services(account, &request);
    let links = PageLinks { base: &base, path: "/v1/Services".to_owned(), filters: Vec::new() };
    let meta = links.meta(&request, &selection, "services");
    let records = selection
        .items
        .into_iter()
        .map(|service| ServiceResource { account_sid: account, base: Arc::clone(&base), service })
        .collect();
    Ok(Json(ListBody { records, meta }))
}

/// Delete a service with its conversations: <https://www.twilio.com/docs/conversations/api/service-resource#delete-a-service-resource>
async fn delete(
    ApiCall { state, account, .. }: ApiCall,
    ServicePath(scope): ServicePath,
) -> Result<StatusCode, ApiError> {
    state.store.delete_service(account, scope.explicit().ok_or(ApiError::NotFound)?)?;
    Ok(StatusCode::NO_CONTENT)
}

/// A service as Twilio renders it.
#[derive(Debug)]
pub struct ServiceResource {
    account_sid: AccountSid,
    base: Arc<str>,
    service: Service,
}

#[derive(Serialize)]
struct ServiceWire<'a> {
    sid: ChatServiceSid,
    account_sid: AccountSid,
    friendly_name: &'a str,
    date_created: Timestamp,
    date_updated: Timestamp,
    url: ServiceHref<'a>,
    links: ServiceLinks<'a>,
}

#[derive(Serialize)]
struct ServiceLinks<'a> {
    conversations: ServiceHref<'a>,
    users: ServiceHref<'a>,
    roles: ServiceHref<'a>,
    bindings: ServiceHref<'a>,
    configuration: ServiceHref<'a>,
    participant_conversations: ServiceHref<'a>,
    conversation_with_participants: ServiceHref<'a>,
}

impl Serialize for ServiceResource {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let href = |tail| ServiceHref { base: &self.base, service: self.service.sid, tail };
        ServiceWire {
            sid: self.service.sid,
            account_sid: self.account_sid,
            friendly_name: &self.service.friendly_name,
            date_created: self.service.date_created,
            date_updated: self.service.date_updated,
            url: href(""),
            links: ServiceLinks {
                conversations: href("/Conversations"),
                users: href("/Users"),
                roles: href("/Roles"),
                bindings: href("/Bindings"),
                configuration: href("/Configuration"),
                participant_conversations: href("/ParticipantConversations"),
                conversation_with_participants: href("/ConversationWithParticipants"),
            },
        }
        .serialize(serializer)
    }
}
