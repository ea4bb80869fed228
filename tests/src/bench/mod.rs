//! The perf-core benchmarks (`swarm-bench`): client capacity, measurement fidelity against the
//! simulator's own send times, and client memory at high concurrency. Run them with
//! `scripts/bench.sh`; they print figures and never assert on speed.

pub mod app;
pub mod capacity;
pub mod fidelity;
pub mod merge;
pub mod multi_turn;
pub mod procstat;
pub mod sandbox;
pub mod scoring;
pub mod shard;
pub mod simproc;

/// Prints a benchmark's goal and whether this run met it, so the docs hold the verdict the
/// script wrote, not one copied by hand.
pub fn goal(what: &str, met: bool) {
    println!("goal: {what}: {}", if met { "met" } else { "NOT met" });
}
