//! Fidelity: what the client measured against what llm-sim knows it did. The simulator runs on
//! its own runtime thread in this process and records the instant it handed every chunk to the
//! connection. Both sides use the same monotonic clock, so for every chunk the client's arrival
//! stamp can be compared with the simulator's send instant.
//!
//! - TTFT error: the client stamps its own send, so the only error is on the first chunk's
//!   stamp: |measured TTFT − (first chunk sent − client send)|.
//! - ITL error: |measured gap − true gap| between consecutive token chunks.
//! - Stamp delay: arrival stamp − send instant of every token chunk (transit + client queueing).

use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use llm_sim::{Dist, SimConfig};
use tokio_util::sync::CancellationToken;

use super::procstat::peak_rss_bytes;
use super::shard::{Ran, closed_shard, run};

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 * p / 100.0) as usize).min(sorted.len() - 1)]
}

/// Prints the percentiles of `v`; returns its p99.
fn line(name: &str, v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    println!(
        "  {name}: p50 {:.3}  p99 {:.3}  p99.9 {:.3}  max {:.3}  (n={})",
        pct(v, 50.0),
        pct(v, 99.0),
        pct(v, 99.9),
        v.last().copied().unwrap_or(f64::NAN),
        v.len()
    );
    pct(v, 99.0)
}

/// Prints TTFT and ITL error percentiles at `concurrency` streams.
pub async fn fidelity(
    concurrency: u32,
    number: u64,
    tokens: u32,
    itl_ms: f64,
) -> anyhow::Result<()> {
    let mut cfg = SimConfig::default();
    cfg.latency.ttft_ms = Dist::fixed(50.0);
    cfg.latency.ttft_per_prompt_token_us = 0.0;
    cfg.latency.itl_ms = Dist::fixed(itl_ms);
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
    // map the shard's wall-clock epoch onto the monotonic clock the simulator stamps with
    let base_instant = Instant::now();
    let base_unix_us = SystemTime::now().duration_since(UNIX_EPOCH)?.as_micros() as i128;
    // one unmeasured round first, so the figures are about streaming, not the connect storm
    let mut spec = closed_shard(&url, concurrency, number, tokens, true);
    spec.warmup = concurrency;
    let Ran {
        records,
        n,
        failed,
        epoch_unix_us,
        ..
    } = run(spec, true).await?;
    cancel.cancel();
    let _ = sim_thread.join();
    let shift = epoch_unix_us as i128 - base_unix_us;
    let epoch = if shift >= 0 {
        base_instant + Duration::from_micros(shift as u64)
    } else {
        base_instant - Duration::from_micros((-shift) as u64)
    };

    let (mut ttft_err, mut itl_err, mut delay) = (Vec::new(), Vec::new(), Vec::new());
    let mut matched = 0;
    for r in records.iter().filter(|r| r.is_success()) {
        let Some(t) = truth.get(&format!("bench-{}", r.id)) else {
            continue;
        };
        let sent: Vec<Instant> = t
            .token_chunks
            .iter()
            .filter_map(|&i| t.chunk_sent.get(i).copied())
            .collect();
        let (Some(first), Some(ttft)) = (sent.first(), r.ttft_us) else {
            continue;
        };
        matched += 1;
        let send = epoch + Duration::from_micros(r.sent_us);
        let true_ttft_ms = first.saturating_duration_since(send).as_secs_f64() * 1e3;
        ttft_err.push((ttft as f64 / 1e3 - true_ttft_ms).abs());
        for (k, at) in r.chunk_us.iter().enumerate() {
            let Some(s) = sent.get(k) else { break };
            let arrival = send + Duration::from_micros(*at);
            delay.push(arrival.saturating_duration_since(*s).as_secs_f64() * 1e3);
            if k > 0
                && let Some(prev) = sent.get(k - 1)
            {
                let true_gap = s.duration_since(*prev).as_secs_f64() * 1e3;
                let measured = (at - r.chunk_us[k - 1]) as f64 / 1e3;
                itl_err.push((measured - true_gap).abs());
            }
        }
    }
    println!(
        "fidelity: {concurrency} concurrent streams, ttft 50 ms, itl {itl_ms} ms, {tokens} tokens: {n} requests ({failed} failed), {matched} matched to sim truth"
    );
    let ttft_p99 = line("|TTFT error| ms   ", &mut ttft_err);
    let itl_p99 = line("|ITL error| ms    ", &mut itl_err);
    line("chunk stamp delay ms", &mut delay);
    super::goal(
        &format!("p99 |TTFT error| and p99 |ITL error| < 1 ms at {concurrency} streams"),
        failed == 0 && ttft_p99 < 1.0 && itl_p99 < 1.0,
    );
    println!(
        "  peak RSS (client + sim + records): {:.0} MiB",
        peak_rss_bytes() as f64 / 1048576.0
    );
    Ok(())
}
