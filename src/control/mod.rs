//! The test-facing control plane that watches and shapes Twilio API traffic: the request
//! journal, fault and latency injection, and metrics. Its HTTP endpoints live under
//! `/_emulator/`; [`observe`] is the middleware that feeds it.

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::state::AppState;

/// The journal, fault rules and metrics of one running emulator.
#[derive(Debug, Default)]
pub struct ControlPlane {}

impl ControlPlane {
    /// A control plane whose journal keeps at most `journal_size` requests.
    pub fn new(journal_size: usize) -> Self {
        let _ = journal_size;
        Self {}
    }
}

/// The control-plane endpoints (journal, faults, metrics), merged under `/_emulator/`.
pub fn router() -> Router<AppState> {
    Router::new()
}

/// Middleware over every request: Twilio API requests are journaled, counted and subject
/// to fault rules; `/_emulator/` requests pass untouched.
pub async fn observe(State(_state): State<AppState>, request: Request, next: Next) -> Response {
    next.run(request).await
}
