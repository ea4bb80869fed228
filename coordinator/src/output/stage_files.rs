//! A finished stage's files: EvalScope's two JSON tables, our richer summary and the raw
//! histograms (V2), so stages can be re-merged or re-reported later.

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{Map, Value};
use swarm_common::metrics::StageAggregate;
use swarm_common::metrics::aggregate::Metric;
use swarm_common::metrics::evalscope::{self, StageLoad};
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

/// What a stage's `summary.json` holds.
#[derive(Debug, Serialize)]
pub struct StageSummaryFile<'a> {
    /// The stage name.
    pub stage: &'a str,
    /// The load offered.
    pub load: &'a swarm_common::schedule::LoadModel,
    /// Why the stage stopped (`count`, `duration`, `cancelled`, `failed: ...`).
    pub stopped: &'a str,
    /// Whether the stage produced a result (`{"status": "ok"}`, or `no_success`,
    /// `agents_lost` with a `reason`, or `cancelled`).
    pub outcome: &'a crate::perf::stage::StageStatus,
    /// EvalScope's summary, same keys.
    pub evalscope: &'a Map<String, Value>,
    /// The richer summary.
    #[serde(flatten)]
    pub rich: &'a RichSummary,
}

/// What a stage's tables hold: EvalScope's summary and percentile rows, and our summary.
pub type StageTables = (Map<String, Value>, Vec<Map<String, Value>>, RichSummary);

/// Writes every file of a stage into `dir` (created if needed).
pub fn write_stage(
    dir: &Path,
    stage: &str,
    load: &swarm_common::schedule::LoadModel,
    stopped: &str,
    status: &crate::perf::stage::StageStatus,
    agg: &StageAggregate,
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
    let percentiles = evalscope::percentiles(agg);
    let rich = RichSummary::of(agg);
    write_json(&dir.join("benchmark_summary.json"), &summary)?;
    write_json(&dir.join("benchmark_percentile.json"), &percentiles)?;
    write_json(
        &dir.join("summary.json"),
        &StageSummaryFile {
            stage,
            load,
            stopped,
            outcome: status,
            evalscope: &summary,
            rich: &rich,
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
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._=-".contains(c) {
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
