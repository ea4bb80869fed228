//! The scheduler's limits: defined here once, for perf stages and eval leases alike.

use std::time::Duration;

/// How long the scheduler waits and how often it retries. An agent is declared lost by the
/// cluster (its stream ends, or no heartbeat for `agents.heartbeat_timeout_s` of the plan,
/// 10 s by default); what its session held then comes back to be re-assigned or re-queued.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// No message from any agent for this long stops the work, naming the units out: the
    /// request timeout (at most an hour) plus 60 s.
    pub silence: Duration,
    /// How long a cancel (the run's, or a perf stage's early stop) waits for agents to confirm:
    /// 10 s.
    pub cancel_grace: Duration,
    /// How long an eval waits for an agent to come back once every agent is lost (a perf stage
    /// gives a lost agent's budget to its group's survivors and ends when there are none): 60 s.
    pub rejoin_wait: Duration,
    /// Attempts per eval item before it is stored as failed: 3.
    pub max_attempts: u32,
}

impl Limits {
    /// The defaults for requests that time out after `total_timeout_s` seconds.
    pub fn for_request_timeout(total_timeout_s: f64) -> Self {
        let request = match total_timeout_s {
            t if t.is_nan() => 3600.0,
            t => t.clamp(0.0, 3600.0),
        };
        Self {
            silence: Duration::from_secs_f64(request + 60.0),
            cancel_grace: Duration::from_secs(10),
            rejoin_wait: Duration::from_secs(60),
            max_attempts: 3,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_silence_limit_is_the_request_timeout_plus_a_margin() {
        let l = Limits::for_request_timeout(30.0);
        assert_eq!(l.silence, Duration::from_secs(90));
        assert_eq!(l.cancel_grace, Duration::from_secs(10));
        assert_eq!(l.rejoin_wait, Duration::from_secs(60));
        assert_eq!(l.max_attempts, 3);
        let capped = Duration::from_secs(3660);
        assert_eq!(Limits::for_request_timeout(1e9).silence, capped);
        assert_eq!(Limits::for_request_timeout(f64::INFINITY).silence, capped);
        assert_eq!(Limits::for_request_timeout(f64::NAN).silence, capped);
        let negative = Limits::for_request_timeout(-5.0).silence;
        assert_eq!(negative, Duration::from_secs(60));
    }
}
