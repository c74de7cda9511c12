//! Command-line flags and their environment variables.

use std::path::PathBuf;

use clap::builder::BoolishValueParser;
use clap::error::{ContextKind, ContextValue};
use clap::parser::ValueSource;
use clap::{ArgAction, CommandFactory, FromArgMatches, Parser};

use crate::sid::{AccountSid, ApiKeySid};
use crate::store::Durability;
use crate::store::persist::{CrashPoint, DEFAULT_COMPACT_AFTER, SyncPolicy};

/// The default port: Twilio's emulator needs one that clashes with nothing common (not
/// 3000, 8080 or Prism's 4010).
pub const DEFAULT_PORT: u16 = 4747;

/// The default limit on request bodies: far above any valid Twilio request.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

/// The default size of the request journal.
pub const DEFAULT_JOURNAL_SIZE: usize = 1000;

/// The default limit on one media upload: 5 MiB, Twilio's limit for media sent by MMS
/// (its limit for Conversations uploads is unconfirmed).
pub const DEFAULT_MAX_MEDIA_BYTES: usize = 5 * 1024 * 1024;

/// The default limit on what one account's uploads hold together.
pub const DEFAULT_MEDIA_QUOTA_BYTES: usize = 100 * 1024 * 1024;

/// The default limit on `/_emulator/` request bodies: room for a state document of
/// hundreds of thousands of messages, without buffering whatever a client sends.
pub const DEFAULT_MAX_CONTROL_BODY_BYTES: usize = 256 * 1024 * 1024;

/// The default time a client has to send a request's head: far more than any client
/// sending a whole request needs, short enough that half-sent requests do not pile up.
pub const DEFAULT_HEADER_TIMEOUT_MS: u64 = 10_000;

/// The default time a kept-alive connection may wait for its next request (nginx's
/// `keepalive_timeout`): longer than the SDKs' pools keep a connection between calls.
pub const DEFAULT_IDLE_TIMEOUT_MS: u64 = 75_000;

/// The default number of connections served at once: below the usual limit of 1,024 file
/// descriptors per process, leaving room for the state file and webhook deliveries.
pub const DEFAULT_MAX_CONNECTIONS: usize = 512;

/// The default time a shutdown waits for requests in flight: under the 10 s `docker stop`
/// gives before it kills the process.
pub const DEFAULT_SHUTDOWN_GRACE_MS: u64 = 5_000;

/// The default bound on the request journal's request text: each entry keeps at most
/// about 85 KiB (README, "The control plane"), so a thousand large ones cannot pin more
/// than this.
pub const DEFAULT_JOURNAL_MAX_BYTES: usize = 32 * 1024 * 1024;

/// An API key bound to an account, with its secret when strict auth should check it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiKey {
    pub sid: ApiKeySid,
    pub secret: Option<String>,
    pub account: AccountSid,
}

/// How the emulator is run.
#[derive(Clone, Debug, Parser)]
#[command(
    name = "twilio-conversations-emulator",
    version,
    about = "A local emulator of the Twilio Conversations Messages REST API"
)]
pub struct Config {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Address to listen on: an IP address or a name such as `localhost`, resolved at
    /// start-up. Use 0.0.0.0 inside a container.
    #[arg(long, global = true, env = "TWILIO_EMULATOR_HOST", default_value = "127.0.0.1", value_parser = parse_host)]
    pub host: String,

    /// Port to listen on; 0 picks a free one (the chosen address is printed on start-up).
    #[arg(long, global = true, env = "TWILIO_EMULATOR_PORT", default_value_t = DEFAULT_PORT)]
    pub port: u16,

    /// Base URL written into `url`, `links` and page URLs, e.g. `http://localhost:4747`.
    /// By default each response uses the scheme `http` and the request's `Host` header, so
    /// port mappings (Docker, proxies) keep working.
    #[arg(long, env = "TWILIO_EMULATOR_PUBLIC_URL", value_parser = parse_public_url)]
    pub public_url: Option<String>,

    /// Log filter, in `tracing`'s `EnvFilter` syntax (`info`, `warn`, `twilio_conversations_emulator::request=off`…).
    /// `RUST_LOG`, when set, takes precedence.
    #[arg(long, env = "TWILIO_EMULATOR_LOG", default_value = "info")]
    pub log_level: String,

    /// How log lines are written: `text` for people, `json` (one object per line) for
    /// machines.
    #[arg(long, env = "TWILIO_EMULATOR_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// API keys and the accounts they act for, as `SK…=AC…` or `SK…:secret=AC…`, separated
    /// by commas. Without `--accounts`, an API key not listed here acts for the account with
    /// the same 32 hex digits, and any secret is accepted.
    #[arg(long, env = "TWILIO_EMULATOR_API_KEYS", value_delimiter = ',', value_parser = parse_api_key)]
    pub api_keys: Vec<ApiKey>,

    /// Strict auth: the only accounts that exist, as `AC…:token` pairs separated by commas.
    /// Any other account, a wrong token, or an API key not bound by `--api-keys` with its
    /// secret then gets 401 20003, as on Twilio. Without it, any token is accepted.
    #[arg(long, env = "TWILIO_EMULATOR_ACCOUNTS", value_delimiter = ',', value_parser = parse_account)]
    pub accounts: Vec<(AccountSid, String)>,

    /// Where the emulator keeps its own files between runs: the certificate authority of
    /// proxy mode (`ca/cert.pem`, and `ca/key.pem` readable by its owner only), created on
    /// first start. Default: `$XDG_DATA_HOME/twilio-conversations-emulator`, else
    /// `~/.local/share/twilio-conversations-emulator`; when that cannot be written, the CA
    /// lives in memory for the run (served at `GET /_emulator/ca.pem` either way).
    #[arg(long, env = "TWILIO_EMULATOR_DATA_DIR")]
    pub data_dir: Option<PathBuf>,

    /// Loads a state document (or every `*.json` in a directory, in name order) at start-up.
    #[arg(long, env = "TWILIO_EMULATOR_SEED_FILE")]
    pub seed_file: Option<PathBuf>,

    /// Keeps the state in this file: restored at start, updated on every change so that a
    /// crash loses at most the request in flight. In memory only when absent.
    #[arg(long, env = "TWILIO_EMULATOR_STATE_FILE")]
    pub state_file: Option<PathBuf>,

    /// When the state file's log reaches the disk: `never` synced by the emulator (a write
    /// survives the process dying, not the machine), or `always` before the answer (it
    /// survives power loss too, at the cost of a sync per write).
    #[arg(long, env = "TWILIO_EMULATOR_STATE_SYNC", value_enum, default_value_t = StateSync::Never)]
    pub state_sync: StateSync,

    /// Rewrites the state file's snapshot once this many changes were logged since the
    /// last one (and at least as many as the snapshot holds records).
    #[arg(long, env = "TWILIO_EMULATOR_STATE_COMPACT_AFTER", default_value_t = DEFAULT_COMPACT_AFTER)]
    pub state_compact_after: usize,

    /// For the emulator's own crash tests: abort at this step of the first compaction.
    #[arg(long, hide = true)]
    pub crash_during_compaction: Option<CrashPoint>,

    /// How many Twilio API requests the request journal keeps (oldest dropped first).
    #[arg(long, env = "TWILIO_EMULATOR_JOURNAL_SIZE", default_value_t = DEFAULT_JOURNAL_SIZE)]
    pub journal_size: usize,

    /// The most bytes of request text (targets, headers, bodies) the journal holds
    /// together; the oldest entries are dropped to stay under it.
    #[arg(long, env = "TWILIO_EMULATOR_JOURNAL_MAX_BYTES", default_value_t = DEFAULT_JOURNAL_MAX_BYTES)]
    pub journal_max_bytes: usize,

    /// Requires `Authorization: Bearer <token>` on the `/_emulator/` endpoints (except
    /// `/_emulator/health`).
    #[arg(long, env = "TWILIO_EMULATOR_CONTROL_TOKEN")]
    pub control_token: Option<String>,

    /// Turns the `/_emulator/` endpoints off (except `/_emulator/health`): they answer 404.
    /// The variable takes 1/0, true/false, yes/no (or y/n, on/off), in any case.
    #[arg(long, env = "TWILIO_EMULATOR_NO_CONTROL", action = ArgAction::SetTrue, value_parser = BoolishValueParser::new())]
    pub no_control: bool,

    /// Seed for SID generation: the same requests then produce the same SIDs on every run.
    #[arg(long, env = "TWILIO_EMULATOR_SEED")]
    pub seed: Option<u64>,

    /// Largest request body accepted, in bytes; larger ones get a 413.
    #[arg(long, env = "TWILIO_EMULATOR_MAX_BODY_BYTES", default_value_t = DEFAULT_MAX_BODY_BYTES)]
    pub max_body_bytes: usize,

    /// Largest media upload (`POST /v1/Services/{IS}/Media`), in bytes; larger ones get
    /// 413 with code 50512. It replaces `--max-body-bytes` for uploads.
    #[arg(long, env = "TWILIO_EMULATOR_MAX_MEDIA_BYTES", default_value_t = DEFAULT_MAX_MEDIA_BYTES)]
    pub max_media_bytes: usize,

    /// The most bytes one account's uploads may hold together; an upload past it gets 413
    /// with code 50512.
    #[arg(long, env = "TWILIO_EMULATOR_MEDIA_QUOTA_BYTES", default_value_t = DEFAULT_MEDIA_QUOTA_BYTES)]
    pub media_quota_bytes: usize,

    /// Largest `/_emulator/` request body (state documents, fault rules), in bytes; larger
    /// ones get a 413.
    #[arg(long, env = "TWILIO_EMULATOR_MAX_CONTROL_BODY_BYTES", default_value_t = DEFAULT_MAX_CONTROL_BODY_BYTES)]
    pub max_control_body_bytes: usize,

    /// How long a client has to send a request's head, in milliseconds, counted from the
    /// connection's acceptance or the first byte of the request; the connection is then
    /// closed.
    #[arg(long, env = "TWILIO_EMULATOR_HEADER_TIMEOUT_MS", default_value_t = DEFAULT_HEADER_TIMEOUT_MS)]
    pub header_timeout_ms: u64,

    /// How long a kept-alive connection may wait for its next request, in milliseconds.
    #[arg(long, env = "TWILIO_EMULATOR_IDLE_TIMEOUT_MS", default_value_t = DEFAULT_IDLE_TIMEOUT_MS)]
    pub idle_timeout_ms: u64,

    /// How many connections are served at once; further clients wait until one closes.
    #[arg(long, env = "TWILIO_EMULATOR_MAX_CONNECTIONS", default_value_t = DEFAULT_MAX_CONNECTIONS)]
    pub max_connections: usize,

    /// How long SIGINT or SIGTERM waits for the requests in flight, in milliseconds, before
    /// closing their connections and exiting.
    #[arg(long, env = "TWILIO_EMULATOR_SHUTDOWN_GRACE_MS", default_value_t = DEFAULT_SHUTDOWN_GRACE_MS)]
    pub shutdown_grace_ms: u64,

    /// How long a webhook receiver has to answer, in milliseconds (Twilio's limit is 5 s).
    /// A pre-event that times out proceeds unmodified.
    #[arg(long, env = "TWILIO_EMULATOR_WEBHOOK_TIMEOUT_MS", default_value_t = 5000)]
    pub webhook_timeout_ms: u64,

    /// How many times a post-event webhook is sent again after a time-out, a connection
    /// failure, or a 429, 502, 503 or 504 answer (Twilio's Chat default: 0).
    #[arg(long, env = "TWILIO_EMULATOR_WEBHOOK_RETRIES", default_value_t = 0)]
    pub webhook_retries: u32,

    /// How many webhook deliveries `/_emulator/webhooks/deliveries` keeps (oldest dropped
    /// first).
    #[arg(long, env = "TWILIO_EMULATOR_WEBHOOK_LOG_SIZE", default_value_t = 1000)]
    pub webhook_log_size: usize,

    /// The flags whose values came from environment variables, by flag id (`port`) with
    /// the variable's name: what an error caused by one names.
    #[arg(skip)]
    pub from_environment: Vec<(String, String)>,
}

/// How log lines are written (see `--log-format`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// When the state file's log is synced to the disk (see `--state-sync`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum StateSync {
    Never,
    Always,
}

impl Config {
    /// How webhooks are sent.
    pub fn webhooks(&self) -> crate::webhooks::WebhookSettings {
        crate::webhooks::WebhookSettings {
            timeout: std::time::Duration::from_millis(self.webhook_timeout_ms),
            retries: self.webhook_retries,
            log_capacity: self.webhook_log_size,
        }
    }

    /// The server loop's connection limit and timeouts.
    pub(crate) fn connection_limits(&self) -> crate::server::ConnectionLimits {
        use std::time::Duration;
        crate::server::ConnectionLimits {
            header_timeout: Duration::from_millis(self.header_timeout_ms),
            idle_timeout: Duration::from_millis(self.idle_timeout_ms),
            max_connections: self.max_connections,
            shutdown_grace: Duration::from_millis(self.shutdown_grace_ms),
        }
    }

    /// How the state file is kept.
    pub fn durability(&self) -> Durability {
        let sync = match self.state_sync {
            StateSync::Never => SyncPolicy::Never,
            StateSync::Always => SyncPolicy::Always,
        };
        Durability { sync, compact_after: self.state_compact_after, crash_at: self.crash_during_compaction }
    }
}

/// The data directory used when `--data-dir` is not given: `$XDG_DATA_HOME/…`, else
/// `$HOME/.local/share/…`, as the XDG base directory specification has it; `None` when
/// neither variable is set.
pub fn default_data_dir() -> Option<PathBuf> {
    let non_empty = |name| std::env::var_os(name).filter(|value| !value.is_empty()).map(PathBuf::from);
    let base = non_empty("XDG_DATA_HOME").or_else(|| non_empty("HOME").map(|home| home.join(".local/share")))?;
    Some(base.join("twilio-conversations-emulator"))
}

/// What to do instead of serving.
#[derive(Clone, Copy, Debug, clap::Subcommand)]
pub enum Command {
    /// Exit 0 if the instance on --host/--port is healthy; otherwise say why on stderr and
    /// exit 1 (for Docker).
    Healthcheck {
        /// How long to wait for the answer, in milliseconds.
        #[arg(long, default_value_t = 3000)]
        timeout_ms: u64,
    },
}

impl Config {
    /// The flags and their variables, from this process's command line and environment; on
    /// an invalid value, exits with clap's message (status 2), which names the environment
    /// variable when the value came from one (clap names only the flag).
    pub fn from_env_and_args() -> Self {
        let command = Self::command();
        let matches = match command.clone().try_get_matches() {
            Ok(matches) => matches,
            Err(error) => {
                let rendered = error.render().to_string();
                match variable_behind(&command, &error) {
                    Some(variable) => {
                        let rest = rendered.strip_prefix("error: ").unwrap_or(&rendered);
                        eprint!("error: in the environment variable {variable}: {rest}");
                        std::process::exit(2);
                    }
                    None => error.exit(),
                }
            }
        };
        let mut config = Self::from_arg_matches(&matches).unwrap_or_else(|error| error.exit());
        config.from_environment = command
            .get_arguments()
            .filter(|arg| matches.value_source(arg.get_id().as_str()) == Some(ValueSource::EnvVariable))
            .filter_map(|arg| Some((arg.get_id().to_string(), arg.get_env()?.to_string_lossy().into_owned())))
            .collect();
        config
    }

    /// Where the value of the flag `id` (`port`, `state_file`…) came from, for an error
    /// message: ` (from TWILIO_EMULATOR_PORT)` when it was an environment variable, else
    /// nothing.
    pub fn source_of(&self, id: &str) -> String {
        self.from_environment
            .iter()
            .find(|(flag, _)| flag == id)
            .map_or_else(String::new, |(_, variable)| format!(" (from {variable})"))
    }
}

/// The environment variable whose value clap refused in `error`: the refused flag has a
/// variable, the variable holds the refused value, and the command line does not give the
/// flag.
fn variable_behind(command: &clap::Command, error: &clap::Error) -> Option<String> {
    let Some(ContextValue::String(flag)) = error.get(ContextKind::InvalidArg) else { return None };
    let Some(ContextValue::String(value)) = error.get(ContextKind::InvalidValue) else { return None };
    let long = flag.trim_start_matches('-').split([' ', '=']).next()?;
    let arg = command.get_arguments().find(|arg| arg.get_long() == Some(long))?;
    let variable = arg.get_env()?;
    let on_command_line =
        std::env::args().any(|given| given == format!("--{long}") || given.starts_with(&format!("--{long}=")));
    let holds_value = std::env::var_os(variable).is_some_and(|held| held.to_string_lossy() == *value);
    (holds_value && !on_command_line).then(|| variable.to_string_lossy().into_owned())
}

impl Config {
    /// Every flag at its default, as if none were given, built without reading the command
    /// line or `TWILIO_EMULATOR_*` variables: an embedding program or a test is then not
    /// affected by the environment it runs in.
    pub fn defaults() -> Self {
        Self {
            command: None,
            host: "127.0.0.1".to_owned(),
            port: DEFAULT_PORT,
            public_url: None,
            log_level: "info".to_owned(),
            log_format: LogFormat::Text,
            api_keys: Vec::new(),
            accounts: Vec::new(),
            data_dir: None,
            seed_file: None,
            state_file: None,
            state_sync: StateSync::Never,
            state_compact_after: DEFAULT_COMPACT_AFTER,
            crash_during_compaction: None,
            journal_size: DEFAULT_JOURNAL_SIZE,
            journal_max_bytes: DEFAULT_JOURNAL_MAX_BYTES,
            control_token: None,
            no_control: false,
            seed: None,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_control_body_bytes: DEFAULT_MAX_CONTROL_BODY_BYTES,
            max_media_bytes: DEFAULT_MAX_MEDIA_BYTES,
            media_quota_bytes: DEFAULT_MEDIA_QUOTA_BYTES,
            header_timeout_ms: DEFAULT_HEADER_TIMEOUT_MS,
            idle_timeout_ms: DEFAULT_IDLE_TIMEOUT_MS,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            shutdown_grace_ms: DEFAULT_SHUTDOWN_GRACE_MS,
            webhook_timeout_ms: 5000,
            webhook_retries: 0,
            webhook_log_size: 1000,
            from_environment: Vec::new(),
        }
    }
}

fn parse_api_key(entry: &str) -> Result<ApiKey, String> {
    let (key, account) =
        entry.split_once('=').ok_or_else(|| format!("`{entry}` is not of the form SK…[:secret]=AC…"))?;
    let (sid, secret) = match key.split_once(':') {
        Some((sid, secret)) => (sid, Some(secret.to_owned())),
        None => (key, None),
    };
    Ok(ApiKey {
        sid: sid.trim().parse().map_err(|e| format!("{e}"))?,
        secret,
        account: account.trim().parse().map_err(|e| format!("{e}"))?,
    })
}

/// A listen address: an IP literal (IPv6 with or without brackets) or a host name, looked
/// up when the listener binds.
fn parse_host(host: &str) -> Result<String, String> {
    let host = host.trim().trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() || host.contains(char::is_whitespace) || host.contains('/') {
        return Err(format!("`{host}` is not an IP address or a host name"));
    }
    Ok(host.to_owned())
}

/// A base URL is written into JSON as it is, so it must be printable ASCII without quotes,
/// backslashes or spaces, and start with a scheme.
fn parse_public_url(url: &str) -> Result<String, String> {
    let printable = url.bytes().all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\');
    if !printable || !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(format!("`{url}` is not an http(s) URL of printable ASCII"));
    }
    Ok(url.to_owned())
}

fn parse_account(entry: &str) -> Result<(AccountSid, String), String> {
    let (sid, token) = entry.split_once(':').ok_or_else(|| format!("`{entry}` is not of the form AC…:token"))?;
    if token.is_empty() {
        return Err(format!("`{entry}` has an empty token"));
    }
    Ok((sid.trim().parse().map_err(|e| format!("{e}"))?, token.to_owned()))
}
