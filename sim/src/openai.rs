//! The OpenAI request body, parsed once and without copying prompt text: only the fields the
//! simulator uses are kept, and message contents are reduced to word counts on the fly.
//!
//! Prompt tokens are approximated as whitespace-separated words across all message contents
//! (string contents, and the `text` of `{type: text}` parts), a word of CJK ideographs counting
//! one per ideograph; for `/v1/completions` a prompt may also be token ids, each counting as one
//! token. A chat `image_url` part counts its picture's patches (`crate::image`).

use std::fmt;

use bytes::Bytes;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

/// The fields of a chat or text completion request that shape the simulated answer.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct GenerateRequest {
    /// The model asked for; echoed back.
    #[serde(default)]
    pub model: Option<String>,
    /// Chat messages, reduced to their word count.
    #[serde(default)]
    pub messages: Option<MessagesWords>,
    /// Completion prompt, reduced to its token count.
    #[serde(default)]
    pub prompt: Option<PromptTokens>,
    /// Responses API input (a string or input items), reduced to its word count.
    #[serde(default)]
    pub input: Option<InputWords>,
    /// Responses API output limit.
    #[serde(default)]
    pub max_output_tokens: Option<u32>,
    #[serde(default)]
    pub stream: Option<bool>,
    #[serde(default)]
    pub max_tokens: Option<u32>,
    #[serde(default)]
    pub max_completion_tokens: Option<u32>,
    #[serde(default)]
    pub min_tokens: Option<u32>,
    #[serde(default)]
    pub stream_options: Option<StreamOptions>,
}

/// `stream_options` of a streaming request.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct StreamOptions {
    #[serde(default)]
    pub include_usage: Option<bool>,
}

impl GenerateRequest {
    /// Parses a request body.
    pub fn parse(body: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(body)
    }

    /// `max_output_tokens` (Responses API) if given, else `max_completion_tokens`, else
    /// `max_tokens`.
    pub fn max_tokens(&self) -> Option<u32> {
        self.max_output_tokens
            .or(self.max_completion_tokens)
            .or(self.max_tokens)
    }

    /// Whether the answer is streamed.
    pub fn stream(&self) -> bool {
        self.stream.unwrap_or(false)
    }

    /// Whether a streamed answer ends with a usage chunk.
    pub fn include_usage(&self) -> bool {
        self.stream_options
            .as_ref()
            .and_then(|o| o.include_usage)
            .unwrap_or(false)
    }
}

/// The content of the last `user` message of a chat request, if it is a string (answer-key
/// lookups; parsed only when a key is loaded).
pub(crate) fn last_user_content(body: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct Chat {
        #[serde(default)]
        messages: Vec<RoleContent>,
    }
    #[derive(Deserialize)]
    struct RoleContent {
        #[serde(default)]
        role: Option<String>,
        #[serde(default)]
        content: Option<serde_json::Value>,
    }
    let chat: Chat = serde_json::from_slice(body).ok()?;
    let last = chat
        .messages
        .into_iter()
        .rev()
        .find(|m| m.role.as_deref() == Some("user"))?;
    match last.content? {
        serde_json::Value::String(s) => Some(s),
        _ => None,
    }
}

/// Whitespace-separated words, a word of CJK ideographs counting one token per ideograph (a
/// tokenizer would split them; they are rarely separated by spaces).
pub(crate) fn words(s: &str) -> u64 {
    s.split_whitespace()
        .map(|w| (w.chars().filter(|c| is_cjk(*c)).count() as u64).max(1))
        .sum()
}

/// A CJK ideograph (the unified blocks and their extension A).
fn is_cjk(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}')
}

/// Total words in all message contents.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MessagesWords(pub u64);

impl<'de> Deserialize<'de> for MessagesWords {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = MessagesWords;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array of messages")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut total = 0;
                while let Some(m) = seq.next_element::<Message>()? {
                    total += m.content.0;
                }
                Ok(MessagesWords(total))
            }
        }
        deserializer.deserialize_seq(V)
    }
}

/// Words in a Responses API `input`: a string, or an array of input items (messages whose
/// content is a string or parts; bare strings count too).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InputWords(pub u64);

impl<'de> Deserialize<'de> for InputWords {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = InputWords;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an array of input items")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(InputWords(words(v)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut total = 0;
                while let Some(item) = seq.next_element::<InputItem>()? {
                    total += item.0;
                }
                Ok(InputWords(total))
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// One input item: a message (its content counted), or a bare string.
struct InputItem(u64);

impl<'de> Deserialize<'de> for InputItem {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = InputItem;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an input item")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(InputItem(words(v)))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut total = 0;
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    if key == "content" {
                        total += map.next_value::<ContentWords>()?.0;
                    } else {
                        map.next_value::<de::IgnoredAny>()?;
                    }
                }
                Ok(InputItem(total))
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// One chat message; everything but its content is ignored.
#[derive(Deserialize)]
struct Message {
    #[serde(default)]
    content: ContentWords,
}

/// Words in a message content: a string, null, or an array of parts.
#[derive(Debug, Default, Clone, Copy)]
struct ContentWords(u64);

impl<'de> Deserialize<'de> for ContentWords {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ContentWords;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string, null or an array of content parts")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(ContentWords(words(v)))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(ContentWords(0))
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(ContentWords(0))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut total = 0;
                while let Some(p) = seq.next_element::<Part>()? {
                    total += p.text.0;
                    if let Some(ImageUrl::Object { url } | ImageUrl::Url(url)) = p.image_url {
                        total += crate::image::image_tokens(&url).map_err(de::Error::custom)?;
                    }
                }
                Ok(ContentWords(total))
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// One content part: the words of its `text`, and a picture's patches
/// ([`crate::image::image_tokens`]).
#[derive(Deserialize)]
struct Part {
    #[serde(default)]
    text: TextWords,
    #[serde(default)]
    image_url: Option<ImageUrl>,
}

/// An `image_url` part's picture: `{"url": ...}` (chat) or the URL itself (Responses'
/// `input_image`).
#[derive(Deserialize)]
#[serde(untagged)]
enum ImageUrl {
    Object { url: String },
    Url(String),
}

/// Words in a string.
#[derive(Debug, Default, Clone, Copy)]
struct TextWords(u64);

impl<'de> Deserialize<'de> for TextWords {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TextWords;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(TextWords(words(v)))
            }
        }
        deserializer.deserialize_str(V)
    }
}

/// Tokens in a completion prompt: words of a string, one per token id, summed over arrays.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PromptTokens(pub u64);

impl<'de> Deserialize<'de> for PromptTokens {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = PromptTokens;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string, a token id, or an array of them")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(PromptTokens(words(v)))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(PromptTokens(1))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(PromptTokens(1))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut total = 0;
                while let Some(p) = seq.next_element::<PromptTokens>()? {
                    total += p.0;
                }
                Ok(PromptTokens(total))
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// An OpenAI error body: `{"error":{"message":..,"type":..,"code":..}}`.
pub(crate) fn error_body(message: &str, kind: &str, code: u16) -> Bytes {
    #[derive(Serialize)]
    struct Inner<'a> {
        message: &'a str,
        #[serde(rename = "type")]
        kind: &'a str,
        code: u16,
    }
    #[derive(Serialize)]
    struct Outer<'a> {
        error: Inner<'a>,
    }
    let body = Outer {
        error: Inner {
            message,
            kind,
            code,
        },
    };
    // Serializing plain strings and integers into a Vec cannot fail.
    Bytes::from(serde_json::to_vec(&body).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cjk_ideographs_count_one_each() {
        assert_eq!(words("熵熵熵"), 3);
        assert_eq!(words("熵 熵熵 ok"), 4);
        assert_eq!(words("caf\u{e9} ok"), 2);
    }

    #[test]
    fn chat_pictures_count_their_patches() {
        let png = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAADwAAAAe"; // 60×30: 3·2
        let body = format!(
            r#"{{"messages":[{{"role":"user","content":[{{"type":"text","text":"a b"}},{{"type":"image_url","image_url":{{"url":"{png}"}}}}]}}]}}"#
        );
        let r = GenerateRequest::parse(body.as_bytes()).expect("parses");
        assert_eq!(r.messages, Some(MessagesWords(2 + 6)));
        let bad = body.replace("iVBOR", "!!");
        assert!(GenerateRequest::parse(bad.as_bytes()).is_err());
    }

    #[test]
    fn chat_words_counted_across_messages_and_parts() {
        let r = GenerateRequest::parse(
            br#"{"model":"m","messages":[
                {"role":"system","content":"you are  helpful"},
                {"role":"user","content":[{"type":"text","text":"one two\nthree"},{"type":"image_url","image_url":{"url":"x"}}]},
                {"role":"assistant","content":null,"tool_calls":[]},
                {"role":"user","content":"caf\u00e9 ok"}
            ],"stream":true,"max_tokens":7,"temperature":0.2,
            "stream_options":{"include_usage":true}}"#,
        )
        .unwrap();
        assert_eq!(r.messages, Some(MessagesWords(8)));
        assert_eq!(r.model.as_deref(), Some("m"));
        assert!(r.stream());
        assert!(r.include_usage());
        assert_eq!(r.max_tokens(), Some(7));
    }

    #[test]
    fn prompt_forms_counted() {
        let p = |s: &str| GenerateRequest::parse(s.as_bytes()).unwrap().prompt;
        assert_eq!(p(r#"{"prompt":"a b c"}"#), Some(PromptTokens(3)));
        assert_eq!(p(r#"{"prompt":["a b","c"]}"#), Some(PromptTokens(3)));
        assert_eq!(p(r#"{"prompt":[1,2,3,4]}"#), Some(PromptTokens(4)));
        assert_eq!(p(r#"{"prompt":[[1,2],[3]]}"#), Some(PromptTokens(3)));
    }

    #[test]
    fn responses_input_counted() {
        let r = GenerateRequest::parse(br#"{"input":"a b c","max_output_tokens":4}"#).unwrap();
        assert_eq!(r.input, Some(InputWords(3)));
        assert_eq!(r.max_tokens(), Some(4));
        let r = GenerateRequest::parse(
            br#"{"input":[{"role":"system","content":"be brief"},
            {"role":"user","content":[{"type":"input_text","text":"one two three"},{"type":"input_image","image_url":"x"}]},
            "loose words"],"max_tokens":9}"#,
        )
        .unwrap();
        assert_eq!(r.input, Some(InputWords(7)));
        assert!(GenerateRequest::parse(br#"{"input":5}"#).is_err());
    }

    #[test]
    fn max_completion_tokens_wins_and_defaults_apply() {
        let r = GenerateRequest::parse(br#"{"max_tokens":5,"max_completion_tokens":9}"#).unwrap();
        assert_eq!(r.max_tokens(), Some(9));
        let r = GenerateRequest::parse(br#"{"stream":null,"max_tokens":null}"#).unwrap();
        assert!(!r.stream());
        assert!(!r.include_usage());
        assert_eq!(r.max_tokens(), None);
    }

    #[test]
    fn bad_bodies_rejected() {
        assert!(GenerateRequest::parse(b"{not json").is_err());
        assert!(GenerateRequest::parse(br#"{"messages":"hi"}"#).is_err());
        assert!(GenerateRequest::parse(br#"{"max_tokens":-1}"#).is_err());
        assert!(GenerateRequest::parse(br#"{"messages":[{"content":5}]}"#).is_err());
    }

    #[test]
    fn last_user_content_found() {
        let body = br#"{"messages":[
            {"role":"system","content":"sys"},
            {"role":"user","content":"first"},
            {"role":"assistant","content":"reply"},
            {"role":"user","content":"caf\u00e9 \"q\"\n"},
            {"role":"assistant","content":null}
        ]}"#;
        assert_eq!(
            last_user_content(body).as_deref(),
            Some("caf\u{e9} \"q\"\n")
        );
        let parts = br#"{"messages":[{"role":"user","content":[{"type":"text","text":"x"}]}]}"#;
        assert_eq!(last_user_content(parts), None);
        assert_eq!(last_user_content(br#"{"prompt":"x"}"#), None);
        assert_eq!(last_user_content(b"{bad"), None);
    }

    #[test]
    fn error_body_shape() {
        let v: serde_json::Value =
            serde_json::from_slice(&error_body("bad \"x\"", "invalid_request_error", 400)).unwrap();
        assert_eq!(v["error"]["message"], "bad \"x\"");
        assert_eq!(v["error"]["type"], "invalid_request_error");
        assert_eq!(v["error"]["code"], 400);
    }
}
