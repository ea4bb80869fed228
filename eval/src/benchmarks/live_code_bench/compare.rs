//! LiveCodeBench's standard-output comparison: both texts stripped and split into stripped
//! lines; equal line counts; each line equal, or both lines whitespace-split lists of Python
//! `Decimal`s that are equal.

use crate::mc::py_strip;

/// True when `printed` matches the expected output `expected`.
pub fn stdio_matches(printed: &str, expected: &str) -> bool {
    let (got, want) = (stripped_lines(printed), stripped_lines(expected));
    if got.len() != want.len() {
        return false;
    }
    got.iter().zip(&want).all(|(g, w)| {
        if g == w {
            return true;
        }
        match (decimal_line(g), decimal_line(w)) {
            (Some(a), Some(b)) => a == b,
            _ => false,
        }
    })
}

/// `[l.strip() for l in text.strip().split("\n")]`.
fn stripped_lines(text: &str) -> Vec<&str> {
    py_strip(text).split('\n').map(py_strip).collect()
}

/// `[Decimal(x) for x in line.split()]`, None when one is not a number. NaN never compares
/// equal, so a line holding one is None too.
fn decimal_line(line: &str) -> Option<Vec<Decimal>> {
    line.split(crate::mc::is_py_space)
        .filter(|t| !t.is_empty())
        .map(Decimal::parse)
        .collect()
}

/// A Python `Decimal` value reduced to a canonical form, so that `==` is numeric equality.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decimal {
    /// Zero (either sign).
    Zero,
    /// ±Infinity.
    Infinite {
        /// Sign.
        negative: bool,
    },
    /// `±digits × 10^exponent`, digits without leading or trailing zeros.
    Finite {
        /// Sign.
        negative: bool,
        /// Significant digits.
        digits: String,
        /// Power of ten of the last digit.
        exponent: i64,
    },
}

impl Decimal {
    /// Parses Python's `Decimal(text)` syntax (`1`, `-2.50`, `.5`, `1e-3`, `1_000`, `Inf`);
    /// None for anything else, and for NaN (which equals nothing).
    pub fn parse(text: &str) -> Option<Decimal> {
        let text = py_strip(text);
        let (negative, body) = match text.as_bytes().first()? {
            b'-' => (true, &text[1..]),
            b'+' => (false, &text[1..]),
            _ => (false, text),
        };
        let lower = body.to_ascii_lowercase();
        if lower == "inf" || lower == "infinity" {
            return Some(Decimal::Infinite { negative });
        }
        let (mantissa, exp) = match lower.find('e') {
            Some(i) => (&lower[..i], Some(&lower[i + 1..])),
            None => (lower.as_str(), None),
        };
        let exponent: i64 = match exp {
            None => 0,
            Some(e) => parse_int(e)?,
        };
        let (int_part, frac_part) = match mantissa.find('.') {
            Some(i) => (&mantissa[..i], &mantissa[i + 1..]),
            None => (mantissa, ""),
        };
        let int_digits = digit_group(int_part)?;
        let frac_digits = digit_group(frac_part)?;
        if int_digits.is_empty() && frac_digits.is_empty() {
            return None;
        }
        let all = format!("{int_digits}{frac_digits}");
        let exponent = exponent.checked_sub(i64::try_from(frac_digits.len()).ok()?)?;
        let trimmed_start = all.trim_start_matches('0');
        if trimmed_start.is_empty() {
            return Some(Decimal::Zero);
        }
        let digits = trimmed_start.trim_end_matches('0');
        let trailing = (trimmed_start.len() - digits.len()) as i64;
        Some(Decimal::Finite {
            negative,
            digits: digits.to_owned(),
            exponent: exponent.checked_add(trailing)?,
        })
    }
}

/// Digits with single underscores between them (Python's numeric literal rule), underscores
/// removed; `""` is allowed (an empty side of the point).
fn digit_group(text: &str) -> Option<String> {
    if text.is_empty() {
        return Some(String::new());
    }
    if text.starts_with('_') || text.ends_with('_') || text.contains("__") {
        return None;
    }
    let digits: String = text.chars().filter(|c| *c != '_').collect();
    digits.bytes().all(|b| b.is_ascii_digit()).then_some(digits)
}

fn parse_int(text: &str) -> Option<i64> {
    let (negative, body) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let digits = digit_group(body)?;
    if digits.is_empty() {
        return None;
    }
    let value: i64 = digits.trim_start_matches('0').parse().unwrap_or(0);
    if digits.trim_start_matches('0').len() > 15 {
        return None;
    }
    Some(if negative { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_compare_by_value() {
        let d = |s| Decimal::parse(s);
        assert_eq!(d("1.0"), d("1"));
        assert_eq!(d("1e3"), d("1000"));
        assert_eq!(d("-0"), d("0.000"));
        assert_eq!(d(".5"), d("0.50"));
        assert_eq!(d("1_000"), d("1000"));
        assert_eq!(d("Infinity"), d("inf"));
        assert_ne!(d("1.5"), d("15"));
        assert_ne!(d("-1"), d("1"));
        assert_eq!(d("nan"), None);
        assert_eq!(d("abc"), None);
        assert_eq!(d("1__0"), None);
        assert_eq!(d("."), None);
    }

    #[test]
    fn stdio_lines_are_stripped_and_counted() {
        assert!(stdio_matches("YES\nNO  \n\n", "YES\nNO\n"));
        assert!(stdio_matches("1.50 2\n", "1.5 2.0"));
        assert!(!stdio_matches("YES\n", "YES\nNO\n"));
        assert!(!stdio_matches("1 2 3", "1 2"));
        assert!(!stdio_matches("yes", "YES"));
        assert!(stdio_matches("  a b  ", "a b"));
        assert!(!stdio_matches("a  b", "a b"));
    }
}
