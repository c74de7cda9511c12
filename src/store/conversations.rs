//! Conversations (Chat channels) in the store.

use std::sync::Arc;

use super::change::Change;
use super::model::{
    ChannelType, Conversation, ConversationFields, ConversationFilter, ConversationSnapshot, ConversationState,
    ConversationTimers,
};
use super::selection::{PageRequest, Selection};
use super::tables::{ConversationData, Tenant};
use super::{ConversationRef, Decision, ServiceScope, Store, StoreError, fresh};
use crate::sid::{AccountSid, ConversationSid, SidGenerator};
use crate::time::{Timestamp, parse_duration_seconds};

/// The instant a timer of `seconds` set at `now` runs out; past the last printable instant
/// it never does, which the last instant stands for.
fn runs_out(now: Timestamp, seconds: i64) -> Timestamp {
    now.checked_add(seconds).unwrap_or(Timestamp::MAX)
}

impl Store {
    /// Creates a conversation in the service `scope` names.
    pub fn create_conversation(
        &self,
        account: AccountSid,
        scope: ServiceScope,
        fields: ConversationFields,
    ) -> Result<ConversationSnapshot, StoreError> {
        self.write(account, |tenant, sids, now| {
            let conversation = new_conversation(tenant, sids, now, scope, fields)?;
            let snapshot =
                ConversationSnapshot { conversation: conversation.clone(), message_count: 0, member_count: 0 };
            Ok(Decision::one(Change::PutConversation { account, conversation }, snapshot))
        })
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
            let conversations = tenant.service(scope)?.conversations();
            Ok(conversations
                .select(request, |data| filter.matches(data.conversation()))
                .map(ConversationData::snapshot))
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
        self.write(account, |tenant, _, now| {
            let service = tenant.service(scope)?;
            let data = service.conversation(reference)?;
            let sid = data.conversation().sid;
            let new_name: Option<Arc<str>> = fields.unique_name.map(Into::into);
            if let Some(name) = &new_name
                && service.unique_name_owner(name).is_some_and(|owner| owner != sid)
            {
                return Err(StoreError::UniqueNameTaken);
            }
            let mut conversation = data.conversation().clone();
            if let Some(name) = new_name {
                conversation.unique_name = Some(name);
            }
            if let Some(friendly_name) = fields.friendly_name {
                conversation.friendly_name = Some(friendly_name.into());
            }
            if let Some(attributes) = fields.attributes {
                conversation.attributes = Some(attributes.into());
            }
            if let Some(state) = fields.state {
                // Twilio: a closed conversation "can't be reactivated" (50377).
                if conversation.state == ConversationState::Closed && state != ConversationState::Closed {
                    return Err(StoreError::ConversationClosed);
                }
                // A spent inactive timer would send a reactivated conversation straight
                // back; it is cleared instead, and `Timers.Inactive` sets a new one.
                if state == ConversationState::Active
                    && conversation.state != ConversationState::Active
                    && conversation.timers.date_inactive.is_some_and(|at| at <= now)
                {
                    conversation.timers.date_inactive = None;
                }
                conversation.state = state;
            }
            if let Some(inactive) = fields.inactive_timer {
                conversation.timers.date_inactive = inactive.map(|seconds| runs_out(now, seconds));
            }
            if let Some(closed) = fields.closed_timer {
                conversation.timers.date_closed = closed.map(|seconds| runs_out(now, seconds));
            }
            if let Some(created_by) = fields.created_by {
                conversation.created_by = Some(created_by.into());
            }
            if let Some(date_created) = fields.date_created {
                conversation.date_created = date_created;
            }
            conversation.date_updated = fields.date_updated.unwrap_or(now);
            let snapshot = ConversationSnapshot { conversation: conversation.clone(), ..data.snapshot() };
            Ok(Decision::one(Change::PutConversation { account, conversation }, snapshot))
        })
    }

    /// Deletes a conversation and all its messages.
    pub fn delete_conversation(
        &self,
        account: AccountSid,
        scope: ServiceScope,
        reference: &ConversationRef,
    ) -> Result<(), StoreError> {
        self.write(account, |tenant, _, _| {
            let service = tenant.service(scope)?;
            let conversation = service.conversation(reference)?.conversation().sid;
            Ok(Decision::one(Change::DeleteConversation { account, service: service.sid(), conversation }, ()))
        })
    }
}

/// The conversation `fields` create in the service `scope` names, checked against it (a
/// unique name must be free) but not stored: what a create, and a create with
/// participants, decide.
pub(super) fn new_conversation(
    tenant: &Tenant,
    sids: &mut SidGenerator,
    now: Timestamp,
    scope: ServiceScope,
    fields: ConversationFields,
) -> Result<Conversation, StoreError> {
    let service = tenant.service(scope)?;
    let unique_name: Option<Arc<str>> = fields.unique_name.map(Into::into);
    if unique_name.as_ref().is_some_and(|name| service.unique_name_owner(name).is_some()) {
        return Err(StoreError::UniqueNameTaken);
    }
    let sid = fresh(sids, ConversationSid::from_bits, |sid| service.conversations().contains(sid));
    let date_created = fields.date_created.unwrap_or(now);
    // The account's `DefaultInactiveTimer`/`DefaultClosedTimer` apply to a new
    // conversation that sets no timer of its own. They are stored as sent, so one
    // that is not a duration is ignored here rather than refused on every create.
    let configuration = tenant.configuration();
    let default = |value: &Option<Arc<str>>| value.as_deref().and_then(parse_duration_seconds);
    let inactive = fields.inactive_timer.unwrap_or_else(|| default(&configuration.default_inactive_timer));
    let closed = fields.closed_timer.unwrap_or_else(|| default(&configuration.default_closed_timer));
    // Timers count from the request that sets them (see README, "Conversation timers").
    let timers = ConversationTimers {
        date_inactive: inactive.map(|seconds| runs_out(now, seconds)),
        date_closed: closed.map(|seconds| runs_out(now, seconds)),
    };
    let conversation = Conversation {
        sid,
        chat_service_sid: service.sid(),
        friendly_name: fields.friendly_name.map(Into::into),
        unique_name,
        attributes: fields.attributes.map(Into::into),
        state: fields.state.unwrap_or_default(),
        channel_type: fields.channel_type.unwrap_or(ChannelType::Private),
        created_by: fields.created_by.map(Into::into),
        date_created,
        date_updated: fields.date_updated.unwrap_or(date_created),
        timers,
    };
    Ok(conversation)
}
