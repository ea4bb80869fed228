//! Word counting as the reference does it: `nltk.tokenize.RegexpTokenizer(r"\w+")`, i.e. the
//! number of runs of word characters.
//!
//! Where this can differ from the reference: `\w` is Rust `regex`'s Unicode class (letters,
//! marks, decimal digits, connector punctuation); Python's also takes other numeric characters
//! (`²`, `½`) and not combining marks, so a word with a combining accent counts as one here and
//! may count as two there.

use std::sync::LazyLock;

static WORD: LazyLock<Option<regex::Regex>> = LazyLock::new(|| regex::Regex::new(r"\w+").ok());

/// The number of `\w+` runs in `text` (the reference `count_words`).
pub fn count_words(text: &str) -> usize {
    WORD.as_ref().map_or(0, |re| re.find_iter(text).count())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_word_runs() {
        assert_eq!(count_words("Hello, world! It's 2024-01-02."), 7);
        assert_eq!(count_words("snake_case is one"), 3);
        assert_eq!(count_words("  ...  "), 0);
        assert_eq!(count_words("naïve café"), 2);
    }
}
