//! `swarm-bench capacity|fidelity|memory|multi_turn|merge|scoring|app|sandbox|all`: the perf-core benchmarks (see docs/BENCHMARKS.md).

use std::time::Instant;

use swarm_tests::bench::procstat::{cpu_seconds, peak_rss_bytes};
use swarm_tests::bench::shard::{closed_shard, run};
use swarm_tests::bench::simproc::SimProcess;
use swarm_tests::bench::{capacity, fidelity};

async fn memory(concurrency: u32, number: u64) -> anyhow::Result<()> {
    let sim = SimProcess::start(&["--ttft-ms", "50", "--itl-ms", "10"])?;
    let rss0 = peak_rss_bytes();
    let t0 = Instant::now();
    let cpu0 = cpu_seconds();
    let swarm_tests::bench::shard::Ran { n, failed, .. } =
        run(closed_shard(&sim.url, concurrency, number, 64, true), false).await?;
    println!(
        "memory: {concurrency} concurrent streams (ttft 50 ms, itl 10 ms, 64 tokens): {n} requests ({failed} failed) in {:.1} s, client CPU {:.1} s; peak RSS {:.0} MiB (before the run {:.0} MiB)",
        t0.elapsed().as_secs_f64(),
        cpu_seconds() - cpu0,
        peak_rss_bytes() as f64 / 1048576.0,
        rss0 as f64 / 1048576.0
    );
    swarm_tests::bench::goal(
        &format!("peak RSS < 1 GiB at {concurrency} streams"),
        failed == 0 && peak_rss_bytes() < 1 << 30,
    );
    Ok(())
}

fn main() -> anyhow::Result<()> {
    swarm_io::tls::install_crypto_provider();
    let what = std::env::args().nth(1).unwrap_or_else(|| "all".into());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        if matches!(what.as_str(), "capacity" | "all") {
            capacity::capacity(256, 64, 50_000).await?;
        }
        if matches!(what.as_str(), "fidelity" | "all") {
            let streams = std::env::var("FIDELITY_STREAMS")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(1000);
            fidelity::fidelity(streams, u64::from(streams) * 5, 64, 10.0).await?;
        }
        if matches!(what.as_str(), "merge" | "all") {
            swarm_tests::bench::merge::merge(&[10, 100, 1000], 5)?;
        }
        if matches!(what.as_str(), "scoring" | "all") {
            swarm_tests::bench::scoring::scoring(200)?;
        }
        if what == "app" {
            let samples = std::env::var("APP_SAMPLES")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(100_000);
            swarm_tests::bench::app::app(samples, 1500).await?;
        }
        if what == "sandbox" {
            swarm_tests::bench::sandbox::sandbox(500, 3)?;
        }
        if what == "memory" {
            memory(10_000, 20_000).await?;
        }
        if what == "multi_turn" {
            // 1,000 conversations at once, 4 turns of 100 words, 64-token answers
            swarm_tests::bench::multi_turn::multi_turn(1000, 4, 100, 64).await?;
        }
        if !matches!(
            what.as_str(),
            "capacity"
                | "fidelity"
                | "memory"
                | "multi_turn"
                | "merge"
                | "scoring"
                | "app"
                | "sandbox"
                | "all"
        ) {
            anyhow::bail!(
                "unknown benchmark {what:?}: capacity, fidelity, memory, multi_turn, merge, scoring, app, sandbox or all"
            );
        }
        Ok(())
    })
}
