//! Proxy mode: the emulator answers as an HTTP proxy for Twilio's hosts, so that an
//! unmodified SDK reaches it with `HTTPS_PROXY` and the emulator's CA trusted.
//!
//! `CONNECT conversations.twilio.com:443` (or `chat.twilio.com`, `mcs.us1.twilio.com`) is
//! answered `200`, and the tunnel is served here: TLS is terminated with the certificate
//! the emulator's CA issued ([`crate::ca`]), then the same [`App`] serves each request,
//! with `https://` and the real host in every `url`, `links` and page URL
//! ([`ProxiedBase`]). A plain-HTTP request in absolute form (`GET http://chat.twilio.com/…`,
//! what `HTTP_PROXY` sends) is served directly, its links on its `Host`. Any other host is
//! refused with a 403 naming the emulated ones: nothing is ever forwarded to the network.
//!
//! Proxy mode shares the API's port rather than taking one of its own: users then set one
//! address for both, and `App` tells a proxy request from an API request by one field
//! (the request target's authority), tested before anything else.

use std::convert::Infallible;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use hyper::body::Incoming;
use hyper::upgrade::Upgraded;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio_rustls::TlsAcceptor;

use super::App;
use crate::ca::EMULATED_HOSTS;
use crate::error::ApiError;
use crate::extract::ProxiedBase;

/// The port a tunnel may go to: TLS to Twilio's API.
const HTTPS_PORT: u16 = 443;

/// Answers a request whose target names a host: a `CONNECT`, or an absolute URI.
pub(super) fn answer(mut app: App, mut request: Request) -> <App as tower::Service<Request>>::Future {
    let Some(target) = request.uri().authority().cloned() else {
        return app.route(request);
    };
    let Some(host) = emulated(target.host()) else {
        tracing::info!(method = %request.method(), %target, "proxy request refused: not a Twilio host it emulates");
        return refuse(ApiError::ProxyHostNotEmulated { host: target.to_string() });
    };
    if request.method() != Method::CONNECT {
        // Plain HTTP to a Twilio host: answered here, as it would be sent directly.
        return match target.port_u16() {
            None | Some(80) => app.route(request),
            Some(_) => refuse(ApiError::ProxyHostNotEmulated { host: target.to_string() }),
        };
    }
    if target.port_u16() != Some(HTTPS_PORT) {
        return refuse(ApiError::ProxyHostNotEmulated { host: target.to_string() });
    }
    let tls = match &app.state.authority {
        Ok(authority) => authority.tls(),
        Err(_) => return refuse(ApiError::ProxyOff),
    };
    // The client sends its TLS handshake once it has the 200; hyper hands the connection
    // over when the response is written.
    let upgrade = hyper::upgrade::on(&mut request);
    let base = ProxiedBase(Arc::from(format!("https://{host}")));
    tokio::spawn(async move {
        match upgrade.await {
            Ok(upgraded) => serve_tunnel(app, upgraded, TlsAcceptor::from(tls), base).await,
            Err(error) => tracing::debug!(%error, "proxy tunnel not opened"),
        }
    });
    Box::pin(async { Ok(StatusCode::OK.into_response()) })
}

/// The canonical name of `host` if proxy mode emulates it (host names are case-insensitive).
fn emulated(host: &str) -> Option<&'static str> {
    EMULATED_HOSTS.into_iter().find(|emulated| emulated.eq_ignore_ascii_case(host))
}

fn refuse(error: ApiError) -> <App as tower::Service<Request>>::Future {
    Box::pin(async move { Ok(error.into_response()) })
}

/// Serves one tunnel: TLS with the emulator's certificate, then HTTP/1.1 requests, each
/// answered by `app` as if sent directly, but with links on `base`.
async fn serve_tunnel(app: App, upgraded: Upgraded, acceptor: TlsAcceptor, base: ProxiedBase) {
    let stream = match acceptor.accept(TokioIo::new(upgraded)).await {
        Ok(stream) => stream,
        // A client that does not trust the CA ends here, with its own error message.
        Err(error) => {
            tracing::info!(%error, "proxy tunnel: TLS handshake failed (does the client trust the emulator's CA?)");
            return;
        }
    };
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let mut request = request.map(Body::new);
        request.extensions_mut().insert(base.clone());
        let mut app = app.clone();
        async move { Ok::<Response, Infallible>(app.route(request).await.unwrap_or_else(|never| match never {})) }
    });
    let served = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .serve_connection(TokioIo::new(stream), service)
        .await;
    if let Err(error) = served {
        tracing::debug!(%error, "proxy tunnel closed with an error");
    }
}
