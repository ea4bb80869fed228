//! `punctuation:no_comma`: no `,` anywhere.

use super::kwargs::{KwargResult, Kwargs};
use super::registry::{Checker, Instruction};

/// No ASCII comma.
#[derive(Debug)]
pub struct NoComma;

impl Instruction for NoComma {
    fn check(&self, response: &str) -> bool {
        !response.contains(',')
    }
}

pub(super) fn no_comma(_: &Kwargs<'_>) -> KwargResult<Checker> {
    Ok(Box::new(NoComma))
}
