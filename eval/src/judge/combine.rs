//! What the judge said about one sample and how it meets the rule score, as EvalScope 1.14.1's
//! `calculate_metrics`: `llm` (and `auto` on a judge-default benchmark) takes the judge's score,
//! keeping the rule score marked `degraded` when the judge gives no usable verdict; `llm_recall`
//! asks the judge only when the rule did not score the sample correct and keeps the larger of the
//! two (`fallback` to the rule when the judge fails); `rule` never asks.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::parse::Verdict;
use super::{JudgeStrategy, ScoreStatus, ScoringPolicy, uses_judge};
use crate::sample::Score;

/// The metric a judge's verdict scores (EvalScope's `judge_metric_name`).
pub const JUDGE_METRIC: &str = "acc";

/// One judge request and its reply, including the failed ones (EvalScope's `JudgeAttempt`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JudgeAttempt {
    /// `success`, `transport_error` or `parse_error`.
    pub status: ScoreStatus,
    /// `judge` (generic) or `equivalence` (AIME).
    pub case_id: String,
    /// The judge.
    pub judge_id: String,
    /// Always 0 (one repeat).
    pub repeat_id: u32,
    /// Always `original` (no position swap).
    pub placement: String,
    /// The messages sent.
    pub messages: Vec<Value>,
    /// The judge's reply text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_response: Option<String>,
    /// The reply as the contract read it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parsed_value: Option<Value>,
    /// Why the attempt failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency: Option<f64>,
}

/// Everything the judge produced for one sample (EvalScope's `JudgeReview`, one judge, one
/// repeat).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JudgeReview {
    /// The judge.
    pub judge_id: String,
    /// `success`, or `excluded` when no attempt gave a usable verdict.
    pub status: ScoreStatus,
    /// The verdict's metric values (empty unless `success`).
    #[serde(default)]
    pub value: BTreeMap<String, f64>,
    /// Why there is no verdict.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Failed attempts by status (`transport_error`, `parse_error`).
    #[serde(default)]
    pub failures: BTreeMap<String, u32>,
    /// Every request and reply.
    #[serde(default)]
    pub attempts: Vec<JudgeAttempt>,
}

impl JudgeReview {
    /// The review of `attempts`, the last of which gave `verdict` when there is one.
    pub fn new(judge_id: &str, attempts: Vec<JudgeAttempt>, verdict: Option<Verdict>) -> Self {
        let mut failures = BTreeMap::new();
        for a in attempts.iter().filter(|a| !a.status.is_usable()) {
            *failures.entry(a.status.name().to_owned()).or_insert(0) += 1;
        }
        let (status, value, error) = match verdict {
            Some(v) => (ScoreStatus::Success, v.value, None),
            None => (
                ScoreStatus::Excluded,
                BTreeMap::new(),
                Some("no judge produced a usable verdict".to_owned()),
            ),
        };
        JudgeReview {
            judge_id: judge_id.to_owned(),
            status,
            value,
            error,
            failures,
            attempts,
        }
    }

    /// Whether the judge gave a verdict.
    pub fn usable(&self) -> bool {
        self.status.is_usable() && !self.value.is_empty()
    }
}

/// How a sample's score came about when a judge strategy other than plain rule scoring applied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Judgement {
    /// The run's strategy.
    pub strategy: JudgeStrategy,
    /// The final score's status: `success`, `degraded` or `fallback` (the rule score stands
    /// because the judge gave no verdict), `excluded`.
    pub status: ScoreStatus,
    /// What the judge said; None when it was not asked (`llm_recall` and a rule score of 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review: Option<JudgeReview>,
}

impl Judgement {
    /// Whether the judge was asked and gave no usable verdict.
    pub fn judge_failed(&self) -> bool {
        self.review.as_ref().is_some_and(|r| !r.usable())
    }

    /// The fields this judgement adds to a review line's `sample_score.score`, under
    /// EvalScope's names: `status`, `judge_summary`, `metadata` (`source`, `judge_strategy`,
    /// `model`, `judge_attempts`, `judge_unavailable`).
    pub fn review_fields(&self) -> Map<String, Value> {
        let mut out = Map::new();
        out.insert("status".into(), json!(self.status.name()));
        let Some(r) = &self.review else {
            return out;
        };
        let usable = r.usable();
        out.insert(
            "judge_summary".into(),
            json!({
                "status": self.status.name(),
                "scored": u32::from(usable),
                "total": 1,
                "coverage": if usable { 1.0 } else { 0.0 },
                "judge_models": [r.judge_id],
                "valid_observations": u32::from(usable),
                "total_observations": 1,
                "failures": r.failures,
                "disagreement": {},
                "error": r.error,
            }),
        );
        let mut meta = Map::new();
        meta.insert("source".into(), json!("llm_judge"));
        meta.insert("judge_strategy".into(), json!(self.strategy.name()));
        meta.insert("model".into(), json!(r.judge_id));
        meta.insert("non_official_position_swap".into(), json!(false));
        meta.insert("judge_attempts".into(), json!(r.attempts));
        if !usable {
            meta.insert("judge_unavailable".into(), json!(r.status.name()));
        }
        out.insert("metadata".into(), Value::Object(meta));
        out
    }
}

/// Whether the judge is asked about a sample the rule scored `rule`.
pub fn needs_judge(strategy: JudgeStrategy, policy: ScoringPolicy, rule: &Score) -> bool {
    match strategy {
        // the rule's verdict stands when it scored the sample correct
        JudgeStrategy::LlmRecall => !rule.values.get(&rule.main).is_some_and(|v| *v > 0.99),
        s => uses_judge(s, policy),
    }
}

/// The judge verdict a strategy needs is missing (a rescore that keeps judgements of a run
/// that had none for this sample).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingVerdict;

/// The final score of a sample the rule scored `rule`, given the judge's `review` (needed only
/// when [`needs_judge`]). None as judgement: plain rule scoring.
pub fn combine(
    strategy: JudgeStrategy,
    policy: ScoringPolicy,
    rule: Score,
    review: Option<&JudgeReview>,
) -> Result<(Score, Option<Judgement>), MissingVerdict> {
    let judgement = |status, review: Option<&JudgeReview>| Judgement {
        strategy,
        status,
        review: review.cloned(),
    };
    if !needs_judge(strategy, policy, &rule) {
        return Ok(match strategy {
            JudgeStrategy::LlmRecall => (rule, Some(judgement(ScoreStatus::Success, None))),
            _ => (rule, None),
        });
    }
    let review = review.ok_or(MissingVerdict)?;
    if strategy == JudgeStrategy::LlmRecall {
        if !review.usable() {
            return Ok((rule, Some(judgement(ScoreStatus::Fallback, Some(review)))));
        }
        let mut merged = rule;
        let judged = review.value.get(JUDGE_METRIC).copied().unwrap_or(0.0);
        if merged.values.is_empty() {
            merged.values = review.value.clone();
            merged.main = JUDGE_METRIC.to_owned();
        } else {
            let v = merged.values.entry(merged.main.clone()).or_insert(0.0);
            *v = v.max(judged);
        }
        return Ok((merged, Some(judgement(ScoreStatus::Success, Some(review)))));
    }
    if review.usable() {
        let score = Score {
            extracted: rule.extracted,
            values: review.value.clone(),
            main: JUDGE_METRIC.to_owned(),
        };
        return Ok((score, Some(judgement(ScoreStatus::Success, Some(review)))));
    }
    if policy.rule_supported() && !rule.values.is_empty() {
        // the judge gave nothing: the rule's evidence stands, marked degraded
        return Ok((rule, Some(judgement(ScoreStatus::Degraded, Some(review)))));
    }
    let excluded = Score {
        values: BTreeMap::new(),
        ..rule
    };
    Ok((
        excluded,
        Some(judgement(ScoreStatus::Excluded, Some(review))),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(acc: f64) -> Score {
        Score {
            extracted: "18".into(),
            values: BTreeMap::from([("acc".to_owned(), acc)]),
            main: "acc".into(),
        }
    }

    fn verdict(acc: Option<f64>) -> JudgeReview {
        let v = acc.map(|a| Verdict {
            value: BTreeMap::from([("acc".to_owned(), a)]),
            parsed: json!({}),
        });
        let status = if v.is_some() {
            ScoreStatus::Success
        } else {
            ScoreStatus::TransportError
        };
        let attempt = JudgeAttempt {
            status,
            case_id: "judge".into(),
            judge_id: "j".into(),
            repeat_id: 0,
            placement: "original".into(),
            messages: vec![],
            raw_response: None,
            parsed_value: None,
            error: None,
            latency: None,
        };
        JudgeReview::new("j", vec![attempt], v)
    }

    use JudgeStrategy::*;
    const RD: ScoringPolicy = ScoringPolicy::RuleDefault;

    fn acc(s: &Score) -> f64 {
        s.values["acc"]
    }

    #[test]
    fn rule_and_auto_never_ask_on_a_rule_default_benchmark() {
        for s in [Rule, Auto] {
            assert!(!needs_judge(s, RD, &rule(0.0)));
            let (score, j) = combine(s, RD, rule(0.0), None).expect("no verdict needed");
            assert_eq!((acc(&score), j), (0.0, None));
        }
        assert!(needs_judge(Auto, ScoringPolicy::JudgeDefault, &rule(1.0)));
    }

    #[test]
    fn llm_takes_the_judges_score_and_keeps_the_rule_when_the_judge_fails() {
        let (s, j) = combine(Llm, RD, rule(1.0), Some(&verdict(Some(0.0)))).unwrap();
        assert_eq!(acc(&s), 0.0, "the judge overrides a rule 1");
        assert_eq!(j.unwrap().status, ScoreStatus::Success);
        let (s, j) = combine(Llm, RD, rule(1.0), Some(&verdict(None))).unwrap();
        let j = j.unwrap();
        assert_eq!((acc(&s), j.status), (1.0, ScoreStatus::Degraded));
        assert!(j.judge_failed());
        let f = j.review_fields();
        assert_eq!(f["metadata"]["judge_unavailable"], "excluded");
        assert_eq!(f["judge_summary"]["failures"]["transport_error"], 1);
        assert_eq!(combine(Llm, RD, rule(1.0), None), Err(MissingVerdict));
    }

    #[test]
    fn llm_recall_asks_only_about_rule_misses_and_only_raises() {
        assert!(!needs_judge(LlmRecall, RD, &rule(1.0)));
        let (s, j) = combine(LlmRecall, RD, rule(1.0), None).unwrap();
        assert_eq!((acc(&s), j.unwrap().review), (1.0, None));
        assert!(needs_judge(LlmRecall, RD, &rule(0.0)));
        let (s, _) = combine(LlmRecall, RD, rule(0.0), Some(&verdict(Some(1.0)))).unwrap();
        assert_eq!(acc(&s), 1.0);
        let (s, _) = combine(LlmRecall, RD, rule(0.5), Some(&verdict(Some(0.0)))).unwrap();
        assert_eq!(acc(&s), 0.5, "max(rule, judge)");
        let (s, j) = combine(LlmRecall, RD, rule(0.0), Some(&verdict(None))).unwrap();
        assert_eq!((acc(&s), j.unwrap().status), (0.0, ScoreStatus::Fallback));
    }

    #[test]
    fn a_judge_only_benchmark_with_no_verdict_is_excluded_not_zero() {
        let (s, j) = combine(
            Llm,
            ScoringPolicy::JudgeOnly,
            rule(0.0),
            Some(&verdict(None)),
        )
        .unwrap();
        assert!(s.values.is_empty());
        assert_eq!(j.unwrap().status, ScoreStatus::Excluded);
    }
}
