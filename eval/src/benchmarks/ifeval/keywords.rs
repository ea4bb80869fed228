//! `keywords:*`: keywords present, a keyword's frequency, forbidden words, a letter's
//! frequency. Keywords are regular expressions, as the reference passes them to `re` unescaped.

use fancy_regex::Regex;

use super::kwargs::{KwargError, KwargResult, Kwargs, Relation, pattern};
use super::registry::{Checker, Instruction};
use super::text::py::{lower, py_strip};

/// Every keyword occurs (case-insensitive search).
#[derive(Debug)]
pub struct Existence {
    keywords: Vec<Regex>,
}

impl Instruction for Existence {
    fn check(&self, response: &str) -> bool {
        self.keywords
            .iter()
            .all(|re| re.is_match(response).unwrap_or(false))
    }
}

pub(super) fn existence(k: &Kwargs<'_>) -> KwargResult<Checker> {
    let keywords = k
        .str_list("keywords")?
        .into_iter()
        .map(|kw| pattern("keywords", &format!("(?i){kw}")))
        .collect::<KwargResult<_>>()?;
    Ok(Box::new(Existence { keywords }))
}

/// A keyword occurs (case-insensitive, non-overlapping) less than / at least N times.
#[derive(Debug)]
pub struct Frequency {
    keyword: Regex,
    frequency: i64,
    relation: Relation,
}

impl Instruction for Frequency {
    fn check(&self, response: &str) -> bool {
        let count = self
            .keyword
            .find_iter(response)
            .filter(Result::is_ok)
            .count();
        self.relation.holds(count, self.frequency)
    }
}

pub(super) fn frequency(k: &Kwargs<'_>) -> KwargResult<Checker> {
    let keyword = py_strip(k.str("keyword")?);
    Ok(Box::new(Frequency {
        keyword: pattern("keyword", &format!("(?i){keyword}"))?,
        frequency: k.int_at_least("frequency", 0)?,
        relation: k.relation("relation")?,
    }))
}

/// No forbidden word occurs as a whole word (case-insensitive).
#[derive(Debug)]
pub struct ForbiddenWords {
    words: Vec<Regex>,
}

impl Instruction for ForbiddenWords {
    fn check(&self, response: &str) -> bool {
        !self
            .words
            .iter()
            .any(|re| re.is_match(response).unwrap_or(false))
    }
}

pub(super) fn forbidden_words(k: &Kwargs<'_>) -> KwargResult<Checker> {
    let words = k
        .str_list("forbidden_words")?
        .into_iter()
        .map(|w| pattern("forbidden_words", &format!(r"(?i)\b{w}\b")))
        .collect::<KwargResult<_>>()?;
    Ok(Box::new(ForbiddenWords { words }))
}

/// A letter occurs (in the lowercased response) less than / at least N times.
#[derive(Debug)]
pub struct LetterFrequency {
    letter: char,
    frequency: i64,
    relation: Relation,
}

impl Instruction for LetterFrequency {
    fn check(&self, response: &str) -> bool {
        let count = lower(response)
            .chars()
            .filter(|c| *c == self.letter)
            .count();
        self.relation.holds(count, self.frequency)
    }
}

/// Builds the checker. A single character outside a-z (the data has `#` once, key 1122) is
/// counted as given: the reference draws a random letter instead, so its own score on that
/// instruction is random and no run of it can be matched.
pub(super) fn letter_frequency(k: &Kwargs<'_>) -> KwargResult<Checker> {
    let letter = k.str("letter")?;
    let one = |s: &str| {
        let mut chars = s.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => Some(c),
            _ => None,
        }
    };
    let Some(c) = one(py_strip(letter)).and_then(|c| one(&c.to_lowercase().to_string())) else {
        return Err(KwargError::new(
            "letter",
            format!("must be one character, got {letter:?}"),
        ));
    };
    Ok(Box::new(LetterFrequency {
        letter: c,
        frequency: k.int_at_least("let_frequency", 0)?,
        relation: k.relation("let_relation")?,
    }))
}
