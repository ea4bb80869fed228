//! `change_case:*`: how many all-capital words (`nltk.word_tokenize`); all capitals or all
//! lowercase, in English (langdetect; undecidable text counts as English, as in the reference).

use super::kwargs::{KwargResult, Kwargs, Relation};
use super::registry::{Checker, Instruction};
use super::text::py::{is_lower, is_upper};
use super::text::{langid, treebank};

/// Less than / at least N words that are all capitals.
#[derive(Debug)]
pub struct CapitalWordFrequency {
    frequency: i64,
    relation: Relation,
}

impl Instruction for CapitalWordFrequency {
    fn check(&self, response: &str) -> bool {
        let capitals = treebank::word_tokenize(response)
            .iter()
            .filter(|w| is_upper(w))
            .count();
        self.relation.holds(capitals, self.frequency)
    }
}

pub(super) fn capital_word_frequency(k: &Kwargs<'_>) -> KwargResult<Checker> {
    Ok(Box::new(CapitalWordFrequency {
        frequency: k.int("capital_frequency")?,
        relation: k.relation("capital_relation")?,
    }))
}

fn english(response: &str) -> bool {
    langid::detect(response).is_none_or(|lang| lang == "en")
}

/// All capitals (Python `isupper`) and English.
#[derive(Debug)]
pub struct EnglishCapital;

impl Instruction for EnglishCapital {
    fn check(&self, response: &str) -> bool {
        is_upper(response) && english(response)
    }
}

pub(super) fn english_capital(_: &Kwargs<'_>) -> KwargResult<Checker> {
    Ok(Box::new(EnglishCapital))
}

/// All lowercase (Python `islower`) and English.
#[derive(Debug)]
pub struct EnglishLowercase;

impl Instruction for EnglishLowercase {
    fn check(&self, response: &str) -> bool {
        is_lower(response) && english(response)
    }
}

pub(super) fn english_lowercase(_: &Kwargs<'_>) -> KwargResult<Checker> {
    Ok(Box::new(EnglishLowercase))
}
