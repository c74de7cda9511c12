//! Participants in the store: chat users by identity, SMS and WhatsApp users by address.
//! Limits: <https://www.twilio.com/docs/conversations/conversations-limits>.

use std::sync::Arc;

use super::change::Change;
use super::model::{ConversationState, MessagingBinding, NotificationLevel, Participant, ParticipantFields};
use super::roles::RoleType;
use super::selection::{PageRequest, Selection};
use super::tables::ConversationData;
use super::{ConversationRef, Decision, Located, ServiceScope, Store, StoreError, fresh};
use crate::sid::{AccountSid, ChatServiceSid, ParticipantSid, RoleSid, derive_bits};
use crate::time::Timestamp;

/// At most this many participants in a conversation…
const MAX_PARTICIPANTS: usize = 1000;
/// …of which at most this many reached over SMS or WhatsApp.
pub(super) const MAX_NON_CHAT_PARTICIPANTS: usize = 50;

/// A participant as named in a URL: by SID, or (as Twilio allows) by identity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParticipantRef {
    Sid(ParticipantSid),
    Identity(String),
}

impl ParticipantRef {
    /// Reads a path segment: a well-formed `MB…` SID is a SID, anything else an identity.
    pub fn parse(segment: &str) -> Self {
        match segment.parse() {
            Ok(sid) => Self::Sid(sid),
            Err(_) => Self::Identity(segment.to_owned()),
        }
    }
}

/// The role participants get unless told otherwise: a fixed function of the service SID,
/// like the account's default service.
pub fn default_participant_role(service: ChatServiceSid) -> RoleSid {
    RoleSid::from_bits(derive_bits(service.bits(), 0x524c))
}

impl ConversationData {
    fn participant_sid(&self, reference: &ParticipantRef) -> Option<ParticipantSid> {
        match reference {
            ParticipantRef::Sid(sid) => self.participants().contains(sid).then_some(*sid),
            ParticipantRef::Identity(identity) => {
                self.participants().values().find(|p| p.identity.as_deref() == Some(identity.as_str())).map(|p| p.sid)
            }
        }
    }

    /// Refuses a participant that would duplicate another one (other than `except`).
    fn check_unique(&self, candidate: &Participant, except: Option<ParticipantSid>) -> Result<(), StoreError> {
        let others = self.participants().values().filter(|p| Some(p.sid) != except);
        match others.filter_map(|other| duplicates(candidate, other)).next() {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }
}

impl Store {
    /// The SMS or WhatsApp participant bound to the number pair (`address` texting
    /// `proxy_address`) in a conversation that is not closed: where an inbound message
    /// goes. Twilio binds a pair in one such conversation at most; should there be more,
    /// the oldest takes the message. A scan of the account's conversations, which only a
    /// simulated inbound message pays.
    pub fn find_binding(
        &self,
        account: AccountSid,
        address: &str,
        proxy_address: &str,
    ) -> Option<Located<Participant>> {
        self.read(account, |tenant| {
            tenant.services().values().find_map(|service| {
                service.conversations().values().find_map(|conversation| {
                    if conversation.conversation().state == ConversationState::Closed {
                        return None;
                    }
                    let bound = conversation.participants().values().find(|participant| {
                        participant.binding.as_ref().is_some_and(|binding| {
                            binding.address.as_deref() == Some(address)
                                && binding.proxy_address.as_deref() == Some(proxy_address)
                        })
                    })?;
                    Some(conversation.locate(bound.clone()))
                })
            })
        })
    }

    /// Adds a participant to a conversation.
    pub fn create_participant(
        &self,
        account: AccountSid,
        scope: ServiceScope,
        reference: &ConversationRef,
        fields: ParticipantFields,
    ) -> Result<Located<Participant>, StoreError> {
        self.write(account, |tenant, sids, now| {
            let service = tenant.service(scope)?;
            let role = default_participant_role(service.sid());
            service.check_role(fields.role_sid, RoleType::Conversation)?;
            let conversation = service.conversation(reference)?;
            if conversation.conversation().state == ConversationState::Closed {
                return Err(StoreError::ConversationClosed);
            }
            let sid = fresh(sids, ParticipantSid::from_bits, |sid| conversation.participants().contains(sid));
            let participant = new_participant(sid, now, role, fields);
            conversation.check_unique(&participant, None)?;
            let non_chat = conversation.participants().values().filter(|p| p.is_non_chat()).count();
            if conversation.participants().len() >= MAX_PARTICIPANTS
                || (participant.is_non_chat() && non_chat >= MAX_NON_CHAT_PARTICIPANTS)
            {
                return Err(StoreError::TooManyParticipants);
            }
            Ok(put_participant(account, conversation, participant))
        })
    }

    /// One participant, by SID or identity.
    pub fn fetch_participant(
        &self,
        account: AccountSid,
        scope: ServiceScope,
        reference: &ConversationRef,
        participant: &ParticipantRef,
    ) -> Result<Located<Participant>, StoreError> {
        self.read(account, |tenant| {
            let conversation = tenant.service(scope)?.conversation(reference)?;
            let sid = conversation.participant_sid(participant).ok_or(StoreError::NotFound)?;
            let found = conversation.participants().get(&sid).ok_or(StoreError::NotFound)?;
            Ok(conversation.locate(found.clone()))
        })
    }

    /// A page of a conversation's participants, in the order they joined.
    pub fn list_participants(
        &self,
        account: AccountSid,
        scope: ServiceScope,
        reference: &ConversationRef,
        request: &PageRequest,
    ) -> Result<Located<Selection<Participant>>, StoreError> {
        self.list_participants_where(account, scope, reference, request, |_| true)
    }

    /// A page of a conversation's participants that `keep` keeps (Chat v2's members: those
    /// with an identity), in the order they joined.
    pub fn list_participants_where(
        &self,
        account: AccountSid,
        scope: ServiceScope,
        reference: &ConversationRef,
        request: &PageRequest,
        keep: impl Fn(&Participant) -> bool,
    ) -> Result<Located<Selection<Participant>>, StoreError> {
        self.read(account, |tenant| {
            let conversation = tenant.service(scope)?.conversation(reference)?;
            let page = conversation.participants().select(request, keep).map(Participant::clone);
            Ok(conversation.locate(page))
        })
    }

    /// Applies `fields` to a participant. Its address cannot change (Twilio's update has
    /// no `MessagingBinding.Address`); its proxy and projected addresses can.
    pub fn update_participant(
        &self,
        account: AccountSid,
        scope: ServiceScope,
        reference: &ConversationRef,
        participant: &ParticipantRef,
        fields: ParticipantFields,
    ) -> Result<Located<Participant>, StoreError> {
        self.write(account, |tenant, _, now| {
            let service = tenant.service(scope)?;
            let conversation = service.conversation(reference)?;
            let sid = conversation.participant_sid(participant).ok_or(StoreError::NotFound)?;
            service.check_role(fields.role_sid, RoleType::Conversation)?;
            let mut updated = conversation.participants().get(&sid).ok_or(StoreError::NotFound)?.clone();
            if let Some(identity) = fields.identity {
                updated.identity = Some(identity.into());
            }
            if let Some(attributes) = fields.attributes {
                updated.attributes = Some(attributes.into());
            }
            if fields.proxy_address.is_some() || fields.projected_address.is_some() {
                let address = updated.binding.as_ref().and_then(|b| b.address.as_deref().map(str::to_owned));
                updated.binding =
                    binding(address, fields.proxy_address, fields.projected_address, updated.binding.as_ref());
            }
            if let Some(role) = fields.role_sid {
                updated.role_sid = role;
            }
            if let Some(index) = fields.last_read_message_index {
                updated.last_read_message_index = Some(index);
            }
            if let Some(at) = fields.last_read_timestamp {
                updated.last_read_timestamp = Some(at);
            }
            if let Some(date_created) = fields.date_created {
                updated.date_created = date_created;
            }
            updated.date_updated = fields.date_updated.unwrap_or(now);
            conversation.check_unique(&updated, Some(sid))?;
            Ok(put_participant(account, conversation, updated))
        })
    }

    /// Removes a participant from a conversation.
    pub fn delete_participant(
        &self,
        account: AccountSid,
        scope: ServiceScope,
        reference: &ConversationRef,
        participant: &ParticipantRef,
    ) -> Result<(), StoreError> {
        self.write(account, |tenant, _, _| {
            let conversation = tenant.service(scope)?.conversation(reference)?;
            let sid = conversation.participant_sid(participant).ok_or(StoreError::NotFound)?;
            let place = conversation.locate(sid);
            let change = Change::DeleteParticipant {
                account,
                service: place.chat_service_sid,
                conversation: place.conversation_sid,
                participant: sid,
            };
            Ok(Decision::one(change, ()))
        })
    }
}

/// A messaging binding from its addresses, keeping what `current` had where nothing new is
/// given; `None` when there is no address at all (a plain chat participant).
/// The participant `fields` describe, under `sid`, with `role` unless they name one.
pub(super) fn new_participant(
    sid: ParticipantSid,
    now: Timestamp,
    role: RoleSid,
    fields: ParticipantFields,
) -> Participant {
    let date_created = fields.date_created.unwrap_or(now);
    Participant {
        sid,
        identity: fields.identity.map(Into::into),
        attributes: fields.attributes.map(Into::into),
        binding: binding(fields.address, fields.proxy_address, fields.projected_address, None),
        role_sid: fields.role_sid.unwrap_or(role),
        last_read_message_index: fields.last_read_message_index,
        last_read_timestamp: fields.last_read_timestamp,
        date_created,
        date_updated: fields.date_updated.unwrap_or(date_created),
        notification_level: NotificationLevel::Default,
    }
}

/// Whether two participants would be the same one in a conversation: the same identity, or
/// the same SMS or WhatsApp number pair.
pub(super) fn duplicates(a: &Participant, b: &Participant) -> Option<StoreError> {
    if a.identity.is_some() && a.identity == b.identity {
        return Some(StoreError::ParticipantExists);
    }
    let pair = |p: &Participant| p.binding.as_ref().map(|b| (b.address.clone(), b.proxy_address.clone()));
    (a.is_non_chat() && pair(a) == pair(b)).then_some(StoreError::BindingExists)
}

fn binding(
    address: Option<String>,
    proxy_address: Option<String>,
    projected_address: Option<String>,
    current: Option<&MessagingBinding>,
) -> Option<MessagingBinding> {
    let keep = |new: Option<String>, old: Option<&Arc<str>>| new.map(Into::into).or_else(|| old.cloned());
    let binding = MessagingBinding {
        address: keep(address, current.and_then(|b| b.address.as_ref())),
        proxy_address: keep(proxy_address, current.and_then(|b| b.proxy_address.as_ref())),
        projected_address: keep(projected_address, current.and_then(|b| b.projected_address.as_ref())),
    };
    (binding != MessagingBinding::default()).then_some(binding)
}

/// The decision to put `participant` in `conversation`, answering with it.
fn put_participant(
    account: AccountSid,
    conversation: &ConversationData,
    participant: Participant,
) -> Decision<Located<Participant>> {
    let place = conversation.locate(participant);
    let change = Change::PutParticipant {
        account,
        service: place.chat_service_sid,
        conversation: place.conversation_sid,
        participant: place.value.clone(),
    };
    Decision::one(change, place)
}
