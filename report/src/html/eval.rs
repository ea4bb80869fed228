//! The eval sections of a report: EvalScope's overview table (task_type, metric, dataset_name,
//! average_score, count), EvalScope 1.14's perf table (per model × dataset: latency, TTFT, TPOT,
//! throughput, tokens), then per benchmark its subsets and categories as tables and charts.

use std::fmt::Write;

use swarm_eval::Report;
use swarm_eval::registry;

use super::chart::{Axes, bar_chart};
use super::escape::{esc, num};
use super::needle;
use super::page::table;
use crate::run_data::EvalSet;

/// The benchmark's task type (`-` for a name the registry does not know).
pub fn task_type(dataset: &str) -> String {
    registry::benchmark(dataset)
        .map(|b| b.meta().task_type.to_string())
        .unwrap_or_else(|_| "-".into())
}

/// The overview rows of reports: task_type, metric, dataset_name, average_score, count.
pub fn overview_rows(reports: &[Report]) -> Vec<Vec<String>> {
    reports
        .iter()
        .flat_map(|r| {
            let tt = task_type(&r.dataset_name);
            shown_metrics(r).into_iter().map(move |m| {
                vec![
                    esc(&tt),
                    esc(&m.name),
                    esc(&r.dataset_name),
                    format!("{:.4}", m.score),
                    m.num.to_string(),
                ]
            })
        })
        .collect()
}

/// The metrics a report's tables and bar charts show: all of them, except needle_haystack's
/// per-cell metrics, which its heat-maps show.
fn shown_metrics(r: &Report) -> Vec<&swarm_eval::report::MetricReport> {
    let needle = r.dataset_name == swarm_eval::benchmarks::needle_haystack::NAME;
    r.metrics
        .iter()
        .filter(|m| !(needle && needle::is_cell_metric(&m.name)))
        .collect()
}

/// EvalScope's perf table rows (cells escaped): one per report with a perf summary.
pub fn perf_rows(reports: &[Report]) -> Vec<Vec<String>> {
    reports
        .iter()
        .filter_map(|r| {
            let s = r.perf_metrics.as_ref()?.summary.as_ref()?;
            let dataset = if r.dataset_pretty_name.is_empty() {
                &r.dataset_name
            } else {
                &r.dataset_pretty_name
            };
            Some(
                swarm_eval::perf::perf_row(&r.model_name, dataset, s)
                    .iter()
                    .map(|c| esc(c))
                    .collect(),
            )
        })
        .collect()
}

/// Sections for every eval set of a run.
pub fn eval_sections(sets: &[EvalSet]) -> String {
    let mut out = String::new();
    for set in sets {
        let title = match &set.workload {
            Some(w) => format!("Eval: {w} / {}", set.model),
            None => format!("Eval: {}", set.model),
        };
        let _ = write!(out, "<section class=\"eval\"><h2>{}</h2>", esc(&title));
        if set.reports.is_empty() {
            out.push_str("<p class=\"muted\">no reports yet</p></section>");
            continue;
        }
        out.push_str(&table(
            "eval-overview",
            &[
                "task_type",
                "metric",
                "dataset_name",
                "average_score",
                "count",
            ],
            &overview_rows(&set.reports),
        ));
        let perf = perf_rows(&set.reports);
        if !perf.is_empty() {
            out.push_str("<h3>Performance</h3>");
            out.push_str(&table("eval-perf", &swarm_eval::perf::PERF_COLUMNS, &perf));
        }
        for r in &set.reports {
            out.push_str(&benchmark_section(r));
        }
        out.push_str("</section>");
    }
    out
}

/// The judge's part in a benchmark's score: who judged, how many samples, the failures.
fn judge_line(j: &swarm_eval::judge::summary::JudgeSummary) -> String {
    let failures: Vec<String> = j
        .failures
        .iter()
        .map(|(cause, n)| format!("{}: {n}", esc(cause)))
        .collect();
    let verdicts = format!(
        "{} of {} judged samples got a usable verdict",
        j.valid_observations, j.total
    );
    format!(
        "<p class=\"judge{}\">LLM judge {}: {verdicts}, status {}{}</p>",
        if j.valid_observations < j.total {
            " bad"
        } else {
            ""
        },
        esc(&j.judge_models.join(", ")),
        esc(j.status.name()),
        if failures.is_empty() {
            String::new()
        } else {
            format!(
                "; failed attempts {} (their rule scores stand)",
                failures.join(", ")
            )
        }
    )
}

fn benchmark_section(r: &Report) -> String {
    let mut out = format!(
        "<div class=\"benchmark\" id=\"bench-{}\"><h3>{} <span class=\"muted\">score {:.4} over {} samples</span></h3>",
        esc(&r.dataset_name),
        esc(if r.dataset_pretty_name.is_empty() {
            &r.dataset_name
        } else {
            &r.dataset_pretty_name
        }),
        r.score,
        r.num
    );
    if let Some(j) = &r.judge_summary {
        out.push_str(&judge_line(j));
    }
    let metrics = shown_metrics(r);
    let mut rows = Vec::new();
    for m in &metrics {
        for c in &m.categories {
            for s in &c.subsets {
                rows.push(vec![
                    esc(&m.name),
                    esc(&c.name.join("/")),
                    esc(&s.name),
                    s.num.to_string(),
                    format!("{:.4}", s.score),
                ]);
            }
        }
    }
    out.push_str(&table(
        "subsets",
        &["metric", "category", "subset", "num", "score"],
        &rows,
    ));
    out.push_str("<div class=\"charts\">");
    let subsets: Vec<String> = r
        .metrics
        .first()
        .map(|m| {
            m.categories
                .iter()
                .flat_map(|c| c.subsets.iter().map(|s| s.name.clone()))
                .collect()
        })
        .unwrap_or_default();
    let series: Vec<(String, Vec<f64>)> = metrics
        .iter()
        .map(|m| {
            let by_name = |name: &str| {
                m.categories
                    .iter()
                    .flat_map(|c| c.subsets.iter())
                    .find(|s| s.name == name)
                    .map(|s| s.score)
                    .unwrap_or(f64::NAN)
            };
            (m.name.clone(), subsets.iter().map(|s| by_name(s)).collect())
        })
        .collect();
    if !subsets.is_empty() {
        out.push_str(&bar_chart(
            &Axes::new(
                &format!("{}: score per subset", r.dataset_name),
                "subset",
                "score",
            ),
            &subsets,
            &series,
        ));
    }
    for map in needle::heatmaps(r) {
        out.push_str(&map);
    }
    if let Some(m) = r.metrics.first()
        && m.categories.len() > 1
    {
        let cats: Vec<String> = m.categories.iter().map(|c| c.name.join("/")).collect();
        let scores: Vec<f64> = m.categories.iter().map(|c| c.score).collect();
        out.push_str(&bar_chart(
            &Axes::new(
                &format!("{}: score per category", r.dataset_name),
                "category",
                "score",
            ),
            &cats,
            &[(m.name.clone(), scores)],
        ));
    }
    out.push_str("</div>");
    let _ = write!(
        out,
        "<p class=\"muted\">micro {} · macro {}</p></div>",
        r.metrics
            .first()
            .map(|m| num(m.score))
            .unwrap_or_else(|| "-".into()),
        r.metrics
            .first()
            .map(|m| num(m.macro_score))
            .unwrap_or_else(|| "-".into())
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use swarm_eval::perf::{PerfMetrics, RequestPerf, summarize};

    #[test]
    fn the_perf_table_has_a_row_per_report_with_a_summary() {
        let summary = summarize(&[RequestPerf {
            latency: 1.5,
            ttft: Some(0.25),
            input_tokens: 10,
            output_tokens: 21,
        }]);
        let with = Report {
            model_name: "m<1>".into(),
            dataset_name: "gsm8k".into(),
            dataset_pretty_name: "GSM8K".into(),
            perf_metrics: Some(PerfMetrics {
                summary,
                coverage: None,
            }),
            ..Report::default()
        };
        let rows = perf_rows(&[with, Report::default()]);
        assert_eq!(
            rows,
            vec![vec![
                "m&lt;1&gt;",
                "GSM8K",
                "1",
                "1.5 s",
                "250 ms",
                "62.5 ms",
                "14 tok/s",
                "10",
                "21"
            ]]
        );
    }

    #[test]
    fn a_judged_benchmark_says_how_its_judge_did() {
        let summary: swarm_eval::judge::summary::JudgeSummary = serde_json::from_value(serde_json::json!({
            "status": "degraded", "scored": 4, "total": 4, "coverage": 1.0, "judge_models": ["j<1>"],
            "valid_observations": 3, "total_observations": 4, "failures": {"transport_error": 3},
            "disagreement": {}}))
        .expect("summary");
        let html = benchmark_section(&Report {
            dataset_name: "gsm8k".into(),
            judge_summary: Some(summary),
            ..Report::default()
        });
        assert!(html.contains("LLM judge j&lt;1&gt;: 3 of 4 judged samples got a usable verdict, status degraded; failed attempts transport_error: 3"), "{html}");
        assert!(!benchmark_section(&Report::default()).contains("LLM judge"));
    }
}
