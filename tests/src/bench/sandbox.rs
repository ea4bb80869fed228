//! Sandboxed test executions per second: trivial programs, then HumanEval's canonical solutions
//! through the real scoring path (filters → extract → program → sandbox), on as many threads as
//! the sandbox has slots.

use std::path::Path;
use std::time::{Duration, Instant};

use swarm_eval::exec::{CodeRunner, ProgramRun, SandboxSettings};
use swarm_eval::{DatasetArgs, Sample, registry, task};
use swarm_sandbox::batch::{Sandboxes, score_all};
use swarm_sandbox::{Sandbox, slots};

/// Prints executions per second of `trivial` minimal programs and `rounds` passes over the
/// 164 HumanEval canonical solutions.
pub fn sandbox(trivial: usize, rounds: usize) -> anyhow::Result<()> {
    let sandbox = Sandbox::new(SandboxSettings::default())?;
    let threads = slots::capacity();
    println!(
        "sandbox: isolation {}, interpreter {}, {threads} slots",
        sandbox.isolation().name(),
        sandbox.python().display()
    );
    let t0 = Instant::now();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let ok = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < trivial {
                    let out = sandbox.run(&ProgramRun {
                        program: "print(1)\n".into(),
                        stdin: String::new(),
                        timeout: Duration::from_secs(10),
                    });
                    if out.ok() {
                        ok.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                }
            });
        }
    });
    let secs = t0.elapsed().as_secs_f64();
    println!(
        "sandbox trivial: {trivial} runs of print(1) in {secs:.2} s = {:.1} runs/s ({} ok)",
        trivial as f64 / secs,
        ok.into_inner()
    );

    let args = DatasetArgs {
        local_path: Some(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../eval/tests/fixtures/eval/humaneval"),
        ),
        ..Default::default()
    };
    let bench = registry::benchmark("humaneval")?;
    let samples = bench.load(&args)?;
    let filters = task::filters("humaneval", &args)?;
    let items: Vec<(&Sample, &str)> = samples.iter().map(|s| (s, s.gold.as_str())).collect();
    let sandboxes = Sandboxes::single(sandbox);
    let t0 = Instant::now();
    let mut passed = 0usize;
    for _ in 0..rounds {
        passed += score_all(bench.as_ref(), &filters, &sandboxes, &items)
            .iter()
            .filter(|(_, s)| s.values.get("acc") == Some(&1.0))
            .count();
    }
    let n = rounds * items.len();
    let secs = t0.elapsed().as_secs_f64();
    println!(
        "sandbox humaneval: {n} canonical solutions scored in {secs:.2} s = {:.1} tests/s ({passed} passed)",
        n as f64 / secs
    );
    Ok(())
}
