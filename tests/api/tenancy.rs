//! Each AccountSid is an isolated tenant; API keys act for the account they are bound to.

use reqwest::{Method, StatusCode};

use crate::helpers::{
    ACCOUNT, Form, OTHER_ACCOUNT, assert_twilio_error, assert_twilio_error_for, json_ok, sid_of, spawn_app,
    spawn_app_with,
};
use twilio_conversations_emulator::Config;
use twilio_conversations_emulator::config::ApiKey;

#[tokio::test]
async fn one_account_never_sees_another_accounts_data() {
    let app = spawn_app().await;
    for form in app.forms().await {
        // ACCOUNT owns a conversation with a message.
        let conversation = app.conversation(&form).await;
        let message = app.message(&form, &conversation, "private").await;
        let item = format!("{}/{}", form.messages(&conversation), sid_of(&message));
        // OTHER_ACCOUNT can neither read nor write any of it.
        for (case, method, path) in [
            ("fetch the conversation", Method::GET, format!("{}/{conversation}", form.conversations())),
            ("list its messages", Method::GET, form.messages(&conversation)),
            ("post a message", Method::POST, form.messages(&conversation)),
            ("fetch the message", Method::GET, item.clone()),
            ("update the message", Method::POST, item.clone()),
            ("delete the message", Method::DELETE, item.clone()),
        ] {
            let response = app.send_as(OTHER_ACCOUNT, method.clone(), &path, &[]).await;
            assert_twilio_error_for(&format!("{}: {case}", form.name()), response, StatusCode::NOT_FOUND, 20404).await;
        }
        let listed = json_ok(app.send_as(OTHER_ACCOUNT, Method::GET, "/v1/Conversations", &[]).await).await;
        assert_eq!(listed["conversations"], serde_json::json!([]), "{}", form.name());
        assert_eq!(app.get(&item).await, message, "the owner still has it, unchanged");
    }
    let services = json_ok(app.send_as(OTHER_ACCOUNT, Method::GET, "/v1/Services", &[]).await).await;
    assert_eq!(services["services"].as_array().map(Vec::len), Some(1), "only its own default service");
    assert_eq!(services["services"][0]["account_sid"], OTHER_ACCOUNT);
}

#[tokio::test]
async fn each_account_has_its_own_stable_default_service() {
    let app = spawn_app().await;
    let mine = app.get("/v1/Configuration").await["default_chat_service_sid"].clone();
    let theirs = json_ok(
        app.send_as(OTHER_ACCOUNT, Method::GET, "/v1/Configuration", &[])
            .await,
    )
    .await["default_chat_service_sid"]
        .clone();
    assert_ne!(mine, theirs);
    let restarted = spawn_app().await;
    assert_eq!(restarted.get("/v1/Configuration").await["default_chat_service_sid"], mine, "stable across restarts");
    let conversation = app.post("/v1/Conversations", &[]).await;
    assert_eq!(conversation["chat_service_sid"], mine);
}

#[tokio::test]
async fn api_keys_act_for_their_bound_account_and_unbound_keys_for_their_own() {
    let bound_key = "SK00000000000000000000000000000abc";
    let binding =
        ApiKey { sid: bound_key.parse().expect("SK SID"), secret: None, account: ACCOUNT.parse().expect("AC SID") };
    let config = Config { api_keys: vec![binding], ..Config::defaults() };
    let app = spawn_app_with(config).await;
    let conversation = app.conversation(&Form::Default).await;

    let through_key = app.send_as(bound_key, Method::GET, &format!("/v1/Conversations/{conversation}"), &[]).await;
    assert_eq!(json_ok(through_key).await["account_sid"], ACCOUNT);

    let unbound_key = "SK00000000000000000000000000000def";
    let elsewhere = app.send_as(unbound_key, Method::GET, &format!("/v1/Conversations/{conversation}"), &[]).await;
    assert_twilio_error(elsewhere, StatusCode::NOT_FOUND, 20404).await;
    let own = json_ok(app.send_as(unbound_key, Method::POST, "/v1/Conversations", &[]).await).await;
    assert_eq!(own["account_sid"], "AC00000000000000000000000000000def");
}
