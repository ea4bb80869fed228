//! Distributions from a stage's saved HdrHistograms (`histograms/<metric>.hdr`, V2): the value
//! at each of a fixed set of percentiles, in display units.

use std::path::Path;

use hdrhistogram::Histogram;
use hdrhistogram::serialization::Deserializer;

/// One metric's distribution.
#[derive(Debug, Clone, PartialEq)]
pub struct Cdf {
    /// The metric's file name (`ttft`, `itl`, `latency`).
    pub metric: String,
    /// Display unit (`ms`, `s`).
    pub unit: &'static str,
    /// Values recorded.
    pub count: u64,
    /// (value in `unit`, percentile 0–100), increasing.
    pub points: Vec<(f64, f64)>,
}

/// The metrics a report draws, with their divisor to display units.
pub const DRAWN: [(&str, &str, f64); 4] = [
    ("ttft", "ms", 1e3),
    ("itl", "ms", 1e3),
    ("tpot", "ms", 1e3),
    ("latency", "s", 1e6),
];

/// The percentiles sampled.
fn quantiles() -> Vec<f64> {
    let mut q: Vec<f64> = (0..=98).map(f64::from).collect();
    q.extend([99.0, 99.5, 99.9, 100.0]);
    q
}

/// The CDF of one V2-encoded histogram; None when it cannot be decoded or is empty.
pub fn cdf_of(metric: &str, unit: &'static str, div: f64, bytes: &[u8]) -> Option<Cdf> {
    let h: Histogram<u64> = Deserializer::new()
        .deserialize(&mut std::io::Cursor::new(bytes))
        .ok()?;
    if h.is_empty() {
        return None;
    }
    let points = quantiles()
        .into_iter()
        .map(|p| {
            let v = h.median_equivalent(h.value_at_quantile(p / 100.0));
            (v.clamp(h.min(), h.max()) as f64 / div, p)
        })
        .collect();
    Some(Cdf {
        metric: metric.to_string(),
        unit,
        count: h.len(),
        points,
    })
}

/// The CDFs of [`DRAWN`] found in `dir` (missing or unreadable files are left out).
pub fn read_cdfs(dir: &Path) -> Vec<Cdf> {
    DRAWN
        .iter()
        .filter_map(|(m, unit, div)| {
            let bytes = std::fs::read(dir.join(format!("{m}.hdr"))).ok()?;
            cdf_of(m, unit, *div, &bytes)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use swarm_common::metrics::histogram::{HistSpec, MetricHist};

    #[test]
    fn reads_back_what_a_stage_saved() {
        let mut h = MetricHist::new(HistSpec::DURATION_US).expect("spec");
        for v in 1..=1000u64 {
            h.record(v * 1000); // 1..1000 ms
        }
        let cdf = cdf_of("ttft", "ms", 1e3, &h.to_v2()).expect("decodes");
        assert_eq!(cdf.count, 1000);
        let at = |p: f64| {
            cdf.points
                .iter()
                .find(|x| x.1 == p)
                .map(|x| x.0)
                .expect("sampled")
        };
        assert!((at(50.0) - 500.0).abs() < 5.0, "{}", at(50.0));
        assert!((at(99.0) - 990.0).abs() < 10.0, "{}", at(99.0));
        assert!(cdf.points.windows(2).all(|w| w[0].0 <= w[1].0));
        assert!(cdf_of("x", "ms", 1.0, b"junk").is_none());
    }
}
