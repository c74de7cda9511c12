//! Account- and service-level webhook settings, and the account's and services'
//! configuration (`/v1/Configuration`, `/v1/Services/{IS}/Configuration`).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{assert_twilio_error_for, json_ok, sid_of, spawn_app};

type Params<'a> = &'a [(&'a str, &'a str)];

#[tokio::test]
async fn account_webhooks_start_with_documented_defaults_and_echo_updates() {
    let app = spawn_app().await;
    let url = format!("{}/v1/Configuration/Webhooks", app.base);

    let fresh = app.get("/v1/Configuration/Webhooks").await;

    assert_eq!(
        fresh,
        json!({"account_sid": app.account, "method": "POST", "filters": null, "pre_webhook_url": null,
               "post_webhook_url": null, "target": "webhook", "url": url})
    );

    let response = app
        .send(
            Method::POST,
            "/v1/Configuration/Webhooks",
            &[
                ("PreWebhookUrl", "https://example.com/pre"),
                ("PostWebhookUrl", "https://example.com/post"),
                ("Method", "GET"),
                ("Filters", "onMessageAdd"),
                ("Filters", "onMessageAdded"),
                ("Target", "flex"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK, "an update answers 200, not 201");
    let updated = json_ok(response).await;
    assert_eq!(
        updated,
        json!({"account_sid": app.account, "method": "GET", "filters": ["onMessageAdd", "onMessageAdded"],
               "pre_webhook_url": "https://example.com/pre", "post_webhook_url": "https://example.com/post",
               "target": "flex", "url": url})
    );
    assert_eq!(app.get("/v1/Configuration/Webhooks").await, updated);

    // An empty value clears a URL, one empty Filters the list; the rest stays.
    let cleared = app.post("/v1/Configuration/Webhooks", &[("PreWebhookUrl", ""), ("Filters", "")]).await;
    assert_eq!((&cleared["pre_webhook_url"], &cleared["filters"]), (&Value::Null, &Value::Null));
    assert_eq!((&cleared["post_webhook_url"], &cleared["method"]), (&json!("https://example.com/post"), &json!("GET")));
}

#[tokio::test]
async fn service_webhooks_are_null_until_set_and_are_the_services_own() {
    let app = spawn_app().await;
    let service = sid_of(&app.post("/v1/Services", &[("FriendlyName", "hooks")]).await);
    let other = sid_of(&app.post("/v1/Services", &[("FriendlyName", "other")]).await);
    let path = format!("/v1/Services/{service}/Configuration/Webhooks");

    let fresh = app.get(&path).await;

    assert_eq!(
        fresh,
        json!({"account_sid": app.account, "chat_service_sid": service, "pre_webhook_url": null,
               "post_webhook_url": null, "filters": null, "method": null, "url": format!("{}{path}", app.base)})
    );
    let updated = app
        .post(&path, &[("PostWebhookUrl", "https://example.com/post"), ("Method", "post"), ("Filters", "onUserAdded")])
        .await;
    assert_eq!(
        (&updated["post_webhook_url"], &updated["method"], &updated["filters"]),
        (&json!("https://example.com/post"), &json!("POST"), &json!(["onUserAdded"]))
    );
    assert!(updated.get("target").is_none(), "no target at the service level");
    assert_eq!(app.get(&path).await, updated);
    let untouched = app.get(&format!("/v1/Services/{other}/Configuration/Webhooks")).await;
    assert_eq!(untouched["post_webhook_url"], Value::Null);
    assert_eq!(app.get("/v1/Configuration/Webhooks").await["post_webhook_url"], Value::Null);
}

#[tokio::test]
async fn invalid_webhook_settings_get_twilio_codes() {
    let app = spawn_app().await;
    let service = sid_of(&app.post("/v1/Services", &[("FriendlyName", "hooks")]).await);
    let levels = ["/v1/Configuration/Webhooks".to_owned(), format!("/v1/Services/{service}/Configuration/Webhooks")];
    let cases: [(&str, Params, StatusCode, u64); 5] = [
        ("a relative URL", &[("PreWebhookUrl", "w")], StatusCode::BAD_REQUEST, 20001),
        ("a URL of another scheme", &[("PostWebhookUrl", "ftp://example.com/hook")], StatusCode::BAD_REQUEST, 20001),
        (
            "an unknown filter",
            &[("Filters", "onMessageAdded"), ("Filters", "onMessageSent")],
            StatusCode::BAD_REQUEST,
            20001,
        ),
        ("a lower-case-less filter", &[("Filters", "onmessageadded")], StatusCode::BAD_REQUEST, 20001),
        ("an unknown method", &[("Method", "PUT")], StatusCode::BAD_REQUEST, 20001),
    ];
    for path in &levels {
        let before = app.get(path).await;
        for (case, params, status, code) in cases {
            let response = app.send(Method::POST, path, params).await;
            assert_twilio_error_for(&format!("{path}: {case}"), response, status, code).await;
        }
        assert_eq!(app.get(path).await, before, "{path}: nothing stored");
    }
    let bad_target = app.send(Method::POST, &levels[0], &[("Target", "studio")]).await;
    assert_twilio_error_for("an unknown target", bad_target, StatusCode::BAD_REQUEST, 20001).await;
    for (case, path) in [
        ("an unknown service", "/v1/Services/IS00000000000000000000000000000000/Configuration/Webhooks"),
        ("a malformed service", "/v1/Services/nope/Configuration/Webhooks"),
        ("an unknown service's configuration", "/v1/Services/IS00000000000000000000000000000000/Configuration"),
    ] {
        for method in [Method::GET, Method::POST] {
            let response = app.send(method.clone(), path, &[("Method", "GET")]).await;
            assert_twilio_error_for(&format!("{method} {case}"), response, StatusCode::NOT_FOUND, 20404).await;
        }
    }
}

#[tokio::test]
async fn service_configuration_is_stored_and_echoed() {
    let app = spawn_app().await;
    let service = sid_of(&app.post("/v1/Services", &[("FriendlyName", "configured")]).await);
    let path = format!("/v1/Services/{service}/Configuration");
    let url = format!("{}{path}", app.base);

    let fresh = app.get(&path).await;

    assert_eq!(fresh["chat_service_sid"], service.as_str());
    assert_eq!(
        (&fresh["reachability_enabled"], &fresh["default_chat_service_role_sid"]),
        (&json!(false), &Value::Null)
    );
    assert!(fresh["default_conversation_role_sid"].as_str().is_some_and(|sid| sid.starts_with("RL")));
    assert_eq!(fresh["url"], url.as_str());
    assert_eq!(
        fresh["links"],
        json!({"notifications": format!("{url}/Notifications"), "webhooks": format!("{url}/Webhooks")})
    );
    let role = "RL00000000000000000000000000000007";
    let updated = app
        .post(
            &path,
            &[
                ("DefaultConversationRoleSid", role),
                ("DefaultChatServiceRoleSid", role),
                ("ReachabilityEnabled", "true"),
            ],
        )
        .await;
    assert_eq!(
        (
            &updated["default_conversation_role_sid"],
            &updated["default_chat_service_role_sid"],
            &updated["reachability_enabled"]
        ),
        (&json!(role), &json!(role), &json!(true))
    );
    assert_eq!(updated["default_conversation_creator_role_sid"], fresh["default_conversation_creator_role_sid"]);
    assert_eq!(app.get(&path).await, updated);
    for (case, params) in [
        ("a role that is not RL…", [("DefaultConversationRoleSid", "IS00000000000000000000000000000001")]),
        ("a reachability that is not a boolean", [("ReachabilityEnabled", "maybe")]),
    ] {
        let response = app.send(Method::POST, &path, &params).await;
        assert_twilio_error_for(case, response, StatusCode::BAD_REQUEST, 20001).await;
    }
}

#[tokio::test]
async fn the_configurations_links_answer() {
    let app = spawn_app().await;
    let configuration = app.get("/v1/Configuration").await;
    for link in ["service", "webhooks"] {
        let url = configuration["links"][link].as_str().expect("a link");
        app.get_url(url).await;
    }
}

#[tokio::test]
async fn the_default_chat_service_can_be_changed_and_v1_conversations_follows_it() {
    let app = spawn_app().await;
    let original = app.default_service().await;
    let service = sid_of(&app.post("/v1/Services", &[("FriendlyName", "new default")]).await);

    let updated = app
        .post(
            "/v1/Configuration",
            &[
                ("DefaultChatServiceSid", &service),
                ("DefaultMessagingServiceSid", "MG00000000000000000000000000000009"),
                ("DefaultInactiveTimer", "PT1H"),
                ("DefaultClosedTimer", "P1D"),
            ],
        )
        .await;

    assert_eq!(updated["default_chat_service_sid"], service.as_str());
    assert_eq!(updated["default_messaging_service_sid"], "MG00000000000000000000000000000009");
    assert_eq!((&updated["default_inactive_timer"], &updated["default_closed_timer"]), (&json!("PT1H"), &json!("P1D")));
    assert_eq!(updated["links"]["service"], format!("{}/v1/Services/{service}/Configuration", app.base));
    assert_eq!(app.get("/v1/Configuration").await, updated);
    let conversation = app.post("/v1/Conversations", &[]).await;
    assert_eq!(conversation["chat_service_sid"], service.as_str());
    let listed = app.get(&format!("/v1/Services/{service}/Conversations")).await;
    assert_eq!(listed["conversations"][0]["sid"], conversation["sid"]);
    let deleted = app.send(Method::DELETE, &format!("/v1/Services/{service}"), &[]).await;
    assert_eq!(deleted.status(), StatusCode::BAD_REQUEST, "the new default cannot be deleted");

    // Unknown and malformed services are refused; nothing changes.
    for (case, value, code) in
        [("an unknown service", "IS00000000000000000000000000000000", 50050), ("not a service SID", "CH1", 20001)]
    {
        let response = app.send(Method::POST, "/v1/Configuration", &[("DefaultChatServiceSid", value)]).await;
        assert_twilio_error_for(case, response, StatusCode::BAD_REQUEST, code).await;
    }
    assert_eq!(app.get("/v1/Configuration").await["default_chat_service_sid"], service.as_str());
    app.post("/v1/Configuration", &[("DefaultChatServiceSid", &original), ("DefaultInactiveTimer", "")]).await;
    let restored = app.get("/v1/Configuration").await;
    assert_eq!(
        (&restored["default_chat_service_sid"], &restored["default_inactive_timer"]),
        (&json!(original), &Value::Null)
    );
}
