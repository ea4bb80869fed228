//! An SLA auto-tune search in the report: per rule of the criteria, its metric over the probed
//! values (passing probes filled, failing ones hollow red rings), its limit as a dashed line and
//! the value chosen as a dashed vertical line; then the search's summary rows.

use std::fmt::Write;

use swarm_store::sla_summary::{ProbeRow, RuleRow, SlaResult};

use super::chart::{Axes, Marks, Series, marked_line_chart};
use super::escape::esc;
use super::page::table;

/// The unit of an SLA metric's values (EvalScope's: seconds for times).
fn unit(metric: &str) -> &'static str {
    match metric {
        "rps" => "req/s",
        "tps" => "output tok/s",
        _ => "s",
    }
}

fn x_label(variable: &str) -> &'static str {
    if variable == "rate" {
        "request rate (req/s)"
    } else {
        "parallel (concurrency)"
    }
}

/// The chart of one rule: the probes that measured its metric, in the order of the variable.
pub fn rule_chart(r: &SlaResult, rule: &RuleRow) -> String {
    let mut probes: Vec<&ProbeRow> = r
        .probes
        .iter()
        .filter(|p| p.values.contains_key(&rule.metric))
        .collect();
    probes.sort_by_key(|p| p.value);
    let verdict = |p: &ProbeRow| p.passed.get(rule.group).copied();
    let series = Series {
        name: rule.metric.clone(),
        points: probes
            .iter()
            .map(|p| {
                let y = p.values.get(&rule.metric).copied().unwrap_or(f64::NAN);
                (p.value as f64, y)
            })
            .collect(),
    };
    let marks = Marks {
        h_lines: rule
            .limit
            .map(|l| (format!("{} {l}", rule.op), l))
            .into_iter()
            .collect(),
        v_lines: r
            .chosen
            .map(|c| (format!("chosen {c}"), c as f64))
            .into_iter()
            .collect(),
        verdicts: vec![probes.iter().map(|p| verdict(p)).collect()],
    };
    let title = match rule.limit {
        Some(l) => format!("SLA probes: {} {} {l}", rule.metric, rule.op),
        None => format!("SLA probes: {} -> {}", rule.metric, rule.op),
    };
    let axes = Axes::new(&title, x_label(&r.variable), unit(&rule.metric));
    marked_line_chart(&axes, &[series], &marks)
}

/// The section of a workload's SLA search.
pub fn sla_section(r: &SlaResult) -> String {
    let mut out = String::from("<div class=\"sla\"><h3>SLA auto-tune</h3>");
    let chosen = r
        .chosen
        .map_or_else(|| "none".to_string(), |c| c.to_string());
    let _ = write!(
        out,
        "<p>{variable} chosen: <b>{chosen}</b> after {n} probe(s){label}{cancelled}</p>",
        variable = esc(&r.variable),
        n = r.probes.len(),
        label = r
            .label
            .as_deref()
            .map(|l| format!(", agents of {} only", esc(l)))
            .unwrap_or_default(),
        cancelled = if r.cancelled { " (cancelled)" } else { "" },
    );
    let rows: Vec<Vec<String>> = r
        .criteria
        .iter()
        .map(|a| {
            vec![
                esc(&a.criteria),
                esc(&a.variable),
                a.max_satisfied
                    .map_or_else(|| "None".into(), |v| v.to_string()),
                esc(&a.note),
            ]
        })
        .collect();
    out.push_str(&table(
        "sla",
        &["Criteria", "Variable", "Max Satisfied", "Note"],
        &rows,
    ));
    out.push_str("<div class=\"charts\">");
    for rule in &r.rules {
        out.push_str(&rule_chart(r, rule));
    }
    out.push_str("</div></div>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A search over rate as the coordinator writes it: 2 4 8 16 12 10 11, 10 chosen.
    const SUMMARY: &str = r#"{
      "rate_2": {"metrics": {}, "percentiles": {}},
      "sla_result": {"variable": "rate", "sla_params": [{"p99_ttft": "<=100ms"}], "chosen": 10,
        "criteria": [{"criteria": "p99_ttft <= 0.1", "variable": "rate", "max_satisfied": 10,
                      "note": "Satisfied"}],
        "probed": [2, 4, 8, 16, 12, 10, 11], "num_runs": 1,
        "range": {"start": 2, "lower": 1, "upper": 64}, "cancelled": false,
        "rules": [{"group": 0, "metric": "p99_ttft", "op": "<=", "limit": 0.1}],
        "probes": [
          {"value": 2, "all_succeeded": true, "passed": [true], "values": {"p99_ttft": 0.05}},
          {"value": 4, "all_succeeded": true, "passed": [true], "values": {"p99_ttft": 0.05}},
          {"value": 8, "all_succeeded": true, "passed": [true], "values": {"p99_ttft": 0.06}},
          {"value": 16, "all_succeeded": true, "passed": [false], "values": {"p99_ttft": 0.9}},
          {"value": 12, "all_succeeded": true, "passed": [false], "values": {"p99_ttft": 0.4}},
          {"value": 10, "all_succeeded": true, "passed": [true], "values": {"p99_ttft": 0.07}},
          {"value": 11, "all_succeeded": true, "passed": [false], "values": {"p99_ttft": 0.2}}
        ]}
    }"#;

    #[test]
    fn the_probe_chart_marks_every_probe_the_limit_and_the_choice() {
        let tmp = tempfile::tempdir().expect("tempdir");
        std::fs::write(swarm_store::sla_summary::path(tmp.path()), SUMMARY).expect("write");
        let r = swarm_store::sla_summary::read(tmp.path())
            .expect("reads")
            .expect("an sla search");
        let html = sla_section(&r);
        let charts = html.matches("<svg class=\"chart\"").count();
        assert_eq!(charts, 1, "one chart per rule");
        assert_eq!(html.matches("<circle").count(), 7, "one point per probe");
        assert_eq!(html.matches("class=\"pass\"").count(), 4);
        assert_eq!(html.matches("class=\"fail\"").count(), 3);
        assert_eq!(html.matches("<line class=\"limit\"").count(), 1);
        assert!(html.contains("<title>&lt;= 0.1: 0.1000</title>"), "{html}");
        assert_eq!(html.matches("<line class=\"chosen\"").count(), 1);
        assert!(html.contains("chosen 10"), "{html}");
        assert!(html.contains("request rate (req/s)"));
        // the points go along the variable, not the order probed
        assert!(
            html.contains("<title>p99_ttft: 10 → 0.0700 (pass)</title>"),
            "{html}"
        );
        assert!(
            html.contains("<title>p99_ttft: 11 → 0.2000 (FAIL)</title>"),
            "{html}"
        );
    }
}
