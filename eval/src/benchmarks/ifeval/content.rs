//! `detectable_content:*`: `[placeholder]`s and a postscript.

use std::sync::LazyLock;

use fancy_regex::Regex;

use super::kwargs::{KwargResult, Kwargs, pattern};
use super::registry::{Checker, Instruction};
use super::text::py::{lower, py_strip};

static PLACEHOLDER: LazyLock<Option<regex::Regex>> =
    LazyLock::new(|| regex::Regex::new(r"\[.*?\]").ok());

/// At least N `[...]` placeholders.
#[derive(Debug)]
pub struct Placeholders {
    num: i64,
}

impl Instruction for Placeholders {
    fn check(&self, response: &str) -> bool {
        let count = PLACEHOLDER
            .as_ref()
            .map_or(0, |re| re.find_iter(response).count());
        count as i64 >= self.num
    }
}

pub(super) fn number_placeholders(k: &Kwargs<'_>) -> KwargResult<Checker> {
    Ok(Box::new(Placeholders {
        num: k.int_at_least("num_placeholders", 0)?,
    }))
}

/// A line of the lowercased response starts (after spaces) with the postscript marker:
/// `P.P.S` and `P.S.` tolerate a space after each period; any other marker is a regular
/// expression, as in the reference.
#[derive(Debug)]
pub struct Postscript {
    re: Regex,
}

impl Instruction for Postscript {
    fn check(&self, response: &str) -> bool {
        self.re.is_match(&lower(response)).unwrap_or(false)
    }
}

pub(super) fn postscript(k: &Kwargs<'_>) -> KwargResult<Checker> {
    let marker = py_strip(k.str("postscript_marker")?);
    let body = match marker {
        "P.P.S" => r"\s*p\.\s?p\.\s?s.*$".to_owned(),
        "P.S." => r"\s*p\.\s?s\..*$".to_owned(),
        other => format!(r"\s*{}.*$", lower(other)),
    };
    Ok(Box::new(Postscript {
        re: pattern("postscript_marker", &format!("(?m){body}"))?,
    }))
}
