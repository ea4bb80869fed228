//! Think-eval results as HTML and SVG: one table per metric (levels as rows, one column per
//! model or run), one line chart per metric (levels on the x axis, a line per column), and
//! think-eval's standalone figure of the six charts.

use swarm_eval::think::{METRICS, ThinkResults, display, title};

use super::chart::{Axes, LineStyle, category_line_chart};
use super::escape::esc;
use super::figure::figure;
use super::page::table;
use crate::think_data::ThinkSet;

/// The levels of `columns`, in first-seen order.
fn levels(columns: &[(String, &ThinkResults)]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (_, r) in columns {
        for l in r.levels() {
            if !out.contains(&l) {
                out.push(l);
            }
        }
    }
    out
}

/// The chart of `metric`: a line per column over `levels`; ratios on a 0–1 axis.
fn metric_chart(
    metric: &str,
    levels: &[String],
    columns: &[(String, &ThinkResults)],
    style: LineStyle,
) -> String {
    let name = title(metric);
    let series: Vec<(String, Vec<f64>)> = columns
        .iter()
        .map(|(c, r)| {
            (
                c.clone(),
                levels
                    .iter()
                    .map(|l| r.get(metric, l).unwrap_or(f64::NAN))
                    .collect(),
            )
        })
        .collect();
    let ratio = matches!(metric, "token_efficiency" | "accuracy");
    category_line_chart(
        &Axes::new(&name, "level", &name),
        levels,
        &series,
        LineStyle {
            y_max: ratio.then_some(1.0),
            ..style
        },
    )
}

/// Think-eval's figure (`think_eval_metrics.svg`): a 2×3 grid, one chart per metric with a
/// line per model and each point's value, one legend on top.
pub fn think_figure(heading: &str, models: &[(String, ThinkResults)]) -> String {
    let columns: Vec<(String, &ThinkResults)> =
        models.iter().map(|(m, r)| (m.clone(), r)).collect();
    let levels = levels(&columns);
    let style = LineStyle {
        values: true,
        ..Default::default()
    };
    let charts: Vec<String> = METRICS
        .iter()
        .map(|m| metric_chart(m, &levels, &columns, style))
        .collect();
    let names: Vec<&str> = models.iter().map(|(m, _)| m.as_str()).collect();
    figure(heading, &names, &charts, 3)
}

/// Tables and charts of every metric over `columns` (a name and its results each); empty when
/// no column has a value.
pub fn think_tables(columns: &[(String, &ThinkResults)]) -> String {
    let levels = levels(columns);
    let mut tables = String::new();
    let mut charts = String::new();
    for metric in METRICS {
        let has_any = columns
            .iter()
            .any(|(_, r)| levels.iter().any(|l| r.get(metric, l).is_some()));
        if !has_any {
            continue;
        }
        let name = title(metric);
        let mut header = vec!["level"];
        header.extend(columns.iter().map(|(c, _)| c.as_str()));
        let rows: Vec<Vec<String>> = levels
            .iter()
            .map(|l| {
                let mut row = vec![esc(l)];
                row.extend(columns.iter().map(|(_, r)| {
                    r.get(metric, l)
                        .map(|v| display(metric, v))
                        .unwrap_or_else(|| "-".into())
                }));
                row
            })
            .collect();
        tables.push_str(&format!("<h3>{}</h3>", esc(&name)));
        tables.push_str(&table(&format!("think-{metric}"), &header, &rows));
        charts.push_str(&metric_chart(
            metric,
            &levels,
            columns,
            LineStyle {
                legend: true,
                ..Default::default()
            },
        ));
    }
    if tables.is_empty() {
        return String::new();
    }
    format!("{tables}<div class=\"charts\">{charts}</div>")
}

/// The report's think-eval sections: one per output, one column per model.
pub fn think_sections(sets: &[ThinkSet]) -> String {
    let mut out = String::new();
    for set in sets {
        let columns: Vec<(String, &ThinkResults)> =
            set.models.iter().map(|(m, r)| (m.clone(), r)).collect();
        let about = [
            set.dataset.as_deref().map(|d| format!("on {}", esc(d))),
            set.first_correct
                .as_deref()
                .map(|m| format!("first correct step: {}", esc(m))),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" · ");
        out.push_str(&format!(
            "<section class=\"think\"><h2>Thinking efficiency</h2><p class=\"muted\">{about}</p>{}</section>",
            think_tables(&columns)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn results(v: serde_json::Value) -> ThinkResults {
        ThinkResults(v.as_object().expect("object").clone())
    }

    #[test]
    fn one_table_per_metric_levels_as_rows_one_column_each() {
        let a = results(serde_json::json!({
            "reasoning_tokens": {"Level 1": 120.5, "Level 2": 300.0},
            "accuracy": {"Level 1": 0.75, "Level 2": 0.5},
        }));
        let b = results(serde_json::json!({
            "reasoning_tokens": {"Level 1": 99.0},
            "accuracy": {"Level 1": 1.0},
        }));
        let html = think_tables(&[("a / m<1>".into(), &a), ("b / m2".into(), &b)]);
        assert!(html.contains("<h3>Reasoning Tokens</h3>") && html.contains("<h3>Accuracy</h3>"));
        assert!(!html.contains("Token Efficiency"), "no values, no table");
        assert!(html.contains("<th>level</th><th>a / m&lt;1&gt;</th><th>b / m2</th>"));
        assert!(
            html.contains(
                "<tr><td>Level 1</td><td class=\"n\">120.50</td><td class=\"n\">99.00</td></tr>"
            ),
            "{html}"
        );
        assert!(html.contains(
            "<tr><td>Level 2</td><td class=\"n\">0.5000</td><td class=\"n\">-</td></tr>"
        ));
        assert_eq!(html.matches("<svg").count(), 2);
        assert!(html.contains("<title>b / m2 Level 1: 99</title>"), "{html}");
        assert_eq!(think_tables(&[]), "");
    }

    #[test]
    fn the_figure_has_six_panels_a_line_per_model_and_the_values() {
        let a = results(serde_json::json!({
            "reasoning_tokens": {"Level 1": 120.5, "Level 2": 300.0},
            "accuracy": {"Level 1": 0.75, "Level 2": 0.5},
        }));
        let b = results(serde_json::json!({"accuracy": {"Level 2": 1.0}}));
        let svg = think_figure("Thinking efficiency", &[("m1".into(), a), ("m2".into(), b)]);
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        for t in METRICS.map(title) {
            assert!(svg.contains(&format!("<title>{t}</title>")), "{t}");
        }
        assert_eq!(
            svg.matches("no data").count(),
            4,
            "four metrics without values"
        );
        assert_eq!(
            svg.matches("<polyline").count(),
            3,
            "a line per model with values"
        );
        assert!(svg.contains("<title>m2 Level 2: 1</title>"));
        assert!(svg.contains(">120.50</text>") && svg.contains(">0.75</text>"));
        assert_eq!(svg.matches("class=\"lg\"").count(), 2, "one legend");
    }
}
