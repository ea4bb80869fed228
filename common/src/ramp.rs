//! Ramps inside a stage: an arrival rate (open loop) or a number of users (closed loop) that
//! goes from `from` to `to`, linearly or exponentially, and the exact split of a ramp across
//! agents.
//!
//! Two clocks, as the two tools this follows define them:
//! - over seconds (`over_s`, plans; k6's ramping stages): the value at `t` seconds from the
//!   stage start is `from + (to − from)·t/over_s` (linear) or `from·(to/from)^(t/over_s)`
//!   (exponential), held at `to` after `over_s`;
//! - over requests (vLLM's `--ramp-up-strategy`, `over_s` left out on an open-loop stage with a
//!   request count): request `i` of `N` is paced at the rate of progress `i / max(N − 1, 1)`, its
//!   gap drawn at that rate (vLLM's `get_request`).
//!
//! Open-loop arrivals on the seconds clock are the stage's arrival process run in operational
//! time and mapped through the inverse of the integrated rate Λ (time rescaling): with Poisson
//! gaps that is exactly a nonhomogeneous Poisson process of intensity λ(t); constant gaps put
//! arrival k at Λ⁻¹(k); gamma gaps are a gamma renewal process in operational time.

use serde::{Deserialize, Serialize};

use crate::split::largest_remainder;

/// How a ramp moves from `from` to `to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RampStrategy {
    /// A straight line.
    #[default]
    Linear,
    /// A constant ratio per unit of progress (needs `from` and `to` above 0).
    Exponential,
}

/// A ramp of a stage's whole load.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Ramp {
    /// Value at the start (req/s, or users).
    pub from: f64,
    /// Value at the end, held afterwards.
    pub to: f64,
    /// Seconds the ramp lasts; None: over the shard's request count (vLLM, open loop only).
    #[serde(default)]
    pub over_s: Option<f64>,
    /// Linear (default) or exponential.
    #[serde(default)]
    pub strategy: RampStrategy,
}

/// One level of a split: this shard's part is share `index` of a quantity split by `weights`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RampShare {
    /// Capacities of the agents the level was split over.
    pub weights: Vec<u64>,
    /// This shard's position among them.
    pub index: usize,
}

/// A shard's part of a stage's ramp: the stage's ramp, the split levels that lead to this shard
/// (the stage's split, then re-assignments of a lost agent's part), and where on the stage's
/// clock the shard starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardRamp {
    /// The whole stage's ramp.
    pub ramp: Ramp,
    /// Split levels, outermost first (empty: the shard is the whole stage).
    #[serde(default)]
    pub shares: Vec<RampShare>,
    /// Seconds of the stage's clock already gone when the shard starts (re-assigned shards).
    #[serde(default)]
    pub offset_s: f64,
}

impl Ramp {
    /// Why the ramp is unusable, naming the field (`from`, `to`, `over_s`, `strategy`).
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        for (field, v) in [("from", self.from), ("to", self.to)] {
            if !(v.is_finite() && v >= 0.0) {
                return Err((field, format!("must be a number at least 0, got {v}")));
            }
        }
        if self.from == 0.0 && self.to == 0.0 {
            return Err((
                "to",
                "from and to are both 0: the ramp offers no load".into(),
            ));
        }
        if let Some(s) = self.over_s
            && !(s.is_finite() && s > 0.0)
        {
            return Err((
                "over_s",
                format!("must be a positive number of seconds, got {s}"),
            ));
        }
        if self.strategy == RampStrategy::Exponential && (self.from <= 0.0 || self.to <= 0.0) {
            return Err((
                "strategy",
                "exponential needs from and to above 0 (as vLLM: the start cannot be 0)".into(),
            ));
        }
        if self.over_s.is_none() && self.from <= 0.0 {
            return Err((
                "from",
                "a ramp over the request count paces its first request at `from`, which must \
                 be above 0 (as vLLM); give over_s to start from 0"
                    .into(),
            ));
        }
        Ok(())
    }

    /// The value at progress `p` in [0, 1] (clamped).
    pub fn at_progress(&self, p: f64) -> f64 {
        let p = if p.is_nan() { 0.0 } else { p.clamp(0.0, 1.0) };
        match self.strategy {
            RampStrategy::Linear => self.from + (self.to - self.from) * p,
            RampStrategy::Exponential => self.from * (self.to / self.from).powf(p),
        }
    }

    /// The value `t` seconds into the stage (seconds clock; `to` when there is no `over_s`).
    pub fn at(&self, t: f64) -> f64 {
        match self.over_s {
            Some(over) => self.at_progress(t / over),
            None => self.to,
        }
    }

    /// The larger end.
    pub fn peak(&self) -> f64 {
        self.from.max(self.to)
    }

    /// ∫₀ᵗ λ: the expected arrivals by `t` of a rate ramp on the seconds clock.
    pub fn integral(&self, t: f64) -> f64 {
        let Some(over) = self.over_s else {
            return self.to * t.max(0.0);
        };
        let t = t.max(0.0);
        let within = t.min(over);
        let part = match self.strategy {
            RampStrategy::Linear => {
                self.from * within + (self.to - self.from) * within * within / (2.0 * over)
            }
            RampStrategy::Exponential => {
                let k = (self.to / self.from).ln() / over;
                if k.abs() < 1e-12 {
                    self.from * within
                } else {
                    self.from * (k * within).exp_m1() / k
                }
            }
        };
        part + self.to * (t - within)
    }

    /// The instant by which `u` arrivals are expected (Λ⁻¹(u)); None when the rate has dropped
    /// to 0 for good before that.
    pub fn inverse_integral(&self, u: f64) -> Option<f64> {
        if u.is_nan() {
            return None;
        }
        if u <= 0.0 {
            return Some(0.0);
        }
        let Some(over) = self.over_s else {
            return (self.to > 0.0).then(|| u / self.to);
        };
        let whole = self.integral(over);
        if u > whole {
            return (self.to > 0.0).then(|| over + (u - whole) / self.to);
        }
        let t = match self.strategy {
            RampStrategy::Linear => {
                // from·t + a·t² = u, in the form that is stable for a → 0 and a < 0
                let a = (self.to - self.from) / (2.0 * over);
                let disc = (self.from * self.from + 4.0 * a * u).max(0.0);
                let den = self.from + disc.sqrt();
                if den <= 0.0 { 0.0 } else { 2.0 * u / den }
            }
            RampStrategy::Exponential => {
                let k = (self.to / self.from).ln() / over;
                if k.abs() < 1e-12 {
                    u / self.from
                } else {
                    (k * u / self.from).ln_1p() / k
                }
            }
        };
        Some(t.clamp(0.0, over))
    }

    /// The whole stage's users at `t` seconds: the ramp's value rounded to the nearest integer.
    pub fn users_at(&self, t: f64) -> u64 {
        let v = self.at(t).round();
        if v.is_finite() && v > 0.0 {
            v as u64
        } else {
            0
        }
    }
}

impl ShardRamp {
    /// A shard that is the whole stage.
    pub fn whole(ramp: Ramp) -> Self {
        Self {
            ramp,
            shares: Vec::new(),
            offset_s: 0.0,
        }
    }

    /// This ramp one split level further down: share `index` of `weights`.
    pub fn split(&self, weights: &[u64], index: usize) -> Self {
        let mut out = self.clone();
        out.shares.push(RampShare {
            weights: weights.to_vec(),
            index,
        });
        out
    }

    /// The fraction of the stage's rate this shard offers (product of w/Σw over the levels).
    pub fn fraction(&self) -> f64 {
        self.shares
            .iter()
            .map(|s| {
                let sum: f64 = s.weights.iter().map(|w| *w as f64).sum();
                let w = s.weights.get(s.index).copied().unwrap_or(0) as f64;
                if sum > 0.0 { w / sum } else { 0.0 }
            })
            .product()
    }

    /// This shard's users `t` seconds after its own start: the stage's users at that instant,
    /// split level by level by largest remainder, so the shards' users add up exactly to the
    /// stage's at every instant.
    pub fn users_at(&self, t: f64) -> u64 {
        let mut q = self.ramp.users_at(self.offset_s + t);
        for s in &self.shares {
            q = largest_remainder(q, &s.weights)
                .get(s.index)
                .copied()
                .unwrap_or(0);
        }
        q
    }

    /// The most users this shard can have at once (for sizing), at least 1.
    pub fn peak_users(&self) -> u64 {
        let top = self.ramp.peak().round().max(1.0) as u64;
        let mut best = 0;
        // the split of every total up to the peak (Hamilton's method is not monotone)
        for total in 0..=top.min(100_000) {
            let mut q = total;
            for s in &self.shares {
                q = largest_remainder(q, &s.weights)
                    .get(s.index)
                    .copied()
                    .unwrap_or(0);
            }
            best = best.max(q);
        }
        best.max(1)
    }

    /// Why the shard's ramp is unusable.
    pub fn check(&self) -> Result<(), String> {
        self.ramp
            .check()
            .map_err(|(f, m)| format!("ramp.{f} {m}"))?;
        if !(self.offset_s.is_finite() && self.offset_s >= 0.0) {
            return Err(format!(
                "ramp.offset_s must be at least 0, got {}",
                self.offset_s
            ));
        }
        for s in &self.shares {
            if s.index >= s.weights.len() {
                return Err(format!(
                    "ramp share {} of {} weights",
                    s.index,
                    s.weights.len()
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lin(from: f64, to: f64, over: f64) -> Ramp {
        Ramp {
            from,
            to,
            over_s: Some(over),
            strategy: RampStrategy::Linear,
        }
    }

    #[test]
    fn linear_and_exponential_values() {
        let r = lin(2.0, 10.0, 4.0);
        assert_eq!(r.at(0.0), 2.0);
        assert_eq!(r.at(1.0), 4.0);
        assert_eq!(r.at(2.0), 6.0);
        assert_eq!(r.at(4.0), 10.0);
        assert_eq!(r.at(9.0), 10.0, "held after over_s");
        let e = Ramp {
            strategy: RampStrategy::Exponential,
            ..lin(1.0, 16.0, 4.0)
        };
        for (t, want) in [(0.0, 1.0), (1.0, 2.0), (2.0, 4.0), (3.0, 8.0), (4.0, 16.0)] {
            assert!((e.at(t) - want).abs() < 1e-9, "at {t}: {}", e.at(t));
        }
        // vLLM's progress i/(N-1): the last request is paced at `to`
        assert!((e.at_progress(0.5) - 4.0).abs() < 1e-12);
    }

    #[test]
    fn integral_and_its_inverse_agree() {
        let r = lin(0.0, 10.0, 4.0);
        // ∫₀⁴ 2.5 t dt = 20; one more second at 10
        assert!((r.integral(4.0) - 20.0).abs() < 1e-9);
        assert!((r.integral(5.0) - 30.0).abs() < 1e-9);
        assert!((r.integral(2.0) - 5.0).abs() < 1e-9);
        let down = lin(10.0, 2.0, 4.0);
        let e = Ramp {
            strategy: RampStrategy::Exponential,
            ..lin(1.0, 16.0, 4.0)
        };
        let flat = lin(3.0, 3.0, 2.0);
        for ramp in [r, down, e, flat] {
            for i in 0..200 {
                let t = f64::from(i) * 0.03;
                let u = ramp.integral(t);
                let back = ramp.inverse_integral(u).expect("rate above 0");
                assert!((back - t).abs() < 1e-6, "{ramp:?}: t {t} u {u} back {back}");
            }
        }
        // a ramp down to 0 runs out of arrivals
        let to_zero = lin(4.0, 0.0, 2.0);
        assert!((to_zero.integral(2.0) - 4.0).abs() < 1e-9);
        assert!(to_zero.inverse_integral(3.9).is_some());
        assert_eq!(to_zero.inverse_integral(4.1), None);
    }

    #[test]
    fn rate_split_adds_up_at_every_instant() {
        let stage = ShardRamp::whole(lin(1.0, 40.0, 10.0));
        let weights = [3, 1, 2];
        let parts: Vec<ShardRamp> = (0..3).map(|i| stage.split(&weights, i)).collect();
        for i in 0..=20 {
            let t = f64::from(i) * 0.5;
            let sum: f64 = parts.iter().map(|p| p.ramp.at(t) * p.fraction()).sum();
            assert!((sum - stage.ramp.at(t)).abs() < 1e-9, "t {t}: {sum}");
        }
        assert!((parts[0].fraction() - 0.5).abs() < 1e-12);
    }

    #[test]
    fn users_split_is_exact_at_every_instant() {
        let stage = ShardRamp::whole(lin(0.0, 7.0, 7.0));
        let weights = [1, 1, 1];
        let parts: Vec<ShardRamp> = (0..3).map(|i| stage.split(&weights, i)).collect();
        // a lost agent's part re-split over two survivors
        let lost = &parts[2];
        let moved: Vec<ShardRamp> = (0..2).map(|i| lost.split(&[2, 1], i)).collect();
        for i in 0..=160 {
            let t = f64::from(i) * 0.05;
            let total = stage.ramp.users_at(t);
            assert_eq!(total, (stage.ramp.at(t)).round() as u64);
            let sum: u64 = parts.iter().map(|p| p.users_at(t)).sum();
            assert_eq!(sum, total, "t {t}");
            let resplit: u64 = moved.iter().map(|p| p.users_at(t)).sum();
            assert_eq!(resplit, parts[2].users_at(t), "t {t}");
        }
        assert_eq!(stage.ramp.users_at(0.0), 0);
        assert_eq!(stage.ramp.users_at(3.4), 3);
        assert_eq!(stage.ramp.users_at(3.5), 4);
        assert_eq!(parts.iter().map(|p| p.peak_users()).max(), Some(3));
        // the offset moves a re-assigned shard onto the stage's clock
        let late = ShardRamp {
            offset_s: 5.0,
            ..stage.clone()
        };
        assert_eq!(late.users_at(0.0), 5);
    }

    #[test]
    fn bad_ramps_name_their_field() {
        let field = |r: Ramp| r.check().err().map(|(f, _)| f);
        assert_eq!(field(lin(-1.0, 2.0, 1.0)), Some("from"));
        assert_eq!(field(lin(1.0, f64::NAN, 1.0)), Some("to"));
        assert_eq!(field(lin(0.0, 0.0, 1.0)), Some("to"));
        assert_eq!(field(lin(1.0, 2.0, 0.0)), Some("over_s"));
        assert_eq!(field(lin(1.0, 2.0, -3.0)), Some("over_s"));
        let exp0 = Ramp {
            strategy: RampStrategy::Exponential,
            ..lin(0.0, 2.0, 1.0)
        };
        assert_eq!(field(exp0), Some("strategy"));
        let by_count = Ramp {
            over_s: None,
            ..lin(0.0, 2.0, 1.0)
        };
        assert_eq!(field(by_count), Some("from"));
        assert_eq!(field(lin(0.0, 2.0, 1.0)), None);
        assert_eq!(field(lin(5.0, 1.0, 1.0)), None, "a ramp may go down");
    }
}
