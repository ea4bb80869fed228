//! `sla_summary.json`, written by an SLA auto-tune search beside its stages: EvalScope's entries
//! (`<variable>_<value>`: the probe's averaged `metrics` and `percentiles`) and our
//! `sla_result`, the search itself. Written and read through these types; a reader takes only
//! `sla_result` (EvalScope's entries are the stages' own files, averaged).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The search's own part of `sla_summary.json`, under `sla_result`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaResult {
    /// `parallel` or `rate`.
    pub variable: String,
    /// `--sla-params` as given (its JSON; null when it was not JSON).
    pub sla_params: serde_json::Value,
    /// The value chosen: the largest meeting any criteria group (the best one when optimising);
    /// null when none did.
    pub chosen: Option<u64>,
    /// One row per search (EvalScope's `SLA Auto-tune Summary`).
    pub criteria: Vec<Answer>,
    /// Values probed, in order.
    pub probed: Vec<u64>,
    /// Runs per probe.
    pub num_runs: u32,
    /// Search bounds and start.
    pub range: Range,
    /// Whether the search was cancelled before it finished.
    pub cancelled: bool,
    /// Each rule of the criteria: its group, metric and limit.
    pub rules: Vec<RuleRow>,
    /// Each probe as measured, in the order run.
    pub probes: Vec<ProbeRow>,
    /// With `placement: {per_label: ...}`: the placement group (`region=eu-west`) searched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// The searched range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Range {
    /// First value probed.
    pub start: u64,
    /// Lower bound.
    pub lower: u64,
    /// Upper bound.
    pub upper: u64,
}

/// The result of one search (a row of EvalScope's `SLA Auto-tune Summary`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    /// The criteria, described (`p99_ttft <= 0.1`).
    pub criteria: String,
    /// The tuned variable.
    pub variable: String,
    /// The largest value meeting the criteria (the best one in optimisation mode); None when
    /// even the lower bound failed.
    pub max_satisfied: Option<u64>,
    /// `Satisfied`, `Failed at lower bound (1)`, `Best tps: 123.4`.
    pub note: String,
    /// Optimisation mode: the metric's best value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub best_metric: Option<f64>,
}

/// One rule of the criteria.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleRow {
    /// Its criteria group (an object of `--sla-params`), from 0.
    pub group: usize,
    /// EvalScope's metric name (`p99_ttft`); times in seconds.
    pub metric: String,
    /// `<`, `<=`, `>`, `>=`, `max` or `min`.
    pub op: String,
    /// The limit (None for `max` / `min`).
    pub limit: Option<f64>,
}

/// One probe: the value, whether it passed each group, what it measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProbeRow {
    /// The value of the variable.
    pub value: u64,
    /// Every request of every run succeeded.
    pub all_succeeded: bool,
    /// Whether it met each criteria group, in order (empty when optimising).
    pub passed: Vec<bool>,
    /// EvalScope's SLA metric values (seconds for times), averaged over its runs.
    pub values: BTreeMap<String, f64>,
}

/// The whole file as read: only `sla_result` (EvalScope's per-probe entries beside it are the
/// stages' files averaged, read from the stages themselves).
#[derive(Debug, Clone, PartialEq, Deserialize)]
struct SummaryFile {
    sla_result: SlaResult,
}

/// The `sla_summary.json` of workload folder `workload_dir`.
pub fn path(workload_dir: &Path) -> PathBuf {
    workload_dir.join(super::layout::SLA_SUMMARY)
}

/// The search of workload folder `workload_dir`; None when it ran no SLA search.
pub fn read(workload_dir: &Path) -> anyhow::Result<Option<SlaResult>> {
    let file: Option<SummaryFile> = super::read::optional(&path(workload_dir))?;
    Ok(file.map(|f| f.sla_result))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_search_is_read_back_and_evalscope_entries_are_left_alone() {
        let tmp = tempfile::tempdir().unwrap();
        assert_eq!(read(tmp.path()).unwrap(), None);
        let text = r#"{
          "rate_2": {"metrics": {"Total Requests": 4}, "percentiles": {}},
          "sla_result": {"variable": "rate", "sla_params": [{"p99_ttft": "<=0.1"}], "chosen": 2,
            "criteria": [{"criteria": "p99_ttft <= 0.1", "variable": "rate", "max_satisfied": 2,
                          "note": "Satisfied"}],
            "probed": [2, 4], "num_runs": 1, "range": {"start": 2, "lower": 1, "upper": 64},
            "cancelled": false,
            "rules": [{"group": 0, "metric": "p99_ttft", "op": "<=", "limit": 0.1}],
            "probes": [
              {"value": 2, "all_succeeded": true, "passed": [true], "values": {"p99_ttft": 0.05}},
              {"value": 4, "all_succeeded": true, "passed": [false], "values": {"p99_ttft": 0.3}}
            ]}
        }"#;
        std::fs::write(path(tmp.path()), text).unwrap();
        let r = read(tmp.path()).unwrap().unwrap();
        assert_eq!(r.chosen, Some(2));
        assert_eq!(r.probes.len(), 2);
        assert_eq!(r.rules[0].limit, Some(0.1));
        std::fs::write(path(tmp.path()), r#"{"sla_result": {"variable": "rate"}}"#).unwrap();
        let err = format!("{:#}", read(tmp.path()).unwrap_err());
        assert!(err.contains("sla_summary.json"), "{err}");
    }
}
