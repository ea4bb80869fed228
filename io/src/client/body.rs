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
    if let PromptBody::Conversation { turns } = &prompt.body {
        // outside `--multi-turn` a conversation is its first turn (the multi-turn runner builds
        // each turn's messages itself)
        let first = Prompt {
            body: PromptBody::Messages {
                messages: turns.first().cloned().unwrap_or_default(),
            },
            tokens: prompt.tokens,
        };
        return request_body(&first, api, model, g);
    }
    if !api.is_generative() {
        return retrieval_body(prompt, api, model, g);
    }
    if api == ApiKind::Responses {
        return responses_body(prompt, model, g);
    }
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
                ApiKind::Completions
                | ApiKind::Embedding
                | ApiKind::Rerank
                | ApiKind::Responses => {
                    m.insert("prompt".into(), Value::from(text.as_str()));
                }
            }
            m
        }
        // made its first turn's messages by `request_body`
        PromptBody::Conversation { .. } => Map::new(),
        PromptBody::Messages { messages } => {
            let mut m = Map::new();
            match api {
                ApiKind::Chat => {
                    m.insert("messages".into(), Value::Array(messages.clone()));
                }
                ApiKind::Completions
                | ApiKind::Embedding
                | ApiKind::Rerank
                | ApiKind::Responses => {
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

/// The body of a Responses API request, as EvalScope's `openai_responses` plugin builds it:
/// `input` (a text prompt as a string; chat messages as input items, their `text` parts as
/// `input_text` and `image_url` parts as `input_image`; a full body keeps its own `input`, or
/// has its `messages` moved there), then `model`, `max_output_tokens`, `stream`,
/// `temperature`, `top_p` where the body lacks them, then `extra`. No `stream_options`: a
/// Responses stream always ends with `response.completed` and its usage.
fn responses_body(prompt: &Prompt, model: &str, g: &GenParams) -> Map<String, Value> {
    let mut body = match &prompt.body {
        PromptBody::Body { body } => {
            let mut body = body.clone();
            if !body.contains_key("input")
                && matches!(body.get("messages"), Some(Value::Array(_)))
                && let Some(Value::Array(messages)) = body.remove("messages")
            {
                body.insert("input".into(), responses_input(&messages));
            }
            body
        }
        PromptBody::Text { text } => {
            let mut m = Map::new();
            m.insert("input".into(), Value::from(text.as_str()));
            m
        }
        PromptBody::Messages { messages } => {
            let mut m = Map::new();
            m.insert("input".into(), responses_input(messages));
            m
        }
        // made its first turn's messages by `request_body`
        PromptBody::Conversation { .. } => Map::new(),
    };
    let mut fill = |k: &str, v: Value| {
        body.entry(k.to_string()).or_insert(v);
    };
    fill("model", Value::from(model));
    if let Some(v) = g.max_tokens {
        fill("max_output_tokens", Value::from(v));
    }
    fill("stream", Value::from(g.stream));
    if let Some(v) = g.temperature {
        fill("temperature", Value::from(v));
    }
    if let Some(v) = g.top_p {
        fill("top_p", Value::from(v));
    }
    for (k, v) in &g.extra {
        body.insert(k.clone(), v.clone());
    }
    body
}

/// Chat messages as Responses input items (EvalScope's `normalize_responses_input`).
fn responses_input(messages: &[Value]) -> Value {
    let part = |p: &Value| -> Value {
        match p.get("type").and_then(Value::as_str) {
            Some("text") => json!({
                "type": "input_text",
                "text": p.get("text").cloned().unwrap_or_else(|| Value::from("")),
            }),
            Some("image_url") => {
                let image = p.get("image_url").cloned().unwrap_or(Value::Null);
                match image {
                    Value::String(url) => {
                        json!({"type": "input_image", "image_url": url, "detail": "auto"})
                    }
                    other => json!({
                        "type": "input_image",
                        "image_url": other.get("url").cloned().unwrap_or(Value::Null),
                        "detail": other.get("detail").cloned().unwrap_or_else(|| Value::from("auto")),
                    }),
                }
            }
            _ => p.clone(),
        }
    };
    Value::Array(
        messages
            .iter()
            .map(|m| match (m, m.get("content")) {
                (Value::Object(obj), Some(Value::Array(parts))) => {
                    let mut obj = obj.clone();
                    obj.insert(
                        "content".into(),
                        Value::Array(parts.iter().map(part).collect()),
                    );
                    Value::Object(obj)
                }
                _ => m.clone(),
            })
            .collect(),
    )
}

/// `--extra-args` keys that shape the embedding and rerank datasets (EvalScope also copies
/// them into the body; we keep them out of it).
const DATASET_KEYS: [&str; 3] = ["batch_size", "num_documents", "document_length_ratio"];

/// The document EvalScope pairs with a bare text query.
pub const DEFAULT_RERANK_DOCUMENT: &str = "This is a test document for reranking.";

/// The body of an embeddings or rerank request, as EvalScope's `openai_embedding` and
/// `openai_rerank` plugins build it: embeddings `{"input": text | [texts], "model"}`, rerank
/// `{"query", "documents", "model"}`; then `extra`. Never streamed, no generation parameters.
/// A text prompt is the input (rerank: the query, with one default document); chat messages
/// are their contents (rerank: the first is the query, the rest the documents); a full body
/// is sent as it is.
fn retrieval_body(prompt: &Prompt, api: ApiKind, model: &str, g: &GenParams) -> Map<String, Value> {
    let contents = |messages: &[Value]| -> Vec<Value> {
        messages
            .iter()
            .map(|m| {
                Value::from(
                    Prompt {
                        body: PromptBody::Messages {
                            messages: vec![m.clone()],
                        },
                        tokens: None,
                    }
                    .plain_text(),
                )
            })
            .collect()
    };
    let mut body = match (&prompt.body, api) {
        (PromptBody::Body { body }, _) => body.clone(),
        (PromptBody::Text { text }, ApiKind::Rerank) => {
            let mut m = Map::new();
            m.insert("query".into(), Value::from(text.as_str()));
            m.insert("documents".into(), json!([DEFAULT_RERANK_DOCUMENT]));
            m
        }
        (PromptBody::Text { text }, _) => {
            let mut m = Map::new();
            m.insert("input".into(), Value::from(text.as_str()));
            m
        }
        (PromptBody::Messages { messages }, ApiKind::Rerank) => {
            let mut parts = contents(messages).into_iter();
            let mut m = Map::new();
            m.insert(
                "query".into(),
                parts.next().unwrap_or_else(|| Value::from("")),
            );
            let mut documents: Vec<Value> = parts.collect();
            if documents.is_empty() {
                documents.push(Value::from(""));
            }
            m.insert("documents".into(), Value::Array(documents));
            m
        }
        // made its first turn's messages by `request_body`
        (PromptBody::Conversation { .. }, _) => Map::new(),
        (PromptBody::Messages { messages }, _) => {
            let mut parts = contents(messages);
            let input = if parts.len() == 1 {
                parts.remove(0)
            } else {
                Value::Array(parts)
            };
            let mut m = Map::new();
            m.insert("input".into(), input);
            m
        }
    };
    body.entry("model".to_string())
        .or_insert_with(|| Value::from(model));
    for (k, v) in &g.extra {
        if !DATASET_KEYS.contains(&k.as_str()) {
            body.insert(k.clone(), v.clone());
        }
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
    fn embedding_and_rerank_bodies() {
        let mut g = params();
        g.extra.insert("batch_size".into(), Value::from(4));
        g.extra
            .insert("encoding_format".into(), Value::from("float"));
        let e = request_body(&Prompt::text("hi there"), ApiKind::Embedding, "m", &g);
        assert_eq!(
            Value::Object(e),
            json!({"input": "hi there", "model": "m", "ignore_eos": true, "encoding_format": "float"})
        );
        let r = request_body(&Prompt::text("q"), ApiKind::Rerank, "m", &params());
        assert_eq!(r["query"], "q");
        assert_eq!(r["documents"], json!([DEFAULT_RERANK_DOCUMENT]));
        assert!(r.get("stream").is_none() && r.get("max_tokens").is_none());
        let mut body = Map::new();
        body.insert("query".into(), Value::from("q"));
        body.insert("documents".into(), json!(["a", "b"]));
        let p = Prompt {
            body: PromptBody::Body { body },
            tokens: None,
        };
        let r = request_body(&p, ApiKind::Rerank, "m", &GenParams::default());
        assert_eq!(
            Value::Object(r),
            json!({"query": "q", "documents": ["a", "b"], "model": "m"})
        );
        let msgs = Prompt {
            body: PromptBody::Messages {
                messages: vec![
                    json!({"role": "user", "content": "q"}),
                    json!({"role": "user", "content": "d1"}),
                ],
            },
            tokens: None,
        };
        let r = request_body(&msgs, ApiKind::Rerank, "m", &GenParams::default());
        assert_eq!(r["documents"], json!(["d1"]));
        let e = request_body(&msgs, ApiKind::Embedding, "m", &GenParams::default());
        assert_eq!(e["input"], json!(["q", "d1"]));
    }

    #[test]
    fn responses_bodies_follow_evalscope() {
        let r = request_body(&Prompt::text("hello"), ApiKind::Responses, "m", &params());
        assert_eq!(
            Value::Object(r),
            json!({"input": "hello", "model": "m", "max_output_tokens": 64, "stream": true,
                   "temperature": 0.0, "ignore_eos": true})
        );
        let msgs = Prompt {
            body: PromptBody::Messages {
                messages: vec![
                    json!({"role": "system", "content": "be brief"}),
                    json!({"role": "user", "content": [
                        {"type": "text", "text": "what is this"},
                        {"type": "image_url", "image_url": {"url": "data:x"}}
                    ]}),
                ],
            },
            tokens: None,
        };
        let r = request_body(&msgs, ApiKind::Responses, "m", &GenParams::default());
        assert_eq!(
            r["input"],
            json!([
                {"role": "system", "content": "be brief"},
                {"role": "user", "content": [
                    {"type": "input_text", "text": "what is this"},
                    {"type": "input_image", "image_url": "data:x", "detail": "auto"}
                ]}
            ])
        );
        assert_eq!(r["stream"], false);
        assert!(r.get("max_tokens").is_none() && r.get("stream_options").is_none());
        let mut body = Map::new();
        body.insert("messages".into(), json!([{"role":"user","content":"x"}]));
        let p = Prompt {
            body: PromptBody::Body { body },
            tokens: None,
        };
        let r = request_body(&p, ApiKind::Responses, "m", &params());
        assert_eq!(r["input"], json!([{"role":"user","content":"x"}]));
        assert!(r.get("messages").is_none());
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
