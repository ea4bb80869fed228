//! The names of a run folder's files and folders, spelled once.
//!
//! ```text
//! <outputs>/<run-id>/
//!   run.json                 what made it, status, outcome (record::RunRecord)
//!   plan.yaml                the plan as run, credentials redacted (`perf` and `eval`: the
//!                            plan made of their flags, one workload named by --name)
//!   report.html              the HTML report
//!   perf/<workload>/         benchmark_args.json, sla_summary.json (an SLA search)
//!   perf/<workload>/<stage>/ summary.json, benchmark_summary.json, benchmark_percentile.json,
//!                            breakdown.json, events.jsonl, live.json, histograms/, requests.sqlite
//!   eval/<workload>/         EvalScope's eval folders: predictions/, reviews/, reports/,
//!                            configs/, task_config.json, progress.json
//!   think/                   think-eval results
//! ```
//!
//! Every command writes this one shape. Readers also take folders written before it (evals in
//! `eval/` itself) and EvalScope's own (`<model>/parallel_<P>_number_<N>/`, `predictions/` at
//! the top).

use std::path::{Path, PathBuf};

/// The run's record.
pub const RUN_JSON: &str = "run.json";
/// The plan as run.
pub const PLAN_YAML: &str = "plan.yaml";
/// The HTML report.
pub const REPORT_HTML: &str = "report.html";
/// Perf workloads' folder.
pub const PERF_DIR: &str = "perf";
/// Eval roots' folder.
pub const EVAL_DIR: &str = "eval";
/// Per-sample model outputs (EvalScope's name).
pub const PREDICTIONS_DIR: &str = "predictions";
/// Per-sample scores (EvalScope's name).
pub const REVIEWS_DIR: &str = "reviews";
/// Per-benchmark reports (EvalScope's name).
pub const REPORTS_DIR: &str = "reports";
/// EvalScope's perf summary of a stage.
pub const BENCHMARK_SUMMARY: &str = "benchmark_summary.json";
/// EvalScope's perf percentiles of a stage.
pub const BENCHMARK_PERCENTILE: &str = "benchmark_percentile.json";
/// EvalScope's perf arguments of a stage.
pub const BENCHMARK_ARGS: &str = "benchmark_args.json";

/// The folder of eval workload `workload` in `run`: `eval/<workload>/`, unless `run` holds its
/// eval in a shape written before (`eval/` itself, or EvalScope's `predictions/` at the top),
/// which is continued where it is.
pub fn eval_root(run: &Path, workload: &str) -> PathBuf {
    let eval = run.join(EVAL_DIR);
    let ours = eval.join(workload);
    if !ours.exists() && eval.join(PREDICTIONS_DIR).is_dir() {
        eval
    } else if !eval.exists() && run.join(PREDICTIONS_DIR).is_dir() {
        run.to_path_buf()
    } else {
        ours
    }
}
