//! The results: one row per scenario, printed as a table on stdout and written as JSON to
//! `target/bench-results.json`.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;

use serde::Serialize;

use crate::http::RunStats;
use crate::settings::Settings;

/// How a figure compares with the issue's target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Miss,
    /// Measured, but the issue sets no target for it.
    Info,
    /// Needs an emulator feature that this build does not have.
    NotAvailable,
}

impl Verdict {
    pub fn judge(pass: bool) -> Self {
        if pass { Self::Pass } else { Self::Miss }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Miss => "MISS",
            Self::Info => "-",
            Self::NotAvailable => "n/a",
        }
    }
}

/// Throughput and latency of one server in one scenario.
#[derive(Clone, Debug, Serialize)]
pub struct Throughput {
    pub requests: usize,
    pub seconds: f64,
    pub requests_per_second: f64,
    pub p50_us: f64,
    pub p99_us: f64,
    /// The server's CPU time per request (user + system, all its threads).
    pub server_cpu_us_per_request: f64,
    /// The load generator's CPU time per request.
    pub client_cpu_us_per_request: f64,
    /// Requests per second of each measured round, to show the spread.
    pub rounds_requests_per_second: Vec<f64>,
}

impl From<&RunStats> for Throughput {
    fn from(stats: &RunStats) -> Self {
        Self {
            requests: stats.requests,
            seconds: stats.elapsed.as_secs_f64(),
            requests_per_second: stats.requests_per_second(),
            p50_us: stats.latency_us(0.50),
            p99_us: stats.latency_us(0.99),
            server_cpu_us_per_request: stats.server_cpu_us(),
            client_cpu_us_per_request: stats.client_cpu_us(),
            rounds_requests_per_second: stats.runs.clone(),
        }
    }
}

/// One scenario's figures.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    pub scenario: String,
    pub connections: Option<usize>,
    pub emulator: Option<Throughput>,
    pub baseline: Option<Throughput>,
    /// Emulator throughput over baseline throughput, measured side by side.
    pub ratio: Option<f64>,
    /// The figure the target is about, with its unit (the ratio, a time, bytes…).
    pub measured: String,
    pub target: String,
    pub verdict: Verdict,
    /// What else the scenario saw (fill times, sizes, why something is unavailable).
    pub notes: String,
}

impl Row {
    pub fn new(scenario: impl Into<String>) -> Self {
        Self {
            scenario: scenario.into(),
            connections: None,
            emulator: None,
            baseline: None,
            ratio: None,
            measured: String::new(),
            target: String::new(),
            verdict: Verdict::Info,
            notes: String::new(),
        }
    }
}

/// Every row so far, and what the run was.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub machine: Machine,
    pub settings: Option<Settings>,
    pub rows: Vec<Row>,
    pub wall_seconds: f64,
    /// `/proc/loadavg` when the run started and when it ended: other work on the machine.
    pub load_average: Vec<String>,
    /// Why the run failed, if it did.
    pub failure: Option<String>,
}

impl Report {
    pub fn push(&mut self, row: Row) {
        // Print as we go: a long run shows its progress, and a failure keeps what was seen.
        eprintln!("  done: {:<48} {} {}", row.scenario, row.measured, row.verdict.as_str());
        self.rows.push(row);
    }

    /// The table, as printed on stdout.
    pub fn table(&self) -> String {
        let header = [
            "scenario",
            "requests",
            "conns",
            "emulator req/s",
            "baseline req/s",
            "ratio",
            "p50",
            "p99",
            "server CPU/req",
            "measured",
            "target",
            "verdict",
        ];
        let mut cells: Vec<Vec<String>> = vec![header.iter().map(|h| (*h).to_owned()).collect()];
        for row in &self.rows {
            let emulator = row.emulator.as_ref();
            cells.push(vec![
                row.scenario.clone(),
                emulator.map_or_else(dash, |e| thousands(e.requests as f64)),
                row.connections.map_or_else(dash, |c| c.to_string()),
                emulator.map_or_else(dash, |e| thousands(e.requests_per_second)),
                row.baseline.as_ref().map_or_else(dash, |b| thousands(b.requests_per_second)),
                row.ratio.map_or_else(dash, |r| format!("{r:.2}")),
                emulator.map_or_else(dash, |e| micros(e.p50_us)),
                emulator.map_or_else(dash, |e| micros(e.p99_us)),
                match (emulator, row.baseline.as_ref()) {
                    (Some(e), Some(b)) => {
                        format!("{:.1} / {:.1} µs", e.server_cpu_us_per_request, b.server_cpu_us_per_request)
                    }
                    (Some(e), None) => format!("{:.1} µs", e.server_cpu_us_per_request),
                    _ => dash(),
                },
                row.measured.clone(),
                row.target.clone(),
                row.verdict.as_str().to_owned(),
            ]);
        }
        let widths: Vec<usize> = (0..header.len())
            .map(|column| cells.iter().map(|row| row[column].chars().count()).max().unwrap_or(0))
            .collect();
        let mut table = String::new();
        for (number, row) in cells.iter().enumerate() {
            let line: Vec<String> = row
                .iter()
                .zip(&widths)
                .enumerate()
                .map(|(column, (cell, width))| {
                    // Text left-aligned, figures right-aligned.
                    if column == 0 || column >= 9 { format!("{cell:<width$}") } else { format!("{cell:>width$}") }
                })
                .collect();
            let _ = writeln!(table, "| {} |", line.join(" | "));
            if number == 0 {
                let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
                let _ = writeln!(table, "|-{}-|", rule.join("-|-"));
            }
        }
        for row in self.rows.iter().filter(|row| !row.notes.is_empty()) {
            let _ = writeln!(table, "- {}: {}", row.scenario, row.notes);
        }
        table
    }

    /// Writes the JSON next to cargo's other output, `target/bench-results.json` (or under
    /// `CARGO_TARGET_DIR`), and returns its path.
    pub fn write_json(&self) -> Result<PathBuf, String> {
        let directory = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
        std::fs::create_dir_all(&directory).map_err(|e| format!("create {}: {e}", directory.display()))?;
        let path = directory.join("bench-results.json");
        let json = serde_json::to_string_pretty(self).expect("the report serializes");
        std::fs::write(&path, json + "\n").map_err(|e| format!("write {}: {e}", path.display()))?;
        Ok(path)
    }
}

fn dash() -> String {
    "-".to_owned()
}

fn micros(us: f64) -> String {
    if us >= 1_000.0 { format!("{:.2} ms", us / 1_000.0) } else { format!("{us:.0} µs") }
}

/// `123456.7` as `123,457`.
pub fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value);
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// The machine the figures come from.
#[derive(Debug, Default, Serialize)]
pub struct Machine {
    pub cores: usize,
    pub cpu: String,
    pub memory: String,
    pub kernel: String,
    pub rustc: String,
    /// The emulator's source: commit, and whether `src/` had uncommitted changes.
    pub source: String,
}

impl Machine {
    pub fn describe() -> Self {
        let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
        let field = |text: &str, key: &str| {
            text.lines()
                .find(|line| line.starts_with(key))
                .and_then(|line| line.split_once(':'))
                .map(|(_, value)| value.trim().to_owned())
                .unwrap_or_else(|| "unknown".to_owned())
        };
        let output = |program: &str, argument: &str| {
            Command::new(program)
                .arg(argument)
                .output()
                .ok()
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
                .unwrap_or_else(|| "unknown".to_owned())
        };
        Self {
            cores: std::thread::available_parallelism().map_or(0, usize::from),
            cpu: field(&read("/proc/cpuinfo"), "model name"),
            memory: field(&read("/proc/meminfo"), "MemTotal"),
            kernel: output("uname", "-r"),
            rustc: output("rustc", "--version"),
            source: source(),
        }
    }
}

/// `git rev-parse --short HEAD`, plus "+ uncommitted src/" when `git status` shows changes
/// there. Read-only git commands; "unknown" outside a repository.
fn source() -> String {
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    match git(&["rev-parse", "--short", "HEAD"]) {
        Some(commit) => match git(&["status", "--porcelain", "--", "src"]) {
            Some(changes) if !changes.is_empty() => format!("{commit} + uncommitted src/"),
            _ => commit,
        },
        None => "unknown".to_owned(),
    }
}

/// The first three fields of `/proc/loadavg`.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_owned())
}
