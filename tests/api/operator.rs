//! What an operator sees of the binary: the start-up banner, the request log (text and
//! JSON, flushed at shutdown, more at `debug`), flags and variables as people write them,
//! and the healthcheck's reasons.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Command, Output};

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{ACCOUNT, binary_command, spawn_binary_with, start_binary};

const BINARY: &str = env!("CARGO_BIN_EXE_twilio-conversations-emulator");
const UNKNOWN_CONVERSATION: &str = "/v1/Conversations/CH00000000000000000000000000000000";

/// The binary run to completion with `args` and `variables`, none of the developer's own
/// `TWILIO_EMULATOR_*` variables leaking in.
fn run(args: &[&str], variables: &[(&str, &str)]) -> Output {
    let mut command = Command::new(BINARY);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("TWILIO_EMULATOR_") {
            command.env_remove(name);
        }
    }
    command.args(args).envs(variables.iter().copied()).output().expect("run the emulator binary")
}

#[tokio::test]
async fn the_banner_says_version_address_auth_state_and_control_plane_once() {
    let directory = std::env::temp_dir().join(format!("emulator-banner-{}", std::process::id()));
    std::fs::create_dir_all(&directory).expect("a temporary directory");
    let state_file = directory.join("state.json");
    let cases: [(&[&str], &[&str]); 3] = [
        (
            &[],
            &[
                "permissive: any account SID and auth token are accepted",
                "in memory",
                "control plane  on at /_emulator/",
            ],
        ),
        (
            &[
                "--accounts",
                "AC00000000000000000000000000000001:one,AC00000000000000000000000000000002:two",
                "--control-token",
                "secret",
                "--state-file",
                state_file.to_str().expect("a UTF-8 path"),
            ],
            &["strict: 2 accounts", &*format!("state file {}", state_file.display()), "protected by a token"],
        ),
        (&["--no-control"], &["control plane  off (--no-control)"]),
    ];
    for (args, expected) in cases {
        let running = spawn_binary_with(args);
        let address = running.base.clone();

        let exited = running.stop();

        let banner = exited.stdout;
        assert_eq!(banner.lines().next(), Some(&*format!("listening on {address}")), "{args:?}: {banner}");
        let version = format!("version        twilio-conversations-emulator {}", env!("CARGO_PKG_VERSION"));
        assert!(banner.contains(&version), "{args:?}: {banner}");
        for wanted in expected {
            assert!(banner.contains(wanted), "{args:?}: `{wanted}` missing from\n{banner}");
        }
        assert_eq!(banner.matches("listening on").count(), 1, "one banner: {banner}");
        assert!(!exited.log.contains("listening on"), "the banner is not in the log: {}", exited.log);
    }
    let _ = std::fs::remove_dir_all(directory);
}

#[tokio::test]
async fn every_requests_line_is_in_the_log_after_sigterm_with_account_status_code_and_duration() {
    let running = spawn_binary_with(&["--log-level", "info"]);
    // Many requests at once, answered by both workers, with successes and errors mixed.
    let mut requests = tokio::task::JoinSet::new();
    for n in 0..200 {
        let path = if n % 2 == 0 { format!("{UNKNOWN_CONVERSATION}?n={n}") } else { format!("/v1/Services?n={n}") };
        let request = running.client.get(format!("{}{path}", running.base)).basic_auth(ACCOUNT, Some("token"));
        requests.spawn(async move { request.send().await.expect("an answer").status() });
    }
    let statuses = requests.join_all().await;
    assert_eq!(statuses.iter().filter(|status| **status == StatusCode::NOT_FOUND).count(), 100);

    let (status, log) = running.terminate();

    assert!(status.success(), "{status}");
    let lines: Vec<&str> =
        log.lines().filter(|line| line.contains("twilio_conversations_emulator::request:")).collect();
    assert_eq!(lines.len(), 200, "one line per request, none lost at shutdown: {log}");
    let missing = lines.iter().find(|line| !line.contains(&format!(" account={ACCOUNT} method=GET path=\"/v1/")));
    assert!(missing.is_none(), "{missing:?}");
    let errors = lines.iter().filter(|line| line.contains(" status=404 code=20404 duration_us=")).count();
    let successes = lines.iter().filter(|line| line.contains(" status=200 duration_us=")).count();
    assert_eq!((errors, successes), (100, 100), "{log}");
}

#[tokio::test]
async fn log_format_json_writes_one_object_per_line() {
    let running = spawn_binary_with(&["--log-level", "info", "--log-format", "json"]);
    running.send(Method::GET, UNKNOWN_CONVERSATION, &[]).await;

    let (_, log) = running.terminate();

    let objects: Vec<Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not one JSON object ({e}): {line}")))
        .collect();
    let request = objects
        .iter()
        .find(|object| object["target"] == "twilio_conversations_emulator::request")
        .unwrap_or_else(|| panic!("no request line in {log}"));
    assert_eq!(request["level"], "INFO");
    assert_eq!((&request["account"], &request["method"]), (&Value::from(ACCOUNT), &Value::from("GET")));
    assert_eq!((&request["path"], &request["status"]), (&Value::from(UNKNOWN_CONVERSATION), &Value::from(404)));
    assert_eq!(request["code"], 20404);
    assert!(request["duration_us"].is_u64(), "{request}");
    assert!(objects.iter().any(|object| object["message"] == "shutting down"), "the rest of the log too: {log}");
}

#[tokio::test]
async fn rust_log_debug_shows_more_than_info() {
    let mut logs = Vec::new();
    for level in ["info", "debug"] {
        let mut command = binary_command(&[]);
        command.env("RUST_LOG", level);
        let running = start_binary(command);
        running.send(Method::GET, "/v1/Services?PageSize=5", &[]).await;
        logs.push(running.terminate().1);
    }

    let [info, debug] = [&logs[0], &logs[1]];
    assert!(info.contains("status=200") && debug.contains("status=200"), "the request line at both: {info}\n{debug}");
    assert!(!info.contains("request received"), "{info}");
    assert!(debug.contains("request received") && debug.contains("query=\"PageSize=5\""), "{debug}");
    assert!(debug.contains("user_agent="), "{debug}");
}

#[tokio::test]
async fn host_localhost_is_resolved() {
    let running = spawn_binary_with(&["--host", "localhost"]);

    let answer = running.send(Method::GET, "/_emulator/health", &[]).await;

    assert_eq!(answer.status(), StatusCode::OK);
    assert!(running.base.starts_with("http://127.0.0.1:") || running.base.starts_with("http://[::1]:"));
}

#[tokio::test]
async fn boolean_variables_take_1_0_true_false_yes_no_in_any_case() {
    let cases = [
        ("1", true),
        ("true", true),
        ("YES", true),
        ("Yes", true),
        ("0", false),
        ("False", false),
        ("no", false),
        ("NO", false),
    ];
    for (value, off) in cases {
        let mut command = binary_command(&[]);
        command.env("TWILIO_EMULATOR_NO_CONTROL", value);
        let running = start_binary(command);

        let clock = running.send(Method::GET, "/_emulator/clock", &[]).await.status();

        let expected = if off { StatusCode::NOT_FOUND } else { StatusCode::OK };
        assert_eq!(clock, expected, "TWILIO_EMULATOR_NO_CONTROL={value}");
    }
}

#[test]
fn an_error_caused_by_a_variable_names_the_variable() {
    let missing = std::env::temp_dir().join(format!("emulator-missing-{}", std::process::id()));
    let unwritable = missing.join("state.json");
    let unwritable = unwritable.to_str().expect("a UTF-8 path");
    // `--port 0` everywhere but where the port is the variable tried: a flag outranks its
    // variable.
    let cases: [(&[&str], &str, &str, &str); 4] = [
        (&[], "TWILIO_EMULATOR_PORT", "abc", "invalid value 'abc'"),
        (&["--port", "0"], "TWILIO_EMULATOR_NO_CONTROL", "maybe", "invalid value 'maybe'"),
        (&["--port", "0"], "TWILIO_EMULATOR_HOST", "no such host.invalid", "not an IP address or a host name"),
        (&["--port", "0"], "TWILIO_EMULATOR_STATE_FILE", unwritable, "cannot start"),
    ];
    for (args, variable, value, error) in cases {
        let output = run(args, &[(variable, value)]);

        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{variable}={value}: {stderr}");
        assert!(stderr.contains(error) && stderr.contains(variable), "{variable}={value}: {stderr}");
    }
    let on_the_command_line = run(&["--port", "abc"], &[]);
    let stderr = String::from_utf8_lossy(&on_the_command_line.stderr);
    assert!(stderr.contains("invalid value 'abc'") && !stderr.contains("TWILIO_EMULATOR_PORT"), "{stderr}");
}

/// A server on a loopback port that answers every connection with `answer` (or, when
/// `None`, reads and never answers), until the test ends.
fn fake_instance(answer: Option<&'static str>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let port = listener.local_addr().expect("an address").port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for mut stream in listener.incoming().map_while(Result::ok) {
            let mut request = [0u8; 1024];
            let _ = stream.read(&mut request);
            match answer {
                Some(answer) => drop(stream.write_all(answer.as_bytes())),
                None => held.push(stream),
            }
        }
    });
    port
}

#[test]
fn healthcheck_says_why_it_failed() {
    let closed = TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("address").port();
    let unavailable = fake_instance(Some("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n"));
    let silent = fake_instance(None);
    let cases = [
        (closed, format!("connection refused at 127.0.0.1:{closed}")),
        (unavailable, format!("bad status 503 from 127.0.0.1:{unavailable}")),
        (silent, format!("timeout: no answer from 127.0.0.1:{silent} within 300 ms")),
    ];
    for (port, reason) in cases {
        let port = port.to_string();

        let output = run(&["healthcheck", "--host", "127.0.0.1", "--port", &port, "--timeout-ms", "300"], &[]);

        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{reason}: {stderr}");
        assert!(stderr.contains(&reason), "expected `{reason}` in: {stderr}");
    }
}
