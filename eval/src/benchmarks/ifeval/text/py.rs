//! Python `str` semantics the reference checkers rely on: `isupper`, `islower`, `strip`,
//! `split()`, `lower()`.
//!
//! Case follows the Unicode properties CPython uses (`Uppercase`, `Lowercase`, and the
//! titlecase letters of category Lt); Rust's `char::is_uppercase` / `is_lowercase` are the same
//! derived properties. They can differ from a given CPython only where its Unicode version is
//! older than Rust's.

pub use crate::mc::{is_py_space, py_strip};

/// Unicode category Lt (titlecase letters), which CPython counts as cased but neither upper nor
/// lower case.
fn is_titlecase(c: char) -> bool {
    matches!(c,
        '\u{01C5}' | '\u{01C8}' | '\u{01CB}' | '\u{01F2}'
        | '\u{1F88}'..='\u{1F8F}'
        | '\u{1F98}'..='\u{1F9F}'
        | '\u{1FA8}'..='\u{1FAF}'
        | '\u{1FBC}' | '\u{1FCC}' | '\u{1FFC}')
}

/// Python's `str.isupper()`: at least one cased character, and no lowercase or titlecase one.
pub fn is_upper(s: &str) -> bool {
    let mut cased = false;
    for c in s.chars() {
        if c.is_lowercase() || is_titlecase(c) {
            return false;
        }
        if c.is_uppercase() {
            cased = true;
        }
    }
    cased
}

/// Python's `str.islower()`: at least one cased character, and no uppercase or titlecase one.
pub fn is_lower(s: &str) -> bool {
    let mut cased = false;
    for c in s.chars() {
        if c.is_uppercase() || is_titlecase(c) {
            return false;
        }
        if c.is_lowercase() {
            cased = true;
        }
    }
    cased
}

/// Python's `str.split()` without arguments: runs of whitespace separate, no empty pieces.
pub fn split_whitespace(s: &str) -> impl Iterator<Item = &str> {
    s.split(is_py_space).filter(|p| !p.is_empty())
}

/// Python's `str.lower()` (full Unicode lowercase mapping, final sigma included).
pub fn lower(s: &str) -> String {
    s.to_lowercase()
}

/// Python's `str.rstrip()`.
pub fn rstrip(s: &str) -> &str {
    s.trim_end_matches(is_py_space)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_predicates_follow_python() {
        assert!(is_upper("HELLO, WORLD 42!"));
        assert!(!is_upper("Hello"));
        assert!(!is_upper("123 !"));
        assert!(is_lower("hello, world 42!"));
        assert!(!is_lower("hello World"));
        assert!(!is_lower("..."));
        // A titlecase letter is cased but neither upper nor lower.
        assert!(!is_upper("A\u{01C5}"));
        assert!(!is_lower("a\u{01C5}"));
        assert!(is_upper("ÉTÉ"));
    }

    #[test]
    fn split_and_strip_follow_python() {
        let parts: Vec<&str> = split_whitespace("  a \n\t b\u{a0}c  ").collect();
        assert_eq!(parts, ["a", "b", "c"]);
        assert_eq!(py_strip("\u{1c} x \n"), "x");
        assert_eq!(rstrip(" x \n"), " x");
    }
}
