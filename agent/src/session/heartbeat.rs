//! Heartbeats: liveness for the coordinator and clock probes for the agent. Each heartbeat's send
//! instant is remembered on the monotonic clock, so the round trip of its echo is exact.

use std::collections::VecDeque;
use std::time::Duration;

use swarm_proto::{Heartbeat, HeartbeatAck};
use tokio::time::Instant;

use super::clock::{ClockOffset, WINDOW, unix_now_us};

/// Heartbeats sent and not yet echoed (the oldest are forgotten).
#[derive(Debug, Default)]
pub struct Prober {
    pending: VecDeque<(u64, Instant)>,
}

impl Prober {
    /// The next heartbeat; remembers when it left.
    pub fn beat(&mut self, shards_running: u32) -> Heartbeat {
        let now = Instant::now();
        let mut agent_unix_us = unix_now_us();
        // echoes are matched by timestamp, so keep them distinct
        if let Some((last, _)) = self.pending.back() {
            agent_unix_us = agent_unix_us.max(last + 1);
        }
        if self.pending.len() == WINDOW {
            self.pending.pop_front();
        }
        self.pending.push_back((agent_unix_us, now));
        Heartbeat {
            agent_unix_us,
            shards_running,
        }
    }

    /// Feeds an echo to `clock`; returns the round trip, or None for an echo of nothing we sent
    /// recently.
    pub fn ack(&mut self, ack: &HeartbeatAck, clock: &mut ClockOffset) -> Option<Duration> {
        let i = self
            .pending
            .iter()
            .position(|(t, _)| *t == ack.echo_agent_unix_us)?;
        let (_, sent) = self.pending[i];
        // probes answered out of order are still valid; older unanswered ones are lost
        self.pending.drain(..=i);
        let rtt = sent.elapsed();
        clock.add_probe(rtt, ack.coordinator_unix_us, unix_now_us());
        Some(rtt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn echo_gives_rtt_and_moves_the_estimate() {
        let mut p = Prober::default();
        let mut clock = ClockOffset::from_welcome(0, 0);
        let hb = p.beat(2);
        assert_eq!(hb.shards_running, 2);
        let hb2 = p.beat(0);
        assert!(hb2.agent_unix_us > hb.agent_unix_us);
        tokio::time::advance(Duration::from_millis(8)).await;
        let coord = unix_now_us() + 3_000_000;
        let rtt = p.ack(
            &HeartbeatAck {
                echo_agent_unix_us: hb2.agent_unix_us,
                coordinator_unix_us: coord,
            },
            &mut clock,
        );
        assert_eq!(rtt, Some(Duration::from_millis(8)));
        // offset ≈ 3 s + 4 ms (paused tokio time does not move the system clock)
        let off = clock.offset_us();
        assert!((3_003_000..3_010_000).contains(&off), "{off}");
        // the first heartbeat was dropped with the second's echo; a stray echo is ignored
        let stray = HeartbeatAck {
            echo_agent_unix_us: hb.agent_unix_us,
            coordinator_unix_us: 1,
        };
        assert_eq!(p.ack(&stray, &mut clock), None);
        assert_eq!(clock.offset_us(), off);
    }
}
