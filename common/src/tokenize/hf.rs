//! HuggingFace `tokenizer.json` tokenizers.

use std::path::Path;

use super::{TokenCounter, TokenizerError};

/// A tokenizer loaded from a HuggingFace `tokenizer.json`.
#[derive(Debug)]
pub struct HfTokenizer {
    inner: tokenizers::Tokenizer,
    name: String,
}

impl HfTokenizer {
    /// Loads `path`: a `tokenizer.json` file, or a directory holding one.
    pub fn from_path(path: &Path) -> Result<Self, TokenizerError> {
        let file = if path.is_dir() {
            let file = path.join("tokenizer.json");
            if !file.is_file() {
                return Err(TokenizerError::NoTokenizerJson {
                    dir: path.to_path_buf(),
                });
            }
            file
        } else if path.exists() {
            path.to_path_buf()
        } else {
            return Err(TokenizerError::NotFound {
                path: path.to_path_buf(),
            });
        };
        let inner =
            tokenizers::Tokenizer::from_file(&file).map_err(|source| TokenizerError::Invalid {
                path: file.clone(),
                source,
            })?;
        Ok(Self {
            inner,
            name: path.display().to_string(),
        })
    }
}

impl TokenCounter for HfTokenizer {
    fn count(&self, text: &str) -> usize {
        self.encode(text).len()
    }

    /// Encoding errors (which a loaded tokenizer does not raise on plain text) yield no ids.
    fn encode(&self, text: &str) -> Vec<u32> {
        self.inner
            .encode_fast(text, false)
            .map(|e| e.get_ids().to_vec())
            .unwrap_or_default()
    }

    fn decode(&self, ids: &[u32]) -> String {
        self.inner.decode(ids, true).unwrap_or_default()
    }

    fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    fn name(&self) -> &str {
        &self.name
    }
}
