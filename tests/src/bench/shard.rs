//! Running one shard and collecting its records, for the benchmarks.

use std::sync::Arc;

use swarm_agent::perf::{ShardEvent, ShardOutcome, run_shard};
use swarm_common::metrics::RequestRecord;
use swarm_common::metrics::aggregate::HistSettings;
use swarm_common::prompt::Prompt;
use swarm_common::schedule::LoadModel;
use swarm_common::shard::{ApiKind, GenParams, PerfShardSpec, TargetSpec};
use tokio_util::sync::CancellationToken;

/// A closed-loop chat shard against `base_url`.
pub fn closed_shard(
    base_url: &str,
    concurrency: u32,
    number: u64,
    max_tokens: u32,
    stream: bool,
) -> PerfShardSpec {
    PerfShardSpec {
        shard_id: "bench".into(),
        target: TargetSpec {
            url: format!("{base_url}/v1/chat/completions"),
            api: ApiKind::Chat,
            model: "sim-model".into(),
            api_key: None,
            headers: vec![],
            connect_timeout_s: 30.0,
            read_timeout_s: 60.0,
            total_timeout_s: 120.0,
            transport: Default::default(),
        },
        gen_params: GenParams {
            stream,
            max_tokens: Some(max_tokens),
            ..Default::default()
        },
        load: LoadModel::Closed { concurrency },
        number: Some(number),
        duration_s: Some(300.0),
        warmup: 0,
        prompts: swarm_common::prompt_slice::PromptSlice {
            set: "b".repeat(64),
            total: 64,
            start: 0,
            count: 64,
        },
        seed: 1,
        hist: HistSettings::default(),
        tokenizer: None,
        goodput: None,
        ramp: None,
        trace: None,
        multi_turn: None,
    }
}

/// What a benchmark shard produced.
pub struct Ran {
    /// The executor's outcome.
    pub outcome: ShardOutcome,
    /// The records, when kept.
    pub records: Vec<RequestRecord>,
    /// Requests finished.
    pub n: u64,
    /// Requests failed.
    pub failed: u64,
    /// The measured phase's start, microseconds since the Unix epoch.
    pub epoch_unix_us: u64,
}

/// The prompts of [`closed_shard`]'s slice.
pub fn bench_prompts() -> Arc<Vec<Prompt>> {
    Arc::new(
        (0..64)
            .map(|i| Prompt::text(format!("benchmark prompt number {i} about load testing")))
            .collect(),
    )
}

/// Runs `spec` with [`bench_prompts`]; returns its outcome and (when `keep`) its records.
pub async fn run(spec: PerfShardSpec, keep: bool) -> anyhow::Result<Ran> {
    run_with(spec, bench_prompts(), keep).await
}

/// Runs `spec` with `prompts` (its slice's); returns its outcome and (when `keep`) its records.
pub async fn run_with(
    spec: PerfShardSpec,
    prompts: Arc<Vec<Prompt>>,
    keep: bool,
) -> anyhow::Result<Ran> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let exec = tokio::spawn(run_shard(spec, prompts, None, tx, CancellationToken::new()));
    let mut kept = Vec::new();
    let (mut n, mut failed, mut epoch_unix_us) = (0u64, 0u64, 0u64);
    while let Some(ev) = rx.recv().await {
        match ev {
            ShardEvent::Started { epoch_unix_us: e } => epoch_unix_us = e,
            ShardEvent::Record(r) => {
                n += 1;
                if !r.is_success() {
                    failed += 1;
                }
                if keep {
                    kept.push(r);
                }
            }
        }
    }
    let outcome = exec.await??;
    Ok(Ran {
        outcome,
        records: kept,
        n,
        failed,
        epoch_unix_us,
    })
}
