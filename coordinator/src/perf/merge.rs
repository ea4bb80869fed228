//! What a shard's messages add to a stage's book, apart from who may send them: deltas decoded
//! from snapshots, where its prompts came from, its per-request records, how it reached the
//! target.

use anyhow::Context;
use swarm_common::metrics::RequestRecord;
use swarm_common::metrics::aggregate::{AggregateDelta, HistSettings};
use swarm_proto::{HttpVersion as Wire, RecordBatch, ShardDone, ShardStarted, agent_message::Msg};

use super::shards::{Book, Fetched, Link, ShardStatus};
use crate::run_store::breakdown::HttpVersion;
use crate::run_store::sqlite::RecordWriter;

/// The shard a message is about, if it is about one.
pub(super) fn shard_of(msg: &Msg) -> Option<&str> {
    match msg {
        Msg::Started(m) => Some(&m.shard_id),
        Msg::Progress(m) => Some(&m.shard_id),
        Msg::Records(m) => Some(&m.shard_id),
        Msg::Done(m) => Some(&m.shard_id),
        Msg::Failed(m) => Some(&m.shard_id),
        _ => None,
    }
}

/// The delta a progress or done message carries (empty for other messages).
pub(super) fn delta_of(msg: &Msg, settings: HistSettings) -> anyhow::Result<AggregateDelta> {
    let (snap, shard) = match msg {
        Msg::Progress(p) => (p.delta.as_ref(), &p.shard_id),
        Msg::Done(d) => (d.last.as_ref(), &d.shard_id),
        _ => return Ok(AggregateDelta::default()),
    };
    match snap {
        Some(s) => swarm_common::wire::delta_from_snapshot(s, settings)
            .with_context(|| format!("bad snapshot for shard {shard}")),
        None => Ok(AggregateDelta::default()),
    }
}

/// Notes the start skew and prompt fetch a shard reported.
pub(super) fn started(book: &mut Book, s: &ShardStarted) {
    if let Some(sh) = book.shards.get_mut(&s.shard_id) {
        sh.skew_us = Some(s.start_skew_us);
        let (bytes, prompts, used) = (s.prompt_bytes_fetched, s.prompts_fetched, s.prompts_used);
        sh.fetched = Some(Fetched {
            bytes,
            prompts,
            used,
        });
    }
}

/// Stores a batch of per-request records once (none for a lost shard: its budget went on).
pub(super) fn records(
    book: &mut Book,
    writer: Option<&RecordWriter>,
    agent_id: &str,
    b: &RecordBatch,
) -> anyhow::Result<()> {
    let fresh = book
        .shards
        .get_mut(&b.shard_id)
        .is_some_and(|s| s.status != ShardStatus::Lost && s.record_batches.insert(b.seq));
    let Some(w) = writer.filter(|_| fresh) else {
        return Ok(());
    };
    let batch = swarm_common::lines::decode::<RequestRecord>(&b.jsonl);
    for bad in &batch.bad {
        tracing::warn!(agent_id, shard = %b.shard_id, batch = b.seq, line = bad.line, error = %bad.error, "bad record line from agent");
    }
    Ok(w.write(&b.shard_id, batch.items)?)
}

/// How a finished shard reached its target.
pub(super) fn link_of(d: &ShardDone) -> Link {
    let http = match Wire::try_from(d.http_version) {
        Ok(Wire::HttpVersion11) => Some(HttpVersion::Http1),
        Ok(Wire::HttpVersion2) => Some(HttpVersion::Http2),
        _ => None,
    };
    Link {
        connections: d.connections,
        http,
    }
}
