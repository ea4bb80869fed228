//! JSON lines: one JSON value per non-blank line.

use serde_json::Value;

use super::field::{FieldError, json_syntax};
use super::lines;

/// The value on `line`, or why it is not JSON; `None` for a blank line, which is no record.
pub(crate) fn record(line: &[u8]) -> Option<Result<Value, FieldError>> {
    if lines::is_blank(line) {
        return None;
    }
    Some(serde_json::from_slice::<Value>(line).map_err(|e| json_syntax(&e, e.column())))
}
