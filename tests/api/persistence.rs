//! `--state-file`: state survives restarts, a SIGKILL during a stream of creates loses no
//! acknowledged message, and a corrupt file stops start-up without being overwritten.

use std::path::{Path, PathBuf};

use reqwest::{Method, StatusCode};
use serde_json::Value;
use tokio::sync::mpsc;

use std::os::unix::process::CommandExt;

use crate::helpers::{ACCOUNT, binary_command, spawn_binary_with, start_binary};

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

// --- The durability contract under faults ----------------------------------------------

/// Creates messages in `conversation` one at a time until the server stops acknowledging
/// them (it died or refused), and returns the SIDs of those it acknowledged.
async fn create_until_refused(client: &reqwest::Client, base: &str, conversation: &str, limit: usize) -> Vec<String> {
    let mut acknowledged = Vec::new();
    for n in 0..limit {
        let url = format!("{base}/v1/Conversations/{conversation}/Messages");
        let Ok(response) = post(client, url, &[("Body", &format!("message {n}"))]).await else { break };
        if response.status() != StatusCode::CREATED {
            break;
        }
        let Ok(message) = response.json::<Value>().await else { break };
        acknowledged.push(message["sid"].as_str().expect("IM").to_owned());
    }
    acknowledged
}

/// The SIDs of a conversation's messages, in index order.
async fn message_sids(client: &reqwest::Client, base: &str, conversation: &str) -> Vec<String> {
    let messages = all_messages(client, base, conversation).await;
    messages.iter().map(|m| m["sid"].as_str().expect("IM").to_owned()).collect()
}

#[tokio::test]
async fn a_write_the_disk_refuses_is_answered_5xx_and_changes_neither_memory_nor_the_file() {
    // Arrange: two acknowledged messages, then a log that is /dev/full (a real ENOSPC).
    let state = TempState::new("enospc");
    let client = reqwest::Client::new();
    let running = spawn_binary_with(&["--state-file", state.arg()]);
    post(&client, format!("{}/v1/Conversations", running.base), &[("UniqueName", "full")]).await.expect("send");
    let kept = create_until_refused(&client, &running.base, "full", 2).await;
    running.kill();
    // A restart writes what the log holds into the snapshot and empties the log.
    spawn_binary_with(&["--state-file", state.arg()]).kill();
    std::fs::remove_file(state.log()).expect("remove the log");
    std::os::unix::fs::symlink("/dev/full", state.log()).expect("link the log to /dev/full");
    let full = spawn_binary_with(&["--state-file", state.arg()]);

    // Act
    let refused = post(&client, format!("{}/v1/Conversations/full/Messages", full.base), &[("Body", "lost")])
        .await
        .expect("send");
    let import =
        serde_json::json!({"accounts": [{"account_sid": ACCOUNT, "conversations": [{"unique_name": "imported"}]}]});
    let refused_import =
        client.post(format!("{}/_emulator/state", full.base)).json(&import).send().await.expect("send");

    // Assert
    assert!(refused.status().is_server_error(), "{}", refused.status());
    let body: Value = refused.json().await.expect("a Twilio-shaped error body");
    assert_eq!(body["status"], 500, "{body}");
    assert!(body["code"].is_u64() && body["more_info"].is_string(), "{body}");
    assert!(refused_import.status().is_server_error(), "an import that cannot be saved is refused");
    assert_eq!(message_sids(&client, &full.base, "full").await, kept, "memory holds only what was acknowledged");
    let listed: Value = send(&client, Method::GET, format!("{}/v1/Conversations/imported", full.base))
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(listed["status"], 404, "the refused import left nothing behind");
    full.kill();
    std::fs::remove_file(state.log()).expect("unlink /dev/full");
    let restarted = spawn_binary_with(&["--state-file", state.arg()]);
    assert_eq!(message_sids(&client, &restarted.base, "full").await, kept, "the file still loads, with every ack");
}

#[tokio::test]
async fn a_log_that_fills_up_mid_record_is_cut_back_and_keeps_every_acknowledged_write() {
    // Arrange: files may grow to 64 KiB (RLIMIT_FSIZE), so an append fails part-way
    // through a record, as on a disk that fills up; SIGXFSZ is ignored so the write fails
    // with EFBIG instead of killing the process.
    let state = TempState::new("fsize");
    let client = reqwest::Client::new();
    let mut command = binary_command(&["--state-file", state.arg(), "--state-compact-after", "1000000"]);
    // SAFETY: between fork and exec, only async-signal-safe calls (setrlimit, signal).
    unsafe {
        command.pre_exec(|| {
            let limit = libc::rlimit { rlim_cur: 64 * 1024, rlim_max: 64 * 1024 };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0
                || libc::signal(libc::SIGXFSZ, libc::SIG_IGN) == libc::SIG_ERR
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let limited = start_binary(command);
    post(&client, format!("{}/v1/Conversations", limited.base), &[("UniqueName", "fills")]).await.expect("send");

    // Act: write until the log is full; then one more, which must fail the same way.
    let acknowledged = create_until_refused(&client, &limited.base, "fills", 10_000).await;
    let again = post(&client, format!("{}/v1/Conversations/fills/Messages", limited.base), &[("Body", "x")])
        .await
        .expect("send");

    // Assert
    assert!(acknowledged.len() > 10, "the log took writes before it filled ({})", acknowledged.len());
    assert!(again.status().is_server_error(), "{}", again.status());
    assert_eq!(message_sids(&client, &limited.base, "fills").await, acknowledged);
    limited.kill();
    let restarted = spawn_binary_with(&["--state-file", state.arg()]);
    assert_eq!(message_sids(&client, &restarted.base, "fills").await, acknowledged, "no half record was left");
}

#[test]
fn a_second_process_on_the_same_state_file_refuses_to_start() {
    let state = TempState::new("locked");
    let _first = spawn_binary_with(&["--state-file", state.arg()]);

    let second =
        binary_command(&["--state-file", state.arg()]).stderr(std::process::Stdio::piped()).output().expect("run");

    assert!(!second.status.success(), "the second process must not start");
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(stderr.contains("in use by another process"), "{stderr}");
}

#[tokio::test]
async fn a_crash_at_any_step_of_compaction_loses_nothing_acknowledged() {
    for step in ["rotated", "snapshot-written", "snapshot-renamed", "old-log-removed"] {
        // Arrange: compaction after 20 changes, and a process that dies at `step` of it.
        let state = TempState::new(&format!("crash-{step}"));
        let client = reqwest::Client::new();
        let args = ["--state-file", state.arg(), "--state-compact-after", "20", "--crash-during-compaction", step];
        let mut crashing = spawn_binary_with(&args);
        post(&client, format!("{}/v1/Conversations", crashing.base), &[("UniqueName", "c")]).await.expect("send");

        // Act: write until the process is gone.
        let acknowledged = create_until_refused(&client, &crashing.base, "c", 10_000).await;
        let exit = crashing.wait();

        // Assert
        assert!(!exit.success(), "{step}: the process crashed on purpose");
        let restarted = spawn_binary_with(&["--state-file", state.arg()]);
        let stored = message_sids(&client, &restarted.base, "c").await;
        assert!(
            stored.len() >= acknowledged.len(),
            "{step}: {} stored, {} acknowledged",
            stored.len(),
            acknowledged.len()
        );
        assert_eq!(stored[..acknowledged.len()], acknowledged[..], "{step}: every acknowledged message, in order");
        assert!(stored.len() <= acknowledged.len() + 1, "{step}: at most the request in flight is added");
    }
}

#[tokio::test]
async fn a_failed_snapshot_never_replaces_a_good_one_and_acknowledged_writes_stay_acknowledged() {
    // Arrange: the temporary snapshot's name is taken by a directory, so every compaction
    // fails to write it.
    let state = TempState::new("failing-snapshot");
    let client = reqwest::Client::new();
    let temporary = PathBuf::from(format!("{}.compacting", state.arg()));
    let running = spawn_binary_with(&["--state-file", state.arg(), "--state-compact-after", "10"]);
    std::fs::create_dir_all(&temporary).expect("block the temporary file");
    post(&client, format!("{}/v1/Conversations", running.base), &[("UniqueName", "s")]).await.expect("send");

    // Act: enough writes for several compactions, each of which fails.
    let acknowledged = create_until_refused(&client, &running.base, "s", 60).await;

    // Assert: every write was acknowledged with a 201 and survives a SIGKILL.
    assert_eq!(acknowledged.len(), 60, "a failed compaction must not fail the writes it would have covered");
    running.kill();
    std::fs::remove_dir(&temporary).expect("unblock");
    let restarted = spawn_binary_with(&["--state-file", state.arg()]);
    assert_eq!(message_sids(&client, &restarted.base, "s").await, acknowledged);
}

#[tokio::test]
async fn a_state_file_named_like_a_temporary_file_compacts_into_itself() {
    let state = TempState::new("named.tmp");
    let client = reqwest::Client::new();
    let running = spawn_binary_with(&["--state-file", state.arg(), "--state-compact-after", "10"]);
    post(&client, format!("{}/v1/Conversations", running.base), &[("UniqueName", "t")]).await.expect("send");

    let acknowledged = create_until_refused(&client, &running.base, "t", 40).await;
    running.kill();

    let restarted = spawn_binary_with(&["--state-file", state.arg()]);
    assert_eq!(message_sids(&client, &restarted.base, "t").await, acknowledged);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_two_clients_and_sigkills_during_compactions_lose_nothing_acknowledged() {
    let state = TempState::new("stress");
    let client = reqwest::Client::new();
    // What every acknowledged write says must be true after the restarts: per message SID,
    // the body it was last acknowledged with (`None` once its delete was), and what the
    // client's next write to it, perhaps in flight at the kill, would make it.
    let mut expected: std::collections::HashMap<String, Ack> = std::collections::HashMap::new();
    let mut seed = 0x5eed_u64;
    for round in 0..3 {
        let running = spawn_binary_with(&["--state-file", state.arg(), "--state-compact-after", "50"]);
        if round == 0 {
            post(&client, format!("{}/v1/Conversations", running.base), &[("UniqueName", "z")]).await.expect("send");
        }
        // Act: 32 clients create, update and delete until the server is killed.
        let (acks, mut acked) = mpsc::unbounded_channel::<(String, Ack)>();
        let clients: Vec<_> = (0..32)
            .map(|n| {
                let (client, base, acks) = (client.clone(), running.base.clone(), acks.clone());
                tokio::spawn(async move { churn(&client, &base, n, acks).await })
            })
            .collect();
        drop(acks);
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        let wanted = 200 + (seed >> 33) as usize % 400;
        let mut round_acks = Vec::new();
        while round_acks.len() < wanted {
            match acked.recv().await {
                Some(ack) => round_acks.push(ack),
                None => break,
            }
        }
        running.kill();
        for client in clients {
            client.await.expect("a client ends when the server is gone");
        }
        while let Ok(ack) = acked.try_recv() {
            round_acks.push(ack);
        }
        expected.extend(round_acks);
    }

    // Assert
    let restarted = spawn_binary_with(&["--state-file", state.arg()]);
    let stored: std::collections::HashMap<String, String> = all_messages(&client, &restarted.base, "z")
        .await
        .into_iter()
        .map(|m| (m["sid"].as_str().expect("IM").to_owned(), m["body"].as_str().unwrap_or_default().to_owned()))
        .collect();
    for (sid, ack) in &expected {
        let found = stored.get(sid).cloned();
        assert!(
            found == ack.acknowledged || Some(&found) == ack.in_flight.as_ref(),
            "{sid}: found {found:?}, but {:?} was acknowledged (and {:?} may have been in flight)",
            ack.acknowledged,
            ack.in_flight
        );
    }
}

/// One acknowledged write to a message.
#[derive(Clone, Debug)]
struct Ack {
    /// The body it left, or `None` for a delete.
    acknowledged: Option<String>,
    /// What the client's next write would leave, if it sends one: the write in flight
    /// when the server was killed may have been committed without being acknowledged.
    in_flight: Option<Option<String>>,
}

/// One client's stream: create a message, update it, and delete every third one,
/// reporting each acknowledged outcome in the order the server acknowledged it.
async fn churn(client: &reqwest::Client, base: &str, client_number: usize, acks: mpsc::UnboundedSender<(String, Ack)>) {
    let url = format!("{base}/v1/Conversations/z/Messages");
    for n in 0.. {
        let body = format!("{client_number}-{n}");
        let Ok(created) = post(client, url.clone(), &[("Body", &body)]).await else { return };
        if created.status() != StatusCode::CREATED {
            return;
        }
        let Ok(message) = created.json::<Value>().await else { return };
        let sid = message["sid"].as_str().unwrap_or_default().to_owned();
        let edited = format!("{body} edited");
        let _ =
            acks.send((sid.clone(), Ack { acknowledged: Some(body.clone()), in_flight: Some(Some(edited.clone())) }));
        let Ok(updated) = post(client, format!("{url}/{sid}"), &[("Body", &edited)]).await else { return };
        if updated.status() != StatusCode::OK {
            return;
        }
        let next = (n % 3 == 0).then_some(None);
        let _ = acks.send((sid.clone(), Ack { acknowledged: Some(edited), in_flight: next }));
        if n % 3 == 0 {
            let request = client.delete(format!("{url}/{sid}")).basic_auth(ACCOUNT, Some("t"));
            let Ok(deleted) = request.send().await else { return };
            if deleted.status() != StatusCode::NO_CONTENT {
                return;
            }
            let _ = acks.send((sid, Ack { acknowledged: None, in_flight: None }));
        }
    }
}
