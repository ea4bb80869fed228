//! Thinking efficiency (EvalScope's think-eval, `third_party/thinkbench`): how much of a
//! reasoning model's thinking comes before it first reaches the correct answer.
//!
//! Per sample: the reasoning text ([`split::think_part`]) is cut into steps
//! ([`split::split_steps`]; with the `llm` strategy after a judge reformats it into paragraphs,
//! [`reformat`]); the first step holding the correct answer is located, by a judge
//! model ([`locate::judge_prompt`], [`locate::parse_judge_index`]) or judge-free with the math
//! scorer ([`locate::first_correct_step`]); token counts give the [`metrics`]: reasoning tokens
//! T, first-correct tokens T̂, reflection T − T̂, efficiency T̂/T, thought count, accuracy, then
//! averaged per subset (difficulty level).

pub mod locate;
pub mod metrics;
pub mod reformat;
pub mod split;

pub use locate::{FirstCorrectMode, first_correct_step, first_correct_text};
pub use metrics::{METRICS, SampleMetrics, ThinkResults, by_level, display, title};
pub use split::{SWITCH_TOKENS, SplitStrategy, split_steps, think_part, thought_num};
