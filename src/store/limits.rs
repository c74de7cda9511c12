//! Twilio's documented limits on what a record may hold, as rules of the store's own:
//! the API checks requests against them (and answers each with its Twilio code, in
//! `crate::validate`), and an import checks documents against the same rules.
//! Limits: <https://www.twilio.com/docs/conversations/conversations-limits>.

use crate::sid::{ConversationSid, looks_like_sid};

/// Message attributes: 4 KB of JSON.
pub const MESSAGE_ATTRIBUTES_MAX_BYTES: usize = 4 * 1024;
/// Conversation attributes: 16 KB of JSON.
pub const CONVERSATION_ATTRIBUTES_MAX_BYTES: usize = 16 * 1024;
/// Message body in a chat-only conversation: 32 KB. (The 1,600-character limit applies
/// only where a message goes out over SMS or WhatsApp.)
pub const CHAT_BODY_MAX_BYTES: usize = 32 * 1024;
/// Author, friendly and unique names: 256 characters, like identities.
pub const NAME_MAX_CHARS: usize = 256;
/// An upload never attached to a message is gone this long after it was made, by the
/// emulator's clock (`/_emulator/clock` moves it). Twilio does not document how long it
/// keeps such uploads; a day is the emulator's choice (README, "Fidelity notes").
pub const UNATTACHED_MEDIA_TTL_SECONDS: i64 = 24 * 60 * 60;

/// How a value breaks a limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Violation {
    #[error("longer than allowed")]
    TooLong,
    #[error("not valid JSON")]
    NotJson,
    /// A unique name shaped like a `CH…` SID would make `/Conversations/{CH or name}`
    /// ambiguous.
    #[error("shaped like a conversation SID")]
    ShapedLikeSid,
}

/// Attributes: valid JSON within `max_bytes`.
pub fn attributes(value: &str, max_bytes: usize) -> Result<(), Violation> {
    if value.len() > max_bytes {
        return Err(Violation::TooLong);
    }
    // `IgnoredAny` checks the syntax without building a value.
    serde_json::from_str::<serde::de::IgnoredAny>(value).map(drop).map_err(|_| Violation::NotJson)
}

/// A message body within the chat limit.
pub fn body(value: &str) -> Result<(), Violation> {
    if value.len() > CHAT_BODY_MAX_BYTES { Err(Violation::TooLong) } else { Ok(()) }
}

/// A name-like value (author, friendly name, identity) of at most 256 characters.
pub fn name(value: &str) -> Result<(), Violation> {
    if value.chars().count() > NAME_MAX_CHARS { Err(Violation::TooLong) } else { Ok(()) }
}

/// A conversation's unique name: a name, and not shaped like a `CH…` SID.
pub fn unique_name(value: &str) -> Result<(), Violation> {
    name(value)?;
    if looks_like_sid(value, ConversationSid::PREFIX) { Err(Violation::ShapedLikeSid) } else { Ok(()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_must_be_json_and_short() {
        assert_eq!(attributes("{\"a\":1}", 10), Ok(()));
        assert_eq!(attributes("{", 10), Err(Violation::NotJson));
        assert_eq!(attributes("\"0123456789\"", 10), Err(Violation::TooLong));
    }

    #[test]
    fn unique_names_are_short_and_not_shaped_like_sids() {
        assert_eq!(unique_name("CH0123456789abcdef0123456789abcdef"), Err(Violation::ShapedLikeSid));
        assert_eq!(unique_name(&"x".repeat(257)), Err(Violation::TooLong));
        assert_eq!(unique_name("support"), Ok(()));
    }

    #[test]
    fn names_count_characters_not_bytes() {
        let wide = "é".repeat(NAME_MAX_CHARS);
        assert_eq!(name(&wide), Ok(()));
        assert_eq!(name(&(wide + "é")), Err(Violation::TooLong));
    }
}
