//! Programmable Chat v2 (`/v2/Services/{IS}/Channels…`), deprecated by Twilio but still
//! in use, served from the same store as Conversations: a channel is a conversation and a
//! chat message a conversation message, each shown in its own API's representation.
//! <https://www.twilio.com/docs/chat/rest>

mod bindings;
mod channels;
mod invites;
mod members;
mod messages;
mod roles;
mod services;
mod users;

use axum::Router;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::state::AppState;
use crate::store::StoreError;

/// The Chat v2 routes. Path parameters carry the Conversations names (`ChatServiceSid`,
/// `ConversationSid`, `MessageSid`) so that the same extractors read both APIs' paths.
pub fn router() -> Router<AppState> {
    let router = channels::mount(Router::new(), "/v2/Services/{ChatServiceSid}/Channels");
    let router = users::mount(router, "/v2/Services/{ChatServiceSid}/Users");
    let router = bindings::mount(
        router,
        "/v2/Services/{ChatServiceSid}/Bindings",
        "/v2/Services/{ChatServiceSid}/Users/{UserSid}/Bindings",
    );
    roles::mount(router, "/v2/Services/{ChatServiceSid}/Roles").merge(services::router())
}

/// A Chat v2 handler's error: an [`ApiError`], with the store's refusals read as Chat reads
/// them ([`ApiError::from_chat`]: a missing channel is Chat's 50300, not 20404), so that `?`
/// on a store call gets Chat's code without a `map_err`.
#[derive(Debug)]
struct ChatError(ApiError);

impl From<StoreError> for ChatError {
    fn from(error: StoreError) -> Self {
        Self(ApiError::from_chat(error))
    }
}

impl From<ApiError> for ChatError {
    fn from(error: ApiError) -> Self {
        Self(error)
    }
}

impl IntoResponse for ChatError {
    fn into_response(self) -> Response {
        self.0.into_response()
    }
}

/// Checks that the service exists first, so that a missing member or user is told apart
/// from a missing service (both are the store's `NotFound`, Chat gives them different
/// codes).
fn service_exists(
    state: &AppState,
    account: crate::sid::AccountSid,
    scope: crate::store::ServiceScope,
) -> Result<(), ChatError> {
    state.store.service_sid(account, scope).map(drop).map_err(ChatError::from)
}
