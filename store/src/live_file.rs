//! `live.json` in a running stage's folder: the numbers so far, rewritten about once a second
//! (write to a temporary file, then rename) so another process — `coordinator app` — can watch
//! the run. Removed when the stage's files are written.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tokio::task::JoinHandle;

/// What `live.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveStatus {
    /// The workload.
    pub workload: String,
    /// The stage.
    pub stage: String,
    /// Seconds since the stage began.
    pub elapsed_s: f64,
    /// Requests finished.
    pub total: u64,
    /// Requests that failed.
    pub failed: u64,
    /// Requests planned (None when a duration bounds the stage).
    pub planned: Option<u64>,
    /// Requests finished per second since the start.
    pub req_per_s: f64,
    /// Completion tokens per second since the start.
    pub output_tok_per_s: f64,
    /// p99 time to first token so far, ms.
    pub ttft_p99_ms: f64,
    /// Agents connected.
    pub agents: u64,
    /// When this was written, Unix milliseconds.
    pub updated_unix_ms: u64,
}

/// The writer of one stage's `live.json`; writes happen off the async runtime, one at a time.
pub struct LiveFile {
    path: PathBuf,
    pending: Option<JoinHandle<()>>,
    last_s: f64,
}

impl LiveFile {
    /// A writer for `<dir>/live.json`.
    pub fn new(dir: &Path) -> Self {
        Self {
            path: dir.join("live.json"),
            pending: None,
            last_s: f64::NEG_INFINITY,
        }
    }

    /// Writes `status` unless one was written less than a second ago or is still being written.
    pub fn update(&mut self, status: &LiveStatus) {
        if status.elapsed_s - self.last_s < 1.0
            || self.pending.as_ref().is_some_and(|h| !h.is_finished())
        {
            return;
        }
        self.last_s = status.elapsed_s;
        let Ok(text) = serde_json::to_vec(status) else {
            return;
        };
        let path = self.path.clone();
        self.pending = Some(tokio::task::spawn_blocking(move || {
            let tmp = path.with_extension("json.tmp");
            if let Err(e) = std::fs::write(&tmp, text).and_then(|()| std::fs::rename(&tmp, &path)) {
                tracing::debug!(file = %path.display(), error = %e, "cannot write live status");
            }
        }));
    }

    /// Waits for the last write and removes the file: the stage is over.
    pub async fn finish(mut self) {
        if let Some(h) = self.pending.take() {
            let _ = h.await;
        }
        let _ = tokio::fs::remove_file(&self.path).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(elapsed_s: f64, total: u64) -> LiveStatus {
        LiveStatus {
            workload: "w".into(),
            stage: "s".into(),
            elapsed_s,
            total,
            failed: 0,
            planned: Some(10),
            req_per_s: 1.0,
            output_tok_per_s: 2.0,
            ttft_p99_ms: 3.0,
            agents: 1,
            updated_unix_ms: 0,
        }
    }

    #[tokio::test]
    async fn writes_then_removes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut f = LiveFile::new(dir.path());
        f.update(&status(1.0, 4));
        if let Some(h) = f.pending.take() {
            h.await.expect("write");
        }
        let text = std::fs::read_to_string(dir.path().join("live.json")).expect("written");
        let back: LiveStatus = serde_json::from_str(&text).expect("parses");
        assert_eq!(back.total, 4);
        f.update(&status(1.5, 5)); // within a second: skipped
        assert!(f.pending.is_none());
        f.finish().await;
        assert!(!dir.path().join("live.json").exists());
    }
}
