//! The HTTP edge under abuse (issue 17): half-sent requests, idle connections, requests
//! hyper cannot parse, and a shutdown while clients hold partial requests. Raw TCP, since
//! an HTTP client would not send what these tests send.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use twilio_conversations_emulator::Config;

use crate::helpers::{ACCOUNT, basic_credentials, spawn_app_with, spawn_binary_with};

/// A failure guard only: every wait below ends on an event (a socket closing, an answer)
/// long before it, unless the behaviour under test is missing.
const GUARD: Duration = Duration::from_secs(20);

fn config(header_timeout_ms: u64, idle_timeout_ms: u64, max_connections: usize) -> Config {
    Config { header_timeout_ms, idle_timeout_ms, max_connections, ..Config::defaults() }
}

async fn connect(base: &str) -> TcpStream {
    TcpStream::connect(base.trim_start_matches("http://")).await.expect("connect")
}

/// Everything the server sends until it closes the connection.
async fn read_until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut received = Vec::new();
    let read = tokio::time::timeout(GUARD, stream.read_to_end(&mut received)).await;
    assert!(read.is_ok(), "the server closed the connection (received so far: {received:?})");
    received
}

/// The status and JSON body of the one answer in `received`.
fn status_and_json(received: &[u8]) -> (u16, Value) {
    let text = String::from_utf8_lossy(received);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or_else(|| panic!("a head and a body: {text}"));
    let status = head.split(' ').nth(1).and_then(|status| status.parse().ok()).expect("a status line");
    assert!(head.to_ascii_lowercase().contains("content-type: application/json"), "{head}");
    (status, serde_json::from_str(body).unwrap_or_else(|error| panic!("{error}: {text}")))
}

#[tokio::test]
async fn a_half_sent_request_is_closed_after_the_header_timeout() {
    let app = spawn_app_with(config(200, 60_000, 512)).await;
    let mut half_sent = connect(&app.base).await;
    half_sent.write_all(b"GET /v1/Conversations HTTP/1.1\r\nHost: emulator\r\n").await.expect("send part of a head");

    let received = read_until_closed(&mut half_sent).await;

    assert!(received.is_empty(), "no answer is owed to a request that never arrived: {received:?}");
}

#[tokio::test]
async fn many_half_sent_requests_do_not_lock_out_a_complete_one() {
    let app = spawn_app_with(config(300, 60_000, 4)).await;
    let mut half_sent = Vec::new();
    for _ in 0..12 {
        let mut stream = connect(&app.base).await;
        stream.write_all(b"POST /v1/Conversations HTTP/1.1\r\nHost: emu").await.expect("send part of a head");
        half_sent.push(stream);
    }

    let answer = tokio::time::timeout(GUARD, app.client.get(format!("{}/_emulator/health", app.base)).send()).await;

    let status = answer.expect("answered before the guard").expect("a response").status();
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed_after_the_idle_timeout() {
    let app = spawn_app_with(config(60_000, 200, 512)).await;
    let mut stream = connect(&app.base).await;
    stream.write_all(b"GET /_emulator/health HTTP/1.1\r\nHost: emulator\r\n\r\n").await.expect("send a request");

    let received = read_until_closed(&mut stream).await;

    let text = String::from_utf8_lossy(&received);
    assert!(text.starts_with("HTTP/1.1 200 OK"), "answered, then closed once idle: {text}");
}

#[tokio::test]
async fn requests_hyper_refuses_before_the_router_get_twilio_shaped_json() {
    let app = spawn_app_with(Config::defaults()).await;
    let long_uri = format!("GET /v1/Conversations?x={} HTTP/1.1\r\nHost: e\r\n\r\n", "a".repeat(64 * 1024));
    let many_headers = format!("GET /v1/Conversations HTTP/1.1\r\nHost: e\r\n{}\r\n", "X-A: b\r\n".repeat(101));
    let cases: [(&str, Vec<u8>, u16); 5] = [
        ("bytes that are not HTTP", b"\x00\x01\x02 nonsense\r\n\r\n".to_vec(), 400),
        ("a control byte in a header", b"GET / HTTP/1.1\r\nHost: e\r\nX-A: \x01\r\n\r\n".to_vec(), 400),
        (
            "a bad Content-Length",
            b"POST /v1/Conversations HTTP/1.1\r\nHost: e\r\nContent-Length: ten\r\n\r\n".to_vec(),
            400,
        ),
        ("a URI of 64 KiB", long_uri.into_bytes(), 414),
        ("over 100 headers", many_headers.into_bytes(), 431),
    ];
    for (case, request, expected) in cases {
        let mut stream = connect(&app.base).await;
        stream.write_all(&request).await.expect("send the request");

        let received = read_until_closed(&mut stream).await;

        let (status, body) = status_and_json(&received);
        assert_eq!(status, expected, "{case}");
        assert_eq!(body["status"], expected, "{case}: {body}");
        assert_eq!(body["code"], 20000 + u64::from(expected), "{case}: {body}");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{case}: {body}");
        assert!(body["more_info"].as_str().is_some_and(|m| m.starts_with("https://www.twilio.com/")), "{case}");
    }
}

#[tokio::test]
async fn sigterm_exits_within_the_grace_period_while_clients_hold_partial_requests_and_in_flight_writes_reach_the_disk()
{
    let path = std::env::temp_dir().join(format!("emulator-edge-{}.json", std::process::id()));
    let state = path.to_str().expect("utf-8 temp path").to_owned();
    let running = spawn_binary_with(&["--state-file", &state, "--shutdown-grace-ms", "3000"]);
    let mut partial = Vec::new();
    for _ in 0..20 {
        let mut stream = connect(&running.base).await;
        stream.write_all(b"POST /v1/Conversations HTTP/1.1\r\nHost: e\r\nContent-Le").await.expect("send part");
        partial.push(stream);
    }
    // A complete request, inside the emulator: its head is read and its body asked for.
    let mut in_flight = connect(&running.base).await;
    let body = "FriendlyName=in-flight&UniqueName=in-flight";
    let head = format!(
        "POST /v1/Conversations HTTP/1.1\r\nHost: e\r\nAuthorization: {}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\r\n",
        basic_credentials(ACCOUNT),
        body.len()
    );
    in_flight.write_all(head.as_bytes()).await.expect("send the head");
    let mut interim = [0u8; 25];
    in_flight.read_exact(&mut interim).await.expect("100 Continue");
    assert!(interim.starts_with(b"HTTP/1.1 100 Continue"), "{}", String::from_utf8_lossy(&interim));

    let pid = running.pid().to_string();
    let sent = std::process::Command::new("kill").args(["-TERM", &pid]).status().expect("run kill");
    assert!(sent.success());
    in_flight.write_all(body.as_bytes()).await.expect("send the body");
    let answer = read_until_closed(&mut in_flight).await;
    let exited = tokio::time::timeout(GUARD, tokio::task::spawn_blocking(move || running.wait()))
        .await
        .expect("the emulator exits within its grace period")
        .expect("the waiting thread");

    assert!(exited.success(), "exit status: {exited}");
    assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 201"), "{}", String::from_utf8_lossy(&answer));
    for mut stream in partial {
        assert!(read_until_closed(&mut stream).await.is_empty(), "a partial request gets no answer");
    }
    let restarted = spawn_binary_with(&["--state-file", &state]);
    let fetched = restarted.send(reqwest::Method::GET, "/v1/Conversations/in-flight", &[]).await;
    assert_eq!(fetched.status(), StatusCode::OK, "the in-flight create is on disk");
    drop(restarted);
    for suffix in ["", ".log", ".lock"] {
        let _ = std::fs::remove_file(format!("{state}{suffix}"));
    }
}
