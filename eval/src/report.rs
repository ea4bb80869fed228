//! Aggregation of per-sample scores into an EvalScope v1.10.0 report: a mean per subset, subsets
//! grouped into categories, categories into one entry per metric (`mean_acc`, ...), the report
//! score being the first metric's. Scores are rounded to 4 decimals at every level, as EvalScope
//! rounds them, and the levels above a subset are computed from the rounded values below.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::sample::{Benchmark, Sample, Score};

/// How per-sample scores become report numbers (EvalScope's `aggregation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregation {
    /// The mean of each metric: `mean_<metric>`.
    #[default]
    Mean,
    /// The mean plus, for `k` repeats of each sample, the unbiased pass@1..k of each metric:
    /// `mean_<metric>` and `mean_<metric>_pass@<n>`.
    MeanAndPassAtK,
}

impl Aggregation {
    /// EvalScope's name for it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Mean => "mean",
            Self::MeanAndPassAtK => "mean_and_pass_at_k",
        }
    }
}

/// One scored prediction, as reports aggregate it. Repeats of a sample share `sample_id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoredSample {
    /// The sample's subset.
    pub subset: String,
    /// The sample's id; repeats of one sample carry the same id.
    pub sample_id: String,
    /// Metric name → value.
    pub values: BTreeMap<String, f64>,
}

impl ScoredSample {
    /// The scored form of `sample`.
    pub fn new(sample: &Sample, score: &Score) -> Self {
        Self {
            subset: sample.subset.clone(),
            sample_id: sample.id.clone(),
            values: score.values.clone(),
        }
    }
}

/// What a report needs to know about its benchmark.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportSpec {
    /// Benchmark name (`gsm8k`).
    pub dataset_name: String,
    /// Pretty name (`GSM8K`).
    pub pretty_name: String,
    /// Metric names in report order; the first is the report's score.
    pub metrics: Vec<String>,
    /// Subsets in report order (subsets not listed follow in order of appearance).
    pub subsets: Vec<String>,
    /// Subset → category path (absent: `["default"]`).
    pub categories: BTreeMap<String, Vec<String>>,
    /// The aggregation.
    pub aggregation: Aggregation,
}

impl ReportSpec {
    /// The spec of a benchmark.
    pub fn of(benchmark: &dyn Benchmark) -> Self {
        let meta = benchmark.meta();
        let categories = meta
            .subsets
            .iter()
            .map(|s| (s.clone(), benchmark.category(s)))
            .collect();
        Self {
            dataset_name: meta.name.to_owned(),
            pretty_name: meta.pretty_name.to_owned(),
            metrics: meta.metrics.iter().map(|m| (*m).to_owned()).collect(),
            subsets: meta.subsets,
            categories,
            aggregation: benchmark.aggregation(),
        }
    }
}

/// A benchmark's report (EvalScope's `reports/<model>/<dataset>.json`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Report {
    /// `<model>@<dataset>`.
    pub name: String,
    /// Benchmark name.
    pub dataset_name: String,
    /// Benchmark pretty name.
    pub dataset_pretty_name: String,
    /// Model name.
    pub model_name: String,
    /// The first metric's score.
    pub score: f64,
    /// One entry per metric.
    pub metrics: Vec<MetricReport>,
    /// Samples counted by the first metric.
    pub num: usize,
    /// EvalScope 1.14's eval performance summary (absent in older reports).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub perf_metrics: Option<super::perf::PerfMetrics>,
    /// EvalScope's run-level judge coverage and failures, when a judge was asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub judge_summary: Option<super::judge::summary::JudgeSummary>,
}

/// One metric of a report.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct MetricReport {
    /// `mean_acc`, `mean_acc_pass@1`, ...
    pub name: String,
    /// Samples.
    pub num: usize,
    /// Micro mean over categories (weighted by their sample counts).
    pub score: f64,
    /// Unweighted mean of the category scores.
    pub macro_score: f64,
    /// Categories in order of first appearance.
    pub categories: Vec<CategoryReport>,
}

/// One category of a metric.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CategoryReport {
    /// The category path (`["default"]`, `["STEM"]`).
    pub name: Vec<String>,
    /// Samples.
    pub num: usize,
    /// Micro mean over subsets.
    pub score: f64,
    /// Unweighted mean of the subset scores.
    pub macro_score: f64,
    /// Subsets in report order.
    pub subsets: Vec<SubsetReport>,
}

/// One subset of a category.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SubsetReport {
    /// Subset name.
    pub name: String,
    /// Mean score.
    pub score: f64,
    /// Samples.
    pub num: usize,
}

/// Python's `round(x, 4)`: to the nearest multiple of 1e-4 of the exact binary value, ties to
/// even.
pub fn round4(x: f64) -> f64 {
    swarm_common::pyround::round(x, 4)
}

/// The unbiased pass@k estimate for `n` samples of which `c` are correct:
/// `1 - prod(1 - k / arange(n - c + 1, n + 1))`, 1 when `n - c < k` (EvalScope's
/// `calculate_pass_at_k`, same float operations in the same order).
pub fn pass_at_k(n: u64, c: u64, k: u64) -> f64 {
    let c = c.min(n);
    if n - c < k {
        return 1.0;
    }
    let k = k as f64;
    let mut product = 1.0_f64;
    for i in (n - c + 1)..=n {
        product *= 1.0 - k / i as f64;
    }
    1.0 - product
}

/// The report metric name of a per-sample metric (`acc` → `mean_acc`, `acc_pass@1` →
/// `mean_acc_pass@1`).
pub fn report_metric_name(metric: &str) -> String {
    format!("mean_{metric}")
}

/// EvalScope HEAD's name for a v1.10.0 report metric: `mean_acc` → `accuracy:mean`,
/// `mean_acc_pass@1` → `accuracy:pass_at_k[k=1]`, `mean_prompt_level_strict` →
/// `prompt_level_strict:mean`.
pub fn head_metric_name(name: &str) -> Option<String> {
    let metric = name.strip_prefix("mean_")?;
    let head = |m: &str| {
        if m == "acc" {
            "accuracy".to_owned()
        } else {
            m.to_owned()
        }
    };
    if let Some((base, k)) = metric.split_once("_pass@") {
        return Some(format!("{}:pass_at_k[k={k}]", head(base)));
    }
    Some(format!("{}:mean", head(metric)))
}

/// The legacy (pre-1.0) name EvalScope gave a benchmark's report metric, as older tables show
/// it: `AverageAccuracy`, `AveragePass@1`, `Pass@1`, `prompt_level_strict_acc`.
pub fn legacy_metric_name(benchmark: &str, name: &str) -> Option<String> {
    let metric = name.strip_prefix("mean_")?;
    if let Some((base, k)) = metric.split_once("_pass@") {
        return (base == "acc").then(|| format!("Pass@{k}"));
    }
    if metric == "acc" {
        let legacy = match benchmark {
            "math_500" | "aime24" | "aime25" | "gpqa_diamond" | "gpqa" => "AveragePass@1",
            "humaneval" | "live_code_bench" => "Pass@1",
            _ => "AverageAccuracy",
        };
        return Some(legacy.to_owned());
    }
    Some(format!("{metric}_acc"))
}

/// The v1.10.0 report metric name for any of its aliases (HEAD or legacy names), or `None` if
/// the name is not one.
pub fn canonical_metric_name(name: &str) -> Option<String> {
    if name.starts_with("mean_") {
        return Some(name.to_owned());
    }
    let v1 = |m: &str| {
        if m == "accuracy" {
            "acc".to_owned()
        } else {
            m.to_owned()
        }
    };
    if let Some(metric) = name.strip_suffix(":mean") {
        return Some(format!("mean_{}", v1(metric)));
    }
    if let Some((metric, rest)) = name.split_once(":pass_at_k[k=") {
        let k = rest.strip_suffix(']')?;
        return Some(format!("mean_{}_pass@{k}", v1(metric)));
    }
    match name {
        "AverageAccuracy" | "AveragePass@1" => return Some("mean_acc".to_owned()),
        _ => {}
    }
    if let Some(k) = name
        .strip_prefix("AveragePass@")
        .or_else(|| name.strip_prefix("Pass@"))
    {
        return Some(format!("mean_acc_pass@{k}"));
    }
    if let Some(metric) = name.strip_suffix("_acc") {
        return Some(format!("mean_{metric}"));
    }
    None
}

/// Aggregates scored samples into the benchmark's report for `model_name`.
pub fn build_report(model_name: &str, spec: &ReportSpec, scored: &[ScoredSample]) -> Report {
    let augmented;
    let scored = match spec.aggregation {
        Aggregation::Mean => scored,
        Aggregation::MeanAndPassAtK => {
            augmented = with_pass_at_k(scored);
            &augmented[..]
        }
    };

    // Metric order: the spec's, their pass@n, then any others by name.
    let mut metric_order: Vec<String> = Vec::new();
    fn push(m: String, order: &mut Vec<String>) {
        if !order.contains(&m) {
            order.push(m);
        }
    }
    let present = |m: &str| scored.iter().any(|s| s.values.contains_key(m));
    for m in spec.metrics.iter().filter(|m| present(m)) {
        push(m.clone(), &mut metric_order);
    }
    for m in &spec.metrics {
        let prefix = format!("{m}_pass@");
        let mut ks: Vec<(u64, String)> = scored
            .iter()
            .flat_map(|s| s.values.keys())
            .filter_map(|k| Some((k.strip_prefix(&prefix)?.parse().ok()?, k.clone())))
            .collect();
        ks.sort();
        for (_, name) in ks {
            push(name, &mut metric_order);
        }
    }
    let mut rest: Vec<String> = scored
        .iter()
        .flat_map(|s| s.values.keys().cloned())
        .collect();
    rest.sort();
    for m in rest {
        push(m, &mut metric_order);
    }

    // Subset order: the spec's, then by appearance.
    let mut subset_order: Vec<&str> = Vec::new();
    for s in spec
        .subsets
        .iter()
        .map(String::as_str)
        .filter(|s| scored.iter().any(|x| x.subset == *s))
        .chain(scored.iter().map(|x| x.subset.as_str()))
    {
        if !subset_order.contains(&s) {
            subset_order.push(s);
        }
    }

    let metrics: Vec<MetricReport> = metric_order
        .iter()
        .filter_map(|metric| {
            let mut categories: Vec<CategoryReport> = Vec::new();
            for subset in &subset_order {
                let values: Vec<f64> = scored
                    .iter()
                    .filter(|s| s.subset == *subset)
                    .filter_map(|s| s.values.get(metric).copied())
                    .collect();
                if values.is_empty() {
                    continue;
                }
                let entry = SubsetReport {
                    name: (*subset).to_owned(),
                    score: round4(values.iter().sum::<f64>() / values.len() as f64),
                    num: values.len(),
                };
                let path = spec
                    .categories
                    .get(*subset)
                    .cloned()
                    .unwrap_or_else(|| vec!["default".to_owned()]);
                match categories.iter_mut().find(|c| c.name == path) {
                    Some(c) => c.subsets.push(entry),
                    None => categories.push(CategoryReport {
                        name: path,
                        subsets: vec![entry],
                        ..CategoryReport::default()
                    }),
                }
            }
            if categories.is_empty() {
                return None;
            }
            for c in &mut categories {
                let (num, score, macro_score) =
                    micro_macro(c.subsets.iter().map(|s| (s.score, s.num)));
                c.num = num;
                c.score = score;
                c.macro_score = macro_score;
            }
            let (num, score, macro_score) =
                micro_macro(categories.iter().map(|c| (c.score, c.num)));
            Some(MetricReport {
                name: report_metric_name(metric),
                num,
                score,
                macro_score,
                categories,
            })
        })
        .collect();

    let score = metrics.first().map_or(0.0, |m| m.score);
    let num = metrics.first().map_or(0, |m| m.num);
    Report {
        name: format!("{model_name}@{}", spec.dataset_name),
        dataset_name: spec.dataset_name.clone(),
        dataset_pretty_name: spec.pretty_name.clone(),
        model_name: model_name.to_owned(),
        score,
        metrics,
        num,
        perf_metrics: None,
        judge_summary: None,
    }
}

/// `(Σ num, round4(Σ score·num / Σ num), round4(mean score))` of `(score, num)` pairs.
fn micro_macro(items: impl Iterator<Item = (f64, usize)> + Clone) -> (usize, f64, f64) {
    let num: usize = items.clone().map(|(_, n)| n).sum();
    let count = items.clone().count();
    if num == 0 || count == 0 {
        return (num, 0.0, 0.0);
    }
    let weighted: f64 = items.clone().map(|(s, n)| s * n as f64).sum();
    let plain: f64 = items.map(|(s, _)| s).sum();
    (
        num,
        round4(weighted / num as f64),
        round4(plain / count as f64),
    )
}

/// Adds `<metric>_pass@n` (n = 1..k, k = samples / distinct samples) to every scored sample,
/// computed over the repeats of its sample (EvalScope's `mean_and_pass_at_k`).
fn with_pass_at_k(scored: &[ScoredSample]) -> Vec<ScoredSample> {
    let mut out = scored.to_vec();
    let Some(first) = scored.first() else {
        return out;
    };
    // Groups in order of appearance.
    let mut groups: Vec<(&str, &str)> = Vec::new();
    for s in scored {
        let key = (s.subset.as_str(), s.sample_id.as_str());
        if !groups.contains(&key) {
            groups.push(key);
        }
    }
    let k = (scored.len() / groups.len()).max(1) as u64;
    for metric in first.values.keys() {
        let mut per_group: BTreeMap<(&str, &str), (u64, f64)> = BTreeMap::new();
        for s in scored {
            let entry = per_group
                .entry((s.subset.as_str(), s.sample_id.as_str()))
                .or_insert((0, 0.0));
            entry.0 += 1;
            entry.1 += s.values.get(metric).copied().unwrap_or(0.0);
        }
        for s in &mut out {
            let (n, sum) = per_group
                .get(&(s.subset.as_str(), s.sample_id.as_str()))
                .copied()
                .unwrap_or((0, 0.0));
            // Python's int(sum(values)): truncation toward zero.
            let c = if sum > 0.0 { sum.trunc() as u64 } else { 0 };
            for n_at in 1..=k {
                s.values
                    .insert(format!("{metric}_pass@{n_at}"), pass_at_k(n, c, n_at));
            }
        }
    }
    out
}
