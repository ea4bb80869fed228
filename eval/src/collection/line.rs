//! One line of a collection JSONL file, in EvalScope's `DatasetEntry` shape:
//!
//! ```json
//! {"index": 0, "prompt": {"input": [...], "choices": [...], "target": "42", "id": 3,
//!   "group_id": 3, "subset_key": "main", "metadata": {...}},
//!  "tags": ["en"], "categories": ["qwen3", "Math&Science"], "task_type": "math",
//!  "weight": 0.01, "dataset_name": "gsm8k", "subset_name": "main"}
//! ```
//!
//! `prompt` is the original benchmark's sample: its chat messages, options, gold answer, index
//! within its subset and metadata — everything that benchmark needs to score a completion.
//! Lines we build also carry `"args": {"filters": {...}}` when their schema dataset has filters
//! (see [`super::line_args`]; EvalScope ignores the field).
//! Lines written by EvalScope are read too (a string `input` is one user message; a list
//! `target` is joined).

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::flatten::FlatDataset;
use super::line_args::LineArgs;
use super::schema::CollectionError;
use crate::sample::Sample;

/// The metadata key under which a collection sample carries its line's collection fields.
pub const INFO_KEY: &str = "collection_info";

/// One entry of a mixed collection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CollectionLine {
    /// Position in the collection (unique).
    pub index: usize,
    /// The original sample in EvalScope's sample shape.
    pub prompt: Value,
    /// Tags.
    pub tags: Vec<String>,
    /// The hierarchy of groups, root first.
    pub categories: Vec<String>,
    /// Task type.
    pub task_type: String,
    /// The sample's share of the collection's weight.
    pub weight: f64,
    /// The original benchmark.
    pub dataset_name: String,
    /// The original subset.
    pub subset_name: String,
    /// Eval-time arguments of the schema dataset (its filters), absent when none.
    #[serde(default, skip_serializing_if = "LineArgs::is_empty")]
    pub args: LineArgs,
}

/// The index part of a sample id `<subset>_<index>`, as a number when it is one.
fn id_value(sample: &Sample) -> Value {
    let tail = sample
        .id
        .strip_prefix(&format!("{}_", sample.subset))
        .unwrap_or(&sample.id);
    match tail.parse::<u64>() {
        Ok(n) => json!(n),
        Err(_) => json!(sample.id),
    }
}

impl CollectionLine {
    /// The line for `sample` of `dataset`, at `index`, carrying `weight`.
    pub fn new(index: usize, dataset: &FlatDataset, weight: f64, sample: &Sample) -> Self {
        let id = id_value(sample);
        let prompt = json!({
            "input": sample.messages,
            "choices": sample.choices,
            "target": sample.gold,
            "id": id,
            "group_id": id,
            "subset_key": sample.subset,
            "metadata": sample.metadata,
        });
        Self {
            index,
            prompt,
            tags: dataset.tags.clone(),
            categories: dataset.hierarchy.clone(),
            task_type: dataset.task_type.clone(),
            weight,
            dataset_name: dataset.name.clone(),
            subset_name: sample.subset.clone(),
            args: LineArgs::of(&dataset.args),
        }
    }

    /// The original benchmark's sample, as its scorer expects it.
    pub fn original(&self) -> Result<Sample, String> {
        let p = self
            .prompt
            .as_object()
            .ok_or_else(|| "prompt: expected an object".to_owned())?;
        let messages = match p.get("input") {
            Some(Value::String(s)) => vec![json!({"role": "user", "content": s})],
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, m)| message(m).map_err(|e| format!("prompt.input[{i}]: {e}")))
                .collect::<Result<_, _>>()?,
            Some(other) => return Err(format!("prompt.input: expected a list, got {other}")),
            None => return Err("prompt.input: missing".to_owned()),
        };
        let gold = match p.get("target") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_owned)
                        .unwrap_or_else(|| v.to_string())
                })
                .collect::<Vec<_>>()
                .join(""),
            Some(other) => {
                return Err(format!("prompt.target: expected a string, got {other}"));
            }
            None => return Err("prompt.target: missing".to_owned()),
        };
        let choices = match p.get("choices") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, v)| match v {
                    Value::String(s) => Ok(s.clone()),
                    other => Err(format!(
                        "prompt.choices[{i}]: expected a string, got {other}"
                    )),
                })
                .collect::<Result<_, _>>()?,
            Some(other) => return Err(format!("prompt.choices: expected a list, got {other}")),
        };
        let metadata = match p.get("metadata") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(m)) => m.clone(),
            Some(other) => return Err(format!("prompt.metadata: expected an object, got {other}")),
        };
        let id = match p.get("id") {
            Some(Value::Number(n)) => format!("{}_{n}", self.subset_name),
            Some(Value::String(s)) => s.clone(),
            None | Some(Value::Null) => format!("{}_{}", self.subset_name, self.index),
            Some(other) => return Err(format!("prompt.id: expected a number, got {other}")),
        };
        Ok(Sample {
            id,
            benchmark: self.dataset_name.clone(),
            subset: self.subset_name.clone(),
            messages,
            gold,
            choices,
            metadata,
        })
    }

    /// The sample the `data_collection` benchmark sends and scores: the original sample under
    /// the collection's name, subset `<dataset>/<subset>`, id `<dataset>/<subset>_<index>`, with
    /// this line's collection fields in metadata under [`INFO_KEY`].
    pub fn to_sample(&self) -> Result<Sample, String> {
        let original = self.original()?;
        let subset = format!("{}/{}", self.dataset_name, self.subset_name);
        let mut metadata = original.metadata;
        metadata.insert(
            INFO_KEY.to_owned(),
            json!({
                "index": self.index,
                "sample_id": original.id,
                "dataset_name": self.dataset_name,
                "subset_name": self.subset_name,
                "task_type": self.task_type,
                "tags": self.tags,
                "categories": self.categories,
                "weight": self.weight,
            }),
        );
        Ok(Sample {
            id: format!("{subset}_{}", self.index),
            benchmark: super::NAME.to_owned(),
            subset,
            messages: original.messages,
            gold: original.gold,
            choices: original.choices,
            metadata,
        })
    }

    /// Parses one JSONL line; errors name the file, the line and the field.
    pub fn parse(text: &str, path: &Path, line: usize) -> Result<Self, CollectionError> {
        let bad = |field: String, message: String| CollectionError::BadLine {
            path: path.to_owned(),
            line,
            field,
            message,
        };
        let mut de = serde_json::Deserializer::from_str(text);
        let parsed: CollectionLine = serde_path_to_error::deserialize(&mut de)
            .map_err(|e| bad(e.path().to_string(), e.inner().to_string()))?;
        if let Err(message) = parsed.original() {
            let (field, message) = message
                .split_once(": ")
                .map_or(("prompt".to_owned(), message.clone()), |(f, m)| {
                    (f.to_owned(), m.to_owned())
                });
            return Err(bad(field, message));
        }
        if parsed.dataset_name.is_empty() {
            return Err(bad("dataset_name".into(), "must not be empty".into()));
        }
        if !parsed.weight.is_finite() || parsed.weight < 0.0 {
            return Err(bad(
                "weight".into(),
                format!("must be a number >= 0, got {}", parsed.weight),
            ));
        }
        Ok(parsed)
    }
}

/// A chat message of an EvalScope `input` list, reduced to what a request carries.
fn message(m: &Value) -> Result<Value, String> {
    let obj = m
        .as_object()
        .ok_or_else(|| format!("expected an object, got {m}"))?;
    let role = obj
        .get("role")
        .and_then(Value::as_str)
        .ok_or_else(|| "missing `role`".to_owned())?;
    let content = obj.get("content").cloned().unwrap_or(Value::Null);
    Ok(json!({"role": role, "content": content}))
}

/// Reads every line of a collection JSONL file with its 1-based line number (blank lines
/// skipped).
pub fn read_lines(path: &Path) -> Result<Vec<(usize, CollectionLine)>, CollectionError> {
    let text = std::fs::read_to_string(path).map_err(|source| CollectionError::Io {
        path: path.to_owned(),
        source,
    })?;
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, raw) in text.lines().enumerate() {
        if raw.trim().is_empty() {
            continue;
        }
        let line = CollectionLine::parse(raw, path, i + 1)?;
        if !seen.insert(line.index) {
            return Err(CollectionError::BadLine {
                path: path.to_owned(),
                line: i + 1,
                field: "index".into(),
                message: format!("index {} appears twice", line.index),
            });
        }
        out.push((i + 1, line));
    }
    Ok(out)
}

/// Writes `lines` to `path` as JSON lines (replacing the file).
pub fn write_lines(path: &Path, lines: &[CollectionLine]) -> Result<(), CollectionError> {
    use std::io::Write;
    let io = |source| CollectionError::Io {
        path: path.to_owned(),
        source,
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).map_err(io)?);
    for l in lines {
        let text = serde_json::to_string(l).map_err(|e| io(std::io::Error::other(e)))?;
        writeln!(out, "{text}").map_err(io)?;
    }
    out.flush().map_err(io)
}
