//! Throughput and concurrency over time: the stage loop samples the merged counters about once
//! a second; the stage writes the per-interval rates as `timeseries.json`. Bounded: past
//! [`MAX_POINTS`] samples every other one is dropped and the interval doubles.

use std::path::Path;

use serde::{Deserialize, Serialize};
use swarm_common::metrics::aggregate::Counters;

use crate::stage_files::{WriteError, write_json};

/// The most samples kept per stage.
pub const MAX_POINTS: usize = 2048;

/// One interval of a stage, as `timeseries.json` holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimePoint {
    /// Seconds since the stage began, at the end of the interval.
    pub t_s: f64,
    /// Requests finished per second in the interval.
    pub requests_per_s: f64,
    /// Failed requests per second.
    pub failed_per_s: f64,
    /// Completion tokens per second.
    pub output_tok_per_s: f64,
    /// Requests in flight on average (Little's law: request-seconds completed per second).
    pub concurrency: f64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Sample {
    t_s: f64,
    total: u64,
    failed: u64,
    tokens: u64,
    latency_us: u64,
}

/// Cumulative samples of one stage's counters.
#[derive(Debug, Clone)]
pub struct TimeSeries {
    every_s: f64,
    samples: Vec<Sample>,
}

impl Default for TimeSeries {
    fn default() -> Self {
        Self {
            every_s: 1.0,
            samples: vec![Sample::default()],
        }
    }
}

impl TimeSeries {
    /// Records the counters at `t_s` seconds if an interval has passed since the last sample.
    pub fn sample(&mut self, t_s: f64, c: &Counters) {
        let last = self.samples.last().map(|s| s.t_s).unwrap_or(0.0);
        if t_s - last < self.every_s {
            return;
        }
        self.samples.push(Sample {
            t_s,
            total: c.total,
            failed: c.failed,
            tokens: c.completion_tokens,
            latency_us: c.sum_latency_us,
        });
        if self.samples.len() > MAX_POINTS {
            let kept: Vec<Sample> = self.samples.iter().step_by(2).copied().collect();
            self.samples = kept;
            self.every_s *= 2.0;
        }
    }

    /// Per-interval rates between consecutive samples.
    pub fn points(&self) -> Vec<TimePoint> {
        self.samples
            .windows(2)
            .filter_map(|w| {
                let (a, b) = (w[0], w[1]);
                let dt = b.t_s - a.t_s;
                (dt > 0.0).then(|| TimePoint {
                    t_s: (b.t_s * 1000.0).round() / 1000.0,
                    requests_per_s: b.total.saturating_sub(a.total) as f64 / dt,
                    failed_per_s: b.failed.saturating_sub(a.failed) as f64 / dt,
                    output_tok_per_s: b.tokens.saturating_sub(a.tokens) as f64 / dt,
                    concurrency: b.latency_us.saturating_sub(a.latency_us) as f64 / 1e6 / dt,
                })
            })
            .collect()
    }

    /// Takes a last sample at `t_s` and writes `timeseries.json` into `dir`.
    pub fn write(&mut self, dir: &Path, t_s: f64, c: &Counters) -> Result<(), WriteError> {
        self.finish(t_s, c);
        write_json(&dir.join("timeseries.json"), &self.points())
    }

    /// Takes the last sample at `t_s`. One that comes soon after the previous periodic sample
    /// replaces it (that interval is extended) rather than making a sliver of an interval whose
    /// rate would be a few requests over a millisecond, wrong by the rounding of its times.
    fn finish(&mut self, t_s: f64, c: &Counters) {
        let Some(last) = self.samples.last().copied() else {
            return;
        };
        if t_s <= last.t_s {
            return;
        }
        let sample = Sample {
            t_s,
            total: c.total,
            failed: c.failed,
            tokens: c.completion_tokens,
            latency_us: c.sum_latency_us,
        };
        let n = self.samples.len();
        if n >= 2 && t_s - last.t_s < self.every_s / 4.0 {
            self.samples[n - 1] = sample;
        } else {
            self.samples.push(sample);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counters(total: u64, failed: u64, tokens: u64, latency_us: u64) -> Counters {
        Counters {
            total,
            failed,
            completion_tokens: tokens,
            sum_latency_us: latency_us,
            ..Default::default()
        }
    }

    #[test]
    fn rates_per_interval_and_littles_law() {
        let mut ts = TimeSeries::default();
        ts.sample(0.5, &counters(1, 0, 1, 1)); // under a second: ignored
        ts.sample(1.0, &counters(10, 1, 100, 2_000_000));
        ts.sample(3.0, &counters(30, 1, 300, 10_000_000));
        let p = ts.points();
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].requests_per_s, 10.0);
        assert_eq!(p[0].failed_per_s, 1.0);
        assert_eq!(p[0].concurrency, 2.0);
        assert_eq!(p[1].requests_per_s, 10.0);
        assert_eq!(p[1].output_tok_per_s, 100.0);
        assert_eq!(p[1].concurrency, 4.0);
    }

    #[test]
    fn stays_bounded() {
        let mut ts = TimeSeries::default();
        for i in 1..=(MAX_POINTS as u64 * 3) {
            ts.sample(i as f64, &counters(i, 0, i, i));
        }
        assert!(ts.points().len() <= MAX_POINTS, "{}", ts.points().len());
        let total: f64 = ts
            .points()
            .windows(2)
            .map(|w| w[1].t_s - w[0].t_s)
            .fold(0.0, f64::max);
        assert!(total >= 2.0, "the interval grew");
    }

    #[test]
    fn a_last_sample_right_after_a_periodic_one_extends_its_interval() {
        let mut ts = TimeSeries::default();
        ts.sample(1.0, &counters(10, 0, 0, 0));
        ts.sample(2.0004, &counters(20, 0, 0, 0));
        ts.finish(2.0009, &counters(21, 0, 0, 0));
        let p = ts.points();
        assert_eq!(p.len(), 2);
        assert_eq!(p[1].t_s, 2.001);
        assert!((p[1].requests_per_s - 11.0 / 1.0009).abs() < 1e-9);
        // the points account for every request
        let mut t0 = 0.0;
        let n: f64 = p
            .iter()
            .map(|q| {
                let r = q.requests_per_s * (q.t_s - t0);
                t0 = q.t_s;
                r
            })
            .sum();
        assert!((n - 21.0).abs() < 0.01, "{n}");
        // a last sample well after the periodic one is an interval of its own
        ts.finish(3.5, &counters(30, 0, 0, 0));
        assert_eq!(ts.points().len(), 3);
    }
}
