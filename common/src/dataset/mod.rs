//! Load datasets: files in EvalScope's perf formats, or generated prompts, turned into
//! [`Prompt`]s.
//!
//! # Formats
//! - `openqa`: JSON lines, each an object with a string `question` → text.
//! - `longalpaca`: a JSON list of objects with a string `instruction` → text.
//! - `line_by_line`: plain text, each non-blank line → text; blank lines are not records.
//! - `sharegpt` (or `share_gpt`): a JSON list of `{"id", "conversations": [{"from", "value"}]}`;
//!   the first turn from `human` (or `user`) → text.
//! - `custom`: JSON lines, each one of (the first rule that matches):
//!   - a JSON array of chat messages → [`PromptBody::Messages`];
//!   - an object whose only key is `messages` → `Messages`;
//!   - an object whose only key is `prompt` (a string) → [`PromptBody::Text`];
//!   - an object whose only key is `body` (an object) → [`PromptBody::Body`] of that object;
//!   - an object with `messages` or `prompt` plus other keys (`model`, `max_tokens`, ...) →
//!     `Body` of the whole object, to be sent as the request body.
//!
//!   Messages need a string `role` and a `content` that is a string or an array of parts; a body
//!   holds `messages` or `prompt`, not both.
//! - `random`: no file; see [`DatasetSpec`] and [`load`].
//!
//! Text prompts are trimmed, as EvalScope does; blank ones are bad records. Blank lines in JSON
//! lines files are ignored.
//!
//! # Length filter
//! For file kinds a prompt is kept when `min_prompt_length < length < max_prompt_length` (both
//! bounds exclusive, as in EvalScope's perf plugins). The length is the token count of
//! [`Prompt::plain_text`] when a tokenizer is given (and then stored in [`Prompt::tokens`]), else
//! its count of Unicode characters (what EvalScope measured before it required a tokenizer).
//! Lengths and `tokens` exclude the system prompt. With `number > 0`, loading stops at the
//! `number`-th kept prompt; later lines are not read.
//!
//! # Bad records
//! Invalid JSON, a missing or mistyped field, or a blank prompt make a [`LineError`] naming the
//! file, the 1-based line and the field. For JSON-list kinds the line is where the element starts
//! and the field starts with the element's 0-based index (`[3].instruction`), since such files
//! are often one line long; a syntax error there ends the list, as nothing after it can be
//! delimited.

mod collect;
mod custom;
mod error;
mod field;
mod json_array;
mod jsonl;
mod kind;
mod line_by_line;
mod lines;
mod messages;
mod random;
mod sharegpt;
mod spec;
mod system;
mod text_field;

use std::path::Path;

pub use error::{DatasetError, LineError};
pub use kind::{DatasetKind, UnknownDatasetKind};
pub use spec::{BadLinePolicy, DEFAULT_MAX_PROMPT_LENGTH, DEFAULT_SEED, DatasetSpec};

use crate::prompt::Prompt;
#[cfg(doc)]
use crate::prompt::PromptBody;
use crate::tokenize::TokenCounter;
use collect::Collector;
use field::FieldError;

/// The prompts of a dataset, and the records skipped under [`BadLinePolicy::Skip`].
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedDataset {
    /// Kept prompts, in file order (or generation order).
    pub prompts: Vec<Prompt>,
    /// Bad records passed over, in file order.
    pub skipped: Vec<LineError>,
}

/// Loads the dataset `spec` describes.
///
/// File kinds read `spec.path` and measure prompts with `tokenizer` if given. `random` needs
/// `tokenizer` and `number > 0`, and makes `number` prompts: a shared prefix of `prefix_length`
/// tokens plus a length drawn uniformly from `[min_prompt_length, max_prompt_length]`
/// (inclusive; the total is prefix plus drawn length, as in EvalScope), each text encoding to
/// exactly [`Prompt::tokens`] ids. The same spec and tokenizer always give the same prompts.
pub fn load(
    spec: &DatasetSpec,
    tokenizer: Option<&dyn TokenCounter>,
) -> Result<LoadedDataset, DatasetError> {
    check_bounds(spec)?;
    if spec.kind == DatasetKind::Random {
        return random::generate(spec, tokenizer);
    }
    let path = spec
        .path
        .as_deref()
        .ok_or(DatasetError::MissingPath { kind: spec.kind })?;
    let bytes = std::fs::read(path).map_err(|source| DatasetError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    load_bytes(spec, path, &bytes, tokenizer)
}

/// Like [`load`], reading the dataset from `bytes`; `source` names it in errors and
/// `spec.path` is ignored. `random` ignores `bytes`.
pub fn load_bytes(
    spec: &DatasetSpec,
    source: &Path,
    bytes: &[u8],
    tokenizer: Option<&dyn TokenCounter>,
) -> Result<LoadedDataset, DatasetError> {
    check_bounds(spec)?;
    let mut out = Collector::new(spec, source, tokenizer);
    match spec.kind {
        DatasetKind::Random => return random::generate(spec, tokenizer),
        DatasetKind::OpenQa => from_lines(&mut out, bytes, |v| text_field::prompt(v, "question"))?,
        DatasetKind::Custom => from_lines(&mut out, bytes, custom::prompt)?,
        DatasetKind::LongAlpaca => from_list(&mut out, source, bytes, |v| {
            text_field::prompt(v, "instruction")
        })?,
        DatasetKind::ShareGpt => from_list(&mut out, source, bytes, sharegpt::prompt)?,
        DatasetKind::LineByLine => feed(&mut out, line_by_line::records(bytes))?,
    }
    out.finish()
}

fn check_bounds(spec: &DatasetSpec) -> Result<(), DatasetError> {
    if spec.min_prompt_length > spec.max_prompt_length {
        return Err(DatasetError::Bounds {
            min: spec.min_prompt_length,
            max: spec.max_prompt_length,
        });
    }
    Ok(())
}

/// Feeds each JSON line through `parse` into `out`.
fn from_lines(
    out: &mut Collector<'_>,
    bytes: &[u8],
    parse: impl Fn(&serde_json::Value) -> Result<Prompt, FieldError>,
) -> Result<(), DatasetError> {
    feed(
        out,
        jsonl::records(bytes).map(|(line, value)| (line, value.and_then(|v| parse(&v)))),
    )
}

/// Feeds each element of a JSON list through `parse` into `out`.
fn from_list(
    out: &mut Collector<'_>,
    source: &Path,
    bytes: &[u8],
    parse: impl Fn(&serde_json::Value) -> Result<Prompt, FieldError>,
) -> Result<(), DatasetError> {
    let elements = json_array::elements(bytes).map_err(|e| DatasetError::NotJsonArray {
        path: source.to_path_buf(),
        line: e.line,
        found: e.found,
    })?;
    feed(
        out,
        elements.map(|(line, element)| {
            (
                line,
                element.and_then(|(i, v)| parse(&v).map_err(|e| e.in_element(i))),
            )
        }),
    )
}

/// Pushes `records` into `out` until it has enough.
fn feed(
    out: &mut Collector<'_>,
    records: impl Iterator<Item = (usize, Result<Prompt, FieldError>)>,
) -> Result<(), DatasetError> {
    for (line, parsed) in records {
        if !out.push(line, parsed)? {
            break;
        }
    }
    Ok(())
}
