//! `plenary`: parse configuration, start logging, run the embedded node until SIGTERM
//! or Ctrl-C, drain, exit 0. A bad configuration exits with code 64.

use clap::Parser;
use plenary_gateway::Config;
use tokio_util::sync::CancellationToken;

fn main() -> std::process::ExitCode {
    let config = match Config::try_parse() {
        Ok(c) => c,
        Err(e) if !e.use_stderr() => {
            // --help and --version.
            let _ = e.print();
            return std::process::ExitCode::SUCCESS;
        }
        Err(e) => {
            let _ = e.print();
            return std::process::ExitCode::from(64);
        }
    };
    if let Some(plenary_gateway::config::Command::Token(args)) = &config.command {
        let secret = std::env::var("PLENARY_JWT_SECRET").ok();
        return match plenary_gateway::token::mint(&config.jwt, args, secret.as_deref()) {
            Ok(token) => {
                println!("{token}");
                std::process::ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("plenary token: {e}");
                std::process::ExitCode::from(64)
            }
        };
    }
    let settings = match config.validate() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("plenary: {e}");
            return std::process::ExitCode::from(64);
        }
    };
    plenary_gateway::logging::init(settings.config.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("plenary: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        let (listener, admin, _) = plenary_gateway::bind(&settings).await?;
        let shutdown = CancellationToken::new();
        let signal = shutdown.clone();
        tokio::spawn(async move {
            wait_for_signal().await;
            tracing::info!("shutdown signal received");
            signal.cancel();
        });
        plenary_gateway::run(settings, listener, admin, shutdown).await
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("plenary: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(t) => t,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
