//! Think-eval results found in a run folder: the folder itself when it is a `coordinator
//! think-eval` output (`think_eval_results.json` with every model under `models`), think-eval
//! outputs one level down (`<run>/think_eval/`), and EvalScope-style outputs that keep only one
//! `<model>/think_eval_results.json` per model (metric → level → mean).

use std::path::{Path, PathBuf};

use serde_json::Value;
use swarm_eval::think::{METRICS, ThinkResults};

use super::run_data::{name_of, read_json, subdirs};

/// The results file `coordinator think-eval` writes (once for all models, once per model).
pub const RESULTS_FILE: &str = "think_eval_results.json";

/// One think-eval output.
#[derive(Debug, Clone, PartialEq)]
pub struct ThinkSet {
    /// The output folder.
    pub dir: PathBuf,
    /// The benchmark measured, when the results say.
    pub dataset: Option<String>,
    /// How the first correct step was located (`judge_free`, `judge`), when the results say.
    pub first_correct: Option<String>,
    /// Each model's means per metric and level, in file order.
    pub models: Vec<(String, ThinkResults)>,
}

/// Metric → level → number, with at least one known metric: a per-model results file.
fn bare_results(v: &Value) -> Option<ThinkResults> {
    let m = v.as_object()?;
    let known = METRICS
        .iter()
        .any(|k| m.get(*k).is_some_and(Value::is_object));
    known.then(|| ThinkResults(m.clone()))
}

/// The think-eval output in `dir` itself (not below it), if there is one.
pub fn read_think_dir(dir: &Path) -> Option<ThinkSet> {
    if let Ok(v) = read_json::<Value>(&dir.join(RESULTS_FILE))
        && let Some(models) = v["models"].as_object()
    {
        return Some(ThinkSet {
            dir: dir.to_path_buf(),
            dataset: v["dataset"].as_str().map(str::to_string),
            first_correct: v["first_correct"]["mode"].as_str().map(str::to_string),
            models: models
                .iter()
                .filter_map(|(name, r)| Some((name.clone(), bare_results(r)?)))
                .collect(),
        });
    }
    let models: Vec<(String, ThinkResults)> = subdirs(dir)
        .iter()
        .filter(|m| m.join(RESULTS_FILE).is_file())
        .filter_map(|m| {
            let v = read_json::<Value>(&m.join(RESULTS_FILE)).ok()?;
            Some((name_of(m), bare_results(&v)?))
        })
        .collect();
    (!models.is_empty()).then(|| ThinkSet {
        dir: dir.to_path_buf(),
        dataset: None,
        first_correct: None,
        models,
    })
}

/// Whether `dir` (or one of its model folders) holds a results file: a cheap check for the
/// runs list.
fn has_results(dir: &Path) -> bool {
    dir.join(RESULTS_FILE).is_file() || subdirs(dir).iter().any(|m| m.join(RESULTS_FILE).is_file())
}

/// Whether the run folder `run` holds think-eval results (by file names only).
pub fn has_think(run: &Path) -> bool {
    has_results(run) || subdirs(run).iter().any(|d| has_results(d))
}

/// Every think-eval output of the run folder `run`: the folder itself when it is one, else its
/// sub-folders that are.
pub fn read_think(run: &Path) -> Vec<ThinkSet> {
    if let Some(set) = read_think_dir(run) {
        return vec![set];
    }
    subdirs(run)
        .iter()
        .filter_map(|d| read_think_dir(d))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn results(acc: f64) -> Value {
        serde_json::json!({
            "reasoning_tokens": {"Level 1": 100.0, "Level 2": 200.0},
            "accuracy": {"Level 1": acc, "Level 2": 0.5},
        })
    }

    fn write(path: &Path, v: &Value) {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, v.to_string()).expect("write");
    }

    #[test]
    fn a_think_eval_output_is_read_whole_and_not_again_per_model() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let out = tmp.path().join("think_eval");
        write(
            &out.join(RESULTS_FILE),
            &serde_json::json!({"dataset": "math_500", "first_correct": {"mode": "judge_free"},
                "models": {"m1": results(0.75), "m2": results(0.25)}}),
        );
        write(&out.join("m1").join(RESULTS_FILE), &results(0.75));
        write(&out.join("m2").join(RESULTS_FILE), &results(0.25));
        let sets = read_think(&out);
        assert_eq!(sets.len(), 1);
        assert_eq!(sets[0].dataset.as_deref(), Some("math_500"));
        assert_eq!(sets[0].first_correct.as_deref(), Some("judge_free"));
        let names: Vec<&str> = sets[0].models.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["m1", "m2"]);
        assert_eq!(sets[0].models[1].1.get("accuracy", "Level 1"), Some(0.25));
        assert!(has_think(&out));
        // a run folder holding it one level down
        let sets = read_think(tmp.path());
        assert_eq!(sets.len(), 1);
        assert_eq!(sets[0].dir, out);
    }

    #[test]
    fn per_model_files_alone_make_a_set_and_other_json_does_not() {
        let tmp = tempfile::tempdir().expect("tempdir");
        write(&tmp.path().join("qwen").join(RESULTS_FILE), &results(0.5));
        write(
            &tmp.path().join("junk").join(RESULTS_FILE),
            &serde_json::json!({"something": 1}),
        );
        let sets = read_think(tmp.path());
        assert_eq!(sets.len(), 1);
        assert_eq!(sets[0].models.len(), 1);
        assert_eq!(sets[0].models[0].0, "qwen");
        assert_eq!(
            sets[0].models[0].1.get("reasoning_tokens", "Level 2"),
            Some(200.0)
        );
        let empty = tempfile::tempdir().expect("tempdir");
        assert!(read_think(empty.path()).is_empty() && !has_think(empty.path()));
    }
}
