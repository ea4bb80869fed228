//! The eval run store: `predictions/<model>/<bench>_<subset>.jsonl` and
//! `reviews/<model>/<bench>_<subset>.jsonl`, appended as predictions arrive, read back on resume.

use std::collections::{BTreeMap, HashSet};
use std::fs::OpenOptions;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use swarm_eval::task::Prediction;

use super::progress::ProgressFile;

mod rewrite;

/// Predictions of one model, keyed by benchmark.
pub struct EvalStore {
    root: PathBuf,
    model: String,
    seen: HashSet<(String, String, u32)>,
    /// Every stored prediction, per benchmark.
    pub predictions: BTreeMap<String, Vec<Prediction>>,
    /// Counts of this run's items, kept in `progress.json` as predictions are stored.
    pub progress: Option<ProgressFile>,
    /// Some predictions were written by EvalScope (their reviews are kept when ours replace
    /// them).
    foreign: bool,
    /// Per benchmark, this run's requests that left no prediction (the perf coverage's rest).
    pub failed: BTreeMap<String, u64>,
}

fn safe(name: &str) -> String {
    crate::run_store::stage_files::keep_only(name, "-_.")
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
            progress: None,
            foreign: false,
            failed: BTreeMap::new(),
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
                    if !line.contains("\"swarm\"") {
                        // a line EvalScope wrote: its reviews are kept when we rewrite ours
                        s.foreign = true;
                    }
                    match parse_line(&line, &f) {
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

    /// The model's folder name (under `predictions/`, `reviews/`, `reports/`).
    pub fn model_folder(&self) -> &str {
        &self.model
    }

    fn dir(&self, kind: &str) -> PathBuf {
        self.root.join(kind).join(&self.model)
    }

    /// Whether (benchmark, sample, repeat) already has a prediction.
    pub fn has(&self, benchmark: &str, sample_id: &str, repeat: u32) -> bool {
        self.seen
            .contains(&(benchmark.to_string(), sample_id.to_string(), repeat))
    }

    /// Stores a prediction once (false if it was already stored) and appends it and its review,
    /// in EvalScope's line shapes (our own record rides along under `swarm`).
    pub fn add(
        &mut self,
        p: Prediction,
        gold: &str,
        messages: &[serde_json::Value],
    ) -> anyhow::Result<bool> {
        let key = (p.benchmark.clone(), p.sample_id.clone(), p.repeat);
        if p.error.is_none() && !self.seen.insert(key) {
            return Ok(false);
        }
        let stem = format!("{}_{}.jsonl", safe(&p.benchmark), safe(&p.subset));
        let index = p
            .sample_id
            .strip_prefix(&format!("{}_", p.subset))
            .unwrap_or(&p.sample_id)
            .to_string();
        let prediction = self.prediction_json(&p, &index, messages);
        append(
            &self.dir("predictions").join(&stem),
            &prediction.to_string(),
        )?;
        let review = review_json(&p, &index, gold, messages);
        append(&self.dir("reviews").join(&stem), &review.to_string())?;
        if let Some(progress) = self.progress.as_mut() {
            progress.stored(&p.benchmark, p.error.is_some());
        }
        if p.error.is_some() {
            *self.failed.entry(p.benchmark.clone()).or_default() += 1;
        }
        if p.error.is_none() {
            self.predictions
                .entry(p.benchmark.clone())
                .or_default()
                .push(p);
        }
        Ok(true)
    }

    /// A predictions line in EvalScope's shape for `p` (our own record rides along under
    /// `swarm`).
    fn prediction_json(
        &self,
        p: &Prediction,
        index: &str,
        messages: &[serde_json::Value],
    ) -> serde_json::Value {
        // EvalScope's per-request perf record rides on the message, as its own lines carry it
        let perf = swarm_eval::perf::RequestPerf::of(p);
        let mut perf_json = serde_json::to_value(perf).unwrap_or_default();
        if let (Some(o), Some(tpot)) = (perf_json.as_object_mut(), perf.tpot()) {
            o.insert("tpot".into(), tpot.into());
        }
        serde_json::json!({
            "index": index_value(index),
            "model": self.model,
            "model_output": {
                "model": self.model,
                "choices": [{"message": {"role": "assistant", "content": p.completion, "reasoning_content": p.reasoning, "perf_metrics": perf_json}}],
                "usage": {"input_tokens": p.prompt_tokens, "output_tokens": p.completion_tokens, "reasoning_tokens": p.reasoning_tokens},
                "time": p.latency_us as f64 / 1e6,
            },
            "messages": messages,
            "metadata": {"repeat": p.repeat},
            "swarm": p,
        })
    }

    /// Where reports go.
    pub fn reports_dir(&self) -> PathBuf {
        self.dir("reports")
    }
}

/// A sample index as EvalScope writes it: an integer when it is one, else the string.
fn index_value(index: &str) -> serde_json::Value {
    match index.parse::<u64>() {
        Ok(n) => serde_json::Value::from(n),
        Err(_) => serde_json::Value::from(index),
    }
}

/// A review line in EvalScope's shape for prediction `p` of the sample whose index is `index`.
fn review_json(
    p: &Prediction,
    index: &str,
    gold: &str,
    messages: &[serde_json::Value],
) -> serde_json::Value {
    let index = index_value(index);
    let mut score = serde_json::json!({"value": p.score.values, "extracted_prediction": p.extracted, "prediction": p.completion, "main_score_name": p.score.main});
    // the judge's part under EvalScope's names: status, judge_summary, metadata.judge_attempts
    if let (Some(j), Some(o)) = (&p.judge, score.as_object_mut()) {
        o.extend(j.review_fields());
    }
    serde_json::json!({
        "index": index,
        "target": gold,
        "messages": messages,
        "trajectory": [],
        "sample_score": {
            "score": score,
            "sample_id": index,
            "group_id": index,
        },
        "repeat": p.repeat,
        "error": p.error,
    })
}

/// One predictions line: ours (the record under `swarm`), or EvalScope's own (`index`,
/// `model_output`), whose benchmark and subset come from the file name `<bench>_<subset>.jsonl`.
fn parse_line(line: &str, file: &Path) -> anyhow::Result<Prediction> {
    let v: serde_json::Value = serde_json::from_str(line)?;
    if let Some(ours) = v.get("swarm") {
        return Ok(serde_json::from_value(ours.clone())?);
    }
    let stem = file
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    let Some((bench, subset)) = crate::run_store::eval_lines::known_bench(stem) else {
        anyhow::bail!("file name {stem:?} is not <benchmark>_<subset>");
    };
    let p = crate::run_store::eval_lines::PredictionLine::parse(line)?;
    let (completion, reasoning) = p.answer();
    let perf = foreign_perf(&v);
    Ok(Prediction {
        completion,
        reasoning,
        prompt_tokens: perf.input_tokens,
        completion_tokens: perf.output_tokens,
        latency_us: perf.latency_us,
        ttft_us: perf.ttft_us,
        ..unscored(&bench, &subset, format!("{subset}_{}", p.index), 0)
    })
}

/// What an EvalScope line says of its request: the message's `perf_metrics` (1.14), else the
/// output's `time` and `usage`.
#[derive(Debug, Default, PartialEq)]
struct ForeignPerf {
    latency_us: u64,
    ttft_us: Option<u64>,
    input_tokens: u32,
    output_tokens: u32,
}

fn foreign_perf(line: &serde_json::Value) -> ForeignPerf {
    let out = &line["model_output"];
    let perf = &out["choices"][0]["message"]["perf_metrics"];
    let us = |v: &serde_json::Value| {
        v.as_f64()
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(|s| (s * 1e6).round() as u64)
    };
    let tokens = |v: &serde_json::Value| {
        v.as_u64()
            .map(|n| u32::try_from(n).unwrap_or(u32::MAX))
            .unwrap_or(0)
    };
    let pick = |key: &str, usage_key: &str| {
        if perf[key].is_u64() {
            tokens(&perf[key])
        } else {
            tokens(&out["usage"][usage_key])
        }
    };
    ForeignPerf {
        latency_us: us(&perf["latency"])
            .or_else(|| us(&out["time"]))
            .unwrap_or(0),
        ttft_us: us(&perf["ttft"]),
        input_tokens: pick("input_tokens", "input_tokens"),
        output_tokens: pick("output_tokens", "output_tokens"),
    }
}

/// The prediction of `sample_id`'s `repeat` before anything was generated or scored.
pub fn unscored(benchmark: &str, subset: &str, sample_id: String, repeat: u32) -> Prediction {
    Prediction {
        benchmark: benchmark.to_string(),
        subset: subset.to_string(),
        sample_id,
        repeat,
        completion: String::new(),
        reasoning: String::new(),
        extracted: String::new(),
        score: swarm_eval::Score {
            extracted: String::new(),
            values: Default::default(),
            main: String::new(),
        },
        prompt_tokens: 0,
        completion_tokens: 0,
        reasoning_tokens: 0,
        latency_us: 0,
        ttft_us: None,
        error: None,
        judge: None,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evalscope_lines_give_their_perf_metrics_or_time_and_usage() {
        let v = serde_json::json!({"model_output": {
            "choices": [{"message": {"perf_metrics": {"latency": 1.25, "ttft": 0.125, "input_tokens": 9, "output_tokens": 4}}}],
            "usage": {"input_tokens": 1, "output_tokens": 1}, "time": 9.0}});
        assert_eq!(
            foreign_perf(&v),
            ForeignPerf {
                latency_us: 1_250_000,
                ttft_us: Some(125_000),
                input_tokens: 9,
                output_tokens: 4
            }
        );
        let legacy = serde_json::json!({"model_output": {"choices": [{"message": {}}],
            "usage": {"input_tokens": 7, "output_tokens": 3}, "time": 0.5}});
        assert_eq!(
            foreign_perf(&legacy),
            ForeignPerf {
                latency_us: 500_000,
                ttft_us: None,
                input_tokens: 7,
                output_tokens: 3
            }
        );
        let hostile =
            serde_json::json!({"model_output": {"time": -1.0, "usage": {"input_tokens": "x"}}});
        assert_eq!(foreign_perf(&hostile), ForeignPerf::default());
    }
}
