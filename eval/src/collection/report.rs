//! The collection report (EvalScope's `collection_detailed_report.json`): every scored sample's
//! main score grouped by subset, dataset, task type, tag and category, each group with
//! `micro_avg.` (mean over samples), `macro_avg.` (mean of the group's subset means),
//! `weighted_avg.` (Σ score·weight / Σ weight) and `count`, 4 decimals, rows sorted by count
//! (descending; ties in group-key order, as pandas' sorted groupby and a stable sort give).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::report::{Aggregation, Report, ReportSpec, ScoredSample, build_report, round4};

/// One scored (sample, repeat) of a collection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoredEntry {
    /// Task type.
    pub task_type: String,
    /// Hierarchy of groups, root first.
    pub categories: Vec<String>,
    /// Original benchmark.
    pub dataset_name: String,
    /// Original subset.
    pub subset_name: String,
    /// Tags.
    pub tags: Vec<String>,
    /// The sample's id in the collection.
    pub sample_id: String,
    /// The main metric's name (`acc`).
    pub metric: String,
    /// The main metric's value.
    pub score: f64,
    /// The sample's weight.
    pub weight: f64,
}

/// The five tables of a collection report; each row maps column → value.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CollectionReport {
    /// task_type, dataset_name, subset_name, micro_avg., count.
    pub subset_level: Vec<Map<String, Value>>,
    /// task_type, dataset_name, micro/macro/weighted averages, count.
    pub dataset_level: Vec<Map<String, Value>>,
    /// task_type, averages, count.
    pub task_level: Vec<Map<String, Value>>,
    /// tags, averages, count (a sample counts once per tag).
    pub tag_level: Vec<Map<String, Value>>,
    /// category0.., averages, count.
    pub category_level: Vec<Map<String, Value>>,
}

type Key = fn(&ScoredEntry) -> String;

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    if n == 0 { 0.0 } else { sum / n as f64 }
}

/// Groups `rows` by `columns` (named, each a key of a row) and computes the averages.
fn group(
    rows: &[(Vec<String>, &ScoredEntry)],
    names: &[String],
    macro_by_subset: bool,
    micro_only: bool,
) -> Vec<Map<String, Value>> {
    let mut groups: BTreeMap<&[String], Vec<&ScoredEntry>> = BTreeMap::new();
    for (key, e) in rows {
        groups.entry(key.as_slice()).or_default().push(e);
    }
    let mut out: Vec<(usize, Map<String, Value>)> = Vec::with_capacity(groups.len());
    for (key, members) in groups {
        let micro = mean(members.iter().map(|e| e.score));
        let mut row = Map::new();
        for (name, value) in names.iter().zip(key) {
            row.insert(name.clone(), Value::from(value.clone()));
        }
        row.insert("micro_avg.".into(), Value::from(round4(micro)));
        if !micro_only {
            let macro_avg = if macro_by_subset {
                let mut by_subset: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
                for e in &members {
                    by_subset.entry(&e.subset_name).or_default().push(e.score);
                }
                mean(by_subset.values().map(|v| mean(v.iter().copied())))
            } else {
                micro
            };
            let total_w: f64 = members.iter().map(|e| e.weight).sum();
            let weighted = if total_w == 0.0 {
                micro
            } else {
                members.iter().map(|e| e.score * e.weight).sum::<f64>() / total_w
            };
            row.insert("macro_avg.".into(), Value::from(round4(macro_avg)));
            row.insert("weighted_avg.".into(), Value::from(round4(weighted)));
        }
        row.insert("count".into(), Value::from(members.len()));
        out.push((members.len(), row));
    }
    out.sort_by_key(|r| std::cmp::Reverse(r.0));
    out.into_iter().map(|(_, r)| r).collect()
}

fn by<'a>(entries: &'a [ScoredEntry], keys: &[Key]) -> Vec<(Vec<String>, &'a ScoredEntry)> {
    entries
        .iter()
        .map(|e| (keys.iter().map(|k| k(e)).collect(), e))
        .collect()
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// Builds the five tables from scored entries.
pub fn collection_report(entries: &[ScoredEntry]) -> CollectionReport {
    let task: Key = |e| e.task_type.clone();
    let dataset: Key = |e| e.dataset_name.clone();
    let subset: Key = |e| e.subset_name.clone();
    let subset_level = group(
        &by(entries, &[task, dataset, subset]),
        &names(&["task_type", "dataset_name", "subset_name"]),
        false,
        true,
    );
    let dataset_level = group(
        &by(entries, &[task, dataset]),
        &names(&["task_type", "dataset_name"]),
        true,
        false,
    );
    let task_level = group(&by(entries, &[task]), &names(&["task_type"]), true, false);
    let tagged: Vec<(Vec<String>, &ScoredEntry)> = entries
        .iter()
        .flat_map(|e| e.tags.iter().map(move |t| (vec![t.clone()], e)))
        .collect();
    let tag_level = group(&tagged, &names(&["tags"]), true, false);
    let depth = entries
        .iter()
        .map(|e| e.categories.len())
        .max()
        .unwrap_or(0);
    let categorised: Vec<(Vec<String>, &ScoredEntry)> = entries
        .iter()
        .map(|e| {
            let key = (0..depth)
                .map(|i| e.categories.get(i).cloned().unwrap_or_default())
                .collect();
            (key, e)
        })
        .collect();
    let category_names: Vec<String> = (0..depth).map(|i| format!("category{i}")).collect();
    let category_level = if depth == 0 {
        Vec::new()
    } else {
        group(&categorised, &category_names, true, false)
    };
    CollectionReport {
        subset_level,
        dataset_level,
        task_level,
        tag_level,
        category_level,
    }
}

/// One row of the overview table: task type, metric, dataset, mean score (4 decimals), count;
/// sorted by count, descending.
pub fn overview_rows(entries: &[ScoredEntry]) -> Vec<(String, String, String, f64, usize)> {
    let mut groups: BTreeMap<(&str, &str, &str), Vec<f64>> = BTreeMap::new();
    for e in entries {
        groups
            .entry((&e.task_type, &e.metric, &e.dataset_name))
            .or_default()
            .push(e.score);
    }
    let mut rows: Vec<_> = groups
        .into_iter()
        .map(|((t, m, d), v)| {
            (
                t.to_owned(),
                m.to_owned(),
                d.to_owned(),
                round4(mean(v.iter().copied())),
                v.len(),
            )
        })
        .collect();
    rows.sort_by_key(|r| std::cmp::Reverse(r.4));
    rows
}

/// The collection's benchmark report (`reports/<model>/data_collection.json`): per main metric,
/// one category per hierarchy, one subset per `<dataset>/<subset>` (EvalScope's
/// `gen_collection_report`).
pub fn benchmark_report(model: &str, entries: &[ScoredEntry]) -> Report {
    let mut metrics: Vec<String> = Vec::new();
    for e in entries {
        if !metrics.contains(&e.metric) {
            metrics.push(e.metric.clone());
        }
    }
    let mut categories = BTreeMap::new();
    let mut subsets: Vec<String> = Vec::new();
    let scored: Vec<ScoredSample> = entries
        .iter()
        .map(|e| {
            let subset = format!("{}/{}", e.dataset_name, e.subset_name);
            categories.insert(subset.clone(), e.categories.clone());
            if !subsets.contains(&subset) {
                subsets.push(subset.clone());
            }
            ScoredSample {
                subset,
                sample_id: e.sample_id.clone(),
                values: [(e.metric.clone(), e.score)].into_iter().collect(),
            }
        })
        .collect();
    // categories in sorted order, subsets sorted within them (pandas' sorted groupby)
    subsets.sort_by(|a, b| (categories.get(a), a).cmp(&(categories.get(b), b)));
    let spec = ReportSpec {
        dataset_name: super::NAME.to_owned(),
        pretty_name: "Data-Collection".to_owned(),
        metrics,
        subsets,
        categories,
        aggregation: Aggregation::Mean,
    };
    build_report(model, &spec, &scored)
}
