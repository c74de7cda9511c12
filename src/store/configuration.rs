//! The webhook and account configuration in the store: account- and service-level webhook
//! settings, the account's and services' configuration, conversation-scoped webhooks and
//! Address Configurations, with the reads the webhook dispatcher makes.
//! <https://www.twilio.com/docs/conversations/conversations-webhooks>

use std::sync::Arc;

use super::change::Change;
use super::selection::{PageRequest, Selection};
use super::tables::Tenant;
use super::webhook_model::{
    AccountConfiguration, AddressConfiguration, AddressConfigurationUpdate, AddressType, AutoCreation,
    ConversationWebhook, MAX_CONVERSATION_WEBHOOKS, ScopedConfiguration, ScopedTarget, ServiceConfiguration,
    WebhookLevel, WebhookSettings, WebhookSettingsUpdate, WebhookTargets,
};
use super::{ConversationRef, Decision, Located, ServiceScope, Store, StoreError, fresh};
use crate::sid::{AccountSid, AddressConfigurationSid, ChatServiceSid, ConversationSid, WebhookSid};

/// What a new Address Configuration is: its channel, address and country, and the
/// `AutoCreation.*` and `FriendlyName` given.
#[derive(Clone, Debug)]
pub struct NewAddressConfiguration {
    pub kind: AddressType,
    pub address: Arc<str>,
    pub address_country: Option<Arc<str>>,
    pub fields: AddressConfigurationUpdate,
}

/// A service named by a parameter must be one of the account's.
fn check_service(tenant: &Tenant, service: Option<ChatServiceSid>) -> Result<(), StoreError> {
    match service {
        Some(sid) if !tenant.services().contains(&sid) => Err(StoreError::ServiceNotFound),
        _ => Ok(()),
    }
}

impl Store {
    // --- Read API of the webhook dispatcher ----------------------------------------------

    /// The webhooks that apply to `conversation` of `service` (or to the service alone):
    /// the service's settings when they are configured, else the account's (`level` is
    /// `None` when neither is), and the conversation's own webhooks in creation order
    /// (none when `conversation` is `None` or gone).
    pub fn webhook_targets(
        &self,
        account: AccountSid,
        service: ChatServiceSid,
        conversation: Option<ConversationSid>,
    ) -> WebhookTargets {
        self.read(account, |tenant| {
            let service_data = tenant.services().get(&service);
            let (level, settings) = match service_data.map(|data| data.webhooks()) {
                Some(settings) if settings.is_configured() => (Some(WebhookLevel::Service(service)), settings),
                _ => {
                    let settings = tenant.webhooks();
                    (settings.is_configured().then_some(WebhookLevel::Account), settings)
                }
            };
            let scoped = conversation
                .and_then(|sid| service_data?.conversations().get(&sid))
                .map(|data| data.webhooks().values().cloned().collect())
                .unwrap_or_default();
            WebhookTargets { level, settings: settings.clone(), scoped }
        })
    }

    /// The Address Configuration for messages texted to `address`: of those for exactly
    /// this address, the one whose type is the address's channel (`whatsapp:`-prefixed
    /// addresses are WhatsApp, any other SMS), else the other messaging one (SMS or
    /// WhatsApp). A configuration of any other type (chat, email…) never takes a text.
    pub fn address_configuration_for(&self, account: AccountSid, address: &str) -> Option<AddressConfiguration> {
        self.read(account, |tenant| {
            let mut candidates = tenant.addresses().values().filter(|configuration| {
                &*configuration.address == address
                    && matches!(configuration.kind, AddressType::Sms | AddressType::Whatsapp)
            });
            let first = candidates.next()?;
            let preferred = std::iter::once(first).chain(candidates).find(|c| c.matches_channel_of(address));
            Some(preferred.unwrap_or(first).clone())
        })
    }

    /// The account-level webhook settings (`Default` when never set).
    pub fn account_webhooks(&self, account: AccountSid) -> WebhookSettings {
        self.read(account, |tenant| tenant.webhooks().clone())
    }

    // --- Account and service webhook settings --------------------------------------------

    /// Applies `update` to the account-level webhook settings.
    pub fn update_account_webhooks(
        &self,
        account: AccountSid,
        update: WebhookSettingsUpdate,
    ) -> Result<WebhookSettings, StoreError> {
        self.write(account, |tenant, _, now| {
            let settings = tenant.webhooks().updated(update, now);
            Ok(Decision::one(Change::PutAccountWebhooks { account, settings: settings.clone() }, settings))
        })
    }

    /// The webhook settings of `service`.
    pub fn service_webhooks(
        &self,
        account: AccountSid,
        service: ChatServiceSid,
    ) -> Result<WebhookSettings, StoreError> {
        self.read(account, |tenant| {
            tenant.services().get(&service).map(|data| data.webhooks().clone()).ok_or(StoreError::NotFound)
        })
    }

    /// Applies `update` to the webhook settings of `service`.
    pub fn update_service_webhooks(
        &self,
        account: AccountSid,
        service: ChatServiceSid,
        update: WebhookSettingsUpdate,
    ) -> Result<WebhookSettings, StoreError> {
        self.write(account, |tenant, _, now| {
            let data = tenant.services().get(&service).ok_or(StoreError::NotFound)?;
            let settings = data.webhooks().updated(update, now);
            Ok(Decision::one(Change::PutServiceWebhooks { account, service, settings: settings.clone() }, settings))
        })
    }

    // --- Account and service configuration -----------------------------------------------

    /// The account's configuration.
    pub fn account_configuration(&self, account: AccountSid) -> AccountConfiguration {
        self.read(account, |tenant| tenant.configuration().clone())
    }

    /// Replaces the account's configuration with what `edit` makes of it. A default chat
    /// service must be one of the account's services: `/v1/Conversations` uses it from
    /// then on.
    pub fn update_account_configuration(
        &self,
        account: AccountSid,
        edit: impl FnOnce(&mut AccountConfiguration),
    ) -> Result<AccountConfiguration, StoreError> {
        self.write(account, |tenant, _, _| {
            let mut configuration = tenant.configuration().clone();
            edit(&mut configuration);
            check_service(tenant, configuration.default_chat_service_sid)?;
            let change = Change::PutAccountConfiguration { account, configuration: configuration.clone() };
            Ok(Decision::one(change, configuration))
        })
    }

    /// The configuration of `service`.
    pub fn service_configuration(
        &self,
        account: AccountSid,
        service: ChatServiceSid,
    ) -> Result<ServiceConfiguration, StoreError> {
        self.read(account, |tenant| {
            tenant.services().get(&service).map(|data| data.configuration().clone()).ok_or(StoreError::NotFound)
        })
    }

    /// Replaces the configuration of `service` with what `edit` makes of it.
    pub fn update_service_configuration(
        &self,
        account: AccountSid,
        service: ChatServiceSid,
        edit: impl FnOnce(&mut ServiceConfiguration),
    ) -> Result<ServiceConfiguration, StoreError> {
        self.write(account, |tenant, _, _| {
            let mut configuration =
                tenant.services().get(&service).ok_or(StoreError::NotFound)?.configuration().clone();
            edit(&mut configuration);
            let change = Change::PutServiceConfiguration { account, service, configuration: configuration.clone() };
            Ok(Decision::one(change, configuration))
        })
    }

    // --- Conversation-scoped webhooks ----------------------------------------------------

    /// Adds a webhook to a conversation: at most five.
    pub fn create_conversation_webhook(
        &self,
        account: AccountSid,
        scope: ServiceScope,
        reference: &ConversationRef,
        target: ScopedTarget,
        configuration: ScopedConfiguration,
        replay_after: Option<u64>,
    ) -> Result<Located<ConversationWebhook>, StoreError> {
        self.write(account, |tenant, sids, now| {
            let conversation = tenant.service(scope)?.conversation(reference)?;
            if conversation.webhooks().len() >= MAX_CONVERSATION_WEBHOOKS {
                return Err(StoreError::TooManyConversationWebhooks);
            }
            let sid = fresh(sids, WebhookSid::from_bits, |sid| conversation.webhooks().contains(sid));
            let webhook = ConversationWebhook {
                sid,
                conversation_sid: conversation.conversation().sid,
                target,
                url: configuration.url,
                method: configuration.method.unwrap_or_default(),
                filters: configuration.filters.unwrap_or_default(),
                triggers: configuration.triggers.unwrap_or_default(),
                flow_sid: configuration.flow_sid,
                replay_after,
                date_created: now,
                date_updated: now,
            };
            let place = conversation.locate(webhook);
            let change = Change::PutConversationWebhook {
                account,
                service: place.chat_service_sid,
                webhook: place.value.clone(),
            };
            Ok(Decision::one(change, place))
        })
    }

    /// One webhook of a conversation.
    pub fn fetch_conversation_webhook(
        &self,
        account: AccountSid,
        scope: ServiceScope,
        reference: &ConversationRef,
        sid: WebhookSid,
    ) -> Result<Located<ConversationWebhook>, StoreError> {
        self.read(account, |tenant| {
            let conversation = tenant.service(scope)?.conversation(reference)?;
            let webhook = conversation.webhooks().get(&sid).ok_or(StoreError::ConversationWebhookNotFound)?;
            Ok(conversation.locate(webhook.clone()))
        })
    }

    /// A page of a conversation's webhooks, in creation order.
    pub fn list_conversation_webhooks(
        &self,
        account: AccountSid,
        scope: ServiceScope,
        reference: &ConversationRef,
        request: &PageRequest,
    ) -> Result<Located<Selection<ConversationWebhook>>, StoreError> {
        self.read(account, |tenant| {
            let conversation = tenant.service(scope)?.conversation(reference)?;
            let page = conversation.webhooks().select(request, |_| true).map(ConversationWebhook::clone);
            Ok(conversation.locate(page))
        })
    }

    /// Applies `configuration` to a conversation's webhook; its target stays.
    pub fn update_conversation_webhook(
        &self,
        account: AccountSid,
        scope: ServiceScope,
        reference: &ConversationRef,
        sid: WebhookSid,
        configuration: ScopedConfiguration,
    ) -> Result<Located<ConversationWebhook>, StoreError> {
        self.write(account, |tenant, _, now| {
            let conversation = tenant.service(scope)?.conversation(reference)?;
            let current = conversation.webhooks().get(&sid).ok_or(StoreError::ConversationWebhookNotFound)?;
            let webhook = ConversationWebhook {
                url: configuration.url.or_else(|| current.url.clone()),
                method: configuration.method.unwrap_or(current.method),
                filters: configuration.filters.unwrap_or_else(|| current.filters.clone()),
                triggers: configuration.triggers.unwrap_or_else(|| current.triggers.clone()),
                flow_sid: configuration.flow_sid.or(current.flow_sid),
                date_updated: now,
                ..current.clone()
            };
            let place = conversation.locate(webhook);
            let change = Change::PutConversationWebhook {
                account,
                service: place.chat_service_sid,
                webhook: place.value.clone(),
            };
            Ok(Decision::one(change, place))
        })
    }

    /// Removes a webhook from a conversation.
    pub fn delete_conversation_webhook(
        &self,
        account: AccountSid,
        scope: ServiceScope,
        reference: &ConversationRef,
        sid: WebhookSid,
    ) -> Result<(), StoreError> {
        self.write(account, |tenant, _, _| {
            let conversation = tenant.service(scope)?.conversation(reference)?;
            if !conversation.webhooks().contains(&sid) {
                return Err(StoreError::ConversationWebhookNotFound);
            }
            let place = conversation.locate(sid);
            let change = Change::DeleteConversationWebhook {
                account,
                service: place.chat_service_sid,
                conversation: place.conversation_sid,
                webhook: sid,
            };
            Ok(Decision::one(change, ()))
        })
    }

    // --- Address Configurations ----------------------------------------------------------

    /// Creates an Address Configuration: one per address and type.
    pub fn create_address_configuration(
        &self,
        account: AccountSid,
        new: NewAddressConfiguration,
    ) -> Result<AddressConfiguration, StoreError> {
        self.write(account, |tenant, sids, now| {
            check_service(tenant, new.fields.conversation_service_sid)?;
            let taken = tenant.addresses().values().any(|other| other.kind == new.kind && other.address == new.address);
            if taken {
                return Err(StoreError::AddressConfigurationExists);
            }
            let sid = fresh(sids, AddressConfigurationSid::from_bits, |sid| tenant.addresses().contains(sid));
            let blank = AddressConfiguration {
                sid,
                kind: new.kind,
                address: new.address,
                friendly_name: None,
                auto_creation: AutoCreation::default(),
                address_country: new.address_country,
                date_created: now,
                date_updated: now,
            };
            let address = blank.updated(new.fields, now);
            Ok(Decision::one(Change::PutAddressConfiguration { account, address: address.clone() }, address))
        })
    }

    /// One Address Configuration.
    pub fn fetch_address_configuration(
        &self,
        account: AccountSid,
        sid: AddressConfigurationSid,
    ) -> Result<AddressConfiguration, StoreError> {
        self.read(account, |tenant| tenant.addresses().get(&sid).cloned().ok_or(StoreError::NotFound))
    }

    /// A page of the account's Address Configurations, oldest first, of `kind` if given.
    pub fn list_address_configurations(
        &self,
        account: AccountSid,
        kind: Option<AddressType>,
        request: &PageRequest,
    ) -> Selection<AddressConfiguration> {
        self.read(account, |tenant| {
            let keep = |configuration: &AddressConfiguration| kind.is_none_or(|kind| configuration.kind == kind);
            tenant.addresses().select(request, keep).map(AddressConfiguration::clone)
        })
    }

    /// Applies `update` to an Address Configuration.
    pub fn update_address_configuration(
        &self,
        account: AccountSid,
        sid: AddressConfigurationSid,
        update: AddressConfigurationUpdate,
    ) -> Result<AddressConfiguration, StoreError> {
        self.write(account, |tenant, _, now| {
            let current = tenant.addresses().get(&sid).ok_or(StoreError::NotFound)?;
            check_service(tenant, update.conversation_service_sid)?;
            let address = current.updated(update, now);
            Ok(Decision::one(Change::PutAddressConfiguration { account, address: address.clone() }, address))
        })
    }

    /// Deletes an Address Configuration.
    pub fn delete_address_configuration(
        &self,
        account: AccountSid,
        sid: AddressConfigurationSid,
    ) -> Result<(), StoreError> {
        self.write(account, |tenant, _, _| {
            if !tenant.addresses().contains(&sid) {
                return Err(StoreError::NotFound);
            }
            Ok(Decision::one(Change::DeleteAddressConfiguration { account, address: sid }, ()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::model::ConversationFields;
    use super::super::tables::Tables;
    use super::*;
    use crate::sid::SidGenerator;
    use crate::store::webhook_model::{HttpMethod, WebhookEvent};
    use crate::time::{Clock, Timestamp};

    fn store() -> Store {
        Store::new(Clock::fixed(Timestamp::from_unix_seconds(1_700_000_000)), SidGenerator::seeded(3))
    }

    const ACCOUNT: AccountSid = AccountSid::from_bits(1);

    fn post_url(url: &str) -> WebhookSettingsUpdate {
        WebhookSettingsUpdate { post_webhook_url: Some(Some(url.into())), ..WebhookSettingsUpdate::default() }
    }

    #[test]
    fn a_configured_service_overrides_the_account_and_scoped_webhooks_come_in_creation_order() {
        let store = store();
        let service = store.create_service(ACCOUNT, "s".into()).unwrap().sid;
        let conversation =
            store.create_conversation(ACCOUNT, ServiceScope::Explicit(service), ConversationFields::default()).unwrap();
        let reference = ConversationRef::Sid(conversation.conversation.sid);
        let nothing = store.webhook_targets(ACCOUNT, service, Some(conversation.conversation.sid));
        assert_eq!((nothing.level, nothing.scoped.len()), (None, 0));

        store.update_account_webhooks(ACCOUNT, post_url("https://a.example")).unwrap();
        let account = store.webhook_targets(ACCOUNT, service, None);
        assert_eq!(account.level, Some(WebhookLevel::Account));
        // Settings without a URL send nothing, so they do not override the account's.
        let method_only = WebhookSettingsUpdate { method: Some(HttpMethod::Get), ..WebhookSettingsUpdate::default() };
        store.update_service_webhooks(ACCOUNT, service, method_only).unwrap();
        assert_eq!(store.webhook_targets(ACCOUNT, service, None).level, Some(WebhookLevel::Account));
        store.update_service_webhooks(ACCOUNT, service, post_url("https://s.example")).unwrap();
        let scoped = ScopedConfiguration {
            url: Some("https://c.example".into()),
            filters: Some(vec![WebhookEvent::MessageAdded]),
            ..ScopedConfiguration::default()
        };
        let scope = ServiceScope::Explicit(service);
        let first = store
            .create_conversation_webhook(ACCOUNT, scope, &reference, ScopedTarget::Webhook, scoped.clone(), None)
            .unwrap();
        let second =
            store.create_conversation_webhook(ACCOUNT, scope, &reference, ScopedTarget::Webhook, scoped, None).unwrap();

        let targets = store.webhook_targets(ACCOUNT, service, Some(conversation.conversation.sid));

        assert_eq!(targets.level, Some(WebhookLevel::Service(service)));
        assert_eq!(targets.settings.post_webhook_url.as_deref(), Some("https://s.example"));
        assert_eq!(targets.settings.method, Some(HttpMethod::Get));
        let sids: Vec<WebhookSid> = targets.scoped.iter().map(|webhook| webhook.sid).collect();
        assert_eq!(sids, [first.value.sid, second.value.sid]);
        assert_eq!(store.account_webhooks(ACCOUNT).post_webhook_url.as_deref(), Some("https://a.example"));
    }

    fn new_address(kind: AddressType, address: &str) -> NewAddressConfiguration {
        NewAddressConfiguration {
            kind,
            address: address.into(),
            address_country: None,
            fields: AddressConfigurationUpdate::default(),
        }
    }

    #[test]
    fn an_address_configuration_is_found_by_address_preferring_the_channels_type() {
        let store = store();
        store.create_address_configuration(ACCOUNT, new_address(AddressType::Chat, "+15550001")).unwrap();
        assert_eq!(store.address_configuration_for(ACCOUNT, "+15550001"), None, "chat never takes a text");
        store.create_address_configuration(ACCOUNT, new_address(AddressType::Whatsapp, "+15550001")).unwrap();
        let sms = store.create_address_configuration(ACCOUNT, new_address(AddressType::Sms, "+15550001")).unwrap();

        assert_eq!(store.address_configuration_for(ACCOUNT, "+15550001").map(|c| c.sid), Some(sms.sid));
        assert_eq!(store.address_configuration_for(ACCOUNT, "+15550002"), None);
        assert_eq!(
            store.create_address_configuration(ACCOUNT, new_address(AddressType::Sms, "+15550001")).unwrap_err(),
            StoreError::AddressConfigurationExists
        );
    }

    #[test]
    fn apply_refuses_a_sixth_webhook_a_duplicate_address_and_a_missing_default_service() {
        let store = store();
        let conversation = store
            .create_conversation(ACCOUNT, ServiceScope::Default, ConversationFields::default())
            .unwrap()
            .conversation;
        let mut tables = Tables::default();
        tables.apply(&Change::OpenAccount { account: ACCOUNT, at: conversation.date_created }).unwrap();
        let service = conversation.chat_service_sid;
        tables.apply(&Change::PutConversation { account: ACCOUNT, conversation: conversation.clone() }).unwrap();
        let webhook = |n: u128| ConversationWebhook {
            sid: WebhookSid::from_bits(n),
            conversation_sid: conversation.sid,
            target: ScopedTarget::Studio,
            url: None,
            method: HttpMethod::Post,
            filters: Vec::new(),
            triggers: Vec::new(),
            flow_sid: None,
            replay_after: None,
            date_created: conversation.date_created,
            date_updated: conversation.date_created,
        };
        for n in 1..=5 {
            tables.apply(&Change::PutConversationWebhook { account: ACCOUNT, service, webhook: webhook(n) }).unwrap();
        }
        assert!(
            tables.apply(&Change::PutConversationWebhook { account: ACCOUNT, service, webhook: webhook(6) }).is_err()
        );
        // Replacing one of the five is not a sixth.
        tables.apply(&Change::PutConversationWebhook { account: ACCOUNT, service, webhook: webhook(5) }).unwrap();
        let address = |n: u128| AddressConfiguration {
            sid: AddressConfigurationSid::from_bits(n),
            kind: AddressType::Sms,
            address: "+1555".into(),
            friendly_name: None,
            auto_creation: AutoCreation::default(),
            address_country: None,
            date_created: conversation.date_created,
            date_updated: conversation.date_created,
        };
        tables.apply(&Change::PutAddressConfiguration { account: ACCOUNT, address: address(1) }).unwrap();
        assert!(tables.apply(&Change::PutAddressConfiguration { account: ACCOUNT, address: address(2) }).is_err());
        let configuration = AccountConfiguration {
            default_chat_service_sid: Some(ChatServiceSid::from_bits(99)),
            ..AccountConfiguration::default()
        };
        assert!(tables.apply(&Change::PutAccountConfiguration { account: ACCOUNT, configuration }).is_err());
        tables
            .apply(&Change::DeleteConversation { account: ACCOUNT, service, conversation: conversation.sid })
            .unwrap();
        assert!(
            tables
                .apply(&Change::DeleteConversationWebhook {
                    account: ACCOUNT,
                    service,
                    conversation: conversation.sid,
                    webhook: WebhookSid::from_bits(1)
                })
                .is_err(),
            "the webhooks went with the conversation"
        );
    }
}
