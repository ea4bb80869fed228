//! Load models and arrival schedules. Open-loop arrivals are offsets from the stage start on an
//! absolute timeline (offset k is the sum of k gaps, never "now + gap"), so they cannot drift.

use std::time::Duration;

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, Gamma};
use serde::{Deserialize, Serialize};

use crate::ramp::Ramp;

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
    /// The ramp is unusable (see [`crate::ramp::Ramp::check`]).
    #[error("the ramp is not usable: check its from, to, over_s and strategy")]
    BadRamp,
}

/// An endless iterator of scheduled send offsets from the stage start.
#[derive(Debug)]
pub struct ArrivalSchedule {
    rate: f64,
    gaps: GapSource,
    elapsed_s: f64,
    index: u64,
    ramp: Option<RampClock>,
}

/// A ramped schedule's clock: gaps are drawn with mean 1 and scaled by the ramp.
#[derive(Debug)]
enum RampClock {
    /// Operational time `u` (sum of unit gaps) mapped through Λ⁻¹ on the stage's clock.
    Seconds {
        ramp: Ramp,
        fraction: f64,
        offset_s: f64,
        base: f64,
        u: f64,
    },
    /// vLLM's: gap `i` drawn at the rate of progress `i / max(n − 1, 1)`.
    Requests { ramp: Ramp, fraction: f64, n: u64 },
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
            ramp: None,
        })
    }

    /// A shard's arrivals under a ramp: `fraction` of the stage's ramped rate, gaps of the
    /// stage's `arrival` process drawn with mean 1 and run through the ramp's clock (see
    /// [`crate::ramp`]). The seconds clock starts `offset_s` into the stage; the request clock
    /// runs over `number` requests. The first arrival comes one gap after the start, as in
    /// vLLM (with Poisson gaps on the seconds clock that is a nonhomogeneous Poisson process).
    pub fn ramped(
        ramp: Ramp,
        fraction: f64,
        offset_s: f64,
        number: Option<u64>,
        arrival: Arrival,
        seed: u64,
    ) -> Result<Self, ScheduleError> {
        if !(fraction.is_finite() && fraction > 0.0) {
            return Err(ScheduleError::BadRate(fraction));
        }
        if ramp.check().is_err() {
            return Err(ScheduleError::BadRamp);
        }
        let mut s = Self::new(1.0, arrival, seed)?;
        s.ramp = Some(match (ramp.over_s, number) {
            (Some(_), _) => RampClock::Seconds {
                ramp,
                fraction,
                offset_s,
                base: ramp.integral(offset_s),
                u: 0.0,
            },
            (None, Some(n)) => RampClock::Requests { ramp, fraction, n },
            (None, None) => return Err(ScheduleError::BadRamp),
        });
        Ok(s)
    }

    fn next_ramped(&mut self) -> Option<f64> {
        let g = match &mut self.gaps {
            GapSource::Constant => 1.0,
            GapSource::Gamma(g, rng) => g.sample(rng.as_mut()),
        };
        let i = self.index;
        match self.ramp.as_mut()? {
            RampClock::Seconds {
                ramp,
                fraction,
                offset_s,
                base,
                u,
            } => {
                *u += g;
                let at = ramp.inverse_integral(*base + *u / *fraction)?;
                Some(at - *offset_s)
            }
            RampClock::Requests { ramp, fraction, n } => {
                let p = i as f64 / (n.saturating_sub(1)).max(1) as f64;
                let rate = ramp.at_progress(p) * *fraction;
                if rate.is_nan() || rate <= 0.0 {
                    return None;
                }
                self.elapsed_s += g / rate;
                Some(self.elapsed_s)
            }
        }
    }
}

impl Iterator for ArrivalSchedule {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        if self.ramp.is_some() {
            let at = self.next_ramped()?;
            self.index += 1;
            return Duration::try_from_secs_f64(at.max(0.0)).ok();
        }
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

    fn linear(from: f64, to: f64, over_s: Option<f64>) -> Ramp {
        Ramp {
            from,
            to,
            over_s,
            strategy: crate::ramp::RampStrategy::Linear,
        }
    }

    /// Arrivals per whole second of the first `secs` seconds.
    fn per_second(s: ArrivalSchedule, secs: usize) -> Vec<u64> {
        let mut out = vec![0u64; secs];
        for at in s {
            let k = at.as_secs_f64() as usize;
            if k >= secs {
                break;
            }
            out[k] += 1;
        }
        out
    }

    #[test]
    fn a_poisson_ramp_matches_the_integrated_rate_per_second() {
        // 10 → 50 req/s over 4 s: expected ∫ over second k = 15, 25, 35, 45 (then 50)
        let ramp = linear(10.0, 50.0, Some(4.0));
        let runs = 40u64;
        let mut sum = [0u64; 5];
        for seed in 0..runs {
            let s = ArrivalSchedule::ramped(ramp, 1.0, 0.0, None, Arrival::Poisson, seed)
                .expect("valid");
            for (k, n) in per_second(s, 5).into_iter().enumerate() {
                sum[k] += n;
            }
        }
        for (k, want) in [15.0, 25.0, 35.0, 45.0, 50.0].into_iter().enumerate() {
            let mean = want * runs as f64;
            // Poisson counts: variance = mean; 4 standard deviations
            let bound = 4.0 * mean.sqrt();
            let got = sum[k] as f64;
            assert!(
                (got - mean).abs() < bound,
                "second {k}: {got} vs {mean} ± {bound}"
            );
        }
        // seeded: the same seed gives the same arrivals
        let a: Vec<_> = ArrivalSchedule::ramped(ramp, 0.5, 0.0, None, Arrival::Poisson, 9)
            .expect("valid")
            .take(50)
            .collect();
        let b: Vec<_> = ArrivalSchedule::ramped(ramp, 0.5, 0.0, None, Arrival::Poisson, 9)
            .expect("valid")
            .take(50)
            .collect();
        assert_eq!(a, b);
    }

    #[test]
    fn a_constant_ramp_puts_arrival_k_where_k_are_expected() {
        // 0 → 10 over 4 s: Λ(t) = 1.25 t², arrival k (from 1) at √(k / 1.25)
        let ramp = linear(0.0, 10.0, Some(4.0));
        let s: Vec<f64> = ArrivalSchedule::ramped(ramp, 1.0, 0.0, None, Arrival::Constant, 0)
            .expect("valid")
            .take(30)
            .map(|d| d.as_secs_f64())
            .collect();
        for (i, at) in s.iter().enumerate() {
            let k = (i + 1) as f64;
            let want = if k <= 20.0 {
                (k / 1.25).sqrt()
            } else {
                4.0 + (k - 20.0) / 10.0
            };
            assert!((at - want).abs() < 1e-6, "arrival {k}: {at} vs {want}");
        }
        // half the fraction: every other arrival of the whole
        let half: Vec<f64> = ArrivalSchedule::ramped(ramp, 0.5, 0.0, None, Arrival::Constant, 0)
            .expect("valid")
            .take(10)
            .map(|d| d.as_secs_f64())
            .collect();
        for (j, at) in half.iter().enumerate() {
            assert!((at - s[2 * j + 1]).abs() < 1e-6);
        }
        // a shard that starts 2 s into the stage carries on from there
        let late: Vec<f64> = ArrivalSchedule::ramped(ramp, 1.0, 2.0, None, Arrival::Constant, 0)
            .expect("valid")
            .take(1)
            .map(|d| d.as_secs_f64())
            .collect();
        assert!((late[0] - ((6.0f64 / 1.25).sqrt() - 2.0)).abs() < 1e-6);
        // a ramp down to 0 ends: 4 → 0 over 2 s expects 4 arrivals in all
        let down = ArrivalSchedule::ramped(
            linear(4.0, 0.0, Some(2.0)),
            1.0,
            0.0,
            None,
            Arrival::Constant,
            0,
        )
        .expect("valid");
        assert_eq!(down.count(), 4);
    }

    #[test]
    fn vllm_ramp_paces_request_i_at_progress_i_over_n_minus_1() {
        // vLLM: rate_i = 1 + 9·i/99 over 100 requests; request i sent after Σ_{j≤i} 1/rate_j
        let ramp = linear(1.0, 10.0, None);
        let s: Vec<f64> = ArrivalSchedule::ramped(ramp, 1.0, 0.0, Some(100), Arrival::Constant, 0)
            .expect("valid")
            .take(101)
            .map(|d| d.as_secs_f64())
            .collect();
        let mut at = 0.0;
        for (i, got) in s.iter().enumerate().take(100) {
            at += 1.0 / (1.0 + 9.0 * i as f64 / 99.0);
            assert!((got - at).abs() < 1e-9, "request {i}: {got} vs {at}");
        }
        // past the count the rate holds at `to`
        assert!((s[100] - s[99] - 0.1).abs() < 1e-9);
        assert_eq!(
            ArrivalSchedule::ramped(ramp, 1.0, 0.0, None, Arrival::Constant, 0).err(),
            Some(ScheduleError::BadRamp),
            "the request clock needs a count"
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
