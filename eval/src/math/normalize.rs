//! EvalScope's `strip_answer_string`: LaTeX answer normalisation before comparison.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::{Captures, Regex};

use super::words::word_to_num;

fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("static regex is valid")
}

static ARRAY_BEGIN: LazyLock<Regex> = LazyLock::new(|| re(r"\\begin\{array\}\{.*?\}"));
static TEXT_WORD: LazyLock<Regex> = LazyLock::new(|| re(r"\\text\{([a-zA-Z]+)\}"));
static SQUARED_UNIT: LazyLock<Regex> = LazyLock::new(|| re(r"(cm|inches)\}\^2"));
static TRAILING_TEXT: LazyLock<Regex> = LazyLock::new(|| re(r"\\text\{.*?\}$"));
static TEXT_ANY: LazyLock<Regex> = LazyLock::new(|| re(r"\\text\{(.*?)\}"));
static MBOX: LazyLock<Regex> = LazyLock::new(|| re(r"\\mbox\{.*?\}"));
static ZEROS_MID: LazyLock<Regex> = LazyLock::new(|| re(r"([0-9]+)\.0*([^0-9])"));
static ZEROS_END: LazyLock<Regex> = LazyLock::new(|| re(r"([0-9]+)\.0*$"));
static SQRT_BARE: LazyLock<Regex> = LazyLock::new(|| re(r"\\sqrt(\w+)"));
static INT_LIST: LazyLock<Regex> = LazyLock::new(|| re(r"^(\s*-?[0-9]+\s*,)*\s*-?[0-9]+\s*$"));
static THOUSANDS: LazyLock<Regex> = LazyLock::new(|| re(r"^-?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?$"));

/// Normalise a LaTeX answer the way EvalScope (after OpenCompass / Qwen2.5-Math) does.
///
/// In order: trim; drop newlines and trailing `.`; drop `\!`; `array`/`bmatrix` → `pmatrix`;
/// `\tfrac`/`\dfrac` → `\frac`; `\neq \leq \geq` → `\ne \le \ge`; drop `\left` `\right`;
/// `\{ \}` → `{ }`; `\text{five}` → `5`; drop a trailing `\text{unit}`; drop `^\circ`,
/// `^{\circ}`, `\$`, `$`, `\(`, `\)`; spelled numbers → digits; `\text{X}` → `X`; drop `x=`,
/// `y=`, `z=`, `x\in`, `x\to` (and for y, z); `\emptyset` → `{}`; `(-\infty,\infty)` →
/// `\mathbb{R}`; drop `\%` and `%`; `{.5` → `{0.5`; `infinity`/`inf` → `\infty`; drop `and`,
/// `\mathbf`, `\mbox{..}`; `j` → `i` when there is no `i`; `5.00` → `5`; leading `.` → `0.`;
/// drop a `k =` prefix of at most 2 characters; `\sqrt2` → `\sqrt{2}`; drop whitespace;
/// `\frac12` → `\frac{1}{2}`; integer `a/b` → `\frac{a}{b}`; drop `\` before an integer;
/// drop a trailing `thgrade`; sort a bare list of integers (`3,1,2` → `1,2,3`).
///
/// Deviations from EvalScope, each fixing a wrong verdict on real MATH-500 answers:
/// - thousands groups lose their commas (`1,000` → `1000`, `10,\!080` → `10080`); EvalScope
///   sorts them as integer lists (`1,000` → `0,1`, `10,080` → `10,80`);
/// - `\,` `\;` `\:` are dropped and `{,}` → `,` (`2\,000`, `10{,}080`); all whitespace, not
///   only spaces, is removed;
/// - `x=`, `y\in`, ... are dropped only where they start the answer or a list element
///   (EvalScope turns `5x+11z=-4` into `5x+11-4`);
/// - a `\` that is the second half of a `\\` matrix row break is kept;
/// - `x \in [a,b]` and `(-\infty, \infty)` are also recognised when written with spaces;
/// - spelled numbers: `point` (decimals) is not supported.
pub fn strip_answer_string(s: &str) -> String {
    let mut s = s.trim().replace('\n', "");
    truncate_trailing(&mut s, '.');
    s = s.replace("\\!", "");
    // deviation: thin spaces and braced commas inside numbers (`2\,000`, `10{,}080`)
    for thin in ["\\,", "\\;", "\\:"] {
        s = replace_if(s, thin, "");
    }
    s = replace_if(s, "{,}", ",");

    // matrices
    if s.contains("array") {
        s = ARRAY_BEGIN.replace_all(&s, r"\begin{pmatrix}").into_owned();
        s = s.replace("\\end{array}", "\\end{pmatrix}");
    }
    s = s.replace("bmatrix", "pmatrix");

    s = s.replace("tfrac", "frac").replace("dfrac", "frac");
    s = s
        .replace("\\neq", "\\ne")
        .replace("\\leq", "\\le")
        .replace("\\geq", "\\ge");
    s = s.replace("\\left", "").replace("\\right", "");
    s = s.replace("\\{", "{").replace("\\}", "}");

    if s.contains("\\text{") {
        s = TEXT_WORD
            .replace_all(&s, |c: &Captures| match word_to_num(&c[1]) {
                Some(n) => n.to_string(),
                None => c[0].to_string(),
            })
            .into_owned();
    }
    s = SQUARED_UNIT.replace_all(&s, "${1}}").into_owned();
    if s.contains("\\text{") {
        let without_unit = TRAILING_TEXT.replace(&s, "");
        let without_unit = without_unit.trim();
        if !without_unit.is_empty() && without_unit != s {
            s = without_unit.to_string();
        }
    }

    s = s.replace("^{\\circ}", "").replace("^\\circ", "");
    s = s.replace("\\$", "").replace('$', "");
    s = s.replace("\\(", "").replace("\\)", "");
    if let Some(n) = word_to_num(&s) {
        s = n.to_string();
    }
    if s.contains("\\text{") {
        s = TEXT_ANY.replace_all(&s, "${1}").into_owned();
    }
    for key in [
        "x=", "y=", "z=", "x\\in", "y\\in", "z\\in", "x\\to", "y\\to", "z\\to",
    ] {
        if s.contains(key) {
            s = remove_assignment_prefix(&s, key);
        }
    }
    s = replace_if(s, "\\emptyset", "{}");
    s = replace_if(s, "(-\\infty,\\infty)", "\\mathbb{R}");

    s = s.replace("\\%", "").replace('%', "");
    s = s.replace(" .", " 0.").replace("{.", "{0.");

    s = replace_if(s, "infinity", "\\infty");
    if !s.contains("\\infty") {
        s = replace_if(s, "inf", "\\infty");
    }
    s = replace_if(s, "and", "");
    s = replace_if(s, "\\mathbf", "");
    if s.contains("\\mbox{") {
        s = MBOX.replace_all(&s, "").into_owned();
    }
    if s.contains('j') && !s.contains('i') {
        s = s.replace('j', "i");
    }

    if s.contains('.') {
        s = ZEROS_MID.replace_all(&s, "${1}${2}").into_owned();
        s = ZEROS_END.replace_all(&s, "${1}").into_owned();
    }
    if s.is_empty() {
        return s;
    }
    if s.starts_with('.') {
        s.insert(0, '0');
    }

    // "k = 5" → "5"
    if s.matches('=').count() == 1
        && let Some((lhs, rhs)) = s.split_once('=')
        && lhs.chars().count() <= 2
    {
        s = rhs.to_string();
    }

    if s.contains("\\sqrt") {
        s = SQRT_BARE.replace_all(&s, "\\sqrt{${1}}").into_owned();
    }
    s.retain(|c| !c.is_whitespace());
    s = fix_fracs(&s).into_owned();
    s = fix_a_slash_b(&s).unwrap_or(s);
    s = remove_backslash_before_integer(&s);
    if let Some(stripped) = s.strip_suffix("thgrade") {
        s = stripped.to_string();
    }

    // deviations: forms EvalScope only catches before whitespace is removed
    s = replace_if(s, "(-\\infty,\\infty)", "\\mathbb{R}");
    if let Some(rest) = strip_membership_prefix(&s) {
        s = rest.to_string();
    }

    if THOUSANDS.is_match(&s) {
        s.retain(|c| c != ',');
    } else if INT_LIST.is_match(&s) {
        s = sort_integer_list(&s);
    }
    s
}

fn truncate_trailing(s: &mut String, c: char) {
    let kept = s.trim_end_matches(c).len();
    s.truncate(kept);
}

/// `replace` that does not allocate when there is nothing to replace.
fn replace_if(s: String, from: &str, to: &str) -> String {
    if s.contains(from) {
        s.replace(from, to)
    } else {
        s
    }
}

/// Remove `key` (`x=`, `y\in`, ...) where it starts the answer or an element of a list or
/// tuple. EvalScope removes it everywhere, which turns `5x+11z=-4` into `5x+11-4`.
fn remove_assignment_prefix(s: &str, key: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    for (i, _) in s.match_indices(key) {
        let starts_item = s[..i] == *"-"
            || s[..i]
                .chars()
                .next_back()
                .is_none_or(|c| matches!(c, ',' | '(' | '[' | '{' | ' '));
        if starts_item && i >= last {
            out.push_str(&s[last..i]);
            last = i + key.len();
        }
    }
    out.push_str(&s[last..]);
    out
}

/// `x\in[1,2]` → `[1,2]` (one ASCII letter before `\in`).
fn strip_membership_prefix(s: &str) -> Option<&str> {
    let mut chars = s.chars();
    let first = chars.next()?;
    let rest = chars.as_str().strip_prefix("\\in")?;
    let next = rest.chars().next()?;
    (first.is_ascii_alphabetic() && !next.is_ascii_alphabetic()).then_some(rest)
}

/// Python's `_fix_fracs`: `\frac12` → `\frac{1}{2}`, `\frac1{72}` → `\frac{1}{72}`.
fn fix_fracs(s: &str) -> Cow<'_, str> {
    if !s.contains("\\frac") {
        return Cow::Borrowed(s);
    }
    let mut parts = s.split("\\frac");
    let mut out = String::with_capacity(s.len() + 8);
    out.push_str(parts.next().unwrap_or(""));
    for part in parts {
        out.push_str("\\frac");
        if part.starts_with('{') {
            out.push_str(part);
            continue;
        }
        let mut chars = part.chars();
        let (Some(a), Some(b)) = (chars.next(), chars.next()) else {
            return Cow::Borrowed(s);
        };
        let post = chars.as_str();
        out.push('{');
        out.push(a);
        out.push('}');
        if b == '{' {
            out.push(b);
        } else {
            out.push('{');
            out.push(b);
            out.push('}');
        }
        out.push_str(post);
    }
    Cow::Owned(out)
}

/// Python's `_fix_a_slash_b`: `3/4` → `\frac{3}{4}` when both sides are integers (written
/// canonically) or contain `sqrt`.
fn fix_a_slash_b(s: &str) -> Option<String> {
    let (a, b) = s.split_once('/')?;
    if b.contains('/') {
        return None;
    }
    let ok = |t: &str| t.contains("sqrt") || is_canonical_int(t);
    (ok(a) && ok(b)).then(|| format!("\\frac{{{a}}}{{{b}}}"))
}

/// What Python's `str(int(t)) == t` accepts: `0` or `-?[1-9][0-9]*`.
fn is_canonical_int(t: &str) -> bool {
    let digits = t.strip_prefix('-').unwrap_or(t);
    !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" && digits.len() == t.len() || !digits.starts_with('0'))
}

/// Python's `re.sub(r'\\(?=\-?\d+(\\|\)|,|\]|$))', '', s)`, except that the second `\` of a
/// `\\` row break is kept.
fn remove_backslash_before_integer(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if b != b'\\' || (i > 0 && bytes[i - 1] == b'\\') {
            continue;
        }
        let mut j = i + 1;
        if bytes.get(j) == Some(&b'-') {
            j += 1;
        }
        let digits_start = j;
        while bytes.get(j).is_some_and(u8::is_ascii_digit) {
            j += 1;
        }
        let followed_ok = matches!(bytes.get(j), None | Some(b'\\' | b')' | b',' | b']'));
        if j > digits_start && followed_ok {
            out.push_str(&s[last..i]);
            last = i + 1;
        }
    }
    out.push_str(&s[last..]);
    out
}

/// `3,-1,2` → `-1,2,3`; integers of any length compare by value.
fn sort_integer_list(s: &str) -> String {
    let mut items: Vec<(bool, &str)> = s
        .split(',')
        .map(|t| {
            let t = t.trim();
            let (neg, digits) = match t.strip_prefix('-') {
                Some(d) => (true, d),
                None => (false, t),
            };
            let digits = digits.trim_start_matches('0');
            let digits = if digits.is_empty() { "0" } else { digits };
            (neg && digits != "0", digits)
        })
        .collect();
    items.sort_by(|(na, a), (nb, b)| {
        let magnitude = a.len().cmp(&b.len()).then_with(|| a.cmp(b));
        match (na, nb) {
            (false, false) => magnitude,
            (true, true) => magnitude.reverse(),
            (true, false) => std::cmp::Ordering::Less,
            (false, true) => std::cmp::Ordering::Greater,
        }
    });
    let mut out = String::with_capacity(s.len());
    for (k, (neg, digits)) in items.iter().enumerate() {
        if k > 0 {
            out.push(',');
        }
        if *neg {
            out.push('-');
        }
        out.push_str(digits);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frac_fixes() {
        assert_eq!(fix_fracs(r"\frac12"), r"\frac{1}{2}");
        assert_eq!(fix_fracs(r"\frac1{72}"), r"\frac{1}{72}");
        assert_eq!(fix_fracs(r"\frac{72}1"), r"\frac{72}1");
        assert_eq!(fix_fracs(r"\frac1"), r"\frac1");
        assert_eq!(fix_a_slash_b("3/4").as_deref(), Some(r"\frac{3}{4}"));
        assert_eq!(fix_a_slash_b("-1/3").as_deref(), Some(r"\frac{-1}{3}"));
        assert_eq!(fix_a_slash_b("03/4"), None);
        assert_eq!(fix_a_slash_b("1/2/3"), None);
        assert_eq!(
            fix_a_slash_b(r"\sqrt{2}/2").as_deref(),
            Some(r"\frac{\sqrt{2}}{2}")
        );
    }

    #[test]
    fn backslash_before_integer() {
        assert_eq!(remove_backslash_before_integer(r"\5"), "5");
        assert_eq!(remove_backslash_before_integer(r"(\-3,\4]"), "(-3,4]");
        assert_eq!(
            remove_backslash_before_integer(r"1\\-14\\7\end"),
            r"1\\-14\\7\end"
        );
        assert_eq!(remove_backslash_before_integer(r"\5x"), r"\5x");
    }

    #[test]
    fn integer_lists_sort_by_value() {
        assert_eq!(sort_integer_list("3, -1,2"), "-1,2,3");
        assert_eq!(sort_integer_list("-10,-2,007"), "-10,-2,7");
        assert_eq!(sort_integer_list("-0"), "0");
    }

    #[test]
    fn assignment_prefixes() {
        assert_eq!(remove_assignment_prefix("x=1,y=2", "y="), "x=1,2");
        assert_eq!(remove_assignment_prefix("5x+11z=-4", "z="), "5x+11z=-4");
        assert_eq!(remove_assignment_prefix("(x=1)", "x="), "(1)");
        assert_eq!(remove_assignment_prefix("-x=5", "x="), "-5");
        assert_eq!(remove_assignment_prefix("2x-y=0", "y="), "2x-y=0");
    }

    #[test]
    fn membership_prefix() {
        assert_eq!(strip_membership_prefix(r"x\in[1,2]"), Some("[1,2]"));
        assert_eq!(strip_membership_prefix(r"x\infty"), None);
    }
}
