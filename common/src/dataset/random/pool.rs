//! Drawing random token ids whose text stands on its own.

use std::collections::HashMap;

use rand::Rng;
use rand::rngs::StdRng;

use crate::dataset::DatasetError;
use crate::tokenize::TokenCounter;

/// Rejected draws in a row before giving up on the tokenizer.
const MAX_REJECTS: usize = 10_000;

/// Random ids of tokens that decode to printable text encoding back to the same single id: no
/// special tokens, no partial UTF-8, no control characters other than `\n` and `\t`.
pub(crate) struct TokenPool<'a> {
    tok: &'a dyn TokenCounter,
    vocab: u32,
    usable: HashMap<u32, bool>,
}

impl<'a> TokenPool<'a> {
    pub fn new(tok: &'a dyn TokenCounter) -> Result<Self, DatasetError> {
        let vocab = u32::try_from(tok.vocab_size()).unwrap_or(u32::MAX);
        if vocab == 0 {
            return Err(DatasetError::NoUsableTokens {
                tokenizer: tok.name().to_string(),
            });
        }
        Ok(Self {
            tok,
            vocab,
            usable: HashMap::new(),
        })
    }

    /// `n` usable ids.
    pub fn draw(&mut self, rng: &mut StdRng, n: usize) -> Result<Vec<u32>, DatasetError> {
        (0..n).map(|_| self.draw_one(rng)).collect()
    }

    fn draw_one(&mut self, rng: &mut StdRng) -> Result<u32, DatasetError> {
        for _ in 0..MAX_REJECTS {
            let id = rng.random_range(0..self.vocab);
            if self.is_usable(id) {
                return Ok(id);
            }
        }
        Err(DatasetError::NoUsableTokens {
            tokenizer: self.tok.name().to_string(),
        })
    }

    fn is_usable(&mut self, id: u32) -> bool {
        let tok = self.tok;
        *self.usable.entry(id).or_insert_with(|| {
            let text = tok.decode(&[id]);
            !text.is_empty()
                && !text
                    .chars()
                    .any(|c| c == '\u{FFFD}' || (c.is_control() && c != '\n' && c != '\t'))
                && tok.encode(&text) == [id]
        })
    }
}
