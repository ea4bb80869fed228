//! GSM8K (`openai/gsm8k` JSONL: `question`, `answer` ending in `#### <number>`).
//!
//! Gold: the text after the last `####`, stripped; the reasoning before it is metadata (and the
//! few-shot example body). Prompt: as EvalScope, 4-shot by default: the first N records of the
//! train split (`train.jsonl` beside the test file) as worked examples before the question;
//! `few_shot_num: 0` gives the zero-shot template. Extraction: the math `extract_answer`;
//! score: `evalscope_score(pred, gold)` (EvalScope 1.14.1's `compare_answers`, Math-Verify).

use serde_json::Value;

use super::source::{FewShotSplit, eval_files, few_shot_files, read_all, without_split};
use super::template::render;
use super::{
    SampleParts, by_subset, enough_examples, few_shot_num, math_score, messages, metadata,
    select_subsets,
};
use crate::mc::py_strip;
use crate::sample::{Benchmark, BenchmarkMeta, DatasetArgs, EvalError, Sample, Score};

const NAME: &str = "gsm8k";
const SUBSET: &str = "main";

/// EvalScope's default few-shot count.
pub const FEW_SHOT_NUM: u32 = 4;

/// The split the few-shot examples come from, as a local copy of the dataset names it.
pub const TRAIN_SPLIT: FewShotSplit<'static> = FewShotSplit {
    split: "train",
    names: &["train.jsonl"],
    extensions: &[".jsonl"],
};

/// EvalScope's zero-shot prompt.
pub const PROMPT_TEMPLATE: &str =
    "{question}\nPlease reason step by step, and put your final answer within \\boxed{{}}.";

/// EvalScope's few-shot prompt (`{fewshot}`: the examples joined by blank lines).
pub const FEW_SHOT_TEMPLATE: &str = "Here are some examples of how to solve similar problems:\n\n{fewshot}\n\n{question}\nPlease reason step by step, and put your final answer within \\boxed{{}}.";

/// GSM8K.
#[derive(Debug, Clone, Copy, Default)]
pub struct Gsm8k;

/// Splits a GSM8K answer into (gold, reasoning) at the last `####`.
pub fn split_answer(answer: &str) -> (String, String) {
    match answer.rsplit_once("####") {
        Some((reasoning, target)) => (py_strip(target).to_owned(), py_strip(reasoning).to_owned()),
        None => (py_strip(answer).to_owned(), String::new()),
    }
}

/// One worked example of the few-shot prompt.
pub fn few_shot_example(question: &str, reasoning: &str, target: &str) -> String {
    format!("{question}\n\nReasoning:\n{reasoning}\n\nANSWER: \\boxed{{{target}}}")
}

impl Benchmark for Gsm8k {
    fn meta(&self) -> BenchmarkMeta {
        BenchmarkMeta {
            name: NAME,
            pretty_name: "GSM8K",
            task_type: "math",
            metrics: vec!["acc"],
            subsets: vec![SUBSET.to_owned()],
            few_shot_num: FEW_SHOT_NUM,
            eval_split: "test",
            train_split: TRAIN_SPLIT.split,
        }
    }

    fn load(&self, args: &DatasetArgs) -> Result<Vec<Sample>, EvalError> {
        let subsets = select_subsets(NAME, &[SUBSET.to_owned()], args)?;
        let files = eval_files(
            NAME,
            args,
            &["test.jsonl"],
            &[".jsonl"],
            "GSM8K JSONL (question, answer)",
        )?;
        let files = without_split(args, files, TRAIN_SPLIT);
        let mut items = Vec::new();
        for r in read_all(NAME, &files)? {
            let question = r.str("question")?.to_owned();
            let (gold, reasoning) = split_answer(r.str("answer")?);
            items.push((SUBSET.to_owned(), (question, gold, reasoning)));
        }
        let shots = few_shot_num(args, FEW_SHOT_NUM);
        let few_shot = if shots > 0 {
            let files = few_shot_files(NAME, args, shots, TRAIN_SPLIT)?;
            let mut examples = Vec::new();
            for r in read_all(NAME, &files)?.iter().take(shots) {
                let (target, reasoning) = split_answer(r.str("answer")?);
                examples.push(few_shot_example(r.str("question")?, &reasoning, &target));
            }
            let examples = enough_examples(NAME, args, SUBSET, TRAIN_SPLIT.split, shots, examples)?;
            Some(examples.join("\n\n"))
        } else {
            None
        };
        let mut out = Vec::new();
        for (subset, records) in by_subset(&subsets, items, args.limit) {
            for (index, (question, gold, reasoning)) in records.into_iter().enumerate() {
                let prompt = match &few_shot {
                    Some(fewshot) => render(
                        FEW_SHOT_TEMPLATE,
                        &[("fewshot", fewshot), ("question", &question)],
                    ),
                    None => render(PROMPT_TEMPLATE, &[("question", &question)]),
                };
                out.push(
                    SampleParts {
                        benchmark: NAME,
                        subset: subset.clone(),
                        index,
                        messages: messages(NAME, prompt, args)?,
                        gold,
                        choices: Vec::new(),
                        metadata: metadata([("reasoning", Value::String(reasoning))]),
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
