//! Runs a job's stages in order and prints EvalScope's tables after each, then an overview.

use std::path::Path;

use serde::Serialize;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::job::PerfJob;
use super::stage::{Group, ProgressMode, StageResult, run_stage};
use crate::cluster::Cluster;
use crate::report::terminal;
use crate::run_store::run_dir::stage_dir;
use crate::run_store::stage_files::write_json;

/// How results are shown while a sweep runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Display {
    /// Progress bars.
    pub progress: ProgressMode,
    /// Print tables to stdout.
    pub tables: bool,
}

#[derive(Serialize)]
struct JobArgs<'a> {
    name: &'a str,
    /// Redacted: no API key or credential header in a run file.
    target: swarm_common::shard::TargetSpec,
    gen_params: &'a swarm_common::shard::GenParams,
    prompts: usize,
    tokenizer: &'a Option<String>,
    warmup: u32,
    seed: u64,
    stages: &'a [super::job::StageSpec],
}

/// Why `stage` will queue requests on the client over HTTP/2 to `target`: more in flight than
/// its connections' streams (`--http2-connections` × `--http2-max-streams`) carry.
pub fn stream_warning_for(
    target: &swarm_common::shard::TargetSpec,
    stage: &super::job::StageSpec,
) -> Option<String> {
    let t = &target.transport;
    if !t.http2 {
        return None;
    }
    let in_flight = stage.load.concurrency();
    let per = t.http2_max_streams.max(1);
    let capacity = t.http2_connections.max(1).saturating_mul(per);
    (in_flight > capacity).then(|| {
        format!(
            "{in_flight} requests in flight over {} HTTP/2 connection(s) of {per} streams: the rest wait on the client (reported as client queueing); raise --http2-connections to at least {}",
            t.http2_connections,
            in_flight.div_ceil(per)
        )
    })
}

/// The worst outcome among `results`, with the failed stages' descriptions.
pub fn outcome(job: &str, results: &[StageResult]) -> (crate::outcome::Exit, Vec<String>) {
    let mut exit = crate::outcome::Exit::Ok;
    let mut why = Vec::new();
    for r in results {
        exit = exit.worst(r.status.exit());
        for t in r.thresholds.iter().filter(|t| !t.pass) {
            exit = exit.worst(crate::outcome::Exit::ThresholdFailed);
            why.push(format!(
                "{job} / {}: threshold {} failed (value {})",
                r.stage.name,
                t.threshold,
                t.value
                    .map(|v| format!("{v:.4}"))
                    .unwrap_or_else(|| "none: no data".into())
            ));
        }
        if !matches!(
            r.status,
            super::stage::StageStatus::Ok | super::stage::StageStatus::Cancelled
        ) {
            why.push(format!("{job} / {}: {}", r.stage.name, r.status.describe()));
        }
    }
    (exit, why)
}

/// Writes the job's `benchmark_args.json` (with `stages`) into its folder of `run_dir`.
pub fn write_args(
    job: &PerfJob,
    stages: &[super::job::StageSpec],
    run_dir: &Path,
) -> anyhow::Result<()> {
    let job_dir = run_dir.join("perf").join(&job.name);
    std::fs::create_dir_all(&job_dir)?;
    write_json(
        &job_dir.join("benchmark_args.json"),
        &JobArgs {
            name: &job.name,
            target: job.target.redacted(),
            gen_params: &job.gen_params,
            prompts: job.prompts.len(),
            tokenizer: &job.tokenizer,
            warmup: job.warmup,
            seed: job.seed,
            stages,
        },
    )?;
    Ok(())
}

/// Runs every stage (stopping early when cancelled) and returns what each measured.
pub async fn run_sweep(
    cluster: &mut Cluster,
    groups: &[Group],
    job: &PerfJob,
    run_dir: &Path,
    display: Display,
    cancel: &CancellationToken,
) -> anyhow::Result<Vec<StageResult>> {
    let mut results = Vec::new();
    write_args(job, &job.stages, run_dir)?;
    for stage in &job.stages {
        if cancel.is_cancelled() {
            break;
        }
        let r = run_shown(cluster, groups, job, stage, run_dir, display, cancel).await?;
        // k6's abortOnFail: a failed `:abort` threshold ends the sweep here, as does a stage
        // stopped early for errors (no higher load after that)
        let abort = job
            .thresholds
            .iter()
            .filter(|t| t.abort_on_fail)
            .find(|t| {
                r.thresholds
                    .iter()
                    .any(|c| !c.pass && c.threshold == t.text)
            })
            .map(|t| format!("threshold {} failed (abort)", t.text))
            .or_else(|| {
                r.early_stop
                    .as_ref()
                    .map(|why| format!("stage {} stopped early ({why})", r.stage.name))
            });
        results.push(r);
        if let Some(t) = abort {
            let left = job.stages.len() - results.len();
            if left > 0 {
                eprintln!("{}: {t}: {left} later stage(s) not run", job.name);
            }
            break;
        }
    }
    if job.outputs.export_csv && !results.is_empty() {
        write_overview_csv(&job.name, &results, run_dir)?;
    }
    if display.tables && !results.is_empty() {
        let rows: Vec<_> = results
            .iter()
            .map(|r| (r.stage.name.clone(), r.summary.clone(), r.rich.clone()))
            .collect();
        println!("\n{}: performance summary", job.name);
        println!("{}", terminal::sweep_table(&rows));
    }
    Ok(results)
}

/// Writes workload `workload`'s `overview.csv` (`--export-csv`) of `results` into its folder of
/// `run_dir`: one row per stage, the metrics of the terminal's overview table.
pub fn write_overview_csv(
    workload: &str,
    results: &[StageResult],
    run_dir: &Path,
) -> anyhow::Result<()> {
    use crate::run_store::{csv_export, layout};
    let dir = layout::perf_workload_dir(run_dir, workload);
    std::fs::create_dir_all(&dir)?;
    let rows: Vec<csv_export::OverviewRow<'_>> = results
        .iter()
        .map(|r| (r.stage.name.as_str(), &r.summary, &r.rich))
        .collect();
    csv_export::write_overview(&dir.join(layout::OVERVIEW_CSV), &rows)?;
    Ok(())
}

/// Runs one stage on the agents of `groups` still live (printing its tables when asked) into
/// its folder under `run_dir`.
pub async fn run_shown(
    cluster: &mut Cluster,
    groups: &[Group],
    job: &PerfJob,
    stage: &super::job::StageSpec,
    run_dir: &Path,
    display: Display,
    cancel: &CancellationToken,
) -> anyhow::Result<StageResult> {
    if let Some(w) = stream_warning_for(&job.target, stage) {
        eprintln!("warning: {} / {}: {w}", job.name, stage.name);
    }
    let dir = stage_dir(run_dir, &job.name, &stage.name);
    // agents lost in an earlier stage take no part in this one, unless they came back (a
    // restarted agent reconnects with the same id and labels, in a new session)
    let live: Vec<Group> = groups
        .iter()
        .map(|g| Group {
            label: g.label.clone(),
            agents: g
                .agents
                .iter()
                .filter_map(|a| {
                    cluster
                        .registry
                        .current(&a.id)
                        .filter(|now| now.labels == a.labels)
                })
                .collect(),
        })
        .filter(|g| {
            let keep = !g.agents.is_empty();
            if !keep {
                tracing::warn!(stage = %stage.name, group = ?g.label, "no live agent left in this placement group; it sits the stage out");
            }
            keep
        })
        .collect();
    if live.is_empty() {
        return Err(crate::outcome::Failure::error(
            crate::outcome::Exit::AgentsLost,
            format!("stage {}: no live agents left", stage.name),
        ));
    }
    let span = tracing::info_span!("stage", run_id = %cluster.config.run_id, workload = %job.name, stage = %stage.name);
    let r = run_stage(cluster, job, stage, &live, &dir, display.progress, cancel)
        .instrument(span)
        .await?;
    if r.status != super::stage::StageStatus::Ok {
        eprintln!("{} / {}: {}", job.name, stage.name, r.status.describe());
    }
    if display.tables {
        println!("\n{} / {} ({})", job.name, stage.name, r.stopped);
        if r.status != super::stage::StageStatus::Ok {
            println!("{}", r.status.describe());
        }
        if let Some(link) = &r.link {
            println!("{link}");
        }
        if !r.thresholds.is_empty() {
            println!("{}", terminal::threshold_table(&r.thresholds));
        }
        println!(
            "{}",
            terminal::summary_table("Benchmark summary", &r.summary, &r.rich)
        );
        println!("{}", terminal::percentile_table(&r.percentiles));
        if !r.per_label.is_empty() {
            println!("{} / {}: per label", job.name, stage.name);
            println!("{}", terminal::sweep_table(&r.per_label));
        }
    }
    Ok(r)
}
