//! Answer keys for llm-sim's answer-key mode: for each sample, a completion that scores correct
//! and one that scores wrong, in the benchmark's expected answer format, keyed by the SHA-256 of
//! the sample's last user message. An eval against a simulator serving the key has a known true
//! score.
//!
//! The key file is JSON lines of [`KeyEntry`] (`prompt_sha256`, `correct`, `wrong`,
//! `sample_id`); llm-sim reads only that file. Every entry is checked against the benchmark's
//! own extractor and scorer before it is written: the correct text's main metric is 1 and the
//! wrong text's 0, both on the raw text and after `remove_until: "</think>"`.
//!
//! Formats: multiple choice `ANSWER: <letter>`; C-Eval and IQuiz `答案：<letter>`; math (GSM8K,
//! MATH-500, AIME) a sentence then `The answer is \boxed{<gold>}.`, the wrong one boxing
//! gold + 1 (or another value when gold is not a number); needle_haystack the needles themselves,
//! the wrong one "The document does not say.". With `thinking`, each text starts
//! with a `<think>…</think>` section that names no answer.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::benchmarks::sha256;
use super::filters::remove_until;
use super::mc::{answer_character, py_strip};
use super::sample::{Benchmark, EvalError, Sample};

/// The thinking section put before each text when `thinking` is asked for.
pub const THINKING: &str = "<think>\nLet me work through this step by step, then check the result once more.\n</think>\n\n";

const LEAD_MC: &str = "Weighing each option in turn leaves one that fits.";
const LEAD_ZH: &str = "逐一分析各个选项后，可以确定正确的一项。";
const RETRIEVAL_WRONG: &str = "The document does not say.";
const LEAD_MATH: &str = "Working through the problem step by step gives the result.";

/// One line of an answer key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyEntry {
    /// SHA-256 (lowercase hex) of the sample's last user message content.
    pub prompt_sha256: String,
    /// A full completion the benchmark scores correct.
    pub correct: String,
    /// A full completion the benchmark scores wrong.
    pub wrong: String,
    /// The sample's id.
    pub sample_id: String,
}

/// The answer formats a benchmark expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    /// `ANSWER: X`.
    Choice,
    /// `答案：X`.
    ChineseChoice,
    /// `\boxed{...}`.
    Math,
    /// The retrieved fact itself (needle_haystack): the gold, or a sentence that is not it.
    Retrieval,
}

impl Format {
    fn of(benchmark: &str, sample: &Sample) -> Format {
        match benchmark {
            "ceval" | "iquiz" => Format::ChineseChoice,
            "needle_haystack" => Format::Retrieval,
            _ if !sample.choices.is_empty() => Format::Choice,
            _ => Format::Math,
        }
    }

    /// The ways to say `answer` in this format, most natural first.
    fn texts(self, answer: &str) -> Vec<String> {
        match self {
            Format::Choice => vec![format!("{LEAD_MC}\nANSWER: {answer}")],
            Format::ChineseChoice => vec![format!("{LEAD_ZH}\n答案：{answer}")],
            Format::Math => vec![
                format!("{LEAD_MATH}\nThe answer is \\boxed{{{answer}}}."),
                format!("{LEAD_MATH}\nThe answer is {answer}"),
            ],
            Format::Retrieval => vec![answer.to_owned()],
        }
    }
}

/// The SHA-256 of `text` as 64 lowercase hex digits (llm-sim's `prompt_sha256`).
pub fn sha256_hex(text: &str) -> String {
    sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The key's name for `sample`: the SHA-256 of its last user message's content.
pub fn prompt_sha256(sample: &Sample) -> Result<String, EvalError> {
    let content = sample
        .messages
        .iter()
        .rev()
        .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))
        .and_then(|m| m.get("content"))
        .and_then(Value::as_str)
        .ok_or_else(|| bad(sample, "no user message with string content".to_owned()))?;
    Ok(sha256_hex(content))
}

/// A key entry for every sample of `benchmark`, in sample order, each checked with the
/// benchmark's extractor and scorer (see the module docs). `thinking` puts [`THINKING`] before
/// every text.
///
/// Errors name the sample when it has no user message, when no text in the benchmark's format
/// scores 1 (or 0 for the wrong one), or when two samples share a prompt but need different
/// answers (the simulator could not tell them apart).
pub fn build(
    samples: &[Sample],
    benchmark: &dyn Benchmark,
    thinking: bool,
) -> Result<Vec<KeyEntry>, EvalError> {
    let name = benchmark.meta().name;
    let mut entries: Vec<KeyEntry> = Vec::with_capacity(samples.len());
    let mut seen: HashMap<String, usize> = HashMap::new();
    for sample in samples {
        let prompt_sha256 = prompt_sha256(sample)?;
        let (correct, wrong) = answer_texts(benchmark, sample, Format::of(name, sample), thinking)?;
        let entry = KeyEntry {
            prompt_sha256,
            correct,
            wrong,
            sample_id: sample.id.clone(),
        };
        if let Some(&first) = seen.get(&entry.prompt_sha256) {
            let other = &entries[first];
            if other.correct != entry.correct || other.wrong != entry.wrong {
                return Err(bad(
                    sample,
                    format!(
                        "same prompt as sample {} but another answer; the simulator cannot tell them apart, leave one out",
                        other.sample_id
                    ),
                ));
            }
        } else {
            seen.insert(entry.prompt_sha256.clone(), entries.len());
        }
        entries.push(entry);
    }
    Ok(entries)
}

/// Writes `entries` to `path` as JSON lines (replacing the file).
pub fn write_jsonl(path: &Path, entries: &[KeyEntry]) -> Result<(), EvalError> {
    let io = |source| EvalError::Io {
        path: path.to_owned(),
        source,
    };
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).map_err(io)?);
    for entry in entries {
        let line = serde_json::to_string(entry).map_err(|e| io(std::io::Error::other(e)))?;
        writeln!(out, "{line}").map_err(io)?;
    }
    out.flush().map_err(io)
}

/// The (correct, wrong) texts of one sample.
fn answer_texts(
    benchmark: &dyn Benchmark,
    sample: &Sample,
    format: Format,
    thinking: bool,
) -> Result<(String, String), EvalError> {
    let prefix = if thinking { THINKING } else { "" };
    let (rights, wrongs) = match format {
        Format::Choice | Format::ChineseChoice => choice_answers(sample),
        Format::Math => (
            vec![py_strip(&sample.gold).to_owned()],
            math_wrongs(&sample.gold),
        ),
        Format::Retrieval => (
            vec![py_strip(&sample.gold).to_owned()],
            vec![RETRIEVAL_WRONG.to_owned()],
        ),
    };
    let mut tried = Vec::new();
    for right in &rights {
        for (i, template) in format.texts(right).into_iter().enumerate() {
            let correct = format!("{prefix}{template}");
            let (score, extracted) = main_score(benchmark, sample, &correct);
            if score != Some(1.0) {
                tried.push(format!(
                    "{correct:?} extracts {extracted:?}, scores {score:?}"
                ));
                continue;
            }
            for wrong_answer in &wrongs {
                let wrong = format!("{prefix}{}", format.texts(wrong_answer)[i]);
                if main_score(benchmark, sample, &wrong).0 == Some(0.0) {
                    return Ok((correct, wrong));
                }
            }
            tried.push(format!("no wrong answer among {wrongs:?} scores 0"));
        }
    }
    Err(bad(
        sample,
        format!(
            "no text in the benchmark's format scores correct for gold {:?}: {}",
            sample.gold,
            tried.join("; ")
        ),
    ))
}

/// The benchmark's main metric for `completion`, the same on the raw text and after
/// `remove_until: "</think>"` (None when they differ or the metric is missing), with what was
/// extracted from the raw text.
fn main_score(
    benchmark: &dyn Benchmark,
    sample: &Sample,
    completion: &str,
) -> (Option<f64>, String) {
    let score = |text: &str| {
        let extracted = benchmark.extract(text, sample);
        let score = benchmark.score(&extracted, sample);
        (score.values.get(&score.main).copied(), extracted)
    };
    let (raw, extracted) = score(completion);
    let (filtered, _) = score(remove_until(completion, "</think>"));
    ((raw == filtered).then_some(raw).flatten(), extracted)
}

/// Option labels that may be the right answer (the gold, or each letter of a multi-letter gold)
/// and the others, starting after the gold so wrong answers vary, then one past the options.
fn choice_answers(sample: &Sample) -> (Vec<String>, Vec<String>) {
    let gold = py_strip(&sample.gold).to_owned();
    let count = if sample.choices.is_empty() {
        4
    } else {
        sample.choices.len()
    };
    let labels: Vec<String> = (0..count).map(answer_character).collect();
    let mut rights = vec![gold.clone()];
    rights.extend(
        gold.chars()
            .map(String::from)
            .filter(|c| *c != gold && labels.contains(c)),
    );
    let start = labels.iter().position(|l| *l == gold).map_or(0, |p| p + 1);
    let mut wrongs: Vec<String> = (0..count)
        .map(|k| labels[(start + k) % count].clone())
        .filter(|l| !gold.contains(l.as_str()))
        .collect();
    // When every option counts as right, the label after the last option (which no parser
    // accepts) is the wrong answer.
    wrongs.push(answer_character(count));
    (rights, wrongs)
}

/// Values to box as a wrong math answer: gold + 1 when gold is a number, then values no gold is.
fn math_wrongs(gold: &str) -> Vec<String> {
    let plain = py_strip(gold).replace(',', "");
    let plain = plain.trim_start_matches('$');
    let mut out = Vec::new();
    if let Ok(n) = plain.parse::<i128>() {
        out.push((n + 1).to_string());
    } else if let Ok(x) = plain.parse::<f64>()
        && x.is_finite()
    {
        out.push((x + 1.0).to_string());
    }
    out.push(format!("{} + 1", py_strip(gold)));
    out.push("-987654321".to_owned());
    out.push("\\text{none}".to_owned());
    out
}

fn bad(sample: &Sample, message: String) -> EvalError {
    EvalError::BadArgs {
        benchmark: sample.benchmark.clone(),
        message: format!("answer key: sample {}: {message}", sample.id),
    }
}
