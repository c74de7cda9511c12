//! The binary as operators run it: flags, the healthcheck subcommand, graceful shutdown,
//! and the library's router used in-process without a socket.

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::process::Command;

use axum::serve::Listener;
use reqwest::{Method, StatusCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use twilio_conversations_emulator::{AppState, Config, serve};

use crate::helpers::{
    ACCOUNT, basic_credentials, in_process_app, in_process_request, spawn_app_with, spawn_binary, spawn_binary_with,
};

const BINARY: &str = env!("CARGO_BIN_EXE_twilio-conversations-emulator");

/// Whether the `healthcheck` subcommand finds a healthy instance on `port`.
fn healthcheck(port: u16) -> bool {
    Command::new(BINARY)
        .args(["healthcheck", "--host", "127.0.0.1", "--port", &port.to_string()])
        .env_remove("TWILIO_EMULATOR_PORT")
        .status()
        .expect("run the healthcheck")
        .success()
}

#[test]
fn healthcheck_succeeds_against_a_running_instance_and_fails_without_one() {
    let running = spawn_binary();
    let port = running.port();
    assert!(healthcheck(port), "healthy instance on {port}");
    drop(running);
    assert!(!healthcheck(port), "nothing listens on {port} any more");
}

#[test]
fn sigterm_reaches_the_binarys_shutdown_and_it_exits_successfully() {
    let running = spawn_binary_with(&["--log-level", "info"]);

    let (status, log) = running.terminate();

    assert!(status.success(), "exit status after SIGTERM: {status}");
    assert!(log.contains("shutting down"), "the signal handler ran: {log}");
}

#[tokio::test]
async fn each_request_is_logged_once_at_info_without_colours_off_a_terminal() {
    let running = spawn_binary_with(&["--log-level", "info"]);
    let response = running.send(Method::GET, "/v1/Conversations/CH00000000000000000000000000000000", &[]).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    let (_, log) = running.terminate();

    let logged: Vec<&str> = log.lines().filter(|line| line.contains("method=GET")).collect();
    assert_eq!(logged.len(), 1, "{log}");
    assert!(
        logged[0].contains(r#"path="/v1/Conversations/CH00000000000000000000000000000000" status=404 code=20404"#),
        "{log}"
    );
    assert!(!log.contains('\u{1b}'), "no escape codes in a piped log: {log}");
}

#[test]
fn an_unusable_port_is_a_clear_start_up_error() {
    let running = spawn_binary();
    let output = Command::new(BINARY).args(["--port", &running.port().to_string()]).output().expect("run");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot listen"), "{output:?}");
}

#[tokio::test]
async fn public_url_overrides_the_host_in_every_url() {
    let config = Config { public_url: Some("https://emulator.example:9999/".into()), ..Config::defaults() };
    let app = spawn_app_with(config).await;
    let conversation = app.post("/v1/Conversations", &[]).await;
    assert!(
        conversation["url"]
            .as_str()
            .is_some_and(|url| url.starts_with("https://emulator.example:9999/v1/Conversations/CH"))
    );
    let page = app.get("/v1/Conversations").await;
    assert_eq!(page["meta"]["first_page_url"], "https://emulator.example:9999/v1/Conversations?PageSize=50&Page=0");
}

#[tokio::test]
async fn the_router_serves_requests_in_process() {
    let app = in_process_app(&Config::defaults());

    let (status, configuration) = in_process_request(&app, Method::GET, "/v1/Configuration", None).await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        configuration["url"], "http://localhost:4747/v1/Configuration",
        "no Host header: the listen address is used"
    );
}

/// A listener that reports when the server lets go of it, which is when it stops
/// accepting connections.
struct ReportsClosing {
    /// Taken out to be closed before the report is sent.
    listener: Option<TcpListener>,
    closed: Option<oneshot::Sender<()>>,
}

impl Listener for ReportsClosing {
    type Io = TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (TcpStream, SocketAddr) {
        let listener = self.listener.as_mut().expect("only closed when dropped");
        Listener::accept(listener).await
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.as_ref().expect("only closed when dropped").local_addr()
    }
}

impl Drop for ReportsClosing {
    fn drop(&mut self) {
        // Closed first: a connection attempted once the report arrives must be refused.
        drop(self.listener.take());
        if let Some(closed) = self.closed.take() {
            let _ = closed.send(());
        }
    }
}

/// Reads from `stream` up to the end of a response head (`\r\n\r\n`), byte by byte so that
/// nothing after it is consumed.
async fn read_head(stream: &mut TcpStream) -> String {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        head.push(stream.read_u8().await.expect("the server answers"));
    }
    String::from_utf8(head).expect("an ASCII head")
}

/// Whether a new connection to `address` is refused: by the kernel, or, when the
/// handshake still completes, by being reset or closed without an answer. The handshake can
/// complete after the server closed its listener because a child process that another test
/// is starting holds a copy of every descriptor of this process until it runs its program;
/// no one accepts such a connection, and it is reset when that copy goes.
async fn is_refused(address: SocketAddr) -> bool {
    match TcpStream::connect(address).await {
        Err(error) => error.kind() == ErrorKind::ConnectionRefused,
        Ok(mut stream) => {
            let _ = stream.write_all(b"GET /_emulator/health HTTP/1.1\r\nHost: emulator\r\n\r\n").await;
            let mut answer = Vec::new();
            stream.read_to_end(&mut answer).await.map_or(true, |_| answer.is_empty())
        }
    }
}

#[tokio::test]
async fn a_shutdown_refuses_new_connections_and_lets_the_request_in_flight_finish_normally() {
    // A server whose listener reports its closing, and a create request in
    // flight: its head is sent, and the server has asked for its body (`100 Continue`),
    // so the request is inside the emulator's middleware, reading it.
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind a loopback port");
    let address = listener.local_addr().expect("local address");
    let (closed, listener_closed) = oneshot::channel();
    let (shut_down, shutdown) = oneshot::channel::<()>();
    let state = AppState::new(&Config::defaults(), address.to_string());
    let listener = ReportsClosing { listener: Some(listener), closed: Some(closed) };
    let server = tokio::spawn(serve(listener, state, async {
        let _ = shutdown.await;
    }));
    let mut in_flight = TcpStream::connect(address).await.expect("connect");
    let body = "FriendlyName=in-flight";
    let head = format!(
        "POST /v1/Conversations HTTP/1.1\r\nHost: {address}\r\nAuthorization: {}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\r\n",
        basic_credentials(ACCOUNT),
        body.len()
    );
    in_flight.write_all(head.as_bytes()).await.expect("send the head");
    let interim = read_head(&mut in_flight).await;
    assert!(interim.starts_with("HTTP/1.1 100 Continue"), "{interim}");

    shut_down.send(()).expect("the server is running");
    listener_closed.await.expect("the listener is closed on shutdown");
    let refused = is_refused(address).await;
    in_flight.write_all(body.as_bytes()).await.expect("send the body");
    let mut response = String::new();
    in_flight.read_to_string(&mut response).await.expect("read the response to its end");

    assert!(refused, "a new connection after the shutdown is refused");
    assert!(response.starts_with("HTTP/1.1 201 Created"), "{response}");
    let (_, json) = response.split_once("\r\n\r\n").expect("a head and a body");
    let conversation: serde_json::Value = serde_json::from_str(json).expect("a JSON body");
    assert_eq!(conversation["friendly_name"], "in-flight", "{conversation}");
    server.await.expect("the server task").expect("the server stops cleanly");
}
