//! Which filters score each line of a collection.
//!
//! EvalScope scores a collection line with an adapter of the line's own benchmark, configured by
//! the task's `dataset_args[<dataset name>]` (its `filters` included); the `data_collection`
//! entry's own filters never reach the lines. A schema's per-dataset `args` only shape loading
//! at build time, and EvalScope's lines do not carry them.
//!
//! Here a line's filters are, first that is not empty:
//! 1. the task's `dataset_args[<dataset name>].filters` (`--dataset-args` or a plan's
//!    `eval.dataset_args`), as EvalScope;
//! 2. the line's own `args.filters`: `collection build` copies the schema dataset's `filters`
//!    into each line it draws from that dataset, so the same benchmark may appear twice in a
//!    schema with different filters (EvalScope ignores this extra field);
//! 3. the `data_collection` entry's own `filters`, as a default for every other line (our
//!    extension; EvalScope ignores them).
//!
//! A code line (humaneval, live_code_bench) runs in a sandbox made from, first that is not
//! empty: the task's `dataset_args[<dataset name>].sandbox_config`, else the `data_collection`
//! entry's own `sandbox_config`. The task's map travels in
//! `metadata.collection_info.sandbox_config` ([`apply_task_sandbox_configs`]); the entry's
//! travels in the shard's arguments ([`sandbox_config`]). Collection lines never carry one of
//! their own: running untrusted code unisolated is the evaluator's choice, not the data's.
//!
//! The chosen filters travel with the sample in `metadata.collection_info.filters`, so agents
//! and re-scoring apply the same ones; the `data_collection` benchmark applies them before its
//! line's benchmark extracts (its shard-wide filter chain is empty, see
//! [`crate::task::filters`]). Other arguments do not apply at eval time: loading arguments
//! were spent at build time, and those that shape extraction (`extra_params.mc_parser`,
//! `inst_level`) are already in each sample's metadata.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::line::INFO_KEY;
use crate::exec::SandboxSettings;
use crate::filters::FilterChain;
use crate::sample::{DatasetArgs, EvalError, Sample};

/// The key of a sample's filters inside its `collection_info` metadata.
pub const FILTERS_KEY: &str = "filters";

/// The key of a sample's sandbox settings inside its `collection_info` metadata.
pub const SANDBOX_KEY: &str = "sandbox_config";

/// The eval-time arguments a collection line carries from its schema dataset.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LineArgs {
    /// Filters applied to the completion before the line's benchmark extracts, in order.
    pub filters: Map<String, Value>,
}

impl LineArgs {
    /// The eval-time part of a schema dataset's `args`.
    pub fn of(args: &DatasetArgs) -> Self {
        Self {
            filters: args.filters.clone(),
        }
    }

    /// Nothing to carry.
    pub fn is_empty(&self) -> bool {
        self.filters.is_empty()
    }
}

/// The name of the dataset a collection sample came from.
pub fn dataset_of(sample: &Sample) -> Option<&str> {
    sample.metadata.get(INFO_KEY)?.get("dataset_name")?.as_str()
}

/// Sets the filters a collection sample is scored with (none when `filters` is empty).
pub fn set_filters(sample: &mut Sample, filters: &Map<String, Value>) {
    let Some(Value::Object(info)) = sample.metadata.get_mut(INFO_KEY) else {
        return;
    };
    if filters.is_empty() {
        info.remove(FILTERS_KEY);
    } else {
        info.insert(FILTERS_KEY.to_owned(), Value::Object(filters.clone()));
    }
}

/// The filter chain a collection sample is scored with (empty when it has none).
pub fn filters_of(sample: &Sample) -> Result<FilterChain, EvalError> {
    let dataset = dataset_of(sample).unwrap_or(super::NAME);
    match sample
        .metadata
        .get(INFO_KEY)
        .and_then(|info| info.get(FILTERS_KEY))
    {
        None | Some(Value::Null) => Ok(FilterChain::default()),
        Some(Value::Object(filters)) => FilterChain::from_args(dataset, filters),
        Some(other) => Err(EvalError::BadArgs {
            benchmark: dataset.to_owned(),
            message: format!("`collection_info.filters` must be an object, got {other}"),
        }),
    }
}

/// Applies the task's per-dataset filters (step 1 above): every sample whose dataset has
/// non-empty `filters` in `task` is scored with them. Returns how many samples changed.
pub fn apply_task_filters(
    samples: &mut [Sample],
    task: &BTreeMap<String, DatasetArgs>,
) -> Result<usize, EvalError> {
    let mut changed = 0;
    for (name, args) in task {
        if name == super::NAME || args.filters.is_empty() {
            continue;
        }
        // a bad filter is named once, before any sample changes
        FilterChain::from_args(name, &args.filters)?;
        for s in samples
            .iter_mut()
            .filter(|s| dataset_of(s) == Some(name.as_str()))
        {
            set_filters(s, &args.filters);
            changed += 1;
        }
    }
    Ok(changed)
}

/// Whether `key` may name arguments in a task's `dataset_args` next to `datasets`: a listed
/// dataset, or, when `data_collection` is listed, any known benchmark (its filters then apply to
/// its lines in the collection).
pub fn dataset_args_key_allowed(datasets: &[String], key: &str) -> bool {
    datasets.iter().any(|d| d == key)
        || (datasets.iter().any(|d| d == super::NAME) && crate::registry::names().contains(&key))
}

/// The `sandbox_config` a sample's code runs with: the one it carries (a collection line's,
/// from the task's per-dataset arguments), else `args.sandbox_config` (the shard's benchmark's
/// own, for a collection the `data_collection` entry's).
pub fn sandbox_config<'a>(sample: &'a Sample, args: &'a DatasetArgs) -> &'a Map<String, Value> {
    match sample
        .metadata
        .get(INFO_KEY)
        .and_then(|info| info.get(SANDBOX_KEY))
    {
        Some(Value::Object(config)) => config,
        _ => &args.sandbox_config,
    }
}

/// Sets the task's per-dataset `sandbox_config` on every collection sample of that dataset (none
/// when it is empty). Returns how many samples carry one; a bad config is an error naming its
/// dataset, before any sample changes.
pub fn apply_task_sandbox_configs(
    samples: &mut [Sample],
    task: &BTreeMap<String, DatasetArgs>,
) -> Result<usize, EvalError> {
    for (name, args) in task {
        SandboxSettings::from_config(name, &args.sandbox_config)?;
    }
    let mut set = 0;
    for s in samples.iter_mut() {
        let config = dataset_of(s)
            .and_then(|d| task.get(d))
            .filter(|a| !a.sandbox_config.is_empty())
            .map(|a| Value::Object(a.sandbox_config.clone()));
        let Some(Value::Object(info)) = s.metadata.get_mut(INFO_KEY) else {
            continue;
        };
        match config {
            Some(config) => {
                info.insert(SANDBOX_KEY.to_owned(), config);
                set += 1;
            }
            None => {
                info.remove(SANDBOX_KEY);
            }
        }
    }
    Ok(set)
}
