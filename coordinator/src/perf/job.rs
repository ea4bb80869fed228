//! A perf job: one target, one prompt set, a sweep of stages.

use std::sync::Arc;

use serde::Serialize;
use swarm_common::metrics::aggregate::HistSettings;
use swarm_common::prompt::Prompt;
use swarm_common::schedule::LoadModel;
use swarm_common::shard::{GenParams, PerfShardSpec, TargetSpec};

/// One stage of a sweep.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StageSpec {
    /// Directory name, e.g. `parallel_8_number_100`.
    pub name: String,
    /// How load is offered.
    pub load: LoadModel,
    /// Request count bound.
    pub number: Option<u64>,
    /// Duration bound, seconds.
    pub duration_s: Option<f64>,
}

impl StageSpec {
    /// A stage named like EvalScope's output folders.
    pub fn new(load: LoadModel, number: Option<u64>, duration_s: Option<f64>) -> Self {
        let bound = match (number, duration_s) {
            (Some(n), _) => format!("number_{n}"),
            (None, Some(d)) => format!("duration_{d}s"),
            (None, None) => "unbounded".to_string(),
        };
        let name = match load {
            LoadModel::Closed { concurrency } => format!("parallel_{concurrency}_{bound}"),
            LoadModel::Open {
                rate,
                max_concurrency: Some(c),
                ..
            } => {
                format!("rate_{rate}_parallel_{c}_{bound}")
            }
            LoadModel::Open { rate, .. } => format!("rate_{rate}_{bound}"),
        };
        Self {
            name,
            load,
            number,
            duration_s,
        }
    }
}

/// How many random prompts to make for a sweep: enough distinct prompts for its largest stage
/// (1,000 when only durations bound it), capped at 10,000 to keep memory bounded.
pub fn random_prompt_count(stages: &[StageSpec]) -> usize {
    stages
        .iter()
        .filter_map(|s| s.number)
        .max()
        .unwrap_or(1000)
        .clamp(1, 10_000) as usize
}

/// Everything needed to run a sweep against one target.
#[derive(Debug, Clone)]
pub struct PerfJob {
    /// Workload name (output folder).
    pub name: String,
    /// The endpoint.
    pub target: TargetSpec,
    /// Generation parameters.
    pub gen_params: GenParams,
    /// Prompts to replay.
    pub prompts: Arc<Vec<Prompt>>,
    /// Tokenizer for token counts when the server sends no usage.
    pub tokenizer: Option<String>,
    /// Warmup requests before each stage.
    pub warmup: u32,
    /// Seed for schedules.
    pub seed: u64,
    /// Histogram bounds.
    pub hist: HistSettings,
    /// The stages, run in order.
    pub stages: Vec<StageSpec>,
    /// Write per-request records to SQLite.
    pub sqlite: bool,
}

impl PerfJob {
    /// The single shard of `stage` when one agent runs it all.
    pub fn whole_shard(&self, stage: &StageSpec) -> PerfShardSpec {
        PerfShardSpec {
            shard_id: format!("{}/{}/0", self.name, stage.name),
            target: self.target.clone(),
            gen_params: self.gen_params.clone(),
            load: stage.load,
            number: stage.number,
            duration_s: stage.duration_s,
            warmup: self.warmup,
            prompts: Arc::clone(&self.prompts),
            prompt_offset: 0,
            seed: self.seed,
            hist: self.hist,
            tokenizer: self.tokenizer.clone(),
        }
    }
}
