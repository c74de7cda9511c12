//! The emulator's own routes, under `/_emulator/`, a prefix no Twilio route can use.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use crate::state::AppState;

/// The `/_emulator/` routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/_emulator/health", get(health))
}

#[derive(Debug, Serialize)]
struct Health {
    status: &'static str,
    version: &'static str,
    uptime_seconds: u64,
}

/// Liveness and readiness: once this answers, the API answers too. Needs no credentials.
async fn health(State(state): State<AppState>) -> Json<Health> {
    Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
        uptime_seconds: state.started.elapsed().as_secs(),
    })
}
