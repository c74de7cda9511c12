//! The one error type of the API and its Twilio-shaped JSON body:
//! `{"code", "message", "more_info", "status"}`. See
//! <https://www.twilio.com/docs/usage/troubleshooting/debugging-your-application>.
//!
//! Every rejection (bad path, query, form, header, credentials, unknown route, wrong method,
//! oversized body) ends up here, so a client never sees a plain-text or empty error.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// Twilio's wording, kept together (as stripe-mock does) so handlers never build messages.
pub mod messages {
    pub const NOT_FOUND_GENERIC: &str = "The requested resource was not found";
    pub const NO_CREDENTIALS: &str = "Authentication Error - No credentials provided";
    pub const INVALID_USERNAME: &str = "Authentication Error - invalid username";
    pub const INVALID_CREDENTIALS: &str = "Authentication Error - invalid credentials";
    pub const AUTH_DETAIL: &str = "Your AccountSid or AuthToken was incorrect.";
    pub const METHOD_NOT_ALLOWED: &str = "Method not allowed";
    pub const PAYLOAD_TOO_LARGE: &str = "Request entity is larger than limits defined by the server";
    pub const ATTRIBUTES_NOT_JSON: &str = "Attributes not valid JSON";
    pub const ATTRIBUTES_TOO_LONG: &str = "Attributes too long";
    pub const BODY_TOO_LONG: &str = "Message body parameter is too long";
    pub const AUTHOR_TOO_LONG: &str = "Author parameter is too long";
    pub const INVALID_DATE_CREATED: &str = "Invalid Date Created parameter";
    pub const INVALID_DATE_UPDATED: &str = "Invalid Date Updated parameter";
    pub const FRIENDLY_NAME_TOO_LONG: &str = "Friendly name too long";
    pub const UNIQUE_NAME_TOO_LONG: &str = "Unique Name too long";
    pub const UNIQUE_NAME_IS_SID: &str = "Unique name should not match conversation SID pattern";
    pub const UNIQUE_NAME_TAKEN: &str = "Conversation with provided unique name already exists";
    pub const DEFAULT_SERVICE_UNDELETABLE: &str = "The default Conversation Service of an account cannot be deleted";
    pub const INTERNAL: &str = "Internal Server Error";
    pub const CHANNEL_NOT_FOUND: &str = "Channel not found";
    pub const PARTICIPANT_EXISTS: &str = "Participant already exists";
    pub const BINDING_EXISTS: &str = "A binding for this participant and proxy address already exists in Conversation";
    pub const TOO_MANY_PARTICIPANTS: &str =
        "Conversation participants limit exceeded: at most 1000 participants, 50 of them SMS or WhatsApp";
    pub const INVALID_MEDIA_SID: &str = "Invalid message media SID";
    pub const MEDIA_NOT_FOUND: &str = "Media not found";
    pub const MEDIA_ALREADY_ATTACHED: &str = "Media already sent with another message";
    pub const MEDIA_BODY_UPDATE: &str = "Media message body update not allowed";
    pub const INVALID_CONTENT_VARIABLES: &str = "The ContentVariables Parameter is invalid";
    pub const CONTROL_TOKEN_REQUIRED: &str =
        "The emulator's control endpoints need `Authorization: Bearer <control token>`";
    pub const CHANNEL_UNIQUE_NAME_TAKEN: &str = "Channel with provided unique name already exists";
    pub const CHANNEL_UNIQUE_NAME_IS_SID: &str = "Unique name should not match channel SID pattern";
    pub const LAST_UPDATED_BY_TOO_LONG: &str = "Last Updated By parameter is too long";
}

/// An API failure. Each variant names the HTTP status and Twilio code it answers with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// 404, code 20404. The body names the request path without `/v1`, as Twilio does; the
    /// response middleware fills it in because only the request knows its path.
    #[error("resource not found")]
    NotFound,
    /// 401, code 20003: no usable `Authorization: Basic` header.
    #[error("no credentials")]
    NoCredentials,
    /// 401, code 20003: a username that is neither an `AC…` nor an `SK…` SID.
    #[error("invalid username")]
    InvalidUsername,
    /// 401, code 20003: a known username with the wrong secret (strict mode only).
    #[error("invalid credentials")]
    InvalidCredentials,
    /// 405, code 20004; the `Allow` header is added by the router.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 413, code 20413: the request body exceeds the server's limit.
    #[error("payload too large")]
    PayloadTooLarge,
    /// 400, code 20001: a parameter or header with a value outside its type or enum.
    #[error("invalid parameter: {0}")]
    InvalidParameter(String),
    /// 400, code 50304.
    #[error("attributes are not valid JSON")]
    AttributesNotJson,
    /// 400, code 50303.
    #[error("attributes too long")]
    AttributesTooLong,
    /// 400, code 50504.
    #[error("body too long")]
    BodyTooLong,
    /// 400, code 50310.
    #[error("author too long")]
    AuthorTooLong,
    /// 400, code 50308.
    #[error("invalid DateCreated")]
    InvalidDateCreated,
    /// 400, code 50309.
    #[error("invalid DateUpdated")]
    InvalidDateUpdated,
    /// 400, code 50003.
    #[error("friendly name too long")]
    FriendlyNameTooLong,
    /// 400, code 50004.
    #[error("unique name too long")]
    UniqueNameTooLong,
    /// 400, code 50390: a unique name shaped like a `CH…` SID would make paths ambiguous.
    #[error("unique name looks like a SID")]
    UniqueNameIsSid,
    /// 409, code 50353.
    #[error("unique name taken")]
    UniqueNameTaken,
    /// 400, code 20001: the account's default service backs `/v1/Conversations`.
    #[error("default service cannot be deleted")]
    DefaultServiceUndeletable,
    /// 404, code 50300: Chat v2's answer for a channel that does not exist.
    #[error("channel not found")]
    ChannelNotFound,
    /// 409, code 50307: Chat v2's duplicate unique name.
    #[error("channel unique name taken")]
    ChannelUniqueNameTaken,
    /// 400, code 50306: Chat v2's unique name shaped like a `CH…` SID.
    #[error("channel unique name looks like a SID")]
    ChannelUniqueNameIsSid,
    /// 400, code 50505.
    #[error("LastUpdatedBy too long")]
    LastUpdatedByTooLong,
    /// 409, code 50433: a participant with this identity is already in the conversation.
    #[error("participant exists")]
    ParticipantExists,
    /// 409, code 50416: a participant with this address and proxy address already exists.
    #[error("binding exists")]
    BindingExists,
    /// 400, code 20001: over 1,000 participants, or over 50 reached by SMS or WhatsApp.
    #[error("too many participants")]
    TooManyParticipants,
    /// 400, code 50510: `MediaSid` is not an `ME…` SID.
    #[error("invalid media SID")]
    InvalidMediaSid,
    /// 400, code 50507: no such upload in the service.
    #[error("media not found")]
    MediaNotFound,
    /// 400, code 50508: the upload is attached to another message.
    #[error("media already attached")]
    MediaAlreadyAttached,
    /// 400, code 50509: the body of a media message cannot be changed.
    #[error("media body update")]
    MediaBodyUpdate,
    /// 400, code 21656: `ContentVariables` is not a JSON object.
    #[error("invalid content variables")]
    InvalidContentVariables,
    /// 401, code 20003: a `/_emulator/` request without the `--control-token`.
    #[error("control token required")]
    ControlTokenRequired,
    /// 500, code 20500. Never expected; logged by the tracing layer.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            Self::NotFound | Self::ChannelNotFound => StatusCode::NOT_FOUND,
            Self::NoCredentials | Self::InvalidUsername | Self::InvalidCredentials | Self::ControlTokenRequired => {
                StatusCode::UNAUTHORIZED
            }
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UniqueNameTaken | Self::ChannelUniqueNameTaken | Self::ParticipantExists | Self::BindingExists => {
                StatusCode::CONFLICT
            }
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    fn code(&self) -> u32 {
        match self {
            Self::NotFound => 20404,
            Self::NoCredentials | Self::InvalidUsername | Self::InvalidCredentials | Self::ControlTokenRequired => {
                20003
            }
            Self::MethodNotAllowed => 20004,
            Self::PayloadTooLarge => 20413,
            Self::InvalidParameter(_) | Self::DefaultServiceUndeletable => 20001,
            Self::AttributesNotJson => 50304,
            Self::AttributesTooLong => 50303,
            Self::BodyTooLong => 50504,
            Self::AuthorTooLong => 50310,
            Self::InvalidDateCreated => 50308,
            Self::InvalidDateUpdated => 50309,
            Self::FriendlyNameTooLong => 50003,
            Self::UniqueNameTooLong => 50004,
            Self::UniqueNameIsSid => 50390,
            Self::UniqueNameTaken => 50353,
            Self::ChannelNotFound => 50300,
            Self::ParticipantExists => 50433,
            Self::BindingExists => 50416,
            Self::TooManyParticipants => 20001,
            Self::InvalidMediaSid => 50510,
            Self::MediaNotFound => 50507,
            Self::MediaAlreadyAttached => 50508,
            Self::MediaBodyUpdate => 50509,
            Self::InvalidContentVariables => 21656,
            Self::ChannelUniqueNameTaken => 50307,
            Self::ChannelUniqueNameIsSid => 50306,
            Self::LastUpdatedByTooLong => 50505,
            Self::Internal(_) => 20500,
        }
    }

    fn message(&self) -> String {
        use messages::*;
        match self {
            Self::NotFound => NOT_FOUND_GENERIC.into(),
            Self::NoCredentials => NO_CREDENTIALS.into(),
            Self::InvalidUsername => INVALID_USERNAME.into(),
            Self::InvalidCredentials => INVALID_CREDENTIALS.into(),
            Self::MethodNotAllowed => METHOD_NOT_ALLOWED.into(),
            Self::PayloadTooLarge => PAYLOAD_TOO_LARGE.into(),
            Self::InvalidParameter(message) => message.clone(),
            Self::AttributesNotJson => ATTRIBUTES_NOT_JSON.into(),
            Self::AttributesTooLong => ATTRIBUTES_TOO_LONG.into(),
            Self::BodyTooLong => BODY_TOO_LONG.into(),
            Self::AuthorTooLong => AUTHOR_TOO_LONG.into(),
            Self::InvalidDateCreated => INVALID_DATE_CREATED.into(),
            Self::InvalidDateUpdated => INVALID_DATE_UPDATED.into(),
            Self::FriendlyNameTooLong => FRIENDLY_NAME_TOO_LONG.into(),
            Self::UniqueNameTooLong => UNIQUE_NAME_TOO_LONG.into(),
            Self::UniqueNameIsSid => UNIQUE_NAME_IS_SID.into(),
            Self::UniqueNameTaken => UNIQUE_NAME_TAKEN.into(),
            Self::DefaultServiceUndeletable => DEFAULT_SERVICE_UNDELETABLE.into(),
            Self::ChannelNotFound => CHANNEL_NOT_FOUND.into(),
            Self::ParticipantExists => PARTICIPANT_EXISTS.into(),
            Self::BindingExists => BINDING_EXISTS.into(),
            Self::TooManyParticipants => TOO_MANY_PARTICIPANTS.into(),
            Self::InvalidMediaSid => INVALID_MEDIA_SID.into(),
            Self::MediaNotFound => MEDIA_NOT_FOUND.into(),
            Self::MediaAlreadyAttached => MEDIA_ALREADY_ATTACHED.into(),
            Self::MediaBodyUpdate => MEDIA_BODY_UPDATE.into(),
            Self::InvalidContentVariables => INVALID_CONTENT_VARIABLES.into(),
            Self::ControlTokenRequired => CONTROL_TOKEN_REQUIRED.into(),
            Self::ChannelUniqueNameTaken => CHANNEL_UNIQUE_NAME_TAKEN.into(),
            Self::ChannelUniqueNameIsSid => CHANNEL_UNIQUE_NAME_IS_SID.into(),
            Self::LastUpdatedByTooLong => LAST_UPDATED_BY_TOO_LONG.into(),
            Self::Internal(_) => INTERNAL.into(),
        }
    }

    /// The Twilio-shaped body for this error.
    pub fn body(&self) -> ErrorBody {
        ErrorBody::new(self.status(), self.code(), self.message())
    }
}

impl ApiError {
    /// Chat v2's reading of a store refusal: its channels have their own codes.
    pub fn from_chat(error: crate::store::StoreError) -> Self {
        use crate::store::StoreError;
        match error {
            StoreError::ConversationNotFound => Self::ChannelNotFound,
            StoreError::UniqueNameTaken => Self::ChannelUniqueNameTaken,
            other => other.into(),
        }
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(error: crate::store::StoreError) -> Self {
        use crate::store::StoreError;
        match error {
            StoreError::NotFound | StoreError::ConversationNotFound => Self::NotFound,
            StoreError::UniqueNameTaken => Self::UniqueNameTaken,
            StoreError::DefaultServiceUndeletable => Self::DefaultServiceUndeletable,
            StoreError::Persistence => Self::Internal("the state file could not be written".to_owned()),
            StoreError::ParticipantExists => Self::ParticipantExists,
            StoreError::BindingExists => Self::BindingExists,
            StoreError::TooManyParticipants => Self::TooManyParticipants,
            StoreError::MediaNotFound => Self::MediaNotFound,
            StoreError::MediaAlreadyAttached => Self::MediaAlreadyAttached,
            StoreError::MediaBodyUpdate => Self::MediaBodyUpdate,
            StoreError::BodyTooLongForSms => Self::BodyTooLong,
            StoreError::ReceiptTransition(from, to) => {
                Self::InvalidParameter(format!("A receipt cannot go from {from} to {to}"))
            }
            StoreError::IndicesExhausted => {
                Self::InvalidParameter("The conversation has no message index left to give".to_owned())
            }
            // No route commits a proposal yet; one that is overtaken is retried by its caller.
            StoreError::Conflict => Self::Internal("a proposed change was overtaken".to_owned()),
        }
    }
}

impl From<crate::store::document::ImportError> for ApiError {
    fn from(error: crate::store::document::ImportError) -> Self {
        ApiError::InvalidParameter(format!("Invalid state document: {error}"))
    }
}

impl From<crate::store::ImportFailure> for ApiError {
    fn from(failure: crate::store::ImportFailure) -> Self {
        match failure {
            crate::store::ImportFailure::Invalid(error) => error.into(),
            crate::store::ImportFailure::NotDurable => crate::store::StoreError::Persistence.into(),
        }
    }
}

/// Marks a 404 response whose message still needs the request path (see
/// the router's middleware, `crate::routes::twilio_envelope`).
#[derive(Clone, Copy, Debug)]
pub struct NeedsResourcePath;

/// The JSON body of every error response.
#[derive(Debug, Serialize)]
pub struct ErrorBody {
    pub code: u32,
    pub message: String,
    pub more_info: String,
    pub status: u16,
    /// Only on 401s, as observed on the real API.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<&'static str>,
}

impl ErrorBody {
    /// A body for `status` with Twilio error `code`; `more_info` points at its doc page.
    pub fn new(status: StatusCode, code: u32, message: String) -> Self {
        let detail = (status == StatusCode::UNAUTHORIZED).then_some(messages::AUTH_DETAIL);
        Self {
            code,
            message,
            more_info: format!("https://www.twilio.com/docs/errors/{code}"),
            status: status.as_u16(),
            detail,
        }
    }

    /// The body for a missing resource at `path` (the request path without its version).
    pub fn not_found(path: &str) -> Self {
        // Twilio names the resource without its API version: `/v1/…` and `/v2/…` alike.
        let resource = ["/v1", "/v2"]
            .iter()
            .find_map(|version| path.strip_prefix(version))
            .filter(|rest| rest.starts_with('/'))
            .unwrap_or(path);
        let message = format!("The requested resource {resource} was not found");
        Self::new(StatusCode::NOT_FOUND, 20404, message)
    }

    /// Renders the body with its HTTP status.
    pub fn into_response_with_status(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, Json(self)).into_response()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Self::Internal(cause) = &self {
            tracing::error!(%cause, "internal error");
        }
        let mut response = self.body().into_response_with_status();
        match self {
            Self::NotFound => {
                response.extensions_mut().insert(NeedsResourcePath);
            }
            Self::NoCredentials | Self::InvalidUsername | Self::InvalidCredentials => {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"Twilio API\""));
            }
            _ => {}
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_names_the_path_without_version() {
        let body = ErrorBody::not_found("/v1/Conversations/CHx/Messages");
        assert_eq!(body.message, "The requested resource /Conversations/CHx/Messages was not found");
        assert_eq!((body.code, body.status), (20404, 404));
        assert_eq!(body.more_info, "https://www.twilio.com/docs/errors/20404");
        let chat = ErrorBody::not_found("/v2/Services/ISx/Channels/CHx");
        assert_eq!(chat.message, "The requested resource /Services/ISx/Channels/CHx was not found");
        assert_eq!(ErrorBody::not_found("/v1x").message, "The requested resource /v1x was not found");
    }

    #[test]
    fn every_variant_maps_to_a_4xx_or_documented_500() {
        let all = [
            ApiError::NotFound,
            ApiError::NoCredentials,
            ApiError::MethodNotAllowed,
            ApiError::PayloadTooLarge,
            ApiError::InvalidParameter("x".into()),
            ApiError::AttributesNotJson,
            ApiError::UniqueNameTaken,
        ];
        for error in all {
            assert!(error.status().is_client_error(), "{error:?}");
        }
    }
}
