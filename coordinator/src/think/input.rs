//! Reading the math predictions of run folders: ours (`<run>/eval[/<workload>]/predictions`,
//! the record under `swarm`) and EvalScope's (`<run>/predictions`, content as a string or as
//! reasoning/text parts), each joined with its review for the gold answer.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::run_store::eval_lines::{PredictionLine, ReviewLine};
use crate::run_store::read::{files_with_ext, name_of, subdirs};

/// One answered sample.
#[derive(Debug, Clone, PartialEq)]
pub struct ThinkSample {
    /// Index within its level (sort key).
    pub index: String,
    /// The problem (the user message without the benchmark's instruction line).
    pub problem: String,
    /// The reference answer.
    pub gold: String,
    /// The answer content.
    pub content: String,
    /// Reasoning returned apart from the content (may be empty).
    pub reasoning: String,
}

/// One model's samples in one run folder, by level.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelRun {
    /// The name shown in tables and charts (the model, with the folder when models repeat).
    pub label: String,
    /// The model's name.
    pub model: String,
    /// The eval folder read.
    pub root: PathBuf,
    /// Levels in natural order, each with its samples in index order.
    pub levels: Vec<(String, Vec<ThinkSample>)>,
}

/// The MATH-500 / GSM8K instruction line after the problem.
const INSTRUCTION: &str =
    "\nPlease reason step by step, and put your final answer within \\boxed{}.";

/// Every model's samples of `dataset` in the run folders `dirs`.
pub fn read_runs(dirs: &[PathBuf], dataset: &str) -> anyhow::Result<Vec<ModelRun>> {
    let mut runs = Vec::new();
    for dir in dirs {
        let mut found = crate::run_store::layout::eval_roots(dir);
        found.retain(|r| r.join("predictions").is_dir());
        if found.is_empty() {
            bail!(
                "{}: no predictions/ folder here, in eval/ or in eval/<workload>/",
                dir.display()
            );
        }
        let before = runs.len();
        for root in found {
            for model_dir in subdirs(&root.join("predictions")) {
                let model = name_of(&model_dir);
                let levels = read_model(&root, &model, dataset)?;
                if !levels.is_empty() {
                    runs.push(ModelRun {
                        label: model.clone(),
                        model,
                        root: root.clone(),
                        levels,
                    });
                }
            }
        }
        if runs.len() == before {
            bail!("{}: no {dataset} predictions found", dir.display());
        }
    }
    // the same model in several folders: name the folder too
    let mut seen: HashMap<String, usize> = HashMap::new();
    for r in &runs {
        *seen.entry(r.model.clone()).or_default() += 1;
    }
    for r in &mut runs {
        if seen.get(&r.model).copied().unwrap_or(0) > 1 {
            r.label = format!("{} ({})", r.model, r.root.display());
        }
    }
    Ok(runs)
}

/// A level's sort key: its text with the first number compared as a number.
fn level_key(level: &str) -> (String, u64, String) {
    let start = level.find(|c: char| c.is_ascii_digit());
    match start {
        Some(s) => {
            let digits: String = level[s..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            (
                level[..s].to_owned(),
                digits.parse().unwrap_or(u64::MAX),
                level[s + digits.len()..].to_owned(),
            )
        }
        None => (level.to_owned(), 0, String::new()),
    }
}

fn index_key(index: &str) -> (u64, String) {
    (index.parse().unwrap_or(u64::MAX), index.to_owned())
}

fn read_model(
    root: &Path,
    model: &str,
    dataset: &str,
) -> anyhow::Result<Vec<(String, Vec<ThinkSample>)>> {
    let prefix = format!("{dataset}_");
    let files = files_with_ext(&root.join("predictions").join(model), "jsonl");
    let mut levels: Vec<(String, Vec<ThinkSample>)> = Vec::new();
    for file in files
        .into_iter()
        .filter(|f| name_of(f).starts_with(&prefix))
    {
        let name = name_of(&file);
        let file_subset = name[prefix.len()..name.len() - ".jsonl".len()].to_owned();
        let review = root.join("reviews").join(model).join(&name);
        let golds = read_golds(&review)?;
        for (n, line) in read_text(&file)?.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let at = || format!("{}:{}", file.display(), n + 1);
            let p = PredictionLine::parse(line).map_err(|e| anyhow::anyhow!("{}: {e}", at()))?;
            let index = p.index.clone();
            if p.repeat() != 0 || p.failed() {
                continue;
            }
            let Some(gold) = golds.get(&(index.clone(), 0)) else {
                bail!(
                    "{}: no review line with index {index} in {}",
                    at(),
                    review.display()
                );
            };
            let subset = match p.swarm.as_ref().map(|s| s.subset.as_str()) {
                Some(s) if !s.is_empty() => s.to_owned(),
                _ => file_subset.clone(),
            };
            let (content, reasoning) = p.answer();
            let problem = p.question();
            let sample = ThinkSample {
                index,
                problem: problem
                    .strip_suffix(INSTRUCTION)
                    .unwrap_or(&problem)
                    .to_owned(),
                gold: gold.clone(),
                content,
                reasoning,
            };
            match levels.iter_mut().find(|(l, _)| *l == subset) {
                Some((_, v)) => v.push(sample),
                None => levels.push((subset, vec![sample])),
            }
        }
    }
    levels.sort_by_key(|a| level_key(&a.0));
    for (_, samples) in &mut levels {
        samples.sort_by_key(|a| index_key(&a.index));
        samples.dedup_by(|a, b| a.index == b.index);
    }
    Ok(levels)
}

fn read_text(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

/// (index, repeat) → gold of a review file.
fn read_golds(path: &Path) -> anyhow::Result<HashMap<(String, u32), String>> {
    let mut out = HashMap::new();
    for (n, line) in read_text(path)?.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let at = || format!("{}:{}", path.display(), n + 1);
        let r = ReviewLine::parse(line).map_err(|e| anyhow::anyhow!("{}: {e}", at()))?;
        let Some(gold) = r.gold() else {
            bail!("{}: field `target`: missing", at());
        };
        out.insert((r.index.clone(), r.repeat.unwrap_or(0)), gold);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn write(path: &Path, lines: &[Value]) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn evalscope_folders_are_read_with_reasoning_parts_and_golds() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let user =
            serde_json::json!([{"role": "user", "content": format!("What is 1+1?{INSTRUCTION}")}]);
        let pred = |index: u64, content: Value| serde_json::json!({"index": index, "model": "m", "model_output": {"choices": [{"message": {"role": "assistant", "content": content}}]}, "messages": user});
        write(
            &root.join("predictions/m/math_500_Level 10.jsonl"),
            &[pred(0, Value::from("<think>a</think>\\boxed{2}"))],
        );
        write(
            &root.join("reviews/m/math_500_Level 10.jsonl"),
            &[serde_json::json!({"index": 0, "target": "2"})],
        );
        write(
            &root.join("predictions/m/math_500_Level 2.jsonl"),
            &[
                pred(
                    11,
                    serde_json::json!([{"type": "reasoning", "reasoning": "think hard"}, {"type": "text", "text": "\\boxed{3}"}]),
                ),
                pred(3, Value::from("x")),
            ],
        );
        write(
            &root.join("reviews/m/math_500_Level 2.jsonl"),
            &[
                serde_json::json!({"index": 3, "target": ["4"]}),
                serde_json::json!({"index": 11, "target": "3"}),
            ],
        );
        write(
            &root.join("predictions/m/gsm8k_main.jsonl"),
            &[pred(0, Value::from("y"))],
        );
        let runs = read_runs(&[root.to_path_buf()], "math_500").unwrap();
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].label, "m");
        let levels: Vec<&str> = runs[0].levels.iter().map(|(l, _)| l.as_str()).collect();
        assert_eq!(levels, ["Level 2", "Level 10"]);
        let l2 = &runs[0].levels[0].1;
        assert_eq!(l2[0].index, "3", "index order");
        assert_eq!(l2[0].gold, "4");
        assert_eq!(l2[1].reasoning, "think hard");
        assert_eq!(l2[1].content, "\\boxed{3}");
        assert_eq!(l2[1].problem, "What is 1+1?");
        // a missing review line is an error naming the file and line
        write(
            &root.join("reviews/m/math_500_Level 2.jsonl"),
            &[serde_json::json!({"index": 3, "target": "4"})],
        );
        let err = read_runs(&[root.to_path_buf()], "math_500")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("math_500_Level 2.jsonl:1: no review line with index 11"),
            "{err}"
        );
        let err = read_runs(&[root.join("nothing")], "math_500")
            .unwrap_err()
            .to_string();
        assert!(err.contains("no predictions/ folder"), "{err}");
    }
}
