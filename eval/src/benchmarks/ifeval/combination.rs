//! `combination:*`: two different responses split by `******`; the prompt repeated first.

use super::kwargs::{KwargResult, Kwargs};
use super::registry::{Checker, Instruction};
use super::text::py::{lower, py_strip};

/// Exactly two different non-empty responses separated by `******` (empty pieces allowed only
/// at the ends).
#[derive(Debug)]
pub struct TwoResponses;

impl Instruction for TwoResponses {
    fn check(&self, response: &str) -> bool {
        let pieces: Vec<&str> = response.split("******").collect();
        let last = pieces.len().saturating_sub(1);
        let mut valid = Vec::new();
        for (i, piece) in pieces.iter().enumerate() {
            if py_strip(piece).is_empty() {
                if i != 0 && i != last {
                    return false;
                }
            } else {
                valid.push(*piece);
            }
        }
        valid.len() == 2 && py_strip(valid[0]) != py_strip(valid[1])
    }
}

pub(super) fn two_responses(_: &Kwargs<'_>) -> KwargResult<Checker> {
    Ok(Box::new(TwoResponses))
}

/// The response starts (case-insensitively, after stripping) with the prompt to repeat.
#[derive(Debug)]
pub struct RepeatPrompt {
    prompt: String,
}

impl Instruction for RepeatPrompt {
    fn check(&self, response: &str) -> bool {
        lower(py_strip(response)).starts_with(&self.prompt)
    }
}

pub(super) fn repeat_prompt(k: &Kwargs<'_>) -> KwargResult<Checker> {
    Ok(Box::new(RepeatPrompt {
        prompt: lower(py_strip(k.str("prompt_to_repeat")?)),
    }))
}
