//! A local emulator of the Twilio Conversations REST API.
//!
//! It serves Conversations v1 on both URL forms (`/v1/Conversations/…` for the account's
//! default service and `/v1/Services/{IS}/Conversations/…`), sends the webhooks Twilio
//! sends, and serves Programmable Chat v2 over the same in-memory store, so that the
//! official Twilio SDKs work against it with only their base URL changed.
//!
//! Module map (every module, one line each). `config`, `banner` and `healthcheck` are public for the
//! binary; `store` is public for a program that embeds the emulator and subscribes to its
//! change feed (`Store::subscribe`; the webhooks read its lossless tap, `Store::webhook_tap`);
//! the rest is the crate's own.
//! - `routes`: the HTTP surface: [`App`] (the Messages shortcut, then axum's router), one
//!   module per resource with one handler per operation, the `/_emulator/` endpoints
//!   (`routes::emulator`, the control plane's among them), and the one middleware, which
//!   runs every Twilio request past the control plane (`routes::observe`); and proxy mode
//!   (`routes::proxy`), which answers `CONNECT` for Twilio's hosts and serves the API
//!   inside the tunnel.
//! - [`ca`]: proxy mode's certificate authority, kept in the data directory, and the TLS
//!   configuration of the certificate it issues for Twilio's hosts.
//! - `extract`: the request context (account, base URL, the shortcut's parsed path, resolved
//!   once per request) and the extractors over it and over paths, forms, queries, headers.
//! - `auth`: HTTP Basic credentials, permissive by default, strict with `--accounts`.
//! - `control`: the control plane's plain types: request journal, fault and latency rules,
//!   metrics; no handlers.
//! - [`store`]: the tenant-isolated store. Every write is checked into typed `Change`s,
//!   then committed: made durable (the state file, `store::persist`), applied (by the one
//!   function that changes the tables, in `store::tables`) and published on the change
//!   feed (`store::feed`). Import, replay and the control plane commit changes the same
//!   way. It knows no HTTP type: `store::limits` and `store::selection` are its own rules
//!   and paging.
//! - `state`: [`AppState`], what every request shares, and the start-up loading of seeds.
//! - [`config`]: the command-line flags and their environment variables.
//! - `error`: the one error type and Twilio's error body.
//! - `pagination`: the edge of paging: `PageSize`/`Page`/`PageToken`, tokens, page URLs
//!   and the `meta` envelope, over the store's selection.
//! - `json`: the hand-written JSON writer of the hottest responses.
//! - `sid`: typed SIDs and the seeded generator.
//! - `time`: timestamps in Twilio's format, and the settable clock.
//! - `urls`: the absolute `url` and `links` of a resource on the request's URL form.
//! - `validate`: request parameters checked against the store's limits, each refusal with
//!   its Twilio code.
//! - `live`: the inspector's live stream: the change feed kept in a ring, so that a page
//!   that reconnects resumes after the last change it saw.
//! - `memo`: a per-thread memo of a function's last answer (a timestamp's day).
//! - `request_log`: the `info` line per request, written off the request path.
//! - `webhooks`: Conversations webhooks: post-events from the store's webhook tap, in
//!   commit order per conversation and URL, pre-events sent by the handlers before they
//!   write, signatures, retries and the delivery log.
//! - `server`: the connection loop under [`serve`]: the connection limit, the header and
//!   idle timeouts, the shutdown's grace period, and Twilio's JSON for the requests hyper
//!   refuses before the router.
//! - [`healthcheck`]: the `healthcheck` subcommand, for Docker.
//! - [`banner`]: what the binary prints on start-up.
//! - `fuzzing`: the checks of the fuzz targets (`fuzz/`), with the `fuzzing` feature only.
//!
//! Layers point one way: `routes` uses everything below it; `extract` uses `state` and
//! `auth`; `state` holds the `store`, the `control` plane and the `ca`; `store` and `control` know no
//! handler, no application state and no module above them. No module imports one that
//! imports it back.
//!
//! The library never binds a socket: [`serve`] takes a listener, so tests and the binary
//! choose where it listens.

pub(crate) mod auth;
pub mod banner;
pub mod ca;
pub mod config;
pub(crate) mod control;
pub(crate) mod error;
pub(crate) mod extract;
/// The checks the fuzz targets run (`fuzz/`): not part of the API.
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzzing;
pub mod healthcheck;
pub(crate) mod json;
pub(crate) mod live;
pub(crate) mod memo;
pub(crate) mod pagination;
pub(crate) mod request_log;
pub(crate) mod routes;
pub(crate) mod server;
pub(crate) mod sid;
pub(crate) mod state;
pub mod store;
pub(crate) mod time;
pub(crate) mod urls;
pub(crate) mod validate;
pub(crate) mod webhooks;

use std::future::Future;

use axum::serve::Listener;

pub use config::Config;
pub use routes::App;
pub use routes::emulator::inspector::url as inspector_url;
pub use state::AppState;

/// The complete application: every route, with one `info` log line per request (method,
/// path, status, latency).
pub fn app(state: AppState) -> routes::App {
    routes::App::new(state)
}

/// Serves [`app`] on `listener` (a `tokio::net::TcpListener`, or any axum listener) until
/// `shutdown` completes; then the listener is closed, so new connections are refused,
/// connections still waiting for a request's head are closed, and the requests in flight
/// get the shutdown grace period (`--shutdown-grace-ms`) to finish. Connections are
/// limited and timed out as `--max-connections`, `--header-timeout-ms` and
/// `--idle-timeout-ms` say.
pub async fn serve<L>(
    listener: L,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()>
where
    L: Listener,
{
    state.webhooks.start();
    let limits = state.settings.connections;
    server::serve(listener, app(state), limits, shutdown).await;
    Ok(())
}
