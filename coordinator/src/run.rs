//! `coordinator run`: a plan from start to written results.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use crate::cli::RunArgs;
use crate::front::run_into;
use crate::outcome::{Exit, Failure, exit_of};
use crate::perf::stage::{ProgressMode, StageResult};
use crate::perf::sweep::{Display, run_sweep};
use crate::plan::model::Placement;
use crate::plan::{Plan, build, load_plan, parse_plan};
use crate::run_store::record::{Recorder, RunKind};
use crate::run_store::run_dir::run_id;

/// The bundled quickstart plan (also at `examples/quickstart.yaml`).
pub const QUICKSTART: &str = include_str!("../../examples/quickstart.yaml");

pub use crate::run_store::record::StageOverview;

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
    let (plan, text, path) = match &args.plan {
        Some(p) => {
            let (plan, text) = load_plan(p, &args.allow_env)?;
            (plan, text, p.clone())
        }
        None => {
            let path = PathBuf::from("examples/quickstart.yaml");
            let vars = crate::plan::env::policy(&args.allow_env);
            let plan = parse_plan(QUICKSTART, &path, vars.as_ref())
                .map_err(|e| Failure::usage(e.into()))?;
            (plan, QUICKSTART.to_string(), path)
        }
    };
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
        run_dir: args.run_dir.clone(),
        metrics_listen: args.metrics_listen,
        sandbox: args.sandbox.policy(),
    };
    run_parsed(&plan, &text, &plan_dir, &options, cancel).await
}

/// Runs the plan `perf` or `eval` made of their flags, checked as a plan file is; its copy in
/// the run folder is that plan. It goes into a new run folder in the plan's outputs folder (or
/// `resume`), with progress bars.
pub async fn run_flags(
    kind: RunKind,
    plan: &Plan,
    resume: Option<PathBuf>,
    sandbox: swarm_sandbox::policy::SandboxPolicy,
    cancel: &CancellationToken,
) -> anyhow::Result<PathBuf> {
    crate::plan::check(plan, Path::new("flags")).map_err(|e| Failure::usage(e.into()))?;
    let text = serde_norway::to_string(plan).context("cannot write the plan")?;
    let options = RunOptions {
        outputs: plan.outputs.dir.clone(),
        progress: ProgressMode::Bar,
        resume,
        run_dir: None,
        metrics_listen: None,
        sandbox,
    };
    run_as(kind, plan, &text, Path::new(""), &options, cancel).await
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
    let (target, stream) = match job {
        build::Job::Perf(p, _) => (&p.target, p.gen_params.stream),
        build::Job::Eval(e) => (&e.target, e.gen_params.stream),
    };
    let wanted = plan
        .targets
        .iter()
        .find(|t| Some(t.name.as_str()) == workload.target())
        .is_none_or(|t| t.test_connection);
    if !wanted {
        return Ok(());
    }
    let groups = crate::gather::groups(&workload.placement, agents)?;
    // each region's own SLA search: its first agent reaches its own target
    if let build::Job::Perf(p, Some(sla)) = job
        && !sla.label_targets.is_empty()
    {
        for g in &groups {
            let target = crate::perf::sla_regions::target_of(sla, &p.target, g);
            let first: Vec<_> = g.agents.first().cloned().into_iter().collect();
            crate::preflight::check(cluster, &first, target, stream).await?;
        }
        return Ok(());
    }
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
    /// Write the run into exactly this folder, continuing the run of this plan it may hold.
    pub run_dir: Option<PathBuf>,
    /// Serve live metrics here.
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// What the local agents' code sandbox may do.
    pub sandbox: swarm_sandbox::policy::SandboxPolicy,
}

/// The `name:` of a saved plan.
#[derive(serde::Deserialize)]
struct SavedPlanName {
    name: String,
}

/// The folder this run writes into: `--resume DIR` (which must hold a run), `--run-dir DIR`
/// (which may, of this plan only), or a new `<outputs>/<run id>`.
fn run_folder(plan: &Plan, options: &RunOptions) -> anyhow::Result<PathBuf> {
    use crate::run_store::layout::{PLAN_YAML, RUN_JSON};
    if let Some(dir) = &options.resume {
        let evals = crate::run_store::layout::eval_roots(dir);
        if !dir.join(RUN_JSON).exists() && !dir.join(PLAN_YAML).exists() && evals.is_empty() {
            return Err(Failure::error(
                Exit::Usage,
                format!(
                    "--resume {}: not a run folder (no {PLAN_YAML} or {RUN_JSON})",
                    dir.display()
                ),
            ));
        }
        return Ok(dir.clone());
    }
    if let Some(dir) = &options.run_dir {
        let saved = dir.join(PLAN_YAML);
        if saved.exists() {
            let text = std::fs::read_to_string(&saved)
                .with_context(|| format!("cannot read {}", saved.display()))?;
            let earlier: SavedPlanName = serde_norway::from_str(&text).map_err(|e| {
                Failure::error(Exit::Usage, format!("--run-dir: {}: {e}", saved.display()))
            })?;
            if earlier.name != plan.name {
                return Err(Failure::error(
                    Exit::Usage,
                    format!(
                        "--run-dir {} holds a run of plan {:?}, not {:?}",
                        dir.display(),
                        earlier.name,
                        plan.name
                    ),
                ));
            }
            eprintln!("continuing the run in {}", dir.display());
        }
        return Ok(dir.clone());
    }
    Ok(options.outputs.join(run_id(&plan.name)))
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
    run_as(RunKind::Plan, plan, text, plan_dir, options, cancel).await
}

/// Runs a parsed plan as command `kind` (`run.json`'s kind).
async fn run_as(
    kind: RunKind,
    plan: &Plan,
    text: &str,
    plan_dir: &Path,
    options: &RunOptions,
    cancel: &CancellationToken,
) -> anyhow::Result<PathBuf> {
    let run_dir = run_folder(plan, options)?;
    if options.run_dir.is_some()
        && let Some(ended) = ended_run(&run_dir)?
    {
        return ended;
    }
    let mut sims = Vec::new();
    // from here on every failure is recorded in run.json
    let ran = run_into(&run_dir, kind, &plan.name, cancel, async |recorder| {
        // the copy keeps the plan as written, less any credentials inside its URLs
        std::fs::write(
            run_dir.join(crate::run_store::layout::PLAN_YAML),
            swarm_common::redact::redact_urls_in(text),
        )
        .with_context(|| format!("cannot write {}", run_dir.display()))?;
        start_and_run(
            plan, plan_dir, &run_dir, options, recorder, &mut sims, cancel,
        )
        .await
    })
    .await;
    for s in sims {
        s.shutdown().await;
    }
    ran
}

/// A `--run-dir` whose run already ended done or failed is not run again: its recorded outcome
/// is the command's (a retried pod of a finished Job, a reused run name). A cancelled or
/// interrupted one continues.
fn ended_run(run_dir: &Path) -> anyhow::Result<Option<anyhow::Result<PathBuf>>> {
    use crate::run_store::record::RunStatus;
    let Some(r) = crate::run_store::record::read(run_dir)? else {
        return Ok(None);
    };
    let ended = match r.status {
        RunStatus::Done => Ok(run_dir.to_path_buf()),
        RunStatus::Failed => Err(Failure::error(
            r.outcome.unwrap_or(Exit::Internal),
            format!(
                "the run in {} already ended (failed): {}",
                run_dir.display(),
                r.failures.join("; ")
            ),
        )),
        RunStatus::Running | RunStatus::Cancelled => return Ok(None),
    };
    eprintln!(
        "the run in {} already ended ({:?}); not run again (give a new --run-dir for a new run)",
        run_dir.display(),
        r.status
    );
    Ok(Some(ended))
}

/// Starts the plan's simulators (into `sims`, for the caller to stop) and runs its workloads.
async fn start_and_run(
    plan: &Plan,
    plan_dir: &Path,
    run_dir: &Path,
    options: &RunOptions,
    recorder: &mut Recorder,
    sims: &mut Vec<llm_sim::SimHandle>,
    cancel: &CancellationToken,
) -> anyhow::Result<(Exit, Vec<String>)> {
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
    let jobs = build::jobs(plan, plan_dir, &sim_urls, &options.outputs).map_err(Failure::usage)?;
    run_jobs(plan, plan_dir, &jobs, run_dir, options, recorder, cancel).await
}

/// Gathers the agents and runs the plan's workloads in order into `run_dir`; returns how the
/// workloads ended (an error: the run could not go on).
async fn run_jobs(
    plan: &Plan,
    plan_dir: &Path,
    jobs: &[build::Job],
    run_dir: &Path,
    options: &RunOptions,
    recorder: &mut Recorder,
    cancel: &CancellationToken,
) -> anyhow::Result<(Exit, Vec<String>)> {
    let id = recorder.record.run_id.clone();
    let (mut cluster, agents) =
        crate::gather::gather(plan, plan_dir, &id, run_dir, &options.sandbox, cancel)
            .await
            .map_err(|e| Failure::error(Exit::AgentsLost, format!("{e:#}")))?;
    if let Some(addr) = options.metrics_listen {
        let bound = crate::live::serve(
            addr,
            std::sync::Arc::clone(&cluster.live),
            cluster.cancel_token().clone(),
        )
        .await?;
        eprintln!("live metrics on http://{bound}/metrics");
    }
    let display = Display {
        progress: options.progress,
        tables: true,
    };
    let mut outcome = Exit::Ok;
    let mut failures = Vec::new();
    let mut failure = None;
    for (job, workload) in jobs.iter().zip(&plan.workloads) {
        if cancel.is_cancelled() {
            break;
        }
        let ran = run_workload(
            plan,
            workload,
            job,
            (&mut cluster, &agents),
            run_dir,
            display,
            recorder,
            cancel,
        );
        match ran.await {
            Ok((exit, why)) => {
                outcome = outcome.worst(exit);
                failures.extend(why);
            }
            Err(e) => {
                failure = Some(e.context(format!("workload {}", workload.name)));
                break;
            }
        }
    }
    // a scraper reads the last stage's final numbers before the endpoint closes
    cluster.live.wait_for_last_scrape(cancel).await;
    cluster.shutdown().await;
    if let Some(e) = failure {
        outcome = outcome.worst(exit_of(&e));
        failures.push(format!("{e:#}"));
    }
    Ok((outcome, failures))
}

/// Runs one workload of the plan into `run_dir` after its pre-flight check; returns how it ended
/// (an error: the run cannot go on).
#[allow(clippy::too_many_arguments)]
async fn run_workload(
    plan: &Plan,
    workload: &crate::plan::model::WorkloadDef,
    job: &build::Job,
    (cluster, agents): (&mut crate::cluster::Cluster, &[crate::cluster::AgentInfo]),
    run_dir: &Path,
    display: Display,
    recorder: &mut Recorder,
    cancel: &CancellationToken,
) -> anyhow::Result<(Exit, Vec<String>)> {
    preflight(plan, workload, job, cluster, agents).await?;
    let (job, sla) = match job {
        build::Job::Perf(p, sla) => (p, sla),
        build::Job::Eval(e) => {
            let root = crate::run_store::layout::eval_root(run_dir, &e.name);
            // the task as run, so that `eval --rescore <run>/eval/<workload>` needs no flags
            let saved = crate::eval::task_config::SavedTask {
                model: e.model.clone(),
                datasets: e.datasets.clone(),
                dataset_args: e.dataset_args.clone(),
                repeats: e.repeats,
                judge_strategy: e.judge_strategy,
                judge_model_args: e.judge_model_args.as_deref().cloned(),
            };
            crate::eval::task_config::save(&root, &saved)?;
            crate::eval::run::run_job(Some(cluster), agents, e, &root, false, cancel).await?;
            if !recorder.record.evals.contains(&e.name) {
                recorder.record.evals.push(e.name.clone());
            }
            return Ok((Exit::Ok, Vec::new()));
        }
    };
    let groups = crate::gather::groups(&workload.placement, agents)?;
    let (results, ended) = match sla {
        Some(sla) if matches!(workload.placement, Placement::PerLabel(_)) => {
            let ran = crate::perf::sla_regions::run_per_label(
                cluster, &groups, job, sla, run_dir, display, cancel,
            );
            let regions = ran.await?;
            let mut all = Vec::new();
            for r in regions {
                let region_overview = overview(&r.results);
                recorder
                    .record
                    .workloads
                    .insert(r.workload, region_overview);
                all.extend(r.results);
            }
            let ended = crate::perf::sla_run::outcome(&job.name, &all);
            return Ok(ended);
        }
        Some(sla) => {
            let ran =
                crate::perf::sla_run::run_sla(cluster, &groups, job, sla, run_dir, display, cancel);
            let (results, _) = ran.await?;
            let ended = crate::perf::sla_run::outcome(&job.name, &results);
            (results, ended)
        }
        None => {
            let results = run_sweep(cluster, &groups, job, run_dir, display, cancel).await?;
            let ended = crate::perf::sweep::outcome(&job.name, &results);
            (results, ended)
        }
    };
    recorder
        .record
        .workloads
        .insert(job.name.clone(), overview(&results));
    Ok(ended)
}
