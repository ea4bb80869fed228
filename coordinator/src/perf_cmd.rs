//! `coordinator perf`: a sweep from EvalScope-style flags.

use std::path::PathBuf;

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use std::time::Duration;

use crate::cluster::{Cluster, ClusterConfig};
use crate::outcome::{Exit, Failure, exit_of};
use crate::perf::args::PerfArgs;
use crate::perf::stage::Group;
use crate::perf::stage::ProgressMode;
use crate::perf::sweep::{Display, run_sweep};
use crate::run::overview;
use crate::run_store::record::{Recorder, RunKind};
use crate::run_store::run_dir::run_id;

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
        (None, None) => {
            return Err(Failure::error(
                Exit::Usage,
                "give --url (or --sim for the built-in simulator)",
            ));
        }
    };
    let job = args.job(&url).map_err(Failure::usage)?;
    let run_dir = args.outputs_dir.join(run_id(&args.name));
    let mut recorder = Recorder::start(&run_dir, RunKind::Perf, &args.name)?;
    let result = sweep(args, &job, &run_dir, cancel).await;
    let (outcome, failures) = match &result {
        Ok(results) => {
            recorder
                .record
                .workloads
                .insert(job.name.clone(), overview(results));
            crate::perf::sweep::outcome(&job.name, results)
        }
        Err(e) => (exit_of(e), vec![format!("{e:#}")]),
    };
    let record = recorder.finish(outcome, failures, cancel.is_cancelled())?;
    crate::report::html::write_report_or_warn(&run_dir);
    if let Some(s) = sim {
        s.shutdown().await;
    }
    println!("\nresults: {}", run_dir.display());
    result?;
    match record.outcome {
        Some(Exit::Ok | Exit::Cancelled) | None => Ok(run_dir),
        Some(exit) => Err(Failure::error(exit, record.failures.join("\n"))),
    }
}

/// Starts the local agents, checks the target and runs the sweep into `run_dir`.
async fn sweep(
    args: &PerfArgs,
    job: &crate::perf::job::PerfJob,
    run_dir: &std::path::Path,
    cancel: &CancellationToken,
) -> anyhow::Result<Vec<crate::perf::stage::StageResult>> {
    let id = run_dir
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let mut cluster = Cluster::start(ClusterConfig::local(id, args.agents), cancel).await?;
    let agents = match cluster
        .wait_for(
            args.agents as usize,
            &Default::default(),
            Duration::from_secs(30),
        )
        .await
    {
        Ok(a) => a,
        Err(e) => {
            cluster.shutdown().await;
            return Err(Failure::error(Exit::AgentsLost, format!("{e:#}")));
        }
    };
    if !args.no_test_connection
        && let Some(first) = agents.first()
    {
        let probe = crate::preflight::check(
            &mut cluster,
            std::slice::from_ref(first),
            &job.target,
            job.gen_params.stream,
        )
        .await;
        if let Err(e) = probe {
            cluster.shutdown().await;
            return Err(e);
        }
    }
    let groups = [Group {
        label: None,
        agents,
    }];
    let display = Display {
        progress: ProgressMode::Bar,
        tables: true,
    };
    let result = run_sweep(&mut cluster, &groups, job, run_dir, display, cancel).await;
    cluster.shutdown().await;
    result
}
