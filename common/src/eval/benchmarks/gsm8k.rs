//! GSM8K (`openai/gsm8k` JSONL: `question`, `answer` ending in `#### <number>`).
//!
//! Gold: the text after the last `####`, stripped; the reasoning before it is metadata (and the
//! few-shot example body). Prompt: EvalScope's zero-shot template, or with `few_shot_num` the
//! first N records of the train split as worked examples. Extraction: the math
//! `extract_answer`; score: `math_equal(pred, strip_answer_string(gold))`.

use serde_json::Value;

use super::source::{eval_files, few_shot_files, read_all};
use super::template::render;
use super::{
    SampleParts, by_subset, few_shot_num, math_score, messages, metadata, no_few_shot_data,
    select_subsets,
};
use crate::eval::mc::py_strip;
use crate::eval::sample::{Benchmark, BenchmarkMeta, DatasetArgs, EvalError, Sample, Score};

const NAME: &str = "gsm8k";
const SUBSET: &str = "main";

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
            few_shot_num: 0,
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
        let shots = few_shot_num(args);
        let few_shot = if shots > 0 {
            let Some(files) = few_shot_files(NAME, args, &["train.jsonl"], &[".jsonl"])? else {
                return Err(no_few_shot_data(NAME, shots, "train.jsonl"));
            };
            let mut examples = Vec::with_capacity(shots);
            for r in read_all(NAME, &files)?.iter().take(shots) {
                let (target, reasoning) = split_answer(r.str("answer")?);
                examples.push(few_shot_example(r.str("question")?, &reasoning, &target));
            }
            Some(examples.join("\n\n"))
        } else {
            None
        };

        let mut items = Vec::new();
        for r in read_all(NAME, &files)? {
            let question = r.str("question")?.to_owned();
            let (gold, reasoning) = split_answer(r.str("answer")?);
            items.push((SUBSET.to_owned(), (question, gold, reasoning)));
        }
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
        crate::eval::math::extract_answer(completion)
    }

    fn score(&self, extracted: &str, sample: &Sample) -> Score {
        math_score(extracted, &sample.gold)
    }
}
