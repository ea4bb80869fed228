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
