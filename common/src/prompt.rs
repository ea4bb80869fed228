//! A prompt ready to be sent: what a load dataset yields and what a perf shard replays.

use serde::{Deserialize, Serialize};

/// One request's input, in the shape the dataset gave it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PromptBody {
    /// A single user turn; sent as one `user` message to chat APIs, as `prompt` to completions.
    Text { text: String },
    /// A list of OpenAI chat messages (`{"role": ..., "content": ...}` objects).
    Messages { messages: Vec<serde_json::Value> },
    /// A full request body; run parameters (model, stream, max_tokens, ...) fill only what it lacks.
    Body {
        body: serde_json::Map<String, serde_json::Value>,
    },
    /// A whole conversation (`--multi-turn`): each turn the chat messages it adds (at least one
    /// turn, none of them empty); the model's answers go between them as the turns are sent.
    Conversation { turns: Vec<Vec<serde_json::Value>> },
}

/// A prompt plus what is known about its size before sending.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prompt {
    /// What to send.
    pub body: PromptBody,
    /// Prompt tokens counted by a tokenizer at load time, when one was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<u32>,
}

impl Prompt {
    /// A single-turn text prompt of unknown token length.
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            body: PromptBody::Text { text: text.into() },
            tokens: None,
        }
    }

    /// The prompt's text as a tokenizer would see it (message contents joined by newlines).
    pub fn plain_text(&self) -> String {
        /// A string, the strings of a list, or the `text` of document objects.
        fn strings(v: &serde_json::Value) -> Vec<String> {
            match v {
                serde_json::Value::String(s) => vec![s.clone()],
                serde_json::Value::Array(items) => items
                    .iter()
                    .filter_map(|i| match i {
                        serde_json::Value::String(s) => Some(s.clone()),
                        other => other.get("text").and_then(|t| t.as_str()).map(String::from),
                    })
                    .collect(),
                _ => Vec::new(),
            }
        }
        fn content_text(v: &serde_json::Value) -> String {
            match v.get("content") {
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(serde_json::Value::Array(parts)) => parts
                    .iter()
                    .filter_map(|p| p.get("text").and_then(|t| t.as_str()))
                    .collect::<Vec<_>>()
                    .join("\n"),
                _ => String::new(),
            }
        }
        match &self.body {
            PromptBody::Text { text } => text.clone(),
            PromptBody::Messages { messages } => messages
                .iter()
                .map(content_text)
                .collect::<Vec<_>>()
                .join("\n"),
            // a conversation's length is its first turn's, as EvalScope filters on it
            PromptBody::Conversation { turns } => turns
                .first()
                .map(|t| t.iter().map(content_text).collect::<Vec<_>>().join("\n"))
                .unwrap_or_default(),
            PromptBody::Body { body } => {
                if let Some(serde_json::Value::Array(messages)) = body.get("messages") {
                    messages
                        .iter()
                        .map(content_text)
                        .collect::<Vec<_>>()
                        .join("\n")
                } else if let Some(serde_json::Value::String(p)) = body.get("prompt") {
                    p.clone()
                } else if let Some(input) = body.get("input") {
                    // an embedding body: one text or a batch
                    strings(input).join("\n")
                } else if let Some(serde_json::Value::String(q)) = body.get("query") {
                    // a rerank body: the query, then its documents
                    let mut parts = vec![q.clone()];
                    parts.extend(body.get("documents").map(strings).unwrap_or_default());
                    parts.join("\n")
                } else {
                    String::new()
                }
            }
        }
    }
}
