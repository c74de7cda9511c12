//! The control plane's state side: reset, seeded SIDs, export/import, seed files, the
//! clock, access to `/_emulator/`, and strict auth.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use twilio_conversations_emulator::Config;
use twilio_conversations_emulator::config::ApiKey;

use crate::helpers::{
    ACCOUNT, Form, OTHER_ACCOUNT, TestApp, assert_twilio_error, assert_twilio_error_for, json_ok, sid_of, spawn_app,
    spawn_app_with, spawn_binary_with,
};

/// The whole state, as `GET /_emulator/state` exports it.
async fn export(app: &TestApp) -> Value {
    json_ok(app.control(Method::GET, "/_emulator/state", None).await).await
}

/// Creates a conversation with two messages through the API and returns the conversation SID.
async fn fill(app: &TestApp, account: &str) -> String {
    let created = app.send_as(account, Method::POST, "/v1/Conversations", &[("UniqueName", "room")]).await;
    let conversation = sid_of(&json_ok(created).await);
    for body in ["one", "two"] {
        app.send_as(account, Method::POST, &Form::Default.messages(&conversation), &[("Body", body)]).await;
    }
    conversation
}

#[tokio::test]
async fn reset_wipes_everything_or_one_account() {
    let app = spawn_app().await;
    let mine = fill(&app, ACCOUNT).await;
    let theirs = fill(&app, OTHER_ACCOUNT).await;

    let response = app.control(Method::POST, &format!("/_emulator/reset?account={ACCOUNT}"), None).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_twilio_error(
        app.send(Method::GET, &format!("/v1/Conversations/{mine}"), &[]).await,
        StatusCode::NOT_FOUND,
        20404,
    )
    .await;
    let kept = app.send_as(OTHER_ACCOUNT, Method::GET, &format!("/v1/Conversations/{theirs}"), &[]).await;
    assert_eq!(kept.status(), StatusCode::OK, "the other account is untouched");

    app.control(Method::POST, "/_emulator/reset", None).await;
    let gone = app.send_as(OTHER_ACCOUNT, Method::GET, &format!("/v1/Conversations/{theirs}"), &[]).await;
    assert_twilio_error(gone, StatusCode::NOT_FOUND, 20404).await;
    assert_eq!(export(&app).await, json!({ "accounts": [] }));
}

/// The SIDs of a conversation and three messages created in it.
async fn sids(app: &TestApp) -> Vec<String> {
    let conversation = app.conversation(&Form::Default).await;
    let mut sids = vec![conversation.clone()];
    for _ in 0..3 {
        sids.push(sid_of(&app.message(&Form::Default, &conversation, "x").await));
    }
    sids
}

#[tokio::test]
async fn the_same_seed_gives_the_same_sids_and_they_stay_unique() {
    let first = spawn_app_with(Config { seed: Some(42), ..Config::defaults() }).await;
    let second = spawn_app_with(Config { seed: Some(42), ..Config::defaults() }).await;
    let (a, b) = (sids(&first).await, sids(&second).await);
    assert_eq!(a, b);
    assert_eq!(a.iter().collect::<std::collections::HashSet<_>>().len(), a.len(), "unique");

    // A reset with a seed restarts the same sequence.
    first.control(Method::POST, "/_emulator/reset?seed=42", None).await;
    assert_eq!(sids(&first).await, a);
    let other_seed = spawn_app_with(Config { seed: Some(43), ..Config::defaults() }).await;
    assert_ne!(sids(&other_seed).await, a);
}

#[tokio::test]
async fn an_export_imported_elsewhere_reproduces_the_state() {
    let source = spawn_app().await;
    let conversation = fill(&source, ACCOUNT).await;
    let message = source.message(&Form::Default, &conversation, "three").await;
    source.send(Method::DELETE, &format!("{}/{}", Form::Default.messages(&conversation), sid_of(&message)), &[]).await;
    let document = export(&source).await;

    let target = spawn_app().await;
    let response = target.control(Method::PUT, "/_emulator/state", Some(&document)).await;
    let summary = json_ok(response).await;
    assert_eq!((&summary["conversations"], &summary["messages"]), (&json!(1), &json!(2)));
    assert_eq!(export(&target).await, document);
    let copied = target.get(&Form::Default.messages("room")).await["messages"].to_string();
    let original = source.get(&Form::Default.messages("room")).await["messages"].to_string();
    assert_eq!(copied, original.replace(&source.base, &target.base), "the API serves the imported messages");
    let next = target.message(&Form::Default, "room", "after import").await;
    assert_eq!(next["index"], 3, "a deleted index stays used after an import");
}

#[tokio::test]
async fn an_import_that_fails_half_way_changes_nothing() {
    let app = spawn_app().await;
    fill(&app, ACCOUNT).await;
    let before = export(&app).await;
    let document = json!({ "accounts": [{
        "account_sid": OTHER_ACCOUNT,
        "conversations": [
            { "unique_name": "fine", "messages": [{ "body": "ok" }] },
            { "messages": [{ "body": "ok" }, { "body": "ok" }, { "attributes": "{broken" }] }
        ]
    }]});
    for method in [Method::POST, Method::PUT] {
        let response = app.control(method.clone(), "/_emulator/state", Some(&document)).await;
        let message = assert_twilio_error(response, StatusCode::BAD_REQUEST, 20001).await;
        assert!(
            message.contains("accounts[0].services[0].conversations[1].messages[2].attributes"),
            "{method}: {message}"
        );
        assert_eq!(export(&app).await, before, "{method}: nothing changed");
    }
    let conflicting = json!({ "accounts": [{ "account_sid": ACCOUNT, "conversations": [{ "unique_name": "room" }] }] });
    let message = assert_twilio_error(
        app.control(Method::POST, "/_emulator/state", Some(&conflicting)).await,
        StatusCode::BAD_REQUEST,
        20001,
    )
    .await;
    assert!(message.contains("unique_name") && message.contains("room"), "{message}");
    let garbage =
        app.client.post(format!("{}/_emulator/state", app.base)).body("{not json").send().await.expect("send");
    assert_twilio_error(garbage, StatusCode::BAD_REQUEST, 20001).await;
    assert_eq!(export(&app).await, before);
}

#[tokio::test]
async fn an_import_refuses_indices_that_cannot_grow_naming_the_item() {
    let app = spawn_app().await;
    let largest = (1u64 << 53) - 1;
    let cases = [
        ("a message past the largest index", json!({ "messages": [{ "index": largest + 1 }] }), "messages[0].index"),
        ("a message at 2^64-1", json!({ "messages": [{ "index": u64::MAX }] }), "messages[0].index"),
        ("a next index of 2^64-1", json!({ "next_index": u64::MAX }), "next_index"),
    ];
    for (description, conversation, item) in cases {
        let document = json!({ "accounts": [{ "account_sid": ACCOUNT, "conversations": [conversation] }] });
        let response = app.control(Method::POST, "/_emulator/state", Some(&document)).await;
        let refusal = assert_twilio_error_for(description, response, StatusCode::BAD_REQUEST, 20001).await;
        assert!(refusal.contains(&format!("conversations[0].{item}")), "{description}: {refusal}");
    }

    // The largest index that still leaves room is accepted, and the next create takes it.
    let document = json!({ "accounts": [{ "account_sid": ACCOUNT, "conversations": [
        { "unique_name": "edge", "messages": [{ "index": largest - 1 }] }
    ]}]});
    let imported = app.control(Method::POST, "/_emulator/state", Some(&document)).await;
    assert_eq!(imported.status(), StatusCode::OK);
    let created = app.send(Method::POST, "/v1/Conversations/edge/Messages", &[("Body", "last")]).await;
    assert_eq!(json_ok(created).await["index"], largest);
    let refused = app.send(Method::POST, "/v1/Conversations/edge/Messages", &[("Body", "one too many")]).await;
    assert_twilio_error(refused, StatusCode::BAD_REQUEST, 20001).await;
}

#[tokio::test]
async fn a_write_that_fails_leaves_its_account_out_of_the_export() {
    let app = spawn_app().await;

    let missing =
        app.send_as(OTHER_ACCOUNT, Method::POST, "/v1/Conversations/nowhere/Messages", &[("Body", "x")]).await;

    assert_twilio_error(missing, StatusCode::NOT_FOUND, 20404).await;
    assert_eq!(export(&app).await, json!({ "accounts": [] }));
}

#[tokio::test]
async fn an_import_refuses_a_message_sid_its_service_already_uses() {
    let app = spawn_app().await;
    let sid = "IM0123456789abcdef0123456789abcdef";
    let message = json!({ "sid": sid, "body": "one of a kind" });
    // Twice in one document, in two conversations of one service.
    let twice = json!({ "accounts": [{ "account_sid": ACCOUNT, "conversations": [
        { "messages": [message.clone()] },
        { "messages": [message.clone()] }
    ]}]});
    let response = app.control(Method::POST, "/_emulator/state", Some(&twice)).await;
    let refusal = assert_twilio_error(response, StatusCode::BAD_REQUEST, 20001).await;
    assert!(refusal.contains("conversations[1].messages[0].sid") && refusal.contains(sid), "{refusal}");

    // Once in the store, then again in a new conversation of the same service.
    let once =
        json!({ "accounts": [{ "account_sid": ACCOUNT, "conversations": [{ "messages": [message.clone()] }] }] });
    let imported = app.control(Method::POST, "/_emulator/state", Some(&once)).await;
    assert_eq!(imported.status(), StatusCode::OK);
    let before = export(&app).await;
    let again = app.control(Method::POST, "/_emulator/state", Some(&once)).await;
    let refusal = assert_twilio_error(again, StatusCode::BAD_REQUEST, 20001).await;
    assert!(refusal.contains("messages[0].sid"), "{refusal}");
    assert_eq!(export(&app).await, before, "nothing changed");

    // Another service may hold the same SID: each finds its own.
    let elsewhere = json!({ "accounts": [{ "account_sid": ACCOUNT, "services": [
        { "conversations": [{ "unique_name": "elsewhere", "messages": [message] }] }
    ]}]});
    let imported = app.control(Method::POST, "/_emulator/state", Some(&elsewhere)).await;
    assert_eq!(imported.status(), StatusCode::OK);
}

#[tokio::test]
async fn seed_files_load_at_start_up_from_a_file_or_a_directory() {
    let seed = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed_support_desk.json");
    let running = spawn_binary_with(&["--seed-file", seed]);
    let page = running.get("/v1/Conversations/support-1234/Messages").await;
    let bodies: Vec<&str> =
        page["messages"].as_array().expect("messages").iter().filter_map(|m| m["body"].as_str()).collect();
    assert_eq!(bodies, ["Where is my order?", "It ships today."]);
    assert_eq!(page["messages"][0]["date_created"], "2024-05-01T09:00:00Z");

    let directory = std::env::temp_dir().join(format!("emulator-seeds-{}", std::process::id()));
    std::fs::create_dir_all(&directory).expect("temp dir");
    std::fs::copy(seed, directory.join("a.json")).expect("copy seed");
    std::fs::write(
        directory.join("b.json"),
        json!({"accounts": [{"account_sid": OTHER_ACCOUNT, "conversations": [{"unique_name": "b"}]}]}).to_string(),
    )
    .expect("write");
    std::fs::write(directory.join("ignored.txt"), "not a seed").expect("write");
    let running = spawn_binary_with(&["--seed-file", directory.to_str().expect("utf-8 path")]);
    let fetched = running.send_as(OTHER_ACCOUNT, Method::GET, "/v1/Conversations/b", &[]).await;
    assert_eq!(fetched.status(), StatusCode::OK);
    std::fs::remove_dir_all(&directory).expect("clean up");
}

#[test]
fn a_bad_seed_file_stops_start_up_with_a_clear_message() {
    let path = std::env::temp_dir().join(format!("emulator-bad-seed-{}.json", std::process::id()));
    std::fs::write(
        &path,
        r#"{"accounts":[{"account_sid":"AC00000000000000000000000000000001","conversations":[{"state":"sleeping"}]}]}"#,
    )
    .expect("write");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_twilio-conversations-emulator"))
        .args(["--port", "0", "--seed-file", path.to_str().expect("utf-8")])
        .output()
        .expect("run");
    std::fs::remove_file(&path).expect("clean up");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("conversations[0].state"), "{stderr}");
}

#[tokio::test]
async fn the_clock_can_be_frozen_advanced_and_offset() {
    let app = spawn_app().await;
    let frozen = json!({ "freeze_at": "2030-01-02T03:04:05Z" });
    let report = json_ok(app.control(Method::POST, "/_emulator/clock", Some(&frozen)).await).await;
    assert_eq!((&report["now"], &report["frozen"]), (&json!("2030-01-02T03:04:05Z"), &json!(true)));
    let conversation = app.conversation(&Form::Default).await;
    assert_eq!(app.message(&Form::Default, &conversation, "a").await["date_created"], "2030-01-02T03:04:05Z");

    app.control(Method::POST, "/_emulator/clock", Some(&json!({ "advance_seconds": 90 }))).await;
    let message = app.message(&Form::Default, &conversation, "b").await;
    assert_eq!(message["date_created"], "2030-01-02T03:05:35Z");
    let edited =
        app.post(&format!("{}/{}", Form::Default.messages(&conversation), sid_of(&message)), &[("Body", "c")]).await;
    assert_eq!(edited["date_updated"], "2030-01-02T03:05:35Z");

    let offset =
        json_ok(app.control(Method::POST, "/_emulator/clock", Some(&json!({ "offset_seconds": 86_400 }))).await).await;
    assert_eq!((&offset["frozen"], &offset["offset_seconds"]), (&json!(false), &json!(86_400)));
    let back = json_ok(app.control(Method::DELETE, "/_emulator/clock", None).await).await;
    assert_eq!(back["offset_seconds"], 0);
    for bad in [json!({}), json!({ "freeze_at": "soon" }), json!({ "offset_seconds": 1, "advance_seconds": 1 })] {
        assert_twilio_error(
            app.control(Method::POST, "/_emulator/clock", Some(&bad)).await,
            StatusCode::BAD_REQUEST,
            20001,
        )
        .await;
    }
}

#[tokio::test]
async fn the_control_plane_can_be_protected_or_disabled_but_health_stays_open() {
    let protected = spawn_app_with(Config { control_token: Some("s3cret".into()), ..Config::defaults() }).await;
    assert_twilio_error(
        protected.control(Method::GET, "/_emulator/state", None).await,
        StatusCode::UNAUTHORIZED,
        20003,
    )
    .await;
    let with_token = protected
        .client
        .get(format!("{}/_emulator/state", protected.base))
        .bearer_auth("s3cret")
        .send()
        .await
        .expect("send");
    assert_eq!(with_token.status(), StatusCode::OK);
    assert_eq!(protected.control(Method::GET, "/_emulator/health", None).await.status(), StatusCode::OK);

    let disabled = spawn_app_with(Config { no_control: true, ..Config::defaults() }).await;
    assert_twilio_error(disabled.control(Method::POST, "/_emulator/reset", None).await, StatusCode::NOT_FOUND, 20404)
        .await;
    assert_eq!(disabled.control(Method::GET, "/_emulator/health", None).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn strict_auth_rejects_wrong_secrets_and_accepts_right_ones_for_both_basic_forms() {
    let key = ApiKey {
        sid: "SK0000000000000000000000000000000a".parse().expect("SK"),
        secret: Some("key-secret".into()),
        account: ACCOUNT.parse().expect("AC"),
    };
    let config = Config {
        accounts: vec![(ACCOUNT.parse().expect("AC"), "right-token".into())],
        api_keys: vec![key],
        ..Config::defaults()
    };
    let app = spawn_app_with(config).await;
    let url = format!("{}/v1/Conversations", app.base);
    let status = |user: &'static str, password: &'static str| {
        let request = app.client.get(&url).basic_auth(user, Some(password));
        async move { request.send().await.expect("send") }
    };
    assert_eq!(status(ACCOUNT, "right-token").await.status(), StatusCode::OK);
    assert_eq!(status("SK0000000000000000000000000000000a", "key-secret").await.status(), StatusCode::OK);
    for (case, user, password) in [
        ("a wrong token", ACCOUNT, "wrong-token"),
        ("an account not configured", OTHER_ACCOUNT, "right-token"),
        ("a key's wrong secret", "SK0000000000000000000000000000000a", "wrong-secret"),
        ("a key not configured", "SK0000000000000000000000000000000b", "key-secret"),
    ] {
        assert_twilio_error_for(case, status(user, password).await, StatusCode::UNAUTHORIZED, 20003).await;
    }
}

#[tokio::test]
async fn one_authorization_header_gets_each_servers_own_answer_every_time() {
    // Servers in one process share threads: no server's answer for a header may ever be
    // another's, nor a right token's answer a wrong one's.
    let strict = spawn_app_with(Config {
        accounts: vec![(ACCOUNT.parse().expect("AC"), "right-token".into())],
        ..Config::defaults()
    })
    .await;
    let open = spawn_app().await;
    let status = |app: &TestApp, password: &'static str| {
        let request = app.client.get(format!("{}/v1/Conversations", app.base)).basic_auth(ACCOUNT, Some(password));
        async move { request.send().await.expect("send").status() }
    };
    for _ in 0..2 {
        assert_eq!(status(&strict, "wrong-token").await, StatusCode::UNAUTHORIZED);
        assert_eq!(status(&open, "wrong-token").await, StatusCode::OK);
        assert_eq!(status(&strict, "wrong-token").await, StatusCode::UNAUTHORIZED);
        assert_eq!(status(&strict, "right-token").await, StatusCode::OK);
        assert_eq!(status(&strict, "right-token").await, StatusCode::OK);
    }
}

/// A conversation with a chat and an SMS participant, a media message, and a receipt moved
/// to `read`: everything the state document has to carry.
async fn fill_rich(app: &TestApp) -> String {
    let service = app.default_service().await;
    let conversation = app.conversation(&Form::Default).await;
    let participants = format!("/v1/Conversations/{conversation}/Participants");
    app.post(&participants, &[("Identity", "alice")]).await;
    app.post(
        &participants,
        &[("MessagingBinding.Address", "+15550000001"), ("MessagingBinding.ProxyAddress", "+15017122661")],
    )
    .await;
    let upload = app
        .client
        .post(format!("{}/v1/Services/{service}/Media", app.base))
        .basic_auth(app.account, Some("t"))
        .header("Content-Type", "image/gif")
        .body(&b"GIF89a"[..])
        .send()
        .await
        .expect("send");
    let media = sid_of(&json_ok(upload).await);
    let message = app.post(&Form::Default.messages(&conversation), &[("Author", "alice"), ("MediaSid", &media)]).await;
    let change = json!({ "account_sid": app.account, "conversation_sid": conversation, "message_sid": message["sid"], "status": "read" });
    json_ok(app.control(Method::POST, "/_emulator/receipts", Some(&change)).await).await;
    conversation
}

#[tokio::test]
async fn participants_receipts_and_media_survive_export_and_import() {
    let source = spawn_app().await;
    let conversation = fill_rich(&source).await;
    let document = export(&source).await;

    let target = spawn_app().await;
    json_ok(target.control(Method::PUT, "/_emulator/state", Some(&document)).await).await;

    assert_eq!(export(&target).await, document);
    let path = |tail: &str| format!("/v1/Conversations/{conversation}{tail}");
    let messages = target.get(&path("/Messages")).await;
    let message = &messages["messages"][0];
    assert_eq!((&message["delivery"]["read"], &message["media"][0]["size"]), (&json!("all"), &json!(6)));
    assert!(message["participant_sid"].as_str().is_some_and(|s| s.starts_with("MB")));
    let participants = target.get(&path("/Participants")).await;
    assert_eq!(participants["participants"].as_array().map(Vec::len), Some(2));
    let service = target.default_service().await;
    let content = target
        .send(
            Method::GET,
            &format!("/v1/Services/{service}/Media/{}/Content", message["media"][0]["sid"].as_str().expect("ME")),
            &[],
        )
        .await;
    assert_eq!(content.bytes().await.expect("bytes").as_ref(), b"GIF89a");
}

#[tokio::test]
async fn an_import_at_a_later_second_exports_the_same_document() {
    // The default service's roles are dated with the service: an import that moves the
    // service's date must move theirs, or they would look changed and join the export.
    let freeze = |at: &str| json!({ "freeze_at": at });
    let source = spawn_app().await;
    source.control(Method::POST, "/_emulator/clock", Some(&freeze("2030-01-01T00:00:00Z"))).await;
    fill(&source, ACCOUNT).await;
    let document = export(&source).await;

    let target = spawn_app().await;
    target.control(Method::POST, "/_emulator/clock", Some(&freeze("2030-01-01T00:00:10Z"))).await;
    json_ok(target.control(Method::PUT, "/_emulator/state", Some(&document)).await).await;

    assert_eq!(export(&target).await, document);
}

#[tokio::test]
async fn the_root_says_what_answers_here_and_where_to_go_next() {
    let cases = [(Config::defaults(), Some("/_emulator/")), (Config { no_control: true, ..Config::defaults() }, None)];
    for (config, control_plane) in cases {
        let app = spawn_app_with(config).await;

        let response = app.client.get(format!("{}/", app.base)).send().await.expect("send");

        assert_eq!(response.status(), StatusCode::OK, "no credentials needed");
        let about: Value = response.json().await.expect("JSON");
        assert_eq!(about["name"], "twilio-conversations-emulator");
        assert_eq!(about["version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(about["docs"], "https://www.twilio.com/docs/conversations/api");
        assert_eq!(about["health"], "/_emulator/health");
        assert_eq!(about["control_plane"].as_str(), control_plane);
        assert_eq!(about["inspector"].as_str().is_some(), control_plane.is_some(), "{about}");
    }
}
