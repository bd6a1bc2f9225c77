//! `memkeep serve`: logging, signals, then the server library's `run`.

use std::process::ExitCode;

use anyhow::Context;
use clap::ArgMatches;
use memkeep_server::Shutdown;
use memkeep_server::auth::Token;
use memkeep_server::config::{LogFormat, ServeArgs};

pub fn run(mut args: ServeArgs, matches: &ArgMatches) -> anyhow::Result<ExitCode> {
    args.apply_config_file(matches)
        .map_err(anyhow::Error::msg)?;
    init_logging(args.log_format);
    let auth = std::env::var_os("MEMKEEP_AUTH_TOKEN")
        .filter(|t| !t.is_empty())
        .map(|t| Token::new(t.into_encoded_bytes()));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("memkeep-worker")
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let shutdown = Shutdown::default();
        let signals = shutdown.clone();
        tokio::spawn(async move {
            wait_for_signal().await;
            tracing::info!("signal received: shutting down gracefully");
            signals.request();
        });
        memkeep_server::run(args, auth, shutdown, Vec::new()).await
    })?;
    Ok(ExitCode::SUCCESS)
}

/// SIGTERM (what platforms send before the kill) or SIGINT (Ctrl-C).
async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::error!("cannot listen for signals; stop the server with SHUTDOWN");
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("MEMKEEP_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    use std::io::IsTerminal;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().flatten_event(true).init(),
    }
}
