//! EvalScope 1.14.1's math score: `compare_answers(extracted, gold).matched`, both sides parsed
//! as Math-Verify does ([`super::verify`]) and compared in Math-Verify's strict mode.

use std::sync::LazyLock;

use fancy_regex::Regex;

use super::verify::{compile, evalscope_parse};

/// EvalScope 1.14.1's `acc` with `numeric=True`: `compare_answers(extracted, gold).matched`.
///
/// Both sides are parsed as fragments (wrapped in `$…$`) like Math-Verify's `parse`, then
/// compared with [`super::math_equal_with`] in its strict (Math-Verify) mode. `None` when the
/// gold does not parse (EvalScope raises `InvalidMathReference` and excludes the sample).
pub fn evalscope_score(extracted: &str, gold: &str) -> Option<bool> {
    let g = evalscope_parse(gold, true);
    if !g.parsed {
        return None;
    }
    let p = evalscope_parse(extracted, true);
    if !p.parsed {
        return Some(false);
    }
    let (pd, gd) = (for_comparison(&p.display), for_comparison(&g.display));
    if let (Some(pi), Some(gi)) = (open_pair(&pd), open_pair(&gd)) {
        // A bare pair `2,5` (latex2sympy's ordered `FiniteSet`) against the open interval
        // `(2,5)` compares its ends in order.
        if pi.0 != gi.0 {
            let ok = super::equal::math_verify_equal(pi.1, gi.1)
                && super::equal::math_verify_equal(pi.2, gi.2);
            return Some(ok);
        }
    }
    let ((pd, p_pct), (gd, g_pct)) = (percentage(&pd), percentage(&gd));
    if (p_pct || g_pct) && is_integer(&pd) && is_integer(&gd) {
        // Math-Verify's integer percentage compatibility: `9%` equals `9`.
        return Some(pd.trim_start_matches('+') == gd.trim_start_matches('+'));
    }
    let pct = |s: String, is: bool| {
        if is {
            format!("\\frac{{{s}}}{{100}}")
        } else {
            s
        }
    };
    let (pd, gd) = (pct(pd, p_pct), pct(gd, g_pct));
    let pd = relation_as_interval(&pd).unwrap_or(pd);
    let gd = relation_as_interval(&gd).unwrap_or(gd);
    Some(super::equal::math_verify_equal(&pd, &gd))
}

/// Rewrites for our expression parser so it reads what latex2sympy reads: `2^10` is
/// `2^{10}`; `i` is a plain symbol (Math-Verify compares `(1+2i)6-3i` and `6+9i` as
/// polynomials, and `-1` differs from `i^2`); `\,` and a space between digits are products
/// (`1\,000` is 0).
fn for_comparison(s: &str) -> String {
    static POWER: LazyLock<Option<Regex>> = LazyLock::new(|| compile(r"\^(\d+)"));
    static IMAG: LazyLock<Option<Regex>> =
        LazyLock::new(|| compile(r"(?<![A-Za-z\\])i(?![A-Za-z])"));
    static DIGIT_GAP: LazyLock<Option<Regex>> =
        LazyLock::new(|| compile(r"(?<=\d)(?:\\,|\s)+(?=\d)"));
    let mut out = s.trim().to_string();
    // latex2sympy drops degree signs (`convert_degrees=False`) and reads `\\{1,2\\}` and
    // `x \\in [1,3]` as the set and the interval themselves.
    for degree in ["^{\\circ}", "^\\circ", "\\circ", "°"] {
        out = out.replace(degree, "");
    }
    if let Some(inner) = out.strip_prefix("\\{").and_then(|t| t.strip_suffix("\\}")) {
        out = inner.to_string();
    }
    if let Some((var, rest)) = out.split_once("\\in")
        && var.trim().len() == 1
    {
        out = rest.trim().to_string();
    }
    for (re, rep) in [
        (&*POWER, "^{$1}"),
        (&*IMAG, "\\iota "),
        (&*DIGIT_GAP, "\\cdot "),
    ] {
        if let Some(re) = re {
            out = re.replace_all(&out, rep).into_owned();
        }
    }
    out
}

/// `50\\%` as (`50`, true); other text unchanged.
fn percentage(s: &str) -> (String, bool) {
    let t = s.trim();
    match t.strip_suffix("\\%").or_else(|| t.strip_suffix('%')) {
        Some(rest) if !rest.trim().is_empty() => (rest.trim().to_string(), true),
        _ => (t.to_string(), false),
    }
}

fn is_integer(s: &str) -> bool {
    let d = s.strip_prefix(['-', '+']).unwrap_or(s);
    !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit())
}

/// `(a,b)` (open) or `a,b` (bare): whether it was bracketed, and the two ends.
fn open_pair(s: &str) -> Option<(bool, &str, &str)> {
    let (bracketed, inner) = match s.strip_prefix('(').and_then(|t| t.strip_suffix(')')) {
        Some(inner) => (true, inner),
        None => (false, s),
    };
    if inner.contains(['(', ')', '[', ']', '{', '}']) || inner.matches(',').count() != 1 {
        return None;
    }
    let (a, b) = inner.split_once(',')?;
    Some((bracketed, a.trim(), b.trim()))
}

/// `x>3` as `(3,\infty)`, `x\ge 3` as `[3,\infty)`, `3<x<5` as `(3,5)`: latex2sympy's
/// relations in one variable, which Math-Verify compares with intervals.
fn relation_as_interval(s: &str) -> Option<String> {
    let t: String = s
        .replace("\\geq", ">=")
        .replace("\\ge", ">=")
        .replace("\\leq", "<=")
        .replace("\\le", "<=")
        .split_whitespace()
        .collect();
    let var = |v: &str| v.len() == 1 && v.chars().all(|c| c.is_ascii_alphabetic());
    let split = |t: &str| -> Option<(String, String, String)> {
        for op in [">=", "<=", ">", "<"] {
            if let Some((l, r)) = t.split_once(op) {
                return Some((l.to_string(), op.to_string(), r.to_string()));
            }
        }
        None
    };
    let (l, op, r) = split(&t)?;
    if let Some((m, op2, r2)) = split(&r) {
        // a < x < b
        if !var(&m) || !op.starts_with('<') || !op2.starts_with('<') {
            return None;
        }
        let open = if op == "<=" { '[' } else { '(' };
        let close = if op2 == "<=" { ']' } else { ')' };
        return Some(format!("{open}{l},{r2}{close}"));
    }
    let (bound, op) = if var(&l) {
        (r, op)
    } else if var(&r) {
        let flipped = match op.as_str() {
            ">=" => "<=",
            "<=" => ">=",
            ">" => "<",
            _ => ">",
        };
        (l, flipped.to_string())
    } else {
        return None;
    };
    Some(match op.as_str() {
        ">" => format!("({bound},\\infty)"),
        ">=" => format!("[{bound},\\infty)"),
        "<" => format!("(-\\infty,{bound})"),
        _ => format!("(-\\infty,{bound}]"),
    })
}
