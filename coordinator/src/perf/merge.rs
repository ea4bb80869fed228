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
    let mut recs = Vec::with_capacity(b.records.len());
    for (i, r) in b.records.iter().enumerate() {
        match RequestRecord::try_from(r) {
            Ok(r) => recs.push(r),
            // 1-based, as the lines of a JSON-lines batch were
            Err(error) => {
                tracing::warn!(agent_id, shard = %b.shard_id, batch = b.seq, record = i + 1, %error, "bad record from agent")
            }
        }
    }
    Ok(w.write(&b.shard_id, recs)?)
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

#[cfg(test)]
mod tests {
    use super::*;
    use swarm_common::metrics::aggregate::HistSettings;
    use swarm_common::metrics::record_wire::to_wire;

    use crate::perf::shards::tests::spec;

    fn rec(id: u64) -> RequestRecord {
        RequestRecord {
            id,
            sent_us: 10 + id,
            latency_us: 1_000,
            chunk_us: vec![100, 200],
            completion_tokens: 2,
            status: 200,
            ..Default::default()
        }
    }

    /// Rows of `requests.sqlite`: (id, chunk_us as stored).
    fn rows(path: &std::path::Path) -> Vec<(i64, String)> {
        let conn = rusqlite::Connection::open(path).expect("open");
        let mut stmt = conn
            .prepare("SELECT id, chunk_us FROM requests ORDER BY id")
            .expect("prepare");
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .expect("query")
            .map(|r| r.expect("row"))
            .collect()
    }

    #[test]
    fn typed_records_are_stored_once_and_bad_ones_left_out() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("requests.sqlite");
        let w = RecordWriter::open(&path).expect("open");
        let mut book = Book::new(HistSettings::default()).expect("book");
        book.add("s0", "a", 1, 0, spec()).expect("add");
        let mut unspecified = to_wire(&rec(1));
        unspecified.token_source = swarm_proto::TokenSource::Unspecified as i32;
        let mut unsorted = to_wire(&rec(2));
        unsorted.chunk_us = vec![5, 4];
        let batch = RecordBatch {
            shard_id: "s0".into(),
            seq: 1,
            records: vec![to_wire(&rec(0)), unspecified, unsorted, to_wire(&rec(3))],
        };
        records(&mut book, Some(&w), "a", &batch).expect("stored");
        // a resend of the same batch, and a batch for a shard the book does not hold
        records(&mut book, Some(&w), "a", &batch).expect("ignored");
        let stranger = RecordBatch {
            shard_id: "nope".into(),
            ..batch.clone()
        };
        records(&mut book, Some(&w), "a", &stranger).expect("ignored");
        assert_eq!(w.finish().expect("flushed"), 2);
        assert_eq!(
            rows(&path),
            [(0, "[100,200]".to_owned()), (3, "[100,200]".to_owned())]
        );
    }
}
