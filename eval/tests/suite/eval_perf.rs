//! The eval perf summary equals EvalScope 1.14.1's own (`PerfCollector.get_summary` and the perf
//! table's cells), exactly after rounding: `fixtures/eval/perf/reference.json`, written by
//! `make_reference.py` there; and the summaries in EvalScope's own reports (`evalscope_viz`)
//! equal ours over the per-request `perf_metrics` of their predictions.

use std::path::Path;

use serde_json::Value;
use swarm_eval::perf::{RequestPerf, perf_row, summarize};

fn reference() -> Value {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/eval/perf/reference.json");
    let text = std::fs::read_to_string(&path).expect("reference.json");
    serde_json::from_str(&text).expect("reference.json is JSON")
}

fn requests(case: &Value) -> Vec<RequestPerf> {
    case["requests"]
        .as_array()
        .expect("requests")
        .iter()
        .map(|r| RequestPerf {
            latency: r[0].as_u64().expect("latency_us") as f64 / 1e6,
            ttft: r[1].as_u64().map(|t| t as f64 / 1e6),
            input_tokens: r[2].as_u64().expect("input_tokens"),
            output_tokens: r[3].as_u64().expect("output_tokens"),
        })
        .collect()
}

#[test]
fn summaries_equal_evalscope_perf_collector() {
    let reference = reference();
    let cases = reference["cases"].as_array().expect("cases");
    assert!(cases.len() >= 5);
    for case in cases {
        let name = case["name"].as_str().expect("name");
        let ours = summarize(&requests(case)).expect("a summary");
        let ours = serde_json::to_value(&ours).expect("serializes");
        // same keys in the same order, same values
        assert_eq!(ours.to_string(), case["summary"].to_string(), "case {name}");
        let cells: Vec<String> = perf_row("m", "d", &serde_json::from_value(ours).expect("reads"))
            .into_iter()
            .skip(2)
            .collect();
        let expected: Vec<String> =
            serde_json::from_value(case["perf_table_cells"].clone()).expect("cells");
        assert_eq!(cells, expected, "case {name}: perf table cells");
    }
}

#[test]
fn evalscope_summaries_read_back() {
    let reference = reference();
    for case in reference["cases"].as_array().expect("cases") {
        let s: swarm_eval::perf::EvalPerfSummary =
            serde_json::from_value(case["summary"].clone()).expect("reads");
        assert_eq!(
            serde_json::to_value(&s).expect("serializes"),
            case["summary"]
        );
    }
}

/// Every request's `perf_metrics` in an EvalScope predictions file.
fn evalscope_requests(file: &Path) -> Vec<RequestPerf> {
    let text = std::fs::read_to_string(file).expect("predictions");
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .filter_map(|l| {
            let v: Value = serde_json::from_str(l).expect("a JSON line");
            let p = v["model_output"]["choices"][0]["message"]["perf_metrics"].clone();
            (!p.is_null()).then(|| serde_json::from_value(p).expect("PerformanceMetrics"))
        })
        .collect()
}

#[test]
fn summaries_of_evalscope_runs_equal_their_reports() {
    let viz = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/eval/evalscope_viz");
    let mut checked = 0;
    for model in ["qwen-plus", "qwen3-max"] {
        let dir = viz.join(model);
        for (bench, subsets) in [
            ("gsm8k", &["main"][..]),
            ("iquiz", &["IQ", "EQ"][..]),
            ("ifeval", &["default"][..]),
        ] {
            let report: Value = serde_json::from_str(
                &std::fs::read_to_string(dir.join(format!("reports/{bench}.json")))
                    .expect("report"),
            )
            .expect("JSON");
            let Some(theirs) = report["perf_metrics"].get("summary") else {
                continue;
            };
            // in file order (EvalScope records in completion order: sums may differ in the last
            // bit, which the rounding to 6 decimals does not show here)
            let requests: Vec<RequestPerf> = subsets
                .iter()
                .flat_map(|s| {
                    evalscope_requests(&dir.join(format!("predictions/{bench}_{s}.jsonl")))
                })
                .collect();
            let ours =
                serde_json::to_value(summarize(&requests).expect("requests")).expect("serializes");
            assert_eq!(&ours, theirs, "{model} {bench}");
            checked += 1;
        }
    }
    // qwen-plus's gsm8k report was written before EvalScope kept perf metrics
    assert_eq!(checked, 5, "EvalScope reports with a perf summary");
}
