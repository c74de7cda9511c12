//! The webhook configuration survives what the rest of the state survives: an export,
//! reset and import, and restarts on a `--state-file` (log replay, then the snapshot).

use std::path::PathBuf;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, json_ok, sid_of, spawn_app, spawn_binary_with};

/// Sets up one of everything, and returns the paths whose answers must survive.
async fn configure_everything(app: &TestApp) -> Vec<String> {
    let service = sid_of(&app.post("/v1/Services", &[("FriendlyName", "kept")]).await);
    app.post("/v1/Configuration", &[("DefaultChatServiceSid", &service), ("DefaultClosedTimer", "P1D")]).await;
    app.post(
        "/v1/Configuration/Webhooks",
        &[("PostWebhookUrl", "https://example.com/account"), ("Filters", "onMessageAdded"), ("Target", "flex")],
    )
    .await;
    let service_path = format!("/v1/Services/{service}");
    app.post(&format!("{service_path}/Configuration/Webhooks"), &[("PreWebhookUrl", "https://example.com/pre")]).await;
    app.post(&format!("{service_path}/Configuration"), &[("ReachabilityEnabled", "true")]).await;
    // On the default form, which now means the new default service.
    app.post("/v1/Conversations", &[("UniqueName", "hooked")]).await;
    for target in [
        vec![
            ("Target", "webhook"),
            ("Configuration.Url", "https://example.com/a"),
            ("Configuration.Filters", "onMessageAdded"),
        ],
        vec![
            ("Target", "trigger"),
            ("Configuration.Url", "https://example.com/b"),
            ("Configuration.Triggers", "help"),
            ("Configuration.ReplayAfter", "0"),
        ],
        vec![("Target", "studio"), ("Configuration.FlowSid", "FW00000000000000000000000000000001")],
    ] {
        app.post("/v1/Conversations/hooked/Webhooks", &target).await;
    }
    app.post(
        "/v1/Configuration/Addresses",
        &[
            ("Type", "sms"),
            ("Address", "+15017122661"),
            ("AutoCreation.Enabled", "true"),
            ("AutoCreation.Type", "webhook"),
            ("AutoCreation.WebhookUrl", "https://example.com/auto"),
        ],
    )
    .await;
    vec![
        "/v1/Configuration".to_owned(),
        "/v1/Configuration/Webhooks".to_owned(),
        format!("{service_path}/Configuration/Webhooks"),
        format!("{service_path}/Configuration"),
        "/v1/Conversations/hooked/Webhooks".to_owned(),
        "/v1/Configuration/Addresses".to_owned(),
    ]
}

/// The answers at `paths`, with the server's own base URL (its port differs across
/// restarts) taken out.
async fn answers(app: &TestApp, paths: &[String]) -> Vec<String> {
    let mut seen = Vec::new();
    for path in paths {
        seen.push(app.get(path).await.to_string().replace(&app.base, ""));
    }
    seen
}

#[tokio::test]
async fn an_export_reset_and_import_keeps_the_webhook_configuration() {
    let app = spawn_app().await;
    let paths = configure_everything(&app).await;
    let before = answers(&app, &paths).await;
    let exported = json_ok(app.control(Method::GET, "/_emulator/state", None).await).await;

    let reset = app.control(Method::POST, "/_emulator/reset", None).await;
    assert_eq!(reset.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.get("/v1/Configuration/Webhooks").await["post_webhook_url"], Value::Null, "reset wipes it");
    assert_eq!(app.get("/v1/Configuration/Addresses").await["address_configurations"], json!([]));
    json_ok(app.control(Method::PUT, "/_emulator/state", Some(&exported)).await).await;

    assert_eq!(answers(&app, &paths).await, before);
    assert_eq!(json_ok(app.control(Method::GET, "/_emulator/state", None).await).await, exported);
}

/// A state file path of this test's own, removed (with its companions) when dropped.
struct TempState(PathBuf);

impl Drop for TempState {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
        for suffix in [".log", ".log.old", ".lock", ".compacting"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.0.display()));
        }
    }
}

#[tokio::test]
async fn restarts_on_a_state_file_keep_the_webhook_configuration() {
    let state = TempState(std::env::temp_dir().join(format!("emulator-state-{}-webhooks.json", std::process::id())));
    let path = state.0.to_str().expect("utf-8 temp path").to_owned();
    let running = spawn_binary_with(&["--state-file", &path]);
    let paths = configure_everything(&running).await;
    let deleted =
        running.get("/v1/Conversations/hooked/Webhooks").await["webhooks"][0]["sid"].as_str().map(str::to_owned);
    let removed = running
        .send(Method::DELETE, &format!("/v1/Conversations/hooked/Webhooks/{}", deleted.unwrap_or_default()), &[])
        .await;
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    let before = answers(&running, &paths).await;
    running.kill();

    // The first restart replays the log; the second reads the snapshot the first wrote.
    for round in ["from the log", "from the snapshot"] {
        let restarted = spawn_binary_with(&["--state-file", &path]);
        assert_eq!(answers(&restarted, &paths).await, before, "{round}");
        restarted.kill();
    }
}
