//! AIME 2024 and AIME 2025 (JSONL: `problem` (or `question`), `answer` (string or integer),
//! optional `solution`, `id`).
//!
//! Gold: `answer`, or `solution` when the answer is empty. Extraction: the math
//! `extract_answer`; score: `evalscope_score(pred, gold)` (EvalScope's `acc` with
//! `numeric: true`, so "023" and "23" agree).

use super::source::{eval_files, read_all};
use super::template::render;
use super::{
    SampleParts, by_subset, math_score, messages, metadata, select_subsets, zero_shot_only,
};
use crate::sample::{Benchmark, BenchmarkMeta, DatasetArgs, EvalError, Sample, Score};

const SUBSET: &str = "default";

/// EvalScope's prompt (it starts with a newline).
pub const PROMPT_TEMPLATE: &str = "\nSolve the following math problem step by step. Put your answer inside \\boxed{{}}.\n\n{question}\n\nRemember to put your answer inside \\boxed{{}}.";

/// An AIME year.
#[derive(Debug, Clone, Copy)]
pub struct Aime {
    name: &'static str,
    pretty_name: &'static str,
}

/// AIME 2024.
pub const AIME24: Aime = Aime {
    name: "aime24",
    pretty_name: "AIME-2024",
};

/// AIME 2025.
pub const AIME25: Aime = Aime {
    name: "aime25",
    pretty_name: "AIME-2025",
};

impl Benchmark for Aime {
    /// EvalScope's AIME judge: "are these two expressions equivalent", Yes or No.
    fn judge_kind(&self) -> crate::judge::JudgeKind {
        crate::judge::JudgeKind::Equivalence
    }

    fn meta(&self) -> BenchmarkMeta {
        BenchmarkMeta {
            name: self.name,
            pretty_name: self.pretty_name,
            task_type: "math",
            metrics: vec!["acc"],
            subsets: vec![SUBSET.to_owned()],
            few_shot_num: 0,
            eval_split: "test",
            train_split: "",
        }
    }

    fn load(&self, args: &DatasetArgs) -> Result<Vec<Sample>, EvalError> {
        zero_shot_only(self.name, args)?;
        let subsets = select_subsets(self.name, &[SUBSET.to_owned()], args)?;
        let files = eval_files(
            self.name,
            args,
            &["test.jsonl"],
            &[".jsonl"],
            "AIME JSONL (problem, answer)",
        )?;
        let mut items = Vec::new();
        for r in read_all(self.name, &files)? {
            let problem = if r.get("problem").is_some() {
                r.str("problem")?
            } else {
                r.str("question").map_err(|_| r.bad("problem", "missing"))?
            }
            .to_owned();
            let answer = r.opt_text("answer")?.filter(|a| !a.is_empty());
            let gold = match answer {
                Some(a) => a,
                None => r
                    .opt_text("solution")?
                    .filter(|s| !s.is_empty())
                    .ok_or_else(|| r.bad("answer", "missing (and no solution)"))?,
            };
            let mut meta = metadata([]);
            if let Some(id) = r.get("id") {
                meta.insert("problem_id".to_owned(), id.clone());
            }
            if let Some(solution) = r.get("solution") {
                meta.insert("solution".to_owned(), solution.clone());
            }
            items.push((SUBSET.to_owned(), (problem, gold, meta)));
        }
        let mut out = Vec::new();
        for (subset, records) in by_subset(&subsets, items, args.limit) {
            for (index, (problem, gold, meta)) in records.into_iter().enumerate() {
                out.push(
                    SampleParts {
                        benchmark: self.name,
                        subset: subset.clone(),
                        index,
                        messages: messages(
                            self.name,
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
