//! Perf workloads on the coordinator side: jobs and stages, splitting them over agents,
//! merging what the agents report, and writing results.

pub mod args;
pub mod job;
pub mod live_file;
pub mod progress;
pub mod prompts;
pub mod shards;
pub mod sla;
pub mod sla_run;
pub mod stage;
pub mod sweep;
pub mod threshold;
pub mod timeseries;
