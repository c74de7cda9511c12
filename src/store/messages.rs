//! Messages in the store: one index sequence per conversation, each message with its
//! author participant, media, content template and delivery receipts.

use super::change::Change;
use super::document::MAX_INDEX;
use super::model::{
    Conversation, ConversationState, DeliveryStatus, Message, MessageExtras, MessageFields, Receipt, StoredMessage,
};
use super::selection::{PageRequest, Selection, select};
use super::tables::{ConversationData, Tenant};
use super::{ConversationRef, DEFAULT_AUTHOR, Decision, Located, Proposal, ServiceScope, Store, StoreError, fresh};
use crate::sid::{
    AccountSid, ChannelMessageSid, ChatServiceSid, ConversationSid, MessageSid, ReceiptSid, SidGenerator,
};
use crate::time::Timestamp;

/// What SMS and WhatsApp carry: a conversation with such participants refuses longer
/// bodies (chat alone allows 32 KB).
pub const SMS_BODY_MAX_CHARS: usize = 1600;

/// A change of delivery status, asked for through the control plane.
#[derive(Clone, Debug)]
pub struct ReceiptUpdate {
    /// The conversation by SID or unique name, in whichever of the account's services
    /// holds it.
    pub conversation: ConversationRef,
    pub message: MessageSid,
    /// One receipt, or (when `None`) every receipt of the message.
    pub receipt: Option<ReceiptSid>,
    pub status: DeliveryStatus,
    pub error_code: u32,
}

impl Store {
    /// Appends a message to a conversation, giving it the next index. It is attributed to
    /// the participant it was written as, gets a receipt for every SMS or WhatsApp
    /// participant other than its author, and takes its media out of the uploads.
    pub fn create_message(
        &self,
        account: AccountSid,
        scope: ServiceScope,
        reference: &ConversationRef,
        fields: MessageFields,
    ) -> Result<Located<StoredMessage>, StoreError> {
        self.write(account, |tenant, sids, now| {
            decide_create_message(account, tenant, sids, now, scope, reference, fields)
        })
    }

    /// The message [`create_message`](Self::create_message) would add, checked but not
    /// committed: for a pre-event hook (`onMessageAdd`) that may still veto it.
    pub fn propose_message(
        &self,
        account: AccountSid,
        scope: ServiceScope,
        reference: &ConversationRef,
        fields: MessageFields,
    ) -> Result<Proposal<Located<StoredMessage>>, StoreError> {
        self.propose(account, |tenant, sids, now| {
            decide_create_message(account, tenant, sids, now, scope, reference, fields)
        })
    }

    /// One message of a conversation.
    pub fn fetch_message(
        &self,
        account: AccountSid,
        scope: ServiceScope,
        reference: &ConversationRef,
        sid: MessageSid,
    ) -> Result<Located<StoredMessage>, StoreError> {
        self.read(account, |tenant| {
            let service = tenant.service(scope)?;
            let message = service.message(reference, sid)?;
            Ok(service.locate(message.conversation_sid, message.clone()))
        })
    }

    /// A page of a conversation's messages, by index in the request's order, handed to
    /// `read` under the store's read lock (which only writers wait for).
    ///
    /// A page is read in place rather than returned as reference-counted copies: two cores
    /// serving pages of one conversation would otherwise pass the cache lines of 50 counts
    /// back and forth twice per page, which costs more than rendering the page.
    pub fn list_messages<R>(
        &self,
        account: AccountSid,
        scope: ServiceScope,
        reference: &ConversationRef,
        request: &PageRequest,
        read: impl FnOnce(Located<Selection<&StoredMessage>>) -> R,
    ) -> Result<R, StoreError> {
        self.read(account, |tenant| {
            let conversation = tenant.service(scope)?.conversation(reference)?;
            let page = select(conversation.messages().ordered(), request, |_| true);
            Ok(read(conversation.locate(page)))
        })
    }

    /// A conversation's messages from index `from` on, oldest first: what a conversation
    /// webhook created with `ReplayAfter` is sent again.
    pub fn messages_from(
        &self,
        account: AccountSid,
        service: ChatServiceSid,
        conversation: ConversationSid,
        from: u64,
    ) -> Result<Vec<StoredMessage>, StoreError> {
        self.read(account, |tenant| {
            let conversation =
                tenant.service(ServiceScope::Explicit(service))?.conversation(&ConversationRef::Sid(conversation))?;
            Ok(conversation.messages().ordered().range(from..).map(|(_, message)| message.clone()).collect())
        })
    }

    /// Applies `fields` to a message. The stored message is replaced, not mutated, so a
    /// reader that already holds the old version keeps a consistent copy.
    pub fn update_message(
        &self,
        account: AccountSid,
        scope: ServiceScope,
        reference: &ConversationRef,
        sid: MessageSid,
        fields: MessageFields,
    ) -> Result<Located<StoredMessage>, StoreError> {
        self.write(account, |tenant, _, now| {
            let service = tenant.service(scope)?;
            let current = service.message(reference, sid)?;
            if fields.body.is_some() && current.media().is_some() {
                return Err(StoreError::MediaBodyUpdate);
            }
            let conversation = service.conversation(reference)?;
            check_sms_body(conversation, fields.body.as_deref())?;
            let message = current.edited(fields.author.as_deref(), fields.body.as_deref(), |message| {
                if let Some(author) = &fields.author {
                    message.participant_sid = conversation.author_participant(author);
                }
                if let Some(attributes) = fields.attributes {
                    message.attributes = Some(attributes.into());
                }
                if let Some(last_updated_by) = fields.last_updated_by {
                    let mut extras = message.extras.take().map(|boxed| *boxed).unwrap_or_default();
                    extras.last_updated_by = Some(last_updated_by.into());
                    message.extras = extras.boxed();
                }
                if let Some(date_created) = fields.date_created {
                    message.date_created = date_created;
                }
                message.date_updated = fields.date_updated.unwrap_or(now);
                message.was_edited = true;
                Ok::<_, StoreError>(())
            })?;
            let change = Change::PutMessage { account, service: service.sid(), message: message.clone() };
            Ok(Decision::one(change, service.locate(message.conversation_sid, message)))
        })
    }

    /// Deletes a message, and its media with it. Its index is not reused.
    pub fn delete_message(
        &self,
        account: AccountSid,
        scope: ServiceScope,
        reference: &ConversationRef,
        sid: MessageSid,
    ) -> Result<(), StoreError> {
        self.write(account, |tenant, _, _| {
            let service = tenant.service(scope)?;
            let conversation = service.message(reference, sid)?.conversation_sid;
            Ok(Decision::one(Change::DeleteMessage { account, service: service.sid(), conversation, message: sid }, ()))
        })
    }

    /// A page of a message's delivery receipts, in the order its participants joined.
    pub fn list_receipts(
        &self,
        account: AccountSid,
        scope: ServiceScope,
        reference: &ConversationRef,
        message: MessageSid,
        request: &PageRequest,
    ) -> Result<Located<Selection<Receipt>>, StoreError> {
        self.read(account, |tenant| {
            let service = tenant.service(scope)?;
            let message = service.message(reference, message)?;
            // At most 50 receipts: ordering them for the pager costs nothing worth indexing.
            let by_position = message.receipts().iter().enumerate().map(|(i, r)| (i as u64, r)).collect();
            let page = select(&by_position, request, |_| true).map(|receipt| (*receipt).clone());
            Ok(service.locate(message.conversation_sid, page))
        })
    }

    /// One delivery receipt of a message.
    pub fn fetch_receipt(
        &self,
        account: AccountSid,
        scope: ServiceScope,
        reference: &ConversationRef,
        message: MessageSid,
        receipt: ReceiptSid,
    ) -> Result<Located<Receipt>, StoreError> {
        self.read(account, |tenant| {
            let service = tenant.service(scope)?;
            let message = service.message(reference, message)?;
            let found = message.receipts().iter().find(|r| r.sid == receipt).ok_or(StoreError::NotFound)?;
            Ok(service.locate(message.conversation_sid, found.clone()))
        })
    }

    /// Moves receipts to a new status, as the carrier's callbacks would, and returns the
    /// message as it now is. The conversation is found in whichever service holds it.
    pub fn update_receipts(
        &self,
        account: AccountSid,
        update: ReceiptUpdate,
    ) -> Result<Located<StoredMessage>, StoreError> {
        self.write(account, |tenant, _, now| {
            // A unique name is unique per service, so the message decides between services
            // that each have a conversation of that name.
            let mut holding = tenant
                .services()
                .values()
                .filter(|service| service.conversation(&update.conversation).is_ok())
                .peekable();
            if holding.peek().is_none() {
                return Err(StoreError::ConversationNotFound);
            }
            let (service, current) = holding
                .find_map(|service| service.message(&update.conversation, update.message).ok().map(|m| (service, m)))
                .ok_or(StoreError::NotFound)?;
            let message = current.edited(None, None, |message| {
                let extras = message.extras.as_mut().ok_or(StoreError::NoReceipts)?;
                if extras.receipts.is_empty() {
                    return Err(StoreError::NoReceipts);
                }
                let mut touched = 0;
                for receipt in extras.receipts.iter_mut().filter(|r| update.receipt.is_none_or(|sid| sid == r.sid)) {
                    if !receipt.status.may_become(update.status) {
                        return Err(StoreError::ReceiptTransition(receipt.status.as_str(), update.status.as_str()));
                    }
                    receipt.status = update.status;
                    receipt.error_code = update.error_code;
                    receipt.date_updated = now;
                    touched += 1;
                }
                if touched == 0 { Err(StoreError::ReceiptNotFound) } else { Ok(()) }
            })?;
            let change = Change::PutMessage { account, service: service.sid(), message: message.clone() };
            Ok(Decision::one(change, service.locate(message.conversation_sid, message)))
        })
    }
}

/// Checks a new message against the conversation and decides the change that adds it.
fn decide_create_message(
    account: AccountSid,
    tenant: &Tenant,
    sids: &mut SidGenerator,
    now: Timestamp,
    scope: ServiceScope,
    reference: &ConversationRef,
    mut fields: MessageFields,
) -> Result<Decision<Located<StoredMessage>>, StoreError> {
    let service = tenant.service(scope)?;
    // A content template replaces body and media, as Twilio documents.
    if fields.content_sid.is_some() {
        fields.body = None;
        fields.media_sid = None;
    }
    let media = match fields.media_sid {
        None => None,
        Some(sid) => {
            let media = service.media(&sid).filter(|media| !media.is_expired(now)).ok_or(StoreError::MediaNotFound)?;
            if media.attached_to.is_some() {
                return Err(StoreError::MediaAlreadyAttached);
            }
            Some(media.reference())
        }
    };
    let conversation = service.conversation(reference)?;
    if conversation.conversation().state == ConversationState::Closed {
        return Err(StoreError::ConversationClosed);
    }
    check_sms_body(conversation, fields.body.as_deref())?;
    let author = fields.author.unwrap_or_else(|| DEFAULT_AUTHOR.to_owned());
    let participant_sid = conversation.author_participant(&author);
    let date_created = fields.date_created.unwrap_or(now);
    let receipts = conversation
        .participants()
        .values()
        .filter(|p| p.is_non_chat() && Some(p.sid) != participant_sid)
        .map(|p| Receipt {
            sid: ReceiptSid::from_bits(sids.next_bits()),
            participant_sid: p.sid,
            channel_message_sid: ChannelMessageSid::from_bits(sids.next_bits()),
            status: DeliveryStatus::Sent,
            error_code: 0,
            date_created,
            date_updated: date_created,
        })
        .collect();
    let conversation_sid = conversation.conversation().sid;
    let index = conversation.messages().next_index();
    if index > MAX_INDEX {
        return Err(StoreError::IndicesExhausted);
    }
    let sid = fresh(sids, MessageSid::from_bits, |sid| service.has_message(sid));
    let message = Message {
        sid,
        conversation_sid,
        index,
        attributes: fields.attributes.map(Into::into),
        was_edited: false,
        participant_sid,
        extras: MessageExtras {
            media,
            content_sid: fields.content_sid,
            receipts,
            last_updated_by: fields.last_updated_by.map(Into::into),
        }
        .boxed(),
        date_created,
        date_updated: fields.date_updated.unwrap_or(date_created),
    };
    let message = StoredMessage::new(message, &author, fields.body.as_deref());
    let change = Change::PutMessage { account, service: service.sid(), message: message.clone() };
    let answer = service.locate(conversation_sid, message);
    match reactivated(conversation, now) {
        // Twilio: "the Conversation will automatically move from an inactive to active
        // state when a new text or media message arrives". Only an inactive conversation
        // pays for the second change.
        Some(active) => {
            Ok(Decision { changes: vec![Change::PutConversation { account, conversation: active }, change], answer })
        }
        None => Ok(Decision::one(change, answer)),
    }
}

/// The conversation made active again by a new message, if it is inactive: dated now, its
/// spent inactive timer cleared as a `State=active` update clears it (it would send the
/// conversation straight back).
fn reactivated(conversation: &ConversationData, now: Timestamp) -> Option<Conversation> {
    let current = conversation.conversation();
    if current.state != ConversationState::Inactive {
        return None;
    }
    let mut active = current.clone();
    active.state = ConversationState::Active;
    active.date_updated = now;
    if active.timers.date_inactive.is_some_and(|at| at <= now) {
        active.timers.date_inactive = None;
    }
    Some(active)
}

/// Refuses a body longer than SMS or WhatsApp carry in a conversation that has such
/// participants.
fn check_sms_body(conversation: &ConversationData, body: Option<&str>) -> Result<(), StoreError> {
    let too_long = body.is_some_and(|body| body.chars().count() > SMS_BODY_MAX_CHARS);
    if too_long && conversation.has_non_chat_participants() { Err(StoreError::BodyTooLongForSms) } else { Ok(()) }
}
