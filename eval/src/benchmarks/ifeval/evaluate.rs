//! Strict and loose evaluation of a response against a prompt's instructions, and the four
//! per-sample metrics (EvalScope's `process_results`).

use std::collections::BTreeMap;

use super::registry::Checker;
use super::text::py::py_strip;

/// Metric names, in report order (EvalScope's `metric_list`).
pub const METRICS: [&str; 4] = [
    "prompt_level_strict",
    "inst_level_strict",
    "prompt_level_loose",
    "inst_level_loose",
];

/// How a prompt's instruction-level score is formed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum InstLevel {
    /// EvalScope's: followed / instructions of this prompt, so the report averages the
    /// per-prompt ratios.
    PerPrompt,
    /// Google's and lm-eval's micro ratio (Σ followed / Σ instructions over the run): each
    /// prompt scores `followed · prompts / instructions`, so the report's mean is the micro
    /// ratio (a single sample's value may then exceed 1).
    Micro {
        /// Prompts in the run.
        prompts: usize,
        /// Instructions over all those prompts.
        instructions: usize,
    },
}

/// The eight responses loose evaluation tries: the response, without its first line, without
/// its last, without both, and each of those with every `*` removed.
pub fn loose_variants(response: &str) -> [String; 8] {
    let lines: Vec<&str> = response.split('\n').collect();
    let join = |from: usize, to: usize| -> String {
        if from >= to {
            return String::new();
        }
        py_strip(&lines[from..to].join("\n")).to_owned()
    };
    let n = lines.len();
    let remove_first = join(1, n);
    let remove_last = join(0, n.saturating_sub(1));
    let remove_both = join(1, n.saturating_sub(1));
    let unstar = |s: &str| s.replace('*', "");
    [
        response.to_owned(),
        unstar(response),
        remove_first.clone(),
        remove_last.clone(),
        remove_both.clone(),
        unstar(&remove_first),
        unstar(&remove_last),
        unstar(&remove_both),
    ]
}

/// Strict: each instruction is followed by the response as it is (an empty response follows
/// nothing).
pub fn follow_strict(checkers: &[Checker], response: &str) -> Vec<bool> {
    let non_empty = !py_strip(response).is_empty();
    checkers
        .iter()
        .map(|c| non_empty && c.check(response))
        .collect()
}

/// Loose: each instruction is followed by some non-empty variant of the response.
pub fn follow_loose(checkers: &[Checker], response: &str) -> Vec<bool> {
    let variants = loose_variants(response);
    checkers
        .iter()
        .map(|c| {
            variants
                .iter()
                .any(|v| !py_strip(v).is_empty() && c.check(v))
        })
        .collect()
}

fn prompt_level(followed: &[bool]) -> f64 {
    if followed.iter().all(|f| *f) {
        1.0
    } else {
        0.0
    }
}

fn inst_level(followed: &[bool], mode: InstLevel) -> f64 {
    let count = followed.iter().filter(|f| **f).count();
    match mode {
        InstLevel::PerPrompt if followed.is_empty() => 0.0,
        InstLevel::PerPrompt => count as f64 / followed.len() as f64,
        InstLevel::Micro {
            instructions: 0, ..
        } => 0.0,
        InstLevel::Micro {
            prompts,
            instructions,
        } => count as f64 * prompts as f64 / instructions as f64,
    }
}

/// The four metrics of one response.
pub fn metrics(checkers: &[Checker], response: &str, mode: InstLevel) -> BTreeMap<String, f64> {
    let strict = follow_strict(checkers, response);
    let loose = follow_loose(checkers, response);
    BTreeMap::from([
        (METRICS[0].to_owned(), prompt_level(&strict)),
        (METRICS[1].to_owned(), inst_level(&strict, mode)),
        (METRICS[2].to_owned(), prompt_level(&loose)),
        (METRICS[3].to_owned(), inst_level(&loose, mode)),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loose_variants_drop_lines_and_stars() {
        let v = loose_variants("Sure!\n**Body** text\nBye");
        assert_eq!(v[0], "Sure!\n**Body** text\nBye");
        assert_eq!(v[1], "Sure!\nBody text\nBye");
        assert_eq!(v[2], "**Body** text\nBye");
        assert_eq!(v[3], "Sure!\n**Body** text");
        assert_eq!(v[4], "**Body** text");
        assert_eq!(v[5], "Body text\nBye");
        assert_eq!(v[6], "Sure!\nBody text");
        assert_eq!(v[7], "Body text");
        let one = loose_variants("single line");
        assert_eq!(one[2..5], ["", "", ""]);
    }

    #[test]
    fn instruction_level_per_prompt_and_micro() {
        let f = [true, false, true];
        assert_eq!(inst_level(&f, InstLevel::PerPrompt), 2.0 / 3.0);
        let micro = InstLevel::Micro {
            prompts: 2,
            instructions: 4,
        };
        assert_eq!(inst_level(&f, micro), 1.0);
        assert_eq!(inst_level(&[], InstLevel::PerPrompt), 0.0);
        assert_eq!(prompt_level(&f), 0.0);
        assert_eq!(prompt_level(&[true]), 1.0);
    }
}
