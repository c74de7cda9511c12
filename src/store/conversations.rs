//! Conversations (Chat channels) in the store.

use std::sync::Arc;

use super::*;

impl Store {
    /// Creates a conversation in the service `scope` names.
    pub fn create_conversation(
        &self,
        account: AccountSid,
        scope: ServiceScope,
        fields: ConversationFields,
    ) -> Result<ConversationSnapshot, StoreError> {
        self.write(
            account,
            |tenant, sids, now| {
                let service = tenant.service_mut(scope)?;
                let unique_name: Option<Arc<str>> = fields.unique_name.map(Into::into);
                if unique_name.as_ref().is_some_and(|name| service.unique_names.contains_key(name)) {
                    return Err(StoreError::UniqueNameTaken);
                }
                let sid = fresh(sids, ConversationSid::from_bits, |sid| service.conversations.contains(sid));
                let date_created = fields.date_created.unwrap_or(now);
                let conversation = Conversation {
                    sid,
                    chat_service_sid: service.service.sid,
                    friendly_name: fields.friendly_name.map(Into::into),
                    unique_name: unique_name.clone(),
                    attributes: fields.attributes.map(Into::into),
                    state: fields.state.unwrap_or_default(),
                    channel_type: fields.channel_type.unwrap_or(ChannelType::Private),
                    created_by: fields.created_by.map(Into::into),
                    date_created,
                    date_updated: fields.date_updated.unwrap_or(date_created),
                };
                if let Some(name) = unique_name {
                    service.unique_names.insert(name, sid);
                }
                let data = ConversationData::new(conversation);
                let snapshot = data.snapshot();
                service.conversations.push(sid, data);
                Ok(snapshot)
            },
            |snapshot| put_conversation(account, snapshot),
        )
    }

    /// The conversation `reference` names in the service `scope` names.
    pub fn fetch_conversation(
        &self,
        account: AccountSid,
        scope: ServiceScope,
        reference: &ConversationRef,
    ) -> Result<ConversationSnapshot, StoreError> {
        self.read(account, |tenant| Ok(tenant.service(scope)?.conversation(reference)?.snapshot()))
    }

    /// A page of a service's conversations, oldest first, keeping those `filter` matches.
    pub fn list_conversations(
        &self,
        account: AccountSid,
        scope: ServiceScope,
        filter: &ConversationFilter,
        request: &PageRequest,
    ) -> Result<Selection<ConversationSnapshot>, StoreError> {
        self.read(account, |tenant| {
            let conversations = &tenant.service(scope)?.conversations;
            Ok(conversations.select(request, |data| filter.matches(&data.conversation)).map(ConversationData::snapshot))
        })
    }

    /// Applies `fields` to a conversation.
    pub fn update_conversation(
        &self,
        account: AccountSid,
        scope: ServiceScope,
        reference: &ConversationRef,
        fields: ConversationFields,
    ) -> Result<ConversationSnapshot, StoreError> {
        self.write(
            account,
            |tenant, _, now| {
                let service = tenant.service_mut(scope)?;
                let sid = service.conversation(reference)?.conversation.sid;
                let new_name: Option<Arc<str>> = fields.unique_name.map(Into::into);
                if let Some(name) = &new_name
                    && service.unique_names.get(name).is_some_and(|owner| *owner != sid)
                {
                    return Err(StoreError::UniqueNameTaken);
                }
                let data = service.conversations.get_mut(&sid).ok_or(StoreError::ConversationNotFound)?;
                let conversation = &mut data.conversation;
                if let Some(name) = new_name {
                    if let Some(old) = conversation.unique_name.replace(name.clone()) {
                        service.unique_names.remove(&old);
                    }
                    service.unique_names.insert(name, sid);
                }
                if let Some(friendly_name) = fields.friendly_name {
                    conversation.friendly_name = Some(friendly_name.into());
                }
                if let Some(attributes) = fields.attributes {
                    conversation.attributes = Some(attributes.into());
                }
                if let Some(state) = fields.state {
                    conversation.state = state;
                }
                if let Some(created_by) = fields.created_by {
                    conversation.created_by = Some(created_by.into());
                }
                if let Some(date_created) = fields.date_created {
                    conversation.date_created = date_created;
                }
                conversation.date_updated = fields.date_updated.unwrap_or(now);
                Ok(data.snapshot())
            },
            |snapshot| put_conversation(account, snapshot),
        )
    }

    /// Deletes a conversation and all its messages.
    pub fn delete_conversation(
        &self,
        account: AccountSid,
        scope: ServiceScope,
        reference: &ConversationRef,
    ) -> Result<(), StoreError> {
        self.write(
            account,
            |tenant, _, _| {
                let service = tenant.service_mut(scope)?;
                let sid = service.conversation(reference)?.conversation.sid;
                service.remove_conversation(sid).ok_or(StoreError::NotFound)?;
                Ok((service.service.sid, sid))
            },
            |(service, conversation)| Change::DeleteConversation {
                account: account.to_string(),
                service: service.to_string(),
                conversation: conversation.to_string(),
            },
        )
        .map(drop)
    }
}
