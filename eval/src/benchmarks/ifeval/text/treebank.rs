//! `nltk.word_tokenize` (nltk 3.9.2): Punkt sentences, each split by `NLTKWordTokenizer`, the
//! improved Treebank tokenizer, whose regular-expression substitutions are ported here in
//! order.
//!
//! Where this can differ from the reference: nltk 3.10 also splits figure/en/em dashes and
//! changed the rule for a leading apostrophe; this follows 3.9.2. A pattern that exceeds the
//! regex engine's backtracking limit leaves the text as it was at that step (Python has no
//! such limit); none of these patterns backtracks much.

use std::sync::LazyLock;

use fancy_regex::Regex;

use super::punkt;

/// One substitution: a pattern and its replacement (`$1`-style groups).
struct Rule {
    re: Option<Regex>,
    replacement: &'static str,
}

fn rule(pattern: &str, replacement: &'static str) -> Rule {
    Rule {
        re: Regex::new(pattern).ok(),
        replacement,
    }
}

impl Rule {
    fn apply(&self, text: String) -> String {
        let Some(re) = &self.re else {
            return text;
        };
        match re.try_replacen(&text, 0, self.replacement) {
            Ok(std::borrow::Cow::Owned(s)) => s,
            _ => text,
        }
    }
}

/// `STARTING_QUOTES`, `PUNCTUATION`, `PARENS_BRACKETS`, `DOUBLE_DASHES` (before the padding
/// spaces are added).
static BEFORE_PADDING: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    vec![
        // STARTING_QUOTES
        rule(r"([«“‘„]|[`]+)", " ${1} "),
        rule(r#"^""#, "``"),
        rule(r"(``)", " ${1} "),
        rule(r#"([ (\[{<])("|'{2})"#, "${1} `` "),
        rule(r"(?i)(')(?!re|ve|ll|m|t|s|d|n)(\w)\b", "${1} ${2}"),
        // PUNCTUATION
        rule(r#"([^.])(\.)([\])}>"'»”’ ]*)\s*$"#, "${1} ${2} ${3} "),
        rule(r"([:,])([^\d])", " ${1} ${2}"),
        rule(r"([:,])$", " ${1} "),
        rule(r"\.{2,}", " ${0} "),
        rule(r"[;@#$%&]", " ${0} "),
        rule(r#"([^.])(\.)([\])}>"']*)\s*$"#, "${1} ${2}${3} "),
        rule(r"[?!]", " ${0} "),
        rule(r"([^'])' ", "${1} ' "),
        rule(r"[*]", " ${0} "),
        // PARENS_BRACKETS
        rule(r"[\]\[(){}<>]", " ${0} "),
        // DOUBLE_DASHES
        rule(r"--", " -- "),
    ]
});

/// `ENDING_QUOTES`, `CONTRACTIONS2`, `CONTRACTIONS3` (after the padding spaces).
static AFTER_PADDING: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    vec![
        // ENDING_QUOTES
        rule(r"([»”’])", " ${1} "),
        rule(r"''", " '' "),
        rule(r#"""#, " '' "),
        rule(r"\s+", " "),
        rule(r"([^' ])('[sS]|'[mM]|'[dD]|') ", "${1} ${2} "),
        rule(r"([^' ])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) ", "${1} ${2} "),
        // CONTRACTIONS2
        rule(r"(?i)\b(can)(not)\b", " ${1} ${2} "),
        rule(r"(?i)\b(d)('ye)\b", " ${1} ${2} "),
        rule(r"(?i)\b(gim)(me)\b", " ${1} ${2} "),
        rule(r"(?i)\b(gon)(na)\b", " ${1} ${2} "),
        rule(r"(?i)\b(got)(ta)\b", " ${1} ${2} "),
        rule(r"(?i)\b(lem)(me)\b", " ${1} ${2} "),
        rule(r"(?i)\b(more)('n)\b", " ${1} ${2} "),
        rule(r"(?i)\b(wan)(na)(?=\s)", " ${1} ${2} "),
        // CONTRACTIONS3
        rule(r"(?i) ('t)(is)\b", " ${1} ${2} "),
        rule(r"(?i) ('t)(was)\b", " ${1} ${2} "),
    ]
});

/// `NLTKWordTokenizer().tokenize(sentence)`.
pub fn treebank_tokenize(sentence: &str) -> Vec<String> {
    let mut text = sentence.to_owned();
    for r in BEFORE_PADDING.iter() {
        text = r.apply(text);
    }
    text = format!(" {text} ");
    for r in AFTER_PADDING.iter() {
        text = r.apply(text);
    }
    super::py::split_whitespace(&text)
        .map(str::to_owned)
        .collect()
}

/// `nltk.word_tokenize(text)`: the Treebank tokens of each Punkt sentence.
pub fn word_tokenize(text: &str) -> Vec<String> {
    punkt::sentences(text)
        .into_iter()
        .flat_map(treebank_tokenize)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_compiles() {
        assert!(BEFORE_PADDING.iter().all(|r| r.re.is_some()));
        assert!(AFTER_PADDING.iter().all(|r| r.re.is_some()));
    }

    #[test]
    fn tokenizes_like_nltk() {
        // Outputs of nltk 3.9.2 `word_tokenize`.
        assert_eq!(
            word_tokenize("(He left.) Then \"she said hi.\" And so on"),
            [
                "(", "He", "left", ".", ")", "Then", "``", "she", "said", "hi", ".", "''", "And",
                "so", "on"
            ]
        );
        assert_eq!(
            word_tokenize(
                "Good muffins cost $3.88 (roughly 3,36 euros)\nin New York.  Please buy me\ntwo of them.\nThanks."
            ),
            [
                "Good", "muffins", "cost", "$", "3.88", "(", "roughly", "3,36", "euros", ")", "in",
                "New", "York", ".", "Please", "buy", "me", "two", "of", "them", ".", "Thanks", "."
            ]
        );
    }
}
