//! Messages in the store: one index sequence per conversation.

use std::sync::Arc;

use super::*;

impl Store {
    /// Appends a message to a conversation, giving it the next index.
    pub fn create_message(
        &self,
        account: AccountSid,
        scope: ServiceScope,
        reference: &ConversationRef,
        fields: MessageFields,
    ) -> Result<Located<Arc<Message>>, StoreError> {
        self.write(
            account,
            |tenant, sids, now| {
                let conversation = tenant.service_mut(scope)?.conversation_mut(reference)?;
                let messages = &mut conversation.messages;
                let sid = fresh(sids, MessageSid::from_bits, |sid| messages.contains(sid));
                let date_created = fields.date_created.unwrap_or(now);
                let message = Arc::new(Message {
                    sid,
                    index: messages.next_sequence(),
                    author: fields.author.unwrap_or_else(|| DEFAULT_AUTHOR.to_owned()).into(),
                    body: fields.body.map(Into::into),
                    attributes: fields.attributes.map(Into::into),
                    last_updated_by: fields.last_updated_by.map(Into::into),
                    was_edited: false,
                    date_created,
                    date_updated: fields.date_updated.unwrap_or(date_created),
                });
                messages.push(sid, Arc::clone(&message));
                Ok(conversation.locate(message))
            },
            |located| put_message(account, located),
        )
    }

    /// One message of a conversation.
    pub fn fetch_message(
        &self,
        account: AccountSid,
        scope: ServiceScope,
        reference: &ConversationRef,
        sid: MessageSid,
    ) -> Result<Located<Arc<Message>>, StoreError> {
        self.read(account, |tenant| {
            let conversation = tenant.service(scope)?.conversation(reference)?;
            let message = conversation.messages.get(&sid).ok_or(StoreError::NotFound)?;
            Ok(conversation.locate(Arc::clone(message)))
        })
    }

    /// A page of a conversation's messages, by index in the request's order.
    pub fn list_messages(
        &self,
        account: AccountSid,
        scope: ServiceScope,
        reference: &ConversationRef,
        request: &PageRequest,
    ) -> Result<Located<Selection<Arc<Message>>>, StoreError> {
        self.read(account, |tenant| {
            let conversation = tenant.service(scope)?.conversation(reference)?;
            let page = select(conversation.messages.ordered(), request, |_| true).map(Arc::clone);
            Ok(conversation.locate(page))
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
    ) -> Result<Located<Arc<Message>>, StoreError> {
        self.write(
            account,
            |tenant, _, now| {
                let conversation = tenant.service_mut(scope)?.conversation_mut(reference)?;
                let slot = conversation.messages.get_mut(&sid).ok_or(StoreError::NotFound)?;
                let mut message = Message::clone(slot);
                if let Some(author) = fields.author {
                    message.author = author.into();
                }
                if let Some(body) = fields.body {
                    message.body = Some(body.into());
                }
                if let Some(attributes) = fields.attributes {
                    message.attributes = Some(attributes.into());
                }
                if let Some(last_updated_by) = fields.last_updated_by {
                    message.last_updated_by = Some(last_updated_by.into());
                }
                if let Some(date_created) = fields.date_created {
                    message.date_created = date_created;
                }
                message.date_updated = fields.date_updated.unwrap_or(now);
                message.was_edited = true;
                *slot = Arc::new(message);
                let updated = Arc::clone(slot);
                Ok(conversation.locate(updated))
            },
            |located| put_message(account, located),
        )
    }

    /// Deletes a message. Its index is not reused.
    pub fn delete_message(
        &self,
        account: AccountSid,
        scope: ServiceScope,
        reference: &ConversationRef,
        sid: MessageSid,
    ) -> Result<(), StoreError> {
        self.write(
            account,
            |tenant, _, _| {
                let conversation = tenant.service_mut(scope)?.conversation_mut(reference)?;
                conversation.messages.remove(&sid).ok_or(StoreError::NotFound)?;
                Ok(conversation.locate(sid))
            },
            |located| Change::DeleteMessage {
                account: account.to_string(),
                service: located.chat_service_sid.to_string(),
                conversation: located.conversation_sid.to_string(),
                message: located.value.to_string(),
            },
        )
        .map(drop)
    }
}
