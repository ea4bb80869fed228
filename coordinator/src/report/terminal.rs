//! Terminal tables: EvalScope's per-stage summary and percentiles, and a sweep overview.

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, CellAlignment, ContentArrangement, Table};
use serde_json::{Map, Value};
use swarm_common::metrics::evalscope::PERCENTILE_COLUMNS;
use swarm_common::metrics::summary::RichSummary;

fn table() -> Table {
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    t
}

fn num(v: &Value) -> String {
    match v {
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() => format!("{f:.4}"),
            _ => n.to_string(),
        },
        other => other.to_string(),
    }
}

/// The EvalScope summary as a two-column table, plus our TTFO / corrected-latency / error rows.
pub fn summary_table(title: &str, summary: &Map<String, Value>, rich: &RichSummary) -> String {
    let mut t = table();
    t.set_header(vec![Cell::new(title), Cell::new("Value")]);
    for (k, v) in summary {
        t.add_row(vec![
            Cell::new(k),
            Cell::new(num(v)).set_alignment(CellAlignment::Right),
        ]);
    }
    let mut extra = |k: &str, v: String| {
        t.add_row(vec![
            Cell::new(k),
            Cell::new(v).set_alignment(CellAlignment::Right),
        ]);
    };
    if rich.ttfo_ms.count > 0 && rich.reasoning_tokens_total > 0 {
        extra("Avg TTFO (ms)", format!("{:.4}", rich.ttfo_ms.mean));
    }
    if rich.corrected_latency_s.count > 0 {
        extra(
            "Avg Latency, CO-corrected (s)",
            format!("{:.4}", rich.corrected_latency_s.mean),
        );
        extra(
            "P99 Latency, CO-corrected (s)",
            format!("{:.4}", rich.corrected_latency_s.p99),
        );
        extra("P99 Send Lag (ms)", format!("{:.4}", rich.send_lag_ms.p99));
    }
    for (class, n) in &rich.errors {
        extra(&format!("Errors: {class}"), n.to_string());
    }
    if rich.tokens_unknown > 0 {
        extra(
            "Tokens estimated from chunks",
            rich.tokens_unknown.to_string(),
        );
    }
    t.to_string()
}

/// EvalScope's percentile table.
pub fn percentile_table(rows: &[Map<String, Value>]) -> String {
    let mut t = table();
    let mut header = vec![Cell::new("Percentiles")];
    header.extend(PERCENTILE_COLUMNS.iter().map(|(k, _, _)| Cell::new(k)));
    t.set_header(header);
    for row in rows {
        let mut cells = vec![Cell::new(
            row.get("Percentiles").and_then(Value::as_str).unwrap_or(""),
        )];
        for (k, _, _) in PERCENTILE_COLUMNS {
            cells.push(
                Cell::new(row.get(k).map(num).unwrap_or_default())
                    .set_alignment(CellAlignment::Right),
            );
        }
        t.add_row(cells);
    }
    t.to_string()
}

/// One row per stage of a sweep.
pub fn sweep_table(rows: &[(String, Map<String, Value>, RichSummary)]) -> String {
    let mut t = table();
    t.set_header(vec![
        "Stage",
        "Conc.",
        "Rate",
        "RPS",
        "Avg Lat.(s)",
        "P99 Lat.(s)",
        "Avg TTFT(ms)",
        "P99 TTFT(ms)",
        "Avg TPOT(ms)",
        "Gen. tok/s",
        "Success",
    ]);
    for (name, s, r) in rows {
        let g = |k: &str| s.get(k).map(num).unwrap_or_default();
        let rate = match s.get("Request Rate (req/s)").and_then(Value::as_f64) {
            Some(v) if v > 0.0 => format!("{v}"),
            _ => "-".into(),
        };
        let success = if r.total > 0 {
            format!("{:.1}%", 100.0 * r.success as f64 / r.total as f64)
        } else {
            "-".into()
        };
        t.add_row(vec![
            name.clone(),
            g("Concurrency"),
            rate,
            g("Req Throughput (req/s)"),
            g("Avg Latency (s)"),
            format!("{:.4}", r.latency_s.p99),
            g("Avg TTFT (ms)"),
            format!("{:.4}", r.ttft_ms.p99),
            g("Avg TPOT (ms)"),
            g("Output Throughput (tok/s)"),
            success,
        ]);
    }
    t.to_string()
}
