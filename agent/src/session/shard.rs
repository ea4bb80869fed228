//! One assigned shard: runs the executor and turns its events into the protocol's messages —
//! `ShardStarted`, interval `ShardProgress` deltas, `RecordBatch`es, then `ShardDone` (or
//! `ShardFailed`).

use std::time::Duration;

use swarm_common::metrics::{RequestRecord, StageAggregate};
use swarm_common::shard::PerfShardSpec;
use swarm_common::wire::to_snapshot;
use swarm_proto::agent_message::Msg;
use swarm_proto::{RecordBatch, ShardDone, ShardFailed, ShardProgress, ShardStarted};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use super::clock::{OffsetView, unix_now_us};
use super::outbox::{LinkDown, Outbox};
use super::record_batch::RecordBatcher;
use crate::perf::{ExecError, ShardEvent, ShardOutcome, StopReason, run_shard};

/// Where a shard's prompts come from.
#[derive(Clone)]
pub struct PromptSource {
    /// The session's client (`Prompts` calls).
    pub client: crate::transport::SessionClient,
    /// Prompts this agent already holds.
    pub cache: std::sync::Arc<super::prompts::PromptCache>,
}

impl std::fmt::Debug for PromptSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PromptSource").finish_non_exhaustive()
    }
}

/// What the coordinator asked for.
#[derive(Debug)]
pub struct ShardJob {
    /// The protocol's id of the shard (used in every message).
    pub shard_id: String,
    /// What to run.
    pub spec: PerfShardSpec,
    /// When the measured phase starts, on the local monotonic clock (None = at once).
    pub start: Option<Instant>,
    /// The requested start on the coordinator's clock (0 = at once), for the start skew.
    pub start_at_unix_us: u64,
    /// Whether to stream per-request records.
    pub send_records: bool,
    /// How often to send a progress delta.
    pub progress_every: Duration,
    /// Where its prompts come from.
    pub prompts: PromptSource,
}

/// Aborts the executor task if the runner is dropped (aborted) before it finished.
struct AbortOnDrop(JoinHandle<Result<ShardOutcome, ExecError>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

struct Reporter {
    shard_id: String,
    start_at_unix_us: u64,
    send_records: bool,
    clock: OffsetView,
    out: Outbox,
    agg: StageAggregate,
    /// Start of the measured phase, coordinator clock.
    epoch_unix_us: Option<u64>,
    progress_seq: u64,
    records_seq: u64,
    records: RecordBatcher,
    fetched: super::prompts::FetchStats,
    goodput: Option<swarm_common::goodput::Goodput>,
}

impl Reporter {
    async fn on_event(&mut self, ev: ShardEvent) -> Result<(), LinkDown> {
        match ev {
            ShardEvent::Started { epoch_unix_us } => {
                let epoch = self.clock.to_coordinator(epoch_unix_us);
                self.epoch_unix_us = Some(epoch);
                let start_skew_us = if self.start_at_unix_us == 0 {
                    0
                } else {
                    (i128::from(epoch) - i128::from(self.start_at_unix_us))
                        .clamp(i128::from(i64::MIN), i128::from(i64::MAX))
                        as i64
                };
                tracing::debug!(
                    epoch_unix_us = epoch,
                    start_skew_us,
                    "shard measured phase started"
                );
                self.out
                    .send(Msg::Started(ShardStarted {
                        shard_id: self.shard_id.clone(),
                        epoch_unix_us: epoch,
                        start_skew_us,
                        prompt_bytes_fetched: self.fetched.bytes,
                        prompts_fetched: self.fetched.prompts,
                        prompts_used: self.fetched.used,
                    }))
                    .await
            }
            ShardEvent::Record(r) => self.on_record(r).await,
        }
    }

    async fn on_record(&mut self, r: RequestRecord) -> Result<(), LinkDown> {
        let epoch = match self.epoch_unix_us {
            Some(e) => e,
            None => {
                // the executor always reports Started first; keep the record rather than drop it
                tracing::warn!("record before the shard's start; stamping it from now");
                let e = self.clock.to_coordinator(unix_now_us());
                self.epoch_unix_us = Some(e);
                e
            }
        };
        self.agg.record(&r, epoch);
        if let Some(g) = &self.goodput {
            self.agg.counters.goodput_checked += 1;
            if g.met(&r) {
                self.agg.counters.goodput_met += 1;
            }
        }
        if self.send_records
            && let Some(full) = self.records.push(&r)
        {
            // the new record does not fit beside the others: they go first
            self.send_batch(full).await?;
        }
        Ok(())
    }

    async fn flush_records(&mut self) -> Result<(), LinkDown> {
        match self.records.take() {
            Some(batch) => self.send_batch(batch).await,
            None => Ok(()),
        }
    }

    async fn send_batch(&mut self, records: Vec<swarm_proto::Record>) -> Result<(), LinkDown> {
        self.records_seq += 1;
        self.out
            .send(Msg::Records(RecordBatch {
                shard_id: self.shard_id.clone(),
                seq: self.records_seq,
                records,
            }))
            .await
    }

    async fn flush_progress(&mut self) -> Result<(), LinkDown> {
        if self.agg.counters.total > 0 {
            self.progress_seq += 1;
            let delta = to_snapshot(&self.agg);
            self.agg.reset();
            self.out
                .send(Msg::Progress(ShardProgress {
                    shard_id: self.shard_id.clone(),
                    seq: self.progress_seq,
                    delta: Some(delta),
                }))
                .await?;
        }
        self.flush_records().await
    }

    async fn done(&mut self, outcome: &ShardOutcome) -> Result<(), LinkDown> {
        self.flush_records().await?;
        self.progress_seq += 1;
        let last = to_snapshot(&self.agg);
        self.agg.reset();
        self.out
            .send(Msg::Done(ShardDone {
                shard_id: self.shard_id.clone(),
                seq: self.progress_seq,
                last: Some(last),
                requests: outcome.requests,
                stop: wire_stop(outcome.stop) as i32,
                connections: outcome.connections,
                http_version: match outcome.http_version {
                    None => swarm_proto::HttpVersion::Unspecified,
                    Some(swarm_io::client::transport::HttpVersion::Http1) => {
                        swarm_proto::HttpVersion::HttpVersion11
                    }
                    Some(swarm_io::client::transport::HttpVersion::Http2) => {
                        swarm_proto::HttpVersion::HttpVersion2
                    }
                } as i32,
            }))
            .await
    }

    async fn failed(&mut self, reason: String) -> Result<(), LinkDown> {
        tracing::warn!(%reason, "shard failed");
        self.out
            .send(Msg::Failed(ShardFailed {
                shard_id: self.shard_id.clone(),
                reason,
            }))
            .await
    }
}

/// A stop reason on the wire.
pub fn wire_stop(stop: StopReason) -> swarm_proto::StopReason {
    match stop {
        StopReason::Count => swarm_proto::StopReason::Count,
        StopReason::Duration => swarm_proto::StopReason::Duration,
        StopReason::Cancelled => swarm_proto::StopReason::Cancelled,
    }
}

/// The name of a stop reason, in logs and files.
pub fn stop_name(stop: StopReason) -> &'static str {
    match stop {
        StopReason::Count => "count",
        StopReason::Duration => "duration",
        StopReason::Cancelled => "cancelled",
    }
}

/// Runs `job` until the executor returns, reporting through `out`. `cancel` stops the load;
/// what was measured is still reported and the shard ends with `ShardDone{stop: "cancelled"}`.
/// If the link goes down the executor is cancelled and nothing more is sent.
pub async fn run(
    job: ShardJob,
    agg: StageAggregate,
    clock: OffsetView,
    out: Outbox,
    cancel: CancellationToken,
) {
    let ShardJob {
        shard_id,
        spec,
        start,
        start_at_unix_us,
        send_records,
        progress_every,
        prompts,
    } = job;
    let mut rep = Reporter {
        records: RecordBatcher::new(&shard_id),
        shard_id,
        start_at_unix_us,
        send_records,
        clock,
        out,
        agg,
        epoch_unix_us: None,
        progress_seq: 0,
        records_seq: 0,
        fetched: Default::default(),
        goodput: spec.goodput,
    };
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut exec = if spec.trace.is_some() {
        // a replay pulls its lines as it goes
        let lines = super::trace_feed::spawn(prompts.client.clone(), &spec, cancel.clone());
        let run = crate::perf::run_trace_shard(spec, lines, start, tx, cancel.clone());
        AbortOnDrop(tokio::spawn(run))
    } else {
        let slice = spec.prompts.clone();
        let fetched = super::prompts::fetch(&prompts.client, &prompts.cache, &slice, &cancel).await;
        let local = match fetched {
            Ok((local, stats)) => {
                tracing::debug!(
                    prompts = stats.used,
                    fetched = stats.prompts,
                    bytes = stats.bytes,
                    "shard prompts ready"
                );
                rep.fetched = stats;
                local
            }
            Err(e) => {
                if let Err(down) = rep.failed(e.to_string()).await {
                    tracing::warn!(error = %down, "cannot report the failed shard");
                }
                return;
            }
        };
        AbortOnDrop(tokio::spawn(run_shard(
            spec,
            std::sync::Arc::new(local),
            start,
            tx,
            cancel.clone(),
        )))
    };
    let mut tick = tokio::time::interval_at(Instant::now() + progress_every, progress_every);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut events_open = true;
    let reported = async {
        let result = loop {
            tokio::select! {
                biased;
                ev = rx.recv(), if events_open => match ev {
                    Some(ev) => rep.on_event(ev).await?,
                    None => events_open = false,
                },
                r = &mut exec.0 => break r,
                _ = tick.tick() => rep.flush_progress().await?,
            }
        };
        // every record was sent to the sink before run_shard returned
        while let Ok(ev) = rx.try_recv() {
            rep.on_event(ev).await?;
        }
        match result {
            Ok(Ok(outcome)) => {
                tracing::info!(
                    requests = outcome.requests,
                    connections = outcome.connections,
                    http = outcome.http_version.map(|v| v.as_str()),
                    stop = stop_name(outcome.stop),
                    elapsed_s = outcome.elapsed.as_secs_f64(),
                    "shard done"
                );
                rep.done(&outcome).await
            }
            Ok(Err(e)) => rep.failed(e.to_string()).await,
            Err(e) => {
                rep.failed(format!("shard executor stopped abnormally: {e}"))
                    .await
            }
        }
    };
    if let Err(e) = reported.await {
        tracing::warn!(error = %e, "shard stopped: cannot report to the coordinator");
        cancel.cancel();
    }
}
