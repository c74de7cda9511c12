//! The middleware that puts the control plane ([`crate::control`]) around every Twilio
//! API request: the journal records it, fault rules may delay or answer it, and the
//! metrics count it.
//!
//! Tests of an application need to see what it sent and to make the API misbehave on
//! purpose; both happen here, around the handlers, so that no handler knows about them and
//! a faulted request never reaches the store.

use std::time::{Instant, SystemTime};

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::Request;
use axum::http::HeaderValue;
use axum::http::header::RETRY_AFTER;
use axum::response::{IntoResponse, Response};

use crate::control::faults::ErrorAnswer;
use crate::control::is_control_path;
use crate::control::journal::{Captured, Outcome};
use crate::error::{ApiError, ErrorBody, TwilioCode};
use crate::extract::{ActingAs, BodyTooLarge, read_body};
use crate::sid::AccountSid;
use crate::state::AppState;

/// Runs a request through its handler (`handle`): Twilio API requests are journaled,
/// counted and subject to fault rules; `/_emulator/` requests, and the Twilio requests the
/// inspector makes through them ([`ActingAs`]), pass untouched.
///
/// Called after routing, with the template of the route that matched (the `route` label of
/// the metrics) and the account of the request's credentials, when they are valid: invalid
/// ones are the handler's to answer, and the journal records the request without an
/// account. Unknown paths reach the fallback without a route and are counted as `unmatched`.
///
/// The body is buffered (up to `--max-body-bytes`; a larger one gets Twilio's 413 here)
/// so that the journal can show the form parameters the handler then reads.
pub(super) async fn observe<Handled>(
    state: &AppState,
    route: Option<&str>,
    account: Option<AccountSid>,
    request: Request,
    handle: impl FnOnce(Request) -> Handled,
) -> Response
where
    Handled: Future<Output = Response>,
{
    if is_control_path(request.uri().path()) || request.extensions().get::<ActingAs>().is_some() {
        // Read before any handler can refuse the request (a missing control token, say)
        // without reading it: a client still sending would never see the refusal. State
        // documents can be far larger than any Twilio request, hence a limit of their own.
        let (parts, body) = request.into_parts();
        let body = match body.size_hint().exact() {
            Some(0) => body,
            _ => match read_body(body, state.settings.max_control_body_bytes).await {
                Ok(bytes) => Body::from(bytes),
                Err(BodyTooLarge) => return ApiError::PayloadTooLarge.into_response(),
            },
        };
        return handle(Request::from_parts(parts, body)).await;
    }
    let arrived = Instant::now();
    let control = &state.control;
    let (parts, body) = request.into_parts();
    let method = parts.method.clone();
    let mut captured = control
        .journal()
        .is_enabled()
        .then(|| Captured::new(SystemTime::now(), &parts.method, &parts.uri, &parts.headers));

    // Any failure to read the body is answered as too large, as the form extractor does:
    // the only other cause is a client that went away, which reads no answer anyway. Most
    // requests (every GET) have none, which hyper knows without reading.
    let media_upload = route == Some(super::media::UPLOAD_ROUTE);
    let limit = if media_upload { state.settings.max_media_bytes } else { state.settings.max_body_bytes };
    let read = match body.size_hint().exact() {
        Some(0) => Ok(Bytes::new()),
        _ => read_body(body, limit).await,
    };
    let (response, fired) = match read {
        Err(_) if media_upload => (ApiError::MediaTooLarge.into_response(), Vec::new()),
        Err(_) => (ApiError::PayloadTooLarge.into_response(), Vec::new()),
        Ok(bytes) => {
            // The rules' lock is released inside `decide`, before the sleep below.
            let decision = control.faults().decide(&parts.method, parts.uri.path(), account);
            if !decision.latency.is_zero() {
                tokio::time::sleep(decision.latency).await;
            }
            if let Some(captured) = captured.as_mut() {
                // A multipart body (older twilio-node) is kept as the form its text parts
                // make, so the journal shows its parameters like any form's: a second parse
                // on a rare path.
                match crate::extract::multipart_params(&parts.headers, &bytes).await {
                    Some(form) => captured.keep_body(&form),
                    None => captured.keep_body(&bytes),
                }
            }
            let response = match decision.error {
                Some(answer) => canned(answer),
                None => handle(Request::from_parts(parts, Body::from(bytes))).await,
            };
            (response, decision.fired)
        }
    };

    let status = response.status();
    let duration = arrived.elapsed();
    control.metrics().record(&method, route, status, duration);
    if let Some(request) = captured {
        let error_code = response.extensions().get::<TwilioCode>().map(|TwilioCode(code)| *code);
        let outcome = Outcome { status, duration, account, faults: fired, error_code };
        control.journal().record(request, outcome);
    }
    response
}

/// A fault rule's error, answered instead of the handler: Twilio's body, plus `Retry-After`
/// when the rule gives one.
fn canned(answer: ErrorAnswer) -> Response {
    let ErrorAnswer { status, code, message, retry_after_seconds } = answer;
    let mut response = ErrorBody::new(status, code, message).into_response_with_status();
    if let Some(seconds) = retry_after_seconds {
        response.headers_mut().insert(RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}
