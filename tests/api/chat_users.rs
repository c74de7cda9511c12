//! Chat v2 Users: the service's Conversations users in Chat's representation, on the same
//! store records, with `joined_channels_count` counted from the channels' members.

use reqwest::{Method, StatusCode};

use crate::helpers::{assert_twilio_error_for, json_ok, sid_of, spawn_app};

const USER_KEYS: [&str; 14] = [
    "sid",
    "account_sid",
    "service_sid",
    "attributes",
    "friendly_name",
    "role_sid",
    "identity",
    "is_online",
    "is_notifiable",
    "date_created",
    "date_updated",
    "joined_channels_count",
    "links",
    "url",
];

#[tokio::test]
async fn chat_users_are_the_conversations_users_of_the_service() {
    let app = spawn_app().await;
    let service = app.default_service().await;
    let users = format!("/v2/Services/{service}/Users");
    let channel = sid_of(&app.post(&format!("/v2/Services/{service}/Channels"), &[]).await);
    app.post(&format!("/v2/Services/{service}/Channels/{channel}/Members"), &[("Identity", "ada")]).await;

    let created = json_ok(
        app.send(Method::POST, &users, &[("Identity", "ada"), ("FriendlyName", "Ada"), ("Attributes", "{\"a\":1}")])
            .await,
    )
    .await;
    let sid = sid_of(&created);
    let by_identity = app.get(&format!("{users}/ada")).await;
    let through_conversations = app.get(&format!("/v1/Services/{service}/Users/{sid}")).await;
    let updated = app.post(&format!("{users}/{sid}"), &[("FriendlyName", "Countess")]).await;
    let listed = app.get(&users).await;

    let keys: Vec<&str> = created.as_object().expect("object").keys().map(String::as_str).collect();
    assert_eq!(keys, USER_KEYS);
    assert_eq!(created["identity"], "ada");
    assert_eq!(created["service_sid"], service.as_str());
    assert_eq!(created["attributes"], "{\"a\":1}");
    assert_eq!(created["is_online"], serde_json::Value::Null);
    assert_eq!(created["joined_channels_count"], 1, "the identity was a member before the user existed");
    assert_eq!(created["url"], format!("{}{users}/{sid}", app.base));
    assert_eq!(created["links"]["user_channels"], format!("{}{users}/{sid}/Channels", app.base));
    assert_eq!(by_identity["sid"], sid.as_str());
    assert_eq!(through_conversations["friendly_name"], "Ada", "the same record through Conversations");
    assert_eq!(updated["friendly_name"], "Countess");
    assert_eq!(listed["users"].as_array().map(Vec::len), Some(1));
    assert_eq!(listed["meta"]["key"], "users");
    assert_eq!(listed["users"][0]["joined_channels_count"], 1);

    let deleted = app.send(Method::DELETE, &format!("{users}/ada"), &[]).await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let gone = app.send(Method::GET, &format!("/v1/Services/{service}/Users/{sid}"), &[]).await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND, "deleted for Conversations too");
}

#[tokio::test]
async fn a_users_channels_are_the_channels_its_identity_is_a_member_of() {
    let app = spawn_app().await;
    let service = app.default_service().await;
    let channels = format!("/v2/Services/{service}/Channels");
    let (first, second, other) = (
        sid_of(&app.post(&channels, &[]).await),
        sid_of(&app.post(&channels, &[]).await),
        sid_of(&app.post(&channels, &[]).await),
    );
    let member = app.post(&format!("{channels}/{first}/Members"), &[("Identity", "ada")]).await;
    app.post(&format!("{channels}/{second}/Members"), &[("Identity", "ada"), ("LastConsumedMessageIndex", "0")]).await;
    app.post(&format!("{channels}/{other}/Members"), &[("Identity", "bob")]).await;
    app.post(&format!("{channels}/{first}/Messages"), &[("Body", "hi")]).await;
    let user = app.post(&format!("/v2/Services/{service}/Users"), &[("Identity", "ada")]).await;

    let listed = app.get(&format!("/v2/Services/{service}/Users/ada/Channels")).await;

    let records = listed["channels"].as_array().expect("channels");
    let sids: Vec<&str> = records.iter().filter_map(|c| c["channel_sid"].as_str()).collect();
    assert_eq!(sids, [first.as_str(), second.as_str()]);
    assert_eq!(records[0]["member_sid"], member["sid"]);
    assert_eq!(records[0]["user_sid"], user["sid"]);
    assert_eq!(records[0]["status"], "joined");
    assert_eq!(records[0]["unread_messages_count"], 1);
    assert_eq!(records[0]["links"]["channel"], format!("{}{channels}/{first}", app.base));
    assert_eq!(listed["meta"]["key"], "channels");
    assert_eq!(user["joined_channels_count"], 2);
}

#[tokio::test]
async fn a_users_channel_is_fetched_updated_and_left_through_its_member() {
    let app = spawn_app().await;
    let service = app.default_service().await;
    let channel = sid_of(&app.post(&format!("/v2/Services/{service}/Channels"), &[("UniqueName", "room")]).await);
    let members = format!("/v2/Services/{service}/Channels/{channel}/Members");
    let member = app.post(&members, &[("Identity", "ada")]).await;
    app.post(&format!("/v2/Services/{service}/Users"), &[("Identity", "ada")]).await;
    let user_channel = format!("/v2/Services/{service}/Users/ada/Channels/room");

    let fetched = app.get(&user_channel).await;
    let updated = app.post(&user_channel, &[("NotificationLevel", "muted"), ("LastConsumedMessageIndex", "3")]).await;
    let as_member = app.get(&format!("{members}/ada")).await;
    let left = app.send(Method::DELETE, &user_channel, &[]).await;

    assert_eq!(fetched["channel_sid"], channel.as_str());
    assert_eq!(fetched["member_sid"], member["sid"]);
    assert_eq!(fetched["notification_level"], "default");
    assert_eq!(updated["notification_level"], "muted");
    assert_eq!(updated["last_consumed_message_index"], 3);
    assert_eq!(as_member["last_consumed_message_index"], 3, "the same participant behind both");
    assert_eq!(left.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.get(&members).await["members"].as_array().map(Vec::len), Some(0));
}

#[tokio::test]
async fn the_chat_user_list_pages_up_to_a_hundred() {
    let app = spawn_app().await;
    let service = app.default_service().await;
    let users = format!("/v2/Services/{service}/Users");
    for identity in ["a", "b", "c"] {
        app.post(&users, &[("Identity", identity)]).await;
    }

    let first = app.get(&format!("{users}?PageSize=2")).await;
    let next = app.get_url(first["meta"]["next_page_url"].as_str().expect("a next page")).await;
    let largest = app.send(Method::GET, &format!("{users}?PageSize=100"), &[]).await;

    assert_eq!(first["users"].as_array().map(Vec::len), Some(2));
    assert_eq!(next["users"][0]["identity"], "c");
    assert_eq!(largest.status(), StatusCode::OK, "Chat allows 100 where Conversations allows 50");
}

/// An invalid request: its name, method, path and form, and the status and code it gets.
type Case<'a> = (&'a str, Method, String, Vec<(&'a str, &'a str)>, StatusCode, u64);

#[tokio::test]
async fn chat_user_errors_carry_chats_codes() {
    let app = spawn_app().await;
    let service = app.default_service().await;
    let users = format!("/v2/Services/{service}/Users");
    app.post(&users, &[("Identity", "dup")]).await;
    let channel = sid_of(&app.post(&format!("/v2/Services/{service}/Channels"), &[]).await);
    let missing_service = "/v2/Services/IS00000000000000000000000000000000/Users";
    let cases: [Case; 13] = [
        ("duplicate identity", Method::POST, users.clone(), vec![("Identity", "dup")], StatusCode::CONFLICT, 50201),
        ("no identity", Method::POST, users.clone(), vec![], StatusCode::BAD_REQUEST, 20001),
        (
            "an identity shaped like a SID",
            Method::POST,
            users.clone(),
            vec![("Identity", "US00000000000000000000000000000000")],
            StatusCode::BAD_REQUEST,
            50206,
        ),
        (
            "malformed role",
            Method::POST,
            users.clone(),
            vec![("Identity", "x"), ("RoleSid", "RL1")],
            StatusCode::BAD_REQUEST,
            20001,
        ),
        ("unknown user", Method::GET, format!("{users}/nobody"), vec![], StatusCode::NOT_FOUND, 50200),
        (
            "update an unknown user",
            Method::POST,
            format!("{users}/nobody"),
            vec![("FriendlyName", "x")],
            StatusCode::NOT_FOUND,
            50200,
        ),
        ("delete an unknown user", Method::DELETE, format!("{users}/nobody"), vec![], StatusCode::NOT_FOUND, 50200),
        (
            "channels of an unknown user",
            Method::GET,
            format!("{users}/nobody/Channels"),
            vec![],
            StatusCode::NOT_FOUND,
            50200,
        ),
        (
            "a channel of an unknown user",
            Method::GET,
            format!("{users}/nobody/Channels/{channel}"),
            vec![],
            StatusCode::NOT_FOUND,
            50200,
        ),
        (
            "an unknown channel of a user",
            Method::GET,
            format!("{users}/dup/Channels/CH00000000000000000000000000000000"),
            vec![],
            StatusCode::NOT_FOUND,
            50300,
        ),
        (
            "a channel the user is not in",
            Method::DELETE,
            format!("{users}/dup/Channels/{channel}"),
            vec![],
            StatusCode::NOT_FOUND,
            50400,
        ),
        (
            "an unknown notification level",
            Method::POST,
            format!("{users}/dup/Channels/{channel}"),
            vec![("NotificationLevel", "loud")],
            StatusCode::BAD_REQUEST,
            20001,
        ),
        ("unknown service", Method::GET, format!("{missing_service}/dup"), vec![], StatusCode::NOT_FOUND, 20404),
    ];

    for (case, method, path, form, status, code) in cases {
        assert_twilio_error_for(case, app.send(method, &path, &form).await, status, code).await;
    }
}
