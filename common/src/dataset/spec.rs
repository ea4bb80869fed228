//! What to load: the dataset's format, file and EvalScope's prompt options.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::DatasetKind;

/// EvalScope's default `--max-prompt-length`.
pub const DEFAULT_MAX_PROMPT_LENGTH: usize = 131_072;
/// EvalScope's default `--seed`.
pub const DEFAULT_SEED: u64 = 42;

/// What to do with a record that cannot become a prompt.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BadLinePolicy {
    /// Record it in [`super::LoadedDataset::skipped`] (or [`super::LoadStats::skipped`]) and go
    /// on.
    Skip,
    /// Stop loading with [`super::DatasetError::BadLine`] (EvalScope stops on a bad line too).
    #[default]
    Fail,
}

/// A load dataset and the options that shape its prompts (EvalScope's perf prompt settings).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetSpec {
    /// The file format, or `random`.
    pub kind: DatasetKind,
    /// The dataset file; required except for `random`, which ignores it.
    #[serde(default)]
    pub path: Option<PathBuf>,
    /// Lower length bound. Files: keep prompts at least this long (tokens with a tokenizer,
    /// else characters). `random`: the shortest generated length, in tokens, inclusive.
    #[serde(default)]
    pub min_prompt_length: usize,
    /// Upper length bound. Files: keep prompts at most this long. `random`: the longest
    /// generated length, inclusive.
    #[serde(default = "default_max_prompt_length")]
    pub max_prompt_length: usize,
    /// `random` only: tokens of a prefix shared by every prompt, added to the sampled length.
    #[serde(default)]
    pub prefix_length: usize,
    /// `random`: how many prompts to make (above 0). Files: keep the first `number` prompts that
    /// pass the length filter; 0 keeps all.
    #[serde(default)]
    pub number: usize,
    /// Seed of `random`'s generator; the same seed, spec and tokenizer give the same prompts.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// What to do with bad records.
    #[serde(default)]
    pub on_bad_line: BadLinePolicy,
    /// A system message put before every prompt, turning text prompts into chat messages.
    #[serde(default)]
    pub system_prompt: Option<String>,
    /// `*_embedding_batch`: texts per request (EvalScope's `--extra-args '{"batch_size": N}'`,
    /// default 8).
    #[serde(default = "default_batch_size")]
    pub batch_size: usize,
    /// `random_rerank`: documents per query (`num_documents`, default 10).
    #[serde(default = "default_num_documents")]
    pub num_documents: usize,
    /// `random_rerank`: a document's length over its query's (`document_length_ratio`,
    /// default 5; the document is `int(query_len * ratio)` tokens, at least 1).
    #[serde(default = "default_document_length_ratio")]
    pub document_length_ratio: f64,
    /// `random_multi_turn`: the fewest user turns of a conversation (EvalScope's `--min-turns`,
    /// default 1; 0 counts as 1).
    #[serde(default = "default_min_turns")]
    pub min_turns: usize,
    /// Multi-turn datasets: the most user turns of a conversation (EvalScope's `--max-turns`):
    /// `random_multi_turn` draws up to it (required there), the others cut longer
    /// conversations to it.
    #[serde(default)]
    pub max_turns: Option<usize>,
}

/// EvalScope's default `--min-turns`.
pub const DEFAULT_MIN_TURNS: usize = 1;

fn default_min_turns() -> usize {
    DEFAULT_MIN_TURNS
}

/// EvalScope's default `batch_size` of the batch embedding datasets.
pub const DEFAULT_BATCH_SIZE: usize = 8;
/// EvalScope's default `num_documents` of `random_rerank`.
pub const DEFAULT_NUM_DOCUMENTS: usize = 10;
/// EvalScope's default `document_length_ratio` of `random_rerank`.
pub const DEFAULT_DOCUMENT_LENGTH_RATIO: f64 = 5.0;

fn default_batch_size() -> usize {
    DEFAULT_BATCH_SIZE
}

fn default_num_documents() -> usize {
    DEFAULT_NUM_DOCUMENTS
}

fn default_document_length_ratio() -> f64 {
    DEFAULT_DOCUMENT_LENGTH_RATIO
}

fn default_max_prompt_length() -> usize {
    DEFAULT_MAX_PROMPT_LENGTH
}

fn default_seed() -> u64 {
    DEFAULT_SEED
}

impl DatasetSpec {
    /// A spec with EvalScope's defaults: lengths `0 < len < 131072`, no prefix, all records,
    /// seed 42, failing on the first bad line, no system prompt.
    pub fn new(kind: DatasetKind, path: Option<PathBuf>) -> Self {
        Self {
            kind,
            path,
            min_prompt_length: 0,
            max_prompt_length: DEFAULT_MAX_PROMPT_LENGTH,
            prefix_length: 0,
            number: 0,
            seed: DEFAULT_SEED,
            on_bad_line: BadLinePolicy::Fail,
            system_prompt: None,
            batch_size: DEFAULT_BATCH_SIZE,
            num_documents: DEFAULT_NUM_DOCUMENTS,
            document_length_ratio: DEFAULT_DOCUMENT_LENGTH_RATIO,
            min_turns: DEFAULT_MIN_TURNS,
            max_turns: None,
        }
    }
}
