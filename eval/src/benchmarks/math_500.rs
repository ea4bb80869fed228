//! MATH-500 (`HuggingFaceH4/MATH-500` / PRM800K JSONL: `problem`, `solution`, `answer`, `subject`,
//! `level`, `unique_id`).
//!
//! One file split into subsets `Level 1`..`Level 5` by `level`, `limit` applying per level.
//! Gold: `answer`. Extraction: the math `extract_answer`; score:
//! `evalscope_score(pred, gold)` (EvalScope 1.14.1's `compare_answers`, Math-Verify).

use serde_json::Value;

use super::source::{eval_files, read_all};
use super::template::render;
use super::{
    SampleParts, by_subset, math_score, messages, metadata, select_subsets, zero_shot_only,
};
use crate::sample::{Benchmark, BenchmarkMeta, DatasetArgs, EvalError, Sample, Score};

const NAME: &str = "math_500";

/// EvalScope's prompt.
pub const PROMPT_TEMPLATE: &str =
    "{question}\nPlease reason step by step, and put your final answer within \\boxed{{}}.";

/// MATH-500.
#[derive(Debug, Clone, Copy, Default)]
pub struct Math500;

fn all_subsets() -> Vec<String> {
    (1..=5).map(|l| format!("Level {l}")).collect()
}

impl Benchmark for Math500 {
    fn meta(&self) -> BenchmarkMeta {
        BenchmarkMeta {
            name: NAME,
            pretty_name: "MATH-500",
            task_type: "math",
            metrics: vec!["acc"],
            subsets: all_subsets(),
            few_shot_num: 0,
            eval_split: "test",
            train_split: "",
        }
    }

    fn load(&self, args: &DatasetArgs) -> Result<Vec<Sample>, EvalError> {
        zero_shot_only(NAME, args)?;
        let subsets = select_subsets(NAME, &all_subsets(), args)?;
        let files = eval_files(
            NAME,
            args,
            &["test.jsonl"],
            &[".jsonl"],
            "MATH-500 JSONL (problem, answer, level)",
        )?;
        let mut items = Vec::new();
        for r in read_all(NAME, &files)? {
            let level = r.text("level")?;
            let subset = if level.starts_with("Level ") {
                level
            } else {
                format!("Level {level}")
            };
            let problem = r.str("problem")?.to_owned();
            let answer = r.text("answer")?;
            let meta = metadata([
                (
                    "question_id",
                    r.get("unique_id").cloned().unwrap_or(Value::Null),
                ),
                (
                    "solution",
                    r.get("solution").cloned().unwrap_or(Value::Null),
                ),
            ]);
            items.push((subset, (problem, answer, meta)));
        }
        let mut out = Vec::new();
        for (subset, records) in by_subset(&subsets, items, args.limit) {
            for (index, (problem, gold, meta)) in records.into_iter().enumerate() {
                out.push(
                    SampleParts {
                        benchmark: NAME,
                        subset: subset.clone(),
                        index,
                        messages: messages(
                            NAME,
                            render(PROMPT_TEMPLATE, &[("question", &problem)]),
                            args,
                        )?,
                        gold,
                        choices: Vec::new(),
                        metadata: meta,
                    }
                    .build(),
                );
            }
        }
        Ok(out)
    }

    fn extract(&self, completion: &str, _sample: &Sample) -> String {
        crate::math::extract_answer(completion)
    }

    fn score(&self, extracted: &str, sample: &Sample) -> Score {
        math_score(extracted, &sample.gold)
    }
}
