//! The binary as operators run it: flags, the healthcheck subcommand, graceful shutdown,
//! and the library's router used in-process without a socket.

use std::process::Command;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use tower::ServiceExt;
use twilio_conversations_emulator::{AppState, Config, app};

use reqwest::Method;

use crate::helpers::{ACCOUNT, spawn_app_with, spawn_binary, spawn_binary_with};

const BINARY: &str = env!("CARGO_BIN_EXE_twilio-conversations-emulator");

fn healthcheck(port: u16) -> bool {
    Command::new(BINARY)
        .args(["healthcheck", "--host", "127.0.0.1", "--port", &port.to_string()])
        .env_remove("TWILIO_EMULATOR_PORT")
        .status()
        .expect("run the healthcheck")
        .success()
}

#[test]
fn healthcheck_succeeds_against_a_running_instance_and_fails_without_one() {
    let running = spawn_binary();
    let port = running.port();
    assert!(healthcheck(port), "healthy instance on {port}");
    drop(running);
    assert!(!healthcheck(port), "nothing listens on {port} any more");
}

#[test]
fn sigterm_shuts_the_server_down_gracefully() {
    let (status, _) = spawn_binary().terminate();
    assert!(status.success(), "exit status after SIGTERM: {status}");
}

#[tokio::test]
async fn each_request_is_logged_once_at_info_without_colours_off_a_terminal() {
    let running = spawn_binary_with(&["--log-level", "info"]);
    let response = running.send(Method::GET, "/v1/Conversations/CH00000000000000000000000000000000", &[]).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    let (_, log) = running.terminate();

    let logged: Vec<&str> = log.lines().filter(|line| line.contains("method=GET")).collect();
    assert_eq!(logged.len(), 1, "{log}");
    assert!(logged[0].contains(r#"path="/v1/Conversations/CH00000000000000000000000000000000" status=404"#), "{log}");
    assert!(!log.contains('\u{1b}'), "no escape codes in a piped log: {log}");
}

#[test]
fn an_unusable_port_is_a_clear_start_up_error() {
    let running = spawn_binary();
    let output = Command::new(BINARY).args(["--port", &running.port().to_string()]).output().expect("run");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot listen"), "{output:?}");
}

#[tokio::test]
async fn public_url_overrides_the_host_in_every_url() {
    let config = Config { public_url: Some("https://emulator.example:9999/".into()), ..Config::defaults() };
    let app = spawn_app_with(config).await;
    let conversation = app.post("/v1/Conversations", &[]).await;
    assert!(
        conversation["url"]
            .as_str()
            .is_some_and(|url| url.starts_with("https://emulator.example:9999/v1/Conversations/CH"))
    );
    let page = app.get("/v1/Conversations").await;
    assert_eq!(page["meta"]["first_page_url"], "https://emulator.example:9999/v1/Conversations?PageSize=50&Page=0");
}

#[tokio::test]
async fn the_router_serves_requests_in_process() {
    let router = app(AppState::new(&Config::defaults(), "localhost:4747".into()));
    let credentials = base64_basic(ACCOUNT, "token");
    let request =
        Request::get("/v1/Configuration").header("Authorization", credentials).body(Body::empty()).expect("request");

    let response = router.oneshot(request).await.expect("infallible");

    assert_eq!(response.status(), StatusCode::OK);
    let body = axum::body::to_bytes(response.into_body(), 1 << 20).await.expect("body");
    let json: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(json["url"], "http://localhost:4747/v1/Configuration", "no Host header: the listen address is used");
}

fn base64_basic(user: &str, password: &str) -> String {
    use base64::Engine;
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}")))
}
