//! Which agent sends which trace line. Lines are grouped in blocks of `block` consecutive lines;
//! block `b` belongs to the shard whose `[from, to)` holds `b mod period`. The shares of a stage
//! partition `0..period`, so every line is sent by exactly one shard, at its own time on the
//! stage's clock: the agents' merged arrivals are the trace's. Each agent pulls only its blocks.

use serde::{Deserialize, Serialize};

use crate::split::largest_remainder;

/// One shard's part of a trace replay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraceShare {
    /// Lines per block (≥ 1).
    pub block: u64,
    /// Blocks per round (≥ 1).
    pub period: u64,
    /// First block of each round this shard sends.
    pub from: u64,
    /// One past the last.
    pub to: u64,
    /// The trace's first timestamp, ms: its line is due at 0.
    pub t0_ms: f64,
    /// Replay speed: line times are divided by it (EvalScope's `speed`; > 0).
    pub speed: f64,
    /// Where this shard's clock starts on the stage's, seconds (0 for a stage's own shards).
    #[serde(default)]
    pub offset_s: f64,
    /// Owned lines passed over before the first one sent (a re-assigned share).
    #[serde(default)]
    pub skip: u64,
}

impl TraceShare {
    /// Whether line `j` (0-based) is this shard's.
    pub fn owns(&self, j: u64) -> bool {
        let r = (j / self.block.max(1)) % self.period.max(1);
        (self.from..self.to).contains(&r)
    }

    /// This shard's lines among `total`, in order, as runs of consecutive lines (the skipped
    /// ones left out).
    pub fn owned_runs(&self, total: u64) -> impl Iterator<Item = std::ops::Range<u64>> + '_ {
        let block = self.block.max(1);
        let blocks = total.div_ceil(block);
        let mut skip = self.skip;
        (0..blocks)
            .filter(move |b| self.owns(b * block))
            .filter_map(move |b| {
                let (mut a, end) = (b * block, ((b + 1) * block).min(total));
                let pass = skip.min(end - a);
                skip -= pass;
                a += pass;
                (a < end).then_some(a..end)
            })
    }

    /// How many lines of `total` this shard sends.
    pub fn owned_count(&self, total: u64) -> u64 {
        let (block, period) = (self.block.max(1), self.period.max(1));
        let round = block * period;
        let mine = |upto: u64| -> u64 {
            // owned lines among 0..upto
            let full = upto / round;
            let rest = upto % round;
            let width = self.to.saturating_sub(self.from);
            let lo = (self.from * block).min(rest);
            let hi = (self.to * block).min(rest);
            full * width * block + (hi - lo)
        };
        mine(total).saturating_sub(self.skip)
    }

    /// When a line with `timestamp_ms` is due on this shard's clock, seconds (negative: already
    /// past when the shard starts, sent at once).
    pub fn due_s(&self, timestamp_ms: f64) -> f64 {
        (timestamp_ms - self.t0_ms) / 1000.0 / self.speed - self.offset_s
    }

    /// Why the share cannot be replayed, if it cannot.
    pub fn check(&self) -> Result<(), String> {
        if self.block == 0 || self.period == 0 || self.from >= self.to || self.to > self.period {
            return Err(format!(
                "trace share: blocks {}..{} of a round of {} (block {}) is not a share",
                self.from, self.to, self.period, self.block
            ));
        }
        if !(self.speed.is_finite() && self.speed > 0.0) {
            return Err(format!("trace speed must be > 0, got {}", self.speed));
        }
        if !(self.t0_ms.is_finite() && self.offset_s.is_finite()) {
            return Err("trace share: t0_ms and offset_s must be numbers".into());
        }
        Ok(())
    }
}

/// The longest round, in blocks per agent: weights whose reduced sum is larger are rounded.
pub const BLOCKS_PER_AGENT: u64 = 16;

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// The shares of a trace over agents of `weights` (capacities, ≥ 1): each round of blocks
/// gives each agent its weight's blocks (weights reduced by their common divisor; past
/// `BLOCKS_PER_AGENT` blocks per agent a round is split by largest remainder). An agent whose
/// part rounds to no block gets None (it sends nothing).
pub fn split_trace(weights: &[u64], block: u64, t0_ms: f64, speed: f64) -> Vec<Option<TraceShare>> {
    let g = weights.iter().copied().fold(0, gcd).max(1);
    let reduced: Vec<u64> = weights.iter().map(|w| w / g).collect();
    let cap = BLOCKS_PER_AGENT * weights.len() as u64;
    let (period, parts) = match reduced.iter().sum::<u64>() {
        sum if sum >= 1 && sum <= cap => (sum, reduced),
        _ => (cap, largest_remainder(cap, weights)),
    };
    let mut from = 0;
    parts
        .into_iter()
        .map(|n| {
            let share = (n > 0).then(|| TraceShare {
                block: block.max(1),
                period,
                from,
                to: from + n,
                t0_ms,
                speed,
                offset_s: 0.0,
                skip: 0,
            });
            from += n;
            share
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_belongs_to_exactly_one_share_and_counts_agree() {
        for (weights, block, total) in [
            (vec![1, 1], 1, 101u64),
            (vec![3, 1, 2], 4, 1000),
            (vec![1], 7, 50),
            (vec![5, 1], 3, 97),
        ] {
            let shares: Vec<TraceShare> = split_trace(&weights, block, 0.0, 1.0)
                .into_iter()
                .flatten()
                .collect();
            for s in &shares {
                s.check().expect("valid");
            }
            for j in 0..total {
                let owners = shares.iter().filter(|s| s.owns(j)).count();
                assert_eq!(owners, 1, "line {j} of {weights:?}");
            }
            for s in &shares {
                let listed: Vec<u64> = s.owned_runs(total).flatten().collect();
                let owned: Vec<u64> = (0..total).filter(|j| s.owns(*j)).collect();
                assert_eq!(listed, owned);
                assert_eq!(s.owned_count(total), owned.len() as u64);
            }
        }
        // equal agents alternate block by block
        let s = split_trace(&[2, 2], 8, 0.0, 1.0);
        let s: Vec<&TraceShare> = s.iter().flatten().collect();
        assert!((0..8).all(|j| s[0].owns(j)) && (8..16).all(|j| s[1].owns(j)) && s[0].owns(16));
        // capacities far apart: rounded over 16 blocks per agent, the small one gets none
        let s = split_trace(&[1000, 1], 1, 0.0, 1.0);
        assert_eq!(
            s.iter()
                .flatten()
                .map(|s| s.to - s.from)
                .collect::<Vec<_>>(),
            vec![32]
        );
        // shares follow the weights: 3:1 over 4000 lines of blocks of 1
        let s = split_trace(&[3, 1], 1, 0.0, 1.0);
        let n: Vec<u64> = s.iter().flatten().map(|s| s.owned_count(4000)).collect();
        assert_eq!(n, vec![3000, 1000]);
    }

    #[test]
    fn skipping_passes_over_the_first_owned_lines() {
        let s = TraceShare {
            skip: 3,
            ..split_trace(&[1, 1], 2, 0.0, 1.0)[1].clone().expect("share")
        };
        // owns block 1 of each round of 2 blocks of 2 lines: lines 2, 3, 6, 7, 10, ...
        let first: Vec<u64> = s.owned_runs(200).flatten().take(3).collect();
        assert_eq!(first, vec![7, 10, 11]);
        assert_eq!(s.owned_count(200), 100 - 3);
    }

    #[test]
    fn due_times_scale_with_speed() {
        let mut s = split_trace(&[1], 1, 1000.0, 2.0)[0].clone().expect("share");
        assert_eq!(s.due_s(1000.0), 0.0);
        assert_eq!(s.due_s(5000.0), 2.0);
        s.offset_s = 0.5;
        assert_eq!(s.due_s(5000.0), 1.5);
        s.speed = 0.0;
        assert!(s.check().is_err());
    }
}
