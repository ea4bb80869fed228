//! An eval job: one model behind one target, a list of benchmarks with their arguments.

use std::collections::BTreeMap;

use swarm_common::shard::{GenParams, TargetSpec};
use swarm_eval::DatasetArgs;

/// Everything needed to run (or re-score) an eval.
#[derive(Debug, Clone)]
pub struct EvalJob {
    /// Workload name.
    pub name: String,
    /// Model name in reports and output folders.
    pub model: String,
    /// The endpoint.
    pub target: TargetSpec,
    /// Benchmarks, in order.
    pub datasets: Vec<String>,
    /// Per-benchmark arguments.
    pub dataset_args: BTreeMap<String, DatasetArgs>,
    /// Generation parameters.
    pub gen_params: GenParams,
    /// Requests in flight across all agents.
    pub batch_size: u32,
    /// Generations per sample.
    pub repeats: u32,
    /// EvalScope's `judge_strategy`.
    pub judge_strategy: swarm_eval::judge::JudgeStrategy,
    /// The LLM judge, when `judge_model_args` were given.
    pub judge: Option<Box<swarm_eval::judge::JudgeSpec>>,
    /// The `judge_model_args` it was made from (saved without the key in `task_config.json`).
    pub judge_model_args: Option<Box<swarm_eval::judge::JudgeModelArgs>>,
    /// A rescore asks the judge again instead of keeping the run's verdicts.
    pub rejudge: bool,
}

/// Generations per sample asked by a generation config's `n` (removed from it: each generation
/// is its own request, scored and reported as mean-of-n and pass@k).
pub fn take_n(extra: &mut serde_json::Map<String, serde_json::Value>) -> Option<u32> {
    extra
        .remove("n")
        .and_then(|v| v.as_u64())
        .map(|n| n.clamp(1, 1024) as u32)
}

/// Splits a generation config into the parameters we name and the extra body fields.
pub fn gen_params(
    mut extra: serde_json::Map<String, serde_json::Value>,
    stream: bool,
) -> GenParams {
    let temperature = extra.remove("temperature").and_then(|v| v.as_f64());
    let top_p = extra.remove("top_p").and_then(|v| v.as_f64());
    let max_tokens = extra
        .remove("max_tokens")
        .and_then(|v| v.as_u64())
        .map(|v| v.min(u64::from(u32::MAX)) as u32);
    let top_k = extra.remove("top_k").and_then(|v| v.as_i64());
    GenParams {
        stream,
        max_tokens,
        min_tokens: None,
        temperature,
        top_p,
        top_k,
        extra,
    }
}
