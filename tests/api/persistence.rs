//! `--state-file`: state survives restarts, a SIGKILL during a stream of creates loses no
//! acknowledged message, and a corrupt file stops start-up without being overwritten.

use std::path::{Path, PathBuf};

use reqwest::{Method, StatusCode};
use serde_json::Value;
use tokio::sync::mpsc;

use crate::helpers::{ACCOUNT, spawn_binary_with};

/// A state file path of this test's own, removed (with its log) when dropped.
struct TempState(PathBuf);

impl TempState {
    fn new(name: &str) -> Self {
        Self(std::env::temp_dir().join(format!("emulator-state-{}-{name}.json", std::process::id())))
    }

    fn arg(&self) -> &str {
        self.0.to_str().expect("utf-8 temp path")
    }

    fn log(&self) -> PathBuf {
        PathBuf::from(format!("{}.log", self.arg()))
    }
}

impl Drop for TempState {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
        for suffix in [".log", ".log.old", ".lock", ".compacting"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.arg()));
        }
    }
}

async fn post(client: &reqwest::Client, url: String, form: &[(&str, &str)]) -> reqwest::Result<reqwest::Response> {
    let body = serde_urlencoded::to_string(form).expect("encode form");
    let request = client.post(url).basic_auth(ACCOUNT, Some("t"));
    request.header("Content-Type", "application/x-www-form-urlencoded").body(body).send().await
}

/// A request without a body, as the test account.
async fn send(client: &reqwest::Client, method: Method, url: String) -> reqwest::Response {
    client.request(method, url).basic_auth(ACCOUNT, Some("t")).send().await.expect("send")
}

async fn all_messages(client: &reqwest::Client, base: &str, conversation: &str) -> Vec<Value> {
    let mut url = format!("{base}/v1/Conversations/{conversation}/Messages?PageSize=100");
    let mut messages = Vec::new();
    loop {
        let page: Value = send(client, Method::GET, url.clone()).await.json().await.expect("JSON");
        messages.extend(page["messages"].as_array().expect("messages").iter().cloned());
        match page["meta"]["next_page_url"].as_str() {
            Some(next) => url = next.to_owned(),
            None => return messages,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sigkill_during_a_stream_of_creates_loses_no_acknowledged_message() {
    // Arrange
    let state = TempState::new("sigkill");
    let client = reqwest::Client::new();
    let running = spawn_binary_with(&["--state-file", state.arg()]);
    let created =
        post(&client, format!("{}/v1/Conversations", running.base), &[("UniqueName", "stream")]).await.expect("send");
    assert_eq!(created.status(), StatusCode::CREATED);

    // Act: four writers create messages until the server dies; every 201 is recorded.
    let (acknowledged, mut acks) = mpsc::unbounded_channel::<String>();
    let writers: Vec<_> = (0..4)
        .map(|writer| {
            let (client, base, acknowledged) = (client.clone(), running.base.clone(), acknowledged.clone());
            tokio::spawn(async move {
                for n in 0..10_000 {
                    let url = format!("{base}/v1/Conversations/stream/Messages");
                    let Ok(response) = post(&client, url, &[("Body", &format!("{writer}-{n}"))]).await else { return };
                    if response.status() != StatusCode::CREATED {
                        return;
                    }
                    let Ok(message) = response.json::<Value>().await else { return };
                    let _ = acknowledged.send(message["sid"].as_str().unwrap_or_default().to_owned());
                }
            })
        })
        .collect();
    drop(acknowledged);
    let mut acked = Vec::new();
    while acked.len() < 200 {
        acked.push(acks.recv().await.expect("writers are still running"));
    }
    running.kill(); // SIGKILL, with writers still sending.
    for writer in writers {
        writer.await.expect("writer ends when the server is gone");
    }
    while let Ok(sid) = acks.try_recv() {
        acked.push(sid);
    }

    // Assert: after a restart every acknowledged message is there, indices intact.
    let restarted = spawn_binary_with(&["--state-file", state.arg()]);
    let messages = all_messages(&client, &restarted.base, "stream").await;
    let stored: std::collections::HashSet<&str> = messages.iter().filter_map(|m| m["sid"].as_str()).collect();
    for sid in &acked {
        assert!(stored.contains(sid.as_str()), "acknowledged message {sid} was lost ({} stored)", stored.len());
    }
    let indices: Vec<u64> = messages.iter().filter_map(|m| m["index"].as_u64()).collect();
    assert!(indices.windows(2).all(|w| w[0] < w[1]), "indices stay ordered");
    let next = post(&client, format!("{}/v1/Conversations/stream/Messages", restarted.base), &[("Body", "after")])
        .await
        .expect("send");
    let next: Value = next.json().await.expect("JSON");
    assert!(next["index"].as_u64() > indices.last().copied(), "no index is reused after a restart");
}

#[tokio::test]
async fn updates_deletes_and_resets_survive_restarts() {
    let state = TempState::new("restart");
    let client = reqwest::Client::new();
    let base = |running: &crate::helpers::RunningBinary| running.base.clone();
    let running = spawn_binary_with(&["--state-file", state.arg()]);
    post(&client, format!("{}/v1/Conversations", base(&running)), &[("UniqueName", "kept")]).await.expect("send");
    post(&client, format!("{}/v1/Conversations", base(&running)), &[("UniqueName", "dropped")]).await.expect("send");
    let mut sids = Vec::new();
    for body in ["a", "b", "c"] {
        let response =
            post(&client, format!("{}/v1/Conversations/kept/Messages", base(&running)), &[("Body", body)]).await;
        let message: Value = response.expect("send").json().await.expect("JSON");
        sids.push(message["sid"].as_str().expect("sid").to_owned());
    }
    post(&client, format!("{}/v1/Conversations/kept/Messages/{}", base(&running), sids[0]), &[("Body", "edited")])
        .await
        .expect("send");
    send(&client, Method::DELETE, format!("{}/v1/Conversations/kept/Messages/{}", base(&running), sids[2])).await;
    send(&client, Method::DELETE, format!("{}/v1/Conversations/dropped", base(&running))).await;
    running.kill();

    let restarted = spawn_binary_with(&["--state-file", state.arg()]);
    let messages = all_messages(&client, &restarted.base, "kept").await;
    let bodies: Vec<&str> = messages.iter().filter_map(|m| m["body"].as_str()).collect();
    assert_eq!(bodies, ["edited", "b"]);
    let gone = send(&client, Method::GET, format!("{}/v1/Conversations/dropped", restarted.base)).await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    let next: Value = post(&client, format!("{}/v1/Conversations/kept/Messages", restarted.base), &[])
        .await
        .expect("send")
        .json()
        .await
        .expect("JSON");
    assert_eq!(next["index"], 3, "the deleted message's index stays used");

    client.post(format!("{}/_emulator/reset", restarted.base)).send().await.expect("send");
    restarted.kill();
    let after_reset = spawn_binary_with(&["--state-file", state.arg()]);
    let listed: Value =
        send(&client, Method::GET, format!("{}/v1/Conversations", after_reset.base)).await.json().await.expect("JSON");
    assert_eq!(listed["conversations"], serde_json::json!([]));
}

/// Starts the emulator on the state file `state`, expects start-up to fail, and checks that
/// `watched` (the snapshot or the log) was left as it was.
fn start_fails_leaving(state: &TempState, watched: &Path) -> String {
    let before = std::fs::read(watched).expect("read state file");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_twilio-conversations-emulator"))
        .args(["--port", "0", "--state-file", state.arg()])
        .output()
        .expect("run");
    assert!(!output.status.success(), "start-up must fail");
    assert_eq!(std::fs::read(watched).expect("read state file"), before, "the file was not overwritten");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_corrupt_state_file_stops_start_up_and_is_left_untouched() {
    let state = TempState::new("corrupt");
    std::fs::write(&state.0, "{ this is not json").expect("write");
    let stderr = start_fails_leaving(&state, &state.0);
    assert!(stderr.contains("is not a snapshot"), "{stderr}");

    // A good snapshot, then a log whose first record is not one.
    std::fs::remove_file(&state.0).expect("remove");
    drop(spawn_binary_with(&["--state-file", state.arg()]));
    std::fs::write(state.log(), "{\"op\":\"nonsense\"}\n{\"op\":\"reset\",\"account\":null}\n").expect("write");
    let stderr = start_fails_leaving(&state, &state.log());
    assert!(stderr.contains("record 1 at byte 0"), "{stderr}");
}

#[tokio::test]
async fn participants_receipts_and_media_survive_a_restart() {
    let state = TempState::new("rich");
    let client = reqwest::Client::new();
    let running = spawn_binary_with(&["--state-file", state.arg()]);
    let base = running.base.clone();
    let conversation: Value = post(&client, format!("{base}/v1/Conversations"), &[("UniqueName", "rich")])
        .await
        .expect("send")
        .json()
        .await
        .expect("JSON");
    post(
        &client,
        format!("{base}/v1/Conversations/rich/Participants"),
        &[("MessagingBinding.Address", "+15550000001"), ("MessagingBinding.ProxyAddress", "+15017122661")],
    )
    .await
    .expect("send");
    let service = conversation["chat_service_sid"].as_str().expect("IS").to_owned();
    let upload: Value = client
        .post(format!("{base}/v1/Services/{service}/Media"))
        .basic_auth(ACCOUNT, Some("t"))
        .header("Content-Type", "text/plain")
        .body("hello")
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("JSON");
    let media = upload["sid"].as_str().expect("ME").to_owned();
    let message: Value = post(&client, format!("{base}/v1/Conversations/rich/Messages"), &[("MediaSid", &media)])
        .await
        .expect("send")
        .json()
        .await
        .expect("JSON");
    let change = serde_json::json!({ "account_sid": ACCOUNT, "conversation_sid": conversation["sid"], "message_sid": message["sid"], "status": "delivered" });
    client.post(format!("{base}/_emulator/receipts")).json(&change).send().await.expect("send");
    running.kill();

    let restarted = spawn_binary_with(&["--state-file", state.arg()]);
    let messages = all_messages(&client, &restarted.base, "rich").await;
    assert_eq!(messages[0]["delivery"]["delivered"], "all");
    assert_eq!(messages[0]["media"][0]["sid"], media.as_str());
    let content =
        send(&client, Method::GET, format!("{}/v1/Services/{service}/Media/{media}/Content", restarted.base)).await;
    assert_eq!(content.text().await.expect("text"), "hello");
    let again = post(&client, format!("{}/v1/Conversations/rich/Messages", restarted.base), &[("MediaSid", &media)])
        .await
        .expect("send");
    assert_eq!(again.status(), StatusCode::BAD_REQUEST, "the media is still attached after the restart");
}
