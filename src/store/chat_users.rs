//! Reads for Chat v2's view of users: a Conversations user together with the number of
//! channels (conversations of its service) its identity is a member of, which Chat shows
//! as `joined_channels_count`. Derived on every read, never stored, so it cannot drift
//! from the participants it counts.
//! <https://www.twilio.com/docs/chat/rest/user-resource>

use super::selection::{PageRequest, Selection};
use super::tables::ServiceData;
use super::{ServiceScope, Store, StoreError, User, UserRef};
use crate::sid::{AccountSid, ChatServiceSid};

/// A user and the number of channels its identity is a member of.
#[derive(Clone, Debug)]
pub struct ChatUser {
    pub user: User,
    pub joined_channels_count: usize,
}

impl ServiceData {
    /// The user with its channel count. A scan of the service's conversations, like the
    /// User Conversations list: no index of participants by identity exists for this alone.
    fn chat_user(&self, user: &User) -> ChatUser {
        let joined_channels_count = self
            .conversations()
            .values()
            .filter(|data| data.participant_with_identity(&user.identity).is_some())
            .count();
        ChatUser { user: user.clone(), joined_channels_count }
    }
}

impl Store {
    /// One user, by SID or identity, with its channel count, read under one lock.
    pub fn fetch_chat_user(
        &self,
        account: AccountSid,
        scope: ServiceScope,
        user: &UserRef,
    ) -> Result<ChatUser, StoreError> {
        self.read(account, |tenant| {
            let service = tenant.service(scope)?;
            let found = service.user(user).ok_or(StoreError::NotFound)?;
            Ok(service.chat_user(found))
        })
    }

    /// A page of a service's users, oldest first, each with its channel count; with the
    /// service's SID, which the list's URL names.
    pub fn list_chat_users(
        &self,
        account: AccountSid,
        scope: ServiceScope,
        request: &PageRequest,
    ) -> Result<(ChatServiceSid, Selection<ChatUser>), StoreError> {
        self.read(account, |tenant| {
            let service = tenant.service(scope)?;
            Ok((service.sid(), service.users().select(request, |_| true).map(|user| service.chat_user(user))))
        })
    }
}
