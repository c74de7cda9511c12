//! Media uploads, in the shape of Twilio's Media Content Service (`mcs.us1.twilio.com`):
//! `POST /v1/Services/{IS}/Media` with the raw bytes and their `Content-Type`, then
//! `GET …/Media/{ME}` for the metadata and `GET …/Media/{ME}/Content` for the bytes. The
//! `ME…` SID is then passed as `MediaSid` when creating a message.
//! <https://www.twilio.com/docs/conversations/api/media-resource>

use axum::body::{Body, Bytes};
use axum::extract::{FromRequestParts, Request};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_SECURITY_POLICY, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, InvalidValue};
use crate::extract::{ApiCall, ServicePath, TwilioQuery, path_params};
use crate::sid::{ChatServiceSid, ConversationSid, MediaSid, MessageSid};
use crate::state::AppState;
use crate::store::Upload;
use crate::store::model::Media;
use crate::time::Timestamp;

/// The upload route: its bodies are files, limited by `--max-media-bytes` (refused with
/// 50512) rather than `--max-body-bytes` (`crate::routes::observe` reads them).
pub(crate) const UPLOAD_ROUTE: &str = "/v1/Services/{ChatServiceSid}/Media";

/// The routes under `/v1/Services/{ChatServiceSid}/Media`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(UPLOAD_ROUTE, post(upload))
        .route("/v1/Services/{ChatServiceSid}/Media/{MediaSid}", get(fetch))
        .route("/v1/Services/{ChatServiceSid}/Media/{MediaSid}/Content", get(content))
}

/// Optional upload details; the file name can also come from `Content-Disposition`.
#[derive(Debug, Deserialize)]
struct UploadParams {
    #[serde(rename = "Filename")]
    filename: Option<String>,
    #[serde(rename = "Author")]
    author: Option<String>,
}

/// Upload a file: <https://www.twilio.com/docs/conversations/api/media-resource#create-a-media-resource>
async fn upload(
    ApiCall { state, account, base }: ApiCall,
    ServicePath(scope): ServicePath,
    TwilioQuery(params): TwilioQuery<UploadParams>,
    request: Request,
) -> Result<(StatusCode, Json<MediaResource>), ApiError> {
    let service = scope.explicit().ok_or(ApiError::NotFound)?;
    let headers = request.headers();
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ApiError::invalid("Content-Type", InvalidValue::MissingHeader))?
        .to_owned();
    let filename = params.filename.or_else(|| filename_from_disposition(headers.get(CONTENT_DISPOSITION)));
    let content = crate::extract::read_body(request.into_body(), state.settings.max_media_bytes)
        .await
        .map_err(|_| ApiError::MediaTooLarge)?;
    let upload = Upload { content_type, filename, author: params.author, content };
    let media = state.store.upload_media_within(account, service, upload, state.settings.media_quota_bytes)?;
    Ok((StatusCode::CREATED, Json(MediaResource { service, base, media })))
}

/// Fetch an upload's metadata: <https://www.twilio.com/docs/conversations/api/media-resource#fetch-a-media-resource>
async fn fetch(
    ApiCall { state, account, base }: ApiCall,
    ServicePath(scope): ServicePath,
    media: MediaPath,
) -> Result<Json<MediaResource>, ApiError> {
    let service = scope.explicit().ok_or(ApiError::NotFound)?;
    let media = state.store.fetch_media(account, service, media.0)?;
    Ok(Json(MediaResource { service, base, media }))
}

/// Download an upload's bytes, with the `Content-Type` it was uploaded with.
///
/// Anyone can upload anything, and the emulator serves it from its own origin, where the
/// web inspector and the control plane live: so the browser is told never to sniff a type
/// (`nosniff`), to run nothing the file holds (a sandboxing `Content-Security-Policy`),
/// and to download rather than render the types that can carry script.
async fn content(
    ApiCall { state, account, .. }: ApiCall,
    ServicePath(scope): ServicePath,
    media: MediaPath,
) -> Result<Response, ApiError> {
    let media = state.store.fetch_media(account, scope.explicit().ok_or(ApiError::NotFound)?, media.0)?;
    let content_type = HeaderValue::from_str(&media.content_type)
        .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
    let disposition = if can_carry_script(&media.content_type) { "attachment" } else { "inline" };
    let headers = [
        (CONTENT_TYPE, content_type),
        (X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        (CONTENT_SECURITY_POLICY, HeaderValue::from_static(MEDIA_CONTENT_SECURITY_POLICY)),
        (CONTENT_DISPOSITION, HeaderValue::from_static(disposition)),
    ];
    Ok((headers, Body::from(Bytes::clone(&media.content))).into_response())
}

/// What served media may do in a browser: nothing (no script, no plugin, no request, no
/// form, an opaque origin); images and media still display when opened directly.
const MEDIA_CONTENT_SECURITY_POLICY: &str = "sandbox; default-src 'none'; img-src 'self' data:; media-src 'self'";

/// Whether a browser could run script from a file of this type: HTML, XHTML, SVG, any XML
/// (which can pull in XSLT and XHTML), XSL and JavaScript.
fn can_carry_script(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    matches!(essence.as_str(), "text/html" | "text/xml" | "application/xml" | "text/xsl" | "application/xslt+xml")
        || essence.ends_with("+xml")
        || essence.contains("javascript")
        || essence.contains("ecmascript")
        || essence.contains("html")
}

/// The `{MediaSid}` path parameter; a malformed SID names nothing.
struct MediaPath(MediaSid);

impl<S: Send + Sync> FromRequestParts<S> for MediaPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, ApiError> {
        let params = path_params(parts, state).await?;
        params.get("MediaSid").and_then(|raw| raw.parse().ok()).map(Self).ok_or(ApiError::NotFound)
    }
}

/// `filename="…"` from a `Content-Disposition` header.
fn filename_from_disposition(header: Option<&HeaderValue>) -> Option<String> {
    let value = header?.to_str().ok()?;
    let start = value.find("filename=")? + "filename=".len();
    let name = value[start..].split(';').next()?.trim().trim_matches('"');
    (!name.is_empty()).then(|| name.to_owned())
}

/// An upload's metadata as the Media Content Service renders it. Its `url` and
/// `links.content` are paths relative to the MCS host, as on Twilio.
#[derive(Debug)]
pub struct MediaResource {
    service: ChatServiceSid,
    base: std::sync::Arc<str>,
    media: Media,
}

#[derive(Serialize)]
struct MediaWire<'a> {
    sid: MediaSid,
    service_sid: ChatServiceSid,
    date_created: Timestamp,
    date_upload_completed: Timestamp,
    date_updated: Timestamp,
    links: MediaLinks,
    size: usize,
    content_type: &'a str,
    filename: Option<&'a str>,
    author: &'a str,
    category: &'static str,
    message_sid: Option<MessageSid>,
    channel_sid: Option<ConversationSid>,
    url: String,
    is_multipart_upstream: bool,
}

#[derive(Serialize)]
struct MediaLinks {
    content: String,
    content_direct_temporary: String,
}

impl Serialize for MediaResource {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let media = &self.media;
        let path = format!("/v1/Services/{}/Media/{}", self.service, media.sid);
        MediaWire {
            sid: media.sid,
            service_sid: self.service,
            date_created: media.date_created,
            date_upload_completed: media.date_created,
            date_updated: media.date_created,
            links: MediaLinks {
                content: format!("{path}/Content"),
                content_direct_temporary: format!("{}{path}/Content", self.base),
            },
            size: media.content.len(),
            content_type: &media.content_type,
            filename: media.filename.as_deref(),
            author: media.author.as_deref().unwrap_or("system"),
            category: "media",
            message_sid: media.attached_to.map(|(_, message)| message),
            channel_sid: media.attached_to.map(|(conversation, _)| conversation),
            url: path,
            is_multipart_upstream: false,
        }
        .serialize(serializer)
    }
}
