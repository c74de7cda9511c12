//! The request journal: the last `--journal-size` Twilio API requests, so a test can assert
//! on what the application really sent (method, path, query, form parameters, headers)
//! and what it got back, without a proxy.
//!
//! Recording must stay cheap because it happens on every request: an entry copies the
//! request's target, headers and body into one buffer as they arrived ([`Captured`]), and
//! the JSON view (parameters parsed, headers as text, credentials redacted) is only built
//! when someone reads the journal. Secrets stay in the emulator's memory as long as the
//! entry does, and are never shown.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::fmt;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, SecondsFormat, Utc};
use http::header::{AUTHORIZATION, PROXY_AUTHORIZATION};
use http::{HeaderMap, Method, StatusCode, Uri};
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use super::faults::FaultId;
use super::pattern::PathPattern;
use crate::sid::{AccountSid, ApiKeySid};

/// What an entry keeps of each part of a request; the rest is cut, and a [`cut_marker`]
/// says how much. Real Twilio requests are far smaller (a message body is at most
/// 32 KiB, a target a few hundred bytes), so only hostile or broken requests are cut.
mod keep {
    /// Of the path and query.
    pub const TARGET: usize = 4 * 1024;
    /// Of each header's value.
    pub const HEADER_VALUE: usize = 1024;
    /// Of all header lines together; headers past it are dropped, and counted.
    pub const HEADERS: usize = 16 * 1024;
    /// Of the body.
    pub const BODY: usize = 64 * 1024;
}

/// The header line that replaces the headers cut from an entry.
const CUT_HEADERS_NAME: &str = "x-emulator-journal-cut";

/// Appended where an entry's text was cut, saying how many bytes are missing.
fn cut_marker(cut: usize) -> String {
    format!("…[{cut} bytes cut]")
}

/// The bounded journal of one emulator.
pub struct Journal {
    capacity: usize,
    /// The most bytes of request text its entries hold together (`--journal-max-bytes`);
    /// the oldest entries are dropped to stay under it.
    max_bytes: usize,
    /// A `std` lock: pushing and filtering are short and synchronous, and no `.await`
    /// happens while it is held.
    ring: Mutex<Ring>,
}

/// The entries themselves, oldest first, in one contiguous ring.
///
/// Each entry's request text is one allocation, and the entries are stored by value, not
/// behind an `Arc`. A request evicts the entry from a thousand requests ago, which is long
/// out of the core's caches: with an `Arc` and three allocations per entry, dropping it
/// was a measurable part of a message fetch (BENCHMARKS.md, "journal entries stored by
/// value"). Now that is one free, and the ring itself is written in order.
struct Ring {
    entries: VecDeque<Entry>,
    next_sequence: u64,
    /// The request text the entries hold, in bytes.
    bytes: usize,
}

/// What the middleware knows about a request: its head before it runs, then its body.
///
/// Copies, not hyper's shared values: a cloned `Uri` or `HeaderMap` holds reference counts
/// into the connection's read buffer (keeping it pinned until the entry is evicted), costs
/// a map allocation per request and moves those counts between cores when the entry is
/// dropped: a measurable part of a message fetch too (BENCHMARKS.md, "journal entries
/// copy").
#[derive(Clone, Debug)]
pub struct Captured {
    time: SystemTime,
    method: Method,
    /// The path and query, then every header as a `name: value` line in the order
    /// received, then the body if it was kept. Header names are lower-case tokens and
    /// values hold no line breaks (hyper refuses them), so lines split cleanly.
    text: Vec<u8>,
    target_end: usize,
    headers_end: usize,
    /// Whether `text` ends with the body (or its first [`keep::BODY`] bytes): not when
    /// the body was refused as too large.
    body_kept: bool,
    /// How many bytes of the body were cut.
    body_cut: usize,
}

impl Captured {
    /// Takes what the journal needs from a request arriving at `time`. Credentials are
    /// redacted when the entry is shown, not here: most entries are never read.
    pub fn new(time: SystemTime, method: &Method, uri: &Uri, headers: &HeaderMap) -> Self {
        let target = uri.path_and_query().map_or(uri.path(), |target| target.as_str());
        let header_bytes: usize = headers.iter().map(|(name, value)| name.as_str().len() + value.len() + 3).sum();
        let mut text = Vec::with_capacity(target.len().min(keep::TARGET) + header_bytes.min(keep::HEADERS) + 64);
        push_cut(&mut text, target.as_bytes(), keep::TARGET);
        let target_end = text.len();
        let (mut dropped, mut dropped_bytes) = (0usize, 0usize);
        for (name, value) in headers {
            let line = name.as_str().len() + 3 + value.len().min(keep::HEADER_VALUE);
            if text.len() - target_end + line > keep::HEADERS {
                dropped += 1;
                dropped_bytes += name.as_str().len() + value.len() + 3;
                continue;
            }
            text.extend_from_slice(name.as_str().as_bytes());
            text.extend_from_slice(b": ");
            push_cut(&mut text, value.as_bytes(), keep::HEADER_VALUE);
            text.push(b'\n');
        }
        if dropped > 0 {
            let line = format!("{CUT_HEADERS_NAME}: {dropped} headers {}\n", cut_marker(dropped_bytes));
            text.extend_from_slice(line.as_bytes());
        }
        let headers_end = text.len();
        Self { time, method: method.clone(), text, target_end, headers_end, body_kept: false, body_cut: 0 }
    }

    /// Keeps the request body, or its first [`keep::BODY`] bytes.
    pub fn keep_body(&mut self, body: &[u8]) {
        self.text.truncate(self.headers_end);
        let kept = body.len().min(keep::BODY);
        self.text.extend_from_slice(&body[..kept]);
        self.body_kept = true;
        self.body_cut = body.len() - kept;
    }

    /// The bytes this entry holds.
    fn size(&self) -> usize {
        self.text.capacity()
    }

    fn target(&self) -> &str {
        // Written from a `&str` (with a marker when cut); a cut inside a character could
        // only come from a target hyper accepted as non-ASCII, and shows as empty.
        std::str::from_utf8(&self.text[..self.target_end]).unwrap_or_default()
    }

    fn path(&self) -> &str {
        let target = self.target();
        target.split_once('?').map_or(target, |(path, _)| path)
    }

    fn query(&self) -> Option<&str> {
        self.target().split_once('?').map(|(_, query)| query)
    }

    /// The headers as `(name, value)` pairs, in the order received.
    fn headers(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        let lines = &self.text[self.target_end..self.headers_end];
        lines.split(|&byte| byte == b'\n').filter_map(|line| {
            let colon = line.iter().position(|&byte| byte == b':')?;
            Some((&line[..colon], line.get(colon + 2..).unwrap_or_default()))
        })
    }

    fn body(&self) -> Option<&[u8]> {
        self.body_kept.then(|| &self.text[self.headers_end..])
    }
}

/// How a journaled request ended.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub status: StatusCode,
    pub duration: Duration,
    /// The account of valid credentials, if any.
    pub account: Option<AccountSid>,
    /// The fault rules that fired for it.
    pub faults: Vec<FaultId>,
    /// The Twilio error code of an error answer.
    pub error_code: Option<u32>,
}

/// One journaled request.
#[derive(Clone, Debug)]
pub struct Entry {
    sequence: u64,
    request: Captured,
    outcome: Outcome,
}

/// Appends `bytes` to `text`, or its first `keep` bytes and a [`cut_marker`].
fn push_cut(text: &mut Vec<u8>, bytes: &[u8], keep: usize) {
    if bytes.len() <= keep {
        text.extend_from_slice(bytes);
    } else {
        text.extend_from_slice(&bytes[..keep]);
        text.extend_from_slice(cut_marker(bytes.len() - keep).as_bytes());
    }
}

impl Journal {
    /// A journal keeping the last `capacity` requests, holding at most `max_bytes` of
    /// request text together; a `capacity` of 0 keeps none.
    pub fn new(capacity: usize, max_bytes: usize) -> Self {
        // Reserve lazily beyond a modest size: a huge `--journal-size` should cost memory
        // only once it fills.
        let ring = Ring { entries: VecDeque::with_capacity(capacity.min(1024)), next_sequence: 1, bytes: 0 };
        Self { capacity, max_bytes, ring: Mutex::new(ring) }
    }

    /// Whether requests are recorded at all (`--journal-size 0` turns the journal off).
    pub fn is_enabled(&self) -> bool {
        self.capacity > 0
    }

    /// How many requests the journal holds now.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Whether the journal holds no request.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A poisoned lock only means a panic elsewhere; the ring itself stays consistent.
    fn lock(&self) -> MutexGuard<'_, Ring> {
        self.ring.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records a finished request, dropping the oldest entry when full. Sequence numbers
    /// follow the order in which responses were produced.
    pub fn record(&self, request: Captured, outcome: Outcome) {
        if !self.is_enabled() {
            return;
        }
        let size = request.size();
        let mut ring = self.lock();
        let sequence = ring.next_sequence;
        ring.next_sequence += 1;
        // Usually exactly one entry goes (the oldest, once the ring is full); more only
        // when large entries push the total over `max_bytes`.
        // The first one without an allocation: this is on every request's path.
        let (mut evicted, mut more_evicted) = (None, Vec::new());
        while !ring.entries.is_empty()
            && (ring.entries.len() >= self.capacity || ring.bytes + size > self.max_bytes)
            && let Some(oldest) = ring.entries.pop_front()
        {
            ring.bytes -= oldest.request.size();
            match evicted {
                None => evicted = Some(oldest),
                Some(_) => more_evicted.push(oldest),
            }
        }
        ring.bytes += size;
        ring.entries.push_back(Entry { sequence, request, outcome });
        drop(ring);
        // Freed once the lock is released.
        drop((evicted, more_evicted));
    }

    /// The bytes of request text the journal holds now.
    pub fn bytes(&self) -> usize {
        self.lock().bytes
    }

    /// Copies of the entries `filter` selects, oldest first. Listing is rare and copying
    /// a few hundred bytes per entry quick; the JSON is built after the lock is released.
    pub fn select(&self, filter: &Filter) -> Vec<Entry> {
        let ring = self.lock();
        let mut selected: Vec<Entry> = ring
            .entries
            .iter()
            .rev()
            .filter(|entry| filter.accepts(entry))
            .take(filter.limit.unwrap_or(usize::MAX))
            .cloned()
            .collect();
        drop(ring);
        selected.reverse();
        selected
    }

    /// Forgets every entry. Sequence numbers keep counting, so an entry seen before a
    /// clear is never confused with one recorded after it.
    pub fn clear(&self) {
        let mut ring = self.lock();
        let cleared = std::mem::take(&mut ring.entries);
        ring.bytes = 0;
        drop(ring);
        drop(cleared);
    }
}

impl fmt::Debug for Journal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Journal").field("capacity", &self.capacity).field("len", &self.len()).finish()
    }
}

/// What replaces a secret in a journal entry.
const REDACTED: &str = "<redacted>";

/// The one list of what the journal hides: a header, form or query parameter whose name,
/// lower-cased and without `-`, `_` and `.`, ends with one of these words is a secret
/// (`AuthToken`, `Password`, `Secret`, `ApiKey`, `PrivateKey`, `Certificate`, `Cookie`,
/// `X-Api-Key`, `X-Auth-Token`, `X-Twilio-Signature`…), unless it is one of
/// [`NOT_SECRETS`]. `Authorization` headers keep their scheme and SID username
/// ([`redact_credentials`]).
const SECRET_ENDINGS: [&str; 10] =
    ["token", "password", "passwd", "secret", "key", "certificate", "cookie", "signature", "session", "credentials"];

/// Names that end like a secret but are not one: they are what a test asserts on.
const NOT_SECRETS: [&str; 2] = ["pagetoken", "itwilioidempotencytoken"];

/// Whether a header or parameter named `name` holds a secret (see [`SECRET_ENDINGS`]).
fn is_secret(name: &str) -> bool {
    let normalized: String =
        name.chars().filter(|c| !matches!(c, '-' | '_' | '.')).map(|c| c.to_ascii_lowercase()).collect();
    SECRET_ENDINGS.iter().any(|ending| normalized.ends_with(ending)) && !NOT_SECRETS.contains(&normalized.as_str())
}

/// Form or query parameters with the values of secrets redacted.
fn redacted_params(encoded: &[u8]) -> Vec<(Cow<'_, str>, Cow<'_, str>)> {
    form_urlencoded::parse(encoded)
        .map(|(name, value)| {
            let value = if is_secret(&name) { Cow::Borrowed(REDACTED) } else { value };
            (name, value)
        })
        .collect()
}

/// A query string with the values of secret parameters redacted; as received otherwise.
fn redacted_query(query: &str) -> Cow<'_, str> {
    let has_secret = form_urlencoded::parse(query.as_bytes()).any(|(name, _)| is_secret(&name));
    if !has_secret {
        return Cow::Borrowed(query);
    }
    let mut rebuilt = form_urlencoded::Serializer::new(String::new());
    for (name, value) in redacted_params(query.as_bytes()) {
        rebuilt.append_pair(&name, &value);
    }
    Cow::Owned(rebuilt.finish())
}

/// Replaces the secret of an `Authorization` value. The username of Basic credentials is
/// kept when it is an Account or API key SID, which are identifiers rather than secrets
/// (it tells which tenant the request used); anything else might be a misplaced secret.
fn redact_credentials(value: &[u8]) -> String {
    let text = std::str::from_utf8(value).unwrap_or_default().trim();
    match text.split_once(' ') {
        Some((scheme, credentials)) if scheme.eq_ignore_ascii_case("basic") => {
            match basic_username(credentials.trim()) {
                Some(username) => format!("{scheme} {username}:{REDACTED}"),
                None => format!("{scheme} {REDACTED}"),
            }
        }
        Some((scheme, _)) => format!("{scheme} {REDACTED}"),
        None => REDACTED.to_owned(),
    }
}

/// The username of Basic credentials, when it is a SID.
fn basic_username(encoded: &str) -> Option<String> {
    let decoded = STANDARD.decode(encoded).ok()?;
    let decoded = std::str::from_utf8(&decoded).ok()?;
    let (username, _) = decoded.split_once(':')?;
    let is_sid = username.parse::<AccountSid>().is_ok() || username.parse::<ApiKeySid>().is_ok();
    is_sid.then(|| username.to_owned())
}

/// Which entries a listing wants: those matching every field given.
#[derive(Debug)]
pub struct Filter {
    /// The account of the request's credentials.
    pub account: Option<AccountSid>,
    pub path: Option<PathFilter>,
    /// The method, compared case-insensitively.
    pub method: Option<String>,
    /// The newest `limit` of the matching entries.
    pub limit: Option<usize>,
}

/// How a listing selects paths.
#[derive(Debug)]
pub enum PathFilter {
    /// Paths that contain this text.
    Substring(String),
    /// Paths this glob matches.
    Glob(PathPattern),
}

impl Filter {
    fn accepts(&self, entry: &Entry) -> bool {
        let path = entry.request.path();
        self.account.is_none_or(|account| entry.outcome.account == Some(account))
            && self.method.as_deref().is_none_or(|method| entry.request.method.as_str().eq_ignore_ascii_case(method))
            && self.path.as_ref().is_none_or(|filter| match filter {
                PathFilter::Substring(part) => path.contains(part.as_str()),
                PathFilter::Glob(pattern) => pattern.is_match(path),
            })
    }
}

/// A journal entry as JSON: what `GET /_emulator/requests` lists.
#[derive(Debug, Serialize)]
pub struct EntryView<'a> {
    sequence: u64,
    /// When the request arrived, by the real wall clock: the journal describes traffic,
    /// so it ignores `/_emulator/clock`.
    time: String,
    method: &'a str,
    path: &'a str,
    /// As received, but with the values of secret parameters redacted.
    query: Option<Cow<'a, str>>,
    /// The form parameters in order, as `[name, value]` pairs, secrets redacted; `null`
    /// when the body was refused.
    params: Option<Vec<(Cow<'a, str>, Cow<'a, str>)>>,
    /// How many bytes of the body were cut (the journal keeps 64 KiB); `params` then come
    /// from what was kept.
    body_cut_bytes: usize,
    headers: HeadersView<'a>,
    status: u16,
    /// The Twilio error code of an error answer (`null` for a success).
    error_code: Option<u32>,
    /// From the arrival of the request to its response head, in microseconds.
    duration_us: u64,
    account: Option<AccountSid>,
    /// The fault rules that fired for this request.
    faults: &'a [FaultId],
}

impl<'a> EntryView<'a> {
    /// The view of `entry`, borrowing from it.
    pub fn of(entry: &'a Entry) -> Self {
        let Entry { sequence, request, outcome } = entry;
        Self {
            sequence: *sequence,
            time: DateTime::<Utc>::from(request.time).to_rfc3339_opts(SecondsFormat::Millis, true),
            method: request.method.as_str(),
            path: request.path(),
            query: request.query().map(redacted_query),
            // Parsed as a form: every SDK sends one, and a multipart body (older twilio-node)
            // was kept as the form its text parts make (`routes::observe`).
            params: request.body().map(redacted_params),
            body_cut_bytes: request.body_cut,
            headers: HeadersView(request),
            status: outcome.status.as_u16(),
            error_code: outcome.error_code,
            duration_us: u64::try_from(outcome.duration.as_micros()).unwrap_or(u64::MAX),
            account: outcome.account,
            faults: &outcome.faults,
        }
    }
}

/// Headers as one JSON object with lower-case names, credentials redacted; a repeated
/// header's values are joined with `, `, as HTTP allows.
#[derive(Debug)]
struct HeadersView<'a>(&'a Captured);

impl Serialize for HeadersView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // A request has a handful of headers: a list searched in order keeps theirs.
        let mut joined: Vec<(Cow<'_, str>, Cow<'_, str>)> = Vec::new();
        for (name, value) in self.0.headers() {
            let name = String::from_utf8_lossy(name);
            let is_credential = name == AUTHORIZATION.as_str() || name == PROXY_AUTHORIZATION.as_str();
            let value = if is_credential {
                Cow::Owned(redact_credentials(value))
            } else if is_secret(&name) {
                Cow::Borrowed(REDACTED)
            } else {
                String::from_utf8_lossy(value)
            };
            match joined.iter_mut().find(|(seen, _)| *seen == name) {
                Some((_, values)) => *values = Cow::Owned(format!("{values}, {value}")),
                None => joined.push((name, value)),
            }
        }
        let mut map = serializer.serialize_map(Some(joined.len()))?;
        for (name, value) in &joined {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn basic(credentials: &str) -> HeaderValue {
        HeaderValue::from_str(&format!("Basic {}", STANDARD.encode(credentials))).expect("header value")
    }

    #[test]
    fn credentials_are_redacted_but_sid_usernames_kept() {
        let cases = [
            (basic("AC00000000000000000000000000000001:secret"), "Basic AC00000000000000000000000000000001:<redacted>"),
            (basic("SK00000000000000000000000000000001:secret"), "Basic SK00000000000000000000000000000001:<redacted>"),
            (basic("secret-in-the-wrong-place:x"), "Basic <redacted>"),
            (HeaderValue::from_static("Basic !!!"), "Basic <redacted>"),
            (HeaderValue::from_static("Bearer abc.def"), "Bearer <redacted>"),
            (HeaderValue::from_static("token"), "<redacted>"),
        ];
        for (value, expected) in cases {
            assert_eq!(redact_credentials(value.as_bytes()), expected, "{value:?}");
        }
    }

    fn outcome(status: StatusCode) -> Outcome {
        Outcome { status, duration: Duration::ZERO, account: None, faults: Vec::new(), error_code: None }
    }

    fn captured(path: &str) -> Captured {
        let uri: Uri = path.parse().expect("uri");
        Captured::new(SystemTime::now(), &Method::GET, &uri, &HeaderMap::new())
    }

    #[test]
    fn the_ring_drops_the_oldest_and_keeps_counting() {
        let journal = Journal::new(2, usize::MAX);
        for path in ["/a", "/b", "/c"] {
            journal.record(captured(path), outcome(StatusCode::OK));
        }
        let all = Filter { account: None, path: None, method: None, limit: None };
        let sequences: Vec<u64> = journal.select(&all).iter().map(|entry| entry.sequence).collect();
        assert_eq!(sequences, [2, 3]);
        journal.clear();
        journal.record(captured("/d"), outcome(StatusCode::OK));
        assert_eq!(journal.select(&all)[0].sequence, 4);
    }

    #[test]
    fn a_captured_request_shows_its_target_and_headers_as_received() {
        let mut headers = HeaderMap::new();
        headers.insert("host", HeaderValue::from_static("localhost:8080"));
        headers.append("x-tag", HeaderValue::from_static("a: b"));
        headers.insert(AUTHORIZATION, basic("AC00000000000000000000000000000001:secret"));
        headers.append("x-tag", HeaderValue::from_static("c"));
        headers.insert("x-raw", HeaderValue::from_bytes(b"caf\xe9").expect("obs-text is allowed"));
        let uri: Uri = "/v1/Conversations?PageSize=5&Page=1".parse().expect("uri");

        let captured = Captured::new(SystemTime::now(), &Method::GET, &uri, &headers);

        assert_eq!(captured.path(), "/v1/Conversations");
        assert_eq!(captured.query(), Some("PageSize=5&Page=1"));
        let view = serde_json::to_string(&HeadersView(&captured)).expect("JSON");
        let expected = concat!(
            r#"{"host":"localhost:8080","x-tag":"a: b, c","#,
            r#""authorization":"Basic AC00000000000000000000000000000001:<redacted>","x-raw":"caf"#,
            "\u{fffd}\"}"
        );
        assert_eq!(view, expected);
        let mut bare = Captured::new(SystemTime::now(), &Method::GET, &"/v1/Services".parse().expect("uri"), &headers);
        assert_eq!((bare.path(), bare.query(), bare.body()), ("/v1/Services", None, None));

        bare.keep_body(b"Body=hi");
        assert_eq!(bare.body(), Some(&b"Body=hi"[..]));
        assert_eq!(bare.headers().count(), 5, "the body does not run into the headers");
        bare.keep_body(&vec![b'a'; keep::BODY + 10]);
        assert_eq!(bare.body().map(<[u8]>::len), Some(keep::BODY), "a long body is cut");
        assert_eq!(bare.body_cut, 10);
    }

    #[test]
    fn every_part_of_an_entry_is_cut_with_a_marker_and_the_journal_is_bounded_in_bytes() {
        let long_target = format!("/v1/Conversations?x={}", "a".repeat(keep::TARGET * 4));
        let mut headers = HeaderMap::new();
        headers.insert("x-long", HeaderValue::from_str(&"b".repeat(keep::HEADER_VALUE * 8)).expect("value"));
        for index in 0..200 {
            let name = http::HeaderName::from_bytes(format!("x-h{index}").as_bytes()).expect("name");
            headers.insert(name, HeaderValue::from_str(&"c".repeat(500)).expect("value"));
        }

        let captured = Captured::new(SystemTime::now(), &Method::GET, &long_target.parse().expect("uri"), &headers);

        assert!(captured.target().ends_with(&cut_marker(long_target.len() - keep::TARGET)), "the target is cut");
        assert!(captured.target_end < keep::TARGET + 32);
        let long = captured.headers().find(|(name, _)| *name == b"x-long").expect("kept").1;
        assert!(long.ends_with(cut_marker(keep::HEADER_VALUE * 7).as_bytes()), "a long value is cut");
        let cut = captured.headers().find(|(name, _)| *name == CUT_HEADERS_NAME.as_bytes()).expect("a marker");
        assert!(String::from_utf8_lossy(cut.1).contains(" headers …["), "{:?}", String::from_utf8_lossy(cut.1));
        assert!(captured.headers_end - captured.target_end < keep::HEADERS + 64, "the headers are bounded");

        let journal = Journal::new(1000, 3 * captured.size());
        for _ in 0..10 {
            journal.record(captured.clone(), outcome(StatusCode::OK));
        }
        assert!(journal.bytes() <= 3 * captured.size(), "the total is bounded: {}", journal.bytes());
        assert_eq!(journal.len(), 3);
    }

    #[test]
    fn secrets_in_headers_forms_and_queries_are_redacted_from_one_list() {
        let mut headers = HeaderMap::new();
        for name in ["cookie", "x-api-key", "x-auth-token", "x-twilio-signature", "x-session"] {
            headers.insert(http::HeaderName::from_static(name), HeaderValue::from_static("s3cret"));
        }
        headers.insert("i-twilio-idempotency-token", HeaderValue::from_static("kept"));
        headers.insert("x-twilio-webhook-enabled", HeaderValue::from_static("true"));
        let uri: Uri = "/v1/Credentials?AuthToken=s3cret&PageToken=PT1&PageSize=5".parse().expect("uri");
        let mut captured = Captured::new(SystemTime::now(), &Method::POST, &uri, &headers);
        captured.keep_body(b"FriendlyName=x&Secret=s3cret&PrivateKey=s3cret&Certificate=s3cret&ApiKey=s3cret&Password=s3cret&Sandbox=true");

        let entry = Entry { sequence: 1, request: captured, outcome: outcome(StatusCode::OK) };
        let view = serde_json::to_value(EntryView::of(&entry)).expect("JSON");

        assert!(!view.to_string().contains("s3cret"), "{view}");
        assert_eq!(view["query"], "AuthToken=%3Credacted%3E&PageToken=PT1&PageSize=5");
        assert_eq!(view["headers"]["i-twilio-idempotency-token"], "kept");
        assert_eq!(view["headers"]["x-twilio-webhook-enabled"], "true");
        assert_eq!(view["headers"]["cookie"], REDACTED);
        let params = view["params"].as_array().expect("params");
        assert_eq!(params[0], serde_json::json!(["FriendlyName", "x"]));
        assert_eq!(params[6], serde_json::json!(["Sandbox", "true"]));
    }

    #[test]
    fn a_zero_size_journal_records_nothing() {
        let journal = Journal::new(0, usize::MAX);
        journal.record(captured("/a"), outcome(StatusCode::OK));
        assert!(journal.is_empty());
    }
}
