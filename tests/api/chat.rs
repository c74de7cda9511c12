//! Programmable Chat v2 on the same store: channels are conversations, chat messages are
//! conversation messages, each shown in its own API's representation.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{Form, OTHER_ACCOUNT, assert_twilio_error, assert_twilio_error_for, json_ok, sid_of, spawn_app};

/// A Chat service's channel list, `/v2/Services/{IS}/Channels`.
fn channels(service: &str) -> String {
    format!("/v2/Services/{service}/Channels")
}

/// A channel's message list in Chat.
fn messages(service: &str, channel: &str) -> String {
    format!("/v2/Services/{service}/Channels/{channel}/Messages")
}

/// An object's keys, in order.
fn keys(value: &Value) -> Vec<String> {
    value.as_object().expect("object").keys().cloned().collect()
}

const MESSAGE_KEYS: [&str; 16] = [
    "sid",
    "account_sid",
    "service_sid",
    "to",
    "channel_sid",
    "attributes",
    "date_created",
    "date_updated",
    "last_updated_by",
    "was_edited",
    "from",
    "body",
    "index",
    "type",
    "media",
    "url",
];

#[tokio::test]
async fn channels_support_every_operation_by_sid_and_unique_name() {
    let app = spawn_app().await;
    let service = app.default_service().await;
    // Create
    let response = app
        .send(
            Method::POST,
            &channels(&service),
            &[("UniqueName", "general"), ("FriendlyName", "General"), ("CreatedBy", "ops")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let channel = json_ok(response).await;
    let sid = sid_of(&channel);
    assert_eq!(
        keys(&channel),
        [
            "sid",
            "account_sid",
            "service_sid",
            "friendly_name",
            "unique_name",
            "attributes",
            "type",
            "date_created",
            "date_updated",
            "created_by",
            "members_count",
            "messages_count",
            "url",
            "links"
        ]
    );
    assert_eq!(
        (&channel["type"], &channel["created_by"], &channel["messages_count"]),
        (&"public".into(), &"ops".into(), &0.into())
    );
    assert_eq!(channel["url"], format!("{}{}/{sid}", app.base, channels(&service)));
    // Fetch, by SID and unique name
    assert_eq!(app.get(&format!("{}/{sid}", channels(&service))).await, channel);
    assert_eq!(app.get(&format!("{}/general", channels(&service))).await, channel);
    // Update (the type cannot change)
    let updated =
        app.post(&format!("{}/general", channels(&service)), &[("FriendlyName", "Renamed"), ("Type", "private")]).await;
    assert_eq!((&updated["friendly_name"], &updated["type"]), (&"Renamed".into(), &"public".into()));
    // List, with the Type filter
    let listed = app.get(&channels(&service)).await;
    assert_eq!((listed["channels"].as_array().map(Vec::len), &listed["meta"]["key"]), (Some(1), &"channels".into()));
    assert_eq!(app.get(&format!("{}?Type=private", channels(&service))).await["channels"], serde_json::json!([]));
    // Delete
    let deleted = app.send(Method::DELETE, &format!("{}/general", channels(&service)), &[]).await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let gone = app.send(Method::GET, &format!("{}/{sid}", channels(&service)), &[]).await;
    assert_twilio_error(gone, StatusCode::NOT_FOUND, 50300).await;
}

#[tokio::test]
async fn chat_messages_support_every_operation_in_chats_representation() {
    let app = spawn_app().await;
    let service = app.default_service().await;
    let channel = sid_of(&app.post(&channels(&service), &[("UniqueName", "room")]).await);
    for path in [messages(&service, &channel), messages(&service, "room")] {
        // Create: a missing Body is stored as an empty string.
        let response = app.send(Method::POST, &path, &[("From", "bob"), ("Attributes", "{\"x\":1}")]).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let created = json_ok(response).await;
        assert_eq!(keys(&created), MESSAGE_KEYS);
        assert_eq!(
            (&created["from"], &created["body"], &created["attributes"]),
            (&"bob".into(), &"".into(), &"{\"x\":1}".into())
        );
        assert_eq!((&created["to"], &created["channel_sid"]), (&channel.as_str().into(), &channel.as_str().into()));
        assert_eq!(
            (&created["was_edited"], &created["last_updated_by"], &created["type"]),
            (&false.into(), &Value::Null, &"text".into())
        );
        let item = format!("{path}/{}", sid_of(&created));
        assert_eq!(created["url"], format!("{}{}/{}", app.base, messages(&service, &channel), sid_of(&created)));
        // Fetch
        assert_eq!(app.get(&item).await, created);
        // Update
        let updated = app.post(&item, &[("Body", "edited"), ("LastUpdatedBy", "carol")]).await;
        assert_eq!(
            (&updated["body"], &updated["was_edited"], &updated["last_updated_by"]),
            (&"edited".into(), &true.into(), &"carol".into())
        );
        assert_eq!(updated["index"], created["index"]);
        // Delete
        assert_eq!(app.send(Method::DELETE, &item, &[]).await.status(), StatusCode::NO_CONTENT);
        assert_twilio_error(app.send(Method::GET, &item, &[]).await, StatusCode::NOT_FOUND, 20404).await;
    }
    // List, both orders, paged
    for body in ["a", "b", "c"] {
        app.post(&messages(&service, &channel), &[("Body", body)]).await;
    }
    let desc = app.get(&format!("{}?Order=desc&PageSize=2", messages(&service, "room"))).await;
    let bodies: Vec<&str> =
        desc["messages"].as_array().expect("messages").iter().filter_map(|m| m["body"].as_str()).collect();
    assert_eq!(bodies, ["c", "b"]);
    let next = app.get_url(desc["meta"]["next_page_url"].as_str().expect("next page")).await;
    assert_eq!(next["messages"][0]["body"], "a");
    assert!(desc["meta"]["next_page_url"].as_str().expect("next").starts_with(&format!(
        "{}{}?Order=desc&PageSize=2&Page=1&PageToken=",
        app.base,
        messages(&service, &channel)
    )));
}

#[tokio::test]
async fn messages_are_visible_across_apis_with_one_index_sequence() {
    let app = spawn_app().await;
    let service = app.default_service().await;
    for form in [Form::Default, Form::Service(service.clone())] {
        let conversation = app.post(&form.conversations(), &[("UniqueName", "shared")]).await;
        let channel = sid_of(&conversation);
        let from_conversations = app.post(&form.messages(&channel), &[("Author", "alice"), ("Body", "one")]).await;
        let from_chat = app.post(&messages(&service, &channel), &[("From", "bob"), ("Body", "two")]).await;
        assert_eq!((&from_conversations["index"], &from_chat["index"]), (&0.into(), &1.into()), "{}", form.name());

        let in_chat = app.get(&messages(&service, "shared")).await;
        assert_eq!(in_chat["messages"][0]["from"], "alice");
        assert_eq!(in_chat["messages"][0]["sid"], from_conversations["sid"]);
        let in_conversations = app.get(&form.messages("shared")).await;
        assert_eq!(in_conversations["messages"][1]["author"], "bob");
        assert_eq!(in_conversations["messages"][1]["sid"], from_chat["sid"]);

        let as_channel = app.get(&format!("{}/{channel}", channels(&service))).await;
        assert_eq!(
            (&as_channel["type"], &as_channel["messages_count"]),
            (&"private".into(), &2.into()),
            "conversations are private channels"
        );
        let updated_in_chat = app
            .post(&format!("{}/{}", messages(&service, &channel), sid_of(&from_conversations)), &[("Body", "uno")])
            .await;
        assert_eq!(updated_in_chat["body"], "uno");
        let seen_in_conversations =
            app.get(&format!("{}/{}", form.messages(&channel), sid_of(&from_conversations))).await;
        assert_eq!(seen_in_conversations["body"], "uno");
        app.send(Method::DELETE, &format!("{}/{channel}", form.conversations()), &[]).await;
    }
}

#[tokio::test]
async fn chat_errors_use_chats_codes() {
    let app = spawn_app().await;
    let service = app.default_service().await;
    let channel = sid_of(&app.post(&channels(&service), &[("UniqueName", "taken")]).await);
    let unknown_channel = "CH00000000000000000000000000000000";
    let (not_found, bad, conflict) = (StatusCode::NOT_FOUND, StatusCode::BAD_REQUEST, StatusCode::CONFLICT);
    let (get, post) = (Method::GET, Method::POST);
    let (list, posts) = (channels(&service), messages(&service, &channel));
    let unknown = format!("{list}/{unknown_channel}");
    let unknown_posts = messages(&service, unknown_channel);
    let unknown_name = messages(&service, "no-such-name");
    let unknown_message = format!("{posts}/IM00000000000000000000000000000000");
    let (unknown_service, malformed_service) =
        (channels("IS00000000000000000000000000000000"), channels("ISnot-a-sid"));
    let zero_page = format!("{posts}?PageSize=0");
    let long = "x".repeat(257);
    type Params<'a> = &'a [(&'a str, &'a str)];
    let cases: [(&str, &Method, &str, Params, StatusCode, u64); 13] = [
        ("fetch an unknown channel", &get, &unknown, &[], not_found, 50300),
        ("list an unknown channel's messages", &get, &unknown_posts, &[], not_found, 50300),
        ("post to an unknown unique name", &post, &unknown_name, &[("Body", "x")], not_found, 50300),
        ("fetch an unknown message", &get, &unknown_message, &[], not_found, 20404),
        ("list an unknown service's channels", &get, &unknown_service, &[], not_found, 20404),
        ("list a malformed service SID's channels", &get, &malformed_service, &[], not_found, 20404),
        ("a duplicate unique name", &post, &list, &[("UniqueName", "taken")], conflict, 50307),
        ("a unique name shaped like a SID", &post, &list, &[("UniqueName", &channel)], bad, 50306),
        ("an unknown channel type", &post, &list, &[("Type", "secret")], bad, 20001),
        ("a LastUpdatedBy over 256 characters", &post, &posts, &[("LastUpdatedBy", &long)], bad, 50505),
        ("a From over 256 characters", &post, &posts, &[("From", &long)], bad, 50310),
        ("attributes that are not JSON", &post, &posts, &[("Attributes", "{")], bad, 50304),
        ("a page size of zero", &get, &zero_page, &[], bad, 20001),
    ];
    for (case, method, path, params, status, code) in cases {
        assert_twilio_error_for(case, app.send(method.clone(), path, params).await, status, code).await;
    }
    assert_eq!(app.get(&messages(&service, &channel)).await["messages"], serde_json::json!([]), "nothing stored");
    let message = assert_twilio_error(
        app.send(Method::GET, &channels("IS00000000000000000000000000000000"), &[]).await,
        StatusCode::NOT_FOUND,
        20404,
    )
    .await;
    assert_eq!(message, "The requested resource /Services/IS00000000000000000000000000000000/Channels was not found");
}

#[tokio::test]
async fn chat_respects_tenant_isolation() {
    let app = spawn_app().await;
    let service = app.default_service().await;
    let channel = sid_of(&app.post(&channels(&service), &[]).await);
    let theirs = app.send_as(OTHER_ACCOUNT, Method::GET, &messages(&service, &channel), &[]).await;
    assert_twilio_error(theirs, StatusCode::NOT_FOUND, 20404).await;
}
