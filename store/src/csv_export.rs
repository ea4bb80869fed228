//! `--export-csv`: a perf workload's sweep overview (`overview.csv`, one row per stage) and each
//! stage's percentiles (`percentiles.csv`), written by the `csv` crate (RFC 4180: comma
//! separated, `"` quoted when needed, CRLF line ends). Numbers are written as they are in `summary.json` and
//! `benchmark_percentile.json` (the shortest form that reads back the same); no data is an
//! empty cell, never 0.

use std::path::Path;

use swarm_common::metrics::evalscope::{PERCENTILE_COLUMNS, PercentileRow, PerfSummary, labels};
use swarm_common::metrics::summary::RichSummary;

use crate::stage_files::WriteError;

/// The header of `overview.csv`, in order.
pub const OVERVIEW_HEADER: [&str; 16] = [
    "stage",
    "concurrency",
    "rate_req_per_s",
    "total_requests",
    "success_requests",
    "failed_requests",
    "req_per_s",
    "avg_latency_s",
    "p99_latency_s",
    "avg_ttft_ms",
    "p99_ttft_ms",
    "avg_tpot_ms",
    "output_tok_per_s",
    "success_share",
    "goodput_req_per_s",
    "goodput_share",
];

/// One stage of the overview: its name, EvalScope's summary and ours.
pub type OverviewRow<'a> = (&'a str, &'a PerfSummary, &'a RichSummary);

/// A number's cell: empty without data (None, or not finite).
fn num(v: Option<f64>) -> String {
    match v {
        Some(f) if f.is_finite() => f.to_string(),
        _ => String::new(),
    }
}

/// Writes `header` and `rows` as CSV to `path`.
fn write(path: &Path, header: &[&str], rows: &[Vec<String>]) -> Result<(), WriteError> {
    let failed = |source: std::io::Error| WriteError {
        path: path.to_path_buf(),
        source,
    };
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_path(path)
        .map_err(|e| failed(e.into()))?;
    w.write_record(header).map_err(|e| failed(e.into()))?;
    for row in rows {
        w.write_record(row).map_err(|e| failed(e.into()))?;
    }
    w.flush().map_err(failed)
}

/// The rows of `overview.csv` (without the header).
pub fn overview_rows(rows: &[OverviewRow<'_>]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|(name, s, r)| {
            let success = (r.total > 0).then(|| r.success as f64 / r.total as f64);
            vec![
                name.to_string(),
                s.concurrency.to_string(),
                num(s.rate()),
                s.total_requests.to_string(),
                s.success_requests.to_string(),
                s.failed_requests.to_string(),
                num(s.req_throughput),
                num(s.avg_latency_s),
                num(r.latency_s.p99),
                num(s.avg_ttft_ms),
                num(r.ttft_ms.p99),
                num(s.avg_tpot_ms),
                num(s.output_throughput),
                num(success),
                num(r.goodput_req_per_s),
                num(r.goodput_share),
            ]
        })
        .collect()
}

/// Writes `overview.csv` of `rows` to `path`.
pub fn write_overview(path: &Path, rows: &[OverviewRow<'_>]) -> Result<(), WriteError> {
    write(path, &OVERVIEW_HEADER, &overview_rows(rows))
}

/// The header of `percentiles.csv`: EvalScope's column labels (those of
/// `benchmark_percentile.json`).
pub fn percentile_header() -> Vec<&'static str> {
    let mut h = vec![labels::PERCENTILES];
    h.extend(PERCENTILE_COLUMNS.iter().map(|(k, _, _)| *k));
    h
}

/// Writes `percentiles.csv` of `rows` to `path`.
pub fn write_percentiles(path: &Path, rows: &[PercentileRow]) -> Result<(), WriteError> {
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            let mut cells = vec![row.percentile.clone()];
            cells.extend(PERCENTILE_COLUMNS.iter().map(|(_, m, _)| num(row.get(*m))));
            cells
        })
        .collect();
    write(path, &percentile_header(), &body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use swarm_common::metrics::aggregate::{HistSettings, StageAggregate};
    use swarm_common::metrics::evalscope::{self, StageLoad};
    use swarm_common::metrics::record::{ErrorClass, RequestRecord};

    #[test]
    fn cells_are_quoted_when_needed_and_no_data_is_empty() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("q.csv");
        let row = vec!["a,b".to_string(), "say \"hi\"".into(), "plain".into()];
        write(&path, &["x", "y", "z"], &[row]).expect("writes");
        assert_eq!(
            std::fs::read_to_string(&path).expect("reads"),
            "x,y,z\r\n\"a,b\",\"say \"\"hi\"\"\",plain\r\n"
        );
        assert_eq!(num(None), "");
        assert_eq!(num(Some(f64::NAN)), "");
        assert_eq!(num(Some(0.25)), "0.25");
        assert_eq!(num(Some(0.0)), "0");
    }

    #[test]
    fn an_all_failed_stage_has_empty_cells_not_zeros() {
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
        let s = evalscope::summary(&agg, load);
        let r = RichSummary::of(&agg);
        let rows = overview_rows(&[("stage_1", &s, &r)]);
        assert_eq!(rows[0].len(), OVERVIEW_HEADER.len());
        assert_eq!(rows[0][0], "stage_1");
        assert_eq!(rows[0][3], "1", "a count stays a number");
        assert_eq!(rows[0][5], "1");
        assert_eq!(rows[0][13], "0", "no request met: a share of 0");
        for i in [2, 6, 7, 8, 9, 10, 11, 12, 14, 15] {
            assert_eq!(rows[0][i], "", "{}", OVERVIEW_HEADER[i]);
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("p.csv");
        write_percentiles(&path, &evalscope::percentiles(&agg)).expect("writes");
        let text = std::fs::read_to_string(&path).expect("reads");
        let mut lines = text.lines();
        assert_eq!(
            lines.next(),
            Some(
                "Percentiles,TTFT (ms),ITL (ms),TPOT (ms),Latency (s),Input tokens,\
                 Output tokens,Output (tok/s),Total (tok/s),Decode (tok/s)"
            )
        );
        assert_eq!(lines.next(), Some("min,,,,,,,,,"));
    }
}
