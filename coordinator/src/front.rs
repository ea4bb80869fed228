//! The one way `perf`, `eval` (and `--rescore`) and `run` go through a run folder: `run.json`
//! from the first moment, the command's body, its final status whatever happened, the report,
//! the sample index, the results line and the exit status. (`perf` and `eval` are plans made of
//! their flags, run by `run::run_flags`; only `--rescore` brings its own body.)

use std::path::{Path, PathBuf};

use tokio_util::sync::CancellationToken;

use crate::outcome::{Exit, Failure, exit_of};
use crate::run_store::record::{Recorder, RunKind};

/// Runs `body` into `run_dir` as a command of `kind`: records it, then writes the report and the
/// sample index however it ended. Returns the folder, or the error its outcome says.
pub async fn run_into(
    run_dir: &Path,
    kind: RunKind,
    name: &str,
    cancel: &CancellationToken,
    body: impl AsyncFnOnce(&mut Recorder) -> anyhow::Result<(Exit, Vec<String>)>,
) -> anyhow::Result<PathBuf> {
    let mut recorder = Recorder::start(run_dir, kind, name)?;
    // the root of the run's trace (OTLP export): its stage spans are children
    let span = tracing::info_span!("run", run_id = %recorder.record.run_id, kind = ?kind, name);
    let ran = tracing::Instrument::instrument(body(&mut recorder), span).await;
    let (outcome, failures) = match &ran {
        Ok(r) => r.clone(),
        Err(e) => (exit_of(e), vec![format!("{e:#}")]),
    };
    let record = recorder.finish(outcome, failures, cancel.is_cancelled())?;
    crate::report::html::write_report_or_warn(run_dir);
    let dir = run_dir.to_path_buf();
    // a large run takes seconds to index: off the async threads
    let _ =
        tokio::task::spawn_blocking(move || crate::app::samples::write_index_or_warn(&dir)).await;
    println!("\nresults: {}", run_dir.display());
    ran?;
    match record.outcome {
        Some(Exit::Ok | Exit::Cancelled) | None => Ok(run_dir.to_path_buf()),
        Some(exit) => Err(Failure::error(exit, record.failures.join("\n"))),
    }
}
