//! Open loop: requests start on an absolute arrival schedule whatever the server does; an
//! optional cap on requests in flight makes late arrivals wait (visible as send lag).

use std::sync::Arc;

use swarm_common::schedule::{Arrival, ArrivalSchedule, ScheduleError};
use tokio::sync::Semaphore;

use super::context::ShardCtx;

/// Runs the schedule until the count or duration bound; waits for in-flight requests.
pub(super) async fn run(
    ctx: &Arc<ShardCtx>,
    rate: f64,
    arrival: Arrival,
    max_concurrency: Option<u32>,
) -> Result<(), ScheduleError> {
    let schedule = ArrivalSchedule::new(rate, arrival, ctx.spec.seed)?;
    let cap = max_concurrency.map(|c| Arc::new(Semaphore::new(c.max(1) as usize)));
    let mut inflight = tokio::task::JoinSet::new();
    for offset in schedule {
        let due = ctx.epoch + offset;
        if ctx.stop_at.is_some_and(|stop| due >= stop) {
            break;
        }
        tokio::select! {
            _ = tokio::time::sleep_until(due) => {}
            _ = ctx.cancel.cancelled() => break,
        }
        let permit = match &cap {
            Some(sem) => tokio::select! {
                p = Arc::clone(sem).acquire_owned() => match p {
                    Ok(p) => Some(p),
                    Err(_) => break,
                },
                _ = ctx.cancel.cancelled() => break,
            },
            None => None,
        };
        if ctx.should_stop() {
            break;
        }
        let Some(i) = ctx.claim() else { break };
        let scheduled_us = offset.as_micros() as u64;
        let ctx = Arc::clone(ctx);
        inflight.spawn(async move {
            let rec = ctx.run_one(i, Some(scheduled_us), true).await;
            drop(permit);
            ctx.emit(rec);
        });
        // reap finished tasks so the set does not grow with the run
        while inflight.try_join_next().is_some() {}
    }
    while let Some(joined) = inflight.join_next().await {
        if let Err(e) = joined {
            tracing::error!(error = %e, shard = %ctx.spec.shard_id, "request task failed");
        }
    }
    Ok(())
}
