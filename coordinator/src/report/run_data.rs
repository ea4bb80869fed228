//! A run folder read back for reports and the dashboard: its perf stages (summaries,
//! percentiles, per-label breakdowns, events, time series, histogram CDFs), its eval reports and
//! its think-eval results.
//! Works on finished runs, runs in progress and EvalScope-style eval folders alike.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use swarm_common::eval::Report;
use swarm_common::metrics::summary::RichSummary;

use super::cdf::{Cdf, read_cdfs};
use super::think_data::{ThinkSet, read_think};
use crate::output::stage_files::label_dir_name;
use crate::perf::timeseries::TimePoint;

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
    /// A file is not the JSON it should be.
    #[error("{path}: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The parse error.
        source: serde_json::Error,
    },
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
}

/// One finished stage.
#[derive(Debug, Clone)]
pub struct StageData {
    /// Stage name.
    pub name: String,
    /// Why it stopped.
    pub stopped: String,
    /// Whether it produced a result (None in folders written before outcomes were recorded).
    pub outcome: Option<crate::perf::stage::StageStatus>,
    /// EvalScope's summary.
    pub summary: Map<String, Value>,
    /// Our summary.
    pub rich: Option<RichSummary>,
    /// EvalScope's percentile rows.
    pub percentiles: Vec<Map<String, Value>>,
    /// Per placement label (`region=eu`): EvalScope's summary and ours.
    pub labels: Vec<LabelData>,
    /// Events of the stage (agent lost, re-assignment), seconds from its start.
    pub events: Vec<(f64, String)>,
    /// Throughput and concurrency over time.
    pub series: Vec<TimePoint>,
    /// Distributions from the saved histograms.
    pub cdfs: Vec<Cdf>,
}

/// One placement label of a stage.
#[derive(Debug, Clone)]
pub struct LabelData {
    /// `key=value`.
    pub label: String,
    /// EvalScope's summary.
    pub summary: Map<String, Value>,
    /// Our summary.
    pub rich: Option<RichSummary>,
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

impl StageData {
    /// A number of EvalScope's summary.
    pub fn get(&self, key: &str) -> Option<f64> {
        self.summary.get(key).and_then(Value::as_f64)
    }
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

/// Sub-folders of `dir`, sorted by name (none when `dir` is missing).
pub fn subdirs(dir: &Path) -> Vec<PathBuf> {
    entries(dir, |p| p.is_dir())
}

/// The files of `dir` named `*.<ext>`, sorted (none when it cannot be read).
pub fn files_with_ext(dir: &Path, ext: &str) -> Vec<PathBuf> {
    entries(dir, |p| p.extension().is_some_and(|e| e == ext))
}

fn entries(dir: &Path, keep: impl Fn(&Path) -> bool) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| keep(p))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

fn name_of(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Reads the run folder `dir`.
pub fn read_run(dir: &Path) -> Result<RunData, RunReadError> {
    if !dir.is_dir() {
        return Err(RunReadError::NotARun(dir.to_path_buf()));
    }
    let run_json: Option<Value> = read_json(&dir.join("run.json")).ok();
    let mut perf = Vec::new();
    for wdir in subdirs(&dir.join("perf")) {
        perf.push(read_workload(&wdir)?);
    }
    let mut evals = Vec::new();
    let eval_dir = dir.join("eval");
    if eval_dir.join("reports").is_dir() || eval_dir.join("predictions").is_dir() {
        evals.extend(read_eval_root(&eval_dir, None)?);
    } else {
        for w in subdirs(&eval_dir) {
            evals.extend(read_eval_root(&w, Some(name_of(&w)))?);
        }
    }
    if dir.join("reports").is_dir() && dir.join("predictions").is_dir() {
        evals.extend(read_eval_root(dir, None)?); // an EvalScope output folder
    }
    Ok(RunData {
        id: name_of(dir),
        dir: dir.to_path_buf(),
        plan: run_json
            .as_ref()
            .and_then(|v| v["plan"].as_str().map(str::to_string)),
        cancelled: run_json
            .as_ref()
            .and_then(|v| v["cancelled"].as_bool())
            .unwrap_or(false),
        perf,
        evals,
        think: read_think(dir),
    })
}

fn read_workload(wdir: &Path) -> Result<PerfWorkload, RunReadError> {
    let args: Option<Value> = read_json(&wdir.join("benchmark_args.json")).ok();
    let order: Vec<String> = args
        .as_ref()
        .and_then(|a| a["stages"].as_array())
        .map(|s| {
            s.iter()
                .filter_map(|st| st["name"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let mut dirs: Vec<PathBuf> = subdirs(wdir)
        .into_iter()
        .filter(|d| d.join("summary.json").is_file())
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
        model: args
            .as_ref()
            .and_then(|a| a["target"]["model"].as_str().map(str::to_string)),
        stages,
    })
}

fn read_stage(dir: &Path) -> Result<StageData, RunReadError> {
    let summary: Value = read_json(&dir.join("summary.json"))?;
    let percentiles: Vec<Map<String, Value>> =
        read_json(&dir.join("benchmark_percentile.json")).unwrap_or_default();
    let breakdown: Value = read_json(&dir.join("breakdown.json")).unwrap_or(Value::Null);
    let labels = breakdown["labels"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(label, v)| LabelData {
                    label: label.clone(),
                    summary: v["evalscope"].as_object().cloned().unwrap_or_default(),
                    rich: serde_json::from_value(v["summary"].clone()).ok(),
                    cdfs: read_cdfs(
                        &dir.join("histograms")
                            .join("labels")
                            .join(label_dir_name(label)),
                    ),
                })
                .collect()
        })
        .unwrap_or_default();
    let events = breakdown["events"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| {
                    (
                        e["at_s"].as_f64().unwrap_or(0.0),
                        e["what"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(StageData {
        name: summary["stage"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| name_of(dir)),
        stopped: summary["stopped"].as_str().unwrap_or_default().to_string(),
        outcome: summary
            .get("outcome")
            .map(|o| serde_json::from_value(o.clone()))
            .transpose()
            .map_err(|source| RunReadError::Json {
                path: dir.join("summary.json"),
                source,
            })?,
        summary: summary["evalscope"]
            .as_object()
            .cloned()
            .unwrap_or_default(),
        rich: serde_json::from_value(summary.clone()).ok(),
        percentiles,
        labels,
        events,
        series: read_json(&dir.join("timeseries.json")).unwrap_or_default(),
        cdfs: read_cdfs(&dir.join("histograms")),
    })
}

/// Reads the reports of an eval folder (`reports/<model>/<bench>.json`), one set per model.
pub fn read_eval_root(root: &Path, workload: Option<String>) -> Result<Vec<EvalSet>, RunReadError> {
    let mut models: Vec<String> = subdirs(&root.join("reports"))
        .iter()
        .map(|p| name_of(p))
        .collect();
    for m in subdirs(&root.join("predictions"))
        .iter()
        .map(|p| name_of(p))
    {
        if !models.contains(&m) {
            models.push(m);
        }
    }
    let mut out = Vec::new();
    for model in models {
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
