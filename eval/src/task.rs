//! An eval shard: a batch of samples an agent generates and scores, and what it sends back for
//! each (sample, repeat): the prediction, the extracted answer and its scores.

use serde::{Deserialize, Serialize};

use super::exec::ScoreContext;
use super::filters::FilterChain;
use super::sample::{Benchmark, DatasetArgs, EvalError, Sample, Score};
use swarm_common::shard::{GenParams, TargetSpec};

/// One batch of samples of one benchmark, leased to one agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalShardSpec {
    /// Unique within the run.
    pub shard_id: String,
    /// Benchmark name (scoring happens on the agent).
    pub benchmark: String,
    /// The benchmark's arguments (filters matter on the agent).
    pub args: DatasetArgs,
    /// The endpoint.
    pub target: TargetSpec,
    /// Generation config (max_tokens, temperature, `extra` carries `chat_template_kwargs`, n, seed...).
    pub gen_params: GenParams,
    /// The samples, with the repeat index of each.
    pub items: Vec<(Sample, u32)>,
    /// Requests in flight at once.
    pub concurrency: u32,
    /// The LLM judge and its strategy (None: rule scoring only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub judge: Option<crate::judge::JudgeSpec>,
}

/// What an agent reports for one (sample, repeat).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// Benchmark name.
    pub benchmark: String,
    /// Subset.
    pub subset: String,
    /// Sample id.
    pub sample_id: String,
    /// Repeat index (0-based).
    pub repeat: u32,
    /// The answer content as generated.
    pub completion: String,
    /// Reasoning returned separately by the server (`reasoning_content`).
    pub reasoning: String,
    /// What the extractor took from the filtered completion.
    pub extracted: String,
    /// Scores.
    pub score: Score,
    /// Prompt tokens.
    pub prompt_tokens: u32,
    /// Completion tokens.
    pub completion_tokens: u32,
    /// Reasoning tokens.
    pub reasoning_tokens: u32,
    /// End-to-end latency, microseconds.
    pub latency_us: u64,
    /// Time to the first chunk carrying text, microseconds: streamed requests only (as
    /// EvalScope measures TTFT only when streaming).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttft_us: Option<u64>,
    /// Why generation failed (the prediction then scores 0 and is retried on resume).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// How an LLM judge took part in the score (None: rule scoring only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub judge: Option<crate::judge::Judgement>,
}

impl Prediction {
    /// The storage key: one prediction per (sample, repeat).
    pub fn key(&self) -> (String, u32) {
        (self.sample_id.clone(), self.repeat)
    }
}

/// Filters a completion, extracts the answer and scores it.
pub fn score(
    benchmark: &dyn Benchmark,
    filters: &FilterChain,
    sample: &Sample,
    completion: &str,
) -> (String, Score) {
    score_in(
        benchmark,
        filters,
        sample,
        completion,
        &ScoreContext::default(),
    )
}

/// [`score`] with a scoring context (a code runner for code benchmarks). Blocks while code runs.
pub fn score_in(
    benchmark: &dyn Benchmark,
    filters: &FilterChain,
    sample: &Sample,
    completion: &str,
    ctx: &ScoreContext<'_>,
) -> (String, Score) {
    let filtered = filters.apply(completion);
    let extracted = benchmark.extract(&filtered, sample);
    let score = benchmark.score_in(&extracted, sample, ctx);
    (extracted, score)
}

/// The filter chain of `args` for `benchmark` (checked). A collection's chain is empty: each
/// of its samples carries its own dataset's filters, which `data_collection` applies itself
/// (see [`super::collection::line_args`]).
pub fn filters(benchmark: &str, args: &DatasetArgs) -> Result<FilterChain, EvalError> {
    let chain = FilterChain::from_args(benchmark, &args.filters)?;
    if benchmark == super::collection::NAME {
        return Ok(FilterChain::default());
    }
    Ok(chain)
}

/// Sets `p`'s score to the rule's `(extracted, rule)` combined, under `strategy`, with the judge
/// review `p` already carries (see [`crate::judge::combine::combine`]): how the coordinator
/// re-scores a prediction without asking the judge again. Fails when the strategy needs a
/// verdict `p` does not carry.
pub fn keep_judgement(
    p: &mut Prediction,
    strategy: crate::judge::JudgeStrategy,
    policy: crate::judge::ScoringPolicy,
    (extracted, rule): (String, Score),
) -> Result<(), crate::judge::combine::MissingVerdict> {
    let review = p.judge.as_ref().and_then(|j| j.review.as_ref());
    let (score, judgement) = crate::judge::combine::combine(strategy, policy, rule, review)?;
    p.extracted = extracted;
    p.score = score;
    p.judge = judgement;
    Ok(())
}
