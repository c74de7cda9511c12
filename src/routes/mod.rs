//! The HTTP surface: every Twilio route, the emulator's own `/_emulator/` routes, and the
//! middleware that keeps every error Twilio-shaped.

pub mod address_configurations;
pub mod bindings;
pub mod chat;
pub mod configuration;
pub mod conversation_webhooks;
pub mod conversations;
pub mod credentials;
pub mod emulator;
mod form;
pub(crate) mod hooks;
pub mod media;
pub mod messages;
pub mod notifications;
mod observe;
pub mod participant_conversations;
pub mod participants;
mod proxy;
pub mod receipts;
pub mod roles;
pub mod services;
mod shortcut;
pub mod user_conversations;
pub mod users;
pub mod webhook_settings;

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::Router;

use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::http::header::{ALLOW, CONTENT_TYPE, USER_AGENT};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower::Service;

use crate::error::{ApiError, ErrorBody, ErrorCause, NeedsResourcePath, TwilioCode};
use crate::extract::{ActingAs, ParsedPath, ProxiedBase, RequestContext};
use crate::request_log::{self, RequestLog};
use crate::state::AppState;

/// Where conversations live on each URL form: the account's default service, or one named
/// in the path.
const CONVERSATION_FORMS: [&str; 2] = ["/v1/Conversations", "/v1/Services/{ChatServiceSid}/Conversations"];

/// The whole application as one service: the Messages routes through the shortcut
/// (`routes::shortcut`), everything else (and any message path the shortcut is not certain
/// of) through axum's router (`routes::router`).
#[derive(Clone, Debug)]
pub struct App {
    router: Router,
    state: AppState,
}

impl App {
    /// The application serving `state`.
    pub fn new(state: AppState) -> Self {
        Self { router: router(&state).with_state(state.clone()), state }
    }
}

impl Service<Request> for App {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> Self::Future {
        // Only a proxy request names its target (`CONNECT host:443`, or an absolute URI),
        // so this one test of a field keeps proxy mode off the API's path.
        if request.uri().authority().is_some() {
            return proxy::answer(self.clone(), request);
        }
        self.route(request)
    }
}

impl App {
    /// Serves an API request (sent directly, or through a tunnel of proxy mode).
    fn route(&mut self, request: Request) -> <Self as Service<Request>>::Future {
        match shortcut::recognise(request.method(), request.uri().path()) {
            Some(shortcut::Recognised { operation, route, path }) => {
                let state = self.state.clone();
                Box::pin(async move {
                    let handle = |request| operation.handle(request, state.clone());
                    Ok(answer(&state, Some(route), Some(path), request, handle).await)
                })
            }
            // The inspector's requests for an account: made into the Twilio request they
            // name and dispatched again (to the shortcut, when it is a Messages path).
            None if request.uri().path().starts_with(emulator::inspector::ACTING_PREFIX) => {
                match emulator::inspector::acting_as(&self.state, request) {
                    Ok(request) => self.call(request),
                    Err(error) => Box::pin(std::future::ready(Ok(error.into_response()))),
                }
            }
            None => Box::pin(self.router.call(request)),
        }
    }
}

/// All routes, with the control plane observing every request. The conversation routes
/// (with their messages, participants and receipts) are mounted once per URL form, so one
/// handler serves each operation on both. They are mounted as full paths rather than
/// nested routers: nesting costs a URI rewrite and a router clone on every request
/// (BENCHMARKS.md, "routes mounted at full paths").
pub fn router(state: &AppState) -> Router<AppState> {
    CONVERSATION_FORMS
        .into_iter()
        .fold(Router::new(), conversations::mount)
        .merge(CONVERSATION_FORMS.into_iter().fold(Router::new(), conversation_webhooks::mount))
        .merge(conversations::with_participants_router())
        .merge(chat::router())
        .merge(services::router())
        .merge(media::router())
        .merge(configuration::router())
        .merge(webhook_settings::router())
        .merge(address_configurations::router())
        .merge(roles::router())
        .merge(credentials::router())
        .merge(bindings::router())
        .merge(notifications::router())
        .merge(users::USER_FORMS.into_iter().fold(Router::new(), users::mount))
        .merge(users::USER_FORMS.into_iter().fold(Router::new(), user_conversations::mount))
        .merge(participant_conversations::router())
        .merge(emulator::router(state))
        .fallback(unknown_route)
        .layer(middleware::from_fn_with_state(state.clone(), around_every_request))
}

/// The one middleware of the router: see [`answer`]. It must be added with
/// [`Router::layer`], which axum applies to each route *after* routing: the request then
/// carries its `MatchedPath`, the `route` label of the metrics.
async fn around_every_request(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().cloned();
    answer(&state, route.as_ref().map(MatchedPath::as_str), None, request, |request| next.run(request)).await
}

/// Everything around a handler (`handle`), for routes matched by the router or by the
/// [`shortcut`]: the request's [`RequestContext`] is resolved (the account, the base URL,
/// and the `path` the shortcut parsed) for the control plane and the handler's extractors
/// alike, the control plane observes the request, error responses get their Twilio
/// envelope, the cause of an internal error is logged at `error` (the client sees only
/// Twilio's 20500), and the request is logged at `info` (account, method, path, status,
/// Twilio error code, duration to the response head). One layer rather than three (with `tower_http`'s `TraceLayer`), because
/// each layer of a router is cloned, boxed and polled on every request.
async fn answer<Handled>(
    state: &AppState,
    route: Option<&str>,
    path: Option<ParsedPath>,
    mut request: Request,
    handle: impl FnOnce(Request) -> Handled,
) -> Response
where
    Handled: Future<Output = Response>,
{
    let started = Instant::now();
    let method = request.method().clone();
    let uri = request.uri().clone();
    // At `debug`, what the `info` line leaves out: the query, the route matched and which
    // client sent it (an SDK names itself in `User-Agent`). A disabled level costs one
    // comparison here.
    tracing::debug!(
        target: request_log::TARGET,
        %method,
        path = uri.path(),
        query = uri.query().unwrap_or(""),
        route = route.unwrap_or("(none)"),
        user_agent = request.headers().get(USER_AGENT).and_then(|agent| agent.to_str().ok()).unwrap_or(""),
        content_type = request.headers().get(CONTENT_TYPE).and_then(|agent| agent.to_str().ok()).unwrap_or(""),
        "request received"
    );
    let context = match request.extensions().get::<ActingAs>() {
        Some(&ActingAs(account)) => RequestContext::acting_as(account, request.headers(), &state.settings, path),
        None => {
            let proxied = request.extensions().get::<ProxiedBase>();
            RequestContext::resolve(request.headers(), &state.settings, path, proxied)
        }
    };
    let account = context.account.as_ref().ok().copied();
    request.extensions_mut().insert(context);
    let response = observe::observe(state, route, account, request, handle).await;
    let response = twilio_envelope(uri.path(), response);
    if let Some(ErrorCause(cause)) = response.extensions().get() {
        tracing::error!(%method, path = uri.path(), status = response.status().as_u16(), %cause, "internal error");
    }
    if RequestLog::enabled() {
        state.request_log.record(&request_log::Line {
            account,
            method: &method,
            path: uri.path(),
            status: response.status().as_u16(),
            code: response.extensions().get::<TwilioCode>().map(|TwilioCode(code)| *code),
            duration_us: u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
        });
    }
    response
}

/// Any path Twilio does not serve.
async fn unknown_route() -> ApiError {
    ApiError::NotFound
}

/// Finishes error responses that need the request: a 404 names the request path, and the
/// router's bare 405 gets Twilio's JSON body while keeping its `Allow` header.
fn twilio_envelope(path: &str, response: Response) -> Response {
    if response.extensions().get::<NeedsResourcePath>().is_some() {
        return ErrorBody::not_found(path).into_response_with_status();
    }
    if response.status() == StatusCode::METHOD_NOT_ALLOWED && !response.headers().contains_key(CONTENT_TYPE) {
        let allow = response.headers().get(ALLOW).cloned();
        let mut twilio = ApiError::MethodNotAllowed.into_response();
        if let Some(allow) = allow {
            twilio.headers_mut().insert(ALLOW, allow);
        }
        return twilio;
    }
    response
}
