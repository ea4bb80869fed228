//! Loading Google's `input_data.jsonl` (`key`, `prompt`, `instruction_id_list`, `kwargs`; the
//! Hugging Face copies with every argument present and `null` read the same): one sample per
//! record, the raw prompt as the only user message, the whole record as metadata. Every
//! instruction is built while loading, so a bad id or argument fails the load with its file,
//! line and field instead of scoring later.

use serde_json::{Map, Value};

use super::evaluate::InstLevel;
use super::registry::{self, Checker};
use crate::benchmarks::source::{Record, eval_files, read_all};
use crate::benchmarks::{SampleParts, by_subset, messages, select_subsets, zero_shot_only};
use crate::sample::{DatasetArgs, EvalError, Sample};

/// Benchmark name.
pub const NAME: &str = "ifeval";
/// The one subset.
pub const SUBSET: &str = "default";
/// Metadata key of the micro instruction-level option (`{"prompts": N, "instructions": M}`).
pub const MICRO_KEY: &str = "inst_level_micro";

/// A record's instructions, validated.
pub struct Parsed {
    /// The built checkers, in `instruction_id_list` order.
    pub checkers: Vec<Checker>,
}

/// Builds the instructions of a record's (or a sample's metadata's) fields; the error names
/// the field (`instruction_id_list[2]`, `kwargs[0].num_words`).
pub fn parse(fields: &Map<String, Value>) -> Result<Parsed, (String, String)> {
    let ids = match fields.get("instruction_id_list") {
        Some(Value::Array(ids)) => ids,
        Some(other) => {
            return Err((
                "instruction_id_list".into(),
                format!("expected a list, got {other}"),
            ));
        }
        None => return Err(("instruction_id_list".into(), "missing".into())),
    };
    let kwargs = match fields.get("kwargs") {
        Some(Value::Array(k)) => k,
        Some(other) => return Err(("kwargs".into(), format!("expected a list, got {other}"))),
        None => return Err(("kwargs".into(), "missing".into())),
    };
    if kwargs.len() != ids.len() {
        return Err((
            "kwargs".into(),
            format!("{} entries for {} instructions", kwargs.len(), ids.len()),
        ));
    }
    let empty = Map::new();
    let mut checkers = Vec::with_capacity(ids.len());
    for (i, (id, args)) in ids.iter().zip(kwargs).enumerate() {
        let Some(id) = id.as_str() else {
            return Err((
                format!("instruction_id_list[{i}]"),
                format!("expected a string, got {id}"),
            ));
        };
        let args = match args {
            Value::Object(m) => m,
            Value::Null => &empty,
            other => {
                return Err((
                    format!("kwargs[{i}]"),
                    format!("expected an object, got {other}"),
                ));
            }
        };
        let checker = registry::build(id, args).map_err(|e| match e.field {
            Some(f) => (format!("kwargs[{i}].{f}"), format!("{id}: {}", e.message)),
            None => (format!("instruction_id_list[{i}]"), e.message),
        })?;
        checkers.push(checker);
    }
    Ok(Parsed { checkers })
}

/// `extra_params.inst_level`: `"per_prompt"` (EvalScope's, the default) or `"micro"`.
fn micro_requested(args: &DatasetArgs) -> Result<bool, EvalError> {
    match args.extra_params.get("inst_level") {
        None | Some(Value::Null) => Ok(false),
        Some(Value::String(s)) if s == "per_prompt" => Ok(false),
        Some(Value::String(s)) if s == "micro" => Ok(true),
        Some(other) => Err(EvalError::BadArgs {
            benchmark: NAME.to_owned(),
            message: format!(
                "`extra_params.inst_level` must be \"per_prompt\" (EvalScope) or \"micro\" (Google, lm-eval), got {other}"
            ),
        }),
    }
}

/// The instruction-level mode recorded in a sample's metadata.
pub fn inst_level_of(metadata: &Map<String, Value>) -> InstLevel {
    let Some(micro) = metadata.get(MICRO_KEY) else {
        return InstLevel::PerPrompt;
    };
    let get = |k: &str| micro.get(k).and_then(Value::as_u64).unwrap_or(0) as usize;
    InstLevel::Micro {
        prompts: get("prompts"),
        instructions: get("instructions"),
    }
}

fn check_record(r: &Record) -> Result<(), EvalError> {
    r.int("key")?;
    r.str("prompt")?;
    parse(&r.fields)
        .map(|_| ())
        .map_err(|(field, message)| r.bad(&field, message))
}

/// Loads the samples of `args.local_path` (`input_data.jsonl` in a folder).
pub fn load(args: &DatasetArgs) -> Result<Vec<Sample>, EvalError> {
    zero_shot_only(NAME, args)?;
    let micro = micro_requested(args)?;
    let subsets = select_subsets(NAME, &[SUBSET.to_owned()], args)?;
    let files = eval_files(
        NAME,
        args,
        &["input_data.jsonl"],
        &[".jsonl"],
        "IFEval JSONL (key, prompt, instruction_id_list, kwargs)",
    )?;
    let mut items = Vec::new();
    for r in read_all(NAME, &files)? {
        check_record(&r)?;
        items.push((SUBSET.to_owned(), r));
    }
    let mut out = Vec::new();
    for (subset, records) in by_subset(&subsets, items, args.limit) {
        let instructions: usize = records
            .iter()
            .filter_map(|r| {
                r.fields
                    .get("instruction_id_list")
                    .and_then(Value::as_array)
            })
            .map(Vec::len)
            .sum();
        let prompts = records.len();
        for (index, r) in records.into_iter().enumerate() {
            let prompt = r.str("prompt")?.to_owned();
            let mut metadata = r.fields;
            if micro {
                metadata.insert(
                    MICRO_KEY.to_owned(),
                    serde_json::json!({"prompts": prompts, "instructions": instructions}),
                );
            }
            out.push(
                SampleParts {
                    benchmark: NAME,
                    subset: subset.clone(),
                    index,
                    messages: messages(NAME, prompt, args)?,
                    gold: String::new(),
                    choices: Vec::new(),
                    metadata,
                }
                .build(),
            );
        }
    }
    Ok(out)
}
