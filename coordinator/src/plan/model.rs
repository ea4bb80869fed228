//! The plan file (`version: 1`): agents, coordinator, targets, workloads, outputs. Unknown
//! fields are rejected.

use std::collections::BTreeMap;
use std::path::PathBuf;

use llm_sim::SimConfig;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use super::placement::Placement;

/// A whole plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// Plan format version; must be 1.
    pub version: u32,
    /// Run name (part of the run folder).
    pub name: String,
    /// Which agents run the plan (default: one in-process agent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agents: Option<AgentsDef>,
    /// The coordinator's gRPC endpoint for remote agents; required when `agents.min_agents` > 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coordinator: Option<CoordinatorDef>,
    /// Endpoints under test.
    pub targets: Vec<TargetDef>,
    /// What to run, in order.
    pub workloads: Vec<WorkloadDef>,
    /// Where results go.
    #[serde(default)]
    pub outputs: OutputsDef,
}

/// Which agents run the plan and how long to wait for them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentsDef {
    /// In-process agents started by the coordinator (default 1 when `min_agents` is 0 or
    /// absent, else 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(max = MAX_LOCAL_AGENTS))]
    pub local_agents: Option<u32>,
    /// Remote agents to wait for before starting (0 = none).
    #[serde(default)]
    pub min_agents: u32,
    /// How long to wait for `min_agents`, seconds.
    #[serde(default = "default_wait_s")]
    pub wait_s: f64,
    /// Only agents whose labels match all of these take part.
    #[serde(default)]
    pub selector: BTreeMap<String, String>,
    /// An agent silent this long, seconds, is lost and its shards are re-assigned.
    #[serde(default = "default_heartbeat_timeout_s")]
    pub heartbeat_timeout_s: f64,
}

/// The most in-process agents a plan may ask for.
pub const MAX_LOCAL_AGENTS: u32 = 1024;
/// Seconds to wait for `min_agents` when the plan does not say.
pub const DEFAULT_WAIT_S: f64 = 60.0;
/// Seconds of agent silence that count as lost when the plan does not say.
pub const DEFAULT_HEARTBEAT_TIMEOUT_S: f64 = 10.0;
/// The gRPC listen address when the plan does not say.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:7070";

fn default_wait_s() -> f64 {
    DEFAULT_WAIT_S
}

fn default_heartbeat_timeout_s() -> f64 {
    DEFAULT_HEARTBEAT_TIMEOUT_S
}

fn default_listen() -> String {
    DEFAULT_LISTEN.to_string()
}

/// Where remote agents dial in, and how they prove who they are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CoordinatorDef {
    /// gRPC listen address, `IP:port`.
    #[serde(default = "default_listen")]
    pub listen: String,
    /// Environment variable holding the agents' shared bearer token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_env: Option<String>,
    /// File holding the agents' shared bearer token (relative to the plan; trailing whitespace
    /// trimmed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_file: Option<PathBuf>,
    /// TLS for the listener (mutual TLS with `client_ca`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsDef>,
    /// Allow plaintext (and no agent credential) on a non-loopback listen address.
    #[serde(default)]
    pub insecure: bool,
}

/// The listener's certificate, key and (for mutual TLS) the CA agents' certificates must chain
/// to; PEM files relative to the plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TlsDef {
    /// Server certificate chain (PEM).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert: Option<PathBuf>,
    /// Server private key (PEM).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<PathBuf>,
    /// CA that agent client certificates must chain to; enables mutual TLS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_ca: Option<PathBuf>,
}

/// An endpoint: a URL, or `sim` to start the built-in simulator in-process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetDef {
    /// Name workloads refer to.
    pub name: String,
    /// Endpoint URL (`.../v1/chat/completions`, `.../v1/completions` or a base URL).
    #[serde(default)]
    pub url: Option<String>,
    /// Start llm-sim with this configuration and target it (see llm-sim's config format).
    #[serde(default)]
    #[schemars(with = "Option<serde_json::Map<String, serde_json::Value>>")]
    pub sim: Option<SimConfig>,
    /// The `model` of every request (default: the simulator's model, else required).
    #[serde(default)]
    pub model: Option<String>,
    /// API flavour (EvalScope's `--api`): `openai` (chat/completions or completions, picked
    /// from the URL; the default), `openai_embedding`, `openai_rerank` or `openai_responses`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api: Option<String>,
    /// An API key given on the command line (`--api-key`): never read from a plan, never written.
    #[serde(skip)]
    pub api_key: Option<swarm_common::shard::Secret>,
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
    /// Before its workloads run, send one tiny request from an agent of each placement group
    /// and stop with exit status 3 if it fails (EvalScope's connection test; default true).
    #[serde(default = "yes")]
    pub test_connection: bool,
    /// Speak HTTP/2 (default: HTTP/1.1, one connection per request in flight, as EvalScope).
    #[serde(default)]
    pub http2: bool,
    /// With `http2`: connections per agent the streams are spread over (default 1).
    #[serde(default = "one")]
    pub http2_connections: u32,
    /// With `http2`: streams one connection carries at once (default 100); more requests wait
    /// on the client, measured as client queueing.
    #[serde(default = "hundred_streams")]
    pub http2_max_streams: u32,
    /// A CA certificate (PEM file, relative to the plan) trusted besides the system roots.
    #[serde(default)]
    pub tls_ca: Option<PathBuf>,
}

fn hundred_streams() -> u32 {
    100
}

/// Client timeouts, seconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkloadDef {
    /// Name (output folder).
    pub name: String,
    /// Where it runs (default `split`).
    #[serde(default)]
    pub placement: Placement,
    /// A perf sweep (give `perf` or `eval`).
    #[serde(default)]
    pub perf: Option<PerfDef>,
    /// A capability eval (give `perf` or `eval`).
    #[serde(default)]
    pub eval: Option<EvalDef>,
}

impl WorkloadDef {
    /// The name of the target its perf (else its eval) runs against.
    pub fn target(&self) -> Option<&str> {
        let perf = self.perf.as_ref().map(|p| p.target.as_str());
        perf.or(self.eval.as_ref().map(|e| e.target.as_str()))
    }
}

/// A capability eval against one target: EvalScope's task config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EvalDef {
    /// Target name (its `model` is the model evaluated).
    pub target: String,
    /// Benchmarks (gsm8k, math_500, aime24, aime25, mmlu_pro, mmlu_redux, ceval, iquiz, gpqa_diamond).
    pub datasets: Vec<String>,
    /// Per-benchmark arguments: local_path (relative to the plan), subset_list, few_shot_num,
    /// filters (e.g. `remove_until: "</think>"`), limit, seed, extra_params.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, serde_json::Map<String, serde_json::Value>>")]
    pub dataset_args: BTreeMap<String, swarm_eval::DatasetArgs>,
    /// Generation config: max_tokens, temperature, top_p, top_k, n, seed, chat_template_kwargs, extra body fields.
    #[serde(default)]
    pub generation_config: serde_json::Map<String, serde_json::Value>,
    /// Requests in flight across all agents.
    #[serde(default = "default_eval_batch")]
    pub eval_batch_size: u32,
    /// First N samples per subset.
    #[serde(default)]
    pub limit: Option<usize>,
    /// Generations per sample.
    #[serde(default = "one")]
    pub repeats: u32,
    /// Stream responses.
    #[serde(default)]
    pub stream: bool,
    /// EvalScope's `judge_strategy`: `auto` (the benchmark decides; rule for every benchmark
    /// here), `rule`, `llm`, or `llm_recall` (the judge only where the rule scored wrong).
    #[serde(default, skip_serializing_if = "is_auto")]
    #[schemars(with = "String")]
    pub judge_strategy: swarm_eval::judge::JudgeStrategy,
    /// EvalScope's `judge_model_args`: model_id, api_url, api_key (`${VAR}` with --allow-env;
    /// never written back), generation_config, system_prompt, prompt_template, score_mapping,
    /// score_type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<serde_json::Map<String, serde_json::Value>>")]
    pub judge_model_args: Option<swarm_eval::judge::JudgeModelArgs>,
}

fn is_auto(s: &swarm_eval::judge::JudgeStrategy) -> bool {
    *s == swarm_eval::judge::JudgeStrategy::Auto
}

fn default_eval_batch() -> u32 {
    32
}

fn one() -> u32 {
    1
}

/// A perf sweep against one target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
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
    /// Goodput objectives in milliseconds (`{ttft_ms, tpot_ms, e2el_ms}`, any subset): each
    /// stage reports the requests per second that met all of them (vLLM's goodput).
    #[serde(default)]
    #[schemars(with = "Option<BTreeMap<String, f64>>")]
    pub goodput: Option<swarm_common::goodput::Goodput>,
    /// Thresholds every stage must meet (`p99_ttft<=500ms`, `error_rate<0.01`, ...); a failed
    /// one ends the run with exit status 99.
    #[serde(default)]
    pub thresholds: Vec<String>,
    /// Stop a stage while it runs when too many requests fail (`{max_errors, max_error_rate}`);
    /// later stages are not run, exit status 99.
    #[serde(default)]
    pub early_stop: crate::perf::job::EarlyStop,
    /// Extra percentile rows after EvalScope's in each stage's percentile table and
    /// `benchmark_percentile.json` (`[50, 90, 99, 99.9]`: each in (0, 100), at most 20).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub percentiles: Vec<f64>,
    /// Write the sweep overview (`perf/<workload>/overview.csv`) and each stage's
    /// `percentiles.csv`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub export_csv: bool,
    /// Stages, run in order. With `sla`, the first is only where the search starts (its
    /// `parallel` or `rate`, arrival and `duration_s`; `number` may be left out).
    pub stages: Vec<StageDef>,
    /// SLA auto-tune (EvalScope's): instead of the stages, search for the largest `variable`
    /// meeting `params`, each probe a stage, the results in `sla_summary.json`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla: Option<SlaDef>,
    /// With `sla` and `placement: {per_label: KEY}`: the target (by name) each label value's
    /// agents search against instead of `target`, e.g. `{eu-west: sim-eu, us-east: sim-us}`;
    /// a value not listed uses `target`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub label_targets: BTreeMap<String, String>,
    /// Multi-turn conversations (EvalScope's `--multi-turn`): the dataset is a multi-turn one,
    /// `number` counts conversations and `parallel` concurrent ones (`rate`: conversation
    /// starts per second); each turn sends the history with the model's real answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multi_turn: Option<MultiTurnDef>,
}

/// `perf.multi_turn`: EvalScope's `--min-turns` / `--max-turns`, and a think time of ours.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MultiTurnDef {
    /// Fewest user turns of a `random_multi_turn` conversation (default 1).
    #[serde(default = "one_turn")]
    pub min_turns: usize,
    /// Most user turns: `random_multi_turn` draws up to it (required there); the other
    /// datasets cut longer conversations to it.
    #[serde(default)]
    pub max_turns: Option<usize>,
    /// Seconds a conversation waits after an answer before its next turn (default 0).
    #[serde(default)]
    pub think_time_s: f64,
}

fn one_turn() -> usize {
    1
}

/// An SLA auto-tune search (EvalScope's `--sla-*` settings).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SlaDef {
    /// The tuned variable: `parallel` (default) or `rate`.
    #[serde(default = "parallel_variable")]
    pub variable: String,
    /// The criteria, EvalScope's JSON: `[{"p99_ttft": "<=0.1", "avg_tpot": "<=50ms"}]` (within
    /// an object AND, each object its own search; one `"max"` / `"min"` metric optimises it).
    pub params: String,
    /// Runs per probe, averaged.
    #[serde(default = "three")]
    pub num_runs: u32,
    /// Upper bound of the searched values.
    #[serde(default = "default_sla_upper")]
    pub upper_bound: u64,
    /// Lower bound of the searched values.
    #[serde(default = "one_u64")]
    pub lower_bound: u64,
    /// Concurrency cap while tuning `rate` (default: `upper_bound`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed_parallel: Option<u32>,
    /// Requests per probe = round(value × this) (default 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number_multiplier: Option<f64>,
    /// Arrivals of `rate` probes: `poisson`, `constant` or `gamma` (default: the first
    /// stage's, else poisson).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arrival: Option<String>,
    /// Gamma shape of `arrival: gamma` (< 1 burstier than Poisson).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub burstiness: Option<f64>,
}

fn parallel_variable() -> String {
    "parallel".into()
}

fn three() -> u32 {
    3
}

fn default_sla_upper() -> u64 {
    65536
}

fn one_u64() -> u64 {
    1
}

fn yes() -> bool {
    true
}

fn default_seed() -> u64 {
    swarm_common::dataset::DEFAULT_SEED
}

/// Where prompts come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
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
    /// `mooncake_trace`: replay speed, line times divided by it (EvalScope's dataset argument
    /// `speed`; default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speed: Option<f64>,
    /// `random_vl`: pictures per prompt (EvalScope's `--image-num`, default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_num: Option<u32>,
    /// `random_vl`: picture width, pixels (`--image-width`, default 224).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_width: Option<u32>,
    /// `random_vl`: picture height, pixels (`--image-height`, default 224).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_height: Option<u32>,
    /// `random_vl`: pixel layout `RGB` (default), `L` or `RGBA` (`--image-format`, PIL's modes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_format: Option<String>,
}

/// One stage: closed loop (`parallel`) or open loop (`rate`, optionally capped by `parallel`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
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
    /// A ramp inside the stage: the rate (open loop) or the users (closed loop) go from `from`
    /// to `to` over `over_s` seconds, then hold.
    #[serde(default)]
    pub ramp: Option<RampDef>,
}

/// A stage's ramp (`ramp: {from: 1, to: 20, over_s: 30}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RampDef {
    /// What ramps: `rate` (default; open loop, req/s, `parallel` caps requests in flight) or
    /// `users` (closed loop, as k6's ramping-vus; no `parallel`).
    #[serde(default)]
    pub of: Option<String>,
    /// Value at the start (req/s or users, at least 0).
    pub from: f64,
    /// Value at the end, held afterwards (not both 0).
    pub to: f64,
    /// Seconds the ramp lasts (> 0). Left out: `duration_s` for users; for a rate, the stage's
    /// `number` of requests as vLLM's `--ramp-up-strategy` (request i at progress i/(number−1)).
    #[serde(default)]
    pub over_s: Option<f64>,
    /// `linear` (default) or `exponential` (from and to above 0).
    #[serde(default)]
    pub strategy: Option<String>,
}

/// Where results go.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
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
