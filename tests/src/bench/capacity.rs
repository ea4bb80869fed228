//! Capacity: how many requests per second one client process drives against a zero-latency
//! llm-sim in another process, and the client's CPU per request.

use std::time::Instant;

use super::procstat::cpu_seconds;
use super::shard::{closed_shard, run};
use super::simproc::SimProcess;

/// Prints streaming and non-streaming capacity at `concurrency` with `tokens` output tokens,
/// over HTTP/1.1 (a connection per request in flight) and HTTP/2 (streams multiplexed over
/// enough connections of 100 streams, the simulator's limit).
pub async fn capacity(concurrency: u32, tokens: u32, number: u64) -> anyhow::Result<()> {
    let sim = SimProcess::start(&["--ttft-ms", "0", "--itl-ms", "0"])?;
    for (http2, stream) in [(false, true), (false, false), (true, true), (true, false)] {
        let shard = |n: u64| {
            let mut spec = closed_shard(&sim.url, concurrency, n, tokens, stream);
            if http2 {
                spec.target.transport.http2 = true;
                spec.target.transport.http2_connections = concurrency.div_ceil(100);
            }
            spec
        };
        // warm the connection pool and the sim
        run(shard(u64::from(concurrency) * 2), false).await?;
        let cpu0 = cpu_seconds();
        let t0 = Instant::now();
        let super::shard::Ran { n, failed, .. } = run(shard(number), false).await?;
        let wall = t0.elapsed().as_secs_f64();
        let cpu = cpu_seconds() - cpu0;
        println!(
            "capacity {} {}: parallel {concurrency}, {tokens} output tokens: {n} requests ({failed} failed) in {wall:.2} s = {:.0} req/s, {:.0} tokens/s; client CPU {cpu:.2} s = {:.2} cores, {:.1} µs/request",
            if http2 { "HTTP/2" } else { "HTTP/1.1" },
            if stream { "streaming" } else { "non-streaming" },
            n as f64 / wall,
            (n * u64::from(tokens)) as f64 / wall,
            cpu / wall,
            cpu * 1e6 / n.max(1) as f64,
        );
        if !http2 && stream {
            super::goal(
                "≥ 5,000 streaming req/s over HTTP/1.1",
                failed == 0 && n as f64 / wall >= 5000.0,
            );
        }
    }
    Ok(())
}
