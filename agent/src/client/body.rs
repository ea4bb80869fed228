//! Request bodies: a prompt plus the run's generation parameters, serialized once per prompt
//! before the load starts so the hot path only clones a refcounted buffer.

use bytes::Bytes;
use serde_json::{Map, Value, json};
use swarm_common::prompt::{Prompt, PromptBody};
use swarm_common::shard::{ApiKind, GenParams};

/// Builds the JSON body for one prompt. Keys a full-body prompt already has are kept; run
/// parameters fill only what it lacks; `extra` (EvalScope's `--extra-args`) is applied last
/// and wins, like EvalScope.
pub fn request_body(
    prompt: &Prompt,
    api: ApiKind,
    model: &str,
    g: &GenParams,
) -> Map<String, Value> {
    let mut body = match &prompt.body {
        PromptBody::Body { body } => body.clone(),
        PromptBody::Text { text } => {
            let mut m = Map::new();
            match api {
                ApiKind::Chat => {
                    m.insert(
                        "messages".into(),
                        json!([{"role": "user", "content": text}]),
                    );
                }
                ApiKind::Completions => {
                    m.insert("prompt".into(), Value::from(text.as_str()));
                }
            }
            m
        }
        PromptBody::Messages { messages } => {
            let mut m = Map::new();
            match api {
                ApiKind::Chat => {
                    m.insert("messages".into(), Value::Array(messages.clone()));
                }
                ApiKind::Completions => {
                    m.insert("prompt".into(), Value::from(prompt.plain_text()));
                }
            }
            m
        }
    };
    let mut fill = |k: &str, v: Value| {
        body.entry(k.to_string()).or_insert(v);
    };
    fill("model", Value::from(model));
    fill("stream", Value::from(g.stream));
    if wants_stream(&body) {
        body.entry("stream_options".to_string())
            .or_insert(json!({"include_usage": true}));
    }
    let mut fill = |k: &str, v: Value| {
        body.entry(k.to_string()).or_insert(v);
    };
    if let Some(v) = g.max_tokens {
        fill("max_tokens", Value::from(v));
    }
    if let Some(v) = g.min_tokens {
        fill("min_tokens", Value::from(v));
    }
    if let Some(v) = g.temperature {
        fill("temperature", Value::from(v));
    }
    if let Some(v) = g.top_p {
        fill("top_p", Value::from(v));
    }
    if let Some(v) = g.top_k {
        fill("top_k", Value::from(v));
    }
    for (k, v) in &g.extra {
        body.insert(k.clone(), v.clone());
    }
    body
}

/// Serializes the body of every prompt once.
pub fn encode_all(prompts: &[Prompt], api: ApiKind, model: &str, g: &GenParams) -> Vec<Bytes> {
    prompts
        .iter()
        .map(|p| {
            let body = Value::Object(request_body(p, api, model, g));
            Bytes::from(body.to_string())
        })
        .collect()
}

/// Whether a body asks for a stream (a full-body prompt may override the run's setting).
pub fn wants_stream(body: &Map<String, Value>) -> bool {
    body.get("stream").and_then(Value::as_bool).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> GenParams {
        GenParams {
            stream: true,
            max_tokens: Some(64),
            temperature: Some(0.0),
            extra: [("ignore_eos".to_string(), Value::from(true))]
                .into_iter()
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn text_prompt_to_chat_and_completions() {
        let p = Prompt::text("hello");
        let chat = request_body(&p, ApiKind::Chat, "m", &params());
        assert_eq!(chat["messages"], json!([{"role":"user","content":"hello"}]));
        assert_eq!(chat["stream_options"], json!({"include_usage": true}));
        assert_eq!(chat["max_tokens"], 64);
        assert_eq!(chat["ignore_eos"], true);
        let comp = request_body(&p, ApiKind::Completions, "m", &params());
        assert_eq!(comp["prompt"], "hello");
        assert!(comp.get("messages").is_none());
    }

    #[test]
    fn full_body_keeps_its_own_keys() {
        let mut body = Map::new();
        body.insert("messages".into(), json!([{"role":"user","content":"x"}]));
        body.insert("max_tokens".into(), Value::from(5));
        body.insert("stream".into(), Value::from(false));
        let p = Prompt {
            body: PromptBody::Body { body },
            tokens: None,
        };
        let b = request_body(&p, ApiKind::Chat, "m", &params());
        assert_eq!(b["max_tokens"], 5);
        assert!(!wants_stream(&b));
        assert_eq!(b["model"], "m");
    }
}
