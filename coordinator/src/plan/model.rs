//! The plan file (`version: 1`): targets, workloads, outputs. Unknown fields are rejected.

use std::collections::BTreeMap;
use std::path::PathBuf;

use llm_sim::SimConfig;
use serde::{Deserialize, Serialize};

/// A whole plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// Plan format version; must be 1.
    pub version: u32,
    /// Run name (part of the run folder).
    pub name: String,
    /// Endpoints under test.
    pub targets: Vec<TargetDef>,
    /// What to run, in order.
    pub workloads: Vec<WorkloadDef>,
    /// Where results go.
    #[serde(default)]
    pub outputs: OutputsDef,
}

/// An endpoint: a URL, or `sim` to start the built-in simulator in-process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetDef {
    /// Name workloads refer to.
    pub name: String,
    /// Endpoint URL (`.../v1/chat/completions`, `.../v1/completions` or a base URL).
    #[serde(default)]
    pub url: Option<String>,
    /// Start llm-sim with this configuration and target it.
    #[serde(default)]
    pub sim: Option<SimConfig>,
    /// The `model` of every request (default: the simulator's model, else required).
    #[serde(default)]
    pub model: Option<String>,
    /// Environment variable holding the API key.
    #[serde(default)]
    pub api_key_env: Option<String>,
    /// File holding the API key (trailing whitespace trimmed).
    #[serde(default)]
    pub api_key_file: Option<PathBuf>,
    /// Extra request headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Client timeouts.
    #[serde(default)]
    pub timeouts: TimeoutsDef,
}

/// Client timeouts, seconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TimeoutsDef {
    /// Connection establishment.
    pub connect_s: f64,
    /// Between chunks.
    pub read_s: f64,
    /// Whole request.
    pub total_s: f64,
}

impl Default for TimeoutsDef {
    fn default() -> Self {
        Self {
            connect_s: 10.0,
            read_s: 600.0,
            total_s: 3600.0,
        }
    }
}

/// One workload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadDef {
    /// Name (output folder).
    pub name: String,
    /// A perf sweep.
    pub perf: PerfDef,
}

/// A perf sweep against one target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerfDef {
    /// Target name.
    pub target: String,
    /// Prompts.
    pub dataset: DatasetDef,
    /// Stream responses (default true).
    #[serde(default = "yes")]
    pub stream: bool,
    /// `max_tokens`.
    #[serde(default)]
    pub max_tokens: Option<u32>,
    /// `min_tokens`.
    #[serde(default)]
    pub min_tokens: Option<u32>,
    /// `temperature`.
    #[serde(default)]
    pub temperature: Option<f64>,
    /// `top_p`.
    #[serde(default)]
    pub top_p: Option<f64>,
    /// `top_k`.
    #[serde(default)]
    pub top_k: Option<i64>,
    /// Extra request body keys.
    #[serde(default)]
    pub extra_args: serde_json::Map<String, serde_json::Value>,
    /// Unmeasured warmup requests before each stage.
    #[serde(default)]
    pub warmup: u32,
    /// Seed for schedules and random prompts.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Write per-request records to SQLite (default true).
    #[serde(default = "yes")]
    pub sqlite: bool,
    /// Stages, run in order.
    pub stages: Vec<StageDef>,
}

fn yes() -> bool {
    true
}

fn default_seed() -> u64 {
    swarm_common::dataset::DEFAULT_SEED
}

/// Where prompts come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetDef {
    /// openqa, longalpaca, line_by_line, sharegpt, custom, random.
    pub kind: String,
    /// Dataset file, relative to the plan file.
    #[serde(default)]
    pub path: Option<PathBuf>,
    /// Tokenizer (tokenizer.json path, model folder, or tiktoken encoding name).
    #[serde(default)]
    pub tokenizer: Option<String>,
    /// Shortest prompt kept (random: shortest made).
    #[serde(default)]
    pub min_prompt_length: Option<usize>,
    /// Longest prompt kept (random: longest made).
    #[serde(default)]
    pub max_prompt_length: Option<usize>,
    /// Shared prefix tokens (random).
    #[serde(default)]
    pub prefix_length: Option<usize>,
    /// Prompts to load or make (0 = all; random: required).
    #[serde(default)]
    pub number: Option<usize>,
    /// `skip` (default) or `fail` on a bad record.
    #[serde(default)]
    pub on_bad_line: Option<String>,
}

/// One stage: closed loop (`parallel`) or open loop (`rate`, optionally capped by `parallel`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageDef {
    /// Concurrency (closed loop) or in-flight cap (open loop).
    #[serde(default)]
    pub parallel: Option<u32>,
    /// Arrival rate, req/s (open loop).
    #[serde(default)]
    pub rate: Option<f64>,
    /// `poisson` (default), `constant` or `gamma`.
    #[serde(default)]
    pub arrival: Option<String>,
    /// Gamma shape for `arrival: gamma`.
    #[serde(default)]
    pub burstiness: Option<f64>,
    /// Requests to send.
    #[serde(default)]
    pub number: Option<u64>,
    /// Longest the stage may run, seconds.
    #[serde(default)]
    pub duration_s: Option<f64>,
}

/// Where results go.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutputsDef {
    /// Parent folder of run folders, relative to the working directory.
    pub dir: PathBuf,
}

impl Default for OutputsDef {
    fn default() -> Self {
        Self {
            dir: PathBuf::from("outputs"),
        }
    }
}
