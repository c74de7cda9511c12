//! `/_emulator/requests`: reading and clearing the request journal
//! ([`crate::control::journal`]), which the `observe` middleware fills.
//!
//! - `GET /_emulator/requests?account=AC…&path=…&method=POST&limit=N`: the journal, oldest
//!   first (newest last). `path` is a substring, or a glob when it contains `*`.
//! - `DELETE /_emulator/requests`: empties the journal.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::{CONTENT_TYPE, HeaderName};
use axum::routing::get;
use serde::{Deserialize, Serialize};

use crate::control::journal::{EntryView, Filter, PathFilter};
use crate::control::pattern::PathPattern;
use crate::error::{ApiError, InvalidValue};
use crate::extract::TwilioQuery;
use crate::sid::AccountSid;
use crate::state::AppState;

/// The journal's routes, with their full paths.
pub fn router() -> Router<AppState> {
    Router::new().route("/_emulator/requests", get(list).delete(clear))
}

/// The query of `GET /_emulator/requests`. Unknown parameters are refused so that a typo
/// does not silently return everything.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    account: Option<String>,
    path: Option<String>,
    method: Option<String>,
    limit: Option<usize>,
}

impl TryFrom<ListQuery> for Filter {
    type Error = ApiError;

    fn try_from(query: ListQuery) -> Result<Self, ApiError> {
        let account = query
            .account
            .map(|account| account.parse::<AccountSid>())
            .transpose()
            .map_err(|error| ApiError::invalid("`account`", InvalidValue::Unparsable(error.to_string())))?;
        let path = query
            .path
            .map(|path| {
                if PathPattern::is_glob(&path) {
                    path.parse()
                        .map(PathFilter::Glob)
                        .map_err(|error| ApiError::invalid("`path`", InvalidValue::Unparsable(error.to_string())))
                } else {
                    Ok(PathFilter::Substring(path))
                }
            })
            .transpose()?;
        Ok(Self { account, path, method: query.method, limit: query.limit })
    }
}

#[derive(Debug, Serialize)]
struct Listing<'a> {
    requests: Vec<EntryView<'a>>,
}

/// `GET /_emulator/requests`: the journaled requests that match every given filter,
/// oldest first (newest last).
async fn list(
    State(state): State<AppState>,
    TwilioQuery(query): TwilioQuery<ListQuery>,
) -> Result<([(HeaderName, &'static str); 1], Vec<u8>), ApiError> {
    let filter = Filter::try_from(query)?;
    let entries = state.control.journal().select(&filter);
    let listing = Listing { requests: entries.iter().map(EntryView::of).collect() };
    // Serialized here, not by `Json`, because the views borrow from `entries`.
    let json = serde_json::to_vec(&listing).map_err(|error| ApiError::Internal(format!("journal listing: {error}")))?;
    Ok(([(CONTENT_TYPE, "application/json")], json))
}

/// `DELETE /_emulator/requests`: empties the journal.
async fn clear(State(state): State<AppState>) -> StatusCode {
    state.control.journal().clear();
    StatusCode::NO_CONTENT
}
