//! Command-line flags and their environment variables.

use std::collections::HashMap;
use std::net::IpAddr;

use clap::Parser;

use crate::sid::{AccountSid, ApiKeySid};

/// The default port: Twilio's emulator needs one that clashes with nothing common (not
/// 3000, 8080 or Prism's 4010).
pub const DEFAULT_PORT: u16 = 4747;

/// The default limit on request bodies: far above any valid Twilio request.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

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

    /// Address to listen on. Use 0.0.0.0 inside a container.
    #[arg(
        long,
        global = true,
        env = "TWILIO_EMULATOR_HOST",
        default_value = "127.0.0.1"
    )]
    pub host: IpAddr,

    /// Port to listen on; 0 picks a free one (the chosen address is printed on start-up).
    #[arg(long, global = true, env = "TWILIO_EMULATOR_PORT", default_value_t = DEFAULT_PORT)]
    pub port: u16,

    /// Base URL written into `url`, `links` and page URLs, e.g. `http://localhost:4747`.
    /// By default each response uses the scheme `http` and the request's `Host` header, so
    /// port mappings (Docker, proxies) keep working.
    #[arg(long, env = "TWILIO_EMULATOR_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Log filter, in `tracing`'s `EnvFilter` syntax (`info`, `debug`, `tower_http=debug`…).
    /// `RUST_LOG`, when set, takes precedence.
    #[arg(long, env = "TWILIO_EMULATOR_LOG", default_value = "info")]
    pub log_level: String,

    /// API keys and the accounts they act for, as `SK…=AC…` pairs separated by commas. An
    /// API key not listed here acts for the account with the same 32 hex digits.
    #[arg(long, env = "TWILIO_EMULATOR_API_KEYS", value_delimiter = ',', value_parser = parse_api_key)]
    pub api_keys: Vec<(ApiKeySid, AccountSid)>,

    /// Seed for SID generation: the same requests then produce the same SIDs on every run.
    #[arg(long, env = "TWILIO_EMULATOR_SEED")]
    pub seed: Option<u64>,

    /// Largest request body accepted, in bytes; larger ones get a 413.
    #[arg(long, env = "TWILIO_EMULATOR_MAX_BODY_BYTES", default_value_t = DEFAULT_MAX_BODY_BYTES)]
    pub max_body_bytes: usize,
}

/// What to do instead of serving.
#[derive(Clone, Copy, Debug, clap::Subcommand)]
pub enum Command {
    /// Exit 0 if the instance on --host/--port is healthy, 1 otherwise (for Docker).
    Healthcheck,
}

impl Config {
    /// The API key table as a map.
    pub fn api_key_accounts(&self) -> HashMap<ApiKeySid, AccountSid> {
        self.api_keys.iter().copied().collect()
    }

    /// The defaults, built without reading flags or `TWILIO_EMULATOR_*` variables, so an
    /// embedding program or a test is not affected by the environment it runs in.
    pub fn for_tests() -> Self {
        Self {
            command: None,
            host: IpAddr::from([127, 0, 0, 1]),
            port: 0,
            public_url: None,
            log_level: "info".to_owned(),
            api_keys: Vec::new(),
            seed: None,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }
}

fn parse_api_key(pair: &str) -> Result<(ApiKeySid, AccountSid), String> {
    let (key, account) = pair
        .split_once('=')
        .ok_or_else(|| format!("`{pair}` is not of the form SK…=AC…"))?;
    let key = key.trim().parse().map_err(|e| format!("{e}"))?;
    let account = account.trim().parse().map_err(|e| format!("{e}"))?;
    Ok((key, account))
}
