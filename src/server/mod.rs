//! The HTTP server loop under [`crate::serve`]: it accepts connections up to
//! `--max-connections`, serves each with hyper's HTTP/1.1, closes a connection whose
//! request head does not arrive within `--header-timeout-ms` or that sits idle between
//! requests longer than `--idle-timeout-ms`, answers the requests hyper refuses before the
//! router with Twilio's JSON error (`io`), and on shutdown gives the requests in flight
//! `--shutdown-grace-ms` to finish.
//!
//! axum's own `serve` has none of these: under it, a thousand half-sent requests held
//! every file descriptor, no socket was ever timed out, and a shutdown waited for ever on
//! a client that never finished its request (issue 17).

mod io;

use std::convert::Infallible;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::response::Response;
use axum::serve::Listener;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tower::Service;

use crate::routes::App;

/// How long connections may take, and how many there may be (`--header-timeout-ms`,
/// `--idle-timeout-ms`, `--max-connections`, `--shutdown-grace-ms`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// From a connection's acceptance, or the first byte of a later request, to the end of
    /// the request's head.
    pub header_timeout: Duration,
    /// Between the end of a response and the first byte of the next request.
    pub idle_timeout: Duration,
    /// Connections served at once; more wait in the listener's backlog until one closes.
    pub max_connections: usize,
    /// How long a shutdown waits for the requests in flight before closing their
    /// connections.
    pub shutdown_grace: Duration,
}

/// Serves `app` on `listener` until `shutdown` completes; then the listener is closed, the
/// connections that are not inside a request are closed, and the requests in flight get
/// `limits.shutdown_grace` to finish.
pub async fn serve<L>(mut listener: L, app: App, limits: ConnectionLimits, shutdown: impl Future<Output = ()>)
where
    L: Listener,
{
    let (closing, closed) = watch::channel(false);
    let mut connections = JoinSet::new();
    let mut shutdown = pin!(shutdown);
    loop {
        while connections.try_join_next().is_some() {}
        // At the limit, stop accepting: new clients wait in the kernel's backlog, where
        // they cost no file descriptor, until a connection closes (the timeouts bound how
        // long a connection that sends nothing useful can keep its place).
        if connections.len() >= limits.max_connections.max(1) {
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                _ = connections.join_next() => continue,
            }
        }
        let io = tokio::select! {
            biased;
            () = &mut shutdown => break,
            (io, _) = listener.accept() => io,
        };
        connections.spawn(connection(io, app.clone(), limits, closed.clone()));
    }
    drop(listener);
    // No receiver left only means no connection is open.
    let _ = closing.send(true);
    let drained =
        tokio::time::timeout(limits.shutdown_grace, async { while connections.join_next().await.is_some() {} });
    if drained.await.is_err() {
        tracing::warn!(
            open = connections.len(),
            grace_ms = u64::try_from(limits.shutdown_grace.as_millis()).unwrap_or(u64::MAX),
            "closing the connections still open after the shutdown grace period"
        );
        connections.shutdown().await;
    }
}

/// Serves one connection until it closes, times out, or the server shuts down.
async fn connection<I>(io: I, app: App, limits: ConnectionLimits, mut closing: watch::Receiver<bool>)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(io::TwilioShaped::new(io, Arc::clone(&activity)));
    let service = Served { app, activity: Arc::clone(&activity) };
    // hyper's own `header_read_timeout` is not used: its clock also runs while a kept-alive
    // connection waits for its next request, so it cannot tell a slow head from an idle
    // connection; `Activity` can.
    // With upgrades: proxy mode's `CONNECT` takes the connection over for its TLS tunnel
    // (`routes::proxy`), which then lives outside these timeouts, as a tunnel of its own.
    let mut served = pin!(http1::Builder::new().serve_connection(io, service).with_upgrades());
    // A phase that begins between two checks can end no sooner than the shorter timeout
    // after it, so checking at least that often, and at each deadline, closes every
    // connection exactly when its deadline passes.
    let check_every = limits.header_timeout.min(limits.idle_timeout);
    let mut timer = pin!(tokio::time::sleep(check_every));
    let mut draining = false;
    loop {
        tokio::select! {
            biased;
            result = served.as_mut() => {
                if let Err(error) = result {
                    tracing::debug!(%error, "connection closed on an error");
                }
                return;
            }
            _ = closing.changed(), if !draining => {
                draining = true;
                // A connection still waiting for its request's head owes no answer: it is
                // closed at once, so a client holding a partial request cannot hold up the
                // shutdown. hyper closes idle ones itself, and lets one inside a request
                // finish its response first.
                if activity.phase() == Phase::AwaitingHead {
                    return;
                }
                served.as_mut().graceful_shutdown();
            }
            () = &mut timer => {
                let now = Instant::now();
                match activity.deadline(&limits) {
                    Some(deadline) if deadline <= now => {
                        tracing::debug!(phase = ?activity.phase(), "connection timed out");
                        return;
                    }
                    Some(deadline) => timer.as_mut().reset(deadline.min(now + check_every)),
                    // Inside a request the application has the connection: checked again later.
                    None => timer.as_mut().reset(now + check_every),
                }
            }
        }
    }
}

/// The application as hyper's service for one connection, telling the connection's
/// [`Activity`] when a request enters and leaves it.
#[derive(Clone)]
struct Served {
    app: App,
    activity: Arc<Activity>,
}

impl hyper::service::Service<hyper::Request<Incoming>> for Served {
    type Response = Response;
    type Error = Infallible;
    type Future = Answering;

    fn call(&self, request: hyper::Request<Incoming>) -> Self::Future {
        self.activity.set(Phase::InApp);
        let answer = self.app.clone().call(request.map(Body::new));
        Answering { answer, activity: Arc::clone(&self.activity) }
    }
}

/// The application's answer to a request; the connection turns idle once it is ready.
struct Answering {
    answer: <App as Service<axum::extract::Request>>::Future,
    activity: Arc<Activity>,
}

impl Future for Answering {
    type Output = Result<Response, Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let answered = std::task::ready!(self.answer.as_mut().poll(cx));
        self.activity.set(Phase::Idle);
        Poll::Ready(answered)
    }
}

/// Where a connection is in its request cycle, which decides the timeout that applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Accepted, or a byte of a new request arrived: the head must be complete within the
    /// header timeout.
    AwaitingHead = 0,
    /// Between a response and the next request: the idle timeout applies.
    Idle = 1,
    /// The application has the request (its body included): no timeout applies, as a
    /// pre-event webhook or a fault rule's latency may legitimately take long.
    InApp = 2,
}

/// A connection's [`Phase`] and when it began. Its IO, its service and its timer all run
/// in the connection's one task, so these are never contended; they are atomics only
/// because hyper's service futures must be `Send`.
struct Activity {
    /// When the connection was accepted: phase times are counted from it.
    accepted: Instant,
    phase: AtomicU8,
    /// Milliseconds from `accepted` to the start of the current phase.
    since_ms: AtomicU64,
}

impl Activity {
    fn new() -> Self {
        Self { accepted: Instant::now(), phase: AtomicU8::new(Phase::AwaitingHead as u8), since_ms: AtomicU64::new(0) }
    }

    fn phase(&self) -> Phase {
        match self.phase.load(Ordering::Relaxed) {
            0 => Phase::AwaitingHead,
            1 => Phase::Idle,
            _ => Phase::InApp,
        }
    }

    fn set(&self, phase: Phase) {
        if phase != Phase::InApp {
            let since = u64::try_from(self.accepted.elapsed().as_millis()).unwrap_or(u64::MAX);
            self.since_ms.store(since, Ordering::Relaxed);
        }
        self.phase.store(phase as u8, Ordering::Relaxed);
    }

    /// Bytes arrived from the client: on an idle connection, a new request has begun.
    fn bytes_arrived(&self) {
        if self.phase() == Phase::Idle {
            self.set(Phase::AwaitingHead);
        }
    }

    /// When the connection is to be closed if its phase has not changed by then; `None`
    /// inside a request.
    fn deadline(&self, limits: &ConnectionLimits) -> Option<Instant> {
        let limit = match self.phase() {
            Phase::AwaitingHead => limits.header_timeout,
            Phase::Idle => limits.idle_timeout,
            Phase::InApp => return None,
        };
        let since = Duration::from_millis(self.since_ms.load(Ordering::Relaxed));
        Some(self.accepted + since + limit)
    }
}
