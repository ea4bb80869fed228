//! The tables and small figures of a perf stage's section: speed, percentiles, errors, labels,
//! and the latency-over-time figure of ramped stages.

use super::*;

/// A ramped stage's average latency per interval (Little's law: in flight / finished per
/// second) and where it bent: the first interval whose average is above twice the mean of the
/// first three intervals with requests.
pub(super) fn ramp_latency(series: &[swarm_store::timeseries::TimePoint]) -> String {
    let points: Vec<(f64, f64)> = series
        .iter()
        .filter(|p| p.requests_per_s > 0.0)
        .map(|p| (p.t_s, p.concurrency / p.requests_per_s))
        .collect();
    let mut out = line_chart(
        &Axes::new("Average latency over time (ramp)", "seconds", "seconds"),
        &[Series {
            name: "avg latency".into(),
            points: points.clone(),
        }],
    );
    if let Some((t, w)) = latency_bend(&points) {
        out.push_str(&format!(
            "<p class=\"bend\">Latency bent at {} s: average {} s, over twice the first intervals'.</p>",
            num(t),
            num(w)
        ));
    }
    out
}

/// The first (t, latency) above twice the mean of the first three (needs at least four).
pub(super) fn latency_bend(points: &[(f64, f64)]) -> Option<(f64, f64)> {
    let base: Vec<f64> = points.iter().take(3).map(|p| p.1).collect();
    if points.len() < 4 || base.len() < 3 {
        return None;
    }
    let mean = base.iter().sum::<f64>() / base.len() as f64;
    points
        .iter()
        .skip(3)
        .find(|p| mean > 0.0 && p.1 > 2.0 * mean)
        .copied()
}

/// A `speed_benchmark` stage's speed per prompt length; GPU memory not measured shows "–".
pub(super) fn speed_table(s: &StageData) -> String {
    if s.speed.is_empty() {
        return String::new();
    }
    let header = ["Prompt Tokens", "Speed(tokens/s)", "GPU Memory(GB)"];
    let rows: Vec<Vec<String>> = s
        .speed
        .iter()
        .map(|r| {
            vec![
                r.prompt_tokens.to_string(),
                num(r.speed),
                opt_num(r.gpu_memory_gb),
            ]
        })
        .collect();
    format!(
        "<h4>Speed benchmark</h4>{}",
        table("speed-benchmark", &header, &rows)
    )
}

/// A trace replay's send-time error (actual − scheduled send), ms; missing values show "–".
pub(crate) fn trace_table(s: &StageData) -> String {
    let Some(t) = &s.trace else {
        return String::new();
    };
    let e = &t.send_error_ms;
    let header = [
        "Speed",
        "Requests",
        "Send error p50 (ms)",
        "p99 (ms)",
        "max (ms)",
        "mean (ms)",
    ];
    let row = vec![
        num(t.speed),
        t.requests.to_string(),
        opt_num(e.p50),
        opt_num(e.p99),
        opt_num(e.max),
        opt_num(e.mean),
    ];
    format!(
        "<h4>Trace replay</h4>{}",
        table("trace-replay", &header, &[row])
    )
}

pub(super) fn percentile_table(s: &StageData) -> String {
    if s.percentiles.is_empty() {
        return String::new();
    }
    let mut header = vec![labels::PERCENTILES];
    header.extend(PERCENTILE_COLUMNS.iter().map(|(k, _, _)| *k));
    let rows: Vec<Vec<String>> = s
        .percentiles
        .iter()
        .map(|row| {
            let mut cells = vec![esc(&row.percentile)];
            cells.extend(
                PERCENTILE_COLUMNS
                    .iter()
                    .map(|(_, m, _)| opt_num(row.get(*m))),
            );
            cells
        })
        .collect();
    table("percentiles", &header, &rows)
}

pub(super) fn errors_section(s: &StageData) -> String {
    let mut out = String::from("<div class=\"errors\"><h3>Errors</h3>");
    match &s.rich {
        Some(r) if !r.errors.is_empty() => {
            let rows: Vec<Vec<String>> = r
                .errors
                .iter()
                .map(|(class, n)| {
                    let share = if r.total > 0 {
                        format!("{:.2}%", 100.0 * *n as f64 / r.total as f64)
                    } else {
                        NO_DATA.into()
                    };
                    vec![esc(class), n.to_string(), share]
                })
                .collect();
            out.push_str(&table("errors", &["class", "count", "share"], &rows));
        }
        _ => out.push_str("<p class=\"muted\">no failed requests</p>"),
    }
    if !s.events.is_empty() {
        let rows: Vec<Vec<String>> = s
            .events
            .iter()
            .map(|e| vec![format!("{:.2}", e.at_s), esc(&e.what)])
            .collect();
        out.push_str(&table("events", &["at (s)", "event"], &rows));
    }
    out.push_str("</div>");
    out
}

/// Rows of the side-by-side label table: EvalScope's label and value.
pub(super) fn label_rows(e: &PerfSummary) -> [(&'static str, String); 8] {
    [
        (labels::TOTAL_REQUESTS, e.total_requests.to_string()),
        (labels::SUCCESS_REQUESTS, e.success_requests.to_string()),
        (labels::FAILED_REQUESTS, e.failed_requests.to_string()),
        (labels::REQ_THROUGHPUT, opt_num(e.req_throughput)),
        (labels::OUTPUT_THROUGHPUT, opt_num(e.output_throughput)),
        (labels::AVG_LATENCY, opt_num(e.avg_latency_s)),
        (labels::AVG_TTFT, opt_num(e.avg_ttft_ms)),
        (labels::AVG_TPOT, opt_num(e.avg_tpot_ms)),
    ]
}

pub(super) fn labels_section(s: &StageData) -> String {
    let mut out = String::from("<div class=\"labels\"><h4>Per placement label</h4>");
    let mut header = vec!["metric"];
    header.extend(s.labels.iter().map(|l| l.label.as_str()));
    let per_label: Vec<[(&str, String); 8]> =
        s.labels.iter().map(|l| label_rows(&l.summary)).collect();
    let mut rows: Vec<Vec<String>> = (0..8)
        .map(|i| {
            let name = per_label.first().map(|r| r[i].0).unwrap_or_default();
            let mut row = vec![esc(name)];
            row.extend(per_label.iter().map(|r| r[i].1.clone()));
            row
        })
        .collect();
    let rich_row = |name: &str, f: fn(&RichSummary) -> Option<f64>| {
        let mut row = vec![esc(name)];
        row.extend(s.labels.iter().map(|l| opt_num(f(&l.rich))));
        row
    };
    rows.push(rich_row("P99 TTFT (ms)", |r| r.ttft_ms.p99));
    rows.push(rich_row("P99 Latency (s)", |r| r.latency_s.p99));
    if s.labels.iter().any(|l| l.rich.goodput_share.is_some()) {
        rows.push(rich_row("Goodput (req/s)", |r| r.goodput_req_per_s));
        let mut row = vec![esc("Meeting the SLOs")];
        row.extend(s.labels.iter().map(|l| {
            l.rich
                .goodput_share
                .map(|v| format!("{:.1}%", v * 100.0))
                .unwrap_or_else(|| NO_DATA.into())
        }));
        rows.push(row);
    }
    out.push_str(&table("labels", &header, &rows));
    let cats: Vec<String> = s.labels.iter().map(|l| l.label.clone()).collect();
    let values = |f: fn(&RichSummary) -> Option<f64>| -> Vec<f64> {
        s.labels
            .iter()
            .map(|l| f(&l.rich).unwrap_or(f64::NAN))
            .collect()
    };
    out.push_str("<div class=\"charts\">");
    out.push_str(&bar_chart(
        &Axes::new("TTFT by label", "label", "ms"),
        &cats,
        &[
            ("p50".into(), values(|r| r.ttft_ms.p50)),
            ("p99".into(), values(|r| r.ttft_ms.p99)),
        ],
    ));
    out.push_str(&bar_chart(
        &Axes::new("Throughput by label", "label", "req/s"),
        &cats,
        &[("req/s".into(), values(|r| r.req_per_s))],
    ));
    let sides: Vec<(&str, &[crate::cdf::Cdf])> = s
        .labels
        .iter()
        .map(|l| (l.label.as_str(), l.cdfs.as_slice()))
        .collect();
    for (metric, title) in [
        ("ttft", "TTFT distribution by label (CDF)"),
        ("latency", "Latency distribution by label (CDF)"),
    ] {
        if let Some(chart) = cdf_overlay(title, metric, &sides, 1) {
            out.push_str(&chart);
        }
    }
    out.push_str("</div></div>");
    out
}
