//! Users on both URL forms (`/v1/Users` and `/v1/Services/{IS}/Users`): every operation,
//! by SID and by identity, their refusals, paging, and the user webhooks.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Form, TestApp, assert_twilio_error_for, json_ok, sid_of, spawn_app};
use crate::receiver::{Receiver, Reply};

/// The user list on `form`.
fn users(form: &Form) -> String {
    match form {
        Form::Default => "/v1/Users".to_owned(),
        Form::Service(sid) => format!("/v1/Services/{sid}/Users"),
    }
}

/// The keys of Twilio's user object, in the spec's order.
const USER_KEYS: [&str; 13] = [
    "sid",
    "account_sid",
    "chat_service_sid",
    "role_sid",
    "identity",
    "friendly_name",
    "attributes",
    "is_online",
    "is_notifiable",
    "date_created",
    "date_updated",
    "url",
    "links",
];

#[tokio::test]
async fn users_support_every_operation_by_sid_and_identity_on_both_forms() {
    let app = spawn_app().await;
    for form in app.forms().await {
        let case = form.name();
        let response = app
            .send(
                Method::POST,
                &users(&form),
                &[("Identity", "alice@example.com"), ("FriendlyName", "Alice"), ("Attributes", "{\"a\":1}")],
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED, "{case}");
        let alice = json_ok(response).await;
        let keys: Vec<&str> = alice.as_object().expect("object").keys().map(String::as_str).collect();
        assert_eq!(keys, USER_KEYS, "{case}");
        let sid = sid_of(&alice);
        let url = format!("{}{}/{sid}", app.base, users(&form));
        assert!(sid.starts_with("US"), "{case}");
        assert_eq!(alice["url"], url.as_str(), "{case}");
        assert_eq!(alice["links"], json!({ "user_conversations": format!("{url}/Conversations") }), "{case}");
        assert_eq!((&alice["is_online"], &alice["is_notifiable"]), (&Value::Null, &Value::Null), "{case}");
        assert_eq!(
            (&alice["identity"], &alice["friendly_name"], &alice["attributes"]),
            (&json!("alice@example.com"), &json!("Alice"), &json!("{\"a\":1}")),
            "{case}"
        );
        let service = match &form {
            Form::Default => app.default_service().await,
            Form::Service(sid) => sid.clone(),
        };
        assert_eq!(alice["chat_service_sid"], service.as_str(), "{case}: shown on both forms");
        let bob = app.post(&users(&form), &[("Identity", "bob")]).await;
        assert_eq!(bob["role_sid"], alice["role_sid"], "{case}: one default user role per service");
        assert_eq!((&bob["attributes"], &bob["friendly_name"]), (&json!("{}"), &Value::Null), "{case}");

        let by_sid = app.get(&format!("{}/{sid}", users(&form))).await;
        let by_identity = app.get(&format!("{}/alice@example.com", users(&form))).await;
        assert_eq!(by_sid, alice, "{case}");
        assert_eq!(by_identity, alice, "{case}");

        let page = app.get(&users(&form)).await;
        assert_eq!(page["meta"]["key"], "users", "{case}");
        let listed: Vec<&Value> = page["users"].as_array().expect("users").iter().collect();
        assert_eq!(listed, [&alice, &bob], "{case}: oldest first");

        // A service role of the user's service: a RoleSid must name one.
        let roles = users(&form).replace("/Users", "/Roles");
        let made =
            app.post(&roles, &[("FriendlyName", "agent"), ("Type", "service"), ("Permission", "joinConversation")]);
        let role = sid_of(&made.await);
        let role = role.as_str();
        let updated =
            app.post(&format!("{}/{sid}", users(&form)), &[("FriendlyName", "Alice A."), ("RoleSid", role)]).await;
        assert_eq!((&updated["friendly_name"], &updated["role_sid"]), (&json!("Alice A."), &json!(role)), "{case}");
        assert_eq!(updated["attributes"], "{\"a\":1}", "{case}: what the update leaves out stays");

        let deleted = app.send(Method::DELETE, &format!("{}/alice@example.com", users(&form)), &[]).await;
        assert_eq!(deleted.status(), StatusCode::NO_CONTENT, "{case}");
        let gone = app.send(Method::GET, &format!("{}/{sid}", users(&form)), &[]).await;
        assert_twilio_error_for(case, gone, StatusCode::NOT_FOUND, 20404).await;
    }
}

/// One refused request: its case, method, path, form, and Twilio's status and code.
type BadRequest<'a> = (&'a str, Method, String, Vec<(&'a str, &'a str)>, StatusCode, u64);

#[tokio::test]
async fn bad_user_requests_get_twilio_errors_on_both_forms() {
    let app = spawn_app().await;
    for form in app.forms().await {
        let existing = app.post(&users(&form), &[("Identity", "taken")]).await;
        let one = format!("{}/{}", users(&form), sid_of(&existing));
        let long = "x".repeat(257);
        let cases: [BadRequest; 9] = [
            ("no identity", Method::POST, users(&form), vec![("FriendlyName", "x")], StatusCode::BAD_REQUEST, 20001),
            ("empty identity", Method::POST, users(&form), vec![("Identity", "")], StatusCode::BAD_REQUEST, 20001),
            ("long identity", Method::POST, users(&form), vec![("Identity", &long)], StatusCode::BAD_REQUEST, 20001),
            (
                "duplicate identity",
                Method::POST,
                users(&form),
                vec![("Identity", "taken")],
                StatusCode::CONFLICT,
                50201,
            ),
            (
                "attributes not JSON",
                Method::POST,
                users(&form),
                vec![("Identity", "new"), ("Attributes", "{")],
                StatusCode::BAD_REQUEST,
                50304,
            ),
            ("malformed role", Method::POST, one.clone(), vec![("RoleSid", "RLnope")], StatusCode::BAD_REQUEST, 20001),
            ("identity update", Method::POST, one.clone(), vec![("Identity", "other")], StatusCode::BAD_REQUEST, 20001),
            (
                "unknown user",
                Method::DELETE,
                format!("{}/US00000000000000000000000000000000", users(&form)),
                vec![],
                StatusCode::NOT_FOUND,
                20404,
            ),
            (
                "unknown service",
                Method::GET,
                "/v1/Services/IS00000000000000000000000000000000/Users".to_owned(),
                vec![],
                StatusCode::NOT_FOUND,
                20404,
            ),
        ];
        for (case, method, path, body, status, code) in cases {
            let response = app.send(method, &path, &body).await;
            assert_twilio_error_for(&format!("{}: {case}", form.name()), response, status, code).await;
        }
    }
}

#[tokio::test]
async fn users_page_oldest_first_and_go_with_their_service() {
    let app = spawn_app().await;
    for form in app.forms().await {
        for identity in ["u1", "u2", "u3"] {
            app.post(&users(&form), &[("Identity", identity)]).await;
        }

        let walked = app.walk(&format!("{}?PageSize=2", users(&form)), "users", async || {}).await;

        let identities: Vec<&str> = walked.iter().filter_map(|user| user["identity"].as_str()).collect();
        assert_eq!(identities, ["u1", "u2", "u3"], "{}", form.name());
        let first = app.get(&format!("{}?PageSize=2", users(&form))).await;
        let next = first["meta"]["next_page_url"].as_str().expect("a next page");
        assert!(next.starts_with(&format!("{}{}?", app.base, users(&form))), "{next}");
        if let Form::Service(service) = &form {
            let deleted = app.send(Method::DELETE, &format!("/v1/Services/{service}"), &[]).await;
            assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
            let gone = app.send(Method::GET, &users(&form), &[]).await;
            assert_twilio_error_for("users of a deleted service", gone, StatusCode::NOT_FOUND, 20404).await;
        }
    }
}

/// Sends a form with `X-Twilio-Webhook-Enabled: true`.
async fn send_enabled(app: &TestApp, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
    app.client
        .post(format!("{}{path}", app.base))
        .basic_auth(app.account, Some("token"))
        .header("X-Twilio-Webhook-Enabled", "true")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(form).expect("encode"))
        .send()
        .await
        .expect("request reaches the server")
}

#[tokio::test]
async fn user_writes_fire_on_user_added_and_updated_with_the_pre_event_on_both_forms() {
    let app = spawn_app().await;
    let mut receiver = Receiver::spawn().await;
    let form = [
        ("PreWebhookUrl", receiver.url("/pre")),
        ("PostWebhookUrl", receiver.url("/post")),
        ("Method", "POST".to_owned()),
        ("Filters", "onUserAdded".to_owned()),
        ("Filters", "onUserUpdate".to_owned()),
        ("Filters", "onUserUpdated".to_owned()),
    ];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    app.post("/v1/Configuration/Webhooks", &form).await;

    for form in app.forms().await {
        let case = form.name();
        app.post(&users(&form), &[("Identity", "quiet")]).await;
        let user =
            json_ok(send_enabled(&app, &users(&form), &[("Identity", "carol"), ("FriendlyName", "C")]).await).await;

        let added = receiver.next().await;
        assert_eq!(added.event_type(), "onUserAdded", "{case}: a plain REST write fires nothing");
        assert!(added.target.starts_with("/post"), "{case}");
        for (name, value) in [
            ("UserSid", user["sid"].clone()),
            ("ChatServiceSid", user["chat_service_sid"].clone()),
            ("Identity", json!("carol")),
            ("FriendlyName", json!("C")),
            ("RoleSid", user["role_sid"].clone()),
            ("Attributes", json!("{}")),
            ("Source", json!("API")),
        ] {
            assert_eq!(added.param(name).as_deref(), value.as_str(), "{case}: {name}");
        }
        assert!(added.param("DateCreated").is_some_and(|date| date.ends_with(".000Z")), "{case}");
        assert_eq!((added.param("isOnline"), added.param("isNotifiable")), (None, None), "{case}: null is left out");

        receiver.reply(Reply::Answer(200, r#"{"friendly_name":"named by the app"}"#));
        let path = format!("{}/{}", users(&form), sid_of(&user));
        let updated = json_ok(send_enabled(&app, &path, &[("Attributes", "{\"b\":2}")]).await).await;
        receiver.reply(Reply::Answer(200, ""));

        let pre = receiver.next().await;
        assert_eq!(pre.event_type(), "onUserUpdate", "{case}");
        assert!(pre.target.starts_with("/pre"), "{case}");
        assert_eq!(pre.param("Attributes").as_deref(), Some("{\"b\":2}"), "{case}: the value the update brings");
        assert!(pre.param("DateUpdated").is_some() && pre.param("UserSid").is_some(), "{case}");
        assert_eq!(updated["friendly_name"], "named by the app", "{case}: the pre-event's answer modifies");
        let post = receiver.next().await;
        assert_eq!(post.event_type(), "onUserUpdated", "{case}");
        assert_eq!(post.param("FriendlyName").as_deref(), Some("named by the app"), "{case}");
        assert!(post.param("DateUpdated").is_some(), "{case}");
        assert_eq!((post.param("isOnline"), post.param("isNotifiable")), (None, None), "{case}");

        receiver.reply(Reply::Answer(403, ""));
        let refused = send_enabled(&app, &path, &[("FriendlyName", "no")]).await;
        receiver.reply(Reply::Answer(200, ""));
        assert_twilio_error_for(case, refused, StatusCode::FORBIDDEN, 50056).await;
        assert_eq!(receiver.next().await.event_type(), "onUserUpdate", "{case}");
        assert_eq!(app.get(&path).await["friendly_name"], "named by the app", "{case}: refused, so unchanged");
    }
}

/// The keys of Twilio's user conversation object, in the spec's order.
const USER_CONVERSATION_KEYS: [&str; 18] = [
    "account_sid",
    "chat_service_sid",
    "conversation_sid",
    "unread_messages_count",
    "last_read_message_index",
    "participant_sid",
    "user_sid",
    "friendly_name",
    "conversation_state",
    "timers",
    "attributes",
    "date_created",
    "date_updated",
    "created_by",
    "notification_level",
    "unique_name",
    "url",
    "links",
];

#[tokio::test]
async fn user_conversations_follow_the_users_participants_and_their_read_state_on_both_forms() {
    let app = spawn_app().await;
    for form in app.forms().await {
        let case = form.name();
        let user = app.post(&users(&form), &[("Identity", "dana")]).await;
        let named = app.post(&form.conversations(), &[("UniqueName", "dana-room"), ("FriendlyName", "Room")]).await;
        let (first, second, other) = (sid_of(&named), app.conversation(&form).await, app.conversation(&form).await);
        for conversation in [&first, &second] {
            app.post(&format!("{}/{conversation}/Participants", form.conversations()), &[("Identity", "dana")]).await;
        }
        app.post(&format!("{}/{other}/Participants", form.conversations()), &[("Identity", "someone else")]).await;
        for body in ["one", "two", "three"] {
            app.message(&form, &first, body).await;
        }
        let mine = format!("{}/{}/Conversations", users(&form), sid_of(&user));

        let page = app.get(&mine).await;

        assert_eq!(page["meta"]["key"], "conversations", "{case}");
        let listed = page["conversations"].as_array().expect("conversations");
        let sids: Vec<&str> = listed.iter().filter_map(|c| c["conversation_sid"].as_str()).collect();
        assert_eq!(sids, [first.as_str(), second.as_str()], "{case}: only the user's, oldest first");
        let walked = app.walk(&format!("{mine}?PageSize=1"), "conversations", async || {}).await;
        assert_eq!(&walked, listed, "{case}: one per page, the same records");
        let keys: Vec<&str> = listed[0].as_object().expect("object").keys().map(String::as_str).collect();
        assert_eq!(keys, USER_CONVERSATION_KEYS, "{case}");
        assert_eq!(
            (&listed[0]["unread_messages_count"], &listed[1]["unread_messages_count"]),
            (&json!(3), &json!(0)),
            "{case}: nothing read yet, so every message is unread"
        );
        let seen = &listed[0];
        assert_eq!(
            (&seen["notification_level"], &seen["last_read_message_index"], &seen["user_sid"]),
            (&json!("default"), &Value::Null, &user["sid"]),
            "{case}"
        );
        assert_eq!((&seen["friendly_name"], &seen["unique_name"]), (&json!("Room"), &json!("dana-room")), "{case}");
        assert_eq!(seen["url"], format!("{}{mine}/{first}", app.base), "{case}");
        let conversation_url = format!("{}{}/{first}", app.base, form.conversations());
        let participant = seen["participant_sid"].as_str().expect("participant_sid");
        assert_eq!(
            seen["links"],
            json!({ "participant": format!("{conversation_url}/Participants/{participant}"), "conversation": conversation_url }),
            "{case}"
        );

        let by_names = app.get(&format!("{}/dana/Conversations/dana-room", users(&form))).await;
        assert_eq!(&by_names, seen, "{case}: the user by identity, the conversation by unique name");
        let updated = app
            .post(
                &format!("{mine}/{first}"),
                &[
                    ("NotificationLevel", "muted"),
                    ("LastReadMessageIndex", "1"),
                    ("LastReadTimestamp", "2024-01-02T03:04:05Z"),
                ],
            )
            .await;
        assert_eq!(
            (&updated["notification_level"], &updated["last_read_message_index"], &updated["unread_messages_count"]),
            (&json!("muted"), &json!(1), &json!(1)),
            "{case}"
        );
        let stored = app.get(&format!("{}/{first}/Participants/{participant}", form.conversations())).await;
        assert_eq!(
            (&stored["last_read_message_index"], &stored["last_read_timestamp"]),
            (&json!(1), &json!("2024-01-02T03:04:05Z")),
            "{case}: the read state is the participant's"
        );
        let read_more = app
            .post(&format!("{}/{first}/Participants/dana", form.conversations()), &[("LastReadMessageIndex", "2")])
            .await;
        assert_eq!(read_more["last_read_message_index"], 2, "{case}");
        assert_eq!(app.get(&format!("{mine}/{first}")).await["unread_messages_count"], 0, "{case}");

        for (bad, path, body, status, code) in [
            (
                "bad level",
                format!("{mine}/{first}"),
                vec![("NotificationLevel", "loud")],
                StatusCode::BAD_REQUEST,
                20001,
            ),
            (
                "bad index",
                format!("{mine}/{first}"),
                vec![("LastReadMessageIndex", "-1")],
                StatusCode::BAD_REQUEST,
                20001,
            ),
            ("not the user's", format!("{mine}/{other}"), vec![], StatusCode::NOT_FOUND, 20404),
            ("no such user", format!("{}/nobody/Conversations", users(&form)), vec![], StatusCode::NOT_FOUND, 20404),
        ] {
            let method = if body.is_empty() { Method::GET } else { Method::POST };
            let response = app.send(method, &path, &body).await;
            assert_twilio_error_for(&format!("{case}: {bad}"), response, status, code).await;
        }

        let left = app.send(Method::DELETE, &format!("{mine}/{second}"), &[]).await;
        assert_eq!(left.status(), StatusCode::NO_CONTENT, "{case}");
        let participants = app.get(&format!("{}/{second}/Participants", form.conversations())).await;
        assert_eq!(participants["participants"], json!([]), "{case}: the user left, so its participant is gone");
        let remaining = app.get(&mine).await["conversations"].as_array().map(Vec::len);
        assert_eq!(remaining, Some(1), "{case}");
    }
}
