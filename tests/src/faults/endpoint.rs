//! Endpoint faults: llm-sim injects a fault into a fraction of its answers while `coordinator
//! perf` load-tests it; every request must be counted once, in the right error class.

use std::path::Path;
use std::time::Duration;

use super::Row;
use super::procs::{Proc, start_sim, summaries};
use super::summary::Counts;

/// One endpoint fault.
struct Case {
    injected: &'static str,
    /// llm-sim flags that inject it.
    flags: &'static [&'static str],
    /// The summary's error class for it.
    class: &'static str,
    p: f64,
    n: u64,
    read_timeout_s: f64,
    total_timeout_s: f64,
}

const CASES: &[Case] = &[
    case(
        "429 at 1%",
        &["--fault-429", "0.01"],
        "http_4xx",
        0.01,
        1000,
    ),
    case("429 at 10%", &["--fault-429", "0.1"], "http_4xx", 0.1, 1000),
    case("429 at 50%", &["--fault-429", "0.5"], "http_4xx", 0.5, 1000),
    case(
        "500 at 1%",
        &["--fault-500", "0.01"],
        "http_5xx",
        0.01,
        1000,
    ),
    case("500 at 10%", &["--fault-500", "0.1"], "http_5xx", 0.1, 1000),
    case("500 at 50%", &["--fault-500", "0.5"], "http_5xx", 0.5, 1000),
    case(
        "reset mid-stream at 10%",
        &["--fault-reset", "0.1"],
        "reset",
        0.1,
        600,
    ),
    case(
        "malformed SSE event at 10%",
        &["--fault-malformed", "0.1"],
        "malformed",
        0.1,
        600,
    ),
    case(
        "truncated SSE at 10%",
        &["--fault-truncate", "0.1"],
        "truncated",
        0.1,
        600,
    ),
    case(
        "error event mid-stream at 10%",
        &["--fault-stream-error", "0.1"],
        "stream_error",
        0.1,
        600,
    ),
    case(
        "stall past the read timeout (0.5 s) at 10%",
        &["--fault-stall", "0.1"],
        "timeout",
        0.1,
        300,
    ),
    case(
        "accepts, never answers, at 10%",
        &["--fault-hang", "0.1"],
        "timeout",
        0.1,
        300,
    ),
    Case {
        injected: "slow-loris: 1 byte / 5 ms (total timeout 2 s) at 10%",
        flags: &["--fault-slow-loris", "0.1", "--dribble-ms", "5"],
        class: "timeout",
        p: 0.1,
        n: 300,
        read_timeout_s: 0.5,
        total_timeout_s: 2.0,
    },
];

const fn case(
    injected: &'static str,
    flags: &'static [&'static str],
    class: &'static str,
    p: f64,
    n: u64,
) -> Case {
    Case {
        injected,
        flags,
        class,
        p,
        n,
        read_timeout_s: 0.5,
        total_timeout_s: 10.0,
    }
}

/// Runs every endpoint row under `dir`.
pub fn run(dir: &Path) -> Vec<Row> {
    CASES
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let expected = format!(
                "all {} requests counted once; {} ≈ {:.0} (binomial ±4σ); no other class",
                c.n,
                c.class,
                c.p * c.n as f64
            );
            let case_dir = dir.join(format!("endpoint-{i:02}"));
            match one(c, &case_dir) {
                Ok((counts, pass, lost)) => Row {
                    group: "endpoint",
                    injected: c.injected.to_owned(),
                    expected,
                    observed: counts.describe(),
                    lost,
                    agent_loss: None,
                    pass,
                },
                Err(e) => Row::broken("endpoint", c.injected, &expected, &e),
            }
        })
        .collect()
}

fn one(c: &Case, dir: &Path) -> anyhow::Result<(Counts, bool, String)> {
    std::fs::create_dir_all(dir)?;
    let mut flags = vec![
        "--ttft-ms",
        "2",
        "--itl-ms",
        "1",
        "--max-tokens",
        "16",
        "--stall-max-ms",
        "3000",
        "--seed",
        "7",
    ];
    flags.extend_from_slice(c.flags);
    let (_sim, url) = start_sim(&flags, &dir.join("sim.log"))?;
    let args: Vec<String> = [
        "perf",
        "--url",
        &format!("{url}/v1/chat/completions"),
        "--model",
        "sim-model",
        "--parallel",
        "32",
        "--number",
        &c.n.to_string(),
        "--stream",
        "--max-tokens",
        "16",
        "--dataset",
        "random",
        "--tokenizer-path",
        "cl100k_base",
        "--min-prompt-length",
        "16",
        "--max-prompt-length",
        "32",
        "--read-timeout",
        &c.read_timeout_s.to_string(),
        "--total-timeout",
        &c.total_timeout_s.to_string(),
        "--outputs-dir",
        &dir.join("out").to_string_lossy(),
        "--name",
        "fault",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut coord = Proc::start("coordinator", &args, &dir.join("coordinator.log"))?;
    let code = coord.wait_for(Duration::from_secs(300))?;
    anyhow::ensure!(code.is_some(), "coordinator perf did not finish in 300 s");
    let files = summaries(&dir.join("out"));
    let path = files
        .first()
        .ok_or_else(|| anyhow::anyhow!("no summary.json (coordinator exit {code:?})"))?;
    let counts = Counts::read(path)?;
    let hits = counts.errors.get(c.class).copied().unwrap_or(0);
    let mean = c.p * c.n as f64;
    let sd = (c.n as f64 * c.p * (1.0 - c.p)).sqrt();
    let in_band = (hits as f64 - mean).abs() <= 4.0 * sd + 1.0;
    let only_class = counts.errors.keys().all(|k| k == c.class);
    let whole = counts.total == c.n && counts.success + counts.failed == c.n;
    let lost = if whole {
        "nothing".to_owned()
    } else {
        format!(
            "{} of {} requests unaccounted",
            c.n.saturating_sub(counts.total),
            c.n
        )
    };
    Ok((
        counts,
        in_band && only_class && whole && code == Some(0),
        lost,
    ))
}
