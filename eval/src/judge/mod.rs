//! LLM-as-judge, as EvalScope 1.14.1 does it: which samples a judge scores (`judge_strategy`
//! against a benchmark's scoring policy), the judge's prompt ([`prompt`]), reading its reply
//! ([`parse`]) and folding its verdict into the rule score ([`combine`]).
//!
//! No sockets here: whoever holds an endpoint client (the agent's eval shard, the coordinator's
//! rescore) sends [`prompt::request`]'s messages to [`JudgeSpec::target`] and hands each reply
//! to [`parse::parse`]; [`combine::review`] and [`combine::combine`] do the rest. A benchmark
//! picks its judge question with [`crate::Benchmark::judge_kind`] and its policy with
//! [`crate::Benchmark::scoring_policy`].

pub mod args;
pub mod combine;
pub mod parse;
pub mod prompt;
pub mod summary;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use swarm_common::shard::{GenParams, TargetSpec};

pub use args::JudgeModelArgs;
pub use combine::{JudgeAttempt, JudgeReview, Judgement};

/// EvalScope's `judge_strategy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JudgeStrategy {
    /// The benchmark's policy decides (rule for rule-default benchmarks).
    #[default]
    Auto,
    /// Rule scoring only: the judge is never called.
    Rule,
    /// The judge scores every sample (the rule score stands only when the judge fails).
    Llm,
    /// Rule first; the judge only for samples the rule did not score correct, and it may only
    /// raise the score.
    LlmRecall,
}

impl JudgeStrategy {
    /// The name EvalScope spells.
    pub fn name(self) -> &'static str {
        match self {
            JudgeStrategy::Auto => "auto",
            JudgeStrategy::Rule => "rule",
            JudgeStrategy::Llm => "llm",
            JudgeStrategy::LlmRecall => "llm_recall",
        }
    }
}

impl std::str::FromStr for JudgeStrategy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(JudgeStrategy::Auto),
            "rule" => Ok(JudgeStrategy::Rule),
            "llm" => Ok(JudgeStrategy::Llm),
            "llm_recall" => Ok(JudgeStrategy::LlmRecall),
            other => Err(format!(
                "unknown judge strategy {other:?}; expected auto, rule, llm or llm_recall"
            )),
        }
    }
}

/// What a benchmark's rule and judge paths can do (EvalScope's `ScoringPolicy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ScoringPolicy {
    /// A usable rule path; `auto` scores by rule.
    #[default]
    RuleDefault,
    /// A usable rule path, but `auto` scores with the judge.
    JudgeDefault,
    /// No usable rule path.
    JudgeOnly,
}

impl ScoringPolicy {
    /// Whether rule scoring means anything.
    pub fn rule_supported(self) -> bool {
        self != ScoringPolicy::JudgeOnly
    }
    /// Whether `auto` uses the judge.
    pub fn judge_by_default(self) -> bool {
        self != ScoringPolicy::RuleDefault
    }
}

/// EvalScope's `use_llm_judge`: whether `strategy` scores a benchmark of `policy` with the judge
/// (for `llm_recall`, on the samples the rule did not score correct).
pub fn uses_judge(strategy: JudgeStrategy, policy: ScoringPolicy) -> bool {
    match strategy {
        JudgeStrategy::Rule => false,
        JudgeStrategy::Llm | JudgeStrategy::LlmRecall => true,
        JudgeStrategy::Auto => policy.judge_by_default(),
    }
}

/// EvalScope's `validate_judge_strategy`: a strategy the benchmark cannot honour, or a judge
/// strategy without a judge, is refused before any request.
pub fn validate(
    benchmark: &str,
    strategy: JudgeStrategy,
    policy: ScoringPolicy,
    has_judge: bool,
) -> Result<(), String> {
    if matches!(strategy, JudgeStrategy::Rule | JudgeStrategy::LlmRecall)
        && !policy.rule_supported()
    {
        return Err(format!(
            "benchmark {benchmark:?} has no usable rule-based scoring, so judge_strategy={:?} cannot produce a meaningful score; use auto or llm with --judge-model-args",
            strategy.name()
        ));
    }
    if uses_judge(strategy, policy) && !has_judge {
        return Err(format!(
            "benchmark {benchmark:?} scores with an LLM judge under judge_strategy={:?}, so --judge-model-args (judge_model_args) must be given",
            strategy.name()
        ));
    }
    Ok(())
}

/// EvalScope's `score_type`: grade against the reference with a label, or rate 0..1 without one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScoreType {
    /// One of `score_mapping`'s labels (default `A`: correct, `B`: incorrect).
    #[default]
    Pattern,
    /// A number in [0, 1].
    Numeric,
}

/// The judge's question (EvalScope's `JudgeContractConfig`): shared by every judged sample.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JudgeContract {
    /// A system message before the prompt.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system_prompt: Option<String>,
    /// The prompt, with `{question}`, `{gold}` and `{pred}` (EvalScope's default when None).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt_template: Option<String>,
    /// Verdict label → score (`{"A": 1.0, "B": 0.0}` when None).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score_mapping: Option<BTreeMap<String, f64>>,
    /// Pattern or numeric.
    pub score_type: ScoreType,
}

impl JudgeContract {
    /// The labels and their scores (EvalScope's default `{"A": 1.0, "B": 0.0}`).
    pub fn mapping(&self) -> BTreeMap<String, f64> {
        self.score_mapping
            .clone()
            .unwrap_or_else(|| BTreeMap::from([("A".to_owned(), 1.0), ("B".to_owned(), 0.0)]))
    }
}

/// Which judge question a benchmark asks (EvalScope's adapters' `judge_definition`).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum JudgeKind {
    /// The generic single verdict of [`JudgeContract`] (EvalScope's `LLMJudgeMixin`).
    #[default]
    Generic,
    /// AIME's "are these two expressions equivalent" (`Yes`/`No`, metric `acc`).
    Equivalence,
    /// A benchmark's own rating question (e.g. [`prompt::ORM_SCALE_10`], needle_haystack's).
    Custom(&'static CustomJudge),
}

/// A benchmark's own judge question whose reply is a rating: `{"reasoning": str = "",
/// "verdict": number in [0, scale]}`, scored `verdict / scale` as metric `acc`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CustomJudge {
    /// The case's name in the review (`judge_attempts[].case_id`).
    pub case_id: &'static str,
    /// A system message first, when given.
    pub system_prompt: Option<&'static str>,
    /// A Python `str.format` template with `{question}`, `{gold}`, `{pred}` (`{{`/`}}` for
    /// braces); the reply instruction is appended.
    pub template: &'static str,
    /// `{pred}` is the filtered prediction (what the extractor kept) rather than the completion.
    pub filtered_prediction: bool,
    /// The rating's upper bound.
    pub scale: f64,
}

/// The judge as it travels to agents inside an eval shard spec.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JudgeSpec {
    /// The strategy of the run.
    pub strategy: JudgeStrategy,
    /// The judge's name in reviews (`judge_id`, else its `model_id`).
    pub judge_id: String,
    /// The judge's endpoint: url, model, API key (a `Secret`, redacted in every file).
    pub target: TargetSpec,
    /// The judge's generation config (EvalScope's default `temperature: 0, max_tokens: 4096`).
    pub gen_params: GenParams,
    /// The judge's question.
    #[serde(default)]
    pub contract: JudgeContract,
}

impl JudgeSpec {
    /// This spec with its API key redacted (for anything written to a file or log).
    pub fn redacted(&self) -> JudgeSpec {
        JudgeSpec {
            target: self.target.redacted(),
            ..self.clone()
        }
    }
}

/// How often a judge request is tried when the transport fails (the judge's reply itself is
/// never asked again: a reply that breaks the contract is a `parse_error`).
pub const MAX_ATTEMPTS: u32 = 3;

/// EvalScope's `ScoreStatus`: whether a score is usable, and why not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScoreStatus {
    /// Scored.
    Success,
    /// The request failed.
    TransportError,
    /// The reply did not satisfy the output contract.
    ParseError,
    /// A judge session produced no usable verdict for a case.
    InvalidSession,
    /// The rule score stands because the judge gave no verdict (`llm_recall`).
    Fallback,
    /// The rule score stands because the judge gave no verdict (`llm`, `auto`).
    Degraded,
    /// No usable score.
    Excluded,
}

impl ScoreStatus {
    /// Whether the score may enter aggregation.
    pub fn is_usable(self) -> bool {
        matches!(
            self,
            ScoreStatus::Success | ScoreStatus::Fallback | ScoreStatus::Degraded
        )
    }
    /// The name EvalScope spells.
    pub fn name(self) -> &'static str {
        match self {
            ScoreStatus::Success => "success",
            ScoreStatus::TransportError => "transport_error",
            ScoreStatus::ParseError => "parse_error",
            ScoreStatus::InvalidSession => "invalid_session",
            ScoreStatus::Fallback => "fallback",
            ScoreStatus::Degraded => "degraded",
            ScoreStatus::Excluded => "excluded",
        }
    }
}

#[cfg(test)]
mod tests;
