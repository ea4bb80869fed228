//! latex2sympy2_extended 1.11.0's `normalize_latex` with Math-Verify's configuration
//! (`basic_latex`, `units`, `malformed_operators`, `nits`; boxed `all`, or `last` for a bare
//! `\boxed{...}` match), as EvalScope 1.14.1 runs it through Math-Verify 0.9.0.

use std::sync::LazyLock;

use fancy_regex::{Captures, Regex};

fn re(p: &str) -> Option<Regex> {
    fancy_regex::RegexBuilder::new(p)
        .backtrack_limit(200_000)
        .build()
        .ok()
}

/// `re.sub` with a replacement computed from the captures; on a regex error the text is kept.
fn sub(re: &Option<Regex>, text: &str, f: impl Fn(&Captures<'_>) -> String) -> String {
    let Some(re) = re else {
        return text.to_string();
    };
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for caps in re.captures_iter(text) {
        let Ok(caps) = caps else {
            return text.to_string();
        };
        let Some(m) = caps.get(0) else { continue };
        out.push_str(&text[last..m.start()]);
        out.push_str(&f(&caps));
        last = m.end();
    }
    out.push_str(&text[last..]);
    out
}

fn g<'a>(c: &'a Captures<'_>, i: usize) -> &'a str {
    c.get(i).map_or("", |m| m.as_str())
}

static R_LEFT: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(
        r"\\m?left(\\\{|\{|\\\||\||\[|\(|\\rbracl|\\lgroup|\\lbrace|\\lbrack|\\vert|\\lvert|\\lceil|\\lfloor|\\vert|\\lvert|\\langle|\\llcorner|\\ulcorner)",
    )
});
static R_RIGHT: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(
        r"\\m?right(\\\}|\}|\\\||\||\]|\)|\\rbrack|\\rgroup|\\rbrace|\\rbrack|\\vert|\\rvert|\\rceil|\\rfloor|\\vert|\\rvert|\\rangle|\\lrcorner|\\urcorner)",
    )
});
static PERMUTATION: LazyLock<Option<Regex>> =
    LazyLock::new(|| re(r"\(([a-zA-Z0-9+\-*/\\ ]+?)\)_\{([a-zA-Z0-9+\-*/\\ ]+?)\}"));
static TO_REMOVE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(concat!(
        r"\\mathrm\{th\}|",
        r"\\!\s*|",
        r"\\text\s*\{\s*\}|",
        r"\\\$|\$|",
        r#"(?<!\\)["']|"#,
        r"\\displaystyle"
    ))
});

/// `to_replace_patterns`: (group name, pattern, literal replacement).
const REPLACE: &[(&str, &str, &str)] = &[
    ("math", r"\\math(?:rm|it|bf)", r"\text"),
    ("text", r"\\text(?:normal|bf|it|rm)", r"\text"),
    ("frac", r"\\(?:d|t|c)frac", r"\frac"),
    ("decimal_space", r"\s\.", r" 0."),
    ("decimal_brace", r"\{\.", r"{0."),
    ("approx", r"\~\=", r"\approx"),
    ("comma", r"\s*\{\s*,\s*\}", r","),
    (
        "and_or",
        r"(?<![a-zA-Z])(,?\s*(?:and|or))(?![a-zA-Z])",
        r",",
    ),
    ("and_or_text", r"(,?\s*\\text\{\s*(?:and|or)\s*\})", r","),
    ("backslash_space", r"(?<!\\)\\\s", r" "),
    ("infinity", r"infinity", r"\infty"),
    ("dot", r",?(\\ldots)", r" "),
    ("percentage", r"\s*\bpercentage\b", r"\%"),
    ("percentage_in_text", r"\\text\{percentage\}", r"%"),
    ("percent", r"\s*\bpercent\b", r"\%"),
    ("percent_in_text", r"\\text\{percent\}", r"%"),
    ("pct", r"\s*\bpct\b", r"\%"),
    ("pct_in_text", r"\\text\{pct\}", r"%"),
    ("inf", r"((?<!\\)inf(?!inity))", r"\infty"),
    ("sqrt", r" sqrt", r"\sqrt"),
];

static TO_REPLACE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    let p: Vec<String> = REPLACE
        .iter()
        .map(|(n, p, _)| format!("(?P<{n}>{p})"))
        .collect();
    re(&p.join("|"))
});
static COMMAND_SLASH: LazyLock<Option<Regex>> = LazyLock::new(|| re(r"\\\\(?=[a-zA-Z])"));
static UNIT_SUPERSCRIPT: LazyLock<Option<Regex>> =
    LazyLock::new(|| re(r"(\\(?:text|mbox)\{.*?\})(\^\d|\{\^\d\})?$"));

const UNITS: &[&str] = &[
    "integerpoint",
    "feet",
    "sue",
    "digit",
    "pound",
    "meal",
    "edge",
    "student",
    "children ticket",
    "multiple",
    "east",
    "degree",
    "mph",
    "kmph",
    "ft",
    "m square",
    " m east",
    "sq m",
    "deg",
    "mile",
    "q .",
    "monkey",
    "prime",
    "ratio",
    "profit of rs",
    "rd",
    "o",
    "gm",
    "p . m",
    "lb",
    "tile",
    "per",
    "dm",
    "lt",
    "gain",
    "ab",
    "way",
    "west",
    "a .",
    "b .",
    "c .",
    "d .",
    "e .",
    "f .",
    "g .",
    "h .",
    "t",
    "h",
    "no change",
    "men",
    "soldier",
    "pie",
    "bc",
    "excess",
    "st",
    "inches",
    "noon",
    "cent",
    "by",
    "gal",
    "kmh",
    "c",
    "acre",
    "rise",
    "a . m",
    "th",
    "π r 2",
    "sq",
    "mark",
    "l",
    "toy",
    "coin",
    "sq . m",
    "gallon",
    "° f",
    "profit",
    "minw",
    "yr",
    "women",
    "am",
    "pm",
    "hr",
    "cu cm",
    "square",
    "v â € ™",
    "are",
    "rupee",
    "rounds",
    "cubic",
    "cc",
    "mtr",
    "s",
    "ohm",
    "number",
    "kmph",
    "day",
    "hour",
    "minute",
    "min",
    "second",
    "man",
    "woman",
    "sec",
    "cube",
    "mt",
    "sq inch",
    "mp",
    "∏ cm ³",
    "hectare",
    "more",
    "sec",
    "unit",
    "cu . m",
    "cm 2",
    "rs .",
    "rs",
    "kg",
    "g",
    "month",
    "km",
    "m",
    "cm",
    "mm",
    "apple",
    "liter",
    "loss",
    "yard",
    "pure",
    "year",
    "increase",
    "decrease",
    "d",
    "less",
    "Surface",
    "litre",
    "pi sq m",
    "s .",
    "metre",
    "meter",
    "inch",
];

static UNITS_RE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(&format!(
        r"(\d|\}}|\s)\s*(?:(?:{})(?:s|es)?)\s*$",
        UNITS.join("|")
    ))
});

static MALFORMED: LazyLock<Vec<(Option<Regex>, &'static str)>> = LazyLock::new(|| {
    vec![
        (re(r"\^\s?\((.*?)\)"), "^{$1}"),
        (re(r"sqrt\s?\((.*?)\)"), "\\sqrt{$1}"),
        (re(r"\\frac\s?(\d)\s?(\d+)"), "\\frac{$1}{$2}"),
        (re(r"\\log_\s?(\d)\s?(\d+)"), "\\log_{$1}{$2}"),
        (re(r"\\frac\s?\{(.*?)\}\s?(\d)"), "\\frac{$1}{$2}"),
        (re(r"\\frac\s?(\d)\s?\{(.*?)\}"), "\\frac{$1}{$2}"),
        (re(r"\\sqrt\s?(\d)"), "\\sqrt{$1}"),
    ]
});

/// `extract_boxed_content(text, mode)`: `last` when `last`, else `all`.
pub(crate) fn extract_boxed_content(text: &str, last: bool) -> String {
    let t: Vec<char> = text.chars().collect();
    let rfind = |needle: &str, end: usize| -> Option<usize> {
        let n: Vec<char> = needle.chars().collect();
        if end < n.len() {
            return None;
        }
        (0..=end - n.len())
            .rev()
            .find(|&i| t[i..i + n.len()] == n[..])
    };
    let mut results: Vec<String> = Vec::new();
    let mut current = t.len();
    let mut last_boxed_start: Option<usize> = None;
    let mut max_pos = t.len();
    loop {
        let b = rfind("\\boxed", current);
        let f = rfind("\\fbox", current);
        let (start, cmd_end) = match (b, f) {
            (None, None) => break,
            (Some(b), Some(f)) if f > b => (f, f + 5),
            (Some(b), _) => (b, b + 6),
            (None, Some(f)) => (f, f + 5),
        };
        let mut next = cmd_end;
        while next < max_pos && t[next].is_whitespace() {
            next += 1;
        }
        if next >= max_pos {
            break;
        }
        if t[next] == '{' {
            // find_content_boundaries
            let mut i = next;
            let mut open = 1i64;
            let mut close = None;
            while i + 1 < max_pos {
                i += 1;
                if t[i] == '{' {
                    open += 1;
                } else if t[i] == '}' {
                    open -= 1;
                    if open == 0 {
                        close = Some(i);
                        break;
                    }
                }
            }
            let Some(content_end) = close else {
                if results.is_empty() {
                    results.push(t[next..].iter().collect());
                }
                break;
            };
            let content: String = t[next + 1..content_end].iter().collect::<String>();
            let content = content.trim().to_string();
            if last && let Some(lbs) = last_boxed_start {
                let prev = results.last().map_or("", |s| s.as_str());
                if !should_extract(&t, &content, prev, content_end, lbs) {
                    break;
                }
            }
            if results.last() != Some(&content) {
                results.push(content);
            }
            last_boxed_start = Some(start);
            max_pos = start;
        } else {
            if results.is_empty() {
                results.push(t[next..].iter().collect());
            }
            break;
        }
        current = start;
    }
    if results.is_empty() {
        return text.to_string();
    }
    results.reverse();
    results.join(",")
}

fn should_extract(
    t: &[char],
    boxed: &str,
    next_boxed: &str,
    end: usize,
    next_start: usize,
) -> bool {
    static SEP: LazyLock<Option<Regex>> = LazyLock::new(|| re(r"\b(and|or)\b|,|;"));
    let lo = (end + 1).min(t.len());
    let hi = next_start.min(t.len()).max(lo);
    let between: String = t[lo..hi].iter().collect();
    let len = between.chars().count();
    if len < 10 {
        return true;
    }
    next_boxed != boxed
        && len < 70
        && SEP
            .as_ref()
            .is_some_and(|r| r.is_match(&between).unwrap_or(false))
}

fn fix_fracs(text: &str) -> String {
    let mut parts = text.split("\\frac");
    let mut out = parts.next().unwrap_or("").to_string();
    for sub in parts {
        let sub = sub.trim_start();
        out.push_str("\\frac");
        let cs: Vec<char> = sub.chars().collect();
        if cs.first() == Some(&'{') {
            out.push_str(sub);
        } else if cs.len() < 2 {
            return text.to_string();
        } else {
            let (a, b) = (cs[0], cs[1]);
            let post: String = cs[2..].iter().collect();
            if b != '{' {
                out.push_str(&format!("{{{a}}}{{{b}}}{post}"));
            } else {
                out.push_str(&format!("{{{a}}}{b}{post}"));
            }
        }
    }
    out
}

fn fix_sqrt(text: &str) -> String {
    if !text.contains("\\sqrt") {
        return text.to_string();
    }
    let mut parts = text.split("\\sqrt");
    let mut out = parts.next().unwrap_or("").to_string();
    for s in parts {
        let s = s.trim_start();
        match s.chars().next() {
            Some(a) if a != '{' && a != '[' => {
                out.push_str(&format!("\\sqrt{{{a}}}{}", &s[a.len_utf8()..]));
            }
            _ => {
                out.push_str("\\sqrt");
                out.push_str(s);
            }
        }
    }
    out
}

fn canonical_int(s: &str) -> bool {
    let d = s.strip_prefix('-').unwrap_or(s);
    !d.is_empty()
        && d.bytes().all(|b| b.is_ascii_digit())
        && (d == "0" || !d.starts_with('0'))
        && s != "-0"
}

fn fix_a_slash_b(text: &str) -> String {
    let parts: Vec<&str> = text.split('/').collect();
    if parts.len() == 2 && canonical_int(parts[0]) && canonical_int(parts[1]) {
        return format!("\\frac{{{}}}{{{}}}", parts[0], parts[1]);
    }
    text.to_string()
}

/// `normalize_latex(text, config)` with Math-Verify's configuration.
pub(crate) fn normalize_latex(text: &str, boxed_last: bool) -> String {
    let mut text = extract_boxed_content(text, boxed_last);
    // basic_latex
    text = text.replace("\\mathrm{T}", "T");
    text = text.replace("\\mathrm{d}", "d").replace("{\\rm d}", "d");
    text = text
        .replace("\\left[\\begin{matrix}", "\\begin{bmatrix}")
        .replace("\\end{matrix}\\right]", "\\end{bmatrix}");
    text = sub(&R_LEFT, &text, |c| g(c, 1).to_string());
    text = sub(&R_RIGHT, &text, |c| g(c, 1).to_string());
    text = sub(&PERMUTATION, &text, |c| {
        let (a, b) = (g(c, 1), g(c, 2));
        format!("\\frac{{({a})!}}{{(({a})-({b}))!}}")
    });
    text = sub(&TO_REMOVE, &text, |_| String::new());
    text = sub(&TO_REPLACE, &text, |c| {
        REPLACE
            .iter()
            .find(|(n, _, _)| c.name(n).is_some())
            .map_or(String::new(), |(_, _, r)| (*r).to_string())
    });
    text = text.replace(['\n', '\t'], " ");
    if !text.contains("matrix") {
        text = sub(&COMMAND_SLASH, &text, |_| "\\".to_string());
    }
    // units
    let t = sub(&UNIT_SUPERSCRIPT, &text, |_| String::new());
    let t = t.trim();
    if !t.is_empty() && t != text {
        text = t.to_string();
    }
    for _ in 0..2 {
        let t = sub(&UNITS_RE, &text, |c| g(c, 1).to_string());
        if !t.is_empty() && t != text {
            text = t;
        }
    }
    // nits
    if text.starts_with('.') {
        text.insert(0, '0');
    }
    if text == "0.5" {
        text = "\\frac{1}{2}".to_string();
    }
    // malformed_operators
    for (r, rep) in MALFORMED.iter() {
        text = sub(r, &text, |c| {
            rep.replace("$1", g(c, 1)).replace("$2", g(c, 2))
        });
    }
    text = text.replace(" sqrt", "\\sqrt");
    text = fix_sqrt(&text);
    text = fix_fracs(&text);
    text = fix_a_slash_b(&text);
    text.trim().to_string()
}
