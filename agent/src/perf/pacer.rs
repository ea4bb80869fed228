//! The open-loop pacer: hands out arrivals at their scheduled instants (absolute, from the
//! stage epoch), optionally waiting for an in-flight slot first.

use std::sync::Arc;
use std::time::Duration;

use swarm_common::schedule::ArrivalSchedule;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// One arrival, released at (or after) its scheduled instant.
#[derive(Debug)]
pub struct Release {
    /// Offset of the scheduled send from the epoch.
    pub scheduled: Duration,
    /// The in-flight slot, held until the request finishes (None without a cap).
    pub permit: Option<OwnedSemaphorePermit>,
}

/// Paces arrivals of one shard.
#[derive(Debug)]
pub struct Pacer {
    epoch: Instant,
    schedule: ArrivalSchedule,
    stop_at: Option<Instant>,
    cap: Option<Arc<Semaphore>>,
    cancel: CancellationToken,
}

impl Pacer {
    /// A pacer releasing `schedule`'s arrivals from `epoch` until `stop_at`, at most `cap` in flight.
    pub fn new(
        epoch: Instant,
        schedule: ArrivalSchedule,
        stop_at: Option<Instant>,
        cap: Option<u32>,
        cancel: CancellationToken,
    ) -> Self {
        let cap = cap.map(|c| Arc::new(Semaphore::new(c.max(1) as usize)));
        Self {
            epoch,
            schedule,
            stop_at,
            cap,
            cancel,
        }
    }

    /// Waits for the next arrival's instant (and a free slot); None when the duration bound is
    /// reached or the run is cancelled.
    pub async fn next(&mut self) -> Option<Release> {
        let scheduled = self.schedule.next()?;
        let due = self.epoch + scheduled;
        if self.stop_at.is_some_and(|stop| due >= stop) {
            return None;
        }
        tokio::select! {
            _ = tokio::time::sleep_until(due) => {}
            _ = self.cancel.cancelled() => return None,
        }
        let permit = match &self.cap {
            Some(sem) => tokio::select! {
                p = Arc::clone(sem).acquire_owned() => Some(p.ok()?),
                _ = self.cancel.cancelled() => return None,
            },
            None => None,
        };
        if self.stop_at.is_some_and(|stop| Instant::now() >= stop) {
            return None;
        }
        Some(Release { scheduled, permit })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use swarm_common::schedule::Arrival;

    #[tokio::test(start_paused = true)]
    async fn releases_exactly_on_an_absolute_schedule() {
        let epoch = Instant::now();
        let s = ArrivalSchedule::new(200.0, Arrival::Poisson, 3).expect("valid");
        let expected: Vec<Duration> = ArrivalSchedule::new(200.0, Arrival::Poisson, 3)
            .expect("valid")
            .take(500)
            .collect();
        let mut p = Pacer::new(epoch, s, None, None, CancellationToken::new());
        for want in expected {
            let called = Instant::now() - epoch;
            let r = p.next().await.expect("unbounded");
            assert_eq!(r.scheduled, want);
            // tokio's timer has 1 ms resolution: never early, never more than one tick late,
            // and the error does not accumulate
            let at = Instant::now() - epoch;
            let earliest = want.max(called);
            assert!(
                at >= want && at - earliest <= Duration::from_millis(1),
                "released at {at:?}, due {want:?}, asked at {called:?}"
            );
            // simulate slow work between arrivals: the schedule must not drift
            tokio::time::sleep(Duration::from_micros(700)).await;
        }
    }

    #[tokio::test(start_paused = true)]
    async fn whole_millisecond_schedules_are_exact() {
        let epoch = Instant::now();
        let s = ArrivalSchedule::new(250.0, Arrival::Constant, 0).expect("valid");
        let mut p = Pacer::new(epoch, s, None, None, CancellationToken::new());
        for k in 0..1000u64 {
            p.next().await.expect("unbounded");
            assert_eq!(Instant::now() - epoch, Duration::from_millis(4 * k));
            tokio::time::sleep(Duration::from_micros(2500)).await;
        }
    }

    #[tokio::test(start_paused = true)]
    async fn cap_delays_arrivals_until_a_slot_frees() {
        let epoch = Instant::now();
        let s = ArrivalSchedule::new(100.0, Arrival::Constant, 0).expect("valid");
        let mut p = Pacer::new(epoch, s, None, Some(2), CancellationToken::new());
        let a = p.next().await.expect("first");
        let _b = p.next().await.expect("second");
        // both slots held: the third (due at 20 ms) waits until one is released at 55 ms
        tokio::spawn(async move {
            tokio::time::sleep_until(epoch + Duration::from_millis(55)).await;
            drop(a);
        });
        let c = p.next().await.expect("third");
        assert_eq!(c.scheduled, Duration::from_millis(20));
        assert_eq!(Instant::now() - epoch, Duration::from_millis(55));
    }

    #[tokio::test(start_paused = true)]
    async fn stops_at_the_duration_bound_and_on_cancel() {
        let epoch = Instant::now();
        let s = ArrivalSchedule::new(10.0, Arrival::Constant, 0).expect("valid");
        let mut p = Pacer::new(
            epoch,
            s,
            Some(epoch + Duration::from_millis(350)),
            None,
            CancellationToken::new(),
        );
        let mut n = 0;
        while p.next().await.is_some() {
            n += 1;
        }
        assert_eq!(n, 4); // 0, 100, 200, 300 ms
        let cancel = CancellationToken::new();
        let s = ArrivalSchedule::new(1.0, Arrival::Constant, 0).expect("valid");
        let mut p = Pacer::new(Instant::now(), s, None, None, cancel.clone());
        assert!(p.next().await.is_some());
        cancel.cancel();
        assert!(p.next().await.is_none());
    }
}
