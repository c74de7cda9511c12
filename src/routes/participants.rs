//! The Conversation Participant resource, on both URL forms:
//! `/v1/Conversations/{CH}/Participants[/{MB or identity}]` and
//! `/v1/Services/{IS}/Conversations/{CH}/Participants[/…]`.
//! <https://www.twilio.com/docs/conversations/api/conversation-participant-resource>

use std::sync::Arc;

use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, InvalidValue};
use crate::extract::{ApiCall, ConversationScope, ParticipantPath, TwilioForm, TwilioQuery, WebhookEnabled};
use crate::pagination::{ListBody, Order, PageLinks, PageParams, PageRequest};
use crate::sid::{AccountSid, ChatServiceSid, ConversationSid, ParticipantSid, RoleSid};
use crate::state::AppState;
use crate::store::Located;
use crate::store::ServiceScope;
use crate::store::model::{Participant, ParticipantFields};
use crate::store::webhook_model::WebhookEvent;
use crate::time::Timestamp;
use crate::urls::{ConversationUrl, Href};
use crate::validate;

use super::hooks;

/// Twilio's maximum `PageSize` for participants.
pub const MAX_PAGE_SIZE: usize = 100;

/// Adds the participant routes under `participants` (`…/Conversations/{CH}/Participants`).
pub fn mount(router: Router<AppState>, participants: &str) -> Router<AppState> {
    router
        .route(participants, get(list).post(create))
        .route(&format!("{participants}/{{ParticipantSid}}"), get(fetch).post(update).delete(delete))
}

/// Create and update parameters (`MessagingBinding.Address` on create only).
#[derive(Debug, Default, Deserialize)]
struct ParticipantParams {
    #[serde(rename = "Identity")]
    identity: Option<String>,
    #[serde(rename = "MessagingBinding.Address")]
    address: Option<String>,
    #[serde(rename = "MessagingBinding.ProxyAddress")]
    proxy_address: Option<String>,
    #[serde(rename = "MessagingBinding.ProjectedAddress")]
    projected_address: Option<String>,
    #[serde(rename = "Attributes")]
    attributes: Option<String>,
    #[serde(rename = "RoleSid")]
    role_sid: Option<String>,
    #[serde(rename = "LastReadMessageIndex")]
    last_read_message_index: Option<String>,
    #[serde(rename = "LastReadTimestamp")]
    last_read_timestamp: Option<String>,
    #[serde(rename = "DateCreated")]
    date_created: Option<String>,
    #[serde(rename = "DateUpdated")]
    date_updated: Option<String>,
}

impl ParticipantParams {
    fn validate(self) -> Result<ParticipantFields, ApiError> {
        let address = |value: Option<String>, name: &'static str| {
            validate::name(value, ApiError::invalid(name, InvalidValue::LongerThan(validate::NAME_MAX_CHARS)))
        };
        Ok(ParticipantFields {
            identity: address(self.identity, "Identity")?,
            address: address(self.address, "MessagingBinding.Address")?,
            proxy_address: address(self.proxy_address, "MessagingBinding.ProxyAddress")?,
            projected_address: address(self.projected_address, "MessagingBinding.ProjectedAddress")?,
            attributes: validate::attributes(self.attributes, validate::MESSAGE_ATTRIBUTES_MAX_BYTES)?,
            role_sid: self
                .role_sid
                .map(|raw| {
                    raw.parse::<RoleSid>().map_err(|_| ApiError::invalid("RoleSid", InvalidValue::Malformed(raw)))
                })
                .transpose()?,
            last_read_message_index: validate::message_index("LastReadMessageIndex", self.last_read_message_index)?,
            last_read_timestamp: validate::instant("LastReadTimestamp", self.last_read_timestamp)?,
            date_created: validate::date_created(self.date_created.as_deref())?,
            date_updated: validate::date_updated(self.date_updated.as_deref())?,
        })
    }
}

/// Add a participant: <https://www.twilio.com/docs/conversations/api/conversation-participant-resource#add-a-conversation-participant-sms>
async fn create(
    ApiCall { state, account, base }: ApiCall,
    scope: ConversationScope,
    webhooks: WebhookEnabled,
    TwilioForm(params): TwilioForm<ParticipantParams>,
) -> Result<(StatusCode, Json<ParticipantResource>), ApiError> {
    let fields = params.validate()?;
    match (&fields.identity, &fields.address, &fields.proxy_address) {
        (None, None, _) => {
            return Err(ApiError::invalid("Identity", InvalidValue::EitherOr("MessagingBinding.Address")));
        }
        (_, Some(_), None) => {
            let problem = InvalidValue::RequiredWith("MessagingBinding.Address");
            return Err(ApiError::invalid("MessagingBinding.ProxyAddress", problem));
        }
        _ => {}
    }
    let origin = webhooks.origin();
    if let Some(origin) = &origin {
        hooks::participant_add(&state, account, &scope, &fields, origin).await?;
    }
    let store = hooks::writer(&state, origin.as_ref());
    let located = store.create_participant(account, scope.service, &scope.conversation, fields)?;
    Ok((StatusCode::CREATED, Json(ParticipantResource::new(account, base, scope.service, located))))
}

/// Fetch a participant by SID or identity: <https://www.twilio.com/docs/conversations/api/conversation-participant-resource#fetch-a-conversationparticipant-resource>
async fn fetch(
    ApiCall { state, account, base }: ApiCall,
    path: ParticipantPath,
) -> Result<Json<ParticipantResource>, ApiError> {
    let scope = path.scope;
    let located = state.store.fetch_participant(account, scope.service, &scope.conversation, &path.participant)?;
    Ok(Json(ParticipantResource::new(account, base, scope.service, located)))
}

/// List a conversation's participants: <https://www.twilio.com/docs/conversations/api/conversation-participant-resource#read-multiple-conversationparticipant-resources>
async fn list(
    ApiCall { state, account, base }: ApiCall,
    scope: ConversationScope,
    TwilioQuery(params): TwilioQuery<PageParams>,
) -> Result<Json<ListBody<ParticipantResource>>, ApiError> {
    let request = PageRequest::parse(&params, Order::Asc, MAX_PAGE_SIZE)?;
    let located = state.store.list_participants(account, scope.service, &scope.conversation, &request)?;
    let url = ConversationUrl::on_form(base, scope.service, located.chat_service_sid, located.conversation_sid);
    let links = PageLinks { base: &url.base, path: url.path() + "/Participants", filters: Vec::new() };
    let meta = links.meta(&request, &located.value, "participants");
    let records = located
        .value
        .items
        .into_iter()
        .map(|participant| ParticipantResource { account_sid: account, url: url.clone(), participant })
        .collect();
    Ok(Json(ListBody { records, meta }))
}

/// Update a participant: <https://www.twilio.com/docs/conversations/api/conversation-participant-resource#update-a-conversationparticipant-resource>
async fn update(
    ApiCall { state, account, base }: ApiCall,
    path: ParticipantPath,
    webhooks: WebhookEnabled,
    TwilioForm(params): TwilioForm<ParticipantParams>,
) -> Result<Json<ParticipantResource>, ApiError> {
    if params.address.is_some() {
        return Err(ApiError::invalid("MessagingBinding.Address", InvalidValue::Immutable));
    }
    let fields = params.validate()?;
    let scope = path.scope;
    let origin = webhooks.origin();
    if let Some(origin) = &origin {
        let kind = WebhookEvent::ParticipantUpdate;
        hooks::participant_change(&state, account, &scope, &path.participant, kind, origin).await?;
    }
    let store = hooks::writer(&state, origin.as_ref());
    let located = store.update_participant(account, scope.service, &scope.conversation, &path.participant, fields)?;
    Ok(Json(ParticipantResource::new(account, base, scope.service, located)))
}

/// Remove a participant: <https://www.twilio.com/docs/conversations/api/conversation-participant-resource#delete-a-conversationparticipant-resource>
async fn delete(
    ApiCall { state, account, .. }: ApiCall,
    path: ParticipantPath,
    webhooks: WebhookEnabled,
) -> Result<StatusCode, ApiError> {
    let scope = path.scope;
    let origin = webhooks.origin();
    if let Some(origin) = &origin {
        let kind = WebhookEvent::ParticipantRemove;
        hooks::participant_change(&state, account, &scope, &path.participant, kind, origin).await?;
    }
    let store = hooks::writer(&state, origin.as_ref());
    store.delete_participant(account, scope.service, &scope.conversation, &path.participant)?;
    Ok(StatusCode::NO_CONTENT)
}

/// A participant as Twilio renders it on the request's URL form.
#[derive(Debug)]
pub struct ParticipantResource {
    account_sid: AccountSid,
    url: ConversationUrl,
    participant: Participant,
}

impl ParticipantResource {
    fn new(account_sid: AccountSid, base: Arc<str>, scope: ServiceScope, located: Located<Participant>) -> Self {
        let url = ConversationUrl::on_form(base, scope, located.chat_service_sid, located.conversation_sid);
        Self { account_sid, url, participant: located.value }
    }
}

/// The wire shape, in the key order of Twilio's examples.
#[derive(Serialize)]
struct ParticipantWire<'a> {
    account_sid: AccountSid,
    #[serde(skip_serializing_if = "Option::is_none")]
    chat_service_sid: Option<ChatServiceSid>,
    conversation_sid: ConversationSid,
    sid: ParticipantSid,
    identity: Option<&'a str>,
    attributes: &'a str,
    messaging_binding: Option<BindingWire<'a>>,
    role_sid: RoleSid,
    date_created: Timestamp,
    date_updated: Timestamp,
    url: Href<'a>,
    last_read_message_index: Option<u64>,
    last_read_timestamp: Option<Timestamp>,
}

/// `messaging_binding`: only the addresses that are set, as in Twilio's examples.
#[derive(Serialize)]
struct BindingWire<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    address: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    proxy_address: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    projected_address: Option<&'a str>,
}

impl Serialize for ParticipantResource {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let participant = &self.participant;
        ParticipantWire {
            account_sid: self.account_sid,
            chat_service_sid: self.url.shown_service(),
            conversation_sid: self.url.conversation,
            sid: participant.sid,
            identity: participant.identity.as_deref(),
            attributes: participant.attributes.as_deref().unwrap_or("{}"),
            messaging_binding: participant.binding.as_ref().map(|binding| BindingWire {
                kind: binding.kind(),
                address: binding.address.as_deref(),
                proxy_address: binding.proxy_address.as_deref(),
                projected_address: binding.projected_address.as_deref(),
            }),
            role_sid: participant.role_sid,
            date_created: participant.date_created,
            date_updated: participant.date_updated,
            url: self.url.participant(participant.sid),
            last_read_message_index: participant.last_read_message_index,
            last_read_timestamp: participant.last_read_timestamp,
        }
        .serialize(serializer)
    }
}
