//! The perf-core benchmarks (`swarm-bench`): client capacity, measurement fidelity against the
//! simulator's own send times, and client memory at high concurrency. Run them with
//! `scripts/bench.sh`; they print figures and never assert on speed.

pub mod app;
pub mod capacity;
pub mod fidelity;
pub mod merge;
pub mod procstat;
pub mod sandbox;
pub mod scoring;
pub mod shard;
pub mod simproc;
