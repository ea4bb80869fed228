//! `coordinator perf`: a sweep from EvalScope-style flags.

use std::path::PathBuf;

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use crate::front::{LocalAgents, id_of, local_cluster, run_into};
use crate::outcome::{Exit, Failure};
use crate::perf::args::PerfArgs;
use crate::perf::stage::Group;
use crate::perf::stage::ProgressMode;
use crate::perf::sweep::{Display, run_sweep};
use crate::run::overview;
use crate::run_store::record::RunKind;
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
    let ran = run_into(
        &run_dir,
        RunKind::Perf,
        &args.name,
        cancel,
        async |recorder| {
            let results = sweep(args, &job, &run_dir, cancel).await?;
            recorder
                .record
                .workloads
                .insert(job.name.clone(), overview(&results));
            if args.sla_auto_tune {
                return Ok(crate::perf::sla_run::outcome(&job.name, &results));
            }
            Ok(crate::perf::sweep::outcome(&job.name, &results))
        },
    )
    .await;
    if let Some(s) = sim {
        s.shutdown().await;
    }
    ran
}

/// Starts the local agents, checks the target and runs the sweep into `run_dir`.
async fn sweep(
    args: &PerfArgs,
    job: &crate::perf::job::PerfJob,
    run_dir: &std::path::Path,
    cancel: &CancellationToken,
) -> anyhow::Result<Vec<crate::perf::stage::StageResult>> {
    let sla = args.sla_plan().map_err(Failure::usage)?;
    let local = LocalAgents {
        count: args.agents,
        sandbox: Default::default(),
        check: (!args.no_test_connection).then_some((&job.target, job.gen_params.stream)),
    };
    let (mut cluster, agents) = local_cluster(id_of(run_dir), local, cancel).await?;
    let groups = [Group {
        label: None,
        agents,
    }];
    let display = Display {
        progress: ProgressMode::Bar,
        tables: true,
    };
    let result = match sla {
        Some(plan) => crate::perf::sla_run::run_sla(
            &mut cluster,
            &groups,
            job,
            &plan,
            run_dir,
            display,
            cancel,
        )
        .await
        .map(|(results, _)| results),
        None => run_sweep(&mut cluster, &groups, job, run_dir, display, cancel).await,
    };
    cluster.shutdown().await;
    result
}
