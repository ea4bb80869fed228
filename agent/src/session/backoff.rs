//! Reconnect delays: exponential, capped, with jitter so a fleet does not reconnect in lockstep.

use std::time::Duration;

use rand::Rng;

/// Exponential reconnect backoff: `initial`, doubling per failed attempt, capped at `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Delay after the first failure.
    pub initial: Duration,
    /// Longest delay.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            initial: Duration::from_millis(200),
            max: Duration::from_secs(10),
        }
    }
}

impl Backoff {
    /// The delay before retry number `attempt` (0-based), without jitter.
    pub fn delay(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.min(31));
        self.initial.saturating_mul(factor).min(self.max)
    }

    /// The delay before retry `attempt` with "equal jitter": uniformly in [d/2, d].
    pub fn jittered(&self, attempt: u32) -> Duration {
        let d = self.delay(attempt);
        let half = d / 2;
        let spread = u64::try_from((d - half).as_micros()).unwrap_or(u64::MAX);
        half + Duration::from_micros(rand::rng().random_range(0..=spread))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_then_caps() {
        let b = Backoff::default();
        assert_eq!(b.delay(0), Duration::from_millis(200));
        assert_eq!(b.delay(1), Duration::from_millis(400));
        assert_eq!(b.delay(5), Duration::from_millis(6400));
        assert_eq!(b.delay(6), Duration::from_secs(10));
        assert_eq!(b.delay(u32::MAX), Duration::from_secs(10));
    }

    #[test]
    fn jitter_stays_within_half_and_full() {
        let b = Backoff::default();
        for attempt in 0..8 {
            let d = b.delay(attempt);
            for _ in 0..50 {
                let j = b.jittered(attempt);
                assert!(j >= d / 2 && j <= d, "attempt {attempt}: {j:?} vs {d:?}");
            }
        }
    }
}
