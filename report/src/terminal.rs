//! Terminal tables: EvalScope's per-stage summary and percentiles, and a sweep overview.

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell as TCell, CellAlignment, ContentArrangement, Table};
use swarm_common::metrics::evalscope::{
    Cell, PERCENTILE_COLUMNS, PercentileRow, PerfSummary, labels,
};
use swarm_common::metrics::summary::RichSummary;

use super::NO_DATA;

/// An empty table in the terminal tables' style.
pub fn table() -> Table {
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    t
}

/// A value of EvalScope's tables: counts as they are, values with 4 decimals, no data as
/// [`NO_DATA`].
fn cell(v: Cell) -> String {
    match v {
        Cell::Count(n) => n.to_string(),
        Cell::Value(v) => stat(v),
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
pub fn summary_table(title: &str, summary: &PerfSummary, rich: &RichSummary) -> String {
    let mut t = table();
    t.set_header(vec![TCell::new(title), TCell::new("Value")]);
    for (k, v) in summary.rows() {
        t.add_row(vec![
            TCell::new(k),
            TCell::new(cell(v)).set_alignment(CellAlignment::Right),
        ]);
    }
    let mut extra = |k: &str, v: String| {
        t.add_row(vec![
            TCell::new(k),
            TCell::new(v).set_alignment(CellAlignment::Right),
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
pub fn percentile_table(rows: &[PercentileRow]) -> String {
    let mut t = table();
    let mut header = vec![TCell::new(labels::PERCENTILES)];
    header.extend(PERCENTILE_COLUMNS.iter().map(|(k, _, _)| TCell::new(k)));
    t.set_header(header);
    for row in rows {
        let mut cells = vec![TCell::new(&row.percentile)];
        for (_, m, _) in PERCENTILE_COLUMNS {
            cells.push(TCell::new(stat(row.get(m))).set_alignment(CellAlignment::Right));
        }
        t.add_row(cells);
    }
    t.to_string()
}

/// One row per stage of a sweep (or per placement label of a stage), with goodput columns
/// when any row has goodput objectives.
pub fn sweep_table(rows: &[(String, PerfSummary, RichSummary)]) -> String {
    let mut t = table();
    let goodput = rows.iter().any(|(_, _, r)| r.goodput_share.is_some());
    let mut header = vec![
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
    ];
    if goodput {
        header.extend(["Goodput(req/s)", "Met SLOs"]);
    }
    t.set_header(header);
    for (name, s, r) in rows {
        let rate = match s.rate() {
            Some(v) => format!("{v}"),
            None => NO_DATA.into(),
        };
        let success = if r.total > 0 {
            format!("{:.1}%", 100.0 * r.success as f64 / r.total as f64)
        } else {
            NO_DATA.into()
        };
        let mut cells = vec![
            name.clone(),
            s.concurrency.to_string(),
            rate,
            stat(s.req_throughput),
            stat(s.avg_latency_s),
            stat(r.latency_s.p99),
            stat(s.avg_ttft_ms),
            stat(r.ttft_ms.p99),
            stat(s.avg_tpot_ms),
            stat(s.output_throughput),
            success,
        ];
        if goodput {
            cells.push(stat(r.goodput_req_per_s));
            cells.push(match r.goodput_share {
                Some(v) => format!("{:.1}%", v * 100.0),
                None => NO_DATA.into(),
            });
        }
        t.add_row(cells);
    }
    t.to_string()
}

/// The thresholds checked against a stage: pass or FAIL, the value.
pub fn threshold_table(checked: &[swarm_store::threshold::Checked]) -> Table {
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

    fn all_failed() -> (PerfSummary, Vec<PercentileRow>, RichSummary) {
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
    fn goodput_columns_show_when_a_row_has_objectives() {
        let (summary, _, rich) = all_failed();
        let plain = sweep_table(&[("stage_1".into(), summary.clone(), rich.clone())]);
        assert!(!plain.contains("Goodput"), "{plain}");
        let mut met = rich.clone();
        met.goodput_req_per_s = Some(1.5);
        met.goodput_share = Some(0.75);
        let t = sweep_table(&[
            ("region=eu".into(), summary.clone(), met),
            ("region=us".into(), summary, rich),
        ]);
        assert!(
            t.contains("Goodput(req/s)") && t.contains("Met SLOs"),
            "{t}"
        );
        let eu = line(&t, "region=eu");
        assert!(eu.contains("1.5000") && eu.contains("75.0%"), "{eu}");
        // a row without objectives has no data there, not 0
        let us = line(&t, "region=us");
        assert_eq!(us.matches(NO_DATA).count(), 10, "{us}");
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
