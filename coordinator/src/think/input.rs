//! Reading the math predictions of run folders: ours (`<run>/eval[/<workload>]/predictions`,
//! the record under `swarm`) and EvalScope's (`<run>/predictions`, content as a string or as
//! reasoning/text parts), each joined with its review for the gold answer.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde_json::Value;

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

/// Folders under `dir` that hold `predictions/` (the folder itself, `eval`, `eval/<workload>`).
fn roots(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for cand in [dir.to_path_buf(), dir.join("eval")] {
        if cand.join("predictions").is_dir() {
            out.push(cand.clone());
        }
    }
    if let Ok(entries) = std::fs::read_dir(dir.join("eval")) {
        let mut subs: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.join("predictions").is_dir())
            .collect();
        subs.sort();
        out.extend(subs);
    }
    out
}

/// Every model's samples of `dataset` in the run folders `dirs`.
pub fn read_runs(dirs: &[PathBuf], dataset: &str) -> anyhow::Result<Vec<ModelRun>> {
    let mut runs = Vec::new();
    for dir in dirs {
        let found = roots(dir);
        if found.is_empty() {
            bail!(
                "{}: no predictions/ folder here, in eval/ or in eval/<workload>/",
                dir.display()
            );
        }
        let before = runs.len();
        for root in found {
            let mut models: Vec<PathBuf> = std::fs::read_dir(root.join("predictions"))
                .with_context(|| format!("cannot read {}", root.join("predictions").display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_dir())
                .collect();
            models.sort();
            for model_dir in models {
                let model = crate::run_store::read::name_of(&model_dir);
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
    let pred_dir = root.join("predictions").join(model);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&pred_dir)
        .with_context(|| format!("cannot read {}", pred_dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|e| e == "jsonl")
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(&format!("{dataset}_")))
        })
        .collect();
    files.sort();
    let mut levels: Vec<(String, Vec<ThinkSample>)> = Vec::new();
    for file in files {
        let stem = file
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_owned();
        let file_subset = stem[dataset.len() + 1..].to_owned();
        let review = root
            .join("reviews")
            .join(model)
            .join(file.file_name().unwrap_or_default());
        let golds = read_golds(&review)?;
        for (n, line) in read_text(&file)?.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let at = || format!("{}:{}", file.display(), n + 1);
            let v: Value =
                serde_json::from_str(line).with_context(|| format!("{}: not JSON", at()))?;
            let Some((subset, index, repeat, content, reasoning, failed)) =
                prediction_fields(&v, &file_subset)
            else {
                bail!("{}: field `index`: missing", at());
            };
            if repeat != 0 || failed {
                continue;
            }
            let Some(gold) = golds.get(&(index.clone(), repeat)) else {
                bail!(
                    "{}: no review line with index {index} in {}",
                    at(),
                    review.display()
                );
            };
            let sample = ThinkSample {
                index,
                problem: problem(&v),
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

fn index_text(v: &Value) -> Option<String> {
    match v.get("index")? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// (index, repeat) → gold of a review file.
fn read_golds(path: &Path) -> anyhow::Result<HashMap<(String, u32), String>> {
    let mut out = HashMap::new();
    for (n, line) in read_text(path)?.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(line)
            .with_context(|| format!("{}:{}: not JSON", path.display(), n + 1))?;
        let Some(index) = index_text(&v) else {
            bail!("{}:{}: field `index`: missing", path.display(), n + 1);
        };
        let gold = match v.get("target") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Array(a)) => a
                .iter()
                .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_owned))
                .collect::<Vec<_>>()
                .join(""),
            Some(Value::Number(x)) => x.to_string(),
            _ => bail!("{}:{}: field `target`: missing", path.display(), n + 1),
        };
        let repeat = v.get("repeat").and_then(Value::as_u64).unwrap_or(0) as u32;
        out.insert((index, repeat), gold);
    }
    Ok(out)
}

type Fields = (String, String, u32, String, String, bool);

/// (subset, index, repeat, content, reasoning, failed) of a prediction line.
fn prediction_fields(v: &Value, file_subset: &str) -> Option<Fields> {
    let index = index_text(v)?;
    if let Some(ours) = v.get("swarm") {
        let text = |k: &str| {
            ours.get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        return Some((
            text("subset"),
            index,
            ours.get("repeat").and_then(Value::as_u64).unwrap_or(0) as u32,
            text("completion"),
            text("reasoning"),
            ours.get("error").is_some_and(|e| !e.is_null()),
        ));
    }
    let message = &v["model_output"]["choices"][0]["message"];
    let (mut content, mut reasoning) = (String::new(), String::new());
    match message.get("content") {
        Some(Value::String(s)) => content = s.clone(),
        Some(Value::Array(parts)) => {
            for p in parts {
                match p.get("type").and_then(Value::as_str) {
                    Some("reasoning") => {
                        reasoning.push_str(p.get("reasoning").and_then(Value::as_str).unwrap_or(""))
                    }
                    Some("text") => {
                        content.push_str(p.get("text").and_then(Value::as_str).unwrap_or(""))
                    }
                    _ => {}
                }
            }
        }
        _ => {}
    }
    if let Some(r) = message.get("reasoning_content").and_then(Value::as_str)
        && !r.is_empty()
    {
        reasoning = r.to_owned();
    }
    let failed = v["model_output"].get("error").is_some_and(|e| !e.is_null());
    Some((file_subset.to_owned(), index, 0, content, reasoning, failed))
}

/// The last user message's text, without the math instruction line.
fn problem(v: &Value) -> String {
    let Some(messages) = v.get("messages").and_then(Value::as_array) else {
        return String::new();
    };
    let text = messages
        .iter()
        .rev()
        .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))
        .map(|m| match m.get("content") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Array(parts)) => parts
                .iter()
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join(""),
            _ => String::new(),
        })
        .unwrap_or_default();
    text.strip_suffix(INSTRUCTION).unwrap_or(&text).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

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
