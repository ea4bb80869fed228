//! JSON lines: one JSON value per non-blank line.

use serde_json::Value;

use super::field::{FieldError, json_syntax};
use super::lines;

/// Each non-blank line's number and parsed value, or why it is not JSON.
pub(crate) fn records(bytes: &[u8]) -> impl Iterator<Item = (usize, Result<Value, FieldError>)> {
    lines::numbered(bytes)
        .filter(|(_, line)| !lines::is_blank(line))
        .map(|(n, line)| {
            let parsed =
                serde_json::from_slice::<Value>(line).map_err(|e| json_syntax(&e, e.column()));
            (n, parsed)
        })
}
