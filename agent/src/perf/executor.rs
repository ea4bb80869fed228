//! `run_shard`: the unit of work of an agent's perf executor.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use swarm_common::metrics::RequestRecord;
use swarm_common::prompt::Prompt;
use swarm_common::schedule::LoadModel;
use swarm_common::shard::{PerfShardSpec, ShardError};
use swarm_common::tokenize::{TokenizerError, load_tokenizer};
use tokio::sync::mpsc::UnboundedSender;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::context::ShardCtx;
use super::{closed_loop, open_loop};
use swarm_io::client::{ClientError, EndpointClient, body};

/// What a running shard reports to its sink, in order.
#[derive(Debug, Clone)]
pub enum ShardEvent {
    /// The measured phase began; record times are offsets from this wall-clock instant.
    Started {
        /// Microseconds since the Unix epoch at the measured phase's start.
        epoch_unix_us: u64,
    },
    /// One measured request.
    Record(RequestRecord),
}

/// Why a shard stopped offering load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// All requests of the count bound were sent and finished.
    Count,
    /// The duration bound expired.
    Duration,
    /// The run was cancelled.
    Cancelled,
}

/// What a finished shard did.
#[derive(Debug, Clone, PartialEq)]
pub struct ShardOutcome {
    /// Measured requests started (all of them finished and were sent to the sink).
    pub requests: u64,
    /// Why it stopped.
    pub stop: StopReason,
    /// Measured phase length.
    pub elapsed: Duration,
    /// Connections the client opened to the target (warmup included).
    pub connections: u64,
    /// The HTTP version answers came back in.
    pub http_version: Option<swarm_io::client::transport::HttpVersion>,
}

/// Why a shard could not run at all (nothing was measured).
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// The spec is not runnable.
    #[error(transparent)]
    Spec(#[from] ShardError),
    /// The endpoint settings are invalid.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The tokenizer could not be loaded.
    #[error(transparent)]
    Tokenizer(#[from] TokenizerError),
    /// An arrival schedule parameter is invalid.
    #[error(transparent)]
    Schedule(#[from] swarm_common::schedule::ScheduleError),
}

pub(super) fn unix_us_at(t: Instant) -> u64 {
    let now_sys = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let now = Instant::now();
    let offset = if t >= now {
        (t - now).as_micros() as i128
    } else {
        -((now - t).as_micros() as i128)
    };
    (now_sys.as_micros() as i128 + offset).max(0) as u64
}

/// Runs one shard: optional warmup, then the measured phase starting at `start_at` (or at once),
/// bounded by the spec's count and/or duration. `prompts` are the spec's prompt slice, pulled:
/// request `q` (warmups first) sends `prompts[spec.prompts.slot(q)]`. Every measured request is sent to `sink` as it
/// finishes; cancelling stops new requests and aborts in-flight ones (recorded as cancelled).
pub async fn run_shard(
    spec: PerfShardSpec,
    prompts: Arc<Vec<Prompt>>,
    start_at: Option<Instant>,
    sink: UnboundedSender<ShardEvent>,
    cancel: CancellationToken,
) -> Result<ShardOutcome, ExecError> {
    spec.validate()?;
    if prompts.len() as u64 != spec.prompts.count {
        return Err(ExecError::Spec(ShardError::BadPrompts(
            spec.shard_id.clone(),
            format!(
                "{} prompts given for a slice of {}",
                prompts.len(),
                spec.prompts.count
            ),
        )));
    }
    let tokenizer = spec.tokenizer.as_deref().map(load_tokenizer).transpose()?;
    let pool = match spec.load {
        LoadModel::Closed { concurrency } => match &spec.ramp {
            Some(r) => (concurrency as usize).max(r.peak_users() as usize),
            None => concurrency as usize,
        },
        LoadModel::Open {
            max_concurrency, ..
        } => max_concurrency.unwrap_or(1024) as usize,
    };
    let client = EndpointClient::new(&spec.target, tokenizer, pool)?;
    // a conversation's turns are encoded as they are sent (they carry the answers so far)
    let bodies = if spec.multi_turn.is_some() {
        Vec::new()
    } else {
        body::encode_all(
            &prompts,
            spec.target.api,
            &spec.target.model,
            &spec.gen_params,
        )
    };
    if let LoadModel::Open { rate, arrival, .. } = spec.load {
        // refuse bad parameters before anything is sent
        swarm_common::schedule::ArrivalSchedule::new(rate, arrival, spec.seed)?;
        if let Some(r) = &spec.ramp {
            swarm_common::schedule::ArrivalSchedule::ramped(
                r.ramp,
                r.fraction(),
                r.offset_s,
                spec.number,
                arrival,
                spec.seed,
            )?;
        }
    }
    let mut ctx = ShardCtx {
        spec,
        prompts,
        client,
        bodies,
        sink,
        cancel,
        epoch: Instant::now(),
        stop_at: None,
        started: AtomicU64::new(0),
        turn_ids: AtomicU64::new(0),
    };
    closed_loop::warmup(&ctx).await;
    if let Some(t) = start_at {
        tokio::select! {
            _ = tokio::time::sleep_until(t) => {}
            _ = ctx.cancel.cancelled() => {}
        }
    }
    ctx.epoch = Instant::now();
    ctx.stop_at = ctx
        .spec
        .duration_s
        .map(|d| ctx.epoch + Duration::from_secs_f64(d));
    let _ = ctx.sink.send(ShardEvent::Started {
        epoch_unix_us: unix_us_at(ctx.epoch),
    });
    let ctx = Arc::new(ctx);
    match ctx.spec.load {
        LoadModel::Closed { concurrency } => match ctx.spec.ramp.clone() {
            Some(ramp) => closed_loop::run_ramped(&ctx, &ramp).await,
            None => closed_loop::run(&ctx, concurrency).await,
        },
        LoadModel::Open {
            rate,
            arrival,
            max_concurrency,
        } => open_loop::run(&ctx, rate, arrival, max_concurrency).await?,
    }
    let stop = if ctx.cancel.is_cancelled() {
        StopReason::Cancelled
    } else if ctx
        .spec
        .number
        .is_some_and(|n| ctx.started.load(std::sync::atomic::Ordering::Relaxed) >= n)
    {
        StopReason::Count
    } else {
        StopReason::Duration
    };
    Ok(ShardOutcome {
        requests: ctx.started.load(std::sync::atomic::Ordering::Relaxed),
        stop,
        elapsed: ctx.epoch.elapsed(),
        connections: ctx.client.connections(),
        http_version: ctx.client.http_version(),
    })
}
