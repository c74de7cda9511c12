//! Participant Conversations: every conversation of a service in which a participant has
//! an identity or a messaging binding address, read from the participants themselves.
//! <https://www.twilio.com/docs/conversations/api/participant-conversation-resource>

use super::model::{Conversation, Participant};
use super::selection::{PageRequest, Selection};
use super::tables::ConversationData;
use super::{ServiceScope, Store, StoreError};
use crate::sid::{AccountSid, ChatServiceSid, UserSid};

/// Whom to find: a chat identity, or the address of an SMS or WhatsApp participant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParticipantMatch {
    Identity(String),
    Address(String),
}

impl ParticipantMatch {
    fn matches(&self, participant: &Participant) -> bool {
        match self {
            Self::Identity(identity) => participant.identity.as_deref() == Some(identity.as_str()),
            Self::Address(address) => {
                participant.binding.as_ref().and_then(|binding| binding.address.as_deref()) == Some(address.as_str())
            }
        }
    }
}

/// A conversation with the participant that matched, and the user with its identity.
#[derive(Clone, Debug)]
pub struct ParticipantConversation {
    pub conversation: Conversation,
    pub participant: Participant,
    pub user_sid: Option<UserSid>,
}

impl Store {
    /// A page of the service's conversations that have a participant matching `by`,
    /// oldest first, once each (with the first such participant). A scan of the service's
    /// conversations: no index of participants serves only this read.
    pub fn list_participant_conversations(
        &self,
        account: AccountSid,
        scope: ServiceScope,
        by: &ParticipantMatch,
        request: &PageRequest,
    ) -> Result<(ChatServiceSid, Selection<ParticipantConversation>), StoreError> {
        self.read(account, |tenant| {
            let service = tenant.service(scope)?;
            let first = |data: &ConversationData| data.participants().values().find(|p| by.matches(p)).cloned();
            let page = service
                .conversations()
                .select(request, |data| data.participants().values().any(|p| by.matches(p)))
                .filter_map(|data| {
                    let participant = first(data)?;
                    let user_sid = participant
                        .identity
                        .as_deref()
                        .and_then(|identity| service.user_by_identity(identity))
                        .map(|user| user.sid);
                    Some(ParticipantConversation { conversation: data.conversation().clone(), participant, user_sid })
                });
            Ok((service.sid(), page))
        })
    }
}
