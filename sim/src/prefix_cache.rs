//! A prefix cache with a known truth, so multi-turn tests can assert exact cached-token counts.
//!
//! The unit is a whole chat message: a prompt's prefix `messages[0..=i]` is keyed by a chain hash
//! of (role, content) pairs, with the prompt tokens of those messages (counted as the simulator
//! counts them). A request is served from the longest of its prefixes in the cache; its
//! `usage.prompt_tokens_details.cached_tokens` is that prefix's tokens and only the rest count
//! toward its time to first token. Every prefix of the prompt is then stored, and so is the
//! prompt followed by the answer the simulator is about to generate (a generated answer is a
//! known text: the cycled words of [`crate::vocab`]), so a next turn that sends the answer back
//! verbatim hits everything before its new message. At most `max_entries` prefixes are kept;
//! the least recently used goes first.

use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::SimError;

/// The prefix cache's settings (off when unset).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrefixCacheConfig {
    /// Message prefixes kept; the least recently used is dropped beyond it.
    pub max_entries: usize,
}

/// The most entries a cache may hold (bounds the simulator's memory: ~50 bytes an entry).
pub const MAX_ENTRIES: usize = 10_000_000;

impl PrefixCacheConfig {
    /// Checks the values are in range.
    pub fn validate(&self) -> Result<(), SimError> {
        if self.max_entries == 0 || self.max_entries > MAX_ENTRIES {
            return Err(SimError::invalid(
                "prefix_cache.max_entries",
                format!("must be from 1 to {MAX_ENTRIES}, got {}", self.max_entries),
            ));
        }
        Ok(())
    }
}

/// One message of a prompt as the cache sees it: its chain hash and the prompt tokens up to and
/// including it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Prefix {
    pub hash: u64,
    pub tokens: u64,
}

/// The chain of `messages`' prefixes (role and the text of the content, tokens counted by
/// `words`).
pub(crate) fn chain(messages: &[Value], words: impl Fn(&str) -> u64) -> Vec<Prefix> {
    let mut out = Vec::with_capacity(messages.len() + 1);
    let (mut hash, mut tokens) = (0u64, 0u64);
    for m in messages {
        let role = m.get("role").and_then(Value::as_str).unwrap_or("");
        let text = match m.get("content") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Array(parts)) => parts
                .iter()
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join("\u{0}"),
            _ => String::new(),
        };
        tokens += words(&text);
        hash = link(hash, role, &text);
        out.push(Prefix { hash, tokens });
    }
    out
}

/// The chain hash of `prev` extended by one message.
pub(crate) fn link(prev: u64, role: &str, text: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    prev.hash(&mut h);
    role.hash(&mut h);
    text.hash(&mut h);
    h.finish()
}

/// The cache: prefix hash → last use, and last use → hash for eviction.
#[derive(Debug)]
pub(crate) struct PrefixCache {
    max_entries: usize,
    inner: Mutex<Lru>,
}

#[derive(Debug, Default)]
struct Lru {
    by_hash: HashMap<u64, u64>,
    by_use: BTreeMap<u64, u64>,
    clock: u64,
}

impl Lru {
    fn touch(&mut self, hash: u64) {
        self.clock += 1;
        if let Some(old) = self.by_hash.insert(hash, self.clock) {
            self.by_use.remove(&old);
        }
        self.by_use.insert(self.clock, hash);
    }
}

impl PrefixCache {
    pub fn new(config: &PrefixCacheConfig) -> Self {
        Self {
            max_entries: config.max_entries,
            inner: Mutex::new(Lru::default()),
        }
    }

    /// Serves a prompt of `prefixes` whose answer will extend it to `answer` (a prefix one
    /// message longer, None when the answer is not known in advance): returns the cached tokens
    /// (the longest prefix held), then stores every prefix and the answer's.
    pub fn serve(&self, prefixes: &[Prefix], answer: Option<u64>) -> u64 {
        let Ok(mut lru) = self.inner.lock() else {
            return 0;
        };
        let cached = prefixes
            .iter()
            .rev()
            .find(|p| lru.by_hash.contains_key(&p.hash))
            .map_or(0, |p| p.tokens);
        for p in prefixes {
            lru.touch(p.hash);
        }
        if let Some(a) = answer {
            lru.touch(a);
        }
        while lru.by_hash.len() > self.max_entries {
            let Some((_, hash)) = lru.by_use.pop_first() else {
                break;
            };
            lru.by_hash.remove(&hash);
        }
        cached
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn words(s: &str) -> u64 {
        s.split_whitespace().count() as u64
    }

    #[test]
    fn a_next_turn_hits_the_prompt_and_the_answer_before_it() {
        let cache = PrefixCache::new(&PrefixCacheConfig { max_entries: 100 });
        let turn1 = vec![json!({"role": "user", "content": "a b c"})];
        let p1 = chain(&turn1, words);
        let answer = link(p1[0].hash, "assistant", "lorem ipsum ");
        assert_eq!(cache.serve(&p1, Some(answer)), 0, "a cold cache");
        let turn2 = vec![
            turn1[0].clone(),
            json!({"role": "assistant", "content": "lorem ipsum "}),
            json!({"role": "user", "content": "d"}),
        ];
        let p2 = chain(&turn2, words);
        assert_eq!(
            cache.serve(&p2, None),
            5,
            "3 prompt words and 2 answer words"
        );
        let other = vec![
            json!({"role": "user", "content": "a b c"}),
            json!({"role": "assistant", "content": "something else"}),
        ];
        assert_eq!(
            cache.serve(&chain(&other, words), None),
            3,
            "only the first message"
        );
    }

    #[test]
    fn the_least_recently_used_prefix_goes_first() {
        let cache = PrefixCache::new(&PrefixCacheConfig { max_entries: 2 });
        let m = |t: &str| chain(&[json!({"role": "user", "content": t})], words);
        cache.serve(&m("one"), None);
        cache.serve(&m("two"), None);
        assert_eq!(
            cache.serve(&m("one"), None),
            1,
            "still held; now the newest"
        );
        cache.serve(&m("three"), None);
        assert_eq!(
            cache.serve(&m("two"), None),
            0,
            "evicted as least recently used"
        );
        assert!(PrefixCacheConfig { max_entries: 0 }.validate().is_err());
    }
}
