//! Eval workloads on the coordinator: samples loaded from local benchmark data, leased to agents
//! in batches (pull-based: an agent gets its next batch when one finishes), predictions and
//! reviews stored once per (sample, repeat), done / total kept in `progress.json`, reports in
//! EvalScope's layout, resume and rescore.

pub mod args;
pub mod collection_report;
pub mod job;
pub mod lease;
pub mod rejudge;
pub use swarm_store::progress;
pub mod report;
pub mod run;
pub mod store;
pub mod task_config;
