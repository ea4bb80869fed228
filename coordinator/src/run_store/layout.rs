//! The names of a run folder's files and folders, spelled once.
//!
//! ```text
//! <outputs>/<run-id>/
//!   run.json                 what made it, status, outcome (record::RunRecord)
//!   plan.yaml                the plan as run, credentials redacted (plan runs)
//!   report.html              the HTML report
//!   perf/<workload>/<stage>/ summary.json, benchmark_summary.json, benchmark_percentile.json,
//!                            breakdown.json, events.jsonl, live.json, histograms/, requests.sqlite
//!   eval/[<workload>/]       EvalScope's eval folders: predictions/, reviews/, reports/,
//!                            configs/, task_config.json, progress.json
//!   think/                   think-eval results
//! ```

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
