//! Terminal tables: EvalScope's per-stage summary and percentiles, and a sweep overview.

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, CellAlignment, ContentArrangement, Table};
use serde_json::{Map, Value};
use swarm_common::metrics::evalscope::PERCENTILE_COLUMNS;
use swarm_common::metrics::summary::RichSummary;

use super::NO_DATA;

fn table() -> Table {
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    t
}

/// A JSON value of the tables: floats with 4 decimals, null (no data) or absent as [`NO_DATA`].
fn num(v: Option<&Value>) -> String {
    match v {
        Some(Value::Number(n)) => match n.as_f64() {
            Some(f) if n.is_f64() => format!("{f:.4}"),
            _ => n.to_string(),
        },
        Some(Value::Null) | None => NO_DATA.into(),
        Some(other) => other.to_string(),
    }
}

/// One of our statistics with 4 decimals, [`NO_DATA`] without data.
fn stat(v: Option<f64>) -> String {
    match v {
        Some(f) if f.is_finite() => format!("{f:.4}"),
        _ => NO_DATA.into(),
    }
}

/// The EvalScope summary as a two-column table, plus our TTFO / corrected-latency / error rows.
pub fn summary_table(title: &str, summary: &Map<String, Value>, rich: &RichSummary) -> String {
    let mut t = table();
    t.set_header(vec![Cell::new(title), Cell::new("Value")]);
    for (k, v) in summary {
        t.add_row(vec![
            Cell::new(k),
            Cell::new(num(Some(v))).set_alignment(CellAlignment::Right),
        ]);
    }
    let mut extra = |k: &str, v: String| {
        t.add_row(vec![
            Cell::new(k),
            Cell::new(v).set_alignment(CellAlignment::Right),
        ]);
    };
    if rich.ttfo_ms.count > 0 && rich.reasoning_tokens_total > 0 {
        extra("Avg TTFO (ms)", stat(rich.ttfo_ms.mean));
    }
    if rich.corrected_latency_s.count > 0 {
        extra(
            "Avg Latency, CO-corrected (s)",
            stat(rich.corrected_latency_s.mean),
        );
        extra(
            "P99 Latency, CO-corrected (s)",
            stat(rich.corrected_latency_s.p99),
        );
        extra("P99 Send Lag (ms)", stat(rich.send_lag_ms.p99));
    }
    if let (Some(rps), Some(share)) = (rich.goodput_req_per_s, rich.goodput_share) {
        extra("Goodput (req/s)", format!("{rps:.4}"));
        extra(
            "Requests meeting the SLOs",
            format!("{:.1}%", share * 100.0),
        );
    }
    if rich.client_queue_ms.count > 0 {
        extra("P99 Client Queue (ms)", stat(rich.client_queue_ms.p99));
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
            cells.push(Cell::new(num(row.get(k))).set_alignment(CellAlignment::Right));
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
        let g = |k: &str| num(s.get(k));
        let rate = match s.get("Request Rate (req/s)").and_then(Value::as_f64) {
            Some(v) if v > 0.0 => format!("{v}"),
            _ => NO_DATA.into(),
        };
        let success = if r.total > 0 {
            format!("{:.1}%", 100.0 * r.success as f64 / r.total as f64)
        } else {
            NO_DATA.into()
        };
        t.add_row(vec![
            name.clone(),
            g("Concurrency"),
            rate,
            g("Req Throughput (req/s)"),
            g("Avg Latency (s)"),
            stat(r.latency_s.p99),
            g("Avg TTFT (ms)"),
            stat(r.ttft_ms.p99),
            g("Avg TPOT (ms)"),
            g("Output Throughput (tok/s)"),
            success,
        ]);
    }
    t.to_string()
}

/// The thresholds checked against a stage: pass or FAIL, the value.
pub fn threshold_table(checked: &[crate::perf::threshold::Checked]) -> Table {
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED)
        .set_header(vec!["Threshold", "Value", "Result"]);
    for c in checked {
        t.add_row(vec![
            c.threshold.clone(),
            c.value
                .map(|v| format!("{v:.4}"))
                .unwrap_or_else(|| super::NO_DATA.into()),
            if c.pass {
                "pass".into()
            } else {
                "FAIL".to_string()
            },
        ]);
    }
    t
}

#[cfg(test)]
mod tests {
    use swarm_common::metrics::aggregate::{HistSettings, StageAggregate};
    use swarm_common::metrics::evalscope::{self, StageLoad};
    use swarm_common::metrics::record::{ErrorClass, RequestRecord};

    use super::*;

    fn all_failed() -> (Map<String, Value>, Vec<Map<String, Value>>, RichSummary) {
        let mut agg = StageAggregate::new(HistSettings::default()).expect("valid");
        for sent in [0u64, 10_000, 20_000, 30_000] {
            agg.record(
                &RequestRecord {
                    sent_us: sent,
                    latency_us: 1_000,
                    error: Some(ErrorClass::Connect),
                    ..Default::default()
                },
                0,
            );
        }
        let load = StageLoad {
            concurrency: 2,
            rate: None,
        };
        (
            evalscope::summary(&agg, load),
            evalscope::percentiles(&agg),
            RichSummary::of(&agg),
        )
    }

    /// The text of the table line whose first cell is `first`.
    fn line<'a>(table: &'a str, first: &str) -> &'a str {
        table
            .lines()
            .find(|l| l.trim_start_matches(['│', ' ']).starts_with(first))
            .unwrap_or_else(|| panic!("no line {first:?} in\n{table}"))
    }

    #[test]
    fn an_all_failed_stage_shows_no_data_not_zeros() {
        let (summary, percentiles, rich) = all_failed();
        let t = summary_table("Benchmark summary", &summary, &rich);
        for key in [
            "Req Throughput (req/s)",
            "Avg Latency (s)",
            "Avg Input Tokens",
            "Output Throughput (tok/s)",
            "Total Throughput (tok/s)",
            "Avg TTFT (ms)",
            "Avg TPOT (ms)",
            "Avg ITL (ms)",
            "Avg Output Tokens",
        ] {
            let l = line(&t, key);
            assert!(l.contains(NO_DATA), "{l}");
        }
        // counts and the measured window stay numbers
        assert!(line(&t, "Failed Requests").contains(" 4 "), "{t}");
        assert!(line(&t, "Success Requests").contains(" 0 "), "{t}");
        assert!(line(&t, "Test Duration (s)").contains("0.0310"), "{t}");
        assert!(!t.contains("0.0000"), "{t}");

        let p = percentile_table(&percentiles);
        for label in ["min", "50%", "99%", "max"] {
            let l = line(&p, label);
            assert_eq!(l.matches(NO_DATA).count(), PERCENTILE_COLUMNS.len(), "{l}");
        }
        assert!(!p.contains("0.0000"), "{p}");

        let sweep = sweep_table(&[("stage_1".into(), summary, rich)]);
        let l = line(&sweep, "stage_1");
        // RPS, avg/p99 latency, avg/p99 TTFT, avg TPOT, gen. tok/s (and the closed loop's rate)
        assert_eq!(l.matches(NO_DATA).count(), 8, "{l}");
        assert!(l.contains("0.0%"), "{l}");
        assert!(!sweep.contains("0.0000"), "{sweep}");
    }
}
