//! `coordinator perf`: a sweep from EvalScope-style flags.

use std::path::PathBuf;

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use std::time::Duration;

use crate::cluster::{Cluster, ClusterConfig};
use crate::outcome::{Exit, Failure, exit_of};
use crate::output::run_dir::run_id;
use crate::output::stage_files::write_json;
use crate::perf::args::PerfArgs;
use crate::perf::stage::Group;
use crate::perf::stage::ProgressMode;
use crate::perf::sweep::{Display, run_sweep};
use crate::run::{RunSummary, overview};

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
    let id = run_id(&args.name);
    let run_dir = args.outputs_dir.join(&id);
    let mut cluster = Cluster::start(ClusterConfig::local(&id, args.agents), cancel).await?;
    let agents = cluster
        .wait_for(
            args.agents as usize,
            &Default::default(),
            Duration::from_secs(30),
        )
        .await
        .map_err(|e| Failure::error(Exit::AgentsLost, format!("{e:#}")))?;
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
    let result = run_sweep(&mut cluster, &groups, &job, &run_dir, display, cancel).await;
    cluster.shutdown().await;
    let mut summary = RunSummary {
        run_id: id,
        plan: "perf".into(),
        cancelled: cancel.is_cancelled(),
        outcome: Exit::Ok,
        failures: Vec::new(),
        workloads: Default::default(),
        evals: Vec::new(),
    };
    match &result {
        Ok(results) => {
            let (exit, why) = crate::perf::sweep::outcome(&job.name, results);
            summary.outcome = exit;
            summary.failures = why;
            summary
                .workloads
                .insert(job.name.clone(), overview(results));
        }
        Err(e) => {
            summary.outcome = exit_of(e);
            summary.failures.push(format!("{e:#}"));
        }
    }
    if summary.cancelled {
        summary.outcome = Exit::Cancelled;
    }
    std::fs::create_dir_all(&run_dir)?;
    write_json(&run_dir.join("run.json"), &summary)?;
    crate::report::html::write_report_or_warn(&run_dir);
    if let Some(s) = sim {
        s.shutdown().await;
    }
    println!("\nresults: {}", run_dir.display());
    result?;
    if !matches!(summary.outcome, Exit::Ok | Exit::Cancelled) {
        return Err(Failure::error(summary.outcome, summary.failures.join("\n")));
    }
    Ok(run_dir)
}
