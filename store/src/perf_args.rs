//! What the report and dashboard read back from a perf workload's `benchmark_args.json` (the
//! writer is `perf::sweep`, which writes more).

use serde::Deserialize;

/// The target part.
#[derive(Debug, Clone, Deserialize)]
pub struct TargetView {
    /// The model the target serves (None when the plan named none).
    pub model: Option<String>,
}

/// A stage's name.
#[derive(Debug, Clone, Deserialize)]
pub struct StageName {
    /// The stage name.
    pub name: String,
}

/// The fields read back.
#[derive(Debug, Clone, Deserialize)]
pub struct JobArgsView {
    /// The target.
    pub target: TargetView,
    /// The stages in the order they run.
    pub stages: Vec<StageName>,
}

/// `<workload>/benchmark_args.json`: None when there is none; an error when it is not one.
pub fn read(workload_dir: &std::path::Path) -> anyhow::Result<Option<JobArgsView>> {
    super::read::optional(&workload_dir.join(super::layout::BENCHMARK_ARGS))
}
