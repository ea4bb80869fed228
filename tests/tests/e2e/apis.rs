//! `coordinator perf --api openai_embedding | openai_rerank | openai_responses` end to end
//! against llm-sim: every dataset kind of those APIs, counts, input tokens equal to what the
//! simulator counted; no TTFT / TPOT / ITL (null) for embeddings and rerank, TTFT and output
//! tokens from the Responses API's typed events and usage.

use llm_sim::SimConfig;
use serde_json::Value;
use swarm_tests::run_dirs::{only_subdir, perf_cli};
use swarm_tests::schemas::{read_json, violations};
use swarm_tests::start_sim;

/// Runs one stage of `n` requests at concurrency 3 against a fresh simulator; returns the
/// summary, the simulator's truth (request count, prompt tokens) and the run's result.
async fn run_api(
    api: &str,
    url_path: &str,
    n: u64,
    args: &[&str],
) -> (Value, usize, u64, anyhow::Result<()>) {
    let mut cfg = SimConfig::instant();
    cfg.latency.ttft_ms = llm_sim::Dist::fixed(2.0);
    cfg.latency.ttft_per_prompt_token_us = 20.0;
    cfg.record_truth = true;
    let sim = start_sim(cfg).await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("out");
    let url = format!("{}{url_path}", sim.url());
    let number = n.to_string();
    let mut argv = vec![
        "--url",
        &url,
        "--api",
        api,
        "--parallel",
        "3",
        "--number",
        &number,
        "--outputs-dir",
        out.to_str().expect("utf8"),
        "--name",
        "apis",
    ];
    argv.extend_from_slice(args);
    let result = perf_cli(&argv).await;
    let truth = sim.truth.clone();
    sim.shutdown().await;
    let measured: Vec<_> = truth
        .ids()
        .into_iter()
        .filter(|id| !id.starts_with("probe-"))
        .collect();
    let tokens = measured
        .iter()
        .map(|id| truth.get(id).expect("entry").prompt_tokens)
        .sum();
    let run = only_subdir(&out);
    let stage = run.join(format!("perf/apis/parallel_3_number_{n}"));
    let summary = read_json(&stage.join("benchmark_summary.json"));
    (summary, measured.len(), tokens, result)
}

fn assert_non_generative(summary: &Value, n: u64, sim_requests: usize, sim_tokens: u64) {
    assert_eq!(
        violations("benchmark_summary.schema.json", summary),
        Vec::<String>::new()
    );
    assert_eq!(summary["Total Requests"], n, "{summary}");
    assert_eq!(summary["Success Requests"], n, "{summary}");
    assert_eq!(summary["Failed Requests"], 0);
    assert_eq!(sim_requests as u64, n);
    for key in ["Avg TTFT (ms)", "Avg TPOT (ms)", "Avg ITL (ms)"] {
        assert!(summary[key].is_null(), "{key} should be null: {summary}");
    }
    assert_eq!(summary["Avg Output Tokens"], 0.0);
    let avg_in = summary["Avg Input Tokens"].as_f64().expect("input tokens");
    assert!(sim_tokens > 0);
    assert!(
        (avg_in - sim_tokens as f64 / n as f64).abs() < 1e-3,
        "avg input {avg_in} vs the sim's {sim_tokens} / {n}"
    );
    let latency = summary["Avg Latency (s)"].as_f64().expect("latency");
    assert!(latency >= 0.002, "at least the sim's 2 ms: {latency}");
    assert!(summary["Req Throughput (req/s)"].as_f64().expect("rps") > 0.0);
    let input_tps = summary["Input Throughput (tok/s)"]
        .as_f64()
        .expect("input throughput");
    // EvalScope: all prompt tokens over the sum of latencies; "Avg Latency (s)" is rounded to
    // 4 decimals (±0.05 ms of a few ms)
    let expected = avg_in / latency;
    assert!(
        (input_tps - expected).abs() / expected < 0.05,
        "{input_tps} vs {expected}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_embedding_single_and_batch() {
    let (s, reqs, tokens, r) = run_api(
        "openai_embedding",
        "",
        9,
        &[
            "--dataset",
            "random_embedding",
            "--tokenizer-path",
            "cl100k_base",
            "--min-prompt-length",
            "8",
            "--max-prompt-length",
            "16",
        ],
    )
    .await;
    r.expect("random_embedding run");
    assert_non_generative(&s, 9, reqs, tokens);

    let (s, reqs, tokens, r) = run_api(
        "openai_embedding",
        "/v1",
        6,
        &[
            "--dataset",
            "random_embedding_batch",
            "--tokenizer-path",
            "cl100k_base",
            "--min-prompt-length",
            "4",
            "--max-prompt-length",
            "4",
            "--extra-args",
            r#"{"batch_size": 3, "dimensions": 8}"#,
        ],
    )
    .await;
    r.expect("random_embedding_batch run");
    assert_non_generative(&s, 6, reqs, tokens);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedding_files_single_and_batch() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = tmp.path().join("texts.jsonl");
    std::fs::write(
        &path,
        concat!(
            "{\"text\": \"the quick brown fox\"}\n",
            "\"jumps over the lazy dog\"\n",
            "{\"input\": \"one two\"}\n",
            "{\"sentence\": \"a b c d e f\"}\n",
            "{\"content\": \"hello world again\"}\n",
        ),
    )
    .expect("write");
    let p = path.to_str().expect("utf8");
    let (s, reqs, tokens, r) = run_api(
        "openai_embedding",
        "/v1/embeddings",
        5,
        &["--dataset", "embedding", "--dataset-path", p],
    )
    .await;
    r.expect("embedding run");
    assert_non_generative(&s, 5, reqs, tokens);
    // each text once: 4 + 5 + 2 + 6 + 3 words
    assert_eq!(tokens, 20);

    let (s, reqs, tokens, r) = run_api(
        "embedding",
        "",
        3,
        &[
            "--dataset",
            "embedding_batch",
            "--dataset-path",
            p,
            "--extra-args",
            r#"{"batch_size": 2}"#,
        ],
    )
    .await;
    r.expect("embedding_batch run");
    assert_non_generative(&s, 3, reqs, tokens);
    // batches [1,2], [3,4], [5]: every text once
    assert_eq!(tokens, 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rerank_random_and_file() {
    let (s, reqs, tokens, r) = run_api(
        "openai_rerank",
        "",
        6,
        &[
            "--dataset",
            "random_rerank",
            "--tokenizer-path",
            "cl100k_base",
            "--min-prompt-length",
            "4",
            "--max-prompt-length",
            "8",
            "--extra-args",
            r#"{"num_documents": 4, "document_length_ratio": 2, "top_n": 2}"#,
        ],
    )
    .await;
    r.expect("random_rerank run");
    assert_non_generative(&s, 6, reqs, tokens);

    let tmp = tempfile::tempdir().expect("tempdir");
    let path = tmp.path().join("pairs.jsonl");
    std::fs::write(
        &path,
        concat!(
            "{\"query\": \"what is rust\", \"documents\": [\"rust is a language\", \"iron oxide\"]}\n",
            "{\"query\": \"capital of france\", \"passages\": [\"paris\", \"berlin is in germany\", \"rome\"]}\n",
        ),
    )
    .expect("write");
    let (s, reqs, tokens, r) = run_api(
        "openai_rerank",
        "/v1/rerank",
        4,
        &[
            "--dataset",
            "rerank",
            "--dataset-path",
            path.to_str().expect("utf8"),
        ],
    )
    .await;
    r.expect("rerank run");
    assert_non_generative(&s, 4, reqs, tokens);
    // request j sends pair j mod 2: (3 + 4 + 2) and (3 + 1 + 4 + 1), twice each
    assert_eq!(tokens, 2 * 9 + 2 * 9);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_embedding_answers_are_failures() {
    let (s, _reqs, _tokens, r) = run_api(
        "openai_embedding",
        "",
        4,
        &[
            "--dataset",
            "random_embedding",
            "--tokenizer-path",
            "cl100k_base",
            "--min-prompt-length",
            "4",
            "--max-prompt-length",
            "4",
            "--headers",
            "x-sim-fault=malformed",
            "--no-test-connection",
        ],
    )
    .await;
    assert!(r.is_err(), "no request succeeded: the run fails");
    assert_eq!(s["Total Requests"], 4, "{s}");
    assert_eq!(s["Failed Requests"], 4, "{s}");
    assert!(s["Avg TTFT (ms)"].is_null());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn responses_api_streaming_and_not() {
    for stream in [true, false] {
        let mut args = vec![
            "--dataset",
            "random",
            "--tokenizer-path",
            "cl100k_base",
            "--min-prompt-length",
            "8",
            "--max-prompt-length",
            "16",
            "--max-tokens",
            "8",
        ];
        if stream {
            args.push("--stream");
        }
        // a base URL: `openai_responses` adds /v1/responses, as EvalScope does
        let (s, reqs, tokens, r) = run_api("openai_responses", "", 6, &args).await;
        r.expect("the run succeeds");
        assert_eq!(
            violations("benchmark_summary.schema.json", &s),
            Vec::<String>::new()
        );
        assert_eq!(s["Total Requests"], 6, "{s}");
        assert_eq!(s["Success Requests"], 6, "{s}");
        assert_eq!(reqs, 6, "every request reached the sim's /v1/responses");
        // token counts come from the `response.completed` usage: the sim's own counts
        let avg_in = s["Avg Input Tokens"].as_f64().expect("input tokens");
        assert!(
            (avg_in - tokens as f64 / 6.0).abs() < 1e-3,
            "avg input {avg_in} vs the sim's {tokens} / 6"
        );
        let out = s["Avg Output Tokens"].as_f64().expect("output tokens");
        assert!(out > 0.0 && out <= 8.0, "{s}");
        let ttft = s["Avg TTFT (ms)"].as_f64().expect("ttft");
        assert!(ttft >= 2.0, "at least the sim's 2 ms: {s}");
    }
}
