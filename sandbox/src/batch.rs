//! Scoring many completions of a code benchmark at once: the sandboxes the samples'
//! `sandbox_config`s ask for ([`Sandboxes`]), and worker threads (one per sandbox slot) that
//! filter, extract and score. Blocking: call it off async threads.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use swarm_eval::collection::{line_args::dataset_of, sandbox_config};
use swarm_eval::exec::{CodeRunner, SandboxSettings, ScoreContext};
use swarm_eval::filters::FilterChain;
use swarm_eval::task;
use swarm_eval::{Benchmark, DatasetArgs, EvalError, Sample, Score};

use super::{Sandbox, SandboxError, slots};

/// Why a batch cannot be scored.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// Bad `sandbox_config`.
    #[error(transparent)]
    Settings(#[from] EvalError),
    /// No sandbox.
    #[error(transparent)]
    Sandbox(#[from] SandboxError),
    /// The spec asked for more than the agent's policy allows.
    #[error(transparent)]
    NotPermitted(#[from] super::policy::NotPermitted),
}

/// The sandboxes a batch of samples needs: one per distinct `sandbox_config` among the samples
/// whose scoring runs code (a collection mixes benchmarks, each line with its dataset's config;
/// see [`sandbox_config`]).
#[derive(Debug, Clone, Default)]
pub struct Sandboxes {
    args: DatasetArgs,
    by_config: BTreeMap<String, Sandbox>,
    every: Option<Sandbox>,
}

impl Sandboxes {
    /// Starts the sandboxes the code samples of `samples` need (none when no sample runs code);
    /// `args` are the shard's arguments of `benchmark`, run as `policy` allows `agent`. Blocks
    /// while sandboxes are probed.
    pub fn for_samples<'a>(
        benchmark: &dyn Benchmark,
        args: &DatasetArgs,
        samples: impl IntoIterator<Item = &'a Sample>,
        (agent, policy): (&str, &super::policy::SandboxPolicy),
    ) -> Result<Self, BatchError> {
        let mut out = Self {
            args: args.clone(),
            ..Self::default()
        };
        let name = benchmark.meta().name;
        for s in samples.into_iter().filter(|s| benchmark.runs_code_on(s)) {
            let config = sandbox_config(s, args);
            let key = serde_json::Value::Object(config.clone()).to_string();
            if out.by_config.contains_key(&key) {
                continue;
            }
            let settings = SandboxSettings::from_config(dataset_of(s).unwrap_or(name), config)?;
            let settings = policy.apply(agent, settings)?;
            let sandbox = Sandbox::with_hidden_paths(settings, policy.hidden_paths.clone())?;
            out.by_config.insert(key, sandbox);
        }
        Ok(out)
    }

    /// One sandbox for every sample, whatever its `sandbox_config`.
    pub fn single(sandbox: Sandbox) -> Self {
        Self {
            every: Some(sandbox),
            ..Self::default()
        }
    }

    /// True when no sample runs code.
    pub fn is_empty(&self) -> bool {
        self.by_config.is_empty() && self.every.is_none()
    }

    /// The sandbox `sample`'s code runs in (None when it runs no code).
    pub fn get(&self, sample: &Sample) -> Option<&Sandbox> {
        if let Some(every) = &self.every {
            return Some(every);
        }
        let key = serde_json::Value::Object(sandbox_config(sample, &self.args).clone()).to_string();
        self.by_config.get(&key)
    }

    /// The scoring context of `sample`: its sandbox as the code runner.
    pub fn context(&self, sample: &Sample) -> ScoreContext<'_> {
        ScoreContext {
            runner: self.get(sample).map(|s| s as &dyn CodeRunner),
        }
    }
}

/// Filters, extracts and scores each `(sample, completion)` with its sandbox in `sandboxes`
/// running the code, on up to [`slots::capacity`] threads; results in input order.
pub fn score_all(
    benchmark: &dyn Benchmark,
    filters: &FilterChain,
    sandboxes: &Sandboxes,
    items: &[(&Sample, &str)],
) -> Vec<(String, Score)> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<(String, Score)>>> = Mutex::new(vec![None; items.len()]);
    let workers = slots::capacity().min(items.len()).max(1);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((sample, completion)) = items.get(i) else {
                        break;
                    };
                    // a scorer that panics leaves its item unscored (it then counts as failed)
                    let scored = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        task::score_in(
                            benchmark,
                            filters,
                            sample,
                            completion,
                            &sandboxes.context(sample),
                        )
                    }));
                    if let Ok(scored) = scored {
                        results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(scored);
                    }
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .zip(items)
        .map(|(r, (sample, _))| {
            r.unwrap_or_else(|| {
                let (extracted, mut score) = task::score(benchmark, filters, sample, "");
                score.values.values_mut().for_each(|v| *v = 0.0);
                (extracted, score)
            })
        })
        .collect()
}
