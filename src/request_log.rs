//! The request log: one `info` line per request (account, method, path, status, Twilio
//! error code, duration), as text in the format of the rest of the log or as one JSON
//! object per line (`--log-format json`), written off the request path.
//!
//! tracing's formatter was the largest cost of the default `info` log, on the worker that
//! answered the request (BENCHMARKS.md, "the request log"). So the line
//! is written by hand into a buffer of the worker thread's own (a lock no other worker
//! takes), and a thread of the log's own writes every buffer to stderr every few
//! milliseconds and at shutdown. Each worker's lines keep their order; lines of different
//! workers are written a batch at a time. When stderr cannot keep up and a buffer holds
//! [`MAX_BUFFERED_BYTES`], lines are dropped and counted, and the writer says how many,
//! rather than slowing requests or growing memory.

use std::cell::RefCell;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::Method;

use crate::config::LogFormat;
use crate::sid::AccountSid;
use crate::time::Timestamp;

/// The target the lines carry, as `tracing` would print it: `--log-level` and `RUST_LOG`
/// filters name it (`twilio_conversations_emulator::request=off`).
pub const TARGET: &str = "twilio_conversations_emulator::request";

/// The name of the thread that writes the lines out: the load bench finds it by this name
/// to report the writer's share of the server's CPU (`benches/load/process.rs`).
const WRITER_THREAD: &str = "request-log";

/// How much may wait for stderr before lines are dropped.
const MAX_BUFFERED_BYTES: usize = 8 * 1024 * 1024;
/// How often the writer thread looks for lines to write.
const WRITE_EVERY: Duration = Duration::from_millis(20);

/// What the log says of one request.
#[derive(Debug)]
pub struct Line<'a> {
    /// The account the credentials name; none without credentials (the control plane).
    pub account: Option<AccountSid>,
    pub method: &'a Method,
    pub path: &'a str,
    pub status: u16,
    /// Twilio's error code, on an error answer.
    pub code: Option<u32>,
    /// From the request's arrival to its response head.
    pub duration_us: u64,
}

impl Line<'_> {
    /// `2026-01-01T00:00:00.000000Z  INFO target: account=AC… method=GET path="…" status=404
    /// code=20404 duration_us=145`, as `tracing`'s text formatter writes an event: fields
    /// that have no value are left out, strings are quoted with `"` and `\` escaped.
    fn write_text(&self, stamp: &[u8; 27], out: &mut Vec<u8>) {
        out.extend_from_slice(stamp);
        out.extend_from_slice(b"  INFO ");
        out.extend_from_slice(TARGET.as_bytes());
        out.push(b':');
        if let Some(account) = self.account {
            out.extend_from_slice(b" account=");
            out.extend_from_slice(&account.to_ascii());
        }
        out.extend_from_slice(b" method=");
        out.extend_from_slice(self.method.as_str().as_bytes());
        out.extend_from_slice(b" path=\"");
        // Copied in runs between the bytes to escape (a path rarely has any), found with a
        // vectorised search: a byte at a time was most of the line's cost.
        let mut rest = self.path.as_bytes();
        while let Some(at) = memchr::memchr2(b'"', b'\\', rest) {
            out.extend_from_slice(&rest[..at]);
            out.extend_from_slice(&[b'\\', rest[at]]);
            rest = &rest[at + 1..];
        }
        out.extend_from_slice(rest);
        self.write_numbers(out, [b"\" status=", b" code=", b" duration_us="]);
        out.push(b'\n');
    }

    /// `status`, `code` (on an error answer) and `duration_us`, each after its key as the
    /// format spells it.
    fn write_numbers(&self, out: &mut Vec<u8>, [status, code, duration]: [&[u8]; 3]) {
        out.extend_from_slice(status);
        out.extend_from_slice(itoa::Buffer::new().format(self.status).as_bytes());
        if let Some(value) = self.code {
            out.extend_from_slice(code);
            out.extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
        }
        out.extend_from_slice(duration);
        out.extend_from_slice(itoa::Buffer::new().format(self.duration_us).as_bytes());
    }

    /// One JSON object, with the keys of `tracing`'s JSON formatter for the rest of the log
    /// (`timestamp`, `level`, the fields, `target`); absent fields are left out.
    fn write_json(&self, stamp: &[u8; 27], out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"timestamp\":\"");
        out.extend_from_slice(stamp);
        out.extend_from_slice(b"\",\"level\":\"INFO\"");
        if let Some(account) = self.account {
            out.extend_from_slice(b",\"account\":\"");
            out.extend_from_slice(&account.to_ascii());
            out.push(b'"');
        }
        out.extend_from_slice(b",\"method\":\"");
        // A method is a token: letters and `!#$%&'*+-.^_`|~`, nothing JSON escapes.
        out.extend_from_slice(self.method.as_str().as_bytes());
        out.extend_from_slice(b"\",\"path\":");
        // A URI path is printable ASCII (percent-encoded beyond), so only `"` and `\` need
        // escaping; serde_json escapes whatever the `http` crate lets through.
        let _ = serde_json::to_writer(&mut *out, self.path);
        self.write_numbers(out, [b",\"status\":", b",\"code\":", b",\"duration_us\":"]);
        out.extend_from_slice(b",\"target\":\"");
        out.extend_from_slice(TARGET.as_bytes());
        out.extend_from_slice(b"\"}\n");
    }
}

thread_local! {
    /// The last second this thread stamped a line with, and its text: a worker logs many
    /// lines a second, and turning seconds into a calendar date is a large part of a line.
    static LAST_SECOND: std::cell::Cell<(i64, [u8; 19])> = const { std::cell::Cell::new((i64::MIN, [0; 19])) };
}

/// `2026-01-01T00:00:00`: the second `seconds` after the Unix epoch, in UTC.
fn date_and_time(seconds: i64) -> [u8; 19] {
    LAST_SECOND.with(|last| {
        let (second, text) = last.get();
        if second == seconds {
            return text;
        }
        let mut text = [0; 19];
        text.copy_from_slice(&Timestamp::from_unix_seconds(seconds).to_ascii()[..19]);
        last.set((seconds, text));
        text
    })
}

/// The log's shared buffers; cheap to clone.
#[derive(Clone, Debug)]
pub struct RequestLog {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    /// Tells this log's buffers from other logs' on a thread (tests run many servers): the
    /// id of the server's settings (`crate::state::Settings::id`), unique in the process.
    id: u64,
    format: LogFormat,
    /// One buffer per worker thread that has logged.
    buffers: Mutex<Vec<Buffer>>,
    dropped: AtomicU64,
}

type Buffer = Arc<Mutex<Vec<u8>>>;

thread_local! {
    /// This thread's buffer in each log it has written to, by log id.
    static BUFFERS: RefCell<Vec<(u64, Buffer)>> = const { RefCell::new(Vec::new()) };
}

impl RequestLog {
    /// A log whose lines a thread of its own writes to stderr for as long as the log is
    /// held. A log that cannot have its thread still works: lines are then written by
    /// [`flush`](Self::flush) only.
    pub fn to_stderr(id: u64, format: LogFormat) -> Self {
        let log = Self::new(id, format);
        let shared = Arc::downgrade(&log.shared);
        let _ = std::thread::Builder::new().name(WRITER_THREAD.into()).spawn(move || write_while_held(shared));
        log
    }

    /// A log whose lines only [`flush`](Self::flush) writes.
    fn new(id: u64, format: LogFormat) -> Self {
        Self { shared: Arc::new(Shared { id, format, buffers: Mutex::default(), dropped: AtomicU64::new(0) }) }
    }

    /// Whether request lines are wanted: the `info` level is on for [`TARGET`].
    pub fn enabled() -> bool {
        tracing::enabled!(target: TARGET, tracing::Level::INFO)
    }

    /// Appends the line of one request, written straight into this thread's buffer: the
    /// lock is held for a few hundred instructions, and nothing is allocated per line.
    pub fn record(&self, line: &Line<'_>) {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        let seconds = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
        let mut stamp = [0u8; 27];
        stamp[..19].copy_from_slice(&date_and_time(seconds));
        stamp[19] = b'.';
        let mut rest = now.subsec_micros();
        for digit in stamp[20..26].iter_mut().rev() {
            *digit = b'0' + (rest % 10) as u8;
            rest /= 10;
        }
        stamp[26] = b'Z';
        let format = self.shared.format;
        self.with_thread_buffer(|buffer| {
            if buffer.len() + line.path.len() * 6 + 256 > MAX_BUFFERED_BYTES {
                self.shared.dropped.fetch_add(1, Ordering::Relaxed);
                return;
            }
            match format {
                LogFormat::Text => line.write_text(&stamp, buffer),
                LogFormat::Json => line.write_json(&stamp, buffer),
            }
        });
    }

    /// Runs `write` on this thread's buffer in this log (registered with the log on first
    /// use), locked, without touching its reference count.
    fn with_thread_buffer(&self, write: impl FnOnce(&mut Vec<u8>)) {
        BUFFERS.with_borrow_mut(|buffers| {
            let position = match buffers.iter().position(|(id, _)| *id == self.shared.id) {
                Some(position) => position,
                None => {
                    let buffer = Buffer::default();
                    self.shared.buffers.lock().unwrap_or_else(PoisonError::into_inner).push(Arc::clone(&buffer));
                    buffers.push((self.shared.id, buffer));
                    buffers.len() - 1
                }
            };
            write(&mut buffers[position].1.lock().unwrap_or_else(PoisonError::into_inner));
        });
    }

    /// Writes every line waiting, now (at shutdown).
    pub fn flush(&self) {
        write_waiting(&self.shared);
    }
}

/// The writer thread: writes what waits, every [`WRITE_EVERY`], until the log is dropped.
fn write_while_held(shared: Weak<Shared>) {
    while let Some(shared) = shared.upgrade() {
        write_waiting(&shared);
        drop(shared);
        std::thread::sleep(WRITE_EVERY);
    }
}

fn write_waiting(shared: &Shared) {
    let buffers: Vec<Buffer> = shared.buffers.lock().unwrap_or_else(PoisonError::into_inner).clone();
    let mut stderr = std::io::stderr().lock();
    for buffer in buffers {
        // The worker gets an empty buffer of the same size back, allocated here: it never
        // grows one again on the request path.
        let capacity = buffer.lock().unwrap_or_else(PoisonError::into_inner).capacity();
        let fresh = Vec::with_capacity(capacity);
        let waiting = std::mem::replace(&mut *buffer.lock().unwrap_or_else(PoisonError::into_inner), fresh);
        if !waiting.is_empty() {
            // Nowhere to report a failure to write the log but the log itself.
            let _ = stderr.write_all(&waiting);
        }
    }
    let dropped = shared.dropped.swap(0, Ordering::Relaxed);
    if dropped > 0 {
        let _ = writeln!(stderr, "{dropped} request log lines were dropped: stderr could not keep up");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The text `log` holds for this thread.
    fn written(log: &RequestLog) -> String {
        let mut text = String::new();
        log.with_thread_buffer(|buffer| text = String::from_utf8(buffer.clone()).unwrap());
        text
    }

    fn line<'a>(method: &'a Method, path: &'a str, code: Option<u32>) -> Line<'a> {
        let account = Some(AccountSid::from_bits(1));
        Line { account, method, path, status: code.map_or(200, |_| 404), code, duration_us: 145 }
    }

    #[test]
    fn a_line_reads_as_tracing_would_write_it() {
        let log = RequestLog::new(u64::MAX, LogFormat::Text);
        log.record(&line(&Method::GET, "/v1/Conversations/\"x\"", Some(20404)));
        log.record(&Line { account: None, code: None, ..line(&Method::GET, "/_emulator/health", None) });
        let text = written(&log);
        let (stamp, rest) = text.split_at(27);
        assert!(stamp.ends_with('Z') && stamp.as_bytes()[19] == b'.', "{stamp}");
        let (first, second) = rest.split_once('\n').unwrap();
        assert_eq!(
            first,
            "  INFO twilio_conversations_emulator::request: account=AC00000000000000000000000000000001 method=GET \
             path=\"/v1/Conversations/\\\"x\\\"\" status=404 code=20404 duration_us=145"
        );
        assert!(
            second.ends_with(" INFO twilio_conversations_emulator::request: method=GET path=\"/_emulator/health\" status=200 duration_us=145\n"),
            "absent fields are left out: {second}"
        );
    }

    #[test]
    fn a_json_line_is_one_object_with_every_field() {
        let log = RequestLog::new(u64::MAX - 1, LogFormat::Json);
        log.record(&line(&Method::POST, "/v1/Conversations/\"x\"", Some(20404)));
        let text = written(&log);
        assert!(text.ends_with('\n') && text.lines().count() == 1, "{text}");
        let object: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(object["level"], "INFO");
        assert_eq!(object["target"], TARGET);
        assert_eq!(object["account"], "AC00000000000000000000000000000001");
        assert_eq!(object["method"], "POST");
        assert_eq!(object["path"], "/v1/Conversations/\"x\"");
        assert_eq!((object["status"].as_u64(), object["code"].as_u64()), (Some(404), Some(20404)));
        assert_eq!(object["duration_us"], 145);
        assert!(object["timestamp"].as_str().is_some_and(|stamp| stamp.len() == 27 && stamp.ends_with('Z')));
    }
}
