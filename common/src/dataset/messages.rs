//! Checking OpenAI chat messages.

use serde_json::Value;

use super::field::FieldError;

/// Checks `messages` is a non-empty list of objects with a string `role` and a `content` that is a
/// string or an array of parts. `field` names the list in errors (`messages`, or `` for a bare
/// list).
pub(crate) fn check(messages: &[Value], field: &str) -> Result<(), FieldError> {
    if messages.is_empty() {
        let name = if field.is_empty() { "[]" } else { field };
        return Err(FieldError::new(name, "empty message list"));
    }
    for (i, message) in messages.iter().enumerate() {
        let at = format!("{field}[{i}]");
        let Value::Object(map) = message else {
            return Err(FieldError::wrong_type(at, "a message object", message));
        };
        match map.get("role") {
            None => return Err(FieldError::missing(format!("{at}.role"))),
            Some(Value::String(_)) => {}
            Some(other) => {
                return Err(FieldError::wrong_type(
                    format!("{at}.role"),
                    "a string",
                    other,
                ));
            }
        }
        match map.get("content") {
            None => return Err(FieldError::missing(format!("{at}.content"))),
            Some(Value::String(_) | Value::Array(_)) => {}
            Some(other) => {
                let expected = "a string or an array of parts";
                return Err(FieldError::wrong_type(
                    format!("{at}.content"),
                    expected,
                    other,
                ));
            }
        }
    }
    Ok(())
}
