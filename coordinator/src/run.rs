//! `coordinator run`: a plan from start to written results.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::cli::RunArgs;
use crate::outcome::{Exit, Failure, exit_of};
use crate::output::run_dir::run_id;
use crate::output::stage_files::write_json;
use crate::perf::stage::{ProgressMode, StageResult};
use crate::perf::sweep::{Display, run_sweep};
use crate::plan::{Plan, build, parse_plan};

/// The bundled quickstart plan (also at `examples/quickstart.yaml`).
pub const QUICKSTART: &str = include_str!("../../examples/quickstart.yaml");

/// What `run.json` records about a finished run.
#[derive(Debug, Serialize)]
pub struct RunSummary {
    /// The run id (folder name).
    pub run_id: String,
    /// The plan's name.
    pub plan: String,
    /// Whether the run was cancelled before it finished.
    pub cancelled: bool,
    /// How it ended: `ok`, or what the exit status says (`no_success`, `agents_lost`, ...).
    pub outcome: crate::outcome::Exit,
    /// What failed, one line each (empty when the outcome is `ok`).
    pub failures: Vec<String>,
    /// Per workload, per stage: EvalScope's summary.
    pub workloads: BTreeMap<String, Vec<StageOverview>>,
    /// Eval workloads that ran (reports under `eval/<workload>/reports/`).
    pub evals: Vec<String>,
}

/// One stage in `run.json`.
#[derive(Debug, Serialize)]
pub struct StageOverview {
    /// Stage name.
    pub stage: String,
    /// Why it stopped.
    pub stopped: String,
    /// Whether it produced a result.
    pub outcome: crate::perf::stage::StageStatus,
    /// The thresholds checked against it.
    pub thresholds: Vec<crate::perf::threshold::Checked>,
    /// EvalScope's summary.
    pub summary: serde_json::Map<String, serde_json::Value>,
}

/// The stages of a sweep as `run.json` lists them.
pub fn overview(results: &[StageResult]) -> Vec<StageOverview> {
    results
        .iter()
        .map(|r| StageOverview {
            stage: r.stage.name.clone(),
            stopped: r.stopped.clone(),
            outcome: r.status.clone(),
            thresholds: r.thresholds.clone(),
            summary: r.summary.clone(),
        })
        .collect()
}

/// Runs a plan; returns the run folder.
pub async fn run_plan(args: &RunArgs, cancel: &CancellationToken) -> anyhow::Result<PathBuf> {
    let (text, path) = match &args.plan {
        Some(p) => (
            std::fs::read_to_string(p)
                .with_context(|| format!("cannot read plan {}", p.display()))?,
            p.clone(),
        ),
        None => (
            QUICKSTART.to_string(),
            PathBuf::from("examples/quickstart.yaml"),
        ),
    };
    let plan = parse_plan(&text, &path, &crate::plan::env::ProcessEnv)
        .map_err(|e| Failure::usage(e.into()))?;
    let plan_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let outputs = args
        .outputs_dir
        .clone()
        .unwrap_or_else(|| plan.outputs.dir.clone());
    let options = RunOptions {
        outputs,
        progress: if args.quiet {
            ProgressMode::Quiet
        } else {
            ProgressMode::Bar
        },
        resume: args.resume.clone(),
        metrics_listen: args.metrics_listen,
        sandbox: args.sandbox.policy(),
    };
    run_parsed(&plan, &text, &plan_dir, &options, cancel).await
}

/// The pre-flight check of `workload`'s target, from the first agent of each of its placement
/// groups, unless the target turned it off.
async fn preflight(
    plan: &Plan,
    workload: &crate::plan::model::WorkloadDef,
    job: &build::Job,
    cluster: &mut crate::cluster::Cluster,
    agents: &[crate::cluster::AgentInfo],
) -> anyhow::Result<()> {
    let (target, stream, target_name) = match job {
        build::Job::Perf(p) => (
            &p.target,
            p.gen_params.stream,
            workload.perf.as_ref().map(|d| d.target.as_str()),
        ),
        build::Job::Eval(e) => (
            &e.target,
            e.gen_params.stream,
            workload.eval.as_ref().map(|d| d.target.as_str()),
        ),
    };
    let wanted = plan
        .targets
        .iter()
        .find(|t| Some(t.name.as_str()) == target_name)
        .is_none_or(|t| t.test_connection);
    if !wanted {
        return Ok(());
    }
    let groups = crate::gather::groups(&workload.placement, agents)?;
    let firsts: Vec<crate::cluster::AgentInfo> = groups
        .iter()
        .filter_map(|g| g.agents.first().cloned())
        .collect();
    crate::preflight::check(cluster, &firsts, target, stream).await
}

/// How a parsed plan is run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Parent folder of run folders.
    pub outputs: PathBuf,
    /// Progress display.
    pub progress: ProgressMode,
    /// Continue this run folder instead of starting a new one.
    pub resume: Option<PathBuf>,
    /// Serve live metrics here.
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// What the local agents' code sandbox may do.
    pub sandbox: swarm_agent::sandbox::policy::SandboxPolicy,
}

/// Runs an already parsed plan: starts its simulators, runs its workloads in order, writes
/// `plan.yaml` and `run.json` beside the stage folders.
pub async fn run_parsed(
    plan: &Plan,
    text: &str,
    plan_dir: &Path,
    options: &RunOptions,
    cancel: &CancellationToken,
) -> anyhow::Result<PathBuf> {
    let (outputs, progress) = (options.outputs.as_path(), options.progress);
    let (resume, metrics_listen) = (options.resume.as_deref(), options.metrics_listen);
    if let Some(dir) = resume
        && !dir.join("run.json").exists()
        && !dir.join("plan.yaml").exists()
    {
        anyhow::bail!(
            "--resume {}: not a run folder (no plan.yaml or run.json)",
            dir.display()
        );
    }
    let mut sims = Vec::new();
    let mut sim_urls = BTreeMap::new();
    for t in &plan.targets {
        if let Some(cfg) = &t.sim {
            let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
            let handle = llm_sim::start(cfg.clone(), addr, cancel.clone())
                .await
                .with_context(|| format!("target {}: cannot start llm-sim", t.name))?;
            sim_urls.insert(t.name.clone(), handle.url());
            sims.push(handle);
        }
    }
    let jobs = build::jobs(plan, plan_dir, &sim_urls, outputs).map_err(Failure::usage)?;
    let id = match resume.and_then(|d| d.file_name()).and_then(|n| n.to_str()) {
        Some(existing) => existing.to_string(),
        None => run_id(&plan.name),
    };
    let run_dir = match resume {
        Some(dir) => dir.to_path_buf(),
        None => outputs.join(&id),
    };
    std::fs::create_dir_all(&run_dir)
        .with_context(|| format!("cannot create {}", run_dir.display()))?;
    let (mut cluster, agents) =
        crate::gather::gather(plan, plan_dir, &id, &run_dir, &options.sandbox, cancel)
            .await
            .map_err(|e| Failure::error(Exit::AgentsLost, format!("{e:#}")))?;
    if let Some(addr) = metrics_listen {
        let bound = crate::live::serve(
            addr,
            std::sync::Arc::clone(&cluster.live),
            cluster.cancel_token().clone(),
        )
        .await?;
        eprintln!("live metrics on http://{bound}/metrics");
    }

    // the copy keeps the plan as written, less any credentials inside its URLs
    std::fs::write(
        run_dir.join("plan.yaml"),
        swarm_common::redact::redact_urls_in(text),
    )
    .with_context(|| format!("cannot write {}", run_dir.display()))?;
    let mut summary = RunSummary {
        run_id: id,
        plan: plan.name.clone(),
        cancelled: false,
        outcome: Exit::Ok,
        failures: Vec::new(),
        workloads: BTreeMap::new(),
        evals: Vec::new(),
    };
    let display = Display {
        progress,
        tables: true,
    };
    let mut failure = None;
    for (job, workload) in jobs.iter().zip(&plan.workloads) {
        if cancel.is_cancelled() {
            break;
        }
        if let Err(e) = preflight(plan, workload, job, &mut cluster, &agents).await {
            failure = Some(e.context(format!("workload {}", workload.name)));
            break;
        }
        let job = match job {
            build::Job::Perf(p) => p,
            build::Job::Eval(e) => {
                let root = run_dir.join("eval").join(&e.name);
                // the task as run, so that `eval --rescore <run>/eval/<workload>` needs no flags
                let saved = crate::eval::task_config::SavedTask {
                    model: e.model.clone(),
                    datasets: e.datasets.clone(),
                    dataset_args: e.dataset_args.clone(),
                    repeats: e.repeats,
                };
                if let Err(err) = crate::eval::task_config::save(&root, &saved) {
                    failure = Some(err.context(format!("workload {}", e.name)));
                    break;
                }
                if let Err(err) =
                    crate::eval::run::run_job(Some(&mut cluster), &agents, e, &root, false, cancel)
                        .await
                {
                    failure = Some(err.context(format!("workload {}", e.name)));
                    break;
                }
                summary.evals.push(e.name.clone());
                continue;
            }
        };
        let groups = match crate::gather::groups(&workload.placement, &agents) {
            Ok(g) => g,
            Err(e) => {
                failure = Some(e.context(format!("workload {}", job.name)));
                break;
            }
        };
        match run_sweep(&mut cluster, &groups, job, &run_dir, display, cancel).await {
            Ok(results) => {
                let (exit, why) = crate::perf::sweep::outcome(&job.name, &results);
                summary.outcome = summary.outcome.worst(exit);
                summary.failures.extend(why);
                summary
                    .workloads
                    .insert(job.name.clone(), overview(&results));
            }
            Err(e) => {
                failure = Some(e.context(format!("workload {}", job.name)));
                break;
            }
        }
    }
    summary.cancelled = cancel.is_cancelled();
    if let Some(e) = &failure {
        summary.outcome = summary.outcome.worst(exit_of(e));
        summary.failures.push(format!("{e:#}"));
    }
    if summary.cancelled {
        summary.outcome = Exit::Cancelled;
    }
    cluster.shutdown().await;
    write_json(&run_dir.join("run.json"), &summary)?;
    crate::report::html::write_report_or_warn(&run_dir);
    let dir = run_dir.clone();
    // a large run takes seconds to index: off the async threads
    let _ =
        tokio::task::spawn_blocking(move || crate::app::samples::write_index_or_warn(&dir)).await;
    for s in sims {
        s.shutdown().await;
    }
    println!("\nresults: {}", run_dir.display());
    if let Some(e) = failure {
        return Err(e);
    }
    if !matches!(summary.outcome, Exit::Ok | Exit::Cancelled) {
        return Err(Failure::error(summary.outcome, summary.failures.join("\n")));
    }
    Ok(run_dir)
}
