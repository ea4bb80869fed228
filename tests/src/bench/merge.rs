//! Merge cost: the coordinator's CPU time to decode and merge one interval delta (V2 histograms
//! + counters) from each of N agents, as it does every second of a run.

use std::time::Instant;

use swarm_common::metrics::aggregate::HistSettings;
use swarm_common::metrics::{ErrorClass, RequestRecord, StageAggregate, TokenSource};
use swarm_common::wire::{from_snapshot, to_snapshot};

/// A realistic 1-second delta of one agent: `requests` streaming requests of 64 tokens.
fn delta(seed: u64, requests: u64) -> StageAggregate {
    let mut agg = StageAggregate::new(HistSettings::default()).expect("default settings are valid");
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let mut next = || {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        x >> 33
    };
    for i in 0..requests {
        let ttft = 40_000 + next() % 40_000;
        let chunks: Vec<u64> = (0..64).map(|k| ttft + k * (9_000 + next() % 2_000)).collect();
        let latency = *chunks.last().unwrap_or(&ttft);
        let failed = next() % 100 == 0;
        agg.record(
            &RequestRecord {
                id: i,
                scheduled_us: Some(i * 1000),
                sent_us: i * 1000 + next() % 300,
                ttft_us: Some(ttft),
                ttfo_us: Some(ttft),
                latency_us: latency,
                chunk_us: chunks,
                prompt_tokens: 100 + (next() % 900) as u32,
                completion_tokens: 64,
                token_source: TokenSource::Usage,
                status: if failed { 500 } else { 200 },
                error: failed.then_some(ErrorClass::Http5xx),
                ..Default::default()
            },
            1_700_000_000_000_000,
        );
    }
    agg
}

/// Prints the merge cost for each agent count.
pub fn merge(agent_counts: &[usize], seconds: usize) -> anyhow::Result<()> {
    let settings = HistSettings::default();
    // 50 distinct agent deltas, reused round-robin (encoding is not part of the measured cost)
    let snapshots: Vec<_> = (0..50).map(|s| to_snapshot(&delta(s, 200))).collect();
    let bytes: usize = snapshots.iter().map(|s| prost::Message::encoded_len(s)).sum::<usize>() / snapshots.len();
    for &n in agent_counts {
        let mut whole = StageAggregate::new(settings)?;
        let t0 = Instant::now();
        for sec in 0..seconds {
            for a in 0..n {
                let snap = &snapshots[(a + sec) % snapshots.len()];
                let d = from_snapshot(snap, settings)?;
                whole.merge(&d)?;
            }
        }
        let per_second = t0.elapsed().as_secs_f64() / seconds as f64;
        println!(
            "merge: {n:>5} agents at 1 Hz: {:.2} ms CPU per second of run = {:.1} % of one core ({:.1} µs per delta of ~{} KiB, {} requests merged)",
            per_second * 1e3,
            per_second * 100.0,
            per_second * 1e6 / n as f64,
            bytes / 1024,
            whole.counters.total
        );
    }
    Ok(())
}
