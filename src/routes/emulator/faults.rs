//! `/_emulator/faults`: creating, reading and deleting the fault rules
//! ([`crate::control::faults`]) that the `observe` middleware applies.
//!
//! - `POST /_emulator/faults` (JSON), `GET /_emulator/faults`, `GET` and
//!   `DELETE /_emulator/faults/{id}`, `DELETE /_emulator/faults`.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderName, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use crate::control::faults::{FaultId, InvalidRule, NewRule, RuleSpec, RuleView, TooManyRules};
use crate::error::{ApiError, Expected, InvalidValue};
use crate::extract::ControlJson;
use crate::state::AppState;

/// The fault-rule routes, with their full paths.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/_emulator/faults", get(list).post(create).delete(clear))
        .route("/_emulator/faults/{id}", get(fetch).delete(delete))
}

/// A refused rule as Twilio's 400 (code 20001), naming the field as the client wrote it.
impl From<InvalidRule> for ApiError {
    fn from(invalid: InvalidRule) -> Self {
        let must_be =
            |parameter, value: String, expected| Self::invalid(parameter, InvalidValue::MustBe { value, expected });
        match invalid {
            InvalidRule::Empty => Self::EmptyFaultRule,
            InvalidRule::Method(value) => {
                Self::invalid("method", InvalidValue::IsNot { value, expected: Expected::HttpMethod })
            }
            InvalidRule::Path(error) => Self::invalid("`path`", InvalidValue::Unparsable(error.to_string())),
            InvalidRule::ControlPath(path) => Self::invalid("path", InvalidValue::NeverMatches(path)),
            InvalidRule::Account(error) => Self::invalid("`account`", InvalidValue::Unparsable(error.to_string())),
            InvalidRule::Status(status) => must_be("error.status", status.to_string(), Expected::HttpErrorStatus),
            InvalidRule::Code(code) => must_be("error.code", code.to_string(), Expected::TwilioErrorCode),
            InvalidRule::Latency { latency_ms, max } => {
                must_be("latency_ms", latency_ms.to_string(), Expected::AtMost(max))
            }
            InvalidRule::ZeroTimes => Self::invalid("times", InvalidValue::ZeroTimes),
            InvalidRule::Probability(probability) => {
                must_be("probability", probability.to_string(), Expected::Probability)
            }
            InvalidRule::MessageTooLong { max } => Self::invalid("error.message", InvalidValue::LongerThan(max)),
        }
    }
}

impl From<TooManyRules> for ApiError {
    fn from(TooManyRules { max }: TooManyRules) -> Self {
        Self::TooManyFaultRules { max }
    }
}

#[derive(Debug, Serialize)]
struct RuleList {
    faults: Vec<RuleView>,
}

/// `POST /_emulator/faults`: adds a rule (JSON body) and answers 201 with it.
async fn create(
    State(state): State<AppState>,
    ControlJson(new): ControlJson<NewRule>,
) -> Result<(StatusCode, [(HeaderName, String); 1], Json<RuleView>), ApiError> {
    let view = state.control.faults().add(RuleSpec::try_from(new)?)?;
    let location = format!("/_emulator/faults/{}", view.id);
    Ok((StatusCode::CREATED, [(LOCATION, location)], Json(view)))
}

/// `GET /_emulator/faults`: every rule, oldest first, with its counters.
async fn list(State(state): State<AppState>) -> Json<RuleList> {
    Json(RuleList { faults: state.control.faults().views() })
}

/// `GET /_emulator/faults/{id}`: one rule.
async fn fetch(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<RuleView>, ApiError> {
    let id = parse_id(id)?;
    state.control.faults().view(id).map(Json).ok_or(ApiError::NotFound)
}

/// `DELETE /_emulator/faults/{id}`: removes one rule.
async fn delete(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let id = parse_id(id)?;
    if state.control.faults().remove(id) { Ok(StatusCode::NO_CONTENT) } else { Err(ApiError::NotFound) }
}

/// `DELETE /_emulator/faults`: removes every rule.
async fn clear(State(state): State<AppState>) -> StatusCode {
    state.control.faults().clear();
    StatusCode::NO_CONTENT
}

/// A malformed ID names no rule, so it is a 404 like an unknown one.
fn parse_id(id: Result<Path<String>, PathRejection>) -> Result<FaultId, ApiError> {
    let Path(id) = id.map_err(|_| ApiError::NotFound)?;
    FaultId::parse(&id).ok_or(ApiError::NotFound)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(json: serde_json::Value) -> Result<RuleSpec, ApiError> {
        RuleSpec::try_from(serde_json::from_value::<NewRule>(json).expect("well-formed rule")).map_err(ApiError::from)
    }

    #[test]
    fn invalid_rules_are_refused_with_a_reason() {
        let cases = [
            (serde_json::json!({ "path": "/v1/**" }), "needs an `error`"),
            (serde_json::json!({ "error": { "status": 200 } }), "HTTP error status"),
            (serde_json::json!({ "error": { "status": 429, "code": 0 } }), "not 0"),
            (serde_json::json!({ "latency_ms": 60_001 }), "at most"),
            (serde_json::json!({ "latency_ms": 1, "times": 0 }), "at least 1"),
            (serde_json::json!({ "latency_ms": 1, "probability": 1.5 }), "between 0 and 1"),
            (serde_json::json!({ "latency_ms": 1, "method": "GE T" }), "not an HTTP method"),
            (serde_json::json!({ "latency_ms": 1, "path": "v1" }), "Invalid `path`"),
            (serde_json::json!({ "latency_ms": 1, "path": "/_emulator/**" }), "never match"),
            (serde_json::json!({ "latency_ms": 1, "account": "IS1" }), "Invalid `account`"),
            (serde_json::json!({ "error": { "status": 500, "message": "m".repeat(1025) } }), "longer than 1024"),
        ];
        for (json, expected) in cases {
            match spec(json.clone()) {
                Err(error @ ApiError::InvalidParameter(_) | error @ ApiError::EmptyFaultRule) => {
                    let message = error.to_string();
                    assert!(message.contains(expected), "{json}: {message}");
                }
                other => panic!("{json}: expected a 400, got {other:?}"),
            }
        }
    }
}
