//! The Chat v2 Binding resources, `/v2/Services/{IS}/Bindings[/{BS}]` and a user's
//! `/v2/Services/{IS}/Users/{US}/Bindings[/{BS}]`: the same push bindings as
//! Conversations' `/v1/Services/{IS}/Bindings` (from state documents only; read and
//! delete), shown in Chat's representation.
//! <https://www.twilio.com/docs/chat/rest/binding-resource>,
//! <https://www.twilio.com/docs/chat/rest/user-binding-resource>

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use super::ChatError;
use crate::error::ApiError;
use crate::extract::{ApiCall, ServicePath, TwilioQuery, path_params};
use crate::pagination::ListBody;
use crate::routes::bindings::ListQuery;
use crate::routes::users::UserPath;
use crate::sid::{AccountSid, BindingSid, ChatServiceSid, CredentialSid, UserSid};
use crate::state::AppState;
use crate::store::bindings::Binding;
use crate::store::{StoreError, User};
use crate::time::Timestamp;

/// Chat v2's maximum `PageSize` for bindings and user bindings.
pub const MAX_PAGE_SIZE: usize = 50;

/// Adds the service's binding routes under `bindings` (`/v2/Services/{IS}/Bindings`) and a
/// user's under `user_bindings` (`…/Users/{US}/Bindings`).
pub fn mount(router: Router<AppState>, bindings: &str, user_bindings: &str) -> Router<AppState> {
    router
        .route(bindings, get(list))
        .route(&format!("{bindings}/{{BindingSid}}"), get(fetch).delete(delete))
        .route(user_bindings, get(list_for_user))
        .route(&format!("{user_bindings}/{{BindingSid}}"), get(fetch_for_user).delete(delete_for_user))
}

/// The `BS…` SID of a binding path; a malformed one names nothing (404).
struct BindingPath(BindingSid);

impl<S: Send + Sync> FromRequestParts<S> for BindingPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let params = path_params(parts, state).await?;
        params.get("BindingSid").and_then(|raw| raw.parse().ok()).map(Self).ok_or(ApiError::NotFound)
    }
}

/// The service of a Chat path, which always names one.
fn service_of(ServicePath(scope): ServicePath) -> Result<ChatServiceSid, ApiError> {
    scope.explicit().ok_or(ApiError::NotFound)
}

/// Fetch a binding: <https://www.twilio.com/docs/chat/rest/binding-resource#fetch-a-binding-resource>
async fn fetch(
    ApiCall { state, account, base }: ApiCall,
    service: ServicePath,
    BindingPath(sid): BindingPath,
) -> Result<Json<ChatBindingResource>, ChatError> {
    let binding = state.store.fetch_binding(account, service_of(service)?, sid)?;
    Ok(Json(ChatBindingResource::new(account, &base, binding, None)))
}

/// List a service's bindings (`BindingType`, `Identity`, each repeatable): <https://www.twilio.com/docs/chat/rest/binding-resource#read-multiple-binding-resources>
async fn list(
    ApiCall { state, account, base }: ApiCall,
    service: ServicePath,
    TwilioQuery(pairs): TwilioQuery<Vec<(String, String)>>,
) -> Result<Json<ListBody<ChatBindingResource>>, ChatError> {
    let service = service_of(service)?;
    let query = ListQuery::read(&pairs, MAX_PAGE_SIZE, true)?;
    let selection = state.store.list_bindings(account, service, &query.filter, &query.request)?;
    let meta = query.meta(&base, format!("/v2/Services/{service}/Bindings"), &selection);
    let records = selection.items.into_iter().map(|b| ChatBindingResource::new(account, &base, b, None)).collect();
    Ok(Json(ListBody { records, meta }))
}

/// Delete a binding: <https://www.twilio.com/docs/chat/rest/binding-resource#delete-a-binding-resource>
async fn delete(
    ApiCall { state, account, .. }: ApiCall,
    service: ServicePath,
    BindingPath(sid): BindingPath,
) -> Result<StatusCode, ChatError> {
    state.store.delete_binding(account, service_of(service)?, sid)?;
    Ok(StatusCode::NO_CONTENT)
}

/// The user a user-bindings path names (by SID or identity), with Chat's 50200 when there
/// is none.
fn user_of(state: &AppState, account: AccountSid, path: &UserPath) -> Result<User, ChatError> {
    super::service_exists(state, account, path.service)?;
    state.store.fetch_user(account, path.service, &path.user).map_err(|error| match error {
        StoreError::NotFound => ChatError(ApiError::ChatUserNotFound),
        other => other.into(),
    })
}

/// One of the user's bindings: a binding of the service with the user's identity.
fn user_binding(state: &AppState, account: AccountSid, user: &User, sid: BindingSid) -> Result<Binding, ChatError> {
    let binding = state.store.fetch_binding(account, user.chat_service_sid, sid)?;
    if binding.identity != user.identity {
        return Err(ApiError::NotFound.into());
    }
    Ok(binding)
}

/// Fetch a user's binding: <https://www.twilio.com/docs/chat/rest/user-binding-resource#fetch-a-userbinding-resource>
async fn fetch_for_user(
    ApiCall { state, account, base }: ApiCall,
    path: UserPath,
    BindingPath(sid): BindingPath,
) -> Result<Json<ChatBindingResource>, ChatError> {
    let user = user_of(&state, account, &path)?;
    let binding = user_binding(&state, account, &user, sid)?;
    Ok(Json(ChatBindingResource::new(account, &base, binding, Some(user.sid))))
}

/// List a user's bindings (`BindingType` repeatable): <https://www.twilio.com/docs/chat/rest/user-binding-resource#read-multiple-userbinding-resources>
async fn list_for_user(
    ApiCall { state, account, base }: ApiCall,
    path: UserPath,
    TwilioQuery(pairs): TwilioQuery<Vec<(String, String)>>,
) -> Result<Json<ListBody<ChatBindingResource>>, ChatError> {
    let mut query = ListQuery::read(&pairs, MAX_PAGE_SIZE, false)?;
    let user = user_of(&state, account, &path)?;
    query.filter.identities = vec![user.identity.to_string()];
    let (service, sid) = (user.chat_service_sid, user.sid);
    let selection = state.store.list_bindings(account, service, &query.filter, &query.request)?;
    let meta = query.meta(&base, format!("/v2/Services/{service}/Users/{sid}/Bindings"), &selection);
    let records = selection.items.into_iter().map(|b| ChatBindingResource::new(account, &base, b, Some(sid))).collect();
    Ok(Json(ListBody { records, meta }))
}

/// Delete a user's binding: <https://www.twilio.com/docs/chat/rest/user-binding-resource#delete-a-userbinding-resource>
async fn delete_for_user(
    ApiCall { state, account, .. }: ApiCall,
    path: UserPath,
    BindingPath(sid): BindingPath,
) -> Result<StatusCode, ChatError> {
    let user = user_of(&state, account, &path)?;
    user_binding(&state, account, &user, sid)?;
    state.store.delete_binding(account, user.chat_service_sid, sid)?;
    Ok(StatusCode::NO_CONTENT)
}

/// A binding as Chat v2 shows it, in the key order of Twilio's examples: the service's
/// form links its user (by identity, as Twilio's example does); a user's form names the
/// user's SID instead.
#[derive(Debug, Serialize)]
struct ChatBindingResource {
    sid: BindingSid,
    account_sid: AccountSid,
    service_sid: ChatServiceSid,
    date_created: Timestamp,
    date_updated: Timestamp,
    endpoint: Arc<str>,
    identity: Arc<str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_sid: Option<UserSid>,
    binding_type: &'static str,
    credential_sid: Option<CredentialSid>,
    message_types: Vec<Arc<str>>,
    url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    links: Option<BindingLinks>,
}

#[derive(Debug, Serialize)]
struct BindingLinks {
    user: String,
}

impl ChatBindingResource {
    fn new(account_sid: AccountSid, base: &str, binding: Binding, user: Option<UserSid>) -> Self {
        let (service, sid) = (binding.chat_service_sid, binding.sid);
        let (url, links) = match user {
            Some(user) => (format!("{base}/v2/Services/{service}/Users/{user}/Bindings/{sid}"), None),
            None => (
                format!("{base}/v2/Services/{service}/Bindings/{sid}"),
                Some(BindingLinks { user: format!("{base}/v2/Services/{service}/Users/{}", binding.identity) }),
            ),
        };
        Self {
            sid,
            account_sid,
            service_sid: service,
            date_created: binding.date_created,
            date_updated: binding.date_updated,
            endpoint: binding.endpoint,
            identity: binding.identity,
            user_sid: user,
            binding_type: binding.kind.as_str(),
            credential_sid: binding.credential_sid,
            message_types: binding.message_types,
            url,
            links,
        }
    }
}
