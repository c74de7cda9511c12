//! The Credential resource, `/v1/Credentials[/{CR}]`: the account's push credentials.
//! Certificates, private keys, API keys and secrets are accepted and kept, never echoed.
//! <https://www.twilio.com/docs/conversations/api/credential-resource>

use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use super::form::FormPairs;
use crate::error::{ApiError, Expected, InvalidValue};
use crate::extract::{ApiCall, TwilioForm, TwilioQuery, path_params};
use crate::pagination::{ListBody, Order, PageLinks, PageParams, PageRequest};
use crate::sid::{AccountSid, CredentialSid};
use crate::state::AppState;
use crate::store::credentials::{Credential, CredentialFields, CredentialSecrets, PushType};
use crate::time::Timestamp;

/// Twilio's maximum `PageSize` for credentials.
pub const MAX_PAGE_SIZE: usize = 100;
/// The longest `FriendlyName` the spec allows a credential.
const FRIENDLY_NAME_MAX_CHARS: usize = 64;

/// The routes `/v1/Credentials` and `/v1/Credentials/{Sid}`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/Credentials", get(list).post(create))
        .route("/v1/Credentials/{Sid}", get(fetch).post(update).delete(delete))
}

/// The `CR…` SID of the path; a malformed one names nothing (404).
struct CredentialPath(CredentialSid);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for CredentialPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, ApiError> {
        let params = path_params(parts, state).await?;
        params.get("Sid").and_then(|raw| raw.parse().ok()).map(Self).ok_or(ApiError::NotFound)
    }
}

/// The fields create and update share.
fn fields(form: &FormPairs) -> Result<CredentialFields, ApiError> {
    let friendly_name = form.one("FriendlyName").map(str::to_owned);
    if friendly_name.as_ref().is_some_and(|name| name.chars().count() > FRIENDLY_NAME_MAX_CHARS) {
        return Err(ApiError::FriendlyNameTooLong);
    }
    let text = |name: &str| form.one(name).map(str::to_owned);
    Ok(CredentialFields {
        kind: form.parsed("Type", PushType::parse, Expected::OneOf("apn, gcm, fcm"))?,
        friendly_name,
        sandbox: form.boolean("Sandbox")?,
        secrets: CredentialSecrets {
            certificate: text("Certificate"),
            private_key: text("PrivateKey"),
            api_key: text("ApiKey"),
            secret: text("Secret"),
        },
    })
}

/// Create a credential: <https://www.twilio.com/docs/conversations/api/credential-resource#create-a-credential-resource>
async fn create(
    ApiCall { state, account, base }: ApiCall,
    TwilioForm(form): TwilioForm<Vec<(String, String)>>,
) -> Result<(StatusCode, Json<CredentialResource>), ApiError> {
    let fields = fields(&FormPairs(form))?;
    let kind = fields.kind.ok_or_else(|| ApiError::invalid("Type", InvalidValue::Missing))?;
    let credential = state.store.create_credential(account, kind, fields)?;
    Ok((StatusCode::CREATED, Json(CredentialResource::new(account, &base, credential))))
}

/// Fetch a credential: <https://www.twilio.com/docs/conversations/api/credential-resource#fetch-a-credential-resource>
async fn fetch(
    ApiCall { state, account, base }: ApiCall,
    CredentialPath(sid): CredentialPath,
) -> Result<Json<CredentialResource>, ApiError> {
    let credential = state.store.fetch_credential(account, sid)?;
    Ok(Json(CredentialResource::new(account, &base, credential)))
}

/// List the account's credentials: <https://www.twilio.com/docs/conversations/api/credential-resource#read-multiple-credential-resources>
async fn list(
    ApiCall { state, account, base }: ApiCall,
    TwilioQuery(params): TwilioQuery<PageParams>,
) -> Result<Json<ListBody<CredentialResource>>, ApiError> {
    let request = PageRequest::parse(&params, Order::Asc, MAX_PAGE_SIZE)?;
    let selection = state.store.list_credentials(account, &request);
    let links = PageLinks { base: &base, path: "/v1/Credentials".to_owned(), filters: Vec::new() };
    let meta = links.meta(&request, &selection, "credentials");
    let records = selection.items.into_iter().map(|c| CredentialResource::new(account, &base, c)).collect();
    Ok(Json(ListBody { records, meta }))
}

/// Update a credential: <https://www.twilio.com/docs/conversations/api/credential-resource#update-a-credential-resource>
async fn update(
    ApiCall { state, account, base }: ApiCall,
    CredentialPath(sid): CredentialPath,
    TwilioForm(form): TwilioForm<Vec<(String, String)>>,
) -> Result<Json<CredentialResource>, ApiError> {
    let credential = state.store.update_credential(account, sid, fields(&FormPairs(form))?)?;
    Ok(Json(CredentialResource::new(account, &base, credential)))
}

/// Delete a credential: <https://www.twilio.com/docs/conversations/api/credential-resource#delete-a-credential-resource>
async fn delete(
    ApiCall { state, account, .. }: ApiCall,
    CredentialPath(sid): CredentialPath,
) -> Result<StatusCode, ApiError> {
    state.store.delete_credential(account, sid)?;
    Ok(StatusCode::NO_CONTENT)
}

/// A credential as Twilio renders it: no secret, and `sandbox` as the string Twilio's
/// examples show (`"False"`).
#[derive(Debug, Serialize)]
struct CredentialResource {
    sid: CredentialSid,
    account_sid: AccountSid,
    friendly_name: Option<String>,
    #[serde(rename = "type")]
    kind: &'static str,
    sandbox: &'static str,
    date_created: Timestamp,
    date_updated: Timestamp,
    url: String,
}

impl CredentialResource {
    fn new(account_sid: AccountSid, base: &str, credential: Credential) -> Self {
        Self {
            sid: credential.sid,
            account_sid,
            friendly_name: credential.friendly_name.as_deref().map(str::to_owned),
            kind: credential.kind.as_str(),
            sandbox: if credential.sandbox { "True" } else { "False" },
            date_created: credential.date_created,
            date_updated: credential.date_updated,
            url: format!("{base}/v1/Credentials/{}", credential.sid),
        }
    }
}
