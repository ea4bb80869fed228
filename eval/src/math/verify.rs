//! EvalScope 1.14.1's math extraction: Math-Verify 0.9.0's `parse` as
//! `evalscope.metrics.math.parser._parse` calls it.
//!
//! EvalScope (`extract_answer`, `compare_answers`) runs `math_verify.parse` with
//! `[LatexExtractionConfig(boxed_match_priority=0), ExprExtractionConfig()]`,
//! `fallback_mode='first_match'`, `extraction_mode='first_match'` and shows the first string of
//! the result: the normalised text of the one regex match tried. The regexes below are
//! Math-Verify's own (`lazy_latex_regex`, `lazy_expr_regex`, `make_latex_env_pattern`), and
//! the normalisation is latex2sympy2_extended 1.11.0's `normalize_latex`.

use std::sync::LazyLock;

use fancy_regex::{Captures, Regex};

use super::latex_norm::normalize_latex;

/// One extraction pattern: which parser handles its match, and its priority.
struct Pattern {
    re: Regex,
    latex: bool,
    priority: u32,
    /// A fast test every match needs to pass (a literal the pattern requires): texts failing
    /// it are not searched, which changes no result.
    needs: Option<regex::Regex>,
}

/// The necessary condition for a pattern's match, from its source.
fn necessary(pattern: &str, latex: bool) -> Option<regex::Regex> {
    let need = if pattern.contains("(?i:final answer") {
        r"(?i)final answer"
    } else if pattern.contains("(?i:answer)") {
        r"(?i)answer"
    } else if pattern.contains(r"\\boxed\{") {
        r"\\boxed\{"
    } else if latex {
        r"[$\[]|\\\(|\\frac"
    } else {
        r"\d"
    };
    regex::Regex::new(need).ok()
}

pub(super) fn compile(pattern: &str) -> Option<Regex> {
    fancy_regex::RegexBuilder::new(pattern)
        .backtrack_limit(200_000)
        .build()
        .ok()
}

/// `make_latex_env_pattern(prefix, context)`.
fn latex_env(prefix: &str, boxed: bool) -> String {
    let percent = format!(r"(?P<{prefix}percent>(?:\\?%|[Pp]ercent|[Pp]ercentage|[Pp]ct))");
    let mut dd = r"(?:[^$]|\$(?!\$))".to_string();
    let mut db = r"(?:[^\\]|\\(?!\]))".to_string();
    let mut id = r"(?:\\[$]|[^\n$])".to_string();
    let mut ip = r"(?:[^\\\n]|\\(?!\)))".to_string();
    let mut ib = r"[^\n\]\[]".to_string();
    for c in [&mut dd, &mut db, &mut id, &mut ip, &mut ib] {
        *c = if boxed {
            format!(r"{c}*?\\boxed\{{{c}+?\}}{c}*?")
        } else {
            format!("{c}+?")
        };
    }
    let mut patterns = vec![
        format!(r"(?<!\\)\$\$(?P<{prefix}latexDisplayDollar>{dd})(?<!\\)\$\$"),
        format!(r"(?<!\\)\\\[(?P<{prefix}latexDisplayBracket>{db})(?<!\\)\\\]"),
        format!(r"(?<![\\\d])\$(?P<{prefix}latexInlineDollar>{id})(?<!\\)\$"),
        format!(r"(?<!\\)\\\((?P<{prefix}latexInlineParenthesis>{ip})(?<!\\)\\\)"),
        format!(r"\s\[(?P<{prefix}latexInlineBracket>{ib})\]\s"),
    ];
    if !boxed {
        let n = r"-?\d+(?:[.,]\d+)?";
        patterns.push(format!(
            r"(?P<{prefix}latexFraction>-?\\frac\{{{n}\}}\{{{n}\}})"
        ));
    }
    format!(r"(?:(?:{})\s*{percent}?)", patterns.join("|"))
}

fn latex_patterns() -> Vec<(String, u32)> {
    let next: String = (1..=5)
        .map(|i| {
            format!(
                r"(?:\s*(?:,?and|,?or|,)\s*{})?",
                latex_env(&format!("next{i}_"), false)
            )
        })
        .collect();
    let envs = format!("(?:{}{next})", latex_env("first_", false));
    let mut out = vec![
        (format!(r"(?i:final answer is)\:?\s*{envs}\.?\s?I hope"), 0),
        (
            format!(r"(?i:final answer.{{0,100}}?)\s+is\:?\s*{envs}"),
            50,
        ),
        (format!(r"(?i:answer):.{{0,50}}?{envs}"), 100),
        (format!(r"(?i:answer).{{0,50}}?{envs}"), 200),
        (envs, 300),
    ];
    let next_boxed: String = (1..=5)
        .map(|i| {
            format!(
                r"\s*(?:\s*(?:,?and|,?or|,)\s*{})?",
                latex_env(&format!("next{i}_"), true)
            )
        })
        .collect();
    out.push((format!("{}{next_boxed}", latex_env("first_", true)), 0));
    out.push((r"(?P<first_latexBoxed>\\boxed\{.+\})".to_string(), 0));
    out.into_iter()
        .map(|(p, n)| (format!("(?s){p}"), n))
        .collect()
}

fn expr_patterns() -> Vec<(String, u32)> {
    let number = concat!(
        r"(?<!\d)(?:",
        r"(?P<integer1>-?[1-9]\d{0,2}(?:[ ,]\d{3})+)(?P<decimal1>\.\d+)?|",
        r"(?P<integer2>-?\d+)(?P<decimal2>[.,]\d+)|",
        r"(?P<decimal3>\.\d+)|",
        r"(?P<integer3>-?\d+)",
        r")(?P<percent>\s*(?:%|[Pp]ercent|\s*[Pp]ercentage|\s*[Pp]ct))?"
    );
    let ops = r"\+\-\*×\/\^\(\)÷";
    let all = format!(r"[\d\.\s{ops}]");
    let expr = format!(r"(?P<expr>-?\(?-?\d{all}*[{ops}]{all}+\)?)");
    let currency = r"\$€£¥₹₽₪₩₫฿₡₢₣₤₥₦₧₨₩₪₫₭₮₯₰₱₲₳₴₵₶₷₸₹₺₻₼₽₾₿";
    let prefix = r"(?:^|\s|\=)(?:\*\*)?";
    let suffix = r"(?:\*\*)?(?:\.|,|:|\s|\)|\$|$)";
    let expr_anchored = format!("(?:{prefix}{expr}{suffix})");
    let number_anchored = format!("(?:{prefix}[{currency}]?{number})");
    let either = format!("(?:{expr_anchored}|{number_anchored})");
    vec![
        (
            format!(r"(?i:final answer is)\:?\s*{either}\.?\s?I hope"),
            0,
        ),
        (format!(r"(?i:final answer.{{0,100}}?)\s+is\:?{either}"), 50),
        (
            format!(r"(?i:answer):(?:.{{0,100}}=\s*|.{{0,50}}?){either}(?!\s*=)"),
            100,
        ),
        (
            format!(r"(?i:answer)(?:.{{0,100}}=\s*|.{{0,50}}?){either}(?!\s*=)"),
            200,
        ),
        (expr_anchored, 300),
        (number_anchored, 300),
    ]
}

/// All patterns, sorted by priority (stable: latex before expr within one priority).
static PATTERNS: LazyLock<Vec<Pattern>> = LazyLock::new(|| {
    let mut out: Vec<Pattern> = latex_patterns()
        .into_iter()
        .map(|p| (p, true))
        .chain(expr_patterns().into_iter().map(|p| (p, false)))
        .filter_map(|((p, priority), latex)| {
            compile(&p).map(|re| Pattern {
                re,
                latex,
                priority,
                needs: necessary(&p, latex),
            })
        })
        .collect();
    out.sort_by_key(|p| p.priority);
    out
});

/// What one extraction found: the display string, whether it parses, and whether it is a
/// percentage.
#[derive(Debug, Clone, Default)]
pub(crate) struct Parsed {
    pub display: String,
    /// Whether Math-Verify would produce an object (its parse succeeded), approximated.
    pub parsed: bool,
}

/// Math-Verify's `extract_target_from_pred` in `first_match` modes: the display string of the
/// first match tried (rightmost end, then leftmost start, in the first priority with a match).
fn extract(text: &str) -> Parsed {
    let patterns = &*PATTERNS;
    let mut i = 0;
    while i < patterns.len() {
        let priority = patterns[i].priority;
        let mut best: Option<(usize, usize, Captures<'_>, &Pattern)> = None;
        while i < patterns.len() && patterns[i].priority == priority {
            let p = &patterns[i];
            i += 1;
            if p.needs.as_ref().is_some_and(|n| !n.is_match(text)) {
                continue;
            }
            for caps in p.re.captures_iter(text) {
                let Ok(caps) = caps else { break };
                let Some(m) = caps.get(0) else { continue };
                let better = match &best {
                    None => true,
                    Some((s, e, _, _)) => m.end() > *e || (m.end() == *e && m.start() < *s),
                };
                if better {
                    best = Some((m.start(), m.end(), caps, p));
                }
            }
        }
        if let Some((_, _, caps, p)) = best {
            return if p.latex {
                extract_latex(&caps, &p.re)
            } else {
                extract_expr(&caps)
            };
        }
    }
    Parsed::default()
}

fn group<'t>(caps: &Captures<'t>, re: &Regex, prefix: &str) -> Option<(&'t str, String)> {
    re.capture_names().flatten().find_map(|name| {
        if !name.starts_with(prefix) {
            return None;
        }
        caps.name(name)
            .map(|m| m.as_str())
            .filter(|s| !s.is_empty())
            .map(|s| (s, name.to_string()))
    })
}

/// `extract_latex`.
fn extract_latex(caps: &Captures<'_>, re: &Regex) -> Parsed {
    let mut groups = Vec::new();
    if let Some(g) = group(caps, re, "first_latex") {
        groups.push(g);
    }
    for i in 1..=5 {
        if let Some(g) = group(caps, re, &format!("next{i}_latex")) {
            groups.push(g);
        }
    }
    let mut strs = Vec::new();
    let mut all_parsed = true;
    for (latex, name) in &groups {
        let mut parts = name.split('_');
        let prefix = parts.next().unwrap_or("");
        let kind = parts.next().unwrap_or("");
        let percent = caps
            .name(&format!("{prefix}_percent"))
            .is_some_and(|m| !m.as_str().is_empty());
        let s = normalize_latex(latex, kind == "latexBoxed");
        let ok = latex_parses(&s);
        all_parsed &= ok;
        strs.push((s, ok, percent));
    }
    match strs.len() {
        0 => Parsed::default(),
        1 => {
            let (s, ok, percent) = strs.swap_remove(0);
            let display = if ok && percent && !s.contains('%') {
                format!("{s}%")
            } else {
                s
            };
            Parsed {
                display,
                parsed: ok,
            }
        }
        _ if all_parsed => Parsed {
            display: strs
                .iter()
                .map(|(s, _, _)| s.as_str())
                .collect::<Vec<_>>()
                .join(" and "),
            parsed: true,
        },
        _ => {
            let (s, ok, _) = strs.swap_remove(0);
            Parsed {
                display: s,
                parsed: ok,
            }
        }
    }
}

/// `extract_expr`.
fn extract_expr(caps: &Captures<'_>) -> Parsed {
    let find = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| caps.name(n).map(|m| m.as_str()).filter(|s| !s.is_empty()))
    };
    let integer = find(&["integer1", "integer2", "integer3"]);
    let decimal = find(&["decimal1", "decimal2", "decimal3"]);
    let percent = caps.name("percent").is_some_and(|m| !m.as_str().is_empty());
    if integer.is_some() || decimal.is_some() {
        let int: String = integer
            .unwrap_or("")
            .chars()
            .filter(|c| *c != ',' && *c != ' ')
            .collect();
        let int = int.trim_start_matches('0');
        let int = if int.is_empty() { "0" } else { int };
        let dec = decimal.unwrap_or("").replace(',', ".");
        let mut display = format!("{int}{dec}");
        if percent {
            display.push('%');
        }
        return Parsed {
            display,
            parsed: true,
        };
    }
    let expr = caps.name("expr").map(|m| m.as_str()).unwrap_or("");
    Parsed {
        display: expr.to_string(),
        parsed: expr_parses(expr),
    }
}

/// Whether SymPy's `parse_expr` accepts a plain expression (digits, operators, parentheses):
/// balanced parentheses and no operator at the end.
fn expr_parses(expr: &str) -> bool {
    let mut depth = 0i32;
    for c in expr.chars() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            _ => {}
        }
    }
    let t = expr.trim_end();
    depth == 0 && !t.ends_with(['+', '-', '*', '/', '^', '×', '÷', '.'])
}

/// Whether latex2sympy parses `s` (an approximation: what our own expression parser and the
/// structured forms the comparison understands accept).
pub(crate) fn latex_parses(s: &str) -> bool {
    let t = s.trim();
    if t.is_empty() {
        return false;
    }
    // latex2sympy rejects a trailing period or operator, and unbalanced braces.
    if t.ends_with(['.', '+', '-', '=', '^', '_', '\\', ',']) {
        return false;
    }
    let mut depth = 0i32;
    for c in t.chars() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            _ => {}
        }
    }
    depth == 0
}

/// EvalScope's `_parse(text, mode)`: parsed flag and display string.
pub(crate) fn evalscope_parse(text: &str, fragment: bool) -> Parsed {
    let text = text.trim();
    if text.is_empty() {
        return Parsed::default();
    }
    if is_scientific(text) {
        let mut p = extract(&format!("${}$", text.replace('e', "E")));
        p.display = text.to_string();
        return p;
    }
    if fragment
        && !(text.starts_with('$')
            || text.starts_with("\\(")
            || text.starts_with("\\[")
            || text.starts_with("\\boxed")
            || text.starts_with("\\fbox"))
    {
        return extract(&format!("${text}$"));
    }
    extract(text)
}

/// `[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)[eE][+-]?[0-9]+`, whole string.
fn is_scientific(s: &str) -> bool {
    static SCI: LazyLock<Option<Regex>> =
        LazyLock::new(|| compile(r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)[eE][+-]?[0-9]+$"));
    SCI.as_ref()
        .is_some_and(|re| re.is_match(s).unwrap_or(false))
}

/// EvalScope 1.14.1's math extraction (`evalscope.metrics.math.parser.extract_answer`): the
/// display string of Math-Verify's first match (see the module documentation). `""` when
/// nothing matches. Never panics; regex work is bounded by a backtracking limit.
pub fn extract_answer(text: &str) -> String {
    evalscope_parse(text, false).display
}
