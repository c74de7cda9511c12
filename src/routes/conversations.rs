//! The Conversation resource on both URL forms, `/v1/Conversations[/{CH}]` and
//! `/v1/Services/{IS}/Conversations[/{CH}]`, where `{CH}` may also be the `unique_name`.
//! <https://www.twilio.com/docs/conversations/api/conversation-resource>

use std::sync::Arc;

use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, Expected, InvalidValue};
use crate::extract::{ApiCall, ConversationScope, ServicePath, TwilioForm, TwilioQuery, WebhookEnabled};
use crate::pagination::{ListBody, Order, PageLinks, PageParams, PageRequest};
use crate::sid::{AccountSid, ChatServiceSid, ConversationSid, MessagingServiceSid};
use crate::state::AppState;
use crate::store::model::{
    Conversation, ConversationFields, ConversationFilter, ConversationSnapshot, ConversationState, ConversationTimers,
    ParticipantFields,
};
use crate::store::{ServiceScope, default_messaging_service_sid};
use crate::time::{InvalidTimestamp, Timestamp, parse_duration_seconds};
use crate::urls::{ConversationUrl, Href};
use crate::validate;

use super::{hooks, messages, participants};

/// Twilio's maximum `PageSize` for conversations.
pub const MAX_PAGE_SIZE: usize = 100;

/// Adds the conversation routes under `conversations` (one URL form's `…/Conversations`),
/// with their messages and participants.
pub fn mount(router: Router<AppState>, conversations: &str) -> Router<AppState> {
    let conversation = format!("{conversations}/{{ConversationSid}}");
    let router = router
        .route(conversations, get(list).post(create))
        .route(&conversation, get(fetch).post(update).delete(delete));
    let router = messages::mount(router, &format!("{conversation}/Messages"));
    participants::mount(router, &format!("{conversation}/Participants"))
}

/// Create and update parameters. `MessagingServiceSid` and `Bindings.*` are accepted and
/// ignored: SMS routing is not emulated.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ConversationParams {
    friendly_name: Option<String>,
    unique_name: Option<String>,
    attributes: Option<String>,
    state: Option<String>,
    date_created: Option<String>,
    date_updated: Option<String>,
    #[serde(rename = "Timers.Inactive")]
    timers_inactive: Option<String>,
    #[serde(rename = "Timers.Closed")]
    timers_closed: Option<String>,
}

/// Twilio's shortest timers: one minute to inactive (50375), ten minutes to closed (50376).
const MIN_INACTIVE_TIMER_SECONDS: i64 = 60;
const MIN_CLOSED_TIMER_SECONDS: i64 = 600;

/// A `Timers.*` value: an empty one clears the timer (`Some(None)`), any other must be an
/// ISO 8601 duration of at least `min` seconds.
fn parse_timer(
    value: Option<String>,
    min: i64,
    invalid: ApiError,
    too_short: ApiError,
) -> Result<Option<Option<i64>>, ApiError> {
    let Some(value) = value else { return Ok(None) };
    if value.is_empty() {
        return Ok(Some(None));
    }
    match parse_duration_seconds(&value) {
        None => Err(invalid),
        Some(seconds) if seconds < min => Err(too_short),
        Some(seconds) => Ok(Some(Some(seconds))),
    }
}

impl ConversationParams {
    fn validate(self) -> Result<ConversationFields, ApiError> {
        let unique_name = validate::unique_name(self.unique_name, ApiError::UniqueNameIsSid)?;
        Ok(ConversationFields {
            friendly_name: validate::name(self.friendly_name, ApiError::FriendlyNameTooLong)?,
            unique_name,
            attributes: validate::attributes(self.attributes, validate::CONVERSATION_ATTRIBUTES_MAX_BYTES)?,
            state: self.state.as_deref().map(parse_state).transpose()?,
            // Chat v2 fields: a conversation is a private channel created by `system`.
            channel_type: None,
            created_by: None,
            date_created: validate::date_created(self.date_created.as_deref())?,
            date_updated: validate::date_updated(self.date_updated.as_deref())?,
            inactive_timer: parse_timer(
                self.timers_inactive,
                MIN_INACTIVE_TIMER_SECONDS,
                ApiError::InactiveTimerInvalid,
                ApiError::InactiveTimerTooShort,
            )?,
            closed_timer: parse_timer(
                self.timers_closed,
                MIN_CLOSED_TIMER_SECONDS,
                ApiError::ClosedTimerInvalid,
                ApiError::ClosedTimerTooShort,
            )?,
        })
    }
}

fn parse_state(value: &str) -> Result<ConversationState, ApiError> {
    ConversationState::parse(value).ok_or_else(|| {
        let (value, expected) = (value.to_owned(), Expected::OneOf("initializing, inactive, active, closed"));
        ApiError::invalid("State", InvalidValue::NotA { value, expected })
    })
}

/// `StartDate` or `EndDate`, read with `parse`; 20001 naming the parameter when unreadable.
fn range_date<T>(
    name: &'static str,
    value: Option<&str>,
    parse: fn(&str) -> Result<T, InvalidTimestamp>,
) -> Result<Option<T>, ApiError> {
    value
        .map(|raw| parse(raw).map_err(|_| ApiError::invalid(name, InvalidValue::Malformed(raw.to_owned()))))
        .transpose()
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListParams {
    state: Option<String>,
    start_date: Option<String>,
    end_date: Option<String>,
    #[serde(flatten)]
    page: PageParams,
}

/// Create a conversation: <https://www.twilio.com/docs/conversations/api/conversation-resource#create-a-conversation-resource>
async fn create(
    ApiCall { state, account, base }: ApiCall,
    ServicePath(scope): ServicePath,
    webhooks: WebhookEnabled,
    TwilioForm(params): TwilioForm<ConversationParams>,
) -> Result<(StatusCode, Json<ConversationResource>), ApiError> {
    let mut fields = params.validate()?;
    let origin = webhooks.origin();
    if let Some(origin) = &origin {
        fields = hooks::conversation_add(&state, account, scope, fields, origin, |_| {}).await?;
    }
    let conversation = hooks::writer(&state, origin.as_ref()).create_conversation(account, scope, fields)?;
    Ok((StatusCode::CREATED, Json(ConversationResource::new(account, base, scope, conversation))))
}

/// The routes of a conversation created with its participants, on both URL forms.
pub fn with_participants_router() -> Router<AppState> {
    Router::new()
        .route("/v1/ConversationWithParticipants", post(create_with_participants))
        .route("/v1/Services/{ChatServiceSid}/ConversationWithParticipants", post(create_with_participants))
}

/// Twilio's limit: "The maximum number of participants that can be added in a single
/// request is 10."
const MAX_PARTICIPANTS_PER_CREATE: usize = 10;

/// One `Participant` of a create with participants: a JSON object with the Participant
/// resource's parameters, in the API's snake_case.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ParticipantJson {
    identity: Option<String>,
    attributes: Option<String>,
    role_sid: Option<String>,
    messaging_binding: Option<BindingJson>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BindingJson {
    address: Option<String>,
    proxy_address: Option<String>,
    projected_address: Option<String>,
}

impl ParticipantJson {
    /// Parses and checks one `Participant` value as the Participant resource checks its
    /// parameters: an identity or an address, an address with its proxy address.
    fn parse(raw: &str) -> Result<ParticipantFields, ApiError> {
        let json: Self = serde_json::from_str(raw)
            .map_err(|error| ApiError::invalid("Participant", InvalidValue::Unparsable(error.to_string())))?;
        let binding = json.messaging_binding.unwrap_or(BindingJson {
            address: None,
            proxy_address: None,
            projected_address: None,
        });
        let name = |value: Option<String>, parameter: &'static str| {
            validate::name(value, ApiError::invalid(parameter, InvalidValue::LongerThan(validate::NAME_MAX_CHARS)))
        };
        let fields = ParticipantFields {
            identity: name(json.identity, "Participant.identity")?,
            address: name(binding.address, "Participant.messaging_binding.address")?,
            proxy_address: name(binding.proxy_address, "Participant.messaging_binding.proxy_address")?,
            projected_address: name(binding.projected_address, "Participant.messaging_binding.projected_address")?,
            attributes: validate::attributes(json.attributes, validate::MESSAGE_ATTRIBUTES_MAX_BYTES)?,
            role_sid: json
                .role_sid
                .map(|raw| {
                    raw.parse().map_err(|_| ApiError::invalid("Participant.role_sid", InvalidValue::Malformed(raw)))
                })
                .transpose()?,
            ..ParticipantFields::default()
        };
        match (&fields.identity, &fields.address, &fields.proxy_address) {
            (None, None, _) => Err(ApiError::invalid(
                "Participant.identity",
                InvalidValue::EitherOr("Participant.messaging_binding.address"),
            )),
            (_, Some(_), None) => Err(ApiError::invalid(
                "Participant.messaging_binding.proxy_address",
                InvalidValue::RequiredWith("Participant.messaging_binding.address"),
            )),
            _ => Ok(fields),
        }
    }
}

/// Create a conversation with its participants, all or nothing:
/// <https://www.twilio.com/docs/conversations/api/conversation-with-participants-resource>
async fn create_with_participants(
    ApiCall { state, account, base }: ApiCall,
    ServicePath(scope): ServicePath,
    webhooks: WebhookEnabled,
    // `Participant` repeats, which a struct cannot take: the form is read as pairs.
    TwilioForm(pairs): TwilioForm<Vec<(String, String)>>,
) -> Result<(StatusCode, Json<ConversationResource>), ApiError> {
    let (participants, conversation): (Vec<_>, Vec<_>) = pairs.into_iter().partition(|(name, _)| name == "Participant");
    if participants.len() > MAX_PARTICIPANTS_PER_CREATE {
        let problem = InvalidValue::NotA {
            value: participants.len().to_string(),
            expected: Expected::OneOf("at most 10 participants"),
        };
        return Err(ApiError::invalid("Participant", problem));
    }
    let participants =
        participants.iter().map(|(_, raw)| ParticipantJson::parse(raw)).collect::<Result<Vec<_>, _>>()?;
    // The other parameters are the conversation's, read as a create reads them.
    let encoded = serde_urlencoded::to_string(&conversation).unwrap_or_default();
    let params: ConversationParams = serde_urlencoded::from_str(&encoded)
        .map_err(|error| ApiError::invalid("parameters", InvalidValue::Unparsable(error.to_string())))?;
    let mut fields = params.validate()?;
    let origin = webhooks.origin();
    if let Some(origin) = &origin {
        fields = hooks::conversation_add(&state, account, scope, fields, origin, |_| {}).await?;
    }
    let store = hooks::writer(&state, origin.as_ref());
    let (conversation, _) = store.create_conversation_with_participants(account, scope, fields, participants)?;
    Ok((StatusCode::CREATED, Json(ConversationResource::new(account, base, scope, conversation))))
}

/// Fetch a conversation by SID or unique name: <https://www.twilio.com/docs/conversations/api/conversation-resource#fetch-a-conversation-resource>
async fn fetch(
    ApiCall { state, account, base }: ApiCall,
    scope: ConversationScope,
) -> Result<Json<ConversationResource>, ApiError> {
    let conversation = state.store.fetch_conversation(account, scope.service, &scope.conversation)?;
    Ok(Json(ConversationResource::new(account, base, scope.service, conversation)))
}

/// List a service's conversations: <https://www.twilio.com/docs/conversations/api/conversation-resource#read-multiple-conversation-resources>
async fn list(
    ApiCall { state, account, base }: ApiCall,
    ServicePath(scope): ServicePath,
    TwilioQuery(params): TwilioQuery<ListParams>,
) -> Result<Json<ListBody<ConversationResource>>, ApiError> {
    let request = PageRequest::parse(&params.page, Order::Asc, MAX_PAGE_SIZE)?;
    let filter = ConversationFilter {
        state: params.state.as_deref().map(parse_state).transpose()?,
        channel_type: None,
        created_from: range_date("StartDate", params.start_date.as_deref(), Timestamp::parse_range_start)?,
        // An end past the last printable instant leaves the range open.
        created_before: range_date("EndDate", params.end_date.as_deref(), Timestamp::parse_range_end)?.flatten(),
    };
    let selection = state.store.list_conversations(account, scope, &filter, &request)?;
    let path = match scope {
        ServiceScope::Default => "/v1/Conversations".to_owned(),
        ServiceScope::Explicit(service) => format!("/v1/Services/{service}/Conversations"),
    };
    let echoed = [("StartDate", &params.start_date), ("EndDate", &params.end_date), ("State", &params.state)];
    let links = PageLinks {
        base: &base,
        path,
        filters: echoed.into_iter().filter_map(|(name, value)| Some((name, value.clone()?))).collect(),
    };
    let meta = links.meta(&request, &selection, "conversations");
    let records = selection
        .items
        .into_iter()
        .map(|conversation| ConversationResource::new(account, Arc::clone(&base), scope, conversation))
        .collect();
    Ok(Json(ListBody { records, meta }))
}

/// Update a conversation: <https://www.twilio.com/docs/conversations/api/conversation-resource#update-conversation>
async fn update(
    ApiCall { state, account, base }: ApiCall,
    scope: ConversationScope,
    webhooks: WebhookEnabled,
    TwilioForm(params): TwilioForm<ConversationParams>,
) -> Result<Json<ConversationResource>, ApiError> {
    let mut fields = params.validate()?;
    let origin = webhooks.origin();
    if let Some(origin) = &origin {
        fields = hooks::conversation_update(&state, account, &scope, fields, origin).await?;
    }
    let store = hooks::writer(&state, origin.as_ref());
    let conversation = store.update_conversation(account, scope.service, &scope.conversation, fields)?;
    Ok(Json(ConversationResource::new(account, base, scope.service, conversation)))
}

/// Delete a conversation and its messages: <https://www.twilio.com/docs/conversations/api/conversation-resource#delete-a-conversation-resource>
async fn delete(
    ApiCall { state, account, .. }: ApiCall,
    scope: ConversationScope,
    webhooks: WebhookEnabled,
) -> Result<StatusCode, ApiError> {
    let origin = webhooks.origin();
    if let Some(origin) = &origin {
        hooks::conversation_remove(&state, account, &scope, origin).await?;
    }
    hooks::writer(&state, origin.as_ref()).delete_conversation(account, scope.service, &scope.conversation)?;
    Ok(StatusCode::NO_CONTENT)
}

/// A conversation as Twilio renders it, with `url` and `links` on the request's URL form.
#[derive(Debug)]
pub struct ConversationResource {
    account_sid: AccountSid,
    url: ConversationUrl,
    conversation: Conversation,
}

impl ConversationResource {
    fn new(account_sid: AccountSid, base: Arc<str>, scope: ServiceScope, snapshot: ConversationSnapshot) -> Self {
        let conversation = snapshot.conversation;
        let url = ConversationUrl::on_form(base, scope, conversation.chat_service_sid, conversation.sid);
        Self { account_sid, url, conversation }
    }
}

/// The wire shape, in the key order of Twilio's examples.
#[derive(Serialize)]
struct ConversationWire<'a> {
    sid: ConversationSid,
    account_sid: AccountSid,
    chat_service_sid: ChatServiceSid,
    messaging_service_sid: MessagingServiceSid,
    friendly_name: Option<&'a str>,
    unique_name: Option<&'a str>,
    attributes: &'a str,
    date_created: Timestamp,
    date_updated: Timestamp,
    state: ConversationState,
    timers: TimersWire,
    bindings: Empty,
    url: Href<'a>,
    links: ConversationLinks<'a>,
}

/// An empty JSON object.
#[derive(Serialize)]
struct Empty {}

/// `timers`: `{}` when no timer is set, as Twilio's examples show it; otherwise both
/// instants, `null` for the one that is not set.
#[derive(Serialize)]
pub(crate) struct TimersWire {
    #[serde(skip_serializing_if = "Option::is_none")]
    date_inactive: Option<Option<Timestamp>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    date_closed: Option<Option<Timestamp>>,
}

impl From<ConversationTimers> for TimersWire {
    fn from(timers: ConversationTimers) -> Self {
        if timers.is_empty() {
            return Self { date_inactive: None, date_closed: None };
        }
        Self { date_inactive: Some(timers.date_inactive), date_closed: Some(timers.date_closed) }
    }
}

#[derive(Serialize)]
struct ConversationLinks<'a> {
    participants: Href<'a>,
    messages: Href<'a>,
    webhooks: Href<'a>,
    export: Href<'a>,
}

impl Serialize for ConversationResource {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let conversation = &self.conversation;
        ConversationWire {
            sid: conversation.sid,
            account_sid: self.account_sid,
            chat_service_sid: conversation.chat_service_sid,
            messaging_service_sid: default_messaging_service_sid(self.account_sid),
            friendly_name: conversation.friendly_name.as_deref(),
            unique_name: conversation.unique_name.as_deref(),
            attributes: conversation.attributes.as_deref().unwrap_or("{}"),
            date_created: conversation.date_created,
            date_updated: conversation.date_updated,
            state: conversation.state,
            timers: conversation.timers.into(),
            bindings: Empty {},
            url: self.url.with(""),
            links: ConversationLinks {
                participants: self.url.with("/Participants"),
                messages: self.url.with("/Messages"),
                webhooks: self.url.with("/Webhooks"),
                export: self.url.with("/Export"),
            },
        }
        .serialize(serializer)
    }
}
