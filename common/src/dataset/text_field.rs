//! Records whose prompt is one string field: `openqa`'s `question`, `longalpaca`'s `instruction`.

use serde_json::Value;

use super::field::{FieldError, describe, prompt_text};
use crate::prompt::Prompt;

/// The trimmed string in `field` of the object `value`, as a text prompt.
pub(crate) fn prompt(value: &Value, field: &str) -> Result<Prompt, FieldError> {
    let Value::Object(map) = value else {
        return Err(FieldError::record(format!(
            "expected an object with a string `{field}`, found {}",
            describe(value)
        )));
    };
    prompt_text(field, map.get(field)).map(Prompt::text)
}
