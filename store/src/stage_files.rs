//! A finished stage's files: EvalScope's two JSON tables, our richer summary and the raw
//! histograms (V2), so stages can be re-merged or re-reported later.

use std::path::{Path, PathBuf};

use serde::Serialize;
use swarm_common::metrics::StageAggregate;
use swarm_common::metrics::aggregate::Metric;
use swarm_common::metrics::evalscope::{self, PercentileRow, PerfSummary, StageLoad};
use swarm_common::metrics::summary::RichSummary;

/// Errors writing output files.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {path}: {source}")]
pub struct WriteError {
    /// The file or folder.
    pub path: PathBuf,
    /// The I/O error.
    pub source: std::io::Error,
}

/// Writes `value` as pretty JSON to `path`.
pub fn write_json(path: &Path, value: &impl Serialize) -> Result<(), WriteError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| WriteError {
        path: path.to_path_buf(),
        source: std::io::Error::other(e),
    })?;
    std::fs::write(path, text + "\n").map_err(|source| WriteError {
        path: path.to_path_buf(),
        source,
    })
}

/// Writes `value` as pretty JSON to a temporary file beside `path`, then renames it over
/// `path`: a reader never sees half a file.
pub fn write_json_atomic(path: &Path, value: &impl Serialize) -> anyhow::Result<()> {
    use anyhow::Context;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    serde_json::to_writer_pretty(&mut tmp, value)
        .map_err(std::io::Error::other)
        .and_then(|()| std::io::Write::write_all(&mut tmp, b"\n"))
        .with_context(|| format!("cannot write {}", path.display()))?;
    tmp.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// What a stage's `summary.json` holds.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct StageSummary {
    /// The stage name.
    pub stage: String,
    /// The load offered.
    pub load: swarm_common::schedule::LoadModel,
    /// Why the stage stopped (`count`, `duration`, `cancelled`, `failed: ...`).
    pub stopped: String,
    /// Whether the stage produced a result (`{"status": "ok"}`, or `no_success`,
    /// `agents_lost` with a `reason`, or `cancelled`).
    pub outcome: crate::stage_status::StageStatus,
    /// EvalScope's summary, same keys.
    pub evalscope: PerfSummary,
    /// The richer summary.
    #[serde(flatten)]
    pub rich: RichSummary,
}

/// The stage summary file's name.
pub const SUMMARY_JSON: &str = "summary.json";

/// What a stage's tables hold: EvalScope's summary and percentile rows, and our summary.
pub type StageTables = (PerfSummary, Vec<PercentileRow>, RichSummary);

/// Writes every file of a stage into `dir` (created if needed).
pub fn write_stage(
    dir: &Path,
    stage: &str,
    load: &swarm_common::schedule::LoadModel,
    stopped: &str,
    status: &crate::stage_status::StageStatus,
    agg: &StageAggregate,
) -> Result<StageTables, WriteError> {
    write_stage_with(dir, stage, load, stopped, status, agg, &[])
}

/// [`write_stage`], with the rows of the extra percentiles `extra` (`--percentiles`, checked
/// by [`evalscope::checked_extra_percentiles`]) after EvalScope's in `benchmark_percentile.json`
/// and the returned rows; none: EvalScope's file as it is.
pub fn write_stage_with(
    dir: &Path,
    stage: &str,
    load: &swarm_common::schedule::LoadModel,
    stopped: &str,
    status: &crate::stage_status::StageStatus,
    agg: &StageAggregate,
    extra: &[f64],
) -> Result<StageTables, WriteError> {
    let mkdir = |p: &Path| {
        std::fs::create_dir_all(p).map_err(|source| WriteError {
            path: p.to_path_buf(),
            source,
        })
    };
    mkdir(dir)?;
    let summary = evalscope::summary(
        agg,
        StageLoad {
            concurrency: load.concurrency(),
            rate: load.rate(),
        },
    );
    let mut percentiles = evalscope::percentiles(agg);
    percentiles.extend(evalscope::extra_percentiles(agg, extra));
    let rich = RichSummary::of(agg);
    write_json(&dir.join(super::layout::BENCHMARK_SUMMARY), &summary)?;
    write_json(&dir.join(super::layout::BENCHMARK_PERCENTILE), &percentiles)?;
    write_json(
        &dir.join(SUMMARY_JSON),
        &StageSummary {
            stage: stage.to_string(),
            load: *load,
            stopped: stopped.to_string(),
            outcome: status.clone(),
            evalscope: summary.clone(),
            rich: rich.clone(),
        },
    )?;
    write_histograms(&dir.join("histograms"), agg)?;
    Ok((summary, percentiles, rich))
}

/// Writes every histogram of `agg` into `hdir` (created if needed) as `<metric>.hdr` (V2).
pub fn write_histograms(hdir: &Path, agg: &StageAggregate) -> Result<(), WriteError> {
    std::fs::create_dir_all(hdir).map_err(|source| WriteError {
        path: hdir.to_path_buf(),
        source,
    })?;
    for m in Metric::ALL {
        let h = agg.hist(m);
        let name = serde_json::to_value(m)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| format!("{m:?}"));
        let path = hdir.join(format!("{name}.hdr"));
        std::fs::write(&path, h.to_v2()).map_err(|source| WriteError { path, source })?;
    }
    Ok(())
}

/// `text` with every character but ASCII letters, digits and `._=-` made `_`: safe in a file
/// name and a quoted header value (run ids, labels: text from outside).
pub fn plain_name(text: &str) -> String {
    keep_only(text, "._=-")
}

/// `text` with every character but ASCII letters, digits and those of `also` made `_`.
pub fn keep_only(text: &str, also: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || also.contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The folder, under a stage's `histograms/labels/`, of placement label `label` (`region=eu`):
/// its [`plain_name`], never hidden or empty (labels come from agents).
pub fn label_dir_name(label: &str) -> String {
    let safe = plain_name(label);
    if safe.is_empty() || safe.starts_with('.') {
        format!("_{safe}")
    } else {
        safe
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_folders_stay_inside_their_stage() {
        assert_eq!(label_dir_name("region=eu-west"), "region=eu-west");
        assert_eq!(label_dir_name("region=../../etc"), "region=.._.._etc");
        assert_eq!(label_dir_name(".."), "_..");
        assert_eq!(label_dir_name(""), "_");
        assert_eq!(label_dir_name("zone=東京/1"), "zone=___1");
    }
}
