//! Webhooks, received by a real receiver on a loopback port: which events fire and when,
//! their parameters, signatures and methods, account, service and conversation targets,
//! pre-events that modify, reject or time out, commit order, a dead receiver, inbound
//! messages and autocreation, and the delivery log.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use twilio_conversations_emulator::Config;

use crate::helpers::{Form, TestApp, assert_twilio_error, json_ok, sid_of, spawn_app, spawn_app_with};
use crate::receiver::{Receiver, Reply};

/// The token every request of [`TestApp`] authenticates with, which signs its webhooks.
const TOKEN: &str = "token";

/// Sends a form as the test account with `X-Twilio-Webhook-Enabled: true`.
async fn send_enabled(app: &TestApp, method: Method, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
    let mut request = app
        .client
        .request(method, format!("{}{path}", app.base))
        .basic_auth(app.account, Some(TOKEN))
        .header("X-Twilio-Webhook-Enabled", "true");
    if !form.is_empty() {
        request = request
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(form).expect("encode"));
    }
    request.send().await.expect("request reaches the server")
}

async fn post_enabled(app: &TestApp, path: &str, form: &[(&str, &str)]) -> Value {
    json_ok(send_enabled(app, Method::POST, path, form).await).await
}

/// Account-level settings: `post` and `pre` URLs (either may be empty), `filters`.
async fn configure_account(app: &TestApp, pre: &str, post: &str, method: &str, filters: &[&str]) {
    let mut form = vec![("PreWebhookUrl", pre), ("PostWebhookUrl", post), ("Method", method)];
    form.extend(filters.iter().map(|filter| ("Filters", *filter)));
    app.post("/v1/Configuration/Webhooks", &form).await;
}

const EVERY_POST_EVENT: [&str; 11] = [
    "onMessageAdded",
    "onMessageUpdated",
    "onMessageRemoved",
    "onConversationAdded",
    "onConversationUpdated",
    "onConversationRemoved",
    "onConversationStateUpdated",
    "onParticipantAdded",
    "onParticipantUpdated",
    "onParticipantRemoved",
    "onDeliveryUpdated",
];

#[tokio::test]
async fn rest_writes_fire_post_events_only_with_the_webhook_enabled_header() {
    let app = spawn_app().await;
    let mut receiver = Receiver::spawn().await;
    configure_account(&app, "", &receiver.url("/hook"), "POST", &["onMessageAdded"]).await;
    let conversation = app.conversation(&Form::Default).await;

    app.message(&Form::Default, &conversation, "quiet").await;
    post_enabled(&app, &Form::Default.messages(&conversation), &[("Body", "loud")]).await;

    // Deliveries of one conversation to one URL keep commit order, so had the first
    // message fired, its webhook would have come first.
    let first = receiver.next().await;
    assert_eq!(first.param("Body").as_deref(), Some("loud"));
    assert_eq!(first.param("Source").as_deref(), Some("API"));
}

#[tokio::test]
async fn every_post_event_carries_twilio_parameters_and_a_valid_signature_on_both_forms() {
    let app = spawn_app().await;
    let mut receiver = Receiver::spawn().await;
    configure_account(&app, "", &receiver.url("/events?app=1"), "POST", &EVERY_POST_EVENT).await;

    for form in app.forms().await {
        let case = form.name();
        let conversation = sid_of(&post_enabled(&app, &form.conversations(), &[("FriendlyName", "room")]).await);
        let path = format!("{}/{conversation}", form.conversations());
        post_enabled(&app, &path, &[("FriendlyName", "renamed")]).await;
        post_enabled(&app, &path, &[("State", "inactive")]).await;
        let sms = post_enabled(
            &app,
            &format!("{path}/Participants"),
            &[("MessagingBinding.Address", "+15550001111"), ("MessagingBinding.ProxyAddress", "+15559990000")],
        )
        .await;
        let alice = post_enabled(&app, &format!("{path}/Participants"), &[("Identity", "alice")]).await;
        post_enabled(&app, &format!("{path}/Participants/{}", sid_of(&alice)), &[("Attributes", "{\"a\":1}")]).await;
        let message =
            post_enabled(&app, &form.messages(&conversation), &[("Author", "alice"), ("Body", "hello")]).await;
        let message_path = format!("{}/{}", form.messages(&conversation), sid_of(&message));
        post_enabled(&app, &message_path, &[("Body", "edited")]).await;
        let receipt = json!({"account_sid": app.account, "conversation_sid": conversation,
            "message_sid": sid_of(&message), "status": "delivered"});
        assert_eq!(app.control(Method::POST, "/_emulator/receipts", Some(&receipt)).await.status(), StatusCode::OK);
        send_enabled(&app, Method::DELETE, &message_path, &[]).await;
        send_enabled(&app, Method::DELETE, &format!("{path}/Participants/{}", sid_of(&alice)), &[]).await;
        send_enabled(&app, Method::DELETE, &path, &[]).await;

        let expected = [
            "onConversationAdded",
            "onConversationUpdated",
            "onConversationUpdated",
            "onConversationStateUpdated",
            "onParticipantAdded",
            "onParticipantAdded",
            "onParticipantUpdated",
            // The conversation was made inactive above: the message makes it active again.
            "onConversationUpdated",
            "onConversationStateUpdated",
            "onMessageAdded",
            "onMessageUpdated",
            "onDeliveryUpdated",
            "onMessageRemoved",
            "onParticipantRemoved",
            "onConversationRemoved",
        ];
        let mut seen = Vec::new();
        for _ in expected {
            seen.push(receiver.next().await);
        }
        let kinds: Vec<String> = seen.iter().map(|received| received.event_type()).collect();
        assert_eq!(kinds, expected, "{case}");
        for received in &seen {
            let event = received.event_type();
            assert!(received.signed_with(TOKEN, &receiver.base), "{case}: {event} is signed");
            assert_eq!(received.method, Method::POST);
            assert_eq!(received.target, "/events?app=1", "{case}: the URL as configured");
            assert_eq!(received.header("content-type"), Some("application/x-www-form-urlencoded; charset=utf-8"));
            assert_eq!(received.header("user-agent"), Some("TwilioProxy/1.1"));
            assert!(received.header("i-twilio-idempotency-token").is_some_and(|token| token.len() == 36));
            assert_eq!(received.param("AccountSid").as_deref(), Some(app.account), "{case}: {event}");
            assert_eq!(received.param("RetryCount").as_deref(), Some("0"), "{case}: {event}");
            assert_eq!(received.param("ConversationSid").as_deref(), Some(conversation.as_str()), "{case}: {event}");
            assert!(received.param("ChatServiceSid").is_some_and(|sid| sid.starts_with("IS")), "{case}: {event}");
            for (name, value) in received.params() {
                assert!(!value.is_empty(), "{case}: {event} sends {name} empty instead of leaving it out");
                if name.starts_with("Date") {
                    assert!(value.len() == 24 && value.ends_with(".000Z"), "{case}: {event} {name}={value}");
                }
            }
        }
        let by_kind = |kind: &str| seen.iter().find(|received| received.event_type() == kind).expect(kind);
        let added = by_kind("onMessageAdded");
        assert_eq!(added.param("Body").as_deref(), Some("hello"));
        assert_eq!(added.param("Author").as_deref(), Some("alice"));
        assert_eq!(added.param("ParticipantSid"), Some(sid_of(&alice)));
        assert_eq!(added.param("Index").as_deref(), Some("0"));
        assert_eq!(added.param("Attributes").as_deref(), Some("{}"));
        assert!(added.param("MessagingServiceSid").is_some_and(|sid| sid.starts_with("MG")));
        assert_eq!(added.param("ClientIdentity"), None, "only SDK events name a client");
        assert_eq!(by_kind("onMessageUpdated").param("Body").as_deref(), Some("edited"));
        assert!(by_kind("onMessageRemoved").param("DateRemoved").is_some());
        let state = by_kind("onConversationStateUpdated");
        assert_eq!(
            (state.param("StateFrom"), state.param("StateTo"), state.param("Reason")),
            (Some("active".into()), Some("inactive".into()), Some("API".into()))
        );
        assert_eq!(by_kind("onConversationUpdated").param("FriendlyName").as_deref(), Some("renamed"));
        let sms_added = &seen[4];
        assert_eq!(sms_added.param("MessagingBinding.Address").as_deref(), Some("+15550001111"));
        assert_eq!(sms_added.param("MessagingBinding.Type").as_deref(), Some("SMS"));
        assert_eq!(sms_added.param("Identity"), None, "an SMS participant has no identity");
        assert_eq!(sms_added.param("ParticipantSid"), Some(sid_of(&sms)));
        let chat_added = &seen[5];
        assert_eq!(chat_added.param("Identity").as_deref(), Some("alice"));
        assert_eq!(chat_added.param("MessagingBinding.Type").as_deref(), Some("CHAT"));
        assert!(by_kind("onParticipantUpdated").param("DateUpdated").is_some());
        let delivery = by_kind("onDeliveryUpdated");
        assert_eq!(delivery.param("Status").as_deref(), Some("delivered"));
        assert!(delivery.param("DeliveryReceiptSid").is_some_and(|sid| sid.starts_with("DY")));
        assert_eq!(delivery.param("ParticipantSid"), Some(sid_of(&sms)));
    }
}

#[tokio::test]
async fn get_webhooks_carry_their_parameters_in_the_signed_query_string() {
    let app = spawn_app().await;
    let mut receiver = Receiver::spawn().await;
    configure_account(&app, "", &receiver.url("/get"), "GET", &["onConversationAdded"]).await;

    post_enabled(&app, "/v1/Conversations", &[("FriendlyName", "a & b")]).await;

    let received = receiver.next().await;
    assert_eq!(received.method, Method::GET);
    assert!(received.body.is_empty());
    assert_eq!(received.param("FriendlyName").as_deref(), Some("a & b"));
    assert!(received.signed_with(TOKEN, &receiver.base));
}

#[tokio::test]
async fn filters_choose_the_events_and_a_service_configuration_overrides_the_account() {
    let app = spawn_app().await;
    let mut account_receiver = Receiver::spawn().await;
    let mut service_receiver = Receiver::spawn().await;
    configure_account(&app, "", &account_receiver.url("/account"), "POST", &["onMessageAdded"]).await;
    let service = sid_of(&app.post("/v1/Services", &[("FriendlyName", "own hooks")]).await);
    app.post(
        &format!("/v1/Services/{service}/Configuration/Webhooks"),
        &[("PostWebhookUrl", &service_receiver.url("/service")), ("Filters", "onMessageAdded")],
    )
    .await;
    let in_service = Form::Service(service);
    let in_default = Form::Default;

    for form in [&in_service, &in_default] {
        let conversation = app.conversation(form).await;
        post_enabled(&app, &form.messages(&conversation), &[("Body", form.name())]).await;
    }

    assert_eq!(service_receiver.next().await.param("Body").as_deref(), Some("service form"));
    assert_eq!(account_receiver.next().await.param("Body").as_deref(), Some("default form"));
    assert!(account_receiver.drain().is_empty(), "the service's own settings replace the account's there");
}

#[tokio::test]
async fn conversation_webhooks_fire_in_addition_filtered_and_triggered_on_both_forms() {
    let app = spawn_app().await;
    let mut scoped = Receiver::spawn().await;
    let mut global = Receiver::spawn().await;
    configure_account(&app, "", &global.url("/global"), "POST", &["onMessageAdded"]).await;

    for form in app.forms().await {
        let conversation = app.conversation(&form).await;
        let webhooks = format!("{}/{conversation}/Webhooks", form.conversations());
        let hook = app
            .post(
                &webhooks,
                &[
                    ("Target", "webhook"),
                    ("Configuration.Url", &scoped.url("/scoped")),
                    ("Configuration.Method", "get"),
                    ("Configuration.Filters", "onMessageAdded"),
                ],
            )
            .await;
        app.post(
            &webhooks,
            &[
                ("Target", "trigger"),
                ("Configuration.Url", &scoped.url("/trigger")),
                ("Configuration.Triggers", "urgent"),
            ],
        )
        .await;

        post_enabled(&app, &form.messages(&conversation), &[("Body", "calm")]).await;
        post_enabled(&app, &form.messages(&conversation), &[("Body", "this is URGENT")]).await;

        let mut targets: Vec<(String, String)> = Vec::new();
        for _ in 0..3 {
            let received = scoped.next().await;
            assert!(received.signed_with(TOKEN, &scoped.base), "{}", form.name());
            let path = received.target.split('?').next().unwrap_or_default().to_owned();
            targets.push((path, received.param("Body").unwrap_or_default()));
        }
        targets.sort();
        assert_eq!(
            targets,
            [
                ("/scoped".to_owned(), "calm".to_owned()),
                ("/scoped".to_owned(), "this is URGENT".to_owned()),
                ("/trigger".to_owned(), "this is URGENT".to_owned()),
            ],
            "{}",
            form.name()
        );
        assert_eq!(global.next().await.param("Body").as_deref(), Some("calm"));
        assert_eq!(global.next().await.param("Body").as_deref(), Some("this is URGENT"));
        assert!(sid_of(&hook).starts_with("WH"));
    }
}

#[tokio::test]
async fn a_pre_event_answer_modifies_the_message_before_it_is_stored() {
    let app = spawn_app().await;
    let mut receiver = Receiver::spawn().await;
    configure_account(&app, &receiver.url("/pre"), "", "POST", &["onMessageAdd"]).await;
    receiver.reply(Reply::Answer(200, r#"{"body":"[redacted]","attributes":"{\"checked\":true}"}"#));
    let conversation = app.conversation(&Form::Default).await;

    let created = post_enabled(&app, &Form::Default.messages(&conversation), &[("Body", "my card is 4111")]).await;

    let pre = receiver.next().await;
    assert_eq!(pre.event_type(), "onMessageAdd");
    assert_eq!(pre.param("Body").as_deref(), Some("my card is 4111"));
    assert_eq!(pre.param("MessageSid"), None, "a message about to be added has no SID yet");
    assert!(pre.signed_with(TOKEN, &receiver.base));
    assert_eq!(created["body"], "[redacted]");
    assert_eq!(created["attributes"], "{\"checked\":true}");
}

#[tokio::test]
async fn a_pre_event_refusal_stores_nothing_and_answers_a_twilio_error() {
    let app = spawn_app().await;
    let receiver = Receiver::spawn().await;
    configure_account(&app, &receiver.url("/pre"), "", "POST", &["onMessageAdd", "onConversationAdd"]).await;
    let conversation = app.conversation(&Form::Default).await;

    for status in [400, 403, 500, 503] {
        receiver.reply(Reply::Answer(status, ""));
        let refused = send_enabled(&app, Method::POST, &Form::Default.messages(&conversation), &[("Body", "x")]).await;
        assert_twilio_error(refused, StatusCode::FORBIDDEN, 50056).await;
        let conversation_refused = send_enabled(&app, Method::POST, "/v1/Conversations", &[]).await;
        assert_twilio_error(conversation_refused, StatusCode::FORBIDDEN, 50056).await;
    }

    assert!(app.all_messages(&Form::Default.messages(&conversation)).await.is_empty());
    assert_eq!(app.get("/v1/Conversations").await["conversations"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn a_pre_event_modification_that_fails_validation_gets_the_usual_error() {
    let app = spawn_app().await;
    let receiver = Receiver::spawn().await;
    configure_account(&app, &receiver.url("/pre"), "", "POST", &["onMessageAdd"]).await;
    receiver.reply(Reply::Answer(200, r#"{"attributes":"not json"}"#));
    let conversation = app.conversation(&Form::Default).await;

    let response = send_enabled(&app, Method::POST, &Form::Default.messages(&conversation), &[("Body", "x")]).await;

    assert_twilio_error(response, StatusCode::BAD_REQUEST, 50304).await;
}

#[tokio::test]
async fn a_pre_event_without_an_answer_in_time_publishes_unmodified_and_a_dead_receiver_holds_nothing_up() {
    let app = spawn_app_with(Config { webhook_timeout_ms: 150, ..Config::defaults() }).await;
    let receiver = Receiver::spawn().await;
    receiver.reply(Reply::Never);
    let url = receiver.url("/slow");
    configure_account(&app, &url, &url, "POST", &["onMessageAdd", "onMessageAdded"]).await;
    let conversation = app.conversation(&Form::Default).await;
    app.post(&format!("/v1/Conversations/{conversation}/Participants"), &[("Identity", "dana")]).await;

    let created = post_enabled(&app, &Form::Default.messages(&conversation), &[("Body", "still here")]).await;
    let simulated = app
        .control(
            Method::POST,
            "/_emulator/sdk/messages",
            Some(&json!({"account_sid": app.account, "conversation": conversation, "identity": "dana", "body": "sdk"})),
        )
        .await;

    assert_eq!(created["body"], "still here");
    let simulated = json_ok(simulated).await;
    assert_eq!(simulated["outcome"], "added");
    let outcomes: Vec<(&str, &str)> = simulated["deliveries"]
        .as_array()
        .expect("deliveries")
        .iter()
        .map(|d| (d["event_type"].as_str().unwrap_or(""), d["outcome"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(outcomes, [("onMessageAdd", "failed"), ("onMessageAdded", "failed")]);
    let messages = app.all_messages(&Form::Default.messages(&conversation)).await;
    assert_eq!(messages.len(), 2, "both messages were stored, unmodified");
}

#[tokio::test]
async fn deliveries_keep_commit_order_per_conversation_under_concurrent_creates() {
    let app = spawn_app().await;
    let mut receiver = Receiver::spawn().await;
    configure_account(&app, "", &receiver.url("/order"), "POST", &["onMessageAdded"]).await;
    let conversation = app.conversation(&Form::Default).await;
    let path = Form::Default.messages(&conversation);

    let creates = (0..40).map(|i| {
        let (app, path) = (&app, &path);
        async move { post_enabled(app, path, &[("Body", &i.to_string())]).await }
    });
    futures_join_all(creates).await;

    let mut indices = Vec::new();
    for _ in 0..40 {
        indices.push(receiver.next().await.param("Index").and_then(|i| i.parse::<u64>().ok()).expect("Index"));
    }
    assert_eq!(indices, (0..40).collect::<Vec<u64>>(), "one delivery per message, in index order");
}

/// Runs futures concurrently on this task (no extra crate for `join_all`).
async fn futures_join_all<F: std::future::Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    let handles: Vec<_> = futures.collect();
    let mut outputs = Vec::new();
    let mut pinned: Vec<std::pin::Pin<Box<F>>> = handles.into_iter().map(Box::pin).collect();
    let mut done: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|context| {
        let mut pending = false;
        for (future, slot) in pinned.iter_mut().zip(done.iter_mut()) {
            if slot.is_none() {
                match future.as_mut().poll(context) {
                    std::task::Poll::Ready(output) => *slot = Some(output),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending { std::task::Poll::Pending } else { std::task::Poll::Ready(()) }
    })
    .await;
    outputs.extend(done.into_iter().flatten());
    outputs
}

#[tokio::test]
async fn an_sms_user_texting_in_reaches_the_conversation_bound_to_the_number_pair() {
    let app = spawn_app().await;
    let mut receiver = Receiver::spawn().await;
    configure_account(&app, &receiver.url("/pre"), &receiver.url("/post"), "POST", &["onMessageAdd", "onMessageAdded"])
        .await;
    let conversation = app.conversation(&Form::Default).await;
    let participant = app
        .post(
            &format!("/v1/Conversations/{conversation}/Participants"),
            &[("MessagingBinding.Address", "+15551230000"), ("MessagingBinding.ProxyAddress", "+15559870000")],
        )
        .await;

    let answer = app
        .control(
            Method::POST,
            "/_emulator/inbound",
            Some(
                &json!({"account_sid": app.account, "from": "+15551230000", "to": "+15559870000", "body": "hi there"}),
            ),
        )
        .await;

    let answer = json_ok(answer).await;
    assert_eq!(answer["outcome"], "added");
    assert_eq!(answer["conversation_sid"], conversation.as_str());
    assert_eq!(answer["participant_sid"], sid_of(&participant).as_str());
    let events: Vec<&str> = answer["deliveries"]
        .as_array()
        .expect("deliveries")
        .iter()
        .map(|d| d["event_type"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(events, ["onMessageAdd", "onMessageAdded"]);
    let pre = receiver.next().await;
    let post = receiver.next().await;
    assert_eq!((pre.event_type().as_str(), post.event_type().as_str()), ("onMessageAdd", "onMessageAdded"));
    assert_eq!(post.param("Source").as_deref(), Some("SMS"));
    assert_eq!(post.param("Author").as_deref(), Some("+15551230000"));
    assert_eq!(post.param("ParticipantSid"), Some(sid_of(&participant)));
    let stored = app.all_messages(&Form::Default.messages(&conversation)).await;
    assert_eq!(stored[0]["author"], "+15551230000");
    assert_eq!(stored[0]["body"], "hi there");
}

#[tokio::test]
async fn an_address_configuration_autocreates_a_conversation_for_an_unknown_sender() {
    let app = spawn_app().await;
    let mut global = Receiver::spawn().await;
    let mut scoped = Receiver::spawn().await;
    configure_account(
        &app,
        &global.url("/pre"),
        &global.url("/post"),
        "POST",
        &[
            "onConversationAdd",
            "onConversationAdded",
            "onParticipantAdd",
            "onParticipantAdded",
            "onMessageAdd",
            "onMessageAdded",
        ],
    )
    .await;
    app.post(
        "/v1/Configuration/Addresses",
        &[
            ("Type", "whatsapp"),
            ("Address", "whatsapp:+15550009999"),
            ("AutoCreation.Enabled", "true"),
            ("AutoCreation.Type", "webhook"),
            ("AutoCreation.WebhookUrl", &scoped.url("/auto")),
            ("AutoCreation.WebhookMethod", "POST"),
            ("AutoCreation.WebhookFilters", "onMessageAdded"),
        ],
    )
    .await;

    let answer = app
        .control(
            Method::POST,
            "/_emulator/inbound",
            Some(&json!({"account_sid": app.account, "from": "whatsapp:+15551112222", "to": "whatsapp:+15550009999", "body": "hello?"})),
        )
        .await;

    let answer = json_ok(answer).await;
    assert_eq!(answer["outcome"], "autocreated");
    let conversation = answer["conversation_sid"].as_str().expect("a conversation").to_owned();
    let mut events = Vec::new();
    for _ in 0..4 {
        events.push(global.next().await);
    }
    let kinds: Vec<String> = events.iter().map(|e| e.event_type()).collect();
    assert_eq!(kinds, ["onConversationAdd", "onConversationAdded", "onParticipantAdded", "onMessageAdded"]);
    assert_eq!(events[0].param("MessageBody").as_deref(), Some("hello?"));
    assert_eq!(events[0].param("MessagingBinding.Address").as_deref(), Some("whatsapp:+15551112222"));
    assert_eq!(events[1].param("MessagingBinding.ProxyAddress").as_deref(), Some("whatsapp:+15550009999"));
    assert_eq!(events[3].param("Source").as_deref(), Some("WHATSAPP"));
    let attached = scoped.next().await;
    assert_eq!(attached.event_type(), "onMessageAdded");
    assert_eq!(attached.param("ConversationSid").as_deref(), Some(conversation.as_str()));
    let participants = app.get(&format!("/v1/Conversations/{conversation}/Participants")).await;
    assert_eq!(participants["participants"][0]["messaging_binding"]["address"], "whatsapp:+15551112222");
}

#[tokio::test]
async fn a_rejected_autocreation_drops_the_message_and_an_unknown_pair_is_refused() {
    let app = spawn_app().await;
    let receiver = Receiver::spawn().await;
    configure_account(&app, &receiver.url("/pre"), "", "POST", &["onConversationAdd"]).await;
    app.post(
        "/v1/Configuration/Addresses",
        &[("Type", "sms"), ("Address", "+15550001234"), ("AutoCreation.Enabled", "true")],
    )
    .await;
    receiver.reply(Reply::Answer(403, ""));
    let text = |to: &str| json!({"account_sid": app.account, "from": "+15557654321", "to": to, "body": "x"});

    let rejected = json_ok(app.control(Method::POST, "/_emulator/inbound", Some(&text("+15550001234"))).await).await;
    let unrouted = app.control(Method::POST, "/_emulator/inbound", Some(&text("+15550000000"))).await;

    assert_eq!(rejected["outcome"], "rejected");
    assert_eq!(app.get("/v1/Conversations").await["conversations"], json!([]));
    let message = assert_twilio_error(unrouted, StatusCode::NOT_FOUND, 20404).await;
    assert!(message.contains("+15550000000"), "{message}");
}

#[tokio::test]
async fn the_delivery_log_lists_filters_redelivers_and_clears() {
    let app = spawn_app().await;
    let mut receiver = Receiver::spawn().await;
    configure_account(&app, "", &receiver.url("/log"), "POST", &["onMessageAdded", "onConversationAdded"]).await;
    let conversation = sid_of(&post_enabled(&app, "/v1/Conversations", &[]).await);
    post_enabled(&app, &Form::Default.messages(&conversation), &[("Body", "logged")]).await;
    let first = receiver.next().await;
    let second = receiver.next().await;

    let all = app.get("/_emulator/webhooks/deliveries").await;
    let filtered =
        app.get(&format!("/_emulator/webhooks/deliveries?event=onMessageAdded&conversation={conversation}")).await;
    let id = filtered["deliveries"][0]["id"].as_u64().expect("an id");
    let redelivered =
        json_ok(app.control(Method::POST, &format!("/_emulator/webhooks/deliveries/{id}/redeliver"), None).await).await;
    let again = receiver.next().await;
    let cleared = app.control(Method::DELETE, "/_emulator/webhooks/deliveries", None).await;
    let after = app.get("/_emulator/webhooks/deliveries").await;

    assert_eq!((first.event_type().as_str(), second.event_type().as_str()), ("onConversationAdded", "onMessageAdded"));
    assert_eq!(all["deliveries"].as_array().map(Vec::len), Some(2));
    let entry = &filtered["deliveries"][0];
    assert_eq!(entry["event_type"], "onMessageAdded");
    assert_eq!(entry["outcome"], "delivered");
    assert_eq!(entry["response"]["status"], 200);
    assert_eq!(entry["request"]["method"], "POST");
    assert!(entry["request"]["body"].as_str().is_some_and(|body| body.contains("Body=logged")));
    assert_eq!(redelivered["redelivery_of"], id);
    assert_eq!(again.body, second.body, "a redelivery sends the same request");
    assert_eq!(again.header("i-twilio-idempotency-token"), second.header("i-twilio-idempotency-token"));
    assert_eq!(cleared.status(), StatusCode::NO_CONTENT);
    assert_eq!(after["deliveries"], json!([]));
}

#[tokio::test]
async fn webhooks_are_signed_with_the_token_of_the_accounts_latest_request() {
    let app = spawn_app().await;
    let mut receiver = Receiver::spawn().await;
    configure_account(&app, "", &receiver.url("/token"), "POST", &["onConversationAdded"]).await;

    let response = app
        .client
        .post(format!("{}/v1/Conversations", app.base))
        .basic_auth(app.account, Some("a-new-token"))
        .header("X-Twilio-Webhook-Enabled", "true")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::CREATED);

    let received = receiver.next().await;
    assert!(received.signed_with("a-new-token", &receiver.base));
    assert!(!received.signed_with(TOKEN, &receiver.base));
}

#[tokio::test]
async fn strict_mode_signs_with_the_configured_auth_token() {
    let account = "AC0000000000000000000000000000000a";
    let config =
        Config { accounts: vec![(account.parse().expect("sid"), "configured-secret".into())], ..Config::defaults() };
    let app = spawn_app_with(config).await;
    let mut receiver = Receiver::spawn().await;
    let post = |path: &str, form: &[(&str, &str)]| {
        app.client
            .post(format!("{}{path}", app.base))
            .basic_auth(account, Some("configured-secret"))
            .header("X-Twilio-Webhook-Enabled", "true")
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(form).expect("encode"))
            .send()
    };
    let configured = post(
        "/v1/Configuration/Webhooks",
        &[("PostWebhookUrl", receiver.url("/strict").as_str()), ("Filters", "onConversationAdded")],
    )
    .await
    .expect("request");
    assert_eq!(configured.status(), StatusCode::OK);

    assert_eq!(post("/v1/Conversations", &[]).await.expect("request").status(), StatusCode::CREATED);

    assert!(receiver.next().await.signed_with("configured-secret", &receiver.base));
}

/// A REST write: the pre-event it sends, its method, path and form.
type Write<'a> = (&'a str, Method, String, Vec<(&'a str, &'a str)>);

#[tokio::test]
async fn every_rest_write_sends_its_pre_event_and_a_refusal_leaves_everything_as_it_was() {
    let app = spawn_app().await;
    let mut receiver = Receiver::spawn().await;
    let pre_events = [
        "onConversationUpdate",
        "onConversationRemove",
        "onParticipantAdd",
        "onParticipantUpdate",
        "onParticipantRemove",
        "onMessageUpdate",
        "onMessageRemove",
    ];
    configure_account(&app, &receiver.url("/pre"), "", "POST", &pre_events).await;

    for form in app.forms().await {
        let case = form.name();
        let conversation = app.conversation(&form).await;
        let path = format!("{}/{conversation}", form.conversations());
        let participant = sid_of(&app.post(&format!("{path}/Participants"), &[("Identity", "pat")]).await);
        let message = sid_of(&app.message(&form, &conversation, "kept").await);
        let message_path = format!("{}/{message}", form.messages(&conversation));
        let participant_path = format!("{path}/Participants/{participant}");
        let writes: [Write; 7] = [
            ("onConversationUpdate", Method::POST, path.clone(), vec![("FriendlyName", "new")]),
            ("onConversationRemove", Method::DELETE, path.clone(), vec![]),
            ("onParticipantAdd", Method::POST, format!("{path}/Participants"), vec![("Identity", "newcomer")]),
            ("onParticipantUpdate", Method::POST, participant_path.clone(), vec![("Attributes", "{\"x\":1}")]),
            ("onParticipantRemove", Method::DELETE, participant_path.clone(), vec![]),
            ("onMessageUpdate", Method::POST, message_path.clone(), vec![("Body", "changed")]),
            ("onMessageRemove", Method::DELETE, message_path.clone(), vec![]),
        ];

        receiver.reply(Reply::Answer(409, ""));
        for (event, method, target, form_body) in &writes {
            let refused = send_enabled(&app, method.clone(), target, form_body).await;
            assert_twilio_error(refused, StatusCode::FORBIDDEN, 50056).await;
            let sent = receiver.next().await;
            assert_eq!(&sent.event_type(), event, "{case}");
            assert_eq!(sent.param("ConversationSid").as_deref(), Some(conversation.as_str()), "{case}: {event}");
            assert!(sent.signed_with(TOKEN, &receiver.base), "{case}: {event}");
        }
        let unchanged = app.get(&path).await;
        assert_eq!(unchanged["friendly_name"], Value::Null, "{case}");
        assert_eq!(app.get(&message_path).await["body"], "kept", "{case}");
        let participants = app.get(&format!("{path}/Participants")).await;
        assert_eq!(participants["participants"].as_array().map(Vec::len), Some(1), "{case}");

        receiver.reply(Reply::Answer(200, r#"{"friendly_name":"named by the app"}"#));
        let renamed = post_enabled(&app, &path, &[("FriendlyName", "asked for")]).await;
        let sent = receiver.next().await;
        assert_eq!(sent.param("FriendlyName").as_deref(), Some("asked for"), "{case}: the value about to be stored");
        assert_eq!(renamed["friendly_name"], "named by the app", "{case}");
    }
}

#[tokio::test]
async fn retries_resend_the_same_delivery_with_a_counted_retry_count() {
    let app = spawn_app_with(Config { webhook_retries: 2, ..Config::defaults() }).await;
    let mut receiver = Receiver::spawn().await;
    receiver.reply(Reply::Answer(503, ""));
    configure_account(&app, "", &receiver.url("/busy"), "POST", &["onConversationAdded"]).await;

    post_enabled(&app, "/v1/Conversations", &[]).await;

    let attempts = [receiver.next().await, receiver.next().await, receiver.next().await];
    let counts: Vec<Option<String>> = attempts.iter().map(|attempt| attempt.param("RetryCount")).collect();
    assert_eq!(counts, [Some("0".into()), Some("1".into()), Some("2".into())]);
    let token = attempts[0].header("i-twilio-idempotency-token").map(str::to_owned);
    assert!(attempts.iter().all(|attempt| attempt.header("i-twilio-idempotency-token") == token.as_deref()));
    assert!(attempts.iter().all(|attempt| attempt.signed_with(TOKEN, &receiver.base)), "each attempt is signed");
}

#[tokio::test]
async fn the_delivery_log_is_bounded_and_inbound_media_reaches_the_webhook() {
    let app = spawn_app_with(Config { webhook_log_size: 2, ..Config::defaults() }).await;
    let mut receiver = Receiver::spawn().await;
    configure_account(&app, "", &receiver.url("/media"), "POST", &["onMessageAdded"]).await;
    let conversation = app.conversation(&Form::Default).await;
    app.post(
        &format!("/v1/Conversations/{conversation}/Participants"),
        &[("MessagingBinding.Address", "+15550101010"), ("MessagingBinding.ProxyAddress", "+15550202020")],
    )
    .await;
    let text = |body: &str| {
        json!({"account_sid": app.account, "from": "+15550101010", "to": "+15550202020", "body": body,
            "media": {"content_type": "image/png", "filename": "cat.png", "content_base64": "iVBORw0KGgo="}})
    };

    for body in ["one", "two", "three"] {
        json_ok(app.control(Method::POST, "/_emulator/inbound", Some(&text(body))).await).await;
    }

    let media: Value =
        serde_json::from_str(&receiver.next().await.param("Media").expect("a Media parameter")).expect("JSON");
    assert_eq!(media[0]["ContentType"], "image/png");
    assert_eq!(media[0]["Filename"], "cat.png");
    assert_eq!(media[0]["Size"], 8);
    assert!(media[0]["Sid"].as_str().is_some_and(|sid| sid.starts_with("ME")));
    let log = app.get("/_emulator/webhooks/deliveries").await;
    let kept: Vec<String> = log["deliveries"]
        .as_array()
        .expect("deliveries")
        .iter()
        .map(|d| d["request"]["body"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(kept.len(), 2, "only the newest two are kept");
    assert!(kept[0].contains("Body=two") && kept[1].contains("Body=three"), "{kept:?}");
}

#[tokio::test]
async fn a_conversation_webhook_created_with_replay_after_gets_the_messages_from_that_index() {
    let app = spawn_app().await;
    let mut receiver = Receiver::spawn().await;

    for form in app.forms().await {
        let conversation = app.conversation(&form).await;
        for body in ["zero", "one", "two"] {
            app.message(&form, &conversation, body).await;
        }
        app.post(
            &format!("{}/{conversation}/Webhooks", form.conversations()),
            &[
                ("Target", "webhook"),
                ("Configuration.Url", &receiver.url("/replay")),
                ("Configuration.Filters", "onMessageAdded"),
                ("Configuration.ReplayAfter", "1"),
            ],
        )
        .await;
        post_enabled(&app, &form.messages(&conversation), &[("Body", "three")]).await;

        let mut bodies = Vec::new();
        for _ in 0..3 {
            let received = receiver.next().await;
            assert_eq!(received.event_type(), "onMessageAdded");
            assert!(received.signed_with(TOKEN, &receiver.base));
            bodies.push(received.param("Body").unwrap_or_default());
        }
        assert_eq!(bodies, ["one", "two", "three"], "{}: replayed in order, then the new one", form.name());
    }
}

#[tokio::test]
async fn a_reset_clears_the_delivery_log_of_the_accounts_it_wipes() {
    let app = spawn_app().await;
    let mut receiver = Receiver::spawn().await;
    configure_account(&app, "", &receiver.url("/reset"), "POST", &["onConversationAdded"]).await;
    post_enabled(&app, "/v1/Conversations", &[]).await;
    receiver.next().await;
    let count = |log: &Value| log["deliveries"].as_array().map_or(0, Vec::len);

    let other = app.control(Method::POST, "/_emulator/reset?account=AC0000000000000000000000000000000f", None).await;
    let after_other = app.get("/_emulator/webhooks/deliveries").await;
    let own = app.control(Method::POST, &format!("/_emulator/reset?account={}", app.account), None).await;
    let after_own = app.get("/_emulator/webhooks/deliveries").await;

    assert_eq!((other.status(), own.status()), (StatusCode::NO_CONTENT, StatusCode::NO_CONTENT));
    assert_eq!(count(&after_other), 1, "another account's reset keeps this one's deliveries");
    assert_eq!(count(&after_own), 0);
}

#[tokio::test]
async fn studio_and_flex_targets_are_logged_as_not_executable() {
    let app = spawn_app().await;
    let receiver = Receiver::spawn().await;
    app.post(
        "/v1/Configuration/Webhooks",
        &[("PostWebhookUrl", &receiver.url("/flex")), ("Filters", "onMessageAdded"), ("Target", "flex")],
    )
    .await;
    let conversation = app.conversation(&Form::Default).await;
    app.post(
        &format!("/v1/Conversations/{conversation}/Webhooks"),
        &[("Target", "studio"), ("Configuration.FlowSid", "FW00000000000000000000000000000001")],
    )
    .await;
    app.post(&format!("/v1/Conversations/{conversation}/Participants"), &[("Identity", "sam")]).await;

    let answer = app
        .control(
            Method::POST,
            "/_emulator/sdk/messages",
            Some(&json!({"account_sid": app.account, "conversation": conversation, "identity": "sam", "body": "hi"})),
        )
        .await;

    let answer = json_ok(answer).await;
    let deliveries: Vec<(&str, &str, Option<u64>)> = answer["deliveries"]
        .as_array()
        .expect("deliveries")
        .iter()
        .map(|d| (d["level"].as_str().unwrap_or(""), d["outcome"].as_str().unwrap_or(""), d["status"].as_u64()))
        .collect();
    assert_eq!(deliveries, [("account", "not_executable", None), ("conversation", "not_executable", None)]);
}
