//! The webhook and account configuration in state documents and the state file's log:
//! the records of `webhook_model` as JSON, and back. Enumerations are written with
//! Twilio's names (`onMessageAdded`, `POST`, `webhook`), so a document reads like the API.

use serde::{Deserialize, Serialize};

use super::document::{ImportError, date, fault, parse_sid};
use super::webhook_model::{
    AccountConfiguration, AccountWebhookTarget, AddressConfiguration, AddressType, AutoCreation, AutoCreationType,
    ConversationWebhook, HttpMethod, ScopedTarget, ServiceConfiguration, WebhookEvent, WebhookSettings,
};
use crate::sid::ConversationSid;
use crate::time::Timestamp;

/// Account- or service-level webhook settings.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSettingsDocument {
    pub pre_webhook_url: Option<String>,
    pub post_webhook_url: Option<String>,
    /// `GET` or `POST`.
    pub method: Option<String>,
    /// Event names; absent is "never set", which is not the same as an empty list.
    pub filters: Option<Vec<String>>,
    /// `webhook` or `flex` (account level only).
    pub target: Option<String>,
    pub date_updated: Option<String>,
}

/// The account's `/v1/Configuration`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountConfigurationDocument {
    pub default_chat_service_sid: Option<String>,
    pub default_messaging_service_sid: Option<String>,
    pub default_inactive_timer: Option<String>,
    pub default_closed_timer: Option<String>,
}

/// A service's `/v1/Services/{IS}/Configuration`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceConfigurationDocument {
    pub default_conversation_creator_role_sid: Option<String>,
    pub default_conversation_role_sid: Option<String>,
    pub default_chat_service_role_sid: Option<String>,
    #[serde(default)]
    pub reachability_enabled: bool,
}

/// A conversation-scoped webhook.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConversationWebhookDocument {
    pub sid: Option<String>,
    /// `webhook`, `trigger` or `studio`.
    pub target: String,
    pub url: Option<String>,
    /// `get` or `post` (either case).
    pub method: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub triggers: Vec<String>,
    pub flow_sid: Option<String>,
    pub replay_after: Option<u64>,
    pub date_created: Option<String>,
    pub date_updated: Option<String>,
}

/// An Address Configuration.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddressConfigurationDocument {
    pub sid: Option<String>,
    #[serde(rename = "type")]
    pub kind: String,
    pub address: String,
    pub friendly_name: Option<String>,
    pub address_country: Option<String>,
    #[serde(default)]
    pub auto_creation: AutoCreationDocument,
    pub date_created: Option<String>,
    pub date_updated: Option<String>,
}

/// An Address Configuration's `auto_creation`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutoCreationDocument {
    #[serde(default)]
    pub enabled: bool,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub conversation_service_sid: Option<String>,
    pub webhook_url: Option<String>,
    pub webhook_method: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub webhook_filters: Vec<String>,
    pub studio_flow_sid: Option<String>,
    pub studio_retry_count: Option<u32>,
}

// --- Records to documents -----------------------------------------------------------------

fn text(value: Option<&std::sync::Arc<str>>) -> Option<String> {
    value.map(|v| v.to_string())
}

fn names(events: &[WebhookEvent]) -> Vec<String> {
    events.iter().map(|event| event.name().to_owned()).collect()
}

pub(super) fn webhook_settings_document(settings: &WebhookSettings) -> WebhookSettingsDocument {
    WebhookSettingsDocument {
        pre_webhook_url: text(settings.pre_webhook_url.as_ref()),
        post_webhook_url: text(settings.post_webhook_url.as_ref()),
        method: settings.method.map(|method| method.upper().to_owned()),
        filters: settings.filters.as_deref().map(names),
        target: settings.target.map(|target| target.as_str().to_owned()),
        date_updated: settings.date_updated.map(|at| at.to_string()),
    }
}

pub(super) fn account_configuration_document(configuration: &AccountConfiguration) -> AccountConfigurationDocument {
    AccountConfigurationDocument {
        default_chat_service_sid: configuration.default_chat_service_sid.map(|sid| sid.to_string()),
        default_messaging_service_sid: configuration.default_messaging_service_sid.map(|sid| sid.to_string()),
        default_inactive_timer: text(configuration.default_inactive_timer.as_ref()),
        default_closed_timer: text(configuration.default_closed_timer.as_ref()),
    }
}

pub(super) fn service_configuration_document(configuration: &ServiceConfiguration) -> ServiceConfigurationDocument {
    ServiceConfigurationDocument {
        default_conversation_creator_role_sid: configuration
            .default_conversation_creator_role_sid
            .map(|s| s.to_string()),
        default_conversation_role_sid: configuration.default_conversation_role_sid.map(|s| s.to_string()),
        default_chat_service_role_sid: configuration.default_chat_service_role_sid.map(|s| s.to_string()),
        reachability_enabled: configuration.reachability_enabled,
    }
}

pub(super) fn conversation_webhook_document(webhook: &ConversationWebhook) -> ConversationWebhookDocument {
    ConversationWebhookDocument {
        sid: Some(webhook.sid.to_string()),
        target: webhook.target.as_str().to_owned(),
        url: text(webhook.url.as_ref()),
        method: Some(webhook.method.lower().to_owned()),
        filters: names(&webhook.filters),
        triggers: webhook.triggers.iter().map(|t| t.to_string()).collect(),
        flow_sid: webhook.flow_sid.map(|sid| sid.to_string()),
        replay_after: webhook.replay_after,
        date_created: Some(webhook.date_created.to_string()),
        date_updated: Some(webhook.date_updated.to_string()),
    }
}

pub(super) fn address_configuration_document(address: &AddressConfiguration) -> AddressConfigurationDocument {
    let auto = &address.auto_creation;
    AddressConfigurationDocument {
        sid: Some(address.sid.to_string()),
        kind: address.kind.as_str().to_owned(),
        address: address.address.to_string(),
        friendly_name: text(address.friendly_name.as_ref()),
        address_country: text(address.address_country.as_ref()),
        auto_creation: AutoCreationDocument {
            enabled: auto.enabled,
            kind: Some(auto.kind.as_str().to_owned()),
            conversation_service_sid: auto.conversation_service_sid.map(|sid| sid.to_string()),
            webhook_url: text(auto.webhook_url.as_ref()),
            webhook_method: auto.webhook_method.map(|method| method.upper().to_owned()),
            webhook_filters: names(&auto.webhook_filters),
            studio_flow_sid: auto.studio_flow_sid.map(|sid| sid.to_string()),
            studio_retry_count: auto.studio_retry_count,
        },
        date_created: Some(address.date_created.to_string()),
        date_updated: Some(address.date_updated.to_string()),
    }
}

// --- Documents to records -----------------------------------------------------------------

fn parse<T>(value: &str, parse: impl Fn(&str) -> Option<T>, at: &str) -> Result<T, ImportError> {
    parse(value).ok_or_else(|| fault(at, format!("`{value}` is not an allowed value")))
}

fn events(values: &[String], at: &str) -> Result<Vec<WebhookEvent>, ImportError> {
    values.iter().enumerate().map(|(i, name)| parse(name, WebhookEvent::parse, &format!("{at}[{i}]"))).collect()
}

fn optional_sid<T: std::str::FromStr>(value: Option<&str>, at: &str) -> Result<Option<T>, ImportError> {
    value.map(|raw| parse_sid(raw, at)).transpose()
}

pub(super) fn to_webhook_settings(doc: WebhookSettingsDocument, at: &str) -> Result<WebhookSettings, ImportError> {
    Ok(WebhookSettings {
        pre_webhook_url: doc.pre_webhook_url.map(Into::into),
        post_webhook_url: doc.post_webhook_url.map(Into::into),
        method: doc.method.map(|m| parse(&m, HttpMethod::parse, &format!("{at}.method"))).transpose()?,
        filters: doc.filters.map(|f| events(&f, &format!("{at}.filters"))).transpose()?,
        target: doc.target.map(|t| parse(&t, AccountWebhookTarget::parse, &format!("{at}.target"))).transpose()?,
        date_updated: date(&doc.date_updated, &format!("{at}.date_updated"))?,
    })
}

pub(super) fn to_account_configuration(
    doc: AccountConfigurationDocument,
    at: &str,
) -> Result<AccountConfiguration, ImportError> {
    Ok(AccountConfiguration {
        default_chat_service_sid: optional_sid(
            doc.default_chat_service_sid.as_deref(),
            &format!("{at}.default_chat_service_sid"),
        )?,
        default_messaging_service_sid: optional_sid(
            doc.default_messaging_service_sid.as_deref(),
            &format!("{at}.default_messaging_service_sid"),
        )?,
        default_inactive_timer: doc.default_inactive_timer.map(Into::into),
        default_closed_timer: doc.default_closed_timer.map(Into::into),
    })
}

pub(super) fn to_service_configuration(
    doc: ServiceConfigurationDocument,
    at: &str,
) -> Result<ServiceConfiguration, ImportError> {
    let role = |value: Option<&str>, field: &str| optional_sid(value, &format!("{at}.{field}"));
    Ok(ServiceConfiguration {
        default_conversation_creator_role_sid: role(
            doc.default_conversation_creator_role_sid.as_deref(),
            "default_conversation_creator_role_sid",
        )?,
        default_conversation_role_sid: role(
            doc.default_conversation_role_sid.as_deref(),
            "default_conversation_role_sid",
        )?,
        default_chat_service_role_sid: role(
            doc.default_chat_service_role_sid.as_deref(),
            "default_chat_service_role_sid",
        )?,
        reachability_enabled: doc.reachability_enabled,
    })
}

/// A conversation webhook from its document. `sid` must be set.
pub(super) fn to_conversation_webhook(
    doc: ConversationWebhookDocument,
    conversation_sid: ConversationSid,
    now: Timestamp,
    at: &str,
) -> Result<ConversationWebhook, ImportError> {
    let date_created = date(&doc.date_created, &format!("{at}.date_created"))?.unwrap_or(now);
    Ok(ConversationWebhook {
        sid: parse_sid(doc.sid.as_deref().unwrap_or_default(), &format!("{at}.sid"))?,
        conversation_sid,
        target: parse(&doc.target, ScopedTarget::parse, &format!("{at}.target"))?,
        url: doc.url.map(Into::into),
        method: doc
            .method
            .map(|m| parse(&m, HttpMethod::parse, &format!("{at}.method")))
            .transpose()?
            .unwrap_or_default(),
        filters: events(&doc.filters, &format!("{at}.filters"))?,
        triggers: doc.triggers.into_iter().map(Into::into).collect(),
        flow_sid: optional_sid(doc.flow_sid.as_deref(), &format!("{at}.flow_sid"))?,
        replay_after: doc.replay_after,
        date_created,
        date_updated: date(&doc.date_updated, &format!("{at}.date_updated"))?.unwrap_or(date_created),
    })
}

/// An Address Configuration from its document. `sid` must be set.
pub(super) fn to_address_configuration(
    doc: AddressConfigurationDocument,
    now: Timestamp,
    at: &str,
) -> Result<AddressConfiguration, ImportError> {
    let date_created = date(&doc.date_created, &format!("{at}.date_created"))?.unwrap_or(now);
    let auto = doc.auto_creation;
    let at_auto = format!("{at}.auto_creation");
    Ok(AddressConfiguration {
        sid: parse_sid(doc.sid.as_deref().unwrap_or_default(), &format!("{at}.sid"))?,
        kind: parse(&doc.kind, AddressType::parse, &format!("{at}.type"))?,
        address: doc.address.into(),
        friendly_name: doc.friendly_name.map(Into::into),
        auto_creation: AutoCreation {
            enabled: auto.enabled,
            kind: auto
                .kind
                .map(|k| parse(&k, AutoCreationType::parse, &format!("{at_auto}.type")))
                .transpose()?
                .unwrap_or_default(),
            conversation_service_sid: optional_sid(
                auto.conversation_service_sid.as_deref(),
                &format!("{at_auto}.conversation_service_sid"),
            )?,
            webhook_url: auto.webhook_url.map(Into::into),
            webhook_method: auto
                .webhook_method
                .map(|m| parse(&m, HttpMethod::parse, &format!("{at_auto}.webhook_method")))
                .transpose()?,
            webhook_filters: events(&auto.webhook_filters, &format!("{at_auto}.webhook_filters"))?,
            studio_flow_sid: optional_sid(auto.studio_flow_sid.as_deref(), &format!("{at_auto}.studio_flow_sid"))?,
            studio_retry_count: auto.studio_retry_count,
        },
        address_country: doc.address_country.map(Into::into),
        date_created,
        date_updated: date(&doc.date_updated, &format!("{at}.date_updated"))?.unwrap_or(date_created),
    })
}
