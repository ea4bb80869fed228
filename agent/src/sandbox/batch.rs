//! Scoring many completions of a code benchmark at once: a sandbox made from the benchmark's
//! `sandbox_config`, and worker threads (one per sandbox slot) that filter, extract and score.
//! Blocking: call it off async threads.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use swarm_common::eval::exec::{SandboxSettings, ScoreContext};
use swarm_common::eval::filters::FilterChain;
use swarm_common::eval::task;
use swarm_common::eval::{Benchmark, DatasetArgs, EvalError, Sample, Score};

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
}

/// The sandbox a benchmark's arguments ask for.
pub fn sandbox_for(benchmark: &str, args: &DatasetArgs) -> Result<Sandbox, BatchError> {
    let settings = SandboxSettings::from_config(benchmark, &args.sandbox_config)?;
    Ok(Sandbox::new(settings)?)
}

/// Filters, extracts and scores each `(sample, completion)` with `sandbox` running the code,
/// on up to [`slots::capacity`] threads; results in input order.
pub fn score_all(
    benchmark: &dyn Benchmark,
    filters: &FilterChain,
    sandbox: &Sandbox,
    items: &[(&Sample, &str)],
) -> Vec<(String, Score)> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<(String, Score)>>> = Mutex::new(vec![None; items.len()]);
    let workers = slots::capacity().min(items.len()).max(1);
    let ctx = ScoreContext {
        runner: Some(sandbox),
    };
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
                        task::score_in(benchmark, filters, sample, completion, &ctx)
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
