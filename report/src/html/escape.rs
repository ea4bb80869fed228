//! HTML escaping: every text and attribute value a page shows goes through [`esc`].

use std::fmt::Write;

use crate::NO_DATA;

/// `text` with `& < > " '` replaced by entities, safe inside element text and quoted attributes.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `text` percent-encoded for a URL query value or path segment (unreserved characters kept).
pub fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// Decodes a percent-encoded query component (`+` is a space); bad escapes are kept as text.
pub fn url_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len()
                && bytes[i + 1].is_ascii_hexdigit()
                && bytes[i + 2].is_ascii_hexdigit() =>
            {
                let hex = |c: u8| (c as char).to_digit(16).unwrap_or(0) as u8;
                out.push(hex(bytes[i + 1]) * 16 + hex(bytes[i + 2]));
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A query string as (key, value) pairs in order, decoded; repeated keys stay repeated.
pub fn parse_query(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (url_decode(k), url_decode(v)),
            None => (url_decode(p), String::new()),
        })
        .collect()
}

/// A number for tables: integers as they are, other values with 4 decimals (EvalScope's
/// rounding), non-finite values (no data) as [`NO_DATA`].
pub fn num(v: f64) -> String {
    if !v.is_finite() {
        NO_DATA.into()
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v:.4}")
    }
}

/// A statistic for tables: through [`num`], None (no data) as [`NO_DATA`].
pub fn opt_num(v: Option<f64>) -> String {
    v.map(num).unwrap_or_else(|| NO_DATA.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            esc(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
    }

    #[test]
    fn encodes_urls_and_numbers() {
        assert_eq!(url_encode("a b/c&d"), "a%20b%2Fc%26d");
        assert_eq!(num(3.0), "3");
        assert_eq!(num(0.12345), "0.1235");
        assert_eq!(num(f64::NAN), "–");
        assert_eq!(num(0.0), "0");
        assert_eq!(opt_num(None), "–");
        assert_eq!(opt_num(Some(0.5)), "0.5000");
        assert_eq!(url_decode(&url_encode("a b/c&d=é")), "a b/c&d=é");
        assert_eq!(url_decode("x+y%2"), "x y%2");
        assert_eq!(
            parse_query("run=a&run=b%20c&q="),
            vec![
                ("run".to_string(), "a".to_string()),
                ("run".to_string(), "b c".to_string()),
                ("q".to_string(), String::new())
            ]
        );
    }
}
