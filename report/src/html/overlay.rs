//! Several distributions of one metric on one chart: runs compared, or a stage's regions.

use super::chart::{Axes, Series, line_chart};
use crate::cdf::Cdf;

/// The CDFs of `metric` (`ttft`, `latency`: a histogram's file name) of each named side on one
/// chart titled `title`; `None` when fewer than `min_sides` sides have it.
pub fn cdf_overlay(
    title: &str,
    metric: &str,
    sides: &[(&str, &[Cdf])],
    min_sides: usize,
) -> Option<String> {
    let found: Vec<(&str, &Cdf)> = sides
        .iter()
        .filter_map(|(name, cdfs)| cdfs.iter().find(|c| c.metric == metric).map(|c| (*name, c)))
        .collect();
    let unit = found.first()?.1.unit;
    if found.len() < min_sides.max(1) {
        return None;
    }
    let series: Vec<Series> = found
        .iter()
        .map(|(name, c)| Series {
            name: (*name).to_owned(),
            points: c.points.clone(),
        })
        .collect();
    Some(line_chart(&Axes::new(title, unit, "percentile"), &series))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cdf(metric: &str, max: f64) -> Cdf {
        Cdf {
            metric: metric.into(),
            unit: "ms",
            count: 2,
            points: vec![(1.0, 0.0), (max, 100.0)],
        }
    }

    #[test]
    fn one_line_per_side_that_has_the_metric() {
        let a = [cdf("ttft", 5.0), cdf("latency", 9.0)];
        let b = [cdf("ttft", 7.0)];
        let sides: [(&str, &[Cdf]); 2] = [("eu", &a), ("us", &b)];
        let svg = cdf_overlay("ttft", "ttft", &sides, 2).expect("both have ttft");
        assert!(svg.contains("data-series=\"eu\"") && svg.contains("data-series=\"us\""));
        assert!(svg.contains("<title>us: 7 → 100</title>"), "{svg}");
        assert!(
            cdf_overlay("latency", "latency", &sides, 2).is_none(),
            "only eu has it"
        );
        assert!(cdf_overlay("latency", "latency", &sides, 1).is_some());
        assert!(cdf_overlay("itl", "itl", &sides, 1).is_none());
    }
}
