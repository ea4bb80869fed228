//! BLEU-1..4 as `general_qa` scores them in EvalScope 1.14.1: `bleu_ngram_one_sample(pred, ref)`,
//! i.e. `nltk.translate.bleu_score.sentence_bleu([ref_tokens], pred_tokens, weights=w)` with
//! `w` = (1,0,0,0), (0,1,0,0), (0,0,1,0), (0,0,0,1), no smoothing (`method0`), tokens from
//! `nltk.word_tokenize`, or, for text holding a Chinese character (U+4E00..U+9FA5), from
//! `list(jieba.cut(text))` ([`super::jieba::cut`]: its whitespace tokens count as words). Each
//! side is tokenized on its own, so an English prediction meets a segmented Chinese reference.
//!
//! Kept exactly: clipped n-gram precision, the brevity penalty against the one reference,
//! `0` when no unigram matches, and `method0`'s `sys.float_info.min` for an order without
//! matches (so BLEU-2 of a prediction sharing words but no bigram is about 2.2e-308, not 0).

use std::collections::HashMap;

use super::{contains_chinese, jieba};
use crate::benchmarks::ifeval::text::treebank::word_tokenize;

/// The keys, in EvalScope's order.
pub const KEYS: [&str; 4] = ["bleu-1", "bleu-2", "bleu-3", "bleu-4"];

fn ngram_counts(tokens: &[String], n: usize) -> HashMap<&[String], usize> {
    let mut out = HashMap::new();
    if tokens.len() >= n {
        for g in tokens.windows(n) {
            *out.entry(g).or_insert(0) += 1;
        }
    }
    out
}

/// `modified_precision([reference], hypothesis, n)` as (numerator, denominator).
fn modified_precision(reference: &[String], hypothesis: &[String], n: usize) -> (usize, usize) {
    let counts = ngram_counts(hypothesis, n);
    let reference_counts = ngram_counts(reference, n);
    let numerator = counts
        .iter()
        .map(|(g, c)| (*c).min(reference_counts.get(g).copied().unwrap_or(0)))
        .sum();
    let denominator = counts.values().sum::<usize>().max(1);
    (numerator, denominator)
}

/// `brevity_penalty(closest_ref_len, hyp_len)`.
fn brevity_penalty(reference_len: usize, hyp_len: usize) -> f64 {
    if hyp_len > reference_len {
        1.0
    } else if hyp_len == 0 {
        0.0
    } else {
        (1.0 - reference_len as f64 / hyp_len as f64).exp()
    }
}

/// `sentence_bleu([reference], hypothesis, weights)` for the four one-hot weights: BLEU-1..4.
pub fn sentence_bleu_1_to_4(reference: &[String], hypothesis: &[String]) -> [f64; 4] {
    let p: Vec<(usize, usize)> = (1..=4)
        .map(|n| modified_precision(reference, hypothesis, n))
        .collect();
    if p[0].0 == 0 {
        return [0.0; 4];
    }
    let bp = brevity_penalty(reference.len(), hypothesis.len());
    // method0: an order without matches becomes sys.float_info.min
    let logs: Vec<f64> = p
        .iter()
        .map(|&(num, den)| {
            if num == 0 {
                f64::MIN_POSITIVE.ln()
            } else {
                (num as f64 / den as f64).ln()
            }
        })
        .collect();
    let mut out = [0.0; 4];
    for (k, slot) in out.iter_mut().enumerate() {
        // math.fsum of w_i * log(p_i): one term is log(p_k), the others are (-)0.0
        let s: f64 = logs
            .iter()
            .enumerate()
            .map(|(i, l)| if i == k { *l } else { 0.0 })
            .sum();
        *slot = bp * s.exp();
    }
    out
}

/// EvalScope's tokens of one side: jieba's for text with a Chinese character, else nltk's.
fn tokens(text: &str) -> Vec<String> {
    if contains_chinese(text) {
        jieba::cut(text).into_iter().map(str::to_owned).collect()
    } else {
        word_tokenize(text)
    }
}

/// EvalScope's BLEU-1..4 of one prediction against one reference, as (key, value).
pub fn bleu(prediction: &str, reference: &str) -> Vec<(&'static str, f64)> {
    let hyp = tokens(prediction);
    let reference = tokens(reference);
    let values = sentence_bleu_1_to_4(&reference, &hyp);
    KEYS.iter().copied().zip(values).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<String> {
        s.split(' ').map(str::to_owned).collect()
    }

    #[test]
    fn perfect_match_is_one() {
        let t = toks("the cat sat on the mat");
        assert_eq!(sentence_bleu_1_to_4(&t, &t), [1.0; 4]);
    }

    #[test]
    fn no_unigram_match_is_zero() {
        assert_eq!(sentence_bleu_1_to_4(&toks("a b"), &toks("c d")), [0.0; 4]);
    }

    #[test]
    fn chinese_is_segmented_with_jieba() {
        // EvalScope: bleu_ngram_one_sample('木星是最大的行星', '是木星'): 2 of 5 words
        let v = bleu("木星是最大的行星", "是木星");
        assert_eq!(v[0], ("bleu-1", 0.4));
    }

    #[test]
    fn missing_order_is_tiny_not_zero() {
        let v = sentence_bleu_1_to_4(&toks("a b"), &toks("b a"));
        assert_eq!(v[0], 1.0);
        assert!(v[1] > 0.0 && v[1] < 1e-300);
    }
}
