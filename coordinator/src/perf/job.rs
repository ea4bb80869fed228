//! A perf job: one target, one prompt set, a sweep of stages.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use swarm_common::metrics::aggregate::HistSettings;
use swarm_common::prompt_slice::PromptSlice;
use swarm_common::schedule::LoadModel;
use swarm_common::shard::{GenParams, PerfShardSpec, TargetSpec};

use crate::cluster::PromptSet;

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
    /// A ramp of the rate (open loop) or users (closed loop) inside the stage.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ramp: Option<swarm_common::ramp::Ramp>,
    /// A trace replay: the prompt set is a trace's lines, each sent at its own time (the load
    /// model is not used).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace: Option<TraceReplay>,
}

/// A stage that replays a trace (`mooncake_trace`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TraceReplay {
    /// Line times are divided by it (EvalScope's `speed`).
    pub speed: f64,
    /// The first line's timestamp, ms (due at the stage's start).
    pub t0_ms: f64,
    /// Lines per block an agent takes in turn.
    pub block: u64,
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
            ramp: None,
            trace: None,
        }
    }
}

/// How many random prompts to make for a sweep: enough distinct prompts for its largest stage
/// and its warmup, as EvalScope makes `number + warmup` (1,000 when only durations bound it),
/// capped at 10,000 to keep generation short.
pub fn random_prompt_count(stages: &[StageSpec], warmup: u32) -> usize {
    stages
        .iter()
        .filter_map(|s| s.number)
        .max()
        .map_or(1000, |n| n.saturating_add(u64::from(warmup)))
        .clamp(1, 10_000) as usize
}

/// How many prompts of a file dataset a sweep can use: EvalScope reads the first
/// `warmup + number` kept prompts of the largest stage (and cycles over them when the file has
/// fewer); a stage bounded only by duration can use them all (0).
pub fn file_prompt_count(stages: &[StageSpec], warmup: u32) -> usize {
    let mut most = 0u64;
    for s in stages {
        match s.number {
            Some(n) => most = most.max(n + u64::from(warmup)),
            None => return 0,
        }
    }
    usize::try_from(most).unwrap_or(usize::MAX)
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
    /// The prompt set, on disk; agents pull their slices of it.
    pub prompts: Arc<PromptSet>,
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
    /// Goodput objectives (vLLM's `--goodput`), if any.
    pub goodput: Option<swarm_common::goodput::Goodput>,
    /// Thresholds every stage must meet (k6's idea); a failed one fails the command (99).
    pub thresholds: Vec<super::threshold::Threshold>,
    /// When a stage stops early for errors (guidellm's `--max-errors`, `--max-error-rate`).
    pub early_stop: EarlyStop,
    /// `--multi-turn`: every prompt a conversation, run turn by turn on one agent; each stage
    /// also writes `multi_turn.json` (per-turn table, cache hit rate).
    pub multi_turn: Option<swarm_common::multi_turn::MultiTurnSpec>,
    /// What each stage writes besides EvalScope's files (`--percentiles`, `--export-csv`);
    /// boxed: a job stays small beside an eval's.
    pub outputs: Box<Outputs>,
}

/// What a perf workload writes besides EvalScope's files.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outputs {
    /// Extra percentile rows after EvalScope's (sorted, each once, in (0, 100)).
    pub percentiles: Vec<f64>,
    /// Write `overview.csv` and each stage's `percentiles.csv`.
    pub export_csv: bool,
    /// Write each stage's `speed_benchmark.json` (the `speed_benchmark` datasets; needs the
    /// per-request records).
    pub speed_benchmark: bool,
}

/// Stops a stage while it runs when too many of its requests fail; later stages are not run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EarlyStop {
    /// Stop once this many requests failed.
    #[serde(default)]
    pub max_errors: Option<u64>,
    /// Stop once this share of the finished requests failed (0..1), checked from
    /// [`EarlyStop::MIN_REQUESTS`] finished requests on.
    #[serde(default)]
    pub max_error_rate: Option<f64>,
}

impl EarlyStop {
    /// Finished requests before the error rate is judged.
    pub const MIN_REQUESTS: u64 = 20;

    /// Why a stage with `total` finished and `failed` failed requests must stop, if it must.
    pub fn verdict(&self, total: u64, failed: u64) -> Option<String> {
        if let Some(max) = self.max_errors
            && failed >= max
        {
            return Some(format!("{failed} requests failed (--max-errors {max})"));
        }
        match self.max_error_rate {
            Some(rate) if total >= Self::MIN_REQUESTS && failed as f64 / total as f64 > rate => {
                Some(format!(
                    "{failed} of {total} requests failed (--max-error-rate {rate})"
                ))
            }
            _ => None,
        }
    }
}

impl PerfJob {
    /// A shard of `stage` sending the prompts of `prompts`, with the stage's whole load (the
    /// caller narrows it).
    pub fn shard(
        &self,
        stage: &StageSpec,
        shard_id: String,
        prompts: PromptSlice,
    ) -> PerfShardSpec {
        PerfShardSpec {
            shard_id,
            target: self.target.clone(),
            gen_params: self.gen_params.clone(),
            load: stage.load,
            number: stage.number,
            duration_s: stage.duration_s,
            warmup: self.warmup,
            prompts,
            seed: self.seed,
            hist: self.hist,
            tokenizer: self.tokenizer.clone(),
            goodput: self.goodput,
            ramp: stage.ramp.map(swarm_common::ramp::ShardRamp::whole),
            trace: None,
            multi_turn: self.multi_turn,
        }
    }
}
