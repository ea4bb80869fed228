//! Fixed-bound HdrHistograms that merge exactly: every agent builds them from the same
//! [`HistSpec`], so the coordinator adds them bin by bin.

use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2Serializer};
use serde::{Deserialize, Serialize};

/// The bounds and precision of one metric's histogram; identical on every agent of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistSpec {
    /// Lowest discernible value (≥ 1).
    pub low: u64,
    /// Highest trackable value; larger values are clamped and counted as outliers.
    pub high: u64,
    /// Significant decimal figures kept (0–5).
    pub sigfig: u8,
}

impl HistSpec {
    /// Microsecond durations from 1 µs to 1 hour, 3 significant figures.
    pub const DURATION_US: HistSpec = HistSpec {
        low: 1,
        high: 3_600_000_000,
        sigfig: 3,
    };
    /// Token counts up to 10 million, 3 significant figures.
    pub const TOKENS: HistSpec = HistSpec {
        low: 1,
        high: 10_000_000,
        sigfig: 3,
    };
    /// Rates in milli-units per second (tok/s × 1000) up to 10⁹ tok/s, 3 significant figures.
    pub const RATE_MILLI: HistSpec = HistSpec {
        low: 1,
        high: 1_000_000_000_000,
        sigfig: 3,
    };
}

/// Errors building or decoding histograms.
#[derive(Debug, thiserror::Error)]
pub enum HistError {
    /// The spec's bounds or precision are not a valid HdrHistogram configuration.
    #[error("invalid histogram spec {spec:?}: {reason}")]
    BadSpec {
        /// The spec that was refused.
        spec: HistSpec,
        /// Why.
        reason: String,
    },
    /// Two histograms with different specs cannot be merged exactly.
    #[error("histogram specs differ: {left:?} vs {right:?}")]
    SpecMismatch {
        /// This side's spec.
        left: HistSpec,
        /// The other side's spec.
        right: HistSpec,
    },
    /// V2 bytes could not be decoded.
    #[error("undecodable histogram: {0}")]
    Decode(String),
}

/// One metric's histogram plus the values clamped at its upper bound.
#[derive(Debug, Clone)]
pub struct MetricHist {
    spec: HistSpec,
    hist: Histogram<u64>,
    high_outliers: u64,
    highest_outlier: u64,
}

impl MetricHist {
    /// An empty histogram with the given bounds.
    pub fn new(spec: HistSpec) -> Result<Self, HistError> {
        let hist = Histogram::new_with_bounds(spec.low, spec.high, spec.sigfig).map_err(|e| {
            HistError::BadSpec {
                spec,
                reason: format!("{e:?}"),
            }
        })?;
        Ok(Self {
            spec,
            hist,
            high_outliers: 0,
            highest_outlier: 0,
        })
    }

    /// The bounds this histogram was built with.
    pub fn spec(&self) -> HistSpec {
        self.spec
    }

    /// Records one value; values outside the bounds are clamped (and counted when too high).
    pub fn record(&mut self, value: u64) {
        let v = if value > self.spec.high {
            self.high_outliers += 1;
            self.highest_outlier = self.highest_outlier.max(value);
            self.spec.high
        } else {
            value
        };
        // Bounds were checked above, so recording cannot fail.
        let _ = self.hist.record(v);
    }

    /// Adds another histogram of the same spec, bin by bin.
    pub fn merge(&mut self, other: &MetricHist) -> Result<(), HistError> {
        if self.spec != other.spec {
            return Err(HistError::SpecMismatch {
                left: self.spec,
                right: other.spec,
            });
        }
        self.hist
            .add(&other.hist)
            .map_err(|e| HistError::Decode(format!("{e:?}")))?;
        self.high_outliers += other.high_outliers;
        self.highest_outlier = self.highest_outlier.max(other.highest_outlier);
        Ok(())
    }

    /// Number of recorded values.
    pub fn len(&self) -> u64 {
        self.hist.len()
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.hist.is_empty()
    }

    /// Values that exceeded the upper bound.
    pub fn high_outliers(&self) -> u64 {
        self.high_outliers
    }

    /// The largest clamped value, 0 if none.
    pub fn highest_outlier(&self) -> u64 {
        self.highest_outlier
    }

    /// Smallest recorded value (0 when empty).
    pub fn min(&self) -> u64 {
        if self.is_empty() { 0 } else { self.hist.min() }
    }

    /// Largest recorded value, the true maximum when it was an outlier (0 when empty).
    pub fn max(&self) -> u64 {
        if self.is_empty() {
            0
        } else {
            self.hist.max().max(self.highest_outlier)
        }
    }

    /// The value at percentile `p` (0–100) by nearest rank, as the midpoint of its bin, so the
    /// error is at most half a bin (0.05 % at 3 significant figures).
    pub fn percentile(&self, p: f64) -> u64 {
        if self.is_empty() {
            return 0;
        }
        if p <= 0.0 {
            return self.min();
        }
        if p >= 100.0 {
            return self.max();
        }
        let v = self.hist.value_at_quantile(p / 100.0);
        self.hist.median_equivalent(v).clamp(self.min(), self.max())
    }

    /// Encodes as HdrHistogram V2 bytes (the wire format between agents and the coordinator).
    pub fn to_v2(&self) -> Vec<u8> {
        let mut out = Vec::new();
        // Writing into a Vec cannot fail.
        let _ = V2Serializer::new().serialize(&self.hist, &mut out);
        out
    }

    /// Decodes V2 bytes produced by [`MetricHist::to_v2`] with the same spec.
    pub fn from_v2(
        spec: HistSpec,
        bytes: &[u8],
        high_outliers: u64,
        highest_outlier: u64,
    ) -> Result<Self, HistError> {
        // the hdrhistogram decoder negates a zero run unchecked: a run of 2^63 (zigzag
        // u64::MAX) overflows — a panic where overflow checks are on (debug builds, the
        // fuzzers), a wrapped skip where not. The sparse decoder checks every run, index and
        // bound, so it vets the bytes first.
        super::sparse::SparseHist::from_v2(spec, bytes, high_outliers, highest_outlier)?;
        let decoded: Histogram<u64> = Deserializer::new()
            .deserialize(&mut std::io::Cursor::new(bytes))
            .map_err(|e| HistError::Decode(format!("{e:?}")))?;
        let mut out = Self::new(spec)?;
        // `max()` is the top of the highest bin, which can lie above `high` when a value at
        // `high` (a clamped outlier) was recorded; the bin's bottom is what must not.
        let lowest_of_max = decoded.lowest_equivalent(decoded.max());
        if !decoded.is_empty() && lowest_of_max > spec.high {
            return Err(HistError::Decode(format!(
                "value {lowest_of_max} above the spec's high bound {}",
                spec.high
            )));
        }
        out.hist
            .add(&decoded)
            .map_err(|e| HistError::Decode(format!("{e:?}")))?;
        out.high_outliers = high_outliers;
        out.highest_outlier = highest_outlier;
        Ok(out)
    }

    /// Adds a sparse delta; bins are re-binned when this histogram's precision differs.
    pub fn add_sparse(&mut self, delta: &super::sparse::SparseHist) {
        for &(value, count) in &delta.bins {
            let v = value.min(self.spec.high);
            // clamped to the bound above, so recording cannot fail
            let _ = self.hist.record_n(v, count);
        }
        self.high_outliers += delta.high_outliers;
        self.highest_outlier = self.highest_outlier.max(delta.highest_outlier);
    }

    /// Clears all values, keeping the spec (used after sending an interval delta).
    pub fn reset(&mut self) {
        self.hist.reset();
        self.high_outliers = 0;
        self.highest_outlier = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_within_precision() {
        let mut h = MetricHist::new(HistSpec::DURATION_US).expect("valid spec");
        for v in 1..=10_000u64 {
            h.record(v * 100);
        }
        let p50 = h.percentile(50.0) as f64;
        assert!((p50 - 500_000.0).abs() / 500_000.0 < 0.001, "p50 {p50}");
        assert_eq!(h.min(), 100);
        assert!((h.max() as f64 - 1_000_000.0).abs() / 1e6 < 0.001);
    }

    #[test]
    fn outliers_are_clamped_and_counted() {
        let spec = HistSpec {
            low: 1,
            high: 1_000,
            sigfig: 2,
        };
        let mut h = MetricHist::new(spec).expect("valid spec");
        h.record(10);
        h.record(5_000);
        assert_eq!(h.high_outliers(), 1);
        assert_eq!(h.max(), 5_000);
        assert_eq!(h.len(), 2);
    }

    #[test]
    fn v2_roundtrip_and_merge() {
        let mut a = MetricHist::new(HistSpec::TOKENS).expect("valid spec");
        let mut b = MetricHist::new(HistSpec::TOKENS).expect("valid spec");
        (1..=100).for_each(|v| a.record(v));
        (101..=200).for_each(|v| b.record(v));
        let b2 = MetricHist::from_v2(HistSpec::TOKENS, &b.to_v2(), 0, 0).expect("decodes");
        a.merge(&b2).expect("same spec");
        assert_eq!(a.len(), 200);
        assert_eq!(a.percentile(50.0), 100);
        assert_eq!(a.max(), 200);
    }

    #[test]
    fn mismatched_specs_refuse_to_merge() {
        let mut a = MetricHist::new(HistSpec::TOKENS).expect("valid spec");
        let b = MetricHist::new(HistSpec::DURATION_US).expect("valid spec");
        assert!(matches!(a.merge(&b), Err(HistError::SpecMismatch { .. })));
    }

    #[test]
    fn garbage_bytes_are_an_error() {
        assert!(MetricHist::from_v2(HistSpec::TOKENS, b"not a histogram", 0, 0).is_err());
    }
}
