//! The vocabulary of an eval: samples, scores, and the benchmark interface.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::exec::ScoreContext;
use super::report::{Aggregation, MetricReport, ReportSpec, ScoredSample};

/// One question, ready to send.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// Unique within the benchmark: `<subset>_<index>`, the index counting from 0 within the
    /// subset after `limit` (EvalScope's review `index`).
    pub id: String,
    /// Benchmark name (`gsm8k`, `math_500`, ...).
    pub benchmark: String,
    /// Subset (`main`, `Level 3`, `computer science`, ...).
    pub subset: String,
    /// Chat messages to send (`[{"role": "user", "content": ...}]`, system first if any).
    pub messages: Vec<serde_json::Value>,
    /// The reference answer (a letter, letters, a number, a LaTeX expression).
    pub gold: String,
    /// Options of a multiple-choice question, in presentation order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<String>,
    /// Anything else reports or scorers need (level, category, solution, ...).
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub metadata: serde_json::Map<String, serde_json::Value>,
}

/// A scored prediction of one sample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Score {
    /// What the extractor took from the prediction.
    pub extracted: String,
    /// Metric name → value (0..1), e.g. `acc`.
    pub values: BTreeMap<String, f64>,
    /// The metric the report leads with.
    pub main: String,
}

/// Per-benchmark arguments (EvalScope's `dataset_args`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatasetArgs {
    /// A data file or folder in the benchmark's published format.
    pub local_path: Option<PathBuf>,
    /// Subsets to run (all when empty).
    pub subset_list: Vec<String>,
    /// Few-shot examples (the benchmark's `BenchmarkMeta::few_shot_num`, EvalScope's default,
    /// when None; `Some(0)` runs zero-shot). Few-shot data comes from
    /// `extra_params.few_shot_path` or the `BenchmarkMeta::train_split` file beside
    /// `local_path`.
    pub few_shot_num: Option<u32>,
    /// Filters applied to the completion before extraction, in order, e.g.
    /// `{"remove_until": "</think>"}` or `{"regex": {"regex_pattern": "...", "group_select": 0}}`
    /// (see [`crate::filters::FilterChain`]).
    pub filters: serde_json::Map<String, serde_json::Value>,
    /// First N records per subset (None: all).
    pub limit: Option<usize>,
    /// Seed for anything shuffled (GPQA options; 42 when None, as EvalScope).
    pub seed: Option<u64>,
    /// Extras: `system_prompt` (any benchmark), `few_shot_path`, `shuffle` (gpqa_diamond).
    pub extra_params: serde_json::Map<String, serde_json::Value>,
    /// How code benchmarks run generated code (EvalScope's key; see
    /// [`crate::exec::SandboxSettings`]).
    #[serde(skip_serializing_if = "serde_json::Map::is_empty")]
    pub sandbox_config: serde_json::Map<String, serde_json::Value>,
}

/// Static facts about a benchmark, as EvalScope's benchmark meta states them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BenchmarkMeta {
    /// Name (`gsm8k`).
    pub name: &'static str,
    /// Pretty name for reports (`GSM8K`).
    pub pretty_name: &'static str,
    /// Task type in reports (`math`, `knowledge`, `exam`, ...).
    pub task_type: &'static str,
    /// Metric names (`acc`).
    pub metrics: Vec<&'static str>,
    /// All subsets.
    pub subsets: Vec<String>,
    /// Few-shot count when `few_shot_num` is not given: EvalScope's default (4 for gsm8k, 5 for
    /// mmlu_pro and ceval, 0 for the others).
    pub few_shot_num: u32,
    /// The split evaluated (EvalScope's `eval_split`: `test`, `val`, `train`).
    pub eval_split: &'static str,
    /// The split few-shot examples come from (EvalScope's `train_split`; empty when the
    /// benchmark has no few-shot prompt). Its file lies beside `local_path`.
    pub train_split: &'static str,
}

/// Errors loading or scoring a benchmark; they name the file, line and field.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// The data cannot be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A record is not in the benchmark's format.
    #[error("{path}:{line}: field `{field}`: {message}")]
    BadRecord {
        /// The file.
        path: PathBuf,
        /// 1-based line (or record number).
        line: usize,
        /// The field.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// Arguments that make no sense for this benchmark.
    #[error("{benchmark}: {message}")]
    BadArgs {
        /// The benchmark.
        benchmark: String,
        /// What is wrong.
        message: String,
    },
    /// No benchmark of that name.
    #[error("unknown benchmark {name:?}; known: {known}")]
    UnknownBenchmark {
        /// The name given.
        name: String,
        /// Known names, comma-separated.
        known: String,
    },
}

/// One benchmark: records → samples; completion → extracted answer → scores.
pub trait Benchmark: Send + Sync {
    /// Static facts.
    fn meta(&self) -> BenchmarkMeta;
    /// Loads samples from `args.local_path` (subset filter and limit applied).
    fn load(&self, args: &DatasetArgs) -> Result<Vec<Sample>, EvalError>;
    /// Extracts the answer from a (filtered) completion.
    fn extract(&self, completion: &str, sample: &Sample) -> String;
    /// Scores an extracted answer against the sample's gold answer.
    fn score(&self, extracted: &str, sample: &Sample) -> Score;
    /// Scores with what the scorer may use beyond the sample (a code runner); the default is
    /// [`Benchmark::score`].
    fn score_in(&self, extracted: &str, sample: &Sample, ctx: &ScoreContext<'_>) -> Score {
        let _ = ctx;
        self.score(extracted, sample)
    }
    /// True when scoring runs generated code (and so needs [`ScoreContext::runner`]).
    fn runs_code(&self) -> bool {
        false
    }
    /// True when scoring `sample` runs generated code; the default is [`Benchmark::runs_code`]
    /// (a collection answers per line, by the line's own benchmark).
    fn runs_code_on(&self, sample: &Sample) -> bool {
        let _ = sample;
        self.runs_code()
    }
    /// The report category path of a subset (EvalScope's `category_map`; `["default"]` when the
    /// benchmark has none).
    fn category(&self, subset: &str) -> Vec<String> {
        let _ = subset;
        vec!["default".to_owned()]
    }
    /// What this benchmark's rule and judge paths can do (EvalScope's `scoring_policy`): which
    /// judge strategies it honours and whether `auto` asks the judge.
    fn scoring_policy(&self) -> crate::judge::ScoringPolicy {
        crate::judge::ScoringPolicy::RuleDefault
    }
    /// The question its judge is asked (EvalScope's `judge_definition`).
    fn judge_kind(&self) -> crate::judge::JudgeKind {
        crate::judge::JudgeKind::Generic
    }
    /// How per-sample scores aggregate into the report (EvalScope's `aggregation`).
    fn aggregation(&self) -> Aggregation {
        Aggregation::Mean
    }
    /// Report metrics the benchmark adds after the per-metric ones (EvalScope's
    /// `aggregate_scores` overrides: needle_haystack's accuracy per context length and depth);
    /// each scored sample comes with its sample. None by default.
    fn extra_report_metrics(
        &self,
        spec: &ReportSpec,
        scored: &[(&Sample, &ScoredSample)],
    ) -> Vec<MetricReport> {
        let _ = (spec, scored);
        Vec::new()
    }
}
