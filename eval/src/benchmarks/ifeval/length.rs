//! `length_constraints:*`: sentences (Punkt), paragraphs (`***` dividers), words (`\w+`), and
//! the first word of the n-th of `\n\n`-separated paragraphs.

use std::sync::LazyLock;

use super::kwargs::{KwargError, KwargResult, Kwargs, Relation};
use super::registry::{Checker, Instruction};
use super::text::py::{lower, py_strip, split_whitespace};
use super::text::{punkt, words};

/// Less than / at least N sentences.
#[derive(Debug)]
pub struct NumberSentences {
    num: i64,
    relation: Relation,
}

impl Instruction for NumberSentences {
    fn check(&self, response: &str) -> bool {
        self.relation
            .holds(punkt::count_sentences(response), self.num)
    }
}

pub(super) fn number_sentences(k: &Kwargs<'_>) -> KwargResult<Checker> {
    Ok(Box::new(NumberSentences {
        num: k.int_at_least("num_sentences", 0)?,
        relation: k.relation("relation")?,
    }))
}

static DIVIDER: LazyLock<Option<regex::Regex>> =
    LazyLock::new(|| regex::Regex::new(r"\s?\*\*\*\s?").ok());

/// Exactly N paragraphs separated by `***`; an empty paragraph fails unless first or last.
#[derive(Debug)]
pub struct NumberParagraphs {
    num: i64,
}

impl Instruction for NumberParagraphs {
    fn check(&self, response: &str) -> bool {
        let Some(divider) = DIVIDER.as_ref() else {
            return false;
        };
        let paragraphs: Vec<&str> = divider.split(response).collect();
        let last = paragraphs.len().saturating_sub(1);
        let mut count = paragraphs.len() as i64;
        for (i, p) in paragraphs.iter().enumerate() {
            if py_strip(p).is_empty() {
                if i == 0 || i == last {
                    count -= 1;
                } else {
                    return false;
                }
            }
        }
        count == self.num
    }
}

pub(super) fn number_paragraphs(k: &Kwargs<'_>) -> KwargResult<Checker> {
    Ok(Box::new(NumberParagraphs {
        num: k.int_at_least("num_paragraphs", 0)?,
    }))
}

/// Less than / at least N words.
#[derive(Debug)]
pub struct NumberWords {
    num: i64,
    relation: Relation,
}

impl Instruction for NumberWords {
    fn check(&self, response: &str) -> bool {
        self.relation.holds(words::count_words(response), self.num)
    }
}

pub(super) fn number_words(k: &Kwargs<'_>) -> KwargResult<Checker> {
    Ok(Box::new(NumberWords {
        num: k.int_at_least("num_words", 0)?,
        relation: k.relation("relation")?,
    }))
}

/// Exactly N non-empty `\n\n`-separated paragraphs, the n-th starting with a given word.
#[derive(Debug)]
pub struct NthParagraphFirstWord {
    num_paragraphs: i64,
    nth: usize,
    first_word: String,
}

impl Instruction for NthParagraphFirstWord {
    fn check(&self, response: &str) -> bool {
        let paragraphs: Vec<&str> = response.split("\n\n").collect();
        let count = paragraphs.len() - paragraphs.iter().filter(|p| py_strip(p).is_empty()).count();
        if self.nth > count {
            return false;
        }
        let paragraph = py_strip(paragraphs[self.nth - 1]);
        let Some(word) = split_whitespace(paragraph).next() else {
            return false;
        };
        let word = word.trim_start_matches('\'').trim_start_matches('"');
        let mut first_word = String::new();
        for c in word.chars() {
            if matches!(c, '.' | ',' | '?' | '!' | '\'' | '"') {
                break;
            }
            first_word.extend(c.to_lowercase());
        }
        count as i64 == self.num_paragraphs && first_word == self.first_word
    }
}

pub(super) fn nth_paragraph_first_word(k: &Kwargs<'_>) -> KwargResult<Checker> {
    let num_paragraphs = k.int_at_least("num_paragraphs", 0)?;
    let nth = k.int_at_least("nth_paragraph", 1)?;
    if nth > num_paragraphs {
        return Err(KwargError::new(
            "nth_paragraph",
            format!(
                "{nth} is beyond num_paragraphs = {num_paragraphs} (the reference would draw a random value)"
            ),
        ));
    }
    Ok(Box::new(NthParagraphFirstWord {
        num_paragraphs,
        nth: usize::try_from(nth).unwrap_or(usize::MAX),
        first_word: lower(k.str("first_word")?),
    }))
}
