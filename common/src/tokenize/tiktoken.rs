//! OpenAI tiktoken encodings, built in.

use std::collections::HashSet;

use tiktoken_rs::CoreBPE;
use tiktoken_rs::tokenizer::Tokenizer;

use super::{TokenCounter, TokenizerError};

/// The tiktoken encoding names [`TiktokenTokenizer::from_encoding`] knows.
pub const TIKTOKEN_ENCODINGS: &[&str] = &[
    "cl100k_base",
    "o200k_base",
    "o200k_harmony",
    "p50k_base",
    "p50k_edit",
    "r50k_base",
    "gpt2",
];

/// A tiktoken encoding such as `cl100k_base`.
pub struct TiktokenTokenizer {
    bpe: &'static CoreBPE,
    name: String,
    special: HashSet<u32>,
    vocab_size: usize,
}

impl std::fmt::Debug for TiktokenTokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TiktokenTokenizer")
            .field("name", &self.name)
            .field("vocab_size", &self.vocab_size)
            .finish_non_exhaustive()
    }
}

impl TiktokenTokenizer {
    /// The encoding called `name` (one of [`TIKTOKEN_ENCODINGS`]), or `None` if there is none.
    pub fn from_encoding(name: &str) -> Option<Result<Self, TokenizerError>> {
        encoding(name).map(|which| Self::build(which, name))
    }

    /// Whether `name` is a built-in encoding (`cl100k_base`, `o200k_base`, ...).
    pub fn is_encoding(name: &str) -> bool {
        encoding(name).is_some()
    }

    /// The encoding OpenAI uses for `model`, e.g. `gpt-4o` → `o200k_base`.
    pub fn from_model(model: &str) -> Result<Self, TokenizerError> {
        let which = tiktoken_rs::tokenizer::get_tokenizer(model).ok_or_else(|| {
            TokenizerError::UnknownModel {
                model: model.to_string(),
            }
        })?;
        Self::build(which, model)
    }

    fn build(which: Tokenizer, name: &str) -> Result<Self, TokenizerError> {
        let bpe =
            tiktoken_rs::bpe_for_tokenizer(which).map_err(|e| TokenizerError::UnknownModel {
                model: format!("{name} ({e})"),
            })?;
        let special: HashSet<u32> = bpe
            .special_tokens()
            .into_iter()
            .flat_map(|s| bpe.encode_with_special_tokens(s))
            .collect();
        // Special tokens sit above the ordinary ones, except in p50k where a few ordinary ids
        // follow `<|endoftext|>`: walk up from the largest special id while ids still decode.
        let mut vocab_size = special.iter().max().map_or(0, |&m| m as usize + 1);
        while u32::try_from(vocab_size).is_ok_and(|id| bpe.decode_bytes(&[id]).is_ok()) {
            vocab_size += 1;
        }
        Ok(Self {
            bpe,
            name: name.to_string(),
            special,
            vocab_size,
        })
    }
}

impl TokenCounter for TiktokenTokenizer {
    fn count(&self, text: &str) -> usize {
        self.bpe.encode_ordinary(text).len()
    }

    fn encode(&self, text: &str) -> Vec<u32> {
        self.bpe.encode_ordinary(text)
    }

    fn decode(&self, ids: &[u32]) -> String {
        let mut bytes = Vec::with_capacity(ids.len() * 4);
        for id in ids.iter().filter(|id| !self.special.contains(id)) {
            if let Ok(b) = self.bpe.decode_bytes(std::slice::from_ref(id)) {
                bytes.extend_from_slice(&b);
            }
        }
        String::from_utf8_lossy(&bytes).into_owned()
    }

    fn vocab_size(&self) -> usize {
        self.vocab_size
    }

    fn name(&self) -> &str {
        &self.name
    }
}

/// The built-in encoding called `name`.
fn encoding(name: &str) -> Option<Tokenizer> {
    Some(match name {
        "cl100k_base" => Tokenizer::Cl100kBase,
        "o200k_base" => Tokenizer::O200kBase,
        "o200k_harmony" => Tokenizer::O200kHarmony,
        "p50k_base" => Tokenizer::P50kBase,
        "p50k_edit" => Tokenizer::P50kEdit,
        "r50k_base" | "gpt2" => Tokenizer::R50kBase,
        _ => return None,
    })
}
