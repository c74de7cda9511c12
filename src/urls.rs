//! Absolute resource URLs, built for the URL form the request used, from the emulator's
//! own base URL (so that SDKs following `url`, `links` or `next_page_url` stay here).
//!
//! They are `Display` values written straight into the JSON, not `String`s: a page of 50
//! messages would otherwise allocate 150 URLs.

use std::fmt;
use std::sync::Arc;

use crate::sid::{ChatServiceSid, ConversationSid, MessageSid, ParticipantSid, ReceiptSid};
use crate::store::ServiceScope;

/// The three URL forms under which a conversation and its messages are served.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UrlForm {
    /// `/v1/Conversations/{CH}`: the account's default service.
    Default,
    /// `/v1/Services/{IS}/Conversations/{CH}`.
    Service(ChatServiceSid),
    /// `/v2/Services/{IS}/Channels/{CH}`: Programmable Chat, where a conversation is a channel.
    Chat(ChatServiceSid),
}

/// Where a conversation lives on the form the client used.
#[derive(Clone, Debug)]
pub struct ConversationUrl {
    pub base: Arc<str>,
    pub form: UrlForm,
    pub conversation: ConversationSid,
}

impl ConversationUrl {
    /// The Conversations v1 URL of conversation `conversation` (in service `service`) on the
    /// form the request used: `scope` says whether it named a service.
    pub fn on_form(
        base: Arc<str>,
        scope: ServiceScope,
        service: ChatServiceSid,
        conversation: ConversationSid,
    ) -> Self {
        let form = match scope {
            ServiceScope::Explicit(_) => UrlForm::Service(service),
            ServiceScope::Default => UrlForm::Default,
        };
        Self { base, form, conversation }
    }

    /// The `chat_service_sid` a v1 response shows: only on the service form.
    pub fn shown_service(&self) -> Option<ChatServiceSid> {
        match self.form {
            UrlForm::Service(service) => Some(service),
            UrlForm::Default | UrlForm::Chat(_) => None,
        }
    }

    /// `{conversation}{tail}`, e.g. `…/Conversations/CH…/Participants`.
    pub fn with(&self, tail: &'static str) -> Href<'_> {
        Href { conversation: self, under: Under::Conversation, tail }
    }

    /// `{conversation}/Messages/{IM}{tail}`.
    pub fn message(&self, sid: MessageSid, tail: &'static str) -> Href<'_> {
        Href { conversation: self, under: Under::Message(sid), tail }
    }

    /// `{conversation}/Participants/{MB}`.
    pub fn participant(&self, sid: ParticipantSid) -> Href<'_> {
        Href { conversation: self, under: Under::Participant(sid), tail: "" }
    }

    /// `{conversation}/Messages/{IM}/Receipts/{DY}`.
    pub fn receipt(&self, message: MessageSid, sid: ReceiptSid) -> Href<'_> {
        Href { conversation: self, under: Under::Receipt(message, sid), tail: "" }
    }

    /// The path part, without the base: `/v1/…/Conversations/CH…`.
    pub fn path(&self) -> String {
        Path(self).to_string()
    }
}

/// A conversation's path on its form, without the base URL.
struct Path<'a>(&'a ConversationUrl);

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let conversation = self.0.conversation;
        match self.0.form {
            UrlForm::Default => write!(f, "/v1/Conversations/{conversation}"),
            UrlForm::Service(service) => {
                write!(f, "/v1/Services/{service}/Conversations/{conversation}")
            }
            UrlForm::Chat(service) => write!(f, "/v2/Services/{service}/Channels/{conversation}"),
        }
    }
}

impl fmt::Display for ConversationUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.base)?;
        Path(self).fmt(f)
    }
}

/// A URL under a conversation, serialized without an intermediate `String`.
#[derive(Clone, Copy, Debug)]
pub struct Href<'a> {
    conversation: &'a ConversationUrl,
    under: Under,
    tail: &'static str,
}

/// Which resource under the conversation a [`Href`] names.
#[derive(Clone, Copy, Debug)]
enum Under {
    Conversation,
    Message(MessageSid),
    Participant(ParticipantSid),
    Receipt(MessageSid, ReceiptSid),
}

impl fmt::Display for Href<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.conversation, f)?;
        match self.under {
            Under::Conversation => {}
            Under::Message(message) => write!(f, "/Messages/{message}")?,
            Under::Participant(participant) => write!(f, "/Participants/{participant}")?,
            Under::Receipt(message, receipt) => write!(f, "/Messages/{message}/Receipts/{receipt}")?,
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
