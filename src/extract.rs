//! Request extractors whose every rejection is an [`ApiError`], so bad input always gets a
//! Twilio-shaped answer and never axum's plain-text default.

use std::cell::RefCell;
use std::sync::Arc;

use axum::extract::{FromRequest, FromRequestParts, RawPathParams, Request};
use axum::http::header::{AUTHORIZATION, HOST};
use axum::http::request::Parts;
use axum::http::uri::Authority;
use axum::http::{HeaderName, HeaderValue};
use base64::DecodeSliceError;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::de::DeserializeOwned;

use crate::auth::Credentials;
use crate::error::{ApiError, InvalidValue};
use crate::memo::{Memo, remembered};
use crate::sid::{AccountSid, MessageSid, ReceiptSid};
use crate::state::AppState;
use crate::store::{ConversationRef, ParticipantRef, ServiceScope};

/// The account a request acts for, from HTTP Basic credentials (see [`crate::auth`]).
#[derive(Clone, Copy, Debug)]
pub struct Tenant(pub AccountSid);

impl FromRequestParts<AppState> for Tenant {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts.headers.get(AUTHORIZATION).ok_or(ApiError::NoCredentials)?;
        let credentials = &state.settings.credentials;
        // Keyed by the credentials' id too: test servers in one process share threads.
        let key = (credentials.id(), header.clone());
        remembered(&LAST_CREDENTIALS, &key, || check_basic(header, credentials)).map(Self)
    }
}

// A client repeats the same headers (credentials, `Host`) on every request, and both the
// middleware and the handler ask, so most answers are remembered.
thread_local! {
    static LAST_CREDENTIALS: Memo<(u64, HeaderValue), Result<AccountSid, ApiError>> = const { RefCell::new(None) };
    static LAST_HOST: Memo<HeaderValue, Option<Arc<str>>> = const { RefCell::new(None) };
}

/// The account HTTP Basic credentials act for.
fn check_basic(header: &HeaderValue, credentials: &Credentials) -> Result<AccountSid, ApiError> {
    let encoded = header
        .to_str()
        .ok()
        .and_then(|value| value.strip_prefix("Basic ").or_else(|| value.strip_prefix("basic ")))
        .ok_or(ApiError::NoCredentials)?;
    // Decoded on the stack: every request carries credentials, and real ones (a 34-character
    // SID, a colon and a 32-character token or key secret) fit many times over.
    let mut buffer = [0u8; 512];
    let length = STANDARD.decode_slice(encoded.trim(), &mut buffer).map_err(|error| match error {
        DecodeSliceError::OutputSliceTooSmall => ApiError::InvalidCredentials,
        DecodeSliceError::DecodeError(_) => ApiError::NoCredentials,
    })?;
    let decoded = std::str::from_utf8(&buffer[..length]).map_err(|_| ApiError::InvalidUsername)?;
    let (username, password) = decoded.split_once(':').ok_or(ApiError::InvalidUsername)?;
    credentials.authenticate(username, password)
}

/// The scheme, host and port that `url`, `links` and page URLs start with.
#[derive(Clone, Debug)]
pub struct BaseUrl(pub Arc<str>);

impl FromRequestParts<AppState> for BaseUrl {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(url) = &state.settings.public_url {
            return Ok(Self(Arc::clone(url)));
        }
        // Only a syntactically valid authority is echoed back: a forged Host header must
        // not be able to inject text into the JSON URLs.
        let from_host = parts.headers.get(HOST).and_then(|host| {
            remembered(&LAST_HOST, host, || {
                let authority = host.to_str().ok()?.parse::<Authority>().ok()?;
                Some(Arc::from(format!("http://{authority}")))
            })
        });
        Ok(Self(from_host.unwrap_or_else(|| format!("http://{}", state.settings.listen_authority).into())))
    }
}

/// `X-Twilio-Webhook-Enabled`, accepted on every write. Its value must be `true` or
/// `false`; until webhooks are emulated it changes nothing else.
#[derive(Clone, Copy, Debug, Default)]
pub struct WebhookEnabled(pub bool);

impl<S: Send + Sync> FromRequestParts<S> for WebhookEnabled {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        const WEBHOOK_ENABLED: HeaderName = HeaderName::from_static("x-twilio-webhook-enabled");
        let Some(value) = parts.headers.get(WEBHOOK_ENABLED) else {
            return Ok(Self(false));
        };
        match value.to_str().map(str::trim) {
            Ok(v) if v.eq_ignore_ascii_case("true") => Ok(Self(true)),
            Ok(v) if v.eq_ignore_ascii_case("false") => Ok(Self(false)),
            _ => Err(ApiError::invalid(
                "X-Twilio-Webhook-Enabled header value",
                InvalidValue::Malformed(String::from_utf8_lossy(value.as_bytes()).into_owned()),
            )),
        }
    }
}

/// A form-encoded request body (`application/x-www-form-urlencoded`, as every SDK sends).
/// The Content-Type is not checked, and unknown parameters are ignored, as Twilio does.
#[derive(Debug)]
pub struct TwilioForm<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for TwilioForm<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, ApiError> {
        let limit = state.settings.max_body_bytes;
        let bytes = axum::body::to_bytes(request.into_body(), limit).await.map_err(|_| ApiError::PayloadTooLarge)?;
        serde_urlencoded::from_bytes(&bytes).map(Self).map_err(invalid_parameters)
    }
}

/// The query string, parsed like a form.
#[derive(Debug)]
pub struct TwilioQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for TwilioQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        serde_urlencoded::from_str(query).map(Self).map_err(invalid_parameters)
    }
}

fn invalid_parameters(error: serde_urlencoded::de::Error) -> ApiError {
    ApiError::invalid("parameters", InvalidValue::Unparsable(error.to_string()))
}

/// The conversation a URL names, on either URL form: `/v1/Conversations/{CH}` (the
/// account's default service) or `/v1/Services/{IS}/Conversations/{CH}`.
#[derive(Clone, Debug)]
pub struct ConversationScope {
    pub service: ServiceScope,
    pub conversation: ConversationRef,
}

/// The service a URL names, on either form (the default form names none).
#[derive(Clone, Copy, Debug)]
pub struct ServicePath(pub ServiceScope);

/// A message path: its conversation scope plus the `IM…` SID.
#[derive(Clone, Debug)]
pub struct MessagePath {
    pub scope: ConversationScope,
    pub sid: MessageSid,
}

/// The path parameters as the router decoded them, read in place: no map of owned strings
/// is built for the two or three parameters a route has.
pub(crate) struct PathParams(RawPathParams);

impl PathParams {
    /// The parameter called `name`, if the route has one.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(key, _)| *key == name).map(|(_, value)| value)
    }
}

/// The decoded path parameters. A path that fails to decode names nothing that exists.
pub(crate) async fn path_params<S: Send + Sync>(parts: &mut Parts, state: &S) -> Result<PathParams, ApiError> {
    RawPathParams::from_request_parts(parts, state).await.map(PathParams).map_err(|_| ApiError::NotFound)
}

fn service_scope(params: &PathParams) -> Result<ServiceScope, ApiError> {
    match params.get("ChatServiceSid") {
        None => Ok(ServiceScope::Default),
        // A malformed SID is a 404 on Twilio, not a 400.
        Some(raw) => raw.parse().map(ServiceScope::Explicit).map_err(|_| ApiError::NotFound),
    }
}

fn conversation_scope(params: &PathParams) -> Result<ConversationScope, ApiError> {
    let service = service_scope(params)?;
    let segment = params.get("ConversationSid").ok_or(ApiError::NotFound)?;
    Ok(ConversationScope { service, conversation: ConversationRef::parse(segment) })
}

impl<S: Send + Sync> FromRequestParts<S> for ServicePath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        service_scope(&path_params(parts, state).await?).map(Self)
    }
}

// A path the shortcut matched (`crate::routes::shortcut`) arrives parsed, in the extensions.

impl<S: Send + Sync> FromRequestParts<S> for ConversationScope {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        if let Some(parsed) = parts.extensions.remove::<Self>() {
            return Ok(parsed);
        }
        conversation_scope(&path_params(parts, state).await?)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for MessagePath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        if let Some(parsed) = parts.extensions.remove::<Self>() {
            return Ok(parsed);
        }
        let params = path_params(parts, state).await?;
        let scope = conversation_scope(&params)?;
        let sid = params.get("MessageSid").and_then(|raw| raw.parse().ok()).ok_or(ApiError::NotFound)?;
        Ok(Self { scope, sid })
    }
}

/// A participant path: its conversation scope plus the `MB…` SID or identity.
#[derive(Clone, Debug)]
pub struct ParticipantPath {
    pub scope: ConversationScope,
    pub participant: ParticipantRef,
}

impl<S: Send + Sync> FromRequestParts<S> for ParticipantPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let params = path_params(parts, state).await?;
        let scope = conversation_scope(&params)?;
        let participant = params.get("ParticipantSid").map(ParticipantRef::parse).ok_or(ApiError::NotFound)?;
        Ok(Self { scope, participant })
    }
}

/// A receipt path: the message path plus the `DY…` SID.
#[derive(Clone, Debug)]
pub struct ReceiptPath {
    pub message: MessagePath,
    pub sid: ReceiptSid,
}

impl<S: Send + Sync> FromRequestParts<S> for ReceiptPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let message = MessagePath::from_request_parts(parts, state).await?;
        let params = path_params(parts, state).await?;
        let sid = params.get("ReceiptSid").and_then(|raw| raw.parse().ok()).ok_or(ApiError::NotFound)?;
        Ok(Self { message, sid })
    }
}

/// A JSON body for the `/_emulator/` endpoints. State documents can be large, so the API's
/// body limit does not apply; the control plane is trusted, and can be locked down.
#[derive(Debug)]
pub struct ControlJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ControlJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, _: &S) -> Result<Self, ApiError> {
        let bytes = axum::body::to_bytes(request.into_body(), usize::MAX)
            .await
            .map_err(|error| ApiError::invalid("body", InvalidValue::Unreadable(error.to_string())))?;
        serde_json::from_slice(&bytes)
            .map(Self)
            .map_err(|error| ApiError::invalid("JSON body", InvalidValue::Unparsable(error.to_string())))
    }
}
