//! The coordinator's clock as seen from the agent: an NTP-style offset estimate kept from the
//! lowest-round-trip probe of the recent ones, and conversions between the two clocks.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

/// How many recent probes the estimate chooses from.
pub const WINDOW: usize = 16;

/// Microseconds since the Unix epoch on this machine's clock.
pub fn unix_now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

fn shift(t: u64, by: i64) -> u64 {
    (i128::from(t) + i128::from(by)).clamp(0, i128::from(u64::MAX)) as u64
}

/// A read-only, shareable view of the current offset (coordinator clock − agent clock).
#[derive(Debug, Clone, Default)]
pub struct OffsetView(Arc<AtomicI64>);

impl OffsetView {
    /// Coordinator clock minus agent clock, microseconds.
    pub fn offset_us(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }

    /// An agent-clock instant (µs since the epoch) on the coordinator's clock.
    pub fn to_coordinator(&self, agent_unix_us: u64) -> u64 {
        shift(agent_unix_us, self.offset_us())
    }

    /// A coordinator-clock instant (µs since the epoch) on the agent's clock.
    pub fn to_agent(&self, coordinator_unix_us: u64) -> u64 {
        shift(coordinator_unix_us, self.offset_us().saturating_neg())
    }

    /// The local monotonic instant of a coordinator-clock time; `now` when it is in the past.
    pub fn local_instant(&self, coordinator_unix_us: u64) -> Instant {
        let (now, now_unix) = (Instant::now(), unix_now_us());
        let ahead = self.to_agent(coordinator_unix_us).saturating_sub(now_unix);
        now + Duration::from_micros(ahead)
    }
}

#[derive(Debug, Clone, Copy)]
struct Sample {
    /// None for the Welcome's timestamp, whose round trip is unknown.
    rtt_us: Option<u64>,
    offset_us: i64,
}

/// The estimator: feed it the Welcome and every heartbeat round trip.
#[derive(Debug)]
pub struct ClockOffset {
    samples: VecDeque<Sample>,
    view: OffsetView,
}

impl ClockOffset {
    /// A first estimate from the Welcome's timestamp (round trip unknown: offset = coordinator − now).
    pub fn from_welcome(coordinator_unix_us: u64, agent_now_us: u64) -> Self {
        let offset_us = diff(coordinator_unix_us, agent_now_us);
        let mut samples = VecDeque::with_capacity(WINDOW);
        samples.push_back(Sample {
            rtt_us: None,
            offset_us,
        });
        let view = OffsetView::default();
        view.0.store(offset_us, Ordering::Relaxed);
        Self { samples, view }
    }

    /// Adds a probe: sent at some agent time, answered with `coordinator_unix_us`, received at
    /// `agent_now_us` after `rtt`. Its offset assumes a symmetric path: coordinator + rtt/2 − now.
    /// Returns the estimate now in force.
    pub fn add_probe(&mut self, rtt: Duration, coordinator_unix_us: u64, agent_now_us: u64) -> i64 {
        let rtt_us = u64::try_from(rtt.as_micros()).unwrap_or(u64::MAX);
        let offset_us = diff(coordinator_unix_us.saturating_add(rtt_us / 2), agent_now_us);
        if self.samples.len() == WINDOW {
            self.samples.pop_front();
        }
        self.samples.push_back(Sample {
            rtt_us: Some(rtt_us),
            offset_us,
        });
        let best = self
            .samples
            .iter()
            .filter_map(|s| s.rtt_us.map(|r| (r, s.offset_us)))
            .min_by_key(|(r, _)| *r)
            .map(|(_, o)| o)
            .unwrap_or(offset_us);
        self.view.0.store(best, Ordering::Relaxed);
        best
    }

    /// The current estimate, coordinator clock minus agent clock, microseconds.
    pub fn offset_us(&self) -> i64 {
        self.view.offset_us()
    }

    /// A view of the estimate that follows later probes.
    pub fn view(&self) -> OffsetView {
        self.view.clone()
    }
}

fn diff(a: u64, b: u64) -> i64 {
    (i128::from(a) - i128::from(b)).clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn welcome_then_lowest_rtt_probe_wins() {
        let mut c = ClockOffset::from_welcome(5_000_000, 1_000_000);
        assert_eq!(c.offset_us(), 4_000_000);
        // rtt 10 ms: offset = 6_000_000 + 5_000 - 2_000_000
        assert_eq!(
            c.add_probe(Duration::from_millis(10), 6_000_000, 2_000_000),
            4_005_000
        );
        // a slower probe with a different answer does not move the estimate
        assert_eq!(
            c.add_probe(Duration::from_millis(50), 7_000_000, 3_000_000),
            4_005_000
        );
        // a faster one does
        assert_eq!(
            c.add_probe(Duration::from_millis(2), 7_000_000, 3_000_000),
            4_001_000
        );
        let v = c.view();
        assert_eq!(v.to_coordinator(1_000), 4_002_000);
        assert_eq!(v.to_agent(4_002_000), 1_000);
    }

    #[test]
    fn old_probes_leave_the_window() {
        let mut c = ClockOffset::from_welcome(0, 0);
        c.add_probe(Duration::from_micros(1), 1_000, 0);
        for _ in 0..WINDOW {
            c.add_probe(Duration::from_millis(1), 9_000_000, 1_000_000);
        }
        // the 1 µs probe fell out; the rest all say 8_000_500
        assert_eq!(c.offset_us(), 8_000_500);
    }

    #[test]
    fn negative_offsets_and_clamping() {
        let c = ClockOffset::from_welcome(1_000, 5_000);
        assert_eq!(c.offset_us(), -4_000);
        assert_eq!(c.view().to_coordinator(3_000), 0);
        assert_eq!(c.view().to_agent(1_000), 5_000);
    }

    #[tokio::test(start_paused = true)]
    async fn local_instant_of_past_and_future() {
        let c = ClockOffset::from_welcome(unix_now_us(), unix_now_us());
        let v = c.view();
        let now = Instant::now();
        assert!(v.local_instant(1) <= now + Duration::from_millis(1));
        let later = v.local_instant(unix_now_us() + 2_000_000);
        let ahead = later - now;
        assert!(
            ahead > Duration::from_millis(1_900) && ahead <= Duration::from_millis(2_100),
            "{ahead:?}"
        );
    }
}
