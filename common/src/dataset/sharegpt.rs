//! ShareGPT conversations: `{"id", "conversations": [{"from": "human", "value": ...}, ...]}`.

use serde_json::Value;

use super::field::{FieldError, describe, prompt_text};
use crate::prompt::Prompt;

/// The first turn from `human` (or `user`), trimmed, as a text prompt.
pub(crate) fn prompt(value: &Value) -> Result<Prompt, FieldError> {
    let Value::Object(map) = value else {
        return Err(FieldError::record(format!(
            "expected a conversation object, found {}",
            describe(value)
        )));
    };
    let turns = match map.get("conversations") {
        None => return Err(FieldError::missing("conversations")),
        Some(Value::Array(turns)) => turns,
        Some(other) => return Err(FieldError::wrong_type("conversations", "an array", other)),
    };
    let human = turns.iter().position(|turn| {
        matches!(
            turn.get("from").and_then(Value::as_str),
            Some("human" | "user")
        )
    });
    match human {
        Some(i) => prompt_text(&format!("conversations[{i}].value"), turns[i].get("value"))
            .map(Prompt::text),
        None => Err(FieldError::new("conversations", "no turn from `human`")),
    }
}
