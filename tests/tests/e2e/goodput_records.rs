//! Goodput as the stage reports it (counted on two agents, merged over the wire) equals goodput
//! recomputed from the stage's own per-request records (`requests.sqlite`), request for
//! request, on a mix where some requests meet the objectives and some do not.

use std::path::Path;

use clap::Parser;
use llm_sim::{Dist, SimConfig};
use rusqlite::Connection;
use swarm_common::goodput::Goodput;
use swarm_common::metrics::record::{RequestRecord, TokenSource};
use swarm_coordinator::cli::Cli;
use swarm_tests::run_dirs::only_subdir;
use swarm_tests::schemas::read_json;
use swarm_tests::start_sim;
use tokio_util::sync::CancellationToken;

/// The stage's requests as records: what `Goodput::met` needs of each.
fn records(db: &Path) -> Vec<RequestRecord> {
    let db = Connection::open(db).expect("sqlite");
    let mut q = db
        .prepare("SELECT ttft_us, latency_us, completion_tokens, status, error FROM requests")
        .expect("query");
    q.query_map([], |row| {
        let error: Option<String> = row.get(4)?;
        Ok(RequestRecord {
            id: 0,
            scheduled_us: None,
            sent_us: 0,
            queue_us: None,
            ttft_us: row.get::<_, Option<i64>>(0)?.map(|v| v as u64),
            ttfo_us: None,
            latency_us: row.get::<_, i64>(1)? as u64,
            chunk_us: Vec::new(),
            prompt_tokens: 0,
            completion_tokens: row.get::<_, i64>(2)? as u32,
            reasoning_tokens: 0,
            cached_tokens: 0,
            token_source: TokenSource::Usage,
            status: row.get::<_, i64>(3)? as u16,
            error: error.map(|_| swarm_common::metrics::record::ErrorClass::Other),
            conversation: None,
            turn: None,
            error_detail: None,
        })
    })
    .expect("rows")
    .map(|r| r.expect("row"))
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reported_goodput_equals_goodput_recomputed_from_the_records() {
    let mut cfg = SimConfig::instant();
    // TTFT spread over 5..45 ms and ITL over 0.5..3 ms: a 25 ms TTFT and 2 ms TPOT objective
    // splits the requests
    cfg.latency.ttft_ms = Dist::Uniform {
        min: 5.0,
        max: 45.0,
    };
    cfg.latency.itl_ms = Dist::Uniform { min: 0.5, max: 3.0 };
    let sim = start_sim(cfg).await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("prompts.txt");
    std::fs::write(&data, "a question\nanother question\na third one\n").expect("dataset");
    let out = tmp.path().join("out");
    let url = format!("{}/v1/chat/completions", sim.url());
    let argv = [
        "coordinator",
        "perf",
        "--url",
        &url,
        "--agents",
        "2",
        "--dataset",
        "line_by_line",
        "--dataset-path",
        data.to_str().expect("utf8"),
        "--number",
        "120",
        "--parallel",
        "6",
        "--max-tokens",
        "8",
        "--stream",
        "--goodput",
        "ttft:25",
        "tpot:2",
        "--outputs-dir",
        out.to_str().expect("utf8"),
    ];
    let cli = Cli::try_parse_from(argv).expect("flags");
    swarm_coordinator::run(cli, CancellationToken::new())
        .await
        .expect("run completes");
    let run = only_subdir(&out);
    let stage = only_subdir(&only_subdir(&run.join("perf")));
    let summary = read_json(&stage.join("summary.json"));

    let objectives = Goodput::parse(["ttft:25", "tpot:2"]).expect("objectives");
    let recs = records(&stage.join("requests.sqlite"));
    assert_eq!(recs.len(), 120, "every request has its record");
    let met = recs.iter().filter(|r| objectives.met(r)).count();
    assert!(
        (12..=108).contains(&met),
        "the objectives should split the requests, {met} of 120 met them"
    );
    let share = summary["goodput_share"].as_f64().expect("goodput_share");
    // summary.json rounds to 4 decimals, which still tells 120 counts apart exactly
    assert_eq!(
        (share * 120.0).round() as usize,
        met,
        "reported share {share} against {met} of 120 in the records: {summary}"
    );
    assert!((share - met as f64 / 120.0).abs() <= 5e-5, "{share}");
    let rps = summary["req_per_s"].as_f64().expect("req_per_s");
    let good = summary["goodput_req_per_s"]
        .as_f64()
        .expect("goodput_req_per_s");
    let expected = rps * met as f64 / 120.0;
    assert!(
        (good - expected).abs() <= 1e-3,
        "goodput {good} req/s against {expected} (req/s × share, both rounded to 4 decimals)"
    );
    sim.shutdown().await;
}
