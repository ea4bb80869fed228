//! General-QA: EvalScope 1.14.1's `general_qa`, open questions from your own files, scored by
//! BLEU and ROUGE against the reference answer.
//!
//! Data: `local_path` is a folder of `<subset>_test.jsonl` or `<subset>.jsonl` files (CSV too),
//! or one file, found as EvalScope's `LocalDataLoader` finds them; `subset_list` names the
//! subsets (default `["default"]`). A record has `query` (or `question`) and `response` (or
//! `answer`), optionally `system`; or `messages` (`[{"role", "content"}]`, sent as they are)
//! instead of `query` and `system`.
//!
//! Prompt: the messages themselves. EvalScope's `prompt_template` ("请回答问题\n{question}") is
//! never applied, since a record becomes a message list; `extra_params.system_prompt` is put
//! first when the record has no system message. Zero-shot only.
//! Scores: `bleu-1`..`bleu-4` ([`super::general::bleu`]) and `Rouge-{1,2,L}-{R,P,F}`
//! ([`super::general::rouge`]) of the whole completion against the reference; main
//! `Rouge-L-R`. Text holding a Chinese character (U+4E00..U+9FA5) is segmented first, as
//! EvalScope does with jieba ([`super::general::jieba`]).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::general::{bleu, load_split, local_path, py_str, rouge, subsets, target_values};
use super::source::Record;
use super::{SampleParts, zero_shot_only};
use crate::sample::{Benchmark, BenchmarkMeta, DatasetArgs, EvalError, Sample, Score};

const NAME: &str = "general_qa";

/// The main metric.
pub const MAIN: &str = "Rouge-L-R";

/// General-QA.
#[derive(Debug, Clone, Copy, Default)]
pub struct GeneralQa;

/// The first of `fields` with a truthy value (Python's `record.get(a) or record.get(b)`).
fn first_truthy<'a>(r: &'a Record, fields: &[&'a str]) -> Option<(&'a str, &'a Value)> {
    fields.iter().find_map(|f| {
        r.get(f)
            .filter(|v| match v {
                Value::String(s) => !s.is_empty(),
                Value::Array(a) => !a.is_empty(),
                Value::Object(o) => !o.is_empty(),
                Value::Bool(b) => *b,
                Value::Number(n) => n.as_f64() != Some(0.0),
                Value::Null => false,
            })
            .map(|v| (*f, v))
    })
}

/// `dict_to_chat_message` for text messages: `{"role", "content"}` with a known role.
fn message(r: &Record, index: usize, m: &Value) -> Result<Value, EvalError> {
    let field = format!("messages[{index}]");
    let Value::Object(o) = m else {
        return Err(r.bad(&field, "expected an object with `role` and `content`"));
    };
    let role = match o.get("role") {
        Some(Value::String(s)) if ["system", "user", "assistant", "tool"].contains(&s.as_str()) => {
            s.clone()
        }
        other => {
            return Err(r.bad(
                &field,
                format!(
                    "`role` must be system, user, assistant or tool, got {}",
                    other.map_or("nothing".to_owned(), Value::to_string)
                ),
            ));
        }
    };
    let content = match o.get("content") {
        Some(Value::String(s)) => s.clone(),
        _ => return Err(r.bad(&field, "`content` must be a string")),
    };
    Ok(json!({"role": role, "content": content}))
}

/// `GeneralQAAdapter.record_to_sample`: the messages and the reference (EvalScope's
/// `Target(answer or '').text`).
fn parse_record(r: &Record) -> Result<(Vec<Value>, String), EvalError> {
    let mut list = Vec::new();
    if let Some((_, Value::Array(items))) = first_truthy(r, &["messages"]) {
        for (i, m) in items.iter().enumerate() {
            list.push(message(r, i, m)?);
        }
    } else {
        if let Some((f, v)) = first_truthy(r, &["system"]) {
            list.push(json!({"role": "system", "content": py_str(r, f, v)?}));
        }
        let Some((f, v)) = first_truthy(r, &["question", "query"]) else {
            return Err(r.bad(
                "query",
                "missing: a record needs `query` (or `question`) or `messages`",
            ));
        };
        list.push(json!({"role": "user", "content": py_str(r, f, v)?}));
    }
    let reference = match first_truthy(r, &["answer", "response"]) {
        Some((f, _)) => target_values(r, f)?.join("\n"),
        None => String::new(),
    };
    Ok((list, reference))
}

/// The system prompt of `extra_params.system_prompt`, if any.
fn system_prompt(args: &DatasetArgs) -> Result<Option<String>, EvalError> {
    match args.extra_params.get("system_prompt") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(EvalError::BadArgs {
            benchmark: NAME.to_owned(),
            message: format!("`extra_params.system_prompt` must be a string, got {other}"),
        }),
    }
}

/// EvalScope's general_qa scores of a completion against a reference: BLEU-1..4 and ROUGE.
pub fn scores(prediction: &str, reference: &str) -> BTreeMap<String, f64> {
    bleu::bleu(prediction, reference)
        .into_iter()
        .chain(rouge::rouge(prediction, reference))
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
}

impl Benchmark for GeneralQa {
    fn meta(&self) -> BenchmarkMeta {
        let mut metrics: Vec<&'static str> = vec![MAIN];
        for k in bleu::KEYS.iter().chain(rouge::KEYS.iter()) {
            if *k != MAIN {
                metrics.push(k);
            }
        }
        BenchmarkMeta {
            name: NAME,
            pretty_name: "General-QA",
            task_type: "custom",
            metrics,
            subsets: vec!["default".to_owned()],
            few_shot_num: 0,
            eval_split: "test",
            train_split: "",
        }
    }

    fn load(&self, args: &DatasetArgs) -> Result<Vec<Sample>, EvalError> {
        zero_shot_only(NAME, args)?;
        let path = local_path(NAME, args)?;
        let system = system_prompt(args)?;
        let mut out = Vec::new();
        for subset in subsets(args) {
            let records = load_split(NAME, path, &subset, "test", args.limit)?;
            for (index, r) in records.iter().enumerate() {
                let (mut messages, reference) = parse_record(r)?;
                if let Some(s) = &system {
                    let has_system = messages.iter().any(|m| m["role"] == "system");
                    if !has_system {
                        messages.insert(0, json!({"role": "system", "content": s}));
                    }
                }
                out.push(
                    SampleParts {
                        benchmark: NAME,
                        subset: subset.clone(),
                        index,
                        messages,
                        gold: reference,
                        choices: Vec::new(),
                        metadata: serde_json::Map::new(),
                    }
                    .build(),
                );
            }
        }
        Ok(out)
    }

    fn extract(&self, completion: &str, _sample: &Sample) -> String {
        completion.to_owned()
    }

    fn score(&self, extracted: &str, sample: &Sample) -> Score {
        Score {
            extracted: extracted.to_owned(),
            values: scores(extracted, &sample.gold),
            main: MAIN.to_owned(),
        }
    }
}
