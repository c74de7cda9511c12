//! The emulator's own routes, under `/_emulator/`, a prefix no Twilio route can use:
//! health, reset, state export/import, the clock, receipts and proxy mode's CA
//! certificate here; the request journal ([`journal`]), fault rules ([`faults`]) and
//! metrics ([`metrics`]) in their own modules, over the control plane's types
//! ([`crate::control`]). Every route but health can be
//! protected by `--control-token` or turned off by `--no-control`.

mod faults;
pub mod inspector;
mod journal;
mod metrics;
mod webhooks;

use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderName, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, Expected, InvalidValue};
use crate::extract::{ControlJson, TwilioQuery};
use crate::sid::AccountSid;
use crate::sid::{MessageSid, ParticipantSid, ReceiptSid};
use crate::state::{AppState, ControlAccess};
use crate::store::document::{ImportSummary, StateDocument};
use crate::store::model::{DeliveryStatus, DeliverySummary};
use crate::store::{ConversationRef, ImportMode, Origin, ReceiptUpdate, Source};
use crate::time::{ClockMode, InvalidTimestamp, Timestamp};

/// The `/_emulator/` routes.
pub fn router(state: &AppState) -> Router<AppState> {
    let guarded = Router::new()
        .route("/_emulator/reset", post(reset))
        .route("/_emulator/state", get(export).post(import_merge).put(import_replace))
        .route("/_emulator/clock", get(clock).post(set_clock).delete(reset_clock))
        .route("/_emulator/receipts", post(update_receipts))
        .route("/_emulator/ca.pem", get(ca_certificate))
        .merge(journal::router())
        .merge(faults::router())
        .merge(metrics::router())
        .merge(webhooks::router())
        .merge(inspector::router())
        .route_layer(middleware::from_fn_with_state(state.clone(), guard));
    Router::new()
        .route("/", get(about))
        .route("/_emulator/health", get(health))
        .merge(inspector::pages())
        .merge(guarded)
}

/// `GET /`: what answers here and where to go next, for someone who opens the address in a
/// browser or with curl. Needs no credentials; paths that `--no-control` turns off are
/// `null` then.
#[derive(Debug, Serialize)]
struct About {
    name: &'static str,
    description: &'static str,
    version: &'static str,
    /// Twilio's documentation of the emulated API.
    docs: &'static str,
    /// Where each emulated API starts.
    apis: [&'static str; 2],
    health: &'static str,
    control_plane: Option<&'static str>,
    inspector: Option<&'static str>,
}

async fn about(State(state): State<AppState>) -> Json<About> {
    let control = state.settings.control != ControlAccess::Disabled;
    Json(About {
        name: env!("CARGO_PKG_NAME"),
        description: env!("CARGO_PKG_DESCRIPTION"),
        version: env!("CARGO_PKG_VERSION"),
        docs: "https://www.twilio.com/docs/conversations/api",
        apis: ["/v1/Conversations", "/v2/Services"],
        health: "/_emulator/health",
        control_plane: control.then_some("/_emulator/"),
        inspector: control.then_some(inspector::INSPECTOR_PATH),
    })
}

/// Enforces `--control-token` and `--no-control`.
async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match check_control(&state, request.headers()) {
        Ok(()) => next.run(request).await,
        Err(error) => error.into_response(),
    }
}

/// Whether a request with these headers may use the control plane: always when it is
/// open, with the Bearer token when it has one, never when it is off (it then looks like
/// routes that do not exist).
fn check_control(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    match &state.settings.control {
        ControlAccess::Open => Ok(()),
        ControlAccess::Disabled => Err(ApiError::NotFound),
        ControlAccess::Token(token) => {
            let presented = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok());
            if presented.and_then(|v| v.strip_prefix("Bearer ")) == Some(token.as_str()) {
                Ok(())
            } else {
                Err(ApiError::ControlTokenRequired)
            }
        }
    }
}

#[derive(Debug, Serialize)]
struct Health {
    status: &'static str,
    version: &'static str,
    uptime_seconds: u64,
}

/// Liveness and readiness: once this answers, the API answers too. Needs no credentials.
async fn health(State(state): State<AppState>) -> Json<Health> {
    Json(Health { status: "ok", version: env!("CARGO_PKG_VERSION"), uptime_seconds: state.started.elapsed().as_secs() })
}

/// `GET /_emulator/ca.pem`: the certificate of proxy mode's CA, for clients to trust
/// (`REQUESTS_CA_BUNDLE`, `NODE_EXTRA_CA_CERTS`, `curl --cacert`).
async fn ca_certificate(State(state): State<AppState>) -> Result<([(HeaderName, &'static str); 1], String), ApiError> {
    let authority = state.authority.as_ref().map_err(|_| ApiError::ProxyOff)?;
    Ok(([(CONTENT_TYPE, "application/x-pem-file")], authority.certificate_pem().to_owned()))
}

/// `?account=AC…` narrows reset and export to one account; `?seed=N` reseeds SIDs.
#[derive(Debug, Deserialize)]
struct Scope {
    account: Option<String>,
    seed: Option<String>,
}

impl Scope {
    fn account(&self) -> Result<Option<AccountSid>, ApiError> {
        self.account
            .as_deref()
            .map(|raw| raw.parse().map_err(|_| ApiError::invalid("account", InvalidValue::Malformed(raw.to_owned()))))
            .transpose()
    }

    fn seed(&self) -> Result<Option<u64>, ApiError> {
        self.seed
            .as_deref()
            .map(|raw| raw.parse().map_err(|_| ApiError::invalid("seed", InvalidValue::Malformed(raw.to_owned()))))
            .transpose()
    }
}

/// `POST /_emulator/reset[?account=AC…][&seed=N]`: wipes everything (data, request
/// journal, fault rules, webhook delivery log), or one account's data and deliveries.
async fn reset(State(state): State<AppState>, TwilioQuery(scope): TwilioQuery<Scope>) -> Result<StatusCode, ApiError> {
    let account = scope.account()?;
    state.store.reset(account, scope.seed()?)?;
    state.webhooks.log().clear(account);
    if account.is_none() {
        state.control.journal().clear();
        state.control.faults().clear();
    }
    Ok(StatusCode::NO_CONTENT)
}

/// A delivery status change, as a carrier's callback would bring it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReceiptChange {
    account_sid: String,
    /// The conversation's SID or, as on the REST routes, its unique name.
    conversation_sid: String,
    message_sid: String,
    /// One receipt; without it, every receipt of the message.
    receipt_sid: Option<String>,
    /// `delivered`, `read`, `failed` or `undelivered`.
    status: String,
    /// Twilio's error code for `failed` and `undelivered` (e.g. 30008); 0 otherwise.
    #[serde(default)]
    error_code: u32,
}

/// The message's delivery after the change.
#[derive(Debug, Serialize)]
struct DeliveryReport {
    message_sid: MessageSid,
    delivery: Option<DeliverySummary>,
    receipts: Vec<ReceiptReport>,
}

#[derive(Debug, Serialize)]
struct ReceiptReport {
    sid: ReceiptSid,
    participant_sid: ParticipantSid,
    status: DeliveryStatus,
    error_code: u32,
}

/// `POST /_emulator/receipts`: moves a message's receipts along sent → delivered → read,
/// or to failed/undelivered, so that tests see `delivery` and the Receipts resource change.
async fn update_receipts(
    State(state): State<AppState>,
    ControlJson(change): ControlJson<ReceiptChange>,
) -> Result<Json<DeliveryReport>, ApiError> {
    let field = |name: &'static str, raw: &str| ApiError::invalid(name, InvalidValue::Malformed(raw.to_owned()));
    let account: AccountSid = change.account_sid.parse().map_err(|_| field("account_sid", &change.account_sid))?;
    let status = DeliveryStatus::parse(&change.status).ok_or_else(|| field("status", &change.status))?;
    let update = ReceiptUpdate {
        conversation: ConversationRef::parse(&change.conversation_sid),
        message: change.message_sid.parse().map_err(|_| field("message_sid", &change.message_sid))?,
        receipt: change
            .receipt_sid
            .as_deref()
            .map(|raw| raw.parse().map_err(|_| field("receipt_sid", raw)))
            .transpose()?,
        status,
        error_code: if matches!(status, DeliveryStatus::Failed | DeliveryStatus::Undelivered) {
            change.error_code
        } else {
            0
        },
    };
    // A carrier's report, which fires onDeliveryUpdated like any delivery update.
    let origin =
        Origin { source: Source::Api, client_identity: None, fires_webhooks: true, binding: None, correlation: None };
    let message = state.store.acting_for(origin).update_receipts(account, update)?.value;
    let receipts = message
        .receipts()
        .iter()
        .map(|r| ReceiptReport {
            sid: r.sid,
            participant_sid: r.participant_sid,
            status: r.status,
            error_code: r.error_code,
        })
        .collect();
    Ok(Json(DeliveryReport { message_sid: message.sid, delivery: message.delivery(), receipts }))
}

/// `GET /_emulator/state[?account=AC…]`: the state as one JSON document.
async fn export(
    State(state): State<AppState>,
    TwilioQuery(scope): TwilioQuery<Scope>,
) -> Result<Json<StateDocument>, ApiError> {
    Ok(Json(state.store.export(scope.account()?)))
}

/// `POST /_emulator/state`: adds a document to the state, all or nothing.
async fn import_merge(
    State(state): State<AppState>,
    ControlJson(document): ControlJson<StateDocument>,
) -> Result<Json<ImportSummary>, ApiError> {
    Ok(Json(state.store.import(document, ImportMode::Merge)?))
}

/// `PUT /_emulator/state`: replaces the whole state with a document, all or nothing.
async fn import_replace(
    State(state): State<AppState>,
    ControlJson(document): ControlJson<StateDocument>,
) -> Result<Json<ImportSummary>, ApiError> {
    Ok(Json(state.store.import(document, ImportMode::Replace)?))
}

/// The clock as reported by `/_emulator/clock`.
#[derive(Debug, Serialize)]
struct ClockReport {
    now: Timestamp,
    frozen: bool,
    offset_seconds: Option<i64>,
}

fn report(state: &AppState) -> Json<ClockReport> {
    let (frozen, offset_seconds) = match state.clock.mode() {
        ClockMode::Frozen { .. } => (true, None),
        ClockMode::Running { offset_seconds } => (false, Some(offset_seconds)),
    };
    Json(ClockReport { now: state.clock.now(), frozen, offset_seconds })
}

/// `GET /_emulator/clock`.
async fn clock(State(state): State<AppState>) -> Json<ClockReport> {
    report(&state)
}

/// One change to the clock: exactly one field.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockChange {
    /// Stop the clock at this RFC 3339 instant.
    freeze_at: Option<String>,
    /// Let it run this many seconds ahead of the system clock (negative: behind).
    offset_seconds: Option<i64>,
    /// Move it forward, frozen or running.
    advance_seconds: Option<i64>,
}

/// `POST /_emulator/clock` with `{"freeze_at": …}`, `{"offset_seconds": …}` or
/// `{"advance_seconds": …}`.
async fn set_clock(
    State(state): State<AppState>,
    ControlJson(change): ControlJson<ClockChange>,
) -> Result<Json<ClockReport>, ApiError> {
    match (change.freeze_at, change.offset_seconds, change.advance_seconds) {
        (Some(at), None, None) => {
            let at = Timestamp::parse_rfc3339(&at).map_err(|error| {
                let (value, expected) = match error {
                    InvalidTimestamp::Malformed(value) => (value, Expected::Rfc3339Date),
                    InvalidTimestamp::OutOfRange(value) => (value, Expected::PrintableDate),
                };
                ApiError::invalid("freeze_at", InvalidValue::NotA { value, expected })
            })?;
            state.clock.freeze(at);
        }
        (None, Some(offset), None) => {
            state.clock.run_with_offset(offset).map_err(|_| out_of_range("offset_seconds", offset))?
        }
        (None, None, Some(seconds)) => {
            state.clock.advance(seconds).map_err(|_| out_of_range("advance_seconds", seconds))?
        }
        _ => {
            let choices = "freeze_at, offset_seconds, advance_seconds";
            return Err(ApiError::invalid(choices, InvalidValue::ExactlyOne));
        }
    }
    // The timers the new "now" has run out move their conversations on before the answer,
    // so their webhooks are on their way when the test reads it.
    state.store.run_timers();
    Ok(report(&state))
}

/// `DELETE /_emulator/clock`: back to the system clock.
async fn reset_clock(State(state): State<AppState>) -> Json<ClockReport> {
    state.clock.reset();
    state.store.run_timers();
    report(&state)
}

/// A clock setting that would take "now" outside the years Twilio's dates can print.
fn out_of_range(parameter: &'static str, seconds: i64) -> ApiError {
    ApiError::invalid(parameter, InvalidValue::NotA { value: seconds.to_string(), expected: Expected::PrintableClock })
}
