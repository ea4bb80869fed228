//! Rewriting a benchmark's stored lines after a rescore: the reviews always (so reviews and
//! reports agree), the predictions when the judge gave new verdicts (so a later rescore keeps
//! them instead of going back to the ones the run first stored). EvalScope's own files are kept
//! once under `<kind>.orig/<model>/` before ours replace them.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use swarm_eval::Sample;
use swarm_eval::task::Prediction;

use super::{EvalStore, parse_line, review_json, safe};

impl EvalStore {
    /// Writes `benchmark`'s review files anew from its predictions as scored now (after a
    /// rescore), so reviews and reports agree. `samples` gives each sample's gold and messages
    /// by id.
    pub fn rewrite_reviews(
        &self,
        benchmark: &str,
        samples: &HashMap<&str, &Sample>,
    ) -> anyhow::Result<()> {
        let Some(preds) = self.predictions.get(benchmark) else {
            return Ok(());
        };
        let dir = self.dir("reviews");
        let prefix = format!("{}_", safe(benchmark));
        self.keep_originals("reviews")?;
        let mut files: BTreeMap<String, String> = BTreeMap::new();
        for p in preds {
            let stem = format!("{prefix}{}.jsonl", safe(&p.subset));
            let (gold, messages) = sample_parts(samples, p);
            let line = review_json(p, &index_of(p), gold, messages).to_string();
            let text = files.entry(stem).or_default();
            text.push_str(&line);
            text.push('\n');
        }
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        for (stem, text) in files {
            let path = dir.join(&stem);
            // whole file at once, through a temporary file: a crash leaves the old or the new
            let tmp = dir.join(format!(".{stem}.tmp"));
            std::fs::write(&tmp, text)
                .with_context(|| format!("cannot write {}", tmp.display()))?;
            std::fs::rename(&tmp, &path)
                .with_context(|| format!("cannot replace {}", path.display()))?;
        }
        Ok(())
    }

    /// Writes `benchmark`'s prediction files anew with its predictions as they stand now (after
    /// a rescore asked the judge), so the verdicts they carry are what a later rescore keeps.
    /// Line by line, in place of each stored line: lines of failed requests and of other
    /// benchmarks stay as they were.
    pub fn rewrite_predictions(
        &self,
        benchmark: &str,
        samples: &HashMap<&str, &Sample>,
    ) -> anyhow::Result<()> {
        let Some(preds) = self.predictions.get(benchmark) else {
            return Ok(());
        };
        let by_key: HashMap<(&str, u32), &Prediction> = preds
            .iter()
            .map(|p| ((p.sample_id.as_str(), p.repeat), p))
            .collect();
        let prefix = format!("{}_", safe(benchmark));
        self.keep_originals("predictions")?;
        for file in jsonl_files(&self.dir("predictions"))? {
            let named = file
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&prefix));
            if !named {
                continue;
            }
            rewrite_file(&file, |line| {
                let p = parse_line(line, &file).ok()?;
                if p.error.is_some() || p.benchmark != benchmark {
                    return None;
                }
                let now = by_key.get(&(p.sample_id.as_str(), p.repeat))?;
                let (_, messages) = sample_parts(samples, now);
                Some(
                    self.prediction_json(now, &index_of(now), messages)
                        .to_string(),
                )
            })?;
        }
        Ok(())
    }

    /// Keeps EvalScope's own `<kind>/<model>/` files once under `<kind>.orig/<model>/` before
    /// ours replace them (nothing when every line is ours, or when they were kept before).
    fn keep_originals(&self, kind: &str) -> anyhow::Result<()> {
        let dir = self.dir(kind);
        if !self.foreign || !dir.is_dir() {
            return Ok(());
        }
        let orig = self.root.join(format!("{kind}.orig")).join(&self.model);
        if orig.exists() {
            return Ok(());
        }
        std::fs::create_dir_all(&orig)
            .with_context(|| format!("cannot create {}", orig.display()))?;
        for f in std::fs::read_dir(&dir)
            .with_context(|| format!("cannot read {}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
        {
            if let Some(name) = f.file_name() {
                std::fs::copy(&f, orig.join(name))
                    .with_context(|| format!("cannot keep {}", f.display()))?;
            }
        }
        Ok(())
    }
}

/// `file` written again through a temporary file, each line replaced by what `new` makes of
/// it (kept as it is when None); read and written a line at a time.
fn rewrite_file(file: &Path, new: impl Fn(&str) -> Option<String>) -> anyhow::Result<()> {
    let name = file
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("predictions");
    let tmp = file.with_file_name(format!(".{name}.tmp"));
    let input =
        std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let out =
        std::fs::File::create(&tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
    let mut out = std::io::BufWriter::new(out);
    for (n, line) in std::io::BufReader::new(input).lines().enumerate() {
        let line = line.with_context(|| format!("{}:{}", file.display(), n + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        let text = new(&line).unwrap_or(line);
        writeln!(out, "{text}").with_context(|| format!("cannot write {}", tmp.display()))?;
    }
    out.flush()
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    drop(out);
    std::fs::rename(&tmp, file).with_context(|| format!("cannot replace {}", file.display()))
}

/// The `.jsonl` files of `dir`, sorted; none when it does not exist.
fn jsonl_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    files.sort();
    Ok(files)
}

/// The sample index of `p` as its files spell it (its id without the `<subset>_` prefix).
fn index_of(p: &Prediction) -> String {
    p.sample_id
        .strip_prefix(&format!("{}_", p.subset))
        .unwrap_or(&p.sample_id)
        .to_string()
}

/// `p`'s sample's gold answer and messages (empty when the sample is not among `samples`).
fn sample_parts<'a>(
    samples: &HashMap<&str, &'a Sample>,
    p: &Prediction,
) -> (&'a str, &'a [serde_json::Value]) {
    samples
        .get(p.sample_id.as_str())
        .map(|s| (s.gold.as_str(), s.messages.as_slice()))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::super::unscored;
    use super::*;

    fn pred(bench: &str, id: &str, extracted: &str, error: Option<&str>) -> Prediction {
        let mut p = unscored(bench, "main", format!("main_{id}"), 0);
        p.completion = format!("answer {id}");
        p.extracted = extracted.to_owned();
        p.error = error.map(str::to_owned);
        p
    }

    #[test]
    fn predictions_are_rewritten_in_place_keeping_failed_lines_and_other_benchmarks() {
        let dir = tempfile::tempdir().expect("tmp");
        let mut store = EvalStore::open(dir.path(), "m").expect("store");
        for p in [
            pred("gsm8k", "0", "1", None),
            pred("gsm8k", "1", "", Some("HTTP 500")),
            pred("gsm8k", "2", "3", None),
            pred("aime24", "0", "7", None),
        ] {
            store.add(p, "gold", &[]).expect("add");
        }
        let files = |name: &str| {
            std::fs::read_to_string(dir.path().join("predictions/m").join(name)).expect("file")
        };
        let (gsm_before, aime_before) = (files("gsm8k_main.jsonl"), files("aime24_main.jsonl"));
        // a rescore changed one prediction in memory
        store.predictions.get_mut("gsm8k").expect("gsm8k")[1].extracted = "30".into();
        store
            .rewrite_predictions("gsm8k", &HashMap::new())
            .expect("rewrite");
        let gsm_after = files("gsm8k_main.jsonl");
        let (before, after): (Vec<&str>, Vec<&str>) =
            (gsm_before.lines().collect(), gsm_after.lines().collect());
        assert_eq!(after.len(), 3);
        assert_eq!(after[0], before[0], "unchanged prediction, same line");
        assert_eq!(after[1], before[1], "the failed request's line stays");
        assert_ne!(after[2], before[2]);
        assert!(after[2].contains("\"extracted\":\"30\""), "{}", after[2]);
        assert_eq!(files("aime24_main.jsonl"), aime_before);
        // what a later run of the folder reads back
        let again = EvalStore::open(dir.path(), "m").expect("reopen");
        let extracted: Vec<&str> = again.predictions["gsm8k"]
            .iter()
            .map(|p| p.extracted.as_str())
            .collect();
        assert_eq!(extracted, ["1", "30"]);
        assert!(
            !dir.path().join("predictions.orig").exists(),
            "all lines were ours"
        );
    }
}
