//! The emulator binary: parse flags, set up logging, bind, serve until SIGINT or SIGTERM.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;
use twilio_conversations_emulator::config::{Command, Config};
use twilio_conversations_emulator::{AppState, healthcheck, serve};

#[tokio::main]
async fn main() -> ExitCode {
    let config = Config::parse();
    if let Some(Command::Healthcheck) = config.command {
        let healthy = healthcheck::check(config.host, config.port, Duration::from_secs(3)).await;
        return if healthy {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        };
    }
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&config.log_level));
    // Logs go to stderr: stdout carries only the "listening on" line that scripts read.
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();

    let listener = match TcpListener::bind((config.host, config.port)).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("cannot listen on {}:{}: {error}", config.host, config.port);
            return ExitCode::FAILURE;
        }
    };
    let address = listener
        .local_addr()
        .expect("a bound listener has an address");
    println!("listening on http://{address}");
    let state = AppState::new(&config, address.to_string());
    match serve(listener, state, shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("server error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Completes on Ctrl-C or SIGTERM (what `docker stop` sends to PID 1).
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
