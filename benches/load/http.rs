//! The load generator: `C` keep-alive HTTP/1.1 connections, each sending its next request
//! as soon as the previous answer has been read in full (a closed loop), until a fixed
//! number of requests has been answered. Every answer must carry the status the plan
//! expects; a run with any other answer, or any transport error, fails.
//!
//! It sits on hyper's low-level connection API rather than a pooled client: no pool, no
//! redirects, no decompression, so the client spends as little of the shared two cores as
//! possible, and the same cost whichever server it drives.

use std::net::SocketAddr;
use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST, HeaderValue};
use hyper::{Method, Request, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::task::JoinSet;

use crate::process::{ServerProcess, cpu_time, log_writer_cpu_time};

/// The account every benchmark request acts as.
pub const ACCOUNT: &str = "AC00000000000000000000000000000001";

/// At most this many failed requests are described in an error; the rest are counted.
const FAILURE_SAMPLES: usize = 5;

/// A server to send requests to, with the headers every request carries.
#[derive(Debug)]
pub struct Target {
    pub addr: SocketAddr,
    /// The server's process, whose CPU time each run reads.
    pid: u32,
    /// `127.0.0.1:PORT`: the emulator writes it into every URL it renders.
    host: HeaderValue,
    /// HTTP Basic credentials, encoded once rather than per request.
    authorization: HeaderValue,
}

impl Target {
    pub fn new(server: &ServerProcess) -> Arc<Self> {
        let addr = server.addr;
        let credentials = STANDARD.encode(format!("{ACCOUNT}:token"));
        Arc::new(Self {
            addr,
            pid: server.pid(),
            host: HeaderValue::from_str(&addr.to_string()).expect("an address is a valid header"),
            authorization: HeaderValue::from_str(&format!("Basic {credentials}")).expect("base64 is a valid header"),
        })
    }
}

/// One request of a plan and the status its answer must have.
#[derive(Clone, Debug)]
pub struct Planned {
    pub method: Method,
    /// Path and query only; the host comes from the [`Target`].
    pub uri: Uri,
    /// Sent with `content_type` when not empty.
    pub body: Bytes,
    pub content_type: &'static str,
    pub expect: StatusCode,
    /// Sent with `X-Twilio-Webhook-Enabled: true`.
    pub webhooks: bool,
}

/// What every Twilio SDK sends.
const FORM: &str = "application/x-www-form-urlencoded";

impl Planned {
    pub fn get(uri: Uri) -> Self {
        Self {
            method: Method::GET,
            uri,
            body: Bytes::new(),
            content_type: FORM,
            expect: StatusCode::OK,
            webhooks: false,
        }
    }

    pub fn post(uri: Uri, body: Bytes, expect: StatusCode) -> Self {
        Self { method: Method::POST, uri, body, content_type: FORM, expect, webhooks: false }
    }

    /// The same request, asking for webhooks.
    pub fn with_webhooks(self) -> Self {
        Self { webhooks: true, ..self }
    }

    pub fn delete(uri: Uri) -> Self {
        Self {
            method: Method::DELETE,
            uri,
            body: Bytes::new(),
            content_type: FORM,
            expect: StatusCode::NO_CONTENT,
            webhooks: false,
        }
    }
}

/// The request with a given number in a run. Plans are pure functions of the number, so
/// the same plan can be replayed against the emulator and against the baseline.
pub type Plan = Arc<dyn Fn(usize) -> Planned + Send + Sync>;

/// One keep-alive connection.
pub struct Connection {
    sender: SendRequest<Full<Bytes>>,
    target: Arc<Target>,
}

impl Connection {
    pub async fn open(target: &Arc<Target>) -> Result<Self, String> {
        let stream = TcpStream::connect(target.addr).await.map_err(|e| format!("connect to {}: {e}", target.addr))?;
        // Requests are written whole; Nagle would only hold the next one back.
        stream.set_nodelay(true).map_err(|e| format!("TCP_NODELAY: {e}"))?;
        let (sender, connection) = http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| format!("HTTP handshake with {}: {e}", target.addr))?;
        // The connection task ends when `sender` is dropped or the server closes.
        tokio::spawn(connection);
        Ok(Self { sender, target: Arc::clone(target) })
    }

    /// Sends one request and reads its whole answer.
    pub async fn send(&mut self, planned: &Planned) -> Result<(StatusCode, Bytes), String> {
        let mut request = Request::new(Full::new(planned.body.clone()));
        *request.method_mut() = planned.method.clone();
        *request.uri_mut() = planned.uri.clone();
        let headers = request.headers_mut();
        headers.insert(HOST, self.target.host.clone());
        headers.insert(AUTHORIZATION, self.target.authorization.clone());
        if !planned.body.is_empty() {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(planned.content_type));
        }
        if planned.webhooks {
            headers.insert("x-twilio-webhook-enabled", HeaderValue::from_static("true"));
        }
        self.sender.ready().await.map_err(|e| format!("connection closed: {e}"))?;
        let response =
            self.sender.send_request(request).await.map_err(|e| format!("{} {}: {e}", planned.method, planned.uri))?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("{} {}: reading the body: {e}", planned.method, planned.uri))?
            .to_bytes();
        Ok((status, body))
    }

    /// Sends one request and returns the body of an answer with the expected status.
    pub async fn expect(&mut self, planned: &Planned) -> Result<Bytes, String> {
        let (status, body) = self.send(planned).await?;
        if status == planned.expect { Ok(body) } else { Err(describe_failure(planned, status, &body)) }
    }
}

fn describe_failure(planned: &Planned, status: StatusCode, body: &[u8]) -> String {
    let shown = &body[..body.len().min(300)];
    format!(
        "{} {} answered {status}, expected {}: {}",
        planned.method,
        planned.uri,
        planned.expect,
        String::from_utf8_lossy(shown)
    )
}

/// How a run is driven.
#[derive(Clone, Copy, Debug)]
pub struct RunOptions {
    pub connections: usize,
    /// Keep the `sid` of every answer whose request number is a multiple of this (0: none),
    /// so later scenarios can address what this one created.
    pub capture_every: usize,
    /// A run that has not finished by then fails: no benchmark can hang.
    pub deadline: Duration,
}

/// What a run measured.
#[derive(Debug)]
pub struct RunStats {
    pub requests: usize,
    /// From the first request sent (all connections already open) to the last answer read.
    pub elapsed: Duration,
    /// Per-request latency in nanoseconds, from sending to reading the last body byte.
    pub latency: Histogram<u64>,
    /// `(request number, sid)` for the requests `capture_every` picked.
    pub captured: Vec<(usize, String)>,
    /// CPU time (user + system) the server and the load generator used during the run.
    pub server_cpu: Duration,
    pub client_cpu: Duration,
    /// The part of `server_cpu` the request log's writer thread used (none without a log).
    pub log_writer_cpu: Duration,
    /// Requests per second of each run absorbed into these figures, to show their spread.
    pub runs: Vec<f64>,
}

impl RunStats {
    pub fn empty() -> Self {
        Self {
            requests: 0,
            elapsed: Duration::ZERO,
            latency: new_histogram(),
            captured: Vec::new(),
            server_cpu: Duration::ZERO,
            client_cpu: Duration::ZERO,
            log_writer_cpu: Duration::ZERO,
            runs: Vec::new(),
        }
    }

    /// Adds another run's figures to these.
    pub fn absorb(&mut self, other: Self) {
        self.requests += other.requests;
        self.elapsed += other.elapsed;
        self.latency.add(&other.latency).expect("histograms with the same bounds add up");
        self.captured.extend(other.captured);
        self.server_cpu += other.server_cpu;
        self.client_cpu += other.client_cpu;
        self.log_writer_cpu += other.log_writer_cpu;
        self.runs.extend(other.runs);
    }

    pub fn requests_per_second(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }

    /// Server CPU time per request, in microseconds: what the server's own code costs,
    /// whatever else the machine is doing.
    pub fn server_cpu_us(&self) -> f64 {
        self.server_cpu.as_secs_f64() * 1e6 / self.requests as f64
    }

    /// The request log writer thread's CPU time per request, in microseconds.
    pub fn log_writer_cpu_us(&self) -> f64 {
        self.log_writer_cpu.as_secs_f64() * 1e6 / self.requests as f64
    }

    pub fn client_cpu_us(&self) -> f64 {
        self.client_cpu.as_secs_f64() * 1e6 / self.requests as f64
    }

    /// A latency quantile in microseconds.
    pub fn latency_us(&self, quantile: f64) -> f64 {
        self.latency.value_at_quantile(quantile) as f64 / 1_000.0
    }
}

fn new_histogram() -> Histogram<u64> {
    // 1 µs to 60 s, 3 significant digits.
    Histogram::new_with_bounds(1_000, 60_000_000_000, 3).expect("valid histogram bounds")
}

/// What one connection's loop brings back.
struct Worker {
    latency: Histogram<u64>,
    captured: Vec<(usize, String)>,
    failures: usize,
    samples: Vec<String>,
}

/// Sends the requests numbered `numbers` from `plan` to `target` and measures them.
pub async fn run(
    target: &Arc<Target>,
    plan: &Plan,
    numbers: Range<usize>,
    options: RunOptions,
) -> Result<RunStats, String> {
    let requests = numbers.len();
    if requests == 0 {
        return Ok(RunStats::empty());
    }
    let connections = options.connections.clamp(1, requests);
    tokio::time::timeout(options.deadline, async {
        // Connect first, so the clock measures requests only.
        let mut opened = Vec::with_capacity(connections);
        for _ in 0..connections {
            opened.push(Connection::open(target).await?);
        }
        let next = Arc::new(AtomicUsize::new(numbers.start));
        let end = numbers.end;
        let server_cpu = cpu_time(target.pid)?;
        let log_writer_cpu = log_writer_cpu_time(target.pid)?;
        let client_cpu = cpu_time(std::process::id())?;
        let started = Instant::now();
        let mut workers = JoinSet::new();
        for connection in opened {
            let plan = Arc::clone(plan);
            let next = Arc::clone(&next);
            workers.spawn(drive(connection, plan, next, end, options.capture_every));
        }
        let mut stats = RunStats::empty();
        let mut failures = 0;
        let mut samples = Vec::new();
        while let Some(worker) = workers.join_next().await {
            let worker = worker.map_err(|e| format!("a load worker panicked: {e}"))?;
            stats.latency.add(&worker.latency).expect("same bounds");
            stats.captured.extend(worker.captured);
            failures += worker.failures;
            samples.extend(worker.samples);
        }
        stats.elapsed = started.elapsed();
        stats.server_cpu = cpu_time(target.pid)?.saturating_sub(server_cpu);
        stats.client_cpu = cpu_time(std::process::id())?.saturating_sub(client_cpu);
        stats.log_writer_cpu = log_writer_cpu_time(target.pid)?.saturating_sub(log_writer_cpu);
        stats.requests = requests;
        stats.runs.push(requests as f64 / stats.elapsed.as_secs_f64());
        if failures > 0 {
            samples.truncate(FAILURE_SAMPLES);
            return Err(format!(
                "{failures} of {requests} requests failed against {}; first failures:\n  {}",
                target.addr,
                samples.join("\n  ")
            ));
        }
        stats.captured.sort_unstable_by_key(|(number, _)| *number);
        Ok(stats)
    })
    .await
    .map_err(|_| format!("{requests} requests against {} did not finish within {:?}", target.addr, options.deadline))?
}

/// One connection's closed loop: take the next request number, send, read, record.
async fn drive(
    mut connection: Connection,
    plan: Plan,
    next: Arc<AtomicUsize>,
    end: usize,
    capture_every: usize,
) -> Worker {
    let mut worker = Worker { latency: new_histogram(), captured: Vec::new(), failures: 0, samples: Vec::new() };
    loop {
        let number = next.fetch_add(1, Ordering::Relaxed);
        if number >= end {
            break;
        }
        let planned = plan(number);
        let sent = Instant::now();
        let result = connection.send(&planned).await;
        let latency = sent.elapsed();
        match result {
            Ok((status, body)) if status == planned.expect => {
                worker.latency.saturating_record(latency.as_nanos() as u64);
                if capture_every > 0 && number.is_multiple_of(capture_every) {
                    match first_sid(&body) {
                        Some(sid) => worker.captured.push((number, sid)),
                        None => worker.fail(format!("no sid in the answer to {}", planned.uri)),
                    }
                }
            }
            Ok((status, body)) => worker.fail(describe_failure(&planned, status, &body)),
            Err(error) => {
                worker.fail(error);
                // The connection is unusable; one new one, or this worker stops (the run
                // fails anyway, and its other workers finish the remaining requests).
                match Connection::open(&connection.target).await {
                    Ok(fresh) => connection = fresh,
                    Err(error) => {
                        worker.fail(error);
                        break;
                    }
                }
            }
        }
    }
    worker
}

impl Worker {
    fn fail(&mut self, description: String) {
        self.failures += 1;
        if self.samples.len() < FAILURE_SAMPLES {
            self.samples.push(description);
        }
    }
}

/// The first `"sid":"…"` value of a JSON answer. Every resource the emulator renders starts
/// with its `sid`, so this looks at the first bytes only, instead of parsing 800 of them
/// per request while the clock runs.
pub fn first_sid(body: &[u8]) -> Option<String> {
    const KEY: &[u8] = b"\"sid\":\"";
    let head = &body[..body.len().min(128)];
    let start = head.windows(KEY.len()).position(|w| w == KEY)? + KEY.len();
    let length = body[start..].iter().position(|&b| b == b'"')?;
    String::from_utf8(body[start..start + length].to_vec()).ok()
}
