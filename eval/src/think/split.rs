//! The reasoning part of an answer, its sub-thought count, and its steps.

use std::str::FromStr;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

/// The phrases that start a new sub-thought (EvalScope's `switch_tokens`).
pub const SWITCH_TOKENS: [&str; 7] = [
    "alternatively",
    "but wait",
    "let me reconsider",
    "another way",
    "another approach",
    "another method",
    "another angle",
];

/// The end of a thinking section in content.
pub const THINK_END: &str = "</think>";

/// `\b(?:alternatively|but wait|...)\b`, case-sensitive as EvalScope's keyword split is.
static KEYWORDS: LazyLock<Regex> = LazyLock::new(|| {
    let alternatives: Vec<String> = SWITCH_TOKENS.iter().map(|k| regex::escape(k)).collect();
    Regex::new(&format!(r"\b(?:{})\b", alternatives.join("|"))).expect("static regex is valid")
});

/// The reasoning of an answer, first that applies: the separate `reasoning` (the server's
/// `reasoning_content`) when not empty; the text before the last `</think>` in `content`; the
/// whole content.
pub fn think_part<'a>(content: &'a str, reasoning: &'a str) -> &'a str {
    if !reasoning.is_empty() {
        return reasoning;
    }
    match content.rfind(THINK_END) {
        Some(end) => &content[..end],
        None => content,
    }
}

/// Sub-thoughts: occurrences of every [`SWITCH_TOKENS`] phrase in the lowercased text, summed.
pub fn thought_num(think: &str) -> usize {
    let lower = think.to_lowercase();
    SWITCH_TOKENS.iter().map(|k| lower.matches(k).count()).sum()
}

/// How reasoning is cut into steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SplitStrategy {
    /// At every blank line (`"\n\n"`).
    #[default]
    Separator,
    /// Before every switch phrase (lowercase, whole words); steps trimmed, empty ones dropped.
    Keywords,
    /// EvalScope's default: a judge model reformats the reasoning into paragraphs
    /// ([`super::reformat::reformat_prompt`]); its reply is cut at every blank line.
    Llm,
}

impl SplitStrategy {
    /// The name used on the command line and in outputs.
    pub fn name(self) -> &'static str {
        match self {
            Self::Separator => "separator",
            Self::Keywords => "keywords",
            Self::Llm => "llm",
        }
    }
}

impl FromStr for SplitStrategy {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "separator" => Ok(Self::Separator),
            "keywords" => Ok(Self::Keywords),
            "llm" => Ok(Self::Llm),
            other => Err(format!(
                "unknown split strategy {other:?}; expected separator, keywords or llm"
            )),
        }
    }
}

/// The steps of `think` under `strategy` (EvalScope's `split_by_separator` /
/// `split_by_keywords`). For [`SplitStrategy::Llm`], `think` is the judge's reformatting and is
/// cut at blank lines as EvalScope's `split_by_llm` cuts it.
pub fn split_steps(think: &str, strategy: SplitStrategy) -> Vec<String> {
    match strategy {
        SplitStrategy::Separator | SplitStrategy::Llm => {
            think.split("\n\n").map(str::to_owned).collect()
        }
        SplitStrategy::Keywords => {
            let mut cuts: Vec<usize> = KEYWORDS.find_iter(think).map(|m| m.start()).collect();
            cuts.push(think.len());
            let mut steps = Vec::with_capacity(cuts.len());
            let mut start = 0;
            for cut in cuts {
                let step = think[start..cut].trim();
                if !step.is_empty() {
                    steps.push(step.to_owned());
                }
                start = cut;
            }
            if steps.is_empty() {
                steps.push(think.to_owned());
            }
            steps
        }
    }
}
