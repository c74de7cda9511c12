//! Push credentials, `/v1/Credentials[/{CR}]`: every operation, secrets never echoed but
//! kept in the state document.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{assert_twilio_error_for, json_ok, sid_of, spawn_app};

/// A refused request: its case, method, path, form, and the status and Twilio code expected.
type InvalidCase<'a> = (&'a str, Method, &'a str, Vec<(&'a str, &'a str)>, StatusCode, u64);

#[tokio::test]
async fn credentials_support_every_operation_and_never_echo_secrets() {
    let app = spawn_app().await;

    let response = app
        .send(
            Method::POST,
            "/v1/Credentials",
            &[
                ("Type", "apn"),
                ("FriendlyName", "iOS"),
                ("Certificate", "-----BEGIN CERTIFICATE-----top-secret-cert"),
                ("PrivateKey", "-----BEGIN RSA PRIVATE KEY-----top-secret-key"),
                ("Sandbox", "true"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let created = json_ok(response).await;
    let sid = sid_of(&created);
    assert!(sid.starts_with("CR"));
    let mut keys: Vec<&str> = created.as_object().expect("object").keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["account_sid", "date_created", "date_updated", "friendly_name", "sandbox", "sid", "type", "url"]);
    assert_eq!(
        (&created["type"], &created["sandbox"], &created["friendly_name"]),
        (&json!("apn"), &json!("True"), &json!("iOS"))
    );
    assert_eq!(created["url"], format!("{}/v1/Credentials/{sid}", app.base));
    assert!(!created.to_string().contains("top-secret"));

    let fcm = app.post("/v1/Credentials", &[("Type", "fcm"), ("Secret", "top-secret-server-key")]).await;
    assert_eq!((&fcm["sandbox"], &fcm["friendly_name"]), (&json!("False"), &json!(null)));
    assert_eq!(app.get(&format!("/v1/Credentials/{sid}")).await, created);
    let listed = app.get("/v1/Credentials").await;
    assert_eq!(listed["credentials"], json!([created, fcm]));
    assert_eq!((&listed["meta"]["key"], &listed["meta"]["page_size"]), (&json!("credentials"), &json!(50)));

    let updated =
        app.post(&format!("/v1/Credentials/{sid}"), &[("FriendlyName", "iOS prod"), ("Sandbox", "false")]).await;
    assert_eq!(
        (&updated["friendly_name"], &updated["sandbox"], &updated["type"]),
        (&json!("iOS prod"), &json!("False"), &json!("apn"))
    );

    // The state keeps the secrets, so that an export restores them.
    let exported = json_ok(app.control(Method::GET, "/_emulator/state", None).await).await;
    assert!(exported.to_string().contains("top-secret-cert"));
    app.control(Method::POST, "/_emulator/reset", None).await;
    json_ok(app.control(Method::POST, "/_emulator/state", Some(&exported)).await).await;
    assert_eq!(app.get(&format!("/v1/Credentials/{sid}")).await, updated);

    let deleted = app.send(Method::DELETE, &format!("/v1/Credentials/{sid}"), &[]).await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let gone = app.send(Method::GET, &format!("/v1/Credentials/{sid}"), &[]).await;
    assert_twilio_error_for("deleted", gone, StatusCode::NOT_FOUND, 20404).await;
}

#[tokio::test]
async fn invalid_credential_requests_get_twilio_errors() {
    let app = spawn_app().await;
    let unknown = "/v1/Credentials/CR00000000000000000000000000000000";
    let long_name = "x".repeat(65);
    let cases: [InvalidCase; 7] = [
        ("no Type", Method::POST, "/v1/Credentials", vec![("FriendlyName", "a")], StatusCode::BAD_REQUEST, 20001),
        ("unknown Type", Method::POST, "/v1/Credentials", vec![("Type", "apns")], StatusCode::BAD_REQUEST, 20001),
        (
            "Sandbox not a boolean",
            Method::POST,
            "/v1/Credentials",
            vec![("Type", "apn"), ("Sandbox", "maybe")],
            StatusCode::BAD_REQUEST,
            20001,
        ),
        (
            "FriendlyName over 64 characters",
            Method::POST,
            "/v1/Credentials",
            vec![("Type", "gcm"), ("FriendlyName", long_name.as_str())],
            StatusCode::BAD_REQUEST,
            50003,
        ),
        ("unknown credential", Method::GET, unknown, vec![], StatusCode::NOT_FOUND, 20404),
        (
            "update of an unknown credential",
            Method::POST,
            unknown,
            vec![("FriendlyName", "a")],
            StatusCode::NOT_FOUND,
            20404,
        ),
        ("malformed SID", Method::DELETE, "/v1/Credentials/CRxyz", vec![], StatusCode::NOT_FOUND, 20404),
    ];
    for (case, method, path, params, status, code) in cases {
        let response = app.send(method, path, &params).await;
        assert_twilio_error_for(case, response, status, code).await;
    }
}
