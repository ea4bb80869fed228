//! Property tests: no input panics, and generated expressions equal their other renderings.

use proptest::prelude::*;
use swarm_eval::math::{
    MathEqualOptions, extract_answer, extract_last_boxed, math_equal, math_equal_with,
    strip_answer_string,
};

/// Strings built from LaTeX-ish pieces, so that the parser's paths are reached.
fn latexish() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just(r"\frac".to_string()),
        Just(r"\dfrac".to_string()),
        Just(r"\sqrt".to_string()),
        Just(r"\pm".to_string()),
        Just(r"\cup".to_string()),
        Just(r"\boxed".to_string()),
        Just(r"\left(".to_string()),
        Just(r"\right]".to_string()),
        Just(r"\text{".to_string()),
        Just(r"\infty".to_string()),
        Just(r"\begin{pmatrix}".to_string()),
        Just(r"\end{pmatrix}".to_string()),
        Just(r"\\".to_string()),
        Just(r"^\circ".to_string()),
        Just(r"\%".to_string()),
        Just("_".to_string()),
        "[0-9]{1,4}".prop_map(|s| s),
        "[-+*/^=,.{}()\\[\\]|!&$ xyiek]".prop_map(|s| s),
    ];
    prop::collection::vec(piece, 0..24).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_text_never_panics(a in any::<String>(), b in any::<String>()) {
        let _ = strip_answer_string(&a);
        let _ = extract_answer(&a);
        let _ = extract_last_boxed(&a);
        let _ = math_equal(&a, &b);
        let _ = math_equal_with(&a, &b, &MathEqualOptions::STRICT);
    }

    #[test]
    fn latex_like_text_never_panics(a in latexish(), b in latexish()) {
        let _ = strip_answer_string(&a);
        let _ = extract_answer(&a);
        let _ = extract_last_boxed(&a);
        let _ = math_equal(&a, &b);
        let _ = math_equal(&b, &a);
        let _ = math_equal_with(&a, &b, &MathEqualOptions::STRICT);
    }
}

/// A small expression over `x` and `y` with denominators that never vanish.
#[derive(Debug, Clone)]
enum E {
    Int(u8),
    X,
    Y,
    Add(Box<E>, Box<E>),
    Sub(Box<E>, Box<E>),
    Mul(Box<E>, Box<E>),
    Div(Box<E>, Den),
    Square(Box<E>),
    Sqrt(u8),
}

#[derive(Debug, Clone, Copy)]
enum Den {
    Int(u8),
    XSquaredPlusOne,
}

fn expr() -> impl Strategy<Value = E> {
    let leaf = prop_oneof![
        (1u8..10).prop_map(E::Int),
        Just(E::X),
        Just(E::Y),
        (2u8..10).prop_map(E::Sqrt)
    ];
    leaf.prop_recursive(3, 12, 2, |inner| {
        let den = prop_oneof![(1u8..10).prop_map(Den::Int), Just(Den::XSquaredPlusOne)];
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| E::Add(Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| E::Sub(Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| E::Mul(Box::new(a), Box::new(b))),
            (inner.clone(), den).prop_map(|(a, d)| E::Div(Box::new(a), d)),
            inner.prop_map(|a| E::Square(Box::new(a))),
        ]
    })
}

/// LaTeX rendering: `\frac`, `\cdot`, `\sqrt{}`, `\left( \right)`.
fn latex(e: &E) -> String {
    match e {
        E::Int(n) => n.to_string(),
        E::X => "x".into(),
        E::Y => "y".into(),
        E::Add(a, b) => format!("{} + {}", latex(a), latex(b)),
        E::Sub(a, b) => format!(r"{} - \left({}\right)", latex(a), latex(b)),
        E::Mul(a, b) => format!(r"\left({}\right) \cdot \left({}\right)", latex(a), latex(b)),
        E::Div(a, Den::Int(n)) => format!(r"\dfrac{{{}}}{{{n}}}", latex(a)),
        E::Div(a, Den::XSquaredPlusOne) => format!(r"\frac{{{}}}{{x^2+1}}", latex(a)),
        E::Square(a) => format!(r"\left({}\right)^{{2}}", latex(a)),
        E::Sqrt(n) => format!(r"\sqrt{{{n}}}"),
    }
}

/// Plain-text rendering of the same value: `/`, implicit products, `^(1/2)`, reordered sums.
fn plain(e: &E) -> String {
    match e {
        E::Int(n) => n.to_string(),
        E::X => "x".into(),
        E::Y => "y".into(),
        E::Add(a, b) => format!("{}+{}", plain(b), plain(a)),
        E::Sub(a, b) => format!("-({})+{}", plain(b), plain(a)),
        E::Mul(a, b) => format!("({})({})", plain(b), plain(a)),
        E::Div(a, Den::Int(n)) => format!("({})/{n}", plain(a)),
        E::Div(a, Den::XSquaredPlusOne) => format!("({})/(1+x*x)", plain(a)),
        E::Square(a) => format!("({0})*({0})", plain(a)),
        E::Sqrt(n) => format!("{n}^{{1/2}}"),
    }
}

fn value(e: &E, x: f64, y: f64) -> f64 {
    match e {
        E::Int(n) => f64::from(*n),
        E::X => x,
        E::Y => y,
        E::Add(a, b) => value(a, x, y) + value(b, x, y),
        E::Sub(a, b) => value(a, x, y) - value(b, x, y),
        E::Mul(a, b) => value(a, x, y) * value(b, x, y),
        E::Div(a, Den::Int(n)) => value(a, x, y) / f64::from(*n),
        E::Div(a, Den::XSquaredPlusOne) => value(a, x, y) / (x * x + 1.0),
        E::Square(a) => value(a, x, y).powi(2),
        E::Sqrt(n) => f64::from(*n).sqrt(),
    }
}

/// Largest magnitude over a grid covering the sample points' range.
fn max_magnitude(e: &E) -> f64 {
    let grid = [0.3, 0.8, 1.3, 1.8, 2.3];
    grid.iter()
        .flat_map(|x| grid.iter().map(move |y| (*x, *y)))
        .map(|(x, y)| value(e, x, y).abs())
        .fold(0.0, f64::max)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn normalised_expressions_equal_themselves(e in expr()) {
        let rendered = latex(&e);
        let normal = strip_answer_string(&rendered);
        prop_assert!(!normal.is_empty());
        prop_assert!(math_equal(&normal, &normal));
        prop_assert!(math_equal(&normal, &rendered), "{normal:?} vs {rendered:?}");
        prop_assert!(math_equal(&rendered, &normal), "{rendered:?} vs {normal:?}");
    }

    #[test]
    fn other_renderings_are_equal(e in expr()) {
        let (a, b) = (latex(&e), plain(&e));
        prop_assert!(math_equal(&b, &a), "{b:?} should equal {a:?}");
        prop_assert!(math_equal_with(&b, &a, &MathEqualOptions::STRICT), "{b:?} should equal {a:?} (strict)");
    }

    #[test]
    fn shifted_expressions_differ(e in expr()) {
        prop_assume!(max_magnitude(&e) < 1000.0);
        let shifted = format!(r"{} + \frac{{1}}{{2}}", latex(&e));
        prop_assert!(!math_equal(&shifted, &latex(&e)), "{shifted:?}");
        prop_assert!(!math_equal(&latex(&e), &shifted), "{shifted:?}");
    }
}

#[test]
fn nested_sets_finish() {
    // 60 sets of 60 sets of 60 elements: without the comparison budget, the quadratic matching
    // at each level would take hours; with it this returns at once (no wall-clock assertion:
    // a regression shows as a hung test).
    let inner = format!(
        "{{{}}}",
        (1..=60)
            .map(|k| k.to_string())
            .collect::<Vec<_>>()
            .join(",")
    );
    let middle = format!("{{{}}}", vec![inner.as_str(); 60].join(","));
    let outer = vec![middle.as_str(); 60].join(",");
    let other = outer.replace("60", "61");
    assert!(!math_equal(&outer, &other));
    assert!(math_equal(&outer, &outer));
}
