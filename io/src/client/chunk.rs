//! The parts of an OpenAI-compatible response (a streamed chunk or a whole completion) that
//! measurement needs. Unknown fields (`timings`, `system_fingerprint`, ...) are ignored; content
//! strings are borrowed when they need no unescaping.

use std::borrow::Cow;

use serde::Deserialize;

/// A chunk (or a whole non-streamed response).
#[derive(Debug, Deserialize, Default)]
pub struct Chunk<'a> {
    /// `choices`; absent or empty in usage-only chunks.
    #[serde(default, borrow)]
    pub choices: Option<Vec<Choice<'a>>>,
    /// Token usage, when the server reports it.
    #[serde(default)]
    pub usage: Option<Usage>,
    /// An error object sent in place of a chunk.
    #[serde(default)]
    pub error: Option<serde::de::IgnoredAny>,
}

/// One choice of a chunk.
#[derive(Debug, Deserialize, Default)]
pub struct Choice<'a> {
    /// Streamed chat delta.
    #[serde(default, borrow)]
    pub delta: Option<Message<'a>>,
    /// Non-streamed chat message.
    #[serde(default, borrow)]
    pub message: Option<Message<'a>>,
    /// Completions API text.
    #[serde(default, borrow)]
    pub text: Option<Cow<'a, str>>,
    /// Why generation stopped, on the last chunk.
    #[serde(default, borrow)]
    pub finish_reason: Option<Cow<'a, str>>,
}

/// A chat delta or message.
#[derive(Debug, Deserialize, Default)]
pub struct Message<'a> {
    /// Answer text.
    #[serde(default, borrow)]
    pub content: Option<Cow<'a, str>>,
    /// Reasoning text (DeepSeek, vLLM, SGLang, DashScope).
    #[serde(default, borrow)]
    pub reasoning_content: Option<Cow<'a, str>>,
    /// Reasoning text (OpenRouter, newer vLLM, llama.cpp).
    #[serde(default, borrow)]
    pub reasoning: Option<Cow<'a, str>>,
}

/// `usage` as OpenAI-compatible servers send it; every field optional.
#[derive(Debug, Deserialize, Default, Clone, Copy, PartialEq)]
pub struct Usage {
    /// Prompt tokens.
    #[serde(default)]
    pub prompt_tokens: Option<u64>,
    /// Completion tokens.
    #[serde(default)]
    pub completion_tokens: Option<u64>,
    /// Completion details.
    #[serde(default)]
    pub completion_tokens_details: Option<CompletionDetails>,
    /// Reasoning tokens at the top level (SGLang).
    #[serde(default)]
    pub reasoning_tokens: Option<u64>,
    /// Prompt details.
    #[serde(default)]
    pub prompt_tokens_details: Option<PromptDetails>,
}

/// `usage.completion_tokens_details`.
#[derive(Debug, Deserialize, Default, Clone, Copy, PartialEq)]
pub struct CompletionDetails {
    /// Reasoning tokens among the completion tokens.
    #[serde(default)]
    pub reasoning_tokens: Option<u64>,
}

/// `usage.prompt_tokens_details`.
#[derive(Debug, Deserialize, Default, Clone, Copy, PartialEq)]
pub struct PromptDetails {
    /// Prompt tokens served from cache.
    #[serde(default)]
    pub cached_tokens: Option<u64>,
}

/// Text a choice carries, split into reasoning and answer.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ChoiceText<'c> {
    /// Reasoning text, empty if none.
    pub reasoning: &'c str,
    /// Answer text (chat content or completions text), empty if none.
    pub answer: &'c str,
}

impl<'a> Choice<'a> {
    /// The reasoning and answer text of this choice.
    pub fn text(&self) -> ChoiceText<'_> {
        let m = self.delta.as_ref().or(self.message.as_ref());
        let reasoning = m
            .and_then(|m| m.reasoning_content.as_deref().or(m.reasoning.as_deref()))
            .unwrap_or("");
        let answer = m
            .and_then(|m| m.content.as_deref())
            .or(self.text.as_deref())
            .unwrap_or("");
        ChoiceText { reasoning, answer }
    }
}

impl<'a> Chunk<'a> {
    /// Parses one data payload.
    pub fn parse(data: &'a [u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(data)
    }

    /// Whether `choices` is present and non-empty (EvalScope's TTFT condition).
    pub fn has_choices(&self) -> bool {
        self.choices.as_ref().is_some_and(|c| !c.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_only_chunk_has_choices_but_no_text() {
        let c =
            Chunk::parse(br#"{"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}"#)
                .expect("valid");
        assert!(c.has_choices());
        assert_eq!(
            c.choices.as_ref().map(|v| v[0].text()),
            Some(ChoiceText::default())
        );
    }

    #[test]
    fn reasoning_fields_and_usage_with_extra_fields() {
        let c = Chunk::parse(
            br#"{"choices":[{"delta":{"reasoning":"hm\n"}}],"timings":{"x":1},"usage":null}"#,
        )
        .expect("valid");
        let choices = c.choices.as_ref().expect("choices");
        assert_eq!(choices[0].text().reasoning, "hm\n");
        let u = Chunk::parse(
            br#"{"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":7,"completion_tokens_details":{"reasoning_tokens":3},"prompt_tokens_details":null}}"#,
        )
        .expect("valid");
        assert!(!u.has_choices());
        let usage = u.usage.expect("usage");
        assert_eq!(usage.completion_tokens, Some(7));
        assert_eq!(
            usage
                .completion_tokens_details
                .and_then(|d| d.reasoning_tokens),
            Some(3)
        );
    }

    #[test]
    fn completions_text_and_error_objects() {
        let c = Chunk::parse(br#"{"choices":[{"text":"hi","finish_reason":"length"}]}"#)
            .expect("valid");
        let choices = c.choices.as_ref().expect("choices");
        assert_eq!(choices[0].text().answer, "hi");
        assert_eq!(choices[0].finish_reason.as_deref(), Some("length"));
        let e = Chunk::parse(br#"{"error":{"message":"boom","code":500}}"#).expect("valid");
        assert!(e.error.is_some());
    }
}
