//! The complex numbers expressions are evaluated over.

use std::ops::{Add, Div, Mul, Neg, Sub};

/// A complex number in `f64` parts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Complex {
    pub re: f64,
    pub im: f64,
}

impl Complex {
    pub const ZERO: Self = Self::real(0.0);
    pub const ONE: Self = Self::real(1.0);
    pub const I: Self = Self { re: 0.0, im: 1.0 };
    pub const NAN: Self = Self::real(f64::NAN);

    pub const fn real(re: f64) -> Self {
        Self { re, im: 0.0 }
    }

    pub fn abs(self) -> f64 {
        self.re.hypot(self.im)
    }

    pub fn is_real(self) -> bool {
        self.im == 0.0
    }

    pub fn is_finite(self) -> bool {
        self.re.is_finite() && self.im.is_finite()
    }

    pub fn is_nan(self) -> bool {
        self.re.is_nan() || self.im.is_nan()
    }

    pub fn exp(self) -> Self {
        let m = self.re.exp();
        if self.im == 0.0 {
            return Self::real(m);
        }
        Self {
            re: m * self.im.cos(),
            im: m * self.im.sin(),
        }
    }

    /// Principal logarithm.
    pub fn ln(self) -> Self {
        if self.is_real() && self.re >= 0.0 {
            return Self::real(self.re.ln());
        }
        Self {
            re: self.abs().ln(),
            im: self.im.atan2(self.re),
        }
    }

    /// Principal square root.
    pub fn sqrt(self) -> Self {
        if self.is_real() {
            return if self.re >= 0.0 {
                Self::real(self.re.sqrt())
            } else {
                Self {
                    re: 0.0,
                    im: (-self.re).sqrt(),
                }
            };
        }
        let r = self.abs();
        let re = ((r + self.re) / 2.0).sqrt();
        let im = ((r - self.re) / 2.0).sqrt().copysign(self.im);
        Self { re, im }
    }

    /// Principal power; exact for real bases with integer exponents.
    pub fn pow(self, e: Self) -> Self {
        if e.is_real() {
            if self.is_real() && (self.re >= 0.0 || e.re.fract() == 0.0) {
                return Self::real(self.re.powf(e.re));
            }
            if e.re.fract() == 0.0 && e.re.abs() <= 64.0 {
                return self.powi(e.re as i32);
            }
        }
        if self == Self::ZERO {
            return if e.re > 0.0 { Self::ZERO } else { Self::NAN };
        }
        (self.ln() * e).exp()
    }

    fn powi(self, n: i32) -> Self {
        let mut acc = Self::ONE;
        let mut base = self;
        let mut k = n.unsigned_abs();
        while k > 0 {
            if k & 1 == 1 {
                acc = acc * base;
            }
            base = base * base;
            k >>= 1;
        }
        if n < 0 { Self::ONE / acc } else { acc }
    }

    pub fn sin(self) -> Self {
        Self {
            re: self.re.sin() * self.im.cosh(),
            im: self.re.cos() * self.im.sinh(),
        }
    }

    pub fn cos(self) -> Self {
        Self {
            re: self.re.cos() * self.im.cosh(),
            im: -(self.re.sin() * self.im.sinh()),
        }
    }

    /// A real function of a real argument; `NaN` off the real line or outside the domain.
    pub fn real_fn(self, f: fn(f64) -> f64) -> Self {
        if self.is_real() {
            Self::real(f(self.re))
        } else {
            Self::NAN
        }
    }
}

impl Add for Complex {
    type Output = Self;
    fn add(self, o: Self) -> Self {
        Self {
            re: self.re + o.re,
            im: self.im + o.im,
        }
    }
}

impl Sub for Complex {
    type Output = Self;
    fn sub(self, o: Self) -> Self {
        Self {
            re: self.re - o.re,
            im: self.im - o.im,
        }
    }
}

impl Mul for Complex {
    type Output = Self;
    fn mul(self, o: Self) -> Self {
        if self.im == 0.0 && o.im == 0.0 {
            return Self::real(self.re * o.re);
        }
        Self {
            re: self.re * o.re - self.im * o.im,
            im: self.re * o.im + self.im * o.re,
        }
    }
}

impl Div for Complex {
    type Output = Self;
    fn div(self, o: Self) -> Self {
        if o.im == 0.0 {
            if o.re == 0.0 {
                return Self::NAN;
            }
            return Self {
                re: self.re / o.re,
                im: self.im / o.re,
            };
        }
        let d = o.re * o.re + o.im * o.im;
        Self {
            re: (self.re * o.re + self.im * o.im) / d,
            im: (self.im * o.re - self.re * o.im) / d,
        }
    }
}

impl Neg for Complex {
    type Output = Self;
    fn neg(self) -> Self {
        Self {
            re: -self.re,
            im: -self.im,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Complex;

    #[test]
    fn i_squared_is_minus_one() {
        assert_eq!(Complex::I * Complex::I, Complex::real(-1.0));
        assert_eq!(Complex::real(-4.0).sqrt(), Complex { re: 0.0, im: 2.0 });
        let p = Complex::I.pow(Complex::real(2.0));
        assert!((p.re + 1.0).abs() < 1e-12 && p.im.abs() < 1e-12);
    }
}
