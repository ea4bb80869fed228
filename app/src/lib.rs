//! `coordinator app`: the dashboard over a folder of runs — the runs list (filter by model, kind,
//! date), each run's report, eval samples browsed and filtered on the server, runs compared
//! side by side, and runs in progress watched live. Loopback only unless asked otherwise.

pub mod compare;
pub mod compare_cdf;
pub mod export;
pub mod host_check;
pub mod index;
pub mod live;
pub mod routes;
pub mod sample_page;
pub mod sample_routes;
pub mod samples;
pub mod side_by_side;
pub mod side_by_side_page;
pub mod state;
pub mod templates;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use tokio_util::sync::CancellationToken;

/// `coordinator app` flags.
#[derive(Debug, Clone, clap::Args)]
pub struct AppArgs {
    /// The folder of run folders.
    #[arg(long, default_value = "outputs")]
    pub outputs_dir: PathBuf,
    /// Listen address.
    #[arg(long, default_value = "127.0.0.1:7860")]
    pub bind: SocketAddr,
    /// Allow a non-loopback --bind (the dashboard has no authentication).
    #[arg(long)]
    pub allow_remote: bool,
}

/// Errors starting the dashboard.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A non-loopback address without `--allow-remote`.
    #[error(
        "--bind {0} is not a loopback address: the dashboard has no authentication; add --allow-remote to serve other machines"
    )]
    NotLoopback(SocketAddr),
}

/// Binds the dashboard on `args.bind` and serves it until `cancel`; returns the bound address
/// as soon as it listens.
pub async fn serve(args: &AppArgs, cancel: CancellationToken) -> anyhow::Result<SocketAddr> {
    if !args.bind.ip().is_loopback() && !args.allow_remote {
        return Err(AppError::NotLoopback(args.bind).into());
    }
    let listener = tokio::net::TcpListener::bind(args.bind)
        .await
        .with_context(|| format!("--bind {}", args.bind))?;
    let bound = listener.local_addr()?;
    let state = Arc::new(state::AppState::new(&args.outputs_dir));
    let warm = Arc::clone(&state);
    // the newest runs' samples are indexed before anyone asks for them
    std::thread::Builder::new()
        .name("index-prewarm".into())
        .spawn(move || warm.prewarm())
        .context("cannot start the index thread")?;
    let app = routes::router(state);
    let app = if args.allow_remote {
        app
    } else {
        app.layer(axum::middleware::from_fn(host_check::loopback_only))
    };
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(cancel.cancelled_owned())
            .await
        {
            tracing::error!(error = %e, "dashboard failed");
        }
    });
    Ok(bound)
}

/// `coordinator app`: serves until `cancel` (Ctrl-C).
pub async fn run_app(args: &AppArgs, cancel: &CancellationToken) -> anyhow::Result<()> {
    let bound = serve(args, cancel.clone()).await?;
    println!(
        "dashboard on http://{bound}/ (runs under {}); Ctrl-C to stop",
        args.outputs_dir.display()
    );
    if !args.outputs_dir.is_dir() {
        eprintln!(
            "warning: {} is not a folder (yet): the runs list stays empty until a run writes there (--outputs-dir)",
            args.outputs_dir.display()
        );
    }
    cancel.cancelled().await;
    Ok(())
}
