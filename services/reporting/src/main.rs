//! `plenary-reporting`: the reporting service's command line.
//! - `serve`: the service as its own process in cluster mode (Redis reporting streams
//!   in, PostgreSQL store, gRPC reports out).
//! - `export`: a report as CSV from a running service (an embedded node serves reports
//!   on its admin port; a cluster's `plenary-reporting serve` on its own).

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use plenary_reporting::{
    export::{self, ExportArgs},
    serve::{self, ServeArgs},
};
use tokio_util::sync::CancellationToken;

#[derive(Debug, Parser)]
#[command(name = "plenary-reporting", version, about = "Plenary's reports")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs the reporting service (cluster mode) until SIGTERM or Ctrl-C.
    Serve(Box<ServeArgs>),
    /// Writes a report as CSV to standard output, as it streams.
    Export(ExportArgs),
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => {
            tracing_subscriber::fmt()
                .with_env_filter(
                    tracing_subscriber::EnvFilter::try_from_env("PLENARY_LOG")
                        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
                )
                .init();
            let stop = CancellationToken::new();
            let signal = stop.clone();
            tokio::spawn(async move {
                wait_for_signal().await;
                tracing::info!("shutdown signal received");
                signal.cancel();
            });
            match serve::run(*args, stop).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("plenary-reporting serve: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Export(args) => {
            let mut out = std::io::stdout().lock();
            match export::run(&args, &mut out).await {
                Ok(_) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("plenary-reporting export: {e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

/// SIGTERM or Ctrl-C.
async fn wait_for_signal() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(t) => t,
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
