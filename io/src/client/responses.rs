//! The parts of an OpenAI Responses API answer (`/v1/responses`) that measurement needs: the
//! typed stream events (`{"type": "response.output_text.delta", "delta": ...}`, ...) and the
//! whole `response` object (its `output` items, `usage`, `status`). Unknown fields and event
//! types are ignored.

use std::borrow::Cow;

use serde::Deserialize;

use super::chunk::{CompletionDetails, PromptDetails, Usage};

/// One streamed event's data payload.
#[derive(Debug, Deserialize, Default)]
pub struct Event<'a> {
    /// The event type; absent in some servers' payloads (the SSE `event:` name is used then).
    #[serde(default, rename = "type", borrow)]
    pub kind: Option<Cow<'a, str>>,
    /// The text of a `*.delta` event (None when absent or not a string: events this client
    /// does not read may carry other deltas).
    #[serde(default, borrow)]
    pub delta: Delta<'a>,
    /// The response object of `response.completed` / `incomplete` / `failed`.
    #[serde(default, borrow)]
    pub response: Option<Response<'a>>,
    /// An error object (an `error` event, or a bare error payload).
    #[serde(default)]
    pub error: Option<serde::de::IgnoredAny>,
}

/// A `delta` field: its text when it is a string, else nothing (never an error).
#[derive(Debug, Default)]
pub struct Delta<'a>(pub Option<Cow<'a, str>>);

impl<'de: 'a, 'a> Deserialize<'de> for Delta<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Delta<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("any delta")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Delta(Some(Cow::Borrowed(v))))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Delta(Some(Cow::Owned(v.to_owned()))))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Delta(Some(Cow::Owned(v))))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Delta(None))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(Delta(None))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(Delta(None))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Delta(None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Delta(None))
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Delta(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Delta(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Delta(None))
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// What an event means for measurement.
#[derive(Debug, PartialEq, Eq)]
pub enum Meaning<'e> {
    /// Answer text (`response.output_text.delta`, `response.refusal.delta`).
    Answer(&'e str),
    /// Reasoning text (`response.reasoning_text.delta`,
    /// `response.reasoning_summary_text.delta`).
    Reasoning(&'e str),
    /// The end of the response (`response.completed`, `response.incomplete`).
    Finished,
    /// The stream failed (`response.failed`, `error`, or a bare error object).
    Failed,
    /// Anything else (`response.created`, `response.output_item.added`, ...).
    Ignored,
}

impl<'a> Event<'a> {
    /// Parses one data payload.
    pub fn parse(data: &'a [u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(data)
    }

    /// What this event means; `sse_event` is the SSE `event:` field (used when the payload
    /// has no `type`).
    pub fn meaning(&self, sse_event: &[u8]) -> Meaning<'_> {
        let kind = match self.kind.as_deref() {
            Some(k) => k.as_bytes(),
            None => sse_event,
        };
        let delta = self.delta.0.as_deref().unwrap_or("");
        match kind {
            b"response.output_text.delta" | b"response.refusal.delta" => Meaning::Answer(delta),
            b"response.reasoning_text.delta" | b"response.reasoning_summary_text.delta" => {
                Meaning::Reasoning(delta)
            }
            b"response.completed" | b"response.incomplete" => Meaning::Finished,
            b"response.failed" | b"error" => Meaning::Failed,
            b"" if self.error.is_some() => Meaning::Failed,
            _ => Meaning::Ignored,
        }
    }
}

/// A Responses API `response` object (a whole non-streamed answer, or the one a final event
/// carries).
#[derive(Debug, Deserialize, Default)]
pub struct Response<'a> {
    /// `completed`, `incomplete`, `failed`, ...
    #[serde(default, borrow)]
    pub status: Option<Cow<'a, str>>,
    /// Output items (messages, reasoning).
    #[serde(default, borrow)]
    pub output: Option<Vec<OutputItem<'a>>>,
    /// The SDK-style convenience field some servers add.
    #[serde(default, borrow)]
    pub output_text: Option<Cow<'a, str>>,
    /// Token usage.
    #[serde(default)]
    pub usage: Option<ResponsesUsage>,
    /// The error of a failed response (null otherwise).
    #[serde(default)]
    pub error: Option<serde_json::Value>,
}

/// One `output` item.
#[derive(Debug, Deserialize, Default)]
pub struct OutputItem<'a> {
    /// `message`, `reasoning`, `function_call`, ...
    #[serde(default, rename = "type", borrow)]
    pub kind: Option<Cow<'a, str>>,
    /// A message's content parts.
    #[serde(default, borrow)]
    pub content: Option<Vec<ContentPart<'a>>>,
    /// A reasoning item's summary parts.
    #[serde(default, borrow)]
    pub summary: Option<Vec<ContentPart<'a>>>,
}

/// One content or summary part.
#[derive(Debug, Deserialize, Default)]
pub struct ContentPart<'a> {
    /// `output_text`, `refusal`, `reasoning_text`, `summary_text`, ...
    #[serde(default, rename = "type", borrow)]
    pub kind: Option<Cow<'a, str>>,
    /// The text of an `output_text`, `reasoning_text` or `summary_text` part.
    #[serde(default, borrow)]
    pub text: Option<Cow<'a, str>>,
    /// The text of a `refusal` part.
    #[serde(default, borrow)]
    pub refusal: Option<Cow<'a, str>>,
}

impl Response<'_> {
    /// Whether the response failed (`status: failed` or a non-null `error`).
    pub fn failed(&self) -> bool {
        self.status.as_deref() == Some("failed")
            || self.error.as_ref().is_some_and(|e| !e.is_null())
    }

    /// The answer text: `output_text` parts (and refusals) of `message` items, else the
    /// top-level `output_text`.
    pub fn answer(&self) -> String {
        let mut out = String::new();
        for item in self.output.iter().flatten() {
            if item.kind.as_deref() != Some("message") {
                continue;
            }
            for part in item.content.iter().flatten() {
                match part.kind.as_deref() {
                    Some("output_text") => out.push_str(part.text.as_deref().unwrap_or("")),
                    Some("refusal") => out.push_str(part.refusal.as_deref().unwrap_or("")),
                    _ => {}
                }
            }
        }
        if out.is_empty()
            && let Some(t) = &self.output_text
        {
            out.push_str(t);
        }
        out
    }

    /// The reasoning text: summaries and reasoning content of `reasoning` items.
    pub fn reasoning(&self) -> String {
        let mut out = String::new();
        for item in self.output.iter().flatten() {
            if item.kind.as_deref() != Some("reasoning") {
                continue;
            }
            for part in item
                .summary
                .iter()
                .flatten()
                .chain(item.content.iter().flatten())
            {
                out.push_str(part.text.as_deref().unwrap_or(""));
            }
        }
        out
    }

    /// Whether the object has anything a response has (output, usage or a status).
    pub fn looks_like_a_response(&self) -> bool {
        self.output.is_some() || self.usage.is_some() || self.output_text.is_some()
    }
}

/// Responses API `usage` (`input_tokens`, `output_tokens`, their details); chat-style names are
/// accepted too, as EvalScope does.
#[derive(Debug, Deserialize, Default, Clone, Copy, PartialEq)]
pub struct ResponsesUsage {
    /// Input (prompt) tokens.
    #[serde(default)]
    pub input_tokens: Option<u64>,
    /// Output tokens, reasoning included.
    #[serde(default)]
    pub output_tokens: Option<u64>,
    /// `output_tokens_details`.
    #[serde(default)]
    pub output_tokens_details: Option<CompletionDetails>,
    /// `input_tokens_details`.
    #[serde(default)]
    pub input_tokens_details: Option<PromptDetails>,
    /// Chat-style prompt tokens.
    #[serde(default)]
    pub prompt_tokens: Option<u64>,
    /// Chat-style completion tokens.
    #[serde(default)]
    pub completion_tokens: Option<u64>,
}

impl ResponsesUsage {
    /// As chat-style usage.
    pub fn to_usage(self) -> Usage {
        let chat_style = self.input_tokens.is_none() && self.output_tokens.is_none();
        let (prompt, completion) = if chat_style {
            (self.prompt_tokens, self.completion_tokens)
        } else {
            (self.input_tokens, self.output_tokens)
        };
        Usage {
            prompt_tokens: prompt,
            completion_tokens: completion,
            completion_tokens_details: self.output_tokens_details,
            reasoning_tokens: None,
            prompt_tokens_details: self.input_tokens_details,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meaning(data: &[u8], sse_event: &[u8]) -> String {
        let e = Event::parse(data).expect("valid json");
        format!("{:?}", e.meaning(sse_event))
    }

    #[test]
    fn each_event_type_means_what_it_should() {
        assert_eq!(
            meaning(
                br#"{"type":"response.output_text.delta","item_id":"m","output_index":0,"content_index":0,"delta":"Hi \"x\""}"#,
                b"response.output_text.delta"
            ),
            r#"Answer("Hi \"x\"")"#
        );
        assert_eq!(
            meaning(br#"{"type":"response.refusal.delta","delta":"no"}"#, b""),
            r#"Answer("no")"#
        );
        assert_eq!(
            meaning(
                br#"{"type":"response.reasoning_summary_text.delta","delta":"think","summary_index":0}"#,
                b""
            ),
            r#"Reasoning("think")"#
        );
        assert_eq!(
            meaning(
                br#"{"type":"response.reasoning_text.delta","delta":"r"}"#,
                b""
            ),
            r#"Reasoning("r")"#
        );
        assert_eq!(
            meaning(
                br#"{"type":"response.completed","response":{"status":"completed"}}"#,
                b""
            ),
            "Finished"
        );
        assert_eq!(
            meaning(br#"{"type":"response.incomplete","response":{}}"#, b""),
            "Finished"
        );
        assert_eq!(
            meaning(
                br#"{"type":"response.failed","response":{"status":"failed"}}"#,
                b""
            ),
            "Failed"
        );
        assert_eq!(
            meaning(
                br#"{"type":"error","code":"server_error","message":"x"}"#,
                b""
            ),
            "Failed"
        );
        assert_eq!(meaning(br#"{"error":{"message":"boom"}}"#, b""), "Failed");
        // no type: the SSE event name decides
        assert_eq!(
            meaning(br#"{"delta":"a"}"#, b"response.output_text.delta"),
            r#"Answer("a")"#
        );
        assert_eq!(
            meaning(
                br#"{"type":"response.created","response":{"status":"in_progress"}}"#,
                b""
            ),
            "Ignored"
        );
        assert_eq!(
            meaning(br#"{"type":"response.future_thing","delta":5}"#, b""),
            "Ignored"
        );
        // a non-string delta is no text, and no error
        assert_eq!(
            meaning(
                br#"{"type":"response.output_text.delta","delta":{"x":[1]}}"#,
                b""
            ),
            r#"Answer("")"#
        );
        assert!(Event::parse(br#"{"type":"response.output_text.delta","delta":"#).is_err());
        assert!(Event::parse(br#"{"type":7}"#).is_err());
    }

    #[test]
    fn whole_response_text_and_usage() {
        let r: Response<'_> = serde_json::from_slice(
            br#"{"id":"resp_1","object":"response","status":"completed","error":null,
            "output":[{"type":"reasoning","id":"rs","summary":[{"type":"summary_text","text":"hm"}]},
                      {"type":"message","role":"assistant","content":[{"type":"output_text","text":"Hel","annotations":[]},{"type":"output_text","text":"lo"}]}],
            "usage":{"input_tokens":5,"input_tokens_details":{"cached_tokens":2},"output_tokens":9,
                     "output_tokens_details":{"reasoning_tokens":4},"total_tokens":14}}"#,
        )
        .expect("valid");
        assert!(!r.failed() && r.looks_like_a_response());
        assert_eq!(r.answer(), "Hello");
        assert_eq!(r.reasoning(), "hm");
        let u = r.usage.expect("usage").to_usage();
        assert_eq!(u.prompt_tokens, Some(5));
        assert_eq!(u.completion_tokens, Some(9));
        assert_eq!(
            u.completion_tokens_details.and_then(|d| d.reasoning_tokens),
            Some(4)
        );
        assert_eq!(
            u.prompt_tokens_details.and_then(|d| d.cached_tokens),
            Some(2)
        );
        let chat_style = ResponsesUsage {
            prompt_tokens: Some(3),
            completion_tokens: Some(4),
            ..Default::default()
        };
        assert_eq!(chat_style.to_usage().completion_tokens, Some(4));
        let failed: Response<'_> =
            serde_json::from_slice(br#"{"status":"failed","error":{"code":"x"}}"#).expect("valid");
        assert!(failed.failed());
        let top: Response<'_> = serde_json::from_slice(br#"{"output_text":"t"}"#).expect("valid");
        assert_eq!(top.answer(), "t");
    }
}
