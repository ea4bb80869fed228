//! Locating the first step that reaches the correct answer: the judge's prompt and answer
//! (laid out as EvalScope's critique request), or judge-free with the math scorer.

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::math::{extract_last_boxed, math_equal, strip_answer_string};

/// How the first correct step was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "mode")]
pub enum FirstCorrectMode {
    /// A judge model read the tagged steps.
    Judge {
        /// The judge's model name.
        model: String,
    },
    /// Each step's candidate answers were checked with the math scorer.
    JudgeFree,
}

impl FirstCorrectMode {
    /// `judge:<model>` or `judge_free`.
    pub fn label(&self) -> String {
        match self {
            Self::Judge { model } => format!("judge:{model}"),
            Self::JudgeFree => "judge_free".to_owned(),
        }
    }
}

/// The judge's request, laid out as EvalScope's thinkbench lays it out (the wording is ours): the
/// problem, the correct answer and the steps tagged `<paragraph_i>…</paragraph_i>`; the judge
/// answers the earliest index in `\boxed{}` (-1: none).
pub fn judge_prompt(problem: &str, answer: &str, steps: &[String]) -> String {
    let mut tagged = String::new();
    for (i, step) in steps.iter().enumerate() {
        tagged.push_str(&format!("<paragraph_{i}>\n{step}\n</paragraph_{i}>\n\n"));
    }
    let tagged = tagged.trim();
    format!(
        "Below are a math problem, its correct answer and a solution to it. The solution is split into paragraphs, each enclosed in tags numbered from 0.\n\n[Math Problem]\n\n{problem}\n\n[Correct Answer]\n\n{answer}\n\n[Solution]\n\n{tagged}\n\nRead the solution one paragraph at a time and find the first paragraph in which the correct answer is reached. Give that paragraph's number; if no paragraph reaches the correct answer, give -1.\n\nWrite the number you give in \\boxed{{}}.\n"
    )
}

static BOXED_SIMPLE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\\boxed\{([^}]*)\}").expect("static regex is valid"));
static INTEGER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"-?\d+").expect("static regex is valid"));
static LAST_NUMBER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"-?[0-9]*\.?[0-9]+").expect("static regex is valid"));

/// The judge's index: the last integer in its last `\boxed{...}`, -1 when there is none
/// (EvalScope's `extract_answer` of thinkbench).
pub fn parse_judge_index(response: &str) -> i64 {
    BOXED_SIMPLE
        .captures_iter(response)
        .last()
        .and_then(|c| {
            INTEGER
                .find_iter(c.get(1).map_or("", |m| m.as_str()))
                .last()
                .and_then(|m| m.as_str().parse().ok())
        })
        .unwrap_or(-1)
}

/// A step's candidate answers: the content of each `\boxed{}` in it, in order; a step without
/// a box offers its final number, if any.
pub fn candidates(step: &str) -> Vec<String> {
    let starts: Vec<usize> = step.match_indices("\\boxed").map(|(i, _)| i).collect();
    let mut out = Vec::with_capacity(starts.len());
    for (k, &start) in starts.iter().enumerate() {
        let end = starts.get(k + 1).copied().unwrap_or(step.len());
        if let Some(inner) = extract_last_boxed(&step[start..end]) {
            out.push(inner);
        }
    }
    if starts.is_empty()
        && let Some(m) = LAST_NUMBER.find_iter(&step.replace(',', "")).last()
    {
        out.push(m.as_str().to_owned());
    }
    out
}

/// The index of the first step with a candidate answer equal to `gold` (math equivalence), or
/// -1.
pub fn first_correct_step(steps: &[String], gold: &str) -> i64 {
    let reference = strip_answer_string(gold);
    steps
        .iter()
        .position(|s| candidates(s).iter().any(|c| math_equal(c, &reference)))
        .map_or(-1, |i| i64::try_from(i).unwrap_or(i64::MAX))
}

/// The reasoning up to the first correct step: EvalScope joins the steps *before* index `idx`
/// with blank lines (so the step holding the answer is left out and index 0 gives nothing);
/// with `inclusive` the step holding the answer is counted too. -1 gives nothing.
pub fn first_correct_text(steps: &[String], idx: i64, inclusive: bool) -> String {
    let Ok(idx) = usize::try_from(idx) else {
        return String::new();
    };
    let end = if inclusive { idx + 1 } else { idx }.min(steps.len());
    steps[..end].join("\n\n")
}
