//! Participants on both URL forms, and how they shape messages: `participant_sid`,
//! delivery receipts and the `delivery` summary, and the SMS body limit.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Form, TestApp, assert_twilio_error, assert_twilio_error_for, json_ok, sid_of, spawn_app};

/// A conversation's participant list on `form`.
fn participants(form: &Form, conversation: &str) -> String {
    format!("{}/{conversation}/Participants", form.conversations())
}

/// Adds a chat participant and an SMS participant; returns their SIDs.
async fn chat_and_sms(app: &TestApp, form: &Form, conversation: &str) -> (String, String) {
    let chat = app.post(&participants(form, conversation), &[("Identity", "alice")]).await;
    let sms = app
        .post(
            &participants(form, conversation),
            &[("MessagingBinding.Address", "+15558675310"), ("MessagingBinding.ProxyAddress", "+15017122661")],
        )
        .await;
    (sid_of(&chat), sid_of(&sms))
}

#[tokio::test]
async fn participants_support_every_operation_by_sid_and_identity_on_both_forms() {
    let app = spawn_app().await;
    for form in app.forms().await {
        let conversation = app.conversation(&form).await;
        // Create: a chat participant and an SMS one, in Twilio's documented shapes.
        let response = app
            .send(
                Method::POST,
                &participants(&form, &conversation),
                &[("Identity", "alice"), ("Attributes", "{\"a\":1}")],
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED, "{}", form.name());
        let chat = json_ok(response).await;
        let documented: Value =
            serde_json::from_str(include_str!("../../fixtures/participant_create_create_chat.json")).expect("fixture");
        let keys = |v: &Value| {
            v.as_object().expect("object").keys().filter(|k| *k != "chat_service_sid").cloned().collect::<Vec<_>>()
        };
        assert_eq!(keys(&chat), keys(&documented));
        assert_eq!(
            (&chat["identity"], &chat["messaging_binding"], &chat["attributes"]),
            (&json!("alice"), &Value::Null, &json!("{\"a\":1}"))
        );
        assert!(
            chat["sid"].as_str().is_some_and(|s| s.starts_with("MB"))
                && chat["role_sid"].as_str().is_some_and(|s| s.starts_with("RL"))
        );
        let url = format!("{}{}/{}", app.base, participants(&form, &conversation), sid_of(&chat));
        assert_eq!(chat["url"], url.as_str());
        let sms = app
            .post(
                &participants(&form, &conversation),
                &[("MessagingBinding.Address", "+15558675310"), ("MessagingBinding.ProxyAddress", "+15017122661")],
            )
            .await;
        assert_eq!(
            sms["messaging_binding"],
            json!({ "type": "sms", "address": "+15558675310", "proxy_address": "+15017122661" })
        );
        assert_eq!(sms["identity"], Value::Null);
        // Fetch by SID and by identity.
        let by_sid = app.get(&format!("{}/{}", participants(&form, &conversation), sid_of(&chat))).await;
        assert_eq!(by_sid, chat);
        assert_eq!(app.get(&format!("{}/alice", participants(&form, &conversation))).await, chat);
        // Update.
        let updated = app
            .post(
                &format!("{}/alice", participants(&form, &conversation)),
                &[("Attributes", "{}"), ("LastReadMessageIndex", "4")],
            )
            .await;
        assert_eq!((&updated["attributes"], &updated["last_read_message_index"]), (&json!("{}"), &json!(4)));
        // List.
        let listed = app.get(&participants(&form, &conversation)).await;
        assert_eq!(listed["participants"].as_array().map(Vec::len), Some(2));
        assert_eq!(listed["meta"]["key"], "participants");
        // Delete.
        let deleted = app.send(Method::DELETE, &format!("{}/alice", participants(&form, &conversation)), &[]).await;
        assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
        let gone =
            app.send(Method::GET, &format!("{}/{}", participants(&form, &conversation), sid_of(&chat)), &[]).await;
        assert_twilio_error(gone, StatusCode::NOT_FOUND, 20404).await;
    }
}

#[tokio::test]
async fn duplicate_and_invalid_participants_get_twilio_codes_and_change_nothing() {
    let app = spawn_app().await;
    for form in app.forms().await {
        let conversation = app.conversation(&form).await;
        chat_and_sms(&app, &form, &conversation).await;
        let path = participants(&form, &conversation);
        type Params<'a> = &'a [(&'a str, &'a str)];
        let cases: [(&str, Params, StatusCode, u64); 6] = [
            ("a duplicate identity", &[("Identity", "alice")], StatusCode::CONFLICT, 50433),
            (
                "a duplicate address and proxy address",
                &[("MessagingBinding.Address", "+15558675310"), ("MessagingBinding.ProxyAddress", "+15017122661")],
                StatusCode::CONFLICT,
                50416,
            ),
            ("neither an identity nor an address", &[], StatusCode::BAD_REQUEST, 20001),
            (
                "an address without a proxy address",
                &[("MessagingBinding.Address", "+15550000000")],
                StatusCode::BAD_REQUEST,
                20001,
            ),
            (
                "attributes that are not JSON",
                &[("Identity", "bob"), ("Attributes", "{")],
                StatusCode::BAD_REQUEST,
                50304,
            ),
            ("a malformed role SID", &[("Identity", "bob"), ("RoleSid", "nope")], StatusCode::BAD_REQUEST, 20001),
        ];
        for (case, params, status, code) in cases {
            let response = app.send(Method::POST, &path, params).await;
            assert_twilio_error_for(&format!("{}: {case}", form.name()), response, status, code).await;
        }
        assert_eq!(app.get(&path).await["participants"].as_array().map(Vec::len), Some(2), "{}", form.name());
        let long = "x".repeat(257);
        assert_twilio_error(
            app.send(Method::POST, &path, &[("Identity", &long)]).await,
            StatusCode::BAD_REQUEST,
            20001,
        )
        .await;
    }
}

#[tokio::test]
async fn participant_sid_follows_the_author_and_is_re_resolved_on_update() {
    let app = spawn_app().await;
    for form in app.forms().await {
        let conversation = app.conversation(&form).await;
        let (chat, sms) = chat_and_sms(&app, &form, &conversation).await;
        let by_alice = app.post(&form.messages(&conversation), &[("Author", "alice"), ("Body", "hi")]).await;
        assert_eq!(by_alice["participant_sid"], chat.as_str(), "{}", form.name());
        let by_phone = app.post(&form.messages(&conversation), &[("Author", "+15558675310"), ("Body", "hey")]).await;
        assert_eq!(by_phone["participant_sid"], sms.as_str());
        let by_system = app.post(&form.messages(&conversation), &[("Body", "note")]).await;
        assert_eq!(by_system["participant_sid"], Value::Null);
        let by_stranger = app.post(&form.messages(&conversation), &[("Author", "mallory"), ("Body", "?")]).await;
        assert_eq!(by_stranger["participant_sid"], Value::Null);

        let reattributed = app
            .post(&format!("{}/{}", form.messages(&conversation), sid_of(&by_stranger)), &[("Author", "alice")])
            .await;
        assert_eq!(reattributed["participant_sid"], chat.as_str());
    }
}

#[tokio::test]
async fn receipts_exist_per_sms_participant_and_drive_the_delivery_summary() {
    let app = spawn_app().await;
    for form in app.forms().await {
        // Chat-only conversations have no delivery.
        let conversation = app.conversation(&form).await;
        app.post(&participants(&form, &conversation), &[("Identity", "alice")]).await;
        let chat_only = app.post(&form.messages(&conversation), &[("Author", "alice"), ("Body", "hi")]).await;
        assert_eq!(chat_only["delivery"], Value::Null, "{}", form.name());
        let receipts = app.get(&format!("{}/{}/Receipts", form.messages(&conversation), sid_of(&chat_only))).await;
        assert_eq!(receipts["delivery_receipts"], json!([]));
        for phone in ["+15550000001", "+15550000002"] {
            app.post(
                &participants(&form, &conversation),
                &[("MessagingBinding.Address", phone), ("MessagingBinding.ProxyAddress", "+15017122661")],
            )
            .await;
        }

        // A message to both SMS participants.
        let message = app.post(&form.messages(&conversation), &[("Author", "alice"), ("Body", "order shipped")]).await;
        let receipts_path = format!("{}/{}/Receipts", form.messages(&conversation), sid_of(&message));

        // Two receipts, both sent.
        assert_eq!(
            message["delivery"],
            json!({ "total": 2, "sent": "all", "delivered": "none", "read": "none", "failed": "none", "undelivered": "none" })
        );
        let listed = app.get(&receipts_path).await;
        let receipts = listed["delivery_receipts"].as_array().expect("receipts").clone();
        assert_eq!(receipts.len(), 2);
        assert_eq!(listed["meta"]["page_size"], 50);
        let first = &receipts[0];
        assert!(first["sid"].as_str().is_some_and(|s| s.starts_with("DY")));
        assert!(first["channel_message_sid"].as_str().is_some_and(|s| s.starts_with("SM")));
        assert_eq!(
            (&first["status"], &first["error_code"], &first["message_sid"]),
            (&json!("sent"), &json!(0), &message["sid"])
        );
        let receipt_url = format!("{}{receipts_path}/{}", app.base, sid_of(first));
        assert_eq!(first["url"], receipt_url.as_str());
        assert_eq!(app.get(&format!("{receipts_path}/{}", sid_of(first))).await, *first);
        assert_eq!(message["links"]["delivery_receipts"], format!("{}{receipts_path}", app.base));

        // Move one receipt to delivered, then read; the other fails.
        let account = app.account;
        let change = |receipt: &Value, status: &str, code: u32| json!({ "account_sid": account, "conversation_sid": conversation, "message_sid": message["sid"], "receipt_sid": receipt["sid"], "status": status, "error_code": code });
        json_ok(app.control(Method::POST, "/_emulator/receipts", Some(&change(first, "delivered", 0))).await).await;
        let fetched = app.get(&format!("{}/{}", form.messages(&conversation), sid_of(&message))).await;
        assert_eq!((&fetched["delivery"]["delivered"], &fetched["delivery"]["sent"]), (&json!("some"), &json!("all")));
        json_ok(app.control(Method::POST, "/_emulator/receipts", Some(&change(first, "read", 0))).await).await;
        let report = json_ok(
            app.control(Method::POST, "/_emulator/receipts", Some(&change(&receipts[1], "failed", 30008))).await,
        )
        .await;
        assert_eq!(
            report["delivery"],
            json!({ "total": 2, "sent": "some", "delivered": "some", "read": "some", "failed": "some", "undelivered": "none" })
        );
        let failed = app.get(&format!("{receipts_path}/{}", sid_of(&receipts[1]))).await;
        assert_eq!((&failed["status"], &failed["error_code"]), (&json!("failed"), &json!(30008)));

        // Backwards moves and unknown receipts are refused without changing anything.
        let backwards = app.control(Method::POST, "/_emulator/receipts", Some(&change(first, "delivered", 0))).await;
        assert_twilio_error(backwards, StatusCode::BAD_REQUEST, 20001).await;
        let unknown = json!({ "account_sid": account, "conversation_sid": conversation, "message_sid": message["sid"], "receipt_sid": "DY00000000000000000000000000000000", "status": "read" });
        let refused = app.control(Method::POST, "/_emulator/receipts", Some(&unknown)).await;
        let message = assert_twilio_error(refused, StatusCode::BAD_REQUEST, 20001).await;
        assert_eq!(message, "receipt_sid names no receipt of the message");
        assert_eq!(app.get(&format!("{receipts_path}/{}", sid_of(first))).await["status"], "read");
    }
}

#[tokio::test]
async fn the_receipts_control_says_when_a_message_has_none_and_takes_a_unique_name() {
    let app = spawn_app().await;
    for (n, form) in app.forms().await.into_iter().enumerate() {
        let name = format!("receipts-room-{n}");
        let conversation = sid_of(&app.post(&form.conversations(), &[("UniqueName", &name)]).await);
        app.post(&participants(&form, &conversation), &[("Identity", "alice")]).await;
        let chat_only = app.post(&form.messages(&conversation), &[("Author", "alice"), ("Body", "hi")]).await;
        let change = |message: &Value| json!({ "account_sid": app.account, "conversation_sid": name, "message_sid": message["sid"], "status": "delivered" });

        let refused = app.control(Method::POST, "/_emulator/receipts", Some(&change(&chat_only))).await;

        let message = assert_twilio_error(refused, StatusCode::BAD_REQUEST, 20001).await;
        assert!(message.starts_with("message_sid names a message with no receipts"), "{}: {message}", form.name());

        app.post(
            &participants(&form, &conversation),
            &[("MessagingBinding.Address", "+15550000001"), ("MessagingBinding.ProxyAddress", "+15017122661")],
        )
        .await;
        let texted = app.post(&form.messages(&conversation), &[("Author", "alice"), ("Body", "shipped")]).await;

        let report = json_ok(app.control(Method::POST, "/_emulator/receipts", Some(&change(&texted))).await).await;

        assert_eq!(report["receipts"][0]["status"], "delivered", "{}: by unique name", form.name());
    }
}

#[tokio::test]
async fn the_author_gets_no_receipt_and_channel_metadata_is_a_twilio_404() {
    let app = spawn_app().await;
    for form in app.forms().await {
        let conversation = app.conversation(&form).await;
        chat_and_sms(&app, &form, &conversation).await;
        let from_phone = app.post(&form.messages(&conversation), &[("Author", "+15558675310"), ("Body", "hi")]).await;
        assert_eq!(from_phone["delivery"], Value::Null, "the only SMS participant wrote it");
        let metadata = from_phone["links"]["channel_metadata"].as_str().expect("link").to_owned();
        let response = app.client.get(&metadata).basic_auth(app.account, Some("t")).send().await.expect("send");
        assert_twilio_error(response, StatusCode::NOT_FOUND, 20404).await;
    }
}

#[tokio::test]
async fn bodies_are_limited_to_1600_characters_only_where_sms_participants_are() {
    let app = spawn_app().await;
    for form in app.forms().await {
        let long = "é".repeat(1601);
        let chat_only = app.conversation(&form).await;
        app.post(&participants(&form, &chat_only), &[("Identity", "alice")]).await;
        let accepted = app.send(Method::POST, &form.messages(&chat_only), &[("Body", &long)]).await;
        assert_eq!(accepted.status(), StatusCode::CREATED, "{}: chat bodies may be up to 32 KB", form.name());

        let with_sms = app.conversation(&form).await;
        chat_and_sms(&app, &form, &with_sms).await;
        let refused = app.send(Method::POST, &form.messages(&with_sms), &[("Body", &long)]).await;
        assert_twilio_error(refused, StatusCode::BAD_REQUEST, 50504).await;
        let exactly = "é".repeat(1600);
        let fits = app.send(Method::POST, &form.messages(&with_sms), &[("Body", &exactly)]).await;
        assert_eq!(fits.status(), StatusCode::CREATED);
        let message = json_ok(fits).await;
        let too_long_edit = app
            .send(Method::POST, &format!("{}/{}", form.messages(&with_sms), sid_of(&message)), &[("Body", &long)])
            .await;
        assert_twilio_error(too_long_edit, StatusCode::BAD_REQUEST, 50504).await;
        assert_eq!(
            app.get(&form.messages(&with_sms)).await["messages"].as_array().map(Vec::len),
            Some(1),
            "nothing else stored"
        );
    }
}
