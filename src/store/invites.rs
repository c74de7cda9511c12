//! Chat v2 invites in the store: a user invited to a channel (a conversation), kept with
//! the conversation and deleted with it. Conversations has no invites; only Chat's
//! `/v2/Services/{IS}/Channels/{CH}/Invites` reads and writes them.
//! <https://www.twilio.com/docs/chat/rest/invite-resource>

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::change::Change;
use super::document::{ImportError, date, parse_sid};
use super::participants::default_participant_role;
use super::roles::RoleType;
use super::selection::{PageRequest, Selection};
use super::{ConversationRef, Decision, Located, ServiceScope, Store, StoreError, fresh};
use crate::sid::{AccountSid, ConversationSid, InviteSid, RoleSid};
use crate::time::Timestamp;

/// An invitation of `identity` to a channel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invite {
    pub sid: InviteSid,
    pub conversation_sid: ConversationSid,
    pub identity: Arc<str>,
    /// The channel role the member gets on joining.
    pub role_sid: RoleSid,
    /// The identity of the user who invited; `None` for the REST API, which acts for no user.
    pub created_by: Option<Arc<str>>,
    pub date_created: Timestamp,
    pub date_updated: Timestamp,
}

/// What a new invite is.
#[derive(Clone, Debug)]
pub struct NewInvite {
    pub identity: String,
    /// A conversation role of the service; the participants' default role when `None`.
    pub role_sid: Option<RoleSid>,
}

impl Store {
    /// Invites `new.identity` to a channel. An identity has one invite per channel at most.
    pub fn create_invite(
        &self,
        account: AccountSid,
        scope: ServiceScope,
        reference: &ConversationRef,
        new: NewInvite,
    ) -> Result<Located<Invite>, StoreError> {
        self.write(account, |tenant, sids, now| {
            let service = tenant.service(scope)?;
            let conversation = service.conversation(reference)?;
            let role_sid = new.role_sid.unwrap_or_else(|| default_participant_role(service.sid()));
            service.check_role(Some(role_sid), RoleType::Conversation)?;
            if conversation.invites().values().any(|invite| *invite.identity == *new.identity) {
                return Err(StoreError::InviteExists);
            }
            let sid = fresh(sids, InviteSid::from_bits, |sid| conversation.invites().contains(sid));
            let invite = Invite {
                sid,
                conversation_sid: conversation.conversation().sid,
                identity: new.identity.into(),
                role_sid,
                created_by: None,
                date_created: now,
                date_updated: now,
            };
            let change = Change::PutInvite { account, service: service.sid(), invite: invite.clone() };
            Ok(Decision::one(change, conversation.locate(invite)))
        })
    }

    /// One invite of a channel.
    pub fn fetch_invite(
        &self,
        account: AccountSid,
        scope: ServiceScope,
        reference: &ConversationRef,
        sid: InviteSid,
    ) -> Result<Located<Invite>, StoreError> {
        self.read(account, |tenant| {
            let conversation = tenant.service(scope)?.conversation(reference)?;
            let invite = conversation.invites().get(&sid).ok_or(StoreError::NotFound)?;
            Ok(conversation.locate(invite.clone()))
        })
    }

    /// A page of a channel's invites, oldest first; with `identities`, only theirs.
    pub fn list_invites(
        &self,
        account: AccountSid,
        scope: ServiceScope,
        reference: &ConversationRef,
        identities: &[String],
        request: &PageRequest,
    ) -> Result<Located<Selection<Invite>>, StoreError> {
        self.read(account, |tenant| {
            let conversation = tenant.service(scope)?.conversation(reference)?;
            let keep = |invite: &Invite| identities.is_empty() || identities.iter().any(|i| **i == *invite.identity);
            Ok(conversation.locate(conversation.invites().select(request, keep).map(Invite::clone)))
        })
    }

    /// Withdraws an invite.
    pub fn delete_invite(
        &self,
        account: AccountSid,
        scope: ServiceScope,
        reference: &ConversationRef,
        sid: InviteSid,
    ) -> Result<(), StoreError> {
        self.write(account, |tenant, _, _| {
            let service = tenant.service(scope)?;
            let conversation = service.conversation(reference)?;
            if !conversation.invites().contains(&sid) {
                return Err(StoreError::NotFound);
            }
            let change = Change::DeleteInvite {
                account,
                service: service.sid(),
                conversation: conversation.conversation().sid,
                invite: sid,
            };
            Ok(Decision::one(change, ()))
        })
    }
}

/// An invite in a state document (a conversation's `invites`) and the log.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InviteDocument {
    pub sid: Option<String>,
    pub identity: String,
    /// The participants' default role when absent.
    pub role_sid: Option<String>,
    pub created_by: Option<String>,
    pub date_created: Option<String>,
    pub date_updated: Option<String>,
}

pub(super) fn invite_document(invite: &Invite) -> InviteDocument {
    InviteDocument {
        sid: Some(invite.sid.to_string()),
        identity: invite.identity.to_string(),
        role_sid: Some(invite.role_sid.to_string()),
        created_by: invite.created_by.as_deref().map(str::to_owned),
        date_created: Some(invite.date_created.to_string()),
        date_updated: Some(invite.date_updated.to_string()),
    }
}

/// An invite of `conversation_sid` from its document, whose `sid` must be given (an
/// import chooses missing ones first); `default_role` stands in for a missing `role_sid`.
pub(super) fn to_invite(
    doc: InviteDocument,
    conversation_sid: ConversationSid,
    default_role: RoleSid,
    now: Timestamp,
    at: &str,
) -> Result<Invite, ImportError> {
    let date_created = date(&doc.date_created, &format!("{at}.date_created"))?.unwrap_or(now);
    Ok(Invite {
        sid: parse_sid(doc.sid.as_deref().unwrap_or_default(), &format!("{at}.sid"))?,
        conversation_sid,
        identity: doc.identity.into(),
        role_sid: doc
            .role_sid
            .as_deref()
            .map(|raw| parse_sid(raw, &format!("{at}.role_sid")))
            .transpose()?
            .unwrap_or(default_role),
        created_by: doc.created_by.map(Into::into),
        date_created,
        date_updated: date(&doc.date_updated, &format!("{at}.date_updated"))?.unwrap_or(date_created),
    })
}
