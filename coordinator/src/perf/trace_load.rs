//! A Mooncake trace (`mooncake_trace`) as a run's prompt set: read line by line and written to
//! disk as it is read (the coordinator keeps 8 bytes a line), each line checked
//! ([`swarm_common::trace::TraceReader`]). Agents pull only the lines they send and build their
//! prompts themselves, so no prompt text is made or held here.

use std::io::BufReader;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};
use swarm_common::schedule::{Arrival, LoadModel};
use swarm_common::trace::TraceReader;

use super::job::{StageSpec, TraceReplay};
use crate::cluster::PromptSet;
use crate::cluster::prompt_set::PromptSetWriter;

/// Lines per block an agent takes in turn (small: agents alternate often).
pub const TRACE_BLOCK: u64 = 8;

/// A loaded trace.
#[derive(Debug)]
pub struct LoadedTrace {
    /// Its lines, as the prompt set agents pull from.
    pub set: Arc<PromptSet>,
    /// The first line's timestamp, ms.
    pub t0_ms: f64,
    /// The last line's.
    pub last_ms: f64,
}

/// Reads the first `limit` lines (all when None) of the trace at `path` into a prompt set in
/// `scratch`.
pub fn load_trace(path: &Path, limit: Option<u64>, scratch: &Path) -> anyhow::Result<LoadedTrace> {
    let file = std::fs::File::open(path)
        .with_context(|| format!("cannot open trace {}", path.display()))?;
    let mut writer = PromptSetWriter::new_in(scratch)
        .with_context(|| format!("cannot create the prompt set file in {}", scratch.display()))?;
    let (mut t0_ms, mut last_ms) = (None, 0.0);
    for entry in TraceReader::new(path, BufReader::with_capacity(1 << 20, file)) {
        if limit.is_some_and(|n| writer.len() as u64 >= n) {
            break;
        }
        let entry = entry?;
        t0_ms.get_or_insert(entry.timestamp);
        last_ms = entry.timestamp;
        writer
            .push_line(&entry)
            .with_context(|| format!("trace {}", path.display()))?;
    }
    let Some(t0_ms) = t0_ms else {
        bail!("trace {} has no lines", path.display());
    };
    let set = writer
        .finish()
        .context("cannot finish the prompt set file")?;
    tracing::info!(lines = set.len(), bytes = set.bytes(), "trace ready");
    Ok(LoadedTrace {
        set: Arc::new(set),
        t0_ms,
        last_ms,
    })
}

/// `stage` made a replay of the trace's first `number` lines (all when it has none) at `speed`.
pub fn trace_stage(
    stage: &StageSpec,
    trace: &LoadedTrace,
    speed: f64,
) -> anyhow::Result<StageSpec> {
    if !(speed.is_finite() && speed > 0.0) {
        bail!("dataset speed must be > 0, got {speed}");
    }
    if stage.ramp.is_some() {
        bail!("a trace replay sends at the trace's times: a ramp cannot shape it");
    }
    let lines = trace.set.len() as u64;
    let n = stage.number.map_or(lines, |n| n.min(lines));
    // the rate the summary shows: the trace's mean over its span at this speed
    let span_s = (trace.last_ms - trace.t0_ms) / 1000.0 / speed;
    let rate = if span_s > 0.0 && lines > 1 {
        (lines - 1) as f64 / span_s
    } else {
        lines as f64
    };
    let mut s = StageSpec::new(
        LoadModel::Open {
            rate,
            arrival: Arrival::Constant,
            max_concurrency: None,
        },
        Some(n),
        stage.duration_s,
    );
    s.name = format!("trace_speed_{speed}_number_{n}");
    s.trace = Some(TraceReplay {
        speed,
        t0_ms: trace.t0_ms,
        block: TRACE_BLOCK,
    });
    Ok(s)
}
