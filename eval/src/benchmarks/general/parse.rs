//! EvalScope 1.14.1 `parse_answers_zh` (`evalscope/utils/multi_choices.py`), the parser of its
//! Chinese multiple-choice templates: the labels after the last `答案：` marker that is followed
//! by any (a LaTeX wrapper such as `$`, `\boxed{` skipped; bracketed `(A)` / `【A、C】` or plain
//! `A` / `A,C`; cut at the first word that is not a label, `and` / `or` between two labels
//! stepped over), else the last uppercase character if it is an option.
//!
//! Python semantics kept: `\s` is `str.isspace`, `\d` a Unicode decimal digit, `re.match`
//! anchors at the start of the text after the marker.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use regex::Regex;

use crate::mc::{allowed_options, join_answers, py_strip};

/// Python's `\s` as the body of a character class.
const S: &str = r"\t\n\x0B\x0C\r\x1C-\x1F \x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}";

fn compile(pattern: &str) -> Option<Regex> {
    Regex::new(pattern).ok()
}

/// `答案\s*[:：]\s*\**\s*`
static MARKER_ZH: LazyLock<Option<Regex>> =
    LazyLock::new(|| compile(&format!(r"答案[{S}]*[:：][{S}]*\**[{S}]*")));
/// `(?:(?:\$+|\\\(|\\(?:boxed|fbox|text|textbf|mathbf|mathrm)\s*\{)\s*)*`, anchored.
static LATEX_PREFIX: LazyLock<Option<Regex>> = LazyLock::new(|| {
    compile(&format!(
        r"^(?:(?:\$+|\\\(|\\(?:boxed|fbox|text|textbf|mathbf|mathrm)[{S}]*\{{)[{S}]*)*"
    ))
});
/// `[\(\[（【]\s*([A-Za-z\d](?:\s*[,，/、]\s*[A-Za-z\d])*)\s*[\)\]）】]`, anchored.
static BRACKETED: LazyLock<Option<Regex>> = LazyLock::new(|| {
    compile(&format!(
        r"^[\(\[（【][{S}]*([A-Za-z\d](?:[{S}]*[,，/、][{S}]*[A-Za-z\d])*)[{S}]*[\)\]）】]"
    ))
});
/// `([A-Za-z0-9][A-Za-z0-9 ,，/、]*)`, anchored.
static PLAIN_ZH: LazyLock<Option<Regex>> =
    LazyLock::new(|| compile(r"^([A-Za-z0-9][A-Za-z0-9 ,，/、]*)"));
/// `[A-Za-z\d]+`
static TOKEN: LazyLock<Option<Regex>> = LazyLock::new(|| compile(r"[A-Za-z\d]+"));

fn is_label_word(word: &str, allowed: &BTreeSet<String>) -> bool {
    allowed.contains(word) || word.chars().all(|c| allowed.contains(&c.to_string()))
}

/// `_label_prefix`: the leading part of a capture holding only labels (and `and` / `or`
/// between two of them).
fn label_prefix<'a>(capture: &'a str, allowed: &BTreeSet<String>) -> &'a str {
    let Some(token_re) = TOKEN.as_ref() else {
        return "";
    };
    let tokens: Vec<_> = token_re.find_iter(capture).collect();
    let mut end = 0;
    for (i, token) in tokens.iter().enumerate() {
        let word = token.as_str();
        if is_label_word(word, allowed) {
            end = token.end();
            continue;
        }
        let follows_label = end > 0;
        let precedes_label = tokens
            .get(i + 1)
            .is_some_and(|t| is_label_word(t.as_str(), allowed));
        let lower = word.to_lowercase();
        if follows_label && precedes_label && (lower == "and" || lower == "or") {
            continue;
        }
        break;
    }
    &capture[..end]
}

/// `_last_labelled_answer` with the Chinese marker and plain-label pattern.
fn last_labelled_answer<'a>(text: &'a str, allowed: &BTreeSet<String>) -> Option<&'a str> {
    let (marker, latex, bracketed, plain) = (
        MARKER_ZH.as_ref()?,
        LATEX_PREFIX.as_ref()?,
        BRACKETED.as_ref()?,
        PLAIN_ZH.as_ref()?,
    );
    let markers: Vec<_> = marker.find_iter(text).collect();
    for m in markers.iter().rev() {
        let mut tail = &text[m.end()..];
        if let Some(prefix) = latex.find(tail) {
            tail = &tail[prefix.end()..];
        }
        for label in [bracketed, plain] {
            let Some(capture) = label.captures(tail).and_then(|c| c.get(1)) else {
                continue;
            };
            let prefix = label_prefix(capture.as_str(), allowed);
            if !prefix.is_empty() {
                return Some(prefix);
            }
        }
    }
    None
}

/// `_fallback_parse_answer`: the last uppercase character, if it is an option.
fn fallback(text: &str, allowed: &BTreeSet<String>) -> BTreeSet<String> {
    text.chars()
        .rev()
        .find(|c| c.is_uppercase())
        .map(|c| c.to_string())
        .filter(|c| allowed.contains(c))
        .map(|c| BTreeSet::from([c]))
        .unwrap_or_default()
}

/// EvalScope 1.14.1 `parse_answers_zh(state, multiple_correct, completion)`.
pub fn parse_answers_zh(text: &str, num_choices: usize, multiple: bool) -> BTreeSet<String> {
    let allowed = allowed_options(num_choices);
    let Some(matched) = last_labelled_answer(text, &allowed) else {
        return fallback(text, &allowed);
    };
    let matched = py_strip(matched).trim_end_matches(['。', '.']);
    if multiple {
        let matched = matched
            .replace(" 和 ", "")
            .replace(' ', "")
            .replace(['，', '、', '/'], ",");
        let answers: BTreeSet<String> = if matched.contains(',') {
            matched.split(',').map(str::to_owned).collect()
        } else {
            matched.chars().map(String::from).collect()
        };
        if answers.is_subset(&allowed) {
            answers
        } else {
            BTreeSet::new()
        }
    } else if allowed.contains(matched) {
        BTreeSet::from([matched.to_owned()])
    } else {
        BTreeSet::new()
    }
}

/// The extracted prediction: the answers sorted and joined (`"AC"`, `"B"`, `""`).
pub fn extract_zh(text: &str, num_choices: usize, multiple: bool) -> String {
    join_answers(&parse_answers_zh(text, num_choices, multiple))
}
