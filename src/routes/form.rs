//! A form body read as its list of pairs, for the resources whose parameters repeat
//! (`Filters=a&Filters=b`, as every SDK sends a list), which a struct cannot receive.

use std::sync::Arc;

use axum::http::Uri;

use crate::error::{ApiError, Expected, InvalidValue};
use crate::store::webhook_model::{HttpMethod, WebhookEvent};

/// The form's pairs, in the order sent.
#[derive(Debug, Default)]
pub struct FormPairs(pub Vec<(String, String)>);

impl FormPairs {
    /// The value of `name`; the last one when it is repeated, as a plain form field reads.
    pub fn one(&self, name: &str) -> Option<&str> {
        self.0.iter().rev().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }

    /// Every value of `name`, in order; `None` when it was not sent at all.
    pub fn all(&self, name: &str) -> Option<Vec<&str>> {
        let values: Vec<&str> = self.0.iter().filter(|(key, _)| key == name).map(|(_, v)| v.as_str()).collect();
        (!values.is_empty()).then_some(values)
    }

    /// The value of `name` read by `parse`; a 20001 naming `name` when it does not read.
    pub fn parsed<T>(
        &self,
        name: &'static str,
        parse: impl Fn(&str) -> Option<T>,
        expected: Expected,
    ) -> Result<Option<T>, ApiError> {
        self.one(name)
            .map(|raw| {
                parse(raw)
                    .ok_or_else(|| ApiError::invalid(name, InvalidValue::NotA { value: raw.to_owned(), expected }))
            })
            .transpose()
    }

    /// `name` as a SID of type `T`; a 20001 when it is not one.
    pub fn sid<T: std::str::FromStr>(&self, name: &'static str) -> Result<Option<T>, ApiError> {
        self.one(name)
            .map(|raw| raw.parse().map_err(|_| ApiError::invalid(name, InvalidValue::Malformed(raw.to_owned()))))
            .transpose()
    }

    /// `name` as a webhook URL: absolute, `http` or `https` (the spec's `format: uri`; the
    /// emulator can deliver to nothing else), or empty, which callers read as "none"; a
    /// 20001 otherwise.
    pub fn url(&self, name: &'static str) -> Result<Option<&str>, ApiError> {
        match self.one(name) {
            Some(raw) if !raw.is_empty() && !is_absolute_http_url(raw) => Err(ApiError::invalid(
                name,
                InvalidValue::NotA { value: raw.to_owned(), expected: Expected::AbsoluteUrl },
            )),
            value => Ok(value),
        }
    }

    /// A webhook URL setting as an update reads it: absent leaves it as it is (`None`),
    /// empty clears it (`Some(None)`), anything else must be a [`url`](Self::url).
    pub fn url_update(&self, name: &'static str) -> Result<Option<Option<Arc<str>>>, ApiError> {
        Ok(self.url(name)?.map(|value| (!value.is_empty()).then(|| Arc::from(value))))
    }

    /// `name` as `true` or `false` (either case).
    pub fn boolean(&self, name: &'static str) -> Result<Option<bool>, ApiError> {
        self.parsed(name, parse_bool, Expected::OneOf("true, false"))
    }

    /// `name` as `GET` or `POST` (either case).
    pub fn method(&self, name: &'static str) -> Result<Option<HttpMethod>, ApiError> {
        self.parsed(name, HttpMethod::parse, Expected::OneOf("GET, POST"))
    }
}

fn is_absolute_http_url(value: &str) -> bool {
    value.parse::<Uri>().is_ok_and(|uri| {
        let web = uri
            .scheme_str()
            .is_some_and(|scheme| scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https"));
        web && uri.host().is_some_and(|host| !host.is_empty())
    })
}

fn parse_bool(value: &str) -> Option<bool> {
    if value.eq_ignore_ascii_case("true") {
        Some(true)
    } else if value.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// Every event name, for the message of a refused filter.
pub const EVENT_NAMES: &str = "onMessageAdded, onMessageUpdated, onMessageRemoved, onMessageAdd, onMessageUpdate, \
     onMessageRemove, onConversationUpdated, onConversationRemoved, onConversationAdd, onConversationAdded, \
     onConversationRemove, onConversationUpdate, onConversationStateUpdated, onParticipantAdded, \
     onParticipantUpdated, onParticipantRemoved, onParticipantAdd, onParticipantRemove, onParticipantUpdate, \
     onDeliveryUpdated, onUserAdded, onUserUpdate, onUserUpdated";

/// The post-event names (what scoped webhooks and autocreation may filter on).
pub const POST_EVENT_NAMES: &str = "onMessageAdded, onMessageUpdated, onMessageRemoved, onConversationUpdated, \
     onConversationRemoved, onConversationAdded, onConversationStateUpdated, onParticipantAdded, \
     onParticipantUpdated, onParticipantRemoved, onDeliveryUpdated, onUserAdded, onUserUpdated";

/// A post-event by its Twilio name: what a conversation webhook or an autocreated one can
/// be sent.
pub fn post_event(name: &str) -> Option<WebhookEvent> {
    WebhookEvent::parse(name).filter(|event| !event.is_pre())
}

#[cfg(test)]
mod tests {
    use super::is_absolute_http_url;

    #[test]
    fn a_webhook_url_is_absolute_http_or_https() {
        for url in ["https://example.com/hook", "HTTP://example.com", "https://user:secret@example.com:8443/h?a=1"] {
            assert!(is_absolute_http_url(url), "{url}");
        }
        for url in ["w", "/hook", "hooks/post", "ftp://example.com/x", "https://", "mailto:a@example.com", "https:/x"] {
            assert!(!is_absolute_http_url(url), "{url}");
        }
    }
}
