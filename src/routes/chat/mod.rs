//! Programmable Chat v2 (`/v2/Services/{IS}/Channels…`), deprecated by Twilio but still
//! in use, served from the same store as Conversations: a channel is a conversation and a
//! chat message a conversation message, each shown in its own API's representation.
//! <https://www.twilio.com/docs/chat/rest>

mod channels;
mod messages;

use axum::Router;

use crate::state::AppState;

/// The Chat v2 routes. Path parameters carry the Conversations names (`ChatServiceSid`,
/// `ConversationSid`, `MessageSid`) so that the same extractors read both APIs' paths.
pub fn router() -> Router<AppState> {
    channels::mount(Router::new(), "/v2/Services/{ChatServiceSid}/Channels")
}
