//! The Chat v2 Role resource, `/v2/Services/{IS}/Roles[/{RL}]`: the service's Conversations
//! roles (its three defaults included), shown in Chat's representation, with Chat's codes
//! (a missing role is 50100, an unknown `Type` 50105).
//! <https://www.twilio.com/docs/chat/rest/role-resource>

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use super::ChatError;
use crate::error::{ApiError, InvalidValue};
use crate::extract::{ApiCall, ServicePath, TwilioForm, TwilioQuery, path_params};
use crate::pagination::{ListBody, Order, PageLinks, PageParams, PageRequest};
use crate::routes::form::FormPairs;
use crate::sid::{AccountSid, ChatServiceSid, RoleSid};
use crate::state::AppState;
use crate::store::roles::{NewRole, Role, ServiceRole};
use crate::store::{ServiceScope, StoreError};
use crate::time::Timestamp;

/// Chat v2's maximum `PageSize` for roles (Conversations allows 50).
pub const MAX_PAGE_SIZE: usize = 100;

/// Adds the role routes under `roles` (`/v2/Services/{IS}/Roles`).
pub fn mount(router: Router<AppState>, roles: &str) -> Router<AppState> {
    router
        .route(roles, get(list).post(create))
        .route(&format!("{roles}/{{Sid}}"), get(fetch).post(update).delete(delete))
}

/// How Chat names what Conversations stores: the one place the two vocabularies meet.
///
/// | Conversations (stored)          | Chat v2 (shown and accepted)  |
/// | ------------------------------- | ----------------------------- |
/// | type `service`                  | type `deployment`             |
/// | type `conversation`             | type `channel`                |
/// | `deleteConversation`            | `destroyChannel`              |
/// | `…Conversation…` in a name      | `…Channel…`                   |
/// | `…Participant…` in a name       | `…Member…`                    |
///
/// Other permission names (`sendMessage`, `editAnyUserInfo`, …) are the same in both.
pub mod naming {
    use crate::store::roles::RoleType;

    /// Whole names that do not follow the word swap.
    const RENAMED: [(&str, &str); 1] = [("deleteConversation", "destroyChannel")];
    /// The words swapped inside other names, Conversations' first.
    const WORDS: [(&str, &str); 2] = [("Conversation", "Channel"), ("Participant", "Member")];

    /// Chat's name for a role type.
    pub fn chat_type(kind: RoleType) -> &'static str {
        match kind {
            RoleType::Conversation => "channel",
            RoleType::Service => "deployment",
        }
    }

    /// The role type Chat names `name`.
    pub fn parse_chat_type(name: &str) -> Option<RoleType> {
        match name {
            "channel" => Some(RoleType::Conversation),
            "deployment" => Some(RoleType::Service),
            _ => None,
        }
    }

    /// A stored (Conversations) permission as Chat shows it.
    pub fn chat_permission(stored: &str) -> String {
        if let Some((_, chat)) = RENAMED.iter().find(|(conversations, _)| *conversations == stored) {
            return (*chat).to_owned();
        }
        WORDS.iter().fold(stored.to_owned(), |name, (conversations, chat)| name.replace(conversations, chat))
    }

    /// A permission sent to Chat as Conversations stores it.
    pub fn stored_permission(chat: &str) -> String {
        if let Some((stored, _)) = RENAMED.iter().find(|(_, name)| *name == chat) {
            return (*stored).to_owned();
        }
        WORDS.iter().fold(chat.to_owned(), |name, (conversations, chat)| name.replace(chat, conversations))
    }
}

/// A role's path: its service and `RL…` SID. A malformed SID names no role (50100).
struct RolePath {
    scope: ServiceScope,
    sid: Option<RoleSid>,
}

impl<S: Send + Sync> FromRequestParts<S> for RolePath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let ServicePath(scope) = ServicePath::from_request_parts(parts, state).await?;
        let params = path_params(parts, state).await?;
        Ok(Self { scope, sid: params.get("Sid").and_then(|raw| raw.parse().ok()) })
    }
}

impl RolePath {
    /// The role's SID, once the service is known to exist, so that a missing service
    /// stays a 20404 and only a missing role is Chat's 50100.
    fn sid(&self, state: &AppState, account: AccountSid) -> Result<RoleSid, ChatError> {
        state.store.service_sid(account, self.scope)?;
        self.sid.ok_or(ChatError(ApiError::ChatRoleNotFound))
    }
}

/// Chat's code for a missing role.
fn role_error(error: StoreError) -> ChatError {
    match error {
        StoreError::NotFound => ChatError(ApiError::ChatRoleNotFound),
        other => other.into(),
    }
}

/// Every `Permission` sent, in Conversations' names; required on create and update alike.
fn permissions(form: &FormPairs) -> Result<Vec<String>, ApiError> {
    Ok(crate::routes::roles::sent_permissions(form)?.into_iter().map(naming::stored_permission).collect())
}

/// Create a role: <https://www.twilio.com/docs/chat/rest/role-resource#create-a-role-resource>
async fn create(
    ApiCall { state, account, base }: ApiCall,
    ServicePath(scope): ServicePath,
    TwilioForm(form): TwilioForm<Vec<(String, String)>>,
) -> Result<(StatusCode, Json<ChatRoleResource>), ChatError> {
    let form = FormPairs(form);
    let friendly_name = crate::routes::roles::required_friendly_name(&form)?;
    let kind = form.one("Type").ok_or_else(|| ApiError::invalid("Type", InvalidValue::Missing))?;
    let kind = naming::parse_chat_type(kind).ok_or(ApiError::ChatInvalidRoleType)?;
    let new = NewRole { friendly_name: friendly_name.to_owned(), kind, permissions: permissions(&form)? };
    let created = state.store.create_role(account, scope, new)?;
    Ok((StatusCode::CREATED, Json(ChatRoleResource::new(account, &base, created))))
}

/// Fetch a role: <https://www.twilio.com/docs/chat/rest/role-resource#fetch-a-role-resource>
async fn fetch(ApiCall { state, account, base }: ApiCall, path: RolePath) -> Result<Json<ChatRoleResource>, ChatError> {
    let sid = path.sid(&state, account)?;
    let role = state.store.fetch_role(account, path.scope, sid).map_err(role_error)?;
    Ok(Json(ChatRoleResource::new(account, &base, role)))
}

/// List a service's roles, its defaults first: <https://www.twilio.com/docs/chat/rest/role-resource#read-multiple-role-resources>
async fn list(
    ApiCall { state, account, base }: ApiCall,
    ServicePath(scope): ServicePath,
    TwilioQuery(params): TwilioQuery<PageParams>,
) -> Result<Json<ListBody<ChatRoleResource>>, ChatError> {
    let request = PageRequest::parse(&params, Order::Asc, MAX_PAGE_SIZE)?;
    let listed = state.store.list_roles(account, scope, &request)?;
    let service = listed.chat_service_sid;
    let links = PageLinks { base: &base, path: format!("/v2/Services/{service}/Roles"), filters: Vec::new() };
    let meta = links.meta(&request, &listed.value, "roles");
    let records = listed
        .value
        .items
        .into_iter()
        .map(|role| ChatRoleResource::new(account, &base, ServiceRole { chat_service_sid: service, value: role }))
        .collect();
    Ok(Json(ListBody { records, meta }))
}

/// Replace a role's permissions: <https://www.twilio.com/docs/chat/rest/role-resource#update-a-role-resource>
async fn update(
    ApiCall { state, account, base }: ApiCall,
    path: RolePath,
    TwilioForm(form): TwilioForm<Vec<(String, String)>>,
) -> Result<Json<ChatRoleResource>, ChatError> {
    let permissions = permissions(&FormPairs(form))?;
    let sid = path.sid(&state, account)?;
    let role = state.store.update_role(account, path.scope, sid, permissions).map_err(role_error)?;
    Ok(Json(ChatRoleResource::new(account, &base, role)))
}

/// Delete a role; the service's default roles are refused: <https://www.twilio.com/docs/chat/rest/role-resource#delete-a-role-resource>
async fn delete(ApiCall { state, account, .. }: ApiCall, path: RolePath) -> Result<StatusCode, ChatError> {
    let sid = path.sid(&state, account)?;
    state.store.delete_role(account, path.scope, sid).map_err(role_error)?;
    Ok(StatusCode::NO_CONTENT)
}

/// A role as Chat v2 shows it, in the key order of Twilio's examples.
#[derive(Debug, Serialize)]
pub struct ChatRoleResource {
    sid: RoleSid,
    account_sid: AccountSid,
    service_sid: ChatServiceSid,
    friendly_name: Arc<str>,
    #[serde(rename = "type")]
    kind: &'static str,
    permissions: Vec<String>,
    date_created: Timestamp,
    date_updated: Timestamp,
    url: String,
}

impl ChatRoleResource {
    fn new(account_sid: AccountSid, base: &str, role: ServiceRole<Role>) -> Self {
        let ServiceRole { chat_service_sid, value: role } = role;
        Self {
            url: format!("{base}/v2/Services/{chat_service_sid}/Roles/{}", role.sid),
            sid: role.sid,
            account_sid,
            service_sid: chat_service_sid,
            friendly_name: role.friendly_name,
            kind: naming::chat_type(role.kind),
            permissions: role.permissions.iter().map(|name| naming::chat_permission(name)).collect(),
            date_created: role.date_created,
            date_updated: role.date_updated,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::naming::{chat_permission, stored_permission};

    #[test]
    fn permission_names_go_both_ways() {
        for (stored, chat) in [
            ("deleteConversation", "destroyChannel"),
            ("createConversation", "createChannel"),
            ("addParticipant", "addMember"),
            ("editOwnParticipantAttributes", "editOwnMemberAttributes"),
            ("sendMessage", "sendMessage"),
        ] {
            assert_eq!(chat_permission(stored), chat, "{stored}");
            assert_eq!(stored_permission(chat), stored, "{chat}");
        }
    }
}
