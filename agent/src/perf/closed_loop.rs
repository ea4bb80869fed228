//! Closed loop: N virtual users, each sending its next request when the previous one finished.

use std::sync::Arc;

use futures::StreamExt;
use swarm_common::schedule::LoadModel;

use super::context::ShardCtx;

/// Runs `concurrency` users until the count or duration bound is reached.
pub(super) async fn run(ctx: &Arc<ShardCtx>, concurrency: u32) {
    let mut users = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let ctx = Arc::clone(ctx);
        users.spawn(async move {
            while !ctx.should_stop() {
                let Some(i) = ctx.claim() else { break };
                let rec = ctx.run_one(i, None, true).await;
                ctx.emit(rec);
            }
        });
    }
    while let Some(joined) = users.join_next().await {
        if let Err(e) = joined {
            tracing::error!(error = %e, shard = %ctx.spec.shard_id, "virtual user task failed");
        }
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
