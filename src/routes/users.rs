//! The User resource, on both URL forms: `/v1/Users[/{US or identity}]` (the account's
//! default service) and `/v1/Services/{IS}/Users[/…]`.
//! <https://www.twilio.com/docs/conversations/api/user-resource>

use std::fmt;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, InvalidValue};
use crate::extract::{ApiCall, ServicePath, TwilioForm, TwilioQuery, WebhookEnabled, path_params};
use crate::pagination::{ListBody, Order, PageLinks, PageParams, PageRequest};
use crate::sid::{AccountSid, ChatServiceSid, ConversationSid, RoleSid, UserSid};
use crate::state::AppState;
use crate::store::{ServiceScope, User, UserFields, UserRef};
use crate::time::Timestamp;
use crate::validate;

use super::hooks;

/// Twilio's maximum `PageSize` for users.
pub const MAX_PAGE_SIZE: usize = 50;

/// Where users live on each URL form.
pub const USER_FORMS: [&str; 2] = ["/v1/Users", "/v1/Services/{ChatServiceSid}/Users"];

/// Adds the user routes under `users` (`/v1/Users` or `/v1/Services/{IS}/Users`).
pub fn mount(router: Router<AppState>, users: &str) -> Router<AppState> {
    router
        .route(users, get(list).post(create))
        .route(&format!("{users}/{{Sid}}"), get(fetch).post(update).delete(delete))
}

/// A user path: the service scope and the user, by `US…` SID or identity. User
/// Conversation paths name the user `UserSid`, the user's own paths `Sid`.
#[derive(Clone, Debug)]
pub struct UserPath {
    pub service: ServiceScope,
    pub user: UserRef,
}

impl<S: Send + Sync> FromRequestParts<S> for UserPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let ServicePath(service) = ServicePath::from_request_parts(parts, state).await?;
        let params = path_params(parts, state).await?;
        let segment = params.get("Sid").or_else(|| params.get("UserSid")).ok_or(ApiError::NotFound)?;
        Ok(Self { service, user: UserRef::parse(segment) })
    }
}

/// Create and update parameters (`Identity` on create only: Twilio's update has none).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UserParams {
    identity: Option<String>,
    friendly_name: Option<String>,
    attributes: Option<String>,
    role_sid: Option<String>,
}

impl UserParams {
    fn fields(self) -> Result<UserFields, ApiError> {
        Ok(UserFields {
            friendly_name: validate::name(self.friendly_name, ApiError::FriendlyNameTooLong)?,
            attributes: validate::attributes(self.attributes, crate::store::USER_ATTRIBUTES_MAX_BYTES)?,
            role_sid: self
                .role_sid
                .map(|raw| {
                    raw.parse::<RoleSid>().map_err(|_| ApiError::invalid("RoleSid", InvalidValue::Malformed(raw)))
                })
                .transpose()?,
        })
    }
}

/// Create a user: <https://www.twilio.com/docs/conversations/api/user-resource#create-a-conversations-user>
async fn create(
    ApiCall { state, account, base }: ApiCall,
    ServicePath(scope): ServicePath,
    webhooks: WebhookEnabled,
    TwilioForm(mut params): TwilioForm<UserParams>,
) -> Result<(StatusCode, Json<UserResource>), ApiError> {
    let identity = match params.identity.take() {
        None => return Err(ApiError::invalid("Identity", InvalidValue::Missing)),
        Some(identity) if identity.is_empty() => return Err(ApiError::invalid("Identity", InvalidValue::Missing)),
        Some(identity) => validate::name(Some(identity), too_long_identity())?.unwrap_or_default(),
    };
    let fields = params.fields()?;
    let origin = webhooks.origin();
    let user = hooks::writer(&state, origin.as_ref()).create_user(account, scope, identity, fields)?;
    Ok((StatusCode::CREATED, Json(UserResource::new(account, base, scope, user))))
}

/// Fetch a user by SID or identity: <https://www.twilio.com/docs/conversations/api/user-resource#fetch-a-conversations-user>
async fn fetch(ApiCall { state, account, base }: ApiCall, path: UserPath) -> Result<Json<UserResource>, ApiError> {
    let user = state.store.fetch_user(account, path.service, &path.user)?;
    Ok(Json(UserResource::new(account, base, path.service, user)))
}

/// List a service's users: <https://www.twilio.com/docs/conversations/api/user-resource#read-multiple-conversations-user-resources>
async fn list(
    ApiCall { state, account, base }: ApiCall,
    ServicePath(scope): ServicePath,
    TwilioQuery(params): TwilioQuery<PageParams>,
) -> Result<Json<ListBody<UserResource>>, ApiError> {
    let request = PageRequest::parse(&params, Order::Asc, MAX_PAGE_SIZE)?;
    let (service, selection) = state.store.list_users(account, scope, &request)?;
    let path = UsersPath { scope, service }.to_string();
    let links = PageLinks { base: &base, path, filters: Vec::new() };
    let meta = links.meta(&request, &selection, "users");
    let records =
        selection.items.into_iter().map(|user| UserResource::new(account, Arc::clone(&base), scope, user)).collect();
    Ok(Json(ListBody { records, meta }))
}

/// Update a user: <https://www.twilio.com/docs/conversations/api/user-resource#update-a-conversations-user>
async fn update(
    ApiCall { state, account, base }: ApiCall,
    path: UserPath,
    webhooks: WebhookEnabled,
    TwilioForm(params): TwilioForm<UserParams>,
) -> Result<Json<UserResource>, ApiError> {
    if params.identity.is_some() {
        return Err(ApiError::invalid("Identity", InvalidValue::Immutable));
    }
    let mut fields = params.fields()?;
    let origin = webhooks.origin();
    if let Some(origin) = &origin {
        fields = hooks::user_update(&state, account, path.service, &path.user, fields, origin).await?;
    }
    let user = hooks::writer(&state, origin.as_ref()).update_user(account, path.service, &path.user, fields)?;
    Ok(Json(UserResource::new(account, base, path.service, user)))
}

/// Delete a user: <https://www.twilio.com/docs/conversations/api/user-resource#delete-a-conversations-user>
async fn delete(ApiCall { state, account, .. }: ApiCall, path: UserPath) -> Result<StatusCode, ApiError> {
    state.store.delete_user(account, path.service, &path.user)?;
    Ok(StatusCode::NO_CONTENT)
}

fn too_long_identity() -> ApiError {
    ApiError::invalid("Identity", InvalidValue::LongerThan(validate::NAME_MAX_CHARS))
}

/// A service's user list on the request's form: `/v1/Users` or `/v1/Services/{IS}/Users`.
#[derive(Clone, Copy, Debug)]
pub struct UsersPath {
    pub scope: ServiceScope,
    pub service: ChatServiceSid,
}

impl fmt::Display for UsersPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.scope {
            ServiceScope::Default => f.write_str("/v1/Users"),
            ServiceScope::Explicit(_) => write!(f, "/v1/Services/{}/Users", self.service),
        }
    }
}

/// A user's absolute URL on the request's form, with `tail` after it.
#[derive(Clone, Copy, Debug)]
pub struct UserHref<'a> {
    pub base: &'a str,
    pub users: UsersPath,
    pub user: UserSid,
    pub tail: &'static str,
}

impl<'a> UserHref<'a> {
    /// The user's conversation `conversation`: `{user}/Conversations/{CH}`.
    pub fn conversation(self, conversation: ConversationSid) -> UserConversationHref<'a> {
        UserConversationHref { user: self, conversation }
    }
}

impl fmt::Display for UserHref<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}/{}{}", self.base, self.users, self.user, self.tail)
    }
}

/// A User Conversation's absolute URL on the request's form.
#[derive(Clone, Copy, Debug)]
pub struct UserConversationHref<'a> {
    user: UserHref<'a>,
    conversation: ConversationSid,
}

impl fmt::Display for UserConversationHref<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/Conversations/{}", self.user, self.conversation)
    }
}

impl Serialize for UserConversationHref<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl Serialize for UserHref<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A user as Twilio renders it on the request's URL form.
#[derive(Debug)]
pub struct UserResource {
    account_sid: AccountSid,
    base: Arc<str>,
    scope: ServiceScope,
    user: User,
}

impl UserResource {
    fn new(account_sid: AccountSid, base: Arc<str>, scope: ServiceScope, user: User) -> Self {
        Self { account_sid, base, scope, user }
    }
}

/// The wire shape, in the key order of Twilio's examples.
#[derive(Serialize)]
struct UserWire<'a> {
    sid: UserSid,
    account_sid: AccountSid,
    chat_service_sid: ChatServiceSid,
    role_sid: RoleSid,
    identity: &'a str,
    friendly_name: Option<&'a str>,
    attributes: &'a str,
    /// Twilio reports `null` for a user that has never been online, as no user of the
    /// REST API alone has (and always `null` in lists).
    is_online: Option<bool>,
    is_notifiable: Option<bool>,
    date_created: Timestamp,
    date_updated: Timestamp,
    url: UserHref<'a>,
    links: UserLinks<'a>,
}

#[derive(Serialize)]
struct UserLinks<'a> {
    user_conversations: UserHref<'a>,
}

impl Serialize for UserResource {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let user = &self.user;
        let users = UsersPath { scope: self.scope, service: user.chat_service_sid };
        let href = |tail| UserHref { base: &self.base, users, user: user.sid, tail };
        UserWire {
            sid: user.sid,
            account_sid: self.account_sid,
            chat_service_sid: user.chat_service_sid,
            role_sid: user.role_sid,
            identity: &user.identity,
            friendly_name: user.friendly_name.as_deref(),
            attributes: user.attributes.as_deref().unwrap_or("{}"),
            is_online: None,
            is_notifiable: None,
            date_created: user.date_created,
            date_updated: user.date_updated,
            url: href(""),
            links: UserLinks { user_conversations: href("/Conversations") },
        }
        .serialize(serializer)
    }
}
