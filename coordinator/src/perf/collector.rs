//! Folds a stage's request records into its aggregate, batches them to SQLite and keeps the
//! live progress counters.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use swarm_agent::perf::ShardEvent;
use swarm_common::metrics::aggregate::HistSettings;
use swarm_common::metrics::histogram::HistError;
use swarm_common::metrics::{RequestRecord, StageAggregate};

use crate::output::sqlite::{RecordWriter, StoreError};

const BATCH: usize = 512;

/// Live counters a progress display reads.
#[derive(Debug, Default)]
pub struct Progress {
    /// Requests finished.
    pub done: AtomicU64,
    /// Requests failed.
    pub failed: AtomicU64,
}

/// One stage's collector.
pub struct StageCollector {
    agg: StageAggregate,
    epoch_unix_us: u64,
    writer: Option<RecordWriter>,
    batch: Vec<RequestRecord>,
    shard: String,
    progress: Arc<Progress>,
    store_error: Option<StoreError>,
}

impl StageCollector {
    /// A collector for one shard's events; `writer` receives every record when given.
    pub fn new(
        settings: HistSettings,
        shard: &str,
        writer: Option<RecordWriter>,
        progress: Arc<Progress>,
    ) -> Result<Self, HistError> {
        Ok(Self {
            agg: StageAggregate::new(settings)?,
            epoch_unix_us: 0,
            writer,
            batch: Vec::with_capacity(BATCH),
            shard: shard.to_string(),
            progress,
            store_error: None,
        })
    }

    /// Handles one event from the executor.
    pub fn on_event(&mut self, ev: ShardEvent) {
        match ev {
            ShardEvent::Started { epoch_unix_us } => self.epoch_unix_us = epoch_unix_us,
            ShardEvent::Record(r) => {
                self.agg.record(&r, self.epoch_unix_us);
                self.progress.done.fetch_add(1, Ordering::Relaxed);
                if !r.is_success() {
                    self.progress.failed.fetch_add(1, Ordering::Relaxed);
                }
                if self.writer.is_some() {
                    self.batch.push(r);
                    if self.batch.len() >= BATCH {
                        self.flush();
                    }
                }
            }
        }
    }

    fn flush(&mut self) {
        if self.batch.is_empty() {
            return;
        }
        let recs = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH));
        if let Some(w) = &self.writer
            && let Err(e) = w.write(&self.shard, recs)
        {
            self.store_error.get_or_insert(e);
        }
    }

    /// Flushes the store and returns the aggregate plus any store failure (the aggregate is
    /// complete either way).
    pub fn finish(mut self) -> (StageAggregate, Option<StoreError>) {
        self.flush();
        let mut err = self.store_error.take();
        if let Some(w) = self.writer.take()
            && let Err(e) = w.finish()
        {
            err.get_or_insert(e);
        }
        (self.agg, err)
    }
}
