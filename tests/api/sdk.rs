//! The official Twilio SDKs (PyPI `twilio`, npm `twilio`) driving the built binary, and
//! Schemathesis checking its answers against Twilio's OpenAPI files.
//!
//! The suites live in tests/sdk/ (see its README). Each test here installs the suite's
//! pinned dependencies when they are missing or stale, starts the emulator binary on a
//! random port, runs the suite against it and fails with the suite's full output unless
//! every SDK test passed. A missing interpreter or a failed install is a failure, never a skip.
//!
//! Each SDK suite runs twice: with the suite's HTTP client rewriting Twilio's hosts to the
//! emulator, and through proxy mode, where the SDK is a plain `Client(sid, token)` that only
//! the environment (`HTTPS_PROXY`, the CA bundle variable) sends to the emulator.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::helpers::{TestApp, spawn_binary, spawn_binary_with};

/// The crate's root: every path below is relative to it.
pub(crate) fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Held while checking and installing dependencies, so that two `cargo test` processes
/// (or two targets) never run pip or `npm ci` into the same directory at once.
fn install_lock(name: &str) -> File {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("sdk-{name}-install.lock"));
    let file = File::create(&path).unwrap_or_else(|e| panic!("create {}: {e}", path.display()));
    file.lock().unwrap_or_else(|e| panic!("lock {}: {e}", path.display()));
    file
}

/// Runs a command to completion, capturing its output; panics if it cannot be started.
pub(crate) fn run(command: &mut Command) -> Output {
    command.output().unwrap_or_else(|e| panic!("could not run {command:?}: {e} (is it installed and on PATH?)"))
}

/// The status and both streams of a finished command, for panic messages.
pub(crate) fn report(command: &str, output: &Output) -> String {
    format!(
        "`{command}` exited with {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Installs `{suite}/requirements.txt` into `{suite}/.deps` (`suite` relative to the
/// crate's root), unless the marker left by the last successful install holds the same
/// requirements.
fn ensure_python_deps(suite: &str) {
    let python = root().join(suite);
    let requirements = python.join("requirements.txt");
    let deps = python.join(".deps");
    let marker_name = ".installed-requirements.txt";
    let wanted = fs::read_to_string(&requirements).unwrap_or_else(|e| panic!("read {}: {e}", requirements.display()));

    let _lock = install_lock(&suite.replace('/', "-"));
    if fs::read_to_string(deps.join(marker_name)).is_ok_and(|installed| installed == wanted) {
        return;
    }
    // pip --target does not replace packages already in the target: start from nothing.
    if deps.exists() {
        fs::remove_dir_all(&deps).unwrap_or_else(|e| panic!("remove stale {}: {e}", deps.display()));
    }
    let output = run(Command::new("python3")
        .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--target"])
        .arg(&deps)
        .arg("-r")
        .arg(&requirements)
        .current_dir(root()));
    assert!(
        output.status.success(),
        "installing {suite}'s Python dependencies failed\n{}",
        report(
            &format!(
                "python3 -m pip install --quiet --disable-pip-version-check --target {suite}/.deps -r {suite}/requirements.txt"
            ),
            &output,
        )
    );
    fs::write(deps.join(marker_name), &wanted).expect("write the install marker");
}

/// Runs `npm ci` in `suite` (relative to the crate's root) unless its node_modules holds a
/// completed install of the version of `package` that its package.json pins.
pub(crate) fn ensure_node_deps(suite: &str, package: &str) {
    let node = root().join(suite);
    let _lock = install_lock(&suite.replace('/', "-"));
    let modules = node.join("node_modules");
    let pinned = json_at(&node.join("package.json"))["dependencies"][package].clone();
    let installed = modules.join(".package-lock.json").is_file()
        && modules.join(package).is_dir()
        && json_at(&modules.join(package).join("package.json"))["version"] == pinned;
    if installed {
        return;
    }
    let output = run(Command::new("npm").args(["ci", "--no-audit", "--no-fund"]).current_dir(&node));
    assert!(
        output.status.success(),
        "installing the dependencies of {suite} failed\n{}",
        report(&format!("npm ci --no-audit --no-fund (in {suite})"), &output)
    );
}

/// A JSON file's content, or `null` when it is missing or unreadable.
fn json_at(path: &Path) -> Value {
    fs::read_to_string(path).ok().and_then(|text| serde_json::from_str(&text).ok()).unwrap_or(Value::Null)
}

/// How an SDK suite reaches the emulator.
#[derive(Clone, Copy, Debug)]
enum Route {
    /// The suite's own HTTP client rewrites Twilio's hosts to the emulator's URL.
    Direct,
    /// A plain SDK client, sent through proxy mode by the environment alone.
    Proxy,
}

/// The proxy variables of the environment, which [`Route::Direct`] runs without and
/// [`Route::Proxy`] runs sets.
const PROXY_VARIABLES: [&str; 6] = ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"];

/// The emulator binary for a suite run on `route`: in proxy mode with a data directory
/// whose CA the suite is told to trust.
fn emulator_for(route: Route) -> TestApp {
    match route {
        Route::Direct => spawn_binary(),
        Route::Proxy => spawn_binary_with(&["--data-dir", &proxy_data_dir().to_string_lossy()]),
    }
}

/// The data directory of the proxied runs (shared by them: one CA, created by the first).
fn proxy_data_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("sdk-proxy-data")
}

/// A command whose environment sends the SDKs to `emulator` on `route`, and nowhere else:
/// TWILIO_REGION and TWILIO_EDGE make both SDKs rewrite hostnames (and they would mangle
/// 127.0.0.1). Through the proxy, each runtime is given the variables it reads: HTTPS_PROXY
/// and REQUESTS_CA_BUNDLE for Python's requests, HTTP_PROXY (what twilio-node's
/// RequestClient reads) and NODE_EXTRA_CA_CERTS for Node; NO_PROXY keeps the suites' own
/// plain-HTTP calls to the emulator (uploads, the control plane) direct.
fn suite_command(program: &str, emulator: &TestApp, route: Route) -> Command {
    let mut command = Command::new(program);
    command
        .current_dir(root())
        .env("EMULATOR_URL", &emulator.base)
        .env_remove("TWILIO_REGION")
        .env_remove("TWILIO_EDGE");
    for variable in PROXY_VARIABLES {
        command.env_remove(variable);
    }
    if let Route::Proxy = route {
        let certificate = proxy_data_dir().join("ca/cert.pem");
        command
            .env("EMULATOR_PROXY", "1")
            .env("HTTPS_PROXY", &emulator.base)
            .env("HTTP_PROXY", &emulator.base)
            .env("NO_PROXY", "127.0.0.1,localhost")
            .env("REQUESTS_CA_BUNDLE", &certificate)
            .env("SSL_CERT_FILE", &certificate)
            .env("NODE_EXTRA_CA_CERTS", &certificate);
    }
    command
}

/// The number after `label` on a line of a test runner's summary, if any.
fn count_after(text: &str, label: &str) -> Option<u64> {
    text.lines().rev().find_map(|line| {
        let rest = &line[line.find(label)? + label.len()..];
        rest.split_whitespace().next()?.parse().ok()
    })
}

#[test]
fn python_sdk_drives_the_emulator_binary() {
    python_suite(Route::Direct);
}

#[test]
fn python_sdk_unmodified_reaches_the_emulator_through_proxy_mode() {
    python_suite(Route::Proxy);
}

fn python_suite(route: Route) {
    ensure_python_deps("tests/sdk/python");
    let emulator = emulator_for(route);
    let deps: PathBuf = root().join("tests/sdk/python/.deps");

    let output = run(suite_command("python3", &emulator, route)
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/sdk/python"])
        .env("PYTHONPATH", &deps));
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    let command = format!("python3 -m pytest -q tests/sdk/python ({route:?}, EMULATOR_URL={})", emulator.base);
    assert!(output.status.success(), "the Python SDK suite failed\n{}", report(&command, &output));

    // pytest's closing line, e.g. "29 passed in 0.61s": no test may be skipped or missing.
    let summary = text.lines().rev().find(|line| line.contains(" passed")).unwrap_or("");
    let passed: u64 = summary.split_whitespace().next().and_then(|n| n.parse().ok()).unwrap_or(0);
    assert!(passed > 0, "the Python SDK suite ran no test\n{}", report(&command, &output));
    assert!(!summary.contains("skipped") && !summary.contains("failed"), "{summary}\n{}", report(&command, &output));
    eprintln!("Python SDK suite ({route:?}): {}", summary.trim_matches(|c: char| c == '=' || c.is_whitespace()));
}

#[test]
fn node_sdk_drives_the_emulator_binary() {
    node_suite(Route::Direct);
}

#[test]
fn node_sdk_unmodified_reaches_the_emulator_through_proxy_mode() {
    node_suite(Route::Proxy);
}

fn node_suite(route: Route) {
    ensure_node_deps("tests/sdk/node", "twilio");
    let emulator = emulator_for(route);

    // Equivalent to `node --test tests/sdk/node/`, but run inside the directory so that
    // Node's default discovery (which skips node_modules) works the same on every version.
    let output = run(suite_command("node", &emulator, route).arg("--test").current_dir(root().join("tests/sdk/node")));
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let command = format!("node --test (in tests/sdk/node, {route:?}, EMULATOR_URL={})", emulator.base);
    assert!(output.status.success(), "the Node SDK suite failed\n{}", report(&command, &output));

    let tests = count_after(&text, "# tests ").unwrap_or(0);
    let passed = count_after(&text, "# pass ").unwrap_or(0);
    assert!(tests > 0, "the Node SDK suite ran no test\n{}", report(&command, &output));
    assert_eq!(passed, tests, "not every Node SDK test passed\n{}", report(&command, &output));
    eprintln!("Node SDK suite ({route:?}): {passed} of {tests} tests passed");
}

/// The checks Schemathesis runs: all of its checks but those in [`SCHEMATHESIS_EXCLUDED`]
/// (tests/schemathesis/README.md says why each is left out).
const SCHEMATHESIS_EXCLUDED: &str = "status_code_conformance,positive_data_acceptance,negative_data_rejection,\
missing_required_header,unsupported_method,use_after_free,ensure_resource_availability";

/// Schemathesis (PyPI) generates requests from Twilio's own OpenAPI files, for every
/// operation of Conversations v1 and Chat v2, against an emulator in strict auth mode
/// (`--accounts`) seeded with a resource of every kind, whose SIDs its hooks
/// (tests/schemathesis/hooks.py) put in every generated path, so that operations on a
/// resource reach it rather than a 404. It checks every answer: no 5xx, a status, content
/// type, headers and body that the spec allows, and credentials that are not ignored.
/// Bounded (a few examples per operation, a fixed seed) so that it takes a few minutes on
/// two cores; tests/schemathesis/README.md has the command for a longer run.
#[test]
fn schemathesis_finds_no_server_error_and_no_answer_outside_the_spec() {
    ensure_python_deps("tests/schemathesis");
    let account = "AC0000000000000000000000000000005c:token";
    let emulator = crate::helpers::spawn_binary_with(&["--accounts", account]);
    let suite = root().join("tests/schemathesis");
    let python_path = std::env::join_paths([suite.join(".deps"), suite.clone()]).expect("a PYTHONPATH");
    let credentials = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, account);
    for spec in ["twilio_conversations_v1.json", "twilio_chat_v2.json"] {
        let output = run(Command::new("python3")
            .args(["-c", "import sys; from schemathesis.cli import schemathesis; sys.argv[0] = 'st'; schemathesis()"])
            .arg("run")
            .arg(suite.join(spec))
            .args(["--url", &emulator.base])
            .args(["-H", &format!("Authorization: Basic {credentials}")])
            .args(["--checks", "all", "--exclude-checks", SCHEMATHESIS_EXCLUDED])
            // One worker: with two, Hypothesis's internal caches once failed the run with a
            // FlakyFailure of its own (a KeyError over its source cache), not the emulator's.
            .args(["--max-examples", "5", "--seed", "1", "--workers", "1"])
            .args(["--phases", "examples,coverage,fuzzing", "--no-color"])
            .env("PYTHONPATH", &python_path)
            .env("SCHEMATHESIS_HOOKS", "hooks")
            .env("EMULATOR_URL", &emulator.base)
            .env("EMULATOR_CREDENTIALS", account)
            .current_dir(std::env::temp_dir()));
        let command = format!("schemathesis run {spec} --url {}", emulator.base);
        assert!(output.status.success(), "schemathesis found problems\n{}", report(&command, &output));
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(text.contains(" passed"), "schemathesis tested nothing\n{}", report(&command, &output));
        eprintln!("schemathesis {spec}: {}", text.lines().find(|line| line.contains("generated")).unwrap_or("").trim());
    }
}

/// The twilio CLI (npm `twilio-cli`, pinned in tests/cli) creates, lists, fetches, updates
/// and deletes messages through proxy mode on both URL forms, with its credentials from
/// `TWILIO_ACCOUNT_SID` and `TWILIO_AUTH_TOKEN` and nothing else pointing it at the emulator.
#[test]
fn twilio_cli_manages_messages_through_proxy_mode_on_both_url_forms() {
    ensure_node_deps("tests/cli", "twilio-cli");
    let emulator = emulator_for(Route::Proxy);
    let account = format!("AC{:032x}", fresh_number());
    let cli = |args: &[&str]| twilio_cli(&emulator, &account, args);

    let service = cli(&["api:conversations:v1:services:create", "--friendly-name", "cli"])[0]["sid"].clone();
    let service = service.as_str().expect("a service SID").to_owned();
    let on_default = cli(&["api:conversations:v1:conversations:create"])[0]["sid"].as_str().map(str::to_owned);
    let on_service =
        cli(&["api:conversations:v1:services:conversations:create", "--chat-service-sid", &service])[0]["sid"]
            .as_str()
            .map(str::to_owned);
    let (on_default, on_service) = (on_default.expect("a conversation"), on_service.expect("a conversation"));

    for (topic, scope, conversation, path) in [
        ("api:conversations:v1:conversations:messages", vec![], &on_default, format!("/v1/Conversations/{on_default}")),
        (
            "api:conversations:v1:services:conversations:messages",
            vec!["--chat-service-sid", service.as_str()],
            &on_service,
            format!("/v1/Services/{service}/Conversations/{on_service}"),
        ),
    ] {
        let command = |verb: &str, rest: &[&str]| {
            let mut args = vec![format!("{topic}:{verb}")];
            args.extend(scope.iter().map(|arg| (*arg).to_owned()));
            args.extend(["--conversation-sid".to_owned(), conversation.clone()]);
            args.extend(rest.iter().map(|arg| (*arg).to_owned()));
            cli(&args.iter().map(String::as_str).collect::<Vec<_>>())
        };

        let created = command("create", &["--body", "from the CLI", "--author", "cli"]);
        let sid = created[0]["sid"].as_str().expect("a message SID").to_owned();
        let listed = command("list", &[]);
        let fetched = command("fetch", &["--sid", &sid]);
        let updated = command("update", &["--sid", &sid, "--body", "edited"]);
        command("remove", &["--sid", &sid]);
        let after = command("list", &[]);

        let url = format!("https://conversations.twilio.com{path}/Messages/{sid}");
        assert_eq!(created[0]["url"], url.as_str(), "{topic}");
        assert_eq!(created[0]["author"], "cli", "{topic}");
        assert_eq!(listed.as_array().map(Vec::len), Some(1), "{topic}: {listed}");
        assert_eq!(fetched[0]["body"], "from the CLI", "{topic}");
        assert_eq!(updated[0]["body"], "edited", "{topic}");
        // The CLI prints nothing for an empty list.
        assert_eq!(after, Value::Null, "{topic}: the deleted message is still listed");
    }
}

/// Runs the twilio CLI with `args` and `-o json` against `emulator` through proxy mode, as
/// `account`, and returns its JSON output (`null` for a command that prints none). Its
/// home is a directory of the build, and its update checks and auto-update are off, so
/// that it writes nothing of the user's and never tries to reach the internet; were it to
/// try, the proxy would refuse any host but Twilio's.
fn twilio_cli(emulator: &TestApp, account: &str, args: &[&str]) -> Value {
    let home = Path::new(env!("CARGO_TARGET_TMPDIR")).join("twilio-cli-home");
    fs::create_dir_all(&home).unwrap_or_else(|e| panic!("create {}: {e}", home.display()));
    let mut command = suite_command("node", emulator, Route::Proxy);
    command
        .arg(root().join("tests/cli/node_modules/twilio-cli/bin/run"))
        .args(args)
        .args(["-o", "json"])
        .env("HOME", &home)
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("XDG_CACHE_HOME")
        .env_remove("XDG_DATA_HOME")
        .env("TWILIO_ACCOUNT_SID", account)
        .env("TWILIO_AUTH_TOKEN", "any-token")
        .env_remove("TWILIO_API_KEY")
        .env_remove("TWILIO_API_SECRET")
        .env_remove("TWILIO_PROFILE")
        .env("TWILIO_SKIP_NEW_VERSION_CHECK", "true")
        .env("TWILIO_DISABLE_AUTOUPDATE", "true")
        .env("TWILIO_SKIP_ANALYTICS", "true");
    let output = run(&mut command);
    let shown = format!("twilio {} -o json", args.join(" "));
    assert!(output.status.success(), "the twilio CLI failed\n{}", report(&shown, &output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    if stdout.trim().is_empty() || !stdout.trim_start().starts_with(['[', '{']) {
        return Value::Null;
    }
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: not JSON\n{}", report(&shown, &output)))
}

/// A random number, for a fresh account per run.
fn fresh_number() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_nanos())
        ^ u128::from(std::process::id()) << 64
}
