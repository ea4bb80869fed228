//! Token counting: one interface over HuggingFace `tokenizer.json` files and OpenAI's tiktoken
//! encodings, used to measure prompts and to build prompts of an exact token length.

mod error;
mod hf;
mod tiktoken;

use std::path::Path;
use std::sync::Arc;

pub use error::TokenizerError;
pub use hf::HfTokenizer;
pub use tiktoken::{TIKTOKEN_ENCODINGS, TiktokenTokenizer};

/// Counts, encodes and decodes text for one tokenizer.
///
/// Implementations never add special tokens (no BOS/EOS) when encoding, and decode special
/// tokens to nothing, so `decode` yields text a user could have typed.
pub trait TokenCounter: Send + Sync + std::fmt::Debug {
    /// Number of tokens in `text`, no special tokens added.
    fn count(&self, text: &str) -> usize;
    /// Token ids of `text`, no special tokens added.
    fn encode(&self, text: &str) -> Vec<u32>;
    /// Text of `ids`; special tokens and ids outside the vocabulary yield nothing, and bytes that
    /// are not valid UTF-8 become U+FFFD.
    fn decode(&self, ids: &[u32]) -> String;
    /// One past the largest token id; every valid id is below it.
    fn vocab_size(&self) -> usize;
    /// What the tokenizer was loaded from: a path or an encoding name.
    fn name(&self) -> &str;
}

/// Whether a tokenizer spec names a file (a `tokenizer.json` path) rather than a built-in
/// tiktoken encoding or model name.
pub fn names_file(spec: &str) -> bool {
    !(spec.starts_with("tiktoken:") || TiktokenTokenizer::is_encoding(spec))
}

/// Loads a tokenizer from `spec`.
///
/// `spec` is, in this order of precedence:
/// - a tiktoken encoding name (`cl100k_base`, `o200k_base`, `p50k_base`, `r50k_base`, ...),
///   built in and available offline;
/// - `tiktoken:<encoding or OpenAI model>`, e.g. `tiktoken:gpt-4o`;
/// - a path to a HuggingFace `tokenizer.json`, or to a directory holding one (a model directory,
///   as EvalScope's `--tokenizer-path` takes).
pub fn load_tokenizer(spec: &str) -> Result<Arc<dyn TokenCounter>, TokenizerError> {
    if let Some(tok) = TiktokenTokenizer::from_encoding(spec) {
        return Ok(Arc::new(tok?));
    }
    if let Some(name) = spec.strip_prefix("tiktoken:") {
        return match TiktokenTokenizer::from_encoding(name) {
            Some(tok) => Ok(Arc::new(tok?)),
            None => Ok(Arc::new(TiktokenTokenizer::from_model(name)?)),
        };
    }
    Ok(Arc::new(HfTokenizer::from_path(Path::new(spec))?))
}
