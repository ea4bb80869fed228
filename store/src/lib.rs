//! The run store: where a run's files go, their formats, and how they are written and read.
//! Every reader (report, dashboard, think-eval, compare) and writer goes through these types.

pub mod breakdown;
pub mod csv_export;
pub mod eval_lines;
pub mod evalscope_perf;
pub mod layout;
pub mod live_file;
pub mod multi_turn;
pub mod outcome;
pub mod perf_args;
pub mod progress;
pub mod read;
pub mod record;
pub mod run_dir;
pub mod sla_summary;
pub mod speed_benchmark;
pub mod sqlite;
pub mod stage_files;
pub mod stage_status;
pub mod threshold;
pub mod timeseries;
pub mod trace_replay;
