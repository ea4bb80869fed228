//! The eval run store: `predictions/<model>/<bench>_<subset>.jsonl` and
//! `reviews/<model>/<bench>_<subset>.jsonl`, appended as predictions arrive, read back on resume.

use std::collections::{BTreeMap, HashSet};
use std::fs::OpenOptions;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use swarm_common::eval::task::Prediction;

/// Predictions of one model, keyed by benchmark.
pub struct EvalStore {
    root: PathBuf,
    model: String,
    seen: HashSet<(String, String, u32)>,
    /// Every stored prediction, per benchmark.
    pub predictions: BTreeMap<String, Vec<Prediction>>,
}

fn safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

impl EvalStore {
    /// Opens the store under `root` (an eval workload folder), loading what a previous run of
    /// the same folder already predicted. Predictions with an error are not loaded (retried).
    pub fn open(root: &Path, model: &str) -> anyhow::Result<Self> {
        let mut s = Self {
            root: root.to_path_buf(),
            model: safe(model),
            seen: HashSet::new(),
            predictions: BTreeMap::new(),
        };
        let dir = s.dir("predictions");
        if dir.is_dir() {
            let mut files: Vec<_> = std::fs::read_dir(&dir)
                .with_context(|| format!("cannot read {}", dir.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
                .collect();
            files.sort();
            for f in files {
                let file = std::fs::File::open(&f)
                    .with_context(|| format!("cannot open {}", f.display()))?;
                for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
                    let line = line.with_context(|| format!("{}:{}", f.display(), n + 1))?;
                    if line.trim().is_empty() {
                        continue;
                    }
                    match serde_json::from_str::<Prediction>(&line) {
                        Ok(p) if p.error.is_none() => {
                            if s.seen
                                .insert((p.benchmark.clone(), p.sample_id.clone(), p.repeat))
                            {
                                s.predictions
                                    .entry(p.benchmark.clone())
                                    .or_default()
                                    .push(p);
                            }
                        }
                        Ok(_) => {}
                        // a line cut by a crash mid-write: that sample is simply predicted again
                        Err(e) => {
                            tracing::warn!(file = %f.display(), line = n + 1, error = %e, "skipping an unreadable prediction")
                        }
                    }
                }
            }
        }
        Ok(s)
    }

    fn dir(&self, kind: &str) -> PathBuf {
        self.root.join(kind).join(&self.model)
    }

    /// Whether (benchmark, sample, repeat) already has a prediction.
    pub fn has(&self, benchmark: &str, sample_id: &str, repeat: u32) -> bool {
        self.seen
            .contains(&(benchmark.to_string(), sample_id.to_string(), repeat))
    }

    /// Stores a prediction once (false if it was already stored) and appends it and its review.
    pub fn add(&mut self, p: Prediction, gold: &str) -> anyhow::Result<bool> {
        let key = (p.benchmark.clone(), p.sample_id.clone(), p.repeat);
        if p.error.is_none() && !self.seen.insert(key) {
            return Ok(false);
        }
        let stem = format!("{}_{}.jsonl", safe(&p.benchmark), safe(&p.subset));
        append(
            &self.dir("predictions").join(&stem),
            &serde_json::to_string(&p)?,
        )?;
        let review = serde_json::json!({
            "sample_id": p.sample_id, "subset": p.subset, "repeat": p.repeat, "gold": gold,
            "prediction": p.completion, "extracted": p.extracted, "score": p.score, "error": p.error,
        });
        append(&self.dir("reviews").join(&stem), &review.to_string())?;
        if p.error.is_none() {
            self.predictions
                .entry(p.benchmark.clone())
                .or_default()
                .push(p);
        }
        Ok(true)
    }

    /// Where reports go.
    pub fn reports_dir(&self) -> PathBuf {
        self.dir("reports")
    }
}

fn append(path: &Path, line: &str) -> anyhow::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    writeln!(f, "{line}").with_context(|| format!("cannot write {}", path.display()))
}
