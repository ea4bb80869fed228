//! The run store: where a run's files go and how they are written.

pub mod run_dir;
pub mod sqlite;
pub mod stage_files;
