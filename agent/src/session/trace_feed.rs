//! A trace shard's lines, pulled from the coordinator as the replay needs them: only the blocks
//! of lines the shard's share owns, a window (`Prompts` call, under the message bound) at a
//! time, into a bounded channel, so an agent never holds a long trace whole.

use swarm_common::shard::PerfShardSpec;
use swarm_common::trace::TraceEntry;
use swarm_proto::PromptsRequest;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::prompts::CALL_DEADLINE;
use crate::perf::TraceLines;
use crate::transport::SessionClient;

/// Lines waiting in the channel for the prompt builder.
pub const LINES_AHEAD: usize = 1024;
/// Lines asked for in one call.
const WINDOW: u64 = 1024;

/// Starts pulling `spec`'s trace lines (its `number` of them, in order) through `client`.
pub fn spawn(client: SessionClient, spec: &PerfShardSpec, cancel: CancellationToken) -> TraceLines {
    let (tx, rx) = mpsc::channel(LINES_AHEAD);
    let (share, slice, number) = (spec.trace.clone(), spec.prompts.clone(), spec.number);
    tokio::spawn(async move {
        let Some(share) = share else {
            let _ = tx.send(Err("not a trace replay shard".into())).await;
            return;
        };
        let work = pull(client, &share, &slice, number.unwrap_or(u64::MAX), &tx);
        let result = tokio::select! {
            r = work => r,
            _ = cancel.cancelled() => Ok(()),
        };
        if let Err(why) = result {
            let _ = tx.send(Err(why)).await;
        }
    });
    rx
}

async fn pull(
    mut client: SessionClient,
    share: &swarm_common::trace::TraceShare,
    slice: &swarm_common::prompt_slice::PromptSlice,
    number: u64,
    tx: &mpsc::Sender<Result<(u64, TraceEntry), String>>,
) -> Result<(), String> {
    let set = &slice.set;
    let mut sent = 0u64;
    for run in share.owned_runs(slice.total) {
        let mut at = run.start;
        while at < run.end {
            if sent >= number {
                return Ok(());
            }
            let want = (run.end - at).min(WINDOW).min(number - sent);
            let call = client.prompts(PromptsRequest {
                prompt_set: set.clone(),
                from: at,
                max_count: u32::try_from(want).unwrap_or(u32::MAX),
            });
            let reply = tokio::time::timeout(CALL_DEADLINE, call)
                .await
                .map_err(|_| {
                    format!("pulling trace lines {at}.. took longer than {CALL_DEADLINE:?}")
                })?
                .map_err(|s| {
                    format!(
                        "cannot pull trace lines {at}..: {}: {}",
                        s.code(),
                        s.message()
                    )
                })?
                .into_inner();
            if reply.from != at || reply.prompts.is_empty() || reply.prompts.len() as u64 > want {
                return Err(format!(
                    "asked for up to {want} trace lines from {at}, got {} from {}",
                    reply.prompts.len(),
                    reply.from
                ));
            }
            for raw in &reply.prompts {
                let entry: TraceEntry = serde_json::from_slice(raw)
                    .map_err(|e| format!("trace line {} from the coordinator: {e}", at + 1))?;
                if tx.send(Ok((at, entry))).await.is_err() {
                    return Ok(()); // the replay stopped
                }
                at += 1;
                sent += 1;
            }
        }
    }
    Ok(())
}
