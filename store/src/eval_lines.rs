//! The lines of EvalScope's `predictions/<model>/<bench>_<subset>.jsonl` and `reviews/…` files,
//! ours (the record under `swarm`) and EvalScope's own, typed once for every reader: what a line
//! must have is required, what it may lack is an `Option`.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

/// A sample's index as text (a number or text in the line).
fn index_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Index {
        Number(serde_json::Number),
        Text(String),
    }
    Ok(match Index::deserialize(d)? {
        Index::Number(n) => n.to_string(),
        Index::Text(s) => s,
    })
}

/// (benchmark, subset) of a file stem `<bench>_<subset>`, split with the registry's names
/// (longest match); `None` for a benchmark it does not know.
pub fn known_bench(stem: &str) -> Option<(String, String)> {
    let known = swarm_eval::registry::names();
    let b = known
        .iter()
        .filter(|b| stem.starts_with(&format!("{b}_")))
        .max_by_key(|b| b.len())?;
    Some((b.to_string(), stem[b.len() + 1..].to_string()))
}

/// One prediction line: the sample's index, our record on lines we wrote, EvalScope's model
/// output, messages and metadata.
#[derive(Debug, Deserialize)]
pub struct PredictionLine {
    #[serde(deserialize_with = "index_text")]
    pub index: String,
    pub swarm: Option<SwarmRecord>,
    model_output: Option<ModelOutput>,
    #[serde(default)]
    messages: Vec<Message>,
    metadata: Option<Value>,
}

/// Our record of a prediction (`eval::store::Prediction`; empty text: not given).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SwarmRecord {
    pub benchmark: String,
    pub subset: String,
    pub repeat: u32,
    pub completion: String,
    pub reasoning: String,
    pub extracted: String,
    score: Option<SwarmScore>,
    pub error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SwarmScore {
    values: BTreeMap<String, f64>,
    main: String,
}

/// Metric → value and the main metric's name.
pub type Scores = (BTreeMap<String, f64>, String);

impl SwarmRecord {
    /// Our scores, once scored.
    pub fn scores(&self) -> Option<Scores> {
        let s = self.score.as_ref().filter(|s| !s.values.is_empty())?;
        Some((s.values.clone(), s.main.clone()))
    }
}

/// The value of the main metric, else `acc`, else the first.
pub fn main_score((values, main): &Scores) -> Option<f64> {
    values
        .get(main.as_str())
        .or_else(|| values.get("acc"))
        .or_else(|| values.values().next())
        .copied()
}

#[derive(Debug, Deserialize)]
struct ModelOutput {
    #[serde(default)]
    choices: Vec<Choice>,
    error: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct Choice {
    message: OutMessage,
}

#[derive(Debug, Deserialize)]
struct OutMessage {
    content: Option<Content>,
    reasoning_content: Option<String>,
}

/// A message content: text, or reasoning/text parts.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Content {
    Text(String),
    Parts(Vec<Part>),
}

#[derive(Debug, Deserialize)]
struct Part {
    #[serde(rename = "type")]
    kind: Option<String>,
    text: Option<String>,
    reasoning: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Message {
    role: String,
    #[serde(default)]
    content: Value,
}

impl PredictionLine {
    /// Parses one line.
    pub fn parse(line: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(line)
    }

    /// The generation of the sample: ours, else EvalScope's `metadata.repeat`, else 0.
    pub fn repeat(&self) -> u32 {
        match &self.swarm {
            Some(sw) if !sw.benchmark.is_empty() => sw.repeat,
            _ => self
                .metadata
                .as_ref()
                .and_then(|m| m["repeat"].as_u64())
                .unwrap_or(0) as u32,
        }
    }

    /// (answer, reasoning): ours where given, else the model output's (text parts are the
    /// answer, reasoning parts or `reasoning_content` the reasoning).
    pub fn answer(&self) -> (String, String) {
        let (mut content, mut reasoning) = (String::new(), String::new());
        let message = self.model_output.as_ref().and_then(|o| o.choices.first());
        match message.and_then(|c| c.message.content.as_ref()) {
            Some(Content::Text(s)) => content = s.clone(),
            Some(Content::Parts(parts)) => {
                for p in parts {
                    match p.kind.as_deref() {
                        Some("reasoning") => {
                            reasoning.push_str(p.reasoning.as_deref().unwrap_or(""))
                        }
                        Some("text") => content.push_str(p.text.as_deref().unwrap_or("")),
                        _ => {}
                    }
                }
            }
            None => {}
        }
        if let Some(r) = message.and_then(|c| c.message.reasoning_content.as_deref())
            && !r.is_empty()
        {
            reasoning = r.to_owned();
        }
        let sw = self.swarm.as_ref();
        let pick = |ours: Option<&String>, theirs: String| match ours {
            Some(o) if !o.is_empty() => o.clone(),
            _ => theirs,
        };
        (
            pick(sw.map(|s| &s.completion), content),
            pick(sw.map(|s| &s.reasoning), reasoning),
        )
    }

    /// Whether the request failed (ours or EvalScope's error).
    pub fn failed(&self) -> bool {
        self.swarm.as_ref().is_some_and(|s| s.error.is_some())
            || self
                .model_output
                .as_ref()
                .is_some_and(|o| o.error.as_ref().is_some_and(|e| !e.is_null()))
    }

    /// Every message sent as (role, text), in order.
    pub fn messages(&self) -> Vec<(String, String)> {
        let text = |m: &Message| (m.role.clone(), text_of(&m.content));
        self.messages.iter().map(text).collect()
    }

    /// The last user message's text.
    pub fn question(&self) -> String {
        self.messages
            .iter()
            .rev()
            .find(|m| m.role == "user")
            .map(|m| text_of(&m.content))
            .unwrap_or_default()
    }
}

/// One review line: the sample's index, the reference answer (text, a number, or a list
/// joined), the generation and EvalScope's score.
#[derive(Debug, Deserialize)]
pub struct ReviewLine {
    #[serde(deserialize_with = "index_text")]
    pub index: String,
    target: Option<Value>,
    pub repeat: Option<u32>,
    sample_score: Option<SampleScore>,
}

#[derive(Debug, Deserialize)]
struct SampleScore {
    score: Option<Score>,
}

#[derive(Debug, Deserialize)]
struct Score {
    #[serde(default)]
    value: Value,
    main_score_name: Option<String>,
    extracted_prediction: Option<String>,
}

impl ReviewLine {
    /// Parses one line.
    pub fn parse(line: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(line)
    }

    /// The reference answer as text; `None` when there is none.
    pub fn gold(&self) -> Option<String> {
        match self.target.as_ref()? {
            Value::String(s) => Some(s.clone()),
            Value::Array(a) => Some(
                a.iter()
                    .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_owned))
                    .collect(),
            ),
            Value::Number(x) => Some(x.to_string()),
            _ => None,
        }
    }

    fn score(&self) -> Option<&Score> {
        self.sample_score.as_ref()?.score.as_ref()
    }

    /// EvalScope's scores (numeric metrics only), once scored.
    pub fn scores(&self) -> Option<Scores> {
        let s = self.score()?;
        Some((
            numbers_of(&s.value),
            s.main_score_name.clone().unwrap_or_default(),
        ))
    }

    /// The answer extracted for scoring.
    pub fn extracted(&self) -> Option<&str> {
        self.score()?.extracted_prediction.as_deref()
    }
}

/// A message content or index as text: a string as is, a list of parts as their `text`s.
fn text_of(v: &Value) -> String {
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
fn numbers_of(v: &Value) -> BTreeMap<String, f64> {
    v.as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_f64().map(|f| (k.clone(), f)))
                .collect()
        })
        .unwrap_or_default()
}
