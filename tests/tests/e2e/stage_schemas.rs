//! A running stage's `live.json` (caught while the stage runs) and its `timeseries.json`, as a
//! real `coordinator perf` run writes them, match their published schemas and their numbers.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Parser;
use llm_sim::{Dist, SimConfig};
use swarm_coordinator::cli::Cli;
use swarm_tests::schemas::{read_json, violations};
use swarm_tests::start_sim;
use tokio_util::sync::CancellationToken;

/// Every `<run>/perf/<workload>/<stage>/<name>` under `out`.
fn stage_files(out: &Path, name: &str) -> Vec<PathBuf> {
    let subdirs = |d: &Path| -> Vec<PathBuf> {
        std::fs::read_dir(d)
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.path())
                    .filter(|p| p.is_dir())
                    .collect()
            })
            .unwrap_or_default()
    };
    subdirs(out)
        .iter()
        .flat_map(|run| subdirs(&run.join("perf")))
        .flat_map(|w| subdirs(&w))
        .map(|s| s.join(name))
        .filter(|p| p.is_file())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_and_timeseries_files_match_their_schemas() {
    let mut cfg = SimConfig::instant();
    cfg.latency.ttft_ms = Dist::fixed(100.0);
    let sim = start_sim(cfg).await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("out");
    let data = tmp.path().join("prompts.txt");
    std::fs::write(&data, "what is rust\nwhy is the sky blue\n").expect("dataset");
    let argv: Vec<String> = [
        "coordinator",
        "perf",
        "--url",
        &format!("{}/v1/chat/completions", sim.url()),
        "--parallel",
        "2",
        "--number",
        "30",
        "--max-tokens",
        "4",
        "--dataset",
        "line_by_line",
        "--dataset-path",
        data.to_str().expect("utf8"),
        "--outputs-dir",
        out.to_str().expect("utf8"),
        "--name",
        "watched",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let cli = Cli::try_parse_from(argv).expect("flags");
    let run = swarm_coordinator::run(cli, CancellationToken::new());
    tokio::pin!(run);
    // read live.json while the stage runs (it is replaced by rename, so reads are whole)
    let mut seen: Vec<serde_json::Value> = Vec::new();
    let result = loop {
        tokio::select! {
            r = &mut run => break r,
            _ = tokio::time::sleep(Duration::from_millis(20)) => {
                for f in stage_files(&out, "live.json") {
                    if let Ok(text) = std::fs::read_to_string(&f)
                        && let Ok(v) = serde_json::from_str::<serde_json::Value>(&text)
                        && !seen.contains(&v)
                    {
                        seen.push(v);
                    }
                }
            }
        }
    };
    result.expect("run completes");
    sim.shutdown().await;

    assert!(
        !seen.is_empty(),
        "live.json was written while the stage ran"
    );
    for v in &seen {
        assert_eq!(
            violations("live.schema.json", v),
            Vec::<String>::new(),
            "{v}"
        );
        assert_eq!(v["workload"], "watched");
        assert_eq!(v["stage"], "parallel_2_number_30");
        assert_eq!(v["planned"], 30);
        assert!(v["total"].as_u64().is_some_and(|t| t <= 30), "{v}");
        assert!(v["agents"].as_u64().is_some_and(|a| a >= 1), "{v}");
    }
    assert!(
        stage_files(&out, "live.json").is_empty(),
        "removed when the stage ended"
    );

    let series = stage_files(&out, "timeseries.json");
    assert_eq!(series.len(), 1);
    let ts = read_json(&series[0]);
    assert_eq!(
        violations("timeseries.schema.json", &ts),
        Vec::<String>::new()
    );
    // the points account for every request of the stage
    let mut t0 = 0.0;
    let mut requests = 0.0;
    for p in ts.as_array().expect("points") {
        let t = p["t_s"].as_f64().expect("t_s");
        requests += p["requests_per_s"].as_f64().expect("rate") * (t - t0);
        t0 = t;
    }
    assert!(
        (requests - 30.0).abs() < 0.5,
        "{requests} requests over time"
    );
    assert!(t0 >= 1.0, "at least 15 rounds of 100 ms: {t0}");
    // a wrong file is caught
    let bad = serde_json::json!([{"t_s": 1.0, "requests_per_s": -1.0}]);
    assert!(!violations("timeseries.schema.json", &bad).is_empty());
}
