//! What every handler shares: the store, the clock, the control plane and the settings
//! that shape responses.

use std::sync::Arc;
use std::time::Instant;

use crate::auth::Credentials;
use crate::config::Config;
use crate::control::ControlPlane;
use crate::sid::SidGenerator;
use crate::store::Store;
use crate::time::Clock;

/// Shared state, cheap to clone into every request.
#[derive(Clone, Debug)]
pub struct AppState {
    pub store: Store,
    /// The clock the store stamps records with; `/_emulator/clock` sets it.
    pub clock: Clock,
    pub control: Arc<ControlPlane>,
    pub settings: Arc<Settings>,
    /// When the server started, for the health report.
    pub started: Instant,
}

/// Who may use the `/_emulator/` endpoints other than health.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ControlAccess {
    Open,
    /// `Authorization: Bearer <token>` required.
    Token(String),
    /// The endpoints answer 404.
    Disabled,
}

/// The parts of [`Config`] that requests need, parsed once.
#[derive(Debug)]
pub struct Settings {
    /// Fixed base URL for links, or `None` to derive it from each request's `Host`.
    pub public_url: Option<Arc<str>>,
    /// Fallback authority when a request carries no usable `Host` header.
    pub listen_authority: String,
    pub credentials: Credentials,
    pub control: ControlAccess,
    pub max_body_bytes: usize,
}

impl AppState {
    /// State for `config`, listening on `listen_authority` (`host:port`).
    pub fn new(config: &Config, listen_authority: String) -> Self {
        let sids = config.seed.map_or_else(SidGenerator::random, SidGenerator::seeded);
        let control = match (&config.control_token, config.no_control) {
            (_, true) => ControlAccess::Disabled,
            (Some(token), false) => ControlAccess::Token(token.clone()),
            (None, false) => ControlAccess::Open,
        };
        let settings = Settings {
            public_url: config.public_url.as_ref().map(|url| url.trim_end_matches('/').into()),
            listen_authority,
            credentials: Credentials::from_config(config),
            control,
            max_body_bytes: config.max_body_bytes,
        };
        let clock = Clock::system();
        Self {
            store: Store::new(clock.clone(), sids),
            clock,
            control: Arc::new(ControlPlane::new(config.journal_size)),
            settings: Arc::new(settings),
            started: Instant::now(),
        }
    }
}
