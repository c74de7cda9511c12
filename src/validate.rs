//! Checks that parameters are within Twilio's documented limits, each failing with its own
//! Twilio error code. Limits: <https://www.twilio.com/docs/conversations/conversations-limits>.

use crate::error::ApiError;
use crate::store::limits::{self, Violation};
pub use crate::store::limits::{CONVERSATION_ATTRIBUTES_MAX_BYTES, MESSAGE_ATTRIBUTES_MAX_BYTES, NAME_MAX_CHARS};
use crate::time::Timestamp;

/// `Attributes` must be valid JSON within `max_bytes`.
pub fn attributes(value: Option<String>, max_bytes: usize) -> Result<Option<String>, ApiError> {
    let Some(value) = value else { return Ok(None) };
    limits::attributes(&value, max_bytes).map_err(|violation| match violation {
        Violation::NotJson => ApiError::AttributesNotJson,
        Violation::TooLong | Violation::ShapedLikeSid => ApiError::AttributesTooLong,
    })?;
    Ok(Some(value))
}

/// A message `Body` within the chat limit.
pub fn body(value: Option<String>) -> Result<Option<String>, ApiError> {
    match value {
        Some(body) if limits::body(&body).is_err() => Err(ApiError::BodyTooLong),
        other => Ok(other),
    }
}

/// A name-like parameter (`Author`, `FriendlyName`, `UniqueName`) of at most 256 characters.
pub fn name(value: Option<String>, too_long: ApiError) -> Result<Option<String>, ApiError> {
    match value {
        Some(name) if limits::name(&name).is_err() => Err(too_long),
        other => Ok(other),
    }
}

/// A conversation's (or channel's) `UniqueName`: at most 256 characters, and not shaped
/// like a `CH…` SID. Conversations and Chat refuse the latter with different codes, hence
/// `shaped_like_sid`.
pub fn unique_name(value: Option<String>, shaped_like_sid: ApiError) -> Result<Option<String>, ApiError> {
    let Some(value) = value else { return Ok(None) };
    match limits::unique_name(&value) {
        Ok(()) => Ok(Some(value)),
        Err(Violation::ShapedLikeSid) => Err(shaped_like_sid),
        Err(Violation::TooLong | Violation::NotJson) => Err(ApiError::UniqueNameTooLong),
    }
}

/// `MediaSid`: an `ME…` SID, or Twilio's 50510.
pub fn media_sid(value: Option<&str>) -> Result<Option<crate::sid::MediaSid>, ApiError> {
    value.map(|raw| raw.parse().map_err(|_| ApiError::InvalidMediaSid)).transpose()
}

/// `DateCreated`, in RFC 3339.
pub fn date_created(value: Option<&str>) -> Result<Option<Timestamp>, ApiError> {
    value.map(|raw| Timestamp::parse_rfc3339(raw).map_err(|_| ApiError::InvalidDateCreated)).transpose()
}

/// `DateUpdated`, in RFC 3339.
pub fn date_updated(value: Option<&str>) -> Result<Option<Timestamp>, ApiError> {
    value.map(|raw| Timestamp::parse_rfc3339(raw).map_err(|_| ApiError::InvalidDateUpdated)).transpose()
}

/// A message index parameter (`LastReadMessageIndex`, Chat's `LastConsumedMessageIndex`):
/// a non-negative integer.
pub fn message_index(name: &'static str, value: Option<String>) -> Result<Option<u64>, ApiError> {
    value
        .map(|raw| {
            raw.trim().parse::<u64>().map_err(|_| {
                let expected = crate::error::Expected::NonNegativeInteger;
                ApiError::invalid(name, crate::error::InvalidValue::NotA { value: raw, expected })
            })
        })
        .transpose()
}

/// An instant parameter (`LastReadTimestamp`, Chat's `LastConsumptionTimestamp`), in RFC 3339.
pub fn instant(name: &'static str, value: Option<String>) -> Result<Option<Timestamp>, ApiError> {
    value
        .map(|raw| {
            Timestamp::parse_rfc3339(&raw)
                .map_err(|_| ApiError::invalid(name, crate::error::InvalidValue::Malformed(raw)))
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_must_be_json_and_short() {
        assert_eq!(attributes(Some("{\"a\":1}".into()), 10).unwrap().as_deref(), Some("{\"a\":1}"));
        assert_eq!(attributes(Some("{".into()), 10), Err(ApiError::AttributesNotJson));
        assert_eq!(attributes(Some("\"0123456789\"".into()), 10), Err(ApiError::AttributesTooLong));
        assert_eq!(attributes(None, 10), Ok(None));
    }

    #[test]
    fn unique_names_are_short_and_not_shaped_like_sids() {
        let sid_shaped = Some("CH0123456789abcdef0123456789abcdef".to_owned());
        assert_eq!(unique_name(sid_shaped.clone(), ApiError::UniqueNameIsSid), Err(ApiError::UniqueNameIsSid));
        assert_eq!(unique_name(sid_shaped, ApiError::ChannelUniqueNameIsSid), Err(ApiError::ChannelUniqueNameIsSid));
        assert_eq!(unique_name(Some("x".repeat(257)), ApiError::UniqueNameIsSid), Err(ApiError::UniqueNameTooLong));
        assert_eq!(unique_name(Some("support".into()), ApiError::UniqueNameIsSid), Ok(Some("support".into())));
    }

    #[test]
    fn names_count_characters_not_bytes() {
        let wide = "é".repeat(NAME_MAX_CHARS);
        assert!(name(Some(wide.clone()), ApiError::AuthorTooLong).is_ok());
        assert_eq!(name(Some(wide + "é"), ApiError::AuthorTooLong), Err(ApiError::AuthorTooLong));
    }
}
