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
    /// Generated texts for `/v1/embeddings`, one per request; needs a tokenizer.
    #[serde(rename = "random_embedding")]
    RandomEmbedding,
    /// Like `random_embedding`, `batch_size` texts per request (`input` is a list).
    #[serde(rename = "random_embedding_batch")]
    RandomEmbeddingBatch,
    /// Texts to embed from a file: `.txt` lines, a `.json` list or `.jsonl` lines of strings or
    /// objects with `text`, `input`, `sentence` or `content`.
    #[serde(rename = "embedding", alias = "embed")]
    Embedding,
    /// Like `embedding`, `batch_size` texts per request.
    #[serde(rename = "embedding_batch")]
    EmbeddingBatch,
    /// Generated rerank requests: a query and `num_documents` documents of
    /// `document_length_ratio` times its length; needs a tokenizer.
    #[serde(rename = "random_rerank")]
    RandomRerank,
    /// Rerank requests from a file: objects with `query` and `documents` (or `passages`,
    /// `texts`), a `.json` list or one per line (`.jsonl`, `.txt`).
    #[serde(rename = "rerank")]
    Rerank,
    /// EvalScope's speed benchmark: completion prompts of 1, 6144, 14336 and 30720 characters,
    /// each twice; reads no file.
    #[serde(rename = "speed_benchmark")]
    SpeedBenchmark,
    /// Like `speed_benchmark` with prompts of 63488 and 129024 characters.
    #[serde(rename = "speed_benchmark_long")]
    SpeedBenchmarkLong,
    /// Generated conversations (`--multi-turn`): `min_turns..=max_turns` user turns each, every
    /// turn a prompt of exact token length; needs a tokenizer, reads no file.
    #[serde(rename = "random_multi_turn")]
    RandomMultiTurn,
    /// ShareGPT conversations (`--multi-turn`), every human turn a turn: JSON lines of
    /// `{"conversation": [{"human", "assistant"}]}` (EvalScope's swift/sharegpt
    /// `common_en_70k.jsonl`) or a JSON list of `{"conversations": [{"from", "value"}]}`.
    #[serde(rename = "share_gpt_en_multi_turn")]
    ShareGptEnMultiTurn,
    /// Like `share_gpt_en_multi_turn` (EvalScope's `common_zh_70k.jsonl`).
    #[serde(rename = "share_gpt_zh_multi_turn")]
    ShareGptZhMultiTurn,
    /// JSON lines, each a conversation as an array of chat messages (`--multi-turn`); its
    /// `assistant` messages end turns and are replaced by the model's answers.
    #[serde(rename = "custom_multi_turn")]
    CustomMultiTurn,
}

impl DatasetKind {
    /// Every kind, in the order error messages list them.
    pub const ALL: [DatasetKind; 18] = [
        DatasetKind::OpenQa,
        DatasetKind::LongAlpaca,
        DatasetKind::LineByLine,
        DatasetKind::ShareGpt,
        DatasetKind::Custom,
        DatasetKind::Random,
        DatasetKind::RandomEmbedding,
        DatasetKind::RandomEmbeddingBatch,
        DatasetKind::Embedding,
        DatasetKind::EmbeddingBatch,
        DatasetKind::RandomRerank,
        DatasetKind::Rerank,
        DatasetKind::SpeedBenchmark,
        DatasetKind::SpeedBenchmarkLong,
        DatasetKind::RandomMultiTurn,
        DatasetKind::ShareGptEnMultiTurn,
        DatasetKind::ShareGptZhMultiTurn,
        DatasetKind::CustomMultiTurn,
    ];

    /// Whether prompts are generated (no file; `number` is how many to make).
    pub fn is_generated(self) -> bool {
        matches!(
            self,
            DatasetKind::Random
                | DatasetKind::RandomEmbedding
                | DatasetKind::RandomEmbeddingBatch
                | DatasetKind::RandomRerank
        )
    }

    /// Whether this is `speed_benchmark` or `speed_benchmark_long`: fixed completion prompts,
    /// no file, no tokenizer, and a speed table after each stage.
    pub fn is_speed_benchmark(self) -> bool {
        matches!(
            self,
            DatasetKind::SpeedBenchmark | DatasetKind::SpeedBenchmarkLong
        )
    }

    /// Whether its prompts are whole conversations, run with `--multi-turn`.
    pub fn is_multi_turn(self) -> bool {
        matches!(
            self,
            DatasetKind::RandomMultiTurn
                | DatasetKind::ShareGptEnMultiTurn
                | DatasetKind::ShareGptZhMultiTurn
                | DatasetKind::CustomMultiTurn
        )
    }

    /// The canonical name, as `FromStr` accepts it.
    pub fn name(self) -> &'static str {
        match self {
            DatasetKind::OpenQa => "openqa",
            DatasetKind::LongAlpaca => "longalpaca",
            DatasetKind::LineByLine => "line_by_line",
            DatasetKind::ShareGpt => "sharegpt",
            DatasetKind::Custom => "custom",
            DatasetKind::Random => "random",
            DatasetKind::RandomEmbedding => "random_embedding",
            DatasetKind::RandomEmbeddingBatch => "random_embedding_batch",
            DatasetKind::Embedding => "embedding",
            DatasetKind::EmbeddingBatch => "embedding_batch",
            DatasetKind::RandomRerank => "random_rerank",
            DatasetKind::Rerank => "rerank",
            DatasetKind::SpeedBenchmark => "speed_benchmark",
            DatasetKind::SpeedBenchmarkLong => "speed_benchmark_long",
            DatasetKind::RandomMultiTurn => "random_multi_turn",
            DatasetKind::ShareGptEnMultiTurn => "share_gpt_en_multi_turn",
            DatasetKind::ShareGptZhMultiTurn => "share_gpt_zh_multi_turn",
            DatasetKind::CustomMultiTurn => "custom_multi_turn",
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
    "unknown dataset `{name}`, expected one of: openqa, longalpaca, line_by_line, sharegpt, custom, random, random_embedding, random_embedding_batch, embedding, embedding_batch, random_rerank, rerank, speed_benchmark, speed_benchmark_long, random_multi_turn, share_gpt_en_multi_turn, share_gpt_zh_multi_turn, custom_multi_turn"
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
            "embed" => Ok(DatasetKind::Embedding),
            _ => DatasetKind::ALL
                .into_iter()
                .find(|k| k.name() == s)
                .ok_or_else(|| UnknownDatasetKind {
                    name: s.to_string(),
                }),
        }
    }
}
