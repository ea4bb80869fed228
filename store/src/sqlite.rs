//! Per-request records to SQLite, written by a dedicated thread so the request path never
//! waits on disk.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;

use rusqlite::{Connection, params};
use swarm_common::metrics::RequestRecord;

/// Errors of the record store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite refused an operation.
    #[error("sqlite {path}: {source}")]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// The SQLite error.
        source: rusqlite::Error,
    },
    /// The writer thread died.
    #[error("sqlite writer for {0} stopped unexpectedly")]
    WriterGone(PathBuf),
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS requests (
    shard TEXT NOT NULL,
    id INTEGER NOT NULL,
    scheduled_us INTEGER,
    sent_us INTEGER NOT NULL,
    ttft_us INTEGER,
    ttfo_us INTEGER,
    latency_us INTEGER NOT NULL,
    chunk_us TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    reasoning_tokens INTEGER NOT NULL,
    cached_tokens INTEGER NOT NULL,
    token_source TEXT NOT NULL,
    status INTEGER NOT NULL,
    error TEXT,
    error_detail TEXT,
    conversation INTEGER,
    turn INTEGER,
    PRIMARY KEY (shard, id)
);";

enum Msg {
    Batch(String, Vec<RequestRecord>),
}

/// A handle to the writer thread of one `requests.sqlite` file.
pub struct RecordWriter {
    path: PathBuf,
    tx: Option<mpsc::Sender<Msg>>,
    thread: Option<JoinHandle<Result<u64, StoreError>>>,
}

fn sql(path: &Path) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
    move |source| StoreError::Sqlite {
        path: path.to_path_buf(),
        source,
    }
}

fn write_batch(
    conn: &mut Connection,
    path: &Path,
    shard: &str,
    recs: &[RequestRecord],
) -> Result<(), StoreError> {
    let tx = conn.transaction().map_err(sql(path))?;
    {
        let mut stmt = tx
            .prepare_cached(
                "INSERT OR REPLACE INTO requests VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18)",
            )
            .map_err(sql(path))?;
        for r in recs {
            let chunks = serde_json::to_string(&r.chunk_us).unwrap_or_else(|_| "[]".into());
            let source = match r.token_source {
                swarm_common::metrics::TokenSource::Usage => "usage",
                swarm_common::metrics::TokenSource::Tokenizer => "tokenizer",
                swarm_common::metrics::TokenSource::Unknown => "chunks",
            };
            stmt.execute(params![
                shard,
                r.id as i64,
                r.scheduled_us.map(|v| v as i64),
                r.sent_us as i64,
                r.ttft_us.map(|v| v as i64),
                r.ttfo_us.map(|v| v as i64),
                r.latency_us as i64,
                chunks,
                r.prompt_tokens,
                r.completion_tokens,
                r.reasoning_tokens,
                r.cached_tokens,
                source,
                r.status,
                r.error.map(|e| e.as_str()),
                r.error_detail,
                r.conversation.map(|v| v as i64),
                r.turn,
            ])
            .map_err(sql(path))?;
        }
    }
    tx.commit().map_err(sql(path))
}

impl RecordWriter {
    /// Opens (creating) the database and starts its writer thread.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let mut conn = Connection::open(path).map_err(sql(path))?;
        conn.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
            .map_err(sql(path))?;
        conn.execute_batch(SCHEMA).map_err(sql(path))?;
        let (tx, rx) = mpsc::channel::<Msg>();
        let owned = path.to_path_buf();
        let thread = std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || {
                let mut written = 0u64;
                let mut failure = None;
                for Msg::Batch(shard, recs) in rx {
                    if failure.is_some() {
                        continue; // keep draining so senders never block on a dead writer
                    }
                    match write_batch(&mut conn, &owned, &shard, &recs) {
                        Ok(()) => written += recs.len() as u64,
                        Err(e) => failure = Some(e),
                    }
                }
                match failure {
                    Some(e) => Err(e),
                    None => Ok(written),
                }
            })
            .map_err(|_| StoreError::WriterGone(path.to_path_buf()))?;
        Ok(Self {
            path: path.to_path_buf(),
            tx: Some(tx),
            thread: Some(thread),
        })
    }

    /// Queues a batch of one shard's records.
    pub fn write(&self, shard: &str, recs: Vec<RequestRecord>) -> Result<(), StoreError> {
        match &self.tx {
            Some(tx) => tx
                .send(Msg::Batch(shard.to_string(), recs))
                .map_err(|_| StoreError::WriterGone(self.path.clone())),
            None => Err(StoreError::WriterGone(self.path.clone())),
        }
    }

    /// Flushes everything queued and closes the file; returns the rows written.
    pub fn finish(mut self) -> Result<u64, StoreError> {
        self.tx.take();
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(r)) => r,
            _ => Err(StoreError::WriterGone(self.path.clone())),
        }
    }
}

impl Drop for RecordWriter {
    fn drop(&mut self) {
        self.tx.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use swarm_common::metrics::ErrorClass;

    #[test]
    fn writes_and_reads_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("requests.sqlite");
        let w = RecordWriter::open(&path).expect("open");
        let recs = vec![
            RequestRecord {
                id: 0,
                sent_us: 5,
                latency_us: 100,
                chunk_us: vec![10, 20],
                completion_tokens: 2,
                status: 200,
                ..Default::default()
            },
            RequestRecord {
                id: 1,
                sent_us: 6,
                latency_us: 7,
                status: 500,
                error: Some(ErrorClass::Http5xx),
                error_detail: Some("boom".into()),
                ..Default::default()
            },
        ];
        w.write("s/0", recs).expect("queued");
        assert_eq!(w.finish().expect("flushed"), 2);
        let conn = Connection::open(&path).expect("reopen");
        let (n, errs): (i64, i64) = conn
            .query_row("SELECT count(*), count(error) FROM requests", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .expect("query");
        assert_eq!((n, errs), (2, 1));
        let chunks: String = conn
            .query_row("SELECT chunk_us FROM requests WHERE id = 0", [], |r| {
                r.get(0)
            })
            .expect("query");
        assert_eq!(chunks, "[10,20]");
    }
}
