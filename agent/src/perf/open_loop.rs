//! Open loop: requests start on an absolute arrival schedule whatever the server does; an
//! optional cap on requests in flight makes late arrivals wait (visible as send lag).

use std::sync::Arc;

use swarm_common::schedule::{Arrival, ArrivalSchedule, ScheduleError};

use super::context::ShardCtx;
use super::pacer::Pacer;

/// Runs the schedule until the count or duration bound; waits for in-flight requests.
pub(super) async fn run(
    ctx: &Arc<ShardCtx>,
    rate: f64,
    arrival: Arrival,
    max_concurrency: Option<u32>,
) -> Result<(), ScheduleError> {
    let schedule = match &ctx.spec.ramp {
        // this shard's fraction of the stage's ramped rate
        Some(r) => ArrivalSchedule::ramped(
            r.ramp,
            r.fraction(),
            r.offset_s,
            ctx.spec.number,
            arrival,
            ctx.spec.seed,
        )?,
        None => ArrivalSchedule::new(rate, arrival, ctx.spec.seed)?,
    };
    let mut pacer = Pacer::new(
        ctx.epoch,
        schedule,
        ctx.stop_at,
        max_concurrency,
        ctx.cancel.clone(),
    );
    let mut inflight = tokio::task::JoinSet::new();
    while let Some(release) = pacer.next().await {
        let Some(i) = ctx.claim() else { break };
        let scheduled_us = release.scheduled.as_micros() as u64;
        let ctx = Arc::clone(ctx);
        inflight.spawn(async move {
            if ctx.spec.multi_turn.is_some() {
                // the arrival starts a conversation; the cap holds it until its last turn
                ctx.run_conversation_measured(i, Some(scheduled_us)).await;
                drop(release.permit);
            } else {
                let rec = ctx.run_one(i, Some(scheduled_us), true).await;
                drop(release.permit);
                ctx.emit(rec);
            }
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
