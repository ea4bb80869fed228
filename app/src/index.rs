//! The run index: the run folders under the outputs folder, what each holds (perf, eval,
//! think-eval),
//! which models, when, and whether it is still running — read from a few small files per run.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use swarm_report::run_data::{name_of, read_json, subdirs};
use swarm_report::think_data::{has_think, read_think};
use swarm_store::layout::{eval_models, eval_roots};
use swarm_store::record::RunStatus;

/// One run folder, as the runs list shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct RunEntry {
    /// The folder name.
    pub id: String,
    /// `YYYY-mm-dd HH:MM:SS` from the run id (UTC), or empty.
    pub date: String,
    /// `perf`, `eval`, `think-eval`: what it holds.
    pub kinds: Vec<&'static str>,
    /// Models of its targets, eval report folders and think-eval results.
    pub models: Vec<String>,
    /// A stage is running now (a fresh `live.json`), or an eval's `progress.json` is unfinished
    /// and fresh (without one: predictions written in the last minute and no `run.json` or
    /// `report.html` yet).
    pub running: bool,
    /// Where it stands.
    pub state: RunState,
}

/// Where a run stands, from its `run.json`.
#[derive(Debug, Clone, PartialEq)]
pub enum RunState {
    /// Going: `run.json` says so and its files are still being written (or, in folders without
    /// one, they were written in the last minute).
    Running,
    /// `run.json` says running, but nothing was written for minutes: its process died.
    Interrupted,
    /// Ended; every part produced a result.
    Done,
    /// Stopped by the user.
    Cancelled,
    /// Ended with a failure.
    Failed(swarm_store::outcome::Exit),
    /// No `run.json` (EvalScope's folders, older runs): nothing says how it ended.
    Unrecorded,
    /// `run.json` is there but is not one.
    Unreadable(String),
}

/// Filters of the runs list (empty: any).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunFilter {
    /// Substring of a model name.
    pub model: String,
    /// `perf`, `eval` or `think-eval`.
    pub kind: String,
    /// Prefix of the date (`2026-11`, `2026-11-27`).
    pub date: String,
}

impl RunEntry {
    /// Whether the entry passes `f`.
    pub fn matches(&self, f: &RunFilter) -> bool {
        let model = f.model.to_lowercase();
        (model.is_empty()
            || self
                .models
                .iter()
                .any(|m| m.to_lowercase().contains(&model)))
            && (f.kind.is_empty() || self.kinds.contains(&f.kind.as_str()))
            && (f.date.is_empty() || self.date.starts_with(f.date.trim()))
    }
}

/// A run id safe to join to the outputs folder: one plain path segment.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && !id.starts_with('.')
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

/// The folder of run `id` under `outputs`, if it is one.
pub fn run_path(outputs: &Path, id: &str) -> Option<PathBuf> {
    let p = outputs.join(id);
    (valid_id(id) && p.is_dir()).then_some(p)
}

fn date_of(id: &str) -> String {
    let b = id.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
    if b.len() >= 15 && digits(0..8) && b[8] == b'_' && digits(9..15) {
        format!(
            "{}-{}-{} {}:{}:{}",
            &id[0..4],
            &id[4..6],
            &id[6..8],
            &id[9..11],
            &id[11..13],
            &id[13..15]
        )
    } else {
        String::new()
    }
}

/// `live.json` files of the run's stages that were written in the last 30 seconds.
pub fn live_files(run: &Path) -> Vec<PathBuf> {
    let fresh = |p: &Path| {
        std::fs::metadata(p)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| SystemTime::now().duration_since(t).ok())
            .is_some_and(|age| age < Duration::from_secs(30))
    };
    subdirs(&run.join("perf"))
        .iter()
        .flat_map(|w| subdirs(w))
        .map(|s| s.join("live.json"))
        .filter(|p| p.is_file() && fresh(p))
        .collect()
}

/// Whether a file in a model folder under `dir` changed in the last minute.
/// An eval root is running when its `progress.json` says a model is not finished and was
/// updated in the last two minutes (a killed coordinator leaves it unfinished); without that
/// file, when predictions were written in the last minute and the run has no summary yet.
fn eval_running(run: &Path, root: &Path) -> bool {
    let progress = swarm_store::progress::read_progress(root);
    if progress.models.is_empty() {
        return !run.join("run.json").exists()
            && !run.join("report.html").exists()
            && recently_written(&root.join("predictions"));
    }
    let now_ms = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    progress
        .models
        .values()
        .any(|m| !m.finished && now_ms.saturating_sub(m.updated_unix_ms) < 120_000)
}

fn recently_written(dir: &Path) -> bool {
    subdirs(dir).iter().any(|m| {
        std::fs::read_dir(m)
            .into_iter()
            .flatten()
            .flatten()
            .any(|f| {
                f.metadata()
                    .and_then(|md| md.modified())
                    .ok()
                    .and_then(|t| SystemTime::now().duration_since(t).ok())
                    .is_some_and(|age| age < Duration::from_secs(60))
            })
    })
}

/// Reads one run folder's entry.
pub fn entry(run: &Path) -> RunEntry {
    let id = name_of(run);
    let mut models = Vec::new();
    let workloads = subdirs(&run.join("perf"));
    for w in &workloads {
        if let Ok(args) = read_json::<serde_json::Value>(&w.join("benchmark_args.json"))
            && let Some(m) = args["target"]["model"].as_str()
        {
            models.push(m.to_string());
        }
    }
    let evalscope_perf = swarm_store::evalscope_perf::workloads(run);
    models.extend(evalscope_perf.iter().map(|(m, _)| name_of(m)));
    let roots = eval_roots(run);
    models.extend(roots.iter().flat_map(|r| eval_models(r)));
    let mut kinds = Vec::new();
    if !workloads.is_empty() || !evalscope_perf.is_empty() {
        kinds.push("perf");
    }
    if !roots.is_empty() {
        kinds.push("eval");
    }
    if has_think(run) {
        let sets = read_think(run);
        if !sets.is_empty() {
            kinds.push("think-eval");
        }
        models.extend(
            sets.iter()
                .flat_map(|s| s.models.iter().map(|(m, _)| m.clone())),
        );
    }
    // each model once, where it first appears
    let mut seen = std::collections::HashSet::new();
    models.retain(|m| seen.insert(m.clone()));
    let alive = !live_files(run).is_empty() || roots.iter().any(|r| eval_running(run, r));
    let state = match swarm_store::record::read(run) {
        Err(e) => RunState::Unreadable(format!("{e:#}")),
        Ok(None) if alive => RunState::Running,
        Ok(None) => RunState::Unrecorded,
        Ok(Some(r)) => match r.status {
            RunStatus::Running if alive || recently_started(&r.updated_at) => RunState::Running,
            RunStatus::Running => RunState::Interrupted,
            RunStatus::Done => RunState::Done,
            RunStatus::Cancelled => RunState::Cancelled,
            RunStatus::Failed => {
                RunState::Failed(r.outcome.unwrap_or(swarm_store::outcome::Exit::Internal))
            }
        },
    };
    RunEntry {
        date: date_of(&id),
        id,
        kinds,
        models,
        running: state == RunState::Running,
        state,
    }
}

/// Whether `updated_at` (RFC 3339) is less than two minutes ago: a run that just started (its
/// agents still joining) has written nothing else yet.
fn recently_started(updated_at: &str) -> bool {
    time::OffsetDateTime::parse(updated_at, &time::format_description::well_known::Rfc3339)
        .is_ok_and(|t| (time::OffsetDateTime::now_utc() - t) < time::Duration::minutes(2))
}

/// Every run folder under `outputs`, newest first.
pub fn list_runs(outputs: &Path) -> Vec<RunEntry> {
    let mut runs: Vec<RunEntry> = subdirs(outputs)
        .iter()
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(valid_id))
        .map(|p| entry(p))
        .collect();
    runs.sort_by(|a, b| b.id.cmp(&a.id));
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_dates() {
        assert!(valid_id("20261127_120000_quick-start"));
        assert!(!valid_id("../etc") && !valid_id(".hidden") && !valid_id("a/b") && !valid_id(""));
        assert_eq!(date_of("20261127_120304_x"), "2026-11-27 12:03:04");
        assert_eq!(date_of("my-run"), "");
    }

    #[test]
    fn a_failed_run_says_so_from_its_run_json() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let run = tmp.path().join("20261206_120000_perf");
        let rec =
            swarm_store::record::Recorder::start(&run, swarm_store::record::RunKind::Perf, "perf")
                .expect("run.json");
        assert_eq!(entry(&run).state, RunState::Running, "just started");
        rec.finish(
            swarm_store::outcome::Exit::NoSuccess,
            vec!["...".into()],
            false,
        )
        .expect("run.json");
        let e = entry(&run);
        assert_eq!(
            e.state,
            RunState::Failed(swarm_store::outcome::Exit::NoSuccess)
        );
        let page = crate::templates::runs_page(&[e], &RunFilter::default());
        assert!(page.contains("failed: no_success"), "{page}");

        // a run whose process died: running, but not updated for minutes
        let mut r = swarm_store::record::read(&run).unwrap().unwrap();
        r.status = RunStatus::Running;
        r.updated_at = "2026-01-01T00:00:00Z".into();
        swarm_store::stage_files::write_json_atomic(&run.join("run.json"), &r).unwrap();
        assert_eq!(entry(&run).state, RunState::Interrupted);
        // and one that is not a run.json
        std::fs::write(run.join("run.json"), "{}").unwrap();
        assert!(matches!(entry(&run).state, RunState::Unreadable(_)));
    }

    #[test]
    fn filters_by_model_kind_and_date() {
        let e = RunEntry {
            id: "20261127_120000_x".into(),
            date: "2026-11-27 12:00:00".into(),
            kinds: vec!["eval"],
            models: vec!["Qwen3-8B".into()],
            running: false,
            state: RunState::Done,
        };
        let f = |model: &str, kind: &str, date: &str| RunFilter {
            model: model.into(),
            kind: kind.into(),
            date: date.into(),
        };
        assert!(e.matches(&f("qwen", "", "")));
        assert!(e.matches(&f("", "eval", "2026-11")));
        assert!(!e.matches(&f("llama", "", "")));
        assert!(!e.matches(&f("", "perf", "")));
        assert!(!e.matches(&f("", "", "2025")));
    }

    #[test]
    fn a_think_eval_output_is_a_run_of_its_own_kind() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let out = tmp.path().join("think_eval");
        std::fs::create_dir_all(&out).expect("mkdir");
        std::fs::write(
            out.join("think_eval_results.json"),
            serde_json::json!({"models": {"qwen3-8b": {"accuracy": {"Level 1": 0.5}}}}).to_string(),
        )
        .expect("write");
        let runs = list_runs(tmp.path());
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].kinds, vec!["think-eval"]);
        assert_eq!(runs[0].models, vec!["qwen3-8b".to_string()]);
        assert!(!runs[0].running);
    }

    #[test]
    fn an_eval_runs_while_its_progress_is_unfinished_and_fresh() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = tmp.path().join("20261128_000000_e/eval");
        std::fs::create_dir_all(root.join("predictions/m")).expect("mkdir");
        let now_ms = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .expect("clock")
            .as_millis() as u64;
        let write = |finished: bool, updated: u64| {
            std::fs::write(
                root.join("progress.json"),
                serde_json::json!({"models": {"m": {"benchmarks": [{"name": "gsm8k", "total": 10, "done": 4, "failed": 0}], "finished": finished, "updated_unix_ms": updated}}}).to_string(),
            )
            .expect("write");
            list_runs(tmp.path())[0].running
        };
        assert!(write(false, now_ms));
        assert!(!write(true, now_ms), "finished");
        assert!(
            !write(false, now_ms - 600_000),
            "a killed eval is not running forever"
        );
    }
}
