//! The haystack: EvalScope 1.14.1's `_get_context_tokens` and `_insert_needles`, token for token.
//!
//! The text is the haystack file repeated (joined by `\n`) until it has at least the largest
//! context length in tokens; each sample cuts it to `context_length - 150 - needle tokens`
//! tokens, inserts every needle before the last `.` or `。` token at or before its depth (the
//! first at `depth_percent`, the next ones spread evenly over the rest), and decodes the tokens
//! back to text.

use swarm_common::tokenize::TokenCounter;

use super::NAME;
use crate::sample::EvalError;

/// Tokens EvalScope keeps free of the context length for the rest of the prompt.
pub const BUFFER: i64 = 150;

fn bad(message: impl Into<String>) -> EvalError {
    EvalError::BadArgs {
        benchmark: NAME.to_owned(),
        message: message.into(),
    }
}

/// `_get_context_tokens`: the tokens of `text`, repeated (`text + "\n" + text + ...`, encoded as
/// one string) until there are at least `max_len` of them. The number of copies is the smallest
/// that reaches `max_len`, found from an estimate instead of EvalScope's one-at-a-time loop.
pub fn context_tokens(
    tokenizer: &dyn TokenCounter,
    text: &str,
    max_len: usize,
) -> Result<Vec<u32>, EvalError> {
    let once = tokenizer.encode(text);
    if once.is_empty() {
        return Err(bad(
            "the haystack text has no tokens (an empty file?); EvalScope would loop forever",
        ));
    }
    if once.len() >= max_len {
        return Ok(once);
    }
    let repeated = |copies: usize| {
        let mut s = String::with_capacity((text.len() + 1) * copies);
        for i in 0..copies {
            if i > 0 {
                s.push('\n');
            }
            s.push_str(text);
        }
        tokenizer.encode(&s)
    };
    let mut copies = max_len.div_ceil(once.len()).max(2);
    let mut tokens = repeated(copies);
    while tokens.len() < max_len {
        copies += 1;
        tokens = repeated(copies);
    }
    while copies > 2 {
        let fewer = repeated(copies - 1);
        if fewer.len() < max_len {
            break;
        }
        copies -= 1;
        tokens = fewer;
    }
    Ok(tokens)
}

/// What `_insert_needles` needs beyond the context: the needles' tokens and the sentence ends.
#[derive(Debug, Clone)]
pub struct Needles {
    /// Each needle's tokens, in order.
    tokens: Vec<Vec<u32>>,
    /// The tokens of `.` and of `。` (EvalScope's `period_tokens`).
    periods: Vec<u32>,
}

impl Needles {
    /// Encodes `needles` and the period tokens with `tokenizer`.
    pub fn new(tokenizer: &dyn TokenCounter, needles: &[String]) -> Self {
        let mut periods = tokenizer.encode(".");
        periods.extend(tokenizer.encode("。"));
        Self {
            tokens: needles.iter().map(|n| tokenizer.encode(n)).collect(),
            periods,
        }
    }

    /// Tokens of all needles together.
    pub fn total_len(&self) -> usize {
        self.tokens.iter().map(Vec::len).sum()
    }

    /// The smallest context length that leaves room for the haystack:
    /// `BUFFER + needle tokens + 1`.
    pub fn min_context_length(&self) -> i64 {
        BUFFER + self.total_len() as i64 + 1
    }

    /// `_insert_needles(tokens_context, depth_percent, context_length)`: the context's tokens
    /// with the needles inserted. `context_length` must be at least
    /// [`Needles::min_context_length`] (EvalScope would slice from the end with a negative
    /// length).
    pub fn insert(&self, context: &[u32], depth_percent: i64, context_length: i64) -> Vec<u32> {
        let budget = context_length - BUFFER;
        let total = self.total_len() as i64;
        let mut tokens: Vec<u32> = if context.len() as i64 + total > budget {
            let keep = (budget - total).max(0) as usize;
            context[..keep.min(context.len())].to_vec()
        } else {
            context.to_vec()
        };
        // numpy int64 arithmetic in float64, as the adapter's own
        let mut depth = depth_percent as f64;
        let interval = (100.0 - depth) / self.tokens.len() as f64;
        for needle in &self.tokens {
            if depth == 100.0 {
                tokens.extend_from_slice(needle);
                continue;
            }
            // Python's int(): truncation toward zero
            let mut point = ((tokens.len() as f64) * (depth / 100.0)).trunc() as usize;
            point = point.min(tokens.len());
            while point > 0 && !self.periods.contains(&tokens[point - 1]) {
                point -= 1;
            }
            tokens.splice(point..point, needle.iter().copied());
            depth += interval;
        }
        tokens
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One token per character: 'a' = 1, '.' = 2, '。' = 3, anything else 4 (needle text).
    #[derive(Debug)]
    struct Chars;

    impl TokenCounter for Chars {
        fn count(&self, text: &str) -> usize {
            text.chars().count()
        }
        fn encode(&self, text: &str) -> Vec<u32> {
            text.chars()
                .map(|c| match c {
                    'a' => 1,
                    '.' => 2,
                    '。' => 3,
                    _ => 4,
                })
                .collect()
        }
        fn decode(&self, ids: &[u32]) -> String {
            ids.iter()
                .map(|i| match i {
                    1 => 'a',
                    2 => '.',
                    3 => '。',
                    _ => 'N',
                })
                .collect()
        }
        fn vocab_size(&self) -> usize {
            5
        }
        fn name(&self) -> &str {
            "chars"
        }
    }

    fn text(ids: &[u32]) -> String {
        Chars.decode(ids)
    }

    #[test]
    fn the_haystack_is_repeated_to_the_longest_context() {
        let t = context_tokens(&Chars, "aa.", 7).expect("tokens");
        // "aa.\naa.\naa." is 11 characters: two copies make 7 exactly
        assert_eq!(t.len(), 7);
        let t = context_tokens(&Chars, "aa.", 8).expect("tokens");
        assert_eq!(t.len(), 11);
        assert_eq!(context_tokens(&Chars, "aa.", 2).expect("tokens").len(), 3);
        assert!(context_tokens(&Chars, "", 5).is_err());
    }

    #[test]
    fn needles_go_before_the_last_sentence_end_at_or_above_the_depth() {
        let needles = Needles::new(&Chars, &["xx".to_owned()]);
        let ctx = Chars.encode("aaa.aaa.aaa.aaa.");
        // 16 tokens fit (150 + 2 + 16 ≤ 170): nothing is cut
        assert_eq!(text(&needles.insert(&ctx, 0, 170)), "NNaaa.aaa.aaa.aaa.");
        assert_eq!(text(&needles.insert(&ctx, 100, 170)), "aaa.aaa.aaa.aaa.NN");
        // 50 %: point 8 follows a '.', so the needle goes there
        assert_eq!(text(&needles.insert(&ctx, 50, 170)), "aaa.aaa.NNaaa.aaa.");
        // 40 %: point 6 walks back to 4
        assert_eq!(text(&needles.insert(&ctx, 40, 170)), "aaa.NNaaa.aaa.aaa.");
        // a context of 160 keeps 160 - 150 - 2 = 8 tokens
        assert_eq!(text(&needles.insert(&ctx, 100, 160)), "aaa.aaa.NN");
        assert_eq!(needles.min_context_length(), 153);
    }

    #[test]
    fn several_needles_spread_over_the_rest_of_the_depth() {
        let needles = Needles::new(&Chars, &["x".to_owned(), "y".to_owned()]);
        let ctx = Chars.encode("a.a.a.a.a.a.a.a.a.a.");
        // depth 0: the first at 0, the second at 50 % of the 21 tokens then (point 10, after
        // an 'a', so 9); the same as EvalScope's `_insert_needles` with such a tokenizer
        assert_eq!(
            text(&needles.insert(&ctx, 0, 1000)),
            "Na.a.a.a.Na.a.a.a.a.a."
        );
    }
}
