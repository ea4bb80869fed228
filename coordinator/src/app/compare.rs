//! Two or more runs side by side: perf stages (throughput and percentiles) and eval scores
//! (one column per run and model).

use std::collections::BTreeMap;

use super::templates::nav;
use crate::report::html::chart::{Axes, bar_chart};
use crate::report::html::escape::{esc, json_cell, num};
use crate::report::html::page::{page, table};
use crate::report::run_data::RunData;

/// The comparison page of `runs`.
pub fn compare_page(runs: &[RunData]) -> String {
    let mut body = format!(
        "<p>comparing {}</p>",
        runs.iter()
            .map(|r| format!(
                "<a class=\"run\" href=\"/runs/{}\">{}</a>",
                crate::report::html::escape::url_encode(&r.id),
                esc(&r.id)
            ))
            .collect::<Vec<_>>()
            .join(", ")
    );
    body.push_str(&perf_part(runs));
    body.push_str(&eval_part(runs));
    page("compare runs", &nav(None), &body)
}

fn perf_part(runs: &[RunData]) -> String {
    let mut rows = Vec::new();
    for r in runs {
        for w in &r.perf {
            for s in &w.stages {
                let rich = |f: fn(&swarm_common::metrics::summary::RichSummary) -> f64| {
                    s.rich
                        .as_ref()
                        .map(f)
                        .map(num)
                        .unwrap_or_else(|| "-".into())
                };
                rows.push(vec![
                    esc(&r.id),
                    esc(w.model.as_deref().unwrap_or("-")),
                    esc(&w.name),
                    esc(&s.name),
                    json_cell(s.summary.get("Total Requests")),
                    json_cell(s.summary.get("Req Throughput (req/s)")),
                    json_cell(s.summary.get("Output Throughput (tok/s)")),
                    rich(|x| x.latency_s.p50),
                    rich(|x| x.latency_s.p99),
                    rich(|x| x.ttft_ms.p50),
                    rich(|x| x.ttft_ms.p99),
                    rich(|x| x.itl_ms.p99),
                ]);
            }
        }
    }
    if rows.is_empty() {
        return String::new();
    }
    let mut out = String::from("<section class=\"compare-perf\"><h2>Perf</h2>");
    out.push_str(&table(
        "compare-perf",
        &[
            "run",
            "model",
            "workload",
            "stage",
            "requests",
            "req/s",
            "output tok/s",
            "p50 latency (s)",
            "p99 latency (s)",
            "p50 TTFT (ms)",
            "p99 TTFT (ms)",
            "p99 ITL (ms)",
        ],
        &rows,
    ));
    // p99 TTFT per stage name, one bar per run
    let mut stages: Vec<String> = Vec::new();
    for r in runs {
        for w in &r.perf {
            for s in &w.stages {
                if !stages.contains(&s.name) {
                    stages.push(s.name.clone());
                }
            }
        }
    }
    let series: Vec<(String, Vec<f64>)> = runs
        .iter()
        .filter(|r| !r.perf.is_empty())
        .map(|r| {
            let v = stages
                .iter()
                .map(|name| {
                    r.perf
                        .iter()
                        .flat_map(|w| w.stages.iter())
                        .find(|s| &s.name == name)
                        .and_then(|s| s.rich.as_ref().map(|x| x.ttft_ms.p99))
                        .unwrap_or(f64::NAN)
                })
                .collect();
            (r.id.clone(), v)
        })
        .collect();
    out.push_str(&bar_chart(
        &Axes {
            title: "p99 TTFT per stage",
            x: "stage",
            y: "ms",
        },
        &stages,
        &series,
    ));
    out.push_str("</section>");
    out
}

fn eval_part(runs: &[RunData]) -> String {
    // (dataset, metric) → column (run / model) → score
    let mut columns: Vec<String> = Vec::new();
    let mut scores: BTreeMap<(String, String), BTreeMap<String, f64>> = BTreeMap::new();
    for r in runs {
        for set in &r.evals {
            let col = format!("{} / {}", r.id, set.model);
            if !columns.contains(&col) {
                columns.push(col.clone());
            }
            for rep in &set.reports {
                for m in &rep.metrics {
                    scores
                        .entry((rep.dataset_name.clone(), m.name.clone()))
                        .or_default()
                        .insert(col.clone(), m.score);
                }
            }
        }
    }
    if scores.is_empty() {
        return String::new();
    }
    let mut out = String::from("<section class=\"compare-eval\"><h2>Eval scores</h2>");
    let mut header = vec!["dataset", "metric"];
    header.extend(columns.iter().map(String::as_str));
    let rows: Vec<Vec<String>> = scores
        .iter()
        .map(|((d, m), by)| {
            let mut row = vec![esc(d), esc(m)];
            row.extend(columns.iter().map(|c| {
                by.get(c)
                    .map(|s| format!("{s:.4}"))
                    .unwrap_or_else(|| "-".into())
            }));
            row
        })
        .collect();
    out.push_str(&table("compare-eval", &header, &rows));
    let firsts: Vec<&(String, String)> = {
        let mut seen = Vec::<&str>::new();
        scores
            .keys()
            .filter(|(d, _)| {
                let new = !seen.contains(&d.as_str());
                if new {
                    seen.push(d);
                }
                new
            })
            .collect()
    };
    let cats: Vec<String> = firsts.iter().map(|(d, _)| d.clone()).collect();
    let series: Vec<(String, Vec<f64>)> = columns
        .iter()
        .map(|c| {
            (
                c.clone(),
                firsts
                    .iter()
                    .map(|k| scores[*k].get(c).copied().unwrap_or(f64::NAN))
                    .collect(),
            )
        })
        .collect();
    out.push_str(&bar_chart(
        &Axes {
            title: "Score per dataset (first metric)",
            x: "dataset",
            y: "score",
        },
        &cats,
        &series,
    ));
    out.push_str("</section>");
    out
}
