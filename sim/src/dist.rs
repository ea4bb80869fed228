//! Sampled quantities: a fixed value or a random distribution over non-negative numbers.

use std::fmt;

use rand::Rng;
use rand_distr::StandardNormal;
use serde::de::value::{EnumAccessDeserializer, MapAccessDeserializer};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

use crate::SimError;

/// A distribution of non-negative values (milliseconds for latencies, tokens for lengths).
///
/// In YAML either a bare number (`50`, meaning `fixed`) or a map tagged by `kind`:
/// `{kind: fixed, value: 50}`, `{kind: uniform, min: 10, max: 20}`,
/// `{kind: normal, mean: 50, std: 5}`, `{kind: lognormal, mean: 50, std: 20}`.
/// Samples below zero are clamped to zero.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Dist {
    /// Always the same value.
    Fixed {
        /// The value.
        value: f64,
    },
    /// Uniform on `[min, max]`.
    Uniform {
        /// Lower bound.
        min: f64,
        /// Upper bound (>= min).
        max: f64,
    },
    /// Gaussian, clamped at zero.
    Normal {
        /// Mean.
        mean: f64,
        /// Standard deviation (>= 0).
        std: f64,
    },
    /// Log-normal with the given mean and standard deviation of the value itself (not of its log).
    #[serde(rename = "lognormal")]
    LogNormal {
        /// Mean of the value (> 0).
        mean: f64,
        /// Standard deviation of the value (>= 0).
        std: f64,
    },
}

impl Dist {
    /// A distribution that is always `value`.
    pub const fn fixed(value: f64) -> Self {
        Dist::Fixed { value }
    }

    /// The distribution's mean (before clamping at zero).
    pub fn mean(&self) -> f64 {
        match *self {
            Dist::Fixed { value } => value,
            Dist::Uniform { min, max } => (min + max) / 2.0,
            Dist::Normal { mean, .. } | Dist::LogNormal { mean, .. } => mean,
        }
    }

    /// Whether every sample is exactly zero.
    pub fn is_zero(&self) -> bool {
        matches!(*self, Dist::Fixed { value } if value == 0.0)
    }

    /// Draws one value, never negative. A fixed distribution consumes no randomness.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        let v = match *self {
            Dist::Fixed { value } => value,
            Dist::Uniform { min, max } => {
                if max > min {
                    rng.random_range(min..=max)
                } else {
                    min
                }
            }
            Dist::Normal { mean, std } => {
                let z: f64 = rng.sample(StandardNormal);
                mean + std * z
            }
            Dist::LogNormal { mean, std } => {
                let sigma2 = (1.0 + (std * std) / (mean * mean)).ln();
                let mu = mean.ln() - sigma2 / 2.0;
                let z: f64 = rng.sample(StandardNormal);
                (mu + sigma2.sqrt() * z).exp()
            }
        };
        if v.is_finite() { v.max(0.0) } else { 0.0 }
    }

    /// Checks the parameters; `field` names the config field in the error.
    pub fn validate(&self, field: &str) -> Result<(), SimError> {
        let finite_non_negative = |name: &str, v: f64| {
            if v.is_finite() && v >= 0.0 {
                Ok(())
            } else {
                Err(SimError::invalid(
                    format!("{field}.{name}"),
                    format!("must be a finite number >= 0, got {v}"),
                ))
            }
        };
        match *self {
            Dist::Fixed { value } => finite_non_negative("value", value),
            Dist::Uniform { min, max } => {
                finite_non_negative("min", min)?;
                finite_non_negative("max", max)?;
                if max < min {
                    return Err(SimError::invalid(
                        format!("{field}.max"),
                        format!("must be >= min {min}, got {max}"),
                    ));
                }
                Ok(())
            }
            Dist::Normal { mean, std } => {
                if !mean.is_finite() {
                    return Err(SimError::invalid(
                        format!("{field}.mean"),
                        format!("must be finite, got {mean}"),
                    ));
                }
                finite_non_negative("std", std)
            }
            Dist::LogNormal { mean, std } => {
                if !(mean.is_finite() && mean > 0.0) {
                    return Err(SimError::invalid(
                        format!("{field}.mean"),
                        format!("must be a finite number > 0, got {mean}"),
                    ));
                }
                finite_non_negative("std", std)
            }
        }
    }
}

/// The tagged form of [`Dist`], deserialized when the value is a map or a YAML tag.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", deny_unknown_fields)]
enum TaggedDist {
    Fixed {
        value: f64,
    },
    Uniform {
        min: f64,
        max: f64,
    },
    Normal {
        mean: f64,
        std: f64,
    },
    #[serde(rename = "lognormal")]
    LogNormal {
        mean: f64,
        std: f64,
    },
}

impl From<TaggedDist> for Dist {
    fn from(t: TaggedDist) -> Self {
        match t {
            TaggedDist::Fixed { value } => Dist::Fixed { value },
            TaggedDist::Uniform { min, max } => Dist::Uniform { min, max },
            TaggedDist::Normal { mean, std } => Dist::Normal { mean, std },
            TaggedDist::LogNormal { mean, std } => Dist::LogNormal { mean, std },
        }
    }
}

impl<'de> Deserialize<'de> for Dist {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DistVisitor;

        impl<'de> Visitor<'de> for DistVisitor {
            type Value = Dist;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number or a map with `kind: fixed|uniform|normal|lognormal`")
            }

            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Dist, E> {
                Ok(Dist::fixed(v))
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Dist, E> {
                Ok(Dist::fixed(v as f64))
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Dist, E> {
                Ok(Dist::fixed(v as f64))
            }

            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Dist, A::Error> {
                TaggedDist::deserialize(MapAccessDeserializer::new(map)).map(Dist::from)
            }

            fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<Dist, A::Error> {
                ExternalDist::deserialize(EnumAccessDeserializer::new(data)).map(Dist::from)
            }
        }

        deserializer.deserialize_any(DistVisitor)
    }
}

/// The YAML-tag form of [`Dist`] (`!uniform {min: 1, max: 2}`, `!fixed {value: 3}`).
#[derive(Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum ExternalDist {
    Fixed {
        value: f64,
    },
    Uniform {
        min: f64,
        max: f64,
    },
    Normal {
        mean: f64,
        std: f64,
    },
    #[serde(rename = "lognormal")]
    LogNormal {
        mean: f64,
        std: f64,
    },
}

impl From<ExternalDist> for Dist {
    fn from(t: ExternalDist) -> Self {
        match t {
            ExternalDist::Fixed { value } => Dist::Fixed { value },
            ExternalDist::Uniform { min, max } => Dist::Uniform { min, max },
            ExternalDist::Normal { mean, std } => Dist::Normal { mean, std },
            ExternalDist::LogNormal { mean, std } => Dist::LogNormal { mean, std },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::SmallRng;

    fn parse(yaml: &str) -> Result<Dist, serde_norway::Error> {
        serde_norway::from_str(yaml)
    }

    #[test]
    fn bare_number_is_fixed() {
        assert_eq!(parse("50").unwrap(), Dist::fixed(50.0));
        assert_eq!(parse("2.5").unwrap(), Dist::fixed(2.5));
    }

    #[test]
    fn tagged_forms_parse() {
        assert_eq!(
            parse("{kind: uniform, min: 1, max: 3}").unwrap(),
            Dist::Uniform { min: 1.0, max: 3.0 }
        );
        assert_eq!(
            parse("kind: normal\nmean: 10\nstd: 2").unwrap(),
            Dist::Normal {
                mean: 10.0,
                std: 2.0
            }
        );
        assert_eq!(
            parse("{kind: lognormal, mean: 10, std: 2}").unwrap(),
            Dist::LogNormal {
                mean: 10.0,
                std: 2.0
            }
        );
        assert_eq!(
            parse("!uniform {min: 4, max: 5}").unwrap(),
            Dist::Uniform { min: 4.0, max: 5.0 }
        );
    }

    #[test]
    fn unknown_kind_and_field_rejected() {
        let err = parse("{kind: poisson, mean: 1}").unwrap_err().to_string();
        assert!(err.contains("poisson"), "{err}");
        let err = parse("{kind: fixed, value: 1, extra: 2}")
            .unwrap_err()
            .to_string();
        assert!(err.contains("extra"), "{err}");
    }

    #[test]
    fn validate_rejects_bad_params() {
        let err = Dist::Uniform { min: 5.0, max: 1.0 }
            .validate("latency.itl_ms")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("latency.itl_ms.max") && err.contains('1'),
            "{err}"
        );
        assert!(Dist::fixed(-1.0).validate("x").is_err());
        assert!(Dist::fixed(f64::NAN).validate("x").is_err());
        assert!(
            Dist::LogNormal {
                mean: 0.0,
                std: 1.0
            }
            .validate("x")
            .is_err()
        );
        assert!(
            Dist::Normal {
                mean: 3.0,
                std: 1.0
            }
            .validate("x")
            .is_ok()
        );
    }

    #[test]
    fn samples_stay_in_range_and_near_mean() {
        let mut rng = SmallRng::seed_from_u64(7);
        let u = Dist::Uniform {
            min: 10.0,
            max: 20.0,
        };
        let n = Dist::Normal {
            mean: 1.0,
            std: 5.0,
        };
        let l = Dist::LogNormal {
            mean: 40.0,
            std: 10.0,
        };
        let (mut su, mut sl) = (0.0, 0.0);
        for _ in 0..20_000 {
            let x = u.sample(&mut rng);
            assert!((10.0..=20.0).contains(&x), "{x}");
            su += x;
            assert!(n.sample(&mut rng) >= 0.0);
            sl += l.sample(&mut rng);
        }
        assert!((su / 20_000.0 - 15.0).abs() < 0.2, "{}", su / 20_000.0);
        assert!((sl / 20_000.0 - 40.0).abs() < 0.5, "{}", sl / 20_000.0);
        assert_eq!(Dist::fixed(3.0).sample(&mut rng), 3.0);
    }
}
