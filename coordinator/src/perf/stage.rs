//! Runs one stage: starts the executor (an in-process agent), collects what it measures, and
//! writes the stage's files — also when the stage was cancelled or requests failed.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{Map, Value};
use swarm_agent::perf::{ShardEvent, StopReason, run_shard};
use swarm_common::metrics::summary::RichSummary;
use tokio_util::sync::CancellationToken;

use super::collector::{Progress, StageCollector};
use super::job::{PerfJob, StageSpec};
use crate::output::sqlite::RecordWriter;
use crate::output::stage_files::write_stage;

/// A finished stage, as reported.
#[derive(Debug, Clone)]
pub struct StageResult {
    /// The stage.
    pub stage: StageSpec,
    /// EvalScope's summary.
    pub summary: Map<String, Value>,
    /// EvalScope's percentile rows.
    pub percentiles: Vec<Map<String, Value>>,
    /// The richer summary.
    pub rich: RichSummary,
    /// Why it stopped.
    pub stopped: String,
}

/// How a stage shows its progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressMode {
    /// A progress bar on stderr (hidden when stderr is not a terminal).
    Bar,
    /// Nothing.
    Quiet,
}

fn progress_bar(stage: &StageSpec, mode: ProgressMode) -> ProgressBar {
    let pb = match (mode, stage.number) {
        (ProgressMode::Quiet, _) => return ProgressBar::hidden(),
        (_, Some(n)) => ProgressBar::new(n),
        (_, None) => ProgressBar::new_spinner(),
    };
    pb.set_draw_target(ProgressDrawTarget::stderr_with_hz(4));
    let style =
        ProgressStyle::with_template("{prefix} [{elapsed_precise}] {wide_bar} {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar());
    pb.set_style(style);
    pb.set_prefix(stage.name.clone());
    pb
}

/// Runs `stage` of `job`, writing into `dir`.
pub async fn run_stage(
    job: &PerfJob,
    stage: &StageSpec,
    dir: &Path,
    mode: ProgressMode,
    cancel: &CancellationToken,
) -> anyhow::Result<StageResult> {
    std::fs::create_dir_all(dir)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
    let shard = job.whole_shard(stage);
    let writer = if job.sqlite {
        Some(RecordWriter::open(&dir.join("requests.sqlite"))?)
    } else {
        None
    };
    let progress = Arc::new(Progress::default());
    let mut collector =
        StageCollector::new(job.hist, &shard.shard_id, writer, Arc::clone(&progress))?;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<ShardEvent>();
    let exec = tokio::spawn(run_shard(shard, None, tx, cancel.child_token()));

    let pb = progress_bar(stage, mode);
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    let started = tokio::time::Instant::now();
    loop {
        tokio::select! {
            ev = rx.recv() => match ev {
                Some(ev) => collector.on_event(ev),
                None => break,
            },
            _ = tick.tick() => {
                let done = progress.done.load(Ordering::Relaxed);
                let failed = progress.failed.load(Ordering::Relaxed);
                let secs = started.elapsed().as_secs_f64().max(1e-3);
                pb.set_position(done);
                pb.set_message(format!("{:.1} req/s, {failed} failed", done as f64 / secs));
            }
        }
    }
    pb.finish_and_clear();
    let stopped = match exec.await {
        Ok(Ok(o)) => match o.stop {
            StopReason::Count => "count".to_string(),
            StopReason::Duration => "duration".to_string(),
            StopReason::Cancelled => "cancelled".to_string(),
        },
        Ok(Err(e)) => format!("failed: {e}"),
        Err(e) => format!("failed: executor task: {e}"),
    };
    let (agg, store_err) = collector.finish();
    if let Some(e) = store_err {
        tracing::error!(error = %e, "per-request records incomplete");
    }
    let (summary, percentiles, rich) = write_stage(dir, &stage.name, &stage.load, &stopped, &agg)?;
    if let Some(reason) = stopped.strip_prefix("failed: ") {
        if agg.counters.total == 0 {
            anyhow::bail!("stage {}: {reason}", stage.name);
        }
    }
    Ok(StageResult {
        stage: stage.clone(),
        summary,
        percentiles,
        rich,
        stopped,
    })
}
