//! What every handler shares: the store, the clock, the control plane and the settings
//! that shape responses.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use crate::auth::Credentials;
use crate::ca::{Authority, CaError};
use crate::config::{self, Config};
use crate::control::ControlPlane;
use crate::live::Live;
use crate::request_log::RequestLog;
use crate::sid::SidGenerator;

use crate::store::{ImportFailure, ImportMode, StateFileError, Store};
use crate::time::Clock;
use crate::webhooks::Webhooks;

/// Shared state, cloned into every request and every middleware of it: one reference
/// count, whatever `Shared` holds.
#[derive(Clone, Debug)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What [`AppState`] shares.
#[derive(Debug)]
pub struct Shared {
    pub store: Store,
    /// The clock the store stamps records with; `/_emulator/clock` sets it.
    pub clock: Clock,
    pub control: Arc<ControlPlane>,
    pub settings: Arc<Settings>,
    /// When the server started, for the health report.
    pub started: Instant,
    /// The `info` line per request, written off the request path.
    pub request_log: RequestLog,
    /// The webhook sender and its delivery log.
    pub webhooks: Webhooks,
    /// The certificate authority of proxy mode, or why there is none (proxy mode is then
    /// off: a `CONNECT` is answered with the reason).
    pub authority: Result<Arc<Authority>, Arc<CaError>>,
    /// The inspector's live stream of changes.
    pub live: Live,
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
    /// Unique to these settings in this process: what a per-thread memo of answers that
    /// depend on them (`crate::extract`) is keyed by, so that two servers in one process
    /// (tests run many) never share an answer.
    pub id: u64,
    /// Fixed base URL for links, or `None` to derive it from each request's `Host`.
    pub public_url: Option<Arc<str>>,
    /// Fallback authority when a request carries no usable `Host` header.
    pub listen_authority: String,
    pub credentials: Arc<Credentials>,
    pub control: ControlAccess,
    pub max_body_bytes: usize,
    /// The largest media upload (`--max-media-bytes`).
    pub max_media_bytes: usize,
    /// What one account's uploads may hold together (`--media-quota-bytes`).
    pub media_quota_bytes: usize,
    /// The largest `/_emulator/` request body (state documents, rules).
    pub max_control_body_bytes: usize,
    /// The connection limit and timeouts of the server loop.
    pub connections: crate::server::ConnectionLimits,
}

/// Why the emulator cannot start with its configuration.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot read seed {path}: {error}")]
    SeedUnreadable { path: PathBuf, error: std::io::Error },
    #[error("seed {path} is not a state document: {error}")]
    SeedMalformed { path: PathBuf, error: serde_json::Error },
    #[error("seed {path} was refused: {error}")]
    SeedRefused { path: PathBuf, error: ImportFailure },
    #[error("state file {path}: {error} (the file was left untouched)")]
    StateFile { path: PathBuf, error: StateFileError },
    #[error("proxy mode's certificate authority (--data-dir): {0}")]
    Authority(CaError),
}

impl StartupError {
    /// The id of the flag whose value caused the error (`Config::source_of` names its
    /// environment variable).
    pub fn flag(&self) -> &'static str {
        match self {
            Self::SeedUnreadable { .. } | Self::SeedMalformed { .. } | Self::SeedRefused { .. } => "seed_file",
            Self::StateFile { .. } => "state_file",
            Self::Authority(_) => "data_dir",
        }
    }
}

impl AppState {
    /// State for `config` with its seed files loaded: what the binary serves.
    pub fn prepare(config: &Config, listen_authority: String) -> Result<Self, StartupError> {
        let authority = match &config.data_dir {
            // A directory the user named must work: failing to start says so at once.
            Some(dir) => Authority::in_dir(dir).map_err(StartupError::Authority)?,
            None => default_authority().map_err(StartupError::Authority)?,
        };
        let state = Self::with_authority(config, listen_authority, Ok(Arc::new(authority)));
        let mut restored = false;
        if let Some(path) = &config.state_file {
            restored = state
                .store
                .open_state_file(path, config.durability())
                .map_err(|error| StartupError::StateFile { path: path.clone(), error })?;
        }
        // Seeds fill a new state; a restored one already holds them.
        if let Some(seed) = config.seed_file.as_ref().filter(|_| !restored) {
            for path in seed_files(seed)? {
                let text = std::fs::read_to_string(&path)
                    .map_err(|error| StartupError::SeedUnreadable { path: path.clone(), error })?;
                let document = serde_json::from_str(&text)
                    .map_err(|error| StartupError::SeedMalformed { path: path.clone(), error })?;
                let summary = state
                    .store
                    .import(document, ImportMode::Merge)
                    .map_err(|error| StartupError::SeedRefused { path: path.clone(), error })?;
                tracing::info!(path = %path.display(), ?summary, "seed loaded");
            }
        }
        Ok(state)
    }

    /// State for `config`, listening on `listen_authority` (`host:port`), with nothing loaded
    /// and proxy mode's CA in `--data-dir` if given, else in memory: an embedding program or
    /// a test writes nothing to the user's data directory.
    pub fn new(config: &Config, listen_authority: String) -> Self {
        let authority = match &config.data_dir {
            Some(dir) => Authority::in_dir(dir),
            None => Authority::in_memory(),
        };
        if let Err(error) = &authority {
            tracing::error!(%error, "proxy mode is off: no certificate authority");
        }
        Self::with_authority(config, listen_authority, authority.map(Arc::new).map_err(Arc::new))
    }

    fn with_authority(
        config: &Config,
        listen_authority: String,
        authority: Result<Arc<Authority>, Arc<CaError>>,
    ) -> Self {
        let sids = config.seed.map_or_else(SidGenerator::random, SidGenerator::seeded);
        let control = match (&config.control_token, config.no_control) {
            (_, true) => ControlAccess::Disabled,
            (Some(token), false) => ControlAccess::Token(token.clone()),
            (None, false) => ControlAccess::Open,
        };
        // A counter, not a random number: ids must never repeat within the process.
        static SETTINGS_IDS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let settings = Settings {
            id: SETTINGS_IDS.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            public_url: config.public_url.as_ref().map(|url| url.trim_end_matches('/').into()),
            listen_authority,
            credentials: Arc::new(Credentials::from_config(config)),
            control,
            max_body_bytes: config.max_body_bytes,
            max_control_body_bytes: config.max_control_body_bytes,
            max_media_bytes: config.max_media_bytes,
            media_quota_bytes: config.media_quota_bytes,
            connections: config.connection_limits(),
        };
        let clock = Clock::system();
        let request_log = RequestLog::to_stderr(settings.id, config.log_format);
        let store = Store::new(clock.clone(), sids);
        let webhooks =
            Webhooks::new(store.clone(), clock.clone(), Arc::clone(&settings.credentials), config.webhooks());
        Self(Arc::new(Shared {
            live: Live::new(store.clone()),
            store,
            webhooks,
            clock,
            control: Arc::new(ControlPlane::new(config.journal_size, config.journal_max_bytes)),
            settings: Arc::new(settings),
            started: Instant::now(),
            request_log,
            authority,
        }))
    }

    /// The start-up line naming proxy mode's CA certificate, or why proxy mode is off.
    pub fn describe_proxy_ca(&self) -> String {
        match &self.authority {
            Ok(authority) => authority.describe(),
            Err(error) => format!("proxy mode is off: no certificate authority ({error})"),
        }
    }
}

/// The CA in the default data directory ([`config::default_data_dir`]), or, when it cannot
/// be kept there (no home directory, a read-only file system in a container), one in
/// memory: proxy mode then works for this run, and start-up does not fail over a default.
fn default_authority() -> Result<Authority, CaError> {
    if let Some(dir) = config::default_data_dir() {
        match Authority::in_dir(&dir) {
            Ok(authority) => return Ok(authority),
            Err(error) => tracing::warn!(%error, "proxy mode's CA cannot be kept; it lives in memory for this run"),
        }
    }
    Authority::in_memory()
}

/// The seed files `path` names: itself, or the `*.json` files in it in name order.
fn seed_files(path: &Path) -> Result<Vec<PathBuf>, StartupError> {
    let unreadable = |error| StartupError::SeedUnreadable { path: path.to_owned(), error };
    if !path.is_dir() {
        return Ok(vec![path.to_owned()]);
    }
    let mut files = Vec::new();
    for entry in std::fs::read_dir(path).map_err(unreadable)? {
        let file = entry.map_err(unreadable)?.path();
        if file.extension().is_some_and(|extension| extension == "json") {
            files.push(file);
        }
    }
    files.sort();
    Ok(files)
}
