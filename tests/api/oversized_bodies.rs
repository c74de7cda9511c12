//! A client that sends its whole body before reading the answer (as the SDKs, Python's
//! `urllib` and `requests` do) gets the server's early refusal, not a reset connection: a
//! body over the limit is read to its end and thrown away before the 413 is sent.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use twilio_conversations_emulator::Config;

use crate::helpers::{ACCOUNT, basic_credentials, spawn_app_with};

/// Sends `body` in full to `path`, then reads the answer: the status line's code and the
/// body, or why the exchange broke.
async fn send_whole_then_read(address: &str, path: &str, headers: &str, body: &[u8]) -> Result<(u16, String), String> {
    let mut stream = TcpStream::connect(address).await.map_err(|e| format!("connect: {e}"))?;
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\n{headers}Content-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.map_err(|e| format!("send the head: {e}"))?;
    for chunk in body.chunks(64 * 1024) {
        stream.write_all(chunk).await.map_err(|e| format!("send the body: {e}"))?;
    }
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.map_err(|e| format!("read the answer: {e}"))?;
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text.get(9..12).and_then(|code| code.parse().ok()).ok_or_else(|| format!("no status: {text}"))?;
    let json = text.split_once("\r\n\r\n").map(|(_, body)| body.to_owned()).unwrap_or_default();
    Ok((status, json))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_body_sent_in_full_gets_its_refusal_every_time() {
    let app = spawn_app_with(Config { control_token: Some("secret".into()), ..Config::defaults() }).await;
    let address = app.base.trim_start_matches("http://").to_owned();
    let authorized = format!("Authorization: {}\r\n", basic_credentials(ACCOUNT));
    let conversation = "CH00000000000000000000000000000001";
    let service = "IS00000000000000000000000000000001";
    let cases = [
        (
            "a message create on the default form",
            format!("/v1/Conversations/{conversation}/Messages"),
            &authorized,
            413,
            20413,
        ),
        (
            "a message create on the service form",
            format!("/v1/Services/{service}/Conversations/{conversation}/Messages"),
            &authorized,
            413,
            20413,
        ),
        ("a control-plane import without its token", "/_emulator/state".to_owned(), &String::new(), 401, 20003),
    ];
    for megabytes in [2, 5, 20] {
        let body = vec![b'a'; megabytes * 1024 * 1024];
        for (case, path, headers, status, code) in &cases {
            for attempt in 1..=20 {
                let answer = send_whole_then_read(&address, path, headers, &body).await;
                let (got, json) =
                    answer.unwrap_or_else(|error| panic!("{case}, {megabytes} MB, attempt {attempt}: {error}"));
                let json: serde_json::Value = serde_json::from_str(&json)
                    .unwrap_or_else(|_| panic!("{case}, {megabytes} MB, attempt {attempt}: not JSON: {json}"));
                assert_eq!((got, &json["code"]), (*status, &serde_json::json!(code)), "{case}, {megabytes} MB: {json}");
            }
        }
    }
}

#[tokio::test]
async fn a_control_plane_body_over_its_limit_gets_a_twilio_413_and_changes_nothing() {
    let app = spawn_app_with(Config { max_control_body_bytes: 64 * 1024, ..Config::defaults() }).await;
    let address = app.base.trim_start_matches("http://").to_owned();
    let document = format!(
        r#"{{"accounts":[{{"account_sid":"{ACCOUNT}","conversations":[{{"friendly_name":"{}"}}]}}]}}"#,
        "x".repeat(128 * 1024)
    );

    let (status, json) =
        send_whole_then_read(&address, "/_emulator/state", "", document.as_bytes()).await.expect("an answer");

    let json: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!((status, &json["code"], &json["status"]), (413, &serde_json::json!(20413), &serde_json::json!(413)));
    let conversations = app.get("/v1/Conversations").await;
    assert_eq!(conversations["conversations"], serde_json::json!([]), "nothing was imported");
}
