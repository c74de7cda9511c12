//! Chat v2 Roles: the service's Conversations roles in Chat's representation (`channel`
//! and `deployment` types, `Channel` and `Member` in permission names), on the same records.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{assert_twilio_error_for, json_ok, sid_of, spawn_app};

const ROLE_KEYS: [&str; 9] = [
    "sid",
    "account_sid",
    "service_sid",
    "friendly_name",
    "type",
    "permissions",
    "date_created",
    "date_updated",
    "url",
];

fn permissions(role: &Value) -> Vec<&str> {
    role["permissions"].as_array().expect("permissions").iter().filter_map(Value::as_str).collect()
}

#[tokio::test]
async fn chat_roles_are_the_conversations_roles_in_chats_names() {
    let app = spawn_app().await;
    let service = app.default_service().await;
    let roles = format!("/v2/Services/{service}/Roles");

    let defaults = app.get(&roles).await;
    let created = json_ok(
        app.send(
            Method::POST,
            &roles,
            &[
                ("FriendlyName", "mods"),
                ("Type", "channel"),
                ("Permission", "removeMember"),
                ("Permission", "sendMessage"),
            ],
        )
        .await,
    )
    .await;
    let sid = sid_of(&created);
    let through_conversations = app.get(&format!("/v1/Services/{service}/Roles/{sid}")).await;
    let updated = app.post(&format!("{roles}/{sid}"), &[("Permission", "destroyChannel")]).await;
    let fetched = app.get(&format!("{roles}/{sid}")).await;

    let kinds: Vec<&str> =
        defaults["roles"].as_array().expect("roles").iter().filter_map(|r| r["type"].as_str()).collect();
    assert_eq!(kinds, ["deployment", "deployment", "channel"], "the three defaults, in Chat's types");
    assert!(permissions(&defaults["roles"][0]).contains(&"destroyChannel"));
    assert!(permissions(&defaults["roles"][2]).contains(&"leaveChannel"));
    assert_eq!(defaults["meta"]["key"], "roles");
    let keys: Vec<&str> = created.as_object().expect("object").keys().map(String::as_str).collect();
    assert_eq!(keys, ROLE_KEYS);
    assert_eq!(created["type"], "channel");
    assert_eq!(created["service_sid"], service.as_str());
    assert_eq!(created["url"], format!("{}{roles}/{sid}", app.base));
    assert_eq!(permissions(&created), ["removeMember", "sendMessage"]);
    assert_eq!(through_conversations["type"], "conversation", "the same record through Conversations");
    assert_eq!(permissions(&through_conversations), ["removeParticipant", "sendMessage"]);
    assert_eq!(permissions(&updated), ["destroyChannel"]);
    assert_eq!(permissions(&fetched), ["destroyChannel"]);

    let deleted = app.send(Method::DELETE, &format!("{roles}/{sid}"), &[]).await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.get(&roles).await["roles"].as_array().map(Vec::len), Some(3));
}

/// An invalid request: its name, method, path and form, and the status and code it gets.
type Case<'a> = (&'a str, Method, String, Vec<(&'a str, &'a str)>, StatusCode, u64);

#[tokio::test]
async fn chat_role_errors_carry_chats_codes() {
    let app = spawn_app().await;
    let service = app.default_service().await;
    let roles = format!("/v2/Services/{service}/Roles");
    let default_role = sid_of(&app.get(&roles).await["roles"][0]);
    let unknown = format!("{roles}/RL00000000000000000000000000000000");
    let cases: [Case; 8] = [
        (
            "conversations' type",
            Method::POST,
            roles.clone(),
            vec![("FriendlyName", "r"), ("Type", "service"), ("Permission", "sendMessage")],
            StatusCode::BAD_REQUEST,
            50105,
        ),
        (
            "no type",
            Method::POST,
            roles.clone(),
            vec![("FriendlyName", "r"), ("Permission", "sendMessage")],
            StatusCode::BAD_REQUEST,
            20001,
        ),
        (
            "no permission",
            Method::POST,
            roles.clone(),
            vec![("FriendlyName", "r"), ("Type", "channel")],
            StatusCode::BAD_REQUEST,
            20001,
        ),
        (
            "no friendly name",
            Method::POST,
            roles.clone(),
            vec![("Type", "channel"), ("Permission", "sendMessage")],
            StatusCode::BAD_REQUEST,
            20001,
        ),
        ("unknown role", Method::GET, unknown.clone(), vec![], StatusCode::NOT_FOUND, 50100),
        ("malformed role SID", Method::GET, format!("{roles}/nope"), vec![], StatusCode::NOT_FOUND, 50100),
        ("a default role", Method::DELETE, format!("{roles}/{default_role}"), vec![], StatusCode::BAD_REQUEST, 20001),
        (
            "unknown service",
            Method::GET,
            "/v2/Services/IS00000000000000000000000000000000/Roles/nope".to_owned(),
            vec![],
            StatusCode::NOT_FOUND,
            20404,
        ),
    ];

    for (case, method, path, form, status, code) in cases {
        assert_twilio_error_for(case, app.send(method, &path, &form).await, status, code).await;
    }
}
