//! Which prompts of a run's prompt set a shard sends, named without carrying them: the agent
//! pulls exactly these from the coordinator (and keeps them for later stages).
//!
//! The set is the run's kept prompts in dataset order, content-addressed. Request `q` of a shard
//! (its warmup requests first, then the measured ones) sends prompt
//! `(start + q mod count) mod total`. The coordinator picks `start` and `count` so that, over all
//! shards of a stage, the `j`-th request of the stage sends prompt `j mod total` — EvalScope's
//! order (warmup first, then the measured requests, cycling over the dataset).

use serde::{Deserialize, Serialize};

/// A slice of a prompt set, wrapping at its end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromptSlice {
    /// Content address of the prompt set (SHA-256 of its prompts' JSON lines, hex).
    pub set: String,
    /// Prompts in the set.
    pub total: u64,
    /// Index of the slice's first prompt in the set.
    pub start: u64,
    /// Distinct prompts in the slice (1 ..= total).
    pub count: u64,
}

impl PromptSlice {
    /// The set index of the slice's `i`-th prompt (`i < count`).
    pub fn set_index(&self, i: u64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        (self.start % self.total + i % self.total) % self.total
    }

    /// The slice's index of request `q` (warmups first).
    pub fn slot(&self, q: u64) -> usize {
        usize::try_from(q % self.count.max(1)).unwrap_or(0)
    }

    /// Why the slice cannot be served, if it cannot.
    pub fn check(&self) -> Result<(), String> {
        if self.total == 0 {
            return Err("the prompt set is empty".into());
        }
        if self.count == 0 || self.count > self.total {
            return Err(format!(
                "prompt slice count {} is outside 1..={}",
                self.count, self.total
            ));
        }
        if self.start >= self.total {
            return Err(format!(
                "prompt slice start {} is past the set's {} prompts",
                self.start, self.total
            ));
        }
        if self.set.len() != 64 || !self.set.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err("prompt set address is not a SHA-256 hex digest".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slice(start: u64, count: u64, total: u64) -> PromptSlice {
        PromptSlice {
            set: "a".repeat(64),
            total,
            start,
            count,
        }
    }

    #[test]
    fn indices_wrap_at_the_end_of_the_set() {
        let s = slice(8, 4, 10);
        let idx: Vec<u64> = (0..4).map(|i| s.set_index(i)).collect();
        assert_eq!(idx, [8, 9, 0, 1]);
        assert_eq!(s.slot(5), 1);
    }

    #[test]
    fn bad_slices_are_refused() {
        assert!(slice(0, 0, 3).check().is_err());
        assert!(slice(0, 4, 3).check().is_err());
        assert!(slice(3, 1, 3).check().is_err());
        assert!(slice(2, 3, 3).check().is_ok());
        let mut s = slice(0, 1, 1);
        s.set = "zz".into();
        assert!(s.check().is_err());
    }
}
