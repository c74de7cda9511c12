//! The Messages routes matched by hand, before axum's router sees the request.
//!
//! Messages are the emulator's hot path, and their paths have one fixed shape on each URL
//! form. axum's router pays, on every request, for matching the path against every route,
//! percent-decoding each parameter into its own allocation, and the per-route layers around
//! the handler (`BENCHMARKS.md` has the figures). Here a well-formed message path is taken
//! apart in place and its parsed parameters handed to the same handlers, through the same
//! middleware ([`super::answer`]).
//!
//! Only what is certain is taken: a malformed SID, a percent-encoded conversation name or
//! another method (`HEAD`, a `405`) goes on to the router, which serves the same routes and
//! answers every edge case exactly as before. The shortcut is an optimisation, never a
//! second definition of the API.
//!
//! # The rule for the five handlers it calls
//!
//! `messages::{create, list, fetch, update, delete}` run here without axum's router, so
//! nothing the router adds to a request exists: no path parameters, no `MatchedPath`. They
//! may take only extractors that need neither:
//!
//! - the ones the middleware pre-fills in the request's context
//!   ([`crate::extract::RequestContext`]): [`ApiCall`](crate::extract::ApiCall),
//!   [`Tenant`](crate::extract::Tenant), [`BaseUrl`](crate::extract::BaseUrl), and of the
//!   path extractors only [`ConversationScope`] (list, create) and
//!   [`MessagePath`](crate::extract::MessagePath) (fetch, update, delete), which the
//!   shortcut parses;
//! - the ones that read only the request itself or the state: `TwilioForm`, `TwilioQuery`,
//!   `WebhookEnabled`, `State`.
//!
//! Anything else (`Path`, `RawPathParams`, `MatchedPath`, `ServicePath`, `ParticipantPath`,
//! `ReceiptPath`, a new extractor built on `extract::path_params`) fails on this path with
//! a 404 that looks like an unknown conversation, while the same request still works
//! through the router: no other test would notice. The test
//! `every_messages_operation_answers_alike_through_the_shortcut_and_the_router` below sends
//! every operation, with its error cases, both ways and compares the answers.

use axum::extract::Request;
use axum::handler::Handler;
use axum::http::Method;
use axum::response::Response;

use super::messages;
use crate::extract::{ConversationScope, ParsedPath};
use crate::sid::MessageSid;
use crate::state::AppState;
use crate::store::{ConversationRef, ServiceScope};

/// The route templates, as the router names them in `MatchedPath` (the `route` label of the
/// metrics): `[list or create, fetch or update or delete]` on each URL form.
const DEFAULT_FORM_ROUTES: [&str; 2] =
    ["/v1/Conversations/{ConversationSid}/Messages", "/v1/Conversations/{ConversationSid}/Messages/{MessageSid}"];
const SERVICE_FORM_ROUTES: [&str; 2] = [
    "/v1/Services/{ChatServiceSid}/Conversations/{ConversationSid}/Messages",
    "/v1/Services/{ChatServiceSid}/Conversations/{ConversationSid}/Messages/{MessageSid}",
];

/// A Messages request the shortcut serves: the operation, the route it stands for, and the
/// parsed path.
#[derive(Debug)]
pub(super) struct Recognised {
    pub(super) operation: Operation,
    pub(super) route: &'static str,
    pub(super) path: ParsedPath,
}

/// The Messages operation of a recognised request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Operation {
    List,
    Create,
    Fetch,
    Update,
    Delete,
}

/// The Messages operation `method` and `path` ask for, if the path is well formed
/// throughout; `None` leaves the request to the router.
pub(super) fn recognise(method: &Method, path: &str) -> Option<Recognised> {
    let rest = path.strip_prefix("/v1/")?;
    let (service, routes, rest) = match rest.strip_prefix("Services/") {
        Some(rest) => {
            let (service, rest) = rest.split_once('/')?;
            (ServiceScope::Explicit(service.parse().ok()?), SERVICE_FORM_ROUTES, rest)
        }
        None => (ServiceScope::Default, DEFAULT_FORM_ROUTES, rest),
    };
    let (conversation, rest) = rest.strip_prefix("Conversations/")?.split_once('/')?;
    // The router percent-decodes a segment; one that needs it is left to the router.
    if conversation.is_empty() || conversation.contains('%') {
        return None;
    }
    let message: Option<MessageSid> = match rest.strip_prefix("Messages")? {
        "" => None,
        sid => Some(sid.strip_prefix('/')?.parse().ok()?),
    };
    let operation = match (method, message.is_some()) {
        (&Method::GET, false) => Operation::List,
        (&Method::POST, false) => Operation::Create,
        (&Method::GET, true) => Operation::Fetch,
        (&Method::POST, true) => Operation::Update,
        (&Method::DELETE, true) => Operation::Delete,
        _ => return None,
    };
    let scope = ConversationScope { service, conversation: ConversationRef::parse(conversation) };
    let route = routes[usize::from(message.is_some())];
    Some(Recognised { operation, route, path: ParsedPath { scope, message } })
}

impl Operation {
    /// Runs the operation's handler on a request whose context carries the parsed path.
    pub(super) async fn handle(self, request: Request, state: AppState) -> Response {
        match self {
            Operation::List => messages::list.call(request, state).await,
            Operation::Create => messages::create.call(request, state).await,
            Operation::Fetch => messages::fetch.call(request, state).await,
            Operation::Update => messages::update.call(request, state).await,
            Operation::Delete => messages::delete.call(request, state).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::body::{Body, Bytes};
    use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, HOST};
    use axum::http::{HeaderName, HeaderValue, StatusCode};
    use serde_json::json;
    use tower::ServiceExt;

    use super::*;
    use crate::config::Config;
    use crate::routes::router;
    use crate::time::Timestamp;

    const CH: &str = "CH00000000000000000000000000000001";
    const IS: &str = "IS00000000000000000000000000000001";
    const IM: &str = "IM00000000000000000000000000000001";

    fn operation(method: Method, path: &str) -> Option<(Operation, &'static str)> {
        recognise(&method, path).map(|recognised| (recognised.operation, recognised.route))
    }

    #[test]
    fn every_messages_operation_is_recognised_on_both_forms() {
        for (prefix, routes) in [
            (format!("/v1/Conversations/{CH}"), DEFAULT_FORM_ROUTES),
            (format!("/v1/Services/{IS}/Conversations/{CH}"), SERVICE_FORM_ROUTES),
            (format!("/v1/Services/{IS}/Conversations/support-room"), SERVICE_FORM_ROUTES),
        ] {
            let list = format!("{prefix}/Messages");
            let item = format!("{list}/{IM}");
            assert_eq!(operation(Method::GET, &list), Some((Operation::List, routes[0])));
            assert_eq!(operation(Method::POST, &list), Some((Operation::Create, routes[0])));
            assert_eq!(operation(Method::GET, &item), Some((Operation::Fetch, routes[1])));
            assert_eq!(operation(Method::POST, &item), Some((Operation::Update, routes[1])));
            assert_eq!(operation(Method::DELETE, &item), Some((Operation::Delete, routes[1])));
        }
    }

    /// Two emulators in the same state, one served whole (the shortcut first), the other by
    /// the router alone: seeded SIDs and a frozen clock make their answers comparable byte
    /// for byte.
    struct BothPaths {
        app: crate::routes::App,
        router: axum::Router,
    }

    /// One request, as sent to both.
    struct Call<'a> {
        method: Method,
        path: String,
        form: &'a str,
        /// Whether the shortcut takes it (otherwise both answers come from the router).
        shortcut: bool,
        /// What the case is, for the failure message.
        case: &'a str,
        /// The headers besides `Host` and `Content-Type`.
        headers: Vec<(HeaderName, &'static str)>,
        /// The body's `Content-Type`.
        content_type: &'static str,
    }

    /// A response's status, `Content-Type` and body.
    type Answer = (StatusCode, Option<HeaderValue>, Bytes);

    impl BothPaths {
        fn new() -> Self {
            let state = || {
                let state = AppState::new(&Config { seed: Some(7), ..Config::defaults() }, "localhost:4747".into());
                state.clock.freeze(Timestamp::parse_rfc3339("2030-01-02T03:04:05Z").expect("a valid instant"));
                state
            };
            let router_state = state();
            Self { app: crate::routes::App::new(state()), router: router(&router_state).with_state(router_state) }
        }

        /// Sends `call` both ways, asserts that the answers are identical, and returns the
        /// body as JSON (`Null` when empty).
        async fn send(&self, call: Call<'_>) -> serde_json::Value {
            let Call { method, path, form, shortcut, case, headers, content_type } = call;
            let context = format!("{case}: {method} {path} {form}");
            let without_query = path.split_once('?').map_or(path.as_str(), |(path, _)| path);
            assert_eq!(recognise(&method, without_query).is_some(), shortcut, "{context}: taken by the shortcut?");
            let request = || {
                let builder = Request::builder()
                    .method(method.clone())
                    .uri(path.as_str())
                    .header(HOST, "emulator.test:4747")
                    .header(CONTENT_TYPE, content_type);
                let builder = headers.iter().fold(builder, |builder, (name, value)| builder.header(name, *value));
                builder.body(Body::from(form.to_owned())).expect("a valid request")
            };
            let via_shortcut = answer(self.app.clone().oneshot(request()).await).await;
            let via_router = answer(self.router.clone().oneshot(request()).await).await;
            assert_eq!(via_shortcut, via_router, "{context}: the shortcut and the router answer differently");
            serde_json::from_slice(&via_shortcut.2).unwrap_or_default()
        }
    }

    async fn answer(response: Result<Response, std::convert::Infallible>) -> Answer {
        let response = response.unwrap_or_else(|never| match never {});
        let content_type = response.headers().get(CONTENT_TYPE).cloned();
        let status = response.status();
        (status, content_type, axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("a body"))
    }

    /// `AC00000000000000000000000000000001:token`.
    const BASIC: &str = "Basic QUMwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMTp0b2tlbg==";

    #[tokio::test]
    async fn every_messages_operation_answers_alike_through_the_shortcut_and_the_router() {
        let both = BothPaths::new();
        let call = |method: Method, path: String, form, shortcut, case| {
            let headers = vec![(AUTHORIZATION, BASIC)];
            Call { method, path, form, shortcut, case, headers, content_type: "application/x-www-form-urlencoded" }
        };
        let service = both.send(call(Method::POST, "/v1/Services".into(), "FriendlyName=s", false, "a service")).await;
        let service = service["sid"].as_str().unwrap_or_else(|| panic!("a service: {service}")).to_owned();
        for conversations in ["/v1/Conversations".to_owned(), format!("/v1/Services/{service}/Conversations")] {
            let created =
                both.send(call(Method::POST, conversations.clone(), "UniqueName=room", false, "a room")).await;
            let room = created["sid"].as_str().expect("a conversation SID").to_owned();
            let messages = format!("{conversations}/{room}/Messages");
            let by_name = format!("{conversations}/room/Messages");
            let unknown = format!("{conversations}/{CH}/Messages");
            let message = both.send(call(Method::POST, messages.clone(), "Author=alice&Body=hi", true, "create")).await;
            let item = format!("{messages}/{}", message["sid"].as_str().expect("a message SID"));
            let cases = [
                (Method::POST, by_name.clone(), "Body=by+name", true, "create by unique name"),
                (Method::POST, unknown.clone(), "Body=x", true, "create in an unknown conversation"),
                (Method::POST, messages.clone(), "Attributes=%7Bbad", true, "create with invalid attributes"),
                (Method::POST, messages.clone(), "DateCreated=yesterday", true, "create with an invalid date"),
                (Method::POST, messages.clone(), "Body=a&Body=b", true, "create with a repeated parameter"),
                (Method::GET, messages.clone(), "", true, "list"),
                (Method::GET, format!("{messages}?Order=desc&PageSize=1"), "", true, "list a page, newest first"),
                (Method::GET, format!("{by_name}?PageSize=1&Page=1"), "", true, "list by unique name, page 1"),
                (Method::GET, format!("{messages}?PageSize=0"), "", true, "list with an invalid page size"),
                (Method::GET, unknown.clone(), "", true, "list an unknown conversation"),
                (Method::GET, format!("{conversations}/CHnot-a-sid/Messages"), "", true, "list a malformed SID"),
                (Method::GET, item.clone(), "", true, "fetch"),
                (Method::GET, format!("{messages}/{IM}"), "", true, "fetch an unknown message"),
                (Method::GET, format!("{messages}/IMnot-a-sid"), "", false, "fetch a malformed message SID"),
                (Method::GET, format!("{unknown}/{IM}"), "", true, "fetch in an unknown conversation"),
                (Method::POST, item.clone(), "Body=edited&Author=bob", true, "update"),
                (Method::POST, item.clone(), "DateUpdated=2024-01-01", true, "update with an invalid date"),
                (Method::POST, format!("{messages}/{IM}"), "Body=x", true, "update an unknown message"),
                (Method::DELETE, format!("{messages}/IMnot-a-sid"), "", false, "delete a malformed message SID"),
                (Method::DELETE, item.clone(), "", true, "delete"),
                (Method::DELETE, item.clone(), "", true, "delete a deleted message"),
                (Method::GET, item.clone(), "", true, "fetch a deleted message"),
            ];
            for (method, path, form, shortcut, case) in cases {
                both.send(call(method, path, form, shortcut, case)).await;
            }
            // The body's type is decided by the same extractor on both paths.
            // The key and value each answer must show: the 415's code, or the body read.
            for (content_type, form, case, key, expected) in [
                ("application/json", r#"{"Body":"x"}"#, "create with a JSON body", "code", json!(19056)),
                (
                    "APPLICATION/X-WWW-FORM-URLENCODED; charset=UTF-8",
                    "Body=upper",
                    "create with an upper-case form type",
                    "body",
                    json!("upper"),
                ),
                (
                    "multipart/form-data; boundary=b",
                    "--b\r\nContent-Disposition: form-data; name=\"Body\"\r\n\r\nmp\r\n--b--\r\n",
                    "create with multipart",
                    "body",
                    json!("mp"),
                ),
                ("application/json", "", "create with an empty JSON-typed body", "author", json!("system")),
            ] {
                let answer =
                    both.send(Call { content_type, ..call(Method::POST, messages.clone(), form, true, case) }).await;
                assert_eq!(answer[key], expected, "{case}: {answer}");
            }
            let no_credentials =
                Call { headers: Vec::new(), ..call(Method::GET, messages.clone(), "", true, "no credentials") };
            both.send(no_credentials).await;
            let wrong_credentials = vec![(AUTHORIZATION, "Basic bm9ib2R5OnRva2Vu")];
            both.send(Call {
                headers: wrong_credentials,
                ..call(Method::POST, messages.clone(), "", true, "invalid username")
            })
            .await;
            let webhook = vec![(AUTHORIZATION, BASIC), (HeaderName::from_static("x-twilio-webhook-enabled"), "maybe")];
            both.send(Call {
                headers: webhook,
                ..call(Method::POST, messages.clone(), "Body=x", true, "invalid webhook header")
            })
            .await;
        }
    }

    #[test]
    fn anything_not_certain_is_left_to_the_router() {
        let left = [
            (Method::DELETE, format!("/v1/Conversations/{CH}/Messages")),
            (Method::HEAD, format!("/v1/Conversations/{CH}/Messages/{IM}")),
            (Method::PUT, format!("/v1/Conversations/{CH}/Messages/{IM}")),
            (Method::GET, format!("/v1/Conversations/{CH}/Messages/IMnot-a-sid")),
            (Method::GET, format!("/v1/Conversations/{CH}/Messages/{IM}/Receipts")),
            (Method::GET, format!("/v1/Conversations/{CH}/Messages/")),
            (Method::GET, format!("/v1/Conversations/{CH}/MessagesX")),
            (Method::GET, "/v1/Conversations//Messages".to_owned()),
            (Method::GET, "/v1/Conversations/support%20room/Messages".to_owned()),
            (Method::GET, format!("/v1/Services/ISnot-a-sid/Conversations/{CH}/Messages")),
            (Method::GET, format!("/v2/Services/{IS}/Channels/{CH}/Messages")),
            (Method::GET, format!("/v1/Conversations/{CH}/Participants")),
        ];
        for (method, path) in left {
            assert_eq!(operation(method.clone(), &path), None, "{method} {path}");
        }
    }
}
