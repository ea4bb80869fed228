//! A run folder read back for reports and the dashboard: its perf stages (summaries,
//! percentiles, per-label breakdowns, events, time series, histogram CDFs), its eval reports and
//! its think-eval results.
//! Works on finished runs, runs in progress and EvalScope-style eval folders alike.

use std::path::{Path, PathBuf};

use swarm_common::metrics::evalscope::{PercentileRow, PerfSummary};
use swarm_common::metrics::summary::RichSummary;
use swarm_eval::Report;

use super::cdf::{Cdf, read_cdfs};
use super::think_data::{ThinkSet, read_think};
use swarm_store::breakdown::{BREAKDOWN_JSON, Breakdown, StageEvent};
use swarm_store::layout::BENCHMARK_PERCENTILE;
use swarm_store::stage_files::{SUMMARY_JSON, StageSummary, label_dir_name};
use swarm_store::timeseries::TimePoint;

/// Errors reading a run folder.
#[derive(Debug, thiserror::Error)]
pub enum RunReadError {
    /// The folder is not there.
    #[error("{0}: not a run folder")]
    NotARun(PathBuf),
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// `run.json` or `benchmark_args.json` is not what it should be.
    #[error("{message}")]
    Record {
        /// What is wrong, naming the file.
        message: String,
    },
    /// A file is not the JSON it should be.
    #[error("{path}: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The parse error.
        source: serde_json::Error,
    },
}

impl From<anyhow::Error> for RunReadError {
    /// A run store reader's error (it names the file and the field).
    fn from(e: anyhow::Error) -> Self {
        let message = format!("{e:#}");
        RunReadError::Record { message }
    }
}

/// Everything a report shows about one run.
#[derive(Debug, Clone)]
pub struct RunData {
    /// The folder name (run id).
    pub id: String,
    /// The folder.
    pub dir: PathBuf,
    /// The plan's name, from `run.json`.
    pub plan: Option<String>,
    /// Whether `run.json` says the run was cancelled.
    pub cancelled: bool,
    /// Its `run.json` (None for folders without one: EvalScope's, older ones).
    pub record: Option<swarm_store::record::RunRecord>,
    /// Perf workloads in folder order.
    pub perf: Vec<PerfWorkload>,
    /// Eval report sets (one per eval workload and model).
    pub evals: Vec<EvalSet>,
    /// Think-eval outputs: the folder itself when it is one, or its sub-folders that are.
    pub think: Vec<ThinkSet>,
}

/// One perf workload's stages.
#[derive(Debug, Clone)]
pub struct PerfWorkload {
    /// Workload name.
    pub name: String,
    /// The target's model, from `benchmark_args.json`.
    pub model: Option<String>,
    /// Stages in the order they ran.
    pub stages: Vec<StageData>,
    /// Its SLA auto-tune search (`sla_summary.json`), if it ran one.
    pub sla: Option<swarm_store::sla_summary::SlaResult>,
}

/// One finished stage.
#[derive(Debug, Clone)]
pub struct StageData {
    /// Stage name.
    pub name: String,
    /// Why it stopped.
    pub stopped: String,
    /// Whether it produced a result (None in folders written before outcomes were recorded).
    pub outcome: Option<swarm_store::stage_status::StageStatus>,
    /// EvalScope's summary.
    pub summary: PerfSummary,
    /// Our summary (None for EvalScope's own perf folders).
    pub rich: Option<RichSummary>,
    /// EvalScope's percentile rows.
    pub percentiles: Vec<PercentileRow>,
    /// Per placement label (`region=eu`): EvalScope's summary and ours.
    pub labels: Vec<LabelData>,
    /// Events of the stage (agent lost, re-assignment), seconds from its start.
    pub events: Vec<StageEvent>,
    /// Throughput and concurrency over time.
    pub series: Vec<TimePoint>,
    /// Distributions from the saved histograms.
    pub cdfs: Vec<Cdf>,
    /// `speed_benchmark.json`: speed per prompt length (empty for other datasets).
    pub speed: Vec<swarm_store::speed_benchmark::SpeedRow>,
    /// `trace_replay.json`: a trace replay's send-time error (None for other datasets).
    pub trace: Option<swarm_store::trace_replay::TraceReplay>,
    /// `multi_turn.json`: the per-turn table of a `--multi-turn` stage (None for others).
    pub multi_turn: Option<swarm_store::multi_turn::MultiTurnReport>,
}

/// One placement label of a stage.
#[derive(Debug, Clone)]
pub struct LabelData {
    /// `key=value`.
    pub label: String,
    /// EvalScope's summary.
    pub summary: PerfSummary,
    /// Our summary.
    pub rich: RichSummary,
    /// Its distributions, from `histograms/labels/<label>/` (none in older runs).
    pub cdfs: Vec<Cdf>,
}

/// The reports of one eval workload for one model.
#[derive(Debug, Clone)]
pub struct EvalSet {
    /// The workload (None for `coordinator eval` runs).
    pub workload: Option<String>,
    /// The folder holding `predictions/`, `reviews/` and `reports/`.
    pub root: PathBuf,
    /// The model folder name.
    pub model: String,
    /// One report per benchmark.
    pub reports: Vec<Report>,
}

fn read_text(path: &Path) -> Result<String, RunReadError> {
    std::fs::read_to_string(path).map_err(|source| RunReadError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Reads and parses a JSON file.
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, RunReadError> {
    serde_json::from_str(&read_text(path)?).map_err(|source| RunReadError::Json {
        path: path.to_path_buf(),
        source,
    })
}

pub use swarm_store::read::{files_with_ext, name_of, subdirs};

/// Reads the run folder `dir`.
pub fn read_run(dir: &Path) -> Result<RunData, RunReadError> {
    if !dir.is_dir() {
        return Err(RunReadError::NotARun(dir.to_path_buf()));
    }
    // a folder without run.json (EvalScope's, or one written before it) has no record
    let record = swarm_store::record::read(dir)?;
    let mut perf = Vec::new();
    for wdir in subdirs(&dir.join("perf")) {
        perf.push(read_workload(&wdir)?);
    }
    // EvalScope's perf folders: <model>/parallel_<P>_number_<N>/
    for (mdir, stage_dirs) in swarm_store::evalscope_perf::workloads(dir) {
        perf.push(read_evalscope_workload(&mdir, &stage_dirs)?);
    }
    let mut evals = Vec::new();
    let eval_dir = dir.join(swarm_store::layout::EVAL_DIR);
    for root in swarm_store::layout::eval_roots(dir) {
        let workload = (root.parent() == Some(&eval_dir)).then(|| name_of(&root));
        evals.extend(read_eval_root(&root, workload)?);
    }
    Ok(RunData {
        id: name_of(dir),
        dir: dir.to_path_buf(),
        plan: record.as_ref().map(|r| r.plan.clone()),
        cancelled: record.as_ref().is_some_and(|r| r.cancelled),
        record,
        perf,
        evals,
        think: read_think(dir),
    })
}

fn read_workload(wdir: &Path) -> Result<PerfWorkload, RunReadError> {
    let args = swarm_store::perf_args::read(wdir)?;
    let order: Vec<String> = args
        .as_ref()
        .map(|a| a.stages.iter().map(|s| s.name.clone()).collect())
        .unwrap_or_default();
    let mut dirs: Vec<PathBuf> = subdirs(wdir)
        .into_iter()
        .filter(|d| d.join(SUMMARY_JSON).is_file())
        .collect();
    dirs.sort_by_key(|d| {
        let n = name_of(d);
        (order.iter().position(|o| *o == n).unwrap_or(usize::MAX), n)
    });
    let mut stages = Vec::new();
    for d in dirs {
        stages.push(read_stage(&d)?);
    }
    Ok(PerfWorkload {
        name: name_of(wdir),
        model: args.and_then(|a| a.target.model),
        stages,
        sla: swarm_store::sla_summary::read(wdir)?,
    })
}

fn read_evalscope_workload(
    mdir: &Path,
    stage_dirs: &[PathBuf],
) -> Result<PerfWorkload, RunReadError> {
    use swarm_store::evalscope_perf::{read_percentiles, read_summary};
    let mut stages = Vec::new();
    for d in stage_dirs {
        stages.push(StageData {
            name: name_of(d),
            stopped: String::new(),
            outcome: None,
            summary: read_summary(d)?,
            rich: None,
            percentiles: read_percentiles(d)?,
            labels: Vec::new(),
            events: Vec::new(),
            series: Vec::new(),
            cdfs: Vec::new(),
            speed: read_speed(d)?,
            trace: None,
            multi_turn: None,
        });
    }
    Ok(PerfWorkload {
        name: name_of(mdir),
        model: Some(name_of(mdir)),
        stages,
        sla: None,
    })
}

fn read_stage(dir: &Path) -> Result<StageData, RunReadError> {
    let summary: StageSummary = read_json(&dir.join(SUMMARY_JSON))?;
    let percentiles: Vec<PercentileRow> = read_json(&dir.join(BENCHMARK_PERCENTILE))?;
    // a stage still running has no breakdown yet
    let breakdown_path = dir.join(BREAKDOWN_JSON);
    let breakdown: Option<Breakdown> = if breakdown_path.is_file() {
        Some(read_json(&breakdown_path)?)
    } else {
        None
    };
    let (labels, events) = match breakdown {
        Some(b) => (
            b.labels
                .into_iter()
                .map(|(label, v)| LabelData {
                    cdfs: read_cdfs(
                        &dir.join("histograms")
                            .join("labels")
                            .join(label_dir_name(&label)),
                    ),
                    label,
                    summary: v.evalscope,
                    rich: v.summary,
                })
                .collect(),
            b.events,
        ),
        None => (Vec::new(), Vec::new()),
    };
    let series_path = dir.join("timeseries.json");
    let series = if series_path.is_file() {
        read_json(&series_path)?
    } else {
        Vec::new()
    };
    Ok(StageData {
        name: summary.stage,
        stopped: summary.stopped,
        outcome: Some(summary.outcome),
        summary: summary.evalscope,
        rich: Some(summary.rich),
        percentiles,
        labels,
        events,
        series,
        cdfs: read_cdfs(&dir.join("histograms")),
        speed: read_speed(dir)?,
        trace: read_trace(dir)?,
        multi_turn: read_multi_turn(dir)?,
    })
}

/// The stage's `speed_benchmark.json` rows; none when it has none.
fn read_speed(dir: &Path) -> Result<Vec<swarm_store::speed_benchmark::SpeedRow>, RunReadError> {
    let path = dir.join(swarm_store::layout::SPEED_BENCHMARK_JSON);
    if path.is_file() {
        read_json(&path)
    } else {
        Ok(Vec::new())
    }
}

/// The stage's `trace_replay.json`; None when it has none.
fn read_trace(dir: &Path) -> Result<Option<swarm_store::trace_replay::TraceReplay>, RunReadError> {
    let path = dir.join(swarm_store::layout::TRACE_REPLAY_JSON);
    if path.is_file() {
        read_json(&path).map(Some)
    } else {
        Ok(None)
    }
}

/// The stage's `multi_turn.json`; None when it has none.
fn read_multi_turn(
    dir: &Path,
) -> Result<Option<swarm_store::multi_turn::MultiTurnReport>, RunReadError> {
    let path = dir.join(swarm_store::layout::MULTI_TURN_JSON);
    if path.is_file() {
        read_json(&path).map(Some)
    } else {
        Ok(None)
    }
}

/// Reads the reports of an eval folder (`reports/<model>/<bench>.json`), one set per model.
pub fn read_eval_root(root: &Path, workload: Option<String>) -> Result<Vec<EvalSet>, RunReadError> {
    let mut out = Vec::new();
    for model in swarm_store::layout::eval_models(root) {
        let files = files_with_ext(&root.join("reports").join(&model), "json");
        let mut reports = Vec::new();
        for f in files {
            reports.push(read_json::<Report>(&f)?);
        }
        out.push(EvalSet {
            workload: workload.clone(),
            root: root.to_path_buf(),
            model,
            reports,
        });
    }
    Ok(out)
}
