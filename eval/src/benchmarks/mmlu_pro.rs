//! MMLU-Pro (`TIGER-Lab/MMLU-Pro` JSONL: `question_id`, `question`, `options` (3–10), `answer`
//! (a letter), `answer_index`, `cot_content`, `category`, `src`).
//!
//! One file split into the 14 categories (`category`, lowercased), `limit` applying per
//! category. Prompt: EvalScope's template, 5-shot by default: the first N records of the same
//! category in the validation split (`validation.jsonl` beside the test file) as worked
//! examples (their `cot_content` ending in `ANSWER: X`); `few_shot_num: 0` gives the zero-shot
//! prompt.
//! Extraction: `parse_answers` (single answer); score: exact letter match.

use serde_json::Value;

use super::mc_samples;
use super::source::{FewShotSplit, Record, eval_files, few_shot_files, read_all, without_split};
use super::template::render;
use super::{
    SampleParts, acc_score, by_subset, enough_examples, exact_match, few_shot_num, mark_parser,
    mc_parser, messages, metadata, select_subsets,
};
use crate::mc::{self, answer_character};
use crate::sample::{Benchmark, BenchmarkMeta, DatasetArgs, EvalError, Sample, Score};

const NAME: &str = "mmlu_pro";

/// EvalScope's default few-shot count.
pub const FEW_SHOT_NUM: u32 = 5;

/// The split the few-shot examples come from, as a local copy of the dataset names it.
pub const TRAIN_SPLIT: FewShotSplit<'static> = FewShotSplit {
    split: "validation",
    names: &["validation.jsonl"],
    extensions: &[".jsonl"],
};

/// The 14 categories, in EvalScope's order.
pub const SUBSETS: [&str; 14] = [
    "computer science",
    "math",
    "chemistry",
    "engineering",
    "law",
    "biology",
    "health",
    "physics",
    "business",
    "philosophy",
    "economics",
    "other",
    "psychology",
    "history",
];

/// EvalScope's user prompt.
pub const PROMPT_TEMPLATE: &str = "Answer the following multiple choice question. The last line of your response should be of the following format: 'ANSWER: [LETTER]' (without quotes) where [LETTER] is one of {letters}. Think step by step before answering.\n\nQuestion:\n{question}\nOptions:\n{choices}\n";

/// EvalScope's few-shot preamble (followed by a newline and the user prompt).
pub const FEW_SHOT_PREAMBLE: &str = "The following are multiple choice questions (with answers) about {subject}. Think step by step and then finish your answer with 'ANSWER: [LETTER]' (without quotes) where [LETTER] is the correct letter choice.\n\n{examples}\n";

/// MMLU-Pro.
#[derive(Debug, Clone, Copy, Default)]
pub struct MmluPro;

struct Question {
    question: String,
    options: Vec<String>,
    answer: String,
    cot_content: String,
    subject: String,
    question_id: Value,
}

fn parse(r: &Record) -> Result<Question, EvalError> {
    let question = r.str("question")?.to_owned();
    let options = r.str_list("options")?;
    if options.is_empty() {
        return Err(r.bad("options", "empty"));
    }
    let answer = match r.opt_text("answer")? {
        Some(a) => a.trim().to_owned(),
        None => {
            let i = r.int("answer_index")?;
            usize::try_from(i)
                .map(answer_character)
                .map_err(|_| r.bad("answer_index", format!("{i} is negative")))?
        }
    };
    if !mc::allowed_options(options.len()).contains(&answer) {
        return Err(r.bad(
            "answer",
            format!(
                "{answer:?} is not the label of one of the {} options",
                options.len()
            ),
        ));
    }
    Ok(Question {
        question,
        options,
        answer,
        cot_content: r.opt_text("cot_content")?.unwrap_or_default(),
        subject: r.str("category")?.to_lowercase(),
        question_id: r.get("question_id").cloned().unwrap_or(Value::Null),
    })
}

/// One worked example (EvalScope's `sample_to_fewshot`).
fn few_shot_example(q: &Question) -> String {
    let options: Vec<String> = q
        .options
        .iter()
        .enumerate()
        .map(|(i, o)| format!("{} {o}", answer_character(i)))
        .collect();
    let answer = q.cot_content.replace("The answer is", "ANSWER:");
    let tail = answer.rsplit("ANSWER:").next().unwrap_or_default();
    let option = tail.split('.').next().unwrap_or_default();
    let option = crate::mc::py_strip(option)
        .trim_matches('(')
        .trim_matches(')');
    let answer = answer.replace(&format!("ANSWER: ({option})"), &format!("ANSWER: {option}"));
    format!(
        "Question:\n{}\nOptions:\n{}\n{answer}",
        q.question,
        options.join("\n")
    )
}

impl Benchmark for MmluPro {
    fn meta(&self) -> BenchmarkMeta {
        BenchmarkMeta {
            name: NAME,
            pretty_name: "MMLU-Pro",
            task_type: "knowledge",
            metrics: vec!["acc"],
            subsets: SUBSETS.iter().map(|s| (*s).to_owned()).collect(),
            few_shot_num: FEW_SHOT_NUM,
            eval_split: "test",
            train_split: TRAIN_SPLIT.split,
        }
    }

    fn load(&self, args: &DatasetArgs) -> Result<Vec<Sample>, EvalError> {
        let parser = mc_parser(NAME, args)?;
        let all: Vec<String> = SUBSETS.iter().map(|s| (*s).to_owned()).collect();
        let subsets = select_subsets(NAME, &all, args)?;
        let files = eval_files(
            NAME,
            args,
            &["test.jsonl"],
            &[".jsonl"],
            "MMLU-Pro JSONL (question, options, answer, category)",
        )?;
        let files = without_split(args, files, TRAIN_SPLIT);
        let mut items = Vec::new();
        for r in read_all(NAME, &files)? {
            let q = parse(&r)?;
            items.push((q.subject.clone(), q));
        }
        let shots = few_shot_num(args, FEW_SHOT_NUM);
        let mut examples: Vec<Question> = Vec::new();
        if shots > 0 {
            let files = few_shot_files(NAME, args, shots, TRAIN_SPLIT)?;
            for r in read_all(NAME, &files)? {
                examples.push(parse(&r)?);
            }
        }
        let mut out = Vec::new();
        for (subset, records) in by_subset(&subsets, items, args.limit) {
            let fewshot = if shots > 0 && !records.is_empty() {
                let chosen: Vec<String> = examples
                    .iter()
                    .filter(|e| e.subject == subset)
                    .take(shots)
                    .map(few_shot_example)
                    .collect();
                let chosen =
                    enough_examples(NAME, args, &subset, TRAIN_SPLIT.split, shots, chosen)?;
                Some(chosen.join("\n\n"))
            } else {
                None
            };
            for (index, q) in records.into_iter().enumerate() {
                let user = mc::prompt(PROMPT_TEMPLATE, &q.question, &q.options);
                let prompt = match &fewshot {
                    Some(fewshot) => {
                        let preamble = render(
                            FEW_SHOT_PREAMBLE,
                            &[("subject", &q.subject), ("examples", fewshot)],
                        );
                        format!("{preamble}\n{user}")
                    }
                    None => user,
                };
                let mut meta = metadata([
                    ("cot_content", Value::String(q.cot_content)),
                    ("subject", Value::String(q.subject)),
                    ("question_id", q.question_id),
                ]);
                mark_parser(parser, &mut meta);
                out.push(
                    SampleParts {
                        benchmark: NAME,
                        subset: subset.clone(),
                        index,
                        messages: messages(NAME, prompt, args)?,
                        gold: q.answer,
                        choices: q.options,
                        metadata: meta,
                    }
                    .build(),
                );
            }
        }
        Ok(out)
    }

    fn extract(&self, completion: &str, sample: &Sample) -> String {
        mc_samples::extract_single(completion, sample)
    }

    fn score(&self, extracted: &str, sample: &Sample) -> Score {
        acc_score(extracted, exact_match(extracted, &sample.gold))
    }
}
