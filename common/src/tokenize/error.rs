//! Why a tokenizer could not be loaded.

use std::path::PathBuf;

/// A tokenizer spec that names nothing loadable.
#[derive(Debug, thiserror::Error)]
pub enum TokenizerError {
    /// The path does not exist.
    #[error(
        "tokenizer `{path}` not found: expected a tokenizer.json file, a directory holding one, \
         or a tiktoken encoding (cl100k_base, o200k_base, p50k_base, r50k_base)"
    )]
    NotFound {
        /// The path as given.
        path: PathBuf,
    },
    /// The directory has no `tokenizer.json` in it.
    #[error("directory `{dir}` holds no tokenizer.json")]
    NoTokenizerJson {
        /// The directory as given.
        dir: PathBuf,
    },
    /// The file exists but is not a readable HuggingFace tokenizer.
    #[error("cannot load tokenizer `{path}`: {source}")]
    Invalid {
        /// The file that failed to load.
        path: PathBuf,
        /// What the tokenizers library reported.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// `tiktoken:<model>` named a model tiktoken has no encoding for.
    #[error("no tiktoken encoding known for model `{model}`")]
    UnknownModel {
        /// The model name as given.
        model: String,
    },
}
