//! The shapes of structured answers: sets, unions, tuples and intervals, matrices, and
//! EvalScope's bracket-insensitive comparison.

use super::MAX_SET;

/// EvalScope's bracket-insensitive string comparison.
pub(super) fn brackets_removed_equal(pred: &str, gold: &str) -> bool {
    let outer = |c: char| matches!(c, '[' | ']' | '(' | ')');
    let strip_outer = (pred.starts_with('[') && pred.ends_with(']') && !gold.starts_with('('))
        || (pred.starts_with('(') && pred.ends_with(')') && !gold.starts_with('['));
    let (p, g) = if strip_outer {
        (pred.trim_matches(outer), gold.trim_matches(outer))
    } else {
        (pred, gold)
    };
    let inner = |c: &char| !matches!(c, '{' | '}' | '(' | ')');
    let p: String = p.chars().filter(inner).collect();
    let g: String = g.chars().filter(inner).collect();
    p.to_lowercase() == g.to_lowercase()
}

fn depth_delta(c: u8) -> isize {
    match c {
        b'(' | b'[' | b'{' => 1,
        b')' | b']' | b'}' => -1,
        _ => 0,
    }
}

/// `s` split at `sep` where no bracket is open.
fn split_top<'a>(s: &'a str, sep: &str) -> Vec<&'a str> {
    let bytes = s.as_bytes();
    let sep_bytes = sep.as_bytes();
    let mut parts = Vec::new();
    let mut depth = 0isize;
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        if depth == 0 && bytes[i..].starts_with(sep_bytes) {
            parts.push(&s[start..i]);
            i += sep_bytes.len();
            start = i;
            continue;
        }
        depth += depth_delta(bytes[i]);
        i += 1;
    }
    parts.push(&s[start..]);
    parts
}

/// Whether the bracket opening `s` closes at its last character.
fn closes_at_end(s: &str) -> bool {
    let bytes = s.as_bytes();
    let mut depth = 0isize;
    for (i, &c) in bytes.iter().enumerate() {
        depth += depth_delta(c);
        if depth <= 0 {
            return i + 1 == bytes.len() && i > 0;
        }
    }
    false
}

pub(super) fn is_bracketed(s: &str) -> bool {
    (s.starts_with('(') || s.starts_with('[')) && (s.ends_with(')') || s.ends_with(']'))
}

/// `a\pm b` → `[a+b, a-b]` (up to three signs); `[s]` when there is none.
fn expand_pm(s: &str) -> Vec<String> {
    let mut out = vec![s.to_string()];
    for _ in 0..3 {
        let mut next = Vec::with_capacity(out.len() * 2);
        let mut changed = false;
        for item in &out {
            let found = ["\\pm", "\\mp"]
                .iter()
                .filter_map(|m| item.find(m).map(|i| (i, *m)))
                .min();
            match found {
                Some((i, m)) => {
                    changed = true;
                    let (first, second) = if m == "\\pm" { ("+", "-") } else { ("-", "+") };
                    let (head, tail) = (&item[..i], &item[i + m.len()..]);
                    next.push(format!("{head}{first}{tail}"));
                    next.push(format!("{head}{second}{tail}"));
                }
                None => next.push(item.clone()),
            }
        }
        out = next;
        if !changed {
            break;
        }
    }
    out
}

fn has_pm(s: &str) -> bool {
    s.contains("\\pm") || s.contains("\\mp")
}

/// The elements of a set-like answer: `{a,b}`, a bare list `a,b`, or one with `\pm`.
pub(super) fn as_set(s: &str) -> Option<Vec<String>> {
    if split_top(s, "\\cup").len() > 1 {
        return None;
    }
    let braced = s.starts_with('{') && s.ends_with('}') && closes_at_end(s);
    let inner = if braced { &s[1..s.len() - 1] } else { s };
    let parts = split_top(inner, ",");
    if !braced && parts.len() == 1 && !has_pm(s) {
        return None;
    }
    if parts.len() > MAX_SET {
        return None;
    }
    Some(parts.iter().flat_map(|p| expand_pm(p.trim())).collect())
}

pub(super) fn as_union(s: &str) -> Option<Vec<String>> {
    let parts = split_top(s, "\\cup");
    (parts.len() > 1 && parts.len() <= MAX_SET)
        .then(|| parts.iter().map(|p| p.trim().to_string()).collect())
}

pub(super) struct Tuple<'a> {
    pub(super) open: char,
    pub(super) close: char,
    pub(super) items: Vec<&'a str>,
}

/// `(a,b)`, `[a,b)`, ...: one bracket group spanning the whole answer.
pub(super) fn as_tuple(s: &str) -> Option<Tuple<'_>> {
    let open = s.chars().next()?;
    let close = s.chars().last()?;
    if !matches!(open, '(' | '[') || !matches!(close, ')' | ']') || s.len() < 3 {
        return None;
    }
    if !closes_at_end(s) {
        return None;
    }
    let items = split_top(&s[1..s.len() - 1], ",");
    Some(Tuple { open, close, items })
}

/// Rows of cells of a `\begin{pmatrix}...\end{pmatrix}`.
pub(super) fn as_matrix(s: &str) -> Option<Vec<Vec<&str>>> {
    let inner = s
        .strip_prefix("\\begin{pmatrix}")?
        .strip_suffix("\\end{pmatrix}")?;
    Some(
        inner
            .split("\\\\")
            .map(str::trim)
            .filter(|row| !row.is_empty())
            .map(|row| row.split('&').collect())
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitting() {
        assert_eq!(split_top("(1,2),[3,4)", ","), ["(1,2)", "[3,4)"]);
        assert_eq!(split_top(r"(0,9)\cup(9,36)", "\\cup"), ["(0,9)", "(9,36)"]);
        assert!(closes_at_end("(1,2]"));
        assert!(!closes_at_end("(1,2)(3,4)"));
        assert_eq!(expand_pm(r"1\pm\sqrt{5}"), [r"1+\sqrt{5}", r"1-\sqrt{5}"]);
        assert_eq!(expand_pm(r"\pm1\mp2").len(), 4);
    }
}
