//! Every URL in a response (`url`, `links`, page URLs) resolves to a route that answers,
//! on the URL form it was built for. Links to what is not emulated are listed here, each
//! with why, and answer a Twilio-shaped 404.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{Form, TestApp, sid_of, spawn_app};

/// Links that point at what the emulator does not serve (README, "What is not emulated").
const UNEMULATED: [&str; 2] = [
    // No public schema for channel metadata.
    "/ChannelMetadata",
    // Twilio's spec lists a conversation's `export` link but defines no path for it.
    "/Export",
];

/// Every URL on the emulator in `value`: `url`, `links.*`, `meta.*_url`, wherever they are.
fn urls(value: &Value, base: &str, found: &mut BTreeSet<String>) {
    match value {
        Value::String(text) if text.starts_with(base) => {
            found.insert(text.clone());
        }
        Value::Object(map) => map.values().for_each(|value| urls(value, base, found)),
        Value::Array(items) => items.iter().for_each(|item| urls(item, base, found)),
        _ => {}
    }
}

async fn get(app: &TestApp, url: &str) -> (StatusCode, Value) {
    let response = app.client.get(url).basic_auth(app.account, Some("token")).send().await.expect("request");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn every_link_in_every_response_answers_on_its_own_url_form() {
    let app = spawn_app().await;
    let mut seen = BTreeSet::new();
    let mut to_visit = Vec::new();

    for form in app.forms().await {
        let conversation = app.conversation(&form).await;
        let path = format!("{}/{conversation}", form.conversations());
        app.post(&format!("{path}/Participants"), &[("Identity", "linda")]).await;
        app.post(
            &format!("{path}/Participants"),
            &[("MessagingBinding.Address", "+15550009999"), ("MessagingBinding.ProxyAddress", "+15550008888")],
        )
        .await;
        app.message(&form, &conversation, "hello").await;
        app.post(
            &format!("{path}/Webhooks"),
            &[
                ("Target", "webhook"),
                ("Configuration.Url", "http://127.0.0.1:9/x"),
                ("Configuration.Filters", "onMessageAdded"),
            ],
        )
        .await;
        let users = match &form {
            Form::Default => "/v1/Users".to_owned(),
            Form::Service(service) => format!("/v1/Services/{service}/Users"),
        };
        app.post(&users, &[("Identity", "linda")]).await;
        let roots = [
            form.conversations(),
            path.clone(),
            format!("{path}/Participants"),
            format!("{path}/Messages"),
            format!("{path}/Webhooks"),
            users.clone(),
        ];
        for root in roots {
            to_visit.push(format!("{}{root}", app.base));
        }
    }
    for root in ["/v1/Configuration", "/v1/Configuration/Webhooks", "/v1/Services", "/v1/Roles", "/v1/Credentials"] {
        to_visit.push(format!("{}{root}", app.base));
    }
    let service = sid_of(&app.post("/v1/Services", &[("FriendlyName", "links")]).await);
    to_visit.push(format!("{}/v1/Services/{service}/Configuration", app.base));
    to_visit.push(format!("{}/v1/Services/{service}/Configuration/Webhooks", app.base));
    to_visit.push(format!("{}/v1/Services/{service}/Roles", app.base));

    let mut dead = Vec::new();
    while let Some(url) = to_visit.pop() {
        if !seen.insert(url.clone()) {
            continue;
        }
        let (status, body) = get(&app, &url).await;
        let expected_gone = UNEMULATED.iter().any(|tail| url.ends_with(tail));
        if status == StatusCode::NOT_FOUND && !expected_gone {
            dead.push(url.clone());
            continue;
        }
        if expected_gone {
            assert_eq!(body["status"], 404, "{url} answers a Twilio-shaped 404");
            continue;
        }
        // A link to a list that needs a filter (`ParticipantConversations`) answers 400
        // without one: it exists, and Twilio answers the same.
        if !status.is_success() {
            assert_eq!(body["status"], status.as_u16(), "{url} answers a Twilio-shaped {status}");
            continue;
        }
        let mut found = BTreeSet::new();
        urls(&body, &app.base, &mut found);
        to_visit.extend(found.into_iter().filter(|url| !seen.contains(url)));
    }
    assert!(seen.len() > 40, "the walk reached {} URLs", seen.len());
    assert_eq!(dead, Vec::<String>::new(), "links that answer 404");
}
