//! Shutdown signals for the binaries' `main`: the first Ctrl-C or SIGTERM cancels the run, a
//! second one aborts the process. Libraries never listen; they get the `CancellationToken`.

use tokio_util::sync::CancellationToken;

/// Ctrl-C (SIGINT) or SIGTERM (what Kubernetes and Docker send on stop): true once one arrives.
pub async fn shutdown_signal() -> bool {
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

/// The run's token, and the listener `main` starts for it: on the first shutdown signal it
/// prints `message` to stderr and cancels the token; on a second it exits the process with
/// status 130.
pub fn cancel_on_signal(message: &'static str) -> CancellationToken {
    let cancel = CancellationToken::new();
    let on_signal = cancel.clone();
    tokio::spawn(async move {
        if shutdown_signal().await {
            eprintln!("\n{message}");
            on_signal.cancel();
            if shutdown_signal().await {
                std::process::exit(130);
            }
        }
    });
    cancel
}
