//! The emulator binary: parse flags, set up logging, bind, serve until SIGINT or SIGTERM.
//! (Unix only: it relies on Unix signals, and its targets are Linux and macOS.)

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;
use twilio_conversations_emulator::config::{Command, Config};
use twilio_conversations_emulator::{AppState, healthcheck, inspector_url, serve};

/// mimalloc rather than glibc's allocator: the store makes many small, long-lived
/// allocations, and with a million messages glibc's `malloc` spent a large part of a fetch
/// searching its fragmented heap, and more memory per message (BENCHMARKS.md, "mimalloc").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let config = Config::parse();
    if let Some(Command::Healthcheck) = config.command {
        let healthy = healthcheck::check(config.host, config.port, Duration::from_secs(3)).await;
        return if healthy { ExitCode::SUCCESS } else { ExitCode::FAILURE };
    }
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&config.log_level));
    // Logs go to stderr: stdout carries only the "listening on" line that scripts read.
    // Colours only on a terminal: a log file or `docker logs` would show escape codes.
    let colours = std::io::stderr().is_terminal();
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(colours).init();

    let listener = match TcpListener::bind((config.host, config.port)).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("cannot listen on {}:{}: {error}", config.host, config.port);
            return ExitCode::FAILURE;
        }
    };
    let shutdown = match shutdown_signal() {
        Ok(shutdown) => shutdown,
        Err(error) => {
            eprintln!("cannot install signal handlers: {error}");
            return ExitCode::FAILURE;
        }
    };
    let address = listener.local_addr().expect("a bound listener has an address");
    // Seeds and saved state load before the readiness line: a client that waits for it
    // never sees a half-filled store.
    let state = match AppState::prepare(&config, address.to_string()) {
        Ok(state) => state,
        Err(error) => {
            eprintln!("cannot start: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!("listening on http://{address}");
    if let Some(url) = inspector_url(&config, address) {
        tracing::info!("web inspector: {url}");
    }
    let (request_log, store) = (state.request_log.clone(), state.store.clone());
    let served = serve(listener, state, shutdown).await;
    // A snapshot under way is finished rather than abandoned, and every request line
    // logged reaches stderr, before the process exits.
    store.finish_compaction();
    request_log.flush();
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("server error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Registers the SIGINT and SIGTERM handlers now, before the server announces itself,
/// so that a signal sent right after start-up still shuts down gracefully; the returned
/// future completes when either arrives (SIGTERM is what `docker stop` sends to PID 1).
fn shutdown_signal() -> std::io::Result<impl Future<Output = ()> + Send + 'static> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {},
            _ = terminate.recv() => {},
        }
        tracing::info!("shutting down");
    })
}
