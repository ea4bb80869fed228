//! Rule scoring: EvalScope 1.14.1's `match_score`, `exact_match(normalize_answer(gold),
//! normalize_answer(prediction))`, reported as `acc` (0 or 1).

use std::sync::LazyLock;

use regex::Regex;

use crate::mc::is_py_space;

/// Python's `re.sub(r'\b(a|an|the)\b', ' ', text)` (Unicode word boundaries).
static ARTICLES: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(r"\b(a|an|the)\b").ok());

/// Python's `string.punctuation`.
const PUNCTUATION: &str = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

/// `normalize_answer`: lower case, ASCII punctuation removed, the articles `a`, `an`, `the`
/// removed, whitespace runs made single spaces and the ends trimmed (SQuAD's normalisation).
pub fn normalize_answer(text: &str) -> String {
    let lower = text.to_lowercase();
    let no_punc: String = lower
        .chars()
        .filter(|c| !PUNCTUATION.contains(*c))
        .collect();
    let no_articles = match ARTICLES.as_ref() {
        Some(re) => re.replace_all(&no_punc, " ").into_owned(),
        None => no_punc,
    };
    no_articles
        .split(is_py_space)
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// `exact_match(gold=normalize_answer(gold), pred=normalize_answer(prediction))`: 1 when the
/// normalised prediction is not empty and equals the normalised gold, else 0.
pub fn rule_acc(prediction: &str, gold: &str) -> f64 {
    let pred = normalize_answer(prediction);
    if pred.is_empty() {
        return 0.0;
    }
    if normalize_answer(gold) == pred {
        1.0
    } else {
        0.0
    }
}
