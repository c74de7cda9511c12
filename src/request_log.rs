//! The request log: one `info` line per request (method, path, status, latency), in the
//! format of the rest of the log, written off the request path.
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

use crate::time::Timestamp;

/// The target the lines carry, as `tracing` would print it: `--log-level` and `RUST_LOG`
/// filters name it (`twilio_conversations_emulator::request=off`).
pub const TARGET: &str = "twilio_conversations_emulator::request";

/// How much may wait for stderr before lines are dropped.
const MAX_BUFFERED_BYTES: usize = 8 * 1024 * 1024;
/// How often the writer thread looks for lines to write.
const WRITE_EVERY: Duration = Duration::from_millis(20);

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
    pub fn to_stderr(id: u64) -> Self {
        let log = Self::new(id);
        let shared = Arc::downgrade(&log.shared);
        let _ = std::thread::Builder::new().name("request-log".into()).spawn(move || write_while_held(shared));
        log
    }

    /// A log whose lines only [`flush`](Self::flush) writes.
    fn new(id: u64) -> Self {
        Self { shared: Arc::new(Shared { id, buffers: Mutex::default(), dropped: AtomicU64::new(0) }) }
    }

    /// Whether request lines are wanted: the `info` level is on for [`TARGET`].
    pub fn enabled() -> bool {
        tracing::enabled!(target: TARGET, tracing::Level::INFO)
    }

    /// Appends the line of one request, written straight into the shared buffer: the lock
    /// is held for a few hundred instructions, and nothing is allocated per line.
    pub fn record(&self, method: &Method, path: &str, status: u16, latency_us: u64) {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        let seconds = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
        let stamp = Timestamp::from_unix_seconds(seconds).to_ascii();
        let mut micros = [b'0'; 6];
        let mut rest = now.subsec_micros();
        for digit in micros.iter_mut().rev() {
            *digit = b'0' + (rest % 10) as u8;
            rest /= 10;
        }
        let (mut status_digits, mut latency_digits) = (itoa::Buffer::new(), itoa::Buffer::new());
        let (status, latency) = (status_digits.format(status), latency_digits.format(latency_us));
        self.with_thread_buffer(|buffer| {
            if buffer.len() + path.len() * 2 + 160 > MAX_BUFFERED_BYTES {
                self.shared.dropped.fetch_add(1, Ordering::Relaxed);
                return;
            }
            buffer.extend_from_slice(&stamp[..19]);
            buffer.push(b'.');
            buffer.extend_from_slice(&micros);
            buffer.extend_from_slice(b"Z  INFO ");
            buffer.extend_from_slice(TARGET.as_bytes());
            buffer.extend_from_slice(b": method=");
            buffer.extend_from_slice(method.as_str().as_bytes());
            buffer.extend_from_slice(b" path=\"");
            for &byte in path.as_bytes() {
                // As `tracing` prints a string field: in quotes, with quotes and backslashes escaped.
                if matches!(byte, b'"' | b'\\') {
                    buffer.push(b'\\');
                }
                buffer.push(byte);
            }
            buffer.extend_from_slice(b"\" status=");
            buffer.extend_from_slice(status.as_bytes());
            buffer.extend_from_slice(b" latency_us=");
            buffer.extend_from_slice(latency.as_bytes());
            buffer.push(b'\n');
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

    #[test]
    fn a_line_reads_as_tracing_would_write_it() {
        let log = RequestLog::new(u64::MAX);
        log.record(&Method::GET, "/v1/Conversations/\"x\"", 200, 145);
        let mut text = String::new();
        log.with_thread_buffer(|buffer| text = String::from_utf8(buffer.clone()).unwrap());
        let (stamp, rest) = text.split_at(27);
        assert!(stamp.ends_with('Z') && stamp.as_bytes()[19] == b'.', "{stamp}");
        assert_eq!(
            rest,
            "  INFO twilio_conversations_emulator::request: method=GET path=\"/v1/Conversations/\\\"x\\\"\" status=200 latency_us=145\n"
        );
    }
}
