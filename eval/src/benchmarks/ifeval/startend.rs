//! `startend:*`: ends with a phrase; wrapped in double quotes.

use super::kwargs::{KwargResult, Kwargs};
use super::registry::{Checker, Instruction};
use super::text::py::{lower, py_strip};

/// The response (stripped of spaces, then of `"`) ends with the phrase, case-insensitively.
#[derive(Debug)]
pub struct EndChecker {
    phrase: String,
}

impl Instruction for EndChecker {
    fn check(&self, response: &str) -> bool {
        lower(py_strip(response).trim_matches('"')).ends_with(&self.phrase)
    }
}

pub(super) fn end_checker(k: &Kwargs<'_>) -> KwargResult<Checker> {
    Ok(Box::new(EndChecker {
        phrase: lower(py_strip(k.str("end_phrase")?)),
    }))
}

/// The stripped response is longer than one character and starts and ends with `"`.
#[derive(Debug)]
pub struct Quotation;

impl Instruction for Quotation {
    fn check(&self, response: &str) -> bool {
        let value = py_strip(response);
        value.chars().count() > 1 && value.starts_with('"') && value.ends_with('"')
    }
}

pub(super) fn quotation(_: &Kwargs<'_>) -> KwargResult<Checker> {
    Ok(Box::new(Quotation))
}
