//! The set-up the answer-key eval tests share: an llm-sim that answers from a key built from the
//! samples, local agents, and the eval job against the simulator.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use llm_sim::{AnswerKey, AnswerKeyConfig, Dist, SimConfig, SimHandle};
use swarm_common::shard::ApiKind;
use swarm_coordinator::cluster::{AgentInfo, Cluster, ClusterConfig};
use swarm_coordinator::eval::job::{EvalJob, gen_params};
use swarm_eval::answer_key::{KeyEntry, prompt_sha256, write_jsonl};
use swarm_eval::{DatasetArgs, Sample, registry};
use tokio_util::sync::CancellationToken;

use crate::sim_target;

/// The samples of benchmark `name` read from `path`, at most `limit` per subset, and the
/// arguments that read them.
pub fn load(name: &str, path: PathBuf, limit: usize) -> (DatasetArgs, Vec<Sample>) {
    let args = DatasetArgs {
        local_path: Some(path),
        limit: Some(limit),
        // EvalScope's defaults, but MMLU-Pro's 5-shot examples (its validation split) are not
        // in the fixtures: it runs zero-shot.
        few_shot_num: (name == "mmlu_pro").then_some(0),
        ..Default::default()
    };
    let samples = registry::benchmark(name)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .load(&args)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    (args, samples)
}

/// A simulator configuration (seed `seed`, fixed `(ttft_ms, itl_ms)` latencies) answering from
/// `entries`, written to `dir/key.jsonl`, right on a share `accuracy` of the questions; and the
/// key it answers by, parsed here from the same file, independently of the run.
pub fn keyed_sim(
    dir: &Path,
    entries: &[KeyEntry],
    seed: u64,
    accuracy: f64,
    (ttft_ms, itl_ms): (f64, f64),
) -> (SimConfig, AnswerKey) {
    let key_path = dir.join("key.jsonl");
    write_jsonl(&key_path, entries).expect("key written");
    let mut cfg = SimConfig {
        seed,
        ..Default::default()
    };
    cfg.latency.ttft_ms = Dist::fixed(ttft_ms);
    cfg.latency.itl_ms = Dist::fixed(itl_ms);
    let key_cfg = AnswerKeyConfig::new(&key_path, accuracy);
    let key = AnswerKey::parse(
        &std::fs::read_to_string(&key_path).expect("key"),
        seed,
        &key_cfg,
    )
    .expect("key parses");
    cfg.answer_key = Some(key_cfg);
    (cfg, key)
}

/// How many of `samples` the key answers right, and that share rounded to four places: the
/// score their report must show.
pub fn keyed_score(key: &AnswerKey, samples: &[Sample]) -> (usize, f64) {
    let correct = samples
        .iter()
        .filter(|s| {
            key.answers_correctly(&prompt_sha256(s).expect("has a user message")) == Some(true)
        })
        .count();
    let score = (correct as f64 / samples.len() as f64 * 10_000.0).round() / 10_000.0;
    (correct, score)
}

/// A cluster started from `config`, once all its local agents are connected (10 s at most).
pub async fn local_cluster(
    config: ClusterConfig,
    cancel: &CancellationToken,
) -> (Cluster, Vec<AgentInfo>) {
    let n = config.local_agents as usize;
    let mut cluster = Cluster::start(config, cancel).await.expect("cluster");
    let agents = cluster
        .wait_for(n, &Default::default(), Duration::from_secs(10))
        .await
        .expect("agents");
    (cluster, agents)
}

/// One repeat of every benchmark in `dataset_args`, as `sim-model` on the simulator's chat
/// endpoint, `batch_size` requests in flight, streamed or not.
pub fn sim_job(
    name: &str,
    sim: &SimHandle,
    dataset_args: BTreeMap<String, DatasetArgs>,
    stream: bool,
    batch_size: u32,
) -> EvalJob {
    EvalJob {
        name: name.into(),
        model: "sim-model".into(),
        target: sim_target(sim, ApiKind::Chat),
        datasets: dataset_args.keys().cloned().collect(),
        dataset_args,
        gen_params: gen_params(serde_json::Map::new(), stream),
        batch_size,
        repeats: 1,
        judge_strategy: Default::default(),
        judge: None,
        judge_model_args: None,
        rejudge: false,
    }
}
