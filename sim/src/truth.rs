//! The truth log: the simulator's own record of when it handed each chunk to the HTTP layer,
//! so a load tester's measured latencies can be checked against what the server actually did.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

/// What the simulator did for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TruthEntry {
    /// When the request's headers reached the handler.
    pub received: Instant,
    /// When each chunk (SSE event, or the whole body of a non-streaming answer) was handed to
    /// the HTTP layer. Events coalesced into one write share an instant.
    pub chunk_sent: Vec<Instant>,
    /// Indices into `chunk_sent` of the chunks that carried a token.
    pub token_chunks: Vec<usize>,
    /// Prompt tokens the simulator counted (and reported in `usage`).
    pub prompt_tokens: u64,
}

/// Shared map from request id to [`TruthEntry`]. Cloning shares the same log.
///
/// The id is the request's `x-request-id` header, or the response id (`chatcmpl-sim-N`,
/// `cmpl-sim-N`) when the header is absent. An entry appears once its request's body is
/// complete, has failed, or was dropped; a repeated id replaces the older entry.
#[derive(Debug, Clone, Default)]
pub struct TruthLog {
    inner: Arc<Mutex<HashMap<String, TruthEntry>>>,
}

impl TruthLog {
    /// An empty log.
    pub fn new() -> Self {
        TruthLog::default()
    }

    /// The entry recorded for `id`, if any.
    pub fn get(&self, id: &str) -> Option<TruthEntry> {
        self.lock().get(id).cloned()
    }

    /// Number of recorded requests.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether nothing has been recorded.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// The ids recorded so far, in no particular order.
    pub fn ids(&self) -> Vec<String> {
        self.lock().keys().cloned().collect()
    }

    pub(crate) fn insert(&self, id: String, entry: TruthEntry) {
        self.lock().insert(id, entry);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, TruthEntry>> {
        // A panic while holding the lock cannot leave the map half-updated: keep using it.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Collects one request's instants while its body is sent, then files them in the log.
#[derive(Debug)]
pub(crate) struct TruthRecorder {
    log: TruthLog,
    id: String,
    entry: TruthEntry,
    /// Events written since the last frame was handed over.
    pending_events: usize,
    committed: bool,
}

impl TruthRecorder {
    pub(crate) fn new(log: TruthLog, id: String, received: Instant) -> Self {
        TruthRecorder {
            log,
            id,
            entry: TruthEntry {
                received,
                chunk_sent: Vec::new(),
                token_chunks: Vec::new(),
                prompt_tokens: 0,
            },
            pending_events: 0,
            committed: false,
        }
    }

    /// Notes the prompt tokens the simulator counted for this request.
    pub(crate) fn with_prompt_tokens(mut self, tokens: u64) -> Self {
        self.entry.prompt_tokens = tokens;
        self
    }

    /// Notes that one more event was written into the frame being built.
    pub(crate) fn event(&mut self, carries_token: bool) {
        if carries_token {
            self.entry
                .token_chunks
                .push(self.entry.chunk_sent.len() + self.pending_events);
        }
        self.pending_events += 1;
    }

    /// Stamps every pending event with the current instant: the frame is being handed over.
    pub(crate) fn frame_sent(&mut self) {
        let now = Instant::now();
        self.entry
            .chunk_sent
            .extend(std::iter::repeat_n(now, self.pending_events));
        self.pending_events = 0;
    }

    /// Files the entry in the log (once).
    pub(crate) fn commit(&mut self) {
        if !self.committed {
            self.committed = true;
            let entry = TruthEntry {
                received: self.entry.received,
                chunk_sent: std::mem::take(&mut self.entry.chunk_sent),
                token_chunks: std::mem::take(&mut self.entry.token_chunks),
                prompt_tokens: self.entry.prompt_tokens,
            };
            self.log.insert(std::mem::take(&mut self.id), entry);
        }
    }
}

impl Drop for TruthRecorder {
    fn drop(&mut self) {
        self.commit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorder_indexes_token_chunks_across_frames() {
        let log = TruthLog::new();
        let received = Instant::now();
        let mut rec = TruthRecorder::new(log.clone(), "r1".into(), received);
        rec.event(false); // role
        rec.event(true); // token 0
        rec.frame_sent();
        rec.event(true); // token 1
        rec.event(false); // [DONE]
        rec.frame_sent();
        assert!(log.get("r1").is_none(), "not committed yet");
        rec.commit();
        let e = log.get("r1").unwrap();
        assert_eq!(e.received, received);
        assert_eq!(e.chunk_sent.len(), 4);
        assert_eq!(e.token_chunks, vec![1, 2]);
        assert_eq!(e.chunk_sent[0], e.chunk_sent[1]);
        assert!(e.chunk_sent[2] >= e.chunk_sent[1]);
        assert_eq!(log.len(), 1);
    }

    #[test]
    fn drop_commits_once() {
        let log = TruthLog::new();
        {
            let mut rec = TruthRecorder::new(log.clone(), "r2".into(), Instant::now());
            rec.event(true);
            rec.frame_sent();
        }
        assert_eq!(log.get("r2").unwrap().token_chunks, vec![0]);
        assert_eq!(log.len(), 1);
        assert!(!log.is_empty());
        assert_eq!(log.ids(), vec!["r2".to_owned()]);
    }
}
