//! One webhook request on the wire: built as Twilio builds it (form body or query string,
//! its headers, its signature) and sent with a time limit.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::Serialize;

use super::event::Params;
use super::sign::signature;
use crate::store::webhook_model::HttpMethod;

/// How much of a receiver's answer is kept (for the delivery log and a pre-event's JSON).
pub const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// The client every delivery shares: hyper's, with its connection pool, so a receiver
/// that keeps connections open is not reconnected to for every event.
pub type HttpClient = Client<HttpConnector, Full<Bytes>>;

pub fn client() -> HttpClient {
    Client::builder(TokioExecutor::new()).pool_idle_timeout(Duration::from_secs(30)).build_http()
}

/// A request as it was sent: what the delivery log shows and a redelivery sends again.
#[derive(Clone, Debug, Serialize)]
pub struct SentRequest {
    pub method: &'static str,
    /// The URL requested, with the parameters in its query string for `GET`, without any
    /// user name and password (which go in `Authorization`).
    pub url: String,
    pub headers: Vec<(String, String)>,
    /// The form, as text; shared with the request that sends it rather than copied.
    #[serde(serialize_with = "as_text")]
    pub body: Bytes,
}

fn as_text<S: serde::Serializer>(body: &Bytes, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&String::from_utf8_lossy(body))
}

/// What the receiver answered.
#[derive(Clone, Debug, Serialize)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// As text (invalid UTF-8 replaced), cut at [`MAX_ANSWER_BYTES`].
    pub body: String,
    pub truncated: bool,
}

/// Why no answer came.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    #[error("no answer within {0} ms")]
    TimedOut(u128),
    #[error("{0}")]
    Unreachable(String),
}

/// The webhook URL as configured, split into what is requested and signed (the URL
/// without user information) and the user information, which Twilio sends as HTTP Basic
/// credentials and leaves out of the signature.
fn split_userinfo(url: &str) -> (String, Option<String>) {
    let Some((scheme, rest)) = url.split_once("://") else {
        return (url.to_owned(), None);
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rsplit_once('@') {
        Some((userinfo, host)) => (format!("{scheme}://{host}{}", &rest[authority_end..]), Some(userinfo.to_owned())),
        None => (url.to_owned(), None),
    }
}

/// The request for one attempt at delivering `params` to `url`, signed with `token`.
pub fn build(
    url: &str,
    method: HttpMethod,
    params: &Params,
    retry_count: u32,
    token: &str,
    idempotency_token: &str,
) -> SentRequest {
    let (url, userinfo) = split_userinfo(url);
    let retry_count = retry_count.to_string();
    let form =
        || params.0.iter().map(|(name, value)| (*name, value.as_str())).chain([("RetryCount", retry_count.as_str())]);
    let mut serializer = form_urlencoded::Serializer::new(String::with_capacity(512));
    serializer.extend_pairs(form());
    let encoded = serializer.finish();
    let (url, body, signed) = match method {
        // Parameters go in the query string, after any the URL already has.
        HttpMethod::Get => {
            let separator = if url.contains('?') { '&' } else { '?' };
            let url = format!("{url}{separator}{encoded}");
            let signed = signature(token, &url, []);
            (url, Bytes::new(), signed)
        }
        HttpMethod::Post => {
            let signed = signature(token, &url, form());
            (url, Bytes::from(encoded), signed)
        }
    };
    let mut headers = vec![
        ("Accept".to_owned(), "*/*".to_owned()),
        ("User-Agent".to_owned(), "TwilioProxy/1.1".to_owned()),
        ("X-Twilio-Signature".to_owned(), signed),
        ("I-Twilio-Idempotency-Token".to_owned(), idempotency_token.to_owned()),
        ("X-Home-Region".to_owned(), "us1".to_owned()),
    ];
    if method == HttpMethod::Post {
        headers.push(("Content-Type".to_owned(), "application/x-www-form-urlencoded; charset=utf-8".to_owned()));
    }
    if let Some(userinfo) = userinfo {
        use base64::Engine;
        let decoded = percent_decode(&userinfo);
        headers.push((
            "Authorization".to_owned(),
            format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(decoded)),
        ));
    }
    SentRequest { method: method.upper(), url, headers, body }
}

fn percent_decode(text: &str) -> String {
    form_urlencoded::parse(format!("x={}", text.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default()
}

/// Sends `request`, waiting at most `timeout` for the whole answer.
pub async fn send(
    client: &HttpClient,
    request: &SentRequest,
    timeout: Duration,
) -> (Result<Answer, Failure>, Duration) {
    let started = Instant::now();
    let outcome = match tokio::time::timeout(timeout, exchange(client, request)).await {
        Ok(outcome) => outcome,
        Err(_) => Err(Failure::TimedOut(timeout.as_millis())),
    };
    // At `debug`: every delivery the emulator makes, for a user whose app seems not to
    // receive them (the delivery log at `/_emulator/webhooks/deliveries` holds the rest).
    match &outcome {
        Ok(answer) => {
            tracing::debug!(method = request.method, url = %request.url, status = answer.status, "webhook sent")
        }
        Err(failure) => tracing::debug!(method = request.method, url = %request.url, %failure, "webhook failed"),
    }
    (outcome, started.elapsed())
}

async fn exchange(client: &HttpClient, request: &SentRequest) -> Result<Answer, Failure> {
    if request.url.starts_with("https://") {
        return Err(Failure::Unreachable(
            "https webhook URLs are not supported by the emulator: point it at your app over http".to_owned(),
        ));
    }
    let mut builder = http::Request::builder().method(request.method).uri(&request.url);
    for (name, value) in &request.headers {
        builder = builder.header(name, value);
    }
    let http_request = builder
        .body(Full::new(request.body.clone()))
        .map_err(|error| Failure::Unreachable(format!("invalid webhook URL `{}`: {error}", request.url)))?;
    let response = client.request(http_request).await.map_err(|error| Failure::Unreachable(describe(&error)))?;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(name, value)| (name.to_string(), String::from_utf8_lossy(value.as_bytes()).into_owned()))
        .collect();
    let mut body = response.into_body();
    let mut kept = Vec::new();
    let mut truncated = false;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|error| Failure::Unreachable(format!("the answer broke off: {error}")))?;
        if let Some(data) = frame.data_ref() {
            let room = MAX_ANSWER_BYTES - kept.len();
            if data.len() > room {
                kept.extend_from_slice(&data[..room]);
                truncated = true;
                break;
            }
            kept.extend_from_slice(data);
        }
    }
    Ok(Answer { status, headers, body: String::from_utf8_lossy(&kept).into_owned(), truncated })
}

/// The error and its causes in one line ("connection refused", not only "client error").
fn describe(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> Params {
        let mut params = Params::default();
        params.put("EventType", "onMessageAdded");
        params.put("Body", "hi there & more");
        params
    }

    #[test]
    fn post_puts_parameters_in_a_signed_form_body() {
        let request = build("http://127.0.0.1:9/hook", HttpMethod::Post, &params(), 0, "token", "idem");
        assert_eq!(request.url, "http://127.0.0.1:9/hook");
        assert_eq!(request.body, "EventType=onMessageAdded&Body=hi+there+%26+more&RetryCount=0");
        let form = [("EventType", "onMessageAdded"), ("Body", "hi there & more"), ("RetryCount", "0")];
        let header = |name: &str| request.headers.iter().find(|(key, _)| key == name).map(|(_, v)| v.clone());
        assert_eq!(header("X-Twilio-Signature"), Some(signature("token", "http://127.0.0.1:9/hook", form)));
        assert_eq!(header("User-Agent").as_deref(), Some("TwilioProxy/1.1"));
    }

    #[test]
    fn get_appends_parameters_to_the_query_and_signs_the_url_alone() {
        let request = build("http://127.0.0.1:9/hook?app=1", HttpMethod::Get, &params(), 2, "token", "idem");
        assert_eq!(
            request.url,
            "http://127.0.0.1:9/hook?app=1&EventType=onMessageAdded&Body=hi+there+%26+more&RetryCount=2"
        );
        assert!(request.body.is_empty());
        let signed = request.headers.iter().find(|(key, _)| key == "X-Twilio-Signature").map(|(_, v)| v.clone());
        assert_eq!(signed, Some(signature("token", &request.url, [])));
    }

    #[test]
    fn user_information_becomes_basic_credentials_outside_the_signature() {
        let request = build("http://user:p%40ss@127.0.0.1:9/hook", HttpMethod::Post, &params(), 0, "token", "idem");
        assert_eq!(request.url, "http://127.0.0.1:9/hook");
        let authorization = request.headers.iter().find(|(key, _)| key == "Authorization").map(|(_, v)| v.clone());
        assert_eq!(authorization.as_deref(), Some("Basic dXNlcjpwQHNz"));
    }
}
