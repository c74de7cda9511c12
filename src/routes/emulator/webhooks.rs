//! The webhooks' side of the control plane: the delivery log (list, one, redeliver,
//! clear), and the outside world simulated: an SMS or WhatsApp user texting in
//! (`/_emulator/inbound`) and a chat user posting through a client SDK
//! (`/_emulator/sdk/messages`). Both fire webhooks as Twilio would and answer what
//! happened, with the deliveries it caused.

use std::sync::Arc;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, InvalidValue};
use crate::extract::{ControlJson, ConversationScope, TwilioQuery};
use crate::sid::{AccountSid, ChatServiceSid, ConversationSid, MessageSid, ParticipantSid};
use crate::state::AppState;
use crate::store::model::{ConversationFields, MessageFields, ParticipantFields};
use crate::store::webhook_model::{AutoCreationType, ScopedConfiguration, ScopedTarget};
use crate::store::{AddressPair, ConversationRef, Origin, ServiceScope, Source, Upload};
use crate::validate;
use crate::webhooks::log::{Delivery, Filter, Level, Outcome};

use crate::routes::hooks;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/_emulator/webhooks/deliveries", get(list).delete(clear))
        .route("/_emulator/webhooks/deliveries/{id}", get(fetch))
        .route("/_emulator/webhooks/deliveries/{id}/redeliver", post(redeliver))
        .route("/_emulator/inbound", post(inbound))
        .route("/_emulator/sdk/messages", post(sdk_message))
}

/// `?account=AC…&conversation=CH…&event=onMessageAdded&delivered=true|false`.
#[derive(Debug, Deserialize)]
struct ListParams {
    account: Option<String>,
    conversation: Option<String>,
    event: Option<String>,
    delivered: Option<String>,
}

fn parsed<T: std::str::FromStr>(name: &'static str, raw: Option<&str>) -> Result<Option<T>, ApiError> {
    raw.map(|raw| raw.parse().map_err(|_| ApiError::invalid(name, InvalidValue::Malformed(raw.to_owned())))).transpose()
}

#[derive(Debug, Serialize)]
struct DeliveryList {
    deliveries: Vec<Arc<Delivery>>,
    /// Deliveries queued and not yet sent.
    pending: usize,
    /// Deliveries dropped since the start, because too many were waiting in their queue.
    dropped: usize,
}

/// `GET /_emulator/webhooks/deliveries`: the delivery log, oldest first.
async fn list(
    State(state): State<AppState>,
    TwilioQuery(params): TwilioQuery<ListParams>,
) -> Result<Json<DeliveryList>, ApiError> {
    let filter = Filter {
        account: parsed("account", params.account.as_deref())?,
        conversation: parsed("conversation", params.conversation.as_deref())?,
        event_type: params.event,
        delivered: parsed("delivered", params.delivered.as_deref())?,
    };
    let deliveries = state.webhooks.log().list(&filter);
    Ok(Json(DeliveryList { deliveries, pending: state.webhooks.pending(), dropped: state.webhooks.dropped() }))
}

/// A malformed id names no delivery, so it is a 404 like an unknown one.
fn parse_id(id: Result<Path<String>, PathRejection>) -> Result<u64, ApiError> {
    let Path(id) = id.map_err(|_| ApiError::NotFound)?;
    id.parse().map_err(|_| ApiError::NotFound)
}

/// `GET /_emulator/webhooks/deliveries/{id}`: one attempt, with its request and answer.
async fn fetch(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<Arc<Delivery>>, ApiError> {
    state.webhooks.log().get(parse_id(id)?).map(Json).ok_or(ApiError::NotFound)
}

/// `POST /_emulator/webhooks/deliveries/{id}/redeliver`: sends it again, as it was; the
/// new attempt.
async fn redeliver(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<Arc<Delivery>>, ApiError> {
    state.webhooks.redeliver(parse_id(id)?).await.map(Json).ok_or(ApiError::NotFound)
}

#[derive(Debug, Deserialize)]
struct ClearParams {
    account: Option<String>,
}

/// `DELETE /_emulator/webhooks/deliveries[?account=AC…]`.
async fn clear(
    State(state): State<AppState>,
    TwilioQuery(params): TwilioQuery<ClearParams>,
) -> Result<StatusCode, ApiError> {
    state.webhooks.log().clear(parsed("account", params.account.as_deref())?);
    Ok(StatusCode::NO_CONTENT)
}

/// A file sent along with an inbound message.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InboundMedia {
    content_type: String,
    filename: Option<String>,
    /// The file, Base64 (standard alphabet, padded).
    content_base64: String,
}

/// An SMS or WhatsApp message from `from` to the Twilio number `to`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Inbound {
    account_sid: String,
    /// The user's address: `+E.164`, or `whatsapp:+E.164`.
    from: String,
    /// The Twilio number (the participant's proxy address).
    to: String,
    body: Option<String>,
    media: Option<InboundMedia>,
}

/// What a simulated action did.
#[derive(Debug, Serialize)]
struct Simulated {
    /// `added` (to a conversation that exists), `autocreated` (a new conversation with its
    /// participant), or `rejected` (a pre-event webhook refused it; nothing was stored).
    outcome: &'static str,
    account_sid: AccountSid,
    chat_service_sid: Option<ChatServiceSid>,
    conversation_sid: Option<ConversationSid>,
    participant_sid: Option<ParticipantSid>,
    message_sid: Option<MessageSid>,
    index: Option<u64>,
    /// Every webhook the action caused, pre- and post-events, once each was sent.
    deliveries: Vec<DeliverySummary>,
}

#[derive(Debug, Serialize)]
struct DeliverySummary {
    id: u64,
    event_type: &'static str,
    level: Level,
    outcome: Outcome,
    url: Option<String>,
    status: Option<u16>,
}

impl Simulated {
    fn new(outcome: &'static str, account_sid: AccountSid) -> Self {
        Self {
            outcome,
            account_sid,
            chat_service_sid: None,
            conversation_sid: None,
            participant_sid: None,
            message_sid: None,
            index: None,
            deliveries: Vec::new(),
        }
    }

    /// Waits for the deliveries of `correlation` and lists them.
    async fn with_deliveries(mut self, state: &AppState, correlation: u64) -> Json<Self> {
        let log = state.webhooks.log();
        self.deliveries = state
            .webhooks
            .caused(correlation)
            .await
            .into_iter()
            .filter_map(|id| log.get(id))
            .map(|delivery| DeliverySummary {
                id: delivery.id,
                event_type: delivery.event_type,
                level: delivery.level,
                outcome: delivery.outcome,
                url: delivery.request.as_ref().map(|request| request.url.clone()),
                status: delivery.response.as_ref().map(|response| response.status),
            })
            .collect();
        Json(self)
    }
}

fn account_of(raw: &str) -> Result<AccountSid, ApiError> {
    raw.parse().map_err(|_| ApiError::invalid("account_sid", InvalidValue::Malformed(raw.to_owned())))
}

/// `POST /_emulator/inbound`: an SMS or WhatsApp user texts a Twilio number. The message
/// goes to the conversation where a participant binds the number pair (Twilio's routing
/// rule); failing that, an Address Configuration of the number with autocreation enabled
/// creates a conversation for it (onConversationAdd, onConversationAdded,
/// onParticipantAdded, onMessageAdded); failing that, nothing takes it (404).
async fn inbound(
    State(state): State<AppState>,
    ControlJson(inbound): ControlJson<Inbound>,
) -> Result<Json<Simulated>, ApiError> {
    let account = account_of(&inbound.account_sid)?;
    let (from, to) = (inbound.from.trim().to_owned(), inbound.to.trim().to_owned());
    if from.is_empty() || to.is_empty() {
        return Err(ApiError::invalid(if from.is_empty() { "from" } else { "to" }, InvalidValue::Missing));
    }
    let body = validate::body(inbound.body)?;
    let media = inbound
        .media
        .map(|media| {
            let content =
                base64::engine::general_purpose::STANDARD.decode(media.content_base64.as_bytes()).map_err(|error| {
                    ApiError::invalid("media.content_base64", InvalidValue::Unparsable(error.to_string()))
                })?;
            Ok::<_, ApiError>(Upload {
                content_type: media.content_type,
                filename: media.filename,
                author: Some(from.clone()),
                content: content.into(),
            })
        })
        .transpose()?;
    let correlation = state.webhooks.correlation();
    let source = if from.starts_with("whatsapp:") { Source::Whatsapp } else { Source::Sms };
    let origin = Origin {
        source,
        client_identity: None,
        fires_webhooks: true,
        binding: Some(AddressPair { address: from.as_str().into(), proxy_address: to.as_str().into() }),
        correlation: Some(correlation),
    };
    let writer = state.store.acting_for(origin.clone());
    let message_fields = |media_sid| MessageFields {
        author: Some(from.clone()),
        body: body.clone(),
        media_sid,
        ..MessageFields::default()
    };

    if let Some(bound) = state.store.find_binding(account, &from, &to) {
        let scope = ConversationScope {
            service: ServiceScope::Explicit(bound.chat_service_sid),
            conversation: ConversationRef::Sid(bound.conversation_sid),
        };
        let media_sid = match media {
            Some(upload) => Some(state.store.upload_media(account, bound.chat_service_sid, upload)?.sid),
            None => None,
        };
        let mut answer = Simulated::new("added", account);
        answer.chat_service_sid = Some(bound.chat_service_sid);
        answer.conversation_sid = Some(bound.conversation_sid);
        answer.participant_sid = Some(bound.value.sid);
        match hooks::message_add(&state, account, &scope, message_fields(media_sid), &origin).await {
            Ok(fields) => {
                let message = writer.create_message(account, scope.service, &scope.conversation, fields)?;
                answer.message_sid = Some(message.value.sid);
                answer.index = Some(message.value.index);
            }
            Err(ApiError::WebhookRejected) => answer.outcome = "rejected",
            Err(error) => return Err(error),
        }
        return Ok(answer.with_deliveries(&state, correlation).await);
    }

    let Some(configuration) = state.store.address_configuration_for(account, &to).filter(|c| c.auto_creation.enabled)
    else {
        return Err(ApiError::InboundUnrouted { from, to });
    };
    let auto = &configuration.auto_creation;
    let scope = auto.conversation_service_sid.map_or(ServiceScope::Default, ServiceScope::Explicit);
    // Twilio does not document the name of an autocreated conversation; the emulator
    // names it after the sender (README, "Webhooks").
    let fields = ConversationFields { friendly_name: Some(from.clone()), ..ConversationFields::default() };
    let mut answer = Simulated::new("autocreated", account);
    let pre = hooks::conversation_add(&state, account, scope, fields, &origin, |params| {
        params.put("MessagingBinding.Address", &from);
        params.put("MessagingBinding.ProxyAddress", &to);
        params.opt("MessageBody", body.as_deref());
    })
    .await;
    let fields = match pre {
        Ok(fields) => fields,
        Err(ApiError::WebhookRejected) => {
            answer.outcome = "rejected";
            return Ok(answer.with_deliveries(&state, correlation).await);
        }
        Err(error) => return Err(error),
    };
    let conversation = writer.create_conversation(account, scope, fields)?.conversation;
    let service = conversation.chat_service_sid;
    let in_conversation = ConversationRef::Sid(conversation.sid);
    // The configuration's integration, attached to the new conversation before anything
    // else happens in it, so that it sees the participant and the message.
    let attached = match auto.kind {
        AutoCreationType::Webhook => auto.webhook_url.clone().map(|url| {
            let configuration = ScopedConfiguration {
                url: Some(url),
                method: auto.webhook_method,
                filters: Some(auto.webhook_filters.clone()),
                ..ScopedConfiguration::default()
            };
            (ScopedTarget::Webhook, configuration)
        }),
        AutoCreationType::Studio => auto.studio_flow_sid.map(|flow_sid| {
            (ScopedTarget::Studio, ScopedConfiguration { flow_sid: Some(flow_sid), ..ScopedConfiguration::default() })
        }),
        AutoCreationType::Default => None,
    };
    if let Some((target, configuration)) = attached {
        let place = ServiceScope::Explicit(service);
        writer.create_conversation_webhook(account, place, &in_conversation, target, configuration, None)?;
    }
    let participant = ParticipantFields {
        address: Some(from.clone()),
        proxy_address: Some(to.clone()),
        ..ParticipantFields::default()
    };
    let participant =
        writer.create_participant(account, ServiceScope::Explicit(service), &in_conversation, participant)?;
    let media_sid = match media {
        Some(upload) => Some(state.store.upload_media(account, service, upload)?.sid),
        None => None,
    };
    let message =
        writer.create_message(account, ServiceScope::Explicit(service), &in_conversation, message_fields(media_sid))?;
    answer.chat_service_sid = Some(service);
    answer.conversation_sid = Some(conversation.sid);
    answer.participant_sid = Some(participant.value.sid);
    answer.message_sid = Some(message.value.sid);
    answer.index = Some(message.value.index);
    Ok(answer.with_deliveries(&state, correlation).await)
}

/// A message a chat user posts through a client SDK.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SdkMessage {
    account_sid: String,
    /// The service, when not the account's default.
    chat_service_sid: Option<String>,
    /// The conversation's SID or unique name.
    conversation: String,
    /// The user posting, who must be a participant.
    identity: String,
    body: Option<String>,
    attributes: Option<String>,
    media_sid: Option<String>,
}

/// `POST /_emulator/sdk/messages`: a chat participant posts a message as a client SDK
/// would: `Source=SDK` and `ClientIdentity`, with onMessageAdd and onMessageAdded.
async fn sdk_message(
    State(state): State<AppState>,
    ControlJson(posted): ControlJson<SdkMessage>,
) -> Result<Json<Simulated>, ApiError> {
    let account = account_of(&posted.account_sid)?;
    let service = match parsed::<ChatServiceSid>("chat_service_sid", posted.chat_service_sid.as_deref())? {
        Some(sid) => ServiceScope::Explicit(sid),
        None => ServiceScope::Default,
    };
    let scope = ConversationScope { service, conversation: ConversationRef::parse(&posted.conversation) };
    let identity = posted.identity;
    let participant = state.store.fetch_participant(
        account,
        service,
        &scope.conversation,
        &crate::store::ParticipantRef::Identity(identity.clone()),
    )?;
    let fields = MessageFields {
        author: validate::name(Some(identity.clone()), ApiError::AuthorTooLong)?,
        body: validate::body(posted.body)?,
        attributes: validate::attributes(posted.attributes, validate::MESSAGE_ATTRIBUTES_MAX_BYTES)?,
        media_sid: validate::media_sid(posted.media_sid.as_deref())?,
        ..MessageFields::default()
    };
    let correlation = state.webhooks.correlation();
    let origin = Origin {
        source: Source::Sdk,
        client_identity: Some(identity.as_str().into()),
        fires_webhooks: true,
        binding: None,
        correlation: Some(correlation),
    };
    let mut answer = Simulated::new("added", account);
    answer.chat_service_sid = Some(participant.chat_service_sid);
    answer.conversation_sid = Some(participant.conversation_sid);
    answer.participant_sid = Some(participant.value.sid);
    match hooks::message_add(&state, account, &scope, fields, &origin).await {
        Ok(fields) => {
            let message =
                state.store.acting_for(origin).create_message(account, service, &scope.conversation, fields)?;
            answer.message_sid = Some(message.value.sid);
            answer.index = Some(message.value.index);
        }
        Err(ApiError::WebhookRejected) => answer.outcome = "rejected",
        Err(error) => return Err(error),
    }
    Ok(answer.with_deliveries(&state, correlation).await)
}
