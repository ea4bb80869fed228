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

/// Rounds to 4 decimals, as EvalScope does (Python's `round`); a non-finite value is returned as it is, for the
/// caller to write as "no data".
pub fn round4(v: f64) -> f64 {
    crate::pyround::round(v, 4)
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
    /// `--multi-turn`: mean turn number (1 for a first turn) of the successes.
    #[serde(
        rename = "Avg Turns/Request",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub avg_turns: Option<f64>,
    /// `--multi-turn`: cached over prompt tokens of the successes, percent.
    #[serde(
        rename = "KV Cache Hit Rate (%)",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub kv_cache_hit_rate_pct: Option<f64>,
    /// `--multi-turn`: mean TTFT of first turns, ms.
    #[serde(
        rename = "Avg First-Turn TTFT (ms)",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub avg_first_turn_ttft_ms: Option<f64>,
    /// `--multi-turn`: mean TTFT of later turns, ms.
    #[serde(
        rename = "Avg Subsequent-Turn TTFT (ms)",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub avg_subsequent_turn_ttft_ms: Option<f64>,
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
        for (label, v) in [
            (labels::AVG_TURNS, self.avg_turns),
            (labels::KV_CACHE_HIT_RATE, self.kv_cache_hit_rate_pct),
            (labels::AVG_FIRST_TURN_TTFT, self.avg_first_turn_ttft_ms),
            (
                labels::AVG_SUBSEQUENT_TURN_TTFT,
                self.avg_subsequent_turn_ttft_ms,
            ),
        ] {
            if v.is_some() {
                rows.push((label, V(v)));
            }
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
    /// `Avg Turns/Request` (multi-turn).
    pub const AVG_TURNS: &str = "Avg Turns/Request";
    /// `KV Cache Hit Rate (%)` (multi-turn).
    pub const KV_CACHE_HIT_RATE: &str = "KV Cache Hit Rate (%)";
    /// `Avg First-Turn TTFT (ms)` (multi-turn).
    pub const AVG_FIRST_TURN_TTFT: &str = "Avg First-Turn TTFT (ms)";
    /// `Avg Subsequent-Turn TTFT (ms)` (multi-turn).
    pub const AVG_SUBSEQUENT_TURN_TTFT: &str = "Avg Subsequent-Turn TTFT (ms)";
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
        // filled from the per-turn records at the stage's end (`--multi-turn`)
        avg_turns: None,
        kv_cache_hit_rate_pct: None,
        avg_first_turn_ttft_ms: None,
        avg_subsequent_turn_ttft_ms: None,
    }
}

mod percentiles;
pub use percentiles::*;

#[cfg(test)]
mod tests;
