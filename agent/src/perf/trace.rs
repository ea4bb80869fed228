//! Trace replay: a shard sends its lines of a trace, each at its own time on the stage's clock
//! (`TraceShare::due_s` from the stage's start instant), whatever the server does. Lines arrive
//! from a bounded channel (the session pulls them as they are needed); a builder thread makes
//! each line's prompt and body ahead of its time, a bounded number ahead, so neither the lines
//! nor the prompts of a long trace are ever held whole.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use swarm_common::prompt::Prompt;
use swarm_common::shard::{PerfShardSpec, ShardError};
use swarm_common::tokenize::{TokenCounter, load_tokenizer};
use swarm_common::trace::{TraceEntry, TraceShare, TraceTexts};
use swarm_io::client::{EndpointClient, body};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::executor::{ExecError, ShardEvent, ShardOutcome, StopReason, unix_us_at};

/// Lines (with their index in the trace) as the session pulls them, or why pulling failed.
pub type TraceLines = mpsc::Receiver<Result<(u64, TraceEntry), String>>;

/// Prompts built ahead of their send time.
pub const BUILT_AHEAD: usize = 64;

/// One line ready to send.
struct Ready {
    index: u64,
    due_s: f64,
    body: Bytes,
    prompt: Prompt,
}

/// Makes each line's prompt and request body, in order, until the lines end or nobody waits.
fn build(
    mut lines: TraceLines,
    out: mpsc::Sender<Result<Ready, String>>,
    tok: Arc<dyn TokenCounter>,
    spec: &PerfShardSpec,
    share: &TraceShare,
) {
    let mut texts = match TraceTexts::new(tok.as_ref(), spec.seed) {
        Ok(t) => t,
        Err(e) => {
            let _ = out.blocking_send(Err(format!("trace prompts: {e}")));
            return;
        }
    };
    while let Some(line) = lines.blocking_recv() {
        let item = line.and_then(|(index, entry)| {
            let text = texts
                .text(index, &entry)
                .map_err(|e| format!("trace line {}: {e}", index + 1))?;
            let prompt = Prompt::text(text);
            let mut gen_params = spec.gen_params.clone();
            gen_params.max_tokens = Some(entry.output_length);
            let map = body::request_body(&prompt, spec.target.api, &spec.target.model, &gen_params);
            let body =
                serde_json::to_vec(&map).map_err(|e| format!("trace line {}: {e}", index + 1))?;
            Ok(Ready {
                index,
                due_s: share.due_s(entry.timestamp),
                body: Bytes::from(body),
                prompt,
            })
        });
        let failed = item.is_err();
        if out.blocking_send(item).is_err() || failed {
            return;
        }
    }
}

/// Runs a trace shard: the measured phase starts at `start` (the stage's instant), each line is
/// sent when due, `spec.number` lines in all (or fewer at the duration bound or a cancel).
/// A record's `id` is its line's index in the trace, `scheduled_us` its due time.
pub async fn run_trace_shard(
    spec: PerfShardSpec,
    lines: TraceLines,
    start: Option<Instant>,
    sink: mpsc::UnboundedSender<ShardEvent>,
    cancel: CancellationToken,
) -> Result<ShardOutcome, ExecError> {
    spec.validate()?;
    let id = spec.shard_id.clone();
    let Some(share) = spec.trace.clone() else {
        let why = "not a trace replay shard".to_string();
        return Err(ExecError::Spec(ShardError::BadPrompts(id, why)));
    };
    let Some(tok_name) = spec.tokenizer.as_deref() else {
        let why = "a trace replay builds its prompts with a tokenizer; the shard has none";
        return Err(ExecError::Spec(ShardError::BadPrompts(id, why.into())));
    };
    let tok = load_tokenizer(tok_name)?;
    let client = Arc::new(EndpointClient::new(
        &spec.target,
        Some(Arc::clone(&tok)),
        1024,
    )?);
    let spec = Arc::new(spec);
    let (ready_tx, mut ready) = mpsc::channel(BUILT_AHEAD);
    let builder = {
        let spec = Arc::clone(&spec);
        std::thread::Builder::new()
            .name("trace-prompts".into())
            .spawn(move || build(lines, ready_tx, tok, &spec, &share))
            .map_err(|e| ExecError::Spec(ShardError::BadPrompts(id.clone(), e.to_string())))?
    };
    let epoch = start.unwrap_or_else(Instant::now);
    tokio::select! {
        _ = tokio::time::sleep_until(epoch) => {}
        _ = cancel.cancelled() => {}
    }
    let _ = sink.send(ShardEvent::Started {
        epoch_unix_us: unix_us_at(epoch),
    });
    let stop_at = spec.duration_s.map(|d| epoch + Duration::from_secs_f64(d));
    let number = spec.number.unwrap_or(u64::MAX);
    let started = Arc::new(AtomicU64::new(0));
    let mut inflight = tokio::task::JoinSet::new();
    let mut stop = StopReason::Count;
    let mut failure = None;
    while started.load(Ordering::Relaxed) < number {
        let item = tokio::select! {
            item = ready.recv() => item,
            _ = cancel.cancelled() => None,
        };
        let r = match item {
            Some(Ok(r)) => r,
            Some(Err(why)) => {
                failure = Some(why);
                break;
            }
            None => break, // the lines ended (or the run was cancelled)
        };
        let scheduled = Duration::from_secs_f64(r.due_s.max(0.0));
        let due = epoch + scheduled;
        if stop_at.is_some_and(|s| due >= s) {
            stop = StopReason::Duration;
            break;
        }
        tokio::select! {
            _ = tokio::time::sleep_until(due) => {}
            _ = cancel.cancelled() => break,
        }
        started.fetch_add(1, Ordering::Relaxed);
        let (client, sink, cancel) = (Arc::clone(&client), sink.clone(), cancel.clone());
        let request_id = format!("{}-{}", spec.shard_id, r.index);
        inflight.spawn(async move {
            let sent_us = epoch.elapsed().as_micros() as u64;
            let mut rec = client.send(r.body, &request_id, &r.prompt, &cancel).await;
            rec.id = r.index;
            rec.sent_us = sent_us;
            rec.scheduled_us = Some(scheduled.as_micros() as u64);
            if sink.send(ShardEvent::Record(rec)).is_err() {
                cancel.cancel();
            }
        });
        while inflight.try_join_next().is_some() {}
    }
    drop(ready); // the builder stops at its next line
    while let Some(joined) = inflight.join_next().await {
        if let Err(e) = joined {
            tracing::error!(error = %e, shard = %spec.shard_id, "request task failed");
        }
    }
    if builder.join().is_err() {
        tracing::error!(shard = %spec.shard_id, "the trace prompt builder panicked");
    }
    if let Some(why) = failure {
        return Err(ExecError::Spec(ShardError::BadPrompts(
            spec.shard_id.clone(),
            why,
        )));
    }
    if cancel.is_cancelled() {
        stop = StopReason::Cancelled;
    }
    Ok(ShardOutcome {
        requests: started.load(Ordering::Relaxed),
        stop,
        elapsed: epoch.elapsed(),
        connections: client.connections(),
        http_version: client.http_version(),
    })
}
