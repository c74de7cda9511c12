//! The emulator binary: parse flags, set up logging, bind, serve until SIGINT or SIGTERM.
//! (Unix only: it relies on Unix signals, and its targets are Linux and macOS.)

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;
use twilio_conversations_emulator::config::{Command, Config, LogFormat};
use twilio_conversations_emulator::store;
use twilio_conversations_emulator::{AppState, banner, healthcheck, inspector_url, serve};

/// mimalloc rather than glibc's allocator: the store makes many small, long-lived
/// allocations, and with a million messages glibc's `malloc` spent a large part of a fetch
/// searching its fragmented heap, and more memory per message (BENCHMARKS.md, "mimalloc").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().on_thread_park(collect_after_large_frees).build();
    match runtime {
        Ok(runtime) => {
            // Idle workers park until there is work: after a reset's old store is freed,
            // give each some, so that each parks again and collects (see below).
            let (handle, workers) = (runtime.handle().clone(), runtime.metrics().num_workers());
            store::on_large_free(move || {
                for _ in 0..workers * 2 {
                    handle.spawn(tokio::task::yield_now());
                }
            });
            runtime.block_on(run())
        }
        Err(error) => {
            eprintln!("cannot start the async runtime: {error}");
            ExitCode::FAILURE
        }
    }
}

thread_local! {
    /// The store's count of large frees when this thread last had the allocator collect.
    static COLLECTED_AT: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Run by each worker thread as it goes idle: after a reset has freed the old store (on a
/// thread of its own), the allocator returns the pages that held it to the system.
///
/// Why here: mimalloc gives a freed block back to the thread that allocated it, and that
/// thread only sweeps such blocks when it next allocates in the same pages, so after a
/// reset the old store's pages stayed resident and the floor crept up from reset to reset
/// (issue 17's soak). A forced collection on each worker sweeps them and releases the
/// empty pages; doing it when the worker parks keeps it off the request path, and the
/// check is one atomic load.
fn collect_after_large_frees() {
    let frees = store::large_frees();
    COLLECTED_AT.with(|collected| {
        if collected.get() != frees {
            collected.set(frees);
            // SAFETY: `mi_collect` only walks this thread's own heap; it is safe to call
            // from any thread at any time.
            unsafe { libmimalloc_sys::mi_collect(true) };
        }
    });
}

async fn run() -> ExitCode {
    let config = Config::from_env_and_args();
    if let Some(Command::Healthcheck { timeout_ms }) = config.command {
        let timeout = Duration::from_millis(timeout_ms);
        return match healthcheck::check(&config.host, config.port, timeout).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(why) => {
                eprintln!("unhealthy: {why}");
                ExitCode::FAILURE
            }
        };
    }
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&config.log_level));
    // Logs go to stderr: stdout carries only the banner, whose first line scripts read.
    let log = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match config.log_format {
        // Colours only on a terminal: a log file or `docker logs` would show escape codes.
        LogFormat::Text => log.with_ansi(std::io::stderr().is_terminal()).init(),
        // The fields at the top level, beside `timestamp`, `level` and `target`, as the
        // request log writes its lines (`request_log`).
        LogFormat::Json => log.json().flatten_event(true).init(),
    }

    let listener = match TcpListener::bind((config.host.as_str(), config.port)).await {
        Ok(listener) => listener,
        Err(error) => {
            let (host, port) = (config.source_of("host"), config.source_of("port"));
            eprintln!("cannot listen on {}{host}:{}{port}: {error}", config.host, config.port);
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
            eprintln!("cannot start: {error}{}", config.source_of(error.flag()));
            return ExitCode::FAILURE;
        }
    };
    // One write, so a reader of the first line never meets half a banner; a closed stdout
    // is no reason not to serve.
    let mut lines = banner::describe(&config);
    lines.push(("proxy", state.describe_proxy_ca()));
    if let Some(url) = inspector_url(&config, address) {
        lines.push(("inspector", url));
    }
    let _ = std::io::stdout().lock().write_all(banner::render(address, &lines).as_bytes());
    let _ = std::io::stdout().flush();
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
