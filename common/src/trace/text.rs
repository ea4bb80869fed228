//! The prompt of a trace line. Block `(h, n)` — hash id `h` standing for `n` tokens — is text
//! that encodes to exactly `n` tokens, drawn from the tokenizer's vocabulary by a generator
//! seeded with `h` and `n` (and the run's seed), so it is the same wherever and whenever it is
//! made. A prompt is its blocks' texts one after another: two lines that share their first `k`
//! hash ids share the same first `k` blocks of text, byte for byte. (Tokens can merge where two
//! blocks meet, so the prompt's token count is close to `input_length`, not always equal; the
//! server's `usage` reports it exactly.) A line without hash ids gets text of its own, seeded by
//! its position in the trace.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use rand::SeedableRng;
use rand::rngs::StdRng;

use super::entry::TraceEntry;
use crate::dataset::DatasetError;
use crate::dataset::random::fit::{Fitted, fit};
use crate::dataset::random::pool::TokenPool;
use crate::tokenize::TokenCounter;

/// Blocks kept for reuse (about 2 KB of text each).
pub const CACHED_BLOCKS: usize = 16_384;

/// Builds trace prompts for one tokenizer, keeping recent blocks.
pub struct TraceTexts<'a> {
    tok: &'a dyn TokenCounter,
    pool: TokenPool<'a>,
    seed: u64,
    cache: HashMap<(u64, u32), Arc<str>>,
    order: VecDeque<(u64, u32)>,
}

impl std::fmt::Debug for TraceTexts<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TraceTexts")
            .field("tokenizer", &self.tok.name())
            .field("cached", &self.cache.len())
            .finish()
    }
}

/// splitmix64: spreads a (seed, id, length) triple over the generator's seeds.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

impl<'a> TraceTexts<'a> {
    /// A builder over `tok`; `seed` varies every block's text (the run's seed).
    pub fn new(tok: &'a dyn TokenCounter, seed: u64) -> Result<Self, DatasetError> {
        Ok(Self {
            tok,
            pool: TokenPool::new(tok)?,
            seed,
            cache: HashMap::new(),
            order: VecDeque::new(),
        })
    }

    fn block(&mut self, key: u64, tokens: u32, cache: bool) -> Result<Arc<str>, DatasetError> {
        if let Some(t) = self.cache.get(&(key, tokens)) {
            return Ok(Arc::clone(t));
        }
        let mut rng = StdRng::seed_from_u64(mix(self.seed ^ mix(key ^ mix(u64::from(tokens)))));
        let Fitted { text, .. } = fit(
            self.tok,
            &mut self.pool,
            &mut rng,
            &Fitted::default(),
            tokens as usize,
        )?;
        let text: Arc<str> = Arc::from(text);
        if cache {
            if self.order.len() >= CACHED_BLOCKS
                && let Some(old) = self.order.pop_front()
            {
                self.cache.remove(&old);
            }
            self.cache.insert((key, tokens), Arc::clone(&text));
            self.order.push_back((key, tokens));
        }
        Ok(text)
    }

    /// The prompt of line `index` (0-based) of the trace.
    pub fn text(&mut self, index: u64, entry: &TraceEntry) -> Result<String, DatasetError> {
        if entry.hash_ids.is_empty() {
            // a key no hash id block shares: the line's own text
            let own = mix(index ^ 0x7472_6163_655f_6f77);
            return Ok(self.block(own, entry.input_length, false)?.to_string());
        }
        let mut out = String::new();
        for (h, n) in entry.blocks() {
            out.push_str(&self.block(h, n, true)?);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokenize::load_tokenizer;

    fn entry(input_length: u32, hash_ids: &[u64]) -> TraceEntry {
        TraceEntry {
            timestamp: 0.0,
            input_length,
            output_length: 4,
            hash_ids: hash_ids.to_vec(),
        }
    }

    #[test]
    fn shared_hash_ids_give_identical_prefixes() {
        let tok = load_tokenizer("cl100k_base").expect("built in");
        let mut t = TraceTexts::new(tok.as_ref(), 42).expect("pool");
        let a = t.text(0, &entry(1200, &[1, 2, 3])).expect("a");
        let b = t.text(1, &entry(1100, &[1, 2, 9])).expect("b");
        let c = t.text(2, &entry(700, &[5, 2])).expect("c");
        let one = t.block(1, 512, true).expect("block");
        let two = t.block(2, 512, true).expect("block");
        let shared = format!("{one}{two}");
        assert!(a.starts_with(&shared) && b.starts_with(&shared));
        assert_ne!(
            a[shared.len()..],
            b[shared.len()..],
            "the third blocks differ"
        );
        assert!(!c.starts_with(&*one), "a different first id shares nothing");
        // each block is exactly its tokens; the whole is close to input_length
        assert_eq!(tok.count(&one), 512);
        let n = tok.count(&a) as i64;
        assert!((n - 1200).abs() <= 8, "{n} tokens for 1200");
        // the same on another builder (another agent) and after the cache forgets
        let mut u = TraceTexts::new(tok.as_ref(), 42).expect("pool");
        assert_eq!(u.text(0, &entry(1200, &[1, 2, 3])).expect("again"), a);
        // another seed, other text; lines without ids share nothing
        let mut v = TraceTexts::new(tok.as_ref(), 43).expect("pool");
        assert_ne!(v.text(0, &entry(1200, &[1, 2, 3])).expect("other"), a);
        let x = t.text(7, &entry(40, &[])).expect("x");
        let y = t.text(8, &entry(40, &[])).expect("y");
        assert_ne!(x, y);
        assert_eq!(tok.count(&x), 40);
    }
}
