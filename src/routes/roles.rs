//! The Role resource, on both URL forms: `/v1/Roles[/{RL}]` (the roles of the account's
//! default service, as Twilio's are) and `/v1/Services/{IS}/Roles[/{RL}]`.
//! <https://www.twilio.com/docs/conversations/api/role-resource>
//! <https://www.twilio.com/docs/conversations/api/service-role-resource>

use std::sync::Arc;

use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use super::form::FormPairs;
use crate::error::{ApiError, Expected, InvalidValue};
use crate::extract::{ApiCall, ServicePath, TwilioForm, TwilioQuery, path_params};
use crate::pagination::{ListBody, Order, PageLinks, PageParams, PageRequest};
use crate::sid::{AccountSid, ChatServiceSid, RoleSid};
use crate::state::AppState;
use crate::store::ServiceScope;
use crate::store::roles::{NewRole, Role, RoleType, ServiceRole};
use crate::time::Timestamp;

/// Twilio's maximum `PageSize` for roles.
pub const MAX_PAGE_SIZE: usize = 50;
/// The longest `FriendlyName` the spec allows a role.
const FRIENDLY_NAME_MAX_CHARS: usize = 64;

/// Where roles live on each URL form.
const ROLE_FORMS: [&str; 2] = ["/v1/Roles", "/v1/Services/{ChatServiceSid}/Roles"];

/// The role routes of both URL forms, one handler per operation.
pub fn router() -> Router<AppState> {
    ROLE_FORMS.into_iter().fold(Router::new(), |router, roles| {
        router
            .route(roles, get(list).post(create))
            .route(&format!("{roles}/{{Sid}}"), get(fetch).post(update).delete(delete))
    })
}

/// A role's path: its service scope and `RL…` SID. A malformed SID names nothing (404).
struct RolePath {
    scope: ServiceScope,
    sid: RoleSid,
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for RolePath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, ApiError> {
        let ServicePath(scope) = ServicePath::from_request_parts(parts, state).await?;
        let params = path_params(parts, state).await?;
        let sid = params.get("Sid").and_then(|raw| raw.parse().ok()).ok_or(ApiError::NotFound)?;
        Ok(Self { scope, sid })
    }
}

/// Every `Permission` sent, required (update and create alike), as sent: Chat v2's roles
/// read them through this too, and rename them.
pub(crate) fn sent_permissions(form: &FormPairs) -> Result<Vec<&str>, ApiError> {
    form.all("Permission").ok_or_else(|| ApiError::invalid("Permission", InvalidValue::Missing))
}

fn permissions(form: &FormPairs) -> Result<Vec<String>, ApiError> {
    Ok(sent_permissions(form)?.into_iter().map(str::to_owned).collect())
}

/// A role's `FriendlyName` on create: required, at most 64 characters (for Chat v2's
/// roles too).
pub(crate) fn required_friendly_name(form: &FormPairs) -> Result<&str, ApiError> {
    let friendly_name = form
        .one("FriendlyName")
        .filter(|name| !name.is_empty())
        .ok_or_else(|| ApiError::invalid("FriendlyName", InvalidValue::Missing))?;
    if friendly_name.chars().count() > FRIENDLY_NAME_MAX_CHARS {
        return Err(ApiError::FriendlyNameTooLong);
    }
    Ok(friendly_name)
}

/// Create a role: <https://www.twilio.com/docs/conversations/api/role-resource#create-a-role-resource>
async fn create(
    ApiCall { state, account, base }: ApiCall,
    ServicePath(scope): ServicePath,
    TwilioForm(form): TwilioForm<Vec<(String, String)>>,
) -> Result<(StatusCode, Json<RoleResource>), ApiError> {
    let form = FormPairs(form);
    let friendly_name = required_friendly_name(&form)?;
    let kind = form
        .parsed("Type", RoleType::parse, Expected::OneOf("conversation, service"))?
        .ok_or_else(|| ApiError::invalid("Type", InvalidValue::Missing))?;
    let new = NewRole { friendly_name: friendly_name.to_owned(), kind, permissions: permissions(&form)? };
    let created = state.store.create_role(account, scope, new)?;
    Ok((StatusCode::CREATED, Json(RoleResource::new(account, &base, scope, created))))
}

/// Fetch a role: <https://www.twilio.com/docs/conversations/api/role-resource#fetch-a-role-resource>
async fn fetch(ApiCall { state, account, base }: ApiCall, path: RolePath) -> Result<Json<RoleResource>, ApiError> {
    let role = state.store.fetch_role(account, path.scope, path.sid)?;
    Ok(Json(RoleResource::new(account, &base, path.scope, role)))
}

/// List a service's roles, its defaults first: <https://www.twilio.com/docs/conversations/api/role-resource#read-multiple-role-resources>
async fn list(
    ApiCall { state, account, base }: ApiCall,
    ServicePath(scope): ServicePath,
    TwilioQuery(params): TwilioQuery<PageParams>,
) -> Result<Json<ListBody<RoleResource>>, ApiError> {
    let request = PageRequest::parse(&params, Order::Asc, MAX_PAGE_SIZE)?;
    let listed = state.store.list_roles(account, scope, &request)?;
    let links = PageLinks { base: &base, path: list_path(scope), filters: Vec::new() };
    let meta = links.meta(&request, &listed.value, "roles");
    let service = listed.chat_service_sid;
    let records = listed
        .value
        .items
        .into_iter()
        .map(|role| RoleResource::new(account, &base, scope, ServiceRole { chat_service_sid: service, value: role }))
        .collect();
    Ok(Json(ListBody { records, meta }))
}

/// Update a role's permissions (the list is replaced): <https://www.twilio.com/docs/conversations/api/role-resource#update-a-role-resource>
async fn update(
    ApiCall { state, account, base }: ApiCall,
    path: RolePath,
    TwilioForm(form): TwilioForm<Vec<(String, String)>>,
) -> Result<Json<RoleResource>, ApiError> {
    let permissions = permissions(&FormPairs(form))?;
    let role = state.store.update_role(account, path.scope, path.sid, permissions)?;
    Ok(Json(RoleResource::new(account, &base, path.scope, role)))
}

/// Delete a role; a service's default roles are refused: <https://www.twilio.com/docs/conversations/api/role-resource#delete-a-role-resource>
async fn delete(ApiCall { state, account, .. }: ApiCall, path: RolePath) -> Result<StatusCode, ApiError> {
    state.store.delete_role(account, path.scope, path.sid)?;
    Ok(StatusCode::NO_CONTENT)
}

/// The list's path on the request's URL form.
fn list_path(scope: ServiceScope) -> String {
    match scope {
        ServiceScope::Default => "/v1/Roles".to_owned(),
        ServiceScope::Explicit(service) => format!("/v1/Services/{service}/Roles"),
    }
}

/// A role as Twilio renders it, in the key order of its examples. `chat_service_sid` is
/// shown on both forms, as Twilio's account-level example shows it.
#[derive(Debug, Serialize)]
pub struct RoleResource {
    sid: RoleSid,
    account_sid: AccountSid,
    chat_service_sid: ChatServiceSid,
    friendly_name: Arc<str>,
    #[serde(rename = "type")]
    kind: &'static str,
    permissions: Vec<Arc<str>>,
    date_created: Timestamp,
    date_updated: Timestamp,
    url: String,
}

impl RoleResource {
    fn new(account_sid: AccountSid, base: &str, scope: ServiceScope, role: ServiceRole<Role>) -> Self {
        let ServiceRole { chat_service_sid, value: role } = role;
        Self {
            url: format!("{base}{}/{}", list_path(scope), role.sid),
            sid: role.sid,
            account_sid,
            chat_service_sid,
            friendly_name: role.friendly_name,
            kind: role.kind.as_str(),
            permissions: role.permissions,
            date_created: role.date_created,
            date_updated: role.date_updated,
        }
    }
}
