//! Finding the final answer in a model's completion.

use std::sync::LazyLock;

use regex::Regex;

use super::normalize::strip_answer_string;

/// Python's `-?\d*\.?\d+`, as EvalScope's last-number fallback uses it.
static LAST_NUMBER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"-?[0-9]*\.?[0-9]+").expect("static regex is valid"));

/// The content of the last complete `\boxed{...}` or `\fbox{...}` in `text`.
///
/// Braces are balanced (escaped `\{` and `\}` do not count); `\boxed 5` (argument without
/// braces) yields the text up to the next `$` or line end. A box that is never closed (a
/// truncated completion) is skipped in favour of the box before it. `None` when no box is found.
pub fn extract_last_boxed(text: &str) -> Option<String> {
    let mut starts: Vec<(usize, usize)> = text
        .match_indices("\\boxed")
        .map(|(i, m)| (i, i + m.len()))
        .chain(text.match_indices("\\fbox").map(|(i, m)| (i, i + m.len())))
        .collect();
    starts.sort_unstable();
    starts
        .iter()
        .rev()
        .find_map(|&(_, after)| box_argument(&text[after..]))
}

/// The argument of one box, given the text right after `\boxed`.
fn box_argument(rest: &str) -> Option<String> {
    let trimmed = rest.trim_start();
    if trimmed.starts_with('{') {
        return balanced_group(trimmed).map(str::to_string);
    }
    if trimmed.len() == rest.len() {
        // `\boxedfoo`: a different command, not a box.
        return None;
    }
    let end = trimmed.find(['$', '\n']).unwrap_or(trimmed.len());
    let arg = trimmed[..end].trim();
    (!arg.is_empty()).then(|| arg.to_string())
}

/// The content of the brace group that opens `s` (which starts with `{`), if it closes.
fn balanced_group(s: &str) -> Option<&str> {
    let bytes = s.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 1, // skip the escaped character
            b'{' => depth += 1,
            b'}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(&s[1..i]);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// EvalScope's math answer extraction up to 1.10 (`extract_answer` of Qwen2.5-Math), normalised;
/// EvalScope 1.14.1 uses Math-Verify instead ([`super::extract_answer`]).
///
/// The first rule that applies, in this order:
/// 1. remove every `ки`;
/// 2. Minerva style: text contains `final answer is $` and `$. I hope` → what lies between;
/// 3. text contains `boxed` → after the **last** `boxed`: the brace-balanced content if it starts
///    with `{` (all the rest if never closed), else the text up to the first `$`, trimmed; an
///    empty remainder gives `""` at once;
/// 4. `he answer is` → everything after its last occurrence;
/// 5. `final answer is` → everything after its last occurrence;
/// 6. `答案是` → after its first occurrence, up to the first blank line;
/// 7. `ANSWER:` → everything after its last occurrence;
/// 8. the last match of `-?\d*\.?\d+` in the text with commas removed, else `""`.
///
/// Then newlines with the whitespace after them are removed, one leading `:` and one trailing
/// `.` or `/` dropped, and the result goes through [`strip_answer_string`].
/// Like EvalScope, rule 3 matches the bare word `boxed` and ignores `\fbox`; use
/// [`extract_last_boxed`] for strict box parsing.
pub fn extract_answer_qwen(text: &str) -> String {
    let text = text.replace("\u{43a}\u{438}", "");
    let pred: String = if let Some(p) = minerva_answer(&text) {
        p.trim().to_string()
    } else if let Some(idx) = text.rfind("boxed") {
        let ans = &text[idx + "boxed".len()..];
        if ans.is_empty() {
            return String::new();
        }
        if let Some(inner) = ans.strip_prefix('{') {
            until_close(inner).to_string()
        } else {
            ans.split('$').next().unwrap_or("").trim().to_string()
        }
    } else if let Some(rest) = after_last(&text, "he answer is") {
        rest.trim().to_string()
    } else if let Some(rest) = after_last(&text, "final answer is") {
        rest.trim().to_string()
    } else if let Some((_, rest)) = text.split_once("答案是") {
        rest.trim()
            .split("\n\n")
            .next()
            .unwrap_or("")
            .trim()
            .to_string()
    } else if let Some(rest) = after_last(&text, "ANSWER:") {
        rest.trim().to_string()
    } else {
        let no_commas = text.replace(',', "");
        LAST_NUMBER
            .find_iter(&no_commas)
            .last()
            .map(|m| m.as_str().to_string())
            .unwrap_or_default()
    };
    let mut pred = remove_newline_runs(&pred);
    if pred.starts_with(':') {
        pred.remove(0);
    }
    if pred.ends_with('.') || pred.ends_with('/') {
        pred.pop();
    }
    strip_answer_string(&pred)
}

fn minerva_answer(text: &str) -> Option<&str> {
    if !text.contains("$. I hope") {
        return None;
    }
    let (_, tail) = text.split_once("final answer is $")?;
    Some(tail.split_once("$. I hope").map_or(tail, |(a, _)| a))
}

fn after_last<'a>(text: &'a str, needle: &str) -> Option<&'a str> {
    text.rfind(needle).map(|i| &text[i + needle.len()..])
}

/// EvalScope's brace walk: content up to the brace closing the one already consumed.
fn until_close(inner: &str) -> &str {
    let mut depth = 1usize;
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return &inner[..i];
                }
            }
            _ => {}
        }
    }
    inner
}

/// Python's `re.sub(r'\n\s*', '', s)`.
fn remove_newline_runs(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut skipping = false;
    for c in s.chars() {
        if c == '\n' {
            skipping = true;
        } else if !(skipping && c.is_whitespace()) {
            skipping = false;
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boxed_nested_and_last() {
        assert_eq!(
            extract_last_boxed(r"\boxed{1} then \boxed{\frac{1}{2}}").as_deref(),
            Some(r"\frac{1}{2}")
        );
        assert_eq!(extract_last_boxed(r"$\boxed 5$").as_deref(), Some("5"));
        assert_eq!(extract_last_boxed(r"\fbox{7}").as_deref(), Some("7"));
        assert_eq!(
            extract_last_boxed(r"\boxed{2} \boxed{3").as_deref(),
            Some("2")
        );
        assert_eq!(extract_last_boxed("no box"), None);
    }

    #[test]
    fn newline_runs_removed() {
        assert_eq!(remove_newline_runs("a\n   b\nc"), "abc");
        assert_eq!(remove_newline_runs("a b"), "a b");
    }
}
