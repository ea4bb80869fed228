//! The run store: where a run's files go, their formats, and how they are written and read.

pub mod breakdown;
pub mod eval_lines;
pub mod evalscope_perf;
pub mod layout;
pub mod perf_args;
pub mod read;
pub mod record;
pub mod run_dir;
pub mod sqlite;
pub mod stage_files;
