//! The Chat v2 Member resource, `/v2/Services/{IS}/Channels/{CH}/Members[/{MB or identity}]`:
//! a channel's members are its conversation's participants with an identity (chat users;
//! SMS and WhatsApp participants are not Chat members), shown in Chat's representation.
//! <https://www.twilio.com/docs/chat/rest/member-resource>

use std::sync::Arc;

use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::ChatError;
use crate::error::{ApiError, InvalidValue};
use crate::extract::{ApiCall, ConversationScope, ParticipantPath, TwilioForm, TwilioQuery, WebhookEnabled};
use crate::pagination::{ListBody, Order, PageLinks, PageParams, PageRequest};
use crate::routes::hooks;
use crate::sid::{AccountSid, ChatServiceSid, ConversationSid, ParticipantSid, RoleSid};
use crate::state::AppState;
use crate::store::model::{Participant, ParticipantFields};
use crate::store::{Located, ParticipantRef, StoreError};
use crate::time::Timestamp;
use crate::validate;

/// Chat v2's maximum `PageSize` for members.
pub const MAX_PAGE_SIZE: usize = 100;

/// Adds the member routes under `members` (`…/Channels/{CH}/Members`).
pub fn mount(router: Router<AppState>, members: &str) -> Router<AppState> {
    router
        .route(members, get(list).post(create))
        .route(&format!("{members}/{{ParticipantSid}}"), get(fetch).post(update).delete(delete))
}

/// Create and update parameters; `Identity` counts on create only.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MemberParams {
    identity: Option<String>,
    role_sid: Option<String>,
    last_consumed_message_index: Option<String>,
    last_consumption_timestamp: Option<String>,
    date_created: Option<String>,
    date_updated: Option<String>,
    attributes: Option<String>,
}

impl MemberParams {
    fn validate(self) -> Result<ParticipantFields, ApiError> {
        let role_sid = self
            .role_sid
            .map(|raw| raw.parse::<RoleSid>().map_err(|_| ApiError::invalid("RoleSid", InvalidValue::Malformed(raw))))
            .transpose()?;
        let last_read_message_index =
            validate::message_index("LastConsumedMessageIndex", self.last_consumed_message_index)?;
        let last_read_timestamp = validate::instant("LastConsumptionTimestamp", self.last_consumption_timestamp)?;
        Ok(ParticipantFields {
            identity: validate::name(self.identity, ApiError::invalid("Identity", InvalidValue::TooLong))?,
            attributes: validate::attributes(self.attributes, validate::MESSAGE_ATTRIBUTES_MAX_BYTES)?,
            role_sid,
            last_read_message_index,
            last_read_timestamp,
            date_created: validate::date_created(self.date_created.as_deref())?,
            date_updated: validate::date_updated(self.date_updated.as_deref())?,
            ..ParticipantFields::default()
        })
    }
}

/// Chat's codes for members: a duplicate identity is 50404, a missing member 50402.
fn member_error(error: StoreError) -> ChatError {
    match error {
        StoreError::ParticipantExists => ChatError(ApiError::MemberExists),
        StoreError::NotFound => ChatError(ApiError::MemberNotFound),
        other => other.into(),
    }
}

/// The member `path` names: a participant with an identity (an SMS or WhatsApp
/// participant is no Chat member), with Chat's codes when there is none.
fn member(state: &AppState, account: AccountSid, path: &ParticipantPath) -> Result<Located<Participant>, ChatError> {
    let scope = &path.scope;
    super::service_exists(state, account, scope.service)?;
    let found = state
        .store
        .fetch_participant(account, scope.service, &scope.conversation, &path.participant)
        .map_err(member_error)?;
    match found.value.identity {
        Some(_) => Ok(found),
        None => Err(ApiError::MemberNotFound.into()),
    }
}

/// Add a member: <https://www.twilio.com/docs/chat/rest/member-resource#create-a-member-resource>
async fn create(
    ApiCall { state, account, base }: ApiCall,
    scope: ConversationScope,
    webhooks: WebhookEnabled,
    TwilioForm(params): TwilioForm<MemberParams>,
) -> Result<(StatusCode, Json<MemberResource>), ChatError> {
    let fields = params.validate()?;
    if fields.identity.is_none() {
        return Err(ApiError::invalid("Identity", InvalidValue::Missing).into());
    }
    super::service_exists(&state, account, scope.service)?;
    let origin = webhooks.origin();
    let store = hooks::writer(&state, origin.as_ref());
    let located =
        store.create_participant(account, scope.service, &scope.conversation, fields).map_err(member_error)?;
    Ok((StatusCode::CREATED, Json(MemberResource::new(account, &base, located))))
}

/// Fetch a member by SID or identity: <https://www.twilio.com/docs/chat/rest/member-resource#fetch-a-member-resource>
async fn fetch(
    ApiCall { state, account, base }: ApiCall,
    path: ParticipantPath,
) -> Result<Json<MemberResource>, ChatError> {
    let located = member(&state, account, &path)?;
    Ok(Json(MemberResource::new(account, &base, located)))
}

/// List a channel's members: <https://www.twilio.com/docs/chat/rest/member-resource#read-multiple-member-resources>
async fn list(
    ApiCall { state, account, base }: ApiCall,
    scope: ConversationScope,
    // `PageSize`, `Page`, `PageToken`, and `Identity`, which may be repeated.
    TwilioQuery(pairs): TwilioQuery<Vec<(String, String)>>,
) -> Result<Json<ListBody<MemberResource>>, ChatError> {
    let value = |name: &str| pairs.iter().find(|(key, _)| key == name).map(|(_, value)| value.clone());
    let page = PageParams { page_size: value("PageSize"), page: value("Page"), page_token: value("PageToken") };
    let request = PageRequest::parse(&page, Order::Asc, MAX_PAGE_SIZE)?;
    let identities: Vec<String> =
        pairs.iter().filter(|(key, _)| key == "Identity").map(|(_, value)| value.clone()).collect();
    let keep = |participant: &Participant| {
        participant.identity.as_deref().is_some_and(|identity| {
            identities.is_empty() || identities.iter().any(|wanted| wanted.as_str() == identity)
        })
    };
    let located = state.store.list_participants_where(account, scope.service, &scope.conversation, &request, keep)?;
    let (service, channel) = (located.chat_service_sid, located.conversation_sid);
    let path = format!("/v2/Services/{service}/Channels/{channel}/Members");
    let filters = identities.iter().map(|identity| ("Identity", identity.clone())).collect();
    let links = PageLinks { base: &base, path, filters };
    let meta = links.meta(&request, &located.value, "members");
    let records = located
        .value
        .items
        .into_iter()
        .map(|participant| MemberResource::at(account, &base, service, channel, participant))
        .collect();
    Ok(Json(ListBody { records, meta }))
}

/// Update a member: <https://www.twilio.com/docs/chat/rest/member-resource#update-a-member-resource>
async fn update(
    ApiCall { state, account, base }: ApiCall,
    path: ParticipantPath,
    webhooks: WebhookEnabled,
    TwilioForm(params): TwilioForm<MemberParams>,
) -> Result<Json<MemberResource>, ChatError> {
    // The identity of a member is fixed; Chat's update has no such parameter.
    let fields = ParticipantFields { identity: None, ..params.validate()? };
    let current = member(&state, account, &path)?;
    let scope = path.scope;
    let origin = webhooks.origin();
    let store = hooks::writer(&state, origin.as_ref());
    let by_sid = ParticipantRef::Sid(current.value.sid);
    let located =
        store.update_participant(account, scope.service, &scope.conversation, &by_sid, fields).map_err(member_error)?;
    Ok(Json(MemberResource::new(account, &base, located)))
}

/// Remove a member: <https://www.twilio.com/docs/chat/rest/member-resource#delete-a-member-resource>
async fn delete(
    ApiCall { state, account, .. }: ApiCall,
    path: ParticipantPath,
    webhooks: WebhookEnabled,
) -> Result<StatusCode, ChatError> {
    let current = member(&state, account, &path)?;
    let scope = path.scope;
    let origin = webhooks.origin();
    let store = hooks::writer(&state, origin.as_ref());
    let by_sid = ParticipantRef::Sid(current.value.sid);
    store.delete_participant(account, scope.service, &scope.conversation, &by_sid).map_err(member_error)?;
    Ok(StatusCode::NO_CONTENT)
}

/// A participant as Chat v2 shows it: a member.
#[derive(Debug, Serialize)]
pub struct MemberResource {
    sid: ParticipantSid,
    account_sid: AccountSid,
    channel_sid: ConversationSid,
    service_sid: ChatServiceSid,
    identity: Option<Arc<str>>,
    date_created: Timestamp,
    date_updated: Timestamp,
    role_sid: RoleSid,
    last_consumed_message_index: Option<u64>,
    last_consumption_timestamp: Option<Timestamp>,
    url: String,
    attributes: Arc<str>,
}

impl MemberResource {
    fn new(account: AccountSid, base: &str, located: Located<Participant>) -> Self {
        Self::at(account, base, located.chat_service_sid, located.conversation_sid, located.value)
    }

    fn at(
        account: AccountSid,
        base: &str,
        service: ChatServiceSid,
        channel: ConversationSid,
        participant: Participant,
    ) -> Self {
        let sid = participant.sid;
        Self {
            sid,
            account_sid: account,
            channel_sid: channel,
            service_sid: service,
            identity: participant.identity,
            date_created: participant.date_created,
            date_updated: participant.date_updated,
            role_sid: participant.role_sid,
            last_consumed_message_index: participant.last_read_message_index,
            last_consumption_timestamp: participant.last_read_timestamp,
            url: format!("{base}/v2/Services/{service}/Channels/{channel}/Members/{sid}"),
            attributes: participant.attributes.unwrap_or_else(|| Arc::from("{}")),
        }
    }
}
