//! What every request task of a shard shares.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use swarm_common::metrics::RequestRecord;
use swarm_common::prompt::Prompt;
use swarm_common::shard::PerfShardSpec;
use tokio::sync::mpsc::UnboundedSender;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::executor::ShardEvent;
use swarm_io::client::EndpointClient;

/// Shared state of a running shard.
pub(super) struct ShardCtx {
    pub spec: PerfShardSpec,
    /// The spec's prompt slice, pulled.
    pub prompts: Arc<Vec<Prompt>>,
    pub client: EndpointClient,
    pub bodies: Vec<Bytes>,
    pub sink: UnboundedSender<ShardEvent>,
    pub cancel: CancellationToken,
    /// Measured phase start; record times are offsets from here.
    pub epoch: Instant,
    /// Stop starting requests at this instant (duration bound).
    pub stop_at: Option<Instant>,
    /// Requests started in the measured phase (conversations with `--multi-turn`).
    pub started: AtomicU64,
    /// `--multi-turn`: the next measured turn's record id (ids are unique within the shard).
    pub turn_ids: AtomicU64,
}

impl ShardCtx {
    /// Claims the next request index, or None when the count bound is reached.
    pub fn claim(&self) -> Option<u64> {
        let i = self.started.fetch_add(1, Ordering::Relaxed);
        match self.spec.number {
            Some(n) if i >= n => {
                self.started.fetch_sub(1, Ordering::Relaxed);
                None
            }
            _ => Some(i),
        }
    }

    /// A fresh record id for a measured turn.
    pub fn next_turn_id(&self) -> u64 {
        self.turn_ids.fetch_add(1, Ordering::Relaxed)
    }

    /// Runs measured unit `index`: one request, or with `--multi-turn` one conversation;
    /// records go to the sink.
    pub async fn run_unit(self: &Arc<Self>, index: u64, scheduled_us: Option<u64>) {
        if self.spec.multi_turn.is_some() {
            self.run_conversation_measured(index, scheduled_us).await;
        } else {
            let rec = self.run_one(index, scheduled_us, true).await;
            self.emit(rec);
        }
    }

    /// Whether no new request may start now.
    pub fn should_stop(&self) -> bool {
        self.cancel.is_cancelled() || self.stop_at.is_some_and(|t| Instant::now() >= t)
    }

    /// Sends request `index` and measures it; `scheduled` is its open-loop schedule offset.
    pub async fn run_one(
        self: &Arc<Self>,
        index: u64,
        scheduled_us: Option<u64>,
        measured: bool,
    ) -> RequestRecord {
        // request q of the shard, warmups first
        let q = if measured {
            u64::from(self.spec.warmup) + index
        } else {
            index
        };
        let slot = self.spec.prompts.slot(q);
        let request_id = format!(
            "{}-{}{index}",
            self.spec.shard_id,
            if measured { "" } else { "w" }
        );
        let sent_us = self.epoch.elapsed().as_micros() as u64;
        let (Some(body), Some(prompt)) = (self.bodies.get(slot), self.prompts.get(slot)) else {
            return RequestRecord::default();
        };
        let mut rec = self
            .client
            .send(body.clone(), &request_id, prompt, &self.cancel)
            .await;
        rec.id = index;
        rec.sent_us = sent_us;
        rec.scheduled_us = scheduled_us;
        rec
    }

    /// Hands a measured record to the sink (a closed sink means the consumer is gone: stop).
    pub fn emit(&self, rec: RequestRecord) {
        if self.sink.send(ShardEvent::Record(rec)).is_err() {
            self.cancel.cancel();
        }
    }
}
