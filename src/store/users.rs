//! Conversations users in the store: one per identity in a service, with the role and
//! attributes the service's chat clients see.
//! <https://www.twilio.com/docs/conversations/api/user-resource>

use std::ops::Bound::{Excluded, Unbounded};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::change::Change;
use super::document::{ImportError, date, fault, parse_sid};
use super::limits;
use super::model::{Conversation, NotificationLevel, Participant};
use super::roles::RoleType;
use super::selection::{PageRequest, Selection};
use super::tables::{ConversationData, ServiceData};
use super::{ConversationRef, Decision, ServiceScope, Store, StoreError, fresh};
use crate::sid::{AccountSid, ChatServiceSid, RoleSid, UserSid, derive_bits};
use crate::time::Timestamp;

/// The most a user's `Attributes` may hold. Twilio documents no user limit; the
/// conversation's 16 KiB is the looser of its documented ones, so nothing Twilio accepts
/// is refused here.
pub const USER_ATTRIBUTES_MAX_BYTES: usize = limits::CONVERSATION_ATTRIBUTES_MAX_BYTES;

/// A user of a service. Its identity is unique in the service and never changes (Twilio's
/// update has no `Identity`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub sid: UserSid,
    pub chat_service_sid: ChatServiceSid,
    pub identity: Arc<str>,
    pub friendly_name: Option<Arc<str>>,
    /// `None` renders as Twilio's default `"{}"`.
    pub attributes: Option<Arc<str>>,
    pub role_sid: RoleSid,
    pub date_created: Timestamp,
    pub date_updated: Timestamp,
}

/// What a create or update sets; `None` leaves a field as it is (or at its default).
#[derive(Clone, Debug, Default)]
pub struct UserFields {
    pub friendly_name: Option<String>,
    pub attributes: Option<String>,
    pub role_sid: Option<RoleSid>,
}

/// A user as named in a URL: by SID, or (as Twilio allows) by identity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserRef {
    Sid(UserSid),
    Identity(String),
}

impl UserRef {
    /// Reads a path segment: a well-formed `US…` SID is a SID, anything else an identity.
    pub fn parse(segment: &str) -> Self {
        match segment.parse() {
            Ok(sid) => Self::Sid(sid),
            Err(_) => Self::Identity(segment.to_owned()),
        }
    }
}

/// The role users get unless told otherwise: a fixed function of the service SID (like
/// `default_participant_role`, with its own salt), so it is the same after a restart and
/// the roles of a service can name it without storing it.
pub fn default_user_role(service: ChatServiceSid) -> RoleSid {
    RoleSid::from_bits(derive_bits(service.bits(), 0x5553))
}

impl ServiceData {
    /// The user `reference` names, if the service has it.
    pub(super) fn user(&self, reference: &UserRef) -> Option<&User> {
        match reference {
            UserRef::Sid(sid) => self.users().get(sid),
            UserRef::Identity(identity) => self.user_by_identity(identity),
        }
    }
}

impl Store {
    /// Creates a user; its identity must be new to the service.
    pub fn create_user(
        &self,
        account: AccountSid,
        scope: ServiceScope,
        identity: String,
        fields: UserFields,
    ) -> Result<User, StoreError> {
        self.write(account, |tenant, sids, now| {
            let service = tenant.service(scope)?;
            if service.user_by_identity(&identity).is_some() {
                return Err(StoreError::UserExists);
            }
            service.check_role(fields.role_sid, RoleType::Service)?;
            let sid = fresh(sids, UserSid::from_bits, |sid| service.users().contains(sid));
            let user = User {
                sid,
                chat_service_sid: service.sid(),
                identity: identity.into(),
                friendly_name: fields.friendly_name.map(Into::into),
                attributes: fields.attributes.map(Into::into),
                role_sid: fields.role_sid.unwrap_or_else(|| default_user_role(service.sid())),
                date_created: now,
                date_updated: now,
            };
            Ok(Decision::one(Change::PutUser { account, user: user.clone() }, user))
        })
    }

    /// One user, by SID or identity.
    pub fn fetch_user(&self, account: AccountSid, scope: ServiceScope, user: &UserRef) -> Result<User, StoreError> {
        self.read(account, |tenant| tenant.service(scope)?.user(user).cloned().ok_or(StoreError::NotFound))
    }

    /// A page of a service's users, oldest first; with the service's SID, which the list's
    /// URL names on the service form.
    pub fn list_users(
        &self,
        account: AccountSid,
        scope: ServiceScope,
        request: &PageRequest,
    ) -> Result<(ChatServiceSid, Selection<User>), StoreError> {
        self.read(account, |tenant| {
            let service = tenant.service(scope)?;
            Ok((service.sid(), service.users().select(request, |_| true).map(User::clone)))
        })
    }

    /// Applies `fields` to a user.
    pub fn update_user(
        &self,
        account: AccountSid,
        scope: ServiceScope,
        user: &UserRef,
        fields: UserFields,
    ) -> Result<User, StoreError> {
        self.write(account, |tenant, _, now| {
            let service = tenant.service(scope)?;
            let current = service.user(user).ok_or(StoreError::NotFound)?;
            service.check_role(fields.role_sid, RoleType::Service)?;
            let updated = User {
                friendly_name: fields.friendly_name.map(Into::into).or_else(|| current.friendly_name.clone()),
                attributes: fields.attributes.map(Into::into).or_else(|| current.attributes.clone()),
                role_sid: fields.role_sid.unwrap_or(current.role_sid),
                date_updated: now,
                ..current.clone()
            };
            Ok(Decision::one(Change::PutUser { account, user: updated.clone() }, updated))
        })
    }

    /// Deletes a user. Its participants stay in their conversations, as on Twilio, where
    /// a participant is tied to an identity rather than to the user record.
    pub fn delete_user(&self, account: AccountSid, scope: ServiceScope, user: &UserRef) -> Result<(), StoreError> {
        self.write(account, |tenant, _, _| {
            let service = tenant.service(scope)?;
            let found = service.user(user).ok_or(StoreError::NotFound)?;
            Ok(Decision::one(Change::DeleteUser { account, service: service.sid(), user: found.sid }, ()))
        })
    }
}

// --- User Conversations: a user's view of the conversations its identity is in --------

/// A conversation as one of its participants' users sees it. Derived, not stored: the
/// participant whose identity is the user's carries the read state and notification level.
#[derive(Clone, Debug)]
pub struct UserConversation {
    pub user_sid: UserSid,
    pub conversation: Conversation,
    pub participant: Participant,
    /// The messages after the participant's last read index; all of them when it has read
    /// none.
    pub unread_messages_count: u64,
}

/// What a User Conversation update sets on the participant; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct UserConversationUpdate {
    pub notification_level: Option<NotificationLevel>,
    pub last_read_message_index: Option<u64>,
    pub last_read_timestamp: Option<Timestamp>,
}

impl ConversationData {
    /// The participant with this identity, if there is one.
    pub(super) fn participant_with_identity(&self, identity: &str) -> Option<&Participant> {
        self.participants().values().find(|participant| participant.identity.as_deref() == Some(identity))
    }

    /// How many messages come after index `last_read` (all of them when `None`).
    fn unread_after(&self, last_read: Option<u64>) -> u64 {
        let unread = match last_read {
            Some(index) => self.messages().ordered().range((Excluded(index), Unbounded)).count(),
            None => self.messages().len(),
        };
        u64::try_from(unread).unwrap_or(u64::MAX)
    }

    /// The conversation as `user` sees it, if the user's identity is in it.
    fn seen_by(&self, user: &User) -> Option<UserConversation> {
        let participant = self.participant_with_identity(&user.identity)?;
        Some(UserConversation {
            user_sid: user.sid,
            conversation: self.conversation().clone(),
            participant: participant.clone(),
            unread_messages_count: self.unread_after(participant.last_read_message_index),
        })
    }
}

impl Store {
    /// A page of the conversations of a user's service that its identity takes part in,
    /// oldest conversation first. A scan of the service's conversations: there is no
    /// index of participants by identity, which only these reads would use.
    pub fn list_user_conversations(
        &self,
        account: AccountSid,
        scope: ServiceScope,
        user: &UserRef,
        request: &PageRequest,
    ) -> Result<(User, Selection<UserConversation>), StoreError> {
        self.read(account, |tenant| {
            let service = tenant.service(scope)?;
            let user = service.user(user).ok_or(StoreError::NotFound)?;
            let keep = |data: &ConversationData| data.participant_with_identity(&user.identity).is_some();
            let page = service.conversations().select(request, keep).filter_map(|data| data.seen_by(user));
            Ok((user.clone(), page))
        })
    }

    /// One conversation of a user, by the conversation's SID or unique name.
    pub fn fetch_user_conversation(
        &self,
        account: AccountSid,
        scope: ServiceScope,
        user: &UserRef,
        conversation: &ConversationRef,
    ) -> Result<UserConversation, StoreError> {
        self.read(account, |tenant| {
            let service = tenant.service(scope)?;
            let user = service.user(user).ok_or(StoreError::NotFound)?;
            let data = service.conversation(conversation).map_err(|_| StoreError::NotFound)?;
            data.seen_by(user).ok_or(StoreError::NotFound)
        })
    }

    /// Applies `update` to the participant behind a user's conversation.
    pub fn update_user_conversation(
        &self,
        account: AccountSid,
        scope: ServiceScope,
        user: &UserRef,
        conversation: &ConversationRef,
        update: UserConversationUpdate,
    ) -> Result<UserConversation, StoreError> {
        self.write(account, |tenant, _, now| {
            let service = tenant.service(scope)?;
            let user = service.user(user).ok_or(StoreError::NotFound)?;
            let data = service.conversation(conversation).map_err(|_| StoreError::NotFound)?;
            let mut seen = data.seen_by(user).ok_or(StoreError::NotFound)?;
            let participant = &mut seen.participant;
            participant.notification_level = update.notification_level.unwrap_or(participant.notification_level);
            participant.last_read_message_index =
                update.last_read_message_index.or(participant.last_read_message_index);
            participant.last_read_timestamp = update.last_read_timestamp.or(participant.last_read_timestamp);
            participant.date_updated = now;
            seen.unread_messages_count = data.unread_after(participant.last_read_message_index);
            let change = Change::PutParticipant {
                account,
                service: service.sid(),
                conversation: seen.conversation.sid,
                participant: participant.clone(),
            };
            Ok(Decision::one(change, seen))
        })
    }

    /// The user leaves the conversation: its participant is removed.
    pub fn delete_user_conversation(
        &self,
        account: AccountSid,
        scope: ServiceScope,
        user: &UserRef,
        conversation: &ConversationRef,
    ) -> Result<(), StoreError> {
        self.write(account, |tenant, _, _| {
            let service = tenant.service(scope)?;
            let user = service.user(user).ok_or(StoreError::NotFound)?;
            let data = service.conversation(conversation).map_err(|_| StoreError::NotFound)?;
            let participant = data.participant_with_identity(&user.identity).ok_or(StoreError::NotFound)?;
            let change = Change::DeleteParticipant {
                account,
                service: service.sid(),
                conversation: data.conversation().sid,
                participant: participant.sid,
            };
            Ok(Decision::one(change, ()))
        })
    }
}

// --- The state document's users (export, import and the state file) -----------------

/// A user in the state document; every field but `identity` is optional on import.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserDocument {
    pub sid: Option<String>,
    pub identity: String,
    pub friendly_name: Option<String>,
    pub attributes: Option<String>,
    pub role_sid: Option<String>,
    pub date_created: Option<String>,
    pub date_updated: Option<String>,
}

/// A user, every field written.
pub(super) fn user_document(user: &User) -> UserDocument {
    UserDocument {
        sid: Some(user.sid.to_string()),
        identity: user.identity.to_string(),
        friendly_name: user.friendly_name.as_deref().map(str::to_owned),
        attributes: user.attributes.as_deref().map(str::to_owned),
        role_sid: Some(user.role_sid.to_string()),
        date_created: Some(user.date_created.to_string()),
        date_updated: Some(user.date_updated.to_string()),
    }
}

/// A user of `service` from its document. `sid` must be set.
pub(super) fn to_user(
    doc: UserDocument,
    service: ChatServiceSid,
    now: Timestamp,
    at: &str,
) -> Result<User, ImportError> {
    let checked = |value: Option<String>, field: &str, rule: &dyn Fn(&str) -> Result<(), limits::Violation>| match value
        .as_deref()
        .map(rule)
    {
        Some(Err(violation)) => Err(fault(&format!("{at}.{field}"), violation.to_string())),
        _ => Ok(value),
    };
    let attributes = checked(doc.attributes, "attributes", &|v| limits::attributes(v, USER_ATTRIBUTES_MAX_BYTES))?;
    let date_created = date(&doc.date_created, &format!("{at}.date_created"))?.unwrap_or(now);
    Ok(User {
        sid: parse_sid(doc.sid.as_deref().unwrap_or_default(), &format!("{at}.sid"))?,
        chat_service_sid: service,
        identity: checked(Some(doc.identity), "identity", &limits::name)?.unwrap_or_default().into(),
        friendly_name: checked(doc.friendly_name, "friendly_name", &limits::name)?.map(Into::into),
        attributes: attributes.map(Into::into),
        role_sid: doc
            .role_sid
            .as_deref()
            .map(|raw| parse_sid(raw, &format!("{at}.role_sid")))
            .transpose()?
            .unwrap_or_else(|| default_user_role(service)),
        date_created,
        date_updated: date(&doc.date_updated, &format!("{at}.date_updated"))?.unwrap_or(date_created),
    })
}

#[cfg(test)]
mod tests {
    use super::super::tables::Tables;
    use super::*;
    use crate::sid::SidGenerator;
    use crate::time::Clock;

    const ACCOUNT: AccountSid = AccountSid::from_bits(1);

    fn store() -> Store {
        Store::new(Clock::fixed(Timestamp::from_unix_seconds(1_700_000_000)), SidGenerator::seeded(5))
    }

    #[test]
    fn identities_are_unique_per_service_and_found_by_sid_or_identity() {
        let store = store();
        let alice = store.create_user(ACCOUNT, ServiceScope::Default, "alice".into(), UserFields::default()).unwrap();
        assert_eq!(
            store.create_user(ACCOUNT, ServiceScope::Default, "alice".into(), UserFields::default()).unwrap_err(),
            StoreError::UserExists
        );
        let other = store.create_service(ACCOUNT, "other".into()).unwrap().sid;
        let elsewhere =
            store.create_user(ACCOUNT, ServiceScope::Explicit(other), "alice".into(), UserFields::default()).unwrap();
        assert_eq!(elsewhere.role_sid, default_user_role(other));
        assert_ne!(default_user_role(other), super::super::default_participant_role(other));

        let by_identity = store.fetch_user(ACCOUNT, ServiceScope::Default, &UserRef::Identity("alice".into())).unwrap();
        assert_eq!(by_identity, alice);
        store.delete_user(ACCOUNT, ServiceScope::Default, &UserRef::Sid(alice.sid)).unwrap();
        assert!(store.create_user(ACCOUNT, ServiceScope::Default, "alice".into(), UserFields::default()).is_ok());
    }

    #[test]
    fn users_survive_export_and_import_and_a_reset_wipes_them() {
        let store = store();
        let fields =
            UserFields { friendly_name: Some("Dee".into()), attributes: Some("{\"x\":1}".into()), role_sid: None };
        let dee = store.create_user(ACCOUNT, ServiceScope::Default, "dee".into(), fields).unwrap();
        let document = store.export(Some(ACCOUNT));

        store.reset(Some(ACCOUNT), None).unwrap();
        let by_identity = UserRef::Identity("dee".into());
        assert_eq!(store.fetch_user(ACCOUNT, ServiceScope::Default, &by_identity), Err(StoreError::NotFound));
        store.import(document.clone(), super::super::ImportMode::Merge).unwrap();

        assert_eq!(store.fetch_user(ACCOUNT, ServiceScope::Default, &by_identity).unwrap(), dee);
        assert!(
            store.import(document, super::super::ImportMode::Merge).is_err(),
            "the same user again is refused, naming where"
        );
    }

    #[test]
    fn users_and_notification_levels_survive_the_state_file_by_log_and_by_snapshot() {
        for compact_after in [usize::MAX, 1] {
            let path = std::env::temp_dir().join(format!("users-{}-{compact_after}.json", std::process::id()));
            let remove = || {
                for suffix in ["", ".log", ".log.old", ".lock", ".compacting"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            };
            remove();
            let durability = super::super::Durability { compact_after, ..Default::default() };
            let (user, gone, participant) = {
                let store = store();
                store.open_state_file(&path, durability).unwrap();
                let scope = ServiceScope::Default;
                let user = store.create_user(ACCOUNT, scope, "eve".into(), UserFields::default()).unwrap();
                let fields = UserFields { friendly_name: Some("Eve".into()), ..UserFields::default() };
                let user = store.update_user(ACCOUNT, scope, &UserRef::Sid(user.sid), fields).unwrap();
                let gone = store.create_user(ACCOUNT, scope, "gone".into(), UserFields::default()).unwrap();
                store.delete_user(ACCOUNT, scope, &UserRef::Sid(gone.sid)).unwrap();
                let conversation = store
                    .create_conversation(ACCOUNT, scope, super::super::model::ConversationFields::default())
                    .unwrap()
                    .conversation;
                let reference = ConversationRef::Sid(conversation.sid);
                let joined = super::super::model::ParticipantFields {
                    identity: Some("eve".into()),
                    ..super::super::model::ParticipantFields::default()
                };
                store.create_participant(ACCOUNT, scope, &reference, joined).unwrap();
                let muted = UserConversationUpdate {
                    notification_level: Some(NotificationLevel::Muted),
                    ..UserConversationUpdate::default()
                };
                let seen =
                    store.update_user_conversation(ACCOUNT, scope, &UserRef::Sid(user.sid), &reference, muted).unwrap();
                store.finish_compaction();
                (user, gone, seen)
            };

            let reopened = store();
            reopened.open_state_file(&path, durability).unwrap();

            let scope = ServiceScope::Default;
            assert_eq!(reopened.fetch_user(ACCOUNT, scope, &UserRef::Sid(user.sid)).unwrap(), user, "{compact_after}");
            assert_eq!(reopened.fetch_user(ACCOUNT, scope, &UserRef::Sid(gone.sid)), Err(StoreError::NotFound));
            let reference = ConversationRef::Sid(participant.conversation.sid);
            let seen = reopened.fetch_user_conversation(ACCOUNT, scope, &UserRef::Sid(user.sid), &reference).unwrap();
            assert_eq!(seen.participant.notification_level, NotificationLevel::Muted, "{compact_after}");
            drop(reopened);
            remove();
        }
    }

    #[test]
    fn apply_refuses_a_second_user_with_the_same_identity() {
        let at = Timestamp::from_unix_seconds(1);
        let service = super::super::default_service_sid(ACCOUNT);
        let user = |n: u128| User {
            sid: UserSid::from_bits(n),
            chat_service_sid: service,
            identity: "bob".into(),
            friendly_name: None,
            attributes: None,
            role_sid: default_user_role(service),
            date_created: at,
            date_updated: at,
        };
        let mut tables = Tables::default();
        tables.apply(&Change::OpenAccount { account: ACCOUNT, at }).unwrap();
        tables.apply(&Change::PutUser { account: ACCOUNT, user: user(1) }).unwrap();
        assert!(tables.apply(&Change::PutUser { account: ACCOUNT, user: user(2) }).is_err());
        // Replacing the same user is an update, not a duplicate.
        tables.apply(&Change::PutUser { account: ACCOUNT, user: user(1) }).unwrap();
        tables.apply(&Change::DeleteUser { account: ACCOUNT, service, user: UserSid::from_bits(1) }).unwrap();
        tables.apply(&Change::PutUser { account: ACCOUNT, user: user(2) }).unwrap();
    }
}
