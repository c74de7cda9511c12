//! A webhook receiver on a random loopback port: it records every request it gets and
//! answers as the test tells it (a status and body, or never).

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// One request the receiver got.
#[derive(Clone, Debug)]
pub struct Received {
    pub method: Method,
    /// The path and query, as requested.
    pub target: String,
    pub headers: HeaderMap,
    pub body: String,
}

impl Received {
    /// The parameters: the form body of a POST, the query of a GET.
    pub fn params(&self) -> Vec<(String, String)> {
        let encoded = if self.method == Method::GET {
            self.target.split_once('?').map_or("", |(_, query)| query).to_owned()
        } else {
            self.body.clone()
        };
        form_urlencoded::parse(encoded.as_bytes()).into_owned().collect()
    }

    pub fn param(&self, name: &str) -> Option<String> {
        self.params().into_iter().find(|(key, _)| key == name).map(|(_, value)| value)
    }

    pub fn event_type(&self) -> String {
        self.param("EventType").unwrap_or_default()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// Whether `X-Twilio-Signature` is right for `token` and the URL it was sent to, by
    /// Twilio's documented algorithm, computed here independently of the emulator.
    pub fn signed_with(&self, token: &str, base: &str) -> bool {
        let url = format!("{base}{}", self.target);
        let mut mac = Hmac::<Sha1>::new_from_slice(token.as_bytes()).expect("any key length");
        mac.update(url.as_bytes());
        if self.method == Method::POST {
            let mut params = self.params();
            params.sort();
            for (name, value) in params {
                mac.update(name.as_bytes());
                mac.update(value.as_bytes());
            }
        }
        let expected = STANDARD.encode(mac.finalize().into_bytes());
        self.header("x-twilio-signature") == Some(expected.as_str())
    }
}

/// How the receiver answers.
#[derive(Clone, Debug)]
pub enum Reply {
    Answer(u16, &'static str),
    /// Never answers (the emulator times out).
    Never,
}

#[derive(Clone)]
struct Shared {
    seen: mpsc::UnboundedSender<Received>,
    reply: Arc<Mutex<Reply>>,
}

pub struct Receiver {
    /// `http://127.0.0.1:{port}`.
    pub base: String,
    seen: mpsc::UnboundedReceiver<Received>,
    reply: Arc<Mutex<Reply>>,
}

impl Receiver {
    /// A receiver answering `200` with an empty body.
    pub async fn spawn() -> Self {
        let (sender, seen) = mpsc::unbounded_channel();
        let reply = Arc::new(Mutex::new(Reply::Answer(200, "")));
        let shared = Shared { seen: sender, reply: Arc::clone(&reply) };
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind a loopback port");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let app = Router::new().fallback(record).with_state(shared);
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { base, seen, reply }
    }

    /// `base` + `path`: a URL to configure.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn reply(&self, reply: Reply) {
        *self.reply.lock().unwrap_or_else(PoisonError::into_inner) = reply;
    }

    /// The next request, waiting for it (at most 10 s, so that a missing webhook fails
    /// the test instead of hanging it).
    pub async fn next(&mut self) -> Received {
        tokio::time::timeout(Duration::from_secs(10), self.seen.recv())
            .await
            .expect("a webhook arrives within 10 s")
            .expect("the receiver is running")
    }

    /// Every request received so far, without waiting.
    pub fn drain(&mut self) -> Vec<Received> {
        std::iter::from_fn(|| self.seen.try_recv().ok()).collect()
    }
}

async fn record(State(shared): State<Shared>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let target = uri.path_and_query().map_or_else(|| uri.path().to_owned(), ToString::to_string);
    let received = Received { method, target, headers, body: String::from_utf8_lossy(&body).into_owned() };
    let _ = shared.seen.send(received);
    let reply = shared.reply.lock().unwrap_or_else(PoisonError::into_inner).clone();
    match reply {
        Reply::Answer(status, body) => {
            let status = StatusCode::from_u16(status).expect("a valid status");
            (status, [("Content-Type", "application/json")], body).into_response()
        }
        Reply::Never => std::future::pending().await,
    }
}
