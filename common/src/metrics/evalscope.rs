//! EvalScope 1.14's `benchmark_summary.json` and `benchmark_percentile.json`, same keys, same
//! order, computed from a (merged) [`StageAggregate`].

use serde::{Deserialize, Serialize};

use super::aggregate::{Metric, StageAggregate};

/// The percentile rows EvalScope prints, as (label, percentile).
pub const PERCENTILE_ROWS: [(&str, f64); 11] = [
    ("min", 0.0),
    ("1%", 1.0),
    ("5%", 5.0),
    ("10%", 10.0),
    ("25%", 25.0),
    ("50%", 50.0),
    ("75%", 75.0),
    ("90%", 90.0),
    ("95%", 95.0),
    ("99%", 99.0),
    ("max", 100.0),
];

/// The percentile columns, as (EvalScope key, metric, divisor from the stored unit).
pub const PERCENTILE_COLUMNS: [(&str, Metric, f64); 9] = [
    ("TTFT (ms)", Metric::Ttft, 1e3),
    ("ITL (ms)", Metric::Itl, 1e3),
    ("TPOT (ms)", Metric::Tpot, 1e3),
    ("Latency (s)", Metric::Latency, 1e6),
    ("Input tokens", Metric::InputTokens, 1.0),
    ("Output tokens", Metric::OutputTokens, 1.0),
    ("Output (tok/s)", Metric::OutputTps, 1e3),
    ("Total (tok/s)", Metric::TotalTps, 1e3),
    ("Decode (tok/s)", Metric::DecodeTps, 1e3),
];

/// How the stage was loaded, for the summary's "Concurrency" and "Request Rate" keys.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StageLoad {
    /// Concurrency (closed loop) or concurrency cap (open loop; 0 = none).
    pub concurrency: u32,
    /// Arrival rate in req/s, None for closed loop (written as -1, like EvalScope's default).
    pub rate: Option<f64>,
}

/// Rounds to 4 decimals, as EvalScope does; a non-finite value is returned as it is, for the
/// caller to write as "no data".
pub fn round4(v: f64) -> f64 {
    if v.is_finite() {
        (v * 10_000.0).round() / 10_000.0
    } else {
        v
    }
}

/// `num / den`, or None when the denominator counts nothing (no data, not a zero).
fn ratio(num: f64, den: f64) -> Option<f64> {
    (den > 0.0).then(|| num / den)
}

/// A metric value rounded to 4 decimals; no data (None, or a non-finite result) is None (JSON
/// null).
fn metric(v: Option<f64>) -> Option<f64> {
    v.filter(|v| v.is_finite()).map(round4)
}

/// Whether `m` has data in `agg`: its histogram holds a value and, for TPOT and decode speed
/// (which need a first token), some request had a TTFT; without one they hold only the 0
/// placeholders of [`RequestRecord::tpot_us`](super::record::RequestRecord::tpot_us).
pub fn has_data(agg: &StageAggregate, m: Metric) -> bool {
    let needs_ttft = matches!(m, Metric::Tpot | Metric::DecodeTps);
    !agg.hist(m).is_empty() && (!needs_ttft || agg.counters.n_ttft > 0)
}

/// EvalScope's `benchmark_summary.json`: its keys (the display labels, spelled only here), its
/// order. Counts, the load and the duration are always numbers; a metric with no data is null.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerfSummary {
    /// Seconds from the first send to the last answer.
    #[serde(rename = "Test Duration (s)")]
    pub test_duration_s: f64,
    /// Concurrency (closed loop) or its cap (open loop; 0 = none).
    #[serde(rename = "Concurrency")]
    pub concurrency: u32,
    /// Arrival rate, -1 for closed loop (EvalScope's default).
    #[serde(rename = "Request Rate (req/s)")]
    pub request_rate: f64,
    /// Requests sent.
    #[serde(rename = "Total Requests")]
    pub total_requests: u64,
    /// Requests that succeeded.
    #[serde(rename = "Success Requests")]
    pub success_requests: u64,
    /// Requests that failed.
    #[serde(rename = "Failed Requests")]
    pub failed_requests: u64,
    /// Successes per second.
    #[serde(rename = "Req Throughput (req/s)")]
    pub req_throughput: Option<f64>,
    /// Mean latency of successes, seconds.
    #[serde(rename = "Avg Latency (s)")]
    pub avg_latency_s: Option<f64>,
    /// Mean prompt tokens of successes.
    #[serde(rename = "Avg Input Tokens")]
    pub avg_input_tokens: Option<f64>,
    /// Completion tokens per second.
    #[serde(rename = "Output Throughput (tok/s)")]
    pub output_throughput: Option<f64>,
    /// Prompt and completion tokens per second.
    #[serde(rename = "Total Throughput (tok/s)")]
    pub total_throughput: Option<f64>,
    /// Mean time to first token, ms.
    #[serde(rename = "Avg TTFT (ms)")]
    pub avg_ttft_ms: Option<f64>,
    /// Mean time per output token, ms.
    #[serde(rename = "Avg TPOT (ms)")]
    pub avg_tpot_ms: Option<f64>,
    /// Mean inter-token latency, ms.
    #[serde(rename = "Avg ITL (ms)")]
    pub avg_itl_ms: Option<f64>,
    /// Mean completion tokens of successes.
    #[serde(rename = "Avg Output Tokens")]
    pub avg_output_tokens: Option<f64>,
    /// EvalScope's key for embeddings and rerank: all prompt tokens over the sum of the
    /// successes' latencies (tok/s of a request). Written only for a stage that generated
    /// nothing (successes, none with a first token or an output token): those APIs.
    #[serde(
        rename = "Input Throughput (tok/s)",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub input_throughput: Option<f64>,
}

/// A value of EvalScope's tables, for display.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell {
    /// A count.
    Count(u64),
    /// A measured value; None is no data.
    Value(Option<f64>),
}

impl PerfSummary {
    /// The rows of EvalScope's summary table: (label, value), in its order.
    pub fn rows(&self) -> Vec<(&'static str, Cell)> {
        use Cell::{Count, Value as V};
        let mut rows = vec![
            (labels::TEST_DURATION, V(Some(self.test_duration_s))),
            (labels::CONCURRENCY, Count(u64::from(self.concurrency))),
            (labels::REQUEST_RATE, V(Some(self.request_rate))),
            (labels::TOTAL_REQUESTS, Count(self.total_requests)),
            (labels::SUCCESS_REQUESTS, Count(self.success_requests)),
            (labels::FAILED_REQUESTS, Count(self.failed_requests)),
            (labels::REQ_THROUGHPUT, V(self.req_throughput)),
            (labels::AVG_LATENCY, V(self.avg_latency_s)),
            (labels::AVG_INPUT_TOKENS, V(self.avg_input_tokens)),
            (labels::OUTPUT_THROUGHPUT, V(self.output_throughput)),
            (labels::TOTAL_THROUGHPUT, V(self.total_throughput)),
            (labels::AVG_TTFT, V(self.avg_ttft_ms)),
            (labels::AVG_TPOT, V(self.avg_tpot_ms)),
            (labels::AVG_ITL, V(self.avg_itl_ms)),
            (labels::AVG_OUTPUT_TOKENS, V(self.avg_output_tokens)),
        ];
        if self.input_throughput.is_some() {
            rows.push((labels::INPUT_THROUGHPUT, V(self.input_throughput)));
        }
        rows
    }

    /// The arrival rate of an open-loop stage (None for closed loop).
    pub fn rate(&self) -> Option<f64> {
        (self.request_rate > 0.0).then_some(self.request_rate)
    }
}

/// EvalScope's display labels, for tables and cards that show one of its values by name
/// (the same strings as the serde renames above).
pub mod labels {
    /// `Test Duration (s)`.
    pub const TEST_DURATION: &str = "Test Duration (s)";
    /// `Concurrency`.
    pub const CONCURRENCY: &str = "Concurrency";
    /// `Request Rate (req/s)`.
    pub const REQUEST_RATE: &str = "Request Rate (req/s)";
    /// `Total Requests`.
    pub const TOTAL_REQUESTS: &str = "Total Requests";
    /// `Success Requests`.
    pub const SUCCESS_REQUESTS: &str = "Success Requests";
    /// `Failed Requests`.
    pub const FAILED_REQUESTS: &str = "Failed Requests";
    /// `Req Throughput (req/s)`.
    pub const REQ_THROUGHPUT: &str = "Req Throughput (req/s)";
    /// `Avg Latency (s)`.
    pub const AVG_LATENCY: &str = "Avg Latency (s)";
    /// `Avg Input Tokens`.
    pub const AVG_INPUT_TOKENS: &str = "Avg Input Tokens";
    /// `Output Throughput (tok/s)`.
    pub const OUTPUT_THROUGHPUT: &str = "Output Throughput (tok/s)";
    /// `Total Throughput (tok/s)`.
    pub const TOTAL_THROUGHPUT: &str = "Total Throughput (tok/s)";
    /// `Avg TTFT (ms)`.
    pub const AVG_TTFT: &str = "Avg TTFT (ms)";
    /// `Avg TPOT (ms)`.
    pub const AVG_TPOT: &str = "Avg TPOT (ms)";
    /// `Avg ITL (ms)`.
    pub const AVG_ITL: &str = "Avg ITL (ms)";
    /// `Avg Output Tokens`.
    pub const AVG_OUTPUT_TOKENS: &str = "Avg Output Tokens";
    /// `Input Throughput (tok/s)` (embeddings and rerank).
    pub const INPUT_THROUGHPUT: &str = "Input Throughput (tok/s)";
    /// The first column of the percentile table.
    pub const PERCENTILES: &str = "Percentiles";
}

/// The `benchmark_summary.json` object. Counts, "Concurrency", "Request Rate (req/s)" and
/// "Test Duration (s)" are always numbers; a metric with no data is null: averages and
/// throughputs of a stage without a successful request, ITL when no answer came in two pieces
/// or more (not streamed), TTFT and TPOT when no request had a first token.
pub fn summary(agg: &StageAggregate, load: StageLoad) -> PerfSummary {
    let c = &agg.counters;
    let t = agg.duration_s();
    let ok = c.success as f64;
    // throughputs need a success and a window to divide by
    let per_s = |n: f64| if c.success > 0 { ratio(n, t) } else { None };
    // EvalScope averages TPOT over every success; without any TTFT all of them are placeholders
    let tpot = ratio(c.sum_tpot_ns as f64, ok).filter(|_| c.n_ttft > 0);
    PerfSummary {
        test_duration_s: round4(t),
        concurrency: load.concurrency,
        request_rate: round4(load.rate.unwrap_or(-1.0)),
        total_requests: c.total,
        success_requests: c.success,
        failed_requests: c.failed,
        req_throughput: metric(per_s(ok)),
        avg_latency_s: metric(ratio(c.sum_latency_us as f64, ok).map(|v| v / 1e6)),
        avg_input_tokens: metric(ratio(c.prompt_tokens as f64, ok)),
        output_throughput: metric(per_s(c.completion_tokens as f64)),
        total_throughput: metric(per_s((c.prompt_tokens + c.completion_tokens) as f64)),
        avg_ttft_ms: metric(ratio(c.sum_ttft_us as f64, c.n_ttft as f64).map(|v| v / 1e3)),
        avg_tpot_ms: metric(tpot.map(|v| v / 1e6)),
        avg_itl_ms: metric(ratio(c.sum_itl_us as f64, c.n_itl as f64).map(|v| v / 1e3)),
        avg_output_tokens: metric(ratio(c.completion_tokens as f64, ok)),
        input_throughput: if c.success > 0 && c.n_ttft == 0 && c.completion_tokens == 0 {
            metric(ratio(c.prompt_tokens as f64, c.sum_latency_us as f64 / 1e6))
        } else {
            None
        },
    }
}

/// One row of EvalScope's `benchmark_percentile.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PercentileRow {
    /// `min`, `1%`, ... `max`.
    #[serde(rename = "Percentiles")]
    pub percentile: String,
    /// Time to first token.
    #[serde(rename = "TTFT (ms)")]
    pub ttft_ms: Option<f64>,
    /// Inter-token latency.
    #[serde(rename = "ITL (ms)")]
    pub itl_ms: Option<f64>,
    /// Time per output token.
    #[serde(rename = "TPOT (ms)")]
    pub tpot_ms: Option<f64>,
    /// Latency.
    #[serde(rename = "Latency (s)")]
    pub latency_s: Option<f64>,
    /// Prompt tokens.
    #[serde(rename = "Input tokens")]
    pub input_tokens: Option<f64>,
    /// Completion tokens.
    #[serde(rename = "Output tokens")]
    pub output_tokens: Option<f64>,
    /// Per-request output speed.
    #[serde(rename = "Output (tok/s)")]
    pub output_tps: Option<f64>,
    /// Per-request total speed.
    #[serde(rename = "Total (tok/s)")]
    pub total_tps: Option<f64>,
    /// Per-request decode speed.
    #[serde(rename = "Decode (tok/s)")]
    pub decode_tps: Option<f64>,
}

impl PercentileRow {
    /// The value of `m`'s column (None: no data, or not a column).
    pub fn get(&self, m: Metric) -> Option<f64> {
        match m {
            Metric::Ttft => self.ttft_ms,
            Metric::Itl => self.itl_ms,
            Metric::Tpot => self.tpot_ms,
            Metric::Latency => self.latency_s,
            Metric::InputTokens => self.input_tokens,
            Metric::OutputTokens => self.output_tokens,
            Metric::OutputTps => self.output_tps,
            Metric::TotalTps => self.total_tps,
            Metric::DecodeTps => self.decode_tps,
            _ => None,
        }
    }

    fn set(&mut self, m: Metric, v: Option<f64>) {
        let slot = match m {
            Metric::Ttft => &mut self.ttft_ms,
            Metric::Itl => &mut self.itl_ms,
            Metric::Tpot => &mut self.tpot_ms,
            Metric::Latency => &mut self.latency_s,
            Metric::InputTokens => &mut self.input_tokens,
            Metric::OutputTokens => &mut self.output_tokens,
            Metric::OutputTps => &mut self.output_tps,
            Metric::TotalTps => &mut self.total_tps,
            Metric::DecodeTps => &mut self.decode_tps,
            _ => return,
        };
        *slot = v;
    }

    /// A row of `label` with no data.
    fn empty(label: &str) -> Self {
        Self {
            percentile: label.to_string(),
            ttft_ms: None,
            itl_ms: None,
            tpot_ms: None,
            latency_s: None,
            input_tokens: None,
            output_tokens: None,
            output_tps: None,
            total_tps: None,
            decode_tps: None,
        }
    }
}

/// EvalScope's own `benchmark_percentile.json` as its releases write it: one list per column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PercentileColumns {
    /// The row labels.
    #[serde(rename = "Percentiles")]
    pub percentiles: Vec<String>,
    /// Time to first token.
    #[serde(rename = "TTFT (ms)", default)]
    pub ttft_ms: Vec<Option<f64>>,
    /// Inter-token latency.
    #[serde(rename = "ITL (ms)", default)]
    pub itl_ms: Vec<Option<f64>>,
    /// Time per output token.
    #[serde(rename = "TPOT (ms)", default)]
    pub tpot_ms: Vec<Option<f64>>,
    /// Latency.
    #[serde(rename = "Latency (s)", default)]
    pub latency_s: Vec<Option<f64>>,
    /// Prompt tokens.
    #[serde(rename = "Input tokens", default)]
    pub input_tokens: Vec<Option<f64>>,
    /// Completion tokens.
    #[serde(rename = "Output tokens", default)]
    pub output_tokens: Vec<Option<f64>>,
    /// Per-request output speed.
    #[serde(rename = "Output (tok/s)", default)]
    pub output_tps: Vec<Option<f64>>,
    /// Per-request total speed.
    #[serde(rename = "Total (tok/s)", default)]
    pub total_tps: Vec<Option<f64>>,
    /// Per-request decode speed.
    #[serde(rename = "Decode (tok/s)", default)]
    pub decode_tps: Vec<Option<f64>>,
}

impl PercentileColumns {
    /// The same table as rows (a column shorter than the labels has no data in the rest).
    pub fn into_rows(self) -> Vec<PercentileRow> {
        let at = |col: &[Option<f64>], i: usize| col.get(i).copied().flatten();
        self.percentiles
            .iter()
            .enumerate()
            .map(|(i, label)| PercentileRow {
                percentile: label.clone(),
                ttft_ms: at(&self.ttft_ms, i),
                itl_ms: at(&self.itl_ms, i),
                tpot_ms: at(&self.tpot_ms, i),
                latency_s: at(&self.latency_s, i),
                input_tokens: at(&self.input_tokens, i),
                output_tokens: at(&self.output_tokens, i),
                output_tps: at(&self.output_tps, i),
                total_tps: at(&self.total_tps, i),
                decode_tps: at(&self.decode_tps, i),
            })
            .collect()
    }
}

/// A `benchmark_percentile.json` in either shape: ours (rows) or EvalScope's (columns).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum PercentileFile {
    /// One object per row.
    Rows(Vec<PercentileRow>),
    /// One list per column.
    Columns(Box<PercentileColumns>),
}

impl PercentileFile {
    /// The rows.
    pub fn into_rows(self) -> Vec<PercentileRow> {
        match self {
            PercentileFile::Rows(r) => r,
            PercentileFile::Columns(c) => c.into_rows(),
        }
    }
}

/// The `benchmark_percentile.json` rows, one per percentile. A column without data
/// ([`has_data`]: every column without a successful request, ITL without streaming, TTFT, TPOT
/// and decode speed without a first token) is null in every row.
pub fn percentiles(agg: &StageAggregate) -> Vec<PercentileRow> {
    PERCENTILE_ROWS
        .iter()
        .map(|(label, p)| percentile_row(agg, label, *p))
        .collect()
}

/// The row `label` of percentile `p` of every column of `agg`.
fn percentile_row(agg: &StageAggregate, label: &str, p: f64) -> PercentileRow {
    let mut row = PercentileRow::empty(label);
    for (_, m, div) in PERCENTILE_COLUMNS {
        let v = has_data(agg, m).then(|| agg.hist(m).percentile(p) as f64 / div);
        row.set(m, metric(v));
    }
    row
}

/// The most extra percentiles (`--percentiles`) a stage reports.
pub const MAX_EXTRA_PERCENTILES: usize = 20;

/// The label of an extra percentile row: `99.9%`, `50%` (the fixed rows' style).
pub fn percentile_label(p: f64) -> String {
    format!("{p}%")
}

/// Extra percentiles as asked (`--percentiles 50,90,99.9`), checked: each in (0, 100), at
/// most [`MAX_EXTRA_PERCENTILES`]; returned sorted, each once.
pub fn checked_extra_percentiles(asked: &[f64]) -> Result<Vec<f64>, String> {
    if let Some(bad) = asked
        .iter()
        .find(|p| !(p.is_finite() && **p > 0.0 && **p < 100.0))
    {
        return Err(format!(
            "percentile {bad} is not between 0 and 100 (exclusive)"
        ));
    }
    let mut out = asked.to_vec();
    out.sort_by(f64::total_cmp);
    out.dedup();
    if out.len() > MAX_EXTRA_PERCENTILES {
        return Err(format!(
            "{} percentiles asked; at most {MAX_EXTRA_PERCENTILES}",
            out.len()
        ));
    }
    Ok(out)
}

/// The rows of the extra percentiles `extra` (sorted, checked by
/// [`checked_extra_percentiles`]) that EvalScope's fixed rows ([`PERCENTILE_ROWS`]) do not
/// already hold, in its row format (labels like `99.9%`), computed from `agg`'s histograms as
/// the fixed rows are. They go after EvalScope's rows; none: EvalScope's file as it is.
pub fn extra_percentiles(agg: &StageAggregate, extra: &[f64]) -> Vec<PercentileRow> {
    extra
        .iter()
        .filter(|p| !PERCENTILE_ROWS.iter().any(|(_, q)| q == *p))
        .map(|p| percentile_row(agg, &percentile_label(*p), *p))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Map, Value};

    fn map_of(v: &impl Serialize) -> Map<String, Value> {
        match serde_json::to_value(v).expect("serializes") {
            Value::Object(m) => m,
            other => panic!("not an object: {other}"),
        }
    }

    fn summary(agg: &StageAggregate, load: StageLoad) -> Map<String, Value> {
        map_of(&super::summary(agg, load))
    }

    fn percentiles(agg: &StageAggregate) -> Vec<Map<String, Value>> {
        super::percentiles(agg).iter().map(map_of).collect()
    }
    use crate::metrics::aggregate::HistSettings;
    use crate::metrics::record::{ErrorClass, RequestRecord, TokenSource};

    #[test]
    fn summary_values_on_known_inputs() {
        let mut agg = StageAggregate::new(HistSettings::default()).expect("valid");
        // two requests: 100 prompt tokens, 11 completion tokens, ttft 100 ms, latency 1.1 s
        for sent in [0u64, 900_000] {
            agg.record(
                &RequestRecord {
                    sent_us: sent,
                    ttft_us: Some(100_000),
                    latency_us: 1_100_000,
                    chunk_us: (0..11).map(|i| 100_000 + i * 100_000).collect(),
                    prompt_tokens: 100,
                    completion_tokens: 11,
                    token_source: TokenSource::Usage,
                    status: 200,
                    ..Default::default()
                },
                0,
            );
        }
        let s = summary(
            &agg,
            StageLoad {
                concurrency: 2,
                rate: None,
            },
        );
        assert_eq!(s["Test Duration (s)"], 2.0);
        assert_eq!(s["Total Requests"], 2);
        assert_eq!(s["Req Throughput (req/s)"], 1.0);
        assert_eq!(s["Avg Latency (s)"], 1.1);
        assert_eq!(s["Output Throughput (tok/s)"], 11.0);
        assert_eq!(s["Total Throughput (tok/s)"], 111.0);
        assert_eq!(s["Avg TTFT (ms)"], 100.0);
        assert_eq!(s["Avg TPOT (ms)"], 100.0);
        assert_eq!(s["Avg ITL (ms)"], 100.0);
        assert_eq!(s["Request Rate (req/s)"], -1.0);
        let keys: Vec<_> = s.keys().cloned().collect();
        assert_eq!(keys[0], "Test Duration (s)");
        assert_eq!(keys.last().map(String::as_str), Some("Avg Output Tokens"));

        let rows = percentiles(&agg);
        assert_eq!(rows.len(), 11);
        assert_eq!(rows[5]["Percentiles"], "50%");
        assert_eq!(rows[5]["Output tokens"], 11.0);
        assert_eq!(rows[5]["TTFT (ms)"], 100.0);
        // histogram values are exact to 3 significant figures
        let out_tps = rows[5]["Output (tok/s)"].as_f64().expect("number");
        assert!((out_tps - 10.0).abs() <= 0.01, "{out_tps}");
    }

    /// The summary keys that are averages or throughputs (null without data).
    const METRIC_KEYS: [&str; 9] = [
        "Req Throughput (req/s)",
        "Avg Latency (s)",
        "Avg Input Tokens",
        "Output Throughput (tok/s)",
        "Total Throughput (tok/s)",
        "Avg TTFT (ms)",
        "Avg TPOT (ms)",
        "Avg ITL (ms)",
        "Avg Output Tokens",
    ];

    fn closed(concurrency: u32) -> StageLoad {
        StageLoad {
            concurrency,
            rate: None,
        }
    }

    #[test]
    fn an_all_failed_stage_has_nulls_not_zeros() {
        let mut agg = StageAggregate::new(HistSettings::default()).expect("valid");
        for sent in [0u64, 1_000, 2_000] {
            agg.record(
                &RequestRecord {
                    sent_us: sent,
                    latency_us: 500,
                    status: 0,
                    error: Some(ErrorClass::Connect),
                    ..Default::default()
                },
                0,
            );
        }
        let s = summary(&agg, closed(2));
        for key in METRIC_KEYS {
            assert_eq!(s[key], Value::Null, "{key}");
        }
        // counts and the load stay numbers
        assert_eq!(s["Total Requests"], 3);
        assert_eq!(s["Success Requests"], 0);
        assert_eq!(s["Failed Requests"], 3);
        assert_eq!(s["Concurrency"], 2);
        assert_eq!(s["Request Rate (req/s)"], -1.0);
        assert_eq!(s["Test Duration (s)"], 0.0025);
        assert_eq!(s.len(), 15, "every EvalScope key is kept");

        let rows = percentiles(&agg);
        assert_eq!(rows.len(), PERCENTILE_ROWS.len());
        for (row, (label, _)) in rows.iter().zip(PERCENTILE_ROWS) {
            assert_eq!(row["Percentiles"], label);
            for (key, _, _) in PERCENTILE_COLUMNS {
                assert_eq!(row.get(key), Some(&Value::Null), "{label} {key}");
            }
        }
    }

    #[test]
    fn a_stage_without_first_tokens_has_null_ttft_but_latencies() {
        let mut agg = StageAggregate::new(HistSettings::default()).expect("valid");
        // two answers without a first token or chunks (e.g. empty choices); 1 s and 3 s
        for (sent, latency) in [(0u64, 1_000_000u64), (0, 3_000_000)] {
            agg.record(
                &RequestRecord {
                    sent_us: sent,
                    ttft_us: None,
                    latency_us: latency,
                    prompt_tokens: 10,
                    completion_tokens: 30,
                    token_source: TokenSource::Usage,
                    status: 200,
                    ..Default::default()
                },
                0,
            );
        }
        let s = summary(&agg, closed(2));
        assert_eq!(s["Avg TTFT (ms)"], Value::Null);
        assert_eq!(s["Avg ITL (ms)"], Value::Null);
        assert_eq!(s["Avg TPOT (ms)"], Value::Null, "TPOT needs a first token");
        assert_eq!(s["Avg Latency (s)"], 2.0);
        assert_eq!(s["Avg Input Tokens"], 10.0);
        assert_eq!(s["Avg Output Tokens"], 30.0);
        assert_eq!(s["Test Duration (s)"], 3.0);
        assert_eq!(s["Req Throughput (req/s)"], 0.6667);
        assert_eq!(s["Output Throughput (tok/s)"], 20.0);
        assert_eq!(s["Total Throughput (tok/s)"], 26.6667);

        let rows = percentiles(&agg);
        for row in &rows {
            for key in ["TTFT (ms)", "ITL (ms)", "TPOT (ms)", "Decode (tok/s)"] {
                assert_eq!(row[key], Value::Null, "{} {key}", row["Percentiles"]);
            }
            for key in [
                "Latency (s)",
                "Input tokens",
                "Output tokens",
                "Output (tok/s)",
            ] {
                assert!(row[key].is_number(), "{} {key}", row["Percentiles"]);
            }
        }
        // histogram values are exact to 3 significant figures
        let min = rows[0]["Latency (s)"].as_f64().expect("number");
        let max = rows[10]["Latency (s)"].as_f64().expect("number");
        assert!((min - 1.0).abs() <= 0.001, "{min}");
        assert!((max - 3.0).abs() <= 0.003, "{max}");
    }

    #[test]
    fn an_empty_stage_has_nulls_and_its_load() {
        let agg = StageAggregate::new(HistSettings::default()).expect("valid");
        let s = summary(
            &agg,
            StageLoad {
                concurrency: 1,
                rate: Some(5.0),
            },
        );
        assert_eq!(s["Req Throughput (req/s)"], Value::Null);
        assert_eq!(s["Avg TTFT (ms)"], Value::Null);
        assert_eq!(s["Request Rate (req/s)"], 5.0);
        assert_eq!(s["Test Duration (s)"], 0.0);
        assert_eq!(s["Total Requests"], 0);
    }

    #[test]
    fn extra_percentile_rows_are_exact_on_a_known_histogram() {
        let mut agg = StageAggregate::new(HistSettings::default()).expect("valid");
        // latencies 1 ms .. 1000 ms, one each: the p-th percentile is p * 10 ms
        for i in 1..=1000u64 {
            agg.record(
                &RequestRecord {
                    sent_us: 0,
                    ttft_us: Some(i * 1_000),
                    latency_us: i * 1_000,
                    prompt_tokens: 10,
                    completion_tokens: 1,
                    token_source: TokenSource::Usage,
                    status: 200,
                    ..Default::default()
                },
                0,
            );
        }
        let asked = checked_extra_percentiles(&[99.9, 50.0, 99.9, 90.5]).expect("valid");
        assert_eq!(asked, [50.0, 90.5, 99.9]);
        let rows = extra_percentiles(&agg, &asked);
        // 50% is one of EvalScope's rows already
        let labels: Vec<_> = rows.iter().map(|r| r.percentile.as_str()).collect();
        assert_eq!(labels, ["90.5%", "99.9%"]);
        // within the histograms' resolution (3 significant figures) and one value (1 ms)
        let near = |v: Option<f64>, want: f64, step: f64| {
            let v = v.expect("a value");
            assert!((v - want).abs() <= want * 1e-3 + step, "{v} vs {want}");
        };
        near(rows[0].ttft_ms, 905.0, 1.0);
        near(rows[0].latency_s, 0.905, 0.001);
        near(rows[1].ttft_ms, 999.0, 1.0);
        near(rows[1].latency_s, 0.999, 0.001);
        assert_eq!(rows[1].input_tokens, Some(10.0));
        assert_eq!(rows[1].itl_ms, None, "no data: not streamed");
        // the same values as the histogram's own percentile
        let p999 = agg.hist(Metric::Ttft).percentile(99.9) as f64 / 1e3;
        assert_eq!(rows[1].ttft_ms, Some(round4(p999)));
        assert!(extra_percentiles(&agg, &[]).is_empty());

        for bad in [[0.0], [100.0], [-1.0], [f64::NAN]] {
            assert!(checked_extra_percentiles(&bad).is_err(), "{bad:?}");
        }
        let many: Vec<f64> = (1..=21).map(f64::from).collect();
        assert!(checked_extra_percentiles(&many).is_err());
        assert_eq!(percentile_label(50.0), "50%");
        assert_eq!(percentile_label(99.99), "99.99%");
    }

    #[test]
    fn round4_keeps_non_finite_values_for_the_caller() {
        assert_eq!(round4(1.23456), 1.2346);
        assert!(round4(f64::NAN).is_nan());
        assert_eq!(metric(Some(f64::INFINITY)), None);
        assert_eq!(metric(Some(0.0)), Some(0.0));
    }
}
