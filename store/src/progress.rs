//! `progress.json` in an eval folder (beside `predictions/`): per model folder and benchmark, how
//! many (sample, repeat) items the eval plans and how many have a stored prediction, rewritten
//! at most about once a second while predictions arrive (write to a temporary file, then rename)
//! so `coordinator app` can show done / total. Kept when the eval ends, with `finished` set.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tokio::time::{Duration, Instant};

/// The file name.
pub const PROGRESS_FILE: &str = "progress.json";

/// What `progress.json` holds: model folder → its progress.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EvalProgress {
    /// Per model folder (the name under `predictions/`).
    pub models: BTreeMap<String, ModelProgress>,
}

/// One model's eval.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelProgress {
    /// The job's benchmarks in run order.
    pub benchmarks: Vec<BenchProgress>,
    /// The eval job ended (every item done, or cancelled).
    pub finished: bool,
    /// When this was written, Unix milliseconds.
    pub updated_unix_ms: u64,
}

/// One benchmark of a model's eval.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BenchProgress {
    /// The benchmark.
    pub name: String,
    /// (sample, repeat) items planned; None until the benchmark's samples are loaded.
    pub total: Option<u64>,
    /// Items with a stored prediction (kept from an earlier run included, failed ones too).
    pub done: u64,
    /// Items stored as failed after every attempt.
    pub failed: u64,
}

impl ModelProgress {
    /// Items done over every benchmark.
    pub fn done(&self) -> u64 {
        self.benchmarks.iter().map(|b| b.done).sum()
    }

    /// Items planned over every benchmark; None while one is not loaded yet.
    pub fn total(&self) -> Option<u64> {
        self.benchmarks.iter().map(|b| b.total).sum()
    }
}

/// Reads `<root>/progress.json` (an empty progress when it is missing or unreadable).
pub fn read_progress(root: &Path) -> EvalProgress {
    std::fs::read(root.join(PROGRESS_FILE))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

/// The writer of one model's entry in an eval folder's `progress.json`. A file that cannot be
/// written is logged, never an error of the eval.
#[derive(Debug)]
pub struct ProgressFile {
    root: PathBuf,
    model: String,
    state: ModelProgress,
    last_write: Option<Instant>,
}

/// The least time between two writes while predictions arrive.
const EVERY: Duration = Duration::from_secs(1);

impl ProgressFile {
    /// The progress of `model` (its folder name) over `benchmarks` in the eval folder `root`;
    /// written at once.
    pub fn new(root: &Path, model: &str, benchmarks: &[String]) -> Self {
        let mut f = Self {
            root: root.to_path_buf(),
            model: model.to_string(),
            state: ModelProgress {
                benchmarks: benchmarks
                    .iter()
                    .map(|b| BenchProgress {
                        name: b.clone(),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            },
            last_write: None,
        };
        f.write();
        f
    }

    fn bench(&mut self, name: &str) -> &mut BenchProgress {
        if let Some(i) = self.state.benchmarks.iter().position(|b| b.name == name) {
            return &mut self.state.benchmarks[i];
        }
        self.state.benchmarks.push(BenchProgress {
            name: name.to_string(),
            ..Default::default()
        });
        let last = self.state.benchmarks.len() - 1;
        &mut self.state.benchmarks[last]
    }

    /// `benchmark`'s samples are loaded: `total` items planned, `done` of them already stored.
    pub fn planned(&mut self, benchmark: &str, total: u64, done: u64) {
        let b = self.bench(benchmark);
        b.total = Some(total);
        b.done = done;
        b.failed = 0;
        self.write();
    }

    /// One more item of `benchmark` stored (`failed`: as failed); written if a second passed.
    pub fn stored(&mut self, benchmark: &str, failed: bool) {
        let b = self.bench(benchmark);
        b.done += 1;
        if failed {
            b.failed += 1;
        }
        if self.last_write.is_none_or(|t| t.elapsed() >= EVERY) {
            self.write();
        }
    }

    /// The eval job ended: writes the final counts.
    pub fn finish(&mut self) {
        self.state.finished = true;
        self.write();
    }

    /// What this writer holds now.
    pub fn state(&self) -> &ModelProgress {
        &self.state
    }

    fn write(&mut self) {
        self.last_write = Some(Instant::now());
        self.state.updated_unix_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        // other models of the same folder keep their entries
        let mut all = read_progress(&self.root);
        all.models.insert(self.model.clone(), self.state.clone());
        let path = self.root.join(PROGRESS_FILE);
        // one temporary file per model: two models of one folder never rename the same file
        let tmp = self.root.join(format!(
            "{PROGRESS_FILE}.{}.tmp",
            self.model.replace('/', "_")
        ));
        let written = serde_json::to_vec_pretty(&all)
            .map_err(std::io::Error::other)
            .and_then(|text| {
                std::fs::create_dir_all(&self.root)?;
                std::fs::write(&tmp, text)?;
                std::fs::rename(&tmp, &path)
            });
        if let Err(e) = written {
            tracing::debug!(file = %path.display(), error = %e, "cannot write eval progress");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_written_and_other_models_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let benches = vec!["gsm8k".to_string(), "math_500".to_string()];
        let mut other = ProgressFile::new(dir.path(), "other", &benches[..1]);
        other.planned("gsm8k", 4, 4);
        other.finish();
        let mut f = ProgressFile::new(dir.path(), "m", &benches);
        let back = read_progress(dir.path());
        assert_eq!(back.models["m"].total(), None, "math_500 not loaded yet");
        f.planned("gsm8k", 10, 3);
        f.planned("math_500", 5, 0);
        f.stored("gsm8k", false); // within a second of the last write: kept in memory
        f.stored("math_500", true);
        assert_eq!(read_progress(dir.path()).models["m"].done(), 3);
        assert_eq!((f.state().done(), f.state().total()), (5, Some(15)));
        f.finish();
        let back = read_progress(dir.path());
        let m = &back.models["m"];
        assert!(m.finished);
        assert_eq!((m.done(), m.total()), (5, Some(15)));
        assert_eq!(m.benchmarks[1].failed, 1);
        assert_eq!(back.models["other"].done(), 4);
        assert!(!dir.path().join("progress.json.tmp").exists());
    }
}
