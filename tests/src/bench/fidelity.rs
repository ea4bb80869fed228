//! Fidelity: what the client measured against what llm-sim knows it did. The simulator runs on
//! its own runtime threads in this process and records the instant it handed every chunk to
//! the connection; TTFT truth = first token sent − request received, ITL truth = gaps between
//! token chunks sent. Reported: percentiles of |measured − true|.

use std::net::SocketAddr;
use std::time::Duration;

use llm_sim::{Dist, SimConfig};
use tokio_util::sync::CancellationToken;

use super::procstat::peak_rss_bytes;
use super::shard::{closed_shard, run};

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 * p / 100.0) as usize).min(sorted.len() - 1)]
}

/// Prints TTFT and ITL error percentiles at `concurrency` streams.
pub async fn fidelity(concurrency: u32, number: u64, tokens: u32) -> anyhow::Result<()> {
    let mut cfg = SimConfig::default();
    cfg.latency.ttft_ms = Dist::fixed(50.0);
    cfg.latency.ttft_per_prompt_token_us = 0.0;
    cfg.latency.itl_ms = Dist::fixed(10.0);
    cfg.record_truth = true;
    let (tx, rx) = std::sync::mpsc::channel();
    let cancel = CancellationToken::new();
    let sim_cancel = cancel.clone();
    let sim_thread = std::thread::spawn(move || -> anyhow::Result<()> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()?;
        rt.block_on(async move {
            let h = llm_sim::start(
                cfg,
                SocketAddr::from(([127, 0, 0, 1], 0)),
                sim_cancel.clone(),
            )
            .await?;
            let _ = tx.send((h.url(), h.truth.clone()));
            sim_cancel.cancelled().await;
            h.shutdown().await;
            Ok(())
        })
    });
    let (url, truth) = rx.recv_timeout(Duration::from_secs(10))?;
    let (_, records, n, failed) =
        run(closed_shard(&url, concurrency, number, tokens, true), true).await?;
    cancel.cancel();
    let _ = sim_thread.join();

    let mut ttft_err = Vec::new();
    let mut itl_err = Vec::new();
    let mut matched = 0;
    for r in records.iter().filter(|r| r.is_success()) {
        let Some(t) = truth.get(&format!("bench-{}", r.id)) else {
            continue;
        };
        let sent: Vec<_> = t
            .token_chunks
            .iter()
            .filter_map(|&i| t.chunk_sent.get(i))
            .collect();
        let (Some(first), Some(ttft)) = (sent.first(), r.ttft_us) else {
            continue;
        };
        matched += 1;
        let true_ttft = first.duration_since(t.received).as_secs_f64() * 1e3;
        ttft_err.push((ttft as f64 / 1e3 - true_ttft).abs());
        for (k, w) in r.chunk_us.windows(2).enumerate() {
            let (Some(a), Some(b)) = (sent.get(k), sent.get(k + 1)) else {
                break;
            };
            let true_gap = b.duration_since(**a).as_secs_f64() * 1e3;
            let measured = (w[1] - w[0]) as f64 / 1e3;
            itl_err.push((measured - true_gap).abs());
        }
    }
    ttft_err.sort_by(f64::total_cmp);
    itl_err.sort_by(f64::total_cmp);
    println!(
        "fidelity: {concurrency} concurrent streams, ttft 50 ms, itl 10 ms, {tokens} tokens: {n} requests ({failed} failed), {matched} matched to sim truth"
    );
    println!(
        "  |TTFT error| ms: p50 {:.3}  p99 {:.3}  max {:.3}  (n={})",
        pct(&ttft_err, 50.0),
        pct(&ttft_err, 99.0),
        ttft_err.last().copied().unwrap_or(f64::NAN),
        ttft_err.len()
    );
    println!(
        "  |ITL error|  ms: p50 {:.3}  p99 {:.3}  max {:.3}  (n={})",
        pct(&itl_err, 50.0),
        pct(&itl_err, 99.0),
        itl_err.last().copied().unwrap_or(f64::NAN),
        itl_err.len()
    );
    println!(
        "  peak RSS (client + sim + records): {:.0} MiB",
        peak_rss_bytes() as f64 / 1048576.0
    );
    Ok(())
}
