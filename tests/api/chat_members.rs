//! Chat v2 Members: a channel's participants with an identity, in Chat's representation,
//! on the same store as Conversations participants.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{assert_twilio_error_for, json_ok, sid_of, spawn_app};

const MEMBER_KEYS: [&str; 12] = [
    "sid",
    "account_sid",
    "channel_sid",
    "service_sid",
    "identity",
    "date_created",
    "date_updated",
    "role_sid",
    "last_consumed_message_index",
    "last_consumption_timestamp",
    "url",
    "attributes",
];

#[tokio::test]
async fn members_are_the_identified_participants_of_the_conversation_behind_the_channel() {
    let app = spawn_app().await;
    let service = app.default_service().await;
    let conversation = app.conversation(&crate::helpers::Form::Default).await;
    let participants = format!("/v1/Conversations/{conversation}/Participants");
    let members = format!("/v2/Services/{service}/Channels/{conversation}/Members");
    app.post(
        &participants,
        &[("MessagingBinding.Address", "+15550001111"), ("MessagingBinding.ProxyAddress", "+15550002222")],
    )
    .await;

    let created = json_ok(
        app.send(
            Method::POST,
            &members,
            &[("Identity", "ada"), ("Attributes", "{\"a\":1}"), ("LastConsumedMessageIndex", "4")],
        )
        .await,
    )
    .await;
    let listed = app.get(&members).await;
    let as_participant = app.get(&format!("{participants}/{}", sid_of(&created))).await;
    let by_identity = app.get(&format!("{members}/ada")).await;
    let updated = app.post(&format!("{members}/{}", sid_of(&created)), &[("LastConsumedMessageIndex", "7")]).await;
    let channel = app.get(&format!("/v2/Services/{service}/Channels/{conversation}")).await;

    let keys: Vec<&str> = created.as_object().expect("object").keys().map(String::as_str).collect();
    assert_eq!(keys, MEMBER_KEYS);
    assert_eq!(created["identity"], "ada");
    assert_eq!(created["channel_sid"], conversation.as_str());
    assert_eq!(created["service_sid"], service.as_str());
    assert_eq!(created["last_consumed_message_index"], 4);
    assert_eq!(created["url"], format!("{}{members}/{}", app.base, sid_of(&created)));
    assert_eq!(listed["members"].as_array().map(Vec::len), Some(1), "the SMS participant is not a member");
    assert_eq!(listed["meta"]["key"], "members");
    assert_eq!(as_participant["identity"], "ada", "the same record through Conversations");
    assert_eq!(by_identity["sid"], created["sid"]);
    assert_eq!(updated["last_consumed_message_index"], 7);
    assert_eq!(as_participant["last_read_message_index"], 4);
    assert_eq!(channel["members_count"], 1);

    let deleted = app.send(Method::DELETE, &format!("{members}/ada"), &[]).await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.get(&participants).await["participants"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn the_member_list_filters_by_identity_and_pages() {
    let app = spawn_app().await;
    let service = app.default_service().await;
    let conversation = app.conversation(&crate::helpers::Form::Default).await;
    let members = format!("/v2/Services/{service}/Channels/{conversation}/Members");
    for identity in ["a", "b", "c"] {
        app.post(&members, &[("Identity", identity)]).await;
    }

    let filtered = app.get(&format!("{members}?Identity=a&Identity=c")).await;
    let first = app.get(&format!("{members}?PageSize=2")).await;
    let next: Value = app.get_url(first["meta"]["next_page_url"].as_str().expect("a next page")).await;

    let identities = |page: &Value| -> Vec<String> {
        page["members"]
            .as_array()
            .expect("members")
            .iter()
            .map(|m| m["identity"].as_str().unwrap_or("").to_owned())
            .collect()
    };
    assert_eq!(identities(&filtered), ["a", "c"]);
    assert_eq!(identities(&first), ["a", "b"]);
    assert_eq!(identities(&next), ["c"]);
}

/// An invalid request: its name, method, path and form, and the status and code it gets.
type Case<'a> = (&'a str, Method, String, Vec<(&'a str, &'a str)>, StatusCode, u64);

#[tokio::test]
async fn member_errors_carry_chats_codes() {
    let app = spawn_app().await;
    let service = app.default_service().await;
    let conversation = app.conversation(&crate::helpers::Form::Default).await;
    let members = format!("/v2/Services/{service}/Channels/{conversation}/Members");
    app.post(&members, &[("Identity", "dup")]).await;
    let sms = app
        .post(
            &format!("/v1/Conversations/{conversation}/Participants"),
            &[("MessagingBinding.Address", "+15550003333"), ("MessagingBinding.ProxyAddress", "+15550004444")],
        )
        .await;
    let missing_service = "IS00000000000000000000000000000000";
    let cases: [Case; 6] = [
        ("duplicate identity", Method::POST, members.clone(), vec![("Identity", "dup")], StatusCode::CONFLICT, 50404),
        ("no identity", Method::POST, members.clone(), vec![], StatusCode::BAD_REQUEST, 20001),
        ("unknown member", Method::GET, format!("{members}/nobody"), vec![], StatusCode::NOT_FOUND, 50402),
        (
            "an SMS participant",
            Method::GET,
            format!("{members}/{}", sid_of(&sms)),
            vec![],
            StatusCode::NOT_FOUND,
            50402,
        ),
        (
            "unknown channel",
            Method::GET,
            format!("/v2/Services/{service}/Channels/CH00000000000000000000000000000000/Members"),
            vec![],
            StatusCode::NOT_FOUND,
            50300,
        ),
        (
            "unknown service",
            Method::GET,
            format!("/v2/Services/{missing_service}/Channels/{conversation}/Members/dup"),
            vec![],
            StatusCode::NOT_FOUND,
            20404,
        ),
    ];

    for (case, method, path, form, status, code) in cases {
        assert_twilio_error_for(case, app.send(method, &path, &form).await, status, code).await;
    }
}
