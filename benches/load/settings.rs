//! How big a run is: the sizes by default, tiny ones with `BENCH_QUICK=1`, and a few
//! environment variables to change one dimension at a time.

use std::time::Duration;

use serde::Serialize;

/// The sizes and shape of one benchmark run.
#[derive(Clone, Debug, Serialize)]
pub struct Settings {
    /// `BENCH_QUICK=1`: every scenario with tiny counts, to check that the suite works.
    pub quick: bool,
    /// Connections for the measured scenarios (`BENCH_CONNECTIONS`).
    pub connections: usize,
    /// Connections that fill the large stores (`BENCH_FILL_CONNECTIONS`).
    pub fill_connections: usize,
    /// Worker threads of the load generator's runtime (`BENCH_CLIENT_THREADS`).
    pub client_threads: usize,
    /// Measured rounds per scenario and server; the servers compared take turns round by
    /// round, so a slow spell of the machine hits all of them (`BENCH_ROUNDS`).
    pub rounds: usize,
    /// Rounds for the comparisons of near-equal servers (the default log against the quiet
    /// one, a live inspector page against none), judged at 5 %: over `rounds`, two
    /// identical servers differ by more than that on the reference machine (the A/A runs
    /// in BENCHMARKS.md, "The request log") (`BENCH_CLOSE_ROUNDS`).
    pub close_rounds: usize,
    /// Requests per round for scenarios with message-sized answers (`BENCH_REQUESTS`).
    pub requests: usize,
    /// Requests per round for list pages, whose answers are 50 times larger
    /// (`BENCH_LIST_REQUESTS`).
    pub list_requests: usize,
    /// Unmeasured requests before the rounds, per server: connections, caches and the
    /// allocator settle.
    pub warmup: usize,
    pub list_warmup: usize,
    /// Messages in the small store's conversation.
    pub small_store: usize,
    /// Messages in the large stores: 1,000,000 times `BENCH_SCALE` (default 1).
    pub large_store: usize,
    /// Conversations the second large store spreads its messages over: 10,000 times
    /// `BENCH_SCALE`.
    pub conversations: usize,
    /// Start-ups timed (`BENCH_START_UPS`); the median is reported.
    pub start_ups: usize,
    /// `BENCH_ONLY`: the phases to run, comma-separated (`start-up`, `small`, `large`,
    /// `spread`, `import`, `log`, `durable`, `webhooks`, `soak`); empty runs them all but
    /// the soak. For profiling one phase.
    pub only: Vec<String>,
    /// Longest any single run may take before the benchmark fails.
    #[serde(skip)]
    pub deadline: Duration,
    /// `BENCH_SOAK_SECONDS`: how long the soak lasts (600; 6 with `BENCH_QUICK`).
    pub soak_seconds: u64,
    /// `BENCH_SOAK_RESET_SECONDS`: how often the soak resets the store (30; 2 with `BENCH_QUICK`).
    pub soak_reset_seconds: u64,
    /// `BENCH_LOG_FILE`: where the default configuration's request log goes (a file in a
    /// temporary directory); `/dev/null` or a file on tmpfs show what the file system adds.
    pub log_file: Option<std::path::PathBuf>,
    /// `BENCH_LOG_LEVEL`: the `--log-level` of the server measured as the default
    /// configuration (`info`); `warn` makes the comparison an A/A check of the instrument.
    pub log_level: String,
}

/// The phases of a run, in order.
pub const PHASES: [&str; 10] =
    ["start-up", "small", "large", "spread", "import", "log", "durable", "webhooks", "inspector", "soak"];

/// Phases that run only when `BENCH_ONLY` names them: the soak lasts ten minutes, five
/// times the rest of the suite together.
const OPT_IN_PHASES: [&str; 1] = ["soak"];

impl Settings {
    /// These settings with [`close_rounds`](Self::close_rounds) as their rounds.
    pub fn for_close_comparison(&self) -> Self {
        Self { rounds: self.close_rounds, ..self.clone() }
    }

    /// Whether `BENCH_ONLY` lets phase `name` run.
    pub fn runs(&self, name: &str) -> bool {
        let named = self.only.iter().any(|phase| phase == name);
        named || (self.only.is_empty() && !OPT_IN_PHASES.contains(&name))
    }

    /// Reads the `BENCH_*` variables.
    pub fn from_env() -> Result<Self, String> {
        let quick = std::env::var("BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
        let scale: f64 = parse("BENCH_SCALE")?.unwrap_or(1.0);
        if !(scale > 0.0 && scale <= 1.0) {
            return Err(format!("BENCH_SCALE must be in (0, 1], not {scale}"));
        }
        let scaled = |full: f64, minimum: usize| ((full * scale) as usize).max(minimum);
        let defaults = if quick {
            Self {
                quick,
                connections: 8,
                fill_connections: 8,
                client_threads: 1,
                rounds: 1,
                close_rounds: 1,
                requests: 400,
                list_requests: 100,
                warmup: 50,
                list_warmup: 10,
                small_store: 200,
                large_store: 2_000,
                conversations: 20,
                start_ups: 3,
                only: Vec::new(),
                deadline: Duration::from_secs(60),
                soak_seconds: 6,
                soak_reset_seconds: 2,
                log_file: None,
                log_level: "info".into(),
            }
        } else {
            Self {
                quick,
                connections: 32,
                fill_connections: 64,
                client_threads: 1,
                rounds: 6,
                close_rounds: 18,
                requests: 25_000,
                list_requests: 3_000,
                warmup: 5_000,
                list_warmup: 500,
                small_store: 1_000,
                large_store: scaled(1_000_000.0, 2_000),
                conversations: scaled(10_000.0, 20),
                start_ups: 20,
                only: Vec::new(),
                deadline: Duration::from_secs(300),
                soak_seconds: 600,
                soak_reset_seconds: 30,
                log_file: None,
                log_level: "info".into(),
            }
        };
        let settings = Self {
            connections: parse("BENCH_CONNECTIONS")?.unwrap_or(defaults.connections),
            fill_connections: parse("BENCH_FILL_CONNECTIONS")?.unwrap_or(defaults.fill_connections),
            client_threads: parse("BENCH_CLIENT_THREADS")?.unwrap_or(defaults.client_threads),
            rounds: parse("BENCH_ROUNDS")?.unwrap_or(defaults.rounds),
            close_rounds: parse("BENCH_CLOSE_ROUNDS")?.unwrap_or(defaults.close_rounds),
            requests: parse("BENCH_REQUESTS")?.unwrap_or(defaults.requests),
            list_requests: parse("BENCH_LIST_REQUESTS")?.unwrap_or(defaults.list_requests),
            start_ups: parse("BENCH_START_UPS")?.unwrap_or(defaults.start_ups),
            soak_seconds: parse("BENCH_SOAK_SECONDS")?.unwrap_or(defaults.soak_seconds),
            soak_reset_seconds: parse("BENCH_SOAK_RESET_SECONDS")?.unwrap_or(defaults.soak_reset_seconds),
            log_file: std::env::var_os("BENCH_LOG_FILE").map(Into::into),
            log_level: std::env::var("BENCH_LOG_LEVEL").unwrap_or(defaults.log_level.clone()),
            only: std::env::var("BENCH_ONLY")
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|phase| !phase.is_empty())
                .map(str::to_owned)
                .collect(),
            ..defaults
        };
        let positive = [
            settings.connections,
            settings.fill_connections,
            settings.client_threads,
            settings.rounds,
            settings.close_rounds,
            settings.requests,
            settings.list_requests,
            settings.start_ups,
            settings.soak_seconds as usize,
            settings.soak_reset_seconds as usize,
        ];
        if positive.contains(&0) {
            return Err("BENCH_* counts must be at least 1".to_owned());
        }
        if let Some(unknown) = settings.only.iter().find(|p| !PHASES.contains(&p.as_str())) {
            return Err(format!("BENCH_ONLY: unknown phase {unknown}; phases: {PHASES:?}"));
        }
        Ok(settings)
    }
}

fn parse<T: std::str::FromStr>(name: &str) -> Result<Option<T>, String> {
    match std::env::var(name) {
        Ok(value) => value.trim().parse().map(Some).map_err(|_| format!("{name}={value} is not a valid value")),
        Err(_) => Ok(None),
    }
}
