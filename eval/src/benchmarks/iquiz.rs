//! IQuiz (`AI-ModelScope/IQuiz` JSONL: `question`, `choices`, `answer` (a letter), `level`; the
//! subset `IQ` or `EQ` from a `subset` field, else the file name (`IQ.jsonl`, `EQ/test.jsonl`)).
//!
//! Prompt: EvalScope's Chinese chain-of-thought template. Extraction: `parse_answers_zh`
//! (single answer); score: exact letter match.

use std::path::Path;

use serde_json::Value;

use super::mc_samples::{self, Question};
use super::source::{Record, eval_files, read_records};
use super::{
    acc_score, exact_match, mark_parser, mc_parser, metadata, select_subsets, zero_shot_only,
};
use crate::mc::{self, py_strip};
use crate::sample::{Benchmark, BenchmarkMeta, DatasetArgs, EvalError, Sample, Score};

const NAME: &str = "iquiz";

/// IQuiz.
#[derive(Debug, Clone, Copy, Default)]
pub struct IQuiz;

fn all_subsets() -> Vec<String> {
    vec!["IQ".to_owned(), "EQ".to_owned()]
}

/// The subset a file stands for when its records carry none: `IQ.jsonl`, `iq_test.jsonl`,
/// `EQ/test.jsonl`.
fn subset_from_path(path: &Path) -> Option<String> {
    let parts = [
        path.file_stem().map(|s| s.to_string_lossy().into_owned()),
        path.parent()
            .and_then(Path::file_name)
            .map(|s| s.to_string_lossy().into_owned()),
    ];
    for part in parts.into_iter().flatten() {
        let upper = part.to_uppercase();
        for subset in ["IQ", "EQ"] {
            if upper == subset
                || upper.starts_with(&format!("{subset}_"))
                || upper.starts_with(&format!("{subset}-"))
            {
                return Some(subset.to_owned());
            }
        }
    }
    None
}

fn subset_of(r: &Record) -> Result<String, EvalError> {
    match r.opt_text("subset")? {
        Some(s) => Ok(s),
        None => subset_from_path(&r.path).ok_or_else(|| {
            r.bad(
                "subset",
                "missing, and the file name names neither IQ nor EQ",
            )
        }),
    }
}

impl Benchmark for IQuiz {
    fn meta(&self) -> BenchmarkMeta {
        BenchmarkMeta {
            name: NAME,
            pretty_name: "IQuiz",
            task_type: "knowledge",
            metrics: vec!["acc"],
            subsets: all_subsets(),
            few_shot_num: 0,
            eval_split: "test",
            train_split: "",
        }
    }

    fn load(&self, args: &DatasetArgs) -> Result<Vec<Sample>, EvalError> {
        let parser = mc_parser(NAME, args)?;
        zero_shot_only(NAME, args)?;
        let subsets = select_subsets(NAME, &all_subsets(), args)?;
        let files = eval_files(
            NAME,
            args,
            &[],
            &[".jsonl"],
            "IQuiz JSONL (question, choices, answer)",
        )?;
        let mut items = Vec::new();
        for file in &files {
            for r in read_records(NAME, file)? {
                let subset = subset_of(&r)?;
                let question = r.str("question")?.to_owned();
                let choices = r.str_list("choices")?;
                let answer = py_strip(r.str("answer")?).to_owned();
                if !mc::allowed_options(choices.len()).contains(&answer) {
                    return Err(r.bad(
                        "answer",
                        format!(
                            "{answer:?} is not the label of one of the {} choices",
                            choices.len()
                        ),
                    ));
                }
                let mut meta =
                    metadata([("level", r.get("level").cloned().unwrap_or(Value::Null))]);
                mark_parser(parser, &mut meta);
                items.push((
                    subset,
                    Question {
                        question,
                        choices,
                        gold: answer,
                        metadata: meta,
                    },
                ));
            }
        }
        mc_samples::zero_shot(
            NAME,
            mc::CHINESE_SINGLE_ANSWER_TEMPLATE_COT,
            &subsets,
            items,
            args,
        )
    }

    fn extract(&self, completion: &str, sample: &Sample) -> String {
        mc_samples::extract_single_zh(completion, sample)
    }

    fn score(&self, extracted: &str, sample: &Sample) -> Score {
        acc_score(extracted, exact_match(extracted, &sample.gold))
    }
}
