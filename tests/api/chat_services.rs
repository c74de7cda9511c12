//! Chat v2 Services: the Conversations services (`/v1/Services`) in Chat's representation,
//! their Chat settings stored in the service configuration and webhook settings.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{assert_twilio_error_for, json_ok, sid_of, spawn_app};

const SERVICE_KEYS: [&str; 23] = [
    "account_sid",
    "consumption_report_interval",
    "date_created",
    "date_updated",
    "default_channel_creator_role_sid",
    "default_channel_role_sid",
    "default_service_role_sid",
    "friendly_name",
    "limits",
    "links",
    "notifications",
    "post_webhook_url",
    "pre_webhook_url",
    "pre_webhook_retry_count",
    "post_webhook_retry_count",
    "reachability_enabled",
    "read_status_enabled",
    "sid",
    "typing_indicator_timeout",
    "url",
    "webhook_filters",
    "webhook_method",
    "media",
];

fn keys(value: &Value) -> Vec<&str> {
    value.as_object().expect("object").keys().map(String::as_str).collect()
}

fn sids(list: &Value) -> Vec<&str> {
    list["services"].as_array().expect("services").iter().filter_map(|s| s["sid"].as_str()).collect()
}

#[tokio::test]
async fn chat_service_operations() {
    let app = spawn_app().await;
    let default = app.default_service().await;

    // Create: 201, every field of the spec's example in its order.
    let created = app.send(Method::POST, "/v2/Services", &[("FriendlyName", "chat")]).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let created = json_ok(created).await;
    let sid = sid_of(&created);
    let path = format!("/v2/Services/{sid}");
    assert_eq!(keys(&created), SERVICE_KEYS);
    assert_eq!(created["friendly_name"], "chat");
    assert_eq!(created["url"], format!("{}{path}", app.base));
    for (link, tail) in [("channels", "Channels"), ("users", "Users"), ("roles", "Roles"), ("bindings", "Bindings")] {
        assert_eq!(created["links"][link], format!("{}{path}/{tail}", app.base), "{link}");
    }
    assert_eq!(keys(&created["links"]), ["channels", "users", "roles", "bindings"]);
    assert_eq!(created["limits"]["channel_members"], 100);
    assert_eq!(created["media"]["size_limit_mb"], 150);
    assert_eq!(created["reachability_enabled"], false);
    assert_eq!(created["webhook_filters"], Value::Null);
    // The default role SIDs are the service's own roles.
    let roles = app.get(&format!("{path}/Roles")).await;
    let role_sids: Vec<&str> =
        roles["roles"].as_array().expect("roles").iter().filter_map(|r| r["sid"].as_str()).collect();
    for field in ["default_service_role_sid", "default_channel_role_sid", "default_channel_creator_role_sid"] {
        let role = created[field].as_str().expect(field);
        assert!(role_sids.contains(&role), "{field} {role} is one of {role_sids:?}");
    }

    // Fetch and list.
    assert_eq!(app.get(&path).await, created);
    let listed = app.get("/v2/Services").await;
    assert_eq!(sids(&listed), [default.as_str(), sid.as_str()]);
    assert_eq!(listed["meta"]["key"], "services");
    let paged = app.get("/v2/Services?PageSize=1").await;
    assert_eq!(sids(&paged), [default.as_str()]);
    assert!(paged["meta"]["next_page_url"].as_str().is_some_and(|url| url.contains("/v2/Services")));

    // Update: the mapped settings are stored where Conversations keeps them.
    let role = created["default_service_role_sid"].as_str().expect("role").to_owned();
    let updated = app
        .post(
            &path,
            &[
                ("FriendlyName", "renamed"),
                ("DefaultChannelRoleSid", role.as_str()),
                ("ReachabilityEnabled", "true"),
                ("PreWebhookUrl", "https://example.com/pre"),
                ("PostWebhookUrl", "https://example.com/post"),
                ("WebhookMethod", "GET"),
                ("WebhookFilters", "onMessageSent"),
                ("WebhookFilters", "onChannelDestroyed"),
                ("WebhookFilters", "onMediaMessageSend"),
                ("ReadStatusEnabled", "true"),
                ("TypingIndicatorTimeout", "7"),
                ("Limits.ChannelMembers", "10"),
                ("Notifications.NewMessage.Enabled", "true"),
            ],
        )
        .await;
    assert_eq!(keys(&updated), SERVICE_KEYS);
    assert_eq!(updated["friendly_name"], "renamed");
    assert_eq!(updated["default_channel_role_sid"], role.as_str());
    assert_eq!(updated["reachability_enabled"], true);
    assert_eq!(updated["pre_webhook_url"], "https://example.com/pre");
    assert_eq!(updated["post_webhook_url"], "https://example.com/post");
    assert_eq!(updated["webhook_method"], "GET");
    assert_eq!(updated["webhook_filters"], serde_json::json!(["onMessageSent", "onChannelDestroyed"]));
    assert_eq!(updated["read_status_enabled"], true);
    assert_eq!(updated["typing_indicator_timeout"], 7);
    assert_eq!(updated["limits"], serde_json::json!({"channel_members": 10, "user_channels": 250}));
    assert_eq!(updated["consumption_report_interval"], 100, "unchanged when not sent");
    assert_eq!(updated["date_created"], created["date_created"]);
    assert_eq!(app.get(&path).await, updated);
    let configuration = app.get(&format!("/v1/Services/{sid}/Configuration")).await;
    assert_eq!(configuration["default_conversation_role_sid"], role.as_str());
    assert_eq!(configuration["reachability_enabled"], true);
    let webhooks = app.get(&format!("/v1/Services/{sid}/Configuration/Webhooks")).await;
    assert_eq!(webhooks["pre_webhook_url"], "https://example.com/pre");
    assert_eq!(webhooks["method"], "GET");
    assert_eq!(webhooks["filters"], serde_json::json!(["onMessageAdded", "onConversationRemoved"]));
    assert_eq!(app.get(&format!("/v1/Services/{sid}")).await["friendly_name"], "renamed");

    // Delete.
    let deleted = app.send(Method::DELETE, &path, &[]).await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.send(Method::GET, &path, &[]).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(sids(&app.get("/v1/Services").await), [default.as_str()]);
}

#[tokio::test]
async fn chat_services_are_the_conversations_services() {
    let app = spawn_app().await;
    let through_conversations = sid_of(&app.post("/v1/Services", &[("FriendlyName", "v1")]).await);
    let through_chat = sid_of(&json_ok(app.send(Method::POST, "/v2/Services", &[("FriendlyName", "v2")]).await).await);

    let chat = app.get(&format!("/v2/Services/{through_conversations}")).await;
    assert_eq!(chat["friendly_name"], "v1");
    let conversations = app.get(&format!("/v1/Services/{through_chat}")).await;
    assert_eq!(conversations["friendly_name"], "v2");
    assert_eq!(sids(&app.get("/v1/Services").await), sids(&app.get("/v2/Services").await));

    // A channel created in the Chat service is a conversation of that service.
    let channel = app.post(&format!("/v2/Services/{through_chat}/Channels"), &[("FriendlyName", "c")]).await;
    let conversation = app.get(&format!("/v1/Services/{through_chat}/Conversations/{}", sid_of(&channel))).await;
    assert_eq!(conversation["chat_service_sid"], through_chat.as_str());
}

#[tokio::test]
async fn chat_settings_survive_an_export_and_import() {
    let app = spawn_app().await;
    let sid = sid_of(&json_ok(app.send(Method::POST, "/v2/Services", &[("FriendlyName", "kept")]).await).await);
    let path = format!("/v2/Services/{sid}");
    let updated = app
        .post(
            &path,
            &[
                ("TypingIndicatorTimeout", "9"),
                ("PostWebhookRetryCount", "1"),
                ("Media.CompatibilityMessage", "get an app"),
                ("ReadStatusEnabled", "true"),
            ],
        )
        .await;
    assert_eq!(updated["media"]["compatibility_message"], "get an app");
    let exported = json_ok(app.control(Method::GET, "/_emulator/state", None).await).await;
    assert_eq!(exported["accounts"][0]["services"][1]["chat_settings"]["typing_indicator_timeout"], 9);

    app.control(Method::POST, "/_emulator/reset", None).await;
    json_ok(app.control(Method::PUT, "/_emulator/state", Some(&exported)).await).await;

    assert_eq!(app.get(&path).await, updated);
    assert_eq!(json_ok(app.control(Method::GET, "/_emulator/state", None).await).await, exported);
}

/// An invalid request: its name, method, path and form, and the status and code it gets.
type Case<'a> = (&'a str, Method, String, Vec<(&'a str, &'a str)>, StatusCode, u64);

#[tokio::test]
async fn chat_service_errors() {
    let app = spawn_app().await;
    let default = app.default_service().await;
    let unknown = "/v2/Services/IS00000000000000000000000000000000".to_owned();
    let service = format!("/v2/Services/{default}");
    let cases: [Case; 11] = [
        ("no friendly name", Method::POST, "/v2/Services".to_owned(), vec![], StatusCode::BAD_REQUEST, 20001),
        (
            "empty friendly name",
            Method::POST,
            "/v2/Services".to_owned(),
            vec![("FriendlyName", "")],
            StatusCode::BAD_REQUEST,
            20001,
        ),
        ("unknown service", Method::GET, unknown.clone(), vec![], StatusCode::NOT_FOUND, 20404),
        ("update unknown", Method::POST, unknown.clone(), vec![("FriendlyName", "x")], StatusCode::NOT_FOUND, 20404),
        ("delete unknown", Method::DELETE, unknown, vec![], StatusCode::NOT_FOUND, 20404),
        ("malformed SID", Method::GET, "/v2/Services/nope".to_owned(), vec![], StatusCode::NOT_FOUND, 20404),
        ("default undeletable", Method::DELETE, service.clone(), vec![], StatusCode::BAD_REQUEST, 20001),
        (
            "malformed role",
            Method::POST,
            service.clone(),
            vec![("DefaultServiceRoleSid", "nope")],
            StatusCode::BAD_REQUEST,
            20001,
        ),
        (
            "relative webhook URL",
            Method::POST,
            service.clone(),
            vec![("PostWebhookUrl", "hooks/post")],
            StatusCode::BAD_REQUEST,
            20001,
        ),
        (
            "malformed boolean",
            Method::POST,
            service.clone(),
            vec![("ReadStatusEnabled", "maybe")],
            StatusCode::BAD_REQUEST,
            20001,
        ),
        (
            "negative number",
            Method::POST,
            service,
            vec![("FriendlyName", "x"), ("TypingIndicatorTimeout", "-1")],
            StatusCode::BAD_REQUEST,
            20001,
        ),
    ];

    for (case, method, path, form, status, code) in cases {
        assert_twilio_error_for(case, app.send(method, &path, &form).await, status, code).await;
    }
    // Nothing was written by the refused updates.
    let unchanged = app.get(&format!("/v2/Services/{default}")).await;
    assert_eq!(unchanged["reachability_enabled"], false);
    assert_ne!(unchanged["friendly_name"], "x");
}

#[tokio::test]
async fn chat_notifications_are_the_services_notification_configuration_in_chats_names() {
    let app = spawn_app().await;
    let sid = sid_of(&app.post("/v1/Services", &[("FriendlyName", "pushy")]).await);
    let (path, v1) = (format!("/v2/Services/{sid}"), format!("/v1/Services/{sid}/Configuration/Notifications"));

    let updated = app
        .post(
            &path,
            &[
                ("Notifications.LogEnabled", "true"),
                ("Notifications.NewMessage.Enabled", "true"),
                ("Notifications.NewMessage.Template", "${USER}: ${MESSAGE}"),
                ("Notifications.NewMessage.BadgeCountEnabled", "true"),
                ("Notifications.AddedToChannel.Sound", "ping"),
                ("Notifications.RemovedFromChannel.Enabled", "true"),
                ("Notifications.InvitedToChannel.Enabled", "true"),
                ("Notifications.InvitedToChannel.Template", "join ${CHANNEL}"),
            ],
        )
        .await;
    let conversations = app.get(&v1).await;
    app.post(&v1, &[("AddedToConversation.Enabled", "true")]).await;
    let fetched = app.get(&path).await;
    let refused = app.send(Method::POST, &path, &[("Notifications.LogEnabled", "maybe"), ("FriendlyName", "x")]).await;

    let notifications = &updated["notifications"];
    assert_eq!(notifications["log_enabled"], true);
    assert_eq!(
        notifications["new_message"],
        json!({"enabled": true, "template": "${USER}: ${MESSAGE}", "sound": "ring", "badge_count_enabled": true})
    );
    assert_eq!(notifications["added_to_channel"]["sound"], "ping");
    assert_eq!(notifications["added_to_channel"]["enabled"], false, "not sent, not changed");
    assert_eq!(notifications["removed_from_channel"]["enabled"], true);
    assert_eq!(
        notifications["invited_to_channel"],
        json!({"enabled": true, "template": "join ${CHANNEL}", "sound": "ring"})
    );
    assert_eq!(conversations["log_enabled"], true, "Conversations shows what Chat set");
    assert_eq!(conversations["new_message"]["badge_count_enabled"], true);
    assert_eq!(conversations["added_to_conversation"]["sound"], "ping");
    assert_eq!(fetched["notifications"]["added_to_channel"]["enabled"], true, "Chat shows what Conversations set");
    assert_twilio_error_for("a flag that is no boolean", refused, StatusCode::BAD_REQUEST, 20001).await;
    assert_eq!(app.get(&path).await, fetched, "a refused update changes nothing");
}
