//! Roles in state documents and the state file's log. A service's document lists the
//! roles that are not as Twilio creates them: its own, and its defaults once changed.

use serde::{Deserialize, Serialize};

use super::document::{ImportError, date, fault, parse_sid};
use super::roles::{Role, RoleType, default_roles};
use crate::sid::ChatServiceSid;
use crate::time::Timestamp;

/// A role of a service.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleDocument {
    pub sid: Option<String>,
    pub friendly_name: String,
    /// `conversation` or `service`.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub permissions: Vec<String>,
    pub date_created: Option<String>,
    pub date_updated: Option<String>,
}

pub(super) fn role_document(role: &Role) -> RoleDocument {
    RoleDocument {
        sid: Some(role.sid.to_string()),
        friendly_name: role.friendly_name.to_string(),
        kind: role.kind.as_str().to_owned(),
        permissions: role.permissions.iter().map(|p| p.to_string()).collect(),
        date_created: Some(role.date_created.to_string()),
        date_updated: Some(role.date_updated.to_string()),
    }
}

/// The roles of a service worth writing down: all but the defaults left as they were.
pub(super) fn role_documents<'a>(
    service: ChatServiceSid,
    service_created: Timestamp,
    roles: impl Iterator<Item = &'a Role>,
) -> Vec<RoleDocument> {
    let defaults = default_roles(service, service_created);
    roles.filter(|role| !defaults.contains(role)).map(role_document).collect()
}

/// A role from its document. `sid` must be set.
pub(super) fn to_role(doc: RoleDocument, now: Timestamp, at: &str) -> Result<Role, ImportError> {
    let date_created = date(&doc.date_created, &format!("{at}.date_created"))?.unwrap_or(now);
    Ok(Role {
        sid: parse_sid(doc.sid.as_deref().unwrap_or_default(), &format!("{at}.sid"))?,
        friendly_name: doc.friendly_name.into(),
        kind: RoleType::parse(&doc.kind)
            .ok_or_else(|| fault(&format!("{at}.type"), format!("`{}` is not an allowed value", doc.kind)))?,
        permissions: doc.permissions.into_iter().map(Into::into).collect(),
        date_created,
        date_updated: date(&doc.date_updated, &format!("{at}.date_updated"))?.unwrap_or(date_created),
    })
}
