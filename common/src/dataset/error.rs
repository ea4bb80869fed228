//! What went wrong loading a dataset, down to the line and field.

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::DatasetKind;

/// One record that could not become a prompt.
///
/// `line` is 1-based. For JSON-list files (`longalpaca`, `sharegpt`) it is the line where the
/// element starts and `field` begins with the element's 0-based index, as in `[3].instruction`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineError {
    /// The dataset file.
    pub path: PathBuf,
    /// 1-based line number.
    pub line: usize,
    /// The offending field, as a path (`messages[2].role`), when one field is to blame.
    pub field: Option<String>,
    /// What is wrong, with the offending value.
    pub message: String,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: ", self.path.display(), self.line)?;
        if let Some(field) = &self.field {
            write!(f, "field `{field}`: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for LineError {}

/// Why a dataset could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    /// The file is missing or unreadable.
    #[error("cannot read dataset `{path}`: {source}")]
    Io {
        /// The dataset file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The sink refused a prompt (too large for a message, disk full, ...); the message names
    /// the record.
    #[error("{0}")]
    Sink(String),
    /// A bad record, under [`super::BadLinePolicy::Fail`].
    #[error(transparent)]
    BadLine(LineError),
    /// A file-backed kind was given no path.
    #[error("dataset `{kind}` needs a path")]
    MissingPath {
        /// The kind that needs one.
        kind: DatasetKind,
    },
    /// `random` was given no tokenizer.
    #[error("dataset `{kind}` needs a tokenizer to make prompts of exact token lengths")]
    TokenizerRequired {
        /// The kind that needs one.
        kind: DatasetKind,
    },
    /// The length bounds are upside down.
    #[error("min_prompt_length {min} is greater than max_prompt_length {max}")]
    Bounds {
        /// `min_prompt_length`.
        min: usize,
        /// `max_prompt_length`.
        max: usize,
    },
    /// `random` was asked for no prompts.
    #[error("dataset `random` needs `number` above 0, got 0")]
    ZeroNumber,
    /// The turn bounds of a multi-turn dataset are missing or upside down.
    #[error("{message}")]
    Turns {
        /// What is wrong, naming the flags.
        message: String,
    },
    /// A JSON-list file that does not hold a list.
    #[error("{}:{line}: expected a json array of records, found {found}", path.display())]
    NotJsonArray {
        /// The dataset file.
        path: PathBuf,
        /// 1-based line of the first non-blank character.
        line: usize,
        /// What was there instead.
        found: String,
    },
    /// Every record was bad or filtered out.
    #[error(
        "no prompts left in `{path}`: {records} records read, {skipped} bad, {filtered} outside \
         {min} < length < {max} ({unit})",
        path = path.display()
    )]
    Empty {
        /// The dataset file.
        path: PathBuf,
        /// Records read (good and bad).
        records: usize,
        /// Bad records skipped.
        skipped: usize,
        /// Good records outside the length bounds.
        filtered: usize,
        /// `min_prompt_length`.
        min: usize,
        /// `max_prompt_length`.
        max: usize,
        /// `tokens` or `characters`.
        unit: &'static str,
    },
    /// The tokenizer decodes no single token to text that encodes back to it.
    #[error("tokenizer `{tokenizer}` has no token whose text encodes back to it")]
    NoUsableTokens {
        /// The tokenizer's name.
        tokenizer: String,
    },
    /// No text of exactly the target length was found within the allowed tries.
    #[error(
        "could not make a prompt of exactly {target} tokens with tokenizer `{tokenizer}` in {tries} tries"
    )]
    ExactLength {
        /// The tokenizer's name.
        tokenizer: String,
        /// The wanted token count.
        target: usize,
        /// Attempts made.
        tries: usize,
    },
}
