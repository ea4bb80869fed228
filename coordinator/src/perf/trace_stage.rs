//! A trace replay stage on the cluster: each placement group replays the whole trace, its
//! agents taking blocks of lines in turn by capacity ([`swarm_common::trace::split_trace`]);
//! after the stage, the send-time error from its records (`trace_replay.json`).

use std::path::Path;

use swarm_common::trace::{TraceShare, split_trace};

use super::job::{StageSpec, TraceReplay};

/// For each agent of `weights` (capacities), its share of the stage's lines and how many it
/// sends; None for an agent left without lines. `lines` are the stage's (its first `number`).
pub fn plan_group(tr: &TraceReplay, weights: &[u64], lines: u64) -> Vec<Option<(TraceShare, u64)>> {
    split_trace(weights, tr.block, tr.t0_ms, tr.speed)
        .into_iter()
        .map(|s| {
            let s = s?;
            let n = s.owned_count(lines);
            (n > 0).then_some((s, n))
        })
        .collect()
}

/// The share a survivor takes over from a lost shard holding `share`: the lines it did not
/// report, at their own times on the stage's clock (already due ones at once), its clock
/// starting `offset_s` into the stage.
pub fn take_over(share: &TraceShare, reported: u64, offset_s: f64) -> TraceShare {
    TraceShare {
        skip: share.skip + reported,
        offset_s,
        ..share.clone()
    }
}

/// Writes the stage's `trace_replay.json` from its `requests.sqlite` and prints its line.
pub fn finish(dir: &Path, stage: &StageSpec) -> anyhow::Result<()> {
    let Some(tr) = stage.trace else {
        return Ok(());
    };
    let sqlite = dir.join(crate::run_store::layout::REQUESTS_SQLITE);
    let replay = crate::run_store::trace_replay::from_sqlite(&sqlite, tr.speed)?;
    crate::run_store::trace_replay::write(dir, &replay)?;
    println!("\n{}", crate::run_store::trace_replay::line(&replay));
    Ok(())
}
