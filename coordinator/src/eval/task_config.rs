//! The task an eval ran, saved beside its results (`eval/task_config.json`) so that
//! `coordinator eval --rescore RUN` needs no flags; EvalScope's own `configs/task_config.yaml`
//! is read too.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};
use swarm_eval::DatasetArgs;

/// What `coordinator eval` writes: the model, its benchmarks and their arguments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedTask {
    /// The model evaluated.
    pub model: String,
    /// Its benchmarks, in order.
    pub datasets: Vec<String>,
    /// Per-benchmark arguments as the run used them (limit and data folder applied).
    pub dataset_args: BTreeMap<String, DatasetArgs>,
    /// Generations per sample.
    pub repeats: u32,
    /// EvalScope's `judge_strategy` of the run.
    #[serde(default, skip_serializing_if = "is_auto")]
    pub judge_strategy: swarm_eval::judge::JudgeStrategy,
    /// EvalScope's `judge_model_args` of the run, without its API key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub judge_model_args: Option<swarm_eval::judge::JudgeModelArgs>,
}

fn is_auto(s: &swarm_eval::judge::JudgeStrategy) -> bool {
    *s == swarm_eval::judge::JudgeStrategy::Auto
}

/// The part of EvalScope's `configs/task_config.yaml` a rescore needs.
#[derive(Debug, Deserialize)]
struct EvalScopeTask {
    model: String,
    datasets: Vec<String>,
    limit: Option<usize>,
    /// Missing (0) is 1.
    #[serde(default)]
    repeats: u32,
}

/// Where ours is written under an eval root (`<run>/eval`).
pub fn path(root: &Path) -> PathBuf {
    root.join("task_config.json")
}

/// Writes `task` under `root`.
pub fn save(root: &Path, task: &SavedTask) -> anyhow::Result<()> {
    std::fs::create_dir_all(root).with_context(|| format!("cannot create {}", root.display()))?;
    let p = path(root);
    let text = serde_json::to_string_pretty(task)?;
    std::fs::write(&p, text).with_context(|| format!("cannot write {}", p.display()))
}

/// The task of run folder `run`: ours (`eval/task_config.json`, or `task_config.json` when `run`
/// is itself an eval folder such as a plan's `eval/<workload>`), else EvalScope's
/// (`configs/task_config.yaml`: model, datasets, limit, repeats), else None.
pub fn load(run: &Path) -> anyhow::Result<Option<SavedTask>> {
    let ours = [path(&run.join("eval")), path(run)]
        .into_iter()
        .find(|p| p.is_file());
    if let Some(ours) = ours {
        let text = std::fs::read_to_string(&ours)
            .with_context(|| format!("cannot read {}", ours.display()))?;
        let task = serde_json::from_str(&text).with_context(|| format!("{}", ours.display()))?;
        return Ok(Some(task));
    }
    let theirs = run.join("configs").join("task_config.yaml");
    if theirs.is_file() {
        let text = std::fs::read_to_string(&theirs)
            .with_context(|| format!("cannot read {}", theirs.display()))?;
        let t: EvalScopeTask =
            serde_norway::from_str(&text).with_context(|| format!("{}", theirs.display()))?;
        let dataset_args = t
            .datasets
            .iter()
            .map(|d| {
                (
                    d.clone(),
                    DatasetArgs {
                        limit: t.limit,
                        ..Default::default()
                    },
                )
            })
            .collect();
        return Ok(Some(SavedTask {
            model: t.model,
            datasets: t.datasets,
            dataset_args,
            repeats: t.repeats.max(1),
            judge_strategy: Default::default(),
            judge_model_args: None,
        }));
    }
    Ok(None)
}
