//! Load models and arrival schedules. Open-loop arrivals are offsets from the stage start on an
//! absolute timeline (offset k is the sum of k gaps, never "now + gap"), so they cannot drift.

use std::time::Duration;

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, Gamma};
use serde::{Deserialize, Serialize};

/// How open-loop inter-arrival gaps are distributed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Arrival {
    /// Evenly spaced: gap = 1/rate.
    Constant,
    /// Exponential gaps (a Poisson process), EvalScope's `--rate` default.
    Poisson,
    /// Gamma gaps with shape = burstiness and mean 1/rate (vLLM's `--burstiness`): < 1 is
    /// burstier than Poisson, > 1 more regular, 1 is Poisson.
    Gamma {
        /// The gamma shape parameter (> 0).
        burstiness: f64,
    },
}

/// How load is offered during a stage.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "model")]
pub enum LoadModel {
    /// A fixed number of virtual users, each sending its next request when the last finishes.
    Closed {
        /// Number of concurrent requests.
        concurrency: u32,
    },
    /// Requests arrive on a schedule regardless of how fast the server answers.
    Open {
        /// Mean arrival rate, requests per second.
        rate: f64,
        /// Gap distribution.
        arrival: Arrival,
        /// Optional cap on requests in flight; arrivals beyond it wait (and their send lag shows it).
        max_concurrency: Option<u32>,
    },
}

impl LoadModel {
    /// The concurrency the summary reports: the closed-loop users or the open-loop cap (0 = none).
    pub fn concurrency(&self) -> u32 {
        match self {
            LoadModel::Closed { concurrency } => *concurrency,
            LoadModel::Open {
                max_concurrency, ..
            } => max_concurrency.unwrap_or(0),
        }
    }

    /// The open-loop rate, None for closed loop.
    pub fn rate(&self) -> Option<f64> {
        match self {
            LoadModel::Closed { .. } => None,
            LoadModel::Open { rate, .. } => Some(*rate),
        }
    }
}

/// Errors in a load model's parameters.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ScheduleError {
    /// Rate must be positive and finite.
    #[error("arrival rate must be a positive number, got {0}")]
    BadRate(f64),
    /// Burstiness must be positive and finite.
    #[error("burstiness must be a positive number, got {0}")]
    BadBurstiness(f64),
}

/// An endless iterator of scheduled send offsets from the stage start.
#[derive(Debug)]
pub struct ArrivalSchedule {
    rate: f64,
    gaps: GapSource,
    elapsed_s: f64,
    index: u64,
}

#[derive(Debug)]
enum GapSource {
    Constant,
    Gamma(Gamma<f64>, Box<StdRng>),
}

impl ArrivalSchedule {
    /// A schedule at `rate` req/s; the first arrival is at offset 0. Seeded, so reproducible.
    pub fn new(rate: f64, arrival: Arrival, seed: u64) -> Result<Self, ScheduleError> {
        if !(rate.is_finite() && rate > 0.0) {
            return Err(ScheduleError::BadRate(rate));
        }
        let shape = match arrival {
            Arrival::Constant => None,
            Arrival::Poisson => Some(1.0),
            Arrival::Gamma { burstiness } => Some(burstiness),
        };
        let gaps = match shape {
            None => GapSource::Constant,
            Some(k) => {
                let g =
                    Gamma::new(k, 1.0 / (rate * k)).map_err(|_| ScheduleError::BadBurstiness(k))?;
                if !(k.is_finite() && k > 0.0) {
                    return Err(ScheduleError::BadBurstiness(k));
                }
                GapSource::Gamma(g, Box::new(StdRng::seed_from_u64(seed)))
            }
        };
        Ok(Self {
            rate,
            gaps,
            elapsed_s: 0.0,
            index: 0,
        })
    }
}

impl Iterator for ArrivalSchedule {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let at = match &mut self.gaps {
            // k / rate, computed from the index so rounding never accumulates
            GapSource::Constant => self.index as f64 / self.rate,
            GapSource::Gamma(g, rng) => {
                let at = self.elapsed_s;
                self.elapsed_s += g.sample(rng.as_mut());
                at
            }
        };
        self.index += 1;
        Some(Duration::from_secs_f64(at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_rate_is_exact() {
        let s: Vec<_> = ArrivalSchedule::new(4.0, Arrival::Constant, 0)
            .expect("valid")
            .take(5)
            .collect();
        assert_eq!(
            s,
            vec![0.0, 0.25, 0.5, 0.75, 1.0]
                .into_iter()
                .map(Duration::from_secs_f64)
                .collect::<Vec<_>>()
        );
        let far = ArrivalSchedule::new(3.0, Arrival::Constant, 0)
            .expect("valid")
            .nth(300_000);
        assert_eq!(far, Some(Duration::from_secs(100_000)));
    }

    #[test]
    fn poisson_mean_gap_matches_rate_and_is_seeded() {
        let a: Vec<_> = ArrivalSchedule::new(100.0, Arrival::Poisson, 7)
            .expect("valid")
            .take(20_001)
            .collect();
        let b: Vec<_> = ArrivalSchedule::new(100.0, Arrival::Poisson, 7)
            .expect("valid")
            .take(20_001)
            .collect();
        assert_eq!(a, b);
        let mean = a[20_000].as_secs_f64() / 20_000.0;
        assert!((mean - 0.01).abs() < 0.0005, "mean gap {mean}");
        let c: Vec<_> = ArrivalSchedule::new(100.0, Arrival::Poisson, 8)
            .expect("valid")
            .take(10)
            .collect();
        assert_ne!(a[..10], c[..]);
    }

    #[test]
    fn burstiness_changes_the_spread_not_the_mean() {
        let cv = |k: f64| {
            let t: Vec<f64> = ArrivalSchedule::new(50.0, Arrival::Gamma { burstiness: k }, 1)
                .expect("valid")
                .take(20_001)
                .map(|d| d.as_secs_f64())
                .collect();
            let gaps: Vec<f64> = t.windows(2).map(|w| w[1] - w[0]).collect();
            let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
            let var = gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / gaps.len() as f64;
            assert!((mean - 0.02).abs() < 0.002, "mean {mean} for k={k}");
            var.sqrt() / mean
        };
        let bursty = cv(0.25);
        let regular = cv(4.0);
        assert!(
            bursty > 1.7 && regular < 0.6,
            "cv bursty {bursty} regular {regular}"
        );
    }

    #[test]
    fn bad_parameters_are_refused() {
        assert_eq!(
            ArrivalSchedule::new(0.0, Arrival::Poisson, 0).err(),
            Some(ScheduleError::BadRate(0.0))
        );
        assert!(ArrivalSchedule::new(1.0, Arrival::Gamma { burstiness: -1.0 }, 0).is_err());
        assert!(ArrivalSchedule::new(f64::NAN, Arrival::Constant, 0).is_err());
    }
}
