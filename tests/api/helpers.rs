//! Test servers and a small client for them. A [`TestApp`] is either the router served
//! in-process on 127.0.0.1:0 ([`spawn_app`]) or the built executable run as a child process
//! ([`spawn_binary`], for the SDK suites and the tests of start-up, signals and the state
//! file); both are driven through the same methods.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::{Method, Response, StatusCode};
use rustls::pki_types::pem::PemObject;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tower::ServiceExt;
use twilio_conversations_emulator::{App, AppState, Config, app, serve};

/// The account most tests act as.
pub const ACCOUNT: &str = "AC00000000000000000000000000000001";
/// Another account, for isolation tests.
pub const OTHER_ACCOUNT: &str = "AC00000000000000000000000000000002";

/// A running emulator and a client for it; the server stops when this is dropped.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub account: &'static str,
    server: Server,
}

/// Where a [`TestApp`]'s server runs.
enum Server {
    /// A task of this process, told to stop when the sender is dropped.
    InProcess(#[expect(dead_code, reason = "held for its drop, which stops the server")] oneshot::Sender<()>),
    /// The emulator binary, killed when dropped.
    Binary(Binary),
    /// Another `TestApp`'s server, reached through its proxy mode ([`TestApp::through_proxy`]).
    Proxied,
}

/// The emulator binary as a child process, with its stdout (the banner) and its log
/// (stderr) read as they are written.
struct Binary {
    /// Behind a lock so that a test sharing its `TestApp` between tasks can still kill it.
    child: Mutex<Child>,
    stdout: Arc<Mutex<String>>,
    log: Arc<Mutex<String>>,
    readers: Vec<JoinHandle<()>>,
}

/// What a binary stopped by [`TestApp::stop`] left.
pub struct Exited {
    pub status: ExitStatus,
    /// Everything it printed on stdout: the banner.
    pub stdout: String,
    /// Everything it logged (stderr).
    pub log: String,
}

/// Starts the emulator on a random loopback port.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(Config::defaults()).await
}

/// Starts the emulator with `config` on a random loopback port.
pub async fn spawn_app_with(config: Config) -> TestApp {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind a loopback port");
    let address = listener.local_addr().expect("local address");
    let state = AppState::new(&config, address.to_string());
    let (shutdown, stopped) = oneshot::channel::<()>();
    tokio::spawn(serve(listener, state, async {
        let _ = stopped.await;
    }));
    TestApp::new(format!("http://{address}"), Server::InProcess(shutdown))
}

/// Starts `target/…/twilio-conversations-emulator --port 0` and waits for its
/// "listening on" line (the readiness signal: the socket is bound before it is printed).
pub fn spawn_binary() -> TestApp {
    spawn_binary_with(&[])
}

/// Like [`spawn_binary`], with extra command-line arguments.
pub fn spawn_binary_with(extra: &[&str]) -> TestApp {
    start_binary(binary_command(extra))
}

/// The command [`spawn_binary_with`] runs, for a test that adds to it (limits, say). The
/// log level is `warn`, the host 127.0.0.1 and the data directory one under the build's
/// directory unless `extra` sets them.
pub fn binary_command(extra: &[&str]) -> Command {
    let log_level: &[&str] = if extra.contains(&"--log-level") { &[] } else { &["--log-level", "warn"] };
    let host: &[&str] = if extra.contains(&"--host") { &[] } else { &["--host", "127.0.0.1"] };
    let mut command = Command::new(env!("CARGO_BIN_EXE_twilio-conversations-emulator"));
    // The emulator's own variables in the developer's shell must not leak in.
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("TWILIO_EMULATOR_") {
            command.env_remove(name);
        }
    }
    command.args(host).args(["--port", "0"]).args(log_level).args(extra).env_remove("RUST_LOG");
    // Proxy mode's CA goes under the build's directory, never the developer's home (every
    // binary started by the tests shares it, as one user's emulators would).
    if !extra.contains(&"--data-dir") {
        command.arg("--data-dir").arg(Path::new(env!("CARGO_TARGET_TMPDIR")).join("emulator-data"));
    }
    command
}

/// Starts `command` (from [`binary_command`]) and waits for its "listening on" line (the
/// readiness signal: the socket is bound before it is printed).
pub fn start_binary(mut command: Command) -> TestApp {
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("start the emulator binary");
    let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
    let mut line = String::new();
    stdout.read_line(&mut line).expect("read the listening line");
    let base = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("unexpected first line: {line}"));
    // The rest of stdout and the log are kept for `stop`, and the log echoed so that a
    // failing test shows it.
    let banner = Arc::new(Mutex::new(line.clone()));
    let log = Arc::new(Mutex::new(String::new()));
    let stderr = BufReader::new(child.stderr.take().expect("piped stderr"));
    let readers = vec![keep_lines(stdout, Arc::clone(&banner), false), keep_lines(stderr, Arc::clone(&log), true)];
    let binary = Binary { child: Mutex::new(child), stdout: banner, log, readers };
    TestApp::new(base.to_owned(), Server::Binary(binary))
}

/// Appends every line `from` gives to `kept` (and to this test's stderr when `echo`), until
/// it ends, on a thread of its own.
fn keep_lines(from: impl BufRead + Send + 'static, kept: Arc<Mutex<String>>, echo: bool) -> JoinHandle<()> {
    std::thread::spawn(move || {
        for line in from.lines().map_while(Result::ok) {
            if echo {
                eprintln!("{line}");
            }
            let mut kept = kept.lock().unwrap_or_else(PoisonError::into_inner);
            kept.push_str(&line);
            kept.push('\n');
        }
    })
}

impl TestApp {
    fn new(base: String, server: Server) -> Self {
        let client = client_builder().build().expect("an HTTP client");
        Self { base, client, account: ACCOUNT, server }
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.base.rsplit(':').next().and_then(|port| port.parse().ok()).expect("a port in the base URL")
    }

    /// A client of this server through its proxy mode, as an unmodified SDK reaches it:
    /// requests go to `https://{host}` (a Twilio host), through `CONNECT` to this server,
    /// trusting only the CA certificate this server serves at `/_emulator/ca.pem`. The
    /// server stays `self`'s: keep `self` alive while this is used.
    pub async fn through_proxy(&self, host: &str) -> TestApp {
        let response = self.client.get(format!("{}/_emulator/ca.pem", self.base)).send().await.expect("request");
        assert_eq!(response.status(), StatusCode::OK, "GET /_emulator/ca.pem");
        let pem = response.bytes().await.expect("the CA certificate");
        let mut roots = rustls::RootCertStore::empty();
        for certificate in rustls::pki_types::CertificateDer::pem_slice_iter(&pem) {
            roots.add(certificate.expect("a PEM certificate")).expect("a CA certificate rustls accepts");
        }
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        let client = client_builder()
            .proxy(reqwest::Proxy::all(&self.base).expect("the server as a proxy"))
            .tls_backend_preconfigured(tls)
            .build()
            .expect("a proxied client");
        TestApp { base: format!("https://{host}"), client, account: self.account, server: Server::Proxied }
    }

    fn binary(&self) -> &Binary {
        match &self.server {
            Server::Binary(binary) => binary,
            Server::InProcess(_) | Server::Proxied => panic!("this test needs an app started with spawn_binary"),
        }
    }

    /// The binary's process ID, for sending it signals.
    pub fn pid(&self) -> u32 {
        self.binary().child().id()
    }

    /// Kills the binary with SIGKILL, as a crash would, and waits for it to be gone.
    pub fn kill(&self) {
        let mut child = self.binary().child();
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Waits for the binary to exit by itself.
    pub fn wait(&self) -> ExitStatus {
        self.binary().child().wait().expect("wait for the emulator")
    }

    /// Sends the binary SIGTERM and waits for it to exit: its exit status and everything
    /// it logged.
    pub fn terminate(self) -> (ExitStatus, String) {
        let exited = self.stop();
        (exited.status, exited.log)
    }

    /// Sends the binary SIGTERM and waits for it to exit: its exit status, and everything
    /// it printed and logged.
    pub fn stop(mut self) -> Exited {
        let pid = self.pid().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().expect("run kill");
        assert!(sent.success(), "kill -TERM {pid}");
        let Server::Binary(binary) = &mut self.server else {
            panic!("this test needs an app started with spawn_binary")
        };
        let status = binary.child().wait().expect("wait for the emulator");
        for reader in binary.readers.drain(..) {
            reader.join().expect("the readers end with the process");
        }
        let read = |kept: &Mutex<String>| kept.lock().unwrap_or_else(PoisonError::into_inner).clone();
        Exited { status, stdout: read(&binary.stdout), log: read(&binary.log) }
    }
}

impl Binary {
    fn child(&self) -> std::sync::MutexGuard<'_, Child> {
        self.child.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        let child = self.child.get_mut().unwrap_or_else(PoisonError::into_inner);
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// A builder of the tests' HTTP clients. reqwest's rustls has no cryptography of its own
/// here (the crate's is ring, and one is enough): ring is made the process's default first.
pub fn client_builder() -> reqwest::ClientBuilder {
    // An error only says that a default is installed already.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
}

/// The application for `config` without a socket, to be driven with [`in_process_request`]: for tests
/// that pause tokio's clock.
pub fn in_process_app(config: &Config) -> App {
    app(AppState::new(config, "localhost:4747".into()))
}

/// Sends `method path` to `app` as [`ACCOUNT`], with `body` as JSON when there is one (the
/// control plane's format), and returns the status and the JSON answer (`Null` if empty).
pub async fn in_process_request(app: &App, method: Method, path: &str, body: Option<&Value>) -> (StatusCode, Value) {
    let request = axum::http::Request::builder()
        .method(method)
        .uri(path)
        .header("Authorization", basic_credentials(ACCOUNT))
        .body(body.map_or_else(axum::body::Body::empty, |json| json.to_string().into()))
        .expect("a valid request");
    let response = app.clone().oneshot(request).await.unwrap_or_else(|never| match never {});
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("a body");
    (status, serde_json::from_slice(&bytes).unwrap_or_default())
}

/// The `Authorization` value of HTTP Basic credentials for `account`, for requests built
/// by hand.
pub fn basic_credentials(account: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{account}:token")))
}

/// The two URL forms every Messages operation is served on.
#[derive(Clone, Debug)]
pub enum Form {
    /// `/v1/Conversations/{CH}/…`: the account's default service.
    Default,
    /// `/v1/Services/{IS}/Conversations/{CH}/…`.
    Service(String),
}

impl Form {
    /// `…/Conversations` on this form.
    pub fn conversations(&self) -> String {
        match self {
            Self::Default => "/v1/Conversations".to_owned(),
            Self::Service(sid) => format!("/v1/Services/{sid}/Conversations"),
        }
    }

    /// `…/Conversations/{conversation}/Messages` on this form.
    pub fn messages(&self, conversation: &str) -> String {
        format!("{}/{conversation}/Messages", self.conversations())
    }

    /// The form's name, for failure messages.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Default => "default form",
            Self::Service(_) => "service form",
        }
    }
}

impl TestApp {
    /// Both URL forms: the default one, and a freshly created service.
    pub async fn forms(&self) -> [Form; 2] {
        let service = self.post("/v1/Services", &[("FriendlyName", "tests")]).await;
        [Form::Default, Form::Service(sid_of(&service))]
    }

    /// Sends a request as `self.account`, with a form body when `form` is not empty.
    pub async fn send(&self, method: Method, path: &str, form: &[(&str, &str)]) -> Response {
        self.send_as(self.account, method, path, form).await
    }

    /// Sends a request as `account`, with a form body when `form` is not empty.
    pub async fn send_as(&self, account: &str, method: Method, path: &str, form: &[(&str, &str)]) -> Response {
        self.try_send_as(account, method, path, form).await.expect("request reaches the server")
    }

    /// Like [`TestApp::send`], for a server that may be gone: a transport error is returned.
    pub async fn try_send(&self, method: Method, path: &str, form: &[(&str, &str)]) -> reqwest::Result<Response> {
        self.try_send_as(self.account, method, path, form).await
    }

    async fn try_send_as(
        &self,
        account: &str,
        method: Method,
        path: &str,
        form: &[(&str, &str)],
    ) -> reqwest::Result<Response> {
        let mut request =
            self.client.request(method, format!("{}{path}", self.base)).basic_auth(account, Some("token"));
        if !form.is_empty() {
            let body = serde_urlencoded::to_string(form).expect("encode form");
            request = request.header("Content-Type", "application/x-www-form-urlencoded").body(body);
        }
        request.send().await
    }

    /// POSTs a form and returns the JSON of a 2xx answer (panics otherwise).
    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Value {
        json_ok(self.send(Method::POST, path, form).await).await
    }

    /// GETs a path and returns the JSON of a 2xx answer.
    pub async fn get(&self, path: &str) -> Value {
        json_ok(self.send(Method::GET, path, &[]).await).await
    }

    /// GETs an absolute URL (such as a `next_page_url`) and returns its JSON.
    pub async fn get_url(&self, url: &str) -> Value {
        let response = self.client.get(url).basic_auth(self.account, Some("token")).send().await.expect("request");
        json_ok(response).await
    }

    /// Follows `next_page_url` from the page at `first` to the end, calling `between` after
    /// every page, and returns the records of every page (under `key`) in order.
    pub async fn walk(&self, first: &str, key: &str, mut between: impl AsyncFnMut()) -> Vec<Value> {
        let mut page = self.get(first).await;
        let mut seen = Vec::new();
        loop {
            seen.extend(page[key].as_array().unwrap_or_else(|| panic!("no {key} in {page}")).iter().cloned());
            between().await;
            match page["meta"]["next_page_url"].as_str() {
                Some(next) => page = self.get_url(next).await,
                None => return seen,
            }
        }
    }

    /// Every message of the list at `messages`, page by page.
    pub async fn all_messages(&self, messages: &str) -> Vec<Value> {
        self.walk(messages, "messages", async || {}).await
    }

    /// Sends a JSON body to a control endpoint and returns the response.
    pub async fn control(&self, method: Method, path: &str, body: Option<&Value>) -> Response {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request.json(body);
        }
        request.send().await.expect("request reaches the server")
    }

    /// Uploads `bytes` as media of `service` and returns the created media's JSON.
    pub async fn upload_media(&self, service: &str, bytes: &'static [u8], content_type: &str, filename: &str) -> Value {
        let response = self
            .client
            .post(format!("{}/v1/Services/{service}/Media?Filename={filename}", self.base))
            .basic_auth(self.account, Some("token"))
            .header("Content-Type", content_type)
            .body(bytes)
            .send()
            .await
            .expect("send");
        assert_eq!(response.status(), StatusCode::CREATED);
        json_ok(response).await
    }

    /// The SID of the account's default Conversation Service, from `GET /v1/Configuration`.
    pub async fn default_service(&self) -> String {
        let configuration = self.get("/v1/Configuration").await;
        configuration["default_chat_service_sid"].as_str().expect("default_chat_service_sid").to_owned()
    }

    /// Creates a conversation on `form` and returns its SID.
    pub async fn conversation(&self, form: &Form) -> String {
        sid_of(&self.post(&form.conversations(), &[]).await)
    }

    /// Creates a message and returns its JSON.
    pub async fn message(&self, form: &Form, conversation: &str, body: &str) -> Value {
        self.post(&form.messages(conversation), &[("Body", body)]).await
    }
}

/// Asserts a 2xx status and parses the body.
pub async fn json_ok(response: Response) -> Value {
    let status = response.status();
    let url = response.url().clone();
    let text = response.text().await.expect("body");
    assert!(status.is_success(), "{url} answered {status}: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{url}: not JSON ({e}): {text}"))
}

/// Asserts a Twilio-shaped error with this status and code, and returns its message.
pub async fn assert_twilio_error(response: Response, status: StatusCode, code: u64) -> String {
    assert_twilio_error_for("", response, status, code).await
}

/// [`assert_twilio_error`] for one row of a table: a failure names the row by `case`.
pub async fn assert_twilio_error_for(case: &str, response: Response, status: StatusCode, code: u64) -> String {
    let context = format!("{case} ({} {})", response.url().path(), response.url().query().unwrap_or_default());
    assert_eq!(response.status(), status, "{context}");
    let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    assert!(content_type.starts_with("application/json"), "{context}: content-type {content_type}");
    let body: Value = response.json().await.expect("error body is JSON");
    assert_eq!(body["code"], code, "{context}: {body}");
    assert_eq!(body["status"], status.as_u16(), "{context}: {body}");
    assert_eq!(body["more_info"], format!("https://www.twilio.com/docs/errors/{code}"), "{context}: {body}");
    body["message"].as_str().expect("message is a string").to_owned()
}

/// The `sid` of a resource.
pub fn sid_of(resource: &Value) -> String {
    resource["sid"].as_str().unwrap_or_else(|| panic!("no sid in {resource}")).to_owned()
}
