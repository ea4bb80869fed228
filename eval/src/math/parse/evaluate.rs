//! Evaluating a [`Node`] tree over complex numbers.

use super::super::complex::Complex;
use super::Node;
use super::lexer::Func;

pub(super) fn eval(node: &Node, env: &[(&str, Complex)]) -> Complex {
    match node {
        Node::Num(v, _) => Complex::real(*v),
        Node::Const(c) => *c,
        Node::Var(name) => env
            .iter()
            .find(|(n, _)| n == name)
            .map_or(Complex::NAN, |(_, v)| *v),
        Node::Neg(a) => -eval(a, env),
        Node::Add(a, c) => eval(a, env) + eval(c, env),
        Node::Sub(a, c) => eval(a, env) - eval(c, env),
        Node::Mul(a, c) => eval(a, env) * eval(c, env),
        Node::Div(a, c) => eval(a, env) / eval(c, env),
        Node::Pow(a, c) => eval(a, env).pow(eval(c, env)),
        Node::Root(n, x) => root(eval(n, env), eval(x, env)),
        Node::Fact(a) => factorial(eval(a, env)),
        Node::Binom(n, k) => binom(eval(n, env), eval(k, env)),
        Node::Abs(a) => Complex::real(eval(a, env).abs()),
        Node::Floor(a) => eval(a, env).real_fn(f64::floor),
        Node::Ceil(a) => eval(a, env).real_fn(f64::ceil),
        Node::Log(base, x) => eval(x, env).ln() / eval(base, env).ln(),
        Node::Func(f, a) => apply(*f, eval(a, env)),
    }
}

fn apply(f: Func, x: Complex) -> Complex {
    let one = Complex::ONE;
    match f {
        Func::Sin => x.sin(),
        Func::Cos => x.cos(),
        Func::Tan => x.sin() / x.cos(),
        Func::Cot => x.cos() / x.sin(),
        Func::Sec => one / x.cos(),
        Func::Csc => one / x.sin(),
        Func::Asin => x.real_fn(f64::asin),
        Func::Acos => x.real_fn(f64::acos),
        Func::Atan => x.real_fn(f64::atan),
        Func::Sinh => (x.exp() - (-x).exp()) / Complex::real(2.0),
        Func::Cosh => (x.exp() + (-x).exp()) / Complex::real(2.0),
        Func::Tanh => (x.exp() - (-x).exp()) / (x.exp() + (-x).exp()),
        Func::Ln | Func::Log => x.ln(),
        Func::Exp => x.exp(),
    }
}

/// `\sqrt[n]{x}`: the real root for a negative real `x` and odd integer `n`, else principal.
fn root(n: Complex, x: Complex) -> Complex {
    if n == Complex::real(2.0) {
        return x.sqrt();
    }
    if n.is_real() && x.is_real() && x.re < 0.0 && n.re.fract() == 0.0 && n.re % 2.0 != 0.0 {
        return Complex::real(-(-x.re).powf(1.0 / n.re));
    }
    x.pow(Complex::ONE / n)
}

fn as_small_nonneg_int(x: Complex) -> Option<u32> {
    (x.is_real() && x.re.fract() == 0.0 && (0.0..=170.0).contains(&x.re)).then_some(x.re as u32)
}

fn factorial(x: Complex) -> Complex {
    match as_small_nonneg_int(x) {
        Some(n) => Complex::real((1..=n).map(f64::from).product()),
        None => Complex::NAN,
    }
}

fn binom(n: Complex, k: Complex) -> Complex {
    let (Some(n), Some(k)) = (as_small_nonneg_int(n), as_small_nonneg_int(k)) else {
        return Complex::NAN;
    };
    if k > n {
        return Complex::ZERO;
    }
    let k = k.min(n - k);
    let v = (0..k).fold(1.0, |acc, j| acc * f64::from(n - j) / f64::from(j + 1));
    Complex::real(v.round())
}
