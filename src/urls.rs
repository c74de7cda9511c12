//! Absolute resource URLs, built for the URL form the request used, from the emulator's
//! own base URL (so that SDKs following `url`, `links` or `next_page_url` stay here).
//!
//! They are `Display` values written straight into the JSON, not `String`s: a page of 50
//! messages would otherwise allocate 150 URLs.

use std::fmt;
use std::sync::Arc;

use crate::json::Ascii;
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
        let mut out = Vec::with_capacity(80);
        self.write_path(&mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    fn write_path(&self, out: &mut Vec<u8>) {
        let (head, service, tail): (&[u8], Option<ChatServiceSid>, &[u8]) = match self.form {
            UrlForm::Default => (b"/v1/Conversations/", None, b""),
            UrlForm::Service(service) => (b"/v1/Services/", Some(service), b"/Conversations/"),
            UrlForm::Chat(service) => (b"/v2/Services/", Some(service), b"/Channels/"),
        };
        out.extend_from_slice(head);
        if let Some(service) = service {
            service.write_ascii(out);
        }
        out.extend_from_slice(tail);
        self.conversation.write_ascii(out);
    }
}

/// The base URL is a valid URI authority (checked when taken from `Host`) or a checked
/// `--public-url`: ASCII with nothing JSON must escape.
impl Ascii for ConversationUrl {
    fn write_ascii(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.base.as_bytes());
        self.write_path(out);
    }
}

impl fmt::Display for ConversationUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        display_ascii(self, f)
    }
}

/// `Display` through [`Ascii`], so that each URL shape is written in one place.
fn display_ascii(value: &impl Ascii, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let mut out = Vec::with_capacity(128);
    value.write_ascii(&mut out);
    f.write_str(std::str::from_utf8(&out).map_err(|_| fmt::Error)?)
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

impl Ascii for Href<'_> {
    fn write_ascii(&self, out: &mut Vec<u8>) {
        self.conversation.write_ascii(out);
        match self.under {
            Under::Conversation => {}
            Under::Message(message) => {
                out.extend_from_slice(b"/Messages/");
                message.write_ascii(out);
            }
            Under::Participant(participant) => {
                out.extend_from_slice(b"/Participants/");
                participant.write_ascii(out);
            }
            Under::Receipt(message, receipt) => {
                out.extend_from_slice(b"/Messages/");
                message.write_ascii(out);
                out.extend_from_slice(b"/Receipts/");
                receipt.write_ascii(out);
            }
        }
        out.extend_from_slice(self.tail.as_bytes());
    }
}

impl fmt::Display for Href<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        display_ascii(self, f)
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
