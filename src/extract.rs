//! Request extractors whose every rejection is an [`ApiError`], so bad input always gets a
//! Twilio-shaped answer and never axum's plain-text default; and the [`RequestContext`]
//! that the middleware resolves once per request for them to read.

use std::sync::Arc;

use axum::extract::{FromRequest, FromRequestParts, RawPathParams, Request};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, HOST};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use base64::DecodeSliceError;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::de::DeserializeOwned;

use crate::auth::Credentials;
use crate::error::{ApiError, InvalidValue};
use crate::sid::{AccountSid, MessageSid, ReceiptSid};
use crate::state::{AppState, Settings};
use crate::store::{ConversationRef, ParticipantRef, ServiceScope};

/// What is known of a request before any handler runs, resolved once by the middleware
/// (`routes::answer`) and carried in the request's extensions: the account its credentials
/// act for, the base URL of its links, and, for a Messages path the shortcut took apart,
/// that path. The extractors below read it, however many of them a handler takes.
#[derive(Clone, Debug)]
pub(crate) struct RequestContext {
    /// The account, or why the credentials were refused. A refusal is the handler's to
    /// answer (through [`Tenant`]); the control plane records the request without one.
    pub(crate) account: Result<AccountSid, ApiError>,
    /// The scheme, host and port that `url`, `links` and page URLs start with.
    pub(crate) base: Arc<str>,
    /// The path parameters the shortcut parsed (`crate::routes::shortcut`); `None` on the
    /// router, whose extractors parse them from the route.
    pub(crate) path: Option<ParsedPath>,
}

/// The base URL of a request that came through a tunnel of proxy mode (`routes::proxy`):
/// `https://` and the Twilio host the client asked for, which the links of the answer
/// carry so that the client follows them back through the proxy.
#[derive(Clone, Debug)]
pub(crate) struct ProxiedBase(pub(crate) Arc<str>);
/// Marks a request that the control plane made on the inspector's behalf
/// (`/_emulator/as/{AC…}/…`): it acts for this account without credentials, and the
/// control plane does not journal, fault or count it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ActingAs(pub(crate) AccountSid);

/// A Messages path the shortcut parsed before routing: a conversation, and a message on
/// the item routes.
#[derive(Clone, Debug)]
pub(crate) struct ParsedPath {
    pub(crate) scope: ConversationScope,
    pub(crate) message: Option<MessageSid>,
}

/// The last credentials and `Host` this thread resolved, and what they resolved to.
///
/// A client sends the same two headers on every request of a connection, and decoding and
/// checking them was a large share of a fetch (BENCHMARKS.md, "the request context");
/// comparing them with the last ones is a fraction of that. Keyed by the settings' id as
/// well, since the answer depends on them.
struct LastResolved {
    settings: u64,
    authorization: Vec<u8>,
    host: Vec<u8>,
    account: Result<AccountSid, ApiError>,
    base: Arc<str>,
}

thread_local! {
    static LAST_RESOLVED: std::cell::RefCell<Option<LastResolved>> = const { std::cell::RefCell::new(None) };
}

impl RequestContext {
    /// The context of a request with these headers, which came through a proxy tunnel for
    /// `proxied` if that is given.
    pub(crate) fn resolve(
        headers: &HeaderMap,
        settings: &Settings,
        path: Option<ParsedPath>,
        proxied: Option<&ProxiedBase>,
    ) -> Self {
        let mut context = Self::resolve_direct(headers, settings, path);
        if let Some(ProxiedBase(base)) = proxied {
            context.base = Arc::clone(base);
        }
        context
    }

    /// The context of a request with these headers, sent to the emulator directly.
    fn resolve_direct(headers: &HeaderMap, settings: &Settings, path: Option<ParsedPath>) -> Self {
        let mut authorizations = headers.get_all(AUTHORIZATION).iter();
        let first = authorizations.next();
        if authorizations.next().is_some() {
            // Two sets of credentials: neither is chosen, as a proxy and the origin could
            // read different ones (README, "Fidelity notes").
            return Self { account: Err(ApiError::AmbiguousCredentials), base: base_url(headers, settings), path };
        }
        let authorization = first.map_or(&[][..], HeaderValue::as_bytes);
        let host = headers.get(HOST).map_or(&[][..], HeaderValue::as_bytes);
        LAST_RESOLVED.with_borrow_mut(|last| {
            if let Some(last) = last.as_ref()
                && last.settings == settings.id
                && last.authorization == authorization
                && last.host == host
            {
                return Self { account: last.account.clone(), base: Arc::clone(&last.base), path };
            }
            let account = match first {
                Some(header) => check_basic(header, &settings.credentials),
                None => Err(ApiError::NoCredentials),
            };
            let base = base_url(headers, settings);
            *last = Some(LastResolved {
                settings: settings.id,
                authorization: authorization.to_vec(),
                host: host.to_vec(),
                account: account.clone(),
                base: Arc::clone(&base),
            });
            Self { account, base, path }
        })
    }

    /// The context of a request made for the inspector, acting for `account`.
    pub(crate) fn acting_as(
        account: AccountSid,
        headers: &HeaderMap,
        settings: &Settings,
        path: Option<ParsedPath>,
    ) -> Self {
        Self { account: Ok(account), base: base_url(headers, settings), path }
    }

    /// The context the middleware left on the request, or, for a request that did not
    /// pass through it, the context resolved now and left for the next extractor.
    fn of<'a>(parts: &'a mut Parts, state: &AppState) -> &'a Self {
        let Parts { headers, extensions, .. } = parts;
        let proxied = extensions.get::<ProxiedBase>().cloned();
        extensions.get_or_insert_with(|| Self::resolve(headers, &state.settings, None, proxied.as_ref()))
    }
}

/// The opening most Twilio handlers share: the state, the account the request acts for
/// (its rejection is the credentials' 401), and the base URL of the response's links.
#[derive(Clone, Debug)]
pub struct ApiCall {
    pub state: AppState,
    pub account: AccountSid,
    pub base: Arc<str>,
}

impl FromRequestParts<AppState> for ApiCall {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let context = RequestContext::of(parts, state);
        let account = context.account.clone()?;
        Ok(Self { state: state.clone(), account, base: Arc::clone(&context.base) })
    }
}

/// The account a request acts for, from HTTP Basic credentials (see [`crate::auth`]).
#[derive(Clone, Copy, Debug)]
pub struct Tenant(pub AccountSid);

impl FromRequestParts<AppState> for Tenant {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        RequestContext::of(parts, state).account.clone().map(Self)
    }
}

/// The scheme, host and port that `url`, `links` and page URLs start with.
#[derive(Clone, Debug)]
pub struct BaseUrl(pub Arc<str>);

impl FromRequestParts<AppState> for BaseUrl {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Ok(Self(Arc::clone(&RequestContext::of(parts, state).base)))
    }
}

/// The account HTTP Basic credentials act for.
fn check_basic(header: &HeaderValue, credentials: &Credentials) -> Result<AccountSid, ApiError> {
    let encoded = header
        .to_str()
        .ok()
        .and_then(|value| value.split_once(' '))
        // The scheme is case-insensitive (RFC 9110, section 11.1): `BASIC` is Basic too.
        .and_then(|(scheme, encoded)| scheme.eq_ignore_ascii_case("basic").then_some(encoded))
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

/// The base URL: `--public-url`, or `http://` and the request's `Host`, or the address the
/// server listens on when the request has no usable `Host`.
fn base_url(headers: &HeaderMap, settings: &Settings) -> Arc<str> {
    if let Some(url) = &settings.public_url {
        return Arc::clone(url);
    }
    // Only a host name or address with an optional port is echoed back: a forged Host
    // header must not be able to inject text into the JSON URLs. Checked byte by byte
    // rather than parsed as a URI authority, which costs several times as much per request.
    let host = headers
        .get(HOST)
        .map(HeaderValue::as_bytes)
        .filter(|host| is_host_and_port(host))
        .and_then(|host| std::str::from_utf8(host).ok())
        .unwrap_or(&settings.listen_authority);
    Arc::from(["http://", host].concat())
}

/// Whether `host` is a host name, an IPv4 address or a bracketed IPv6 address, with an
/// optional port: the characters of RFC 3986's `host [":" port]` that need no escaping
/// and cannot end a JSON string.
fn is_host_and_port(host: &[u8]) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host.iter().all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':' | b'[' | b']'))
}

/// `X-Twilio-Webhook-Enabled`, accepted on every write. Its value must be `true` or
/// `false`; until webhooks are emulated it changes nothing else.
#[derive(Clone, Copy, Debug, Default)]
pub struct WebhookEnabled(pub bool);

impl WebhookEnabled {
    /// Who the write acts for when it fires webhooks: the REST API, asked to.
    pub fn origin(self) -> Option<crate::store::Origin> {
        self.0.then(crate::store::Origin::api_with_webhooks)
    }
}

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

/// A Twilio API request body, read as a form: `application/x-www-form-urlencoded` (as every
/// SDK sends) or `multipart/form-data` (older twilio-node); [`form_body`] says which bodies
/// are taken. Unknown parameters are ignored, as Twilio does.
#[derive(Debug)]
pub struct TwilioForm<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for TwilioForm<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, ApiError> {
        let form = form_body(request, state.settings.max_body_bytes).await?;
        serde_urlencoded::from_bytes(&form).map(Self).map_err(invalid_parameters)
    }
}

/// The media type every SDK sends, as they spell it: the common case is this one comparison.
const FORM_URLENCODED: &str = "application/x-www-form-urlencoded";

/// How a request body is encoded, from its `Content-Type`.
enum BodyEncoding {
    /// `application/x-www-form-urlencoded` (any case, any parameters), or no `Content-Type`
    /// at all: `curl -d` and hand-written clients often leave it out, and a form is all the
    /// API takes.
    Form,
    /// `multipart/form-data`, with its boundary (an error when it has none).
    Multipart(Result<String, multer::Error>),
    /// Anything else (JSON, text): refused unless the body is empty.
    Other,
}

fn body_encoding(headers: &HeaderMap) -> BodyEncoding {
    let Some(value) = headers.get(CONTENT_TYPE) else { return BodyEncoding::Form };
    if value.as_bytes() == FORM_URLENCODED.as_bytes() {
        return BodyEncoding::Form;
    }
    let Ok(value) = value.to_str() else { return BodyEncoding::Other };
    let essence = value.split_once(';').map_or(value, |(essence, _)| essence).trim();
    if essence.eq_ignore_ascii_case(FORM_URLENCODED) {
        BodyEncoding::Form
    } else if essence.eq_ignore_ascii_case("multipart/form-data") {
        BodyEncoding::Multipart(multer::parse_boundary(value))
    } else {
        BodyEncoding::Other
    }
}

/// The one place that decides how a Twilio API body is read: its parameters, as
/// `application/x-www-form-urlencoded` bytes, whatever encoding they came in.
///
/// - A form (with or without `; charset=…`, any case) or a body without `Content-Type` is
///   taken as it is. The charset is not looked at: every SDK sends UTF-8.
/// - An empty body is an empty form, whatever its type: a bodiless POST says nothing, and
///   clients set a default type on every request (Python's SDK a form type, many
///   generic HTTP clients a JSON one).
/// - `multipart/form-data`: its text parts become the same name/value pairs, repeated
///   names kept in order. A file part is refused with a 400 naming it: the API has no
///   file parameter, and ignoring it would create a resource without what was sent.
/// - Any other type with a body is a 415 (code 19056), before any handler runs, so nothing
///   is created.
///
/// The body limit and the 413 drain of [`read_body`] apply to every encoding.
pub(crate) async fn form_body(request: Request, limit: usize) -> Result<axum::body::Bytes, ApiError> {
    let (parts, body) = request.into_parts();
    let encoding = body_encoding(&parts.headers);
    let bytes = read_body(body, limit).await.map_err(|BodyTooLarge| ApiError::PayloadTooLarge)?;
    match encoding {
        BodyEncoding::Form => Ok(bytes),
        _ if bytes.is_empty() => Ok(bytes),
        BodyEncoding::Multipart(boundary) => {
            let boundary = boundary.map_err(invalid_multipart)?;
            multipart_as_form(bytes, boundary).await
        }
        BodyEncoding::Other => Err(ApiError::UnsupportedMediaType),
    }
}

/// A multipart body's text parts, encoded as a form so that every handler reads them
/// exactly as it reads a form (repeated keys included). Only this rare path pays for the
/// second encoding.
async fn multipart_as_form(bytes: axum::body::Bytes, boundary: String) -> Result<axum::body::Bytes, ApiError> {
    // The body was read whole (under the limit) already; multer reads it as a stream.
    let mut multipart = multer::Multipart::new(axum::body::Body::from(bytes).into_data_stream(), boundary);
    // Pairs first, encoded at the end: the serializer is not `Send`, so it cannot be held
    // across the awaits below.
    let mut pairs = Vec::new();
    while let Some(field) = multipart.next_field().await.map_err(invalid_multipart)? {
        let Some(name) = field.name().map(str::to_owned) else {
            return Err(ApiError::invalid(
                "multipart/form-data body",
                InvalidValue::Malformed("a part without a name".into()),
            ));
        };
        if field.file_name().is_some() {
            return Err(ApiError::MultipartFile { name });
        }
        let value = field.text().await.map_err(invalid_multipart)?;
        pairs.push((name, value));
    }
    Ok(form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish().into())
}

/// The parameters of a `multipart/form-data` body as form bytes, for the request journal,
/// which shows every body's parameters as form pairs; `None` for any other body, and for
/// one that does not parse (the journal then keeps it as it came).
pub(crate) async fn multipart_params(headers: &HeaderMap, bytes: &axum::body::Bytes) -> Option<axum::body::Bytes> {
    match body_encoding(headers) {
        BodyEncoding::Multipart(Ok(boundary)) if !bytes.is_empty() => {
            multipart_as_form(bytes.clone(), boundary).await.ok()
        }
        _ => None,
    }
}

fn invalid_multipart(error: multer::Error) -> ApiError {
    ApiError::invalid("multipart/form-data body", InvalidValue::Unparsable(error.to_string()))
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

/// The path the shortcut parsed (`crate::routes::shortcut`), taken from the request's
/// context: `None` on the router.
fn parsed_path(parts: &mut Parts) -> Option<ParsedPath> {
    parts.extensions.get_mut::<RequestContext>().and_then(|context| context.path.take())
}

impl<S: Send + Sync> FromRequestParts<S> for ConversationScope {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        if let Some(parsed) = parsed_path(parts) {
            return Ok(parsed.scope);
        }
        conversation_scope(&path_params(parts, state).await?)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for MessagePath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        if let Some(ParsedPath { scope, message: Some(sid) }) = parsed_path(parts) {
            return Ok(Self { scope, sid });
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

/// A request body larger than the limit: refused, after it was read to its end (or as far
/// as [`read_body`] drains).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BodyTooLarge;

/// How much of a refused body is read and thrown away before the connection is given up.
/// Most HTTP clients (the SDKs, Python's `urllib`, `requests`) send the whole body before
/// they read the answer: a server that answers and closes while they are still sending
/// makes the kernel reset the connection, and they report a broken pipe instead of the
/// 413. Draining lets them finish and read it. Past this much (or this long), closing is
/// the lesser harm.
const DRAIN_MAX_BYTES: usize = 256 * 1024 * 1024;
const DRAIN_MAX_TIME: std::time::Duration = std::time::Duration::from_secs(10);

/// The body, if it holds at most `limit` bytes. A larger body is never buffered past the
/// limit: the rest is read and discarded (within [`DRAIN_MAX_BYTES`] and
/// [`DRAIN_MAX_TIME`]) so that the client gets to read the refusal. A body the client
/// broke off is refused the same way: that client reads no answer anyway.
pub(crate) async fn read_body(body: axum::body::Body, limit: usize) -> Result<axum::body::Bytes, BodyTooLarge> {
    use http_body_util::BodyExt;
    let mut body = body;
    let mut buffer = bytes::BytesMut::new();
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else { return Err(BodyTooLarge) };
        let Ok(data) = frame.into_data() else { continue };
        if buffer.len() + data.len() > limit {
            drop((buffer, data));
            let drain = async {
                let mut drained = 0usize;
                while let Some(Ok(frame)) = body.frame().await {
                    drained += frame.data_ref().map_or(0, |data| data.len());
                    if drained > DRAIN_MAX_BYTES {
                        break;
                    }
                }
            };
            let _ = tokio::time::timeout(DRAIN_MAX_TIME, drain).await;
            return Err(BodyTooLarge);
        }
        buffer.extend_from_slice(&data);
    }
    Ok(buffer.freeze())
}

#[cfg(test)]
mod tests {
    use axum::http::header::CONTENT_TYPE;
    use axum::http::{HeaderMap, HeaderValue};

    use super::{BodyEncoding, body_encoding};

    /// What each spelling is read as: `form`, `multipart` (with a boundary), `no boundary`
    /// or `other`.
    fn read_as(content_type: Option<&[u8]>) -> &'static str {
        let mut headers = HeaderMap::new();
        if let Some(value) = content_type {
            headers.insert(CONTENT_TYPE, HeaderValue::from_bytes(value).expect("a header value"));
        }
        match body_encoding(&headers) {
            BodyEncoding::Form => "form",
            BodyEncoding::Multipart(Ok(_)) => "multipart",
            BodyEncoding::Multipart(Err(_)) => "no boundary",
            BodyEncoding::Other => "other",
        }
    }

    #[test]
    fn every_spelling_of_a_form_or_multipart_is_recognised_and_the_rest_is_other() {
        let cases: [(Option<&[u8]>, &str); 12] = [
            (None, "form"),
            (Some(b"application/x-www-form-urlencoded"), "form"),
            (Some(b"application/x-www-form-urlencoded;charset=UTF-8"), "form"),
            (Some(b"Application/X-WWW-Form-Urlencoded ; charset=utf-8"), "form"),
            (Some(b"multipart/form-data; boundary=abc"), "multipart"),
            (Some(b"MULTIPART/FORM-DATA; boundary=\"a b\""), "multipart"),
            (Some(b"multipart/form-data"), "no boundary"),
            (Some(b"application/json"), "other"),
            (Some(b"text/plain; charset=utf-8"), "other"),
            (Some(b"application/x-www-form-urlencodedx"), "other"),
            (Some(b"multipart/mixed; boundary=abc"), "other"),
            (Some(b"application/x-www-form-urlencoded\xff"), "other"),
        ];
        for (content_type, expected) in cases {
            let shown = content_type.map(String::from_utf8_lossy);
            assert_eq!(read_as(content_type), expected, "{shown:?}");
        }
    }
}
