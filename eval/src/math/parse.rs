//! A small LaTeX expression parser and evaluator for scalar answers.
//!
//! Covers what MATH-style answers are written with: numbers, variables (`x`, `x_1`, `\alpha`),
//! `+ - * / ^ !`, `\cdot \times \div`, implicit multiplication, `\frac`, `\sqrt`, `\sqrt[n]`,
//! `\binom`, `\pi`, `e`, `i`, `\infty`, trigonometric and log functions, `|x|`, floors and
//! ceilings. Grammar as latex2sympy: implicit multiplication binds tighter than `/` and `\cdot`
//! (`2/3x` is `2/(3x)`), a single-character argument is one character (`x^23` is `x^2 \cdot 3`),
//! and an integer followed by `\frac` of two integers is a mixed number (`3\frac12` is 3.5).
//! Parsing is linear in the input and nesting is bounded, so no input is slow or overflows.

mod evaluate;
mod lexer;
mod parser;

use super::complex::Complex;
use evaluate::eval;
use lexer::{Func, tokenize};
use parser::Parser;

/// Deepest nesting the parser follows before giving up.
const MAX_DEPTH: usize = 150;
/// Longest input the parser looks at.
const MAX_LEN: usize = 2_000;

/// A parsed scalar expression.
#[derive(Debug, Clone, PartialEq)]
enum Node {
    /// A literal; `true` when written as an integer.
    Num(f64, bool),
    Const(Complex),
    Var(String),
    Neg(Box<Node>),
    Add(Box<Node>, Box<Node>),
    Sub(Box<Node>, Box<Node>),
    Mul(Box<Node>, Box<Node>),
    Div(Box<Node>, Box<Node>),
    Pow(Box<Node>, Box<Node>),
    Root(Box<Node>, Box<Node>),
    Fact(Box<Node>),
    Binom(Box<Node>, Box<Node>),
    Abs(Box<Node>),
    Floor(Box<Node>),
    Ceil(Box<Node>),
    Func(Func, Box<Node>),
    Log(Box<Node>, Box<Node>),
}

fn b(n: Node) -> Box<Node> {
    Box::new(n)
}

/// A scalar LaTeX expression, ready to evaluate.
#[derive(Debug, Clone)]
pub(crate) struct Expr {
    root: Node,
    vars: Vec<String>,
}

impl Expr {
    /// Parse `s`; `None` when it is not a scalar expression this parser understands.
    pub(crate) fn parse(s: &str) -> Option<Self> {
        if s.len() > MAX_LEN {
            return None;
        }
        let toks = tokenize(s)?;
        let mut p = Parser {
            toks,
            pos: 0,
            depth: 0,
            abs_depth: 0,
            vars: Vec::new(),
        };
        let root = p.expr()?;
        if p.pos != p.toks.len() {
            return None;
        }
        let mut vars = p.vars;
        vars.sort();
        vars.dedup();
        Some(Self { root, vars })
    }

    /// Free variable names, sorted.
    pub(crate) fn vars(&self) -> &[String] {
        &self.vars
    }

    /// The value with variables bound by `env` (unbound ones are `NaN`).
    pub(crate) fn eval(&self, env: &[(&str, Complex)]) -> Complex {
        eval(&self.root, env)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn val(s: &str) -> f64 {
        let e = Expr::parse(s).unwrap_or_else(|| panic!("{s} should parse"));
        let v = e.eval(&[]);
        assert!(v.im.abs() < 1e-12, "{s} is not real: {v:?}");
        v.re
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9 * (1.0 + b.abs())
    }

    #[test]
    fn constants() {
        assert!(close(val(r"\frac{1}{2}\sqrt{3}"), 3f64.sqrt() / 2.0));
        assert!(close(val(r"\frac{\sqrt{3}}{2}"), 3f64.sqrt() / 2.0));
        assert!(close(val(r"\frac34"), 0.75));
        assert!(close(val(r"3\frac{1}{2}"), 3.5));
        assert!(close(val(r"2\frac{\pi}{2}"), std::f64::consts::PI));
        assert!(close(val(r"2^{10}"), 1024.0));
        assert!(close(val(r"2^10"), 0.0));
        assert!(close(val(r"5!"), 120.0));
        assert!(close(val(r"\binom{10}{3}"), 120.0));
        assert!(close(val(r"\sqrt[3]{-8}"), -2.0));
        assert!(close(val(r"\log_28"), 3.0));
        assert!(close(val(r"2/3\cdot3"), 2.0));
        assert!(close(val(r"|-3|+\lfloor2.5\rfloor"), 5.0));
        assert!(close(val(r"\sin^2(1)+\cos^2(1)"), 1.0));
        assert!(close(val(r"i^2"), -1.0));
        assert!(close(val(r"\sin^{-1}(1)"), std::f64::consts::FRAC_PI_2));
    }

    #[test]
    fn variables_and_commands() {
        let e = Expr::parse(r"\cotx+2\alpha_1").expect("parses");
        assert_eq!(e.vars(), ["\\alpha_1", "x"]);
        assert!(close(val(r"52_8"), 52.0));
        assert!(close(val(r"4210_{5}"), 4210.0));
        assert!(close(val("3*sqrt(13)+2**3"), 3.0 * 13f64.sqrt() + 8.0));
        assert!(close(val("2pi"), 2.0 * std::f64::consts::PI));
        // `pi` only as a whole word: `spin` is s·p·i·n with i imaginary
        assert_eq!(Expr::parse("spin").expect("parses").vars(), ["n", "p", "s"]);
    }

    #[test]
    fn rejects_non_scalars() {
        for s in [
            "1,2", "x=1", "x<2", r"\in", "(1", "", r"1\pm2", "{{{{", "2^",
        ] {
            assert!(Expr::parse(s).is_none(), "{s} should not parse");
        }
        let deep = "(".repeat(500) + "1" + &")".repeat(500);
        assert!(Expr::parse(&deep).is_none());
    }
}
