//! Plain numbers and choice letters as EvalScope reads them, and closeness within a
//! tolerance.

use std::sync::LazyLock;

use regex::Regex;

use super::super::complex::Complex;
use super::ABS_TOL;

static NUMBER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$")
        .expect("static regex is valid")
});
static THOUSANDS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[+-]?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]*)?$").expect("static regex is valid")
});
static CHOICE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(A|B|C|D|E)\b").expect("static regex is valid"));

/// `12`, `-7`: digits only (after an optional sign), so exactness can be asked for.
pub(super) fn is_integer_literal(s: &str) -> bool {
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// Python's `math.isclose(a, b, rel_tol=rel)`, with a tiny absolute floor for zero.
pub(super) fn is_close(a: f64, b: f64, rel: f64) -> bool {
    if a == b {
        return true;
    }
    let diff = (a - b).abs();
    diff.is_finite() && (diff <= rel * a.abs().max(b.abs()) || diff <= ABS_TOL)
}

pub(super) fn complex_close(a: Complex, b: Complex, rel: f64) -> bool {
    if a == b {
        return true;
    }
    let diff = (a - b).abs();
    diff.is_finite() && (diff <= rel * a.abs().max(b.abs()) || diff <= ABS_TOL)
}

/// EvalScope's `parse_digits`: a plain number, `%` meaning /100; commas only as thousands
/// separators (EvalScope drops every comma, so `1,2` would read as 12).
pub(super) fn parse_number(s: &str) -> Option<f64> {
    let (body, scale) = match s.strip_suffix('%') {
        Some(b) => (b.strip_suffix('\\').unwrap_or(b), 0.01),
        None => (s, 1.0),
    };
    let owned;
    let body = if body.contains(',') {
        if !THOUSANDS.is_match(body) {
            return None;
        }
        owned = body.replace(',', "");
        owned.as_str()
    } else {
        body
    };
    if !NUMBER.is_match(body) {
        return None;
    }
    body.parse::<f64>().ok().map(|v| v * scale)
}

/// EvalScope's `choice_answer_clean`: the last standalone letter A–E, else the cleaned text.
pub(super) fn choice_answer_clean(pred: &str) -> String {
    let p = pred
        .trim_matches('\n')
        .trim_end_matches('.')
        .trim_end_matches('/')
        .trim_matches(' ')
        .trim_start_matches(':');
    let upper = p.to_uppercase();
    let picked = match CHOICE.find_iter(&upper).last() {
        Some(m) => m.as_str().to_string(),
        None => p.trim().trim_matches('.').to_string(),
    };
    picked
        .trim_end_matches('.')
        .trim_end_matches('/')
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(parse_number("1,000"), Some(1000.0));
        assert_eq!(parse_number("1,2"), None);
        assert_eq!(parse_number("50\\%"), Some(0.5));
        assert_eq!(parse_number(".5"), Some(0.5));
        assert_eq!(parse_number("1e3"), Some(1000.0));
        assert_eq!(parse_number("52_8"), None);
        assert_eq!(parse_number("x"), None);
    }

    #[test]
    fn choice_clean() {
        assert_eq!(choice_answer_clean("(C)"), "C");
        assert_eq!(choice_answer_clean("The answer is b."), "B");
        assert_eq!(choice_answer_clean("42."), "42");
    }
}
