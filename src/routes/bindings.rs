//! The Service Binding resource, `/v1/Services/{IS}/Bindings[/{BS}]`: a chat user's
//! device registered for push notifications. Client SDKs register them, so the REST API
//! reads and deletes only; the emulator's come from state documents.
//! <https://www.twilio.com/docs/conversations/api/service-binding-resource>

use std::sync::Arc;

use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use crate::error::{ApiError, Expected, InvalidValue};
use crate::extract::{ApiCall, ServicePath, TwilioQuery, path_params};
use crate::pagination::{ListBody, Meta, Order, PageLinks, PageParams, PageRequest};
use crate::sid::{AccountSid, BindingSid, ChatServiceSid, CredentialSid};
use crate::state::AppState;
use crate::store::bindings::{Binding, BindingFilter, BindingType};
use crate::time::Timestamp;

/// Twilio's maximum `PageSize` for bindings (the spec's, and the behavior reference's).
pub const MAX_PAGE_SIZE: usize = 100;

/// The routes `/v1/Services/{ChatServiceSid}/Bindings` and `…/Bindings/{Sid}`: Twilio has
/// no account-level form of them.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/Services/{ChatServiceSid}/Bindings", get(list))
        .route("/v1/Services/{ChatServiceSid}/Bindings/{Sid}", get(fetch).delete(delete))
}

/// The service of a bindings path; the routes only exist with an explicit one.
fn service_of(path: ServicePath) -> Result<ChatServiceSid, ApiError> {
    path.0.explicit().ok_or(ApiError::NotFound)
}

/// A binding's path: its service and `BS…` SID. A malformed SID names nothing (404).
struct BindingPath {
    service: ChatServiceSid,
    sid: BindingSid,
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for BindingPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, ApiError> {
        let service = service_of(ServicePath::from_request_parts(parts, state).await?)?;
        let params = path_params(parts, state).await?;
        let sid = params.get("Sid").and_then(|raw| raw.parse().ok()).ok_or(ApiError::NotFound)?;
        Ok(Self { service, sid })
    }
}

/// Fetch a binding: <https://www.twilio.com/docs/conversations/api/service-binding-resource#fetch-a-servicebinding-resource>
async fn fetch(
    ApiCall { state, account, base }: ApiCall,
    path: BindingPath,
) -> Result<Json<BindingResource>, ApiError> {
    let binding = state.store.fetch_binding(account, path.service, path.sid)?;
    Ok(Json(BindingResource::new(account, &base, binding)))
}

/// List a service's bindings: <https://www.twilio.com/docs/conversations/api/service-binding-resource#read-multiple-servicebinding-resources>.
/// `BindingType` and `Identity` may each be repeated; a binding matching any value of
/// each given filter is listed.
async fn list(
    ApiCall { state, account, base }: ApiCall,
    path: ServicePath,
    TwilioQuery(pairs): TwilioQuery<Vec<(String, String)>>,
) -> Result<Json<ListBody<BindingResource>>, ApiError> {
    let service = service_of(path)?;
    let query = ListQuery::read(&pairs, MAX_PAGE_SIZE, true)?;
    let selection = state.store.list_bindings(account, service, &query.filter, &query.request)?;
    let meta = query.meta(&base, format!("/v1/Services/{service}/Bindings"), &selection);
    let records = selection.items.into_iter().map(|binding| BindingResource::new(account, &base, binding)).collect();
    Ok(Json(ListBody { records, meta }))
}

/// A bindings list's query, as both APIs take it: paging, `BindingType` (repeatable) and,
/// where the list has it, `Identity` (repeatable).
pub(crate) struct ListQuery {
    pub request: PageRequest,
    pub filter: BindingFilter,
    /// The filters as given, for the page URLs.
    given: Vec<(&'static str, String)>,
}

impl ListQuery {
    /// Reads `pairs`; `Identity` only when `by_identity` (a user's bindings have no such filter).
    pub fn read(pairs: &[(String, String)], max_page_size: usize, by_identity: bool) -> Result<Self, ApiError> {
        let value = |name: &str| pairs.iter().rev().find(|(key, _)| key == name).map(|(_, value)| value.clone());
        let page = PageParams { page_size: value("PageSize"), page: value("Page"), page_token: value("PageToken") };
        let request = PageRequest::parse(&page, Order::Asc, max_page_size)?;
        let values = |name: &'static str| pairs.iter().filter(move |(key, _)| key == name).map(|(_, value)| value);
        let kinds = values("BindingType")
            .map(|raw| {
                BindingType::parse(raw).ok_or_else(|| {
                    let expected = Expected::OneOf("apn, gcm, fcm, twilsock");
                    ApiError::invalid("BindingType", InvalidValue::NotA { value: raw.clone(), expected })
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let identities: Vec<String> = if by_identity { values("Identity").cloned().collect() } else { Vec::new() };
        let given = values("BindingType")
            .map(|kind| ("BindingType", kind.clone()))
            .chain(identities.iter().map(|identity| ("Identity", identity.clone())))
            .collect();
        Ok(Self { request, filter: BindingFilter { kinds, identities }, given })
    }

    /// The page's `meta`, with the list at `path` and the filters as given.
    pub fn meta<T>(self, base: &str, path: String, selection: &crate::store::selection::Selection<T>) -> Meta {
        PageLinks { base, path, filters: self.given }.meta(&self.request, selection, "bindings")
    }
}

/// Delete a binding: <https://www.twilio.com/docs/conversations/api/service-binding-resource#delete-a-servicebinding-resource>
async fn delete(ApiCall { state, account, .. }: ApiCall, path: BindingPath) -> Result<StatusCode, ApiError> {
    state.store.delete_binding(account, path.service, path.sid)?;
    Ok(StatusCode::NO_CONTENT)
}

/// A binding as Twilio renders it, in the key order of its examples.
#[derive(Debug, Serialize)]
struct BindingResource {
    sid: BindingSid,
    account_sid: AccountSid,
    chat_service_sid: ChatServiceSid,
    date_created: Timestamp,
    date_updated: Timestamp,
    endpoint: Arc<str>,
    identity: Arc<str>,
    binding_type: &'static str,
    credential_sid: Option<CredentialSid>,
    message_types: Vec<Arc<str>>,
    url: String,
}

impl BindingResource {
    fn new(account_sid: AccountSid, base: &str, binding: Binding) -> Self {
        Self {
            url: format!("{base}/v1/Services/{}/Bindings/{}", binding.chat_service_sid, binding.sid),
            sid: binding.sid,
            account_sid,
            chat_service_sid: binding.chat_service_sid,
            date_created: binding.date_created,
            date_updated: binding.date_updated,
            endpoint: binding.endpoint,
            identity: binding.identity,
            binding_type: binding.kind.as_str(),
            credential_sid: binding.credential_sid,
            message_types: binding.message_types,
        }
    }
}
