//! The Messages routes matched by hand, before axum's router sees the request.
//!
//! Messages are the emulator's hot path, and their paths have one fixed shape on each URL
//! form. axum's router pays, on every request, for matching the path against every route,
//! percent-decoding each parameter into its own allocation, and the per-route layers around
//! the handler: about 7,000 instructions of a fetch that costs 30,000 in all (see
//! `BENCHMARKS.md`). Here a well-formed message path is taken apart in place and its parsed
//! parameters handed to the same handlers, through the same middleware ([`super::answer`]).
//!
//! Only what is certain is taken: a malformed SID, a percent-encoded conversation name or
//! another method (`HEAD`, a `405`) goes on to the router, which serves the same routes and
//! answers every edge case exactly as before. The shortcut is an optimisation, never a
//! second definition of the API.

use axum::extract::Request;
use axum::handler::Handler;
use axum::http::Method;
use axum::response::Response;

use super::messages;
use crate::extract::{ConversationScope, MessagePath};
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
    operation: Operation,
    pub(super) route: &'static str,
    scope: ConversationScope,
    message: Option<MessageSid>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Operation {
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
    let message = match rest.strip_prefix("Messages")? {
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
    Some(Recognised { operation, route: routes[usize::from(message.is_some())], scope, message })
}

impl Recognised {
    /// Runs the operation's handler, its path parameters already parsed: the path
    /// extractors find them in the request's extensions.
    pub(super) async fn handle(self, mut request: Request, state: AppState) -> Response {
        match self.message {
            Some(sid) => {
                request.extensions_mut().insert(MessagePath { scope: self.scope, sid });
            }
            None => {
                request.extensions_mut().insert(self.scope);
            }
        }
        match self.operation {
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
    use super::*;

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
