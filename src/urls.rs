//! Absolute resource URLs, built for the URL form the request used, from the emulator's
//! own base URL (so that SDKs following `url`, `links` or `next_page_url` stay here).
//!
//! They are `Display` values written straight into the JSON, not `String`s: a page of 50
//! messages would otherwise allocate 150 URLs.

use std::fmt;
use std::sync::Arc;

use crate::sid::{ChatServiceSid, ConversationSid, MessageSid};
use crate::store::ServiceScope;

/// Where a conversation lives on the form the client used: `/v1/Conversations/{CH}` or
/// `/v1/Services/{IS}/Conversations/{CH}`.
#[derive(Clone, Debug)]
pub struct ConversationUrl {
    pub base: Arc<str>,
    /// `Some` on the service form.
    pub service: Option<ChatServiceSid>,
    pub conversation: ConversationSid,
}

impl ConversationUrl {
    /// The URL of conversation `conversation` (in service `service`) on the form the
    /// request used: `scope` says whether it named a service.
    pub fn on_form(
        base: Arc<str>,
        scope: ServiceScope,
        service: ChatServiceSid,
        conversation: ConversationSid,
    ) -> Self {
        let service = matches!(scope, ServiceScope::Explicit(_)).then_some(service);
        Self {
            base,
            service,
            conversation,
        }
    }

    /// `{conversation}{tail}`, e.g. `…/Conversations/CH…/Participants`.
    pub fn with(&self, tail: &'static str) -> Href<'_> {
        Href {
            conversation: self,
            message: None,
            tail,
        }
    }

    /// `{conversation}/Messages/{IM}{tail}`.
    pub fn message(&self, sid: MessageSid, tail: &'static str) -> Href<'_> {
        Href {
            conversation: self,
            message: Some(sid),
            tail,
        }
    }

    /// The path part, without the base: `/v1/…/Conversations/CH…`.
    pub fn path(&self) -> String {
        match self.service {
            Some(service) => format!("/v1/Services/{service}/Conversations/{}", self.conversation),
            None => format!("/v1/Conversations/{}", self.conversation),
        }
    }
}

impl fmt::Display for ConversationUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.base)?;
        match self.service {
            Some(service) => write!(
                f,
                "/v1/Services/{service}/Conversations/{}",
                self.conversation
            ),
            None => write!(f, "/v1/Conversations/{}", self.conversation),
        }
    }
}

/// A URL under a conversation, serialized without an intermediate `String`.
#[derive(Clone, Copy, Debug)]
pub struct Href<'a> {
    conversation: &'a ConversationUrl,
    message: Option<MessageSid>,
    tail: &'static str,
}

impl fmt::Display for Href<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.conversation, f)?;
        if let Some(message) = self.message {
            write!(f, "/Messages/{message}")?;
        }
        f.write_str(self.tail)
    }
}

impl serde::Serialize for Href<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A service's URL, `{base}/v1/Services/{IS}{tail}`.
#[derive(Clone, Copy, Debug)]
pub struct ServiceHref<'a> {
    pub base: &'a str,
    pub service: ChatServiceSid,
    pub tail: &'static str,
}

impl fmt::Display for ServiceHref<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/v1/Services/{}{}", self.base, self.service, self.tail)
    }
}

impl serde::Serialize for ServiceHref<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}
