//! Scoring throughput: samples per second per core through the real extract → score path of
//! the math (math_500) and multiple-choice (mmlu_pro) benchmarks, on realistic completions.

use std::path::Path;
use std::time::Instant;

use swarm_eval::task;
use swarm_eval::{DatasetArgs, registry};

fn fixture(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../eval/tests/fixtures/eval")
        .join(rel)
}

/// Prints samples/s for each benchmark's scorer on one thread.
pub fn scoring(rounds: usize) -> anyhow::Result<()> {
    for (name, path, completion) in [
        (
            "math_500",
            "math_500",
            "Let me work through this carefully. First we expand the expression and collect terms; then we simplify the fraction, check the domain, and verify with a substitution. Therefore the final answer is $\\boxed{\\frac{14}{3}}$.",
        ),
        (
            "gsm8k",
            "gsm8k/test.jsonl",
            "She sells 16 - 3 - 4 = 9 eggs a day, at $2 each, so she makes 9 * 2 = 18 dollars. The answer is \\boxed{18}.",
        ),
        (
            "mmlu_pro",
            "mmlu_pro",
            "Looking at the options, A and C contradict the premise, B ignores the boundary condition, so the remaining choice fits.\nANSWER: D",
        ),
    ] {
        let bench = registry::benchmark(name)?;
        let args = DatasetArgs {
            local_path: Some(fixture(path)),
            // the prompt does not matter to scoring (and MMLU-Pro's few-shot split is not here)
            few_shot_num: Some(0),
            ..Default::default()
        };
        let samples = bench.load(&args)?;
        let filters = task::filters(name, &args)?;
        let t0 = Instant::now();
        let mut correct = 0usize;
        for _ in 0..rounds {
            for s in &samples {
                let (_, score) = task::score(bench.as_ref(), &filters, s, completion);
                correct += usize::from(score.values.values().next().copied().unwrap_or(0.0) > 0.0);
            }
        }
        let n = rounds * samples.len();
        let secs = t0.elapsed().as_secs_f64();
        println!(
            "scoring {name}: {n} samples in {secs:.3} s = {:.0} samples/s on one core ({correct} scored correct)",
            n as f64 / secs
        );
        super::goal(
            &format!("{name}: ≥ 10,000 samples/s on one core"),
            n as f64 / secs >= 10_000.0,
        );
    }
    Ok(())
}
