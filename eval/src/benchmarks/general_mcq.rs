//! General-MCQ: EvalScope 1.14.1's `general_mcq`, multiple-choice questions from your own files.
//!
//! Data: `local_path` is a folder of `<subset>_val.jsonl` / `<subset>_val.csv` (or
//! `<subset>.jsonl`, ...) files, or one file, found as EvalScope's `LocalDataLoader` finds them
//! ([`super::general::load_split`]); `subset_list` names the subsets (EvalScope's default:
//! `["default"]`). A record has `question`, the options in columns `A`, `B`, `C`, ... (up to `J`,
//! stopping at the first letter missing), `answer` (a letter; with
//! `extra_params.multiple_correct: true` a list of letters) and optionally `id`.
//!
//! Prompt: EvalScope's Chinese templates (single answer, or with `multiple_correct` the
//! multiple-answer one; `extra_params.use_cot: true` picks their chain-of-thought variants), the
//! options as `A) text` lines. Few-shot (`few_shot_num`, 0 by default): the first N records of
//! the subset's `dev` split (`<subset>_dev.jsonl` / `.csv` beside the data), each as
//! `question\nA) ...\nANSWER: X`, under EvalScope's English few-shot preamble.
//! Extraction: EvalScope 1.14.1 `parse_answers_zh` ([`super::general::parse`]). Metric: `acc`
//! (exact letter), or `multi_choice_acc` with `multiple_correct` (a prediction naming a wrong
//! option scores 0, else the fraction of the correct options named).

use std::collections::BTreeMap;

use serde_json::Value;

use super::general::{load_split, local_path, parse, py_str, subsets, target_values};
use super::source::Record;
use super::template::render;
use super::{SampleParts, enough_examples, exact_match, few_shot_num, messages, metadata};
use crate::sample::{Benchmark, BenchmarkMeta, DatasetArgs, EvalError, Sample, Score};

const NAME: &str = "general_mcq";

/// EvalScope's `FEW_SHOT_TEMPLATE` (English, also before the Chinese templates).
pub const FEW_SHOT_TEMPLATE: &str =
    "Here are some examples of how to answer similar questions:\n\n{fewshot}\n\n";

/// `CHINESE_SINGLE_ANSWER_TEMPLATE` (the default).
pub const SINGLE: &str = "回答下面的单项选择题，请选出其中的正确答案。你的回答的全部内容应该是这样的格式：\"答案：[LETTER]\"（不带引号），其中 [LETTER] 是 {letters} 中的一个。\n\n问题：{question}\n选项：\n{choices}\n";

/// `CHINESE_SINGLE_ANSWER_TEMPLATE_COT` (`use_cot`).
pub const SINGLE_COT: &str = "回答下面的单项选择题，请选出其中的正确答案。你的回答的最后一行应该是这样的格式：\"答案：[LETTER]\"（不带引号），其中 [LETTER] 是 {letters} 中的一个。请在回答前进行一步步思考。\n\n问题：{question}\n选项：\n{choices}\n";

/// `CHINESE_MULTIPLE_ANSWER_TEMPLATE` (`multiple_correct`; no blank line after the instruction,
/// as EvalScope has it).
pub const MULTIPLE: &str = "回答下面的多项选择题，请选出其中的所有正确答案。你的回答的全部内容应该是这样的格式：\"答案：[LETTERS]\"（不带引号），其中 [LETTERS] 是 {letters} 中的一个或多个。\n问题：{question}\n选项：\n{choices}\n";

/// `CHINESE_MULTIPLE_ANSWER_TEMPLATE_COT` (`multiple_correct` and `use_cot`).
pub const MULTIPLE_COT: &str = "回答下面的多项选择题，请选出其中的所有正确答案。你的回答的最后一行应该是这样的格式：\"答案：[LETTERS]\"（不带引号），其中 [LETTERS] 是 {letters} 中的一个或多个。请在回答前进行一步步思考。\n\n问题：{question}\n选项：\n{choices}\n";

/// The option columns EvalScope reads, in order.
const CHOICE_KEYS: [&str; 10] = ["A", "B", "C", "D", "E", "F", "G", "H", "I", "J"];

/// General-MCQ.
#[derive(Debug, Clone, Copy, Default)]
pub struct GeneralMcq;

struct Question {
    question: String,
    choices: Vec<String>,
    /// EvalScope's `Target` values (one letter, or several with `multiple_correct`).
    target: Vec<String>,
    id: Value,
}

/// A boolean `extra_params` switch (false when absent).
fn flag(args: &DatasetArgs, key: &str) -> Result<bool, EvalError> {
    match args.extra_params.get(key) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => Err(EvalError::BadArgs {
            benchmark: NAME.to_owned(),
            message: format!("`extra_params.{key}` must be true or false, got {other}"),
        }),
    }
}

/// The prompt template EvalScope picks for the switches.
pub fn template(multiple_correct: bool, use_cot: bool) -> &'static str {
    match (multiple_correct, use_cot) {
        (true, true) => MULTIPLE_COT,
        (true, false) => MULTIPLE,
        (false, true) => SINGLE_COT,
        (false, false) => SINGLE,
    }
}

/// `GeneralMCQAdapter.record_to_sample`, with the answer checked where EvalScope would fail
/// later (at scoring).
fn parse_record(r: &Record, multiple_correct: bool) -> Result<Question, EvalError> {
    let mut choices = Vec::new();
    for key in CHOICE_KEYS {
        match r.fields.get(key) {
            Some(v) => choices.push(py_str(r, key, v)?),
            None => break,
        }
    }
    let question = match r.fields.get("question") {
        Some(v) => py_str(r, "question", v)?,
        None => return Err(r.bad("question", "missing")),
    };
    if r.get("answer").is_none() {
        return Err(r.bad("answer", "missing"));
    }
    let is_list = matches!(r.get("answer"), Some(Value::Array(_)));
    if multiple_correct && !is_list {
        return Err(r.bad(
            "answer",
            "general_mcq with multiple_correct=True requires 'answer' as a list of letters (e.g., [\"A\", \"C\"])",
        ));
    }
    let target = target_values(r, "answer")?;
    if target.is_empty() {
        return Err(r.bad("answer", "is empty"));
    }
    if !multiple_correct && target.len() != 1 {
        return Err(r.bad(
            "answer",
            format!(
                "{} answers given; set `extra_params.multiple_correct: true` for multiple-answer questions",
                target.len()
            ),
        ));
    }
    Ok(Question {
        question,
        choices,
        target,
        id: r
            .get("id")
            .cloned()
            .unwrap_or_else(|| Value::String("unknown".to_owned())),
    })
}

/// `answer_options`: `A) text` lines.
fn options(choices: &[String]) -> String {
    crate::mc::format_choices(choices)
}

/// `format_example`: `question\nA) ...\nANSWER: <answers joined>`.
fn few_shot_example(q: &Question) -> String {
    format!(
        "{}\n{}\nANSWER: {}",
        q.question,
        options(&q.choices),
        q.target.concat()
    )
}

/// `prompt(question, choices, template, fewshot)`.
fn render_prompt(template: &str, q: &Question, fewshot: Option<&str>) -> String {
    let choices = options(&q.choices);
    let letters = crate::mc::format_letters(q.choices.len());
    let mut values = vec![
        ("choices", choices.as_str()),
        ("letters", letters.as_str()),
        ("question", q.question.as_str()),
    ];
    if let Some(f) = fewshot {
        values.push(("fewshot", f));
    }
    render(template, &values)
}

impl Benchmark for GeneralMcq {
    fn meta(&self) -> BenchmarkMeta {
        BenchmarkMeta {
            name: NAME,
            pretty_name: "General-MCQ",
            task_type: "custom",
            metrics: vec!["acc"],
            subsets: vec!["default".to_owned()],
            few_shot_num: 0,
            eval_split: "val",
            train_split: "dev",
        }
    }

    fn load(&self, args: &DatasetArgs) -> Result<Vec<Sample>, EvalError> {
        let path = local_path(NAME, args)?;
        let multiple_correct = flag(args, "multiple_correct")?;
        let use_cot = flag(args, "use_cot")?;
        let template = template(multiple_correct, use_cot);
        let shots = few_shot_num(args, 0);
        let mut out = Vec::new();
        for subset in subsets(args) {
            let questions = load_split(NAME, path, &subset, "val", args.limit)?
                .iter()
                .map(|r| parse_record(r, multiple_correct))
                .collect::<Result<Vec<_>, _>>()?;
            let fewshot = if shots > 0 {
                let examples = load_split(NAME, path, &subset, "dev", Some(shots))?
                    .iter()
                    .map(|r| parse_record(r, multiple_correct).map(|q| few_shot_example(&q)))
                    .collect::<Result<Vec<_>, _>>()?;
                let examples = enough_examples(NAME, args, &subset, "dev", shots, examples)?;
                Some(examples.join("\n\n"))
            } else {
                None
            };
            let few_shot_template = format!("{FEW_SHOT_TEMPLATE}{template}");
            for (index, q) in questions.into_iter().enumerate() {
                let prompt = match fewshot.as_deref() {
                    // EvalScope's `if not fewshot` formats without the examples
                    Some(f) if !f.is_empty() => render_prompt(&few_shot_template, &q, Some(f)),
                    _ => render_prompt(template, &q, None),
                };
                let mut meta = metadata([("id", q.id.clone())]);
                if multiple_correct {
                    meta.insert("multiple_correct".to_owned(), Value::Bool(true));
                }
                out.push(
                    SampleParts {
                        benchmark: NAME,
                        subset: subset.clone(),
                        index,
                        messages: messages(NAME, prompt, args)?,
                        gold: q.target.concat(),
                        choices: q.choices,
                        metadata: meta,
                    }
                    .build(),
                );
            }
        }
        Ok(out)
    }

    fn extract(&self, completion: &str, sample: &Sample) -> String {
        parse::extract_zh(completion, sample.choices.len(), is_multiple(sample))
    }

    fn score(&self, extracted: &str, sample: &Sample) -> Score {
        if is_multiple(sample) {
            let value = multi_choice_acc(extracted, &sample.gold);
            Score {
                extracted: extracted.to_owned(),
                values: BTreeMap::from([("multi_choice_acc".to_owned(), value)]),
                main: "multi_choice_acc".to_owned(),
            }
        } else {
            super::acc_score(extracted, exact_match(extracted, &sample.gold))
        }
    }
}

fn is_multiple(sample: &Sample) -> bool {
    sample
        .metadata
        .get("multiple_correct")
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

/// EvalScope's `multi_choice_acc`: the characters of prediction and reference (stripped,
/// upper-cased) as sets; 0 when the prediction names one outside the reference, else the share
/// of the reference it names.
pub fn multi_choice_acc(prediction: &str, reference: &str) -> f64 {
    use std::collections::BTreeSet;
    let set =
        |s: &str| -> BTreeSet<char> { crate::mc::py_strip(s).to_uppercase().chars().collect() };
    let (p, r) = (set(prediction), set(reference));
    if !p.is_subset(&r) {
        return 0.0;
    }
    if r.is_empty() {
        return 0.0;
    }
    p.intersection(&r).count() as f64 / r.len() as f64
}
