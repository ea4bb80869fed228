//! Reading one prediction line and one review line into a [`SampleRow`]: our lines (with their
//! `swarm` record) and EvalScope's own (model output, messages, `sample_score`).

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use super::SampleRow;

#[derive(Deserialize, Default)]
#[serde(default)]
struct Message {
    role: String,
    content: Value,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Swarm {
    benchmark: String,
    subset: String,
    repeat: u32,
    completion: String,
    reasoning: String,
    extracted: String,
    score: Option<SwarmScore>,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SwarmScore {
    values: BTreeMap<String, f64>,
    main: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct OutMessage {
    content: Option<String>,
    reasoning_content: Option<String>,
}

#[derive(Deserialize, Default)]
struct Choice {
    #[serde(default)]
    message: OutMessage,
}

#[derive(Deserialize, Default)]
struct ModelOutput {
    #[serde(default)]
    choices: Vec<Choice>,
}

/// One prediction line, parsed.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PredictionLine {
    index: Value,
    swarm: Option<Swarm>,
    model_output: ModelOutput,
    messages: Vec<Message>,
    metadata: Value,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ReviewLine {
    index: Value,
    target: Value,
    repeat: Option<u32>,
    sample_score: Value,
}

/// What a review line adds to its prediction.
#[derive(Debug, Clone, Default)]
pub struct Review {
    gold: String,
    score: Option<f64>,
    extracted: String,
}

/// Which sample and generation a line is about: (index, repeat).
pub type SampleKey = (String, u32);

/// A message content or index as text: a string as is, a list of parts as their `text`s.
pub fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p["text"].as_str())
            .collect::<Vec<_>>()
            .join("\n"),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

/// The numeric members of a JSON object (metric → value); empty for anything else.
pub fn numbers_of(v: &Value) -> BTreeMap<String, f64> {
    v.as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_f64().map(|f| (k.clone(), f)))
                .collect()
        })
        .unwrap_or_default()
}

fn main_score(values: &BTreeMap<String, f64>, main: &str) -> Option<f64> {
    values
        .get(main)
        .or_else(|| values.get("acc"))
        .or_else(|| values.values().next())
        .copied()
}

/// A review line's key and content; `None` for a line that is not a review.
pub fn review(line: &str) -> Option<(SampleKey, Review)> {
    let r = serde_json::from_str::<ReviewLine>(line).ok()?;
    let score = &r.sample_score["score"];
    let values = numbers_of(&score["value"]);
    Some((
        (text_of(&r.index), r.repeat.unwrap_or(0)),
        Review {
            gold: text_of(&r.target),
            score: main_score(&values, score["main_score_name"].as_str().unwrap_or("")),
            extracted: score["extracted_prediction"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        },
    ))
}

/// Where a prediction file's rows come from: its benchmark and subset (from the file name) and
/// its model (the folder).
#[derive(Debug, Clone, PartialEq)]
pub struct FileOrigin {
    /// Benchmark named by the file.
    pub bench: String,
    /// Subset named by the file.
    pub subset: String,
    /// The model folder.
    pub model: String,
}

impl FileOrigin {
    /// The origin of the prediction file `f` (`<model>/<bench>_<subset>.jsonl`).
    pub fn of(f: &Path) -> Self {
        let stem = f
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let model = f
            .parent()
            .and_then(Path::file_name)
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let (bench, subset) = split_stem(&stem);
        Self {
            bench,
            subset,
            model,
        }
    }
}

impl PredictionLine {
    /// Parses one line.
    pub fn parse(line: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(line)
    }

    /// The review key this prediction joins on.
    pub fn key(&self) -> SampleKey {
        let repeat = match &self.swarm {
            Some(sw) if !sw.benchmark.is_empty() => sw.repeat,
            _ => self.metadata["repeat"].as_u64().unwrap_or(0) as u32,
        };
        (text_of(&self.index), repeat)
    }

    /// The row of this prediction, joined with its review if there is one.
    pub fn into_row(self, origin: &FileOrigin, review: Option<&Review>) -> SampleRow {
        let (index, repeat) = self.key();
        let sw = self.swarm.unwrap_or_default();
        let mut message = self
            .model_output
            .choices
            .into_iter()
            .next()
            .map(|c| c.message)
            .unwrap_or_default();
        let pick = |ours: String, theirs: &mut Option<String>| {
            if ours.is_empty() {
                theirs.take().unwrap_or_default()
            } else {
                ours
            }
        };
        let question = self
            .messages
            .iter()
            .rev()
            .find(|m| m.role == "user")
            .map(|m| text_of(&m.content))
            .unwrap_or_default();
        let score = match &sw.score {
            Some(s) if !s.values.is_empty() => main_score(&s.values, &s.main),
            _ => review.and_then(|r| r.score),
        };
        SampleRow {
            dataset: if sw.benchmark.is_empty() {
                origin.bench.clone()
            } else {
                sw.benchmark
            },
            subset: if sw.subset.is_empty() {
                origin.subset.clone()
            } else {
                sw.subset
            },
            model: origin.model.clone(),
            repeat,
            answer: pick(sw.completion, &mut message.content),
            reasoning: pick(sw.reasoning, &mut message.reasoning_content),
            extracted: if sw.extracted.is_empty() {
                review.map(|r| r.extracted.clone()).unwrap_or_default()
            } else {
                sw.extracted
            },
            gold: review.map(|r| r.gold.clone()).unwrap_or_default(),
            score,
            error: sw.error,
            question,
            index,
        }
    }
}

/// `<bench>_<subset>` split with the registry's names (longest match), else at the first `_`.
pub fn split_stem(stem: &str) -> (String, String) {
    let known = swarm_eval::registry::names();
    match known
        .iter()
        .filter(|b| stem.starts_with(&format!("{b}_")))
        .max_by_key(|b| b.len())
    {
        Some(b) => (b.to_string(), stem[b.len() + 1..].to_string()),
        None => match stem.split_once('_') {
            Some((b, s)) => (b.to_string(), s.to_string()),
            None => (stem.to_string(), "default".to_string()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_split_on_known_benchmarks() {
        assert_eq!(
            split_stem("math_500_Level 1"),
            ("math_500".to_string(), "Level 1".to_string())
        );
        assert_eq!(split_stem("x"), ("x".to_string(), "default".to_string()));
    }

    #[test]
    fn an_evalscope_line_joins_its_review() {
        let pred = r#"{"index": 3, "messages": [{"role": "system", "content": "s"}, {"role": "user", "content": [{"type": "text", "text": "Q?"}]}], "model_output": {"choices": [{"message": {"content": "A", "reasoning_content": "R"}}]}, "metadata": {"repeat": 1}}"#;
        let rev = r#"{"index": 3, "repeat": 1, "target": "B", "sample_score": {"score": {"value": {"acc": 0.0, "other": 1.0}, "main_score_name": "acc", "extracted_prediction": "A"}}}"#;
        let p = PredictionLine::parse(pred).expect("parses");
        let (key, r) = review(rev).expect("review");
        assert_eq!(p.key(), key);
        let origin = FileOrigin::of(Path::new("/x/qwen/gsm8k_main.jsonl"));
        let row = p.into_row(&origin, Some(&r));
        assert_eq!(
            (
                row.dataset.as_str(),
                row.subset.as_str(),
                row.model.as_str(),
                row.index.as_str(),
                row.repeat
            ),
            ("gsm8k", "main", "qwen", "3", 1)
        );
        assert_eq!(
            (
                row.question.as_str(),
                row.reasoning.as_str(),
                row.answer.as_str()
            ),
            ("Q?", "R", "A")
        );
        assert_eq!(
            (row.gold.as_str(), row.extracted.as_str(), row.score),
            ("B", "A", Some(0.0))
        );
        assert!(review("not json").is_none());
    }
}
