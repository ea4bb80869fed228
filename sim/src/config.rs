//! The simulator's configuration: model name, seed, latency model, output lengths, reasoning,
//! fault rates and an optional answer key. Loaded from YAML; unknown fields are rejected, missing
//! ones take defaults.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::{Dist, SimError};

/// The config file format version this crate reads.
pub const CONFIG_VERSION: u32 = 1;

/// Everything that shapes the simulator's answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SimConfig {
    /// Config format version; must be [`CONFIG_VERSION`].
    pub version: u32,
    /// The model id listed by `/v1/models` and used when a request names none.
    pub model: String,
    /// Global seed; request k's randomness derives from (seed, k).
    pub seed: u64,
    /// Time to first token and inter-token latency.
    pub latency: LatencyConfig,
    /// Output lengths.
    pub output: OutputConfig,
    /// Simulated reasoning tokens.
    pub reasoning: ReasoningConfig,
    /// Per-request fault probabilities.
    pub faults: FaultConfig,
    /// Record per-chunk send instants in the [`crate::TruthLog`] (for tests and benchmarks).
    pub record_truth: bool,
    /// Answer benchmark questions from a key file (see [`crate::AnswerKey`]); unset: every
    /// answer is generated text.
    pub answer_key: Option<AnswerKeyConfig>,
    /// A serving capacity: at most `max_concurrent` answers generate at once, the rest queue
    /// (the wait shows up as time to first token). Unset: unlimited.
    pub capacity: Option<CapacityConfig>,
    /// A prefix cache of chat prompts (see [`crate::PrefixCacheConfig`]): cached tokens are
    /// reported in `usage.prompt_tokens_details.cached_tokens` and left out of the time to
    /// first token. Unset: nothing is cached (cached tokens 0).
    pub prefix_cache: Option<crate::PrefixCacheConfig>,
}

/// How many answers the simulated server generates at once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CapacityConfig {
    /// Answers generating at once (a batch); a request beyond it waits, in arrival order, for a
    /// slot before its time to first token starts.
    pub max_concurrent: u32,
    /// Extra inter-token gap per other answer generating at the same time, milliseconds (a
    /// batch step grows with the batch); 0 keeps the gap as configured.
    #[serde(default)]
    pub itl_per_extra_ms: f64,
}

impl CapacityConfig {
    /// Checks the values are in range.
    pub fn validate(&self) -> Result<(), SimError> {
        if self.max_concurrent == 0 {
            return Err(SimError::invalid(
                "capacity.max_concurrent",
                "must be at least 1, got 0",
            ));
        }
        let extra = self.itl_per_extra_ms;
        if !(extra.is_finite() && extra >= 0.0) {
            return Err(SimError::invalid(
                "capacity.itl_per_extra_ms",
                format!("must be a finite number >= 0, got {extra}"),
            ));
        }
        Ok(())
    }
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            version: CONFIG_VERSION,
            model: "sim-model".to_owned(),
            seed: 0,
            latency: LatencyConfig::default(),
            output: OutputConfig::default(),
            reasoning: ReasoningConfig::default(),
            faults: FaultConfig::default(),
            record_truth: false,
            answer_key: None,
            capacity: None,
            prefix_cache: None,
        }
    }
}

impl SimConfig {
    /// The default config with zero latency: every token is sent as soon as it can be.
    pub fn instant() -> Self {
        SimConfig {
            latency: LatencyConfig {
                ttft_ms: Dist::fixed(0.0),
                ttft_per_prompt_token_us: 0.0,
                itl_ms: Dist::fixed(0.0),
            },
            ..SimConfig::default()
        }
    }

    /// Parses and validates a YAML config.
    pub fn from_yaml(text: &str) -> Result<Self, SimError> {
        let config: SimConfig = serde_norway::from_str(text)?;
        config.validate()?;
        Ok(config)
    }

    /// Checks every value is in range.
    pub fn validate(&self) -> Result<(), SimError> {
        if self.version != CONFIG_VERSION {
            return Err(SimError::invalid(
                "version",
                format!(
                    "unsupported version {}, expected {CONFIG_VERSION}",
                    self.version
                ),
            ));
        }
        if self.model.is_empty() {
            return Err(SimError::invalid("model", "must not be empty"));
        }
        self.latency.ttft_ms.validate("latency.ttft_ms")?;
        self.latency.itl_ms.validate("latency.itl_ms")?;
        let per_token = self.latency.ttft_per_prompt_token_us;
        if !(per_token.is_finite() && per_token >= 0.0) {
            return Err(SimError::invalid(
                "latency.ttft_per_prompt_token_us",
                format!("must be a finite number >= 0, got {per_token}"),
            ));
        }
        if self.output.default_max_tokens == 0 {
            return Err(SimError::invalid(
                "output.default_max_tokens",
                "must be at least 1, got 0",
            ));
        }
        if let Some(length) = &self.output.length {
            length.validate("output.length")?;
        }
        if let Some(key) = &self.answer_key {
            key.validate()?;
        }
        if let Some(cache) = &self.prefix_cache {
            cache.validate()?;
        }
        if let Some(capacity) = &self.capacity {
            capacity.validate()?;
        }
        if let Some(thoughts) = &self.reasoning.thoughts {
            thoughts.validate()?;
        }
        self.faults.validate()
    }
}

/// Answer-key mode: a chat request whose last user message is a question of the key gets that
/// question's correct or wrong answer text instead of generated words.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerKeyConfig {
    /// The key: JSON lines `{"prompt_sha256", "correct", "wrong", "sample_id"}` (see
    /// [`crate::AnswerKey`]). A relative path is relative to the working directory.
    pub path: PathBuf,
    /// Fraction of the key's questions answered correctly, in `[0, 1]`.
    #[serde(default = "full_accuracy")]
    pub accuracy: f64,
    /// How the correctly answered questions are chosen.
    #[serde(default)]
    pub selection: AnswerSelection,
}

fn full_accuracy() -> f64 {
    1.0
}

impl AnswerKeyConfig {
    /// A key at `path` answered with `accuracy` in [`AnswerSelection::Exact`] selection.
    pub fn new(path: impl Into<PathBuf>, accuracy: f64) -> Self {
        AnswerKeyConfig {
            path: path.into(),
            accuracy,
            selection: AnswerSelection::default(),
        }
    }

    fn validate(&self) -> Result<(), SimError> {
        if self.path.as_os_str().is_empty() {
            return Err(SimError::invalid("answer_key.path", "must not be empty"));
        }
        if !(0.0..=1.0).contains(&self.accuracy) {
            return Err(SimError::invalid(
                "answer_key.accuracy",
                format!("must be a fraction in [0, 1], got {}", self.accuracy),
            ));
        }
        Ok(())
    }
}

/// Which questions of an answer key are answered correctly. Both are deterministic: they
/// depend only on the seed and the key, never on request order or timing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerSelection {
    /// Exactly `floor(accuracy × N + 0.5)` of the key's N distinct questions, those ranking
    /// lowest by [`crate::question_hash`] (see [`crate::exact_count`]).
    #[default]
    Exact,
    /// Each question on its own, correct iff [`crate::answers_correctly`]: about
    /// `accuracy × N` in all.
    PerQuestion,
}

impl AnswerSelection {
    /// The config/CLI spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            AnswerSelection::Exact => "exact",
            AnswerSelection::PerQuestion => "per_question",
        }
    }
}

impl fmt::Display for AnswerSelection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AnswerSelection {
    type Err = SimError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "exact" => Ok(AnswerSelection::Exact),
            "per_question" => Ok(AnswerSelection::PerQuestion),
            other => Err(SimError::invalid(
                "answer_key.selection",
                format!("expected exact or per_question, got {other:?}"),
            )),
        }
    }
}

/// The latency model: TTFT = `ttft_ms` sample + `ttft_per_prompt_token_us` × prompt tokens;
/// each later token follows the previous one by an `itl_ms` sample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LatencyConfig {
    /// Base time to first token, milliseconds.
    pub ttft_ms: Dist,
    /// Extra time to first token per prompt token, microseconds (simulated prefill).
    pub ttft_per_prompt_token_us: f64,
    /// Gap between consecutive tokens, milliseconds, sampled per token.
    pub itl_ms: Dist,
}

impl Default for LatencyConfig {
    fn default() -> Self {
        LatencyConfig {
            ttft_ms: Dist::fixed(50.0),
            ttft_per_prompt_token_us: 0.0,
            itl_ms: Dist::fixed(10.0),
        }
    }
}

/// How many tokens an answer has.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutputConfig {
    /// `max_tokens` for requests that give none.
    pub default_max_tokens: u32,
    /// If set, the answer length is sampled from this (tokens, rounded) and clamped to
    /// `[max(min_tokens, 1), max_tokens]`, `max_tokens` being the request's or
    /// `default_max_tokens`; if unset, every answer is exactly `max_tokens` long.
    pub length: Option<Dist>,
}

impl Default for OutputConfig {
    fn default() -> Self {
        OutputConfig {
            default_max_tokens: 128,
            length: None,
        }
    }
}

/// Simulated reasoning ("thinking") output.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReasoningConfig {
    /// Where reasoning tokens go.
    pub mode: ReasoningMode,
    /// How many of the answer's first tokens are reasoning (capped by the answer length).
    pub tokens: u32,
    /// Answer-key answers get a thinking section of sub-thoughts with the correct answer first
    /// reached in a chosen paragraph (see [`crate::ThoughtsConfig`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thoughts: Option<crate::ThoughtsConfig>,
}

/// Where simulated reasoning tokens are sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasoningMode {
    /// No reasoning; every token is answer content.
    #[default]
    None,
    /// Reasoning tokens go in `delta.reasoning_content` / `message.reasoning_content` (chat only).
    Field,
    /// Reasoning tokens are in the content: the first is `<think>` and, when there are two or
    /// more, the last is `</think>`.
    ThinkTags,
}

impl ReasoningMode {
    /// The config/CLI spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ReasoningMode::None => "none",
            ReasoningMode::Field => "field",
            ReasoningMode::ThinkTags => "think_tags",
        }
    }
}

impl fmt::Display for ReasoningMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ReasoningMode {
    type Err = SimError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "none" => Ok(ReasoningMode::None),
            "field" => Ok(ReasoningMode::Field),
            "think_tags" => Ok(ReasoningMode::ThinkTags),
            other => Err(SimError::invalid(
                "reasoning.mode",
                format!("expected none, field or think_tags, got {other:?}"),
            )),
        }
    }
}

/// Per-request fault probabilities, each in `[0, 1]`, tried in field order (the first hit wins).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FaultConfig {
    /// Answer 429 with an OpenAI error body and `retry-after: 1`.
    pub rate_429: f64,
    /// Answer 500 with an OpenAI error body.
    pub rate_500: f64,
    /// Send headers and `after_tokens` tokens, then reset the TCP connection.
    pub reset: f64,
    /// Send headers and `after_tokens` tokens, then send nothing for up to `stall_max_ms`.
    pub stall: f64,
    /// Insert one event whose data line is not valid JSON before token `after_tokens`.
    pub malformed: f64,
    /// End the body cleanly after `after_tokens` tokens: no finish reason, usage or `[DONE]`.
    pub truncate: f64,
    /// After `after_tokens` tokens send an error event and end the body.
    pub stream_error: f64,
    /// Accept the request, then send nothing at all for `stall_max_ms`; then answer 504.
    pub hang: f64,
    /// Send the whole answer one byte every `dribble_ms` (a slow-loris server: never idle for
    /// long, never done in time).
    pub slow_loris: f64,
    /// The pause between two bytes of a slow-loris answer, milliseconds.
    pub dribble_ms: u64,
    /// How long a stall lasts before the connection is reset, milliseconds.
    pub stall_max_ms: u64,
    /// How many tokens are sent before a mid-stream fault (capped at the answer length - 1).
    pub after_tokens: u32,
}

impl Default for FaultConfig {
    fn default() -> Self {
        FaultConfig {
            rate_429: 0.0,
            rate_500: 0.0,
            reset: 0.0,
            stall: 0.0,
            malformed: 0.0,
            truncate: 0.0,
            stream_error: 0.0,
            hang: 0.0,
            slow_loris: 0.0,
            dribble_ms: 100,
            stall_max_ms: 60_000,
            after_tokens: 3,
        }
    }
}

impl FaultConfig {
    /// The probabilities with their field names, in the order they are tried.
    pub fn rates(&self) -> [(&'static str, f64); 9] {
        [
            ("rate_429", self.rate_429),
            ("rate_500", self.rate_500),
            ("reset", self.reset),
            ("stall", self.stall),
            ("malformed", self.malformed),
            ("truncate", self.truncate),
            ("stream_error", self.stream_error),
            ("hang", self.hang),
            ("slow_loris", self.slow_loris),
        ]
    }

    /// Whether any probability is non-zero.
    pub fn any(&self) -> bool {
        self.rates().iter().any(|(_, p)| *p > 0.0)
    }

    fn validate(&self) -> Result<(), SimError> {
        for (name, p) in self.rates() {
            if !(0.0..=1.0).contains(&p) {
                return Err(SimError::invalid(
                    format!("faults.{name}"),
                    format!("must be a probability in [0, 1], got {p}"),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_config_parses() {
        let c = SimConfig::from_yaml(include_str!("../sim.example.yaml")).unwrap();
        assert_eq!(c.reasoning.mode, ReasoningMode::Field);
        assert_eq!(c.faults.rate_429, 0.01);
        assert!(matches!(c.output.length, Some(Dist::LogNormal { .. })));
    }

    #[test]
    fn empty_yaml_is_default() {
        assert_eq!(SimConfig::from_yaml("{}").unwrap(), SimConfig::default());
    }

    #[test]
    fn full_yaml_parses() {
        let yaml = r#"
version: 1
model: qwen-sim
seed: 42
latency:
  ttft_ms: {kind: normal, mean: 200, std: 30}
  ttft_per_prompt_token_us: 50
  itl_ms: {kind: uniform, min: 8, max: 12}
output:
  default_max_tokens: 256
  length: {kind: uniform, min: 16, max: 512}
reasoning:
  mode: think_tags
  tokens: 32
faults:
  rate_429: 0.01
  reset: 0.001
  stall_max_ms: 5000
record_truth: true
"#;
        let c = SimConfig::from_yaml(yaml).unwrap();
        assert_eq!(c.model, "qwen-sim");
        assert_eq!(c.seed, 42);
        assert_eq!(c.latency.ttft_per_prompt_token_us, 50.0);
        assert_eq!(
            c.latency.itl_ms,
            Dist::Uniform {
                min: 8.0,
                max: 12.0
            }
        );
        assert_eq!(c.output.default_max_tokens, 256);
        assert_eq!(c.reasoning.mode, ReasoningMode::ThinkTags);
        assert_eq!(c.reasoning.tokens, 32);
        assert_eq!(c.faults.rate_429, 0.01);
        assert_eq!(c.faults.stall_max_ms, 5000);
        assert_eq!(c.faults.after_tokens, 3);
        assert!(c.record_truth);
    }

    #[test]
    fn unknown_fields_rejected_at_every_level() {
        for yaml in [
            "modle: x",
            "latency: {ttft: 5}",
            "faults: {reset_rate: 0.1}",
            "reasoning: {mode: field, count: 3}",
        ] {
            let err = SimConfig::from_yaml(yaml).unwrap_err().to_string();
            assert!(err.contains("unknown field"), "{yaml}: {err}");
        }
    }

    #[test]
    fn out_of_range_values_rejected_with_field_and_value() {
        let err = SimConfig::from_yaml("faults: {stall: 1.5}")
            .unwrap_err()
            .to_string();
        assert!(err.contains("faults.stall") && err.contains("1.5"), "{err}");
        let err = SimConfig::from_yaml("output: {default_max_tokens: 0}")
            .unwrap_err()
            .to_string();
        assert!(err.contains("output.default_max_tokens"), "{err}");
        let err = SimConfig::from_yaml("version: 2").unwrap_err().to_string();
        assert!(err.contains("version") && err.contains('2'), "{err}");
        let err = SimConfig::from_yaml("latency: {itl_ms: -3}")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("latency.itl_ms") && err.contains("-3"),
            "{err}"
        );
    }

    #[test]
    fn reasoning_mode_round_trips_through_str() {
        for m in [
            ReasoningMode::None,
            ReasoningMode::Field,
            ReasoningMode::ThinkTags,
        ] {
            assert_eq!(m.as_str().parse::<ReasoningMode>().unwrap(), m);
        }
        let err = "thinking".parse::<ReasoningMode>().unwrap_err().to_string();
        assert!(err.contains("thinking"), "{err}");
    }

    #[test]
    fn answer_key_parses_with_defaults_and_is_checked() {
        let c = SimConfig::from_yaml("answer_key: {path: key.jsonl}").unwrap();
        assert_eq!(
            c.answer_key,
            Some(AnswerKeyConfig::new("key.jsonl", 1.0)),
            "accuracy defaults to 1, selection to exact"
        );
        let c = SimConfig::from_yaml(
            "answer_key: {path: k.jsonl, accuracy: 0.7, selection: per_question}",
        )
        .unwrap();
        let key = c.answer_key.unwrap();
        assert_eq!(key.accuracy, 0.7);
        assert_eq!(key.selection, AnswerSelection::PerQuestion);

        let err = SimConfig::from_yaml("answer_key: {path: k, accuracy: 1.5}")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("answer_key.accuracy") && err.contains("1.5"),
            "{err}"
        );
        let err = SimConfig::from_yaml("answer_key: {path: ''}")
            .unwrap_err()
            .to_string();
        assert!(err.contains("answer_key.path"), "{err}");
        for yaml in [
            "answer_key: {path: k, acuracy: 0.5}",
            "answer_key: {accuracy: 0.5}",
            "answer_key: {path: k, selection: most}",
        ] {
            assert!(SimConfig::from_yaml(yaml).is_err(), "{yaml}");
        }
        let err = SimConfig::from_yaml("answer_key: {path: k, acuracy: 0.5}")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field"), "{err}");
    }

    #[test]
    fn answer_selection_round_trips_through_str() {
        for s in [AnswerSelection::Exact, AnswerSelection::PerQuestion] {
            assert_eq!(s.as_str().parse::<AnswerSelection>().unwrap(), s);
        }
        assert!("most".parse::<AnswerSelection>().is_err());
    }

    #[test]
    fn instant_has_zero_latency() {
        let c = SimConfig::instant();
        assert!(c.latency.ttft_ms.is_zero() && c.latency.itl_ms.is_zero());
        assert!(!SimConfig::default().latency.itl_ms.is_zero());
    }
}
