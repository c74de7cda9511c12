//! Push bindings in the store: a chat user's device registered for push notifications.
//! Client SDKs make them and the REST API only reads and deletes them, so the emulator
//! takes them from state documents alone.
//! <https://www.twilio.com/docs/conversations/api/service-binding-resource>

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::change::Change;
use super::document::{ImportError, date, fault, parse_sid};
use super::selection::{PageRequest, Selection};
use super::{Decision, Store, StoreError};
use crate::sid::{AccountSid, BindingSid, ChatServiceSid, CredentialSid};
use crate::time::Timestamp;

/// The push technology of a binding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BindingType {
    Apn,
    Gcm,
    Fcm,
    Twilsock,
}

impl BindingType {
    /// Twilio's name for the type.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Apn => "apn",
            Self::Gcm => "gcm",
            Self::Fcm => "fcm",
            Self::Twilsock => "twilsock",
        }
    }

    /// The type Twilio names `name`.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "apn" => Some(Self::Apn),
            "gcm" => Some(Self::Gcm),
            "fcm" => Some(Self::Fcm),
            "twilsock" => Some(Self::Twilsock),
            _ => None,
        }
    }
}

/// A push binding of a service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binding {
    pub sid: BindingSid,
    pub chat_service_sid: ChatServiceSid,
    pub credential_sid: Option<CredentialSid>,
    pub endpoint: Arc<str>,
    pub identity: Arc<str>,
    pub kind: BindingType,
    /// The notification types the device subscribed to, in the order the SDK gave them.
    pub message_types: Vec<Arc<str>>,
    pub date_created: Timestamp,
    pub date_updated: Timestamp,
}

/// Which bindings a list keeps: each filter empty keeps everything, else any of its
/// values matches (Twilio's `BindingType` and `Identity` are both repeatable).
#[derive(Clone, Debug, Default)]
pub struct BindingFilter {
    pub kinds: Vec<BindingType>,
    pub identities: Vec<String>,
}

impl BindingFilter {
    fn keeps(&self, binding: &Binding) -> bool {
        (self.kinds.is_empty() || self.kinds.contains(&binding.kind))
            && (self.identities.is_empty() || self.identities.iter().any(|i| **i == *binding.identity))
    }
}

impl Store {
    /// One binding of `service`.
    pub fn fetch_binding(
        &self,
        account: AccountSid,
        service: ChatServiceSid,
        sid: BindingSid,
    ) -> Result<Binding, StoreError> {
        self.read(account, |tenant| {
            let data = tenant.services().get(&service).ok_or(StoreError::NotFound)?;
            data.bindings().get(&sid).cloned().ok_or(StoreError::NotFound)
        })
    }

    /// A page of the bindings of `service` that `filter` keeps, in creation order.
    pub fn list_bindings(
        &self,
        account: AccountSid,
        service: ChatServiceSid,
        filter: &BindingFilter,
        request: &PageRequest,
    ) -> Result<Selection<Binding>, StoreError> {
        self.read(account, |tenant| {
            let data = tenant.services().get(&service).ok_or(StoreError::NotFound)?;
            Ok(data.bindings().select(request, |binding| filter.keeps(binding)).map(Binding::clone))
        })
    }

    /// Deletes a binding (what a user's logout does on Twilio).
    pub fn delete_binding(
        &self,
        account: AccountSid,
        service: ChatServiceSid,
        sid: BindingSid,
    ) -> Result<(), StoreError> {
        self.write(account, |tenant, _, _| {
            let data = tenant.services().get(&service).ok_or(StoreError::NotFound)?;
            if !data.bindings().contains(&sid) {
                return Err(StoreError::NotFound);
            }
            Ok(Decision::one(Change::DeleteBinding { account, service, binding: sid }, ()))
        })
    }
}

/// A binding in a state document and the log.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BindingDocument {
    pub sid: Option<String>,
    /// `apn`, `gcm`, `fcm` or `twilsock`.
    pub binding_type: String,
    pub endpoint: String,
    pub identity: String,
    pub credential_sid: Option<String>,
    #[serde(default)]
    pub message_types: Vec<String>,
    pub date_created: Option<String>,
    pub date_updated: Option<String>,
}

pub(super) fn binding_document(binding: &Binding) -> BindingDocument {
    BindingDocument {
        sid: Some(binding.sid.to_string()),
        binding_type: binding.kind.as_str().to_owned(),
        endpoint: binding.endpoint.to_string(),
        identity: binding.identity.to_string(),
        credential_sid: binding.credential_sid.map(|sid| sid.to_string()),
        message_types: binding.message_types.iter().map(|t| t.to_string()).collect(),
        date_created: Some(binding.date_created.to_string()),
        date_updated: Some(binding.date_updated.to_string()),
    }
}

/// A binding of `service` from its document; a missing `sid` is `fresh_sid` (an import's
/// choice), or a fault where there is none (the log writes every SID).
pub(super) fn to_binding(
    doc: BindingDocument,
    service: ChatServiceSid,
    fresh_sid: Option<BindingSid>,
    now: Timestamp,
    at: &str,
) -> Result<Binding, ImportError> {
    let date_created = date(&doc.date_created, &format!("{at}.date_created"))?.unwrap_or(now);
    Ok(Binding {
        sid: match (doc.sid.as_deref(), fresh_sid) {
            (None, Some(sid)) => sid,
            (raw, _) => parse_sid(raw.unwrap_or_default(), &format!("{at}.sid"))?,
        },
        chat_service_sid: service,
        credential_sid: doc
            .credential_sid
            .as_deref()
            .map(|raw| parse_sid(raw, &format!("{at}.credential_sid")))
            .transpose()?,
        endpoint: doc.endpoint.into(),
        identity: doc.identity.into(),
        kind: BindingType::parse(&doc.binding_type).ok_or_else(|| {
            fault(&format!("{at}.binding_type"), format!("`{}` is not an allowed value", doc.binding_type))
        })?,
        message_types: doc.message_types.into_iter().map(Into::into).collect(),
        date_created,
        date_updated: date(&doc.date_updated, &format!("{at}.date_updated"))?.unwrap_or(date_created),
    })
}
