//! Merge cost: the coordinator's CPU time to decode and apply one interval delta (V2 histograms
//! and counters) from each of N agents, as it does every second of a run: the sparse decode,
//! then the delta applied to the whole stage, the agent's own view (2 significant figures) and
//! its placement group's view, which is what `Book::apply` does.

use std::time::Instant;

use swarm_common::metrics::aggregate::HistSettings;
use swarm_common::metrics::histogram::HistSpec;
use swarm_common::metrics::{ErrorClass, RequestRecord, StageAggregate, TokenSource};
use swarm_common::wire::{delta_from_snapshot, to_snapshot};

/// A realistic 1-second delta of one agent: `requests` streaming requests of 64 tokens.
fn delta(seed: u64, requests: u64) -> StageAggregate {
    let mut agg = StageAggregate::new(HistSettings::default()).expect("default settings are valid");
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = || {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        x >> 33
    };
    for i in 0..requests {
        let ttft = 40_000 + next() % 40_000;
        let chunks: Vec<u64> = (0..64)
            .map(|k| ttft + k * (9_000 + next() % 2_000))
            .collect();
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
    let bytes: usize = snapshots
        .iter()
        .map(prost::Message::encoded_len)
        .sum::<usize>()
        / snapshots.len();
    let coarse = |h: HistSpec| HistSpec { sigfig: 2, ..h };
    let agent_settings = HistSettings {
        duration_us: coarse(settings.duration_us),
        tokens: coarse(settings.tokens),
        rate_milli: coarse(settings.rate_milli),
    };
    for &n in agent_counts {
        let mut whole = StageAggregate::new(settings)?;
        let mut group = StageAggregate::new(settings)?;
        let mut agents = (0..n)
            .map(|_| StageAggregate::new(agent_settings))
            .collect::<Result<Vec<_>, _>>()?;
        let t0 = Instant::now();
        for sec in 0..seconds {
            for (a, view) in agents.iter_mut().enumerate() {
                let snap = &snapshots[(a + sec) % snapshots.len()];
                let d = delta_from_snapshot(snap, settings)?;
                whole.apply(&d);
                group.apply(&d);
                view.apply(&d);
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
        if n == 1000 {
            super::goal("1,000 agents merged within one core", per_second < 1.0);
        }
    }
    Ok(())
}
