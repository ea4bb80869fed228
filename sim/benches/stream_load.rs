//! Throughput of the simulator under streaming load: an in-process server with zero latency,
//! `SIM_BENCH_CONCURRENCY` (256) reqwest workers each streaming chat answers of
//! `SIM_BENCH_TOKENS` (64) tokens for `SIM_BENCH_SECS` (5) seconds; `SIM_BENCH_ITL_MS` (0) sets
//! a fixed inter-token latency. Client and server share the
//! runtime and the cores, as in the benchmark the simulator is built for.
//!
//! `cargo bench -p llm-sim --bench stream_load`

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use llm_sim::SimConfig;
use tokio_util::sync::CancellationToken;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(bench())
}

async fn bench() -> anyhow::Result<()> {
    let concurrency: usize = env_or("SIM_BENCH_CONCURRENCY", 256);
    let tokens: u32 = env_or("SIM_BENCH_TOKENS", 64);
    let secs: f64 = env_or("SIM_BENCH_SECS", 5.0);
    let itl_ms: f64 = env_or("SIM_BENCH_ITL_MS", 0.0);
    let mut config = SimConfig::instant();
    config.latency.itl_ms = llm_sim::Dist::fixed(itl_ms);

    let _ = rustls::crypto::ring::default_provider().install_default();
    let sim = llm_sim::start(config, "127.0.0.1:0".parse()?, CancellationToken::new()).await?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()?;
    let url = format!("{}/v1/chat/completions", sim.url());
    let body = serde_json::to_vec(&serde_json::json!({
        "model": "bench",
        "messages": [{"role": "user", "content": "say something long please"}],
        "max_tokens": tokens,
        "stream": true,
        "stream_options": {"include_usage": true},
    }))?;

    let done = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let bytes = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (client, url, body) = (client.clone(), url.clone(), body.clone());
        let (done, failed, bytes) = (done.clone(), failed.clone(), bytes.clone());
        workers.spawn(async move {
            while Instant::now() < deadline {
                let sent = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await;
                let Ok(mut resp) = sent else {
                    failed.fetch_add(1, Ordering::Relaxed);
                    continue;
                };
                let mut n = 0u64;
                let mut last = bytes::Bytes::new();
                let mut ok = true;
                loop {
                    match resp.chunk().await {
                        Ok(Some(chunk)) => {
                            n += chunk.len() as u64;
                            last = chunk;
                        }
                        Ok(None) => break,
                        Err(_) => {
                            ok = false;
                            break;
                        }
                    }
                }
                if ok && last.ends_with(b"data: [DONE]\n\n") {
                    done.fetch_add(1, Ordering::Relaxed);
                } else {
                    failed.fetch_add(1, Ordering::Relaxed);
                }
                bytes.fetch_add(n, Ordering::Relaxed);
            }
        });
    }
    while workers.join_next().await.is_some() {}
    let elapsed = started.elapsed().as_secs_f64();
    sim.shutdown().await;

    let done = done.load(Ordering::Relaxed) as f64;
    println!(
        "concurrency {concurrency}, {tokens} tokens/answer, itl {itl_ms} ms, {elapsed:.1} s: {:.0} req/s, {:.0} tokens/s, {:.1} MB/s, {} failed",
        done / elapsed,
        done * f64::from(tokens) / elapsed,
        bytes.load(Ordering::Relaxed) as f64 / elapsed / 1e6,
        failed.load(Ordering::Relaxed),
    );
    Ok(())
}
