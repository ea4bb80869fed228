//! swarmbench's own `summary.json`: everything EvalScope reports plus TTFO, coordinated-omission
//! corrected latency, send lag against the schedule, error classes and histogram outliers.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::aggregate::{Metric, StageAggregate};

/// Summary statistics of one metric, in display units.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dist {
    /// Number of values.
    pub count: u64,
    /// Exact mean where an exact sum exists, else the histogram mean.
    pub mean: f64,
    /// Minimum.
    pub min: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Maximum.
    pub max: f64,
    /// Values clamped at the histogram's upper bound.
    pub high_outliers: u64,
}

fn dist(agg: &StageAggregate, m: Metric, div: f64, exact_sum: Option<f64>) -> Dist {
    let h = agg.hist(m);
    let r = |v: u64| super::evalscope::round4(v as f64 / div);
    let mean = match exact_sum {
        Some(s) if !h.is_empty() => s / h.len() as f64 / div,
        _ => 0.0,
    };
    Dist {
        count: h.len(),
        mean: super::evalscope::round4(mean),
        min: r(h.min()),
        p50: r(h.percentile(50.0)),
        p90: r(h.percentile(90.0)),
        p95: r(h.percentile(95.0)),
        p99: r(h.percentile(99.0)),
        p999: r(h.percentile(99.9)),
        max: r(h.max()),
        high_outliers: h.high_outliers(),
    }
}

/// The richer per-stage summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RichSummary {
    /// Requests finished.
    pub total: u64,
    /// Requests that succeeded.
    pub success: u64,
    /// Requests that failed.
    pub failed: u64,
    /// Failures by class.
    pub errors: BTreeMap<String, u64>,
    /// Throughput window (first send → last completion), seconds.
    pub duration_s: f64,
    /// Successful requests per second over the window.
    pub req_per_s: f64,
    /// Completion tokens per second over the window.
    pub output_tok_per_s: f64,
    /// TTFT, ms.
    pub ttft_ms: Dist,
    /// Time to first answer content after reasoning, ms.
    pub ttfo_ms: Dist,
    /// Inter-token latency, ms.
    pub itl_ms: Dist,
    /// Time per output token, ms.
    pub tpot_ms: Dist,
    /// End-to-end latency from the actual send, seconds.
    pub latency_s: Dist,
    /// End-to-end latency from the scheduled send (open loop), seconds.
    pub corrected_latency_s: Dist,
    /// Actual minus scheduled send time (open loop), ms.
    pub send_lag_ms: Dist,
    /// Prompt tokens per request.
    pub input_tokens: Dist,
    /// Completion tokens per request.
    pub output_tokens: Dist,
    /// Reasoning tokens per request.
    pub reasoning_tokens: Dist,
    /// Total reasoning tokens over successes.
    pub reasoning_tokens_total: u64,
    /// Total cached prompt tokens over successes.
    pub cached_tokens_total: u64,
    /// Successes whose tokens were counted by the tokenizer (no server usage).
    pub tokens_from_tokenizer: u64,
    /// Successes whose tokens are unknown (no usage, no tokenizer).
    pub tokens_unknown: u64,
}

impl RichSummary {
    /// Computes the summary of a (merged) aggregate.
    pub fn of(agg: &StageAggregate) -> Self {
        let c = &agg.counters;
        let t = agg.duration_s();
        let per_s = |n: u64| {
            if t > 0.0 {
                super::evalscope::round4(n as f64 / t)
            } else {
                0.0
            }
        };
        Self {
            total: c.total,
            success: c.success,
            failed: c.failed,
            errors: c.errors.clone(),
            duration_s: super::evalscope::round4(t),
            req_per_s: per_s(c.success),
            output_tok_per_s: per_s(c.completion_tokens),
            ttft_ms: dist(agg, Metric::Ttft, 1e3, Some(c.sum_ttft_us as f64)),
            ttfo_ms: dist(agg, Metric::Ttfo, 1e3, Some(c.sum_ttfo_us as f64)),
            itl_ms: dist(agg, Metric::Itl, 1e3, Some(c.sum_itl_us as f64)),
            tpot_ms: dist(agg, Metric::Tpot, 1e3, Some(c.sum_tpot_ns as f64 / 1e3)),
            latency_s: dist(agg, Metric::Latency, 1e6, Some(c.sum_latency_us as f64)),
            corrected_latency_s: dist(
                agg,
                Metric::CorrectedLatency,
                1e6,
                Some(c.sum_corrected_latency_us as f64),
            ),
            send_lag_ms: dist(agg, Metric::SendLag, 1e3, Some(c.sum_send_lag_us as f64)),
            input_tokens: dist(agg, Metric::InputTokens, 1.0, Some(c.prompt_tokens as f64)),
            output_tokens: dist(
                agg,
                Metric::OutputTokens,
                1.0,
                Some(c.completion_tokens as f64),
            ),
            reasoning_tokens: dist(
                agg,
                Metric::ReasoningTokens,
                1.0,
                Some(c.reasoning_tokens as f64),
            ),
            reasoning_tokens_total: c.reasoning_tokens,
            cached_tokens_total: c.cached_tokens,
            tokens_from_tokenizer: c.tokens_from_tokenizer,
            tokens_unknown: c.tokens_unknown,
        }
    }
}
