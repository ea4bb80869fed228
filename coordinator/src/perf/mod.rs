//! Perf workloads on the coordinator side: jobs and stages, splitting them over agents,
//! merging what the agents report, and writing results.

pub mod args;
mod breakdown;
pub mod job;
mod merge;
pub mod progress;
pub mod prompts;
pub mod shards;
pub mod sla;
pub mod sla_regions;
pub mod sla_run;
mod sla_search;
pub mod stage;
mod stage_live;
mod status;
pub mod sweep;
pub mod threshold;
pub mod trace_load;
mod trace_stage;
pub(crate) mod vl_load;

pub use swarm_store::{live_file, timeseries};
