//! A conversation and its first participants, created together: all or nothing, in one
//! commit (`POST /v1/ConversationWithParticipants`).

use super::change::Change;
use super::conversations::new_conversation;
use super::model::{ConversationFields, ConversationSnapshot, ConversationState, Participant, ParticipantFields};
use super::participants::{MAX_NON_CHAT_PARTICIPANTS, default_participant_role, duplicates, new_participant};
use super::roles::RoleType;
use super::{Decision, ServiceScope, Store, StoreError, fresh};
use crate::sid::{AccountSid, ParticipantSid};

impl Store {
    /// Creates a conversation with `participants`, checked like one create of each (a free
    /// unique name; no two participants with one identity or one number pair; at most 50
    /// SMS or WhatsApp ones) and committed together: on any refusal nothing is created.
    pub fn create_conversation_with_participants(
        &self,
        account: AccountSid,
        scope: ServiceScope,
        fields: ConversationFields,
        participants: Vec<ParticipantFields>,
    ) -> Result<(ConversationSnapshot, Vec<Participant>), StoreError> {
        self.write(account, |tenant, sids, now| {
            let conversation = new_conversation(tenant, sids, now, scope, fields)?;
            if conversation.state == ConversationState::Closed && !participants.is_empty() {
                return Err(StoreError::ConversationClosed);
            }
            let role = default_participant_role(conversation.chat_service_sid);
            let service = tenant.service(scope)?;
            let mut added: Vec<Participant> = Vec::with_capacity(participants.len());
            for fields in participants {
                service.check_role(fields.role_sid, RoleType::Conversation)?;
                let sid = fresh(sids, ParticipantSid::from_bits, |sid| added.iter().any(|p| p.sid == *sid));
                let participant = new_participant(sid, now, role, fields);
                if let Some(error) = added.iter().find_map(|other| duplicates(&participant, other)) {
                    return Err(error);
                }
                added.push(participant);
            }
            if added.iter().filter(|p| p.is_non_chat()).count() > MAX_NON_CHAT_PARTICIPANTS {
                return Err(StoreError::TooManyParticipants);
            }
            let (service, sid) = (conversation.chat_service_sid, conversation.sid);
            let member_count = added.iter().filter(|p| p.identity.is_some()).count();
            let snapshot = ConversationSnapshot { conversation: conversation.clone(), message_count: 0, member_count };
            let mut changes = vec![Change::PutConversation { account, conversation }];
            changes.extend(added.iter().map(|participant| Change::PutParticipant {
                account,
                service,
                conversation: sid,
                participant: participant.clone(),
            }));
            Ok(Decision { changes, answer: (snapshot, added) })
        })
    }
}
