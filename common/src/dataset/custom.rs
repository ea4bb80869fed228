//! `custom` records: chat messages, a prompt, or a whole request body (rule in [`prompt`]).

use serde_json::{Map, Value};

use super::field::{FieldError, describe, prompt_text};
use super::messages;
use crate::prompt::{Prompt, PromptBody};

/// One `custom` record as a prompt:
/// - a JSON array → its chat messages, as `Messages`;
/// - `{"messages": [...]}` alone → `Messages`;
/// - `{"prompt": "..."}` alone → `Text` (trimmed);
/// - `{"body": {...}}` alone → `Body` of the inner object;
/// - an object with `messages` or `prompt` and other keys → `Body` of the whole object.
///
/// A body has `messages` or `prompt`, never both. Messages need a string `role` and a string or
/// array `content`; prompts must not be blank.
pub(crate) fn prompt(value: &Value) -> Result<Prompt, FieldError> {
    let body = match value {
        Value::Array(list) => {
            messages::check(list, "")?;
            PromptBody::Messages {
                messages: list.clone(),
            }
        }
        Value::Object(map) if map.contains_key("body") => {
            if map.len() > 1 {
                return Err(FieldError::new(
                    "body",
                    "`body` must be the only key of the record",
                ));
            }
            match map.get("body") {
                Some(Value::Object(inner)) => {
                    check_body(inner, "body.")?;
                    PromptBody::Body {
                        body: inner.clone(),
                    }
                }
                Some(other) => return Err(FieldError::wrong_type("body", "an object", other)),
                None => return Err(FieldError::missing("body")),
            }
        }
        Value::Object(map) => {
            check_body(map, "")?;
            match (map.len(), map.get("messages")) {
                (1, Some(Value::Array(list))) => PromptBody::Messages {
                    messages: list.clone(),
                },
                (1, None) => PromptBody::Text {
                    text: prompt_text("prompt", map.get("prompt"))?,
                },
                _ => PromptBody::Body { body: map.clone() },
            }
        }
        other => {
            return Err(FieldError::record(format!(
                "expected an array of messages or an object with `messages`, `prompt` or `body`, found {}",
                describe(other)
            )));
        }
    };
    Ok(Prompt { body, tokens: None })
}

/// Checks a request body has valid `messages` or a non-blank `prompt`; `prefix` locates it.
fn check_body(map: &Map<String, Value>, prefix: &str) -> Result<(), FieldError> {
    match (map.get("messages"), map.get("prompt")) {
        (Some(_), Some(_)) => Err(FieldError::new(
            format!("{prefix}prompt"),
            "give either `messages` or `prompt`, not both",
        )),
        (Some(Value::Array(list)), None) => messages::check(list, &format!("{prefix}messages")),
        (Some(other), None) => Err(FieldError::wrong_type(
            format!("{prefix}messages"),
            "an array",
            other,
        )),
        (None, Some(p)) => prompt_text(&format!("{prefix}prompt"), Some(p)).map(|_| ()),
        (None, None) if prefix.is_empty() => Err(FieldError::record(
            "expected `messages`, `prompt` or `body` in the record",
        )),
        (None, None) => Err(FieldError::new(
            "body",
            "expected `messages` or `prompt` in the body",
        )),
    }
}
