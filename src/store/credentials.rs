//! Push credentials in the store: the account's APN, GCM and FCM keys. Their secrets are
//! kept (a state document carries them) but never shown by the API, as Twilio's are not.
//! <https://www.twilio.com/docs/conversations/api/credential-resource>

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::change::Change;
use super::document::{ImportError, date, fault, parse_sid};
use super::selection::{PageRequest, Selection};
use super::{Decision, Store, StoreError, fresh};
use crate::sid::{AccountSid, CredentialSid};
use crate::time::Timestamp;

/// The push service a credential is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PushType {
    Apn,
    Gcm,
    Fcm,
}

impl PushType {
    /// Twilio's name for the type.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Apn => "apn",
            Self::Gcm => "gcm",
            Self::Fcm => "fcm",
        }
    }

    /// The type Twilio names `name`.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "apn" => Some(Self::Apn),
            "gcm" => Some(Self::Gcm),
            "fcm" => Some(Self::Fcm),
            _ => None,
        }
    }
}

/// A push credential.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credential {
    pub sid: CredentialSid,
    pub kind: PushType,
    pub friendly_name: Option<Arc<str>>,
    pub sandbox: bool,
    /// The secrets: stored, never echoed.
    pub secrets: CredentialSecrets,
    pub date_created: Timestamp,
    pub date_updated: Timestamp,
}

/// What a credential keeps but the API never shows.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialSecrets {
    pub certificate: Option<String>,
    pub private_key: Option<String>,
    pub api_key: Option<String>,
    pub secret: Option<String>,
}

/// The fields a create or update gives; what is absent stays (or is unset on create).
#[derive(Clone, Debug, Default)]
pub struct CredentialFields {
    pub kind: Option<PushType>,
    pub friendly_name: Option<String>,
    pub sandbox: Option<bool>,
    pub secrets: CredentialSecrets,
}

impl Credential {
    fn apply(&mut self, fields: CredentialFields) {
        if let Some(kind) = fields.kind {
            self.kind = kind;
        }
        if let Some(name) = fields.friendly_name {
            self.friendly_name = Some(name.into());
        }
        if let Some(sandbox) = fields.sandbox {
            self.sandbox = sandbox;
        }
        let CredentialSecrets { certificate, private_key, api_key, secret } = fields.secrets;
        let secrets = &mut self.secrets;
        for (new, slot) in [
            (certificate, &mut secrets.certificate),
            (private_key, &mut secrets.private_key),
            (api_key, &mut secrets.api_key),
            (secret, &mut secrets.secret),
        ] {
            if new.is_some() {
                *slot = new;
            }
        }
    }
}

impl Store {
    /// Adds a credential of type `kind` to the account.
    pub fn create_credential(
        &self,
        account: AccountSid,
        kind: PushType,
        fields: CredentialFields,
    ) -> Result<Credential, StoreError> {
        self.write(account, |tenant, sids, now| {
            let sid = fresh(sids, CredentialSid::from_bits, |sid| tenant.credentials().contains(sid));
            let mut credential = Credential {
                sid,
                kind,
                friendly_name: None,
                sandbox: false,
                secrets: CredentialSecrets::default(),
                date_created: now,
                date_updated: now,
            };
            credential.apply(fields);
            Ok(Decision::one(Change::PutCredential { account, credential: credential.clone() }, credential))
        })
    }

    /// One credential of the account.
    pub fn fetch_credential(&self, account: AccountSid, sid: CredentialSid) -> Result<Credential, StoreError> {
        self.read(account, |tenant| tenant.credentials().get(&sid).cloned().ok_or(StoreError::NotFound))
    }

    /// A page of the account's credentials, in creation order.
    pub fn list_credentials(&self, account: AccountSid, request: &PageRequest) -> Selection<Credential> {
        self.read(account, |tenant| tenant.credentials().select(request, |_| true).map(Credential::clone))
    }

    /// Applies `fields` to a credential.
    pub fn update_credential(
        &self,
        account: AccountSid,
        sid: CredentialSid,
        fields: CredentialFields,
    ) -> Result<Credential, StoreError> {
        self.write(account, |tenant, _, now| {
            let mut credential = tenant.credentials().get(&sid).cloned().ok_or(StoreError::NotFound)?;
            credential.apply(fields);
            credential.date_updated = now;
            Ok(Decision::one(Change::PutCredential { account, credential: credential.clone() }, credential))
        })
    }

    /// Deletes a credential.
    pub fn delete_credential(&self, account: AccountSid, sid: CredentialSid) -> Result<(), StoreError> {
        self.write(account, |tenant, _, _| {
            if !tenant.credentials().contains(&sid) {
                return Err(StoreError::NotFound);
            }
            Ok(Decision::one(Change::DeleteCredential { account, credential: sid }, ()))
        })
    }
}

/// A credential in a state document and the log, secrets included (the state must keep
/// them to be restored).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialDocument {
    pub sid: Option<String>,
    /// `apn`, `gcm` or `fcm`.
    #[serde(rename = "type")]
    pub kind: String,
    pub friendly_name: Option<String>,
    #[serde(default)]
    pub sandbox: bool,
    #[serde(default, flatten)]
    pub secrets: CredentialSecrets,
    pub date_created: Option<String>,
    pub date_updated: Option<String>,
}

pub(super) fn credential_document(credential: &Credential) -> CredentialDocument {
    CredentialDocument {
        sid: Some(credential.sid.to_string()),
        kind: credential.kind.as_str().to_owned(),
        friendly_name: credential.friendly_name.as_deref().map(str::to_owned),
        sandbox: credential.sandbox,
        secrets: credential.secrets.clone(),
        date_created: Some(credential.date_created.to_string()),
        date_updated: Some(credential.date_updated.to_string()),
    }
}

/// A credential from its document; a missing `sid` is `fresh_sid` (an import's choice), or
/// a fault where there is none (the log writes every SID).
pub(super) fn to_credential(
    doc: CredentialDocument,
    fresh_sid: Option<CredentialSid>,
    now: Timestamp,
    at: &str,
) -> Result<Credential, ImportError> {
    let date_created = date(&doc.date_created, &format!("{at}.date_created"))?.unwrap_or(now);
    Ok(Credential {
        sid: match (doc.sid.as_deref(), fresh_sid) {
            (None, Some(sid)) => sid,
            (raw, _) => parse_sid(raw.unwrap_or_default(), &format!("{at}.sid"))?,
        },
        kind: PushType::parse(&doc.kind)
            .ok_or_else(|| fault(&format!("{at}.type"), format!("`{}` is not an allowed value", doc.kind)))?,
        friendly_name: doc.friendly_name.map(Into::into),
        sandbox: doc.sandbox,
        secrets: doc.secrets,
        date_created,
        date_updated: date(&doc.date_updated, &format!("{at}.date_updated"))?.unwrap_or(date_created),
    })
}
