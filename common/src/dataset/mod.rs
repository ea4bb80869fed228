//! Load datasets: files in EvalScope's perf formats, or generated prompts, turned into
//! [`Prompt`]s.
//!
//! # Streaming
//! Files are read as a stream, never whole: JSON lines and text one line at a time, JSON lists
//! one element at a time, so memory holds one record (plus a read buffer of 256 KiB) whatever
//! the file's size. Each kept prompt goes to a [`PromptSink`] as soon as it is made
//! ([`load_into`], [`load_reader_into`]); [`load`] and [`load_bytes`] collect them in a `Vec`.
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
//! - `speed_benchmark`, `speed_benchmark_long`: no file; EvalScope's fixed completion prompts.
//!
//! Text prompts are trimmed, as EvalScope does; blank ones are bad records. Blank lines in JSON
//! lines files are ignored.
//!
//! # Length filter
//! For file kinds a prompt is kept when `min_prompt_length <= length <= max_prompt_length` (both
//! bounds inclusive, as EvalScope's `check_prompt_length` since 1.10). The length is the token
//! count of [`Prompt::plain_text`] when a tokenizer is given (and then stored in
//! [`Prompt::tokens`]), else its count of Unicode characters, as EvalScope counts without a
//! tokenizer. Where we differ: with a tokenizer EvalScope counts the chat-templated message when
//! the tokenizer has a chat template; we count the prompt's text (our tokenizers carry no
//! template), so a prompt near a bound may be kept by one and not the other.
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
mod multi_turn;
pub(crate) mod random;
mod retrieval;
mod sharegpt;
mod spec;
mod speed;
mod system;
mod text_field;
pub mod vl;

use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::Path;

pub use error::{DatasetError, LineError};
pub use kind::{DatasetKind, UnknownDatasetKind};
pub use spec::{BadLinePolicy, DEFAULT_MAX_PROMPT_LENGTH, DEFAULT_SEED, DatasetSpec};
pub use speed::input_lengths as speed_benchmark_lengths;

use crate::prompt::Prompt;
#[cfg(doc)]
use crate::prompt::PromptBody;
use crate::tokenize::TokenCounter;
use collect::Collector;
use field::FieldError;
use json_array::StartError;
use lines::Lines;

/// Bad records kept in [`LoadStats::skipped`]; later ones are only counted.
pub const MAX_SKIPPED: usize = 1000;

/// Bytes read from a dataset file at a time.
const READ_BUFFER: usize = 256 * 1024;

/// Where loaded prompts go, one at a time, in order.
pub trait PromptSink {
    /// Takes the next kept prompt.
    fn push(&mut self, prompt: Prompt) -> Result<(), DatasetError>;
}

impl PromptSink for Vec<Prompt> {
    fn push(&mut self, prompt: Prompt) -> Result<(), DatasetError> {
        Vec::push(self, prompt);
        Ok(())
    }
}

/// The prompts of a dataset, and the records skipped under [`BadLinePolicy::Skip`].
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedDataset {
    /// Kept prompts, in file order (or generation order).
    pub prompts: Vec<Prompt>,
    /// Bad records passed over, in file order.
    pub skipped: Vec<LineError>,
}

/// What loading into a sink kept and skipped.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LoadStats {
    /// Prompts given to the sink.
    pub kept: usize,
    /// The first [`MAX_SKIPPED`] bad records passed over under [`BadLinePolicy::Skip`], in file
    /// order.
    pub skipped: Vec<LineError>,
    /// All bad records passed over, including those beyond [`MAX_SKIPPED`].
    pub skipped_total: usize,
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
    let mut prompts = Vec::new();
    let stats = open_into(spec, tokenizer, &mut prompts, usize::MAX)?;
    Ok(LoadedDataset {
        prompts,
        skipped: stats.skipped,
    })
}

/// Like [`load`], reading the dataset from `bytes`; `source` names it in errors and
/// `spec.path` is ignored. `random` ignores `bytes`.
pub fn load_bytes(
    spec: &DatasetSpec,
    source: &Path,
    bytes: &[u8],
    tokenizer: Option<&dyn TokenCounter>,
) -> Result<LoadedDataset, DatasetError> {
    let mut prompts = Vec::new();
    let stats = read_into(spec, source, bytes, tokenizer, &mut prompts, usize::MAX)?;
    Ok(LoadedDataset {
        prompts,
        skipped: stats.skipped,
    })
}

/// Like [`load`], giving each kept prompt to `sink` as it is read instead of collecting them;
/// the file is read as a stream.
pub fn load_into(
    spec: &DatasetSpec,
    tokenizer: Option<&dyn TokenCounter>,
    sink: &mut dyn PromptSink,
) -> Result<LoadStats, DatasetError> {
    open_into(spec, tokenizer, sink, MAX_SKIPPED)
}

/// Like [`load_into`], reading the dataset from `reader`; `source` names it in errors and
/// `spec.path` is ignored. `random` ignores `reader`. With `number > 0`, reading stops after
/// the `number`-th kept prompt.
pub fn load_reader_into(
    spec: &DatasetSpec,
    source: &Path,
    reader: impl BufRead,
    tokenizer: Option<&dyn TokenCounter>,
    sink: &mut dyn PromptSink,
) -> Result<LoadStats, DatasetError> {
    read_into(spec, source, reader, tokenizer, sink, MAX_SKIPPED)
}

fn open_into(
    spec: &DatasetSpec,
    tokenizer: Option<&dyn TokenCounter>,
    sink: &mut dyn PromptSink,
    max_skipped: usize,
) -> Result<LoadStats, DatasetError> {
    check_bounds(spec)?;
    if spec.kind.is_speed_benchmark() {
        return speed::generate(spec, sink);
    }
    if spec.kind.is_generated() {
        return random::generate(spec, tokenizer, sink);
    }
    if spec.kind == DatasetKind::RandomMultiTurn {
        return random::generate_conversations(spec, tokenizer, sink);
    }
    let path = spec
        .path
        .as_deref()
        .ok_or(DatasetError::MissingPath { kind: spec.kind })?;
    let file = File::open(path).map_err(|e| io_error(path, e))?;
    let reader = BufReader::with_capacity(READ_BUFFER, file);
    read_into(spec, path, reader, tokenizer, sink, max_skipped)
}

fn read_into(
    spec: &DatasetSpec,
    source: &Path,
    reader: impl BufRead,
    tokenizer: Option<&dyn TokenCounter>,
    sink: &mut dyn PromptSink,
    max_skipped: usize,
) -> Result<LoadStats, DatasetError> {
    check_bounds(spec)?;
    if spec.kind.is_speed_benchmark() {
        return speed::generate(spec, sink);
    }
    if spec.kind.is_generated() {
        return random::generate(spec, tokenizer, sink);
    }
    if spec.kind == DatasetKind::RandomMultiTurn {
        return random::generate_conversations(spec, tokenizer, sink);
    }
    if spec.kind == DatasetKind::EmbeddingBatch {
        // `number` counts requests: keep `number` batches of texts
        let mut texts = spec.clone();
        texts.kind = DatasetKind::Embedding;
        texts.number = spec.number.saturating_mul(spec.batch_size.max(1));
        let mut batches = retrieval::BatchSink::new(sink, spec.batch_size);
        let stats = read_into(&texts, source, reader, tokenizer, &mut batches, max_skipped)?;
        batches.flush()?;
        return Ok(LoadStats {
            kept: batches.batches,
            ..stats
        });
    }
    let json_list = source
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let text_lines = source
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("txt"));
    let mut out = Collector::new(spec, source, tokenizer, sink, max_skipped);
    match spec.kind {
        // Generated above, with no collector; batches are read as texts above.
        DatasetKind::Random
        | DatasetKind::RandomEmbedding
        | DatasetKind::RandomEmbeddingBatch
        | DatasetKind::RandomRerank
        | DatasetKind::SpeedBenchmark
        | DatasetKind::SpeedBenchmarkLong
        | DatasetKind::EmbeddingBatch
        | DatasetKind::RandomMultiTurn => {}
        DatasetKind::Embedding if json_list => {
            from_list(&mut out, source, reader, retrieval::embedding_record)?
        }
        DatasetKind::Embedding if text_lines => {
            from_lines(&mut out, source, reader, line_by_line::record)?
        }
        DatasetKind::Embedding => from_lines(&mut out, source, reader, |line| {
            json_line(line, retrieval::embedding_record)
        })?,
        DatasetKind::Rerank if json_list => {
            from_list(&mut out, source, reader, retrieval::rerank_record)?
        }
        DatasetKind::Rerank => from_lines(&mut out, source, reader, |line| {
            json_line(line, retrieval::rerank_record)
        })?,
        DatasetKind::OpenQa => from_lines(&mut out, source, reader, |line| {
            json_line(line, |v| text_field::prompt(v, "question"))
        })?,
        DatasetKind::Custom => {
            from_lines(&mut out, source, reader, |line| {
                json_line(line, custom::prompt)
            })?;
        }
        DatasetKind::LongAlpaca => from_list(&mut out, source, reader, |v| {
            text_field::prompt(v, "instruction")
        })?,
        DatasetKind::ShareGpt => from_list(&mut out, source, reader, sharegpt::prompt)?,
        DatasetKind::LineByLine => from_lines(&mut out, source, reader, line_by_line::record)?,
        DatasetKind::ShareGptEnMultiTurn | DatasetKind::ShareGptZhMultiTurn if json_list => {
            from_list(&mut out, source, reader, |v| {
                multi_turn::sharegpt(v, spec.max_turns)
            })?
        }
        DatasetKind::ShareGptEnMultiTurn | DatasetKind::ShareGptZhMultiTurn => {
            from_lines(&mut out, source, reader, |line| {
                json_line(line, |v| multi_turn::sharegpt(v, spec.max_turns))
            })?
        }
        DatasetKind::CustomMultiTurn => from_lines(&mut out, source, reader, |line| {
            json_line(line, |v| multi_turn::custom(v, spec.max_turns))
        })?,
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

fn io_error(path: &Path, source: io::Error) -> DatasetError {
    DatasetError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The record on a JSON line through `parse`; `None` for a blank line.
fn json_line(
    line: &[u8],
    parse: impl Fn(&serde_json::Value) -> Result<Prompt, FieldError>,
) -> Option<Result<Prompt, FieldError>> {
    jsonl::record(line).map(|value| value.and_then(|v| parse(&v)))
}

/// Pushes the record of each line (`None` for none) into `out` until it has enough.
fn from_lines(
    out: &mut Collector<'_>,
    source: &Path,
    reader: impl BufRead,
    record: impl Fn(&[u8]) -> Option<Result<Prompt, FieldError>>,
) -> Result<(), DatasetError> {
    let mut lines = Lines::new(reader);
    while let Some((number, line)) = lines.next_line().map_err(|e| io_error(source, e))? {
        if let Some(parsed) = record(line)
            && !out.push(number, parsed)?
        {
            break;
        }
    }
    Ok(())
}

/// Pushes each element of a JSON list, through `parse`, into `out` until it has enough.
fn from_list(
    out: &mut Collector<'_>,
    source: &Path,
    reader: impl BufRead,
    parse: impl Fn(&serde_json::Value) -> Result<Prompt, FieldError>,
) -> Result<(), DatasetError> {
    let mut elements = json_array::elements(reader).map_err(|e| match e {
        StartError::Io(e) => io_error(source, e),
        StartError::NotArray { line, found } => DatasetError::NotJsonArray {
            path: source.to_path_buf(),
            line,
            found,
        },
    })?;
    while let Some((line, element)) = elements.next_element().map_err(|e| io_error(source, e))? {
        let parsed = element.and_then(|(i, v)| parse(&v).map_err(|e| e.in_element(i)));
        if !out.push(line, parsed)? {
            break;
        }
    }
    Ok(())
}
