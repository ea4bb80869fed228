//! `coordinator eval` prints EvalScope 1.14's perf tables (per benchmark and overall) and writes
//! the summary into the report JSON's `perf_metrics`, with TTFT / TPOT only when streamed.

use std::path::Path;

use swarm_tests::schemas::read_json;
use swarm_tests::{eval_fixture as fixture, start_sim};

fn lines(p: &Path) -> usize {
    std::fs::read_to_string(p)
        .map(|s| s.lines().filter(|l| !l.trim().is_empty()).count())
        .unwrap_or(0)
}

/// Runs the `coordinator` binary's eval against `url` into `dir`, returning its output.
fn eval_process(dir: &Path, url: &str, extra: &[&str]) -> std::process::Output {
    let dargs =
        serde_json::json!({"gsm8k": {"local_path": fixture("gsm8k/test.jsonl")}}).to_string();
    let mut cmd = std::process::Command::new(swarm_tests::workspace_bin("coordinator"));
    cmd.current_dir(dir)
        .args(["eval", "--model", "sim-model", "--api-url", url])
        .args(["--datasets", "gsm8k", "--dataset-args", &dargs])
        .args(["--limit", "5", "--repeats", "2", "--outputs-dir", "out"])
        .args(["--generation-config", r#"{"max_tokens": 8}"#])
        .args(extra)
        .stdin(std::process::Stdio::null());
    tokio::task::block_in_place(|| cmd.output()).expect("coordinator runs")
}

/// The one run folder under `dir/out`.
fn only_run(dir: &Path) -> std::path::PathBuf {
    std::fs::read_dir(dir.join("out"))
        .expect("out")
        .next()
        .expect("a run")
        .expect("entry")
        .path()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_eval_prints_and_reports_evalscope_perf_summary() {
    let mut cfg = llm_sim::SimConfig::instant();
    cfg.latency.ttft_ms = llm_sim::Dist::fixed(30.0);
    cfg.latency.itl_ms = llm_sim::Dist::fixed(2.0);
    let sim = start_sim(cfg).await;
    let url = format!("{}/v1/chat/completions", sim.url());
    for streamed in [true, false] {
        let tmp = tempfile::tempdir().expect("tempdir");
        let extra: &[&str] = if streamed { &["--stream"] } else { &[] };
        let o = eval_process(tmp.path(), &url, extra);
        let stdout = String::from_utf8_lossy(&o.stdout);
        assert!(
            o.status.success(),
            "{stdout}\n{}",
            String::from_utf8_lossy(&o.stderr)
        );
        // EvalScope's per-benchmark and overall perf tables, with its columns
        for needle in [
            "gsm8k perf table:",
            "Overall perf table:",
            "Avg TTFT",
            "Avg Thpt",
        ] {
            assert!(stdout.contains(needle), "{needle:?} in {stdout}");
        }
        let run = only_run(tmp.path());
        let root = run.join("eval/eval");
        let predictions = lines(&root.join("predictions/sim-model/gsm8k_main.jsonl"));
        assert_eq!(predictions, 10, "5 samples × 2 repeats");
        let report = read_json(&root.join("reports/sim-model/gsm8k.json"));
        let perf = &report["perf_metrics"];
        let summary = &perf["summary"];
        assert_eq!(
            summary["n_samples"].as_u64(),
            Some(predictions as u64),
            "{perf}"
        );
        assert_eq!(
            perf["coverage"],
            serde_json::json!({"requests_with_metrics": 10, "total_requests": 10})
        );
        // the table's row: model, dataset, the count of requests summarized
        let row = stdout
            .lines()
            .find(|l| l.contains("sim-model") && l.contains("GSM8K"))
            .expect("a perf row");
        let cells: Vec<&str> = row.split(['│', '┆']).map(str::trim).collect();
        assert_eq!(cells.get(3), Some(&"10"), "{row}");
        let latency = summary["latency"]["mean"].as_f64().expect("latency");
        assert!(latency >= 0.03, "{latency}");
        for key in ["25%", "50%", "75%", "90%", "99%", "std"] {
            assert!(summary["latency"][key].is_number(), "{key}: {summary}");
        }
        assert!(summary["usage"]["total_tokens_count"].as_u64() > Some(0));
        if streamed {
            // TTFT: the first chunk with text, after the simulator's 30 ms
            let ttft = summary["ttft"]["mean"]
                .as_f64()
                .expect("a TTFT when streamed");
            assert!((0.03..latency).contains(&ttft), "{ttft} vs {latency}");
            assert!(summary["tpot"]["mean"].as_f64().is_some(), "{summary}");
            assert!(cells.get(5).is_some_and(|c| c.ends_with(" ms")), "{row}");
        } else {
            // as EvalScope: no TTFT / TPOT without streaming
            assert!(summary.get("ttft").is_none() && summary.get("tpot").is_none());
            assert_eq!(cells.get(5), Some(&"—"), "{row}");
        }
    }
    sim.shutdown().await;
}
