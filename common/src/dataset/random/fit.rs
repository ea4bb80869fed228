//! Finding text that encodes to exactly a wanted number of tokens.

use rand::rngs::StdRng;

use super::pool::TokenPool;
use crate::dataset::DatasetError;
use crate::tokenize::TokenCounter;

/// Fresh starts from new random tokens.
const RESTARTS: usize = 8;
/// Grow-or-trim rounds per start.
const ROUNDS: usize = 16;

/// Text and its exact encoding.
#[derive(Debug, Clone, Default)]
pub(crate) struct Fitted {
    pub text: String,
    pub ids: Vec<u32>,
}

/// Text starting with `prefix.text` whose encoding is `prefix.ids` followed by exactly `extra`
/// more ids. Decoding random ids and encoding the text again can merge or split tokens, so the
/// suffix is re-encoded, grown with new random ids or trimmed, and checked again, a bounded
/// number of times.
pub(crate) fn fit(
    tok: &dyn TokenCounter,
    pool: &mut TokenPool<'_>,
    rng: &mut StdRng,
    prefix: &Fitted,
    extra: usize,
) -> Result<Fitted, DatasetError> {
    if extra == 0 {
        return Ok(prefix.clone());
    }
    let target = prefix.ids.len() + extra;
    for _ in 0..RESTARTS {
        let mut suffix = pool.draw(rng, extra)?;
        for _ in 0..ROUNDS {
            let text = format!("{}{}", prefix.text, tok.decode(&suffix));
            let ids = tok.encode(&text);
            if !ids.starts_with(&prefix.ids) {
                break;
            }
            if ids.len() == target {
                return Ok(Fitted { text, ids });
            }
            suffix = ids[prefix.ids.len()..].to_vec();
            if suffix.len() < extra {
                suffix.extend(pool.draw(rng, extra - suffix.len())?);
            } else {
                suffix.truncate(extra);
            }
        }
    }
    Err(DatasetError::ExactLength {
        tokenizer: tok.name().to_string(),
        target,
        tries: RESTARTS * ROUNDS,
    })
}
