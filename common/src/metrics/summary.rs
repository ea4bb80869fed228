//! swarmbench's own `summary.json`: everything EvalScope reports plus TTFO, coordinated-omission
//! corrected latency, send lag against the schedule, error classes and histogram outliers.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::aggregate::{Metric, StageAggregate};
use super::evalscope::round4;

/// Summary statistics of one metric, in display units. Without data (`count` 0) every
/// statistic is None (null in `summary.json`), never a 0 that was not measured.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Dist {
    /// Number of values.
    pub count: u64,
    /// Exact mean, from the exact sum.
    pub mean: Option<f64>,
    /// Minimum.
    pub min: Option<f64>,
    /// Median.
    pub p50: Option<f64>,
    /// 90th percentile.
    pub p90: Option<f64>,
    /// 95th percentile.
    pub p95: Option<f64>,
    /// 99th percentile.
    pub p99: Option<f64>,
    /// 99.9th percentile.
    pub p999: Option<f64>,
    /// Maximum.
    pub max: Option<f64>,
    /// Values clamped at the histogram's upper bound.
    pub high_outliers: u64,
}

fn dist(agg: &StageAggregate, m: Metric, div: f64, exact_sum: f64) -> Dist {
    let h = agg.hist(m);
    if !super::evalscope::has_data(agg, m) {
        return Dist {
            count: 0,
            mean: None,
            min: None,
            p50: None,
            p90: None,
            p95: None,
            p99: None,
            p999: None,
            max: None,
            high_outliers: 0,
        };
    }
    let r = |v: u64| Some(round4(v as f64 / div));
    Dist {
        count: h.len(),
        mean: Some(round4(exact_sum / h.len() as f64 / div)),
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
    /// Successful requests per second over the window; None without a success or a window.
    pub req_per_s: Option<f64>,
    /// Completion tokens per second over the window; None without a success or a window.
    pub output_tok_per_s: Option<f64>,
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
    /// Waiting on the client for a connection or stream before the request reached the wire, ms.
    #[serde(default)]
    pub client_queue_ms: Dist,
    /// Requests per second that met every goodput objective (vLLM's goodput; None when no
    /// objective was given or nothing finished).
    #[serde(default)]
    pub goodput_req_per_s: Option<f64>,
    /// The share of requests that met every goodput objective (None when none was given).
    #[serde(default)]
    pub goodput_share: Option<f64>,
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
        let per_s = |n: u64| (c.success > 0 && t > 0.0).then(|| round4(n as f64 / t));
        Self {
            total: c.total,
            success: c.success,
            failed: c.failed,
            errors: c.errors.clone(),
            duration_s: round4(t),
            req_per_s: per_s(c.success),
            output_tok_per_s: per_s(c.completion_tokens),
            ttft_ms: dist(agg, Metric::Ttft, 1e3, c.sum_ttft_us as f64),
            ttfo_ms: dist(agg, Metric::Ttfo, 1e3, c.sum_ttfo_us as f64),
            itl_ms: dist(agg, Metric::Itl, 1e3, c.sum_itl_us as f64),
            tpot_ms: dist(agg, Metric::Tpot, 1e3, c.sum_tpot_ns as f64 / 1e3),
            latency_s: dist(agg, Metric::Latency, 1e6, c.sum_latency_us as f64),
            corrected_latency_s: dist(
                agg,
                Metric::CorrectedLatency,
                1e6,
                c.sum_corrected_latency_us as f64,
            ),
            send_lag_ms: dist(agg, Metric::SendLag, 1e3, c.sum_send_lag_us as f64),
            client_queue_ms: dist(agg, Metric::ClientQueue, 1e3, c.sum_client_queue_us as f64),
            goodput_req_per_s: (c.goodput_checked > 0 && t > 0.0)
                .then(|| round4(c.goodput_met as f64 / t)),
            goodput_share: (c.goodput_checked > 0)
                .then(|| round4(c.goodput_met as f64 / c.goodput_checked as f64)),
            input_tokens: dist(agg, Metric::InputTokens, 1.0, c.prompt_tokens as f64),
            output_tokens: dist(agg, Metric::OutputTokens, 1.0, c.completion_tokens as f64),
            reasoning_tokens: dist(agg, Metric::ReasoningTokens, 1.0, c.reasoning_tokens as f64),
            reasoning_tokens_total: c.reasoning_tokens,
            cached_tokens_total: c.cached_tokens,
            tokens_from_tokenizer: c.tokens_from_tokenizer,
            tokens_unknown: c.tokens_unknown,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::aggregate::HistSettings;
    use crate::metrics::record::{ErrorClass, RequestRecord, TokenSource};

    #[test]
    fn an_all_failed_stage_has_null_statistics() {
        let mut agg = StageAggregate::new(HistSettings::default()).expect("valid");
        agg.record(
            &RequestRecord {
                latency_us: 700,
                error: Some(ErrorClass::Http5xx),
                status: 500,
                ..Default::default()
            },
            0,
        );
        let s = RichSummary::of(&agg);
        assert_eq!((s.total, s.failed), (1, 1));
        assert_eq!((s.req_per_s, s.output_tok_per_s), (None, None));
        for d in [&s.latency_s, &s.ttft_ms, &s.tpot_ms, &s.output_tokens] {
            assert_eq!(d.count, 0);
            assert_eq!(
                (d.mean, d.min, d.p50, d.p99, d.max),
                (None, None, None, None, None)
            );
        }
        let json = serde_json::to_value(&s).expect("serializes");
        assert_eq!(json["latency_s"]["p99"], serde_json::Value::Null);
        assert_eq!(json["req_per_s"], serde_json::Value::Null);
        let back: RichSummary = serde_json::from_value(json).expect("reads back");
        assert_eq!(back, s);
    }

    #[test]
    fn a_stage_without_first_tokens_has_latencies_but_no_ttft() {
        let mut agg = StageAggregate::new(HistSettings::default()).expect("valid");
        agg.record(
            &RequestRecord {
                latency_us: 2_000_000,
                prompt_tokens: 5,
                completion_tokens: 8,
                token_source: TokenSource::Usage,
                status: 200,
                ..Default::default()
            },
            0,
        );
        let s = RichSummary::of(&agg);
        assert_eq!(s.ttft_ms.p99, None);
        assert_eq!(s.itl_ms.mean, None);
        assert_eq!(s.tpot_ms.count, 0, "TPOT needs a first token");
        assert_eq!(s.latency_s.count, 1);
        assert_eq!(s.latency_s.mean, Some(2.0));
        assert_eq!(s.output_tokens.max, Some(8.0));
        assert_eq!(s.req_per_s, Some(0.5));
        assert_eq!(s.output_tok_per_s, Some(4.0));
    }
}
