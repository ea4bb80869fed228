//! A report's `judge_summary`, as EvalScope 1.14.1's `summarize_judge_runs`: over the samples
//! the judge was asked about, how many carry a usable score, the judge models, and the failed
//! attempts by cause.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::ScoreStatus;
use crate::task::Prediction;

/// EvalScope's `JudgeSummary` at report level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JudgeSummary {
    /// `success`; `degraded` when some sample's score is not the judge's; `excluded` when none
    /// is usable.
    pub status: ScoreStatus,
    /// Samples whose final score is usable (EvalScope counts a rule score kept after a failed
    /// judge here too; `failures` says how often the judge failed).
    pub scored: u64,
    /// Samples the judge was asked about.
    pub total: u64,
    /// `scored / total`.
    pub coverage: f64,
    /// The judges.
    pub judge_models: Vec<String>,
    /// Judge verdicts that were usable.
    pub valid_observations: u64,
    /// Judge sessions.
    pub total_observations: u64,
    /// Failed judge attempts by status (`transport_error`, `parse_error`).
    pub failures: BTreeMap<String, u64>,
    /// Disagreement diagnostics (empty: one judge, one repeat, no position swap).
    pub disagreement: Value,
}

/// The summary over `predictions` (None when the judge was asked about none of them).
pub fn summarize(predictions: &[Prediction]) -> Option<JudgeSummary> {
    let judged: Vec<_> = predictions
        .iter()
        .filter_map(|p| {
            let j = p.judge.as_ref()?;
            Some((j.status, j.review.as_ref()?))
        })
        .collect();
    if judged.is_empty() {
        return None;
    }
    let total = judged.len() as u64;
    let scored = judged.iter().filter(|(s, _)| s.is_usable()).count() as u64;
    let mut failures = BTreeMap::new();
    let mut models: Vec<String> = Vec::new();
    for (_, r) in &judged {
        for (cause, n) in &r.failures {
            *failures.entry(cause.clone()).or_insert(0) += u64::from(*n);
        }
        if !models.contains(&r.judge_id) {
            models.push(r.judge_id.clone());
        }
    }
    let status = if scored == 0 {
        ScoreStatus::Excluded
    } else if scored != total || judged.iter().any(|(s, _)| *s != ScoreStatus::Success) {
        ScoreStatus::Degraded
    } else {
        ScoreStatus::Success
    };
    Some(JudgeSummary {
        status,
        scored,
        total,
        coverage: scored as f64 / total as f64,
        judge_models: models,
        valid_observations: judged.iter().filter(|(_, r)| r.usable()).count() as u64,
        total_observations: total,
        failures,
        disagreement: json!({
            "numeric": {},
            "categorical": {},
            "position_consistency": {"mean": null, "samples": 0, "swap_flip_count": 0}
        }),
    })
}
