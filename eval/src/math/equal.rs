//! Deciding whether a predicted math answer equals the gold one.

mod numbers;
mod structure;
mod symbolic;

use std::cell::Cell;

use super::normalize::strip_answer_string;
use super::parse::Expr;
use numbers::{choice_answer_clean, complex_close, is_close, is_integer_literal, parse_number};
use structure::{
    Tuple, as_matrix, as_set, as_tuple, as_union, brackets_removed_equal, is_bracketed,
};
use symbolic::symbolic_equal;

/// Relative tolerance for numbers and constant expressions (EvalScope's `rel_tol=1e-4`).
const REL_TOL: f64 = 1e-4;
/// Relative tolerance for expressions with variables, compared at sample points.
const REL_TOL_SYMBOLIC: f64 = 1e-6;
/// Absolute floor below which two values count as the same zero (floating-point noise).
const ABS_TOL: f64 = 1e-13;
/// How deep tuples, sets and matrices nest before the comparison gives up.
const MAX_NESTING: usize = 8;
/// Most elements compared pairwise in a set.
const MAX_SET: usize = 64;
/// Most element comparisons one call makes; bounds the work on adversarial nested input.
const MAX_COMPARISONS: usize = 4_096;

/// How lenient [`math_equal_with`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MathEqualOptions {
    /// Plain numbers also match the gold value divided or multiplied by 100 (EvalScope's
    /// `include_percentage`); note this makes `1` equal to a gold `100`.
    pub include_percentage: bool,
    /// Tuples and intervals must agree on their brackets: `(1,2]` differs from `[1,2)`
    /// (as Math-Verify decides); EvalScope compares only the elements.
    pub strict_brackets: bool,
    /// Two integer literals must be equal exactly, not within the 1e-4 tolerance.
    pub exact_integers: bool,
}

impl MathEqualOptions {
    /// EvalScope's verdicts (the default).
    pub const EVALSCOPE: Self = Self {
        include_percentage: true,
        strict_brackets: false,
        exact_integers: false,
    };
    /// Closer to Math-Verify: no percentage scaling, interval ends must match, integers
    /// compare exactly (EvalScope's 1e-4 tolerance accepts 13534 for 13535).
    pub const STRICT: Self = Self {
        include_percentage: false,
        strict_brackets: true,
        exact_integers: true,
    };
}

impl Default for MathEqualOptions {
    fn default() -> Self {
        Self::EVALSCOPE
    }
}

/// Whether `pred` is mathematically the same answer as `gold`, as EvalScope's `math_equal`
/// decides (with [`MathEqualOptions::EVALSCOPE`]).
///
/// Equal raw strings (ignoring case) are equal. Otherwise both sides go through
/// [`strip_answer_string`], then the first rule that holds decides `true`:
/// 1. equal ignoring case;
/// 2. gold is a choice letter `A`–`E` (or `(C)`) and the last standalone letter of `pred` is it;
/// 3. both are plain numbers (`1,000` thousands groups allowed): equal within relative
///    tolerance 1e-4, also against gold/100 and gold×100; when both are numbers this decides;
/// 4. equal after removing `{}()` (and outer `[]` / `()`), as EvalScope does;
/// 5. sets (`{a,b}`, bare lists `a,b`, and `a\pm b` as `{a+b, a-b}`): same size and every
///    element matched, in any order; unions `A\cup B` likewise, with interval ends compared;
/// 6. tuples and intervals `(a,b]`: element-wise (bracket kinds too when strict);
/// 7. `pmatrix` matrices: cell-wise;
/// 8. equations `l=r`: both `l-(r)` agree up to sign; `x=5` against `5`: the right side;
/// 9. both parse as expressions: equal values within 1e-4 when constant, or within 1e-6 at
///    four fixed sample points when there are variables (`i` is imaginary, `e` is Euler's
///    number, `3\frac12` is a mixed number, `52_8` reads as 52);
/// 10. one side a plain number, the other a constant: the percentage rule of 3 (`34\%`
///     against `\frac{17}{50}`);
/// 11. both raw inputs are equations: compared as in 8 with each side normalised on its own
///     (gold `y = -2x` against `2x + y = 0`).
///
/// Never panics; any input is accepted, and the work per call is bounded.
pub fn math_equal(pred: &str, gold: &str) -> bool {
    math_equal_with(pred, gold, &MathEqualOptions::EVALSCOPE)
}

/// [`math_equal`] with explicit leniency options.
pub fn math_equal_with(pred: &str, gold: &str, options: &MathEqualOptions) -> bool {
    if pred.trim().to_lowercase() == gold.trim().to_lowercase() {
        return true;
    }
    let checker = Checker::new(*options);
    let (p, g) = (strip_answer_string(pred), strip_answer_string(gold));
    checker.equal(&p, &g, 0) || equations_before_normalisation(pred, gold)
}

/// Equations compared side by side before normalisation drops a short left-hand side:
/// gold `y = -2x` normalises to `-2x`, yet `2x + y = 0` states the same line.
fn equations_before_normalisation(pred: &str, gold: &str) -> bool {
    let sides = |s: &str| {
        let (l, r) = s.split_once('=')?;
        (!r.contains('=')).then(|| (strip_answer_string(l), strip_answer_string(r)))
    };
    let (Some((pl, pr)), Some((gl, gr))) = (sides(pred), sides(gold)) else {
        return false;
    };
    let p = format!("{pl}-({pr})");
    let g = format!("{gl}-({gr})");
    symbolic_equal(&p, &g) || symbolic_equal(&format!("-({p})"), &g)
}

struct Checker {
    options: MathEqualOptions,
    budget: Cell<usize>,
    /// Math-Verify's rules (EvalScope 1.14.1): no choice-letter rule; a decimal literal
    /// against a number compares rounded to 6 places (`float_rounding=6`); other constants
    /// must agree to about 15 digits (`numeric_precision=15`).
    math_verify: bool,
}

/// Math-Verify's verdict (as EvalScope 1.14.1's `compare_answers` decides) on two display
/// strings that Math-Verify's extraction already normalised: no `strip_answer_string`, no
/// choice-letter or percentage leniency, strict brackets, exact integers, 6-place rounding
/// when a decimal literal is involved.
pub(crate) fn math_verify_equal(pred: &str, gold: &str) -> bool {
    let checker = Checker {
        math_verify: true,
        ..Checker::new(MathEqualOptions::STRICT)
    };
    checker.equal(pred, gold, 0)
}

/// `x.round(6)` of SymPy, closely enough: half away from zero at 6 decimal places.
fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

fn is_decimal_literal(s: &str) -> bool {
    parse_number(s).is_some() && s.contains('.')
}

impl Checker {
    fn new(options: MathEqualOptions) -> Self {
        Self {
            options,
            budget: Cell::new(MAX_COMPARISONS),
            math_verify: false,
        }
    }

    /// A decimal literal against a constant, or two constants, as Math-Verify compares them;
    /// `None` when neither side is a constant.
    fn math_verify_constants(&self, pred: &str, gold: &str) -> Option<bool> {
        let (p, g) = (Expr::parse(pred)?, Expr::parse(gold)?);
        if !p.vars().is_empty() || !g.vars().is_empty() {
            return None;
        }
        let (a, b) = (p.eval(&[]), g.eval(&[]));
        if a.is_nan() || b.is_nan() {
            return Some(false);
        }
        if (is_decimal_literal(pred) || is_decimal_literal(gold)) && a.is_real() && b.is_real() {
            return Some(round6(a.re) == round6(b.re));
        }
        Some(complex_close(a, b, 1e-12))
    }

    fn equal(&self, pred: &str, gold: &str, depth: usize) -> bool {
        let left = self.budget.get();
        if depth > MAX_NESTING || left == 0 {
            return false;
        }
        self.budget.set(left - 1);
        let (pred, gold) = (pred.trim(), gold.trim());
        if pred.to_lowercase() == gold.to_lowercase() {
            return true;
        }
        let letter = gold
            .strip_prefix('(')
            .and_then(|g| g.strip_suffix(')'))
            .unwrap_or(gold);
        if !self.math_verify
            && matches!(letter, "A" | "B" | "C" | "D" | "E")
            && choice_answer_clean(pred) == letter
        {
            return true;
        }
        if let (Some(p), Some(g)) = (parse_number(pred), parse_number(gold)) {
            if self.options.exact_integers && is_integer_literal(pred) && is_integer_literal(gold) {
                return p == g;
            }
            if self.math_verify && (is_decimal_literal(pred) || is_decimal_literal(gold)) {
                return round6(p) == round6(g);
            }
            return self.numbers_equal(p, g);
        }
        if pred.is_empty() {
            return false;
        }
        let bracketed = is_bracketed(pred) || is_bracketed(gold);
        let skip_brackets = self.math_verify || (self.options.strict_brackets && bracketed);
        if !skip_brackets && brackets_removed_equal(pred, gold) {
            return true;
        }
        if let (Some(ps), Some(gs)) = (as_set(pred), as_set(gold))
            && self.unordered_equal(&ps, &gs, depth)
        {
            return true;
        }
        if let (Some(ps), Some(gs)) = (as_union(pred), as_union(gold)) {
            // EvalScope's element split happens to compare the inner brackets of a union, so
            // interval ends count here in every mode.
            let strict = Checker {
                options: MathEqualOptions {
                    strict_brackets: true,
                    ..self.options
                },
                budget: Cell::new(self.budget.get()),
                math_verify: self.math_verify,
            };
            let found = strict.unordered_equal(&ps, &gs, depth);
            self.budget.set(strict.budget.get());
            if found {
                return true;
            }
        }
        if let (Some(pt), Some(gt)) = (as_tuple(pred), as_tuple(gold))
            && self.tuples_equal(&pt, &gt, depth)
        {
            return true;
        }
        if let (Some(pm), Some(gm)) = (as_matrix(pred), as_matrix(gold))
            && self.matrices_equal(&pm, &gm, depth)
        {
            return true;
        }
        if self.equations_equal(pred, gold, depth) {
            return true;
        }
        if self.math_verify {
            return match self.math_verify_constants(pred, gold) {
                Some(verdict) => verdict,
                None => symbolic_equal(pred, gold),
            };
        }
        symbolic_equal(pred, gold) || self.percent_of_constant(pred, gold)
    }

    /// Extends EvalScope's percentage rule to a number against a constant expression:
    /// `34` (from `34\%`) against `\frac{17}{50}`.
    fn percent_of_constant(&self, pred: &str, gold: &str) -> bool {
        if !self.options.include_percentage {
            return false;
        }
        let (number, other) = match (parse_number(pred), parse_number(gold)) {
            (Some(n), None) => (n, gold),
            (None, Some(n)) => (n, pred),
            _ => return false,
        };
        let Some(value) = Expr::parse(other)
            .filter(|e| e.vars().is_empty())
            .map(|e| e.eval(&[]))
        else {
            return false;
        };
        value.is_real()
            && [value.re / 100.0, value.re * 100.0]
                .iter()
                .any(|v| is_close(number, *v, REL_TOL))
    }

    fn numbers_equal(&self, pred: f64, gold: f64) -> bool {
        if self.options.include_percentage {
            [gold / 100.0, gold, gold * 100.0]
                .iter()
                .any(|g| is_close(pred, *g, REL_TOL))
        } else {
            is_close(pred, gold, REL_TOL)
        }
    }

    fn all_equal(&self, preds: &[&str], golds: &[&str], depth: usize) -> bool {
        preds.len() == golds.len()
            && preds
                .iter()
                .zip(golds)
                .all(|(p, g)| self.equal(p, g, depth + 1))
    }

    /// Every element of `preds` matched to a distinct element of `golds`.
    fn unordered_equal(&self, preds: &[String], golds: &[String], depth: usize) -> bool {
        if preds.len() != golds.len() || preds.len() > MAX_SET {
            return false;
        }
        let mut used = vec![false; golds.len()];
        preds.iter().all(|p| {
            let found = golds
                .iter()
                .enumerate()
                .find(|(k, g)| !used[*k] && self.equal(p, g, depth + 1));
            match found {
                Some((k, _)) => {
                    used[k] = true;
                    true
                }
                None => false,
            }
        })
    }

    fn tuples_equal(&self, pred: &Tuple<'_>, gold: &Tuple<'_>, depth: usize) -> bool {
        if self.options.strict_brackets && (pred.open != gold.open || pred.close != gold.close) {
            return false;
        }
        self.all_equal(&pred.items, &gold.items, depth)
    }

    fn matrices_equal(&self, pred: &[Vec<&str>], gold: &[Vec<&str>], depth: usize) -> bool {
        pred.len() == gold.len()
            && pred
                .iter()
                .zip(gold)
                .all(|(p, g)| self.all_equal(p, g, depth))
    }

    /// EvalScope's equation rules.
    fn equations_equal(&self, pred: &str, gold: &str, depth: usize) -> bool {
        let p_eq = pred.matches('=').count();
        let g_eq = gold.matches('=').count();
        let sides = |s: &'_ str| {
            s.split_once('=')
                .map(|(l, r)| (l.trim().to_string(), r.trim().to_string()))
        };
        match (p_eq, g_eq, sides(pred), sides(gold)) {
            (1, 1, Some((pl, pr)), Some((gl, gr))) => {
                let p = format!("{pl}-({pr})");
                let g = format!("{gl}-({gr})");
                symbolic_equal(&p, &g) || symbolic_equal(&format!("-({p})"), &g)
            }
            (1, 0, Some((pl, pr)), _) if pl.chars().count() <= 2 => {
                self.equal(&pr, gold, depth + 1)
            }
            (0, 1, _, Some((gl, gr))) if gl.chars().count() <= 2 => {
                self.equal(pred, &gr, depth + 1)
            }
            _ => false,
        }
    }
}
