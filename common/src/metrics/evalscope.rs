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

/// Rounds to 4 decimals, as EvalScope does.
pub fn round4(v: f64) -> f64 {
    if v.is_finite() {
        (v * 10_000.0).round() / 10_000.0
    } else {
        0.0
    }
}

fn ratio(num: f64, den: f64) -> f64 {
    if den > 0.0 { num / den } else { 0.0 }
}

/// The `benchmark_summary.json` object.
pub fn summary(agg: &StageAggregate, load: StageLoad) -> Map<String, Value> {
    let c = &agg.counters;
    let t = agg.duration_s();
    let ok = c.success as f64;
    let mut m = Map::new();
    let mut put = |k: &str, v: Value| {
        m.insert(k.to_string(), v);
    };
    let f = |v: f64| Value::from(round4(v));
    put("Test Duration (s)", f(t));
    put("Concurrency", Value::from(load.concurrency));
    put("Request Rate (req/s)", f(load.rate.unwrap_or(-1.0)));
    put("Total Requests", Value::from(c.total));
    put("Success Requests", Value::from(c.success));
    put("Failed Requests", Value::from(c.failed));
    put("Req Throughput (req/s)", f(ratio(ok, t)));
    put(
        "Avg Latency (s)",
        f(ratio(c.sum_latency_us as f64, ok) / 1e6),
    );
    put("Avg Input Tokens", f(ratio(c.prompt_tokens as f64, ok)));
    put(
        "Output Throughput (tok/s)",
        f(ratio(c.completion_tokens as f64, t)),
    );
    put(
        "Total Throughput (tok/s)",
        f(ratio((c.prompt_tokens + c.completion_tokens) as f64, t)),
    );
    put(
        "Avg TTFT (ms)",
        f(ratio(c.sum_ttft_us as f64, c.n_ttft as f64) / 1e3),
    );
    put("Avg TPOT (ms)", f(ratio(c.sum_tpot_ns as f64, ok) / 1e6));
    put(
        "Avg ITL (ms)",
        f(ratio(c.sum_itl_us as f64, c.n_itl as f64) / 1e3),
    );
    put(
        "Avg Output Tokens",
        f(ratio(c.completion_tokens as f64, ok)),
    );
    m
}

/// The `benchmark_percentile.json` rows: one object per percentile, keyed like EvalScope.
pub fn percentiles(agg: &StageAggregate) -> Vec<Map<String, Value>> {
    PERCENTILE_ROWS
        .iter()
        .map(|(label, p)| {
            let mut row = Map::new();
            row.insert("Percentiles".into(), Value::from(*label));
            for (key, metric, div) in PERCENTILE_COLUMNS {
                let v = agg.hist(metric).percentile(*p) as f64 / div;
                row.insert(key.into(), Value::from(round4(v)));
            }
            row
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::aggregate::HistSettings;
    use crate::metrics::record::{RequestRecord, TokenSource};

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

    #[test]
    fn empty_stage_has_zeros_not_nans() {
        let agg = StageAggregate::new(HistSettings::default()).expect("valid");
        let s = summary(
            &agg,
            StageLoad {
                concurrency: 1,
                rate: Some(5.0),
            },
        );
        assert_eq!(s["Req Throughput (req/s)"], 0.0);
        assert_eq!(s["Avg TTFT (ms)"], 0.0);
        assert_eq!(s["Request Rate (req/s)"], 5.0);
    }
}
