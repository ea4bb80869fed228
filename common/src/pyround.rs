//! Python's `round(x, n)`, the rounding of every value EvalScope writes: to the nearest multiple
//! of 10⁻ⁿ of the exact binary value, exact ties to even. `(x * 10ⁿ).round() / 10ⁿ` is not it:
//! the product is itself rounded, and `f64::round` sends ties away from zero.

/// `round(x, digits)` as Python computes it; a non-finite `x` is returned as it is.
pub fn round(x: f64, digits: usize) -> f64 {
    if !x.is_finite() {
        return x;
    }
    // Formatting rounds the exact value, ties to even, as Python's correctly rounded repr does.
    format!("{x:.digits$}").parse().unwrap_or(x)
}

#[cfg(test)]
mod tests {
    use super::round;

    #[test]
    fn rounds_as_python_does() {
        // values from CPython 3.11's round()
        assert_eq!(round(0.85, 4), 0.85);
        assert_eq!(round(2.0 / 3.0, 4), 0.6667);
        assert_eq!(round(0.03125, 4), 0.0312);
        assert_eq!(round(0.15625, 4), 0.1562);
        assert_eq!(round(0.00015, 4), 0.0001);
        assert_eq!(round(2.675, 2), 2.67);
        assert_eq!(round(0.125, 2), 0.12);
        assert_eq!(round(0.375, 2), 0.38);
        assert_eq!(round(-0.125, 2), -0.12);
        assert_eq!(round(1.0005, 3), 1.0);
        assert_eq!(round(123.456_789, 0), 123.0);
        assert_eq!(round(2.5, 0), 2.0);
        assert!(round(f64::NAN, 4).is_nan());
        assert_eq!(round(f64::INFINITY, 4), f64::INFINITY);
    }

    #[test]
    fn differs_from_multiply_and_round_where_python_does() {
        // 0.125 * 100 = 12.5 exactly; f64::round gives 13, Python's round gives 0.12
        assert_eq!((0.125_f64 * 100.0).round() / 100.0, 0.13);
        assert_eq!(round(0.125, 2), 0.12);
    }
}
