//! The web inspector (`/_emulator/inspector/`): a page served by the binary itself, its
//! assets embedded, that browses the state, follows it live and acts on it.
//!
//! The page talks only to the control plane, with the control token when there is one:
//! - `/_emulator/events`, a server-sent event stream of the store's changes
//!   ([`crate::live`]) and of the webhook delivery log, resumable with `Last-Event-ID`;
//! - `/_emulator/accounts`, the accounts that hold data;
//! - `/_emulator/as/{AC…}/…`, the Twilio REST API acting for an account without its auth
//!   token (strict mode gives the page none), neither journaled nor faulted nor counted:
//!   the page's own reads must not fill the journal that it shows, nor be refused by the
//!   fault rules that a test sets for the application under test;
//! - the existing control endpoints (simulated messages, receipts, deliveries, journal,
//!   faults, clock, reset, state).
//!
//! Every page response carries a strict Content-Security-Policy: scripts and styles only
//! from the page's own origin, no inline script, no frames, no form posts, no plugins.
//! The page renders every string as text; the policy is the second line of defence.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{
    AUTHORIZATION, CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Json, extract::Path};
use bytes::Bytes;
use serde::Serialize;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use crate::config::Config;
use crate::error::{ApiError, InvalidValue};
use crate::extract::ActingAs;
use crate::json::{self, Ascii};
use crate::live::Catchup;
use crate::sid::AccountSid;
use crate::state::{AppState, ControlAccess};
use crate::store::{AccountSummary, Change, Committed};

/// Where the inspector is served.
pub const INSPECTOR_PATH: &str = "/_emulator/inspector/";

/// The prefix of the REST API acting for an account: `/_emulator/as/{AC…}/v1/…`.
pub const ACTING_PREFIX: &str = "/_emulator/as/";

/// The policy of every inspector page and asset. `img-src blob:` lets the page show media
/// it fetched with the control token (an `<img>` cannot send it); `connect-src 'self'` lets
/// it call the control plane and nothing else.
const CONTENT_SECURITY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; \
     connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The page and its assets, embedded in the binary so that it works offline.
const ASSETS: [(&str, &str, &str); 4] = [
    ("", "text/html; charset=utf-8", include_str!("inspector/index.html")),
    ("app.js", "text/javascript; charset=utf-8", include_str!("inspector/app.js")),
    ("app.css", "text/css; charset=utf-8", include_str!("inspector/app.css")),
    ("favicon.svg", "image/svg+xml", include_str!("inspector/favicon.svg")),
];

/// The page and its assets, which need no token (they hold no data; the page asks for
/// it), and the guarded endpoints only the page uses. The caller puts the latter behind
/// the control guard.
pub fn pages() -> Router<AppState> {
    Router::new()
        .route("/_emulator/inspector", get(|| async { Redirect::permanent(INSPECTOR_PATH) }))
        .route("/_emulator/inspector/", get(asset))
        .route("/_emulator/inspector/{asset}", get(asset))
}

/// The endpoints the page reads, to be guarded like the rest of the control plane.
pub fn router() -> Router<AppState> {
    Router::new().route("/_emulator/events", get(events)).route("/_emulator/accounts", get(accounts))
}

/// The URL the start-up log prints, or `None` when the control plane (and so the
/// inspector) is off. A server listening on every interface is reached on loopback.
pub fn url(config: &Config, address: SocketAddr) -> Option<String> {
    if config.no_control {
        return None;
    }
    let base = match &config.public_url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None if address.ip().is_unspecified() => format!("http://localhost:{}", address.port()),
        None => format!("http://{address}"),
    };
    Some(format!("{base}{INSPECTOR_PATH}"))
}

/// `GET /_emulator/inspector/{asset}`: one embedded file, under the page's policy.
async fn asset(State(state): State<AppState>, name: Option<Path<String>>) -> Response {
    if state.settings.control == ControlAccess::Disabled {
        return ApiError::NotFound.into_response();
    }
    let name = name.map(|Path(name)| name).unwrap_or_default();
    let Some((_, content_type, body)) = ASSETS.iter().find(|(file, _, _)| *file == name) else {
        return ApiError::NotFound.into_response();
    };
    let mut response = (*body).into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    // The assets change with the binary: always revalidated, never a stale script.
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// `GET /_emulator/accounts`: every account that holds data.
async fn accounts(State(state): State<AppState>) -> Json<Vec<AccountSummary>> {
    Json(state.store.accounts())
}

/// `GET /_emulator/events`: server-sent events. `change` (id: the change's sequence
/// number) for each committed change; `hello` first on a fresh connection and `reload`
/// when changes after `Last-Event-ID` are no longer known (both with the id to resume
/// from: the page fetches its whole view then); `deliveries` (no id) when the webhook
/// delivery log changed, after the changes that caused the deliveries; a comment every
/// [`KEEP_ALIVE`] so that proxies keep it open.
///
/// The stream is written by hand rather than with axum's `Sse`: every change recorded
/// since the page's last write goes out as one chunk, so a burst of writes costs the page
/// one wake-up and one write, not one per change (BENCHMARKS.md, "The inspector").
async fn events(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let resume = headers.get("last-event-id").and_then(|value| value.to_str().ok()?.trim().parse().ok());
    // A few chunks of slack: a page that stops reading holds up only its own stream.
    let (sender, receiver) = mpsc::channel(16);
    tokio::spawn(stream_events(state, resume, sender));
    let mut response = Body::from_stream(ReceiverStream::new(receiver)).into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// How often an idle stream sends a comment line.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// Feeds one page's stream until the page goes away.
async fn stream_events(state: AppState, resume: Option<u64>, sender: mpsc::Sender<Result<Bytes, Infallible>>) {
    let mut newest = state.live.start();
    let mut deliveries = state.webhooks.log().watch();
    deliveries.mark_unchanged();
    let mut keep_alive = tokio::time::interval_at(tokio::time::Instant::now() + KEEP_ALIVE, KEEP_ALIVE);
    let send = |chunk: Vec<u8>| sender.send(Ok(Bytes::from(chunk)));
    let mut deliveries_pending = false;
    let mut position = match resume {
        Some(position) => position,
        None => {
            let position = state.live.newest();
            let mut hello = json::Json::default();
            write_event(&mut hello, "hello", Some(position), |data| data.serde(&Position { seq: position }));
            if send(hello.into_bytes()).await.is_err() {
                return;
            }
            position
        }
    };
    loop {
        newest.borrow_and_update();
        let mut chunk = json::Json::default();
        match state.live.since(position) {
            Catchup::Changes(changes) => {
                // An event is about 330 bytes: one allocation for the batch, not a regrowth
                // every few events.
                chunk = json::Json::with_capacity(changes.len() * 384);
                for change in &changes {
                    write_event(&mut chunk, "change", Some(change.seq), |data| describe(change).write_json(data));
                }
                position = changes.last().map_or(position, |change| change.seq);
            }
            Catchup::Reload { newest } => {
                write_event(&mut chunk, "reload", Some(newest), |data| data.serde(&Position { seq: newest }));
                position = newest;
            }
        }
        if std::mem::take(&mut deliveries_pending) {
            write_event(&mut chunk, "deliveries", None, |data| data.raw("{}"));
        }
        let chunk = chunk.into_bytes();
        if !chunk.is_empty() && send(chunk).await.is_err() {
            return;
        }
        tokio::select! {
            changed = newest.changed() => if changed.is_err() { return },
            changed = deliveries.changed() => {
                // The changes that caused the deliveries go out first: the page shows a
                // message before the webhooks it fired. The recorder holds them within
                // its gathering time.
                let committed = state.store.last_seq();
                if changed.is_err() || newest.wait_for(|newest| *newest >= committed).await.is_err() {
                    return;
                }
                deliveries_pending = true;
            }
            _ = keep_alive.tick() => {
                if send(b":\n\n".to_vec()).await.is_err() {
                    return;
                }
            }
            () = sender.closed() => return,
        }
    }
}

/// Appends one event to `out` in the wire form of server-sent events, its data written by
/// `data`: JSON on one line (neither serde_json nor [`json::Json`] writes a raw newline), so it
/// needs one `data:` field.
fn write_event(out: &mut json::Json, event: &str, id: Option<u64>, data: impl FnOnce(&mut json::Json)) {
    out.raw("event: ");
    out.raw(event);
    if let Some(id) = id {
        out.raw("\nid: ");
        out.number(id);
    }
    out.raw("\ndata: ");
    data(out);
    out.raw("\n\n");
}

/// The data of `hello` and `reload`: where the page stands.
#[derive(Serialize)]
struct Position {
    seq: u64,
}

/// A change as the page reads it: what kind of record, put or deleted, and where it lives,
/// so that the page refreshes only what it shows of it.
struct ChangeSummary<'a> {
    seq: u64,
    kind: &'static str,
    action: &'static str,
    account: Option<AccountSid>,
    service: Option<Sid<'a>>,
    conversation: Option<Sid<'a>>,
    sid: Option<Sid<'a>>,
    source: Option<&'static str>,
    identity: Option<&'a str>,
}

/// Any SID, written as its ASCII text.
type Sid<'a> = &'a dyn Ascii;

impl ChangeSummary<'_> {
    /// The event's data, one JSON object (absent values are `null`), written with the
    /// message writer's [`json::Json`] rather than serde: the stream describes every change
    /// committed while a page is open, and serde's map of formatted SIDs was most of what
    /// a page cost a write (BENCHMARKS.md, "The inspector").
    fn write_json(&self, out: &mut json::Json) {
        out.raw("{\"seq\":");
        out.number(self.seq);
        out.raw(",\"kind\":");
        out.string(self.kind);
        out.raw(",\"action\":");
        out.string(self.action);
        out.raw(",\"account\":");
        out.opt_ascii(self.account.as_ref());
        out.raw(",\"service\":");
        out.opt_ascii(self.service);
        out.raw(",\"conversation\":");
        out.opt_ascii(self.conversation);
        out.raw(",\"sid\":");
        out.opt_ascii(self.sid);
        out.raw(",\"source\":");
        out.opt_string(self.source);
        out.raw(",\"identity\":");
        out.opt_string(self.identity);
        out.raw("}");
    }
}

fn describe(committed: &Committed) -> ChangeSummary<'_> {
    use Change as C;
    fn text(sid: &dyn Ascii) -> Option<Sid<'_>> {
        Some(sid)
    }
    let (kind, action, service, conversation, sid) = match &committed.change {
        C::OpenAccount { .. } => ("account", "put", None, None, None),
        C::Reset { .. } => ("account", "reset", None, None, None),
        C::PutService { service, .. } => ("service", "put", text(&service.sid), None, text(&service.sid)),
        C::DeleteService { service, .. } => ("service", "delete", text(service), None, text(service)),
        C::PutConversation { conversation: c, .. } => {
            ("conversation", "put", text(&c.chat_service_sid), text(&c.sid), text(&c.sid))
        }
        C::DeleteConversation { service, conversation, .. } => {
            ("conversation", "delete", text(service), text(conversation), text(conversation))
        }
        C::PutMessage { service, message, .. } => {
            ("message", "put", text(service), text(&message.conversation_sid), text(&message.sid))
        }
        C::DeleteMessage { service, conversation, message, .. } => {
            ("message", "delete", text(service), text(conversation), text(message))
        }
        C::ReserveIndices { service, conversation, .. } => {
            ("conversation", "put", text(service), text(conversation), text(conversation))
        }
        C::PutParticipant { service, conversation, participant, .. } => {
            ("participant", "put", text(service), text(conversation), text(&participant.sid))
        }
        C::DeleteParticipant { service, conversation, participant, .. } => {
            ("participant", "delete", text(service), text(conversation), text(participant))
        }
        C::PutMedia { service, media, .. } => ("media", "put", text(service), None, text(&media.sid)),
        C::DeleteMedia { service, media, .. } => ("media", "delete", text(service), None, text(media)),
        C::PutConversationWebhook { service, webhook, .. } => {
            ("webhook", "put", text(service), text(&webhook.conversation_sid), text(&webhook.sid))
        }
        C::DeleteConversationWebhook { service, conversation, webhook, .. } => {
            ("webhook", "delete", text(service), text(conversation), text(webhook))
        }
        C::PutBinding { binding, .. } => ("configuration", "put", text(&binding.chat_service_sid), None, None),
        C::PutInvite { service, invite, .. } => {
            ("invite", "put", text(service), text(&invite.conversation_sid), text(&invite.sid))
        }
        C::DeleteInvite { service, conversation, invite, .. } => {
            ("invite", "delete", text(service), text(conversation), text(invite))
        }
        C::PutUser { user, .. } => ("user", "put", text(&user.chat_service_sid), None, text(&user.sid)),
        C::DeleteUser { service, user, .. } => ("user", "delete", text(service), None, text(user)),
        C::PutAccountWebhooks { .. }
        | C::PutAccountConfiguration { .. }
        | C::PutAddressConfiguration { .. }
        | C::DeleteAddressConfiguration { .. }
        | C::PutCredential { .. }
        | C::DeleteCredential { .. } => ("configuration", "put", None, None, None),
        C::PutServiceWebhooks { service, .. }
        | C::PutServiceConfiguration { service, .. }
        | C::PutRole { service, .. }
        | C::DeleteRole { service, .. }
        | C::DeleteBinding { service, .. }
        | C::PutServiceNotifications { service, .. }
        | C::PutChatServiceSettings { service, .. } => ("configuration", "put", text(service), None, None),
    };
    let origin = committed.origin.as_deref();
    ChangeSummary {
        seq: committed.seq,
        kind,
        action,
        account: committed.change.account(),
        service,
        conversation,
        sid,
        source: origin.map(|origin| origin.source.as_str()),
        identity: origin.and_then(|origin| origin.client_identity.as_deref()),
    }
}

/// A request to `/_emulator/as/{AC…}/{path}` made into the Twilio request `/{path}` acting
/// for that account, once the control token (if any) checks out. The Bearer token is
/// removed: the Twilio routes would read it as failed Basic credentials.
pub fn acting_as(state: &AppState, mut request: Request) -> Result<Request, ApiError> {
    super::check_control(state, request.headers())?;
    let path = request.uri().path();
    let rest = path.strip_prefix(ACTING_PREFIX).ok_or(ApiError::NotFound)?;
    let (account, rest) = rest.split_once('/').unwrap_or((rest, ""));
    let account: AccountSid =
        account.parse().map_err(|_| ApiError::invalid("account", InvalidValue::Malformed(account.to_owned())))?;
    let target = match request.uri().query() {
        Some(query) => format!("/{rest}?{query}"),
        None => format!("/{rest}"),
    };
    *request.uri_mut() = target.parse::<Uri>().map_err(|_| ApiError::NotFound)?;
    request.headers_mut().remove(AUTHORIZATION);
    request.extensions_mut().insert(ActingAs(account));
    Ok(request)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::*;
    use crate::sid::{ChatServiceSid, ConversationSid, MessageSid};
    use crate::store::{Origin, Prior, Source};

    fn change_event(change: Change, origin: Option<Origin>) -> String {
        let committed = Committed { seq: 42, change, before: Prior::Nothing, origin: origin.map(Arc::new) };
        let mut out = json::Json::default();
        write_event(&mut out, "change", Some(committed.seq), |data| describe(&committed).write_json(data));
        String::from_utf8(out.into_bytes()).unwrap()
    }

    #[test]
    fn a_change_event_carries_every_key_of_its_summary_and_escapes_the_identity() {
        let (account, service) = (AccountSid::from_bits(1), ChatServiceSid::from_bits(2));
        let (conversation, message) = (ConversationSid::from_bits(3), MessageSid::from_bits(4));
        let origin = Origin {
            source: Source::Sdk,
            client_identity: Some(Arc::from("al\"ice\n")),
            fires_webhooks: true,
            binding: None,
            correlation: None,
        };
        let event = change_event(Change::DeleteMessage { account, service, conversation, message }, Some(origin));

        let data = event.strip_prefix("event: change\nid: 42\ndata: ").and_then(|rest| rest.strip_suffix("\n\n"));
        let data: serde_json::Value = serde_json::from_str(data.expect("the SSE frame")).unwrap();
        let expected = json!({
            "seq": 42, "kind": "message", "action": "delete", "account": account.to_string(),
            "service": service.to_string(), "conversation": conversation.to_string(), "sid": message.to_string(),
            "source": "SDK", "identity": "al\"ice\n",
        });
        assert_eq!(data, expected);
    }

    #[test]
    fn absent_values_are_null() {
        let event = change_event(Change::Reset { account: None }, None);

        let data = event.lines().find_map(|line| line.strip_prefix("data: ")).expect("a data line");
        let data: serde_json::Value = serde_json::from_str(data).unwrap();
        let expected = json!({
            "seq": 42, "kind": "account", "action": "reset", "account": null, "service": null,
            "conversation": null, "sid": null, "source": null, "identity": null,
        });
        assert_eq!(data, expected);
    }
}
