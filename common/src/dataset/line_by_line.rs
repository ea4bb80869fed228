//! `line_by_line`: plain text, one prompt per non-blank line.

use super::field::FieldError;
use super::lines;
use crate::prompt::Prompt;

/// Each non-blank line, trimmed, as a text prompt; a line that is not UTF-8 is a bad record.
pub(crate) fn records(bytes: &[u8]) -> impl Iterator<Item = (usize, Result<Prompt, FieldError>)> {
    lines::numbered(bytes).filter_map(|(n, raw)| match std::str::from_utf8(raw) {
        Ok(text) if text.trim().is_empty() => None,
        Ok(text) => Some((n, Ok(Prompt::text(text.trim())))),
        Err(e) => {
            let message = format!("invalid utf-8 at byte {}", e.valid_up_to() + 1);
            Some((n, Err(FieldError::record(message))))
        }
    })
}
