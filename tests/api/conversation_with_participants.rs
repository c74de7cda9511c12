//! `POST /v1/ConversationWithParticipants` (and the service form): a conversation and its
//! participants, created together or not at all.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{assert_twilio_error_for, json_ok, sid_of, spawn_app};

fn with_participants(form: &str) -> String {
    match form {
        "default" => "/v1/ConversationWithParticipants".to_owned(),
        service => format!("/v1/Services/{service}/ConversationWithParticipants"),
    }
}

#[tokio::test]
async fn a_conversation_is_created_with_its_participants_on_both_forms() {
    let app = spawn_app().await;
    let service = sid_of(&app.post("/v1/Services", &[("FriendlyName", "cwp")]).await);

    for form in ["default", service.as_str()] {
        let created = json_ok(
            app.send(
                Method::POST,
                &with_participants(form),
                &[
                    ("FriendlyName", "support"),
                    ("Participant", r#"{"identity": "alice", "attributes": "{\"vip\":true}"}"#),
                    (
                        "Participant",
                        r#"{"messaging_binding": {"address": "+15550001111", "proxy_address": "+15550002222"}}"#,
                    ),
                ],
            )
            .await,
        )
        .await;

        let participants: Value =
            app.get_url(created["links"]["participants"].as_str().expect("a participants link")).await;
        assert_eq!(created["friendly_name"], "support", "{form}");
        assert!(sid_of(&created).starts_with("CH"));
        assert_eq!(created["bindings"], serde_json::json!({}));
        let listed = participants["participants"].as_array().expect("participants");
        assert_eq!(listed.len(), 2, "{form}");
        assert_eq!(listed[0]["identity"], "alice");
        assert_eq!(listed[0]["attributes"], "{\"vip\":true}");
        assert_eq!(listed[1]["messaging_binding"]["address"], "+15550001111");
    }
}

/// A refused request: its name, its form, and the status and code it gets.
type Refused<'a> = (&'a str, Vec<(&'a str, &'a str)>, StatusCode, u64);

#[tokio::test]
async fn a_refused_participant_creates_nothing() {
    let app = spawn_app().await;
    app.post("/v1/Conversations", &[("UniqueName", "taken")]).await;
    let eleven: Vec<(&str, String)> = (0..11).map(|i| ("Participant", format!(r#"{{"identity": "u{i}"}}"#))).collect();
    let eleven: Vec<(&str, &str)> = eleven.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let cases: [Refused; 6] = [
        (
            "a duplicate identity",
            vec![("Participant", r#"{"identity": "a"}"#), ("Participant", r#"{"identity": "a"}"#)],
            StatusCode::CONFLICT,
            50433,
        ),
        (
            "neither identity nor address",
            vec![("Participant", r#"{"attributes": "{}"}"#)],
            StatusCode::BAD_REQUEST,
            20001,
        ),
        (
            "an address without a proxy",
            vec![("Participant", r#"{"messaging_binding": {"address": "+1555"}}"#)],
            StatusCode::BAD_REQUEST,
            20001,
        ),
        ("not JSON", vec![("Participant", "identity=alice")], StatusCode::BAD_REQUEST, 20001),
        (
            "a unique name in use",
            vec![("UniqueName", "taken"), ("Participant", r#"{"identity": "b"}"#)],
            StatusCode::CONFLICT,
            50353,
        ),
        ("more than ten participants", eleven, StatusCode::BAD_REQUEST, 20001),
    ];

    for (case, form, status, code) in cases {
        assert_twilio_error_for(
            case,
            app.send(Method::POST, "/v1/ConversationWithParticipants", &form).await,
            status,
            code,
        )
        .await;
    }

    let conversations = app.get("/v1/Conversations").await;
    assert_eq!(conversations["conversations"].as_array().map(Vec::len), Some(1), "only the first conversation exists");
}
