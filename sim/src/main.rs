//! The `llm-sim` binary: parses flags, sets up logging, turns ctrl-c into cancellation and
//! hands over to [`llm_sim::cli::run`].

use clap::Parser;
use tokio_util::sync::CancellationToken;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = llm_sim::cli::Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let cancel = CancellationToken::new();
    let on_signal = cancel.clone();
    tokio::spawn(async move {
        match shutdown_signal().await {
            Ok(()) => on_signal.cancel(),
            Err(e) => tracing::error!(error = %e, "cannot listen for shutdown signals"),
        }
    });
    llm_sim::cli::run(args, cancel).await
}

/// Resolves on ctrl-c (or SIGTERM on unix).
async fn shutdown_signal() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result,
            _ = term.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await
    }
}
