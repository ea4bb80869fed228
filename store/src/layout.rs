//! The names of a run folder's files and folders, spelled once.
//!
//! ```text
//! <outputs>/<run-id>/
//!   run.json                 what made it, status, outcome (record::RunRecord)
//!   plan.yaml                the plan as run, credentials redacted (`perf` and `eval`: the
//!                            plan made of their flags, one workload named by --name)
//!   report.html              the HTML report
//!   perf/<workload>/         benchmark_args.json, sla_summary.json (an SLA search),
//!                            overview.csv (--export-csv)
//!   perf/<workload>@<label>/ an SLA search with `placement: {per_label: KEY}`: one search per
//!                            label value (`knee@region=eu-west`), each its own workload folder
//!   perf/<workload>/<stage>/ summary.json, benchmark_summary.json, benchmark_percentile.json,
//!                            breakdown.json, events.jsonl, live.json, histograms/, requests.sqlite,
//!                            speed_benchmark.json (the speed_benchmark datasets),
//!                            percentiles.csv (--export-csv)
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
/// A perf workload's sweep overview as CSV (`--export-csv`): one row per stage.
pub const OVERVIEW_CSV: &str = "overview.csv";
/// A perf stage's percentiles as CSV (`--export-csv`): EvalScope's rows and the extra ones.
pub const PERCENTILES_CSV: &str = "percentiles.csv";
/// An SLA search's probes and answer, beside its stages (EvalScope's name).
pub const SLA_SUMMARY: &str = "sla_summary.json";
/// A `speed_benchmark` stage's speed per prompt length (EvalScope's name).
pub const SPEED_BENCHMARK_JSON: &str = "speed_benchmark.json";
/// A trace replay stage's send-time error (actual − scheduled send).
pub const TRACE_REPLAY_JSON: &str = "trace_replay.json";
/// A multi-turn stage's per-turn table and EvalScope's multi-turn values.
pub const MULTI_TURN_JSON: &str = "multi_turn.json";
/// A stage's per-request records.
pub const REQUESTS_SQLITE: &str = "requests.sqlite";

/// The folder of perf workload `workload`: `perf/<workload>/`.
pub fn perf_workload_dir(run: &Path, workload: &str) -> PathBuf {
    run.join(PERF_DIR).join(workload)
}

/// The workload folder name of placement group `label` (`region=eu-west`) searching on its own
/// (an SLA search with `placement: {per_label: KEY}`): `<workload>@<label>`, the label made a
/// plain folder name.
pub fn per_label_workload(workload: &str, label: &str) -> String {
    format!("{workload}@{}", super::stage_files::label_dir_name(label))
}

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

/// The eval folders of `run`, each holding `predictions/` or `reports/`: `eval/` itself (the
/// shape written before), else each `eval/<workload>/`; then `run` itself (EvalScope's own).
pub fn eval_roots(run: &Path) -> Vec<PathBuf> {
    let has = |p: &Path| p.join(PREDICTIONS_DIR).is_dir() || p.join(REPORTS_DIR).is_dir();
    let eval = run.join(EVAL_DIR);
    let mut out = if has(&eval) {
        vec![eval]
    } else {
        super::read::subdirs(&eval)
            .into_iter()
            .filter(|p| has(p))
            .collect()
    };
    if has(run) {
        out.push(run.to_path_buf());
    }
    out
}

/// Every prediction file of `run` with its review file (there or not):
/// `<root>/predictions/<model>/<file>.jsonl` and `<root>/reviews/<model>/<file>.jsonl`.
pub fn eval_files(run: &Path) -> Vec<(PathBuf, PathBuf)> {
    let mut out = Vec::new();
    for root in eval_roots(run) {
        for mdir in super::read::subdirs(&root.join(PREDICTIONS_DIR)) {
            let reviews = root.join(REVIEWS_DIR).join(super::read::name_of(&mdir));
            for f in super::read::files_with_ext(&mdir, "jsonl") {
                out.push((f.clone(), reviews.join(super::read::name_of(&f))));
            }
        }
    }
    out
}

/// The models of eval folder `root`: its `reports/` then `predictions/` folders, each once.
pub fn eval_models(root: &Path) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    let dirs = [REPORTS_DIR, PREDICTIONS_DIR].map(|d| super::read::subdirs(&root.join(d)));
    let names = dirs.iter().flatten().map(|m| super::read::name_of(m));
    names.filter(|m| seen.insert(m.clone())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roots_of(dirs: &[&str]) -> Vec<String> {
        let tmp = tempfile::tempdir().unwrap();
        for d in dirs {
            std::fs::create_dir_all(tmp.path().join(d)).unwrap();
        }
        let rel = |p: PathBuf| p.strip_prefix(tmp.path()).unwrap().display().to_string();
        eval_roots(tmp.path()).into_iter().map(rel).collect()
    }

    #[test]
    fn the_eval_folder_itself_is_the_shape_written_before() {
        assert_eq!(roots_of(&["eval/predictions"]), ["eval"]);
        assert_eq!(roots_of(&["eval/reports", "eval/w/reports"]), ["eval"]);
    }

    #[test]
    fn each_workload_folder_with_predictions_or_reports_is_one() {
        let dirs = ["eval/b/predictions", "eval/a/reports", "eval/c/configs"];
        assert_eq!(roots_of(&dirs), ["eval/a", "eval/b"]);
    }

    #[test]
    fn evalscope_own_folders_are_read_at_the_top() {
        assert_eq!(roots_of(&["predictions", "reports"]), [""]);
        assert_eq!(roots_of(&["eval/w/predictions", "reports"]), ["eval/w", ""]);
        assert!(roots_of(&["perf/w", "configs"]).is_empty());
    }
}
