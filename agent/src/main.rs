use clap::Parser;
use tokio_util::sync::CancellationToken;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    swarm_agent::tls::install_crypto_provider();
    let args = swarm_agent::cli::AgentArgs::parse();
    let _telemetry =
        match swarm_agent::telemetry::init("swarm-agent", "info", args.otlp_endpoint.as_deref()) {
            Ok(g) => g,
            Err(e) => {
                eprintln!("error: {e:#}");
                return std::process::ExitCode::FAILURE;
            }
        };
    let cancel = CancellationToken::new();
    let on_signal = cancel.clone();
    tokio::spawn(async move {
        if shutdown_signal().await {
            eprintln!(
                "\ninterrupted: stopping shards, reporting what was measured (Ctrl-C again to abort)"
            );
            on_signal.cancel();
            if shutdown_signal().await {
                std::process::exit(130);
            }
        }
    });
    match swarm_agent::cli::run(args, cancel).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Ctrl-C (SIGINT) or SIGTERM (what Kubernetes and Docker send on stop): true once one arrives.
async fn shutdown_signal() -> bool {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut term) = signal(SignalKind::terminate()) else {
            return tokio::signal::ctrl_c().await.is_ok();
        };
        tokio::select! {
            r = tokio::signal::ctrl_c() => r.is_ok(),
            _ = term.recv() => true,
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await.is_ok()
    }
}
