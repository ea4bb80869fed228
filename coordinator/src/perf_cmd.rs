//! `coordinator perf`: a sweep from EvalScope-style flags.

use std::path::PathBuf;

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use std::time::Duration;

use crate::cluster::{Cluster, ClusterConfig};
use crate::output::run_dir::run_id;
use crate::perf::args::PerfArgs;
use crate::perf::stage::Group;
use crate::perf::stage::ProgressMode;
use crate::perf::sweep::{Display, run_sweep};

/// Runs the sweep the flags describe; returns the run folder.
pub async fn run_perf(args: &PerfArgs, cancel: &CancellationToken) -> anyhow::Result<PathBuf> {
    let sim = if args.sim {
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
        Some(
            llm_sim::start(llm_sim::SimConfig::default(), addr, cancel.clone())
                .await
                .context("cannot start llm-sim")?,
        )
    } else {
        None
    };
    let url = match (&sim, &args.url) {
        (Some(s), _) => s.url(),
        (None, Some(u)) => u.clone(),
        (None, None) => anyhow::bail!("give --url (or --sim for the built-in simulator)"),
    };
    let job = args.job(&url)?;
    let id = run_id(&args.name);
    let run_dir = args.outputs_dir.join(&id);
    let mut cluster = Cluster::start(ClusterConfig::local(&id, args.agents), cancel).await?;
    let agents = cluster
        .wait_for(
            args.agents as usize,
            &Default::default(),
            Duration::from_secs(30),
        )
        .await?;
    let groups = [Group {
        label: None,
        agents,
    }];
    let display = Display {
        progress: ProgressMode::Bar,
        tables: true,
    };
    let result = run_sweep(&mut cluster, &groups, &job, &run_dir, display, cancel).await;
    cluster.shutdown().await;
    result?;
    crate::report::html::write_report_or_warn(&run_dir);
    if let Some(s) = sim {
        s.shutdown().await;
    }
    println!("\nresults: {}", run_dir.display());
    Ok(run_dir)
}
