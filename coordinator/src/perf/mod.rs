//! Perf workloads on the coordinator side: jobs and stages, collecting and writing results.

pub mod args;
pub mod collector;
pub mod job;
pub mod stage;
pub mod sweep;
