//! EvalScope's `judge_model_args` (`--judge-model-args` JSON, a plan's eval
//! `judge_model_args`): the judge's endpoint and its question, checked into a [`JudgeSpec`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use swarm_common::shard::{ApiKind, GenParams, Secret, TargetSpec};

use super::{JudgeContract, JudgeSpec, JudgeStrategy, ScoreType};

/// The keys EvalScope's legacy `judge_model_args` accepts (its `JudgeModelConfig` plus the
/// contract's `system_prompt`, `prompt_template`, `score_mapping`, `score_type`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JudgeModelArgs {
    /// The judge model (the `model` of its requests).
    pub model_id: String,
    /// The judge's name in reviews (default: `model_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub judge_id: Option<String>,
    /// The judge's OpenAI-compatible endpoint: a base URL (`http://host/v1`) or
    /// `.../v1/chat/completions`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_url: Option<String>,
    /// The judge's API key: read, never written (files keep the other keys only).
    #[serde(default, skip_serializing)]
    pub api_key: Option<Secret>,
    /// Only `openai_api` (EvalScope's default) is served.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eval_type: Option<String>,
    /// Model construction arguments: none are understood, so a non-empty map is refused.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub model_args: Map<String, Value>,
    /// The judge's generation config (default `{"temperature": 0.0, "max_tokens": 4096}`).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub generation_config: Map<String, Value>,
    /// A system message before the judge prompt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_prompt: Option<String>,
    /// The judge prompt with `{question}`, `{gold}`, `{pred}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_template: Option<String>,
    /// Verdict label → score.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score_mapping: Option<BTreeMap<String, f64>>,
    /// `pattern` (default) or `numeric`.
    #[serde(default)]
    pub score_type: ScoreType,
    /// Refused as EvalScope 1.14 refuses it (its JSON contract replaced score patterns).
    #[serde(default, skip_serializing)]
    pub score_pattern: Option<Value>,
}

/// Client timeouts of the judge's requests, seconds: (connect, read, total).
pub type Timeouts = (f64, f64, f64);

impl JudgeModelArgs {
    /// Parses `--judge-model-args` JSON; errors name the key.
    pub fn from_json(text: &str) -> Result<Self, String> {
        let de = &mut serde_json::Deserializer::from_str(text);
        serde_path_to_error::deserialize(de)
            .map_err(|e| format!("--judge-model-args: {}: {}", e.path(), e.inner()))
    }

    /// The spec agents receive, or what is wrong with these arguments.
    pub fn spec(
        &self,
        strategy: JudgeStrategy,
        (connect_s, read_s, total_s): Timeouts,
    ) -> Result<JudgeSpec, String> {
        let field = |f: &str, why: String| format!("judge_model_args.{f}: {why}");
        if self.model_id.trim().is_empty() {
            return Err(field("model_id", "must not be empty".into()));
        }
        if self.score_pattern.is_some() {
            return Err(field(
                "score_pattern",
                "is not supported by the JSON judge contract; use score_mapping".into(),
            ));
        }
        if let Some(t) = self.eval_type.as_deref().filter(|t| *t != "openai_api") {
            return Err(field(
                "eval_type",
                format!("only \"openai_api\" is served, got {t:?}"),
            ));
        }
        if let Some(k) = self.model_args.keys().next() {
            return Err(field("model_args", format!("{k:?} is not understood")));
        }
        let Some(url) = self.api_url.as_deref().filter(|u| !u.trim().is_empty()) else {
            return Err(field(
                "api_url",
                "is required (the judge's OpenAI-compatible endpoint)".into(),
            ));
        };
        let (api, url) = ApiKind::resolve(url);
        if api != ApiKind::Chat {
            return Err(field(
                "api_url",
                format!("the judge needs a chat endpoint, got {url}"),
            ));
        }
        if let Some(mapping) = &self.score_mapping {
            if mapping.is_empty() {
                return Err(field(
                    "score_mapping",
                    "must name at least one label".into(),
                ));
            }
            if let Some((l, v)) = mapping.iter().find(|(_, v)| !v.is_finite()) {
                return Err(field(
                    "score_mapping",
                    format!("label {l:?} has no finite score ({v})"),
                ));
            }
        }
        if self.score_type == ScoreType::Numeric && self.score_mapping.is_some() {
            return Err(field(
                "score_mapping",
                "applies to score_type pattern only".into(),
            ));
        }
        let mut config = self.generation_config.clone();
        if config.is_empty() {
            config.insert("temperature".into(), Value::from(0.0));
            config.insert("max_tokens".into(), Value::from(4096));
        }
        if config
            .get("stream")
            .is_some_and(|v| v.as_bool() != Some(false))
        {
            return Err(field(
                "generation_config.stream",
                "judge requests are not streamed".into(),
            ));
        }
        config.remove("stream");
        Ok(JudgeSpec {
            strategy,
            judge_id: self
                .judge_id
                .clone()
                .unwrap_or_else(|| self.model_id.clone()),
            target: TargetSpec {
                url,
                api,
                model: self.model_id.clone(),
                api_key: self
                    .api_key
                    .clone()
                    .filter(|k| !k.0.is_empty() && k.0 != "EMPTY"),
                headers: Vec::new(),
                connect_timeout_s: connect_s,
                read_timeout_s: read_s,
                total_timeout_s: total_s,
                transport: Default::default(),
            },
            gen_params: gen_params(config),
            contract: JudgeContract {
                system_prompt: self.system_prompt.clone(),
                prompt_template: self.prompt_template.clone(),
                score_mapping: self.score_mapping.clone(),
                score_type: self.score_type,
            },
        })
    }
}

/// A generation config as request parameters (named ones taken out, the rest sent as is).
fn gen_params(mut extra: Map<String, Value>) -> GenParams {
    let max_tokens = extra
        .remove("max_tokens")
        .and_then(|v| v.as_u64())
        .map(|v| v.min(u64::from(u32::MAX)) as u32);
    GenParams {
        stream: false,
        max_tokens,
        min_tokens: None,
        temperature: extra.remove("temperature").and_then(|v| v.as_f64()),
        top_p: extra.remove("top_p").and_then(|v| v.as_f64()),
        top_k: extra.remove("top_k").and_then(|v| v.as_i64()),
        extra,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Timeouts = (10.0, 60.0, 60.0);

    #[test]
    fn evalscope_keys_make_a_spec_and_the_key_is_never_written() {
        let a = JudgeModelArgs::from_json(
            r#"{"model_id": "judge", "api_url": "http://127.0.0.1:9/v1", "api_key": "sk-judge", "generation_config": {"temperature": 0.0, "max_tokens": 64}}"#,
        )
        .expect("parses");
        let s = a.spec(JudgeStrategy::Llm, T).expect("spec");
        assert_eq!(s.target.url, "http://127.0.0.1:9/v1/chat/completions");
        assert_eq!(s.target.model, "judge");
        assert_eq!(s.judge_id, "judge");
        assert_eq!(s.target.api_key, Some(Secret("sk-judge".into())));
        assert_eq!(s.gen_params.max_tokens, Some(64));
        let written = serde_json::to_string(&a).expect("json");
        assert!(!written.contains("sk-judge"), "{written}");
        assert!(!format!("{:?}", s).contains("sk-judge"));
        assert!(
            !serde_json::to_string(&s.redacted())
                .unwrap()
                .contains("sk-judge")
        );
    }

    #[test]
    fn bad_arguments_name_their_key() {
        let err = JudgeModelArgs::from_json(r#"{"model_id": "j", "api_url": "x", "temp": 1}"#)
            .expect_err("unknown key");
        assert!(err.contains("temp"), "{err}");
        let spec = |json: &str| {
            JudgeModelArgs::from_json(json)
                .expect("parses")
                .spec(JudgeStrategy::Llm, T)
                .expect_err("refused")
        };
        assert!(spec(r#"{"model_id": "j"}"#).contains("judge_model_args.api_url"));
        assert!(
            spec(r#"{"model_id": "j", "api_url": "http://h/v1", "score_pattern": "x"}"#)
                .contains("score_pattern")
        );
        assert!(
            spec(r#"{"model_id": "j", "api_url": "http://h/v1/embeddings"}"#)
                .contains("chat endpoint")
        );
        assert!(
            spec(r#"{"model_id": "j", "api_url": "http://h/v1", "model_args": {"x": 1}}"#)
                .contains("model_args")
        );
    }
}

/// EvalScope 1.14.1's typed `--judge` JSON (`JudgeConfig`), as far as one judge goes: its
/// `strategy`, one entry of `models` (transport and identity) and the shared `contract`.
/// Several judges, `repeats` > 1 and position swapping are refused by name.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JudgeConfig {
    /// `auto`, `rule`, `llm` or `llm_recall`.
    #[serde(default)]
    pub strategy: JudgeStrategy,
    /// The judge models (an object is one).
    #[serde(default)]
    pub models: OneOrMany,
    /// The judge question.
    #[serde(default)]
    pub contract: JudgeContract,
    /// Judge passes per sample (only 1).
    #[serde(default = "one")]
    pub repeats: u32,
    /// `auto`, `on` or `off` (no benchmark here has positions to swap).
    #[serde(default)]
    pub position_swap: Option<String>,
    /// `mean`, `median` or `majority_vote` (one judge, one pass: all the same).
    #[serde(default)]
    pub aggregation: Option<String>,
    /// Only 1.
    #[serde(default = "one")]
    pub min_valid_judges: u32,
}

fn one() -> u32 {
    1
}

/// `models`: one object or a list of them.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    /// None given.
    #[default]
    None,
    /// One model.
    One(Box<JudgeModelArgs>),
    /// A list.
    Many(Vec<JudgeModelArgs>),
}

impl JudgeConfig {
    /// Parses `--judge` JSON; errors name the key.
    pub fn from_json(text: &str) -> Result<Self, String> {
        let de = &mut serde_json::Deserializer::from_str(text);
        serde_path_to_error::deserialize(de)
            .map_err(|e| format!("--judge: {}: {}", e.path(), e.inner()))
    }

    /// The strategy and the legacy arguments this configuration amounts to.
    pub fn legacy(self) -> Result<(JudgeStrategy, Option<JudgeModelArgs>), String> {
        if self.repeats != 1 {
            return Err(format!(
                "judge.repeats: only 1 is supported, got {}",
                self.repeats
            ));
        }
        if self.min_valid_judges != 1 {
            return Err("judge.min_valid_judges: only 1 is supported (one judge)".into());
        }
        match self.position_swap.as_deref() {
            None | Some("auto") | Some("off") => {}
            Some(other) => {
                return Err(format!(
                    "judge.position_swap: {other:?} is not supported (no benchmark here has positions to swap)"
                ));
            }
        }
        if let Some(a) = self.aggregation.as_deref()
            && !["mean", "median", "majority_vote"].contains(&a)
        {
            return Err(format!("judge.aggregation: unknown {a:?}"));
        }
        let model = match self.models {
            OneOrMany::None => None,
            OneOrMany::One(m) => Some(*m),
            OneOrMany::Many(mut v) if v.len() <= 1 => v.pop(),
            OneOrMany::Many(v) => {
                return Err(format!(
                    "judge.models: {} judges given; only one is supported",
                    v.len()
                ));
            }
        };
        let model = model.map(|mut m| {
            let c = self.contract;
            m.system_prompt = c.system_prompt.or(m.system_prompt);
            m.prompt_template = c.prompt_template.or(m.prompt_template);
            m.score_mapping = c.score_mapping.or(m.score_mapping);
            m.score_type = c.score_type;
            m
        });
        Ok((self.strategy, model))
    }
}

#[cfg(test)]
mod typed_tests {
    use super::*;

    #[test]
    fn the_typed_judge_config_is_one_judge_and_its_contract() {
        let c = JudgeConfig::from_json(
            r#"{"strategy": "llm_recall", "models": {"model_id": "j", "api_url": "http://127.0.0.1:9/v1"}, "contract": {"score_mapping": {"A": 1.0, "B": 0.0, "C": 0.5}}}"#,
        )
        .expect("parses");
        let (s, m) = c.legacy().expect("one judge");
        let m = m.expect("a model");
        assert_eq!((s, m.model_id.as_str()), (JudgeStrategy::LlmRecall, "j"));
        assert_eq!(m.score_mapping.map(|x| x.len()), Some(3));
        let two = r#"{"models": [{"model_id": "a"}, {"model_id": "b"}]}"#;
        let err = JudgeConfig::from_json(two).unwrap().legacy().unwrap_err();
        assert!(err.contains("judge.models"), "{err}");
        let err = JudgeConfig::from_json(r#"{"repeats": 3}"#)
            .unwrap()
            .legacy()
            .unwrap_err();
        assert!(err.contains("judge.repeats"), "{err}");
        assert!(JudgeConfig::from_json(r#"{"strategy": "sometimes"}"#).is_err());
    }
}
