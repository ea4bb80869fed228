//! The benchmarks: one module each, reading the published record format from
//! `DatasetArgs::local_path` and prompting, extracting and scoring as EvalScope v1.10.0 does.
//!
//! Shared behaviour: `subset_list` picks subsets (unknown names are an error), `limit` keeps the
//! first N records of each subset, sample ids are `<subset>_<index>`, prompts are one user
//! message (after `extra_params.system_prompt` when given), metric `acc`.

pub mod aime;
pub mod ceval;
pub mod code;
pub mod csv;
pub mod general;
pub mod general_mcq;
pub mod general_qa;
pub mod gpqa;
pub mod gsm8k;
pub mod humaneval;
pub mod ifeval;
pub mod iquiz;
pub mod live_code_bench;
pub mod math_500;
mod mc_samples;
pub mod mmlu_pro;
pub mod mmlu_redux;
pub mod needle_haystack;
pub mod py_random;
pub mod sha256;
pub mod source;
pub mod template;

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::mc::{Parser, py_strip};
use super::sample::{DatasetArgs, EvalError, Sample, Score};

/// The subsets a run covers: `args.subset_list` (checked against `all`) or all of them, in the
/// benchmark's order.
pub(crate) fn select_subsets(
    benchmark: &str,
    all: &[String],
    args: &DatasetArgs,
) -> Result<Vec<String>, EvalError> {
    if args.subset_list.is_empty() {
        return Ok(all.to_vec());
    }
    if let Some(unknown) = args.subset_list.iter().find(|s| !all.contains(s)) {
        return Err(EvalError::BadArgs {
            benchmark: benchmark.to_owned(),
            message: format!("unknown subset {unknown:?}; known: {}", all.join(", ")),
        });
    }
    Ok(all
        .iter()
        .filter(|s| args.subset_list.contains(s))
        .cloned()
        .collect())
}

/// The chat messages of a prompt: `extra_params.system_prompt` first when given, then the user
/// turn.
pub(crate) fn messages(
    benchmark: &str,
    prompt: String,
    args: &DatasetArgs,
) -> Result<Vec<Value>, EvalError> {
    let mut out = Vec::with_capacity(2);
    match args.extra_params.get("system_prompt") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) if s.is_empty() => {}
        Some(Value::String(s)) => out.push(json!({"role": "system", "content": s})),
        Some(other) => {
            return Err(EvalError::BadArgs {
                benchmark: benchmark.to_owned(),
                message: format!("`extra_params.system_prompt` must be a string, got {other}"),
            });
        }
    }
    out.push(json!({"role": "user", "content": prompt}));
    Ok(out)
}

/// Refuses `few_shot_num > 0` for a benchmark that has no few-shot prompt.
pub(crate) fn zero_shot_only(benchmark: &str, args: &DatasetArgs) -> Result<(), EvalError> {
    match args.few_shot_num {
        Some(n) if n > 0 => Err(EvalError::BadArgs {
            benchmark: benchmark.to_owned(),
            message: format!("few-shot prompting is not supported (few_shot_num = {n}); use 0"),
        }),
        _ => Ok(()),
    }
}

/// The few-shot count of a run: `few_shot_num` when given, else the benchmark's EvalScope
/// default (`BenchmarkMeta::few_shot_num`).
pub(crate) fn few_shot_num(args: &DatasetArgs, default: u32) -> usize {
    args.few_shot_num.unwrap_or(default) as usize
}

/// How a run's few-shot count was chosen, for error messages.
pub(crate) fn few_shot_origin(args: &DatasetArgs, shots: usize) -> String {
    match args.few_shot_num {
        Some(_) => format!("few_shot_num = {shots}"),
        None => format!("few_shot_num = {shots} (EvalScope's default)"),
    }
}

/// EvalScope's check that a subset has enough few-shot examples (it stops with "please reduce
/// 'few_shot_num'"): the examples, or an error naming the subset, the split and the way out.
pub(crate) fn enough_examples<T>(
    benchmark: &str,
    args: &DatasetArgs,
    subset: &str,
    split: &str,
    shots: usize,
    examples: Vec<T>,
) -> Result<Vec<T>, EvalError> {
    if examples.len() >= shots {
        return Ok(examples);
    }
    Err(EvalError::BadArgs {
        benchmark: benchmark.to_owned(),
        message: format!(
            "{} but the {split} split has {} example(s) for subset {subset:?}; give a smaller few_shot_num (`few_shot_num: 0` in dataset_args runs zero-shot)",
            few_shot_origin(args, shots),
            examples.len()
        ),
    })
}

/// Records grouped by subset, in `subsets` order, each cut to `limit`.
pub(crate) fn by_subset<T>(
    subsets: &[String],
    items: impl IntoIterator<Item = (String, T)>,
    limit: Option<usize>,
) -> Vec<(String, Vec<T>)> {
    let mut buckets: BTreeMap<String, Vec<T>> = BTreeMap::new();
    for (subset, item) in items {
        if !subsets.contains(&subset) {
            continue;
        }
        let bucket = buckets.entry(subset).or_default();
        if limit.is_none_or(|l| bucket.len() < l) {
            bucket.push(item);
        }
    }
    subsets
        .iter()
        .map(|s| (s.clone(), buckets.remove(s).unwrap_or_default()))
        .collect()
}

/// A sample with id `<subset>_<index>`.
pub(crate) struct SampleParts {
    pub(crate) benchmark: &'static str,
    pub(crate) subset: String,
    pub(crate) index: usize,
    pub(crate) messages: Vec<Value>,
    pub(crate) gold: String,
    pub(crate) choices: Vec<String>,
    pub(crate) metadata: Map<String, Value>,
}

impl SampleParts {
    pub(crate) fn build(self) -> Sample {
        Sample {
            id: format!("{}_{}", self.subset, self.index),
            benchmark: self.benchmark.to_owned(),
            subset: self.subset,
            messages: self.messages,
            gold: self.gold,
            choices: self.choices,
            metadata: self.metadata,
        }
    }
}

/// EvalScope's default `acc`: `pred.strip().lower() == gold.strip().lower()`.
pub(crate) fn exact_match(pred: &str, gold: &str) -> bool {
    py_strip(pred).to_lowercase() == py_strip(gold).to_lowercase()
}

/// A score with the single metric `acc`.
pub(crate) fn acc_score(extracted: &str, correct: bool) -> Score {
    Score {
        extracted: extracted.to_owned(),
        values: BTreeMap::from([("acc".to_owned(), if correct { 1.0 } else { 0.0 })]),
        main: "acc".to_owned(),
    }
}

/// EvalScope 1.14.1's `acc` with `numeric: true`: `compare_answers(extracted, gold).matched`
/// (Math-Verify). A gold Math-Verify cannot parse (EvalScope excludes the sample) scores 0.
pub(crate) fn math_score(extracted: &str, gold: &str) -> Score {
    acc_score(
        extracted,
        super::math::evalscope_score(extracted, gold).unwrap_or(false),
    )
}

/// `extra_params.mc_parser`: which EvalScope answer parser multiple-choice extraction mirrors
/// (`"v1.10"`, the default, or `"head"`). A non-default choice is recorded in each sample's
/// metadata as `mc_parser`, where `extract` finds it.
pub(crate) fn mc_parser(benchmark: &str, args: &DatasetArgs) -> Result<Parser, EvalError> {
    match args.extra_params.get("mc_parser") {
        None | Some(Value::Null) => Ok(Parser::default()),
        Some(Value::String(s)) => Parser::from_name(s).ok_or_else(|| EvalError::BadArgs {
            benchmark: benchmark.to_owned(),
            message: format!("`extra_params.mc_parser` must be \"v1.10\" or \"head\", got {s:?}"),
        }),
        Some(other) => Err(EvalError::BadArgs {
            benchmark: benchmark.to_owned(),
            message: format!("`extra_params.mc_parser` must be a string, got {other}"),
        }),
    }
}

/// Records a non-default parser in sample metadata.
pub(crate) fn mark_parser(parser: Parser, metadata: &mut Map<String, Value>) {
    if parser != Parser::default() {
        metadata.insert(
            "mc_parser".to_owned(),
            Value::String(parser.name().to_owned()),
        );
    }
}

/// A metadata map from `(key, value)` pairs.
pub(crate) fn metadata<const N: usize>(pairs: [(&str, Value); N]) -> Map<String, Value> {
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}
