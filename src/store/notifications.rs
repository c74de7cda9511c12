//! A service's push notification configuration, `/v1/Services/{IS}/Configuration/Notifications`:
//! stored and echoed, since the emulator sends no push notifications.
//! <https://www.twilio.com/docs/conversations/api/service-notification-resource>

use serde::{Deserialize, Serialize};

use super::change::Change;
use super::{Decision, Store, StoreError};
use crate::sid::{AccountSid, ChatServiceSid};

// The templates and sound are those of the spec's examples (the same in its fetch and
// update examples); the flags are off, as the spec's parameter descriptions say they are
// by default.
const NEW_MESSAGE_TEMPLATE: &str = "You have a new message in ${CONVERSATION} from ${PARTICIPANT}: ${MESSAGE}";
const WITH_MEDIA_TEMPLATE: &str = "You have a new message in ${CONVERSATION} with ${MEDIA_COUNT} media files: ${MEDIA}";
const ADDED_TEMPLATE: &str = "You have been added to a Conversation: ${CONVERSATION}";
const REMOVED_TEMPLATE: &str = "You have been removed from a Conversation: ${CONVERSATION}";
// Chat v2's invitations have no Conversations counterpart and no example of their own;
// the template follows the others' wording (unconfirmed).
const INVITED_TEMPLATE: &str = "You have been invited to a Conversation: ${CONVERSATION}";
const SOUND: &str = "ring";

/// A service's notification configuration. Its serde form is both the API's nested shape
/// and the state document's, so a document may give any part of it; what it leaves out
/// keeps Twilio's default.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NotificationConfiguration {
    pub log_enabled: bool,
    pub new_message: NewMessageNotification,
    pub added_to_conversation: EventNotification,
    #[serde(deserialize_with = "removed_notification")]
    pub removed_from_conversation: EventNotification,
    /// Chat v2's `Notifications.InvitedToChannel.*`: only Chat shows and sets it.
    #[serde(deserialize_with = "invited_notification")]
    pub invited_to_channel: EventNotification,
}

/// The notification of a new message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NewMessageNotification {
    pub enabled: bool,
    pub template: Option<String>,
    pub badge_count_enabled: bool,
    pub sound: Option<String>,
    pub with_media: WithMediaNotification,
}

/// The notification of a new message with media.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WithMediaNotification {
    pub enabled: bool,
    pub template: Option<String>,
}

/// The notification of being added to, or removed from, a conversation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EventNotification {
    pub enabled: bool,
    pub template: Option<String>,
    pub sound: Option<String>,
}

impl Default for NotificationConfiguration {
    fn default() -> Self {
        Self {
            log_enabled: false,
            new_message: NewMessageNotification::default(),
            added_to_conversation: EventNotification::with_template(ADDED_TEMPLATE),
            removed_from_conversation: EventNotification::with_template(REMOVED_TEMPLATE),
            invited_to_channel: EventNotification::with_template(INVITED_TEMPLATE),
        }
    }
}

impl Default for NewMessageNotification {
    fn default() -> Self {
        Self {
            enabled: false,
            template: Some(NEW_MESSAGE_TEMPLATE.to_owned()),
            sound: Some(SOUND.to_owned()),
            badge_count_enabled: false,
            with_media: WithMediaNotification::default(),
        }
    }
}

impl Default for WithMediaNotification {
    fn default() -> Self {
        Self { enabled: false, template: Some(WITH_MEDIA_TEMPLATE.to_owned()) }
    }
}

impl Default for EventNotification {
    fn default() -> Self {
        Self::with_template(ADDED_TEMPLATE)
    }
}

impl EventNotification {
    fn with_template(template: &str) -> Self {
        Self { enabled: false, template: Some(template.to_owned()), sound: Some(SOUND.to_owned()) }
    }
}

/// A document's `removed_from_conversation`: the fields it gives over the removal's own
/// defaults (the type's `Default` is the addition's, whose template differs).
fn removed_notification<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<EventNotification, D::Error> {
    event_over(deserializer, REMOVED_TEMPLATE)
}

/// A document's `invited_to_channel`, over the invitation's own defaults.
fn invited_notification<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<EventNotification, D::Error> {
    event_over(deserializer, INVITED_TEMPLATE)
}

/// The fields a document gives for an event, over that event's defaults (`template`).
fn event_over<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
    template: &str,
) -> Result<EventNotification, D::Error> {
    use serde::de::Error;
    let given = serde_json::Value::deserialize(deserializer)?;
    let mut merged = serde_json::to_value(EventNotification::with_template(template)).map_err(D::Error::custom)?;
    if let (Some(fields), Some(given)) = (merged.as_object_mut(), given.as_object()) {
        fields.extend(given.iter().map(|(key, value)| (key.clone(), value.clone())));
    } else if !given.is_object() {
        return Err(D::Error::custom("a notification event must be an object"));
    }
    serde_json::from_value(merged).map_err(D::Error::custom)
}

impl Store {
    /// The notification configuration of `service`.
    pub fn service_notifications(
        &self,
        account: AccountSid,
        service: ChatServiceSid,
    ) -> Result<NotificationConfiguration, StoreError> {
        self.read(account, |tenant| {
            tenant.services().get(&service).map(|data| data.notifications().clone()).ok_or(StoreError::NotFound)
        })
    }

    /// Replaces the notification configuration of `service` with what `edit` makes of it.
    pub fn update_service_notifications(
        &self,
        account: AccountSid,
        service: ChatServiceSid,
        edit: impl FnOnce(&mut NotificationConfiguration),
    ) -> Result<NotificationConfiguration, StoreError> {
        self.write(account, |tenant, _, _| {
            let mut notifications =
                tenant.services().get(&service).ok_or(StoreError::NotFound)?.notifications().clone();
            edit(&mut notifications);
            let change = Change::PutServiceNotifications { account, service, notifications: notifications.clone() };
            Ok(Decision::one(change, notifications))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partial_document_keeps_the_defaults_it_leaves_out() {
        let parsed: NotificationConfiguration =
            serde_json::from_str(r#"{"new_message": {"enabled": true}, "removed_from_conversation": {"sound": null}}"#)
                .expect("document");
        let mut expected = NotificationConfiguration::default();
        expected.new_message.enabled = true;
        expected.removed_from_conversation.sound = None;
        assert_eq!(parsed, expected);
        assert_eq!(parsed.removed_from_conversation.template.as_deref(), Some(REMOVED_TEMPLATE));
    }
}
