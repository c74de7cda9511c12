//! The Chat v2 Invite resource, `/v2/Services/{IS}/Channels/{CH}/Invites[/{IN}]`: a user
//! invited to a channel. Invites live with their channel's conversation in the store (and
//! go with it); Conversations has none. Joining does not consume an invite: the REST API
//! deletes it (README, "Fidelity notes").
//! <https://www.twilio.com/docs/chat/rest/invite-resource>

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use super::ChatError;
use crate::error::{ApiError, InvalidValue};
use crate::extract::{ApiCall, ConversationScope, TwilioForm, TwilioQuery, path_params};
use crate::pagination::{ListBody, Order, PageLinks, PageParams, PageRequest};
use crate::routes::form::FormPairs;
use crate::sid::{AccountSid, ChatServiceSid, ConversationSid, InviteSid, RoleSid};
use crate::state::AppState;
use crate::store::Located;
use crate::store::invites::{Invite, NewInvite};
use crate::time::Timestamp;
use crate::validate;

/// Chat v2's maximum `PageSize` for invites.
pub const MAX_PAGE_SIZE: usize = 100;

/// Adds the invite routes under `invites` (`…/Channels/{CH}/Invites`).
pub fn mount(router: Router<AppState>, invites: &str) -> Router<AppState> {
    router.route(invites, get(list).post(create)).route(&format!("{invites}/{{Sid}}"), get(fetch).delete(delete))
}

/// An invite's path: its channel and `IN…` SID. A malformed SID names nothing (404).
struct InvitePath {
    scope: ConversationScope,
    sid: InviteSid,
}

impl<S: Send + Sync> FromRequestParts<S> for InvitePath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let scope = ConversationScope::from_request_parts(parts, state).await?;
        let params = path_params(parts, state).await?;
        let sid = params.get("Sid").and_then(|raw| raw.parse().ok()).ok_or(ApiError::NotFound)?;
        Ok(Self { scope, sid })
    }
}

/// Invite a user: <https://www.twilio.com/docs/chat/rest/invite-resource#create-an-invite-resource>.
/// `RoleSid` must name a channel role of the service; without it the member's default.
async fn create(
    ApiCall { state, account, base }: ApiCall,
    scope: ConversationScope,
    TwilioForm(form): TwilioForm<Vec<(String, String)>>,
) -> Result<(StatusCode, Json<InviteResource>), ChatError> {
    let form = FormPairs(form);
    let identity =
        validate::name(form.one("Identity").map(str::to_owned), ApiError::invalid("Identity", InvalidValue::TooLong))?
            .filter(|identity| !identity.is_empty())
            .ok_or_else(|| ApiError::invalid("Identity", InvalidValue::Missing))?;
    let role_sid: Option<RoleSid> = form.sid("RoleSid")?;
    super::service_exists(&state, account, scope.service)?;
    let located =
        state.store.create_invite(account, scope.service, &scope.conversation, NewInvite { identity, role_sid })?;
    Ok((StatusCode::CREATED, Json(InviteResource::new(account, &base, located))))
}

/// Fetch an invite: <https://www.twilio.com/docs/chat/rest/invite-resource#fetch-an-invite-resource>
async fn fetch(ApiCall { state, account, base }: ApiCall, path: InvitePath) -> Result<Json<InviteResource>, ChatError> {
    super::service_exists(&state, account, path.scope.service)?;
    let located = state.store.fetch_invite(account, path.scope.service, &path.scope.conversation, path.sid)?;
    Ok(Json(InviteResource::new(account, &base, located)))
}

/// List a channel's invites, `Identity` repeatable: <https://www.twilio.com/docs/chat/rest/invite-resource#read-multiple-invite-resources>
async fn list(
    ApiCall { state, account, base }: ApiCall,
    scope: ConversationScope,
    TwilioQuery(pairs): TwilioQuery<Vec<(String, String)>>,
) -> Result<Json<ListBody<InviteResource>>, ChatError> {
    let pairs = FormPairs(pairs);
    let value = |name: &str| pairs.one(name).map(str::to_owned);
    let page = PageParams { page_size: value("PageSize"), page: value("Page"), page_token: value("PageToken") };
    let request = PageRequest::parse(&page, Order::Asc, MAX_PAGE_SIZE)?;
    let identities: Vec<String> = pairs.all("Identity").unwrap_or_default().into_iter().map(str::to_owned).collect();
    super::service_exists(&state, account, scope.service)?;
    let located = state.store.list_invites(account, scope.service, &scope.conversation, &identities, &request)?;
    let (service, channel) = (located.chat_service_sid, located.conversation_sid);
    let path = format!("/v2/Services/{service}/Channels/{channel}/Invites");
    let filters = identities.iter().map(|identity| ("Identity", identity.clone())).collect();
    let meta = PageLinks { base: &base, path, filters }.meta(&request, &located.value, "invites");
    let records =
        located.value.items.into_iter().map(|invite| InviteResource::at(account, &base, service, invite)).collect();
    Ok(Json(ListBody { records, meta }))
}

/// Delete an invite: <https://www.twilio.com/docs/chat/rest/invite-resource#delete-an-invite-resource>
async fn delete(ApiCall { state, account, .. }: ApiCall, path: InvitePath) -> Result<StatusCode, ChatError> {
    super::service_exists(&state, account, path.scope.service)?;
    state.store.delete_invite(account, path.scope.service, &path.scope.conversation, path.sid)?;
    Ok(StatusCode::NO_CONTENT)
}

/// An invite as Chat v2 shows it, in the key order of Twilio's example.
#[derive(Debug, Serialize)]
struct InviteResource {
    account_sid: AccountSid,
    channel_sid: ConversationSid,
    created_by: Option<Arc<str>>,
    date_created: Timestamp,
    date_updated: Timestamp,
    identity: Arc<str>,
    role_sid: RoleSid,
    service_sid: ChatServiceSid,
    sid: InviteSid,
    url: String,
}

impl InviteResource {
    fn new(account: AccountSid, base: &str, located: Located<Invite>) -> Self {
        Self::at(account, base, located.chat_service_sid, located.value)
    }

    fn at(account_sid: AccountSid, base: &str, service: ChatServiceSid, invite: Invite) -> Self {
        let (channel, sid) = (invite.conversation_sid, invite.sid);
        Self {
            account_sid,
            channel_sid: channel,
            created_by: invite.created_by,
            date_created: invite.date_created,
            date_updated: invite.date_updated,
            identity: invite.identity,
            role_sid: invite.role_sid,
            service_sid: service,
            sid,
            url: format!("{base}/v2/Services/{service}/Channels/{channel}/Invites/{sid}"),
        }
    }
}
