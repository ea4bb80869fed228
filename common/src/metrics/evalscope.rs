//! EvalScope 1.14's `benchmark_summary.json` and `benchmark_percentile.json`, same keys, same
//! order, computed from a (merged) [`StageAggregate`].

use serde_json::{Map, Value};

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

/// A metric value rounded to 4 decimals; no data (None, or a non-finite result) is JSON null.
fn metric(v: Option<f64>) -> Value {
    match v {
        Some(v) if v.is_finite() => Value::from(round4(v)),
        _ => Value::Null,
    }
}

/// Whether `m` has data in `agg`: its histogram holds a value and, for TPOT and decode speed
/// (which need a first token), some request had a TTFT; without one they hold only the 0
/// placeholders of [`RequestRecord::tpot_us`](super::record::RequestRecord::tpot_us).
pub fn has_data(agg: &StageAggregate, m: Metric) -> bool {
    let needs_ttft = matches!(m, Metric::Tpot | Metric::DecodeTps);
    !agg.hist(m).is_empty() && (!needs_ttft || agg.counters.n_ttft > 0)
}

/// The `benchmark_summary.json` object. Counts, "Concurrency", "Request Rate (req/s)" and
/// "Test Duration (s)" are always numbers; a metric with no data is null: averages and
/// throughputs of a stage without a successful request, ITL when no answer came in two pieces
/// or more (not streamed), TTFT and TPOT when no request had a first token.
pub fn summary(agg: &StageAggregate, load: StageLoad) -> Map<String, Value> {
    let c = &agg.counters;
    let t = agg.duration_s();
    let ok = c.success as f64;
    // throughputs need a success and a window to divide by
    let per_s = |n: f64| if c.success > 0 { ratio(n, t) } else { None };
    let mut m = Map::new();
    let mut put = |k: &str, v: Value| {
        m.insert(k.to_string(), v);
    };
    put("Test Duration (s)", Value::from(round4(t)));
    put("Concurrency", Value::from(load.concurrency));
    put(
        "Request Rate (req/s)",
        Value::from(round4(load.rate.unwrap_or(-1.0))),
    );
    put("Total Requests", Value::from(c.total));
    put("Success Requests", Value::from(c.success));
    put("Failed Requests", Value::from(c.failed));
    put("Req Throughput (req/s)", metric(per_s(ok)));
    put(
        "Avg Latency (s)",
        metric(ratio(c.sum_latency_us as f64, ok).map(|v| v / 1e6)),
    );
    put(
        "Avg Input Tokens",
        metric(ratio(c.prompt_tokens as f64, ok)),
    );
    put(
        "Output Throughput (tok/s)",
        metric(per_s(c.completion_tokens as f64)),
    );
    put(
        "Total Throughput (tok/s)",
        metric(per_s((c.prompt_tokens + c.completion_tokens) as f64)),
    );
    put(
        "Avg TTFT (ms)",
        metric(ratio(c.sum_ttft_us as f64, c.n_ttft as f64).map(|v| v / 1e3)),
    );
    // EvalScope averages TPOT over every success; without any TTFT all of them are placeholders
    let tpot = ratio(c.sum_tpot_ns as f64, ok).filter(|_| c.n_ttft > 0);
    put("Avg TPOT (ms)", metric(tpot.map(|v| v / 1e6)));
    put(
        "Avg ITL (ms)",
        metric(ratio(c.sum_itl_us as f64, c.n_itl as f64).map(|v| v / 1e3)),
    );
    put(
        "Avg Output Tokens",
        metric(ratio(c.completion_tokens as f64, ok)),
    );
    m
}

/// The `benchmark_percentile.json` rows: one object per percentile, keyed like EvalScope. A
/// column without data ([`has_data`]: every column without a successful request, ITL without
/// streaming, TTFT, TPOT and decode speed without a first token) is null in every row.
pub fn percentiles(agg: &StageAggregate) -> Vec<Map<String, Value>> {
    PERCENTILE_ROWS
        .iter()
        .map(|(label, p)| {
            let mut row = Map::new();
            row.insert("Percentiles".into(), Value::from(*label));
            for (key, m, div) in PERCENTILE_COLUMNS {
                let v = has_data(agg, m).then(|| agg.hist(m).percentile(*p) as f64 / div);
                row.insert(key.into(), metric(v));
            }
            row
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
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
    fn round4_keeps_non_finite_values_for_the_caller() {
        assert_eq!(round4(1.23456), 1.2346);
        assert!(round4(f64::NAN).is_nan());
        assert_eq!(metric(Some(f64::INFINITY)), Value::Null);
        assert_eq!(metric(Some(0.0)), 0.0);
    }
}
