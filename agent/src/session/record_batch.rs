//! Per-request records gathered into `RecordBatch`es by encoded size, so that no batch, wrapped
//! in its `AgentMessage`, passes the message bound.

use prost::Message;
use swarm_common::metrics::RequestRecord;
use swarm_common::metrics::record_wire::{MAX_CHUNK_TIMES, to_wire};
use swarm_proto::agent_message::Msg;
use swarm_proto::{AgentMessage, Record, RecordBatch};

/// A batch's records take at most this many encoded bytes (the message bound less room for the
/// batch's framing; less still when the shard id is long, see [`RecordBatcher::new`]).
pub const RECORD_BATCH_BYTES: usize = swarm_proto::MAX_MESSAGE_BYTES - 16 * 1024;

/// Bytes `rec` adds to a batch: its key (`records = 4`, one byte), length and body.
fn batched_len(rec: &Record) -> usize {
    let len = rec.encoded_len();
    1 + prost::length_delimiter_len(len) + len
}

/// The records of one shard waiting to be sent.
#[derive(Debug)]
pub struct RecordBatcher {
    records: Vec<Record>,
    bytes: usize,
    budget: usize,
}

impl RecordBatcher {
    /// An empty batcher for the shard `shard_id`: its budget leaves room in the message for the
    /// shard id, the largest `seq` and the `AgentMessage` wrapper.
    pub fn new(shard_id: &str) -> Self {
        let empty = AgentMessage {
            msg: Some(Msg::Records(RecordBatch {
                shard_id: shard_id.to_owned(),
                seq: u64::MAX,
                records: Vec::new(),
            })),
        };
        // the batch's length prefix grows from 1 byte to at most 3 (under 2 MiB) as it fills
        let framing = empty.encoded_len() + 2;
        Self {
            records: Vec::new(),
            bytes: 0,
            budget: swarm_proto::MAX_MESSAGE_BYTES
                .saturating_sub(framing)
                .min(RECORD_BATCH_BYTES),
        }
    }

    /// Adds `r`. Returns the batch gathered so far when `r` does not fit beside it (send that
    /// first; `r` starts the next). A record too large for a message on its own (thousands of
    /// chunk arrivals) is kept without its per-chunk times, as is one with more than
    /// [`MAX_CHUNK_TIMES`]; one too large even then is not sent.
    pub fn push(&mut self, r: &RequestRecord) -> Option<Vec<Record>> {
        let mut rec = to_wire(r);
        let mut size = batched_len(&rec);
        if rec.chunk_us.len() > MAX_CHUNK_TIMES || size > self.budget {
            rec.chunk_us = Vec::new();
            size = batched_len(&rec);
            tracing::warn!(
                record = r.id,
                chunks = r.chunk_us.len(),
                "record too large for one message: sent without its chunk times"
            );
            if size > self.budget {
                tracing::warn!(
                    record = r.id,
                    size,
                    "record too large for one message, not sent"
                );
                return None;
            }
        }
        let full = if self.bytes + size > self.budget {
            self.bytes = 0;
            Some(std::mem::take(&mut self.records))
        } else {
            None
        };
        self.records.push(rec);
        self.bytes += size;
        full.filter(|b| !b.is_empty())
    }

    /// Takes every record gathered (None when there are none).
    pub fn take(&mut self) -> Option<Vec<Record>> {
        self.bytes = 0;
        let batch = std::mem::take(&mut self.records);
        (!batch.is_empty()).then_some(batch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use swarm_common::metrics::ErrorClass;

    fn rec(id: u64, chunks: usize) -> RequestRecord {
        RequestRecord {
            id,
            sent_us: 1_000_000 + id,
            latency_us: 30_000_000,
            chunk_us: (0..chunks as u64).map(|i| 20_000_000 + i * 7).collect(),
            completion_tokens: chunks as u32,
            error: Some(ErrorClass::Http5xx),
            error_detail: Some("é".repeat(700)),
            ..Default::default()
        }
    }

    fn message_len(shard_id: &str, records: Vec<Record>) -> usize {
        AgentMessage {
            msg: Some(Msg::Records(RecordBatch {
                shard_id: shard_id.to_owned(),
                seq: u64::MAX,
                records,
            })),
        }
        .encoded_len()
    }

    #[test]
    fn a_records_batched_length_is_what_it_adds_to_a_batch() {
        for chunks in [0, 1, 200, 40_000] {
            let r = to_wire(&rec(9, chunks));
            let batch = |records| RecordBatch {
                shard_id: "w/s/0".into(),
                seq: 3,
                records,
            };
            let added = batch(vec![r.clone()]).encoded_len() - batch(Vec::new()).encoded_len();
            assert_eq!(batched_len(&r), added, "{chunks} chunks");
        }
    }

    #[test]
    fn batches_stay_within_the_message_bound_and_keep_every_record_in_order() {
        for shard_id in ["w/s/0".to_owned(), "x".repeat(40_000)] {
            let mut b = RecordBatcher::new(&shard_id);
            let mut batches = Vec::new();
            for id in 0..3_000 {
                batches.extend(b.push(&rec(id, (id as usize * 37) % 900)));
            }
            batches.extend(b.take());
            assert!(batches.len() > 2, "{} batches", batches.len());
            let mut ids = Vec::new();
            let last = batches.len() - 1;
            for (i, batch) in batches.into_iter().enumerate() {
                ids.extend(batch.iter().map(|r| r.id));
                let len = message_len(&shard_id, batch);
                assert!(len <= swarm_proto::MAX_MESSAGE_BYTES, "{len} bytes");
                assert!(
                    i == last || len > swarm_proto::MAX_MESSAGE_BYTES * 9 / 10,
                    "batch {i}: {len} bytes, not filled"
                );
            }
            assert_eq!(ids, (0..3_000).collect::<Vec<_>>());
            assert!(b.take().is_none());
        }
    }

    #[test]
    fn a_record_too_large_for_a_message_is_sent_without_its_chunk_times() {
        let mut b = RecordBatcher::new("w/s/0");
        assert!(b.push(&rec(0, 10)).is_none());
        // ~5 bytes a time: 300k times do not fit in a message; more than MAX_CHUNK_TIMES either
        for (id, chunks) in [(1, 300_000), (2, MAX_CHUNK_TIMES + 1)] {
            assert!(
                b.push(&rec(id, chunks)).is_none(),
                "fits beside the others once slim"
            );
        }
        let batch = b.take().expect("a batch");
        let chunks: Vec<usize> = batch.iter().map(|r| r.chunk_us.len()).collect();
        assert_eq!(chunks, [10, 0, 0]);
        assert_eq!(batch[1].completion_tokens, 300_000, "the rest is kept");
        let detail = batch[1].error_detail.as_deref().unwrap_or_default();
        assert!(detail.len() <= swarm_common::metrics::record_wire::MAX_ERROR_DETAIL_BYTES);
        // a record of exactly MAX_CHUNK_TIMES small times fits and keeps them
        let small = RequestRecord {
            chunk_us: vec![1; MAX_CHUNK_TIMES],
            ..Default::default()
        };
        assert!(b.push(&small).is_none());
        assert_eq!(
            b.take().expect("a batch")[0].chunk_us.len(),
            MAX_CHUNK_TIMES
        );
    }

    #[test]
    fn a_shard_id_as_long_as_a_message_leaves_no_room_and_nothing_is_sent() {
        let mut b = RecordBatcher::new(&"x".repeat(swarm_proto::MAX_MESSAGE_BYTES));
        assert!(b.push(&rec(0, 1)).is_none());
        assert!(b.take().is_none());
    }
}
