//! `line_by_line`: plain text, one prompt per non-blank line.

use super::field::FieldError;
use crate::prompt::Prompt;

/// `line`, trimmed, as a text prompt; `None` for a blank line. A line that is not UTF-8 is a
/// bad record.
pub(crate) fn record(line: &[u8]) -> Option<Result<Prompt, FieldError>> {
    match std::str::from_utf8(line) {
        Ok(text) if text.trim().is_empty() => None,
        Ok(text) => Some(Ok(Prompt::text(text.trim()))),
        Err(e) => {
            let message = format!("invalid utf-8 at byte {}", e.valid_up_to() + 1);
            Some(Err(FieldError::record(message)))
        }
    }
}
