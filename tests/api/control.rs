//! The control plane's traffic side, through the real server: the request journal, fault
//! and latency rules, and Prometheus metrics.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::time::Instant;
use twilio_conversations_emulator::Config;

use crate::helpers::{
    ACCOUNT, Form, OTHER_ACCOUNT, TestApp, assert_twilio_error, assert_twilio_error_for, in_process_app,
    in_process_request, json_ok, sid_of, spawn_app, spawn_app_with,
};

/// The journal, or the part of it that `query` selects (`""` for all of it).
async fn journal(app: &TestApp, query: &str) -> Vec<Value> {
    let listing = json_ok(app.control(Method::GET, &format!("/_emulator/requests{query}"), None).await).await;
    listing["requests"].as_array().expect("a `requests` array").clone()
}

/// Creates a fault rule and returns it.
async fn add_fault(app: &TestApp, rule: Value) -> Value {
    let response = app.control(Method::POST, "/_emulator/faults", Some(&rule)).await;
    assert_eq!(response.status(), StatusCode::CREATED, "{rule}");
    json_ok(response).await
}

/// The fault rules, as listed.
async fn faults(app: &TestApp) -> Vec<Value> {
    let listing = json_ok(app.control(Method::GET, "/_emulator/faults", None).await).await;
    listing["faults"].as_array().expect("a `faults` array").clone()
}

/// The metrics text, checked to be Prometheus' format.
async fn metrics(app: &TestApp) -> String {
    let response = app.control(Method::GET, "/_emulator/metrics", None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()["content-type"].to_str().expect("ASCII").to_owned();
    assert!(content_type.starts_with("text/plain; version=0.0.4"), "{content_type}");
    response.text().await.expect("metrics text")
}

/// A JSON string's text (panics on anything else).
fn as_str(value: &Value) -> &str {
    value.as_str().unwrap_or_else(|| panic!("not a string: {value}"))
}

// --- Journal ----------------------------------------------------------------------------

#[tokio::test]
async fn the_journal_records_what_was_sent_and_answered() {
    let app = spawn_app().await;

    let created = app.post("/v1/Conversations", &[("FriendlyName", "team"), ("Attributes", "{\"a\":1}")]).await;
    app.get("/v1/Conversations?PageSize=5").await;

    let entries = journal(&app, "").await;
    assert_eq!(entries.len(), 2, "{entries:?}");
    let (create, list) = (&entries[0], &entries[1]);
    assert_eq!(create["method"], "POST");
    assert_eq!(create["path"], "/v1/Conversations");
    assert_eq!(create["query"], Value::Null);
    assert_eq!(create["params"], json!([["FriendlyName", "team"], ["Attributes", "{\"a\":1}"]]));
    assert_eq!(create["status"], 201);
    assert_eq!(create["account"], ACCOUNT);
    assert_eq!(create["faults"], json!([]));
    assert!(create["duration_us"].is_u64(), "{create}");
    assert!(create["time"].as_str().is_some_and(|time| time.ends_with('Z')), "{create}");
    assert_eq!(create["headers"]["content-type"], "application/x-www-form-urlencoded");
    assert_eq!(list["method"], "GET");
    assert_eq!(list["query"], "PageSize=5");
    assert_eq!(list["params"], json!([]));
    assert_eq!(list["status"], 200);
    assert!(list["sequence"].as_u64() > create["sequence"].as_u64(), "newest last: {entries:?}");
    assert!(created["sid"].is_string());
}

#[tokio::test]
async fn the_journal_redacts_the_password_but_keeps_the_account_sid() {
    let app = spawn_app().await;

    app.get("/v1/Services").await;

    let entries = journal(&app, "").await;
    assert_eq!(entries[0]["headers"]["authorization"], format!("Basic {ACCOUNT}:<redacted>"));
    let text = serde_json::to_string(&entries).expect("JSON");
    let encoded = STANDARD.encode(format!("{ACCOUNT}:token"));
    assert!(!text.contains(&encoded), "the raw credentials leaked: {text}");
    assert!(!text.contains(":token"), "the password leaked: {text}");
}

#[tokio::test]
async fn the_journal_records_rejected_and_unknown_requests_but_not_control_ones() {
    let config = Config { max_body_bytes: 64, ..Config::defaults() };
    let app = spawn_app_with(config).await;
    let anonymous = app.client.get(format!("{}/v1/Services", app.base)).send().await.expect("sent");
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    let unknown = app.send(Method::GET, "/v1/Nothing/Here", &[]).await;
    let oversized = app.send(Method::POST, "/v1/Conversations", &[("FriendlyName", &"x".repeat(100))]).await;
    app.control(Method::GET, "/_emulator/faults", None).await;

    assert_twilio_error(unknown, StatusCode::NOT_FOUND, 20404).await;
    assert_twilio_error(oversized, StatusCode::PAYLOAD_TOO_LARGE, 20413).await;
    let entries = journal(&app, "").await;
    let summary: Vec<(&str, u64, &Value)> = entries
        .iter()
        .map(|entry| {
            (entry["path"].as_str().expect("path"), entry["status"].as_u64().expect("status"), &entry["account"])
        })
        .collect();
    let account = json!(ACCOUNT);
    assert_eq!(
        summary,
        [
            ("/v1/Services", 401, &Value::Null),
            ("/v1/Nothing/Here", 404, &account),
            ("/v1/Conversations", 413, &account),
        ],
        "no /_emulator/ request is journaled"
    );
    assert_eq!(entries[2]["params"], Value::Null, "a refused body is not parsed");
}

#[tokio::test]
async fn hostile_requests_cannot_make_the_journal_or_its_listing_large() {
    let app = spawn_app_with(Config { journal_max_bytes: 1024 * 1024, ..Config::defaults() }).await;
    let long_target = format!("{}/v1/Nowhere?{}", app.base, "q".repeat(30_000));
    for _ in 0..40 {
        let mut request = app.client.get(&long_target);
        for index in 0..90 {
            request = request.header(format!("x-big-{index}"), "h".repeat(4000));
        }
        let response = request.send().await.expect("send");
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
    }

    let listing = app.control(Method::GET, "/_emulator/requests", None).await.bytes().await.expect("a listing");

    assert!(listing.len() < 1536 * 1024, "the listing stays small: {} bytes", listing.len());
    let listing: Value = serde_json::from_slice(&listing).expect("JSON");
    let entries = listing["requests"].as_array().expect("entries");
    assert!(!entries.is_empty());
    let newest = &entries[entries.len() - 1];
    assert!(as_str(&newest["query"]).ends_with("bytes cut]"), "the target is cut with a marker");
    assert!(as_str(&newest["headers"]["x-big-0"]).ends_with("bytes cut]"), "a value is cut with a marker");
    assert!(newest["headers"]["x-emulator-journal-cut"].is_string(), "the headers cut are counted");
}

#[tokio::test]
async fn the_journal_redacts_cookies_api_keys_and_secret_parameters() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(format!("{}/v1/Credentials?AuthToken=q-secret", app.base))
        .basic_auth(ACCOUNT, Some("t"))
        .header("Cookie", "session=c-secret")
        .header("X-Api-Key", "k-secret")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("Type=fcm&Secret=f-secret&Password=p-secret")
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), StatusCode::CREATED);

    let entries = journal(&app, "?path=/v1/Credentials").await;

    let shown = entries[0].to_string();
    for secret in ["q-secret", "c-secret", "k-secret", "f-secret", "p-secret"] {
        assert!(!shown.contains(secret), "{secret} is hidden: {shown}");
    }
    assert_eq!(entries[0]["params"][0], json!(["Type", "fcm"]));
}

#[tokio::test]
async fn the_journal_filters_by_account_path_method_and_limit() {
    let app = spawn_app().await;
    let conversation = app.conversation(&Form::Default).await;
    app.message(&Form::Default, &conversation, "hello").await;
    app.send_as(OTHER_ACCOUNT, Method::GET, "/v1/Services", &[]).await;
    app.get(&Form::Default.messages(&conversation)).await;

    // Each filter, and their combination.
    let paths = |entries: Vec<Value>| -> Vec<String> {
        entries.iter().map(|entry| format!("{} {}", as_str(&entry["method"]), as_str(&entry["path"]))).collect()
    };
    let messages = Form::Default.messages(&conversation);
    let cases: Vec<(String, Vec<String>)> = vec![
        (format!("?account={OTHER_ACCOUNT}"), vec!["GET /v1/Services".to_owned()]),
        ("?method=post".to_owned(), vec!["POST /v1/Conversations".to_owned(), format!("POST {messages}")]),
        ("?path=/Messages".to_owned(), vec![format!("POST {messages}"), format!("GET {messages}")]),
        ("?path=/v1/Conversations/*/Messages&method=GET".to_owned(), vec![format!("GET {messages}")]),
        (format!("?account={ACCOUNT}&limit=2"), vec![format!("POST {messages}"), format!("GET {messages}")]),
        ("?path=/v1/Services/**".to_owned(), vec!["GET /v1/Services".to_owned()]),
    ];
    for (query, expected) in cases {
        assert_eq!(paths(journal(&app, &query).await), expected, "{query}");
    }
}

#[tokio::test]
async fn invalid_journal_queries_are_twilio_400s() {
    let app = spawn_app().await;
    for (case, query) in [
        ("a limit that is not a number", "?limit=many"),
        ("an account that is not an account SID", "?account=IS123"),
        ("an unknown parameter", "?acount=AC1"),
        ("a path glob with `**` inside a segment", "?path=/v1/Conv**"),
    ] {
        let response = app.control(Method::GET, &format!("/_emulator/requests{query}"), None).await;
        assert_twilio_error_for(case, response, StatusCode::BAD_REQUEST, 20001).await;
    }
}

#[tokio::test]
async fn the_journal_is_bounded_and_clearable() {
    let app = spawn_app_with(Config { journal_size: 3, ..Config::defaults() }).await;

    for size in 1..=5 {
        app.get(&format!("/v1/Services?PageSize={size}")).await;
    }

    let queries: Vec<Value> = journal(&app, "").await.iter().map(|entry| entry["query"].clone()).collect();
    assert_eq!(queries, [json!("PageSize=3"), json!("PageSize=4"), json!("PageSize=5")], "the oldest are dropped");
    let cleared = app.control(Method::DELETE, "/_emulator/requests", None).await;
    assert_eq!(cleared.status(), StatusCode::NO_CONTENT);
    assert_eq!(journal(&app, "").await, Vec::<Value>::new());
}

// --- Faults -----------------------------------------------------------------------------

#[tokio::test]
async fn a_fault_fires_exactly_times_then_the_api_answers_normally_and_stores_nothing_faulted() {
    let app = spawn_app().await;
    let conversation = app.conversation(&Form::Default).await;
    let rule = add_fault(
        &app,
        json!({
            "method": "POST",
            "path": "/v1/Conversations/*/Messages",
            "error": { "status": 429, "code": 20429, "message": "Too Many Requests", "retry_after_seconds": 7 },
            "times": 2
        }),
    )
    .await;
    assert!(rule["id"].as_str().is_some_and(|id| id.starts_with("FR")), "{rule}");
    assert_eq!((&rule["remaining"], &rule["fired"]), (&json!(2), &json!(0)));

    let mut statuses = Vec::new();
    for body in ["one", "two", "three"] {
        let response = app.send(Method::POST, &Form::Default.messages(&conversation), &[("Body", body)]).await;
        statuses.push(response.status());
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(response.headers()["retry-after"], "7");
            let message = assert_twilio_error(response, StatusCode::TOO_MANY_REQUESTS, 20429).await;
            assert_eq!(message, "Too Many Requests");
        }
    }

    assert_eq!(statuses, [StatusCode::TOO_MANY_REQUESTS, StatusCode::TOO_MANY_REQUESTS, StatusCode::CREATED]);
    let messages = app.get(&Form::Default.messages(&conversation)).await["messages"].clone();
    let bodies: Vec<&Value> = messages.as_array().expect("messages").iter().map(|m| &m["body"]).collect();
    assert_eq!(bodies, [&json!("three")], "faulted creates store nothing");
    let listed = faults(&app).await;
    assert_eq!((&listed[0]["remaining"], &listed[0]["fired"]), (&json!(0), &json!(2)));
    let faulted = journal(&app, "?path=/Messages").await;
    assert_eq!(faulted[0]["faults"], json!([rule["id"]]), "the journal names the rule");
    assert_eq!(faulted[0]["status"], 429);
}

#[tokio::test]
async fn a_fault_matches_only_its_method_path_and_account() {
    let app = spawn_app().await;
    add_fault(
        &app,
        json!({ "method": "GET", "path": "/v1/Services", "account": OTHER_ACCOUNT, "error": { "status": 503 } }),
    )
    .await;

    let mine = app.send(Method::GET, "/v1/Services", &[]).await.status();
    let other_method =
        app.send_as(OTHER_ACCOUNT, Method::POST, "/v1/Services", &[("FriendlyName", "s")]).await.status();
    let other_path = app.send_as(OTHER_ACCOUNT, Method::GET, "/v1/Conversations", &[]).await.status();
    let theirs = app.send_as(OTHER_ACCOUNT, Method::GET, "/v1/Services", &[]).await;

    assert_eq!((mine, other_method, other_path), (StatusCode::OK, StatusCode::CREATED, StatusCode::OK));
    let message = assert_twilio_error(theirs, StatusCode::SERVICE_UNAVAILABLE, 20503).await;
    assert_eq!(message, "Service Unavailable", "defaults come from the status");
}

#[tokio::test]
async fn probability_zero_never_fires_and_one_always_does() {
    let app = spawn_app().await;
    let never = add_fault(&app, json!({ "path": "/v1/Services", "error": { "status": 500 }, "probability": 0 })).await;
    let always =
        add_fault(&app, json!({ "path": "/v1/Conversations", "error": { "status": 500 }, "probability": 1 })).await;

    for _ in 0..10 {
        assert_eq!(app.send(Method::GET, "/v1/Services", &[]).await.status(), StatusCode::OK);
        let faulted = app.send(Method::GET, "/v1/Conversations", &[]).await;
        assert_twilio_error(faulted, StatusCode::INTERNAL_SERVER_ERROR, 20500).await;
    }

    let listed = faults(&app).await;
    let counters: Vec<(&Value, &Value, &Value)> =
        listed.iter().map(|rule| (&rule["id"], &rule["matched"], &rule["fired"])).collect();
    assert_eq!(counters, [(&never["id"], &json!(10), &json!(0)), (&always["id"], &json!(10), &json!(10))]);
}

#[tokio::test(start_paused = true)]
async fn a_latency_rule_delays_its_requests_by_its_latency_and_lets_them_through() {
    // In-process, on tokio's paused clock, which jumps over the rule's sleep the
    // moment nothing else can run, so the delay is measured exactly and never waited for.
    let app = in_process_app(&Config::defaults());
    let rule = json!({ "method": "POST", "path": "/v1/Conversations", "latency_ms": 250 });
    let (status, rule) = in_process_request(&app, Method::POST, "/_emulator/faults", Some(&rule)).await;
    assert_eq!(status, StatusCode::CREATED, "{rule}");

    let started = Instant::now();
    let (created, conversation) = in_process_request(&app, Method::POST, "/v1/Conversations", None).await;
    let delayed = started.elapsed();
    let started = Instant::now();
    let (listed, _) = in_process_request(&app, Method::GET, "/v1/Conversations", None).await;
    let not_delayed = started.elapsed();

    assert_eq!(created, StatusCode::CREATED, "{conversation}");
    assert_eq!(delayed, Duration::from_millis(250), "the matching request waited the rule's latency");
    assert_eq!(listed, StatusCode::OK);
    assert_eq!(not_delayed, Duration::ZERO, "a request the rule does not match is not delayed");
    let (_, journal) = in_process_request(&app, Method::GET, "/_emulator/requests", None).await;
    assert_eq!(journal["requests"][0]["faults"], json!([rule["id"]]), "{journal}");
    let path = format!("/v1/Conversations/{}", sid_of(&conversation));
    assert_eq!(
        in_process_request(&app, Method::GET, &path, None).await.0,
        StatusCode::OK,
        "the conversation was stored"
    );
}

#[tokio::test]
async fn fault_rules_are_listable_fetchable_and_removable() {
    let app = spawn_app().await;
    let first = add_fault(&app, json!({ "latency_ms": 1 })).await;
    let second = add_fault(&app, json!({ "path": "/v1/**", "error": { "status": 500 }, "times": 1 })).await;
    let first_id = first["id"].as_str().expect("id");

    assert_eq!(faults(&app).await.len(), 2);
    let fetched = json_ok(app.control(Method::GET, &format!("/_emulator/faults/{first_id}"), None).await).await;
    assert_eq!(fetched, first);
    let deleted = app.control(Method::DELETE, &format!("/_emulator/faults/{first_id}"), None).await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let ids: Vec<Value> = faults(&app).await.iter().map(|rule| rule["id"].clone()).collect();
    assert_eq!(ids, [second["id"].clone()]);
    for gone in [first_id, "FR-not-an-id"] {
        let response = app.control(Method::DELETE, &format!("/_emulator/faults/{gone}"), None).await;
        assert_twilio_error(response, StatusCode::NOT_FOUND, 20404).await;
    }
    let cleared = app.control(Method::DELETE, "/_emulator/faults", None).await;
    assert_eq!(cleared.status(), StatusCode::NO_CONTENT);
    assert_eq!(faults(&app).await, Vec::<Value>::new());
    assert_eq!(app.send(Method::GET, "/v1/Services", &[]).await.status(), StatusCode::OK, "no rule is left");
}

#[tokio::test]
async fn invalid_fault_rules_are_twilio_400s_with_a_reason() {
    let app = spawn_app().await;
    let cases = [
        ("neither an error nor a latency", json!({ "path": "/v1/**" }), "needs an `error`"),
        ("a misspelt field", json!({ "latency_ms": 1, "probabilty": 0.5 }), "unknown field"),
        ("a status that is not an error", json!({ "error": { "status": 302 } }), "HTTP error status"),
        ("a negative probability", json!({ "latency_ms": 1, "probability": -0.1 }), "between 0 and 1"),
        ("zero times", json!({ "latency_ms": 1, "times": 0 }), "at least 1"),
        ("`**` inside a segment", json!({ "latency_ms": 1, "path": "/v1/Conv**" }), "whole segment"),
        ("an account that is not an account SID", json!({ "latency_ms": 1, "account": "nobody" }), "Invalid `account`"),
        ("a latency that is not a number", json!({ "latency_ms": "slow" }), "Invalid JSON body"),
    ];
    for (case, rule, reason) in cases {
        let response = app.control(Method::POST, "/_emulator/faults", Some(&rule)).await;
        let message = assert_twilio_error_for(case, response, StatusCode::BAD_REQUEST, 20001).await;
        assert!(message.contains(reason), "{case}: {rule}: {message}");
    }
    assert_eq!(faults(&app).await, Vec::<Value>::new(), "nothing was added");
}

// --- Metrics ----------------------------------------------------------------------------

#[tokio::test]
async fn metrics_count_requests_by_route_and_report_the_store() {
    let app = spawn_app().await;
    let conversation = app.conversation(&Form::Default).await;
    app.message(&Form::Default, &conversation, "one").await;
    app.message(&Form::Default, &conversation, "two").await;
    app.send(Method::GET, "/v1/Nothing", &[]).await;
    add_fault(&app, json!({ "path": "/v1/Services", "error": { "status": 500 }, "times": 1 })).await;
    app.send(Method::GET, "/v1/Services", &[]).await;

    let text = metrics(&app).await;

    let expected = [
        r#"twilio_emulator_requests_total{method="POST",route="/v1/Conversations",status="201"} 1"#,
        r#"twilio_emulator_requests_total{method="POST",route="/v1/Conversations/{ConversationSid}/Messages",status="201"} 2"#,
        r#"twilio_emulator_requests_total{method="GET",route="unmatched",status="404"} 1"#,
        r#"twilio_emulator_requests_total{method="GET",route="/v1/Services",status="500"} 1"#,
        r#"twilio_emulator_request_duration_seconds_count{method="POST",route="/v1/Conversations",status="201"} 1"#,
        "twilio_emulator_store_accounts 1",
        "twilio_emulator_store_conversations 1",
        "twilio_emulator_store_messages 2",
        "twilio_emulator_journal_entries 5",
        "twilio_emulator_faults_fired_total 1",
        "# TYPE twilio_emulator_uptime_seconds gauge",
    ];
    for line in expected {
        assert!(text.lines().any(|l| l == line), "missing `{line}` in:\n{text}");
    }
    assert!(!text.contains("/_emulator/"), "control requests are not counted:\n{text}");
}

#[tokio::test]
async fn message_routes_are_labelled_by_their_route_template_on_both_forms() {
    // Every Messages operation on each form, plus a malformed message SID, which
    // the router (not the shortcut) matches and must label with the same template.
    let app = spawn_app().await;
    for form in app.forms().await {
        let conversation = app.conversation(&form).await;
        let messages = form.messages(&conversation);
        let message = format!("{messages}/{}", sid_of(&app.message(&form, &conversation, "one").await));
        app.get(&messages).await;
        app.get(&message).await;
        app.post(&message, &[("Body", "two")]).await;
        assert_eq!(app.send(Method::DELETE, &message, &[]).await.status(), StatusCode::NO_CONTENT);
        app.send(Method::GET, &format!("{messages}/IMnot-a-sid"), &[]).await;
    }

    let text = metrics(&app).await;

    for prefix in ["/v1/Conversations", "/v1/Services/{ChatServiceSid}/Conversations"] {
        let list = format!("{prefix}/{{ConversationSid}}/Messages");
        let item = format!("{list}/{{MessageSid}}");
        let expected = [
            ("POST", &list, 201),
            ("GET", &list, 200),
            ("GET", &item, 200),
            ("POST", &item, 200),
            ("DELETE", &item, 204),
            ("GET", &item, 404),
        ];
        for (method, route, status) in expected {
            let line =
                format!(r#"twilio_emulator_requests_total{{method="{method}",route="{route}",status="{status}"}} 1"#);
            assert!(text.lines().any(|l| l == line), "missing `{line}` in:\n{text}");
        }
    }
}
