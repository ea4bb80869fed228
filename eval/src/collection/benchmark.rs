//! The `data_collection` benchmark: the samples of a collection JSONL file, each extracted and
//! scored by its original benchmark (looked up in the registry by the line's `dataset_name`).
//!
//! `local_path` names the JSONL file; `subset_list` keeps lines whose dataset name or
//! `<dataset>/<subset>` is listed; `limit` keeps the first N lines. Samples are named
//! `<dataset>/<subset>_<index>` in subset `<dataset>/<subset>`. A completion is filtered with
//! the line's own filters (the line's `args.filters`, else this entry's `filters`; the task's
//! per-dataset filters override both, see [`super::line_args`]) before its benchmark extracts.
//! Lines of code benchmarks run code ([`Benchmark::runs_code_on`]) and are scored by their
//! benchmark with the caller's code runner, in the sandbox their `sandbox_config` asks for.

use serde_json::Value;

use super::line::{INFO_KEY, read_lines};
use super::line_args::{filters_of, set_filters};
use crate::exec::ScoreContext;
use crate::filters::FilterChain;
use crate::registry;
use crate::sample::{Benchmark, BenchmarkMeta, DatasetArgs, EvalError, Sample, Score};

/// The mixed-collection benchmark.
#[derive(Debug, Clone, Copy, Default)]
pub struct DataCollection;

/// The original benchmark's name and sample of a collection sample.
pub fn original_of(sample: &Sample) -> Option<(String, Sample)> {
    let info = sample.metadata.get(INFO_KEY)?.as_object()?;
    let text = |k: &str| info.get(k).and_then(Value::as_str).map(str::to_owned);
    let dataset = text("dataset_name")?;
    let subset = text("subset_name")?;
    let mut metadata = sample.metadata.clone();
    metadata.remove(INFO_KEY);
    let inner = Sample {
        id: text("sample_id").unwrap_or_else(|| sample.id.clone()),
        benchmark: dataset.clone(),
        subset,
        messages: sample.messages.clone(),
        gold: sample.gold.clone(),
        choices: sample.choices.clone(),
        metadata,
    };
    Some((dataset, inner))
}

fn zero(extracted: &str) -> Score {
    Score {
        extracted: extracted.to_owned(),
        values: [("acc".to_owned(), 0.0)].into_iter().collect(),
        main: "acc".to_owned(),
    }
}

impl Benchmark for DataCollection {
    fn meta(&self) -> BenchmarkMeta {
        BenchmarkMeta {
            name: super::NAME,
            pretty_name: "Data-Collection",
            task_type: "custom",
            metrics: vec!["acc"],
            subsets: Vec::new(),
            few_shot_num: 0,
            eval_split: "test",
            train_split: "",
        }
    }

    fn load(&self, args: &DatasetArgs) -> Result<Vec<Sample>, EvalError> {
        let Some(path) = &args.local_path else {
            return Err(EvalError::BadArgs {
                benchmark: super::NAME.to_owned(),
                message: "needs `local_path`: the collection JSONL (coordinator collection build)"
                    .to_owned(),
            });
        };
        // this entry's filters are the default of every line without its own
        FilterChain::from_args(super::NAME, &args.filters)?;
        let lines = read_lines(path).map_err(|e| match e {
            super::CollectionError::BadLine {
                path,
                line,
                field,
                message,
            } => EvalError::BadRecord {
                path,
                line,
                field,
                message,
            },
            super::CollectionError::Io { path, source } => EvalError::Io { path, source },
            other => EvalError::BadArgs {
                benchmark: super::NAME.to_owned(),
                message: other.to_string(),
            },
        })?;
        let mut out = Vec::new();
        for (n, line) in &lines {
            let subset = format!("{}/{}", line.dataset_name, line.subset_name);
            if !args.subset_list.is_empty()
                && !args.subset_list.contains(&line.dataset_name)
                && !args.subset_list.contains(&subset)
            {
                continue;
            }
            if args.limit.is_some_and(|l| out.len() >= l) {
                break;
            }
            // unknown benchmarks fail here, not on the agents
            registry::benchmark(&line.dataset_name).map_err(|e| EvalError::BadRecord {
                path: path.clone(),
                line: *n,
                field: "dataset_name".into(),
                message: e.to_string(),
            })?;
            let mut sample = line.to_sample().map_err(|message| EvalError::BadRecord {
                path: path.clone(),
                line: *n,
                field: "prompt".into(),
                message,
            })?;
            let filters = if line.args.filters.is_empty() {
                &args.filters
            } else {
                FilterChain::from_args(&line.dataset_name, &line.args.filters).map_err(|e| {
                    EvalError::BadRecord {
                        path: path.clone(),
                        line: *n,
                        field: "args.filters".into(),
                        message: e.to_string(),
                    }
                })?;
                &line.args.filters
            };
            set_filters(&mut sample, filters);
            out.push(sample);
        }
        Ok(out)
    }

    /// The line's filters, then its benchmark's extraction (nothing when the sample is not a
    /// collection sample or its filters are bad, which `load` already rules out).
    fn extract(&self, completion: &str, sample: &Sample) -> String {
        let Some((name, inner)) = original_of(sample) else {
            return String::new();
        };
        match (registry::benchmark(&name), filters_of(sample)) {
            (Ok(b), Ok(filters)) => b.extract(&filters.apply(completion), &inner),
            _ => String::new(),
        }
    }

    fn score(&self, extracted: &str, sample: &Sample) -> Score {
        self.score_in(extracted, sample, &ScoreContext::default())
    }

    /// The line's benchmark scores, with the same context (its code runner for code lines).
    fn score_in(&self, extracted: &str, sample: &Sample, ctx: &ScoreContext<'_>) -> Score {
        match original_of(sample) {
            Some((name, inner)) => match registry::benchmark(&name) {
                Ok(b) => b.score_in(extracted, &inner, ctx),
                Err(_) => zero(extracted),
            },
            None => zero(extracted),
        }
    }

    /// Whether the line's benchmark runs code.
    fn runs_code_on(&self, sample: &Sample) -> bool {
        original_of(sample)
            .and_then(|(name, inner)| {
                registry::benchmark(&name)
                    .ok()
                    .map(|b| b.runs_code_on(&inner))
            })
            .unwrap_or(false)
    }
}
