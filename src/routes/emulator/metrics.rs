//! `/_emulator/metrics`: the request metrics ([`crate::control::metrics`]) and gauges read
//! from the store and the control plane, for a Prometheus scrape.

use axum::Router;
use axum::extract::State;
use axum::http::header::{CONTENT_TYPE, HeaderName};
use axum::routing::get;

use crate::control::metrics::Gauges;
use crate::error::ApiError;
use crate::state::AppState;

/// The content type Prometheus expects for the text format.
const CONTENT_TYPE_PROMETHEUS: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The metrics route, with its full path.
pub fn router() -> Router<AppState> {
    Router::new().route("/_emulator/metrics", get(render))
}

/// `GET /_emulator/metrics`: every series and gauge, in the Prometheus text format.
async fn render(State(state): State<AppState>) -> Result<([(HeaderName, &'static str); 1], String), ApiError> {
    let stats = state.store.stats();
    let control = &state.control;
    let gauges = Gauges {
        accounts: stats.accounts,
        services: stats.services,
        conversations: stats.conversations,
        messages: stats.messages,
        journal_entries: control.journal().len(),
        fault_rules: control.faults().len(),
        faults_fired: control.faults().fired_total(),
        uptime_seconds: state.started.elapsed().as_secs_f64(),
    };
    let out =
        control.metrics().render(&gauges).map_err(|error| ApiError::Internal(format!("rendering metrics: {error}")))?;
    Ok(([(CONTENT_TYPE, CONTENT_TYPE_PROMETHEUS)], out))
}
