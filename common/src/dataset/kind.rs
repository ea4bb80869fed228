//! The dataset formats swarmbench reads, by their EvalScope names.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A load dataset format, named as EvalScope's `--dataset` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DatasetKind {
    /// JSON lines, one object per line with a string `question` (HC3-Chinese `open_qa.jsonl`).
    #[serde(rename = "openqa")]
    OpenQa,
    /// A JSON list of objects with a string `instruction` (LongAlpaca-12k).
    #[serde(rename = "longalpaca")]
    LongAlpaca,
    /// Plain text, one prompt per non-empty line.
    #[serde(rename = "line_by_line")]
    LineByLine,
    /// A JSON list of ShareGPT conversations; the first human turn is the prompt.
    #[serde(rename = "sharegpt", alias = "share_gpt")]
    ShareGpt,
    /// JSON lines of chat messages, prompts or whole request bodies (see [`crate::dataset`]).
    #[serde(rename = "custom")]
    Custom,
    /// Generated prompts of exact token lengths; needs a tokenizer, reads no file.
    #[serde(rename = "random")]
    Random,
}

impl DatasetKind {
    /// Every kind, in the order error messages list them.
    pub const ALL: [DatasetKind; 6] = [
        DatasetKind::OpenQa,
        DatasetKind::LongAlpaca,
        DatasetKind::LineByLine,
        DatasetKind::ShareGpt,
        DatasetKind::Custom,
        DatasetKind::Random,
    ];

    /// The canonical name, as `FromStr` accepts it.
    pub fn name(self) -> &'static str {
        match self {
            DatasetKind::OpenQa => "openqa",
            DatasetKind::LongAlpaca => "longalpaca",
            DatasetKind::LineByLine => "line_by_line",
            DatasetKind::ShareGpt => "sharegpt",
            DatasetKind::Custom => "custom",
            DatasetKind::Random => "random",
        }
    }
}

impl fmt::Display for DatasetKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A dataset name that is none of [`DatasetKind::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown dataset `{name}`, expected one of: openqa, longalpaca, line_by_line, sharegpt, custom, random"
)]
pub struct UnknownDatasetKind {
    /// The name as given.
    pub name: String,
}

impl FromStr for DatasetKind {
    type Err = UnknownDatasetKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "share_gpt" => Ok(DatasetKind::ShareGpt),
            _ => DatasetKind::ALL
                .into_iter()
                .find(|k| k.name() == s)
                .ok_or_else(|| UnknownDatasetKind {
                    name: s.to_string(),
                }),
        }
    }
}
