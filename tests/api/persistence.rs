//! `--state-file`: state survives restarts, a SIGKILL during a stream of creates loses no
//! acknowledged message, and a corrupt file stops start-up without being overwritten.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use reqwest::{Method, StatusCode};
use serde_json::Value;
use tokio::sync::mpsc;

use std::os::unix::process::CommandExt;

use crate::helpers::{ACCOUNT, TestApp, binary_command, sid_of, spawn_binary_with, start_binary};

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

    /// The emulator binary, keeping its state in this file.
    fn start(&self) -> TestApp {
        spawn_binary_with(&["--state-file", self.arg()])
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sigkill_during_a_stream_of_creates_loses_no_acknowledged_message() {
    let state = TempState::new("sigkill");
    let running = Arc::new(state.start());
    running.post("/v1/Conversations", &[("UniqueName", "stream")]).await;

    // Four writers create messages until the server dies; every 201 is recorded.
    let (acknowledged, mut acks) = mpsc::unbounded_channel::<String>();
    let writers: Vec<_> = (0..4)
        .map(|writer| {
            let (running, acknowledged) = (Arc::clone(&running), acknowledged.clone());
            tokio::spawn(async move {
                for n in 0..10_000 {
                    let body = format!("{writer}-{n}");
                    let path = "/v1/Conversations/stream/Messages";
                    let Ok(response) = running.try_send(Method::POST, path, &[("Body", &body)]).await else { return };
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

    // After a restart every acknowledged message is there, indices intact.
    let restarted = state.start();
    let messages = restarted.all_messages("/v1/Conversations/stream/Messages?PageSize=100").await;
    let stored: std::collections::HashSet<&str> = messages.iter().filter_map(|m| m["sid"].as_str()).collect();
    for sid in &acked {
        assert!(stored.contains(sid.as_str()), "acknowledged message {sid} was lost ({} stored)", stored.len());
    }
    let indices: Vec<u64> = messages.iter().filter_map(|m| m["index"].as_u64()).collect();
    assert!(indices.windows(2).all(|w| w[0] < w[1]), "indices stay ordered");
    let next = restarted.post("/v1/Conversations/stream/Messages", &[("Body", "after")]).await;
    assert!(next["index"].as_u64() > indices.last().copied(), "no index is reused after a restart");
}

#[tokio::test]
async fn updates_deletes_and_resets_survive_restarts() {
    let state = TempState::new("restart");
    let running = state.start();
    running.post("/v1/Conversations", &[("UniqueName", "kept")]).await;
    running.post("/v1/Conversations", &[("UniqueName", "dropped")]).await;
    let mut sids = Vec::new();
    for body in ["a", "b", "c"] {
        sids.push(sid_of(&running.post("/v1/Conversations/kept/Messages", &[("Body", body)]).await));
    }
    running.post(&format!("/v1/Conversations/kept/Messages/{}", sids[0]), &[("Body", "edited")]).await;
    running.send(Method::DELETE, &format!("/v1/Conversations/kept/Messages/{}", sids[2]), &[]).await;
    running.send(Method::DELETE, "/v1/Conversations/dropped", &[]).await;
    running.kill();

    let restarted = state.start();
    let messages = restarted.all_messages("/v1/Conversations/kept/Messages").await;
    let bodies: Vec<&str> = messages.iter().filter_map(|m| m["body"].as_str()).collect();
    assert_eq!(bodies, ["edited", "b"]);
    let gone = restarted.send(Method::GET, "/v1/Conversations/dropped", &[]).await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    let next = restarted.post("/v1/Conversations/kept/Messages", &[]).await;
    assert_eq!(next["index"], 3, "the deleted message's index stays used");

    restarted.control(Method::POST, "/_emulator/reset", None).await;
    restarted.kill();
    let after_reset = state.start();
    assert_eq!(after_reset.get("/v1/Conversations").await["conversations"], serde_json::json!([]));
}

/// Starts the emulator on the state file `state`, expects start-up to fail, and checks that
/// `watched` (the snapshot or the log) was left as it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_service_settings_survive_a_restart() {
    let state = TempState::new("chat-service");
    let running = state.start();
    let service = sid_of(&running.post("/v2/Services", &[("FriendlyName", "chat")]).await);
    let path = format!("/v2/Services/{service}");
    let updated = running
        .post(&path, &[("FriendlyName", "renamed"), ("Limits.UserChannels", "5"), ("ReachabilityEnabled", "true")])
        .await;
    running.kill();

    let restarted = state.start();
    let fetched = restarted.get(&path).await;
    for field in ["friendly_name", "limits", "reachability_enabled", "date_updated", "default_service_role_sid"] {
        assert_eq!(fetched[field], updated[field], "{field}");
    }
    assert_eq!(fetched["limits"]["user_channels"], 5);
}

fn start_fails_leaving(state: &TempState, watched: &Path) -> String {
    let before = std::fs::read(watched).expect("read state file");
    let output = binary_command(&["--state-file", state.arg()]).output().expect("run");
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
    let running = state.start();
    let conversation = running.post("/v1/Conversations", &[("UniqueName", "rich")]).await;
    running
        .post(
            "/v1/Conversations/rich/Participants",
            &[("MessagingBinding.Address", "+15550000001"), ("MessagingBinding.ProxyAddress", "+15017122661")],
        )
        .await;
    let service = conversation["chat_service_sid"].as_str().expect("IS").to_owned();
    let media = sid_of(&running.upload_media(&service, b"hello", "text/plain", "hello.txt").await);
    let message = running.post("/v1/Conversations/rich/Messages", &[("MediaSid", &media)]).await;
    let change = serde_json::json!({ "account_sid": ACCOUNT, "conversation_sid": conversation["sid"], "message_sid": message["sid"], "status": "delivered" });
    running.control(Method::POST, "/_emulator/receipts", Some(&change)).await;
    running.kill();

    let restarted = state.start();
    let messages = restarted.all_messages("/v1/Conversations/rich/Messages").await;
    assert_eq!(messages[0]["delivery"]["delivered"], "all");
    assert_eq!(messages[0]["media"][0]["sid"], media.as_str());
    let content = restarted.send(Method::GET, &format!("/v1/Services/{service}/Media/{media}/Content"), &[]).await;
    assert_eq!(content.text().await.expect("text"), "hello");
    let again = restarted.send(Method::POST, "/v1/Conversations/rich/Messages", &[("MediaSid", &media)]).await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST, "the media is still attached after the restart");
}

// --- The durability contract under faults ----------------------------------------------

/// Creates messages in `conversation` one at a time until the server stops acknowledging
/// them (it died or refused), and returns the SIDs of those it acknowledged.
async fn create_until_refused(app: &TestApp, conversation: &str, limit: usize) -> Vec<String> {
    let mut acknowledged = Vec::new();
    let path = format!("/v1/Conversations/{conversation}/Messages");
    for n in 0..limit {
        let Ok(response) = app.try_send(Method::POST, &path, &[("Body", &format!("message {n}"))]).await else {
            break;
        };
        if response.status() != StatusCode::CREATED {
            break;
        }
        let Ok(message) = response.json::<Value>().await else { break };
        acknowledged.push(message["sid"].as_str().expect("IM").to_owned());
    }
    acknowledged
}

/// The SIDs of a conversation's messages, in index order.
async fn message_sids(app: &TestApp, conversation: &str) -> Vec<String> {
    let messages = app.all_messages(&format!("/v1/Conversations/{conversation}/Messages?PageSize=100")).await;
    messages.iter().map(|m| m["sid"].as_str().expect("IM").to_owned()).collect()
}

#[tokio::test]
async fn a_write_the_disk_refuses_is_answered_5xx_and_changes_neither_memory_nor_the_file() {
    // Two acknowledged messages, then a log that is /dev/full (a real ENOSPC).
    let state = TempState::new("enospc");
    let running = state.start();
    running.post("/v1/Conversations", &[("UniqueName", "full")]).await;
    let kept = create_until_refused(&running, "full", 2).await;
    running.kill();
    // A restart writes what the log holds into the snapshot and empties the log.
    state.start().kill();
    std::fs::remove_file(state.log()).expect("remove the log");
    std::os::unix::fs::symlink("/dev/full", state.log()).expect("link the log to /dev/full");
    let full = state.start();

    let refused = full.send(Method::POST, "/v1/Conversations/full/Messages", &[("Body", "lost")]).await;
    let import =
        serde_json::json!({"accounts": [{"account_sid": ACCOUNT, "conversations": [{"unique_name": "imported"}]}]});
    let refused_import = full.control(Method::POST, "/_emulator/state", Some(&import)).await;

    assert!(refused.status().is_server_error(), "{}", refused.status());
    let body: Value = refused.json().await.expect("a Twilio-shaped error body");
    assert_eq!(body["status"], 500, "{body}");
    assert!(body["code"].is_u64() && body["more_info"].is_string(), "{body}");
    assert!(refused_import.status().is_server_error(), "an import that cannot be saved is refused");
    assert_eq!(message_sids(&full, "full").await, kept, "memory holds only what was acknowledged");
    let listed: Value = full.send(Method::GET, "/v1/Conversations/imported", &[]).await.json().await.expect("JSON");
    assert_eq!(listed["status"], 404, "the refused import left nothing behind");
    full.kill();
    std::fs::remove_file(state.log()).expect("unlink /dev/full");
    let restarted = state.start();
    assert_eq!(message_sids(&restarted, "full").await, kept, "the file still loads, with every ack");
}

#[tokio::test]
async fn a_log_that_fills_up_mid_record_is_cut_back_and_keeps_every_acknowledged_write() {
    // Files may grow to 64 KiB (RLIMIT_FSIZE), so an append fails part-way through a
    // record, as on a disk that fills up; SIGXFSZ is ignored so the write fails with EFBIG
    // instead of killing the process.
    let state = TempState::new("fsize");
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
    limited.post("/v1/Conversations", &[("UniqueName", "fills")]).await;

    // Write until the log is full; then one more, which must fail the same way.
    let acknowledged = create_until_refused(&limited, "fills", 10_000).await;
    let again = limited.send(Method::POST, "/v1/Conversations/fills/Messages", &[("Body", "x")]).await;

    assert!(acknowledged.len() > 10, "the log took writes before it filled ({})", acknowledged.len());
    assert!(again.status().is_server_error(), "{}", again.status());
    assert_eq!(message_sids(&limited, "fills").await, acknowledged);
    limited.kill();
    let restarted = state.start();
    assert_eq!(message_sids(&restarted, "fills").await, acknowledged, "no half record was left");
}

#[test]
fn a_second_process_on_the_same_state_file_refuses_to_start() {
    let state = TempState::new("locked");
    let _first = state.start();

    let second = binary_command(&["--state-file", state.arg()]).output().expect("run");

    assert!(!second.status.success(), "the second process must not start");
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(stderr.contains("in use by another process"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_at_any_step_of_compaction_loses_nothing_acknowledged() {
    for step in ["rotated", "snapshot-written", "snapshot-renamed", "old-log-removed"] {
        // Compaction after 100 changes, and a process that dies at `step` of it.
        let state = TempState::new(&format!("crash-{step}"));
        let args = ["--state-file", state.arg(), "--state-compact-after", "100", "--crash-during-compaction", step];
        let crashing = Arc::new(spawn_binary_with(&args));
        crashing.post("/v1/Conversations", &[("UniqueName", "z")]).await;

        // 32 clients create, update and delete until the process is gone.
        let mut churn = Churn::start(&crashing);
        churn.until(usize::MAX).await;
        let acknowledged = churn.finish().await;

        assert!(!crashing.wait().success(), "{step}: the process crashed on purpose");
        assert!(acknowledged.len() > 50, "{step}: {} writes acknowledged before the crash", acknowledged.len());
        let restarted = state.start();
        assert_acknowledged_writes_kept(&restarted, acknowledged.into_iter().collect()).await;
    }
}

#[tokio::test]
async fn a_failed_snapshot_never_replaces_a_good_one_and_acknowledged_writes_stay_acknowledged() {
    // The temporary snapshot's name is taken by a directory, so every compaction fails to
    // write it.
    let state = TempState::new("failing-snapshot");
    let temporary = PathBuf::from(format!("{}.compacting", state.arg()));
    let running = spawn_binary_with(&["--state-file", state.arg(), "--state-compact-after", "10"]);
    std::fs::create_dir_all(&temporary).expect("block the temporary file");
    running.post("/v1/Conversations", &[("UniqueName", "s")]).await;

    // Enough writes for several compactions, each of which fails.
    let acknowledged = create_until_refused(&running, "s", 60).await;

    // Every write was acknowledged with a 201 and survives a SIGKILL.
    assert_eq!(acknowledged.len(), 60, "a failed compaction must not fail the writes it would have covered");
    running.kill();
    std::fs::remove_dir(&temporary).expect("unblock");
    let restarted = state.start();
    assert_eq!(message_sids(&restarted, "s").await, acknowledged);
}

#[tokio::test]
async fn a_state_file_named_like_a_temporary_file_compacts_into_itself() {
    let state = TempState::new("named.tmp");
    let running = spawn_binary_with(&["--state-file", state.arg(), "--state-compact-after", "10"]);
    running.post("/v1/Conversations", &[("UniqueName", "t")]).await;

    let acknowledged = create_until_refused(&running, "t", 40).await;
    running.kill();

    let restarted = state.start();
    assert_eq!(message_sids(&restarted, "t").await, acknowledged);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_two_clients_and_sigkills_during_compactions_lose_nothing_acknowledged() {
    let state = TempState::new("stress");
    // What every acknowledged write says must be true after the restarts: per message SID,
    // the body it was last acknowledged with (`None` once its delete was), and what the
    // client's next write to it, perhaps in flight at the kill, would make it.
    let mut expected: std::collections::HashMap<String, Ack> = std::collections::HashMap::new();
    let mut seed = 0x5eed_u64;
    for round in 0..3 {
        let running = Arc::new(spawn_binary_with(&["--state-file", state.arg(), "--state-compact-after", "50"]));
        if round == 0 {
            running.post("/v1/Conversations", &[("UniqueName", "z")]).await;
        }
        // 32 clients create, update and delete until the server is killed at a moment
        // chosen by a seeded generator.
        let mut churn = Churn::start(&running);
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        churn.until(200 + (seed >> 33) as usize % 400).await;
        running.kill();
        expected.extend(churn.finish().await);
    }

    let restarted = state.start();
    assert_acknowledged_writes_kept(&restarted, expected).await;
}

/// 32 clients running [`churn`] against one server, and what they were acknowledged.
struct Churn {
    clients: Vec<tokio::task::JoinHandle<()>>,
    acked: mpsc::UnboundedReceiver<(String, Ack)>,
    seen: Vec<(String, Ack)>,
}

impl Churn {
    fn start(running: &Arc<TestApp>) -> Self {
        let (acks, acked) = mpsc::unbounded_channel();
        let clients = (0..32)
            .map(|n| {
                let (running, acks) = (Arc::clone(running), acks.clone());
                tokio::spawn(async move { churn(&running, n, acks).await })
            })
            .collect();
        Self { clients, acked, seen: Vec::new() }
    }

    /// Waits for `count` acknowledgements, or until every client has stopped (the server
    /// is gone).
    async fn until(&mut self, count: usize) {
        while self.seen.len() < count {
            match self.acked.recv().await {
                Some(ack) => self.seen.push(ack),
                None => return,
            }
        }
    }

    /// Every acknowledgement, in order, once the clients have stopped (the server must be
    /// gone by then).
    async fn finish(mut self) -> Vec<(String, Ack)> {
        for client in self.clients {
            client.await.expect("a client ends when the server is gone");
        }
        while let Ok(ack) = self.acked.try_recv() {
            self.seen.push(ack);
        }
        self.seen
    }
}

/// Checks that every message holds what its last acknowledged write left, or what the
/// write in flight after it would have.
async fn assert_acknowledged_writes_kept(restarted: &TestApp, expected: std::collections::HashMap<String, Ack>) {
    let stored: std::collections::HashMap<String, String> = restarted
        .all_messages("/v1/Conversations/z/Messages?PageSize=100")
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
async fn churn(app: &TestApp, client_number: usize, acks: mpsc::UnboundedSender<(String, Ack)>) {
    let messages = "/v1/Conversations/z/Messages";
    for n in 0.. {
        let body = format!("{client_number}-{n}");
        let Ok(created) = app.try_send(Method::POST, messages, &[("Body", &body)]).await else { return };
        if created.status() != StatusCode::CREATED {
            return;
        }
        let Ok(message) = created.json::<Value>().await else { return };
        let sid = message["sid"].as_str().unwrap_or_default().to_owned();
        let item = format!("{messages}/{sid}");
        let edited = format!("{body} edited");
        let _ =
            acks.send((sid.clone(), Ack { acknowledged: Some(body.clone()), in_flight: Some(Some(edited.clone())) }));
        let Ok(updated) = app.try_send(Method::POST, &item, &[("Body", &edited)]).await else { return };
        if updated.status() != StatusCode::OK {
            return;
        }
        let next = (n % 3 == 0).then_some(None);
        let _ = acks.send((sid.clone(), Ack { acknowledged: Some(edited), in_flight: next }));
        if n % 3 == 0 {
            let Ok(deleted) = app.try_send(Method::DELETE, &item, &[]).await else { return };
            if deleted.status() != StatusCode::NO_CONTENT {
                return;
            }
            let _ = acks.send((sid, Ack { acknowledged: None, in_flight: None }));
        }
    }
}

#[tokio::test]
async fn a_state_file_of_an_earlier_version_loads_and_is_rewritten_in_todays_format() {
    // As versions before checksums wrote it: a bare state document, and one bare change a
    // line, the last one torn. The second account appears only in the log.
    let state = TempState::new("legacy");
    let service = "IS00000000000000000000000000000001";
    let conversation = "CH00000000000000000000000000000001";
    let other = crate::helpers::OTHER_ACCOUNT;
    let snapshot = serde_json::json!({ "accounts": [{ "account_sid": ACCOUNT, "services": [{
        "sid": service,
        "friendly_name": "kept",
        "conversations": [{ "sid": conversation, "unique_name": "old", "messages": [{ "body": "from the snapshot" }] }]
    }]}]});
    std::fs::write(&state.0, snapshot.to_string()).expect("write");
    let put_message = serde_json::json!({ "op": "put_message", "account": ACCOUNT, "service": service,
        "conversation": conversation, "message": { "sid": "IM00000000000000000000000000000002", "index": 1,
        "author": "system", "body": "from the log" } });
    let put_service = serde_json::json!({ "op": "put_service", "account": other,
        "service": { "sid": "IS00000000000000000000000000000002", "friendly_name": "from the log" } });
    std::fs::write(state.log(), format!("{put_message}\n{put_service}\n{{\"op\":\"res")).expect("write");

    for round in ["the earlier version's files", "today's files, rewritten at the first start"] {
        let running = state.start();
        let messages = running.all_messages(&format!("/v1/Services/{service}/Conversations/old/Messages")).await;
        let bodies: Vec<&str> = messages.iter().filter_map(|m| m["body"].as_str()).collect();
        assert_eq!(bodies, ["from the snapshot", "from the log"], "{round}");
        let opened = running.send_as(other, Method::GET, "/v1/Services/IS00000000000000000000000000000002", &[]).await;
        assert_eq!(opened.status(), StatusCode::OK, "{round}: the account the log opened");
        running.kill();
    }
    let rewritten = std::fs::read_to_string(&state.0).expect("read");
    assert!(rewritten.starts_with("twilio-conversations-emulator state v1"), "{}", &rewritten[..40]);
}
