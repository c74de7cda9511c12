//! Conversation Services in the store.

use serde::{Deserialize, Serialize};

use super::change::Change;
use super::model::Service;
use super::notifications::NotificationConfiguration;
use super::selection::{PageRequest, Selection};
use super::tables::ServiceData;
use super::webhook_model::{ServiceConfiguration, WebhookSettings, WebhookSettingsUpdate};
use super::{Decision, ServiceScope, Store, StoreError, fresh};
use crate::sid::{AccountSid, ChatServiceSid};

/// The Programmable Chat v2 settings of a service that Conversations has no record for,
/// stored and echoed (nothing in the emulator acts on them). Its serde form is both the
/// state document's and the log's; what a document leaves out keeps the default, the
/// values of Twilio's example.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChatServiceSettings {
    pub read_status_enabled: bool,
    pub typing_indicator_timeout: u32,
    pub consumption_report_interval: u32,
    pub limits_channel_members: u32,
    pub limits_user_channels: u32,
    pub pre_webhook_retry_count: u32,
    pub post_webhook_retry_count: u32,
    pub media_compatibility_message: String,
}

impl Default for ChatServiceSettings {
    fn default() -> Self {
        Self {
            read_status_enabled: false,
            typing_indicator_timeout: 100,
            consumption_report_interval: 100,
            limits_channel_members: 100,
            limits_user_channels: 250,
            pre_webhook_retry_count: 2,
            post_webhook_retry_count: 3,
            media_compatibility_message: "media compatibility message".to_owned(),
        }
    }
}

/// A service with the settings Programmable Chat v2 shows on it (`/v2/Services/{IS}`).
#[derive(Clone, Debug)]
pub struct ChatService {
    pub service: Service,
    pub configuration: ServiceConfiguration,
    pub webhooks: WebhookSettings,
    pub chat: ChatServiceSettings,
    /// The same push configuration as `/v1/Services/{IS}/Configuration/Notifications`.
    pub notifications: NotificationConfiguration,
}

/// A Chat v2 service update: each part left as it is when not sent.
#[derive(Debug, Default)]
pub struct ChatServiceUpdate {
    pub friendly_name: Option<String>,
    pub webhooks: WebhookSettingsUpdate,
}

impl Store {
    /// Creates a service named `friendly_name`.
    pub fn create_service(&self, account: AccountSid, friendly_name: String) -> Result<Service, StoreError> {
        self.write(account, |tenant, sids, now| {
            let sid = fresh(sids, ChatServiceSid::from_bits, |sid| tenant.services().contains(sid));
            let service = Service { sid, friendly_name: friendly_name.into(), date_created: now, date_updated: now };
            Ok(Decision::one(Change::PutService { account, service: service.clone() }, service))
        })
    }

    /// The service `sid` of this account.
    pub fn fetch_service(&self, account: AccountSid, sid: ChatServiceSid) -> Result<Service, StoreError> {
        self.read(account, |tenant| {
            tenant.services().get(&sid).map(|data| data.service().clone()).ok_or(StoreError::NotFound)
        })
    }

    /// A page of the account's services, oldest (the default one) first.
    /// The SID of the service `scope` names, if it exists.
    pub fn service_sid(&self, account: AccountSid, scope: ServiceScope) -> Result<ChatServiceSid, StoreError> {
        self.read(account, |tenant| Ok(tenant.service(scope)?.sid()))
    }

    pub fn list_services(&self, account: AccountSid, request: &PageRequest) -> Selection<Service> {
        self.read(account, |tenant| tenant.services().select(request, |_| true).map(|data| data.service().clone()))
    }

    /// The service `sid` with its configuration and webhook settings, as Chat v2 shows it.
    pub fn fetch_chat_service(&self, account: AccountSid, sid: ChatServiceSid) -> Result<ChatService, StoreError> {
        self.read(account, |tenant| {
            let data = tenant.services().get(&sid).ok_or(StoreError::NotFound)?;
            Ok(chat_service(data))
        })
    }

    /// A page of the account's services as Chat v2 shows them, oldest first.
    pub fn list_chat_services(&self, account: AccountSid, request: &PageRequest) -> Selection<ChatService> {
        self.read(account, |tenant| tenant.services().select(request, |_| true).map(chat_service))
    }

    /// Updates a service's name, configuration (what `edit` makes of it) and webhook
    /// settings in one write: all of it is committed, or none.
    pub fn update_chat_service(
        &self,
        account: AccountSid,
        sid: ChatServiceSid,
        update: ChatServiceUpdate,
        edit: impl FnOnce(&mut ServiceConfiguration, &mut ChatServiceSettings, &mut NotificationConfiguration),
    ) -> Result<ChatService, StoreError> {
        self.write(account, |tenant, _, now| {
            let data = tenant.services().get(&sid).ok_or(StoreError::NotFound)?;
            let mut service = data.service().clone();
            if let Some(name) = update.friendly_name {
                service.friendly_name = name.into();
            }
            service.date_updated = now;
            let mut configuration = data.configuration().clone();
            let mut chat = data.chat_settings().clone();
            let mut notifications = data.notifications().clone();
            edit(&mut configuration, &mut chat, &mut notifications);
            let mut changes = vec![Change::PutService { account, service: service.clone() }];
            if configuration != *data.configuration() {
                changes.push(Change::PutServiceConfiguration {
                    account,
                    service: sid,
                    configuration: configuration.clone(),
                });
            }
            let webhooks = if update.webhooks == WebhookSettingsUpdate::default() {
                data.webhooks().clone()
            } else {
                let settings = data.webhooks().updated(update.webhooks, now);
                changes.push(Change::PutServiceWebhooks { account, service: sid, settings: settings.clone() });
                settings
            };
            if chat != *data.chat_settings() {
                changes.push(Change::PutChatServiceSettings { account, service: sid, settings: chat.clone() });
            }
            if notifications != *data.notifications() {
                changes.push(Change::PutServiceNotifications {
                    account,
                    service: sid,
                    notifications: notifications.clone(),
                });
            }
            Ok(Decision { changes, answer: ChatService { service, configuration, webhooks, chat, notifications } })
        })
    }

    /// Deletes a service with all its conversations and messages.
    pub fn delete_service(&self, account: AccountSid, sid: ChatServiceSid) -> Result<(), StoreError> {
        self.write(account, |tenant, _, _| {
            if sid == tenant.default_service() {
                return Err(StoreError::DefaultServiceUndeletable);
            }
            if !tenant.services().contains(&sid) {
                return Err(StoreError::NotFound);
            }
            Ok(Decision::one(Change::DeleteService { account, service: sid }, ()))
        })
    }
}

/// A service's records as Chat v2 shows them.
fn chat_service(data: &ServiceData) -> ChatService {
    ChatService {
        service: data.service().clone(),
        configuration: data.configuration().clone(),
        webhooks: data.webhooks().clone(),
        chat: data.chat_settings().clone(),
        notifications: data.notifications().clone(),
    }
}
