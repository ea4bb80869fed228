//! `coordinator perf --dataset speed_benchmark` against llm-sim: the chat URL is turned into
//! `/v1/completions`, and the stage's `speed_benchmark.json` groups the requests by the prompt
//! tokens the server reported, with EvalScope's speed (mean of completion tokens / latency).

use clap::Parser;
use llm_sim::SimConfig;
use rusqlite::Connection;
use swarm_coordinator::cli::Cli;
use swarm_tests::run_dirs::only_subdir;
use swarm_tests::start_sim;
use tokio_util::sync::CancellationToken;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn speed_benchmark_groups_by_prompt_tokens() {
    let mut cfg = SimConfig::instant();
    cfg.latency.ttft_ms = llm_sim::Dist::fixed(3.0);
    cfg.latency.itl_ms = llm_sim::Dist::fixed(1.0);
    let sim = start_sim(cfg).await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("out");
    // a chat URL, as users often give: rewritten to /v1/completions as EvalScope does
    let url = format!("{}/v1/chat/completions", sim.url());
    let argv = [
        "coordinator",
        "perf",
        "--url",
        &url,
        "--parallel",
        "1",
        "--number",
        "8",
        "--max-tokens",
        "16",
        "--dataset",
        "speed_benchmark",
        "--outputs-dir",
        out.to_str().expect("utf8"),
        "--name",
        "speed",
    ];
    let cli = Cli::try_parse_from(argv).expect("flags parse");
    swarm_coordinator::run(cli, CancellationToken::new())
        .await
        .expect("run completes");
    sim.shutdown().await;

    let run = only_subdir(&out);
    let dir = run.join("perf/speed/parallel_1_number_8");
    let rows = swarm_coordinator::run_store::speed_benchmark::read(&dir)
        .expect("speed_benchmark.json parses")
        .expect("speed_benchmark.json written");
    // llm-sim counts each '熵' as a token: EvalScope's four lengths, in increasing order
    let tokens: Vec<u64> = rows.iter().map(|r| r.prompt_tokens).collect();
    assert_eq!(tokens, [1, 6144, 14336, 30720]);
    assert!(rows.iter().all(|r| r.gpu_memory_gb.is_none()));
    let raw: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("speed_benchmark.json")).expect("read"),
    )
    .expect("json");
    assert_eq!(raw[0]["GPU Memory(GB)"], serde_json::Value::Null);
    assert_eq!(raw[3]["Prompt Tokens"], 30720);

    // EvalScope's query over the stage's records (latency in seconds, a float division)
    let db = Connection::open(dir.join("requests.sqlite")).expect("sqlite");
    let mut stmt = db
        .prepare(
            "SELECT prompt_tokens, ROUND(AVG(completion_tokens / (latency_us / 1000000.0)), 2), \
             count(*) FROM requests WHERE error IS NULL AND latency_us > 0 \
             GROUP BY prompt_tokens ORDER BY prompt_tokens",
        )
        .expect("prepare");
    let want: Vec<(i64, f64, i64)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("query")
        .map(|r| r.expect("row"))
        .collect();
    assert_eq!(want.len(), 4);
    for (row, (tokens, speed, n)) in rows.iter().zip(&want) {
        assert_eq!(row.prompt_tokens as i64, *tokens);
        assert_eq!(*n, 2, "each length is sent twice");
        assert!(
            (row.speed - speed).abs() < 1e-9,
            "{tokens}: {} vs {speed}",
            row.speed
        );
        assert!(row.speed > 0.0);
    }
    let report = swarm_coordinator::report::html::write_report(&run).expect("report");
    let html = std::fs::read_to_string(report).expect("report.html");
    let at = html
        .find("<table class=\"speed-benchmark\"")
        .expect("the report shows the speed table");
    let table = &html[at..];
    let table = &table[..table.find("</table>").expect("closed")];
    assert!(table.contains(">30720<"), "{table}");
    assert!(table.contains("–"), "GPU memory shows no data: {table}");
}
