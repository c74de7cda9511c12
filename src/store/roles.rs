//! Roles in the store: what a chat user (service roles) or a participant (conversation
//! roles) may do. Every service has three default roles from the start, as Twilio's do;
//! `/v1/Roles` are the roles of the account's default service.
//! <https://www.twilio.com/docs/conversations/api/role-resource>

use std::sync::Arc;

use super::change::Change;
use super::participants::default_participant_role;
use super::selection::{PageRequest, Selection};
use super::{Decision, ServiceScope, Store, StoreError, fresh};
use crate::sid::{AccountSid, ChatServiceSid, RoleSid, derive_bits};
use crate::time::Timestamp;

/// Whom a role applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoleType {
    /// Participants, within one conversation.
    Conversation,
    /// Chat users, across the service.
    Service,
}

impl RoleType {
    /// Twilio's name for the type.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Conversation => "conversation",
            Self::Service => "service",
        }
    }

    /// The type Twilio names `name`.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "conversation" => Some(Self::Conversation),
            "service" => Some(Self::Service),
            _ => None,
        }
    }
}

/// A role of a service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Role {
    pub sid: RoleSid,
    pub friendly_name: Arc<str>,
    pub kind: RoleType,
    /// In the order given; Twilio's update replaces the whole list.
    pub permissions: Vec<Arc<str>>,
    pub date_created: Timestamp,
    pub date_updated: Timestamp,
}

/// A role together with the service it belongs to, which a response names.
#[derive(Clone, Debug)]
pub struct ServiceRole<T> {
    pub chat_service_sid: ChatServiceSid,
    pub value: T,
}

/// What a new role is.
#[derive(Clone, Debug)]
pub struct NewRole {
    pub friendly_name: String,
    pub kind: RoleType,
    pub permissions: Vec<String>,
}

/// The default service role of chat users: a fixed function of the service SID, like the
/// participants' default role, so that users can name it without it being stored.
pub fn default_user_role(service: ChatServiceSid) -> RoleSid {
    RoleSid::from_bits(derive_bits(service.bits(), 0x5553))
}

/// The service's administrator role, derived the same way.
pub fn default_admin_role(service: ChatServiceSid) -> RoleSid {
    RoleSid::from_bits(derive_bits(service.bits(), 0x5341))
}

// The default roles and their permissions are those Twilio creates with a service: the
// Programmable Chat permission table (https://www.twilio.com/docs/chat/permissions,
// "Default Roles and Permissions") in the Conversations names its role resource uses
// (`Channel` becomes `Conversation`, `Member` becomes `Participant`, and Chat's
// invitations, which Conversations has not, are left out), as Flex lists them for the
// Conversations service it sets up
// (https://www.twilio.com/docs/flex/admin-guide/setup/conversations/conversations-roles).
const ADMIN_PERMISSIONS: [&str; 11] = [
    "addParticipant",
    "createConversation",
    "deleteAnyMessage",
    "deleteConversation",
    "editAnyMessage",
    "editAnyMessageAttributes",
    "editAnyUserInfo",
    "editConversationAttributes",
    "editConversationName",
    "joinConversation",
    "removeParticipant",
];
const USER_PERMISSIONS: [&str; 3] = ["createConversation", "editOwnUserInfo", "joinConversation"];
const PARTICIPANT_PERMISSIONS: [&str; 7] = [
    "deleteOwnMessage",
    "editOwnMessage",
    "editOwnMessageAttributes",
    "editOwnParticipantAttributes",
    "leaveConversation",
    "sendMediaMessage",
    "sendMessage",
];

/// The roles every service starts with, dated with the service: its admin and user
/// (service) roles and its participant (conversation) role, in that order.
pub(super) fn default_roles(service: ChatServiceSid, at: Timestamp) -> [Role; 3] {
    let role = |sid, name: &str, kind, permissions: &[&str]| Role {
        sid,
        friendly_name: name.into(),
        kind,
        permissions: permissions.iter().map(|p| Arc::from(*p)).collect(),
        date_created: at,
        date_updated: at,
    };
    [
        role(default_admin_role(service), "service admin", RoleType::Service, &ADMIN_PERMISSIONS),
        role(default_user_role(service), "service user", RoleType::Service, &USER_PERMISSIONS),
        role(default_participant_role(service), "channel user", RoleType::Conversation, &PARTICIPANT_PERMISSIONS),
    ]
}

/// Whether `sid` is one of the service's default roles, which cannot be deleted.
pub(super) fn is_default_role(service: ChatServiceSid, sid: RoleSid) -> bool {
    [default_admin_role(service), default_user_role(service), default_participant_role(service)].contains(&sid)
}

fn permissions(values: Vec<String>) -> Vec<Arc<str>> {
    values.into_iter().map(Into::into).collect()
}

impl Store {
    /// Adds a role to a service.
    pub fn create_role(
        &self,
        account: AccountSid,
        scope: ServiceScope,
        new: NewRole,
    ) -> Result<ServiceRole<Role>, StoreError> {
        self.write(account, |tenant, sids, now| {
            let service = tenant.service(scope)?;
            let sid = fresh(sids, RoleSid::from_bits, |sid| {
                service.roles().contains(sid) || is_default_role(service.sid(), *sid)
            });
            let role = Role {
                sid,
                friendly_name: new.friendly_name.into(),
                kind: new.kind,
                permissions: permissions(new.permissions),
                date_created: now,
                date_updated: now,
            };
            let change = Change::PutRole { account, service: service.sid(), role: role.clone() };
            Ok(Decision::one(change, ServiceRole { chat_service_sid: service.sid(), value: role }))
        })
    }

    /// One role of a service.
    pub fn fetch_role(
        &self,
        account: AccountSid,
        scope: ServiceScope,
        sid: RoleSid,
    ) -> Result<ServiceRole<Role>, StoreError> {
        self.read(account, |tenant| {
            let service = tenant.service(scope)?;
            let role = service.roles().get(&sid).ok_or(StoreError::NotFound)?;
            Ok(ServiceRole { chat_service_sid: service.sid(), value: role.clone() })
        })
    }

    /// A page of a service's roles: the defaults first, then the others in creation order.
    pub fn list_roles(
        &self,
        account: AccountSid,
        scope: ServiceScope,
        request: &PageRequest,
    ) -> Result<ServiceRole<Selection<Role>>, StoreError> {
        self.read(account, |tenant| {
            let service = tenant.service(scope)?;
            let page = service.roles().select(request, |_| true).map(Role::clone);
            Ok(ServiceRole { chat_service_sid: service.sid(), value: page })
        })
    }

    /// Replaces a role's permissions (Twilio's update replaces the whole list).
    pub fn update_role(
        &self,
        account: AccountSid,
        scope: ServiceScope,
        sid: RoleSid,
        new_permissions: Vec<String>,
    ) -> Result<ServiceRole<Role>, StoreError> {
        self.write(account, |tenant, _, now| {
            let service = tenant.service(scope)?;
            let mut role = service.roles().get(&sid).ok_or(StoreError::NotFound)?.clone();
            role.permissions = permissions(new_permissions);
            role.date_updated = now;
            let change = Change::PutRole { account, service: service.sid(), role: role.clone() };
            Ok(Decision::one(change, ServiceRole { chat_service_sid: service.sid(), value: role }))
        })
    }

    /// Deletes a role; the service's default roles stay (records name them).
    pub fn delete_role(&self, account: AccountSid, scope: ServiceScope, sid: RoleSid) -> Result<(), StoreError> {
        self.write(account, |tenant, _, _| {
            let service = tenant.service(scope)?;
            if !service.roles().contains(&sid) {
                return Err(StoreError::NotFound);
            }
            if is_default_role(service.sid(), sid) {
                return Err(StoreError::DefaultRoleUndeletable);
            }
            Ok(Decision::one(Change::DeleteRole { account, service: service.sid(), role: sid }, ()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sid::SidGenerator;
    use crate::store::selection::{Cursor, Order};
    use crate::time::Clock;

    fn store() -> Store {
        Store::new(Clock::fixed(Timestamp::from_unix_seconds(1_700_000_000)), SidGenerator::seeded(3))
    }

    fn all() -> PageRequest {
        PageRequest { order: Order::Asc, size: 50, number: 0, cursor: Cursor::Start }
    }

    #[test]
    fn every_service_has_its_default_roles_without_a_write() {
        let store = store();
        let account = AccountSid::from_bits(5);
        let service = crate::store::default_service_sid(account);
        let listed = store.list_roles(account, ServiceScope::Default, &all()).unwrap();
        let sids: Vec<RoleSid> = listed.value.items.iter().map(|role| role.sid).collect();
        assert_eq!(sids, [default_admin_role(service), default_user_role(service), default_participant_role(service)]);
        assert_eq!(store.export(Some(account)).accounts.len(), 0, "reading stored nothing");
    }

    #[test]
    fn default_roles_can_change_but_not_go() {
        let store = store();
        let account = AccountSid::from_bits(5);
        let service = crate::store::default_service_sid(account);
        let role = default_user_role(service);
        let updated = store.update_role(account, ServiceScope::Default, role, vec!["joinConversation".into()]).unwrap();
        assert_eq!(updated.value.permissions, vec![Arc::<str>::from("joinConversation")]);
        assert_eq!(
            store.delete_role(account, ServiceScope::Default, role).unwrap_err(),
            StoreError::DefaultRoleUndeletable
        );
    }
}
