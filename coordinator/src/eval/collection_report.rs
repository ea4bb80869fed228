//! The report of a `data_collection` eval: every (sample, repeat) scored by its original
//! benchmark, grouped as EvalScope's collection report groups them; writes
//! `reports/<model>/collection_detailed_report.json` and prints the tables.

use std::path::Path;

use serde_json::{Map, Value};
use swarm_eval::collection::line::INFO_KEY;
use swarm_eval::collection::report::{benchmark_report, overview_rows};
use swarm_eval::collection::{REPORT_NAME, ScoredEntry, collection_report};
use swarm_eval::report::report_metric_name;
use swarm_eval::task::Prediction;
use swarm_eval::{Report, Sample};

use super::report::{overview, successful};
use crate::report::terminal::table;
use crate::run_store::stage_files::write_json;

/// The scored entries of a collection run: a missing or failed prediction scores 0.
pub fn entries(samples: &[Sample], repeats: u32, predictions: &[Prediction]) -> Vec<ScoredEntry> {
    let by_key = successful(predictions);
    let mut out = Vec::with_capacity(samples.len() * repeats as usize);
    for s in samples {
        let empty = Map::new();
        let info = s
            .metadata
            .get(INFO_KEY)
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let text = |k: &str| {
            info.get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let list = |k: &str| -> Vec<String> {
            info.get(k)
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        };
        for r in 0..repeats {
            let (metric, score) = match by_key.get(&(s.id.as_str(), r)) {
                Some(p) => (
                    p.score.main.clone(),
                    p.score.values.get(&p.score.main).copied().unwrap_or(0.0),
                ),
                None => ("acc".to_owned(), 0.0),
            };
            out.push(ScoredEntry {
                task_type: text("task_type"),
                categories: list("categories"),
                dataset_name: text("dataset_name"),
                subset_name: text("subset_name"),
                tags: list("tags"),
                sample_id: s.id.clone(),
                metric,
                score,
                weight: info.get("weight").and_then(Value::as_f64).unwrap_or(1.0),
            });
        }
    }
    out
}

/// Writes the detailed report under `reports_dir`, prints its tables, and returns the
/// collection's benchmark report (categories by hierarchy, subsets `<dataset>/<subset>`).
pub fn write(
    model: &str,
    samples: &[Sample],
    repeats: u32,
    predictions: &[Prediction],
    reports_dir: &Path,
) -> anyhow::Result<Report> {
    let scored = entries(samples, repeats, predictions);
    let detailed = collection_report(&scored);
    std::fs::create_dir_all(reports_dir)?;
    write_json(&reports_dir.join(REPORT_NAME), &detailed)?;
    println!("{}", overview_table(&scored));
    for (level, rows) in [
        ("task_level", &detailed.task_level),
        ("tag_level", &detailed.tag_level),
        ("category_level", &detailed.category_level),
    ] {
        if !rows.is_empty() {
            println!("{level}:\n{}", rows_table(rows));
        }
    }
    Ok(benchmark_report(model, &scored))
}

/// task_type | metric | dataset_name | average_score | count, by count.
pub fn overview_table(scored: &[ScoredEntry]) -> String {
    overview(
        overview_rows(scored)
            .into_iter()
            .map(|(task, metric, dataset, score, count)| {
                (task, report_metric_name(&metric), dataset, score, count)
            }),
    )
}

/// A table of report rows (columns in the rows' order).
fn rows_table(rows: &[Map<String, Value>]) -> String {
    let mut t = table();
    if let Some(first) = rows.first() {
        t.set_header(first.keys().cloned().collect::<Vec<_>>());
    }
    for r in rows {
        t.add_row(
            r.values()
                .map(|v| match v {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => match n.as_f64() {
                        Some(x) if !n.is_u64() => format!("{x:.4}"),
                        _ => n.to_string(),
                    },
                    other => other.to_string(),
                })
                .collect::<Vec<_>>(),
        );
    }
    t.to_string()
}
