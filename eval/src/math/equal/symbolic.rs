//! Expressions compared by value: constants directly, expressions with variables at fixed
//! sample points.

use super::super::complex::Complex;
use super::super::parse::Expr;
use super::numbers::complex_close;
use super::{REL_TOL, REL_TOL_SYMBOLIC};

/// Sample values for the `k`-th variable at the `point`-th sample: fixed, spread over
/// (0.35, 2.25), and different per variable.
fn sample_value(point: usize, k: usize) -> f64 {
    let mut z = (point as u64)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add((k as u64 + 1).wrapping_mul(0xBF58_476D_1CE4_E5B9));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    let unit = (z >> 11) as f64 / (1u64 << 53) as f64;
    0.35 + 1.9 * unit
}

const SAMPLE_POINTS: usize = 4;

/// Both sides parse as scalar expressions with the same value (or values at sample points).
pub(super) fn symbolic_equal(pred: &str, gold: &str) -> bool {
    let (Some(p), Some(g)) = (Expr::parse(pred), Expr::parse(gold)) else {
        return false;
    };
    let mut names: Vec<&str> = p
        .vars()
        .iter()
        .chain(g.vars())
        .map(String::as_str)
        .collect();
    names.sort_unstable();
    names.dedup();
    if names.is_empty() {
        let (a, b) = (p.eval(&[]), g.eval(&[]));
        return !a.is_nan() && !b.is_nan() && complex_close(a, b, REL_TOL);
    }
    let mut agreeing = 0;
    for point in 0..SAMPLE_POINTS {
        let env: Vec<(&str, Complex)> = names
            .iter()
            .enumerate()
            .map(|(k, n)| (*n, Complex::real(sample_value(point, k))))
            .collect();
        let (a, b) = (p.eval(&env), g.eval(&env));
        if !a.is_finite() || !b.is_finite() {
            continue;
        }
        if !complex_close(a, b, REL_TOL_SYMBOLIC) {
            return false;
        }
        agreeing += 1;
    }
    agreeing >= 2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_values_are_spread() {
        let v: Vec<f64> = (0..4).map(|p| sample_value(p, 0)).collect();
        assert!(v.iter().all(|x| (0.35..2.25).contains(x)));
        assert!(v.windows(2).all(|w| (w[0] - w[1]).abs() > 1e-3));
        assert!((sample_value(0, 0) - sample_value(0, 1)).abs() > 1e-3);
    }
}
