//! A local emulator of the Twilio Conversations Messages REST API.
//!
//! It serves Conversations v1 Messages on both URL forms (`/v1/Conversations/{CH}/Messages`
//! for the account's default service and `/v1/Services/{IS}/Conversations/{CH}/Messages`)
//! from one in-memory store, with the Services and Conversations they live in, so that the
//! official Twilio SDKs work against it with only their base URL changed.
//!
//! Module map:
//! - [`routes`]: the axum router, one module per resource, one handler per operation.
//! - [`extract`]: request extractors (credentials, path, form, query, headers).
//! - [`store`]: the tenant-isolated in-memory store.
//! - [`pagination`]: `PageSize`/`Page`/`PageToken` and the `meta` envelope.
//! - [`error`]: the one error type and Twilio's error body.
//! - [`sid`], [`time`], [`urls`], [`validate`]: the value types and rules shared by all.
//!
//! The library never binds a socket: [`serve`] takes a listener, so tests and the binary
//! choose where it listens.

pub(crate) mod auth;
pub mod config;
pub(crate) mod control;
pub(crate) mod error;
pub(crate) mod extract;
pub mod healthcheck;
pub mod json;
pub(crate) mod memo;
pub(crate) mod pagination;
pub(crate) mod routes;
pub(crate) mod sid;
pub(crate) mod state;
pub mod store;
pub(crate) mod time;
pub(crate) mod urls;
pub mod validate;

use std::future::Future;

use axum::ServiceExt;
use axum::serve::Listener;

pub use config::Config;
pub use routes::App;
pub use state::AppState;

/// The complete application: every route, with one `info` log line per request (method,
/// path, status, latency).
pub fn app(state: AppState) -> routes::App {
    routes::App::new(state)
}

/// Serves [`app`] on `listener` (a `tokio::net::TcpListener`, or any axum listener) until
/// `shutdown` completes; then the listener is closed, so new connections are refused, and
/// the requests in flight finish.
pub async fn serve<L>(
    listener: L,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()>
where
    L: Listener,
    L::Addr: std::fmt::Debug,
{
    axum::serve(listener, app(state).into_make_service()).with_graceful_shutdown(shutdown).await
}
