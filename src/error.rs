//! The one error type of the API and its Twilio-shaped JSON body:
//! `{"code", "message", "more_info", "status"}`. See
//! <https://www.twilio.com/docs/usage/troubleshooting/debugging-your-application>.
//!
//! Every rejection (bad path, query, form, header, credentials, unknown route, wrong method,
//! oversized body) ends up here, so a client never sees a plain-text or empty error.

use std::borrow::Cow;
use std::fmt;

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
    pub const AMBIGUOUS_CREDENTIALS: &str = "Authentication Error - more than one Authorization header";
    pub const METHOD_NOT_ALLOWED: &str = "Method not allowed";
    pub const PAYLOAD_TOO_LARGE: &str = "Request entity is larger than limits defined by the server";
    /// <https://www.twilio.com/docs/api/errors/19056>, and what the API takes instead.
    pub const UNSUPPORTED_MEDIA_TYPE: &str = "Input request content type is invalid: the API takes \
         application/x-www-form-urlencoded (or multipart/form-data) request bodies";
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
    pub const NO_MESSAGE_INDEX_LEFT: &str = "The conversation has no message index left to give";
    pub const EMPTY_FAULT_RULE: &str = "A fault rule needs an `error`, a `latency_ms`, or both";
    pub const WEBHOOK_REJECTED: &str = "Webhook disabled processing of command";
    pub const MEMBER_EXISTS: &str = "Member already exists";
    pub const MEMBER_NOT_FOUND: &str = "Member not found";
    /// <https://www.twilio.com/docs/api/errors/50200>
    pub const CHAT_USER_NOT_FOUND: &str = "User not found";
    /// <https://www.twilio.com/docs/api/errors/50100>
    pub const CHAT_ROLE_NOT_FOUND: &str = "Role not found";
    /// <https://www.twilio.com/docs/api/errors/50105>
    pub const CHAT_INVALID_ROLE_TYPE: &str = "Invalid role type";
    /// <https://www.twilio.com/docs/api/errors/50400>
    pub const CHAT_USER_NOT_MEMBER: &str = "User not member of channel";
    /// <https://www.twilio.com/docs/api/errors/50206>
    pub const CHAT_IDENTITY_IS_SID: &str = "Identity should not match user SID pattern";
    pub const SERVICE_INSTANCE_NOT_FOUND: &str = "Service Instance not found";
    pub const CONVERSATION_WEBHOOK_NOT_FOUND: &str = "Conversation webhook not found";
    pub const TOO_MANY_CONVERSATION_WEBHOOKS: &str = "Too many conversation webhooks";
    pub const INVALID_CONVERSATION_WEBHOOK_SID: &str = "Invalid conversation webhook SID";
    pub const INVALID_CONVERSATION_WEBHOOK_TYPE: &str = "Invalid conversation webhook type";
    pub const INVALID_CONVERSATION_WEBHOOK_FILTER: &str = "Invalid conversation webhook filter";
    pub const INVALID_CONVERSATION_WEBHOOK_TRIGGER: &str = "Invalid conversation webhook trigger";
    pub const INVALID_CONVERSATION_WEBHOOK_FLOW_SID: &str = "Invalid conversation webhook flow SID";
    pub const CONVERSATION_WEBHOOK_TYPE_MISSING: &str = "Conversation webhook type not provided";
    pub const CONVERSATION_WEBHOOK_URL_MISSING: &str = "Conversation webhook URL not provided";
    pub const CONVERSATION_WEBHOOK_FILTER_MISSING: &str = "Conversation webhook filter not provided";
    pub const CONVERSATION_WEBHOOK_TRIGGER_MISSING: &str = "Conversation webhook trigger not provided";
    pub const ADDRESS_CONFIGURATION_EXISTS: &str = "An Address Configuration for this address and type already exists";
    /// <https://www.twilio.com/docs/api/errors/50377>
    pub const CONVERSATION_CLOSED: &str = "Can't update conversation as it's in final closed state";
    /// <https://www.twilio.com/docs/api/errors/50375>
    pub const INACTIVE_TIMER_TOO_SHORT: &str = "TimeToInactive should be greater or equal to 1 minute";
    /// <https://www.twilio.com/docs/api/errors/50376>
    pub const CLOSED_TIMER_TOO_SHORT: &str = "TimeToClosed should be greater or equal to 10 minutes";
    /// <https://www.twilio.com/docs/api/errors/50379>
    pub const INACTIVE_TIMER_INVALID: &str = "TimeToInactive format is invalid";
    /// <https://www.twilio.com/docs/api/errors/50380>
    pub const CLOSED_TIMER_INVALID: &str = "TimeToClosed format is invalid";
    pub const DEFAULT_ROLE_UNDELETABLE: &str = "The default roles of a Conversation Service cannot be deleted";
    pub const USER_EXISTS: &str = "User already exists";
    pub const ROLE_SID_NOT_FOUND: &str = "Role not found: the RoleSid names no role of this service";
    pub const ROLE_SID_WRONG_TYPE: &str =
        "Invalid role type: a participant or member takes a conversation (channel) role, a user a service role";
    pub const INVITE_EXISTS: &str = "An invite for this identity already exists in the channel";
    pub const PROXY_OFF: &str =
        "Proxy mode is off: the emulator has no certificate authority (its start-up log says why)";
    pub const MALFORMED_REQUEST: &str = "Bad Request: the request is not valid HTTP/1.1";
    pub const URI_TOO_LONG: &str = "URI Too Long: the request target is longer than 64 KiB";
    pub const HEADERS_TOO_LARGE: &str = "Request Header Fields Too Large: over 100 headers, or a head over 400 KiB";
    pub const MEDIA_TOO_LARGE: &str = "Message media size is too large";
    pub const MEDIA_QUOTA_EXCEEDED: &str = "The account's media storage quota is exceeded: delete unused media first";
}

/// An API failure. Each variant's HTTP status, Twilio code and message are one row of the
/// table in [`ApiError::row`]; its `Display` is the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// 404, code 20404. The body names the request path without `/v1`, as Twilio does; the
    /// response middleware fills it in because only the request knows its path.
    NotFound,
    /// 401, code 20003: no usable `Authorization: Basic` header.
    NoCredentials,
    /// 401, code 20003: a username that is neither an `AC…` nor an `SK…` SID.
    InvalidUsername,
    /// 401, code 20003: a known username with the wrong secret (strict mode only).
    InvalidCredentials,
    /// 401, code 20003: more than one `Authorization` header.
    AmbiguousCredentials,
    /// 405, code 20004; the `Allow` header is added by the router.
    MethodNotAllowed,
    /// 413, code 20413: the request body exceeds the server's limit.
    PayloadTooLarge,
    /// 415, code 19056: a request body that is neither a form nor multipart form data.
    /// Twilio's HTTP status for it is unconfirmed (README, "Request bodies").
    UnsupportedMediaType,
    /// 400, code 20001: a `multipart/form-data` part that is a file (it has a filename);
    /// the API's parameters are text.
    MultipartFile { name: String },
    /// 400, code 20001: a parameter, header or body refused; [`InvalidParameter`] says
    /// which and why.
    InvalidParameter(InvalidParameter),
    /// 400, code 50304.
    AttributesNotJson,
    /// 400, code 50303.
    AttributesTooLong,
    /// 400, code 50504.
    BodyTooLong,
    /// 400, code 50310.
    AuthorTooLong,
    /// 400, code 50308.
    InvalidDateCreated,
    /// 400, code 50309.
    InvalidDateUpdated,
    /// 400, code 50003.
    FriendlyNameTooLong,
    /// 400, code 50004.
    UniqueNameTooLong,
    /// 400, code 50390: a unique name shaped like a `CH…` SID would make paths ambiguous.
    UniqueNameIsSid,
    /// 409, code 50353.
    UniqueNameTaken,
    /// 400, code 20001: the account's default service backs `/v1/Conversations`.
    DefaultServiceUndeletable,
    /// 404, code 50300: Chat v2's answer for a channel that does not exist.
    ChannelNotFound,
    /// 409, code 50307: Chat v2's duplicate unique name.
    ChannelUniqueNameTaken,
    /// 400, code 50306: Chat v2's unique name shaped like a `CH…` SID.
    ChannelUniqueNameIsSid,
    /// 400, code 50505.
    LastUpdatedByTooLong,
    /// 409, code 50433: a participant with this identity is already in the conversation.
    ParticipantExists,
    /// 409, code 50416: a participant with this address and proxy address already exists.
    BindingExists,
    /// 400, code 20001: over 1,000 participants, or over 50 reached by SMS or WhatsApp.
    TooManyParticipants,
    /// 400, code 50510: `MediaSid` is not an `ME…` SID.
    InvalidMediaSid,
    /// 400, code 50507: no such upload in the service.
    MediaNotFound,
    /// 400, code 50508: the upload is attached to another message.
    MediaAlreadyAttached,
    /// 400, code 50509: the body of a media message cannot be changed.
    MediaBodyUpdate,
    /// 400, code 21656: `ContentVariables` is not a JSON object.
    InvalidContentVariables,
    /// 401, code 20003: a `/_emulator/` request without the `--control-token`.
    ControlTokenRequired,
    /// 400, code 20001: the conversation has used every message index there is.
    NoMessageIndexLeft,
    /// 400, code 20001: a fault rule with neither an error nor a latency would do nothing.
    EmptyFaultRule,
    /// 400, code 20001: the fault rule table holds `max` rules already.
    TooManyFaultRules { max: usize },
    /// 403, code 50056: a pre-event webhook answered 4xx or 5xx, so the action was not
    /// taken. Twilio's status for it is unconfirmed (README, "Webhooks").
    WebhookRejected,
    /// 409, code 50404: Chat v2: a member with this identity is in the channel already.
    MemberExists,
    /// 404, code 50402: Chat v2: no such member in the channel.
    MemberNotFound,
    /// 404, code 50200: Chat v2: no such user in the service.
    ChatUserNotFound,
    /// 404, code 50100: Chat v2: no such role in the service.
    ChatRoleNotFound,
    /// 400, code 50105: Chat v2: a role `Type` other than `channel` or `deployment`.
    ChatInvalidRoleType,
    /// 404, code 50400: Chat v2: the user's identity is not a member of the channel (the
    /// status is unconfirmed; 404 as for the other missing Chat records).
    ChatUserNotMember,
    /// 400, code 50206: Chat v2: an `Identity` shaped like a `US…` SID would make the
    /// user's paths ambiguous.
    ChatIdentityIsSid,
    /// 404, code 20404: a simulated inbound message that no conversation binds and no
    /// Address Configuration autocreates a conversation for.
    InboundUnrouted { from: String, to: String },
    /// 400, code 50050: a parameter (`DefaultChatServiceSid`,
    /// `AutoCreation.ConversationServiceSid`) names a service the account does not have.
    ServiceInstanceNotFound,
    /// 404, code 50360: no webhook with this SID in the conversation.
    ConversationWebhookNotFound,
    /// 400, code 50361: the conversation has five webhooks already.
    TooManyConversationWebhooks,
    /// 400, code 50363: the path's webhook SID is not a `WH…` SID.
    InvalidConversationWebhookSid,
    /// 400, code 50364: `Target` is not `webhook`, `trigger` or `studio`.
    InvalidConversationWebhookType,
    /// 400, code 50365: a `Configuration.Filters` value is not a post-event name.
    InvalidConversationWebhookFilter,
    /// 400, code 50366: a `Configuration.Triggers` keyword is empty or over 248 characters.
    InvalidConversationWebhookTrigger,
    /// 400, code 50367: `Configuration.FlowSid` is not an `FW…` SID.
    InvalidConversationWebhookFlowSid,
    /// 400, code 50368: no `Target`.
    ConversationWebhookTypeMissing,
    /// 400, code 50369: no `Configuration.Url` for a `webhook` or `trigger` target.
    ConversationWebhookUrlMissing,
    /// 400, code 50370: no `Configuration.Filters` for a `webhook` target.
    ConversationWebhookFilterMissing,
    /// 400, code 50371: no `Configuration.Triggers` for a `trigger` target.
    ConversationWebhookTriggerMissing,
    /// 409, code 20001: the address has a configuration of this type already.
    AddressConfigurationExists,
    /// 400, code 50377: a new message or participant in a closed conversation, or an
    /// attempt to reactivate it. Twilio's status for it is unconfirmed.
    ConversationClosed,
    /// 400, code 50375: `Timers.Inactive` shorter than one minute.
    InactiveTimerTooShort,
    /// 400, code 50376: `Timers.Closed` shorter than ten minutes.
    ClosedTimerTooShort,
    /// 400, code 50379: `Timers.Inactive` is not an ISO 8601 duration.
    InactiveTimerInvalid,
    /// 400, code 50380: `Timers.Closed` is not an ISO 8601 duration.
    ClosedTimerInvalid,
    /// 400, code 20001: a service's default roles are named by its users and participants.
    DefaultRoleUndeletable,
    /// 409, code 50201: the service has a user with this identity already.
    UserExists,
    /// 400, code 50100: a `RoleSid` parameter names no role of the service (the status is
    /// unconfirmed; README, "Fidelity notes").
    RoleSidNotFound,
    /// 400, code 50105: a `RoleSid` parameter names a role of the wrong type.
    RoleSidWrongType,
    /// 409, code 20001: Chat v2: the channel has an invite for this identity already
    /// (Twilio's code unconfirmed).
    InviteExists,
    /// 403, code 20403: a proxy request (`CONNECT`, or an absolute URI) for a host that
    /// proxy mode does not emulate. The emulator never connects anywhere else.
    ProxyHostNotEmulated { host: String },
    /// 503, code 20503: a `CONNECT` or `/_emulator/ca.pem` while proxy mode has no CA.
    ProxyOff,
    /// 400, 414 or 431 (the status given), code 20000 plus that status: a request the HTTP
    /// layer could not parse, answered before any router (`crate::server`). Twilio's own
    /// front end answers these; its codes are unconfirmed (README, "Fidelity notes").
    Unparsable(StatusCode),
    /// 413, code 50512: an upload over `--max-media-bytes`.
    MediaTooLarge,
    /// 413, code 50512: an upload that would take the account's media over
    /// `--media-quota-bytes` (Twilio's quota and code for it are unconfirmed).
    MediaQuotaExceeded,
    /// 500, code 20500. Never expected; the cause is logged by the response middleware and
    /// never shown to the client.
    Internal(String),
}

impl ApiError {
    /// A 20001 for `parameter`, worded by `problem`.
    pub fn invalid(parameter: &'static str, problem: InvalidValue) -> Self {
        Self::InvalidParameter(InvalidParameter { parameter, problem })
    }

    /// The table: every variant's HTTP status, Twilio code and message, in one place.
    fn row(&self) -> (StatusCode, u32, Cow<'_, str>) {
        use StatusCode as S;
        use messages::*;
        let (status, code, message): (StatusCode, u32, &str) = match self {
            Self::NotFound => (S::NOT_FOUND, 20404, NOT_FOUND_GENERIC),
            Self::NoCredentials => (S::UNAUTHORIZED, 20003, NO_CREDENTIALS),
            Self::InvalidUsername => (S::UNAUTHORIZED, 20003, INVALID_USERNAME),
            Self::InvalidCredentials => (S::UNAUTHORIZED, 20003, INVALID_CREDENTIALS),
            Self::AmbiguousCredentials => (S::UNAUTHORIZED, 20003, AMBIGUOUS_CREDENTIALS),
            Self::MethodNotAllowed => (S::METHOD_NOT_ALLOWED, 20004, METHOD_NOT_ALLOWED),
            Self::PayloadTooLarge => (S::PAYLOAD_TOO_LARGE, 20413, PAYLOAD_TOO_LARGE),
            Self::UnsupportedMediaType => (S::UNSUPPORTED_MEDIA_TYPE, 19056, UNSUPPORTED_MEDIA_TYPE),
            Self::MultipartFile { name } => {
                let message = format!("Invalid parameter {name}: a file part; the API takes text form fields");
                return (S::BAD_REQUEST, 20001, message.into());
            }
            Self::InvalidParameter(invalid) => return (S::BAD_REQUEST, 20001, invalid.to_string().into()),
            Self::AttributesNotJson => (S::BAD_REQUEST, 50304, ATTRIBUTES_NOT_JSON),
            Self::AttributesTooLong => (S::BAD_REQUEST, 50303, ATTRIBUTES_TOO_LONG),
            Self::BodyTooLong => (S::BAD_REQUEST, 50504, BODY_TOO_LONG),
            Self::AuthorTooLong => (S::BAD_REQUEST, 50310, AUTHOR_TOO_LONG),
            Self::InvalidDateCreated => (S::BAD_REQUEST, 50308, INVALID_DATE_CREATED),
            Self::InvalidDateUpdated => (S::BAD_REQUEST, 50309, INVALID_DATE_UPDATED),
            Self::FriendlyNameTooLong => (S::BAD_REQUEST, 50003, FRIENDLY_NAME_TOO_LONG),
            Self::UniqueNameTooLong => (S::BAD_REQUEST, 50004, UNIQUE_NAME_TOO_LONG),
            Self::UniqueNameIsSid => (S::BAD_REQUEST, 50390, UNIQUE_NAME_IS_SID),
            Self::UniqueNameTaken => (S::CONFLICT, 50353, UNIQUE_NAME_TAKEN),
            Self::DefaultServiceUndeletable => (S::BAD_REQUEST, 20001, DEFAULT_SERVICE_UNDELETABLE),
            Self::ChannelNotFound => (S::NOT_FOUND, 50300, CHANNEL_NOT_FOUND),
            Self::ChannelUniqueNameTaken => (S::CONFLICT, 50307, CHANNEL_UNIQUE_NAME_TAKEN),
            Self::ChannelUniqueNameIsSid => (S::BAD_REQUEST, 50306, CHANNEL_UNIQUE_NAME_IS_SID),
            Self::LastUpdatedByTooLong => (S::BAD_REQUEST, 50505, LAST_UPDATED_BY_TOO_LONG),
            Self::ParticipantExists => (S::CONFLICT, 50433, PARTICIPANT_EXISTS),
            Self::BindingExists => (S::CONFLICT, 50416, BINDING_EXISTS),
            Self::TooManyParticipants => (S::BAD_REQUEST, 20001, TOO_MANY_PARTICIPANTS),
            Self::InvalidMediaSid => (S::BAD_REQUEST, 50510, INVALID_MEDIA_SID),
            Self::MediaNotFound => (S::BAD_REQUEST, 50507, MEDIA_NOT_FOUND),
            Self::MediaAlreadyAttached => (S::BAD_REQUEST, 50508, MEDIA_ALREADY_ATTACHED),
            Self::MediaBodyUpdate => (S::BAD_REQUEST, 50509, MEDIA_BODY_UPDATE),
            Self::InvalidContentVariables => (S::BAD_REQUEST, 21656, INVALID_CONTENT_VARIABLES),
            Self::ControlTokenRequired => (S::UNAUTHORIZED, 20003, CONTROL_TOKEN_REQUIRED),
            Self::NoMessageIndexLeft => (S::BAD_REQUEST, 20001, NO_MESSAGE_INDEX_LEFT),
            Self::EmptyFaultRule => (S::BAD_REQUEST, 20001, EMPTY_FAULT_RULE),
            Self::TooManyFaultRules { max } => {
                let message = format!("There are already {max} fault rules; delete some first");
                return (S::BAD_REQUEST, 20001, message.into());
            }
            Self::WebhookRejected => (S::FORBIDDEN, 50056, WEBHOOK_REJECTED),
            Self::MemberExists => (S::CONFLICT, 50404, MEMBER_EXISTS),
            Self::MemberNotFound => (S::NOT_FOUND, 50402, MEMBER_NOT_FOUND),
            Self::ChatUserNotFound => (S::NOT_FOUND, 50200, CHAT_USER_NOT_FOUND),
            Self::ChatRoleNotFound => (S::NOT_FOUND, 50100, CHAT_ROLE_NOT_FOUND),
            Self::ChatInvalidRoleType => (S::BAD_REQUEST, 50105, CHAT_INVALID_ROLE_TYPE),
            Self::ChatUserNotMember => (S::NOT_FOUND, 50400, CHAT_USER_NOT_MEMBER),
            Self::ChatIdentityIsSid => (S::BAD_REQUEST, 50206, CHAT_IDENTITY_IS_SID),
            Self::InboundUnrouted { from, to } => {
                let message = format!(
                    "No conversation binds {from} to {to}, and no Address Configuration of {to} autocreates one"
                );
                return (S::NOT_FOUND, 20404, message.into());
            }
            Self::ServiceInstanceNotFound => (S::BAD_REQUEST, 50050, SERVICE_INSTANCE_NOT_FOUND),
            Self::ConversationWebhookNotFound => (S::NOT_FOUND, 50360, CONVERSATION_WEBHOOK_NOT_FOUND),
            Self::TooManyConversationWebhooks => (S::BAD_REQUEST, 50361, TOO_MANY_CONVERSATION_WEBHOOKS),
            Self::InvalidConversationWebhookSid => (S::BAD_REQUEST, 50363, INVALID_CONVERSATION_WEBHOOK_SID),
            Self::InvalidConversationWebhookType => (S::BAD_REQUEST, 50364, INVALID_CONVERSATION_WEBHOOK_TYPE),
            Self::InvalidConversationWebhookFilter => (S::BAD_REQUEST, 50365, INVALID_CONVERSATION_WEBHOOK_FILTER),
            Self::InvalidConversationWebhookTrigger => (S::BAD_REQUEST, 50366, INVALID_CONVERSATION_WEBHOOK_TRIGGER),
            Self::InvalidConversationWebhookFlowSid => (S::BAD_REQUEST, 50367, INVALID_CONVERSATION_WEBHOOK_FLOW_SID),
            Self::ConversationWebhookTypeMissing => (S::BAD_REQUEST, 50368, CONVERSATION_WEBHOOK_TYPE_MISSING),
            Self::ConversationWebhookUrlMissing => (S::BAD_REQUEST, 50369, CONVERSATION_WEBHOOK_URL_MISSING),
            Self::ConversationWebhookFilterMissing => (S::BAD_REQUEST, 50370, CONVERSATION_WEBHOOK_FILTER_MISSING),
            Self::ConversationWebhookTriggerMissing => (S::BAD_REQUEST, 50371, CONVERSATION_WEBHOOK_TRIGGER_MISSING),
            Self::AddressConfigurationExists => (S::CONFLICT, 20001, ADDRESS_CONFIGURATION_EXISTS),
            Self::ConversationClosed => (S::BAD_REQUEST, 50377, CONVERSATION_CLOSED),
            Self::InactiveTimerTooShort => (S::BAD_REQUEST, 50375, INACTIVE_TIMER_TOO_SHORT),
            Self::ClosedTimerTooShort => (S::BAD_REQUEST, 50376, CLOSED_TIMER_TOO_SHORT),
            Self::InactiveTimerInvalid => (S::BAD_REQUEST, 50379, INACTIVE_TIMER_INVALID),
            Self::ClosedTimerInvalid => (S::BAD_REQUEST, 50380, CLOSED_TIMER_INVALID),
            Self::DefaultRoleUndeletable => (S::BAD_REQUEST, 20001, DEFAULT_ROLE_UNDELETABLE),
            Self::UserExists => (S::CONFLICT, 50201, USER_EXISTS),
            Self::RoleSidNotFound => (S::BAD_REQUEST, 50100, ROLE_SID_NOT_FOUND),
            Self::RoleSidWrongType => (S::BAD_REQUEST, 50105, ROLE_SID_WRONG_TYPE),
            Self::InviteExists => (S::CONFLICT, 20001, INVITE_EXISTS),
            Self::ProxyHostNotEmulated { host } => {
                let [conversations, chat, media] = crate::ca::EMULATED_HOSTS;
                let message = format!(
                    "The emulator's proxy serves only {conversations}, {chat} and {media} on port 443; it never \
                     connects to {host}"
                );
                return (S::FORBIDDEN, 20403, message.into());
            }
            Self::ProxyOff => (S::SERVICE_UNAVAILABLE, 20503, PROXY_OFF),
            Self::Unparsable(status) => {
                let message = match *status {
                    S::URI_TOO_LONG => URI_TOO_LONG,
                    S::REQUEST_HEADER_FIELDS_TOO_LARGE => HEADERS_TOO_LARGE,
                    _ => MALFORMED_REQUEST,
                };
                (*status, 20000 + u32::from(status.as_u16()), message)
            }
            Self::MediaTooLarge => (S::PAYLOAD_TOO_LARGE, 50512, MEDIA_TOO_LARGE),
            Self::MediaQuotaExceeded => (S::PAYLOAD_TOO_LARGE, 50512, MEDIA_QUOTA_EXCEEDED),
            Self::Internal(_) => (S::INTERNAL_SERVER_ERROR, 20500, INTERNAL),
        };
        (status, code, message.into())
    }

    /// The Twilio-shaped body for this error.
    pub fn body(&self) -> ErrorBody {
        let (status, code, message) = self.row();
        ErrorBody::new(status, code, message.into_owned())
    }
}

/// The Twilio message, as the body's `message` carries it.
impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.row().2)
    }
}

impl std::error::Error for ApiError {}

/// A refused parameter (or header, or body): which, and what is wrong with it. Call sites
/// say what is wrong; the wording lives in this type's `Display`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidParameter {
    /// As the client spells it: `PageSize`, `X-Twilio-Webhook-Enabled header value`, or
    /// `` `path` `` for the control plane's JSON fields.
    pub parameter: &'static str,
    pub problem: InvalidValue,
}

/// What is wrong with a parameter. Each variant is one sentence of [`InvalidParameter`]'s
/// `Display`, shown here with `p` for the parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvalidValue {
    /// `Invalid p: 'value'`: not of the parameter's type.
    Malformed(String),
    /// `Invalid p: 'value' is not <expected>`.
    NotA { value: String, expected: Expected },
    /// `Invalid p: <cause>`: a parser's own explanation.
    Unparsable(String),
    /// `Unreadable p: <cause>`.
    Unreadable(String),
    /// `Missing required parameter p in the post body`.
    Missing,
    /// `A p header is required`.
    MissingHeader,
    /// `p is longer than <n> characters`.
    LongerThan(usize),
    /// `p is too long`.
    TooLong,
    /// `p cannot be updated`.
    Immutable,
    /// `p is required with <other>`.
    RequiredWith(&'static str),
    /// `Either p or <other> must be specified`.
    EitherOr(&'static str),
    /// `Give exactly one of p`, where `p` lists the choices.
    ExactlyOne,
    /// `` `p` must be <expected>, not <value> ``.
    MustBe { value: String, expected: Expected },
    /// `` `p` is not <expected>: `value` ``.
    IsNot { value: String, expected: Expected },
    /// `` `p` must be at least 1; omit it for a rule that never expires ``.
    ZeroTimes,
    /// `` `p` <value> would never match: the /_emulator/ endpoints are never faulted ``.
    NeverMatches(String),
    /// `A receipt cannot go from <from> to <to>`.
    ReceiptTransition { from: &'static str, to: &'static str },
    /// `<p> names a message with no receipts: …`.
    NoReceipts,
    /// `<p> names no receipt of the message`.
    NotAReceipt,
}

/// What a parameter's value should have been, completing an [`InvalidValue`] sentence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    /// `one of <choices>`.
    OneOf(&'static str),
    /// `an integer between 1 and <max>`.
    PositiveUpTo(usize),
    /// `a non-negative integer`.
    NonNegativeInteger,
    /// `an RFC 3339 date`.
    Rfc3339Date,
    /// `a date in years 0001 to 9999 (UTC)`: what Twilio's format can print.
    PrintableDate,
    /// `a number of seconds that keeps the clock in years 0001 to 9999 (UTC)`.
    PrintableClock,
    /// `at most <max>`.
    AtMost(u64),
    /// `between 0 and 1`.
    Probability,
    /// `an HTTP error status (400 to 599)`.
    HttpErrorStatus,
    /// `a Twilio error code`.
    TwilioErrorCode,
    /// `an HTTP method`.
    HttpMethod,
    /// `an absolute http or https URL`.
    AbsoluteUrl,
}

impl fmt::Display for InvalidParameter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = self.parameter;
        match &self.problem {
            InvalidValue::Malformed(value) => write!(f, "Invalid {p}: '{value}'"),
            InvalidValue::NotA { value, expected } => write!(f, "Invalid {p}: '{value}' is not {expected}"),
            InvalidValue::Unparsable(cause) => write!(f, "Invalid {p}: {cause}"),
            InvalidValue::Unreadable(cause) => write!(f, "Unreadable {p}: {cause}"),
            InvalidValue::Missing => write!(f, "Missing required parameter {p} in the post body"),
            InvalidValue::MissingHeader => write!(f, "A {p} header is required"),
            InvalidValue::LongerThan(max) => write!(f, "{p} is longer than {max} characters"),
            InvalidValue::TooLong => write!(f, "{p} is too long"),
            InvalidValue::Immutable => write!(f, "{p} cannot be updated"),
            InvalidValue::RequiredWith(other) => write!(f, "{p} is required with {other}"),
            InvalidValue::EitherOr(other) => write!(f, "Either {p} or {other} must be specified"),
            InvalidValue::ExactlyOne => write!(f, "Give exactly one of {p}"),
            InvalidValue::MustBe { value, expected } => write!(f, "`{p}` must be {expected}, not {value}"),
            InvalidValue::IsNot { value, expected } => write!(f, "`{p}` is not {expected}: `{value}`"),
            InvalidValue::ZeroTimes => write!(f, "`{p}` must be at least 1; omit it for a rule that never expires"),
            InvalidValue::NeverMatches(value) => {
                write!(f, "`{p}` {value} would never match: the /_emulator/ endpoints are never faulted")
            }
            InvalidValue::ReceiptTransition { from, to } => write!(f, "A receipt cannot go from {from} to {to}"),
            InvalidValue::NoReceipts => write!(
                f,
                "{p} names a message with no receipts: a message gets one for each SMS or WhatsApp \
                 participant other than its author, when it is sent"
            ),
            InvalidValue::NotAReceipt => write!(f, "{p} names no receipt of the message"),
        }
    }
}

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::OneOf(choices) => write!(f, "one of {choices}"),
            Self::PositiveUpTo(max) => write!(f, "an integer between 1 and {max}"),
            Self::NonNegativeInteger => f.write_str("a non-negative integer"),
            Self::Rfc3339Date => f.write_str("an RFC 3339 date"),
            Self::PrintableDate => f.write_str("a date in years 0001 to 9999 (UTC)"),
            Self::PrintableClock => f.write_str("a number of seconds that keeps the clock in years 0001 to 9999 (UTC)"),
            Self::AtMost(max) => write!(f, "at most {max}"),
            Self::Probability => f.write_str("between 0 and 1"),
            Self::HttpErrorStatus => f.write_str("an HTTP error status (400 to 599)"),
            Self::TwilioErrorCode => f.write_str("a Twilio error code"),
            Self::HttpMethod => f.write_str("an HTTP method"),
            Self::AbsoluteUrl => f.write_str("an absolute http or https URL"),
        }
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
            StoreError::MediaQuotaExceeded => Self::MediaQuotaExceeded,
            StoreError::BodyTooLongForSms => Self::BodyTooLong,
            StoreError::ReceiptTransition(from, to) => {
                Self::invalid("status", InvalidValue::ReceiptTransition { from, to })
            }
            StoreError::NoReceipts => Self::invalid("message_sid", InvalidValue::NoReceipts),
            StoreError::ReceiptNotFound => Self::invalid("receipt_sid", InvalidValue::NotAReceipt),
            StoreError::IndicesExhausted => Self::NoMessageIndexLeft,
            StoreError::ServiceNotFound => Self::ServiceInstanceNotFound,
            StoreError::TooManyConversationWebhooks => Self::TooManyConversationWebhooks,
            StoreError::ConversationWebhookNotFound => Self::ConversationWebhookNotFound,
            StoreError::AddressConfigurationExists => Self::AddressConfigurationExists,
            StoreError::ConversationClosed => Self::ConversationClosed,
            StoreError::DefaultRoleUndeletable => Self::DefaultRoleUndeletable,
            StoreError::UserExists => Self::UserExists,
            StoreError::RoleNotFound => Self::RoleSidNotFound,
            StoreError::RoleTypeMismatch => Self::RoleSidWrongType,
            StoreError::InviteExists => Self::InviteExists,
            // No route commits a proposal yet; one that is overtaken is retried by its caller.
            StoreError::Conflict => Self::Internal("a proposed change was overtaken".to_owned()),
        }
    }
}

impl From<crate::store::document::ImportError> for ApiError {
    fn from(error: crate::store::document::ImportError) -> Self {
        Self::invalid("state document", InvalidValue::Unparsable(error.to_string()))
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

    /// Renders the body with its HTTP status, and its code as a [`TwilioCode`] extension
    /// for the request log.
    pub fn into_response_with_status(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let code = TwilioCode(self.code);
        let mut response = (status, Json(self)).into_response();
        response.extensions_mut().insert(code);
        response
    }
}

/// The Twilio error code of an error response, carried on it to the request log
/// (`crate::routes`), which would otherwise have to parse the body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TwilioCode(pub u32);

/// The cause of a 5xx, carried on the response to the middleware that logs it
/// (`crate::routes`): building a response stays free of side effects.
#[derive(Clone, Debug)]
pub struct ErrorCause(pub String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = self.body().into_response_with_status();
        match self {
            Self::NotFound => {
                response.extensions_mut().insert(NeedsResourcePath);
            }
            Self::NoCredentials | Self::InvalidUsername | Self::InvalidCredentials | Self::AmbiguousCredentials => {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"Twilio API\""));
            }
            Self::Internal(cause) => {
                response.extensions_mut().insert(ErrorCause(cause));
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

    /// The row every variant must have: (HTTP status, Twilio code, message). There is no
    /// wildcard, so a new variant fails to compile until it has a row here (and a place in
    /// [`after`]).
    fn row_of(error: &ApiError) -> (u16, u32, &'static str) {
        use ApiError::*;
        match error {
            NotFound => (404, 20404, "The requested resource was not found"),
            NoCredentials => (401, 20003, "Authentication Error - No credentials provided"),
            InvalidUsername => (401, 20003, "Authentication Error - invalid username"),
            InvalidCredentials => (401, 20003, "Authentication Error - invalid credentials"),
            MethodNotAllowed => (405, 20004, "Method not allowed"),
            PayloadTooLarge => (413, 20413, "Request entity is larger than limits defined by the server"),
            UnsupportedMediaType => (
                415,
                19056,
                "Input request content type is invalid: the API takes application/x-www-form-urlencoded (or \
                 multipart/form-data) request bodies",
            ),
            MultipartFile { .. } => (400, 20001, "Invalid parameter Body: a file part; the API takes text form fields"),
            // Every sentence of this one is in `every_invalid_parameter_sentence_keeps_its_wording`.
            InvalidParameter(_) => (400, 20001, "Invalid Page: 'x'"),
            AttributesNotJson => (400, 50304, "Attributes not valid JSON"),
            AttributesTooLong => (400, 50303, "Attributes too long"),
            BodyTooLong => (400, 50504, "Message body parameter is too long"),
            AuthorTooLong => (400, 50310, "Author parameter is too long"),
            InvalidDateCreated => (400, 50308, "Invalid Date Created parameter"),
            InvalidDateUpdated => (400, 50309, "Invalid Date Updated parameter"),
            FriendlyNameTooLong => (400, 50003, "Friendly name too long"),
            UniqueNameTooLong => (400, 50004, "Unique Name too long"),
            UniqueNameIsSid => (400, 50390, "Unique name should not match conversation SID pattern"),
            UniqueNameTaken => (409, 50353, "Conversation with provided unique name already exists"),
            DefaultServiceUndeletable => {
                (400, 20001, "The default Conversation Service of an account cannot be deleted")
            }
            ChannelNotFound => (404, 50300, "Channel not found"),
            ChannelUniqueNameTaken => (409, 50307, "Channel with provided unique name already exists"),
            ChannelUniqueNameIsSid => (400, 50306, "Unique name should not match channel SID pattern"),
            LastUpdatedByTooLong => (400, 50505, "Last Updated By parameter is too long"),
            ParticipantExists => (409, 50433, "Participant already exists"),
            BindingExists => {
                (409, 50416, "A binding for this participant and proxy address already exists in Conversation")
            }
            TooManyParticipants => (
                400,
                20001,
                "Conversation participants limit exceeded: at most 1000 participants, 50 of them SMS or WhatsApp",
            ),
            InvalidMediaSid => (400, 50510, "Invalid message media SID"),
            MediaNotFound => (400, 50507, "Media not found"),
            MediaAlreadyAttached => (400, 50508, "Media already sent with another message"),
            MediaBodyUpdate => (400, 50509, "Media message body update not allowed"),
            InvalidContentVariables => (400, 21656, "The ContentVariables Parameter is invalid"),
            ControlTokenRequired => {
                (401, 20003, "The emulator's control endpoints need `Authorization: Bearer <control token>`")
            }
            NoMessageIndexLeft => (400, 20001, "The conversation has no message index left to give"),
            EmptyFaultRule => (400, 20001, "A fault rule needs an `error`, a `latency_ms`, or both"),
            TooManyFaultRules { .. } => (400, 20001, "There are already 1000 fault rules; delete some first"),
            WebhookRejected => (403, 50056, "Webhook disabled processing of command"),
            MemberExists => (409, 50404, "Member already exists"),
            MemberNotFound => (404, 50402, "Member not found"),
            ChatUserNotFound => (404, 50200, "User not found"),
            ChatRoleNotFound => (404, 50100, "Role not found"),
            ChatInvalidRoleType => (400, 50105, "Invalid role type"),
            ChatUserNotMember => (404, 50400, "User not member of channel"),
            ChatIdentityIsSid => (400, 50206, "Identity should not match user SID pattern"),
            InboundUnrouted { .. } => {
                (404, 20404, "No conversation binds +1 to +2, and no Address Configuration of +2 autocreates one")
            }
            ServiceInstanceNotFound => (400, 50050, "Service Instance not found"),
            ConversationWebhookNotFound => (404, 50360, "Conversation webhook not found"),
            TooManyConversationWebhooks => (400, 50361, "Too many conversation webhooks"),
            InvalidConversationWebhookSid => (400, 50363, "Invalid conversation webhook SID"),
            InvalidConversationWebhookType => (400, 50364, "Invalid conversation webhook type"),
            InvalidConversationWebhookFilter => (400, 50365, "Invalid conversation webhook filter"),
            InvalidConversationWebhookTrigger => (400, 50366, "Invalid conversation webhook trigger"),
            InvalidConversationWebhookFlowSid => (400, 50367, "Invalid conversation webhook flow SID"),
            ConversationWebhookTypeMissing => (400, 50368, "Conversation webhook type not provided"),
            ConversationWebhookUrlMissing => (400, 50369, "Conversation webhook URL not provided"),
            ConversationWebhookFilterMissing => (400, 50370, "Conversation webhook filter not provided"),
            ConversationWebhookTriggerMissing => (400, 50371, "Conversation webhook trigger not provided"),
            AddressConfigurationExists => {
                (409, 20001, "An Address Configuration for this address and type already exists")
            }
            ConversationClosed => (400, 50377, "Can't update conversation as it's in final closed state"),
            InactiveTimerTooShort => (400, 50375, "TimeToInactive should be greater or equal to 1 minute"),
            ClosedTimerTooShort => (400, 50376, "TimeToClosed should be greater or equal to 10 minutes"),
            InactiveTimerInvalid => (400, 50379, "TimeToInactive format is invalid"),
            ClosedTimerInvalid => (400, 50380, "TimeToClosed format is invalid"),
            DefaultRoleUndeletable => (400, 20001, "The default roles of a Conversation Service cannot be deleted"),
            UserExists => (409, 50201, "User already exists"),
            RoleSidNotFound => (400, 50100, "Role not found: the RoleSid names no role of this service"),
            RoleSidWrongType => (
                400,
                50105,
                "Invalid role type: a participant or member takes a conversation (channel) role, a user a service role",
            ),
            InviteExists => (409, 20001, "An invite for this identity already exists in the channel"),
            ProxyHostNotEmulated { .. } => (
                403,
                20403,
                "The emulator's proxy serves only conversations.twilio.com, chat.twilio.com and mcs.us1.twilio.com on \
                 port 443; it never connects to example.com:443",
            ),
            ProxyOff => {
                (503, 20503, "Proxy mode is off: the emulator has no certificate authority (its start-up log says why)")
            }
            AmbiguousCredentials => (401, 20003, "Authentication Error - more than one Authorization header"),
            Unparsable(_) => (414, 20414, "URI Too Long: the request target is longer than 64 KiB"),
            MediaTooLarge => (413, 50512, "Message media size is too large"),
            MediaQuotaExceeded => {
                (413, 50512, "The account's media storage quota is exceeded: delete unused media first")
            }
            Internal(_) => (500, 20500, "Internal Server Error"),
        }
    }

    /// The variant after `error`, with sample contents, so that the test can visit them all:
    /// exhaustive like [`row_of`], so a new variant has to join the walk.
    fn after(error: &ApiError) -> Option<ApiError> {
        use ApiError::*;
        Some(match error {
            NotFound => NoCredentials,
            NoCredentials => InvalidUsername,
            InvalidUsername => InvalidCredentials,
            InvalidCredentials => MethodNotAllowed,
            MethodNotAllowed => PayloadTooLarge,
            PayloadTooLarge => UnsupportedMediaType,
            UnsupportedMediaType => MultipartFile { name: "Body".into() },
            MultipartFile { .. } => ApiError::invalid("Page", InvalidValue::Malformed("x".into())),
            InvalidParameter(_) => AttributesNotJson,
            AttributesNotJson => AttributesTooLong,
            AttributesTooLong => BodyTooLong,
            BodyTooLong => AuthorTooLong,
            AuthorTooLong => InvalidDateCreated,
            InvalidDateCreated => InvalidDateUpdated,
            InvalidDateUpdated => FriendlyNameTooLong,
            FriendlyNameTooLong => UniqueNameTooLong,
            UniqueNameTooLong => UniqueNameIsSid,
            UniqueNameIsSid => UniqueNameTaken,
            UniqueNameTaken => DefaultServiceUndeletable,
            DefaultServiceUndeletable => ChannelNotFound,
            ChannelNotFound => ChannelUniqueNameTaken,
            ChannelUniqueNameTaken => ChannelUniqueNameIsSid,
            ChannelUniqueNameIsSid => LastUpdatedByTooLong,
            LastUpdatedByTooLong => ParticipantExists,
            ParticipantExists => BindingExists,
            BindingExists => TooManyParticipants,
            TooManyParticipants => InvalidMediaSid,
            InvalidMediaSid => MediaNotFound,
            MediaNotFound => MediaAlreadyAttached,
            MediaAlreadyAttached => MediaBodyUpdate,
            MediaBodyUpdate => InvalidContentVariables,
            InvalidContentVariables => ControlTokenRequired,
            ControlTokenRequired => NoMessageIndexLeft,
            NoMessageIndexLeft => EmptyFaultRule,
            EmptyFaultRule => TooManyFaultRules { max: 1000 },
            TooManyFaultRules { .. } => WebhookRejected,
            WebhookRejected => MemberExists,
            MemberExists => MemberNotFound,
            MemberNotFound => ChatUserNotFound,
            ChatUserNotFound => ChatRoleNotFound,
            ChatRoleNotFound => ChatInvalidRoleType,
            ChatInvalidRoleType => ChatUserNotMember,
            ChatUserNotMember => ChatIdentityIsSid,
            ChatIdentityIsSid => InboundUnrouted { from: "+1".into(), to: "+2".into() },
            InboundUnrouted { .. } => ServiceInstanceNotFound,
            ServiceInstanceNotFound => ConversationWebhookNotFound,
            ConversationWebhookNotFound => TooManyConversationWebhooks,
            TooManyConversationWebhooks => InvalidConversationWebhookSid,
            InvalidConversationWebhookSid => InvalidConversationWebhookType,
            InvalidConversationWebhookType => InvalidConversationWebhookFilter,
            InvalidConversationWebhookFilter => InvalidConversationWebhookTrigger,
            InvalidConversationWebhookTrigger => InvalidConversationWebhookFlowSid,
            InvalidConversationWebhookFlowSid => ConversationWebhookTypeMissing,
            ConversationWebhookTypeMissing => ConversationWebhookUrlMissing,
            ConversationWebhookUrlMissing => ConversationWebhookFilterMissing,
            ConversationWebhookFilterMissing => ConversationWebhookTriggerMissing,
            ConversationWebhookTriggerMissing => AddressConfigurationExists,
            AddressConfigurationExists => ConversationClosed,
            ConversationClosed => InactiveTimerTooShort,
            InactiveTimerTooShort => ClosedTimerTooShort,
            ClosedTimerTooShort => InactiveTimerInvalid,
            InactiveTimerInvalid => ClosedTimerInvalid,
            ClosedTimerInvalid => DefaultRoleUndeletable,
            DefaultRoleUndeletable => UserExists,
            UserExists => RoleSidNotFound,
            RoleSidNotFound => RoleSidWrongType,
            RoleSidWrongType => InviteExists,
            InviteExists => ProxyHostNotEmulated { host: "example.com:443".into() },
            ProxyHostNotEmulated { .. } => ProxyOff,
            ProxyOff => AmbiguousCredentials,
            AmbiguousCredentials => Unparsable(StatusCode::URI_TOO_LONG),
            Unparsable(_) => MediaTooLarge,
            MediaTooLarge => MediaQuotaExceeded,
            MediaQuotaExceeded => Internal("the disk is full".into()),
            Internal(_) => return None,
        })
    }

    #[test]
    fn every_variant_has_its_status_code_message_and_body_shape() {
        let every_variant: Vec<ApiError> = std::iter::successors(Some(ApiError::NotFound), after).collect();
        let kinds: std::collections::HashSet<_> = every_variant.iter().map(std::mem::discriminant).collect();
        assert_eq!(kinds.len(), every_variant.len(), "the walk visits each variant once");
        for error in every_variant {
            let (status, code, message) = row_of(&error);
            // Assert: the table's row, and `Display` as the message.
            let body = error.body();
            assert_eq!((body.status, body.code, body.message.as_str()), (status, code, message), "{error:?}");
            assert_eq!(error.to_string(), message, "{error:?}");
            assert_eq!(body.more_info, format!("https://www.twilio.com/docs/errors/{code}"));
            // Assert: the body's keys, `detail` only on 401s, as the real API sends.
            let json = serde_json::to_value(&body).expect("an error body serializes");
            let keys: Vec<&str> = json.as_object().expect("an object").keys().map(String::as_str).collect();
            let mut expected = vec!["code", "message", "more_info", "status"];
            if status == 401 {
                expected.push("detail");
                assert_eq!(json["detail"], messages::AUTH_DETAIL);
            }
            let (mut keys, mut expected) = (keys, expected);
            keys.sort_unstable();
            expected.sort_unstable();
            assert_eq!(keys, expected, "{error:?}");
            // Assert: the response, with what the middleware needs to finish it.
            let response = error.clone().into_response();
            assert_eq!(response.status().as_u16(), status, "{error:?}");
            assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
            let challenges = matches!(
                error,
                ApiError::NoCredentials
                    | ApiError::InvalidUsername
                    | ApiError::InvalidCredentials
                    | ApiError::AmbiguousCredentials
            );
            assert_eq!(response.headers().contains_key(header::WWW_AUTHENTICATE), challenges, "{error:?}");
            let needs_path = response.extensions().get::<NeedsResourcePath>().is_some();
            assert_eq!(needs_path, error == ApiError::NotFound, "{error:?}");
            let cause = response.extensions().get::<ErrorCause>().map(|ErrorCause(cause)| cause.as_str());
            assert_eq!(cause, (status == 500).then_some("the disk is full"), "{error:?}");
        }
    }

    /// Where a problem's sentence sits in [`invalid_rows`]; exhaustive, like [`ordinal`].
    fn problem_ordinal(problem: &InvalidValue) -> usize {
        use InvalidValue::*;
        match problem {
            Malformed(_) => 0,
            NotA { .. } => 1,
            Unparsable(_) => 2,
            Unreadable(_) => 3,
            Missing => 4,
            MissingHeader => 5,
            LongerThan(_) => 6,
            TooLong => 7,
            Immutable => 8,
            RequiredWith(_) => 9,
            EitherOr(_) => 10,
            ExactlyOne => 11,
            MustBe { .. } => 12,
            IsNot { .. } => 13,
            ZeroTimes => 14,
            NeverMatches(_) => 15,
            ReceiptTransition { .. } => 16,
            NoReceipts => 17,
            NotAReceipt => 18,
        }
    }

    /// Every [`Expected`], for the rows below; exhaustive, like [`ordinal`].
    fn expected_ordinal(expected: Expected) -> usize {
        use Expected::*;
        match expected {
            OneOf(_) => 0,
            PositiveUpTo(_) => 1,
            NonNegativeInteger => 2,
            Rfc3339Date => 3,
            PrintableDate => 4,
            PrintableClock => 5,
            AtMost(_) => 6,
            Probability => 7,
            HttpErrorStatus => 8,
            TwilioErrorCode => 9,
            HttpMethod => 10,
            AbsoluteUrl => 11,
        }
    }

    /// Each sentence as the call sites produce it today: these are the messages on the wire.
    fn invalid_rows() -> Vec<(&'static str, InvalidValue, &'static str)> {
        use InvalidValue::*;
        let not = |value: &str, expected| NotA { value: value.into(), expected };
        let must = |value: &str, expected| MustBe { value: value.into(), expected };
        vec![
            ("ContentSid", Malformed("HX1".into()), "Invalid ContentSid: 'HX1'"),
            (
                "Order parameter",
                not("sideways", Expected::OneOf("asc, desc")),
                "Invalid Order parameter: 'sideways' is not one of asc, desc",
            ),
            (
                "`account`",
                Unparsable("`IS1` is not a valid AC SID".into()),
                "Invalid `account`: `IS1` is not a valid AC SID",
            ),
            ("body", Unreadable("connection reset".into()), "Unreadable body: connection reset"),
            ("FriendlyName", Missing, "Missing required parameter FriendlyName in the post body"),
            ("Content-Type", MissingHeader, "A Content-Type header is required"),
            ("Identity", LongerThan(256), "Identity is longer than 256 characters"),
            ("CreatedBy", TooLong, "CreatedBy is too long"),
            ("MessagingBinding.Address", Immutable, "MessagingBinding.Address cannot be updated"),
            (
                "MessagingBinding.ProxyAddress",
                RequiredWith("MessagingBinding.Address"),
                "MessagingBinding.ProxyAddress is required with MessagingBinding.Address",
            ),
            (
                "Identity",
                EitherOr("MessagingBinding.Address"),
                "Either Identity or MessagingBinding.Address must be specified",
            ),
            (
                "freeze_at, offset_seconds, advance_seconds",
                ExactlyOne,
                "Give exactly one of freeze_at, offset_seconds, advance_seconds",
            ),
            ("latency_ms", must("60001", Expected::AtMost(60_000)), "`latency_ms` must be at most 60000, not 60001"),
            (
                "method",
                IsNot { value: "GE T".into(), expected: Expected::HttpMethod },
                "`method` is not an HTTP method: `GE T`",
            ),
            ("times", ZeroTimes, "`times` must be at least 1; omit it for a rule that never expires"),
            (
                "path",
                NeverMatches("/_emulator/**".into()),
                "`path` /_emulator/** would never match: the /_emulator/ endpoints are never faulted",
            ),
            ("status", ReceiptTransition { from: "read", to: "sent" }, "A receipt cannot go from read to sent"),
            (
                "message_sid",
                NoReceipts,
                "message_sid names a message with no receipts: a message gets one for each SMS or WhatsApp \
                 participant other than its author, when it is sent",
            ),
            ("receipt_sid", NotAReceipt, "receipt_sid names no receipt of the message"),
            // Every other `Expected`, in the sentences that use them.
            (
                "PageSize",
                not("0", Expected::PositiveUpTo(100)),
                "Invalid PageSize: '0' is not an integer between 1 and 100",
            ),
            ("Page", not("-1", Expected::NonNegativeInteger), "Invalid Page: '-1' is not a non-negative integer"),
            ("freeze_at", not("soon", Expected::Rfc3339Date), "Invalid freeze_at: 'soon' is not an RFC 3339 date"),
            (
                "freeze_at",
                not("0000-01-01T00:00:00Z", Expected::PrintableDate),
                "Invalid freeze_at: '0000-01-01T00:00:00Z' is not a date in years 0001 to 9999 (UTC)",
            ),
            (
                "offset_seconds",
                not("9223372036854775807", Expected::PrintableClock),
                "Invalid offset_seconds: '9223372036854775807' is not a number of seconds that keeps the clock in \
                 years 0001 to 9999 (UTC)",
            ),
            ("probability", must("1.5", Expected::Probability), "`probability` must be between 0 and 1, not 1.5"),
            (
                "error.status",
                must("200", Expected::HttpErrorStatus),
                "`error.status` must be an HTTP error status (400 to 599), not 200",
            ),
            ("error.code", must("0", Expected::TwilioErrorCode), "`error.code` must be a Twilio error code, not 0"),
            (
                "PreWebhookUrl",
                not("w", Expected::AbsoluteUrl),
                "Invalid PreWebhookUrl: 'w' is not an absolute http or https URL",
            ),
        ]
    }

    #[test]
    fn every_invalid_parameter_sentence_keeps_its_wording_and_code() {
        let rows = invalid_rows();
        let mut problems: Vec<usize> = rows.iter().map(|(_, problem, _)| problem_ordinal(problem)).collect();
        problems.sort_unstable();
        problems.dedup();
        assert_eq!(problems, (0..=problem_ordinal(&InvalidValue::NotAReceipt)).collect::<Vec<_>>());
        let mut expectations: Vec<usize> = rows
            .iter()
            .filter_map(|(_, problem, _)| match problem {
                InvalidValue::NotA { expected, .. }
                | InvalidValue::MustBe { expected, .. }
                | InvalidValue::IsNot { expected, .. } => Some(expected_ordinal(*expected)),
                _ => None,
            })
            .collect();
        expectations.sort_unstable();
        expectations.dedup();
        assert_eq!(expectations, (0..=expected_ordinal(Expected::AbsoluteUrl)).collect::<Vec<_>>());
        for (parameter, problem, message) in rows {
            let error = ApiError::invalid(parameter, problem);
            let body = error.body();
            assert_eq!((body.status, body.code, body.message.as_str()), (400, 20001, message));
        }
    }
}
