//! ROUGE-1, ROUGE-2 and ROUGE-L as `general_qa` scores them in EvalScope 1.14.1:
//! `compute_rouge_score_one_sample_zh([pred], [ref])`, i.e. `rouge_chinese.Rouge().get_scores(
//! pred, ref, ignore_empty=True)` (rouge-chinese 1.0.3) on text that EvalScope first cuts with
//! jieba when it holds a Chinese character (U+4E00..U+9FA5): `' '.join(jieba.cut(text))`
//! ([`super::jieba::cut`]).
//!
//! Kept exactly: sentence cutting (`Rouge.cut_sent`), whitespace normalisation and words split at
//! single spaces, ROUGE-N over *sets* of n-grams (`exclusive=True`), ROUGE-L as the longest
//! common subsequence of the whole word sequences (`rouge_l_summary_level` as rouge-chinese
//! computes it), `f = 2 * (p * r / (p + r + 1e-8))`, and zeros for a pair that is empty or that
//! raises.

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::Regex;

use super::{contains_chinese, jieba};
use crate::mc::is_py_space;

/// The keys, in EvalScope's order.
pub const KEYS: [&str; 9] = [
    "Rouge-1-R",
    "Rouge-1-P",
    "Rouge-1-F",
    "Rouge-2-R",
    "Rouge-2-P",
    "Rouge-2-F",
    "Rouge-L-R",
    "Rouge-L-P",
    "Rouge-L-F",
];

/// `Rouge.cut_sent`'s four substitutions, in order: (pattern, replacement).
static CUT_SENT: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [
        "([。！？\\?])([^”’])",
        "(\\.{6})([^”’])",
        "(…{2})([^”’])",
        "([。！？\\?][”’])([^，。！？\\?])",
    ]
    .iter()
    .filter_map(|p| Regex::new(p).ok())
    .collect()
});

/// `Rouge.cut_sent(para)`.
fn cut_sent(para: &str) -> Vec<String> {
    let mut text = para.to_owned();
    for re in CUT_SENT.iter() {
        text = re.replace_all(&text, "${1}\n${2}").into_owned();
    }
    let text = text.trim_end_matches(is_py_space);
    text.split('\n').map(str::to_owned).collect()
}

/// The sentences of `_get_scores`: non-empty cut pieces, whitespace runs made single spaces.
fn sentences(text: &str) -> Vec<String> {
    cut_sent(text)
        .into_iter()
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.split(is_py_space)
                .filter(|w| !w.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

/// `_split_into_words`: every sentence split at single spaces, flattened.
fn words(sentences: &[String]) -> Vec<&str> {
    sentences.iter().flat_map(|s| s.split(' ')).collect()
}

/// `f_r_p_rouge_n`.
fn f_r_p(evaluated: usize, reference: usize, overlapping: usize) -> [f64; 3] {
    let precision = if evaluated == 0 {
        0.0
    } else {
        overlapping as f64 / evaluated as f64
    };
    let recall = if reference == 0 {
        0.0
    } else {
        overlapping as f64 / reference as f64
    };
    let f = 2.0 * ((precision * recall) / (precision + recall + 1e-8));
    [recall, precision, f]
}

/// `rouge_n` with `exclusive=True`: [r, p, f].
fn rouge_n(hyp: &[&str], reference: &[&str], n: usize) -> [f64; 3] {
    let grams = |w: &[&str]| -> HashSet<Vec<String>> {
        if w.len() < n {
            return HashSet::new();
        }
        w.windows(n)
            .map(|g| g.iter().map(|s| (*s).to_owned()).collect())
            .collect()
    };
    let (h, r) = (grams(hyp), grams(reference));
    f_r_p(h.len(), r.len(), h.intersection(&r).count())
}

/// `_len_lcs`.
fn lcs(x: &[&str], y: &[&str]) -> usize {
    let mut prev = vec![0usize; y.len() + 1];
    let mut cur = vec![0usize; y.len() + 1];
    for xi in x {
        for (j, yj) in y.iter().enumerate() {
            cur[j + 1] = if xi == yj {
                prev[j] + 1
            } else {
                prev[j + 1].max(cur[j])
            };
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[y.len()]
}

/// `rouge_l_summary_level` as rouge-chinese computes it: [r, p, f].
fn rouge_l(hyp: &[&str], reference: &[&str]) -> [f64; 3] {
    let llcs = lcs(reference, hyp) as f64;
    let r = llcs / reference.len() as f64;
    let p = llcs / hyp.len() as f64;
    let f = 2.0 * ((p * r) / (p + r + 1e-8));
    [r, p, f]
}

/// What `compute_rouge_score_one_sample_zh` hands rouge-chinese: text with a Chinese character
/// cut by jieba and joined with spaces, other text as it is.
fn segmented(text: &str) -> String {
    if contains_chinese(text) {
        jieba::cut(text).join(" ")
    } else {
        text.to_owned()
    }
}

/// EvalScope's Rouge scores of one prediction against one reference, as (key, value) in
/// [`KEYS`] order.
pub fn rouge(prediction: &str, reference: &str) -> Vec<(&'static str, f64)> {
    let (prediction, reference) = (segmented(prediction), segmented(reference));
    let (prediction, reference) = (prediction.as_str(), reference.as_str());
    let zeros = || KEYS.iter().map(|k| (*k, 0.0)).collect();
    // `ignore_empty=True` drops the pair, and the unpacking of no pairs raises: all zeros
    if prediction.is_empty() || reference.is_empty() {
        return zeros();
    }
    let (hyp_s, ref_s) = (sentences(prediction), sentences(reference));
    // `rouge_n` raises on no sentences: the pair is skipped, all zeros
    if hyp_s.is_empty() || ref_s.is_empty() {
        return zeros();
    }
    let (hyp, reference) = (words(&hyp_s), words(&ref_s));
    let values = [
        rouge_n(&hyp, &reference, 1),
        rouge_n(&hyp, &reference, 2),
        rouge_l(&hyp, &reference),
    ];
    KEYS.iter()
        .zip(values.iter().flatten())
        .map(|(k, v)| (*k, *v))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_sentences_like_rouge_chinese() {
        assert_eq!(cut_sent("Why? Because."), vec!["Why?", " Because."]);
        assert_eq!(cut_sent("a......b  "), vec!["a......", "b"]);
        assert_eq!(cut_sent("   "), vec![""]);
    }

    #[test]
    fn identical_text_scores_one() {
        let s = rouge("the cat sat", "the cat sat");
        assert_eq!(s.len(), 9);
        assert!(s.iter().all(|(_, v)| (v - 1.0).abs() < 1e-7));
    }

    #[test]
    fn chinese_is_segmented_with_jieba() {
        // `是 木星` against `木星 是 最大 的 行星`: ROUGE-1 recall 2/2, precision 2/5
        let s = rouge("木星是最大的行星", "是木星");
        assert_eq!(s[0], ("Rouge-1-R", 1.0));
        assert_eq!(s[1], ("Rouge-1-P", 0.4));
        assert!(rouge("是木星", "Jupiter").iter().all(|(_, v)| *v == 0.0));
    }
}
