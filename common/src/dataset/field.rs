//! A record's fault before its file and line are attached, and how values are shown in it.

use serde_json::Value;

/// What is wrong with one record: the field to blame (if any) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FieldError {
    pub field: Option<String>,
    pub message: String,
}

impl FieldError {
    /// A fault in `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: Some(field.into()),
            message: message.into(),
        }
    }

    /// A fault of the record as a whole.
    pub fn record(message: impl Into<String>) -> Self {
        Self {
            field: None,
            message: message.into(),
        }
    }

    /// `field` is missing.
    pub fn missing(field: impl Into<String>) -> Self {
        Self::new(field, "missing")
    }

    /// `field` holds `found` where `expected` belongs.
    pub fn wrong_type(field: impl Into<String>, expected: &str, found: &Value) -> Self {
        Self::new(
            field,
            format!("expected {expected}, found {}", describe(found)),
        )
    }

    /// The same fault inside element `index` of a JSON list: `[3].field`.
    pub fn in_element(self, index: usize) -> Self {
        let field = match self.field {
            None => format!("[{index}]"),
            Some(f) if f.starts_with('[') => format!("[{index}]{f}"),
            Some(f) => format!("[{index}].{f}"),
        };
        Self {
            field: Some(field),
            message: self.message,
        }
    }
}

/// A short description of `value` for error messages: `a number (5)`, `a string ("ab…")`.
pub(crate) fn describe(value: &Value) -> String {
    const MAX_CHARS: usize = 40;
    match value {
        Value::Null => "null".to_string(),
        Value::Bool(b) => format!("a boolean ({b})"),
        Value::Number(n) => format!("a number ({n})"),
        Value::String(s) if s.chars().count() > MAX_CHARS => {
            let head: String = s.chars().take(MAX_CHARS).collect();
            format!("a string ({:?}…)", head)
        }
        Value::String(s) => format!("a string ({s:?})"),
        Value::Array(a) => format!("an array of {} items", a.len()),
        Value::Object(_) => "an object".to_string(),
    }
}

/// The message of a JSON syntax error, located at `column` of its line.
pub(crate) fn json_syntax(error: &serde_json::Error, column: usize) -> FieldError {
    let text = error.to_string();
    let what = text
        .rfind(" at line ")
        .map_or(text.as_str(), |i| &text[..i]);
    FieldError::record(format!("invalid json at column {column}: {what}"))
}

/// A trimmed, non-empty prompt text from `field`, or the fault.
pub(crate) fn prompt_text(field: &str, value: Option<&Value>) -> Result<String, FieldError> {
    match value {
        None => Err(FieldError::missing(field)),
        Some(Value::String(s)) => match s.trim() {
            "" => Err(FieldError::new(field, "empty prompt")),
            t => Ok(t.to_string()),
        },
        Some(other) => Err(FieldError::wrong_type(field, "a string", other)),
    }
}
