//! Conversation-scoped webhooks on both URL forms: every operation, every refusal with
//! its Twilio code, the limit of five, and their deletion with the conversation.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Form, TestApp, assert_twilio_error, assert_twilio_error_for, json_ok, sid_of, spawn_app};

/// A refused request: its case, its form, and the status and Twilio code expected.
type InvalidCase<'a> = (&'a str, Vec<(&'a str, &'a str)>, StatusCode, u64);

type Params<'a> = &'a [(&'a str, &'a str)];

fn webhooks(form: &Form, conversation: &str) -> String {
    format!("{}/{conversation}/Webhooks", form.conversations())
}

const WEBHOOK: Params = &[
    ("Target", "webhook"),
    ("Configuration.Url", "https://example.com/hook"),
    ("Configuration.Filters", "onMessageAdded"),
    ("Configuration.Filters", "onParticipantAdded"),
];

async fn create(app: &TestApp, path: &str, params: Params<'_>) -> Value {
    let response = app.send(Method::POST, path, params).await;
    assert_eq!(response.status(), StatusCode::CREATED, "{path}");
    json_ok(response).await
}

#[tokio::test]
async fn conversation_webhooks_support_every_operation_on_both_forms() {
    let app = spawn_app().await;
    for form in app.forms().await {
        let conversation = sid_of(&app.post(&form.conversations(), &[("UniqueName", "hooked")]).await);
        // By unique name as well as by SID.
        let path = webhooks(&form, "hooked");
        let canonical = webhooks(&form, &conversation);

        // Create, one of each target.
        let webhook = create(&app, &path, WEBHOOK).await;
        let trigger = create(
            &app,
            &path,
            &[
                ("Target", "trigger"),
                ("Configuration.Url", "https://example.com/trigger"),
                ("Configuration.Method", "GET"),
                ("Configuration.Triggers", "help"),
                ("Configuration.Triggers", "stop"),
                ("Configuration.ReplayAfter", "3"),
            ],
        )
        .await;
        let studio = create(
            &app,
            &path,
            &[("Target", "studio"), ("Configuration.FlowSid", "FW00000000000000000000000000000001")],
        )
        .await;
        let url = format!("{}{canonical}/{}", app.base, sid_of(&webhook));
        assert_eq!(webhook["url"], url.as_str(), "{}", form.name());
        assert!(sid_of(&webhook).starts_with("WH"));
        assert_eq!(webhook["conversation_sid"], conversation.as_str());
        assert_eq!(webhook["account_sid"], app.account);
        assert_eq!(webhook["chat_service_sid"].is_string(), matches!(form, Form::Service(_)), "{}", form.name());
        assert_eq!(webhook["target"], "webhook");
        assert_eq!(
            webhook["configuration"],
            json!({"url": "https://example.com/hook", "method": "post", "filters": ["onMessageAdded", "onParticipantAdded"]})
        );
        assert_eq!(
            trigger["configuration"],
            json!({"url": "https://example.com/trigger", "method": "get", "triggers": ["help", "stop"], "replay_after": 3})
        );
        assert_eq!(studio["configuration"], json!({"flow_sid": "FW00000000000000000000000000000001"}));
        assert!(webhook["date_created"].is_string() && webhook["date_updated"].is_string());

        // Fetch
        assert_eq!(app.get(&format!("{path}/{}", sid_of(&webhook))).await, webhook);

        // List, in creation order, five to a page.
        let listed = app.get(&path).await;
        assert_eq!(listed["webhooks"], json!([webhook, trigger, studio]));
        assert_eq!((&listed["meta"]["key"], &listed["meta"]["page_size"]), (&json!("webhooks"), &json!(5)));
        assert!(listed["meta"]["url"].as_str().is_some_and(|u| u.ends_with(&format!("{canonical}?PageSize=5&Page=0"))));

        // Update: configuration only; the target stays.
        let updated = app
            .post(
                &format!("{path}/{}", sid_of(&webhook)),
                &[("Configuration.Method", "get"), ("Configuration.Filters", "onMessageRemoved"), ("Target", "studio")],
            )
            .await;
        assert_eq!(updated["target"], "webhook");
        assert_eq!(
            updated["configuration"],
            json!({"url": "https://example.com/hook", "method": "get", "filters": ["onMessageRemoved"]})
        );

        // Delete
        let deleted = app.send(Method::DELETE, &format!("{path}/{}", sid_of(&trigger)), &[]).await;
        assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
        let gone = app.send(Method::GET, &format!("{path}/{}", sid_of(&trigger)), &[]).await;
        assert_twilio_error(gone, StatusCode::NOT_FOUND, 50360).await;
        assert_eq!(app.get(&path).await["webhooks"].as_array().map(Vec::len), Some(2));
    }
}

#[tokio::test]
async fn invalid_conversation_webhooks_get_twilio_codes() {
    let app = spawn_app().await;
    for form in app.forms().await {
        let conversation = app.conversation(&form).await;
        let path = webhooks(&form, &conversation);
        let url = ("Configuration.Url", "https://example.com/hook");
        let filter = ("Configuration.Filters", "onMessageAdded");
        let long_trigger = "x".repeat(249);
        let cases: Vec<InvalidCase> = vec![
            ("no Target", vec![url, filter], StatusCode::BAD_REQUEST, 50368),
            ("an unknown Target", vec![("Target", "email"), url, filter], StatusCode::BAD_REQUEST, 50364),
            ("a webhook without a URL", vec![("Target", "webhook"), filter], StatusCode::BAD_REQUEST, 50369),
            (
                "a trigger without a URL",
                vec![("Target", "trigger"), ("Configuration.Triggers", "help")],
                StatusCode::BAD_REQUEST,
                50369,
            ),
            ("a webhook without filters", vec![("Target", "webhook"), url], StatusCode::BAD_REQUEST, 50370),
            (
                "a relative URL",
                vec![("Target", "webhook"), ("Configuration.Url", "hook"), filter],
                StatusCode::BAD_REQUEST,
                20001,
            ),
            (
                "a pre-event filter",
                vec![("Target", "webhook"), url, ("Configuration.Filters", "onMessageAdd")],
                StatusCode::BAD_REQUEST,
                50365,
            ),
            (
                "an unknown filter",
                vec![("Target", "webhook"), url, ("Configuration.Filters", "onMessageSent")],
                StatusCode::BAD_REQUEST,
                50365,
            ),
            ("a trigger without keywords", vec![("Target", "trigger"), url], StatusCode::BAD_REQUEST, 50371),
            (
                "an empty keyword",
                vec![("Target", "trigger"), url, ("Configuration.Triggers", "")],
                StatusCode::BAD_REQUEST,
                50366,
            ),
            (
                "a keyword over 248 characters",
                vec![("Target", "trigger"), url, ("Configuration.Triggers", &long_trigger)],
                StatusCode::BAD_REQUEST,
                50366,
            ),
            (
                "a flow SID that is not FW…",
                vec![("Target", "studio"), ("Configuration.FlowSid", "IS00000000000000000000000000000001")],
                StatusCode::BAD_REQUEST,
                50367,
            ),
            ("a studio target without a flow", vec![("Target", "studio")], StatusCode::BAD_REQUEST, 50367),
            (
                "an unknown method",
                vec![("Target", "webhook"), url, filter, ("Configuration.Method", "put")],
                StatusCode::BAD_REQUEST,
                20001,
            ),
            (
                "a ReplayAfter that is not an integer",
                vec![("Target", "webhook"), url, filter, ("Configuration.ReplayAfter", "soon")],
                StatusCode::BAD_REQUEST,
                20001,
            ),
        ];
        for (case, params, status, code) in cases {
            let response = app.send(Method::POST, &path, &params).await;
            assert_twilio_error_for(&format!("{}: {case}", form.name()), response, status, code).await;
        }
        assert_eq!(app.get(&path).await["webhooks"], json!([]), "nothing stored");

        // The item routes: a malformed SID, an unknown one, a bad update.
        let malformed = format!("{path}/not-a-webhook");
        let unknown = format!("{path}/WH00000000000000000000000000000000");
        for method in [Method::GET, Method::POST, Method::DELETE] {
            let response = app.send(method.clone(), &malformed, &[]).await;
            assert_twilio_error_for(&format!("{method} malformed"), response, StatusCode::BAD_REQUEST, 50363).await;
            let response = app.send(method.clone(), &unknown, &[]).await;
            assert_twilio_error_for(&format!("{method} unknown"), response, StatusCode::NOT_FOUND, 50360).await;
        }
        let webhook = create(&app, &path, WEBHOOK).await;
        let bad_filter = app
            .send(Method::POST, &format!("{path}/{}", sid_of(&webhook)), &[("Configuration.Filters", "onMessageAdd")])
            .await;
        assert_twilio_error(bad_filter, StatusCode::BAD_REQUEST, 50365).await;
        let unknown_conversation = webhooks(&form, "CH00000000000000000000000000000000");
        assert_twilio_error(app.send(Method::GET, &unknown_conversation, &[]).await, StatusCode::NOT_FOUND, 20404)
            .await;
    }
}

#[tokio::test]
async fn a_sixth_webhook_is_refused_and_a_deleted_one_frees_its_place() {
    let app = spawn_app().await;
    for form in app.forms().await {
        let conversation = app.conversation(&form).await;
        let path = webhooks(&form, &conversation);
        let mut created = Vec::new();
        for _ in 0..5 {
            created.push(create(&app, &path, WEBHOOK).await);
        }

        let sixth = app.send(Method::POST, &path, WEBHOOK).await;

        assert_twilio_error(sixth, StatusCode::BAD_REQUEST, 50361).await;
        let listed = app.get(&format!("{path}?PageSize=50")).await;
        assert_eq!(listed["webhooks"].as_array().map(Vec::len), Some(5), "{}: PageSize is clamped to 5", form.name());
        assert_eq!(listed["meta"]["next_page_url"], Value::Null);
        app.send(Method::DELETE, &format!("{path}/{}", sid_of(&created[0])), &[]).await;
        create(&app, &path, WEBHOOK).await;
    }
}

#[tokio::test]
async fn deleting_a_conversation_deletes_its_webhooks() {
    let app = spawn_app().await;
    for form in app.forms().await {
        app.post(&form.conversations(), &[("UniqueName", "short-lived")]).await;
        let webhook = create(&app, &webhooks(&form, "short-lived"), WEBHOOK).await;

        app.send(Method::DELETE, &format!("{}/short-lived", form.conversations()), &[]).await;
        app.post(&form.conversations(), &[("UniqueName", "short-lived")]).await;

        assert_eq!(app.get(&webhooks(&form, "short-lived")).await["webhooks"], json!([]), "{}", form.name());
        let exported = json_ok(app.control(Method::GET, "/_emulator/state", None).await).await;
        assert!(!exported.to_string().contains(&sid_of(&webhook)), "the export has no trace of it");
    }
}
