//! `detectable_format:*`: bullet lists, a constrained answer, highlighted sections, numbered
//! sections, JSON, a `<<title>>`.

use std::sync::LazyLock;

use fancy_regex::Regex;

use super::kwargs::{KwargResult, Kwargs, pattern};
use super::registry::{Checker, Instruction};
use super::text::py::py_strip;

fn count(re: &LazyLock<Option<regex::Regex>>, text: &str) -> usize {
    re.as_ref().map_or(0, |r| r.find_iter(text).count())
}

static STAR_BULLET: LazyLock<Option<regex::Regex>> =
    LazyLock::new(|| regex::Regex::new(r"(?m)^\s*\*[^*].*$").ok());
static DASH_BULLET: LazyLock<Option<regex::Regex>> =
    LazyLock::new(|| regex::Regex::new(r"(?m)^\s*-.*$").ok());

/// Exactly N `*` or `-` bullet lines.
#[derive(Debug)]
pub struct BulletLists {
    num: i64,
}

impl Instruction for BulletLists {
    fn check(&self, response: &str) -> bool {
        (count(&STAR_BULLET, response) + count(&DASH_BULLET, response)) as i64 == self.num
    }
}

pub(super) fn number_bullet_lists(k: &Kwargs<'_>) -> KwargResult<Checker> {
    Ok(Box::new(BulletLists {
        num: k.int_at_least("num_bullets", 0)?,
    }))
}

/// The reference's constrained answers.
pub const CONSTRAINED_OPTIONS: [&str; 3] = [
    "My answer is yes.",
    "My answer is no.",
    "My answer is maybe.",
];

/// Contains one of "My answer is yes." / "no." / "maybe.".
#[derive(Debug)]
pub struct ConstrainedResponse;

impl Instruction for ConstrainedResponse {
    fn check(&self, response: &str) -> bool {
        let value = py_strip(response);
        CONSTRAINED_OPTIONS.iter().any(|o| value.contains(o))
    }
}

pub(super) fn constrained_response(_: &Kwargs<'_>) -> KwargResult<Checker> {
    Ok(Box::new(ConstrainedResponse))
}

static HIGHLIGHT: LazyLock<Option<regex::Regex>> =
    LazyLock::new(|| regex::Regex::new(r"\*[^\n*]*\*").ok());
static DOUBLE_HIGHLIGHT: LazyLock<Option<regex::Regex>> =
    LazyLock::new(|| regex::Regex::new(r"\*\*[^\n*]*\*\*").ok());

/// At least N non-empty `*highlighted*` (or `**bold**`) sections.
#[derive(Debug)]
pub struct Highlights {
    num: i64,
}

impl Instruction for Highlights {
    fn check(&self, response: &str) -> bool {
        let single = HIGHLIGHT.as_ref().map_or(0, |re| {
            re.find_iter(response)
                .filter(|m| !py_strip(m.as_str().trim_matches('*')).is_empty())
                .count()
        });
        let double = DOUBLE_HIGHLIGHT.as_ref().map_or(0, |re| {
            re.find_iter(response)
                .filter(|m| {
                    let s = m.as_str();
                    let s = s.strip_prefix("**").unwrap_or(s);
                    let s = s.strip_suffix("**").unwrap_or(s);
                    !py_strip(s).is_empty()
                })
                .count()
        });
        (single + double) as i64 >= self.num
    }
}

pub(super) fn number_highlighted_sections(k: &Kwargs<'_>) -> KwargResult<Checker> {
    Ok(Box::new(Highlights {
        num: k.int_at_least("num_highlights", 0)?,
    }))
}

/// At least N sections marked `<splitter> <number>` (the splitter is a case-sensitive regular
/// expression, as in the reference).
#[derive(Debug)]
pub struct Sections {
    splitter: Regex,
    num: i64,
}

impl Instruction for Sections {
    fn check(&self, response: &str) -> bool {
        // `len(re.split(p, text)) - 1`: one piece per match, plus one per capture group.
        let matches = self
            .splitter
            .find_iter(response)
            .filter(Result::is_ok)
            .count();
        (matches * self.splitter.captures_len()) as i64 >= self.num
    }
}

pub(super) fn multiple_sections(k: &Kwargs<'_>) -> KwargResult<Checker> {
    let splitter = py_strip(k.str("section_spliter")?);
    Ok(Box::new(Sections {
        splitter: pattern("section_spliter", &format!(r"\s?{splitter}\s?\d+\s?"))?,
        num: k.int_at_least("num_sections", 0)?,
    }))
}

/// The response (without a Markdown code fence) parses as JSON.
///
/// Differs from Python's `json.loads` only on its extensions: `NaN`, `Infinity` and numbers
/// beyond the float range are accepted there and refused here.
#[derive(Debug)]
pub struct JsonFormat;

impl Instruction for JsonFormat {
    fn check(&self, response: &str) -> bool {
        let mut value = py_strip(response);
        for prefix in ["```json", "```Json", "```JSON", "```"] {
            value = value.strip_prefix(prefix).unwrap_or(value);
        }
        let value = py_strip(value.strip_suffix("```").unwrap_or(value));
        serde_json::from_str::<serde_json::Value>(value).is_ok()
    }
}

pub(super) fn json_format(_: &Kwargs<'_>) -> KwargResult<Checker> {
    Ok(Box::new(JsonFormat))
}

static TITLE: LazyLock<Option<regex::Regex>> =
    LazyLock::new(|| regex::Regex::new(r"<<[^\n]+>>").ok());

/// A non-empty `<<title>>`.
#[derive(Debug)]
pub struct Title;

impl Instruction for Title {
    fn check(&self, response: &str) -> bool {
        TITLE.as_ref().is_some_and(|re| {
            re.find_iter(response).any(|m| {
                let t = m.as_str().trim_start_matches('<').trim_end_matches('>');
                !py_strip(t).is_empty()
            })
        })
    }
}

pub(super) fn title(_: &Kwargs<'_>) -> KwargResult<Checker> {
    Ok(Box::new(Title))
}
