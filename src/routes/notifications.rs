//! A service's push notification configuration, `/v1/Services/{IS}/Configuration/Notifications`:
//! stored and echoed (the emulator sends no push notifications).
//! <https://www.twilio.com/docs/conversations/api/service-notification-resource>

use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use super::form::FormPairs;
use crate::error::ApiError;
use crate::extract::{ApiCall, ServicePath, TwilioForm};
use crate::sid::{AccountSid, ChatServiceSid};
use crate::state::AppState;
use crate::store::notifications::{
    EventNotification, NewMessageNotification, NotificationConfiguration, WithMediaNotification,
};

/// The route `/v1/Services/{ChatServiceSid}/Configuration/Notifications`.
pub fn router() -> Router<AppState> {
    Router::new().route("/v1/Services/{ChatServiceSid}/Configuration/Notifications", get(fetch).post(update))
}

/// Fetch a service's notification configuration: <https://www.twilio.com/docs/conversations/api/service-notification-resource#fetch-a-servicenotification-resource>
async fn fetch(
    ApiCall { state, account, base }: ApiCall,
    ServicePath(scope): ServicePath,
) -> Result<Json<NotificationsResource>, ApiError> {
    let service = scope.explicit().ok_or(ApiError::NotFound)?;
    let notifications = state.store.service_notifications(account, service)?;
    Ok(Json(NotificationsResource::new(account, service, &base, notifications)))
}

/// Update a service's notification configuration; what is not sent stays: <https://www.twilio.com/docs/conversations/api/service-notification-resource#update-a-servicenotification-resource>
async fn update(
    ApiCall { state, account, base }: ApiCall,
    ServicePath(scope): ServicePath,
    TwilioForm(form): TwilioForm<Vec<(String, String)>>,
) -> Result<Json<NotificationsResource>, ApiError> {
    let service = scope.explicit().ok_or(ApiError::NotFound)?;
    // Every parameter is read (and a malformed one refused) before the store is touched.
    let update = Update::read(&FormPairs(form), &CONVERSATIONS)?;
    let notifications = state.store.update_service_notifications(account, service, |current| update.apply(current))?;
    Ok(Json(NotificationsResource::new(account, service, &base, notifications)))
}

/// The parameter names of a notifications update: Conversations' own, and Chat v2's
/// `Notifications.*` on its service update, which set the same configuration.
pub(crate) struct ParameterNames {
    log_enabled: &'static str,
    new_message: [&'static str; 3],
    badge_count_enabled: &'static str,
    with_media: Option<[&'static str; 2]>,
    added: [&'static str; 3],
    removed: [&'static str; 3],
    invited: Option<[&'static str; 3]>,
}

/// `/v1/Services/{IS}/Configuration/Notifications`'s parameters.
const CONVERSATIONS: ParameterNames = ParameterNames {
    log_enabled: "LogEnabled",
    new_message: ["NewMessage.Enabled", "NewMessage.Template", "NewMessage.Sound"],
    badge_count_enabled: "NewMessage.BadgeCountEnabled",
    with_media: Some(["NewMessage.WithMedia.Enabled", "NewMessage.WithMedia.Template"]),
    added: ["AddedToConversation.Enabled", "AddedToConversation.Template", "AddedToConversation.Sound"],
    removed: ["RemovedFromConversation.Enabled", "RemovedFromConversation.Template", "RemovedFromConversation.Sound"],
    invited: None,
};

/// Chat v2's service update parameters: channels for conversations, and invitations.
pub(crate) const CHAT: ParameterNames = ParameterNames {
    log_enabled: "Notifications.LogEnabled",
    new_message: [
        "Notifications.NewMessage.Enabled",
        "Notifications.NewMessage.Template",
        "Notifications.NewMessage.Sound",
    ],
    badge_count_enabled: "Notifications.NewMessage.BadgeCountEnabled",
    with_media: None,
    added: [
        "Notifications.AddedToChannel.Enabled",
        "Notifications.AddedToChannel.Template",
        "Notifications.AddedToChannel.Sound",
    ],
    removed: [
        "Notifications.RemovedFromChannel.Enabled",
        "Notifications.RemovedFromChannel.Template",
        "Notifications.RemovedFromChannel.Sound",
    ],
    invited: Some([
        "Notifications.InvitedToChannel.Enabled",
        "Notifications.InvitedToChannel.Template",
        "Notifications.InvitedToChannel.Sound",
    ]),
};

/// The parameters of an update: `None` leaves a field as it is.
pub(crate) struct Update {
    log_enabled: Option<bool>,
    new_message: EventUpdate,
    badge_count_enabled: Option<bool>,
    with_media_enabled: Option<bool>,
    with_media_template: Option<String>,
    added: EventUpdate,
    removed: EventUpdate,
    invited: EventUpdate,
}

/// `{Event}.Enabled`, `.Template` and `.Sound`.
struct EventUpdate {
    enabled: Option<bool>,
    template: Option<String>,
    sound: Option<String>,
}

impl EventUpdate {
    fn read(form: &FormPairs, [enabled, template, sound]: [&'static str; 3]) -> Result<Self, ApiError> {
        Ok(Self {
            enabled: form.boolean(enabled)?,
            template: form.one(template).map(str::to_owned),
            sound: form.one(sound).map(str::to_owned),
        })
    }

    /// An event the API has no parameters for: nothing changes.
    fn none() -> Self {
        Self { enabled: None, template: None, sound: None }
    }

    fn apply(self, enabled: &mut bool, template: &mut Option<String>, sound: &mut Option<String>) {
        *enabled = self.enabled.unwrap_or(*enabled);
        if self.template.is_some() {
            *template = self.template;
        }
        if self.sound.is_some() {
            *sound = self.sound;
        }
    }
}

impl Update {
    /// Reads an update from `form`, whose parameters are called as `names` says.
    pub(crate) fn read(form: &FormPairs, names: &ParameterNames) -> Result<Self, ApiError> {
        let (with_media_enabled, with_media_template) = match names.with_media {
            Some([enabled, template]) => (form.boolean(enabled)?, form.one(template).map(str::to_owned)),
            None => (None, None),
        };
        Ok(Self {
            log_enabled: form.boolean(names.log_enabled)?,
            new_message: EventUpdate::read(form, names.new_message)?,
            badge_count_enabled: form.boolean(names.badge_count_enabled)?,
            with_media_enabled,
            with_media_template,
            added: EventUpdate::read(form, names.added)?,
            removed: EventUpdate::read(form, names.removed)?,
            invited: names
                .invited
                .map(|names| EventUpdate::read(form, names))
                .transpose()?
                .unwrap_or_else(EventUpdate::none),
        })
    }

    /// Changes what the update sends in `current`.
    pub(crate) fn apply(self, current: &mut NotificationConfiguration) {
        current.log_enabled = self.log_enabled.unwrap_or(current.log_enabled);
        let NewMessageNotification { enabled, template, sound, badge_count_enabled, with_media } =
            &mut current.new_message;
        self.new_message.apply(enabled, template, sound);
        *badge_count_enabled = self.badge_count_enabled.unwrap_or(*badge_count_enabled);
        let WithMediaNotification { enabled, template } = with_media;
        *enabled = self.with_media_enabled.unwrap_or(*enabled);
        if self.with_media_template.is_some() {
            *template = self.with_media_template;
        }
        for (update, event) in [
            (self.added, &mut current.added_to_conversation),
            (self.removed, &mut current.removed_from_conversation),
            (self.invited, &mut current.invited_to_channel),
        ] {
            let EventNotification { enabled, template, sound } = event;
            update.apply(enabled, template, sound);
        }
    }
}

/// The configuration as Twilio renders it, in the key order of its examples.
#[derive(Debug, Serialize)]
struct NotificationsResource {
    account_sid: AccountSid,
    chat_service_sid: ChatServiceSid,
    log_enabled: bool,
    added_to_conversation: EventNotification,
    new_message: NewMessageNotification,
    removed_from_conversation: EventNotification,
    url: String,
}

impl NotificationsResource {
    fn new(
        account_sid: AccountSid,
        service: ChatServiceSid,
        base: &str,
        notifications: NotificationConfiguration,
    ) -> Self {
        Self {
            account_sid,
            chat_service_sid: service,
            log_enabled: notifications.log_enabled,
            added_to_conversation: notifications.added_to_conversation,
            new_message: notifications.new_message,
            removed_from_conversation: notifications.removed_from_conversation,
            url: format!("{base}/v1/Services/{service}/Configuration/Notifications"),
        }
    }
}
