//! Closed loop: N virtual users, each sending its next request when the previous one finished.

use std::sync::Arc;

use std::time::Duration;

use futures::StreamExt;
use swarm_common::ramp::ShardRamp;
use swarm_common::schedule::LoadModel;
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::context::ShardCtx;

/// Runs `concurrency` users until the count or duration bound is reached.
pub(super) async fn run(ctx: &Arc<ShardCtx>, concurrency: u32) {
    let mut users = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let ctx = Arc::clone(ctx);
        users.spawn(async move {
            while !ctx.should_stop() {
                let Some(i) = ctx.claim() else { break };
                ctx.run_unit(i, None).await;
            }
        });
    }
    while let Some(joined) = users.join_next().await {
        if let Err(e) = joined {
            tracing::error!(error = %e, shard = %ctx.spec.shard_id, "virtual user task failed");
        }
    }
}

/// How often a users ramp's target is re-read (users change within this of their instant).
const RAMP_TICK: Duration = Duration::from_millis(20);

/// Runs a users ramp (k6's ramping-vus): user `u` sends requests back to back while the shard's
/// share of the stage's users ([`ShardRamp::users_at`]) is above `u`; a user ramped down
/// finishes its request in flight and waits. Ends at the count or duration bound, on cancel,
/// or when the ramp has ended at 0 users.
pub(super) async fn run_ramped(ctx: &Arc<ShardCtx>, ramp: &ShardRamp) {
    // (users now, whether the ramp is over so that the number never changes again)
    let (active, _) = watch::channel((0u64, false));
    let done = ctx.cancel.child_token();
    let cap = ramp.peak_users();
    let mut users = tokio::task::JoinSet::new();
    let mut spawned = 0u64;
    loop {
        let t = ctx.epoch.elapsed().as_secs_f64();
        let target = ramp.users_at(t).min(cap);
        let over = ramp.ramp.over_s.is_none_or(|o| ramp.offset_s + t >= o);
        while spawned < target {
            let (ctx, mut rx, done, u) =
                (Arc::clone(ctx), active.subscribe(), done.clone(), spawned);
            users.spawn(async move { user(&ctx, u, &mut rx, &done).await });
            spawned += 1;
        }
        active.send_replace((target, over));
        if over || ctx.should_stop() || done.is_cancelled() {
            break;
        }
        tokio::select! {
            _ = tokio::time::sleep(RAMP_TICK) => {}
            _ = done.cancelled() => {}
        }
    }
    while let Some(joined) = users.join_next().await {
        if let Err(e) = joined {
            tracing::error!(error = %e, shard = %ctx.spec.shard_id, "virtual user task failed");
        }
    }
}

/// One ramped user: waits to be within the ramp's users, then sends one request at a time.
async fn user(
    ctx: &Arc<ShardCtx>,
    u: u64,
    rx: &mut watch::Receiver<(u64, bool)>,
    done: &CancellationToken,
) {
    loop {
        loop {
            let (target, over) = *rx.borrow_and_update();
            if u < target {
                break;
            }
            if over {
                return;
            }
            tokio::select! {
                changed = rx.changed() => if changed.is_err() { return },
                _ = done.cancelled() => return,
                _ = until(ctx.stop_at) => return,
            }
        }
        if ctx.should_stop() || done.is_cancelled() {
            return;
        }
        let Some(i) = ctx.claim() else {
            done.cancel();
            return;
        };
        ctx.run_unit(i, None).await;
    }
}

async fn until(at: Option<Instant>) {
    match at {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}

/// Sends the spec's warmup requests (not measured) at the stage's concurrency.
pub(super) async fn warmup(ctx: &ShardCtx) {
    let n = ctx.spec.warmup;
    if n == 0 {
        return;
    }
    let width = match ctx.spec.load {
        LoadModel::Closed { concurrency } => concurrency,
        LoadModel::Open {
            max_concurrency, ..
        } => max_concurrency.unwrap_or(n),
    }
    .clamp(1, n) as usize;
    let ctx_ref = ctx;
    if ctx.spec.multi_turn.is_some() {
        // warmup conversations, whole, unmeasured
        futures::stream::iter(0..u64::from(n))
            .map(|i| ctx_ref.run_conversation(i, None, false))
            .buffer_unordered(width)
            .for_each(|_| async {})
            .await;
        return;
    }
    futures::stream::iter(0..u64::from(n))
        .map(|i| async move {
            let slot = ctx_ref.spec.prompts.slot(i);
            let id = format!("{}-w{i}", ctx_ref.spec.shard_id);
            if let (Some(body), Some(prompt)) =
                (ctx_ref.bodies.get(slot), ctx_ref.prompts.get(slot))
            {
                ctx_ref
                    .client
                    .send(body.clone(), &id, prompt, &ctx_ref.cancel)
                    .await;
            }
        })
        .buffer_unordered(width)
        .for_each(|_| async {})
        .await;
}
