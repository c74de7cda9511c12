//! The web inspector: its page and assets, its live stream of changes (resumed after a
//! reconnect with neither loss nor repeat), the REST API acting for an account, and the
//! page itself driven end to end in headless Chromium (tests/inspector/inspector.mjs).

use std::path::Path;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{ACCOUNT, TestApp, sid_of, spawn_app, spawn_app_with, spawn_binary};
use crate::receiver::Receiver;
use crate::sdk::{ensure_node_deps, report, root};
use twilio_conversations_emulator::Config;

/// One server-sent event.
#[derive(Debug)]
struct Sse {
    event: String,
    id: Option<u64>,
    data: Value,
}

/// An open `/_emulator/events` stream.
struct EventStream {
    response: reqwest::Response,
    buffer: String,
}

impl EventStream {
    async fn open(app: &TestApp, last_event_id: Option<u64>) -> Self {
        let mut request = app.client.get(format!("{}/_emulator/events", app.base));
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id.to_string());
        }
        let response = request.send().await.expect("the stream opens");
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        Self { response, buffer: String::new() }
    }

    /// The next event (comments, the keep-alives, skipped), within 5 s.
    async fn next(&mut self) -> Sse {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let (mut event, mut id, mut data) = (String::from("message"), None, String::new());
                for line in block.lines().filter(|line| !line.starts_with(':')) {
                    match line.split_once(':').map(|(field, value)| (field, value.trim_start())) {
                        Some(("event", value)) => event = value.to_owned(),
                        Some(("id", value)) => id = value.parse().ok(),
                        Some(("data", value)) => data.push_str(value),
                        _ => {}
                    }
                }
                if data.is_empty() {
                    continue;
                }
                return Sse { event, id, data: serde_json::from_str(&data).expect("JSON data") };
            }
            let chunk = tokio::time::timeout(Duration::from_secs(5), self.response.chunk())
                .await
                .expect("an event within 5 s")
                .expect("the stream stays open")
                .expect("the stream does not end");
            self.buffer.push_str(std::str::from_utf8(&chunk).expect("UTF-8"));
        }
    }

    /// The next `change` event, skipping delivery-log notices.
    async fn next_change(&mut self) -> Sse {
        loop {
            let event = self.next().await;
            if event.event != "deliveries" {
                return event;
            }
        }
    }
}

async fn message(app: &TestApp, conversation: &str, body: &str) -> Value {
    app.post(&format!("/v1/Conversations/{conversation}/Messages"), &[("Body", body)]).await
}

#[tokio::test]
async fn the_page_and_its_assets_are_served_under_a_strict_content_security_policy() {
    let app = spawn_app().await;

    for (path, content_type) in [
        ("/_emulator/inspector/", "text/html"),
        ("/_emulator/inspector/app.js", "text/javascript"),
        ("/_emulator/inspector/app.css", "text/css"),
    ] {
        let response = app.client.get(format!("{}{path}", app.base)).send().await.unwrap();

        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let headers = response.headers();
        assert!(headers["content-type"].to_str().unwrap().starts_with(content_type), "{path}");
        let policy = headers["content-security-policy"].to_str().unwrap();
        for directive in ["default-src 'none'", "script-src 'self'", "frame-ancestors 'none'", "connect-src 'self'"] {
            assert!(policy.contains(directive), "{path}: {directive} missing from {policy}");
        }
        assert!(!policy.contains("unsafe-inline") && !policy.contains("unsafe-eval"), "{path}: {policy}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
    }
    // Embedded: the page names no other origin (no CDN, no web font).
    let page = app.client.get(format!("{}/_emulator/inspector/", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(!page.contains("http://") && !page.contains("https://"), "the page loads something from elsewhere");
    let unknown = app.client.get(format!("{}/_emulator/inspector/nope.js", app.base)).send().await.unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn no_control_turns_the_inspector_off_and_a_control_token_guards_its_data_not_its_page() {
    let mut off = Config::defaults();
    off.no_control = true;
    let off = spawn_app_with(off).await;
    let mut guarded = Config::defaults();
    guarded.control_token = Some("s3cret".into());
    let guarded = spawn_app_with(guarded).await;

    let page = |app: &TestApp| app.client.get(format!("{}/_emulator/inspector/", app.base)).send();
    assert_eq!(page(&off).await.unwrap().status(), StatusCode::NOT_FOUND);
    for path in ["/_emulator/events", "/_emulator/accounts", &format!("/_emulator/as/{ACCOUNT}/v1/Conversations")] {
        let refused = off.client.get(format!("{}{path}", off.base)).send().await.unwrap();
        assert_eq!(refused.status(), StatusCode::NOT_FOUND, "{path} with --no-control");
    }

    assert_eq!(page(&guarded).await.unwrap().status(), StatusCode::OK);
    for path in ["/_emulator/events", "/_emulator/accounts", &format!("/_emulator/as/{ACCOUNT}/v1/Conversations")] {
        let url = format!("{}{path}", guarded.base);
        let refused = guarded.client.get(&url).send().await.unwrap();
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED, "{path} without the token");
        let body: Value = refused.json().await.unwrap();
        assert_eq!(body["code"], 20003, "{path}");
        let allowed = guarded.client.get(&url).bearer_auth("s3cret").send().await.unwrap();
        assert_eq!(allowed.status(), StatusCode::OK, "{path} with the token");
    }
    assert_eq!(
        twilio_conversations_emulator::inspector_url(&Config::defaults(), "0.0.0.0:4747".parse().unwrap()).as_deref(),
        Some("http://localhost:4747/_emulator/inspector/")
    );
    let mut config = Config::defaults();
    config.no_control = true;
    assert_eq!(twilio_conversations_emulator::inspector_url(&config, "127.0.0.1:4747".parse().unwrap()), None);
}

#[tokio::test]
async fn the_api_acting_for_an_account_needs_no_auth_token_and_is_neither_journaled_nor_faulted() {
    let mut config = Config::defaults();
    config.accounts = vec![(ACCOUNT.parse().unwrap(), "the-real-token".into())];
    let app = spawn_app_with(config).await;
    let rule = json!({"path": "/v1/**", "error": {"status": 503, "code": 20503, "message": "down"}});
    assert_eq!(app.control(Method::POST, "/_emulator/faults", Some(&rule)).await.status(), StatusCode::CREATED);
    let acting = |path: &str| format!("{}/_emulator/as/{ACCOUNT}{path}", app.base);

    // Strict mode: the page has no auth token, yet it reads and writes for the account.
    let created = app
        .client
        .post(acting("/v1/Conversations"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("FriendlyName=from+the+inspector")
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.unwrap();
    let sid = sid_of(&created);
    let posted = app
        .client
        .post(acting(&format!("/v1/Conversations/{sid}/Messages")))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("Body=hi")
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), StatusCode::CREATED, "the Messages shortcut serves it too");
    let listed: Value = app
        .client
        .get(acting(&format!("/v1/Conversations/{sid}/Messages?PageSize=5")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["messages"][0]["body"], "hi");

    // Neither recorded nor faulted: the page's traffic is not the application's.
    let journal: Value = app.control(Method::GET, "/_emulator/requests", None).await.json().await.unwrap();
    assert_eq!(journal["requests"], json!([]));
    let faults: Value = app.control(Method::GET, "/_emulator/faults", None).await.json().await.unwrap();
    assert_eq!(faults["faults"][0]["matched"], 0);
    // The application's own request still is.
    let direct = app.client.get(format!("{}/v1/Conversations", app.base)).basic_auth(ACCOUNT, Some("the-real-token"));
    assert_eq!(direct.send().await.unwrap().status(), StatusCode::SERVICE_UNAVAILABLE);
    let journal: Value = app.control(Method::GET, "/_emulator/requests", None).await.json().await.unwrap();
    assert_eq!(journal["requests"][0]["error_code"], 20503, "the journal shows the Twilio error code");

    let malformed = app.client.get(format!("{}/_emulator/as/nobody/v1/Conversations", app.base)).send().await.unwrap();
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn accounts_lists_every_account_that_holds_data() {
    let app = spawn_app().await;
    let conversation = sid_of(&app.post("/v1/Conversations", &[]).await);
    message(&app, &conversation, "one").await;

    let accounts: Value = app.control(Method::GET, "/_emulator/accounts", None).await.json().await.unwrap();

    assert_eq!(accounts, json!([{"sid": ACCOUNT, "services": 1, "conversations": 1, "messages": 1}]));
}

#[tokio::test]
async fn the_live_stream_resumes_after_a_reconnect_without_losing_or_repeating_a_change() {
    let app = spawn_app().await;
    let conversation = sid_of(&app.post("/v1/Conversations", &[]).await);
    let mut stream = EventStream::open(&app, None).await;
    let hello = stream.next().await;
    assert_eq!(hello.event, "hello");

    let first = message(&app, &conversation, "first").await;
    let seen = stream.next_change().await;
    assert_eq!((seen.event.as_str(), seen.data["kind"].as_str()), ("change", Some("message")));
    assert_eq!(seen.data["sid"], first["sid"]);
    assert_eq!(seen.data["conversation"], conversation.as_str());
    assert_eq!(seen.data["account"], ACCOUNT);
    let last_seen = seen.id.expect("a change has an id");
    drop(stream);

    // Committed while the page was away.
    let missed: Vec<Value> =
        [message(&app, &conversation, "second").await, message(&app, &conversation, "third").await].into();
    let mut resumed = EventStream::open(&app, Some(last_seen)).await;
    let replayed = [resumed.next_change().await, resumed.next_change().await];
    let after = message(&app, &conversation, "fourth").await;
    let live = resumed.next_change().await;

    assert_eq!(replayed[0].data["sid"], missed[0]["sid"]);
    assert_eq!(replayed[1].data["sid"], missed[1]["sid"]);
    assert_eq!(replayed[0].id, Some(last_seen + 1), "nothing lost, nothing repeated");
    assert_eq!(replayed[1].id, Some(last_seen + 2));
    assert_eq!(live.data["sid"], after["sid"]);
    assert_eq!(live.id, Some(last_seen + 3));
}

#[tokio::test]
async fn a_page_that_cannot_resume_is_told_to_reload() {
    let app = spawn_app().await;
    let conversation = sid_of(&app.post("/v1/Conversations", &[]).await);
    let now = EventStream::open(&app, None).await.next().await.id.expect("hello has an id");

    // An id from before the stream recorded anything: those changes are not known.
    let mut behind = EventStream::open(&app, Some(now - 1)).await;
    let reload = behind.next().await;
    assert_eq!((reload.event.as_str(), reload.id), ("reload", Some(now)), "resumes from the newest change");
    // It then follows live changes as usual.
    let sent = message(&app, &conversation, "after reload").await;
    let followed = behind.next_change().await;
    assert_eq!(followed.data["sid"], sent["sid"]);

    // An id from another run of the server: newer than any change.
    let mut ahead = EventStream::open(&app, Some(now + 1000)).await;
    let reload = ahead.next().await;
    assert_eq!((reload.event.as_str(), reload.id), ("reload", followed.id));
}

#[tokio::test]
async fn the_live_stream_reports_resets_and_webhook_deliveries() {
    let app = spawn_app().await;
    let receiver = Receiver::spawn().await;
    app.post(
        "/v1/Configuration/Webhooks",
        &[("PostWebhookUrl", &receiver.url("/post")), ("Filters", "onMessageAdded")],
    )
    .await;
    let conversation = sid_of(&app.post("/v1/Conversations", &[]).await);
    let mut stream = EventStream::open(&app, None).await;
    stream.next().await;

    let sdk = json!({"account_sid": ACCOUNT, "conversation": conversation, "identity": "alice", "body": "hi"});
    app.post(&format!("/v1/Conversations/{conversation}/Participants"), &[("Identity", "alice")]).await;
    assert_eq!(stream.next().await.data["kind"], "participant");
    assert_eq!(app.control(Method::POST, "/_emulator/sdk/messages", Some(&sdk)).await.status(), StatusCode::OK);
    let posted = stream.next().await;
    assert_eq!((posted.data["source"].as_str(), posted.data["identity"].as_str()), (Some("SDK"), Some("alice")));
    let delivered = stream.next().await;
    assert_eq!((delivered.event.as_str(), delivered.id), ("deliveries", None), "a delivery notice moves no position");

    app.control(Method::POST, &format!("/_emulator/reset?account={ACCOUNT}"), None).await;
    let reset = stream.next_change().await;
    assert_eq!((reset.data["kind"].as_str(), reset.data["action"].as_str()), (Some("account"), Some("reset")));
}

/// The page in the system's Chromium, driven by tests/inspector/inspector.mjs: a message
/// from the API appears live; user strings render as text and run nothing; texting in as
/// an SMS participant fires a signed webhook that the page then shows, and redelivers; a
/// receipt moved from the page changes the message's `delivery`; a conversation and a
/// participant made from the page exist in the API; a reset from the page empties the
/// account; with `--control-token` the page asks for the token and keeps it in session
/// storage only. Screenshots go to tests/inspector/screenshots/.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_inspector_page_works_end_to_end_in_headless_chromium() {
    assert!(
        Path::new("/usr/bin/chromium").is_file(),
        "/usr/bin/chromium is missing: install Debian's package (apt-get install -y chromium), as .ci/run does"
    );
    ensure_node_deps("tests/inspector", "playwright-core");
    let emulator = spawn_binary();
    let mut receiver = Receiver::spawn().await;
    let token = "inspector-token";
    let post = |path: &str, form: Vec<(&'static str, String)>| {
        let request = emulator.client.post(format!("{}{path}", emulator.base)).basic_auth(ACCOUNT, Some(token));
        let body = serde_urlencoded::to_string(&form).expect("encode form");
        async move {
            let request = request.header("Content-Type", "application/x-www-form-urlencoded").body(body);
            let response = request.send().await.expect("the API answers");
            assert!(response.status().is_success(), "{}", response.text().await.unwrap_or_default());
            response.json::<Value>().await.expect("JSON")
        }
    };
    post(
        "/v1/Configuration/Webhooks",
        vec![("PostWebhookUrl", receiver.url("/twilio")), ("Filters", "onMessageAdded".into())],
    )
    .await;
    let created = post("/v1/Conversations", vec![("FriendlyName", "Support <desk>".into())]).await;
    let (conversation, service) = (sid_of(&created), created["chat_service_sid"].as_str().unwrap().to_owned());
    let participants = format!("/v1/Conversations/{conversation}/Participants");
    let sms = vec![
        ("MessagingBinding.Address", "+15551230000".to_owned()),
        ("MessagingBinding.ProxyAddress", "+15559870000".to_owned()),
    ];
    post(&participants, sms).await;
    post(&participants, vec![("Identity", "alice".into())]).await;

    // A second emulator, whose control plane needs a token.
    let control_token = "control-s3cret";
    let guarded = crate::helpers::spawn_binary_with(&["--control-token", control_token]);
    let made = guarded.client.post(format!("{}/v1/Conversations", guarded.base)).basic_auth(ACCOUNT, Some(token));
    let made = made.header("Content-Type", "application/x-www-form-urlencoded").body("FriendlyName=Guarded");
    assert!(made.send().await.expect("the API answers").status().is_success());

    let screenshots = root().join("tests/inspector/screenshots");
    let output = tokio::process::Command::new("node")
        .arg("tests/inspector/inspector.mjs")
        .current_dir(root())
        .env("EMULATOR_URL", &emulator.base)
        .env("ACCOUNT", ACCOUNT)
        .env("AUTH_TOKEN", token)
        .env("SERVICE", &service)
        .env("CONVERSATION", &conversation)
        .env("SCREENSHOTS", &screenshots)
        .env("GUARDED_URL", &guarded.base)
        .env("CONTROL_TOKEN", control_token)
        .output()
        .await
        .expect("run node (is it installed?)");
    let command = format!("node tests/inspector/inspector.mjs (EMULATOR_URL={})", emulator.base);
    assert!(output.status.success(), "the inspector scenarios failed\n{}", report(&command, &output));
    let text = String::from_utf8_lossy(&output.stdout);
    eprintln!("{text}");
    assert_eq!(text.lines().filter(|line| line.starts_with("ok ")).count(), 10, "{}", report(&command, &output));

    // The webhook the page's SMS caused, checked by this receiver, not by the page.
    let webhooks = receiver.drain();
    let texted = webhooks
        .iter()
        .find(|hook| hook.param("Body").as_deref() == Some("Texting in from the page"))
        .unwrap_or_else(|| panic!("no onMessageAdded for the page's SMS among {webhooks:#?}"));
    assert_eq!(texted.event_type(), "onMessageAdded");
    assert_eq!(texted.param("Source").as_deref(), Some("SMS"));
    assert_eq!(texted.param("Author").as_deref(), Some("+15551230000"));
    assert!(texted.signed_with(token, &receiver.base), "the signature does not validate");
    let redelivered = webhooks.iter().filter(|hook| hook.param("Body").as_deref() == Some("Texting in from the page"));
    assert!(redelivered.count() >= 2, "the redelivery from the page did not reach the receiver");
}
