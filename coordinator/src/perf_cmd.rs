//! `coordinator perf`: the plan its EvalScope-style flags describe, run as `coordinator run`
//! runs a plan file.

use std::path::PathBuf;

use tokio_util::sync::CancellationToken;

use crate::outcome::Failure;
use crate::perf::args::PerfArgs;
use crate::run::run_flags;
use crate::run_store::record::RunKind;

/// Runs the sweep (or SLA search) the flags describe; returns the run folder.
pub async fn run_perf(args: &PerfArgs, cancel: &CancellationToken) -> anyhow::Result<PathBuf> {
    let plan = args.plan().map_err(Failure::usage)?;
    run_flags(RunKind::Perf, &plan, None, Default::default(), cancel).await
}
