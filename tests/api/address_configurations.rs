//! Address Configurations, `/v1/Configuration/Addresses[/{IG}]`.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{assert_twilio_error, assert_twilio_error_for, json_ok, sid_of, spawn_app};

/// A refused request: its case, its form, and the status and Twilio code expected.
type InvalidCase<'a> = (&'a str, Vec<(&'a str, &'a str)>, StatusCode, u64);

#[tokio::test]
async fn address_configurations_support_every_operation() {
    let app = spawn_app().await;
    let service = app.default_service().await;

    // Create: `Type` in any case, a webhook autocreation.
    let response = app
        .send(
            Method::POST,
            "/v1/Configuration/Addresses",
            &[
                ("Type", "SmS"),
                ("Address", "+15017122661"),
                ("FriendlyName", "Support line"),
                ("AddressCountry", "US"),
                ("AutoCreation.Enabled", "true"),
                ("AutoCreation.Type", "webhook"),
                ("AutoCreation.ConversationServiceSid", &service),
                ("AutoCreation.WebhookUrl", "https://example.com/auto"),
                ("AutoCreation.WebhookMethod", "get"),
                ("AutoCreation.WebhookFilters", "onParticipantAdded"),
                ("AutoCreation.WebhookFilters", "onMessageAdded"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let sms = json_ok(response).await;
    let sid = sid_of(&sms);
    assert!(sid.starts_with("IG"));
    assert_eq!(
        sms["auto_creation"],
        json!({"enabled": true, "type": "webhook", "conversation_service_sid": service,
               "webhook_url": "https://example.com/auto", "webhook_method": "GET",
               "webhook_filters": ["onParticipantAdded", "onMessageAdded"]})
    );
    assert_eq!(
        (&sms["type"], &sms["address"], &sms["friendly_name"], &sms["address_country"], &sms["account_sid"]),
        (&json!("sms"), &json!("+15017122661"), &json!("Support line"), &json!("US"), &json!(app.account))
    );
    assert_eq!(sms["url"], format!("{}/v1/Configuration/Addresses/{sid}", app.base));
    let whatsapp = app
        .post(
            "/v1/Configuration/Addresses",
            &[
                ("Type", "whatsapp"),
                ("Address", "whatsapp:+15017122661"),
                ("AutoCreation.Type", "studio"),
                ("AutoCreation.StudioFlowSid", "FW00000000000000000000000000000001"),
                ("AutoCreation.StudioRetryCount", "3"),
            ],
        )
        .await;
    assert_eq!(
        whatsapp["auto_creation"],
        json!({"enabled": false, "type": "studio", "conversation_service_sid": null,
               "studio_flow_sid": "FW00000000000000000000000000000001", "studio_retry_count": 3})
    );

    // Fetch and list, with the `Type` filter.
    assert_eq!(app.get(&format!("/v1/Configuration/Addresses/{sid}")).await, sms);
    let listed = app.get("/v1/Configuration/Addresses").await;
    assert_eq!(listed["address_configurations"], json!([sms, whatsapp]));
    assert_eq!((&listed["meta"]["key"], &listed["meta"]["page_size"]), (&json!("address_configurations"), &json!(50)));
    let only_whatsapp = app.get("/v1/Configuration/Addresses?Type=WhatsApp&PageSize=100").await;
    assert_eq!(only_whatsapp["address_configurations"], json!([whatsapp]));
    assert!(only_whatsapp["meta"]["url"].as_str().is_some_and(|url| url.contains("Type=whatsapp&PageSize=50")));

    // Update: Type, Address and AddressCountry stay.
    let updated = app
        .post(
            &format!("/v1/Configuration/Addresses/{sid}"),
            &[("FriendlyName", "Renamed"), ("AutoCreation.Enabled", "false"), ("Type", "chat"), ("Address", "x")],
        )
        .await;
    assert_eq!((&updated["friendly_name"], &updated["auto_creation"]["enabled"]), (&json!("Renamed"), &json!(false)));
    assert_eq!((&updated["type"], &updated["address"]), (&json!("sms"), &json!("+15017122661")));
    assert_eq!(updated["auto_creation"]["webhook_url"], "https://example.com/auto");

    // Delete
    let deleted = app.send(Method::DELETE, &format!("/v1/Configuration/Addresses/{sid}"), &[]).await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let gone = app.send(Method::GET, &format!("/v1/Configuration/Addresses/{sid}"), &[]).await;
    assert_twilio_error(gone, StatusCode::NOT_FOUND, 20404).await;
    assert_eq!(app.get("/v1/Configuration/Addresses").await["address_configurations"], json!([whatsapp]));
}

#[tokio::test]
async fn invalid_address_configurations_get_twilio_codes() {
    let app = spawn_app().await;
    let address = ("Address", "+15017122661");
    app.post("/v1/Configuration/Addresses", &[("Type", "sms"), address]).await;
    let long_name = "x".repeat(257);
    let cases: Vec<InvalidCase> = vec![
        ("no Type", vec![address], StatusCode::BAD_REQUEST, 20001),
        ("an unknown Type", vec![("Type", "fax"), address], StatusCode::BAD_REQUEST, 20001),
        ("no Address", vec![("Type", "sms")], StatusCode::BAD_REQUEST, 20001),
        ("a second sms configuration of the address", vec![("Type", "sms"), address], StatusCode::CONFLICT, 20001),
        (
            "a FriendlyName over 256 characters",
            vec![("Type", "chat"), address, ("FriendlyName", &long_name)],
            StatusCode::BAD_REQUEST,
            20001,
        ),
        (
            "a non-boolean Enabled",
            vec![("Type", "chat"), address, ("AutoCreation.Enabled", "yes")],
            StatusCode::BAD_REQUEST,
            20001,
        ),
        (
            "a relative webhook URL",
            vec![("Type", "chat"), address, ("AutoCreation.WebhookUrl", "/hook")],
            StatusCode::BAD_REQUEST,
            20001,
        ),
        (
            "an unknown autocreation type",
            vec![("Type", "chat"), address, ("AutoCreation.Type", "flex")],
            StatusCode::BAD_REQUEST,
            20001,
        ),
        (
            "a malformed service",
            vec![("Type", "chat"), address, ("AutoCreation.ConversationServiceSid", "IS1")],
            StatusCode::BAD_REQUEST,
            20001,
        ),
        (
            "an unknown service",
            vec![
                ("Type", "chat"),
                address,
                ("AutoCreation.ConversationServiceSid", "IS00000000000000000000000000000000"),
            ],
            StatusCode::BAD_REQUEST,
            50050,
        ),
        (
            "an unknown method",
            vec![("Type", "chat"), address, ("AutoCreation.WebhookMethod", "put")],
            StatusCode::BAD_REQUEST,
            20001,
        ),
        (
            "a pre-event filter",
            vec![("Type", "chat"), address, ("AutoCreation.WebhookFilters", "onMessageAdd")],
            StatusCode::BAD_REQUEST,
            20001,
        ),
        (
            "a flow that is not FW…",
            vec![("Type", "chat"), address, ("AutoCreation.StudioFlowSid", "IS1")],
            StatusCode::BAD_REQUEST,
            20001,
        ),
        (
            "a negative retry count",
            vec![("Type", "chat"), address, ("AutoCreation.StudioRetryCount", "-1")],
            StatusCode::BAD_REQUEST,
            20001,
        ),
    ];
    for (case, params, status, code) in cases {
        let response = app.send(Method::POST, "/v1/Configuration/Addresses", &params).await;
        assert_twilio_error_for(case, response, status, code).await;
    }
    let listed = app.get("/v1/Configuration/Addresses").await;
    assert_eq!(listed["address_configurations"].as_array().map(Vec::len), Some(1), "nothing else stored");
    let bad_type = app.send(Method::GET, "/v1/Configuration/Addresses?Type=fax", &[]).await;
    assert_twilio_error(bad_type, StatusCode::BAD_REQUEST, 20001).await;
    for path in ["/v1/Configuration/Addresses/IG00000000000000000000000000000000", "/v1/Configuration/Addresses/nope"] {
        for method in [Method::GET, Method::POST, Method::DELETE] {
            let response = app.send(method.clone(), path, &[]).await;
            assert_twilio_error_for(&format!("{method} {path}"), response, StatusCode::NOT_FOUND, 20404).await;
        }
    }
    let other_account =
        app.send_as(crate::helpers::OTHER_ACCOUNT, Method::GET, "/v1/Configuration/Addresses", &[]).await;
    assert_eq!(json_ok(other_account).await["address_configurations"], Value::Array(Vec::new()), "tenants are apart");
}
