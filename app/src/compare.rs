//! Two or more runs side by side: perf stages (throughput and percentiles), eval scores and
//! think-eval metrics (one column per run and model).

use std::collections::BTreeMap;

use swarm_eval::think::ThinkResults;

use super::templates::nav;
use swarm_report::html::chart::{Axes, bar_chart};
use swarm_report::html::escape::{esc, opt_num, url_encode};
use swarm_report::html::page::{page, table};
use swarm_report::html::think::think_tables;
use swarm_report::run_data::RunData;

/// The comparison page of `runs`.
pub fn compare_page(runs: &[RunData]) -> String {
    let mut body = format!(
        "<p>comparing {}</p>",
        runs.iter()
            .map(|r| format!(
                "<a class=\"run\" href=\"/runs/{}\">{}</a>",
                url_encode(&r.id),
                esc(&r.id)
            ))
            .collect::<Vec<_>>()
            .join(", ")
    );
    body.push_str(&perf_part(runs));
    body.push_str(&eval_part(runs));
    body.push_str(&think_part(runs));
    page("compare runs", &nav(None), &body)
}

fn perf_part(runs: &[RunData]) -> String {
    let mut rows = Vec::new();
    for r in runs {
        for w in &r.perf {
            for s in &w.stages {
                let rich = |f: fn(&swarm_common::metrics::summary::RichSummary) -> Option<f64>| {
                    opt_num(s.rich.as_ref().and_then(f))
                };
                rows.push(vec![
                    esc(&r.id),
                    esc(w.model.as_deref().unwrap_or("-")),
                    esc(&w.name),
                    esc(&s.name),
                    s.summary.total_requests.to_string(),
                    opt_num(s.summary.req_throughput),
                    opt_num(s.summary.output_throughput),
                    rich(|x| x.latency_s.p50),
                    rich(|x| x.latency_s.p99),
                    rich(|x| x.ttft_ms.p50),
                    rich(|x| x.ttft_ms.p99),
                    rich(|x| x.itl_ms.p99),
                    // no goodput objectives: no data ("–"), not 0
                    rich(|x| x.goodput_req_per_s),
                    opt_num(
                        s.rich
                            .as_ref()
                            .and_then(|x| x.goodput_share)
                            .map(|v| v * 100.0),
                    ),
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
            "goodput (req/s)",
            "meeting SLOs (%)",
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
                        .and_then(|s| s.rich.as_ref().and_then(|x| x.ttft_ms.p99))
                        .unwrap_or(f64::NAN)
                })
                .collect();
            (r.id.clone(), v)
        })
        .collect();
    out.push_str(&bar_chart(
        &Axes::new("p99 TTFT per stage", "stage", "ms"),
        &stages,
        &series,
    ));
    out.push_str(&super::compare_cdf::cdf_overlays(runs));
    out.push_str("</section>");
    out
}

/// Links to the answers of the first (run, model) side by side with each other one's.
pub fn side_by_side_links(sides: &[(String, String)]) -> String {
    let Some(((a, am), rest)) = sides.split_first() else {
        return String::new();
    };
    if rest.is_empty() {
        return String::new();
    }
    let links: Vec<String> = rest
        .iter()
        .map(|(b, bm)| {
            let href = format!(
                "/compare/samples?a={}&a_model={}&b={}&b_model={}",
                url_encode(a),
                url_encode(am),
                url_encode(b),
                url_encode(bm)
            );
            format!(
                "<a class=\"pairs\" href=\"{}\">{} / {} against {} / {}</a>",
                esc(&href),
                esc(a),
                esc(am),
                esc(b),
                esc(bm)
            )
        })
        .collect();
    format!(
        "<p>answers side by side, sample by sample: {}</p>",
        links.join(" · ")
    )
}

fn eval_part(runs: &[RunData]) -> String {
    // (dataset, metric) → column (run / model) → score
    let mut columns: Vec<String> = Vec::new();
    // (run, model) of each column
    let mut sides: Vec<(String, String)> = Vec::new();
    let mut scores: BTreeMap<(String, String), BTreeMap<String, f64>> = BTreeMap::new();
    for r in runs {
        for set in &r.evals {
            let col = format!("{} / {}", r.id, set.model);
            if !columns.contains(&col) {
                columns.push(col.clone());
                sides.push((r.id.clone(), set.model.clone()));
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
    out.push_str(&side_by_side_links(&sides));
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
        &Axes::new("Score per dataset (first metric)", "dataset", "score"),
        &cats,
        &series,
    ));
    out.push_str("</section>");
    out
}

/// Think-eval metrics: a column per run and model (and output folder, when a run holds several).
fn think_part(runs: &[RunData]) -> String {
    let mut columns: Vec<(String, &ThinkResults)> = Vec::new();
    for r in runs {
        for set in &r.think {
            for (model, results) in &set.models {
                let col = if r.think.len() > 1 {
                    let folder = set
                        .dir
                        .strip_prefix(&r.dir)
                        .unwrap_or(&set.dir)
                        .to_string_lossy();
                    format!("{} / {folder} / {model}", r.id)
                } else {
                    format!("{} / {model}", r.id)
                };
                columns.push((col, results));
            }
        }
    }
    let tables = think_tables(&columns);
    if tables.is_empty() {
        return String::new();
    }
    format!("<section class=\"compare-think\"><h2>Thinking efficiency</h2>{tables}</section>")
}

#[cfg(test)]
mod tests {
    use super::*;
    use swarm_report::think_data::ThinkSet;

    fn run(id: &str, model: &str, tokens: f64, acc: f64) -> RunData {
        let results = serde_json::json!({
            "reasoning_tokens": {"Level 1": tokens, "Level 3": tokens * 2.0},
            "token_efficiency": {"Level 1": 0.25, "Level 3": 0.125},
            "accuracy": {"Level 1": acc, "Level 3": acc / 2.0},
        });
        RunData {
            id: id.into(),
            dir: id.into(),
            plan: None,
            cancelled: false,
            record: None,
            perf: vec![],
            evals: vec![],
            think: vec![ThinkSet {
                dir: id.into(),
                dataset: Some("math_500".into()),
                first_correct: None,
                models: vec![(
                    model.into(),
                    ThinkResults(results.as_object().expect("object").clone()),
                )],
            }],
        }
    }

    #[test]
    fn think_eval_results_side_by_side() {
        let html = compare_page(&[
            run("think-a", "qwen", 1500.0, 0.8),
            run("think-b", "llama", 2100.5, 0.6),
        ]);
        assert!(html.contains("<h2>Thinking efficiency</h2>"));
        assert!(!html.contains("compare-perf") && !html.contains("compare-eval"));
        assert!(html.contains("<th>level</th><th>think-a / qwen</th><th>think-b / llama</th>"));
        assert!(html.contains(
            "<tr><td>Level 1</td><td class=\"n\">1500.00</td><td class=\"n\">2100.50</td></tr>"
        ));
        assert!(html.contains(
            "<tr><td>Level 3</td><td class=\"n\">3000.00</td><td class=\"n\">4201.00</td></tr>"
        ));
        assert!(html.contains(
            "<tr><td>Level 3</td><td class=\"n\">0.4000</td><td class=\"n\">0.3000</td></tr>"
        ));
        assert!(
            html.contains("<title>think-b / llama Level 3: 0.3000</title>"),
            "{html}"
        );
        assert!(!html.contains("Thought Num"), "absent metrics get no table");
    }

    #[test]
    fn a_stage_without_successes_compares_as_no_data() {
        use swarm_common::metrics::aggregate::{HistSettings, StageAggregate};
        use swarm_common::metrics::evalscope::{self, StageLoad};
        use swarm_common::metrics::record::{ErrorClass, RequestRecord};
        use swarm_common::metrics::summary::RichSummary;

        use swarm_report::run_data::{PerfWorkload, StageData};

        let mut agg = StageAggregate::new(HistSettings::default()).expect("valid");
        agg.record(
            &RequestRecord {
                latency_us: 900,
                error: Some(ErrorClass::Timeout),
                ..Default::default()
            },
            0,
        );
        let load = StageLoad {
            concurrency: 1,
            rate: None,
        };
        let mut r = run("perf-a", "qwen", 1.0, 1.0);
        r.think.clear();
        r.perf.push(PerfWorkload {
            name: "chat".into(),
            model: Some("qwen".into()),
            stages: vec![StageData {
                name: "parallel_1".into(),
                stopped: "count".into(),
                outcome: None,
                summary: evalscope::summary(&agg, load),
                rich: Some(RichSummary::of(&agg)),
                percentiles: evalscope::percentiles(&agg),
                labels: vec![],
                events: vec![],
                series: vec![],
                cdfs: vec![],
                speed: vec![],
                trace: None,
                multi_turn: None,
            }],
            sla: None,
        });
        let html = compare_page(&[r]);
        let dash = "<td class=\"n\">–</td>";
        // requests stay a count; req/s, tok/s, p50/p99 latency and TTFT, p99 ITL, goodput have no
        // data
        assert!(
            html.contains(&format!("<td class=\"n\">1</td>{}</tr>", dash.repeat(9))),
            "{html}"
        );
        assert!(html.contains("p99 TTFT per stage"), "{html}");
        assert!(
            !html.contains("<title>perf-a parallel_1:"),
            "no bar without data"
        );
    }
}
