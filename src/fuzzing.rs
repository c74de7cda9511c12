//! The checks the fuzz targets (`fuzz/`, `cargo fuzz`) run on arbitrary input: each takes
//! bytes or text, drives one of the emulator's parsers, and panics when an invariant does
//! not hold, which is how libFuzzer learns of a finding.
//!
//! Compiled only with the `fuzzing` feature (and for the crate's own tests, which run
//! every check on a few inputs), so the library's public API stays as it is: the parsers
//! stay crate-private, and only these checks reach the fuzz crate.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use clap::Parser;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::Service;

use crate::config::Config;
use crate::pagination::{OrderedPageParams, PageParams, PageRequest};
use crate::sid::{
    AccountSid, AddressConfigurationSid, ApiKeySid, BindingSid, ChannelMessageSid, ChatServiceSid, ContentSid,
    ConversationSid, CredentialSid, FlowSid, MediaSid, MessageSid, MessagingServiceSid, ParticipantSid, ReceiptSid,
    RoleSid, SidGenerator, UserSid, WebhookSid,
};
use crate::store::document::StateDocument;
use crate::store::selection::{Cursor, Order, select};
use crate::store::{ImportMode, Store};
use crate::time::{Clock, Timestamp, parse_duration_seconds};
use crate::{App, AppState};

/// Parses `text` as every kind of SID: one that reads prints back as the same SID, in
/// Twilio's lowercase, and parses again to the same value.
pub fn sids(text: &str) {
    fn check<T>(text: &str)
    where
        T: std::str::FromStr + std::fmt::Display + PartialEq + std::fmt::Debug,
    {
        if let Ok(sid) = text.parse::<T>() {
            let printed = sid.to_string();
            assert_eq!(printed.len(), 34, "{text:?} printed as {printed:?}");
            assert!(printed.eq_ignore_ascii_case(text), "{text:?} printed as {printed:?}");
            let again: T = printed.parse().unwrap_or_else(|_| panic!("{printed:?} does not parse back"));
            assert_eq!(again, sid);
        }
    }
    check::<AccountSid>(text);
    check::<ApiKeySid>(text);
    check::<ChatServiceSid>(text);
    check::<MessagingServiceSid>(text);
    check::<ConversationSid>(text);
    check::<MessageSid>(text);
    check::<ParticipantSid>(text);
    check::<ReceiptSid>(text);
    check::<MediaSid>(text);
    check::<ContentSid>(text);
    check::<CredentialSid>(text);
    check::<RoleSid>(text);
    check::<WebhookSid>(text);
    check::<AddressConfigurationSid>(text);
    check::<FlowSid>(text);
    check::<ChannelMessageSid>(text);
    check::<UserSid>(text);
    check::<BindingSid>(text);
}

/// Reads `query` as a list's `Order`/`PageSize`/`Page`/`PageToken` and, when the request is
/// valid, pages through 0..40 (every third key missing) from there: a page never holds
/// more than `PageSize` records, holds them in the order asked for, and its next-page
/// cursor carries on after its last record.
pub fn page_query(query: &str) {
    const MAX_SIZE: usize = 7;
    let Ok(params) = serde_urlencoded::from_str::<OrderedPageParams>(query) else { return };
    let Ok((request, _)) = params.parse(MAX_SIZE) else { return };
    assert!((1..=MAX_SIZE).contains(&request.size), "{query:?} gave size {}", request.size);
    let records: BTreeMap<u64, u64> = (0..40).filter(|key| key % 3 != 1).map(|key| (key, key)).collect();
    let page = select(&records, &request, |_| true);
    let keys: Vec<u64> = page.items.iter().map(|key| **key).collect();
    assert!(keys.len() <= request.size, "{query:?}: {keys:?}");
    let ascending = keys.windows(2).all(|pair| pair[0] < pair[1]);
    let descending = keys.windows(2).all(|pair| pair[0] > pair[1]);
    assert!(if request.order == Order::Asc { ascending } else { descending }, "{query:?}: {keys:?}");
    if let (Some(Cursor::After(after)), Some(last)) = (page.next, keys.last()) {
        assert_eq!(after, *last, "{query:?}: the next page starts after the last record");
    }
    // A token written for this page's cursor reads back as the same cursor.
    for cursor in [page.previous, page.next].into_iter().flatten() {
        let token = match cursor {
            Cursor::After(key) => format!("PTA{key}"),
            Cursor::Before(key) => format!("PTB{key}"),
            Cursor::Start | Cursor::Offset(_) => continue,
        };
        let params = PageParams { page_token: Some(token), ..PageParams::default() };
        let again = PageRequest::parse(&params, request.order, MAX_SIZE).map(|request| request.cursor);
        assert_eq!(again.ok(), Some(cursor));
    }
}

/// Reads `text` as every kind of date the API takes: a date-time that parses prints as
/// Twilio's `YYYY-MM-DDTHH:MM:SSZ` and parses back to the same second; a range's end is
/// after its start; a duration is never negative.
pub fn timestamps(text: &str) {
    if let Ok(at) = Timestamp::parse_rfc3339(text) {
        assert!((Timestamp::MIN..=Timestamp::MAX).contains(&at));
        let printed = at.to_string();
        assert_eq!(printed.len(), 20, "{text:?} printed as {printed:?}");
        assert_eq!(Timestamp::parse_rfc3339(&printed), Ok(at), "{text:?} printed as {printed:?}");
    }
    if let (Ok(start), Ok(end)) = (Timestamp::parse_range_start(text), Timestamp::parse_range_end(text)) {
        assert!(end.is_none_or(|end| end > start), "{text:?}: {start:?}..{end:?}");
    }
    if let Some(seconds) = parse_duration_seconds(text) {
        assert!(seconds >= 0, "{text:?} lasts {seconds}");
        assert!(Timestamp::MIN.checked_add(seconds).is_some(), "{text:?} lasts {seconds}");
    }
}

/// Imports `bytes` as a state document (the control plane's `PUT /_emulator/state` and
/// `--seed-file`): a refused document leaves the store empty, and an accepted one exports
/// a document that imports to the same export.
pub fn state_document(bytes: &[u8]) {
    let Ok(document) = serde_json::from_slice::<StateDocument>(bytes) else { return };
    let store = || Store::new(Clock::fixed(Timestamp::from_unix_seconds(1_700_000_000)), SidGenerator::seeded(1));
    let first = store();
    if first.import(document, ImportMode::Replace).is_err() {
        assert_eq!(first.export(None), StateDocument::default(), "a refused import changed the store");
        return;
    }
    let exported = first.export(None);
    let second = store();
    second.import(exported.clone(), ImportMode::Replace).expect("an export imports");
    assert_eq!(second.export(None), exported, "export then import changed the state");
}

/// An in-process emulator that requests are sent to, with a conversation, a message, a
/// participant and a user to address.
pub struct Api {
    runtime: tokio::runtime::Runtime,
    state: AppState,
    app: App,
    /// The paths requests can take, with the seeded SIDs filled in.
    routes: Vec<(Method, String)>,
    sent: usize,
}

const FORM: &str = "application/x-www-form-urlencoded";

/// Requests between two resets of the store, so that a long run's memory stays bounded.
const REQUESTS_PER_RESET: usize = 4096;

/// The operations fuzzed, with `{IS}`, `{IM}`, `{MB}` and `{US}` standing for the seeded
/// resources: those that read a form or a query, on both URL forms where there are two.
const ROUTES: &[(&str, &str)] = &[
    ("POST", "/v1/Conversations"),
    ("GET", "/v1/Conversations"),
    ("POST", "/v1/Conversations/fuzz"),
    ("POST", "/v1/Conversations/fuzz/Messages"),
    ("GET", "/v1/Conversations/fuzz/Messages"),
    ("POST", "/v1/Conversations/fuzz/Messages/{IM}"),
    ("GET", "/v1/Conversations/fuzz/Messages/{IM}/Receipts"),
    ("POST", "/v1/Services/{IS}/Conversations/fuzz/Messages"),
    ("GET", "/v1/Services/{IS}/Conversations/fuzz/Messages"),
    ("POST", "/v1/Conversations/fuzz/Participants"),
    ("GET", "/v1/Conversations/fuzz/Participants"),
    ("POST", "/v1/Conversations/fuzz/Participants/{MB}"),
    ("POST", "/v1/Conversations/fuzz/Webhooks"),
    ("POST", "/v1/ConversationWithParticipants"),
    ("GET", "/v1/ParticipantConversations"),
    ("POST", "/v1/Users"),
    ("GET", "/v1/Users"),
    ("POST", "/v1/Users/{US}"),
    ("GET", "/v1/Users/{US}/Conversations"),
    ("POST", "/v1/Roles"),
    ("POST", "/v1/Credentials"),
    ("POST", "/v1/Configuration"),
    ("POST", "/v1/Configuration/Webhooks"),
    ("POST", "/v1/Configuration/Addresses"),
    ("GET", "/v1/Configuration/Addresses"),
    ("POST", "/v1/Services"),
    ("POST", "/v1/Services/{IS}"),
    ("POST", "/v1/Services/{IS}/Configuration"),
    ("POST", "/v1/Services/{IS}/Configuration/Notifications"),
    ("POST", "/v1/Services/{IS}/Configuration/Webhooks"),
    ("GET", "/v1/Services/{IS}/Bindings"),
    ("POST", "/v2/Services"),
    ("POST", "/v2/Services/{IS}"),
    ("POST", "/v2/Services/{IS}/Channels"),
    ("GET", "/v2/Services/{IS}/Channels"),
    ("POST", "/v2/Services/{IS}/Users"),
    ("POST", "/v2/Services/{IS}/Roles"),
];

/// The content types a body is sent with, chosen by the input's second byte.
const CONTENT_TYPES: &[Option<&str>] = &[
    Some("application/x-www-form-urlencoded"),
    None,
    Some("application/x-www-form-urlencoded; charset=utf-8"),
    Some("multipart/form-data; boundary=fuzz"),
    Some("application/json"),
];

impl Default for Api {
    fn default() -> Self {
        Self::new()
    }
}

impl Api {
    /// A fresh emulator (permissive auth, seeded SIDs) with the seeded resources.
    pub fn new() -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a Tokio runtime");
        let config = Config::parse_from(["emulator", "--seed", "1"]);
        let state = AppState::new(&config, "127.0.0.1:1".into());
        let app = App::new(state.clone());
        let mut api = Self { runtime, state, app, routes: Vec::new(), sent: 0 };
        api.seed();
        api
    }

    /// Creates the resources the routes name and fills their SIDs into the routes.
    fn seed(&mut self) {
        let sid = |method, path: &str, body: &str, field: &str| {
            let (status, json) = self.send(method, path, Some(FORM), body.as_bytes());
            assert!(status.is_success(), "seeding {path}: {status} {json}");
            json[field].as_str().map(str::to_owned).unwrap_or_default()
        };
        sid(Method::POST, "/v1/Conversations", "UniqueName=fuzz", "sid");
        let message = sid(Method::POST, "/v1/Conversations/fuzz/Messages", "Body=hello", "sid");
        let participant = sid(Method::POST, "/v1/Conversations/fuzz/Participants", "Identity=alice", "sid");
        let user = sid(Method::POST, "/v1/Users", "Identity=bob", "sid");
        let service = sid(Method::POST, "/v1/Configuration", "", "default_chat_service_sid");
        self.routes = ROUTES
            .iter()
            .map(|(method, path)| {
                let path = path.replace("{IS}", &service).replace("{IM}", &message);
                let path = path.replace("{MB}", &participant).replace("{US}", &user);
                (Method::from_bytes(method.as_bytes()).expect("a method"), path)
            })
            .collect();
    }

    /// Sends one request built from `data`: its first byte picks the operation, its second
    /// the content type, and the rest, up to the first newline, is the query string and,
    /// after it, the body. Every answer is Twilio-shaped: never a server error, and every
    /// error carries Twilio's `code`, `message`, `more_info` and `status`.
    pub fn request(&mut self, data: &[u8]) {
        let [route, content_type, rest @ ..] = data else { return };
        let (query, body) = match rest.iter().position(|b| *b == b'\n') {
            Some(at) => (&rest[..at], &rest[at + 1..]),
            None => (rest, &[][..]),
        };
        // A target is ASCII without spaces or controls: anything else is refused by the
        // HTTP layer before the emulator sees it, so it is not what is fuzzed here.
        let query: String =
            query.iter().map(|b| if b.is_ascii_graphic() && *b != b'#' { char::from(*b) } else { '+' }).collect();
        let (method, path) = self.routes[usize::from(*route) % self.routes.len()].clone();
        let content_type = CONTENT_TYPES[usize::from(*content_type) % CONTENT_TYPES.len()];
        let target = if query.is_empty() { path } else { format!("{path}?{query}") };
        let (status, json) = self.send(method, &target, content_type, body);
        assert!(!status.is_server_error(), "{target} answered {status}: {json}");
        if status.is_client_error() {
            assert_eq!(json["status"].as_u64(), Some(u64::from(status.as_u16())), "{target}: {json}");
            assert!(json["code"].is_u64() && json["message"].is_string(), "{target}: {json}");
            assert!(json["more_info"].is_string(), "{target}: {json}");
        }
        self.sent += 1;
        if self.sent.is_multiple_of(REQUESTS_PER_RESET) {
            self.state.store.reset(None, None).expect("an in-memory reset");
            self.seed();
        }
    }

    /// One request through the application, and its status and JSON body (`null` when the
    /// body is empty; a body that is not JSON fails the check).
    fn send(&self, method: Method, target: &str, content_type: Option<&str>, body: &[u8]) -> (StatusCode, Value) {
        let mut request = Request::builder()
            .method(method)
            .uri(target)
            .header(header::AUTHORIZATION, "Basic QUMwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMTp0b2tlbg==");
        if let Some(content_type) = content_type {
            request = request.header(header::CONTENT_TYPE, content_type);
        }
        let Ok(request) = request.body(Body::from(body.to_vec())) else { return (StatusCode::OK, Value::Null) };
        let mut app = self.app.clone();
        self.runtime.block_on(async {
            let response = app.call(request).await.unwrap_or_else(|never| match never {});
            let status = response.status();
            let bytes = response.into_body().collect().await.expect("a body in memory").to_bytes();
            let json = if bytes.is_empty() {
                Value::Null
            } else {
                serde_json::from_slice(&bytes).unwrap_or_else(|error| {
                    panic!("{target} answered {status} with a body that is not JSON ({error}): {bytes:?}")
                })
            };
            (status, json)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_check_passes_on_inputs_that_parse_and_inputs_that_do_not() {
        for text in ["ACc0ffee00000000000000000000000001", "IMC0FFEE00000000000000000000000001", "IM", ""] {
            sids(text);
        }
        for query in ["", "PageSize=3", "Order=desc&PageToken=PTB4", "PageToken=PTA38&PageSize=99", "Page=2&PageSize=2"]
        {
            page_query(query);
        }
        for text in ["2020-02-29T23:59:59+01:00", "9999-12-31", "0001-01-01T00:00:00+01:00", "P1DT1S", "nope"] {
            timestamps(text);
        }
        let document = r#"{"accounts":[{"account_sid":"AC00000000000000000000000000000001",
            "conversations":[{"unique_name":"x","messages":[{"body":"hi"}]}]}]}"#;
        for bytes in [document.as_bytes(), b"{}", b"{\"accounts\":[{}]}", b"not json"] {
            state_document(bytes);
        }
    }

    #[test]
    fn requests_are_answered_in_twilio_shape_whatever_their_form_and_query() {
        let mut api = Api::new();
        for data in [
            &b"\x00\x00FriendlyName=a&UniqueName=b"[..],
            b"\x03\x00\nBody=hi&Attributes=%7B%7D",
            b"\x03\x04\n{\"Body\":1}",
            b"\x04\x00PageSize=0",
            b"\x04\x00PageToken=PTZ&Order=up",
            b"\x09\x03\n--fuzz\r\nContent-Disposition: form-data; name=\"Identity\"\r\n\r\nzed\r\n--fuzz--\r\n",
            b"\x0f\x00\nIdentity=%FF%FE",
        ] {
            api.request(data);
        }
    }
}
