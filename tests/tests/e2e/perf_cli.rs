//! `coordinator perf` end to end against llm-sim with faults: every file is written, matches its
//! schema, and agrees with the per-request records.

use std::path::{Path, PathBuf};

use clap::Parser;
use llm_sim::SimConfig;
use rusqlite::Connection;
use swarm_coordinator::cli::Cli;
use swarm_tests::run_dirs::{only_stage, only_subdir, perf_cli};
use swarm_tests::schemas::{read_json, violations};
use swarm_tests::start_sim;

fn write_lines(dir: &Path, lines: &[&str]) -> PathBuf {
    let p = dir.join("prompts.txt");
    std::fs::write(&p, lines.join("\n")).expect("write dataset");
    p
}

fn nearest_rank(sorted: &[f64], p: f64) -> (f64, f64) {
    // EvalScope's nearest rank is sorted[int(n*p/100)]; HdrHistogram ranks by ceil(n*p/100).
    let n = sorted.len();
    let i = ((n as f64 * p / 100.0) as usize).min(n - 1);
    (sorted[i.saturating_sub(1)], sorted[(i + 1).min(n - 1)])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sweep_with_faults_writes_everything_it_measured() {
    let mut cfg = SimConfig::instant();
    cfg.latency.ttft_ms = llm_sim::Dist::fixed(5.0);
    cfg.latency.itl_ms = llm_sim::Dist::fixed(1.0);
    cfg.faults.rate_500 = 0.1;
    cfg.faults.reset = 0.05;
    cfg.faults.truncate = 0.05;
    cfg.seed = 11;
    let sim = start_sim(cfg).await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = write_lines(
        tmp.path(),
        &[
            "what is rust",
            "explain tcp slow start",
            "why is the sky blue",
        ],
    );
    let out = tmp.path().join("out");
    let url = format!("{}/v1/chat/completions", sim.url());
    perf_cli(&[
        "--url",
        &url,
        "--parallel",
        "2",
        "6",
        "--number",
        "30",
        "60",
        "--max-tokens",
        "12",
        "--dataset",
        "line_by_line",
        "--dataset-path",
        data.to_str().expect("utf8"),
        "--outputs-dir",
        out.to_str().expect("utf8"),
        "--name",
        "faulty",
    ])
    .await
    .expect("run completes despite faults");
    sim.shutdown().await;

    let run = only_subdir(&out);
    assert!(
        run.file_name()
            .and_then(|f| f.to_str())
            .is_some_and(|f| f.ends_with("_faulty"))
    );
    let job = run.join("perf/faulty");
    assert!(job.join("benchmark_args.json").exists());
    for (stage, n) in [("parallel_2_number_30", 30), ("parallel_6_number_60", 60)] {
        let dir = job.join(stage);
        let summary = read_json(&dir.join("benchmark_summary.json"));
        let pct = read_json(&dir.join("benchmark_percentile.json"));
        let rich = read_json(&dir.join("summary.json"));
        assert_eq!(
            violations("benchmark_summary.schema.json", &summary),
            Vec::<String>::new()
        );
        assert_eq!(
            violations("benchmark_percentile.schema.json", &pct),
            Vec::<String>::new()
        );
        assert_eq!(
            violations("summary.schema.json", &rich),
            Vec::<String>::new()
        );

        assert_eq!(summary["Total Requests"], n);
        let failed = summary["Failed Requests"].as_u64().expect("int");
        let ok = summary["Success Requests"].as_u64().expect("int");
        assert_eq!(ok + failed, n);
        assert!(
            failed > 0 && ok > 0,
            "faults at 20% should fail some of {n}: {failed}"
        );

        let db = Connection::open(dir.join("requests.sqlite")).expect("sqlite");
        let rows: i64 = db
            .query_row("SELECT count(*) FROM requests", [], |r| r.get(0))
            .expect("count");
        let errors: i64 = db
            .query_row("SELECT count(error) FROM requests", [], |r| r.get(0))
            .expect("count");
        assert_eq!((rows as u64, errors as u64), (n, failed));
        let by_class: u64 = rich["errors"]
            .as_object()
            .expect("errors")
            .values()
            .map(|v| v.as_u64().unwrap_or(0))
            .sum();
        assert_eq!(by_class, failed);
        assert!(
            rich["errors"].get("http_5xx").is_some(),
            "{}",
            rich["errors"]
        );

        let mut lat: Vec<f64> = db
            .prepare("SELECT latency_us FROM requests WHERE error IS NULL")
            .expect("prepare")
            .query_map([], |r| r.get::<_, i64>(0))
            .expect("query")
            .map(|v| v.expect("row") as f64 / 1e6)
            .collect();
        lat.sort_by(f64::total_cmp);
        let mean = lat.iter().sum::<f64>() / lat.len() as f64;
        let avg = summary["Avg Latency (s)"].as_f64().expect("num");
        assert!(
            (avg - mean).abs() < 1e-4,
            "avg latency {avg} vs records {mean}"
        );
        for row in pct.as_array().expect("rows") {
            let label = row["Percentiles"].as_str().expect("label");
            let p = match label {
                "min" => 0.0,
                "max" => 100.0,
                l => l.trim_end_matches('%').parse().expect("pct"),
            };
            let got = row["Latency (s)"].as_f64().expect("num");
            let (lo, hi) = if p == 0.0 {
                (lat[0], lat[0])
            } else if p == 100.0 {
                (lat[lat.len() - 1], lat[lat.len() - 1])
            } else {
                nearest_rank(&lat, p)
            };
            assert!(
                got >= lo * 0.999 - 1e-4 && got <= hi * 1.001 + 1e-4,
                "{label}: {got} not in [{lo}, {hi}]"
            );
        }
    }
}

#[tokio::test]
async fn bad_flags_give_clear_errors() {
    let cases: [(&[&str], &str); 6] = [
        (
            &[
                "--url",
                "http://127.0.0.1:9/v1",
                "--parallel",
                "1",
                "2",
                "--number",
                "1",
                "2",
                "3",
            ],
            "sweep lists differ in length: --parallel has 2 values, --number has 3 values",
        ),
        (
            &[
                "--url",
                "http://127.0.0.1:9/v1",
                "--number",
                "5",
                "--extra-args",
                "{bad",
            ],
            "--extra-args is not valid JSON",
        ),
        (
            &[
                "--url",
                "http://127.0.0.1:9/v1",
                "--number",
                "5",
                "--api",
                "claude",
            ],
            "--api \"claude\" is not supported",
        ),
        (
            &["--url", "http://127.0.0.1:9/v1", "--parallel", "4"],
            "give --number or --duration",
        ),
        (
            &[
                "--url",
                "http://127.0.0.1:9/v1",
                "--number",
                "5",
                "--rate",
                "0",
            ],
            "--rate must be a positive number",
        ),
        (
            &[
                "--url",
                "http://127.0.0.1:9/v1",
                "--number",
                "5",
                "--dataset",
                "wiki",
            ],
            "wiki",
        ),
    ];
    for (args, want) in cases {
        let err = perf_cli(args).await.expect_err("must fail");
        let msg = format!("{err:#}");
        assert!(msg.contains(want), "args {args:?}: {msg}");
    }
    let err = Cli::try_parse_from(["coordinator", "perf", "--url", "x", "--parallel", "many"])
        .expect_err("not a number");
    assert!(err.to_string().contains("many"), "{err}");
}

#[tokio::test]
async fn bad_dataset_lines_are_named_and_policy_applies() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("qa.jsonl");
    std::fs::write(
        &data,
        "{\"question\": \"fine\"}\n{\"question\": 3}\nnot json\n",
    )
    .expect("write");
    let path = data.to_str().expect("utf8");
    let out = tmp.path().join("out");
    let err = perf_cli(&[
        "--url",
        "http://127.0.0.1:9/v1",
        // the first two records are read (EvalScope reads what --number needs, no more)
        "--number",
        "2",
        "--dataset",
        "openqa",
        "--dataset-path",
        path,
        "--on-bad-line",
        "fail",
        "--outputs-dir",
        out.to_str().expect("utf8"),
    ])
    .await
    .expect_err("fails on line 2");
    let msg = format!("{err:#}");
    assert!(
        msg.contains("qa.jsonl:2") && msg.contains("question"),
        "{msg}"
    );
}

fn schema_clean(dir: &Path) -> (serde_json::Value, serde_json::Value, serde_json::Value) {
    let summary = read_json(&dir.join("benchmark_summary.json"));
    let pct = read_json(&dir.join("benchmark_percentile.json"));
    let rich = read_json(&dir.join("summary.json"));
    for (schema, v) in [
        ("benchmark_summary.schema.json", &summary),
        ("benchmark_percentile.schema.json", &pct),
        ("summary.schema.json", &rich),
    ] {
        assert_eq!(violations(schema, v), Vec::<String>::new(), "{schema}: {v}");
    }
    (summary, pct, rich)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stage_without_successes_writes_nulls_and_shows_no_data() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = write_lines(tmp.path(), &["a", "b", "c"]);
    let out = tmp.path().join("out");
    // nothing listens on port 1: every request fails to connect (the run may report an error)
    let _ = perf_cli(&[
        "--url",
        "http://127.0.0.1:1/v1/chat/completions",
        "--number",
        "6",
        "--parallel",
        "2",
        "--no-test-connection",
        "--dataset",
        "line_by_line",
        "--dataset-path",
        data.to_str().expect("utf8"),
        "--outputs-dir",
        out.to_str().expect("utf8"),
    ])
    .await;
    let dir = only_stage(&out);
    let (summary, pct, rich) = schema_clean(&dir);
    assert_eq!(summary["Total Requests"], 6);
    assert_eq!(summary["Failed Requests"], 6);
    assert_eq!(summary["Success Requests"], 0);
    assert_eq!(summary["Concurrency"], 2);
    for key in [
        "Req Throughput (req/s)",
        "Avg Latency (s)",
        "Avg Input Tokens",
        "Output Throughput (tok/s)",
        "Total Throughput (tok/s)",
        "Avg TTFT (ms)",
        "Avg TPOT (ms)",
        "Avg ITL (ms)",
        "Avg Output Tokens",
    ] {
        assert!(summary[key].is_null(), "{key}: {}", summary[key]);
    }
    let rows = pct.as_array().expect("rows");
    assert_eq!(rows.len(), 11);
    for row in rows {
        let cells = row.as_object().expect("row");
        assert_eq!(cells.len(), 10, "every EvalScope column kept");
        assert!(
            cells.iter().all(|(k, v)| k == "Percentiles" || v.is_null()),
            "{row}"
        );
    }
    assert!(rich["latency_s"]["p99"].is_null(), "{}", rich["latency_s"]);
    assert_eq!(rich["latency_s"]["count"], 0);
    assert!(rich["req_per_s"].is_null());

    let html = std::fs::read_to_string(only_subdir(&out).join("report.html")).expect("report");
    for card in ["Req/s", "Avg latency (s)", "Avg TTFT (ms)", "P99 TTFT (ms)"] {
        assert!(
            html.contains(&format!(
                "<div class=\"v\">–</div><div class=\"k\">{card}</div>"
            )),
            "card {card}"
        );
    }
    assert!(
        !html.contains("0.0000"),
        "no fabricated zeros in report.html"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_streaming_stage_has_latencies_but_no_itl() {
    let sim = start_sim(SimConfig::instant()).await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = write_lines(tmp.path(), &["what is rust", "why is the sky blue"]);
    let out = tmp.path().join("out");
    let url = format!("{}/v1/chat/completions", sim.url());
    perf_cli(&[
        "--url",
        &url,
        "--number",
        "8",
        "--parallel",
        "2",
        "--no-stream",
        "--max-tokens",
        "6",
        "--dataset",
        "line_by_line",
        "--dataset-path",
        data.to_str().expect("utf8"),
        "--outputs-dir",
        out.to_str().expect("utf8"),
    ])
    .await
    .expect("run completes");
    sim.shutdown().await;
    let dir = only_stage(&out);
    let (summary, pct, rich) = schema_clean(&dir);
    assert_eq!(summary["Success Requests"], 8);
    // a whole answer arrives as one piece: no gaps between tokens, so no ITL; its first token
    // (TTFT) is the answer's arrival, as EvalScope counts it
    assert!(
        summary["Avg ITL (ms)"].is_null(),
        "{}",
        summary["Avg ITL (ms)"]
    );
    for key in [
        "Avg TTFT (ms)",
        "Avg Latency (s)",
        "Req Throughput (req/s)",
        "Avg Output Tokens",
    ] {
        assert!(
            summary[key].as_f64().is_some_and(|v| v > 0.0),
            "{key}: {}",
            summary[key]
        );
    }
    for row in pct.as_array().expect("rows") {
        assert!(row["ITL (ms)"].is_null(), "{row}");
        assert!(
            row["Latency (s)"].is_number() && row["TTFT (ms)"].is_number(),
            "{row}"
        );
    }
    assert!(rich["itl_ms"]["p99"].is_null());
    assert_eq!(rich["itl_ms"]["count"], 0);
    assert!(rich["latency_s"]["p99"].as_f64().is_some());
}

/// vLLM's goodput: `--goodput` objectives give each stage the requests per second that met all
/// of them, in summary.json and the report; without objectives there is no goodput (null).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn goodput_counts_the_requests_that_met_every_objective() {
    let mut cfg = SimConfig::instant();
    cfg.latency.ttft_ms = llm_sim::Dist::fixed(30.0);
    cfg.latency.itl_ms = llm_sim::Dist::fixed(1.0);
    let sim = start_sim(cfg).await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = write_lines(tmp.path(), &["a question", "another question"]);
    let url = format!("{}/v1/chat/completions", sim.url());
    let run = |out: &str, goodput: &'static [&'static str]| {
        let out = tmp.path().join(out);
        let url = url.clone();
        let data = data.clone();
        async move {
            let mut args = vec![
                "--url".to_string(),
                url,
                "--dataset".into(),
                "line_by_line".into(),
                "--dataset-path".into(),
                data.to_str().expect("utf8").into(),
                "--number".into(),
                "10".into(),
                "--parallel".into(),
                "2".into(),
                "--max-tokens".into(),
                "4".into(),
                "--stream".into(),
                "--outputs-dir".into(),
                out.to_str().expect("utf8").into(),
            ];
            if !goodput.is_empty() {
                args.push("--goodput".into());
                args.extend(goodput.iter().map(|s| s.to_string()));
            }
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            perf_cli(&refs).await.expect("run completes");
            read_json(&only_stage(&out).join("summary.json"))
        }
    };
    let strict = run("strict", &["ttft:10"]).await;
    assert_eq!(
        strict["goodput_share"], 0.0,
        "30 ms TTFT misses 10 ms: {strict}"
    );
    assert_eq!(strict["goodput_req_per_s"], 0.0);
    let loose = run("loose", &["ttft:5000", "tpot:1000", "e2el:60000"]).await;
    assert_eq!(loose["goodput_share"], 1.0, "{loose}");
    assert_eq!(
        loose["goodput_req_per_s"], loose["req_per_s"],
        "every request counts"
    );
    let none = run("none", &[]).await;
    assert!(
        none["goodput_share"].is_null(),
        "no objectives, no goodput: {none}"
    );
    sim.shutdown().await;
}
