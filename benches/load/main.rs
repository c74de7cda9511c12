//! Load benchmarks of the emulator: `cargo bench --bench load` (see BENCHMARKS.md).
//!
//! The program starts the emulator's release binary on a loopback port, drives it with a
//! load generator of its own (a fixed number of requests over a fixed number of keep-alive
//! connections), and measures a static axum server beside it: this same program,
//! re-executed in the baseline role. Every throughput figure is the ratio of the two, so
//! the figures hold on a noisy machine. It prints a table, writes it as JSON to
//! `target/bench-results.json`, and exits non-zero if any request failed.
//!
//! `BENCH_QUICK=1` runs every scenario with tiny counts in a few seconds; the other
//! `BENCH_*` variables are described in `settings.rs` and BENCHMARKS.md.

mod baseline;
mod http;
mod process;
mod report;
mod scenarios;
mod settings;

use std::process::ExitCode;
use std::time::Instant;

use report::{Machine, Report, load_average};
use settings::Settings;

/// Set to [`BASELINE_ROLE`] in the environment of a re-executed copy of this program.
pub const ROLE_VARIABLE: &str = "BENCH_ROLE";
pub const BASELINE_ROLE: &str = "baseline";

fn main() -> ExitCode {
    match std::env::var(ROLE_VARIABLE) {
        Ok(role) if role == BASELINE_ROLE => return baseline::main(),
        Ok(role) => {
            eprintln!("unknown {ROLE_VARIABLE}={role}");
            return ExitCode::FAILURE;
        }
        Err(_) => {}
    }
    let started = Instant::now();
    let mut report = Report { machine: Machine::describe(), load_average: vec![load_average()], ..Report::default() };
    let outcome = Settings::from_env().and_then(|settings| {
        report.settings = Some(settings.clone());
        run(&settings, &mut report)
    });
    report.wall_seconds = started.elapsed().as_secs_f64();
    report.load_average.push(load_average());
    report.failure = outcome.as_ref().err().cloned();

    if report.settings.as_ref().is_some_and(|s| s.quick) {
        println!("\nBENCH_QUICK: a smoke run with tiny counts; its figures and verdicts mean nothing.");
    }
    println!("\n{}", report.table());
    println!(
        "wall time: {:.1} s; load average before and after: {}",
        report.wall_seconds,
        report.load_average.join(" / ")
    );
    println!("machine: {:?}", report.machine);
    match report.write_json() {
        Ok(path) => println!("results: {}", path.display()),
        Err(error) => eprintln!("{error}"),
    }
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("\nbenchmark FAILED: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Runs every scenario on the load generator's runtime. Each server it starts is killed
/// when the scenario that started it returns, fails or panics.
fn run(settings: &Settings, report: &mut Report) -> Result<(), String> {
    // One thread by default: the generator then takes at most one of the two cores, and
    // skips the cross-thread wake-ups a multi-threaded runtime would add to every request.
    let runtime = if settings.client_threads == 1 {
        tokio::runtime::Builder::new_current_thread().enable_all().build()
    } else {
        tokio::runtime::Builder::new_multi_thread().worker_threads(settings.client_threads).enable_all().build()
    }
    .map_err(|e| format!("the load generator's runtime: {e}"))?;
    runtime.block_on(scenarios::run_all(settings, report))
}
