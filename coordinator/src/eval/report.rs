//! Eval reports: EvalScope's `reports/<model>/<bench>.json` and the terminal tables (task_type,
//! metric, dataset_name, average_score, count; then per subset).

use std::collections::HashMap;

use swarm_eval::benchmarks::needle_haystack;
use swarm_eval::benchmarks::needle_haystack::cells::Cell;
use swarm_eval::report::{ReportSpec, ScoredSample, build_report};
use swarm_eval::task::Prediction;
use swarm_eval::{Benchmark, Report, Sample};

use crate::report::terminal::table;

/// Builds one benchmark's report over every (sample, repeat) planned: a missing or failed
/// prediction scores 0, so failures never inflate a score.
pub fn report(
    model: &str,
    bench: &dyn Benchmark,
    samples: &[Sample],
    repeats: u32,
    predictions: &[Prediction],
) -> Report {
    let mut spec = ReportSpec::of(bench);
    if repeats > 1 {
        // several generations per sample: report mean-of-n and pass@k, like EvalScope with n > 1
        spec.aggregation = swarm_eval::Aggregation::MeanAndPassAtK;
    }
    let by_key = successful(predictions);
    let mut scored = Vec::with_capacity(samples.len() * repeats as usize);
    let mut of_sample = Vec::with_capacity(samples.len() * repeats as usize);
    for s in samples {
        for r in 0..repeats {
            // a (sample, repeat) without a prediction is not counted, as in EvalScope: scoring
            // it 0 would report a failure as a wrong answer
            let Some(p) = by_key.get(&(s.id.as_str(), r)) else {
                continue;
            };
            scored.push(ScoredSample {
                subset: s.subset.clone(),
                sample_id: s.id.clone(),
                values: p.score.values.clone(),
            });
            of_sample.push(s);
        }
    }
    let mut report = build_report(model, &spec, &scored);
    // the benchmark's own aggregates (needle_haystack's cells) follow the per-metric ones
    let pairs: Vec<(&Sample, &ScoredSample)> = of_sample.into_iter().zip(&scored).collect();
    report
        .metrics
        .extend(bench.extra_report_metrics(&spec, &pairs));
    report
}

/// How many of the `samples` × `repeats` planned have no successful prediction (they are left
/// out of the report).
pub fn unpredicted(samples: &[Sample], repeats: u32, predictions: &[Prediction]) -> usize {
    let by_key = successful(predictions);
    samples
        .iter()
        .flat_map(|s| (0..repeats).map(move |r| (s.id.as_str(), r)))
        .filter(|k| !by_key.contains_key(k))
        .count()
}

/// The predictions that came back without an error, by (sample id, repeat).
pub(super) fn successful(predictions: &[Prediction]) -> HashMap<(&str, u32), &Prediction> {
    predictions
        .iter()
        .filter(|p| p.error.is_none())
        .map(|p| ((p.sample_id.as_str(), p.repeat), p))
        .collect()
}

/// The overview table: one row per benchmark and metric. A needle_haystack report's per-cell
/// metrics are left out (its heat-maps show them; EvalScope's table has only its score).
pub fn overview_table(rows: &[(&'static str, Report)]) -> String {
    overview(rows.iter().flat_map(|(task_type, r)| {
        let needle = r.dataset_name == needle_haystack::NAME;
        r.metrics
            .iter()
            .filter(move |m| !(needle && Cell::from_metric_name(&m.name).is_some()))
            .map(|m| {
                (
                    task_type.to_string(),
                    m.name.clone(),
                    r.dataset_name.clone(),
                    m.score,
                    m.num,
                )
            })
    }))
}

/// task_type | metric | dataset_name | average_score | count, a row per
/// `(task_type, metric, dataset_name, score, count)`.
pub(super) fn overview(
    rows: impl IntoIterator<Item = (String, String, String, f64, usize)>,
) -> String {
    let mut t = table();
    t.set_header(vec![
        "task_type",
        "metric",
        "dataset_name",
        "average_score",
        "count",
    ]);
    for (task_type, metric, dataset, score, count) in rows {
        t.add_row(vec![
            task_type,
            metric,
            dataset,
            format!("{score:.4}"),
            count.to_string(),
        ]);
    }
    t.to_string()
}

/// EvalScope 1.14's perf table: a row per report with a perf summary (Model, Dataset, Num,
/// Avg Lat, Avg TTFT, Avg TPOT, Avg Thpt, Avg In, Avg Out); none when no report has one.
pub fn perf_table<'a>(reports: impl IntoIterator<Item = &'a Report>) -> Option<String> {
    let mut t = table();
    t.set_header(swarm_eval::perf::PERF_COLUMNS.to_vec());
    let mut any = false;
    for r in reports {
        let Some(s) = r.perf_metrics.as_ref().and_then(|p| p.summary.as_ref()) else {
            continue;
        };
        let dataset = if r.dataset_pretty_name.is_empty() {
            &r.dataset_name
        } else {
            &r.dataset_pretty_name
        };
        t.add_row(swarm_eval::perf::perf_row(&r.model_name, dataset, s));
        any = true;
    }
    any.then(|| t.to_string())
}

/// The per-subset table of one report's first metric.
pub fn subset_table(r: &Report) -> String {
    let mut t = table();
    t.set_header(vec![
        "dataset_name",
        "metric",
        "category",
        "subset",
        "num",
        "score",
    ]);
    if let Some(m) = r.metrics.first() {
        for c in &m.categories {
            for s in &c.subsets {
                t.add_row(vec![
                    r.dataset_name.clone(),
                    m.name.clone(),
                    c.name.join("/"),
                    s.name.clone(),
                    s.num.to_string(),
                    format!("{:.4}", s.score),
                ]);
            }
        }
    }
    t.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_overview_has_a_row_per_metric_with_four_decimals() {
        let text = overview([
            (
                "math".to_owned(),
                "acc".to_owned(),
                "gsm8k".to_owned(),
                2.0 / 3.0,
                3,
            ),
            (
                "code".to_owned(),
                "mean_acc".to_owned(),
                "humaneval".to_owned(),
                0.5,
                10,
            ),
        ]);
        let lines: Vec<&str> = text.lines().collect();
        let row = |needle: &str| {
            lines
                .iter()
                .find(|l| l.contains(needle))
                .map(|l| l.split(['│', '┆']).map(str::trim).collect::<Vec<_>>())
        };
        assert_eq!(
            row("task_type"),
            Some(vec![
                "",
                "task_type",
                "metric",
                "dataset_name",
                "average_score",
                "count",
                ""
            ])
        );
        assert_eq!(
            row("gsm8k"),
            Some(vec!["", "math", "acc", "gsm8k", "0.6667", "3", ""])
        );
        assert_eq!(
            row("humaneval"),
            Some(vec![
                "",
                "code",
                "mean_acc",
                "humaneval",
                "0.5000",
                "10",
                ""
            ])
        );
    }

    #[test]
    fn needle_haystack_cells_stay_out_of_the_overview() {
        let metric = |name: &str| swarm_eval::report::MetricReport {
            name: name.to_owned(),
            num: 4,
            score: 0.5,
            ..Default::default()
        };
        let needle = Report {
            dataset_name: needle_haystack::NAME.to_owned(),
            metrics: vec![metric("mean_acc"), metric("Context#1000 Depth#50")],
            ..Default::default()
        };
        let other = Report {
            dataset_name: "gsm8k".to_owned(),
            metrics: vec![metric("mean_acc"), metric("Context#1000 Depth#50")],
            ..Default::default()
        };
        let text = overview_table(&[("needle", needle)]);
        assert!(
            text.contains("mean_acc") && !text.contains("Context#"),
            "{text}"
        );
        let text = overview_table(&[("math", other)]);
        assert!(text.contains("Context#1000 Depth#50"), "{text}");
    }
}
