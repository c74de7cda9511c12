//! What every handler shares: the store and the settings that shape responses.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use crate::config::Config;
use crate::sid::{AccountSid, ApiKeySid, SidGenerator};
use crate::store::Store;
use crate::time::Clock;

/// Shared state, cheap to clone into every request.
#[derive(Clone, Debug)]
pub struct AppState {
    pub store: Store,
    pub settings: Arc<Settings>,
    /// When the server started, for the health report.
    pub started: Instant,
}

/// The parts of [`Config`] that requests need, parsed once.
#[derive(Debug)]
pub struct Settings {
    /// Fixed base URL for links, or `None` to derive it from each request's `Host`.
    pub public_url: Option<Arc<str>>,
    /// Fallback authority when a request carries no usable `Host` header.
    pub listen_authority: String,
    pub api_keys: HashMap<ApiKeySid, AccountSid>,
    pub max_body_bytes: usize,
}

impl AppState {
    /// State for `config`, listening on `listen_authority` (`host:port`).
    pub fn new(config: &Config, listen_authority: String) -> Self {
        let sids = config
            .seed
            .map_or_else(SidGenerator::random, SidGenerator::seeded);
        let settings = Settings {
            public_url: config
                .public_url
                .as_ref()
                .map(|url| url.trim_end_matches('/').into()),
            listen_authority,
            api_keys: config.api_key_accounts(),
            max_body_bytes: config.max_body_bytes,
        };
        Self {
            store: Store::new(Clock::system(), sids),
            settings: Arc::new(settings),
            started: Instant::now(),
        }
    }
}
