//! Who a request acts for. HTTP Basic with an Account SID and auth token, or an API key
//! and its secret, as on Twilio (<https://www.twilio.com/docs/iam/api/authentication>).
//!
//! Permissive by default: any token is accepted for a well-formed Account SID, so every
//! test can invent its own tenant. With `--accounts`, only the listed accounts exist and
//! wrong secrets are refused like on Twilio.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use crate::config::{ApiKey, Config};
use crate::error::ApiError;
use crate::sid::{AccountSid, ApiKeySid};

/// The known accounts and API keys.
#[derive(Debug, Default)]
pub struct Credentials {
    /// `Some` in strict mode: the only accounts that exist, with their auth tokens.
    accounts: Option<HashMap<AccountSid, String>>,
    api_keys: HashMap<ApiKeySid, ApiKey>,
    /// Permissive mode: the auth token each account last authenticated with, which signs
    /// its webhooks, so an app that uses one token for its client and its validator
    /// passes with no setting. Written only when a thread sees new credentials
    /// (`crate::extract` remembers the last ones), so not on every request.
    last_tokens: RwLock<HashMap<AccountSid, Arc<str>>>,
}

impl Credentials {
    /// The credentials `config` describes.
    pub fn from_config(config: &Config) -> Self {
        let accounts = (!config.accounts.is_empty()).then(|| config.accounts.iter().cloned().collect());
        let api_keys = config.api_keys.iter().map(|key| (key.sid, key.clone())).collect();
        Self { accounts, api_keys, last_tokens: RwLock::default() }
    }

    /// The auth token that signs `account`'s webhooks: the configured one in strict mode,
    /// else the one its most recent request authenticated with (`None` before any).
    pub fn signing_token(&self, account: AccountSid) -> Option<Arc<str>> {
        match &self.accounts {
            Some(accounts) => accounts.get(&account).map(|token| Arc::from(token.as_str())),
            None => self.last_tokens.read().unwrap_or_else(PoisonError::into_inner).get(&account).cloned(),
        }
    }

    /// Remembers `token` as `account`'s, unless it already is.
    fn remember_token(&self, account: AccountSid, token: &str) {
        let known = self
            .last_tokens
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&account)
            .is_some_and(|t| &**t == token);
        if !known {
            self.last_tokens.write().unwrap_or_else(PoisonError::into_inner).insert(account, Arc::from(token));
        }
    }

    /// Whether wrong secrets are refused.
    pub fn is_strict(&self) -> bool {
        self.accounts.is_some()
    }

    /// The account that `username:password` acts for.
    pub fn authenticate(&self, username: &str, password: &str) -> Result<AccountSid, ApiError> {
        if password.is_empty() {
            return Err(ApiError::InvalidCredentials);
        }
        if let Ok(account) = username.parse::<AccountSid>() {
            return match &self.accounts {
                None => {
                    self.remember_token(account, password);
                    Ok(account)
                }
                Some(accounts) if accounts.get(&account).is_some_and(|token| token == password) => Ok(account),
                Some(_) => Err(ApiError::InvalidCredentials),
            };
        }
        let key: ApiKeySid = username.parse().map_err(|_| ApiError::InvalidUsername)?;
        match (self.api_keys.get(&key), self.is_strict()) {
            (Some(bound), strict) => {
                let secret_ok = bound.secret.as_deref().is_none_or(|secret| secret == password);
                // In strict mode a key must have its secret configured, and it must match.
                if secret_ok && (!strict || bound.secret.is_some()) {
                    Ok(bound.account)
                } else {
                    Err(ApiError::InvalidCredentials)
                }
            }
            // An unbound key acts for the account with its own digits, so that each key is
            // a stable, isolated tenant even with no configuration.
            (None, false) => Ok(AccountSid::from_bits(key.bits())),
            (None, true) => Err(ApiError::InvalidCredentials),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AC: &str = "AC00000000000000000000000000000001";
    const SK: &str = "SK00000000000000000000000000000002";

    fn credentials(accounts: &[(&str, &str)], keys: &[(&str, Option<&str>)]) -> Credentials {
        let mut config = Config::defaults();
        config.accounts = accounts.iter().map(|(sid, token)| (sid.parse().unwrap(), token.to_string())).collect();
        config.api_keys = keys
            .iter()
            .map(|(sid, secret)| ApiKey {
                sid: sid.parse().unwrap(),
                secret: secret.map(str::to_owned),
                account: AC.parse().unwrap(),
            })
            .collect();
        Credentials::from_config(&config)
    }

    #[test]
    fn permissive_mode_accepts_any_token_and_unbound_keys() {
        let open = credentials(&[], &[]);
        assert_eq!(open.authenticate(AC, "anything").unwrap().to_string(), AC);
        assert_eq!(open.authenticate(SK, "x").unwrap().to_string(), "AC00000000000000000000000000000002");
        assert_eq!(open.authenticate(AC, ""), Err(ApiError::InvalidCredentials));
        assert_eq!(open.authenticate("nobody", "x"), Err(ApiError::InvalidUsername));
    }

    #[test]
    fn strict_mode_checks_tokens_and_key_secrets() {
        let strict = credentials(&[(AC, "right")], &[(SK, Some("secret"))]);
        assert!(strict.authenticate(AC, "right").is_ok());
        assert_eq!(strict.authenticate(AC, "wrong"), Err(ApiError::InvalidCredentials));
        assert_eq!(
            strict.authenticate("AC00000000000000000000000000000009", "right"),
            Err(ApiError::InvalidCredentials)
        );
        assert_eq!(strict.authenticate(SK, "secret").unwrap().to_string(), AC);
        assert_eq!(strict.authenticate(SK, "nope"), Err(ApiError::InvalidCredentials));
        assert_eq!(
            strict.authenticate("SK00000000000000000000000000000003", "secret"),
            Err(ApiError::InvalidCredentials)
        );
    }
}
