//! `dataset_args.needle_haystack.extra_params`, read with EvalScope 1.14.1's names and defaults,
//! and the grid of context lengths × needle depths it spans (`_init_length`).

use serde_json::{Map, Value};

use super::NAME;
use crate::sample::EvalError;

/// EvalScope's default retrieval question.
pub const RETRIEVAL_QUESTION: &str = "What is the best thing to do in San Francisco?";
/// EvalScope's default needle.
pub const NEEDLE: &str = "\nThe best thing to do in San Francisco is eat a sandwich and sit in Dolores Park on a sunny day.\n";
/// EvalScope's default `tokenizer_path`: a ModelScope model id, which only a hub download could
/// resolve.
pub const HUB_TOKENIZER: &str = "Qwen/Qwen3-0.6B";

/// The keys `extra_params` may hold for this benchmark.
const KEYS: [&str; 11] = [
    "retrieval_question",
    "needles",
    "context_lengths_min",
    "context_lengths_max",
    "context_lengths_num_intervals",
    "document_depth_percent_min",
    "document_depth_percent_max",
    "document_depth_percent_intervals",
    "tokenizer_path",
    "show_score",
    "system_prompt",
];

/// The benchmark's parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    /// The question asked after the text.
    pub retrieval_question: String,
    /// The facts hidden in the text, in insertion order (at least one).
    pub needles: Vec<String>,
    /// Context lengths in tokens: EvalScope's `context_lengths` (rounded linspace).
    pub context_lengths: Vec<i64>,
    /// Needle depths in percent: EvalScope's `document_depth_percents`.
    pub depth_percents: Vec<i64>,
    /// The tokenizer that measures lengths and depths (a `tokenizer.json` or a folder with one,
    /// or a tiktoken encoding).
    pub tokenizer_path: String,
    /// Whether the heat-map files print each cell's score (EvalScope's `show_score`).
    pub show_score: bool,
    /// The system message: EvalScope's meta `system_prompt` unless `extra_params.system_prompt`
    /// says otherwise (an empty string sends none).
    pub system_prompt: Option<String>,
}

fn bad(message: impl Into<String>) -> EvalError {
    EvalError::BadArgs {
        benchmark: NAME.to_owned(),
        message: message.into(),
    }
}

fn int(extra: &Map<String, Value>, key: &str, default: i64) -> Result<i64, EvalError> {
    match extra.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Number(n)) => n.as_i64().ok_or_else(|| {
            bad(format!(
                "`extra_params.{key}` must be a whole number, got {n}"
            ))
        }),
        Some(other) => Err(bad(format!(
            "`extra_params.{key}` must be a whole number, got {other}"
        ))),
    }
}

fn string(extra: &Map<String, Value>, key: &str) -> Result<Option<String>, EvalError> {
    match extra.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(bad(format!(
            "`extra_params.{key}` must be a string, got {other}"
        ))),
    }
}

/// numpy's `np.round(np.linspace(lo, hi, num, endpoint=True)).astype(int)`: `num` values, the
/// step `(hi - lo) / (num - 1)` multiplied by the index and added to `lo` in floating point, the
/// last one exactly `hi`, each rounded half to even.
pub fn linspace_rounded(lo: i64, hi: i64, num: usize) -> Vec<i64> {
    let (lo_f, hi_f) = (lo as f64, hi as f64);
    if num == 1 {
        return vec![lo];
    }
    let step = (hi_f - lo_f) / (num - 1) as f64;
    (0..num)
        .map(|i| {
            let v = if i == num - 1 {
                hi_f
            } else if step == 0.0 {
                // numpy's branch for a zero step: i / div * delta
                i as f64 / (num - 1) as f64 * (hi_f - lo_f) + lo_f
            } else {
                i as f64 * step + lo_f
            };
            v.round_ties_even() as i64
        })
        .collect()
}

impl Params {
    /// Reads `extra`; unknown keys and wrong types are errors naming the key.
    pub fn from_extra(extra: &Map<String, Value>) -> Result<Self, EvalError> {
        if let Some(unknown) = extra.keys().find(|k| !KEYS.contains(&k.as_str())) {
            return Err(bad(format!(
                "unknown `extra_params.{unknown}`; known: {}",
                KEYS.join(", ")
            )));
        }
        let retrieval_question =
            string(extra, "retrieval_question")?.unwrap_or_else(|| RETRIEVAL_QUESTION.to_owned());
        let needles = match extra.get("needles") {
            None | Some(Value::Null) => vec![NEEDLE.to_owned()],
            Some(Value::Array(items)) if !items.is_empty() => items
                .iter()
                .enumerate()
                .map(|(i, v)| match v {
                    Value::String(s) if !s.trim().is_empty() => Ok(s.clone()),
                    other => Err(bad(format!(
                        "`extra_params.needles[{i}]` must be a non-blank string, got {other}"
                    ))),
                })
                .collect::<Result<_, _>>()?,
            Some(other) => {
                return Err(bad(format!(
                    "`extra_params.needles` must be a non-empty list of strings, got {other}"
                )));
            }
        };
        let axis = |min_key: &str,
                    min_default: i64,
                    max_key: &str,
                    max_default: i64,
                    num_key: &str|
         -> Result<Vec<i64>, EvalError> {
            let lo = int(extra, min_key, min_default)?;
            let hi = int(extra, max_key, max_default)?;
            let num = int(extra, num_key, 10)?;
            if !(1..=10_000).contains(&num) {
                return Err(bad(format!(
                    "`extra_params.{num_key}` must be between 1 and 10000, got {num}"
                )));
            }
            if lo > hi {
                return Err(bad(format!(
                    "`extra_params.{min_key}` ({lo}) is above `{max_key}` ({hi})"
                )));
            }
            Ok(linspace_rounded(lo, hi, num as usize))
        };
        let context_lengths = axis(
            "context_lengths_min",
            1000,
            "context_lengths_max",
            32000,
            "context_lengths_num_intervals",
        )?;
        if let Some(l) = context_lengths.iter().find(|l| **l < 1) {
            return Err(bad(format!(
                "context lengths must be positive, got {l} (`extra_params.context_lengths_min`)"
            )));
        }
        let depth_percents = axis(
            "document_depth_percent_min",
            0,
            "document_depth_percent_max",
            100,
            "document_depth_percent_intervals",
        )?;
        if let Some(d) = depth_percents.iter().find(|d| !(0..=100).contains(*d)) {
            return Err(bad(format!(
                "needle depths must lie in 0..=100 percent, got {d} (`extra_params.document_depth_percent_min/max`)"
            )));
        }
        let tokenizer_path = string(extra, "tokenizer_path")?.ok_or_else(|| {
            bad(format!(
                "needs `extra_params.tokenizer_path`: a tokenizer.json, or a model folder holding one \
                 (EvalScope's default, {HUB_TOKENIZER:?}, is a hub model id and is not downloaded); \
                 lengths and depths are counted in its tokens"
            ))
        })?;
        let show_score = match extra.get("show_score") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(other) => {
                return Err(bad(format!(
                    "`extra_params.show_score` must be true or false, got {other}"
                )));
            }
        };
        let system_prompt = match string(extra, "system_prompt")? {
            None => Some(super::SYSTEM_PROMPT.to_owned()),
            Some(s) if s.is_empty() => None,
            Some(s) => Some(s),
        };
        Ok(Self {
            retrieval_question,
            needles,
            context_lengths,
            depth_percents,
            tokenizer_path,
            show_score,
            system_prompt,
        })
    }

    /// The reference answer: the needles joined by newlines.
    pub fn answer(&self) -> String {
        self.needles.join("\n")
    }
}
