//! The clocks of a scheduled piece of work: silence (nothing heard from any agent), the rejoin
//! wait (no agent left) and the grace of a cancel.

use tokio::time::Instant;

use super::{Holdings, Limits};

/// When an agent was last heard from, since when none is left, until when a cancel waits.
#[derive(Debug, Clone, Copy)]
pub struct Watch {
    heard: Instant,
    orphaned_since: Option<Instant>,
    grace_until: Option<Instant>,
}

impl Watch {
    /// Heard from at `now`.
    pub fn new(now: Instant) -> Self {
        Self {
            heard: now,
            orphaned_since: None,
            grace_until: None,
        }
    }

    /// Something came from an agent at `now`.
    pub fn heard(&mut self, now: Instant) {
        self.heard = now;
    }

    /// The error once nothing was heard for the silence limit while units are out, naming them.
    pub fn silent<U>(&self, now: Instant, limits: &Limits, held: &Holdings<U>) -> Option<String> {
        let n = held.out().count();
        if n == 0 || now.saturating_duration_since(self.heard) <= limits.silence {
            return None;
        }
        Some(format!(
            "no word from any agent for {:?} with {n} {} out: {}",
            limits.silence,
            held.what(),
            held.names()
        ))
    }

    /// A cancel went out at `now`: the grace starts (again).
    pub fn cancelled(&mut self, now: Instant, limits: &Limits) {
        self.grace_until = Some(now + limits.cancel_grace);
    }

    /// Whether a cancel went out.
    pub fn stopping(&self) -> bool {
        self.grace_until.is_some()
    }

    /// Why the work stops once a cancel's grace ran out without every unit confirmed.
    pub fn unconfirmed(&self, now: Instant, limits: &Limits) -> Option<String> {
        let grace = limits.cancel_grace.as_secs_f64();
        let over = self.grace_until.is_some_and(|t| now > t);
        over.then(|| format!("cancelled: agents did not confirm within {grace} s"))
    }

    /// Whether no agent has been left (`agents` now) for longer than the rejoin wait.
    pub fn orphaned(&mut self, now: Instant, limits: &Limits, agents: usize) -> bool {
        if agents > 0 {
            self.orphaned_since = None;
            return false;
        }
        let since = *self.orphaned_since.get_or_insert(now);
        now.saturating_duration_since(since) > limits.rejoin_wait
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn silence_names_the_units_out_once_the_limit_passes() {
        let limits = Limits::for_request_timeout(30.0);
        let t0 = Instant::now();
        let mut w = Watch::new(t0);
        let mut held = Holdings::new("batches");
        held.hold("e/1", "a", 1, ());
        held.hold("e/2", "b", 2, ());
        held.hold("e/3", "b", 2, ());
        held.release("e/2");
        assert_eq!(w.silent(t0 + Duration::from_secs(90), &limits, &held), None);
        assert_eq!(
            w.silent(t0 + Duration::from_secs(91), &limits, &held)
                .as_deref(),
            Some("no word from any agent for 90s with 2 batches out: e/1, e/3")
        );
        w.heard(t0 + Duration::from_secs(50));
        assert_eq!(w.silent(t0 + Duration::from_secs(91), &limits, &held), None);
        held.lose("a", 1);
        held.lose("b", 2);
        let late = t0 + Duration::from_secs(1000);
        assert_eq!(w.silent(late, &limits, &held), None, "nothing out");
    }

    #[test]
    fn orphaned_only_after_the_rejoin_wait_without_agents() {
        let limits = Limits::for_request_timeout(30.0);
        let t0 = Instant::now();
        let at = |s| t0 + Duration::from_secs(s);
        let mut w = Watch::new(t0);
        assert!(!w.orphaned(at(0), &limits, 0));
        assert!(!w.orphaned(at(60), &limits, 0));
        assert!(!w.orphaned(at(61), &limits, 1), "one came back");
        assert!(!w.orphaned(at(100), &limits, 0));
        assert!(w.orphaned(at(161), &limits, 0));
    }

    #[test]
    fn a_cancel_waits_for_its_grace() {
        let limits = Limits::for_request_timeout(30.0);
        let t0 = Instant::now();
        let mut w = Watch::new(t0);
        assert!(!w.stopping());
        assert_eq!(w.unconfirmed(t0 + Duration::from_secs(100), &limits), None);
        w.cancelled(t0, &limits);
        assert!(w.stopping());
        assert_eq!(w.unconfirmed(t0 + Duration::from_secs(10), &limits), None);
        assert_eq!(
            w.unconfirmed(t0 + Duration::from_millis(10_001), &limits)
                .as_deref(),
            Some("cancelled: agents did not confirm within 10 s")
        );
    }
}
